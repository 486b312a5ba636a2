/*
 * provider.h - one campaign tool behind one table: everything that
 * differs by provider type is a function of struct provider_ops, and the
 * rest of bounced reaches a type only through it.
 *
 * The table has two parts.  What the core asks of a provider's
 * configuration alone (no instance: ingest, bouncectl and the dispatcher
 * alike): which operation an event's outcome asks for (route), the ids an
 * event carries for it (ids), whether it can act for a subscriber known
 * only by ids (uid_actor), how a finished action reads in the log
 * (describe).  And what the dispatcher asks of a provider instance: a
 * provider turns an action's current step into one HTTP request, and the
 * answer into a verdict, and asks for a campaign's details for the
 * operator's mail.  Transport failures (connection errors,
 * timeouts), 5xx and 429 answers never reach a provider: the dispatcher
 * retries those with backoff.  Everything else is the provider's to judge.
 * Providers keep caches (MailWizz campaign -> list, Interspire list ids) in
 * their private state; losing them costs a call, never correctness.
 * Input reaching a URL (UIDs, addresses) is validated or escaped here.
 * provider_ops_of() is the one place that maps a configured type to its
 * table.
 */
#ifndef BOUNCED_PROVIDER_H
#define BOUNCED_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "action.h"
#include "config.h"
#include "event.h"
#include "rcpt_rules.h"
#include "route.h"

#define HTTP_MAX_HEADERS 8

struct arf_report;
struct notify_item;

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

/* a campaign's details for the operator's mail; strings cleaned (valid
   UTF-8, controls as blanks, bounded), "" when unknown */
struct provider_campaign {
	char name[256];
	char subject[256];
	char list_uid[64];
	char list_name[256];
	int64_t send_time;	/* send_at, taken as UTC; 0 unknown */
	char send_at[64];	/* send_at as the tool wrote it (its
				   customer's locale: "11/24/26, 8:00 AM"),
				   cleaned */
};

/* campaign details asked for arrived: INFO, or NULL with ERR saying why
   they could not be read */
typedef void provider_campaign_fn(void *arg,
				  const struct provider_campaign *info,
				  const char *err);

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
	const char *label;	/* as log lines name it: "MailWizz" */

	/* --- what the core asks of a provider's configuration --- */
	/*
	 * route - the operation provider P performs for event EV whose
	 * outcome was O, into *OP; 1, or 0 when it is not concerned.  Called
	 * by route_plan() after the gates every type shares (complaints,
	 * lists, senders), so only what differs by type is decided here.
	 */
	int (*route)(const struct config_provider *p, const struct event *ev,
		     enum rcpt_outcome o, struct route_op *op);
	/* ids - the identifiers of P that EV carries (subscriber, list,
	   campaign), checked for form, into A; optional */
	void (*ids)(const struct config_provider *p, const struct event *ev,
		    struct action *a);
	/* uid_actor - may this type act for a subscriber known only by its
	   ids (A's ids as ids() found them)?  NULL: never */
	bool (*uid_actor)(const struct action *a);
	/* soft_event - a soft bounce is an event posted to it, not a state
	   of the address: no entry on the recipient record */
	bool soft_event;
	/* takes_events - the monitor's incident and alert events (OP_EVENT
	   actions) are posted to it, those its configuration's `events`
	   names */
	bool takes_events;
	/*
	 * describe - the log line of finished action A (HTTP STATUS, SPAWNED
	 * follow-up actions) into BUF; true when it is worth an info line (a
	 * step that only led to others is not).  NULL: the wording of the
	 * list tools (provider_describe)
	 */
	bool (*describe)(const struct action *a, long status, unsigned spawned,
			 char *buf, size_t len);

	/*
	 * report_own - the ids in feedback report R that this provider's own
	 * configuration claims (a campaign under its job-prefix, a list by
	 * its list-id forms): true with WHY saying which.  Optional.
	 */
	bool (*report_own)(const struct config_provider *p,
			   const struct arf_report *r, char *why,
			   size_t whylen);
	/* report_kind - ids of this type's form in R (only a provider of the
	   type puts them in its mail): true with WHY.  Optional; asked after
	   every provider's report_own */
	bool (*report_kind)(const struct arf_report *r, char *why,
			    size_t whylen);
	/* notify_ids - the campaign and list EV names at P, for an item of
	   the operator's mail (IT's provider, campaign_uid, list_uid); true
	   when it found either.  Optional */
	bool (*notify_ids)(const struct config_provider *p,
			   const struct event *ev, struct notify_item *it);

	/* --- what the dispatcher asks of a provider instance --- */
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
	/*
	 * campaign_request - optional (NULL: no campaign details): the
	 * request for campaign UID's details at wall time NOW; 0 or -1 with
	 * ERR (UID not of the type's form).  Set together with
	 * campaign_parse.
	 */
	int (*campaign_request)(struct provider *p, const char *uid,
				int64_t now, struct http_req *req, char *err,
				size_t errlen);
	/* campaign_parse - the answer RESP (any status) into INFO: 0,
	   -ENOENT (no such campaign) or -EINVAL with ERR */
	int (*campaign_parse)(struct provider *p, const struct http_resp *resp,
			      struct provider_campaign *info, char *err,
			      size_t errlen);
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

/* provider_ops_of - the table of CFG's type, or NULL for a type bounced
   does not know (a config built by hand) */
const struct provider_ops *provider_ops_of(const struct config_provider *cfg);

/* provider_label - "MailWizz", "Interspire", "webhook"; "provider" for an
   unknown type */
const char *provider_label(const struct config_provider *cfg);

/* provider_describe - the log line of finished action A of a provider of
   CFG's type (see describe above) */
bool provider_describe(const struct config_provider *cfg,
		       const struct action *a, long status, unsigned spawned,
		       char *buf, size_t len);

/* provider_notify_ids - the campaign and list EV names, by the first of
   CFG's providers that can read them, into IT (left empty when none) */
void provider_notify_ids(const struct config *cfg, const struct event *ev,
			 struct notify_item *it);

/* provider_new - the provider for CFG's type; 0 or -1 with ERR */
int provider_new(const struct config_provider *cfg, struct provider **out,
		 char *err, size_t errlen);
void provider_free(struct provider *p);

#endif
