/*
 * dispatch.h - send the outbox's due actions through libcurl's multi
 * interface, and commit what the providers answered.
 *
 * One CURLM handle; per provider at most `concurrency` requests in flight,
 * on keep-alive connections (curl's connection cache), with connect and
 * total timeouts and TLS verification on.  Connection errors, timeouts,
 * 5xx and 429 are retried with exponential backoff and jitter (Retry-After
 * honoured) until the action is older than the max age; other answers are
 * judged by the provider.  The results of the transfers finished in one
 * step are committed in one write transaction: outbox entries removed,
 * updated or rescheduled, follow-up actions enqueued, failures moved to the
 * dead table, and the recipient's action entry updated.
 */
#ifndef BOUNCED_DISPATCH_H
#define BOUNCED_DISPATCH_H

#include <stdbool.h>
#include <stdint.h>

struct config;
struct state;

/* results per provider since dispatch_new */
struct dispatch_counts {
	uint64_t done;		/* actions finished (roots and children) */
	uint64_t calls;		/* HTTP requests answered */
	uint64_t retried;	/* transient failures rescheduled */
	uint64_t dead;		/* permanent failures */
};

struct dispatch;

/* dispatch_new - providers from CFG; 0 or -1 with ERR */
int dispatch_new(struct dispatch **out, const struct config *cfg,
		 struct state *st, char *err, size_t errlen);
void dispatch_free(struct dispatch *d);

/*
 * dispatch_step - start what is due, wait at most TIMEOUT_MS for network
 * activity, finish and commit what completed.  Returns 0 or -errno (state
 * errors; network errors are results, not errors).
 */
int dispatch_step(struct dispatch *d, int timeout_ms);

/*
 * dispatch_poll - for an event loop of its own: wait at most TIMEOUT_MS
 * (0 = just look) until the transfers under way have network activity or
 * one of the N descriptors of EXTRA is ready (curl_multi_poll() with them
 * as extra_fds: set fd and events, CURL_WAIT_POLLIN; revents are set here,
 * zero for those not ready).  Nothing is started or finished: call
 * dispatch_step(D, 0) after it.  Limit TIMEOUT_MS by dispatch_next_due()
 * so that actions falling due are not missed.  Returns 0, or -EIO when
 * curl cannot poll (logged).
 */
struct curl_waitfd;
int dispatch_poll(struct dispatch *d, struct curl_waitfd *extra, unsigned n,
		  int timeout_ms);

/* dispatch_in_flight - requests under way */
unsigned dispatch_in_flight(const struct dispatch *d);

/* dispatch_next_due - ms until the next pending action falls due (0 =
   now); -ENOENT when the outbox is empty and nothing is in flight;
   -EAGAIN when nothing is in flight and what waits belongs to paused
   providers (or to providers the configuration no longer has) */
int dispatch_next_due(struct dispatch *d, int64_t *in_ms);

/* dispatch_counts - counts of provider I (0-based, config order) */
const char *dispatch_provider_name(const struct dispatch *d, unsigned i);
unsigned dispatch_providers(const struct dispatch *d);
void dispatch_get_counts(const struct dispatch *d, unsigned i,
			 struct dispatch_counts *c);

/* dispatch_paused - why provider I is paused (credentials, keys or clock
   refused), or NULL when it is not */
const char *dispatch_paused(const struct dispatch *d, unsigned i);
/* dispatch_stop - stop starting new requests (shutdown); in-flight ones go on */
void dispatch_stop(struct dispatch *d);

#endif
