/*
 * notify_send.h - mail the queued complaints and unsubscribes
 * (notify_queue.h) to the operator: a digest every digest-interval, or
 * one mail per event ([notify] mode).
 *
 * The sender lives on the event loop (loop.h): a timer of its own says
 * when the next mail may go, the SMTP transfer runs on the process's curl
 * multi handle (multi.h), and the campaign details a mail shows are asked
 * of the providers that give them through whoever holds the providers
 * and their connections (struct notify_campaigns: the dispatcher).
 * Nothing here waits.  The items listed in a mail leave the queue only
 * when the server accepted it; a send that fails is tried again later (30
 * s, doubling up to digest-interval; for a refusal for good,
 * digest-interval), so nothing reported is lost.  `bounced process` sends
 * what is queued at its end, mail after mail (notify_sender_flush).
 */
#ifndef BOUNCED_NOTIFY_SEND_H
#define BOUNCED_NOTIFY_SEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "provider.h"

struct config;
struct loop;
struct multi;
struct state;
struct notify_sender;

/* where campaign details are asked for */
struct notify_campaigns {
	/* ask - ask provider PROVIDER for campaign UID: FN(ARG, info, err)
	   follows (possibly at once); 0, or -ENOENT when no such provider
	   gives campaign details (then no call follows) */
	int (*ask)(void *ctx, const char *provider, const char *uid,
		   provider_campaign_fn *fn, void *arg);
	/* cancel - what was asked with ARG is no longer wanted: no call */
	void (*cancel)(void *ctx, void *arg);
	void *ctx;
};

/* notify_sender_new - a sender for CFG's [notify] on L and M (NULL in
   *OUT when the mode is off), campaign details from CAMPAIGNS (copied;
   NULL: none); it looks at the queue at once.  0, or -errno with ERR */
int notify_sender_new(struct notify_sender **out, const struct config *cfg,
		      struct state *st, struct loop *l, struct multi *m,
		      const struct notify_campaigns *campaigns, char *err,
		      size_t errlen);
/* notify_sender_free - the sender; a mail under way is dropped (its items
   stay queued) */
void notify_sender_free(struct notify_sender *ns);

/* notify_sender_adopt - NS, made anew for a reloaded configuration,
   takes over what OLD knew of the queue: the items it mailed whose drop
   the state refused (not to be mailed again), and, with the same relay,
   the mail its content was refused for and how often, and the backoff */
void notify_sender_adopt(struct notify_sender *ns,
			 const struct notify_sender *old);

/* notify_sender_busy - a mail or a campaign lookup is under way */
bool notify_sender_busy(const struct notify_sender *ns);

/* the end of a flush: RC 0 (the queue is empty), -EAGAIN / -EPERM (a send
   failed: the rest stays queued; logged) or another -errno (the state);
   ITEMS were mailed */
typedef void notify_flushed_fn(void *arg, int rc, size_t items);

/* notify_sender_flush - from now on send what is queued at once, mail
   after mail, whatever the digest interval, and call DONE(ARG, ...) when
   the queue is empty or a send failed */
void notify_sender_flush(struct notify_sender *ns, notify_flushed_fn *done,
			 void *arg);

#endif
