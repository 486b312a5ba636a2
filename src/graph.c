/*
 * graph.c - draw the metrics' panels with rrd_graph_v into memory.
 *
 * The argument vector is built here from fixed tables; the only outside
 * text in it is the RRD's path (colons escaped, as DEF requires) and the
 * host name in the title.  The image comes back from librrd as the
 * "image" blob of its info list (output file "-"), so nothing is written
 * here: the caller decides where it goes.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rrd.h>

#include "graph.h"
#include "metrics.h"

struct graph_series {
	unsigned ds;		/* enum metrics_ds */
	const char *legend;	/* padded to one width */
	const char *color;
};

static const struct {
	const char *name, *title;
	struct graph_series s[4];
	unsigned n;
} graph_panels[GRAPH_N_PANELS] = {
	[GRAPH_BOUNCES] = { "bounces", "Bounces", {
		{ METRICS_HARD, "Hard bounces        ", "#d62728" },
		{ METRICS_SOFT, "Soft bounces        ", "#ff7f0e" },
		{ METRICS_ESCALATED, "Escalated to hard   ", "#9467bd" },
		{ METRICS_DUPLICATE, "Duplicates          ", "#7f7f7f" },
	}, 4 },
	[GRAPH_COMPLAINTS] = { "complaints", "Complaints and unsubscribes", {
		{ METRICS_COMPLAINT, "Complaints          ", "#d62728" },
		{ METRICS_UNSUB, "Unsubscribes        ", "#1f77b4" },
	}, 2 },
	[GRAPH_API] = { "api", "Provider API", {
		{ METRICS_API_OK, "Actions done        ", "#2ca02c" },
		{ METRICS_API_RETRY, "Retried later       ", "#ff7f0e" },
		{ METRICS_API_DEAD, "Dead letters        ", "#d62728" },
	}, 3 },
};

static const struct {
	const char *name, *span_text, *unit;
	int64_t span, per;	/* seconds shown; seconds per unit */
} graph_periods[GRAPH_N_PERIODS] = {
	[GRAPH_DAY] = { "day", "last 24 hours", "minute", 86400, 60 },
	[GRAPH_WEEK] = { "week", "last 7 days", "hour", 7 * 86400, 3600 },
	[GRAPH_MONTH] = { "month", "last 31 days", "hour", 31 * 86400, 3600 },
	[GRAPH_YEAR] = { "year", "last 365 days", "day", 365 * 86400, 86400 },
};

const char *graph_panel_name(enum graph_panel p)
{
	return (unsigned)p < GRAPH_N_PANELS ? graph_panels[p].name : "?";
}

const char *graph_period_name(enum graph_period p)
{
	return (unsigned)p < GRAPH_N_PERIODS ? graph_periods[p].name : "?";
}

const char *graph_format_name(enum graph_format f)
{
	return f == GRAPH_SVG ? "svg" : "png";
}

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

/* graph_escape - PATH with ':' and '\' escaped for a DEF */
static char *graph_escape(const char *path)
{
	GString *o = g_string_new(NULL);

	for (; *path; path++) {
		if (*path == ':' || *path == '\\')
			g_string_append_c(o, '\\');
		g_string_append_c(o, *path);
	}
	return g_string_free(o, FALSE);
}

/* what the legends say, from rrd_fetch: librrd's own TOTAL works on the
   graph's pixel resolution, where a known step merged with an unknown one
   (the step under way) would count twice */
struct graph_sums {
	double total[METRICS_N_DS];	/* counts over the period */
	double peak[METRICS_N_DS];	/* highest rate, per second */
	double last[METRICS_N_DS];	/* latest known value (the queue) */
};

/* graph_fetch_sums - S over (START, END] at the finest resolution the
   RRD keeps for that span; 0 or -EIO with ERR */
static int graph_fetch_sums(const char *path, int64_t start, int64_t end,
			    struct graph_sums *s, char *err, size_t errlen)
{
	time_t t0 = (time_t)start, t1 = (time_t)end;
	unsigned long step = METRICS_STEP, n_ds = 0, i, k, rows;
	char **names = NULL;
	rrd_value_t *data = NULL;
	unsigned ds;

	memset(s, 0, sizeof(*s));
	rrd_clear_error();
	if (rrd_fetch_r(path, "AVERAGE", &t0, &t1, &step, &n_ds, &names,
			&data) != 0) {
		snprintf(err, errlen, "cannot read '%s': %s", path,
			 rrd_get_error());
		rrd_clear_error();
		return -EIO;
	}
	rows = step ? (unsigned long)(t1 - t0) / step : 0;
	for (k = 0; k < n_ds; k++) {
		for (ds = 0; ds < METRICS_N_DS; ds++)
			if (strcmp(names[k], metrics_ds_name(ds)) == 0)
				break;
		for (i = 0; ds < METRICS_N_DS && i < rows; i++) {
			double v = data[i * n_ds + k];

			if (isnan(v))
				continue;
			s->total[ds] += v * (double)step;
			s->peak[ds] = MAX(s->peak[ds], v);
			s->last[ds] = v;
		}
		rrd_freemem(names[k]);
	}
	rrd_freemem(names);
	rrd_freemem(data);
	return 0;
}

/* graph_series_args - DEF, CDEF, line and legend of one count */
static void graph_series_args(GPtrArray *a, const char *file,
			      const struct graph_series *s, int64_t per,
			      const char *unit, const struct graph_sums *sum)
{
	const char *n = metrics_ds_name(s->ds);

	g_ptr_array_add(a, g_strdup_printf("DEF:%s=%s:%s:AVERAGE", n, file, n));
	/* unknown (before the file, the step under way) drawn as 0, so
	   that a lone busy step between unknown ones still shows */
	g_ptr_array_add(a, g_strdup_printf("CDEF:%s_u=%s,UN,0,%s,IF,%" PRId64
					   ",*", n, n, n, per));
	g_ptr_array_add(a, g_strdup_printf("LINE2:%s_u%s:%s", n, s->color,
					   s->legend));
	g_ptr_array_add(a, g_strdup_printf("COMMENT:total %9.0f   peak %8.1f "
					   "per %s\\l", sum->total[s->ds],
					   sum->peak[s->ds] * (double)per,
					   unit));
}

/* graph_queue_args - the queue gauge of the API panel */
static void graph_queue_args(GPtrArray *a, const char *file,
			     const struct graph_sums *sum)
{
	g_ptr_array_add(a, g_strdup_printf("DEF:queue=%s:queue:AVERAGE", file));
	g_ptr_array_add(a, g_strdup("LINE1:queue#1f77b4:Queue length        "));
	g_ptr_array_add(a, g_strdup_printf("COMMENT:now   %9.0f   peak %8.0f "
					   "actions\\l",
					   sum->last[METRICS_QUEUE],
					   sum->peak[METRICS_QUEUE]));
}

/* graph_args - the whole argument vector (NULL-terminated) */
static GPtrArray *graph_args(const char *rrd_path, enum graph_panel panel,
			     enum graph_period period,
			     const struct graph_opts *o,
			     const struct graph_sums *sum)
{
	GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
	char *file = graph_escape(rrd_path);
	const char *unit = graph_periods[period].unit;
	unsigned i;

	g_ptr_array_add(a, g_strdup("graph"));
	g_ptr_array_add(a, g_strdup("-"));
	g_ptr_array_add(a, g_strdup_printf("--start=%" PRId64,
					   o->end - graph_periods[period].span));
	g_ptr_array_add(a, g_strdup_printf("--end=%" PRId64, o->end));
	g_ptr_array_add(a, g_strdup_printf("--width=%u", o->width));
	g_ptr_array_add(a, g_strdup_printf("--height=%u", o->height));
	g_ptr_array_add(a, g_strdup("--full-size-mode"));
	g_ptr_array_add(a, g_strdup_printf("--imgformat=%s",
					   o->format == GRAPH_SVG ? "SVG" : "PNG"));
	g_ptr_array_add(a, g_strdup_printf("--title=%s, %s%s%s",
					   graph_panels[panel].title,
					   graph_periods[period].span_text,
					   o->host ? " on " : "",
					   o->host ? o->host : ""));
	g_ptr_array_add(a, g_strdup_printf("--vertical-label=%s per %s",
					   panel == GRAPH_API ? "actions" :
								"events",
					   unit));
	g_ptr_array_add(a, g_strdup("--lower-limit=0"));
	g_ptr_array_add(a, g_strdup("--slope-mode"));
	for (i = 0; i < graph_panels[panel].n; i++)
		graph_series_args(a, file, &graph_panels[panel].s[i],
				  graph_periods[period].per, unit, sum);
	if (panel == GRAPH_API)
		graph_queue_args(a, file, sum);
	g_ptr_array_add(a, NULL);
	g_free(file);
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

int graph_render(const char *rrd_path, enum graph_panel panel,
		 enum graph_period period, const struct graph_opts *opts,
		 GBytes **out, char *err, size_t errlen)
{
	struct graph_sums sum;
	GPtrArray *a;
	rrd_info_t *info;
	int rc = 0;

	*out = NULL;
	if ((unsigned)panel >= GRAPH_N_PANELS ||
	    (unsigned)period >= GRAPH_N_PERIODS ||
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
	rc = graph_fetch_sums(rrd_path, opts->end - graph_periods[period].span,
			      opts->end, &sum, err, errlen);
	if (rc)
		return rc;
	a = graph_args(rrd_path, panel, period, opts, &sum);
	rrd_clear_error();
	info = rrd_graph_v((int)a->len - 1, (char **)a->pdata);
	if (info && !rrd_test_error())
		*out = graph_image(info);
	if (!*out) {
		snprintf(err, errlen, "cannot draw the %s graph of '%s': %s",
			 graph_panel_name(panel), rrd_path,
			 rrd_test_error() ? rrd_get_error() : "no image");
		rc = -EIO;
	}
	rrd_clear_error();
	rrd_info_free(info);
	g_ptr_array_free(a, TRUE);
	return rc;
}
