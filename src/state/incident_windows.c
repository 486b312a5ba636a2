/*
 * incident_windows.c - the incident detector's windows in the "meta"
 * table, a record per pair (incident_windows.h).
 *
 * The changes a save carries are walked with bounds checked on every
 * length: a save that does not parse writes nothing (-EINVAL).  A pair's
 * head is kept as the detector wrote it; its recipients, as a log: each
 * save's in a record keyed by the pair, the newest time among them and
 * the save's number, so that the records that fell out of the window
 * whole are the first of the pair's, deleted from its start.
 */
#include <errno.h>
#include <string.h>

#include "incident_detect.h"
#include "incident_windows.h"
#include "state_codec.h"

#define IW_HEAD_KEY "incident.windows"
#define IW_PAIR_PREFIX "incident.window\037"
#define IW_PAIR_PREFIX_LEN (sizeof(IW_PAIR_PREFIX) - 1)
#define IW_LOG_PREFIX "incident.rcpts\037"
#define IW_LOG_PREFIX_LEN (sizeof(IW_LOG_PREFIX) - 1)
#define IW_PAIR_KEY_MAX (2 * INCIDENT_KEY_MAX + 1)
/* a log record's key: the prefix, the pair key's length (2 bytes) and
   the pair key, then its newest time and the save's number (8 bytes
   each, big-endian: the records of a pair in time order) */
#define IW_KEY_MAX (IW_LOG_PREFIX_LEN + 2 + IW_PAIR_KEY_MAX + 16)

/* iw_get - N little-endian bytes into *V; false past the end */
static bool iw_get(struct codec_r *r, unsigned n, uint64_t *v)
{
	return codec_get_le(r, v, n) == 0;
}

/* iw_bytes - a string with a 16-bit length: *S and *N; false when it
   is empty or longer than a pair key */
static bool iw_bytes(struct codec_r *r, const uint8_t **s, size_t *n)
{
	uint64_t len;

	if (!iw_get(r, 2, &len) || len == 0 || len > IW_PAIR_KEY_MAX ||
	    r->len - r->pos < len)
		return false;
	*s = r->p + r->pos;
	*n = (size_t)len;
	r->pos += len;
	return true;
}

/* iw_pair_key - the key of pair PK's head record in BUF */
static MDB_val iw_pair_key(char *buf, const uint8_t *pk, size_t n)
{
	memcpy(buf, IW_PAIR_PREFIX, IW_PAIR_PREFIX_LEN);
	memcpy(buf + IW_PAIR_PREFIX_LEN, pk, n);
	return (MDB_val){ IW_PAIR_PREFIX_LEN + n, buf };
}

/* iw_log_prefix - the prefix of pair PK's log records in BUF; its length */
static size_t iw_log_prefix(uint8_t *buf, const uint8_t *pk, size_t n)
{
	memcpy(buf, IW_LOG_PREFIX, IW_LOG_PREFIX_LEN);
	buf[IW_LOG_PREFIX_LEN] = (uint8_t)(n >> 8);
	buf[IW_LOG_PREFIX_LEN + 1] = (uint8_t)n;
	memcpy(buf + IW_LOG_PREFIX_LEN + 2, pk, n);
	return IW_LOG_PREFIX_LEN + 2 + n;
}

/* iw_time_key - a record time in a key's order */
static uint64_t iw_time_key(int64_t t)
{
	return (uint64_t)t ^ ((uint64_t)1 << 63);
}

/* iw_drop_log - delete pair PK's log records whose newest time is before
   FROM (all of them: INT64_MAX); 0 or -errno */
static int iw_drop_log(MDB_txn *txn, MDB_dbi dbi, const uint8_t *pk,
		       size_t n, int64_t from)
{
	uint8_t key[IW_KEY_MAX];
	size_t plen = iw_log_prefix(key, pk, n);
	MDB_val k = { plen, key }, v;
	MDB_cursor *cur = NULL;
	int rc;

	rc = mdb_cursor_open(txn, dbi, &cur);
	if (rc)
		return state_mdb_errno(rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const uint8_t *kp = k.mv_data;

		if (k.mv_size != plen + 16 || memcmp(kp, key, plen) != 0)
			break;
		if (from != INT64_MAX &&
		    codec_be_load(kp + plen) >= iw_time_key(from))
			break;
		rc = mdb_cursor_del(cur, 0);
		if (rc)
			break;
	}
	mdb_cursor_close(cur);
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : state_mdb_errno(rc);
}

/* iw_log_put - pair PK's recipients of this save (N of them at P, 16
   bytes each) as a log record of save SAVES; 0 or -errno */
static int iw_log_put(MDB_txn *txn, MDB_dbi dbi, const uint8_t *pk,
		      size_t n, uint64_t saves, const uint8_t *p,
		      uint64_t count)
{
	uint8_t key[IW_KEY_MAX];
	size_t plen = iw_log_prefix(key, pk, n);
	int64_t newest = INT64_MIN, t;
	uint64_t i;
	MDB_val k, v;

	for (i = 0; i < count; i++) {
		t = (int64_t)codec_le_load(p + 16 * i + 8, 8);
		if (t > newest)
			newest = t;
	}
	codec_be_store(key + plen, iw_time_key(newest));
	codec_be_store(key + plen + 8, saves);
	k = (MDB_val){ plen + 16, key };
	v = (MDB_val){ 16 * count, (void *)p };
	return state_mdb_errno(mdb_put(txn, dbi, &k, &v, 0));
}

/* iw_walk - the changes of a save (after its head, save number SAVES):
   applied when TXN is set, only checked when not; 0, -EINVAL or
   -errno */
static int iw_walk(MDB_txn *txn, MDB_dbi dbi, struct codec_r *r,
		   uint64_t saves)
{
	char key[IW_KEY_MAX];
	uint64_t n, i, len, from, count;
	const uint8_t *pk, *head, *rcpts;
	size_t pklen;
	MDB_val k, v;
	int rc;

	if (!iw_get(r, 4, &n))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (!iw_bytes(r, &pk, &pklen))
			return -EINVAL;
		if (!txn)
			continue;
		k = iw_pair_key(key, pk, pklen);
		rc = mdb_del(txn, dbi, &k, NULL);
		if (rc && rc != MDB_NOTFOUND)
			return state_mdb_errno(rc);
		rc = iw_drop_log(txn, dbi, pk, pklen, INT64_MAX);
		if (rc)
			return rc;
	}
	if (!iw_get(r, 4, &n))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (!iw_bytes(r, &pk, &pklen) || !iw_get(r, 4, &len) ||
		    r->len - r->pos < len)
			return -EINVAL;
		head = r->p + r->pos;
		r->pos += len;
		if (!iw_get(r, 8, &from) || !iw_get(r, 4, &count) ||
		    (r->len - r->pos) / 16 < count)
			return -EINVAL;
		rcpts = r->p + r->pos;
		r->pos += 16 * count;
		if (!txn)
			continue;
		k = iw_pair_key(key, pk, pklen);
		v = (MDB_val){ len, (void *)head };
		rc = state_mdb_errno(mdb_put(txn, dbi, &k, &v, 0));
		if (rc == 0)
			rc = iw_drop_log(txn, dbi, pk, pklen, (int64_t)from);
		if (rc == 0 && count)
			rc = iw_log_put(txn, dbi, pk, pklen, saves, rcpts,
					count);
		if (rc)
			return rc;
	}
	return r->pos == r->len ? 0 : -EINVAL;
}

int incident_windows_put(struct state *st, MDB_txn *txn, const void *buf,
			 size_t len)
{
	struct codec_r r = { buf, len, INCIDENT_SAVE_HEAD - 8 };
	MDB_val k = { sizeof(IW_HEAD_KEY) - 1, (void *)IW_HEAD_KEY };
	MDB_val v = { INCIDENT_SAVE_HEAD, (void *)buf };
	uint64_t saves;
	MDB_dbi dbi;
	int rc;

	if (len < INCIDENT_SAVE_HEAD ||
	    ((const uint8_t *)buf)[0] != INCIDENT_SAVE_VERSION ||
	    !iw_get(&r, 8, &saves))
		return -EINVAL;
	/* checked whole before anything is written */
	rc = iw_walk(NULL, 0, &r, saves);
	if (rc)
		return rc;
	rc = state_dbi(st, "meta", &dbi);
	if (rc)
		return rc;
	rc = state_mdb_errno(mdb_put(txn, dbi, &k, &v, 0));
	if (rc)
		return rc;
	r.pos = INCIDENT_SAVE_HEAD;
	return iw_walk(txn, dbi, &r, saves);
}

/* iw_put_le - N little-endian bytes of V onto OUT */
static void iw_put_le(GByteArray *out, uint64_t v, unsigned n)
{
	uint8_t b[8];

	codec_le_store(b, v, n);
	g_byte_array_append(out, b, n);
}

/* iw_gather_log - pair PK's log records onto OUT as a count and the
   recipients; 0 or -errno */
static int iw_gather_log(MDB_txn *txn, MDB_dbi dbi, const uint8_t *pk,
			 size_t n, GByteArray *out)
{
	uint8_t key[IW_KEY_MAX];
	size_t plen = iw_log_prefix(key, pk, n);
	MDB_val k = { plen, key }, v;
	MDB_cursor *cur = NULL;
	guint at = out->len;
	uint64_t count = 0;
	int rc;

	iw_put_le(out, 0, 4);
	rc = mdb_cursor_open(txn, dbi, &cur);
	if (rc)
		return state_mdb_errno(rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != plen + 16 ||
		    memcmp(k.mv_data, key, plen) != 0)
			break;
		if (v.mv_size % 16 || count + v.mv_size / 16 > UINT32_MAX)
			continue;	/* no record of ours */
		g_byte_array_append(out, v.mv_data, (guint)v.mv_size);
		count += v.mv_size / 16;
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return state_mdb_errno(rc);
	codec_le_store(out->data + at, count, 4);
	return 0;
}

/* iw_gather - every pair's head and log after the save's head in OUT:
   nothing forgotten, then the pairs; 0 or -errno */
static int iw_gather(MDB_txn *txn, MDB_dbi dbi, GByteArray *out)
{
	MDB_val k = { IW_PAIR_PREFIX_LEN, (void *)IW_PAIR_PREFIX }, v;
	MDB_cursor *cur = NULL;
	guint at;
	uint32_t n = 0;
	int rc, mrc;

	iw_put_le(out, 0, 4);
	at = out->len;
	iw_put_le(out, 0, 4);
	rc = state_mdb_errno(mdb_cursor_open(txn, dbi, &cur));
	if (rc)
		return rc;
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const uint8_t *pk = (const uint8_t *)k.mv_data +
				    IW_PAIR_PREFIX_LEN;
		size_t pklen = k.mv_size - IW_PAIR_PREFIX_LEN;

		if (k.mv_size < IW_PAIR_PREFIX_LEN ||
		    memcmp(k.mv_data, IW_PAIR_PREFIX, IW_PAIR_PREFIX_LEN) != 0)
			break;
		if (pklen == 0 || pklen > IW_PAIR_KEY_MAX ||
		    v.mv_size > UINT32_MAX)
			continue;	/* no record of ours */
		iw_put_le(out, pklen, 2);
		g_byte_array_append(out, pk, (guint)pklen);
		iw_put_le(out, v.mv_size, 4);
		g_byte_array_append(out, v.mv_data, (guint)v.mv_size);
		iw_put_le(out, 0, 8);
		rc = iw_gather_log(txn, dbi, pk, pklen, out);
		if (rc)
			break;
		n++;
	}
	mdb_cursor_close(cur);
	if (rc)
		return rc;
	if (mrc != 0 && mrc != MDB_NOTFOUND)
		return state_mdb_errno(mrc);
	codec_le_store(out->data + at, n, 4);
	return 0;
}

int incident_windows_get(struct state *st, MDB_txn *txn, GByteArray *out)
{
	MDB_val k = { sizeof(IW_HEAD_KEY) - 1, (void *)IW_HEAD_KEY }, v;
	MDB_dbi dbi;
	int rc = state_dbi(st, "meta", &dbi);

	if (rc)
		return rc;
	rc = state_mdb_errno(mdb_get(txn, dbi, &k, &v));
	if (rc)
		return rc;
	g_byte_array_append(out, v.mv_data, (guint)v.mv_size);
	if (v.mv_size != INCIDENT_SAVE_HEAD ||
	    ((const uint8_t *)v.mv_data)[0] != INCIDENT_SAVE_VERSION)
		return 0;	/* the whole detector, as written before */
	return iw_gather(txn, dbi, out);
}
