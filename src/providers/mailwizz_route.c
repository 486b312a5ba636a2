/*
 * mailwizz_route.c - a MailWizz provider's answers to the core (see
 * include/mailwizz_route.h): routing by hard-action, soft-action and
 * complaint-action with the campaign of the record's job id, the ids an
 * event carries, and the List-Id forms.
 *
 * Pure functions of the config and the event; no allocation, no errors.
 * Pinned by tests/unit/test_route.c.
 */
#include <fnmatch.h>
#include <string.h>

#include <glib.h>

#include <stdio.h>

#include "action.h"
#include "arf.h"
#include "mailwizz_route.h"
#include "notify.h"
#include "rcpt.h"

/* mw_glob - PAT (LEN bytes of a list-id form: literal text and '*')
   as an fnmatch pattern into OUT; -1 when it does not fit */
static int mw_glob(const char *pat, size_t len, char *out, size_t cap)
{
	size_t i, j = 0;

	for (i = 0; i < len; i++) {
		if (pat[i] != '*') {
			if (j + 1 >= cap)
				return -1;
			out[j++] = '\\';
		}
		if (j + 1 >= cap)
			return -1;
		out[j++] = pat[i];
	}
	out[j] = '\0';
	return 0;
}

/* mw_is_uid_char - [a-z0-9] */
static bool mw_is_uid_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* mw_list_uid_form - LIST_ID (trimmed, N bytes in V) by one form
   (FORM, FLEN bytes, one [LIST_UID]) into OUT; 0 or -1 */
static int mw_list_uid_form(const char *form, size_t flen, const char *v,
			    size_t n, char *out)
{
	char head[512], tail[512], before[MAILWIZZ_LIST_ID_MAX];
	const char *ph = g_strstr_len(form, (gssize)flen, "[LIST_UID]");
	size_t i, k;

	if (!ph ||
	    mw_glob(form, (size_t)(ph - form), head, sizeof(head)) ||
	    mw_glob(ph + 10, flen - (size_t)(ph + 10 - form), tail,
		       sizeof(tail)))
		return -1;
	for (i = 0; i + 13 <= n; i++) {
		for (k = 0; k < 13 && mw_is_uid_char(v[i + k]); k++)
			;
		if (k < 13 || (i + 13 < n && mw_is_uid_char(v[i + 13])) ||
		    (i > 0 && mw_is_uid_char(v[i - 1])))
			continue;
		memcpy(before, v, i);
		before[i] = '\0';
		if (fnmatch(head, before, FNM_CASEFOLD) == 0 &&
		    fnmatch(tail, v + i + 13, FNM_CASEFOLD) == 0) {
			memcpy(out, v + i, 13);
			out[13] = '\0';
			return 0;
		}
	}
	return -1;
}

/* mailwizz_list_uid - the list UID of LIST_ID by P's list-id forms */
int mailwizz_list_uid(const struct config_provider *p, const char *list_id,
		      char *out, size_t outlen)
{
	const char *forms = p->list_id ? p->list_id : CONFIG_LIST_ID_DEFAULT;
	char v[MAILWIZZ_LIST_ID_MAX];
	size_t n;

	if (!list_id || outlen <= 13)
		return -1;
	while (*list_id == ' ' || *list_id == '\t')
		list_id++;
	n = strnlen(list_id, sizeof(v));
	if (n == sizeof(v))
		return -1;
	while (n && (list_id[n - 1] == ' ' || list_id[n - 1] == '\t'))
		n--;
	memcpy(v, list_id, n);
	v[n] = '\0';
	/* forms separated by ';', blanks around them ignored */
	while (*forms) {
		const char *end = strchr(forms, ';');
		size_t flen = end ? (size_t)(end - forms) : strlen(forms);
		const char *f = forms;

		while (flen && (*f == ' ' || *f == '\t'))
			f++, flen--;
		while (flen && (f[flen - 1] == ' ' || f[flen - 1] == '\t'))
			flen--;
		if (mw_list_uid_form(f, flen, v, n, out) == 0)
			return 0;
		if (!end)
			break;
		forms = end + 1;
	}
	return -1;
}


/* mw_campaign_ok - does EV name a campaign of P (its job-prefix)? */
static bool mw_campaign_ok(const struct config_provider *p,
			   const struct event *ev)
{
	char uid[ACTION_ID_MAX];

	return route_campaign(p, ev->job_id, uid, sizeof(uid)) == 0;
}

/* mw_hard - hard or escalated bounce: with a campaign, the bounce record
   comes first and the provider unsubscribes after it when hard-action asks
   for both; without one a bounce cannot be recorded: unsubscribe, so the
   address is acted on whatever the setting */
static int mw_hard(const struct config_provider *p, const struct event *ev,
		   struct route_op *op)
{
	if (p->hard_action & ACT_BOUNCE && mw_campaign_ok(p, ev))
		return route_set(op, OP_BOUNCE, "hard", ACTION_F_SUPPRESS);
	if (p->hard_action != ACT_NONE)
		return route_set(op, OP_UNSUBSCRIBE, "hard", 0);
	return 0;
}

/* mw_duplicate - a bounce of an address suppressed before: the bounce
   record of its campaign, as MailWizz's own bounce handling keeps one per
   campaign */
static int mw_duplicate(const struct config_provider *p,
			const struct event *ev, struct route_op *op)
{
	bool hard = ev->klass == CLASS_HARD;

	if (ev->klass != CLASS_HARD && ev->klass != CLASS_SOFT)
		return 0;
	if (!((hard ? p->hard_action : p->soft_action) & ACT_BOUNCE) ||
	    !mw_campaign_ok(p, ev))
		return 0;
	return route_set(op, OP_BOUNCE, hard ? "hard" : "soft", 0);
}

/* mailwizz_route - the operation for outcome O of EV */
int mailwizz_route(const struct config_provider *p, const struct event *ev,
		   enum rcpt_outcome o, struct route_op *op)
{
	switch (o) {
	case OUT_COMPLAINT:
		/* complaint-action = blacklist: MailWizz blacklists the
		   subscriber of a campaign's hard bounce, recorded first */
		return route_set(op, OP_COMPLAINT,
				 p->complaint_action == ACT_BOTH &&
						 mw_campaign_ok(p, ev) ?
					 "hard" : NULL, 0);
	case OUT_UNSUB:
		return route_set(op, OP_UNSUBSCRIBE, NULL, 0);
	case OUT_HARD:
	case OUT_ESCALATED:
		return mw_hard(p, ev, op);
	case OUT_SOFT:
		/* soft bounces never unsubscribe anyone */
		if (p->soft_action & ACT_BOUNCE && mw_campaign_ok(p, ev))
			return route_set(op, OP_BOUNCE, "soft", 0);
		return 0;
	case OUT_DUPLICATE:
		return mw_duplicate(p, ev, op);
	default:
		return 0;
	}
}

/* mailwizz_ids - the MailWizz ids EV carries, into A */
void mailwizz_ids(const struct config_provider *p, const struct event *ev,
		  struct action *a)
{
	const struct event_extra *x = ev->x;

	if (!x)
		return;
	if (x->mw_subscriber_uid && route_uid_ok(x->mw_subscriber_uid))
		memcpy(a->subscriber_id, x->mw_subscriber_uid, 14);
	if (x->mw_list_uid && route_uid_ok(x->mw_list_uid))
		memcpy(a->list_id, x->mw_list_uid, 14);
	else if (mailwizz_list_uid(p, x->list_id, a->list_id,
				   sizeof(a->list_id)) != 0)
		a->list_id[0] = '\0';
	if (x->mw_campaign_uid && route_uid_ok(x->mw_campaign_uid))
		memcpy(a->campaign_id, x->mw_campaign_uid, 14);
}

/* mailwizz_uid_actor - MailWizz acts by a subscriber UID with its list,
   or with the campaign that names the list */
bool mailwizz_uid_actor(const struct action *a)
{
	return a->subscriber_id[0] && (a->list_id[0] || a->campaign_id[0]);
}

/* mailwizz_report_own - R's campaign or list is one of P's */
bool mailwizz_report_own(const struct config_provider *p,
			 const struct arf_report *r, char *why, size_t whylen)
{
	char id[MAILWIZZ_LIST_ID_MAX];

	if (r->x_job[0] && route_campaign(p, r->x_job, id, sizeof(id)) == 0) {
		snprintf(why, whylen, "X-Job %s is a campaign of provider %s",
			 r->x_job, p->name);
		return true;
	}
	if (r->list_id[0] &&
	    mailwizz_list_uid(p, r->list_id, id, sizeof(id)) == 0) {
		snprintf(why, whylen, "List-Id names list %s of provider %s",
			 id, p->name);
		return true;
	}
	return false;
}

/* mailwizz_report_kind - a MailWizz subscriber UID in R */
bool mailwizz_report_kind(const struct arf_report *r, char *why,
			  size_t whylen)
{
	if (!route_uid_ok(r->mw_subscriber_uid))
		return false;
	snprintf(why, whylen, "X-Mw-Subscriber-Uid %s (a MailWizz provider is "
		 "configured)", r->mw_subscriber_uid);
	return true;
}

/* mailwizz_notify_ids - campaign and list of EV at P, into IT */
bool mailwizz_notify_ids(const struct config_provider *p,
			 const struct event *ev, struct notify_item *it)
{
	const char *cuid = EVENT_X(ev, mw_campaign_uid);
	const char *luid = EVENT_X(ev, mw_list_uid);
	char uid[ACTION_ID_MAX] = "";

	if (cuid && route_uid_ok(cuid))
		rcpt_set_str(uid, sizeof(uid), cuid);
	else if (route_campaign(p, ev->job_id, uid, sizeof(uid)) != 0)
		uid[0] = '\0';
	if (uid[0]) {
		rcpt_set_str(it->campaign_uid, sizeof(it->campaign_uid), uid);
		rcpt_set_str(it->provider, sizeof(it->provider), p->name);
	}
	if (luid && route_uid_ok(luid))
		rcpt_set_str(it->list_uid, sizeof(it->list_uid), luid);
	else if (mailwizz_list_uid(p, EVENT_X(ev, list_id), uid,
				   sizeof(uid)) == 0)
		rcpt_set_str(it->list_uid, sizeof(it->list_uid), uid);
	return it->campaign_uid[0] || it->list_uid[0];
}
