/*
 * provider.c - the table of a configured provider type, make and free a
 * provider by it, the wording of a finished action that list tools share,
 * and the two helpers every provider uses to fill a struct http_req.
 *
 * The three ops tables (MailWizz, Interspire, webhook) live in their own
 * files; this one is the only place that maps a config's type to its table
 * (provider_ops_of) and runs init/release around the struct provider.
 * Error policy: provider_new() returns -1 with a message naming the
 * provider in ERR (an unknown type, or what the provider's init said);
 * http_req_header() refuses a header that does not fit (-ENOSPC) or that
 * holds a line break (-EINVAL), never truncates one.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "provider.h"

/* http_req_clear - free the body and zero REQ */
void http_req_clear(struct http_req *req)
{
	if (req == NULL)
		return;
	g_free(req->body);
	memset(req, 0, sizeof(*req));
}

/* http_req_header - append "NAME: VALUE" to REQ's headers */
int http_req_header(struct http_req *req, const char *name, const char *value)
{
	char *slot;
	int n;

	if (req == NULL || name == NULL || *name == '\0')
		return -EINVAL;
	if (value == NULL)
		value = "";
	/* a CR or LF would let a value smuggle a header or a request */
	if (strpbrk(name, "\r\n:") != NULL || strpbrk(value, "\r\n") != NULL)
		return -EINVAL;
	if (req->n_headers < 0 || req->n_headers >= HTTP_MAX_HEADERS)
		return -ENOSPC;
	slot = req->headers[req->n_headers];
	n = snprintf(slot, sizeof(req->headers[0]), "%s: %s", name, value);
	if (n < 0 || (size_t)n >= sizeof(req->headers[0])) {
		slot[0] = '\0';
		return -ENOSPC;
	}
	req->n_headers++;
	return 0;
}

/* provider_ops_of - the ops table of CFG's configured type, or NULL */
const struct provider_ops *provider_ops_of(const struct config_provider *cfg)
{
	if (cfg == NULL)
		return NULL;
	switch (cfg->type) {
	case PROVIDER_MAILWIZZ:
		return &provider_mailwizz_ops;
	case PROVIDER_INTERSPIRE:
		return &provider_interspire_ops;
	case PROVIDER_WEBHOOK:
		return &provider_webhook_ops;
	}
	return NULL;
}

/* provider_label - the type as log lines name it */
const char *provider_label(const struct config_provider *cfg)
{
	const struct provider_ops *ops = provider_ops_of(cfg);

	return ops && ops->label ? ops->label : "provider";
}

/* provider_describe_lists - what a finished action of a list tool
   (subscribers on lists, campaign bounce records) achieved */
static bool provider_describe_lists(const struct action *a, long status,
				    unsigned spawned, char *buf, size_t len)
{
	const char *why = a->op == OP_COMPLAINT ? " (complaint)" : "";

	if (spawned > 0) {
		snprintf(buf, len, "%s is on %u list%s: unsubscribing it%s",
			 a->addr, spawned, spawned == 1 ? "" : "s", why);
		return false;
	}
	if (status == 404)
		snprintf(buf, len, "nothing to do for %s%s%s (not found)",
			 a->addr, a->list_id[0] ? " on list " : "", a->list_id);
	else if (a->op == OP_BOUNCE)
		snprintf(buf, len, "%s %s bounce of %s on campaign %s",
			 status == 422 ? "already had the" : "recorded a",
			 a->bounce_type, a->addr, a->campaign_id);
	else if (a->list_id[0])
		snprintf(buf, len, "unsubscribed %s from list %s%s", a->addr,
			 a->list_id, why);
	else
		snprintf(buf, len, "%s is on no list: nothing to unsubscribe%s",
			 a->addr, why);
	return true;
}

/* provider_describe - the log line of a finished action */
bool provider_describe(const struct config_provider *cfg,
		       const struct action *a, long status, unsigned spawned,
		       char *buf, size_t len)
{
	const struct provider_ops *ops = provider_ops_of(cfg);

	if (ops && ops->describe)
		return ops->describe(a, status, spawned, buf, len);
	return provider_describe_lists(a, status, spawned, buf, len);
}

/* provider_notify_ids - the first provider that reads EV's campaign or
   list fills IT */
void provider_notify_ids(const struct config *cfg, const struct event *ev,
			 struct notify_item *it)
{
	size_t i;

	for (i = 0; i < cfg->n_providers; i++) {
		const struct config_provider *p = &cfg->providers[i];
		const struct provider_ops *ops = provider_ops_of(p);

		if (ops && ops->notify_ids && ops->notify_ids(p, ev, it))
			return;
	}
}

/* provider_new - the provider for CFG's type, initialised */
int provider_new(const struct config_provider *cfg, struct provider **out,
		 char *err, size_t errlen)
{
	const struct provider_ops *ops;
	struct provider *p = NULL;
	char why[256] = "";
	int rc = -1;

	*out = NULL;
	ops = provider_ops_of(cfg);
	if (ops == NULL) {
		snprintf(err, errlen, "[provider %s]: unknown type %d",
			 cfg->name ? cfg->name : "?", (int)cfg->type);
		goto out;
	}
	p = g_new0(struct provider, 1);
	p->ops = ops;
	p->cfg = cfg;
	if (ops->init && ops->init(p, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "[provider %s] (%s): %s",
			 cfg->name ? cfg->name : "?", ops->type,
			 why[0] ? why : "cannot initialise");
		g_free(p);
		p = NULL;
		goto out;
	}
	*out = p;
	rc = 0;
out:
	return rc;
}

/* provider_free - release the provider's state and free it */
void provider_free(struct provider *p)
{
	if (p == NULL)
		return;
	if (p->ops && p->ops->release)
		p->ops->release(p);
	g_free(p);
}
