/*
 * incident_detect.c - the windows behind incidents (incident_detect.h).
 *
 * One pair per (source, destination) that had a sender-side bounce in
 * the last window, or is in an incident: a queue of per-minute counts
 * (sender-side bounces, other bounces, deliveries) no older than the
 * window, and a table of the distinct recipients of its sender-side
 * bounces with the time each was last seen, beside a min-heap of those
 * times (an entry per time set; one whose recipient was seen again since
 * is stale and skipped when it comes out): a window moving past its
 * oldest recipient takes out what left it, not a walk of the table, so a
 * block of hours with tens of thousands of recipients in the window
 * costs the same per record as a minute of it.  Attempts are counted from
 * the pair's first sender-side bounce on: a pair is not made for every
 * destination a delivery goes to (that would be one per domain mailed),
 * so deliveries just before a first sender-side bounce are not counted;
 * for a real block every attempt fails, and for sporadic sender-side
 * bounces among many deliveries the deliveries after the first bounce
 * keep the share low.
 *
 * "Delivery records are read" means a delivery was seen within a day of
 * record time before the record in hand: without d records there is no
 * share to compute and MIN_RECIPIENTS alone decides.
 *
 * Error policy: nothing fails; allocation failures abort, as GLib does.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "incident_detect.h"
#include "name_cache.h"
#include "u64map.h"

#define ID_MINUTE 60
#define ID_DELIVERIES_FRESH 86400	/* d records count as read this long */

struct id_bucket {
	int64_t minute;		/* record time / 60 */
	uint32_t sb, ob, dl;	/* sender-side bounces, others, deliveries */
};

struct id_pair {
	char *key;		/* "SOURCE\037DEST" */
	const char *source, *dest;	/* copies, in src_dest */
	char *src_dest;
	int64_t clock;		/* newest record time seen */
	int64_t last_sb;	/* newest sender-side bounce */
	GArray *buckets;	/* struct id_bucket, oldest first: one per
				   minute of the window that has records
				   (no allocation per minute, and the oldest
				   is read where the array starts) */
	uint64_t n_sb, n_ob, n_dl;	/* the sums of BUCKETS */
	struct u64map rcpts;	/* recipient hash -> time last seen */
	GArray *expiry;		/* struct id_exp, a min-heap by time: one
				   per time set in RCPTS (or stale) */
	bool open;
	bool dirty;		/* changed since the last save */
	bool whole;		/* every recipient to be saved (a save of
				   version 1 was loaded) */
	GArray *pend;		/* struct id_exp: recipients set since the
				   last save */
	int64_t first_time, open_time;
	uint32_t recipients;
	uint64_t bounces, attempts;	/* since the window it opened on */
};

struct incident_detect {
	struct incident_params p;
	GHashTable *pairs;	/* key -> struct id_pair * */
	/* key -> pair or NULL (none), cleared when a pair is made or
	   forgotten: most records are deliveries of pairs never made */
	struct name_cache fast;
	int64_t last_delivery;	/* newest d record, any pair */
	int64_t clock;		/* newest record time of all */
	int64_t next_sweep;	/* idle pairs forgotten when CLOCK is here */
	bool dirty;		/* changed since the last save */
	GPtrArray *gone;	/* keys of the pairs forgotten since */
	uint64_t saves;		/* saves so far (kept in the state) */
};

/* an expiry heap entry: recipient hash H was seen at T */
struct id_exp {
	int64_t t;
	uint64_t h;
};

/* id_exp_push - recipient hash H seen at T, into P's expiry heap */
static void id_exp_push(struct id_pair *p, int64_t t, uint64_t h)
{
	struct id_exp e = { t, h }, *a;
	guint i;

	if (!p->expiry)
		p->expiry = g_array_new(FALSE, FALSE, sizeof(struct id_exp));
	g_array_append_val(p->expiry, e);
	a = (struct id_exp *)(void *)p->expiry->data;
	for (i = p->expiry->len - 1; i > 0 && a[(i - 1) / 2].t > t;
	     i = (i - 1) / 2)
		a[i] = a[(i - 1) / 2];
	a[i] = e;
}

/* id_exp_pop - the oldest entry of P's expiry heap (not empty) taken out */
static struct id_exp id_exp_pop(struct id_pair *p)
{
	struct id_exp *a = (struct id_exp *)(void *)p->expiry->data;
	struct id_exp top = a[0], last = a[p->expiry->len - 1];
	guint n = p->expiry->len - 1, i = 0, c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && a[c + 1].t < a[c].t)
			c++;
		if (a[c].t >= last.t)
			break;
		a[i] = a[c];
		i = c;
	}
	a[i] = last;
	g_array_set_size(p->expiry, n);
	return top;
}

/* id_exp_compact - P's expiry heap made again from its table when stale
   entries (recipients seen again) outnumber the live ones */
static void id_exp_compact(struct id_pair *p)
{
	size_t pos = 0;
	uint64_t h;
	int64_t t;

	if (p->expiry->len <= 2 * u64map_size(&p->rcpts) + 1024)
		return;
	g_array_set_size(p->expiry, 0);
	while (u64map_next(&p->rcpts, &pos, &h, &t))
		id_exp_push(p, t, h);
}

/* id_pair_free - a pair and what it holds */
static void id_pair_free(gpointer v)
{
	struct id_pair *p = v;

	g_array_free(p->buckets, TRUE);
	u64map_clear(&p->rcpts);
	if (p->expiry)
		g_array_free(p->expiry, TRUE);
	if (p->pend)
		g_array_free(p->pend, TRUE);
	g_free(p->src_dest);
	g_free(p->key);
	g_free(p);
}

struct incident_detect *incident_detect_new(const struct incident_params *p)
{
	struct incident_detect *d;

	if (!p || p->window <= 0 || p->min_recipients == 0 ||
	    p->min_share < 0 || p->min_share > 1 || p->quiet <= 0)
		return NULL;
	d = g_new0(struct incident_detect, 1);
	d->p = *p;
	d->pairs = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
					 id_pair_free);
	d->gone = g_ptr_array_new_with_free_func(g_free);
	d->last_delivery = INT64_MIN / 2;
	return d;
}

void incident_detect_free(struct incident_detect *d)
{
	if (!d)
		return;
	g_hash_table_destroy(d->pairs);
	g_ptr_array_free(d->gone, TRUE);
	g_free(d);
}

size_t incident_pair_key(char *buf, const char *source, const char *dest)
{
	size_t ls = strnlen(source, INCIDENT_KEY_MAX);
	size_t ld = strnlen(dest, INCIDENT_KEY_MAX);

	memcpy(buf, source, ls);
	buf[ls] = '\037';
	memcpy(buf + ls + 1, dest, ld);
	buf[ls + 1 + ld] = '\0';
	return ls + 1 + ld;
}

const struct incident_pair_ref *incident_pair_ref_of(
	struct incident_pair_ref *r, const char *source, const char *dest)
{
	if (!r->len) {
		r->len = incident_pair_key(r->key, source, dest);
		r->hash = name_cache_hash(r->key, r->len);
	}
	return r;
}

/* id_pair_get - the pair of SOURCE and DEST (ROOM: the caller's room for
   their key, or NULL); made when MAKE.  A record of a pair never seen
   costs no allocation (most deliveries). */
static struct id_pair *id_pair_get(struct incident_detect *d,
				   const char *source, const char *dest,
				   struct incident_pair_ref *room, bool make)
{
	struct incident_pair_ref own = { .len = 0 };
	const struct incident_pair_ref *ref;
	struct id_pair *p;
	size_t ls;
	void *hit;

	if (!make && g_hash_table_size(d->pairs) == 0)
		return NULL;
	ref = incident_pair_ref_of(room ? room : &own, source, dest);
	if (name_cache_get(&d->fast, ref->key, ref->len, ref->hash, &hit) &&
	    (hit || !make))
		return hit;
	p = g_hash_table_lookup(d->pairs, ref->key);
	if (p || !make) {
		name_cache_put(&d->fast, ref->key, ref->len, ref->hash, p);
		return p;
	}
	name_cache_clear(&d->fast);
	p = g_new0(struct id_pair, 1);
	p->key = g_strdup(ref->key);
	ls = strnlen(source, INCIDENT_KEY_MAX);
	p->src_dest = g_malloc(ls + 1 + strnlen(dest, INCIDENT_KEY_MAX) + 1);
	memcpy(p->src_dest, source, ls);
	p->src_dest[ls] = '\0';
	g_strlcpy(p->src_dest + ls + 1, dest, INCIDENT_KEY_MAX + 1);
	p->source = p->src_dest;
	p->dest = p->src_dest + ls + 1;
	p->clock = INT64_MIN / 2;
	p->last_sb = INT64_MIN / 2;
	p->buckets = g_array_new(FALSE, FALSE, sizeof(struct id_bucket));
	u64map_init(&p->rcpts);
	g_hash_table_insert(d->pairs, p->key, p);
	return p;
}

/* id_pend - recipient H set to T: saved with the pair's next save */
static void id_pend(struct id_pair *p, int64_t t, uint64_t h)
{
	struct id_exp e = { t, h };

	if (!p->pend)
		p->pend = g_array_new(FALSE, FALSE, sizeof(struct id_exp));
	g_array_append_val(p->pend, e);
}

/* id_prune - forget what P counted before FROM (a record time); whether
   anything was */
static bool id_prune(struct id_pair *p, int64_t from)
{
	const struct id_bucket *b =
		(const struct id_bucket *)(void *)p->buckets->data;
	bool gone = false;
	guint k = 0;

	/* the oldest buckets, from the array's start (a record costs this
	   look, nearly always answered "nothing to forget") */
	while (k < p->buckets->len && (b[k].minute + 1) * ID_MINUTE <= from) {
		p->n_sb -= b[k].sb;
		p->n_ob -= b[k].ob;
		p->n_dl -= b[k].dl;
		k++;
	}
	if (k)
		g_array_remove_range(p->buckets, 0, k);
	/* the recipients last seen before FROM: each has an entry of that
	   time in the heap; an older entry of a recipient seen since is
	   stale, and its recipient stays */
	while (p->expiry && p->expiry->len &&
	       ((struct id_exp *)(void *)p->expiry->data)[0].t < from) {
		struct id_exp e = id_exp_pop(p);
		const int64_t *seen = u64map_get(&p->rcpts, e.h);

		if (seen && *seen < from) {
			u64map_remove(&p->rcpts, e.h);
			gone = true;
		}
	}
	return gone || k;
}

/* id_counts - the sums of P's buckets */
static void id_counts(const struct id_pair *p, uint64_t *sb, uint64_t *all)
{
	*sb = p->n_sb;
	*all = p->n_sb + p->n_ob + p->n_dl;
}

/* id_count - one record into P's minute of T */
static void id_count(struct id_pair *p, int64_t t, enum incident_what what)
{
	int64_t minute = t / ID_MINUTE;
	struct id_bucket *b = NULL;
	guint i;

	/* most records fall into the newest minute; I ends after the last
	   older one, where a new minute goes */
	for (i = p->buckets->len; i > 0; i--) {
		struct id_bucket *x =
			&g_array_index(p->buckets, struct id_bucket, i - 1);

		if (x->minute == minute) {
			b = x;
			break;
		}
		if (x->minute < minute)
			break;
	}
	if (!b) {
		struct id_bucket nb = { minute, 0, 0, 0 };

		g_array_insert_val(p->buckets, i, nb);
		b = &g_array_index(p->buckets, struct id_bucket, i);
	}
	if (what == INCIDENT_SENDER_BOUNCE) {
		b->sb++;
		p->n_sb++;
	} else if (what == INCIDENT_OTHER_BOUNCE) {
		b->ob++;
		p->n_ob++;
	} else {
		b->dl++;
		p->n_dl++;
	}
}

/* id_report - P's transition CHANGE to CB */
static void id_report(struct id_pair *p, enum incident_change change,
		      int64_t close_time, bool recovered, incident_cb cb,
		      void *arg)
{
	struct incident_transition t;

	memset(&t, 0, sizeof(t));
	t.change = change;
	t.source = p->source;
	t.dest = p->dest;
	t.first_time = p->first_time;
	t.open_time = p->open_time;
	t.close_time = close_time;
	t.recipients = p->recipients;
	t.bounces = p->bounces;
	t.attempts = p->attempts;
	t.recovered = recovered;
	if (cb)
		cb(&t, arg);
}

/* id_close - P's incident is over at CLOSE_TIME */
static void id_close(struct id_pair *p, int64_t close_time, bool recovered,
		     incident_cb cb, void *arg)
{
	id_report(p, INCIDENT_CLOSED, close_time, recovered, cb, arg);
	p->open = false;
	p->bounces = p->attempts = 0;
	p->recipients = 0;
}

/* id_first_sb - when the sender-side bounces of the window from FROM
   began: the oldest time its recipients were last seen, when that falls
   in the minute of the oldest sender-side bounce counted; else that
   minute's start (the first recipient refused was refused again since:
   its first time is gone, its minute is not, and the incident must not
   start later than the block).  Only a minute wholly in the window
   counts: the one FROM cuts may hold bounces of recipients gone from it */
static int64_t id_first_sb(const struct id_pair *p, int64_t from)
{
	const struct id_bucket *b = (const void *)p->buckets->data;
	int64_t first = p->clock, t;
	size_t pos = 0;
	uint64_t h;
	guint k;

	while (u64map_next(&p->rcpts, &pos, &h, &t))
		if (t < first)
			first = t;
	for (k = 0; k < p->buckets->len; k++) {
		if (!b[k].sb || b[k].minute * ID_MINUTE < from)
			continue;
		if (first / ID_MINUTE > b[k].minute)
			first = b[k].minute * ID_MINUTE;
		break;
	}
	return first;
}

/* id_share_ok - the sender-side share of P's window is at least the
   minimum, or no delivery records are read */
static bool id_share_ok(const struct incident_detect *d,
			const struct id_pair *p, int64_t now)
{
	uint64_t sb, all;

	if (now - d->last_delivery > ID_DELIVERIES_FRESH)
		return true;
	id_counts(p, &sb, &all);
	return all > 0 && (double)sb >= d->p.min_share * (double)all;
}

/* id_maybe_open - a sender-side bounce at NOW may open P's incident */
static void id_maybe_open(struct incident_detect *d, struct id_pair *p,
			  int64_t now, incident_cb cb, void *arg)
{
	uint64_t sb, all;

	(void)id_prune(p, now - d->p.window);
	if (u64map_size(&p->rcpts) < d->p.min_recipients ||
	    !id_share_ok(d, p, now))
		return;
	id_counts(p, &sb, &all);
	p->open = true;
	p->open_time = now;
	p->first_time = id_first_sb(p, now - d->p.window);
	p->recipients = (uint32_t)u64map_size(&p->rcpts);
	p->bounces = sb;
	p->attempts = all;
	id_report(p, INCIDENT_OPENED, 0, false, cb, arg);
}

/* id_maybe_recover - deliveries back at NOW: at least MIN_RECIPIENTS of
   them in the window and the sender-side share below the minimum */
static void id_maybe_recover(struct incident_detect *d, struct id_pair *p,
			     int64_t now, incident_cb cb, void *arg)
{
	uint64_t sb, all, dl;

	(void)id_prune(p, now - d->p.window);
	dl = p->n_dl;
	id_counts(p, &sb, &all);
	if (dl >= d->p.min_recipients && all > 0 &&
	    (double)sb < d->p.min_share * (double)all)
		id_close(p, now, true, cb, arg);
}

/* id_quiet - P's incident ends when no sender-side bounce came for the
   quiet time before NOW */
static bool id_quiet(const struct incident_detect *d, const struct id_pair *p,
		     int64_t now)
{
	return p->open && now - p->last_sb >= d->p.quiet;
}

/* id_sweep - forget the pairs with no record within the window before
   NOW and no incident open (nothing of them could count any more), and
   prune the others' old minutes; QUIET_CLOSE (CB, ARG): close the open
   ones quiet at NOW first */
static void id_sweep(struct incident_detect *d, int64_t now, bool quiet_close,
		     incident_cb cb, void *arg)
{
	GHashTableIter it;
	gpointer k, v;

	g_hash_table_iter_init(&it, d->pairs);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		struct id_pair *p = v;

		if (quiet_close && id_quiet(d, p, now)) {
			id_close(p, p->last_sb + d->p.quiet, false, cb, arg);
			p->dirty = true;
		}
		if (!p->open && now - p->last_sb > d->p.window &&
		    now - p->clock > d->p.window) {
			g_ptr_array_add(d->gone, g_strdup(p->key));
			g_hash_table_iter_remove(&it);
			name_cache_clear(&d->fast);
			d->dirty = true;
		}
		else if (!p->open && id_prune(p, now - d->p.window))
			p->dirty = true;
	}
	d->next_sweep = now + d->p.window;
}

void incident_detect_feed(struct incident_detect *d,
			  const struct incident_input *in, incident_cb cb,
			  void *arg)
{
	struct id_pair *p;
	int64_t t = in->time;

	if (!in->source || !*in->source || !in->dest || !*in->dest)
		return;
	if (t > d->clock)
		d->clock = t;
	/* once a window of record time: the pairs gone idle are forgotten
	   (not only by the worker's clock: a run over 200,000 destinations
	   kept them all, in memory and in the state, for every later run) */
	if (d->clock >= d->next_sweep)
		id_sweep(d, d->clock, false, NULL, NULL);
	if (in->what == INCIDENT_DELIVERY && t > d->last_delivery) {
		d->last_delivery = t;
		d->dirty = true;
	}
	p = id_pair_get(d, in->source, in->dest, in->pair,
			in->what == INCIDENT_SENDER_BOUNCE);
	if (!p)
		return;
	d->dirty = true;
	p->dirty = true;
	if (t > p->clock)
		p->clock = t;
	if (id_quiet(d, p, p->clock))
		id_close(p, p->last_sb + d->p.quiet, false, cb, arg);
	if (t < p->clock - d->p.window)
		return;		/* older than the window: nothing to count */
	id_count(p, t, in->what);
	if (p->open)
		p->attempts++;
	if (in->what == INCIDENT_SENDER_BOUNCE) {
		int64_t *seen;

		if (t > p->last_sb)
			p->last_sb = t;
		seen = u64map_get(&p->rcpts, in->rcpt_hash);
		if (seen) {
			if (t > *seen) {
				*seen = t;
				id_exp_push(p, t, in->rcpt_hash);
				id_exp_compact(p);
				id_pend(p, t, in->rcpt_hash);
			}
		} else if (u64map_size(&p->rcpts) < INCIDENT_RCPTS_MAX) {
			u64map_put(&p->rcpts, in->rcpt_hash, t);
			id_exp_push(p, t, in->rcpt_hash);
			id_pend(p, t, in->rcpt_hash);
		}
		if (p->open)
			p->bounces++;
		else
			id_maybe_open(d, p, p->clock, cb, arg);
	} else if (in->what == INCIDENT_DELIVERY && p->open) {
		id_maybe_recover(d, p, p->clock, cb, arg);
	}
}

void incident_detect_advance(struct incident_detect *d, int64_t now,
			     incident_cb cb, void *arg)
{
	if (now > d->clock)
		d->clock = now;
	d->dirty = true;
	id_sweep(d, now, true, cb, arg);
}

void incident_detect_restore(struct incident_detect *d, const char *source,
			     const char *dest, int64_t first_time,
			     int64_t open_time, int64_t last_bounce)
{
	struct id_pair *p;

	if (!source || !*source || !dest || !*dest)
		return;
	p = id_pair_get(d, source, dest, NULL, true);
	p->open = true;
	p->first_time = first_time;
	p->open_time = open_time;
	p->last_sb = last_bounce;
	if (last_bounce > p->clock)
		p->clock = last_bounce;
}

/* id_pair_find - the pair of SOURCE and DEST, or NULL (no cache: for the
   seal and the load, not the feed) */
static const struct id_pair *id_pair_find(const struct incident_detect *d,
					  const char *source, const char *dest)
{
	char key[2 * INCIDENT_KEY_MAX + 2];

	if (!source || !dest || g_hash_table_size(d->pairs) == 0)
		return NULL;
	incident_pair_key(key, source, dest);
	return g_hash_table_lookup(d->pairs, key);
}

bool incident_detect_open(const struct incident_detect *d, const char *source,
			  const char *dest)
{
	const struct id_pair *p = id_pair_find(d, source, dest);

	return p && p->open;
}

bool incident_detect_counts(const struct incident_detect *d,
			    const char *source, const char *dest,
			    uint64_t *bounces, uint64_t *attempts)
{
	const struct id_pair *p = id_pair_find(d, source, dest);

	if (!p || !p->open)
		return false;
	*bounces = p->bounces;
	*attempts = p->attempts;
	return true;
}

size_t incident_detect_rcpts(const struct incident_detect *d,
			     const char *source, const char *dest,
			     uint64_t *out, size_t max)
{
	char key[2 * INCIDENT_KEY_MAX + 2];
	const struct id_pair *p;
	size_t n = 0, pos = 0;
	uint64_t h;
	int64_t t;

	if (!source || !dest || g_hash_table_size(d->pairs) == 0)
		return 0;
	incident_pair_key(key, source, dest);
	p = g_hash_table_lookup(d->pairs, key);
	if (!p)
		return 0;
	while (n < max && u64map_next(&p->rcpts, &pos, &h, &t))
		out[n++] = h;
	return n;
}

size_t incident_detect_pairs(const struct incident_detect *d)
{
	return g_hash_table_size(d->pairs);
}

/* --- saving and loading (a restart carries on where the run stopped) --- */

/* version 1: the whole detector in one piece (still read); version 2:
   the changes since the last save (incident_detect.h) */
#define ID_SAVE_WHOLE 1
#define ID_SAVE_CHANGES INCIDENT_SAVE_VERSION

/* id_le - N little-endian bytes of V at P; past them */
static uint8_t *id_le(uint8_t *p, uint64_t v, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
	return p + n;
}

/* id_put - N little-endian bytes of V onto OUT */
static void id_put(GByteArray *out, uint64_t v, unsigned n)
{
	guint at = out->len;

	g_byte_array_set_size(out, at + n);
	(void)id_le(out->data + at, v, n);
}

/* id_put_bytes - N bytes of S with a 16-bit length */
static void id_put_bytes(GByteArray *out, const char *s, size_t n)
{
	id_put(out, n, 2);
	g_byte_array_append(out, (const guint8 *)s, (guint)n);
}

/* id_put_str - S (at most INCIDENT_KEY_MAX bytes of it) with a 16-bit
   length */
static void id_put_str(GByteArray *out, const char *s)
{
	id_put_bytes(out, s, strnlen(s, INCIDENT_KEY_MAX));
}

bool incident_detect_dirty(const struct incident_detect *d)
{
	return d->dirty;
}

/* id_save_head - what a decision can still see of P but its
   recipients: the window before the pair's clock (every decision prunes
   to it first) */
static void id_save_head(const struct incident_detect *d,
			 const struct id_pair *p, GByteArray *out)
{
	int64_t from = p->clock - d->p.window;
	guint nlen, n = 0, bi;

	id_put_str(out, p->source);
	id_put_str(out, p->dest);
	id_put(out, (uint64_t)p->clock, 8);
	id_put(out, (uint64_t)p->last_sb, 8);
	id_put(out, p->open, 1);
	id_put(out, (uint64_t)p->first_time, 8);
	id_put(out, (uint64_t)p->open_time, 8);
	id_put(out, p->recipients, 4);
	id_put(out, p->bounces, 8);
	id_put(out, p->attempts, 8);
	nlen = out->len;
	id_put(out, 0, 4);
	for (bi = 0; bi < p->buckets->len; bi++) {
		const struct id_bucket *b =
			&g_array_index(p->buckets, struct id_bucket, bi);

		if ((b->minute + 1) * ID_MINUTE <= from)
			continue;
		id_put(out, (uint64_t)b->minute, 8);
		id_put(out, b->sb, 4);
		id_put(out, b->ob, 4);
		id_put(out, b->dl, 4);
		n++;
	}
	(void)id_le(out->data + nlen, n, 4);
}

/* id_save_rcpts - P's recipients set since its last save (all of them
   when WHOLE) and still in the window, as a count and (hash, time)
   pairs */
static void id_save_rcpts(const struct incident_detect *d,
			  const struct id_pair *p, GByteArray *out)
{
	int64_t from = p->clock - d->p.window;
	guint nlen = out->len, n = 0, at, i;
	size_t pos = 0, most;
	uint64_t h;
	int64_t t;
	uint8_t *w;

	id_put(out, 0, 4);
	most = p->whole ? u64map_size(&p->rcpts) :
			  (p->pend ? p->pend->len : 0);
	if (!most)
		return;
	/* room for all of them at once, cut to those written */
	at = out->len;
	g_byte_array_set_size(out, at + 16 * most);
	w = out->data + at;
	if (p->whole) {
		while (u64map_next(&p->rcpts, &pos, &h, &t)) {
			if (t < from)
				continue;
			w = id_le(w, h, 8);
			w = id_le(w, (uint64_t)t, 8);
			n++;
		}
	} else {
		for (i = 0; i < p->pend->len; i++) {
			const struct id_exp *e =
				&g_array_index(p->pend, struct id_exp, i);

			if (e->t < from)
				continue;
			w = id_le(w, e->h, 8);
			w = id_le(w, (uint64_t)e->t, 8);
			n++;
		}
	}
	g_byte_array_set_size(out, at + 16 * n);
	(void)id_le(out->data + nlen, n, 4);
}

void incident_detect_save(struct incident_detect *d, GByteArray *out)
{
	GHashTableIter it;
	gpointer k, v;
	guint i, nat, n = 0;

	d->dirty = false;
	d->saves++;
	id_put(out, ID_SAVE_CHANGES, 1);
	id_put(out, (uint64_t)d->last_delivery, 8);
	id_put(out, (uint64_t)d->clock, 8);
	id_put(out, d->saves, 8);
	/* the pairs forgotten first: one made again since is written
	   after */
	id_put(out, d->gone->len, 4);
	for (i = 0; i < d->gone->len; i++) {
		const char *key = g_ptr_array_index(d->gone, i);

		id_put_bytes(out, key, strlen(key));
	}
	g_ptr_array_set_size(d->gone, 0);
	nat = out->len;
	id_put(out, 0, 4);
	g_hash_table_iter_init(&it, d->pairs);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		struct id_pair *p = v;
		guint lat;

		if (!p->dirty)
			continue;
		id_put_bytes(out, p->key, strlen(p->key));
		lat = out->len;
		id_put(out, 0, 4);
		id_save_head(d, p, out);
		(void)id_le(out->data + lat, out->len - lat - 4, 4);
		id_put(out, (uint64_t)(p->clock - d->p.window), 8);
		id_save_rcpts(d, p, out);
		p->dirty = p->whole = false;
		if (p->pend)
			g_array_set_size(p->pend, 0);
		n++;
	}
	(void)id_le(out->data + nat, n, 4);
}

/* a bounded reader over a saved detector */
struct id_rd {
	const uint8_t *p;
	size_t len, pos;
	bool bad;
};

/* id_get - N little-endian bytes (0 and BAD set past the end) */
static uint64_t id_get(struct id_rd *r, unsigned n)
{
	uint64_t v = 0;
	unsigned i;

	if (r->bad || r->len - r->pos < n) {
		r->bad = true;
		return 0;
	}
	for (i = 0; i < n; i++)
		v |= (uint64_t)r->p[r->pos + i] << (8 * i);
	r->pos += n;
	return v;
}

/* id_get_str - a string of at most INCIDENT_KEY_MAX - 1 bytes into BUF */
static void id_get_str(struct id_rd *r, char *buf)
{
	uint64_t n = id_get(r, 2);

	if (r->bad || n >= INCIDENT_KEY_MAX || r->len - r->pos < n) {
		r->bad = true;
		buf[0] = '\0';
		return;
	}
	memcpy(buf, r->p + r->pos, n);
	buf[n] = '\0';
	r->pos += n;
}

/* the times a save may hold: those a detector sets (a pair not yet
   bounced keeps INT64_MIN / 2), with room for the sums and differences
   taken with them; a save holding others is damaged */
#define ID_TIME_MIN (INT64_MIN / 2)
#define ID_TIME_MAX (INT64_MAX / 4)

/* id_get_time - a time of a save (BAD set when out of range) */
static int64_t id_get_time(struct id_rd *r)
{
	int64_t t = (int64_t)id_get(r, 8);

	if (t < ID_TIME_MIN || t > ID_TIME_MAX)
		r->bad = true;
	return t;
}

/* id_skip_bytes - past a string with a 16-bit length */
static void id_skip_bytes(struct id_rd *r)
{
	uint64_t n = id_get(r, 2);

	if (r->bad || r->len - r->pos < n)
		r->bad = true;
	else
		r->pos += n;
}

/* id_load_head - a pair as both versions keep it but its recipients,
   made in D; the pair, or NULL (R bad) */
static struct id_pair *id_load_head(struct incident_detect *d,
				    struct id_rd *r)
{
	char src[INCIDENT_KEY_MAX], dst[INCIDENT_KEY_MAX];
	struct id_pair *p;
	uint64_t j, n;

	id_get_str(r, src);
	id_get_str(r, dst);
	if (r->bad || !*src || !*dst) {
		r->bad = true;
		return NULL;
	}
	p = id_pair_get(d, src, dst, NULL, true);
	p->clock = id_get_time(r);
	p->last_sb = id_get_time(r);
	p->open = id_get(r, 1) != 0;
	p->first_time = id_get_time(r);
	p->open_time = id_get_time(r);
	p->recipients = (uint32_t)id_get(r, 4);
	p->bounces = id_get(r, 8);
	p->attempts = id_get(r, 8);
	n = id_get(r, 4);
	for (j = 0; j < n && !r->bad; j++) {
		struct id_bucket b;

		b.minute = (int64_t)id_get(r, 8);
		if (b.minute < ID_TIME_MIN / ID_MINUTE ||
		    b.minute > ID_TIME_MAX / ID_MINUTE)
			r->bad = true;
		b.sb = (uint32_t)id_get(r, 4);
		b.ob = (uint32_t)id_get(r, 4);
		b.dl = (uint32_t)id_get(r, 4);
		p->n_sb += b.sb;
		p->n_ob += b.ob;
		p->n_dl += b.dl;
		g_array_append_val(p->buckets, b);
	}
	return r->bad ? NULL : p;
}

/* id_load_rcpts - a count and (hash, time) pairs into P: the newest time
   of a recipient written more than once, none before the window */
static void id_load_rcpts(const struct incident_detect *d, struct id_pair *p,
			  struct id_rd *r)
{
	int64_t from = p->clock - d->p.window;
	uint64_t j, n = id_get(r, 4);

	for (j = 0; j < n && !r->bad; j++) {
		uint64_t h = id_get(r, 8);
		int64_t t = id_get_time(r), *seen;

		if (r->bad || t < from)
			continue;
		seen = u64map_get(&p->rcpts, h);
		if (seen) {
			if (t > *seen) {
				*seen = t;
				id_exp_push(p, t, h);
			}
			continue;
		}
		if (u64map_size(&p->rcpts) >= INCIDENT_RCPTS_MAX)
			continue;
		u64map_put(&p->rcpts, h, t);
		id_exp_push(p, t, h);
	}
	if (p->expiry)
		id_exp_compact(p);
}

/* id_load_changes - the rest of a version 2 save after its version */
static void id_load_changes(struct incident_detect *d, struct id_rd *r)
{
	uint64_t i, n;

	d->last_delivery = id_get_time(r);
	d->clock = id_get_time(r);
	d->saves = id_get(r, 8);
	/* a fresh detector has nothing to forget */
	n = id_get(r, 4);
	for (i = 0; i < n && !r->bad; i++)
		id_skip_bytes(r);
	n = id_get(r, 4);
	for (i = 0; i < n && !r->bad; i++) {
		struct id_pair *p;
		struct id_rd sub;
		uint64_t len;

		id_skip_bytes(r);
		len = id_get(r, 4);
		if (r->bad || r->len - r->pos < len) {
			r->bad = true;
			break;
		}
		sub = (struct id_rd){ r->p + r->pos, len, 0, false };
		p = id_load_head(d, &sub);
		if (!p || sub.pos != sub.len) {
			r->bad = true;
			break;
		}
		r->pos += len;
		(void)id_get(r, 8);	/* where its window began */
		id_load_rcpts(d, p, r);
	}
}

void incident_detect_reset(struct incident_detect *d)
{
	g_hash_table_remove_all(d->pairs);
	name_cache_clear(&d->fast);
	g_ptr_array_set_size(d->gone, 0);
	d->last_delivery = INT64_MIN / 2;
	d->clock = 0;
	d->saves = 0;
	d->dirty = false;
}

int incident_detect_load(struct incident_detect *d, const void *buf,
			 size_t len)
{
	struct id_rd r = { buf, len, 0, false };
	GHashTableIter it;
	gpointer k, v;
	uint64_t npairs, i, version;

	incident_detect_reset(d);
	version = id_get(&r, 1);
	if (version == ID_SAVE_CHANGES) {
		id_load_changes(d, &r);
	} else if (version == ID_SAVE_WHOLE) {
		d->last_delivery = id_get_time(&r);
		d->clock = id_get_time(&r);
		npairs = id_get(&r, 4);
		for (i = 0; i < npairs && !r.bad; i++) {
			struct id_pair *p = id_load_head(d, &r);

			if (p)
				id_load_rcpts(d, p, &r);
		}
	} else {
		return -EINVAL;
	}
	if (r.bad || r.pos != r.len) {
		incident_detect_reset(d);
		return -EINVAL;
	}
	/* a save in one piece is kept pair by pair from the next save on:
	   every pair, with every recipient, is written then */
	g_hash_table_iter_init(&it, d->pairs);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		struct id_pair *p = v;

		p->dirty = p->whole = version == ID_SAVE_WHOLE;
	}
	d->dirty = version == ID_SAVE_WHOLE;
	return 0;
}
