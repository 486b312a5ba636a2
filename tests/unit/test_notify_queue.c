/*
 * test_notify_queue.c - the operator's mail queue in the state: an item
 * that does not decode (written by a later release, or damaged) is left
 * out of the mail with a warning that names it, the items around it are
 * mailed, and dropping what was mailed drops it too.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>
#include <lmdb.h>

#include "log.h"
#include "notify.h"
#include "notify_queue.h"
#include "state.h"
#include "tlog.h"

/* the sequence the damaged item is stored under: after the good one */
#define BAD_SEQ 100

static int setup(void **state)
{
	struct tlogged *c = g_new0(struct tlogged, 1);

	if (tlogged_setup(c, "bounced-notifyq", BLOG_INFO) != 0)
		return -1;
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct tlogged *c = *state;
	int rc = tlogged_teardown(c);

	g_free(c);
	return rc;
}

/* peek - the queue's oldest items (at most 4) into OUT */
static void peek(struct tlogged *c, struct notify_item *out, size_t *n,
		 uint64_t *last, uint64_t *total)
{
	MDB_txn *txn = NULL;

	assert_int_equal(state_begin(c->t.st, false, &txn), 0);
	assert_int_equal(notify_queue_peek(c->t.st, txn, out, 4, n, last,
					   total),
			 0);
	state_abort(txn);
}

static void test_undecodable_item_left_out_with_a_warning(void **state)
{
	struct tlogged *c = *state;
	struct notify_item it, out[4];
	uint8_t key[8] = { 0 };
	uint64_t last = 0, total = 0;
	MDB_txn *txn = NULL;
	size_t n = 0;
	char *text;

	memset(&it, 0, sizeof(it));
	it.time = 1790000000;
	snprintf(it.kind, sizeof(it.kind), "complaint");
	snprintf(it.addr, sizeof(it.addr), "anna@example.com");
	assert_int_equal(state_begin(c->t.st, true, &txn), 0);
	assert_int_equal(notify_queue_add(c->t.st, txn, &it), 0);
	/* a value of an unknown layout under a later sequence */
	key[7] = BAD_SEQ;
	assert_int_equal(tstate_put_raw(c->t.st, txn, "notify", key,
					sizeof(key), "\x7f\x00", 2),
			 0);
	assert_int_equal(state_commit(txn), 0);

	peek(c, out, &n, &last, &total);
	assert_int_equal(n, 1);
	assert_string_equal(out[0].addr, "anna@example.com");
	assert_int_equal(total, 2);
	assert_int_equal(last, BAD_SEQ);
	text = tlog_text(c->log);
	assert_non_null(text);
	if (tlog_count(text, "warning notify: queued item 100 of the "
			     "operator's mail does not decode: it is left "
			     "out") != 1)
		fail_msg("log:\n%s", text);
	g_free(text);

	/* what was mailed is dropped, the damaged item with it */
	assert_int_equal(state_begin(c->t.st, true, &txn), 0);
	assert_int_equal(notify_queue_drop(c->t.st, txn, last), 0);
	assert_int_equal(state_commit(txn), 0);
	peek(c, out, &n, &last, &total);
	assert_int_equal(n, 0);
	assert_int_equal(total, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_undecodable_item_left_out_with_a_warning, setup,
			teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
