/*
 * state_strs.c - the strings of the recipient records, each kept once
 * (state_strs.h): the "strs" and "strs_ix" tables and what a process
 * keeps of them in memory.
 *
 * A commit of a large batch writes again every leaf page of the
 * recipients' table it touches, which for a batch spread over the whole
 * table is the whole table: the bytes of a record are paid for on every
 * such commit.  Most of a record's bytes are strings many records share
 * (the accounting file's path, the sender, the VirtualMTA, the job id,
 * the category and the DSN text of a common refusal); kept once and
 * named by a varint id, they leave records a fifth of their size.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"
#include "state_strs.h"
#include "strhash.h"
#include "strs_memo.h"

#define STRS_SEED 0x5eed5eed5eed5eedULL
#define STRS_SEEN_SLOTS (1u << 16)	/* strings written once, by hash */
#define STRS_TAB_MIN 256

struct strs_ent {
	uint64_t h;
	uint32_t id;
	uint32_t n;
	char *s;		/* NUL-terminated copy; NULL: a free slot */
};

/* entries by content: open addressing, linear probing, at most half
   full */
struct strs_tab {
	struct strs_ent *slot;
	size_t cap, used;
};

struct state_strs_made {
	struct strs_tab tab;	/* owns its strings */
	uint32_t first, next;	/* ids FIRST .. NEXT-1 were made */
	char **by_id;		/* [id - FIRST] */
	size_t by_id_cap;
};

struct strs_str {
	char *s;
	uint32_t n;
};

/* a string written once, by its hash, and the record it was written in
   (a hash of its address) */
struct strs_seen {
	uint64_t h;
	uint64_t who;
};

struct state_strs {
	pthread_mutex_t mu;
	/* committed entries by a few of their bytes: a record's strings
	   repeat from record to record (the source file, the sender, the
	   VirtualMTA, the category, a common DSN text), so most interning
	   is answered here by one memcmp */
	struct strs_memo memo[STRS_MEMO_SLOTS];
	struct strs_tab tab;	/* committed entries (strings owned by
				   by_id) */
	struct strs_str *by_id;	/* [id], NULL s: not known here yet */
	size_t by_id_cap;
	struct strs_seen *seen;	/* STRS_SEEN_SLOTS, made at first need */
	MDB_txn *wtxn;		/* the open write transaction, or NULL */
	struct state_strs_made *made; /* what WTXN made, or NULL */
};

/* strs_find - the entry of the N bytes at S (hash H) in T, or NULL */
static struct strs_ent *strs_find(const struct strs_tab *t, uint64_t h,
				  const char *s, size_t n)
{
	size_t i;

	if (t->cap == 0)
		return NULL;
	for (i = h & (t->cap - 1); t->slot[i].s;
	     i = (i + 1) & (t->cap - 1)) {
		struct strs_ent *e = &t->slot[i];

		if (e->h == h && e->n == n && memcmp(e->s, s, n) == 0)
			return e;
	}
	return NULL;
}

/* strs_place - E into T's slots (room known) */
static void strs_place(struct strs_tab *t, const struct strs_ent *e)
{
	size_t i;

	for (i = e->h & (t->cap - 1); t->slot[i].s;
	     i = (i + 1) & (t->cap - 1))
		;
	t->slot[i] = *e;
	t->used++;
}

/* strs_add - E into T, grown when half full; 0 or -ENOMEM */
static int strs_add(struct strs_tab *t, const struct strs_ent *e)
{
	struct strs_tab bigger;
	size_t i;

	if ((t->used + 1) * 2 > t->cap) {
		bigger.cap = t->cap ? t->cap * 2 : STRS_TAB_MIN;
		bigger.used = 0;
		bigger.slot = calloc(bigger.cap, sizeof(*bigger.slot));
		if (!bigger.slot)
			return -ENOMEM;
		for (i = 0; i < t->cap; i++)
			if (t->slot[i].s)
				strs_place(&bigger, &t->slot[i]);
		free(t->slot);
		*t = bigger;
	}
	strs_place(t, e);
	return 0;
}

/* strs_add_copy - E (its hash, id and length set) into T, with a copy
   of its string S in E->s; 0 or -ENOMEM */
static int strs_add_copy(struct strs_tab *t, struct strs_ent *e,
			 const char *s)
{
	int rc;

	e->s = malloc((size_t)e->n + 1);
	if (!e->s)
		return -ENOMEM;
	memcpy(e->s, s, e->n);
	e->s[e->n] = '\0';
	rc = strs_add(t, e);
	if (rc) {
		free(e->s);
		e->s = NULL;
	}
	return rc;
}

/* strs_grow_ptrs - room for index IDX in the array *ARR of *CAP items
   of SIZE bytes, new ones zeroed; 0 or -ENOMEM */
static int strs_grow_ptrs(void **arr, size_t *cap, size_t idx, size_t size)
{
	size_t ncap = *cap ? *cap : 64;
	void *p;

	if (idx < *cap)
		return 0;
	while (ncap <= idx)
		ncap *= 2;
	p = realloc(*arr, ncap * size);
	if (!p)
		return -ENOMEM;
	memset((char *)p + *cap * size, 0, (ncap - *cap) * size);
	*arr = p;
	*cap = ncap;
	return 0;
}

/* strs_known - ID with its string S (N bytes, copied) among the
   committed entries; 0 or -ENOMEM */
static int strs_known(struct state_strs *d, uint32_t id, uint64_t h,
		      const char *s, size_t n)
{
	struct strs_ent e = { .h = h, .id = id, .n = (uint32_t)n };
	int rc;

	if (id < d->by_id_cap && d->by_id[id].s)
		return 0;	/* another thread read it meanwhile */
	rc = strs_grow_ptrs((void **)&d->by_id, &d->by_id_cap, id,
			    sizeof(*d->by_id));
	if (rc == 0)
		rc = strs_add_copy(&d->tab, &e, s);
	if (rc)
		return rc;
	d->by_id[id].s = e.s;
	d->by_id[id].n = (uint32_t)n;
	return 0;
}

struct state_strs *state_strs_new(void)
{
	struct state_strs *d = calloc(1, sizeof(*d));

	if (d && pthread_mutex_init(&d->mu, NULL) != 0) {
		free(d);
		return NULL;
	}
	return d;
}

/* strs_made_free - MADE and the strings it owns */
static void strs_made_free(struct state_strs_made *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->tab.cap; i++)
		free(m->tab.slot[i].s);
	free(m->tab.slot);
	free(m->by_id);
	free(m);
}

void state_strs_free(struct state_strs *d)
{
	size_t i;

	if (!d)
		return;
	strs_made_free(d->made);
	for (i = 0; i < d->by_id_cap; i++)
		free(d->by_id[i].s);
	free(d->by_id);
	free(d->tab.slot);
	free(d->seen);
	pthread_mutex_destroy(&d->mu);
	free(d);
}

void state_strs_lock(struct state_strs *d)
{
	(void)pthread_mutex_lock(&d->mu);
}

void state_strs_unlock(struct state_strs *d)
{
	(void)pthread_mutex_unlock(&d->mu);
}

/* strs_key - ID as the "strs" key (big-endian: ids in key order) */
static void strs_key(uint32_t id, uint8_t k[4])
{
	k[0] = (uint8_t)(id >> 24);
	k[1] = (uint8_t)(id >> 16);
	k[2] = (uint8_t)(id >> 8);
	k[3] = (uint8_t)id;
}

/* strs_key_id - the id of a "strs" key (or a "strs_ix" value) K */
static uint32_t strs_key_id(const uint8_t k[4])
{
	return (uint32_t)k[0] << 24 | (uint32_t)k[1] << 16 |
	       (uint32_t)k[2] << 8 | k[3];
}

/* strs_made_get - what this write transaction made, at first need */
static struct state_strs_made *strs_made_get(struct state_strs *d,
					     const struct state_strs_use *u,
					     int *rc)
{
	struct state_strs_made *m = d->made;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	uint32_t last = 0;
	int mrc;

	*rc = 0;
	if (m)
		return m;
	m = calloc(1, sizeof(*m));
	if (!m) {
		*rc = -ENOMEM;
		return NULL;
	}
	mrc = mdb_cursor_open(u->txn, u->strs, &cur);
	if (mrc == 0) {
		mrc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
		mdb_cursor_close(cur);
	}
	if (mrc == 0 && k.mv_size == 4) {
		last = strs_key_id(k.mv_data);
	} else if (mrc != 0 && mrc != MDB_NOTFOUND) {
		free(m);
		*rc = state_mdb_errno(mrc);
		return NULL;
	}
	m->first = m->next = last + 1;
	d->made = m;
	return m;
}

/* strs_make - a new entry for S (N bytes, hash H) in the write
   transaction; *ID 0 when the table is full */
static int strs_make(struct state_strs *d, const struct state_strs_use *u,
		     uint64_t h, const char *s, size_t n, uint32_t *id)
{
	struct state_strs_made *m;
	struct strs_ent e = { .h = h, .n = (uint32_t)n };
	uint8_t key[4];
	MDB_val k = { sizeof(key), key }, v = { n, (void *)s };
	int mrc, rc;

	m = strs_made_get(d, u, &rc);
	if (!m)
		return rc;
	if (m->next > STATE_STRS_MAX) {
		*id = 0;
		return 0;
	}
	rc = strs_grow_ptrs((void **)&m->by_id, &m->by_id_cap,
			    m->next - m->first, sizeof(*m->by_id));
	if (rc)
		return rc;
	strs_key(m->next, key);
	mrc = mdb_put(u->txn, u->strs, &k, &v, MDB_APPEND);
	if (mrc == MDB_KEYEXIST) {
		/* the table's last key is not an id (a damaged table): no
		   new entry in this transaction, the records hold their
		   strings */
		m->next = STATE_STRS_MAX + 1;
		return 0;
	}
	rc = state_mdb_errno(mrc);
	if (rc == 0) {
		MDB_val ik = { n, (void *)s }, iv = { sizeof(key), key };

		rc = state_mdb_errno(mdb_put(u->txn, u->ix, &ik, &iv,
				      MDB_NOOVERWRITE));
	}
	if (rc)
		return rc;
	e.id = m->next;
	rc = strs_add_copy(&m->tab, &e, s);
	if (rc)
		return rc;
	m->by_id[m->next - m->first] = e.s;
	*id = m->next++;
	return 0;
}

/* strs_seen_before - was the string of hash H written before by this
   process in the record of another address than WHO (as far as the
   table of hashes remembers)?  A string only one record holds, written
   again with it (the DSN text of an address that bounces every day,
   naming it), is no string records share.  Remembers it */
static bool strs_seen_before(struct state_strs *d, uint64_t h, uint64_t who)
{
	struct strs_seen *slot;

	if (!d->seen) {
		d->seen = calloc(STRS_SEEN_SLOTS, sizeof(*d->seen));
		if (!d->seen)
			return true;	/* no memory to filter: take all */
	}
	slot = &d->seen[h & (STRS_SEEN_SLOTS - 1)];
	if (slot->h == h)
		return slot->who != who;
	slot->h = h;
	slot->who = who;
	return false;
}

/* strs_memo_slot - the memo's slot for the N bytes at S (N >= 2) */
static struct strs_memo *strs_memo_slot(struct state_strs *d, const char *s,
					size_t n)
{
	return &d->memo[strs_memo_index(s, n)];
}

const struct strs_memo *state_strs_memo(const struct state_strs_use *u)
{
	return u->write && u->have_tables ? u->d->memo : NULL;
}

int state_strs_intern(const struct state_strs_use *u, const char *s,
		      size_t n, uint32_t *id)
{
	struct state_strs *d = u->d;
	struct strs_memo *mo;
	struct strs_ent *e;
	MDB_val k = { n, (void *)s }, v;
	uint64_t h;
	int rc;

	*id = 0;
	if (!u->write || !u->have_tables || n < 2 || n > STATE_STRS_LEN_MAX)
		return 0;
	mo = strs_memo_slot(d, s, n);
	if (mo->s && mo->n == n && memcmp(mo->s, s, n) == 0) {
		*id = mo->id;
		return 0;
	}
	h = strhash(STRS_SEED, s, n);
	e = strs_find(&d->tab, h, s, n);
	if (e) {
		/* committed: its string lives as long as the dictionary */
		mo->s = e->s;
		mo->n = e->n;
		mo->id = e->id;
		*id = e->id;
		return 0;
	}
	if (d->made)
		e = strs_find(&d->made->tab, h, s, n);
	if (e) {
		*id = e->id;
		return 0;
	}
	/* the address is hashed only for a string neither table holds */
	if (!strs_seen_before(d, h, u->addr ? strhash(0, u->addr,
						       strlen(u->addr)) : 0))
		return 0;
	rc = state_mdb_errno(mdb_get(u->txn, u->ix, &k, &v));
	if (rc == 0) {
		uint32_t got;

		if (v.mv_size != 4)
			return -EINVAL;
		got = strs_key_id(v.mv_data);
		if (got == 0)
			return -EINVAL;
		/* not made by this transaction (that would be in MADE):
		   committed before it */
		rc = strs_known(d, got, h, s, n);
		if (rc == 0)
			*id = got;
		return rc;
	}
	if (rc != -ENOENT)
		return rc;
	return strs_make(d, u, h, s, n, id);
}

int state_strs_lookup(const struct state_strs_use *u, uint32_t id,
		      const char **s, size_t *n)
{
	struct state_strs *d = u->d;
	struct state_strs_made *m = u->write ? d->made : NULL;
	uint8_t key[4];
	MDB_val k = { sizeof(key), key }, v;
	int rc;

	if (id == 0 || id > STATE_STRS_MAX)
		return -ENOENT;	/* never given: a damaged record */
	if (id < d->by_id_cap && d->by_id[id].s) {
		*s = d->by_id[id].s;
		*n = d->by_id[id].n;
		return 0;
	}
	if (m && id >= m->first && id < m->next) {
		*s = m->by_id[id - m->first];
		*n = strlen(*s);
		return 0;
	}
	if (!u->have_tables)
		return -ENOENT;
	strs_key(id, key);
	rc = state_mdb_errno(mdb_get(u->txn, u->strs, &k, &v));
	if (rc)
		return rc;
	if (v.mv_size > STATE_STRS_LEN_MAX || v.mv_size < 1 ||
	    memchr(v.mv_data, '\0', v.mv_size))
		return -EINVAL;
	/* in a write transaction, what is in the table and not in MADE
	   was committed; in a read transaction all of it was */
	rc = strs_known(d, id, strhash(STRS_SEED, v.mv_data, v.mv_size),
			v.mv_data, v.mv_size);
	if (rc)
		return rc;
	*s = d->by_id[id].s;
	*n = d->by_id[id].n;
	return 0;
}

void state_strs_begin(struct state_strs *d, MDB_txn *txn)
{
	state_strs_lock(d);
	strs_made_free(d->made);	/* none: every end detaches it */
	d->made = NULL;
	d->wtxn = txn;
	state_strs_unlock(d);
}

bool state_strs_is_write(struct state_strs *d, MDB_txn *txn)
{
	/* read under the lock the caller holds */
	return txn != NULL && d->wtxn == txn;
}

struct state_strs_made *state_strs_detach(struct state_strs *d,
					  MDB_txn *txn)
{
	struct state_strs_made *m = NULL;

	state_strs_lock(d);
	if (txn == NULL || d->wtxn != txn) {
		state_strs_unlock(d);
		return NULL;
	}
	m = d->made;
	d->made = NULL;
	d->wtxn = NULL;
	state_strs_unlock(d);
	return m;
}

void state_strs_settle(struct state_strs *d, struct state_strs_made *m,
		       bool committed)
{
	size_t i;

	if (!m)
		return;
	if (committed) {
		state_strs_lock(d);
		for (i = 0; i < m->tab.cap; i++) {
			struct strs_ent *e = &m->tab.slot[i];

			/* a failure leaves it out: it is read again from
			   the table when next needed */
			if (e->s && strs_known(d, e->id, e->h, e->s, e->n))
				break;
		}
		state_strs_unlock(d);
	}
	strs_made_free(m);
}
