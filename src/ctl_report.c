/*
 * ctl_report.c - "bouncectl report": one static HTML page, DIR/index.html,
 * with the graphs of every period and the current numbers: addresses by
 * status, top bounce categories, top domains, counters, files, the queue
 * and the latest dead letters.  The page an operator keeps open.
 *
 * The page needs nothing from outside: the style is inline and the images
 * are embedded as data: URIs, so it can be copied or mailed as one file.
 * With --refresh the browser reloads it (regenerate it from cron or a
 * timer); it is replaced atomically, so a reload never sees half a page.
 * Every text from the state (categories, domains, addresses, errors) is
 * cleaned of control characters and HTML-escaped.
 *
 * The numbers come from ctl_stats_gather (the same walk as bouncectl
 * stats) and the outbox tables, in read-only transactions.  Exit 66
 * without a state, 73 when DIR cannot be written, 74 on a state or librrd
 * error.  A missing RRD is not an error: the page says so.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "atomic_file.h"
#include "ctl.h"
#include "exitcodes.h"
#include "graph.h"
#include "outbox.h"
#include "state.h"

#define REPORT_DEAD_SHOWN 20	/* the latest dead letters listed */
#define REPORT_CATS_SHOWN 10
#define REPORT_TEXT_MAX 320	/* bytes of one text from the state */

static const char report_style[] =
	"body{font-family:sans-serif;margin:1.5em;color:#222;background:#fafafa}"
	"h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ccc}"
	"nav a{margin-right:1em}"
	".grid{display:flex;flex-wrap:wrap;gap:2em;align-items:flex-start}"
	"table{border-collapse:collapse;background:#fff}"
	"td,th{border:1px solid #ddd;padding:.2em .6em;text-align:left}"
	"td.n{text-align:right;font-variant-numeric:tabular-nums}"
	"img{display:block;margin:.5em 0;max-width:100%;height:auto}"
	".note{color:#a33}";

struct report {
	struct ctl_stats s;
	uint64_t pending, dead;
	int64_t next_due_ms;		/* -1: none */
	struct action shown[REPORT_DEAD_SHOWN];	/* ring of the latest */
	unsigned n_dead_seen;
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

/* report_row - "<tr><td>NAME</td><td class=n>N</td></tr>" */
static void report_row(GString *o, const char *name, uint64_t n)
{
	g_string_append(o, "<tr><td>");
	report_esc(o, name);
	g_string_append_printf(o, "</td><td class=\"n\">%" PRIu64 "</td></tr>\n",
			       n);
}

/* report_table - a table of ENTRIES (at most MAX) under CAPTION */
static void report_table(GString *o, const char *caption, const char *col,
			 const struct ctl_stats_entry *e, size_t n, size_t max)
{
	size_t i;

	g_string_append_printf(o, "<table><caption>%s</caption>\n"
			       "<tr><th>%s</th><th>count</th></tr>\n",
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

/* report_gather - stats, queue and dead letters; 0 or -errno */
static int report_gather(struct state *st, const struct config *cfg,
			 struct report *r)
{
	MDB_txn *txn = NULL;
	int rc = ctl_stats_gather(st, cfg, &r->s);

	if (rc)
		return rc;
	rc = state_begin(st, false, &txn);
	if (rc)
		return rc;
	rc = outbox_counts(st, txn, &r->pending, &r->dead);
	if (rc == 0 && outbox_next_due(st, txn, &r->next_due_ms) != 0)
		r->next_due_ms = -1;
	if (rc == 0)
		rc = outbox_dead_foreach(st, txn, report_dead_cb, r);
	if (rc == -ENOENT)	/* a state older than the outbox */
		rc = 0;
	state_abort(txn);
	return rc;
}

/* report_status - addresses by status, files, the outbox */
static void report_status(GString *o, const struct report *r)
{
	char when[64];
	size_t i;

	g_string_append(o, "<table><caption>Addresses by status</caption>\n"
			"<tr><th>status</th><th>count</th></tr>\n");
	for (i = 0; i < RCPT_STATUS_COUNT; i++)
		report_row(o, ctl_status_name((uint8_t)i), r->s.by_status[i]);
	report_row(o, "all", r->s.records);
	g_string_append(o, "</table>\n<table><caption>Queue and files"
			"</caption>\n<tr><th>what</th><th>count</th></tr>\n");
	report_row(o, "actions queued", r->pending);
	report_row(o, "dead letters", r->dead);
	report_row(o, "files taken", r->s.files_by_status[FILE_DONE]);
	report_row(o, "files partial", r->s.files_by_status[FILE_PARTIAL]);
	report_row(o, "files failed", r->s.files_by_status[FILE_FAILED]);
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
			"</caption>\n<tr><th>counter</th><th>count</th></tr>\n");
	for (i = 0; i < CTL_STATS_N_COUNTERS; i++)
		report_row(o, ctl_stats_counter_names[i] + strlen("count."),
			   r->s.counters[i]);
	g_string_append(o, "</table>\n");
}

/* report_dead - the latest dead letters, newest first */
static void report_dead(GString *o, const struct report *r)
{
	unsigned n = MIN(r->n_dead_seen, REPORT_DEAD_SHOWN), k;
	char when[64];

	if (n == 0)
		return;
	g_string_append_printf(o, "<h2 id=\"dead\">Latest dead letters (%u of "
			       "%u)</h2>\n<table><tr><th>id</th><th>provider"
			       "</th><th>operation</th><th>address</th><th>"
			       "created</th><th>reason</th></tr>\n", n,
			       r->n_dead_seen);
	for (k = 0; k < n; k++) {
		const struct action *a =
			&r->shown[(r->n_dead_seen - 1 - k) % REPORT_DEAD_SHOWN];

		ctl_time_text(a->created_ms / 1000, when, sizeof(when));
		g_string_append_printf(o, "<tr><td class=\"n\">%" PRIu64
				       "</td><td>", a->id);
		report_esc(o, a->provider);
		g_string_append(o, "</td><td>");
		report_esc(o, action_op_name(a->op));
		g_string_append(o, "</td><td>");
		report_esc(o, a->addr);
		g_string_append(o, "</td><td>");
		report_esc(o, when);
		g_string_append(o, "</td><td>");
		report_esc(o, a->last_error);
		g_string_append(o, "</td></tr>\n");
	}
	g_string_append(o, "</table>\n");
}

/* report_images - the panels of one period as data: URIs; 0, or the
   graph error (ERR) */
static int report_images(GString *o, const char *rrd, enum graph_period q,
			 const struct graph_opts *g, char *err, size_t errlen)
{
	const char *mime = g->format == GRAPH_SVG ? "image/svg+xml" :
						    "image/png";
	unsigned p;
	int rc;

	for (p = 0; p < GRAPH_N_PANELS; p++) {
		GBytes *img = NULL;
		gsize len;
		const guchar *data;
		char *b64;

		rc = graph_render(rrd, p, q, g, &img, err, errlen);
		if (rc)
			return rc;
		data = g_bytes_get_data(img, &len);
		b64 = g_base64_encode(data, len);
		g_string_append_printf(o, "<img id=\"%s-%s\" alt=\"%s, %s\" "
				       "width=\"%u\" height=\"%u\" "
				       "src=\"data:%s;base64,%s\">\n",
				       graph_panel_name(p), graph_period_name(q),
				       graph_panel_name(p), graph_period_name(q),
				       g->width, g->height, mime, b64);
		g_free(b64);
		g_bytes_unref(img);
	}
	return 0;
}

/* report_graphs - every period; a missing RRD is a note, not an error */
static int report_graphs(GString *o, const char *rrd,
			 const struct graph_opts *g, char *err, size_t errlen)
{
	static const char *const titles[GRAPH_N_PERIODS] = {
		"Last 24 hours", "Last 7 days", "Last 31 days", "Last year"
	};
	unsigned q;
	int rc;

	for (q = 0; q < GRAPH_N_PERIODS; q++) {
		g_string_append_printf(o, "<h2 id=\"%s\">%s</h2>\n",
				       graph_period_name(q), titles[q]);
		rc = report_images(o, rrd, q, g, err, errlen);
		if (rc == -ENOENT) {
			g_string_append(o, "<p class=\"note\">No graphs yet: ");
			report_esc(o, err);
			g_string_append(o, "</p>\n");
			return 0;
		}
		if (rc)
			return rc;
	}
	return 0;
}

/* report_page - the whole page into O; 0 or the graph error */
static int report_page(GString *o, const struct ctl_ctx *ctx,
		       const struct ctl_graph_args *a, struct report *r,
		       char *err, size_t errlen)
{
	struct ctl_stats_entry *cats, *doms;
	size_t n_cats = 0, n_doms = 0;
	char when[64];
	int rc;

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
	g_string_append(o, ".</p>\n<nav><a href=\"#now\">now</a><a href=\"#day\">"
			"day</a><a href=\"#week\">week</a><a href=\"#month\">"
			"month</a><a href=\"#year\">year</a><a href=\"#dead\">"
			"dead letters</a></nav>\n<h2 id=\"now\">Now</h2>\n"
			"<div class=\"grid\">\n");
	cats = ctl_stats_sorted(r->s.cats, &n_cats);
	doms = ctl_stats_sorted(r->s.domains, &n_doms);
	report_status(o, r);
	report_table(o, "Top bounce categories (last of each address)",
		     "category", cats, n_cats, REPORT_CATS_SHOWN);
	report_table(o, "Top domains of suppressed addresses", "domain", doms,
		     n_doms, CTL_STATS_TOP_DOMAINS);
	report_counters(o, r);
	g_string_append(o, "</div>\n");
	g_free(doms);
	g_free(cats);
	rc = report_graphs(o, ctx->cfg->rrd_file, &a->opts, err, errlen);
	if (rc == 0)
		report_dead(o, r);
	g_string_append(o, "</body>\n</html>\n");
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
	rc = ctl_graph_parse(ctx, args, true, &a);
	if (rc)
		goto out;
	rc = ctl_state_open(ctx, false, &st);
	if (rc)
		goto out;
	rc = report_gather(st, ctx->cfg, r);
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
	g_free(r);
	return rc;
}
