/*
 * test_rcpt_dropped.c - the held hard bounces an incident did not apply,
 * kept on the recipient record: a span per source from the incident's
 * start to the bounce dropped, spans of a source that meet joined (also
 * two a new one bridges), the one that ends first gone when there is no
 * room; what a span covers (its source, its times, nothing else); a
 * covered bounce read again counted as a duplicate, the status kept;
 * forget leaves the spans.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rcpt_dropped.h"

#define T0 1795514400	/* 2026-11-24 10:00:00 */
#define SRC_A 0x11111111u
#define SRC_B 0x22222222u

static void test_add_and_cover(void **state)
{
	struct rcpt r;

	(void)state;
	rcpt_init(&r);
	/* incident 3 from T0, the bounce held at T0 + 900 */
	assert_true(rcpt_dropped_add(&r, 3, SRC_A, T0, T0 + 900));
	assert_int_equal(r.n_dropped, 1);
	assert_true(r.dropped[0].incident == 3);
	assert_true(r.dropped[0].from == T0 && r.dropped[0].to == T0 + 900);
	/* its source, within the span, ends included */
	assert_true(rcpt_dropped_covers(&r, SRC_A, T0));
	assert_true(rcpt_dropped_covers(&r, SRC_A, T0 + 600));
	assert_true(rcpt_dropped_covers(&r, SRC_A, T0 + 900));
	/* not after the bounce, nor before the incident, nor another
	   source, nor a record of no source */
	assert_false(rcpt_dropped_covers(&r, SRC_A, T0 + 901));
	assert_false(rcpt_dropped_covers(&r, SRC_A, T0 - 1));
	assert_false(rcpt_dropped_covers(&r, SRC_B, T0 + 600));
	assert_false(rcpt_dropped_covers(&r, 0, T0 + 600));
	/* the same again changes nothing (the record need not be written) */
	assert_false(rcpt_dropped_add(&r, 3, SRC_A, T0, T0 + 900));
	assert_false(rcpt_dropped_add(&r, 3, SRC_A, T0 + 60, T0 + 600));
	/* no source: nothing an incident has */
	assert_false(rcpt_dropped_add(&r, 3, 0, T0, T0 + 900));
	assert_int_equal(r.n_dropped, 1);
	/* a hold read late, older than the incident's start, covers
	   itself */
	rcpt_init(&r);
	assert_true(rcpt_dropped_add(&r, 4, SRC_A, T0, T0 - 30));
	assert_true(r.dropped[0].from == T0 - 30 && r.dropped[0].to == T0 - 30);
}

static void test_join(void **state)
{
	struct rcpt r;

	(void)state;
	rcpt_init(&r);
	/* a delivery dropped the hold at +900; a later hold of the same
	   incident, discarded at +3600: one span */
	assert_true(rcpt_dropped_add(&r, 3, SRC_A, T0, T0 + 900));
	assert_true(rcpt_dropped_add(&r, 3, SRC_A, T0, T0 + 3600));
	assert_int_equal(r.n_dropped, 1);
	assert_true(r.dropped[0].from == T0 && r.dropped[0].to == T0 + 3600);
	/* another source keeps its own */
	assert_true(rcpt_dropped_add(&r, 5, SRC_B, T0, T0 + 60));
	assert_int_equal(r.n_dropped, 2);
	/* a later incident of the first source, apart: a span of its own */
	assert_true(rcpt_dropped_add(&r, 9, SRC_A, T0 + 86400,
				     T0 + 86400 + 60));
	assert_int_equal(r.n_dropped, 3);
	assert_false(rcpt_dropped_covers(&r, SRC_A, T0 + 7200));
	/* one that bridges both of the first source joins them, and names
	   the latest incident */
	assert_true(rcpt_dropped_add(&r, 7, SRC_A, T0 + 3000, T0 + 86400));
	assert_int_equal(r.n_dropped, 2);
	assert_true(rcpt_dropped_covers(&r, SRC_A, T0 + 7200));
	assert_true(rcpt_dropped_covers(&r, SRC_B, T0 + 30));
	{
		const struct rcpt_dropped *a =
			r.dropped[0].src == SRC_A ? &r.dropped[0] :
						    &r.dropped[1];

		assert_true(a->from == T0 && a->to == T0 + 86400 + 60);
		assert_true(a->incident == 9);
	}
}

static void test_room(void **state)
{
	struct rcpt r;
	uint32_t i;

	(void)state;
	rcpt_init(&r);
	/* RCPT_DROPPED_MAX days of one source, apart */
	for (i = 0; i < RCPT_DROPPED_MAX; i++)
		assert_true(rcpt_dropped_add(&r, 10 + i, SRC_A,
					     T0 + 86400 * (int64_t)i,
					     T0 + 86400 * (int64_t)i + 60));
	assert_int_equal(r.n_dropped, RCPT_DROPPED_MAX);
	/* one more: the span that ends first goes */
	assert_true(rcpt_dropped_add(&r, 99, SRC_A, T0 + 86400 * 9,
				     T0 + 86400 * 9 + 60));
	assert_int_equal(r.n_dropped, RCPT_DROPPED_MAX);
	assert_false(rcpt_dropped_covers(&r, SRC_A, T0 + 30));
	for (i = 1; i < RCPT_DROPPED_MAX; i++)
		assert_true(rcpt_dropped_covers(&r, SRC_A,
						T0 + 86400 * (int64_t)i + 30));
	assert_true(rcpt_dropped_covers(&r, SRC_A, T0 + 86400 * 9 + 30));
	/* the spans left encode (none emptied in the middle) */
	for (i = 0; i < r.n_dropped; i++)
		assert_true(r.dropped[i].src == SRC_A &&
			    r.dropped[i].from <= r.dropped[i].to);
}

static void test_apply(void **state)
{
	struct rcpt r;
	struct event ev;

	(void)state;
	rcpt_init(&r);
	r.updated = r.first_seen = T0 + 900;
	r.cnt_hard = 1;
	assert_true(rcpt_dropped_add(&r, 3, SRC_A, T0, T0 + 900));
	memset(&ev, 0, sizeof(ev));
	ev.kind = EV_BOUNCE;
	ev.klass = CLASS_HARD;
	ev.time = T0 + 900;
	ev.bounce_cat = "bad-mailbox";
	ev.src_hash = SRC_A;
	assert_int_equal(rcpt_dropped_apply(&r, &ev), OUT_DUPLICATE);
	assert_int_equal(r.status, RCPT_ACTIVE);
	assert_int_equal(r.cnt_hard, 2);
	assert_int_equal(r.cnt_duplicate, 1);
	assert_string_equal(r.last_category, "bad-mailbox");
	assert_true(r.updated == T0 + 900 && r.first_seen == T0 + 900);
	assert_int_equal(r.n_actions, 0);
	assert_int_equal(r.n_dropped, 1);
	/* forget makes the address active again, the spans stay */
	r.status = RCPT_HARD;
	rcpt_forget(&r);
	assert_int_equal(r.status, RCPT_ACTIVE);
	assert_true(rcpt_dropped_covers(&r, SRC_A, T0 + 900));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_and_cover),
		cmocka_unit_test(test_join),
		cmocka_unit_test(test_room),
		cmocka_unit_test(test_apply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
