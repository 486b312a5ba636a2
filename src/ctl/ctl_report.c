/*
 * ctl_report.c - "bouncectl report": one static HTML page, DIR/index.html,
 * with what an operator looks at: the health of each provider, addresses
 * by status, the top bounce categories, the top campaigns, senders,
 * VirtualMTAs and destination domains by bounces and complaints, the
 * latest suppressions, the files that failed, the open incidents
 * (ctl_incidents.c reads them) with the incidents and alerts graphs of the
 * day and the week, the rates and their charts (ctl_report_rates.c), the
 * counters, the queue, the other graphs of every period (each described
 * in words: its legend) and the latest dead letters.  The graphs are
 * drawn before the page is written, each period's data loaded once.
 *
 * The page needs nothing from outside: the style is inline and the images
 * are embedded as data: URIs, so it can be copied or mailed as one file;
 * every link is to a section of the page, and every section is there
 * (empty ones say "none").  With --refresh the browser reloads it
 * (regenerate it from cron or a timer); it is replaced atomically, so a
 * reload never sees half a page.  Every text from the state or the spool
 * (categories, domains, addresses, errors, file names) is cleaned of
 * control characters and HTML-escaped.
 *
 * The numbers come from ctl_stats_gather (the same walk as bouncectl
 * stats), ctl_health_gather and the outbox tables, in read-only
 * transactions.  Exit 66 without a state, 73 when DIR cannot be written,
 * 74 on a state or librrd error.  A missing RRD is not an error: the page
 * says so.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "atomic_file.h"
#include "ctl.h"
#include "exitcodes.h"
#include "graph.h"
#include "incident_store.h"
#include "outbox.h"
#include "state.h"

#define REPORT_DEAD_SHOWN 20	/* the latest dead letters listed */
#define REPORT_CATS_SHOWN 10
#define REPORT_TOP_SHOWN 10	/* lines of each top table */
#define REPORT_FAILED_SHOWN 50	/* files of failed/ listed */
#define REPORT_TEXT_MAX 320	/* bytes of one text from the state */

static const char report_style[] =
	"body{font-family:sans-serif;margin:1.5em;color:#222;background:#fafafa}"
	"h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ccc}"
	"nav a{margin-right:1em}"
	".grid{display:flex;flex-wrap:wrap;gap:2em;align-items:flex-start}"
	"table{border-collapse:collapse;background:#fff}"
	"caption{text-align:left;font-weight:bold;padding:.3em 0}"
	"td,th{border:1px solid #ddd;padding:.2em .6em;text-align:left}"
	"td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}"
	"figure{margin:1em 0}"
	"figcaption{font-size:.9em;white-space:pre-line;color:#444}"
	"img,svg.chart{display:block;margin:.5em 0;max-width:100%;height:auto}"
	".note{color:#a33}.ok{color:#2a7}";

/* the sections, in page order: every link of the page is to one of these */
static const struct {
	const char *id, *title;
} report_nav[] = {
	{ "now", "now" },
	{ "providers", "providers" },
	{ "top", "campaigns, senders, VMTAs, domains" },
	{ "rates", "rates" },
	{ "suppressions", "latest suppressions" },
	{ "failed", "failed files" },
	{ "incidents", "open incidents" },
	{ "day", "day" },
	{ "week", "week" },
	{ "month", "month" },
	{ "year", "year" },
	{ "dead", "dead letters" },
};

struct report {
	struct ctl_stats s;
	uint64_t pending, dead;
	int64_t next_due_ms;		/* -1: none */
	struct action shown[REPORT_DEAD_SHOWN];	/* ring of the latest */
	unsigned n_dead_seen;
	GArray *health;			/* struct ctl_health */
	GArray *failed;			/* struct ctl_failed */
	size_t n_failed;		/* in failed/, all of them */
	int failed_rc;			/* listing failed/: 0 or -errno */
	GArray *incidents;		/* struct incident, the open ones */
	GString *rates;			/* the rates section, made */
};

/* report_esc - S for HTML text: control characters cleaned, escaped */
static void report_esc(GString *o, const char *s)
{
	char clean[REPORT_TEXT_MAX];
	char *valid, *esc;

	ctl_text_clean(s ? s : "", clean, sizeof(clean));
	valid = g_utf8_make_valid(clean, -1);
	esc = g_markup_escape_text(valid, -1);
	g_string_append(o, esc);
	g_free(esc);
	g_free(valid);
}

/* report_td - "<td>TEXT</td>" (escaped) */
static void report_td(GString *o, const char *s)
{
	g_string_append(o, "<td>");
	report_esc(o, s);
	g_string_append(o, "</td>");
}

/* report_td_n - a number cell */
static void report_td_n(GString *o, uint64_t n)
{
	g_string_append_printf(o, "<td class=\"n\">%" PRIu64 "</td>", n);
}

/* report_td_time - a time cell ("-" when unknown) */
static void report_td_time(GString *o, int64_t t)
{
	char when[64];

	ctl_time_text(t, when, sizeof(when));
	report_td(o, when);
}

/* report_row - "<tr><td>NAME</td><td class=n>N</td></tr>" */
static void report_row(GString *o, const char *name, uint64_t n)
{
	g_string_append(o, "<tr>");
	report_td(o, name);
	report_td_n(o, n);
	g_string_append(o, "</tr>\n");
}

/* report_table - a table of ENTRIES (at most MAX) under CAPTION */
static void report_table(GString *o, const char *caption, const char *col,
			 const struct ctl_stats_entry *e, size_t n, size_t max)
{
	size_t i;

	g_string_append_printf(o, "<table><caption>%s</caption>\n"
			       "<tr><th>%s</th><th class=\"n\">count</th></tr>\n",
			       caption, col);
	if (n == 0)
		g_string_append(o, "<tr><td colspan=\"2\">none</td></tr>\n");
	for (i = 0; i < n && i < max; i++)
		report_row(o, e[i].name, e[i].n);
	g_string_append(o, "</table>\n");
}

/* report_dead_cb - keep the latest REPORT_DEAD_SHOWN dead letters */
static int report_dead_cb(const struct action *a, void *arg)
{
	struct report *r = arg;

	r->shown[r->n_dead_seen % REPORT_DEAD_SHOWN] = *a;
	r->n_dead_seen++;
	return 0;
}

/* report_gather - stats, providers, queue, dead letters, failed files;
   0 or -errno */
static int report_gather(struct state *st, const struct config *cfg,
			 const struct graph_opts *g, struct report *r)
{
	MDB_txn *txn = NULL;
	int rc;

	r->s.by_mask = (1u << CTL_BY_DOMAIN) | (1u << CTL_BY_CAMPAIGN) |
		       (1u << CTL_BY_SENDER) | (1u << CTL_BY_VMTA);
	r->s.want_recent = true;
	rc = ctl_stats_gather(st, cfg, &r->s);
	if (rc)
		return rc;
	rc = state_begin(st, false, &txn);
	if (rc)
		return rc;
	rc = ctl_health_gather(st, txn, cfg, &r->s, r->health);
	if (rc == 0)
		rc = outbox_counts(st, txn, &r->pending, &r->dead);
	if (rc == 0 && outbox_next_due(st, txn, &r->next_due_ms) != 0)
		r->next_due_ms = -1;
	if (rc == 0)
		rc = outbox_dead_foreach(st, txn, report_dead_cb, r);
	if (rc == -ENOENT)	/* a state older than the outbox */
		rc = 0;
	if (rc == 0)
		rc = ctl_incidents_gather(st, txn, true, r->incidents);
	if (rc == 0)
		rc = ctl_report_rates(r->rates, st, txn, g->width);
	state_abort(txn);
	if (rc == 0)
		r->failed_rc = ctl_failed_files(cfg, r->failed,
						REPORT_FAILED_SHOWN,
						&r->n_failed);
	return rc;
}

/* report_status - addresses by status, files, the outbox */
static void report_status(GString *o, const struct report *r)
{
	char when[64];
	size_t i;

	g_string_append(o, "<table><caption>Addresses by status</caption>\n"
			"<tr><th>status</th><th class=\"n\">count</th></tr>\n");
	for (i = 0; i < RCPT_STATUS_COUNT; i++)
		report_row(o, ctl_status_name((uint8_t)i), r->s.by_status[i]);
	report_row(o, "all", r->s.records);
	g_string_append(o, "</table>\n<table><caption>Queue and files"
			"</caption>\n<tr><th>what</th><th class=\"n\">count"
			"</th></tr>\n");
	report_row(o, "actions queued", r->pending);
	report_row(o, "dead letters", r->dead);
	report_row(o, "files taken", r->s.files_by_status[FILE_DONE]);
	report_row(o, "files partial", r->s.files_by_status[FILE_PARTIAL]);
	report_row(o, "files failed", r->s.files_by_status[FILE_FAILED]);
	report_row(o, "operator mail waiting", r->s.notify_queued);
	g_string_append(o, "</table>\n");
	if (r->next_due_ms >= 0) {
		ctl_time_text(r->next_due_ms / 1000, when, sizeof(when));
		g_string_append(o, "<p>Next action due: ");
		report_esc(o, when);
		g_string_append(o, "</p>\n");
	}
}

/* report_counters - the running totals */
static void report_counters(GString *o, const struct report *r)
{
	size_t i;

	g_string_append(o, "<table><caption>Counted since the state began"
			"</caption>\n<tr><th>counter</th><th class=\"n\">count"
			"</th></tr>\n");
	for (i = 0; i < CTL_STATS_N_COUNTERS; i++)
		report_row(o, ctl_stats_counter_names[i] + strlen("count."),
			   r->s.counters[i]);
	g_string_append(o, "</table>\n");
}

/* report_providers - one line per provider: its health */
static void report_providers(GString *o, const struct report *r)
{
	char when[64];
	guint i;

	g_string_append(o, "<h2 id=\"providers\">Providers</h2>\n<table>\n"
			"<tr><th>provider</th><th>type</th><th>state</th>"
			"<th class=\"n\">done</th><th class=\"n\">waiting</th>"
			"<th class=\"n\">retried</th><th class=\"n\">dead</th>"
			"<th>last error</th></tr>\n");
	if (r->health->len == 0)
		g_string_append(o, "<tr><td colspan=\"8\">none configured: "
				"actions are only logged (dry-run)</td></tr>\n");
	for (i = 0; i < r->health->len; i++) {
		const struct ctl_health *h =
			&g_array_index(r->health, struct ctl_health, i);

		g_string_append(o, "<tr>");
		report_td(o, h->name);
		report_td(o, h->configured ? h->type : "(not configured)");
		if (h->paused) {
			ctl_time_text(h->paused_since_ms / 1000, when,
				      sizeof(when));
			g_string_append(o, "<td class=\"note\">paused since ");
			report_esc(o, when);
			g_string_append(o, ": ");
			report_esc(o, h->paused_why);
			g_string_append(o, "</td>");
		} else if (!h->configured) {
			g_string_append(o, "<td>-</td>");
		} else {
			g_string_append_printf(o, "<td class=\"%s\">%s</td>",
					       h->dead || h->retrying ?
					       "note" : "ok",
					       h->retrying ? "retrying" :
					       h->dead ? "has dead letters" :
					       "ok");
		}
		report_td_n(o, h->done + h->dry_run);
		report_td_n(o, h->pending);
		report_td_n(o, h->retrying);
		report_td_n(o, h->dead);
		report_td(o, h->last_error[0] ? h->last_error : "-");
		g_string_append(o, "</tr>\n");
	}
	g_string_append(o, "</table>\n<p>done: operations finished (dry-run: "
			"logged only); waiting: actions in the outbox; retried: "
			"of them, those that failed at least once and wait for "
			"their next try; dead: given up (<code>bouncectl dead"
			"</code>, <code>bouncectl retry</code>).</p>\n");
}

/* report_top - the top groups of BY under CAPTION */
static void report_top(GString *o, const struct report *r, enum ctl_by by,
		       const char *caption)
{
	size_t n = 0, i;
	struct ctl_group_entry *e = ctl_groups_sorted(r->s.by[by], &n);

	g_string_append_printf(o, "<table><caption>%s</caption>\n<tr><th>%s"
			       "</th><th class=\"n\">hard</th><th class=\"n\">"
			       "complained</th><th class=\"n\">unsubscribed"
			       "</th><th class=\"n\">soft</th></tr>\n",
			       caption, ctl_by_name(by));
	if (n == 0)
		g_string_append(o, "<tr><td colspan=\"5\">none</td></tr>\n");
	for (i = 0; i < n && i < REPORT_TOP_SHOWN; i++) {
		g_string_append(o, "<tr>");
		report_td(o, e[i].name);
		report_td_n(o, e[i].g->n[RCPT_HARD]);
		report_td_n(o, e[i].g->n[RCPT_COMPLAINED]);
		report_td_n(o, e[i].g->n[RCPT_UNSUBSCRIBED]);
		report_td_n(o, e[i].g->n[RCPT_SOFT]);
		g_string_append(o, "</tr>\n");
	}
	if (n > REPORT_TOP_SHOWN)
		g_string_append_printf(o, "<tr><td colspan=\"5\">%zu more (<code>"
				       "bouncectl stats --by %s</code>)</td>"
				       "</tr>\n", n - REPORT_TOP_SHOWN,
				       ctl_by_name(by));
	g_string_append(o, "</table>\n");
	g_free(e);
}

/* report_tops - campaigns, senders, VirtualMTAs, destination domains */
static void report_tops(GString *o, const struct report *r)
{
	g_string_append(o, "<h2 id=\"top\">Campaigns, senders, VirtualMTAs "
			"and destination domains</h2>\n<p>Addresses by status, "
			"most suppressed first; the campaign (job id), sender "
			"and VirtualMTA of an address are those of its latest "
			"bounce or complaint.</p>\n<div class=\"grid\">\n");
	report_top(o, r, CTL_BY_CAMPAIGN, "Top campaigns");
	report_top(o, r, CTL_BY_SENDER, "Top senders");
	report_top(o, r, CTL_BY_VMTA, "Top VirtualMTAs");
	report_top(o, r, CTL_BY_DOMAIN, "Top destination domains");
	g_string_append(o, "</div>\n");
}

/* report_recent - the latest suppressions */
static void report_recent(GString *o, const struct report *r)
{
	size_t i;

	g_string_append_printf(o, "<h2 id=\"suppressions\">Latest suppressions"
			       "</h2>\n<table>\n<tr><th>since</th><th>address"
			       "</th><th>status</th><th>category</th><th>DSN"
			       "</th><th>job id</th><th>sender</th><th>VMTA"
			       "</th></tr>\n");
	if (r->s.n_recent == 0)
		g_string_append(o, "<tr><td colspan=\"8\">none</td></tr>\n");
	for (i = 0; i < r->s.n_recent; i++) {
		const struct ctl_recent *c = &r->s.recent[i];

		g_string_append(o, "<tr>");
		report_td_time(o, c->time);
		report_td(o, c->addr);
		report_td(o, ctl_status_name(c->status));
		report_td(o, c->reason.category);
		report_td(o, c->reason.dsn_status);
		report_td(o, c->reason.job_id);
		report_td(o, c->reason.orig);
		report_td(o, c->reason.vmta);
		g_string_append(o, "</tr>\n");
	}
	g_string_append(o, "</table>\n<p>Why an address has its status: "
			"<code>bouncectl show ADDRESS</code>.</p>\n");
}

/* report_failed - the files of failed/ and why */
static void report_failed(GString *o, const struct report *r)
{
	guint i;

	g_string_append_printf(o, "<h2 id=\"failed\">Failed files (%zu)</h2>\n",
			       r->n_failed);
	if (r->failed_rc) {
		g_string_append(o, "<p class=\"note\">The spool's failed/ "
				"directory cannot be listed: ");
		report_esc(o, g_strerror(-r->failed_rc));
		g_string_append(o, "</p>\n");
		return;
	}
	g_string_append(o, "<table>\n<tr><th>moved</th><th>file</th>"
			"<th class=\"n\">bytes</th><th>why</th></tr>\n");
	if (r->failed->len == 0)
		g_string_append(o, "<tr><td colspan=\"4\">none</td></tr>\n");
	for (i = 0; i < r->failed->len; i++) {
		const struct ctl_failed *f =
			&g_array_index(r->failed, struct ctl_failed, i);

		g_string_append(o, "<tr>");
		report_td_time(o, f->mtime);
		g_string_append(o, "<td>failed/");
		report_esc(o, f->name);
		g_string_append(o, "</td>");
		report_td_n(o, f->size);
		report_td(o, f->why[0] ? f->why : "(no .why beside it)");
		g_string_append(o, "</tr>\n");
	}
	g_string_append(o, "</table>\n<p>Each has NAME.why beside it saying "
			"what to do; a file moved back into acct/ is taken "
			"again.</p>\n");
}

/* ctl_report_incidents - the open incidents: what they are, what they
   hold */
void ctl_report_incidents(GString *o, const GArray *incs)
{
	guint i;

	g_string_append_printf(o, "<h2 id=\"incidents\">Open incidents (%u)"
			       "</h2>\n<table>\n<tr><th class=\"n\">id</th>"
			       "<th>opened</th><th>source</th><th>destination"
			       "</th><th class=\"n\">recipients</th>"
			       "<th class=\"n\">bounces</th><th class=\"n\">"
			       "protected</th><th class=\"n\">held</th>"
			       "<th>seen as</th></tr>\n", incs->len);
	if (incs->len == 0)
		g_string_append(o, "<tr><td colspan=\"9\">no open incident"
				"</td></tr>\n");
	for (i = 0; i < incs->len; i++) {
		const struct incident *inc =
			&g_array_index(incs, struct incident, i);

		g_string_append_printf(o, "<tr><td class=\"n\">%" PRIu64
				       "</td>", inc->id);
		report_td_time(o, inc->open_time);
		report_td(o, inc->source);
		report_td(o, inc->dest);
		report_td_n(o, inc->recipients);
		report_td_n(o, inc->bounces);
		report_td_n(o, inc->protected_soft);
		report_td_n(o, inc->held);
		report_td(o, inc->nsamples ? inc->samples[0] : "-");
		g_string_append(o, "</tr>\n");
	}
	g_string_append(o, "</table>\n<p>A source refused by a destination "
			"(a block, not bad addresses): its soft bounces do not "
			"count toward escalation and its hard bounces are held "
			"until it closes.  <code>bouncectl incident show ID"
			"</code> lists what one holds; docs/CLASSIFY.md explains "
			"incidents.</p>\n");
}

/* report_dead - the latest dead letters, newest first */
static void report_dead(GString *o, const struct report *r)
{
	unsigned n = MIN(r->n_dead_seen, REPORT_DEAD_SHOWN), k;

	g_string_append_printf(o, "<h2 id=\"dead\">Latest dead letters (%u of "
			       "%u)</h2>\n<table><tr><th class=\"n\">id</th>"
			       "<th>provider</th><th>operation</th><th>address"
			       "</th><th>created</th><th>reason</th></tr>\n", n,
			       r->n_dead_seen);
	if (n == 0)
		g_string_append(o, "<tr><td colspan=\"6\">none</td></tr>\n");
	for (k = 0; k < n; k++) {
		const struct action *a =
			&r->shown[(r->n_dead_seen - 1 - k) % REPORT_DEAD_SHOWN];

		g_string_append_printf(o, "<tr><td class=\"n\">%" PRIu64
				       "</td>", a->id);
		report_td(o, a->provider);
		report_td(o, action_op_name(a->op));
		report_td(o, a->addr);
		report_td_time(o, a->created_ms / 1000);
		report_td(o, a->last_error);
		g_string_append(o, "</tr>\n");
	}
	g_string_append(o, "</table>\n");
}

/* the panels of the period sections, and those of the incidents
   section (and the periods it shows them for) */
static const enum graph_panel report_period_panels[] = {
	GRAPH_BOUNCES, GRAPH_COMPLAINTS, GRAPH_API, GRAPH_QUEUE,
};
static const enum graph_panel report_incident_panels[] = {
	GRAPH_INCIDENTS, GRAPH_ALERTS,
};
#define REPORT_INCIDENT_PERIODS 2	/* the day and the week */

/* report_figure - panel P of D as a data: URI with its legend in words
   under it; 0, or the graph error (ERR) */
static int report_figure(GString *o, struct graph_data *d, enum graph_panel p,
			 enum graph_period q, const struct graph_opts *g,
			 char *err, size_t errlen)
{
	const char *mime = g->format == GRAPH_SVG ? "image/svg+xml" :
						    "image/png";
	GBytes *img = NULL;
	char *legend = NULL, *b64, *esc;
	const guchar *data;
	gsize len;
	int rc;

	rc = graph_data_render(d, p, g, &img, &legend, err, errlen);
	if (rc)
		return rc;
	data = g_bytes_get_data(img, &len);
	b64 = g_base64_encode(data, len);
	g_string_append_printf(o, "<figure><img id=\"%s-%s\" alt=\"",
			       graph_panel_name(p), graph_period_name(q));
	report_esc(o, graph_panel_title(p));
	g_string_append(o, ", ");
	report_esc(o, graph_period_title(q));
	g_string_append_printf(o, "\" width=\"%u\" height=\"%u\" "
			       "src=\"data:%s;base64,%s\">\n"
			       "<figcaption id=\"%s-%s-legend\">",
			       g->width, g->height, mime, b64,
			       graph_panel_name(p), graph_period_name(q));
	g_free(b64);
	/* the lines are kept: figcaption has white-space:pre-line */
	esc = g_markup_escape_text(legend, -1);
	g_string_append(o, esc);
	g_free(esc);
	g_string_append(o, "</figcaption></figure>\n");
	g_free(legend);
	g_bytes_unref(img);
	return 0;
}

/* the graphs of the page, drawn before it is written */
struct report_graphs {
	GString *period[GRAPH_N_PERIODS];	/* each period's section */
	GString *incidents;		/* the incidents section's graphs */
	char missing[512];		/* no RRD yet: why ("" = there is) */
};

/* report_graphs_draw - every period's panels, and the incident panels of
   the first periods; a missing RRD is a note, not an error; 0, or the
   graph error (ERR) */
static int report_graphs_draw(struct report_graphs *rg, const char *rrd,
			      const struct graph_opts *g, char *err,
			      size_t errlen)
{
	unsigned q;
	size_t i;
	int rc = 0;

	for (q = 0; rc == 0 && q < GRAPH_N_PERIODS; q++) {
		struct graph_data *d = NULL;

		rc = graph_data_load(rrd, q, g, &d, err, errlen);
		if (rc == -ENOENT) {
			g_strlcpy(rg->missing, err, sizeof(rg->missing));
			return 0;
		}
		for (i = 0; rc == 0 && i < G_N_ELEMENTS(report_period_panels);
		     i++)
			rc = report_figure(rg->period[q], d,
					   report_period_panels[i], q, g, err,
					   errlen);
		for (i = 0; rc == 0 && q < REPORT_INCIDENT_PERIODS &&
			    i < G_N_ELEMENTS(report_incident_panels); i++)
			rc = report_figure(rg->incidents, d,
					   report_incident_panels[i], q, g,
					   err, errlen);
		graph_data_free(d);
	}
	return rc;
}

/* report_no_graphs - the note of a section without graphs */
static void report_no_graphs(GString *o, const struct report_graphs *rg)
{
	g_string_append(o, "<p class=\"note\">No graphs yet: ");
	report_esc(o, rg->missing);
	g_string_append(o, "</p>\n");
}

/* report_incident_graphs - the incidents and alerts over time */
static void report_incident_graphs(GString *o, const struct report_graphs *rg)
{
	g_string_append(o, "<h3>Incidents and alerts over time</h3>\n<p>"
			"Incidents opened and closed, and rate alerts raised "
			"and cleared, per interval (stacked); the line is how "
			"many were open (active) at once, the highest of each "
			"interval.</p>\n");
	if (rg->missing[0])
		report_no_graphs(o, rg);
	else
		g_string_append_len(o, rg->incidents->str,
				    (gssize)rg->incidents->len);
}

/* report_period_graphs - the period sections */
static void report_period_graphs(GString *o, const struct report_graphs *rg)
{
	static const char *const titles[GRAPH_N_PERIODS] = {
		"Last 24 hours", "Last 7 days", "Last 31 days", "Last year"
	};
	unsigned q;

	for (q = 0; q < GRAPH_N_PERIODS; q++) {
		g_string_append_printf(o, "<h2 id=\"%s\">%s</h2>\n",
				       graph_period_name(q), titles[q]);
		if (rg->missing[0])
			report_no_graphs(o, rg);
		else
			g_string_append_len(o, rg->period[q]->str,
					    (gssize)rg->period[q]->len);
	}
}

/* report_head - doctype, head, title, navigation */
static void report_head(GString *o, const struct ctl_ctx *ctx,
			const struct ctl_graph_args *a)
{
	char when[64];
	size_t i;

	ctl_time_text(ctx->now, when, sizeof(when));
	g_string_append(o, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
			"<meta charset=\"utf-8\">\n");
	if (a->refresh > 0)
		g_string_append_printf(o, "<meta http-equiv=\"refresh\" "
				       "content=\"%" PRId64 "\">\n", a->refresh);
	g_string_append(o, "<title>bounced on ");
	report_esc(o, a->opts.host);
	g_string_append_printf(o, "</title>\n<style>%s</style>\n</head>\n"
			       "<body>\n<h1>bounced on ", report_style);
	report_esc(o, a->opts.host);
	g_string_append(o, "</h1>\n<p>Made ");
	report_esc(o, when);
	g_string_append(o, " from the state in ");
	report_esc(o, ctx->cfg->state);
	g_string_append(o, ".</p>\n<nav>");
	for (i = 0; i < G_N_ELEMENTS(report_nav); i++)
		g_string_append_printf(o, "<a href=\"#%s\">%s</a>",
				       report_nav[i].id, report_nav[i].title);
	g_string_append(o, "</nav>\n");
}

/* report_page - the whole page into O; 0 or the graph error */
static int report_page(GString *o, const struct ctl_ctx *ctx,
		       const struct ctl_graph_args *a, struct report *r,
		       char *err, size_t errlen)
{
	struct report_graphs rg = { .missing = "" };
	struct ctl_stats_entry *cats;
	size_t n_cats = 0;
	unsigned q;
	int rc;

	for (q = 0; q < GRAPH_N_PERIODS; q++)
		rg.period[q] = g_string_new(NULL);
	rg.incidents = g_string_new(NULL);
	rc = report_graphs_draw(&rg, ctx->cfg->rrd_file, &a->opts, err,
				errlen);
	if (rc)
		goto out;
	report_head(o, ctx, a);
	g_string_append(o, "<h2 id=\"now\">Now</h2>\n<div class=\"grid\">\n");
	cats = ctl_stats_sorted(r->s.cats, &n_cats);
	report_status(o, r);
	report_table(o, "Top bounce categories (last of each address)",
		     "category", cats, n_cats, REPORT_CATS_SHOWN);
	report_counters(o, r);
	g_string_append(o, "</div>\n");
	g_free(cats);
	report_providers(o, r);
	report_tops(o, r);
	g_string_append_len(o, r->rates->str, (gssize)r->rates->len);
	report_recent(o, r);
	report_failed(o, r);
	ctl_report_incidents(o, r->incidents);
	report_incident_graphs(o, &rg);
	report_period_graphs(o, &rg);
	report_dead(o, r);
	g_string_append(o, "</body>\n</html>\n");
out:
	for (q = 0; q < GRAPH_N_PERIODS; q++)
		g_string_free(rg.period[q], TRUE);
	g_string_free(rg.incidents, TRUE);
	return rc;
}

int cmd_report(struct ctl_ctx *ctx, const struct cli_args *args)
{
	struct ctl_graph_args a;
	struct state *st = NULL;
	struct report *r = g_new0(struct report, 1);
	GString *o = g_string_new(NULL);
	char err[1024], *path = NULL;
	int rc;

	ctl_stats_init(&r->s);
	r->health = g_array_new(FALSE, TRUE, sizeof(struct ctl_health));
	r->failed = g_array_new(FALSE, TRUE, sizeof(struct ctl_failed));
	r->incidents = g_array_new(FALSE, TRUE, sizeof(struct incident));
	r->rates = g_string_new(NULL);
	rc = ctl_graph_parse(ctx, args, true, &a);
	if (rc)
		goto out;
	rc = ctl_state_open(ctx, false, &st);
	if (rc)
		goto out;
	rc = report_gather(st, ctx->cfg, &a.opts, r);
	if (rc) {
		rc = ctl_state_error(ctx, "read", rc);
		goto out;
	}
	rc = report_page(o, ctx, &a, r, err, sizeof(err));
	if (rc) {
		rc = ctl_graph_error(ctx, args->cmd, rc, err);
		goto out;
	}
	path = g_build_filename(a.out, "index.html", NULL);
	if (atomic_file_write(path, o->str, o->len,
			      atomic_file_mode_in(path, 0644, ctx->cfg->state,
						  ctx->cfg->spool),
			      err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: report: %s\n", ctx->prog, err);
		rc = EXIT_CANTCREAT;
		goto out;
	}
	fprintf(ctx->out, "%s\n", path);
	rc = EXIT_OK;
out:
	g_free(path);
	g_string_free(o, TRUE);
	state_close(st);
	ctl_stats_release(&r->s);
	g_array_free(r->health, TRUE);
	g_array_free(r->failed, TRUE);
	g_array_free(r->incidents, TRUE);
	g_string_free(r->rates, TRUE);
	g_free(r);
	return rc;
}
