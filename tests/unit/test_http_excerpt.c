/*
 * test_http_excerpt.c - http_excerpt.c: an HTML error page of a few KiB
 * becomes its <title> (or its first text when it has none, script, style
 * and comments left out), whitespace folded; plain text and JSON stay
 * text; control characters are escaped, invalid UTF-8 and NUL bytes are
 * replaced; nothing is ever longer than HTTP_EXCERPT_MAX bytes, and a cut
 * ends in "..." on a character boundary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <glib.h>
#include <string.h>

#include "http_excerpt.h"

/* page - an HTML error page of about 4 KiB with TITLE (NULL: none) */
static char *page(const char *title)
{
	GString *s = g_string_new("<!DOCTYPE html>\r\n<html lang=\"en\">\n"
				  "<head>\n<meta charset=\"utf-8\">\n");
	int i;

	if (title)
		g_string_append_printf(s, "<title>\n\t%s\n</title>\n", title);
	g_string_append(s, "<style>\nbody { font-family: sans-serif; }\n"
			"h1 { color: #c00; }\n</style>\n"
			"<script>var secret = 'not shown';</script>\n"
			"</head>\n<body>\n<!-- served by the proxy -->\n"
			"<h1>Internal&nbsp;Server Error</h1>\n"
			"<p>The server encountered an internal error &amp; "
			"could not complete your request.</p>\n");
	for (i = 0; i < 60; i++)
		g_string_append(s, "<p>Stack frame #42 in /var/www/app/vendor/"
				"framework/src/Kernel.php:1234</p>\n");
	g_string_append(s, "</body>\n</html>\n");
	return g_string_free(s, FALSE);
}

/* test_html_title - a page with a title gives the title, folded */
static void test_html_title(void **state)
{
	char *p = page("500   Internal\n Server Error");
	char out[HTTP_EXCERPT_MAX + 1];
	size_t n;

	(void)state;
	assert_true(strlen(p) > 3000);
	n = http_excerpt(p, strlen(p), out, sizeof(out));
	assert_string_equal(out, "500 Internal Server Error");
	assert_int_equal(n, strlen(out));
	g_free(p);
}

/* test_html_text - without a title, the first text of the page */
static void test_html_text(void **state)
{
	char *p = page(NULL);
	char out[HTTP_EXCERPT_MAX + 1];
	size_t n;

	(void)state;
	n = http_excerpt(p, strlen(p), out, sizeof(out));
	assert_true(n <= HTTP_EXCERPT_MAX);
	assert_non_null(strstr(out, "Internal Server Error The server "
				    "encountered an internal error & could"));
	assert_null(strstr(out, "secret"));
	assert_null(strstr(out, "font-family"));
	assert_null(strstr(out, "proxy"));
	assert_null(strchr(out, '<'));
	assert_null(strchr(out, '\n'));
	assert_null(strstr(out, "  "));
	assert_true(g_str_has_suffix(out, "..."));
	g_free(p);
}

/* test_text - plain text and JSON are taken as they are, folded */
static void test_text(void **state)
{
	char out[HTTP_EXCERPT_MAX + 1];
	const char *j = "{\"status\":\"error\",\"error\":\"bad key\"}";

	(void)state;
	http_excerpt("  upstream\r\n timed out\n", 23, out, sizeof(out));
	assert_string_equal(out, "upstream timed out");
	http_excerpt(j, strlen(j), out, sizeof(out));
	assert_string_equal(out, j);
	assert_int_equal(http_excerpt("", 0, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(http_excerpt(NULL, 10, out, sizeof(out)), 0);
	assert_int_equal(http_excerpt(" \n\t ", 4, out, sizeof(out)), 0);
	/* a page whose title is blank: its text */
	http_excerpt("<html><title> </title><p>gone</p></html>", 40, out,
		     sizeof(out));
	assert_string_equal(out, "gone");
}

/* test_controls - escaped, never passed on; bad bytes replaced */
static void test_controls(void **state)
{
	static const char raw[] = "a\x1b[31mred\x07\x7f b\0c\xff\xfe d\xc2\x85";
	char out[HTTP_EXCERPT_MAX + 1];
	size_t i;

	(void)state;
	http_excerpt(raw, sizeof(raw) - 1, out, sizeof(out));
	assert_string_equal(out, "a\\x1b[31mred\\x07\\x7f b\xef\xbf\xbd"
			    "c\xef\xbf\xbd\xef\xbf\xbd d\\u0085");
	for (i = 0; out[i]; i++)
		assert_true((unsigned char)out[i] >= 0x20 && out[i] != 0x7f);
	/* entities that would make a control stay escaped */
	http_excerpt("<p>x&#27;y&#x7;z&#0;</p>", 24, out, sizeof(out));
	assert_string_equal(out, "x\\x1by\\x07z&#0;");
}

/* test_bounds - 200 bytes at most, cut on a character boundary */
static void test_bounds(void **state)
{
	GString *s = g_string_new(NULL);
	char out[HTTP_EXCERPT_MAX + 1], small[10];
	size_t n, i;

	(void)state;
	for (i = 0; i < 5000; i++)
		g_string_append(s, "\xc3\xa9");	/* é */
	n = http_excerpt(s->str, s->len, out, sizeof(out));
	assert_true(n <= HTTP_EXCERPT_MAX);
	assert_int_equal(n, strlen(out));
	assert_true(g_utf8_validate(out, -1, NULL));
	assert_true(g_str_has_suffix(out, "..."));
	/* a bigger buffer changes nothing: the bound is the excerpt's */
	{
		char big[1024];

		assert_int_equal(http_excerpt(s->str, s->len, big,
					      sizeof(big)), n);
	}
	/* a small buffer is respected too */
	n = http_excerpt(s->str, s->len, small, sizeof(small));
	assert_true(n < sizeof(small));
	assert_true(g_utf8_validate(small, -1, NULL));
	/* escapes count toward the bound */
	g_string_truncate(s, 0);
	for (i = 0; i < 1000; i++)
		g_string_append_c(s, '\x01');
	n = http_excerpt(s->str, s->len, out, sizeof(out));
	assert_true(n <= HTTP_EXCERPT_MAX);
	assert_true(g_str_has_suffix(out, "\\x01..."));
	g_string_free(s, TRUE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_html_title),
		cmocka_unit_test(test_html_text),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_controls),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
