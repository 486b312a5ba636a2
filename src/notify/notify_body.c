/*
 * notify_body.c - the subject and the two bodies of a notification: a
 * plain-text list and an HTML table per kind of item (complaints,
 * unsubscribes, bounces, others), at most max_items items in all,
 * followed by "and K more not listed".
 *
 * Every value comes from a struct notify_view (no line breaks, valid
 * UTF-8); in HTML each one goes through g_markup_escape_text, link
 * targets included.  Lines end in LF here; notify_compose turns them into
 * CRLF.  Nothing here fails; memory comes from GLib.
 */
#include <string.h>

#include "notify_priv.h"

static const char *const kind_title[NOTIFY_KIND_COUNT] = {
	"Complaints", "Unsubscribes", "Bounces", "Provider notices",
	"Incidents", "Alerts", "Other events",
};
static const char *const kind_one[NOTIFY_KIND_COUNT] = {
	"complaint", "unsubscribe", "bounce", "provider notice",
	"incident event", "alert event", "other event",
};
static const char *const kind_many[NOTIFY_KIND_COUNT] = {
	"complaints", "unsubscribes", "bounces", "provider notices",
	"incident events", "alert events", "other events",
};

/* nb_monitor - whether IT is an incident or an alert */
static bool nb_monitor(const struct notify_item *it)
{
	enum notify_kind k = notify_kind_of(it);

	return k == NOTIFY_KIND_INCIDENT || k == NOTIFY_KIND_ALERT;
}

/* nb_counts - "3 complaints, 1 unsubscribe" into S ("nothing to report"
   when every count is 0) */
static void nb_counts(GString *s, const struct notify_doc *d)
{
	bool any = false;
	int k;

	for (k = 0; k < NOTIFY_KIND_COUNT; k++) {
		if (d->count[k] == 0)
			continue;
		g_string_append_printf(s, "%s%zu %s", any ? ", " : "",
				       d->count[k],
				       d->count[k] == 1 ? kind_one[k]
							: kind_many[k]);
		any = true;
	}
	if (!any)
		g_string_append(s, "nothing to report");
}

/* notify_subject - "bounced: 3 complaints, 5 unsubscribes on HOST" */
char *notify_subject(const struct notify_doc *d)
{
	GString *s = g_string_new("bounced: ");

	nb_counts(s, d);
	g_string_append_printf(s, " on %s", d->host);
	return g_string_free(s, FALSE);
}

/* nb_more - how many items were not listed */
static size_t nb_more(const struct notify_doc *d)
{
	return d->n > d->max_items ? d->n - d->max_items : 0;
}

/* ---- text ------------------------------------------------------------ */

/* nbt_line - "      LABEL: VALUE" when VALUE is not empty */
static void nbt_line(GString *s, const char *label, const char *value)
{
	if (value && *value)
		g_string_append_printf(s, "      %s: %s\n", label, value);
}

/* nbt_campaign - "Campaign: NAME, "SUBJECT" (UID), sent TIME" */
static void nbt_campaign(GString *s, const struct notify_view *v)
{
	if (!*v->campaign_name && !*v->campaign_uid && !*v->campaign_subject)
		return;
	g_string_append(s, "      Campaign: ");
	g_string_append(s, *v->campaign_name ? v->campaign_name : "(no name)");
	if (*v->campaign_subject)
		g_string_append_printf(s, ", \"%s\"", v->campaign_subject);
	if (*v->campaign_uid)
		g_string_append_printf(s, " (%s)", v->campaign_uid);
	if (*v->provider)
		g_string_append_printf(s, " on %s", v->provider);
	if (*v->send_time)
		g_string_append_printf(s, ", sent %s", v->send_time);
	g_string_append_c(s, '\n');
	nbt_line(s, "Campaign page", v->campaign_link);
	if (*v->list_name || *v->list_uid) {
		g_string_append_printf(s, "      List: %s", *v->list_name ?
				       v->list_name : v->list_uid);
		if (*v->list_name && *v->list_uid)
			g_string_append_printf(s, " (%s)", v->list_uid);
		g_string_append_c(s, '\n');
	}
	nbt_line(s, "List page", v->list_link);
}

/* nbt_monitor - an incident or alert as a block of lines:
     * incident 3 opened: 192.0.2.10 to microsoft  at TIME
           First text: ...
           Counts: ... */
static void nbt_monitor(GString *s, const struct notify_item *it,
			const struct notify_view *v)
{
	bool inc = notify_kind_of(it) == NOTIFY_KIND_INCIDENT;

	g_string_append_printf(s, "  * %s %s: %s%s%s\n",
			       inc ? v->source : "alert", v->feedback_type,
			       v->reporting_domain, *v->time ? "  at " : "",
			       v->time);
	nbt_line(s, inc ? "First text" : "Rule", v->orig_subject);
	nbt_line(s, inc ? "Counts" : "Rate", v->results);
	if (!inc)
		nbt_line(s, "Record", v->source);
}

/* nbt_item - one item as a block of lines */
static void nbt_item(GString *s, const struct notify_item *it,
		     const char *web_url)
{
	struct notify_view v;

	notify_view_init(&v, it, web_url);
	if (nb_monitor(it)) {
		nbt_monitor(s, it, &v);
		notify_view_release(&v);
		return;
	}
	g_string_append_printf(s, "  * %s%s%s\n", *v.addr ? v.addr :
			       "(address unknown)", *v.time ? "  at " : "",
			       v.time);
	nbt_line(s, "Feedback type", v.feedback_type);
	nbt_line(s, "Reported by", v.reporting_domain);
	nbt_line(s, "Subject", v.orig_subject);
	nbt_campaign(s, &v);
	nbt_line(s, "Results", v.results);
	nbt_line(s, "Source", v.source);
	notify_view_release(&v);
}

/* notify_body_text - the text/plain part */
GString *notify_body_text(const struct notify_doc *d)
{
	GString *s = g_string_new(NULL);
	size_t listed = 0, i;
	int k;

	g_string_append_printf(s, "bounced on %s: ", d->host);
	nb_counts(s, d);
	g_string_append(s, "\n");
	if (*d->period)
		g_string_append_printf(s, "Period: %s\n", d->period);
	for (k = 0; k < NOTIFY_KIND_COUNT; k++) {
		if (d->count[k] == 0)
			continue;
		g_string_append_printf(s, "\n%s (%zu)\n\n", kind_title[k],
				       d->count[k]);
		for (i = 0; i < d->n && listed < d->max_items; i++) {
			if ((int)notify_kind_of(&d->items[i]) != k)
				continue;
			nbt_item(s, &d->items[i], d->web_url);
			listed++;
		}
	}
	if (nb_more(d))
		g_string_append_printf(s, "\n... and %zu more not listed "
				       "(at most %zu items are listed in one "
				       "mail).\n", nb_more(d), d->max_items);
	g_string_append(s, "\n-- \nbounced, PowerMTA bounce and complaint "
			"processing\n");
	return s;
}

/* ---- HTML ------------------------------------------------------------ */

/* nbh_text - V escaped */
static void nbh_text(GString *s, const char *v)
{
	char *e = g_markup_escape_text(v, -1);

	g_string_append(s, e);
	g_free(e);
}

/* nbh_link - <a href="URL">TEXT</a>, or TEXT alone without URL */
static void nbh_link(GString *s, const char *url, const char *text)
{
	if (!url) {
		nbh_text(s, text);
		return;
	}
	g_string_append(s, "<a href=\"");
	nbh_text(s, url);
	g_string_append(s, "\">");
	nbh_text(s, text);
	g_string_append(s, "</a>");
}

/* nbh_pair - "<br>LABEL VALUE" or "VALUE" when FIRST; nothing if empty */
static void nbh_pair(GString *s, bool *first, const char *label,
		     const char *value)
{
	if (!*value)
		return;
	if (!*first)
		g_string_append(s, "<br>");
	*first = false;
	if (label)
		g_string_append_printf(s, "<small>%s</small> ", label);
	nbh_text(s, value);
}

/* nbh_campaign - the campaign cell */
static void nbh_campaign(GString *s, const struct notify_view *v)
{
	bool first = true;

	if (*v->campaign_name || *v->campaign_uid) {
		nbh_link(s, v->campaign_link, *v->campaign_name ?
			 v->campaign_name : v->campaign_uid);
		first = false;
	}
	nbh_pair(s, &first, "subject", v->campaign_subject);
	nbh_pair(s, &first, "sent", v->send_time);
	nbh_pair(s, &first, "provider", v->provider);
}

/* nbh_monitor - an incident's or alert's row: time, what, about, text
   or rule, counts or rate (and the record) */
static void nbh_monitor(GString *s, const struct notify_item *it,
			const struct notify_view *v)
{
	bool inc = notify_kind_of(it) == NOTIFY_KIND_INCIDENT, first = true;

	g_string_append(s, "<tr><td>");
	nbh_text(s, v->time);
	g_string_append(s, "</td><td>");
	nbh_text(s, inc ? v->source : "alert");
	g_string_append(s, " ");
	nbh_text(s, v->feedback_type);
	g_string_append(s, "</td><td>");
	nbh_text(s, v->reporting_domain);
	g_string_append(s, "</td><td>");
	nbh_text(s, v->orig_subject);
	g_string_append(s, "</td><td>");
	nbh_pair(s, &first, NULL, v->results);
	if (!inc)
		nbh_pair(s, &first, "record", v->source);
	g_string_append(s, "</td></tr>\n");
}

/* nbh_item - one table row */
static void nbh_item(GString *s, const struct notify_item *it,
		     const char *web_url)
{
	struct notify_view v;
	bool first = true;

	notify_view_init(&v, it, web_url);
	if (nb_monitor(it)) {
		nbh_monitor(s, it, &v);
		notify_view_release(&v);
		return;
	}
	g_string_append(s, "<tr><td>");
	nbh_text(s, v.time);
	g_string_append(s, "</td><td>");
	nbh_text(s, v.addr);
	g_string_append(s, "</td><td>");
	nbh_pair(s, &first, NULL, v.feedback_type);
	nbh_pair(s, &first, "reported by", v.reporting_domain);
	g_string_append(s, "</td><td>");
	nbh_text(s, v.orig_subject);
	g_string_append(s, "</td><td>");
	nbh_campaign(s, &v);
	g_string_append(s, "</td><td>");
	if (*v.list_name || *v.list_uid)
		nbh_link(s, v.list_link, *v.list_name ? v.list_name :
			 v.list_uid);
	g_string_append(s, "</td><td>");
	first = true;
	nbh_pair(s, &first, NULL, v.results);
	nbh_pair(s, &first, "from", v.source);
	g_string_append(s, "</td></tr>\n");
	notify_view_release(&v);
}

/* notify_body_html - the text/html part */
GString *notify_body_html(const struct notify_doc *d)
{
	GString *s = g_string_new(NULL);
	GString *head = g_string_new(NULL);
	size_t listed = 0, i;
	int k;

	nb_counts(head, d);
	g_string_append(s, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
			"<title>bounced on ");
	nbh_text(s, d->host);
	g_string_append(s, "</title></head>\n<body style=\"font-family: "
			"sans-serif\">\n<h2>bounced on ");
	nbh_text(s, d->host);
	g_string_append(s, ": ");
	nbh_text(s, head->str);
	g_string_append(s, "</h2>\n");
	if (*d->period) {
		g_string_append(s, "<p>Period: ");
		nbh_text(s, d->period);
		g_string_append(s, "</p>\n");
	}
	for (k = 0; k < NOTIFY_KIND_COUNT; k++) {
		if (d->count[k] == 0)
			continue;
		g_string_append_printf(s, "<h3>%s (%zu)</h3>\n<table border=\"1\""
				       " cellpadding=\"4\" cellspacing=\"0\">\n",
				       kind_title[k], d->count[k]);
		if (k == NOTIFY_KIND_INCIDENT)
			g_string_append(s, "<tr><th>Time</th><th>Incident</th>"
					"<th>Source to destination</th>"
					"<th>First text</th><th>Counts</th>"
					"</tr>\n");
		else if (k == NOTIFY_KIND_ALERT)
			g_string_append(s, "<tr><th>Time</th><th>Alert</th>"
					"<th>About</th><th>Rule</th>"
					"<th>Rate</th></tr>\n");
		else
			g_string_append(s, "<tr><th>Time</th><th>Address</th>"
					"<th>Feedback</th><th>Subject</th>"
					"<th>Campaign</th><th>List</th>"
					"<th>Results</th></tr>\n");
		for (i = 0; i < d->n && listed < d->max_items; i++) {
			if ((int)notify_kind_of(&d->items[i]) != k)
				continue;
			nbh_item(s, &d->items[i], d->web_url);
			listed++;
		}
		g_string_append(s, "</table>\n");
	}
	if (nb_more(d))
		g_string_append_printf(s, "<p>... and %zu more not listed (at "
				       "most %zu items are listed in one mail)."
				       "</p>\n", nb_more(d), d->max_items);
	g_string_append(s, "</body></html>\n");
	g_string_free(head, TRUE);
	return s;
}
