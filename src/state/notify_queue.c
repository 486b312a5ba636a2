/*
 * notify_queue.c - the "notify" table: complaints and unsubscribes
 * waiting for the operator's mail, oldest first, and their codec.
 *
 * Layout of a value (version 1): u8 version, i64 time, i64 send_time, then
 * the strings kind, addr, feedback_type, reporting_domain, orig_subject,
 * source, results, provider, campaign_uid, campaign_name,
 * campaign_subject, list_uid, list_name (u16 length + bytes each).
 */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "notify_queue.h"
#include "state_codec.h"
#include "state.h"

#define NOTIFY_SEQ "notify.seq"

#define PUT_STR(w, field) codec_put_cstr((w), (field), sizeof(field))
#define GET_STR(rd, field) codec_get_str((rd), (field), sizeof(field))

int notify_item_encode(const struct notify_item *it, uint8_t *buf, size_t cap,
		       size_t *len)
{
	struct codec_w w = { .p = buf, .cap = cap };

	codec_put_u8(&w, NOTIFY_CODEC_VERSION);
	codec_put_i64(&w, it->time);
	codec_put_i64(&w, it->send_time);
	PUT_STR(&w, it->kind);
	PUT_STR(&w, it->addr);
	PUT_STR(&w, it->feedback_type);
	PUT_STR(&w, it->reporting_domain);
	PUT_STR(&w, it->orig_subject);
	PUT_STR(&w, it->source);
	PUT_STR(&w, it->results);
	PUT_STR(&w, it->provider);
	PUT_STR(&w, it->campaign_uid);
	PUT_STR(&w, it->campaign_name);
	PUT_STR(&w, it->campaign_subject);
	PUT_STR(&w, it->list_uid);
	PUT_STR(&w, it->list_name);
	if (w.overflow)
		return -ENOBUFS;
	*len = w.len;
	return 0;
}

int notify_item_decode(const uint8_t *buf, size_t len, struct notify_item *it)
{
	struct codec_r rd = { .p = buf, .len = len };
	uint8_t version = 0;
	int bad = 0;

	memset(it, 0, sizeof(*it));
	if (codec_get_u8(&rd, &version))
		return -EINVAL;
	if (version != NOTIFY_CODEC_VERSION)
		return -EPROTO;
	bad |= codec_get_i64(&rd, &it->time);
	bad |= codec_get_i64(&rd, &it->send_time);
	bad |= GET_STR(&rd, it->kind);
	bad |= GET_STR(&rd, it->addr);
	bad |= GET_STR(&rd, it->feedback_type);
	bad |= GET_STR(&rd, it->reporting_domain);
	bad |= GET_STR(&rd, it->orig_subject);
	bad |= GET_STR(&rd, it->source);
	bad |= GET_STR(&rd, it->results);
	bad |= GET_STR(&rd, it->provider);
	bad |= GET_STR(&rd, it->campaign_uid);
	bad |= GET_STR(&rd, it->campaign_name);
	bad |= GET_STR(&rd, it->campaign_subject);
	bad |= GET_STR(&rd, it->list_uid);
	bad |= GET_STR(&rd, it->list_name);
	if (bad || rd.pos != rd.len)
		return -EINVAL;
	return 0;
}

/* notify_key - SEQ big-endian into KEY */
static void notify_key(uint8_t key[8], uint64_t seq)
{
	int i;

	for (i = 7; i >= 0; i--, seq >>= 8)
		key[i] = (uint8_t)seq;
}

static uint64_t notify_seq_of(const MDB_val *k)
{
	const uint8_t *p = k->mv_data;
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < 8 && i < k->mv_size; i++)
		v = v << 8 | p[i];
	return v;
}

int notify_queue_add(struct state *st, MDB_txn *txn,
		     const struct notify_item *it)
{
	uint8_t buf[NOTIFY_ENCODED_MAX], key[8];
	MDB_val k = { sizeof(key), key }, v;
	uint64_t seq = 0;
	size_t len = 0;
	MDB_dbi dbi;
	int rc;

	rc = state_dbi(st, "notify", &dbi);
	if (rc == 0)
		rc = notify_item_encode(it, buf, sizeof(buf), &len);
	if (rc == 0)
		rc = state_meta_add_u64(st, txn, NOTIFY_SEQ, 1);
	if (rc == 0)
		rc = state_meta_get_u64(st, txn, NOTIFY_SEQ, &seq);
	if (rc)
		return rc;
	notify_key(key, seq);
	v.mv_size = len;
	v.mv_data = buf;
	return state_mdb_errno(mdb_put(txn, dbi, &k, &v, MDB_NOOVERWRITE));
}

int notify_queue_peek(struct state *st, MDB_txn *txn, struct notify_item *out,
		      size_t max, size_t *n, uint64_t *last, uint64_t *total)
{
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	MDB_stat ms;
	MDB_dbi dbi;
	int mrc, rc;

	*n = 0;
	*last = 0;
	if (total)
		*total = 0;
	rc = state_dbi(st, "notify", &dbi);
	if (rc == -ENOENT)
		return 0;	/* a read-only state from before the queue */
	if (rc)
		return rc;
	if (total) {
		mrc = mdb_stat(txn, dbi, &ms);
		if (mrc)
			return state_mdb_errno(mrc);
		*total = ms.ms_entries;
	}
	mrc = mdb_cursor_open(txn, dbi, &cur);
	if (mrc)
		return state_mdb_errno(mrc);
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	     mrc == 0 && *n < max; mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		*last = notify_seq_of(&k);
		if (notify_item_decode(v.mv_data, v.mv_size, &out[*n]) == 0)
			(*n)++;
		else	/* dropped with the items mailed around it */
			log_warn("notify", "queued item %llu of the operator's "
				 "mail does not decode: it is left out",
				 (unsigned long long)*last);
	}
	mdb_cursor_close(cur);
	return mrc == 0 || mrc == MDB_NOTFOUND ? 0 : state_mdb_errno(mrc);
}

int notify_queue_drop(struct state *st, MDB_txn *txn, uint64_t last)
{
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	MDB_dbi dbi;
	int mrc, rc;

	rc = state_dbi(st, "notify", &dbi);
	if (rc)
		return rc;
	mrc = mdb_cursor_open(txn, dbi, &cur);
	if (mrc)
		return state_mdb_errno(mrc);
	while ((mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0 &&
	       notify_seq_of(&k) <= last) {
		mrc = mdb_cursor_del(cur, 0);
		if (mrc)
			break;
	}
	mdb_cursor_close(cur);
	return mrc == 0 || mrc == MDB_NOTFOUND ? 0 : state_mdb_errno(mrc);
}
