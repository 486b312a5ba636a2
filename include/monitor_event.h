/*
 * monitor_event.h - what the monitor's transitions (an incident opened or
 * closed, an alert raised or cleared) become for the people and tools
 * outside: the JSON event posted to webhooks, the log line of an alert,
 * and the outbox actions that carry the event to every webhook whose
 * `events` setting asks for it.
 *
 * The JSON objects (documented in docs/PROVIDERS.md) are built when the
 * transition happens and kept whole in an OP_EVENT action's payload, so
 * that a retry an hour later posts what was true then.  The webhook adds
 * the "id" (the action's root id) when it posts.
 */
#ifndef BOUNCED_MONITOR_EVENT_H
#define BOUNCED_MONITOR_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "action.h"
#include "alert_rules.h"
#include "config.h"
#include "incident_store.h"
#include "rates.h"
#include "state.h"

/*
 * monitor_event_incident - the event of INC opening (OPENED) or closing
 * into BUF (at most ACTION_PAYLOAD_MAX bytes with the NUL): samples are
 * left out, last first, until it fits.  0, or -ENOMEM.
 */
int monitor_event_incident(const struct incident *inc, bool opened,
			   char *buf, size_t len);

/* monitor_event_alert - the event of alert transition T of RULE into BUF
   (as above); 0 or -ENOMEM */
int monitor_event_alert(const struct rates_transition *t,
			const struct alert_rule *rule, char *buf, size_t len);

/* monitor_event_alert_log - the log line of T (without the level) */
void monitor_event_alert_log(const struct rates_transition *t,
			     const struct alert_rule *rule, char *buf,
			     size_t len);

/* monitor_event_key - the outbox key of an alert: "alert:RULE:DIM:NAME"
   (BUF of ADDR_MAX + 1 bytes) */
void monitor_event_alert_key(const struct rates_transition *t, char *buf,
			     size_t len);

/*
 * monitor_event_enqueue - one OP_EVENT action carrying PAYLOAD under KEY
 * for every webhook provider of CFG whose events include MASK
 * (WEBHOOK_EVENT_INCIDENTS or WEBHOOK_EVENT_ALERTS), in TXN, due at
 * NOW_MS; *QUEUED (may be NULL) gets how many.  0 or -errno (state).
 */
int monitor_event_enqueue(struct state *st, MDB_txn *txn,
			  const struct config *cfg, unsigned mask,
			  const char *key, const char *payload, int64_t now_ms,
			  unsigned *queued);

/*
 * monitor_event_incident_queue - INC opened (OPENED) or closed, in TXN:
 * its event for every webhook that takes incidents (due at NOW_MS; the
 * count in *QUEUED, which may be NULL) and its item in the operator's
 * mail queue when [notify] is on.  The monitor's hooks call it after the
 * commit of the batch that opened or closed INC, bouncectl for an
 * incident the operator ended.  0, -ENOMEM or -errno (state).
 */
int monitor_event_incident_queue(struct state *st, MDB_txn *txn,
				 const struct config *cfg,
				 const struct incident *inc, bool opened,
				 int64_t now_ms, unsigned *queued);

/* monitor_event_wanted - does a webhook provider of CFG take the events
   of MASK?  (none: monitor_event_enqueue would queue nothing) */
bool monitor_event_wanted(const struct config *cfg, unsigned mask);

#endif
