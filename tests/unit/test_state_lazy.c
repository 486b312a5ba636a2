/*
 * test_state_lazy.c - a lazy commit (state_commit_lazy: the meta page
 * written, not waited for) never makes another thread's commit lazy too.
 *
 * The lazy commit sets MDB_NOMETASYNC on the whole LMDB environment for
 * its commit, and LMDB lets another thread's write transaction begin and
 * commit as soon as the commit released LMDB's writer lock, before the
 * flag is cleared.  This test stands between bounced and LMDB: its own
 * mdb_txn_commit (which the state module, linked in statically, calls)
 * notes the environment's flags at each commit of the durable thread,
 * while another thread commits lazily back to back.  No durable commit
 * may see the flag.  Without state.c's commit lock most of them do
 * within a second on two CPUs.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>
#include <lmdb.h>

#include "state.h"
#include "tstate.h"

/* the durable thread's commits, and those that saw MDB_NOMETASYNC */
static __thread bool in_durable;
static atomic_long durable_commits, durable_lazy;

int mdb_txn_commit(MDB_txn *txn)
{
	static int (*real)(MDB_txn *);
	unsigned flags = 0;

	if (!real)
		real = (int (*)(MDB_txn *))dlsym(RTLD_NEXT, "mdb_txn_commit");
	if (in_durable) {
		atomic_fetch_add(&durable_commits, 1);
		if (mdb_env_get_flags(mdb_txn_env(txn), &flags) == 0 &&
		    (flags & (MDB_NOMETASYNC | MDB_NOSYNC)))
			atomic_fetch_add(&durable_lazy, 1);
	}
	return real(txn);
}

static atomic_bool stop;

static int add(struct state *st, MDB_txn *txn, void *arg)
{
	return state_meta_add_u64(st, txn, arg, 1);
}

/* durable - small durable commits until told to stop */
static void *durable(void *arg)
{
	struct state *st = arg;

	in_durable = true;
	while (!atomic_load(&stop))
		if (state_write(st, add, "count.durable") != 0)
			break;
	return NULL;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void test_lazy_commit_leaves_others_durable(void **state)
{
	struct tstate t;
	pthread_t th;
	uint64_t lazy = 0;
	double end;

	(void)state;
	assert_int_equal(tstate_setup(&t, "bounced-lazy"), 0);
	atomic_store(&stop, false);
	assert_int_equal(pthread_create(&th, NULL, durable, t.st), 0);
	end = now_s() + 1.5;
	while (now_s() < end) {
		assert_int_equal(state_write_lazy(t.st, add, "count.lazy"), 0);
		lazy++;
	}
	atomic_store(&stop, true);
	assert_int_equal(pthread_join(th, NULL), 0);
	/* both went on side by side */
	assert_true(lazy > 100);
	assert_true(atomic_load(&durable_commits) > 10);
	assert_int_equal(atomic_load(&durable_lazy), 0);
	assert_int_equal(tstate_teardown(&t), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lazy_commit_leaves_others_durable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
