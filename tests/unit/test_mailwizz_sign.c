/*
 * test_mailwizz_sign.c - the MailWizz v1 signature: the four published
 * vectors (signed string and HMAC), and the PHP urlencode() /
 * http_build_query() rules it depends on.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mailwizz_sign.h"

#define PUB "PUBKEY123"
#define PRIV "PRIVKEY456"
#define TS "1700000000"

struct vector {
	const char *method;
	const char *url;	/* with its GET query */
	const char *keys[8], *vals[8];
	size_t n;
	const char *signed_string;
	const char *signature;
};

/* the four published v1 vectors: public PUBKEY123, private PRIVKEY456 */
static const struct vector vectors[] = {
	{ "GET", "https://mw.example.com/api/lists?page=1&per_page=10",
	  { "X-MW-PUBLIC-KEY", "X-MW-REMOTE-ADDR", "X-MW-TIMESTAMP" },
	  { PUB, "", TS }, 3,
	  "GET https://mw.example.com/api/lists?page=1&per_page=10"
	  "&X-MW-PUBLIC-KEY=PUBKEY123&X-MW-REMOTE-ADDR=&X-MW-TIMESTAMP=1700000000",
	  "95388acce7d87ea53e44e9a14c7c43077d0fd595" },
	/* EMAIL is a PUT body field: it sorts before the X-MW-* keys */
	{ "PUT", "https://mw.example.com/api/lists/subscribers/"
		 "unsubscribe-by-email-from-all-lists",
	  { "X-MW-PUBLIC-KEY", "X-MW-TIMESTAMP", "X-MW-REMOTE-ADDR", "EMAIL" },
	  { PUB, TS, "", "john+x@doe.com" }, 4,
	  "PUT https://mw.example.com/api/lists/subscribers/"
	  "unsubscribe-by-email-from-all-lists?EMAIL=john%2Bx%40doe.com"
	  "&X-MW-PUBLIC-KEY=PUBKEY123&X-MW-REMOTE-ADDR=&X-MW-TIMESTAMP=1700000000",
	  "25ea1bb68396a19a95e059580d3bfb64a0068d1f" },
	{ "POST", "https://mw.example.com/api/campaigns/cc123cd456ef7/bounces",
	  { "subscriber_uid", "message", "bounce_type", "X-MW-TIMESTAMP",
	    "X-MW-REMOTE-ADDR", "X-MW-PUBLIC-KEY" },
	  { "zz123cd456ef7", "Mailbox full", "soft", TS, "10.0.0.1", PUB }, 6,
	  "POST https://mw.example.com/api/campaigns/cc123cd456ef7/bounces"
	  "?X-MW-PUBLIC-KEY=PUBKEY123&X-MW-REMOTE-ADDR=10.0.0.1"
	  "&X-MW-TIMESTAMP=1700000000&bounce_type=soft&message=Mailbox+full"
	  "&subscriber_uid=zz123cd456ef7",
	  "619236e678d216832b92a48bfebbc6fc5f39f9b1" },
	{ "DELETE", "https://mw.example.com/api/lists/ab123cd456ef7/"
		    "subscribers/zz123cd456ef7",
	  { "X-MW-PUBLIC-KEY", "X-MW-REMOTE-ADDR", "X-MW-TIMESTAMP" },
	  { PUB, "", TS }, 3,
	  "DELETE https://mw.example.com/api/lists/ab123cd456ef7/subscribers/"
	  "zz123cd456ef7?X-MW-PUBLIC-KEY=PUBKEY123&X-MW-REMOTE-ADDR="
	  "&X-MW-TIMESTAMP=1700000000",
	  "53d340f7b99eb29c03950d030997634ffb804d4a" },
};

static void test_vectors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const struct vector *v = &vectors[i];
		GString *s = g_string_new(NULL);
		char hex[MW_SIGN_HEX_LEN + 1];

		assert_int_equal(mw_signed_string(s, v->method, v->url,
						  v->keys, v->vals, v->n), 0);
		assert_string_equal(s->str, v->signed_string);
		assert_int_equal(mw_sign(v->method, v->url, v->keys, v->vals,
					 v->n, PRIV, hex), 0);
		assert_string_equal(hex, v->signature);
		g_string_free(s, TRUE);
	}
}

/* a lower-case method is signed upper-case; the wrong key changes it all */
static void test_method_case_and_key(void **state)
{
	const struct vector *v = &vectors[3];
	char hex[MW_SIGN_HEX_LEN + 1];

	(void)state;
	assert_int_equal(mw_sign("delete", v->url, v->keys, v->vals, v->n,
				 PRIV, hex), 0);
	assert_string_equal(hex, v->signature);
	assert_int_equal(mw_sign("DELETE", v->url, v->keys, v->vals, v->n,
				 "PRIVKEY457", hex), 0);
	assert_string_not_equal(hex, v->signature);
	assert_int_equal(strlen(hex), MW_SIGN_HEX_LEN);
}

static const struct {
	const char *in;
	size_t len;	/* 0 = strlen */
	const char *out;
} encodings[] = {
	{ "a b", 0, "a+b" },
	{ "~", 0, "%7E" },
	{ "*", 0, "%2A" },
	{ "AZaz09_.-", 0, "AZaz09_.-" },
	{ "+&=/?#%", 0, "%2B%26%3D%2F%3F%23%25" },
	{ "jos\xc3\xa9", 0, "jos%C3%A9" },
	{ "\xe2\x82\xac", 0, "%E2%82%AC" },
	{ "\xff\x80", 0, "%FF%80" },
	{ "a\0b", 3, "a%00b" },
	{ "\t\r\n", 0, "%09%0D%0A" },
	{ "a+b&c@example.com", 0, "a%2Bb%26c%40example.com" },
	{ "", 0, "" },
};

static void test_urlencode(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(encodings) / sizeof(encodings[0]); i++) {
		GString *s = g_string_new("pre:");
		size_t len = encodings[i].len ? encodings[i].len
					      : strlen(encodings[i].in);

		mw_urlencode(s, encodings[i].in, len);
		assert_string_equal(s->str + 4, encodings[i].out);
		assert_memory_equal(s->str, "pre:", 4);	/* appends */
		g_string_free(s, TRUE);
	}
}

/* byte-wise key order: digits, upper case, '_', lower case; prefixes first */
static void test_sort_and_empty(void **state)
{
	const char *keys[] = { "b", "ab", "B", "_x", "a", "A", "0", "Ab" };
	const char *vals[] = { "2", "", "1", "u", "", "x y", "z", "~" };
	GString *s = g_string_new(NULL);

	(void)state;
	assert_int_equal(mw_build_query(s, keys, vals, 8), 0);
	assert_string_equal(s->str, "0=z&A=x+y&Ab=%7E&B=1&_x=u&a=&ab=&b=2");
	g_string_free(s, TRUE);
}

static void test_separator_and_empty_query(void **state)
{
	const char *keys[] = { "k" }, *vals[] = { "v" };
	GString *s = g_string_new(NULL);

	(void)state;
	assert_int_equal(mw_signed_string(s, "GET", "http://h/api/x?a=1",
					  keys, vals, 1), 0);
	assert_string_equal(s->str, "GET http://h/api/x?a=1&k=v");
	g_string_truncate(s, 0);
	assert_int_equal(mw_signed_string(s, "GET", "http://h/api/x", keys,
					  vals, 1), 0);
	assert_string_equal(s->str, "GET http://h/api/x?k=v");
	g_string_truncate(s, 0);
	assert_int_equal(mw_build_query(s, NULL, NULL, 0), 0);
	assert_string_equal(s->str, "");
	g_string_free(s, TRUE);
}

static void test_refusals(void **state)
{
	const char *keys[MW_QUERY_MAX + 1], *vals[MW_QUERY_MAX + 1];
	const char *nullval[] = { NULL };
	GString *s = g_string_new(NULL);
	char hex[MW_SIGN_HEX_LEN + 1] = "junk";
	size_t i;

	(void)state;
	for (i = 0; i <= MW_QUERY_MAX; i++)
		keys[i] = "k", vals[i] = "v";
	assert_int_equal(mw_build_query(s, keys, vals, MW_QUERY_MAX + 1),
			 -E2BIG);
	assert_int_equal(mw_build_query(s, keys, vals, MW_QUERY_MAX), 0);
	assert_int_equal(mw_build_query(s, keys, nullval, 1), -EINVAL);
	assert_int_equal(mw_build_query(NULL, keys, vals, 1), -EINVAL);
	assert_int_equal(mw_sign("GET", "http://h/", keys, vals,
				 MW_QUERY_MAX + 1, PRIV, hex), -E2BIG);
	assert_string_equal(hex, "");
	assert_int_equal(mw_sign("GET", "http://h/", keys, vals, 1, NULL, hex),
			 -EINVAL);
	assert_int_equal(mw_sign(NULL, "http://h/", keys, vals, 1, PRIV, hex),
			 -EINVAL);
	g_string_free(s, TRUE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_method_case_and_key),
		cmocka_unit_test(test_urlencode),
		cmocka_unit_test(test_sort_and_empty),
		cmocka_unit_test(test_separator_and_empty_query),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
