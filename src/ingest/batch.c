/*
 * batch.c - per-commit grouping of events by recipient.
 *
 * An open-addressing hash table from address to struct batch_rcpt (the
 * hash is kept beside each entry, keyed with a random seed per batch so
 * that no input can choose its collisions), a second one from (address,
 * campaign) to the first kept event of that campaign (whether a bounce of
 * a suppressed address names a new campaign is one lookup, not a walk of
 * the address's events), and a bump arena of 2 MiB blocks for every
 * string and node.  An event is held back in a ring of 32 and its address
 * looked up with the others' (their cache misses overlap), in reading
 * order; a bounce an incident holds or releases is linked at once, after
 * them.  batch_clear empties the tables and rewinds the arena,
 * so a long input reuses the same memory batch after batch: memory is
 * bounded by the largest batch, not by the input.  Allocation failure is
 * reported as -ENOMEM, never aborts.
 */
#include <errno.h>
#include <glib.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "batch.h"
#include "action.h"
#include "bigmem.h"
#include "rcpt.h"
#include "strhash.h"

#define BATCH_LIST_ID_MAX 256 /* bytes kept of a List-Id */

/* arena blocks are 2 MiB, aligned as a huge page and offered to the
   kernel as one (MADV_HUGEPAGE): a batch of a million records fills some
   hundred of them, and one fault per block instead of 512 is a tenth of
   the reading thread's time */
#define ARENA_BLOCK (2u << 20)
#define ARENA_ALIGN ((size_t)2 << 20)
#define BATCH_TABLE_MIN 1024	/* slots of an empty table */
#define BATCH_JOB_MAX (sizeof(((struct rcpt_reason *)0)->job_id) - 1)

struct batch_block {
	struct batch_block *next;
	size_t used, size;
	char data[];
};

/* a slot of the address table (br NULL: free) */
struct batch_slot {
	uint64_t hash;
	struct batch_rcpt *br;
};

/* a slot of the string table (s NULL: free) */
struct batch_str {
	uint64_t hash;
	const char *s;		/* in the arena */
	size_t len;
};

/* where a string of an event comes from (batch_strdup's memo) */
enum batch_field {
	BF_orig,
	BF_bounce_cat,
	BF_dsn_status,
	BF_dsn_diag,
	BF_vmta,
	BF_job_id,
	BF_feedback_type,
	BF_source,
	BF_mw_subscriber_uid,
	BF_list_id,
	BF_iem_list_id,
	BF_iem_subscriber_id,
	BF_mw_list_uid,
	BF_mw_campaign_uid,
	BF_reporter,
	BF_subject,
	BF_rcpt_written,
	BF_COUNT
};

/* the last string of a field, as interned */
struct batch_memo {
	const char *s;		/* in the arena; NULL: none yet */
	size_t n;
};

/* a field's memo holds its last strings by their length and last byte:
   the few categories, DSN statuses and texts of a run of bounces, the
   senders of a few campaigns */
#define BATCH_MEMO_WAYS 16

/* a slot of the campaign table: the first kept event of an address that
   names a campaign (be NULL: free) */
struct batch_camp {
	uint64_t hash;
	const struct batch_event *be;
};

/* sort entries carry the first 24 bytes of the address, big-endian, so
   most comparisons never leave the array (addresses share their first 8
   bytes often, a common first name and separator, and their first 16
   often enough, a name and the start of a number: an eighth of the
   neighbours in the generated file) */
struct batch_sortent {
	uint64_t p0, p1, p2;
	struct batch_rcpt *br;
};

/* an event held back (batch_add): its address copied and its hash; a
   delivery's time, or the node of a whole event (its strings in the
   arena already) */
struct batch_pend {
	uint64_t hash;
	int64_t time;		/* a delivery's (BE NULL) */
	struct batch_event *be;	/* a whole event, not linked yet */
	/* BE's campaign hash for entry CBR, when the flush found its
	   address suppressed already (NULL: not made) */
	const struct batch_rcpt *cbr;
	uint64_t ch;
	uint32_t len;
	char addr[ADDR_MAX + 1];
};

/* events held back before their addresses are looked up together */
#define BATCH_PEND_RING 32

struct batch {
	uint64_t seed;
	struct batch_slot *slots;	/* addresses */
	size_t cap, used;
	struct batch_camp *camps;	/* (address, campaign) of the kept
					   events of suppressed addresses */
	size_t ccap, cused;
	struct batch_str *strs;		/* the strings of the batch, once */
	size_t scap, sused;
	/* the last strings of each field */
	struct batch_memo memo[BF_COUNT][BATCH_MEMO_WAYS];
	struct batch_block *head;	/* current block (first of the list) */
	struct batch_block *spare;	/* rewound blocks for reuse */
	batch_block_fn take;		/* where ready blocks come from */
	void *take_arg;
	size_t n_events;
	const struct batch_event *last;	/* batch_last */
	/* batch_prefetch's address and hash, for the batch_add after it */
	const char *pf_addr;
	uint64_t pf_hash;
	size_t pf_len;
	struct batch_rcpt **sorted;	/* batch_sorted's answer */
	struct batch_sortent *sortents;	/* one per address, as they came */
	struct batch_sortent *sorttmp;	/* batch_sort's other half */
	size_t sorted_cap, sortents_cap, sorttmp_cap;
	/* events not yet in the table (batch_add), in reading order */
	struct batch_pend pend[BATCH_PEND_RING];
	unsigned n_pend;
	int err;	/* a flush's error, answered by the next call */
};

/* batch_block_new - an arena block of SIZE bytes (huge-page aligned and
   advised when it is a whole number of them); NULL on ENOMEM */
static struct batch_block *batch_block_new(size_t size)
{
	void *p = NULL;

	if (size >= ARENA_ALIGN) {
		size = (size + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
		if (posix_memalign(&p, ARENA_ALIGN, size) != 0)
			return NULL;
#ifdef MADV_HUGEPAGE
		(void)madvise(p, size, MADV_HUGEPAGE);
#endif
	} else {
		p = malloc(size);
	}
	return p;
}

struct batch_block *batch_block_ready(void)
{
	struct batch_block *blk = batch_block_new(ARENA_BLOCK);
	size_t off;

	if (!blk)
		return NULL;
	blk->size = ARENA_BLOCK - sizeof(*blk);
	blk->used = 0;
	blk->next = NULL;
	for (off = 4096; off < ARENA_BLOCK; off += 4096)
		((volatile char *)blk)[off] = 0;
	return blk;
}

void batch_block_free(struct batch_block *blk)
{
	free(blk);
}

void batch_set_blocks(struct batch *b, batch_block_fn fn, void *arg)
{
	b->take = fn;
	b->take_arg = arg;
}

/* batch_alloc - SIZE bytes from the arena (8-aligned), NULL on ENOMEM */
static void *batch_alloc(struct batch *b, size_t size)
{
	struct batch_block *blk = b->head;
	void *p;

	size = (size + 7) & ~(size_t)7;
	if (!blk || blk->size - blk->used < size) {
		size_t want = size > ARENA_BLOCK - sizeof(*blk) ?
				      size : ARENA_BLOCK - sizeof(*blk);

		if (b->spare && b->spare->size >= want) {
			blk = b->spare;
			b->spare = blk->next;
		} else if (want == ARENA_BLOCK - sizeof(*blk) && b->take &&
			   (blk = b->take(b->take_arg)) != NULL) {
			/* made ready, its pages touched, by another thread */
		} else {
			blk = batch_block_new(sizeof(*blk) + want);
			if (!blk)
				return NULL;
			blk->size = want;
		}
		blk->used = 0;
		blk->next = b->head;
		b->head = blk;
	}
	p = blk->data + blk->used;
	blk->used += size;
	return p;
}

/* batch_alloc_line - SIZE bytes from the arena, starting a cache line
   (64 bytes); NULL on ENOMEM */
static void *batch_alloc_line(struct batch *b, size_t size)
{
	struct batch_block *blk = b->head;

	if (blk) {
		size_t pad = (64 - ((uintptr_t)(blk->data + blk->used) & 63)) &
			     63;

		if (blk->size - blk->used >= pad + size)
			blk->used += pad;
	}
	return batch_alloc(b, size);
}

/* batch_intern - the N bytes at S in the arena: interned, so the strings
   that repeat from record to record (sender, category, status,
   diagnostic, VirtualMTA, job id) are kept once per batch */
static const char *batch_intern(struct batch *b, const char *s, size_t n)
{
	struct batch_str *e;
	size_t k;
	uint64_t h;
	char *p;

	h = strhash(b->seed, s, n);
	for (k = h & (b->scap - 1);; k = (k + 1) & (b->scap - 1)) {
		e = &b->strs[k];
		if (!e->s)
			break;
		if (e->hash == h && e->len == n && memcmp(e->s, s, n) == 0)
			return e->s;
	}
	if ((b->sused + 1) * 2 > b->scap) {
		size_t cap = b->scap * 2, i;
		struct batch_str *t = bigmem_alloc(cap * sizeof(*t));

		if (!t)
			return NULL;
		for (i = 0; i < b->scap; i++) {
			if (!b->strs[i].s)
				continue;
			for (k = b->strs[i].hash & (cap - 1); t[k].s;
			     k = (k + 1) & (cap - 1))
				;
			t[k] = b->strs[i];
		}
		bigmem_free(b->strs, b->scap * sizeof(*b->strs));
		b->strs = t;
		b->scap = cap;
		for (k = h & (cap - 1); t[k].s; k = (k + 1) & (cap - 1))
			;
		e = &t[k];
	}
	p = batch_alloc(b, n + 1);
	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	e->hash = h;
	e->len = n;
	e->s = p;
	b->sused++;
	return p;
}

/* batch_strdup - S (at most MAX-1 bytes of it) interned in the arena
   (batch_intern); FIELD (enum batch_field) names where it comes from: a
   string equal to one of the last of that field of its length and last
   byte (the sender of every record, the job id and VirtualMTA of a run of
   them, the category and DSN text of a common refusal) is answered
   without a hash or a probe of the string table */
static const char *batch_strdup(struct batch *b, enum batch_field field,
				const char *s, size_t max)
{
	struct batch_memo *m;
	const char *p;
	size_t n;

	if (!s)
		return NULL;
	n = strnlen(s, max - 1);
	m = &b->memo[field][(n ^ (n ? (unsigned char)s[n - 1] : 0)) &
			    (BATCH_MEMO_WAYS - 1)];
	if (m->s && m->n == n && memcmp(m->s, s, n) == 0)
		return m->s;
	p = batch_intern(b, s, n);
	if (p) {
		m->s = p;
		m->n = n;
	}
	return p;
}

struct batch *batch_new(void)
{
	struct batch *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->seed = ((uint64_t)g_random_int() << 32) | g_random_int();
	b->cap = b->ccap = b->scap = BATCH_TABLE_MIN;
	b->slots = bigmem_alloc(b->cap * sizeof(*b->slots));
	b->camps = bigmem_alloc(b->ccap * sizeof(*b->camps));
	b->strs = bigmem_alloc(b->scap * sizeof(*b->strs));
	if (!b->slots || !b->camps || !b->strs) {
		batch_free(b);
		return NULL;
	}
	return b;
}

static void batch_free_blocks(struct batch_block *blk)
{
	while (blk) {
		struct batch_block *next = blk->next;

		free(blk);
		blk = next;
	}
}

void batch_free(struct batch *b)
{
	if (!b)
		return;
	bigmem_free(b->slots, b->cap * sizeof(*b->slots));
	bigmem_free(b->camps, b->ccap * sizeof(*b->camps));
	bigmem_free(b->strs, b->scap * sizeof(*b->strs));
	batch_free_blocks(b->head);
	batch_free_blocks(b->spare);
	bigmem_free(b->sorted, b->sorted_cap * sizeof(*b->sorted));
	bigmem_free(b->sortents, b->sortents_cap * sizeof(*b->sortents));
	bigmem_free(b->sorttmp, b->sorttmp_cap * sizeof(*b->sorttmp));
	free(b);
}

size_t batch_events(const struct batch *b)
{
	return b->n_events;
}

size_t batch_addresses(const struct batch *b)
{
	return b->used;
}

/* batch_copy_extra - DST's rarer strings, and their struct, into the
   arena (empty ones as NULL) */
static int batch_copy_extra(struct batch *b, struct event *dst)
{
	const struct event_extra *src = dst->x;
	struct event_extra *x = batch_alloc(b, sizeof(*x));

	if (!x)
		return -ENOMEM;
#define COPY_X(field, size)                                                    \
	do {                                                                   \
		x->field = NULL;                                               \
		if (src->field && *src->field) {                               \
			x->field = batch_strdup(b, BF_##field, src->field,     \
						(size));                       \
			if (!x->field)                                         \
				return -ENOMEM;                                \
		}                                                              \
	} while (0)
/* an identifier is kept whole or not at all: one cut short names
   something else (the lists of X-Mailer-LID cut after "2,24,1" name
   list 1) */
#define COPY_ID(field, size)                                                   \
	do {                                                                   \
		x->field = NULL;                                               \
		if (src->field && *src->field &&                               \
		    strnlen(src->field, (size)) < (size)) {                    \
			x->field = batch_strdup(b, BF_##field, src->field,     \
						(size));                       \
			if (!x->field)                                         \
				return -ENOMEM;                                \
		}                                                              \
	} while (0)
	COPY_ID(mw_subscriber_uid, ACTION_ID_MAX);
	COPY_X(list_id, BATCH_LIST_ID_MAX);
	COPY_ID(iem_list_id, EVENT_IEM_LIDS_SIZE);
	COPY_ID(iem_subscriber_id, ACTION_ID_MAX);
	COPY_ID(mw_list_uid, ACTION_ID_MAX);
	COPY_ID(mw_campaign_uid, ACTION_ID_MAX);
	COPY_X(reporter, BATCH_LIST_ID_MAX);
	COPY_X(subject, BATCH_LIST_ID_MAX);
	COPY_X(rcpt_written, ADDR_MAX + 1);
#undef COPY_ID
#undef COPY_X
	dst->x = x;
	return 0;
}

/* batch_copy_strings - the event's strings into the arena, bounded to
   the sizes a recipient record keeps */
static int batch_copy_strings(struct batch *b, struct event *dst)
{
	struct rcpt_reason *r = NULL;

	/* the source is kept as its hash (src_hash) */
	dst->source_ip = NULL;
	/* deliveries and ignored records keep no text */
	if (dst->klass == CLASS_DELIVERY || dst->klass == CLASS_IGNORE) {
		dst->orig = dst->bounce_cat = dst->dsn_status = NULL;
		dst->dsn_diag = dst->vmta = dst->job_id = NULL;
		dst->feedback_type = NULL;
		dst->x = NULL;
		return 0;
	}
#define COPY(field, size)                                                      \
	do {                                                                   \
		if (dst->field) {                                              \
			dst->field = batch_strdup(b, BF_##field, dst->field,   \
						  (size));                     \
			if (!dst->field)                                       \
				return -ENOMEM;                                \
		}                                                              \
	} while (0)
	COPY(orig, sizeof(r->orig));
	COPY(bounce_cat, sizeof(r->category));
	COPY(dsn_status, sizeof(r->dsn_status));
	COPY(dsn_diag, sizeof(r->dsn_diag));
	COPY(vmta, sizeof(r->vmta));
	COPY(job_id, sizeof(r->job_id));
	COPY(feedback_type, sizeof(r->category));
	/* a held bounce released comes from the monitor's memory, not from
	   the input: its source name too */
	if (dst->released)
		COPY(source, sizeof(r->source));
#undef COPY
	return dst->x ? batch_copy_extra(b, dst) : 0;
}

/* batch_prefix - 8 bytes of S from OFF (N bytes in all), big-endian,
   zero-padded */
static uint64_t batch_prefix(const char *s, size_t n, size_t off)
{
	uint64_t p = 0;
	size_t i;

	if (off + 8 <= n) {
		memcpy(&p, s + off, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		p = __builtin_bswap64(p);
#endif
		return p;
	}
	for (i = 0; off + i < n; i++)
		p |= (uint64_t)(unsigned char)s[off + i] << (56 - 8 * i);
	return p;
}

/* batch_grow - twice the slots of the address table; 0 or -ENOMEM */
static int batch_grow(struct batch *b)
{
	size_t cap = b->cap * 2, i, k;
	struct batch_slot *n = bigmem_alloc(cap * sizeof(*n));

	if (!n)
		return -ENOMEM;
	for (i = 0; i < b->cap; i++) {
		if (!b->slots[i].br)
			continue;
		for (k = b->slots[i].hash & (cap - 1); n[k].br;
		     k = (k + 1) & (cap - 1))
			;
		n[k] = b->slots[i];
	}
	bigmem_free(b->slots, b->cap * sizeof(*b->slots));
	b->slots = n;
	b->cap = cap;
	return 0;
}

/* batch_find - the slot of ADDR (LEN bytes, hash H): its entry, or the
   free slot where it goes */
static struct batch_slot *batch_find(struct batch *b, const char *addr,
				     size_t len, uint64_t h)
{
	size_t k;

	for (k = h & (b->cap - 1);; k = (k + 1) & (b->cap - 1)) {
		struct batch_slot *sl = &b->slots[k];

		if (!sl->br || (sl->hash == h && sl->br->len == len &&
				memcmp(sl->br->addr, addr, len) == 0))
			return sl;
	}
}

/* batch_camp_hash - the campaign table's hash of BR's campaign JOB */
static uint64_t batch_camp_hash(const struct batch *b,
				const struct batch_rcpt *br, const char *job,
				const char *orig)
{
	return strhash(b->seed ^ (uint64_t)(uintptr_t)br, job,
			  strnlen(job, BATCH_JOB_MAX)) ^
	       strhash(b->seed, orig, strnlen(orig, ADDR_MAX));
}

/* batch_camp_find - the slot of BR's campaign JOB from sender ORIG (hash
   H): its entry, or the free slot where it goes */
static struct batch_camp *batch_camp_find(struct batch *b,
					  const struct batch_rcpt *br,
					  const char *job, const char *orig,
					  uint64_t h)
{
	size_t k;

	for (k = h & (b->ccap - 1);; k = (k + 1) & (b->ccap - 1)) {
		struct batch_camp *c = &b->camps[k];

		if (!c->be || (c->hash == h && c->be->ev.rcpt == br->addr &&
			       strncmp(c->be->ev.job_id ? c->be->ev.job_id :
							  "", job,
				       BATCH_JOB_MAX) == 0 &&
			       strncmp(c->be->ev.orig ? c->be->ev.orig : "",
				       orig, ADDR_MAX) == 0))
			return c;
	}
}

/* batch_camp_hash_of - batch_camp_hash of EV's campaign for BR */
static uint64_t batch_camp_hash_of(const struct batch *b,
				   const struct batch_rcpt *br,
				   const struct event *ev)
{
	return batch_camp_hash(b, br, ev->job_id ? ev->job_id : "",
			       ev->orig ? ev->orig : "");
}

/* batch_camp_add - BE, a kept event of BR, names its campaign (the first
   such event is the one kept in the table; HP: its hash when made, or
   NULL); 0 or -ENOMEM */
static int batch_camp_add(struct batch *b, const struct batch_rcpt *br,
			  const struct batch_event *be, const uint64_t *hp)
{
	const char *job = be->ev.job_id ? be->ev.job_id : "";
	const char *orig = be->ev.orig ? be->ev.orig : "";
	struct batch_camp *c;
	uint64_t h;

	if (!*job && !*orig)
		return 0;
	if ((b->cused + 1) * 2 > b->ccap) {
		size_t cap = b->ccap * 2, i, k;
		struct batch_camp *n = bigmem_alloc(cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		for (i = 0; i < b->ccap; i++) {
			if (!b->camps[i].be)
				continue;
			for (k = b->camps[i].hash & (cap - 1); n[k].be;
			     k = (k + 1) & (cap - 1))
				;
			n[k] = b->camps[i];
		}
		bigmem_free(b->camps, b->ccap * sizeof(*b->camps));
		b->camps = n;
		b->ccap = cap;
	}
	h = hp ? *hp : batch_camp_hash(b, br, job, orig);
	c = batch_camp_find(b, br, job, orig, h);
	if (!c->be) {
		c->hash = h;
		c->be = be;
		b->cused++;
	}
	return 0;
}

/* batch_new_campaign - must EV, an event of suppressed address BR, be
   kept whole?  A complaint or unsubscribe always is, and a bounce of a
   campaign and sender that none of BR's kept events names (it may ask
   for that campaign's bounce record, or for a provider that sender routes
   to): applied one by one, the batch's end changes nothing.  H: the
   campaign's hash (batch_camp_hash_of) */
static bool batch_new_campaign(struct batch *b, const struct batch_rcpt *br,
			       const struct event *ev, uint64_t h)
{
	const char *job = ev->job_id ? ev->job_id : "";
	const char *orig = ev->orig ? ev->orig : "";

	if (ev->klass == CLASS_COMPLAINT || ev->klass == CLASS_UNSUB)
		return true;
	if ((ev->klass != CLASS_HARD && ev->klass != CLASS_SOFT) ||
	    (!*job && !*orig))
		return false;
	return batch_camp_find(b, br, job, orig, h)->be == NULL;
}

/* batch_rcpt_at - the entry of ADDR (LEN bytes, hash H), made when new;
   NULL on ENOMEM */
static struct batch_rcpt *batch_rcpt_at(struct batch *b, const char *addr,
					size_t len, uint64_t h)
{
	struct batch_slot *sl = batch_find(b, addr, len, h);
	struct batch_rcpt *br;
	char *copy;

	if (sl->br)
		return sl->br;
	if ((b->used + 1) * 2 > b->cap) {
		if (batch_grow(b) != 0)
			return NULL;
		sl = batch_find(b, addr, len, h);
	}
	if (b->used == b->sortents_cap) {
		size_t cap = b->sortents_cap ? b->sortents_cap * 2 : 4096;
		struct batch_sortent *e = bigmem_grow(
			b->sortents, b->sortents_cap * sizeof(*e),
			cap * sizeof(*e));

		if (!e)
			return NULL;
		b->sortents = e;
		b->sortents_cap = cap;
	}
	/* the entry and its address in one piece, on a cache line of its
	   own: a lookup reads the length, compares the address and links
	   the event from the same line or two */
	br = batch_alloc_line(b, sizeof(*br) + len + 1);
	if (!br)
		return NULL;
	copy = (char *)(br + 1);
	memcpy(copy, addr, len);
	copy[len] = '\0';
	memset(br, 0, sizeof(*br));
	br->addr = copy;
	br->len = (uint32_t)len;
	sl->hash = h;
	sl->br = br;
	/* its sort key now, while the address is in the cache */
	b->sortents[b->used].p0 = batch_prefix(copy, len, 0);
	b->sortents[b->used].p1 = batch_prefix(copy, len, 8);
	b->sortents[b->used].p2 = batch_prefix(copy, len, 16);
	b->sortents[b->used].br = br;
	b->used++;
	return br;
}

/* batch_hash_of - the length and hash of ADDR (from batch_prefetch when
   it was the address prefetched last) */
static uint64_t batch_hash_of(struct batch *b, const char *addr, size_t *len)
{
	if (addr == b->pf_addr) {
		b->pf_addr = NULL;
		*len = b->pf_len;
		return b->pf_hash;
	}
	*len = strnlen(addr, ADDR_MAX);
	return strhash(b->seed, addr, *len);
}

/* batch_rcpt_of - the entry of ADDR, made when new; NULL on ENOMEM */
static struct batch_rcpt *batch_rcpt_of(struct batch *b, const char *addr)
{
	size_t len;
	uint64_t h = batch_hash_of(b, addr, &len);

	return batch_rcpt_at(b, addr, len, h);
}

/* batch_dups - BR's counts of events after its suppression; NULL on
   ENOMEM */
static struct rcpt_dups *batch_dups(struct batch *b, struct batch_rcpt *br)
{
	if (!br->dups) {
		br->dups = batch_alloc(b, sizeof(*br->dups));
		if (br->dups)
			memset(br->dups, 0, sizeof(*br->dups));
	}
	return br->dups;
}

/* batch_add_dlv - a delivery at time T to BR: a count when BR is
   suppressed, else a compact event; 0 or -ENOMEM */
static int batch_add_dlv(struct batch *b, struct batch_rcpt *br, int64_t t)
{
	struct batch_event *be;

	if (br->suppressed) {
		struct rcpt_dups *d = batch_dups(b, br);
		struct event ev = { .klass = CLASS_DELIVERY, .time = t };

		if (!d)
			return -ENOMEM;
		rcpt_dups_add(d, &ev);
		return 0;
	}
	br->n_dlv++;
	if (br->head_room) {
		/* the compact node of the deliveries before it: its time is
		   stored there, and nothing of the node read (its place and
		   fill are known from the entry) */
		unsigned k = BATCH_DLV_CHUNK - br->head_room--;

		br->head->dlv_times[k] = t;
		br->head->n_dlv = (uint8_t)(k + 1);
		return 0;
	}
	/* a delivery asks for its time only: kept compact, with the next
	   ones of the address that come before any other event */
	be = batch_alloc(b, offsetof(struct batch_event, dlv_times) +
				    sizeof(be->dlv_times));
	if (!be)
		return -ENOMEM;
	be->dlv = true;
	be->n_dlv = 1;
	be->dlv_times[0] = t;
	/* newest first: the node before it is not touched (it left the
	   cache long ago, and a delivery's whole cost is a few misses) */
	be->next = br->head;
	br->head = be;
	br->head_room = BATCH_DLV_CHUNK - 1;
	return 0;
}

/* batch_node - a node of a whole event, EV as it is (its strings not
   copied); NULL on ENOMEM */
static struct batch_event *batch_node(struct batch *b, const struct event *ev)
{
	struct batch_event *be = batch_alloc(b, sizeof(*be));

	if (!be)
		return NULL;
	be->dlv = false;
	be->n_dlv = 0;
	be->hold_unstored = false;
	be->dropped_again = false;
	be->ev = *ev;
	return be;
}

/* batch_new_event - a node of EV, its strings copied into the arena
   (not linked: its address is not set); NULL on ENOMEM */
static struct batch_event *batch_new_event(struct batch *b,
					   const struct event *ev)
{
	struct batch_event *be = batch_node(b, ev);

	if (!be)
		return NULL;
	be->ev.rcpt = NULL;
	return batch_copy_strings(b, &be->ev) == 0 ? be : NULL;
}

/* batch_link - BE (batch_new_event) of address BR: counted only when BR
   is suppressed and it names no campaign BR's kept events do (BE is then
   left unused), else linked after BR's events; CH: its campaign's hash
   for BR when made (NULL: made here if needed).  0 or -ENOMEM */
static int batch_link(struct batch *b, struct batch_rcpt *br,
		      struct batch_event *be, const uint64_t *ch)
{
	const struct event *ev = &be->ev;
	/* a bounce an incident holds, or one it released, is judged at
	   apply time against what the state holds for the address, never
	   counted here: the monitor's memory of it must match the state's
	   however the batches fall */
	bool judged = !ev->held && !ev->released;
	uint64_t h;

	if (br->suppressed && judged) {
		h = ch ? *ch : batch_camp_hash_of(b, br, ev);
		ch = &h;
		if (!batch_new_campaign(b, br, ev, h)) {
			struct rcpt_dups *d = batch_dups(b, br);

			if (!d)
				return -ENOMEM;
			/* only the category of a bounce is kept: the
			   batch's copy */
			rcpt_dups_add(d, ev);
			return 0;
		}
	}
	/* a hard bounce an incident holds suppresses nothing yet */
	if (!br->suppressed && judged &&
	    (ev->klass == CLASS_HARD || ev->klass == CLASS_COMPLAINT ||
	     ev->klass == CLASS_UNSUB)) {
		const struct batch_event *k;

		/* from now on its bounces are judged by campaign: the
		   campaigns of the events kept so far go to the table */
		br->suppressed = true;
		for (k = br->head; k; k = k->next)
			if (!k->dlv && batch_camp_add(b, br, k, NULL) != 0)
				return -ENOMEM;
		ch = NULL;	/* the hash given was for another state */
	}
	br->n_full++;
	be->ev.rcpt = br->addr;
	/* a bounce kept whole after counted ones is the latest now */
	if ((ev->klass == CLASS_HARD || ev->klass == CLASS_SOFT) &&
	    !ev->released && br->dups)
		br->dups->category_last = false;
	if (br->suppressed && batch_camp_add(b, br, be, ch) != 0)
		return -ENOMEM;
	be->next = br->head;
	br->head = be;
	br->head_room = 0;	/* a delivery after it starts a node */
	return 0;
}

/*
 * batch_flush_pend - the events held back into the table, in their
 * order: their slots are read and the entries they point to asked of the
 * memory all together first (as many independent loads as events, whose
 * misses overlap), then the campaign slots of those that need one, then
 * each is looked up and linked; 0 or -ENOMEM (also one an earlier flush
 * met, which batch_last could not answer)
 */
static int batch_flush_pend(struct batch *b)
{
	unsigned i, n = b->n_pend;
	int rc = b->err;

	b->n_pend = 0;
	for (i = 0; i < n; i++) {
		const struct batch_slot *sl =
			&b->slots[b->pend[i].hash & (b->cap - 1)];

		if (sl->br) {
			/* the entry's line, and the next for the end of a
			   longer address */
			__builtin_prefetch(sl->br, 1);
			__builtin_prefetch((const char *)sl->br + 64);
		}
	}
	/* the whole events of addresses suppressed already (a bounce of
	   each is looked up in the campaign table): their campaign's slot
	   asked for too, the entries having come meanwhile */
	for (i = 0; i < n; i++) {
		struct batch_pend *p = &b->pend[i];
		const struct batch_slot *sl =
			&b->slots[p->hash & (b->cap - 1)];

		p->cbr = NULL;
		if (!p->be || !sl->br || sl->hash != p->hash ||
		    !sl->br->suppressed)
			continue;
		p->cbr = sl->br;
		p->ch = batch_camp_hash_of(b, sl->br, &p->be->ev);
		__builtin_prefetch(&b->camps[p->ch & (b->ccap - 1)]);
	}
	for (i = 0; rc == 0 && i < n; i++) {
		struct batch_pend *p = &b->pend[i];
		struct batch_rcpt *br = batch_rcpt_at(b, p->addr, p->len,
						      p->hash);

		if (!br)
			rc = -ENOMEM;
		else if (p->be)
			rc = batch_link(b, br, p->be,
					p->cbr == br ? &p->ch : NULL);
		else
			rc = batch_add_dlv(b, br, p->time);
	}
	b->err = rc;
	return rc;
}

/* batch_hold_back - EV into the ring of events held back: BE its node
   (batch_new_event), NULL for a delivery (its time only); 0 or -ENOMEM
   (of the flush a full ring makes) */
static int batch_hold_back(struct batch *b, const struct event *ev,
			   struct batch_event *be)
{
	struct batch_pend *p = &b->pend[b->n_pend];
	size_t len;

	p->hash = batch_hash_of(b, ev->rcpt, &len);
	p->len = (uint32_t)len;
	memcpy(p->addr, ev->rcpt, len);
	p->addr[len] = '\0';
	p->time = ev->time;
	p->be = be;
	b->n_events++;
	return ++b->n_pend == BATCH_PEND_RING ? batch_flush_pend(b) : 0;
}

void batch_prefetch(struct batch *b, const char *addr)
{
	b->pf_len = strnlen(addr, ADDR_MAX);
	b->pf_hash = strhash(b->seed, addr, b->pf_len);
	b->pf_addr = addr;
	__builtin_prefetch(&b->slots[b->pf_hash & (b->cap - 1)]);
}

int batch_add(struct batch *b, const struct event *ev)
{
	struct batch_rcpt *br;
	struct batch_event *be;
	int rc;

	b->last = NULL;
	if (!ev->held && !ev->released) {
		/* held back, and looked up with the next ones: the misses
		   of several lookups overlap.  A delivery keeps its time
		   only; another event is copied now (its strings are the
		   input's until the next record) */
		if (ev->klass == CLASS_DELIVERY)
			return batch_hold_back(b, ev, NULL);
		be = batch_new_event(b, ev);
		if (!be)
			return -ENOMEM;
		b->last = be;	/* batch_last: when it is linked */
		return batch_hold_back(b, ev, be);
	}
	/* held or released: linked now, after those held back (the
	   monitor keeps a reference to a held one, batch_add_release
	   links a release to its address) */
	rc = batch_flush_pend(b);
	if (rc)
		return rc;
	br = batch_rcpt_of(b, ev->rcpt);
	if (!br)
		return -ENOMEM;
	b->n_events++;
	be = batch_new_event(b, ev);
	if (!be)
		return -ENOMEM;
	rc = batch_link(b, br, be, NULL);
	if (rc == 0)
		b->last = be;
	return rc;
}

int batch_add_release(struct batch *b, const struct batch_event *held,
		      uint64_t id, uint32_t src_hash, uint64_t mon_gen)
{
	/* the entry and its address are one piece (batch_rcpt_at): the
	   held event's address is the one right after its entry */
	struct batch_rcpt *br = (struct batch_rcpt *)(void *)held->ev.rcpt - 1;
	struct batch_event *be;
	int rc;

	b->last = NULL;
	/* the events held back came before it */
	rc = batch_flush_pend(b);
	if (rc)
		return rc;
	/* its strings are the batch's already, as long as it lives */
	be = batch_node(b, &held->ev);
	if (!be)
		return -ENOMEM;
	b->n_events++;
	be->ev.held = 0;
	be->ev.released = id;
	be->ev.src_hash = src_hash;
	be->ev.mon_gen = mon_gen;
	return batch_link(b, br, be, NULL);
}

const struct batch_event *batch_last(struct batch *b)
{
	const struct batch_event *be = b->last;

	if (be && !be->ev.rcpt) {
		/* held back: looked up now (an error is the next call's
		   answer); counted only, it was not kept */
		if (batch_flush_pend(b) != 0 || !be->ev.rcpt)
			be = NULL;
		b->last = be;
	}
	return be;
}

int batch_flush(struct batch *b)
{
	return batch_flush_pend(b);
}

struct batch_event *batch_rcpt_events(struct batch_rcpt *br)
{
	struct batch_event *prev = NULL, *be = br->head, *next;

	if (br->ordered)
		return br->head;
	while (be) {
		next = be->next;
		be->next = prev;
		prev = be;
		be = next;
	}
	br->head = prev;
	br->ordered = true;
	return prev;
}

/* batch_cmp - the address order of two sort entries */
static inline int batch_cmp(const struct batch_sortent *x,
			    const struct batch_sortent *y)
{
	if (x->p0 != y->p0)
		return x->p0 < y->p0 ? -1 : 1;
	if (x->p1 != y->p1)
		return x->p1 < y->p1 ? -1 : 1;
	if (x->p2 != y->p2)
		return x->p2 < y->p2 ? -1 : 1;
	/* the same first 24 bytes: a shorter address would equal the other */
	if (x->br->len <= 24 || y->br->len <= 24)
		return x->br->len < y->br->len ? -1 : x->br->len > y->br->len;
	return strcmp(x->br->addr + 24, y->br->addr + 24);
}

#define BATCH_RUN 16	/* entries sorted by insertion before merging */

/* batch_sort - A (N entries) sorted by batch_cmp, merging through TMP (N
   entries; the batch keeps it, so a batch sorts without allocating);
   returns the array that holds the answer (A or TMP) */
static struct batch_sortent *batch_sort(struct batch_sortent *a,
					struct batch_sortent *tmp, size_t n)
{
	struct batch_sortent *src = a, *dst = tmp, *t;
	size_t i, j, w;

	for (i = 0; i < n; i += BATCH_RUN) {
		size_t end = i + BATCH_RUN < n ? i + BATCH_RUN : n;

		for (j = i + 1; j < end; j++) {
			struct batch_sortent x = a[j];
			size_t k = j;

			while (k > i && batch_cmp(&a[k - 1], &x) > 0) {
				a[k] = a[k - 1];
				k--;
			}
			a[k] = x;
		}
	}
	for (w = BATCH_RUN; w < n; w *= 2) {
		for (i = 0; i < n; i += 2 * w) {
			size_t mid = i + w < n ? i + w : n;
			size_t end = i + 2 * w < n ? i + 2 * w : n;
			size_t l = i, r = mid, o = i;

			while (l < mid && r < end)
				dst[o++] = batch_cmp(&src[l], &src[r]) <= 0 ?
						   src[l++] : src[r++];
			while (l < mid)
				dst[o++] = src[l++];
			while (r < end)
				dst[o++] = src[r++];
		}
		t = src;
		src = dst;
		dst = t;
	}
	return src;
}

int batch_sorted(struct batch *b, struct batch_rcpt ***out, size_t *n)
{
	size_t i, count;
	struct batch_sortent *s = b->sortents;
	int rc = batch_flush_pend(b);

	if (rc)
		return rc;
	count = b->used;

	/* the sort's arrays hold nothing between batches: made anew when
	   they must grow, kept for the next batch */
	if (count > b->sorted_cap) {
		struct batch_rcpt **p = bigmem_alloc(b->sortents_cap *
						     sizeof(*p));

		if (!p)
			return -ENOMEM;
		bigmem_free(b->sorted, b->sorted_cap * sizeof(*p));
		b->sorted = p;
		b->sorted_cap = b->sortents_cap;
	}
	if (count > b->sorttmp_cap) {
		struct batch_sortent *p = bigmem_alloc(b->sortents_cap *
						       sizeof(*p));

		if (!p)
			return -ENOMEM;
		bigmem_free(b->sorttmp, b->sorttmp_cap * sizeof(*p));
		b->sorttmp = p;
		b->sorttmp_cap = b->sortents_cap;
	}
	if (count)
		s = batch_sort(b->sortents, b->sorttmp, count);
	for (i = 0; i < count; i++)
		b->sorted[i] = s[i].br;
	*n = count;
	*out = b->sorted;
	return 0;
}

void batch_clear(struct batch *b)
{
	struct batch_block *blk = b->head;

	if (b->used)
		memset(b->slots, 0, b->cap * sizeof(*b->slots));
	if (b->cused)
		memset(b->camps, 0, b->ccap * sizeof(*b->camps));
	if (b->sused)
		memset(b->strs, 0, b->scap * sizeof(*b->strs));
	b->used = b->cused = b->sused = 0;
	memset(b->memo, 0, sizeof(b->memo));	/* the arena is rewound */
	b->last = NULL;
	while (blk) {
		struct batch_block *next = blk->next;

		blk->next = b->spare;
		b->spare = blk;
		blk = next;
	}
	b->head = NULL;
	b->n_events = 0;
	b->n_pend = 0;
	b->err = 0;
	b->pf_addr = NULL;
}
