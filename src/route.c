/*
 * route.c - providers and operations for an event.
 *
 * Pure functions of the config and the event; no allocation, no errors.
 * The table of what each provider type does per class is documented in
 * docs/PROVIDERS.md and pinned by tests/unit/test_route.c.
 */
#include <fnmatch.h>
#include <string.h>

#include <glib.h>

#include "action.h"
#include "rcpt.h"
#include "route.h"

bool route_sender_match(const struct config_provider *p, const char *orig)
{
	char *const *s;

	if (!p->senders)
		return false;
	for (s = p->senders; *s; s++) {
		if (strcmp(*s, "*") == 0)
			return true;
		if (orig && fnmatch(*s, orig, FNM_CASEFOLD) == 0)
			return true;
	}
	return false;
}

bool route_uid_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
			return false;
	return i == 13;
}

int route_campaign(const struct config_provider *p, const char *job_id,
		   char *out, size_t outlen)
{
	const char *prefix = p->job_prefix ? p->job_prefix : "";
	size_t n = strlen(prefix);

	if (!job_id || strncmp(job_id, prefix, n) != 0)
		return -1;
	job_id += n;
	if (!route_uid_ok(job_id) || strlen(job_id) >= outlen)
		return -1;
	memcpy(out, job_id, strlen(job_id) + 1);
	return 0;
}

/* route_glob - PAT (LEN bytes of a list-id form: literal text and '*')
   as an fnmatch pattern into OUT; -1 when it does not fit */
static int route_glob(const char *pat, size_t len, char *out, size_t cap)
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

/* route_is_uid_char - [a-z0-9] */
static bool route_is_uid_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* route_list_uid_form - LIST_ID (trimmed, N bytes in V) by one form
   (FORM, FLEN bytes, one [LIST_UID]) into OUT; 0 or -1 */
static int route_list_uid_form(const char *form, size_t flen, const char *v,
			       size_t n, char *out)
{
	char head[512], tail[512], before[ROUTE_LIST_ID_MAX];
	const char *ph = g_strstr_len(form, (gssize)flen, "[LIST_UID]");
	size_t i, k;

	if (!ph ||
	    route_glob(form, (size_t)(ph - form), head, sizeof(head)) ||
	    route_glob(ph + 10, flen - (size_t)(ph + 10 - form), tail,
		       sizeof(tail)))
		return -1;
	for (i = 0; i + 13 <= n; i++) {
		for (k = 0; k < 13 && route_is_uid_char(v[i + k]); k++)
			;
		if (k < 13 || (i + 13 < n && route_is_uid_char(v[i + 13])) ||
		    (i > 0 && route_is_uid_char(v[i - 1])))
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

int route_list_uid(const struct config_provider *p, const char *list_id,
		   char *out, size_t outlen)
{
	const char *forms = p->list_id ? p->list_id : CONFIG_LIST_ID_DEFAULT;
	char v[ROUTE_LIST_ID_MAX];
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
		if (route_list_uid_form(f, flen, v, n, out) == 0)
			return 0;
		if (!end)
			break;
		forms = end + 1;
	}
	return -1;
}

bool route_iem_id_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (s[i] < '0' || s[i] > '9' || i >= 10)
			return false;
	return i > 0;
}

void route_ids(const struct config_provider *p, const struct event *ev,
	       struct action *a)
{
	const struct event_extra *x = ev->x;

	if (!x)
		return;
	switch (p->type) {
	case PROVIDER_MAILWIZZ:
		if (x->mw_subscriber_uid && route_uid_ok(x->mw_subscriber_uid))
			memcpy(a->subscriber_id, x->mw_subscriber_uid, 14);
		if (x->mw_list_uid && route_uid_ok(x->mw_list_uid))
			memcpy(a->list_id, x->mw_list_uid, 14);
		else if (route_list_uid(p, x->list_id, a->list_id,
					sizeof(a->list_id)) != 0)
			a->list_id[0] = '\0';
		if (x->mw_campaign_uid && route_uid_ok(x->mw_campaign_uid))
			memcpy(a->campaign_id, x->mw_campaign_uid, 14);
		break;
	case PROVIDER_INTERSPIRE:
		if (x->iem_list_id && x->iem_subscriber_id &&
		    route_iem_id_ok(x->iem_list_id) &&
		    route_iem_id_ok(x->iem_subscriber_id)) {
			strcpy(a->list_id, x->iem_list_id);
			strcpy(a->subscriber_id, x->iem_subscriber_id);
		}
		break;
	case PROVIDER_WEBHOOK:
		break;
	}
}

/* route_campaign_ok - does EV name a campaign of MailWizz provider P? */
static bool route_campaign_ok(const struct config_provider *p,
			      const struct event *ev)
{
	char uid[ACTION_ID_MAX];

	return p->type == PROVIDER_MAILWIZZ &&
	       route_campaign(p, ev->job_id, uid, sizeof(uid)) == 0;
}

/* route_set - *OP = OPERATION, TYPE, FLAGS; returns 1 */
static int route_set(struct route_op *op, int operation, const char *type,
		     unsigned flags)
{
	op->op = operation;
	op->bounce_type = type;
	op->flags = flags;
	return 1;
}

/* route_hard - hard or escalated bounce: with a campaign, the bounce record
   comes first and the provider unsubscribes after it when hard-action asks
   for both; without one a bounce cannot be recorded: unsubscribe, so the
   address is acted on whatever the setting */
static int route_hard(const struct config_provider *p, const struct event *ev,
		      struct route_op *op)
{
	if (p->type != PROVIDER_MAILWIZZ)
		return route_set(op, OP_UNSUBSCRIBE, "hard", 0);
	if (p->hard_action & ACT_BOUNCE && route_campaign_ok(p, ev))
		return route_set(op, OP_BOUNCE, "hard", ACTION_F_SUPPRESS);
	if (p->hard_action != ACT_NONE)
		return route_set(op, OP_UNSUBSCRIBE, "hard", 0);
	return 0;
}

/* route_duplicate - a bounce of an address suppressed before: the bounce
   record of its campaign, as MailWizz's own bounce handling keeps one per
   campaign */
static int route_duplicate(const struct config_provider *p,
			   const struct event *ev, struct route_op *op)
{
	bool hard = ev->klass == CLASS_HARD;

	if (ev->klass != CLASS_HARD && ev->klass != CLASS_SOFT)
		return 0;
	if (!((hard ? p->hard_action : p->soft_action) & ACT_BOUNCE) ||
	    !route_campaign_ok(p, ev))
		return 0;
	return route_set(op, OP_BOUNCE, hard ? "hard" : "soft", 0);
}

int route_plan(const struct config_provider *p, const struct event *ev,
	       enum rcpt_outcome o, struct route_op *op)
{
	switch (o) {
	case OUT_COMPLAINT:
		if (!p->complaints)
			return 0;
		/* complaint-action = blacklist: MailWizz blacklists the
		   subscriber of a campaign's hard bounce, recorded first */
		return route_set(op, OP_COMPLAINT,
				 p->complaint_action == ACT_BOTH &&
						 route_campaign_ok(p, ev) ?
					 "hard" : NULL, 0);
	case OUT_UNSUB:
		if (!p->lists)
			return 0;
		return route_set(op, OP_UNSUBSCRIBE, NULL, 0);
	case OUT_HARD:
	case OUT_ESCALATED:
		if (!route_sender_match(p, ev->orig))
			return 0;
		return route_hard(p, ev, op);
	case OUT_SOFT:
		/* soft bounces never unsubscribe anyone */
		if (!route_sender_match(p, ev->orig))
			return 0;
		if (p->type == PROVIDER_WEBHOOK)
			return route_set(op, OP_BOUNCE, "soft", 0);
		if (p->soft_action & ACT_BOUNCE && route_campaign_ok(p, ev))
			return route_set(op, OP_BOUNCE, "soft", 0);
		return 0;
	case OUT_DUPLICATE:
		if (!route_sender_match(p, ev->orig))
			return 0;
		return route_duplicate(p, ev, op);
	default:
		return 0;
	}
}
