/*
 * test_rates.c - the live windows and alerts: a complaint spike at one
 * destination raised at the record that crossed, a campaign's bounce
 * spike raised then cleared as time passes, no flapping at the line, the
 * windows' sums against a count by hand, top-N admission with "(other)",
 * pending deltas per name and minute, a restore that does not raise again,
 * hostile names, and every transition of a long mixed run at exactly the
 * record a judge of every rule at every record gives.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "classify.h"
#include "rates.h"

#define T0 1767225600	/* 2026-01-01 00:00:00 UTC */

static struct rates *mk(const char *spec, unsigned top)
{
	struct alert_rule rules[ALERT_RULES_MAX];
	struct rates_params p = { .top = top };
	size_t n = 0;
	char err[256] = "";

	if (alert_rules_parse(spec, rules, &n, err, sizeof(err)) != 0)
		fail_msg("rules: %s", err);
	return rates_new(&p, rules, n);
}

static void rec(struct rates *r, int64_t t, enum rates_what what,
		bool sender, const char *camp, const char *dest,
		const char *src, uint64_t line)
{
	struct rates_record x;

	memset(&x, 0, sizeof(x));
	x.time = t;
	x.what = what;
	x.sender_side = sender;
	x.names[ALERT_BY_CAMPAIGN] = camp;
	x.names[ALERT_BY_DESTINATION] = dest;
	x.names[ALERT_BY_SOURCE] = src;
	x.names[ALERT_BY_SENDER] = "example.com";
	x.cause = what == RATES_HARD ? "bad-mailbox" :
		  what == RATES_SOFT ? "policy-related" : NULL;
	x.where = "acct-1.csv";
	x.line = line;
	rates_add(r, &x);
}

static void test_complaint_spike(void **state)
{
	struct rates *r = mk("complaint-rate > 0.3% over 24h per destination "
			     "min 1000", 0);
	const struct rates_transition *t;
	uint64_t line = 0;
	int i;

	(void)state;
	for (i = 0; i < 2000; i++) {
		rec(r, T0 + i, RATES_DELIVERY, false, "c1",
		    i % 2 ? "gmail" : "yahoo", "10.0.0.1", ++line);
	}
	/* gmail has 1000 deliveries: 3 complaints is 0.3%, not over */
	for (i = 0; i < 3; i++)
		rec(r, T0 + 2000 + i, RATES_COMPLAINT, false, "c1", "gmail",
		    "10.0.0.1", ++line);
	assert_int_equal(rates_transitions(r, &t), 0);
	rec(r, T0 + 2010, RATES_COMPLAINT, false, "c1", "gmail", "10.0.0.1",
	    ++line);
	assert_int_equal(rates_transitions(r, &t), 1);
	assert_true(t[0].raised);
	assert_int_equal(t[0].dim, ALERT_BY_DESTINATION);
	assert_string_equal(t[0].name, "gmail");
	assert_int_equal(t[0].line, line);
	assert_string_equal(t[0].where, "acct-1.csv");
	assert_int_equal(t[0].volume, 1000);
	assert_int_equal(t[0].counts.complaints, 4);
	assert_true(t[0].rate > 0.00399 && t[0].rate < 0.00401);
	assert_int_equal(t[0].ncauses, 1);
	assert_string_equal(t[0].causes[0].what, "complaint");
	assert_int_equal(t[0].causes[0].n, 4);
	assert_true(rates_raised(r, 0, "gmail"));
	assert_false(rates_raised(r, 0, "yahoo"));
	rates_transitions_clear(r);
	/* more complaints keep it up without a second transition */
	rec(r, T0 + 2020, RATES_COMPLAINT, false, "c1", "gmail", "10.0.0.1",
	    ++line);
	assert_int_equal(rates_transitions(r, &t), 0);
	/* a day and a half later, with no records, the window is empty:
	   the volume is under the minimum, the alert clears */
	rates_advance(r, T0 + 36 * 3600);
	assert_int_equal(rates_transitions(r, &t), 1);
	assert_false(t[0].raised);
	assert_string_equal(t[0].name, "gmail");
	assert_string_equal(t[0].where, "");
	assert_int_equal(t[0].time, T0 + 36 * 3600);
	assert_false(rates_raised(r, 0, "gmail"));
	rates_free(r);
}

static void test_bounce_spike_and_hysteresis(void **state)
{
	struct rates *r = mk("bounce-rate > 5% over 1h per campaign min 500",
			     0);
	const struct rates_transition *t;
	size_t nt;
	uint64_t line = 0;
	int i, raised = 0, cleared = 0;

	(void)state;
	for (i = 0; i < 950; i++)
		rec(r, T0 + i, RATES_DELIVERY, false, "spring", "gmail",
		    "10.0.0.1", ++line);
	for (i = 0; i < 50; i++)	/* exactly 5%: not over */
		rec(r, T0 + 950 + i, RATES_HARD, false, "spring", "gmail",
		    "10.0.0.1", ++line);
	assert_int_equal(rates_transitions(r, &t), 0);
	rec(r, T0 + 1000, RATES_HARD, false, "spring", "gmail", "10.0.0.1",
	    ++line);
	nt = rates_transitions(r, &t);
	assert_int_equal(nt, 1);
	assert_true(t[0].raised);
	assert_int_equal(t[0].line, 1001);
	assert_string_equal(t[0].causes[0].what, "bad-mailbox");
	assert_int_equal(t[0].causes[0].n, 51);
	rates_transitions_clear(r);
	/* hovering around 5%: deliveries and bounces alternate, the rate
	   stays above 4% (0.8 x 5%): no clear, no second raise */
	for (i = 0; i < 400; i++)
		rec(r, T0 + 1001 + i, i % 20 ? RATES_DELIVERY : RATES_HARD,
		    false, "spring", "gmail", "10.0.0.1", ++line);
	nt = rates_transitions(r, &t);
	assert_int_equal(nt, 0);
	/* deliveries only bring it under 4%: cleared once, at a record */
	for (i = 0; i < 600 && !cleared; i++) {
		rec(r, T0 + 1401 + i, RATES_DELIVERY, false, "spring",
		    "gmail", "10.0.0.1", ++line);
		nt = rates_transitions(r, &t);
		if (nt) {
			assert_int_equal(nt, 1);
			assert_false(t[0].raised);
			assert_true(t[0].rate < 0.04 + 1e-12);
			assert_int_equal(t[0].line, line);
			cleared++;
		}
	}
	assert_int_equal(cleared, 1);
	rates_transitions_clear(r);
	/* an hour later the earlier records left the window: a fresh
	   burst of 10% bounces over 500 attempts raises again */
	for (i = 0; i < 600; i++)
		rec(r, T0 + 7200 + i, i % 10 ? RATES_DELIVERY : RATES_HARD,
		    false, "spring", "gmail", "10.0.0.1", ++line);
	nt = rates_transitions(r, &t);
	for (i = 0; i < (int)nt; i++)
		raised += t[i].raised;
	assert_int_equal(nt, 1);
	assert_int_equal(raised, 1);
	rates_free(r);
}

static void test_windows(void **state)
{
	struct rates *r = mk("soft-rate > 50% over 1h per source; "
			     "soft-rate > 50% over 3h per source; "
			     "sender-rate > 50% over 10m per source", 0);
	struct alert_counts c;
	int m;

	(void)state;
	/* one soft bounce a minute for 5 hours, every third sender-side */
	for (m = 0; m < 300; m++)
		rec(r, T0 + m * 60 + 5, RATES_SOFT, m % 3 == 0, "c", "gmail",
		    "10.0.0.9", (uint64_t)m + 1);
	assert_true(rates_window(r, ALERT_BY_SOURCE, "10.0.0.9", 3600, &c));
	assert_int_equal(c.soft, 60);
	assert_int_equal(c.sender, 20);
	assert_true(rates_window(r, ALERT_BY_SOURCE, "10.0.0.9", 600, &c));
	assert_int_equal(c.soft, 10);
	/* 3 hours: the current hour (hour 4, complete: 60) and two before */
	assert_true(rates_window(r, ALERT_BY_SOURCE, "10.0.0.9", 3 * 3600,
				 &c));
	assert_int_equal(c.soft, 180);
	/* a day: all 300 (the hour ring holds 24 hours) */
	assert_true(rates_window(r, ALERT_BY_SOURCE, "10.0.0.9", 86400, &c));
	assert_int_equal(c.soft, 300);
	assert_int_equal(c.sender, 100);
	assert_false(rates_window(r, ALERT_BY_SOURCE, "10.0.0.8", 3600, &c));
	/* a late record inside the last hour counts in the window */
	rec(r, T0 + 299 * 60 - 1800, RATES_HARD, false, "c", "gmail",
	    "10.0.0.9", 301);
	assert_true(rates_window(r, ALERT_BY_SOURCE, "10.0.0.9", 3600, &c));
	assert_int_equal(c.hard, 1);
	/* one older than the minute ring counts in the hours only */
	rec(r, T0 + 60, RATES_HARD, false, "c", "gmail", "10.0.0.9", 302);
	assert_true(rates_window(r, ALERT_BY_SOURCE, "10.0.0.9", 3600, &c));
	assert_int_equal(c.hard, 1);
	assert_true(rates_window(r, ALERT_BY_SOURCE, "10.0.0.9", 86400, &c));
	assert_int_equal(c.hard, 2);
	/* the rules of 1h and 10m were raised (100% soft, 33% sender is
	   not over 50%): the 1h and 3h soft rules, not the sender rule */
	assert_true(rates_raised(r, 0, "10.0.0.9"));
	assert_true(rates_raised(r, 1, "10.0.0.9"));
	assert_false(rates_raised(r, 2, "10.0.0.9"));
	rates_free(r);
}

static void count_cb(const char *name, void *arg)
{
	(void)name;
	(*(int *)arg)++;
}

static void test_top_and_other(void **state)
{
	struct rates *r = mk("", 2);
	struct alert_counts c;
	int n = 0;

	(void)state;
	rec(r, T0 + 10, RATES_DELIVERY, false, "a", "gmail", "s", 1);
	rec(r, T0 + 20, RATES_DELIVERY, false, "b", "gmail", "s", 2);
	rec(r, T0 + 30, RATES_DELIVERY, false, "c", "gmail", "s", 3);
	rec(r, T0 + 40, RATES_HARD, false, "d", "gmail", "s", 4);
	rec(r, T0 + 50, RATES_DELIVERY, false, "a", "gmail", "s", 5);
	assert_true(rates_window(r, ALERT_BY_CAMPAIGN, "a", 3600, &c));
	assert_int_equal(c.deliveries, 2);
	assert_false(rates_window(r, ALERT_BY_CAMPAIGN, "c", 3600, &c));
	assert_true(rates_window(r, ALERT_BY_CAMPAIGN, RATES_OTHER, 3600,
				 &c));
	assert_int_equal(c.deliveries, 1);
	assert_int_equal(c.hard, 1);
	rates_foreach(r, ALERT_BY_CAMPAIGN, count_cb, &n);
	assert_int_equal(n, 3);		/* a, b, (other) */
	/* the next day c is admitted */
	rec(r, T0 + 86400 + 5, RATES_DELIVERY, false, "c", "gmail", "s", 6);
	assert_true(rates_window(r, ALERT_BY_CAMPAIGN, "c", 3600, &c));
	assert_int_equal(c.deliveries, 1);
	rates_free(r);
}

/* test_raised_name_admitted_next_day - a name whose alert is raised is
   admitted the next day though `top` others came first: its deliveries
   count for it, and its alert clears (it stayed raised, its records in
   "(other)") */
static void test_raised_name_admitted_next_day(void **state)
{
	struct rates *r = mk("bounce-rate > 5% over 1h per destination min 10",
			     3);
	struct alert_counts c;
	int64_t t = T0 + 86400 - 1800;
	char nm[32];
	int i;

	(void)state;
	for (i = 0; i < 50; i++)
		rec(r, t + i, RATES_HARD, false, "c", "x.example", "s", 1 + i);
	assert_true(rates_raised(r, 0, "x.example"));
	t = T0 + 86400 + 10;
	for (i = 0; i < 3; i++) {
		snprintf(nm, sizeof(nm), "d%d.example", i);
		rec(r, t, RATES_DELIVERY, false, "c", nm, "s", 100 + i);
	}
	for (i = 0; i < 2000; i++)
		rec(r, t + 1 + i, RATES_DELIVERY, false, "c", "x.example", "s",
		    200 + i);
	assert_true(rates_window(r, ALERT_BY_DESTINATION, "x.example", 3600,
				 &c));
	assert_int_equal(c.deliveries, 2000);
	assert_false(rates_raised(r, 0, "x.example"));
	rates_free(r);
}

static void test_pending(void **state)
{
	struct rates *r = mk("", 0);
	const struct rates_delta *d;
	size_t n, i, found = 0;

	(void)state;
	rec(r, T0 + 1, RATES_DELIVERY, false, "a", "gmail", "s", 1);
	rec(r, T0 + 2, RATES_HARD, true, "a", "gmail", "s", 2);
	rec(r, T0 + 61, RATES_SOFT, false, "a", "gmail", "s", 3);
	n = rates_pending(r, &d);
	assert_int_equal(n, 8);	/* 4 dimensions x 2 minutes */
	for (i = 0; i < n; i++) {
		if (d[i].dim != ALERT_BY_CAMPAIGN)
			continue;
		assert_string_equal(d[i].name, "a");
		if (d[i].minute == T0 / 60) {
			assert_int_equal(d[i].c[RATES_C_DELIVERIES], 1);
			assert_int_equal(d[i].c[RATES_C_HARD], 1);
			assert_int_equal(d[i].c[RATES_C_SENDER], 1);
			found++;
		} else {
			assert_int_equal(d[i].minute, T0 / 60 + 1);
			assert_int_equal(d[i].c[RATES_C_SOFT], 1);
			found++;
		}
	}
	assert_int_equal(found, 2);
	rates_pending_clear(r);
	assert_int_equal(rates_pending(r, &d), 0);
	rec(r, T0 + 62, RATES_SOFT, false, "a", "gmail", "s", 4);
	assert_int_equal(rates_pending(r, &d), 4);
	rates_free(r);
}

static void test_restore(void **state)
{
	struct rates *r = mk("bounce-rate > 5% over 1h per campaign min 10",
			     0);
	const struct rates_transition *t;
	uint32_t c[RATES_COUNTERS] = { 0 };
	struct alert_counts ac;

	(void)state;
	rates_restore_now(r, T0 + 600);
	c[RATES_C_DELIVERIES] = 90;
	c[RATES_C_HARD] = 10;
	rates_restore_counts(r, ALERT_BY_CAMPAIGN, "spring", T0 + 540, false,
			     c);
	rates_restore_counts(r, ALERT_BY_CAMPAIGN, "spring", T0, true, c);
	rates_restore_alert(r, 0, "spring");
	assert_true(rates_raised(r, 0, "spring"));
	assert_true(rates_window(r, ALERT_BY_CAMPAIGN, "spring", 3600, &ac));
	assert_int_equal(ac.hard, 10);
	assert_int_equal(ac.deliveries, 90);
	/* one more bounce: still up, no second "raised" */
	rec(r, T0 + 601, RATES_HARD, false, "spring", "gmail", "s", 1);
	assert_int_equal(rates_transitions(r, &t), 0);
	/* a restored name of yesterday stays known */
	rates_restore_counts(r, ALERT_BY_CAMPAIGN, "winter", T0 - 3600, true,
			     c);
	assert_true(rates_window(r, ALERT_BY_CAMPAIGN, "winter", 86400, &ac));
	rates_free(r);
}

static void test_names(void **state)
{
	struct rates *r = mk("", 0);
	char longname[200];
	char out[RATES_NAME_MAX + 1];
	struct alert_counts c;

	(void)state;
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_true(rates_name_clean("a\x01" "b\xc3\xa9 c", out));
	assert_string_equal(out, "a?b??" "?c");
	assert_false(rates_name_clean("", out));
	rec(r, T0, RATES_DELIVERY, false, longname, "gmail", "s", 1);
	rec(r, T0, RATES_DELIVERY, false, longname, "gmail", "s", 2);
	memset(out, 'x', RATES_NAME_MAX);
	out[RATES_NAME_MAX] = '\0';
	assert_true(rates_window(r, ALERT_BY_CAMPAIGN, out, 60, &c));
	assert_int_equal(c.deliveries, 2);
	/* an empty or missing name is not counted in that dimension; a
	   record without a time is not counted at all */
	rec(r, T0, RATES_DELIVERY, false, "", "gmail", "s", 3);
	rec(r, 0, RATES_DELIVERY, false, "z", "gmail", "s", 4);
	assert_true(rates_window(r, ALERT_BY_DESTINATION, "gmail", 60, &c));
	assert_int_equal(c.deliveries, 3);
	assert_false(rates_window(r, ALERT_BY_CAMPAIGN, "z", 60, &c));
	rates_free(r);
}

/* names in a row: the one the last record named, one it begins, one
   that begins it, one that is another only once cleaned, and one
   forgotten when idle and named again: each counted as itself */
static void test_names_in_a_row(void **state)
{
	static const char *const names[] = { "camp", "campa", "cam", "camp",
					     "camp\x01", "camp?", "camp" };
	static const uint64_t want[][2] = { { 0, 3 }, { 1, 1 }, { 2, 1 },
					    { 5, 2 } };
	struct rates *r = mk("", 0);
	struct alert_counts c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		rec(r, T0, RATES_DELIVERY, false, names[i], "gmail", "s",
		    i + 1);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_true(rates_window(r, ALERT_BY_CAMPAIGN,
					 names[want[i][0]], 60, &c));
		assert_int_equal(c.deliveries, want[i][1]);
	}
	/* idle past its longest window, nothing pending: forgotten */
	rates_pending_clear(r);
	rates_advance(r, T0 + 3 * 86400);
	assert_false(rates_window(r, ALERT_BY_CAMPAIGN, "camp", 60, &c));
	rec(r, T0 + 3 * 86400, RATES_DELIVERY, false, "camp", "gmail", "s",
	    8);
	rec(r, T0 + 3 * 86400, RATES_DELIVERY, false, "camp", "gmail", "s",
	    9);
	assert_true(rates_window(r, ALERT_BY_CAMPAIGN, "camp", 60, &c));
	assert_int_equal(c.deliveries, 2);
	assert_false(rates_window(r, ALERT_BY_CAMPAIGN, "campa", 60, &c));
	rates_free(r);
}

/* a small deterministic generator for the long run below */
static uint32_t xs(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

#define JR_MINUTES 8000

static void test_judged_at_every_record(void **state)
{
	static const char *spec =
		"bounce-rate > 5% over 1h per campaign min 500; "
		"complaint-rate > 0.3% over 24h per campaign min 1000; "
		"sender-rate > 20% over 1h per campaign min 200; "
		"soft-rate >= 10% over 10m per campaign";
	struct rates *r = mk(spec, 0);
	struct alert_rule rules[ALERT_RULES_MAX];
	/* the counts of each minute of the run, by hand, and their sums
	   over the minutes before each one */
	static uint64_t min_c[JR_MINUTES][RATES_COUNTERS];
	static uint64_t pre[JR_MINUTES + 1][RATES_COUNTERS];
	int64_t done = 0;	/* the minutes summed into PRE */
	size_t nrules = 0, i, k;
	uint64_t line = 0, flips = 0;
	uint64_t raised = 0;
	uint32_t seed = 12345;
	int64_t t = T0;
	char err[256];
	int phase = 0, left = 0, n;

	(void)state;
	memset(min_c, 0, sizeof(min_c));
	memset(pre, 0, sizeof(pre));
	assert_int_equal(alert_rules_parse(spec, rules, &nrules, err,
					   sizeof(err)), 0);
	for (n = 0; n < 100000; n++) {
		const struct rates_transition *tr;
		size_t nt, seen = 0;
		enum rates_what w = RATES_DELIVERY;
		bool sender = false;
		uint32_t x = xs(&seed) % 1000;
		int64_t m;

		if (left-- == 0) {
			phase = (int)(xs(&seed) % 6);
			left = 200 + (int)(xs(&seed) % 2800);
			/* a gap of an hour empties the short windows */
			if (xs(&seed) % 2)
				t += 3600;
		}
		/* phases: deliveries only (the rates fall, the volumes rise),
		   a bounce spike, bounces first then deliveries, complaints,
		   soft bounces of a block, soft bounces alone (the bounce
		   rate falls and its volume rises by bounces only: a clear
		   or a raise at a bounce) */
		if ((phase == 1 && x < 100) || (phase == 2 && left > 2900) ||
		    (phase == 2 && left < 400 && x < 10))
			w = RATES_HARD;
		else if (phase == 3 && x < 5)
			w = RATES_COMPLAINT;
		else if ((phase == 4 && x < 150) || phase == 5)
			w = RATES_SOFT;
		if ((w == RATES_HARD || w == RATES_SOFT) && x % 3 == 0)
			sender = true;
		/* about 300 records a minute: deliveries alone bring rates
		   down and volumes up within one */
		t += xs(&seed) % 5 == 0 ? 1 : 0;
		m = (t - T0) / 60;
		assert_true(m < JR_MINUTES);
		for (; done < m; done++)
			for (k = 0; k < RATES_COUNTERS; k++)
				pre[done + 1][k] = pre[done][k] +
						   min_c[done][k];
		min_c[m][w == RATES_DELIVERY ? RATES_C_DELIVERIES :
			 w == RATES_HARD ? RATES_C_HARD :
			 w == RATES_SOFT ? RATES_C_SOFT :
			 RATES_C_COMPLAINTS]++;
		if (sender)
			min_c[m][RATES_C_SENDER]++;
		rec(r, t, w, sender, "camp", "gmail", "10.0.0.1", ++line);
		nt = rates_transitions(r, &tr);
		for (i = 0; i < nrules; i++) {
			struct alert_counts c = { 0, 0, 0, 0, 0 };
			uint64_t s[RATES_COUNTERS] = { 0 };
			bool hour = rules[i].over > 3600, was, up;
			int64_t from;

			/* the rule's window: its minutes, or its whole
			   hours, the current one included */
			if (hour)
				from = ((t / 3600) - rules[i].over / 3600 + 1)
					       * 3600;
			else
				from = (t / 60 - rules[i].over / 60 + 1) * 60;
			from = (from - T0) / 60;
			if (from < 0)
				from = 0;
			for (k = 0; k < RATES_COUNTERS; k++)
				s[k] = pre[m][k] - pre[from][k] + min_c[m][k];
			c.deliveries = s[RATES_C_DELIVERIES];
			c.hard = s[RATES_C_HARD];
			c.soft = s[RATES_C_SOFT];
			c.sender = s[RATES_C_SENDER];
			c.complaints = s[RATES_C_COMPLAINTS];
			was = (raised >> i) & 1;
			up = alert_judge(&rules[i], &c, was);
			if (up == was)
				continue;
			raised ^= (uint64_t)1 << i;
			flips++;
			assert_true(seen < nt);
			assert_int_equal(tr[seen].rule, i);
			assert_int_equal(tr[seen].raised, up);
			assert_int_equal(tr[seen].line, line);
			assert_int_equal(tr[seen].counts.deliveries,
					 c.deliveries);
			assert_int_equal(tr[seen].counts.hard, c.hard);
			seen++;
		}
		assert_int_equal(nt, seen);
		rates_transitions_clear(r);
		/* the pending deltas are cleared once a batch, not here */
		if (n % 5000 == 4999)
			rates_pending_clear(r);
	}
	/* the run raised and cleared every rule more than once */
	assert_true(flips >= 2 * nrules);
	rates_free(r);
}

/* test_causes_by_place - a bounce's cause given by its place among
   PowerMTA's categories (as classify_event found it) counts as its name
   does: the same causes, in any case, anything else "other" */
static void test_causes_by_place(void **state)
{
	static const char *const causes[] = {
		"bad-mailbox", "Spam-Related", "weird-cause", "", NULL,
		"spam-related", "other", "BAD-MAILBOX", "spam-related",
	};
	struct rates *by_name = mk("bounce-rate > 5% over 1h per campaign min 50",
				  0);
	struct rates *by_place = mk("bounce-rate > 5% over 1h per campaign min 50",
				    0);
	const struct rates_transition *a, *b;
	struct rates_record x;
	size_t i, k, na, nb;
	int n;

	(void)state;
	for (n = 0; n < 60; n++) {
		memset(&x, 0, sizeof(x));
		x.time = T0 + n;
		x.what = RATES_HARD;
		x.names[ALERT_BY_CAMPAIGN] = "spring";
		x.cause = causes[n % 9];
		x.where = "acct-1.csv";
		x.line = (uint64_t)n + 1;
		rates_add(by_name, &x);
		k = (size_t)classify_cat_index(x.cause);
		x.cause_ix = (int)k < 0 ? EVENT_CAT_UNLISTED : (uint8_t)(k + 1);
		x.cause = "bad-domain";	/* not read: the place says */
		rates_add(by_place, &x);
	}
	na = rates_transitions(by_name, &a);
	nb = rates_transitions(by_place, &b);
	assert_int_equal(na, 1);
	assert_int_equal(nb, 1);
	assert_int_equal(a[0].ncauses, 3);
	assert_int_equal(b[0].ncauses, a[0].ncauses);
	for (i = 0; i < a[0].ncauses; i++) {
		assert_string_equal(a[0].causes[i].what, b[0].causes[i].what);
		assert_int_equal(a[0].causes[i].n, b[0].causes[i].n);
	}
	assert_int_equal(a[0].line, 50);
	assert_string_equal(a[0].causes[0].what, "other");
	assert_int_equal(a[0].causes[0].n, 23);
	assert_string_equal(a[0].causes[1].what, "spam-related");
	assert_int_equal(a[0].causes[1].n, 16);
	assert_string_equal(a[0].causes[2].what, "bad-mailbox");
	assert_int_equal(a[0].causes[2].n, 11);
	rates_free(by_name);
	rates_free(by_place);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_complaint_spike),
		cmocka_unit_test(test_bounce_spike_and_hysteresis),
		cmocka_unit_test(test_windows),
		cmocka_unit_test(test_top_and_other),
		cmocka_unit_test(test_raised_name_admitted_next_day),
		cmocka_unit_test(test_pending),
		cmocka_unit_test(test_restore),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_names_in_a_row),
		cmocka_unit_test(test_judged_at_every_record),
		cmocka_unit_test(test_causes_by_place),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
