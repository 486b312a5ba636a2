/*
 * rates_store.c - the reputation monitor's counts and alerts in LMDB
 * (rates_store.h): adding the pending deltas into minute, hour and day
 * buckets, pruning past keeping, giving the windows back after a restart,
 * and walking the buckets for bouncectl rates and the report.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "rates_store.h"
#include "state_codec.h"

#define RS_KEY_MAX (2 + 8 + RATES_NAME_MAX)
#define RS_VAL_LEN (RATES_COUNTERS * 8)
#define RS_PRUNE_EVERY 600	/* seconds of record time */

/* rs_key - GRAN DIM START NAME into K (RS_KEY_MAX); its length */
static size_t rs_key(uint8_t *k, char gran, enum alert_dimension dim,
		     int64_t start, const char *name)
{
	size_t n = name ? strnlen(name, RATES_NAME_MAX) : 0;

	k[0] = (uint8_t)gran;
	k[1] = (uint8_t)('0' + dim);
	codec_be_store(k + 2, (uint64_t)start);
	if (n)
		memcpy(k + 10, name, n);
	return 10 + n;
}

/* rs_add - add C into the bucket KEY, through CUR: a new bucket is put
   by one descent; an existing one is found by it (MDB_NOOVERWRITE gives
   its value back, the cursor on it) and replaced where it is */
static int rs_add(MDB_cursor *cur, const uint8_t *key, size_t klen,
		  const uint64_t *c)
{
	uint8_t buf[RS_VAL_LEN];
	MDB_val k = { klen, (void *)key }, v = { RS_VAL_LEN, buf };
	int mrc, i;

	for (i = 0; i < RATES_COUNTERS; i++)
		codec_le_store(buf + 8 * i, c[i], 8);
	mrc = mdb_cursor_put(cur, &k, &v, MDB_NOOVERWRITE);
	if (mrc != MDB_KEYEXIST)
		return state_mdb_errno(mrc);
	/* V is the bucket's value now: added to, unless it is not ours
	   (then reset to C) */
	if (v.mv_size == RS_VAL_LEN)
		for (i = 0; i < RATES_COUNTERS; i++)
			codec_le_store(buf + 8 * i,
				       codec_le_load((const uint8_t *)v.mv_data +
						     8 * i, 8) + c[i], 8);
	v.mv_size = RS_VAL_LEN;
	v.mv_data = buf;
	k.mv_size = klen;
	k.mv_data = (void *)key;
	return state_mdb_errno(mdb_cursor_put(cur, &k, &v, MDB_CURRENT));
}

/* the hour and day buckets one flush adds to, merged first (the minute
   buckets are the deltas themselves): an open-addressing table
   (no allocation per bucket) keyed by granularity, dimension, start and
   the name's pointer (the deltas of a flush name each name through one
   pointer, interned; two pointers to the same bytes would only make two
   buckets of one key, added to LMDB one after the other: the same sum) */
struct rs_bucket {
	uint64_t hash;		/* 0: free */
	const char *name;
	int64_t start;
	uint8_t gran, dim;
	uint64_t c[RATES_COUNTERS];
};

struct rs_table {
	struct rs_bucket *b;
	size_t cap, used;
};

/* rs_grow - twice the buckets, and at least WANT; false on ENOMEM */
static bool rs_grow(struct rs_table *t, size_t want)
{
	size_t cap = t->cap ? t->cap * 2 : 1024, i, k;

	while (cap < want)
		cap *= 2;
	struct rs_bucket *n = g_try_new0(struct rs_bucket, cap);

	if (!n)
		return false;
	for (i = 0; i < t->cap; i++) {
		if (!t->b[i].hash)
			continue;
		for (k = t->b[i].hash & (cap - 1); n[k].hash;
		     k = (k + 1) & (cap - 1))
			;
		n[k] = t->b[i];
	}
	g_free(t->b);
	t->b = n;
	t->cap = cap;
	return true;
}

/* rs_merge - D's counts into the bucket of granularity GRAN at START;
   false on ENOMEM */
static bool rs_merge(struct rs_table *t, char gran, const struct rates_delta *d,
		     int64_t start)
{
	uint64_t h = (uint64_t)(uintptr_t)d->name * 0xD6E8FEB86659FD93ULL ^
		     ((uint64_t)(uint8_t)gran << 56) ^
		     ((uint64_t)d->dim << 48) ^
		     ((uint64_t)start * 0x9E3779B97F4A7C15ULL);
	struct rs_bucket *e;
	size_t k;
	int i;

	h = (h ^ (h >> 29)) * 0xBF58476D1CE4E5B9ULL;
	h ^= h >> 32;
	if (!h)
		h = 1;
	if ((t->used + 1) * 2 > t->cap && !rs_grow(t, 0))
		return false;
	for (k = h & (t->cap - 1);; k = (k + 1) & (t->cap - 1)) {
		e = &t->b[k];
		if (!e->hash) {
			e->hash = h;
			e->name = d->name;
			e->start = start;
			e->gran = (uint8_t)gran;
			e->dim = (uint8_t)d->dim;
			t->used++;
			break;
		}
		if (e->hash == h && e->start == start &&
		    e->gran == (uint8_t)gran && e->dim == (uint8_t)d->dim &&
		    e->name == d->name)
			break;
	}
	for (i = 0; i < RATES_COUNTERS; i++)
		e->c[i] += d->c[i];
	return true;
}

/* rs_prune_range - delete the keys of GRAN and DIM starting before
   BEFORE */
static int rs_prune_range(MDB_txn *txn, MDB_dbi dbi, char gran,
			  enum alert_dimension dim, int64_t before)
{
	uint8_t key[RS_KEY_MAX];
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	int rc, mrc;

	rc = state_mdb_errno(mdb_cursor_open(txn, dbi, &cur));
	if (rc)
		return rc;
	k.mv_size = rs_key(key, gran, dim, 0, NULL);
	k.mv_data = key;
	mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (mrc == 0) {
		const uint8_t *p = k.mv_data;

		if (k.mv_size < 10 || p[0] != (uint8_t)gran ||
		    p[1] != (uint8_t)('0' + dim) ||
		    codec_be_load(p + 2) >= (uint64_t)before)
			break;
		mrc = mdb_cursor_del(cur, 0);
		if (mrc)
			break;
		mrc = mdb_cursor_get(cur, &k, &v, MDB_GET_CURRENT);
		if (mrc == EINVAL || mrc == MDB_NOTFOUND)
			mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	return mrc == MDB_NOTFOUND ? 0 : state_mdb_errno(mrc);
}

/* rs_prune - at most once per RS_PRUNE_EVERY of record time */
static int rs_prune(struct state *st, MDB_txn *txn, MDB_dbi dbi, int64_t now)
{
	uint64_t last = 0;
	int rc, d;

	rc = state_meta_get_u64(st, txn, "rates.pruned", &last);
	if (rc && rc != -ENOENT)
		return rc;
	if (now - (int64_t)last < RS_PRUNE_EVERY)
		return 0;
	for (d = 0; d < ALERT_DIMENSIONS && rc == 0; d++) {
		rc = rs_prune_range(txn, dbi, 'm', d, now - RATES_KEEP_MINUTES);
		if (rc == 0)
			rc = rs_prune_range(txn, dbi, 'h', d,
					    now - RATES_KEEP_HOURS);
		if (rc == 0)
			rc = rs_prune_range(txn, dbi, 'd', d,
					    now - RATES_KEEP_DAYS);
	}
	if (rc == 0 || rc == -ENOENT)
		rc = state_meta_put_u64(st, txn, "rates.pruned",
					(uint64_t)now);
	return rc;
}

/* rs_alert_key - RULE NUL DIM NAME into K; its length */
static size_t rs_alert_key(uint8_t *k, const char *rule,
			   enum alert_dimension dim, const char *name)
{
	size_t rl = strnlen(rule, 159), nl = strnlen(name, RATES_NAME_MAX);

	memcpy(k, rule, rl);
	k[rl] = 0;
	k[rl + 1] = (uint8_t)('0' + dim);
	memcpy(k + rl + 2, name, nl);
	return rl + 2 + nl;
}

/* rs_alerts_put - the transitions T (N) into table "alerts" */
static int rs_alerts_put(struct state *st, MDB_txn *txn,
			 const struct alert_rule *rules, size_t nrules,
			 const struct rates_transition *t, size_t n)
{
	size_t i;
	MDB_dbi dbi;
	int rc;

	rc = state_dbi(st, "alerts", &dbi);
	if (rc)
		return rc;
	for (i = 0; i < n && rc == 0; i++) {
		uint8_t key[160 + 2 + RATES_NAME_MAX], val[24];
		MDB_val k, v;
		int mrc;

		if (t[i].rule >= nrules)
			continue;
		k.mv_size = rs_alert_key(key, rules[t[i].rule].text, t[i].dim,
					 t[i].name);
		k.mv_data = key;
		if (!t[i].raised) {
			mrc = mdb_del(txn, dbi, &k, NULL);
			rc = mrc == MDB_NOTFOUND ? 0 : state_mdb_errno(mrc);
			continue;
		}
		codec_le_store(val, (uint64_t)t[i].time, 8);
		memcpy(val + 8, &t[i].rate, 8);
		codec_le_store(val + 16, t[i].volume, 8);
		v.mv_size = sizeof(val);
		v.mv_data = val;
		rc = state_mdb_errno(mdb_put(txn, dbi, &k, &v, 0));
	}
	return rc;
}

int rates_store_flush(struct state *st, MDB_txn *txn, struct rates *r)
{
	struct rates_flush f;

	f.rules = rates_rules(r, &f.nrules);
	f.nd = rates_pending(r, &f.d);
	f.nt = rates_transitions(r, &f.t);
	f.now = rates_now(r);
	return rates_store_flush_parts(st, txn, &f);
}

int rates_store_flush_parts(struct state *st, MDB_txn *txn,
			    const struct rates_flush *f)
{
	struct rs_table t = { NULL, 0, 0 };
	MDB_cursor *cur = NULL;
	const struct rates_delta *d = f->d;
	int64_t now = f->now;
	size_t n = f->nd, i;
	MDB_dbi dbi;
	int rc;

	rc = state_dbi(st, "rates", &dbi);
	if (rc)
		goto out;
	rc = state_mdb_errno(mdb_cursor_open(txn, dbi, &cur));
	if (rc)
		goto out;
	/* hours and days merged first (a name's deltas of one flush share a
	   few of them): about one bucket per name and hour, and room */
	if (!rs_grow(&t, n / 16)) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		int64_t start = d[i].minute * 60;
		bool ok = true;

		/* a delta is one name's minute (two only for a record out
		   of order): added as it is, in the order of the deltas */
		if (start >= now - RATES_KEEP_MINUTES) {
			uint8_t key[RS_KEY_MAX];
			uint64_t c[RATES_COUNTERS];
			size_t klen = rs_key(key, 'm', d[i].dim, start,
					     d[i].name);
			int j;

			for (j = 0; j < RATES_COUNTERS; j++)
				c[j] = d[i].c[j];
			rc = rs_add(cur, key, klen, c);
			if (rc)
				goto out;
		}
		if (start >= now - RATES_KEEP_HOURS)
			ok = rs_merge(&t, 'h', &d[i], start - start % 3600);
		if (ok && start >= now - RATES_KEEP_DAYS)
			ok = rs_merge(&t, 'd', &d[i], start - start % 86400);
		if (!ok) {
			rc = -ENOMEM;
			goto out;
		}
	}
	for (i = 0; rc == 0 && i < t.cap; i++) {
		const struct rs_bucket *e = &t.b[i];
		uint8_t key[RS_KEY_MAX];
		size_t klen;

		if (!e->hash)
			continue;
		klen = rs_key(key, (char)e->gran, (enum alert_dimension)e->dim,
			      e->start, e->name);
		rc = rs_add(cur, key, klen, e->c);
	}
	mdb_cursor_close(cur);
	cur = NULL;
	if (rc == 0)
		rc = rs_alerts_put(st, txn, f->rules, f->nrules, f->t, f->nt);
	if (rc == 0 && now > 0) {
		rc = state_meta_put_u64(st, txn, "rates.now", (uint64_t)now);
		if (rc == 0)
			rc = rs_prune(st, txn, dbi, now);
	}
out:
	if (cur)
		mdb_cursor_close(cur);
	g_free(t.b);
	return rc;
}

int64_t rates_store_now(struct state *st, MDB_txn *txn)
{
	uint64_t v = 0;

	if (state_meta_get_u64(st, txn, "rates.now", &v) != 0)
		return 0;
	return (int64_t)v;
}

char rates_store_gran(int64_t since, int64_t now)
{
	if (since >= now - RATES_KEEP_MINUTES)
		return 'm';
	if (since >= now - RATES_KEEP_HOURS)
		return 'h';
	return 'd';
}

int rates_store_walk(struct state *st, MDB_txn *txn, char gran,
		     enum alert_dimension dim, int64_t since, int64_t until,
		     rates_store_cb cb, void *arg)
{
	uint8_t key[RS_KEY_MAX];
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	int rc, mrc;

	rc = state_table_cursor(st, txn, "rates", &cur);
	if (rc || !cur)
		return rc;
	k.mv_size = rs_key(key, gran, dim, since > 0 ? since : 0, NULL);
	k.mv_data = key;
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const uint8_t *p = k.mv_data;
		char name[RATES_NAME_MAX + 1];
		uint64_t c[RATES_COUNTERS];
		size_t nl;
		int i;

		if (k.mv_size < 10 || p[0] != (uint8_t)gran ||
		    p[1] != (uint8_t)('0' + dim) ||
		    (int64_t)codec_be_load(p + 2) >= until)
			break;
		if (v.mv_size != RS_VAL_LEN)
			continue;
		nl = k.mv_size - 10;
		if (nl > RATES_NAME_MAX)
			nl = RATES_NAME_MAX;
		memcpy(name, p + 10, nl);
		name[nl] = '\0';
		for (i = 0; i < RATES_COUNTERS; i++)
			c[i] = codec_le_load((const uint8_t *)v.mv_data + 8 * i, 8);
		rc = cb(name, (int64_t)codec_be_load(p + 2), c, arg);
		if (rc)
			break;
	}
	if (rc == 0 && mrc != 0 && mrc != MDB_NOTFOUND)
		rc = state_mdb_errno(mrc);
	mdb_cursor_close(cur);
	return rc;
}

/* rs_alert_decode - a key and value of "alerts" into A; false when they
   are not ours */
static bool rs_alert_decode(const MDB_val *k, const MDB_val *v,
			    struct rates_store_alert *a)
{
	const uint8_t *p = k->mv_data;
	const uint8_t *nul = memchr(p, 0, k->mv_size);
	size_t rl, nl;

	if (!nul || v->mv_size != 24)
		return false;
	rl = (size_t)(nul - p);
	if (rl >= sizeof(a->rule) || k->mv_size < rl + 2)
		return false;
	nl = k->mv_size - rl - 2;
	if (nl > RATES_NAME_MAX || p[rl + 1] < '0' ||
	    p[rl + 1] >= '0' + ALERT_DIMENSIONS)
		return false;
	memcpy(a->rule, p, rl);
	a->rule[rl] = '\0';
	a->dim = (enum alert_dimension)(p[rl + 1] - '0');
	memcpy(a->name, p + rl + 2, nl);
	a->name[nl] = '\0';
	a->since = (int64_t)codec_le_load(v->mv_data, 8);
	memcpy(&a->rate, (const uint8_t *)v->mv_data + 8, 8);
	a->volume = codec_le_load((const uint8_t *)v->mv_data + 16, 8);
	return true;
}

int rates_store_alerts(struct state *st, MDB_txn *txn,
		       rates_store_alert_cb cb, void *arg)
{
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	int rc, mrc;

	rc = state_table_cursor(st, txn, "alerts", &cur);
	if (rc || !cur)
		return rc;
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct rates_store_alert a;

		if (!rs_alert_decode(&k, &v, &a))
			continue;
		rc = cb(&a, arg);
		if (rc)
			break;
	}
	if (rc == 0 && mrc != MDB_NOTFOUND)
		rc = state_mdb_errno(mrc);
	mdb_cursor_close(cur);
	return rc;
}

/* the restore of the windows: every bucket into R */
struct rs_restore {
	struct rates *r;
	enum alert_dimension dim;
	bool hour;
};

static int rs_restore_cb(const char *name, int64_t start,
			 const uint64_t c[RATES_COUNTERS], void *arg)
{
	struct rs_restore *x = arg;
	uint32_t c32[RATES_COUNTERS];
	int i;

	for (i = 0; i < RATES_COUNTERS; i++)
		c32[i] = c[i] > UINT32_MAX ? UINT32_MAX : (uint32_t)c[i];
	rates_restore_counts(x->r, x->dim, name, start, x->hour, c32);
	return 0;
}

/* the restore of the alerts: up again when the rule still is */
struct rs_alerts {
	struct rates *r;
	GPtrArray *gone;	/* GBytes keys of alerts of rules gone */
};

static int rs_alert_cb(const struct rates_store_alert *a, void *arg)
{
	struct rs_alerts *x = arg;
	const struct alert_rule *rules;
	size_t n, i;

	rules = rates_rules(x->r, &n);
	for (i = 0; i < n; i++)
		if (rules[i].dim == a->dim &&
		    strcmp(rules[i].text, a->rule) == 0) {
			rates_restore_alert(x->r, i, a->name);
			return 0;
		}
	{
		uint8_t key[160 + 2 + RATES_NAME_MAX];
		size_t klen = rs_alert_key(key, a->rule, a->dim, a->name);

		g_ptr_array_add(x->gone, g_bytes_new(key, klen));
	}
	return 0;
}

int rates_store_load(struct state *st, MDB_txn *txn, struct rates *r)
{
	struct rs_alerts xa = { r, g_ptr_array_new_with_free_func(
				       (GDestroyNotify)g_bytes_unref) };
	int64_t now = rates_store_now(st, txn);
	int64_t hours = rates_hours(r);
	MDB_dbi dbi;
	size_t i;
	int rc = 0, d;

	if (now > 0) {
		rates_restore_now(r, now);
		for (d = 0; d < ALERT_DIMENSIONS && rc == 0; d++) {
			struct rs_restore x = { r, (enum alert_dimension)d,
						true };
			int64_t hstart = (now / 3600 - hours + 1) * 3600;
			int64_t mstart = (now / 60 - RATES_MINUTES + 1) * 60;

			rc = rates_store_walk(st, txn, 'h', x.dim, hstart,
					      INT64_MAX, rs_restore_cb, &x);
			x.hour = false;
			if (rc == 0)
				rc = rates_store_walk(st, txn, 'm', x.dim,
						      mstart, INT64_MAX,
						      rs_restore_cb, &x);
		}
	}
	if (rc == 0)
		rc = rates_store_alerts(st, txn, rs_alert_cb, &xa);
	if (rc == 0 && xa.gone->len && state_dbi(st, "alerts", &dbi) == 0) {
		for (i = 0; i < xa.gone->len && rc == 0; i++) {
			size_t klen;
			const void *kp = g_bytes_get_data(
				g_ptr_array_index(xa.gone, i), &klen);
			MDB_val k = { klen, (void *)kp };
			int mrc = mdb_del(txn, dbi, &k, NULL);

			if (mrc == EACCES)
				break;	/* a read-only transaction */
			rc = mrc == MDB_NOTFOUND ? 0 : state_mdb_errno(mrc);
		}
	}
	g_ptr_array_free(xa.gone, TRUE);
	return rc;
}
