/*
 * loop.h - the event loop of bounced: file descriptors and timers
 * registered with their callbacks, in the manner of Redis's ae.c.
 *
 * A user registers what it waits for and is called back; the loop knows
 * nothing else about it.  Each turn (loop_once) polls the registered
 * descriptors until the earliest armed timer falls due, calls back the
 * descriptors found ready, then the timers that are due, earliest first.
 * Work that is ready now is a timer armed at 0: it runs after the
 * descriptors of the same turn, so network activity is never starved by
 * it and it is never starved by the network.
 *
 *     struct loop_timer *t = loop_timer_new(l, work, arg);
 *     loop_timer_at(t, 0);            // run work() on the next turn
 *     loop_run(l);                    // until a callback calls loop_stop
 *
 * Callbacks may register, change and free any registration, their own
 * included: what is freed during a turn is released at its end, and a
 * registration freed (or a timer re-armed) during a turn is not called
 * back in that turn.  One thread only.  Signals (loop_signal.h) and
 * watched directories (loop_watch.h) are sources built on this.
 */
#ifndef BOUNCED_LOOP_H
#define BOUNCED_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loop;
struct loop_fd;
struct loop_timer;

/* what a descriptor waits for, and what it was found */
#define LOOP_IN 1u		/* readable */
#define LOOP_OUT 2u		/* writable */
#define LOOP_ERR 4u		/* error or hang-up (reported, never asked) */

/* a descriptor callback: FD is ready for READY (LOOP_IN | LOOP_OUT |
   LOOP_ERR) */
typedef void loop_fd_fn(struct loop *l, int fd, unsigned ready, void *arg);
/* a timer callback: the timer fell due (it is disarmed: re-arm it with
   loop_timer_at to be called again) */
typedef void loop_timer_fn(struct loop *l, void *arg);

/* loop_new - an empty loop; never fails (allocation failures abort, as
   GLib does) */
struct loop *loop_new(void);
/* loop_free - the loop and every registration left (free the users
   first: their handles die with it) */
void loop_free(struct loop *l);

/* loop_fd_new - call FN(ARG) when FD is ready for EVENTS (LOOP_IN,
   LOOP_OUT; 0: registered, not waited for) */
struct loop_fd *loop_fd_new(struct loop *l, int fd, unsigned events,
			    loop_fd_fn *fn, void *arg);
/* loop_fd_set - what H waits for from now on */
void loop_fd_set(struct loop_fd *h, unsigned events);
/* loop_fd_free - forget H (the descriptor is the caller's to close) */
void loop_fd_free(struct loop_fd *h);

/* loop_timer_new - a timer calling FN(ARG), not armed */
struct loop_timer *loop_timer_new(struct loop *l, loop_timer_fn *fn,
				  void *arg);
/* loop_timer_at - arm T to fall due IN_MS from now (0: on this or the
   next turn); a negative IN_MS disarms it.  Replaces any earlier arming */
void loop_timer_at(struct loop_timer *t, int64_t in_ms);
/* loop_timer_soon - arm T IN_MS from now unless it is armed to fall due
   sooner */
void loop_timer_soon(struct loop_timer *t, int64_t in_ms);
/* loop_timer_armed - T will fall due */
bool loop_timer_armed(const struct loop_timer *t);
/* loop_timer_left - milliseconds until T falls due (0 when it is due
   already), or -1 when it is not armed */
int64_t loop_timer_left(const struct loop_timer *t);
/* loop_timer_free - disarm and forget T */
void loop_timer_free(struct loop_timer *t);

/*
 * loop_once - one turn: wait until a descriptor is ready or the earliest
 * timer falls due, but at most MAX_WAIT_MS (negative: no limit of the
 * caller's; a turn never waits more than 60 s), then call back what is
 * ready and what is due.  0, or -errno when polling failed (logged).
 */
int loop_once(struct loop *l, int max_wait_ms);

/* loop_run - turns until loop_stop(); 0, or -errno of a failed poll */
int loop_run(struct loop *l);

/* loop_stop - end loop_run() after the turn under way */
void loop_stop(struct loop *l);

/* loop_now_ms - the monotonic clock in ms, as timers count */
int64_t loop_now_ms(void);

#endif
