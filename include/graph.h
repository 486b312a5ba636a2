/*
 * graph.h - the metrics' graphs, drawn by librrd (rrd_graph_v, argument
 * vectors built here: no shell, no rrdtool program).
 *
 * Three panels over the RRD of metrics.h: bounces (hard, soft, escalated,
 * duplicates), complaints and unsubscribes, provider API (ok, retry, dead
 * per unit of time, and the queue length).  Rates are shown per minute
 * over a day, per hour over a week or a month, per day over a year; the
 * legend gives each series' total over the period (exact counts) and its
 * peak.  The image is exactly WIDTH x HEIGHT pixels (PNG) or points (SVG).
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

/* names as files and options use them: "bounces", "complaints", "api";
   "day", "week", "month", "year"; "png", "svg" */
const char *graph_panel_name(enum graph_panel p);
const char *graph_period_name(enum graph_period p);
const char *graph_format_name(enum graph_format f);
/* graph_period_parse, graph_format_parse - a name back; 0 or -EINVAL */
int graph_period_parse(const char *s, enum graph_period *p);
int graph_format_parse(const char *s, enum graph_format *f);

/*
 * graph_render - PANEL over PERIOD from the RRD at RRD_PATH, as an image
 * in *OUT (g_bytes_unref it).  -ENOENT when there is no RRD yet, -EINVAL
 * for bad options, -EIO when librrd fails.
 */
int graph_render(const char *rrd_path, enum graph_panel panel,
		 enum graph_period period, const struct graph_opts *opts,
		 GBytes **out, char *err, size_t errlen);

#endif
