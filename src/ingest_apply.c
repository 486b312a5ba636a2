/*
 * ingest_apply.c - commit one batch: recipients, counters and offset in a
 * single LMDB write transaction.
 *
 * Recipients are read, changed by rcpt_apply() and written back in address
 * order.  Deliveries and ignored records of addresses bounced has never seen
 * create nothing (a full `d` log would otherwise store every recipient).
 * When the map is full the transaction is aborted, the map doubled and the
 * batch applied again from the start: nothing of a failed attempt survives,
 * so counts and logs are taken from the attempt that committed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "outbox.h"
#include "route.h"
#include "ingest_priv.h"
#include "log.h"
#include "mail_events.h"
#include "rcpt_rules.h"

#define INGEST_GROW_TRIES 12

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

static int ingest_outcome_suppresses(int o)
{
	return o == OUT_HARD || o == OUT_ESCALATED || o == OUT_COMPLAINT ||
	       o == OUT_UNSUB;
}

/* ingest_action_slot - a free entry of R's action list: a new one, or the
   oldest finished one; NULL when every entry is still pending */
static struct rcpt_action *ingest_action_slot(struct rcpt *r)
{
	struct rcpt_action *old = NULL;
	uint32_t i;

	if (r->n_actions < RCPT_ACTIONS_MAX) {
		old = &r->actions[r->n_actions++];
		memset(old, 0, sizeof(*old));
		return old;
	}
	for (i = 0; i < r->n_actions; i++)
		if (r->actions[i].state != ACTION_PENDING &&
		    (!old || r->actions[i].time < old->time))
			old = &r->actions[i];
	if (old)
		memset(old, 0, sizeof(*old));
	return old;
}

/* ingest_note_dryrun - with no provider configured, record the
   suppression as a dry-run action (logged after the commit) */
static void ingest_note_dryrun(struct rcpt *r, int outcome, int64_t now)
{
	uint8_t op = outcome == OUT_COMPLAINT ? OP_COMPLAINT : OP_UNSUBSCRIBE;
	struct rcpt_action *a;
	uint32_t i;

	for (i = 0; i < r->n_actions; i++)
		if (r->actions[i].op == op &&
		    strcmp(r->actions[i].provider, "dry-run") == 0)
			return;
	a = ingest_action_slot(r);
	if (!a)
		return;
	rcpt_set_str(a->provider, sizeof(a->provider), "dry-run");
	a->op = op;
	a->state = ACTION_DRYRUN;
	a->time = now;
}

/* ingest_already - has R an action of PROVIDER that makes OP redundant? */
static bool ingest_already(const struct rcpt *r, const char *provider, int op,
			   const char *campaign)
{
	uint32_t i;

	for (i = 0; i < r->n_actions; i++) {
		const struct rcpt_action *a = &r->actions[i];
		bool unsub = op == OP_UNSUBSCRIBE || op == OP_COMPLAINT;

		if (strcmp(a->provider, provider) != 0 ||
		    (a->state != ACTION_PENDING && a->state != ACTION_DONE))
			continue;
		if (unsub && (a->op == OP_UNSUBSCRIBE || a->op == OP_COMPLAINT))
			return true;
		if (op == OP_BOUNCE && a->op == OP_BOUNCE && campaign &&
		    strcmp(a->campaign_id, campaign) == 0)
			return true;
	}
	return false;
}

/* ingest_enqueue_one - one operation of one provider for one event: 0
   (queued, or done before), 1 (the event is not for this provider) or
   -errno */
static int ingest_enqueue_one(struct ingest *in, MDB_txn *txn, struct rcpt *r,
			      const char *addr, struct batch_event *be,
			      const struct config_provider *p, int op,
			      const char *bounce_type, int64_t now)
{
	struct rcpt_action *slot;
	struct action a;
	int rc;

	memset(&a, 0, sizeof(a));
	/* the campaign of a bounce record, or the one that may name the
	   list of a subscriber known by ids only */
	if (op == OP_BOUNCE || mail_key_is_uid(addr))
		(void)route_campaign(p, be->ev.job_id, a.campaign_id,
				     sizeof(a.campaign_id));
	if (ingest_already(r, p->name, op, a.campaign_id[0] ? a.campaign_id : NULL))
		return 0;
	rcpt_set_str(a.provider, sizeof(a.provider), p->name);
	rcpt_set_str(a.addr, sizeof(a.addr), addr);
	rcpt_set_str(a.bounce_type, sizeof(a.bounce_type), bounce_type);
	route_ids(p, &be->ev, &a);
	/* a subscriber known only by its ids ("uid:" key, the report or
	   unsubscribe mail hid the address): only a provider those ids
	   belong to can act, by the ids (MailWizz), or be told (webhook) */
	if (mail_key_is_uid(addr) && p->type != PROVIDER_WEBHOOK &&
	    (p->type != PROVIDER_MAILWIZZ || !a.subscriber_id[0] ||
	     (!a.list_id[0] && !a.campaign_id[0])))
		return 1;
	a.op = (uint8_t)op;
	a.klass = (uint8_t)be->ev.klass;
	rcpt_reason_from_event(&a.ev, &be->ev);
	rc = outbox_enqueue(in->st, txn, &a, now * 1000);
	if (rc)
		return rc;
	/* webhook soft-bounce posts are events, not states of the address */
	if (p->type == PROVIDER_WEBHOOK && be->outcome == OUT_SOFT)
		return 0;
	slot = ingest_action_slot(r);
	if (!slot)
		return 0;
	rcpt_set_str(slot->provider, sizeof(slot->provider), p->name);
	rcpt_set_str(slot->campaign_id, sizeof(slot->campaign_id), a.campaign_id);
	slot->op = (uint8_t)op;
	slot->state = ACTION_PENDING;
	slot->time = now;
	slot->root = a.id;
	slot->outstanding = 1;
	return 0;
}

/* ingest_enqueue - the provider actions an applied event asks for, in the
   transaction that changed the recipient */
static int ingest_enqueue(struct ingest *in, MDB_txn *txn, struct rcpt *r,
			  const char *addr, struct batch_event *be, int64_t now)
{
	const struct config *cfg = in->cfg;
	size_t i;
	int k, n, rc;

	be->routed = 0;
	if (cfg->n_providers == 0) {
		if (ingest_outcome_suppresses(be->outcome))
			ingest_note_dryrun(r, be->outcome, now);
		return 0;
	}
	for (i = 0; i < cfg->n_providers && i < 32; i++) {
		const struct config_provider *p = &cfg->providers[i];
		int ops[ROUTE_MAX_OPS];
		const char *btype;
		int taken = 0;

		n = route_plan(p, &be->ev, be->outcome, ops, &btype);
		for (k = 0; k < n; k++) {
			rc = ingest_enqueue_one(in, txn, r, addr, be, p, ops[k],
						btype, now);
			if (rc < 0)
				return rc;
			taken += rc == 0;
		}
		if (taken)
			be->routed |= 1u << i;
	}
	return 0;
}

/* ingest_apply_rcpt - every event of one recipient */
static int ingest_apply_rcpt(struct ingest *in, MDB_txn *txn,
			     struct batch_rcpt *br, struct ingest_counts *c,
			     int64_t now)
{
	struct batch_event *be;
	struct rcpt r;
	bool stored;
	int rc;

	rc = state_rcpt_get(in->st, txn, br->addr, &r);
	if (rc == -ENOENT || rc == -EINVAL || rc == -EPROTO) {
		if (rc != -ENOENT)
			log_warn("ingest",
				 "record of '%s' unreadable (%s): starting it anew",
				 br->addr, state_strerror(rc));
		rcpt_init(&r);
		stored = false;
	} else if (rc != 0) {
		return rc;
	} else {
		stored = true;
	}
	for (be = br->first; be; be = be->next) {
		if (!stored && (be->ev.klass == CLASS_DELIVERY ||
				be->ev.klass == CLASS_IGNORE)) {
			be->outcome = be->ev.klass == CLASS_DELIVERY ?
					      OUT_DELIVERY : OUT_IGNORED;
			ingest_count_outcome(c, be->outcome);
			continue;
		}
		be->outcome = rcpt_apply(&r, &be->ev, &in->esc);
		ingest_count_outcome(c, be->outcome);
		rc = ingest_enqueue(in, txn, &r, br->addr, be, now);
		if (rc == 0)
			rc = ingest_notify(in, txn, br->addr, be, now);
		if (rc)
			return rc;
		stored = true;
	}
	if (br->suppressed) {
		const struct rcpt_dups *d = &br->dups;

		rcpt_apply_dups(&r, d);
		c->duplicates += d->hard + d->soft + d->complaint + d->unsub;
		c->deliveries += d->delivery;
		c->ignored += d->other;
	}
	if (!stored)
		return 0;
	return state_rcpt_put(in->st, txn, br->addr, &r);
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

/* ingest_try_commit - one attempt; C gets the outcome counts */
static int ingest_try_commit(struct ingest *in, struct ingest_src *src,
			     struct batch_rcpt **arr, size_t n, bool final,
			     struct ingest_counts *c, int64_t now)
{
	MDB_txn *txn = NULL;
	struct file_rec rec = src->rec;
	size_t i;
	int rc;

	rc = state_begin(in->st, true, &txn);
	if (rc)
		return rc;
	for (i = 0; i < n; i++) {
		rc = ingest_apply_rcpt(in, txn, arr[i], c, now);
		if (rc) {
			if (rc != -ENOSPC)
				log_error("ingest", "cannot write the record of '%s': %s",
					  arr[i]->addr, state_strerror(rc));
			goto abort;
		}
	}
	if (src->key) {
		/* never behind what an earlier run committed: while the rows
		   before the resume point are read again, the reader is */
		rec.offset = src->csv ? csv_reader_offset(src->csv) : src->size;
		if (rec.offset < src->rec.offset)
			rec.offset = src->rec.offset;
		rec.lines = src->lines > rec.lines ? src->lines : rec.lines;
		rec.records += c->records;
		rec.bad += c->bad;
		rec.status = final ? FILE_DONE : FILE_PARTIAL;
		rec.updated = now;
		rc = state_file_put(in->st, txn, src->key, &rec);
		if (rc)
			goto abort;
	}
	rc = ingest_add_meta(in, txn, c);
	if (rc)
		goto abort;
	rc = state_commit(txn);
	txn = NULL;
	if (rc == 0 && src->key)
		src->rec = rec;
	return rc;
abort:
	state_abort(txn);
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
		snprintf(buf, len, "on an unsubscribe list");
		break;
	}
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

/* ingest_log_batch - what the committed batch concluded, per address */
static void ingest_log_batch(const struct ingest *in, struct batch_rcpt **arr,
			     size_t n)
{
	char why[160], to[256];
	size_t i;

	for (i = 0; i < n; i++) {
		struct batch_event *be;

		for (be = arr[i]->first; be; be = be->next) {
			const struct event *ev = &be->ev;

			if (be->outcome == OUT_DUPLICATE) {
				log_debug("ingest", "duplicate: %s is already "
					  "suppressed (%s:%llu)", arr[i]->addr,
					  ev->source, (unsigned long long)ev->line);
				continue;
			}
			if (!ingest_outcome_suppresses(be->outcome))
				continue;
			ingest_why(be, why, sizeof(why));
			if (in->cfg->n_providers == 0) {
				log_info("ingest", "dry-run: unsubscribe %s "
					 "everywhere: %s, %s:%llu", arr[i]->addr,
					 why, ev->source,
					 (unsigned long long)ev->line);
				continue;
			}
			ingest_routed(in->cfg, be->routed, to, sizeof(to));
			if (*to)
				log_info("ingest", "%s: %s, %s:%llu: queued for %s",
					 arr[i]->addr, why, ev->source,
					 (unsigned long long)ev->line, to);
			else
				log_warn("ingest", "%s: %s, %s:%llu: unrouted (no "
					 "provider sends as '%s')", arr[i]->addr,
					 why, ev->source,
					 (unsigned long long)ev->line,
					 ev->orig ? ev->orig : "");
		}
	}
}

/* ingest_nothing_new - a commit of SRC would only write what is committed
   already: nothing parsed since the last commit, and the reader not past
   the committed offset (the rows before a resume point, read again) */
static bool ingest_nothing_new(const struct ingest *in,
			       const struct ingest_src *src)
{
	const struct ingest_counts *p = &src->pending;

	if (batch_events(in->batch) > 0 || p->records > 0 || p->bad > 0)
		return false;
	return src->key && src->csv &&
	       csv_reader_offset(src->csv) <= src->rec.offset;
}

int ingest_commit(struct ingest *in, struct ingest_src *src, bool final)
{
	struct batch_rcpt **arr = NULL;
	struct ingest_counts c;
	size_t n = 0;
	int tries, rc;
	int64_t now = (int64_t)time(NULL);

	if (!final && ingest_nothing_new(in, src))
		return 0;
	rc = batch_sorted(in->batch, &arr, &n);
	if (rc)
		return rc;
	for (tries = 0;; tries++) {
		c = src->pending;
		rc = ingest_try_commit(in, src, arr, n, final, &c, now);
		if (rc != -ENOSPC || tries >= INGEST_GROW_TRIES)
			break;
		rc = state_grow(in->st);
		if (rc)
			break;
		log_info("ingest", "state map grown to %zu MiB",
			 state_map_size(in->st) >> 20);
	}
	if (rc) {
		log_error("ingest", "%s: cannot commit to the state: %s "
			  "(nothing of this batch was kept; run again)",
			  src->path, state_strerror(rc));
		return rc;
	}
	ingest_log_batch(in, arr, n);
	ingest_counts_add(src->total, &c);
	memset(&src->pending, 0, sizeof(src->pending));
	batch_clear(in->batch);
	if (in->on_commit)
		in->on_commit(in->on_commit_arg);
	return 0;
}
