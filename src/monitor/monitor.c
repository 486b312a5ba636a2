/*
 * monitor.c - incidents and rates beside the recipients (monitor.h): the
 * glue between ingest and incident_detect / incident_store / rates /
 * rates_store.
 *
 * Incidents live in memory while they matter (open, or closed within the
 * keep time, for the soft-bounce check) and in LMDB for good.  What a
 * record changes in memory at monitor_feed (counters, an incident opening
 * or closing) is written at the next monitor_commit from copies, so that
 * an aborted transaction can be committed again without counting twice;
 * monitor_committed adopts the copies and tells the hooks.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <glib.h>

#include "classify.h"
#include "domain_group.h"
#include "log.h"
#include "monitor.h"
#include "incident_rcpts.h"
#include "incident_windows.h"
#include "monitor_priv.h"
#include "rates_store.h"

/* a slot given back is poisoned for AddressSanitizer, so that a use of
   a hold after its release is still caught there */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define MON_HELD_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define MON_HELD_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define MON_HELD_POISON(p, n) ((void)(p), (void)(n))
#define MON_HELD_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define MON_HELD_BITS (1u << 20)	/* bits of monitor.held_bits */
#define MON_HELD_TIDY 16384u	/* holds gone before the bits are made
				   again for them */

static void mon_incident_free(gpointer p)
{
	struct mon_incident *mi = p;

	u64map_free(mi->rcpts);
	if (mi->rcpts_new)
		g_array_free(mi->rcpts_new, TRUE);
	if (mi->held)
		g_hash_table_destroy(mi->held);
	g_free(mi);
}

uint64_t mon_hash64(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	const uint64_t prime = 1099511628211ULL;
	uint64_t h = 1469598103934665603ULL;
	size_t n = s ? strlen(s) : 0, i;

	/* FNV-1a, byte after byte (the hashes are kept in the state); four
	   a step, with the length known, instead of a test for the end at
	   each */
	for (i = 0; i + 4 <= n; i += 4) {
		h = (h ^ p[i]) * prime;
		h = (h ^ p[i + 1]) * prime;
		h = (h ^ p[i + 2]) * prime;
		h = (h ^ p[i + 3]) * prime;
	}
	for (; i < n; i++)
		h = (h ^ p[i]) * prime;
	return h;
}

uint32_t monitor_source_hash(const char *source)
{
	uint64_t h;

	if (!source || !*source)
		return 0;
	h = mon_hash64(source);
	h = (uint32_t)(h ^ (h >> 32));
	return h ? (uint32_t)h : 1;
}

int monitor_new(struct monitor **out, const struct monitor_params *p,
		const struct monitor_hooks *hooks, char *err, size_t errlen)
{
	struct monitor *m = g_new0(struct monitor, 1);
	struct alert_rule rules[ALERT_RULES_MAX];
	size_t nrules = 0, i;
	int rc;

	m->p = *p;
	m->held_bits = g_new0(uint64_t, MON_HELD_BITS / 64);
	if (hooks)
		m->h = *hooks;
	m->p.domain_groups = NULL;
	m->p.alerts = NULL;
	m->sender_cats = g_strdupv(p->sender_categories);
	m->p.sender_categories = m->sender_cats;
	for (i = 0; m->sender_cats && m->sender_cats[i]; i++) {
		int k = classify_cat_index(m->sender_cats[i]);

		if (k >= 0)
			m->sender_cat_bits |= (uint32_t)1 << k;
		else
			m->sender_cats_unlisted = true;
	}
	rc = domain_groups_parse(p->domain_groups, &m->groups, err, errlen);
	if (rc)
		goto fail;
	if (p->rates) {
		struct rates_params rp = { .top = p->rates_top };

		rc = alert_rules_parse(p->alerts, rules, &nrules, err, errlen);
		if (rc)
			goto fail;
		m->rates = rates_new(&rp, rules, nrules);
	}
	if (p->incidents) {
		m->detect = incident_detect_new(&p->ip);
		if (!m->detect) {
			rc = -EINVAL;
			snprintf(err, errlen, "[incidents]: window, quiet and "
				 "min-recipients must be positive, min-share "
				 "from 0 to 1");
			goto fail;
		}
	}
	m->dest_cache = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					      NULL);
	m->incidents = g_ptr_array_new_with_free_func(mon_incident_free);
	m->open = g_ptr_array_new();
	m->open_pairs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					      (GDestroyNotify)g_ptr_array_unref);
	m->open_dirty = true;
	m->drops = g_array_new(FALSE, FALSE, sizeof(struct mon_drop));
	m->released = g_array_new(FALSE, FALSE,
				  sizeof(struct monitor_release));
	m->released_held = g_ptr_array_new_with_free_func(mon_held_free);
	m->pending = g_ptr_array_new();
	m->next_id = 1;		/* a fresh state; monitor_load reads it */
	*out = m;
	return 0;
fail:
	monitor_free(m);
	*out = NULL;
	return rc;
}

void monitor_free(struct monitor *m)
{
	if (!m)
		return;
	g_strfreev(m->sender_cats);
	domain_groups_free(m->groups);
	if (m->dest_cache)
		g_hash_table_destroy(m->dest_cache);
	incident_detect_free(m->detect);
	rates_free(m->rates);
	if (m->incidents)
		g_ptr_array_free(m->incidents, TRUE);
	if (m->open)
		g_ptr_array_free(m->open, TRUE);
	if (m->open_pairs)
		g_hash_table_destroy(m->open_pairs);
	monitor_seal_free(m->cur);
	monitor_seal_free(m->spare);
	if (m->drops)
		g_array_free(m->drops, TRUE);
	if (m->released)
		g_array_free(m->released, TRUE);
	if (m->released_held)
		g_ptr_array_free(m->released_held, TRUE);
	if (m->pending) {
		mon_pending_forget(m);
		g_ptr_array_free(m->pending, TRUE);
	}
	g_free(m->held_bits);
	/* after every table that held a slot */
	if (m->held_pool.chunks)
		g_ptr_array_free(m->held_pool.chunks, TRUE);
	g_free(m);
}

struct mon_load {
	struct monitor *m;
	struct state *st;
	MDB_txn *txn;
	unsigned open;		/* open incidents loaded */
	int64_t since;		/* closed before this: not kept */
	uint64_t max_id;
};

/* mon_held_table - an address-hash -> held bounce (struct mon_held,
   whose first member is the key) table */
static GHashTable *mon_held_table(void)
{
	return g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL,
				     mon_held_free);
}

/* mon_held_bit - the word and bit of address hash H in held_bits */
static inline uint64_t *mon_held_bit(const struct monitor *m, uint64_t h,
				     uint64_t *bit)
{
	*bit = (uint64_t)1 << (h & 63);
	return &m->held_bits[(h >> 6) & (MON_HELD_BITS / 64 - 1)];
}

/* mon_held_mark - address hash H may be held */
static void mon_held_mark(struct monitor *m, uint64_t h)
{
	uint64_t bit, *w = mon_held_bit(m, h, &bit);

	if (!(*w & bit)) {
		*w |= bit;
		m->held_bits_set++;
	}
}

/* mon_held_rebuild - held_bits from what the incidents hold now */
static void mon_held_rebuild(struct monitor *m)
{
	guint i;

	memset(m->held_bits, 0, MON_HELD_BITS / 8);
	m->held_bits_set = 0;
	m->held_gone = 0;
	for (i = 0; i < m->incidents->len; i++) {
		struct mon_incident *mi = g_ptr_array_index(m->incidents, i);
		GHashTableIter it;
		gpointer k, v;

		if (!mi->held)
			continue;
		g_hash_table_iter_init(&it, mi->held);
		while (g_hash_table_iter_next(&it, &k, &v))
			mon_held_mark(m, (uint64_t)*(const int64_t *)k);
	}
}

/* mon_held_gone - N holds left the incidents' tables: the bits made
   again when they are many, and half the bits set or more */
static void mon_held_gone(struct monitor *m, unsigned n)
{
	m->held_gone += n;
	if (m->held_gone >= MON_HELD_TIDY &&
	    (uint64_t)m->held_gone * 2 >= m->held_bits_set)
		mon_held_rebuild(m);
}

/* mon_maybe_held - might an incident hold address hash H? */
static bool mon_maybe_held(const struct monitor *m, uint64_t h)
{
	uint64_t bit, *w = mon_held_bit(m, h, &bit);

	return (*w & bit) != 0;
}

/* a slot of the pool: a hold and the longest short address */
#define MON_HELD_SLOT                                                          \
	((sizeof(struct mon_held) + MON_HELD_SHORT + 1 + 7) & ~(size_t)7)
#define MON_HELD_CHUNK 256	/* slots a chunk of the pool makes */

/* mon_held_release - MH's memory back where it came from */
static void mon_held_release(struct mon_held *mh)
{
	g_free(mh->rec);
	if (mh->pool) {
		mh->next_free = mh->pool->free;
		mh->pool->free = mh;
		/* the link too: mon_held_slot unpoisons before it reads it */
		MON_HELD_POISON(mh, MON_HELD_SLOT);
		return;
	}
	g_free(mh);
}

void mon_held_free(gpointer p)
{
	struct mon_held *mh = p;

	if (mh->ref) {
		mh->gone = true;	/* pending frees it at the seal */
		return;
	}
	mon_held_release(mh);
}

/* mon_held_slot - a free slot of POOL (a new chunk when none) */
static struct mon_held *mon_held_slot(struct mon_held_pool *pool)
{
	struct mon_held *mh = pool->free;
	size_t i;

	if (!mh) {
		char *chunk = g_malloc(MON_HELD_SLOT * MON_HELD_CHUNK);

		if (!pool->chunks)
			pool->chunks = g_ptr_array_new_with_free_func(g_free);
		g_ptr_array_add(pool->chunks, chunk);
		for (i = MON_HELD_CHUNK; i-- > 0;) {
			struct mon_held *s =
				(struct mon_held *)(void *)(chunk +
							    i * MON_HELD_SLOT);

			s->next_free = pool->free;
			pool->free = s;
			MON_HELD_POISON(s, MON_HELD_SLOT);
		}
		mh = pool->free;
	}
	MON_HELD_UNPOISON(mh, MON_HELD_SLOT);
	pool->free = mh->next_free;
	mh->pool = pool;
	return mh;
}

/* mon_held_new - the hold of ADDR (of hash HASH), a bounce at T, without
   its record yet */
static struct mon_held *mon_held_new(struct monitor *m, const char *addr,
				     uint64_t hash, int64_t t)
{
	size_t alen = strnlen(addr, ADDR_MAX);
	struct mon_held *mh;

	if (alen <= MON_HELD_SHORT) {
		mh = mon_held_slot(&m->held_pool);
	} else {
		mh = g_malloc(sizeof(*mh) + alen + 1);
		mh->pool = NULL;
	}
	mh->next_free = NULL;
	mh->hash = (int64_t)hash;
	mh->time = t;
	mh->ref = NULL;
	mh->rec = NULL;
	mh->len = 0;
	mh->gone = false;
	memcpy(mh->data, addr, alen);
	mh->data[alen] = '\0';
	return mh;
}

/* mon_held_encode - MH's record from H: 0, or -ENOBUFS when H does not
   encode (nor would it in the store; MH then keeps no record) */
static int mon_held_encode(struct mon_held *mh, const struct incident_held *h)
{
	uint8_t buf[INCIDENT_HELD_ENCODED_MAX];
	size_t len;
	int rc;

	rc = incident_held_encode(h, buf, sizeof(buf), &len);
	if (rc) {
		log_error("monitor", "cannot keep the hard bounce of '%s' "
			  "held by an incident in memory: it does not encode",
			  h->addr);
		return rc;
	}
	mh->rec = g_memdup2(buf, len);
	mh->len = (uint32_t)len;
	return 0;
}

/* mon_held_insert - MH is held by MI (a second hold of an address
   replaces the first, as in the store) */
static void mon_held_insert(struct monitor *m, struct mon_incident *mi,
			    struct mon_held *mh)
{
	/* the key lives in the value: replace (not insert), so that the
	   key of a replaced hold is the new one's */
	g_hash_table_replace(mi->held, &mh->hash, mh);
	mon_held_mark(m, (uint64_t)mh->hash);
	if (m->held_bits_set > MON_HELD_BITS / 4)
		mon_held_rebuild(m);
}

/* mon_held_put - H (of address hash HASH) is held by MI, kept encoded;
   0, or -ENOBUFS when H does not encode (then not kept) */
static int mon_held_put(struct monitor *m, struct mon_incident *mi,
			const struct incident_held *h, uint64_t hash)
{
	struct mon_held *mh = mon_held_new(m, h->addr, hash, h->reason.time);
	int rc = mon_held_encode(mh, h);

	if (rc) {
		mon_held_release(mh);
		return rc;
	}
	mon_held_insert(m, mi, mh);
	return 0;
}

/* mon_held_record - MH's held bounce into H: from the batch's event it
   refers to, or decoded (mon_held_encode encoded it); -ENOENT when it
   keeps none (it did not encode) */
static int mon_held_record(const struct monitor *m, const struct mon_held *mh,
			   struct incident_held *h)
{
	if (mh->ref) {
		incident_held_from_event(h, m->h.hold_event(mh->ref, m->h.arg));
		return 0;
	}
	if (!mh->rec)
		return -ENOENT;
	return incident_held_decode(mh->rec, mh->len, h);
}

void mon_pending_keep(struct monitor *m)
{
	guint i;

	for (i = 0; i < m->pending->len; i++) {
		struct mon_held *mh = g_ptr_array_index(m->pending, i);
		struct incident_held h;

		if (mh->gone) {
			mon_held_release(mh);
			continue;
		}
		(void)mon_held_record(m, mh, &h);
		mh->ref = NULL;
		(void)mon_held_encode(mh, &h);
	}
	g_ptr_array_set_size(m->pending, 0);
}

/* mon_pending_forget - the held tables are gone (a load, the end): the
   holds bound to references with them */
void mon_pending_forget(struct monitor *m)
{
	guint i;

	for (i = 0; i < m->pending->len; i++) {
		struct mon_held *mh = g_ptr_array_index(m->pending, i);

		if (mh->gone)
			mon_held_release(mh);
		else
			mh->ref = NULL;	/* in no table: not reached */
	}
	g_ptr_array_set_size(m->pending, 0);
	m->unbound = NULL;
}

void monitor_hold_keep(struct monitor *m)
{
	if (m)
		mon_pending_keep(m);
}

void monitor_hold_bind(struct monitor *m, const struct event *ev,
		       const void *ref)
{
	struct mon_held *mh = m->unbound;
	struct incident_held h;

	if (!mh)
		return;
	m->unbound = NULL;
	if (ref) {
		mh->ref = ref;
		g_ptr_array_add(m->pending, mh);
		return;
	}
	incident_held_from_event(&h, ev);
	(void)mon_held_encode(mh, &h);
}

struct mon_load_held {
	struct monitor *m;
	struct mon_incident *mi;
};

/* mon_load_held_cb - a held bounce of an open incident, as stored */
static int mon_load_held_cb(const struct incident_held *h, void *arg)
{
	struct mon_load_held *x = arg;

	return mon_held_put(x->m, x->mi, h, mon_hash64(h->addr));
}

/* mon_held_cmp - held bounces (pointers to) by address */
static int mon_held_cmp(const void *a, const void *b)
{
	return strcmp((*(const struct mon_held *const *)a)->data,
		      (*(const struct mon_held *const *)b)->data);
}

/* mon_protect - H among the recipients open incident MI protects (at
   most INCIDENT_RCPTS_MAX); whether it is new to them (then also kept for
   the store) */
static bool mon_protect(struct mon_incident *mi, uint64_t h)
{
	if (u64map_size(mi->rcpts) >= INCIDENT_RCPTS_MAX ||
	    u64map_get(mi->rcpts, h))
		return false;
	u64map_put(mi->rcpts, h, 0);
	g_array_append_val(mi->rcpts_new, h);
	return true;
}

/* mon_protect_detected - the recipients the detector's window holds for
   MI's pair (all of them, at most INCIDENT_RCPTS_MAX) among those MI
   protects: when it opens, or is loaded (those of its bounces before the
   last commit are in the store already, the others not yet) */
static void mon_protect_detected(const struct monitor *m,
				 struct mon_incident *mi)
{
	uint64_t few[256], *hashes = few;
	size_t n, i;

	if (!m->detect)
		return;
	n = incident_detect_rcpts(m->detect, mi->inc.source, mi->inc.dest,
				  few, G_N_ELEMENTS(few));
	if (n == G_N_ELEMENTS(few)) {	/* perhaps more: all of them */
		hashes = g_new(uint64_t, INCIDENT_RCPTS_MAX);
		n = incident_detect_rcpts(m->detect, mi->inc.source,
					  mi->inc.dest, hashes,
					  INCIDENT_RCPTS_MAX);
	}
	for (i = 0; i < n; i++)
		mon_protect(mi, hashes[i]);
	if (hashes != few)
		g_free(hashes);
}

/* mon_protect_init - MI open: its (empty) sets of recipients */
static void mon_protect_init(struct mon_incident *mi)
{
	mi->rcpts = u64map_new();
	/* room for what opens an incident (min-recipients is 10 by
	   default), kept from one seal to the next */
	mi->rcpts_new = g_array_sized_new(FALSE, FALSE, sizeof(uint64_t), 32);
}

/* mon_load_rcpt - a recipient the store keeps for the incident ARG
   (incident_rcpts_cb): protected already, nothing to write */
static void mon_load_rcpt(uint64_t hash, void *arg)
{
	struct mon_incident *mi = arg;

	if (u64map_size(mi->rcpts) < INCIDENT_RCPTS_MAX)
		u64map_put(mi->rcpts, hash, 0);
}

/* mon_release_all - MI closed: what it holds is released, in address
   order, for the caller to apply after the record in hand (the held
   bounces leave MI's table for released_held, freed at the next feed) */
static void mon_release_all(struct monitor *m, struct mon_incident *mi)
{
	GHashTableIter it;
	gpointer k, v;
	guint n, from = m->released->len, hfrom = m->released_held->len, i;

	if (!mi->held || g_hash_table_size(mi->held) == 0)
		return;
	n = g_hash_table_size(mi->held);
	g_hash_table_iter_init(&it, mi->held);
	while (g_hash_table_iter_next(&it, &k, &v))
		g_ptr_array_add(m->released_held, v);
	g_hash_table_steal_all(mi->held);
	mon_held_gone(m, n);
	/* one that did not encode was never kept: nothing to release */
	for (i = hfrom; i < m->released_held->len;) {
		const struct mon_held *mh =
			g_ptr_array_index(m->released_held, i);

		if (!mh->ref && !mh->rec)
			g_ptr_array_remove_index_fast(m->released_held, i);
		else
			i++;
	}
	n = m->released_held->len - hfrom;
	qsort(m->released_held->pdata + hfrom, n, sizeof(gpointer),
	      mon_held_cmp);
	g_array_set_size(m->released, from + n);
	for (i = 0; i < n; i++) {
		struct monitor_release *r = &g_array_index(
			m->released, struct monitor_release, from + i);
		const struct mon_held *mh =
			g_ptr_array_index(m->released_held, hfrom + i);

		r->id = mi->inc.id;
		r->src_hash = mi->src_hash;
		r->ref = mh->ref;
		r->rec = mh->rec;
		r->len = mh->len;
		mi->inc.applied++;
	}
}

size_t monitor_released(const struct monitor *m,
			const struct monitor_release **out)
{
	*out = (const struct monitor_release *)(void *)m->released->data;
	return m->released->len;
}

static int mon_load_cb(const struct incident *inc, void *arg)
{
	struct mon_load *x = arg;
	struct mon_incident *mi;
	int rc;

	if (inc->id > x->max_id)
		x->max_id = inc->id;
	if (inc->state != INCIDENT_ST_OPEN && inc->close_time < x->since)
		return 0;
	mi = g_new0(struct mon_incident, 1);
	mi->inc = *inc;
	mi->src_hash = monitor_source_hash(inc->source);
	mi->open_gen = 0;
	mi->close_gen = inc->state == INCIDENT_ST_OPEN ? UINT64_MAX : 0;
	if (inc->state == INCIDENT_ST_OPEN && x->m->detect) {
		if (!incident_detect_open(x->m->detect, inc->source,
					  inc->dest))
			incident_detect_restore(x->m->detect, inc->source,
						inc->dest, inc->first_time,
						inc->open_time,
						inc->last_bounce);
		/* the recipients it protects so far, as the store keeps
		   them, and those the detector's window holds (a state
		   written before the store kept them): each counts once
		   across a restart */
		mon_protect_init(mi);
		rc = incident_rcpts_foreach(x->st, x->txn, inc->id,
					    mon_load_rcpt, mi);
		if (rc) {
			mon_incident_free(mi);
			return rc;
		}
		mon_protect_detected(x->m, mi);
		mi->rcpts_stored = true;
		/* those the store did not have go with the next commit */
		mi->dirty = mi->rcpts_new->len > 0;
		mi->held = mon_held_table();
		x->open++;
	}
	g_ptr_array_add(x->m->incidents, mi);
	x->m->open_dirty = true;
	return 0;
}

int monitor_load(struct monitor *m, struct state *st, MDB_txn *txn)
{
	struct mon_load x = { m, st, txn, 0, 0, 0 };
	uint64_t next = 0;
	guint i;
	int rc = 0;

	m->st = st;
	if (m->rates) {
		rc = rates_store_load(st, txn, m->rates);
		if (rc)
			return rc;
		m->now = rates_now(m->rates);
	}
	g_ptr_array_set_size(m->incidents, 0);
	g_array_set_size(m->released, 0);
	g_ptr_array_set_size(m->released_held, 0);
	mon_pending_forget(m);
	m->open_dirty = true;
	if (m->detect) {
		GByteArray *w = g_byte_array_new();

		/* also after a failed commit: what it counted is not in
		   the state, and nothing of it may stay */
		incident_detect_reset(m->detect);
		rc = incident_windows_get(st, txn, w);
		if (rc == 0 &&
		    incident_detect_load(m->detect, w->data, w->len) != 0)
			log_warn("incident", "the saved incident windows are "
				 "damaged: counting starts anew");
		g_byte_array_free(w, TRUE);
		if (rc && rc != -ENOENT)
			return rc;
		rc = 0;
	}
	x.since = m->now - m->p.keep;
	rc = incident_foreach(st, txn, mon_load_cb, &x);
	if (rc)
		return rc;
	for (i = 0; x.open && i < m->incidents->len; i++) {
		struct mon_incident *mi = g_ptr_array_index(m->incidents, i);
		struct mon_load_held lh = { m, mi };

		if (!mi->held)
			continue;
		rc = incident_held_foreach(st, txn, mi->inc.id,
					   mon_load_held_cb, &lh);
		if (rc)
			return rc;
	}
	rc = state_meta_get_u64(st, txn, "incident.next", &next);
	if (rc && rc != -ENOENT)
		return rc;
	m->next_id = next > x.max_id ? next : x.max_id + 1;
	return 0;
}

bool monitor_sender_side(const struct monitor *m, const struct event *ev)
{
	size_t i;

	if (ev->bounce_cat && *ev->bounce_cat && ev->cat_ix &&
	    ev->cat_ix <= CLASSIFY_CATS) {
		/* one of PowerMTA's: the list holds it or its name is
		   none of the list's others */
		if (m->sender_cat_bits & ((uint32_t)1 << (ev->cat_ix - 1)))
			return true;
	} else if (ev->bounce_cat && *ev->bounce_cat && m->sender_cats &&
		   (!ev->cat_ix || m->sender_cats_unlisted))
		for (i = 0; m->sender_cats[i]; i++)
			if ((*ev->bounce_cat | 0x20) ==
				    (m->sender_cats[i][0] | 0x20) &&
			    strcasecmp(ev->bounce_cat, /* ASCII: C locale */
				       m->sender_cats[i]) == 0)
				return true;
	/* the status's mark, as classify_event set it or found now */
	return (ev->status_x7 ? ev->status_x7 :
				classify_status_x7(ev->dsn_status,
						   ev->dsn_diag)) == EVENT_X7_YES;
}

/* mon_dest - monitor_dest's lookup */
static const char *mon_dest(struct monitor *m, const char *addr)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;
	const char *domain = at ? at + 1 : addr;
	const char *dest;
	gpointer k, v;
	char *copy;
	size_t len;
	uint64_t h;
	void *hit;

	if (!domain || !*domain)
		return NULL;
	len = strlen(domain);
	h = name_cache_hash(domain, len);
	if (name_cache_get(&m->dest_fast, domain, len, h, &hit))
		return hit;
	/* a group's name lives as long as the groups; a domain that is its
	   own destination is the cached key itself (a NULL value) */
	if (g_hash_table_lookup_extended(m->dest_cache, domain, &k, &v)) {
		dest = v ? (const char *)v : (const char *)k;
		name_cache_put(&m->dest_fast, domain, len, h, (void *)dest);
		return dest;
	}
	dest = domain_groups_of(m->groups, domain);
	if (g_hash_table_size(m->dest_cache) >= MON_DEST_CACHE_MAX) {
		g_hash_table_remove_all(m->dest_cache);
		name_cache_clear(&m->dest_fast);
	}
	copy = g_strdup(domain);
	g_hash_table_insert(m->dest_cache, copy,
			    dest == domain ? NULL : (gpointer)dest);
	dest = dest == domain ? copy : dest;
	name_cache_put(&m->dest_fast, domain, len, h, (void *)dest);
	return dest;
}

/* mon_key - NAME when an incident can name it, else NULL: one longer (a
   legal domain may be) would open incidents no record could find again
   (the rates take any name) */
static const char *mon_key(const char *name)
{
	return name && strnlen(name, INCIDENT_KEY_MAX) < INCIDENT_KEY_MAX ?
		       name : NULL;
}

const char *monitor_dest(struct monitor *m, const char *addr)
{
	return mon_key(mon_dest(m, addr));
}

/* mon_source_any - the source of EV, however long */
static const char *mon_source_any(const struct event *ev)
{
	return ev->source_ip && *ev->source_ip ? ev->source_ip :
	       ev->vmta && *ev->vmta ? ev->vmta : NULL;
}

const char *monitor_source(const struct event *ev)
{
	return mon_key(mon_source_any(ev));
}

/* mon_open_index - MI, just appended to the open list, into its pair's
   entry of the index */
static void mon_open_index(struct monitor *m, struct mon_incident *mi)
{
	char key[2 * INCIDENT_KEY_MAX + 2];
	GPtrArray *pair;

	(void)incident_pair_key(key, mi->inc.source, mi->inc.dest);
	pair = g_hash_table_lookup(m->open_pairs, key);
	if (!pair) {
		pair = g_ptr_array_new();
		g_hash_table_insert(m->open_pairs, g_strdup(key), pair);
		name_cache_clear(&m->pairs_fast);	/* it said "none" */
	}
	g_ptr_array_add(pair, mi);
}

/* mon_open - the incidents open when the list was made, and those opened
   since (made again when incidents were removed, or when those closed
   since are many) */
static GPtrArray *mon_open(struct monitor *m)
{
	guint i;

	if (!m->open_dirty && m->open_stale <= 16 + m->open->len / 2)
		return m->open;
	m->open_stale = 0;
	g_ptr_array_set_size(m->open, 0);
	g_hash_table_remove_all(m->open_pairs);
	name_cache_clear(&m->pairs_fast);
	for (i = 0; i < m->incidents->len; i++) {
		struct mon_incident *mi = g_ptr_array_index(m->incidents, i);

		if (mi->inc.state == INCIDENT_ST_OPEN && !mi->closing) {
			g_ptr_array_add(m->open, mi);
			mon_open_index(m, mi);
		}
	}
	m->open_dirty = false;
	return m->open;
}

/* mon_find_ref - the incident of SOURCE to DEST (ROOM: the room for their
   key, made or not) that is open */
static struct mon_incident *mon_find_ref(struct monitor *m,
					 const char *source, const char *dest,
					 struct incident_pair_ref *room)
{
	const struct incident_pair_ref *ref;
	const GPtrArray *pair;
	void *hit;
	guint i;

	(void)mon_open(m);	/* the list and its index, made again if due */
	ref = incident_pair_ref_of(room, source, dest);
	if (name_cache_get(&m->pairs_fast, ref->key, ref->len, ref->hash,
			   &hit)) {
		pair = hit;
	} else {
		pair = g_hash_table_lookup(m->open_pairs, ref->key);
		name_cache_put(&m->pairs_fast, ref->key, ref->len, ref->hash,
			       (void *)pair);
	}
	for (i = pair ? pair->len : 0; i-- > 0;) {
		struct mon_incident *mi = g_ptr_array_index(pair, i);

		if (mi->inc.state == INCIDENT_ST_OPEN && !mi->closing &&
		    strcmp(mi->inc.source, source) == 0 &&
		    strcmp(mi->inc.dest, dest) == 0)
			return mi;
	}
	return NULL;
}

/* mon_find_open - the incident of SOURCE to DEST that is open */
static struct mon_incident *mon_find_open(struct monitor *m,
					  const char *source,
					  const char *dest)
{
	struct incident_pair_ref room = { .len = 0 };

	return mon_find_ref(m, source, dest, &room);
}

/* the detector's transitions, for the record being fed */
struct mon_feed {
	struct monitor *m;
	const struct event *ev;
	uint64_t hash;		/* of its address, once made */
	bool hashed;
};

/* mon_feed_hash - the address hash of the record fed, made once */
static uint64_t mon_feed_hash(struct mon_feed *f)
{
	if (!f->hashed) {
		f->hash = mon_hash64(f->ev->rcpt);
		f->hashed = true;
	}
	return f->hash;
}

static void mon_transition(const struct incident_transition *t, void *arg)
{
	struct mon_feed *f = arg;
	struct monitor *m = f->m;
	struct mon_incident *mi;

	if (t->change == INCIDENT_OPENED) {
		mi = g_new0(struct mon_incident, 1);
		mi->open_gen = ++m->gen;
		mi->close_gen = UINT64_MAX;
		mi->inc.id = m->next_id++;
		mi->inc.state = INCIDENT_ST_OPEN;
		g_strlcpy(mi->inc.source, t->source, sizeof(mi->inc.source));
		g_strlcpy(mi->inc.dest, t->dest, sizeof(mi->inc.dest));
		mi->inc.first_time = t->first_time;
		mi->inc.open_time = t->open_time;
		mi->inc.last_bounce = t->open_time;
		mi->inc.recipients = t->recipients;
		mi->inc.bounces = t->bounces;
		mi->inc.attempts = t->attempts;
		mi->src_hash = monitor_source_hash(t->source);
		mon_protect_init(mi);
		mon_protect_detected(m, mi);
		mi->held = mon_held_table();
		mi->inc.protected_soft = t->recipients;
		if (f->ev)
			incident_add_sample(&mi->inc, f->ev->dsn_diag);
		mi->dirty = mi->opened = true;
		g_ptr_array_add(m->incidents, mi);
		/* the newest incident: last in both lists, as a list made
		   again would have it */
		if (!m->open_dirty) {
			g_ptr_array_add(m->open, mi);
			mon_open_index(m, mi);
		}
		log_warn("incident", "incident %" PRIu64 " opened: %s to %s, "
			 "%u recipients refused for sender-side causes "
			 "since %" PRId64, mi->inc.id, mi->inc.source,
			 mi->inc.dest, mi->inc.recipients, t->first_time);
		return;
	}
	mi = mon_find_open(m, t->source, t->dest);
	if (!mi)
		return;
	mi->inc.close_time = t->close_time;
	mi->inc.recovered = t->recovered;
	if (t->bounces > mi->inc.bounces)
		mi->inc.bounces = t->bounces;
	if (t->attempts > mi->inc.attempts)
		mi->inc.attempts = t->attempts;
	mi->dirty = mi->closing = true;
	m->open_stale++;
	mi->close_gen = ++m->gen;
	mon_release_all(m, mi);
}

/* mon_rates_what - EV's place in the rates; false: not counted */
static bool mon_rates_what(const struct event *ev, enum rates_what *w)
{
	switch (ev->klass) {
	case CLASS_DELIVERY:
		*w = RATES_DELIVERY;
		return true;
	case CLASS_HARD:
		*w = RATES_HARD;
		return true;
	case CLASS_SOFT:
		*w = RATES_SOFT;
		return true;
	case CLASS_COMPLAINT:
		*w = RATES_COMPLAINT;
		return true;
	default:
		return false;
	}
}

/* mon_delivered - delivery EV: a bounce of its address an open incident
   holds from before it is dropped (the address takes our mail) */
static void mon_delivered(struct mon_feed *f)
{
	struct monitor *m = f->m;
	const struct event *ev = f->ev;
	GPtrArray *open;
	unsigned gone = 0;
	int64_t h;
	guint i;

	/* the address's bit first: a delivery to an address no incident
	   holds (nearly all) walks no incident */
	if (!m->held_bits_set)
		return;
	h = (int64_t)mon_feed_hash(f);
	if (!mon_maybe_held(m, (uint64_t)h))
		return;		/* held by none */
	open = mon_open(m);
	for (i = 0; i < open->len; i++) {
		struct mon_incident *mi = g_ptr_array_index(open, i);
		const struct mon_held *held;
		struct mon_drop d;

		if (mi->inc.state != INCIDENT_ST_OPEN || mi->closing ||
		    !mi->held || !g_hash_table_size(mi->held))
			continue;
		held = g_hash_table_lookup(mi->held, &h);
		if (!held || ev->time < held->time)
			continue;
		/* after the incident's quiet time it is over, though not
		   closed yet (no record of its pair came to close it): the
		   delivery proves nothing against the bounce, which is
		   applied at the close */
		if (ev->time >= mi->inc.last_bounce + m->p.ip.quiet)
			continue;
		d.id = mi->inc.id;
		d.src_hash = mi->src_hash;
		d.first = mi->inc.first_time;
		if (mon_held_record(m, held, &d.h) == 0)
			g_array_append_val(m->drops, d);
		g_hash_table_remove(mi->held, &h);
		mi->inc.dropped++;
		mi->dirty = true;
		gone++;
	}
	if (gone)
		mon_held_gone(m, gone);
}

/* mon_hold - F's record, a hard bounce, is held by MI (which holds hard
   bounces); MI's id */
static uint64_t mon_hold(struct monitor *m, struct mon_incident *mi,
			 struct mon_feed *f)
{
	const struct event *ev = f->ev;

	if (mi->held && m->h.hold_event) {
		/* its event is the caller's until the seal
		   (monitor_hold_bind) */
		m->unbound = mon_held_new(m, ev->rcpt, mon_feed_hash(f),
					  ev->time);
		mon_held_insert(m, mi, m->unbound);
	} else if (mi->held) {
		struct incident_held h;

		incident_held_from_event(&h, ev);
		(void)mon_held_put(m, mi, &h, mon_feed_hash(f));
	}
	return mi->inc.id;
}

/* mon_hold_again - F's record, a bounce read again, of the pair of open
   incident MI: a hard bounce is held as it was when first read (it
   replaces the hold of its address, as any second hold does), counted
   as held only when MI held nothing of its address (the same bounce, or
   one the hold replaced, was counted then); nothing else of MI changes:
   its counts, samples and protected recipients had the record.  MI's id,
   or 0 */
static uint64_t mon_hold_again(struct monitor *m, struct mon_incident *mi,
			       struct mon_feed *f)
{
	int64_t h;

	if (f->ev->klass != CLASS_HARD || !m->p.hold_hard)
		return 0;
	h = (int64_t)mon_feed_hash(f);
	if (!mi->held || !g_hash_table_contains(mi->held, &h))
		mi->inc.held++;
	mi->dirty = true;
	return mon_hold(m, mi, f);
}

/* mon_feed - monitor_feed, or (AGAIN) monitor_feed_again */
static uint64_t mon_feed(struct monitor *m, const struct event *ev,
			 bool again)
{
	const char *any_source = mon_source_any(ev);
	const char *source = mon_key(any_source);
	const char *dest = NULL;
	bool have_dest = false;
	bool bounce = ev->kind == EV_BOUNCE || ev->kind == EV_REMOTE_BOUNCE;
	bool sender = false;
	struct incident_pair_ref pair;
	struct mon_incident *mi;
	enum rates_what what;
	uint64_t held = 0;
	struct mon_feed f = { m, ev, 0, false };

	g_array_set_size(m->released, 0);
	g_ptr_array_set_size(m->released_held, 0);
	m->unbound = NULL;
	if (!mon_rates_what(ev, &what))
		/* an unsubscribe (a list, a mail), an ignored bounce: none of
		   the monitor's counts, and no clock of its (a list's time
		   is its file's) */
		return 0;
	if (!again && ev->time > m->now)
		m->now = ev->time;
	/* the sender-side test feeds the rates and the detector only, which
	   a record read again does not reach */
	if (bounce && !again)
		sender = monitor_sender_side(m, ev);
	if (m->rates && !again) {
		struct rates_record r;
		const char *at = ev->orig ? strrchr(ev->orig, '@') : NULL;

		memset(&r, 0, sizeof(r));
		dest = mon_dest(m, ev->rcpt);
		have_dest = true;
		r.time = ev->time;
		r.what = what;
		r.sender_side = sender;
		r.names[ALERT_BY_CAMPAIGN] = ev->job_id;
		r.names[ALERT_BY_DESTINATION] = dest;
		r.names[ALERT_BY_SOURCE] = any_source;
		r.names[ALERT_BY_SENDER] = at ? at + 1 : NULL;
		r.cause = ev->bounce_cat;
		r.cause_ix = ev->cat_ix;
		r.where = ev->source;
		r.line = ev->line;
		rates_add(m->rates, &r);
	}
	if (ev->klass == CLASS_DELIVERY && m->incidents->len)
		mon_delivered(&f);
	if (!m->detect || !source ||
	    (!bounce && ev->klass != CLASS_DELIVERY))
		return 0;
	if (bounce && ev->klass != CLASS_HARD && ev->klass != CLASS_SOFT)
		return 0;
	dest = mon_key(have_dest ? dest : mon_dest(m, ev->rcpt));
	if (!dest)
		return 0;
	/* the pair's key, made once for the detector and the open
	   incidents, by the first that needs it */
	pair.len = 0;
	if (!again) {
		struct incident_input in;

		in.source = source;
		in.dest = dest;
		in.pair = &pair;
		in.time = ev->time;
		in.what = !bounce ? INCIDENT_DELIVERY :
			  sender ? INCIDENT_SENDER_BOUNCE :
				   INCIDENT_OTHER_BOUNCE;
		/* the detector keeps the recipients of sender-side bounces
		   only */
		in.rcpt_hash = in.what == INCIDENT_SENDER_BOUNCE ?
				       mon_feed_hash(&f) : 0;
		incident_detect_feed(m->detect, &in, mon_transition, &f);
	}
	if (!bounce)
		return 0;
	mi = mon_find_ref(m, source, dest, &pair);
	if (!mi)
		return 0;
	if (again)
		return mon_hold_again(m, mi, &f);
	if (ev->time > mi->inc.last_bounce && sender)
		mi->inc.last_bounce = ev->time;
	if (sender)
		incident_add_sample(&mi->inc, ev->dsn_diag);
	if (mi->rcpts && mon_protect(mi, mon_feed_hash(&f)))
		mi->inc.protected_soft++;
	if (ev->klass == CLASS_HARD && m->p.hold_hard) {
		mi->inc.held++;
		held = mon_hold(m, mi, &f);
	}
	mi->dirty = true;
	return held;
}

uint64_t monitor_feed(struct monitor *m, const struct event *ev)
{
	return mon_feed(m, ev, false);
}

uint64_t monitor_feed_again(struct monitor *m, const struct event *ev)
{
	return mon_feed(m, ev, true);
}

bool monitor_in_incident(struct monitor *m, uint32_t src, const char *addr,
			 int64_t t)
{
	const char *dest;
	guint i;

	if (!src || !m->incidents->len)
		return false;
	dest = monitor_dest(m, addr);
	if (!dest)
		return false;
	for (i = 0; i < m->incidents->len; i++) {
		struct mon_incident *mi = g_ptr_array_index(m->incidents, i);
		int64_t end = mi->inc.state == INCIDENT_ST_OPEN &&
					      !mi->closing ?
				      INT64_MAX : mi->inc.close_time;

		if (mi->src_hash == src && t >= mi->inc.first_time &&
		    t <= end && strcmp(mi->inc.dest, dest) == 0)
			return true;
	}
	return false;
}

int monitor_hold(struct monitor *m, struct state *st, MDB_txn *txn,
		 uint64_t id, const struct event *ev)
{
	(void)m;
	return incident_hold_event(st, txn, id, ev);
}

void monitor_advance(struct monitor *m, int64_t now)
{
	struct mon_feed f = { m, NULL, 0, false };

	if (now > m->now)
		m->now = now;
	if (m->detect)
		incident_detect_advance(m->detect, m->now, mon_transition, &f);
	/* no record to apply them after: the commit applies what the
	   closed incidents still hold in the store */
	g_array_set_size(m->released, 0);
	g_ptr_array_set_size(m->released_held, 0);
	if (m->rates)
		rates_advance(m->rates, m->now);
}

uint64_t monitor_gen(const struct monitor *m)
{
	return m->gen;
}

int64_t monitor_now(const struct monitor *m)
{
	return m->now;
}

struct rates *monitor_rates(struct monitor *m)
{
	return m->rates;
}

size_t monitor_open_incidents(const struct monitor *m)
{
	size_t n = 0;
	guint i;

	for (i = 0; i < m->incidents->len; i++) {
		const struct mon_incident *mi =
			g_ptr_array_index(m->incidents, i);

		n += mi->inc.state == INCIDENT_ST_OPEN && !mi->closing;
	}
	return n;
}
