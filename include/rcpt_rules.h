/*
 * rcpt_rules.h - how an event changes a recipient record.
 *
 * Hard bounce, complaint and unsubscribe suppress the address at once;
 * soft bounces are kept as times and escalate to hard when there are at
 * least soft-threshold of them within soft-window of the newest, whose
 * first and last are at least soft-min-span apart.  A delivery clears the
 * soft bounces logged before it.  An event for an address that is already
 * suppressed is a duplicate: counted, no new action.  Only record times are
 * used, so a replay gives the same record.
 */
#ifndef BOUNCED_RCPT_RULES_H
#define BOUNCED_RCPT_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "event.h"
#include "rcpt.h"

struct escalation {
	uint32_t threshold;	/* 1..RCPT_SOFT_MAX */
	int64_t min_span;	/* seconds */
	int64_t window;		/* seconds */
	/* whether a soft bounce at T from source SRC (of the address being
	   applied) fell inside an incident and counts for nothing; NULL:
	   every soft bounce counts */
	bool (*discounted)(uint32_t src, int64_t t, void *arg);
	void *discount_arg;
	/* soft categories whose bounces are counted but never kept toward
	   the threshold (NULL-terminated, lower case; NULL: none) */
	char **no_escalate;
};

enum rcpt_outcome {
	OUT_IGNORED = 0,	/* nothing changed but counters */
	OUT_HARD,		/* newly hard: suppress */
	OUT_SOFT,		/* soft bounce counted */
	OUT_ESCALATED,		/* soft bounce made it hard: suppress */
	OUT_COMPLAINT,		/* newly complained: suppress */
	OUT_UNSUB,		/* newly unsubscribed: suppress */
	OUT_DUPLICATE,		/* already suppressed: counted, no action */
	OUT_RESET,		/* delivery cleared soft bounces */
	OUT_DELIVERY,		/* delivery, nothing to clear */
};
#define OUT__COUNT 9

const char *rcpt_outcome_name(enum rcpt_outcome o);

/*
 * Events that reach an address after a hard bounce, complaint or
 * unsubscribe of the same batch are duplicates whatever the stored record
 * says; ingest keeps them as these counts instead of one event each.
 */
struct rcpt_dups {
	uint32_t hard, soft, complaint, unsub, delivery, other;
	int64_t tmin, tmax;		/* record times seen (0 = none) */
	int64_t last_delivery;		/* of the latest delivery (0 none) */
	const char *last_category;	/* of the latest hard/soft bounce */
	bool category_last;		/* that bounce came after every event
					   kept whole (a new campaign's): its
					   category is the address's latest */
};

/* rcpt_dups_add - count EV into D */
void rcpt_dups_add(struct rcpt_dups *d, const struct event *ev);

/* rcpt_apply_dups - the same change to R (which must be suppressed) as
   applying each counted event with rcpt_apply() */
void rcpt_apply_dups(struct rcpt *r, const struct rcpt_dups *d);

/* rcpt_apply - apply EV to R under E; returns what happened */
enum rcpt_outcome rcpt_apply(struct rcpt *r, const struct event *ev,
			     const struct escalation *e);

/*
 * rcpt_reevaluate - re-run escalation over R's stored soft times under E
 * (changed settings apply retroactively): an escalated address that no
 * longer qualifies goes back to soft, a soft one that now does becomes hard.
 * Returns 1 when R changed, 0 otherwise.
 */
int rcpt_reevaluate(struct rcpt *r, const struct escalation *e);

/* rcpt_reason_from_event - what EV says, bounded, into REASON (every
   field; the bytes past each string's end are left as they were) */
void rcpt_reason_from_event(struct rcpt_reason *reason,
			    const struct event *ev);

/* rcpt_forget - make R active again (false positive), keeping counters
   and the held bounces an incident did not apply (rcpt_dropped.h) */
void rcpt_forget(struct rcpt *r);

/* rcpt_is_suppressed - hard, complained or unsubscribed */
int rcpt_is_suppressed(const struct rcpt *r);

#endif
