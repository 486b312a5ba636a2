/*
 * route.h - which providers act on an event, and what each is asked to do.
 *
 * Bounces go to the providers whose `senders` patterns (case-insensitive
 * globs; "*" = everything) match the record's envelope sender, so VERP
 * senders such as news-user=domain@bounces.example.com match
 * news-*@bounces.example.com.  Complaints go to every provider with
 * `complaints = true`, list unsubscribes to every one with `lists = true`.
 * What a provider is asked to do then depends on its type (its table,
 * provider.h) and on the class: see route_plan().
 */
#ifndef BOUNCED_ROUTE_H
#define BOUNCED_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "event.h"
#include "rcpt_rules.h"

/* one operation a provider is asked for */
struct route_op {
	int op;			/* enum rcpt_op */
	const char *bounce_type; /* "hard", "soft" or NULL (static strings) */
	unsigned flags;		/* ACTION_F_* */
};

/* route_sender_match - does P send as ORIG? */
bool route_sender_match(const struct config_provider *p, const char *orig);

/* route_campaign - the campaign UID in JOB_ID under P's job-prefix (none:
   the whole job id) into OUT (ACTION_ID_MAX); 0, or -1 when there is none
   or it is not of the UID form */
int route_campaign(const struct config_provider *p, const char *job_id,
		   char *out, size_t outlen);

/*
 * route_plan - the operation provider P performs for an event EV whose
 * outcome was O, into *OP; returns 1, or 0 when this provider is not
 * concerned.  The gates every type shares come first: complaints go to
 * providers with complaints = true, unsubscribes to those with lists =
 * true, bounces (hard, escalated, soft, duplicate) only to providers whose
 * senders match EV's orig.  Then the type decides (provider.h: route):
 *   hard, escalated  MailWizz with a campaign and hard-action recording
 *                    bounces: OP_BOUNCE "hard" flagged ACTION_F_SUPPRESS
 *                    (the unsubscribe follows it); else OP_UNSUBSCRIBE
 *   soft             a soft bounce record (MailWizz, soft-action bounce,
 *                    a campaign) or a webhook event
 *   duplicate        a bounce (hard or soft) of an address suppressed
 *                    before, on a MailWizz campaign: the bounce record of
 *                    that campaign alone (no unsubscribe, done before)
 *   complaint        OP_COMPLAINT; with complaint-action = blacklist and
 *                    a MailWizz campaign, bounce_type "hard": the
 *                    provider records the blacklisting bounce first
 *   unsubscribe      OP_UNSUBSCRIBE
 */
int route_plan(const struct config_provider *p, const struct event *ev,
	       enum rcpt_outcome o, struct route_op *op);

/* route_set - *OP = OPERATION (enum rcpt_op), TYPE, FLAGS; returns 1 (for
   the types' route functions) */
int route_set(struct route_op *op, int operation, const char *type,
	      unsigned flags);

/* route_plain - the choice of a type without campaign records: a
   complaint, an unsubscribe (for a hard or escalated bounce too, "hard"),
   a soft bounce only when SOFT_POSTS (posted as OP_BOUNCE "soft"), nothing
   for a duplicate; 1 or 0 as route_plan */
int route_plain(enum rcpt_outcome o, bool soft_posts, struct route_op *op);

/*
 * route_ids - the identifiers of provider P that EV carries (MailWizz
 * subscriber UID and list UID, Interspire list and subscriber ids), checked
 * for form by P's type, into A's subscriber_id and list_id; left empty
 * when absent or malformed.
 */
struct action;
void route_ids(const struct config_provider *p, const struct event *ev,
	       struct action *a);

/* route_uid_ok - a MailWizz UID: 13 characters of [a-z0-9] */
bool route_uid_ok(const char *s);

/* route_iem_id_ok - an Interspire id: 1 to 10 decimal digits */
bool route_iem_id_ok(const char *s);

/* route_iem_lids_ok - an Interspire X-Mailer-LID: one list id, or the ids
   of the lists of a campaign sent to several, joined with commas
   (arf_iem_lids_ok: at most ARF_IEM_LIDS_MAX, shorter than
   ARF_IEM_LID_SIZE) */
bool route_iem_lids_ok(const char *s);

#endif
