/*
 * test_batch.c - the batch of one commit: deliveries kept compact (their
 * times only, those in a row in one node) among whole events in arrival
 * order, the counts per address the commit's short cuts rely on, and
 * the addresses handed out in byte order however many there are,
 * events held back and looked up in groups without changing the order
 * of anything (with each address's slot asked for ahead: batch_prefetch),
 * what a suppression makes of the events held back after it, and a held
 * bounce linked at once; arena blocks made ready elsewhere
 * (batch_set_blocks) taken, used, kept for the next batch and freed with
 * it; the provider ids of an event kept whole or not at all; a held
 * bounce's release linked to its address without a second copy.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>

#include "batch.h"

#define T0 1793491200

/* ev - an event of class K for ADDR at T */
static struct event ev(const char *addr, enum event_class k, int64_t t)
{
	struct event e;

	memset(&e, 0, sizeof(e));
	e.kind = k == CLASS_DELIVERY ? EV_DELIVERY : EV_BOUNCE;
	e.klass = k;
	e.time = t;
	e.rcpt = addr;
	e.type_text = k == CLASS_DELIVERY ? "d" : "b";
	e.source = "acct.csv";
	e.line = 7;
	if (k != CLASS_DELIVERY) {
		e.bounce_cat = "quota-issues";
		e.dsn_status = "4.2.2";
		e.orig = "bounces@example.com";
		e.job_id = "job-1";
	}
	return e;
}

/* only - the one recipient of B */
static struct batch_rcpt *only(struct batch *b)
{
	struct batch_rcpt **arr;
	size_t n;

	assert_int_equal(batch_sorted(b, &arr, &n), 0);
	assert_int_equal(n, 1);
	return arr[0];
}

static void test_deliveries_compact(void **state)
{
	struct batch *b = batch_new();
	struct event e;
	struct batch_rcpt *br;
	const struct batch_event *be;
	int i;

	(void)state;
	assert_non_null(b);
	for (i = 0; i < 3; i++) {
		e = ev("a@example.com", CLASS_DELIVERY, T0 + i);
		assert_int_equal(batch_add(b, &e), 0);
	}
	e = ev("a@example.com", CLASS_SOFT, T0 + 10);
	assert_int_equal(batch_add(b, &e), 0);
	e = ev("a@example.com", CLASS_DELIVERY, T0 + 20);
	assert_int_equal(batch_add(b, &e), 0);
	assert_int_equal(batch_events(b), 5);
	br = only(b);
	assert_string_equal(br->addr, "a@example.com");
	assert_int_equal(br->n_dlv, 4);
	assert_int_equal(br->n_full, 1);
	/* arrival order kept, deliveries compact with their times: the
	   three in a row in one node */
	be = batch_rcpt_events(br);
	assert_true(be->dlv);
	assert_int_equal(be->n_dlv, 3);
	for (i = 0; i < 3; i++)
		assert_int_equal(be->dlv_times[i], T0 + i);
	be = be->next;
	assert_false(be->dlv);
	assert_int_equal(be->ev.klass, CLASS_SOFT);
	assert_string_equal(be->ev.bounce_cat, "quota-issues");
	assert_int_equal(be->ev.time, T0 + 10);
	be = be->next;
	assert_true(be->dlv);
	assert_int_equal(be->n_dlv, 1);
	assert_int_equal(be->dlv_times[0], T0 + 20);
	assert_null(be->next);
	batch_clear(b);
	assert_int_equal(batch_events(b), 0);
	batch_free(b);
}

static void test_suppressed_deliveries_counted(void **state)
{
	struct batch *b = batch_new();
	struct event e;
	struct batch_rcpt *br;

	(void)state;
	e = ev("h@example.com", CLASS_DELIVERY, T0);
	assert_int_equal(batch_add(b, &e), 0);
	e = ev("h@example.com", CLASS_HARD, T0 + 1);
	assert_int_equal(batch_add(b, &e), 0);
	e = ev("h@example.com", CLASS_DELIVERY, T0 + 2);
	assert_int_equal(batch_add(b, &e), 0);
	br = only(b);
	/* after the hard bounce, a delivery is a count of the address */
	assert_true(br->suppressed);
	assert_int_equal(br->n_dlv, 1);
	assert_int_equal(br->n_full, 1);
	assert_int_equal(br->dups->delivery, 1);
	assert_int_equal(br->dups->last_delivery, T0 + 2);
	assert_true(batch_rcpt_events(br)->dlv);
	assert_false(br->head->next->dlv);
	assert_null(br->head->next->next);
	batch_free(b);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_sorted_many(void **state)
{
	enum { N = 20000 };
	struct batch *b = batch_new();
	struct batch_rcpt **arr;
	char **want = calloc(N, sizeof(*want));
	uint64_t x = 88172645463325252ULL;
	size_t n, i;
	int round;

	(void)state;
	assert_non_null(want);
	for (round = 0; round < 2; round++) {
		for (i = 0; i < N; i++) {
			struct event e;
			char buf[64];

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			/* shared prefixes of 16 bytes and more, and short
			   addresses, beside random ones */
			if (i % 3 == 0)
				snprintf(buf, sizeof(buf),
					 "samefirstsixteen%llu@x.org",
					 (unsigned long long)(x % 100000));
			else if (i % 3 == 1)
				snprintf(buf, sizeof(buf), "%c@y.de",
					 'a' + (int)(x % 26));
			else
				snprintf(buf, sizeof(buf), "u%llx@example.com",
					 (unsigned long long)x);
			free(want[i]);
			want[i] = strdup(buf);
			e = ev(want[i], i % 2 ? CLASS_DELIVERY : CLASS_SOFT,
			       T0 + (int64_t)i);
			if (!(i % 2)) {
				/* as the ingest core asks, with the table
				   growing under it */
				batch_prefetch(b, want[i]);
			}
			assert_int_equal(batch_add(b, &e), 0);
		}
		qsort(want, N, sizeof(*want), cmp_str);
		assert_int_equal(batch_sorted(b, &arr, &n), 0);
		/* each distinct address once, in byte order */
		for (i = 1; i < n; i++)
			assert_true(strcmp(arr[i - 1]->addr, arr[i]->addr) < 0);
		{
			size_t j = 0, k;

			for (k = 0; k < N; k++)
				if (k == 0 || strcmp(want[k - 1], want[k]) != 0)
					assert_string_equal(arr[j++]->addr,
							    want[k]);
			assert_int_equal(j, n);
		}
		batch_clear(b);	/* the second round reuses the memory */
	}
	for (i = 0; i < N; i++)
		free(want[i]);
	free(want);
	batch_free(b);
}

/* a block source that hands out READY blocks, then none */
struct blocks {
	struct batch_block *given[4];
	unsigned ready, n_given, calls;
};

static struct batch_block *give_block(void *arg)
{
	struct blocks *x = arg;

	x->calls++;
	if (x->n_given == x->ready)
		return NULL;
	x->given[x->n_given] = batch_block_ready();
	assert_non_null(x->given[x->n_given]);
	return x->given[x->n_given++];
}

/* in_given - is P inside one of the blocks X gave? */
static int in_given(const struct blocks *x, const void *p)
{
	unsigned i;

	for (i = 0; i < x->n_given; i++)
		if ((const char *)p > (const char *)x->given[i] &&
		    (const char *)p < (const char *)x->given[i] + (2u << 20))
			return 1;
	return 0;
}

/* deliveries are held back and looked up a few at a time: whatever falls
   between (a bounce of the same address, one that suppresses it, the end
   of the batch), each address's events stay in reading order, counted
   once, and a delivery after a suppression is a count */
static void test_held_back_deliveries_in_order(void **state)
{
	struct batch *b = batch_new();
	char addrs[5][32];
	/* per address: the kinds added, in order ('d', 's' soft, 'h' hard) */
	char want[5][64];
	size_t nwant[5] = { 0 }, i, n, k;
	struct batch_rcpt **arr;
	int64_t t = T0;

	(void)state;
	assert_non_null(b);
	for (i = 0; i < 5; i++)
		snprintf(addrs[i], sizeof(addrs[i]), "user%zu@example.com", i);
	/* 53 records: addresses round robin, a soft bounce of address 1
	   every 7th, a hard bounce of address 3 at record 33 */
	for (n = 0; n < 53; n++) {
		size_t a = n % 5;
		struct event e;
		char kind = 'd';

		if (a == 1 && n % 7 == 1)
			kind = 's';
		if (n == 33)
			kind = 'h';
		e = ev(addrs[a], kind == 'd' ? CLASS_DELIVERY :
				 kind == 's' ? CLASS_SOFT : CLASS_HARD, ++t);
		assert_int_equal(batch_add(b, &e), 0);
		want[a][nwant[a]++] = kind;
		assert_int_equal(batch_events(b), n + 1);
	}
	assert_int_equal(batch_sorted(b, &arr, &n), 0);
	assert_int_equal(n, 5);
	for (i = 0; i < n; i++) {
		struct batch_rcpt *br = arr[i];
		const struct batch_event *be;
		size_t a = (size_t)(br->addr[4] - '0'), got = 0, dups = 0;
		int64_t last = 0;

		assert_string_equal(br->addr, addrs[a]);
		for (be = batch_rcpt_events(br); be; be = be->next) {
			unsigned cnt = be->dlv ? be->n_dlv : 1, j;

			assert_true(cnt >= 1 && cnt <= BATCH_DLV_CHUNK);
			for (j = 0; j < cnt; j++) {
				int64_t bt = be->dlv ? be->dlv_times[j] :
						       be->ev.time;

				assert_true(got < nwant[a]);
				assert_true(bt > last);	/* reading order */
				last = bt;
				assert_int_equal(be->dlv, want[a][got] == 'd');
				if (!be->dlv)
					assert_int_equal(be->ev.klass,
							 want[a][got] == 's' ?
								 CLASS_SOFT :
								 CLASS_HARD);
				got++;
			}
			if (!be->dlv && be->ev.klass == CLASS_HARD)
				break;
		}
		/* after the hard bounce of address 3: counts only */
		for (k = got; k < nwant[a]; k++)
			dups++;
		if (a == 3) {
			assert_true(br->suppressed);
			assert_non_null(br->dups);
			assert_int_equal(br->dups->delivery, dups);
			assert_true(dups > 0);
		} else {
			assert_int_equal(got, nwant[a]);
			assert_null(br->dups);
		}
	}
	batch_clear(b);
	assert_int_equal(batch_events(b), 0);
	/* a batch cleared with deliveries held back forgets them too */
	for (n = 0; n < 3; n++) {
		struct event e = ev(addrs[0], CLASS_DELIVERY, ++t);

		assert_int_equal(batch_add(b, &e), 0);
	}
	batch_clear(b);
	assert_int_equal(batch_sorted(b, &arr, &n), 0);
	assert_int_equal(n, 0);
	batch_free(b);
}

static void test_ready_blocks(void **state)
{
	enum { N = 60000 };	/* some 20 MB of arena: about ten blocks */
	struct batch *b = batch_new();
	struct blocks x = { .ready = 2 };
	struct batch_rcpt **arr;
	unsigned calls_first;
	size_t n, i, inside;
	int round;

	(void)state;
	assert_non_null(b);
	batch_set_blocks(b, give_block, &x);
	for (round = 0; round < 2; round++) {
		for (i = 0; i < N; i++) {
			char addr[48];
			struct event e;

			snprintf(addr, sizeof(addr), "user%zu@example.org", i);
			e = ev(addr, CLASS_SOFT, T0 + (int64_t)i);
			assert_int_equal(batch_add(b, &e), 0);
		}
		assert_int_equal(batch_sorted(b, &arr, &n), 0);
		assert_int_equal(n, N);
		for (i = inside = 0; i < n; i++) {
			assert_int_equal(strncmp(arr[i]->addr, "user", 4), 0);
			inside += (size_t)in_given(&x, arr[i]->addr);
		}
		/* both ready blocks were taken and hold entries; the batch
		   made the rest itself */
		assert_int_equal(x.n_given, 2);
		assert_true(x.calls > 2);
		assert_true(inside > 0 && inside < N);
		if (round == 0)
			calls_first = x.calls;
		batch_clear(b);
	}
	/* the second batch ran on the blocks the first one left */
	assert_int_equal(x.calls, calls_first);
	batch_free(b);	/* frees the given blocks too (ASan checks) */
}

/* a provider id is kept whole or not at all: the lists of an
   X-Mailer-LID as long as a header line holds, a MailWizz uid that does
   not fit is dropped, never cut into another id */
static void test_ids_whole(void **state)
{
	struct batch *b = batch_new();
	GString *lids = g_string_new(NULL);
	struct event_extra x;
	struct event e;
	const struct batch_event *be;
	unsigned i;

	(void)state;
	assert_non_null(b);
	for (i = 0; i < 197; i++)
		g_string_append_printf(lids, "%s%u", i ? "," : "", 1000 + i);
	assert_int_equal(lids->len, EVENT_IEM_LIDS_SIZE - 1);
	memset(&x, 0, sizeof(x));
	x.iem_list_id = lids->str;
	x.iem_subscriber_id = "48213";
	x.mw_subscriber_uid = "zz123cd456ef7";
	e = ev("a@example.com", CLASS_HARD, T0);
	e.x = &x;
	assert_int_equal(batch_add(b, &e), 0);
	be = batch_last(b);
	assert_non_null(be);
	assert_string_equal(be->ev.x->iem_list_id, lids->str);
	assert_string_equal(be->ev.x->iem_subscriber_id, "48213");
	assert_string_equal(be->ev.x->mw_subscriber_uid, "zz123cd456ef7");
	/* one character more than fits */
	g_string_append_c(lids, '4');
	x.iem_list_id = lids->str;
	x.mw_subscriber_uid = "zz123cd456ef7zz123cd456ef7zz123cd456ef7"
			      "zz123cd456ef7zz123cd456ef7";
	e = ev("b@example.com", CLASS_HARD, T0);
	e.x = &x;
	assert_int_equal(batch_add(b, &e), 0);
	be = batch_last(b);
	assert_non_null(be);
	assert_null(be->ev.x->iem_list_id);
	assert_null(be->ev.x->mw_subscriber_uid);
	assert_string_equal(be->ev.x->iem_subscriber_id, "48213");
	g_string_free(lids, TRUE);
	batch_free(b);
}

/* whole events are held back with deliveries and looked up together:
   what the first of them (a hard bounce) makes of the address holds for
   those held back after it (a bounce of the same campaign counted only,
   with its category; one of another campaign kept); a held bounce is
   linked at once, after them; batch_last looks a held-back event up */
static void test_whole_events_held_back(void **state)
{
	struct batch *b = batch_new();
	const struct batch_event *be, *last;
	struct batch_rcpt **arr, *br;
	struct event e;
	size_t n;

	(void)state;
	assert_non_null(b);
	e = ev("a@example.com", CLASS_HARD, T0);
	assert_int_equal(batch_add(b, &e), 0);
	e = ev("b@example.com", CLASS_SOFT, T0 + 1);
	assert_int_equal(batch_add(b, &e), 0);
	/* the same campaign: a count */
	e = ev("a@example.com", CLASS_SOFT, T0 + 2);
	e.bounce_cat = "bad-mailbox";
	assert_int_equal(batch_add(b, &e), 0);
	assert_null(batch_last(b));
	/* another campaign: kept, and looked up when asked for */
	e = ev("a@example.com", CLASS_SOFT, T0 + 3);
	e.job_id = "job-2";
	assert_int_equal(batch_add(b, &e), 0);
	last = batch_last(b);
	assert_non_null(last);
	assert_string_equal(last->ev.rcpt, "a@example.com");
	assert_string_equal(last->ev.job_id, "job-2");
	e = ev("c@example.com", CLASS_DELIVERY, T0 + 4);
	assert_int_equal(batch_add(b, &e), 0);
	/* held: linked now, after everything before it */
	e = ev("b@example.com", CLASS_HARD, T0 + 5);
	e.held = 3;
	assert_int_equal(batch_add(b, &e), 0);
	be = batch_last(b);
	assert_non_null(be);
	assert_int_equal(be->ev.held, 3);
	assert_string_equal(be->ev.rcpt, "b@example.com");
	assert_int_equal(batch_events(b), 6);
	assert_int_equal(batch_sorted(b, &arr, &n), 0);
	assert_int_equal(n, 3);
	br = arr[0];
	assert_string_equal(br->addr, "a@example.com");
	assert_true(br->suppressed);
	assert_int_equal(br->n_full, 2);
	assert_non_null(br->dups);
	assert_int_equal(br->dups->soft, 1);
	assert_string_equal(br->dups->last_category, "bad-mailbox");
	assert_false(br->dups->category_last);	/* a bounce kept after it */
	be = batch_rcpt_events(br);
	assert_int_equal(be->ev.klass, CLASS_HARD);
	assert_ptr_equal(be->next, last);
	assert_null(be->next->next);
	br = arr[1];
	assert_string_equal(br->addr, "b@example.com");
	assert_false(br->suppressed);	/* a held bounce suppresses nothing */
	be = batch_rcpt_events(br);
	assert_int_equal(be->ev.klass, CLASS_SOFT);
	assert_int_equal(be->next->ev.held, 3);
	assert_null(be->next->next);
	assert_string_equal(arr[2]->addr, "c@example.com");
	assert_int_equal(arr[2]->n_dlv, 1);
	batch_free(b);
}

/* a release of a hold in the batch: linked after what came since, in
   arrival order with the address's other events (deliveries held back
   before it included), the held event's fields and strings as the batch
   keeps them, the monitor's marks its own; the address not counted
   twice, its other events untouched */
static void test_release_linked(void **state)
{
	struct batch *b = batch_new();
	const struct batch_event *held, *be;
	struct batch_rcpt **arr, *br;
	struct event e;
	size_t n;

	(void)state;
	assert_non_null(b);
	e = ev("a@example.com", CLASS_HARD, T0);
	e.held = 7;
	e.src_hash = 11;
	e.mon_gen = 1;
	e.dsn_diag = "smtp;550 5.7.1 blocked";
	assert_int_equal(batch_add(b, &e), 0);
	held = batch_last(b);
	assert_non_null(held);
	e = ev("b@example.com", CLASS_SOFT, T0 + 1);
	assert_int_equal(batch_add(b, &e), 0);
	/* a delivery to the held address, held back by the batch */
	e = ev("a@example.com", CLASS_DELIVERY, T0 + 2);
	assert_int_equal(batch_add(b, &e), 0);
	assert_int_equal(batch_add_release(b, held, 7, 12, 3), 0);
	assert_null(batch_last(b));
	e = ev("a@example.com", CLASS_SOFT, T0 + 4);
	assert_int_equal(batch_add(b, &e), 0);
	assert_int_equal(batch_events(b), 5);
	assert_int_equal(batch_addresses(b), 2);
	assert_int_equal(batch_sorted(b, &arr, &n), 0);
	assert_int_equal(n, 2);
	br = arr[0];
	assert_string_equal(br->addr, "a@example.com");
	assert_int_equal(br->n_full, 3);
	assert_int_equal(br->n_dlv, 1);
	be = batch_rcpt_events(br);
	assert_ptr_equal(be, held);
	assert_int_equal(be->ev.held, 7);
	assert_int_equal(be->ev.released, 0);
	be = be->next;
	assert_true(be->dlv);
	assert_int_equal(be->dlv_times[0], T0 + 2);
	be = be->next;
	assert_false(be->dlv);
	assert_int_equal(be->ev.klass, CLASS_HARD);
	assert_int_equal(be->ev.time, T0);
	assert_int_equal(be->ev.held, 0);
	assert_int_equal(be->ev.released, 7);
	assert_int_equal(be->ev.src_hash, 12);
	assert_int_equal(be->ev.mon_gen, 3);
	assert_false(be->hold_unstored);
	assert_ptr_equal(be->ev.rcpt, br->addr);
	assert_ptr_equal(be->ev.dsn_diag, held->ev.dsn_diag);
	assert_string_equal(be->ev.dsn_diag, "smtp;550 5.7.1 blocked");
	assert_string_equal(be->ev.bounce_cat, "quota-issues");
	be = be->next;
	assert_int_equal(be->ev.klass, CLASS_SOFT);
	assert_int_equal(be->ev.time, T0 + 4);
	assert_null(be->next);
	assert_string_equal(arr[1]->addr, "b@example.com");
	assert_int_equal(arr[1]->n_full, 1);
	batch_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deliveries_compact),
		cmocka_unit_test(test_suppressed_deliveries_counted),
		cmocka_unit_test(test_sorted_many),
		cmocka_unit_test(test_held_back_deliveries_in_order),
		cmocka_unit_test(test_ready_blocks),
		cmocka_unit_test(test_ids_whole),
		cmocka_unit_test(test_whole_events_held_back),
		cmocka_unit_test(test_release_linked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
