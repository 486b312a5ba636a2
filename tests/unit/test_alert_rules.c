/*
 * test_alert_rules.c - [alerts] rules: the default set, a custom set,
 * each refusal naming what is wrong, the rates of each metric, and the
 * raise / keep / clear decision with its volume floor and hysteresis,
 * and the deliveries below which deliveries alone cannot change it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "alert_rules.h"

static void test_default(void **state)
{
	struct alert_rule r[ALERT_RULES_MAX];
	size_t n = 99;
	char err[256] = "";

	(void)state;
	assert_int_equal(alert_rules_parse(NULL, r, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 6);
	assert_int_equal(r[0].metric, ALERT_COMPLAINT_RATE);
	assert_int_equal(r[0].dim, ALERT_BY_DESTINATION);
	assert_true(r[0].threshold > 0.000999 && r[0].threshold < 0.001001);
	assert_int_equal(r[0].over, 86400);
	assert_int_equal(r[0].min_volume, 1000);
	assert_false(r[0].or_equal);
	assert_int_equal(r[2].metric, ALERT_BOUNCE_RATE);
	assert_int_equal(r[2].dim, ALERT_BY_CAMPAIGN);
	assert_int_equal(r[2].over, 3600);
	assert_int_equal(r[5].metric, ALERT_SENDER_RATE);
	assert_int_equal(r[5].dim, ALERT_BY_SOURCE);
	assert_string_equal(r[5].text, "sender-rate > 20% over 1h per source min 200");
	/* "" is no rule at all */
	assert_int_equal(alert_rules_parse("", r, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
}

static void test_custom(void **state)
{
	struct alert_rule r[ALERT_RULES_MAX];
	size_t n = 0;
	char err[256] = "";

	(void)state;
	assert_int_equal(alert_rules_parse(
		"  soft-rate >= 0.25 over 2h per sender ;; "
		"COMPLAINT-RATE > 0.5% OVER 7d PER Campaign MIN 50 ;",
		r, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_int_equal(r[0].metric, ALERT_SOFT_RATE);
	assert_true(r[0].or_equal);
	assert_int_equal(r[0].dim, ALERT_BY_SENDER);
	assert_int_equal(r[0].min_volume, 0);
	assert_int_equal(r[0].over, 7200);
	assert_int_equal(r[1].dim, ALERT_BY_CAMPAIGN);
	assert_int_equal(r[1].over, 7 * 86400);
	assert_int_equal(r[1].min_volume, 50);
	assert_string_equal(alert_metric_name(r[1].metric), "complaint-rate");
	assert_string_equal(alert_dimension_name(r[1].dim), "campaign");
	assert_int_equal(alert_dimension_parse("destination"),
			 ALERT_BY_DESTINATION);
	assert_int_equal(alert_dimension_parse("planet"), -1);
}

static void expect_refused(const char *spec, const char *needle)
{
	struct alert_rule r[ALERT_RULES_MAX];
	size_t n = 7;
	char err[256] = "";

	assert_int_equal(alert_rules_parse(spec, r, &n, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(n, 0);
	if (!strstr(err, needle))
		fail_msg("'%s': error '%s' lacks '%s'", spec, err, needle);
}

static void test_refusals(void **state)
{
	char many[64 * 48 + 1] = "";
	int i;

	(void)state;
	expect_refused("spam-rate > 1% over 1h per campaign", "not a metric");
	expect_refused("bounce-rate > 0% over 1h per campaign", "not a rate");
	expect_refused("bounce-rate > 150% over 1h per campaign", "not a rate");
	expect_refused("bounce-rate > lots over 1h per campaign", "not a rate");
	expect_refused("bounce-rate > 5% over 10s per campaign",
		       "not a duration");
	expect_refused("bounce-rate > 5% over 8d per campaign",
		       "not a duration");
	expect_refused("bounce-rate > 5% over 1h per planet",
		       "not campaign, destination");
	expect_refused("bounce-rate < 5% over 1h per campaign", "expected");
	expect_refused("bounce-rate > 5% over 1h", "expected");
	expect_refused("bounce-rate > 5% over 1h per campaign min -3",
		       "expected");
	expect_refused("bounce-rate > 5% over 1h per campaign max 3",
		       "expected");
	/* the good rule before a bad one does not survive either */
	expect_refused("bounce-rate > 5% over 1h per campaign; nonsense",
		       "'nonsense'");
	for (i = 0; i < ALERT_RULES_MAX + 1; i++)
		strcat(many, "bounce-rate > 5% over 1h per source; ");
	expect_refused(many, "more than 64");
}

static void test_rates(void **state)
{
	struct alert_rule r = { 0 };
	struct alert_counts c = { .deliveries = 900, .hard = 60, .soft = 40,
				  .sender = 25, .complaints = 9 };
	uint64_t vol = 0;

	(void)state;
	r.metric = ALERT_COMPLAINT_RATE;
	assert_true(alert_rate(&r, &c, &vol) == 0.01);
	assert_int_equal(vol, 900);
	r.metric = ALERT_BOUNCE_RATE;
	assert_true(alert_rate(&r, &c, &vol) == 0.06);
	assert_int_equal(vol, 1000);
	r.metric = ALERT_SOFT_RATE;
	assert_true(alert_rate(&r, &c, &vol) == 0.04);
	r.metric = ALERT_SENDER_RATE;
	assert_true(alert_rate(&r, &c, &vol) == 0.025);
	memset(&c, 0, sizeof(c));
	c.complaints = 3;	/* complaints without deliveries: no rate */
	r.metric = ALERT_COMPLAINT_RATE;
	assert_true(alert_rate(&r, &c, &vol) == 0.0);
	assert_int_equal(vol, 0);
}

static void test_judge(void **state)
{
	struct alert_rule r[1];
	size_t n;
	char err[256];
	struct alert_counts c = { .deliveries = 1000 };

	(void)state;
	assert_int_equal(alert_rules_parse(
		"complaint-rate > 0.3% over 24h per destination min 1000",
		r, &n, err, sizeof(err)), 0);
	c.complaints = 3;		/* exactly at the line: '>' keeps it down */
	assert_false(alert_judge(r, &c, false));
	c.complaints = 4;		/* over: raised */
	assert_true(alert_judge(r, &c, false));
	c.deliveries = 999;		/* under the volume: never */
	assert_false(alert_judge(r, &c, false));
	assert_false(alert_judge(r, &c, true));
	c.deliveries = 1000;
	c.complaints = 3;		/* back at the line while up: kept */
	assert_true(alert_judge(r, &c, true));
	c.deliveries = 1200;		/* 0.25%: above 0.8 x 0.3%: kept */
	assert_true(alert_judge(r, &c, true));
	assert_false(alert_judge(r, &c, false));
	c.deliveries = 1300;		/* 0.23%: below 0.24%: cleared */
	assert_false(alert_judge(r, &c, true));
	r[0].or_equal = true;		/* '>=' raises at the line */
	c.deliveries = 1000;
	assert_true(alert_judge(r, &c, false));
	c.complaints = 0;
	c.deliveries = 0;
	assert_false(alert_judge(r, &c, false));
}

/* every verdict below alert_next_deliveries' answer is the same, for
   each metric, up or not, around the volume floor and the clearing line */
static void test_next_deliveries(void **state)
{
	static const char *specs[] = {
		"bounce-rate > 5% over 1h per campaign min 500",
		"complaint-rate > 0.1% over 24h per destination min 1000",
		"soft-rate >= 10% over 10m per source",
		"sender-rate > 20% over 1h per source min 200",
		"bounce-rate > 0.7% over 1h per campaign min 3",
	};
	size_t si;

	(void)state;
	for (si = 0; si < sizeof(specs) / sizeof(specs[0]); si++) {
		struct alert_rule r[1];
		size_t n = 0;
		uint64_t num, base;
		char err[256];

		assert_int_equal(alert_rules_parse(specs[si], r, &n, err,
						   sizeof(err)), 0);
		for (num = 0; num < 60; num += 3) {
			for (base = 0; base < 1500; base += 37) {
				struct alert_counts c = { 0, 0, 0, 0, 0 };
				uint64_t next, k;
				bool up;

				/* NUM of the metric's kind, BASE deliveries */
				c.deliveries = base;
				c.hard = c.soft = c.sender = c.complaints =
					num;
				up = alert_judge(&r[0], &c, num % 2 == 0);
				next = alert_next_deliveries(&r[0], &c, up);
				assert_true(next > c.deliveries);
				for (k = c.deliveries + 1;
				     k < next && k < 20000; k++) {
					struct alert_counts x = c;

					x.deliveries = k;
					assert_int_equal(
						alert_judge(&r[0], &x, up), up);
				}
				/* an alert up: not far before it clears */
				if (up && next < 20000) {
					bool changed = false;

					for (k = next; k < next + 8; k++) {
						struct alert_counts x = c;

						x.deliveries = k;
						changed |= alert_judge(
							&r[0], &x, up) != up;
					}
					assert_true(changed);
				}
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default),
		cmocka_unit_test(test_custom),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_judge),
		cmocka_unit_test(test_next_deliveries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
