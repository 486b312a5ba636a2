/*
 * test_rcpt_codec.c - the rcpt and file_rec codecs: round trips of empty
 * and fully filled records, and refusal of every truncated, corrupted or
 * foreign encoding; status names; UTF-8 aware rcpt_set_str.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rcpt.h"

/* fill_str - FIELD filled to its capacity with a varying printable run */
static void fill_str(char *field, size_t size, unsigned seed)
{
	size_t i;

	for (i = 0; i + 1 < size; i++)
		field[i] = (char)('!' + (seed + i) % 94);
	field[size - 1] = '\0';
}

#define FILL(field, seed) fill_str((field), sizeof(field), (seed))

static void fill_reason(struct rcpt_reason *rs, unsigned seed)
{
	rs->time = -1234567890123LL - seed;
	rs->kind = (uint8_t)(200 + seed);
	rs->line = UINT64_MAX - seed;
	FILL(rs->source, seed + 1);
	FILL(rs->category, seed + 2);
	FILL(rs->dsn_status, seed + 3);
	FILL(rs->dsn_diag, seed + 4);
	FILL(rs->orig, seed + 5);
	FILL(rs->vmta, seed + 6);
	FILL(rs->job_id, seed + 7);
}

/* fill_max - every field set, every string and array at its maximum */
static void fill_max(struct rcpt *r)
{
	unsigned i;

	rcpt_init(r);
	r->status = RCPT_UNSUBSCRIBED;
	r->escalated = true;
	r->status_time = INT64_MAX;
	r->updated = INT64_MIN;
	r->first_seen = 1700000000;
	r->n_soft = RCPT_SOFT_MAX;
	for (i = 0; i < RCPT_SOFT_MAX; i++) {
		r->soft_times[i] = 1700000000 + (int64_t)i * 86400;
		r->soft_src[i] = 0xFFFFFFF0u + (uint32_t)(i % 16);
		r->soft_async[i] = i % 3 == 0 || i == RCPT_SOFT_MAX - 1;
	}
	r->last_delivery = INT64_MAX - 2;
	r->held = UINT64_MAX - 3;
	r->cnt_hard = 1;
	r->cnt_soft = 0xFFFFFFFFu;
	r->cnt_complaint = 3;
	r->cnt_unsub = 0x01020304u;
	r->cnt_delivery = 5;
	r->cnt_duplicate = 6;
	r->cnt_other = 7;
	FILL(r->last_category, 9);
	fill_reason(&r->reason, 10);
	fill_reason(&r->last_soft, 20);
	r->n_actions = RCPT_ACTIONS_MAX;
	for (i = 0; i < RCPT_ACTIONS_MAX; i++) {
		FILL(r->actions[i].provider, 30 + i);
		r->actions[i].op = (uint8_t)(OP_UNSUBSCRIBE + i % 3);
		r->actions[i].state = (uint8_t)(i % 4);
		r->actions[i].time = -(int64_t)i;
		r->actions[i].root = UINT64_MAX - i;
		r->actions[i].outstanding = 0xFFFFFFF0u + i;
		FILL(r->actions[i].campaign_id, 40 + i);
		r->actions[i].flags = (uint8_t)(0xf0 + i);
	}
	r->notice_time = INT64_MAX - 1;
	FILL(r->notice, 60);
	r->n_dropped = RCPT_DROPPED_MAX;
	for (i = 0; i < RCPT_DROPPED_MAX; i++) {
		r->dropped[i].incident = UINT64_MAX - i;
		r->dropped[i].src = 0xFFFFFFFFu - i;
		r->dropped[i].from = INT64_MAX - 86400 * (int64_t)(i + 1);
		r->dropped[i].to = INT64_MAX - (int64_t)i;
	}
}

static void assert_reason_equal(const struct rcpt_reason *a,
				const struct rcpt_reason *b)
{
	assert_int_equal(a->time, b->time);
	assert_int_equal(a->kind, b->kind);
	assert_true(a->line == b->line);
	assert_string_equal(a->source, b->source);
	assert_string_equal(a->category, b->category);
	assert_string_equal(a->dsn_status, b->dsn_status);
	assert_string_equal(a->dsn_diag, b->dsn_diag);
	assert_string_equal(a->orig, b->orig);
	assert_string_equal(a->vmta, b->vmta);
	assert_string_equal(a->job_id, b->job_id);
}

static void assert_rcpt_equal(const struct rcpt *a, const struct rcpt *b)
{
	uint32_t i;

	assert_int_equal(a->status, b->status);
	assert_int_equal(a->escalated, b->escalated);
	assert_true(a->status_time == b->status_time);
	assert_true(a->updated == b->updated);
	assert_true(a->first_seen == b->first_seen);
	assert_int_equal(a->n_soft, b->n_soft);
	for (i = 0; i < a->n_soft; i++) {
		assert_true(a->soft_times[i] == b->soft_times[i]);
		assert_int_equal(a->soft_src[i], b->soft_src[i]);
		assert_int_equal(a->soft_async[i], b->soft_async[i]);
	}
	assert_true(a->last_delivery == b->last_delivery);
	assert_true(a->held == b->held);
	assert_int_equal(a->cnt_hard, b->cnt_hard);
	assert_int_equal(a->cnt_soft, b->cnt_soft);
	assert_int_equal(a->cnt_complaint, b->cnt_complaint);
	assert_int_equal(a->cnt_unsub, b->cnt_unsub);
	assert_int_equal(a->cnt_delivery, b->cnt_delivery);
	assert_int_equal(a->cnt_duplicate, b->cnt_duplicate);
	assert_int_equal(a->cnt_other, b->cnt_other);
	assert_string_equal(a->last_category, b->last_category);
	assert_reason_equal(&a->reason, &b->reason);
	assert_reason_equal(&a->last_soft, &b->last_soft);
	assert_int_equal(a->n_actions, b->n_actions);
	for (i = 0; i < a->n_actions; i++) {
		assert_string_equal(a->actions[i].provider,
				    b->actions[i].provider);
		assert_int_equal(a->actions[i].op, b->actions[i].op);
		assert_int_equal(a->actions[i].state, b->actions[i].state);
		assert_true(a->actions[i].time == b->actions[i].time);
		assert_true(a->actions[i].root == b->actions[i].root);
		assert_int_equal(a->actions[i].outstanding,
				 b->actions[i].outstanding);
		assert_string_equal(a->actions[i].campaign_id,
				    b->actions[i].campaign_id);
		assert_int_equal(a->actions[i].flags, b->actions[i].flags);
	}
	assert_true(a->notice_time == b->notice_time);
	assert_string_equal(a->notice, b->notice);
	assert_int_equal(a->n_dropped, b->n_dropped);
	for (i = 0; i < a->n_dropped; i++) {
		assert_true(a->dropped[i].incident == b->dropped[i].incident);
		assert_int_equal(a->dropped[i].src, b->dropped[i].src);
		assert_true(a->dropped[i].from == b->dropped[i].from);
		assert_true(a->dropped[i].to == b->dropped[i].to);
	}
}

/* encode_max - the max-filled record, encoded */
static size_t encode_max(uint8_t *buf, size_t cap)
{
	struct rcpt r;
	size_t len = 0;

	fill_max(&r);
	assert_int_equal(rcpt_encode(&r, buf, cap, &len), 0);
	return len;
}

static void test_roundtrip_empty(void **state)
{
	uint8_t buf[RCPT_ENCODED_MAX];
	struct rcpt a, b;
	size_t len = 0;

	(void)state;
	rcpt_init(&a);
	assert_int_equal(a.status, RCPT_ACTIVE);
	assert_int_equal(rcpt_encode(&a, buf, sizeof(buf), &len), 0);
	assert_int_equal(buf[0], RCPT_CODEC_VERSION);
	/* version, head byte, 4 times and 7 counters of one byte each, the
	   soft count, an empty category, no reasons, the action count, no
	   notice, the holding incident */
	assert_int_equal(len, 1 + 1 + 4 + 7 + 1 + 1 + 1 + 1);
	memset(&b, 0x5a, sizeof(b));
	assert_int_equal(rcpt_decode(buf, len, &b), 0);
	assert_rcpt_equal(&a, &b);
	assert_memory_equal(&a, &b, sizeof(a));

	/* version 3: fixed part + 3 counts + 1 + 2 * 7 strings' lengths,
	   all empty; the notice's time and length; no soft sources, the
	   last delivery and the holding incident */
	assert_int_equal(rcpt_encode_v3(&a, buf, sizeof(buf), &len), 0);
	assert_int_equal(buf[0], 3);
	assert_int_equal(len, 1 + 2 + 24 + 28 + 1 + 2 + 2 * (17 + 14) + 1 +
			 8 + 2 + 8 + 8);
	memset(&b, 0x5a, sizeof(b));
	assert_int_equal(rcpt_decode(buf, len, &b), 0);
	assert_rcpt_equal(&a, &b);
	assert_memory_equal(&a, &b, sizeof(a));
}

static void test_roundtrip_max(void **state)
{
	uint8_t buf[RCPT_ENCODED_MAX];
	struct rcpt a, b;
	size_t len;

	(void)state;
	fill_max(&a);
	len = encode_max(buf, sizeof(buf));
	/* the largest record there is: within the bound callers size their
	   buffers with (5273 bytes in this layout: 16 actions, a notice,
	   32 soft bounces with their sources and the bitmap of the
	   asynchronous ones, 4 spans of held bounces dropped; 5459 in
	   version 3, which has no spans) */
	assert_int_equal(len, 5273);
	assert_true(len <= RCPT_ENCODED_MAX);
	assert_int_equal(rcpt_decode(buf, len, &b), 0);
	assert_rcpt_equal(&a, &b);
	assert_memory_equal(&a, &b, sizeof(a));
}

static void test_little_endian_layout(void **state)
{
	uint8_t buf[RCPT_ENCODED_MAX];
	struct rcpt r;
	size_t len;

	(void)state;
	rcpt_init(&r);
	r.status = RCPT_HARD;
	r.escalated = true;
	r.status_time = 0x0102030405060708LL;
	r.cnt_hard = 0x0a0b0c0d;
	assert_int_equal(rcpt_encode_v3(&r, buf, sizeof(buf), &len), 0);
	assert_int_equal(buf[1], RCPT_HARD);
	assert_int_equal(buf[2], 1);
	assert_int_equal(buf[3], 0x08);
	assert_int_equal(buf[10], 0x01);
	assert_int_equal(buf[27], 0x0d);
	assert_int_equal(buf[30], 0x0a);
}

static void test_encode_short_buffer(void **state)
{
	uint8_t buf[RCPT_ENCODED_MAX], small[RCPT_ENCODED_MAX];
	struct rcpt r;
	size_t len, cap, got;

	(void)state;
	len = encode_max(buf, sizeof(buf));
	fill_max(&r);
	for (cap = 0; cap < len; cap++)
		assert_int_equal(rcpt_encode(&r, small, cap, &got), -ENOBUFS);
	assert_int_equal(rcpt_encode(&r, small, len, &got), 0);
	assert_int_equal(got, len);
	assert_memory_equal(small, buf, len);
}

static void test_encode_refuses_bad_record(void **state)
{
	uint8_t buf[RCPT_ENCODED_MAX];
	struct rcpt r;
	size_t len;

	(void)state;
	rcpt_init(&r);
	r.status = RCPT_STATUS_COUNT;
	assert_int_equal(rcpt_encode(&r, buf, sizeof(buf), &len), -EINVAL);
	rcpt_init(&r);
	r.n_soft = RCPT_SOFT_MAX + 1;
	assert_int_equal(rcpt_encode(&r, buf, sizeof(buf), &len), -EINVAL);
	rcpt_init(&r);
	r.n_actions = RCPT_ACTIONS_MAX + 1;
	assert_int_equal(rcpt_encode(&r, buf, sizeof(buf), &len), -EINVAL);
	rcpt_init(&r);
	r.n_actions = 1;
	r.actions[0].state = ACTION_DRYRUN + 1;
	assert_int_equal(rcpt_encode(&r, buf, sizeof(buf), &len), -EINVAL);
	/* held bounces dropped: too many, of no source, ending before they
	   begin */
	rcpt_init(&r);
	r.n_dropped = RCPT_DROPPED_MAX + 1;
	assert_int_equal(rcpt_encode(&r, buf, sizeof(buf), &len), -EINVAL);
	rcpt_init(&r);
	r.n_dropped = 1;
	r.dropped[0].from = r.dropped[0].to = 5;
	assert_int_equal(rcpt_encode(&r, buf, sizeof(buf), &len), -EINVAL);
	r.dropped[0].src = 7;
	assert_int_equal(rcpt_encode(&r, buf, sizeof(buf), &len), 0);
	r.dropped[0].to = 4;
	assert_int_equal(rcpt_encode(&r, buf, sizeof(buf), &len), -EINVAL);
}

static void test_encode_unterminated_string(void **state)
{
	uint8_t buf[RCPT_ENCODED_MAX];
	struct rcpt r, d;
	size_t len;

	(void)state;
	rcpt_init(&r);
	memset(r.last_category, 'x', sizeof(r.last_category)); /* no NUL */
	assert_int_equal(rcpt_encode(&r, buf, sizeof(buf), &len), 0);
	assert_int_equal(rcpt_decode(buf, len, &d), 0);
	assert_int_equal(strlen(d.last_category), sizeof(d.last_category) - 1);
}

static void test_wrong_version(void **state)
{
	static const uint8_t versions[] = { 0, RCPT_CODEC_LATEST + 1, 0xff };
	uint8_t buf[RCPT_ENCODED_MAX];
	struct rcpt r;
	size_t len, i;

	(void)state;
	len = encode_max(buf, sizeof(buf));
	for (i = 0; i < sizeof(versions); i++) {
		buf[0] = versions[i];
		assert_int_equal(rcpt_decode(buf, len, &r), -EPROTO);
		assert_int_equal(r.status, RCPT_ACTIVE);
	}
}

static void test_every_truncation(void **state)
{
	uint8_t buf[RCPT_ENCODED_MAX];
	struct rcpt r;
	size_t len, n;

	(void)state;
	len = encode_max(buf, sizeof(buf));
	for (n = 0; n < len; n++) {
		assert_int_equal(rcpt_decode(buf, n, &r), -EINVAL);
		/* a failed decode leaves an empty record, nothing half done */
		assert_int_equal(r.n_soft, 0);
		assert_string_equal(r.last_category, "");
	}
	assert_int_equal(rcpt_decode(buf, len, &r), 0);
}

static void test_trailing_garbage(void **state)
{
	uint8_t buf[RCPT_ENCODED_MAX + 1];
	struct rcpt r;
	size_t len;

	(void)state;
	len = encode_max(buf, RCPT_ENCODED_MAX);
	buf[len] = 0;
	assert_int_equal(rcpt_decode(buf, len + 1, &r), -EINVAL);
}

/* offsets in an encoding of a record with N_SOFT soft times */
#define OFF_NSOFT 55
#define OFF_CATEGORY(n_soft) (OFF_NSOFT + 1 + 8 * (n_soft))

static void test_corrupt_fields(void **state)
{
	static const struct {
		size_t off;	/* from the start, for n_soft = 0 */
		uint8_t lo, hi;	/* new byte(s); hi written when off2 */
		int two;
	} cases[] = {
		{ 1, RCPT_STATUS_COUNT, 0, 0 },		/* status */
		{ 2, 2, 0, 0 },				/* escalated */
		{ OFF_NSOFT, RCPT_SOFT_MAX + 1, 0, 0 },	/* n_soft */
		{ OFF_NSOFT, 1, 0, 0 },			/* n_soft past data */
		{ OFF_CATEGORY(0), 0xff, 0xff, 1 },	/* past the end */
		{ OFF_CATEGORY(0), 64, 0, 1 },		/* dst too small */
		{ OFF_CATEGORY(0), 63, 0, 1 },		/* takes next fields */
		{ OFF_CATEGORY(0) + 2, 0, 0, 0 },	/* embedded NUL */
	};
	uint8_t buf[RCPT_ENCODED_MAX], work[RCPT_ENCODED_MAX];
	struct rcpt r;
	size_t len, i;

	(void)state;
	rcpt_init(&r);
	rcpt_set_str(r.last_category, sizeof(r.last_category), "bad-mailbox");
	rcpt_set_str(r.reason.source, sizeof(r.reason.source), "acct.csv");
	assert_int_equal(rcpt_encode_v3(&r, buf, sizeof(buf), &len), 0);
	assert_int_equal(buf[OFF_CATEGORY(0)], strlen("bad-mailbox"));
	assert_int_equal(rcpt_decode(buf, len, &r), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(work, buf, len);
		work[cases[i].off] = cases[i].lo;
		if (cases[i].two)
			work[cases[i].off + 1] = cases[i].hi;
		assert_int_equal(rcpt_decode(work, len, &r), -EINVAL);
	}
}

static void test_corrupt_actions(void **state)
{
	uint8_t buf[RCPT_ENCODED_MAX];
	struct rcpt r;
	size_t len, tail;

	(void)state;
	rcpt_init(&r);
	r.n_actions = 1;
	rcpt_set_str(r.actions[0].provider, sizeof(r.actions[0].provider),
		     "mw");
	r.actions[0].op = OP_BOUNCE;
	r.actions[0].state = ACTION_DONE;
	r.actions[0].root = 0x0102030405060708ULL;
	r.actions[0].outstanding = 3;
	rcpt_set_str(r.actions[0].campaign_id,
		     sizeof(r.actions[0].campaign_id), "cp1");
	assert_int_equal(rcpt_encode_v3(&r, buf, sizeof(buf), &len), 0);
	/* the action: u16 len, "mw", op, state, i64 time, u64 root,
	   u32 outstanding, u16 len, "cp1"; n before it; the (empty)
	   notice after it */
	tail = len - (2 + 2 + 1 + 1 + 8 + 8 + 4 + 2 + 3 + 1) - (8 + 2) -
	       (8 + 8);
	assert_int_equal(buf[tail - 1], 1);
	assert_int_equal(buf[tail + 14], 0x08);	/* root, little-endian */
	assert_int_equal(buf[tail + 21], 0x01);
	assert_int_equal(buf[tail + 22], 3);	/* outstanding */
	assert_int_equal(buf[tail + 26], 3);	/* campaign_id length */
	buf[tail - 1] = RCPT_ACTIONS_MAX + 1;
	assert_int_equal(rcpt_decode(buf, len, &r), -EINVAL);
	buf[tail - 1] = 1;
	buf[tail + 5] = ACTION_DRYRUN + 1;
	assert_int_equal(rcpt_decode(buf, len, &r), -EINVAL);
	buf[tail + 5] = ACTION_DONE;
	buf[tail + 26] = 64;			/* campaign_id too long */
	assert_int_equal(rcpt_decode(buf, len, &r), -EINVAL);
	buf[tail + 26] = 4;			/* past the end */
	assert_int_equal(rcpt_decode(buf, len, &r), -EINVAL);
	buf[tail + 26] = 2;			/* leaves a byte behind */
	assert_int_equal(rcpt_decode(buf, len, &r), -EINVAL);
	buf[tail + 26] = 3;
	assert_int_equal(rcpt_decode(buf, len, &r), 0);
	assert_string_equal(r.actions[0].provider, "mw");
	assert_true(r.actions[0].root == 0x0102030405060708ULL);
	assert_int_equal(r.actions[0].outstanding, 3);
	assert_string_equal(r.actions[0].campaign_id, "cp1");
}

/* test_version1 - a record written before notices existed is read */
static void test_version1(void **state)
{
	uint8_t buf[RCPT_ENCODED_MAX];
	struct rcpt a, b;
	size_t len;

	(void)state;
	fill_max(&a);
	a.notice_time = 0;
	a.notice[0] = '\0';
	a.n_actions = 1;
	a.actions[0].flags = 0;		/* version 1 has none */
	assert_int_equal(rcpt_encode_v3(&a, buf, sizeof(buf), &len), 0);
	/* version 1: no flags byte after the action, no notice, nothing of
	   version 3 (soft sources, last delivery, holding incident) */
	memset(a.soft_src, 0, sizeof(a.soft_src));
	memset(a.soft_async, 0, sizeof(a.soft_async));
	a.last_delivery = 0;
	a.held = 0;
	memset(a.dropped, 0, sizeof(a.dropped));
	a.n_dropped = 0;
	buf[0] = 1;
	assert_int_equal(rcpt_decode(buf, len - 11 - 4 * a.n_soft - 16, &b),
			 0);
	assert_rcpt_equal(&a, &b);
	/* version 1 stops after the actions */
	assert_int_equal(rcpt_decode(buf, len, &b), -EINVAL);
}

/* test_version2 - a record written before incidents existed is read */
static void test_version2(void **state)
{
	uint8_t buf[RCPT_ENCODED_MAX];
	struct rcpt a, b;
	size_t len;

	(void)state;
	fill_max(&a);
	assert_int_equal(rcpt_encode_v3(&a, buf, sizeof(buf), &len), 0);
	memset(a.soft_src, 0, sizeof(a.soft_src));
	memset(a.soft_async, 0, sizeof(a.soft_async));
	a.last_delivery = 0;
	a.held = 0;
	memset(a.dropped, 0, sizeof(a.dropped));
	a.n_dropped = 0;
	buf[0] = 2;
	assert_int_equal(rcpt_decode(buf, len - 4 * a.n_soft - 16, &b), 0);
	assert_rcpt_equal(&a, &b);
	/* version 2 stops after the notice */
	assert_int_equal(rcpt_decode(buf, len, &b), -EINVAL);
	/* a version from the future is refused as such */
	buf[0] = RCPT_CODEC_LATEST + 1;
	assert_int_equal(rcpt_decode(buf, len, &b), -EPROTO);
}

/* test_version3 - a record in the fixed-width layout reads as the same
   record in the compact one, for the full record and for typical ones */
static void test_version3(void **state)
{
	uint8_t b3[RCPT_ENCODED_MAX], b4[RCPT_ENCODED_MAX];
	struct rcpt a, from3, from4;
	size_t l3, l4;
	int k;

	(void)state;
	for (k = 0; k < 3; k++) {
		if (k == 0) {
			fill_max(&a);
			/* version 3 has no asynchronous bounces, nor held
			   bounces dropped */
			memset(a.soft_async, 0, sizeof(a.soft_async));
			memset(a.dropped, 0, sizeof(a.dropped));
			a.n_dropped = 0;
		} else {
			rcpt_init(&a);
			a.status = k == 1 ? RCPT_HARD : RCPT_SOFT;
			a.updated = 1780000000 + k;
			a.status_time = a.updated - 3600;
			a.first_seen = a.updated - 86400 * 9;
			a.cnt_hard = 1;
			a.cnt_soft = 2;
			a.n_soft = 2;
			a.soft_times[0] = a.updated - 7200;
			a.soft_times[1] = a.updated;
			a.soft_src[0] = 0x9e3779b9u;
			rcpt_set_str(a.last_category, sizeof(a.last_category),
				     "bad-mailbox");
			a.reason.time = a.status_time;
			a.reason.kind = 1;
			a.reason.line = 123456;
			rcpt_set_str(a.reason.source, sizeof(a.reason.source),
				     "/var/log/pmta/acct.csv");
			rcpt_set_str(a.reason.dsn_diag,
				     sizeof(a.reason.dsn_diag),
				     "smtp;550 5.1.1 user unknown");
			if (k == 2) {
				a.last_soft = a.reason;
				a.n_actions = 1;
				rcpt_set_str(a.actions[0].provider,
					     sizeof(a.actions[0].provider),
					     "dry-run");
				a.actions[0].op = OP_UNSUBSCRIBE;
				a.actions[0].state = ACTION_DRYRUN;
				a.actions[0].time = 1800000000;
				a.notice_time = -5;
			}
		}
		assert_int_equal(rcpt_encode_v3(&a, b3, sizeof(b3), &l3), 0);
		assert_int_equal(rcpt_encode(&a, b4, sizeof(b4), &l4), 0);
		assert_int_equal(b3[0], 3);
		assert_int_equal(b4[0], 4);
		assert_int_equal(rcpt_decode(b3, l3, &from3), 0);
		assert_int_equal(rcpt_decode(b4, l4, &from4), 0);
		assert_rcpt_equal(&a, &from4);
		assert_memory_equal(&from3, &from4, sizeof(from3));
		if (k)	/* a typical record is much smaller */
			assert_true(l4 * 10 < l3 * 7);
	}
}

/* test_version4_corrupt - a compact record with a reserved bit, an
   overlong varint, a counter past 32 bits or a string past its field is
   refused */
static void test_version4_corrupt(void **state)
{
	uint8_t buf[RCPT_ENCODED_MAX], work[RCPT_ENCODED_MAX];
	struct rcpt r;
	size_t len;

	(void)state;
	rcpt_init(&r);
	assert_int_equal(rcpt_encode(&r, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 17);
	assert_int_equal(rcpt_decode(buf, len, &r), 0);
	/* the head byte: the flag of held bounces dropped with none
	   after it, a status out of range */
	memcpy(work, buf, len);
	work[1] = 0x80;
	assert_int_equal(rcpt_decode(work, len, &r), -EINVAL);
	work[1] = RCPT_STATUS_COUNT;
	assert_int_equal(rcpt_decode(work, len, &r), -EINVAL);
	/* a varint that never ends, or passes 64 bits */
	memset(work, 0xff, sizeof(work));
	work[0] = RCPT_CODEC_VERSION;
	work[1] = 0;
	assert_int_equal(rcpt_decode(work, len, &r), -EINVAL);
	assert_int_equal(rcpt_decode(work, 2 + 9 + 1, &r), -EINVAL);
	work[2 + 9] = 0x02;	/* bit 64 */
	assert_int_equal(rcpt_decode(work, 2 + 10, &r), -EINVAL);
	/* cnt_hard (after 4 one-byte times) of 2^32 */
	memcpy(work, buf, 6);
	memcpy(work + 6, "\x80\x80\x80\x80\x10", 5);
	memcpy(work + 11, buf + 7, len - 7);
	assert_int_equal(rcpt_decode(work, len + 4, &r), -EINVAL);
	work[10] = 0x0f;	/* 2^32 - 2^28: fits */
	assert_int_equal(rcpt_decode(work, len + 4, &r), 0);
	assert_int_equal(r.cnt_hard, 0xF0000000u);
	/* the category's length (after the soft count at 13): past the
	   record, then past its field */
	memcpy(work, buf, len);
	work[14] = 3;
	assert_int_equal(rcpt_decode(work, len, &r), -EINVAL);
	rcpt_init(&r);
	memset(r.last_category, 'x', sizeof(r.last_category) - 1);
	assert_int_equal(rcpt_encode(&r, buf, sizeof(buf), &len), 0);
	assert_int_equal(buf[14], 63);
	buf[14] = 64;
	buf[15 + 62] = 0;	/* one byte fewer left: would still not fit */
	assert_int_equal(rcpt_decode(buf, len, &r), -EINVAL);
}

/* test_version4_async - the rb bitmap after the soft bounces: written
   only when one is asynchronous, read back in place; a bitmap of nothing
   or naming a bounce not kept is refused */
static void test_version4_async(void **state)
{
	uint8_t buf[RCPT_ENCODED_MAX], work[RCPT_ENCODED_MAX];
	struct rcpt r, back;
	size_t len, plain;

	(void)state;
	rcpt_init(&r);
	r.n_soft = 2;
	r.soft_times[0] = -5;
	r.soft_times[1] = 0;
	assert_int_equal(rcpt_encode(&r, buf, sizeof(buf), &plain), 0);
	r.soft_async[1] = true;
	assert_int_equal(rcpt_encode(&r, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, plain + 4);
	assert_int_equal(rcpt_decode(buf, len, &back), 0);
	assert_false(back.soft_async[0]);
	assert_true(back.soft_async[1]);
	assert_int_equal(back.n_soft, 2);
	/* the soft count's byte (after the version, head, 4 times, 7
	   counts: at 13); the bitmap after 2 x (1-byte time, 4-byte
	   source) */
	assert_int_equal(buf[13], 0x80 | 2);
	memcpy(work, buf, len);
	memset(work + 24, 0, 4);
	assert_int_equal(rcpt_decode(work, len, &back), -EINVAL);
	work[24] = 0x04;	/* the third, of two */
	assert_int_equal(rcpt_decode(work, len, &back), -EINVAL);
	work[24] = 0x01;
	assert_int_equal(rcpt_decode(work, len, &back), 0);
	assert_true(back.soft_async[0]);
	assert_false(back.soft_async[1]);
	/* the flag without its bitmap: the rest is misread, and refused */
	memcpy(work, buf, len);
	work[13] = 2;
	assert_int_equal(rcpt_decode(work, len, &back), -EINVAL);
	work[13] = 0x80 | (RCPT_SOFT_MAX + 1);
	assert_int_equal(rcpt_decode(work, len, &back), -EINVAL);
}

/* test_version4_dropped - the held bounces dropped after the holding
   incident: written only when there are some, read back in place; a
   count of none or of too many, a span of no source or ending before it
   begins, is refused */
static void test_version4_dropped(void **state)
{
	uint8_t buf[RCPT_ENCODED_MAX], work[RCPT_ENCODED_MAX];
	struct rcpt r, back;
	size_t len, plain;

	(void)state;
	rcpt_init(&r);
	r.updated = 1795515300;
	r.held = 3;
	assert_int_equal(rcpt_encode(&r, buf, sizeof(buf), &plain), 0);
	assert_int_equal(buf[1] & 0x80, 0);
	r.n_dropped = 1;
	r.dropped[0].incident = 3;
	r.dropped[0].src = 0x01020304u;
	r.dropped[0].from = r.updated - 900;
	r.dropped[0].to = r.updated;
	assert_int_equal(rcpt_encode(&r, buf, sizeof(buf), &len), 0);
	/* the flag; the count, incident, source, from (900 before: 2
	   bytes), to (900 after it: 2 bytes) */
	assert_int_equal(buf[1] & 0x80, 0x80);
	assert_int_equal(len, plain + 1 + 1 + 4 + 2 + 2);
	assert_int_equal(rcpt_decode(buf, len, &back), 0);
	assert_rcpt_equal(&r, &back);
	assert_memory_equal(&r, &back, sizeof(r));
	/* the count (right after the held incident, the last byte of the
	   plain record): none, too many */
	memcpy(work, buf, len);
	work[plain] = 0;
	assert_int_equal(rcpt_decode(work, len, &back), -EINVAL);
	work[plain] = RCPT_DROPPED_MAX + 1;
	assert_int_equal(rcpt_decode(work, len, &back), -EINVAL);
	/* no source */
	memcpy(work, buf, len);
	memset(work + plain + 2, 0, 4);
	assert_int_equal(rcpt_decode(work, len, &back), -EINVAL);
	/* ending 1 before it begins (zigzag of -1) */
	memcpy(work, buf, len);
	work[len - 2] = 0x01;
	assert_int_equal(rcpt_decode(work, len - 1, &back), -EINVAL);
	work[len - 2] = 0x00;	/* where it begins: a span of one second */
	assert_int_equal(rcpt_decode(work, len - 1, &back), 0);
	assert_true(back.dropped[0].to == back.dropped[0].from);
	/* the flag without the spans */
	assert_int_equal(rcpt_decode(buf, plain, &back), -EINVAL);
	/* version 3 leaves them out */
	assert_int_equal(rcpt_encode_v3(&r, buf, sizeof(buf), &len), 0);
	assert_int_equal(rcpt_decode(buf, len, &back), 0);
	assert_int_equal(back.n_dropped, 0);
}

static void test_set_str(void **state)
{
	static const struct {
		size_t dstlen;
		const char *src;
		const char *want;
	} cases[] = {
		{ 8, "abc", "abc" },
		{ 4, "abc", "abc" },
		{ 4, "abcd", "abc" },
		{ 1, "abc", "" },
		{ 8, NULL, "" },
		{ 8, "", "" },
		{ 4, "ab\xc3\xa9", "ab" },		/* é cut after 1 byte */
		{ 5, "ab\xc3\xa9", "ab\xc3\xa9" },	/* é fits */
		{ 5, "ab\xe2\x82\xac", "ab" },		/* € cut */
		{ 4, "a\xe2\x82\xac", "a" },		/* € cut after 2 */
		{ 6, "ab\xe2\x82\xac!", "ab\xe2\x82\xac" },
		{ 5, "a\xf0\x9f\x98\x80", "a" },	/* emoji cut */
		{ 6, "a\xf0\x9f\x98\x80", "a\xf0\x9f\x98\x80" },
		{ 3, "\xc3\xa9\xc3\xa9", "\xc3\xa9" },
		{ 2, "\xc3\xa9", "" },
	};
	char dst[16];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(dst, 'Z', sizeof(dst));
		rcpt_set_str(dst, cases[i].dstlen, cases[i].src);
		assert_string_equal(dst, cases[i].want);
		assert_true(strlen(dst) < cases[i].dstlen);
		assert_int_equal(dst[cases[i].dstlen], 'Z'); /* nothing past */
	}
	memset(dst, 'Z', sizeof(dst));
	rcpt_set_str(dst, 0, "abc");	/* nothing written, no crash */
	assert_int_equal(dst[0], 'Z');
}

static void test_status_names(void **state)
{
	static const struct {
		const char *name;
		int status;
	} cases[] = {
		{ "active", RCPT_ACTIVE },
		{ "soft", RCPT_SOFT },
		{ "hard", RCPT_HARD },
		{ "complained", RCPT_COMPLAINED },
		{ "unsubscribed", RCPT_UNSUBSCRIBED },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_string_equal(rcpt_status_name(cases[i].status),
				    cases[i].name);
		assert_int_equal(rcpt_status_parse(cases[i].name),
				 cases[i].status);
	}
	assert_int_equal(rcpt_status_parse("HARD"), RCPT_HARD);
	assert_int_equal(rcpt_status_parse("Unsubscribed"), RCPT_UNSUBSCRIBED);
	assert_int_equal(rcpt_status_parse("hardx"), -1);
	assert_int_equal(rcpt_status_parse(""), -1);
	assert_int_equal(rcpt_status_parse(NULL), -1);
	assert_string_equal(rcpt_status_name(RCPT_STATUS_COUNT), "?");
}

/* ---- version 5: strings named by a dictionary ---- */

/* a dictionary in memory: strings up to DICT_LEN bytes get ids in the
   order first asked; FAIL_INTERN / FAIL_LOOKUP make it fail */
#define DICT_MAX 64
#define DICT_LEN 300
struct tdict {
	char s[DICT_MAX][DICT_LEN + 1];
	size_t n;
	int fail_intern, fail_lookup;
	unsigned interns, lookups;
};

static int tdict_intern(void *ctx, const char *s, size_t n, uint32_t *id)
{
	struct tdict *d = ctx;
	size_t i;

	d->interns++;
	*id = 0;
	if (d->fail_intern)
		return d->fail_intern;
	if (n > DICT_LEN)
		return 0;
	for (i = 0; i < d->n; i++)
		if (strlen(d->s[i]) == n && memcmp(d->s[i], s, n) == 0) {
			*id = (uint32_t)i + 1;
			return 0;
		}
	if (d->n == DICT_MAX)
		return 0;
	memcpy(d->s[d->n], s, n);
	d->s[d->n][n] = '\0';
	*id = (uint32_t)++d->n;
	return 0;
}

static int tdict_lookup(void *ctx, uint32_t id, const char **s, size_t *n)
{
	struct tdict *d = ctx;

	d->lookups++;
	if (d->fail_lookup)
		return d->fail_lookup;
	if (id == 0 || id > d->n)
		return -ENOENT;
	*s = d->s[id - 1];
	*n = strlen(*s);
	return 0;
}

static struct tdict tdict;
static const struct rcpt_strings tdict_ops = {
	tdict_intern, tdict_lookup, &tdict, NULL
};

/* a full record named by ids decodes to itself, far shorter; a second
   record of the same strings adds nothing to the dictionary */
static void test_version5_roundtrip(void **state)
{
	static uint8_t buf[RCPT_ENCODED_MAX], plain[RCPT_ENCODED_MAX];
	static struct rcpt a, b;
	size_t len = 0, plen = 0, n;

	(void)state;
	memset(&tdict, 0, sizeof(tdict));
	fill_max(&a);
	assert_int_equal(rcpt_encode(&a, plain, sizeof(plain), &plen), 0);
	assert_int_equal(rcpt_encode_strs(&a, &tdict_ops, buf, sizeof(buf),
					  &len), 0);
	assert_int_equal(buf[0], RCPT_CODEC_STRS);
	assert_true(len < plen / 2);	/* the two DSN texts are too long */
	n = tdict.n;
	assert_true(n > 10);
	memset(&b, 0x5a, sizeof(b));
	assert_int_equal(rcpt_decode_strs(buf, len, &tdict_ops, &b), 0);
	assert_rcpt_equal(&a, &b);
	assert_int_equal(rcpt_encode_strs(&b, &tdict_ops, buf, sizeof(buf),
					  &len), 0);
	assert_int_equal(tdict.n, n);
	/* without the dictionary it cannot be read */
	assert_int_equal(rcpt_decode(buf, len, &b), -EINVAL);
	/* older versions still decode through the same call */
	assert_int_equal(rcpt_decode_strs(plain, plen, &tdict_ops, &b), 0);
	assert_rcpt_equal(&a, &b);
}

/* a lean decode into a record that held another (the committer's one
   record, reused from address to address) reads what the record holds
   and encodes again to the same bytes: a full record, then one of few
   fields (no reasons, actions, notice or spans) over it, then the full
   one over that; and a record that does not decode is wholly cleared */
static void test_decode_lean(void **state)
{
	static uint8_t full[RCPT_ENCODED_MAX], few[RCPT_ENCODED_MAX];
	static uint8_t again[RCPT_ENCODED_MAX];
	static struct rcpt a, s, b, empty;
	size_t flen = 0, slen = 0, len = 0;

	(void)state;
	memset(&tdict, 0, sizeof(tdict));
	fill_max(&a);
	assert_int_equal(rcpt_encode_strs(&a, &tdict_ops, full, sizeof(full),
					  &flen), 0);
	rcpt_init(&s);
	s.status = RCPT_SOFT;
	s.updated = 1700000000;
	s.cnt_soft = 2;
	s.n_soft = 1;
	s.soft_times[0] = 1699999000;
	s.soft_src[0] = 7;
	rcpt_set_str(s.last_category, sizeof(s.last_category), "q");
	assert_int_equal(rcpt_encode_strs(&s, &tdict_ops, few, sizeof(few),
					  &slen), 0);

	memset(&b, 0xa5, sizeof(b));
	b.escalated = true;
	memset(b.soft_async, 1, sizeof(b.soft_async));
	assert_int_equal(rcpt_decode_lean(full, flen, &tdict_ops, &b), 0);
	assert_rcpt_equal(&a, &b);
	assert_int_equal(rcpt_encode_strs(&b, &tdict_ops, again, sizeof(again),
					  &len), 0);
	assert_int_equal(len, flen);
	assert_memory_equal(again, full, flen);

	/* the full record's lists and strings are still in B past the
	   short one's counts and ends: not read, not written */
	assert_int_equal(rcpt_decode_lean(few, slen, &tdict_ops, &b), 0);
	assert_rcpt_equal(&s, &b);
	assert_int_equal(b.soft_async[0], 0);
	assert_int_equal(b.soft_async[1], 0);
	assert_true(b.reason.source[1] != '\0');	/* left as it was */
	assert_int_equal(rcpt_encode_strs(&b, &tdict_ops, again, sizeof(again),
					  &len), 0);
	assert_int_equal(len, slen);
	assert_memory_equal(again, few, slen);

	assert_int_equal(rcpt_decode_lean(full, flen, &tdict_ops, &b), 0);
	assert_rcpt_equal(&a, &b);

	/* a damaged record: -EINVAL and nothing of the old one left */
	assert_int_equal(rcpt_decode_lean(full, flen - 1, &tdict_ops, &b),
			 -EINVAL);
	rcpt_init(&empty);
	assert_memory_equal(&b, &empty, sizeof(b));

	/* rcpt_init_lean over a full record: an empty record for every
	   field it holds, encoded as rcpt_init's */
	assert_int_equal(rcpt_decode_lean(full, flen, &tdict_ops, &b), 0);
	rcpt_init_lean(&b);
	assert_rcpt_equal(&empty, &b);
	assert_int_equal(rcpt_encode_strs(&b, &tdict_ops, again, sizeof(again),
					  &len), 0);
	assert_int_equal(rcpt_encode_strs(&empty, &tdict_ops, few, sizeof(few),
					  &slen), 0);
	assert_int_equal(len, slen);
	assert_memory_equal(again, few, len);
}

/* the encoder takes a string's id from the dictionary's memo when the
   memo's slot holds that very string, and asks the dictionary otherwise:
   a slot holding another string (or one as long with other bytes) gives
   nothing */
static void test_version5_memo(void **state)
{
	static uint8_t buf[RCPT_ENCODED_MAX];
	static struct strs_memo memo[STRS_MEMO_SLOTS];
	static struct rcpt a, b;
	struct rcpt_strings ops = tdict_ops;
	const char *cat = "bad-mailbox", *diag = "550 5.1.1 no such user";
	uint32_t cat_id = 0, diag_id = 0;
	size_t len = 0, cl = strlen(cat), dl = strlen(diag);
	unsigned interns;

	(void)state;
	memset(&tdict, 0, sizeof(tdict));
	memset(memo, 0, sizeof(memo));
	assert_int_equal(tdict_intern(&tdict, cat, cl, &cat_id), 0);
	assert_int_equal(tdict_intern(&tdict, diag, dl, &diag_id), 0);
	ops.memo = memo;
	/* the category's slot holds it; the text's slot another string of
	   its length, with an id that names nothing */
	memo[strs_memo_index(cat, cl)] = (struct strs_memo){ cat, (uint32_t)cl,
							     cat_id };
	memo[strs_memo_index(diag, dl)] =
		(struct strs_memo){ "550 5.1.1 no such USER", (uint32_t)dl, 77 };
	rcpt_init(&a);
	a.status = RCPT_HARD;
	rcpt_set_str(a.reason.category, sizeof(a.reason.category), cat);
	rcpt_set_str(a.reason.dsn_diag, sizeof(a.reason.dsn_diag), diag);
	a.reason.time = 5;
	interns = tdict.interns;
	assert_int_equal(rcpt_encode_strs(&a, &ops, buf, sizeof(buf), &len),
			 0);
	/* the text asked, the category not */
	assert_int_equal(tdict.interns - interns, 1);
	assert_int_equal(rcpt_decode_strs(buf, len, &tdict_ops, &b), 0);
	assert_rcpt_equal(&a, &b);
}

/* a dictionary that names nothing: every string in the record, which
   reads without a dictionary too; the one-byte strings never asked */
static void test_version5_inline(void **state)
{
	static uint8_t buf[RCPT_ENCODED_MAX];
	static struct rcpt a, b;
	size_t len = 0;

	(void)state;
	memset(&tdict, 0, sizeof(tdict));
	tdict.n = DICT_MAX;	/* full: names nothing new */
	rcpt_init(&a);
	a.status = RCPT_HARD;
	rcpt_set_str(a.last_category, sizeof(a.last_category), "x");
	rcpt_set_str(a.reason.source, sizeof(a.reason.source), "/a/b.csv");
	rcpt_set_str(a.reason.dsn_diag, sizeof(a.reason.dsn_diag),
		     "550 5.1.1 no such user");
	a.reason.time = 5;
	assert_int_equal(rcpt_encode_strs(&a, &tdict_ops, buf, sizeof(buf),
					  &len), 0);
	assert_int_equal(tdict.interns, 2);	/* "x" was not asked */
	assert_int_equal(buf[0], RCPT_CODEC_STRS);
	assert_int_equal(rcpt_decode(buf, len, &b), 0);
	assert_rcpt_equal(&a, &b);
	assert_int_equal(tdict.lookups, 0);
}

/* the dictionary's failures are the codec's; a damaged id is -EINVAL */
static void test_version5_failures(void **state)
{
	static uint8_t buf[RCPT_ENCODED_MAX];
	static struct rcpt a, b;
	uint8_t work[64];
	size_t len = 0;

	(void)state;
	memset(&tdict, 0, sizeof(tdict));
	rcpt_init(&a);
	rcpt_set_str(a.last_category, sizeof(a.last_category), "bad-domain");
	tdict.fail_intern = -ENOSPC;
	assert_int_equal(rcpt_encode_strs(&a, &tdict_ops, buf, sizeof(buf),
					  &len), -ENOSPC);
	tdict.fail_intern = 0;
	assert_int_equal(rcpt_encode_strs(&a, &tdict_ops, buf, sizeof(buf),
					  &len), 0);
	assert_true(len < sizeof(work));
	tdict.fail_lookup = -EIO;
	assert_int_equal(rcpt_decode_strs(buf, len, &tdict_ops, &b), -EIO);
	tdict.fail_lookup = 0;
	assert_int_equal(rcpt_decode_strs(buf, len, &tdict_ops, &b), 0);
	assert_string_equal(b.last_category, "bad-domain");
	/* an id the dictionary does not know: the category's tag is the
	   byte after the 4 times, 7 counters and the soft count */
	memcpy(work, buf, len);
	assert_int_equal(work[14], (1 << 1) | 1);
	work[14] = (9 << 1) | 1;
	assert_int_equal(rcpt_decode_strs(work, len, &tdict_ops, &b), -EINVAL);
	work[14] = 1;		/* id 0 */
	assert_int_equal(rcpt_decode_strs(work, len, &tdict_ops, &b), -EINVAL);
	/* a string longer than its field */
	memset(&tdict, 0, sizeof(tdict));
	tdict.n = 1;
	memset(tdict.s[0], 'c', RCPT_CATEGORY_MAX);
	work[14] = (1 << 1) | 1;
	assert_int_equal(rcpt_decode_strs(work, len, &tdict_ops, &b), -EINVAL);
	tdict.s[0][RCPT_CATEGORY_MAX - 1] = '\0';
	assert_int_equal(rcpt_decode_strs(work, len, &tdict_ops, &b), 0);
	assert_int_equal(strlen(b.last_category), RCPT_CATEGORY_MAX - 1);
}

static void fill_file(struct file_rec *f)
{
	memset(f, 0, sizeof(*f));
	f->status = FILE_DONE;
	f->offset = 0x0102030405060708ULL;
	f->lines = 2;
	f->records = 3;
	f->bad = UINT64_MAX;
	f->dev = 5;
	f->ino = 6;
	f->fp_hash = 0xcbf29ce484222325ULL;
	f->fp_len = 4096;
	f->started = -7;
	f->updated = 1700000000;
}

static void test_file_rec(void **state)
{
	uint8_t buf[FILE_ENCODED_MAX + 1];
	struct file_rec a, b;
	size_t len, n, got;

	(void)state;
	fill_file(&a);
	assert_int_equal(file_rec_encode(&a, buf, FILE_ENCODED_MAX, &len), 0);
	assert_true(len <= FILE_ENCODED_MAX);
	assert_int_equal(buf[0], FILE_CODEC_VERSION);
	assert_int_equal(buf[2], 0x08);	/* offset, little-endian */
	memset(&b, 0x5a, sizeof(b));
	assert_int_equal(file_rec_decode(buf, len, &b), 0);
	assert_int_equal(b.status, a.status);
	assert_true(b.offset == a.offset && b.lines == a.lines);
	assert_true(b.records == a.records && b.bad == a.bad);
	assert_true(b.dev == a.dev && b.ino == a.ino);
	assert_true(b.fp_hash == a.fp_hash && b.fp_len == a.fp_len);
	assert_true(b.started == a.started && b.updated == a.updated);
	assert_memory_equal(&a, &b, sizeof(a));

	for (n = 0; n < len; n++)
		assert_int_equal(file_rec_decode(buf, n, &b), -EINVAL);
	for (n = 0; n < len; n++)
		assert_int_equal(file_rec_encode(&a, buf, n, &got), -ENOBUFS);
	assert_int_equal(file_rec_encode(&a, buf, FILE_ENCODED_MAX, &len), 0);
	buf[len] = 0;
	assert_int_equal(file_rec_decode(buf, len + 1, &b), -EINVAL);
	buf[1] = FILE_FAILED + 1;
	assert_int_equal(file_rec_decode(buf, len, &b), -EINVAL);
	buf[1] = FILE_PARTIAL;
	buf[0] = FILE_CODEC_VERSION + 1;
	assert_int_equal(file_rec_decode(buf, len, &b), -EPROTO);
	a.status = FILE_FAILED + 1;
	assert_int_equal(file_rec_encode(&a, buf, FILE_ENCODED_MAX, &len),
			 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_empty),
		cmocka_unit_test(test_roundtrip_max),
		cmocka_unit_test(test_little_endian_layout),
		cmocka_unit_test(test_encode_short_buffer),
		cmocka_unit_test(test_encode_refuses_bad_record),
		cmocka_unit_test(test_encode_unterminated_string),
		cmocka_unit_test(test_wrong_version),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_trailing_garbage),
		cmocka_unit_test(test_corrupt_fields),
		cmocka_unit_test(test_corrupt_actions),
		cmocka_unit_test(test_version1),
		cmocka_unit_test(test_version2),
		cmocka_unit_test(test_version3),
		cmocka_unit_test(test_version4_corrupt),
		cmocka_unit_test(test_version4_async),
		cmocka_unit_test(test_version4_dropped),
		cmocka_unit_test(test_version5_roundtrip),
		cmocka_unit_test(test_version5_inline),
		cmocka_unit_test(test_version5_memo),
		cmocka_unit_test(test_decode_lean),
		cmocka_unit_test(test_version5_failures),
		cmocka_unit_test(test_set_str),
		cmocka_unit_test(test_status_names),
		cmocka_unit_test(test_file_rec),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
