/*
 * provider.c - make and free a provider by its configured type, and the
 * two helpers every provider uses to fill a struct http_req.
 *
 * The three ops tables (MailWizz, Interspire, webhook) live in their own
 * files; this one only picks the table for a config's type and runs its
 * init/release around the struct provider.
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

/* provider_ops_for - the ops table of configured type T, or NULL */
static const struct provider_ops *provider_ops_for(enum provider_type t)
{
	switch (t) {
	case PROVIDER_MAILWIZZ:
		return &provider_mailwizz_ops;
	case PROVIDER_INTERSPIRE:
		return &provider_interspire_ops;
	case PROVIDER_WEBHOOK:
		return &provider_webhook_ops;
	}
	return NULL;
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
	ops = provider_ops_for(cfg->type);
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
