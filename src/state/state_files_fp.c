/*
 * state_files_fp.c - the "files_fp" table: the files table by content, so
 * that a file the state took under one path is known under another (moved
 * back from done/, copied, renamed by a rotation) without a walk of every
 * file record.
 *
 * Key: the fingerprint of a file record (its FNV-1a hash, 8 bytes, then
 * the number of first bytes it covers, 4 bytes, both big-endian); value:
 * the path (the files table's key) of the record written last with it.
 * Each write of a file record writes its entry; a record whose
 * fingerprint grew since (a small file become larger) leaves an entry
 * that no longer matches, which the lookup checks and ignores.  A state
 * written before the table is indexed once, when the table is made.
 */
#include <errno.h>
#include <string.h>

#include <lmdb.h>

#include "state.h"

#define FP_KEY_LEN 12

/* fp_key - the table's key of LEN bytes hashing to HASH */
static void fp_key(uint64_t hash, uint32_t len, uint8_t k[FP_KEY_LEN])
{
	int i;

	for (i = 0; i < 8; i++)
		k[i] = (uint8_t)(hash >> (56 - 8 * i));
	for (i = 0; i < 4; i++)
		k[8 + i] = (uint8_t)(len >> (24 - 8 * i));
}

int state_files_fp_put(struct state *st, MDB_txn *txn, const char *path,
		       size_t pathlen, const struct file_rec *f)
{
	uint8_t key[FP_KEY_LEN];
	MDB_val k = { sizeof(key), key }, v = { pathlen, (void *)path };
	MDB_dbi dbi;
	int rc;

	if (f->fp_len == 0 || pathlen == 0)
		return 0;	/* a stream: no content to know it by */
	rc = state_dbi(st, "files_fp", &dbi);
	if (rc == -ENOENT)
		return 0;	/* a read-only state of before the table */
	if (rc)
		return rc;
	fp_key(f->fp_hash, f->fp_len, key);
	return state_mdb_errno(mdb_put(txn, dbi, &k, &v, 0));
}

int state_files_fp_find(struct state *st, MDB_txn *txn, uint64_t hash,
			uint32_t len, char *path, size_t cap,
			struct file_rec *f)
{
	uint8_t key[FP_KEY_LEN];
	MDB_val k = { sizeof(key), key }, v;
	MDB_dbi dbi;
	int rc;

	rc = state_dbi(st, "files_fp", &dbi);
	if (rc)
		return rc == -ENOENT ? -ENOENT : rc;
	fp_key(hash, len, key);
	rc = state_mdb_errno(mdb_get(txn, dbi, &k, &v));
	if (rc)
		return rc;
	if (v.mv_size == 0 || v.mv_size >= cap ||
	    memchr(v.mv_data, '\0', v.mv_size))
		return -ENOENT;	/* not a path this state could have */
	memcpy(path, v.mv_data, v.mv_size);
	path[v.mv_size] = '\0';
	rc = state_file_get(st, txn, path, f);
	if (rc == -EINVAL)
		return -ENOENT;	/* its record does not decode: no match */
	if (rc)
		return rc;
	if (f->fp_hash != hash || f->fp_len != len)
		return -ENOENT;	/* that file grew past what matched */
	return 0;
}

/* fp_fill_visit - one file record into the index (state_file_foreach) */
static int fp_fill_visit(const char *key, size_t keylen,
			 const struct file_rec *f, void *arg)
{
	void **a = arg;
	int rc;

	if (!f)
		return 0;	/* does not decode: nothing to know it by */
	rc = state_files_fp_put(a[0], a[1], key, keylen, f);
	return rc ? rc : 0;
}

int state_files_fp_fill(struct state *st, MDB_txn *txn)
{
	void *a[2] = { st, txn };

	return state_file_foreach(st, txn, fp_fill_visit, a);
}
