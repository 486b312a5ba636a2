/*
 * ctl_queue.c - bouncectl queue, dead and retry: the provider actions
 * waiting in the outbox, those that failed for good, and sending dead ones
 * again.
 *
 * queue and dead read in one read-only transaction; retry moves dead
 * actions back to the outbox in short write transactions (at most 10,000
 * per transaction) and marks the recipient's action entry pending again.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "ctl.h"
#include "exitcodes.h"
#include "log.h"
#include "outbox.h"
#include "state.h"

#define CTL_RETRY_TXN 10000

struct ctl_qout {
	struct ctl_ctx *ctx;
	enum ctl_format fmt;
	bool dead;
	bool measure;		/* text pass 1: widths and the summary */
	int w_prov, w_op, w_addr; /* column widths */
	uint64_t n;
	GHashTable *addrs;	/* the addresses seen (pass 1) */
	int64_t oldest_ms;	/* created_ms of the oldest; 0 = none */
};

/* ctl_action_json - one action as a JSON object */
static cJSON *ctl_action_json(const struct action *a, bool dead)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "id", (double)a->id);
	cJSON_AddNumberToObject(o, "root", (double)a->root);
	cJSON_AddItemToObject(o, "provider", ctl_json_string(a->provider));
	cJSON_AddStringToObject(o, "operation", action_op_name(a->op));
	cJSON_AddItemToObject(o, "address", ctl_json_string(a->addr));
	cJSON_AddNumberToObject(o, "step", a->step);
	cJSON_AddNumberToObject(o, "attempts", a->attempts);
	cJSON_AddItemToObject(o, "created", ctl_json_time(a->created_ms / 1000));
	if (!dead)
		cJSON_AddItemToObject(o, "next_try", ctl_json_time(a->due_ms / 1000));
	cJSON_AddItemToObject(o, "list", ctl_json_string(a->list_id));
	cJSON_AddItemToObject(o, "subscriber", ctl_json_string(a->subscriber_id));
	cJSON_AddItemToObject(o, "campaign", ctl_json_string(a->campaign_id));
	cJSON_AddItemToObject(o, dead ? "reason" : "last_error",
			      ctl_json_string(a->last_error));
	cJSON_AddItemToObject(o, "source", ctl_json_string(a->ev.source));
	cJSON_AddNumberToObject(o, "line", (double)a->ev.line);
	return o;
}

/* ctl_queue_print - one action, in the chosen format (or its widths) */
static int ctl_queue_print(const struct action *a, void *arg)
{
	struct ctl_qout *q = arg;
	FILE *out = q->ctx->out;
	char when[40], addr[ADDR_MAX + 1], prov[sizeof(a->provider)], err[300];

	if (q->fmt == CTL_FMT_JSON) {
		cJSON *o = ctl_action_json(a, q->dead);
		char *s = o ? cJSON_PrintUnformatted(o) : NULL;

		cJSON_Delete(o);
		if (!s)
			return -ENOMEM;
		fprintf(out, "%s%s", q->n ? ",\n" : "", s);
		cJSON_free(s);
		q->n++;
		return 0;
	}
	ctl_text_clean(a->addr, addr, sizeof(addr));
	ctl_text_clean(a->provider, prov, sizeof(prov));
	if (q->measure) {
		q->w_prov = MAX(q->w_prov, ctl_text_width(prov));
		q->w_op = MAX(q->w_op, (int)strlen(action_op_name(a->op)));
		q->w_addr = MAX(q->w_addr, ctl_text_width(addr));
		if (!g_hash_table_contains(q->addrs, addr))
			g_hash_table_add(q->addrs, g_strdup(addr));
		if (a->created_ms > 0 &&
		    (q->oldest_ms == 0 || a->created_ms < q->oldest_ms))
			q->oldest_ms = a->created_ms;
		q->n++;
		return 0;
	}
	ctl_time_text(q->dead ? a->created_ms / 1000 : a->due_ms / 1000,
		      when, sizeof(when));
	fprintf(out, "%-8" PRIu64 " ", a->id);
	ctl_text_pad(out, prov, q->w_prov);
	fprintf(out, " %-*s %4u %3u  %-24s ", q->w_op, action_op_name(a->op),
		a->step, a->attempts, when);
	ctl_text_pad(out, addr, q->w_addr);
	fprintf(out, " %s\n", ctl_text_clean(a->last_error, err, sizeof(err)));
	q->n++;
	return 0;
}

/* ctl_queue_summary - the closing line, as postqueue ends its listing */
static void ctl_queue_summary(const struct ctl_qout *q)
{
	char age[32];
	guint addrs = g_hash_table_size(q->addrs);

	if (q->n == 0) {
		fprintf(q->ctx->out, "-- %s\n", q->dead ?
			"no dead letters" : "the outbox is empty");
		return;
	}
	fprintf(q->ctx->out, "-- %" PRIu64 " %saction%s for %u address%s",
		q->n, q->dead ? "dead " : "", q->n == 1 ? "" : "s", addrs,
		addrs == 1 ? "" : "es");
	if (q->oldest_ms > 0) {
		ctl_age_text(q->ctx->now - q->oldest_ms / 1000, age,
			     sizeof(age));
		fprintf(q->ctx->out, ", oldest %s", age);
	}
	fputc('\n', q->ctx->out);
}

/* ctl_queue_walk - the outbox or the dead letters, through ctl_queue_print */
static int ctl_queue_walk(struct state *st, MDB_txn *txn, struct ctl_qout *q)
{
	return q->dead ? outbox_dead_foreach(st, txn, ctl_queue_print, q)
		       : outbox_foreach(st, txn, -1, ctl_queue_print, q);
}

/* ctl_queue_list - queue (DEAD false) or dead (DEAD true) */
static int ctl_queue_list(struct ctl_ctx *ctx, const struct cli_args *args,
			  bool dead)
{
	struct ctl_qout q = { .ctx = ctx, .fmt = CTL_FMT_TEXT, .dead = dead };
	struct state *st = NULL;
	MDB_txn *txn = NULL;
	int rc, ex;

	ex = ctl_args_format(ctx, args, CTL_FMT_TEXT | CTL_FMT_JSON, &q.fmt);
	if (ex)
		return ex;
	ex = ctl_state_open(ctx, false, &st);
	if (ex)
		return ex;
	q.addrs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	rc = state_begin(st, false, &txn);
	if (rc) {
		ex = ctl_state_error(ctx, "read", rc);
		goto out;
	}
	if (q.fmt == CTL_FMT_JSON) {
		fputs("[", ctx->out);
		rc = ctl_queue_walk(st, txn, &q);
		fputs("]\n", ctx->out);
	} else {
		q.measure = true;
		q.w_prov = (int)strlen("PROVIDER");
		q.w_op = (int)strlen("OPERATION");
		q.w_addr = (int)strlen("ADDRESS");
		rc = ctl_queue_walk(st, txn, &q);
	}
	if (rc == 0 && q.fmt == CTL_FMT_TEXT && q.n > 0) {
		uint64_t n = q.n;

		q.measure = false;
		q.n = 0;
		fprintf(ctx->out, "%-8s ", "ID");
		ctl_text_pad(ctx->out, "PROVIDER", q.w_prov);
		fprintf(ctx->out, " %-*s %4s %3s  %-24s ", q.w_op, "OPERATION",
			"STEP", "TRY", dead ? "CREATED" : "NEXT TRY");
		ctl_text_pad(ctx->out, "ADDRESS", q.w_addr);
		fprintf(ctx->out, " %s\n", dead ? "REASON" : "LAST ERROR");
		rc = ctl_queue_walk(st, txn, &q);
		q.n = MIN(q.n, n);	/* the same snapshot: the same rows */
	}
	if (rc == 0 && !dead && q.fmt != CTL_FMT_JSON) {
		struct ctl_pause p[CTL_PAUSED_MAX];

		ctl_paused_text(ctx->out, p, ctl_paused(st, txn, ctx->cfg, p,
							CTL_PAUSED_MAX));
	}
	if (rc == 0 && q.fmt == CTL_FMT_TEXT)
		ctl_queue_summary(&q);
	if (rc) {
		ex = ctl_state_error(ctx, dead ? "read the dead letters of" :
					 "read the outbox of", rc);
		goto out;
	}
	ex = EXIT_OK;
out:
	state_abort(txn);
	state_close(st);
	g_hash_table_destroy(q.addrs);
	return ex;
}

const struct cli_opt ctl_opts_queue[] = {
	{ "format", CTL_O_FORMAT, "F", "text (default) or json" },
	{ NULL, 0, NULL, NULL },
};

const struct cli_opt ctl_opts_dead[] = {
	{ "format", CTL_O_FORMAT, "F", "text (default) or json" },
	{ NULL, 0, NULL, NULL },
};

const struct cli_opt ctl_opts_retry[] = {
	{ "all", CTL_O_ALL, NULL, "every dead action" },
	{ NULL, 0, NULL, NULL },
};

int cmd_queue(struct ctl_ctx *ctx, const struct cli_args *args)
{
	return ctl_queue_list(ctx, args, false);
}

int cmd_dead(struct ctl_ctx *ctx, const struct cli_args *args)
{
	return ctl_queue_list(ctx, args, true);
}

struct ctl_pick {
	GArray *want;		/* ids asked for (empty: all) */
	GArray *got;		/* struct action */
};

/* ctl_pick_dead - the dead actions asked for, copied */
static int ctl_pick_dead(const struct action *a, void *arg)
{
	struct ctl_pick *p = arg;
	guint i;

	if (p->want->len == 0) {
		g_array_append_val(p->got, *a);
		return 0;
	}
	for (i = 0; i < p->want->len; i++)
		if (g_array_index(p->want, uint64_t, i) == a->id) {
			g_array_append_val(p->got, *a);
			break;
		}
	return 0;
}

/* ctl_mark_pending - the recipient's entry of A's root is pending again */
static int ctl_mark_pending(struct state *st, MDB_txn *txn,
			    const struct action *a, int64_t now)
{
	struct rcpt r;
	uint32_t i;
	int rc = state_rcpt_get(st, txn, a->addr, &r);

	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	for (i = 0; i < r.n_actions; i++) {
		struct rcpt_action *e = &r.actions[i];

		if (e->root != a->root || strcmp(e->provider, a->provider) != 0)
			continue;
		e->state = ACTION_PENDING;
		e->outstanding++;
		e->time = now;
		return state_rcpt_put(st, txn, a->addr, &r);
	}
	return 0;
}

struct ctl_retry_write {
	const struct action *a;	/* the actions of this transaction */
	size_t n;
	int64_t now;
};

/* ctl_retry_txn - revive the actions of one transaction (state_write_fn) */
static int ctl_retry_txn(struct state *st, MDB_txn *txn, void *arg)
{
	const struct ctl_retry_write *w = arg;
	size_t i;
	int rc;

	for (i = 0; i < w->n; i++) {
		rc = outbox_revive(st, txn, w->a[i].id, w->now * 1000);
		if (rc == 0)
			rc = ctl_mark_pending(st, txn, &w->a[i], w->now);
		if (rc)
			return rc;
	}
	return 0;
}

/* ctl_retry_actions - revive the N actions of A in transactions of at most
   CTL_RETRY_TXN; *DONE counts those committed */
static int ctl_retry_actions(struct ctl_ctx *ctx, struct state *st,
			     const struct action *a, size_t n, uint64_t *done)
{
	struct ctl_retry_write w = { .now = ctx->now };
	size_t i = 0;
	int rc;

	while (i < n) {
		w.a = a + i;
		w.n = n - i < CTL_RETRY_TXN ? n - i : CTL_RETRY_TXN;
		rc = state_write(st, ctl_retry_txn, &w);
		if (rc)
			return ctl_state_error(ctx, "write", rc);
		i += w.n;
		*done += w.n;
	}
	return EXIT_OK;
}

int cmd_retry(struct ctl_ctx *ctx, const struct cli_args *args)
{
	struct ctl_pick pick;
	struct state *st = NULL;
	MDB_txn *txn = NULL;
	uint64_t done = 0;
	bool all = cli_args_count(args, CTL_O_ALL) > 0;
	int i, rc, ex;
	guint k;

	pick.want = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	pick.got = g_array_new(FALSE, FALSE, sizeof(struct action));
	for (i = 0; i < args->n_operands; i++) {
		const char *arg = args->operands[i];
		char *end, clean[64];
		uint64_t v;

		errno = 0;
		v = g_ascii_strtoull(arg, &end, 10);
		if (errno || end == arg || *end || v == 0 ||
		    !g_ascii_isdigit(arg[0])) {
			ex = ctl_usage(ctx, "retry", "'%s' is not an action id "
				       "(see 'bouncectl dead') or --all",
				       ctl_text_clean(arg, clean,
						      sizeof(clean)));
			goto out;
		}
		g_array_append_val(pick.want, v);
	}
	if (all == (pick.want->len > 0)) {
		ex = ctl_usage(ctx, "retry", "give action ids or --all");
		goto out;
	}
	ex = ctl_state_open(ctx, true, &st);
	if (ex)
		goto out;
	rc = state_begin(st, false, &txn);
	if (rc == 0)
		rc = outbox_dead_foreach(st, txn, ctl_pick_dead, &pick);
	state_abort(txn);
	if (rc) {
		ex = ctl_state_error(ctx, "read", rc);
		goto out;
	}
	for (k = 0; k < pick.want->len; k++) {
		uint64_t id = g_array_index(pick.want, uint64_t, k);
		guint j;

		for (j = 0; j < pick.got->len; j++)
			if (g_array_index(pick.got, struct action, j).id == id)
				break;
		if (j == pick.got->len) {
			fprintf(stderr, "%s: retry: no dead action %" PRIu64
				" (see 'bouncectl dead')\n", ctx->prog, id);
			ex = CTL_EXIT_NOADDR;
			goto out;
		}
	}
	ex = ctl_retry_actions(ctx, st, (const struct action *)(void *)
			       pick.got->data, pick.got->len, &done);
	if (done)
		log_info("bouncectl", "%llu dead actions queued again",
			 (unsigned long long)done);
	fprintf(ctx->out, "%llu actions queued again; 'bounced process' or "
		"'bounced run' sends them\n", (unsigned long long)done);
out:
	state_close(st);
	g_array_free(pick.want, TRUE);
	g_array_free(pick.got, TRUE);
	return ex;
}
