/*
 * dispatch_sched.c - the dispatcher's schedule: which outbox actions fall
 * due when, per provider, in memory, so that a step costs what it starts
 * and not what waits.
 *
 * One binary min-heap per configured provider of outbox keys (due_ms, id).
 * It is built from the outbox on first use (a dispatcher made at a reload
 * is used only once the former one has finished, so the outbox is then
 * exactly what it sent), and kept up to date from three sources:
 *   - the outbox journal (outbox.h): every action any process enqueued or
 *     revived since the last look (the worker's own ingest, `bounced
 *     process -` beside it, `bouncectl retry`, follow-up actions);
 *   - the step's own results (dispatch_sched_settle): an action that stays
 *     in the outbox (next step of a provider, retry later, a paused
 *     provider's, or results that could not be written) is put back under
 *     its key;
 *   - nothing else moves outbox keys.
 * A key may be in a heap twice, or name an action that is gone (removed by
 * bouncectl, finished): copies are dropped when they come up (the action
 * is under way, or the outbox no longer has it).  Actions of a provider
 * the configuration does not name are counted (stranded), never started.
 * The journal is pruned, in a lazy write transaction, up to what was read,
 * at most once a second.
 *
 * Memory: 16 bytes per pending action (the heaps) plus growth slack.
 * Error policy: state errors are returned as -errno (logged by the
 * caller); a failed allocation aborts, as GLib does.
 */
#include <errno.h>
#include <string.h>

#include "dispatch_priv.h"
#include "log.h"
#include "outbox.h"

#define SCHED_PRUNE_MS 1000	/* journal pruned at most this often */

struct sched_heap {
	struct dispatch_sched_key *v;
	size_t n, cap;
};

struct dispatch_sched {
	struct sched_heap *heaps;	/* one per provider */
	unsigned n;
	bool built;			/* read from the outbox */
	uint64_t seen;			/* last journal entry read */
	uint64_t pruned;		/* journal pruned below this */
	int64_t pruned_ms;		/* when (wall clock) */
	uint64_t stranded;		/* actions of unknown providers */
};

/* sched_less - A falls due before B (ties: enqueue order) */
static bool sched_less(const struct dispatch_sched_key *a,
		       const struct dispatch_sched_key *b)
{
	return a->due_ms < b->due_ms ||
	       (a->due_ms == b->due_ms && a->id < b->id);
}

/* sched_push - K into H */
static void sched_push(struct sched_heap *h, int64_t due_ms, uint64_t id)
{
	struct dispatch_sched_key t;
	size_t i, up;

	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 256;
		h->v = g_renew(struct dispatch_sched_key, h->v, h->cap);
	}
	i = h->n++;
	h->v[i].due_ms = due_ms;
	h->v[i].id = id;
	while (i > 0) {
		up = (i - 1) / 2;
		if (!sched_less(&h->v[i], &h->v[up]))
			break;
		t = h->v[i];
		h->v[i] = h->v[up];
		h->v[up] = t;
		i = up;
	}
}

/* sched_down - restore the heap below I */
static void sched_down(struct sched_heap *h, size_t i)
{
	struct dispatch_sched_key t;

	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < h->n && sched_less(&h->v[l], &h->v[m]))
			m = l;
		if (r < h->n && sched_less(&h->v[r], &h->v[m]))
			m = r;
		if (m == i)
			return;
		t = h->v[i];
		h->v[i] = h->v[m];
		h->v[m] = t;
		i = m;
	}
}

/* sched_heapify - order H after unordered appends */
static void sched_heapify(struct sched_heap *h)
{
	size_t i;

	for (i = h->n / 2; i-- > 0;)
		sched_down(h, i);
}

/* sched_append - K at H's end, unordered (sched_heapify after) */
static void sched_append(struct sched_heap *h, int64_t due_ms, uint64_t id)
{
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 256;
		h->v = g_renew(struct dispatch_sched_key, h->v, h->cap);
	}
	h->v[h->n].due_ms = due_ms;
	h->v[h->n].id = id;
	h->n++;
}

/* dispatch_sched_new - an empty schedule for N providers */
struct dispatch_sched *dispatch_sched_new(unsigned n)
{
	struct dispatch_sched *s = g_new0(struct dispatch_sched, 1);

	s->heaps = g_new0(struct sched_heap, n ? n : 1);
	s->n = n;
	return s;
}

/* dispatch_sched_free - the heaps and S */
void dispatch_sched_free(struct dispatch_sched *s)
{
	unsigned i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++)
		g_free(s->heaps[i].v);
	g_free(s->heaps);
	g_free(s);
}

/* sched_note - one pending action (provider name PROV) into D's
   schedule; APPEND: unordered, during the build */
static void sched_note(struct dispatch *d, const char *prov, int64_t due_ms,
		       uint64_t id, bool append)
{
	struct dispatch_sched *s = d->sched;
	int i = dispatch_prov_of(d, prov);

	if (i < 0 || (unsigned)i >= s->n) {
		s->stranded++;	/* warned once by dispatch_prov_of */
		return;
	}
	if (append)
		sched_append(&s->heaps[i], due_ms, id);
	else
		sched_push(&s->heaps[i], due_ms, id);
}

/* sched_build_cb - an outbox entry, at the build */
static int sched_build_cb(const struct action *a, void *arg)
{
	sched_note(arg, a->provider, a->due_ms, a->id, true);
	return 0;
}

/* sched_journal_cb - a journal entry: an action queued since */
static int sched_journal_cb(int64_t due_ms, uint64_t id, const char *prov,
			    void *arg)
{
	sched_note(arg, prov, due_ms, id, false);
	return 0;
}

/* sched_build - the whole outbox into the heaps, and the journal's
   newest entry as read (both in TXN: the same snapshot) */
static int sched_build(struct dispatch *d, MDB_txn *txn)
{
	struct dispatch_sched *s = d->sched;
	uint64_t last = 0, n = 0;
	unsigned i;
	int rc;

	for (i = 0; i < s->n; i++)
		s->heaps[i].n = 0;
	s->stranded = 0;
	rc = outbox_journal_last(d->st, txn, &last);
	if (rc == 0)
		rc = outbox_foreach(d->st, txn, -1, sched_build_cb, d);
	if (rc)
		return rc;
	for (i = 0; i < s->n; i++) {
		sched_heapify(&s->heaps[i]);
		n += s->heaps[i].n;
	}
	s->seen = last;
	s->built = true;
	if (n + s->stranded > 0)
		log_debug("dispatch", "schedule: %llu pending actions read from "
			  "the outbox", (unsigned long long)(n + s->stranded));
	return 0;
}

/* dispatch_sched_refresh - built on first use, then what the journal
   says is new; in D's read transaction TXN */
int dispatch_sched_refresh(struct dispatch *d, MDB_txn *txn)
{
	struct dispatch_sched *s = d->sched;

	if (!s->built)
		return sched_build(d, txn);
	return outbox_journal_read(d->st, txn, s->seen, sched_journal_cb, d,
				   &s->seen);
}

/* dispatch_sched_peek - the earliest key of provider PROV; false when
   none is scheduled */
bool dispatch_sched_peek(const struct dispatch *d, unsigned prov,
			 struct dispatch_sched_key *k)
{
	const struct dispatch_sched *s = d->sched;

	if (prov >= s->n || s->heaps[prov].n == 0)
		return false;
	*k = s->heaps[prov].v[0];
	return true;
}

/* dispatch_sched_pop - drop the earliest key of provider PROV */
void dispatch_sched_pop(struct dispatch *d, unsigned prov)
{
	struct sched_heap *h;

	if (prov >= d->sched->n || d->sched->heaps[prov].n == 0)
		return;
	h = &d->sched->heaps[prov];
	h->v[0] = h->v[--h->n];
	sched_down(h, 0);
}

/* dispatch_sched_add - (DUE_MS, ID) of provider PROV into the schedule */
void dispatch_sched_add(struct dispatch *d, unsigned prov, int64_t due_ms,
			uint64_t id)
{
	if (prov < d->sched->n)
		sched_push(&d->sched->heaps[prov], due_ms, id);
}

/* dispatch_sched_stranded - actions seen for providers not configured */
uint64_t dispatch_sched_stranded(const struct dispatch *d)
{
	return d->sched->stranded;
}

/* dispatch_sched_settle - the step's results back into the schedule
   after dispatch_commit() returned COMMIT_RC: what stays in the outbox
   is scheduled again under its key (follow-up actions come through the
   journal) */
void dispatch_sched_settle(struct dispatch *d, int commit_rc)
{
	guint i;

	for (i = 0; i < d->results->len; i++) {
		const struct dispatch_result *r =
			&g_array_index(d->results, struct dispatch_result, i);
		bool stays = true;

		if (commit_rc == 0) {
			switch (r->res) {
			case PROVIDER_DONE:
			case PROVIDER_FAILED:
				stays = false;
				break;
			case PROVIDER_RETRY:
				if (!r->expired)
					dispatch_sched_add(d, r->prov, r->due_ms,
							   r->orig.id);
				stays = false;
				break;
			case PROVIDER_PAUSE:
				if (r->rotate) {	/* moved behind */
					dispatch_sched_add(d, r->prov, r->due_ms,
							   r->orig.id);
					stays = false;
				}
				break;	/* else left as it was read */
			case PROVIDER_CONTINUE:
				break;
			}
		}
		/* a copy that is no longer in the outbox is dropped when it
		   comes up: keeping too much is safe, too little is not */
		if (stays)
			dispatch_sched_add(d, r->prov, r->orig.due_ms,
					   r->orig.id);
	}
}

/* dispatch_sched_prune_txn - the journal below SEEN (state_write_fn) */
static int dispatch_sched_prune_txn(struct state *st, MDB_txn *txn, void *arg)
{
	return outbox_journal_prune(st, txn, *(const uint64_t *)arg);
}

/* dispatch_sched_prune - the journal below what was read, in a lazy
   write transaction, at most every SCHED_PRUNE_MS; 0 or -errno */
int dispatch_sched_prune(struct dispatch *d, int64_t now_ms)
{
	struct dispatch_sched *s = d->sched;
	int rc;

	if (!s->built || s->seen <= s->pruned ||
	    now_ms - s->pruned_ms < SCHED_PRUNE_MS)
		return 0;
	/* lost in a power cut, it is done again: nothing depends on it */
	rc = state_write_lazy(d->st, dispatch_sched_prune_txn, &s->seen);
	s->pruned_ms = now_ms;		/* a failure is tried again later */
	if (rc == 0) {
		s->pruned = s->seen;
		d->unsynced = true;
	}
	return rc;
}
