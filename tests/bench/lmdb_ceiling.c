/*
 * lmdb_ceiling.c - what LMDB alone can do with the recipients of an ingest
 * run: the ceiling the ingest benchmark compares bounced with.
 *
 *   lmdb_ceiling [--random|--journal[=K]] STATE_DIR OPS WORK_DIR [BATCH]
 *
 * Reads the keys of the "rcpt" table of STATE_DIR (a state bounced just
 * wrote, read-only) and the size of each value, then, in a fresh LMDB
 * environment in WORK_DIR (which must be empty), performs OPS
 * read-modify-write operations on those keys (as many as the input had
 * records): in batches of BATCH (default 100,000) keys, each batch sorted
 * and written in one durable write transaction.  The keys are walked in
 * key order, batch after batch, starting again at the first after the
 * last: the order LMDB writes fastest (a batch dirties only the pages of
 * its key range), so the figure is a ceiling, not a model of an input
 * whose recipients come in any order.  With --random each batch takes
 * its keys from a new random permutation instead (spread over the whole
 * key space, as an input's recipients are: many more pages per batch).
 * An operation reads the key's value (absent on its first visit), changes
 * it (a counter in its first bytes), and writes back a value of the same
 * size as bounced's record of that address.  Nothing of bounced runs
 * here: no parsing, no classification, no record codec.
 *
 * With --journal (random batches as --random) a batch does not write the
 * recipients' table: it appends each new value to a second table, the
 * journal, under (batch number, key), in key order within the batch
 * (MDB_APPEND: only the journal's last pages are dirtied); an operation
 * reads its key's latest value from the journal (an array in memory says
 * which batch holds it), else from the table.  After the last batch one
 * write transaction merges the journal's latest values into the table in
 * key order and drops the journal.  This is the LMDB part of a state
 * whose commits do not rewrite the recipients' tree (docs/ARCHITECTURE.md,
 * "Where the gap to the LMDB ceiling is"), for measuring it, not a model
 * of a whole design: nothing is merged before the end.
 *
 * With --journal=K the journal is merged while the batches come: the key
 * space is cut in K ranges of as many keys, and each batch, in its own
 * transaction, after appending its values (to a table of its own, one of
 * K used in turn, keyed by the key), merges the next range's latest
 * values into the recipients' table; a batch's table, all of whose
 * values were merged or replaced K batches later, is then emptied for the
 * batch that takes its turn.  The line gives the time to the last batch
 * (the state durable, the journal holding what the last K batches left)
 * and then the merge of the rest.
 *
 * Prints one line:
 *   lmdb ceiling: 2000000 ops on 198575 keys (mean value 433 bytes),
 *   batches of 100000 in key order: 3.43 s, 583283 ops/s
 * (with --journal: "... batches of 400000 in random order into a journal:
 * 2.54 s, then merged in key order: 1.27 s; 3.81 s in all, 524279 ops/s";
 * with --journal=K: "... into a journal merged a range of 16 at a time:
 * 2.92 s, then the rest merged: 1.30 s; 4.22 s in all, 474126 ops/s")
 * Exit 0, or 64 (usage), 66 (no state), 74 (an LMDB error, printed).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lmdb.h>

#define CEIL_BATCH 100000u
#define CEIL_VALUE_MAX 65536u
#define CEIL_RANGES_MAX 64u	/* --journal=K */

struct ceil_keys {
	char *buf;		/* the keys, one after the other */
	size_t len, cap;
	size_t *off;		/* key i: buf + off[i], klen[i] bytes */
	uint32_t *klen, *vlen;
	size_t n, ncap;
	uint64_t vsum;
};

/* ceil_now - the monotonic clock in seconds */
static double ceil_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ceil_rand - xorshift64* */
static uint64_t ceil_rand(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* ceil_fail - an LMDB error of WHAT; exit code 74 */
static int ceil_fail(const char *what, int mrc)
{
	fprintf(stderr, "lmdb_ceiling: %s: %s\n", what, mdb_strerror(mrc));
	return 74;
}

/* ceil_add - append key K (KLEN bytes) with a value of VLEN bytes */
static int ceil_add(struct ceil_keys *ks, const void *k, size_t klen,
		    size_t vlen)
{
	if (ks->n == ks->ncap) {
		size_t nc = ks->ncap ? ks->ncap * 2 : 65536;
		size_t *off = realloc(ks->off, nc * sizeof(*off));
		uint32_t *kl = off ? realloc(ks->klen, nc * sizeof(*kl)) : NULL;
		uint32_t *vl = kl ? realloc(ks->vlen, nc * sizeof(*vl)) : NULL;

		if (off)
			ks->off = off;
		if (kl)
			ks->klen = kl;
		if (!vl)
			return -ENOMEM;
		ks->vlen = vl;
		ks->ncap = nc;
	}
	if (ks->len + klen > ks->cap) {
		size_t nc = ks->cap ? ks->cap * 2 : (1u << 22);
		char *b;

		while (nc < ks->len + klen)
			nc *= 2;
		b = realloc(ks->buf, nc);
		if (!b)
			return -ENOMEM;
		ks->buf = b;
		ks->cap = nc;
	}
	memcpy(ks->buf + ks->len, k, klen);
	ks->off[ks->n] = ks->len;
	ks->klen[ks->n] = (uint32_t)klen;
	ks->vlen[ks->n] = (uint32_t)(vlen > CEIL_VALUE_MAX ? CEIL_VALUE_MAX : vlen);
	ks->vsum += vlen;
	ks->len += klen;
	ks->n++;
	return 0;
}

/* ceil_read_keys - the keys and value sizes of STATE_DIR's rcpt table, in
   key order */
static int ceil_read_keys(const char *dir, struct ceil_keys *ks)
{
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_dbi dbi;
	MDB_val k, v;
	int mrc, ex = 0;

	if ((mrc = mdb_env_create(&env)) != 0 ||
	    (mrc = mdb_env_set_maxdbs(env, 16)) != 0 ||
	    (mrc = mdb_env_open(env, dir, MDB_RDONLY | MDB_NOLOCK, 0)) != 0 ||
	    (mrc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) != 0 ||
	    (mrc = mdb_dbi_open(txn, "rcpt", 0, &dbi)) != 0 ||
	    (mrc = mdb_cursor_open(txn, dbi, &cur)) != 0) {
		fprintf(stderr, "lmdb_ceiling: cannot read the rcpt table of "
			"%s: %s\n", dir, mdb_strerror(mrc));
		ex = 66;
		goto out;
	}
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		if (ceil_add(ks, k.mv_data, k.mv_size, v.mv_size) != 0) {
			fprintf(stderr, "lmdb_ceiling: out of memory\n");
			ex = 70;
			goto out;
		}
	if (mrc != MDB_NOTFOUND)
		ex = ceil_fail("reading the rcpt table", mrc);
out:
	if (cur)
		mdb_cursor_close(cur);
	if (txn)
		mdb_txn_abort(txn);
	if (env)
		mdb_env_close(env);
	return ex;
}

static int ceil_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* ceil_modify - the new value of a key into NV (its data: the caller's
   buffer) from what its read answered (MRC, V): the old value with its
   counter raised, or a fresh one when there was none; MRC again when the
   read failed otherwise, else 0 */
static int ceil_modify(int mrc, const MDB_val *v, MDB_val *nv)
{
	uint8_t *val = nv->mv_data;
	uint64_t count = 0;

	if (mrc == 0 && v->mv_size == nv->mv_size) {
		memcpy(val, v->mv_data, v->mv_size);
		memcpy(&count, val, v->mv_size < 8 ? v->mv_size : 8);
	} else if (mrc == 0 || mrc == MDB_NOTFOUND) {
		memset(val, 'x', nv->mv_size);
	} else {
		return mrc;
	}
	count++;
	memcpy(val, &count, nv->mv_size < 8 ? nv->mv_size : 8);
	return 0;
}

/* ceil_batch - one write transaction: read-modify-write the N keys of IDX
   (sorted) */
static int ceil_batch(MDB_env *env, MDB_dbi dbi, const struct ceil_keys *ks,
		      const uint32_t *idx, size_t n, uint8_t *val)
{
	MDB_txn *txn = NULL;
	size_t i;
	int mrc;

	mrc = mdb_txn_begin(env, NULL, 0, &txn);
	if (mrc)
		return ceil_fail("beginning a write transaction", mrc);
	for (i = 0; i < n; i++) {
		uint32_t j = idx[i];
		MDB_val k = { ks->klen[j], ks->buf + ks->off[j] };
		MDB_val v, nv = { ks->vlen[j], val };

		mrc = mdb_get(txn, dbi, &k, &v);
		mrc = ceil_modify(mrc, &v, &nv);
		if (mrc) {
			mdb_txn_abort(txn);
			return ceil_fail("reading a key", mrc);
		}
		mrc = mdb_put(txn, dbi, &k, &nv, 0);
		if (mrc) {
			mdb_txn_abort(txn);
			return ceil_fail("writing a key", mrc);
		}
	}
	mrc = mdb_txn_commit(txn);
	return mrc ? ceil_fail("committing", mrc) : 0;
}

/* the journal's key of key J in batch SEQ: SEQ big-endian, then the key */
static size_t ceil_jkey(const struct ceil_keys *ks, uint32_t j, uint64_t seq,
			uint8_t *out)
{
	int b;

	for (b = 0; b < 8; b++)
		out[b] = (uint8_t)(seq >> (56 - 8 * b));
	memcpy(out + 8, ks->buf + ks->off[j], ks->klen[j]);
	return 8 + ks->klen[j];
}

/* ceil_batch_journal - one write transaction: the N keys of IDX (sorted)
   read from the journal (the batch WHERE names) or the table, their new
   values appended to the journal as batch SEQ */
static int ceil_batch_journal(MDB_env *env, MDB_dbi dbi, MDB_dbi jdbi,
			      const struct ceil_keys *ks, const uint32_t *idx,
			      size_t n, uint8_t *val, uint64_t seq,
			      uint64_t *where)
{
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	uint8_t jk[8 + 512];
	size_t i;
	int mrc;

	mrc = mdb_txn_begin(env, NULL, 0, &txn);
	if (!mrc)
		mrc = mdb_cursor_open(txn, jdbi, &cur);
	if (mrc) {
		if (txn)
			mdb_txn_abort(txn);
		return ceil_fail("beginning a write transaction", mrc);
	}
	for (i = 0; i < n; i++) {
		uint32_t j = idx[i];
		MDB_val k = { ks->klen[j], ks->buf + ks->off[j] };
		MDB_val v, nv = { ks->vlen[j], val };

		if (i > 0 && idx[i - 1] == j)
			continue;	/* a pass ended inside the batch */
		if (where[j]) {
			MDB_val old = { ceil_jkey(ks, j, where[j], jk), jk };

			mrc = mdb_get(txn, jdbi, &old, &v);
		} else {
			mrc = mdb_get(txn, dbi, &k, &v);
		}
		mrc = ceil_modify(mrc, &v, &nv);
		if (mrc) {
			mdb_txn_abort(txn);
			return ceil_fail("reading a key", mrc);
		}
		k.mv_size = ceil_jkey(ks, j, seq, jk);
		k.mv_data = jk;
		mrc = mdb_cursor_put(cur, &k, &nv, MDB_APPEND);
		if (mrc) {
			mdb_txn_abort(txn);
			return ceil_fail("appending to the journal", mrc);
		}
		where[j] = seq;
	}
	mrc = mdb_txn_commit(txn);
	return mrc ? ceil_fail("committing", mrc) : 0;
}

/* ceil_merge - one write transaction: the journal's latest value of each
   key WHERE names put into the table, in key order, the journal read
   through one cursor per batch, each only forward (a batch's entries are
   in key order: an entry a later batch superseded is stepped over); the
   journal dropped.  NSEQ batches were written (1..NSEQ) */
static int ceil_merge(MDB_env *env, MDB_dbi dbi, MDB_dbi jdbi,
		      const struct ceil_keys *ks, const uint64_t *where,
		      uint64_t nseq)
{
	MDB_txn *txn = NULL;
	MDB_cursor **cur = calloc(nseq + 1, sizeof(*cur));
	uint8_t jk[8 + 512];
	size_t j;
	uint64_t s;
	int mrc;

	if (!cur) {
		fprintf(stderr, "lmdb_ceiling: out of memory\n");
		return 70;
	}
	mrc = mdb_txn_begin(env, NULL, 0, &txn);
	for (s = 1; !mrc && s <= nseq; s++) {
		MDB_val k = { 8, jk }, v;

		mrc = mdb_cursor_open(txn, jdbi, &cur[s]);
		(void)ceil_jkey(ks, 0, s, jk);	/* the batch's first entry */
		if (!mrc) {
			mrc = mdb_cursor_get(cur[s], &k, &v, MDB_SET_RANGE);
			if (mrc == MDB_NOTFOUND)
				mrc = 0;
		}
	}
	for (j = 0; !mrc && j < ks->n; j++) {
		MDB_val k = { ks->klen[j], ks->buf + ks->off[j] };
		MDB_val jkey, v;
		size_t jl;

		if (!where[j])
			continue;
		jl = ceil_jkey(ks, (uint32_t)j, where[j], jk);
		/* forward to the entry: those before it are older values */
		mrc = mdb_cursor_get(cur[where[j]], &jkey, &v, MDB_GET_CURRENT);
		while (!mrc && (jkey.mv_size != jl ||
				memcmp(jkey.mv_data, jk, jl) != 0))
			mrc = mdb_cursor_get(cur[where[j]], &jkey, &v,
					     MDB_NEXT);
		if (!mrc)
			mrc = mdb_put(txn, dbi, &k, &v, 0);
		if (!mrc) {
			mrc = mdb_cursor_get(cur[where[j]], &jkey, &v,
					     MDB_NEXT);
			if (mrc == MDB_NOTFOUND)
				mrc = 0;
		}
	}
	for (s = 1; s <= nseq; s++)
		if (cur[s])
			mdb_cursor_close(cur[s]);
	free(cur);
	if (!mrc)
		mrc = mdb_drop(txn, jdbi, 0);
	if (!mrc)
		mrc = mdb_txn_commit(txn);
	else if (txn)
		mdb_txn_abort(txn);
	return mrc ? ceil_fail("merging the journal", mrc) : 0;
}

/* ceil_ranged_merge - RANGE's keys (of K) whose latest value is in the
   journal (WHERE: batch 1.., JD: the K journal tables) put into the
   table, in key order, in TXN */
static int ceil_ranged_merge(MDB_txn *txn, MDB_dbi dbi, const MDB_dbi *jd,
			     size_t k, const struct ceil_keys *ks,
			     uint64_t *where, size_t range)
{
	size_t j = ks->n * range / k, end = ks->n * (range + 1) / k;
	int mrc = 0;

	for (; !mrc && j < end; j++) {
		MDB_val key = { ks->klen[j], ks->buf + ks->off[j] }, v;

		if (!where[j])
			continue;
		mrc = mdb_get(txn, jd[where[j] % k], &key, &v);
		if (!mrc)
			mrc = mdb_put(txn, dbi, &key, &v, 0);
		where[j] = 0;
	}
	return mrc;
}

/* ceil_batch_ranged - batch SEQ of --journal=K: the N keys of IDX
   (sorted) read from the journal (WHERE) or the table, their new values
   appended to journal table SEQ % K, then range SEQ % K merged and the
   journal table of the next batch emptied, in one transaction */
static int ceil_batch_ranged(MDB_env *env, MDB_dbi dbi, const MDB_dbi *jd,
			     size_t k, const struct ceil_keys *ks,
			     const uint32_t *idx, size_t n, uint8_t *val,
			     uint64_t seq, uint64_t *where)
{
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	size_t i;
	int mrc;

	mrc = mdb_txn_begin(env, NULL, 0, &txn);
	if (!mrc)
		mrc = mdb_cursor_open(txn, jd[seq % k], &cur);
	for (i = 0; !mrc && i < n; i++) {
		uint32_t j = idx[i];
		MDB_val key = { ks->klen[j], ks->buf + ks->off[j] };
		MDB_val v, nv = { ks->vlen[j], val };

		if (i > 0 && idx[i - 1] == j)
			continue;	/* a pass ended inside the batch */
		mrc = mdb_get(txn, where[j] ? jd[where[j] % k] : dbi, &key, &v);
		mrc = ceil_modify(mrc, &v, &nv);
		if (mrc)
			break;
		mrc = mdb_cursor_put(cur, &key, &nv, MDB_APPEND);
		where[j] = seq;
	}
	if (!mrc)
		mrc = ceil_ranged_merge(txn, dbi, jd, k, ks, where, seq % k);
	/* the next batch's table: every value of the batch K before it was
	   merged (its ranges all came since) or replaced */
	if (!mrc)
		mrc = mdb_drop(txn, jd[(seq + 1) % k], 0);
	if (!mrc)
		mrc = mdb_txn_commit(txn);
	else if (txn)
		mdb_txn_abort(txn);
	return mrc ? ceil_fail("a batch into the journal", mrc) : 0;
}

/* ceil_arg - a positive number, or 0 */
static uint64_t ceil_arg(const char *s)
{
	unsigned long long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	return errno || *end ? 0 : v;
}

int main(int argc, char **argv)
{
	struct ceil_keys ks;
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_dbi dbi;
	MDB_dbi jdbi = 0, jd[CEIL_RANGES_MAX];
	size_t ranges = 0;
	uint32_t *perm = NULL, *idx = NULL;
	uint8_t *val = NULL;
	uint64_t ops, done = 0, rng = 0x9E3779B97F4A7C15ULL, seq = 0;
	uint64_t *where = NULL;
	size_t batch = CEIL_BATCH, pos, i;
	double t0, t1 = 0, secs;
	bool shuffle = false, journal = false;
	int mrc, ex;

	if (argc > 1 && strcmp(argv[1], "--random") == 0) {
		shuffle = true;
		argc--;
		argv++;
	} else if (argc > 1 && strcmp(argv[1], "--journal") == 0) {
		shuffle = journal = true;
		argc--;
		argv++;
	} else if (argc > 1 && strncmp(argv[1], "--journal=", 10) == 0) {
		ranges = (size_t)ceil_arg(argv[1] + 10);
		if (ranges < 2 || ranges > CEIL_RANGES_MAX) {
			fprintf(stderr, "lmdb_ceiling: --journal=K takes 2 to "
				"%u ranges\n", CEIL_RANGES_MAX);
			return 64;
		}
		shuffle = true;
		argc--;
		argv++;
	}
	if (argc < 4 || argc > 5 || (ops = ceil_arg(argv[2])) == 0 ||
	    (argc == 5 && (batch = (size_t)ceil_arg(argv[4])) == 0)) {
		fprintf(stderr, "usage: lmdb_ceiling [--random|--journal"
			"[=K]] STATE_DIR OPS WORK_DIR [BATCH]\n");
		return 64;
	}
	memset(&ks, 0, sizeof(ks));
	ex = ceil_read_keys(argv[1], &ks);
	if (ex)
		goto out;
	if (ks.n == 0) {
		fprintf(stderr, "lmdb_ceiling: %s has no recipients\n", argv[1]);
		ex = 66;
		goto out;
	}
	if (batch > ks.n)
		batch = ks.n;
	perm = malloc(ks.n * sizeof(*perm));
	idx = malloc(batch * sizeof(*idx));
	val = malloc(CEIL_VALUE_MAX);
	where = calloc(ks.n, sizeof(*where));
	if (!perm || !idx || !val || !where) {
		fprintf(stderr, "lmdb_ceiling: out of memory\n");
		ex = 70;
		goto out;
	}
	for (i = 0; i < ks.n; i++)
		perm[i] = (uint32_t)i;
	if ((mrc = mdb_env_create(&env)) != 0 ||
	    (mrc = mdb_env_set_maxdbs(env, 4 + CEIL_RANGES_MAX)) != 0 ||
	    (mrc = mdb_env_set_mapsize(env, (size_t)(ks.vsum + ks.len) * 8 +
						    ((size_t)1 << 30))) != 0 ||
	    (mrc = mdb_env_open(env, argv[3], MDB_NOTLS, 0640)) != 0 ||
	    (mrc = mdb_txn_begin(env, NULL, 0, &txn)) != 0 ||
	    (mrc = mdb_dbi_open(txn, "rcpt", MDB_CREATE, &dbi)) != 0 ||
	    (journal &&
	     (mrc = mdb_dbi_open(txn, "journal", MDB_CREATE, &jdbi)) != 0) ||
	    (mrc = mdb_txn_commit(txn)) != 0) {
		ex = ceil_fail(argv[3], mrc);
		goto out;
	}
	if (ranges) {
		mrc = mdb_txn_begin(env, NULL, 0, &txn);
		for (i = 0; !mrc && i < ranges; i++) {
			char name[24];	/* "j" and a size_t */

			snprintf(name, sizeof(name), "j%zu", i);
			mrc = mdb_dbi_open(txn, name, MDB_CREATE, &jd[i]);
		}
		if (!mrc)
			mrc = mdb_txn_commit(txn);
		else if (txn)
			mdb_txn_abort(txn);
		if (mrc) {
			ex = ceil_fail(argv[3], mrc);
			goto out;
		}
	}
	t0 = ceil_now();
	pos = ks.n;	/* a new permutation first */
	while (done < ops) {
		size_t n = batch;

		if (ops - done < n)
			n = (size_t)(ops - done);
		for (i = 0; i < n; i++) {
			size_t j;
			uint32_t t;

			if (pos == ks.n)
				pos = 0;	/* a new pass */
			j = shuffle ? pos + (size_t)(ceil_rand(&rng) %
						    (ks.n - pos)) : pos;
			t = perm[pos];
			perm[pos] = perm[j];
			perm[j] = t;
			idx[i] = perm[pos++];
		}
		/* a pass ending inside a batch may repeat a key: harmless */
		qsort(idx, n, sizeof(*idx), ceil_cmp_u32);
		if (ranges)
			ex = ceil_batch_ranged(env, dbi, jd, ranges, &ks, idx,
					       n, val, ++seq, where);
		else if (journal)
			ex = ceil_batch_journal(env, dbi, jdbi, &ks, idx, n,
						val, ++seq, where);
		else
			ex = ceil_batch(env, dbi, &ks, idx, n, val);
		if (ex)
			goto out;
		done += n;
	}
	if (journal) {
		t1 = ceil_now() - t0;
		ex = ceil_merge(env, dbi, jdbi, &ks, where, seq);
		if (ex)
			goto out;
	} else if (ranges) {
		t1 = ceil_now() - t0;
		mrc = mdb_txn_begin(env, NULL, 0, &txn);
		for (i = 0; !mrc && i < ranges; i++)
			mrc = ceil_ranged_merge(txn, dbi, jd, ranges, &ks,
						where, i);
		if (!mrc)
			mrc = mdb_txn_commit(txn);
		else if (txn)
			mdb_txn_abort(txn);
		if (mrc) {
			ex = ceil_fail("merging the journal", mrc);
			goto out;
		}
	}
	secs = ceil_now() - t0;
	if (ranges)
		printf("lmdb ceiling: %llu ops on %zu keys (mean value %llu "
		       "bytes), batches of %zu in random order into a journal "
		       "merged a range of %zu at a time: %.2f s, then the rest "
		       "merged: %.2f s; %.2f s in all, %.0f ops/s\n",
		       (unsigned long long)ops, ks.n,
		       (unsigned long long)(ks.vsum / ks.n), batch, ranges, t1,
		       secs - t1, secs, secs > 0 ? (double)ops / secs : 0.0);
	else if (journal)
		printf("lmdb ceiling: %llu ops on %zu keys (mean value %llu "
		       "bytes), batches of %zu in random order into a journal: "
		       "%.2f s, then merged in key order: %.2f s; %.2f s in all, "
		       "%.0f ops/s\n", (unsigned long long)ops, ks.n,
		       (unsigned long long)(ks.vsum / ks.n), batch, t1,
		       secs - t1, secs, secs > 0 ? (double)ops / secs : 0.0);
	else
		printf("lmdb ceiling: %llu ops on %zu keys (mean value %llu "
		       "bytes), batches of %zu %s: %.2f s, %.0f ops/s\n",
		       (unsigned long long)ops, ks.n,
		       (unsigned long long)(ks.vsum / ks.n), batch,
		       shuffle ? "in random order" : "in key order", secs,
		       secs > 0 ? (double)ops / secs : 0.0);
out:
	if (env)
		mdb_env_close(env);
	free(perm);
	free(idx);
	free(val);
	free(where);
	free(ks.buf);
	free(ks.off);
	free(ks.klen);
	free(ks.vlen);
	return ex;
}
