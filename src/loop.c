/*
 * loop.c - the event sources of the spool worker: a signalfd, an inotify
 * instance and a timerfd, all non-blocking, polled in one call together
 * with the dispatcher's curl sockets (dispatch_poll), or with poll(2) when
 * there is no dispatcher.
 *
 * Signals are events, as in the daemons we follow: SIGTERM, SIGINT and
 * SIGHUP are blocked, so they wait in the signalfd until the loop reads
 * them; no work is ever done in a handler (there is none).  After a wait,
 * only the descriptors that poll reported ready are read, each until it
 * has nothing more (bounded), so one wait reports everything pending.
 *
 * Error policy: set-up failures are returned with a message; a failed
 * read of a ready descriptor is logged and the wait goes on (the event is
 * reported again by the next poll if it is still pending); a failed poll
 * is returned as -errno.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <curl/curl.h>
#include <glib.h>

#include "dispatch.h"
#include "log.h"
#include "loop.h"

#define LOOP_WATCHES_MAX 8
#define LOOP_WAIT_MAX_MS 60000
#define LOOP_READS_MAX 64	/* reads of one descriptor per wait */
#define LOOP_NAMES_MAX 100000	/* names reported by one wait */
#define LOOP_MASK (IN_CLOSE_WRITE | IN_MOVED_TO | IN_ONLYDIR | \
		   IN_DELETE_SELF | IN_MOVE_SELF)

enum { LOOP_FD_SIGNAL, LOOP_FD_INOTIFY, LOOP_FD_TIMER, LOOP_FDS };

struct loop_watch {
	int wd;			/* -1: not watching */
	int tag;
};

struct loop {
	int fds[LOOP_FDS];
	sigset_t blocked, old_mask;
	bool mask_set;
	struct loop_watch watches[LOOP_WATCHES_MAX];
	unsigned n_watches;
	GArray *names;		/* struct loop_name of the last wait */
};

/* loop_new - signals, inotify and the tick */
int loop_new(struct loop **out, int tick_ms, char *err, size_t errlen)
{
	struct loop *l = g_new0(struct loop, 1);
	struct itimerspec its;
	const char *what;
	int i, rc;

	*out = NULL;
	for (i = 0; i < LOOP_FDS; i++)
		l->fds[i] = -1;
	l->names = g_array_new(FALSE, FALSE, sizeof(struct loop_name));
	sigemptyset(&l->blocked);
	sigaddset(&l->blocked, SIGTERM);
	sigaddset(&l->blocked, SIGINT);
	sigaddset(&l->blocked, SIGHUP);
	what = "block the signals";
	if (sigprocmask(SIG_BLOCK, &l->blocked, &l->old_mask) != 0)
		goto fail;
	l->mask_set = true;
	what = "create a signalfd";
	l->fds[LOOP_FD_SIGNAL] = signalfd(-1, &l->blocked,
					  SFD_NONBLOCK | SFD_CLOEXEC);
	if (l->fds[LOOP_FD_SIGNAL] < 0)
		goto fail;
	what = "create an inotify instance (see fs.inotify.max_user_instances)";
	l->fds[LOOP_FD_INOTIFY] = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (l->fds[LOOP_FD_INOTIFY] < 0)
		goto fail;
	what = "create a timerfd";
	l->fds[LOOP_FD_TIMER] = timerfd_create(CLOCK_MONOTONIC,
					       TFD_NONBLOCK | TFD_CLOEXEC);
	if (l->fds[LOOP_FD_TIMER] < 0)
		goto fail;
	if (tick_ms <= 0)
		tick_ms = 1000;
	memset(&its, 0, sizeof(its));
	its.it_interval.tv_sec = tick_ms / 1000;
	its.it_interval.tv_nsec = (long)(tick_ms % 1000) * 1000000L;
	its.it_value = its.it_interval;
	what = "start the timerfd";
	if (timerfd_settime(l->fds[LOOP_FD_TIMER], 0, &its, NULL) != 0)
		goto fail;
	*out = l;
	return 0;
fail:
	rc = -errno;
	snprintf(err, errlen, "cannot %s: %s", what, strerror(errno));
	loop_free(l);
	return rc;
}

/* loop_clear_names - forget the names of the last wait */
static void loop_clear_names(struct loop *l)
{
	guint i;

	for (i = 0; i < l->names->len; i++)
		g_free(g_array_index(l->names, struct loop_name, i).name);
	g_array_set_size(l->names, 0);
}

/* loop_free - close everything, restore the signal mask */
void loop_free(struct loop *l)
{
	int i;

	if (!l)
		return;
	for (i = 0; i < LOOP_FDS; i++)
		if (l->fds[i] >= 0)
			close(l->fds[i]);
	if (l->mask_set)
		sigprocmask(SIG_SETMASK, &l->old_mask, NULL);
	loop_clear_names(l);
	g_array_free(l->names, TRUE);
	g_free(l);
}

/* loop_watch_of - the watch of TAG, or NULL */
static struct loop_watch *loop_watch_of(struct loop *l, int tag)
{
	unsigned i;

	for (i = 0; i < l->n_watches; i++)
		if (l->watches[i].tag == tag)
			return &l->watches[i];
	return NULL;
}

/* loop_watch - watch DIR under TAG */
int loop_watch(struct loop *l, const char *dir, int tag, char *err,
	       size_t errlen)
{
	struct loop_watch *w = loop_watch_of(l, tag);
	int wd, rc;

	if (!w) {
		if (l->n_watches >= LOOP_WATCHES_MAX || tag < 0) {
			snprintf(err, errlen, "cannot watch '%s': too many "
				 "watched directories", dir);
			return -EINVAL;
		}
		w = &l->watches[l->n_watches++];
		w->tag = tag;
		w->wd = -1;
	}
	if (w->wd >= 0) {
		inotify_rm_watch(l->fds[LOOP_FD_INOTIFY], w->wd);
		w->wd = -1;
	}
	wd = inotify_add_watch(l->fds[LOOP_FD_INOTIFY], dir, LOOP_MASK);
	if (wd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot watch '%s': %s%s", dir,
			 strerror(errno), errno == ENOSPC ?
			 " (raise fs.inotify.max_user_watches)" : "");
		return rc;
	}
	w->wd = wd;
	return 0;
}

/* loop_by_wd - the watch of WD, or NULL */
static struct loop_watch *loop_by_wd(struct loop *l, int wd)
{
	unsigned i;

	for (i = 0; i < l->n_watches; i++)
		if (l->watches[i].wd >= 0 && l->watches[i].wd == wd)
			return &l->watches[i];
	return NULL;
}

/* loop_read_signals - the pending signals into EV */
static void loop_read_signals(struct loop *l, struct loop_events *ev)
{
	struct signalfd_siginfo si;
	int i;

	for (i = 0; i < LOOP_READS_MAX; i++) {
		ssize_t n = read(l->fds[LOOP_FD_SIGNAL], &si, sizeof(si));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (errno != EAGAIN)
				log_error("loop", "cannot read the signalfd: %s",
					  strerror(errno));
			return;
		}
		if (n != (ssize_t)sizeof(si))
			return;
		if (si.ssi_signo == SIGHUP) {
			ev->reload = true;
		} else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			ev->stop_signo = (int)si.ssi_signo;
			ev->stops++;
		}
		log_debug("loop", "signal %s from pid %u", strsignal((int)si.ssi_signo),
			  si.ssi_pid);
	}
}

/* loop_inotify_event - one inotify event into EV */
static void loop_inotify_event(struct loop *l, const struct inotify_event *ie,
			       struct loop_events *ev)
{
	struct loop_watch *w;
	struct loop_name ln;

	if (ie->mask & IN_Q_OVERFLOW) {
		ev->overflow = true;
		return;
	}
	w = loop_by_wd(l, ie->wd);
	if (!w)
		return;		/* a watch replaced or removed */
	if (ie->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED |
			IN_UNMOUNT)) {
		if (!(ie->mask & IN_IGNORED))
			inotify_rm_watch(l->fds[LOOP_FD_INOTIFY], w->wd);
		w->wd = -1;
		ev->lost_tag = w->tag;
		return;
	}
	if ((ie->mask & IN_ISDIR) || ie->len == 0 ||
	    strnlen(ie->name, ie->len) == 0 || ie->name[0] == '.')
		return;
	if (l->names->len >= LOOP_NAMES_MAX) {
		ev->overflow = true;	/* a rescan finds the rest */
		return;
	}
	ln.tag = w->tag;
	ln.name = g_strndup(ie->name, ie->len);
	g_array_append_val(l->names, ln);
}

/* loop_read_inotify - the pending inotify events into EV */
static void loop_read_inotify(struct loop *l, struct loop_events *ev)
{
	char buf[65536] __attribute__((aligned(__alignof__(struct inotify_event))));
	int i;

	for (i = 0; i < LOOP_READS_MAX; i++) {
		ssize_t n = read(l->fds[LOOP_FD_INOTIFY], buf, sizeof(buf));
		const char *p;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (errno != EAGAIN)
				log_error("loop", "cannot read inotify events: %s",
					  strerror(errno));
			return;
		}
		for (p = buf; p + sizeof(struct inotify_event) <= buf + n;) {
			const struct inotify_event *ie = (const void *)p;

			if (p + sizeof(*ie) + ie->len > buf + n)
				break;
			loop_inotify_event(l, ie, ev);
			p += sizeof(*ie) + ie->len;
		}
	}
}

/* loop_read_timer - ticks expired */
static void loop_read_timer(struct loop *l, struct loop_events *ev)
{
	uint64_t n = 0;

	if (read(l->fds[LOOP_FD_TIMER], &n, sizeof(n)) == (ssize_t)sizeof(n))
		ev->ticks += n;
}

/* loop_wait - poll everything once, report what happened */
int loop_wait(struct loop *l, struct dispatch *d, int timeout_ms,
	      struct loop_events *ev)
{
	struct curl_waitfd wf[LOOP_FDS];
	struct pollfd pf[LOOP_FDS];
	bool ready[LOOP_FDS];
	int i, rc = 0;

	loop_clear_names(l);
	memset(ev, 0, sizeof(*ev));
	ev->lost_tag = -1;
	if (timeout_ms < 0)
		timeout_ms = 0;
	if (timeout_ms > LOOP_WAIT_MAX_MS)
		timeout_ms = LOOP_WAIT_MAX_MS;
	if (d) {
		for (i = 0; i < LOOP_FDS; i++) {
			wf[i].fd = l->fds[i];
			wf[i].events = CURL_WAIT_POLLIN;
			wf[i].revents = 0;
		}
		rc = dispatch_poll(d, wf, LOOP_FDS, timeout_ms);
		if (rc)
			return rc;
		for (i = 0; i < LOOP_FDS; i++)
			ready[i] = wf[i].revents != 0;
	} else {
		for (i = 0; i < LOOP_FDS; i++) {
			pf[i].fd = l->fds[i];
			pf[i].events = POLLIN;
			pf[i].revents = 0;
		}
		if (poll(pf, LOOP_FDS, timeout_ms) < 0 && errno != EINTR) {
			rc = -errno;
			log_error("loop", "poll: %s", strerror(errno));
			return rc;
		}
		for (i = 0; i < LOOP_FDS; i++)
			ready[i] = pf[i].revents != 0;
	}
	if (ready[LOOP_FD_SIGNAL])
		loop_read_signals(l, ev);
	if (ready[LOOP_FD_INOTIFY])
		loop_read_inotify(l, ev);
	if (ready[LOOP_FD_TIMER])
		loop_read_timer(l, ev);
	ev->names = (struct loop_name *)(void *)l->names->data;
	ev->n_names = l->names->len;
	return 0;
}
