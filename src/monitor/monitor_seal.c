/*
 * monitor_seal.c - what one commit of the monitor writes, taken apart
 * from the live monitor (monitor.h).
 *
 * Ingest feeds the monitor in its reading thread and may write the batch
 * in another one while it reads on.  When a batch is handed over, the
 * monitor is sealed: the counts, alert transitions and incident changes
 * fed since the last seal move into a seal, with the spans of the
 * incidents known then (for the soft-bounce check of that batch).  The
 * writing thread uses the seal only (monitor_seal_commit,
 * monitor_seal_in_incident); the reading thread tells the hooks once the
 * batch is committed (monitor_seal_done).  A seal can be written again
 * after an aborted try (a full map): what it writes is made from its
 * copies every time.  The seal of a batch that is done is kept, emptied,
 * for the next one, so that its arrays keep their room.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "domain_group.h"
#include "log.h"
#include "monitor.h"
#include "incident_rcpts.h"
#include "incident_windows.h"
#include "monitor_priv.h"
#include "rates_store.h"

/* seal_rates - the rates' pending deltas and transitions into S */
static void seal_rates(struct monitor_seal *s, struct rates *r)
{
	struct rates_delta *d;
	const struct rates_transition *t;
	/* the names of live rates entries, pointer to interned copy: the
	   deltas of one name share its pointer */
	const char *from[64] = { NULL }, *to[64] = { NULL };
	size_t n, i;

	/* the deltas change places with the seal's emptied array (no copy:
	   they are about as many as the batch's records), and their names
	   are made the seal's own in place */
	s->deltas.len = 0;
	rates_pending_swap(r, &s->deltas);
	d = s->deltas.v;
	n = s->deltas.len;
	for (i = 0; i < n; i++) {
		size_t k = ((uintptr_t)d[i].name >> 4) & 63;

		if (from[k] != d[i].name) {
			from[k] = d[i].name;
			to[k] = g_string_chunk_insert_const(s->names,
							    d[i].name);
		}
		d[i].name = to[k];
	}
	n = rates_transitions(r, &t);
	if (n)
		g_array_append_vals(s->trans, t, (guint)n);
	s->f.rules = rates_rules(r, &s->f.nrules);
	s->f.now = rates_now(r);
	rates_transitions_clear(r);
}

/* seal_pair_key - the by_pair key of SRC and DEST into BUF */
static void seal_pair_key(char *buf, size_t len, uint32_t src,
			  const char *dest)
{
	snprintf(buf, len, "%08" PRIx32 "\037%s", src, dest);
}

/* seal_index - S's spans by source and destination: a soft bounce is
   checked against its own pair's incidents only */
static void seal_index(struct monitor_seal *s)
{
	char key[16 + INCIDENT_KEY_MAX];
	guint i;

	if (s->by_pair)
		g_hash_table_remove_all(s->by_pair);
	else
		s->by_pair = g_hash_table_new_full(g_str_hash, g_str_equal,
						   g_free,
						   (GDestroyNotify)g_array_unref);
	for (i = 0; i < s->spans->len; i++) {
		const struct seal_span *sp =
			&g_array_index(s->spans, struct seal_span, i);
		GArray *a;

		seal_pair_key(key, sizeof(key), sp->src_hash, sp->dest);
		a = g_hash_table_lookup(s->by_pair, key);
		if (!a) {
			a = g_array_new(FALSE, FALSE, sizeof(guint));
			g_hash_table_insert(s->by_pair, g_strdup(key), a);
		}
		g_array_append_val(a, i);
	}
}

/* seal_take - the seal kept from the last batch, emptied, or a new one
   (its arrays keep their room: a batch's deltas fault no new pages) */
static struct monitor_seal *seal_take(struct monitor *m)
{
	struct monitor_seal *s = m->spare;

	if (s) {
		m->spare = NULL;
		s->deltas.len = 0;
		g_array_set_size(s->trans, 0);
		g_string_chunk_clear(s->names);
		g_array_set_size(s->incs, 0);
		g_array_set_size(s->spans, 0);
		if (s->windows) {
			g_byte_array_free(s->windows, TRUE);
			s->windows = NULL;
		}
		g_array_set_size(s->drops, 0);
		g_array_set_size(s->rcpts, 0);
		return s;
	}
	s = g_new0(struct monitor_seal, 1);
	s->m = m;
	s->deltas.elem = sizeof(struct rates_delta);
	s->trans = g_array_new(FALSE, FALSE, sizeof(struct rates_transition));
	s->names = g_string_chunk_new(4096);
	s->incs = g_array_new(FALSE, FALSE, sizeof(struct seal_inc));
	s->spans = g_array_new(FALSE, FALSE, sizeof(struct seal_span));
	s->drops = g_array_new(FALSE, FALSE, sizeof(struct mon_drop));
	s->rcpts = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	return s;
}

/* seal_counts - an open incident's sender-side bounces and attempts as
   the detector counts them now (they grow while it is open; the store
   and bouncectl show them) */
static void seal_counts(struct monitor *m, struct mon_incident *mi)
{
	uint64_t b, a;

	if (!m->detect || mi->closing || mi->inc.state != INCIDENT_ST_OPEN ||
	    !incident_detect_counts(m->detect, mi->inc.source, mi->inc.dest,
				    &b, &a))
		return;
	if (b > mi->inc.bounces || a > mi->inc.attempts) {
		if (b > mi->inc.bounces)
			mi->inc.bounces = b;
		if (a > mi->inc.attempts)
			mi->inc.attempts = a;
		mi->dirty = true;
	}
}

struct monitor_seal *monitor_seal(struct monitor *m)
{
	struct monitor_seal *s = seal_take(m);
	GArray *drops;
	guint i;

	/* the batch of the holds' events goes to the commit: what is
	   still held is kept encoded from now on */
	mon_pending_keep(m);
	if (m->rates)
		seal_rates(s, m->rates);
	for (i = 0; i < m->incidents->len; i++) {
		struct mon_incident *mi = g_ptr_array_index(m->incidents, i);
		struct seal_span sp;

		seal_counts(m, mi);
		if (mi->dirty) {
			struct seal_inc si;

			memset(&si, 0, sizeof(si));
			si.inc = mi->inc;
			si.opened = mi->opened;
			si.closing = mi->closing;
			if (mi->closing)
				si.inc.state = INCIDENT_ST_CLOSED;
			/* the recipients it came to protect, for the store
			   (a closing one's go with the rest of them) */
			si.rc_from = s->rcpts->len;
			if (mi->rcpts_new && !mi->closing &&
			    mi->rcpts_new->len) {
				g_array_append_vals(s->rcpts,
						    mi->rcpts_new->data,
						    mi->rcpts_new->len);
				si.rc_n = mi->rcpts_new->len;
				mi->rcpts_stored = true;
			}
			if (mi->rcpts_new)
				g_array_set_size(mi->rcpts_new, 0);
			/* one that opens and ends between two commits, as
			   most do, never had any stored */
			si.rc_stored = mi->rcpts_stored;
			g_array_append_val(s->incs, si);
			/* a closed incident is closed from now on: the feed
			   finds it no more */
			if (mi->closing)
				mi->inc.state = INCIDENT_ST_CLOSED;
			mi->dirty = mi->opened = mi->closing = false;
		}
		memset(&sp, 0, sizeof(sp));
		sp.id = mi->inc.id;
		sp.src_hash = mi->src_hash;
		g_strlcpy(sp.dest, mi->inc.dest, sizeof(sp.dest));
		sp.first = mi->inc.first_time;
		sp.close = mi->inc.close_time;
		sp.open_gen = mi->open_gen;
		sp.close_gen = mi->close_gen;
		g_array_append_val(s->spans, sp);
	}
	seal_index(s);
	s->next_id = m->next_id;
	/* the drops fed since the last seal change places with the seal's
	   emptied array */
	drops = s->drops;
	s->drops = m->drops;
	m->drops = drops;
	if (m->detect && incident_detect_dirty(m->detect)) {
		s->windows = g_byte_array_new();
		incident_detect_save(m->detect, s->windows);
	}
	s->f.d = (const struct rates_delta *)s->deltas.v;
	s->f.nd = s->deltas.len;
	s->f.t = (const struct rates_transition *)(void *)s->trans->data;
	s->f.nt = s->trans->len;
	return s;
}

int monitor_seal_refresh(struct monitor_seal *s, struct state *st,
			 MDB_txn *txn)
{
	struct incident inc;
	uint64_t edits = 0;
	guint i;
	int rc;

	if (!s)
		return 0;
	/* one read when nobody ended an incident since the last commit
	   (a pipe commits at each pause of its writer) */
	rc = state_meta_get_u64(st, txn, "incident.operator", &edits);
	if (rc && rc != -ENOENT)
		return rc;
	if (edits == s->m->operator_seen)
		return 0;
	for (i = 0; i < s->spans->len; i++) {
		struct seal_span *sp = &g_array_index(s->spans,
						      struct seal_span, i);

		if (sp->close_gen != UINT64_MAX)
			continue;	/* closed as the monitor knows it */
		rc = incident_get(st, txn, sp->id, &inc);
		if (rc == -ENOENT)
			continue;	/* not stored yet: opened in this seal */
		if (rc)
			return rc;
		if (inc.state == INCIDENT_ST_RELEASED ||
		    inc.state == INCIDENT_ST_DISCARDED) {
			/* the operator's word came before this commit:
			   it holds for every record of the batch */
			sp->close = inc.close_time;
			sp->close_gen = 0;
		}
	}
	/* kept for the next commit once this one is written (a try that is
	   aborted reads them again: the spans it changed stay changed) */
	s->m->operator_seen = edits;
	return 0;
}

bool monitor_seal_in_incident(const struct monitor_seal *s, uint32_t src,
			      const char *addr, int64_t t, uint64_t gen)
{
	char key[16 + INCIDENT_KEY_MAX];
	const char *dest;
	const GArray *pair;
	guint i;

	if (!s || !src || !s->spans->len)
		return false;
	dest = domain_groups_of_addr(s->m->groups, addr);
	if (!dest)
		return false;
	seal_pair_key(key, sizeof(key), src, dest);
	pair = g_hash_table_lookup(s->by_pair, key);
	for (i = 0; pair && i < pair->len; i++) {
		const struct seal_span *sp = &g_array_index(
			s->spans, struct seal_span, g_array_index(pair, guint, i));

		/* as the monitor knew it when the record of GEN was read:
		   opened by then, and closed by then or not */
		int64_t end = sp->close_gen <= gen ? sp->close : INT64_MAX;

		if (sp->open_gen <= gen && t >= sp->first && t <= end)
			return true;
	}
	return false;
}

/* the held bounces of a closing incident, gathered before acting */
static int seal_gather_cb(const struct incident_held *h, void *arg)
{
	g_array_append_val((GArray *)arg, *h);
	return 0;
}

/* seal_release - apply (APPLY) or drop what incident INC still holds in
   the store (those delivered to while it was open were dropped as the
   deliveries came; those released by a record were applied after it;
   counted as they were released); a bounce dropped is kept on its
   address (hooks->drop); how many into *N (may be NULL); 0 or -errno */
static int seal_release(const struct monitor_hooks *hk, struct state *st,
			MDB_txn *txn, const struct incident *inc, bool apply,
			uint32_t *n)
{
	GArray *held = g_array_new(FALSE, FALSE, sizeof(struct incident_held));
	uint64_t id = inc->id;
	guint i;
	int rc;

	rc = incident_held_foreach(st, txn, id, seal_gather_cb, held);
	for (i = 0; rc == 0 && i < held->len; i++) {
		const struct incident_held *h =
			&g_array_index(held, struct incident_held, i);

		if (apply)
			rc = hk->release ? hk->release(txn, h, hk->arg) : 0;
		else
			rc = hk->drop ? hk->drop(txn, h, id,
						 monitor_source_hash(
							 inc->source),
						 inc->first_time, hk->arg) :
					0;
		if (rc)
			break;
		rc = incident_held_del(st, txn, id, h->addr);
		if (rc == -ENOENT)
			rc = 0;
	}
	if (rc == 0 && n)
		*n = held->len;
	g_array_free(held, TRUE);
	return rc;
}

/* seal_put - incident SI as this try writes it: an incident the operator
   released or discarded in the meantime stays as they left it */
static int seal_put(const struct monitor_hooks *hk, struct state *st,
		    MDB_txn *txn, struct seal_inc *si)
{
	struct incident was;
	int rc;

	si->next = si->inc;
	rc = incident_get(st, txn, si->inc.id, &was);
	if (rc && rc != -ENOENT)
		return rc;
	if (rc == 0 && (was.state == INCIDENT_ST_RELEASED ||
			was.state == INCIDENT_ST_DISCARDED)) {
		bool apply = was.state == INCIDENT_ST_RELEASED;
		uint32_t n = 0;

		si->next.state = was.state;
		si->next.close_time = was.close_time;
		si->next.applied = was.applied;
		si->next.dropped = was.dropped;
		si->closing = false;
		/* what was held under it since the operator's word (the
		   monitor had it open still): applied or dropped as they
		   said, not kept for a release that will not come */
		rc = seal_release(hk, st, txn, &si->inc, apply, &n);
		if (rc)
			return rc;
		if (apply)
			si->next.applied += n;
		else
			si->next.dropped += n;
		return incident_put(st, txn, &si->next);
	}
	if (si->closing) {
		rc = seal_release(hk, st, txn, &si->inc, true, NULL);
		if (rc)
			return rc;
	}
	return incident_put(st, txn, &si->next);
}

int monitor_seal_commit(struct monitor_seal *s, struct state *st,
			MDB_txn *txn)
{
	uint64_t opened = 0, closed = 0, raised = 0, cleared = 0;
	guint i;
	int rc = 0;

	if (s->m->rates) {
		rc = rates_store_flush_parts(st, txn, &s->f);
		if (rc)
			return rc;
	}
	/* before the incidents: a drop and a close in one seal.  The batch's
	   holds are stored by now; a drop takes the record it dropped only:
	   a hold of the address read after the delivery replaced it, and
	   stays held as in the monitor (else the batch's end would decide
	   whether that bounce is ever applied).  The address keeps the
	   bounce dropped, whatever the store had (a later hold replaced
	   it, the operator ended the incident): read again, it is not
	   applied */
	for (i = 0; i < s->drops->len && rc == 0; i++) {
		const struct mon_drop *d =
			&g_array_index(s->drops, struct mon_drop, i);

		rc = incident_held_del_same(st, txn, d->id, &d->h);
		if (rc == -ENOENT)
			rc = 0;
		if (rc == 0 && s->m->h.drop)
			rc = s->m->h.drop(txn, &d->h, d->id, d->src_hash,
					  d->first, s->m->h.arg);
	}
	for (i = 0; i < s->incs->len && rc == 0; i++) {
		struct seal_inc *si = &g_array_index(s->incs, struct seal_inc,
						     i);

		rc = seal_put(&s->m->h, st, txn, si);
		/* an open incident's new recipients kept, an ended one's
		   all gone */
		if (rc == 0 && si->next.state != INCIDENT_ST_OPEN) {
			if (si->rc_stored)
				rc = incident_rcpts_del(st, txn, si->inc.id);
		} else if (rc == 0 && si->rc_n)
			rc = incident_rcpts_add(st, txn, si->inc.id,
						&g_array_index(s->rcpts,
							       uint64_t,
							       si->rc_from),
						si->rc_n);
		opened += si->opened;
		closed += si->closing;
	}
	for (i = 0; i < s->trans->len; i++) {
		if (g_array_index(s->trans, struct rates_transition, i).raised)
			raised++;
		else
			cleared++;
	}
	/* the counters once per commit, not once per incident */
	if (rc == 0 && opened)
		rc = state_meta_add_u64(st, txn, "count.incident.opened",
					opened);
	if (rc == 0 && closed)
		rc = state_meta_add_u64(st, txn, "count.incident.closed",
					closed);
	if (rc == 0 && raised)
		rc = state_meta_add_u64(st, txn, "count.alert.raised", raised);
	if (rc == 0 && cleared)
		rc = state_meta_add_u64(st, txn, "count.alert.cleared",
					cleared);
	if (rc == 0 && (s->incs->len || s->next_id > 1))
		rc = state_meta_put_u64(st, txn, "incident.next", s->next_id);
	if (rc == 0 && s->windows)
		rc = incident_windows_put(st, txn, s->windows->data,
					  s->windows->len);
	return rc;
}

/* seal_live - the live incident ID (the list is in id order: found by
   halving it, else by a walk), or NULL */
static struct mon_incident *seal_live(struct monitor *m, uint64_t id)
{
	guint lo = 0, hi = m->incidents->len, j;

	while (lo < hi) {
		guint mid = lo + (hi - lo) / 2;
		struct mon_incident *mi = g_ptr_array_index(m->incidents, mid);

		if (mi->inc.id == id)
			return mi;
		if (mi->inc.id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (j = 0; j < m->incidents->len; j++) {
		struct mon_incident *mi = g_ptr_array_index(m->incidents, j);

		if (mi->inc.id == id)
			return mi;
	}
	return NULL;
}

/* seal_told - incident SI committed: the live one follows, the log and
   the hooks hear of it */
static void seal_told(struct monitor *m, const struct seal_inc *si)
{
	const struct incident *inc = &si->next;
	struct mon_incident *mi = seal_live(m, inc->id);

	if (mi) {
		if (inc->state != INCIDENT_ST_OPEN) {
			mi->inc.state = inc->state;
			mi->inc.close_time = inc->close_time;
			mi->inc.applied = inc->applied;
			mi->inc.dropped = inc->dropped;
			u64map_free(mi->rcpts);
			mi->rcpts = NULL;
			if (mi->rcpts_new) {
				g_array_free(mi->rcpts_new, TRUE);
				mi->rcpts_new = NULL;
			}
			if (mi->held) {
				g_hash_table_destroy(mi->held);
				mi->held = NULL;
			}
		}
	}
	if (si->opened && m->h.incident)
		m->h.incident(inc, true, m->h.arg);
	if (!si->closing)
		return;
	log_info("incident", "incident %" PRIu64 " closed: %s to %s, %" PRIu64
		 " bounces, %u addresses protected, %u held bounces applied, "
		 "%u dropped%s", inc->id, inc->source, inc->dest, inc->bounces,
		 inc->protected_soft, inc->applied, inc->dropped,
		 inc->recovered ? " (deliveries came back)" : "");
	if (m->h.incident)
		m->h.incident(inc, false, m->h.arg);
}

void monitor_seal_done(struct monitor *m, struct monitor_seal *s,
		       bool committed)
{
	guint i, keep;

	if (!s)
		return;
	if (committed) {
		for (i = 0; i < s->incs->len; i++)
			seal_told(m, &g_array_index(s->incs, struct seal_inc,
						    i));
		for (i = 0; m->rates && i < s->trans->len; i++) {
			const struct rates_transition *t =
				&g_array_index(s->trans,
					       struct rates_transition, i);

			if (t->rule < s->f.nrules && m->h.alert)
				m->h.alert(t, &s->f.rules[t->rule], m->h.arg);
		}
		/* closed incidents are kept for the soft-bounce check as
		   long as a soft bounce of theirs can count */
		keep = 0;
		for (i = 0; i < m->incidents->len; i++) {
			struct mon_incident *mi =
				g_ptr_array_index(m->incidents, i);

			if (mi->inc.state != INCIDENT_ST_OPEN && !mi->dirty &&
			    mi->inc.close_time < m->now - m->p.keep) {
				/* freed below; the open list may name it */
				m->open_dirty = true;
				continue;
			}
			/* the ones kept move up, in the same order */
			m->incidents->pdata[i] = m->incidents->pdata[keep];
			m->incidents->pdata[keep++] = mi;
		}
		if (keep < m->incidents->len)
			g_ptr_array_remove_range(m->incidents, keep,
						 m->incidents->len - keep);
	}
	/* kept for the next batch's seal */
	if (!m->spare && s->m == m) {
		m->spare = s;
		return;
	}
	monitor_seal_free(s);
}

void monitor_seal_free(struct monitor_seal *s)
{
	if (!s)
		return;
	bigarr_free(&s->deltas);
	g_array_free(s->trans, TRUE);
	g_string_chunk_free(s->names);
	g_array_free(s->incs, TRUE);
	g_array_free(s->rcpts, TRUE);
	g_array_free(s->spans, TRUE);
	if (s->by_pair)
		g_hash_table_destroy(s->by_pair);
	if (s->windows)
		g_byte_array_free(s->windows, TRUE);
	g_array_free(s->drops, TRUE);
	g_free(s);
}

int monitor_commit(struct monitor *m, struct state *st, MDB_txn *txn)
{
	m->st = st;
	if (!m->cur)
		m->cur = monitor_seal(m);
	return monitor_seal_commit(m->cur, st, txn);
}

void monitor_committed(struct monitor *m)
{
	struct monitor_seal *s = m->cur;

	m->cur = NULL;
	monitor_seal_done(m, s, true);
}
