/*
 * ctl_admin.c - the commands of bouncectl that change the state:
 * "forget ADDR" (a false positive made active again) and "reevaluate"
 * (the current soft-bounce settings applied to every stored record).
 *
 * Writes happen in short LMDB write transactions, so a running bounced
 * waits at most for one of them; reevaluate finds the changes in a
 * read-only pass of at most REEVAL_BATCH changes, then re-reads and writes
 * those in one write transaction, and goes on from where it stopped: memory
 * stays bounded and the worker's own updates in between are respected.
 * Writes go through state_write() (a full map is grown and the
 * transaction replayed).  Exit 64 for a bad
 * command line, 66 without a state, 67 for an unknown address, 74 when the
 * state cannot be read or written.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "domain_group.h"
#include "exitcodes.h"
#include "incident_store.h"
#include "log.h"
#include "monitor.h"
#include "outbox.h"
#include "plan.h"
#include "rcpt_rules.h"
#include "state.h"

#define REEVAL_BATCH 10000	/* changed records per write transaction */

/* ---- forget ---- */

const struct cli_opt ctl_opts_forget[] = {
	{ "reason", CTL_O_REASON, "TEXT", "why, for the log" },
	{ NULL, 0, NULL, NULL },
};

const struct cli_opt ctl_opts_reevaluate[] = {
	{ "dry-run", 'n', NULL, "print what would change, write nothing" },
	{ NULL, 0, NULL, NULL },
};

struct forget_write {
	const char *addr;
	struct rcpt old;	/* the record as it was */
	GArray *found;		/* struct action: the address's, in the
				   outbox or the dead table */
	unsigned cancelled, dropped;	/* of them, removed */
};

/* forget_collect - A, when it is the address's (outbox_cb) */
static int forget_collect(const struct action *a, void *arg)
{
	struct forget_write *fw = arg;

	if (strcmp(a->addr, fw->addr) == 0)
		g_array_append_val(fw->found, *a);
	return 0;
}

/* forget_actions - the address's provider actions removed: the queued
   ones would still unsubscribe it (the dispatcher calls whatever the
   outbox holds), and a dead letter would on `retry --all`; 0 or -errno */
static int forget_actions(struct state *st, MDB_txn *txn,
			  struct forget_write *fw)
{
	guint i;
	int rc;

	g_array_set_size(fw->found, 0);
	fw->cancelled = 0;
	rc = outbox_foreach(st, txn, -1, forget_collect, fw);
	for (i = 0; rc == 0 && i < fw->found->len; i++) {
		rc = outbox_remove(st, txn, &g_array_index(fw->found,
							   struct action, i));
		fw->cancelled += rc == 0;
		if (rc == -ENOENT)
			rc = 0;
	}
	if (rc)
		return rc;
	g_array_set_size(fw->found, 0);
	fw->dropped = 0;
	rc = outbox_dead_foreach(st, txn, forget_collect, fw);
	for (i = 0; rc == 0 && i < fw->found->len; i++) {
		rc = outbox_dead_remove(st, txn, g_array_index(fw->found,
							       struct action,
							       i).id);
		fw->dropped += rc == 0;
		if (rc == -ENOENT)
			rc = 0;
	}
	return rc;
}

/* forget_txn - read, forget, write (state_write_fn); 0, -ENOENT (no
   record) or -errno */
static int forget_txn(struct state *st, MDB_txn *txn, void *arg)
{
	struct forget_write *fw = arg;
	struct rcpt r;
	int rc;

	rc = state_rcpt_get(st, txn, fw->addr, &r);
	if (rc != 0)
		return rc;
	fw->old = r;
	rcpt_forget(&r);
	rc = forget_actions(st, txn, fw);
	if (rc != 0)
		return rc;
	return state_rcpt_put(st, txn, fw->addr, &r);
}

/* forget_log - the info line that keeps the edit on record */
static void forget_log(const char *addr, const struct rcpt *old,
		       const char *reason, unsigned cancelled,
		       unsigned dropped)
{
	char why[512], src[256], acts[96] = "";

	ctl_text_clean(reason ? reason : "no reason given", why, sizeof(why));
	if (cancelled || dropped)
		snprintf(acts, sizeof(acts), "; %u queued provider actions "
			 "cancelled, %u dead letters dropped", cancelled,
			 dropped);
	if (old->reason.source[0])
		log_info("ctl", "forgot %s (was %s from %s:%llu)%s: %s", addr,
			 ctl_status_name(old->status),
			 ctl_text_clean(old->reason.source, src, sizeof(src)),
			 (unsigned long long)old->reason.line, acts, why);
	else
		log_info("ctl", "forgot %s (was %s)%s: %s", addr,
			 ctl_status_name(old->status), acts, why);
}

int cmd_forget(struct ctl_ctx *ctx, const struct cli_args *args)
{
	const char *arg, *reason;
	char addr[ADDR_MAX + 1];
	struct state *st = NULL;
	struct forget_write fw = { .addr = addr };
	int rc;

	rc = ctl_args_addr(ctx, args, CTL_O_REASON, &arg, &reason);
	if (rc != 0)
		return rc;
	rc = ctl_addr_arg(ctx, arg, addr);
	if (rc != 0)
		return rc;
	rc = ctl_state_open(ctx, true, &st);
	if (rc != 0)
		return rc;
	fw.found = g_array_new(FALSE, FALSE, sizeof(struct action));
	rc = state_write(st, forget_txn, &fw);
	if (rc == -ENOENT) {
		fprintf(stderr, "%s: no record for '%s'\n", ctx->prog, addr);
		rc = CTL_EXIT_NOADDR;
		goto out;
	}
	if (rc != 0) {
		fprintf(stderr, "%s: cannot forget '%s' in %s: %s\n", ctx->prog,
			addr, ctx->cfg->state, state_strerror(rc));
		rc = EXIT_IOERR;
		goto out;
	}
	forget_log(addr, &fw.old, reason, fw.cancelled, fw.dropped);
	fprintf(ctx->out, "%s: active again (was %s)", addr,
		ctl_status_name(fw.old.status));
	if (fw.cancelled)
		fprintf(ctx->out, "; %u queued provider action%s cancelled",
			fw.cancelled, fw.cancelled == 1 ? "" : "s");
	if (fw.dropped)
		fprintf(ctx->out, "; %u dead letter%s dropped", fw.dropped,
			fw.dropped == 1 ? "" : "s");
	fputc('\n', ctx->out);
	rc = EXIT_OK;
out:
	if (fw.found)
		g_array_free(fw.found, TRUE);
	state_close(st);
	return rc;
}

/* ---- reevaluate ---- */

struct reeval_change {
	char addr[ADDR_MAX + 1];
	uint8_t from, to;	/* enum rcpt_status */
};

/* an incident's span: soft bounces from its source to its destination
   within it do not count toward escalation (as at ingest) */
struct reeval_span {
	uint32_t src;		/* monitor_source_hash of the source */
	char dest[INCIDENT_KEY_MAX];
	int64_t first, close;	/* close: INT64_MAX while open */
};

struct reeval {
	const struct ctl_ctx *ctx;
	struct escalation e;
	GArray *spans;		/* struct reeval_span, of every incident */
	struct domain_groups *groups;	/* [incidents] domain-groups */
	const char *addr;	/* the address being judged */
	bool dry_run;
	struct reeval_change *changes; /* REEVAL_BATCH of them */
	size_t n;		/* changes found in this pass */
	bool more;		/* the pass stopped at resume */
	char resume[ADDR_MAX + 1];
	uint64_t checked, to_hard, to_soft;
	uint64_t queued;	/* provider actions of addresses made hard */
	uint64_t queued_pass;	/* ...by the write of this pass */
	/* the queued and dead actions of addresses returned to soft,
	   removed (of this pass, then in all) */
	struct forget_write cancel;
	uint64_t cancelled, cancelled_pass;
};

/* reeval_discounted - escalation.discounted: a soft bounce at T from
   source SRC to the address being judged fell within an incident of that
   source and the address's destination, as the ingest judged it (the
   incidents the state keeps, whatever became of them since) */
static bool reeval_discounted(uint32_t src, int64_t t, void *arg)
{
	const struct reeval *rv = arg;
	const char *dest;
	guint i;

	if (!src || !rv->spans->len || !rv->addr)
		return false;
	dest = domain_groups_of_addr(rv->groups, rv->addr);
	if (!dest)
		return false;
	for (i = 0; i < rv->spans->len; i++) {
		const struct reeval_span *sp =
			&g_array_index(rv->spans, struct reeval_span, i);

		if (sp->src == src && t >= sp->first && t <= sp->close &&
		    strcmp(sp->dest, dest) == 0)
			return true;
	}
	return false;
}

/* reeval_span_cb - an incident's span into the list (incident_cb_t) */
static int reeval_span_cb(const struct incident *inc, void *arg)
{
	struct reeval_span sp;

	memset(&sp, 0, sizeof(sp));
	sp.src = monitor_source_hash(inc->source);
	g_strlcpy(sp.dest, inc->dest, sizeof(sp.dest));
	sp.first = inc->first_time;
	sp.close = inc->close_time ? inc->close_time : INT64_MAX;
	g_array_append_val((GArray *)arg, sp);
	return 0;
}

/* reeval_spans - RV's incident spans and domain groups, when [incidents]
   is on (the ingest discounts nothing otherwise); 0 or -errno (printed) */
static int reeval_spans(struct state *st, struct reeval *rv)
{
	const struct config *cfg = rv->ctx->cfg;
	MDB_txn *txn = NULL;
	char err[256];
	int rc;

	rv->spans = g_array_new(FALSE, FALSE, sizeof(struct reeval_span));
	if (!cfg->incidents)
		return 0;
	if (domain_groups_parse(cfg->domain_groups, &rv->groups, err,
				sizeof(err)) != 0) {
		fprintf(stderr, "%s: [incidents] domain-groups: %s\n",
			rv->ctx->prog, err);
		return -EINVAL;
	}
	rc = state_begin(st, false, &txn);
	if (rc == 0)
		rc = incident_foreach(st, txn, reeval_span_cb, rv->spans);
	state_abort(txn);
	if (rc == -ENOENT)	/* no incident table yet */
		rc = 0;
	if (rc == 0 && rv->spans->len) {
		rv->e.discounted = reeval_discounted;
		rv->e.discount_arg = rv;
	}
	return rc;
}

/* reeval_wanted - records escalation can say something about */
static bool reeval_wanted(const struct rcpt *r)
{
	return r->n_soft > 0 || (r->status == RCPT_HARD && r->escalated);
}

/* reeval_scan_cb - read pass: note what would change, stop when full */
static int reeval_scan_cb(const char *key, size_t keylen, const struct rcpt *r,
			  void *arg)
{
	struct reeval *rv = arg;
	char addr[ADDR_MAX + 1];
	struct rcpt copy;

	if (ctl_key_copy(key, keylen, addr, sizeof(addr)) != 0)
		return 0;
	if (!r) {
		log_warn("ctl", "the record of '%s' does not decode; skipped",
			 addr);
		return 0;
	}
	if (!reeval_wanted(r))
		return 0;
	if (rv->n == REEVAL_BATCH) {
		memcpy(rv->resume, addr, sizeof(addr));
		rv->more = true;
		return 1;
	}
	rv->checked++;
	copy = *r;
	rv->addr = addr;
	if (rcpt_reevaluate(&copy, &rv->e)) {
		struct reeval_change *c = &rv->changes[rv->n++];

		memcpy(c->addr, addr, sizeof(addr));
		c->from = r->status;
		c->to = copy.status;
	}
	return 0;
}

/* reeval_plan - the provider actions an address made hard asks for, as
   ingest queues them for an escalation; their count into *QUEUED */
static int reeval_plan(struct state *st, struct reeval *rv, MDB_txn *txn,
		       const char *addr, struct rcpt *r, uint64_t *queued)
{
	struct plan pl = { .st = st, .cfg = rv->ctx->cfg, .txn = txn,
			   .now = (int64_t)time(NULL) };
	struct plan_result res;
	struct event ev;
	int rc;

	plan_reason_event(&ev, &r->reason, CLASS_SOFT);
	rc = plan_enqueue(&pl, r, addr, &ev, OUT_ESCALATED, &res);
	if (rc == 0)
		*queued += (uint64_t)__builtin_popcount(res.queued);
	return rc;
}

/* reeval_cancel - ADDR returned to soft: what its suppression queued and
   a provider was not sent yet is removed (the dispatcher calls whatever
   the outbox holds: a soft address would be unsubscribed all the same),
   and so are its dead letters (`retry --all` would send them), with their
   entries in R; what the providers did stays.  0 or -errno */
static int reeval_cancel(struct state *st, struct reeval *rv, MDB_txn *txn,
			 const char *addr, struct rcpt *r)
{
	uint32_t i, keep = 0;
	int rc;

	rv->cancel.addr = addr;
	rc = forget_actions(st, txn, &rv->cancel);
	if (rc != 0)
		return rc;
	rv->cancelled_pass += rv->cancel.cancelled + rv->cancel.dropped;
	for (i = 0; i < r->n_actions; i++)
		if (r->actions[i].state != ACTION_PENDING &&
		    r->actions[i].state != ACTION_DEAD)
			r->actions[keep++] = r->actions[i];
	r->n_actions = keep;
	return 0;
}

/* reeval_write - re-read and rewrite the changes of this pass in one write
   transaction (state_write_fn); records changed by the worker since are
   judged anew, vanished ones skipped; an address made hard gets its
   actions.  0 or -errno. */
static int reeval_write(struct state *st, MDB_txn *txn, void *arg)
{
	struct reeval *rv = arg;
	uint64_t queued = 0;
	struct rcpt r;
	size_t i;
	int rc;

	rv->queued_pass = 0;
	rv->cancelled_pass = 0;
	for (i = 0; i < rv->n; i++) {
		struct reeval_change *c = &rv->changes[i];

		rc = state_rcpt_get(st, txn, c->addr, &r);
		if (rc == -ENOENT || (rc == 0 && !reeval_wanted(&r))) {
			c->to = c->from = RCPT_STATUS_COUNT; /* no change */
			continue;
		}
		if (rc != 0)
			return rc;
		c->from = r.status;
		rv->addr = c->addr;
		if (!rcpt_reevaluate(&r, &rv->e)) {
			c->to = c->from = RCPT_STATUS_COUNT;
			continue;
		}
		c->to = r.status;
		if (r.status == RCPT_HARD) {
			rc = reeval_plan(st, rv, txn, c->addr, &r, &queued);
			if (rc != 0)
				return rc;
		} else if (c->from == RCPT_HARD) {
			rc = reeval_cancel(st, rv, txn, c->addr, &r);
			if (rc != 0)
				return rc;
		}
		rc = state_rcpt_put(st, txn, c->addr, &r);
		if (rc != 0)
			return rc;
	}
	rv->queued_pass = queued;
	return 0;
}

/* reeval_report - print and count the changes of this pass */
static void reeval_report(struct reeval *rv)
{
	size_t i;

	for (i = 0; i < rv->n; i++) {
		const struct reeval_change *c = &rv->changes[i];

		if (c->from == c->to)
			continue;
		fprintf(rv->ctx->out, "%s: %s -> %s\n", c->addr,
			ctl_status_name(c->from), ctl_status_name(c->to));
		if (c->to == RCPT_HARD)
			rv->to_hard++;
		else if (c->from == RCPT_HARD)
			rv->to_soft++;
	}
}

/* reeval_pass - one read pass from FROM and its write; 0 or -errno */
static int reeval_pass(struct state *st, struct reeval *rv, const char *from)
{
	MDB_txn *txn = NULL;
	int rc;

	rv->n = 0;
	rv->more = false;
	rc = state_begin(st, false, &txn);
	if (rc != 0)
		return rc;
	rc = state_rcpt_foreach(st, txn, from, reeval_scan_cb, rv);
	state_abort(txn);
	if (rc < 0)
		return rc;
	if (rv->dry_run || rv->n == 0) {
		reeval_report(rv);
		return 0;
	}
	rc = state_write(st, reeval_write, rv);
	if (rc == 0) {
		rv->queued += rv->queued_pass;
		rv->cancelled += rv->cancelled_pass;
		reeval_report(rv);
	}
	return rc;
}

int cmd_reevaluate(struct ctl_ctx *ctx, const struct cli_args *args)
{
	struct reeval rv;
	struct state *st = NULL;
	char from[ADDR_MAX + 1];
	int rc;

	memset(&rv, 0, sizeof(rv));
	rv.dry_run = cli_args_count(args, 'n') > 0;
	rc = ctl_args_none(ctx, args);
	if (rc != 0)
		return rc;
	rv.ctx = ctx;
	rv.e.threshold = ctx->cfg->soft_threshold;
	rv.e.min_span = ctx->cfg->soft_min_span;
	rv.e.window = ctx->cfg->soft_window;
	rv.e.no_escalate = ctx->cfg->no_escalate_categories;
	rc = ctl_state_open(ctx, !rv.dry_run, &st);
	if (rc != 0)
		return rc;
	rc = reeval_spans(st, &rv);
	if (rc != 0) {
		rc = rc == -EINVAL ? EXIT_CONFIG : ctl_state_error(ctx, "read",
								   rc);
		goto out;
	}
	rv.changes = g_new(struct reeval_change, REEVAL_BATCH);
	rv.cancel.found = g_array_new(FALSE, FALSE, sizeof(struct action));
	from[0] = '\0';
	do {
		rc = reeval_pass(st, &rv, from[0] ? from : NULL);
		if (rc != 0) {
			rc = ctl_state_error(ctx, rv.dry_run ? "read" : "update",
					     rc);
			goto out;
		}
		memcpy(from, rv.resume, sizeof(from));
	} while (rv.more);
	fprintf(ctx->out, "%llu records checked, %llu %sescalated to hard, "
		"%llu %sreturned to soft\n",
		(unsigned long long)rv.checked,
		(unsigned long long)rv.to_hard, rv.dry_run ? "would be " : "",
		(unsigned long long)rv.to_soft, rv.dry_run ? "would be " : "");
	if (!rv.dry_run)
		fprintf(ctx->out, "%llu provider actions queued for the "
			"addresses made hard%s\n",
			(unsigned long long)rv.queued,
			rv.queued ? " (the running bounced, or the next 'bounced "
				    "process', sends them)" : "");
	if (rv.to_soft && !rv.dry_run)
		fprintf(ctx->out, "%llu provider actions of the addresses "
			"returned to soft cancelled (queued, or dead letters)\n",
			(unsigned long long)rv.cancelled);
	if (rv.to_soft)
		fprintf(ctx->out, "addresses returned to soft keep what the "
			"providers did (unsubscribes are not undone)\n");
	if (!rv.dry_run)
		log_info("ctl", "reevaluate (threshold %u, min span %llds, "
			 "window %llds): %llu checked, %llu escalated to hard, "
			 "%llu returned to soft", rv.e.threshold,
			 (long long)rv.e.min_span, (long long)rv.e.window,
			 (unsigned long long)rv.checked,
			 (unsigned long long)rv.to_hard,
			 (unsigned long long)rv.to_soft);
	rc = EXIT_OK;
out:
	g_free(rv.changes);
	if (rv.cancel.found)
		g_array_free(rv.cancel.found, TRUE);
	if (rv.spans)
		g_array_free(rv.spans, TRUE);
	domain_groups_free(rv.groups);
	state_close(st);
	return rc;
}
