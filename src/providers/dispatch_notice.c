/*
 * dispatch_notice.c - what a dispatcher step's results say beyond their
 * actions, written in the step's transaction:
 *
 *   pause     a provider that refused our credentials, keys or clock
 *             (PROVIDER_PAUSE) is paused: a pause record in the state
 *             (provider_pause.h), an item for the operator's mail, an
 *             error in the log; its actions stay queued as they were.  The
 *             first answer it judges again (done, next step, failed)
 *             ends the pause the same way.
 *   notice    something the operator must know about one address (a
 *             subscriber uid naming another address, an address the
 *             provider refuses): kept on the recipient record (bouncectl
 *             show), in the operator's mail, and logged.
 *   resolve   a complaint recorded under a "uid:" key (the report hid the
 *             address) whose provider found the address: the address is
 *             then a complaint like any other, recorded under it and acted
 *             on by every provider (but those with complaint-scope = list).
 *
 * Error policy: state errors are returned (the caller aborts the step's
 * transaction and tries again later); an unreadable recipient record is
 * warned about and left alone.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "dispatch_priv.h"
#include "errmsg.h"
#include "log.h"
#include "mail_events.h"
#include "notify_queue.h"
#include "plan.h"
#include "provider_pause.h"

/* dn_notify - an item "provider" for the operator's mail, when it is on */
static int dn_notify(struct dispatch *d, MDB_txn *txn, const char *provider,
		     const char *addr, const char *text, int64_t now_s)
{
	struct notify_item it;

	if (d->cfg->notify_mode == NOTIFY_MODE_OFF)
		return 0;
	memset(&it, 0, sizeof(it));
	it.time = now_s;
	rcpt_set_str(it.kind, sizeof(it.kind), "provider");
	rcpt_set_str(it.addr, sizeof(it.addr), addr);
	rcpt_set_str(it.provider, sizeof(it.provider), provider);
	rcpt_set_str(it.results, sizeof(it.results), text);
	return notify_queue_add(d->st, txn, &it);
}

void dispatch_pause_plan(struct dispatch *d)
{
	guint i;
	unsigned k;

	for (k = 0; k < d->n_provs; k++) {
		d->provs[k].step_pause = DISPATCH_PAUSE_KEEP;
		d->provs[k].step_pauser = 0;
		d->provs[k].step_why[0] = '\0';
	}
	for (i = 0; i < d->results->len; i++) {
		struct dispatch_result *r =
			&g_array_index(d->results, struct dispatch_result, i);
		struct dispatch_prov *dp = &d->provs[r->prov];

		if (r->res == PROVIDER_PAUSE && !dp->paused_ms &&
		    dp->pauser == r->orig.id) {
			/* the last refused while the provider was paused
			   (it began the pause, or a probe of it was refused),
			   and others were accepted since: refused for itself,
			   a dead letter */
			r->res = PROVIDER_FAILED;
			snprintf(r->why, sizeof(r->why), "refused again after "
				 "other actions were accepted: %s", r->err);
			continue;
		}
		if (r->res == PROVIDER_PAUSE) {
			/* a refusal in the step wins over an answer that
			   raced it; the first refusal names the pauser */
			if (!dp->step_pauser)
				dp->step_pauser = r->orig.id;
			if (!dp->paused_ms)
				dp->step_pause = DISPATCH_PAUSE_START;
			else if (dp->step_pause == DISPATCH_PAUSE_END)
				dp->step_pause = DISPATCH_PAUSE_KEEP;
			if (!dp->step_why[0])
				g_strlcpy(dp->step_why, r->err,
					  sizeof(dp->step_why));
		} else if (dp->paused_ms && r->status > 0 &&
			   r->res != PROVIDER_RETRY &&
			   dp->step_pause != DISPATCH_PAUSE_START &&
			   dp->step_why[0] == '\0') {
			dp->step_pause = DISPATCH_PAUSE_END;
		}
	}
}

int dispatch_pause_write(struct dispatch *d, MDB_txn *txn, int64_t now_ms)
{
	char text[sizeof(((struct notify_item *)0)->results)];
	unsigned k;
	int rc = 0;

	for (k = 0; rc == 0 && k < d->n_provs; k++) {
		struct dispatch_prov *dp = &d->provs[k];

		if (dp->step_pause == DISPATCH_PAUSE_START) {
			rc = provider_pause_put(d->st, txn, dp->cfg->name,
						now_ms, dp->step_why);
			errmsg(text, sizeof(text), "paused: %s; its actions "
				 "stay queued, probed every %llds", dp->step_why,
				 (long long)(dispatch_probe_ms(dp) / 1000));
		} else if (dp->step_pause == DISPATCH_PAUSE_END) {
			rc = provider_pause_clear(d->st, txn, dp->cfg->name);
			if (rc == 0)
				rc = provider_resumed_put(d->st, txn,
							  dp->cfg->name, now_ms);
			errmsg(text, sizeof(text), "resumed: it answers "
				 "again (paused since %s)", dp->pause_why);
		} else {
			continue;
		}
		if (rc == 0)
			rc = dn_notify(d, txn, dp->cfg->name, "", text,
				       now_ms / 1000);
	}
	return rc;
}

void dispatch_pause_report(struct dispatch *d, int64_t now_ms)
{
	unsigned k;

	for (k = 0; k < d->n_provs; k++) {
		struct dispatch_prov *dp = &d->provs[k];
		const char *label = dispatch_type_label(dp);

		if (dp->step_pauser)
			dp->pauser = dp->step_pauser;
		if (dp->step_pause == DISPATCH_PAUSE_START) {
			dp->paused_ms = now_ms;
			dp->probe_ms = now_ms + dispatch_probe_ms(dp);
			g_strlcpy(dp->pause_why, dp->step_why,
				  sizeof(dp->pause_why));
			log_error("dispatch", "%s %s paused: %s; its actions "
				  "stay queued and it is probed every %llds "
				  "(fix the credentials, keys or clock, then "
				  "send SIGHUP or wait; bounced provider-test "
				  "%s checks it)", label, dp->cfg->name,
				  dp->step_why,
				  (long long)(dispatch_probe_ms(dp) / 1000),
				  dp->cfg->name);
		} else if (dp->step_pause == DISPATCH_PAUSE_END) {
			log_info("dispatch", "%s %s resumed: it answers again "
				 "(was paused: %s)", label, dp->cfg->name,
				 dp->pause_why);
			dp->paused_ms = 0;
			dp->probe_ms = 0;
			dp->pause_why[0] = '\0';
			dp->resumed_ms = now_ms;
		}
		dp->step_pause = DISPATCH_PAUSE_KEEP;
	}
}

int dispatch_notice_write(struct dispatch *d, MDB_txn *txn,
			  const struct action *a, int64_t now_s)
{
	struct rcpt r;
	int rc;

	if (!a->notice[0] || a->notice_level == NOTICE_INFO)
		return 0;
	rc = state_rcpt_get(d->st, txn, a->addr, &r);
	if (rc == 0) {
		r.notice_time = now_s;
		rcpt_set_str(r.notice, sizeof(r.notice), a->notice);
		rc = state_rcpt_put(d->st, txn, a->addr, &r);
	} else if (rc == -ENOENT || rc == -EINVAL || rc == -EPROTO) {
		rc = 0;
	}
	if (rc == 0)
		rc = dn_notify(d, txn, a->provider, a->addr, a->notice, now_s);
	return rc;
}

void dispatch_notice_report(const struct dispatch *d,
			    const struct dispatch_result *r)
{
	const struct dispatch_prov *dp = &d->provs[r->prov];
	const char *label = dispatch_type_label(dp);

	if (!r->a.notice[0])
		return;
	switch (r->a.notice_level) {
	case NOTICE_ERROR:
		log_error("dispatch", "%s %s: %s", label, dp->cfg->name,
			  r->a.notice);
		break;
	case NOTICE_INFO:
		log_info("dispatch", "%s %s: %s", label, dp->cfg->name,
			 r->a.notice);
		break;
	default:
		log_warn("dispatch", "%s %s: %s", label, dp->cfg->name,
			 r->a.notice);
		break;
	}
}

int dispatch_resolve(struct dispatch *d, MDB_txn *txn, const struct action *a,
		     int64_t now_s)
{
	struct plan pl = { .st = d->st, .cfg = d->cfg, .txn = txn,
			   .now = now_s, .resolved = true };
	struct plan_result res;
	struct event_extra x;
	struct event ev;
	struct rcpt key, r;
	bool fresh = true;
	int rc = state_rcpt_get(d->st, txn, a->addr, &key);

	if (rc == -EINVAL || rc == -EPROTO)
		log_warn("dispatch", "%s: %s is %s, but the record of %s is "
			 "unreadable (%s): the complaint is not carried over",
			 a->provider, a->addr, a->resolved, a->addr,
			 state_strerror(rc));
	if (rc == -ENOENT || rc == -EINVAL || rc == -EPROTO)
		return 0;
	if (rc)
		return rc;
	rc = state_rcpt_get(d->st, txn, a->resolved, &r);
	if (rc == -EINVAL || rc == -EPROTO)
		log_warn("dispatch", "record of '%s' unreadable (%s): starting "
			 "it anew with the complaint of %s", a->resolved,
			 state_strerror(rc), a->addr);
	if (rc == -ENOENT || rc == -EINVAL || rc == -EPROTO)
		rcpt_init(&r);
	else if (rc)
		return rc;
	if (rcpt_is_suppressed(&r)) {
		r.cnt_duplicate++;
		fresh = false;
	} else {
		r.status = RCPT_COMPLAINED;
		r.escalated = false;
		r.status_time = key.status_time;
		r.reason = key.reason;
		r.cnt_complaint++;
		if (!r.first_seen || r.first_seen > key.status_time)
			r.first_seen = key.status_time;
	}
	if (r.updated < key.status_time)
		r.updated = key.status_time;
	memset(&res, 0, sizeof(res));
	if (fresh) {
		/* a complaint of the address like any other: every provider
		   acts on it (the one that found it unsubscribes the address
		   from its other lists too) */
		plan_reason_event(&ev, &key.reason, CLASS_COMPLAINT);
		/* as the provider holds it: its other lists are searched
		   with that form too */
		memset(&x, 0, sizeof(x));
		if (a->resolved_written[0]) {
			x.rcpt_written = a->resolved_written;
			ev.x = &x;
		}
		rc = plan_enqueue(&pl, &r, a->resolved, &ev, OUT_COMPLAINT,
				  &res);
		if (rc)
			return rc;
	}
	log_info("dispatch", "%s: %s is %s: the complaint is recorded under "
		 "the address too%s", a->provider, a->addr, a->resolved,
		 !fresh ? " (suppressed before)" :
		 res.queued ? ", and acted on everywhere" : "");
	return state_rcpt_put(d->st, txn, a->resolved, &r);
}
