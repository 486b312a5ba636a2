/*
 * notify_send.h - mail the queued complaints and unsubscribes
 * (notify_queue.h) to the operator: a digest every digest-interval, or
 * one mail per event ([notify] mode).
 *
 * The daemon drives it without blocking: notify_sender_step() starts a
 * send when one is due (through a curl multi handle of its own), moves it
 * on and finishes it; the loop calls it on every turn and waits at most
 * NOTIFY_SEND_POLL_MS while a transfer is under way.  The items listed in
 * a mail leave the queue only when the server accepted it; a send that
 * fails is tried again later (30 s, doubling up to digest-interval; for
 * a refusal for good, digest-interval), so nothing reported is lost.
 * `bounced process` sends what is queued at its end in one blocking call
 * (notify_sender_flush).
 */
#ifndef BOUNCED_NOTIFY_SEND_H
#define BOUNCED_NOTIFY_SEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct state;
struct notify_sender;

#define NOTIFY_SEND_POLL_MS 20

/* notify_sender_new - a sender for CFG's [notify] (NULL in *OUT when the
   mode is off); 0, or -errno with ERR */
int notify_sender_new(struct notify_sender **out, const struct config *cfg,
		      struct state *st, char *err, size_t errlen);
void notify_sender_free(struct notify_sender *ns);

/* notify_sender_step - start, drive or finish a send (NOW_MS: the
   monotonic clock); 0 or -errno (the state; logged) */
int notify_sender_step(struct notify_sender *ns, int64_t now_ms);

/* notify_sender_busy - a transfer is under way: step again soon */
bool notify_sender_busy(const struct notify_sender *ns);

/* notify_sender_flush - send everything queued, blocking; *ITEMS gets how
   many items were mailed.  0, or -EAGAIN / -EPERM (a send failed: the rest
   stays queued; logged) or another -errno */
int notify_sender_flush(struct notify_sender *ns, size_t *items);

#endif
