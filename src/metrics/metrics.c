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
#include "outbox.h"
#include "state.h"

static const struct {
	const char *name;	/* in the RRD and as a label value */
	const char *meta;	/* the running total in the meta table */
} metrics_ds[METRICS_N_DS] = {
	[METRICS_HARD] = { "hard", "count.hard" },
	[METRICS_SOFT] = { "soft", "count.soft" },
	[METRICS_ESCALATED] = { "escalated", "count.escalated" },
	[METRICS_COMPLAINT] = { "complaint", "count.complaint" },
	[METRICS_UNSUB] = { "unsub", "count.unsub" },
	[METRICS_DUPLICATE] = { "duplicate", "count.duplicate" },
	[METRICS_API_OK] = { "api_ok", "count.api_ok" },
	[METRICS_API_RETRY] = { "api_retry", "count.api_retry" },
	[METRICS_API_DEAD] = { "api_dead", "count.api_dead" },
	[METRICS_FBL_DSN] = { "fbl_dsn", "count.fbl_dsn" },
	[METRICS_FBL_AUTOREPLY] = { "fbl_autoreply", "count.fbl_autoreply" },
	[METRICS_FBL_AUTHREPORT] = { "fbl_authreport", "count.fbl_authreport" },
	[METRICS_FBL_FORWARD] = { "fbl_forward", "count.fbl_forward" },
	[METRICS_FBL_NOTOURS] = { "fbl_notours", "count.fbl_notours" },
	[METRICS_QUEUE] = { "queue", NULL },
};

const char *metrics_ds_name(unsigned ds)
{
	return ds < METRICS_N_DS ? metrics_ds[ds].name : "?";
}

const char *metrics_ds_meta(unsigned ds)
{
	return ds < METRICS_N_DS ? metrics_ds[ds].meta : NULL;
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

/* metrics_read_monitor - the monitor's counters and open incidents */
static int metrics_read_monitor(struct state *st, MDB_txn *txn,
				struct metrics_snapshot *s)
{
	int rc;

	rc = metrics_meta_get(st, txn, "count.incident.opened",
			      &s->incidents_opened);
	if (rc == 0)
		rc = metrics_meta_get(st, txn, "count.incident.closed",
				      &s->incidents_closed);
	if (rc == 0)
		rc = metrics_meta_get(st, txn, "count.alert.raised",
				      &s->alerts_raised);
	if (rc == 0)
		rc = metrics_meta_get(st, txn, "count.alert.cleared",
				      &s->alerts_cleared);
	if (rc == 0)
		rc = incident_foreach(st, txn, metrics_open_incident,
				      &s->incidents_open);
	return rc;
}

int metrics_read(struct state *st, MDB_txn *txn, struct metrics_snapshot *s)
{
	unsigned i;
	int rc;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < METRICS_N_COUNTS; i++) {
		rc = metrics_meta_get(st, txn, metrics_ds[i].meta, &s->v[i]);
		if (rc)
			return rc;
	}
	rc = metrics_meta_get(st, txn, "count.records", &s->records);
	if (rc == 0)
		rc = metrics_read_monitor(st, txn, s);
	if (rc)
		return rc;
	rc = outbox_counts(st, txn, &s->v[METRICS_QUEUE], &s->dead);
	if (rc == -ENOENT) {	/* a read-only state older than the outbox */
		s->v[METRICS_QUEUE] = 0;
		s->dead = 0;
		rc = 0;
	}
	return rc;
}

/* metrics_family - the HELP and TYPE lines of a family */
static void metrics_family(GString *o, const char *name, const char *type,
			   const char *help)
{
	g_string_append_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help,
			       name, type);
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
	g_string_append_printf(o, "bounced_incidents_total{event=\"opened\"} "
			       "%" PRIu64 "\n", s->incidents_opened);
	g_string_append_printf(o, "bounced_incidents_total{event=\"closed\"} "
			       "%" PRIu64 "\n", s->incidents_closed);
	metrics_family(o, "bounced_incidents_open", "gauge",
		       "Sender-side incidents open now.");
	g_string_append_printf(o, "bounced_incidents_open %" PRIu64 "\n",
			       s->incidents_open);
	metrics_family(o, "bounced_alerts_total", "counter",
		       "Rate alerts ([alerts] rules) raised and cleared.");
	g_string_append_printf(o, "bounced_alerts_total{event=\"raised\"} "
			       "%" PRIu64 "\n", s->alerts_raised);
	g_string_append_printf(o, "bounced_alerts_total{event=\"cleared\"} "
			       "%" PRIu64 "\n", s->alerts_cleared);
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
