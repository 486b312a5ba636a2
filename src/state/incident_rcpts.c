/*
 * incident_rcpts.c - the recipients an open incident protects, in the
 * LMDB table "protected" (incident_rcpts.h).
 *
 * The monitor keeps an open incident's recipients as a set of address
 * hashes; what a commit added to it is written here as one chunk per
 * incident, read back into the set when the worker starts again, and
 * deleted with the incident's end.
 */
#include <errno.h>
#include <string.h>

#include "incident_rcpts.h"
#include "state_codec.h"

#define RCPTS_KEY 16

static void rcpts_key(uint8_t *k, uint64_t id, uint64_t first)
{
	codec_be_store(k, id);
	codec_be_store(k + 8, first);
}

int incident_rcpts_add(struct state *st, MDB_txn *txn, uint64_t id,
		       const uint64_t *h, size_t n)
{
	uint8_t buf[INCIDENT_RCPTS_CHUNK * 8];
	uint8_t key[RCPTS_KEY];
	MDB_val k = { sizeof(key), key }, v;
	MDB_dbi dbi;
	size_t i, c;
	int rc;

	if (n == 0)
		return 0;
	rc = state_dbi(st, "protected", &dbi);
	if (rc)
		return rc;
	for (i = 0; i < n; i += c) {
		size_t j;

		c = n - i < INCIDENT_RCPTS_CHUNK ? n - i : INCIDENT_RCPTS_CHUNK;
		for (j = 0; j < c; j++)
			codec_le_store(buf + 8 * j, h[i + j], 8);
		rcpts_key(key, id, h[i]);
		v.mv_size = 8 * c;
		v.mv_data = buf;
		rc = state_mdb_errno(mdb_put(txn, dbi, &k, &v, 0));
		if (rc)
			return rc;
	}
	return 0;
}

/* rcpts_walk - CB for every hash kept for ID, or (CB NULL) every chunk
   of ID deleted */
static int rcpts_walk(struct state *st, MDB_txn *txn, uint64_t id,
		      incident_rcpts_cb cb, void *arg)
{
	uint8_t key[RCPTS_KEY];
	MDB_cursor *cur = NULL;
	MDB_val k = { sizeof(key), key }, v;
	int rc, mrc;

	rc = state_table_cursor(st, txn, "protected", &cur);
	if (rc || !cur)
		return rc;
	rcpts_key(key, id, 0);
	/* after a deletion the cursor stands on the entry that followed:
	   MDB_NEXT gives that one */
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const uint8_t *p = v.mv_data;
		size_t j;

		if (k.mv_size != RCPTS_KEY || codec_be_load(k.mv_data) != id)
			break;
		if (!cb) {
			mrc = mdb_cursor_del(cur, 0);
			if (mrc)
				break;
			continue;
		}
		if (v.mv_size % 8)
			continue;	/* not ours: skipped */
		for (j = 0; j < v.mv_size; j += 8)
			cb(codec_le_load(p + j, 8), arg);
	}
	if (mrc != 0 && mrc != MDB_NOTFOUND)
		rc = state_mdb_errno(mrc);
	mdb_cursor_close(cur);
	return rc;
}

int incident_rcpts_foreach(struct state *st, MDB_txn *txn, uint64_t id,
			   incident_rcpts_cb cb, void *arg)
{
	return cb ? rcpts_walk(st, txn, id, cb, arg) : -EINVAL;
}

int incident_rcpts_del(struct state *st, MDB_txn *txn, uint64_t id)
{
	return rcpts_walk(st, txn, id, NULL, NULL);
}
