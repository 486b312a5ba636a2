/*
 * test_mail_guard.c - the comments GMime 3.2.13 leaks on: a domain
 * literal's comment left open (right after the ']' or after blanks, a
 * tab, a folded line break; open to the end of the line or to a NUL) is
 * defused, its '(' and those after it on the line made blanks; a closed
 * one and everything else stay; the stack bound; and the mails that
 * carry one through the ARF parser and the unsubscribe mail reader (the
 * sanitized build's leak check fails them without the guard).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "arf.h"
#include "mail_guard.h"
#include "unsub_mail.h"

/* fixed - S after mail_guard_fix (static buffer), and the count */
static const char *fixed(const char *s, size_t *n)
{
	static char buf[4096];
	size_t len = strlen(s);

	assert_true(len < sizeof(buf));
	memcpy(buf, s, len + 1);
	*n = mail_guard_fix(buf, len);
	assert_int_equal(mail_guard_needed(s, len), *n > 0);
	return buf;
}

static void test_defused(void **state)
{
	size_t n;

	(void)state;
	assert_string_equal(fixed("To: a@[x](\n", &n), "To: a@[x] \n");
	assert_int_equal(n, 1);
	/* open to the end of the mail, and across a folded line */
	assert_string_equal(fixed("To: a@[192.0.2.1](", &n),
			    "To: a@[192.0.2.1] ");
	assert_string_equal(fixed("To: a@[x](c\r\n d\r\nSubject: (x)\r\n",
				  &n), "To: a@[x] c\r\n d\r\nSubject: (x)\r\n");
	assert_int_equal(n, 1);
	/* a nested comment closed inside it does not close it; every '('
	   after it on the line goes too (the next would be as open) */
	assert_string_equal(fixed("To: a@[x](b (c) d\n", &n),
			    "To: a@[x] b  c) d\n");
	assert_int_equal(n, 2);
	assert_string_equal(fixed("To: a@[x] (((c\nX: (y\n", &n),
			    "To: a@[x]    c\nX: (y\n");
	/* blanks, a tab, a folded line break between ']' and '(' */
	assert_string_equal(fixed("To: a@[x]  (c\n", &n), "To: a@[x]   c\n");
	assert_string_equal(fixed("To: a@[x]\t(c\n", &n), "To: a@[x]\t c\n");
	assert_string_equal(fixed("To: a@[x]\r\r(c\n", &n),
			    "To: a@[x]\r\r c\n");	/* lone CRs: blanks */
	assert_string_equal(fixed("To: a@[x]\r\n (c\r\nS: s\r\n", &n),
			    "To: a@[x]\r\n  c\r\nS: s\r\n");
	/* a ')' after a NUL closes nothing: GMime's value ends at the NUL */
	{
		char nul[] = "To: a@[x](\0)\n";

		assert_true(mail_guard_needed(nul, sizeof(nul) - 1));
		assert_int_equal(mail_guard_fix(nul, sizeof(nul) - 1), 1);
		assert_memory_equal(nul, "To: a@[x] \0)\n", sizeof(nul) - 1);
	}
	/* two on a line, one closed */
	assert_string_equal(fixed("To: a@[x](y), b@[z](\n", &n),
			    "To: a@[x](y), b@[z] \n");
	assert_int_equal(n, 1);
	/* a quoted ')' closes nothing */
	assert_string_equal(fixed("To: a@[x](y\\)\n", &n), "To: a@[x] y\\)\n");
}

static void test_left_alone(void **state)
{
	static const char *const same[] = {
		"To: a@[x](closed)\n",
		"To: a@[x](closed\n  on the next line)\n",
		"To: a@b(open\n",	/* no literal: GMime cleans up */
		"To: a@[x] ) junk (\n",	/* what follows is no comment */
		"To: a@[x] x(\n",
		"see [the docs](https://example.com/x) for more\n",
		"To: a@[x]\n",
		"](",			/* nothing before it */
		"",
	};
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		if (strcmp(same[i], "](") == 0) {
			/* a '(' after ']' open to the end: defused too */
			assert_string_equal(fixed(same[i], &n), "] ");
			continue;
		}
		assert_string_equal(fixed(same[i], &n), same[i]);
		assert_int_equal(n, 0);
	}
}

static void test_many_on_one_line(void **state)
{
	char buf[3 * 200 + 2];
	size_t i, n;

	(void)state;
	/* more candidates than the stack holds, none closed: all defused,
	   in one pass (each is after a ']': "a](a](...") */
	for (i = 0; i < 200; i++)
		memcpy(buf + 3 * i, "a](", 3);
	buf[600] = '\n';
	buf[601] = '\0';
	n = mail_guard_fix(buf, 601);
	assert_int_equal(n, 200);
	assert_null(strchr(buf, '('));
}

static const char ARF[] =
	"From: fbl@isp.example\r\n"
	"To: fbl@[203.0.113.25](\r\n"
	"Cc: x@[10.0.0.1](a\r\n"
	"Subject: complaint\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/report; report-type=feedback-report; "
	"boundary=\"b\"\r\n\r\n"
	"--b\r\nContent-Type: text/plain\r\n\r\nA complaint.\r\n"
	"--b\r\nContent-Type: message/feedback-report\r\n\r\n"
	"Feedback-Type: abuse\r\nUser-Agent: t/1\r\nVersion: 1\r\n"
	"Original-Rcpt-To: r@example.com\r\n\r\n"
	"--b\r\nContent-Type: message/rfc822\r\n\r\n"
	"From: news@bounces.example.com\r\nTo: r@[192.0.2.7](\r\n"
	"Subject: news\r\n\r\nbody\r\n--b--\r\n";

/* a report whose headers and original carry such addresses: parsed, its
   recipient taken, and nothing leaked */
static void test_arf_parsed(void **state)
{
	struct arf_report r;
	char err[256];

	(void)state;
	assert_int_equal(arf_parse(ARF, sizeof(ARF) - 1, &r, err,
				   sizeof(err)), 0);
	assert_int_equal(r.n_rcpts, 1);
	assert_string_equal(r.rcpts[0], "r@example.com");
	assert_string_equal(r.feedback_type, "abuse");
}

static void test_unsub_mail_parsed(void **state)
{
	static const char mail[] =
		"X-Bounced-Envelope-To: u1234567890ab.l1234567890ab@u.example\n"
		"From: reader@[192.0.2.9](\n"
		"To: x@[192.0.2.1](\n"
		"Subject: unsubscribe\n\nplease\n";
	struct unsub_mail m;
	char err[256];

	(void)state;
	assert_int_equal(unsub_mail_parse(mail, sizeof(mail) - 1, &m, err,
					  sizeof(err)), 0);
	assert_string_equal(m.rcpt, "u1234567890ab.l1234567890ab@u.example");
	assert_string_equal(m.subject, "unsubscribe");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defused),
		cmocka_unit_test(test_left_alone),
		cmocka_unit_test(test_many_on_one_line),
		cmocka_unit_test(test_arf_parsed),
		cmocka_unit_test(test_unsub_mail_parsed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
