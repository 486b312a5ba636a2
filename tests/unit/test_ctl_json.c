/*
 * test_ctl_json.c - the output encodings of bouncectl: a record as a JSON
 * object (exact keys and values, parsed back with cJSON), RFC 3339 times,
 * RFC 4180 CSV fields, UTF-8 repair and terminal-safe text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ctl.h"
#include "event.h"
#include "rcpt.h"

/* fill_reason - a reason record with every field set */
static void fill_reason(struct rcpt_reason *rs, uint8_t kind, int64_t t,
			const char *cat, const char *diag)
{
	memset(rs, 0, sizeof(*rs));
	rs->time = t;
	rs->kind = kind;
	rs->line = 42;
	snprintf(rs->source, sizeof(rs->source), "spool/acct/acct-1.csv");
	snprintf(rs->category, sizeof(rs->category), "%s", cat);
	snprintf(rs->dsn_status, sizeof(rs->dsn_status), "5.1.1");
	snprintf(rs->dsn_diag, sizeof(rs->dsn_diag), "%s", diag);
	snprintf(rs->orig, sizeof(rs->orig), "news@example.com");
	snprintf(rs->vmta, sizeof(rs->vmta), "vmta-1");
	snprintf(rs->job_id, sizeof(rs->job_id), "mailwizz-77");
}

/* filled - an escalated hard record with soft times and two actions */
static void filled(struct rcpt *r)
{
	memset(r, 0, sizeof(*r));
	r->status = RCPT_HARD;
	r->escalated = true;
	r->status_time = 1549662845;	/* 2019-02-08T21:54:05Z */
	r->updated = 1549666445;	/* 2019-02-08T22:54:05Z */
	r->first_seen = 1549000000;	/* 2019-02-01T05:46:40Z */
	r->n_soft = 3;
	r->soft_times[0] = 1549000000;
	r->soft_times[1] = 1549300000;
	r->soft_times[2] = 1549662845;
	r->soft_async[1] = true;
	r->cnt_hard = 1;
	r->cnt_soft = 3;
	r->cnt_complaint = 2;
	r->cnt_unsub = 4;
	r->cnt_delivery = 5;
	r->cnt_duplicate = 6;
	r->cnt_other = 7;
	snprintf(r->last_category, sizeof(r->last_category), "quota-issues");
	fill_reason(&r->reason, EV_REMOTE_BOUNCE, 1549662845, "quota-issues",
		    "smtp;552 \"mailbox\" full, try later");
	fill_reason(&r->last_soft, EV_BOUNCE, 1549662845, "quota-issues",
		    "smtp;452 over quota");
	r->n_actions = 2;
	snprintf(r->actions[0].provider, sizeof(r->actions[0].provider), "mw");
	r->actions[0].op = OP_UNSUBSCRIBE;
	r->actions[0].state = ACTION_DONE;
	r->actions[0].time = 1549662900;
	snprintf(r->actions[1].provider, sizeof(r->actions[1].provider),
		 "dry-run");
	r->actions[1].op = OP_BOUNCE;
	r->actions[1].state = ACTION_DRYRUN;
	r->actions[1].time = 0;
	r->n_dropped = 1;
	r->dropped[0].incident = 12;
	r->dropped[0].src = 0x9e3779b9u;
	r->dropped[0].from = 1549000000;	/* 2019-02-01T05:46:40Z */
	r->dropped[0].to = 1549300000;		/* 2019-02-04T17:06:40Z */
}

/* parse_back - print O unformatted, parse it again, free O */
static cJSON *parse_back(cJSON *o)
{
	char *s;
	cJSON *p;

	assert_non_null(o);
	s = cJSON_PrintUnformatted(o);
	assert_non_null(s);
	p = cJSON_Parse(s);
	assert_non_null(p);
	cJSON_free(s);
	cJSON_Delete(o);
	return p;
}

/* assert_keys - O has exactly KEYS (NULL-terminated), in that order */
static void assert_keys(const cJSON *o, const char *const *keys)
{
	const cJSON *it;
	size_t i = 0;

	assert_true(cJSON_IsObject(o));
	cJSON_ArrayForEach(it, o) {
		assert_non_null(keys[i]);
		assert_string_equal(it->string, keys[i]);
		i++;
	}
	assert_null(keys[i]);
}

static void assert_str(const cJSON *o, const char *key, const char *want)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	assert_true(cJSON_IsString(v));
	assert_string_equal(v->valuestring, want);
}

static void assert_num(const cJSON *o, const char *key, double want)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	assert_true(cJSON_IsNumber(v));
	assert_true(v->valuedouble == want);
}

static void assert_null_key(const cJSON *o, const char *key)
{
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, key)));
}

static const char *const summary_keys[] = {
	"address", "status", "soft_count", "category", "updated",
	"escalated", "status_time", "reason", NULL,
};

static const char *const detail_keys[] = {
	"address", "status", "soft_count", "category", "updated",
	"escalated", "status_time", "reason", "first_seen", "counts",
	"soft_times", "soft_async", "soft_first", "soft_last", "last_soft",
	"actions", "notice", "notice_time", "held_dropped", NULL,
};

static const char *const reason_keys[] = {
	"kind", "source", "line", "category", "dsn_status", "dsn_diag",
	"orig", "vmta", "job_id", "time", NULL,
};

static void test_rcpt_detail(void **state)
{
	static const char *const count_keys[] = {
		"hard", "soft", "complaint", "unsub", "delivery", "duplicate",
		"other", NULL,
	};
	static const char *const action_keys[] = {
		"provider", "op", "state", "time", "campaign", NULL,
	};
	static const char *const dropped_keys[] = {
		"incident", "from", "to", NULL,
	};
	struct rcpt r;
	const cJSON *reason, *counts, *soft, *acts, *a;
	cJSON *o;

	(void)state;
	filled(&r);
	o = parse_back(ctl_json_rcpt("alice@example.com", &r, true));
	assert_keys(o, detail_keys);
	assert_str(o, "address", "alice@example.com");
	assert_str(o, "status", "hard");
	assert_num(o, "soft_count", 3);
	assert_str(o, "category", "quota-issues");
	assert_str(o, "updated", "2019-02-08T22:54:05Z");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(o, "escalated")));
	assert_str(o, "status_time", "2019-02-08T21:54:05Z");
	assert_str(o, "first_seen", "2019-02-01T05:46:40Z");
	assert_str(o, "soft_first", "2019-02-01T05:46:40Z");
	assert_str(o, "soft_last", "2019-02-08T21:54:05Z");

	reason = cJSON_GetObjectItem(o, "reason");
	assert_keys(reason, reason_keys);
	assert_str(reason, "kind", "rb");
	assert_str(reason, "source", "spool/acct/acct-1.csv");
	assert_num(reason, "line", 42);
	assert_str(reason, "category", "quota-issues");
	assert_str(reason, "dsn_status", "5.1.1");
	assert_str(reason, "dsn_diag", "smtp;552 \"mailbox\" full, try later");
	assert_str(reason, "orig", "news@example.com");
	assert_str(reason, "vmta", "vmta-1");
	assert_str(reason, "job_id", "mailwizz-77");
	assert_str(reason, "time", "2019-02-08T21:54:05Z");

	assert_keys(cJSON_GetObjectItem(o, "last_soft"), reason_keys);
	assert_str(cJSON_GetObjectItem(o, "last_soft"), "kind", "b");
	assert_str(cJSON_GetObjectItem(o, "last_soft"), "dsn_diag",
		   "smtp;452 over quota");

	counts = cJSON_GetObjectItem(o, "counts");
	assert_keys(counts, count_keys);
	assert_num(counts, "hard", 1);
	assert_num(counts, "soft", 3);
	assert_num(counts, "complaint", 2);
	assert_num(counts, "unsub", 4);
	assert_num(counts, "delivery", 5);
	assert_num(counts, "duplicate", 6);
	assert_num(counts, "other", 7);

	soft = cJSON_GetObjectItem(o, "soft_times");
	assert_true(cJSON_IsArray(soft));
	assert_int_equal(cJSON_GetArraySize(soft), 3);
	assert_string_equal(cJSON_GetArrayItem(soft, 0)->valuestring,
			    "2019-02-01T05:46:40Z");
	assert_string_equal(cJSON_GetArrayItem(soft, 2)->valuestring,
			    "2019-02-08T21:54:05Z");
	soft = cJSON_GetObjectItem(o, "soft_async");
	assert_true(cJSON_IsArray(soft));
	assert_int_equal(cJSON_GetArraySize(soft), 3);
	assert_true(cJSON_IsFalse(cJSON_GetArrayItem(soft, 0)));
	assert_true(cJSON_IsTrue(cJSON_GetArrayItem(soft, 1)));
	assert_true(cJSON_IsFalse(cJSON_GetArrayItem(soft, 2)));

	acts = cJSON_GetObjectItem(o, "actions");
	assert_int_equal(cJSON_GetArraySize(acts), 2);
	a = cJSON_GetArrayItem(acts, 0);
	assert_keys(a, action_keys);
	assert_str(a, "provider", "mw");
	assert_str(a, "op", "unsubscribe");
	assert_str(a, "state", "done");
	assert_str(a, "time", "2019-02-08T21:55:00Z");
	a = cJSON_GetArrayItem(acts, 1);
	assert_str(a, "provider", "dry-run");
	assert_str(a, "op", "bounce");
	assert_str(a, "state", "dry-run");
	assert_null_key(a, "time");

	acts = cJSON_GetObjectItem(o, "held_dropped");
	assert_int_equal(cJSON_GetArraySize(acts), 1);
	a = cJSON_GetArrayItem(acts, 0);
	assert_keys(a, dropped_keys);
	assert_num(a, "incident", 12);
	assert_str(a, "from", "2019-02-01T05:46:40Z");
	assert_str(a, "to", "2019-02-04T17:06:40Z");
	cJSON_Delete(o);
}

/* a soft record: summary keys only, reason null, times null when 0 */
static void test_rcpt_summary_soft(void **state)
{
	struct rcpt r;
	cJSON *o;

	(void)state;
	filled(&r);
	r.status = RCPT_SOFT;
	r.escalated = false;
	r.updated = 0;
	r.status_time = 0;
	r.last_category[0] = '\0';
	o = parse_back(ctl_json_rcpt("bob@example.org", &r, false));
	assert_keys(o, summary_keys);
	assert_str(o, "address", "bob@example.org");
	assert_str(o, "status", "soft");
	assert_num(o, "soft_count", 3);
	assert_str(o, "category", "");
	assert_null_key(o, "updated");
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(o, "escalated")));
	assert_null_key(o, "status_time");
	assert_null_key(o, "reason");
	cJSON_Delete(o);
}

/* suppressed statuses carry their reason; an empty record has nulls */
static void test_rcpt_reason_by_status(void **state)
{
	static const struct {
		uint8_t status;
		const char *name;
		bool reason;
	} cases[] = {
		{ RCPT_ACTIVE, "active", false },
		{ RCPT_SOFT, "soft", false },
		{ RCPT_HARD, "hard", true },
		{ RCPT_COMPLAINED, "complained", true },
		{ RCPT_UNSUBSCRIBED, "unsubscribed", true },
		{ 9, "unknown", false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rcpt r;
		cJSON *o, *rs;

		memset(&r, 0, sizeof(r));
		r.status = cases[i].status;
		fill_reason(&r.reason, EV_FEEDBACK, 1549662845, "abuse", "");
		o = parse_back(ctl_json_rcpt("c@example.net", &r, true));
		assert_str(o, "status", cases[i].name);
		rs = cJSON_GetObjectItem(o, "reason");
		if (cases[i].reason) {
			assert_true(cJSON_IsObject(rs));
			assert_str(rs, "kind", "f");
			assert_str(rs, "category", "abuse");
		} else {
			assert_true(cJSON_IsNull(rs));
		}
		/* nothing recorded: no last soft, empty arrays, null times */
		assert_null_key(o, "last_soft");
		assert_null_key(o, "first_seen");
		assert_null_key(o, "soft_first");
		assert_int_equal(cJSON_GetArraySize(
					 cJSON_GetObjectItem(o, "soft_times")), 0);
		assert_int_equal(cJSON_GetArraySize(
					 cJSON_GetObjectItem(o, "actions")), 0);
		cJSON_Delete(o);
	}
}

/* counts beyond the arrays never read past them */
static void test_rcpt_counts_clamped(void **state)
{
	struct rcpt r;
	cJSON *o;

	(void)state;
	filled(&r);
	r.n_soft = RCPT_SOFT_MAX + 5;
	r.n_actions = RCPT_ACTIONS_MAX + 5;
	o = parse_back(ctl_json_rcpt("d@example.com", &r, true));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "soft_times")),
			 RCPT_SOFT_MAX);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "actions")),
			 RCPT_ACTIONS_MAX);
	cJSON_Delete(o);
}

static void test_time_rfc3339(void **state)
{
	static const struct {
		int64_t t;
		int rc;
		const char *want;
	} cases[] = {
		{ 1549662845, 0, "2019-02-08T21:54:05Z" },
		{ 1, 0, "1970-01-01T00:00:01Z" },
		{ 951782400, 0, "2000-02-29T00:00:00Z" },
		{ 1798761599, 0, "2026-12-31T23:59:59Z" },
		{ 253402300799LL, 0, "9999-12-31T23:59:59Z" },
		{ 0, -1, "" },			/* unknown */
		{ 253402300800LL, -1, "" },	/* year 10000 */
		{ INT64_MAX, -1, "" },
	};
	char buf[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(buf, 'x', sizeof(buf));
		assert_int_equal(ctl_time_rfc3339(cases[i].t, buf, sizeof(buf)),
				 cases[i].rc);
		assert_string_equal(buf, cases[i].want);
	}
	/* a buffer one byte short fails and stays a valid string */
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(ctl_time_rfc3339(1549662845, buf, 20), -1);
	assert_string_equal(buf, "");
	assert_int_equal(ctl_time_rfc3339(1549662845, buf, 21), 0);
	assert_string_equal(buf, "2019-02-08T21:54:05Z");
}

static void test_json_time(void **state)
{
	cJSON *t;

	(void)state;
	t = ctl_json_time(0);
	assert_true(cJSON_IsNull(t));
	cJSON_Delete(t);
	t = ctl_json_time(1549662845);
	assert_true(cJSON_IsString(t));
	assert_string_equal(t->valuestring, "2019-02-08T21:54:05Z");
	cJSON_Delete(t);
}

static void test_csv_field(void **state)
{
	static const struct {
		const char *in;
		const char *want;
	} cases[] = {
		{ NULL, "" },
		{ "", "" },
		{ "plain text", "plain text" },
		{ "a,b", "\"a,b\"" },
		{ "say \"hi\"", "\"say \"\"hi\"\"\"" },
		{ "\"", "\"\"\"\"" },
		{ "line\nbreak", "\"line\nbreak\"" },
		{ "cr\r", "\"cr\r\"" },
		{ "smtp;550 5.1.1 <a@b>: unknown, \"x\"",
		  "\"smtp;550 5.1.1 <a@b>: unknown, \"\"x\"\"\"" },
		{ "semi;colon 'single'", "semi;colon 'single'" },
	};
	GString *line = g_string_new(NULL);
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		g_string_truncate(line, 0);
		ctl_csv_field(line, cases[i].in);
		assert_string_equal(line->str, cases[i].want);
	}
	/* fields append: a whole row */
	g_string_truncate(line, 0);
	ctl_csv_field(line, "x@y.z");
	g_string_append_c(line, ',');
	ctl_csv_field(line, "a,\"b\"");
	assert_string_equal(line->str, "x@y.z,\"a,\"\"b\"\"\"");
	g_string_free(line, TRUE);
}

/* invalid UTF-8 from the wire still gives valid JSON */
static void test_json_string_utf8(void **state)
{
	cJSON *s;

	(void)state;
	s = ctl_json_string("caf\xc3\xa9");
	assert_string_equal(s->valuestring, "caf\xc3\xa9");
	cJSON_Delete(s);
	s = ctl_json_string("caf\xe9 ok");
	assert_true(g_utf8_validate(s->valuestring, -1, NULL));
	assert_string_equal(s->valuestring, "caf\xef\xbf\xbd ok");
	cJSON_Delete(s);
	s = ctl_json_string(NULL);
	assert_string_equal(s->valuestring, "");
	cJSON_Delete(s);
}

static void test_text_clean(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *want;
	} cases[] = {
		{ "plain", 64, "plain" },
		{ "esc\x1b[2Jx", 64, "esc?[2Jx" },
		{ "tab\tnl\ncr\rdel\x7f" "bel\a", 64, "tab nl cr del?bel?" },
		{ "caf\xc3\xa9", 64, "caf\xc3\xa9" },
		{ "abcdef", 4, "abc" },
		{ "ab\xc3\xa9", 4, "ab" },	/* no half character */
		{ NULL, 8, "" },
	};
	char buf[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(ctl_text_clean(cases[i].in, buf,
						   cases[i].len),
				    cases[i].want);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(ctl_action_state_name(ACTION_PENDING), "pending");
	assert_string_equal(ctl_action_state_name(ACTION_DONE), "done");
	assert_string_equal(ctl_action_state_name(ACTION_DEAD), "dead");
	assert_string_equal(ctl_action_state_name(ACTION_DRYRUN), "dry-run");
	assert_string_equal(ctl_action_state_name(200), "unknown");
	assert_string_equal(ctl_op_name(OP_COMPLAINT), "complaint");
	assert_string_equal(ctl_op_name(0), "unknown");
	assert_string_equal(ctl_kind_name(EV_LIST), "list");
	assert_string_equal(ctl_kind_name(EV_REMOTE_BOUNCE), "rb");
	assert_string_equal(ctl_kind_name(250), "unknown");
	assert_string_equal(ctl_file_status_name(FILE_PARTIAL), "partial");
	assert_string_equal(ctl_file_status_name(FILE_DONE), "done");
	assert_string_equal(ctl_file_status_name(FILE_FAILED), "failed");
	assert_string_equal(ctl_status_name(RCPT_UNSUBSCRIBED), "unsubscribed");
	assert_string_equal(ctl_status_name(RCPT_STATUS_COUNT), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rcpt_detail),
		cmocka_unit_test(test_rcpt_summary_soft),
		cmocka_unit_test(test_rcpt_reason_by_status),
		cmocka_unit_test(test_rcpt_counts_clamped),
		cmocka_unit_test(test_time_rfc3339),
		cmocka_unit_test(test_json_time),
		cmocka_unit_test(test_csv_field),
		cmocka_unit_test(test_json_string_utf8),
		cmocka_unit_test(test_text_clean),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
