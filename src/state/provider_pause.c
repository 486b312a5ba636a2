/*
 * provider_pause.c - the pause records of providers in the meta table
 * (provider_pause.h): key "pause/NAME", value u8 version, i64 since_ms,
 * str why (u16 length + bytes); and the end of the last pause: key
 * "resumed/NAME", value u8 version, i64 ended_ms.
 *
 * Error policy: state errors are returned as -errno; a record that does
 * not decode is taken as "paused, reason unknown" rather than ignored, so
 * a damaged record never hides a pause.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "provider_pause.h"
#include "state_codec.h"
#include "state.h"

#define PAUSE_VERSION 1
#define PAUSE_KEY_MAX 64

/* pause_key_of - "PREFIX/NAME" into KEY (CAP bytes) and K, the meta
   table into *DBI; 0, or -EINVAL when NAME does not fit */
static int pause_key_of(struct state *st, const char *prefix,
			const char *name, char *key, size_t cap, MDB_val *k,
			MDB_dbi *dbi)
{
	int n = snprintf(key, cap, "%s/%s", prefix, name ? name : "");

	if (!name || !*name || n < 0 || (size_t)n >= cap)
		return -EINVAL;
	k->mv_data = key;
	k->mv_size = (size_t)n;
	return state_dbi(st, "meta", dbi);
}

/* pause_write - W's record under "PREFIX/NAME"; 0 or -errno */
static int pause_write(struct state *st, MDB_txn *txn, const char *prefix,
		       const char *name, const struct codec_w *w)
{
	char key[PAUSE_KEY_MAX];
	MDB_val k, v;
	MDB_dbi dbi;
	int rc;

	rc = pause_key_of(st, prefix, name, key, sizeof(key), &k, &dbi);
	if (rc)
		return rc;
	if (w->overflow)
		return -ENOBUFS;
	v.mv_data = w->p;
	v.mv_size = w->len;
	return state_mdb_errno(mdb_put(txn, dbi, &k, &v, 0));
}

/* pause_read - the record under "PREFIX/NAME" into RD, past its version
   byte (*VERSION); 0, -ENOENT or -errno */
static int pause_read(struct state *st, MDB_txn *txn, const char *prefix,
		      const char *name, struct codec_r *rd, uint8_t *version)
{
	char key[PAUSE_KEY_MAX];
	MDB_val k, v;
	MDB_dbi dbi;
	int rc;

	rc = pause_key_of(st, prefix, name, key, sizeof(key), &k, &dbi);
	if (rc)
		return rc;
	rc = state_mdb_errno(mdb_get(txn, dbi, &k, &v));
	if (rc)
		return rc;
	rd->p = v.mv_data;
	rd->len = v.mv_size;
	rd->pos = 0;
	*version = 0;
	(void)codec_get_u8(rd, version);
	return 0;
}

int provider_pause_put(struct state *st, MDB_txn *txn, const char *name,
		       int64_t since_ms, const char *why)
{
	uint8_t buf[16 + PAUSE_WHY_MAX];
	struct codec_w w = { .p = buf, .cap = sizeof(buf) };

	codec_put_u8(&w, PAUSE_VERSION);
	codec_put_i64(&w, since_ms);
	codec_put_cstr(&w, why ? why : "", PAUSE_WHY_MAX);
	return pause_write(st, txn, "pause", name, &w);
}

int provider_pause_get(struct state *st, MDB_txn *txn, const char *name,
		       int64_t *since_ms, char *why, size_t whylen)
{
	char text[PAUSE_WHY_MAX];
	struct codec_r rd;
	uint8_t version;
	int rc;

	rc = pause_read(st, txn, "pause", name, &rd, &version);
	if (rc)
		return rc;
	*since_ms = 0;
	if (version != PAUSE_VERSION || codec_get_i64(&rd, since_ms) ||
	    codec_get_str(&rd, text, sizeof(text)))
		snprintf(text, sizeof(text), "(the pause record is "
			 "unreadable)");
	if (why && whylen)
		snprintf(why, whylen, "%s", text);
	return 0;
}

int provider_pause_clear(struct state *st, MDB_txn *txn, const char *name)
{
	char key[PAUSE_KEY_MAX];
	MDB_val k;
	MDB_dbi dbi;
	int rc;

	rc = pause_key_of(st, "pause", name, key, sizeof(key), &k, &dbi);
	if (rc)
		return rc;
	rc = state_mdb_errno(mdb_del(txn, dbi, &k, NULL));
	return rc == -ENOENT ? 0 : rc;
}

int provider_resumed_put(struct state *st, MDB_txn *txn, const char *name,
			 int64_t ended_ms)
{
	uint8_t buf[16];
	struct codec_w w = { .p = buf, .cap = sizeof(buf) };

	codec_put_u8(&w, PAUSE_VERSION);
	codec_put_i64(&w, ended_ms);
	return pause_write(st, txn, "resumed", name, &w);
}

int provider_resumed_get(struct state *st, MDB_txn *txn, const char *name,
			 int64_t *ended_ms)
{
	struct codec_r rd;
	uint8_t version;
	int rc;

	*ended_ms = 0;
	rc = pause_read(st, txn, "resumed", name, &rd, &version);
	if (rc)
		return rc;
	if (version != PAUSE_VERSION || codec_get_i64(&rd, ended_ms)) {
		*ended_ms = 0;
		return -EINVAL;
	}
	return 0;
}
