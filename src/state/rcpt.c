/*
 * rcpt.c - the recipient record: initialisation, status names, bounded
 * string assignment and the on-disk codec of the "rcpt" table.
 *
 * Layout, version 1 (all integers little-endian, written byte by byte):
 *
 *   u8  version (RCPT_CODEC_VERSION)
 *   u8  status, u8 escalated (0 or 1)
 *   i64 status_time, updated, first_seen
 *   u32 cnt_hard, cnt_soft, cnt_complaint, cnt_unsub,
 *       cnt_delivery, cnt_duplicate, cnt_other
 *   u8  n_soft, then n_soft x i64 soft time
 *   str last_category
 *   reason, last_soft: i64 time, u8 kind, u64 line, str source, category,
 *       dsn_status, dsn_diag, orig, vmta, job_id
 *   u8  n_actions, then each: str provider, u8 op, u8 state, i64 time,
 *       u64 root, u32 outstanding, str campaign_id
 *   i64 notice_time, str notice                  version 2 only,
 *   and after each action's campaign_id: u8 flags  version 2 only
 *
 * Version 1 (no notice) is still read.
 * where "str" is a u16 length and that many bytes, no NUL.
 *
 * Error policy: the encoder refuses records it could not decode again
 * (-EINVAL) and short buffers (-ENOBUFS).  The decoder trusts nothing:
 * every count and length is checked against what remains and against the
 * destination; a string that does not fit is an error, never truncated.
 * No allocation anywhere.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "rcpt.h"
#include "state_codec.h"

static const char *const rcpt_status_names[RCPT_STATUS_COUNT] = {
	[RCPT_ACTIVE] = "active",
	[RCPT_SOFT] = "soft",
	[RCPT_HARD] = "hard",
	[RCPT_COMPLAINED] = "complained",
	[RCPT_UNSUBSCRIBED] = "unsubscribed",
};

/* rcpt_init - an empty active record */
void rcpt_init(struct rcpt *r)
{
	memset(r, 0, sizeof(*r));
	r->status = RCPT_ACTIVE;
}

/* rcpt_status_name - the status as the tools print it ("?" when unknown) */
const char *rcpt_status_name(enum rcpt_status s)
{
	if ((unsigned)s >= RCPT_STATUS_COUNT)
		return "?";
	return rcpt_status_names[s];
}

/* rcpt_status_parse - "hard" … -> status (any case), or -1 */
int rcpt_status_parse(const char *name)
{
	int i;

	if (name == NULL)
		return -1;
	for (i = 0; i < RCPT_STATUS_COUNT; i++)
		if (strcasecmp(name, rcpt_status_names[i]) == 0)
			return i;
	return -1;
}

/* rcpt_set_str - bounded copy, cut at a UTF-8 character boundary */
void rcpt_set_str(char *dst, size_t dstlen, const char *src)
{
	size_t n;

	if (dst == NULL || dstlen == 0)
		return;
	if (src == NULL)
		src = "";
	n = strnlen(src, dstlen);
	if (n == dstlen) {
		/* too long: keep dstlen - 1 bytes, minus a cut sequence */
		n = dstlen - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* ---- encoding ---- */

#define PUT_STR(w, field) codec_put_cstr((w), (field), sizeof(field))
#define GET_STR(rd, field) codec_get_str((rd), (field), sizeof(field))

/* rcpt_reason_put - one struct rcpt_reason */
void rcpt_reason_put(struct codec_w *w, const struct rcpt_reason *rs)
{
	codec_put_i64(w, rs->time);
	codec_put_u8(w, rs->kind);
	codec_put_u64(w, rs->line);
	PUT_STR(w, rs->source);
	PUT_STR(w, rs->category);
	PUT_STR(w, rs->dsn_status);
	PUT_STR(w, rs->dsn_diag);
	PUT_STR(w, rs->orig);
	PUT_STR(w, rs->vmta);
	PUT_STR(w, rs->job_id);
}

/* rcpt_encode - R into BUF; 0, -EINVAL (bad record) or -ENOBUFS */
int rcpt_encode(const struct rcpt *r, uint8_t *buf, size_t cap, size_t *len)
{
	struct codec_w w = { .p = buf, .cap = cap };
	uint32_t i;

	if (r->status >= RCPT_STATUS_COUNT || r->n_soft > RCPT_SOFT_MAX ||
	    r->n_actions > RCPT_ACTIONS_MAX)
		return -EINVAL;
	for (i = 0; i < r->n_actions; i++)
		if (r->actions[i].state > ACTION_DRYRUN)
			return -EINVAL;

	codec_put_u8(&w, RCPT_CODEC_VERSION);
	codec_put_u8(&w, r->status);
	codec_put_u8(&w, r->escalated ? 1 : 0);
	codec_put_i64(&w, r->status_time);
	codec_put_i64(&w, r->updated);
	codec_put_i64(&w, r->first_seen);
	codec_put_u32(&w, r->cnt_hard);
	codec_put_u32(&w, r->cnt_soft);
	codec_put_u32(&w, r->cnt_complaint);
	codec_put_u32(&w, r->cnt_unsub);
	codec_put_u32(&w, r->cnt_delivery);
	codec_put_u32(&w, r->cnt_duplicate);
	codec_put_u32(&w, r->cnt_other);
	codec_put_u8(&w, (uint8_t)r->n_soft);
	for (i = 0; i < r->n_soft; i++)
		codec_put_i64(&w, r->soft_times[i]);
	PUT_STR(&w, r->last_category);
	rcpt_reason_put(&w, &r->reason);
	rcpt_reason_put(&w, &r->last_soft);
	codec_put_u8(&w, (uint8_t)r->n_actions);
	for (i = 0; i < r->n_actions; i++) {
		const struct rcpt_action *a = &r->actions[i];

		PUT_STR(&w, a->provider);
		codec_put_u8(&w, a->op);
		codec_put_u8(&w, a->state);
		codec_put_i64(&w, a->time);
		codec_put_u64(&w, a->root);
		codec_put_u32(&w, a->outstanding);
		PUT_STR(&w, a->campaign_id);
		codec_put_u8(&w, a->flags);
	}
	codec_put_i64(&w, r->notice_time);
	PUT_STR(&w, r->notice);
	for (i = 0; i < r->n_soft; i++)
		codec_put_u32(&w, r->soft_src[i]);
	codec_put_i64(&w, r->last_delivery);
	codec_put_u64(&w, r->held);
	if (w.overflow)
		return -ENOBUFS;
	*len = w.len;
	return 0;
}

/* ---- decoding ---- */

/* rcpt_reason_get - one struct rcpt_reason; 0 or -EINVAL */
int rcpt_reason_get(struct codec_r *rd, struct rcpt_reason *rs)
{
	uint8_t kind = 0;
	int rc = 0;

	rc |= codec_get_i64(rd, &rs->time);
	rc |= codec_get_u8(rd, &kind);
	rs->kind = kind;
	rc |= codec_get_u64(rd, &rs->line);
	rc |= GET_STR(rd, rs->source);
	rc |= GET_STR(rd, rs->category);
	rc |= GET_STR(rd, rs->dsn_status);
	rc |= GET_STR(rd, rs->dsn_diag);
	rc |= GET_STR(rd, rs->orig);
	rc |= GET_STR(rd, rs->vmta);
	rc |= GET_STR(rd, rs->job_id);
	return rc ? -EINVAL : 0;
}

/* rcpt_get_fixed - the fixed fields after the version byte */
static int rcpt_get_fixed(struct codec_r *rd, struct rcpt *r)
{
	uint8_t status, esc;
	int rc = 0;

	rc |= codec_get_u8(rd, &status);
	rc |= codec_get_u8(rd, &esc);
	if (rc || status >= RCPT_STATUS_COUNT || esc > 1)
		return -EINVAL;
	r->status = status;
	r->escalated = esc != 0;
	rc |= codec_get_i64(rd, &r->status_time);
	rc |= codec_get_i64(rd, &r->updated);
	rc |= codec_get_i64(rd, &r->first_seen);
	rc |= codec_get_u32(rd, &r->cnt_hard);
	rc |= codec_get_u32(rd, &r->cnt_soft);
	rc |= codec_get_u32(rd, &r->cnt_complaint);
	rc |= codec_get_u32(rd, &r->cnt_unsub);
	rc |= codec_get_u32(rd, &r->cnt_delivery);
	rc |= codec_get_u32(rd, &r->cnt_duplicate);
	rc |= codec_get_u32(rd, &r->cnt_other);
	return rc ? -EINVAL : 0;
}

/* rcpt_get_actions - the action count and the actions (VERSION 2: with
   their flags) */
static int rcpt_get_actions(struct codec_r *rd, struct rcpt *r,
			    uint8_t version)
{
	uint8_t n, op, st;
	uint32_t i;

	if (codec_get_u8(rd, &n) || n > RCPT_ACTIONS_MAX)
		return -EINVAL;
	r->n_actions = n;
	for (i = 0; i < n; i++) {
		struct rcpt_action *a = &r->actions[i];

		if (GET_STR(rd, a->provider) || codec_get_u8(rd, &op) ||
		    codec_get_u8(rd, &st) || codec_get_i64(rd, &a->time) ||
		    codec_get_u64(rd, &a->root) ||
		    codec_get_u32(rd, &a->outstanding) ||
		    GET_STR(rd, a->campaign_id) || st > ACTION_DRYRUN ||
		    (version >= 2 && codec_get_u8(rd, &a->flags)))
			return -EINVAL;
		a->op = op;
		a->state = st;
	}
	return 0;
}

/* rcpt_decode - BUF into R; 0, -EPROTO (version) or -EINVAL */
int rcpt_decode(const uint8_t *buf, size_t len, struct rcpt *r)
{
	struct codec_r rd = { .p = buf, .len = len };
	uint8_t n_soft;
	uint32_t i;
	int rc;

	rcpt_init(r);
	if (len < 1)
		return -EINVAL;
	if (buf[0] < 1 || buf[0] > RCPT_CODEC_VERSION)
		return -EPROTO;
	rd.pos = 1;

	rc = rcpt_get_fixed(&rd, r);
	if (rc)
		goto fail;
	rc = -EINVAL;
	if (codec_get_u8(&rd, &n_soft) || n_soft > RCPT_SOFT_MAX)
		goto fail;
	r->n_soft = n_soft;
	for (i = 0; i < n_soft; i++)
		if (codec_get_i64(&rd, &r->soft_times[i]))
			goto fail;
	if (GET_STR(&rd, r->last_category))
		goto fail;
	if (rcpt_reason_get(&rd, &r->reason) ||
	    rcpt_reason_get(&rd, &r->last_soft))
		goto fail;
	if (rcpt_get_actions(&rd, r, buf[0]))
		goto fail;
	if (buf[0] >= 2 && (codec_get_i64(&rd, &r->notice_time) ||
			    GET_STR(&rd, r->notice)))
		goto fail;
	if (buf[0] >= 3) {
		for (i = 0; i < n_soft; i++)
			if (codec_get_u32(&rd, &r->soft_src[i]))
				goto fail;
		if (codec_get_i64(&rd, &r->last_delivery) ||
		    codec_get_u64(&rd, &r->held))
			goto fail;
	}
	if (rd.pos != rd.len)	/* trailing garbage */
		goto fail;
	return 0;
fail:
	rcpt_init(r);	/* never hand out half a record */
	return rc;
}
