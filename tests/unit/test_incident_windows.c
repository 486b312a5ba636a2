/*
 * test_incident_windows.c - the incident detector's windows in the state:
 * a save carries only the recipients that came since the one before and
 * is read back as the detector had it; the log records that fell out of
 * the window whole are deleted, and a forgotten pair leaves nothing; a
 * state that holds the whole detector in one piece (as written before)
 * is read, and its next save writes every pair and recipient.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>

#include "incident_detect.h"
#include "incident_windows.h"
#include "tstate.h"

#define T0 1700000000
#define SRC "192.0.2.7"
#define DST "gmail"

/* a window of 60 s that never opens an incident */
static const struct incident_params Q = { 60, 100000, 0.2, 7200 };

static int setup(void **state)
{
	static struct tstate t;

	*state = &t;
	return tstate_setup(&t, "test_incident_windows");
}

static int teardown(void **state)
{
	return tstate_teardown(*state);
}

static void no_change(const struct incident_transition *t, void *arg)
{
	(void)t;
	(void)arg;
}

static void bounce(struct incident_detect *d, int64_t t, uint64_t rcpt)
{
	struct incident_input in = { SRC, DST, t, INCIDENT_SENDER_BOUNCE,
				     rcpt, NULL };

	incident_detect_feed(d, &in, no_change, NULL);
}

/* save D into the state in a transaction of its own; the save's size */
static guint save(struct tstate *t, struct incident_detect *d)
{
	GByteArray *buf = g_byte_array_new();
	MDB_txn *txn;
	guint len;

	incident_detect_save(d, buf);
	len = buf->len;
	assert_int_equal(state_begin(t->st, true, &txn), 0);
	assert_int_equal(incident_windows_put(t->st, txn, buf->data,
					      buf->len), 0);
	assert_int_equal(state_commit(txn), 0);
	g_byte_array_free(buf, TRUE);
	return len;
}

/* a fresh detector from what the state holds */
static struct incident_detect *load(struct tstate *t)
{
	struct incident_detect *e = incident_detect_new(&Q);
	GByteArray *buf = g_byte_array_new();
	MDB_txn *txn;

	assert_int_equal(state_begin(t->st, false, &txn), 0);
	assert_int_equal(incident_windows_get(t->st, txn, buf), 0);
	state_abort(txn);
	assert_int_equal(incident_detect_load(e, buf->data, buf->len), 0);
	g_byte_array_free(buf, TRUE);
	return e;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* the recipients of the pair in both detectors are the same N */
static void same_rcpts(struct incident_detect *d, struct incident_detect *e,
		       size_t n)
{
	static uint64_t a[4096], b[4096];
	size_t na = incident_detect_rcpts(d, SRC, DST, a, 4096);
	size_t nb = incident_detect_rcpts(e, SRC, DST, b, 4096);

	assert_int_equal(na, n);
	assert_int_equal(nb, n);
	qsort(a, na, sizeof(*a), cmp_u64);
	qsort(b, nb, sizeof(*b), cmp_u64);
	assert_memory_equal(a, b, n * sizeof(*a));
}

/* the meta records whose key starts with PREFIX */
static size_t count_keys(struct tstate *t, const char *prefix)
{
	size_t plen = strlen(prefix), n = 0;
	MDB_val k = { plen, (void *)prefix }, v;
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_dbi dbi;
	int rc;

	assert_int_equal(state_begin(t->st, false, &txn), 0);
	assert_int_equal(state_dbi(t->st, "meta", &dbi), 0);
	assert_int_equal(mdb_cursor_open(txn, dbi, &cur), 0);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
			break;
		n++;
	}
	mdb_cursor_close(cur);
	state_abort(txn);
	return n;
}

/* one more recipient at T for D, saved: the state then holds LOGS log
   records, and a detector loaded from it the N recipients D has */
static void bounce_save_load(struct tstate *t, struct incident_detect *d,
			     int64_t at, uint64_t rcpt, size_t logs, size_t n)
{
	struct incident_detect *e;

	bounce(d, at, rcpt);
	save(t, d);
	assert_int_equal(count_keys(t, "incident.rcpts\037"), logs);
	e = load(t);
	same_rcpts(d, e, n);
	incident_detect_free(e);
}

static void test_only_new_recipients_are_written(void **state)
{
	struct tstate *t = *state;
	struct incident_detect *d = incident_detect_new(&Q), *e;
	guint first, second;
	int i;

	for (i = 0; i < 100; i++)
		bounce(d, T0 + i, 1000 + (uint64_t)i);
	bounce(d, T0 + 99, 1010);	/* seen again: in the window now */
	first = save(t, d);
	/* five more: the save holds those five, not the window's 61 */
	for (i = 100; i < 105; i++)
		bounce(d, T0 + i, 1000 + (uint64_t)i);
	second = save(t, d);
	assert_true(first > 61 * 16);
	assert_true(second < first);
	assert_true(second < 5 * 16 + 512);
	assert_int_equal(count_keys(t, "incident.window\037"), 1);
	e = load(t);
	/* T0 + 104 - 60: seen at T0 + 44 or later, and 1010 */
	same_rcpts(d, e, 62);
	incident_detect_free(e);
	/* a minute later the first save's recipients are all out of the
	   window: its record goes, the second's stays until it is out too */
	bounce_save_load(t, d, T0 + 160, 5000, 2, 6);
	bounce_save_load(t, d, T0 + 300, 5001, 1, 1);
	/* quiet for longer than the window: forgotten, and nothing of it
	   is left in the state */
	incident_detect_advance(d, T0 + 1000, no_change, NULL);
	assert_int_equal(incident_detect_pairs(d), 0);
	save(t, d);
	assert_int_equal(count_keys(t, "incident.rcpts\037"), 0);
	assert_int_equal(count_keys(t, "incident.window\037"), 0);
	e = load(t);
	assert_int_equal(incident_detect_pairs(e), 0);
	incident_detect_free(e);
	incident_detect_free(d);
}

/* append N little-endian bytes of V */
static void le(GByteArray *out, uint64_t v, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		guint8 b = (guint8)(v >> (8 * i));

		g_byte_array_append(out, &b, 1);
	}
}

static void str(GByteArray *out, const char *s)
{
	le(out, strlen(s), 2);
	g_byte_array_append(out, (const guint8 *)s, (guint)strlen(s));
}

static void test_a_save_in_one_piece_is_read_and_rewritten(void **state)
{
	struct tstate *t = *state;
	struct incident_detect *d, *e;
	GByteArray *old = g_byte_array_new();
	MDB_val k = { 16, "incident.windows" }, v;
	MDB_txn *txn;
	MDB_dbi dbi;
	int i;

	/* version 1: one pair, 20 recipients seen at T0 .. T0 + 19 */
	le(old, 1, 1);
	le(old, (uint64_t)(T0 - 5), 8);		/* newest delivery */
	le(old, (uint64_t)(T0 + 19), 8);	/* clock */
	le(old, 1, 4);
	str(old, SRC);
	str(old, DST);
	le(old, (uint64_t)(T0 + 19), 8);	/* the pair's clock */
	le(old, (uint64_t)(T0 + 19), 8);	/* last sender-side bounce */
	le(old, 0, 1);
	le(old, 0, 8);
	le(old, 0, 8);
	le(old, 0, 4);
	le(old, 0, 8);
	le(old, 0, 8);
	le(old, 1, 4);				/* one minute */
	le(old, (uint64_t)(T0 / 60), 8);
	le(old, 20, 4);
	le(old, 0, 4);
	le(old, 0, 4);
	le(old, 20, 4);
	for (i = 0; i < 20; i++) {
		le(old, 7000 + (uint64_t)i, 8);
		le(old, (uint64_t)(T0 + i), 8);
	}
	v.mv_size = old->len;
	v.mv_data = old->data;
	assert_int_equal(state_begin(t->st, true, &txn), 0);
	assert_int_equal(state_dbi(t->st, "meta", &dbi), 0);
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(state_commit(txn), 0);
	g_byte_array_free(old, TRUE);

	d = load(t);
	assert_int_equal(incident_detect_pairs(d), 1);
	/* its next save writes the whole window, once */
	assert_true(save(t, d) > 20 * 16);
	assert_true(save(t, d) < 64);
	assert_int_equal(count_keys(t, "incident.rcpts\037"), 1);
	assert_int_equal(state_begin(t->st, false, &txn), 0);
	assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
	assert_int_equal(v.mv_size, INCIDENT_SAVE_HEAD);
	state_abort(txn);
	e = load(t);
	same_rcpts(d, e, 20);
	incident_detect_free(e);
	incident_detect_free(d);
}

static void test_damaged_changes_write_nothing(void **state)
{
	struct tstate *t = *state;
	struct incident_detect *d = incident_detect_new(&Q);
	GByteArray *buf = g_byte_array_new();
	MDB_txn *txn;
	guint cut;

	bounce(d, T0, 1);
	bounce(d, T0 + 1, 2);
	incident_detect_save(d, buf);
	assert_int_equal(state_begin(t->st, true, &txn), 0);
	for (cut = 0; cut < buf->len; cut++)
		assert_int_equal(incident_windows_put(t->st, txn, buf->data,
						      cut), -EINVAL);
	buf->data[0] = 1;
	assert_int_equal(incident_windows_put(t->st, txn, buf->data,
					      buf->len), -EINVAL);
	assert_int_equal(state_commit(txn), 0);
	assert_int_equal(count_keys(t, "incident.window"), 0);
	g_byte_array_free(buf, TRUE);
	incident_detect_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_only_new_recipients_are_written, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_a_save_in_one_piece_is_read_and_rewritten, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_damaged_changes_write_nothing, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
