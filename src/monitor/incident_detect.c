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
	bool dirty;		/* changed since the last save */
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
	d->last_delivery = INT64_MIN / 2;
	return d;
}

void incident_detect_free(struct incident_detect *d)
{
	if (!d)
		return;
	g_hash_table_destroy(d->pairs);
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

/* id_pair_get - the pair of SOURCE and DEST; made when MAKE.  A record
   of a pair never seen costs no allocation (most deliveries). */
static struct id_pair *id_pair_get(struct incident_detect *d,
				   const char *source, const char *dest,
				   bool make)
{
	char key[2 * INCIDENT_KEY_MAX + 2];
	struct id_pair *p;
	size_t ls, klen;
	uint64_t h;
	void *hit;

	if (!make && g_hash_table_size(d->pairs) == 0)
		return NULL;
	klen = incident_pair_key(key, source, dest);
	h = name_cache_hash(key, klen);
	if (name_cache_get(&d->fast, key, klen, h, &hit) && (hit || !make))
		return hit;
	p = g_hash_table_lookup(d->pairs, key);
	if (p || !make) {
		name_cache_put(&d->fast, key, klen, h, p);
		return p;
	}
	name_cache_clear(&d->fast);
	p = g_new0(struct id_pair, 1);
	p->key = g_strdup(key);
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

/* id_prune - forget what P counted before FROM (a record time) */
static void id_prune(struct id_pair *p, int64_t from)
{
	const struct id_bucket *b =
		(const struct id_bucket *)(void *)p->buckets->data;
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

		if (seen && *seen < from)
			u64map_remove(&p->rcpts, e.h);
	}
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

/* id_first_sb - the oldest sender-side bounce time of the window */
static int64_t id_first_sb(const struct id_pair *p)
{
	int64_t first = p->clock, t;
	size_t pos = 0;
	uint64_t h;

	while (u64map_next(&p->rcpts, &pos, &h, &t))
		if (t < first)
			first = t;
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

	id_prune(p, now - d->p.window);
	if (u64map_size(&p->rcpts) < d->p.min_recipients ||
	    !id_share_ok(d, p, now))
		return;
	id_counts(p, &sb, &all);
	p->open = true;
	p->open_time = now;
	p->first_time = id_first_sb(p);
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

	id_prune(p, now - d->p.window);
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
	if (in->what == INCIDENT_DELIVERY && t > d->last_delivery) {
		d->last_delivery = t;
		d->dirty = true;
	}
	p = id_pair_get(d, in->source, in->dest,
			in->what == INCIDENT_SENDER_BOUNCE);
	if (!p)
		return;
	d->dirty = true;
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
			}
		} else if (u64map_size(&p->rcpts) < INCIDENT_RCPTS_MAX) {
			u64map_put(&p->rcpts, in->rcpt_hash, t);
			id_exp_push(p, t, in->rcpt_hash);
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
	GHashTableIter it;
	gpointer k, v;

	if (now > d->clock)
		d->clock = now;
	d->dirty = true;
	g_hash_table_iter_init(&it, d->pairs);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		struct id_pair *p = v;

		if (id_quiet(d, p, now))
			id_close(p, p->last_sb + d->p.quiet, false, cb, arg);
		if (!p->open && now - p->last_sb > d->p.window &&
		    now - p->clock > d->p.window) {
			g_hash_table_iter_remove(&it);
			name_cache_clear(&d->fast);
		}
		else if (!p->open)
			id_prune(p, now - d->p.window);
	}
}

void incident_detect_restore(struct incident_detect *d, const char *source,
			     const char *dest, int64_t first_time,
			     int64_t open_time, int64_t last_bounce)
{
	struct id_pair *p;

	if (!source || !*source || !dest || !*dest)
		return;
	p = id_pair_get(d, source, dest, true);
	p->open = true;
	p->first_time = first_time;
	p->open_time = open_time;
	p->last_sb = last_bounce;
	if (last_bounce > p->clock)
		p->clock = last_bounce;
}

bool incident_detect_open(const struct incident_detect *d, const char *source,
			  const char *dest)
{
	char key[2 * INCIDENT_KEY_MAX + 2];
	const struct id_pair *p;

	if (!source || !dest || g_hash_table_size(d->pairs) == 0)
		return false;
	incident_pair_key(key, source, dest);
	p = g_hash_table_lookup(d->pairs, key);
	return p && p->open;
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

#define ID_SAVE_VERSION 1

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

/* id_put_str - S with a 16-bit length */
static void id_put_str(GByteArray *out, const char *s)
{
	size_t n = strnlen(s, INCIDENT_KEY_MAX);

	id_put(out, n, 2);
	g_byte_array_append(out, (const guint8 *)s, (guint)n);
}

bool incident_detect_dirty(const struct incident_detect *d)
{
	return d->dirty;
}

void incident_detect_save(struct incident_detect *d, GByteArray *out)
{
	GHashTableIter it;
	gpointer k, v;

	d->dirty = false;
	id_put(out, ID_SAVE_VERSION, 1);
	id_put(out, (uint64_t)d->last_delivery, 8);
	id_put(out, (uint64_t)d->clock, 8);
	id_put(out, g_hash_table_size(d->pairs), 4);
	g_hash_table_iter_init(&it, d->pairs);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		const struct id_pair *p = v;
		int64_t from = p->clock - d->p.window;
		guint nlen, n = 0, bi;
		size_t pos = 0;
		uint64_t h;
		int64_t t;

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
		/* what a decision can still see: the window before the
		   pair's clock (every decision prunes to it first) */
		nlen = out->len;
		id_put(out, 0, 4);
		for (bi = 0; bi < p->buckets->len; bi++) {
			const struct id_bucket *b = &g_array_index(
				p->buckets, struct id_bucket, bi);

			if ((b->minute + 1) * ID_MINUTE <= from)
				continue;
			id_put(out, (uint64_t)b->minute, 8);
			id_put(out, b->sb, 4);
			id_put(out, b->ob, 4);
			id_put(out, b->dl, 4);
			n++;
		}
		(void)id_le(out->data + nlen, n, 4);
		nlen = out->len;
		n = 0;
		id_put(out, 0, 4);
		if (u64map_size(&p->rcpts)) {
			/* room for all of them at once (a block keeps tens of
			   thousands in the window, saved at every commit),
			   cut to those written */
			guint at = out->len;
			uint8_t *w;

			g_byte_array_set_size(out, at + 16 *
					      u64map_size(&p->rcpts));
			w = out->data + at;
			while (u64map_next(&p->rcpts, &pos, &h, &t)) {
				if (t < from)
					continue;
				w = id_le(w, h, 8);
				w = id_le(w, (uint64_t)t, 8);
				n++;
			}
			g_byte_array_set_size(out, at + 16 * n);
		}
		(void)id_le(out->data + nlen, n, 4);
	}
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

int incident_detect_load(struct incident_detect *d, const void *buf,
			 size_t len)
{
	struct id_rd r = { buf, len, 0, false };
	uint64_t npairs, i, j, n;

	if (id_get(&r, 1) != ID_SAVE_VERSION)
		return -EINVAL;
	d->last_delivery = (int64_t)id_get(&r, 8);
	d->clock = (int64_t)id_get(&r, 8);
	npairs = id_get(&r, 4);
	for (i = 0; i < npairs && !r.bad; i++) {
		char src[INCIDENT_KEY_MAX], dst[INCIDENT_KEY_MAX];
		struct id_pair *p;

		id_get_str(&r, src);
		id_get_str(&r, dst);
		if (r.bad || !*src || !*dst)
			break;
		p = id_pair_get(d, src, dst, true);
		p->clock = (int64_t)id_get(&r, 8);
		p->last_sb = (int64_t)id_get(&r, 8);
		p->open = id_get(&r, 1) != 0;
		p->first_time = (int64_t)id_get(&r, 8);
		p->open_time = (int64_t)id_get(&r, 8);
		p->recipients = (uint32_t)id_get(&r, 4);
		p->bounces = id_get(&r, 8);
		p->attempts = id_get(&r, 8);
		n = id_get(&r, 4);
		for (j = 0; j < n && !r.bad; j++) {
			struct id_bucket b;

			b.minute = (int64_t)id_get(&r, 8);
			b.sb = (uint32_t)id_get(&r, 4);
			b.ob = (uint32_t)id_get(&r, 4);
			b.dl = (uint32_t)id_get(&r, 4);
			p->n_sb += b.sb;
			p->n_ob += b.ob;
			p->n_dl += b.dl;
			g_array_append_val(p->buckets, b);
		}
		n = id_get(&r, 4);
		for (j = 0; j < n && !r.bad &&
			    u64map_size(&p->rcpts) < INCIDENT_RCPTS_MAX;
		     j++) {
			uint64_t h = id_get(&r, 8);
			int64_t t = (int64_t)id_get(&r, 8);

			u64map_put(&p->rcpts, h, t);
			id_exp_push(p, t, h);
		}
	}
	if (r.bad || r.pos != r.len) {
		g_hash_table_remove_all(d->pairs);
		name_cache_clear(&d->fast);
		return -EINVAL;
	}
	d->dirty = false;
	return 0;
}
