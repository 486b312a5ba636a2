/*
 * test_metrics.c - the RRD fed from the state's totals: sample files
 * taken between updates at fixed step times, then rrd_fetch gives those
 * counts per step; gaps, repeated steps, crash recovery, layouts, the
 * dispatcher-free API counters and the Prometheus textfile.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <rrd.h>

#include "action.h"
#include "config.h"
#include "incident_store.h"
#include "ingest.h"
#include "log.h"
#include "metrics.h"
#include "rates.h"
#include "outbox.h"
#include "rrd_file.h"
#include "state.h"
#include "tstate.h"
#include "ttmp.h"

#define SAMPLE_A "spool/acct/acct-2026-11-20-0000.csv"
#define SAMPLE_B "spool/acct/acct-2026-11-25-0000.csv"
#define T0 1795000020LL		/* a step boundary (multiple of 60) */

struct ctx {
	char *dir;
	char *rrd;
	struct config *cfg;
	struct state *st;
};

static int setup(void **state)
{
	struct ctx *c = g_new0(struct ctx, 1);
	char err[256];

	assert_int_equal(T0 % METRICS_STEP, 0);
	c->dir = ttmp_make("bounced-metrics");
	assert_non_null(c->dir);
	c->rrd = g_build_filename(c->dir, "bounced.rrd", NULL);
	if (config_load(NULL, &c->cfg, NULL, err, sizeof(err)) != 0)
		fail_msg("config_load: %s", err);
	g_free(c->cfg->rrd_file);
	c->cfg->rrd_file = g_strdup(c->rrd);
	assert_int_equal(tstate_open(&c->st, c->dir, false), 0);
	log_set_level(BLOG_ERROR);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	int rc;

	state_close(c->st);
	config_free(c->cfg);
	rc = ttmp_remove(&c->dir);
	g_free(c->rrd);
	g_free(c);
	return rc;
}

/* take PATH into the state; its counts */
static struct ingest_counts take(struct ctx *c, const char *path)
{
	struct ingest_opts opts = { .mode = INGEST_DETECT };
	struct ingest_counts n;
	struct ingest *in = ingest_new(c->cfg, c->st);

	assert_non_null(in);
	assert_int_equal(ingest_file(in, path, &opts, &n), INGEST_TAKEN);
	ingest_free(in);
	return n;
}

/* update at T, expecting WANT (1 written, 0 skipped) */
static void update(struct ctx *c, int64_t t, int want)
{
	char err[512] = "";
	int rc = metrics_update_at(c->st, c->rrd, t, err, sizeof(err));

	if (rc != want)
		fail_msg("metrics_update_at(%lld) = %d, not %d: %s",
			 (long long)t, rc, want, err);
}

/* the AVERAGE value of DS for the step ending at T (NAN = unknown) */
static double fetch_at(const char *path, const char *ds, int64_t t)
{
	time_t start = (time_t)(t - METRICS_STEP), end = (time_t)t;
	unsigned long step = METRICS_STEP, n_ds = 0, i, k;
	char **names = NULL;
	rrd_value_t *data = NULL;
	double v = -1.0;

	rrd_clear_error();
	if (rrd_fetch_r(path, "AVERAGE", &start, &end, &step, &n_ds, &names,
			&data) != 0)
		fail_msg("rrd_fetch_r: %s", rrd_get_error());
	assert_int_equal(step, METRICS_STEP);
	for (k = 0; k < n_ds; k++)
		if (strcmp(names[k], ds) == 0)
			break;
	if (k == n_ds)
		fail_msg("no data source %s", ds);
	/* row i covers (start + i*step, start + (i+1)*step] */
	for (i = 0; start + (time_t)((i + 1) * step) <= end; i++)
		if (start + (time_t)((i + 1) * step) == (time_t)t)
			v = data[i * n_ds + k];
	for (k = 0; k < n_ds; k++)
		rrd_freemem(names[k]);
	rrd_freemem(names);
	rrd_freemem(data);
	return v;
}

/* the count of DS in the step ending at T (rate per second x step) */
static long long count_at(const char *path, const char *ds, int64_t t)
{
	double v = fetch_at(path, ds, t);

	if (isnan(v))
		return -1;
	return llround(v * METRICS_STEP);
}

static void add_meta(struct ctx *c, const char *name, uint64_t n)
{
	MDB_txn *txn = NULL;

	assert_int_equal(state_begin(c->st, true, &txn), 0);
	assert_int_equal(state_meta_add_u64(c->st, txn, name, n), 0);
	assert_int_equal(state_commit(txn), 0);
}

static void put_meta(struct ctx *c, const char *name, uint64_t v)
{
	MDB_txn *txn = NULL;

	assert_int_equal(state_begin(c->st, true, &txn), 0);
	assert_int_equal(state_meta_put_u64(c->st, txn, name, v), 0);
	assert_int_equal(state_commit(txn), 0);
}

static uint64_t get_meta(struct ctx *c, const char *name)
{
	MDB_txn *txn = NULL;
	uint64_t v = 0;

	assert_int_equal(state_begin(c->st, false, &txn), 0);
	if (state_meta_get_u64(c->st, txn, name, &v) != 0)
		v = 0;
	state_abort(txn);
	return v;
}

/* N actions into the outbox */
static void enqueue(struct ctx *c, unsigned n)
{
	MDB_txn *txn = NULL;
	unsigned i;

	assert_int_equal(state_begin(c->st, true, &txn), 0);
	for (i = 0; i < n; i++) {
		struct action a;

		memset(&a, 0, sizeof(a));
		a.op = OP_UNSUBSCRIBE;
		g_strlcpy(a.provider, "mw", sizeof(a.provider));
		snprintf(a.addr, sizeof(a.addr), "q%u@example.com", i);
		assert_int_equal(outbox_enqueue(c->st, txn, &a, T0 * 1000), 0);
	}
	assert_int_equal(state_commit(txn), 0);
}

/* two sample files between updates: each step holds its file's counts */
static void test_samples_per_step(void **state)
{
	struct ctx *c = *state;
	struct ingest_counts a, b;
	int64_t t1 = T0 + 60, t2 = T0 + 120;

	update(c, T0, 1);	/* creates the file; nothing counted yet */
	assert_int_equal(count_at(c->rrd, "hard", T0), 0);

	a = take(c, SAMPLE_A);
	update(c, t1, 1);
	b = take(c, SAMPLE_B);
	enqueue(c, 3);
	update(c, t2, 1);

	/* the samples hold every kind the graphs show */
	assert_true(a.hard > 0 && a.soft > 0 && a.escalated > 0 &&
		    a.complaints > 0 && a.duplicates > 0);
	assert_true(b.hard > 0 && b.soft > 0);
	assert_int_equal(count_at(c->rrd, "hard", t1), a.hard);
	assert_int_equal(count_at(c->rrd, "soft", t1), a.soft);
	assert_int_equal(count_at(c->rrd, "escalated", t1), a.escalated);
	assert_int_equal(count_at(c->rrd, "complaint", t1), a.complaints);
	assert_int_equal(count_at(c->rrd, "unsub", t1), a.unsubs);
	assert_int_equal(count_at(c->rrd, "duplicate", t1), a.duplicates);
	assert_int_equal(count_at(c->rrd, "hard", t2), b.hard);
	assert_int_equal(count_at(c->rrd, "soft", t2), b.soft);
	assert_int_equal(count_at(c->rrd, "escalated", t2), b.escalated);
	assert_int_equal(count_at(c->rrd, "complaint", t2), b.complaints);
	assert_int_equal(count_at(c->rrd, "duplicate", t2), b.duplicates);
	/* the queue is a gauge: the outbox's entries */
	assert_true(fetch_at(c->rrd, "queue", t1) == 0.0);
	assert_true(fetch_at(c->rrd, "queue", t2) == 3.0);
	/* the base follows */
	assert_int_equal(get_meta(c, "rrd.time"), t2);
	assert_int_equal(get_meta(c, "rrd.base.hard"), a.hard + b.hard);
	assert_int_equal(get_meta(c, "rrd.next.time"), 0);
}

/* the dispatcher's totals land in api_*; a gap reads as zero counts */
static void test_api_counts_and_gap(void **state)
{
	struct ctx *c = *state;

	update(c, T0, 1);
	add_meta(c, "count.api_ok", 7);
	add_meta(c, "count.api_retry", 2);
	update(c, T0 + 60, 1);
	add_meta(c, "count.api_dead", 1);
	add_meta(c, "count.api_ok", 4);
	update(c, T0 + 240, 1);	/* nothing ran for two steps */

	assert_int_equal(count_at(c->rrd, "api_ok", T0 + 60), 7);
	assert_int_equal(count_at(c->rrd, "api_retry", T0 + 60), 2);
	assert_int_equal(count_at(c->rrd, "api_dead", T0 + 60), 0);
	assert_int_equal(count_at(c->rrd, "api_ok", T0 + 120), 0);
	assert_int_equal(count_at(c->rrd, "api_ok", T0 + 180), 0);
	assert_int_equal(count_at(c->rrd, "api_ok", T0 + 240), 4);
	assert_int_equal(count_at(c->rrd, "api_dead", T0 + 240), 1);
}

/* a repeated or late step is skipped; its counts land in the next one */
static void test_repeated_step_skipped(void **state)
{
	struct ctx *c = *state;

	update(c, T0, 1);
	add_meta(c, "count.hard", 5);
	update(c, T0, 0);
	update(c, T0 - 60, 0);
	assert_int_equal(get_meta(c, "rrd.time"), T0);
	add_meta(c, "count.hard", 2);
	update(c, T0 + 60, 1);
	assert_int_equal(count_at(c->rrd, "hard", T0), 0);
	assert_int_equal(count_at(c->rrd, "hard", T0 + 60), 7);
}

/* not a step boundary: refused */
static void test_not_a_step(void **state)
{
	struct ctx *c = *state;
	char err[256];

	assert_int_equal(metrics_update_at(c->st, c->rrd, T0 + 1, err,
					   sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a step boundary"));
	assert_int_not_equal(access(c->rrd, F_OK), 0);
}

/* a crash after the RRD update but before the state recorded it: the
   next update neither counts that step again nor drops anything */
static void test_crash_after_rrd_write(void **state)
{
	struct ctx *c = *state;
	struct rrdfile_row row;
	char err[256];

	update(c, T0, 1);
	add_meta(c, "count.hard", 10);
	/* phase one and the RRD write of step T0+60, then "crash" */
	put_meta(c, "rrd.next.hard", 10);
	put_meta(c, "rrd.next.time", T0 + 60);
	memset(&row, 0, sizeof(row));
	row.t = T0 + 60;
	row.v[METRICS_HARD] = 10;
	assert_int_equal(rrdfile_update(c->rrd, &row, 1, err, sizeof(err)), 0);

	add_meta(c, "count.hard", 3);
	update(c, T0 + 120, 1);
	assert_int_equal(count_at(c->rrd, "hard", T0 + 60), 10);
	assert_int_equal(count_at(c->rrd, "hard", T0 + 120), 3);
	assert_int_equal(get_meta(c, "rrd.base.hard"), 13);
}

/* a crash after phase one only: the pending record is dropped, the
   counts are written by the next update */
static void test_crash_before_rrd_write(void **state)
{
	struct ctx *c = *state;

	update(c, T0, 1);
	add_meta(c, "count.soft", 6);
	put_meta(c, "rrd.next.soft", 6);
	put_meta(c, "rrd.next.time", T0 + 60);
	update(c, T0 + 120, 1);
	assert_int_equal(count_at(c->rrd, "soft", T0 + 60), 0);
	assert_int_equal(count_at(c->rrd, "soft", T0 + 120), 6);
	assert_int_equal(get_meta(c, "rrd.next.time"), 0);
}

/* metrics_new: totals from before the metrics are the base */
static void test_new_sets_base(void **state)
{
	struct ctx *c = *state;
	struct metrics *m = NULL;
	char err[256];

	add_meta(c, "count.hard", 1000);
	assert_int_equal(metrics_new(&m, c->cfg, c->st, T0 - 1, err,
				     sizeof(err)), 0);
	assert_int_equal(get_meta(c, "rrd.base.hard"), 1000);
	add_meta(c, "count.hard", 4);
	assert_int_equal(metrics_tick(m, T0 + 59), 1);
	assert_int_equal(count_at(c->rrd, "hard", T0), 4);
	/* the same step again: nothing to do */
	assert_int_equal(metrics_tick(m, T0 + 30), 0);
	metrics_free(m);
	/* a second feeder does not reset the base; it ticks from the next
	   boundary on, and its flush writes the end of the current step */
	assert_int_equal(metrics_new(&m, c->cfg, c->st, T0 + 70, err,
				     sizeof(err)), 0);
	assert_int_equal(get_meta(c, "rrd.base.hard"), 1004);
	add_meta(c, "count.hard", 2);
	assert_int_equal(metrics_tick(m, T0 + 119), 0);
	assert_int_equal(metrics_flush(m, T0 + 119), 1);
	assert_int_equal(count_at(c->rrd, "hard", T0 + 120), 2);
	metrics_free(m);
}

/* a tick on a boundary, then the flush in the same second: what was
   committed between them is written at the next step, not left out
   (a one-shot run whose first file ended as a minute began) */
static void test_flush_after_tick_same_second(void **state)
{
	struct ctx *c = *state;
	struct metrics *m = NULL;
	char err[256];

	assert_int_equal(metrics_new(&m, c->cfg, c->st, T0 - 30, err,
				     sizeof(err)), 0);
	add_meta(c, "count.hard", 3);
	assert_int_equal(metrics_tick(m, T0), 1);
	add_meta(c, "count.hard", 2);
	assert_int_equal(metrics_flush(m, T0), 1);
	assert_int_equal(count_at(c->rrd, "hard", T0), 3);
	assert_int_equal(count_at(c->rrd, "hard", T0 + 60), 2);
	assert_int_equal(get_meta(c, "rrd.base.hard"), 5);
	/* later in that step, a tick has nothing due */
	assert_int_equal(metrics_tick(m, T0 + 59), 0);
	metrics_free(m);
}

/* create an RRD of DS specs (NULL-terminated) with step STEP */
static void create_rrd(const char *path, unsigned long step,
		       const char *const *specs)
{
	const char *argv[32];
	int n = 0;

	while (specs[n]) {
		argv[n] = specs[n];
		n++;
	}
	rrd_clear_error();
	if (rrd_create_r(path, step, (time_t)(T0 - 600), n, argv) != 0)
		fail_msg("rrd_create_r: %s", rrd_get_error());
}

/* create_older - an RRD of the older layout SPECS at c->rrd, with a step
   of zeros ending at T0 - 60 and VALUES ("120:0:...", one per source) in
   the step ending at T0; rrdfile_check must find it older, saying
   WANT_WHY */
static void create_older(struct ctx *c, const char *const *specs,
			 const char *values, const char *want_why)
{
	enum rrdfile_layout layout;
	char why[256], err[256];
	GString *zeros = g_string_new(NULL);
	char *line0, *line;
	const char *u[2];
	const char *p;

	create_rrd(c->rrd, 60, specs);
	g_string_append_printf(zeros, "%lld:0", (long long)T0 - 60);
	for (p = values; *p; p++)
		if (*p == ':')
			g_string_append(zeros, ":0");
	line0 = g_string_free(zeros, FALSE);
	line = g_strdup_printf("%lld:%s", (long long)T0, values);
	u[0] = line0;
	u[1] = line;
	rrd_clear_error();
	assert_int_equal(rrd_update_r(c->rrd, NULL, 2, u), 0);
	g_free(line0);
	g_free(line);
	assert_int_equal(rrdfile_check(c->rrd, &layout, why, sizeof(why), err,
				       sizeof(err)), 0);
	assert_int_equal(layout, RRDFILE_OLDER);
	assert_string_equal(why, want_why);
}

/* the first layout of bounced's RRD, and what the check says it lacks */
static const char *const layout1[] = {
	"DS:hard:ABSOLUTE:86400:0:U", "DS:soft:ABSOLUTE:86400:0:U",
	"DS:escalated:ABSOLUTE:86400:0:U", "DS:complaint:ABSOLUTE:86400:0:U",
	"DS:unsub:ABSOLUTE:86400:0:U", "DS:duplicate:ABSOLUTE:86400:0:U",
	"DS:queue:GAUGE:120:0:U",
	"RRA:AVERAGE:0.5:1:2880", "RRA:AVERAGE:0.5:5:4032",
	"RRA:AVERAGE:0.5:60:2232", "RRA:AVERAGE:0.5:1440:732",
	"RRA:MAX:0.5:1:2880", "RRA:MAX:0.5:5:4032",
	"RRA:MAX:0.5:60:2232", "RRA:MAX:0.5:1440:732", NULL
};
#define LAYOUT1_MISSING \
	"no data source api_ok, api_retry, api_dead, fbl_dsn, " \
	"fbl_autoreply, fbl_authreport, fbl_forward, fbl_notours, " \
	"incident_opened, incident_closed, alert_raised, alert_cleared, " \
	"held, incidents_open, alerts_active"

/* an older layout of ours (no api_* sources) is migrated, its data kept */
static void test_older_layout_migrated(void **state)
{
	struct ctx *c = *state;
	enum rrdfile_layout layout;
	char why[256], err[256];
	struct stat sb;
	mode_t mask;

	/* 120 hard bounces in the step ending at T0, in the old file */
	create_older(c, layout1, "120:0:0:0:0:0:0", LAYOUT1_MISSING);

	add_meta(c, "count.api_ok", 9);
	assert_int_equal(chmod(c->rrd, 0640), 0);
	mask = umask(022);
	update(c, T0 + 60, 1);
	umask(mask);
	assert_int_equal(rrdfile_check(c->rrd, &layout, why, sizeof(why), err,
				       sizeof(err)), 0);
	assert_int_equal(layout, RRDFILE_OURS);
	/* the migrated file is still closed to others */
	assert_int_equal(stat(c->rrd, &sb), 0);
	assert_int_equal(sb.st_mode & 007, 0);
	assert_int_equal(count_at(c->rrd, "hard", T0), 120);
	assert_int_equal(count_at(c->rrd, "api_ok", T0 + 60), 9);
}

/* the layout before the feedback-mail sources (nine counts and the
   queue) gets the five fbl_* sources with rrd_tune, its data kept */
static void test_fbl_sources_added(void **state)
{
	struct ctx *c = *state;
	static const char *const old[] = {
		"DS:hard:ABSOLUTE:86400:0:U", "DS:soft:ABSOLUTE:86400:0:U",
		"DS:escalated:ABSOLUTE:86400:0:U",
		"DS:complaint:ABSOLUTE:86400:0:U",
		"DS:unsub:ABSOLUTE:86400:0:U",
		"DS:duplicate:ABSOLUTE:86400:0:U",
		"DS:api_ok:ABSOLUTE:86400:0:U",
		"DS:api_retry:ABSOLUTE:86400:0:U",
		"DS:api_dead:ABSOLUTE:86400:0:U", "DS:queue:GAUGE:120:0:U",
		"RRA:AVERAGE:0.5:1:2880", "RRA:AVERAGE:0.5:5:4032",
		"RRA:AVERAGE:0.5:60:2232", "RRA:AVERAGE:0.5:1440:732",
		"RRA:MAX:0.5:1:2880", "RRA:MAX:0.5:5:4032",
		"RRA:MAX:0.5:60:2232", "RRA:MAX:0.5:1440:732", NULL
	};
	enum rrdfile_layout layout;
	char why[256], err[256];

	/* 60 complaints in the step ending at T0, in the old file */
	create_older(c, old, "0:0:0:60:0:0:0:0:0:0",
		     "no data source fbl_dsn, fbl_autoreply, fbl_authreport, "
		     "fbl_forward, fbl_notours, incident_opened, "
		     "incident_closed, alert_raised, alert_cleared, held, "
		     "incidents_open, alerts_active");

	add_meta(c, "count.fbl_dsn", 7);
	add_meta(c, "count.fbl_notours", 2);
	update(c, T0 + 60, 1);
	assert_int_equal(rrdfile_check(c->rrd, &layout, why, sizeof(why), err,
				       sizeof(err)), 0);
	assert_int_equal(layout, RRDFILE_OURS);
	assert_int_equal(count_at(c->rrd, "complaint", T0), 60);
	assert_int_equal(count_at(c->rrd, "fbl_dsn", T0 + 60), 7);
	assert_int_equal(count_at(c->rrd, "fbl_notours", T0 + 60), 2);
	assert_int_equal(count_at(c->rrd, "fbl_forward", T0 + 60), 0);
}

/* the data source TYPE of DS in PATH ("" when it has none) */
static char *ds_type(const char *path, const char *ds)
{
	char *key = g_strdup_printf("ds[%s].type", ds), *type = g_strdup("");
	rrd_info_t *info = rrd_info_r(path), *e;

	assert_non_null(info);
	for (e = info; e; e = e->next)
		if (strcmp(e->key, key) == 0 && e->type == RD_I_STR) {
			g_free(type);
			type = g_strdup(e->value.u_str);
		}
	rrd_info_free(info);
	g_free(key);
	return type;
}

/* an incident open in the state */
static void open_incident(struct ctx *c, uint64_t id)
{
	struct incident inc;
	MDB_txn *txn = NULL;

	memset(&inc, 0, sizeof(inc));
	inc.id = id;
	inc.state = INCIDENT_ST_OPEN;
	g_strlcpy(inc.source, "192.0.2.10", sizeof(inc.source));
	g_strlcpy(inc.dest, "microsoft", sizeof(inc.dest));
	inc.open_time = T0 - 3600;
	inc.first_time = T0 - 3600;
	assert_int_equal(state_begin(c->st, true, &txn), 0);
	assert_int_equal(incident_put(c->st, txn, &inc), 0);
	assert_int_equal(state_commit(txn), 0);
}

/* the layout before the monitor's sources (fourteen counts and the
   queue) gets them with rrd_tune, its data kept; the counters are fed
   from their meta totals, the gauge from the incident table */
static void test_monitor_sources_added(void **state)
{
	struct ctx *c = *state;
	static const char *const old[] = {
		"DS:hard:ABSOLUTE:86400:0:U", "DS:soft:ABSOLUTE:86400:0:U",
		"DS:escalated:ABSOLUTE:86400:0:U",
		"DS:complaint:ABSOLUTE:86400:0:U",
		"DS:unsub:ABSOLUTE:86400:0:U",
		"DS:duplicate:ABSOLUTE:86400:0:U",
		"DS:api_ok:ABSOLUTE:86400:0:U",
		"DS:api_retry:ABSOLUTE:86400:0:U",
		"DS:api_dead:ABSOLUTE:86400:0:U",
		"DS:fbl_dsn:ABSOLUTE:86400:0:U",
		"DS:fbl_autoreply:ABSOLUTE:86400:0:U",
		"DS:fbl_authreport:ABSOLUTE:86400:0:U",
		"DS:fbl_forward:ABSOLUTE:86400:0:U",
		"DS:fbl_notours:ABSOLUTE:86400:0:U",
		"DS:queue:GAUGE:120:0:U",
		"RRA:AVERAGE:0.5:1:2880", "RRA:AVERAGE:0.5:5:4032",
		"RRA:AVERAGE:0.5:60:2232", "RRA:AVERAGE:0.5:1440:732",
		"RRA:MAX:0.5:1:2880", "RRA:MAX:0.5:5:4032",
		"RRA:MAX:0.5:60:2232", "RRA:MAX:0.5:1440:732", NULL
	};
	static const char *const added[] = {
		"incident_opened", "incident_closed", "alert_raised",
		"alert_cleared", "held",
	};
	enum rrdfile_layout layout;
	char why[256], err[256];
	char *type;
	size_t i;

	/* 180 hard bounces and a queue of 7 in the step ending at T0 */
	create_older(c, old, "180:0:0:0:0:0:0:0:0:0:0:0:0:0:7",
		     "no data source incident_opened, incident_closed, "
		     "alert_raised, alert_cleared, held, incidents_open, "
		     "alerts_active");

	add_meta(c, "count.incident.opened", 2);
	add_meta(c, "count.incident.closed", 1);
	add_meta(c, "count.alert.raised", 3);
	add_meta(c, "count.held", 12);
	open_incident(c, 2);
	update(c, T0 + 60, 1);
	assert_int_equal(rrdfile_check(c->rrd, &layout, why, sizeof(why), err,
				       sizeof(err)), 0);
	assert_int_equal(layout, RRDFILE_OURS);
	for (i = 0; i < G_N_ELEMENTS(added); i++) {
		type = ds_type(c->rrd, added[i]);
		assert_string_equal(type, "ABSOLUTE");
		g_free(type);
	}
	type = ds_type(c->rrd, "incidents_open");
	assert_string_equal(type, "GAUGE");
	g_free(type);
	type = ds_type(c->rrd, "alerts_active");
	assert_string_equal(type, "GAUGE");
	g_free(type);
	/* the old values are there, the new sources fed */
	assert_int_equal(count_at(c->rrd, "hard", T0), 180);
	assert_true(fabs(fetch_at(c->rrd, "queue", T0) - 7.0) < 1e-9);
	assert_int_equal(count_at(c->rrd, "incident_opened", T0 + 60), 2);
	assert_int_equal(count_at(c->rrd, "incident_closed", T0 + 60), 1);
	assert_int_equal(count_at(c->rrd, "alert_raised", T0 + 60), 3);
	assert_int_equal(count_at(c->rrd, "alert_cleared", T0 + 60), 0);
	assert_int_equal(count_at(c->rrd, "held", T0 + 60), 12);
	assert_true(fabs(fetch_at(c->rrd, "incidents_open", T0 + 60) - 1.0) <
		    1e-9);
	assert_true(fabs(fetch_at(c->rrd, "alerts_active", T0 + 60)) < 1e-9);
	/* before the migration the new sources knew nothing */
	assert_true(isnan(fetch_at(c->rrd, "incident_opened", T0)));
}

/* a counting source new to a state fed before starts from its total
   then: its history does not land in one step */
static void test_new_source_starts_at_its_total(void **state)
{
	struct ctx *c = *state;

	/* as an older bounced left it: fed before (its base of hard is
	   there), the monitor's counts without a base */
	put_meta(c, "rrd.time", 0);
	put_meta(c, "rrd.base.hard", 0);
	add_meta(c, "count.hard", 5);
	add_meta(c, "count.incident.opened", 40);
	update(c, T0 + 60, 1);
	assert_int_equal(count_at(c->rrd, "hard", T0 + 60), 5);
	assert_int_equal(count_at(c->rrd, "incident_opened", T0 + 60), 0);
	assert_int_equal(get_meta(c, "rrd.base.incident_opened"), 40);
	add_meta(c, "count.incident.opened", 1);
	update(c, T0 + 120, 1);
	assert_int_equal(count_at(c->rrd, "incident_opened", T0 + 120), 1);
}

/* another layout is moved aside (kept) and a new file made */
static void test_other_layout_moved_aside(void **state)
{
	struct ctx *c = *state;
	static const char *const other[] = {
		"DS:bounces:COUNTER:600:0:U", "RRA:AVERAGE:0.5:1:600", NULL
	};
	enum rrdfile_layout layout;
	char why[256], err[256];
	GDir *d;
	const char *name;
	int aside = 0;

	create_rrd(c->rrd, 300, other);
	assert_int_equal(rrdfile_check(c->rrd, &layout, why, sizeof(why), err,
				       sizeof(err)), 0);
	assert_int_equal(layout, RRDFILE_OTHER);
	assert_string_equal(why, "step 300 s, not 60 s");
	update(c, T0, 1);
	assert_int_equal(rrdfile_check(c->rrd, &layout, why, sizeof(why), err,
				       sizeof(err)), 0);
	assert_int_equal(layout, RRDFILE_OURS);
	d = g_dir_open(c->dir, 0, NULL);
	while ((name = g_dir_read_name(d)) != NULL)
		if (g_str_has_prefix(name, "bounced.rrd.old-"))
			aside++;
	g_dir_close(d);
	assert_int_equal(aside, 1);
}

/* a file that is no RRD at all is kept aside too */
static void test_garbage_moved_aside(void **state)
{
	struct ctx *c = *state;
	enum rrdfile_layout layout;
	char why[256], err[256];

	assert_true(g_file_set_contents(c->rrd, "not an rrd\n", -1, NULL));
	assert_int_equal(rrdfile_check(c->rrd, &layout, why, sizeof(why), err,
				       sizeof(err)), -EINVAL);
	update(c, T0, 1);
	assert_int_equal(rrdfile_check(c->rrd, &layout, why, sizeof(why), err,
				       sizeof(err)), 0);
	assert_int_equal(layout, RRDFILE_OURS);
}

/* the layout as created: step, sources, archives */
static void test_created_layout(void **state)
{
	struct ctx *c = *state;
	rrd_info_t *info, *e;
	int rras = 0, abs = 0, gauge = 0;
	long step = 0;
	char err[256];

	assert_int_equal(rrdfile_create(c->rrd, T0, err, sizeof(err)), 0);
	assert_int_equal(rrdfile_create(c->rrd, T0, err, sizeof(err)), -EEXIST);
	info = rrd_info_r(c->rrd);
	assert_non_null(info);
	for (e = info; e; e = e->next) {
		if (strcmp(e->key, "step") == 0)
			step = (long)e->value.u_cnt;
		if (g_str_has_suffix(e->key, "].type") && e->type == RD_I_STR) {
			abs += strcmp(e->value.u_str, "ABSOLUTE") == 0;
			gauge += strcmp(e->value.u_str, "GAUGE") == 0;
		}
		if (g_str_has_prefix(e->key, "rra[") &&
		    g_str_has_suffix(e->key, "].cf"))
			rras++;
	}
	rrd_info_free(info);
	assert_int_equal(step, 60);
	assert_int_equal(abs, 19);
	assert_int_equal(gauge, 3);
	assert_int_equal(rras, 8);
}

/* created 0640 whatever the umask; a name that is not a regular file is
   never moved aside or replaced */
static void test_created_mode_and_not_ours(void **state)
{
	struct ctx *c = *state;
	char *fifo = g_build_filename(c->dir, "fifo.rrd", NULL);
	char *other = g_build_filename(c->dir, "someones.txt", NULL);
	char *link = g_build_filename(c->dir, "link.rrd", NULL);
	char err[512], *text = NULL;
	struct stat sb;
	mode_t mask = umask(0);
	GDir *d;
	const char *n;

	assert_int_equal(rrdfile_create(c->rrd, T0, err, sizeof(err)), 0);
	umask(mask);
	assert_int_equal(stat(c->rrd, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0640);

	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(rrdfile_ensure(fifo, T0, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "is a FIFO, not a regular file"));
	assert_int_equal(lstat(fifo, &sb), 0);
	assert_true(S_ISFIFO(sb.st_mode));

	assert_true(g_file_set_contents(other, "not an rrd\n", -1, NULL));
	assert_int_equal(symlink(other, link), 0);
	assert_int_equal(rrdfile_ensure(link, T0, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "symbolic link to a file of another "
				    "layout"));
	assert_int_equal(lstat(link, &sb), 0);
	assert_true(S_ISLNK(sb.st_mode));
	assert_true(g_file_get_contents(other, &text, NULL, NULL));
	assert_string_equal(text, "not an rrd\n");
	g_free(text);
	/* nothing was moved aside */
	d = g_dir_open(c->dir, 0, NULL);
	assert_non_null(d);
	while ((n = g_dir_read_name(d)) != NULL)
		assert_null(strstr(n, ".old-"));
	g_dir_close(d);
	/* a link to an RRD of ours is used */
	assert_int_equal(unlink(link), 0);
	assert_int_equal(symlink(c->rrd, link), 0);
	assert_int_equal(rrdfile_ensure(link, T0, err, sizeof(err)), 0);
	g_free(fifo);
	g_free(other);
	g_free(link);
}

/* the Prometheus text, exactly */
static void test_textfile_format(void **state)
{
	struct metrics_snapshot s;
	GString *o;
	unsigned i;

	(void)state;
	memset(&s, 0, sizeof(s));
	for (i = 0; i < METRICS_N_DS; i++)
		s.v[i] = 10 + i;
	s.records = 99;
	s.dead = 2;
	/* a destination and a source, a label value that needs escaping */
	s.n_rates = 2;
	s.rates[0].dim = ALERT_BY_DESTINATION;
	strcpy(s.rates[0].name, "gmail");
	s.rates[0].c[RATES_C_DELIVERIES] = 900;
	s.rates[0].c[RATES_C_HARD] = 50;
	s.rates[0].c[RATES_C_SOFT] = 50;
	s.rates[0].c[RATES_C_COMPLAINTS] = 3;
	s.rates[1].dim = ALERT_BY_SOURCE;
	strcpy(s.rates[1].name, "pool\"a");
	s.rates[1].c[RATES_C_DELIVERIES] = 10;
	o = metrics_textfile_format(&s, 1795000000);
	assert_string_equal(o->str,
		"# HELP bounced_records_total Accounting records and list lines taken.\n"
		"# TYPE bounced_records_total counter\n"
		"bounced_records_total 99\n"
		"# HELP bounced_events_total Events taken, by kind (duplicate: an "
		"address already suppressed).\n"
		"# TYPE bounced_events_total counter\n"
		"bounced_events_total{kind=\"hard\"} 10\n"
		"bounced_events_total{kind=\"soft\"} 11\n"
		"bounced_events_total{kind=\"escalated\"} 12\n"
		"bounced_events_total{kind=\"complaint\"} 13\n"
		"bounced_events_total{kind=\"unsub\"} 14\n"
		"bounced_events_total{kind=\"duplicate\"} 15\n"
		"# HELP bounced_provider_actions_total Provider actions finished "
		"(ok), rescheduled after a transient failure (retry) or given up "
		"(dead).\n"
		"# TYPE bounced_provider_actions_total counter\n"
		"bounced_provider_actions_total{result=\"ok\"} 16\n"
		"bounced_provider_actions_total{result=\"retry\"} 17\n"
		"bounced_provider_actions_total{result=\"dead\"} 18\n"
		"# HELP bounced_fbl_set_aside_total Mails of the feedback maildir "
		"that were no complaint about our mail, by kind.\n"
		"# TYPE bounced_fbl_set_aside_total counter\n"
		"bounced_fbl_set_aside_total{kind=\"dsn\"} 19\n"
		"bounced_fbl_set_aside_total{kind=\"auto-reply\"} 20\n"
		"bounced_fbl_set_aside_total{kind=\"auth-report\"} 21\n"
		"bounced_fbl_set_aside_total{kind=\"forward\"} 22\n"
		"bounced_fbl_set_aside_total{kind=\"not-ours\"} 23\n"
		"# HELP bounced_incidents_total Sender-side incidents (a source "
		"blocked at a destination) opened and closed.\n"
		"# TYPE bounced_incidents_total counter\n"
		"bounced_incidents_total{event=\"opened\"} 25\n"
		"bounced_incidents_total{event=\"closed\"} 26\n"
		"# HELP bounced_incidents_open Sender-side incidents open now.\n"
		"# TYPE bounced_incidents_open gauge\n"
		"bounced_incidents_open 30\n"
		"# HELP bounced_held_total Hard bounces held by an open incident "
		"(applied or dropped when it closes).\n"
		"# TYPE bounced_held_total counter\n"
		"bounced_held_total 29\n"
		"# HELP bounced_alerts_total Rate alerts ([alerts] rules) raised "
		"and cleared.\n"
		"# TYPE bounced_alerts_total counter\n"
		"bounced_alerts_total{event=\"raised\"} 27\n"
		"bounced_alerts_total{event=\"cleared\"} 28\n"
		"# HELP bounced_alerts_active Rate alerts up now.\n"
		"# TYPE bounced_alerts_active gauge\n"
		"bounced_alerts_active 31\n"
		"# HELP bounced_rate_attempts Deliveries and bounces in the last "
		"hour of records, per destination and source (the busiest 10 of "
		"each).\n"
		"# TYPE bounced_rate_attempts gauge\n"
		"bounced_rate_attempts{dimension=\"destination\",name=\"gmail\"} "
		"1000\n"
		"bounced_rate_attempts{dimension=\"source\",name=\"pool\\\"a\"} "
		"10\n"
		"# HELP bounced_bounce_rate Hard bounces of the attempts in the last "
		"hour of records (0..1).\n"
		"# TYPE bounced_bounce_rate gauge\n"
		"bounced_bounce_rate{dimension=\"destination\",name=\"gmail\"} "
		"0.05\n"
		"bounced_bounce_rate{dimension=\"source\",name=\"pool\\\"a\"} 0\n"
		"# HELP bounced_complaint_rate Complaints of the deliveries in the "
		"last hour of records (0..1).\n"
		"# TYPE bounced_complaint_rate gauge\n"
		"bounced_complaint_rate{dimension=\"destination\",name=\"gmail\"} "
		"0.00333333\n"
		"bounced_complaint_rate{dimension=\"source\",name=\"pool\\\"a\"} "
		"0\n"
		"# HELP bounced_outbox_actions Provider actions waiting in the outbox.\n"
		"# TYPE bounced_outbox_actions gauge\n"
		"bounced_outbox_actions 24\n"
		"# HELP bounced_dead_actions Provider actions in the dead-letter table.\n"
		"# TYPE bounced_dead_actions gauge\n"
		"bounced_dead_actions 2\n"
		"# HELP bounced_metrics_updated_seconds Unix time these values were read.\n"
		"# TYPE bounced_metrics_updated_seconds gauge\n"
		"bounced_metrics_updated_seconds 1795000000\n");
	g_string_free(o, TRUE);
}

/* the textfile is written with the tick, replacing the old one whole */
static void test_textfile_written(void **state)
{
	struct ctx *c = *state;
	struct metrics *m = NULL;
	char err[256], *text = NULL, *path;
	struct stat sb;
	mode_t mask;

	path = g_build_filename(c->dir, "bounced.prom", NULL);
	c->cfg->metrics_textfile = g_strdup(path);
	assert_true(g_file_set_contents(path, "old", -1, NULL));
	assert_int_equal(metrics_new(&m, c->cfg, c->st, T0 - 60, err,
				     sizeof(err)), 0);
	add_meta(c, "count.unsub", 3);
	assert_int_equal(metrics_flush(m, T0), 1);
	assert_true(g_file_get_contents(path, &text, NULL, NULL));
	assert_non_null(strstr(text, "bounced_events_total{kind=\"unsub\"} 3\n"));
	assert_non_null(strstr(text, "bounced_metrics_updated_seconds 1795000020\n"));
	mask = umask(022);
	umask(mask);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0644 & ~mask);
	g_free(text);
	/* a second flush in the same second: the next step, the file
	   rewritten */
	add_meta(c, "count.unsub", 1);
	assert_int_equal(metrics_flush(m, T0), 1);
	assert_int_equal(count_at(c->rrd, "unsub", T0 + 60), 1);
	assert_true(g_file_get_contents(path, &text, NULL, NULL));
	assert_non_null(strstr(text, "bounced_events_total{kind=\"unsub\"} 4\n"));
	g_free(text);
	metrics_free(m);
	g_free(path);
}

/* the clock ran an hour ahead, then was set right: the RRD takes no
   step before its last one and waits (said once), but the textfile is
   still written every minute */
static void test_clock_set_back(void **state)
{
	struct ctx *c = *state;
	struct metrics *m = NULL;
	char err[256], *path;
	int64_t t;
	int files = 0;

	path = g_build_filename(c->dir, "bounced.prom", NULL);
	c->cfg->metrics_textfile = g_strdup(path);
	assert_int_equal(metrics_new(&m, c->cfg, c->st, T0 - 30, err,
				     sizeof(err)), 0);
	add_meta(c, "count.hard", 3);
	assert_int_equal(metrics_tick(m, T0), 1);
	assert_int_equal(metrics_tick(m, T0 + 3600), 1);	/* ahead */
	for (t = T0 + 120; t < T0 + 600; t += 60) {
		assert_int_equal(unlink(path), 0);
		assert_int_equal(metrics_tick(m, t), 0);
		files += access(path, F_OK) == 0;
	}
	assert_int_equal(files, 8);
	/* the same minute again: not written twice */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(metrics_tick(m, T0 + 540 + 30), 0);
	assert_int_equal(access(path, F_OK), -1);
	metrics_free(m);
	/* a start: the minute it started in is no going back */
	assert_int_equal(metrics_new(&m, c->cfg, c->st, T0 + 7210, err,
				     sizeof(err)), 0);
	assert_int_equal(metrics_tick(m, T0 + 7220), 0);
	assert_int_equal(access(path, F_OK), -1);
	metrics_free(m);
	g_free(path);
}

/* a symbolic link to an RRD of the older layout stays a link: the file
   it names is migrated */
static void test_link_to_older_layout_stays_a_link(void **state)
{
	struct ctx *c = *state;
	char *real = g_build_filename(c->dir, "real.rrd", NULL);
	char *link = c->rrd;
	enum rrdfile_layout layout;
	char why[256], err[256];
	struct stat sb;

	c->rrd = real;
	create_older(c, layout1, "120:0:0:0:0:0:0", LAYOUT1_MISSING);
	c->rrd = link;
	assert_int_equal(symlink(real, link), 0);
	update(c, T0 + 60, 1);
	assert_int_equal(lstat(link, &sb), 0);
	assert_true(S_ISLNK(sb.st_mode));
	assert_int_equal(rrdfile_check(real, &layout, why, sizeof(why), err,
				       sizeof(err)), 0);
	assert_int_equal(layout, RRDFILE_OURS);
	g_free(real);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_samples_per_step, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api_counts_and_gap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_repeated_step_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_step, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_after_rrd_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_before_rrd_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_after_tick_same_second,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_sets_base, setup, teardown),
		cmocka_unit_test_setup_teardown(test_older_layout_migrated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fbl_sources_added, setup, teardown),
		cmocka_unit_test_setup_teardown(test_monitor_sources_added, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_source_starts_at_its_total, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_layout_moved_aside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_moved_aside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_created_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_created_mode_and_not_ours, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clock_set_back, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_link_to_older_layout_stays_a_link, setup,
			teardown),
		cmocka_unit_test(test_textfile_format),
		cmocka_unit_test_setup_teardown(test_textfile_written, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
