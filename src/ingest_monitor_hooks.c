/*
 * ingest_monitor_hooks.c - what the operator hears of the monitor's
 * transitions (monitor.h hooks incident and alert): an alert raised or
 * cleared is logged (warning / info; incidents log themselves), and each
 * transition is queued durably for the webhooks whose `events` include
 * it (OP_EVENT actions, monitor_event.c), in one write transaction.
 *
 * The hooks run in the ingest's own thread right after the commit of the
 * batch that caused the transition, when no other write transaction is
 * in flight.  Error policy: a transition that cannot be queued (the state
 * refuses the write) is logged as an error naming it; the monitor and the
 * ingest go on.  A crash between the batch's commit and this write loses
 * the webhook post of that transition (the incident itself
 * is stored; the log line was written).
 */
#include <glib.h>
#include <stdio.h>

#include "config.h"
#include "ingest_priv.h"
#include "log.h"
#include "monitor_event.h"

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

/* hook_write - the job's actions and mail item (state_write_fn) */
static int hook_write(struct state *st, MDB_txn *txn, void *arg)
{
	struct hook_job *j = arg;
	int64_t now_ms = g_get_real_time() / 1000;
	int rc;

	rc = monitor_event_enqueue(st, txn, j->in->cfg, j->mask, j->key,
				   j->payload, now_ms, &j->queued);
	return rc;
}

/* hook_queue - run J's write; log what failed */
static void hook_queue(struct hook_job *j)
{
	int rc = state_write(j->in->st, hook_write, j);

	if (rc)
		log_error("monitor", "cannot queue the webhook event of %s: "
			  "%s; it is not sent", j->key,
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

	snprintf(j.key, sizeof(j.key), "incident:%" G_GUINT64_FORMAT,
		 inc->id);
	j.payload = g_malloc(ACTION_PAYLOAD_MAX);
	if (monitor_event_incident(inc, opened, j.payload,
				   ACTION_PAYLOAD_MAX) != 0) {
		log_error("monitor", "cannot build the event of %s: out of "
			  "memory", j.key);
		goto out;
	}
	hook_queue(&j);
out:
	g_free(j.payload);
}

/* ingest_monitor_on_alert - alert T of RULE raised or cleared */
void ingest_monitor_on_alert(const struct rates_transition *t,
			     const struct alert_rule *rule, void *arg)
{
	struct hook_job j = { .in = arg, .mask = WEBHOOK_EVENT_ALERTS,
			      .t = t, .rule = rule };
	char line[1024];

	monitor_event_alert_log(t, rule, line, sizeof(line));
	if (t->raised)
		log_warn("alert", "%s", line);
	else
		log_info("alert", "%s", line);
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
