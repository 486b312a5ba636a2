/*
 * test_outbox.c - the durable outbox in a temporary LMDB state: ids and
 * defaults on enqueue, due order, update / reschedule / remove, the dead
 * table (kill and revive), counts, walks bounded by a time, the next due
 * time, a record that does not decode, an aborted transaction, and a
 * read-only state written before the outbox tables existed.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <lmdb.h>

#include "outbox.h"
#include "tstate.h"

#define NOW 1700000000000LL	/* a wall clock in ms */

static int setup(void **state)
{
	return tstate_fixture_new(state, "test_outbox", true);
}

static int teardown(void **state)
{
	return tstate_fixture_free(state);
}

/* make - an action for ADDR due at DUE (0: now) */
static void make(struct action *a, const char *addr, int64_t due)
{
	memset(a, 0, sizeof(*a));
	rcpt_set_str(a->provider, sizeof(a->provider), "mw");
	rcpt_set_str(a->addr, sizeof(a->addr), addr);
	a->op = OP_UNSUBSCRIBE;
	a->klass = CLASS_HARD;
	a->due_ms = due;
}

static MDB_txn *begin(struct tstate *fx, bool write)
{
	MDB_txn *txn = NULL;

	assert_int_equal(state_begin(fx->st, write, &txn), 0);
	return txn;
}

/* what a walk saw */
struct seen {
	size_t n;
	uint64_t id[16];
	int64_t due[16];
	char addr[16][32];
	int stop_at;		/* > 0: return 7 from the callback number N */
	struct state *st;	/* set: remove each action seen */
	MDB_txn *txn;
};

static int collect(const struct action *a, void *arg)
{
	struct seen *s = arg;

	assert_true(s->n < 16);
	s->id[s->n] = a->id;
	s->due[s->n] = a->due_ms;
	rcpt_set_str(s->addr[s->n], sizeof(s->addr[0]), a->addr);
	s->n++;
	if (s->st)
		assert_int_equal(outbox_remove(s->st, s->txn, a), 0);
	if (s->stop_at > 0 && (size_t)s->stop_at == s->n)
		return 7;
	return 0;
}

/* a walk looking for one id */
struct find {
	uint64_t id;
	struct action a;
	bool found;
};

/* find_cb - copy the action with F's id and stop */
static int find_cb(const struct action *a, void *arg)
{
	struct find *f = arg;

	if (a->id != f->id)
		return 0;
	f->a = *a;
	f->found = true;
	return 1;
}

/* fetch - the pending action ID (asserts it is there) */
static void fetch(struct state *st, MDB_txn *txn, uint64_t id,
		  struct action *a)
{
	struct find f = { .id = id };

	assert_int_equal(outbox_foreach(st, txn, -1, find_cb, &f), 1);
	assert_true(f.found);
	*a = f.a;
}

/* enqueue_dues - one action per due time in DUES (addresses "0@x" …),
   committed; their ids into IDS */
static void enqueue_dues(struct tstate *fx, const int64_t *dues, size_t n,
			 uint64_t *ids)
{
	MDB_txn *txn = begin(fx, true);
	struct action a;
	char addr[32];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(addr, sizeof(addr), "%zu@x", i);
		make(&a, addr, dues[i]);
		assert_int_equal(outbox_enqueue(fx->st, txn, &a, NOW), 0);
		ids[i] = a.id;
	}
	assert_int_equal(state_commit(txn), 0);
}

static void test_enqueue_ids_and_defaults(void **state)
{
	struct tstate *fx = *state;
	MDB_txn *txn = begin(fx, true);
	struct action a, b;
	uint64_t seq = 0;
	struct seen s = { 0 };

	make(&a, "a@x", 0);
	assert_int_equal(outbox_enqueue(fx->st, txn, &a, NOW), 0);
	assert_true(a.id == 1);			/* ids start at 1 */
	assert_true(a.root == 1);		/* a root is its own */
	assert_true(a.created_ms == NOW);
	assert_true(a.due_ms == NOW);

	make(&b, "b@x", NOW + 5);
	b.root = 1;				/* a follow-up of a */
	b.created_ms = NOW - 10;
	assert_int_equal(outbox_enqueue(fx->st, txn, &b, NOW), 0);
	assert_true(b.id == 2);
	assert_true(b.root == 1);
	assert_true(b.created_ms == NOW - 10);
	assert_true(b.due_ms == NOW + 5);
	assert_int_equal(state_meta_get_u64(fx->st, txn, "seq.action", &seq),
			 0);
	assert_true(seq == 2);
	assert_int_equal(state_commit(txn), 0);

	txn = begin(fx, false);
	assert_int_equal(outbox_foreach(fx->st, txn, -1, collect, &s), 0);
	state_abort(txn);
	assert_int_equal(s.n, 2);
	assert_true(s.id[0] == 1 && s.id[1] == 2);
	assert_string_equal(s.addr[0], "a@x");
	assert_string_equal(s.addr[1], "b@x");

	/* a later transaction goes on from the counter */
	txn = begin(fx, true);
	make(&a, "c@x", 0);
	assert_int_equal(outbox_enqueue(fx->st, txn, &a, NOW), 0);
	assert_true(a.id == 3);
	state_abort(txn);
}

static void test_enqueue_refuses(void **state)
{
	struct tstate *fx = *state;
	MDB_txn *txn = begin(fx, true);
	struct action a, keep;
	uint64_t pending = 9;

	make(&a, "a@x", -5);			/* negative due time */
	keep = a;
	assert_int_equal(outbox_enqueue(fx->st, txn, &a, NOW), -EINVAL);
	assert_memory_equal(&a, &keep, sizeof(a));	/* unchanged */
	make(&a, "a@x", 0);
	a.op = 0;				/* no operation */
	assert_int_equal(outbox_enqueue(fx->st, txn, &a, NOW), -EINVAL);
	assert_true(a.id == 0);
	assert_int_equal(outbox_counts(fx->st, txn, &pending, NULL), 0);
	assert_true(pending == 0);
	state_abort(txn);
}

static void test_due_order(void **state)
{
	static const int64_t dues[] = {
		NOW + 500, NOW, NOW + 100, 1, NOW + 100, NOW + 1000000,
		NOW - 20, (int64_t)1 << 40, NOW + 99,
	};
	static const size_t order[] = { 3, 7, 6, 1, 8, 2, 4, 0, 5 };
	struct tstate *fx = *state;
	uint64_t ids[9];
	struct seen s = { 0 };
	MDB_txn *txn;
	size_t i;

	enqueue_dues(fx, dues, 9, ids);
	for (i = 0; i < 9; i++)
		assert_true(ids[i] == i + 1);
	txn = begin(fx, false);
	assert_int_equal(outbox_foreach(fx->st, txn, -1, collect, &s), 0);
	state_abort(txn);
	assert_int_equal(s.n, 9);
	for (i = 0; i < 9; i++) {
		assert_true(s.id[i] == ids[order[i]]);
		assert_true(s.due[i] == dues[order[i]]);
	}
	/* equal due times: enqueue order (id) breaks the tie */
	assert_true(s.id[5] == 3 && s.id[6] == 5);
}

static void test_foreach_until_and_stop(void **state)
{
	static const int64_t dues[] = { NOW + 30, NOW + 10, NOW + 20, NOW + 40 };
	static const struct {
		int64_t until;
		size_t n;
	} cases[] = {
		{ -1, 4 }, { 0, 0 }, { NOW + 9, 0 }, { NOW + 10, 1 },
		{ NOW + 19, 1 }, { NOW + 20, 2 }, { NOW + 39, 3 },
		{ NOW + 40, 4 }, { INT64_MAX, 4 },
	};
	struct tstate *fx = *state;
	uint64_t ids[4];
	MDB_txn *txn;
	size_t i;

	enqueue_dues(fx, dues, 4, ids);
	txn = begin(fx, false);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct seen s = { 0 };

		assert_int_equal(outbox_foreach(fx->st, txn, cases[i].until,
						collect, &s), 0);
		assert_int_equal(s.n, cases[i].n);
		if (s.n)
			assert_true(s.due[s.n - 1] <= cases[i].until ||
				    cases[i].until < 0);
	}
	{
		struct seen s = { .stop_at = 2 };

		/* the callback's value stops the walk and comes back */
		assert_int_equal(outbox_foreach(fx->st, txn, -1, collect, &s),
				 7);
		assert_int_equal(s.n, 2);
		assert_true(s.id[1] == ids[2]);
	}
	state_abort(txn);
}

static void test_foreach_callback_removes(void **state)
{
	static const int64_t dues[] = { NOW + 3, NOW + 1, NOW + 2, NOW + 1 };
	struct tstate *fx = *state;
	uint64_t ids[4], pending = 9;
	MDB_txn *txn;
	struct seen s = { 0 };

	enqueue_dues(fx, dues, 4, ids);
	txn = begin(fx, true);
	s.st = fx->st;
	s.txn = txn;
	assert_int_equal(outbox_foreach(fx->st, txn, -1, collect, &s), 0);
	assert_int_equal(s.n, 4);		/* each once, in order */
	assert_true(s.id[0] == 2 && s.id[1] == 4 && s.id[2] == 3 &&
		    s.id[3] == 1);
	assert_int_equal(outbox_counts(fx->st, txn, &pending, NULL), 0);
	assert_true(pending == 0);
	assert_int_equal(state_commit(txn), 0);
}

static void test_update_in_place(void **state)
{
	struct tstate *fx = *state;
	MDB_txn *txn = begin(fx, true);
	struct action a, gone, got;
	uint64_t pending = 0;

	make(&a, "a@x", NOW + 7);
	assert_int_equal(outbox_enqueue(fx->st, txn, &a, NOW), 0);
	a.step = 2;
	a.attempts = 3;
	rcpt_set_str(a.list_id, sizeof(a.list_id), "lst0000000001");
	rcpt_set_str(a.last_error, sizeof(a.last_error), "HTTP 503");
	assert_int_equal(outbox_update(fx->st, txn, &a), 0);
	assert_int_equal(outbox_counts(fx->st, txn, &pending, NULL), 0);
	assert_true(pending == 1);

	/* an action that is not there is not created */
	gone = a;
	gone.id = 99;
	assert_int_equal(outbox_update(fx->st, txn, &gone), -ENOENT);
	gone = a;
	gone.due_ms = NOW;			/* wrong key */
	assert_int_equal(outbox_update(fx->st, txn, &gone), -ENOENT);
	assert_int_equal(outbox_counts(fx->st, txn, &pending, NULL), 0);
	assert_true(pending == 1);
	assert_int_equal(state_commit(txn), 0);

	txn = begin(fx, false);
	fetch(fx->st, txn, a.id, &got);
	assert_memory_equal(&got, &a, sizeof(a));
	state_abort(txn);
}

/* copy_first - the first action walked into ARG, and stop */
static int copy_first(const struct action *a, void *arg)
{
	*(struct action *)arg = *a;
	return 1;
}

static void test_reschedule(void **state)
{
	static const int64_t dues[] = { NOW + 10, NOW + 20, NOW + 30 };
	struct tstate *fx = *state;
	uint64_t ids[3];
	struct action a, stale, got;
	struct seen s = { 0 };
	int64_t next = 0;
	MDB_txn *txn;

	enqueue_dues(fx, dues, 3, ids);
	txn = begin(fx, true);
	assert_int_equal(outbox_foreach(fx->st, txn, -1, copy_first, &a), 1);
	assert_true(a.id == ids[0]);
	a.attempts = 1;
	stale = a;
	assert_int_equal(outbox_reschedule(fx->st, txn, &a, NOW + 25), 0);
	assert_true(a.due_ms == NOW + 25);
	/* the old key is gone: moving it again from there fails */
	assert_int_equal(outbox_reschedule(fx->st, txn, &stale, NOW + 26),
			 -ENOENT);
	assert_true(stale.due_ms == NOW + 10);	/* unchanged on failure */
	assert_int_equal(outbox_reschedule(fx->st, txn, &a, -1), -EINVAL);
	assert_true(a.due_ms == NOW + 25);
	assert_int_equal(state_commit(txn), 0);

	txn = begin(fx, false);
	assert_int_equal(outbox_foreach(fx->st, txn, -1, collect, &s), 0);
	assert_int_equal(s.n, 3);
	assert_true(s.id[0] == ids[1] && s.id[1] == ids[0] &&
		    s.id[2] == ids[2]);
	assert_true(s.due[1] == NOW + 25);
	assert_int_equal(outbox_next_due(fx->st, txn, &next), 0);
	assert_true(next == NOW + 20);
	/* the new key carries the whole action, attempts included */
	fetch(fx->st, txn, ids[0], &got);
	assert_memory_equal(&got, &a, sizeof(a));
	assert_int_equal(got.attempts, 1);
	state_abort(txn);
}

static void test_remove(void **state)
{
	static const int64_t dues[] = { NOW + 1, NOW + 2 };
	struct tstate *fx = *state;
	uint64_t ids[2], pending = 0;
	struct action a;
	struct seen s = { 0 };
	MDB_txn *txn;

	enqueue_dues(fx, dues, 2, ids);
	txn = begin(fx, true);
	assert_int_equal(outbox_foreach(fx->st, txn, -1, copy_first, &a), 1);
	assert_int_equal(outbox_remove(fx->st, txn, &a), 0);
	assert_int_equal(outbox_remove(fx->st, txn, &a), -ENOENT);
	assert_int_equal(outbox_counts(fx->st, txn, &pending, NULL), 0);
	assert_true(pending == 1);
	assert_int_equal(outbox_foreach(fx->st, txn, -1, collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_true(s.id[0] == ids[1]);
	assert_int_equal(state_commit(txn), 0);
}

static void test_kill_revive(void **state)
{
	static const int64_t dues[] = { NOW + 1, NOW + 2, NOW + 3 };
	struct tstate *fx = *state;
	uint64_t ids[3], pending = 0, dead = 0;
	struct action b, c;
	struct seen s = { 0 };
	MDB_txn *txn;

	enqueue_dues(fx, dues, 3, ids);
	txn = begin(fx, true);
	/* kill the later id first: the dead table walks in id order */
	fetch(fx->st, txn, ids[2], &c);
	c.attempts = 5;
	assert_int_equal(outbox_update(fx->st, txn, &c), 0);
	assert_int_equal(outbox_kill(fx->st, txn, &c,
				     "gave up after 5 attempts"), 0);
	assert_string_equal(c.last_error, "gave up after 5 attempts");
	assert_int_equal(outbox_kill(fx->st, txn, &c, "again"), -ENOENT);
	assert_string_equal(c.last_error, "gave up after 5 attempts");
	fetch(fx->st, txn, ids[1], &b);
	assert_int_equal(outbox_kill(fx->st, txn, &b, "HTTP 403: forbidden"),
			 0);
	assert_int_equal(outbox_counts(fx->st, txn, &pending, &dead), 0);
	assert_true(pending == 1 && dead == 2);
	assert_int_equal(state_stat_entries(fx->st, txn, "dead", &dead), 0);
	assert_true(dead == 2);
	assert_int_equal(outbox_dead_foreach(fx->st, txn, collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_true(s.id[0] == ids[1] && s.id[1] == ids[2]);
	assert_int_equal(state_commit(txn), 0);

	/* revive the one that gave up: due now, once only */
	txn = begin(fx, true);
	assert_int_equal(outbox_revive(fx->st, txn, ids[2], NOW + 1000), 0);
	assert_int_equal(outbox_revive(fx->st, txn, ids[2], NOW + 1000),
			 -ENOENT);
	assert_int_equal(outbox_revive(fx->st, txn, 999, NOW), -ENOENT);
	assert_int_equal(outbox_counts(fx->st, txn, &pending, &dead), 0);
	assert_true(pending == 2 && dead == 1);
	memset(&s, 0, sizeof(s));
	assert_int_equal(outbox_foreach(fx->st, txn, -1, collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_true(s.id[0] == ids[0] && s.due[0] == NOW + 1);
	assert_true(s.id[1] == ids[2] && s.due[1] == NOW + 1000);
	memset(&s, 0, sizeof(s));
	assert_int_equal(outbox_dead_foreach(fx->st, txn, collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_true(s.id[0] == ids[1]);
	assert_int_equal(state_commit(txn), 0);
}

static void test_revive_fields(void **state)
{
	struct tstate *fx = *state;
	MDB_txn *txn = begin(fx, true);
	struct action a;
	struct find f = { 0 };

	make(&a, "a@x", NOW + 5);
	a.created_ms = NOW - 100000;
	a.step = 2;
	rcpt_set_str(a.campaign_id, sizeof(a.campaign_id), "cmp");
	assert_int_equal(outbox_enqueue(fx->st, txn, &a, NOW), 0);
	a.attempts = 9;
	assert_int_equal(outbox_update(fx->st, txn, &a), 0);
	assert_int_equal(outbox_kill(fx->st, txn, &a, "HTTP 500 for 2 days"),
			 0);
	f.id = a.id;
	assert_int_equal(outbox_dead_foreach(fx->st, txn, find_cb, &f), 1);
	assert_true(f.found);
	assert_memory_equal(&f.a, &a, sizeof(a));	/* dead: as killed */

	assert_int_equal(outbox_revive(fx->st, txn, a.id, NOW + 60000), 0);
	memset(&f, 0, sizeof(f));
	f.id = a.id;
	assert_int_equal(outbox_foreach(fx->st, txn, -1, find_cb, &f), 1);
	assert_true(f.found);
	assert_true(f.a.due_ms == NOW + 60000);
	assert_true(f.a.created_ms == NOW + 60000);
	assert_int_equal(f.a.attempts, 0);
	assert_string_equal(f.a.last_error, "HTTP 500 for 2 days");
	assert_int_equal(f.a.step, 2);
	assert_string_equal(f.a.campaign_id, "cmp");
	assert_true(f.a.root == a.id);
	state_abort(txn);
}

static void test_next_due(void **state)
{
	static const int64_t dues[] = { NOW + 30, NOW + 10, NOW + 20 };
	struct tstate *fx = *state;
	int64_t next = 42;
	uint64_t ids[3];
	MDB_txn *txn = begin(fx, false);

	assert_int_equal(outbox_next_due(fx->st, txn, &next), -ENOENT);
	assert_true(next == 42);
	state_abort(txn);
	enqueue_dues(fx, dues, 3, ids);
	txn = begin(fx, false);
	assert_int_equal(outbox_next_due(fx->st, txn, &next), 0);
	assert_true(next == NOW + 10);
	state_abort(txn);
}

static void test_counts(void **state)
{
	static const int64_t dues[] = { 5, 6, 7, 8, 9 };
	struct tstate *fx = *state;
	uint64_t ids[5], pending = 9, dead = 9, n = 9;
	MDB_txn *txn = begin(fx, false);
	MDB_dbi dbi;

	assert_int_equal(outbox_counts(fx->st, txn, &pending, &dead), 0);
	assert_true(pending == 0 && dead == 0);
	assert_int_equal(outbox_counts(fx->st, txn, NULL, NULL), 0);
	assert_int_equal(state_dbi(fx->st, "nosuch", &dbi), -EINVAL);
	assert_int_equal(state_dbi(fx->st, NULL, &dbi), -EINVAL);
	assert_int_equal(state_dbi(fx->st, "outbox", &dbi), 0);
	state_abort(txn);
	enqueue_dues(fx, dues, 5, ids);
	txn = begin(fx, false);
	assert_int_equal(outbox_counts(fx->st, txn, &pending, &dead), 0);
	assert_true(pending == 5 && dead == 0);
	assert_int_equal(state_stat_entries(fx->st, txn, "outbox", &n), 0);
	assert_true(n == 5);
	state_abort(txn);
}

static void test_undecodable_skipped(void **state)
{
	static const int64_t dues[] = { NOW + 1, NOW + 3 };
	struct tstate *fx = *state;
	uint8_t key[16] = { 0 }, junk[3] = { 1, 2, 3 }, dkey[8] = { 0 };
	MDB_val k = { sizeof(key), key }, v = { sizeof(junk), junk };
	uint64_t ids[2], pending = 0, dead = 0;
	int64_t due = NOW + 2;
	struct seen s = { 0 };
	MDB_txn *txn;
	MDB_dbi dbi;
	int i;

	enqueue_dues(fx, dues, 2, ids);
	/* a broken record between the two, and one in the dead table */
	for (i = 7; i >= 0; i--) {
		key[i] = (uint8_t)due;
		due >>= 8;
	}
	key[15] = 77;
	dkey[7] = 78;
	txn = begin(fx, true);
	assert_int_equal(state_dbi(fx->st, "outbox", &dbi), 0);
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(state_dbi(fx->st, "dead", &dbi), 0);
	k.mv_size = sizeof(dkey);
	k.mv_data = dkey;
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(state_commit(txn), 0);

	txn = begin(fx, true);
	assert_int_equal(outbox_foreach(fx->st, txn, -1, collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_true(s.id[0] == ids[0] && s.id[1] == ids[1]);
	memset(&s, 0, sizeof(s));
	assert_int_equal(outbox_dead_foreach(fx->st, txn, collect, &s), 0);
	assert_int_equal(s.n, 0);
	/* they still count, and the dead one cannot be revived */
	assert_int_equal(outbox_counts(fx->st, txn, &pending, &dead), 0);
	assert_true(pending == 3 && dead == 1);
	assert_int_equal(outbox_revive(fx->st, txn, 78, NOW), -EINVAL);
	assert_int_equal(outbox_counts(fx->st, txn, &pending, &dead), 0);
	assert_true(pending == 3 && dead == 1);
	state_abort(txn);
}

static void test_aborted_leaves_nothing(void **state)
{
	struct tstate *fx = *state;
	MDB_txn *txn = begin(fx, true);
	struct action a;
	uint64_t pending = 9, dead = 9, seq = 9;
	int64_t next = 0;
	struct seen s = { 0 };

	make(&a, "a@x", 0);
	assert_int_equal(outbox_enqueue(fx->st, txn, &a, NOW), 0);
	make(&a, "b@x", NOW + 1);
	assert_int_equal(outbox_enqueue(fx->st, txn, &a, NOW), 0);
	assert_int_equal(outbox_kill(fx->st, txn, &a, "x"), 0);
	state_abort(txn);

	txn = begin(fx, false);
	assert_int_equal(outbox_counts(fx->st, txn, &pending, &dead), 0);
	assert_true(pending == 0 && dead == 0);
	assert_int_equal(outbox_next_due(fx->st, txn, &next), -ENOENT);
	assert_int_equal(state_meta_get_u64(fx->st, txn, "seq.action", &seq),
			 -ENOENT);
	assert_int_equal(outbox_foreach(fx->st, txn, -1, collect, &s), 0);
	assert_int_equal(outbox_dead_foreach(fx->st, txn, collect, &s), 0);
	assert_int_equal(s.n, 0);
	state_abort(txn);

	/* and the ids start again from 1 */
	txn = begin(fx, true);
	make(&a, "c@x", 0);
	assert_int_equal(outbox_enqueue(fx->st, txn, &a, NOW), 0);
	assert_true(a.id == 1);
	assert_int_equal(state_commit(txn), 0);
}

static void test_persists_across_open(void **state)
{
	struct tstate *fx = *state;
	MDB_txn *txn = begin(fx, true);
	struct state *ro = NULL;
	struct action a;
	uint64_t pending = 0;

	make(&a, "a@x", NOW + 3);
	assert_int_equal(outbox_enqueue(fx->st, txn, &a, NOW), 0);
	assert_int_equal(state_commit(txn), 0);
	state_close(fx->st);
	fx->st = NULL;
	assert_int_equal(tstate_open(&ro, fx->dir, true), 0);
	assert_int_equal(state_begin(ro, false, &txn), 0);
	assert_int_equal(outbox_counts(ro, txn, &pending, NULL), 0);
	assert_true(pending == 1);
	state_abort(txn);
	state_close(ro);
	assert_int_equal(tstate_open(&fx->st, fx->dir, false), 0);
}

/* make_old_state - an LMDB state in DIR with only the tables of the
   first schema (no outbox, no dead) */
static void make_old_state(const char *dir)
{
	static const char *const names[] = { "rcpt", "files", "meta" };
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_dbi dbi;
	size_t i;

	assert_int_equal(mkdir(dir, 0750), 0);
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0640), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(mdb_dbi_open(txn, names[i], MDB_CREATE, &dbi),
				 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static void test_readonly_old_state(void **state)
{
	struct tstate *fx = *state;
	struct state *ro = NULL;
	char dir[4200];
	MDB_txn *txn = NULL;
	uint64_t pending = 9, dead = 9, n = 9;
	int64_t next = 0;
	struct seen s = { 0 };
	struct action a;
	MDB_dbi dbi;

	snprintf(dir, sizeof(dir), "%s/old", fx->tmp);
	make_old_state(dir);
	assert_int_equal(tstate_open(&ro, dir, true), 0);
	assert_int_equal(state_begin(ro, false, &txn), 0);
	assert_int_equal(state_dbi(ro, "outbox", &dbi), -ENOENT);
	assert_int_equal(outbox_counts(ro, txn, &pending, &dead), 0);
	assert_true(pending == 0 && dead == 0);
	assert_int_equal(state_stat_entries(ro, txn, "dead", &n), 0);
	assert_true(n == 0);
	assert_int_equal(outbox_foreach(ro, txn, -1, collect, &s), 0);
	assert_int_equal(outbox_dead_foreach(ro, txn, collect, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(outbox_next_due(ro, txn, &next), -ENOENT);
	state_abort(txn);
	state_close(ro);

	/* a writable opening adds the tables */
	assert_int_equal(tstate_open(&ro, dir, false), 0);
	assert_int_equal(state_begin(ro, true, &txn), 0);
	make(&a, "a@x", 0);
	assert_int_equal(outbox_enqueue(ro, txn, &a, NOW), 0);
	assert_int_equal(state_commit(txn), 0);
	state_close(ro);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_enqueue_ids_and_defaults),
		T(test_enqueue_refuses),
		T(test_due_order),
		T(test_foreach_until_and_stop),
		T(test_foreach_callback_removes),
		T(test_update_in_place),
		T(test_reschedule),
		T(test_remove),
		T(test_kill_revive),
		T(test_revive_fields),
		T(test_next_due),
		T(test_counts),
		T(test_undecodable_skipped),
		T(test_aborted_leaves_nothing),
		T(test_persists_across_open),
		T(test_readonly_old_state),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
