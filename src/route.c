/*
 * route.c - providers and operations for an event.
 *
 * Pure functions of the config and the event; no allocation, no errors.
 * The table of what each provider type does per class is documented in
 * docs/PROVIDERS.md and pinned by tests/unit/test_route.c.
 */
#include <fnmatch.h>
#include <string.h>

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

/* route_mailwizz_hard - hard or escalated bounce at a MailWizz provider */
static int route_mailwizz_hard(const struct config_provider *p,
			       const struct event *ev, int ops[ROUTE_MAX_OPS])
{
	char uid[ACTION_ID_MAX];
	bool campaign = route_campaign(p, ev->job_id, uid, sizeof(uid)) == 0;
	int n = 0;

	/* with a campaign, the bounce record comes first and the provider
	   unsubscribes after it when hard-action asks for both (MailWizz
	   blacklists a hard-bounced subscriber, which spares the calls);
	   without one a bounce cannot be recorded: unsubscribe, so the
	   address is acted on whatever the setting */
	if (p->hard_action & ACT_BOUNCE && campaign)
		ops[n++] = OP_BOUNCE;
	else if (p->hard_action != ACT_NONE)
		ops[n++] = OP_UNSUBSCRIBE;
	return n;
}

int route_plan(const struct config_provider *p, const struct event *ev,
	       enum rcpt_outcome o, int ops[ROUTE_MAX_OPS],
	       const char **bounce_type)
{
	char uid[ACTION_ID_MAX];

	*bounce_type = NULL;
	switch (o) {
	case OUT_COMPLAINT:
		if (!p->complaints)
			return 0;
		ops[0] = OP_COMPLAINT;
		return 1;
	case OUT_UNSUB:
		if (!p->lists)
			return 0;
		ops[0] = OP_UNSUBSCRIBE;
		return 1;
	case OUT_HARD:
	case OUT_ESCALATED:
		if (!route_sender_match(p, ev->orig))
			return 0;
		*bounce_type = "hard";
		if (p->type == PROVIDER_MAILWIZZ)
			return route_mailwizz_hard(p, ev, ops);
		ops[0] = OP_UNSUBSCRIBE;
		return 1;
	case OUT_SOFT:
		/* soft bounces never unsubscribe anyone */
		if (!route_sender_match(p, ev->orig))
			return 0;
		*bounce_type = "soft";
		if (p->type == PROVIDER_WEBHOOK) {
			ops[0] = OP_BOUNCE;
			return 1;
		}
		if (p->type == PROVIDER_MAILWIZZ && p->soft_action & ACT_BOUNCE &&
		    route_campaign(p, ev->job_id, uid, sizeof(uid)) == 0) {
			ops[0] = OP_BOUNCE;
			return 1;
		}
		return 0;
	default:
		return 0;
	}
}
