/*
 * plan.c - the provider actions a recipient's change asks for (plan.h):
 * route_plan() per provider, then the recipient record's action entries
 * decide whether the operation was asked before (pending or done: no new
 * action) and get an entry for each new one.
 *
 * A subscriber known only by its ids (a "uid:" key: the report or the
 * unsubscribe mail hid the address) can be acted on only by a provider
 * those ids belong to, by the ids; which types can (and whether a soft
 * bounce is an event rather than a state) their table says (provider.h).
 *
 * Error policy: only state errors (from outbox_enqueue) are returned; a
 * record whose entries are all pending still gets its action, untracked
 * (a later repeat then costs a call, which the providers' idempotent
 * calls absorb).
 */
#include <errno.h>
#include <string.h>

#include "action.h"
#include "mail_events.h"
#include "outbox.h"
#include "plan.h"
#include "provider.h"
#include "route.h"

#define PLAN_PROVIDERS_MAX 32	/* bits of plan_result */

bool plan_suppresses(enum rcpt_outcome o)
{
	return o == OUT_HARD || o == OUT_ESCALATED || o == OUT_COMPLAINT ||
	       o == OUT_UNSUB;
}

enum rcpt_outcome plan_natural_outcome(enum event_class klass)
{
	switch (klass) {
	case CLASS_HARD: return OUT_HARD;
	case CLASS_COMPLAINT: return OUT_COMPLAINT;
	case CLASS_UNSUB: return OUT_UNSUB;
	default: return OUT_IGNORED;
	}
}

enum rcpt_outcome plan_status_outcome(const struct rcpt *r)
{
	switch (r->status) {
	case RCPT_HARD: return r->escalated ? OUT_ESCALATED : OUT_HARD;
	case RCPT_COMPLAINED: return OUT_COMPLAINT;
	case RCPT_UNSUBSCRIBED: return OUT_UNSUB;
	default: return OUT_IGNORED;
	}
}

void plan_reason_event(struct event *ev, const struct rcpt_reason *reason,
		       enum event_class klass)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = (enum event_kind)reason->kind;
	ev->klass = klass;
	ev->time = reason->time;
	ev->orig = reason->orig;
	ev->bounce_cat = reason->category;
	ev->dsn_status = reason->dsn_status;
	ev->dsn_diag = reason->dsn_diag;
	ev->vmta = reason->vmta;
	ev->job_id = reason->job_id;
	if (klass == CLASS_COMPLAINT)
		ev->feedback_type = reason->category;
	ev->source = reason->source;
	ev->line = reason->line;
}

/* plan_slot - a free entry of R's action list: a new one, or the oldest
   finished one; NULL when every entry is still pending */
static struct rcpt_action *plan_slot(struct rcpt *r)
{
	struct rcpt_action *old = NULL;
	uint32_t i;

	if (r->n_actions < RCPT_ACTIONS_MAX) {
		old = &r->actions[r->n_actions++];
		memset(old, 0, sizeof(*old));
		return old;
	}
	for (i = 0; i < r->n_actions; i++)
		if (r->actions[i].state != ACTION_PENDING &&
		    (!old || r->actions[i].time < old->time))
			old = &r->actions[i];
	if (old)
		memset(old, 0, sizeof(*old));
	return old;
}

/* plan_suppressing - does an operation suppress the address at its
   provider (unsubscribe, complaint, or the bounce that suppresses)? */
static bool plan_suppressing(int op, unsigned flags)
{
	return op == OP_UNSUBSCRIBE || op == OP_COMPLAINT ||
	       (op == OP_BOUNCE && (flags & ACTION_F_SUPPRESS));
}

/* plan_dryrun - with no provider configured, record the suppression as a
   dry-run action (logged by the caller); once, whatever its form, as a
   provider is asked (plan_asked): a hard bounce of an address that
   complained before records nothing more, whether or not both came in
   one batch */
static void plan_dryrun(struct rcpt *r, enum rcpt_outcome o, int64_t now)
{
	uint8_t op = o == OUT_COMPLAINT ? OP_COMPLAINT : OP_UNSUBSCRIBE;
	struct rcpt_action *a;
	uint32_t i;

	for (i = 0; i < r->n_actions && i < RCPT_ACTIONS_MAX; i++)
		if (plan_suppressing(r->actions[i].op, r->actions[i].flags) &&
		    strcmp(r->actions[i].provider, "dry-run") == 0)
			return;
	a = plan_slot(r);
	if (!a)
		return;
	rcpt_set_str(a->provider, sizeof(a->provider), "dry-run");
	a->op = op;
	a->state = ACTION_DRYRUN;
	a->time = now;
}

/* plan_asked - has R an entry of PROVIDER that makes OP (FLAGS; on
   CAMPAIGN, for a bounce record) redundant for EV?  A suppression is
   asked once per provider whatever its form; a bounce record once per
   campaign.  But an unsubscribe mail sent after the provider carried out
   the suppression is a new request: the subscriber was let back in since
   (MailWizz keeps the subscriber's UID when it subscribes again), and is
   asked for again. */
static bool plan_asked(const struct plan *pl, const struct rcpt *r,
		       const struct event *ev, const char *provider, int op,
		       unsigned flags, const char *campaign)
{
	bool suppress = plan_suppressing(op, flags);
	uint32_t i;

	for (i = 0; i < r->n_actions && i < RCPT_ACTIONS_MAX; i++) {
		const struct rcpt_action *a = &r->actions[i];

		if (strcmp(a->provider, provider) != 0)
			continue;
		if (a->state != ACTION_PENDING && a->state != ACTION_DONE &&
		    !(pl->keep_dead && a->state == ACTION_DEAD))
			continue;
		if (suppress && ev->kind == EV_UNSUB_MAIL &&
		    a->state == ACTION_DONE && ev->time > a->time)
			continue;
		if (suppress && plan_suppressing(a->op, a->flags))
			return true;
		if (!suppress && op == OP_BOUNCE && a->op == OP_BOUNCE &&
		    campaign && strcmp(a->campaign_id, campaign) == 0)
			return true;
	}
	return false;
}

/* plan_uid_actor - may provider P act for a subscriber known only by its
   ids (A's ids as route_ids() found them)?  Its type says. */
static bool plan_uid_actor(const struct config_provider *p,
			   const struct action *a)
{
	const struct provider_ops *ops = provider_ops_of(p);

	return ops && ops->uid_actor && ops->uid_actor(a);
}

/* plan_soft_event - is a soft bounce an event posted to P, not a state of
   the address (no entry on the record)? */
static bool plan_soft_event(const struct config_provider *p)
{
	const struct provider_ops *ops = provider_ops_of(p);

	return ops && ops->soft_event;
}

/* plan_one - operation OP of provider P for ADDR: 0 (queued, or asked
   before: *ROUTED set), 1 (the ids do not belong to P) or -errno */
static int plan_one(const struct plan *pl, struct rcpt *r, const char *addr,
		    const struct event *ev, enum rcpt_outcome o,
		    const struct config_provider *p, const struct route_op *op,
		    bool *queued)
{
	struct rcpt_action *slot;
	struct action a;
	int rc;

	*queued = false;
	memset(&a, 0, sizeof(a));
	/* the campaign of a bounce record (or of a complaint's blacklisting
	   bounce), or the one that may name the list of a subscriber known
	   by ids only */
	if (op->op == OP_BOUNCE || op->bounce_type || mail_key_is_uid(addr))
		(void)route_campaign(p, ev->job_id, a.campaign_id,
				     sizeof(a.campaign_id));
	if (plan_asked(pl, r, ev, p->name, op->op, op->flags,
		       a.campaign_id[0] ? a.campaign_id : NULL))
		return 0;
	rcpt_set_str(a.provider, sizeof(a.provider), p->name);
	rcpt_set_str(a.addr, sizeof(a.addr), addr);
	rcpt_set_str(a.bounce_type, sizeof(a.bounce_type), op->bounce_type);
	route_ids(p, ev, &a);
	if (mail_key_is_uid(addr) && !plan_uid_actor(p, &a))
		return 1;
	a.op = (uint8_t)op->op;
	a.flags = (uint8_t)op->flags;
	a.klass = (uint8_t)ev->klass;
	/* the form the campaign tool holds, for one that compares
	   addresses exactly */
	action_set_written(&a, EVENT_X(ev, rcpt_written));
	rcpt_reason_from_event(&a.ev, ev);
	if (!pl->dry_run) {
		rc = outbox_enqueue(pl->st, pl->txn, &a, pl->now * 1000);
		if (rc)
			return rc;
	}
	*queued = true;
	/* soft-bounce posts (webhooks) are events, not states of the
	   address */
	if (o == OUT_SOFT && plan_soft_event(p))
		return 0;
	slot = plan_slot(r);
	if (!slot)
		return 0;
	rcpt_set_str(slot->provider, sizeof(slot->provider), p->name);
	rcpt_set_str(slot->campaign_id, sizeof(slot->campaign_id),
		     a.campaign_id);
	slot->op = (uint8_t)op->op;
	slot->flags = (uint8_t)op->flags;
	slot->state = ACTION_PENDING;
	slot->time = pl->now;
	slot->root = a.id;
	slot->outstanding = 1;
	return 0;
}

int plan_enqueue(const struct plan *pl, struct rcpt *r, const char *addr,
		 const struct event *ev, enum rcpt_outcome o,
		 struct plan_result *res)
{
	const struct config *cfg = pl->cfg;
	struct plan_result out = { 0, 0 };
	size_t i;
	int rc = 0;

	if (cfg->n_providers == 0) {
		if (plan_suppresses(o))
			plan_dryrun(r, o, pl->now);
		goto out;
	}
	for (i = 0; i < cfg->n_providers && i < PLAN_PROVIDERS_MAX; i++) {
		const struct config_provider *p = &cfg->providers[i];
		struct route_op op;
		bool queued;

		if (pl->only && strcmp(pl->only, p->name) != 0)
			continue;
		if (pl->resolved && p->complaint_scope == SCOPE_LIST)
			continue;
		if (route_plan(p, ev, o, &op) == 0)
			continue;
		rc = plan_one(pl, r, addr, ev, o, p, &op, &queued);
		if (rc < 0)
			return rc;
		if (rc == 0)
			out.routed |= 1u << i;
		if (queued)
			out.queued |= 1u << i;
		rc = 0;
	}
out:
	if (res)
		*res = out;
	return rc;
}
