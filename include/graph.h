/*
 * graph.h - the metrics' graphs, drawn by librrd (rrd_graph_v, argument
 * vectors built here: no shell, no rrdtool program).
 *
 * Six panels over the RRD of metrics.h: bounces (hard, soft, escalated,
 * duplicates, held in incidents), complaints and unsubscribes, provider
 * API (actions done, retried, dead), the outbox queue's length,
 * sender-side incidents (opened, closed, open now) and rate alerts
 * (raised, cleared, active now).  Whether a series is a count or a gauge
 * is its data source's kind (metrics_ds_kind).  The counts are drawn
 * as stacked areas, one band per series, each bar the count of one
 * interval (the "bin": 5 minutes over a day, an hour over a week, 6 hours
 * over a month, a day over a year; longer when the image is too narrow
 * to give each bin a pixel), and the vertical axis names that interval.
 * The legend gives each series' total over the period and its highest
 * bar, the numbers drawn.  A gauge is drawn as its highest level in each
 * bin (an area alone, a line over counts) and its legend gives the level
 * now and the highest.
 *
 * Truth before speed: the counts of a period are summed here, bin by
 * bin, from the finest archive of the RRD that still holds each bin (the
 * last two days come from the 1-minute archive, whatever the period), so
 * the same events give the same totals in every period, and the hour or
 * day under way, not yet consolidated into the coarse archives, is
 * counted too.  The bins are written into a temporary RRD of one row per
 * bin, which librrd draws: what is drawn is what the legend says.
 *
 * Functions return 0 or -errno with a message in ERR (librrd's quoted).
 * One thread only (librrd's error buffer).
 */
#ifndef BOUNCED_GRAPH_H
#define BOUNCED_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include <glib.h>

enum graph_panel {
	GRAPH_BOUNCES = 0,
	GRAPH_COMPLAINTS,
	GRAPH_API,
	GRAPH_QUEUE,
	GRAPH_INCIDENTS,
	GRAPH_ALERTS,
	GRAPH_N_PANELS
};

enum graph_period {
	GRAPH_DAY = 0,
	GRAPH_WEEK,
	GRAPH_MONTH,
	GRAPH_YEAR,
	GRAPH_N_PERIODS
};

enum graph_format {
	GRAPH_PNG = 0,
	GRAPH_SVG,
};

#define GRAPH_WIDTH_DEFAULT 800
#define GRAPH_HEIGHT_DEFAULT 260
#define GRAPH_SIZE_MIN 200	/* room for the legend */
#define GRAPH_SIZE_MAX 4000

struct graph_opts {
	unsigned width, height;	/* GRAPH_SIZE_MIN..GRAPH_SIZE_MAX */
	enum graph_format format;
	int64_t end;		/* Unix time of the right edge */
	const char *host;	/* named in the titles; NULL = none */
};

/* names as files and options use them: "bounces", "complaints", "api",
   "queue", "incidents", "alerts"; "day", "week", "month", "year"; "png", "svg" */
const char *graph_panel_name(enum graph_panel p);
const char *graph_period_name(enum graph_period p);
const char *graph_format_name(enum graph_format f);
/* graph_panel_title - "Bounces", ...; graph_period_title - "last 24
   hours", ... */
const char *graph_panel_title(enum graph_panel p);
const char *graph_period_title(enum graph_period p);
/* graph_period_parse, graph_format_parse - a name back; 0 or -EINVAL */
int graph_period_parse(const char *s, enum graph_period *p);
int graph_format_parse(const char *s, enum graph_format *f);

/* the counts of one period, binned, ready to draw every panel */
struct graph_data;

/*
 * graph_data_load - the counts of PERIOD ending at OPTS->end, from the
 * RRD at RRD_PATH, into *OUT (graph_data_free).  -ENOENT when there is no
 * RRD yet, -EINVAL for bad options, -EIO when librrd fails.
 */
int graph_data_load(const char *rrd_path, enum graph_period period,
		    const struct graph_opts *opts, struct graph_data **out,
		    char *err, size_t errlen);

/*
 * graph_data_render - PANEL of D as an image in *IMG (g_bytes_unref it)
 * and, when LEGEND is not NULL, the legend as librrd drew it, one line
 * per series ("Hard bounces: total 9, highest 3 per 5 minutes"), in
 * *LEGEND (g_free).
 */
int graph_data_render(struct graph_data *d, enum graph_panel panel,
		      const struct graph_opts *opts, GBytes **img,
		      char **legend, char *err, size_t errlen);

/* graph_data_free - the counts and their temporary RRD */
void graph_data_free(struct graph_data *d);

/* graph_render - graph_data_load, one graph_data_render, graph_data_free */
int graph_render(const char *rrd_path, enum graph_panel panel,
		 enum graph_period period, const struct graph_opts *opts,
		 GBytes **out, char *err, size_t errlen);

#endif
