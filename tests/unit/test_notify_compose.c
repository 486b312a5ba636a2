/*
 * test_notify_compose.c - notify_compose(): the message is parsed back
 * with GMime and checked: headers (Subject with the counts, From, To,
 * Date, Message-Id, Auto-Submitted), a multipart/alternative with a
 * text/plain and a text/html part in UTF-8, the values of the items in
 * both, CRLF line ends and no line over 998 bytes; hostile values
 * (<script>, CR/LF header injection in subjects and addresses, bytes that
 * are not UTF-8, fields without a NUL) escaped or neutralised; the
 * max_items bound with "and K more"; links only under a web_url and only
 * for UIDs of the MailWizz form; options that are refused.
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
#include <gmime/gmime.h>

#include "notify.h"

#define T0 1795600000		/* 2026-11-25 09:46:40 UTC */
#define CAMP "cc123cd456ef7"
#define LIST "ab123cd456ef7"

static const char *const two_rcpts[] = { "postmaster@example.com",
					 "ops+digest@example.org", NULL };

struct parsed {
	char *raw;
	size_t len;
	GMimeMessage *msg;
	char *text;		/* decoded text/plain */
	char *html;		/* decoded text/html */
};

static void set(char *dst, size_t size, const char *v)
{
	g_strlcpy(dst, v, size);
}
#define SET(it, f, v) set((it)->f, sizeof((it)->f), (v))

static void item(struct notify_item *it, const char *kind, const char *addr,
		 int64_t t)
{
	memset(it, 0, sizeof(*it));
	SET(it, kind, kind);
	SET(it, addr, addr);
	it->time = t;
}

static struct notify_opts opts(const char *const *to)
{
	struct notify_opts o = {
		.from = "bounced@mx1.example.com",
		.to = to,
		.hostname = "mx1.example.com",
		.period_start = T0 - 900,
		.period_end = T0,
	};
	return o;
}

/* part_text - the decoded text of the part with SUBTYPE */
static char *part_text(GMimeMultipart *mp, const char *subtype)
{
	int i;

	for (i = 0; i < g_mime_multipart_get_count(mp); i++) {
		GMimeObject *p = g_mime_multipart_get_part(mp, i);
		GMimeContentType *ct = g_mime_object_get_content_type(p);

		if (GMIME_IS_TEXT_PART(p) &&
		    g_mime_content_type_is_type(ct, "text", subtype)) {
			/* canonical CRLF on the wire: LF to compare */
			char *t = g_mime_text_part_get_text(GMIME_TEXT_PART(p));
			char **l = g_strsplit(t, "\r\n", -1);
			char *j = g_strjoinv("\n", l);

			g_strfreev(l);
			g_free(t);
			return j;
		}
	}
	return NULL;
}

/* compose_parse - compose, check the wire form, parse it back */
static void compose_parse(const struct notify_opts *o,
			  const struct notify_item *items, size_t n,
			  struct parsed *p)
{
	GMimeStream *st;
	GMimeParser *parser;
	GMimeObject *body;
	char err[256] = "";
	size_t i, line = 0;

	memset(p, 0, sizeof(*p));
	assert_int_equal(notify_compose(o, items, n, &p->raw, &p->len, err,
					sizeof(err)), 0);
	assert_non_null(p->raw);
	assert_int_equal(strlen(p->raw), p->len);
	/* CRLF everywhere, no bare CR or LF, lines within RFC 5322's 998 */
	for (i = 0; i < p->len; i++) {
		if (p->raw[i] == '\n') {
			assert_true(i > 0 && p->raw[i - 1] == '\r');
			line = 0;
		} else if (p->raw[i] == '\r') {
			assert_true(i + 1 < p->len && p->raw[i + 1] == '\n');
		} else {
			assert_true(++line <= 998);
		}
	}
	assert_memory_equal(p->raw + p->len - 2, "\r\n", 2);

	st = g_mime_stream_mem_new_with_buffer(p->raw, p->len);
	parser = g_mime_parser_new_with_stream(st);
	p->msg = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	g_object_unref(st);
	assert_non_null(p->msg);
	body = g_mime_message_get_mime_part(p->msg);
	assert_true(GMIME_IS_MULTIPART(body));
	assert_true(g_mime_content_type_is_type(
		g_mime_object_get_content_type(body), "multipart",
		"alternative"));
	assert_int_equal(g_mime_multipart_get_count(GMIME_MULTIPART(body)), 2);
	p->text = part_text(GMIME_MULTIPART(body), "plain");
	p->html = part_text(GMIME_MULTIPART(body), "html");
	assert_non_null(p->text);
	assert_non_null(p->html);
	assert_true(g_utf8_validate(p->text, -1, NULL));
	assert_true(g_utf8_validate(p->html, -1, NULL));
}

static void parsed_free(struct parsed *p)
{
	g_free(p->raw);
	g_free(p->text);
	g_free(p->html);
	if (p->msg)
		g_object_unref(p->msg);
}

/* header_section - the raw bytes before the first empty line */
static char *header_section(const struct parsed *p)
{
	const char *end = strstr(p->raw, "\r\n\r\n");

	assert_non_null(end);
	return g_strndup(p->raw, (size_t)(end - p->raw) + 2);
}

static size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0;
	const char *p;

	for (p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* test_digest - headers, both parts, every value of the items */
static void test_digest(void **state)
{
	struct notify_item it[5];
	struct notify_opts o = opts(two_rcpts);
	InternetAddressList *l;
	GDateTime *date;
	struct parsed p;
	const char *v;
	char *s;

	(void)state;
	item(&it[0], "complaint", "john@doe.com", T0 - 800);
	SET(&it[0], feedback_type, "abuse");
	SET(&it[0], reporting_domain, "yahoo.com");
	SET(&it[0], orig_subject, "Our November offers");
	SET(&it[0], results, "mw: unsubscribed from 3 lists; hook: done");
	SET(&it[0], source, "fbl/new/1795599200.M1P2.mx1");
	SET(&it[0], provider, "mw");
	SET(&it[0], campaign_uid, CAMP);
	SET(&it[0], campaign_name, "November");
	SET(&it[0], campaign_subject, "Big offers");
	SET(&it[0], list_uid, LIST);
	SET(&it[0], list_name, "News");
	it[0].send_time = T0 - 86400;
	item(&it[1], "unsubscribe", "ann@example.net", T0 - 700);
	item(&it[2], "complaint", "bob@example.org", T0 - 600);
	item(&it[3], "unsubscribe", "carl@example.net", T0 - 500);
	item(&it[4], "complaint", "dora@example.org", T0 - 400);

	compose_parse(&o, it, 5, &p);
	assert_string_equal(g_mime_message_get_subject(p.msg),
			    "bounced: 3 complaints, 2 unsubscribes on "
			    "mx1.example.com");
	l = g_mime_message_get_from(p.msg);
	assert_int_equal(internet_address_list_length(l), 1);
	assert_string_equal(internet_address_mailbox_get_addr(
		INTERNET_ADDRESS_MAILBOX(internet_address_list_get_address(l,
									    0))),
		"bounced@mx1.example.com");
	l = g_mime_message_get_to(p.msg);
	assert_int_equal(internet_address_list_length(l), 2);
	assert_string_equal(internet_address_mailbox_get_addr(
		INTERNET_ADDRESS_MAILBOX(internet_address_list_get_address(l,
									    0))),
		"postmaster@example.com");
	assert_string_equal(internet_address_mailbox_get_addr(
		INTERNET_ADDRESS_MAILBOX(internet_address_list_get_address(l,
									    1))),
		"ops+digest@example.org");
	date = g_mime_message_get_date(p.msg);
	assert_non_null(date);
	assert_int_equal(g_date_time_to_unix(date), T0);
	v = g_mime_message_get_message_id(p.msg);
	assert_non_null(v);
	assert_true(g_str_has_suffix(v, "@mx1.example.com"));
	v = g_mime_object_get_header(GMIME_OBJECT(p.msg), "Auto-Submitted");
	assert_string_equal(v, "auto-generated");
	v = g_mime_object_get_header(GMIME_OBJECT(p.msg), "MIME-Version");
	assert_string_equal(v, "1.0");

	/* text: a section per kind, complaints first, every value */
	assert_true(g_str_has_prefix(p.text, "bounced on mx1.example.com: 3 "
				     "complaints, 2 unsubscribes\n"));
	assert_non_null(strstr(p.text, "Period: 2026-11-25 09:31:40 UTC to "
			       "2026-11-25 09:46:40 UTC\n"));
	assert_true(strstr(p.text, "Complaints (3)") <
		    strstr(p.text, "Unsubscribes (2)"));
	assert_non_null(strstr(p.text, "  * john@doe.com  at 2026-11-25 "
			       "09:33:20 UTC\n"));
	assert_non_null(strstr(p.text, "      Feedback type: abuse\n"));
	assert_non_null(strstr(p.text, "      Reported by: yahoo.com\n"));
	assert_non_null(strstr(p.text, "      Subject: Our November offers\n"));
	assert_non_null(strstr(p.text, "      Campaign: November, \"Big "
			       "offers\" (" CAMP ") on mw, sent 2026-11-24 "
			       "09:46:40 UTC\n"));
	assert_non_null(strstr(p.text, "      List: News (" LIST ")\n"));
	assert_non_null(strstr(p.text, "      Results: mw: unsubscribed from "
			       "3 lists; hook: done\n"));
	assert_non_null(strstr(p.text, "      Source: fbl/new/1795599200."
			       "M1P2.mx1\n"));
	assert_null(strstr(p.text, "customer/campaigns"));	/* no web_url */
	assert_int_equal(count_of(p.text, "\n  * "), 5);
	/* the unsubscribes after the complaints, in the order given */
	assert_true(strstr(p.text, "dora@") < strstr(p.text, "ann@"));
	assert_true(strstr(p.text, "ann@") < strstr(p.text, "carl@"));
	assert_null(strstr(p.text, "more not listed"));

	/* HTML: the same values in table rows */
	assert_non_null(strstr(p.html, "<h3>Complaints (3)</h3>"));
	assert_non_null(strstr(p.html, "<h3>Unsubscribes (2)</h3>"));
	assert_int_equal(count_of(p.html, "<tr><td>"), 5);
	assert_non_null(strstr(p.html, "<td>john@doe.com</td>"));
	assert_non_null(strstr(p.html, "<td>Our November offers</td>"));
	assert_non_null(strstr(p.html, "abuse<br><small>reported by</small> "
			       "yahoo.com"));
	assert_non_null(strstr(p.html, "<td>November<br><small>subject</small>"
			       " Big offers"));
	s = header_section(&p);
	assert_non_null(strstr(s, "Content-Type: multipart/alternative"));
	g_free(s);
	parsed_free(&p);
}

/* test_hostile - values from the internet stay in the bodies, escaped */
static void test_hostile(void **state)
{
	static const char *const one[] = { "postmaster@example.com", NULL };
	struct notify_opts o = opts(one);
	struct notify_item it[2];
	GMimeHeaderList *hl;
	struct parsed p;
	char *hs;
	int i;

	(void)state;
	item(&it[0], "complaint", "x@y.example\r\nBcc: victim@evil.example",
	     T0);
	SET(&it[0], orig_subject, "<script>alert('x')</script>\r\nBcc: "
	    "evil@attacker.example\r\n\r\n<b>body</b>");
	SET(&it[0], campaign_name, "Tom & \"Jerry\" <i>");
	SET(&it[0], reporting_domain, "a\x1b[31mred\x7f\xc2\x85.example");
	SET(&it[0], results, "caf\xe9 \xff\xfe broken");	/* not UTF-8 */
	/* a field filled to the brim, without its NUL */
	item(&it[1], "unsubscribe", "full@example.com", T0);
	memset(it[1].orig_subject, 'A', sizeof(it[1].orig_subject));
	memset(it[1].kind, 'k', sizeof(it[1].kind));	/* an unknown kind */

	compose_parse(&o, it, 2, &p);
	/* nothing reached the header section */
	hs = header_section(&p);
	assert_null(strstr(hs, "Bcc"));
	assert_null(strstr(hs, "evil"));
	assert_null(strstr(hs, "victim"));
	assert_null(strstr(hs, "script"));
	g_free(hs);
	hl = g_mime_object_get_header_list(GMIME_OBJECT(p.msg));
	for (i = 0; i < g_mime_header_list_get_count(hl); i++)
		assert_true(g_ascii_strcasecmp(g_mime_header_get_name(
			g_mime_header_list_get_header_at(hl, i)), "Bcc") != 0);
	assert_null(g_mime_message_get_bcc(p.msg) &&
		    internet_address_list_length(g_mime_message_get_bcc(p.msg))
		    ? "bcc" : NULL);

	/* HTML: escaped, no live markup from the values */
	assert_null(strstr(p.html, "<script>"));
	assert_null(strstr(p.html, "<b>body"));
	assert_null(strstr(p.html, "<i>"));
	assert_non_null(strstr(p.html, "&lt;script&gt;alert(&apos;x&apos;)"
			       "&lt;/script&gt;"));
	assert_non_null(strstr(p.html, "Tom &amp; &quot;Jerry&quot; "
			       "&lt;i&gt;"));
	/* text: the subject stays on its line, CR/LF became blanks */
	assert_non_null(strstr(p.text, "      Subject: <script>alert('x')"
			       "</script>  Bcc: evil@attacker.example    <b>"
			       "body</b>\n"));
	assert_non_null(strstr(p.text, "  * x@y.example  Bcc: "
			       "victim@evil.example  at "));
	assert_null(strstr(p.text, "\nBcc"));
	/* ESC, DEL and C1 NEL as blanks; bad UTF-8 replaced */
	assert_non_null(strstr(p.text, "Reported by: a [31mred  .example\n"));
	assert_non_null(strstr(p.text, "Results: caf\xef\xbf\xbd "));
	/* the unterminated field: its 256 bytes, not one more */
	hs = g_strnfill(256, 'A');
	assert_non_null(strstr(p.text, hs));
	assert_null(strstr(p.text, "AAAAk"));
	g_free(hs);
	assert_non_null(strstr(p.text, "Other events (1)"));
	parsed_free(&p);
}

/* test_bound - thousands of items: the first max_items, "and K more" */
static void test_bound(void **state)
{
	static const char *const one[] = { "postmaster@example.com", NULL };
	struct notify_opts o = opts(one);
	size_t n = 1200, i;
	struct notify_item *it = g_new0(struct notify_item, n);
	struct parsed p;
	char want[64];

	(void)state;
	for (i = 0; i < n; i++) {
		char a[64];

		snprintf(a, sizeof(a), "user%zu@example.com", i);
		item(&it[i], i % 3 ? "unsubscribe" : "complaint", a, T0);
	}
	compose_parse(&o, it, n, &p);
	assert_string_equal(g_mime_message_get_subject(p.msg),
			    "bounced: 400 complaints, 800 unsubscribes on "
			    "mx1.example.com");
	assert_int_equal(count_of(p.text, "\n  * "), 500);
	assert_int_equal(count_of(p.html, "<tr><td>"), 500);
	assert_non_null(strstr(p.text, "... and 700 more not listed (at most "
			       "500 items"));
	assert_non_null(strstr(p.html, "... and 700 more not listed"));
	/* all 400 complaints, then the first 100 unsubscribes */
	assert_non_null(strstr(p.text, "user1197@"));	/* a complaint */
	assert_non_null(strstr(p.text, "* user149@"));	/* 100th unsub */
	assert_null(strstr(p.text, "* user151@"));
	parsed_free(&p);

	o.max_items = 10;
	compose_parse(&o, it, n, &p);
	assert_int_equal(count_of(p.text, "\n  * "), 10);
	snprintf(want, sizeof(want), "and %zu more not listed", n - 10);
	assert_non_null(strstr(p.text, want));
	parsed_free(&p);
	g_free(it);
}

/* test_links - links into the MailWizz UI, only for good UIDs */
static void test_links(void **state)
{
	static const char *const one[] = { "postmaster@example.com", NULL };
	static const char *const bad_uids[] = {
		"CC123CD456EF7",		/* upper case */
		"cc123cd456ef",			/* 12 */
		"cc123cd456ef77",		/* 14 */
		"cc123cd45/ef7",
		"javascript:x",
		"cc123cd456e\"7",
	};
	struct notify_opts o = opts(one);
	struct notify_item it[1 + G_N_ELEMENTS(bad_uids)];
	struct parsed p;
	size_t i;

	(void)state;
	item(&it[0], "complaint", "john@doe.com", T0);
	SET(&it[0], campaign_uid, CAMP);
	SET(&it[0], campaign_name, "November");
	SET(&it[0], list_uid, LIST);
	SET(&it[0], list_name, "News");
	for (i = 0; i < G_N_ELEMENTS(bad_uids); i++) {
		item(&it[1 + i], "complaint", "x@example.com", T0);
		SET(&it[1 + i], campaign_uid, bad_uids[i]);
		SET(&it[1 + i], list_uid, bad_uids[i]);
		SET(&it[1 + i], campaign_name, "Bad");
	}
	o.web_url = "https://mw.example.com/";
	compose_parse(&o, it, G_N_ELEMENTS(it), &p);
	assert_non_null(strstr(p.html, "<a href=\"https://mw.example.com/"
			       "customer/campaigns/" CAMP "/overview\">"
			       "November</a>"));
	assert_non_null(strstr(p.html, "<a href=\"https://mw.example.com/"
			       "customer/lists/" LIST "/overview\">News</a>"));
	assert_non_null(strstr(p.text, "      Campaign page: https://"
			       "mw.example.com/customer/campaigns/" CAMP
			       "/overview\n"));
	assert_non_null(strstr(p.text, "      List page: https://"
			       "mw.example.com/customer/lists/" LIST
			       "/overview\n"));
	/* one link each, for the good UIDs only */
	assert_int_equal(count_of(p.html, "<a href="), 2);
	assert_int_equal(count_of(p.text, "/customer/"), 2);
	assert_null(strstr(p.html, "href=\"javascript"));
	parsed_free(&p);

	/* a web_url with a query keeps working, escaped in the href */
	o.web_url = "https://mw.example.com/mw?a=1&b=2";
	compose_parse(&o, it, 1, &p);
	assert_non_null(strstr(p.html, "href=\"https://mw.example.com/mw?a=1"
			       "&amp;b=2/customer/campaigns/"));
	parsed_free(&p);
}

/* test_counts - one event, none, singular words */
static void test_counts(void **state)
{
	static const char *const one[] = { "postmaster@example.com", NULL };
	struct notify_opts o = opts(one);
	struct notify_item it[2];
	struct parsed p;

	(void)state;
	item(&it[0], "unsubscribe", "ann@example.net", T0);
	item(&it[1], "bounce", "bob@example.net", T0);
	o.period_start = 0;
	compose_parse(&o, it, 1, &p);
	assert_string_equal(g_mime_message_get_subject(p.msg),
			    "bounced: 1 unsubscribe on mx1.example.com");
	assert_null(strstr(p.text, "Period:"));
	parsed_free(&p);

	compose_parse(&o, it, 2, &p);
	assert_string_equal(g_mime_message_get_subject(p.msg),
			    "bounced: 1 unsubscribe, 1 bounce on "
			    "mx1.example.com");
	assert_non_null(strstr(p.text, "Bounces (1)"));
	parsed_free(&p);

	compose_parse(&o, NULL, 0, &p);
	assert_string_equal(g_mime_message_get_subject(p.msg),
			    "bounced: nothing to report on mx1.example.com");
	parsed_free(&p);
}

/* test_refused - options that would be unsafe in a header */
static void test_refused(void **state)
{
	static const char *const none[] = { NULL };
	static const char *const crlf[] = { "a@b.example\r\nBcc: c@d.example",
					    NULL };
	static const char *const blank[] = { "a b@example.com", NULL };
	static const char *const two_at[] = { "a@b@example.com", NULL };
	static const char *const angle[] = { "<a@example.com>", NULL };
	static const char *const good[] = { "a@example.com", NULL };
	struct notify_item it;
	struct notify_opts o;
	char err[256], *out = (char *)1;
	size_t len = 7;

	(void)state;
	item(&it, "complaint", "john@doe.com", T0);
	o = opts(none);
	assert_int_equal(notify_compose(&o, &it, 1, &out, &len, err,
					sizeof(err)), -EINVAL);
	assert_null(out);
	assert_int_equal(len, 0);
	assert_non_null(strstr(err, "no recipient"));
	o = opts(NULL);
	assert_int_equal(notify_compose(&o, &it, 1, &out, &len, err,
					sizeof(err)), -EINVAL);
	o = opts(crlf);
	assert_int_equal(notify_compose(&o, &it, 1, &out, &len, err,
					sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "recipient"));
	o = opts(blank);
	assert_int_equal(notify_compose(&o, &it, 1, &out, &len, err,
					sizeof(err)), -EINVAL);
	o = opts(two_at);
	assert_int_equal(notify_compose(&o, &it, 1, &out, &len, err,
					sizeof(err)), -EINVAL);
	o = opts(angle);
	assert_int_equal(notify_compose(&o, &it, 1, &out, &len, err,
					sizeof(err)), -EINVAL);
	o = opts(good);
	o.from = "me\r\nX-Evil: 1@example.com";
	assert_int_equal(notify_compose(&o, &it, 1, &out, &len, err,
					sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "from address"));
	/* a machine name is no option the operator can mend: one that is
	   no printable name is shown as localhost, one that is no DNS name
	   (a container's my_host) shown but kept out of the Message-Id;
	   the mail goes either way */
	o = opts(good);
	o.hostname = "mx1\r\nX-Evil: 1";
	assert_int_equal(notify_compose(&o, &it, 1, &out, &len, err,
					sizeof(err)), 0);
	assert_null(strstr(out, "X-Evil"));
	assert_non_null(strstr(out, "bounced on localhost"));
	g_free(out);
	o.hostname = "my_host";
	assert_int_equal(notify_compose(&o, &it, 1, &out, &len, err,
					sizeof(err)), 0);
	assert_non_null(strstr(out, "bounced on my_host"));
	assert_non_null(strstr(out, "@localhost>"));
	assert_null(strstr(out, "@my_host>"));
	g_free(out);
	out = (char *)1;
	o = opts(good);
	o.web_url = "javascript:alert(1)";
	assert_int_equal(notify_compose(&o, &it, 1, &out, &len, err,
					sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "web-url"));
	o.web_url = "https://mw.example.com/\"><script>";
	assert_int_equal(notify_compose(&o, &it, 1, &out, &len, err,
					sizeof(err)), -EINVAL);
	o.web_url = "https:///";
	assert_int_equal(notify_compose(&o, &it, 1, &out, &len, err,
					sizeof(err)), -EINVAL);
	assert_null(out);

	assert_true(notify_uid_ok(CAMP));
	assert_false(notify_uid_ok(""));
	assert_false(notify_uid_ok("cc123cd456ef7x"));
	assert_true(notify_addr_ok("a.b+c@example.com"));
	assert_true(notify_addr_ok("a@xn--bcher-kva.example"));
	assert_false(notify_addr_ok("j\xc3\xb6rg@example.com"));
	assert_false(notify_addr_ok("a@b\xc3\xbc" "cher.example"));
	assert_false(notify_web_url_ok("https://mw.example.com/a|b"));
	assert_true(notify_web_url_ok("https://mw.example.com/a%7Cb/"));
	assert_false(notify_smtp_url_ok("smtp://b\xc3\xbc" "cher.example"));
	assert_true(notify_smtp_url_ok("smtps://u:p@mail.example.com:465"));
	assert_false(notify_addr_ok("a@"));
	assert_false(notify_addr_ok("@a"));
	assert_false(notify_addr_ok(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_links),
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
