/*
 * test_state_prewarm.c - page copies made ready ahead of a large commit
 * (state_prewarm): nothing of the prewarm reaches the state, a write that
 * dirties as many pages afterwards faults far less on fresh memory, the
 * stop function and a waiting writer end it early, a full map ends it
 * without an error; and how many copies a committer asks for before its
 * first commit (ingest_committer_warm_want), for the addresses the core
 * expects of its input (ingest_committer_addrs_est).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <malloc.h>
#include <math.h>
#include <string.h>
#include <sys/resource.h>

#include <cmocka.h>
#include <glib.h>
#include <lmdb.h>

#include "ingest_committer.h"
#include "state.h"
#include "state_prewarm.h"
#include "tstate.h"

static int setup(void **state)
{
	return tstate_fixture_new(state, "test_state_prewarm", true);
}

static int teardown(void **state)
{
	return tstate_fixture_free(state);
}

/* what a prewarm may have changed: the meta table's entries, the last
   page in use */
struct snap {
	uint64_t meta, rcpt;
	size_t last_pgno;
};

static void snap_take(struct state *st, struct snap *s)
{
	MDB_txn *txn;
	MDB_envinfo info;

	assert_int_equal(state_begin(st, false, &txn), 0);
	assert_int_equal(state_stat_entries(st, txn, "meta", &s->meta), 0);
	assert_int_equal(state_stat_entries(st, txn, "rcpt", &s->rcpt), 0);
	assert_int_equal(mdb_env_info(mdb_txn_env(txn), &info), 0);
	s->last_pgno = info.me_last_pgno;
	state_abort(txn);
}

/* minor faults of this thread so far */
static long faults(void)
{
	struct rusage ru;

	assert_int_equal(getrusage(RUSAGE_THREAD, &ru), 0);
	return ru.ru_minflt;
}

/* a write of N values of 3,000 bytes (one overflow page each) under keys
   "big/N", then aborted (state_write_fn) */
struct big {
	unsigned n;
};

static int big_fn(struct state *st, MDB_txn *txn, void *arg)
{
	const struct big *b = arg;
	static char val[3000];
	char key[32];
	MDB_dbi dbi;
	unsigned i;

	assert_int_equal(state_dbi(st, "rcpt", &dbi), 0);
	for (i = 0; i < b->n; i++) {
		MDB_val k, v = { sizeof(val), val };

		snprintf(key, sizeof(key), "big/%06u", i);
		k.mv_size = strlen(key);
		k.mv_data = key;
		assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	}
	return -ECANCELED;
}

/* nothing of a prewarm stays; every page asked for was dirtied */
static void test_prewarm_leaves_nothing(void **state)
{
	struct tstate *fx = *state;
	struct snap before, after;
	size_t done = 0;

	snap_take(fx->st, &before);
	assert_int_equal(state_prewarm(fx->st, 3000, NULL, NULL, &done), 0);
	assert_int_equal(done, 3000);
	snap_take(fx->st, &after);
	assert_int_equal(after.meta, before.meta);
	assert_int_equal(after.rcpt, before.rcpt);
	assert_int_equal(after.last_pgno, before.last_pgno);
	/* none asked for, none made */
	assert_int_equal(state_prewarm(fx->st, 0, NULL, NULL, &done), 0);
	assert_int_equal(done, 0);
}

/* the point of it: a write of 2,000 pages after a prewarm of 3,000 takes
   a fraction of the faults it takes on a state opened afresh (the memory
   earlier tests freed is given back first: reused, it would not fault) */
static void test_prewarm_saves_faults(void **state)
{
	struct tstate *fx = *state;
	struct big b = { .n = 2000 };
	long cold, warm, f0;
	size_t done;

	malloc_trim(0);
	f0 = faults();
	assert_int_equal(state_write(fx->st, big_fn, &b), -ECANCELED);
	cold = faults() - f0;
	/* the copies of that write are LMDB's now: opened again, the state
	   starts without any */
	assert_int_equal(tstate_reopen(fx), 0);
	malloc_trim(0);
	assert_int_equal(state_prewarm(fx->st, 3000, NULL, NULL, &done), 0);
	assert_int_equal(done, 3000);
	f0 = faults();
	assert_int_equal(state_write(fx->st, big_fn, &b), -ECANCELED);
	warm = faults() - f0;
	print_message("faults of a 2,000-page write: %ld cold, %ld after "
		      "a prewarm\n", cold, warm);
	assert_true(cold >= 1500);
	assert_true(warm * 4 < cold);
}

/* the stop function is asked before the first page and every 256 */
struct stopper {
	unsigned calls, stop_at;
};

static bool stop_fn(void *arg)
{
	struct stopper *s = arg;

	return ++s->calls >= s->stop_at;
}

static void test_prewarm_stops(void **state)
{
	struct tstate *fx = *state;
	struct stopper s = { .stop_at = 1 };
	size_t done = 99;

	assert_int_equal(state_prewarm(fx->st, 5000, stop_fn, &s, &done), 0);
	assert_int_equal(done, 0);
	s = (struct stopper){ .stop_at = 3 };
	assert_int_equal(state_prewarm(fx->st, 5000, stop_fn, &s, &done), 0);
	assert_int_equal(done, 512);
}

/* a thread that waits to write: the prewarm gives way, the write is
   made once it ended */
struct waiter {
	struct state *st;
	GThread *t;
	int rc;
};

static int one_put(struct state *st, MDB_txn *txn, void *arg)
{
	(void)arg;
	return state_meta_put_u64(st, txn, "count.test", 42);
}

static gpointer waiter_main(gpointer arg)
{
	struct waiter *w = arg;

	w->rc = state_write(w->st, one_put, NULL);
	return NULL;
}

/* on its second call, starts the waiter and returns once it waits */
static bool start_waiter(void *arg)
{
	struct waiter *w = arg;
	int i;

	if (w->t)
		return false;
	w->t = g_thread_new("waiter", waiter_main, w);
	for (i = 0; i < 5000 && !state_waited_for(w->st); i++)
		g_usleep(1000);
	assert_true(state_waited_for(w->st));
	return false;
}

static void test_prewarm_gives_way(void **state)
{
	struct tstate *fx = *state;
	struct waiter w = { .st = fx->st, .rc = -1 };
	MDB_txn *txn;
	uint64_t v = 0;
	size_t done;

	assert_int_equal(state_prewarm(fx->st, 50000, start_waiter, &w,
				       &done), 0);
	/* asked at page 0 (the waiter started and waits), then the next
	   ask found it waiting */
	assert_int_equal(done, 256);
	g_thread_join(w.t);
	assert_int_equal(w.rc, 0);
	assert_false(state_waited_for(fx->st));
	assert_int_equal(state_begin(fx->st, false, &txn), 0);
	assert_int_equal(state_meta_get_u64(fx->st, txn, "count.test", &v), 0);
	state_abort(txn);
	assert_int_equal(v, 42);
}

/* a map too small for what is asked: as many as fit, no error */
static void test_prewarm_full_map(void **state)
{
	struct tstate *fx = *state;
	struct snap before, after;
	size_t done;

	assert_int_equal(state_set_map_size(fx->st, (size_t)4 << 20), 0);
	snap_take(fx->st, &before);
	assert_int_equal(state_prewarm(fx->st, 5000, NULL, NULL, &done), 0);
	assert_true(done > 0);
	assert_true(done < 1024);
	snap_take(fx->st, &after);
	assert_int_equal(after.last_pgno, before.last_pgno);
	assert_int_equal(after.meta, before.meta);
}

/* one leaf per address up to the tree, and a page per as many new ones
   as a page of the tree holds (20 for a tree too small to tell), as if
   each were new; at most 98,304 */
static void test_warm_want(void **state)
{
	(void)state;
	assert_int_equal(ingest_committer_warm_want(0, 0, 0), 0);
	/* a fresh state: 20 a page */
	assert_int_equal(ingest_committer_warm_want(0, 0, 400000), 20000);
	/* a tree too small to tell */
	assert_int_equal(ingest_committer_warm_want(100, 4095, 400000),
			 100 + 20000);
	/* a tree of 10 a page (larger records) */
	assert_int_equal(ingest_committer_warm_want(100000, 1000000, 1000),
			 1100);
	assert_int_equal(ingest_committer_warm_want(20000, 600000, 80000),
			 20000 + 2666);
	/* a tree of fewer than one a page */
	assert_int_equal(ingest_committer_warm_want(8000, 5000, 3000), 6000);
	assert_int_equal(ingest_committer_warm_want(82000, 800000, 400000),
			 98304);
	assert_int_equal(ingest_committer_warm_want(UINT64_MAX, UINT64_MAX,
						    SIZE_MAX),
			 98304);
}

/* A(R) of a population of N drawn evenly */
static size_t drawn(double n, double rows)
{
	return (size_t)(n * -expm1(-rows / n));
}

/* the two counts' population, and its addresses at the input's end */
static void expect_est(double n, double rows, double total)
{
	size_t est = ingest_committer_addrs_est(drawn(n, rows / 2),
						drawn(n, rows), (uint64_t)rows,
						(uint64_t)total);
	double want = n * -expm1(-total / n);

	print_message("population %.0f: %zu expected of %.0f\n", n, est,
		      want);
	assert_true(fabs((double)est - want) < want / 100);
}

static void test_addrs_est(void **state)
{
	(void)state;
	/* nothing to judge by: what the batch has */
	assert_int_equal(ingest_committer_addrs_est(0, 500, 1000, 9000), 500);
	assert_int_equal(ingest_committer_addrs_est(500, 500, 1000, 9000),
			 500);
	assert_int_equal(ingest_committer_addrs_est(400, 500, 1000, 1000),
			 500);
	/* only new ones: as many per record to the end */
	assert_int_equal(ingest_committer_addrs_est(1000, 2000, 4000, 8000),
			 4000);
	/* the benchmark's inputs: 2M records on 200,000 and 1.2M
	   addresses, judged after a quarter of a million records */
	expect_est(200000, 250000, 2000000);
	expect_est(1200000, 250000, 2000000);
	/* a few repeats early on, many later */
	expect_est(50000, 32768, 2000000);
	/* never fewer than seen */
	assert_true(ingest_committer_addrs_est(900, 1000, 1000, 1001) >=
		    1000);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_prewarm_leaves_nothing),
		T(test_prewarm_saves_faults),
		T(test_prewarm_stops),
		T(test_prewarm_gives_way),
		T(test_prewarm_full_map),
		cmocka_unit_test(test_warm_want),
		cmocka_unit_test(test_addrs_est),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
