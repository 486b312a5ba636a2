/*
 * ingest_monitor_hooks.c - what the operator hears of the monitor's
 * transitions (monitor.h hooks incident and alert): an alert raised or
 * cleared is logged (warning / info; incidents log themselves), and each
 * transition is queued durably for the webhooks whose `events` include
 * it (OP_EVENT actions, monitor_event.c) and for the operator's mail (an
 * item of kind "incident" or "alert" in the notify queue, listed in the
 * digest or mailed at once), in one write transaction.
 *
 * The hooks run in the ingest's own thread right after the commit of the
 * batch that caused the transition, when no other write transaction is
 * in flight.  Error policy: a transition that cannot be queued (the state
 * refuses the write) is logged as an error naming it; the monitor and the
 * ingest go on.  A crash between the batch's commit and this write loses
 * the webhook post and the mail of that transition (the incident itself
 * is stored; the log line was written).
 */
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "ingest_priv.h"
#include "log.h"
#include "monitor_event.h"
#include "notify_queue.h"

/* one transition to queue */
struct hook_job {
	struct ingest *in;
	unsigned mask;			/* WEBHOOK_EVENT_* */
	char key[ADDR_MAX + 1];
	char *payload;			/* ACTION_PAYLOAD_MAX */
	const struct incident *inc;	/* one of inc, alert */
	bool opened;
	const struct rates_transition *t;
	const struct alert_rule *rule;
	unsigned queued;
};

/* hook_alert_item - the mail item of alert T of RULE */
static void hook_alert_item(struct notify_item *it,
			    const struct rates_transition *t,
			    const struct alert_rule *rule)
{
	char causes[96] = "";
	size_t i, o = 0;

	it->time = t->time;
	rcpt_set_str(it->kind, sizeof(it->kind), "alert");
	rcpt_set_str(it->feedback_type, sizeof(it->feedback_type),
		     t->raised ? "raised" : "cleared");
	g_snprintf(it->reporting_domain, sizeof(it->reporting_domain), "%s %s",
		 alert_dimension_name(t->dim), t->name);
	rcpt_set_str(it->orig_subject, sizeof(it->orig_subject), rule->text);
	for (i = 0; i < t->ncauses && i < RATES_CAUSES_TOP; i++) {
		int n = snprintf(causes + o, sizeof(causes) - o, "%s%s %" PRIu64,
				 i ? ", " : "", t->causes[i].what,
				 t->causes[i].n);

		if (n < 0 || (size_t)n >= sizeof(causes) - o)
			break;
		o += (size_t)n;
	}
	g_snprintf(it->results, sizeof(it->results),
		 "%.3f%% of %" PRIu64 " (%" PRIu64 " deliveries, %" PRIu64
		 " hard, %" PRIu64 " soft, %" PRIu64 " complaints); causes: %s",
		 t->rate * 100.0, t->volume, t->counts.deliveries,
		 t->counts.hard, t->counts.soft, t->counts.complaints,
		 causes[0] ? causes : "none");
	if (t->where[0])
		g_snprintf(it->source, sizeof(it->source), "%s:%" PRIu64,
			 t->where, t->line);
}

/* hook_notify - J's mail item into the queue when [notify] is on */
static int hook_notify(struct state *st, MDB_txn *txn,
		       const struct hook_job *j)
{
	struct notify_item *it;
	int rc;

	if (j->in->cfg->notify_mode == NOTIFY_MODE_OFF)
		return 0;
	it = g_new0(struct notify_item, 1);
	hook_alert_item(it, j->t, j->rule);
	rc = notify_queue_add(st, txn, it);
	g_free(it);
	return rc;
}

/* hook_write - the job's actions and mail item (state_write_fn) */
static int hook_write(struct state *st, MDB_txn *txn, void *arg)
{
	struct hook_job *j = arg;
	int64_t now_ms = g_get_real_time() / 1000;
	int rc;

	if (j->inc)
		return monitor_event_incident_queue(st, txn, j->in->cfg, j->inc,
						    j->opened, now_ms,
						    &j->queued);
	rc = monitor_event_enqueue(st, txn, j->in->cfg, j->mask, j->key,
				   j->payload, now_ms, &j->queued);
	if (rc == 0)
		rc = hook_notify(st, txn, j);
	return rc;
}

/* hook_wanted - would J's write queue anything: a webhook takes its
   events, or [notify] mails them?  (without either, nothing is built) */
static bool hook_wanted(const struct hook_job *j)
{
	return j->in->cfg->notify_mode != NOTIFY_MODE_OFF ||
	       monitor_event_wanted(j->in->cfg, j->mask);
}

/* hook_queue - run J's write; log what failed */
static void hook_queue(struct hook_job *j)
{
	int rc = state_write(j->in->st, hook_write, j);

	if (rc)
		log_error("monitor", "cannot queue the webhook event and mail "
			  "of %s: %s; they are not sent", j->key,
			  state_strerror(rc));
	else if (j->queued)
		log_debug("monitor", "%s queued for %u webhook%s", j->key,
			  j->queued, j->queued == 1 ? "" : "s");
}

/* ingest_monitor_on_incident - incident INC opened or closed */
void ingest_monitor_on_incident(const struct incident *inc, bool opened,
				void *arg)
{
	struct hook_job j = { .in = arg, .mask = WEBHOOK_EVENT_INCIDENTS,
			      .inc = inc, .opened = opened };

	if (!hook_wanted(&j))
		return;
	snprintf(j.key, sizeof(j.key), "incident:%" G_GUINT64_FORMAT,
		 inc->id);
	hook_queue(&j);
}

/* ingest_monitor_on_alert - alert T of RULE raised or cleared */
void ingest_monitor_on_alert(const struct rates_transition *t,
			     const struct alert_rule *rule, void *arg)
{
	struct hook_job j = { .in = arg, .mask = WEBHOOK_EVENT_ALERTS,
			      .t = t, .rule = rule };
	char line[1024];

	/* formatted only when logged: an input whose rates flap makes
	   thousands of transitions, and -q logs none of them */
	if (log_get_level() >= (t->raised ? BLOG_WARN : BLOG_INFO)) {
		monitor_event_alert_log(t, rule, line, sizeof(line));
		if (t->raised)
			log_warn("alert", "%s", line);
		else
			log_info("alert", "%s", line);
	}
	if (!hook_wanted(&j))
		return;
	monitor_event_alert_key(t, j.key, sizeof(j.key));
	j.payload = g_malloc(ACTION_PAYLOAD_MAX);
	if (monitor_event_alert(t, rule, j.payload, ACTION_PAYLOAD_MAX) != 0) {
		log_error("monitor", "cannot build the event of %s: out of "
			  "memory", j.key);
		goto out;
	}
	hook_queue(&j);
out:
	g_free(j.payload);
}
