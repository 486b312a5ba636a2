/*
 * action.c - one provider action of the outbox: operation names and the
 * on-disk codec of the "outbox" and "dead" tables' values.
 *
 * Layout, version 1 (all integers little-endian, written byte by byte):
 *
 *   u8  version (ACTION_CODEC_VERSION)
 *   u64 id, root
 *   str provider
 *   u8  op (enum rcpt_op), step, klass (enum event_class)
 *   u32 attempts
 *   i64 created_ms, due_ms
 *   str addr, list_id, subscriber_id, campaign_id, bounce_type
 *   ev: i64 time, u8 kind, u64 line, str source, category, dsn_status,
 *       dsn_diag, orig, vmta, job_id
 *   str last_error
 *   u8  flags (ACTION_F_*)                       version 2 and later
 *   str payload (OP_EVENT's JSON; other          version 3 only
 *       operations: the recipient as written)
 *
 * where "str" is a u16 length and that many bytes, no NUL.  Version 1
 * (no flags) is still read: a hard bounce of it was the one that
 * suppressed its address (ACTION_F_SUPPRESS), as every bounce record of
 * that version was.  Versions 1 and 2 have no payload (read as "").
 * The recipient as written needed no new version: an action without it
 * (any version) is one whose record had none, as before.
 *
 * Error policy: the encoder refuses actions it could not decode again
 * (-EINVAL: an operation or event class out of range) and short buffers
 * (-ENOBUFS); an unterminated string field is cut to its capacity.  The
 * decoder trusts nothing: every length is checked against what remains and
 * against the destination (a string that does not fit is an error, never
 * truncated), the operation and class must be known, nothing may follow
 * the last field; on failure the action is left zeroed.  No allocation.
 */
#include <errno.h>
#include <string.h>

#include "action.h"
#include "state_codec.h"

/* action_op_name - the operation as logs, tools and the webhook name it */
const char *action_op_name(uint8_t op)
{
	switch (op) {
	case OP_UNSUBSCRIBE:
		return "unsubscribe";
	case OP_BOUNCE:
		return "bounce";
	case OP_COMPLAINT:
		return "complaint";
	case OP_EVENT:
		return "event";
	default:
		return "?";
	}
}

/* action_case_variant - W (N bytes) is ADDR with some of its ASCII
   lower-case letters in capitals, and not ADDR itself */
static bool action_case_variant(const char *w, size_t n, const char *addr,
				size_t cap)
{
	bool differs = false;
	size_t i;

	if (n == 0 || strnlen(addr, cap) != n)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)w[i];

		if (c == (unsigned char)addr[i])
			continue;
		if (c < 'A' || c > 'Z' || c + 32 != (unsigned char)addr[i])
			return false;
		differs = true;
	}
	return differs;
}

const char *action_written(const struct action *a)
{
	size_t n;

	if (a->op == OP_EVENT)
		return NULL;
	n = strnlen(a->payload, sizeof(a->payload));
	if (n >= sizeof(a->payload) ||
	    !action_case_variant(a->payload, n, a->addr, sizeof(a->addr)))
		return NULL;
	return a->payload;
}

void action_set_written(struct action *a, const char *written)
{
	size_t n;

	if (a->op == OP_EVENT)
		return;
	a->payload[0] = '\0';
	if (!written)
		return;
	n = strnlen(written, ADDR_MAX + 1);
	if (n <= ADDR_MAX &&
	    action_case_variant(written, n, a->addr, sizeof(a->addr))) {
		memcpy(a->payload, written, n);
		a->payload[n] = '\0';
	}
}

/* action_valid - the fields with a closed set of values are in range */
static bool action_valid(uint8_t op, uint8_t klass)
{
	return op >= OP_UNSUBSCRIBE && op <= OP_EVENT &&
	       klass <= CLASS_FEEDBACK_OTHER;
}

/* ---- encoding ---- */

#define PUT_STR(w, field) codec_put_cstr((w), (field), sizeof(field))
#define GET_STR(rd, field) codec_get_str((rd), (field), sizeof(field))

/* action_encode - A into BUF; 0, -EINVAL (bad action) or -ENOBUFS */
int action_encode(const struct action *a, uint8_t *buf, size_t cap,
		  size_t *len)
{
	struct codec_w w = { .p = buf, .cap = cap };

	if (!action_valid(a->op, a->klass))
		return -EINVAL;
	codec_put_u8(&w, ACTION_CODEC_VERSION);
	codec_put_u64(&w, a->id);
	codec_put_u64(&w, a->root);
	PUT_STR(&w, a->provider);
	codec_put_u8(&w, a->op);
	codec_put_u8(&w, a->step);
	codec_put_u8(&w, a->klass);
	codec_put_u32(&w, a->attempts);
	codec_put_i64(&w, a->created_ms);
	codec_put_i64(&w, a->due_ms);
	PUT_STR(&w, a->addr);
	PUT_STR(&w, a->list_id);
	PUT_STR(&w, a->subscriber_id);
	PUT_STR(&w, a->campaign_id);
	PUT_STR(&w, a->bounce_type);
	rcpt_reason_put(&w, &a->ev);
	PUT_STR(&w, a->last_error);
	codec_put_u8(&w, a->flags);
	PUT_STR(&w, a->payload);
	if (w.overflow)
		return -ENOBUFS;
	*len = w.len;
	return 0;
}

/* ---- decoding ---- */


/* action_get_fixed - id to due_ms, after the version byte */
static int action_get_fixed(struct codec_r *rd, struct action *a)
{
	int rc = 0;

	rc |= codec_get_u64(rd, &a->id);
	rc |= codec_get_u64(rd, &a->root);
	rc |= GET_STR(rd, a->provider);
	rc |= codec_get_u8(rd, &a->op);
	rc |= codec_get_u8(rd, &a->step);
	rc |= codec_get_u8(rd, &a->klass);
	rc |= codec_get_u32(rd, &a->attempts);
	rc |= codec_get_i64(rd, &a->created_ms);
	rc |= codec_get_i64(rd, &a->due_ms);
	if (rc || !action_valid(a->op, a->klass))
		return -EINVAL;
	return 0;
}

/* action_decode - BUF into A; 0, -EPROTO (version) or -EINVAL */
int action_decode(const uint8_t *buf, size_t len, struct action *a)
{
	struct codec_r rd = { .p = buf, .len = len };
	uint8_t version;
	int rc = -EINVAL, bad = 0;

	memset(a, 0, sizeof(*a));
	if (buf == NULL || codec_get_u8(&rd, &version))
		goto fail;
	if (version < 1 || version > ACTION_CODEC_VERSION) {
		rc = -EPROTO;
		goto fail;
	}
	if (action_get_fixed(&rd, a))
		goto fail;
	bad |= GET_STR(&rd, a->addr);
	bad |= GET_STR(&rd, a->list_id);
	bad |= GET_STR(&rd, a->subscriber_id);
	bad |= GET_STR(&rd, a->campaign_id);
	bad |= GET_STR(&rd, a->bounce_type);
	if (bad || rcpt_reason_get(&rd, &a->ev) ||
	    GET_STR(&rd, a->last_error))
		goto fail;
	if (version == 1)
		a->flags = a->op == OP_BOUNCE &&
				   strcmp(a->bounce_type, "hard") == 0 ?
			   ACTION_F_SUPPRESS : 0;
	else if (codec_get_u8(&rd, &a->flags))
		goto fail;
	if (version >= 3 && GET_STR(&rd, a->payload))
		goto fail;
	if (rd.pos != rd.len)	/* trailing garbage */
		goto fail;
	return 0;
fail:
	memset(a, 0, sizeof(*a));	/* never hand out half an action */
	return rc;
}
