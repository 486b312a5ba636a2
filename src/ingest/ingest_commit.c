/*
 * ingest_commit.c - the commit step (ingest_commit.h): one batch, with its
 * input's position, in a single LMDB write transaction: recipients,
 * counters and the files record.
 *
 * Recipients are read, changed by rcpt_apply() and written back in address
 * order.  Deliveries and ignored records of addresses bounced has never seen
 * create nothing (a full `d` log would otherwise store every recipient).
 * The transaction is state_write()'s: when the map is full it is aborted,
 * the map doubled and the batch applied again from the start; nothing of
 * a failed attempt survives, so counts and logs are taken from the
 * attempt that committed.  In the committer's thread the map is not
 * resized (state_write_fixed): the core grows it and posts the batch
 * again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "held_apply.h"
#include "held_drop.h"
#include "incident_store.h"
#include "ingest_commit.h"
#include "log.h"
#include "mail_events.h"
#include "plan.h"
#include "rcpt_dropped.h"
#include "rcpt_rules.h"
#include "state.h"
#include "u64map.h"

/* ingest_count_outcome - one applied event into C */
static void ingest_count_outcome(struct ingest_counts *c, enum rcpt_outcome o)
{
	switch (o) {
	case OUT_HARD: c->hard++; break;
	case OUT_SOFT: c->soft++; break;
	case OUT_ESCALATED: c->soft++; c->escalated++; break;
	case OUT_COMPLAINT: c->complaints++; break;
	case OUT_UNSUB: c->unsubs++; break;
	case OUT_DUPLICATE: c->duplicates++; break;
	case OUT_RESET:
	case OUT_DELIVERY: c->deliveries++; break;
	case OUT_IGNORED: c->ignored++; break;
	}
}

/* ingest_enqueue - the provider actions an applied event asks for, in the
   transaction that changed the recipient */
static int ingest_enqueue(struct ingest *in, MDB_txn *txn, struct rcpt *r,
			  const char *addr, struct batch_event *be, int64_t now)
{
	struct plan pl = { .st = in->st, .cfg = in->cfg, .txn = txn,
			   .now = now };
	struct plan_result res, more;
	enum rcpt_outcome natural;
	int rc;

	be->queued = 0;
	if (be->outcome != OUT_DUPLICATE) {
		rc = plan_enqueue(&pl, r, addr, &be->ev, be->outcome, &res);
		be->routed = res.routed;
		return rc;
	}
	/* an event of an address suppressed before: a provider that never
	   got the suppression (routing missed it, a provider added since,
	   bounced process --reprocess after a fix) gets it now, and a bounce
	   gets its campaign's record; what was asked before costs nothing,
	   and dead letters are left to bouncectl retry */
	pl.keep_dead = true;
	natural = plan_natural_outcome(be->ev.klass);
	memset(&res, 0, sizeof(res));
	rc = natural == OUT_IGNORED ? 0 :
		plan_enqueue(&pl, r, addr, &be->ev, natural, &res);
	if (rc == 0)
		rc = plan_enqueue(&pl, r, addr, &be->ev, OUT_DUPLICATE, &more);
	if (rc == 0)
		be->queued = res.queued | more.queued;
	be->routed = 0;
	return rc;
}

struct ingest_try {
	struct ingest *in;
	struct ingest_commit *c;
	struct batch_rcpt **arr;
	size_t n;
	int64_t now;
	struct ingest_counts counts;	/* what the attempt concluded */
	struct file_rec rec;		/* the file's record as written */
	MDB_cursor *cur;		/* over the rcpt table, in key order */
	/* the events the log will speak of once committed */
	const struct batch_event **logq;
	size_t nlog, logcap;
	bool log_dups;			/* duplicates too (debug) */
	/* the incidents with a held bounce in the table (as the attempt
	   began, and held by it since): a release of another finds
	   nothing to drop, without a search */
	struct u64map held_ids;
	/* the batch that joined the transaction (ingest_join_fn): asked for
	   once, after this one's first application; applied after it at
	   each attempt */
	bool join_asked;
	struct ingest_try *join_room;	/* where its attempt is kept */
	struct ingest_try *joined;
};

/* ingest_log_later - BE is one the log speaks of after the commit */
static int ingest_log_later(struct ingest_try *t, const struct batch_event *be)
{
	if (be->outcome == OUT_DUPLICATE ? !t->log_dups :
					   !plan_suppresses(be->outcome))
		return 0;
	if (t->nlog == t->logcap) {
		size_t cap = t->logcap ? t->logcap * 2 : 1024;
		const struct batch_event **q = realloc(t->logq,
						       cap * sizeof(*q));

		if (!q)
			return -ENOMEM;
		t->logq = q;
		t->logcap = cap;
	}
	t->logq[t->nlog++] = be;
	return 0;
}

/* the soft-bounce check of one address against the batch's incidents */
struct ingest_discount {
	const struct monitor_seal *seal;
	const char *addr;
	uint64_t gen;		/* of the event being applied */
};

/* ingest_discounted - escalation.discounted over a struct ingest_discount */
static bool ingest_discounted(uint32_t src, int64_t t, void *arg)
{
	const struct ingest_discount *d = arg;

	return monitor_seal_in_incident(d->seal, src, d->addr, t, d->gen);
}

/* ingest_discount_for - ESC: the context's escalation, with ADDR's soft
   bounces inside an incident (as of T's seal) not counted */
static void ingest_discount_for(const struct ingest_try *t, const char *addr,
				struct escalation *esc,
				struct ingest_discount *da)
{
	*esc = t->in->esc;
	if (!t->c->seal)
		return;
	da->seal = t->c->seal;
	da->addr = addr;
	da->gen = 0;
	esc->discounted = ingest_discounted;
	esc->discount_arg = da;
}

/* how far a held bounce's release is looked for among its address's
   next events (a bound: how many events an address has is the input's
   to choose) */
#define INGEST_RELEASE_AHEAD 8

/* ingest_release_after - the release by incident ID of HELD, a bounce
   it holds, among the next events of its address, or NULL: when an
   incident opens and closes within one batch, as most do, its hold and
   its release are one transaction's, and the hold need not be stored
   to be deleted again.  (A second hold of the address by ID before the
   release finds the same release: the store would have kept the later
   hold only, and deleted it there.) */
static struct batch_event *ingest_release_after(struct batch_event *held,
						uint64_t id)
{
	struct batch_event *x;
	unsigned n = 0;

	for (x = held->next; x && n < INGEST_RELEASE_AHEAD; x = x->next, n++)
		if (!x->dlv && x->ev.released == id)
			return x;
	return NULL;
}

/* ingest_dropped_again - is BE a hard bounce of R's address that an
   incident held and did not apply (rcpt_dropped.h), read again?  Not for
   a suppressed address: its hard bounces are duplicates anyway (which
   ask the providers that never had its suppression) */
static bool ingest_dropped_again(const struct rcpt *r,
				 const struct batch_event *be)
{
	return r->n_dropped && be->ev.klass == CLASS_HARD &&
	       !rcpt_is_suppressed(r) &&
	       rcpt_dropped_covers(r, be->ev.src_hash, be->ev.time);
}

/* ingest_commit_rcpt - every event of one recipient */
static int ingest_commit_rcpt(struct ingest_try *t, MDB_txn *txn,
			     struct batch_rcpt *br)
{
	struct ingest *in = t->in;
	struct ingest_counts *c = &t->counts;
	int64_t now = t->now;
	struct batch_event *be;
	struct escalation esc;
	struct ingest_discount da;
	struct event dev;	/* a compact delivery as an event */
	struct rcpt r;
	bool stored, found;
	int rc;

	dev.klass = CLASS_IGNORE;
	rc = state_rcpt_cursor_get(in->st, t->cur, br->addr, &r);
	if (rc == -ENOENT && br->n_full == 0 && !br->suppressed) {
		/* deliveries only, to an address the state does not know:
		   counted, nothing stored (as applying them one by one) */
		c->deliveries += br->n_dlv;
		return 0;
	}
	found = rc != -ENOENT;
	if (rc == -ENOENT || rc == -EINVAL || rc == -EPROTO) {
		if (rc != -ENOENT)
			log_warn("ingest",
				 "record of '%s' unreadable (%s): starting it anew",
				 br->addr, state_strerror(rc));
		rcpt_init_lean(&r);	/* as the get leaves a found one */
		stored = false;
	} else if (rc != 0) {
		return rc;
	} else {
		stored = true;
	}
	ingest_discount_for(t, br->addr, &esc, &da);
	for (be = batch_rcpt_events(br); be; be = be->next) {
		if (be->dlv) {
			/* compact deliveries: they change the record (or,
			   for an address not stored, nothing) and their
			   outcome (delivery, reset) routes nowhere, is queued
			   for no mail and is not logged */
			unsigned k;

			if (!stored) {
				c->deliveries += be->n_dlv;
				continue;
			}
			if (!dev.klass) {
				memset(&dev, 0, sizeof(dev));
				dev.kind = EV_DELIVERY;
				dev.klass = CLASS_DELIVERY;
				dev.type_text = "d";
				dev.rcpt = br->addr;
			}
			for (k = 0; k < be->n_dlv; k++) {
				dev.time = be->dlv_times[k];
				ingest_count_outcome(c, rcpt_apply(&r, &dev,
								   &esc));
			}
			continue;
		}
		if (ingest_dropped_again(&r, be)) {
			/* discarded by the operator, or dropped by a
			   delivery, when it was read before: a duplicate,
			   the address left as it is.  Held again (an
			   incident opened anew by the records read again):
			   not stored, so its release finds nothing.  Its
			   release: nothing applied, and the store keeps
			   what it has of the address (an earlier hold of
			   it, which the incident's close applies) */
			if (be->ev.released) {
				be->outcome = OUT_IGNORED;
				continue;
			}
			be->outcome = rcpt_dropped_apply(&r, &be->ev);
			be->dropped_again = true;
			ingest_count_outcome(c, be->outcome);
			rc = ingest_log_later(t, be);
			if (rc)
				return rc;
			stored = true;
			continue;
		}
		if (be->ev.held) {
			/* an incident holds it: kept aside (also for an
			   address suppressed already, which is applied as the
			   duplicate it is: the store holds what the monitor
			   remembers), unless its release follows in this
			   transaction, which would delete it again */
			struct batch_event *rel =
				ingest_release_after(be, be->ev.held);

			if (rel) {
				rel->hold_unstored = true;
			} else {
				rc = incident_hold_event(in->st, txn,
							 be->ev.held, &be->ev);
				if (rc)
					return rc;
				u64map_put(&t->held_ids, be->ev.held, 1);
			}
		}
		if (be->ev.held && !rcpt_is_suppressed(&r)) {
			/* the address unchanged but for its counters */
			r.cnt_hard++;
			rcpt_set_str(r.last_category, sizeof(r.last_category),
				     be->ev.bounce_cat);
			r.held = be->ev.held;
			if (be->ev.time > r.updated)
				r.updated = be->ev.time;
			if (!r.first_seen || (be->ev.time &&
					      be->ev.time < r.first_seen))
				r.first_seen = be->ev.time;
			be->outcome = OUT_IGNORED;
			c->held++;
			stored = true;
			continue;
		}
		if (be->ev.released) {
			/* a held bounce its incident released: counted when
			   it was held; applied now as it came.  One that was
			   never held (the address was suppressed already) is
			   nothing to apply.  The record names one incident,
			   the latest to hold it: held by two (two sources
			   blocked), the first release applies it, the
			   other finds it applied */
			bool was = r.held != 0;

			/* gone from the store: the operator released or
			   discarded the incident meanwhile (unless its hold,
			   above, was not stored; what an earlier batch
			   stored under its key goes all the same, as the
			   hold would have replaced it) */
			rc = u64map_get(&t->held_ids, be->ev.released) ?
				     incident_held_del(in->st, txn,
						       be->ev.released,
						       br->addr) :
				     -ENOENT;
			if (rc == -ENOENT && !be->hold_unstored)
				was = false;
			else if (rc && rc != -ENOENT)
				return rc;
			if (!was) {
				be->outcome = OUT_IGNORED;
				continue;
			}
		}
		if (!stored && (be->ev.klass == CLASS_DELIVERY ||
				be->ev.klass == CLASS_IGNORE)) {
			be->outcome = be->ev.klass == CLASS_DELIVERY ?
					      OUT_DELIVERY : OUT_IGNORED;
			ingest_count_outcome(c, be->outcome);
			continue;
		}
		da.gen = be->ev.mon_gen;
		if (be->ev.released)
			be->outcome = held_apply_released(&r, &be->ev, &esc);
		else
			be->outcome = rcpt_apply(&r, &be->ev, &esc);
		ingest_count_outcome(c, be->outcome);
		rc = ingest_enqueue(in, txn, &r, br->addr, be, now);
		c->requeued += (uint64_t)__builtin_popcount(be->queued);
		if (rc == 0)
			rc = ingest_notify(in, txn, br->addr, be, now);
		if (rc == 0)
			rc = ingest_log_later(t, be);
		if (rc)
			return rc;
		stored = true;
	}
	if (br->suppressed && br->dups) {
		const struct rcpt_dups *d = br->dups;

		rcpt_apply_dups(&r, d);
		c->duplicates += d->hard + d->soft + d->complaint + d->unsub;
		c->deliveries += d->delivery;
		c->ignored += d->other;
	}
	if (!stored)
		return 0;
	return state_rcpt_cursor_put(in->st, t->cur, br->addr, &r, found);
}

/* ingest_add_meta - the batch's counts into the meta counters */
static int ingest_add_meta(struct ingest *in, MDB_txn *txn,
			   const struct ingest_counts *c)
{
	const struct {
		const char *name;
		uint64_t v;
	} m[] = {
		{ "count.records", c->records },
		{ "count.hard", c->hard },
		{ "count.soft", c->soft },
		{ "count.escalated", c->escalated },
		{ "count.complaint", c->complaints },
		{ "count.unsub", c->unsubs },
		{ "count.duplicate", c->duplicates },
		{ "count.delivery", c->deliveries },
		{ "count.ignored", c->ignored },
		{ "count.skipped", c->skipped },
		{ "count.bad", c->bad },
		{ "count.held", c->held },
	};
	size_t i;
	int rc;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		if (!m[i].v)
			continue;
		rc = state_meta_add_u64(in->st, txn, m[i].name, m[i].v);
		if (rc)
			return rc;
	}
	return 0;
}

/* ingest_add_hits - the batch's [classify] rule hits into the meta
   counters (classify.hit.RULE, the rule as written) */
static int ingest_add_hits(struct ingest *in, MDB_txn *txn,
			   const uint64_t *hits)
{
	size_t i, n = classify_overrides_count(in->over);
	char key[CLASSIFY_HIT_KEY_MAX];
	int rc;

	for (i = 0; i < n && i < CLASSIFY_RULES_MAX; i++) {
		if (!hits[i])
			continue;
		classify_hit_key(classify_overrides_text(in->over, i), key,
				 sizeof(key));
		rc = state_meta_add_u64(in->st, txn, key, hits[i]);
		if (rc)
			return rc;
	}
	return 0;
}

/* ingest_try_apply - T's batch in TXN; the input's record from BASE
   (the batch before in the transaction) or, NULL, from T's commit step */
/* ingest_raced - has another reader of C's file committed part of it
   since this input last saw its record?  Two `bounced process` of one
   file at once, or a copy taken by the worker under the same path while
   a process takes it: both read from the same offset, and the counts of
   what both read would be added twice (the records themselves take
   their events once, as duplicates).  0, -EALREADY, or the state's
   -errno */
static int ingest_raced(struct state *st, MDB_txn *txn,
			const struct ingest_commit *c)
{
	struct file_rec now;
	int rc;

	if (!c->key || !c->seen.known)
		return 0;
	rc = state_file_get(st, txn, c->key, &now);
	if (rc == -ENOENT)
		return 0;	/* forgotten meanwhile: no reader wrote it */
	if (rc)
		return rc;
	if (!c->seen.ok || now.offset != c->seen.rec.offset ||
	    now.records != c->seen.rec.records ||
	    now.status != c->seen.rec.status ||
	    now.updated != c->seen.rec.updated)
		return -EALREADY;
	return 0;
}

static int ingest_try_apply(struct state *st, MDB_txn *txn,
			    struct ingest_try *t, const struct file_rec *base)
{
	const struct ingest_commit *c = t->c;
	struct ingest_counts *n = &t->counts;
	struct file_rec *rec = &t->rec;
	size_t i;
	int rc;

	*n = c->counts;
	*rec = base ? *base : c->rec;
	t->nlog = 0;
	u64map_clear(&t->held_ids);
	/* a batch that joins follows this one's record (BASE) */
	rc = base ? 0 : ingest_raced(st, txn, c);
	if (rc == 0)
		rc = monitor_seal_refresh(c->seal, st, txn);
	if (rc == 0)
		rc = incident_held_ids(st, txn, &t->held_ids);
	if (rc == 0)
		rc = state_rcpt_cursor_open(st, txn, &t->cur);
	for (i = 0; rc == 0 && i < t->n; i++) {
		/* the entries are all over the batch's memory: ask for the
		   next ones early */
		if (i + 8 < t->n)
			__builtin_prefetch(t->arr[i + 8]);
		if (i + 4 < t->n) {
			const struct batch_event *h = t->arr[i + 4]->head;

			__builtin_prefetch(t->arr[i + 4]->addr);
			/* a whole event is three or four cache lines: the
			   first and the one of its marks (held, released),
			   read before the rest (a compact node of deliveries
			   is one line, the second prefetch then reads
			   nothing it needs) */
			if (h) {
				__builtin_prefetch(h);
				__builtin_prefetch(&h->ev.held);
			}
		}
		/* an address's events are a chain, newest first: its second
		   node once the first has come */
		if (i + 2 < t->n && !t->arr[i + 2]->ordered &&
		    t->arr[i + 2]->head)
			__builtin_prefetch(t->arr[i + 2]->head->next);
		rc = ingest_commit_rcpt(t, txn, t->arr[i]);
		if (rc && rc != -ENOSPC)
			log_error("ingest", "cannot write the record of '%s': %s",
				  t->arr[i]->addr, state_strerror(rc));
	}
	state_rcpt_cursor_close(t->cur);
	t->cur = NULL;
	if (rc)
		return rc;
	/* the monitor's counts, incidents and releases, in the same
	   transaction: a crash loses or keeps both */
	if (c->seal) {
		rc = monitor_seal_commit(c->seal, st, txn);
		if (rc)
			return rc;
	}
	if (c->key) {
		/* never behind what an earlier run committed: while the rows
		   before the resume point are read again, the reader is */
		rec->offset = c->pos.offset > rec->offset ? c->pos.offset :
							    rec->offset;
		rec->lines = c->pos.lines > rec->lines ? c->pos.lines :
							 rec->lines;
		rec->records += n->records;
		rec->bad += n->bad;
		rec->status = c->final ? FILE_DONE : FILE_PARTIAL;
		rec->updated = t->now;
		rc = state_file_put(st, txn, c->key, rec);
		if (rc)
			return rc;
	}
	if (c->aside) {
		rc = state_meta_add_u64(st, txn, c->aside, 1);
		if (rc)
			return rc;
	}
	if (c->any_hit) {
		rc = ingest_add_hits(t->in, txn, c->hits);
		if (rc)
			return rc;
	}
	return ingest_add_meta(t->in, txn, n);
}

static void ingest_try_init(struct ingest_try *t, struct ingest *in,
			    struct ingest_commit *c);

/* ingest_try_join - ask T's commit step for a batch to join it (once) */
static int ingest_try_join(struct ingest_try *t)
{
	struct ingest_try *jt = t->join_room;
	struct batch *b;
	struct ingest_commit *c;

	t->join_asked = true;
	if (!jt || !t->c->join || !t->c->join(t->c->join_arg, &b, &c))
		return 0;
	ingest_try_init(jt, t->in, c);
	jt->now = t->now;
	t->joined = jt;
	c->nlog = 0;
	return batch_sorted(b, &jt->arr, &jt->n);
}

/* ingest_try_commit - the batch in TXN, and the one that joined it
   (state_write_fn) */
static int ingest_try_commit(struct state *st, MDB_txn *txn, void *arg)
{
	struct ingest_try *t = arg;
	int rc;

	rc = ingest_try_apply(st, txn, t, NULL);
	if (rc == 0 && !t->join_asked)
		rc = ingest_try_join(t);
	if (rc == 0 && t->joined)
		rc = ingest_try_apply(st, txn, t->joined, &t->rec);
	return rc;
}

/* ingest_why - what made an address suppressed, for the log */
static void ingest_why(const struct batch_event *be, char *buf, size_t len)
{
	const struct event *ev = &be->ev;
	const char *cat = ev->bounce_cat && *ev->bounce_cat ? ev->bounce_cat :
							      "no category";
	const char *st = ev->dsn_status && *ev->dsn_status ? ev->dsn_status : "";

	switch (be->outcome) {
	case OUT_HARD:
		snprintf(buf, len, "hard bounce (%s%s%s)", cat, *st ? " " : "",
			 st);
		break;
	case OUT_ESCALATED:
		snprintf(buf, len, "soft bounces escalated to hard (last: %s%s%s)",
			 cat, *st ? " " : "", st);
		break;
	case OUT_COMPLAINT:
		snprintf(buf, len, "complaint (%s)",
			 ev->feedback_type && *ev->feedback_type ?
				 ev->feedback_type : "abuse");
		break;
	default:
		if (ev->kind == EV_ARF || ev->kind == EV_FEEDBACK)
			snprintf(buf, len, "opt-out report (%s)",
				 ev->feedback_type ? ev->feedback_type : "");
		else
			snprintf(buf, len, "%s", ev->kind == EV_UNSUB_MAIL ?
				 "unsubscribe mail" : "on an unsubscribe list");
		break;
	}
}

/* ingest_asked - what a provider is asked for BE's key (plan.c, route.c):
   an address is unsubscribed from every list; a subscriber known by its
   uid: key is acted on by its ids, on its own list (all an unsubscribe
   mail asks), and a complaint reaches its address everywhere once a
   provider names it */
static const char *ingest_asked(const struct batch_event *be)
{
	if (!mail_key_is_uid(be->ev.rcpt))
		return "everywhere";
	if (be->outcome == OUT_COMPLAINT)
		return "from its list, and its address everywhere once a "
		       "provider names it";
	return "from its list";
}

/* ingest_routed - "mw, hook" from a routed bit set */
static void ingest_routed(const struct config *cfg, uint32_t routed, char *buf,
			  size_t len)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < cfg->n_providers && i < 32 && used + 1 < len; i++) {
		int w;

		if (!(routed & (1u << i)))
			continue;
		w = snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
			     cfg->providers[i].name);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

/* ingest_commit_logged - what the committed batch concluded, per address
   (dry-run and unrouted lines capped per input) */
void ingest_commit_logged(const struct ingest *in, struct ingest_commit *c)
{
	const struct config *cfg = in->cfg;
	struct ingest_caps *caps = c->caps;
	char why[160], to[256];
	size_t i;

	for (i = 0; i < c->nlog; i++) {
		const struct batch_event *be = c->logq[i];
		const struct event *ev = &be->ev;

		if (be->dropped_again) {
			log_debug("ingest", "duplicate: %s: a hard bounce an "
				  "incident held and did not apply, read again "
				  "(%s:%llu): not applied", ev->rcpt,
				  ev->source, (unsigned long long)ev->line);
			continue;
		}
		if (be->outcome == OUT_DUPLICATE) {
			log_debug("ingest", "duplicate: %s is already "
				  "suppressed (%s:%llu)", ev->rcpt, ev->source,
				  (unsigned long long)ev->line);
			continue;
		}
		if (cfg->n_providers == 0) {
			if (!log_cap_take(&caps->dryrun))
				continue;
			ingest_why(be, why, sizeof(why));
			log_info("ingest", "dry-run: unsubscribe %s %s: %s, "
				 "%s:%llu", ev->rcpt, ingest_asked(be), why,
				 ev->source, (unsigned long long)ev->line);
			continue;
		}
		ingest_routed(cfg, be->routed, to, sizeof(to));
		if (*to) {
			ingest_why(be, why, sizeof(why));
			log_info("ingest", "%s: %s, %s:%llu: queued for %s",
				 ev->rcpt, why, ev->source,
				 (unsigned long long)ev->line, to);
		} else if (log_cap_take(&caps->unrouted)) {
			ingest_why(be, why, sizeof(why));
			log_warn("ingest", "%s: %s, %s:%llu: unrouted (no provider "
				 "sends as '%s')", ev->rcpt, why, ev->source,
				 (unsigned long long)ev->line,
				 ev->orig ? ev->orig : "");
		}
	}
}

void ingest_commit_failed_log(const struct ingest_commit *c, int rc)
{
	if (rc == -EALREADY)
		log_warn("ingest", "%s: taken by another process at the same "
			 "time (its record in the state moved on since this "
			 "run read it): this batch is not kept, the rest of "
			 "the file is left to that process", c->name);
	else
		log_error("ingest", "%s: cannot commit to the state: %s "
			  "(nothing of this batch was kept; run again)",
			  c->name, state_strerror(rc));
}

static void ingest_try_init(struct ingest_try *t, struct ingest *in,
			    struct ingest_commit *c)
{
	memset(t, 0, sizeof(*t));
	t->in = in;
	t->c = c;
	t->now = (int64_t)time(NULL);
	t->log_dups = log_get_level() >= BLOG_DEBUG;
	t->logq = c->logq;
	t->logcap = c->logcap;
	t->join_asked = true;	/* a batch that joined asks for no other */
	u64map_init(&t->held_ids);
}

/* ingest_try_done - what attempt T concluded, into its commit step (RC:
   its answer; the log's buffer in any case) */
static void ingest_try_done(struct ingest_try *t, int rc)
{
	struct ingest_commit *c = t->c;

	c->logq = t->logq;
	c->logcap = t->logcap;
	u64map_clear(&t->held_ids);
	if (rc)
		return;
	if (c->key)
		c->rec = t->rec;
	c->counts = t->counts;
	c->nlog = t->nlog;
}

/* a commit of at least this many addresses is followed by state_turn:
   it changed a good part of the recipients' pages (a smaller one, as the
   worker makes from a few records, costs no second transaction) */
#define INGEST_TURN_ADDRS 4096

int ingest_commit_batch(struct ingest *in, struct batch *b,
			struct ingest_commit *c)
{
	/* the second: the attempt of a batch that joins (ingest_try_join) */
	struct ingest_try t[2];
	struct timespec t0, t1;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ingest_try_init(&t[0], in, c);
	t[0].join_asked = false;
	t[0].join_room = &t[1];
	c->nlog = 0;
	c->joined = NULL;
	rc = batch_sorted(b, &t[0].arr, &t[0].n);
	if (rc == 0)
		rc = c->fixed_map ?
			     state_write_fixed(in->st, ingest_try_commit, t) :
			     state_write(in->st, ingest_try_commit, t);
	/* a commit of many addresses rewrote much of the state: the next
	   may take the pages it freed (state_turn) */
	if (rc == 0 &&
	    t[0].n + (t[0].joined ? t[1].n : 0) >= INGEST_TURN_ADDRS)
		(void)state_turn(in->st);
	ingest_try_done(&t[0], rc);
	if (t[0].joined) {
		c->joined = t[1].c;
		ingest_try_done(&t[1], rc);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	c->took_ns = (int64_t)(t1.tv_sec - t0.tv_sec) * 1000000000LL +
		     (t1.tv_nsec - t0.tv_nsec);
	if (c->joined)
		c->joined->took_ns = c->took_ns;
	if (rc && !(rc == -ENOSPC && c->fixed_map)) {
		ingest_commit_failed_log(c, rc);
		if (c->joined)
			ingest_commit_failed_log(c->joined, rc);
	}
	return rc;
}

void ingest_commit_free(struct ingest_commit *c)
{
	free(c->logq);
	c->logq = NULL;
	c->nlog = c->logcap = 0;
}

int ingest_commit_release_held(MDB_txn *txn, const struct incident_held *h,
			      void *arg)
{
	struct ingest *in = arg;

	return held_apply(in->st, in->cfg, &in->esc, txn, h, NULL);
}

int ingest_commit_drop_held(MDB_txn *txn, const struct incident_held *h,
			    uint64_t id, uint32_t src, int64_t from, void *arg)
{
	struct ingest *in = arg;

	return held_drop(in->st, txn, h, id, src, from);
}

/* ingest_failed_txn - the file's record, failed (state_write_fn) */
static int ingest_failed_txn(struct state *st, MDB_txn *txn, void *arg)
{
	struct ingest_commit *c = arg;

	return state_file_put(st, txn, c->key, &c->rec);
}

int ingest_commit_failed(struct ingest *in, const char *key,
			struct file_rec *rec)
{
	struct ingest_commit c = { .key = key, .rec = *rec };
	int rc;

	c.rec.status = FILE_FAILED;
	c.rec.updated = (int64_t)time(NULL);
	rc = state_write(in->st, ingest_failed_txn, &c);
	if (rc == 0)
		*rec = c.rec;
	return rc;
}
