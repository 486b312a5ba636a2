/*
 * held_drop.c - a held hard bounce not applied, kept on its address
 * (held_drop.h), in the caller's transaction: bouncectl incident discard,
 * and the monitor's commit (a discard that came while it held more, a
 * delivery that dropped a hold).  Errors are the state's (-errno).
 */
#include <errno.h>

#include "held_drop.h"
#include "log.h"
#include "rcpt_dropped.h"
#include "state.h"

int held_drop(struct state *st, MDB_txn *txn, const struct incident_held *h,
	      uint64_t id, uint32_t src, int64_t from)
{
	struct rcpt r;
	int rc;

	rc = state_rcpt_get(st, txn, h->addr, &r);
	if (rc == -EINVAL || rc == -EPROTO)
		log_warn("incident", "record of '%s' unreadable (%s): "
			 "starting it anew", h->addr, state_strerror(rc));
	if (rc == -ENOENT || rc == -EINVAL || rc == -EPROTO)
		rcpt_init(&r);
	else if (rc)
		return rc;
	if (!rcpt_dropped_add(&r, id, src, from, h->reason.time))
		return 0;
	return state_rcpt_put(st, txn, h->addr, &r);
}
