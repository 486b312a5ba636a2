/*
 * ingest_monitor.c - the incident and rate monitor of an ingest context
 * (monitor.h): made from the configuration, loaded from the state before
 * the first input (and again after a failed commit), its hooks wired to
 * the commit step (held bounces released or dropped) and to what
 * the operator hears (ingest_monitor_hooks.c).
 *
 * Errors: a configuration the monitor refuses was refused by
 * check-config already; should it happen, the monitor is off and the
 * reason logged.  A load that fails is an error of the input being begun.
 */
#include <errno.h>
#include <stdio.h>

#include "batch.h"
#include "config.h"
#include "ingest_commit.h"
#include "ingest_priv.h"
#include "log.h"
#include "monitor.h"
#include "state.h"

/* ingest_hold_event - the event of a hold bound in ingest_event: the
   batch being read keeps it (monitor_hold_bind) */
static const struct event *ingest_hold_event(const void *ref, void *arg)
{
	(void)arg;
	return &((const struct batch_event *)ref)->ev;
}

void ingest_monitor_new(struct ingest *in)
{
	const struct config *cfg = in->cfg;
	struct monitor_params p = {
		.incidents = cfg->incidents,
		.ip = { .window = cfg->incident_window,
			.min_recipients = cfg->incident_min_recipients,
			.min_share = cfg->incident_min_share,
			.quiet = cfg->incident_quiet },
		.hold_hard = cfg->incident_hold_hard,
		.keep = cfg->soft_window,
		.domain_groups = cfg->domain_groups,
		.sender_categories = cfg->sender_categories,
		.rates = cfg->rates,
		.alerts = cfg->alert_rules,
		.rates_top = cfg->rates_top,
	};
	struct monitor_hooks h = {
		.incident = ingest_monitor_on_incident,
		.alert = ingest_monitor_on_alert,
		.release = ingest_commit_release_held,
		.drop = ingest_commit_drop_held,
		.hold_event = ingest_hold_event,
		.arg = in,
	};
	char err[256];

	if (!p.incidents && !p.rates)
		return;
	if (monitor_new(&in->mon, &p, &h, err, sizeof(err)) != 0) {
		log_error("ingest", "incidents and rates are off: %s", err);
		in->mon = NULL;
	}
}

/* ingest_monitor_load - monitor_load in a write transaction
   (state_write_fn: alerts of rules no longer configured are dropped) */
static int ingest_monitor_load(struct state *st, MDB_txn *txn, void *arg)
{
	return monitor_load(arg, st, txn);
}

/* ingest_monitor_commit - a seal of the monitor alone (state_write_fn) */
static int ingest_monitor_commit(struct state *st, MDB_txn *txn, void *arg)
{
	return monitor_seal_commit(arg, st, txn);
}

int ingest_monitor_ready(struct ingest *in)
{
	int rc;

	if (!in->mon || in->mon_loaded)
		return 0;
	rc = state_write(in->st, ingest_monitor_load, in->mon);
	if (rc) {
		log_error("ingest", "cannot read the incidents and rates of "
			  "the state: %s", state_strerror(rc));
		return rc;
	}
	in->mon_loaded = true;
	return 0;
}

int ingest_monitor_advance(struct ingest *in, int64_t now)
{
	struct monitor_seal *s;
	int rc;

	if (!in->mon || !in->mon_loaded)
		return 0;
	monitor_advance(in->mon, now);
	s = monitor_seal(in->mon);
	rc = state_write(in->st, ingest_monitor_commit, s);
	monitor_seal_done(in->mon, s, rc == 0);
	if (rc) {
		log_error("ingest", "cannot write the incidents and rates: %s",
			  state_strerror(rc));
		in->mon_loaded = false;
	}
	return rc;
}

int ingest_clock(struct ingest *in, int64_t now)
{
	if (!in->mon || ingest_monitor_ready(in) != 0 ||
	    now - monitor_now(in->mon) > INGEST_CLOCK_LIVE ||
	    now <= monitor_now(in->mon))
		return 0;
	return ingest_monitor_advance(in, now);
}
