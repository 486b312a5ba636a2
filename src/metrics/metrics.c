/*
 * metrics.c - the data sources of the metrics, their values read from the
 * state, and the Prometheus textfile made of them.
 *
 * The textfile follows the text exposition format 0.0.4: one HELP and one
 * TYPE line per family, counters named *_total, label values quoted; the
 * file is replaced atomically, so node_exporter's textfile collector never
 * reads half of it.  Error policy: 0 or -errno with ERR; nothing is logged.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "atomic_file.h"
#include "incident_store.h"
#include "metrics.h"
#include "rates_store.h"
#include "outbox.h"
#include "state.h"

/* the data sources: the one table that says what each one is */
static const struct {
	const char *name;	/* in the RRD and as a label value */
	const char *meta;	/* a count's running total in the meta table */
	enum metrics_kind kind;
} metrics_ds[METRICS_N_DS] = {
	[METRICS_HARD] = { "hard", "count.hard", METRICS_COUNT },
	[METRICS_SOFT] = { "soft", "count.soft", METRICS_COUNT },
	[METRICS_ESCALATED] = { "escalated", "count.escalated", METRICS_COUNT },
	[METRICS_COMPLAINT] = { "complaint", "count.complaint", METRICS_COUNT },
	[METRICS_UNSUB] = { "unsub", "count.unsub", METRICS_COUNT },
	[METRICS_DUPLICATE] = { "duplicate", "count.duplicate", METRICS_COUNT },
	[METRICS_API_OK] = { "api_ok", "count.api_ok", METRICS_COUNT },
	[METRICS_API_RETRY] = { "api_retry", "count.api_retry", METRICS_COUNT },
	[METRICS_API_DEAD] = { "api_dead", "count.api_dead", METRICS_COUNT },
	[METRICS_FBL_DSN] = { "fbl_dsn", "count.fbl_dsn", METRICS_COUNT },
	[METRICS_FBL_AUTOREPLY] = { "fbl_autoreply", "count.fbl_autoreply",
				    METRICS_COUNT },
	[METRICS_FBL_AUTHREPORT] = { "fbl_authreport", "count.fbl_authreport",
				     METRICS_COUNT },
	[METRICS_FBL_FORWARD] = { "fbl_forward", "count.fbl_forward",
				  METRICS_COUNT },
	[METRICS_FBL_NOTOURS] = { "fbl_notours", "count.fbl_notours",
				  METRICS_COUNT },
	[METRICS_QUEUE] = { "queue", NULL, METRICS_GAUGE },
	[METRICS_INCIDENT_OPENED] = { "incident_opened",
				      "count.incident.opened", METRICS_COUNT },
	[METRICS_INCIDENT_CLOSED] = { "incident_closed",
				      "count.incident.closed", METRICS_COUNT },
	[METRICS_ALERT_RAISED] = { "alert_raised", "count.alert.raised",
				   METRICS_COUNT },
	[METRICS_ALERT_CLEARED] = { "alert_cleared", "count.alert.cleared",
				    METRICS_COUNT },
	[METRICS_HELD] = { "held", "count.held", METRICS_COUNT },
	[METRICS_INCIDENTS_OPEN] = { "incidents_open", NULL, METRICS_GAUGE },
	[METRICS_ALERTS_ACTIVE] = { "alerts_active", NULL, METRICS_GAUGE },
};

const char *metrics_ds_name(unsigned ds)
{
	return ds < METRICS_N_DS ? metrics_ds[ds].name : "?";
}

const char *metrics_ds_meta(unsigned ds)
{
	return ds < METRICS_N_DS ? metrics_ds[ds].meta : NULL;
}

enum metrics_kind metrics_ds_kind(unsigned ds)
{
	return ds < METRICS_N_DS ? metrics_ds[ds].kind : METRICS_GAUGE;
}

int metrics_meta_get(struct state *st, MDB_txn *txn, const char *name,
		     uint64_t *v)
{
	int rc = state_meta_get_u64(st, txn, name, v);

	if (rc == -ENOENT) {
		*v = 0;
		rc = 0;
	}
	return rc;
}

/* metrics_open_incident - count INC when it is open (incident_cb_t) */
static int metrics_open_incident(const struct incident *inc, void *arg)
{
	uint64_t *n = arg;

	if (inc->state == INCIDENT_ST_OPEN)
		(*n)++;
	return 0;
}

/* metrics_alert_up - count an alert up (rates_store_alert_cb) */
static int metrics_alert_up(const struct rates_store_alert *a, void *arg)
{
	uint64_t *n = arg;

	(void)a;
	(*n)++;
	return 0;
}

/* metrics_read_gauges - the levels of the gauges: outbox entries (and
   the dead letters beside them), incidents open, alerts up.  A read-only
   state older than a table has none of it. */
static int metrics_read_gauges(struct state *st, MDB_txn *txn,
			       struct metrics_snapshot *s)
{
	int rc;

	rc = outbox_counts(st, txn, &s->v[METRICS_QUEUE], &s->dead);
	if (rc == -ENOENT) {
		s->v[METRICS_QUEUE] = 0;
		s->dead = 0;
		rc = 0;
	}
	if (rc == 0)
		rc = incident_foreach(st, txn, metrics_open_incident,
				      &s->v[METRICS_INCIDENTS_OPEN]);
	if (rc == -ENOENT)
		rc = 0;
	if (rc == 0)
		rc = rates_store_alerts(st, txn, metrics_alert_up,
					&s->v[METRICS_ALERTS_ACTIVE]);
	if (rc == -ENOENT)
		rc = 0;
	return rc;
}

_Static_assert(sizeof(((struct metrics_rate *)0)->c) ==
	       RATES_COUNTERS * sizeof(uint64_t), "metrics_rate counters");

/* the sums of one dimension's names, for the rate gauges */
struct metrics_sum {
	GHashTable *h;			/* name -> uint64_t[RATES_COUNTERS] */
};

static int metrics_sum_cb(const char *name, int64_t start,
			  const uint64_t c[RATES_COUNTERS], void *arg)
{
	struct metrics_sum *x = arg;
	uint64_t *v = g_hash_table_lookup(x->h, name);
	int i;

	(void)start;
	if (!v) {
		v = g_new0(uint64_t, RATES_COUNTERS);
		g_hash_table_insert(x->h, g_strdup(name), v);
	}
	for (i = 0; i < RATES_COUNTERS; i++)
		v[i] += c[i];
	return 0;
}

/* metrics_attempts - deliveries and bounces of counts C */
static uint64_t metrics_attempts(const uint64_t *c)
{
	return c[RATES_C_DELIVERIES] + c[RATES_C_HARD] + c[RATES_C_SOFT];
}

/* metrics_rate_cmp - busiest first, then by name */
static int metrics_rate_cmp(const void *a, const void *b)
{
	const struct metrics_rate *x = a, *y = b;
	uint64_t ax = metrics_attempts(x->c), ay = metrics_attempts(y->c);

	if (ax != ay)
		return ax > ay ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* metrics_read_rates - the last hour before the newest record counted,
   per destination and per source: the METRICS_RATE_TOP busiest of each */
static int metrics_read_rates(struct state *st, MDB_txn *txn,
			      struct metrics_snapshot *s)
{
	static const enum alert_dimension dims[2] = { ALERT_BY_DESTINATION,
						       ALERT_BY_SOURCE };
	int64_t now = rates_store_now(st, txn);
	int d, rc = 0;

	s->n_rates = 0;
	if (now <= 0)
		return 0;
	for (d = 0; d < 2 && rc == 0; d++) {
		struct metrics_sum x = { g_hash_table_new_full(
			g_str_hash, g_str_equal, g_free, g_free) };
		struct metrics_rate all[256];
		size_t n = 0, i;
		GHashTableIter it;
		gpointer k, v;

		rc = rates_store_walk(st, txn, 'm', dims[d],
				      now - METRICS_RATE_SPAN + 1, now + 60,
				      metrics_sum_cb, &x);
		g_hash_table_iter_init(&it, x.h);
		while (rc == 0 && g_hash_table_iter_next(&it, &k, &v) &&
		       n < G_N_ELEMENTS(all)) {
			memset(&all[n], 0, sizeof(all[n]));
			all[n].dim = dims[d];
			g_strlcpy(all[n].name, k, sizeof(all[n].name));
			memcpy(all[n].c, v, sizeof(all[n].c));
			n++;
		}
		g_hash_table_destroy(x.h);
		qsort(all, n, sizeof(all[0]), metrics_rate_cmp);
		for (i = 0; i < n && i < METRICS_RATE_TOP; i++)
			s->rates[s->n_rates++] = all[i];
	}
	if (rc == -ENOENT)
		rc = 0;
	return rc;
}

int metrics_read(struct state *st, MDB_txn *txn, struct metrics_snapshot *s)
{
	unsigned i;
	int rc;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < METRICS_N_DS; i++) {
		if (metrics_ds[i].kind != METRICS_COUNT)
			continue;
		rc = metrics_meta_get(st, txn, metrics_ds[i].meta, &s->v[i]);
		if (rc)
			return rc;
	}
	rc = metrics_meta_get(st, txn, "count.records", &s->records);
	if (rc == 0)
		rc = metrics_read_rates(st, txn, s);
	if (rc == 0)
		rc = metrics_read_gauges(st, txn, s);
	return rc;
}

/* metrics_family - the HELP and TYPE lines of a family */
static void metrics_family(GString *o, const char *name, const char *type,
			   const char *help)
{
	g_string_append_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help,
			       name, type);
}

/* metrics_events - the two samples of counter NAME labelled event=E1
   and event=E2 */
static void metrics_events(GString *o, const char *name, const char *e1,
			   uint64_t v1, const char *e2, uint64_t v2)
{
	g_string_append_printf(o, "%s{event=\"%s\"} %" PRIu64 "\n"
			       "%s{event=\"%s\"} %" PRIu64 "\n",
			       name, e1, v1, name, e2, v2);
}

/* metrics_label - NAME as a label value: backslash, quote and newline
   escaped (names are printable ASCII already, rates_name_clean) */
static void metrics_label(GString *o, const char *name)
{
	for (; *name; name++) {
		if (*name == '\\' || *name == '"')
			g_string_append_c(o, '\\');
		if (*name == '\n')
			g_string_append(o, "\\n");
		else
			g_string_append_c(o, *name);
	}
}

/* metrics_rates_format - the rate gauges of the busiest destinations and
   sources of the last hour */
static void metrics_rates_format(GString *o, const struct metrics_snapshot *s)
{
	static const struct { const char *name, *help; } fam[3] = {
		{ "bounced_rate_attempts", "Deliveries and bounces in the "
		  "last hour of records, per destination and source (the "
		  "busiest 10 of each)." },
		{ "bounced_bounce_rate", "Hard bounces of the attempts in the "
		  "last hour of records (0..1)." },
		{ "bounced_complaint_rate", "Complaints of the deliveries in "
		  "the last hour of records (0..1)." },
	};
	size_t f, i;

	for (f = 0; f < 3; f++) {
		metrics_family(o, fam[f].name, "gauge", fam[f].help);
		for (i = 0; i < s->n_rates; i++) {
			const struct metrics_rate *r = &s->rates[i];
			uint64_t att = metrics_attempts(r->c);
			double v = f == 0 ? (double)att :
				   f == 1 ? (att ? (double)r->c[RATES_C_HARD] /
							 (double)att : 0) :
				   (r->c[RATES_C_DELIVERIES] ?
				    (double)r->c[RATES_C_COMPLAINTS] /
				    (double)r->c[RATES_C_DELIVERIES] : 0);

			g_string_append_printf(o, "%s{dimension=\"%s\",name=\"",
					       fam[f].name,
					       r->dim == ALERT_BY_SOURCE ?
						       "source" : "destination");
			metrics_label(o, r->name);
			g_string_append_printf(o, "\"} %.6g\n", v);
		}
	}
}

GString *metrics_textfile_format(const struct metrics_snapshot *s,
				 int64_t now)
{
	static const unsigned events[] = {
		METRICS_HARD, METRICS_SOFT, METRICS_ESCALATED,
		METRICS_COMPLAINT, METRICS_UNSUB, METRICS_DUPLICATE,
	};
	static const struct { unsigned ds; const char *result; } api[] = {
		{ METRICS_API_OK, "ok" },
		{ METRICS_API_RETRY, "retry" },
		{ METRICS_API_DEAD, "dead" },
	};
	static const struct { unsigned ds; const char *kind; } aside[] = {
		{ METRICS_FBL_DSN, "dsn" },
		{ METRICS_FBL_AUTOREPLY, "auto-reply" },
		{ METRICS_FBL_AUTHREPORT, "auth-report" },
		{ METRICS_FBL_FORWARD, "forward" },
		{ METRICS_FBL_NOTOURS, "not-ours" },
	};
	GString *o = g_string_new(NULL);
	size_t i;

	metrics_family(o, "bounced_records_total", "counter",
		       "Accounting records and list lines taken.");
	g_string_append_printf(o, "bounced_records_total %" PRIu64 "\n",
			       s->records);
	metrics_family(o, "bounced_events_total", "counter",
		       "Events taken, by kind (duplicate: an address already "
		       "suppressed).");
	for (i = 0; i < G_N_ELEMENTS(events); i++)
		g_string_append_printf(o, "bounced_events_total{kind=\"%s\"} %"
				       PRIu64 "\n", metrics_ds_name(events[i]),
				       s->v[events[i]]);
	metrics_family(o, "bounced_provider_actions_total", "counter",
		       "Provider actions finished (ok), rescheduled after a "
		       "transient failure (retry) or given up (dead).");
	for (i = 0; i < G_N_ELEMENTS(api); i++)
		g_string_append_printf(o, "bounced_provider_actions_total"
				       "{result=\"%s\"} %" PRIu64 "\n",
				       api[i].result, s->v[api[i].ds]);
	metrics_family(o, "bounced_fbl_set_aside_total", "counter",
		       "Mails of the feedback maildir that were no complaint "
		       "about our mail, by kind.");
	for (i = 0; i < G_N_ELEMENTS(aside); i++)
		g_string_append_printf(o, "bounced_fbl_set_aside_total"
				       "{kind=\"%s\"} %" PRIu64 "\n",
				       aside[i].kind, s->v[aside[i].ds]);
	metrics_family(o, "bounced_incidents_total", "counter",
		       "Sender-side incidents (a source blocked at a "
		       "destination) opened and closed.");
	metrics_events(o, "bounced_incidents_total", "opened",
		       s->v[METRICS_INCIDENT_OPENED], "closed",
		       s->v[METRICS_INCIDENT_CLOSED]);
	metrics_family(o, "bounced_incidents_open", "gauge",
		       "Sender-side incidents open now.");
	g_string_append_printf(o, "bounced_incidents_open %" PRIu64 "\n",
			       s->v[METRICS_INCIDENTS_OPEN]);
	metrics_family(o, "bounced_held_total", "counter",
		       "Hard bounces held by an open incident (applied or "
		       "dropped when it closes).");
	g_string_append_printf(o, "bounced_held_total %" PRIu64 "\n",
			       s->v[METRICS_HELD]);
	metrics_family(o, "bounced_alerts_total", "counter",
		       "Rate alerts ([alerts] rules) raised and cleared.");
	metrics_events(o, "bounced_alerts_total", "raised",
		       s->v[METRICS_ALERT_RAISED], "cleared",
		       s->v[METRICS_ALERT_CLEARED]);
	metrics_family(o, "bounced_alerts_active", "gauge",
		       "Rate alerts up now.");
	g_string_append_printf(o, "bounced_alerts_active %" PRIu64 "\n",
			       s->v[METRICS_ALERTS_ACTIVE]);
	metrics_rates_format(o, s);
	metrics_family(o, "bounced_outbox_actions", "gauge",
		       "Provider actions waiting in the outbox.");
	g_string_append_printf(o, "bounced_outbox_actions %" PRIu64 "\n",
			       s->v[METRICS_QUEUE]);
	metrics_family(o, "bounced_dead_actions", "gauge",
		       "Provider actions in the dead-letter table.");
	g_string_append_printf(o, "bounced_dead_actions %" PRIu64 "\n",
			       s->dead);
	metrics_family(o, "bounced_metrics_updated_seconds", "gauge",
		       "Unix time these values were read.");
	g_string_append_printf(o, "bounced_metrics_updated_seconds %" PRId64
			       "\n", now);
	return o;
}

int metrics_textfile_write(const char *path, const struct metrics_snapshot *s,
			   int64_t now, mode_t mode, char *err, size_t errlen)
{
	GString *o = metrics_textfile_format(s, now);
	int rc = atomic_file_write(path, o->str, o->len, mode, err, errlen);

	g_string_free(o, TRUE);
	return rc;
}
