/*
 * ingest_notify.c - a new complaint or unsubscribe is queued for the
 * operator's mail in the transaction that records it (notify_queue.h),
 * with what the digest shows: the kind, the address (or uid: key), the
 * feedback type, who reported it, the subject of the reported mail, where
 * it came from, and the campaign and list it names, if any (asked of the
 * providers' table: provider_notify_ids).
 * Provider results are looked up when the mail is written.
 */
#include <string.h>

#include "action.h"
#include "config.h"
#include "ingest_priv.h"
#include "notify_queue.h"
#include "provider.h"

int ingest_notify(struct ingest *in, MDB_txn *txn, const char *addr,
		  const struct batch_event *be, int64_t now)
{
	const struct event *ev = &be->ev;
	struct notify_item it;

	if (in->cfg->notify_mode == NOTIFY_MODE_OFF ||
	    (be->outcome != OUT_COMPLAINT && be->outcome != OUT_UNSUB))
		return 0;
	memset(&it, 0, sizeof(it));
	it.time = now;
	rcpt_set_str(it.kind, sizeof(it.kind),
		     be->outcome == OUT_COMPLAINT ? "complaint" : "unsubscribe");
	rcpt_set_str(it.addr, sizeof(it.addr), addr);
	if (be->outcome == OUT_COMPLAINT)
		rcpt_set_str(it.feedback_type, sizeof(it.feedback_type),
			     ev->feedback_type && *ev->feedback_type ?
				     ev->feedback_type : "abuse");
	rcpt_set_str(it.reporting_domain, sizeof(it.reporting_domain),
		     EVENT_X(ev, reporter));
	rcpt_set_str(it.orig_subject, sizeof(it.orig_subject),
		     EVENT_X(ev, subject));
	rcpt_set_str(it.source, sizeof(it.source), ev->source);
	provider_notify_ids(in->cfg, ev, &it);
	return notify_queue_add(in->st, txn, &it);
}
