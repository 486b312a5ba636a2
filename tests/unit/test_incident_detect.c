/*
 * test_incident_detect.c - the windows behind incidents: an incident opens
 * at the record that brings the distinct recipients of sender-side
 * bounces of one source at one destination to the minimum within the
 * window (and, with delivery records read, their share of the attempts to
 * the minimum); never for one recipient refusing again and again, for
 * bounces spread thinner than the window, or for a few sender-side
 * bounces among many deliveries.  It closes after the quiet time, or when
 * deliveries come back; pairs are independent; restore brings an open
 * incident back after a restart.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>

#include "incident_detect.h"

#define T0 1700000000
#undef MIN
#define MIN 60

static const struct incident_params P = { 1800, 10, 0.2, 7200 };

struct seen {
	int opened, closed;
	struct incident_transition last;
	char source[64], dest[64];
};

static void record(const struct incident_transition *t, void *arg)
{
	struct seen *s = arg;

	if (t->change == INCIDENT_OPENED)
		s->opened++;
	else
		s->closed++;
	s->last = *t;
	snprintf(s->source, sizeof(s->source), "%s", t->source);
	snprintf(s->dest, sizeof(s->dest), "%s", t->dest);
}

static void feed(struct incident_detect *d, struct seen *s, const char *src,
		 const char *dest, int64_t t, enum incident_what what,
		 uint64_t rcpt)
{
	struct incident_input in = { src, dest, t, what, rcpt, NULL };

	incident_detect_feed(d, &in, record, s);
}

static void test_opens_at_tenth_recipient(void **state)
{
	struct incident_detect *d = incident_detect_new(&P);
	struct seen s = { 0 };
	int i;

	(void)state;
	for (i = 0; i < 9; i++)
		feed(d, &s, "192.0.2.7", "gmail", T0 + i * MIN,
		     INCIDENT_SENDER_BOUNCE, 100 + i);
	assert_int_equal(s.opened, 0);
	assert_false(incident_detect_open(d, "192.0.2.7", "gmail"));
	feed(d, &s, "192.0.2.7", "gmail", T0 + 9 * MIN,
	     INCIDENT_SENDER_BOUNCE, 109);
	assert_int_equal(s.opened, 1);
	assert_string_equal(s.source, "192.0.2.7");
	assert_string_equal(s.dest, "gmail");
	/* it covers from the first bounce of the window */
	assert_true(s.last.first_time == T0);
	assert_true(s.last.open_time == T0 + 9 * MIN);
	assert_int_equal(s.last.recipients, 10);
	assert_true(incident_detect_open(d, "192.0.2.7", "gmail"));
	/* more bounces do not open it again */
	feed(d, &s, "192.0.2.7", "gmail", T0 + 10 * MIN,
	     INCIDENT_SENDER_BOUNCE, 110);
	assert_int_equal(s.opened, 1);
	/* another source, another destination: their own windows */
	assert_false(incident_detect_open(d, "192.0.2.8", "gmail"));
	assert_false(incident_detect_open(d, "192.0.2.7", "yahoo"));
	incident_detect_free(d);
}

static void test_not_an_incident(void **state)
{
	struct incident_detect *d = incident_detect_new(&P);
	struct seen s = { 0 };
	int i;

	(void)state;
	/* one recipient refusing us 50 times */
	for (i = 0; i < 50; i++)
		feed(d, &s, "192.0.2.7", "gmail", T0 + i,
		     INCIDENT_SENDER_BOUNCE, 42);
	/* ten recipients, but one every 15 minutes: never 10 in 30 */
	for (i = 0; i < 10; i++)
		feed(d, &s, "192.0.2.9", "gmail", T0 + i * 15 * MIN,
		     INCIDENT_SENDER_BOUNCE, 200 + i);
	/* other bounces and deliveries never open one */
	for (i = 0; i < 50; i++) {
		feed(d, &s, "192.0.2.10", "gmail", T0 + i,
		     INCIDENT_OTHER_BOUNCE, 300 + i);
		feed(d, &s, "192.0.2.10", "gmail", T0 + i,
		     INCIDENT_DELIVERY, 0);
	}
	assert_int_equal(s.opened, 0);
	incident_detect_free(d);
}

static void test_share_with_deliveries(void **state)
{
	struct incident_detect *d = incident_detect_new(&P);
	struct seen s = { 0 };
	int i;

	(void)state;
	/* delivery records are read: ten sender-side bounces among 100
	   deliveries are 9 % of the attempts: no incident */
	feed(d, &s, "192.0.2.7", "gmail", T0, INCIDENT_DELIVERY, 0);
	feed(d, &s, "192.0.2.7", "gmail", T0, INCIDENT_SENDER_BOUNCE, 1);
	for (i = 0; i < 100; i++)
		feed(d, &s, "192.0.2.7", "gmail", T0 + i, INCIDENT_DELIVERY, 0);
	for (i = 2; i <= 10; i++)
		feed(d, &s, "192.0.2.7", "gmail", T0 + 100 + i,
		     INCIDENT_SENDER_BOUNCE, (uint64_t)i);
	assert_int_equal(s.opened, 0);
	/* the same bounces with few deliveries: 10 of 15 */
	feed(d, &s, "192.0.2.8", "gmail", T0, INCIDENT_SENDER_BOUNCE, 1);
	for (i = 0; i < 5; i++)
		feed(d, &s, "192.0.2.8", "gmail", T0 + i, INCIDENT_DELIVERY, 0);
	for (i = 2; i <= 10; i++)
		feed(d, &s, "192.0.2.8", "gmail", T0 + 10 + i,
		     INCIDENT_SENDER_BOUNCE, (uint64_t)i);
	assert_int_equal(s.opened, 1);
	assert_string_equal(s.source, "192.0.2.8");
	incident_detect_free(d);
}

/* open_one - an incident of 192.0.2.7 at gmail opened at T0 + 9 min */
static void open_one(struct incident_detect *d, struct seen *s)
{
	int i;

	for (i = 0; i < 10; i++)
		feed(d, s, "192.0.2.7", "gmail", T0 + i * MIN,
		     INCIDENT_SENDER_BOUNCE, 100 + i);
	assert_int_equal(s->opened, 1);
}

static void test_closes_after_quiet(void **state)
{
	struct incident_detect *d = incident_detect_new(&P);
	struct seen s = { 0 };

	(void)state;
	open_one(d, &s);
	/* still bouncing an hour later: open */
	feed(d, &s, "192.0.2.7", "gmail", T0 + 69 * MIN,
	     INCIDENT_SENDER_BOUNCE, 500);
	feed(d, &s, "192.0.2.7", "gmail", T0 + 4 * 3600,
	     INCIDENT_OTHER_BOUNCE, 501);
	/* four hours after: quiet since 69 min for more than 2 h */
	assert_int_equal(s.closed, 1);
	assert_true(s.last.close_time == T0 + 69 * MIN + 7200);
	assert_false(s.last.recovered);
	assert_true(s.last.bounces >= 11);
	assert_false(incident_detect_open(d, "192.0.2.7", "gmail"));
	incident_detect_free(d);
}

static void test_advance_closes_and_forgets(void **state)
{
	struct incident_detect *d = incident_detect_new(&P);
	struct seen s = { 0 };

	(void)state;
	open_one(d, &s);
	feed(d, &s, "192.0.2.9", "yahoo", T0, INCIDENT_SENDER_BOUNCE, 7);
	assert_int_equal(incident_detect_pairs(d), 2);
	incident_detect_advance(d, T0 + 9 * MIN + 3600, record, &s);
	assert_int_equal(s.closed, 0);
	/* the yahoo pair had one bounce long ago: forgotten */
	assert_int_equal(incident_detect_pairs(d), 1);
	incident_detect_advance(d, T0 + 9 * MIN + 7200, record, &s);
	assert_int_equal(s.closed, 1);
	incident_detect_advance(d, T0 + 9 * MIN + 7200 + 1801, record, &s);
	assert_int_equal(incident_detect_pairs(d), 0);
	incident_detect_free(d);
}

/* test_records_forget_idle_pairs - the pairs of a run over many
   destinations are forgotten as record time passes them by (not only by
   the worker's clock); an open incident's pair and a pair with records
   in the window stay */
static void test_records_forget_idle_pairs(void **state)
{
	struct incident_detect *d = incident_detect_new(&P);
	struct seen s = { 0 };
	char dest[32];
	int i;

	(void)state;
	open_one(d, &s);
	for (i = 0; i < 1000; i++) {
		snprintf(dest, sizeof(dest), "d%04d.example", i);
		feed(d, &s, "192.0.2.9", dest, T0 + i, INCIDENT_SENDER_BOUNCE,
		     100 + (uint64_t)i);
	}
	assert_int_equal(incident_detect_pairs(d), 1001);
	/* an hour on, still inside the open incident's quiet time */
	feed(d, &s, "192.0.2.8", "gmail", T0 + 3600, INCIDENT_DELIVERY, 5);
	feed(d, &s, "192.0.2.8", "gmail", T0 + 3601, INCIDENT_SENDER_BOUNCE, 5);
	assert_int_equal(s.closed, 0);
	assert_int_equal(incident_detect_pairs(d), 2);
	assert_true(incident_detect_open(d, s.source, s.dest));
	incident_detect_free(d);
}

static void test_closes_when_deliveries_resume(void **state)
{
	struct incident_detect *d = incident_detect_new(&P);
	struct seen s = { 0 };
	int i;

	(void)state;
	feed(d, &s, "192.0.2.7", "gmail", T0 - 10, INCIDENT_DELIVERY, 0);
	open_one(d, &s);
	/* half an hour later, deliveries flow and bounces are rare */
	for (i = 0; i < 60; i++)
		feed(d, &s, "192.0.2.7", "gmail", T0 + 45 * MIN + i,
		     INCIDENT_DELIVERY, 0);
	assert_int_equal(s.closed, 1);
	assert_true(s.last.recovered);
	assert_true(s.last.close_time >= T0 + 45 * MIN);
	incident_detect_free(d);
}

/* test_first_refused_again - the first recipient refused is refused
   again before the incident opens: the incident still starts with the
   minute of its first refusal, not with the oldest last sighting */
static void test_first_refused_again(void **state)
{
	struct incident_detect *d = incident_detect_new(&P);
	struct seen s = { 0 };
	int i;

	(void)state;
	feed(d, &s, "192.0.2.7", "gmail", T0, INCIDENT_SENDER_BOUNCE, 100);
	for (i = 1; i < 9; i++)
		feed(d, &s, "192.0.2.7", "gmail", T0 + i * MIN,
		     INCIDENT_SENDER_BOUNCE, 100 + i);
	feed(d, &s, "192.0.2.7", "gmail", T0 + 9 * MIN,
	     INCIDENT_SENDER_BOUNCE, 100);
	assert_int_equal(s.opened, 0);
	feed(d, &s, "192.0.2.7", "gmail", T0 + 10 * MIN,
	     INCIDENT_SENDER_BOUNCE, 109);
	assert_int_equal(s.opened, 1);
	assert_true(s.last.first_time <= T0);
	assert_true(s.last.first_time > T0 - MIN);
	assert_true(s.last.first_time == T0 / MIN * MIN);
	incident_detect_free(d);

	/* a sender-side bounce in the minute the window's start cuts, its
	   recipient gone from the window: not the start of the block that
	   comes a window later */
	d = incident_detect_new(&P);
	memset(&s, 0, sizeof(s));
	feed(d, &s, "192.0.2.7", "gmail", T0 + 10, INCIDENT_SENDER_BOUNCE, 1);
	feed(d, &s, "192.0.2.7", "gmail", T0 + 1000, INCIDENT_OTHER_BOUNCE, 2);
	for (i = 0; i < 10; i++)
		feed(d, &s, "192.0.2.7", "gmail", T0 + 1815 + i,
		     INCIDENT_SENDER_BOUNCE, 200 + i);
	assert_int_equal(s.opened, 1);
	assert_true(s.last.first_time == T0 + 1815);
	incident_detect_free(d);
}

static void test_restore(void **state)
{
	struct incident_detect *d = incident_detect_new(&P);
	struct seen s = { 0 };

	(void)state;
	incident_detect_restore(d, "192.0.2.7", "gmail", T0, T0 + 600,
				T0 + 900);
	assert_true(incident_detect_open(d, "192.0.2.7", "gmail"));
	assert_int_equal(s.opened, 0);
	feed(d, &s, "192.0.2.7", "gmail", T0 + 1000, INCIDENT_SENDER_BOUNCE, 3);
	assert_int_equal(s.closed, 0);
	incident_detect_advance(d, T0 + 1000 + 7200, record, &s);
	assert_int_equal(s.closed, 1);
	assert_true(s.last.first_time == T0);
	incident_detect_free(d);
}

static void test_out_of_order_and_bad_input(void **state)
{
	struct incident_detect *d = incident_detect_new(&P);
	struct incident_params bad = P;
	struct seen s = { 0 };
	int i;

	(void)state;
	for (i = 0; i < 9; i++)
		feed(d, &s, "192.0.2.7", "gmail", T0 + 3600 + i,
		     INCIDENT_SENDER_BOUNCE, 100 + i);
	/* a record from before the window does not count */
	feed(d, &s, "192.0.2.7", "gmail", T0, INCIDENT_SENDER_BOUNCE, 99);
	assert_int_equal(s.opened, 0);
	/* a little out of order, inside the window, does */
	feed(d, &s, "192.0.2.7", "gmail", T0 + 3000, INCIDENT_SENDER_BOUNCE,
	     98);
	assert_int_equal(s.opened, 1);
	assert_true(s.last.first_time == T0 + 3000);
	/* no source or destination: nothing */
	feed(d, &s, "", "gmail", T0, INCIDENT_SENDER_BOUNCE, 1);
	feed(d, &s, "192.0.2.7", NULL, T0, INCIDENT_SENDER_BOUNCE, 1);
	incident_detect_free(d);
	bad.min_recipients = 0;
	assert_null(incident_detect_new(&bad));
	bad = P;
	bad.min_share = 1.5;
	assert_null(incident_detect_new(&bad));
	assert_null(incident_detect_new(NULL));
}

/* has - is H among the N hashes of OUT */
static bool has(const uint64_t *out, size_t n, uint64_t h)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (out[i] == h)
			return true;
	return false;
}

/* the window's recipients: those last seen before it are forgotten, one
   seen again stays (its first sighting, older, does not take it out), and
   the window moving on a second at a time forgets them a few at a time;
   saved and loaded, the same ones are kept */
static void test_recipients_leave_the_window(void **state)
{
	/* never opens: every sender-side bounce prunes the window */
	static const struct incident_params Q = { 60, 100000, 0.2, 7200 };
	struct incident_detect *d = incident_detect_new(&Q), *e;
	struct seen s = { 0 };
	uint64_t out[256];
	GByteArray *buf;
	size_t n;
	int i;

	(void)state;
	for (i = 0; i < 100; i++) {
		feed(d, &s, "192.0.2.7", "gmail", T0 + i,
		     INCIDENT_SENDER_BOUNCE, 1000 + (uint64_t)i);
		if (i == 50)	/* 1000 again: last seen at T0 + 50 */
			feed(d, &s, "192.0.2.7", "gmail", T0 + i,
			     INCIDENT_SENDER_BOUNCE, 1000);
	}
	/* T0 + 99 - 60: seen at T0 + 39 or later, and 1000 */
	n = incident_detect_rcpts(d, "192.0.2.7", "gmail", out, 256);
	assert_int_equal(n, 62);
	assert_true(has(out, n, 1000));
	assert_false(has(out, n, 1001));
	assert_false(has(out, n, 1038));
	assert_true(has(out, n, 1039));
	assert_true(has(out, n, 1099));
	/* saved and loaded: the same window, pruned the same way later */
	buf = g_byte_array_new();
	incident_detect_save(d, buf);
	e = incident_detect_new(&Q);
	assert_int_equal(incident_detect_load(e, buf->data, buf->len), 0);
	g_byte_array_free(buf, TRUE);
	for (i = 100; i < 112; i++) {
		feed(d, &s, "192.0.2.7", "gmail", T0 + i,
		     INCIDENT_SENDER_BOUNCE, 1000 + (uint64_t)i);
		feed(e, &s, "192.0.2.7", "gmail", T0 + i,
		     INCIDENT_SENDER_BOUNCE, 1000 + (uint64_t)i);
	}
	/* T0 + 111 - 60: 1000 (T0 + 50) is gone now, T0 + 51 on stay */
	n = incident_detect_rcpts(d, "192.0.2.7", "gmail", out, 256);
	assert_int_equal(n, 61);
	assert_false(has(out, n, 1000));
	assert_false(has(out, n, 1050));
	assert_true(has(out, n, 1051));
	n = incident_detect_rcpts(e, "192.0.2.7", "gmail", out, 256);
	assert_int_equal(n, 61);
	assert_false(has(out, n, 1000));
	assert_true(has(out, n, 1051));
	assert_int_equal(s.opened, 0);
	incident_detect_free(d);
	incident_detect_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_opens_at_tenth_recipient),
		cmocka_unit_test(test_not_an_incident),
		cmocka_unit_test(test_share_with_deliveries),
		cmocka_unit_test(test_closes_after_quiet),
		cmocka_unit_test(test_advance_closes_and_forgets),
		cmocka_unit_test(test_records_forget_idle_pairs),
		cmocka_unit_test(test_closes_when_deliveries_resume),
		cmocka_unit_test(test_first_refused_again),
		cmocka_unit_test(test_restore),
		cmocka_unit_test(test_out_of_order_and_bad_input),
		cmocka_unit_test(test_recipients_leave_the_window),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
