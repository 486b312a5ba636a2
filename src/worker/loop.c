/*
 * loop.c - the event loop (include/loop.h): registered descriptors polled
 * with poll(2), registered timers kept in a short list, callbacks called.
 *
 * Registrations are few (the signalfd, the inotify descriptor, curl's
 * sockets: one per connection, at most the providers' concurrency plus
 * the SMTP connection; a handful of timers), so a turn builds its pollfd
 * array from the list and finds the earliest timer by a walk: both cost
 * less than the poll itself.  A registration freed during a turn is
 * marked dead and released when the turn ends, so a callback can free
 * anything, itself included, and a descriptor number reused within the
 * turn (curl closing one socket and opening another) is never confused
 * with the dead registration.
 *
 * Error policy: a failed poll is logged and returned as -errno (EINTR is
 * a turn with nothing ready); a descriptor poll reports as invalid
 * (closed while registered) is called back once with LOOP_ERR and then no
 * longer waited for, so that it cannot spin the loop.  Allocation
 * failures abort (GLib).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib.h>

#include "log.h"
#include "loop.h"

#define LOOP_WAIT_MAX_MS 60000	/* longest wait of a turn */

struct loop_fd {
	struct loop *l;
	int fd;
	unsigned events;	/* LOOP_IN | LOOP_OUT */
	loop_fd_fn *fn;
	void *arg;
	bool dead;
};

struct loop_timer {
	struct loop *l;
	int64_t due_us;		/* monotonic; -1: not armed */
	loop_timer_fn *fn;
	void *arg;
	bool dead;
};

struct loop {
	GPtrArray *fds;		/* struct loop_fd * */
	GPtrArray *timers;	/* struct loop_timer * */
	struct pollfd *pfd;	/* this turn's poll set... */
	struct loop_fd **pfd_of; /* ...and whose each entry is */
	guint pfd_cap;
	unsigned turn;		/* > 0: inside a turn's callbacks */
	bool reap;		/* dead registrations wait to be freed */
	bool stop;
};

/* a timer due in this turn, with the time it was due at */
struct loop_due {
	struct loop_timer *t;
	int64_t due_us;
};

/* loop_now_us - the monotonic clock in microseconds: timers keep their
   due time this finely, so that none falls due early */
static int64_t loop_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* loop_now_ms - the monotonic clock in ms */
int64_t loop_now_ms(void)
{
	return loop_now_us() / 1000;
}

/* loop_new - an empty loop */
struct loop *loop_new(void)
{
	struct loop *l = g_new0(struct loop, 1);

	l->fds = g_ptr_array_new();
	l->timers = g_ptr_array_new();
	return l;
}

/* loop_free - the loop and what is still registered */
void loop_free(struct loop *l)
{
	if (!l)
		return;
	g_ptr_array_set_free_func(l->fds, g_free);
	g_ptr_array_set_free_func(l->timers, g_free);
	g_ptr_array_free(l->fds, TRUE);
	g_ptr_array_free(l->timers, TRUE);
	g_free(l->pfd);
	g_free(l->pfd_of);
	g_free(l);
}

/* loop_fd_new - register FD */
struct loop_fd *loop_fd_new(struct loop *l, int fd, unsigned events,
			    loop_fd_fn *fn, void *arg)
{
	struct loop_fd *h = g_new0(struct loop_fd, 1);

	h->l = l;
	h->fd = fd;
	h->events = events & (LOOP_IN | LOOP_OUT);
	h->fn = fn;
	h->arg = arg;
	g_ptr_array_add(l->fds, h);
	return h;
}

/* loop_fd_set - what H waits for */
void loop_fd_set(struct loop_fd *h, unsigned events)
{
	if (h)
		h->events = events & (LOOP_IN | LOOP_OUT);
}

/* loop_fd_free - unregister H (now, or at the end of the turn) */
void loop_fd_free(struct loop_fd *h)
{
	struct loop *l;

	if (!h)
		return;
	l = h->l;
	if (l->turn) {
		h->dead = true;
		h->events = 0;
		l->reap = true;
		return;
	}
	g_ptr_array_remove_fast(l->fds, h);
	g_free(h);
}

/* loop_timer_new - a disarmed timer */
struct loop_timer *loop_timer_new(struct loop *l, loop_timer_fn *fn,
				  void *arg)
{
	struct loop_timer *t = g_new0(struct loop_timer, 1);

	t->l = l;
	t->due_us = -1;
	t->fn = fn;
	t->arg = arg;
	g_ptr_array_add(l->timers, t);
	return t;
}

/* loop_timer_at - due IN_MS from now, or disarmed */
void loop_timer_at(struct loop_timer *t, int64_t in_ms)
{
	if (!t || t->dead)
		return;
	t->due_us = in_ms < 0 ? -1 : loop_now_us() + in_ms * 1000;
}

/* loop_timer_soon - due IN_MS from now unless due sooner */
void loop_timer_soon(struct loop_timer *t, int64_t in_ms)
{
	int64_t due;

	if (!t || t->dead || in_ms < 0)
		return;
	due = loop_now_us() + in_ms * 1000;
	if (t->due_us < 0 || due < t->due_us)
		t->due_us = due;
}

/* loop_timer_armed - T will fall due */
bool loop_timer_armed(const struct loop_timer *t)
{
	return t && !t->dead && t->due_us >= 0;
}

/* loop_timer_left - ms until T is due (0: due), -1 when not armed */
int64_t loop_timer_left(const struct loop_timer *t)
{
	int64_t left;

	if (!loop_timer_armed(t))
		return -1;
	left = t->due_us - loop_now_us();
	return left > 0 ? (left + 999) / 1000 : 0;
}

/* loop_timer_free - disarm and unregister T */
void loop_timer_free(struct loop_timer *t)
{
	struct loop *l;

	if (!t)
		return;
	l = t->l;
	t->due_us = -1;
	if (l->turn) {
		t->dead = true;
		l->reap = true;
		return;
	}
	g_ptr_array_remove_fast(l->timers, t);
	g_free(t);
}

/* loop_reap - release what was freed during the turn */
static void loop_reap(struct loop *l)
{
	guint i;

	if (!l->reap)
		return;
	for (i = l->fds->len; i-- > 0;) {
		struct loop_fd *h = l->fds->pdata[i];

		if (h->dead) {
			g_ptr_array_remove_index_fast(l->fds, i);
			g_free(h);
		}
	}
	for (i = l->timers->len; i-- > 0;) {
		struct loop_timer *t = l->timers->pdata[i];

		if (t->dead) {
			g_ptr_array_remove_index_fast(l->timers, i);
			g_free(t);
		}
	}
	l->reap = false;
}

/* loop_wait_ms - how long this turn may wait: until the earliest timer
   (rounded up: never early), at most MAX_WAIT_MS (when >= 0) and
   LOOP_WAIT_MAX_MS */
static int loop_wait_ms(const struct loop *l, int max_wait_ms, int64_t now_us)
{
	int64_t wait = LOOP_WAIT_MAX_MS;
	guint i;

	if (max_wait_ms >= 0 && max_wait_ms < wait)
		wait = max_wait_ms;
	for (i = 0; i < l->timers->len; i++) {
		const struct loop_timer *t = l->timers->pdata[i];
		int64_t in;

		if (t->due_us < 0)
			continue;
		in = t->due_us > now_us ? (t->due_us - now_us + 999) / 1000 : 0;
		if (in < wait)
			wait = in;
	}
	return (int)wait;
}

/* loop_poll_set - the poll set of the live descriptors; how many */
static nfds_t loop_poll_set(struct loop *l)
{
	nfds_t n = 0;
	guint i;

	if (l->pfd_cap < l->fds->len) {
		l->pfd_cap = l->fds->len * 2;
		l->pfd = g_renew(struct pollfd, l->pfd, l->pfd_cap);
		l->pfd_of = g_renew(struct loop_fd *, l->pfd_of, l->pfd_cap);
	}
	for (i = 0; i < l->fds->len; i++) {
		struct loop_fd *h = l->fds->pdata[i];

		if (h->dead || h->events == 0)
			continue;
		l->pfd[n].fd = h->fd;
		l->pfd[n].events = (short)((h->events & LOOP_IN ? POLLIN : 0) |
					   (h->events & LOOP_OUT ? POLLOUT : 0));
		l->pfd[n].revents = 0;
		l->pfd_of[n] = h;
		n++;
	}
	return n;
}

/* loop_fds_ready - call back the N polled descriptors found ready */
static void loop_fds_ready(struct loop *l, nfds_t n)
{
	nfds_t i;

	for (i = 0; i < n; i++) {
		struct loop_fd *h = l->pfd_of[i];
		short re = l->pfd[i].revents;
		unsigned ready = 0;

		if (re == 0 || h->dead)
			continue;
		if (re & POLLIN)
			ready |= LOOP_IN;
		if (re & POLLOUT)
			ready |= LOOP_OUT;
		if (re & (POLLERR | POLLHUP | POLLNVAL))
			ready |= LOOP_ERR;
		h->fn(l, h->fd, ready, h->arg);
		if ((re & POLLNVAL) && !h->dead) {
			log_warn("loop", "descriptor %d was closed while "
				 "registered: no longer polled", h->fd);
			h->events = 0;
		}
	}
}

/* loop_due_cmp - earlier first */
static int loop_due_cmp(const void *a, const void *b)
{
	const struct loop_due *x = a, *y = b;

	return x->due_us < y->due_us ? -1 : x->due_us > y->due_us;
}

/* loop_timers_due - call back the timers due at NOW_US, earliest first; a
   timer re-armed or freed by an earlier callback of the turn waits */
static void loop_timers_due(struct loop *l, int64_t now_us)
{
	struct loop_due *due;
	guint i, n = 0;

	due = g_new(struct loop_due, l->timers->len ? l->timers->len : 1);
	for (i = 0; i < l->timers->len; i++) {
		struct loop_timer *t = l->timers->pdata[i];

		if (!t->dead && t->due_us >= 0 && t->due_us <= now_us) {
			due[n].t = t;
			due[n].due_us = t->due_us;
			n++;
		}
	}
	if (n > 1)
		qsort(due, n, sizeof(*due), loop_due_cmp);
	for (i = 0; i < n; i++) {
		struct loop_timer *t = due[i].t;

		if (t->dead || t->due_us != due[i].due_us)
			continue;
		t->due_us = -1;
		t->fn(l, t->arg);
	}
	g_free(due);
}

/* loop_once - one turn */
int loop_once(struct loop *l, int max_wait_ms)
{
	int wait = loop_wait_ms(l, max_wait_ms, loop_now_us()), rc = 0, got;
	nfds_t n = loop_poll_set(l);

	got = poll(l->pfd, n, wait);
	if (got < 0 && errno != EINTR) {
		rc = -errno;
		log_error("loop", "poll: %s", strerror(errno));
		return rc;
	}
	l->turn++;
	if (got > 0)
		loop_fds_ready(l, n);
	loop_timers_due(l, loop_now_us());
	l->turn--;
	if (l->turn == 0)
		loop_reap(l);
	return 0;
}

/* loop_run - turns until loop_stop */
int loop_run(struct loop *l)
{
	int rc = 0;

	l->stop = false;
	while (!l->stop && rc == 0)
		rc = loop_once(l, -1);
	l->stop = false;
	return rc;
}

/* loop_stop - end loop_run after this turn */
void loop_stop(struct loop *l)
{
	l->stop = true;
}
