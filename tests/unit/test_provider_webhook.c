/*
 * test_provider_webhook.c - the webhook provider: the request build() makes
 * (JSON fields, headers, the signature recomputed here with GLib's GHmac),
 * the verdicts parse() gives, init's checks of the URL, and the http_req
 * helpers of provider.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <glib.h>

#include "provider.h"

#define URL "http://127.0.0.1:8080/hooks/bounces?x=1"

static struct config_provider test_cfg(const char *url, const char *secret)
{
	struct config_provider c;

	memset(&c, 0, sizeof(c));
	c.name = (char *)"hook";
	c.type = PROVIDER_WEBHOOK;
	c.url = (char *)url;
	c.secret = (char *)secret;
	c.concurrency = 4;
	return c;
}

static void test_action(struct action *a)
{
	memset(a, 0, sizeof(*a));
	a->id = 42;
	a->root = 40;
	snprintf(a->provider, sizeof(a->provider), "hook");
	a->op = OP_UNSUBSCRIBE;
	a->klass = CLASS_HARD;
	snprintf(a->addr, sizeof(a->addr), "john+x@example.com");
	a->ev.time = 1700000000;	/* 2023-11-14T22:13:20Z */
	a->ev.line = 17;
	snprintf(a->ev.source, sizeof(a->ev.source), "spool/acct/acct-1.csv");
	snprintf(a->ev.category, sizeof(a->ev.category), "bad-mailbox");
	snprintf(a->ev.dsn_status, sizeof(a->ev.dsn_status), "5.1.1");
	snprintf(a->ev.dsn_diag, sizeof(a->ev.dsn_diag),
		 "smtp;550 5.1.1 \"user\" unknown\\here");
	snprintf(a->ev.orig, sizeof(a->ev.orig), "news@example.org");
	snprintf(a->ev.vmta, sizeof(a->ev.vmta), "vmta-1");
	snprintf(a->ev.job_id, sizeof(a->ev.job_id), "mailwizz-cc123cd456ef7");
}

/* header_value - the value of header NAME in REQ, or NULL */
static const char *header_value(const struct http_req *req, const char *name)
{
	size_t n = strlen(name);
	int i;

	for (i = 0; i < req->n_headers; i++)
		if (g_ascii_strncasecmp(req->headers[i], name, n) == 0 &&
		    req->headers[i][n] == ':')
			return req->headers[i] + n + 2;
	return NULL;
}

static int build(const struct config_provider *cfg, struct action *a,
		 struct http_req *req, char *err, size_t errlen)
{
	struct provider *p = NULL;
	int rc;

	assert_int_equal(provider_new(cfg, &p, err, errlen), 0);
	assert_ptr_equal(p->ops, &provider_webhook_ops);
	rc = p->ops->build(p, a, 1800000000, req, err, errlen);
	provider_free(p);
	return rc;
}

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	assert_non_null(v);
	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

static void test_build_fields(void **state)
{
	struct config_provider cfg = test_cfg(URL, NULL);
	struct http_req req;
	struct action a;
	char err[256] = "";
	cJSON *o;
	const struct {
		const char *key, *want;
	} want[] = {
		{ "event", "hard" },
		{ "address", "john+x@example.com" },
		{ "category", "bad-mailbox" },
		{ "dsn_status", "5.1.1" },
		{ "dsn_diag", "smtp;550 5.1.1 \"user\" unknown\\here" },
		{ "orig", "news@example.org" },
		{ "vmta", "vmta-1" },
		{ "job_id", "mailwizz-cc123cd456ef7" },
		{ "time", "2023-11-14T22:13:20Z" },
		{ "source", "spool/acct/acct-1.csv" },
		{ "operation", "unsubscribe" },
	};
	size_t i;

	(void)state;
	test_action(&a);
	assert_int_equal(build(&cfg, &a, &req, err, sizeof(err)), 0);
	assert_string_equal(req.method, "POST");
	assert_string_equal(req.url, URL);
	assert_non_null(req.body);
	assert_int_equal(strlen(req.body), req.body_len);
	assert_string_equal(header_value(&req, "Content-Type"),
			    "application/json");
	assert_null(header_value(&req, "X-Bounced-Signature"));
	o = cJSON_ParseWithLength(req.body, req.body_len);
	assert_non_null(o);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_string_equal(jstr(o, want[i].key), want[i].want);
	assert_true(cJSON_IsNumber(cJSON_GetObjectItem(o, "id")));
	assert_int_equal(cJSON_GetObjectItem(o, "id")->valuedouble, 40);
	assert_int_equal(cJSON_GetObjectItem(o, "line")->valuedouble, 17);
	assert_int_equal(cJSON_GetArraySize(o), 13);
	cJSON_Delete(o);
	http_req_clear(&req);
	assert_null(req.body);
}

/* the event name follows the class, the operation the op */
static void test_build_event_names(void **state)
{
	struct config_provider cfg = test_cfg(URL, NULL);
	const struct {
		uint8_t klass, op;
		const char *event, *operation;
	} t[] = {
		{ CLASS_HARD, OP_BOUNCE, "hard", "bounce" },
		{ CLASS_SOFT, OP_BOUNCE, "soft", "bounce" },
		{ CLASS_COMPLAINT, OP_COMPLAINT, "complaint", "complaint" },
		{ CLASS_UNSUB, OP_UNSUBSCRIBE, "unsubscribe", "unsubscribe" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct http_req req;
		struct action a;
		char err[128];
		cJSON *o;

		test_action(&a);
		a.klass = t[i].klass;
		a.op = t[i].op;
		assert_int_equal(build(&cfg, &a, &req, err, sizeof(err)), 0);
		o = cJSON_Parse(req.body);
		assert_non_null(o);
		assert_string_equal(jstr(o, "event"), t[i].event);
		assert_string_equal(jstr(o, "operation"), t[i].operation);
		cJSON_Delete(o);
		http_req_clear(&req);
	}
}

/* the signature is HMAC-SHA256 of the exact body, recomputed here */
static void test_build_signature(void **state)
{
	const char *secrets[] = { "s3cret", "a much longer secret with spaces "
			"and ünïcödé, longer than one SHA-256 block of 64 bytes" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
		struct config_provider cfg = test_cfg(URL, secrets[i]);
		struct http_req req;
		struct action a;
		char err[128], want[80];
		GHmac *mac;

		test_action(&a);
		assert_int_equal(build(&cfg, &a, &req, err, sizeof(err)), 0);
		mac = g_hmac_new(G_CHECKSUM_SHA256, (const guchar *)secrets[i],
				 strlen(secrets[i]));
		g_hmac_update(mac, (const guchar *)req.body,
			      (gssize)req.body_len);
		snprintf(want, sizeof(want), "sha256=%s", g_hmac_get_string(mac));
		g_hmac_unref(mac);
		assert_non_null(header_value(&req, "X-Bounced-Signature"));
		assert_string_equal(header_value(&req, "X-Bounced-Signature"),
				    want);
		/* a changed body no longer matches */
		req.body[req.body_len - 2] ^= 1;
		mac = g_hmac_new(G_CHECKSUM_SHA256, (const guchar *)secrets[i],
				 strlen(secrets[i]));
		g_hmac_update(mac, (const guchar *)req.body,
			      (gssize)req.body_len);
		assert_string_not_equal(header_value(&req, "X-Bounced-Signature") + 7,
					g_hmac_get_string(mac));
		g_hmac_unref(mac);
		http_req_clear(&req);
	}
}

/* hostile text stays JSON: invalid UTF-8 replaced, controls escaped;
   an unknown time is null */
static void test_build_hostile(void **state)
{
	static const char diag[] = "bad \xff\xfe byte\n\t\"q\"";
	struct config_provider cfg = test_cfg(URL, "k");
	struct http_req req;
	struct action a;
	char err[128];
	cJSON *o;

	(void)state;
	test_action(&a);
	a.ev.time = 0;
	memcpy(a.ev.dsn_diag, diag, sizeof(diag));
	assert_int_equal(build(&cfg, &a, &req, err, sizeof(err)), 0);
	assert_true(g_utf8_validate(req.body, (gssize)req.body_len, NULL));
	assert_null(memchr(req.body, '\n', req.body_len));
	o = cJSON_Parse(req.body);
	assert_non_null(o);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "time")));
	assert_string_equal(jstr(o, "dsn_diag"),
			    "bad \xef\xbf\xbd\xef\xbf\xbd byte\n\t\"q\"");
	cJSON_Delete(o);
	http_req_clear(&req);
}

static void test_parse(void **state)
{
	struct config_provider cfg = test_cfg(URL, NULL);
	const struct {
		long status;
		const char *body;
		enum provider_result want;
		const char *err_has;
	} t[] = {
		{ 200, "{\"status\":\"ok\"}", PROVIDER_DONE, NULL },
		{ 201, "", PROVIDER_DONE, NULL },
		{ 202, "", PROVIDER_DONE, NULL },
		{ 204, "", PROVIDER_DONE, NULL },
		{ 299, "", PROVIDER_DONE, NULL },
		{ 400, "{\"error\":\"body is not JSON\"}", PROVIDER_FAILED,
		  "HTTP 400: {\"error\":\"body is not JSON\"}" },
		/* the receiver refuses our signature: the provider pauses */
		{ 401, "{\"error\":\"bad signature\"}", PROVIDER_PAUSE, "HTTP 401" },
		{ 403, "", PROVIDER_PAUSE, "HTTP 403" },
		{ 404, "", PROVIDER_FAILED, "HTTP 404" },
		{ 410, "gone\r\n", PROVIDER_FAILED, "HTTP 410: gone" },
		{ 422, "", PROVIDER_FAILED, "HTTP 422" },
		{ 408, "", PROVIDER_RETRY, "HTTP 408" },
		{ 301, "", PROVIDER_FAILED, "redirects are not followed" },
	};
	struct provider *p = NULL;
	size_t i;

	(void)state;
	assert_int_equal(provider_new(&cfg, &p, NULL, 0), 0);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct http_resp resp = { t[i].status, t[i].body,
					  strlen(t[i].body), "application/json" };
		GArray *spawn = g_array_new(FALSE, TRUE, sizeof(struct action));
		struct action a;
		char err[256] = "";
		enum provider_result res;

		test_action(&a);
		res = p->ops->parse(p, &a, &resp, spawn, err, sizeof(err));
		if (res != t[i].want)
			fail_msg("HTTP %ld: verdict %d, want %d", t[i].status,
				 (int)res, (int)t[i].want);
		assert_int_equal(spawn->len, 0);
		if (t[i].err_has && strstr(err, t[i].err_has) == NULL)
			fail_msg("HTTP %ld: error '%s' lacks '%s'", t[i].status,
				 err, t[i].err_has);
		g_array_free(spawn, TRUE);
	}
	provider_free(p);
}

static void test_init_url(void **state)
{
	char longurl[3000];
	const struct {
		const char *url;
		int want;
	} t[] = {
		{ "http://127.0.0.1/x", 0 },
		{ "HTTPS://hooks.example.com/b", 0 },
		{ NULL, -1 },
		{ "", -1 },
		{ "ftp://example.com/x", -1 },
		{ "file:///etc/passwd", -1 },
		{ longurl, -1 },
	};
	size_t i;

	(void)state;
	memset(longurl, 'a', sizeof(longurl) - 1);
	memcpy(longurl, "http://", 7);
	longurl[sizeof(longurl) - 1] = '\0';
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct config_provider cfg = test_cfg(t[i].url, NULL);
		struct provider *p = NULL;
		char err[256] = "";

		assert_int_equal(provider_new(&cfg, &p, err, sizeof(err)),
				 t[i].want);
		if (t[i].want) {
			assert_null(p);
			assert_non_null(strstr(err, "[provider hook]"));
		}
		provider_free(p);
	}
}

static void test_provider_new_unknown_type(void **state)
{
	struct config_provider cfg = test_cfg(URL, NULL);
	struct provider *p = (struct provider *)&cfg;
	char err[128] = "";

	(void)state;
	cfg.type = (enum provider_type)99;
	assert_int_equal(provider_new(&cfg, &p, err, sizeof(err)), -1);
	assert_null(p);
	assert_non_null(strstr(err, "unknown type"));
}

static void test_http_req_header(void **state)
{
	struct http_req req;
	char big[600];
	int i;

	(void)state;
	memset(&req, 0, sizeof(req));
	assert_int_equal(http_req_header(&req, "X-A", "1"), 0);
	assert_string_equal(req.headers[0], "X-A: 1");
	assert_int_equal(http_req_header(&req, "X-Empty", NULL), 0);
	assert_string_equal(req.headers[1], "X-Empty: ");
	assert_int_equal(http_req_header(&req, "X-B", "a\r\nX-Evil: 1"), -EINVAL);
	assert_int_equal(http_req_header(&req, "X-B\n", "a"), -EINVAL);
	assert_int_equal(http_req_header(&req, "X:B", "a"), -EINVAL);
	assert_int_equal(http_req_header(&req, "", "a"), -EINVAL);
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(http_req_header(&req, "X-Big", big), -ENOSPC);
	assert_int_equal(req.n_headers, 2);
	for (i = 2; i < HTTP_MAX_HEADERS; i++)
		assert_int_equal(http_req_header(&req, "X-N", "v"), 0);
	assert_int_equal(http_req_header(&req, "X-N", "v"), -ENOSPC);
	assert_int_equal(req.n_headers, HTTP_MAX_HEADERS);
	req.body = g_strdup("x");
	http_req_clear(&req);
	assert_null(req.body);
	assert_int_equal(req.n_headers, 0);
	http_req_clear(NULL);
}

/* test_build_monitor_event - an OP_EVENT posts its payload with the
   root id added (a stale "id" in it replaced); a payload that is not a
   JSON object is a permanent failure */
static void test_build_monitor_event(void **state)
{
	struct config_provider cfg = test_cfg(URL, "k");
	struct http_req req;
	struct action a;
	char err[256];
	cJSON *o;

	(void)state;
	test_action(&a);
	a.op = OP_EVENT;
	a.klass = CLASS_IGNORE;
	snprintf(a.addr, sizeof(a.addr), "incident:3");
	snprintf(a.payload, sizeof(a.payload),
		 "{\"id\":7,\"event\":\"incident.opened\",\"incident\":3,"
		 "\"samples\":[\"550 5.7.1 (S3150)\"]}");
	assert_int_equal(build(&cfg, &a, &req, err, sizeof(err)), 0);
	o = cJSON_Parse(req.body);
	assert_non_null(o);
	assert_int_equal(cJSON_GetObjectItem(o, "id")->valuedouble, 40);
	assert_string_equal(cJSON_GetObjectItem(o, "event")->valuestring,
			    "incident.opened");
	assert_int_equal(cJSON_GetObjectItem(o, "incident")->valuedouble, 3);
	assert_null(cJSON_GetObjectItem(o, "address"));
	assert_non_null(header_value(&req, "X-Bounced-Signature"));
	cJSON_Delete(o);
	http_req_clear(&req);

	snprintf(a.payload, sizeof(a.payload), "[1,2]");
	assert_int_equal(build(&cfg, &a, &req, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "incident:3"));
}

/* test_route_events - suppressions go only to a webhook whose events
   include them */
static void test_route_events(void **state)
{
	struct config_provider cfg = test_cfg(URL, NULL);
	struct event ev;
	struct route_op op;

	(void)state;
	memset(&ev, 0, sizeof(ev));
	memset(&op, 0, sizeof(op));
	cfg.events = WEBHOOK_EVENTS_ALL;
	assert_int_equal(provider_webhook_ops.route(&cfg, &ev, OUT_HARD, &op),
			 1);
	cfg.events = WEBHOOK_EVENT_INCIDENTS | WEBHOOK_EVENT_ALERTS;
	assert_int_equal(provider_webhook_ops.route(&cfg, &ev, OUT_HARD, &op),
			 0);
	assert_int_equal(provider_webhook_ops.route(&cfg, &ev, OUT_SOFT, &op),
			 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_fields),
		cmocka_unit_test(test_build_event_names),
		cmocka_unit_test(test_build_signature),
		cmocka_unit_test(test_build_hostile),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_build_monitor_event),
		cmocka_unit_test(test_route_events),
		cmocka_unit_test(test_init_url),
		cmocka_unit_test(test_provider_new_unknown_type),
		cmocka_unit_test(test_http_req_header),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
