/*
 * test_route.c - which providers get an event and what each is asked to
 * do: sender globs (VERP, case), complaints and lists routing, MailWizz
 * hard-/soft-action with and without a campaign, webhooks, soft bounces
 * never unsubscribing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "action.h"
#include "rcpt.h"
#include "mailwizz_route.h"
#include "route.h"

static char *news[] = { "news-*@bounces.example.com", "Newsletter@MW.example.com", NULL };
static char *all[] = { "*", NULL };

static struct config_provider mk(enum provider_type t, char **senders)
{
	struct config_provider p;

	memset(&p, 0, sizeof(p));
	p.name = "p";
	p.type = t;
	p.senders = senders;
	p.job_prefix = "mailwizz-";
	p.complaints = true;
	p.lists = true;
	p.hard_action = ACT_BOTH;
	p.soft_action = ACT_BOUNCE;
	p.events = WEBHOOK_EVENTS_ALL;
	return p;
}

static struct event ev_of(const char *orig, const char *job)
{
	struct event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = EV_BOUNCE;
	ev.orig = orig;
	ev.job_id = job;
	return ev;
}

static void test_senders(void **state)
{
	struct config_provider p = mk(PROVIDER_MAILWIZZ, news);
	struct config_provider none = mk(PROVIDER_MAILWIZZ, NULL);
	struct config_provider star = mk(PROVIDER_WEBHOOK, all);

	(void)state;
	assert_true(route_sender_match(&p, "news-user=domain.com@bounces.example.com"));
	assert_true(route_sender_match(&p, "NEWS-x@Bounces.Example.com"));
	assert_true(route_sender_match(&p, "newsletter@mw.example.com"));
	assert_false(route_sender_match(&p, "news-x@bounces.example.com.evil"));
	assert_false(route_sender_match(&p, "other@bounces.example.com"));
	assert_false(route_sender_match(&p, NULL));
	assert_false(route_sender_match(&none, "newsletter@mw.example.com"));
	assert_true(route_sender_match(&star, NULL));
	assert_true(route_sender_match(&star, "x@y.z"));
}

static void test_campaign(void **state)
{
	struct config_provider p = mk(PROVIDER_MAILWIZZ, all);
	char uid[64];

	(void)state;
	assert_int_equal(route_campaign(&p, "mailwizz-cc123cd456ef7", uid, sizeof(uid)), 0);
	assert_string_equal(uid, "cc123cd456ef7");
	assert_int_equal(route_campaign(&p, "mailwizz-CC123CD456EF7", uid, sizeof(uid)), -1);
	assert_int_equal(route_campaign(&p, "mailwizz-cc123cd456ef", uid, sizeof(uid)), -1);
	assert_int_equal(route_campaign(&p, "mailwizz-../../admin1", uid, sizeof(uid)), -1);
	assert_int_equal(route_campaign(&p, "other-cc123cd456ef7", uid, sizeof(uid)), -1);
	assert_int_equal(route_campaign(&p, NULL, uid, sizeof(uid)), -1);
	p.job_prefix = "";
	assert_int_equal(route_campaign(&p, "cc123cd456ef7", uid, sizeof(uid)), 0);
	assert_int_equal(route_campaign(&p, "cc123cd456ef7", uid, 10), -1);
	assert_true(route_uid_ok("ab123cd456ef7"));
	assert_false(route_uid_ok("ab123cd456ef7x"));
	assert_false(route_uid_ok("ab123cd456e-7"));
}

static void test_plans(void **state)
{
	static const struct {
		enum provider_type type;
		int hard_action, soft_action;
		bool complaints, lists;
		const char *job;
		enum rcpt_outcome o;
		int n, op0, op1;
		const char *btype;
	} cases[] = {
		/* MailWizz, default: both when the campaign is known */
		/* (the provider unsubscribes after recording: one op) */
		{ PROVIDER_MAILWIZZ, ACT_BOTH, ACT_BOUNCE, true, true, "mailwizz-cc123cd456ef7", OUT_HARD, 1, OP_BOUNCE, 0, "hard" },
		{ PROVIDER_MAILWIZZ, ACT_BOTH, ACT_BOUNCE, true, true, "", OUT_HARD, 1, OP_UNSUBSCRIBE, 0, "hard" },
		{ PROVIDER_MAILWIZZ, ACT_BOTH, ACT_BOUNCE, true, true, "mailwizz-cc123cd456ef7", OUT_ESCALATED, 1, OP_BOUNCE, 0, "hard" },
		{ PROVIDER_MAILWIZZ, ACT_BOUNCE, ACT_BOUNCE, true, true, "mailwizz-cc123cd456ef7", OUT_HARD, 1, OP_BOUNCE, 0, "hard" },
		/* bounce-only without a campaign still acts */
		{ PROVIDER_MAILWIZZ, ACT_BOUNCE, ACT_BOUNCE, true, true, "job-7", OUT_HARD, 1, OP_UNSUBSCRIBE, 0, "hard" },
		{ PROVIDER_MAILWIZZ, ACT_UNSUBSCRIBE, ACT_BOUNCE, true, true, "mailwizz-cc123cd456ef7", OUT_HARD, 1, OP_UNSUBSCRIBE, 0, "hard" },
		{ PROVIDER_MAILWIZZ, ACT_NONE, ACT_BOUNCE, true, true, "mailwizz-cc123cd456ef7", OUT_HARD, 0, 0, 0, "hard" },
		/* soft: a soft bounce record, never an unsubscribe */
		{ PROVIDER_MAILWIZZ, ACT_BOTH, ACT_BOUNCE, true, true, "mailwizz-cc123cd456ef7", OUT_SOFT, 1, OP_BOUNCE, 0, "soft" },
		{ PROVIDER_MAILWIZZ, ACT_BOTH, ACT_BOUNCE, true, true, "", OUT_SOFT, 0, 0, 0, "soft" },
		{ PROVIDER_MAILWIZZ, ACT_BOTH, ACT_NONE, true, true, "mailwizz-cc123cd456ef7", OUT_SOFT, 0, 0, 0, "soft" },
		{ PROVIDER_INTERSPIRE, ACT_BOTH, ACT_BOUNCE, true, true, "mailwizz-cc123cd456ef7", OUT_SOFT, 0, 0, 0, "soft" },
		{ PROVIDER_WEBHOOK, ACT_BOTH, ACT_BOUNCE, true, true, "", OUT_SOFT, 1, OP_BOUNCE, 0, "soft" },
		{ PROVIDER_INTERSPIRE, ACT_BOTH, ACT_BOUNCE, true, true, "", OUT_HARD, 1, OP_UNSUBSCRIBE, 0, "hard" },
		{ PROVIDER_WEBHOOK, ACT_BOTH, ACT_BOUNCE, true, true, "", OUT_HARD, 1, OP_UNSUBSCRIBE, 0, "hard" },
		/* complaints and lists by switch */
		{ PROVIDER_MAILWIZZ, ACT_BOTH, ACT_BOUNCE, true, true, "", OUT_COMPLAINT, 1, OP_COMPLAINT, 0, NULL },
		{ PROVIDER_MAILWIZZ, ACT_BOTH, ACT_BOUNCE, false, true, "", OUT_COMPLAINT, 0, 0, 0, NULL },
		{ PROVIDER_INTERSPIRE, ACT_BOTH, ACT_BOUNCE, true, true, "", OUT_UNSUB, 1, OP_UNSUBSCRIBE, 0, NULL },
		{ PROVIDER_INTERSPIRE, ACT_BOTH, ACT_BOUNCE, true, false, "", OUT_UNSUB, 0, 0, 0, NULL },
		/* a bounce of a suppressed address: that campaign's record */
		{ PROVIDER_MAILWIZZ, ACT_BOTH, ACT_BOUNCE, true, true, "mailwizz-cc123cd456ef7", OUT_DUPLICATE, 1, OP_BOUNCE, 0, "hard" },
		{ PROVIDER_MAILWIZZ, ACT_UNSUBSCRIBE, ACT_BOUNCE, true, true, "mailwizz-cc123cd456ef7", OUT_DUPLICATE, 0, 0, 0, NULL },
		{ PROVIDER_MAILWIZZ, ACT_BOTH, ACT_BOUNCE, true, true, "", OUT_DUPLICATE, 0, 0, 0, NULL },
		{ PROVIDER_WEBHOOK, ACT_BOTH, ACT_BOUNCE, true, true, "mailwizz-cc123cd456ef7", OUT_DUPLICATE, 0, 0, 0, NULL },
		/* nothing for the rest */
		{ PROVIDER_WEBHOOK, ACT_BOTH, ACT_BOUNCE, true, true, "", OUT_RESET, 0, 0, 0, NULL },
		{ PROVIDER_WEBHOOK, ACT_BOTH, ACT_BOUNCE, true, true, "", OUT_IGNORED, 0, 0, 0, NULL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config_provider p = mk(cases[i].type, news);
		struct event ev = ev_of("news-a=b.com@bounces.example.com",
					cases[i].job);
		struct route_op op = { 0, "x", 0 };
		int n;

		p.hard_action = cases[i].hard_action;
		p.soft_action = cases[i].soft_action;
		p.complaints = cases[i].complaints;
		p.lists = cases[i].lists;
		ev.klass = CLASS_HARD;
		n = route_plan(&p, &ev, cases[i].o, &op);
		if (n != cases[i].n || (n > 0 && op.op != cases[i].op0))
			fail_msg("case %zu: got %d ops (%d)", i, n, op.op);
		if (n && cases[i].btype &&
		    (!op.bounce_type || strcmp(op.bounce_type, cases[i].btype)))
			fail_msg("case %zu: bounce type %s", i,
				 op.bounce_type ? op.bounce_type : "(none)");
		/* only the bounce that suppresses is followed by the
		   unsubscribe */
		if (n && (op.flags != 0) != (op.op == OP_BOUNCE &&
					     (cases[i].o == OUT_HARD ||
					      cases[i].o == OUT_ESCALATED)))
			fail_msg("case %zu: flags %u", i, op.flags);
	}
}

/* complaint-action = blacklist: also a hard bounce on the campaign */
static void test_complaint_blacklist(void **state)
{
	struct config_provider p = mk(PROVIDER_MAILWIZZ, all);
	struct event ev = ev_of("x@example.com", "mailwizz-cc123cd456ef7");
	struct route_op op;

	(void)state;
	ev.kind = EV_ARF;
	p.complaint_action = ACT_UNSUBSCRIBE;
	assert_int_equal(route_plan(&p, &ev, OUT_COMPLAINT, &op), 1);
	assert_int_equal(op.op, OP_COMPLAINT);
	assert_null(op.bounce_type);
	/* one complaint action that records the blacklisting bounce first,
	   so the unsubscribe cannot overtake it */
	p.complaint_action = ACT_BOTH;
	assert_int_equal(route_plan(&p, &ev, OUT_COMPLAINT, &op), 1);
	assert_int_equal(op.op, OP_COMPLAINT);
	assert_string_equal(op.bounce_type, "hard");
	/* no campaign: nothing to record the bounce on */
	ev.job_id = "";
	assert_int_equal(route_plan(&p, &ev, OUT_COMPLAINT, &op), 1);
	assert_null(op.bounce_type);
	/* webhooks are told of the complaint only */
	p = mk(PROVIDER_WEBHOOK, all);
	p.complaint_action = ACT_BOTH;
	ev.job_id = "mailwizz-cc123cd456ef7";
	assert_int_equal(route_plan(&p, &ev, OUT_COMPLAINT, &op), 1);
	assert_null(op.bounce_type);
}

static void test_list_uid(void **state)
{
	struct config_provider p = mk(PROVIDER_MAILWIZZ, all);
	char out[ACTION_ID_MAX];

	(void)state;
	/* MailWizz's own form: "<list uid> <display name>" */
	assert_int_equal(mailwizz_list_uid(&p, " ab123cd456ef7 <Weekly news> ",
					out, sizeof(out)), 0);
	assert_string_equal(out, "ab123cd456ef7");
	assert_int_equal(mailwizz_list_uid(&p, "ab123cd456ef <x>", out,
					sizeof(out)), -1);
	assert_int_equal(mailwizz_list_uid(&p, "AB123CD456EF7 <x>", out,
					sizeof(out)), -1);
	assert_int_equal(mailwizz_list_uid(&p, "ab123cd456ef78 <x>", out,
					sizeof(out)), -1);
	assert_int_equal(mailwizz_list_uid(&p, "", out, sizeof(out)), -1);
	/* the bare form, also by default */
	assert_int_equal(mailwizz_list_uid(&p, "<ab123cd456ef7>", out,
					sizeof(out)), 0);
	assert_string_equal(out, "ab123cd456ef7");
	assert_int_equal(mailwizz_list_uid(&p, NULL, out, sizeof(out)), -1);
	/* an RFC 2919 form by configuration; literal text is literal */
	p.list_id = "* <[LIST_UID].lists.example.com>";
	assert_int_equal(mailwizz_list_uid(&p, "News <ab123cd456ef7.lists."
					"EXAMPLE.com>", out, sizeof(out)), 0);
	assert_string_equal(out, "ab123cd456ef7");
	assert_int_equal(mailwizz_list_uid(&p, "News <ab123cd456ef7.listsXexample"
					".com>", out, sizeof(out)), -1);
	assert_int_equal(mailwizz_list_uid(&p, "ab123cd456ef7 <News>", out,
					sizeof(out)), -1);
	/* several forms, blanks around them ignored */
	p.list_id = " x-[LIST_UID] ; * <[LIST_UID].lists.example.com> ";
	assert_int_equal(mailwizz_list_uid(&p, "x-cd123cd456ef7", out,
					sizeof(out)), 0);
	assert_string_equal(out, "cd123cd456ef7");
	assert_int_equal(mailwizz_list_uid(&p, "N <ef123cd456ef7.lists.example."
					"com>", out, sizeof(out)), 0);
	assert_string_equal(out, "ef123cd456ef7");
}

static void test_ids(void **state)
{
	struct config_provider mw = mk(PROVIDER_MAILWIZZ, all);
	struct config_provider iem = mk(PROVIDER_INTERSPIRE, all);
	struct event ev = ev_of("a@example.com", "");
	struct event_extra x;
	struct action a;

	(void)state;
	memset(&x, 0, sizeof(x));
	ev.x = &x;
	x.mw_subscriber_uid = "zz123cd456ef7";
	x.list_id = "ab123cd456ef7 <News>";
	x.iem_list_id = "12";
	x.iem_subscriber_id = "3456";
	memset(&a, 0, sizeof(a));
	route_ids(&mw, &ev, &a);
	assert_string_equal(a.subscriber_id, "zz123cd456ef7");
	assert_string_equal(a.list_id, "ab123cd456ef7");
	memset(&a, 0, sizeof(a));
	route_ids(&iem, &ev, &a);
	assert_string_equal(a.subscriber_id, "3456");
	assert_string_equal(a.list_id, "12");
	/* malformed ids are dropped, never passed on */
	x.mw_subscriber_uid = "zz123cd456ef/";
	x.iem_subscriber_id = "34a";
	memset(&a, 0, sizeof(a));
	route_ids(&mw, &ev, &a);
	assert_string_equal(a.subscriber_id, "");
	memset(&a, 0, sizeof(a));
	route_ids(&iem, &ev, &a);
	assert_string_equal(a.subscriber_id, "");
	assert_string_equal(a.list_id, "");
	x.iem_subscriber_id = "12345678901";
	route_ids(&iem, &ev, &a);
	assert_string_equal(a.subscriber_id, "");
}

static void test_unrouted_bounce(void **state)
{
	struct config_provider p = mk(PROVIDER_MAILWIZZ, news);
	struct event ev = ev_of("bounces@other.example.org", "mailwizz-cc123cd456ef7");
	struct route_op op;

	(void)state;
	assert_int_equal(route_plan(&p, &ev, OUT_HARD, &op), 0);
	assert_int_equal(route_plan(&p, &ev, OUT_SOFT, &op), 0);
	ev.klass = CLASS_HARD;
	assert_int_equal(route_plan(&p, &ev, OUT_DUPLICATE, &op), 0);
	/* complaints do not depend on the sender */
	assert_int_equal(route_plan(&p, &ev, OUT_COMPLAINT, &op), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_senders),
		cmocka_unit_test(test_campaign),
		cmocka_unit_test(test_plans),
		cmocka_unit_test(test_unrouted_bounce),
		cmocka_unit_test(test_list_uid),
		cmocka_unit_test(test_complaint_blacklist),
		cmocka_unit_test(test_ids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
