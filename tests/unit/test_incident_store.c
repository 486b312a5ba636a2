/*
 * test_incident_store.c - incidents and held bounces in LMDB: ids taken
 * in order, a record read back field by field, samples kept distinct and
 * cut, held bounces listed per incident only and dropped one by one (a
 * drop of one record leaving a later hold of its address), the incidents
 * that hold any (each once), the recipients an incident protects, and
 * the codecs refusing truncated or foreign bytes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "incident_rcpts.h"
#include "incident_store.h"
#include "u64map.h"
#include "tstate.h"

static int setup(void **state)
{
	static struct tstate t;

	*state = &t;
	return tstate_setup(&t, "test_incident_store");
}

static int teardown(void **state)
{
	return tstate_teardown(*state);
}

static void test_incidents(void **state)
{
	struct tstate *t = *state;
	struct incident a, b, got;
	char longtext[400];
	MDB_txn *txn;

	memset(&a, 0, sizeof(a));
	strcpy(a.source, "192.0.2.10");
	strcpy(a.dest, "microsoft");
	a.first_time = 1767225600;
	a.open_time = a.first_time + 300;
	a.last_bounce = a.open_time + 60;
	a.recipients = 12;
	a.bounces = 14;
	a.attempts = 20;
	incident_add_sample(&a, "550 5.7.1 Unfortunately, messages from "
			    "[192.0.2.10] weren't sent (S3150)");
	incident_add_sample(&a, "550 5.7.1 Unfortunately, messages from "
			    "[192.0.2.10] weren't sent (S3150)");
	memset(longtext, 'x', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	incident_add_sample(&a, longtext);
	incident_add_sample(&a, "");
	assert_int_equal(a.nsamples, 2);
	assert_int_equal(strlen(a.samples[1]), INCIDENT_SAMPLE_MAX - 1);
	b = a;
	strcpy(b.dest, "gmail");
	assert_int_equal(state_begin(t->st, true, &txn), 0);
	assert_int_equal(incident_put(t->st, txn, &a), 0);
	assert_int_equal(incident_put(t->st, txn, &b), 0);
	assert_int_equal(a.id, 1);
	assert_int_equal(b.id, 2);
	/* closing it rewrites the same id */
	a.state = INCIDENT_ST_CLOSED;
	a.close_time = a.last_bounce + 7200;
	a.held = 3;
	a.applied = 2;
	a.dropped = 1;
	a.recovered = true;
	assert_int_equal(incident_put(t->st, txn, &a), 0);
	assert_int_equal(a.id, 1);
	assert_int_equal(state_commit(txn), 0);
	assert_int_equal(tstate_reopen(t), 0);
	assert_int_equal(state_begin(t->st, false, &txn), 0);
	assert_int_equal(incident_get(t->st, txn, 1, &got), 0);
	assert_int_equal(got.state, INCIDENT_ST_CLOSED);
	assert_string_equal(got.source, "192.0.2.10");
	assert_string_equal(got.dest, "microsoft");
	assert_int_equal(got.first_time, a.first_time);
	assert_int_equal(got.close_time, a.close_time);
	assert_int_equal(got.recipients, 12);
	assert_int_equal(got.bounces, 14);
	assert_int_equal(got.held, 3);
	assert_int_equal(got.applied, 2);
	assert_true(got.recovered);
	assert_int_equal(got.nsamples, 2);
	assert_string_equal(got.samples[0], a.samples[0]);
	assert_int_equal(incident_get(t->st, txn, 2, &got), 0);
	assert_string_equal(got.dest, "gmail");
	assert_int_equal(got.state, INCIDENT_ST_OPEN);
	assert_int_equal(incident_get(t->st, txn, 3, &got), -ENOENT);
	state_abort(txn);
	assert_string_equal(incident_state_name(INCIDENT_ST_DISCARDED),
			    "discarded");
}

struct seen {
	int n;
	char addrs[4][64];
};

static int held_cb(const struct incident_held *h, void *arg)
{
	struct seen *s = arg;

	if (s->n < 4)
		strcpy(s->addrs[s->n], h->addr);
	s->n++;
	assert_int_equal(h->klass, CLASS_HARD);
	assert_string_equal(h->reason.dsn_status, "5.7.1");
	return 0;
}

static void test_held(void **state)
{
	struct tstate *t = *state;
	struct event ev;
	struct event_extra x;
	struct incident_held h;
	struct seen s;
	MDB_txn *txn;
	const char *addrs[] = { "b@hotmail.com", "a@hotmail.com",
				"c@outlook.com" };
	size_t i;

	memset(&ev, 0, sizeof(ev));
	memset(&x, 0, sizeof(x));
	x.mw_subscriber_uid = "ab12cd34ef";
	ev.kind = EV_BOUNCE;
	ev.klass = CLASS_HARD;
	ev.time = 1767225600;
	ev.bounce_cat = "policy-related";
	ev.dsn_status = "5.7.1";
	ev.dsn_diag = "550 5.7.1 (S3150)";
	ev.job_id = "spring";
	ev.source = "acct.csv";
	ev.line = 7;
	ev.x = &x;
	assert_int_equal(state_begin(t->st, true, &txn), 0);
	for (i = 0; i < 3; i++) {
		ev.rcpt = addrs[i];
		incident_held_from_event(&h, &ev);
		assert_int_equal(incident_hold(t->st, txn, i < 2 ? 5 : 6, &h),
				 0);
	}
	assert_string_equal(h.mw_subscriber_uid, "ab12cd34ef");
	assert_string_equal(h.reason.job_id, "spring");
	assert_int_equal(h.reason.line, 7);
	/* the lists of X-Mailer-LID are held whole while they fit, else
	   not at all: cut after "...,12" they would name list 1 */
	x.iem_list_id = "2,24,12";
	x.iem_subscriber_id = "48213";
	incident_held_from_event(&h, &ev);
	assert_string_equal(h.iem_list_id, "2,24,12");
	assert_string_equal(h.iem_subscriber_id, "48213");
	x.iem_list_id = "2,24,12,13,14,15,16,3,25,4,26,27,5,6,7,8,9,10,23";
	incident_held_from_event(&h, &ev);
	assert_string_equal(h.iem_list_id, "");
	assert_string_equal(h.iem_subscriber_id, "48213");
	x.iem_list_id = NULL;
	x.iem_subscriber_id = NULL;
	/* a second hold of the same address replaces the first */
	ev.rcpt = addrs[0];
	incident_held_from_event(&h, &ev);
	assert_int_equal(incident_hold(t->st, txn, 5, &h), 0);
	h.addr[0] = '\0';
	assert_int_equal(incident_hold(t->st, txn, 5, &h), -EINVAL);
	assert_int_equal(state_commit(txn), 0);

	assert_int_equal(state_begin(t->st, true, &txn), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(incident_held_foreach(t->st, txn, 5, held_cb, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.addrs[0], "a@hotmail.com");
	assert_string_equal(s.addrs[1], "b@hotmail.com");
	memset(&s, 0, sizeof(s));
	assert_int_equal(incident_held_foreach(t->st, txn, 4, held_cb, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(incident_held_del(t->st, txn, 5, "a@hotmail.com"),
			 0);
	assert_int_equal(incident_held_del(t->st, txn, 5, "a@hotmail.com"),
			 -ENOENT);
	memset(&s, 0, sizeof(s));
	assert_int_equal(incident_held_foreach(t->st, txn, 5, held_cb, &s), 0);
	assert_int_equal(s.n, 1);
	memset(&s, 0, sizeof(s));
	assert_int_equal(incident_held_foreach(t->st, txn, 6, held_cb, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.addrs[0], "c@outlook.com");
	state_abort(txn);
}

/* the incidents that hold bounces: each once, the largest ID too, none
   of an empty table */
static void test_held_ids(void **state)
{
	struct tstate *t = *state;
	const uint64_t held[] = { 5, 5, 5, 9, 300, UINT64_MAX, UINT64_MAX };
	struct incident_held h;
	struct u64map ids;
	MDB_txn *txn;
	size_t i;

	u64map_init(&ids);
	assert_int_equal(state_begin(t->st, true, &txn), 0);
	assert_int_equal(incident_held_ids(t->st, txn, &ids), 0);
	assert_int_equal(u64map_size(&ids), 0);
	for (i = 0; i < sizeof(held) / sizeof(held[0]); i++) {
		memset(&h, 0, sizeof(h));
		snprintf(h.addr, sizeof(h.addr), "user%zu@example.com", i);
		h.klass = CLASS_HARD;
		assert_int_equal(incident_hold(t->st, txn, held[i], &h), 0);
	}
	assert_int_equal(incident_held_ids(t->st, txn, &ids), 0);
	assert_int_equal(u64map_size(&ids), 4);
	assert_non_null(u64map_get(&ids, 5));
	assert_non_null(u64map_get(&ids, 9));
	assert_non_null(u64map_get(&ids, 300));
	assert_non_null(u64map_get(&ids, UINT64_MAX));
	assert_null(u64map_get(&ids, 6));
	/* gone with its last bounce */
	assert_int_equal(incident_held_del(t->st, txn, 9, "user3@example.com"),
			 0);
	u64map_clear(&ids);
	assert_int_equal(incident_held_ids(t->st, txn, &ids), 0);
	assert_int_equal(u64map_size(&ids), 3);
	assert_null(u64map_get(&ids, 9));
	state_abort(txn);
	u64map_clear(&ids);
}

/* a drop names the record it drops: a later hold of the address, which
   replaced that record, stays */
static void test_held_del_same(void **state)
{
	struct tstate *t = *state;
	struct event ev;
	struct incident_held first, second;
	struct seen s;
	MDB_txn *txn;

	memset(&ev, 0, sizeof(ev));
	ev.kind = EV_BOUNCE;
	ev.klass = CLASS_HARD;
	ev.rcpt = "bob@example.org";
	ev.dsn_status = "5.7.1";
	ev.source = "acct.csv";
	ev.time = 1767225600;
	ev.line = 11;
	incident_held_from_event(&first, &ev);
	ev.time += 120;
	ev.line = 14;
	incident_held_from_event(&second, &ev);

	assert_int_equal(state_begin(t->st, true, &txn), 0);
	assert_int_equal(incident_held_del_same(t->st, txn, 5, &first),
			 -ENOENT);
	assert_int_equal(incident_hold(t->st, txn, 5, &first), 0);
	assert_int_equal(incident_hold(t->st, txn, 5, &second), 0);
	/* the first is gone already: the second stays */
	assert_int_equal(incident_held_del_same(t->st, txn, 5, &first),
			 -ENOENT);
	memset(&s, 0, sizeof(s));
	assert_int_equal(incident_held_foreach(t->st, txn, 5, held_cb, &s), 0);
	assert_int_equal(s.n, 1);
	/* the same line and time of another file is another record */
	strcpy(second.reason.source, "other.csv");
	assert_int_equal(incident_held_del_same(t->st, txn, 5, &second),
			 -ENOENT);
	strcpy(second.reason.source, "acct.csv");
	/* another incident's hold of the address is not this one's */
	assert_int_equal(incident_held_del_same(t->st, txn, 6, &second),
			 -ENOENT);
	assert_int_equal(incident_held_del_same(t->st, txn, 5, &second), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(incident_held_foreach(t->st, txn, 5, held_cb, &s), 0);
	assert_int_equal(s.n, 0);
	second.addr[0] = '\0';
	assert_int_equal(incident_held_del_same(t->st, txn, 5, &second),
			 -EINVAL);
	state_abort(txn);
}

/* held_fill - S (of SIZE bytes) full: SIZE - 1 letters and the NUL */
static void held_fill(char *s, size_t size)
{
	memset(s, 'q', size - 1);
	s[size - 1] = '\0';
}

static void test_codecs(void **state)
{
	struct incident a, got;
	struct incident_held h, hg;
	uint8_t buf[INCIDENT_ENCODED_MAX], hbuf[INCIDENT_HELD_ENCODED_MAX];
	size_t len, cut;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.id = 9;
	strcpy(a.source, "vmta-1");
	strcpy(a.dest, "yahoo");
	incident_add_sample(&a, "421 4.7.0 [TSS04] Messages temporarily "
			    "deferred");
	assert_int_equal(incident_encode(&a, buf, sizeof(buf), &len), 0);
	assert_int_equal(incident_decode(buf, len, &got), 0);
	assert_int_equal(got.id, 9);
	for (cut = 0; cut < len; cut++)
		assert_int_not_equal(incident_decode(buf, cut, &got), 0);
	buf[0] = 77;
	assert_int_equal(incident_decode(buf, len, &got), -EPROTO);
	assert_int_equal(incident_encode(&a, buf, 10, &len), -ENOBUFS);
	a.state = 9;
	assert_int_equal(incident_encode(&a, buf, sizeof(buf), &len),
			 -EINVAL);

	memset(&h, 0, sizeof(h));
	strcpy(h.addr, "x@example.org");
	h.klass = CLASS_HARD;
	assert_int_equal(incident_held_encode(&h, buf, sizeof(buf), &len), 0);
	assert_int_equal(incident_held_decode(buf, len, &hg), 0);
	assert_string_equal(hg.addr, "x@example.org");
	for (cut = 0; cut < len; cut++)
		assert_int_not_equal(incident_held_decode(buf, cut, &hg), 0);
	buf[len] = 0;
	assert_int_equal(incident_held_decode(buf, len + 1, &hg), -EINVAL);

	/* the largest held bounce (every field full) fits: the monitor
	   keeps what it holds in this form, and the store too */
	held_fill(h.addr, sizeof(h.addr));
	held_fill(h.reason.source, sizeof(h.reason.source));
	held_fill(h.reason.category, sizeof(h.reason.category));
	held_fill(h.reason.dsn_status, sizeof(h.reason.dsn_status));
	held_fill(h.reason.dsn_diag, sizeof(h.reason.dsn_diag));
	held_fill(h.reason.orig, sizeof(h.reason.orig));
	held_fill(h.reason.vmta, sizeof(h.reason.vmta));
	held_fill(h.reason.job_id, sizeof(h.reason.job_id));
	held_fill(h.mw_subscriber_uid, sizeof(h.mw_subscriber_uid));
	held_fill(h.list_id, sizeof(h.list_id));
	held_fill(h.iem_list_id, sizeof(h.iem_list_id));
	held_fill(h.iem_subscriber_id, sizeof(h.iem_subscriber_id));
	memcpy(h.rcpt_written, h.addr, sizeof(h.addr));
	h.rcpt_written[0] = 'Q';
	h.reason.time = INT64_MIN;
	h.reason.line = UINT64_MAX;
	assert_int_equal(incident_held_encode(&h, hbuf, sizeof(hbuf), &len), 0);
	assert_int_equal(incident_held_decode(hbuf, len, &hg), 0);
	assert_memory_equal(&hg, &h, sizeof(h));
}

/* the record's spelling of the address (its capitals) is kept with the
   held bounce and given back with its event, so that an Interspire on
   PostgreSQL is asked with it when the incident releases it; a held
   bounce without one keeps the layout a bounced before it reads */
static void test_held_written(void **state)
{
	struct event_extra x = { .rcpt_written = "John.Doe@Example.org" };
	struct event ev = { .kind = EV_BOUNCE, .klass = CLASS_HARD,
			    .rcpt = "john.doe@example.org", .x = &x };
	struct event_extra gx;
	struct incident_held h, hg;
	uint8_t buf[INCIDENT_HELD_ENCODED_MAX];
	struct event back;
	size_t len;

	(void)state;
	incident_held_from_event(&h, &ev);
	assert_string_equal(h.rcpt_written, "John.Doe@Example.org");
	assert_int_equal(incident_held_encode(&h, buf, sizeof(buf), &len), 0);
	assert_int_equal(buf[0], 2);
	assert_int_equal(incident_held_decode(buf, len, &hg), 0);
	incident_held_event(&hg, &back, &gx);
	assert_string_equal(EVENT_X(&back, rcpt_written),
			    "John.Doe@Example.org");
	assert_string_equal(back.rcpt, "john.doe@example.org");

	/* a spelling of another address is not one */
	strcpy(hg.rcpt_written, "jane@example.org");
	assert_int_equal(incident_held_encode(&hg, buf, sizeof(buf), &len), 0);
	assert_int_equal(incident_held_decode(buf, len, &hg), -EINVAL);
	x.rcpt_written = "Jane@example.org";
	incident_held_from_event(&h, &ev);
	assert_string_equal(h.rcpt_written, "");

	/* none: the first layout, and none given back */
	ev.x = NULL;
	incident_held_from_event(&h, &ev);
	assert_int_equal(incident_held_encode(&h, buf, sizeof(buf), &len), 0);
	assert_int_equal(buf[0], 1);
	assert_int_equal(incident_held_decode(buf, len, &hg), 0);
	incident_held_event(&hg, &back, &gx);
	assert_null(EVENT_X(&back, rcpt_written));
}

/* the recipients an incident protects: kept in chunks, read back per
   incident only (its neighbours' stay theirs), written again alike, gone
   with the incident; the last incident of the table deleted too */
static void rcpts_gather(uint64_t hash, void *arg)
{
	struct u64map *set = arg;

	u64map_put(set, hash, u64map_get(set, hash) ?
				      *u64map_get(set, hash) + 1 : 1);
}

static void test_rcpts(void **state)
{
	struct tstate *t = *state;
	static uint64_t h[INCIDENT_RCPTS_CHUNK * 2 + 3];
	const uint64_t other[] = { 0, UINT64_MAX, 42 };
	struct u64map set;
	MDB_txn *txn;
	size_t i, pos = 0;
	uint64_t key;
	int64_t val;

	u64map_init(&set);
	for (i = 0; i < sizeof(h) / sizeof(h[0]); i++)
		h[i] = 0x9e3779b97f4a7c15ULL * (i + 1);
	assert_int_equal(state_begin(t->st, true, &txn), 0);
	assert_int_equal(incident_rcpts_foreach(t->st, txn, 7, rcpts_gather,
						&set), 0);
	assert_int_equal(u64map_size(&set), 0);
	assert_int_equal(incident_rcpts_add(t->st, txn, 6, other, 3), 0);
	assert_int_equal(incident_rcpts_add(t->st, txn, 8, other, 3), 0);
	/* three chunks, then the first ones written again (a commit tried
	   again), then three more hashes */
	assert_int_equal(incident_rcpts_add(t->st, txn, 7, h,
					    INCIDENT_RCPTS_CHUNK * 2 + 1), 0);
	assert_int_equal(incident_rcpts_add(t->st, txn, 7, h,
					    INCIDENT_RCPTS_CHUNK * 2 + 1), 0);
	assert_int_equal(incident_rcpts_add(t->st, txn, 7,
					    h + INCIDENT_RCPTS_CHUNK * 2 + 1,
					    2), 0);
	assert_int_equal(incident_rcpts_foreach(t->st, txn, 7, rcpts_gather,
						&set), 0);
	assert_int_equal(u64map_size(&set), sizeof(h) / sizeof(h[0]));
	while (u64map_next(&set, &pos, &key, &val))
		assert_int_equal(val, 1);	/* each hash once */
	for (i = 0; i < sizeof(h) / sizeof(h[0]); i++)
		assert_non_null(u64map_get(&set, h[i]));
	assert_null(u64map_get(&set, 42));

	assert_int_equal(incident_rcpts_del(t->st, txn, 7), 0);
	u64map_clear(&set);
	assert_int_equal(incident_rcpts_foreach(t->st, txn, 7, rcpts_gather,
						&set), 0);
	assert_int_equal(u64map_size(&set), 0);
	assert_int_equal(incident_rcpts_foreach(t->st, txn, 6, rcpts_gather,
						&set), 0);
	assert_int_equal(u64map_size(&set), 3);
	assert_non_null(u64map_get(&set, UINT64_MAX));
	/* the table's last incident, and one it does not have */
	assert_int_equal(incident_rcpts_del(t->st, txn, 8), 0);
	assert_int_equal(incident_rcpts_del(t->st, txn, 9), 0);
	u64map_clear(&set);
	assert_int_equal(incident_rcpts_foreach(t->st, txn, 8, rcpts_gather,
						&set), 0);
	assert_int_equal(u64map_size(&set), 0);
	assert_int_equal(incident_rcpts_foreach(t->st, txn, 6, rcpts_gather,
						&set), 0);
	assert_int_equal(u64map_size(&set), 3);
	state_abort(txn);
	u64map_clear(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_incidents, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_held_ids, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_held_del_same, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rcpts, setup, teardown),
		cmocka_unit_test(test_codecs),
		cmocka_unit_test(test_held_written),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
