/*
 * file_rec.c - the codec of the "files" table record (struct file_rec):
 * how far a source file or stream has been taken.
 *
 * Layout, version 1 (little-endian, written byte by byte):
 *
 *   u8  version (FILE_CODEC_VERSION)
 *   u8  status (enum file_status)
 *   u64 offset, lines, records, bad, dev, ino, fp_hash
 *   u32 fp_len
 *   i64 started, updated
 *
 * Error policy as in rcpt.c: -ENOBUFS for a short buffer, -EPROTO for an
 * unknown version, -EINVAL for anything truncated, out of range or followed
 * by trailing bytes.  No allocation.
 */
#include <errno.h>
#include <string.h>

#include "rcpt.h"
#include "state_codec.h"

/* file_rec_encode - F into BUF (CAP bytes); *LEN set to the bytes used */
int file_rec_encode(const struct file_rec *f, uint8_t *buf, size_t cap,
		    size_t *len)
{
	struct codec_w w = { .p = buf, .cap = cap };

	if (f->status > FILE_FAILED)
		return -EINVAL;
	codec_put_u8(&w, FILE_CODEC_VERSION);
	codec_put_u8(&w, f->status);
	codec_put_u64(&w, f->offset);
	codec_put_u64(&w, f->lines);
	codec_put_u64(&w, f->records);
	codec_put_u64(&w, f->bad);
	codec_put_u64(&w, f->dev);
	codec_put_u64(&w, f->ino);
	codec_put_u64(&w, f->fp_hash);
	codec_put_u32(&w, f->fp_len);
	codec_put_i64(&w, f->started);
	codec_put_i64(&w, f->updated);
	if (w.overflow)
		return -ENOBUFS;
	*len = w.len;
	return 0;
}

/* file_rec_decode - BUF (LEN bytes) into F; 0, -EPROTO or -EINVAL */
int file_rec_decode(const uint8_t *buf, size_t len, struct file_rec *f)
{
	struct codec_r rd = { .p = buf, .len = len };
	uint8_t status = 0;
	int rc = 0;

	memset(f, 0, sizeof(*f));
	if (len < 1)
		return -EINVAL;
	if (buf[0] != FILE_CODEC_VERSION)
		return -EPROTO;
	rd.pos = 1;
	rc |= codec_get_u8(&rd, &status);
	rc |= codec_get_u64(&rd, &f->offset);
	rc |= codec_get_u64(&rd, &f->lines);
	rc |= codec_get_u64(&rd, &f->records);
	rc |= codec_get_u64(&rd, &f->bad);
	rc |= codec_get_u64(&rd, &f->dev);
	rc |= codec_get_u64(&rd, &f->ino);
	rc |= codec_get_u64(&rd, &f->fp_hash);
	rc |= codec_get_u32(&rd, &f->fp_len);
	rc |= codec_get_i64(&rd, &f->started);
	rc |= codec_get_i64(&rd, &f->updated);
	if (rc || status > FILE_FAILED || rd.pos != rd.len) {
		memset(f, 0, sizeof(*f));
		return -EINVAL;
	}
	f->status = status;
	return 0;
}
