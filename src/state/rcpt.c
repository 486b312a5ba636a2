/*
 * rcpt.c - the recipient record: initialisation, status names, bounded
 * string assignment and the on-disk codec of the "rcpt" table.
 *
 * Layout, version 4 (rcpt_encode): compact, since every byte of a record is
 * written again with each leaf page a commit touches.  "v" is an unsigned
 * LEB128 varint (at most 10 bytes, the last holding at most bit 63), "z"
 * a signed difference as a zigzag varint (two's complement, wrapping, so
 * every int64 pair round-trips), "s" a v length and that many bytes, no
 * NUL:
 *
 *   u8  version (4)
 *   u8  status | escalated << 3 | RCPT4_REASON | RCPT4_LAST_SOFT
 *       | RCPT4_NOTICE (the last three: that part is written; an absent
 *       part decodes to zeros)
 *   z   updated (from 0); then status_time, first_seen, last_delivery
 *       (each from updated)
 *   v   cnt_hard, cnt_soft, cnt_complaint, cnt_unsub, cnt_delivery,
 *       cnt_duplicate, cnt_other
 *   u8  n_soft | RCPT4_ASYNC (0x80) when one of them is an rb, then
 *       n_soft x (z time, from the previous one, the first from updated;
 *       u32 source), then with RCPT4_ASYNC a u32 bitmap (bit i: the i-th
 *       soft bounce is asynchronous; never zero)
 *   s   last_category
 *   reason, last_soft when present: z time (from updated), u8 kind,
 *       v line, s source, category, dsn_status, dsn_diag, orig, vmta,
 *       job_id
 *   u8  n_actions, then each: s provider, u8 op, u8 state, z time (from
 *       0), v root, v outstanding, s campaign_id, u8 flags
 *   notice when present: z notice_time (from 0), s notice
 *   v   held
 *   with RCPT4_DROPPED (0x80 in the second byte): u8 n_dropped (1 to
 *       RCPT_DROPPED_MAX), then each: v incident, u32 src (not 0), z from
 *       (from updated), z to (from FROM, never before it)
 *
 * Version 5 (rcpt_encode_strs, what the state writes): version 4's
 * layout, every "s" replaced by "S": a varint, (ID << 1) | 1 naming the
 * string ID of the state's dictionary (state_strs.c: strings many records
 * share, written once), else (LENGTH << 1) and the bytes.
 *
 * Version 3 and older (still read; rcpt_encode_v3 writes version 3), all
 * integers little-endian:
 *
 *   u8  version
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
 *       and, from version 2, u8 flags
 *   i64 notice_time, str notice                  from version 2
 *   u32 n_soft x soft source, i64 last_delivery, u64 held
 *                                                from version 3
 *
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

/* rcpt_reason_clear - RS as rcpt_init leaves it, but for the bytes past
   each string's first */
static void rcpt_reason_clear(struct rcpt_reason *rs)
{
	rs->time = 0;
	rs->kind = 0;
	rs->line = 0;
	rs->source[0] = rs->category[0] = rs->dsn_status[0] = '\0';
	rs->dsn_diag[0] = rs->orig[0] = rs->vmta[0] = rs->job_id[0] = '\0';
}

void rcpt_init_lean(struct rcpt *r)
{
	r->status = RCPT_ACTIVE;
	r->escalated = false;
	r->status_time = r->updated = r->first_seen = 0;
	r->n_soft = 0;
	memset(r->soft_async, 0, sizeof(r->soft_async));
	r->last_delivery = 0;
	r->held = 0;
	r->n_dropped = 0;
	r->cnt_hard = r->cnt_soft = r->cnt_complaint = r->cnt_unsub = 0;
	r->cnt_delivery = r->cnt_duplicate = r->cnt_other = 0;
	r->last_category[0] = '\0';
	rcpt_reason_clear(&r->reason);
	rcpt_reason_clear(&r->last_soft);
	r->n_actions = 0;
	r->notice_time = 0;
	r->notice[0] = '\0';
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

/* rcpt_encodable - can R be written and read back? */
static bool rcpt_encodable(const struct rcpt *r)
{
	uint32_t i;

	if (r->status >= RCPT_STATUS_COUNT || r->n_soft > RCPT_SOFT_MAX ||
	    r->n_actions > RCPT_ACTIONS_MAX || r->n_dropped > RCPT_DROPPED_MAX)
		return false;
	for (i = 0; i < r->n_actions; i++)
		if (r->actions[i].state > ACTION_DRYRUN)
			return false;
	for (i = 0; i < r->n_dropped; i++)
		if (r->dropped[i].src == 0 ||
		    r->dropped[i].to < r->dropped[i].from)
			return false;
	return true;
}

/* rcpt_encode_v3 - R into BUF in layout version 3 */
int rcpt_encode_v3(const struct rcpt *r, uint8_t *buf, size_t cap,
		   size_t *len)
{
	struct codec_w w = { .p = buf, .cap = cap };
	uint32_t i;

	if (!rcpt_encodable(r))
		return -EINVAL;

	codec_put_u8(&w, 3);
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

/* ---- version 4 ---- */

#define RCPT4_STATUS_MASK 0x07
#define RCPT4_ESCALATED 0x08
#define RCPT4_REASON 0x10	/* the reason is written */
#define RCPT4_LAST_SOFT 0x20	/* the last soft bounce is written */
#define RCPT4_NOTICE 0x40	/* the notice is written */
#define RCPT4_DROPPED 0x80	/* held bounces dropped follow HELD */
#define RCPT4_VARINT_MAX 10
#define RCPT4_ASYNC 0x80	/* in n_soft's byte: the rb bitmap follows */
_Static_assert(RCPT_SOFT_MAX <= 32 && RCPT_SOFT_MAX < RCPT4_ASYNC,
	       "the rb bitmap is a u32, beside the count in one byte");

/* rcpt_put_v - V as an unsigned LEB128 varint: in place while the
   buffer has room for the longest (a commit encodes every address it
   touches, some thirty varints each), else through a bounded copy */
static inline void rcpt_put_v(struct codec_w *w, uint64_t v)
{
	uint8_t b[RCPT4_VARINT_MAX], *p;
	bool room = !w->overflow && w->cap - w->len >= RCPT4_VARINT_MAX;
	unsigned n = 0;

	p = room ? w->p + w->len : b;
	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	if (room)
		w->len += n;
	else
		codec_put_bytes(w, b, n);
}

/* rcpt_put_z - V - BASE (wrapping) as a zigzag varint */
static void rcpt_put_z(struct codec_w *w, int64_t v, int64_t base)
{
	uint64_t d = (uint64_t)v - (uint64_t)base;

	rcpt_put_v(w, (d << 1) ^ (0 - (d >> 63)));
}

/* rcpt_put_s - the C string in FIELD (SIZE bytes; an unterminated field
   is cut) as a varint length and its bytes */
static void rcpt_put_s(struct codec_w *w, const char *field, size_t size)
{
	size_t n = strnlen(field, size - 1);

	if (n < 0x80 && !w->overflow && w->cap - w->len > n) {
		/* the common case: a one-byte length, room for all */
		w->p[w->len] = (uint8_t)n;
		memcpy(w->p + w->len + 1, field, n);
		w->len += n + 1;
		return;
	}
	rcpt_put_v(w, n);
	codec_put_bytes(w, field, n);
}

/* how a record's strings are written or read: version 4 holds them,
   version 5 may name them in the state's dictionary (state_strs.c) */
struct rcpt_sx {
	const struct rcpt_strings *sd;	/* NULL: no dictionary */
	bool v5;			/* the layout of version 5 */
	bool lean;			/* decode: rcpt_init_lean, not
					   rcpt_init, for version 4 and 5 */
	int err;			/* the dictionary's first error */
};

/* rcpt_put_str5 - the C string in FIELD (SIZE bytes) as version 5 has
   it: a varint (ID << 1 | 1) naming it in the dictionary, or (LENGTH <<
   1) and its bytes */
static void rcpt_put_str5(struct codec_w *w, struct rcpt_sx *x,
			  const char *field, size_t size)
{
	size_t n = strnlen(field, size - 1);
	uint32_t id = 0;
	int rc;

	if (n >= 2 && x->sd && x->err == 0) {
		const struct strs_memo *m = x->sd->memo;

		if (m) {
			m += strs_memo_index(field, n);
			if (m->s && m->n == n && memcmp(m->s, field, n) == 0)
				id = m->id;
		}
		rc = id ? 0 : x->sd->intern(x->sd->ctx, field, n, &id);
		if (rc) {
			x->err = rc;
			id = 0;
		}
	}
	if (id) {
		rcpt_put_v(w, ((uint64_t)id << 1) | 1);
		return;
	}
	rcpt_put_v(w, (uint64_t)n << 1);
	codec_put_bytes(w, field, n);
}

/* rcpt_put_str - FIELD in the layout X writes */
static inline void rcpt_put_str(struct codec_w *w, struct rcpt_sx *x,
				const char *field, size_t size)
{
	if (x->v5)
		rcpt_put_str5(w, x, field, size);
	else
		rcpt_put_s(w, field, size);
}

#define PUT_S(w, x, field) rcpt_put_str((w), (x), (field), sizeof(field))

/* rcpt_reason_empty - RS holds nothing (decodes from nothing as zeros) */
static bool rcpt_reason_empty(const struct rcpt_reason *rs)
{
	return rs->time == 0 && rs->kind == 0 && rs->line == 0 &&
	       !rs->source[0] && !rs->category[0] && !rs->dsn_status[0] &&
	       !rs->dsn_diag[0] && !rs->orig[0] && !rs->vmta[0] &&
	       !rs->job_id[0];
}

/* rcpt_reason_put4 - one reason, its time from BASE */
static void rcpt_reason_put4(struct codec_w *w, struct rcpt_sx *x,
			     const struct rcpt_reason *rs, int64_t base)
{
	rcpt_put_z(w, rs->time, base);
	codec_put_u8(w, rs->kind);
	rcpt_put_v(w, rs->line);
	PUT_S(w, x, rs->source);
	PUT_S(w, x, rs->category);
	PUT_S(w, x, rs->dsn_status);
	PUT_S(w, x, rs->dsn_diag);
	PUT_S(w, x, rs->orig);
	PUT_S(w, x, rs->vmta);
	PUT_S(w, x, rs->job_id);
}

/* rcpt_encode_x - R into BUF: version 5 with X's dictionary, else 4 */
static int rcpt_encode_x(const struct rcpt *r, struct rcpt_sx *x,
			 uint8_t *buf, size_t cap, size_t *len)
{
	struct codec_w w = { .p = buf, .cap = cap };
	bool reason = !rcpt_reason_empty(&r->reason);
	bool last_soft = !rcpt_reason_empty(&r->last_soft);
	bool notice = r->notice_time != 0 || r->notice[0] != '\0';
	uint32_t i, async = 0;
	int64_t prev;

	if (!rcpt_encodable(r))
		return -EINVAL;

	codec_put_u8(&w, x->v5 ? RCPT_CODEC_STRS : RCPT_CODEC_VERSION);
	codec_put_u8(&w, (uint8_t)(r->status |
				   (r->escalated ? RCPT4_ESCALATED : 0) |
				   (reason ? RCPT4_REASON : 0) |
				   (last_soft ? RCPT4_LAST_SOFT : 0) |
				   (notice ? RCPT4_NOTICE : 0) |
				   (r->n_dropped ? RCPT4_DROPPED : 0)));
	rcpt_put_z(&w, r->updated, 0);
	rcpt_put_z(&w, r->status_time, r->updated);
	rcpt_put_z(&w, r->first_seen, r->updated);
	rcpt_put_z(&w, r->last_delivery, r->updated);
	rcpt_put_v(&w, r->cnt_hard);
	rcpt_put_v(&w, r->cnt_soft);
	rcpt_put_v(&w, r->cnt_complaint);
	rcpt_put_v(&w, r->cnt_unsub);
	rcpt_put_v(&w, r->cnt_delivery);
	rcpt_put_v(&w, r->cnt_duplicate);
	rcpt_put_v(&w, r->cnt_other);
	for (i = 0; i < r->n_soft; i++)
		if (r->soft_async[i])
			async |= 1u << i;
	codec_put_u8(&w, (uint8_t)(r->n_soft | (async ? RCPT4_ASYNC : 0)));
	prev = r->updated;
	for (i = 0; i < r->n_soft; i++) {
		rcpt_put_z(&w, r->soft_times[i], prev);
		codec_put_u32(&w, r->soft_src[i]);
		prev = r->soft_times[i];
	}
	if (async)
		codec_put_u32(&w, async);
	PUT_S(&w, x, r->last_category);
	if (reason)
		rcpt_reason_put4(&w, x, &r->reason, r->updated);
	if (last_soft)
		rcpt_reason_put4(&w, x, &r->last_soft, r->updated);
	codec_put_u8(&w, (uint8_t)r->n_actions);
	for (i = 0; i < r->n_actions; i++) {
		const struct rcpt_action *a = &r->actions[i];

		PUT_S(&w, x, a->provider);
		codec_put_u8(&w, a->op);
		codec_put_u8(&w, a->state);
		rcpt_put_z(&w, a->time, 0);
		rcpt_put_v(&w, a->root);
		rcpt_put_v(&w, a->outstanding);
		PUT_S(&w, x, a->campaign_id);
		codec_put_u8(&w, a->flags);
	}
	if (notice) {
		rcpt_put_z(&w, r->notice_time, 0);
		PUT_S(&w, x, r->notice);
	}
	rcpt_put_v(&w, r->held);
	if (r->n_dropped) {
		codec_put_u8(&w, (uint8_t)r->n_dropped);
		for (i = 0; i < r->n_dropped; i++) {
			const struct rcpt_dropped *d = &r->dropped[i];

			rcpt_put_v(&w, d->incident);
			codec_put_u32(&w, d->src);
			rcpt_put_z(&w, d->from, r->updated);
			rcpt_put_z(&w, d->to, d->from);
		}
	}
	if (x->err)
		return x->err;
	if (w.overflow)
		return -ENOBUFS;
	*len = w.len;
	return 0;
}

/* rcpt_encode - R into BUF (version 4); 0, -EINVAL (bad record) or
   -ENOBUFS */
int rcpt_encode(const struct rcpt *r, uint8_t *buf, size_t cap, size_t *len)
{
	struct rcpt_sx x = { 0 };

	return rcpt_encode_x(r, &x, buf, cap, len);
}

int rcpt_encode_strs(const struct rcpt *r, const struct rcpt_strings *sd,
		     uint8_t *buf, size_t cap, size_t *len)
{
	struct rcpt_sx x = { .sd = sd, .v5 = true };

	return rcpt_encode_x(r, &x, buf, cap, len);
}

/* rcpt_get_v - an unsigned varint into *V; 0 or -1 (too long, past the
   end, or more than 64 bits) */
static inline int rcpt_get_v(struct codec_r *rd, uint64_t *v)
{
	uint64_t x = 0;
	size_t pos = rd->pos;
	unsigned shift = 0, i;

	if (pos < rd->len && rd->p[pos] < 0x80) {
		/* most are one byte: counts, small time deltas, lengths */
		*v = rd->p[pos];
		rd->pos = pos + 1;
		return 0;
	}
	for (i = 0; i < RCPT4_VARINT_MAX && pos < rd->len; i++, shift += 7) {
		uint8_t b = rd->p[pos++];

		if (i == RCPT4_VARINT_MAX - 1 && b > 1)
			return -1;
		x |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			rd->pos = pos;
			*v = x;
			return 0;
		}
	}
	return -1;
}

/* rcpt_get_u32v - a varint that must fit 32 bits */
static int rcpt_get_u32v(struct codec_r *rd, uint32_t *v)
{
	uint64_t x;

	if (rcpt_get_v(rd, &x) || x > UINT32_MAX)
		return -1;
	*v = (uint32_t)x;
	return 0;
}

/* rcpt_get_z - a zigzag varint added to BASE (wrapping) into *V */
static int rcpt_get_z(struct codec_r *rd, int64_t base, int64_t *v)
{
	uint64_t z;

	if (rcpt_get_v(rd, &z))
		return -1;
	*v = (int64_t)((uint64_t)base + ((z >> 1) ^ (0 - (z & 1))));
	return 0;
}

/* rcpt_get_bytes - the N bytes at the reader's position, a string, into
   DST (SIZE bytes, NUL added); fails (the position back at SAVE) past the
   end, when they do not fit, or on a NUL byte */
static int rcpt_get_bytes(struct codec_r *rd, uint64_t n, char *dst,
			  size_t size, size_t save)
{
	if (rd->len - rd->pos < n || n >= size ||
	    memchr(rd->p + rd->pos, '\0', (size_t)n) != NULL) {
		rd->pos = save;
		return -1;
	}
	if (n)
		memcpy(dst, rd->p + rd->pos, (size_t)n);
	dst[n] = '\0';
	rd->pos += (size_t)n;
	return 0;
}

/* rcpt_get_s - a varint-length string into DST (SIZE bytes, NUL added);
   fails past the end, when it does not fit, or on a NUL byte */
static int rcpt_get_s(struct codec_r *rd, char *dst, size_t size)
{
	size_t save = rd->pos;
	uint64_t n;

	if (rcpt_get_v(rd, &n))
		return -1;
	return rcpt_get_bytes(rd, n, dst, size, save);
}

/* rcpt_get_str5 - a string of version 5 (rcpt_put_str5) into DST (SIZE
   bytes, NUL added); fails as rcpt_get_s, and on an id the dictionary
   does not know (its own failures kept in X) */
static int rcpt_get_str5(struct codec_r *rd, struct rcpt_sx *x, char *dst,
			 size_t size)
{
	size_t save = rd->pos, n;
	const char *str;
	uint64_t t;
	int rc;

	if (rcpt_get_v(rd, &t))
		return -1;
	if (!(t & 1))
		return rcpt_get_bytes(rd, t >> 1, dst, size, save);
	if (!x->sd || (t >> 1) == 0 || (t >> 1) > UINT32_MAX)
		return -1;
	rc = x->sd->lookup(x->sd->ctx, (uint32_t)(t >> 1), &str, &n);
	if (rc) {
		if (rc != -ENOENT && rc != -EINVAL && x->err == 0)
			x->err = rc;	/* the table could not be read */
		return -1;
	}
	if (n >= size || memchr(str, '\0', n) != NULL)
		return -1;
	memcpy(dst, str, n);
	dst[n] = '\0';
	return 0;
}

/* rcpt_get_str - a string of the layout X reads */
static inline int rcpt_get_str(struct codec_r *rd, struct rcpt_sx *x,
			       char *dst, size_t size)
{
	return x->v5 ? rcpt_get_str5(rd, x, dst, size) :
		       rcpt_get_s(rd, dst, size);
}

#define GET_S(rd, x, field) rcpt_get_str((rd), (x), (field), sizeof(field))

/* rcpt_reason_get4 - one reason, its time from BASE; 0 or -1 */
static int rcpt_reason_get4(struct codec_r *rd, struct rcpt_sx *x,
			    struct rcpt_reason *rs, int64_t base)
{
	return rcpt_get_z(rd, base, &rs->time) ||
	       codec_get_u8(rd, &rs->kind) || rcpt_get_v(rd, &rs->line) ||
	       GET_S(rd, x, rs->source) || GET_S(rd, x, rs->category) ||
	       GET_S(rd, x, rs->dsn_status) || GET_S(rd, x, rs->dsn_diag) ||
	       GET_S(rd, x, rs->orig) || GET_S(rd, x, rs->vmta) ||
	       GET_S(rd, x, rs->job_id) ? -1 : 0;
}

/* rcpt_get_actions4 - the action count and the actions */
static int rcpt_get_actions4(struct codec_r *rd, struct rcpt_sx *x,
			     struct rcpt *r)
{
	uint8_t n;
	uint32_t i;

	if (codec_get_u8(rd, &n) || n > RCPT_ACTIONS_MAX)
		return -1;
	r->n_actions = n;
	for (i = 0; i < n; i++) {
		struct rcpt_action *a = &r->actions[i];

		if (GET_S(rd, x, a->provider) || codec_get_u8(rd, &a->op) ||
		    codec_get_u8(rd, &a->state) || a->state > ACTION_DRYRUN ||
		    rcpt_get_z(rd, 0, &a->time) || rcpt_get_v(rd, &a->root) ||
		    rcpt_get_u32v(rd, &a->outstanding) ||
		    GET_S(rd, x, a->campaign_id) || codec_get_u8(rd, &a->flags))
			return -1;
	}
	return 0;
}

/* rcpt_get_dropped4 - the held bounces dropped (at least one: the flag
   says they are written), each span of a source and not ending before
   it begins, as the encoder writes them; 0 or -1 */
static int rcpt_get_dropped4(struct codec_r *rd, struct rcpt *r)
{
	uint8_t n;
	uint32_t i;

	if (codec_get_u8(rd, &n) || n == 0 || n > RCPT_DROPPED_MAX)
		return -1;
	for (i = 0; i < n; i++) {
		struct rcpt_dropped *d = &r->dropped[i];

		if (rcpt_get_v(rd, &d->incident) ||
		    codec_get_u32(rd, &d->src) || d->src == 0 ||
		    rcpt_get_z(rd, r->updated, &d->from) ||
		    rcpt_get_z(rd, d->from, &d->to) || d->to < d->from)
			return -1;
	}
	r->n_dropped = n;
	return 0;
}

/* rcpt_decode4 - the fields of a version 4 or 5 record after its version
   byte; 0 or -1 */
static int rcpt_decode4(struct codec_r *rd, struct rcpt_sx *x,
			struct rcpt *r)
{
	uint8_t head, n_soft;
	uint32_t i, async = 0;
	int64_t prev;

	if (codec_get_u8(rd, &head) ||
	    (head & RCPT4_STATUS_MASK) >= RCPT_STATUS_COUNT)
		return -1;
	r->status = head & RCPT4_STATUS_MASK;
	r->escalated = (head & RCPT4_ESCALATED) != 0;
	if (rcpt_get_z(rd, 0, &r->updated) ||
	    rcpt_get_z(rd, r->updated, &r->status_time) ||
	    rcpt_get_z(rd, r->updated, &r->first_seen) ||
	    rcpt_get_z(rd, r->updated, &r->last_delivery) ||
	    rcpt_get_u32v(rd, &r->cnt_hard) || rcpt_get_u32v(rd, &r->cnt_soft) ||
	    rcpt_get_u32v(rd, &r->cnt_complaint) ||
	    rcpt_get_u32v(rd, &r->cnt_unsub) ||
	    rcpt_get_u32v(rd, &r->cnt_delivery) ||
	    rcpt_get_u32v(rd, &r->cnt_duplicate) ||
	    rcpt_get_u32v(rd, &r->cnt_other))
		return -1;
	if (codec_get_u8(rd, &n_soft) ||
	    (n_soft & ~RCPT4_ASYNC) > RCPT_SOFT_MAX)
		return -1;
	r->n_soft = n_soft & ~RCPT4_ASYNC;
	prev = r->updated;
	for (i = 0; i < r->n_soft; i++) {
		if (rcpt_get_z(rd, prev, &r->soft_times[i]) ||
		    codec_get_u32(rd, &r->soft_src[i]))
			return -1;
		prev = r->soft_times[i];
	}
	if (n_soft & RCPT4_ASYNC) {
		/* a bitmap of nothing, or naming bounces not kept, was
		   never written */
		if (codec_get_u32(rd, &async) || async == 0 ||
		    (r->n_soft < 32 && (async >> r->n_soft) != 0))
			return -1;
		for (i = 0; i < r->n_soft; i++)
			r->soft_async[i] = (async >> i) & 1;
	}
	if (GET_S(rd, x, r->last_category))
		return -1;
	if ((head & RCPT4_REASON) &&
	    rcpt_reason_get4(rd, x, &r->reason, r->updated))
		return -1;
	if ((head & RCPT4_LAST_SOFT) &&
	    rcpt_reason_get4(rd, x, &r->last_soft, r->updated))
		return -1;
	if (rcpt_get_actions4(rd, x, r))
		return -1;
	if ((head & RCPT4_NOTICE) && (rcpt_get_z(rd, 0, &r->notice_time) ||
				      GET_S(rd, x, r->notice)))
		return -1;
	if (rcpt_get_v(rd, &r->held))
		return -1;
	return (head & RCPT4_DROPPED) ? rcpt_get_dropped4(rd, r) : 0;
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

/* rcpt_decode_x - BUF into R, version 5's strings through X */
static int rcpt_decode_x(const uint8_t *buf, size_t len, struct rcpt_sx *x,
			 struct rcpt *r)
{
	struct codec_r rd = { .p = buf, .len = len };
	uint8_t n_soft;
	uint32_t i;
	int rc;

	/* version 4 and 5 write every field or say it is empty, so a lean
	   start leaves nothing of what the record holds unset; the older
	   ones leave fields out (a soft bounce's source before version 3) */
	if (x->lean && len >= 1 && (buf[0] == 4 || buf[0] == 5))
		rcpt_init_lean(r);
	else
		rcpt_init(r);
	if (len < 1)
		return -EINVAL;
	if (buf[0] < 1 || buf[0] > RCPT_CODEC_LATEST)
		return -EPROTO;
	rd.pos = 1;
	if (buf[0] >= 4) {
		x->v5 = buf[0] == RCPT_CODEC_STRS;
		rc = -EINVAL;
		if (rcpt_decode4(&rd, x, r) || rd.pos != rd.len) {
			if (x->err)
				rc = x->err;
			goto fail;
		}
		return 0;
	}

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

/* rcpt_decode - BUF into R; 0, -EPROTO (version) or -EINVAL */
int rcpt_decode(const uint8_t *buf, size_t len, struct rcpt *r)
{
	struct rcpt_sx x = { 0 };

	return rcpt_decode_x(buf, len, &x, r);
}

int rcpt_decode_strs(const uint8_t *buf, size_t len,
		     const struct rcpt_strings *sd, struct rcpt *r)
{
	struct rcpt_sx x = { .sd = sd };

	return rcpt_decode_x(buf, len, &x, r);
}

int rcpt_decode_lean(const uint8_t *buf, size_t len,
		     const struct rcpt_strings *sd, struct rcpt *r)
{
	struct rcpt_sx x = { .sd = sd, .lean = true };

	return rcpt_decode_x(buf, len, &x, r);
}
