/*
 * ctl_report_chart.c - a line chart of rates written as inline SVG into
 * the report: one polyline per series over equal time bins, a
 * percentage axis scaled to the highest value, hour labels (UTC) under
 * it, and a legend in words that names each series with the numbers an
 * operator looks for (the rate over the whole span, its volume, the
 * highest bin and when).
 *
 * Why SVG written here and not librrd: the series are named by what the
 * records carry (campaign ids, destinations), and librrd's graph
 * arguments are a small language of their own (colons, backslashes, %
 * formats): a name from a record would have to be escaped for it.  Here
 * every name is XML-escaped text, the SVG is a few kilobytes and needs no
 * temporary file, and the browser draws it at any size.
 *
 * A bin with no volume has no rate: the line breaks there (a lone point
 * is drawn as a dot).  Nothing here fails: the chart is text appended to
 * a GString.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <glib.h>

#include "ctl.h"

#define CHART_LEFT 64		/* pixels left of the plot (axis labels) */
#define CHART_RIGHT 16
#define CHART_TOP 28		/* the title */
#define CHART_BOTTOM 36		/* the hour labels and the axis title */
#define CHART_LEGEND_LINE 18	/* one legend line */
#define CHART_GRID 4		/* horizontal grid lines above 0 */

/* ctl_chart_colors - the series' colors, the last one for "other" */
static const char *const ctl_chart_colors[] = {
	"#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
	"#e377c2", "#17becf",
};

/* ctl_chart_color - the color of series S, the I-th ("other": grey) */
static const char *ctl_chart_color(const struct ctl_chart_series *s, size_t i)
{
	if (s->other)
		return "#7f7f7f";
	return ctl_chart_colors[i % G_N_ELEMENTS(ctl_chart_colors)];
}

/* ctl_chart_top - a round upper bound of the axis for values up to MAX:
   CHART_GRID steps of 1, 2 or 5 times a power of ten */
static double ctl_chart_top(double max)
{
	static const double mant[] = { 1, 2, 2.5, 5, 10 };
	double step, p;
	size_t i;

	if (!(max > 0))
		return 1.0;
	p = pow(10, floor(log10(max / CHART_GRID)));
	for (i = 0; i < G_N_ELEMENTS(mant); i++) {
		step = mant[i] * p;
		if (step * CHART_GRID >= max)
			return step * CHART_GRID;
	}
	return 10 * p * CHART_GRID;
}

/* ctl_chart_esc - S as XML text */
static void ctl_chart_esc(GString *o, const char *s)
{
	char *e = g_markup_escape_text(s ? s : "", -1);

	g_string_append(o, e);
	g_free(e);
}

/* ctl_chart_hour - "HH:MM" (UTC) of T */
static void ctl_chart_hour(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, len, "%H:%M", &tm);
}

/* ctl_chart_pct - a rate in percent, as few digits as make it clear */
static void ctl_chart_pct(GString *o, double v)
{
	g_string_append_printf(o, v >= 10 ? "%.1f %%" : "%.2f %%", v);
}

/* ctl_chart_line - series S as polylines (a dot for a lone bin) */
static void ctl_chart_line(GString *o, const struct ctl_chart *c,
			   const struct ctl_chart_series *s, const char *color,
			   double x0, double dx, double y0, double ky)
{
	size_t i = 0, j;

	while (i < c->n) {
		if (isnan(s->v[i])) {
			i++;
			continue;
		}
		for (j = i; j < c->n && !isnan(s->v[j]); j++)
			;
		if (j - i == 1) {
			g_string_append_printf(o, "<circle cx=\"%.1f\" cy=\"%.1f"
					       "\" r=\"2.5\" fill=\"%s\"/>\n",
					       x0 + dx * ((double)i + 0.5),
					       y0 - ky * s->v[i], color);
		} else {
			g_string_append_printf(o, "<polyline fill=\"none\" "
					       "stroke=\"%s\" stroke-width=\"2\""
					       " points=\"", color);
			for (; i < j; i++)
				g_string_append_printf(o, "%.1f,%.1f%s",
						       x0 + dx * ((double)i + 0.5),
						       y0 - ky * s->v[i],
						       i + 1 < j ? " " : "");
			g_string_append(o, "\"/>\n");
		}
		i = j;
	}
}

/* ctl_chart_legend - one legend line of series S at Y */
static void ctl_chart_legend(GString *o, const struct ctl_chart *c,
			     const struct ctl_chart_series *s,
			     const char *color, double y)
{
	char when[16];
	double peak = NAN;
	size_t i, at = 0;

	for (i = 0; i < c->n; i++)
		if (!isnan(s->v[i]) && (isnan(peak) || s->v[i] > peak)) {
			peak = s->v[i];
			at = i;
		}
	g_string_append_printf(o, "<rect x=\"%d\" y=\"%.1f\" width=\"12\" "
			       "height=\"12\" fill=\"%s\"/>\n<text x=\"%d\" "
			       "y=\"%.1f\" class=\"legend\" data-series=\"",
			       CHART_LEFT, y - 10, color, CHART_LEFT + 18, y);
	ctl_chart_esc(o, s->name);
	g_string_append(o, "\">");
	ctl_chart_esc(o, s->name);
	g_string_append(o, ": ");
	if (s->volume)
		ctl_chart_pct(o, s->rate);
	else
		g_string_append(o, "-");
	g_string_append_printf(o, " over %s (%" PRIu64 " %s)", c->span_text,
			       s->volume, c->volume_text);
	if (!isnan(peak)) {
		ctl_chart_hour(c->t0 + (int64_t)at * c->bin, when,
			       sizeof(when));
		g_string_append(o, ", highest ");
		ctl_chart_pct(o, peak);
		g_string_append_printf(o, " at %s", when);
	}
	g_string_append(o, "</text>\n");
}

void ctl_report_chart(GString *o, const struct ctl_chart *c)
{
	double plot_w = (double)(c->width - CHART_LEFT - CHART_RIGHT);
	double plot_h = (double)(c->height - CHART_TOP - CHART_BOTTOM);
	double x0 = CHART_LEFT, y0 = CHART_TOP + plot_h;
	double max = 0, top, dx, ky;
	unsigned height = c->height + (unsigned)c->ns * CHART_LEGEND_LINE + 8;
	size_t i, k;
	char when[16];

	for (k = 0; k < c->ns; k++)
		for (i = 0; i < c->n; i++)
			if (!isnan(c->s[k].v[i]) && c->s[k].v[i] > max)
				max = c->s[k].v[i];
	top = ctl_chart_top(max);
	dx = c->n ? plot_w / (double)c->n : plot_w;
	ky = plot_h / top;
	g_string_append_printf(o, "<figure><svg id=\"%s\" class=\"chart\" "
			       "width=\"%u\" height=\"%u\" viewBox=\"0 0 %u %u\""
			       " role=\"img\" font-family=\"sans-serif\" "
			       "font-size=\"12\">\n<title>", c->id, c->width,
			       height, c->width, height);
	ctl_chart_esc(o, c->title);
	g_string_append_printf(o, "</title>\n<rect width=\"%u\" height=\"%u\""
			       " fill=\"#fff\"/>\n<text x=\"%u\" y=\"18\" "
			       "text-anchor=\"middle\" font-weight=\"bold\">",
			       c->width, height, c->width / 2);
	ctl_chart_esc(o, c->title);
	g_string_append(o, "</text>\n");
	/* the grid and the percentage axis */
	for (k = 0; k <= CHART_GRID; k++) {
		double v = top * (double)k / CHART_GRID, y = y0 - ky * v;

		g_string_append_printf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\""
				       "%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n"
				       "<text x=\"%.1f\" y=\"%.1f\" text-anchor"
				       "=\"end\">", x0, y, x0 + plot_w, y,
				       k ? "#e4e4e4" : "#888", x0 - 6, y + 4);
		g_string_append_printf(o, top < 1 ? "%.2f %%" : top < 10 ?
				       "%.1f %%" : "%.0f %%", v);
		g_string_append(o, "</text>\n");
	}
	/* an hour label at every fourth bin start (UTC) */
	for (i = 0; i <= c->n; i += 4) {
		double x = x0 + dx * (double)i;

		ctl_chart_hour(c->t0 + (int64_t)i * c->bin, when, sizeof(when));
		g_string_append_printf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\""
				       "%.1f\" y2=\"%.1f\" stroke=\"#888\"/>\n"
				       "<text x=\"%.1f\" y=\"%.1f\" text-anchor"
				       "=\"middle\">%s</text>\n", x, y0, x,
				       y0 + 4, x, y0 + 17, when);
	}
	g_string_append_printf(o, "<text x=\"%.1f\" y=\"%.1f\" text-anchor="
			       "\"middle\" fill=\"#444\">", x0 + plot_w / 2,
			       y0 + 32);
	ctl_chart_esc(o, c->axis_text);
	g_string_append(o, "</text>\n");
	for (k = 0; k < c->ns; k++) {
		const char *color = ctl_chart_color(&c->s[k], k);

		g_string_append(o, "<g class=\"series\" data-series=\"");
		ctl_chart_esc(o, c->s[k].name);
		g_string_append(o, "\"><title>");
		ctl_chart_esc(o, c->s[k].name);
		g_string_append(o, "</title>\n");
		ctl_chart_line(o, c, &c->s[k], color, x0, dx, y0, ky);
		g_string_append(o, "</g>\n");
	}
	for (k = 0; k < c->ns; k++)
		ctl_chart_legend(o, c, &c->s[k], ctl_chart_color(&c->s[k], k),
				 (double)c->height + 4 +
				 (double)(k + 1) * CHART_LEGEND_LINE - 4);
	if (c->ns == 0)
		g_string_append_printf(o, "<text x=\"%.1f\" y=\"%.1f\" text-"
				       "anchor=\"middle\">nothing counted</text>"
				       "\n", x0 + plot_w / 2, y0 - plot_h / 2);
	g_string_append(o, "</svg></figure>\n");
}
