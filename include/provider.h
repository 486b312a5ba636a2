/*
 * provider.h - one campaign tool behind one small interface.
 *
 * A provider turns an action's current step into one HTTP request, and
 * the answer into a verdict.  Transport failures (connection errors,
 * timeouts), 5xx and 429 answers never reach a provider: the dispatcher
 * retries those with backoff.  Everything else is the provider's to judge.
 * Providers keep caches (MailWizz campaign -> list, Interspire list ids) in
 * their private state; losing them costs a call, never correctness.
 * Input reaching a URL (UIDs, addresses) is validated or escaped here.
 */
#ifndef BOUNCED_PROVIDER_H
#define BOUNCED_PROVIDER_H

#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "action.h"
#include "config.h"

#define HTTP_MAX_HEADERS 8

/* a request to send; body is g_malloc'ed and owned by the request */
struct http_req {
	char method[8];			/* GET, POST, PUT, DELETE */
	char url[2048];
	char *body;			/* NULL = no body */
	size_t body_len;
	char headers[HTTP_MAX_HEADERS][512]; /* "Name: value" */
	int n_headers;
};

/* http_req_clear - free the body and zero REQ */
void http_req_clear(struct http_req *req);
/* http_req_header - add "NAME: VALUE" (bounded); 0 or -ENOSPC */
int http_req_header(struct http_req *req, const char *name,
		    const char *value);

/* an answer received (status < 500 and not 429) */
struct http_resp {
	long status;
	const char *body;		/* NUL-terminated, at most 1 MiB */
	size_t body_len;
	const char *content_type;	/* may be NULL */
};

enum provider_result {
	PROVIDER_DONE = 0,	/* finished; *SPAWN holds follow-up actions */
	PROVIDER_CONTINUE,	/* the action was updated (step, ids): run it again now */
	PROVIDER_RETRY,		/* transient: try again later; ERR says why */
	PROVIDER_FAILED,	/* permanent: to the dead table; ERR says why */
	PROVIDER_PAUSE,		/* the provider refuses our credentials, keys
				   or clock: the action stays queued and the
				   provider is paused until a probe passes;
				   ERR says why */
};

struct provider;

struct provider_ops {
	const char *type;	/* "mailwizz", "interspire", "webhook" */
	/* init - private state from the config; 0 or -1 with ERR */
	int (*init)(struct provider *p, char *err, size_t errlen);
	/*
	 * build - the request for A's current step at wall time NOW (seconds).
	 * Returns 0; 1 when the step needs no call (A was updated: the
	 * dispatcher treats it as PROVIDER_CONTINUE, or PROVIDER_DONE when
	 * a->step was set to PROVIDER_STEP_DONE); -1 with ERR for an action
	 * that can never be sent (permanent failure).
	 */
	int (*build)(struct provider *p, struct action *a, int64_t now,
		     struct http_req *req, char *err, size_t errlen);
	/*
	 * parse - judge RESP for A; may update A (step, ids) and append
	 * follow-up actions (struct action, copied from A and changed) to
	 * SPAWN, a GArray of struct action.
	 */
	enum provider_result (*parse)(struct provider *p, struct action *a,
				      const struct http_resp *resp,
				      GArray *spawn, char *err, size_t errlen);
	void (*release)(struct provider *p);
	/*
	 * probe - optional (NULL: the provider cannot be probed): the
	 * request of one harmless call, at wall time NOW (seconds), that
	 * checks endpoint, TLS and credentials and changes nothing at the
	 * server.  Returns 0, or -1 with ERR when no request can be built.
	 * Set together with probe_parse.
	 */
	int (*probe)(struct provider *p, int64_t now, struct http_req *req,
		     char *err, size_t errlen);
	/*
	 * probe_parse - the verdict on the probe's answer RESP, whatever its
	 * status (5xx and 429 included): PROVIDER_DONE (endpoint and
	 * credentials work; ERR may say what the server told, e.g. the user
	 * it knows), PROVIDER_PAUSE (credentials, keys or clock refused),
	 * PROVIDER_RETRY (passing trouble: try again later), PROVIDER_FAILED
	 * (wrong endpoint, or not this API); ERR says why.  Never
	 * PROVIDER_CONTINUE.
	 */
	enum provider_result (*probe_parse)(struct provider *p,
					    const struct http_resp *resp,
					    char *err, size_t errlen);
	/* how often a paused provider of this type may be probed (ms); 0:
	   the dispatcher's default (a minute) */
	int64_t pause_probe_ms;
};

#define PROVIDER_STEP_DONE 255

struct provider {
	const struct provider_ops *ops;
	const struct config_provider *cfg;	/* borrowed */
	void *priv;
};

/* the known provider types */
extern const struct provider_ops provider_mailwizz_ops;
extern const struct provider_ops provider_interspire_ops;
extern const struct provider_ops provider_webhook_ops;

/* provider_new - the provider for CFG's type; 0 or -1 with ERR */
int provider_new(const struct config_provider *cfg, struct provider **out,
		 char *err, size_t errlen);
void provider_free(struct provider *p);

#endif
