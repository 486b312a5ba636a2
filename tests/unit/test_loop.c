/*
 * test_loop.c - the event sources of bounced run: signals read from the
 * signalfd (and the mask restored afterwards), names of files closed after
 * writing or moved into a watched directory (dot-files ignored, files
 * still open not reported), the periodic tick, and a watched directory
 * that goes away.  No dispatcher: loop_wait polls on its own.
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

struct fixture {
	char *dir;
	struct loop *l;
};

static int setup(void **state)
{
	struct fixture *f = g_new0(struct fixture, 1);
	char err[256];

	f->dir = g_dir_make_tmp("test-loop-XXXXXX", NULL);
	assert_non_null(f->dir);
	assert_int_equal(loop_new(&f->l, 20, err, sizeof(err)), 0);
	assert_int_equal(loop_watch(f->l, f->dir, 7, err, sizeof(err)), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	GDir *d;
	const char *n;

	loop_free(f->l);
	d = g_dir_open(f->dir, 0, NULL);
	while (d && (n = g_dir_read_name(d)) != NULL) {
		char *p = g_build_filename(f->dir, n, NULL);

		unlink(p);
		g_free(p);
	}
	if (d)
		g_dir_close(d);
	rmdir(f->dir);
	g_free(f->dir);
	g_free(f);
	return 0;
}

/* wait_names - wait until NAMES (a set) holds N names, or about 2 s */
static void wait_names(struct loop *l, GHashTable *names, guint n,
		       int want_tag)
{
	struct loop_events ev;
	size_t i;
	int k;

	for (k = 0; k < 100 && g_hash_table_size(names) < n; k++) {
		assert_int_equal(loop_wait(l, NULL, 20, &ev), 0);
		for (i = 0; i < ev.n_names; i++) {
			assert_int_equal(ev.names[i].tag, want_tag);
			g_hash_table_add(names, g_strdup(ev.names[i].name));
		}
	}
}

/* test_names - closed after writing, moved in; not dot-files, not a file
   still open for writing */
static void test_names(void **state)
{
	struct fixture *f = *state;
	GHashTable *names = g_hash_table_new_full(g_str_hash, g_str_equal,
						  g_free, NULL);
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

	wait_names(f->l, names, 2, 7);
	assert_true(g_hash_table_contains(names, "written.csv"));
	assert_true(g_hash_table_contains(names, "moved.csv"));
	assert_false(g_hash_table_contains(names, ".dot"));
	assert_false(g_hash_table_contains(names, "still-open.csv"));
	/* closing it reports it */
	close(fd);
	wait_names(f->l, names, 3, 7);
	assert_true(g_hash_table_contains(names, "still-open.csv"));
	g_free(open_one);
	g_hash_table_destroy(names);
}

/* test_signals - SIGHUP, SIGTERM and SIGINT are events, then unblocked */
static void test_signals(void **state)
{
	struct fixture *f = *state;
	struct loop_events ev;
	sigset_t now;
	char err[256];
	int k;

	assert_int_equal(raise(SIGHUP), 0);	/* blocked: pending */
	memset(&ev, 0, sizeof(ev));
	for (k = 0; k < 50 && !ev.reload; k++)
		assert_int_equal(loop_wait(f->l, NULL, 20, &ev), 0);
	assert_true(ev.reload);
	assert_int_equal(ev.stops, 0);

	assert_int_equal(raise(SIGTERM), 0);
	memset(&ev, 0, sizeof(ev));
	for (k = 0; k < 50 && !ev.stops; k++)
		assert_int_equal(loop_wait(f->l, NULL, 20, &ev), 0);
	assert_int_equal(ev.stops, 1);
	assert_int_equal(ev.stop_signo, SIGTERM);
	assert_false(ev.reload);

	assert_int_equal(raise(SIGINT), 0);
	memset(&ev, 0, sizeof(ev));
	for (k = 0; k < 50 && !ev.stops; k++)
		assert_int_equal(loop_wait(f->l, NULL, 20, &ev), 0);
	assert_int_equal(ev.stop_signo, SIGINT);

	/* the mask comes back when the loop goes */
	loop_free(f->l);
	assert_int_equal(sigprocmask(SIG_BLOCK, NULL, &now), 0);
	assert_false(sigismember(&now, SIGTERM));
	assert_false(sigismember(&now, SIGHUP));
	assert_int_equal(loop_new(&f->l, 20, err, sizeof(err)), 0);
	assert_int_equal(sigprocmask(SIG_BLOCK, NULL, &now), 0);
	assert_true(sigismember(&now, SIGTERM));
}

/* test_tick - the timer ticks every 20 ms; a zero wait does not block */
static void test_tick(void **state)
{
	struct fixture *f = *state;
	struct loop_events ev;
	uint64_t ticks = 0;
	gint64 t0;
	int k;

	t0 = g_get_monotonic_time();
	for (k = 0; k < 50 && ticks < 3; k++) {
		assert_int_equal(loop_wait(f->l, NULL, 1000, &ev), 0);
		ticks += ev.ticks;
	}
	assert_true(ticks >= 3);
	assert_true(g_get_monotonic_time() - t0 < 1000000);
	t0 = g_get_monotonic_time();
	assert_int_equal(loop_wait(f->l, NULL, 0, &ev), 0);
	assert_true(g_get_monotonic_time() - t0 < 100000);
}

/* test_lost - the watched directory removed: reported with its tag; a
   missing directory cannot be watched */
static void test_lost(void **state)
{
	struct fixture *f = *state;
	struct loop_events ev;
	char err[256];
	int k, lost = -1;

	assert_int_equal(rmdir(f->dir), 0);
	for (k = 0; k < 50 && lost < 0; k++) {
		assert_int_equal(loop_wait(f->l, NULL, 20, &ev), 0);
		lost = ev.lost_tag;
	}
	assert_int_equal(lost, 7);
	assert_int_equal(loop_watch(f->l, f->dir, 7, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, f->dir));
	assert_int_equal(mkdir(f->dir, 0700), 0);
	assert_int_equal(loop_watch(f->l, f->dir, 7, err, sizeof(err)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_signals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tick, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lost, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
