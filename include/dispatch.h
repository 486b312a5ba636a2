/*
 * dispatch.h - send the outbox's due actions through the process's curl
 * multi handle (multi.h), and commit what the providers answered.
 *
 * Per provider at most `concurrency` requests in flight, on keep-alive
 * connections (curl's connection cache), with connect and total timeouts
 * and TLS verification on.  Connection errors, timeouts, 5xx and 429 are
 * retried with exponential backoff and jitter (Retry-After honoured) until
 * the action is older than the max age; other answers are judged by the
 * provider.  The results of the transfers finished since the last step
 * are committed in one write transaction: outbox entries removed, updated
 * or rescheduled, follow-up actions enqueued, failures moved to the dead
 * table, and the recipient's action entry updated.
 *
 * The dispatcher lives on the event loop (loop.h): a timer of its own
 * runs a step when a transfer ends, when the caller says the outbox may
 * hold new work (dispatch_kick: ingest committed), when the next action
 * falls due (the schedule in memory), and at least once a second (what
 * other processes queued: the outbox journal).  The caller runs the loop;
 * nothing here waits.
 */
#ifndef BOUNCED_DISPATCH_H
#define BOUNCED_DISPATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "provider.h"

struct config;
struct loop;
struct multi;
struct state;

/* results per provider since dispatch_new */
struct dispatch_counts {
	uint64_t done;		/* actions finished (roots and children) */
	uint64_t calls;		/* HTTP requests answered */
	uint64_t retried;	/* transient failures rescheduled */
	uint64_t dead;		/* permanent failures */
};

struct dispatch;

/* dispatch_new - providers from CFG, their transfers on M, steps on L's
   turns once kicked (a dispatcher made for a reload starts nothing until
   then); 0 or -1 with ERR */
int dispatch_new(struct dispatch **out, const struct config *cfg,
		 struct state *st, struct loop *l, struct multi *m, char *err,
		 size_t errlen);
/* dispatch_free - the answers taken and not written yet written
   (dispatch_flush), transfers under way dropped (their actions stay in
   the outbox), the providers, the timer */
void dispatch_free(struct dispatch *d);

/* dispatch_pauses_load - the providers' pauses read again from the state
   (dispatch_new reads them; a dispatcher made at a reload reads them again
   when it takes over, as the one before may have begun or ended a pause
   meanwhile) */
void dispatch_pauses_load(struct dispatch *d);

/* dispatch_kick - the outbox may hold new work (or the dispatcher was
   just made): a step on the loop's next turn */
void dispatch_kick(struct dispatch *d);

/* after each step: RC is 0 or -errno (the state could not be read or
   written; logged) */
typedef void dispatch_step_fn(void *arg, int rc);
/* dispatch_on_step - call FN(ARG, rc) after every step (NULL: none) */
void dispatch_on_step(struct dispatch *d, dispatch_step_fn *fn, void *arg);

/* dispatch_holding - answers taken and not written yet (the state
   refused their commit; tried again after a wait): a dispatcher holding
   some is not to be replaced, its answers would be lost and the calls
   made again */
bool dispatch_holding(const struct dispatch *d);

/* dispatch_in_flight - requests under way */
unsigned dispatch_in_flight(const struct dispatch *d);
/* dispatch_flush - the answers taken and not written yet (the next step
   would write them) written now: before the summary counts them, or when
   the dispatcher is freed; 0 or the commit's -errno (logged) */
int dispatch_flush(struct dispatch *d);

/* dispatch_next_due - ms until the next pending action falls due (0 =
   now); -ENOENT when the outbox is empty and nothing is in flight;
   -EAGAIN when nothing is in flight and what waits belongs to paused
   providers (or to providers the configuration no longer has).  Reads
   what was queued since the last step, and steps as soon as that is due */
int dispatch_next_due(struct dispatch *d, int64_t *in_ms);

/* dispatch_counts - counts of provider I (0-based, config order) */
const char *dispatch_provider_name(const struct dispatch *d, unsigned i);
unsigned dispatch_providers(const struct dispatch *d);
void dispatch_get_counts(const struct dispatch *d, unsigned i,
			 struct dispatch_counts *c);

/* dispatch_paused - why provider I is paused (credentials, keys or clock
   refused), or NULL when it is not */
const char *dispatch_paused(const struct dispatch *d, unsigned i);
/*
 * dispatch_campaign - ask provider PROVIDER for the details of campaign
 * UID, on its connections (its pool, counted in its requests under way):
 * FN(ARG, info, err) follows when the answer came, or at once when no
 * request could be made.  0, or -ENOENT when no provider of that name
 * gives campaign details (then FN is not called).  Allowed on a stopped
 * dispatcher.
 */
int dispatch_campaign(struct dispatch *d, const char *provider,
		      const char *uid, provider_campaign_fn *fn, void *arg);
/* dispatch_campaign_cancel - what was asked with ARG is dropped: no call */
void dispatch_campaign_cancel(struct dispatch *d, void *arg);

/* dispatch_stop - stop starting new requests (shutdown); in-flight ones go on */
void dispatch_stop(struct dispatch *d);

#endif
