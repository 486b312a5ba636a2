/*
 * held_apply.c - applying a hard bounce an incident held (held_apply.h).
 *
 * A held bounce was counted on its address (cnt_hard, last category) when
 * it was held; applying it changes the status and asks the providers for
 * what a hard bounce asks (plan_enqueue), in the caller's transaction.
 * Errors are the state's (-errno); a record that does not decode is
 * started anew, as ingest does.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "held_apply.h"
#include "log.h"
#include "plan.h"
#include "state.h"

enum rcpt_outcome held_apply_released(struct rcpt *r, const struct event *ev,
				      const struct escalation *e)
{
	char cat[RCPT_CATEGORY_MAX];
	enum rcpt_outcome out;
	int64_t updated = r->updated;

	memcpy(cat, r->last_category, sizeof(cat));
	if (r->cnt_hard)
		r->cnt_hard--;
	r->held = 0;
	out = rcpt_apply(r, ev, e);
	memcpy(r->last_category, cat, sizeof(cat));
	r->updated = updated;
	return out;
}

int held_apply(struct state *st, const struct config *cfg,
	       const struct escalation *e, MDB_txn *txn,
	       const struct incident_held *h, bool *applied)
{
	struct plan pl = { .st = st, .cfg = cfg, .txn = txn,
			   .now = (int64_t)time(NULL) };
	struct event_extra x;
	struct plan_result res;
	enum rcpt_outcome out;
	struct event ev;
	struct rcpt r;
	int rc;

	if (applied)
		*applied = false;
	rc = state_rcpt_get(st, txn, h->addr, &r);
	if (rc == -ENOENT || rc == -EINVAL || rc == -EPROTO)
		rcpt_init(&r);
	else if (rc)
		return rc;
	if (rc == 0 && r.held == 0)
		return 0;	/* nothing of it held on the address */
	if (applied)
		*applied = true;
	incident_held_event(h, &ev, &x);
	out = held_apply_released(&r, &ev, e);
	if (plan_suppresses(out)) {
		rc = plan_enqueue(&pl, &r, h->addr, &ev, out, &res);
		if (rc == 0)
			rc = state_meta_add_u64(st, txn, "count.hard", 1);
		if (rc)
			return rc;
		log_info("incident", "%s: hard bounce held by an incident "
			 "applied (%s:%llu)", h->addr, h->reason.source,
			 (unsigned long long)h->reason.line);
	}
	return state_rcpt_put(st, txn, h->addr, &r);
}
