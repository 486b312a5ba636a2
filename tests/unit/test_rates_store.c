/*
 * test_rates_store.c - the monitor's counts and alerts in LMDB: minute,
 * hour and day buckets added across flushes, a restart that gives the
 * windows and the alerts up back (and raises nothing twice), alerts of a
 * rule no longer configured dropped, pruning past keeping, and walking a
 * dimension.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rates_store.h"
#include "tstate.h"

#define T0 1767225600	/* 2026-01-01 00:00:00 UTC */
#define RULE "bounce-rate > 5% over 1h per campaign min 100"

static int setup(void **state)
{
	static struct tstate t;

	*state = &t;
	return tstate_setup(&t, "test_rates_store");
}

static int teardown(void **state)
{
	return tstate_teardown(*state);
}

static struct rates *mk(const char *spec)
{
	struct alert_rule rules[ALERT_RULES_MAX];
	size_t n = 0;
	char err[256] = "";

	if (alert_rules_parse(spec, rules, &n, err, sizeof(err)) != 0)
		fail_msg("rules: %s", err);
	return rates_new(NULL, rules, n);
}

static void rec(struct rates *r, int64_t t, enum rates_what what,
		const char *camp)
{
	struct rates_record x;

	memset(&x, 0, sizeof(x));
	x.time = t;
	x.what = what;
	x.names[ALERT_BY_CAMPAIGN] = camp;
	x.names[ALERT_BY_DESTINATION] = "gmail";
	x.where = "acct.csv";
	x.line = 1;
	rates_add(r, &x);
}

static void flush(struct tstate *t, struct rates *r)
{
	MDB_txn *txn;

	assert_int_equal(state_begin(t->st, true, &txn), 0);
	assert_int_equal(rates_store_flush(t->st, txn, r), 0);
	assert_int_equal(state_commit(txn), 0);
	rates_transitions_clear(r);
	rates_pending_clear(r);
}

struct sum {
	const char *name;
	uint64_t c[RATES_COUNTERS];
	int buckets;
};

static int sum_cb(const char *name, int64_t start,
		  const uint64_t c[RATES_COUNTERS], void *arg)
{
	struct sum *s = arg;
	int i;

	(void)start;
	if (s->name && strcmp(name, s->name) != 0)
		return 0;
	for (i = 0; i < RATES_COUNTERS; i++)
		s->c[i] += c[i];
	s->buckets++;
	return 0;
}

static struct sum walk(struct tstate *t, char gran, enum alert_dimension d,
		       const char *name, int64_t since, int64_t until)
{
	struct sum s = { name, { 0 }, 0 };
	MDB_txn *txn;

	assert_int_equal(state_begin(t->st, false, &txn), 0);
	assert_int_equal(rates_store_walk(t->st, txn, gran, d, since, until,
					  sum_cb, &s), 0);
	state_abort(txn);
	return s;
}

static void test_buckets(void **state)
{
	struct tstate *t = *state;
	struct rates *r = mk("");
	struct sum s;
	int i;

	for (i = 0; i < 180; i++)	/* 3 hours, one a minute */
		rec(r, T0 + i * 60, i % 10 ? RATES_DELIVERY : RATES_HARD,
		    "spring");
	flush(t, r);
	for (i = 0; i < 60; i++)	/* the same again: added */
		rec(r, T0 + i * 60 + 30, RATES_SOFT, "spring");
	flush(t, r);
	s = walk(t, 'm', ALERT_BY_CAMPAIGN, "spring", 0, INT64_MAX);
	assert_int_equal(s.buckets, 180);
	assert_int_equal(s.c[RATES_C_DELIVERIES], 162);
	assert_int_equal(s.c[RATES_C_HARD], 18);
	assert_int_equal(s.c[RATES_C_SOFT], 60);
	s = walk(t, 'h', ALERT_BY_CAMPAIGN, "spring", 0, INT64_MAX);
	assert_int_equal(s.buckets, 3);
	assert_int_equal(s.c[RATES_C_SOFT], 60);
	s = walk(t, 'h', ALERT_BY_CAMPAIGN, "spring", T0 + 3600, T0 + 7200);
	assert_int_equal(s.buckets, 1);
	assert_int_equal(s.c[RATES_C_HARD], 6);
	s = walk(t, 'd', ALERT_BY_DESTINATION, "gmail", 0, INT64_MAX);
	assert_int_equal(s.buckets, 1);
	assert_int_equal(s.c[RATES_C_DELIVERIES] + s.c[RATES_C_HARD] +
			 s.c[RATES_C_SOFT], 240);
	/* nothing under another dimension */
	s = walk(t, 'd', ALERT_BY_SOURCE, NULL, 0, INT64_MAX);
	assert_int_equal(s.buckets, 0);
	assert_int_equal(rates_store_gran(T0, T0 + 3600), 'm');
	assert_int_equal(rates_store_gran(T0, T0 + 2 * 86400), 'h');
	assert_int_equal(rates_store_gran(T0, T0 + 40 * 86400), 'd');
	rates_free(r);
}

static int count_alerts(const struct rates_store_alert *a, void *arg)
{
	assert_string_equal(a->rule, RULE);
	assert_int_equal(a->dim, ALERT_BY_CAMPAIGN);
	assert_string_equal(a->name, "spring");
	assert_true(a->rate > 0.05);
	(*(int *)arg)++;
	return 0;
}

static void test_restart(void **state)
{
	struct tstate *t = *state;
	struct rates *r = mk(RULE);
	const struct rates_transition *tr;
	struct alert_counts c;
	MDB_txn *txn;
	int i, n = 0;

	for (i = 0; i < 200; i++)
		rec(r, T0 + i, i % 10 ? RATES_DELIVERY : RATES_HARD, "spring");
	assert_int_equal(rates_transitions(r, &tr), 1);
	assert_true(tr[0].raised);
	flush(t, r);
	rates_free(r);
	assert_int_equal(tstate_reopen(t), 0);
	/* a new monitor of the same rules: the window and the alert back */
	r = mk(RULE);
	assert_int_equal(state_begin(t->st, true, &txn), 0);
	assert_int_equal(rates_store_load(t->st, txn, r), 0);
	assert_int_equal(rates_store_alerts(t->st, txn, count_alerts, &n), 0);
	assert_int_equal(state_commit(txn), 0);
	assert_int_equal(n, 1);
	assert_int_equal(rates_now(r), T0 + 199);
	assert_true(rates_raised(r, 0, "spring"));
	assert_true(rates_window(r, ALERT_BY_CAMPAIGN, "spring", 3600, &c));
	assert_int_equal(c.deliveries, 180);
	assert_int_equal(c.hard, 20);
	/* counting on: no second raise; deliveries clear it, and the clear
	   is stored */
	rec(r, T0 + 200, RATES_HARD, "spring");
	assert_int_equal(rates_transitions(r, &tr), 0);
	for (i = 0; i < 1000 && rates_transitions(r, &tr) == 0; i++)
		rec(r, T0 + 201 + i, RATES_DELIVERY, "spring");
	assert_int_equal(rates_transitions(r, &tr), 1);
	assert_false(tr[0].raised);
	flush(t, r);
	n = 0;
	assert_int_equal(state_begin(t->st, false, &txn), 0);
	assert_int_equal(rates_store_alerts(t->st, txn, count_alerts, &n), 0);
	state_abort(txn);
	assert_int_equal(n, 0);
	rates_free(r);
}

static void test_rule_gone(void **state)
{
	struct tstate *t = *state;
	struct rates *r = mk(RULE);
	MDB_txn *txn;
	int i, n = 0;

	for (i = 0; i < 200; i++)
		rec(r, T0 + i, i % 10 ? RATES_DELIVERY : RATES_HARD, "spring");
	flush(t, r);
	rates_free(r);
	/* the rule is now written differently: the old alert is dropped */
	r = mk("bounce-rate > 6% over 1h per campaign min 100");
	assert_int_equal(state_begin(t->st, true, &txn), 0);
	assert_int_equal(rates_store_load(t->st, txn, r), 0);
	assert_int_equal(state_commit(txn), 0);
	assert_false(rates_raised(r, 0, "spring"));
	assert_int_equal(state_begin(t->st, false, &txn), 0);
	assert_int_equal(rates_store_alerts(t->st, txn, count_alerts, &n), 0);
	state_abort(txn);
	assert_int_equal(n, 0);
	rates_free(r);
}

static void test_prune(void **state)
{
	struct tstate *t = *state;
	struct rates *r = mk("");
	struct sum s;

	rec(r, T0, RATES_DELIVERY, "old");
	flush(t, r);
	/* two days later: the old minutes are gone, the hours and the day
	   stay */
	rec(r, T0 + 2 * 86400, RATES_DELIVERY, "new");
	flush(t, r);
	s = walk(t, 'm', ALERT_BY_CAMPAIGN, "old", 0, INT64_MAX);
	assert_int_equal(s.buckets, 0);
	s = walk(t, 'h', ALERT_BY_CAMPAIGN, "old", 0, INT64_MAX);
	assert_int_equal(s.buckets, 1);
	/* forty days later the hours go too */
	rec(r, T0 + 40 * 86400, RATES_DELIVERY, "newer");
	flush(t, r);
	s = walk(t, 'h', ALERT_BY_CAMPAIGN, "old", 0, INT64_MAX);
	assert_int_equal(s.buckets, 0);
	s = walk(t, 'd', ALERT_BY_CAMPAIGN, "old", 0, INT64_MAX);
	assert_int_equal(s.buckets, 1);
	s = walk(t, 'm', ALERT_BY_CAMPAIGN, "newer", 0, INT64_MAX);
	assert_int_equal(s.buckets, 1);
	/* a late record older than a day is not written as a minute */
	rec(r, T0 + 38 * 86400, RATES_DELIVERY, "late");
	flush(t, r);
	s = walk(t, 'm', ALERT_BY_CAMPAIGN, "late", 0, INT64_MAX);
	assert_int_equal(s.buckets, 0);
	s = walk(t, 'h', ALERT_BY_CAMPAIGN, "late", 0, INT64_MAX);
	assert_int_equal(s.buckets, 1);
	rates_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_buckets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rule_gone, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
