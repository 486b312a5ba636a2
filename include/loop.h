/*
 * loop.h - the event sources of `bounced run`, waited for in one poll
 * together with the dispatcher's sockets: signals as a descriptor
 * (signalfd; SIGTERM, SIGINT and SIGHUP are blocked while the loop
 * exists), names arriving in watched directories (inotify: a file closed
 * after writing, or moved in; names starting with '.' are ignored), and a
 * periodic tick (timerfd).
 *
 * The loop only reports: what to do with a signal or a name is the
 * caller's.  It is small and single-threaded on purpose (see docs/RUN.md):
 *
 *     while (!done) {
 *             loop_wait(l, d, timeout, &ev);
 *             ... handle ev, do a bounded slice of work ...
 *     }
 */
#ifndef BOUNCED_LOOP_H
#define BOUNCED_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dispatch;
struct loop;

/* a name that arrived in the directory watched under TAG */
struct loop_name {
	int tag;
	char *name;
};

/* what one loop_wait() saw; owned by the loop, valid until the next wait */
struct loop_events {
	int stop_signo;		/* SIGTERM or SIGINT arrived (the last), 0: none */
	unsigned stops;		/* how many of them */
	bool reload;		/* SIGHUP arrived */
	uint64_t ticks;		/* periodic ticks since the last wait */
	bool overflow;		/* the kernel dropped events: rescan */
	int lost_tag;		/* a watched directory went away: its tag,
				   -1: none (watch it again with loop_watch) */
	struct loop_name *names; /* in the order they arrived */
	size_t n_names;
};

/*
 * loop_new - block SIGTERM, SIGINT and SIGHUP and read them from a
 * signalfd; an inotify instance; a tick every TICK_MS (> 0).  0, or -errno
 * with a message in ERR.  loop_free() restores the signal mask.
 */
int loop_new(struct loop **out, int tick_ms, char *err, size_t errlen);
void loop_free(struct loop *l);

/* loop_watch - report names arriving in DIR under TAG (>= 0; watching the
   same TAG again replaces its directory); 0 or -errno with ERR */
int loop_watch(struct loop *l, const char *dir, int tag, char *err,
	       size_t errlen);

/*
 * loop_wait - wait at most TIMEOUT_MS (0 = only look; at most 60 s) for a
 * signal, a name, a tick or, with D, network activity of the dispatcher
 * (dispatch_poll; call dispatch_step(D, 0) afterwards), and fill EV.
 * 0, or -errno when polling failed (logged).
 */
int loop_wait(struct loop *l, struct dispatch *d, int timeout_ms,
	      struct loop_events *ev);

#endif
