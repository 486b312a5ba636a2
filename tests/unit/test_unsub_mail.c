/*
 * test_unsub_mail.c - unsubscribe mails as bounced drop stores them
 * (tests/data/unsub/: Gmail, Outlook, Yahoo and mail.ru style mails, an
 * 8-bit ISO-8859-1 subject, controls and bidi overrides in a subject, a
 * long subject, signed and forged addresses, a wrong domain, a malformed
 * UID, a bad envelope, an envelope header the mail itself carried below
 * its first lines, no recipient, no mail at all, bounces, an auto-reply
 * and a read receipt at the unsubscribe address, Exchange's and iCloud's
 * out-of-office replies, requests marked auto-generated, one of them from
 * an Exchange mailbox, an empty body): every field read,
 * then the recipient read with the address forms, with exact values and
 * reasons.  Built-in cases: header section limits, a big body, a header
 * section without an ending, NUL bytes; the signs of an out-of-office
 * reply that tell nothing alone, alone and in pairs.  The suite runs from the
 * repository root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "unsub_addr.h"
#include "unsub_mail.h"

#define DATA "tests/data/unsub/"
#define FORMS UNSUB_ADDR_DEFAULT ";unsub-[LIST_UID]-[SUBSCRIBER_UID]@u.example.net;" \
	"iem.[SUBSCRIBER_ID]_[LIST_ID]@lists.example.org"
#define SIGNED_FORMS "[SUBSCRIBER_UID].[LIST_UID].[CAMPAIGN_UID].[SIGNATURE]@" \
	"fbl-unsub.example.com"
#define SECRET "test-secret-0123456789"
#define RCPT_DEF "zz123cd456ef7.ab123cd456ef7.cc123cd456ef7@fbl-unsub.example.com"

static const struct mail_case {
	const char *file;
	int rc;				/* of unsub_mail_parse */
	const char *err;		/* its message when rc != 0 */
	const char *rcpt;
	enum unsub_mail_rcpt_src src;
	const char *sender, *from, *subject;
	int64_t date;
	bool is_signed;			/* read with SIGNED_FORMS */
	int match_rc;			/* of unsub_addr_match */
	const char *sub, *list, *camp;	/* or the reason when match_rc != 0 */
	const char *not_request;	/* NULL: a request ("") */
} cases[] = {
	{ "gmail.eml", 0, NULL, RCPT_DEF, UNSUB_RCPT_ENVELOPE,
	  "jane.doe@gmail.example", "jane.doe@gmail.example", "unsubscribe",
	  1795507330, false, 0, "zz123cd456ef7", "ab123cd456ef7",
	  "cc123cd456ef7", NULL },
	{ "outlook.eml", 0, NULL,
	  "unsub-ab123cd456ef7-zz123cd456ef8@u.example.net",
	  UNSUB_RCPT_ENVELOPE, "j.smith@outlook.example",
	  "j.smith@outlook.example", "Unsubscribe", 1795508099, false, 0,
	  "zz123cd456ef8", "ab123cd456ef7", "", NULL },
	{ "yahoo.eml", 0, NULL, RCPT_DEF, UNSUB_RCPT_DELIVERED_TO, "",
	  "zoe.martin@yahoo.example", "Unsubscribe", 1795512598, false, 0,
	  "zz123cd456ef7", "ab123cd456ef7", "cc123cd456ef7", NULL },
	{ "mailru.eml", 0, NULL, "iem.42_7@lists.example.org",
	  UNSUB_RCPT_ENVELOPE, "ivan.petrov@mail.example.ru",
	  "ivan.petrov@mail.example.ru",
	  "\xd0\x9e\xd1\x82\xd0\xbf\xd0\xb8\xd1\x81\xd0\xb0\xd1\x82\xd1\x8c"
	  "\xd1\x81\xd1\x8f \xd0\xbe\xd1\x82 \xd1\x80\xd0\xb0\xd1\x81\xd1\x81"
	  "\xd1\x8b\xd0\xbb\xd0\xba\xd0\xb8", 1795504542, false, 0, "42", "7",
	  "", NULL },
	{ "latin1-subject.eml", 0, NULL, RCPT_DEF, UNSUB_RCPT_TO, "",
	  "claire@laposte.example",
	  "D\xc3\xa9sinscription imm\xc3\xa9" "diate", 0, false, 0,
	  "zz123cd456ef7", "ab123cd456ef7", "cc123cd456ef7", NULL },
	{ "control-subject.eml", 0, NULL, RCPT_DEF, UNSUB_RCPT_ENVELOPE, "", "",
	  "un sub scribe evil d\xc3\xa9sabonnement \xe2\x9c\x93", 0, false, 0,
	  "zz123cd456ef7", "ab123cd456ef7", "cc123cd456ef7", NULL },
	{ "signed.eml", 0, NULL,
	  "zz123cd456ef7.ab123cd456ef7.cc123cd456ef7.3e76210ea82f0bbe"
	  "@fbl-unsub.example.com", UNSUB_RCPT_ENVELOPE,
	  "someone@mail.example.com", "someone@mail.example.com", "unsubscribe",
	  0, true, 0, "zz123cd456ef7", "ab123cd456ef7", "cc123cd456ef7",
	  NULL },
	{ "forged-signature.eml", 0, NULL,
	  "zz123cd456ef7.ab123cd456ef7.cc123cd456ef7.3e76210ea82f0bbf"
	  "@fbl-unsub.example.com", UNSUB_RCPT_ENVELOPE,
	  "someone@mail.example.com", "someone@mail.example.com", "unsubscribe",
	  0, true, UNSUB_ADDR_ESIG, "signature '3e76210ea82f0bbf' does not "
	  "match (forged, or signed with another secret; form '" SIGNED_FORMS
	  "')", NULL, NULL, NULL },
	{ "wrong-domain.eml", 0, NULL,
	  "zz123cd456ef7.ab123cd456ef7.cc123cd456ef7@bounces.example.com",
	  UNSUB_RCPT_ENVELOPE, "a@mail.example.com", "", "unsubscribe", 0,
	  false, UNSUB_ADDR_EDOMAIN, "domain 'bounces.example.com' is not an "
	  "unsubscribe domain (forms: '" UNSUB_ADDR_DEFAULT "'; "
	  "'unsub-[LIST_UID]-[SUBSCRIBER_UID]@u.example.net'; "
	  "'iem.[SUBSCRIBER_ID]_[LIST_ID]@lists.example.org')", NULL, NULL,
	  NULL },
	{ "malformed-uid.eml", 0, NULL,
	  "zz123cd456ef7.ab123cd456e.cc123cd456ef7@fbl-unsub.example.com",
	  UNSUB_RCPT_ENVELOPE, "a@mail.example.com", "", "unsubscribe", 0,
	  false, UNSUB_ADDR_EVALUE, "list UID 'ab123cd456e' has 11 characters, "
	  "expected 13 (form '" UNSUB_ADDR_DEFAULT "')", NULL, NULL,
	  NULL },
	/* the Return-Path and X-Bounced-Envelope-To came with the mail
	   (not its first lines: no envelope): the first Delivered-To names
	   the subscriber, and no sender is taken */
	{ "late-envelope.eml", 0, NULL, RCPT_DEF, UNSUB_RCPT_DELIVERED_TO, "",
	  "reader@mail.example.com", "unsubscribe", 1795516800, false, 0,
	  "zz123cd456ef7", "ab123cd456ef7", "cc123cd456ef7", NULL },
	/* automatic traffic at the unsubscribe address: what it is, from its
	   header section */
	{ "bounce.eml", 0, NULL, RCPT_DEF, UNSUB_RCPT_ENVELOPE, "",
	  "mailer-daemon@mx1.isp.example", "Undelivered Mail Returned to "
	  "Sender", 1795576204, false, 0, "zz123cd456ef7", "ab123cd456ef7",
	  "cc123cd456ef7", "a delivery-status notification (a bounce): "
	  "multipart/report; report-type=delivery-status" },
	{ "exim-bounce.eml", 0, NULL, RCPT_DEF, UNSUB_RCPT_ENVELOPE, "",
	  "mailer-daemon@host.example", "Mail delivery failed: returning "
	  "message to sender", 1795579200, false, 0, "zz123cd456ef7",
	  "ab123cd456ef7", "cc123cd456ef7", "a delivery-status notification "
	  "(a bounce): X-Failed-Recipients" },
	{ "auto-reply.eml", 0, NULL, RCPT_DEF, UNSUB_RCPT_ENVELOPE, "",
	  "p.hartmann@firma.example", "Abwesenheitsnotiz: Ihre Anfrage",
	  1795588200, false, 0, "zz123cd456ef7", "ab123cd456ef7",
	  "cc123cd456ef7",
	  "an auto-reply: Auto-Submitted: auto-replied" },
	/* Exchange's out-of-office replies: Exchange Online's, marked
	   auto-generated by the inbox rule that sent it; an older server's,
	   with no Auto-Submitted at all; and iCloud's vacation reply */
	{ "exchange-oof.eml", 0, NULL, RCPT_DEF, UNSUB_RCPT_ENVELOPE, "",
	  "a.berger@contoso.example", "Automatic reply: Our November offers",
	  1795687201, false, 0, "zz123cd456ef7", "ab123cd456ef7",
	  "cc123cd456ef7", "an out-of-office reply: Auto-Submitted: "
	  "auto-generated and X-MS-Exchange-Inbox-Rules-Loop" },
	{ "exchange-oof-old.eml", 0, NULL, RCPT_DEF, UNSUB_RCPT_ENVELOPE, "",
	  "t.wagner@fabrikam.example", "Automatische Antwort: Unsere Angebote "
	  "im November", 1795762800, false, 0, "zz123cd456ef7",
	  "ab123cd456ef7", "cc123cd456ef7", "an out-of-office reply: "
	  "X-MS-Exchange-Inbox-Rules-Loop and Subject 'automatische "
	  "antwort:'" },
	{ "icloud-vacation.eml", 0, NULL, RCPT_DEF, UNSUB_RCPT_ENVELOPE,
	  "l.moreau@icloud.example", "l.moreau@icloud.example",
	  "Auto reply: Our November offers", 1795856400, false, 0,
	  "zz123cd456ef7", "ab123cd456ef7", "cc123cd456ef7",
	  "an auto-reply: X-Apple-Action: VACATION" },
	{ "read-receipt.eml", 0, NULL, RCPT_DEF, UNSUB_RCPT_ENVELOPE,
	  "reader@mail.example.net", "reader@mail.example.net",
	  "Read: unsubscribe", 1795593600, false, 0, "zz123cd456ef7",
	  "ab123cd456ef7", "cc123cd456ef7", "a read receipt: multipart/report; "
	  "report-type=disposition-notification" },
	/* a request a provider generated for its user, marked so: still a
	   request; and one with an empty body (a relay passing the request
	   on from an alias) */
	{ "auto-generated.eml", 0, NULL, RCPT_DEF, UNSUB_RCPT_ENVELOPE, "",
	  "subscriber@webmail.example", "unsubscribe", 1795597200, false, 0,
	  "zz123cd456ef7", "ab123cd456ef7", "cc123cd456ef7", NULL },
	/* a request from an Exchange mailbox: X-Auto-Response-Suppress
	   (Exchange puts it on ordinary mail) beside auto-generated, and no
	   sign of an inbox rule or of an out-of-office subject */
	{ "outlook-request.eml", 0, NULL, RCPT_DEF, UNSUB_RCPT_ENVELOPE,
	  "m.keller@contoso.example", "m.keller@contoso.example",
	  "unsubscribe", 1795692600, false, 0, "zz123cd456ef7",
	  "ab123cd456ef7", "cc123cd456ef7", NULL },
	{ "empty-body.eml", 0, NULL, RCPT_DEF, UNSUB_RCPT_ENVELOPE,
	  "sl.bounce.1234@relay.example", "alias.4711@relay.example",
	  "unsubscribe", 1795597200, false, 0, "zz123cd456ef7",
	  "ab123cd456ef7", "cc123cd456ef7", NULL },
	{ .file = "bad-envelope.eml", .rc = -EINVAL, .err = "X-Bounced-"
	  "Envelope-To '<two@@fbl-unsub.example.com>' is not an address" },
	{ .file = "no-recipient.eml", .rc = -EINVAL, .err = "no recipient: no "
	  "X-Bounced-Envelope-To, Delivered-To or To header" },
	{ .file = "not-a-mail.txt", .rc = -EINVAL, .err = "not a mail: it does "
	  "not start with a header field" },
};

static void check_case(const struct mail_case *c,
		       const struct unsub_addr_set *set,
		       const struct unsub_addr_set *sset)
{
	struct unsub_mail m;
	struct unsub_addr_ids ids;
	char err[512] = "", *buf = NULL;
	gsize len = 0;
	int rc;

	if (!g_file_get_contents(c->file, &buf, &len, NULL))
		fail_msg("cannot read %s", c->file);
	rc = unsub_mail_parse(buf, len, &m, err, sizeof(err));
	g_free(buf);
	if (rc != c->rc)
		fail_msg("%s: rc %d (%s)", c->file, rc, err);
	if (rc != 0) {
		assert_string_equal(err, c->err);
		assert_string_equal(m.rcpt, "");
		return;
	}
	assert_string_equal(m.rcpt, c->rcpt);
	assert_int_equal(m.rcpt_src, c->src);
	assert_string_equal(m.sender, c->sender);
	assert_string_equal(m.from, c->from);
	assert_string_equal(m.subject, c->subject);
	assert_int_equal(m.date, c->date);
	assert_string_equal(m.not_request,
			    c->not_request ? c->not_request : "");

	rc = unsub_addr_match(c->is_signed ? sset : set, m.rcpt,
			      strlen(m.rcpt), &ids, err, sizeof(err));
	if (rc != c->match_rc)
		fail_msg("%s: match rc %d (%s)", c->file, rc, err);
	if (rc != 0) {
		assert_string_equal(err, c->sub);
		return;
	}
	assert_string_equal(ids.subscriber, c->sub);
	assert_string_equal(ids.list, c->list);
	assert_string_equal(ids.campaign, c->camp);
	assert_int_equal(ids.signature_checked, c->is_signed);
}

static void test_fixtures(void **state)
{
	struct unsub_addr_set *set = NULL, *sset = NULL;
	char err[512];
	size_t i;

	(void)state;
	assert_int_equal(unsub_addr_compile(FORMS, NULL, &set, err,
					    sizeof(err)), 0);
	assert_int_equal(unsub_addr_compile(SIGNED_FORMS, SECRET, &sset, err,
					    sizeof(err)), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *path = g_strconcat(DATA, cases[i].file, NULL);
		struct mail_case c = cases[i];

		c.file = path;
		check_case(&c, set, sset);
		g_free(path);
	}
	unsub_addr_free(set);
	unsub_addr_free(sset);
}

/* the long subject: 'x' and 127 two-byte characters, cut before the 128th
   (which would end at byte 257) */
static void test_long_subject(void **state)
{
	struct unsub_mail m;
	char *buf = NULL, err[256];
	gsize len;
	size_t i;

	(void)state;
	assert_true(g_file_get_contents(DATA "long-subject.eml", &buf, &len,
					NULL));
	assert_int_equal(unsub_mail_parse(buf, len, &m, err, sizeof(err)), 0);
	assert_int_equal(strlen(m.subject), 255);
	assert_int_equal(m.subject[0], 'x');
	for (i = 1; i < 255; i += 2)
		assert_memory_equal(m.subject + i, "\xc3\xa9", 2);
	assert_true(g_utf8_validate(m.subject, -1, NULL));
	g_free(buf);
}

/* parse_text - TEXT (LEN bytes) must give RC and, if an error, ERR */
static void parse_text(const char *text, size_t len, int rc, const char *want,
		       struct unsub_mail *m)
{
	char err[256] = "";
	int got = unsub_mail_parse(text, len, m, err, sizeof(err));

	if (got != rc)
		fail_msg("rc %d (%s)", got, err);
	if (rc != 0)
		assert_string_equal(err, want);
}

static void test_limits(void **state)
{
	struct unsub_mail m;
	GString *s = g_string_new(NULL);
	const char nul[] = "To: a@b.example\nSubject: ab\0cd\n\n";
	const char *t;

	(void)state;
	parse_text("", 0, -EINVAL, "empty mail", &m);
	parse_text(NULL, 10, -EINVAL, "empty mail", &m);
	t = "\nTo: a@b.example\n";
	parse_text(t, strlen(t), -EINVAL, "not a mail: it does not start with "
		   "a header field", &m);
	t = "\r\nTo: a@b.example\r\n";
	parse_text(t, strlen(t), -EINVAL, "not a mail: it does not start with "
		   "a header field", &m);
	t = " To: a@b.example\n\n";
	parse_text(t, strlen(t), -EINVAL, "not a mail: it does not start with "
		   "a header field", &m);

	/* headers only, the last line without a line end */
	t = "Return-Path: <>\nX-Bounced-Envelope-To: <A@B.example>";
	parse_text(t, strlen(t), 0, NULL, &m);
	assert_string_equal(m.rcpt, "a@b.example");
	assert_string_equal(m.sender, "");

	/* a body beyond the header limit is never read */
	g_string_append(s, "X-Bounced-Envelope-To: <a@b.example>\r\n"
			"Subject: big\r\n\r\n");
	while (s->len < UNSUB_MAIL_HEAD_MAX + 1000)
		g_string_append(s, "Subject: not a header, body text\r\n");
	parse_text(s->str, s->len, 0, NULL, &m);
	assert_string_equal(m.subject, "big");

	/* a header section that does not end within the limit */
	g_string_assign(s, "X-Bounced-Envelope-To: <a@b.example>\n");
	while (s->len <= UNSUB_MAIL_HEAD_MAX)
		g_string_append(s, "X-Filler: 0123456789abcdef\n");
	g_string_append(s, "\nbody\n");
	parse_text(s->str, s->len, -EINVAL, "no end of the header section "
		   "within 262144 bytes", &m);
	/* ... but one that is all header, within the limit, is a mail */
	g_string_truncate(s, UNSUB_MAIL_HEAD_MAX - 100);
	g_string_truncate(s, strrchr(s->str, '\n') - s->str + 1);
	parse_text(s->str, s->len, 0, NULL, &m);
	assert_string_equal(m.rcpt, "a@b.example");

	/* a NUL ends the subject's text, not the parse */
	parse_text(nul, sizeof(nul) - 1, 0, NULL, &m);
	assert_string_equal(m.rcpt, "a@b.example");
	assert_int_equal(m.rcpt_src, UNSUB_RCPT_TO);
	assert_string_equal(m.subject, "ab");

	/* To with a group: its first member */
	t = "To: list: Someone <S@u.example.net>, b@u.example.net;\n\n";
	parse_text(t, strlen(t), 0, NULL, &m);
	assert_string_equal(m.rcpt, "s@u.example.net");
	t = "To: undisclosed-recipients:;\n\n";
	parse_text(t, strlen(t), -EINVAL, "To 'undisclosed-recipients:;' holds "
		   "no address", &m);
	t = "Delivered-To: \x01\xff\n\n";
	parse_text(t, strlen(t), -EINVAL, "Delivered-To '?" "?' is not an address",
		   &m);
	g_string_free(s, TRUE);
}

/* the signs of an out-of-office reply that a request may carry too: one
   alone (or two of the same kind) leaves a request, two of different
   kinds make an out-of-office reply */
static void test_out_of_office(void **state)
{
	static const struct {
		const char *head, *want;	/* want NULL: a request */
	} t[] = {
		{ "Auto-Submitted: auto-generated\n", NULL },
		{ "Precedence: junk\n", NULL },
		{ "Precedence: bulk\n", NULL },
		{ "X-MS-Exchange-Inbox-Rules-Loop: a@contoso.example\n", NULL },
		{ "X-MS-Exchange-Generated-Message-Source: Mailbox Rules "
		  "Agent\n", NULL },
		{ "Subject: Out of Office: your mail\n", NULL },
		{ "X-Auto-Response-Suppress: All\n", NULL },
		{ "X-Auto-Response-Suppress: All\n"
		  "Auto-Submitted: auto-generated\nPrecedence: junk\n", NULL },
		{ "X-MS-Exchange-Inbox-Rules-Loop: a@contoso.example\n"
		  "X-MS-Exchange-Generated-Message-Source: Mailbox Rules "
		  "Agent\n", NULL },
		/* not the start of the subject; not the word; another agent */
		{ "Auto-Submitted: auto-generated\n"
		  "Subject: Re: Automatic reply: unsubscribe\n", NULL },
		{ "Precedence: junk\nSubject: Autoresponder settings\n", NULL },
		{ "Auto-Submitted: auto-generated-x\n"
		  "X-MS-Exchange-Inbox-Rules-Loop: a@contoso.example\n", NULL },
		{ "Auto-Submitted: auto-generated\n"
		  "X-MS-Exchange-Generated-Message-Source: Journal Agent\n",
		  NULL },
		{ "Precedence: junk\nSubject: Out of Office: your mail\n",
		  "an out-of-office reply: Precedence: junk and Subject 'out of "
		  "office:'" },
		{ "auto-submitted: AUTO-GENERATED\n"
		  "x-ms-exchange-generated-message-source: Mailbox Rules "
		  "Agent\n",
		  "an out-of-office reply: Auto-Submitted: auto-generated and "
		  "X-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent" },
		{ "Precedence: bulk\nSubject: =?utf-8?q?R=C3=89PONSE_"
		  "AUTOMATIQUE_:_votre_message?=\n",
		  "an out-of-office reply: Precedence: bulk and Subject "
		  "'r\xc3\xa9ponse automatique:'" },
		{ "Subject: AUTO: your mail\n"
		  "X-MS-Exchange-Inbox-Rules-Loop: a@contoso.example\n",
		  "an out-of-office reply: X-MS-Exchange-Inbox-Rules-Loop and "
		  "Subject 'auto:'" },
		{ "Subject: Automatic reply: x\nPrecedence: junk\n"
		  "X-MS-Exchange-Inbox-Rules-Loop: a@contoso.example\n",
		  "an out-of-office reply: Precedence: junk and "
		  "X-MS-Exchange-Inbox-Rules-Loop" },
	};
	struct unsub_mail m;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		gchar *mail = g_strconcat("X-Bounced-Envelope-To: <a@b.example>"
					  "\n", t[i].head, "\nbody\n", NULL);

		parse_text(mail, strlen(mail), 0, NULL, &m);
		if (strcmp(m.not_request, t[i].want ? t[i].want : "") != 0)
			fail_msg("case %zu: '%s', want '%s'", i, m.not_request,
				 t[i].want ? t[i].want : "");
		g_free(mail);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures),
		cmocka_unit_test(test_long_subject),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_out_of_office),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
