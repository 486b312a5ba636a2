/*
 * test_action_codec.c - the outbox action codec: round trips of a minimal
 * and a fully filled action, the byte layout, short buffers, refusal of
 * every truncated, corrupted or foreign encoding, and operation names.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "action.h"

/* fill_str - FIELD filled to its capacity with a varying printable run */
static void fill_str(char *field, size_t size, unsigned seed)
{
	size_t i;

	for (i = 0; i + 1 < size; i++)
		field[i] = (char)('!' + (seed + i) % 94);
	field[size - 1] = '\0';
}

#define FILL(field, seed) fill_str((field), sizeof(field), (seed))

/* fill_min - the smallest valid action: an operation, nothing else */
static void fill_min(struct action *a)
{
	memset(a, 0, sizeof(*a));
	a->op = OP_UNSUBSCRIBE;
}

/* fill_max - every field set, every string at its maximum */
static void fill_max(struct action *a)
{
	memset(a, 0, sizeof(*a));
	a->id = UINT64_MAX;
	a->root = 0x0102030405060708ULL;
	FILL(a->provider, 1);
	a->op = OP_COMPLAINT;
	a->step = 0xff;
	a->klass = CLASS_FEEDBACK_OTHER;
	a->attempts = 0xFFFFFFFFu;
	a->created_ms = INT64_MIN;
	a->due_ms = INT64_MAX;
	FILL(a->addr, 2);
	FILL(a->list_id, 3);
	FILL(a->subscriber_id, 4);
	FILL(a->campaign_id, 5);
	FILL(a->bounce_type, 6);
	a->ev.time = -1234567890123LL;
	a->ev.kind = 0xfe;
	a->ev.line = UINT64_MAX - 1;
	FILL(a->ev.source, 7);
	FILL(a->ev.category, 8);
	FILL(a->ev.dsn_status, 9);
	FILL(a->ev.dsn_diag, 10);
	FILL(a->ev.orig, 11);
	FILL(a->ev.vmta, 12);
	FILL(a->ev.job_id, 13);
	FILL(a->last_error, 14);
	a->flags = 0xff;
	FILL(a->payload, 15);
}

/* assert_action_equal - field by field, so a failure names the field */
static void assert_action_equal(const struct action *a, const struct action *b)
{
	assert_true(a->id == b->id);
	assert_true(a->root == b->root);
	assert_string_equal(a->provider, b->provider);
	assert_int_equal(a->op, b->op);
	assert_int_equal(a->step, b->step);
	assert_int_equal(a->klass, b->klass);
	assert_int_equal(a->attempts, b->attempts);
	assert_true(a->created_ms == b->created_ms);
	assert_true(a->due_ms == b->due_ms);
	assert_string_equal(a->addr, b->addr);
	assert_string_equal(a->list_id, b->list_id);
	assert_string_equal(a->subscriber_id, b->subscriber_id);
	assert_string_equal(a->campaign_id, b->campaign_id);
	assert_string_equal(a->bounce_type, b->bounce_type);
	assert_true(a->ev.time == b->ev.time);
	assert_int_equal(a->ev.kind, b->ev.kind);
	assert_true(a->ev.line == b->ev.line);
	assert_string_equal(a->ev.source, b->ev.source);
	assert_string_equal(a->ev.category, b->ev.category);
	assert_string_equal(a->ev.dsn_status, b->ev.dsn_status);
	assert_string_equal(a->ev.dsn_diag, b->ev.dsn_diag);
	assert_string_equal(a->ev.orig, b->ev.orig);
	assert_string_equal(a->ev.vmta, b->ev.vmta);
	assert_string_equal(a->ev.job_id, b->ev.job_id);
	assert_string_equal(a->last_error, b->last_error);
	assert_int_equal(a->flags, b->flags);
	assert_string_equal(a->payload, b->payload);
}

/* encode_max - the max-filled action, encoded */
static size_t encode_max(uint8_t *buf, size_t cap)
{
	struct action a;
	size_t len = 0;

	fill_max(&a);
	assert_int_equal(action_encode(&a, buf, cap, &len), 0);
	return len;
}

/* fixed part: version, id, root, provider len, op, step, klass, attempts,
   created, due; then 5 + 7 + 1 string lengths and ev's time, kind, line;
   flags, the payload's length */
#define MIN_LEN (1 + 8 + 8 + 2 + 3 + 4 + 8 + 8 + 2 * 13 + 8 + 1 + 8 + 1 + 2)

static void test_roundtrip_min(void **state)
{
	uint8_t buf[ACTION_ENCODED_MAX];
	struct action a, b;
	size_t len = 0;

	(void)state;
	fill_min(&a);
	assert_int_equal(action_encode(&a, buf, sizeof(buf), &len), 0);
	assert_int_equal(buf[0], ACTION_CODEC_VERSION);
	assert_int_equal(len, MIN_LEN);
	memset(&b, 0x5a, sizeof(b));
	assert_int_equal(action_decode(buf, len, &b), 0);
	assert_action_equal(&a, &b);
	assert_memory_equal(&a, &b, sizeof(a));
}

static void test_roundtrip_max(void **state)
{
	uint8_t buf[ACTION_ENCODED_MAX];
	struct action a, b;
	size_t len;

	(void)state;
	fill_max(&a);
	len = encode_max(buf, sizeof(buf));
	/* every string at its capacity, well within the bound */
	assert_int_equal(len, MIN_LEN + 31 + 254 + ACTION_LIST_ID_MAX - 1 +
			 2 * 63 + 7 +
			 255 + 63 + 63 + 511 + 255 + 63 + 127 + 255 +
			 ACTION_PAYLOAD_MAX - 1);
	assert_true(len <= ACTION_ENCODED_MAX);
	assert_int_equal(action_decode(buf, len, &b), 0);
	assert_action_equal(&a, &b);
	assert_memory_equal(&a, &b, sizeof(a));
}

static void test_layout(void **state)
{
	uint8_t buf[ACTION_ENCODED_MAX];
	struct action a;
	size_t len;

	(void)state;
	fill_min(&a);
	a.id = 0x1122334455667788ULL;
	a.root = 7;
	rcpt_set_str(a.provider, sizeof(a.provider), "mw");
	a.op = OP_BOUNCE;
	a.step = 2;
	a.klass = CLASS_SOFT;
	a.attempts = 0x0a0b0c0d;
	assert_int_equal(action_encode(&a, buf, sizeof(buf), &len), 0);
	assert_int_equal(buf[1], 0x88);		/* id, little-endian */
	assert_int_equal(buf[8], 0x11);
	assert_int_equal(buf[9], 7);		/* root */
	assert_int_equal(buf[17], 2);		/* provider length */
	assert_int_equal(buf[18], 0);
	assert_memory_equal(buf + 19, "mw", 2);
	assert_int_equal(buf[21], OP_BOUNCE);
	assert_int_equal(buf[22], 2);
	assert_int_equal(buf[23], CLASS_SOFT);
	assert_int_equal(buf[24], 0x0d);	/* attempts */
	assert_int_equal(buf[27], 0x0a);
}

static void test_encode_short_buffer(void **state)
{
	uint8_t buf[ACTION_ENCODED_MAX], small[ACTION_ENCODED_MAX];
	struct action a;
	size_t len, cap, got;

	(void)state;
	len = encode_max(buf, sizeof(buf));
	fill_max(&a);
	for (cap = 0; cap < len; cap++)
		assert_int_equal(action_encode(&a, small, cap, &got),
				 -ENOBUFS);
	assert_int_equal(action_encode(&a, small, len, &got), 0);
	assert_int_equal(got, len);
	assert_memory_equal(small, buf, len);
}

static void test_encode_refuses_bad_action(void **state)
{
	static const struct {
		uint8_t op, klass;
	} cases[] = {
		{ 0, CLASS_HARD },
		{ OP_EVENT + 1, CLASS_HARD },
		{ 0xff, CLASS_HARD },
		{ OP_BOUNCE, CLASS_FEEDBACK_OTHER + 1 },
		{ OP_BOUNCE, 0xff },
	};
	uint8_t buf[ACTION_ENCODED_MAX];
	struct action a;
	size_t len, i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fill_min(&a);
		a.op = cases[i].op;
		a.klass = cases[i].klass;
		assert_int_equal(action_encode(&a, buf, sizeof(buf), &len),
				 -EINVAL);
	}
}

static void test_encode_unterminated_string(void **state)
{
	uint8_t buf[ACTION_ENCODED_MAX];
	struct action a, d;
	size_t len;

	(void)state;
	fill_min(&a);
	memset(a.list_id, 'x', sizeof(a.list_id));	/* no NUL */
	memset(a.last_error, 'y', sizeof(a.last_error));
	assert_int_equal(action_encode(&a, buf, sizeof(buf), &len), 0);
	assert_int_equal(action_decode(buf, len, &d), 0);
	assert_int_equal(strlen(d.list_id), sizeof(d.list_id) - 1);
	assert_int_equal(strlen(d.last_error), sizeof(d.last_error) - 1);
}

static void test_wrong_version(void **state)
{
	static const uint8_t versions[] = { 0, ACTION_CODEC_VERSION + 1, 0xff };
	uint8_t buf[ACTION_ENCODED_MAX];
	struct action a;
	size_t len, i;

	(void)state;
	len = encode_max(buf, sizeof(buf));
	for (i = 0; i < sizeof(versions); i++) {
		buf[0] = versions[i];
		assert_int_equal(action_decode(buf, len, &a), -EPROTO);
		assert_true(a.id == 0);
		assert_string_equal(a.provider, "");
	}
}

/* test_version1 - an action written before flags existed is read: its
   hard bounce is the suppressing one, anything else has no flag */
static void test_version1(void **state)
{
	uint8_t buf[ACTION_ENCODED_MAX];
	struct action a, d;
	size_t len;

	(void)state;
	fill_min(&a);
	a.op = OP_BOUNCE;
	rcpt_set_str(a.bounce_type, sizeof(a.bounce_type), "hard");
	assert_int_equal(action_encode(&a, buf, sizeof(buf), &len), 0);
	buf[0] = 1;
	assert_int_equal(action_decode(buf, len - 3, &d), 0);
	assert_int_equal(d.flags, ACTION_F_SUPPRESS);
	/* a version 1 value with a byte more is not one */
	assert_int_equal(action_decode(buf, len - 2, &d), -EINVAL);
	rcpt_set_str(a.bounce_type, sizeof(a.bounce_type), "soft");
	assert_int_equal(action_encode(&a, buf, sizeof(buf), &len), 0);
	buf[0] = 1;
	assert_int_equal(action_decode(buf, len - 3, &d), 0);
	assert_int_equal(d.flags, 0);
}

/* test_version2 - an action written before payloads existed is read
   with an empty payload; an event's payload round-trips in version 3 */
static void test_version2(void **state)
{
	uint8_t buf[ACTION_ENCODED_MAX];
	struct action a, d;
	size_t len;

	(void)state;
	fill_min(&a);
	a.op = OP_COMPLAINT;
	a.flags = ACTION_F_SUPPRESS;
	assert_int_equal(action_encode(&a, buf, sizeof(buf), &len), 0);
	buf[0] = 2;
	assert_int_equal(action_decode(buf, len - 2, &d), 0);
	assert_int_equal(d.flags, ACTION_F_SUPPRESS);
	assert_string_equal(d.payload, "");
	assert_int_equal(action_decode(buf, len - 1, &d), -EINVAL);
	fill_min(&a);
	a.op = OP_EVENT;
	rcpt_set_str(a.addr, sizeof(a.addr), "incident:3");
	rcpt_set_str(a.payload, sizeof(a.payload),
		     "{\"event\":\"incident.opened\"}");
	assert_int_equal(action_encode(&a, buf, sizeof(buf), &len), 0);
	assert_int_equal(buf[0], ACTION_CODEC_VERSION);
	assert_int_equal(action_decode(buf, len, &d), 0);
	assert_int_equal(d.op, OP_EVENT);
	assert_string_equal(d.payload, "{\"event\":\"incident.opened\"}");
}

/* test_written - the recipient as written rides in the payload of an
   operation on an address (no new version): kept only when it is the
   address with capitals, read back as it was; an action without it, of
   any version, has none */
static void test_written(void **state)
{
	uint8_t buf[ACTION_ENCODED_MAX];
	struct action a, d;
	size_t len;

	(void)state;
	fill_min(&a);
	a.op = OP_UNSUBSCRIBE;
	rcpt_set_str(a.addr, sizeof(a.addr), "john.smith@example.com");
	action_set_written(&a, "John.Smith@Example.com");
	assert_int_equal(action_encode(&a, buf, sizeof(buf), &len), 0);
	assert_int_equal(buf[0], ACTION_CODEC_VERSION);
	assert_int_equal(action_decode(buf, len, &d), 0);
	assert_string_equal(action_written(&d), "John.Smith@Example.com");
	/* without it (as every action queued before): none */
	action_set_written(&a, NULL);
	assert_string_equal(a.payload, "");
	assert_int_equal(action_encode(&a, buf, sizeof(buf), &len), 0);
	assert_int_equal(action_decode(buf, len, &d), 0);
	assert_null(action_written(&d));
	buf[0] = 2;
	assert_int_equal(action_decode(buf, len - 2, &d), 0);
	assert_null(action_written(&d));
	/* the same bytes, another address, a longer one: refused */
	action_set_written(&a, "john.smith@example.com");
	assert_string_equal(a.payload, "");
	action_set_written(&a, "John.Smith@Example.org");
	assert_string_equal(a.payload, "");
	action_set_written(&a, "John.Smith@Example.com.");
	assert_string_equal(a.payload, "");
	/* a damaged payload is no spelling of the address */
	rcpt_set_str(a.payload, sizeof(a.payload), "John.Smith@Example.com>");
	assert_null(action_written(&a));
	rcpt_set_str(a.payload, sizeof(a.payload), "J\x0ahn.Smith@Example.com");
	assert_null(action_written(&a));
	/* an event's payload is its event, never a spelling */
	a.op = OP_EVENT;
	rcpt_set_str(a.payload, sizeof(a.payload), "{}");
	action_set_written(&a, "John.Smith@Example.com");
	assert_string_equal(a.payload, "{}");
	rcpt_set_str(a.payload, sizeof(a.payload), "John.Smith@Example.com");
	assert_null(action_written(&a));
}

static void test_every_truncation(void **state)
{
	uint8_t buf[ACTION_ENCODED_MAX];
	struct action a;
	size_t len, n;

	(void)state;
	len = encode_max(buf, sizeof(buf));
	for (n = 0; n < len; n++) {
		assert_int_equal(action_decode(buf, n, &a), -EINVAL);
		/* a failed decode leaves an empty action, nothing half done */
		assert_true(a.id == 0 && a.root == 0);
		assert_string_equal(a.provider, "");
		assert_string_equal(a.addr, "");
	}
	assert_int_equal(action_decode(NULL, 0, &a), -EINVAL);
	assert_int_equal(action_decode(buf, len, &a), 0);
}

static void test_trailing_garbage(void **state)
{
	uint8_t buf[ACTION_ENCODED_MAX + 1];
	struct action a;
	size_t len;

	(void)state;
	len = encode_max(buf, ACTION_ENCODED_MAX);
	buf[len] = 0;
	assert_int_equal(action_decode(buf, len + 1, &a), -EINVAL);
}

/* offsets in the encoding of the action built by corrupt_base() */
#define OFF_OP 21		/* after provider "mw" */
#define OFF_KLASS 23
#define OFF_ADDR 44		/* u16 length of addr */

/* corrupt_base - a small action with provider "mw" and addr "a@b.c" */
static size_t corrupt_base(uint8_t *buf, size_t cap)
{
	struct action a;
	size_t len = 0;

	fill_min(&a);
	rcpt_set_str(a.provider, sizeof(a.provider), "mw");
	rcpt_set_str(a.addr, sizeof(a.addr), "a@b.c");
	rcpt_set_str(a.list_id, sizeof(a.list_id), "ab12");
	assert_int_equal(action_encode(&a, buf, cap, &len), 0);
	assert_int_equal(buf[OFF_OP], OP_UNSUBSCRIBE);
	assert_int_equal(buf[OFF_ADDR], 5);
	assert_int_equal(action_decode(buf, len, &a), 0);
	return len;
}

static void test_corrupt_fields(void **state)
{
	static const struct {
		size_t off;
		uint8_t lo, hi;	/* new byte(s); hi written when two */
		int two;
	} cases[] = {
		{ OFF_OP, 0, 0, 0 },			/* no operation */
		{ OFF_OP, OP_EVENT + 1, 0, 0 },	/* unknown one */
		{ OFF_KLASS, CLASS_FEEDBACK_OTHER + 1, 0, 0 },
		{ 17, 0xff, 0xff, 1 },			/* provider: past end */
		{ 17, 32, 0, 1 },			/* dst too small */
		{ 17, 3, 0, 1 },			/* takes the op byte */
		{ 19, 0, 0, 0 },			/* embedded NUL */
		{ OFF_ADDR, 0xff, 0, 1 },		/* addr: too long */
		{ OFF_ADDR, 4, 0, 1 },			/* shifted by one */
		{ OFF_ADDR + 2 + 5, 0xff, 0x03, 1 },	/* list_id too long */
		{ OFF_ADDR + 2 + 5 + 2 + 1, 0, 0, 0 },	/* NUL in list_id */
		/* subscriber_id: dst too small */
		{ OFF_ADDR + 2 + 5 + 2 + 4, 64, 0, 1 },
	};
	uint8_t buf[ACTION_ENCODED_MAX], work[ACTION_ENCODED_MAX];
	struct action a;
	size_t len, i;

	(void)state;
	len = corrupt_base(buf, sizeof(buf));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(work, buf, len);
		work[cases[i].off] = cases[i].lo;
		if (cases[i].two)
			work[cases[i].off + 1] = cases[i].hi;
		assert_int_equal(action_decode(work, len, &a), -EINVAL);
		assert_true(a.op == 0);
	}
}

static void test_op_names(void **state)
{
	static const struct {
		uint8_t op;
		const char *name;
	} cases[] = {
		{ OP_UNSUBSCRIBE, "unsubscribe" },
		{ OP_BOUNCE, "bounce" },
		{ OP_COMPLAINT, "complaint" },
		{ OP_EVENT, "event" },
		{ 0, "?" },
		{ OP_EVENT + 1, "?" },
		{ 0xff, "?" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(action_op_name(cases[i].op),
				    cases[i].name);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_min),
		cmocka_unit_test(test_roundtrip_max),
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_encode_short_buffer),
		cmocka_unit_test(test_encode_refuses_bad_action),
		cmocka_unit_test(test_encode_unterminated_string),
		cmocka_unit_test(test_wrong_version),
		cmocka_unit_test(test_version1),
		cmocka_unit_test(test_version2),
		cmocka_unit_test(test_written),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_trailing_garbage),
		cmocka_unit_test(test_corrupt_fields),
		cmocka_unit_test(test_op_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
