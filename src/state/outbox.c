/*
 * outbox.c - the durable queue of provider actions in the LMDB tables
 * "outbox" and "dead" (handles from state_dbi()).
 *
 * outbox key: due_ms then id, each a big-endian u64 (16 bytes), so LMDB's
 * memcmp order is the order in which actions fall due (ties by id, i.e.
 * enqueue order).  dead key: id, big-endian u64.  Values: action_encode().
 * Ids come from the meta counter "seq.action" (1, 2, …), bumped in the
 * caller's transaction, so an aborted enqueue leaves no trace, not even a
 * used id.
 *
 * Journal: every key outbox_enqueue or outbox_revive adds is also written,
 * with the action's provider, to "outbox_journal" under the next number
 * (the newest entry's + 1; pruning keeps the newest, so numbers never come
 * back).  The dispatcher reads what is new since its last look and adds it
 * to its schedule in memory; it prunes what it has read.  Moves the
 * dispatcher makes itself (reschedule, update) are not journaled: it knows
 * them.  A state written before the journal existed has none: the
 * dispatcher builds its schedule from the outbox at start anyway.
 *
 * Revive policy: a revived action is due now with attempts 0 and a fresh
 * created_ms (now), so it gets a whole max age of retries again; its
 * last_error is kept, for history, until the next failure overwrites it.
 *
 * Error policy: every function works in the caller's transaction and
 * returns 0 or a negative errno (LMDB codes mapped by state_mdb_errno:
 * -ENOENT no such action, -ENOSPC map full, …); the caller's struct is
 * changed only on success.  Due times must be >= 0 (-EINVAL otherwise).
 * Walks skip, with a warning naming the key, a record that does not
 * decode.  Read-only states written before the outbox existed read as
 * empty.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "log.h"
#include "outbox.h"

#define OUTBOX_KEY_LEN 16	/* due_ms, id */
#define DEAD_KEY_LEN 8		/* id */
#define JOURNAL_KEY_LEN 8	/* entry number */
#define JOURNAL_PROV_MAX 31	/* bytes of the provider name kept */
#define OUTBOX_SEQ "seq.action"

/* outbox_be_store - V at P, most significant byte first */
static void outbox_be_store(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

/* outbox_be_load - 8 bytes at P, most significant first */
static uint64_t outbox_be_load(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

/* outbox_key - the outbox key of (DUE_MS, ID) into K; -EINVAL when the
   due time is negative (it would sort after every positive one) */
static int outbox_key(uint8_t k[OUTBOX_KEY_LEN], int64_t due_ms, uint64_t id)
{
	if (due_ms < 0)
		return -EINVAL;
	outbox_be_store(k, (uint64_t)due_ms);
	outbox_be_store(k + 8, id);
	return 0;
}

/* outbox_tables - the handles of "outbox" and "dead" (either may be NULL) */
static int outbox_tables(struct state *st, MDB_dbi *outbox, MDB_dbi *dead)
{
	int rc = 0;

	if (outbox)
		rc = state_dbi(st, "outbox", outbox);
	if (rc == 0 && dead)
		rc = state_dbi(st, "dead", dead);
	return rc;
}

/* outbox_put - A encoded under KEY (KLEN bytes) in DBI with mdb_put FLAGS */
static int outbox_put(MDB_txn *txn, MDB_dbi dbi, uint8_t *key, size_t klen,
		      const struct action *a, unsigned flags)
{
	uint8_t buf[ACTION_ENCODED_MAX];
	MDB_val k = { klen, key }, v;
	size_t len = 0;
	int mrc, rc;

	rc = action_encode(a, buf, sizeof(buf), &len);
	if (rc)
		return rc;
	v.mv_size = len;
	v.mv_data = buf;
	mrc = mdb_put(txn, dbi, &k, &v, flags);
	if (mrc == MDB_KEYEXIST)	/* MDB_NOOVERWRITE: the id is taken */
		return -EEXIST;
	return state_mdb_errno(mrc);
}

/* outbox_exists - 0 when KEY is in DBI, else -ENOENT or another error */
static int outbox_exists(MDB_txn *txn, MDB_dbi dbi, uint8_t *key, size_t klen)
{
	MDB_val k = { klen, key }, v;

	return state_mdb_errno(mdb_get(txn, dbi, &k, &v));
}

/* outbox_del - delete KEY from DBI; -ENOENT when absent */
static int outbox_del(MDB_txn *txn, MDB_dbi dbi, uint8_t *key, size_t klen)
{
	MDB_val k = { klen, key };

	return state_mdb_errno(mdb_del(txn, dbi, &k, NULL));
}

/* outbox_journal_dbi - the journal's handle; -ENOENT when the state has
   none (read-only, written before it existed) */
static int outbox_journal_dbi(struct state *st, MDB_dbi *dbi)
{
	return state_dbi(st, "outbox_journal", dbi);
}

/* outbox_journal_add - KEY (an outbox key) and PROVIDER under the next
   number of the journal */
static int outbox_journal_add(struct state *st, MDB_txn *txn,
			      const uint8_t *key, const char *provider)
{
	uint8_t jkey[JOURNAL_KEY_LEN], val[OUTBOX_KEY_LEN + JOURNAL_PROV_MAX];
	size_t plen = strnlen(provider, JOURNAL_PROV_MAX);
	MDB_val k = { sizeof(jkey), jkey }, v;
	uint64_t last = 0;
	MDB_dbi dbi;
	int rc;

	rc = outbox_journal_dbi(st, &dbi);
	if (rc == 0)
		rc = outbox_journal_last(st, txn, &last);
	if (rc)
		return rc;
	outbox_be_store(jkey, last + 1);
	memcpy(val, key, OUTBOX_KEY_LEN);
	memcpy(val + OUTBOX_KEY_LEN, provider, plen);
	v.mv_size = OUTBOX_KEY_LEN + plen;
	v.mv_data = val;
	return state_mdb_errno(mdb_put(txn, dbi, &k, &v, MDB_APPEND));
}

/* outbox_enqueue - give A an id (and defaults) and store it */
int outbox_enqueue(struct state *st, MDB_txn *txn, struct action *a,
		   int64_t now_ms)
{
	uint8_t key[OUTBOX_KEY_LEN];
	struct action n = *a;
	uint64_t id = 0;
	MDB_dbi dbi;
	int rc;

	rc = outbox_tables(st, &dbi, NULL);
	if (rc)
		goto out;
	rc = state_meta_add_u64(st, txn, OUTBOX_SEQ, 1);
	if (rc == 0)
		rc = state_meta_get_u64(st, txn, OUTBOX_SEQ, &id);
	if (rc)
		goto out;
	if (id == 0) {		/* the counter wrapped: cannot happen */
		rc = -EOVERFLOW;
		goto out;
	}
	n.id = id;
	if (n.root == 0)
		n.root = id;
	if (n.created_ms == 0)
		n.created_ms = now_ms;
	if (n.due_ms == 0)
		n.due_ms = now_ms;
	rc = outbox_key(key, n.due_ms, n.id);
	if (rc)
		goto out;
	rc = outbox_put(txn, dbi, key, sizeof(key), &n, MDB_NOOVERWRITE);
	if (rc == 0)
		rc = outbox_journal_add(st, txn, key, n.provider);
	if (rc)
		goto out;
	*a = n;
out:
	return rc;
}

/* outbox_update - rewrite A under its key (due_ms, id); -ENOENT when the
   outbox holds no such key */
int outbox_update(struct state *st, MDB_txn *txn, const struct action *a)
{
	uint8_t key[OUTBOX_KEY_LEN];
	MDB_dbi dbi;
	int rc;

	rc = outbox_tables(st, &dbi, NULL);
	if (rc == 0)
		rc = outbox_key(key, a->due_ms, a->id);
	if (rc == 0)
		rc = outbox_exists(txn, dbi, key, sizeof(key));
	if (rc == 0)
		rc = outbox_put(txn, dbi, key, sizeof(key), a, 0);
	return rc;
}

/* outbox_reschedule - move A from its key to (NEW_DUE_MS, id) */
int outbox_reschedule(struct state *st, MDB_txn *txn, struct action *a,
		      int64_t new_due_ms)
{
	uint8_t oldkey[OUTBOX_KEY_LEN], newkey[OUTBOX_KEY_LEN];
	struct action n = *a;
	MDB_dbi dbi;
	int rc;

	rc = outbox_tables(st, &dbi, NULL);
	if (rc)
		goto out;
	n.due_ms = new_due_ms;
	rc = outbox_key(oldkey, a->due_ms, a->id);
	if (rc == 0)
		rc = outbox_key(newkey, n.due_ms, n.id);
	if (rc)
		goto out;
	rc = outbox_del(txn, dbi, oldkey, sizeof(oldkey));
	if (rc)
		goto out;
	rc = outbox_put(txn, dbi, newkey, sizeof(newkey), &n, 0);
	if (rc)
		goto out;	/* the caller aborts: the delete goes too */
	a->due_ms = new_due_ms;
out:
	return rc;
}

/* outbox_remove - delete A (by due_ms, id); -ENOENT when absent */
int outbox_remove(struct state *st, MDB_txn *txn, const struct action *a)
{
	uint8_t key[OUTBOX_KEY_LEN];
	MDB_dbi dbi;
	int rc;

	rc = outbox_tables(st, &dbi, NULL);
	if (rc == 0)
		rc = outbox_key(key, a->due_ms, a->id);
	if (rc == 0)
		rc = outbox_del(txn, dbi, key, sizeof(key));
	return rc;
}

/* outbox_kill - move A to the dead table, WHY (when not NULL) as its
   last_error; -ENOENT when A is not in the outbox */
int outbox_kill(struct state *st, MDB_txn *txn, struct action *a,
		const char *why)
{
	uint8_t key[OUTBOX_KEY_LEN], dkey[DEAD_KEY_LEN];
	struct action n = *a;
	MDB_dbi obx, dead;
	int rc;

	rc = outbox_tables(st, &obx, &dead);
	if (rc)
		goto out;
	if (why != NULL)
		rcpt_set_str(n.last_error, sizeof(n.last_error), why);
	rc = outbox_key(key, a->due_ms, a->id);
	if (rc)
		goto out;
	outbox_be_store(dkey, n.id);
	rc = outbox_del(txn, obx, key, sizeof(key));
	if (rc)
		goto out;
	rc = outbox_put(txn, dead, dkey, sizeof(dkey), &n, 0);
	if (rc)
		goto out;
	*a = n;
out:
	return rc;
}

/* outbox_dead_remove - delete dead action ID; -ENOENT when there is
   none */
int outbox_dead_remove(struct state *st, MDB_txn *txn, uint64_t id)
{
	uint8_t dkey[DEAD_KEY_LEN];
	MDB_dbi obx, dead;
	int rc;

	rc = outbox_tables(st, &obx, &dead);
	if (rc)
		return rc;
	outbox_be_store(dkey, id);
	return outbox_del(txn, dead, dkey, sizeof(dkey));
}

/* outbox_revive - dead action ID back into the outbox, due NOW_MS */
int outbox_revive(struct state *st, MDB_txn *txn, uint64_t id,
		  int64_t now_ms)
{
	uint8_t key[OUTBOX_KEY_LEN], dkey[DEAD_KEY_LEN];
	MDB_val k = { sizeof(dkey), dkey }, v;
	struct action a;
	MDB_dbi obx, dead;
	int rc;

	rc = outbox_tables(st, &obx, &dead);
	if (rc)
		goto out;
	outbox_be_store(dkey, id);
	rc = state_mdb_errno(mdb_get(txn, dead, &k, &v));
	if (rc)
		goto out;
	rc = action_decode(v.mv_data, v.mv_size, &a);
	if (rc) {
		log_warn("outbox", "dead action %" PRIu64 " does not decode "
			 "(%s): cannot revive it", id, strerror(-rc));
		goto out;
	}
	a.id = id;		/* the key is the truth */
	a.due_ms = now_ms;
	a.created_ms = now_ms;
	a.attempts = 0;
	rc = outbox_key(key, a.due_ms, a.id);
	if (rc)
		goto out;
	rc = outbox_put(txn, obx, key, sizeof(key), &a, MDB_NOOVERWRITE);
	if (rc == 0)
		rc = outbox_journal_add(st, txn, key, a.provider);
	if (rc)
		goto out;
	rc = outbox_del(txn, dead, dkey, sizeof(dkey));
out:
	return rc;
}

/* a walk over one table: the key length it expects, the stop time */
struct outbox_walk {
	const char *table;
	size_t klen;
	int64_t until_ms;	/* < 0: no limit (outbox only) */
	outbox_cb cb;
	void *arg;
};

/* outbox_seek - position CUR at the first key after LAST (LAST NULL: the
   first key); 0, -ENOENT at the end, or another error */
static int outbox_seek(MDB_cursor *cur, const uint8_t *last, size_t lastlen,
		       MDB_val *k, MDB_val *v)
{
	int mrc;

	if (last == NULL)
		return state_mdb_errno(mdb_cursor_get(cur, k, v, MDB_FIRST));
	k->mv_size = lastlen;
	k->mv_data = (void *)last;
	mrc = mdb_cursor_get(cur, k, v, MDB_SET_RANGE);
	if (mrc == 0 && k->mv_size == lastlen &&
	    memcmp(k->mv_data, last, lastlen) == 0)
		mrc = mdb_cursor_get(cur, k, v, MDB_NEXT);
	return state_mdb_errno(mrc);
}

/* outbox_walk - W's callback for every decodable entry of DBI in key order.
   The cursor is re-positioned after the last key before each step, so the
   callback may change the table (an action it moves later is met again). */
static int outbox_walk(MDB_txn *txn, MDB_dbi dbi, const struct outbox_walk *w)
{
	uint8_t last[OUTBOX_KEY_LEN];
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	struct action a;
	bool started = false;
	int rc;

	rc = state_mdb_errno(mdb_cursor_open(txn, dbi, &cur));
	if (rc)
		goto out;
	for (;;) {
		rc = outbox_seek(cur, started ? last : NULL, w->klen, &k, &v);
		if (rc == -ENOENT) {
			rc = 0;
			break;
		}
		if (rc)
			break;
		if (k.mv_size != w->klen) {
			/* foreign key: cannot order it, cannot resume after it
			   by length; stop rather than loop */
			log_warn("outbox", "table %s holds a %zu-byte key, not "
				 "%zu: walk stopped there", w->table,
				 k.mv_size, w->klen);
			break;
		}
		memcpy(last, k.mv_data, w->klen);
		started = true;
		if (w->until_ms >= 0 &&
		    outbox_be_load(last) > (uint64_t)w->until_ms)
			break;
		rc = action_decode(v.mv_data, v.mv_size, &a);
		if (rc) {
			log_warn("outbox", "table %s: action %" PRIu64 " does "
				 "not decode (%s): skipped", w->table,
				 outbox_be_load(last + w->klen - 8),
				 strerror(-rc));
			rc = 0;
			continue;
		}
		rc = w->cb(&a, w->arg);
		if (rc)
			break;
	}
out:
	if (cur)
		mdb_cursor_close(cur);
	return rc;
}

/* outbox_foreach - pending actions in due order, up to UNTIL_MS */
int outbox_foreach(struct state *st, MDB_txn *txn, int64_t until_ms,
		   outbox_cb cb, void *arg)
{
	struct outbox_walk w = { "outbox", OUTBOX_KEY_LEN, until_ms, cb, arg };
	MDB_dbi dbi;
	int rc;

	rc = outbox_tables(st, &dbi, NULL);
	if (rc == -ENOENT)
		return 0;	/* read-only state without an outbox */
	if (rc)
		return rc;
	return outbox_walk(txn, dbi, &w);
}

/* outbox_dead_foreach - dead actions in id order */
int outbox_dead_foreach(struct state *st, MDB_txn *txn, outbox_cb cb,
			void *arg)
{
	struct outbox_walk w = { "dead", DEAD_KEY_LEN, -1, cb, arg };
	MDB_dbi dbi;
	int rc;

	rc = outbox_tables(st, NULL, &dbi);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	return outbox_walk(txn, dbi, &w);
}

/* outbox_next_due - the due time of the first key; -ENOENT when empty */
int outbox_next_due(struct state *st, MDB_txn *txn, int64_t *due_ms)
{
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	MDB_dbi dbi;
	uint64_t due;
	int rc;

	rc = outbox_tables(st, &dbi, NULL);
	if (rc)
		goto out;
	rc = state_mdb_errno(mdb_cursor_open(txn, dbi, &cur));
	if (rc)
		goto out;
	rc = state_mdb_errno(mdb_cursor_get(cur, &k, &v, MDB_FIRST));
	if (rc)
		goto out;
	if (k.mv_size != OUTBOX_KEY_LEN) {
		rc = -EINVAL;
		goto out;
	}
	due = outbox_be_load(k.mv_data);
	if (due > INT64_MAX) {	/* never written by outbox_key */
		rc = -EINVAL;
		goto out;
	}
	*due_ms = (int64_t)due;
out:
	if (cur)
		mdb_cursor_close(cur);
	return rc;
}

/* outbox_get - the action under (DUE_MS, ID) */
int outbox_get(struct state *st, MDB_txn *txn, int64_t due_ms, uint64_t id,
	       struct action *a)
{
	uint8_t key[OUTBOX_KEY_LEN];
	MDB_val k = { sizeof(key), key }, v;
	MDB_dbi dbi;
	int rc;

	rc = outbox_tables(st, &dbi, NULL);
	if (rc == 0)
		rc = outbox_key(key, due_ms, id);
	if (rc == 0)
		rc = state_mdb_errno(mdb_get(txn, dbi, &k, &v));
	if (rc == 0)
		rc = action_decode(v.mv_data, v.mv_size, a);
	if (rc == 0) {
		a->id = id;		/* the key is the truth */
		a->due_ms = due_ms;
	}
	return rc;
}

/* outbox_journal_last - the newest entry's number, 0 when empty */
int outbox_journal_last(struct state *st, MDB_txn *txn, uint64_t *last)
{
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	MDB_dbi dbi;
	int rc;

	*last = 0;
	rc = outbox_journal_dbi(st, &dbi);
	if (rc == -ENOENT)
		return 0;
	if (rc == 0)
		rc = state_mdb_errno(mdb_cursor_open(txn, dbi, &cur));
	if (rc == 0)
		rc = state_mdb_errno(mdb_cursor_get(cur, &k, &v, MDB_LAST));
	if (rc == -ENOENT)
		rc = 0;
	else if (rc == 0 && k.mv_size != JOURNAL_KEY_LEN)
		rc = -EINVAL;
	else if (rc == 0)
		*last = outbox_be_load(k.mv_data);
	if (cur)
		mdb_cursor_close(cur);
	return rc;
}

/* outbox_journal_entry - one journal value into its parts; -EINVAL when
   it is not one */
static int outbox_journal_entry(const MDB_val *v, int64_t *due_ms,
				uint64_t *id, char *prov, size_t provlen)
{
	const uint8_t *p = v->mv_data;
	size_t plen;
	uint64_t due;

	if (v->mv_size < OUTBOX_KEY_LEN ||
	    v->mv_size > OUTBOX_KEY_LEN + JOURNAL_PROV_MAX)
		return -EINVAL;
	due = outbox_be_load(p);
	if (due > INT64_MAX)
		return -EINVAL;
	*due_ms = (int64_t)due;
	*id = outbox_be_load(p + 8);
	plen = v->mv_size - OUTBOX_KEY_LEN;
	if (plen >= provlen)
		plen = provlen - 1;
	memcpy(prov, p + OUTBOX_KEY_LEN, plen);
	prov[plen] = '\0';
	return 0;
}

/* outbox_journal_read - the entries numbered above AFTER, in order */
int outbox_journal_read(struct state *st, MDB_txn *txn, uint64_t after,
			outbox_journal_cb cb, void *arg, uint64_t *last)
{
	uint8_t from[JOURNAL_KEY_LEN];
	char prov[JOURNAL_PROV_MAX + 1];
	MDB_cursor *cur = NULL;
	MDB_val k = { sizeof(from), from }, v;
	MDB_cursor_op op = MDB_SET_RANGE;
	MDB_dbi dbi;
	int64_t due;
	uint64_t id, n;
	int rc;

	rc = outbox_journal_dbi(st, &dbi);
	if (rc == -ENOENT)
		return 0;
	if (rc == 0)
		rc = state_mdb_errno(mdb_cursor_open(txn, dbi, &cur));
	if (rc)
		goto out;
	if (after == UINT64_MAX)
		goto out;
	outbox_be_store(from, after + 1);
	for (;; op = MDB_NEXT) {
		rc = state_mdb_errno(mdb_cursor_get(cur, &k, &v, op));
		if (rc == -ENOENT) {
			rc = 0;
			break;
		}
		if (rc)
			break;
		if (k.mv_size != JOURNAL_KEY_LEN) {
			log_warn("outbox", "the outbox journal holds a %zu-byte "
				 "key: read stopped there", k.mv_size);
			break;
		}
		n = outbox_be_load(k.mv_data);
		*last = n;
		if (outbox_journal_entry(&v, &due, &id, prov, sizeof(prov))) {
			log_warn("outbox", "outbox journal entry %" PRIu64
				 " is not one: skipped", n);
			continue;
		}
		rc = cb(due, id, prov, arg);
		if (rc)
			break;
	}
out:
	if (cur)
		mdb_cursor_close(cur);
	return rc;
}

/* outbox_journal_prune - delete the entries numbered below BELOW */
int outbox_journal_prune(struct state *st, MDB_txn *txn, uint64_t below)
{
	MDB_cursor *cur = NULL;
	uint64_t last = 0;
	MDB_val k, v;
	MDB_dbi dbi;
	int rc;

	rc = outbox_journal_dbi(st, &dbi);
	if (rc == -ENOENT)
		return 0;
	if (rc == 0)
		rc = outbox_journal_last(st, txn, &last);
	if (rc == 0 && below > last)
		below = last;	/* the newest stays, whatever the caller says */
	if (rc == 0)
		rc = state_mdb_errno(mdb_cursor_open(txn, dbi, &cur));
	while (rc == 0) {
		rc = state_mdb_errno(mdb_cursor_get(cur, &k, &v, MDB_FIRST));
		if (rc == -ENOENT) {
			rc = 0;
			break;
		}
		if (rc || k.mv_size != JOURNAL_KEY_LEN ||
		    outbox_be_load(k.mv_data) >= below)
			break;
		rc = state_mdb_errno(mdb_cursor_del(cur, 0));
	}
	if (cur)
		mdb_cursor_close(cur);
	return rc;
}

/* outbox_counts - entries of "outbox" and "dead" (either pointer may be
   NULL) */
int outbox_counts(struct state *st, MDB_txn *txn, uint64_t *pending,
		  uint64_t *dead)
{
	uint64_t n = 0;
	int rc = 0;

	if (pending) {
		rc = state_stat_entries(st, txn, "outbox", &n);
		if (rc)
			return rc;
		*pending = n;
	}
	if (dead) {
		rc = state_stat_entries(st, txn, "dead", &n);
		if (rc)
			return rc;
		*dead = n;
	}
	return 0;
}
