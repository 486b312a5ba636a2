/*
 * graph.c - the metrics' panels: counts binned from the RRD's archives,
 * drawn by rrd_graph_v into memory as stacked areas.
 *
 * Why not draw the RRD directly: librrd reads one archive per period,
 * the coarsest that covers it, so a year graph showed nothing of the day
 * under way (the 1-day archive consolidates at midnight) and its legend
 * disagreed with the day graph's for the same events; and it averaged
 * steps into pixels, so the highest point drawn was not the peak the
 * legend named.  Here each bin of the period is summed from the finest
 * archive that still holds it (rrd_fetch of that archive's resolution),
 * the bins are written into a temporary RRD of one row per bin (in a
 * private temporary directory, removed by graph_data_free), and that is
 * what librrd draws, with no more bins than the image has pixels.
 *
 * The argument vectors are built here from fixed tables; the only outside
 * text in them is the host name in the title.  The image comes back from
 * librrd as the "image" blob of its info list (output file "-"), the
 * legend as its "legend[N]" entries.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "graph.h"
#include "metrics.h"
#include "rrd_lib.h"

#define GRAPH_MAX_RRA 16	/* AVERAGE archives looked at */
#define GRAPH_MARGIN 140	/* pixels of the image that are not the plot
				   (axis labels, margins), a little more */

/* a series: a data source (its kind, count or gauge, is the one of
   metrics_ds_kind), its legend and how it is drawn */
struct graph_series {
	unsigned ds;		/* enum metrics_ds */
	const char *legend;	/* padded to one width */
	const char *color;
	bool line;		/* a line over the areas, not stacked */
};

static const struct {
	const char *name, *title;
	const char *what;	/* the unit of the vertical axis */
	struct graph_series s[5];
	unsigned n;
} graph_panels[GRAPH_N_PANELS] = {
	[GRAPH_BOUNCES] = { "bounces", "Bounces", "events", {
		{ METRICS_HARD, "Hard bounces        ", "#d62728", false },
		{ METRICS_SOFT, "Soft bounces        ", "#ff7f0e", false },
		{ METRICS_ESCALATED, "Escalated to hard   ", "#9467bd", false },
		{ METRICS_DUPLICATE, "Duplicates          ", "#7f7f7f", false },
		{ METRICS_HELD, "Held in incidents   ", "#8c564b", false },
	}, 5 },
	[GRAPH_COMPLAINTS] = { "complaints", "Complaints and unsubscribes",
			       "events", {
		{ METRICS_COMPLAINT, "Complaints          ", "#d62728", false },
		{ METRICS_UNSUB, "Unsubscribes        ", "#1f77b4", false },
	}, 2 },
	[GRAPH_API] = { "api", "Provider API", "actions", {
		{ METRICS_API_OK, "Actions done        ", "#2ca02c", false },
		{ METRICS_API_RETRY, "Retried later       ", "#ff7f0e", false },
		{ METRICS_API_DEAD, "Dead letters        ", "#d62728", false },
	}, 3 },
	[GRAPH_QUEUE] = { "queue", "Provider actions waiting", "actions", {
		{ METRICS_QUEUE, "Queue length        ", "#1f77b4", false },
	}, 1 },
	[GRAPH_INCIDENTS] = { "incidents", "Sender-side incidents",
			      "incidents", {
		{ METRICS_INCIDENT_OPENED, "Incidents opened    ", "#d62728",
		  false },
		{ METRICS_INCIDENT_CLOSED, "Incidents closed    ", "#2ca02c",
		  false },
		{ METRICS_INCIDENTS_OPEN, "Incidents open      ", "#1f77b4",
		  true },
	}, 3 },
	[GRAPH_ALERTS] = { "alerts", "Rate alerts", "alerts", {
		{ METRICS_ALERT_RAISED, "Alerts raised       ", "#ff7f0e",
		  false },
		{ METRICS_ALERT_CLEARED, "Alerts cleared      ", "#2ca02c",
		  false },
		{ METRICS_ALERTS_ACTIVE, "Alerts active       ", "#9467bd",
		  true },
	}, 3 },
};

/* the bins a period is drawn in, the finest first: the first that gives
   each bin a pixel is taken */
static const struct {
	const char *name, *span_text;
	int64_t span;		/* seconds shown */
	int64_t bins[6];	/* seconds per bin, 0 ends */
} graph_periods[GRAPH_N_PERIODS] = {
	[GRAPH_DAY] = { "day", "last 24 hours", 86400,
			{ 300, 600, 900, 1800, 3600, 0 } },
	[GRAPH_WEEK] = { "week", "last 7 days", 7 * 86400,
			 { 3600, 7200, 10800, 21600, 43200, 86400 } },
	[GRAPH_MONTH] = { "month", "last 31 days", 31 * 86400,
			  { 21600, 43200, 86400, 172800, 0 } },
	[GRAPH_YEAR] = { "year", "last 365 days", 365 * 86400,
			 { 86400, 172800, 604800, 0 } },
};

/* one AVERAGE archive of the RRD */
struct graph_rra {
	unsigned long res;	/* seconds per row */
	int64_t first, last;	/* rows end in (first, last] */
};

struct graph_data {
	const struct rrd_lib *R; /* librrd (rrd_lib.h) */
	enum graph_period period;
	int64_t bin;		/* seconds per bin */
	int64_t t0;		/* bins end at t0 + (k + 1) * bin */
	size_t n;		/* bins */
	double *v[METRICS_N_DS]; /* per bin: a count's sum, a gauge's
				    highest; NAN when no archive knew it */
	double total[METRICS_N_DS], peak[METRICS_N_DS];
	double now[METRICS_N_DS]; /* a gauge's latest level known */
	int64_t now_t[METRICS_N_DS];
	char *dir, *file;	/* the temporary RRD drawn */
};

/* graph_panel_name - "bounces", ... */
const char *graph_panel_name(enum graph_panel p)
{
	return (unsigned)p < GRAPH_N_PANELS ? graph_panels[p].name : "?";
}

/* graph_panel_title - "Bounces", ... */
const char *graph_panel_title(enum graph_panel p)
{
	return (unsigned)p < GRAPH_N_PANELS ? graph_panels[p].title : "?";
}

/* graph_period_name - "day", ... */
const char *graph_period_name(enum graph_period p)
{
	return (unsigned)p < GRAPH_N_PERIODS ? graph_periods[p].name : "?";
}

/* graph_period_title - "last 24 hours", ... */
const char *graph_period_title(enum graph_period p)
{
	return (unsigned)p < GRAPH_N_PERIODS ? graph_periods[p].span_text :
					       "?";
}

/* graph_format_name - "png" or "svg" */
const char *graph_format_name(enum graph_format f)
{
	return f == GRAPH_SVG ? "svg" : "png";
}

/* graph_period_parse - a period's name back */
int graph_period_parse(const char *s, enum graph_period *p)
{
	unsigned i;

	for (i = 0; s && i < GRAPH_N_PERIODS; i++)
		if (strcmp(s, graph_periods[i].name) == 0) {
			*p = (enum graph_period)i;
			return 0;
		}
	return -EINVAL;
}

/* graph_format_parse - a format's name back */
int graph_format_parse(const char *s, enum graph_format *f)
{
	if (s && strcmp(s, "png") == 0)
		*f = GRAPH_PNG;
	else if (s && strcmp(s, "svg") == 0)
		*f = GRAPH_SVG;
	else
		return -EINVAL;
	return 0;
}

/* graph_unit - "5 minutes", "hour", ... for a bin of SECONDS */
static const char *graph_unit(int64_t seconds, char *buf, size_t len)
{
	static const struct {
		int64_t sec;
		const char *one;
	} units[] = { { 604800, "week" }, { 86400, "day" }, { 3600, "hour" },
		      { 60, "minute" } };
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(units); i++) {
		if (seconds % units[i].sec)
			continue;
		if (seconds == units[i].sec)
			snprintf(buf, len, "%s", units[i].one);
		else
			snprintf(buf, len, "%" PRId64 " %ss",
				 seconds / units[i].sec, units[i].one);
		return buf;
	}
	snprintf(buf, len, "%" PRId64 " seconds", seconds);
	return buf;
}

/* graph_rrd_err - "WHAT 'PATH': librrd's message" into ERR; -EIO */
static int graph_rrd_err(const struct rrd_lib *R, char *err, size_t errlen,
			 const char *what, const char *path)
{
	snprintf(err, errlen, "cannot %s '%s': %s", what, path,
		 R->test_error() ? R->get_error() : "unknown error");
	R->clear_error();
	return -EIO;
}

/* graph_layout - the AVERAGE archives of PATH, finest first, and its
   last update (*LAST_UPDATE); how many, or -EIO */
static int graph_layout(const struct rrd_lib *R, const char *path,
			struct graph_rra *rra, size_t max,
			int64_t *last_update, char *err, size_t errlen)
{
	unsigned long step = 0, rows[GRAPH_MAX_RRA] = { 0 },
		      ppr[GRAPH_MAX_RRA] = { 0 };
	bool avg[GRAPH_MAX_RRA] = { false };
	int64_t last = 0;
	rrd_info_t *info, *p;
	size_t i, j, n = 0;

	R->clear_error();
	info = R->info_r(path);
	if (!info)
		return graph_rrd_err(R, err, errlen, "read", path);
	for (p = info; p; p = p->next) {
		unsigned k;
		char field[32];

		if (strcmp(p->key, "step") == 0 && p->type == RD_I_CNT)
			step = p->value.u_cnt;
		else if (strcmp(p->key, "last_update") == 0 &&
			 p->type == RD_I_CNT)
			last = (int64_t)p->value.u_cnt;
		else if (sscanf(p->key, "rra[%u].%31s", &k, field) == 2 &&
			 k < GRAPH_MAX_RRA) {
			if (strcmp(field, "cf") == 0 && p->type == RD_I_STR)
				avg[k] = strcmp(p->value.u_str, "AVERAGE") == 0;
			else if (strcmp(field, "rows") == 0 &&
				 p->type == RD_I_CNT)
				rows[k] = p->value.u_cnt;
			else if (strcmp(field, "pdp_per_row") == 0 &&
				 p->type == RD_I_CNT)
				ppr[k] = p->value.u_cnt;
		}
	}
	R->info_free(info);
	*last_update = last;
	for (i = 0; i < GRAPH_MAX_RRA && n < max; i++) {
		struct graph_rra r;

		if (!avg[i] || !rows[i] || !ppr[i] || !step)
			continue;
		r.res = step * ppr[i];
		r.last = last - last % (int64_t)r.res;
		r.first = r.last - (int64_t)(r.res * rows[i]);
		for (j = n; j > 0 && rra[j - 1].res > r.res; j--)
			rra[j] = rra[j - 1];
		rra[j] = r;
		n++;
	}
	if (n == 0) {
		snprintf(err, errlen, "cannot read '%s': no AVERAGE archive",
			 path);
		return -EIO;
	}
	return (int)n;
}

/* graph_pick_bin - the bin of PERIOD for an image WIDTH wide: the finest
   that gives each bin a pixel and that an archive divides */
static int64_t graph_pick_bin(enum graph_period period, unsigned width,
			      const struct graph_rra *rra, size_t n_rra)
{
	const int64_t *bins = graph_periods[period].bins;
	int64_t span = graph_periods[period].span, plot, last = 0;
	size_t i, k;

	plot = width > GRAPH_MARGIN + 24 ? (int64_t)width - GRAPH_MARGIN : 24;
	for (i = 0; i < G_N_ELEMENTS(graph_periods[period].bins) && bins[i];
	     i++) {
		bool divides = false;

		last = bins[i];
		for (k = 0; k < n_rra; k++)
			divides = divides || bins[i] % (int64_t)rra[k].res == 0;
		if (divides && (span + bins[i] - 1) / bins[i] <= plot)
			return bins[i];
	}
	return last;
}

/* graph_bin_rra - the finest archive that divides BIN and still holds
   the bin starting at B0, or -1 */
static int graph_bin_rra(const struct graph_rra *rra, size_t n_rra,
			 int64_t bin, int64_t b0)
{
	size_t k;

	for (k = 0; k < n_rra; k++)
		if (bin % (int64_t)rra[k].res == 0 && rra[k].first <= b0)
			return (int)k;
	return -1;
}

/* graph_add_rows - the rows of archive K over the bins it was given
   (OWNER[bin] == K) into D; 0 or -EIO */
static int graph_add_rows(struct graph_data *d, const char *path,
			  const struct graph_rra *r, int k, const int *owner,
			  char *err, size_t errlen)
{
	size_t first = d->n, last = 0, i, row, rows;
	time_t t0, t1;
	unsigned long step = r->res, n_ds = 0, c;
	char **names = NULL;
	rrd_value_t *data = NULL;
	int64_t end;

	for (i = 0; i < d->n; i++)
		if (owner[i] == k) {
			first = MIN(first, i);
			last = i;
		}
	if (first == d->n)
		return 0;
	t0 = (time_t)(d->t0 + (int64_t)first * d->bin);
	end = MIN(d->t0 + (int64_t)(last + 1) * d->bin, r->last);
	if (end <= (int64_t)t0)
		return 0;
	t1 = (time_t)end;
	d->R->clear_error();
	if (d->R->fetch_r(path, "AVERAGE", &t0, &t1, &step, &n_ds, &names,
			  &data) != 0)
		return graph_rrd_err(d->R, err, errlen, "read", path);
	rows = step ? (size_t)((t1 - t0) / (time_t)step) : 0;
	for (c = 0; c < n_ds; c++) {
		unsigned ds;

		for (ds = 0; ds < METRICS_N_DS; ds++)
			if (strcmp(names[c], metrics_ds_name(ds)) == 0)
				break;
		for (row = 0; ds < METRICS_N_DS && row < rows; row++) {
			double v = data[row * n_ds + c];
			int64_t te = (int64_t)t0 + (int64_t)(row + 1) *
						   (int64_t)step;
			int64_t b;

			if (isnan(v) || te <= d->t0)
				continue;
			b = (te - d->t0 - 1) / d->bin;
			if (b < 0 || (size_t)b >= d->n || owner[b] != k ||
			    d->bin % (int64_t)step != 0)
				continue;
			if (metrics_ds_kind(ds) == METRICS_GAUGE) {
				if (isnan(d->v[ds][b]) || v > d->v[ds][b])
					d->v[ds][b] = v;
				if (te > d->now_t[ds]) {
					d->now_t[ds] = te;
					d->now[ds] = v;
				}
				continue;
			}
			if (isnan(d->v[ds][b]))
				d->v[ds][b] = 0;
			d->v[ds][b] += v * (double)step;
		}
		d->R->freemem(names[c]);
	}
	d->R->freemem(names);
	d->R->freemem(data);
	return 0;
}

/* graph_sums - totals and peaks of the bins (counts rounded: the RRD
   keeps rates, a count of 3 may come back as 2.9999999) */
static void graph_sums(struct graph_data *d)
{
	size_t i;
	unsigned ds;

	for (ds = 0; ds < METRICS_N_DS; ds++) {
		d->total[ds] = d->peak[ds] = 0;
		for (i = 0; i < d->n; i++) {
			double v = d->v[ds][i];

			if (isnan(v))
				continue;
			if (metrics_ds_kind(ds) == METRICS_COUNT)
				v = d->v[ds][i] = round(v);
			d->total[ds] += v;
			d->peak[ds] = MAX(d->peak[ds], v);
		}
	}
}

/* graph_write_bins - the bins into a new RRD D->file of one row per bin;
   0 or -EIO */
static int graph_write_bins(struct graph_data *d, char *err, size_t errlen)
{
	GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
	GString *u = g_string_new(NULL);
	unsigned ds;
	size_t i;
	int rc = 0;

	for (ds = 0; ds < METRICS_N_DS; ds++)
		g_ptr_array_add(a, g_strdup_printf("DS:%s:GAUGE:%" PRId64
						   ":U:U", metrics_ds_name(ds),
						   2 * d->bin));
	g_ptr_array_add(a, g_strdup_printf("RRA:AVERAGE:0.5:1:%zu", d->n + 2));
	d->R->clear_error();
	if (d->R->create_r(d->file, (unsigned long)d->bin, (time_t)d->t0,
			   (int)a->len, (const char **)a->pdata) != 0) {
		rc = graph_rrd_err(d->R, err, errlen, "create", d->file);
		goto out;
	}
	g_ptr_array_set_size(a, 0);
	for (i = 0; i < d->n; i++) {
		g_string_printf(u, "%" PRId64, d->t0 + (int64_t)(i + 1) * d->bin);
		for (ds = 0; ds < METRICS_N_DS; ds++) {
			if (isnan(d->v[ds][i]))
				g_string_append(u, ":U");
			else
				g_string_append_printf(u, ":%.6f",
						       d->v[ds][i]);
		}
		g_ptr_array_add(a, g_strdup(u->str));
	}
	d->R->clear_error();
	if (a->len && d->R->update_r(d->file, NULL, (int)a->len,
				     (const char **)a->pdata) != 0)
		rc = graph_rrd_err(d->R, err, errlen, "write", d->file);
out:
	g_string_free(u, TRUE);
	g_ptr_array_free(a, TRUE);
	return rc;
}

/* graph_data_load - the binned counts of a period and their RRD */
int graph_data_load(const char *rrd_path, enum graph_period period,
		    const struct graph_opts *opts, struct graph_data **out,
		    char *err, size_t errlen)
{
	struct graph_rra rra[GRAPH_MAX_RRA];
	const struct rrd_lib *R;
	struct graph_data *d = NULL;
	int *owner = NULL;
	int n_rra, rc = 0;
	int64_t end, last_update = 0;
	size_t i;
	unsigned ds;

	*out = NULL;
	if ((unsigned)period >= GRAPH_N_PERIODS ||
	    opts->width < GRAPH_SIZE_MIN || opts->width > GRAPH_SIZE_MAX ||
	    opts->height < GRAPH_SIZE_MIN || opts->height > GRAPH_SIZE_MAX) {
		snprintf(err, errlen, "bad graph options (sizes are %d to %d)",
			 GRAPH_SIZE_MIN, GRAPH_SIZE_MAX);
		return -EINVAL;
	}
	if (access(rrd_path, R_OK) != 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot read '%s': %s%s", rrd_path,
			 strerror(errno), errno == ENOENT ?
			 " (bounced creates it on its first update)" : "");
		return rc;
	}
	R = rrd_lib_get(err, errlen);
	if (!R)
		return -ELIBACC;
	n_rra = graph_layout(R, rrd_path, rra, GRAPH_MAX_RRA, &last_update,
			     err, errlen);
	if (n_rra < 0)
		return n_rra;
	d = g_new0(struct graph_data, 1);
	d->R = R;
	d->period = period;
	d->bin = graph_pick_bin(period, opts->width, rra, (size_t)n_rra);
	d->n = (size_t)((graph_periods[period].span + d->bin - 1) / d->bin);
	/* the last row may be stamped at the end of the minute under way
	   (metrics_flush): the period reaches it, or a graph drawn on a bin's
	   boundary would leave out what was counted just before */
	end = opts->end;
	if (last_update > end && last_update - end <= METRICS_STEP)
		end = last_update;
	end += (d->bin - end % d->bin) % d->bin;
	d->t0 = end - (int64_t)d->n * d->bin;
	for (ds = 0; ds < METRICS_N_DS; ds++) {
		d->now[ds] = NAN;
		d->v[ds] = g_new(double, d->n);
		for (i = 0; i < d->n; i++)
			d->v[ds][i] = NAN;
	}
	owner = g_new(int, d->n);
	for (i = 0; i < d->n; i++)
		owner[i] = graph_bin_rra(rra, (size_t)n_rra, d->bin,
					 d->t0 + (int64_t)i * d->bin);
	for (i = 0; rc == 0 && i < (size_t)n_rra; i++)
		rc = graph_add_rows(d, rrd_path, &rra[i], (int)i, owner, err,
				    errlen);
	g_free(owner);
	if (rc)
		goto fail;
	graph_sums(d);
	d->dir = g_dir_make_tmp("bounced-graph-XXXXXX", NULL);
	if (!d->dir) {
		snprintf(err, errlen, "cannot make a temporary directory in "
			 "%s: %s", g_get_tmp_dir(), strerror(errno));
		rc = -EIO;
		goto fail;
	}
	d->file = g_build_filename(d->dir, "bins.rrd", NULL);
	rc = graph_write_bins(d, err, errlen);
	if (rc)
		goto fail;
	*out = d;
	return 0;
fail:
	graph_data_free(d);
	return rc;
}

/* graph_data_free - the bins and the temporary RRD */
void graph_data_free(struct graph_data *d)
{
	unsigned ds;

	if (!d)
		return;
	if (d->file)
		(void)unlink(d->file);
	if (d->dir)
		(void)rmdir(d->dir);
	g_free(d->file);
	g_free(d->dir);
	for (ds = 0; ds < METRICS_N_DS; ds++)
		g_free(d->v[ds]);
	g_free(d);
}

/* graph_series_args - DEF, CDEF, the area (stacked on the areas before
   it when STACK) or line, and its legend: a count's total and highest
   bin, a gauge's level now and highest */
static void graph_series_args(GPtrArray *a, const struct graph_data *d,
			      const struct graph_series *s, bool stack,
			      const char *unit, const char *what)
{
	const char *n = metrics_ds_name(s->ds);

	g_ptr_array_add(a, g_strdup_printf("DEF:%s=%s:%s:AVERAGE", n, d->file,
					   n));
	/* a bin no archive knew (before the RRD) is drawn as 0 */
	g_ptr_array_add(a, g_strdup_printf("CDEF:%s_z=%s,UN,0,%s,IF", n, n, n));
	if (s->line)
		g_ptr_array_add(a, g_strdup_printf("LINE2:%s_z%s:%s", n,
						   s->color, s->legend));
	else
		g_ptr_array_add(a, g_strdup_printf("AREA:%s_z%s:%s%s", n,
						   s->color, s->legend,
						   stack ? ":STACK" : ""));
	if (metrics_ds_kind(s->ds) == METRICS_GAUGE)
		g_ptr_array_add(a, g_strdup_printf(
			"COMMENT:now %9.0f, highest %7.0f %s\\l",
			isnan(d->now[s->ds]) ? 0 : d->now[s->ds],
			d->peak[s->ds], what));
	else
		g_ptr_array_add(a, g_strdup_printf(
			"COMMENT:total %9.0f, highest %7.0f per %s\\l",
			d->total[s->ds], d->peak[s->ds], unit));
}

/* graph_args - the whole argument vector (NULL-terminated) */
static GPtrArray *graph_args(const struct graph_data *d,
			     enum graph_panel panel,
			     const struct graph_opts *o)
{
	GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
	const char *what = graph_panels[panel].what;
	bool counts = false, areas = false;
	char unit[32];
	unsigned i;

	graph_unit(d->bin, unit, sizeof(unit));
	for (i = 0; i < graph_panels[panel].n; i++)
		counts = counts || metrics_ds_kind(graph_panels[panel].s[i].ds)
					== METRICS_COUNT;
	g_ptr_array_add(a, g_strdup("graph"));
	g_ptr_array_add(a, g_strdup("-"));
	g_ptr_array_add(a, g_strdup_printf("--start=%" PRId64, d->t0));
	g_ptr_array_add(a, g_strdup_printf("--end=%" PRId64,
					   d->t0 + (int64_t)d->n * d->bin));
	g_ptr_array_add(a, g_strdup_printf("--width=%u", o->width));
	g_ptr_array_add(a, g_strdup_printf("--height=%u", o->height));
	g_ptr_array_add(a, g_strdup("--full-size-mode"));
	g_ptr_array_add(a, g_strdup_printf("--imgformat=%s",
					   o->format == GRAPH_SVG ? "SVG" : "PNG"));
	g_ptr_array_add(a, g_strdup_printf("--title=%s, %s%s%s",
					   graph_panels[panel].title,
					   graph_periods[d->period].span_text,
					   o->host ? " on " : "",
					   o->host ? o->host : ""));
	if (counts)
		g_ptr_array_add(a, g_strdup_printf("--vertical-label=%s per %s",
						   what, unit));
	else
		g_ptr_array_add(a, g_strdup_printf("--vertical-label=%s "
						   "(highest per %s)", what,
						   unit));
	g_ptr_array_add(a, g_strdup("--lower-limit=0"));
	g_ptr_array_add(a, g_strdup("--units-exponent=0"));
	for (i = 0; i < graph_panels[panel].n; i++) {
		const struct graph_series *s = &graph_panels[panel].s[i];

		graph_series_args(a, d, s, areas, unit, what);
		areas = areas || !s->line;
	}
	g_ptr_array_add(a, NULL);
	return a;
}

/* graph_image - the "image" blob of INFO, copied; NULL when absent */
static GBytes *graph_image(const rrd_info_t *info)
{
	for (; info; info = info->next)
		if (info->key && strcmp(info->key, "image") == 0 &&
		    info->type == RD_I_BLO)
			return g_bytes_new(info->value.u_blo.ptr,
					   info->value.u_blo.size);
	return NULL;
}

/* graph_words - S with its runs of blanks made one, ends trimmed */
static void graph_words(GString *o, const char *s)
{
	bool blank = false;

	while (*s == ' ')
		s++;
	for (; *s; s++) {
		if (*s == ' ') {
			blank = true;
			continue;
		}
		if (blank)
			g_string_append_c(o, ' ');
		blank = false;
		g_string_append_c(o, *s);
	}
}

/* graph_legend - the legend lines of INFO, "NAME: NUMBERS" each (the
   series' name, then the comment after it) */
static char *graph_legend(const rrd_info_t *info)
{
	GString *o = g_string_new(NULL);
	bool name_next = true;

	for (; info; info = info->next) {
		if (!info->key || strncmp(info->key, "legend[", 7) != 0 ||
		    info->type != RD_I_STR)
			continue;
		graph_words(o, info->value.u_str);
		g_string_append(o, name_next ? ": " : "\n");
		name_next = !name_next;
	}
	return g_string_free(o, FALSE);
}

/* graph_data_render - one panel as an image, and its legend */
int graph_data_render(struct graph_data *d, enum graph_panel panel,
		      const struct graph_opts *opts, GBytes **img,
		      char **legend, char *err, size_t errlen)
{
	rrd_info_t *info;
	GPtrArray *a;
	int rc = 0;

	*img = NULL;
	if (legend)
		*legend = NULL;
	if ((unsigned)panel >= GRAPH_N_PANELS) {
		snprintf(err, errlen, "no such panel");
		return -EINVAL;
	}
	a = graph_args(d, panel, opts);
	d->R->clear_error();
	info = d->R->graph_v((int)a->len - 1, (char **)a->pdata);
	if (info && !d->R->test_error())
		*img = graph_image(info);
	if (!*img) {
		snprintf(err, errlen, "cannot draw the %s graph: %s",
			 graph_panel_name(panel),
			 d->R->test_error() ? d->R->get_error() : "no image");
		rc = -EIO;
	} else if (legend) {
		*legend = graph_legend(info);
	}
	d->R->clear_error();
	d->R->info_free(info);
	g_ptr_array_free(a, TRUE);
	return rc;
}

/* graph_render - one panel of one period, straight from the RRD */
int graph_render(const char *rrd_path, enum graph_panel panel,
		 enum graph_period period, const struct graph_opts *opts,
		 GBytes **out, char *err, size_t errlen)
{
	struct graph_data *d = NULL;
	int rc;

	*out = NULL;
	rc = graph_data_load(rrd_path, period, opts, &d, err, errlen);
	if (rc == 0)
		rc = graph_data_render(d, panel, opts, out, NULL, err, errlen);
	graph_data_free(d);
	return rc;
}
