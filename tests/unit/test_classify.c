/*
 * test_classify.c - the classification table: categories by the default
 * lists, the DSN fallback (docs/CLASSIFY.md), feedback types, record kinds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "classify.h"
#include "classify_override.h"

static char *hard[] = { "bad-mailbox", "bad-domain", "routing-errors",
			"inactive-mailbox", NULL };
static char *soft[] = { "bad-configuration", "bad-connection", "content-related",
			"invalid-sender", "other", "policy-related",
			"quota-issues", "spam-related", "virus-related", NULL };
static char *ignore[] = { "protocol-errors", NULL };
static char *complaint[] = { "abuse", "fraud", "virus", NULL };
static const struct classify_rules rules = { hard, soft, ignore, complaint,
					     NULL, NULL };

static const struct {
	enum event_kind kind;
	const char *cat, *status, *diag, *fbtype;
	enum event_class want;
} cases[] = {
	{ EV_BOUNCE, "bad-mailbox", "5.1.1", "", NULL, CLASS_HARD },
	{ EV_BOUNCE, "Bad-Mailbox", "", "", NULL, CLASS_HARD },
	{ EV_REMOTE_BOUNCE, "bad-domain", "", "", NULL, CLASS_HARD },
	{ EV_BOUNCE, "inactive-mailbox", "5.2.1", "", NULL, CLASS_HARD },
	{ EV_BOUNCE, "routing-errors", "", "", NULL, CLASS_HARD },
	{ EV_BOUNCE, "quota-issues", "5.2.2", "", NULL, CLASS_SOFT },
	{ EV_BOUNCE, "spam-related", "5.7.1", "", NULL, CLASS_SOFT },
	{ EV_BOUNCE, "policy-related", "5.1.1", "", NULL, CLASS_SOFT }, /* list wins */
	/* a hard category, but the server said 4.x.x: soft (escalates) */
	{ EV_BOUNCE, "bad-mailbox", "4.2.2", "", NULL, CLASS_SOFT },
	{ EV_REMOTE_BOUNCE, "bad-domain", "4.4.0", "", NULL, CLASS_SOFT },
	{ EV_BOUNCE, "inactive-mailbox", "4.2.1", "smtp;550 5.2.1 x", NULL,
	  CLASS_SOFT },
	/* ... the status first, else the text's first code */
	{ EV_BOUNCE, "bad-mailbox", "", "smtp;450 4.1.1 try later", NULL,
	  CLASS_SOFT },
	{ EV_BOUNCE, "bad-mailbox", "5.1.1", "smtp;450 4.1.1 was", NULL,
	  CLASS_HARD },
	{ EV_BOUNCE, "other", "", "", NULL, CLASS_SOFT },
	{ EV_BOUNCE, "protocol-errors", "5.1.1", "", NULL, CLASS_IGNORE },
	/* unlisted or empty category: DSN status decides */
	{ EV_BOUNCE, "message-expired", "4.4.7", "", NULL, CLASS_SOFT },
	{ EV_BOUNCE, "no-answer-from-host", "", "smtp;421 4.4.2 timeout", NULL, CLASS_SOFT },
	{ EV_BOUNCE, "", "5.1.1", "", NULL, CLASS_HARD },
	{ EV_BOUNCE, "", "5.1.0", "", NULL, CLASS_HARD },
	{ EV_BOUNCE, "", "5.1.2", "", NULL, CLASS_HARD },
	{ EV_BOUNCE, "", "5.1.3", "", NULL, CLASS_HARD },
	{ EV_BOUNCE, "", "5.1.6", "", NULL, CLASS_HARD },
	{ EV_BOUNCE, "", "5.1.10", "", NULL, CLASS_HARD },
	{ EV_BOUNCE, "", "5.2.1", "", NULL, CLASS_HARD },
	{ EV_BOUNCE, "", "5.4.4", "", NULL, CLASS_HARD },
	{ EV_BOUNCE, "", "5.1.8", "", NULL, CLASS_SOFT },
	{ EV_BOUNCE, "", "5.2.2", "", NULL, CLASS_SOFT },
	{ EV_BOUNCE, "", "5.7.1", "", NULL, CLASS_SOFT },
	{ EV_BOUNCE, "", "5.4.1", "", NULL, CLASS_SOFT },
	{ EV_BOUNCE, "", "4.2.2", "", NULL, CLASS_SOFT },
	{ EV_BOUNCE, "", "2.0.0", "", NULL, CLASS_IGNORE },
	{ EV_BOUNCE, "unknown-cat", "5.1.1 (bad destination mailbox address)", "", NULL, CLASS_HARD },
	{ EV_BOUNCE, "", "", "smtp;550 5.1.1 <x@example.com>: user unknown", NULL, CLASS_HARD },
	{ EV_BOUNCE, "", "", "smtp;550 mailbox unavailable", NULL, CLASS_SOFT },
	{ EV_BOUNCE, "", "", "", NULL, CLASS_SOFT },
	{ EV_BOUNCE, "", "junk", "version 15.5.1.2 says 4.2.2", NULL, CLASS_SOFT },
	{ EV_BOUNCE, "", "", "build 10.5.1.1 relay", NULL, CLASS_SOFT },
	{ EV_BOUNCE, "", "", "smtp;550 Your IP 5.1.1.7 is not allowed", NULL,
	  CLASS_SOFT },
	/* feedback */
	{ EV_FEEDBACK, "", "", "", "abuse", CLASS_COMPLAINT },
	{ EV_FEEDBACK, "", "", "", "Fraud", CLASS_COMPLAINT },
	{ EV_FEEDBACK, "", "", "", "", CLASS_COMPLAINT },
	{ EV_FEEDBACK, "", "", "", NULL, CLASS_COMPLAINT },
	{ EV_FEEDBACK, "", "", "", "not-spam", CLASS_FEEDBACK_OTHER },
	{ EV_FEEDBACK, "", "", "", "auth-failure", CLASS_FEEDBACK_OTHER },
	/* other kinds */
	{ EV_DELIVERY, "", "2.0.0", "", NULL, CLASS_DELIVERY },
	{ EV_LIST, "", "", "", NULL, CLASS_UNSUB },
	/* the ARF drafts' opt-out: an unsubscribe, from a report or an f
	   record; an outgoing filter's verdict is no complaint */
	{ EV_ARF, "", "", "", "opt-out", CLASS_UNSUB },
	{ EV_FEEDBACK, "", "", "", "Opt-Out-List", CLASS_UNSUB },
	{ EV_ARF, "", "", "", "filter-verdict", CLASS_FEEDBACK_OTHER },
	{ EV_SKIPPED, "bad-mailbox", "5.1.1", "", NULL, CLASS_IGNORE },
};

static void test_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct event ev;

		memset(&ev, 0, sizeof(ev));
		ev.kind = cases[i].kind;
		ev.bounce_cat = cases[i].cat;
		ev.dsn_status = cases[i].status;
		ev.dsn_diag = cases[i].diag;
		ev.feedback_type = cases[i].fbtype;
		classify_event(&rules, &ev);
		if (ev.klass != cases[i].want)
			fail_msg("case %zu (%s/%s/%s/%s): got %s, want %s", i,
				 cases[i].cat, cases[i].status, cases[i].diag,
				 cases[i].fbtype ? cases[i].fbtype : "(null)",
				 event_class_name(ev.klass),
				 event_class_name(cases[i].want));
	}
}

/* bounce_with - EV a bounce of CAT, STATUS and DIAG, classified by R */
static void bounce_with(const struct classify_rules *r, struct event *ev,
			const char *cat, const char *status, const char *diag)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = EV_BOUNCE;
	ev->bounce_cat = cat;
	ev->dsn_status = status;
	ev->dsn_diag = diag;
	classify_event(r, ev);
}

/* test_rules_set_the_category - a [classify] rule names the cause
   before the lists decide, and says which rule it was */
static void test_rules_set_the_category(void **state)
{
	struct classify_rules r = rules;
	struct classify_overrides *o = NULL;
	struct event ev;
	char err[256];

	(void)state;
	assert_int_equal(classify_overrides_parse(NULL, &o, err, sizeof(err)),
			 0);
	r.over = o;
	bounce_with(&r, &ev, "bad-mailbox", "5.7.1",
		    "smtp;550 5.7.1 Unfortunately, messages from [192.0.2.10] "
		    "weren't sent ... block list (S3150)");
	assert_int_equal(ev.klass, CLASS_SOFT);
	assert_string_equal(ev.bounce_cat, "policy-related");
	assert_string_equal(classify_overrides_text(o, ev.rule_hit - 1),
			    "S3150 => policy-related");
	/* a user unknown PowerMTA called a policy refusal: bad-mailbox */
	bounce_with(&r, &ev, "policy-related",
		    "5.1.1 (bad destination mailbox address)",
		    "smtp;550 5.1.1 <x@example.com>: User unknown");
	assert_int_equal(ev.klass, CLASS_HARD);
	assert_string_equal(ev.bounce_cat, "bad-mailbox");
	/* nothing matches: PowerMTA's category stands, no rule named */
	bounce_with(&r, &ev, "quota-issues", NULL,
		    "smtp;552 5.2.2 Mailbox full");
	assert_int_equal(ev.klass, CLASS_SOFT);
	assert_string_equal(ev.bounce_cat, "quota-issues");
	assert_int_equal(ev.rule_hit, 0);
	/* a dsnStatus without a code: the text's first code is the status
	   a status rule asks for (5.1.1 user unknown => bad-mailbox) */
	bounce_with(&r, &ev, "other", "smtp",
		    "smtp;550 5.1.1 user unknown");
	assert_int_equal(ev.klass, CLASS_HARD);
	assert_string_equal(ev.bounce_cat, "bad-mailbox");
	classify_overrides_free(o);
}

/* the bounces of the table and of the rules' cases, and texts that
   differ from one another only in their last byte or in where a string
   ends */
static const struct {
	const char *cat, *status, *diag;
} memo_cases[] = {
	{ "bad-mailbox", "5.7.1", "smtp;550 5.7.1 ... block list (S3150)" },
	{ "policy-related", "5.1.1 (bad destination mailbox address)",
	  "smtp;550 5.1.1 <x@example.com>: User unknown" },
	{ "quota-issues", NULL, "smtp;552 5.2.2 Mailbox full" },
	{ "quota-issues", "", "smtp;552 5.2.2 Mailbox full" },
	{ NULL, NULL, "smtp;550 5.1.1 <x@example.com>: user unknown" },
	{ "", "", "smtp;550 5.1.1 <x@example.com>: user unknowN" },
	{ "", "", "smtp;550 5.1.1 <x@example.com>: user unknowx" },
	{ "bad-mailbox", "", "" },
	{ "bad-", "mailbox", "" },
	{ "", "5.1.1", " user unknown" },
	{ "", "5.1.1 ", "user unknown" },
	{ "", "", "smtp;550 mailbox unavailable" },
	{ "spam-related", "5.7.1", "smtp;554 rejected: blocked using zen" },
	{ "other", "4.4.1", "smtp;421 4.4.1 timeout" },
	{ "", "", "" },
	{ NULL, NULL, NULL },
};

/* classify_with - EV classified with R, its class, category, rule */
static void classify_with(const struct classify_rules *r, size_t i,
			  struct event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = EV_BOUNCE;
	if (i < sizeof(memo_cases) / sizeof(memo_cases[0])) {
		ev->bounce_cat = memo_cases[i].cat;
		ev->dsn_status = memo_cases[i].status;
		ev->dsn_diag = memo_cases[i].diag;
	} else {
		i -= sizeof(memo_cases) / sizeof(memo_cases[0]);
		ev->bounce_cat = cases[i].cat;
		ev->dsn_status = cases[i].status;
		ev->dsn_diag = cases[i].diag;
	}
	classify_event(r, ev);
}

/* the default rules on real refusals: our sender address refused (a
   callout, a sender domain without DNS), rate limits and a disabled
   mailbox's look-alike are no hard bounce of the recipient; Microsoft's
   directory refusal of an unknown recipient is */
static const struct {
	const char *cat, *status, *diag, *want_cat;
	enum event_class want;
} real[] = {
	/* GMX / web.de: the sender domain's DNS */
	{ "bad-mailbox", "5.0.0",
	  "smtp;550-Requested action not taken: mailbox unavailable 550 "
	  "invalid DNS MX or A/AAAA resource record", "invalid-sender",
	  CLASS_SOFT },
	/* sendmail: our sender's domain */
	{ "bad-mailbox", "5.1.8",
	  "smtp;553 5.1.8 <bounces@news.example>... Domain of sender "
	  "address bounces@news.example does not exist", "invalid-sender",
	  CLASS_SOFT },
	/* postfix: a callout to our bounce address failed */
	{ "bad-mailbox", "5.1.7",
	  "smtp;550 5.1.7 <bounces@news.example>: Sender address rejected: "
	  "undeliverable address: host mx.news.example[192.0.2.5] said: "
	  "550 5.1.1 <bounces@news.example>: Recipient address rejected: "
	  "User unknown in virtual mailbox table", "invalid-sender",
	  CLASS_SOFT },
	/* exim (cPanel): sender verification */
	{ "routing-errors", "5.0.0",
	  "smtp;550-Verification failed for <bounces@news.example> "
	  "550-Unrouteable address 550 Sender verify failed",
	  "invalid-sender", CLASS_SOFT },
	/* a status alone says it: a bad sender's system address */
	{ "bad-mailbox", "5.1.8", "smtp;550 5.1.8 rejected", "invalid-sender",
	  CLASS_SOFT },
	/* GoDaddy: our IP's hourly limit, written as 5.1.1 */
	{ "bad-mailbox", "5.1.1",
	  "smtp;550 5.1.1 <x@example.com>  - 192.0.2.21 has sent to too "
	  "many recipients this hour. IB607", "policy-related", CLASS_SOFT },
	/* Gmail: the recipient receives too fast, written as 5.2.1 */
	{ "inactive-mailbox", "5.2.1",
	  "smtp;550-5.2.1 The user you are trying to contact is receiving "
	  "mail at a rate that 550-5.2.1 prevents additional messages from "
	  "being delivered. ReceivingRatePerm - gsmtp", "quota-issues",
	  CLASS_SOFT },
	{ "", "5.2.1",
	  "smtp;550-5.2.1 The user you are trying to contact is receiving "
	  "mail at a rate that prevents additional messages", "quota-issues",
	  CLASS_SOFT },
	/* Microsoft 365's directory: no such recipient */
	{ "policy-related", "5.4.1",
	  "smtp;550 5.4.1 Recipient address rejected: Access denied. "
	  "AS(201806281)", "bad-mailbox", CLASS_HARD },
	/* and what stays as it was */
	{ "bad-mailbox", "5.1.1",
	  "smtp;550 5.1.1 The email account that you tried to reach does "
	  "not exist. NoSuchUser - gsmtp", "bad-mailbox", CLASS_HARD },
	{ "inactive-mailbox", "5.2.1",
	  "smtp;550 5.2.1 The email account that you tried to reach is "
	  "disabled.", "inactive-mailbox", CLASS_HARD },
	{ "policy-related", "5.4.1", "smtp;550 5.4.1 Relay Access Denied",
	  "policy-related", CLASS_SOFT },
};

static void test_default_rules_on_real_refusals(void **state)
{
	struct classify_rules r = rules;
	struct classify_overrides *o = NULL;
	struct event ev;
	char err[256];
	size_t i;

	(void)state;
	assert_int_equal(classify_overrides_parse(NULL, &o, err, sizeof(err)),
			 0);
	r.over = o;
	for (i = 0; i < sizeof(real) / sizeof(real[0]); i++) {
		bounce_with(&r, &ev, real[i].cat, real[i].status,
			    real[i].diag);
		if (ev.klass != real[i].want ||
		    strcmp(ev.bounce_cat, real[i].want_cat) != 0)
			fail_msg("case %zu (%s): got %s/%s, want %s/%s", i,
				 real[i].diag, ev.bounce_cat,
				 event_class_name(ev.klass), real[i].want_cat,
				 event_class_name(real[i].want));
	}
	classify_overrides_free(o);
}

/* memo_rules - the default rules with the embedded overrides into
   PLAIN, and the same with a memo into MEMO; *O: the overrides */
static void memo_rules(struct classify_rules *plain,
		       struct classify_rules *memo,
		       struct classify_overrides **o)
{
	char err[256];

	*o = NULL;
	assert_int_equal(classify_overrides_parse(NULL, o, err, sizeof(err)),
			 0);
	*plain = rules;
	plain->over = *o;
	*memo = *plain;
	memo->memo = classify_memo_new();
	assert_non_null(memo->memo);
}

/* test_memo_evicts - more texts than the memo keeps, each asked again
   after others took its place: the same class, category and rule as
   without the memo, every time */
static void test_memo_evicts(void **state)
{
	static const char *const forms[] = {
		"smtp;550 5.1.1 user unknown",
		"smtp;552 5.2.2 mailbox full",
		"smtp;554 5.7.1 rejected: blocked using zen",
		"smtp;421 4.4.1 timeout",
	};
	static const char *const cats[] = { "bad-mailbox", "quota-issues",
					    "", "other" };
	struct classify_rules plain, memo;
	struct classify_overrides *o;
	char diag[128];
	struct event a, b;
	unsigned round, i;

	(void)state;
	memo_rules(&plain, &memo, &o);
	for (round = 0; round < 4; round++)
		for (i = 0; i < 1500; i++) {
			/* a few texts often, the rest once a round */
			unsigned k = i % 3 == 0 ? i % 24 : i;

			snprintf(diag, sizeof(diag), "%s (%u)", forms[k % 4],
				 k);
			memset(&a, 0, sizeof(a));
			a.kind = EV_BOUNCE;
			a.bounce_cat = cats[(k / 4) % 4];
			a.dsn_status = k % 5 ? "5.0.0" : "";
			a.dsn_diag = diag;
			b = a;
			classify_event(&plain, &a);
			classify_event(&memo, &b);
			assert_int_equal(a.klass, b.klass);
			assert_int_equal(a.rule_hit, b.rule_hit);
			assert_int_equal(a.status_x7, b.status_x7);
			assert_int_equal(b.status_x7,
					 !a.dsn_status[0] && k % 4 == 2 ?
						 EVENT_X7_YES :
						 EVENT_X7_NO);
			assert_string_equal(a.bounce_cat ? a.bounce_cat : "",
					    b.bounce_cat ? b.bounce_cat : "");
		}
	classify_memo_free(memo.memo);
	classify_overrides_free(o);
}

/* test_status_x7 - a bounce's status code of the 4.7 and 5.7 families
   (sender-side causes) is marked, from dsnStatus when it has a code,
   else from the text; the memo gives the mark it gave the first time,
   also to a text alike but for its code */
static void test_status_x7(void **state)
{
	static const struct {
		const char *status, *diag;
		uint8_t want;
	} x7[] = {
		{ "5.7.1", "smtp;550 5.7.1 blocked", EVENT_X7_YES },
		{ "4.7.0", "smtp;421 4.7.0 [TSS04] deferred", EVENT_X7_YES },
		{ "", "smtp;550 5.7.1 blocked", EVENT_X7_YES },
		{ "smtp", "smtp;554 5.7.606 banned sending IP", EVENT_X7_YES },
		{ "5.2.2", "smtp;550 5.7.1 blocked", EVENT_X7_NO },
		{ "", "smtp;552 5.2.2 mailbox full", EVENT_X7_NO },
		{ "", "smtp;550 5.1.1 user unknown", EVENT_X7_NO },
		{ "", "no code at all", EVENT_X7_NO },
		{ "2.7.0", "", EVENT_X7_NO },
		{ "5.17.1", "", EVENT_X7_NO },
	};
	struct classify_rules plain, memo;
	struct classify_overrides *o;
	struct event a, b;
	size_t round, i;

	(void)state;
	memo_rules(&plain, &memo, &o);
	for (round = 0; round < 2; round++)
		for (i = 0; i < sizeof(x7) / sizeof(x7[0]); i++) {
			bounce_with(&plain, &a, "other", x7[i].status,
				    x7[i].diag);
			bounce_with(&memo, &b, "other", x7[i].status,
				    x7[i].diag);
			if (a.status_x7 != x7[i].want ||
			    b.status_x7 != x7[i].want)
				fail_msg("round %zu, %s / %s: %u and %u with "
					 "the memo, want %u", round,
					 x7[i].status, x7[i].diag, a.status_x7,
					 b.status_x7, x7[i].want);
		}
	/* not a bounce: not looked at */
	memset(&a, 0, sizeof(a));
	a.kind = EV_DELIVERY;
	a.dsn_status = "5.7.1";
	a.bounce_cat = "bad-mailbox";
	classify_event(&memo, &a);
	assert_int_equal(a.status_x7, 0);
	assert_int_equal(a.cat_ix, 0);
	classify_memo_free(memo.memo);
	classify_overrides_free(o);
}

/* test_cat_ix - a bounce's category, as the rules leave it, is given by
   its place among PowerMTA's categories (any case), or marked as none of
   them; the memo gives the place it gave the first time */
static void test_cat_ix(void **state)
{
	static const struct {
		const char *cat, *diag;
		int want;	/* a place, or -1 */
	} cx[] = {
		{ "bad-mailbox", "smtp;550 5.1.1 no", 0 },
		{ "Policy-Related", "smtp;550 5.7.1 no", 10 },
		{ "OTHER", "smtp;550 5.0.0 no", 16 },
		{ "virus-related", "smtp;554 5.7.1 virus", 15 },
		{ "my-own-cause", "smtp;550 5.0.0 no", -1 },
		{ "", "smtp;550 5.0.0 no", -1 },
		/* a [classify] rule names it */
		{ "quota-issues", "smtp;550 5.1.1 User unknown", 0 },
	};
	struct classify_rules plain, memo;
	struct classify_overrides *o;
	struct event a, b;
	size_t round, i;
	uint8_t want;

	(void)state;
	assert_int_equal(classify_cat_index(NULL), -1);
	assert_int_equal(classify_cat_index("bad-mailboxes"), -1);
	assert_int_equal(classify_cat_index("BAD-DOMAIN"), 1);
	memo_rules(&plain, &memo, &o);
	for (round = 0; round < 2; round++)
		for (i = 0; i < sizeof(cx) / sizeof(cx[0]); i++) {
			want = cx[i].want < 0 ? EVENT_CAT_UNLISTED :
						   (uint8_t)(cx[i].want + 1);
			bounce_with(&plain, &a, cx[i].cat, "",
				    cx[i].diag);
			bounce_with(&memo, &b, cx[i].cat, "",
				    cx[i].diag);
			if (a.cat_ix != want || b.cat_ix != want)
				fail_msg("round %zu, %s: %u and %u with the "
					 "memo, want %u", round, cx[i].cat,
					 a.cat_ix, b.cat_ix, want);
			if (cx[i].want >= 0)
				assert_int_equal(strcasecmp(
						   b.bounce_cat,
						   classify_cat_names[cx[i]
									     .want]),
						 0);
		}
	classify_memo_free(memo.memo);
	classify_overrides_free(o);
}

/* test_memo_same_answers - with the memo, each bounce gets the class,
   category and rule it gets without, first time or again, in any order;
   a text too long for the memo too */
static void test_memo_same_answers(void **state)
{
	size_t n = sizeof(memo_cases) / sizeof(memo_cases[0]) +
		   sizeof(cases) / sizeof(cases[0]);
	struct classify_rules plain, memo;
	struct classify_overrides *o;
	char longtext[1200];
	struct event a, b;
	size_t round, i, k;

	(void)state;
	memo_rules(&plain, &memo, &o);
	for (round = 0; round < 3; round++) {
		for (k = 0; k < n; k++) {
			/* forwards, backwards, then every seventh */
			i = round == 0 ? k : round == 1 ? n - 1 - k :
						  (k * 7) % n;
			classify_with(&plain, i, &a);
			classify_with(&memo, i, &b);
			if (a.klass != b.klass || a.rule_hit != b.rule_hit ||
			    a.status_x7 != b.status_x7 || !b.status_x7 ||
			    a.cat_ix != b.cat_ix || !b.cat_ix ||
			    (a.bounce_cat != b.bounce_cat &&
			     (!a.bounce_cat || !b.bounce_cat ||
			      strcmp(a.bounce_cat, b.bounce_cat) != 0)))
				fail_msg("round %zu, bounce %zu: %s/%s/%u with "
					 "the memo, %s/%s/%u without", round, i,
					 event_class_name(b.klass),
					 b.bounce_cat ? b.bounce_cat : "(null)",
					 b.rule_hit, event_class_name(a.klass),
					 a.bounce_cat ? a.bounce_cat : "(null)",
					 a.rule_hit);
		}
	}
	/* longer than the memo keeps: classified by the rules each time,
	   the rule's text past where the memo's key would end */
	memset(longtext, 'x', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	memcpy(longtext + 600, " user unknown ", 14);
	for (k = 0; k < 2; k++) {
		memset(&b, 0, sizeof(b));
		b.kind = EV_BOUNCE;
		b.bounce_cat = "quota-issues";
		b.dsn_status = "5.1.1";
		b.dsn_diag = longtext;
		classify_event(&memo, &b);
		assert_int_equal(b.klass, k == 0 ? CLASS_HARD : CLASS_SOFT);
		assert_string_equal(b.bounce_cat,
				    k == 0 ? "bad-mailbox" : "quota-issues");
		longtext[601] = 'y';	/* "yser unknown": no rule */
	}
	classify_memo_free(memo.memo);
	classify_overrides_free(o);
}

static void test_find_status(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(classify_find_status("smtp;550 5.1.1 user", out, sizeof(out)), 0);
	assert_string_equal(out, "5.1.1");
	assert_int_equal(classify_find_status("#5.1.10 gone", out, sizeof(out)), 0);
	assert_string_equal(out, "5.1.10");
	assert_int_equal(classify_find_status("1.5.1.1 no", out, sizeof(out)), -1);
	assert_int_equal(classify_find_status("5.1.1234", out, sizeof(out)), -1);
	assert_int_equal(classify_find_status("3.1.1", out, sizeof(out)), -1);
	assert_int_equal(classify_find_status("5..1", out, sizeof(out)), -1);
	assert_int_equal(classify_find_status("5.1.1", out, 4), -1);
	assert_int_equal(classify_dsn(NULL, NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_find_status),
		cmocka_unit_test(test_rules_set_the_category),
		cmocka_unit_test(test_default_rules_on_real_refusals),
		cmocka_unit_test(test_memo_same_answers),
		cmocka_unit_test(test_memo_evicts),
		cmocka_unit_test(test_status_x7),
		cmocka_unit_test(test_cat_ix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
