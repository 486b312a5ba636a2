/*
 * test_monitor.c - incidents and rates beside the recipients: a block of
 * one source at one destination group opens an incident at the tenth
 * recipient and covers its first bounces; other sources, destinations and
 * earlier times are outside it; hard bounces inside are held, then at the
 * close applied, or dropped when the address was delivered to while it was open;
 * a record that closes an incident releases what it holds in address
 * order, as held last; an aborted commit done again
 * counts nothing twice; a restart keeps the open incident and its id,
 * and the recipients it protects;
 * records read again open, close and count nothing, but are held by an
 * open incident and drop its holds as when first read;
 * sender-side causes by category and by enhanced status; alerts reach
 * their hook only once committed.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "classify.h"
#include "incident_rcpts.h"
#include "monitor.h"
#include "monitor_priv.h"	/* held_bits_set: what a delivery asks */
#include "tstate.h"

#define T0 1793577600

static char *sender_cats[] = { "policy-related", "spam-related", NULL };

struct hooks_seen {
	int opened, closed, alerts, released, dropped;
	uint64_t last_id;
	char released_addr[8][64];
	struct incident last;
	/* the last held bounce the drop hook heard of */
	char dropped_addr[64];
	uint64_t dropped_id;
	uint32_t dropped_src;
	int64_t dropped_from, dropped_time;
};

static void on_incident(const struct incident *inc, bool opened, void *arg)
{
	struct hooks_seen *s = arg;

	if (opened)
		s->opened++;
	else
		s->closed++;
	s->last_id = inc->id;
	s->last = *inc;
}

static void on_alert(const struct rates_transition *t,
		     const struct alert_rule *rule, void *arg)
{
	(void)t;
	(void)rule;
	((struct hooks_seen *)arg)->alerts++;
}

static int release(MDB_txn *txn, const struct incident_held *h, void *arg)
{
	struct hooks_seen *s = arg;

	(void)txn;
	if (s->released < 8)
		snprintf(s->released_addr[s->released], 64, "%.63s", h->addr);
	s->released++;
	return 0;
}

static int drop(MDB_txn *txn, const struct incident_held *h, uint64_t id,
		uint32_t src, int64_t from, void *arg)
{
	struct hooks_seen *s = arg;

	(void)txn;
	snprintf(s->dropped_addr, sizeof(s->dropped_addr), "%.63s", h->addr);
	s->dropped_id = id;
	s->dropped_src = src;
	s->dropped_from = from;
	s->dropped_time = h->reason.time;
	s->dropped++;
	return 0;
}

/* mk_cats - a monitor with ALERTS (NULL: no rates) whose sender-side
   categories are CATS */
static struct monitor *mk_cats(struct hooks_seen *seen, const char *alerts,
			       char **cats)
{
	struct monitor_params p;
	struct monitor_hooks h = { .incident = on_incident,
				   .alert = on_alert, .release = release,
				   .drop = drop, .arg = seen };
	struct monitor *m = NULL;
	char err[256] = "";

	memset(&p, 0, sizeof(p));
	p.incidents = true;
	p.ip.window = 1800;
	p.ip.min_recipients = 10;
	p.ip.min_share = 0.2;
	p.ip.quiet = 7200;
	p.hold_hard = true;
	p.keep = 30 * 86400;
	p.sender_categories = cats;
	p.rates = alerts != NULL;
	p.alerts = alerts;
	if (monitor_new(&m, &p, &h, err, sizeof(err)) != 0)
		fail_msg("monitor_new: %s", err);
	return m;
}

static struct monitor *mk(struct hooks_seen *seen, const char *alerts)
{
	return mk_cats(seen, alerts, sender_cats);
}

/* delivery - EV: a delivery to RCPT at T from IP */
static void delivery(struct event *ev, const char *rcpt, int64_t t,
		     const char *ip)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = EV_DELIVERY;
	ev->klass = CLASS_DELIVERY;
	ev->time = t;
	ev->rcpt = rcpt;
	ev->source_ip = ip;
}

/* bounce - EV: a bounce of RCPT at T from IP, of class K */
static void bounce(struct event *ev, const char *rcpt, int64_t t,
		   const char *ip, enum event_class k, const char *cat,
		   const char *status)
{
	delivery(ev, rcpt, t, ip);
	ev->kind = EV_BOUNCE;
	ev->klass = k;
	ev->orig = "bounces@news.example.com";
	ev->bounce_cat = cat;
	ev->dsn_status = status;
	ev->dsn_diag = "smtp;550 5.7.1 Unfortunately, messages from "
		       "[192.0.2.10] weren't sent (S3150)";
	ev->vmta = "ms-pool";
	ev->job_id = "camp-1";
	ev->source = "acct.csv";
	ev->line = (uint64_t)(t - T0);
}

static void commit(struct tstate *t, struct monitor *m)
{
	MDB_txn *txn;

	assert_int_equal(state_begin(t->st, true, &txn), 0);
	assert_int_equal(monitor_commit(m, t->st, txn), 0);
	assert_int_equal(state_commit(txn), 0);
	monitor_committed(m);
}

static int setup(void **state)
{
	static struct tstate t;

	*state = &t;
	return tstate_setup(&t, "test_monitor");
}

static int teardown(void **state)
{
	return tstate_teardown(*state);
}

static void test_block(void **state)
{
	struct tstate *t = *state;
	struct hooks_seen seen;
	struct monitor *m;
	struct event ev;
	char addrs[12][32];
	uint32_t src = monitor_source_hash("192.0.2.10");
	uint64_t id;
	MDB_txn *txn;
	struct incident inc;
	int i;

	memset(&seen, 0, sizeof(seen));
	m = mk(&seen, NULL);
	for (i = 0; i < 12; i++) {
		snprintf(addrs[i], sizeof(addrs[i]), "ms%02d@%s", i,
			 i % 2 ? "hotmail.com" : "outlook.com");
		bounce(&ev, addrs[i], T0 + 60 * i, "192.0.2.10", CLASS_SOFT,
		       "policy-related", "5.7.1");
		assert_int_equal(monitor_feed(m, &ev), 0);
		assert_int_equal(monitor_open_incidents(m), i >= 9 ? 1 : 0);
	}
	/* the first bounces are inside it too; not other places or times */
	assert_true(monitor_in_incident(m, src, "ms00@outlook.com", T0));
	assert_true(monitor_in_incident(m, src, "x@live.com", T0 + 86400));
	assert_false(monitor_in_incident(m, src, "x@gmail.com", T0 + 600));
	assert_false(monitor_in_incident(m, monitor_source_hash("192.0.2.11"),
					 "x@hotmail.com", T0 + 600));
	assert_false(monitor_in_incident(m, src, "x@hotmail.com", T0 - 1));
	commit(t, m);
	assert_int_equal(seen.opened, 1);
	assert_int_equal(seen.last.recipients, 10);
	assert_int_equal(seen.last.nsamples, 1);
	/* hard bounces inside are held */
	bounce(&ev, "gone@hotmail.com", T0 + 3600, "192.0.2.10", CLASS_HARD,
	       "bad-mailbox", "5.1.1");
	id = monitor_feed(m, &ev);
	assert_int_equal(id, seen.last_id);
	assert_int_equal(state_begin(t->st, true, &txn), 0);
	assert_int_equal(monitor_hold(m, t->st, txn, id, &ev), 0);
	bounce(&ev, "back@hotmail.com", T0 + 3700, "192.0.2.10", CLASS_HARD,
	       "bad-mailbox", "5.1.1");
	assert_int_equal(monitor_feed(m, &ev), id);
	assert_int_equal(monitor_hold(m, t->st, txn, id, &ev), 0);
	assert_int_equal(state_commit(txn), 0);
	/* a hard bounce elsewhere is not */
	bounce(&ev, "gone@gmail.com", T0 + 3700, "192.0.2.10", CLASS_HARD,
	       "bad-mailbox", "5.1.1");
	assert_int_equal(monitor_feed(m, &ev), 0);
	commit(t, m);
	/* a delivery to one of them while the incident is open drops its
	   held bounce (a delivery to another address drops nothing) */
	delivery(&ev, "back@hotmail.com", T0 + 3800, "192.0.2.13");
	assert_int_equal(monitor_feed(m, &ev), 0);
	ev.rcpt = "other@hotmail.com";
	assert_int_equal(monitor_feed(m, &ev), 0);
	commit(t, m);
	/* the address keeps the bounce dropped: its incident's source and
	   start, and its time */
	assert_int_equal(seen.dropped, 1);
	assert_string_equal(seen.dropped_addr, "back@hotmail.com");
	assert_true(seen.dropped_id == id);
	assert_int_equal(seen.dropped_src, src);
	assert_true(seen.dropped_from == T0);
	assert_true(seen.dropped_time == T0 + 3700);
	/* quiet for two hours: closed; the held bounce left applied; a
	   first commit aborted changes nothing */
	monitor_advance(m, T0 + 3700 + 7200 + 1);
	assert_int_equal(monitor_open_incidents(m), 0);
	assert_int_equal(state_begin(t->st, true, &txn), 0);
	assert_int_equal(monitor_commit(m, t->st, txn), 0);
	state_abort(txn);
	seen.released = 0;
	commit(t, m);
	assert_int_equal(seen.closed, 1);
	assert_int_equal(seen.released, 1);
	assert_string_equal(seen.released_addr[0], "gone@hotmail.com");
	assert_int_equal(state_begin(t->st, false, &txn), 0);
	assert_int_equal(incident_get(t->st, txn, id, &inc), 0);
	state_abort(txn);
	assert_int_equal(inc.state, INCIDENT_ST_CLOSED);
	assert_int_equal(inc.held, 2);
	assert_int_equal(inc.applied, 1);
	assert_int_equal(inc.dropped, 1);
	assert_int_equal(inc.close_time, T0 + 660 + 7200);
	assert_int_equal(inc.protected_soft, 14);
	/* closed, it still covers its time for the soft-bounce check */
	assert_true(monitor_in_incident(m, src, "x@hotmail.com", T0 + 3000));
	assert_false(monitor_in_incident(m, src, "x@hotmail.com",
					 T0 + 3 * 86400));
	monitor_free(m);
}

/* forty sources blocked at once: each bounce finds its own pair's
   incident among the forty open (a hard bounce is held by it), and none
   where its source or destination has none */
static void test_many_pairs(void **state)
{
	struct tstate *t = *state;
	struct hooks_seen seen;
	struct monitor *m;
	struct event ev;
	uint64_t ids[40];
	char addr[64], ip[32];
	int s, i, j;

	memset(&seen, 0, sizeof(seen));
	m = mk(&seen, NULL);
	for (i = 0; i < 10; i++)
		for (s = 0; s < 40; s++) {
			snprintf(addr, sizeof(addr), "s%02d-%02d@hotmail.com", s,
				 i);
			snprintf(ip, sizeof(ip), "192.0.2.%d", 10 + s);
			bounce(&ev, addr, T0 + 60 * i + s, ip, CLASS_SOFT,
			       "policy-related", "5.7.1");
			assert_int_equal(monitor_feed(m, &ev), 0);
		}
	assert_int_equal(monitor_open_incidents(m), 40);
	commit(t, m);
	assert_int_equal(seen.opened, 40);
	/* from the last source to the first: the index, not the order in
	   which they opened, finds them */
	for (s = 39; s >= 0; s--) {
		snprintf(addr, sizeof(addr), "gone%02d@outlook.com", s);
		snprintf(ip, sizeof(ip), "192.0.2.%d", 10 + s);
		bounce(&ev, addr, T0 + 900, ip, CLASS_HARD, "bad-mailbox",
		       "5.1.1");
		ids[s] = monitor_feed(m, &ev);
		assert_true(ids[s] != 0);
		for (j = 39; j > s; j--)
			assert_true(ids[j] != ids[s]);
	}
	/* a source with no incident, and a destination with none */
	bounce(&ev, "gone@outlook.com", T0 + 900, "192.0.2.99", CLASS_HARD,
	       "bad-mailbox", "5.1.1");
	assert_int_equal(monitor_feed(m, &ev), 0);
	bounce(&ev, "gone@gmail.com", T0 + 900, "192.0.2.10", CLASS_HARD,
	       "bad-mailbox", "5.1.1");
	assert_int_equal(monitor_feed(m, &ev), 0);
	/* the same pair again: the same incident */
	bounce(&ev, "again@hotmail.com", T0 + 960, "192.0.2.30", CLASS_HARD,
	       "bad-mailbox", "5.1.1");
	assert_int_equal(monitor_feed(m, &ev), ids[20]);
	commit(t, m);
	monitor_free(m);
}

/* block - ten sender-side bounces from 192.0.2.10 at Hotmail from T on:
   they open an incident (none of them is held) */
static void block(struct monitor *m, int64_t t)
{
	struct event ev;
	char addr[32];
	int i;

	for (i = 0; i < 10; i++) {
		snprintf(addr, sizeof(addr), "ms%02d@hotmail.com", i);
		bounce(&ev, addr, t + 60 * i, "192.0.2.10", CLASS_SOFT,
		       "policy-related", "5.7.1");
		assert_int_equal(monitor_feed(m, &ev), 0);
	}
}


static void count_hash(uint64_t hash, void *arg)
{
	(void)hash;
	(*(size_t *)arg)++;
}

/* protected_stored - how many recipients the store keeps for incident ID */
static size_t protected_stored(struct tstate *t, uint64_t id)
{
	MDB_txn *txn;
	size_t n = 0;

	assert_int_equal(state_begin(t->st, false, &txn), 0);
	assert_int_equal(incident_rcpts_foreach(t->st, txn, id, count_hash,
						&n), 0);
	state_abort(txn);
	return n;
}

/* the recipients an open incident protects are stored with the commit;
   those a load finds in the detector's window only (a state written
   before they were stored) go with the next commit, fed or not */
static void test_protected_stored(void **state)
{
	struct tstate *t = *state;
	struct hooks_seen seen;
	struct monitor *m;
	MDB_txn *txn;
	uint64_t id;

	memset(&seen, 0, sizeof(seen));
	m = mk(&seen, NULL);
	block(m, T0);
	commit(t, m);
	assert_int_equal(seen.opened, 1);
	id = seen.last_id;
	assert_int_equal(protected_stored(t, id), 10);
	monitor_free(m);
	/* as a state written before: none stored */
	assert_int_equal(state_begin(t->st, true, &txn), 0);
	assert_int_equal(incident_rcpts_del(t->st, txn, id), 0);
	assert_int_equal(state_commit(txn), 0);
	assert_int_equal(protected_stored(t, id), 0);

	assert_int_equal(tstate_reopen(t), 0);
	memset(&seen, 0, sizeof(seen));
	m = mk(&seen, NULL);
	assert_int_equal(state_begin(t->st, false, &txn), 0);
	assert_int_equal(monitor_load(m, t->st, txn), 0);
	state_abort(txn);
	assert_int_equal(monitor_open_incidents(m), 1);
	commit(t, m);
	assert_int_equal(protected_stored(t, id), 10);
	assert_int_equal(seen.opened, 0);
	monitor_free(m);
}

/* a record that closes an incident releases what it holds in memory, in
   address order, each as held last (a second hold of an address replaces
   the first), without those delivered to since; the release outlives
   the incident's table until the next record */
static void test_released_by_a_record(void **state)
{
	struct tstate *t = *state;
	struct hooks_seen seen;
	const struct monitor_release *rel;
	struct incident_held h;
	struct monitor *m;
	struct event ev;
	uint64_t id;

	memset(&seen, 0, sizeof(seen));
	m = mk(&seen, NULL);
	block(m, T0);
	assert_int_equal(monitor_open_incidents(m), 1);
	commit(t, m);
	bounce(&ev, "zed@hotmail.com", T0 + 700, "192.0.2.10", CLASS_HARD,
	       "bad-mailbox", "5.1.1");
	id = monitor_feed(m, &ev);
	assert_true(id != 0);
	bounce(&ev, "amy@hotmail.com", T0 + 710, "192.0.2.10", CLASS_HARD,
	       "bad-mailbox", "5.1.1");
	assert_int_equal(monitor_feed(m, &ev), id);
	bounce(&ev, "dot@hotmail.com", T0 + 720, "192.0.2.10", CLASS_HARD,
	       "bad-mailbox", "5.1.1");
	assert_int_equal(monitor_feed(m, &ev), id);
	/* zed again, later and otherwise: this one is held */
	bounce(&ev, "zed@hotmail.com", T0 + 730, "192.0.2.10", CLASS_HARD,
	       "bad-domain", "5.1.2");
	assert_int_equal(monitor_feed(m, &ev), id);
	/* dot takes our mail since */
	delivery(&ev, "dot@hotmail.com", T0 + 740, "192.0.2.11");
	assert_int_equal(monitor_feed(m, &ev), 0);
	assert_int_equal(monitor_released(m, &rel), 0);
	/* quiet past the quiet time: its next record closes it */
	delivery(&ev, "new@hotmail.com", T0 + 730 + 7200 + 60, "192.0.2.10");
	assert_int_equal(monitor_feed(m, &ev), 0);
	assert_int_equal(monitor_open_incidents(m), 0);
	assert_int_equal(monitor_released(m, &rel), 2);
	assert_int_equal(rel[0].id, id);
	assert_int_equal(rel[1].id, id);
	assert_int_equal(incident_held_decode(rel[0].rec, rel[0].len, &h), 0);
	assert_string_equal(h.addr, "amy@hotmail.com");
	assert_int_equal(h.klass, CLASS_HARD);
	assert_int_equal(h.reason.time, T0 + 710);
	assert_int_equal(incident_held_decode(rel[1].rec, rel[1].len, &h), 0);
	assert_string_equal(h.addr, "zed@hotmail.com");
	assert_int_equal(h.reason.time, T0 + 730);
	assert_int_equal(h.reason.line, 730);
	assert_string_equal(h.reason.category, "bad-domain");
	assert_string_equal(h.reason.dsn_status, "5.1.2");
	assert_string_equal(h.reason.job_id, "camp-1");
	assert_string_equal(h.reason.source, "acct.csv");
	/* the next record: nothing more */
	bounce(&ev, "y@gmail.com", T0 + 730 + 7200 + 61, "192.0.2.99",
	       CLASS_SOFT, "bad-mailbox", "4.2.2");
	assert_int_equal(monitor_feed(m, &ev), 0);
	assert_int_equal(monitor_released(m, &rel), 0);
	commit(t, m);
	assert_int_equal(seen.closed, 1);
	assert_int_equal(seen.last.held, 4);
	assert_int_equal(seen.last.applied, 2);
	assert_int_equal(seen.last.dropped, 1);
	monitor_free(m);
}

static void test_restart(void **state)
{
	struct tstate *t = *state;
	struct hooks_seen seen;
	struct monitor *m;
	struct event ev;
	char a[32];
	MDB_txn *txn;
	uint64_t id;
	int i;

	memset(&seen, 0, sizeof(seen));
	m = mk(&seen, "soft-rate > 5% over 1h per campaign min 10");
	for (i = 0; i < 10; i++) {
		snprintf(a, sizeof(a), "y%d@yahoo.com", i);
		bounce(&ev, a, T0 + i, "vmta-y", CLASS_SOFT, "other", "4.7.0");
		ev.source_ip = NULL;	/* the vmta is the source */
		ev.vmta = "vmta-y";
		monitor_feed(m, &ev);
	}
	assert_int_equal(monitor_open_incidents(m), 1);
	assert_int_equal(seen.alerts, 0);	/* not before the commit */
	commit(t, m);
	assert_int_equal(seen.alerts, 1);
	id = seen.last_id;
	monitor_free(m);
	assert_int_equal(tstate_reopen(t), 0);
	memset(&seen, 0, sizeof(seen));
	m = mk(&seen, "soft-rate > 5% over 1h per campaign min 10");
	assert_int_equal(state_begin(t->st, false, &txn), 0);
	assert_int_equal(monitor_load(m, t->st, txn), 0);
	state_abort(txn);
	assert_int_equal(monitor_open_incidents(m), 1);
	bounce(&ev, "z@aol.com", T0 + 20, NULL, CLASS_HARD, "bad-mailbox",
	       "5.1.1");
	ev.vmta = "vmta-y";
	assert_int_equal(monitor_feed(m, &ev), id);
	/* no second "raised" after the restart */
	commit(t, m);
	assert_int_equal(seen.alerts, 0);
	assert_int_equal(seen.opened, 0);
	/* a new incident elsewhere takes the next id */
	for (i = 0; i < 10; i++) {
		snprintf(a, sizeof(a), "g%d@gmail.com", i);
		bounce(&ev, a, T0 + 30 + i, "192.0.2.50", CLASS_SOFT,
		       "spam-related", "");
		monitor_feed(m, &ev);
	}
	commit(t, m);
	assert_int_equal(seen.opened, 1);
	assert_int_equal(seen.last_id, id + 1);
	monitor_free(m);
}

static void test_sender_side(void **state)
{
	struct hooks_seen seen;
	struct monitor *m;
	struct event ev;

	(void)state;
	memset(&seen, 0, sizeof(seen));
	m = mk(&seen, NULL);
	bounce(&ev, "a@b.example", T0, "1.2.3.4", CLASS_SOFT, "Policy-Related",
	       "");
	assert_true(monitor_sender_side(m, &ev));
	bounce(&ev, "a@b.example", T0, "1.2.3.4", CLASS_SOFT, "quota-issues",
	       "4.7.1");
	assert_true(monitor_sender_side(m, &ev));
	bounce(&ev, "a@b.example", T0, "1.2.3.4", CLASS_SOFT, "quota-issues",
	       "5.2.2");
	assert_false(monitor_sender_side(m, &ev));
	bounce(&ev, "a@b.example", T0, "1.2.3.4", CLASS_SOFT, "", "");
	ev.dsn_diag = "smtp;421 4.7.0 [TSS04] Messages temporarily deferred";
	assert_true(monitor_sender_side(m, &ev));
	ev.dsn_diag = "smtp;552 5.2.2 mailbox full";
	assert_false(monitor_sender_side(m, &ev));
	/* a dsnStatus without a code: the text's */
	ev.dsn_status = "smtp";
	ev.dsn_diag = "smtp;550 5.7.1 blocked";
	assert_true(monitor_sender_side(m, &ev));
	ev.dsn_status = "5.2.2 (mailbox full)";
	assert_false(monitor_sender_side(m, &ev));
	/* the classification's mark, where it looked, is taken as it is */
	ev.status_x7 = EVENT_X7_YES;
	assert_true(monitor_sender_side(m, &ev));
	ev.dsn_status = "5.7.1";
	ev.status_x7 = EVENT_X7_NO;
	assert_false(monitor_sender_side(m, &ev));
	ev.status_x7 = 0;
	assert_true(monitor_sender_side(m, &ev));
	ev.dsn_status = "";
	assert_string_equal(monitor_dest(m, "x@googlemail.com"), "gmail");
	assert_string_equal(monitor_dest(m, "x@googlemail.com"), "gmail");
	assert_string_equal(monitor_dest(m, "x@example.org"), "example.org");
	assert_string_equal(monitor_dest(m, "y@example.org"), "example.org");
	assert_null(monitor_dest(m, "nodomain@"));
	assert_string_equal(monitor_source(&ev), "1.2.3.4");
	assert_int_equal(monitor_source_hash(NULL), 0);
	assert_int_not_equal(monitor_source_hash("1.2.3.4"), 0);
	monitor_free(m);
}

/* an incident that held 20,000 hard bounces and released them, in
   address order (a third of them share their first 8 bytes): the
   addresses' bits go with them (a
   delivery to one of them asks no incident), and a hold after it is
   still found by a delivery */
static void test_released_bits_go(void **state)
{
	struct tstate *t = *state;
	struct hooks_seen seen;
	const struct monitor_release *rel;
	struct monitor *m;
	struct event ev;
	char addr[32];
	uint64_t id = 0;
	int i;

	memset(&seen, 0, sizeof(seen));
	m = mk(&seen, NULL);
	block(m, T0);
	assert_int_equal(monitor_open_incidents(m), 1);
	for (i = 0; i < 20000; i++) {
		if (i % 3 == 0)
			snprintf(addr, sizeof(addr), "u%05d@hotmail.com", i);
		else if (i % 3 == 1)
			snprintf(addr, sizeof(addr), "samefirst%d@hotmail.com",
				 i);
		else
			snprintf(addr, sizeof(addr), "%c%d@hotmail.com",
				 'a' + i % 26, i);
		bounce(&ev, addr, T0 + 700 + i / 100, "192.0.2.10",
		       CLASS_HARD, "bad-mailbox", "5.1.1");
		id = monitor_feed(m, &ev);
		assert_true(id != 0);
	}
	assert_true(m->held_bits_set > 19000);
	/* quiet past the quiet time: the next record closes it */
	delivery(&ev, "new@hotmail.com", T0 + 1000 + 7200 + 60, "192.0.2.10");
	monitor_feed(m, &ev);
	assert_int_equal(monitor_released(m, &rel), 20000);
	for (i = 0; i < 20000; i++) {
		struct incident_held h;

		assert_int_equal(incident_held_decode(rel[i].rec, rel[i].len,
						      &h), 0);
		if (i)
			assert_true(strcmp(addr, h.addr) < 0);
		g_strlcpy(addr, h.addr, sizeof(addr));
	}
	assert_int_equal(m->held_bits_set, 0);
	commit(t, m);
	assert_int_equal(seen.closed, 1);
	assert_int_equal(seen.last.held, 20000);
	assert_int_equal(seen.last.applied, 20000);
	/* a new block, a new hold: its delivery drops it */
	block(m, T0 + 20000);
	bounce(&ev, "u00007@hotmail.com", T0 + 20700, "192.0.2.10",
	       CLASS_HARD, "bad-mailbox", "5.1.1");
	id = monitor_feed(m, &ev);
	assert_true(id != 0);
	assert_int_equal(m->held_bits_set, 1);
	delivery(&ev, "u00007@hotmail.com", T0 + 20710, "192.0.2.11");
	monitor_feed(m, &ev);
	commit(t, m);
	monitor_free(m);
	assert_int_equal(seen.opened, 2);
	assert_int_equal(seen.last.held, 1);
	assert_int_equal(seen.last.dropped, 1);
}

/* records read again (monitor_feed_again) feed no window: the block read
   again opens nothing, nor does it close the incident or add to its
   counts; a hard bounce of the pair is held again while the incident is
   open (counted once for an address it holds), a delivery drops the hold
   of its address as before; once the incident is closed, nothing opens
   again */
static void test_read_again(void **state)
{
	struct tstate *t = *state;
	struct hooks_seen seen;
	struct monitor *m;
	struct event ev;
	char addrs[12][32];
	uint64_t id;
	int i, pass;

	memset(&seen, 0, sizeof(seen));
	m = mk(&seen, NULL);
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < 12; i++) {
			snprintf(addrs[i], sizeof(addrs[i]), "ms%02d@hotmail.com",
				 i);
			bounce(&ev, addrs[i], T0 + 60 * i, "192.0.2.10",
			       CLASS_SOFT, "policy-related", "5.7.1");
			if (pass)
				assert_int_equal(monitor_feed_again(m, &ev), 0);
			else
				assert_int_equal(monitor_feed(m, &ev), 0);
		}
		bounce(&ev, "gone@hotmail.com", T0 + 3600, "192.0.2.10",
		       CLASS_HARD, "bad-mailbox", "5.1.1");
		id = pass ? monitor_feed_again(m, &ev) : monitor_feed(m, &ev);
		assert_true(id != 0);
		commit(t, m);
		assert_int_equal(seen.opened, 1);
		assert_int_equal(monitor_open_incidents(m), 1);
		assert_int_equal(seen.last.recipients, 10);
		assert_int_equal(seen.last.held, 1);
	}
	assert_true(monitor_now(m) == T0 + 3600);
	/* one the incident did not hold yet is counted; a delivery read
	   again drops the hold of its address */
	bounce(&ev, "new@hotmail.com", T0 + 3700, "192.0.2.10", CLASS_HARD,
	       "bad-mailbox", "5.1.1");
	assert_true(monitor_feed_again(m, &ev) == id);
	delivery(&ev, "gone@hotmail.com", T0 + 3800, "192.0.2.10");
	assert_int_equal(monitor_feed_again(m, &ev), 0);
	commit(t, m);
	assert_int_equal(seen.dropped, 1);
	assert_string_equal(seen.dropped_addr, "gone@hotmail.com");
	assert_true(monitor_now(m) == T0 + 3600);
	/* closed: the block read again opens nothing */
	monitor_advance(m, T0 + 3700 + 7200 + 1);
	commit(t, m);
	assert_int_equal(seen.closed, 1);
	assert_int_equal(seen.last.recipients, 10);
	assert_int_equal(seen.last.held, 2);
	assert_int_equal(seen.last.dropped, 1);
	for (i = 0; i < 12; i++) {
		bounce(&ev, addrs[i], T0 + 60 * i, "192.0.2.10", CLASS_SOFT,
		       "policy-related", "5.7.1");
		assert_int_equal(monitor_feed_again(m, &ev), 0);
	}
	bounce(&ev, "gone@hotmail.com", T0 + 3600, "192.0.2.10", CLASS_HARD,
	       "bad-mailbox", "5.1.1");
	assert_int_equal(monitor_feed_again(m, &ev), 0);
	commit(t, m);
	assert_int_equal(seen.opened, 1);
	assert_int_equal(monitor_open_incidents(m), 0);
	monitor_free(m);
}

/* test_sender_cats_by_place - a category given by its place among
   PowerMTA's (as classify_event found it) is a sender-side cause as its
   name is: in any case, and a name of the list that is none of
   PowerMTA's still found */
static void test_sender_cats_by_place(void **state)
{
	static char *cats[] = { "Policy-Related", "my-own-cause", NULL };
	static const struct {
		const char *cat;
		bool want;
	} cases[] = {
		{ "policy-related", true }, { "POLICY-RELATED", true },
		{ "spam-related", false },  { "my-own-cause", true },
		{ "My-Own-Cause", true },   { "other-cause", false },
		{ "other", false },	    { "", false },
	};
	struct hooks_seen seen;
	struct monitor *m, *m2;
	struct event ev;
	size_t i;
	int k;

	(void)state;
	memset(&seen, 0, sizeof(seen));
	m = mk_cats(&seen, NULL, cats);
	m2 = mk(&seen, NULL);	/* policy-related and spam-related */
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bounce(&ev, "a@b.example", T0, "1.2.3.4", CLASS_SOFT,
		       cases[i].cat, "5.2.2");
		if (monitor_sender_side(m, &ev) != cases[i].want)
			fail_msg("%s, not looked at", cases[i].cat);
		k = classify_cat_index(cases[i].cat);
		ev.cat_ix = k < 0 ? EVENT_CAT_UNLISTED : (uint8_t)(k + 1);
		if (monitor_sender_side(m, &ev) != cases[i].want)
			fail_msg("%s, at place %u", cases[i].cat, ev.cat_ix);
		/* a list of PowerMTA's names only */
		assert_int_equal(monitor_sender_side(m2, &ev),
				 strcasecmp(cases[i].cat, "policy-related") ==
						 0 ||
					 strcasecmp(cases[i].cat,
						    "spam-related") == 0);
	}
	monitor_free(m);
	monitor_free(m2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_block, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_protected_stored, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_many_pairs, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_released_by_a_record,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_released_bits_go, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_read_again, setup,
						teardown),
		cmocka_unit_test(test_sender_side),
		cmocka_unit_test(test_sender_cats_by_place),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
