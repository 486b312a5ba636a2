/*
 * state_codec.h - little-endian byte writer and bounds-checked reader shared
 * by the record codecs (rcpt.c, file_rec.c, state.c).  Private to src/.
 *
 * The writer never writes past CAP: once a value does not fit it sets
 * OVERFLOW and ignores the rest, so an encoder checks once at the end.
 * Every reader function returns 0, or -1 (position unchanged) when the
 * value does not fit in what remains.
 */
#ifndef BOUNCED_STATE_CODEC_H
#define BOUNCED_STATE_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct codec_w {
	uint8_t *p;
	size_t cap, len;
	bool overflow;
};

struct codec_r {
	const uint8_t *p;
	size_t len, pos;
};

/* codec_le_store - the low N bytes of V at P, least significant first */
static inline void codec_le_store(uint8_t *p, uint64_t v, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* codec_le_load - N bytes at P, least significant first */
static inline uint64_t codec_le_load(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* codec_be_store - V at P, 8 bytes, most significant first (keys that
   sort as numbers under LMDB's memcmp) */
static inline void codec_be_store(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* codec_be_load - 8 bytes at P, most significant first */
static inline uint64_t codec_be_load(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* codec_put_le - an N-byte little-endian integer */
static inline void codec_put_le(struct codec_w *w, uint64_t v, unsigned n)
{
	if (w->overflow || w->cap - w->len < n) {
		w->overflow = true;
		return;
	}
	codec_le_store(w->p + w->len, v, n);
	w->len += n;
}

static inline void codec_put_u8(struct codec_w *w, uint8_t v)
{
	codec_put_le(w, v, 1);
}

static inline void codec_put_u16(struct codec_w *w, uint16_t v)
{
	codec_put_le(w, v, 2);
}

static inline void codec_put_u32(struct codec_w *w, uint32_t v)
{
	codec_put_le(w, v, 4);
}

static inline void codec_put_u64(struct codec_w *w, uint64_t v)
{
	codec_put_le(w, v, 8);
}

static inline void codec_put_i64(struct codec_w *w, int64_t v)
{
	codec_put_le(w, (uint64_t)v, 8);
}

/* codec_put_bytes - N raw bytes */
static inline void codec_put_bytes(struct codec_w *w, const void *s, size_t n)
{
	if (w->overflow || w->cap - w->len < n) {
		w->overflow = true;
		return;
	}
	if (n)
		memcpy(w->p + w->len, s, n);
	w->len += n;
}

/* codec_get_le - an N-byte little-endian integer into *V */
static inline int codec_get_le(struct codec_r *r, uint64_t *v, unsigned n)
{
	if (r->len - r->pos < n)
		return -1;
	*v = codec_le_load(r->p + r->pos, n);
	r->pos += n;
	return 0;
}

static inline int codec_get_u8(struct codec_r *r, uint8_t *v)
{
	uint64_t x;

	if (codec_get_le(r, &x, 1))
		return -1;
	*v = (uint8_t)x;
	return 0;
}

static inline int codec_get_u16(struct codec_r *r, uint16_t *v)
{
	uint64_t x;

	if (codec_get_le(r, &x, 2))
		return -1;
	*v = (uint16_t)x;
	return 0;
}

static inline int codec_get_u32(struct codec_r *r, uint32_t *v)
{
	uint64_t x;

	if (codec_get_le(r, &x, 4))
		return -1;
	*v = (uint32_t)x;
	return 0;
}

static inline int codec_get_u64(struct codec_r *r, uint64_t *v)
{
	return codec_get_le(r, v, 8);
}

static inline int codec_get_i64(struct codec_r *r, int64_t *v)
{
	uint64_t x;

	if (codec_get_le(r, &x, 8))
		return -1;
	*v = (int64_t)x;	/* two's complement, as written */
	return 0;
}

/*
 * codec_get_str - a u16-length string into DST (SIZE bytes, NUL added).
 * Fails when the length passes the end, does not fit DST with its NUL, or
 * the bytes hold a NUL.
 */
static inline int codec_get_str(struct codec_r *r, char *dst, size_t size)
{
	size_t save = r->pos;
	uint16_t n;

	if (codec_get_u16(r, &n))
		return -1;
	if (r->len - r->pos < n || (size_t)n >= size ||
	    memchr(r->p + r->pos, '\0', n) != NULL) {
		r->pos = save;
		return -1;
	}
	if (n)
		memcpy(dst, r->p + r->pos, n);
	dst[n] = '\0';
	r->pos += n;
	return 0;
}

/* codec_put_cstr - a u16 length and the bytes of the C string in FIELD
   (SIZE bytes; an unterminated field is cut) */
static inline void codec_put_cstr(struct codec_w *w, const char *field,
				  size_t size)
{
	size_t n = strnlen(field, size - 1);

	codec_put_u16(w, (uint16_t)n);
	codec_put_bytes(w, field, n);
}

struct rcpt_reason;
/* rcpt_reason_put / rcpt_reason_get - the codec of a struct rcpt_reason,
   shared by the recipient and action records (rcpt.c); get: 0 or -EINVAL */
void rcpt_reason_put(struct codec_w *w, const struct rcpt_reason *rs);
int rcpt_reason_get(struct codec_r *rd, struct rcpt_reason *rs);

#endif
