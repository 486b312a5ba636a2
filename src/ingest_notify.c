/*
 * ingest_notify.c - a new complaint or unsubscribe is queued for the
 * operator's mail in the transaction that records it (notify_queue.h),
 * with what the digest shows: the kind, the address (or uid: key), the
 * feedback type, who reported it, the subject of the reported mail, where
 * it came from, and the MailWizz campaign and list it names, if any.
 * Provider results are looked up when the mail is written.
 */
#include <string.h>

#include "action.h"
#include "config.h"
#include "ingest_priv.h"
#include "notify_queue.h"
#include "route.h"

/* ingest_notify_mailwizz - campaign and list of EV by the first MailWizz
   provider that can read them */
static void ingest_notify_mailwizz(const struct config *cfg,
				   const struct event *ev,
				   struct notify_item *it)
{
	size_t i;

	for (i = 0; i < cfg->n_providers; i++) {
		const struct config_provider *p = &cfg->providers[i];
		char uid[ACTION_ID_MAX] = "";

		if (p->type != PROVIDER_MAILWIZZ)
			continue;
		const char *cuid = EVENT_X(ev, mw_campaign_uid);
		const char *luid = EVENT_X(ev, mw_list_uid);

		if (cuid && route_uid_ok(cuid))
			rcpt_set_str(uid, sizeof(uid), cuid);
		else if (route_campaign(p, ev->job_id, uid, sizeof(uid)) != 0)
			uid[0] = '\0';
		if (uid[0]) {
			rcpt_set_str(it->campaign_uid, sizeof(it->campaign_uid),
				     uid);
			rcpt_set_str(it->provider, sizeof(it->provider),
				     p->name);
		}
		if (luid && route_uid_ok(luid))
			rcpt_set_str(it->list_uid, sizeof(it->list_uid), luid);
		else if (route_list_uid(p, EVENT_X(ev, list_id), uid,
					sizeof(uid)) == 0)
			rcpt_set_str(it->list_uid, sizeof(it->list_uid), uid);
		if (it->campaign_uid[0] || it->list_uid[0])
			return;
	}
}

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
	ingest_notify_mailwizz(in->cfg, ev, &it);
	return notify_queue_add(in->st, txn, &it);
}
