/*
 * test_provider_interspire.c - the Interspire provider and its XML
 * documents: the requests of each step (read back with mxml and compared
 * element by element), escaping, the list cache and its refresh, the
 * subscribers known by ids only, the probe, and the verdicts on realistic
 * answers of 6.1.x, 6.1.0 and 6.5.x, failures and malformed ones.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arf.h"
#include "iem_xml.h"
#include "provider.h"

#define ENDPOINT "https://iem.example.com/xml.php"

/* a provider with its config, made fresh for each test */
struct fx {
	struct config_provider cfg;
	struct provider p;
	char err[256];
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->cfg.name = "iem";
	f->cfg.type = PROVIDER_INTERSPIRE;
	f->cfg.endpoint = ENDPOINT;
	f->cfg.username = "admin";
	f->cfg.usertoken = "tok&en";
	f->cfg.list_refresh = 600;
	f->p.ops = &provider_interspire_ops;
	f->p.cfg = &f->cfg;
	assert_int_equal(f->p.ops->init(&f->p, f->err, sizeof(f->err)), 0);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	f->p.ops->release(&f->p);
	free(f);
	return 0;
}

/* action_for - an unsubscribe action for ADDR at STEP */
static struct action action_for(const char *addr, uint8_t step)
{
	struct action a;

	memset(&a, 0, sizeof(a));
	a.id = 41;
	a.root = 40;
	g_strlcpy(a.provider, "iem", sizeof(a.provider));
	a.op = OP_UNSUBSCRIBE;
	a.step = step;
	a.attempts = 2;
	g_strlcpy(a.addr, addr, sizeof(a.addr));
	g_strlcpy(a.last_error, "earlier trouble", sizeof(a.last_error));
	return a;
}

/* answer - BODY as an HTTP 200 answer */
static struct http_resp answer(const char *body)
{
	struct http_resp r = { 200, body, strlen(body), "text/xml" };

	return r;
}

/* judge - parse BODY for A; spawned actions into SPAWN (may be NULL) */
static enum provider_result judge(struct fx *f, struct action *a,
				  const char *body, GArray *spawn)
{
	GArray *own = spawn ? spawn : g_array_new(FALSE, TRUE,
						   sizeof(struct action));
	struct http_resp r = answer(body);
	enum provider_result res;

	f->err[0] = '\0';
	res = f->p.ops->parse(&f->p, a, &r, own, f->err, sizeof(f->err));
	if (spawn == NULL) {
		assert_int_equal(own->len, 0);
		g_array_free(own, TRUE);
	}
	return res;
}

/* ---- reading a request back --------------------------------------- */

/* elem_text - the opaque text of element E (must be a single child) */
static const char *elem_text(mxml_node_t *e)
{
	mxml_node_t *c = mxmlGetFirstChild(e);

	if (!c)
		return "";	/* an empty element */
	assert_int_equal(mxmlGetType(c), MXML_OPAQUE);
	assert_null(mxmlGetNextSibling(c));
	return mxmlGetOpaque(c);
}

/* next_elem - the next element sibling from N (N included) */
static mxml_node_t *next_elem(mxml_node_t *n)
{
	while (n && mxmlGetType(n) != MXML_ELEMENT)
		n = mxmlGetNextSibling(n);
	return n;
}

/*
 * check_request - BODY is <xmlrequest> with exactly the envelope of
 * TYPE/METHOD and the details NAMES[i] = VALUES[i] in order (N of them;
 * none: a single space).
 */
static void check_request(const char *body, const char *user,
			  const char *token, const char *type,
			  const char *method, const char *const *names,
			  const char *const *values, size_t n)
{
	static const char *const env[] = { "username", "usertoken",
					   "requesttype", "requestmethod",
					   "details" };
	const char *want[4] = { user, token, type, method };
	mxml_node_t *tree = mxmlLoadString(NULL, body, MXML_OPAQUE_CALLBACK);
	mxml_node_t *root, *e, *d = NULL;
	size_t i;

	assert_non_null(tree);
	/* mxml hangs the document under the <?xml …?> declaration */
	assert_string_equal(mxmlGetElement(tree), "?xml version=\"1.0\" "
			    "encoding=\"utf-8\"?");
	root = next_elem(mxmlGetFirstChild(tree));
	assert_non_null(root);
	assert_string_equal(mxmlGetElement(root), "xmlrequest");
	assert_null(next_elem(mxmlGetNextSibling(root)));
	e = next_elem(mxmlGetFirstChild(root));
	for (i = 0; i < 5; i++) {
		assert_non_null(e);
		assert_string_equal(mxmlGetElement(e), env[i]);
		if (i < 4)
			assert_string_equal(elem_text(e), want[i]);
		else
			d = e;
		e = next_elem(mxmlGetNextSibling(e));
	}
	assert_null(e);
	if (n == 0) {
		assert_string_equal(elem_text(d), " ");
	} else {
		e = next_elem(mxmlGetFirstChild(d));
		for (i = 0; i < n; i++) {
			assert_non_null(e);
			assert_string_equal(mxmlGetElement(e), names[i]);
			assert_string_equal(elem_text(e), values[i]);
			e = next_elem(mxmlGetNextSibling(e));
		}
		assert_null(e);
	}
	mxmlDelete(tree);
}

/* check_http - REQ is a POST of XML to the endpoint */
static void check_http(const struct http_req *req)
{
	assert_string_equal(req->method, "POST");
	assert_string_equal(req->url, ENDPOINT);
	assert_non_null(req->body);
	assert_int_equal(req->body_len, strlen(req->body));
	assert_int_equal(req->n_headers, 1);
	assert_string_equal(req->headers[0], "Content-Type: text/xml");
}

/* ---- answers, as the real xml.php lays them out --------------------- */

#define LISTS_3 \
	"<response>\n<status>SUCCESS</status>\n\n<data>\n" \
	"\t<item>\n\t\t<listid>1</listid>\n\t\t<name>News &amp; Offers</name>\n" \
	"\t\t<subscribecount>10</subscribecount>\n\t</item>\n\n" \
	"\t<item>\n\t\t<listid>2</listid>\n\t\t<name>O&#039;Brien</name>\n\t</item>\n\n" \
	"\t<item>\n\t\t<listid> 5 </listid>\n\t\t<name>x</name>\n\t</item>\n\n" \
	"</data>\n\n</response>\n"
#define LISTS_NONE \
	"<response>\n<status>SUCCESS</status>\n\n<data>\n</data>\n\n</response>\n"
#define OK_EMPTY \
	"<response>\n<status>SUCCESS</status>\n\n<data></data>\n\n</response>\n"
#define FAILED(msg) \
	"<response>\n<status>FAILED</status>\n\n<errormessage>" msg \
	"</errormessage>\n</response>\n"
#define BAD_USER FAILED("Unable to check user details.")

/* fill_cache - run step 0 at NOW and answer it with BODY */
static void fill_cache(struct fx *f, int64_t now, const char *body,
		       enum provider_result want)
{
	struct action a = action_for("fill@example.com", 0);
	struct http_req req;

	assert_int_equal(f->p.ops->build(&f->p, &a, now, &req, f->err,
					 sizeof(f->err)), 0);
	check_request(req.body, "admin", "tok&en", "user", "GetLists", NULL,
		      NULL, 0);
	http_req_clear(&req);
	assert_int_equal(judge(f, &a, body, NULL), want);
}

/* ---- tests ---------------------------------------------------------- */

static void test_init_errors(void **state)
{
	static const struct {
		const char *endpoint, *user, *token, *why;
	} cases[] = {
		{ NULL, "u", "t", "endpoint" },
		{ "", "u", "t", "endpoint" },
		{ "ftp://x/xml.php", "u", "t", "not http" },
		{ ENDPOINT, NULL, "t", "username" },
		{ ENDPOINT, "", "t", "username" },
		{ ENDPOINT, "u\x01", "t", "username" },
		{ ENDPOINT, "u", NULL, "usertoken" },
		{ ENDPOINT, "u", "\xff", "usertoken" },
		{ "http://iem.example.com/xml.php", "u", "t", NULL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config_provider cfg = { .name = "iem",
					       .type = PROVIDER_INTERSPIRE };
		struct provider p = { &provider_interspire_ops, &cfg, NULL };
		char err[256] = "";
		int rc;

		cfg.endpoint = (char *)cases[i].endpoint;
		cfg.username = (char *)cases[i].user;
		cfg.usertoken = (char *)cases[i].token;
		rc = p.ops->init(&p, err, sizeof(err));
		if (cases[i].why == NULL) {
			assert_int_equal(rc, 0);
			p.ops->release(&p);
			assert_null(p.priv);
		} else {
			assert_int_equal(rc, -1);
			assert_non_null(strstr(err, cases[i].why));
		}
	}
}

static void test_ops_table(void **state)
{
	(void)state;
	assert_string_equal(provider_interspire_ops.type, "interspire");
	assert_non_null(provider_interspire_ops.init);
	assert_non_null(provider_interspire_ops.build);
	assert_non_null(provider_interspire_ops.parse);
	assert_non_null(provider_interspire_ops.release);
	assert_non_null(provider_interspire_ops.probe);
	assert_non_null(provider_interspire_ops.probe_parse);
}

/* step 0 with no cache: user/GetLists, empty details sent as a space */
static void test_getlists_request(void **state)
{
	struct fx *f = *state;
	struct action a = action_for("x@example.com", 0);
	struct http_req req;

	assert_int_equal(f->p.ops->build(&f->p, &a, 1000, &req, f->err,
					 sizeof(f->err)), 0);
	check_http(&req);
	check_request(req.body, "admin", "tok&en", "user", "GetLists", NULL,
		      NULL, 0);
	assert_non_null(strstr(req.body, "<details> </details>"));
	assert_non_null(strstr(req.body, "<usertoken>tok&amp;en</usertoken>"));
	assert_int_equal(a.step, 0);
	http_req_clear(&req);
}

/* GetLists fills the cache; fresh for list-refresh seconds, then refreshed */
static void test_cache_refresh(void **state)
{
	static const char *const names[] = { "email", "listids", "listids",
					      "listids" };
	static const char *const values[] = { "x@example.com", "1", "2", "5" };
	struct fx *f = *state;
	struct action a = action_for("x@example.com", 0);
	struct http_req req;

	fill_cache(f, 1000, LISTS_3, PROVIDER_CONTINUE);

	/* the next action at step 0 inside the refresh time: no call */
	assert_int_equal(f->p.ops->build(&f->p, &a, 1599, &req, f->err,
					 sizeof(f->err)), 1);
	assert_int_equal(a.step, 1);
	assert_int_equal(f->p.ops->build(&f->p, &a, 1599, &req, f->err,
					 sizeof(f->err)), 0);
	check_http(&req);
	check_request(req.body, "admin", "tok&en", "subscribers",
		      "GetAllListsForEmailAddress", names, values, 4);
	/* never one element holding "1,2,5": the server ignores it */
	assert_null(strstr(req.body, "1,2"));
	http_req_clear(&req);

	/* list-refresh seconds later: GetLists again; no list where there
	   were three is asked again, the old ids not replaced meanwhile,
	   and believed when said again later */
	a = action_for("x@example.com", 0);
	assert_int_equal(f->p.ops->build(&f->p, &a, 1600, &req, f->err,
					 sizeof(f->err)), 0);
	check_request(req.body, "admin", "tok&en", "user", "GetLists", NULL,
		      NULL, 0);
	http_req_clear(&req);
	assert_int_equal(judge(f, &a, LISTS_NONE, NULL), PROVIDER_RETRY);
	assert_int_equal(a.step, 0);
	assert_int_equal(f->p.ops->build(&f->p, &a, 1660, &req, f->err,
					 sizeof(f->err)), 0);
	check_request(req.body, "admin", "tok&en", "user", "GetLists", NULL,
		      NULL, 0);
	http_req_clear(&req);
	assert_int_equal(judge(f, &a, LISTS_NONE, NULL), PROVIDER_DONE);

	/* the clock went back before the fetch: refresh */
	a = action_for("x@example.com", 0);
	assert_int_equal(f->p.ops->build(&f->p, &a, 900, &req, f->err,
					 sizeof(f->err)), 0);
	check_request(req.body, "admin", "tok&en", "user", "GetLists", NULL,
		      NULL, 0);
	http_req_clear(&req);
}

/* the refresh replaces the ids, and parse takes build()'s newest time;
   the one list is sent twice (a lone <listids> is a string to xml.php,
   which 6.1.2 and older filter down to no list) */
static void test_cache_replaced(void **state)
{
	static const char *const names[] = { "email", "listids", "listids" };
	static const char *const values[] = { "y@example.com", "7", "7" };
	struct fx *f = *state;
	struct action a = action_for("y@example.com", 0);
	struct http_req req;

	fill_cache(f, 1000, LISTS_3, PROVIDER_CONTINUE);
	fill_cache(f, 5000,
		   "<response><status>SUCCESS</status><data><item><listid>7"
		   "</listid></item></data></response>", PROVIDER_CONTINUE);
	assert_int_equal(f->p.ops->build(&f->p, &a, 5599, &req, f->err,
					 sizeof(f->err)), 1);
	assert_int_equal(f->p.ops->build(&f->p, &a, 5599, &req, f->err,
					 sizeof(f->err)), 0);
	check_request(req.body, "admin", "tok&en", "subscribers",
		      "GetAllListsForEmailAddress", names, values, 3);
	http_req_clear(&req);
}

/* build_at - build A at NOW: 0 (the request must be a GetLists) or 1 */
static int build_at(struct fx *f, struct action *a, int64_t now)
{
	struct http_req req;
	int rc = f->p.ops->build(&f->p, a, now, &req, f->err, sizeof(f->err));

	if (rc == 0)
		assert_non_null(strstr(req.body, "<requestmethod>GetLists<"));
	http_req_clear(&req);
	return rc;
}

/* an action by address queued after the lists were fetched may be about
   a list made since: the cache serves it a minute at most, not the whole
   list-refresh (an older action is served for list-refresh) */
static void test_cache_newer_action(void **state)
{
	struct fx *f = *state;
	struct action a;

	fill_cache(f, 1000, LISTS_3, PROVIDER_CONTINUE);
	a = action_for("x@example.com", 0);
	a.created_ms = 1030000;
	assert_int_equal(build_at(f, &a, 1059), 1);
	assert_int_equal(a.step, 1);
	a = action_for("x@example.com", 0);
	a.created_ms = 1030000;
	assert_int_equal(build_at(f, &a, 1060), 0);	/* GetLists */
	/* while that GetLists is on its way, another newer action is not
	   served the old ids either */
	a = action_for("y@example.com", 0);
	a.created_ms = 1040000;
	assert_int_equal(build_at(f, &a, 1061), 0);	/* GetLists */
	/* queued before the fetch: served for list-refresh */
	fill_cache(f, 2000, LISTS_3, PROVIDER_CONTINUE);
	a = action_for("x@example.com", 0);
	a.created_ms = 1999000;
	assert_int_equal(build_at(f, &a, 2599), 1);
	assert_int_equal(a.step, 1);
}

/* while a refresh is on its way, others use the old ids; none at start */
static void test_cache_while_refreshing(void **state)
{
	static const char *const names[] = { "email", "listids", "listids",
					      "listids" };
	static const char *const values[] = { "b@example.com", "1", "2", "5" };
	struct fx *f = *state;
	struct action a = action_for("a@example.com", 0);
	struct action b = action_for("b@example.com", 0);
	struct action c = action_for("c@example.com", 0);
	struct action d = action_for("d@example.com", 0);
	struct action e = action_for("e@example.com", 0);
	struct http_req req;

	/* cold start: each action asks, nothing to share yet */
	assert_int_equal(build_at(f, &a, 1000), 0);
	assert_int_equal(build_at(f, &b, 1000), 0);
	assert_int_equal(judge(f, &a, LISTS_3, NULL), PROVIDER_CONTINUE);
	assert_int_equal(judge(f, &b, LISTS_3, NULL), PROVIDER_CONTINUE);
	assert_int_equal(a.step, 1);
	assert_int_equal(b.step, 1);

	/* stale at 1600: A refreshes, B (a second later) takes the old ids */
	a = action_for("a@example.com", 0);
	b = action_for("b@example.com", 0);
	assert_int_equal(build_at(f, &a, 1600), 0);
	assert_int_equal(build_at(f, &b, 1601), 1);
	assert_int_equal(b.step, 1);
	assert_int_equal(f->p.ops->build(&f->p, &b, 1601, &req, f->err,
					 sizeof(f->err)), 0);
	check_request(req.body, "admin", "tok&en", "subscribers",
		      "GetAllListsForEmailAddress", names, values, 4);
	http_req_clear(&req);
	/* no answer within the request timeout (30 s): asked again */
	assert_int_equal(build_at(f, &c, 1631), 0);
	/* the answer replaces the ids, dated by the last GetLists sent */
	assert_int_equal(judge(f, &a,
			       "<response><status>SUCCESS</status><data><item>"
			       "<listid>7</listid></item></data></response>",
			       NULL), PROVIDER_CONTINUE);
	assert_int_equal(build_at(f, &d, 2230), 1);
	assert_int_equal(d.step, 1);
	assert_int_equal(build_at(f, &e, 2231), 0);
	/* a failed refresh ends it too: the next one asks again */
	assert_int_equal(judge(f, &e, BAD_USER, NULL), PROVIDER_PAUSE);
	e = action_for("e@example.com", 0);
	assert_int_equal(build_at(f, &e, 2232), 0);
}

/* a user with no list: done without any further call; 6.1.x and later
   say so with FAILED and an empty message, 6.1.0 with empty data */
static void test_zero_lists(void **state)
{
	struct fx *f = *state;
	struct action a = action_for("x@example.com", 0);
	struct http_req req;

	/* no list: xml.php says so of a failed query too, so believed
	   only when asked again later (nothing cached before); two asks
	   in the same second confirm nothing */
	fill_cache(f, 999, FAILED(""), PROVIDER_RETRY);
	assert_non_null(strstr(f->err, "asked again"));
	fill_cache(f, 999, FAILED(""), PROVIDER_RETRY);
	fill_cache(f, 1000, FAILED(""), PROVIDER_DONE);
	assert_int_equal(f->p.ops->build(&f->p, &a, 1010, &req, f->err,
					 sizeof(f->err)), 1);
	assert_int_equal(a.step, PROVIDER_STEP_DONE);
	a = action_for("x@example.com", 0);
	fill_cache(f, 2000, LISTS_NONE, PROVIDER_DONE);
	assert_int_equal(f->p.ops->build(&f->p, &a, 2010, &req, f->err,
					 sizeof(f->err)), 1);
	assert_int_equal(a.step, PROVIDER_STEP_DONE);
	a = action_for("x@example.com", 1);	/* queued before, at step 1 */
	assert_int_equal(f->p.ops->build(&f->p, &a, 2010, &req, f->err,
					 sizeof(f->err)), 1);
	assert_int_equal(a.step, PROVIDER_STEP_DONE);
}

/* step 1 after a restart (no cache): back to step 0 without a call */
static void test_step1_without_cache(void **state)
{
	struct fx *f = *state;
	struct action a = action_for("x@example.com", 1);
	struct http_req req;

	assert_int_equal(f->p.ops->build(&f->p, &a, 1000, &req, f->err,
					 sizeof(f->err)), 1);
	assert_int_equal(a.step, 0);
	assert_int_equal(f->p.ops->build(&f->p, &a, 1000, &req, f->err,
					 sizeof(f->err)), 0);
	check_request(req.body, "admin", "tok&en", "user", "GetLists", NULL,
		      NULL, 0);
	http_req_clear(&req);
}

/* addresses with XML's special characters survive both steps */
static void test_escaping(void **state)
{
	static const struct {
		const char *addr, *raw;
	} cases[] = {
		{ "a&b@example.com", "a&amp;b@example.com" },
		{ "<x>'\"@example.com", "&lt;x&gt;'&quot;@example.com" },
		{ "jos\xc3\xa9+tag@example.com", "jos\xc3\xa9+tag@example.com" },
		{ "a  b@example.com", "a  b@example.com" },
	};
	struct fx *f = *state;
	size_t i;

	fill_cache(f, 1000, LISTS_3, PROVIDER_CONTINUE);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *const n1[] = { "email", "listids", "listids",
					   "listids" };
		const char *const v1[] = { cases[i].addr, "1", "2", "5" };
		const char *const n2[] = { "emailaddress", "listid",
					   "subscriberid", "skipcheck" };
		const char *const v2[] = { cases[i].addr, "2", "11", "1" };
		struct action a = action_for(cases[i].addr, 1);
		struct http_req req;

		assert_int_equal(f->p.ops->build(&f->p, &a, 1001, &req, f->err,
						 sizeof(f->err)), 0);
		check_request(req.body, "admin", "tok&en", "subscribers",
			      "GetAllListsForEmailAddress", n1, v1, 4);
		assert_non_null(strstr(req.body, cases[i].raw));
		http_req_clear(&req);

		a.step = 2;
		g_strlcpy(a.list_id, "2", sizeof(a.list_id));
		g_strlcpy(a.subscriber_id, "11", sizeof(a.subscriber_id));
		assert_int_equal(f->p.ops->build(&f->p, &a, 1001, &req, f->err,
						 sizeof(f->err)), 0);
		check_http(&req);
		check_request(req.body, "admin", "tok&en", "subscribers",
			      "UnsubscribeSubscriber", n2, v2, 4);
		assert_non_null(strstr(req.body, cases[i].raw));
		http_req_clear(&req);
	}
}

/* what can never be sent: build() fails for good */
static void test_build_refusals(void **state)
{
	static const struct {
		const char *addr;
		uint8_t op, step;
		const char *list_id, *why;
	} cases[] = {
		{ "a\x01@example.com", OP_UNSUBSCRIBE, 1, "", "email" },
		{ "a\xff@example.com", OP_COMPLAINT, 1, "", "email" },
		{ "a\x1b@example.com", OP_UNSUBSCRIBE, 2, "3", "emailaddress" },
		{ "a@example.com", OP_UNSUBSCRIBE, 2, "", "list id" },
		{ "a@example.com", OP_UNSUBSCRIBE, 2, "3 OR 1", "list id" },
		{ "a@example.com", OP_UNSUBSCRIBE, 2, "123456789012345678901",
		  "list id" },
		{ "a@example.com", OP_UNSUBSCRIBE, 3, "3", "step" },
		{ "a@example.com", OP_BOUNCE, 0, "", "bounce" },
	};
	struct fx *f = *state;
	size_t i;

	fill_cache(f, 1000, LISTS_3, PROVIDER_CONTINUE);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct action a = action_for(cases[i].addr, cases[i].step);
		struct http_req req;

		a.op = cases[i].op;
		g_strlcpy(a.list_id, cases[i].list_id, sizeof(a.list_id));
		f->err[0] = '\0';
		assert_int_equal(f->p.ops->build(&f->p, &a, 1001, &req, f->err,
						 sizeof(f->err)), -1);
		assert_non_null(strstr(f->err, cases[i].why));
		assert_null(req.body);
	}
}

/* GetAllListsForEmailAddress: one child per distinct list */
static void test_find_spawns(void **state)
{
	static const char *body =
		"<response>\n<status>SUCCESS</status>\n\n<data>\n"
		"\t<item>\n\t\t<subscriberid>10</subscriberid>\n"
		"\t\t<listid>1</listid>\n\t</item>\n\n"
		"\t<item>\n\t\t<subscriberid>11</subscriberid>\n"
		"\t\t<listid>2</listid>\n\t</item>\n\n"
		"\t<item>\n\t\t<listid>5</listid>\n"
		"\t\t<subscriberid> 17 </subscriberid>\n\t</item>\n\n"
		"\t<item>\n\t\t<subscriberid>12</subscriberid>\n"
		"\t\t<listid>2</listid>\n\t</item>\n\n"
		"</data>\n\n</response>\n";
	static const char *lists[] = { "1", "2", "5" };
	static const char *subs[] = { "10", "11", "17" };
	struct fx *f = *state;
	struct action a = action_for("a&b@example.com", 1);
	GArray *spawn = g_array_new(FALSE, TRUE, sizeof(struct action));
	size_t i;

	a.op = OP_COMPLAINT;
	assert_int_equal(judge(f, &a, body, spawn), PROVIDER_DONE);
	assert_int_equal(spawn->len, 3);
	for (i = 0; i < spawn->len; i++) {
		const struct action *c = &g_array_index(spawn, struct action, i);

		assert_int_equal(c->step, 2);
		assert_int_equal(c->op, OP_COMPLAINT);
		assert_int_equal(c->root, 40);
		assert_int_equal(c->id, 0);
		assert_int_equal(c->attempts, 0);
		assert_string_equal(c->last_error, "");
		assert_string_equal(c->addr, "a&b@example.com");
		assert_string_equal(c->provider, "iem");
		assert_string_equal(c->list_id, lists[i]);
		assert_string_equal(c->subscriber_id, subs[i]);
	}
	g_array_free(spawn, TRUE);
}

/* GetAllListsForEmailAddress answers with nothing to do, or bad ids */
static void test_find_answers(void **state)
{
	static const struct {
		const char *body;
		enum provider_result want;
		const char *why;
	} cases[] = {
		{ LISTS_NONE, PROVIDER_DONE, "" },
		{ OK_EMPTY, PROVIDER_DONE, "" },
		{ "<response><status>SUCCESS</status></response>",
		  PROVIDER_DONE, "" },
		{ "<response><status>SUCCESS</status><data><item><listid>1 OR 1"
		  "</listid><subscriberid>3</subscriberid></item></data>"
		  "</response>", PROVIDER_FAILED, "numeric" },
		{ "<response><status>SUCCESS</status><data><item><listid>1"
		  "</listid><subscriberid>3</subscriberid></item><item>"
		  "<listid>2</listid></item></data></response>",
		  PROVIDER_FAILED, "numeric" },
		{ "<response><status>SUCCESS</status><data><item><listid>"
		  "123456789012345678901234567890</listid><subscriberid>3"
		  "</subscriberid></item></data></response>",
		  PROVIDER_FAILED, "numeric" },
		{ FAILED("Invalid request type"), PROVIDER_FAILED,
		  "GetAllListsForEmailAddress: Invalid request type" },
		/* 6.1.x and later: an address on no list */
		{ FAILED(""), PROVIDER_DONE, "" },
		{ FAILED("  \n"), PROVIDER_DONE, "" },
	};
	struct fx *f = *state;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct action a = action_for("x@example.com", 1);

		assert_int_equal(judge(f, &a, cases[i].body, NULL),
				 cases[i].want);
		assert_non_null(strstr(f->err, cases[i].why));
	}
}

/* UnsubscribeSubscriber as 6.1.5 and 6.1.0 answer it */
static void test_unsub_answers(void **state)
{
	static const struct {
		const char *body;
		enum provider_result want;
		const char *why;
	} cases[] = {
		/* 6.1.5 */
		{ OK_EMPTY, PROVIDER_DONE, "" },
		{ "<response><status>SUCCESS</status><data/></response>",
		  PROVIDER_DONE, "" },
		{ FAILED("The email address &#039;a&amp;b@example.com&#039; is "
			 "not subscribed to this list"), PROVIDER_DONE, "" },
		{ FAILED("Something else went wrong"), PROVIDER_FAILED,
		  "UnsubscribeSubscriber list 3: Something else went wrong" },
		{ BAD_USER, PROVIDER_PAUSE, "check username and usertoken" },
		/* 6.1.0: always SUCCESS, the outcome in two items */
		{ "<response>\n<status>SUCCESS</status>\n\n<data>\n"
		  "\t<item>1</item>\n\t<item></item>\n</data>\n\n</response>\n",
		  PROVIDER_DONE, "" },
		{ "<response>\n<status>SUCCESS</status>\n\n<data>\n"
		  "\t<item></item>\n\t<item>The email address &#039;x@example.com"
		  "&#039; is not subscribed to this list</item>\n</data>\n\n"
		  "</response>\n", PROVIDER_DONE, "" },
		{ "<response>\n<status>SUCCESS</status>\n\n<data>\n"
		  "\t<item></item>\n\t<item>Database &amp; disk &#039;full&#039;"
		  "</item>\n</data>\n\n</response>\n", PROVIDER_FAILED,
		  "list 3: Database & disk 'full'" },
		{ "<response><status>SUCCESS</status><data><item>0</item>"
		  "<item></item></data></response>", PROVIDER_FAILED,
		  "without a reason" },
	};
	struct fx *f = *state;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct action a = action_for("a&b@example.com", 2);

		g_strlcpy(a.list_id, "3", sizeof(a.list_id));
		assert_int_equal(judge(f, &a, cases[i].body, NULL),
				 cases[i].want);
		assert_non_null(strstr(f->err, cases[i].why));
	}
}

/* refused credentials pause the provider at every step, whatever the
   version says; the action and the cache are untouched */
static void test_bad_credentials(void **state)
{
	static const struct {
		const char *body, *why;
	} cases[] = {
		{ BAD_USER, "Unable to check user details." },
		{ FAILED("Invalid details"), "Invalid details" },
		{ FAILED("Invalid Details."), "Invalid Details." },
		{ FAILED("Error: Please contact your system admin!"),
		  "not active" },
	};
	struct fx *f = *state;
	struct http_req req;
	uint8_t step;
	size_t i;

	for (step = 0; step <= 5; step++) {
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			struct action a = action_for(step >= 3 ?
						     "uid:iem:3:17" :
						     "x@example.com", step);

			g_strlcpy(a.list_id, "3", sizeof(a.list_id));
			g_strlcpy(a.subscriber_id, "17",
				  sizeof(a.subscriber_id));
			a.klass = CLASS_COMPLAINT;
			assert_int_equal(judge(f, &a, cases[i].body, NULL),
					 PROVIDER_PAUSE);
			assert_non_null(strstr(f->err, cases[i].why));
			assert_int_equal(a.step, step);
			assert_string_equal(a.resolved, "");
		}
	}
	assert_non_null(strstr(f->err, "Please contact"));
	{
		struct action a = action_for("x@example.com", 0);

		assert_int_equal(judge(f, &a, BAD_USER, NULL), PROVIDER_PAUSE);
		assert_non_null(strstr(f->err, "usertoken"));
		assert_non_null(strstr(f->err, "failed logins"));
	}
	/* still no cache: step 0 asks again */
	{
		struct action a = action_for("x@example.com", 0);

		assert_int_equal(f->p.ops->build(&f->p, &a, 1000, &req, f->err,
						 sizeof(f->err)), 0);
		http_req_clear(&req);
	}
}

/* answers that are not what xml.php says, and what is done with them */
static void test_malformed(void **state)
{
	static const struct {
		const char *body;
		size_t len;	/* 0: strlen */
		enum provider_result want;
		const char *why;
	} cases[] = {
		/* not a whole XML document: retried */
		{ "", 0, PROVIDER_RETRY, "empty" },
		{ " \r\n\n", 0, PROVIDER_RETRY, "empty" },
		{ "<br />\n<b>Fatal error</b>: Allowed memory size exhausted",
		  0, PROVIDER_RETRY, "not XML" },
		{ "Service Unavailable", 0, PROVIDER_RETRY, "not XML" },
		{ "<response><status>SUCCESS</status><data><item><listid>1",
		  0, PROVIDER_RETRY, "not XML" },
		{ "<response><status>SUCCESS</status><data></data>", 0,
		  PROVIDER_RETRY, "cut short" },
		{ "<response><status>SUCCESS</status>\0<data/></response>", 53,
		  PROVIDER_RETRY, "NUL" },
		{ "<response><status>&bogus;</status></response>", 0,
		  PROVIDER_RETRY, "not XML" },
		/* XML, but not an Interspire answer: failed */
		{ "<html><body>It works</body></html>", 0, PROVIDER_FAILED,
		  "not <response>" },
		{ "<response></response>", 0, PROVIDER_FAILED, "no <status>" },
		{ "<response><status>ERROR</status></response>", 0,
		  PROVIDER_FAILED, "unknown status 'ERROR'" },
	};
	struct fx *f = *state;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct action a = action_for("x@example.com", 1);
		GArray *spawn = g_array_new(FALSE, TRUE, sizeof(struct action));
		struct http_resp r = answer(cases[i].body);

		if (cases[i].len)
			r.body_len = cases[i].len;
		f->err[0] = '\0';
		assert_int_equal(f->p.ops->parse(&f->p, &a, &r, spawn, f->err,
						 sizeof(f->err)),
				 cases[i].want);
		assert_non_null(strstr(f->err, "GetAllListsForEmailAddress: "));
		assert_non_null(strstr(f->err, cases[i].why));
		assert_int_equal(spawn->len, 0);
		assert_int_equal(a.step, 1);
		g_array_free(spawn, TRUE);
	}
}

/* tolerated around the answer: BOM, leading blank lines, declaration,
   bytes that are not UTF-8 (made U+FFFD) */
static void test_tolerated(void **state)
{
	struct fx *f = *state;
	struct action a = action_for("x@example.com", 2);

	g_strlcpy(a.list_id, "3", sizeof(a.list_id));
	assert_int_equal(judge(f, &a, "\xef\xbb\xbf\n\n<?xml version=\"1.0\" "
			       "encoding=\"UTF-8\"?>\n" OK_EMPTY, NULL),
			 PROVIDER_DONE);
	assert_int_equal(judge(f, &a, FAILED("Caf\xe9 \xff closed"), NULL),
			 PROVIDER_FAILED);
	assert_non_null(strstr(f->err, "Caf\xef\xbf\xbd \xef\xbf\xbd closed"));
}

/* answers other than HTTP 200 */
static void test_http_status(void **state)
{
	static const struct {
		long status;
		enum provider_result want;
		const char *why;
	} cases[] = {
		{ 404, PROVIDER_FAILED, "HTTP 404" },
		{ 403, PROVIDER_PAUSE, "refuses us" },
		{ 401, PROVIDER_PAUSE, "HTTP 401" },
		{ 400, PROVIDER_FAILED, "check endpoint" },
		{ 301, PROVIDER_FAILED, "redirects" },
		{ 204, PROVIDER_FAILED, "HTTP 204" },
		{ 408, PROVIDER_RETRY, "HTTP 408" },
	};
	struct fx *f = *state;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct action a = action_for("x@example.com", 2);
		GArray *spawn = g_array_new(FALSE, TRUE, sizeof(struct action));
		struct http_resp r = answer(OK_EMPTY);

		r.status = cases[i].status;
		assert_int_equal(f->p.ops->parse(&f->p, &a, &r, spawn, f->err,
						 sizeof(f->err)),
				 cases[i].want);
		assert_non_null(strstr(f->err, cases[i].why));
		g_array_free(spawn, TRUE);
	}
}

/* GetLists answers: ids checked, failures reported */
static void test_getlists_answers(void **state)
{
	static const struct {
		const char *body;
		enum provider_result want;
		const char *why;
	} cases[] = {
		{ "<response><status>SUCCESS</status><data><item><name>x</name>"
		  "</item></data></response>", PROVIDER_FAILED, "<listid>" },
		{ "<response><status>SUCCESS</status><data><item><listid>-1"
		  "</listid></item></data></response>", PROVIDER_FAILED,
		  "<listid>" },
		{ FAILED("Invalid request type"), PROVIDER_FAILED,
		  "GetLists: Invalid request type" },
		{ BAD_USER, PROVIDER_PAUSE, "GetLists: Unable" },
	};
	struct fx *f = *state;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct action a = action_for("x@example.com", 0);
		struct http_req req;

		assert_int_equal(judge(f, &a, cases[i].body, NULL),
				 cases[i].want);
		assert_non_null(strstr(f->err, cases[i].why));
		/* nothing was cached */
		assert_int_equal(f->p.ops->build(&f->p, &a, 1000, &req, f->err,
						 sizeof(f->err)), 0);
		http_req_clear(&req);
	}
}

/* the children of GetAllListsForEmailAddress: only the user's lists,
   whatever the server searched */
static void test_find_only_own_lists(void **state)
{
	static const char *body =
		"<response><status>SUCCESS</status><data>"
		"<item><subscriberid>10</subscriberid><listid>1</listid></item>"
		"<item><subscriberid>11</subscriberid><listid>3</listid></item>"
		"<item><subscriberid>12</subscriberid><listid>5</listid></item>"
		"</data></response>";
	struct fx *f = *state;
	struct action a = action_for("x@example.com", 1);
	GArray *spawn = g_array_new(FALSE, TRUE, sizeof(struct action));

	fill_cache(f, 1000, LISTS_3, PROVIDER_CONTINUE);	/* 1, 2, 5 */
	assert_int_equal(judge(f, &a, body, spawn), PROVIDER_DONE);
	assert_int_equal(spawn->len, 2);
	assert_string_equal(g_array_index(spawn, struct action, 0).list_id,
			    "1");
	assert_string_equal(g_array_index(spawn, struct action, 1).list_id,
			    "5");
	assert_string_equal(g_array_index(spawn, struct action, 1)
				    .subscriber_id, "12");
	g_array_free(spawn, TRUE);
}

/* FOUND(...) - GetAllListsForEmailAddress data of the given <item>s */
#define FOUND(items) \
	"<response><status>SUCCESS</status><data>" items "</data></response>"
#define ROW(sid, lid) \
	"<item><subscriberid>" sid "</subscriberid><listid>" lid \
	"</listid></item>"

/* written_action - an unsubscribe of john.smith@example.com, its record
   having written it John.Smith@Example.com, at STEP */
static struct action written_action(uint8_t step)
{
	struct action a = action_for("john.smith@example.com", step);

	action_set_written(&a, "John.Smith@Example.com");
	assert_string_equal(action_written(&a), "John.Smith@Example.com");
	return a;
}

/* find_request - A's request at its step: GetAllListsForEmailAddress of
   EMAIL in lists 1, 2 and 5 */
static void find_request(struct fx *f, struct action *a, const char *email)
{
	const char *const names[] = { "email", "listids", "listids",
				      "listids" };
	const char *const values[] = { email, "1", "2", "5" };
	struct http_req req;

	assert_int_equal(f->p.ops->build(&f->p, a, 1001, &req, f->err,
					 sizeof(f->err)), 0);
	check_request(req.body, "admin", "tok&en", "subscribers",
		      "GetAllListsForEmailAddress", names, values, 4);
	http_req_clear(&req);
}

/* spawned_subs - what SPAWN holds, as "10,11,find": the subscriber ids
   of its unsubscribes (step 2), "find" for a search (step 1) */
static void spawned_subs(GArray *spawn, char *buf, size_t len)
{
	guint i;

	buf[0] = '\0';
	for (i = 0; i < spawn->len; i++) {
		const struct action *c = &g_array_index(spawn, struct action, i);

		if (i)
			g_strlcat(buf, ",", len);
		g_strlcat(buf, c->step == 2 ? c->subscriber_id : "find", len);
		assert_true(c->step == 2 || c->step == 1);
		assert_string_equal(c->addr, "john.smith@example.com");
		assert_string_equal(action_written(c),
				    "John.Smith@Example.com");
	}
}

/* an address whose record wrote it with capitals: searched lower-cased,
   then as written; a server comparing case-insensitively finds the same
   subscriber both times (children once, from the second answer), one
   comparing exactly finds others (children of both forms, the
   lower-cased one searched again by a child that knows) */
static void test_find_two_forms(void **state)
{
	static const struct {
		const char *lower, *written;	/* the two answers */
		const char *kids;		/* what the second spawns */
		const char *again;		/* what the search again
						   spawns (NULL: none) */
	} cases[] = {
		/* case-insensitive: both forms find every spelling */
		{ FOUND(ROW("10", "1") ROW("11", "2")),
		  FOUND(ROW("11", "2") ROW("10", "1")), "11,10", NULL },
		/* exact, stored as written only */
		{ FAILED(""), FOUND(ROW("10", "1") ROW("11", "2")), "10,11",
		  NULL },
		{ OK_EMPTY, FOUND(ROW("10", "1")), "10", NULL },
		/* exact, as written on list 1, lower-cased on list 5 */
		{ FOUND(ROW("12", "5")), FOUND(ROW("10", "1")), "10,find",
		  "12" },
		/* exact, lower-cased only */
		{ FOUND(ROW("12", "5")), FAILED(""), "find", "12" },
		{ FOUND(ROW("12", "5")), OK_EMPTY, "find", "12" },
		/* nowhere */
		{ FAILED(""), FAILED(""), "", NULL },
	};
	struct fx *f = *state;
	char got[64];
	size_t i;

	fill_cache(f, 1000, LISTS_3, PROVIDER_CONTINUE);	/* 1, 2, 5 */
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct action a = written_action(1);
		GArray *spawn = g_array_new(FALSE, TRUE, sizeof(struct action));
		struct action again;

		/* ids of the mail's headers, which a search replaces */
		g_strlcpy(a.list_id, "9", sizeof(a.list_id));
		g_strlcpy(a.subscriber_id, "777", sizeof(a.subscriber_id));
		find_request(f, &a, "john.smith@example.com");
		assert_int_equal(judge(f, &a, cases[i].lower, NULL),
				 PROVIDER_CONTINUE);
		assert_int_equal(a.step, 6);
		assert_string_equal(a.list_id, "");
		find_request(f, &a, "John.Smith@Example.com");
		assert_int_equal(judge(f, &a, cases[i].written, spawn),
				 PROVIDER_DONE);
		spawned_subs(spawn, got, sizeof(got));
		assert_string_equal(got, cases[i].kids);
		if (!cases[i].again) {
			g_array_free(spawn, TRUE);
			continue;
		}
		/* the search again: lower-cased, its answer spawned */
		again = g_array_index(spawn, struct action, spawn->len - 1);
		assert_true(again.flags & ACTION_F_EXACT);
		assert_string_equal(again.subscriber_id, "");
		assert_int_equal(again.id, 0);
		g_array_set_size(spawn, 0);
		find_request(f, &again, "john.smith@example.com");
		assert_int_equal(judge(f, &again, cases[i].lower, spawn),
				 PROVIDER_DONE);
		spawned_subs(spawn, got, sizeof(got));
		assert_string_equal(got, cases[i].again);
		g_array_free(spawn, TRUE);
	}
}

/* a restart between the two searches starts from the lists again, and
   the lower-cased form is searched again before the written one */
static void test_find_two_forms_restart(void **state)
{
	struct fx *f = *state;
	struct action a = written_action(6);
	struct http_req req;

	g_strlcpy(a.subscriber_id, "12", sizeof(a.subscriber_id));
	assert_int_equal(f->p.ops->build(&f->p, &a, 1000, &req, f->err,
					 sizeof(f->err)), 1);
	assert_int_equal(a.step, 0);
	fill_cache(f, 1000, LISTS_3, PROVIDER_CONTINUE);
	a.step = 1;
	find_request(f, &a, "john.smith@example.com");
	assert_int_equal(judge(f, &a, FAILED(""), NULL), PROVIDER_CONTINUE);
	assert_int_equal(a.step, 6);
	assert_string_equal(a.subscriber_id, "");
}

/* a payload that is no other spelling of the address is never sent: one
   search, its children at once, as for any address */
static void test_find_written_checked(void **state)
{
	static const char *const bad[] = {
		"john.smith@example.org", "John.Smith@Example.co",
		"john.smith@example.com", "JOHN.SMITH@EXAMPLE.COM\n",
		"John.Smith@Example.com ", "J\xc3\xb6hn.Smith@Example.com",
	};
	struct fx *f = *state;
	size_t i;

	fill_cache(f, 1000, LISTS_3, PROVIDER_CONTINUE);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct action a = action_for("john.smith@example.com", 1);
		GArray *spawn = g_array_new(FALSE, TRUE, sizeof(struct action));

		g_strlcpy(a.payload, bad[i], sizeof(a.payload));
		assert_null(action_written(&a));
		action_set_written(&a, bad[i]);
		assert_string_equal(a.payload, "");
		g_strlcpy(a.payload, bad[i], sizeof(a.payload));
		find_request(f, &a, "john.smith@example.com");
		assert_int_equal(judge(f, &a, FOUND(ROW("10", "1")), spawn),
				 PROVIDER_DONE);
		assert_int_equal(spawn->len, 1);
		g_array_free(spawn, TRUE);
	}
}

/* an unsubscribe queued before subscriber ids were sent (no id): by
   address, as before */
static void test_unsub_without_id(void **state)
{
	static const char *const names[] = { "emailaddress", "listid" };
	static const char *const values[] = { "x@example.com", "2" };
	struct fx *f = *state;
	struct action a = action_for("x@example.com", 2);
	struct http_req req;

	g_strlcpy(a.list_id, "2", sizeof(a.list_id));
	assert_int_equal(f->p.ops->build(&f->p, &a, 1000, &req, f->err,
					 sizeof(f->err)), 0);
	check_request(req.body, "admin", "tok&en", "subscribers",
		      "UnsubscribeSubscriber", names, values, 2);
	http_req_clear(&req);
}

/* ROW_17 - GetRecordByID of subscriber 17 on LIST with ADDR, unsubscribed
   UNSUB and bounced BOUNCED (6.1.x layout) */
#define ROW_17(list, addr, unsub, bounced) \
	"<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<response>\n" \
	"<status>SUCCESS</status>\n<data><subscriberid>17</subscriberid>\n" \
	"<listid>" list "</listid>\n<emailaddress>" addr "</emailaddress>\n" \
	"<domainname>@example.com</domainname>\n<format>h</format>\n" \
	"<confirmed>1</confirmed>\n<bounced>" bounced "</bounced>\n" \
	"<unsubscribed>" unsub "</unsubscribed>\n</data></response>\n"

/* ids_action - an action for the subscriber uid:iem:LIST:17 of class
   KLASS at STEP */
static struct action ids_action(const char *list, int klass, uint8_t step)
{
	struct action a;
	char key[64];

	snprintf(key, sizeof(key), "uid:iem:%s:17", list);
	a = action_for(key, step);
	a.op = klass == CLASS_COMPLAINT ? OP_COMPLAINT : OP_UNSUBSCRIBE;
	a.klass = (uint8_t)klass;
	g_strlcpy(a.list_id, list, sizeof(a.list_id));
	g_strlcpy(a.subscriber_id, "17", sizeof(a.subscriber_id));
	return a;
}

/* build_check - build A and check the request is METHOD with the
   subscriber's ids: its id alone (N 1: GetRecordByID), or (N 4) an empty
   address, the list, the id and skipcheck, in the order of
   UnsubscribeSubscriber's parameters (6.1.0 binds them by position) */
static void build_check(struct fx *f, struct action *a, const char *method,
			size_t n)
{
	static const char *const names[] = { "emailaddress", "listid",
					     "subscriberid", "skipcheck" };
	const char *values[] = { "", a->list_id, a->subscriber_id, "1" };
	struct http_req req;

	assert_int_equal(f->p.ops->build(&f->p, a, 1001, &req, f->err,
					 sizeof(f->err)), 0);
	check_http(&req);
	if (n == 1)
		check_request(req.body, "admin", "tok&en", "subscribers",
			      method, names + 2, values + 2, 1);
	else
		check_request(req.body, "admin", "tok&en", "subscribers",
			      method, names, values, n);
	http_req_clear(&req);
}

/* a complaint that named the subscriber by ids: the list checked against
   the user's, the subscriber's record, the unsubscribe by id with
   skipcheck, then its address for the dispatcher */
static void test_ids_complaint(void **state)
{
	struct fx *f = *state;
	struct action a = ids_action("5", CLASS_COMPLAINT, 0);
	struct http_req req;

	/* step 0: GetLists, then on to the record */
	assert_int_equal(build_at(f, &a, 1000), 0);
	assert_int_equal(judge(f, &a, LISTS_3, NULL), PROVIDER_CONTINUE);
	assert_int_equal(a.step, 3);
	build_check(f, &a, "GetRecordByID", 1);
	assert_int_equal(judge(f, &a, ROW_17("5", "Jo&amp;e@Example.COM", "0",
					     "0"), NULL), PROVIDER_CONTINUE);
	assert_int_equal(a.step, 4);
	assert_string_equal(a.resolved, "");
	build_check(f, &a, "UnsubscribeSubscriber", 4);
	assert_int_equal(judge(f, &a, OK_EMPTY, NULL), PROVIDER_CONTINUE);
	assert_int_equal(a.step, 5);
	build_check(f, &a, "GetRecordByID", 1);
	assert_int_equal(judge(f, &a, ROW_17("5", "Jo&amp;e@Example.COM",
					     "1780000000", "0"), NULL),
			 PROVIDER_DONE);
	assert_string_equal(a.resolved, "jo&e@example.com");

	/* a second one: the cache serves, no GetLists */
	a = ids_action("2", CLASS_COMPLAINT, 0);
	assert_int_equal(f->p.ops->build(&f->p, &a, 1002, &req, f->err,
					 sizeof(f->err)), 1);
	assert_int_equal(a.step, 3);
}

/* an unsubscribe mail by ids: done after the unsubscribe, no address */
static void test_ids_unsubscribe(void **state)
{
	struct fx *f = *state;
	struct action a = ids_action("2", CLASS_UNSUB, 3);

	fill_cache(f, 1000, LISTS_3, PROVIDER_CONTINUE);
	build_check(f, &a, "GetRecordByID", 1);
	assert_int_equal(judge(f, &a, ROW_17("2", "x@example.com", "0", "0"),
			       NULL), PROVIDER_CONTINUE);
	build_check(f, &a, "UnsubscribeSubscriber", 4);
	/* 6.1.0's shape */
	assert_int_equal(judge(f, &a, "<response><status>SUCCESS</status><data>"
			       "<item>1</item><item></item></data></response>",
			       NULL), PROVIDER_DONE);
	assert_string_equal(a.resolved, "");
}

/* a campaign sent to several lists: X-Mailer-LID "9,2,1", the key
   uid:iem:9,2,1:17.  One GetRecordByID (which takes no list: a subscriber
   id is one row of one list) names the subscriber's list; only that list,
   when it is one of those listed and one of the user's, is acted on */
static void test_ids_several_lists(void **state)
{
	static const struct {
		const char *lists, *row_list;
		enum provider_result want;
		const char *list_after, *why;
	} cases[] = {
		{ "9,2,1", "2", PROVIDER_CONTINUE, "2", "" },
		{ "2,24,12", "2", PROVIDER_CONTINUE, "2", "" },
		/* on a list the mail was not sent to: the ids do not match */
		{ "9,2,1", "5", PROVIDER_FAILED, "9,2,1",
		  "is on list '5', not on lists 9,2,1" },
		/* a prefix of a listed id is not that id */
		{ "9,21,1", "2", PROVIDER_FAILED, "9,21,1", "not on lists" },
		/* listed, but another user's list: never acted on */
		{ "9,2,1", "9", PROVIDER_FAILED, "9,2,1",
		  "not one of the user's lists" },
	};
	struct fx *f = *state;
	struct http_req req;
	struct action a;
	size_t i;

	fill_cache(f, 1000, LISTS_3, PROVIDER_CONTINUE);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char row[600];

		a = ids_action(cases[i].lists, CLASS_UNSUB, 3);
		build_check(f, &a, "GetRecordByID", 1);
		snprintf(row, sizeof(row), ROW_17("%s", "x@example.com", "0",
						  "0"), cases[i].row_list);
		assert_int_equal(judge(f, &a, row, NULL), cases[i].want);
		assert_string_equal(a.list_id, cases[i].list_after);
		assert_non_null(strstr(f->err, cases[i].why));
		if (cases[i].want != PROVIDER_CONTINUE)
			continue;
		/* the unsubscribe names that one list */
		assert_int_equal(a.step, 4);
		build_check(f, &a, "UnsubscribeSubscriber", 4);
		assert_int_equal(judge(f, &a, OK_EMPTY, NULL), PROVIDER_DONE);
	}

	/* none of the lists is the user's: no call at all */
	a = ids_action("9,24,12", CLASS_UNSUB, 3);
	assert_int_equal(f->p.ops->build(&f->p, &a, 1001, &req, f->err,
					 sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "lists 9,24,12 is not one of"));

	/* a list set reaching the unsubscribe (an action stored before its
	   list was chosen) asks for the record first */
	a = ids_action("9,2,1", CLASS_UNSUB, 4);
	assert_int_equal(f->p.ops->build(&f->p, &a, 1001, &req, f->err,
					 sizeof(f->err)), 1);
	assert_int_equal(a.step, 3);

	/* not list ids: refused before any request */
	a = ids_action("2,,1", CLASS_UNSUB, 3);
	assert_int_equal(f->p.ops->build(&f->p, &a, 1001, &req, f->err,
					 sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "no numeric"));
}

/* long_lids - N list ids of four digits from 1000, then TAIL (may be
   "") after a comma, into a new string */
static char *long_lids(unsigned n, const char *tail)
{
	GString *g = g_string_new(NULL);
	unsigned i;

	for (i = 0; i < n; i++)
		g_string_append_printf(g, "%s%u", i ? "," : "", 1000 + i);
	if (*tail)
		g_string_append_printf(g, ",%s", tail);
	return g_string_free(g, FALSE);
}

/* a campaign sent to more lists than a key holds: the key says
   uid:iem:lists:17 and the event carries every id (X-Mailer-LID as long
   as a header line); the provider takes them all from the event, finds
   the user's among them (the last one here) and acts on the record's
   list alone */
static void test_ids_long_lists(void **state)
{
	struct fx *f = *state;
	char *lids = long_lids(196, "12,2"), *other = long_lids(196, "12,7");
	struct event_extra x = { .iem_list_id = lids,
				 .iem_subscriber_id = "17" };
	struct event ev = { .kind = EV_ARF, .klass = CLASS_COMPLAINT,
			    .rcpt = "uid:iem:lists:17", .x = &x };
	struct http_req req;
	struct action a;
	char row[600];

	assert_int_equal(strlen(lids), ARF_IEM_LID_SIZE - 1);
	fill_cache(f, 1000, LISTS_3, PROVIDER_CONTINUE);
	a = action_for("uid:iem:lists:17", 3);
	a.op = OP_COMPLAINT;
	a.klass = CLASS_COMPLAINT;
	f->p.ops->ids(&f->cfg, &ev, &a);
	assert_string_equal(a.list_id, lids);	/* whole: its last id too */
	assert_string_equal(a.subscriber_id, "17");
	assert_true(f->p.ops->uid_actor(&a));
	build_check(f, &a, "GetRecordByID", 1);
	snprintf(row, sizeof(row), ROW_17("%s", "x@example.com", "0", "0"),
		 "2");
	assert_int_equal(judge(f, &a, row, NULL), PROVIDER_CONTINUE);
	assert_string_equal(a.list_id, "2");
	assert_int_equal(a.step, 4);
	build_check(f, &a, "UnsubscribeSubscriber", 4);
	assert_int_equal(judge(f, &a, OK_EMPTY, NULL), PROVIDER_CONTINUE);
	assert_int_equal(a.step, 5);

	/* the record's list is not among them: nothing done, the message
	   bounded and cut after a whole id */
	a = action_for("uid:iem:lists:17", 3);
	g_strlcpy(a.list_id, lids, sizeof(a.list_id));
	g_strlcpy(a.subscriber_id, "17", sizeof(a.subscriber_id));
	snprintf(row, sizeof(row), ROW_17("%s", "x@example.com", "0", "0"),
		 "5");
	assert_int_equal(judge(f, &a, row, NULL), PROVIDER_FAILED);
	assert_non_null(strstr(f->err, "is on list '5', not on lists "
				       "1000,1001,"));
	assert_non_null(strstr(f->err, ",... (198 lists): the ids do not "
				       "match"));
	assert_string_equal(a.list_id, lids);

	/* none of them is the user's: no call, the message bounded too */
	a = action_for("uid:iem:lists:17", 3);
	g_strlcpy(a.list_id, other, sizeof(a.list_id));
	g_strlcpy(a.subscriber_id, "17", sizeof(a.subscriber_id));
	assert_int_equal(f->p.ops->build(&f->p, &a, 1001, &req, f->err,
					 sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "(198 lists) is not one of the lists "
				       "of user 'admin'"));
	assert_non_null(strstr(f->err, "subscriber 17 not unsubscribed"));

	/* one id more than X-Mailer-LID keeps is not taken from an event
	   (an accounting column is not bounded by the report parser) */
	g_free(other);
	other = g_strconcat(lids, "1", NULL);
	x.iem_list_id = other;
	memset(&a, 0, sizeof(a));
	f->p.ops->ids(&f->cfg, &ev, &a);
	assert_string_equal(a.list_id, "");
	assert_false(f->p.ops->uid_actor(&a));
	g_free(other);
	g_free(lids);
}

/* what the record of a subscriber known by ids may say */
static void test_ids_record_answers(void **state)
{
	static const struct {
		int klass;
		uint8_t step;
		const char *body;
		enum provider_result want;
		uint8_t then;
		const char *resolved, *why;
	} cases[] = {
		/* no such subscriber: 6.1.x FAILED empty, 6.1.0 empty data,
		   as a failed query: asked again first (below: believed
		   then) */
		{ CLASS_COMPLAINT, 3, FAILED(""), PROVIDER_RETRY, 3, "",
		  "asked again" },
		{ CLASS_COMPLAINT, 3, OK_EMPTY, PROVIDER_RETRY, 3, "",
		  "asked again" },
		/* already gone from the list: nothing to unsubscribe, but a
		   complaint still names its address */
		{ CLASS_COMPLAINT, 3, ROW_17("5", "a@example.com", "1700000000",
					     "0"), PROVIDER_DONE, 3,
		  "a@example.com", "" },
		{ CLASS_COMPLAINT, 3, ROW_17("5", "a@example.com", "0",
					     "1700000000"), PROVIDER_DONE, 3,
		  "a@example.com", "" },
		{ CLASS_UNSUB, 3, ROW_17("5", "a@example.com", "1700000000",
					 "0"), PROVIDER_DONE, 3, "", "" },
		/* the ids do not belong together: nothing is done */
		{ CLASS_COMPLAINT, 3, ROW_17("2", "a@example.com", "0", "0"),
		  PROVIDER_FAILED, 3, "", "is on list '2', not on list 5" },
		{ CLASS_COMPLAINT, 3,
		  "<response><status>SUCCESS</status><data><subscriberid>18"
		  "</subscriberid><listid>5</listid></data></response>",
		  PROVIDER_FAILED, 3, "", "answered subscriber '18'" },
		{ CLASS_COMPLAINT, 3, FAILED("Invalid request type"),
		  PROVIDER_FAILED, 3, "", "GetRecordByID: Invalid request type" },
		/* 6.5.x: compact, non-ASCII as character references */
		{ CLASS_COMPLAINT, 5,
		  "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<response>\n"
		  "<status>SUCCESS</status>\n<data><subscriberid>17"
		  "</subscriberid><listid>5</listid><emailaddress>Jos&#xE9;"
		  "@example.com</emailaddress><bounced>0</bounced>"
		  "<unsubscribed>1780000000</unsubscribed></data></response>\n",
		  PROVIDER_DONE, 5, "jos\xc3\xa9@example.com", "" },
		/* after the unsubscribe anything is done: the address is a
		   bonus, the unsubscribe happened */
		{ CLASS_COMPLAINT, 5, FAILED(""), PROVIDER_DONE, 5, "", "" },
		{ CLASS_COMPLAINT, 5, FAILED("Database error"), PROVIDER_DONE, 5,
		  "", "Database error" },
		{ CLASS_COMPLAINT, 5, ROW_17("5", "not an address", "1", "0"),
		  PROVIDER_DONE, 5, "", "" },
		{ CLASS_COMPLAINT, 5, ROW_17("4", "a@example.com", "1", "0"),
		  PROVIDER_DONE, 5, "", "not on list 5" },
		/* the unsubscribe by id */
		{ CLASS_COMPLAINT, 4, FAILED("No List or email address"),
		  PROVIDER_FAILED, 4, "", "list 5: No List or email address" },
		{ CLASS_UNSUB, 4, OK_EMPTY, PROVIDER_DONE, 4, "", "" },
		/* not a whole answer: retried */
		{ CLASS_COMPLAINT, 3, "<response><status>SUCCESS</status>",
		  PROVIDER_RETRY, 3, "", "GetRecordByID: the answer is" },
	};
	struct fx *f = *state;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct action a = ids_action("5", cases[i].klass,
					     cases[i].step);

		g_strlcpy(a.resolved, "stale@example.com", sizeof(a.resolved));
		assert_int_equal(judge(f, &a, cases[i].body, NULL),
				 cases[i].want);
		assert_int_equal(a.step, cases[i].then);
		if (cases[i].want != PROVIDER_RETRY)
			assert_string_equal(a.resolved, cases[i].resolved);
		assert_non_null(strstr(f->err, cases[i].why));
	}
	/* the same answer to the retry is believed: done, nothing to do */
	for (i = 0; i < 2; i++) {
		struct action a = ids_action("5", CLASS_COMPLAINT, 3);

		assert_int_equal(judge(f, &a, i ? OK_EMPTY : FAILED(""), NULL),
				 PROVIDER_RETRY);
		assert_true(a.flags & ACTION_F_ASKED_AGAIN);
		assert_int_equal(judge(f, &a, i ? OK_EMPTY : FAILED(""), NULL),
				 PROVIDER_DONE);
		assert_string_equal(a.resolved, "");
	}
}

/* the list of a subscriber known by ids must be one of the user's: a
   cache older than the action is fetched again once, then it fails */
static void test_ids_other_users_list(void **state)
{
	struct fx *f = *state;
	struct action a = ids_action("9", CLASS_COMPLAINT, 3);
	struct http_req req;

	fill_cache(f, 1000, LISTS_3, PROVIDER_CONTINUE);	/* 1, 2, 5 */
	/* queued before the cache was filled: fails at once */
	a.created_ms = 999000;
	assert_int_equal(f->p.ops->build(&f->p, &a, 1001, &req, f->err,
					 sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "list 9 is not one of the lists of "
				       "user 'admin'"));
	assert_null(req.body);

	/* queued after it: GetLists again, though the cache is fresh */
	a = ids_action("9", CLASS_COMPLAINT, 3);
	a.created_ms = 1100000;
	assert_int_equal(f->p.ops->build(&f->p, &a, 1101, &req, f->err,
					 sizeof(f->err)), 1);
	assert_int_equal(a.step, 0);
	assert_int_equal(build_at(f, &a, 1101), 0);
	assert_int_equal(judge(f, &a,
			       "<response><status>SUCCESS</status><data><item>"
			       "<listid>9</listid></item></data></response>",
			       NULL), PROVIDER_CONTINUE);
	build_check(f, &a, "GetRecordByID", 1);

	/* and a list still missing after that fetch: failed */
	a = ids_action("8", CLASS_COMPLAINT, 3);
	a.created_ms = 1100000;
	assert_int_equal(f->p.ops->build(&f->p, &a, 1102, &req, f->err,
					 sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "list 8 is not one"));

	/* a user with no list at all (said twice, a minute apart) */
	fill_cache(f, 1940, FAILED(""), PROVIDER_RETRY);
	fill_cache(f, 2000, FAILED(""), PROVIDER_DONE);
	a = ids_action("9", CLASS_UNSUB, 0);
	assert_int_equal(f->p.ops->build(&f->p, &a, 2001, &req, f->err,
					 sizeof(f->err)), 1);
	assert_int_equal(a.step, 3);
	assert_int_equal(f->p.ops->build(&f->p, &a, 2001, &req, f->err,
					 sizeof(f->err)), -1);
}

/* what build() refuses for subscribers known by ids, and for addresses at
   their steps */
static void test_ids_refusals(void **state)
{
	static const struct {
		const char *addr, *list, *sub;
		uint8_t step;
		const char *why;
	} cases[] = {
		{ "uid:iem:5:17", "", "17", 3, "no numeric" },
		{ "uid:iem:5:17", "5", "", 0, "no numeric" },
		{ "uid:iem:5:17", "5", "", 4, "no numeric" },
		{ "uid:iem:5:17", "5", "1 OR 1", 5, "no numeric" },
		{ "uid:iem:5:17", "5", "17", 1, "step 1 is not for a subscriber "
						"known by ids" },
		{ "uid:iem:5:17", "5", "17", 2, "step 2 is not" },
		{ "x@example.com", "5", "17", 3, "step 3 is not for an address" },
		{ "x@example.com", "5", "17", 5, "step 5 is not" },
		{ "uid:iem:5:17", "5", "17", 6, "step 6 is not for a "
						"subscriber known by ids" },
		{ "x@example.com", "5", "17", 7, "unknown step 7" },
	};
	struct fx *f = *state;
	size_t i;

	fill_cache(f, 1000, LISTS_3, PROVIDER_CONTINUE);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct action a = action_for(cases[i].addr, cases[i].step);
		struct http_req req;

		g_strlcpy(a.list_id, cases[i].list, sizeof(a.list_id));
		g_strlcpy(a.subscriber_id, cases[i].sub,
			  sizeof(a.subscriber_id));
		f->err[0] = '\0';
		assert_int_equal(f->p.ops->build(&f->p, &a, 1001, &req, f->err,
						 sizeof(f->err)), -1);
		assert_non_null(strstr(f->err, cases[i].why));
		assert_null(req.body);
	}
}

/* the probe: authentication/xmlapitest and its verdicts */
static void test_probe(void **state)
{
	static const struct {
		long status;
		const char *body;
		enum provider_result want;
		const char *why;
	} cases[] = {
		/* 6.1.x */
		{ 200, "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<response>\n"
		  "<status>SUCCESS</status>\n<data><userid>1</userid>\n"
		  "<username>admin</username></data></response>\n",
		  PROVIDER_DONE, "accepts user 'admin' (id 1)" },
		/* 6.5.x */
		{ 200, "<response><status>SUCCESS</status><data><user><userid>7"
		  "</userid><username>o&#039;neil</username></user></data>"
		  "</response>", PROVIDER_DONE, "accepts user 'o'neil' (id 7)" },
		{ 200, BAD_USER, PROVIDER_PAUSE, "check username and usertoken" },
		{ 200, FAILED("Invalid details"), PROVIDER_PAUSE, "Invalid" },
		{ 200, FAILED("Error: Please contact your system admin!"),
		  PROVIDER_PAUSE, "not active" },
		{ 200, FAILED("Invalid request type"), PROVIDER_FAILED,
		  "is endpoint the xml.php" },
		{ 200, FAILED("No data has been given to the XML-API."),
		  PROVIDER_FAILED, "No data" },
		{ 200, "<html><body>It works!</body></html>", PROVIDER_FAILED,
		  "not <response>" },
		{ 200, "<br />\n<b>Fatal error</b>: out of memory",
		  PROVIDER_RETRY, "not XML" },
		{ 401, "", PROVIDER_PAUSE, "HTTP 401" },
		{ 403, "", PROVIDER_PAUSE, "HTTP 403" },
		{ 404, "", PROVIDER_FAILED, "HTTP 404" },
		{ 302, "", PROVIDER_FAILED, "redirects" },
		{ 408, "", PROVIDER_RETRY, "HTTP 408" },
		{ 429, "", PROVIDER_RETRY, "HTTP 429" },
		{ 503, "", PROVIDER_RETRY, "HTTP 503" },
	};
	struct fx *f = *state;
	struct http_req req;
	size_t i;

	assert_int_equal(f->p.ops->probe(&f->p, 1000, &req, f->err,
					 sizeof(f->err)), 0);
	check_http(&req);
	check_request(req.body, "admin", "tok&en", "authentication",
		      "xmlapitest", NULL, NULL, 0);
	http_req_clear(&req);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct http_resp r = answer(cases[i].body);

		r.status = cases[i].status;
		f->err[0] = '\0';
		assert_int_equal(f->p.ops->probe_parse(&f->p, &r, f->err,
						       sizeof(f->err)),
				 cases[i].want);
		assert_non_null(strstr(f->err, cases[i].why));
	}
	/* the probe leaves the list cache alone */
	{
		struct action a = action_for("x@example.com", 0);

		assert_int_equal(build_at(f, &a, 1000), 0);
	}
}

/* ---- iem_xml directly ----------------------------------------------- */

static void test_xml_request_values(void **state)
{
	static const char *const odd[] = {
		"a&b@example.com", "<x>'\"@example.com", "&amp;", "]]>",
		"tab\there", "  spaced  ", "\xe2\x82\xac",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		struct iem_param prm = { "v", odd[i] };
		const char *names[] = { "v" };
		char *doc = NULL, err[128];
		size_t len = 0;

		assert_int_equal(iem_xml_request("u", "t", "subscribers", "M",
						 &prm, 1, &doc, &len, err,
						 sizeof(err)), 0);
		assert_int_equal(len, strlen(doc));
		check_request(doc, "u", "t", "subscribers", "M", names, &odd[i],
			      1);
		g_free(doc);
	}
}

static void test_xml_request_refusals(void **state)
{
	static const struct {
		const char *user, *value;
	} cases[] = {
		{ "", "x" },
		{ "u", "a\x01" },
		{ "u", "\xc3" },		/* cut UTF-8 */
		{ "u", "\xef\xbf\xbe" },	/* U+FFFE */
		{ "u", NULL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct iem_param prm = { "v", cases[i].value };
		char *doc = (char *)"x", err[128] = "";
		size_t len = 9;

		assert_int_equal(iem_xml_request(cases[i].user, "t", "s", "M",
						 &prm, 1, &doc, &len, err,
						 sizeof(err)), -EINVAL);
		assert_null(doc);
		assert_int_equal(len, 0);
		assert_true(err[0] != '\0');
	}
	{
		char *big = g_malloc(IEM_XML_VALUE_MAX + 2);

		memset(big, 'a', IEM_XML_VALUE_MAX + 1);
		big[IEM_XML_VALUE_MAX + 1] = '\0';
		assert_false(iem_xml_value_ok(big));
		big[IEM_XML_VALUE_MAX] = '\0';
		assert_true(iem_xml_value_ok(big));
		g_free(big);
	}
}

static void test_xml_parse_text(void **state)
{
	static const char *body =
		"<response>\n<status> SUCCESS </status>\n\n<data>\n"
		"\t<a>  O&#039;Brien &amp; &quot;co&quot; &#x41;&lt;  </a>\n"
		"\t<b><![CDATA[x<y]]></b>\n"
		"\t<c>0123456789</c>\n"
		"</data>\n\n</response>\n";
	struct iem_answer ans;
	char buf[8], err[128];
	char *t;

	(void)state;
	assert_int_equal(iem_xml_parse(body, strlen(body), &ans, err,
				       sizeof(err)), 0);
	assert_int_equal(ans.status, IEM_SUCCESS);
	assert_string_equal(ans.errormessage, "");
	assert_non_null(ans.data);
	t = iem_xml_text(iem_xml_child(ans.data, NULL, "a"));
	assert_string_equal(t, "O'Brien & \"co\" A<");
	g_free(t);
	t = iem_xml_text(iem_xml_child(ans.data, NULL, "b"));
	assert_string_equal(t, "x<y");
	g_free(t);
	assert_int_equal(iem_xml_child_text(ans.data, "c", buf, sizeof(buf)),
			 -ENAMETOOLONG);
	assert_string_equal(buf, "");
	assert_int_equal(iem_xml_child_text(ans.data, "d", buf, sizeof(buf)),
			 -ENOENT);
	assert_null(iem_xml_child(ans.data, iem_xml_child(ans.data, NULL, "c"),
				  NULL));
	assert_null(iem_xml_text(NULL));
	iem_xml_answer_clear(&ans);
	assert_null(ans.tree);

	assert_int_equal(iem_xml_parse(FAILED("x &#039;y&#039;"),
				       strlen(FAILED("x &#039;y&#039;")), &ans,
				       err, sizeof(err)), 0);
	assert_int_equal(ans.status, IEM_FAILED);
	assert_null(ans.data);
	assert_string_equal(ans.errormessage, "x 'y'");
	iem_xml_answer_clear(&ans);
}

/* deep nesting and many items stay within bounds (no recursion blow-up) */
static void test_xml_parse_big(void **state)
{
	GString *s = g_string_new("<response><status>SUCCESS</status><data>");
	struct iem_answer ans;
	char err[128];
	int i, n = 0;
	mxml_node_t *item = NULL;

	(void)state;
	for (i = 0; i < 20000; i++)
		g_string_append(s, "<x>");
	for (i = 0; i < 20000; i++)
		g_string_append(s, "</x>");
	for (i = 0; i < 5000; i++)
		g_string_append_printf(s, "<item><listid>%d</listid></item>\n",
				       i + 1);
	g_string_append(s, "</data></response>");
	assert_int_equal(iem_xml_parse(s->str, s->len, &ans, err, sizeof(err)),
			 0);
	while ((item = iem_xml_child(ans.data, item, "item")) != NULL)
		n++;
	assert_int_equal(n, 5000);
	iem_xml_answer_clear(&ans);
	g_string_free(s, TRUE);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_errors),
		cmocka_unit_test(test_ops_table),
		T(test_getlists_request),
		T(test_cache_refresh),
		T(test_cache_newer_action),
		T(test_cache_replaced),
		T(test_cache_while_refreshing),
		T(test_zero_lists),
		T(test_step1_without_cache),
		T(test_escaping),
		T(test_build_refusals),
		T(test_find_spawns),
		T(test_find_answers),
		T(test_unsub_answers),
		T(test_bad_credentials),
		T(test_malformed),
		T(test_tolerated),
		T(test_http_status),
		T(test_getlists_answers),
		T(test_find_only_own_lists),
		T(test_find_two_forms),
		T(test_find_two_forms_restart),
		T(test_find_written_checked),
		T(test_unsub_without_id),
		T(test_ids_complaint),
		T(test_ids_unsubscribe),
		T(test_ids_several_lists),
		T(test_ids_long_lists),
		T(test_ids_record_answers),
		T(test_ids_other_users_list),
		T(test_ids_refusals),
		T(test_probe),
		cmocka_unit_test(test_xml_request_values),
		cmocka_unit_test(test_xml_request_refusals),
		cmocka_unit_test(test_xml_parse_text),
		cmocka_unit_test(test_xml_parse_big),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
