/*
 * test_acct_fields.c - field names, header detection, column maps from
 * header rows and from a configured order, and acct_get.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "acct_fields.h"

/* a row over static strings, as the CSV reader would give it */
struct test_row {
	struct csv_row row;
	const char *f[64];
	size_t l[64];
};

/* row_of - split SPEC on ',' into a row (no quoting needed here) */
static void row_of(struct test_row *t, char *spec)
{
	size_t n = 0;
	char *p = spec;

	for (;;) {
		char *c = strchr(p, ',');

		assert_true(n < 64);
		t->f[n] = p;
		if (!c) {
			t->l[n++] = strlen(p);
			break;
		}
		*c = '\0';
		t->l[n++] = (size_t)(c - p);
		p = c + 1;
	}
	t->row.nfields = n;
	t->row.fields = t->f;
	t->row.lens = t->l;
	t->row.line = 1;
}

static const struct {
	enum acct_field f;
	const char *name;
} canonical[] = {
	{ AF_TYPE, "type" },
	{ AF_TIME_LOGGED, "timeLogged" },
	{ AF_TIME_QUEUED, "timeQueued" },
	{ AF_TOTAL_SECONDS_QUEUED, "totalSecondsQueued" },
	{ AF_ORIG, "orig" },
	{ AF_RCPT, "rcpt" },
	{ AF_ORCPT, "orcpt" },
	{ AF_DSN_ACTION, "dsnAction" },
	{ AF_DSN_STATUS, "dsnStatus" },
	{ AF_DSN_DIAG, "dsnDiag" },
	{ AF_DSN_MTA, "dsnMta" },
	{ AF_DSN_REPORTING_MTA, "dsnReportingMta" },
	{ AF_BOUNCE_CAT, "bounceCat" },
	{ AF_SRC_TYPE, "srcType" },
	{ AF_SRC_MTA, "srcMta" },
	{ AF_DLV_TYPE, "dlvType" },
	{ AF_DLV_SOURCE_IP, "dlvSourceIp" },
	{ AF_DLV_DESTINATION_IP, "dlvDestinationIp" },
	{ AF_DLV_ESMTP_AVAILABLE, "dlvEsmtpAvailable" },
	{ AF_DLV_SIZE, "dlvSize" },
	{ AF_VMTA, "vmta" },
	{ AF_JOB_ID, "jobId" },
	{ AF_ENV_ID, "envId" },
	{ AF_QUEUE, "queue" },
	{ AF_VMTA_POOL, "vmtaPool" },
	{ AF_USER_STRING, "userString" },
	{ AF_DLV_TLS_PROTOCOL, "dlvTlsProtocol" },
	{ AF_DLV_TLS_CIPHER, "dlvTlsCipher" },
	{ AF_RCV_SMTP_USER, "rcvSmtpUser" },
	{ AF_FORMAT, "format" },
	{ AF_FEEDBACK_TYPE, "feedbackType" },
	{ AF_USER_AGENT, "userAgent" },
	{ AF_REP_SOURCE_IP, "repSourceIp" },
	{ AF_REPORTING_MTA, "reportingMta" },
	{ AF_REPORTED_DOMAIN, "reportedDomain" },
	{ AF_HDR_FROM, "header_From" },
	{ AF_HDR_RETURN_PATH, "header_Return-Path" },
	{ AF_HDR_X_JOB, "header_X-job" },
	{ AF_HDR_SUBJECT, "header_Subject" },
	{ AF_HDR_MESSAGE_ID, "header_Message-Id" },
	{ AF_HDR_LIST_ID, "header_List-Id" },
	{ AF_HDR_X_MW_SUBSCRIBER_UID, "header_X-Mw-Subscriber-Uid" },
	{ AF_HDR_X_MAILER_LID, "header_X-Mailer-LID" },
	{ AF_HDR_X_MAILER_RECPTID, "header_X-Mailer-RecptId" },
	{ AF_HDR_X_HMXMR_ORIGINAL_RECIPIENT, "header_X-HmXmrOriginalRecipient" },
};

/* every field has its PowerMTA name, and the name looks it up in any case */
static void test_names(void **state)
{
	size_t i, j;
	char buf[64];

	(void)state;
	assert_int_equal(sizeof(canonical) / sizeof(canonical[0]), AF__COUNT);
	for (i = 0; i < AF__COUNT; i++) {
		const char *n = canonical[i].name;

		assert_string_equal(acct_field_name(canonical[i].f), n);
		assert_int_equal(acct_field_lookup(n, strlen(n)), canonical[i].f);
		for (j = 0; n[j] && j < sizeof(buf) - 1; j++)
			buf[j] = (char)(n[j] ^ ((n[j] >= 'a' && n[j] <= 'z') ||
						(n[j] >= 'A' && n[j] <= 'Z')
						? 0x20 : 0));
		buf[j] = '\0';
		assert_int_equal(acct_field_lookup(buf, j), canonical[i].f);
		snprintf(buf, sizeof(buf), "  %s\t", n);
		assert_int_equal(acct_field_lookup(buf, strlen(buf)),
				 canonical[i].f);
	}
	assert_string_equal(acct_field_name(AF__COUNT), "");
}

static const struct {
	const char *name;
	int want;
} lookups[] = {
	{ "envid", AF_ENV_ID },
	{ "ENVID", AF_ENV_ID },
	{ "reportingMTA", AF_REPORTING_MTA },
	{ "Header_list-id", AF_HDR_LIST_ID },
	{ "rcpt\r", AF_RCPT },
	{ "\xEF\xBB\xBFtype", AF_TYPE },
	{ "", -1 },
	{ "   ", -1 },
	{ "bounceCategory", -1 },
	{ "rcp", -1 },
	{ "rcptx", -1 },
	{ "header_X-Unknown", -1 },
	{ "arf_Feedback-Type", -1 },
	{ "r cpt", -1 },
};

static void test_lookup_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(lookups) / sizeof(lookups[0]); i++) {
		int got = acct_field_lookup(lookups[i].name,
					    strlen(lookups[i].name));

		if (got != lookups[i].want)
			fail_msg("lookup '%s': %d, want %d", lookups[i].name, got,
				 lookups[i].want);
	}
	/* only LEN bytes count */
	assert_int_equal(acct_field_lookup("rcptXYZ", 4), AF_RCPT);
	assert_int_equal(acct_field_lookup(NULL, 0), -1);
}

static void test_is_header(void **state)
{
	static const struct {
		const char *spec;
		bool want;
	} t[] = {
		{ "type,timeLogged,rcpt", true },
		{ "TYPE,rcpt", true },
		{ " type ,rcpt", true },
		{ "type", true },
		{ "b,2019-02-08,x@y", false },
		{ "types,rcpt", false },
		{ "rcpt,type", false },
		{ "", false },
		/* a header written as a comment (one public reader of
		   accounting files expects it so) */
		{ "#type,timeLogged,rcpt", true },
		{ " #TYPE ,rcpt", true },
		{ "#types,rcpt", false },
		{ "# type,rcpt", false },
		{ "#,type", false },
	};
	struct test_row r;
	char buf[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(buf, sizeof(buf), "%s", t[i].spec);
		row_of(&r, buf);
		if (acct_row_is_header(&r.row) != t[i].want)
			fail_msg("is_header '%s'", t[i].spec);
	}
	r.row.nfields = 0;
	assert_false(acct_row_is_header(&r.row));
	assert_false(acct_row_is_header(NULL));
}

/* header lines of the shapes public installations and guides show
   (field names as PowerMTA writes them; the orders are theirs): the
   columns bounced reads are found in each */
static void test_map_real_headers(void **state)
{
	static const struct {
		const char *hdr;
		int rcpt, time_logged, time_queued, bounce_cat, dsn_status,
		    dsn_diag, vmta;
	} t[] = {
		/* the User's Guide (4.0) example of a d and b file */
		{ "type,timeLogged,orig,rcpt,dlvSourceIp,bounceCat",
		  3, 1, -1, 5, -1, -1, -1 },
		/* a bounce handler's recommended record-fields b */
		{ "type,timeQueued,bounceCat,vmta,orig,rcpt,srcMta,dlvSourceIp,"
		  "jobId,dsnStatus,dsnMta,dsnDiag",
		  5, -1, 1, 2, 9, 11, 3 },
		/* the 4.x default with timeImprinted */
		{ "type,timeLogged,timeQueued,timeImprinted,orig,rcpt,orcpt,"
		  "dsnAction,dsnStatus,dsnDiag,dsnMta,bounceCat,srcType,srcMta,"
		  "dlvType,dlvSourceIp,dlvDestinationIp,dlvEsmtpAvailable,"
		  "dlvSize,vmta,jobId,envId",
		  5, 1, 2, 11, 8, 9, 19 },
		/* a union of d, b and f columns with provider headers and
		   a repeated name */
		{ "type,timeLogged,timeQueued,orig,rcpt,orcpt,dsnAction,"
		  "dsnStatus,dsnDiag,dsnMta,bounceCat,srcType,srcMta,dlvType,"
		  "dlvSourceIp,dlvDestinationIp,dlvEsmtpAvailable,dlvSize,vmta,"
		  "jobId,envId,queue,vmtaPool,header_x-sp-subaccount-id,"
		  "header_x-sp-message-id,repSourceIp,feedbackType,format,"
		  "userAgent,reportingMta,reportedDomain,header_From,"
		  "header_Return-Path,header_X-job,header_Subject,rcvSourceIp,"
		  "rcvSourceIp,dsnReportingMta",
		  4, 1, 2, 10, 7, 8, 18 },
		/* an order of an operator's own, with a header of theirs */
		{ "type,bounceCat,timeLogged,rcpt,dsnAction,dsnStatus,dsnDiag,"
		  "dlvSourceIp,header_drop_meta",
		  3, 2, -1, 1, 5, 6, -1 },
		/* other spellings of the same names */
		{ "TYPE,timelogged,RCPT,dsnMTA,srcMTA,BounceCat",
		  2, 1, -1, 5, -1, -1, -1 },
	};
	struct test_row h;
	struct acct_map m;
	char buf[1024];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(buf, sizeof(buf), "%s", t[i].hdr);
		row_of(&h, buf);
		assert_true(acct_row_is_header(&h.row));
		assert_int_equal(acct_map_from_row(&m, &h.row), 0);
		assert_int_equal(m.ncols, h.row.nfields);
		assert_int_equal(m.col[AF_TYPE], 0);
		if (m.col[AF_RCPT] != t[i].rcpt ||
		    m.col[AF_TIME_LOGGED] != t[i].time_logged ||
		    m.col[AF_TIME_QUEUED] != t[i].time_queued ||
		    m.col[AF_BOUNCE_CAT] != t[i].bounce_cat ||
		    m.col[AF_DSN_STATUS] != t[i].dsn_status ||
		    m.col[AF_DSN_DIAG] != t[i].dsn_diag ||
		    m.col[AF_VMTA] != t[i].vmta)
			fail_msg("header %zu: rcpt %d time %d/%d cat %d status "
				 "%d diag %d vmta %d", i, m.col[AF_RCPT],
				 m.col[AF_TIME_LOGGED], m.col[AF_TIME_QUEUED],
				 m.col[AF_BOUNCE_CAT], m.col[AF_DSN_STATUS],
				 m.col[AF_DSN_DIAG], m.col[AF_VMTA]);
	}
}

/* "#type": the header's first name without its '#'; the line of the
   header is kept (a row of another width is said against it) */
static void test_map_comment_header(void **state)
{
	char hdr[] = "#type,timeLogged,orig,rcpt,dsnMTA,srcMTA,bounceCat";
	struct test_row h;
	struct acct_map m;

	(void)state;
	row_of(&h, hdr);
	h.row.line = 7;
	assert_true(acct_row_is_header(&h.row));
	assert_int_equal(acct_map_from_row(&m, &h.row), 0);
	assert_int_equal(m.col[AF_TYPE], 0);
	assert_int_equal(m.col[AF_RCPT], 3);
	assert_int_equal(m.col[AF_DSN_MTA], 4);
	assert_int_equal(m.col[AF_SRC_MTA], 5);
	assert_int_equal(m.col[AF_BOUNCE_CAT], 6);
	assert_int_equal(m.ncols, 7);
	assert_int_equal(m.header_line, 7);
}

/* a comment: the type field starts with '#' (after blanks or a byte
   order mark); a record or an empty type is none */
static void test_is_comment(void **state)
{
	static const struct {
		const char *spec;
		bool want;
	} t[] = {
		{ "# PowerMTA accounting", true },
		{ "#,a,b", true },
		{ "  # indented", true },
		{ "\xEF\xBB\xBF# first line", true },
		{ "#type,rcpt", true },	/* by the map: a header is read first */
		{ "b,2026-06-04 10:00:00+0000,a@b.example", false },
		{ " b,x", false },
		{ ",#", false },
		{ "", false },
	};
	char hdr[] = "type,timeLogged,rcpt";
	char later[] = "rcpt,type";
	char row[] = "#a@b.example,b";
	struct test_row h, r;
	struct acct_map m;
	char buf[128];
	size_t i;

	(void)state;
	row_of(&h, hdr);
	assert_int_equal(acct_map_from_row(&m, &h.row), 0);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(buf, sizeof(buf), "%s", t[i].spec);
		row_of(&r, buf);
		if (acct_row_is_comment(&m, &r.row) != t[i].want)
			fail_msg("is_comment '%s'", t[i].spec);
	}
	/* the type column decides, wherever the header put it */
	row_of(&h, later);
	assert_int_equal(acct_map_from_row(&m, &h.row), 0);
	row_of(&r, row);
	assert_false(acct_row_is_comment(&m, &r.row));
	r.row.nfields = 1;	/* no type field at all */
	assert_false(acct_row_is_comment(&m, &r.row));
	assert_false(acct_row_is_comment(NULL, &r.row));
	assert_false(acct_row_is_comment(&m, NULL));
}

/* the union header of a file holding b, rb and f records */
static void test_map_union_header(void **state)
{
	char hdr[] = "type,timeLogged,timeQueued,orig,rcpt,orcpt,dsnAction,"
		     "dsnStatus,dsnDiag,dsnMta,bounceCat,srcType,srcMta,"
		     "dlvSourceIp,jobId,envid,dsnReportingMta,format,"
		     "feedbackType,userAgent,reportingMTA,header_X-job,"
		     "header_List-Id,arf_Feedback-Type,someFutureField";
	char rec[] = "f,2019-02-08 21:54:05+0000,,from@x.com,to@y.com,,,,,,,"
		     ",,10.0.0.1,,ENV1,,arf,abuse,Yahoo!-Mail-Feedback/1.0,"
		     "mta.yahoo.com,mailwizz-ab123cd456ef7,zz123 list";
	struct test_row h, r;
	struct acct_map m;
	size_t len = 99;

	(void)state;
	row_of(&h, hdr);
	assert_true(acct_row_is_header(&h.row));
	assert_int_equal(acct_map_from_row(&m, &h.row), 0);
	assert_true(m.from_header);
	assert_int_equal(m.ncols, 25);
	assert_int_equal(m.col[AF_TYPE], 0);
	assert_int_equal(m.col[AF_RCPT], 4);
	assert_int_equal(m.col[AF_ENV_ID], 15);
	assert_int_equal(m.col[AF_REPORTING_MTA], 20);
	assert_int_equal(m.col[AF_HDR_LIST_ID], 22);
	assert_int_equal(m.col[AF_VMTA], -1);

	row_of(&r, rec);
	assert_int_equal(r.row.nfields, 23);	/* shorter than the header */
	assert_string_equal(acct_get(&m, &r.row, AF_TYPE, &len), "f");
	assert_int_equal(len, 1);
	assert_string_equal(acct_get(&m, &r.row, AF_RCPT, NULL), "to@y.com");
	assert_string_equal(acct_get(&m, &r.row, AF_ENV_ID, NULL), "ENV1");
	assert_string_equal(acct_get(&m, &r.row, AF_FEEDBACK_TYPE, NULL), "abuse");
	assert_string_equal(acct_get(&m, &r.row, AF_REPORTING_MTA, NULL),
			    "mta.yahoo.com");
	assert_string_equal(acct_get(&m, &r.row, AF_HDR_X_JOB, NULL),
			    "mailwizz-ab123cd456ef7");
	assert_string_equal(acct_get(&m, &r.row, AF_HDR_LIST_ID, &len),
			    "zz123 list");
	assert_int_equal(len, 10);
	/* empty column, absent column, column beyond the row */
	assert_string_equal(acct_get(&m, &r.row, AF_DSN_DIAG, &len), "");
	assert_int_equal(len, 0);
	len = 99;
	assert_string_equal(acct_get(&m, &r.row, AF_VMTA, &len), "");
	assert_int_equal(len, 0);
	r.row.nfields = 5;
	len = 99;
	assert_string_equal(acct_get(&m, &r.row, AF_HDR_LIST_ID, &len), "");
	assert_int_equal(len, 0);
	assert_string_equal(acct_get(&m, &r.row, AF_RCPT, NULL), "to@y.com");
	assert_string_equal(acct_get(&m, &r.row, AF__COUNT, NULL), "");
	assert_string_equal(acct_get(NULL, &r.row, AF_RCPT, NULL), "");
}

/* a repeated name (PowerMTA writes rcvSourceIp twice in some layouts):
   the first column wins, the second is read where the first is empty;
   case does not matter */
static void test_map_repeat_and_case(void **state)
{
	char hdr[] = "TYPE,EnvId,rcpt,envid,RCPT";
	char rec[] = "b,first,a@b,second,c@d";
	char rec2[] = "f,,,second,c@d";
	struct test_row h, r, r2;
	struct acct_map m;
	size_t len;

	(void)state;
	row_of(&h, hdr);
	row_of(&r, rec);
	row_of(&r2, rec2);
	assert_int_equal(acct_map_from_row(&m, &h.row), 0);
	assert_string_equal(acct_get(&m, &r.row, AF_ENV_ID, NULL), "first");
	assert_string_equal(acct_get(&m, &r.row, AF_RCPT, NULL), "a@b");
	assert_string_equal(acct_get(&m, &r2.row, AF_ENV_ID, &len), "second");
	assert_int_equal(len, 6);
	assert_string_equal(acct_get(&m, &r2.row, AF_RCPT, NULL), "c@d");
	assert_string_equal(acct_get(&m, &r2.row, AF_ORIG, &len), "");
	assert_int_equal(len, 0);
}

/* a header without type is refused and the old map kept; one without
   rcpt is a file of t and tq records (taken, its rows skipped) */
static void test_map_bad_header(void **state)
{
	static const char *const bad[] = {
		"rcpt,orig",
		"x,y,z",
	};
	char good[] = "type,rcpt";
	struct test_row h;
	struct acct_map m;
	char buf[64];
	size_t i;

	(void)state;
	row_of(&h, good);
	assert_int_equal(acct_map_from_row(&m, &h.row), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf), "%s", bad[i]);
		row_of(&h, buf);
		assert_int_equal(acct_map_from_row(&m, &h.row), -1);
		assert_int_equal(m.col[AF_TYPE], 0);
		assert_int_equal(m.col[AF_RCPT], 1);
		assert_int_equal(m.ncols, 2);
	}
	assert_int_equal(acct_map_from_row(NULL, &h.row), -1);
	snprintf(buf, sizeof(buf), "type,timeLogged,queue,dsnStatus");
	row_of(&h, buf);
	assert_int_equal(acct_map_from_row(&m, &h.row), 0);
	assert_int_equal(m.col[AF_TYPE], 0);
	assert_int_equal(m.col[AF_RCPT], -1);
}

/* the classic header-less layout */
static void test_map_from_names(void **state)
{
	char *classic[] = { "type", "timeQueued", "bounceCat", "vmta", "orig",
			    "rcpt", "srcMta", "dlvSourceIp", "jobId",
			    "dsnStatus", "dsnMta", "dsnDiag", NULL };
	char rec[] = "b,2019-02-08 21:53:41+0000,bad-mailbox,vmta1,o@x,r@y,"
		     "api,1.2.3.4,mailwizz-ab123cd456ef7,5.1.1,mx.y,"
		     "smtp;550 unknown user";
	struct test_row r;
	struct acct_map m;
	char err[256] = "junk";

	(void)state;
	assert_int_equal(acct_map_from_names(&m, classic, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_false(m.from_header);
	assert_int_equal(m.ncols, 12);
	row_of(&r, rec);
	assert_string_equal(acct_get(&m, &r.row, AF_RCPT, NULL), "r@y");
	assert_string_equal(acct_get(&m, &r.row, AF_BOUNCE_CAT, NULL),
			    "bad-mailbox");
	assert_string_equal(acct_get(&m, &r.row, AF_DSN_DIAG, NULL),
			    "smtp;550 unknown user");
	assert_string_equal(acct_get(&m, &r.row, AF_TIME_LOGGED, NULL), "");
}

static void test_map_from_names_errors(void **state)
{
	static const struct {
		const char *names[6];
		const char *msg;	/* part of the error */
	} t[] = {
		{ { "type", "rcpt", "bogusField", NULL }, "'bogusField'" },
		{ { "type", "rcpt", "bogusField", NULL }, "position 3" },
		{ { "type", "orig", NULL }, "'rcpt'" },
		{ { "rcpt", NULL }, "'type'" },
		{ { NULL }, "'type'" },
		{ { "type", "rcpt", "RCPT", NULL }, "twice" },
	};
	struct acct_map m;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		err[0] = '\0';
		assert_int_equal(acct_map_from_names(&m, (char *const *)t[i].names,
						     err, sizeof(err)), -1);
		if (!strstr(err, t[i].msg))
			fail_msg("case %zu: error '%s' lacks '%s'", i, err,
				 t[i].msg);
	}
	/* a tiny or absent error buffer is fine */
	assert_int_equal(acct_map_from_names(&m, (char *const *)t[0].names,
					     err, 4), -1);
	assert_int_equal(strlen(err), 3);
	assert_int_equal(acct_map_from_names(&m, (char *const *)t[0].names,
					     NULL, 0), -1);
	assert_int_equal(acct_map_from_names(&m, NULL, err, sizeof(err)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_lookup_table),
		cmocka_unit_test(test_is_header),
		cmocka_unit_test(test_map_real_headers),
		cmocka_unit_test(test_map_comment_header),
		cmocka_unit_test(test_is_comment),
		cmocka_unit_test(test_map_union_header),
		cmocka_unit_test(test_map_repeat_and_case),
		cmocka_unit_test(test_map_bad_header),
		cmocka_unit_test(test_map_from_names),
		cmocka_unit_test(test_map_from_names_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
