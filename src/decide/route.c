/*
 * route.c - providers and operations for an event: the gates every
 * provider type shares (complaints, lists, the senders of a bounce), the
 * campaign a job id names, and the type's own choice through its table
 * (provider.h: route, ids).
 *
 * Pure functions of the config and the event; no allocation, no errors.
 * The table of what each provider type does per class is documented in
 * docs/PROVIDERS.md and pinned by tests/unit/test_route.c.
 */
#include <fnmatch.h>
#include <string.h>

#include <glib.h>

#include "action.h"
#include "arf.h"
#include "provider.h"
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

bool route_iem_id_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (s[i] < '0' || s[i] > '9' || i >= 10)
			return false;
	return i > 0;
}

bool route_iem_lids_ok(const char *s)
{
	return s && arf_iem_lids_ok(s);
}

/* route_ids - the ids of P's type that EV carries, into A */
void route_ids(const struct config_provider *p, const struct event *ev,
	       struct action *a)
{
	const struct provider_ops *ops = provider_ops_of(p);

	if (ev->x && ops && ops->ids)
		ops->ids(p, ev, a);
}

/* route_set - *OP = OPERATION, TYPE, FLAGS; returns 1 */
int route_set(struct route_op *op, int operation, const char *type,
	      unsigned flags)
{
	op->op = operation;
	op->bounce_type = type;
	op->flags = flags;
	return 1;
}

/* route_plain - what a provider type without campaign records asks for:
   a complaint, an unsubscribe (also for a hard or escalated bounce),
   nothing for the rest (SOFT_POSTS: a soft bounce is posted as one) */
int route_plain(enum rcpt_outcome o, bool soft_posts, struct route_op *op)
{
	switch (o) {
	case OUT_COMPLAINT:
		return route_set(op, OP_COMPLAINT, NULL, 0);
	case OUT_UNSUB:
		return route_set(op, OP_UNSUBSCRIBE, NULL, 0);
	case OUT_HARD:
	case OUT_ESCALATED:
		return route_set(op, OP_UNSUBSCRIBE, "hard", 0);
	case OUT_SOFT:
		return soft_posts ? route_set(op, OP_BOUNCE, "soft", 0) : 0;
	default:
		return 0;
	}
}

/* route_plan - the gates every type shares, then the type's choice */
int route_plan(const struct config_provider *p, const struct event *ev,
	       enum rcpt_outcome o, struct route_op *op)
{
	const struct provider_ops *ops;

	switch (o) {
	case OUT_COMPLAINT:
		if (!p->complaints)
			return 0;
		break;
	case OUT_UNSUB:
		if (!p->lists)
			return 0;
		break;
	case OUT_HARD:
	case OUT_ESCALATED:
	case OUT_SOFT:
	case OUT_DUPLICATE:
		/* bounces go where their sender was sent from */
		if (!route_sender_match(p, ev->orig))
			return 0;
		break;
	default:
		return 0;
	}
	ops = provider_ops_of(p);
	if (!ops || !ops->route)
		return 0;
	return ops->route(p, ev, o, op);
}
