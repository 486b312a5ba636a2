/*
 * test_graph.c - the graphs tell the truth: counts fed into the RRD over
 * ten days (an update every six hours, as metrics_update_at writes them)
 * give, in the legend librrd draws, exactly the sum of the counts of each
 * period: the last day read from the 1-minute archive, the week from the
 * 5-minute one, the month from the hourly one and the year from the daily
 * one, with the day under way (not consolidated yet) counted in all; the
 * bins never outnumber the pixels; the incidents panel's count and gauge;
 * a row stamped at the end of the minute under way (metrics_flush) counted
 * by a graph drawn on a bin's boundary; bad options and a missing RRD.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>

#include "graph.h"
#include "log.h"
#include "metrics.h"
#include "state.h"
#include "tstate.h"
#include "ttmp.h"

#define DAY 86400LL
/* the right edge: a multiple of every bin, so each period is exactly
   (END - span, END] */
#define END (20776LL * DAY)
#define UPDATES 39		/* one every 6 hours over 10 days, the last
				   3 hours before END: the hour, the day
				   under way are not consolidated yet */

struct ctx {
	char *dir, *rrd;
	struct state *st;
};

/* under AddressSanitizer: librrd, pango and fontconfig are built without
   frame pointers, so LeakSanitizer needs the slow unwinder to see that
   the strings librrd's graph code leaks come from rrd_graph_v (suppressed
   in tests/lsan.supp); the integration tests set the same (graph_env) */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "fast_unwind_on_malloc=0";
}

/* the count added before the update at K (0 at the first update: what
   is there when an RRD is first fed becomes its base, uncounted) */
static uint64_t count_at(int k)
{
	return k == 0 ? 0 : (uint64_t)(k * 7 % 23 + 1);
}

/* the incidents opened before the update at K */
static uint64_t incidents_at(int k)
{
	return k > 0 && k % 3 == 0 ? 1 : 0;
}

/* the time of update K */
static int64_t time_at(int k)
{
	return END - 10 * DAY + 3 * 3600 + (int64_t)k * 6 * 3600;
}

static int setup(void **state)
{
	struct ctx *c = g_new0(struct ctx, 1);
	char err[512];
	int k;

	log_set_level(BLOG_ERROR);
	c->dir = ttmp_make("bounced-graph-test");
	assert_non_null(c->dir);
	c->rrd = g_build_filename(c->dir, "bounced.rrd", NULL);
	assert_int_equal(tstate_open(&c->st, c->dir, false), 0);
	for (k = 0; k <= UPDATES; k++) {
		MDB_txn *txn = NULL;

		assert_int_equal(state_begin(c->st, true, &txn), 0);
		assert_int_equal(state_meta_add_u64(c->st, txn, "count.hard",
						    count_at(k)), 0);
		assert_int_equal(state_meta_add_u64(c->st, txn, "count.complaint",
						    k % 2), 0);
		assert_int_equal(state_meta_add_u64(c->st, txn,
						    "count.incident.opened",
						    incidents_at(k)), 0);
		assert_int_equal(state_commit(txn), 0);
		if (metrics_update_at(c->st, c->rrd, time_at(k), err,
				      sizeof(err)) != 1)
			fail_msg("metrics_update_at: %s", err);
	}
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	int rc;

	state_close(c->st);
	rc = ttmp_remove(&c->dir);
	g_free(c->rrd);
	g_free(c);
	return rc;
}

/* the counts added in (END - SPAN, END] */
static uint64_t expected(int64_t span, bool complaints)
{
	uint64_t sum = 0;
	int k;

	for (k = 0; k <= UPDATES; k++)
		if (time_at(k) > END - span)
			sum += complaints ? (uint64_t)(k % 2) : count_at(k);
	return sum;
}

/* the number after "NAME: total " in LEGEND, and its unit */
static long long legend_total(const char *legend, const char *name,
			      char *unit, size_t unitlen)
{
	char *key = g_strdup_printf("%s: total ", name);
	const char *p = strstr(legend, key), *u;
	long long n;

	if (!p)
		fail_msg("no '%s' in the legend:\n%s", key, legend);
	n = strtoll(p + strlen(key), NULL, 10);
	u = strstr(p, " per ");
	assert_non_null(u);
	u += 5;
	g_strlcpy(unit, u, MIN(unitlen, (size_t)(strcspn(u, "\n") + 1)));
	g_free(key);
	return n;
}

/* render PANEL of PERIOD at WIDTH; its legend (g_free) */
static char *legend_of(struct ctx *c, enum graph_panel panel,
		       enum graph_period period, unsigned width)
{
	struct graph_opts o = { width, GRAPH_HEIGHT_DEFAULT, GRAPH_PNG, END,
				NULL };
	struct graph_data *d = NULL;
	GBytes *img = NULL;
	char err[1024], *legend = NULL;

	if (graph_data_load(c->rrd, period, &o, &d, err, sizeof(err)) != 0)
		fail_msg("graph_data_load: %s", err);
	if (graph_data_render(d, panel, &o, &img, &legend, err,
			      sizeof(err)) != 0)
		fail_msg("graph_data_render: %s", err);
	assert_non_null(img);
	assert_true(g_bytes_get_size(img) > 100);
	g_bytes_unref(img);
	graph_data_free(d);
	return legend;
}

static void test_totals_of_every_period(void **state)
{
	static const struct {
		enum graph_period p;
		int64_t span;
		const char *unit;
	} want[] = {
		{ GRAPH_DAY, DAY, "5 minutes" },
		{ GRAPH_WEEK, 7 * DAY, "hour" },
		{ GRAPH_MONTH, 31 * DAY, "6 hours" },
		{ GRAPH_YEAR, 365 * DAY, "day" },
	};
	struct ctx *c = *state;
	char unit[32];
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(want); i++) {
		char *b = legend_of(c, GRAPH_BOUNCES, want[i].p, 800);
		char *q = legend_of(c, GRAPH_COMPLAINTS, want[i].p, 800);

		assert_int_equal(legend_total(b, "Hard bounces", unit,
					      sizeof(unit)),
				 (long long)expected(want[i].span, false));
		assert_string_equal(unit, want[i].unit);
		assert_int_equal(legend_total(q, "Complaints", unit,
					      sizeof(unit)),
				 (long long)expected(want[i].span, true));
		assert_int_equal(legend_total(b, "Soft bounces", unit,
					      sizeof(unit)), 0);
		g_free(b);
		g_free(q);
	}
	/* the day is in every period; the month and the year hold it all */
	assert_true(expected(DAY, false) > 0);
	assert_true(expected(7 * DAY, false) < expected(31 * DAY, false));
	assert_int_equal(expected(31 * DAY, false), expected(365 * DAY, false));
}

static void test_narrow_images_take_longer_bins(void **state)
{
	struct ctx *c = *state;
	char unit[32];
	char *b = legend_of(c, GRAPH_BOUNCES, GRAPH_DAY, GRAPH_SIZE_MIN);

	/* 200 pixels cannot show 288 bins of 5 minutes */
	assert_int_equal(legend_total(b, "Hard bounces", unit, sizeof(unit)),
			 (long long)expected(DAY, false));
	assert_string_not_equal(unit, "5 minutes");
	g_free(b);
}

/* the incidents panel: a count summed per bin like the others, the open
   gauge as its level now and its highest, in incidents */
static void test_incidents_panel(void **state)
{
	struct ctx *c = *state;
	uint64_t want = 0;
	char unit[32];
	char *l = legend_of(c, GRAPH_INCIDENTS, GRAPH_MONTH, 800);
	int k;

	for (k = 0; k <= UPDATES; k++)
		want += incidents_at(k);
	assert_true(want > 0);
	assert_int_equal(legend_total(l, "Incidents opened", unit,
				      sizeof(unit)), (long long)want);
	assert_string_equal(unit, "6 hours");
	assert_int_equal(legend_total(l, "Incidents closed", unit,
				      sizeof(unit)), 0);
	assert_non_null(strstr(l, "Incidents open: now 0, highest 0 "
			       "incidents"));
	g_free(l);
}

static void test_queue_panel(void **state)
{
	struct ctx *c = *state;
	char *l = legend_of(c, GRAPH_QUEUE, GRAPH_WEEK, 800);

	assert_non_null(strstr(l, "Queue length: now 0, highest 0 actions"));
	g_free(l);
}

/* metrics_flush stamps its row at the end of the minute under way: a
   graph drawn just before that, on a bin's boundary, still counts it */
static void test_flushed_row_ahead(void **state)
{
	static const struct {
		enum graph_period p;
		int64_t span;
	} want[] = {
		{ GRAPH_DAY, DAY }, { GRAPH_WEEK, 7 * DAY },
		{ GRAPH_MONTH, 31 * DAY }, { GRAPH_YEAR, 365 * DAY },
	};
	struct ctx *c = *state;
	MDB_txn *txn = NULL;
	char err[512], unit[32];
	size_t i;

	assert_int_equal(state_begin(c->st, true, &txn), 0);
	assert_int_equal(state_meta_add_u64(c->st, txn, "count.hard", 5), 0);
	assert_int_equal(state_commit(txn), 0);
	if (metrics_update_at(c->st, c->rrd, END + METRICS_STEP, err,
			      sizeof(err)) != 1)
		fail_msg("metrics_update_at: %s", err);
	for (i = 0; i < G_N_ELEMENTS(want); i++) {
		char *b = legend_of(c, GRAPH_BOUNCES, want[i].p, 800);

		assert_int_equal(legend_total(b, "Hard bounces", unit,
					      sizeof(unit)),
				 (long long)expected(want[i].span, false) + 5);
		g_free(b);
	}
}

static void test_errors(void **state)
{
	struct ctx *c = *state;
	struct graph_opts o = { 10, GRAPH_HEIGHT_DEFAULT, GRAPH_PNG, END, NULL };
	struct graph_data *d = NULL;
	char err[512], *missing = g_build_filename(c->dir, "none.rrd", NULL);

	assert_int_equal(graph_data_load(c->rrd, GRAPH_DAY, &o, &d, err,
					 sizeof(err)), -EINVAL);
	assert_null(d);
	o.width = GRAPH_WIDTH_DEFAULT;
	assert_int_equal(graph_data_load(missing, GRAPH_DAY, &o, &d, err,
					 sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "bounced creates it"));
	g_free(missing);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_totals_of_every_period,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_narrow_images_take_longer_bins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_panel, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_incidents_panel, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_flushed_row_ahead, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
