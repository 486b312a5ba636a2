/*
 * batch.c - per-commit grouping of events by recipient.
 *
 * A GHashTable from address to struct batch_rcpt, and a bump arena of
 * 1 MiB blocks for every string and node; batch_clear rewinds the arena
 * so a long input reuses the same memory batch after batch.  Allocation
 * failure is reported as -ENOMEM, never aborts.
 */
#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "action.h"
#include "rcpt.h"

#define BATCH_LIST_ID_MAX 256 /* bytes kept of a List-Id */

#define ARENA_BLOCK (1u << 20)

struct arena_block {
	struct arena_block *next;
	size_t used, size;
	char data[];
};

struct batch_sortent;

struct batch {
	GHashTable *by_addr;
	struct arena_block *head;	/* current block (first of the list) */
	struct arena_block *spare;	/* rewound blocks for reuse */
	size_t n_events;
	struct batch_rcpt **sorted;
	struct batch_sortent *sortents;
	size_t sorted_cap;
};

/* batch_alloc - SIZE bytes from the arena (8-aligned), NULL on ENOMEM */
static void *batch_alloc(struct batch *b, size_t size)
{
	struct arena_block *blk = b->head;
	void *p;

	size = (size + 7) & ~(size_t)7;
	if (!blk || blk->size - blk->used < size) {
		size_t want = size > ARENA_BLOCK ? size : ARENA_BLOCK;

		if (b->spare && b->spare->size >= want) {
			blk = b->spare;
			b->spare = blk->next;
		} else {
			blk = malloc(sizeof(*blk) + want);
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

/* batch_strdup - bounded copy of S (at most MAX-1 bytes) into the arena */
static const char *batch_strdup(struct batch *b, const char *s, size_t max)
{
	size_t n;
	char *p;

	if (!s)
		return NULL;
	n = strnlen(s, max - 1);
	p = batch_alloc(b, n + 1);
	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

struct batch *batch_new(void)
{
	struct batch *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->by_addr = g_hash_table_new(g_str_hash, g_str_equal);
	return b;
}

static void batch_free_blocks(struct arena_block *blk)
{
	while (blk) {
		struct arena_block *next = blk->next;

		free(blk);
		blk = next;
	}
}

void batch_free(struct batch *b)
{
	if (!b)
		return;
	g_hash_table_destroy(b->by_addr);
	batch_free_blocks(b->head);
	batch_free_blocks(b->spare);
	free(b->sorted);
	free(b->sortents);
	free(b);
}

size_t batch_events(const struct batch *b)
{
	return b->n_events;
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
			x->field = batch_strdup(b, src->field, (size));        \
			if (!x->field)                                         \
				return -ENOMEM;                                \
		}                                                              \
	} while (0)
	COPY_X(mw_subscriber_uid, ACTION_ID_MAX);
	COPY_X(list_id, BATCH_LIST_ID_MAX);
	COPY_X(iem_list_id, ACTION_ID_MAX);
	COPY_X(iem_subscriber_id, ACTION_ID_MAX);
	COPY_X(mw_list_uid, ACTION_ID_MAX);
	COPY_X(mw_campaign_uid, ACTION_ID_MAX);
	COPY_X(reporter, BATCH_LIST_ID_MAX);
	COPY_X(subject, BATCH_LIST_ID_MAX);
#undef COPY_X
	dst->x = x;
	return 0;
}

/* batch_copy_strings - the event's strings into the arena, bounded to
   the sizes a recipient record keeps */
static int batch_copy_strings(struct batch *b, struct event *dst)
{
	struct rcpt_reason *r = NULL;

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
			dst->field = batch_strdup(b, dst->field, (size));      \
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
#undef COPY
	return dst->x ? batch_copy_extra(b, dst) : 0;
}

/* batch_new_campaign - is EV a bounce of a campaign (job id) that none of
   BR's kept events names?  Such a bounce of a suppressed address is kept
   whole: it may ask for that campaign's bounce record. */
static bool batch_new_campaign(const struct batch_rcpt *br,
			       const struct event *ev)
{
	const struct batch_event *be;

	if ((ev->klass != CLASS_HARD && ev->klass != CLASS_SOFT) ||
	    !ev->job_id || !*ev->job_id)
		return false;
	for (be = br->first; be; be = be->next)
		if (be->ev.job_id && strncmp(be->ev.job_id, ev->job_id,
					     sizeof(((struct rcpt_reason *)0)
							    ->job_id) - 1) == 0)
			return false;
	return true;
}

int batch_add(struct batch *b, const struct event *ev)
{
	struct batch_rcpt *br = g_hash_table_lookup(b->by_addr, ev->rcpt);
	struct batch_event *be;

	if (!br) {
		br = batch_alloc(b, sizeof(*br));
		if (!br)
			return -ENOMEM;
		br->addr = batch_strdup(b, ev->rcpt, ADDR_MAX + 1);
		if (!br->addr)
			return -ENOMEM;
		br->first = br->last = NULL;
		br->suppressed = false;
		memset(&br->dups, 0, sizeof(br->dups));
		g_hash_table_insert(b->by_addr, (gpointer)br->addr, br);
	}
	b->n_events++;
	if (br->suppressed && !batch_new_campaign(br, ev)) {
		struct event tmp = *ev;

		/* only the category of a bounce is kept */
		if (tmp.klass == CLASS_HARD || tmp.klass == CLASS_SOFT) {
			tmp.bounce_cat = batch_strdup(b, ev->bounce_cat,
						      RCPT_CATEGORY_MAX);
			if (ev->bounce_cat && !tmp.bounce_cat)
				return -ENOMEM;
		}
		rcpt_dups_add(&br->dups, &tmp);
		return 0;
	}
	if (ev->klass == CLASS_HARD || ev->klass == CLASS_COMPLAINT ||
	    ev->klass == CLASS_UNSUB)
		br->suppressed = true;
	be = batch_alloc(b, sizeof(*be));
	if (!be)
		return -ENOMEM;
	be->next = NULL;
	be->ev = *ev;
	be->ev.rcpt = br->addr;
	/* a bounce kept whole after counted ones is the latest now */
	if (ev->klass == CLASS_HARD || ev->klass == CLASS_SOFT)
		br->dups.category_last = false;
	if (batch_copy_strings(b, &be->ev) != 0)
		return -ENOMEM;
	if (br->last)
		br->last->next = be;
	else
		br->first = be;
	br->last = be;
	return 0;
}

/* sort entries carry the first 8 bytes of the address, big-endian, so
   most comparisons never leave the array */
struct batch_sortent {
	uint64_t prefix;
	struct batch_rcpt *br;
};

static uint64_t batch_prefix(const char *s)
{
	uint64_t p = 0;
	int i;

	for (i = 0; i < 8 && s[i]; i++)
		p |= (uint64_t)(unsigned char)s[i] << (56 - 8 * i);
	return p;
}

static int batch_cmp(const void *a, const void *b)
{
	const struct batch_sortent *x = a, *y = b;

	if (x->prefix != y->prefix)
		return x->prefix < y->prefix ? -1 : 1;
	return strcmp(x->br->addr, y->br->addr);
}

int batch_sorted(struct batch *b, struct batch_rcpt ***out, size_t *n)
{
	GHashTableIter it;
	gpointer k, v;
	size_t i = 0, count = g_hash_table_size(b->by_addr);

	if (count > b->sorted_cap) {
		struct batch_rcpt **p = realloc(b->sorted, count * sizeof(*p));
		struct batch_sortent *e = realloc(b->sortents, count * sizeof(*e));

		if (p)
			b->sorted = p;
		if (e)
			b->sortents = e;
		if (!p || !e)
			return -ENOMEM;
		b->sorted_cap = count;
	}
	g_hash_table_iter_init(&it, b->by_addr);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		b->sortents[i].br = v;
		b->sortents[i].prefix = batch_prefix(k);
		i++;
	}
	if (count)
		qsort(b->sortents, count, sizeof(*b->sortents), batch_cmp);
	for (i = 0; i < count; i++)
		b->sorted[i] = b->sortents[i].br;
	*n = count;
	*out = b->sorted;
	return 0;
}

void batch_clear(struct batch *b)
{
	struct arena_block *blk = b->head;

	g_hash_table_remove_all(b->by_addr);
	while (blk) {
		struct arena_block *next = blk->next;

		blk->next = b->spare;
		b->spare = blk;
		blk = next;
	}
	b->head = NULL;
	b->n_events = 0;
}
