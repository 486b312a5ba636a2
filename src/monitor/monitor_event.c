/*
 * monitor_event.c - the monitor's transitions as webhook events, log
 * lines and outbox actions (monitor_event.h).
 *
 * Error policy: strings from records (names, sample texts, file names)
 * are made valid UTF-8 before they go into JSON; an event too long for an
 * action's payload loses its sample texts, last first, and never its
 * counts.  Only memory (-ENOMEM) and the state's errors are returned.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <glib.h>

#include "monitor_event.h"
#include "notify_queue.h"
#include "outbox.h"
#include "provider.h"

/* me_str - KEY: VAL made valid UTF-8; false when out of memory */
static bool me_str(cJSON *o, const char *key, const char *val)
{
	gchar *valid = g_utf8_make_valid(val ? val : "", -1);
	bool ok = cJSON_AddStringToObject(o, key, valid) != NULL;

	g_free(valid);
	return ok;
}

/* me_num - KEY: V */
static bool me_num(cJSON *o, const char *key, double v)
{
	return cJSON_AddNumberToObject(o, key, v) != NULL;
}

/* me_time - KEY: T as RFC 3339 UTC, null when unknown (<= 0) */
static bool me_time(cJSON *o, const char *key, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char buf[40];

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return cJSON_AddNullToObject(o, key) != NULL;
	return cJSON_AddStringToObject(o, key, buf) != NULL;
}

/* me_print - O (deleted here) unformatted into BUF; 1 when it does not
   fit, 0, or -ENOMEM */
static int me_print(cJSON *o, char *buf, size_t len)
{
	char *text = o ? cJSON_PrintUnformatted(o) : NULL;
	int rc;

	cJSON_Delete(o);
	if (!text)
		return -ENOMEM;
	rc = strlen(text) < len ? 0 : 1;
	if (rc == 0)
		memcpy(buf, text, strlen(text) + 1);
	cJSON_free(text);
	return rc;
}

/* me_incident_json - INC's event with its first NSAMPLES samples */
static cJSON *me_incident_json(const struct incident *inc, bool opened,
			       uint32_t nsamples)
{
	cJSON *o = cJSON_CreateObject(), *s;
	bool ok = o != NULL;
	uint32_t i;

	ok = ok && me_str(o, "event", opened ? "incident.opened" :
					       "incident.closed");
	ok = ok && me_num(o, "incident", (double)inc->id);
	ok = ok && me_str(o, "state",
			  incident_state_name((enum incident_state)inc->state));
	ok = ok && me_str(o, "source", inc->source);
	ok = ok && me_str(o, "destination", inc->dest);
	ok = ok && me_time(o, "first", inc->first_time);
	ok = ok && me_time(o, "opened", inc->open_time);
	ok = ok && me_time(o, "closed", inc->close_time);
	ok = ok && me_time(o, "last_bounce", inc->last_bounce);
	ok = ok && cJSON_AddBoolToObject(o, "recovered", inc->recovered);
	ok = ok && me_num(o, "recipients", inc->recipients);
	ok = ok && me_num(o, "bounces", (double)inc->bounces);
	ok = ok && me_num(o, "attempts", (double)inc->attempts);
	ok = ok && me_num(o, "protected", inc->protected_soft);
	ok = ok && me_num(o, "held", inc->held);
	ok = ok && me_num(o, "applied", inc->applied);
	ok = ok && me_num(o, "dropped", inc->dropped);
	s = ok ? cJSON_AddArrayToObject(o, "samples") : NULL;
	for (i = 0; s && i < nsamples && i < inc->nsamples &&
		    i < INCIDENT_SAMPLES; i++) {
		char text[INCIDENT_SAMPLE_MAX + 1];
		gchar *valid;
		cJSON *str;

		g_strlcpy(text, inc->samples[i], sizeof(text));
		valid = g_utf8_make_valid(text, -1);
		str = cJSON_CreateString(valid);
		g_free(valid);
		if (!str || !cJSON_AddItemToArray(s, str)) {
			cJSON_Delete(str);
			s = NULL;
		}
	}
	if (!s) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* monitor_event_incident - INC's event, samples dropped until it fits.
   An opening is told as open even when the batch that opened INC also
   closed it (its incident.closed follows): no close time, nothing
   applied or dropped yet */
int monitor_event_incident(const struct incident *inc, bool opened,
			   char *buf, size_t len)
{
	struct incident *at = g_memdup2(inc, sizeof(*inc));
	int n = (int)(inc->nsamples < INCIDENT_SAMPLES ? inc->nsamples :
							 INCIDENT_SAMPLES);
	int rc = 1;

	if (opened) {
		at->state = INCIDENT_ST_OPEN;
		at->close_time = 0;
		at->recovered = false;
		at->applied = at->dropped = 0;
	}
	for (; n >= 0 && rc == 1; n--)
		rc = me_print(me_incident_json(at, opened, (uint32_t)n), buf,
			      len);
	g_free(at);
	return rc == 0 ? 0 : -ENOMEM;
}

/* monitor_event_alert - T's event */
int monitor_event_alert(const struct rates_transition *t,
			const struct alert_rule *rule, char *buf, size_t len)
{
	cJSON *o = cJSON_CreateObject(), *c = NULL, *a = NULL, *w;
	bool ok = o != NULL;
	size_t i;
	int rc;

	ok = ok && me_str(o, "event", t->raised ? "alert.raised" :
						  "alert.cleared");
	ok = ok && me_str(o, "rule", rule->text);
	ok = ok && me_str(o, "metric", alert_metric_name(rule->metric));
	ok = ok && me_num(o, "threshold", rule->threshold);
	ok = ok && me_num(o, "over", (double)rule->over);
	ok = ok && me_num(o, "min_volume", (double)rule->min_volume);
	ok = ok && me_str(o, "dimension", alert_dimension_name(t->dim));
	ok = ok && me_str(o, "name", t->name);
	ok = ok && me_num(o, "rate", t->rate);
	ok = ok && me_num(o, "volume", (double)t->volume);
	c = ok ? cJSON_AddObjectToObject(o, "counts") : NULL;
	ok = c && me_num(c, "deliveries", (double)t->counts.deliveries) &&
	     me_num(c, "hard", (double)t->counts.hard) &&
	     me_num(c, "soft", (double)t->counts.soft) &&
	     me_num(c, "sender", (double)t->counts.sender) &&
	     me_num(c, "complaints", (double)t->counts.complaints);
	a = ok ? cJSON_AddArrayToObject(o, "causes") : NULL;
	for (i = 0; a && i < t->ncauses && i < RATES_CAUSES_TOP; i++) {
		cJSON *e = cJSON_CreateObject();

		if (!e || !cJSON_AddItemToArray(a, e)) {
			cJSON_Delete(e);
			a = NULL;
			break;
		}
		if (!me_str(e, "cause", t->causes[i].what) ||
		    !me_num(e, "count", (double)t->causes[i].n))
			a = NULL;
	}
	ok = a != NULL && me_time(o, "time", t->time);
	if (ok && t->where[0]) {
		w = cJSON_AddObjectToObject(o, "record");
		ok = w && me_str(w, "file", t->where) &&
		     me_num(w, "line", (double)t->line);
	} else if (ok) {
		ok = cJSON_AddNullToObject(o, "record") != NULL;
	}
	if (!ok) {
		cJSON_Delete(o);
		return -ENOMEM;
	}
	rc = me_print(o, buf, len);
	return rc == 0 ? 0 : -ENOMEM;
}

/* monitor_event_alert_log - "alert raised: RULE: DIM NAME at RATE% of
   VOLUME (causes) at FILE:LINE" */
void monitor_event_alert_log(const struct rates_transition *t,
			     const struct alert_rule *rule, char *buf,
			     size_t len)
{
	char causes[160] = "", at[300];
	size_t i, o = 0;

	for (i = 0; i < t->ncauses && i < RATES_CAUSES_TOP; i++) {
		int n = snprintf(causes + o, sizeof(causes) - o, "%s%s %" PRIu64,
				 i ? ", " : "", t->causes[i].what,
				 t->causes[i].n);

		if (n < 0 || (size_t)n >= sizeof(causes) - o)
			break;
		o += (size_t)n;
	}
	if (t->where[0])
		snprintf(at, sizeof(at), "record %s:%" PRIu64, t->where,
			 t->line);
	else
		snprintf(at, sizeof(at), "time passing (no record)");
	snprintf(buf, len,
		 "alert %s: '%s': %s %s at %.3f%% of %" PRIu64 " (%" PRIu64
		 " deliveries, %" PRIu64 " hard, %" PRIu64 " soft, %" PRIu64
		 " sender-side, %" PRIu64 " complaints); causes: %s; by %s",
		 t->raised ? "raised" : "cleared", rule->text,
		 alert_dimension_name(t->dim), t->name, t->rate * 100.0,
		 t->volume, t->counts.deliveries, t->counts.hard,
		 t->counts.soft, t->counts.sender, t->counts.complaints,
		 causes[0] ? causes : "none", at);
}

void monitor_event_alert_key(const struct rates_transition *t, char *buf,
			     size_t len)
{
	snprintf(buf, len, "alert:%zu:%s:%s", t->rule,
		 alert_dimension_name(t->dim), t->name);
}

/* me_takes - does provider P take the events of MASK (a type that takes
   events, configured for them)? */
static bool me_takes(const struct config_provider *p, unsigned mask)
{
	const struct provider_ops *ops = provider_ops_of(p);

	return ops && ops->takes_events && (p->events & mask);
}

bool monitor_event_wanted(const struct config *cfg, unsigned mask)
{
	size_t i;

	for (i = 0; i < cfg->n_providers; i++)
		if (me_takes(&cfg->providers[i], mask))
			return true;
	return false;
}

int monitor_event_enqueue(struct state *st, MDB_txn *txn,
			  const struct config *cfg, unsigned mask,
			  const char *key, const char *payload, int64_t now_ms,
			  unsigned *queued)
{
	struct action *a = g_new0(struct action, 1);
	unsigned n = 0;
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < cfg->n_providers; i++) {
		const struct config_provider *p = &cfg->providers[i];

		if (!me_takes(p, mask))
			continue;
		memset(a, 0, sizeof(*a));
		g_strlcpy(a->provider, p->name, sizeof(a->provider));
		a->op = OP_EVENT;
		a->klass = CLASS_IGNORE;
		g_strlcpy(a->addr, key, sizeof(a->addr));
		g_strlcpy(a->payload, payload, sizeof(a->payload));
		rc = outbox_enqueue(st, txn, a, now_ms);
		if (rc == 0)
			n++;
	}
	g_free(a);
	if (queued)
		*queued = n;
	return rc;
}

/* me_incident_item - the mail item of incident INC opened or closed */
static void me_incident_item(struct notify_item *it,
			       const struct incident *inc, bool opened)
{
	it->time = opened ? inc->open_time : inc->close_time;
	rcpt_set_str(it->kind, sizeof(it->kind), "incident");
	rcpt_set_str(it->feedback_type, sizeof(it->feedback_type),
		     opened ? "opened" : "closed");
	g_snprintf(it->reporting_domain, sizeof(it->reporting_domain),
		 "%s to %s", inc->source, inc->dest);
	if (inc->nsamples)
		rcpt_set_str(it->orig_subject, sizeof(it->orig_subject),
			     inc->samples[0]);
	g_snprintf(it->source, sizeof(it->source), "incident %" PRIu64,
		 inc->id);
	if (opened)
		g_snprintf(it->results, sizeof(it->results),
			 "%" PRIu32 " recipients refused from %s, %" PRIu64
			 " sender-side bounces of %" PRIu64 " attempts so far",
			 inc->recipients, inc->source, inc->bounces,
			 inc->attempts);
	else
		g_snprintf(it->results, sizeof(it->results),
			 "%" PRIu32 " addresses protected (soft bounces not "
			 "counted), %" PRIu64 " bounces of %" PRIu64
			 " attempts; %" PRIu32 " hard bounces held: %" PRIu32
			 " applied, %" PRIu32 " dropped%s",
			 inc->protected_soft, inc->bounces, inc->attempts,
			 inc->held, inc->applied, inc->dropped,
			 inc->recovered ? "; deliveries came back" : "");
}

int monitor_event_incident_queue(struct state *st, MDB_txn *txn,
				 const struct config *cfg,
				 const struct incident *inc, bool opened,
				 int64_t now_ms, unsigned *queued)
{
	char key[ADDR_MAX + 1];
	struct notify_item *it;
	char *payload;
	int rc = 0;

	if (queued)
		*queued = 0;
	if (monitor_event_wanted(cfg, WEBHOOK_EVENT_INCIDENTS)) {
		snprintf(key, sizeof(key), "incident:%" PRIu64, inc->id);
		payload = g_malloc(ACTION_PAYLOAD_MAX);
		rc = monitor_event_incident(inc, opened, payload,
					    ACTION_PAYLOAD_MAX);
		if (rc == 0)
			rc = monitor_event_enqueue(st, txn, cfg,
						   WEBHOOK_EVENT_INCIDENTS, key,
						   payload, now_ms, queued);
		g_free(payload);
		if (rc)
			return rc;
	}
	if (cfg->notify_mode == NOTIFY_MODE_OFF)
		return 0;
	it = g_new0(struct notify_item, 1);
	me_incident_item(it, inc, opened);
	rc = notify_queue_add(st, txn, it);
	g_free(it);
	return rc;
}
