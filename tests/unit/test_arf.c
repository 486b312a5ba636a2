/*
 * test_arf.c - the ARF parser on the fixtures of tests/data/arf (every
 * field of every report checked exactly) and on generated mails: huge
 * bodies, many recipients, over-long values, deep nesting, garbage.
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
#include <glib.h>

#include "arf.h"

#define DATA "tests/data/arf/"

struct fixture {
	const char *file;
	struct arf_report want;
};

static const struct fixture fixtures[] = {
	{ "yahoo.eml", {
		.feedback_type = "abuse", .user_agent = "ExampleFBL/1.4",
		.version = "1",
		.original_mail_from = "bounces-ab123cd456ef7@news.example.com",
		.arrival_time = 1709632682, .source_ip = "203.0.113.25",
		.reporting_mta = "mta1.feedback.example.net",
		.reported_domain = "news.example.com",
		.rcpts = { "jane.doe@example.net" },
		.rcpts_written = { "Jane.Doe@example.net" }, .n_rcpts = 1,
		.orig_from = "news@news.example.com",
		.orig_return_path = "bounces-ab123cd456ef7@news.example.com",
		.orig_subject = "Spring offers inside",
		.orig_message_id = "<5f2c1e0a9b7d4.mw@news.example.com>",
		.list_id = "Example News <ab123cd456ef7.list.news.example.com>",
		.list_id_token = "ab123cd456ef7.list.news.example.com",
		.mw_subscriber_uid = "zz123cd456ef7",
		.x_job = "mailwizz-cc123cd456ef7",
		.envelope_from = "feedback@arf.example.net",
		.envelope_to = "fbl@fbl.example.com",
		.report_time = 1709633558, .report_from = "feedback@arf.example.net",
		.report_to = "fbl@fbl.example.com", .kind_why = "Feedback-Type: abuse",
		.flags = 0 } },
	{ "mailru.eml", {
		.feedback_type = "abuse", .user_agent = "ExampleRU-FBL/2.0",
		.version = "1", .arrival_time = 1709700942,
		.source_ip = "2001:db8::25",
		.reporting_mta = "fbl.feedback.example.org",
		.rcpts = { "ivan.petrov@example.org" },
		.rcpts_written = { "Ivan.Petrov@example.org" }, .n_rcpts = 1,
		.orig_from = "shop@mail.example.com",
		.orig_return_path = "bounce@mail.example.com",
		.orig_subject = "Weekly deals",
		.orig_message_id = "<8a9b7c6d5e4f3@mail.example.com>",
		.list_id = "<ab123cd456ef7>", .list_id_token = "ab123cd456ef7",
		.mw_subscriber_uid = "yy123cd456ef7",
		.x_job = "mailwizz-cd123cd456ef7",
		.envelope_from = "fbl@feedback.example.org",
		.envelope_to = "fbl@fbl.example.com",
		.report_time = 1709701211, .report_from = "fbl@feedback.example.org",
		.report_to = "fbl@fbl.example.com", .kind_why = "Feedback-Type: abuse",
		.flags = ARF_F_HEADERS_ONLY | ARF_F_RCPT_FROM_ORIG |
			 ARF_F_RCPT_FROM_TO } },
	{ "jmrp.eml", {
		.feedback_type = "abuse",
		.rcpts = { "complainer@outlook.example.com" },
		.rcpts_written = { "Complainer@outlook.example.com" },
		.n_rcpts = 1,
		.orig_from = "news@news.example.com",
		.orig_return_path = "bounces-ab123cd456ef7@news.example.com",
		.orig_subject = "Your March newsletter",
		.orig_message_id = "<6a1b2c3d4e5f6.mw@news.example.com>",
		.list_id = "Example News <ab123cd456ef7.list.news.example.com>",
		.list_id_token = "ab123cd456ef7.list.news.example.com",
		.mw_subscriber_uid = "xx123cd456ef7",
		.x_job = "mailwizz-cc123cd456ef7",
		.envelope_from = "staff@hotmail.example.com",
		.envelope_to = "fbl@fbl.example.com",
		.report_time = 1709843400, .report_from = "staff@hotmail.example.com",
		.report_to = "fbl@fbl.example.com",
		.kind_why = "Microsoft JMRP (X-HmXmrOriginalRecipient in the original)",
		.flags = ARF_F_NO_REPORT_PART | ARF_F_TYPE_ASSUMED |
			 ARF_F_RCPT_FROM_ORIG | ARF_F_KNOWN_SHAPE } },
	{ "anon_mailwizz.eml", {
		.feedback_type = "abuse", .user_agent = "ISP-Example-FBL/0.9",
		.version = "1", .arrival_time = 1709906340,
		.source_ip = "203.0.113.26",
		.orig_from = "news@news.example.com",
		.orig_subject = "Last chance",
		.orig_message_id = "<7b2c3d4e5f6a7.mw@news.example.com>",
		.list_id = "<ab123cd456ef7>", .list_id_token = "ab123cd456ef7",
		.mw_subscriber_uid = "ww123cd456ef7",
		.x_job = "mailwizz-ce123cd456ef7",
		.envelope_to = "fbl@fbl.example.com",
		.report_time = 1709906645,
		.report_from = "fbl-noreply@isp.example.org",
		.report_to = "fbl@fbl.example.com", .kind_why = "Feedback-Type: abuse",
		.flags = ARF_F_REDACTED | ARF_F_ANONYMISED } },
	{ "anon_interspire.eml", {
		.feedback_type = "abuse", .user_agent = "ExampleNet-ARF/3",
		.version = "1",
		.original_mail_from = "campaigns@iem.example.com",
		.arrival_time = 1709973930, .source_ip = "198.51.100.200",
		.orig_from = "campaigns@iem.example.com",
		.orig_return_path = "campaigns@iem.example.com",
		.orig_subject = "March sale",
		.orig_message_id = "<iem.1234.5678@iem.example.com>",
		.mailer_lid = "12", .mailer_recptid = "48213",
		.envelope_from = "arf@isp.example.net",
		.envelope_to = "fbl@fbl.example.com",
		.report_time = 1709974800, .report_from = "arf@isp.example.net",
		.report_to = "fbl@fbl.example.com", .kind_why = "Feedback-Type: abuse",
		.flags = ARF_F_HEADERS_ONLY | ARF_F_ANONYMISED } },
	/* the original's headers in a text/rfc822-header part (the ARF
	   drafts' spelling): read like text/rfc822-headers */
	{ "headers_singular.eml", {
		.feedback_type = "abuse", .user_agent = "ExampleDesk-FBL/1.2",
		.version = "1", .arrival_time = 1710238272,
		.source_ip = "203.0.113.31",
		.orig_from = "news@news.example.com",
		.orig_subject = "Weekend picks",
		.orig_message_id = "<4d5e6f7a8b9c0.mw@news.example.com>",
		.list_id = "<ab123cd456ef7>", .list_id_token = "ab123cd456ef7",
		.mw_subscriber_uid = "hs123cd456ef7",
		.x_job = "mailwizz-hs123cd456ef7",
		.envelope_from = "fbl@complaints.example.net",
		.envelope_to = "fbl@fbl.example.com",
		.report_time = 1710238800,
		.report_from = "fbl@complaints.example.net",
		.report_to = "fbl@fbl.example.com", .kind_why = "Feedback-Type: abuse",
		.flags = ARF_F_HEADERS_ONLY | ARF_F_REDACTED |
			 ARF_F_ANONYMISED } },
	{ "not_spam.eml", {
		.feedback_type = "not-spam", .user_agent = "ExampleFBL/1.4",
		.version = "1", .arrival_time = 1710112800,
		.rcpts = { "happy.reader@example.net" }, .n_rcpts = 1,
		.orig_from = "news@news.example.com",
		.orig_subject = "Hello again",
		.orig_message_id = "<8c3d4e5f6a7b8.mw@news.example.com>",
		.x_job = "mailwizz-cc123cd456ef7",
		.envelope_from = "feedback@arf.example.net",
		.envelope_to = "fbl@fbl.example.com",
		.report_from = "feedback@arf.example.net",
		.report_to = "fbl@fbl.example.com", .kind_why = "Feedback-Type: not-spam",
		.flags = 0 } },
	{ "filter_verdict.eml", {
		.feedback_type = "filter-verdict",
		.user_agent = "SpamExperts/90021", .version = "1",
		.arrival_time = 1710233998, .source_ip = "192.0.2.10",
		.original_mail_from = "bounces@news.example.com",
		.rcpts = { "kept.reader@example.net" }, .n_rcpts = 1,
		.orig_from = "news@news.example.com",
		.orig_subject = "March offers",
		.orig_message_id = "<m-1@news.example.com>",
		.report_time = 1710234005,
		.report_from = "admin@filter.isp.example",
		.report_to = "fbl@example.com",
		.kind_why = "Feedback-Type: abuse", .flags = 0 } },
	{ "optout_removal.eml", {
		.feedback_type = "opt-out", .user_agent = "ISP-Example-FBL/2.1",
		.version = "0.1", .arrival_time = 1710323970,
		.rcpts = { "leaving.reader@example.net" }, .n_rcpts = 1,
		.orig_from = "news@news.example.com",
		.orig_subject = "Weekly news",
		.orig_message_id = "<m-2@news.example.com>",
		.report_time = 1710324000, .report_from = "feedback@isp.example",
		.report_to = "fbl@example.com",
		.kind_why = "Feedback-Type: opt-out",
		.flags = ARF_F_HEADERS_ONLY } },
	{ "auth_failure.eml", {
		.feedback_type = "auth-failure", .user_agent = "ExampleDMARC/1.0",
		.version = "1", .original_mail_from = "mailer@news.example.com",
		.arrival_time = 1710118923, .source_ip = "192.0.2.99",
		.reported_domain = "news.example.com", .auth_failure = "dkim",
		.orig_from = "mailer@news.example.com",
		.orig_subject = "Invoice",
		.orig_message_id = "<forged.1@news.example.com>",
		.envelope_from = "dmarc@reports.example.org",
		.envelope_to = "fbl@fbl.example.com",
		.report_from = "dmarc@reports.example.org",
		.report_to = "fbl@fbl.example.com", .kind = ARF_KIND_AUTH_REPORT,
		.kind_why = "Feedback-Type: auth-failure",
		.flags = ARF_F_HEADERS_ONLY } },
	{ "multi_rcpt.eml", {
		.feedback_type = "abuse", .user_agent = "ExampleFBL/1.4",
		.version = "1", .reported_domain = "news.example.com",
		.rcpts = { "first@example.net", "second@example.org",
			   "third+tag@example.com" },
		.rcpts_written = { "First@Example.NET" }, .n_rcpts = 3,
		.orig_from = "news@news.example.com",
		.orig_subject = "Group send",
		.x_job = "mailwizz-cc123cd456ef7",
		.envelope_from = "feedback@arf.example.net",
		.envelope_to = "fbl@fbl.example.com",
		.report_from = "feedback@arf.example.net",
		.report_to = "fbl@fbl.example.com", .kind_why = "Feedback-Type: abuse",
		.flags = ARF_F_REDACTED | ARF_F_RCPT_UNREADABLE } },
	{ "gmail.eml", {
		.feedback_type = "abuse",
		.user_agent = "Example-Gmail-Like-FBL/1.0", .version = "1",
		.original_envelope_id = "env-0042",
		.arrival_time = 1710223628, .source_ip = "203.0.113.27",
		.reporting_mta = "feedback.mail.example.com",
		.orig_from = "news@news.example.com",
		.orig_subject = "Offers",
		.orig_message_id = "<9d4e5f6a7b8c9.mw@news.example.com>",
		.list_id = "\"Example News\" <ab123cd456ef7.list.news.example.com>",
		.list_id_token = "ab123cd456ef7.list.news.example.com",
		.mw_subscriber_uid = "vv123cd456ef7",
		.x_job = "mailwizz-cc123cd456ef7",
		.feedback_id = "cc123cd456ef7:ab123cd456ef7:mailwizz:news.example.com",
		.envelope_from = "feedback-noreply@mail.example.com",
		.envelope_to = "fbl@fbl.example.com",
		.report_from = "feedback-noreply@mail.example.com",
		.report_to = "fbl@fbl.example.com", .kind_why = "Feedback-Type: abuse",
		.flags = ARF_F_REDACTED | ARF_F_ANONYMISED } },
	{ "report_only.eml", {
		.feedback_type = "abuse", .user_agent = "MinimalFBL",
		.rcpts = { "lonely@example.net" }, .n_rcpts = 1,
		.envelope_from = "feedback@arf.example.net",
		.envelope_to = "fbl@fbl.example.com",
		.report_from = "feedback@arf.example.net",
		.kind_why = "message/feedback-report without Feedback-Type",
		.flags = ARF_F_TYPE_ASSUMED | ARF_F_NO_ORIGINAL } },
	{ "encoded.eml", {
		/* "abuse\x01junk": the first token; Latin-1 bytes read as
		   Latin-1; the 8-bit Original-Rcpt-To that is not UTF-8 is
		   refused, the UTF-8 one kept; 203.0.113.300 is no IP; DEL
		   dropped; the encoded CR LF of the subject became a space;
		   identifiers with a blank, ';' or 8-bit are dropped */
		.feedback_type = "abuse",
		.user_agent = "Fb\xc3\xa9L \xc3\xbf\xc3\xbe agent",
		.version = "1",
		.reporting_mta = "mta.example.net",
		.rcpts = { "jos\xc3\xa9@example.fr" }, .n_rcpts = 1,
		.orig_from = "news@news.example.com",
		.orig_subject = "\xd0\xa1\xd0\xbf\xd0\xb0\xd1\x81\xd0\xb8\xd0\xb1"
				"\xd0\xbe \xe2\x80\x94 line Injected: x",
		.orig_message_id = "<a\xc3\xa9" "b@news.example.com>",
		.list_id = "Caf\xc3\xa9 list <ab123cd456ef7.list.news.example.com>",
		.list_id_token = "ab123cd456ef7.list.news.example.com",
		.envelope_from = "feedback@arf.example.net",
		.envelope_to = "fbl@fbl.example.com",
		.report_from = "feedback@arf.example.net",
		.kind_why = "Feedback-Type: abuse",
		.flags = ARF_F_RCPT_UNREADABLE } },
	{ "raw8bit.eml", {
		.feedback_type = "abuse", .user_agent = "ExampleFBL/1.4",
		.version = "1",
		.rcpts = { "reader@example.fr" }, .n_rcpts = 1,
		.orig_from = "news@news.example.com",
		.orig_subject = "", /* built in test_fixtures */
		.orig_message_id = "<r8@news.example.com>",
		.envelope_from = "feedback@arf.example.net",
		.envelope_to = "fbl@fbl.example.com",
		.report_from = "feedback@arf.example.net",
		.kind_why = "Feedback-Type: abuse",
		.flags = ARF_F_HEADERS_ONLY } },
};

/* read_file - a fixture into a malloc'ed buffer */
static char *read_file(const char *name, size_t *len)
{
	char path[256];
	gchar *data = NULL;
	gsize n = 0;
	GError *error = NULL;

	snprintf(path, sizeof(path), DATA "%s", name);
	if (!g_file_get_contents(path, &data, &n, &error)) {
		fail_msg("cannot read %s: %s", path, error->message);
		return NULL;
	}
	*len = n;
	return data;
}

/* raw8bit_subject - the Latin-1 subject as UTF-8, cut at 255 bytes on a
   character boundary: 29 bytes, 37 times "été " (6 bytes), then "ét" */
static void raw8bit_subject(char *buf, size_t len)
{
	int i;

	g_strlcpy(buf, "Caf\xc3\xa9 cr\xc3\xa8me \xc3\xa0 moiti\xc3\xa9 prix ", len);
	for (i = 0; i < 37; i++)
		g_strlcat(buf, "\xc3\xa9t\xc3\xa9 ", len);
	g_strlcat(buf, "\xc3\xa9t", len);
}

/* check_report - every field of GOT equals WANT */
static void check_report(const char *name, const struct arf_report *got,
			 const struct arf_report *want)
{
	char fg[256], fw[256];
	size_t i;

	print_message("  %s\n", name);
	assert_string_equal(got->feedback_type, want->feedback_type);
	assert_string_equal(got->user_agent, want->user_agent);
	assert_string_equal(got->version, want->version);
	assert_string_equal(got->original_mail_from, want->original_mail_from);
	assert_string_equal(got->original_envelope_id,
			    want->original_envelope_id);
	assert_int_equal(got->arrival_time, want->arrival_time);
	assert_string_equal(got->source_ip, want->source_ip);
	assert_string_equal(got->reporting_mta, want->reporting_mta);
	assert_string_equal(got->reported_domain, want->reported_domain);
	assert_string_equal(got->auth_failure, want->auth_failure);
	assert_int_equal(got->n_rcpts, want->n_rcpts);
	for (i = 0; i < want->n_rcpts; i++) {
		assert_string_equal(got->rcpts[i], want->rcpts[i]);
		assert_string_equal(got->rcpts_written[i],
				    want->rcpts_written[i]);
	}
	assert_string_equal(got->orig_from, want->orig_from);
	assert_string_equal(got->orig_return_path, want->orig_return_path);
	assert_string_equal(got->orig_subject, want->orig_subject);
	assert_string_equal(got->orig_message_id, want->orig_message_id);
	assert_string_equal(got->list_id, want->list_id);
	assert_string_equal(got->list_id_token, want->list_id_token);
	assert_string_equal(got->mw_subscriber_uid, want->mw_subscriber_uid);
	assert_string_equal(got->mailer_lid, want->mailer_lid);
	assert_string_equal(got->mailer_recptid, want->mailer_recptid);
	assert_string_equal(got->x_job, want->x_job);
	assert_string_equal(got->feedback_id, want->feedback_id);
	assert_string_equal(got->envelope_from, want->envelope_from);
	assert_string_equal(got->envelope_to, want->envelope_to);
	assert_int_equal(got->report_time, want->report_time);
	assert_string_equal(got->report_from, want->report_from);
	assert_string_equal(got->report_to, want->report_to);
	assert_string_equal(arf_kind_name(got->kind), arf_kind_name(want->kind));
	assert_string_equal(got->kind_why, want->kind_why);
	assert_string_equal(arf_flags_str(got->flags, fg, sizeof(fg)),
			    arf_flags_str(want->flags, fw, sizeof(fw)));
}

static void test_fixtures(void **state)
{
	struct arf_report got, want;
	char err[256];
	size_t i, len;
	char *buf;

	(void)state;
	for (i = 0; i < G_N_ELEMENTS(fixtures); i++) {
		buf = read_file(fixtures[i].file, &len);
		err[0] = '\0';
		memset(&got, 0xa5, sizeof(got));
		if (arf_parse(buf, len, &got, err, sizeof(err)) != 0)
			fail_msg("%s: %s", fixtures[i].file, err);
		want = fixtures[i].want;
		if (strcmp(fixtures[i].file, "raw8bit.eml") == 0)
			raw8bit_subject(want.orig_subject,
					sizeof(want.orig_subject));
		check_report(fixtures[i].file, &got, &want);
		g_free(buf);
	}
}

/* parse_fails - BUF is refused with -EINVAL and exactly WHY */
static void parse_fails(const char *buf, size_t len, const char *why)
{
	struct arf_report r;
	char err[256] = "";

	assert_int_equal(arf_parse(buf, len, &r, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, why);
	assert_int_equal(r.n_rcpts, 0);
	assert_string_equal(r.feedback_type, "");
}

static const char not_report[] = "not a feedback report: no "
	"message/feedback-report part and no attached original message";

static void test_malformed(void **state)
{
	static const char garbage[] = "\x00\x01\x02\xff\xfe garbage\r\n\r\n"
				      "\x80\x81\x82 more\n";
	static const char no_colon[] = "no colon here\nnor here\n";
	static const char mixed[] =
		"Content-Type: multipart/mixed; boundary=\"x\"\n\n"
		"--x\nContent-Type: text/plain\n\nhello\n"
		"--x\nContent-Type: application/octet-stream\n\nAAAA\n--x--\n";
	static const char unclosed[] =
		"Content-Type: multipart/report; report-type=feedback-report;"
		" boundary=\"never\"\n\nno boundary ever comes\n";
	char *buf;
	size_t len;

	(void)state;
	buf = read_file("malformed_plain.eml", &len);
	parse_fails(buf, len, not_report);
	g_free(buf);
	parse_fails(garbage, sizeof(garbage) - 1,
		    "not a mail: no header could be read");
	parse_fails(no_colon, sizeof(no_colon) - 1,
		    "not a mail: no header could be read");
	parse_fails(mixed, sizeof(mixed) - 1, not_report);
	parse_fails(unclosed, sizeof(unclosed) - 1, not_report);
	parse_fails("", 0, "not a feedback report: empty mail");
	parse_fails(NULL, 10, "not a feedback report: empty mail");
}

/* yahoo_with_body - the yahoo fixture with BODY bytes of base64-like
   lines in the original's body */
static char *yahoo_with_body(size_t body, size_t *len)
{
	static const char mark[] = "Hello,\r\nspring offers.\r\n";
	GString *s = g_string_sized_new(body + 4096);
	char *fix, *at;
	size_t flen, done = 0;

	fix = read_file("yahoo.eml", &flen);
	at = strstr(fix, mark);
	assert_non_null(at);
	g_string_append_len(s, fix, at - fix);
	while (done < body) {
		g_string_append(s, "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xt"
				   "bm9wcXJzdHV2d3h5ejAxMjM0NTY3\r\n");
		done += 78;
	}
	g_string_append(s, at);
	g_free(fix);
	*len = s->len;
	return g_string_free(s, FALSE);
}

static void test_huge(void **state)
{
	struct arf_report got;
	char err[256];
	size_t len;
	char *buf = yahoo_with_body(24u * 1024 * 1024, &len);

	(void)state;
	assert_true(len > 24u * 1024 * 1024);
	assert_int_equal(arf_parse(buf, len, &got, err, sizeof(err)), 0);
	check_report("yahoo.eml + 24 MiB", &got, &fixtures[0].want);
	g_free(buf);
}

/* report_with - a minimal ARF whose report part holds FIELDS and whose
   original holds ORIG headers */
static char *report_with(const char *fields, const char *orig, size_t *len)
{
	char *s = g_strdup_printf(
		"X-Bounced-Envelope-To: <fbl@fbl.example.com>\n"
		"X-Bounced-Envelope-To: <forged@evil.example.org>\n"
		"Content-Type: multipart/report; report-type=feedback-report;"
		" boundary=\"b\"\n\n"
		"--b\nContent-Type: message/feedback-report\n\n%s\n"
		"--b\nContent-Type: message/rfc822\n\n%s\nbody\n--b--\n",
		fields, orig);

	*len = strlen(s);
	return s;
}

/* the mails that reach a feedback address besides reports, and reports
   of every recipient shape: what each is, who complained, when */
static const struct kind_case {
	const char *file;
	enum arf_kind kind;
	const char *why;
	const char *rcpt;	/* the only recipient, or "" for none */
	int64_t arrival, date;
	const char *flags;
} kind_cases[] = {
	{ "aol_tos.eml", ARF_KIND_REPORT,
	  "AOL complaint (Client TOS Notification)",
	  "greg.h@aol.example", 0, 1710149160,
	  "no-report-part,type-assumed,rcpt-from-original,known-shape,rcpt-from-to" },
	{ "autoreply_attached.eml", ARF_KIND_AUTO_REPLY,
	  "Auto-Submitted: auto-replied",
	  "", 0, 1710144900,
	  "no-report-part" },
	{ "autoreply_body.eml", ARF_KIND_AUTO_REPLY,
	  "text 'i am out of the office'",
	  "", 0, 1710414300,
	  "no-report-part,no-original" },
	{ "autoreply_outlook.eml", ARF_KIND_AUTO_REPLY,
	  "Auto-Submitted: auto-generated",
	  "", 0, 1710144782,
	  "no-report-part,no-original" },
	{ "autoreply_precedence.eml", ARF_KIND_AUTO_REPLY,
	  "Precedence: junk",
	  "", 0, 1710414000,
	  "no-report-part,no-original" },
	{ "autoreply_vacation.eml", ARF_KIND_AUTO_REPLY,
	  "Subject 'abwesenheit...'",
	  "", 0, 1710144840,
	  "no-report-part,no-original" },
	{ "cr_only.eml", ARF_KIND_REPORT,
	  "Feedback-Type: abuse",
	  "chris.ray@example.net", 1710140700, 1710145800,
	  "" },
	{ "date_only.eml", ARF_KIND_REPORT,
	  "Feedback-Type: abuse",
	  "omar.f@example.net", 0, 1710145800,
	  "" },
	{ "dmarc_aggregate.eml", ARF_KIND_AUTH_REPORT,
	  "Subject 'Report Domain: ...' (a DMARC aggregate report)",
	  "", 0, 1710115500,
	  "no-report-part,no-original" },
	{ "dmarc_failure_arf.eml", ARF_KIND_AUTH_REPORT,
	  "Feedback-Type: auth-failure",
	  "", 1710145018, 1710145020,
	  "" },
	{ "dmarc_failure_plain.eml", ARF_KIND_AUTH_REPORT,
	  "Subject names DMARC (a DMARC report)",
	  "", 0, 1710145080,
	  "no-report-part" },
	{ "dsn_exchange.eml", ARF_KIND_DSN,
	  "multipart/report; report-type=delivery-status",
	  "", 0, 1710144251,
	  "no-report-part,headers-only" },
	{ "dsn_exim.eml", ARF_KIND_DSN,
	  "X-Failed-Recipients",
	  "", 0, 1710144120,
	  "no-report-part" },
	{ "dsn_exim_inline.eml", ARF_KIND_DSN,
	  "X-Failed-Recipients",
	  "", 0, 1710140580,
	  "no-report-part,no-original" },
	{ "dsn_global.eml", ARF_KIND_DSN,
	  "multipart/report; report-type=global-delivery-status",
	  "", 0, 1710144720,
	  "no-report-part" },
	{ "dsn_gmail.eml", ARF_KIND_DSN,
	  "multipart/report; report-type=delivery-status",
	  "", 0, 1710144391,
	  "no-report-part" },
	{ "dsn_office365.eml", ARF_KIND_DSN,
	  "multipart/report; report-type=delivery-status",
	  "", 0, 1710144320,
	  "no-report-part" },
	{ "dsn_postfix.eml", ARF_KIND_DSN,
	  "multipart/report; report-type=delivery-status",
	  "", 0, 1710144009,
	  "no-report-part" },
	{ "dsn_postfix_cr.eml", ARF_KIND_DSN,
	  "multipart/report; report-type=delivery-status",
	  "", 0, 1710144009,
	  "no-report-part" },
	{ "dsn_qmail.eml", ARF_KIND_DSN,
	  "From mailer-daemon@mail.example.org",
	  "", 0, 1710144660,
	  "no-report-part,no-original" },
	{ "dsn_sendmail.eml", ARF_KIND_DSN,
	  "multipart/report; report-type=delivery-status",
	  "", 0, 1710144070,
	  "no-report-part,headers-only" },
	{ "dsn_ses.eml", ARF_KIND_DSN,
	  "multipart/report; report-type=delivery-status",
	  "", 0, 1710144541,
	  "no-report-part" },
	{ "dsn_workspace.eml", ARF_KIND_DSN,
	  "multipart/report; report-type=delivery-status",
	  "", 0, 1710148020,
	  "no-report-part,headers-only" },
	{ "dsn_yahoo.eml", ARF_KIND_DSN,
	  "From mailer-daemon@yahoo.example",
	  "", 0, 1710144524,
	  "no-report-part" },
	{ "dsn_yandex.eml", ARF_KIND_DSN,
	  "multipart/report; report-type=delivery-status",
	  "", 0, 1710144605,
	  "no-report-part" },
	/* fraud (phishing) and virus reports: about a mail that may only
	   have forged our domain, never a complaint of its recipient: a
	   DMARC failure report sent as fraud (no Original-Rcpt-To; its To
	   names the phished recipient), a user's phishing report, an
	   antivirus filter's report */
	{ "fraud_dmarc.eml", ARF_KIND_AUTH_REPORT,
	  "Feedback-Type: fraud (a phishing report: about a mail that may "
	  "only have forged our domain)",
	  "", 1710225651, 1710225670,
	  "" },
	{ "fraud_phish.eml", ARF_KIND_AUTH_REPORT,
	  "Feedback-Type: fraud (a phishing report: about a mail that may "
	  "only have forged our domain)",
	  "", 1710234700, 1710234900,
	  "" },
	{ "virus.eml", ARF_KIND_AUTH_REPORT,
	  "Feedback-Type: virus (a filter found a virus in a mail that may "
	  "only have forged our domain)",
	  "", 1710237852, 1710237900,
	  "headers-only" },
	{ "forward_attached.eml", ARF_KIND_FORWARD,
	  "an attached message and no feedback report",
	  "", 0, 1710148740,
	  "no-report-part" },
	{ "forward_complaint.eml", ARF_KIND_FORWARD,
	  "an attached message and no feedback report",
	  "", 0, 1710145260,
	  "no-report-part" },
	{ "forward_inline.eml", ARF_KIND_FORWARD,
	  "Subject 'fwd: ...'",
	  "", 0, 1710148800,
	  "no-report-part,no-original" },
	{ "hashed_iem.eml", ARF_KIND_REPORT,
	  "Feedback-Type: abuse",
	  "", 1710170401, 1710170530,
	  "redacted,anonymised" },
	{ "hashed_mw.eml", ARF_KIND_REPORT,
	  "Feedback-Type: abuse",
	  "", 1710170401, 1710170530,
	  "redacted,anonymised" },
	{ "hashed_plain.eml", ARF_KIND_REPORT,
	  "Feedback-Type: abuse",
	  "", 1710170401, 1710170530,
	  "redacted,anonymised" },
	{ "hashed_word.eml", ARF_KIND_REPORT,
	  "Feedback-Type: abuse",
	  "", 1710170401, 1710170530,
	  "redacted,anonymised" },
	{ "jmrp_bare.eml", ARF_KIND_REPORT,
	  "Microsoft JMRP (X-HmXmrOriginalRecipient in the original)",
	  "rosa.gil@outlook.example.com", 0, 1710143917,
	  "no-report-part,type-assumed,rcpt-from-original,known-shape" },
	/* a JMRP whose original is attached as headers only
	   (text/rfc822-headers): still a known shape, not a forward */
	{ "jmrp_headers.eml", ARF_KIND_REPORT,
	  "Microsoft JMRP (X-HmXmrOriginalRecipient in the original)",
	  "lena.kowalski@outlook.example.com", 0, 1710432900,
	  "no-report-part,type-assumed,headers-only,rcpt-from-original,"
	  "known-shape" },
	{ "masked_rcpt.eml", ARF_KIND_REPORT,
	  "Feedback-Type: abuse",
	  "", 1710170401, 1710170530,
	  "redacted,anonymised" },
	{ "mdn_read_receipt.eml", ARF_KIND_AUTO_REPLY,
	  "a read receipt (disposition-notification)",
	  "", 0, 1710145000,
	  "no-report-part,headers-only" },
	{ "mixed_endings.eml", ARF_KIND_REPORT,
	  "Feedback-Type: abuse",
	  "mia.lopez@example.net", 1710140760, 1710145800,
	  "" },
	{ "not_ours.eml", ARF_KIND_REPORT,
	  "Feedback-Type: abuse",
	  "dave@example.net", 1710145410, 1710145440,
	  "" },
	/* a list in Original-Rcpt-To whose quote is never closed: nobody */
	{ "rcpt_list_unsplit.eml", ARF_KIND_REPORT,
	  "Feedback-Type: abuse",
	  "", 1710243780, 1710243900,
	  "anonymised,rcpt-unreadable" },
	{ "tlsrpt.eml", ARF_KIND_AUTH_REPORT,
	  "multipart/report; report-type=tlsrpt (an SMTP TLS report)",
	  "", 0, 1710122400,
	  "no-report-part,no-original" },
	{ "to_is_sender.eml", ARF_KIND_REPORT,
	  "Feedback-Type: abuse",
	  "", 1710156160, 1710156180,
	  "anonymised" },
	{ "to_many.eml", ARF_KIND_REPORT,
	  "Feedback-Type: abuse",
	  "", 1710156160, 1710156180,
	  "anonymised" },
	{ "to_own_list.eml", ARF_KIND_REPORT,
	  "Feedback-Type: abuse",
	  "", 1710156160, 1710156180,
	  "anonymised" },
	{ "to_single.eml", ARF_KIND_REPORT,
	  "Feedback-Type: abuse",
	  "carla.souza@isp.example", 1710156160, 1710156180,
	  "rcpt-from-original,rcpt-from-to" },
};

static void test_kinds(void **state)
{
	struct arf_report got;
	char err[256], fl[256];
	size_t i, len;
	char *buf;

	(void)state;
	for (i = 0; i < G_N_ELEMENTS(kind_cases); i++) {
		const struct kind_case *k = &kind_cases[i];

		print_message("  %s\n", k->file);
		buf = read_file(k->file, &len);
		if (arf_parse(buf, len, &got, err, sizeof(err)) != 0)
			fail_msg("%s: %s", k->file, err);
		assert_string_equal(arf_kind_name(got.kind),
				    arf_kind_name(k->kind));
		assert_string_equal(got.kind_why, k->why);
		assert_int_equal(got.n_rcpts, k->rcpt[0] ? 1 : 0);
		assert_string_equal(got.rcpts[0], k->rcpt);
		assert_int_equal(got.arrival_time, k->arrival);
		assert_int_equal(got.report_time, k->date);
		assert_string_equal(arf_flags_str(got.flags, fl, sizeof(fl)),
				    k->flags);
		/* only a report names a feedback type */
		if (k->kind != ARF_KIND_REPORT && k->kind != ARF_KIND_AUTH_REPORT)
			assert_string_equal(got.feedback_type, "");
		g_free(buf);
	}
}

/* lf_copy - BUF with every CR LF and lone CR made LF */
static char *lf_copy(const char *buf, size_t len, size_t *out)
{
	GString *s = g_string_sized_new(len);
	size_t i;

	for (i = 0; i < len; i++) {
		if (buf[i] == '\r') {
			g_string_append_c(s, '\n');
			if (i + 1 < len && buf[i + 1] == '\n')
				i++;
		} else {
			g_string_append_c(s, buf[i]);
		}
	}
	*out = s->len;
	return g_string_free(s, FALSE);
}

/* test_line_endings - a CR-only mail and a mail of mixed line ends give
   exactly what their LF copies give */
static void test_line_endings(void **state)
{
	static const char *const files[] = { "cr_only.eml", "mixed_endings.eml",
					     "dsn_postfix_cr.eml" };
	struct arf_report a, b;
	char err[256];
	size_t i, len, lflen;
	char *buf, *lf;

	(void)state;
	for (i = 0; i < G_N_ELEMENTS(files); i++) {
		buf = read_file(files[i], &len);
		assert_non_null(memchr(buf, '\r', len));
		lf = lf_copy(buf, len, &lflen);
		assert_null(memchr(lf, '\r', lflen));
		assert_int_equal(arf_parse(buf, len, &a, err, sizeof(err)), 0);
		assert_int_equal(arf_parse(lf, lflen, &b, err, sizeof(err)), 0);
		assert_memory_equal(&a, &b, sizeof(a));
		g_free(lf);
		g_free(buf);
	}
	/* the CR-only report was read whole: report fields, original, rcpt */
	buf = read_file("cr_only.eml", &len);
	assert_int_equal(arf_parse(buf, len, &a, err, sizeof(err)), 0);
	assert_string_equal(a.user_agent, "ExampleFBL/1.4");
	assert_string_equal(a.mw_subscriber_uid, "cr123cd456ef7");
	assert_string_equal(a.envelope_to, "fbl@fbl.example.com");
	g_free(buf);
}

/* test_redacted - which written addresses stand for a hidden recipient */
static void test_redacted(void **state)
{
	static const struct {
		const char *v;
		int hidden;
	} cases[] = {
		{ "jane.doe@example.net", 0 },
		{ "<Jane.Doe@example.net>", 0 },
		{ "rfc822; jane@example.net", 0 },
		{ "alexxx@example.net", 0 },		/* x-run inside a word */
		{ "maxx.power@example.net", 0 },
		{ "deadbeef@example.net", 0 },		/* 8 hex digits: a name */
		{ "0123456789abcdef0123456789abcde@example.net", 0 }, /* 31 */
		{ "", 0 },
		{ "xxxxxxx@example.net", 1 },
		{ "XXX@example.net", 1 },
		{ "user.xxx@example.net", 1 },
		{ "redacted@example.net", 1 },
		{ "[REDACTED]@example.net", 1 },
		{ "redacted-recipient@example.net", 1 },
		{ "hashed@example.net", 1 },
		{ "hashed_rcpt_1@example.net", 1 },
		{ "user.HaShEd@example.net", 1 },	/* any case, inside */
		{ "redacte.hashe@example.net", 0 },	/* cut short */
		{ "someone@ReDaCtEd.example", 1 },
		{ "removed@example.net", 1 },
		{ "\"anonymous\"@example.net", 1 },
		{ "j***e@example.net", 1 },
		{ "*****", 1 },
		{ "###@example.net", 1 },
		{ "@example.net", 1 },
		{ "someone@redacted", 1 },
		{ "zocker.fax@xxxxxx-xxxxx.xx", 1 },	/* a masked domain */
		{ "<someone@***.**>", 1 },
		{ "someone@x.example", 0 },
		{ "someone@xx-x.com", 0 },
		{ "0123456789abcdef0123456789abcdef@example.net", 1 },	/* MD5 */
		{ "9F86D081884C7D659A2FEAA0C55AD015@comcast.example", 1 },
		{ "u-2c26b46b68ffc68ff99b453c1d30413413422d70@example.net", 1 },
		{ "rfc822;<b6cf7e1a0096ba1caf76ee2c90aaaeaa@comcast.example>", 1 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < G_N_ELEMENTS(cases); i++)
		if (arf_redacted(cases[i].v) != cases[i].hidden)
			fail_msg("arf_redacted(\"%s\") != %d", cases[i].v,
				 cases[i].hidden);
	assert_int_equal(arf_redacted(NULL), 0);
}

/* test_to_rules - the original's To stands for the complainer only when it
   is one mailbox that is not the sender's, nor the report's own */
static void test_to_rules(void **state)
{
	static const struct {
		const char *orig;
		const char *rcpt;
	} cases[] = {
		{ "From: news@news.example.com\nTo: ann@example.net", "ann@example.net" },
		{ "From: news@news.example.com\nTo: News <news@news.example.com>", "" },
		/* the list's own address, at the sender's domain */
		{ "From: news@news.example.com\nTo: list@news.example.com", "" },
		{ "From: a@x.example\nReturn-Path: <b@bounce.example.com>\n"
		  "To: c@bounce.example.com", "" },
		/* the feedback address (the report's To and envelope) */
		{ "From: news@news.example.com\nTo: fbl@fbl.example.com", "" },
		{ "From: news@news.example.com\nTo: ann@example.net, bob@example.net", "" },
		{ "From: news@news.example.com\nTo: undisclosed-recipients:;", "" },
		{ "From: news@news.example.com\nTo: 0123456789abcdef0123456789abcdef@example.net", "" },
	};
	struct arf_report got;
	char err[256];
	size_t i, len;
	char *buf;

	(void)state;
	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		buf = report_with("Feedback-Type: abuse\n", cases[i].orig, &len);
		assert_int_equal(arf_parse(buf, len, &got, err, sizeof(err)), 0);
		print_message("  %s\n", cases[i].orig);
		assert_int_equal(got.n_rcpts, cases[i].rcpt[0] ? 1 : 0);
		assert_string_equal(got.rcpts[0], cases[i].rcpt);
		assert_int_equal(!!(got.flags & ARF_F_RCPT_FROM_TO),
				 cases[i].rcpt[0] != '\0');
		assert_int_equal(!!(got.flags & ARF_F_ANONYMISED),
				 cases[i].rcpt[0] == '\0');
		g_free(buf);
	}
}

static void test_many_rcpts(void **state)
{
	GString *f = g_string_new("Feedback-Type: abuse\n");
	struct arf_report got;
	char err[256], want[64];
	size_t len, i;
	char *buf;

	(void)state;
	for (i = 0; i < 20; i++)
		g_string_append_printf(f, "Original-Rcpt-To: <User%zu@example.net>\n"
					  "Original-Rcpt-To: user%zu@EXAMPLE.net\n",
				       i, i);
	buf = report_with(f->str, "To: someone@example.com", &len);
	assert_int_equal(arf_parse(buf, len, &got, err, sizeof(err)), 0);
	assert_int_equal(got.n_rcpts, ARF_MAX_RCPTS);
	for (i = 0; i < ARF_MAX_RCPTS; i++) {
		snprintf(want, sizeof(want), "user%zu@example.net", i);
		assert_string_equal(got.rcpts[i], want);
	}
	assert_int_equal(got.flags, ARF_F_RCPTS_TRUNCATED);
	assert_string_equal(got.envelope_to, "fbl@fbl.example.com");
	g_free(buf);
	g_string_free(f, TRUE);
}

/* test_report_types - every Feedback-Type: which are reports that may
   name a complainer, which are set aside as reports about mail that may
   only have used our domain (whatever else the report says) */
static void test_report_types(void **state)
{
	static const struct {
		const char *type;
		enum arf_kind kind;
		const char *feedback_type;
	} cases[] = {
		{ "abuse", ARF_KIND_REPORT, "abuse" },
		{ "Abuse", ARF_KIND_REPORT, "abuse" },
		{ "not-spam", ARF_KIND_REPORT, "not-spam" },
		{ "other", ARF_KIND_REPORT, "other" },
		{ "opt-out", ARF_KIND_REPORT, "opt-out" },
		{ "opt-out-list", ARF_KIND_REPORT, "opt-out-list" },
		/* types no RFC registers stay reports: complaint-types
		   decides (some generators write their own words) */
		{ "spam", ARF_KIND_REPORT, "spam" },
		{ "complaint", ARF_KIND_REPORT, "complaint" },
		{ "fraudulent", ARF_KIND_REPORT, "fraudulent" },
		{ "auth-failure", ARF_KIND_AUTH_REPORT, "auth-failure" },
		{ "fraud", ARF_KIND_AUTH_REPORT, "fraud" },
		{ "FRAUD", ARF_KIND_AUTH_REPORT, "fraud" },
		{ "fraud; phishing", ARF_KIND_AUTH_REPORT, "fraud" },
		{ "virus", ARF_KIND_AUTH_REPORT, "virus" },
		{ " Virus", ARF_KIND_AUTH_REPORT, "virus" },
	};
	struct arf_report got;
	char err[256], *fields;
	size_t i, len;
	char *buf;

	(void)state;
	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		print_message("  Feedback-Type: %s\n", cases[i].type);
		fields = g_strdup_printf("Feedback-Type: %s\n"
					 "Original-Rcpt-To: <victim@isp.example>\n"
					 "Original-Mail-From: <news@news.example.com>\n",
					 cases[i].type);
		buf = report_with(fields, "From: news@news.example.com\n"
				  "To: victim@isp.example", &len);
		assert_int_equal(arf_parse(buf, len, &got, err, sizeof(err)), 0);
		assert_string_equal(arf_kind_name(got.kind),
				    arf_kind_name(cases[i].kind));
		assert_string_equal(got.feedback_type, cases[i].feedback_type);
		/* only a report names whom it is about */
		assert_int_equal(got.n_rcpts,
				 cases[i].kind == ARF_KIND_REPORT ? 1 : 0);
		if (cases[i].kind == ARF_KIND_REPORT)
			assert_string_equal(got.rcpts[0], "victim@isp.example");
		g_free(buf);
		g_free(fields);
	}
}

/* rcpt_list_case - a report whose report part holds FIELDS (its original
   names nobody) names the N_WANT recipients WANT, in order, and has the
   flags FLAGS */
static void rcpt_list_case(const char *fields, const char *const *want,
			   size_t n_want, unsigned flags)
{
	struct arf_report got;
	char err[256], fl[256], wfl[256];
	size_t i, len;
	char *buf;

	print_message("  %s\n", fields);
	buf = report_with(fields, "From: news@news.example.com\n"
			  "To: undisclosed-recipients:;", &len);
	assert_int_equal(arf_parse(buf, len, &got, err, sizeof(err)), 0);
	assert_int_equal(got.kind, ARF_KIND_REPORT);
	if (got.n_rcpts != n_want)
		for (i = 0; i < got.n_rcpts; i++)
			print_message("    got %s\n", got.rcpts[i]);
	assert_int_equal(got.n_rcpts, n_want);
	for (i = 0; i < n_want; i++)
		assert_string_equal(got.rcpts[i], want[i]);
	assert_string_equal(arf_flags_str(got.flags, fl, sizeof(fl)),
			    arf_flags_str(flags, wfl, sizeof(wfl)));
	g_free(buf);
}

/* test_rcpt_lists - an Original-Rcpt-To listing several addresses,
   comma-separated, names each of them, as repeated fields do; bounded;
   a comma inside a quoted string, angle brackets or a comment separates
   nothing; a member too long to be an address is never cut into one */
static void test_rcpt_lists(void **state)
{
	static const char *const ab[] = { "ann@example.net", "bob@example.org" };
	static const char *const b[] = { "bob@example.org" };
	static const char *const a[] = { "ann@example.net" };
	const unsigned list = ARF_F_RCPT_LIST;
	const unsigned unread = ARF_F_RCPT_UNREADABLE;
	GString *f;
	char want_s[ARF_MAX_RCPTS][32];
	const char *want[ARF_MAX_RCPTS];
	size_t i;

	(void)state;
	rcpt_list_case("Feedback-Type: abuse\n"
		       "Original-Rcpt-To: ann@example.net, bob@example.org\n",
		       ab, 2, list);
	rcpt_list_case("Feedback-Type: abuse\n"
		       "Original-Rcpt-To: <Ann@Example.NET>,<bob@example.org>\n",
		       ab, 2, list);
	rcpt_list_case("Feedback-Type: abuse\n"
		       "Original-Rcpt-To: rfc822; ann@example.net, "
		       "rfc822;<bob@example.org>\n", ab, 2, list);
	/* folded over two lines */
	rcpt_list_case("Feedback-Type: abuse\n"
		       "Original-Rcpt-To: ann@example.net,\n"
		       "\tbob@example.org\n", ab, 2, list);
	/* the same address twice, a list and a field */
	rcpt_list_case("Feedback-Type: abuse\n"
		       "Original-Rcpt-To: ann@example.net, ANN@example.net\n"
		       "Original-Rcpt-To: bob@example.org\n", ab, 2, list);
	/* empty members are nothing; one address is no list */
	rcpt_list_case("Feedback-Type: abuse\n"
		       "Original-Rcpt-To: ann@example.net, ,\n", a, 1, 0);
	/* a placeholder among them is flagged, the others taken */
	rcpt_list_case("Feedback-Type: abuse\n"
		       "Original-Rcpt-To: redacted@example.net, bob@example.org\n",
		       b, 1, list | ARF_F_REDACTED);
	/* what is no address is skipped: a name, a display-name form whose
	   quoted comma separates nothing, a source route's commas */
	rcpt_list_case("Feedback-Type: abuse\n"
		       "Original-Rcpt-To: \"Doe, Ann\" <ann@example.net>, "
		       "bob@example.org, Carl Smith\n", b, 1, list | unread);
	rcpt_list_case("Feedback-Type: abuse\n"
		       "Original-Rcpt-To: <@relay.example,@hop.example:"
		       "ann@example.net>\n", NULL, 0, unread | ARF_F_ANONYMISED);
	rcpt_list_case("Feedback-Type: abuse\n"
		       "Original-Rcpt-To: ann@example.net (a, b), "
		       "bob@example.org\n", b, 1, list | unread);
	/* an unclosed quote or bracket: the rest is one member, no address
	   (where the addresses end cannot be told) */
	rcpt_list_case("Feedback-Type: abuse\n"
		       "Original-Rcpt-To: \"ann@example.net, bob@example.org\n",
		       NULL, 0, unread | ARF_F_ANONYMISED);
	rcpt_list_case("Feedback-Type: abuse\n"
		       "Original-Rcpt-To: <ann@example.net, bob@example.org\n",
		       NULL, 0, unread | ARF_F_ANONYMISED);
	/* other separators are none: the value is no address */
	rcpt_list_case("Feedback-Type: abuse\n"
		       "Original-Rcpt-To: ann@example.net; bob@example.org\n",
		       NULL, 0, unread | ARF_F_ANONYMISED);
	/* a member longer than an address can be is skipped whole: cut, its
	   first bytes would read as one */
	f = g_string_new("Feedback-Type: abuse\nOriginal-Rcpt-To: ann@example.net");
	g_string_append_printf(f, "%*s", 600, "");
	g_string_append(f, "zz, bob@example.org\n");
	rcpt_list_case(f->str, b, 1, list | unread);
	g_string_free(f, TRUE);
	/* the drafts' Removal-Recipient is read alike */
	rcpt_list_case("Feedback-Type: opt-out\n"
		       "Removal-Recipient: ann@example.net, bob@example.org\n",
		       ab, 2, list);
	/* at most ARF_MAX_RCPTS recipients */
	f = g_string_new("Feedback-Type: abuse\nOriginal-Rcpt-To: ");
	for (i = 0; i < 40; i++)
		g_string_append_printf(f, "%su%zu@example.net", i ? ", " : "", i);
	g_string_append_c(f, '\n');
	for (i = 0; i < ARF_MAX_RCPTS; i++) {
		snprintf(want_s[i], sizeof(want_s[i]), "u%zu@example.net", i);
		want[i] = want_s[i];
	}
	rcpt_list_case(f->str, want, ARF_MAX_RCPTS,
		       list | ARF_F_RCPTS_TRUNCATED);
	g_string_free(f, TRUE);
	/* at most 64 members looked at: what follows is not read */
	f = g_string_new("Feedback-Type: abuse\nOriginal-Rcpt-To: ");
	for (i = 0; i < 64; i++)
		g_string_append(f, "nobody, ");
	g_string_append(f, "ann@example.net\n");
	rcpt_list_case(f->str, NULL, 0, list | unread |
		       ARF_F_RCPTS_TRUNCATED | ARF_F_ANONYMISED);
	g_string_free(f, TRUE);
	/* the fixture: two addresses and a placeholder, folded */
	{
		static const char *const cd[] = { "carol.list@example.net",
						  "dan.list@example.org" };
		struct arf_report got;
		char err[256], fl[128];
		size_t len;
		char *buf = read_file("rcpt_list.eml", &len);

		assert_int_equal(arf_parse(buf, len, &got, err, sizeof(err)), 0);
		assert_int_equal(got.n_rcpts, 2);
		assert_string_equal(got.rcpts[0], cd[0]);
		assert_string_equal(got.rcpts[1], cd[1]);
		assert_string_equal(arf_flags_str(got.flags, fl, sizeof(fl)),
				    "redacted,rcpt-list");
		g_free(buf);
	}
}

/* written_case - a report whose report part holds FIELDS and whose
   original holds ORIG names RCPT, spelt WRITTEN ("" for none) */
static void written_case(const char *fields, const char *orig,
			 const char *rcpt, const char *written)
{
	struct arf_report got;
	char err[256];
	size_t len;
	char *buf;

	print_message("  %s", fields);
	buf = report_with(fields, orig, &len);
	assert_int_equal(arf_parse(buf, len, &got, err, sizeof(err)), 0);
	assert_int_equal(got.n_rcpts, 1);
	assert_string_equal(got.rcpts[0], rcpt);
	assert_string_equal(got.rcpts_written[0], written);
	g_free(buf);
}

/* test_rcpt_written - a recipient written with capitals keeps that
   spelling beside its normalised form (a list manager comparing exactly
   holds it so); one written lower-case, or whose domain was converted to
   its ASCII form, has none */
static void test_rcpt_written(void **state)
{
	struct arf_report got;
	char err[256];
	size_t len;
	char *buf;

	(void)state;
	written_case("Feedback-Type: abuse\n"
		     "Original-Rcpt-To: <John.Smith@Example.com>\n",
		     "To: undisclosed-recipients:;",
		     "john.smith@example.com", "John.Smith@Example.com");
	written_case("Feedback-Type: abuse\n"
		     "Original-Rcpt-To: <john.smith@example.com>\n",
		     "To: undisclosed-recipients:;",
		     "john.smith@example.com", "");
	written_case("Feedback-Type: abuse\n"
		     "Original-Rcpt-To: rfc822; John.Smith@Example.com\n",
		     "To: undisclosed-recipients:;",
		     "john.smith@example.com", "John.Smith@Example.com");
	written_case("Feedback-Type: abuse\n"
		     "Original-Rcpt-To: Hans@B\xc3\xbc" "cher.de\n",
		     "To: undisclosed-recipients:;",
		     "hans@xn--bcher-kva.de", "");
	/* the original's To, when it is the source */
	written_case("Feedback-Type: abuse\n",
		     "From: news@news.example.com\nTo: Ann <Ann@Example.NET>",
		     "ann@example.net", "Ann@Example.NET");
	/* each member of a list its own; an address named again keeps the
	   first spelling with capitals */
	buf = report_with("Feedback-Type: abuse\n"
			  "Original-Rcpt-To: john.smith@example.com, "
			  "Ann@example.net\n"
			  "Original-Rcpt-To: JOHN.smith@example.com\n"
			  "Original-Rcpt-To: John.Smith@example.com\n",
			  "To: undisclosed-recipients:;", &len);
	assert_int_equal(arf_parse(buf, len, &got, err, sizeof(err)), 0);
	assert_int_equal(got.n_rcpts, 2);
	assert_string_equal(got.rcpts[0], "john.smith@example.com");
	assert_string_equal(got.rcpts_written[0], "JOHN.smith@example.com");
	assert_string_equal(got.rcpts[1], "ann@example.net");
	assert_string_equal(got.rcpts_written[1], "Ann@example.net");
	g_free(buf);
}

/* test_envelope - the envelope is read from the first two lines only */
static void test_envelope(void **state)
{
	static const char late[] =
		"From: someone@example.org\n"
		"Subject: complaint about message from 192.0.2.1\n"
		"Return-Path: <forged@evil.example.org>\n"
		"X-Bounced-Envelope-To: <forged@evil.example.org>\n"
		"Content-Type: message/rfc822\n\n"
		"From: news@news.example.com\nTo: reader@example.net\n\nhi\n";
	static const char bad[] =
		"Return-Path: <not an address>\n"
		"X-Bounced-Envelope-To: <Fbl@FBL.example.com>\n"
		"Content-Type: message/rfc822\n\n"
		"From: news@news.example.com\nTo: reader@example.net\n\nhi\n";
	struct arf_report got;
	char err[256];

	(void)state;
	assert_int_equal(arf_parse(late, sizeof(late) - 1, &got, err,
				   sizeof(err)), 0);
	assert_string_equal(got.envelope_from, "");
	assert_string_equal(got.envelope_to, "");
	assert_string_equal(got.rcpts[0], "reader@example.net");
	assert_int_equal(got.flags, ARF_F_NO_REPORT_PART | ARF_F_TYPE_ASSUMED |
				    ARF_F_RCPT_FROM_ORIG | ARF_F_KNOWN_SHAPE |
				    ARF_F_RCPT_FROM_TO);
	assert_int_equal(arf_parse(bad, sizeof(bad) - 1, &got, err,
				   sizeof(err)), 0);
	assert_string_equal(got.envelope_from, "");
	assert_string_equal(got.envelope_to, "fbl@fbl.example.com");
}

/* mailer_lid_of - the X-Mailer-LID R keeps of a report whose original
   carries V, with a redacted recipient and X-Mailer-RecptId 48213 */
static void mailer_lid_of(const char *v, struct arf_report *r)
{
	char *orig = g_strdup_printf("X-Mailer-LID: %s\n"
				     "X-Mailer-RecptId: 48213\n"
				     "To: redacted@example.net", v);
	char err[256];
	size_t len;
	char *buf = report_with("Feedback-Type: abuse\n", orig, &len);

	assert_int_equal(arf_parse(buf, len, r, err, sizeof(err)), 0);
	assert_string_equal(r->mailer_recptid, "48213");
	g_free(buf);
	g_free(orig);
}

/* test_mailer_lid_lists - X-Mailer-LID of a campaign sent to several
   lists (Interspire joins their ids with commas) is kept when it is list
   ids only; anything else with a comma is not */
static void test_mailer_lid_lists(void **state)
{
	static const struct {
		const char *v, *want;
		bool ok;	/* arf_iem_lids_ok(v) */
	} cases[] = {
		{ "2,24,12", "2,24,12", true },
		{ "2", "2", true },
		{ " 7 ", "7", false },
		{ "abc-1.2", "abc-1.2", false },	/* a token, as before */
		/* a token keeps the size it had */
		{ "abcdefghij-abcdefghij-abcdefghi", "abcdefghij-abcdefghij-"
						    "abcdefghi", false },
		{ "abcdefghij-abcdefghij-abcdefghij", "", false },
		/* more than 16 ids, more than 31 characters: a campaign
		   IEM sent to 19 lists */
		{ "2,24,12,13,14,15,16,3,25,4,26,27,5,6,7,8,9,10,23",
		  "2,24,12,13,14,15,16,3,25,4,26,27,5,6,7,8,9,10,23", true },
		{ "1234567890,1234567890,1234567890", "1234567890,1234567890,"
						     "1234567890", true },
		{ "2147483647,1", "2147483647,1", true },
		{ "12345678901,2", "", false },	/* 11 digits */
		{ "2,,12", "", false },
		{ ",2", "", false },
		{ "2,", "", false },
		{ "2, 24", "", false },
		{ "2,a", "", false },
		{ "2;24", "", false },
	};
	struct arf_report got;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mailer_lid_of(cases[i].v, &got);
		assert_string_equal(got.mailer_lid, cases[i].want);
		assert_int_equal(arf_iem_lids_ok(cases[i].v), cases[i].ok);
	}
}

/* test_mailer_lid_bounds - the longest X-Mailer-LID is what one header
   line holds (984 characters after "X-Mailer-LID: "); one longer is
   dropped whole, never cut into fewer lists */
static void test_mailer_lid_bounds(void **state)
{
	GString *v = g_string_new(NULL);
	struct arf_report got;
	unsigned i;

	(void)state;
	/* 197 lists of four-digit ids: 984 characters, kept */
	for (i = 0; i < 197; i++)
		g_string_append_printf(v, "%s%u", i ? "," : "", 1000 + i);
	assert_int_equal(v->len, ARF_IEM_LID_SIZE - 1);
	assert_true(arf_iem_lids_ok(v->str));
	mailer_lid_of(v->str, &got);
	assert_string_equal(got.mailer_lid, v->str);
	/* one digit more: not kept at all */
	g_string_append_c(v, '7');
	assert_false(arf_iem_lids_ok(v->str));
	mailer_lid_of(v->str, &got);
	assert_string_equal(got.mailer_lid, "");
	/* the most ids that fit: 492 of one digit */
	g_string_truncate(v, 0);
	for (i = 0; i < ARF_IEM_LIDS_MAX; i++)
		g_string_append(v, i ? ",5" : "5");
	assert_true(arf_iem_lids_ok(v->str));
	mailer_lid_of(v->str, &got);
	assert_string_equal(got.mailer_lid, v->str);
	g_string_append(v, ",5");
	assert_false(arf_iem_lids_ok(v->str));
	mailer_lid_of(v->str, &got);
	assert_string_equal(got.mailer_lid, "");
	g_string_free(v, TRUE);
}

static void test_long_values(void **state)
{
	struct arf_report got;
	char err[256];
	char *ua = g_strnfill(1000, 'u'), *tok = g_strnfill(200, 'a');
	char *fields, *orig, *buf;
	size_t len;

	(void)state;
	fields = g_strdup_printf("Feedback-Type: %s\nUser-Agent: %s\n"
				 "Original-Rcpt-To: %s@example.net\n"
				 "Reported-Domain: %s.example.com\n",
				 tok, ua, ua, ua);
	orig = g_strdup_printf("Subject: %s\nList-Id: <%s>\n"
			       "X-Mw-Subscriber-Uid: %s\nX-Mailer-LID: %s\n"
			       "X-Job: %s\nTo: =?UTF-8?Q?=E2=80=94?= <%s@x.example>",
			       ua, tok, tok, tok, tok, tok);
	buf = report_with(fields, orig, &len);
	assert_int_equal(arf_parse(buf, len, &got, err, sizeof(err)), 0);
	/* text is cut, identifiers and addresses that do not fit are gone */
	assert_int_equal(strlen(got.feedback_type), sizeof(got.feedback_type) - 1);
	assert_int_equal(strspn(got.feedback_type, "a"), 31);
	assert_int_equal(strlen(got.user_agent), 127);
	assert_int_equal(strspn(got.user_agent, "u"), 127);
	assert_int_equal(strlen(got.reported_domain), 255);
	assert_int_equal(strlen(got.orig_subject), 255);
	assert_string_equal(got.list_id_token, "");
	assert_int_equal(strlen(got.list_id), 202);
	assert_string_equal(got.mw_subscriber_uid, "");
	assert_string_equal(got.mailer_lid, "");
	assert_string_equal(got.x_job, "");
	/* 200 times 'a' is 200 hex digits: an opaque local part; 1000
	   times 'u' is no address */
	assert_int_equal(got.n_rcpts, 0);
	assert_int_equal(got.flags, ARF_F_REDACTED | ARF_F_ANONYMISED |
				    ARF_F_RCPT_UNREADABLE);
	g_free(buf);
	g_free(orig);
	g_free(fields);
	g_free(tok);
	g_free(ua);
}

/* test_c1_addresses - addresses holding a C1 control (valid UTF-8, which
   addr_normalise lets through) are refused (found by fuzzing) */
static void test_c1_addresses(void **state)
{
	struct arf_report got;
	char err[256];
	size_t len;
	char *buf;

	(void)state;
	buf = report_with("Feedback-Type: abuse\n"
			  "Original-Rcpt-To: a\xc2\x85" "b@example.net\n"
			  "Original-Mail-From: <s@example.com\xc2\x8d>\n",
			  "From: Example <news@news.example.com\xc2\x8d>\n"
			  "Return-Path: <bounce\xe2\x80\xa8@example.com>\n"
			  "To: ok\xc3\xa9@example.net", &len);
	assert_int_equal(arf_parse(buf, len, &got, err, sizeof(err)), 0);
	assert_string_equal(got.original_mail_from, "");
	assert_string_equal(got.orig_from, "");
	assert_string_equal(got.orig_return_path, "");
	assert_int_equal(got.n_rcpts, 1);
	assert_string_equal(got.rcpts[0], "ok\xc3\xa9@example.net");
	assert_int_equal(got.flags, ARF_F_RCPT_FROM_ORIG | ARF_F_RCPT_FROM_TO |
				    ARF_F_RCPT_UNREADABLE);
	g_free(buf);
}

/* test_global_headers - RFC 6533 message/global-headers as the original;
   a To whose raw bytes are not UTF-8 names nobody */
static void test_global_headers(void **state)
{
	static const char mail[] =
		"Content-Type: multipart/report; report-type=feedback-report;"
		" boundary=\"g\"\n\n"
		"--g\nContent-Type: message/feedback-report\n\n"
		"Feedback-Type: abuse\n\n"
		"--g\nContent-Type: message/global-headers\n\n"
		"From: =?UTF-8?Q?J=C3=B6rg?= <j\xc3\xb6rg@news.example.com>\n"
		"To: j\xe9r\xf4me@example.fr\n"
		"Subject: Gr\xc3\xbc\xc3\x9f" "e\n\n"
		"--g--\n";
	struct arf_report got;
	char err[256];

	(void)state;
	assert_int_equal(arf_parse(mail, sizeof(mail) - 1, &got, err,
				   sizeof(err)), 0);
	assert_string_equal(got.orig_from, "j\xc3\xb6rg@news.example.com");
	assert_string_equal(got.orig_subject, "Gr\xc3\xbc\xc3\x9f" "e");
	assert_int_equal(got.n_rcpts, 0);
	assert_int_equal(got.flags, ARF_F_HEADERS_ONLY | ARF_F_ANONYMISED);
}

/* test_encoded_original - an original sent as message/rfc822 (or
   message/global) in base64 or quoted-printable, which GMime leaves a
   plain part, is decoded and read: its sender, List-Id, subscriber uid
   and recipient (a complaint, not a report without original) */
static void test_encoded_original(void **state)
{
	static const char orig[] =
		"Return-Path: <bounces-x@news.example.com>\r\n"
		"From: news@news.example.com\r\n"
		"To: Jane.Doe@example.net\r\n"
		"List-Id: <ab123cd456ef7.list.example.com>\r\n"
		"X-Mw-Subscriber-Uid: zz123cd456ef7\r\n"
		"Subject: Offers\r\n\r\nHello\r\n";
	const char *const types[] = { "message/rfc822", "message/global" };
	const char *const encs[] = { "base64", "quoted-printable" };
	struct arf_report got;
	char err[256];
	int t, e;

	(void)state;
	for (t = 0; t < 2; t++) {
		for (e = 0; e < 2; e++) {
			char *body = e == 0 ?
				g_base64_encode((const guchar *)orig,
						sizeof(orig) - 1) :
				g_strdup(orig);	/* QP: plain ASCII as is */
			char *mail = g_strdup_printf(
				"From: feedback@arf.example.net\n"
				"Content-Type: multipart/report; "
				"report-type=feedback-report; boundary=\"b\"\n\n"
				"--b\nContent-Type: text/plain\n\nA complaint\n"
				"--b\nContent-Type: message/feedback-report\n\n"
				"Feedback-Type: abuse\nVersion: 1\n\n"
				"--b\nContent-Type: %s\n"
				"Content-Transfer-Encoding: %s\n\n%s\n"
				"--b--\n", types[t], encs[e], body);

			assert_int_equal(arf_parse(mail, strlen(mail), &got,
						   err, sizeof(err)), 0);
			assert_int_equal(got.kind, ARF_KIND_REPORT);
			assert_string_equal(got.orig_from,
					    "news@news.example.com");
			assert_string_equal(got.orig_return_path,
					    "bounces-x@news.example.com");
			assert_string_equal(got.mw_subscriber_uid,
					    "zz123cd456ef7");
			assert_int_equal(got.n_rcpts, 1);
			assert_string_equal(got.rcpts[0],
					    "jane.doe@example.net");
			assert_false(got.flags & ARF_F_NO_ORIGINAL);
			g_free(mail);
			g_free(body);
		}
	}
}

/* nested - the report ARF wrapped in DEPTH multipart/mixed levels */
static char *nested(int depth, size_t *len)
{
	GString *s = g_string_new("");
	int i;

	for (i = 0; i < depth; i++)
		g_string_append_printf(s, "%sContent-Type: multipart/mixed; "
				       "boundary=\"n%d\"\n\n--n%d\n",
				       i ? "" : "X-Bounced-Envelope-To: a@example.com\n",
				       i, i);
	g_string_append(s, "Content-Type: message/feedback-report\n\n"
			   "Feedback-Type: not-spam\n"
			   "Original-Rcpt-To: deep@example.net\n\n");
	for (i = depth - 1; i >= 0; i--)
		g_string_append_printf(s, "--n%d--\n", i);
	*len = s->len;
	return g_string_free(s, FALSE);
}

static void test_nesting(void **state)
{
	struct arf_report got;
	char err[256];
	size_t len;
	char *buf;

	(void)state;
	buf = nested(7, &len);
	assert_int_equal(arf_parse(buf, len, &got, err, sizeof(err)), 0);
	assert_string_equal(got.feedback_type, "not-spam");
	assert_string_equal(got.rcpts[0], "deep@example.net");
	assert_string_equal(got.envelope_to, "a@example.com");
	assert_int_equal(got.flags, ARF_F_NO_ORIGINAL);
	g_free(buf);
	buf = nested(9, &len);	/* deeper than the walk looks */
	parse_fails(buf, len, not_report);
	g_free(buf);
	buf = nested(3000, &len);	/* hostile: must not exhaust the stack */
	parse_fails(buf, len, not_report);
	g_free(buf);
}

static void test_flags_str(void **state)
{
	char buf[64], small[12];

	(void)state;
	assert_string_equal(arf_flags_str(0, buf, sizeof(buf)), "");
	assert_string_equal(arf_flags_str(ARF_F_NO_REPORT_PART | ARF_F_ANONYMISED |
					  ARF_F_RCPTS_TRUNCATED, buf, sizeof(buf)),
			    "no-report-part,anonymised,rcpts-truncated");
	assert_string_equal(arf_flags_str(ARF_F_HEADERS_ONLY | ARF_F_REDACTED,
					  small, sizeof(small)), "headers-onl");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures),
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_line_endings),
		cmocka_unit_test(test_redacted),
		cmocka_unit_test(test_to_rules),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_huge),
		cmocka_unit_test(test_many_rcpts),
		cmocka_unit_test(test_report_types),
		cmocka_unit_test(test_rcpt_lists),
		cmocka_unit_test(test_rcpt_written),
		cmocka_unit_test(test_envelope),
		cmocka_unit_test(test_long_values),
		cmocka_unit_test(test_mailer_lid_lists),
		cmocka_unit_test(test_mailer_lid_bounds),
		cmocka_unit_test(test_c1_addresses),
		cmocka_unit_test(test_global_headers),
		cmocka_unit_test(test_encoded_original),
		cmocka_unit_test(test_nesting),
		cmocka_unit_test(test_flags_str),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
