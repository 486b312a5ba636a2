/*
 * test_rcpt_rules.c - how events change a recipient: suppression,
 * duplicates, soft-bounce escalation (threshold, span, window), reset by
 * deliveries (not of asynchronous bounces), out-of-order records,
 * reevaluation and forget.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rcpt_rules.h"

#define DAY 86400
#define T0 1700000000

static const struct escalation esc = { 5, 3 * DAY, 30 * DAY, NULL, NULL, NULL };

static struct event mk(enum event_class k, int64_t t)
{
	struct event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = k == CLASS_DELIVERY ? EV_DELIVERY :
		  k == CLASS_COMPLAINT ? EV_FEEDBACK :
		  k == CLASS_UNSUB ? EV_LIST : EV_BOUNCE;
	ev.klass = k;
	ev.time = t;
	ev.bounce_cat = k == CLASS_HARD ? "bad-mailbox" : "quota-issues";
	ev.dsn_status = k == CLASS_HARD ? "5.1.1" : "4.2.2";
	ev.dsn_diag = "smtp;550 user unknown";
	ev.source = "spool/acct/a.csv";
	ev.line = (uint64_t)(t - T0) / 3600 + 2;
	return ev;
}

static enum rcpt_outcome apply(struct rcpt *r, enum event_class k, int64_t t)
{
	struct event ev = mk(k, t);

	return rcpt_apply(r, &ev, &esc);
}

static void test_hard_then_duplicates(void **state)
{
	struct rcpt r;

	(void)state;
	rcpt_init(&r);
	assert_int_equal(apply(&r, CLASS_HARD, T0), OUT_HARD);
	assert_int_equal(r.status, RCPT_HARD);
	assert_false(r.escalated);
	assert_int_equal(r.status_time, T0);
	assert_string_equal(r.reason.category, "bad-mailbox");
	assert_string_equal(r.reason.dsn_status, "5.1.1");
	assert_string_equal(r.reason.source, "spool/acct/a.csv");
	assert_int_equal(r.reason.line, 2);
	assert_int_equal(apply(&r, CLASS_HARD, T0 + 10), OUT_DUPLICATE);
	assert_int_equal(apply(&r, CLASS_SOFT, T0 + 20), OUT_DUPLICATE);
	assert_int_equal(apply(&r, CLASS_COMPLAINT, T0 + 30), OUT_DUPLICATE);
	assert_int_equal(r.status, RCPT_HARD);
	assert_int_equal(r.status_time, T0);
	assert_int_equal(r.cnt_hard, 2);
	assert_int_equal(r.cnt_duplicate, 3);
	assert_int_equal(r.updated, T0 + 30);
	assert_int_equal(r.first_seen, T0);
}

static void test_complaint_and_unsub(void **state)
{
	struct rcpt r;

	(void)state;
	rcpt_init(&r);
	assert_int_equal(apply(&r, CLASS_COMPLAINT, T0), OUT_COMPLAINT);
	assert_int_equal(r.status, RCPT_COMPLAINED);
	rcpt_init(&r);
	assert_int_equal(apply(&r, CLASS_UNSUB, T0), OUT_UNSUB);
	assert_int_equal(r.status, RCPT_UNSUBSCRIBED);
	assert_int_equal(apply(&r, CLASS_HARD, T0), OUT_DUPLICATE);
}

static void test_escalation_threshold_and_span(void **state)
{
	struct rcpt r;
	int i;

	(void)state;
	rcpt_init(&r);
	/* five soft bounces within one day: span too short */
	for (i = 0; i < 5; i++)
		assert_int_equal(apply(&r, CLASS_SOFT, T0 + i * 3600), OUT_SOFT);
	assert_int_equal(r.status, RCPT_SOFT);
	assert_int_equal(r.n_soft, 5);
	/* the sixth, 3 days after the first: escalates */
	assert_int_equal(apply(&r, CLASS_SOFT, T0 + 3 * DAY), OUT_ESCALATED);
	assert_int_equal(r.status, RCPT_HARD);
	assert_true(r.escalated);
	assert_int_equal(r.status_time, T0 + 3 * DAY);
	assert_string_equal(r.reason.category, "quota-issues");
	assert_int_equal(apply(&r, CLASS_SOFT, T0 + 4 * DAY), OUT_DUPLICATE);
}

static void test_escalation_needs_threshold(void **state)
{
	struct rcpt r;
	int i;

	(void)state;
	rcpt_init(&r);
	for (i = 0; i < 4; i++)
		assert_int_equal(apply(&r, CLASS_SOFT, T0 + i * 2 * DAY), OUT_SOFT);
	assert_int_equal(r.status, RCPT_SOFT);
	assert_int_equal(apply(&r, CLASS_SOFT, T0 + 8 * DAY), OUT_ESCALATED);
}

static void test_window_expiry(void **state)
{
	struct rcpt r;
	int i;

	(void)state;
	rcpt_init(&r);
	/* four soft bounces, then a long quiet time: they expire */
	for (i = 0; i < 4; i++)
		apply(&r, CLASS_SOFT, T0 + i * DAY);
	assert_int_equal(apply(&r, CLASS_SOFT, T0 + 60 * DAY), OUT_SOFT);
	assert_int_equal(r.n_soft, 1);
	assert_int_equal(r.status, RCPT_SOFT);
	/* a straggler older than the window counts but is not kept */
	assert_int_equal(apply(&r, CLASS_SOFT, T0 + 2 * DAY), OUT_SOFT);
	assert_int_equal(r.n_soft, 1);
	assert_int_equal(r.cnt_soft, 6);
}

static void test_delivery_resets(void **state)
{
	struct rcpt r;
	int i;

	(void)state;
	rcpt_init(&r);
	for (i = 0; i < 4; i++)
		apply(&r, CLASS_SOFT, T0 + i * DAY);
	assert_int_equal(apply(&r, CLASS_DELIVERY, T0 + 4 * DAY), OUT_RESET);
	assert_int_equal(r.n_soft, 0);
	assert_int_equal(r.status, RCPT_ACTIVE);
	/* four more do not reach five */
	for (i = 5; i < 9; i++)
		assert_int_equal(apply(&r, CLASS_SOFT, T0 + i * DAY), OUT_SOFT);
	assert_int_equal(r.status, RCPT_SOFT);
	/* a delivery older than the soft bounces clears none of them */
	assert_int_equal(apply(&r, CLASS_DELIVERY, T0), OUT_DELIVERY);
	assert_int_equal(r.n_soft, 4);
	assert_int_equal(apply(&r, CLASS_SOFT, T0 + 9 * DAY), OUT_ESCALATED);
	/* a delivery does not revive a hard address */
	assert_int_equal(apply(&r, CLASS_DELIVERY, T0 + 10 * DAY), OUT_DELIVERY);
	assert_int_equal(r.status, RCPT_HARD);
	assert_int_equal(r.cnt_delivery, 3);
}

static void test_out_of_order(void **state)
{
	struct rcpt a, b;
	int64_t t[6] = { 5, 0, 4, 1, 3, 2 };
	int i;

	(void)state;
	rcpt_init(&a);
	rcpt_init(&b);
	for (i = 0; i < 6; i++) {
		apply(&a, CLASS_SOFT, T0 + i * DAY);
		apply(&b, CLASS_SOFT, T0 + t[i] * DAY);
	}
	assert_int_equal(a.status, RCPT_HARD);
	assert_int_equal(b.status, RCPT_HARD);
	for (i = 1; i < (int)b.n_soft; i++)
		assert_true(b.soft_times[i - 1] <= b.soft_times[i]);
}

static void test_ring_full(void **state)
{
	struct escalation never = { 32, 1000 * DAY, 10000 * DAY, NULL, NULL, NULL };
	struct event ev;
	struct rcpt r;
	int i;

	(void)state;
	rcpt_init(&r);
	for (i = 0; i < 40; i++) {
		ev = mk(CLASS_SOFT, T0 + i);
		assert_int_equal(rcpt_apply(&r, &ev, &never), OUT_SOFT);
	}
	assert_int_equal(r.n_soft, RCPT_SOFT_MAX);
	assert_int_equal(r.soft_times[0], T0 + 8);
	assert_int_equal(r.soft_times[RCPT_SOFT_MAX - 1], T0 + 39);
}

static void test_reevaluate(void **state)
{
	struct escalation lower = { 3, 1 * DAY, 30 * DAY, NULL, NULL, NULL };
	struct escalation higher = { 10, 3 * DAY, 30 * DAY, NULL, NULL, NULL };
	struct rcpt r;
	int i;

	(void)state;
	rcpt_init(&r);
	for (i = 0; i < 3; i++)
		apply(&r, CLASS_SOFT, T0 + i * DAY);
	assert_int_equal(r.status, RCPT_SOFT);
	assert_int_equal(rcpt_reevaluate(&r, &esc), 0);
	assert_int_equal(rcpt_reevaluate(&r, &lower), 1);
	assert_int_equal(r.status, RCPT_HARD);
	assert_true(r.escalated);
	assert_int_equal(r.status_time, T0 + 2 * DAY);
	assert_int_equal(rcpt_reevaluate(&r, &lower), 0);
	assert_int_equal(rcpt_reevaluate(&r, &higher), 1);
	assert_int_equal(r.status, RCPT_SOFT);
	assert_false(r.escalated);
	/* a direct hard bounce is never reevaluated */
	rcpt_init(&r);
	apply(&r, CLASS_HARD, T0);
	assert_int_equal(rcpt_reevaluate(&r, &higher), 0);
	assert_int_equal(r.status, RCPT_HARD);
}

static void test_forget(void **state)
{
	struct rcpt r;
	int i;

	(void)state;
	rcpt_init(&r);
	for (i = 0; i < 6; i++)
		apply(&r, CLASS_SOFT, T0 + i * DAY);
	assert_int_equal(r.status, RCPT_HARD);
	rcpt_forget(&r);
	assert_int_equal(r.status, RCPT_ACTIVE);
	assert_int_equal(r.n_soft, 0);
	assert_int_equal(r.cnt_soft, 6);
	/* one new soft bounce does not re-escalate */
	assert_int_equal(apply(&r, CLASS_SOFT, T0 + 7 * DAY), OUT_SOFT);
	assert_int_equal(r.status, RCPT_SOFT);
}

static void test_ignored(void **state)
{
	struct rcpt r;
	struct event ev = mk(CLASS_FEEDBACK_OTHER, T0);

	(void)state;
	rcpt_init(&r);
	assert_int_equal(rcpt_apply(&r, &ev, &esc), OUT_IGNORED);
	assert_int_equal(r.status, RCPT_ACTIVE);
	assert_int_equal(r.cnt_other, 1);
	assert_string_equal(rcpt_outcome_name(OUT_ESCALATED), "escalated");
}

/* counting duplicates in bulk gives the record that applying each gives */
static void test_dups_equal_one_by_one(void **state)
{
	static const enum event_class seq[] = {
		CLASS_SOFT, CLASS_DELIVERY, CLASS_HARD, CLASS_COMPLAINT,
		CLASS_FEEDBACK_OTHER, CLASS_SOFT, CLASS_UNSUB, CLASS_IGNORE,
	};
	struct rcpt one, bulk;
	struct rcpt_dups d;
	size_t i;

	(void)state;
	rcpt_init(&one);
	apply(&one, CLASS_HARD, T0 + DAY);
	bulk = one;
	memset(&d, 0, sizeof(d));
	for (i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		/* times out of order, some before the first event */
		struct event ev = mk(seq[i], T0 + (int64_t)((i * 7) % 5) * DAY);

		if (seq[i] == CLASS_SOFT && i > 3)
			ev.bounce_cat = "policy-related";
		rcpt_apply(&one, &ev, &esc);
		rcpt_dups_add(&d, &ev);
	}
	rcpt_apply_dups(&bulk, &d);
	assert_memory_equal(&one, &bulk, sizeof(one));
	assert_string_equal(bulk.last_category, "policy-related");
	assert_int_equal(bulk.cnt_duplicate, 5);
	assert_int_equal(bulk.first_seen, T0);
}

/* the discount of the tests below: source 7 is inside an incident */
struct discount_calls {
	unsigned calls;
};

static bool discount_src7(uint32_t src, int64_t t, void *arg)
{
	struct discount_calls *d = arg;

	(void)t;
	d->calls++;
	return src == 7;
}

/* soft_run - N soft bounces a day apart from sources SRC (the one at
   index AT7 from source 7, -1 none) through a discounting escalation;
   the last outcome */
static enum rcpt_outcome soft_run(struct rcpt *r, int n, int64_t step,
				  int at7, struct discount_calls *d)
{
	struct escalation e = esc;
	enum rcpt_outcome o = OUT_IGNORED;
	int i;

	e.discounted = discount_src7;
	e.discount_arg = d;
	rcpt_init(r);
	for (i = 0; i < n; i++) {
		struct event ev = mk(CLASS_SOFT, T0 + i * step);

		ev.src_hash = i == at7 ? 7 : 1;
		o = rcpt_apply(r, &ev, &e);
	}
	return o;
}

/* test_discount - a soft bounce inside an incident of its source does
   not count; the incident is asked only when the bounces would escalate
   without it */
static void test_discount(void **state)
{
	struct discount_calls d = { 0 };
	struct rcpt r;

	(void)state;
	/* below the threshold, or within the span: nobody asked */
	assert_int_equal(soft_run(&r, 4, DAY, 0, &d), OUT_SOFT);
	assert_int_equal(d.calls, 0);
	assert_int_equal(soft_run(&r, 5, DAY / 2, 0, &d), OUT_SOFT);
	assert_int_equal(d.calls, 0);
	/* five over four days: escalated when none is discounted */
	assert_int_equal(soft_run(&r, 5, DAY, -1, &d), OUT_ESCALATED);
	assert_int_equal(d.calls, 5);
	assert_int_equal(r.status, RCPT_HARD);
	/* one of them inside an incident: four count, not escalated */
	d.calls = 0;
	assert_int_equal(soft_run(&r, 5, DAY, 2, &d), OUT_SOFT);
	assert_int_equal(d.calls, 5);
	assert_int_equal(r.status, RCPT_SOFT);
	/* the oldest inside one: five count no more, and the four left
	   span three days: escalated only at the sixth */
	d.calls = 0;
	assert_int_equal(soft_run(&r, 5, DAY, 0, &d), OUT_SOFT);
	assert_int_equal(soft_run(&r, 6, DAY, 0, &d), OUT_ESCALATED);
}

/* test_discount_span - the span is measured between counted bounces:
   five within one day and a sixth inside an incident three days later
   do not escalate (the sixth would stretch the span to three days) */
static void test_discount_span(void **state)
{
	struct discount_calls d = { 0 };
	struct escalation e = esc;
	struct rcpt r;
	struct event ev;
	int i;

	(void)state;
	e.discounted = discount_src7;
	e.discount_arg = &d;
	rcpt_init(&r);
	for (i = 0; i < 5; i++) {
		ev = mk(CLASS_SOFT, T0 + i * 3600);
		ev.src_hash = 1;
		assert_int_equal(rcpt_apply(&r, &ev, &e), OUT_SOFT);
	}
	ev = mk(CLASS_SOFT, T0 + 3 * DAY + 3600);
	ev.src_hash = 7;
	assert_int_equal(rcpt_apply(&r, &ev, &e), OUT_SOFT);
	assert_int_equal(r.status, RCPT_SOFT);
	/* a counted one three days on does */
	ev = mk(CLASS_SOFT, T0 + 3 * DAY + 7200);
	ev.src_hash = 1;
	assert_int_equal(rcpt_apply(&r, &ev, &e), OUT_ESCALATED);
}

/* test_delivery_read_after - soft bounces older than a delivery read
   before them (another file, another host's log) are not kept: the
   delivery would have cleared them, read in order */
static void test_delivery_read_after(void **state)
{
	struct rcpt r;
	int i;

	(void)state;
	rcpt_init(&r);
	assert_int_equal(apply(&r, CLASS_DELIVERY, T0 + 10 * DAY), OUT_DELIVERY);
	for (i = 0; i < 6; i++)
		assert_int_equal(apply(&r, CLASS_SOFT, T0 + i * DAY), OUT_SOFT);
	assert_int_equal(r.n_soft, 0);
	assert_int_equal(r.status, RCPT_ACTIVE);
	assert_int_equal(r.cnt_soft, 6);
	/* those after it count */
	for (i = 11; i < 17; i++)
		(void)apply(&r, CLASS_SOFT, T0 + i * DAY);
	assert_int_equal(r.status, RCPT_HARD);
	assert_true(r.escalated);
}

/* apply_rb - an asynchronous soft bounce (an rb record) at T */
static enum rcpt_outcome apply_rb(struct rcpt *r, int64_t t)
{
	struct event ev = mk(CLASS_SOFT, t);

	ev.kind = EV_REMOTE_BOUNCE;
	return rcpt_apply(r, &ev, &esc);
}

/* test_soft_read_again - a soft bounce kept already (same time, source
   and kind) is the same record read again: a duplicate, never counted
   twice toward escalation; another source or an rb at the same second is
   another bounce */
static void test_soft_read_again(void **state)
{
	struct rcpt r;
	struct event ev;
	int i;

	(void)state;
	rcpt_init(&r);
	for (i = 0; i < 3; i++)
		assert_int_equal(apply(&r, CLASS_SOFT, T0 + i * 2 * DAY),
				 OUT_SOFT);
	/* the same three again (a backup file after its pipe): five would
	   have escalated */
	for (i = 0; i < 3; i++)
		assert_int_equal(apply(&r, CLASS_SOFT, T0 + i * 2 * DAY),
				 OUT_DUPLICATE);
	assert_int_equal(r.n_soft, 3);
	assert_int_equal(r.status, RCPT_SOFT);
	assert_int_equal(r.cnt_duplicate, 3);
	ev = mk(CLASS_SOFT, T0);
	ev.src_hash = 7;		/* another source, the same second */
	assert_int_equal(rcpt_apply(&r, &ev, &esc), OUT_SOFT);
	assert_int_equal(apply_rb(&r, T0), OUT_ESCALATED);
	assert_int_equal(r.n_soft, 5);
	assert_int_equal(r.status, RCPT_HARD);	/* 5 over 4 days */
}

/* test_accepted_then_bounced - a mailbox that accepts every campaign
   and bounces it later (d, then an rb "mailbox full"): the deliveries do
   not clear the asynchronous bounces, which escalate as any soft bounces
   do; the same with synchronous bounces (b) never escalates */
static void test_accepted_then_bounced(void **state)
{
	struct rcpt r, s;
	int i;

	(void)state;
	rcpt_init(&r);
	rcpt_init(&s);
	for (i = 0; i < 4; i++) {
		assert_int_equal(apply(&r, CLASS_DELIVERY, T0 + i * DAY),
				 OUT_DELIVERY);
		assert_int_equal(apply_rb(&r, T0 + i * DAY + 600), OUT_SOFT);
		(void)apply(&s, CLASS_DELIVERY, T0 + i * DAY);
		(void)apply(&s, CLASS_SOFT, T0 + i * DAY + 600);
	}
	assert_int_equal(r.n_soft, 4);
	assert_true(r.soft_async[0] && r.soft_async[3]);
	assert_int_equal(r.status, RCPT_SOFT);
	assert_int_equal(s.n_soft, 1);
	(void)apply(&r, CLASS_DELIVERY, T0 + 4 * DAY);
	(void)apply(&s, CLASS_DELIVERY, T0 + 4 * DAY);
	assert_int_equal(apply_rb(&r, T0 + 4 * DAY + 600), OUT_ESCALATED);
	assert_int_equal(apply(&s, CLASS_SOFT, T0 + 4 * DAY + 600), OUT_SOFT);
	assert_int_equal(r.status, RCPT_HARD);
	assert_true(r.escalated);
	assert_int_equal(s.status, RCPT_SOFT);
	assert_int_equal(s.n_soft, 1);
}

/* test_rb_beside_b - a delivery clears the synchronous soft bounces
   before it and keeps the asynchronous ones, in order, with their
   sources; an rb read after a later delivery (another file) is kept, a
   b is not; the window still expires rb */
static void test_rb_beside_b(void **state)
{
	struct event ev;
	struct rcpt r;

	(void)state;
	rcpt_init(&r);
	ev = mk(CLASS_SOFT, T0);
	ev.src_hash = 7;
	(void)rcpt_apply(&r, &ev, &esc);
	ev = mk(CLASS_SOFT, T0 + DAY);
	ev.kind = EV_REMOTE_BOUNCE;
	ev.src_hash = 9;
	(void)rcpt_apply(&r, &ev, &esc);
	(void)apply(&r, CLASS_SOFT, T0 + 2 * DAY);
	assert_int_equal(r.n_soft, 3);
	assert_int_equal(apply(&r, CLASS_DELIVERY, T0 + 3 * DAY), OUT_RESET);
	assert_int_equal(r.n_soft, 1);
	assert_int_equal(r.soft_times[0], T0 + DAY);
	assert_int_equal(r.soft_src[0], 9);
	assert_true(r.soft_async[0]);
	assert_int_equal(r.status, RCPT_SOFT);
	/* read after the delivery of day 3 */
	assert_int_equal(apply(&r, CLASS_SOFT, T0 + 2 * DAY + 1), OUT_SOFT);
	assert_int_equal(r.n_soft, 1);
	assert_int_equal(apply_rb(&r, T0 + 2 * DAY + 2), OUT_SOFT);
	assert_int_equal(r.n_soft, 2);
	assert_true(r.soft_async[1]);
	/* a b after the delivery goes in front of nothing async: order kept */
	assert_int_equal(apply(&r, CLASS_SOFT, T0 + 4 * DAY), OUT_SOFT);
	assert_int_equal(r.n_soft, 3);
	assert_false(r.soft_async[2]);
	assert_int_equal(apply_rb(&r, T0 + DAY + 5), OUT_SOFT);
	assert_int_equal(r.n_soft, 4);
	assert_int_equal(r.soft_times[1], T0 + DAY + 5);
	assert_true(r.soft_async[0] && r.soft_async[1] && r.soft_async[2]);
	assert_false(r.soft_async[3]);
	/* forty days on, the window leaves only the newest */
	assert_int_equal(apply(&r, CLASS_SOFT, T0 + 40 * DAY), OUT_SOFT);
	assert_int_equal(r.n_soft, 1);
	assert_false(r.soft_async[0]);
}

/* test_escalated_then_confirmed - an escalated address that then has a
   hard bounce or a complaint no longer rests on its soft bounces:
   reevaluate with a higher threshold leaves it hard (it returned it to
   soft, a complained address among them) */
static void test_escalated_then_confirmed(void **state)
{
	struct escalation high = esc;
	struct rcpt r, q;
	struct rcpt_dups dups;
	struct event ev;
	int i;

	(void)state;
	high.threshold = 10;
	rcpt_init(&r);
	for (i = 0; i < 5; i++)
		(void)apply(&r, CLASS_SOFT, T0 + i * DAY);
	assert_true(r.status == RCPT_HARD && r.escalated);
	q = r;
	assert_int_equal(apply(&r, CLASS_COMPLAINT, T0 + 6 * DAY),
			 OUT_DUPLICATE);
	assert_false(r.escalated);
	assert_int_equal(rcpt_reevaluate(&r, &high), 0);
	assert_int_equal(r.status, RCPT_HARD);
	/* a hard bounce becomes the reason */
	r = q;
	assert_int_equal(apply(&r, CLASS_HARD, T0 + 6 * DAY), OUT_DUPLICATE);
	assert_false(r.escalated);
	assert_string_equal(r.reason.dsn_status, "5.1.1");
	/* the same through the batch's duplicates */
	r = q;
	memset(&dups, 0, sizeof(dups));
	ev = mk(CLASS_UNSUB, T0 + 6 * DAY);
	rcpt_dups_add(&dups, &ev);
	rcpt_apply_dups(&r, &dups);
	assert_false(r.escalated);
	assert_int_equal(rcpt_reevaluate(&r, &high), 0);
	/* a hard bounce an incident holds is no confirmation: it may be
	   the block's (and dropped with it) */
	r = q;
	ev = mk(CLASS_HARD, T0 + 6 * DAY);
	ev.held = 5;
	assert_int_equal(rcpt_apply(&r, &ev, &esc), OUT_DUPLICATE);
	assert_true(r.escalated);
	/* a soft bounce more keeps it escalated: reevaluate judges it */
	r = q;
	assert_int_equal(apply(&r, CLASS_SOFT, T0 + 6 * DAY), OUT_DUPLICATE);
	assert_true(r.escalated);
	assert_int_equal(rcpt_reevaluate(&r, &high), 1);
	assert_int_equal(r.status, RCPT_SOFT);
}

/* escalated_then_delivered - R escalated by five soft bounces a day
   apart, then delivered to the day after */
static void escalated_then_delivered(struct rcpt *r)
{
	int i;

	rcpt_init(r);
	for (i = 0; i < 5; i++)
		apply(r, CLASS_SOFT, T0 + i * DAY);
	apply(r, CLASS_DELIVERY, T0 + 5 * DAY);
}

/* a soft category that never escalates (a refusal of our sender): its
   bounces are counted and shown, never kept toward the threshold; the
   same bounces of another soft category escalate */
static void test_no_escalate(void **state)
{
	char *never[] = { "invalid-sender", NULL };
	struct escalation e = esc;
	struct rcpt r;
	struct event ev;
	int i;

	(void)state;
	e.no_escalate = never;
	rcpt_init(&r);
	for (i = 0; i < 8; i++) {
		ev = mk(CLASS_SOFT, T0 + i * DAY);
		ev.bounce_cat = "Invalid-Sender";
		ev.dsn_diag = "smtp;550 Sender verify failed";
		assert_int_equal(rcpt_apply(&r, &ev, &e), OUT_SOFT);
	}
	assert_int_equal(r.status, RCPT_ACTIVE);
	assert_int_equal(r.n_soft, 0);
	assert_int_equal(r.cnt_soft, 8);
	assert_string_equal(r.last_category, "Invalid-Sender");
	assert_string_equal(r.last_soft.dsn_diag,
			    "smtp;550 Sender verify failed");
	/* read again: counted again (nothing of it was kept to know it by) */
	ev = mk(CLASS_SOFT, T0);
	ev.bounce_cat = "invalid-sender";
	assert_int_equal(rcpt_apply(&r, &ev, &e), OUT_SOFT);
	/* other soft categories still escalate */
	for (i = 0; i < 5; i++)
		(void)apply(&r, CLASS_SOFT, T0 + i * DAY);
	assert_int_equal(r.status, RCPT_HARD);
	assert_true(r.escalated);
	/* without the list, the refusals themselves escalate */
	rcpt_init(&r);
	for (i = 0; i < 5; i++) {
		ev = mk(CLASS_SOFT, T0 + i * DAY);
		ev.bounce_cat = "invalid-sender";
		(void)rcpt_apply(&r, &ev, &esc);
	}
	assert_int_equal(r.status, RCPT_HARD);
}

/* test_reevaluate_after_delivery - escalated, then delivered to: under
   settings that would not have escalated it, the delivery clears the
   soft bounces before it (an rb stays), so one more soft bounce does not
   escalate it again */
static void test_reevaluate_after_delivery(void **state)
{
	struct escalation six = { 6, 3 * DAY, 30 * DAY, NULL, NULL, NULL };
	struct rcpt r;
	int i;

	(void)state;
	rcpt_init(&r);
	assert_int_equal(apply_rb(&r, T0 - DAY), OUT_SOFT);
	for (i = 0; i < 4; i++)
		apply(&r, CLASS_SOFT, T0 + i * DAY);
	assert_int_equal(r.status, RCPT_HARD);
	assert_true(r.escalated);
	assert_int_equal(apply(&r, CLASS_DELIVERY, T0 + 5 * DAY),
			 OUT_DELIVERY);
	assert_int_equal(r.n_soft, 5);	/* kept while it is suppressed */
	assert_int_equal(rcpt_reevaluate(&r, &six), 1);
	assert_int_equal(r.status, RCPT_SOFT);
	assert_false(r.escalated);
	assert_int_equal(r.n_soft, 1);	/* the rb */
	assert_int_equal(r.soft_times[0], T0 - DAY);
	assert_int_equal(apply(&r, CLASS_SOFT, T0 + 6 * DAY), OUT_SOFT);
	assert_int_equal(r.status, RCPT_SOFT);
	/* without the rb: active */
	escalated_then_delivered(&r);
	assert_int_equal(rcpt_reevaluate(&r, &six), 1);
	assert_int_equal(r.status, RCPT_ACTIVE);
	assert_int_equal(r.n_soft, 0);
	/* still qualifying: hard, the bounces kept */
	escalated_then_delivered(&r);
	assert_int_equal(rcpt_reevaluate(&r, &esc), 0);
	assert_int_equal(r.status, RCPT_HARD);
	assert_int_equal(r.n_soft, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hard_then_duplicates),
		cmocka_unit_test(test_complaint_and_unsub),
		cmocka_unit_test(test_escalation_threshold_and_span),
		cmocka_unit_test(test_escalation_needs_threshold),
		cmocka_unit_test(test_window_expiry),
		cmocka_unit_test(test_delivery_resets),
		cmocka_unit_test(test_out_of_order),
		cmocka_unit_test(test_ring_full),
		cmocka_unit_test(test_soft_read_again),
		cmocka_unit_test(test_reevaluate),
		cmocka_unit_test(test_reevaluate_after_delivery),
		cmocka_unit_test(test_no_escalate),
		cmocka_unit_test(test_forget),
		cmocka_unit_test(test_ignored),
		cmocka_unit_test(test_dups_equal_one_by_one),
		cmocka_unit_test(test_discount),
		cmocka_unit_test(test_discount_span),
		cmocka_unit_test(test_delivery_read_after),
		cmocka_unit_test(test_escalated_then_confirmed),
		cmocka_unit_test(test_accepted_then_bounced),
		cmocka_unit_test(test_rb_beside_b),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
