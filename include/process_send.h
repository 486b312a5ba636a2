/*
 * process_send.h - what `bounced process` sends at the end of its inputs,
 * once it holds the state's lock (the state's one dispatcher): the outbox
 * drained through the providers, then the operator's mail.
 */
#ifndef BOUNCED_PROCESS_SEND_H
#define BOUNCED_PROCESS_SEND_H

#include <stdint.h>

struct config;
struct metrics;
struct state;

/*
 * process_send - with providers configured, send what the outbox holds
 * until it is empty, only paused providers' actions wait, or DRAIN_MS
 * have passed (retries falling due meanwhile are made; what is under way
 * at the end may finish), with a summary line per provider on stdout;
 * then, with [notify] on, mail what is queued for the operator.  M (may be
 * NULL) is fed at each metrics step.  When *STOP (may be NULL) becomes
 * non-zero (SIGTERM, SIGINT) nothing new is started, the requests under
 * way finish (their timeout bounds them), their answers are written and
 * the rest is left in the outbox, without the operator's mail.  Returns
 * an exit code: 0, 74 (the state could not be read or written), 78 (the
 * providers cannot be set up), 70 (the loop could not be set up).
 */
int process_send(const struct config *cfg, struct state *st,
		 struct metrics *m, int64_t drain_ms, const volatile int *stop);

#endif
