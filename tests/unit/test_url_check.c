/*
 * test_url_check.c - url_check.c: URLs libcurl's parser refuses are
 * refused with its reason (an IPv6 address left open, a port over 65535 or
 * 0, no host, a wrong scheme, "http:/host"), good ones pass; url_show
 * masks the password of the user part of valid and invalid URLs alike.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "url_check.h"

static const char *const http[] = { "http", "https", NULL };
static const char *const smtp[] = { "smtp", "smtps", NULL };

/* test_good - URLs libcurl can use */
static void test_good(void **state)
{
	static const char *const ok[] = {
		"https://mw.example.com/api",
		"http://127.0.0.1:8080/x?y=1#z",
		"https://user:pass@mw.example.com/api",
		"http://[::1]:8080/x",
		"HTTPS://MW.EXAMPLE.COM",
		"https://h.example.com:65535",
		"http://h.example.com:1/",
	};
	char why[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (url_check(ok[i], http, why, sizeof(why)) != 0)
			print_message("%s: %s\n", ok[i], why);
		assert_int_equal(url_check(ok[i], http, why, sizeof(why)), 0);
	}
	assert_int_equal(url_check("smtps://u:p@mail.example.com", smtp, why,
				   sizeof(why)), 0);
	assert_int_equal(url_check("smtp://localhost:25", smtp, why,
				   sizeof(why)), 0);
}

/* test_bad - refused, with a reason that names the part */
static void test_bad(void **state)
{
	static const struct {
		const char *url;
		const char *const *schemes;
		const char *why;
	} bad[] = {
		{ "http://[::1", http, "IPv6" },
		{ "http://h.example.com:70000/", http, "Port number" },
		{ "http://h.example.com:65536/", http, "Port number" },
		{ "http://h.example.com:0/", http, "port 0" },
		{ "http://h.example.com:-1/", http, "Port number" },
		{ "http://:80/", http, "host" },
		{ "http://", http, "host" },
		{ "https://u:p@/api", http, "host" },
		{ "ftp://h.example.com/", http, "scheme is ftp" },
		{ "smtp://h.example.com/", http, "scheme is smtp" },
		{ "https://h.example.com/", smtp, "scheme is https" },
		{ "http:/h.example.com/", http, "http://" },
		{ "https:///h.example.com/", http, "no host" },
		{ "http:h.example.com", http, "slashes" },
		{ "h.example.com/api", http, "" },
		{ "http://h.example.com/a b", http, "blank" },
		{ "http://h.example.com/\"", http, "quote" },
		{ "", http, "empty" },
	};
	char why[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = url_check(bad[i].url, bad[i].schemes, why,
				   sizeof(why));

		if (rc != -EINVAL || !strstr(why, bad[i].why))
			print_message("%s: rc %d, %s\n", bad[i].url, rc, why);
		assert_int_equal(rc, -EINVAL);
		assert_non_null(strstr(why, bad[i].why));
		assert_true(why[0] != '\0');
	}
	assert_int_equal(url_check(NULL, http, why, sizeof(why)), -EINVAL);
}

/* test_show - the password of the user part as "****", nothing else */
static void test_show(void **state)
{
	static const struct {
		const char *url, *shown;
	} cases[] = {
		{ "https://user:PASSWORD@host/api", "https://user:****@host/api" },
		{ "smtps://user:PASSWORD@host", "smtps://user:****@host" },
		{ "smtps://user:PASSWORD@host:465?x", "smtps://user:****@host:465?x" },
		{ "http://user:p%40ss@h/x@y", "http://user:****@h/x@y" },
		{ "http://user:p@ss@h/", "http://user:****@h/" },
		{ "http://user@h/a:b@c", "http://user@h/a:b@c" },
		/* a password holding '/': found (a path holding '@' after
		   host:port is masked too: never too little) */
		{ "smtps://user:s3c/ret@relay.example.com",
		  "smtps://user:****@relay.example.com" },
		{ "smtps://user:465/Xy9pQ@relay.example.com",
		  "smtps://user:****@relay.example.com" },
		{ "https://hook:8443/s3cr3t@hooks.example.com/in?a=b",
		  "https://hook:****@hooks.example.com/in?a=b" },
		{ "http://h:8080/a:b@c", "http://h:****@c" },
		{ "http://h:8080/a/b", "http://h:8080/a/b" },
		{ "http://u:PASSWORD@[::1", "http://u:****@[::1" },
		{ "http://:PASSWORD@h", "http://:****@h" },
		{ "https://h/", "https://h/" },
		{ "not a url", "not a url" },
		{ "u:p@h", "u:p@h" },
	};
	char buf[128];
	size_t i, at, n;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(url_show(cases[i].url, buf, sizeof(buf)),
				    cases[i].shown);
	assert_string_equal(url_show(NULL, buf, sizeof(buf)), "");
	/* a small buffer is cut, never overrun, and never shows the secret */
	assert_string_equal(url_show("https://u:SECRET@host/", buf, 12),
			    "https://u:*");
	assert_true(url_password("https://u:SECRET@host/", &at, &n));
	assert_int_equal(at, 10);
	assert_int_equal(n, 6);
	assert_false(url_password("https://u@host/", &at, &n));
	assert_false(url_password(NULL, &at, &n));
}

/* one case of the form check: URL under SCHEMES, the answer, and a part
   of the message (NULL: any) */
struct form_case {
	const char *url;
	const char *const *schemes;
	int rc;
	const char *why;
};

/* test_by_form - bouncectl's check (url_check_by_form): the form only
   (scheme, host, IPv6 brackets, port), without libcurl's parser */
static void test_by_form(void **state)
{
	static const struct form_case cases[] = {
		{ "https://mw.example.com/api", http, 0, NULL },
		{ "HTTP://127.0.0.1:8080", http, 0, NULL },
		{ "smtps://u:p@mail.example.com", smtp, 0, NULL },
		{ "http://[::1]:8080/x", http, 0, NULL },
		{ "http://u:p@[::1]/x", http, 0, NULL },
		{ "http://h.example.com:/x", http, 0, NULL },
		/* what libcurl's parser refuses, the form refuses too */
		{ "http://[::1", http, -EINVAL, "closing ']'" },
		{ "http://[::1]x/", http, -EINVAL, NULL },
		{ "http://h.example.com:70000/", http, -EINVAL,
		  "port 70000 is not from 1 to 65535" },
		{ "http://h.example.com:0/", http, -EINVAL, NULL },
		{ "http://h.example.com:99999999999999999999/", http, -EINVAL,
		  NULL },
		/* 2^64 + 80: refused, not wrapped round to 80 */
		{ "http://h.example.com:18446744073709551696/", http, -EINVAL,
		  NULL },
		{ "http://h.example.com:8o/", http, -EINVAL, "not a number" },
		{ "http://u:p@:80/", http, -EINVAL, "no host" },
		{ "ftp://h.example.com/", http, -EINVAL, "the scheme is ftp" },
		{ "smtp://mail.example.com", http, -EINVAL, NULL },
		{ "http:///x", http, -EINVAL, "no host between http://" },
		{ "h.example.com/api", http, -EINVAL, "expected scheme://" },
		{ "http://h example.com/", http, -EINVAL, NULL },
		{ "http://a@b@h.example.com/", http, -EINVAL, "the host has" },
		{ "http://h%40x.example.com/", http, -EINVAL, "the host has" },
		{ "http://h;x.example.com/", http, -EINVAL, "the host has" },
		{ "http://[v1.x]/", http, -EINVAL, "not an IPv6 address" },
		{ "http://[]/", http, -EINVAL, "not an IPv6 address" },
		{ "http://[1.2.3.4]/", http, -EINVAL, "not an IPv6 address" },
		{ "http://[::1%1234567890123456]/", http, -EINVAL, NULL },
		{ "http://h.example.com/a\001b", http, -EINVAL, "control" },
		{ "http://[fe80::1%25eth0]:80/", http, 0, NULL },
		{ "http://h_x.example.com%7C/", http, 0, NULL },
	};
	char why[256], *long_url;
	size_t i;

	(void)state;
	url_check_by_form(true);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct form_case *c = &cases[i];

		if (url_check(c->url, c->schemes, why, sizeof(why)) != c->rc)
			fail_msg("%s: expected %d (%s)", c->url, c->rc, why);
		if (c->why && !strstr(why, c->why))
			fail_msg("%s: '%s' without '%s'", c->url, why, c->why);
	}
	/* libcurl takes at most 8,000,000 bytes */
	long_url = g_malloc(8000002);
	memcpy(long_url, "http://h/", 9);
	memset(long_url + 9, 'a', 8000001 - 9);
	long_url[8000000] = '\0';
	assert_int_equal(url_check(long_url, http, why, sizeof(why)), 0);
	long_url[8000000] = 'a';
	long_url[8000001] = '\0';
	assert_int_equal(url_check(long_url, http, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "longer than"));
	url_check_by_form(false);
	assert_int_not_equal(url_check(long_url, http, why, sizeof(why)), 0);
	g_free(long_url);
}

/* form_agrees - URL refused by the form exactly when libcurl's parser
   (with bounced's own rules on top) refuses it */
static void form_agrees(const char *url, unsigned *n)
{
	char whole[256], form[256];
	int rw, rf;

	url_check_by_form(false);
	rw = url_check(url, http, whole, sizeof(whole));
	url_check_by_form(true);
	rf = url_check(url, http, form, sizeof(form));
	url_check_by_form(false);
	if ((rw == 0) != (rf == 0))
		fail_msg("'%s': libcurl %d (%s), the form %d (%s)", url, rw,
			 whole, rf, form);
	++*n;
}

/* test_form_as_libcurl - the form check against libcurl's parser on
   user parts, hosts (every byte in a name, as written and %-encoded;
   IPv6 literals, zone ids) and ports made into URLs, each way: nothing
   bouncectl accepts is refused by bounced, nor the other way round */
static void test_form_as_libcurl(void **state)
{
	static const char *const users[] = {
		"", "u@", "u:p@", "u:p@ss@", "@", "[::1]@", "u%40v@",
	};
	static const char *const hosts[] = {
		"h.example.com", "127.0.0.1", "1.2.3", "999.1.1.1", ".", "-h",
		"h%zz", "h%2", "h%", "%", "h%25", "h%7f", "h%C3%A9", "",
		"[::1]", "[::]", "[:]", "[]", "[v1.x]", "[1:2:3]",
		"[::ffff:1.2.3.4]", "[1.2.3.4]", "[::1%25eth0]", "[::1%eth0]",
		"[::1%]", "[::1%25]", "[::1%2]", "[::1%2525]", "[%25eth0]",
		"[::1%123456789012345]", "[::1%1234567890123456]",
		"[::1%25123456789012345]", "[::1%251234567890123456]",
		"[::1%zz]", "[::1%25%41]", "[::1", "[::1]]", "[[::1]",
		"[::1]x", "[::1]%41", "[fe80::1:2:3:4:5:6:7]", "[g::1]",
	};
	static const char *const ports[] = {
		"", ":", ":80", ":0", ":65535", ":65536", ":080", ":8o",
		":80:90", ":+80",
	};
	static const char *const paths[] = { "", "/x?q#f" };
	char url[128], host[16];
	unsigned n = 0;
	size_t u, h, p, t;
	int b;

	(void)state;
	for (u = 0; u < sizeof(users) / sizeof(users[0]); u++)
		for (p = 0; p < sizeof(ports) / sizeof(ports[0]); p++)
			for (t = 0; t < 2; t++) {
				for (h = 0; h < sizeof(hosts) / sizeof(hosts[0]);
				     h++) {
					snprintf(url, sizeof(url), "http://%s%s%s%s",
						 users[u], hosts[h], ports[p],
						 paths[t]);
					form_agrees(url, &n);
				}
				for (b = 1; b < 256; b++) {
					snprintf(host, sizeof(host), "h%cx", b);
					snprintf(url, sizeof(url), "http://%s%s%s%s",
						 users[u], host, ports[p],
						 paths[t]);
					form_agrees(url, &n);
					snprintf(host, sizeof(host), "h%%%02Xx", b);
					snprintf(url, sizeof(url), "http://%s%s%s%s",
						 users[u], host, ports[p],
						 paths[t]);
					form_agrees(url, &n);
				}
			}
	assert_int_equal(n, 77280);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_show),
		cmocka_unit_test(test_by_form),
		cmocka_unit_test(test_form_as_libcurl),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
