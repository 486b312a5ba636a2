/*
 * ctl_report_rates.c - the report's rates section: the busiest campaigns
 * and destinations of the last 24 hours of records with their bounce and
 * complaint rates, the same hour by hour as charts (the five busiest of
 * each dimension and the rest as "(other)", from the store's hour
 * buckets; drawn by ctl_report_chart.c), and the busiest destinations day
 * by day over the last week (the rates store: rates_store.h).
 *
 * Times are record times: the last 24 hours and 7 days end at the newest
 * record counted.  Names come from the records: escaped for HTML.
 * Errors: the state's (-errno) from the gathering; formatting cannot fail.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "ctl.h"
#include "rates_store.h"

#define RR_TOP 10		/* names per table */
#define RR_DAYS 7		/* days of the table over time */
#define RR_DAY_TOP 5		/* destinations in it */
#define RR_HOURS 24		/* bins of the charts */
#define RR_CHART_TOP 5		/* names drawn; the rest is "(other)" */
#define RR_CHART_HEIGHT 260	/* the plot and its axes, pixels */

/* one name's counts */
struct rr_row {
	char *name;
	uint64_t c[RATES_COUNTERS];
	uint64_t day[RR_DAYS][RATES_COUNTERS];	/* oldest first */
	uint64_t hour[RR_HOURS][RATES_COUNTERS];	/* oldest first */
};

/* a walk's sums by name */
struct rr_walk {
	GHashTable *h;		/* name -> struct rr_row */
	int64_t day0;		/* start of the oldest day (by day) or hour
				   (by hour) */
	bool by_day, by_hour;
};

static void rr_row_free(gpointer p)
{
	struct rr_row *r = p;

	g_free(r->name);
	g_free(r);
}

static int rr_cb(const char *name, int64_t start,
		 const uint64_t c[RATES_COUNTERS], void *arg)
{
	struct rr_walk *w = arg;
	struct rr_row *r = g_hash_table_lookup(w->h, name);
	int i;

	if (!r) {
		r = g_new0(struct rr_row, 1);
		r->name = g_strdup(name);
		g_hash_table_insert(w->h, r->name, r);
	}
	for (i = 0; i < RATES_COUNTERS; i++)
		r->c[i] += c[i];
	if (w->by_day && start >= w->day0) {
		int64_t d = (start - w->day0) / 86400;

		if (d < RR_DAYS)
			for (i = 0; i < RATES_COUNTERS; i++)
				r->day[d][i] += c[i];
	}
	if (w->by_hour && start >= w->day0) {
		int64_t h = (start - w->day0) / 3600;

		if (h < RR_HOURS)
			for (i = 0; i < RATES_COUNTERS; i++)
				r->hour[h][i] += c[i];
	}
	return 0;
}

/* rr_attempts - deliveries and bounces of C */
static uint64_t rr_attempts(const uint64_t *c)
{
	return c[RATES_C_DELIVERIES] + c[RATES_C_HARD] + c[RATES_C_SOFT];
}

static int rr_cmp(const void *a, const void *b)
{
	const struct rr_row *x = *(const struct rr_row *const *)a;
	const struct rr_row *y = *(const struct rr_row *const *)b;
	uint64_t ax = rr_attempts(x->c), ay = rr_attempts(y->c);

	if (ax != ay)
		return ax > ay ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* rr_pct - N of D in percent, "-" when D is 0 */
static void rr_pct(GString *o, uint64_t n, uint64_t d)
{
	if (d)
		g_string_append_printf(o, "%.2f %%", 100.0 * (double)n /
					(double)d);
	else
		g_string_append(o, "-");
}

/* rr_sorted - W's rows, busiest first (the array is the caller's) */
static struct rr_row **rr_sorted(const struct rr_walk *w, size_t *n)
{
	struct rr_row **v = g_new(struct rr_row *,
				  g_hash_table_size(w->h) + 1);
	GHashTableIter it;
	gpointer k, val;

	*n = 0;
	g_hash_table_iter_init(&it, w->h);
	while (g_hash_table_iter_next(&it, &k, &val))
		v[(*n)++] = val;
	qsort(v, *n, sizeof(*v), rr_cmp);
	return v;
}

/* rr_table - the busiest names of one dimension */
static void rr_table(GString *o, const char *caption, const char *col,
		     const struct rr_walk *w)
{
	size_t n, i;
	struct rr_row **v = rr_sorted(w, &n);

	g_string_append_printf(o, "<table>\n<caption>%s</caption>\n<tr><th>%s"
			       "</th><th>attempts</th><th>hard</th>"
			       "<th>complaints</th><th>bounce rate</th>"
			       "<th>complaint rate</th></tr>\n", caption, col);
	for (i = 0; i < n && i < RR_TOP; i++) {
		char *e = g_markup_escape_text(v[i]->name, -1);

		g_string_append_printf(o, "<tr><td>%s</td><td>%" PRIu64
				       "</td><td>%" PRIu64 "</td><td>%" PRIu64
				       "</td><td>", e, rr_attempts(v[i]->c),
				       v[i]->c[RATES_C_HARD],
				       v[i]->c[RATES_C_COMPLAINTS]);
		rr_pct(o, v[i]->c[RATES_C_HARD], rr_attempts(v[i]->c));
		g_string_append(o, "</td><td>");
		rr_pct(o, v[i]->c[RATES_C_COMPLAINTS],
		       v[i]->c[RATES_C_DELIVERIES]);
		g_string_append(o, "</td></tr>\n");
		g_free(e);
	}
	if (n == 0)
		g_string_append(o, "<tr><td colspan=\"6\">nothing counted in "
				   "the last 24 hours of records</td></tr>\n");
	g_string_append(o, "</table>\n");
	g_free(v);
}

/* rr_days - the busiest destinations of the week, day by day */
static void rr_days(GString *o, const struct rr_walk *w)
{
	size_t n, i;
	int d;
	struct rr_row **v = rr_sorted(w, &n);

	g_string_append(o, "<table>\n<caption>Destinations day by day: bounce "
			   "rate / complaint rate</caption>\n<tr>"
			   "<th>destination</th>");
	for (d = 0; d < RR_DAYS; d++) {
		GDateTime *t = g_date_time_new_from_unix_utc(w->day0 +
							      d * 86400);
		char *s = t ? g_date_time_format(t, "%m-%d") : NULL;

		g_string_append_printf(o, "<th>%s</th>", s ? s : "?");
		g_free(s);
		if (t)
			g_date_time_unref(t);
	}
	g_string_append(o, "</tr>\n");
	for (i = 0; i < n && i < RR_DAY_TOP; i++) {
		char *e = g_markup_escape_text(v[i]->name, -1);

		g_string_append_printf(o, "<tr><td>%s</td>", e);
		for (d = 0; d < RR_DAYS; d++) {
			const uint64_t *c = v[i]->day[d];

			g_string_append(o, "<td>");
			rr_pct(o, c[RATES_C_HARD], rr_attempts(c));
			g_string_append(o, " / ");
			rr_pct(o, c[RATES_C_COMPLAINTS], c[RATES_C_DELIVERIES]);
			g_string_append(o, "</td>");
		}
		g_string_append(o, "</tr>\n");
		g_free(e);
	}
	g_string_append(o, "</table>\n");
	g_free(v);
}

/* rr_rate - N of D in percent, NAN when D is 0 */
static double rr_rate(uint64_t n, uint64_t d)
{
	return d ? 100.0 * (double)n / (double)d : NAN;
}

/* rr_series - series K of a chart: the bounce (hard of the attempts) or
   complaint (of the deliveries) rate of R hour by hour into V */
static void rr_series(struct ctl_chart_series *cs, double *v,
		      const struct rr_row *r, bool complaints, bool other)
{
	int h;

	cs->name = other ? RATES_OTHER : r->name;
	cs->v = v;
	cs->other = other;
	for (h = 0; h < RR_HOURS; h++)
		v[h] = complaints ? rr_rate(r->hour[h][RATES_C_COMPLAINTS],
					    r->hour[h][RATES_C_DELIVERIES]) :
				    rr_rate(r->hour[h][RATES_C_HARD],
					    rr_attempts(r->hour[h]));
	cs->volume = complaints ? r->c[RATES_C_DELIVERIES] : rr_attempts(r->c);
	cs->rate = rr_rate(complaints ? r->c[RATES_C_COMPLAINTS] :
			   r->c[RATES_C_HARD], cs->volume);
}

/* rr_charts - the bounce and complaint rates of W's busiest names hour
   by hour, the rest summed as "(other)", as two charts */
static void rr_charts(GString *o, const struct rr_walk *w, const char *dim,
		      const char *what, unsigned width)
{
	struct ctl_chart_series cs[RR_CHART_TOP + 1];
	double v[RR_CHART_TOP + 1][RR_HOURS];
	struct rr_row rest;
	size_t n, i, k, ns = 0;
	struct rr_row **rows = rr_sorted(w, &n);
	bool any_rest = false;
	int c, h;

	memset(&rest, 0, sizeof(rest));
	for (i = 0, k = 0; i < n; i++) {
		/* the names past the store's own limit are "(other)" already:
		   never a series of their own */
		if (k < RR_CHART_TOP && strcmp(rows[i]->name, RATES_OTHER)) {
			k++;
			continue;
		}
		any_rest = true;
		for (c = 0; c < RATES_COUNTERS; c++) {
			rest.c[c] += rows[i]->c[c];
			for (h = 0; h < RR_HOURS; h++)
				rest.hour[h][c] += rows[i]->hour[h][c];
		}
	}
	for (c = 0; c < 2; c++) {
		char *id = g_strdup_printf("rates-%s-%s", dim,
					   c ? "complaint" : "bounce");
		char *title = g_strdup_printf("%s rate per hour of the busiest "
					      "%s", c ? "Complaint" : "Bounce",
					      what);
		struct ctl_chart ch = {
			.id = id, .title = title,
			.axis_text = "hour of the records (UTC)",
			.span_text = "the hours shown",
			.volume_text = c ? "deliveries" : "attempts",
			.width = width, .height = RR_CHART_HEIGHT,
			.t0 = w->day0, .bin = 3600, .n = RR_HOURS, .s = cs,
		};

		ns = 0;
		for (i = 0; i < n && ns < RR_CHART_TOP; i++)
			if (strcmp(rows[i]->name, RATES_OTHER) != 0) {
				rr_series(&cs[ns], v[ns], rows[i], c, false);
				ns++;
			}
		if (any_rest) {
			rr_series(&cs[ns], v[ns], &rest, c, true);
			ns++;
		}
		ch.ns = ns;
		ctl_report_chart(o, &ch);
		g_free(id);
		g_free(title);
	}
	g_free(rows);
}

int ctl_report_rates(GString *o, struct state *st, MDB_txn *txn,
		     unsigned width)
{
	struct rr_walk camp = { NULL, 0, false, false },
		       dest = { NULL, 0, false, false },
		       week = { NULL, 0, true, false },
		       camp_h = { NULL, 0, false, true },
		       dest_h = { NULL, 0, false, true };
	int64_t now = rates_store_now(st, txn);
	int rc = 0;

	g_string_append(o, "<h2 id=\"rates\">Rates</h2>\n");
	if (now <= 0) {
		g_string_append(o, "<p>No rates counted yet ([rates] counts "
				   "them as records are read).</p>\n");
		return 0;
	}
	camp.h = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
				       rr_row_free);
	dest.h = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
				       rr_row_free);
	week.h = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
				       rr_row_free);
	camp_h.h = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
					 rr_row_free);
	dest_h.h = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
					 rr_row_free);
	week.day0 = now - now % 86400 - (RR_DAYS - 1) * 86400;
	camp_h.day0 = dest_h.day0 = now - now % 3600 - (RR_HOURS - 1) * 3600;
	rc = rates_store_walk(st, txn, 'm', ALERT_BY_CAMPAIGN,
			      now - 86400 + 1, now + 60, rr_cb, &camp);
	if (rc == 0)
		rc = rates_store_walk(st, txn, 'm', ALERT_BY_DESTINATION,
				      now - 86400 + 1, now + 60, rr_cb, &dest);
	if (rc == 0)
		rc = rates_store_walk(st, txn, 'h', ALERT_BY_DESTINATION,
				      week.day0, now + 3600, rr_cb, &week);
	if (rc == 0)
		rc = rates_store_walk(st, txn, 'h', ALERT_BY_CAMPAIGN,
				      camp_h.day0, camp_h.day0 + RR_HOURS *
				      3600, rr_cb, &camp_h);
	if (rc == 0)
		rc = rates_store_walk(st, txn, 'h', ALERT_BY_DESTINATION,
				      dest_h.day0, dest_h.day0 + RR_HOURS *
				      3600, rr_cb, &dest_h);
	if (rc == -ENOENT)
		rc = 0;
	if (rc == 0) {
		g_string_append(o, "<p>The last 24 hours of records; the bounce "
				   "rate is hard bounces of the attempts, the "
				   "complaint rate complaints of the deliveries "
				   "(bouncectl rates has every name).</p>\n"
				   "<div class=\"grid\">\n");
		rr_table(o, "Busiest campaigns", "campaign", &camp);
		rr_table(o, "Busiest destinations", "destination", &dest);
		g_string_append(o, "</div>\n");
		rr_days(o, &week);
		g_string_append(o, "<h3 id=\"rates-hourly\">Hour by hour</h3>"
				   "\n<p>The bounce and complaint rates of the "
				   "five busiest campaigns and destinations in "
				   "each hour of the last 24 hours of records, "
				   "the rest together as (other).  An hour "
				   "without mail has no rate: its line breaks."
				   "</p>\n");
		rr_charts(o, &camp_h, "campaign", "campaigns", width);
		rr_charts(o, &dest_h, "destination", "destinations", width);
	}
	g_hash_table_destroy(camp.h);
	g_hash_table_destroy(dest.h);
	g_hash_table_destroy(week.h);
	g_hash_table_destroy(camp_h.h);
	g_hash_table_destroy(dest_h.h);
	return rc;
}
