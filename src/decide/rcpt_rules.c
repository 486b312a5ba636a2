/*
 * rcpt_rules.c - how one event changes one recipient record.
 *
 * The only place that decides statuses: hard, complaint and unsubscribe
 * suppress at once, soft bounces escalate by threshold, span and window,
 * deliveries clear earlier soft bounces (but not asynchronous ones, rb),
 * and anything that reaches an address already suppressed is a
 * duplicate.  Pure functions of the record
 * and the event (record times only), so replays are deterministic.
 */
#include <string.h>
#include <strings.h>

#include "rcpt_rules.h"

const char *rcpt_outcome_name(enum rcpt_outcome o)
{
	static const char *const names[OUT__COUNT] = {
		"ignored", "hard", "soft", "escalated", "complaint",
		"unsubscribe", "duplicate", "reset", "delivery",
	};

	return (unsigned)o < OUT__COUNT ? names[o] : "?";
}

int rcpt_is_suppressed(const struct rcpt *r)
{
	return r->status == RCPT_HARD || r->status == RCPT_COMPLAINED ||
	       r->status == RCPT_UNSUBSCRIBED;
}

/* rcpt_reason_from_event - what EV says, bounded, into REASON */
void rcpt_reason_from_event(struct rcpt_reason *reason,
			    const struct event *ev)
{
	const char *cat = ev->bounce_cat;

	if (ev->kind == EV_FEEDBACK || ev->kind == EV_ARF)
		cat = ev->feedback_type && *ev->feedback_type ?
			      ev->feedback_type : "abuse";
	else if (ev->kind == EV_LIST)
		cat = "list";
	else if (ev->kind == EV_UNSUB_MAIL)
		cat = "unsubscribe-mail";
	/* every field set (each string with its NUL): the bytes past a
	   string's end are not cleared, nothing reads them */
	reason->time = ev->time;
	reason->kind = (uint8_t)ev->kind;
	reason->line = ev->line;
	rcpt_set_str(reason->source, sizeof(reason->source), ev->source);
	rcpt_set_str(reason->category, sizeof(reason->category), cat);
	rcpt_set_str(reason->dsn_status, sizeof(reason->dsn_status),
		     ev->dsn_status);
	rcpt_set_str(reason->dsn_diag, sizeof(reason->dsn_diag), ev->dsn_diag);
	rcpt_set_str(reason->orig, sizeof(reason->orig), ev->orig);
	rcpt_set_str(reason->vmta, sizeof(reason->vmta), ev->vmta);
	rcpt_set_str(reason->job_id, sizeof(reason->job_id), ev->job_id);
}

/* rcpt_suppress - move R to STATUS because of EV */
static void rcpt_suppress(struct rcpt *r, enum rcpt_status status,
			  const struct event *ev, bool escalated)
{
	r->status = (uint8_t)status;
	r->escalated = escalated;
	r->status_time = ev->time;
	rcpt_reason_from_event(&r->reason, ev);
}

/* rcpt_soft_move - soft bounce FROM to index TO (TO <= FROM) */
static void rcpt_soft_move(struct rcpt *r, uint32_t to, uint32_t from)
{
	r->soft_times[to] = r->soft_times[from];
	r->soft_src[to] = r->soft_src[from];
	r->soft_async[to] = r->soft_async[from];
}

/* rcpt_soft_expire - drop soft times older than NEWEST - window */
static void rcpt_soft_expire(struct rcpt *r, int64_t newest,
			     const struct escalation *e)
{
	uint32_t i, keep = 0;

	for (i = 0; i < r->n_soft; i++)
		if (r->soft_times[i] >= newest - e->window)
			rcpt_soft_move(r, keep++, i);
	r->n_soft = keep;
}

/* rcpt_soft_insert - add T (from source SRC; ASYNC: an rb) in order;
   when full, the oldest goes */
static void rcpt_soft_insert(struct rcpt *r, int64_t t, uint32_t src,
			     bool async)
{
	uint32_t i;

	if (r->n_soft == RCPT_SOFT_MAX) {
		if (t < r->soft_times[0])
			return;
		for (i = 1; i < RCPT_SOFT_MAX; i++)
			rcpt_soft_move(r, i - 1, i);
		r->n_soft--;
	}
	i = r->n_soft;
	while (i > 0 && r->soft_times[i - 1] > t) {
		r->soft_times[i] = r->soft_times[i - 1];
		r->soft_src[i] = r->soft_src[i - 1];
		r->soft_async[i] = r->soft_async[i - 1];
		i--;
	}
	r->soft_times[i] = t;
	r->soft_src[i] = src;
	r->soft_async[i] = async;
	r->n_soft++;
}

/* rcpt_soft_qualifies - do the kept soft times call for escalation?  A
   soft bounce inside an incident of its source counts for nothing: not
   toward the threshold, nor toward the span (measured from the oldest to
   the newest counted one; the window still runs back from the newest
   kept) */
static int rcpt_soft_qualifies(const struct rcpt *r, const struct escalation *e)
{
	int64_t newest, oldest, last = 0;
	uint32_t i, n = 0;

	if (r->n_soft == 0)
		return 0;
	newest = r->soft_times[r->n_soft - 1];
	oldest = newest;
	if (e->discounted) {
		/* a discount only takes bounces away, and with them maybe
		   the oldest: when the window falls short without it, it
		   falls short with it, and nobody need be asked */
		for (i = 0; i < r->n_soft; i++) {
			if (r->soft_times[i] < newest - e->window)
				continue;
			if (n == 0)
				oldest = r->soft_times[i];
			n++;
		}
		if (n < e->threshold || newest - oldest < e->min_span)
			return 0;
		n = 0;
		oldest = newest;
	}
	for (i = 0; i < r->n_soft; i++) {
		if (r->soft_times[i] < newest - e->window)
			continue;
		if (e->discounted && r->soft_src[i] &&
		    e->discounted(r->soft_src[i], r->soft_times[i],
				  e->discount_arg))
			continue;
		if (n == 0)
			oldest = r->soft_times[i];
		last = r->soft_times[i];
		n++;
	}
	return n >= e->threshold && last - oldest >= e->min_span;
}

/* rcpt_soft_kept - is a soft bounce of time T from source SRC (ASYNC: an
   rb) kept already?  Then this one is the same record read again (a
   backup file taken after its pipe, the same log under another name):
   counted twice, it would bring escalation closer.  Two bounces of one
   address from one source within the same second count once */
static bool rcpt_soft_kept(const struct rcpt *r, int64_t t, uint32_t src,
			   bool async)
{
	uint32_t i;

	for (i = r->n_soft; i > 0; i--) {
		if (r->soft_times[i - 1] < t)
			return false;	/* sorted ascending */
		if (r->soft_times[i - 1] == t && r->soft_src[i - 1] == src &&
		    r->soft_async[i - 1] == async)
			return true;
	}
	return false;
}

/* rcpt_no_escalate - is CAT one of E's categories that never escalate? */
static bool rcpt_no_escalate(const struct escalation *e, const char *cat)
{
	char **p;

	if (!e->no_escalate || !cat || !*cat)
		return false;
	for (p = e->no_escalate; *p; p++)
		if (strcasecmp(*p, cat) == 0)
			return true;
	return false;
}

static enum rcpt_outcome rcpt_apply_soft(struct rcpt *r, const struct event *ev,
					 const struct escalation *e)
{
	/* a DSN received after the server accepted the message: the
	   acceptances around it prove nothing */
	bool async = ev->kind == EV_REMOTE_BOUNCE;
	int64_t newest;

	if (rcpt_is_suppressed(r) || rcpt_soft_kept(r, ev->time, ev->src_hash,
						     async)) {
		r->cnt_duplicate++;
		return OUT_DUPLICATE;
	}
	if (rcpt_no_escalate(e, ev->bounce_cat)) {
		/* a refusal of our sender, say: nothing about the mailbox,
		   counted and shown, never kept toward the threshold */
		if (ev->time >= r->last_soft.time)
			rcpt_reason_from_event(&r->last_soft, ev);
		return OUT_SOFT;
	}
	newest = r->n_soft ? r->soft_times[r->n_soft - 1] : ev->time;
	if (ev->time > newest)
		newest = ev->time;
	if (ev->time < newest - e->window)
		return OUT_SOFT; /* expired on arrival: counted, nothing kept */
	if (ev->time && ev->time <= r->last_delivery && !async)
		/* a delivery came after it (read before it: another file,
		   another host's log), which clears soft bounces: counted,
		   nothing kept, as if read in order */
		return OUT_SOFT;
	if (ev->time >= r->last_soft.time)
		rcpt_reason_from_event(&r->last_soft, ev);
	rcpt_soft_insert(r, ev->time, ev->src_hash, async);
	rcpt_soft_expire(r, newest, e);
	if (rcpt_soft_qualifies(r, e)) {
		rcpt_suppress(r, RCPT_HARD, ev, true);
		return OUT_ESCALATED;
	}
	if (r->status != RCPT_SOFT) {
		r->status = RCPT_SOFT;
		r->status_time = ev->time;
	}
	return OUT_SOFT;
}

/* rcpt_soft_clear - a delivery at T clears the soft bounces logged at or
   before it, but for asynchronous ones (rb); whether any went */
static bool rcpt_soft_clear(struct rcpt *r, int64_t t)
{
	uint32_t i, keep = 0;

	for (i = 0; i < r->n_soft; i++)
		if (r->soft_times[i] > t || r->soft_async[i])
			rcpt_soft_move(r, keep++, i);
	if (keep == r->n_soft)
		return false;
	r->n_soft = keep;
	return true;
}

static enum rcpt_outcome rcpt_apply_delivery(struct rcpt *r,
					     const struct event *ev)
{
	r->cnt_delivery++;
	if (ev->time > r->last_delivery)
		r->last_delivery = ev->time;
	if (rcpt_is_suppressed(r) || !rcpt_soft_clear(r, ev->time))
		return OUT_DELIVERY;
	if (r->n_soft == 0 && r->status == RCPT_SOFT) {
		r->status = RCPT_ACTIVE;
		r->status_time = ev->time;
	}
	return OUT_RESET;
}

/* rcpt_suppressing - a hard bounce, complaint or unsubscribe */
static enum rcpt_outcome rcpt_apply_suppressing(struct rcpt *r,
						const struct event *ev,
						enum rcpt_status status,
						enum rcpt_outcome outcome)
{
	if (rcpt_is_suppressed(r)) {
		r->cnt_duplicate++;
		if (r->status == RCPT_HARD && r->escalated && !ev->held) {
			/* escalated, now hard for good: no longer resting on
			   its soft bounces (reevaluate leaves it; a hard
			   bounce becomes its reason).  Not by a hard bounce
			   an incident holds: it may be the block's */
			r->escalated = false;
			if (ev->klass == CLASS_HARD)
				rcpt_reason_from_event(&r->reason, ev);
		}
		return OUT_DUPLICATE;
	}
	rcpt_suppress(r, status, ev, false);
	return outcome;
}

enum rcpt_outcome rcpt_apply(struct rcpt *r, const struct event *ev,
			     const struct escalation *e)
{
	if (ev->time && (r->first_seen == 0 || ev->time < r->first_seen))
		r->first_seen = ev->time;
	if (ev->time > r->updated)
		r->updated = ev->time;

	switch (ev->klass) {
	case CLASS_HARD:
		r->cnt_hard++;
		rcpt_set_str(r->last_category, sizeof(r->last_category),
			     ev->bounce_cat);
		return rcpt_apply_suppressing(r, ev, RCPT_HARD, OUT_HARD);
	case CLASS_SOFT:
		r->cnt_soft++;
		rcpt_set_str(r->last_category, sizeof(r->last_category),
			     ev->bounce_cat);
		return rcpt_apply_soft(r, ev, e);
	case CLASS_COMPLAINT:
		r->cnt_complaint++;
		return rcpt_apply_suppressing(r, ev, RCPT_COMPLAINED,
					      OUT_COMPLAINT);
	case CLASS_UNSUB:
		r->cnt_unsub++;
		return rcpt_apply_suppressing(r, ev, RCPT_UNSUBSCRIBED,
					      OUT_UNSUB);
	case CLASS_DELIVERY:
		return rcpt_apply_delivery(r, ev);
	case CLASS_FEEDBACK_OTHER:
	case CLASS_IGNORE:
		break;
	}
	r->cnt_other++;
	return OUT_IGNORED;
}

void rcpt_dups_add(struct rcpt_dups *d, const struct event *ev)
{
	switch (ev->klass) {
	case CLASS_HARD:
		d->hard++;
		d->last_category = ev->bounce_cat;
		d->category_last = true;
		break;
	case CLASS_SOFT:
		d->soft++;
		d->last_category = ev->bounce_cat;
		d->category_last = true;
		break;
	case CLASS_COMPLAINT: d->complaint++; break;
	case CLASS_UNSUB: d->unsub++; break;
	case CLASS_DELIVERY:
		d->delivery++;
		if (ev->time > d->last_delivery)
			d->last_delivery = ev->time;
		break;
	case CLASS_FEEDBACK_OTHER:
	case CLASS_IGNORE: d->other++; break;
	}
	if (ev->time && (d->tmin == 0 || ev->time < d->tmin))
		d->tmin = ev->time;
	if (ev->time > d->tmax)
		d->tmax = ev->time;
}

void rcpt_apply_dups(struct rcpt *r, const struct rcpt_dups *d)
{
	/* as rcpt_apply_suppressing: an escalated address confirmed by a
	   hard bounce, a complaint or an unsubscribe */
	if (r->status == RCPT_HARD && r->escalated &&
	    d->hard + d->complaint + d->unsub > 0)
		r->escalated = false;
	if (d->tmin && (r->first_seen == 0 || d->tmin < r->first_seen))
		r->first_seen = d->tmin;
	if (d->tmax > r->updated)
		r->updated = d->tmax;
	r->cnt_hard += d->hard;
	r->cnt_soft += d->soft;
	r->cnt_complaint += d->complaint;
	r->cnt_unsub += d->unsub;
	r->cnt_delivery += d->delivery;
	if (d->last_delivery > r->last_delivery)
		r->last_delivery = d->last_delivery;
	r->cnt_other += d->other;
	r->cnt_duplicate += d->hard + d->soft + d->complaint + d->unsub;
	if (d->hard + d->soft && d->category_last)
		rcpt_set_str(r->last_category, sizeof(r->last_category),
			     d->last_category);
}

int rcpt_reevaluate(struct rcpt *r, const struct escalation *e)
{
	int q = rcpt_soft_qualifies(r, e);

	if (r->status == RCPT_HARD && r->escalated && !q) {
		/* not escalated under these settings, it took the
		   deliveries since as a soft address: they clear what came
		   before them (a delivery to a suppressed address keeps
		   its soft bounces, for this very question) */
		if (r->last_delivery > 0)
			(void)rcpt_soft_clear(r, r->last_delivery);
		r->status = r->n_soft ? RCPT_SOFT : RCPT_ACTIVE;
		r->escalated = false;
		memset(&r->reason, 0, sizeof(r->reason));
		r->status_time = r->n_soft ? r->soft_times[r->n_soft - 1] : 0;
		return 1;
	}
	if ((r->status == RCPT_SOFT || r->status == RCPT_ACTIVE) && q) {
		r->status = RCPT_HARD;
		r->escalated = true;
		r->reason = r->last_soft;
		r->status_time = r->soft_times[r->n_soft - 1];
		return 1;
	}
	return 0;
}

void rcpt_forget(struct rcpt *r)
{
	r->status = RCPT_ACTIVE;
	r->escalated = false;
	r->status_time = 0;
	r->n_soft = 0;
	memset(&r->reason, 0, sizeof(r->reason));
	r->n_actions = 0;
	r->held = 0;	/* an incident's release leaves it as the operator did */
	/* the held bounces not applied stay: read again, they still apply
	   nothing (rcpt_dropped.h) */
}
