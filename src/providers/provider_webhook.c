/*
 * provider_webhook.c - post each action's event as JSON to a URL the user
 * names, the way to plug any other tool into bounced without writing C.
 *
 * One call per action, whatever the operation: POST {url} with
 * Content-Type: application/json and the body
 *   {"id", "event", "address", "category", "dsn_status", "dsn_diag",
 *    "orig", "vmta", "job_id", "time", "source", "line", "operation"}
 * where id is the root action's id (the same for every retry, so the
 * receiver can drop duplicates), event the class name ("hard", "soft",
 * "complaint", "unsubscribe", ...), time RFC 3339 UTC of the record's time
 * (null when unknown) and operation the action's operation name.  With a
 * secret, X-Bounced-Signature: sha256=<lower-case hex HMAC-SHA256 of the
 * raw body keyed with the secret>.  A monitor event (OP_EVENT: an incident
 * opened or closed, an alert raised or cleared) posts the JSON object the
 * action carries (monitor_event.c) with "id" added.  Suppressions are
 * posted only to a webhook whose events include them.
 *
 * Error policy: strings from the record are made valid UTF-8 (invalid
 * bytes become U+FFFD) so the body is always JSON.  2xx is done; 408 is
 * retried; other answers (3xx: redirects are not followed, 4xx) are
 * permanent failures whose message quotes the status and the start of the
 * answer.  A URL that is missing, not http(s) or too long fails init.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "http_excerpt.h"
#include "provider.h"

#define WEBHOOK_SIG_HEADER "X-Bounced-Signature"

/* webhook_init - check the URL; the webhook keeps no private state */
static int webhook_init(struct provider *p, char *err, size_t errlen)
{
	const char *url = p->cfg->url;
	struct http_req probe;

	if (url == NULL || *url == '\0') {
		snprintf(err, errlen, "url is not set");
		return -1;
	}
	if (g_ascii_strncasecmp(url, "http://", 7) != 0 &&
	    g_ascii_strncasecmp(url, "https://", 8) != 0) {
		snprintf(err, errlen, "url '%s' is not http:// or https://", url);
		return -1;
	}
	if (strlen(url) >= sizeof(probe.url)) {
		snprintf(err, errlen, "url is longer than %zu bytes",
			 sizeof(probe.url) - 1);
		return -1;
	}
	p->priv = NULL;
	return 0;
}

/* webhook_add_str - KEY: VAL made valid UTF-8 (NULL/empty: "") */
static int webhook_add_str(cJSON *o, const char *key, const char *val)
{
	gchar *valid = g_utf8_make_valid(val ? val : "", -1);
	cJSON *item = cJSON_AddStringToObject(o, key, valid);

	g_free(valid);
	return item ? 0 : -ENOMEM;
}

/* webhook_time - T (Unix seconds) as RFC 3339 UTC into BUF; -1 when unknown */
static int webhook_time(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL)
		return -1;
	if (strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return -1;
	return 0;
}

/* webhook_json - the event of A as a cJSON object (caller deletes) */
static cJSON *webhook_json(const struct action *a)
{
	const struct rcpt_reason *ev = &a->ev;
	char when[40];
	cJSON *o = cJSON_CreateObject();
	int rc = 0;

	if (o == NULL)
		return NULL;
	if (!cJSON_AddNumberToObject(o, "id", (double)a->root))
		rc = -ENOMEM;
	rc = rc ? rc : webhook_add_str(o, "event", event_class_name(a->klass));
	rc = rc ? rc : webhook_add_str(o, "address", a->addr);
	rc = rc ? rc : webhook_add_str(o, "category", ev->category);
	rc = rc ? rc : webhook_add_str(o, "dsn_status", ev->dsn_status);
	rc = rc ? rc : webhook_add_str(o, "dsn_diag", ev->dsn_diag);
	rc = rc ? rc : webhook_add_str(o, "orig", ev->orig);
	rc = rc ? rc : webhook_add_str(o, "vmta", ev->vmta);
	rc = rc ? rc : webhook_add_str(o, "job_id", ev->job_id);
	if (rc == 0) {
		cJSON *t = webhook_time(ev->time, when, sizeof(when)) == 0 ?
				   cJSON_AddStringToObject(o, "time", when) :
				   cJSON_AddNullToObject(o, "time");
		rc = t ? 0 : -ENOMEM;
	}
	rc = rc ? rc : webhook_add_str(o, "source", ev->source);
	if (rc == 0 && !cJSON_AddNumberToObject(o, "line", (double)ev->line))
		rc = -ENOMEM;
	rc = rc ? rc : webhook_add_str(o, "operation", action_op_name(a->op));
	if (rc) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* webhook_sign - add the signature header of REQ's body under SECRET */
static int webhook_sign(struct http_req *req, const char *secret)
{
	GHmac *mac = g_hmac_new(G_CHECKSUM_SHA256, (const guchar *)secret,
				strlen(secret));
	char value[128];
	int rc;

	g_hmac_update(mac, (const guchar *)req->body, (gssize)req->body_len);
	snprintf(value, sizeof(value), "sha256=%s", g_hmac_get_string(mac));
	g_hmac_unref(mac);
	rc = http_req_header(req, WEBHOOK_SIG_HEADER, value);
	return rc;
}

/* webhook_post - POST O (deleted here) to the url, signed */
static int webhook_post(struct provider *p, cJSON *o, struct http_req *req,
			char *err, size_t errlen)
{
	const struct config_provider *cfg = p->cfg;
	char *text = NULL;
	int rc = -1;

	memset(req, 0, sizeof(*req));
	memcpy(req->method, "POST", 5);
	if (g_strlcpy(req->url, cfg->url, sizeof(req->url)) >= sizeof(req->url)) {
		snprintf(err, errlen, "url is too long");
		goto out;
	}
	text = o ? cJSON_PrintUnformatted(o) : NULL;
	if (text == NULL) {
		snprintf(err, errlen, "cannot build the JSON event: out of memory");
		goto out;
	}
	req->body_len = strlen(text);
	req->body = g_strndup(text, req->body_len);
	if (http_req_header(req, "Content-Type", "application/json") != 0 ||
	    (cfg->secret && *cfg->secret && webhook_sign(req, cfg->secret) != 0)) {
		snprintf(err, errlen, "cannot add the request headers");
		goto out;
	}
	rc = 0;
out:
	if (rc)
		http_req_clear(req);
	cJSON_free(text);
	cJSON_Delete(o);
	return rc;
}

/* webhook_event_json - the monitor event A carries, with its "id"; NULL
   with ERR when the payload is not a JSON object */
static cJSON *webhook_event_json(const struct action *a, char *err,
				 size_t errlen)
{
	cJSON *o = cJSON_ParseWithLength(a->payload,
					 strnlen(a->payload,
						 sizeof(a->payload)));

	if (!cJSON_IsObject(o)) {
		snprintf(err, errlen, "the event of %s is not a JSON object",
			 a->addr);
		cJSON_Delete(o);
		return NULL;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(o, "id");
	if (!cJSON_AddNumberToObject(o, "id", (double)a->root)) {
		cJSON_Delete(o);
		snprintf(err, errlen, "cannot build the JSON event: out of "
			 "memory");
		return NULL;
	}
	return o;
}

/* webhook_build - POST the event of A */
static int webhook_build(struct provider *p, struct action *a, int64_t now,
			 struct http_req *req, char *err, size_t errlen)
{
	cJSON *o;

	(void)now;
	if (a->op != OP_EVENT)
		return webhook_post(p, webhook_json(a), req, err, errlen);
	o = webhook_event_json(a, err, errlen);
	if (!o)
		return -1;
	return webhook_post(p, o, req, err, errlen);
}

/* webhook_probe - POST an event "test" (id "test-NOW", nothing else):
   the receiver sees the signature and may ignore the event */
static int webhook_probe(struct provider *p, int64_t now,
			 struct http_req *req, char *err, size_t errlen)
{
	cJSON *o = cJSON_CreateObject();
	char id[32], t[40];

	snprintf(id, sizeof(id), "test-%lld", (long long)now);
	if (o && (webhook_add_str(o, "id", id) ||
		  webhook_add_str(o, "event", "test") ||
		  (webhook_time(now, t, sizeof(t)) == 0 &&
		   webhook_add_str(o, "time", t)))) {
		cJSON_Delete(o);
		o = NULL;
	}
	return webhook_post(p, o, req, err, errlen);
}

/* webhook_parse - 2xx done; 408 retried; anything else failed */
static enum provider_result webhook_parse(struct provider *p, struct action *a,
					  const struct http_resp *resp,
					  GArray *spawn, char *err,
					  size_t errlen)
{
	char snip[HTTP_EXCERPT_MAX + 1];

	(void)p;
	(void)spawn;
	(void)a;
	if (resp->status >= 200 && resp->status < 300)
		return PROVIDER_DONE;
	http_excerpt(resp->body, resp->body ? resp->body_len : 0, snip,
		     sizeof(snip));
	if (resp->status == 408) {
		snprintf(err, errlen, "HTTP 408 (request timeout)%s%s",
			 *snip ? ": " : "", snip);
		return PROVIDER_RETRY;
	}
	if (resp->status >= 300 && resp->status < 400)
		snprintf(err, errlen,
			 "HTTP %ld: redirects are not followed, check url", resp->status);
	else
		snprintf(err, errlen, "HTTP %ld%s%s", resp->status,
			 *snip ? ": " : "", snip);
	/* the receiver refuses our signature or credentials: pause */
	if (resp->status == 401 || resp->status == 403)
		return PROVIDER_PAUSE;
	return PROVIDER_FAILED;
}

/* webhook_probe_parse - as an event: 2xx is well */
static enum provider_result webhook_probe_parse(struct provider *p,
						const struct http_resp *resp,
						char *err, size_t errlen)
{
	enum provider_result v = webhook_parse(p, NULL, resp, NULL, err,
					       errlen);

	if (v == PROVIDER_DONE)
		snprintf(err, errlen, "HTTP %ld: the test event was taken",
			 resp->status);
	return v;
}

static void webhook_release(struct provider *p)
{
	p->priv = NULL;
}

/* webhook_route - every suppression, and every soft bounce as an event,
   when its events include suppressions */
static int webhook_route(const struct config_provider *p,
			 const struct event *ev, enum rcpt_outcome o,
			 struct route_op *op)
{
	(void)ev;
	if (!(p->events & WEBHOOK_EVENT_SUPPRESSIONS))
		return 0;
	return route_plain(o, true, op);
}

/* webhook_uid_actor - a webhook is told of a subscriber known by ids too */
static bool webhook_uid_actor(const struct action *a)
{
	(void)a;
	return true;
}

/* webhook_describe - "posted EVENT ADDR" (a monitor event: "posted
   event KEY") */
static bool webhook_describe(const struct action *a, long status,
			     unsigned spawned, char *buf, size_t len)
{
	(void)status;
	(void)spawned;
	snprintf(buf, len, "posted %s %s",
		 a->op == OP_EVENT ? "event" : event_class_name(a->klass),
		 a->addr);
	return true;
}

const struct provider_ops provider_webhook_ops = {
	.type = "webhook",
	.label = "webhook",
	.route = webhook_route,
	.uid_actor = webhook_uid_actor,
	.soft_event = true,
	.takes_events = true,
	.describe = webhook_describe,
	.init = webhook_init,
	.build = webhook_build,
	.parse = webhook_parse,
	.release = webhook_release,
	.probe = webhook_probe,
	.probe_parse = webhook_probe_parse,
};
