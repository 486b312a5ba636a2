/*
 * test_loop.c - the event loop of bounced and its sources: timers fall
 * due in order and not before their time, re-armed or freed from a
 * callback (their own included); a descriptor is called back when ready,
 * changed or freed from a callback; signals read from the signalfd (and
 * the mask restored afterwards); names of files closed after writing or
 * moved into a watched directory (dot-files ignored, files still open not
 * reported), and a watched directory that goes away.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>

#include "loop.h"
#include "loop_signal.h"
#include "loop_watch.h"
#include "ttmp.h"

struct fixture {
	char *dir;
	struct loop *l;
	struct loop_signals *sig;
	struct loop_watch *w;
	/* what the callbacks saw */
	GHashTable *names;
	int lost_tag;
	int signos[8];
	unsigned n_signos;
};

/* names_cb - the watch's events into the fixture */
static void names_cb(enum loop_watch_what what, int tag, const char *name,
		     void *arg)
{
	struct fixture *f = arg;

	if (what == LOOP_WATCH_NAME) {
		assert_int_equal(tag, 7);
		g_hash_table_add(f->names, g_strdup(name));
	} else if (what == LOOP_WATCH_LOST) {
		f->lost_tag = tag;
	}
}

/* signal_cb - the signals in the order they came */
static void signal_cb(int signo, void *arg)
{
	struct fixture *f = arg;

	if (f->n_signos < G_N_ELEMENTS(f->signos))
		f->signos[f->n_signos++] = signo;
}

static int setup(void **state)
{
	struct fixture *f = g_new0(struct fixture, 1);
	char err[256];

	f->dir = ttmp_make("test-loop");
	assert_non_null(f->dir);
	f->names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	f->lost_tag = -1;
	f->l = loop_new();
	assert_int_equal(loop_signals_new(&f->sig, f->l, signal_cb, f, err,
					  sizeof(err)), 0);
	assert_int_equal(loop_watch_new(&f->w, f->l, names_cb, f, err,
					sizeof(err)), 0);
	assert_int_equal(loop_watch_dir(f->w, f->dir, 7, err, sizeof(err)), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	loop_watch_free(f->w);
	loop_signals_free(f->sig);
	loop_free(f->l);
	rc = ttmp_remove(&f->dir);
	g_hash_table_destroy(f->names);
	g_free(f);
	return rc;
}

/* turns - turn the loop until *DONE or about 2 s */
static void turns(struct loop *l, const bool *done)
{
	int k;

	for (k = 0; k < 100 && !*done; k++)
		assert_int_equal(loop_once(l, 20), 0);
}

/* wait_names - turn the loop until N names were seen, or about 2 s */
static void wait_names(struct fixture *f, guint n)
{
	int k;

	for (k = 0; k < 100 && g_hash_table_size(f->names) < n; k++)
		assert_int_equal(loop_once(f->l, 20), 0);
}

/* test_names - closed after writing, moved in; not dot-files, not a file
   still open for writing */
static void test_names(void **state)
{
	struct fixture *f = *state;
	char *p, *outside, *open_one;
	int fd;

	p = g_build_filename(f->dir, "written.csv", NULL);
	fd = open(p, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x\n", 2), 2);
	close(fd);
	g_free(p);
	p = g_build_filename(f->dir, ".dot", NULL);
	fd = open(p, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	g_free(p);
	outside = g_strconcat(f->dir, "-moved", NULL);
	assert_true(g_file_set_contents(outside, "y\n", -1, NULL));
	p = g_build_filename(f->dir, "moved.csv", NULL);
	assert_int_equal(rename(outside, p), 0);
	g_free(p);
	g_free(outside);
	open_one = g_build_filename(f->dir, "still-open.csv", NULL);
	fd = open(open_one, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "z", 1), 1);

	wait_names(f, 2);
	assert_true(g_hash_table_contains(f->names, "written.csv"));
	assert_true(g_hash_table_contains(f->names, "moved.csv"));
	assert_false(g_hash_table_contains(f->names, ".dot"));
	assert_false(g_hash_table_contains(f->names, "still-open.csv"));
	/* closing it reports it */
	close(fd);
	wait_names(f, 3);
	assert_true(g_hash_table_contains(f->names, "still-open.csv"));
	g_free(open_one);
}

/* test_signals - SIGHUP, SIGTERM and SIGINT are events, then unblocked */
static void test_signals(void **state)
{
	struct fixture *f = *state;
	sigset_t now;
	char err[256];
	int k;

	assert_int_equal(raise(SIGHUP), 0);	/* blocked: pending */
	for (k = 0; k < 50 && f->n_signos < 1; k++)
		assert_int_equal(loop_once(f->l, 20), 0);
	assert_int_equal(f->n_signos, 1);
	assert_int_equal(f->signos[0], SIGHUP);

	assert_int_equal(raise(SIGTERM), 0);
	assert_int_equal(raise(SIGINT), 0);
	for (k = 0; k < 50 && f->n_signos < 3; k++)
		assert_int_equal(loop_once(f->l, 20), 0);
	assert_int_equal(f->n_signos, 3);
	assert_true((f->signos[1] == SIGTERM && f->signos[2] == SIGINT) ||
		    (f->signos[1] == SIGINT && f->signos[2] == SIGTERM));

	/* the mask comes back when the source goes */
	loop_signals_free(f->sig);
	f->sig = NULL;
	assert_int_equal(sigprocmask(SIG_BLOCK, NULL, &now), 0);
	assert_false(sigismember(&now, SIGTERM));
	assert_false(sigismember(&now, SIGHUP));
	assert_int_equal(loop_signals_new(&f->sig, f->l, signal_cb, f, err,
					  sizeof(err)), 0);
	assert_int_equal(sigprocmask(SIG_BLOCK, NULL, &now), 0);
	assert_true(sigismember(&now, SIGTERM));
}

/* test_lost - the watched directory removed: reported with its tag; a
   missing directory cannot be watched */
static void test_lost(void **state)
{
	struct fixture *f = *state;
	char err[256];
	int k;

	assert_int_equal(rmdir(f->dir), 0);
	for (k = 0; k < 50 && f->lost_tag < 0; k++)
		assert_int_equal(loop_once(f->l, 20), 0);
	assert_int_equal(f->lost_tag, 7);
	assert_int_equal(loop_watch_dir(f->w, f->dir, 7, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, f->dir));
	assert_int_equal(mkdir(f->dir, 0700), 0);
	assert_int_equal(loop_watch_dir(f->w, f->dir, 7, err, sizeof(err)), 0);
}

/* ---- timers and descriptors ---- */

struct timer_log {
	struct loop_timer *t[4];
	char order[16];		/* the callbacks' letters, in order */
	size_t n;
	gint64 at[4];		/* when each was called (monotonic us) */
	unsigned b_calls;
	bool done;
};

static void timer_note(struct timer_log *tl, int i)
{
	if (tl->n + 1 < sizeof(tl->order))
		tl->order[tl->n++] = (char)('a' + i);
	tl->at[i] = g_get_monotonic_time();
}

static void timer_a(struct loop *l, void *arg)
{
	(void)l;
	timer_note(arg, 0);
}

/* timer_b - frees timer c (due in the same turn) and re-arms itself */
static void timer_b(struct loop *l, void *arg)
{
	struct timer_log *tl = arg;

	(void)l;
	timer_note(tl, 1);
	loop_timer_free(tl->t[2]);
	tl->t[2] = NULL;
	if (++tl->b_calls == 1)
		loop_timer_at(tl->t[1], 30);
}

static void timer_c(struct loop *l, void *arg)
{
	(void)l;
	timer_note(arg, 2);
}

/* timer_d - the last one: frees itself and ends the run */
static void timer_d(struct loop *l, void *arg)
{
	struct timer_log *tl = arg;

	timer_note(tl, 3);
	loop_timer_free(tl->t[3]);
	tl->t[3] = NULL;
	tl->done = true;
	loop_stop(l);
}

/* test_timers - due in order, never early; a callback may free another
   timer due in the same turn (it is not called), re-arm itself, free
   itself; the loop waits for the earliest timer */
static void test_timers(void **state)
{
	struct fixture *f = *state;
	struct timer_log tl;
	gint64 t0;

	memset(&tl, 0, sizeof(tl));
	tl.t[0] = loop_timer_new(f->l, timer_a, &tl);
	tl.t[1] = loop_timer_new(f->l, timer_b, &tl);
	tl.t[2] = loop_timer_new(f->l, timer_c, &tl);
	tl.t[3] = loop_timer_new(f->l, timer_d, &tl);
	assert_false(loop_timer_armed(tl.t[0]));
	t0 = g_get_monotonic_time();
	loop_timer_at(tl.t[3], 150);
	loop_timer_at(tl.t[0], 40);
	loop_timer_at(tl.t[1], 60);
	loop_timer_at(tl.t[2], 60);
	loop_timer_soon(tl.t[2], 1000);	/* armed sooner: kept */
	assert_true(loop_timer_armed(tl.t[2]));
	/* b and c fall due together; whichever runs first, c never runs
	   after b freed it, and b ran */
	assert_int_equal(loop_run(f->l), 0);
	assert_true(tl.done);
	tl.order[tl.n] = '\0';
	if (strcmp(tl.order, "abbd") != 0 && strcmp(tl.order, "acbbd") != 0)
		fail_msg("timers ran as '%s'", tl.order);
	assert_true(tl.at[0] - t0 >= 40000);
	assert_true(tl.at[1] - t0 >= 90000);	/* re-armed +30 after 60 */
	assert_true(tl.at[3] - t0 >= 150000);
	assert_true(tl.at[3] - t0 < 1000000);
	loop_timer_free(tl.t[0]);
	loop_timer_free(tl.t[1]);
	loop_timer_free(tl.t[2]);
}

struct pipe_ctx {
	int fds[2];
	struct loop_fd *h;
	unsigned reads;
	unsigned writable;
	bool done;
};

/* pipe_read - read what came; the second time unregister from inside */
static void pipe_read(struct loop *l, int fd, unsigned ready, void *arg)
{
	struct pipe_ctx *p = arg;
	char buf[16];

	(void)l;
	assert_true(ready & LOOP_IN);
	assert_true(read(fd, buf, sizeof(buf)) > 0);
	if (++p->reads == 2) {
		loop_fd_free(p->h);
		p->h = NULL;
		p->done = true;
	}
}

/* pipe_write - writable: once, then waited for no more */
static void pipe_write(struct loop *l, int fd, unsigned ready, void *arg)
{
	struct pipe_ctx *p = arg;

	(void)l;
	(void)fd;
	assert_true(ready & LOOP_OUT);
	p->writable++;
}

/* test_fds - a descriptor is called back when ready, for what it waits
   for; changed and freed from callbacks; a wait with nothing ready and
   no timer lasts what the caller allows */
static void test_fds(void **state)
{
	struct fixture *f = *state;
	struct pipe_ctx p;
	struct loop_fd *w;
	gint64 t0;
	int k;

	memset(&p, 0, sizeof(p));
	assert_int_equal(pipe(p.fds), 0);
	p.h = loop_fd_new(f->l, p.fds[0], LOOP_IN, pipe_read, &p);
	w = loop_fd_new(f->l, p.fds[1], LOOP_OUT, pipe_write, &p);
	assert_int_equal(loop_once(f->l, 0), 0);
	assert_int_equal(p.writable, 1);
	assert_int_equal(p.reads, 0);
	loop_fd_set(w, 0);		/* no longer waited for */
	t0 = g_get_monotonic_time();
	assert_int_equal(loop_once(f->l, 50), 0);
	assert_true(g_get_monotonic_time() - t0 >= 45000);
	assert_int_equal(p.writable, 1);
	assert_int_equal(write(p.fds[1], "1", 1), 1);
	for (k = 0; k < 100 && p.reads < 1; k++)
		assert_int_equal(loop_once(f->l, 20), 0);
	assert_int_equal(p.reads, 1);
	assert_int_equal(write(p.fds[1], "2", 1), 1);
	turns(f->l, &p.done);
	assert_true(p.done);
	/* freed: more data is not read */
	assert_int_equal(write(p.fds[1], "3", 1), 1);
	assert_int_equal(loop_once(f->l, 20), 0);
	assert_int_equal(p.reads, 2);
	loop_fd_free(w);
	close(p.fds[0]);
	close(p.fds[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_signals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lost, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fds, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
