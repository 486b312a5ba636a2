/*
 * held_apply.h - applying a hard bounce an incident held: when the
 * incident closes (ingest, in reading order, or its commit), or when the
 * operator releases it (bouncectl incident release).
 */
#ifndef BOUNCED_HELD_APPLY_H
#define BOUNCED_HELD_APPLY_H

#include <lmdb.h>

#include "incident_store.h"
#include "rcpt_rules.h"

struct config;
struct state;

/*
 * held_apply_released - EV, a held bounce released, applied to R: it was
 * counted (and its category was the latest) when it was held, so only
 * the status changes.  The outcome of rcpt_apply.
 */
enum rcpt_outcome held_apply_released(struct rcpt *r, const struct event *ev,
				      const struct escalation *e);

/*
 * held_apply - H applied to its address in TXN: the record read, changed
 * (held_apply_released), its provider actions queued (plan), written;
 * *APPLIED (may be NULL) says whether it was.  Not when the record holds
 * no bounce of an incident (the address was suppressed already when the
 * bounce came, which then counted as the duplicate it was; a delivery
 * dropped the hold; the operator forgot the address), as the ingest
 * skips such a release.  0 or -errno.
 */
int held_apply(struct state *st, const struct config *cfg,
	       const struct escalation *e, MDB_txn *txn,
	       const struct incident_held *h, bool *applied);

#endif
