/*
 * plan.h - the provider actions a recipient's change asks for, enqueued in
 * the transaction that makes the change.
 *
 * Every writer that decides something about an address goes through here:
 * ingest (a record, a mail, an address list), the dispatcher (a complaint
 * whose report hid the address, once a provider named it) and bouncectl
 * resend (what a provider has not done yet).  Routing is route_plan()'s;
 * this module keeps each address acted on once: the recipient record's
 * action entries (pending or done) say what was asked before, so a second
 * suppression costs no call and a campaign gets one bounce record per
 * address.
 */
#ifndef BOUNCED_PLAN_H
#define BOUNCED_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include <lmdb.h>

#include "config.h"
#include "event.h"
#include "rcpt.h"
#include "rcpt_rules.h"

struct state;

struct plan {
	struct state *st;
	const struct config *cfg;
	MDB_txn *txn;
	int64_t now;		/* wall clock, seconds */
	/* which providers are asked (NULL / false: every one routing names) */
	const char *only;	/* this provider only (bouncectl resend) */
	bool resolved;		/* a complaint of an address a provider found
				   behind a report that hid it: providers with
				   complaint-scope = list are not asked */
	bool keep_dead;		/* an entry that ended as a dead letter counts
				   as asked (resend leaves those to retry) */
	bool dry_run;		/* nothing written: the actions are planned on
				   the record only, none is put in the outbox
				   (resend --dry-run, in a read-only
				   transaction) */
};

/* what plan_enqueue did, per provider (bit i: cfg->providers[i]) */
struct plan_result {
	uint32_t routed;	/* given an action, or had it done before */
	uint32_t queued;	/* given a new action now */
};

/*
 * plan_enqueue - the actions outcome O of event EV asks for ADDR, whose
 * record R (changed in place: its action entries) the caller writes
 * back.  With no provider configured a suppression is noted as a dry-run
 * entry.  EV's strings are copied; EV->x may carry provider ids.  Returns
 * 0 (RES filled, may be NULL) or -errno from the state.
 */
int plan_enqueue(const struct plan *pl, struct rcpt *r, const char *addr,
		 const struct event *ev, enum rcpt_outcome o,
		 struct plan_result *res);

/* plan_suppresses - is O a new suppression (hard, escalated, complaint,
   unsubscribe)? */
bool plan_suppresses(enum rcpt_outcome o);

/* plan_natural_outcome - what an event of class KLASS would do to an
   address not suppressed yet: OUT_HARD, OUT_COMPLAINT, OUT_UNSUB, or
   OUT_IGNORED (soft bounces, deliveries: nothing to suppress) */
enum rcpt_outcome plan_natural_outcome(enum event_class klass);

/* plan_status_outcome - the outcome that made R's status (OUT_HARD,
   OUT_COMPLAINT, OUT_UNSUB), or OUT_IGNORED when R is not suppressed */
enum rcpt_outcome plan_status_outcome(const struct rcpt *r);

/* plan_reason_event - EV from the record behind a status (REASON), class
   KLASS; EV's strings point into REASON */
void plan_reason_event(struct event *ev, const struct rcpt_reason *reason,
		       enum event_class klass);

#endif
