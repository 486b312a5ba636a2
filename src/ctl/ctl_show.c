/*
 * ctl_show.c - "bouncectl show ADDR": the record of one address and why it
 * has its status, as text for people or a JSON object.
 *
 * One read-only transaction, closed before anything is printed.  Exit 64
 * for a bad command line or an ADDR that is not an address, 66 without a
 * state, 67 when there is no record, 74 when the state cannot be read.
 * Strings from the record are cleaned of control bytes before they reach a
 * terminal.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "addr.h"
#include "ctl.h"
#include "exitcodes.h"
#include "rcpt_dropped.h"
#include "rcpt_rules.h"
#include "state.h"

#define SHOW_CLEAN_MAX 1024	/* longer than any string of a record */

/* where the source files of a record's reasons are now */
struct show_where {
	enum ctl_where reason, last_soft;
	char reason_now[PATH_MAX], last_soft_now[PATH_MAX];
};

/* show_field - "  LABEL: VALUE" with VALUE cleaned, "-" when empty */
static void show_field(FILE *out, const char *label, const char *value)
{
	char clean[SHOW_CLEAN_MAX];

	fprintf(out, "  %-13s %s\n", label,
		value && *value ? ctl_text_clean(value, clean, sizeof(clean)) :
				  "-");
}

/* show_reason - the record that explains a status, under HEADING; its
   source file is now where W and NOW say */
static void show_reason(FILE *out, const char *heading,
			const struct rcpt_reason *rs, enum ctl_where w,
			const char *now)
{
	char clean[SHOW_CLEAN_MAX], t[64], buf[PATH_MAX + 16];

	fprintf(out, "%-15s %s record, %s line %llu", heading,
		ctl_kind_name(rs->kind),
		rs->source[0] ? ctl_text_clean(rs->source, clean, sizeof(clean)) :
				"(unknown source)",
		(unsigned long long)rs->line);
	fprintf(out, "%s\n", ctl_text_clean(ctl_where_text(w, now, buf,
							   sizeof(buf)),
					    clean, sizeof(clean)));
	show_field(out, "category:", rs->category);
	show_field(out, "dsn status:", rs->dsn_status);
	show_field(out, "dsn text:", rs->dsn_diag);
	show_field(out, "sender:", rs->orig);
	show_field(out, "vmta:", rs->vmta);
	show_field(out, "job id:", rs->job_id);
	ctl_time_text(rs->time, t, sizeof(t));
	show_field(out, "time:", t);
}

/* show_why - the status line and what explains it */
static void show_why(FILE *out, const struct rcpt *r,
		     const struct show_where *sw)
{
	uint32_t n = r->n_soft < RCPT_SOFT_MAX ? r->n_soft : RCPT_SOFT_MAX;
	char t1[64], t2[64];

	if (r->status_time) {
		ctl_time_text(r->status_time, t1, sizeof(t1));
		fprintf(out, "%-15s %s since %s\n", "status:",
			ctl_status_name(r->status), t1);
	} else {
		fprintf(out, "%-15s %s\n", "status:", ctl_status_name(r->status));
	}
	if (r->status == RCPT_HARD && r->escalated) {
		ctl_time_text(n ? r->soft_times[0] : 0, t1, sizeof(t1));
		ctl_time_text(n ? r->soft_times[n - 1] : 0, t2, sizeof(t2));
		fprintf(out,
			"%-15s escalated to hard after %u soft bounces from %s to %s\n",
			"why:", n, t1, t2);
		if (!ctl_reason_empty(&r->last_soft))
			show_reason(out, "last soft:", &r->last_soft,
				    sw->last_soft, sw->last_soft_now);
		return;
	}
	if (rcpt_is_suppressed(r)) {
		show_reason(out, "reason:", &r->reason, sw->reason,
			    sw->reason_now);
		return;
	}
	if (r->status == RCPT_SOFT && !ctl_reason_empty(&r->last_soft))
		show_reason(out, "last soft:", &r->last_soft, sw->last_soft,
			    sw->last_soft_now);
}

/* show_dropped - the held hard bounces an incident did not apply, by
   the spans the record keeps of them (a bounce of such a span read again
   is a duplicate) */
static void show_dropped(FILE *out, const struct rcpt *r)
{
	uint32_t i, n = rcpt_dropped_count(r);
	char t1[64], t2[64];

	for (i = 0; i < n; i++) {
		ctl_time_text(r->dropped[i].from, t1, sizeof(t1));
		ctl_time_text(r->dropped[i].to, t2, sizeof(t2));
		fprintf(out, "%-15s incident %llu's source, %s to %s: not "
			"applied when read again\n",
			i ? "" : "held, dropped:",
			(unsigned long long)r->dropped[i].incident, t1, t2);
	}
}

/* show_history - counters, soft times and actions */
static void show_history(FILE *out, const struct rcpt *r)
{
	uint32_t i, n = r->n_soft < RCPT_SOFT_MAX ? r->n_soft : RCPT_SOFT_MAX;
	uint32_t na = r->n_actions < RCPT_ACTIONS_MAX ? r->n_actions :
							RCPT_ACTIONS_MAX;
	char clean[SHOW_CLEAN_MAX], clean2[SHOW_CLEAN_MAX], t1[64], t2[64];

	ctl_time_text(r->first_seen, t1, sizeof(t1));
	fprintf(out, "%-15s %s\n", "first seen:", t1);
	ctl_time_text(r->updated, t1, sizeof(t1));
	fprintf(out, "%-15s %s\n", "updated:", t1);
	fprintf(out, "%-15s %s\n", "category:",
		r->last_category[0] ? ctl_text_clean(r->last_category, clean,
						     sizeof(clean)) : "-");
	fprintf(out,
		"%-15s %u hard, %u soft, %u complaint, %u unsub, %u delivery, "
		"%u duplicate, %u other\n",
		"events:", r->cnt_hard, r->cnt_soft, r->cnt_complaint,
		r->cnt_unsub, r->cnt_delivery, r->cnt_duplicate, r->cnt_other);
	if (n == 0) {
		fprintf(out, "%-15s none kept\n", "soft bounces:");
	} else {
		ctl_time_text(r->soft_times[0], t1, sizeof(t1));
		ctl_time_text(r->soft_times[n - 1], t2, sizeof(t2));
		fprintf(out, "%-15s %u kept, first %s, last %s\n",
			"soft bounces:", n, t1, t2);
		for (i = 0; i < n; i++) {
			ctl_time_text(r->soft_times[i], t1, sizeof(t1));
			fprintf(out, "  %s%s\n", t1,
				r->soft_async[i] ? "  (rb: after an acceptance)"
						 : "");
		}
	}
	show_dropped(out, r);
	if (na == 0) {
		fprintf(out, "%-15s none\n", "actions:");
		return;
	}
	fprintf(out, "actions:\n");
	for (i = 0; i < na; i++) {
		const struct rcpt_action *a = &r->actions[i];

		ctl_time_text(a->time, t1, sizeof(t1));
		fprintf(out, "  %-16s %-12s %-8s %s%s%s\n",
			ctl_text_clean(a->provider, clean, sizeof(clean)),
			ctl_op_name(a->op), ctl_action_state_name(a->state), t1,
			a->campaign_id[0] ? "  campaign " : "",
			a->campaign_id[0] ?
				ctl_text_clean(a->campaign_id, clean2,
					       sizeof(clean2)) : "");
	}
}

/* show_text - the whole record for people */
static void show_text(FILE *out, const char *addr, const struct rcpt *r,
		      const struct show_where *sw)
{
	char clean[SHOW_CLEAN_MAX];

	fprintf(out, "%-15s %s\n", "address:",
		ctl_text_clean(addr, clean, sizeof(clean)));
	show_why(out, r, sw);
	show_history(out, r);
	if (r->notice_time) {
		char t1[64];

		ctl_time_text(r->notice_time, t1, sizeof(t1));
		fprintf(out, "%-15s %s: %s\n", "notice:", t1,
			ctl_text_clean(r->notice, clean, sizeof(clean)));
	}
}

/* show_json_now - "now" (where the source file is, or null) in the
   reason object NAME of O, when there is one */
static void show_json_now(cJSON *o, const char *name, enum ctl_where w,
			  const char *now)
{
	cJSON *rs = o ? cJSON_GetObjectItemCaseSensitive(o, name) : NULL;

	if (!cJSON_IsObject(rs))
		return;
	cJSON_AddItemToObject(rs, "now", (w == CTL_WHERE_HERE ||
					  w == CTL_WHERE_MOVED) ?
					 ctl_json_string(now) :
					 cJSON_CreateNull());
}

/* show_json - the record as one JSON object; 0 or EXIT_SOFTWARE */
static int show_json(const struct ctl_ctx *ctx, const char *addr,
		     const struct rcpt *r, const struct show_where *sw)
{
	cJSON *o = ctl_json_rcpt(addr, r, true);
	char *s;
	int rc = EXIT_OK;

	show_json_now(o, "reason", sw->reason, sw->reason_now);
	show_json_now(o, "last_soft", sw->last_soft, sw->last_soft_now);
	s = o ? cJSON_Print(o) : NULL;

	if (!s) {
		fprintf(stderr, "%s: show: out of memory\n", ctx->prog);
		rc = EXIT_SOFTWARE;
		goto out;
	}
	fprintf(ctx->out, "%s\n", s);
out:
	cJSON_free(s);
	cJSON_Delete(o);
	return rc;
}

/* show_where_one - where the source of RS is now */
static enum ctl_where show_where_one(const struct ctl_ctx *ctx,
				     struct state *st, MDB_txn *txn,
				     const struct rcpt_reason *rs, char *now,
				     size_t len)
{
	struct file_rec f;

	now[0] = '\0';
	if (ctl_reason_empty(rs) || rs->source[0] != '/')
		return CTL_WHERE_STREAM;
	return ctl_file_where(ctx->cfg, rs->source,
			      state_file_get(st, txn, rs->source, &f) == 0 ?
			      &f : NULL, now, len);
}

/* show_where_find - where the sources of R's reasons are now */
static void show_where_find(const struct ctl_ctx *ctx, struct state *st,
			    MDB_txn *txn, const struct rcpt *r,
			    struct show_where *sw)
{
	sw->reason = show_where_one(ctx, st, txn, &r->reason, sw->reason_now,
				    sizeof(sw->reason_now));
	sw->last_soft = show_where_one(ctx, st, txn, &r->last_soft,
				       sw->last_soft_now,
				       sizeof(sw->last_soft_now));
}

const struct cli_opt ctl_opts_show[] = {
	{ "format", CTL_O_FORMAT, "F", "text (default) or json" },
	{ NULL, 0, NULL, NULL },
};

/* show_args - ADDR and --format; 0 or EXIT_USAGE */
static int show_args(struct ctl_ctx *ctx, const struct cli_args *a,
		     const char **addr, enum ctl_format *fmt)
{
	const char *fmt_s = NULL;
	int ex = ctl_args_addr(ctx, a, CTL_O_FORMAT, addr, &fmt_s);

	if (ex)
		return ex;
	*fmt = CTL_FMT_TEXT;
	if (fmt_s)
		return ctl_parse_format(ctx, "show", fmt_s,
					CTL_FMT_TEXT | CTL_FMT_JSON, fmt);
	return 0;
}

int cmd_show(struct ctl_ctx *ctx, const struct cli_args *args)
{
	char addr[ADDR_MAX + 1];
	const char *arg;
	enum ctl_format fmt;
	struct state *st = NULL;
	MDB_txn *txn = NULL;
	struct show_where sw;
	struct rcpt r;
	int rc;

	rc = show_args(ctx, args, &arg, &fmt);
	if (rc != 0)
		return rc;
	rc = ctl_addr_arg(ctx, arg, addr);
	if (rc != 0)
		return rc;
	rc = ctl_state_open(ctx, false, &st);
	if (rc != 0)
		return rc;
	rc = state_begin(st, false, &txn);
	if (rc != 0) {
		rc = ctl_state_error(ctx, "read", rc);
		goto out;
	}
	rc = state_rcpt_get(st, txn, addr, &r);
	if (rc == 0)
		show_where_find(ctx, st, txn, &r, &sw);
	state_abort(txn);
	if (rc == -ENOENT) {
		fprintf(stderr, "%s: no record for '%s'\n", ctx->prog, addr);
		rc = CTL_EXIT_NOADDR;
		goto out;
	}
	if (rc != 0) {
		fprintf(stderr, "%s: cannot read the record of '%s' in %s: %s\n",
			ctx->prog, addr, ctx->cfg->state, state_strerror(rc));
		rc = EXIT_IOERR;
		goto out;
	}
	if (fmt == CTL_FMT_JSON) {
		rc = show_json(ctx, addr, &r, &sw);
	} else {
		show_text(ctx->out, addr, &r, &sw);
		rc = EXIT_OK;
	}
out:
	state_close(st);
	return rc;
}
