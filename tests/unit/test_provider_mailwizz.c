/*
 * test_provider_mailwizz.c - the MailWizz provider without a network:
 * build() of every op and step gives exactly the method, URL, headers and
 * body expected (v1 signatures computed independently with the fake's
 * Python implementation, and v2); parse() of real-shaped answers gives the
 * right verdicts, updates and children; UIDs are validated, the address
 * encoded, the bounce message cut at a UTF-8 boundary, campaigns cached.
 * The bounce that suppresses an address at a provider that also
 * unsubscribes (hard-action both) is followed by the unsubscribe from all
 * lists whatever MailWizz did with it (it blacklists only a confirmed
 * subscriber); never for a soft bounce, a campaign record of an address
 * suppressed before, or hard-action bounce.  A recorded subscriber uid
 * whose answer names another address is reported and dropped; refused
 * credentials pause the provider.  A bounce MailWizz refuses to record
 * (422: field errors, "Invalid bounce type!") ends as one whose campaign
 * is gone: a notice, the unsubscribe after it, a dead letter only where
 * nothing follows.  An address whose domain has a Unicode form is also
 * searched in that form (MailWizz keeps addresses as typed), and only the
 * records that are the address are acted on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "provider.h"

#define NOW 1700000000
#define BASE "https://mw.example.com/api/"
#define LIST "ab123cd456ef7"
#define SUB "zz123cd456ef7"
#define CAMP "cc123cd456ef7"
#define FORM "Content-Type: application/x-www-form-urlencoded"
#define ALL_URL "https://mw.example.com/api/lists/subscribers/" \
	"unsubscribe-by-email-from-all-lists"

struct fixture {
	struct config_provider cfg;
	struct provider p;
	struct http_req req;
	GArray *spawn;
	char err[512];
};

/* fx_new - a provider of VERSION on ENDPOINT, initialised */
static struct fixture *fx_new(const char *endpoint, int version)
{
	struct fixture *fx = g_new0(struct fixture, 1);

	fx->cfg.name = (char *)"mw";
	fx->cfg.type = PROVIDER_MAILWIZZ;
	fx->cfg.endpoint = (char *)endpoint;
	fx->cfg.api_version = version;
	fx->cfg.public_key = (char *)"PUBKEY123";
	fx->cfg.private_key = (char *)"PRIVKEY456";
	fx->cfg.api_key = (char *)"KEY-abc";
	fx->cfg.hard_action = ACT_BOTH;		/* the config's defaults */
	fx->cfg.soft_action = ACT_BOUNCE;
	fx->p.ops = &provider_mailwizz_ops;
	fx->p.cfg = &fx->cfg;
	fx->spawn = g_array_new(FALSE, TRUE, sizeof(struct action));
	assert_int_equal(fx->p.ops->init(&fx->p, fx->err, sizeof(fx->err)), 0);
	return fx;
}

static void fx_free(struct fixture *fx)
{
	fx->p.ops->release(&fx->p);
	http_req_clear(&fx->req);
	g_array_free(fx->spawn, TRUE);
	g_free(fx);
}

static int setup_v1(void **state)
{
	*state = fx_new(BASE, 1);
	return 0;
}

static int setup_v2(void **state)
{
	*state = fx_new("https://mw.example.com/api", 2);
	return 0;
}

static int teardown(void **state)
{
	fx_free(*state);
	return 0;
}

/* action - an action of OP at STEP for ADDR */
static struct action action(uint8_t op, uint8_t step, const char *addr)
{
	struct action a;

	memset(&a, 0, sizeof(a));
	a.id = 42;
	a.root = 40;
	a.op = op;
	a.step = step;
	snprintf(a.provider, sizeof(a.provider), "mw");
	snprintf(a.addr, sizeof(a.addr), "%s", addr);
	snprintf(a.list_id, sizeof(a.list_id), LIST);
	/* a bounce starts without the subscriber, unless the record named it
	   (test_parse_bounce_hinted) */
	if (op != OP_BOUNCE || step != 0)
		snprintf(a.subscriber_id, sizeof(a.subscriber_id), SUB);
	snprintf(a.campaign_id, sizeof(a.campaign_id), CAMP);
	snprintf(a.bounce_type, sizeof(a.bounce_type), "soft");
	snprintf(a.ev.dsn_diag, sizeof(a.ev.dsn_diag), "552 5.2.2 Mailbox full");
	snprintf(a.ev.category, sizeof(a.ev.category), "quota-issues");
	return a;
}

/* build - run build() for A into the fixture's (cleared) request */
static int build(struct fixture *fx, struct action *a)
{
	http_req_clear(&fx->req);
	fx->err[0] = '\0';
	return fx->p.ops->build(&fx->p, a, NOW, &fx->req, fx->err,
				sizeof(fx->err));
}

/* parse - run parse() on an answer STATUS with BODY (may be NULL) */
static enum provider_result parse(struct fixture *fx, struct action *a,
				  long status, const char *body)
{
	struct http_resp r = { status, body, body ? strlen(body) : 0,
			       "application/json" };

	g_array_set_size(fx->spawn, 0);
	fx->err[0] = '\0';
	return fx->p.ops->parse(&fx->p, a, &r, fx->spawn, fx->err,
				sizeof(fx->err));
}

/* expect_req - the request is exactly METHOD URL, HEADERS (NULL-ended), BODY */
static void expect_req(const struct http_req *req, const char *method,
		       const char *url, const char *const *headers,
		       const char *body)
{
	int i;

	assert_string_equal(req->method, method);
	assert_string_equal(req->url, url);
	for (i = 0; headers[i] != NULL; i++) {
		if (i >= req->n_headers)
			fail_msg("header %d '%s' missing", i, headers[i]);
		assert_string_equal(req->headers[i], headers[i]);
	}
	assert_int_equal(req->n_headers, i);
	if (body == NULL) {
		assert_null(req->body);
		assert_int_equal(req->body_len, 0);
	} else {
		assert_non_null(req->body);
		assert_int_equal(req->body_len, strlen(body));
		assert_memory_equal(req->body, body, req->body_len);
	}
}

/* ---- build, API v1 ---------------------------------------------------- */

static void test_v1_unsub_all(void **state)
{
	struct fixture *fx = *state;
	struct action a = action(OP_UNSUBSCRIBE, 0, "a+b&c@example.com");
	const char *h[] = {
		"Accept: application/json", "X-MW-PUBLIC-KEY: PUBKEY123",
		"X-MW-TIMESTAMP: 1700000000",
		"X-MW-SIGNATURE: d672198e0a133d669dd613a1be9edf287266a13e",
		"X-HTTP-Method-Override: PUT", FORM, NULL
	};
	const char *hs[] = {
		"Accept: application/json", "X-MW-PUBLIC-KEY: PUBKEY123",
		"X-MW-TIMESTAMP: 1700000000",
		"X-MW-SIGNATURE: ac706580e6d2b3147e844bfa174ef00abea93710", NULL
	};

	/* one call for every list, archived ones too (the body is signed) */
	assert_int_equal(build(fx, &a), 0);
	expect_req(&fx->req, "PUT", ALL_URL, h, "EMAIL=a%2Bb%26c%40example.com");
	/* a complaint asks the same */
	a.op = OP_COMPLAINT;
	assert_int_equal(build(fx, &a), 0);
	expect_req(&fx->req, "PUT", ALL_URL, h, "EMAIL=a%2Bb%26c%40example.com");
	/* step 5, for a MailWizz without that call: the search */
	a.step = 5;
	assert_int_equal(build(fx, &a), 0);
	expect_req(&fx->req, "GET", "https://mw.example.com/api/lists/"
		   "subscribers/search-by-email-in-all-lists"
		   "?EMAIL=a%2Bb%26c%40example.com", hs, NULL);
}

static void test_v1_unsub_one(void **state)
{
	struct fixture *fx = *state;
	struct action a = action(OP_UNSUBSCRIBE, 1, "john@doe.com");
	const char *h[] = {
		"Accept: application/json", "X-MW-PUBLIC-KEY: PUBKEY123",
		"X-MW-TIMESTAMP: 1700000000",
		"X-MW-SIGNATURE: 9863fc4f16f540f1e662db56fe8bce0d1f0f6449",
		"X-HTTP-Method-Override: PUT", FORM, NULL
	};

	assert_int_equal(build(fx, &a), 0);
	/* empty but present body: sent with Content-Length: 0 */
	expect_req(&fx->req, "PUT", "https://mw.example.com/api/lists/" LIST
		   "/subscribers/" SUB "/unsubscribe", h, "");
}

static void test_v1_bounce_steps(void **state)
{
	struct fixture *fx = *state;
	struct action a = action(OP_BOUNCE, 0, "john@doe.com");
	const char *h0[] = {
		"Accept: application/json", "X-MW-PUBLIC-KEY: PUBKEY123",
		"X-MW-TIMESTAMP: 1700000000",
		"X-MW-SIGNATURE: e5e7a4242bccab6531a5e7e2dff8588429ffa188", NULL
	};
	const char *h1[] = {
		"Accept: application/json", "X-MW-PUBLIC-KEY: PUBKEY123",
		"X-MW-TIMESTAMP: 1700000000",
		"X-MW-SIGNATURE: cf9dc4192e2f7ea676303e065014dad97c556fb8", NULL
	};
	const char *h2[] = {
		"Accept: application/json", "X-MW-PUBLIC-KEY: PUBKEY123",
		"X-MW-TIMESTAMP: 1700000000",
		"X-MW-SIGNATURE: f495bceb64910a71e0643cff260a0ad24862241e",
		FORM, NULL
	};

	assert_int_equal(build(fx, &a), 0);
	expect_req(&fx->req, "GET", "https://mw.example.com/api/campaigns/"
		   CAMP, h0, NULL);
	/* step 1 searches all lists: the campaign's is picked from them */
	a.step = 1;
	assert_int_equal(build(fx, &a), 0);
	expect_req(&fx->req, "GET", "https://mw.example.com/api/lists/"
		   "subscribers/search-by-email-in-all-lists"
		   "?EMAIL=john%40doe.com", h1, NULL);
	a.step = 2;
	snprintf(a.subscriber_id, sizeof(a.subscriber_id), SUB);
	assert_int_equal(build(fx, &a), 0);
	expect_req(&fx->req, "POST", "https://mw.example.com/api/campaigns/"
		   CAMP "/bounces", h2, "bounce_type=soft&message=552+5.2.2+"
		   "Mailbox+full&subscriber_uid=" SUB);
}

/* the endpoint may end with any number of '/' */
static void test_endpoint_slashes(void **state)
{
	struct fixture *a = fx_new("https://mw.example.com/api", 1);
	struct fixture *b = fx_new("https://mw.example.com/api///", 1);
	struct action x = action(OP_BOUNCE, 0, "john@doe.com");
	int i;

	(void)state;
	assert_int_equal(build(a, &x), 0);
	assert_int_equal(build(b, &x), 0);
	assert_string_equal(a->req.url, "https://mw.example.com/api/campaigns/"
			    CAMP);
	assert_string_equal(b->req.url, a->req.url);
	for (i = 0; i < a->req.n_headers; i++)
		assert_string_equal(b->req.headers[i], a->req.headers[i]);
	fx_free(a);
	fx_free(b);
}

/* ---- build, API v2 ---------------------------------------------------- */

static void test_v2(void **state)
{
	struct fixture *fx = *state;
	struct action a = action(OP_UNSUBSCRIBE, 0, "john@doe.com");
	const char *hget[] = { "Accept: application/json",
			       "X-API-KEY: KEY-abc", NULL };
	const char *hput[] = { "Accept: application/json", "X-API-KEY: KEY-abc",
			       "X-HTTP-Method-Override: PUT", FORM, NULL };
	const char *hpost[] = { "Accept: application/json",
				"X-API-KEY: KEY-abc", FORM, NULL };

	assert_int_equal(build(fx, &a), 0);
	expect_req(&fx->req, "PUT", ALL_URL, hput, "EMAIL=john%40doe.com");
	a.step = 1;
	assert_int_equal(build(fx, &a), 0);
	expect_req(&fx->req, "PUT", "https://mw.example.com/api/lists/" LIST
		   "/subscribers/" SUB "/unsubscribe", hput, "");
	a = action(OP_BOUNCE, 0, "john@doe.com");
	assert_int_equal(build(fx, &a), 0);
	expect_req(&fx->req, "GET", "https://mw.example.com/api/campaigns/"
		   CAMP, hget, NULL);
	a.step = 1;
	assert_int_equal(build(fx, &a), 0);
	expect_req(&fx->req, "GET", "https://mw.example.com/api/lists/"
		   "subscribers/search-by-email-in-all-lists"
		   "?EMAIL=john%40doe.com", hget, NULL);
	a.step = 2;
	snprintf(a.subscriber_id, sizeof(a.subscriber_id), SUB);
	snprintf(a.bounce_type, sizeof(a.bounce_type), "hard");
	assert_int_equal(build(fx, &a), 0);
	expect_req(&fx->req, "POST", "https://mw.example.com/api/campaigns/"
		   CAMP "/bounces", hpost, "bounce_type=hard&message=552+5.2.2"
		   "+Mailbox+full&subscriber_uid=" SUB);
}

/* ---- refusals --------------------------------------------------------- */

static const char *bad_uids[] = {
	"../x", "AB123CD456EF7", "ab123cd456ef", "ab123cd456ef78", "",
	"ab123cd456e/7", "ab123cd456ef%", "ab123cd456e\n7", "ab123 d456ef7",
};

static void test_uid_validation(void **state)
{
	struct fixture *fx = *state;
	size_t i;

	for (i = 0; i < sizeof(bad_uids) / sizeof(bad_uids[0]); i++) {
		struct action a;

		a = action(OP_UNSUBSCRIBE, 1, "john@doe.com");
		snprintf(a.list_id, sizeof(a.list_id), "%s", bad_uids[i]);
		assert_int_equal(build(fx, &a), -1);
		assert_non_null(strstr(fx->err, "not a MailWizz UID"));
		assert_null(strchr(fx->err, '\n'));
		assert_string_equal(fx->req.url, "");
		assert_null(fx->req.body);

		a = action(OP_UNSUBSCRIBE, 1, "john@doe.com");
		snprintf(a.subscriber_id, sizeof(a.subscriber_id), "%s",
			 bad_uids[i]);
		assert_int_equal(build(fx, &a), -1);

		a = action(OP_BOUNCE, 0, "john@doe.com");
		snprintf(a.campaign_id, sizeof(a.campaign_id), "%s",
			 bad_uids[i]);
		assert_int_equal(build(fx, &a), -1);
		assert_non_null(strstr(fx->err, "campaign"));

		a = action(OP_BOUNCE, 1, "john@doe.com");
		snprintf(a.list_id, sizeof(a.list_id), "%s", bad_uids[i]);
		assert_int_equal(build(fx, &a), -1);

		a = action(OP_BOUNCE, 2, "john@doe.com");
		snprintf(a.subscriber_id, sizeof(a.subscriber_id), "%s",
			 bad_uids[i]);
		assert_int_equal(build(fx, &a), -1);
	}
}

static void test_build_refusals(void **state)
{
	struct fixture *fx = *state;
	struct action a;

	a = action(9, 0, "john@doe.com");
	assert_int_equal(build(fx, &a), -1);
	assert_non_null(strstr(fx->err, "operation 9"));
	a = action(OP_UNSUBSCRIBE, 7, "john@doe.com");
	assert_int_equal(build(fx, &a), -1);
	a = action(OP_BOUNCE, 5, "john@doe.com");
	assert_int_equal(build(fx, &a), -1);
	a = action(OP_BOUNCE, 2, "john@doe.com");
	snprintf(a.bounce_type, sizeof(a.bounce_type), "weird");
	assert_int_equal(build(fx, &a), -1);
	assert_non_null(strstr(fx->err, "bounce type"));
	a = action(OP_UNSUBSCRIBE, 0, "");
	assert_int_equal(build(fx, &a), -1);
	assert_non_null(strstr(fx->err, "address"));
}

static void test_init_refusals(void **state)
{
	static const struct {
		const char *endpoint;
		int version;
		const char *pub, *priv, *key;
	} bad[] = {
		{ NULL, 1, "P", "S", NULL },
		{ "", 1, "P", "S", NULL },
		{ "ftp://mw.example.com/api", 1, "P", "S", NULL },
		{ "https://mw.example.com/api?x=1", 1, "P", "S", NULL },
		{ "https://mw.example.com/a pi", 1, "P", "S", NULL },
		{ "https://mw.example.com/api", 1, "P", NULL, NULL },
		{ "https://mw.example.com/api", 1, NULL, "S", NULL },
		{ "https://mw.example.com/api", 1, "P Q", "S", NULL },
		{ "https://mw.example.com/api", 1, "P", "S\r\nX: y", NULL },
		{ "https://mw.example.com/api", 2, "P", "S", NULL },
		{ "https://mw.example.com/api", 3, "P", "S", "K" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct config_provider cfg;
		struct provider p;
		char err[256] = "";

		memset(&cfg, 0, sizeof(cfg));
		cfg.name = (char *)"mw";
		cfg.type = PROVIDER_MAILWIZZ;
		cfg.endpoint = (char *)bad[i].endpoint;
		cfg.api_version = bad[i].version;
		cfg.public_key = (char *)bad[i].pub;
		cfg.private_key = (char *)bad[i].priv;
		cfg.api_key = (char *)bad[i].key;
		memset(&p, 0, sizeof(p));
		p.ops = &provider_mailwizz_ops;
		p.cfg = &cfg;
		if (p.ops->init(&p, err, sizeof(err)) != -1)
			fail_msg("case %zu accepted", i);
		assert_true(err[0] != '\0');
		assert_null(p.priv);
	}
}

/* ---- the bounce message ----------------------------------------------- */

/* expect_message - the step-2 body for DIAG and CATEGORY holds ENCODED */
static void expect_message(struct fixture *fx, const char *diag,
			   const char *category, const char *encoded)
{
	struct action a = action(OP_BOUNCE, 2, "john@doe.com");
	GString *want = g_string_new("bounce_type=soft&message=");

	snprintf(a.ev.dsn_diag, sizeof(a.ev.dsn_diag), "%s", diag);
	snprintf(a.ev.category, sizeof(a.ev.category), "%s", category);
	assert_int_equal(build(fx, &a), 0);
	g_string_append_printf(want, "%s&subscriber_uid=" SUB, encoded);
	assert_non_null(fx->req.body);
	assert_string_equal(fx->req.body, want->str);
	g_string_free(want, TRUE);
}

static void test_message(void **state)
{
	struct fixture *fx = *state;
	char diag[300], enc[300];

	/* 249 ASCII bytes then a 2-byte character across byte 250: cut before it */
	memset(diag, 'a', 249);
	memcpy(diag + 249, "\xc3\xa9" "bbb", 6);
	memset(enc, 'a', 249);
	enc[249] = '\0';
	expect_message(fx, diag, "", enc);

	/* 248 bytes then the character: it fits in 250 */
	memset(diag, 'a', 248);
	memcpy(diag + 248, "\xc3\xa9" "bbb", 6);
	memset(enc, 'a', 248);
	memcpy(enc + 248, "%C3%A9", 7);
	expect_message(fx, diag, "", enc);

	/* a 3-byte character at 249..251: cut before it */
	memset(diag, 'a', 249);
	memcpy(diag + 249, "\xe2\x82\xac" "b", 5);
	memset(enc, 'a', 249);
	enc[249] = '\0';
	expect_message(fx, diag, "", enc);

	/* long plain text: exactly 250 bytes */
	memset(diag, 'x', 299);
	diag[299] = '\0';
	memset(enc, 'x', 250);
	enc[250] = '\0';
	expect_message(fx, diag, "", enc);

	/* blanks and line breaks collapse, the ends are trimmed */
	expect_message(fx, "  smtp;550\r\n 5.1.1\tuser  unknown \n", "",
		       "smtp%3B550+5.1.1+user+unknown");
	/* invalid UTF-8 becomes U+FFFD */
	expect_message(fx, "bad \xff byte", "", "bad+%EF%BF%BD+byte");
	/* no DSN text: the category */
	expect_message(fx, "", "bad-mailbox", "bounced%3A+bad-mailbox");
	expect_message(fx, " \r\n", "", "bounced%3A+unknown");
}

/* ---- parse ------------------------------------------------------------ */

static const char search_all[] =
	"{\"status\":\"success\",\"data\":{\"records\":["
	"{\"subscriber_uid\":\"s1aaaaaaaaaaa\",\"email\":\"john@doe.com\","
	" \"status\":\"confirmed\",\"source\":\"api\",\"ip_address\":\"\","
	" \"list\":{\"list_uid\":\"l1aaaaaaaaaaa\",\"display_name\":\"One\","
	"  \"name\":\"one\"},\"date_added\":\"2024-01-01 00:00:00\"},"
	"{\"subscriber_uid\":\"s2aaaaaaaaaaa\",\"email\":\"john@doe.com\","
	" \"status\":\"unsubscribed\",\"list\":{\"list_uid\":\"l2aaaaaaaaaaa\"}},"
	"{\"subscriber_uid\":\"s3aaaaaaaaaaa\",\"email\":\"john@doe.com\","
	" \"status\":\"blacklisted\",\"list\":{\"list_uid\":\"l3aaaaaaaaaaa\"}},"
	"{\"subscriber_uid\":\"s4aaaaaaaaaaa\",\"email\":\"JOHN@doe.com\","
	" \"status\":\"unconfirmed\",\"list\":{\"list_uid\":\"l4aaaaaaaaaaa\"}},"
	"{\"subscriber_uid\":\"s5aaaaaaaaaaa\",\"email\":\"john@doe.com\","
	" \"status\":\"unapproved\",\"list\":{\"list_uid\":\"l5aaaaaaaaaaa\"}}"
	"],\"count\":5,\"current_page\":1,\"next_page\":null,"
	"\"prev_page\":null,\"total_pages\":1}}";

static void test_parse_search_all(void **state)
{
	struct fixture *fx = *state;
	struct action a = action(OP_COMPLAINT, 5, "john@doe.com");
	static const char *want[][2] = {
		{ "l1aaaaaaaaaaa", "s1aaaaaaaaaaa" },
		{ "l4aaaaaaaaaaa", "s4aaaaaaaaaaa" },
		{ "l5aaaaaaaaaaa", "s5aaaaaaaaaaa" },
	};
	size_t i;

	a.attempts = 3;
	snprintf(a.last_error, sizeof(a.last_error), "earlier trouble");
	a.list_id[0] = a.subscriber_id[0] = '\0';
	assert_int_equal(parse(fx, &a, 200, search_all), PROVIDER_DONE);
	assert_int_equal(fx->spawn->len, 3);
	for (i = 0; i < 3; i++) {
		const struct action *c = &g_array_index(fx->spawn,
							struct action, i);

		assert_int_equal(c->op, OP_COMPLAINT);
		assert_int_equal(c->step, 1);
		assert_int_equal(c->root, 40);
		assert_int_equal(c->id, 0);
		assert_int_equal(c->attempts, 0);
		assert_string_equal(c->last_error, "");
		assert_string_equal(c->addr, "john@doe.com");
		assert_string_equal(c->provider, "mw");
		assert_string_equal(c->list_id, want[i][0]);
		assert_string_equal(c->subscriber_id, want[i][1]);
	}
	/* the parent itself is not changed */
	assert_int_equal(a.step, 5);

	/* no membership: done, nothing spawned */
	assert_int_equal(parse(fx, &a, 200, "{\"status\":\"success\",\"data\":"
			       "{\"records\":[],\"count\":0}}"), PROVIDER_DONE);
	assert_int_equal(fx->spawn->len, 0);
}

/* a membership with a malformed UID is spawned, and its build() refuses */
static void test_parse_search_all_bad_uid(void **state)
{
	struct fixture *fx = *state;
	struct action a = action(OP_UNSUBSCRIBE, 5, "john@doe.com");
	struct action c;

	assert_int_equal(parse(fx, &a, 200, "{\"status\":\"success\",\"data\":"
			       "{\"records\":[{\"subscriber_uid\":\"../x\","
			       "\"status\":\"confirmed\",\"list\":{\"list_uid\":"
			       "\"l1aaaaaaaaaaa\"}},{\"status\":\"confirmed\"}]}}"),
			 PROVIDER_DONE);
	assert_int_equal(fx->spawn->len, 2);
	c = g_array_index(fx->spawn, struct action, 0);
	assert_int_equal(build(fx, &c), -1);
	assert_non_null(strstr(fx->err, "../x"));
	c = g_array_index(fx->spawn, struct action, 1);
	assert_string_equal(c.list_id, "");
	assert_int_equal(build(fx, &c), -1);
}

static void test_parse_search_all_errors(void **state)
{
	struct fixture *fx = *state;
	struct action a = action(OP_UNSUBSCRIBE, 5, "john@doe.com");

	/* not JSON at all in a 200 (a proxy page, a cut answer): retry */
	assert_int_equal(parse(fx, &a, 200, "<html>Bad gateway</html>"),
			 PROVIDER_RETRY);
	assert_non_null(strstr(fx->err, "not JSON"));
	assert_int_equal(parse(fx, &a, 200, "{\"status\":\"succ"),
			 PROVIDER_RETRY);
	assert_int_equal(parse(fx, &a, 200, NULL), PROVIDER_RETRY);
	/* JSON of the wrong shape: permanent */
	assert_int_equal(parse(fx, &a, 200, "{\"status\":\"success\"}"),
			 PROVIDER_FAILED);
	assert_non_null(strstr(fx->err, "records"));
	assert_int_equal(parse(fx, &a, 200, "{\"status\":\"error\","
			       "\"error\":\"nope\"}"), PROVIDER_FAILED);
	assert_non_null(strstr(fx->err, "nope"));
	assert_int_equal(parse(fx, &a, 200, "[1,2]"), PROVIDER_FAILED);
	/* refusals carry MailWizz's text */
	assert_int_equal(parse(fx, &a, 422, "{\"status\":\"error\",\"error\":"
			       "\"Please provide a valid email address.\"}"),
			 PROVIDER_FAILED);
	assert_non_null(strstr(fx->err, "HTTP 422"));
	assert_non_null(strstr(fx->err, "valid email"));
	/* field errors: never MailWizz's answer to this call (it saves no
	   model), so not taken for a lost address either; said as such */
	assert_int_equal(parse(fx, &a, 422, "{\"status\":\"error\",\"error\":"
			       "{\"email\":\"Email is not a valid email "
			       "address.\"}}"), PROVIDER_FAILED);
	assert_non_null(strstr(fx->err, "search in all lists: HTTP 422: "
			       "email: Email is not a valid email address.: "
			       "not an answer of MailWizz's own"));
	assert_null(strstr(fx->err, "did not reach"));
	assert_string_equal(a.notice, "");
	/* ... but an address its validator refuses is on no list at all */
	snprintf(a.addr, sizeof(a.addr), "a..b@doe.com");
	assert_int_equal(parse(fx, &a, 422, "{\"status\":\"error\",\"error\":"
			       "[]}"), PROVIDER_DONE);
	assert_non_null(strstr(a.notice, "refuses"));
	snprintf(a.addr, sizeof(a.addr), "john@doe.com");
	a.notice[0] = '\0';
	/* keys, signature, clock: the provider is paused, nothing fails */
	assert_int_equal(parse(fx, &a, 400, "{\"status\":\"error\",\"error\":"
			       "\"Invalid API request signature. Please refer "
			       "to the documentation.\"}"), PROVIDER_PAUSE);
	assert_non_null(strstr(fx->err, "signature"));
	assert_int_equal(parse(fx, &a, 401, ""), PROVIDER_PAUSE);
	assert_int_equal(parse(fx, &a, 404, "{\"status\":\"error\","
			       "\"error\":\"Page not found.\"}"),
			 PROVIDER_FAILED);
	/* a request timeout heals */
	assert_int_equal(parse(fx, &a, 408, ""), PROVIDER_RETRY);
	/* not JSON in a refusal: the page's text, one line, no markup */
	assert_int_equal(parse(fx, &a, 403, "<h1>Forbidden</h1>\r\nby proxy"),
			 PROVIDER_PAUSE);
	assert_non_null(strstr(fx->err, "HTTP 403: Forbidden by proxy"));
	assert_int_equal(fx->spawn->len, 0);
}

static void test_parse_unsub_one(void **state)
{
	struct fixture *fx = *state;
	struct action a = action(OP_UNSUBSCRIBE, 1, "john@doe.com");

	assert_int_equal(parse(fx, &a, 200, "{\"status\":\"success\"}"),
			 PROVIDER_DONE);
	/* gone: nothing left to unsubscribe */
	assert_int_equal(parse(fx, &a, 404, "{\"status\":\"error\",\"error\":"
			       "\"The subscriber does not exist in this list.\"}"),
			 PROVIDER_DONE);
	/* the status code says it: a body we cannot read does not matter */
	assert_int_equal(parse(fx, &a, 200, "OK"), PROVIDER_DONE);
	assert_int_equal(parse(fx, &a, 200, "{\"status\":\"error\","
			       "\"error\":\"odd\"}"), PROVIDER_FAILED);
	assert_int_equal(parse(fx, &a, 400, "{\"status\":\"error\",\"error\":"
			       "\"Your request expired.\"}"), PROVIDER_PAUSE);
	assert_non_null(strstr(fx->err, "expired"));
	assert_int_equal(parse(fx, &a, 302, ""), PROVIDER_FAILED);
	assert_int_equal(fx->spawn->len, 0);
}

static const char campaign_ok[] =
	"{\"status\":\"success\",\"data\":{\"record\":{\"campaign_uid\":\""
	CAMP "\",\"name\":\"November\",\"type\":\"regular\",\"status\":"
	"\"sent\",\"list\":{\"list_uid\":\"" LIST "\",\"name\":\"news\","
	"\"subscribers_count\":3},\"segment\":null}}}";

/* the search of step 1 when the address is on the campaign's list LIST
   (second of three memberships) */
static const char search_on_list[] =
	"{\"status\":\"success\",\"data\":{\"records\":["
	"{\"subscriber_uid\":\"s1aaaaaaaaaaa\",\"email\":\"john@doe.com\","
	" \"status\":\"confirmed\",\"list\":{\"list_uid\":\"l1aaaaaaaaaaa\","
	"  \"display_name\":\"One\",\"name\":\"one\"}},"
	"{\"subscriber_uid\":\"" SUB "\",\"email\":\"john@doe.com\","
	" \"status\":\"confirmed\",\"source\":\"api\",\"list\":{\"list_uid\":"
	"  \"" LIST "\",\"display_name\":\"News\",\"name\":\"news\"},"
	" \"date_added\":\"2024-01-01 00:00:00\"},"
	"{\"subscriber_uid\":\"s4aaaaaaaaaaa\",\"email\":\"john@doe.com\","
	" \"status\":\"unconfirmed\",\"list\":{\"list_uid\":\"l4aaaaaaaaaaa\"}}"
	"],\"count\":3,\"current_page\":1,\"next_page\":null,"
	"\"prev_page\":null,\"total_pages\":1}}";

/* the answers of a recorded bounce, as MailWizz files it */
#define POSTED(type)							\
	"{\"status\":\"success\",\"data\":{\"record\":{\"message\":\"m\","	\
	"\"processed\":\"no\",\"bounce_type\":\"" type "\",\"subscriber\":" \
	"{\"subscriber_uid\":\"" SUB "\",\"email\":\"john@doe.com\"}}}}"
#define ALREADY "{\"status\":\"error\",\"error\":\"This subscriber has " \
	"already been marked as bounced!\"}"
#define POSTED_AS(type, email)						\
	"{\"status\":\"success\",\"data\":{\"record\":{\"message\":\"m\","	\
	"\"processed\":\"no\",\"bounce_type\":\"" type "\",\"subscriber\":" \
	"{\"subscriber_uid\":\"" SUB "\",\"email\":\"" email "\"}}}}"

/* CampaignBounceLog::save() failed: shortErrors->getAll(), by field (a
   rule an extension added), or PHP's [] (a filter refused, saying
   nothing); a bounce_type taken off the list by an extension's filter */
#define REFUSED_FIELDS "{\"status\":\"error\",\"error\":{\"message\":" \
	"\"Message is too long (maximum is 100 characters).\"}}"
#define REFUSED_EMPTY "{\"status\":\"error\",\"error\":[]}"
#define INVALID_TYPE "{\"status\":\"error\",\"error\":\"Invalid bounce " \
	"type!\"}"

/* bounce - an OP_BOUNCE action at STEP of TYPE ("hard" or "soft"); a hard
   one is the bounce that suppressed its address */
static struct action bounce(uint8_t step, const char *type)
{
	struct action a = action(OP_BOUNCE, step, "john@doe.com");

	snprintf(a.bounce_type, sizeof(a.bounce_type), "%s", type);
	if (strcmp(type, "hard") == 0)
		a.flags = ACTION_F_SUPPRESS;
	a.attempts = 2;
	snprintf(a.last_error, sizeof(a.last_error), "earlier trouble");
	return a;
}

/* expect_unsub_all - A goes on to step 4, the unsubscribe from all lists,
   whose answer ends it */
static void expect_unsub_all(struct fixture *fx, struct action *a)
{
	assert_int_equal(a->step, 4);
	assert_int_equal(fx->spawn->len, 0);
	assert_int_equal(build(fx, a), 0);
	assert_string_equal(fx->req.method, "PUT");
	assert_string_equal(fx->req.url, ALL_URL);
	assert_string_equal(fx->req.body, "EMAIL=john%40doe.com");
	assert_int_equal(parse(fx, a, 200, "{\"status\":\"success\"}"),
			 PROVIDER_DONE);
	assert_int_equal(fx->spawn->len, 0);
}

/* one_child - the one child the last parse() spawned: new, of OP at
   STEP, without flags */
static struct action one_child(struct fixture *fx, uint8_t op, uint8_t step)
{
	struct action c;

	assert_int_equal(fx->spawn->len, 1);
	c = g_array_index(fx->spawn, struct action, 0);
	assert_int_equal(c.op, op);
	assert_int_equal(c.step, step);
	assert_int_equal(c.id, 0);
	assert_int_equal(c.flags, 0);
	return c;
}

#define SEARCH_URL "https://mw.example.com/api/lists/subscribers/" \
	"search-by-email-in-all-lists?EMAIL=john%40doe.com"
#define PUT_URL(l, s) "https://mw.example.com/api/lists/" l "/subscribers/" \
	s "/unsubscribe"

static void test_parse_bounce(void **state)
{
	struct fixture *fx = *state;
	struct action a = bounce(0, "hard");

	a.list_id[0] = a.subscriber_id[0] = '\0';
	assert_int_equal(parse(fx, &a, 200, campaign_ok), PROVIDER_CONTINUE);
	assert_int_equal(a.step, 1);
	assert_string_equal(a.list_id, LIST);
	assert_int_equal(fx->spawn->len, 0);

	/* the membership of the campaign's list is picked, not the first */
	assert_int_equal(parse(fx, &a, 200, search_on_list), PROVIDER_CONTINUE);
	assert_int_equal(a.step, 2);
	assert_string_equal(a.list_id, LIST);
	assert_string_equal(a.subscriber_id, SUB);
	assert_int_equal(fx->spawn->len, 0);

	/* taken as hard: MailWizz blacklisted a confirmed subscriber at
	   most; the other lists are MailWizz's to keep unless unsubscribed */
	assert_int_equal(parse(fx, &a, 201, POSTED("hard")), PROVIDER_CONTINUE);
	expect_unsub_all(fx, &a);
	assert_string_equal(a.notice, "");
}

/* the record named the subscriber (X-Mw-Subscriber-Uid): one POST, no
   campaign or search call; MailWizz takes the uid of any list, so the
   answer's address is checked */
static void test_parse_bounce_hinted(void **state)
{
	struct fixture *fx = *state;
	struct action a = bounce(0, "hard");

	a.list_id[0] = '\0';
	snprintf(a.subscriber_id, sizeof(a.subscriber_id), SUB);
	assert_int_equal(build(fx, &a), 1);
	assert_int_equal(a.step, 3);
	assert_int_equal(build(fx, &a), 0);
	assert_string_equal(fx->req.method, "POST");
	assert_string_equal(fx->req.url, "https://mw.example.com/api/campaigns/"
			    CAMP "/bounces");
	assert_non_null(strstr(fx->req.body, "subscriber_uid=" SUB));
	assert_int_equal(parse(fx, &a, 201, POSTED("hard")), PROVIDER_CONTINUE);
	expect_unsub_all(fx, &a);

	/* no such subscriber: forget the UID, ask for the campaign */
	a = bounce(3, "hard");
	assert_int_equal(parse(fx, &a, 404, "{\"status\":\"error\",\"error\":"
			       "\"The subscriber does not exist!\"}"),
			 PROVIDER_CONTINUE);
	assert_int_equal(a.step, 0);
	assert_string_equal(a.subscriber_id, "");
	assert_int_equal(build(fx, &a), 0);
	assert_string_equal(fx->req.method, "GET");
	assert_string_equal(fx->req.url, "https://mw.example.com/api/campaigns/"
			    CAMP);

	/* the uid is someone else's: said as an error, then the address is
	   looked up by itself */
	a = bounce(3, "hard");
	assert_int_equal(parse(fx, &a, 201, POSTED_AS("hard",
						      "carol@example.com")),
			 PROVIDER_CONTINUE);
	assert_int_equal(a.step, 0);
	assert_string_equal(a.subscriber_id, "");
	assert_int_equal(a.notice_level, NOTICE_ERROR);
	assert_non_null(strstr(a.notice, "carol@example.com"));
	assert_non_null(strstr(a.notice, "not john@doe.com"));
	assert_non_null(strstr(a.notice, SUB));
	assert_int_equal(fx->spawn->len, 0);

	/* a masked answer is compared as a pattern */
	a = bounce(3, "hard");
	assert_int_equal(parse(fx, &a, 201, POSTED_AS("hard", "j**n@d*e.com")),
			 PROVIDER_CONTINUE);
	assert_int_equal(a.step, 4);
	assert_string_equal(a.notice, "");
	a = bounce(3, "hard");
	assert_int_equal(parse(fx, &a, 201, POSTED_AS("hard", "j***x@d*e.com")),
			 PROVIDER_CONTINUE);
	assert_int_equal(a.step, 0);
	assert_non_null(strstr(a.notice, "j***x@d*e.com"));

	/* 422 "already marked as bounced" names nobody: the uid's
	   subscriber has this campaign's bounce, which may be another
	   address's (or another list's); the address is looked up by itself
	   (without a notice: mostly MailWizz recorded it already), and only
	   a 422 to the uid found so (step 2) is done */
	a = bounce(3, "hard");
	assert_int_equal(parse(fx, &a, 422, ALREADY), PROVIDER_CONTINUE);
	assert_int_equal(a.step, 0);
	assert_string_equal(a.subscriber_id, "");
	assert_string_equal(a.notice, "");
	assert_int_equal(fx->spawn->len, 0);
	assert_int_equal(build(fx, &a), 0);
	assert_string_equal(fx->req.method, "GET");
	assert_string_equal(fx->req.url, "https://mw.example.com/api/campaigns/"
			    CAMP);
	a = bounce(3, "soft");
	assert_int_equal(parse(fx, &a, 422, "{\"status\":\"error\",\"error\":"
			       "\"Dieser Abonnent wurde bereits als "
			       "zur\xc3\xbc" "ckgesprungen markiert!\"}"),
			 PROVIDER_CONTINUE);
	assert_int_equal(a.step, 0);
	assert_string_equal(a.subscriber_id, "");
	/* so does a refusal of the bounce (its bounce log's field errors,
	   PHP's [] without one, the type): it says nothing of whose the uid
	   is, and only the answer to the uid found on the campaign's list
	   decides (it was a dead letter, the address left subscribed) */
	{
		static const char *const refusals[] = {
			REFUSED_FIELDS, REFUSED_EMPTY, INVALID_TYPE,
		};
		size_t i;

		for (i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
			a = bounce(3, "hard");
			assert_int_equal(parse(fx, &a, 422, refusals[i]),
					 PROVIDER_CONTINUE);
			assert_int_equal(a.step, 0);
			assert_string_equal(a.subscriber_id, "");
			assert_string_equal(a.notice, "");
			assert_int_equal(fx->spawn->len, 0);
		}
	}

	/* a malformed UID from the record is not a hint */
	a = bounce(0, "hard");
	snprintf(a.subscriber_id, sizeof(a.subscriber_id), "ZZ123/../x");
	assert_int_equal(build(fx, &a), 0);
	assert_string_equal(fx->req.url, "https://mw.example.com/api/campaigns/"
			    CAMP);
}

/* a subscriber known by its ids only ("uid:" key): no search */
static void test_unsub_by_ids(void **state)
{
	struct fixture *fx = *state;
	struct action a = action(OP_UNSUBSCRIBE, 0, "uid:mw:" SUB);

	/* an unsubscribe mail naming list and campaign: track, then PUT */
	a.klass = CLASS_UNSUB;
	assert_int_equal(build(fx, &a), 1);
	assert_int_equal(a.step, 2);
	assert_int_equal(build(fx, &a), 0);
	assert_string_equal(fx->req.method, "POST");
	assert_string_equal(fx->req.url, "https://mw.example.com/api/campaigns/"
			    CAMP "/track-unsubscribe/" SUB);
	assert_int_equal(parse(fx, &a, 200, "{\"status\":\"success\"}"),
			 PROVIDER_CONTINUE);
	assert_int_equal(a.step, 1);
	assert_int_equal(build(fx, &a), 0);
	assert_string_equal(fx->req.url, PUT_URL(LIST, SUB));

	/* the campaign but not the list: the campaign's list first */
	a = action(OP_UNSUBSCRIBE, 0, "uid:mw:" SUB);
	a.klass = CLASS_UNSUB;
	a.list_id[0] = '\0';
	assert_int_equal(build(fx, &a), 1);
	assert_int_equal(a.step, 3);
	assert_int_equal(build(fx, &a), 0);
	assert_string_equal(fx->req.url, "https://mw.example.com/api/campaigns/"
			    CAMP);
	assert_int_equal(parse(fx, &a, 200, campaign_ok), PROVIDER_CONTINUE);
	assert_int_equal(a.step, 2);
	assert_string_equal(a.list_id, LIST);
	/* ...and from the cache the next time */
	a = action(OP_UNSUBSCRIBE, 0, "uid:mw:" SUB);
	a.klass = CLASS_UNSUB;
	a.list_id[0] = '\0';
	assert_int_equal(build(fx, &a), 1);
	assert_int_equal(a.step, 2);
	assert_string_equal(a.list_id, LIST);

	/* a campaign whose list is gone: the unsubscribe on the campaign
	   (which unsubscribes the subscriber) and nothing more */
	a = action(OP_UNSUBSCRIBE, 3, "uid:mw:" SUB);
	a.klass = CLASS_UNSUB;
	snprintf(a.campaign_id, sizeof(a.campaign_id), "dd123cd456ef7");
	a.list_id[0] = '\0';
	assert_int_equal(parse(fx, &a, 200, "{\"status\":\"success\",\"data\":"
			       "{\"record\":{\"list\":[]}}}"), PROVIDER_CONTINUE);
	assert_int_equal(a.step, 2);
	assert_int_equal(parse(fx, &a, 200, "{\"status\":\"success\"}"),
			 PROVIDER_DONE);

	/* a complaint about a hidden recipient: the PUT, then who it is */
	a = action(OP_COMPLAINT, 0, "uid:mw:" SUB);
	a.klass = CLASS_COMPLAINT;
	assert_int_equal(build(fx, &a), 1);
	assert_int_equal(a.step, 1);
	assert_int_equal(parse(fx, &a, 200, "{\"status\":\"success\"}"),
			 PROVIDER_CONTINUE);
	assert_int_equal(a.step, 4);
	assert_int_equal(build(fx, &a), 0);
	assert_string_equal(fx->req.method, "GET");
	assert_string_equal(fx->req.url, "https://mw.example.com/api/lists/"
			    LIST "/subscribers/" SUB);
	assert_int_equal(parse(fx, &a, 200, "{\"status\":\"success\",\"data\":"
			       "{\"record\":{\"EMAIL\":\"Hidden@Example.ORG\"}}}"),
			 PROVIDER_DONE);
	assert_string_equal(a.resolved, "hidden@example.org");
	/* not an address, masked, or not found: done, nothing resolved */
	a.step = 4;
	assert_int_equal(parse(fx, &a, 200, "{\"status\":\"success\",\"data\":"
			       "{\"record\":{\"EMAIL\":\"x@y@z\"}}}"),
			 PROVIDER_DONE);
	assert_string_equal(a.resolved, "");
	a.step = 4;
	assert_int_equal(parse(fx, &a, 200, "{\"status\":\"success\",\"data\":"
			       "{\"record\":{\"EMAIL\":\"h****n@e*****e.org\"}}}"),
			 PROVIDER_DONE);
	assert_string_equal(a.resolved, "");
	assert_non_null(strstr(a.notice, "masks"));
	a.step = 4;
	assert_int_equal(parse(fx, &a, 404, NULL), PROVIDER_DONE);
	assert_string_equal(a.resolved, "");

	/* nothing names the list */
	a = action(OP_COMPLAINT, 0, "uid:mw:" SUB);
	a.list_id[0] = a.campaign_id[0] = '\0';
	assert_int_equal(build(fx, &a), -1);
	assert_non_null(strstr(fx->err, "neither its list"));
}

/* the unsubscribe from all lists: done, or the search way on a MailWizz
   without that call */
static void test_parse_unsub_all(void **state)
{
	struct fixture *fx = *state;
	struct action a = action(OP_UNSUBSCRIBE, 0, "john@doe.com");
	struct action c;

	assert_int_equal(parse(fx, &a, 200, "{\"status\":\"success\"}"),
			 PROVIDER_DONE);
	assert_int_equal(parse(fx, &a, 200, "garbage"), PROVIDER_RETRY);
	/* before MailWizz 1.4.4: the search and one PUT per list */
	assert_int_equal(parse(fx, &a, 404, "{\"status\":\"error\",\"error\":"
			       "\"Unable to resolve the request.\"}"),
			 PROVIDER_CONTINUE);
	assert_int_equal(a.step, 5);
	assert_int_equal(build(fx, &a), 0);
	assert_string_equal(fx->req.url, SEARCH_URL);
	/* an address MailWizz's validator refuses can be on none of its
	   lists: done; a 422 for one it takes means the address did not
	   arrive (a body dropped on the way): failed, not done */
	{
		static const struct {
			const char *addr;
			enum provider_result want;
		} cases[] = {
			{ "jos\xc3\xa9@doe.com", PROVIDER_DONE },
			{ "a..b@doe.com", PROVIDER_DONE },
			{ "a.@doe.com", PROVIDER_DONE },
			{ "\"a b\"@doe.com", PROVIDER_DONE },
			{ "john@localhost", PROVIDER_DONE },
			{ "john@-doe.com", PROVIDER_DONE },
			{ "john@doe-.com", PROVIDER_DONE },
			{ "john@doe..com", PROVIDER_DONE },
			{ "john@[192.0.2.1]", PROVIDER_DONE },
			{ "john@doe.com", PROVIDER_FAILED },
			{ "j.o+h~n'{x}@mail.doe-x.co", PROVIDER_FAILED },
			{ "j@xn--bcher-kva.example", PROVIDER_FAILED },
			{ "j@d.c", PROVIDER_FAILED },
		};
		size_t i;

		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			a = action(OP_COMPLAINT, 0, cases[i].addr);
			a.notice[0] = '\0';
			fx->err[0] = '\0';
			assert_int_equal(parse(fx, &a, 422, "{\"status\":"
					       "\"error\",\"error\":\"Please "
					       "provide a valid email "
					       "address.\"}"), cases[i].want);
			if (cases[i].want == PROVIDER_DONE) {
				assert_non_null(strstr(a.notice, "refuses"));
			} else {
				assert_string_equal(a.notice, "");
				assert_non_null(strstr(fx->err, "did not reach"));
				assert_non_null(strstr(fx->err, "valid email"));
			}
		}
	}
	a = action(OP_COMPLAINT, 0, "john@doe.com");
	assert_int_equal(parse(fx, &a, 400, "{\"status\":\"error\",\"error\":"
			       "\"Invalid API key.\"}"), PROVIDER_PAUSE);
	/* after a bounce the fallback is a child: the bounce is done */
	a = bounce(4, "hard");
	assert_int_equal(parse(fx, &a, 404, "{\"status\":\"error\"}"),
			 PROVIDER_DONE);
	c = one_child(fx, OP_UNSUBSCRIBE, 5);
	assert_int_equal(build(fx, &c), 0);
	assert_string_equal(fx->req.url, SEARCH_URL);
}

#define IDN "hans@xn--bcher-kva.example"
#define IDN_U_QUERY "EMAIL=hans%40b%C3%BCcher.example"
#define SEARCH_U_URL "https://mw.example.com/api/lists/subscribers/" \
	"search-by-email-in-all-lists?" IDN_U_QUERY

/* a search of the Unicode form: the address as typed (twice: capitals),
   one that differs by its accent only (MailWizz's collation finds it),
   and one unsubscribed */
static const char search_unicode[] =
	"{\"status\":\"success\",\"data\":{\"records\":["
	"{\"subscriber_uid\":\"s1aaaaaaaaaaa\",\"email\":\"hans@b\xc3\xbc" "cher.example\","
	" \"status\":\"confirmed\",\"list\":{\"list_uid\":\"l1aaaaaaaaaaa\"}},"
	"{\"subscriber_uid\":\"s2aaaaaaaaaaa\",\"email\":\"hans@bucher.example\","
	" \"status\":\"confirmed\",\"list\":{\"list_uid\":\"" LIST "\"}},"
	"{\"subscriber_uid\":\"s3aaaaaaaaaaa\",\"email\":\"HANS@B\xc3\x9c" "CHER.example\","
	" \"status\":\"confirmed\",\"list\":{\"list_uid\":\"l3aaaaaaaaaaa\"}},"
	"{\"subscriber_uid\":\"s4aaaaaaaaaaa\",\"email\":\"hans@b\xc3\xbc" "cher.example\","
	" \"status\":\"unsubscribed\",\"list\":{\"list_uid\":\"l4aaaaaaaaaaa\"}}"
	"],\"count\":4}}";

/* an address whose domain has a Unicode form: after the unsubscribe from
   all lists (the form the mail went to), a child searches the Unicode form
   (MailWizz keeps the address as typed and compares with "=") and
   unsubscribes the memberships that are this address, not those its
   collation finds because they differ by an accent only */
static void test_unicode_form_unsub(void **state)
{
	struct fixture *fx = *state;
	struct action a = action(OP_COMPLAINT, 0, IDN), c, g;

	a.list_id[0] = a.subscriber_id[0] = '\0';
	assert_int_equal(build(fx, &a), 0);
	assert_string_equal(fx->req.body, "EMAIL=hans%40xn--bcher-kva.example");
	assert_int_equal(parse(fx, &a, 200, "{\"status\":\"success\"}"),
			 PROVIDER_DONE);
	c = one_child(fx, OP_COMPLAINT, 6);
	assert_string_equal(c.addr, IDN);
	assert_int_equal(build(fx, &c), 0);
	assert_string_equal(fx->req.method, "GET");
	assert_string_equal(fx->req.url, SEARCH_U_URL);
	assert_int_equal(parse(fx, &c, 200, search_unicode), PROVIDER_DONE);
	assert_int_equal(fx->spawn->len, 2);
	g = g_array_index(fx->spawn, struct action, 0);
	assert_int_equal(g.step, 1);
	assert_string_equal(g.list_id, "l1aaaaaaaaaaa");
	assert_string_equal(g.subscriber_id, "s1aaaaaaaaaaa");
	g = g_array_index(fx->spawn, struct action, 1);
	assert_string_equal(g.list_id, "l3aaaaaaaaaaa");
	assert_string_equal(g.subscriber_id, "s3aaaaaaaaaaa");
	/* a MailWizz whose validator refuses Unicode domains: done */
	c.notice[0] = '\0';
	assert_int_equal(parse(fx, &c, 422, "{\"status\":\"error\",\"error\":"
			       "\"Please provide a valid email address.\"}"),
			 PROVIDER_DONE);
	assert_int_equal(fx->spawn->len, 0);
	assert_int_equal(c.notice_level, NOTICE_INFO);
	assert_non_null(strstr(c.notice, "Unicode"));

	/* the search way of an older MailWizz searches both forms */
	a = action(OP_UNSUBSCRIBE, 5, IDN);
	a.list_id[0] = a.subscriber_id[0] = '\0';
	assert_int_equal(parse(fx, &a, 200, "{\"status\":\"success\",\"data\":"
			       "{\"records\":[],\"count\":0}}"), PROVIDER_DONE);
	one_child(fx, OP_UNSUBSCRIBE, 6);
	/* after a bounce's unsubscribe from all lists: an unsubscribe */
	a = action(OP_BOUNCE, 4, IDN);
	assert_int_equal(parse(fx, &a, 200, "{\"status\":\"success\"}"),
			 PROVIDER_DONE);
	c = one_child(fx, OP_UNSUBSCRIBE, 6);
	assert_string_equal(c.list_id, "");
	assert_string_equal(c.subscriber_id, "");
	/* an address with no other form: no child */
	a = action(OP_UNSUBSCRIBE, 0, "john@doe.com");
	assert_int_equal(parse(fx, &a, 200, "{\"status\":\"success\"}"),
			 PROVIDER_DONE);
	assert_int_equal(fx->spawn->len, 0);
	/* and no step 6 for it either */
	a.step = 6;
	assert_int_equal(build(fx, &a), -1);
	assert_non_null(strstr(fx->err, "no Unicode form"));
}

/* a bounce of an address whose domain has a Unicode form: not found on
   the campaign's list by the form the mail went to, it is searched by
   its Unicode form; a record of another address is never taken */
static void test_unicode_form_bounce(void **state)
{
	struct fixture *fx = *state;
	struct action a = action(OP_BOUNCE, 1, IDN);
	char one[1024];
	int i;

	snprintf(a.bounce_type, sizeof(a.bounce_type), "hard");
	a.flags = ACTION_F_SUPPRESS;
	a.subscriber_id[0] = '\0';
	/* the search by the ASCII form names the subscriber that differs by
	   an accent (it cannot, but a collation might): not taken */
	snprintf(one, sizeof(one), "{\"status\":\"success\",\"data\":{"
		 "\"records\":[{\"subscriber_uid\":\"s2aaaaaaaaaaa\","
		 "\"email\":\"hans@bucher.example\",\"status\":\"confirmed\","
		 "\"list\":{\"list_uid\":\"%s\"}}],\"count\":1}}", LIST);
	assert_int_equal(parse(fx, &a, 200, one), PROVIDER_CONTINUE);
	assert_int_equal(a.step, 5);
	assert_string_equal(a.subscriber_id, "");
	assert_int_equal(build(fx, &a), 0);
	assert_string_equal(fx->req.url, SEARCH_U_URL);
	/* the Unicode form finds the subscriber as typed on the list */
	snprintf(one, sizeof(one), "{\"status\":\"success\",\"data\":{"
		 "\"records\":[{\"subscriber_uid\":\"s2aaaaaaaaaaa\","
		 "\"email\":\"hans@bucher.example\",\"status\":\"confirmed\","
		 "\"list\":{\"list_uid\":\"%s\"}},"
		 "{\"subscriber_uid\":\"s5aaaaaaaaaaa\","
		 "\"email\":\"Hans@B\xc3\xbc" "cher.example\",\"status\":"
		 "\"confirmed\",\"list\":{\"list_uid\":\"%s\"}}],"
		 "\"count\":2}}", LIST, LIST);
	assert_int_equal(parse(fx, &a, 200, one), PROVIDER_CONTINUE);
	assert_int_equal(a.step, 2);
	assert_string_equal(a.subscriber_id, "s5aaaaaaaaaaa");
	/* not there in that form either, or refused in it (said): the
	   bounce steps end, on to the unsubscribe from all lists (the form
	   the mail went to) */
	for (i = 0; i < 2; i++) {
		a.step = 5;
		a.subscriber_id[0] = a.notice[0] = '\0';
		assert_int_equal(parse(fx, &a, i ? 422 : 200, i ?
				       "{\"status\":\"error\",\"error\":"
				       "\"Please provide a valid email "
				       "address.\"}" :
				       "{\"status\":\"success\",\"data\":"
				       "{\"records\":[],\"count\":0}}"),
				 PROVIDER_CONTINUE);
		assert_int_equal(a.step, 4);
		assert_int_equal(strstr(a.notice, "Unicode") != NULL, i);
		assert_int_equal(build(fx, &a), 0);
		assert_string_equal(fx->req.body,
				    "EMAIL=hans%40xn--bcher-kva.example");
	}
	/* an address with no other form: not found is the end of it */
	a = bounce(1, "soft");
	a.subscriber_id[0] = '\0';
	assert_int_equal(parse(fx, &a, 200, "{\"status\":\"success\",\"data\":"
			       "{\"records\":[],\"count\":0}}"), PROVIDER_DONE);
	assert_int_equal(a.step, 1);
}

/* step 1: the address is not on the campaign's list: nothing to record,
   the unsubscribe still follows where asked */
static void test_parse_bounce_not_on_list(void **state)
{
	static const struct {
		const char *type;
		int hard_action;
		bool unsub;
	} cases[] = {
		{ "hard", ACT_BOTH, true },
		{ "hard", ACT_UNSUBSCRIBE, true },
		{ "hard", ACT_BOUNCE, false },
		{ "soft", ACT_BOTH, false },
		{ "soft", ACT_BOUNCE, false },
	};
	struct fixture *fx = *state;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct action a = bounce(1, cases[i].type);
		enum provider_result got;

		fx->cfg.hard_action = cases[i].hard_action;
		a.subscriber_id[0] = '\0';
		got = parse(fx, &a, 200, search_all);
		assert_string_equal(a.subscriber_id, "");
		assert_int_equal(fx->spawn->len, 0);
		if (cases[i].unsub) {
			if (got != PROVIDER_CONTINUE)
				fail_msg("case %zu: %d (%s)", i, got, fx->err);
			expect_unsub_all(fx, &a);
		} else {
			if (got != PROVIDER_DONE)
				fail_msg("case %zu: %d (%s)", i, got, fx->err);
			assert_int_equal(a.step, 1);
		}
	}
}

/* step 2: which answers end the bounce, and which go on to unsubscribe */
static void test_parse_bounce_post(void **state)
{
	static const struct {
		const char *type;
		int hard_action;
		long status;
		const char *body;
		enum provider_result want;	/* CONTINUE: on to step 4 */
	} cases[] = {
		/* whatever MailWizz filed it as, the unsubscribe follows */
		{ "hard", ACT_BOTH, 201, POSTED("hard"), PROVIDER_CONTINUE },
		{ "hard", ACT_BOTH, 201, POSTED("internal"), PROVIDER_CONTINUE },
		{ "hard", ACT_UNSUBSCRIBE, 201, POSTED("internal"),
		  PROVIDER_CONTINUE },
		{ "hard", ACT_BOTH, 201, POSTED("soft"), PROVIDER_CONTINUE },
		{ "hard", ACT_BOTH, 200, "{\"status\":\"success\"}",
		  PROVIDER_CONTINUE },
		{ "hard", ACT_BOTH, 201, "Created", PROVIDER_CONTINUE },
		{ "hard", ACT_BOTH, 422, ALREADY, PROVIDER_CONTINUE },
		/* hard-action bounce never unsubscribes */
		{ "hard", ACT_BOUNCE, 201, POSTED("internal"), PROVIDER_DONE },
		{ "hard", ACT_BOUNCE, 422, ALREADY, PROVIDER_DONE },
		{ "hard", ACT_BOUNCE, 201, POSTED("hard"), PROVIDER_DONE },
		/* nor does a soft bounce */
		{ "soft", ACT_BOTH, 201, POSTED("soft"), PROVIDER_DONE },
		{ "soft", ACT_BOTH, 201, POSTED("internal"), PROVIDER_DONE },
		{ "soft", ACT_BOTH, 200, "{\"status\":\"success\"}",
		  PROVIDER_DONE },
		{ "soft", ACT_BOTH, 422, ALREADY, PROVIDER_DONE },
		/* a text 422 is "already marked", in the customer's
		   language (a translated "Invalid bounce type!" cannot be
		   told from it: test_parse_bounce_refused) */
		{ "hard", ACT_BOTH, 422, "{\"status\":\"error\",\"error\":"
		  "\"Dieser Abonnent ist bereits als Bounce markiert.\"}",
		  PROVIDER_CONTINUE },
		{ "hard", ACT_BOUNCE, 422, "{\"status\":\"error\",\"error\":"
		  "\"Dieser Abonnent ist bereits als Bounce markiert.\"}",
		  PROVIDER_DONE },
		/* the campaign or the subscriber gone since they were looked
		   up: nothing recorded, the unsubscribe still follows; with
		   hard-action bounce there is nothing left to do: refused */
		{ "hard", ACT_BOTH, 404, "{\"status\":\"error\",\"error\":"
		  "\"The subscriber does not exist!\"}", PROVIDER_CONTINUE },
		{ "soft", ACT_BOTH, 404, "{\"status\":\"error\",\"error\":"
		  "\"The campaign does not exist!\"}", PROVIDER_DONE },
		{ "hard", ACT_BOUNCE, 404, "{\"status\":\"error\",\"error\":"
		  "\"The subscriber does not exist!\"}", PROVIDER_FAILED },
		{ "hard", ACT_BOTH, 400, "{\"status\":\"error\",\"error\":"
		  "\"Your request expired.\"}", PROVIDER_PAUSE },
		{ "hard", ACT_BOTH, 408, "", PROVIDER_RETRY },
	};
	struct fixture *fx = *state;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct action a = bounce(2, cases[i].type);
		enum provider_result got;

		fx->cfg.hard_action = cases[i].hard_action;
		got = parse(fx, &a, cases[i].status, cases[i].body);
		if (got != cases[i].want)
			fail_msg("case %zu: verdict %d, want %d (%s)", i,
				 (int)got, (int)cases[i].want, fx->err);
		assert_int_equal(fx->spawn->len, 0);
		if (got == PROVIDER_FAILED)
			assert_non_null(strstr(fx->err, "HTTP "));
		assert_int_equal(a.step, got == PROVIDER_CONTINUE ? 4 : 2);
		/* a hard bounce MailWizz filed as another type, hard-action
		   bounce: said on the record */
		assert_true((strstr(a.notice, "as 'internal'") != NULL) ==
			    (cases[i].hard_action == ACT_BOUNCE &&
			     cases[i].status == 201 &&
			     strstr(cases[i].body, "internal") != NULL));
		/* ... and when MailWizz had a bounce of it already */
		assert_true((strstr(a.notice, "already") != NULL) ==
			    (cases[i].hard_action == ACT_BOUNCE &&
			     strcmp(cases[i].type, "hard") == 0 &&
			     cases[i].status == 422 &&
			     got == PROVIDER_DONE));
	}
	/* a campaign record of an address suppressed before: the record
	   alone */
	fx->cfg.hard_action = ACT_BOTH;
	{
		struct action a = bounce(2, "hard");

		a.flags = 0;
		assert_int_equal(parse(fx, &a, 201, POSTED("hard")),
				 PROVIDER_DONE);
	}
}

/* a 422 that refuses the bounce (Campaign_bouncesController's answer
   when CampaignBounceLog::save() fails, or for a bounce_type not on its
   list: both an extension's doing) records nothing and blacklists nobody:
   the bounce steps end as for a campaign gone (404), with a notice on
   the record, and the unsubscribe from every list follows where asked;
   only the suppressing bounce with nothing after it (hard-action =
   bounce) is a dead letter that says what to do.  Before, the field
   errors made every one a dead letter (the unsubscribe never came) and
   the type's text passed for "already marked", without a word. */
static void test_parse_bounce_refused(void **state)
{
	static const struct {
		const char *type;
		int hard_action;
		uint8_t flags;		/* 0: a later campaign's record */
		const char *body;
		enum provider_result want;	/* CONTINUE: on to step 4 */
		const char *said;	/* in the notice or, failed, the error */
	} cases[] = {
		{ "hard", ACT_BOTH, ACTION_F_SUPPRESS, REFUSED_FIELDS,
		  PROVIDER_CONTINUE, "refused it: message: Message is too "
		  "long (maximum is 100 characters).); the unsubscribe from "
		  "every list follows" },
		{ "hard", ACT_UNSUBSCRIBE, ACTION_F_SUPPRESS, REFUSED_EMPTY,
		  PROVIDER_CONTINUE, "refused it without a reason" },
		{ "hard", ACT_BOTH, ACTION_F_SUPPRESS, INVALID_TYPE,
		  PROVIDER_CONTINUE, "'Invalid bounce type!': it takes no "
		  "hard bounces" },
		{ "soft", ACT_BOTH, 0, REFUSED_FIELDS, PROVIDER_DONE,
		  "did not record the soft bounce of campaign " CAMP },
		{ "soft", ACT_BOTH, 0, INVALID_TYPE, PROVIDER_DONE,
		  "it takes no soft bounces)" },
		{ "hard", ACT_BOTH, 0, REFUSED_EMPTY, PROVIDER_DONE,
		  "did not record the hard bounce" },
		{ "hard", ACT_BOUNCE, 0, INVALID_TYPE, PROVIDER_DONE,
		  "it takes no hard bounces)" },
		/* the address would stay subscribed: an operator must act */
		{ "hard", ACT_BOUNCE, ACTION_F_SUPPRESS, REFUSED_FIELDS,
		  PROVIDER_FAILED, "record bounce: HTTP 422: its bounce log "
		  "refused it: message: Message is too long" },
		{ "hard", ACT_BOUNCE, ACTION_F_SUPPRESS, REFUSED_EMPTY,
		  PROVIDER_FAILED, "stays subscribed: have MailWizz take the "
		  "bounce, then bouncectl retry" },
		{ "hard", ACT_BOUNCE, ACTION_F_SUPPRESS, INVALID_TYPE,
		  PROVIDER_FAILED, "it takes no hard bounces; with "
		  "hard-action = bounce" },
		/* a 422 that is not MailWizz's (no JSON): refused as before */
		{ "hard", ACT_BOTH, ACTION_F_SUPPRESS, "<h1>Unprocessable</h1>",
		  PROVIDER_FAILED, "record bounce: HTTP 422: Unprocessable" },
		{ "hard", ACT_BOTH, ACTION_F_SUPPRESS, "{\"status\":\"error\"}",
		  PROVIDER_FAILED, "record bounce: HTTP 422: " },
	};
	struct fixture *fx = *state;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct action a = bounce(2, cases[i].type);
		enum provider_result got;
		const char *text;

		a.flags = cases[i].flags;
		fx->cfg.hard_action = cases[i].hard_action;
		got = parse(fx, &a, 422, cases[i].body);
		if (got != cases[i].want)
			fail_msg("case %zu: verdict %d, want %d (%s)", i,
				 (int)got, (int)cases[i].want, fx->err);
		assert_int_equal(fx->spawn->len, 0);
		text = got == PROVIDER_FAILED ? fx->err : a.notice;
		if (strstr(text, cases[i].said) == NULL)
			fail_msg("case %zu: '%s' does not say '%s'", i, text,
				 cases[i].said);
		/* whole, not cut at the buffer's end */
		assert_true(strlen(text) < 255);
		if (got == PROVIDER_FAILED) {
			assert_string_equal(a.notice, "");
			assert_int_equal(a.step, 2);
			continue;
		}
		assert_string_equal(fx->err, "");
		assert_int_equal(a.notice_level, NOTICE_WARN);
		assert_null(strstr(a.notice, "already"));
		if (got == PROVIDER_CONTINUE)
			expect_unsub_all(fx, &a);
		else
			assert_int_equal(a.step, 2);
	}
	/* a complaint's blacklisting bounce: its unsubscribe follows */
	fx->cfg.hard_action = ACT_BOUNCE;
	{
		struct action a = action(OP_COMPLAINT, 2, "john@doe.com");

		snprintf(a.bounce_type, sizeof(a.bounce_type), "hard");
		assert_int_equal(parse(fx, &a, 422, REFUSED_FIELDS),
				 PROVIDER_CONTINUE);
		assert_non_null(strstr(a.notice, "follows"));
		expect_unsub_all(fx, &a);
	}
	/* hostile field errors: one line, bounded, whole messages */
	fx->cfg.hard_action = ACT_BOTH;
	{
		GString *big = g_string_new("{\"status\":\"error\",\"error\":{");
		struct action a = bounce(2, "hard");
		int k;

		for (k = 0; k < 300; k++)
			g_string_append_printf(big, "%s\"f%d\":\"line\\nbreak "
					       "\\u001b%d\"", k ? "," : "", k,
					       k);
		g_string_append(big, ",\"n\":7}}");
		assert_int_equal(parse(fx, &a, 422, big->str),
				 PROVIDER_CONTINUE);
		g_string_free(big, TRUE);
		assert_true(strlen(a.notice) < 255);
		assert_non_null(strstr(a.notice, "f0: line break \\x1b0; "));
		assert_null(strchr(a.notice, '\n'));
		assert_null(strchr(a.notice, '\x1b'));
		assert_non_null(strstr(a.notice, "...); the unsubscribe"));
		a = bounce(2, "hard");
		fx->cfg.hard_action = ACT_BOUNCE;
		assert_int_equal(parse(fx, &a, 422, "{\"status\":\"error\","
				       "\"error\":[\"no\",{\"x\":1}]}"),
				 PROVIDER_FAILED);
		assert_non_null(strstr(fx->err, "refused it: no; ?;"));
	}
}

/* step 0: an unknown campaign ends the bounce steps; the unsubscribe
   still happens where asked, a soft bounce is simply done */
static void test_parse_unknown_campaign(void **state)
{
	static const struct {
		const char *type;
		int hard_action;
		enum provider_result want;
	} cases[] = {
		{ "hard", ACT_BOTH, PROVIDER_CONTINUE },
		{ "hard", ACT_UNSUBSCRIBE, PROVIDER_CONTINUE },
		{ "hard", ACT_BOUNCE, PROVIDER_FAILED },
		{ "soft", ACT_BOTH, PROVIDER_DONE },
		{ "soft", ACT_BOUNCE, PROVIDER_DONE },
	};
	struct fixture *fx = *state;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct action a = bounce(0, cases[i].type);
		enum provider_result got;

		fx->cfg.hard_action = cases[i].hard_action;
		got = parse(fx, &a, 404, "{\"status\":\"error\",\"error\":"
			    "\"The campaign does not exist.\"}");
		if (got != cases[i].want)
			fail_msg("case %zu: verdict %d, want %d (%s)", i,
				 (int)got, (int)cases[i].want, fx->err);
		assert_int_equal(fx->spawn->len, 0);
		if (got == PROVIDER_FAILED) {
			assert_non_null(strstr(fx->err, "campaign " CAMP
					       " not found"));
			continue;
		}
		assert_non_null(strstr(a.notice, "unknown"));
		assert_int_equal(a.notice_level, NOTICE_INFO);
		if (got == PROVIDER_CONTINUE)
			expect_unsub_all(fx, &a);
		/* and nothing was cached for the campaign */
		a = bounce(0, cases[i].type);
		assert_int_equal(build(fx, &a), 0);
		assert_int_equal(a.step, 0);
	}

	/* a campaign whose list is gone: as unknown, not a failure */
	fx->cfg.hard_action = ACT_BOTH;
	{
		struct action a = bounce(0, "hard");

		assert_int_equal(parse(fx, &a, 400, "{\"status\":\"error\","
				       "\"error\":\"Invalid API request "
				       "signature.\"}"), PROVIDER_PAUSE);
		assert_int_equal(parse(fx, &a, 200, "garbage"), PROVIDER_RETRY);
		assert_int_equal(a.step, 0);
		assert_int_equal(parse(fx, &a, 200, "{\"status\":\"success\","
				       "\"data\":{\"record\":{\"list\":null}}}"),
				 PROVIDER_CONTINUE);
		assert_non_null(strstr(a.notice, "names no list"));
		expect_unsub_all(fx, &a);
		a = bounce(0, "soft");
		assert_int_equal(parse(fx, &a, 200, "{\"status\":\"success\","
				       "\"data\":{\"record\":{\"list\":[]}}}"),
				 PROVIDER_DONE);
		/* a 404 at a later step is not the campaign's */
		a = bounce(1, "hard");
		assert_int_equal(parse(fx, &a, 404, "{\"status\":\"error\","
				       "\"error\":\"Page not found.\"}"),
				 PROVIDER_FAILED);
		assert_int_equal(fx->spawn->len, 0);
		/* at the bounce's POST: the campaign or its subscriber gone
		   since; nothing recorded, the unsubscribe follows */
		a.step = 2;
		assert_int_equal(parse(fx, &a, 404, "{\"status\":\"error\","
				       "\"error\":\"The subscriber does not "
				       "exist!\"}"), PROVIDER_CONTINUE);
		expect_unsub_all(fx, &a);
		assert_int_equal(fx->spawn->len, 0);
	}
}

static void test_parse_bounce_errors(void **state)
{
	struct fixture *fx = *state;
	struct action a = action(OP_BOUNCE, 0, "john@doe.com");
	GString *many;
	int i;

	/* a list uid that is not one: as no list (a soft bounce: done) */
	assert_int_equal(parse(fx, &a, 200, "{\"status\":\"success\",\"data\":"
			       "{\"record\":{\"list\":{\"list_uid\":\"../x\"}}}}"),
			 PROVIDER_DONE);
	a.step = 0;
	assert_int_equal(parse(fx, &a, 200, "garbage"), PROVIDER_RETRY);
	assert_int_equal(parse(fx, &a, 200, "{\"status\":\"error\","
			       "\"error\":\"nope\"}"), PROVIDER_FAILED);
	assert_int_equal(a.step, 0);

	/* step 1: the search in all lists */
	a.step = 1;
	a.subscriber_id[0] = '\0';
	/* a malformed UID on the campaign's list is not sent on */
	assert_int_equal(parse(fx, &a, 200, "{\"status\":\"success\",\"data\":"
			       "{\"records\":[{\"subscriber_uid\":"
			       "\"ZZ123CD456EF7\",\"status\":\"confirmed\","
			       "\"list\":{\"list_uid\":\"" LIST "\"}}]}}"),
			 PROVIDER_FAILED);
	assert_non_null(strstr(fx->err, "subscriber_uid"));
	assert_int_equal(parse(fx, &a, 200, "{\"status\":\"success\",\"data\":"
			       "{\"records\":[{\"status\":\"confirmed\","
			       "\"list\":{\"list_uid\":\"" LIST "\"}}]}}"),
			 PROVIDER_FAILED);
	/* no records array: the API does not match */
	assert_int_equal(parse(fx, &a, 200, "{\"status\":\"success\"}"),
			 PROVIDER_FAILED);
	assert_non_null(strstr(fx->err, "records"));
	assert_int_equal(parse(fx, &a, 200, "{\"status\":\"error\","
			       "\"error\":\"nope\"}"), PROVIDER_FAILED);
	assert_non_null(strstr(fx->err, "nope"));
	/* not JSON at all: retry */
	assert_int_equal(parse(fx, &a, 200, "<html>Bad gateway</html>"),
			 PROVIDER_RETRY);
	/* an address MailWizz refuses (a UTF-8 local part): nobody can
	   have it, nothing to record (a soft bounce: done); the same
	   answer for one its validator takes: the address did not arrive */
	assert_int_equal(parse(fx, &a, 422, "{\"status\":\"error\",\"error\":"
			       "\"Please provide a valid email address.\"}"),
			 PROVIDER_FAILED);
	assert_non_null(strstr(fx->err, "did not reach"));
	a.step = 1;
	snprintf(a.addr, sizeof(a.addr), "jos\xc3\xa9@doe.com");
	assert_int_equal(parse(fx, &a, 422, "{\"status\":\"error\",\"error\":"
			       "\"Please provide a valid email address.\"}"),
			 PROVIDER_DONE);
	snprintf(a.addr, sizeof(a.addr), "john@doe.com");
	a.step = 1;
	/* MailWizz answers 200 with no records when the address is on no
	   list: a 404 is the endpoint missing, not "not found" */
	assert_int_equal(parse(fx, &a, 404, "{\"status\":\"error\",\"error\":"
			       "\"Page not found.\"}"), PROVIDER_FAILED);
	assert_non_null(strstr(fx->err, "HTTP 404"));
	assert_int_equal(parse(fx, &a, 408, ""), PROVIDER_RETRY);
	/* more memberships than one answer may name */
	many = g_string_new("{\"status\":\"success\",\"data\":{\"records\":[");
	for (i = 0; i < 1001; i++)
		g_string_append_printf(many, "%s{\"subscriber_uid\":"
				       "\"s%012d\",\"status\":\"confirmed\","
				       "\"list\":{\"list_uid\":\"l%012d\"}}",
				       i ? "," : "", i, i);
	g_string_append(many, "]}}");
	assert_int_equal(parse(fx, &a, 200, many->str), PROVIDER_FAILED);
	g_string_free(many, TRUE);
	assert_int_equal(a.step, 1);
	assert_string_equal(a.subscriber_id, "");
	assert_int_equal(fx->spawn->len, 0);

	a.step = 9;
	assert_int_equal(parse(fx, &a, 200, "{}"), PROVIDER_FAILED);
}

/* complaint-action = blacklist: the complaint's bounce first, then the
   unsubscribe from all lists, in one action */
static void test_complaint_blacklist(void **state)
{
	struct fixture *fx = *state;
	struct action a = action(OP_COMPLAINT, 0, "john@doe.com");

	snprintf(a.bounce_type, sizeof(a.bounce_type), "hard");
	a.subscriber_id[0] = a.list_id[0] = '\0';
	assert_int_equal(build(fx, &a), 0);
	assert_string_equal(fx->req.url, "https://mw.example.com/api/"
			    "campaigns/" CAMP);
	assert_int_equal(parse(fx, &a, 200, campaign_ok), PROVIDER_CONTINUE);
	assert_int_equal(parse(fx, &a, 200, search_on_list), PROVIDER_CONTINUE);
	assert_int_equal(a.step, 2);
	assert_int_equal(build(fx, &a), 0);
	assert_string_equal(fx->req.method, "POST");
	assert_non_null(strstr(fx->req.body, "bounce_type=hard"));
	assert_int_equal(parse(fx, &a, 201, POSTED("hard")), PROVIDER_CONTINUE);
	expect_unsub_all(fx, &a);
}

/* the second bounce of a campaign skips the campaign call */
static void test_campaign_cache(void **state)
{
	struct fixture *fx = *state;
	struct action a = action(OP_BOUNCE, 0, "john@doe.com");
	struct action b = action(OP_BOUNCE, 0, "jane@doe.com");

	a.list_id[0] = b.list_id[0] = '\0';
	assert_int_equal(build(fx, &a), 0);
	assert_string_equal(fx->req.url, "https://mw.example.com/api/"
			    "campaigns/" CAMP);
	assert_int_equal(parse(fx, &a, 200, campaign_ok), PROVIDER_CONTINUE);

	assert_int_equal(build(fx, &b), 1);
	assert_int_equal(b.step, 1);
	assert_string_equal(b.list_id, LIST);
	assert_string_equal(fx->req.method, "");
	assert_null(fx->req.body);
	/* and then the search in that list */
	assert_int_equal(build(fx, &b), 0);
	assert_string_equal(fx->req.url, "https://mw.example.com/api/lists/"
			    "subscribers/search-by-email-in-all-lists"
			    "?EMAIL=jane%40doe.com");

	/* another campaign is asked for */
	b = action(OP_BOUNCE, 0, "jane@doe.com");
	snprintf(b.campaign_id, sizeof(b.campaign_id), "dd123cd456ef7");
	assert_int_equal(build(fx, &b), 0);
	assert_string_equal(fx->req.url, "https://mw.example.com/api/"
			    "campaigns/dd123cd456ef7");
}

/* the cache is bounded: full, it is cleared and refilled */
static void test_campaign_cache_bound(void **state)
{
	struct fixture *fx = *state;
	struct action a;
	int i;

	for (i = 0; i <= 10000; i++) {
		a = action(OP_BOUNCE, 0, "john@doe.com");
		snprintf(a.campaign_id, sizeof(a.campaign_id), "c%012d", i);
		assert_int_equal(parse(fx, &a, 200, campaign_ok),
				 PROVIDER_CONTINUE);
	}
	/* the 10,001st cleared the 10,000 before it */
	a = action(OP_BOUNCE, 0, "john@doe.com");
	snprintf(a.campaign_id, sizeof(a.campaign_id), "c%012d", 0);
	assert_int_equal(build(fx, &a), 0);
	a = action(OP_BOUNCE, 0, "john@doe.com");
	snprintf(a.campaign_id, sizeof(a.campaign_id), "c%012d", 10000);
	assert_int_equal(build(fx, &a), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_v1_unsub_all, setup_v1,
						teardown),
		cmocka_unit_test_setup_teardown(test_v1_unsub_one, setup_v1,
						teardown),
		cmocka_unit_test_setup_teardown(test_v1_bounce_steps, setup_v1,
						teardown),
		cmocka_unit_test(test_endpoint_slashes),
		cmocka_unit_test_setup_teardown(test_v2, setup_v2, teardown),
		cmocka_unit_test_setup_teardown(test_uid_validation, setup_v1,
						teardown),
		cmocka_unit_test_setup_teardown(test_build_refusals, setup_v1,
						teardown),
		cmocka_unit_test(test_init_refusals),
		cmocka_unit_test_setup_teardown(test_message, setup_v1,
						teardown),
		cmocka_unit_test_setup_teardown(test_parse_search_all, setup_v1,
						teardown),
		cmocka_unit_test_setup_teardown(test_parse_search_all_bad_uid,
						setup_v1, teardown),
		cmocka_unit_test_setup_teardown(test_parse_search_all_errors,
						setup_v1, teardown),
		cmocka_unit_test_setup_teardown(test_parse_unsub_one, setup_v1,
						teardown),
		cmocka_unit_test_setup_teardown(test_parse_bounce, setup_v1,
						teardown),
		cmocka_unit_test_setup_teardown(test_parse_bounce_hinted,
						setup_v1, teardown),
		cmocka_unit_test_setup_teardown(test_unsub_by_ids, setup_v1,
						teardown),
		cmocka_unit_test_setup_teardown(test_parse_bounce_not_on_list,
						setup_v1, teardown),
		cmocka_unit_test_setup_teardown(test_parse_bounce_post,
						setup_v1, teardown),
		cmocka_unit_test_setup_teardown(test_parse_bounce_refused,
						setup_v1, teardown),
		cmocka_unit_test_setup_teardown(test_parse_unknown_campaign,
						setup_v1, teardown),
		cmocka_unit_test_setup_teardown(test_parse_bounce_errors,
						setup_v1, teardown),
		cmocka_unit_test_setup_teardown(test_unicode_form_unsub,
						setup_v1, teardown),
		cmocka_unit_test_setup_teardown(test_unicode_form_bounce,
						setup_v1, teardown),
		cmocka_unit_test_setup_teardown(test_parse_unsub_all,
						setup_v1, teardown),
		cmocka_unit_test_setup_teardown(test_complaint_blacklist,
						setup_v1, teardown),
		cmocka_unit_test_setup_teardown(test_campaign_cache, setup_v1,
						teardown),
		cmocka_unit_test_setup_teardown(test_campaign_cache_bound,
						setup_v1, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
