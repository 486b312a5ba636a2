/*
 * mailwizz_route.h - what the core asks of a MailWizz provider's
 * configuration (its half of provider_mailwizz_ops, provider.h): the
 * operation an event's outcome asks for, the ids an event carries for it
 * (subscriber, list, campaign), whether it acts for a subscriber known
 * only by ids, which ids tie a feedback report to it, the campaign and
 * list an item of the operator's mail names, and the list UID a List-Id
 * header names by the provider's list-id forms.
 */
#ifndef BOUNCED_MAILWIZZ_ROUTE_H
#define BOUNCED_MAILWIZZ_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "event.h"
#include "rcpt_rules.h"
#include "route.h"

struct action;
struct arf_report;
struct notify_item;

/*
 * mailwizz_list_uid - the MailWizz list UID in LIST_ID (a List-Id header
 * value) by P's list-id form (default "[LIST_UID] <*>"), into OUT (at
 * least 14 bytes); 0, or -1 when the value does not have that form.
 */
#define MAILWIZZ_LIST_ID_MAX 256
int mailwizz_list_uid(const struct config_provider *p, const char *list_id,
		      char *out, size_t outlen);

/* mailwizz_route - the operation for outcome O of EV (route_plan's gates
   passed): a campaign's bounce record per hard-action / soft-action /
   complaint-action, else an unsubscribe; 1 or 0 */
int mailwizz_route(const struct config_provider *p, const struct event *ev,
		   enum rcpt_outcome o, struct route_op *op);

/* mailwizz_ids - subscriber UID, list UID (named, or by List-Id) and
   campaign UID of EV, checked, into A */
void mailwizz_ids(const struct config_provider *p, const struct event *ev,
		  struct action *a);

/* mailwizz_uid_actor - a subscriber UID with its list or campaign */
bool mailwizz_uid_actor(const struct action *a);

/* mailwizz_report_own - R's X-Job is a campaign under P's job-prefix, or
   its List-Id names a list by P's forms */
bool mailwizz_report_own(const struct config_provider *p,
			 const struct arf_report *r, char *why, size_t whylen);

/* mailwizz_report_kind - R carries an X-Mw-Subscriber-Uid */
bool mailwizz_report_kind(const struct arf_report *r, char *why,
			  size_t whylen);

/* mailwizz_notify_ids - EV's campaign (named, or its job id under P's
   job-prefix) and list (named, or by List-Id) into IT */
bool mailwizz_notify_ids(const struct config_provider *p,
			 const struct event *ev, struct notify_item *it);

#endif
