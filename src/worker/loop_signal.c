/*
 * loop_signal.c - SIGTERM, SIGINT and SIGHUP read from a signalfd
 * registered with the loop (include/loop_signal.h).
 *
 * The signals are blocked, so they wait in the signalfd until the loop
 * reads them; a readable signalfd is read until it is empty (bounded), so
 * one turn reports everything pending, in the order it arrived.
 *
 * Error policy: set-up failures are returned with a message; a failed
 * read is logged and the signal is read on a later turn if still pending.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <glib.h>

#include "log.h"
#include "loop.h"
#include "loop_signal.h"

#define SIG_READS_MAX 64	/* reads of the signalfd per turn */

struct loop_signals {
	int fd;
	struct loop_fd *h;
	sigset_t blocked, old_mask;
	bool mask_set;
	loop_signal_fn *fn;
	void *arg;
};

/* sig_ready - the signalfd is readable: each signal to the callback */
static void sig_ready(struct loop *l, int fd, unsigned ready, void *arg)
{
	struct loop_signals *s = arg;
	struct signalfd_siginfo si;
	int i;

	(void)l;
	(void)ready;
	for (i = 0; i < SIG_READS_MAX; i++) {
		ssize_t n = read(fd, &si, sizeof(si));

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
		log_debug("loop", "signal %s from pid %u",
			  strsignal((int)si.ssi_signo), si.ssi_pid);
		if (si.ssi_signo == SIGHUP || si.ssi_signo == SIGTERM ||
		    si.ssi_signo == SIGINT)
			s->fn((int)si.ssi_signo, s->arg);
	}
}

/* loop_signals_new - block the signals, read them from a signalfd */
int loop_signals_new(struct loop_signals **out, struct loop *l,
		     loop_signal_fn *fn, void *arg, char *err, size_t errlen)
{
	struct loop_signals *s = g_new0(struct loop_signals, 1);
	const char *what;
	int rc;

	*out = NULL;
	s->fd = -1;
	s->fn = fn;
	s->arg = arg;
	sigemptyset(&s->blocked);
	sigaddset(&s->blocked, SIGTERM);
	sigaddset(&s->blocked, SIGINT);
	sigaddset(&s->blocked, SIGHUP);
	what = "block the signals";
	if (sigprocmask(SIG_BLOCK, &s->blocked, &s->old_mask) != 0)
		goto fail;
	s->mask_set = true;
	what = "create a signalfd";
	s->fd = signalfd(-1, &s->blocked, SFD_NONBLOCK | SFD_CLOEXEC);
	if (s->fd < 0)
		goto fail;
	s->h = loop_fd_new(l, s->fd, LOOP_IN, sig_ready, s);
	*out = s;
	return 0;
fail:
	rc = -errno;
	snprintf(err, errlen, "cannot %s: %s", what, strerror(errno));
	loop_signals_free(s);
	return rc;
}

/* loop_signals_free - unregister, close, restore the mask */
void loop_signals_free(struct loop_signals *s)
{
	if (!s)
		return;
	loop_fd_free(s->h);
	if (s->fd >= 0)
		close(s->fd);
	if (s->mask_set)
		sigprocmask(SIG_SETMASK, &s->old_mask, NULL);
	g_free(s);
}
