/*
 * loop_signal.h - signals as events of the loop: SIGTERM, SIGINT and
 * SIGHUP are blocked while the source exists and read from a signalfd
 * registered with the loop; each one is a call of the user's callback.
 * No work is ever done in a signal handler (there is none).
 */
#ifndef BOUNCED_LOOP_SIGNAL_H
#define BOUNCED_LOOP_SIGNAL_H

#include <stddef.h>

struct loop;
struct loop_signals;

/* a signal arrived: SIGNO is SIGTERM, SIGINT or SIGHUP */
typedef void loop_signal_fn(int signo, void *arg);

/* loop_signals_new - block SIGTERM, SIGINT and SIGHUP and call FN(ARG) for
   each that arrives; 0, or -errno with a message in ERR */
int loop_signals_new(struct loop_signals **out, struct loop *l,
		     loop_signal_fn *fn, void *arg, char *err, size_t errlen);
/* loop_signals_free - close the signalfd, restore the signal mask */
void loop_signals_free(struct loop_signals *s);

#endif
