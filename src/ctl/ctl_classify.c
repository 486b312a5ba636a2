/*
 * ctl_classify.c - "bouncectl classify --dry-run": the stored history
 * judged again under the configuration given (its [classify] lists and
 * rules), and how many addresses would change status, before anything is
 * applied.
 *
 * Each record's bounces are classified again from what the record keeps
 * of them: the bounce that made it hard (a hard bounce read, not an
 * escalation: `bouncectl reevaluate` re-judges escalations) and its
 * latest soft bounce.  A hard address whose bounce is no longer hard
 * would go back (to soft or active); a soft or active one whose latest
 * soft bounce is hard now would become hard.  Complaints and unsubscribes
 * do not depend on classification.  The category a record keeps is the
 * one the rules of its time gave (PowerMTA's own is not kept when a rule
 * renamed it).
 *
 * One read-only transaction; nothing is written.  Exit 64 for a bad
 * command line (classify without --dry-run), 66 without a state, 74 when
 * it cannot be read, 78 when the configuration's rules do not compile.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <glib.h>

#include "classify.h"
#include "classify_override.h"
#include "config.h"
#include "ctl.h"
#include "exitcodes.h"
#include "plan.h"
#include "state.h"

const struct cli_opt ctl_opts_classify[] = {
	{ "dry-run", 'n', NULL,
	  "judge the stored history under this configuration, apply nothing" },
	{ "format", CTL_O_FORMAT, "F", "text (default) or json" },
	{ NULL, 0, NULL, NULL },
};

#define CLS_EXAMPLES 5

struct cls_walk {
	struct classify_rules rules;
	uint64_t records, undecodable;
	uint64_t hard_back;	/* hard, their bounce no longer hard */
	uint64_t to_hard;	/* soft/active, their latest soft bounce hard */
	uint64_t *by_rule;	/* to_hard or hard_back by the rule that
				   named the new category (+1: none) */
	size_t nrules;
	char *ex_back[CLS_EXAMPLES], *ex_hard[CLS_EXAMPLES];
	size_t n_ex_back, n_ex_hard;
};

/* cls_class - the class REASON's bounce has under W's rules; RULE the
   rule that named its category (index + 1, 0 none) */
static enum event_class cls_class(const struct cls_walk *w,
				  const struct rcpt_reason *reason,
				  uint16_t *rule)
{
	struct event ev;

	plan_reason_event(&ev, reason, CLASS_IGNORE);
	ev.klass = CLASS_IGNORE;
	classify_event(&w->rules, &ev);
	*rule = ev.rule_hit;
	return ev.klass;
}

/* cls_bounce - is KIND a bounce record's? */
static bool cls_bounce(uint8_t kind)
{
	return kind == EV_BOUNCE || kind == EV_REMOTE_BOUNCE;
}

/* cls_note - one more address of a kind, its example kept */
static void cls_note(struct cls_walk *w, uint64_t *n, char **ex, size_t *nex,
		     const char *addr, size_t len, uint16_t rule)
{
	(*n)++;
	if (rule <= w->nrules)
		w->by_rule[rule]++;
	if (*nex < CLS_EXAMPLES)
		ex[(*nex)++] = g_strndup(addr, len);
}

static int cls_cb(const char *addr, size_t len, const struct rcpt *r,
		  void *arg)
{
	struct cls_walk *w = arg;
	uint16_t rule = 0;

	if (!r) {
		w->undecodable++;
		return 0;
	}
	w->records++;
	if (r->status == RCPT_HARD && !r->escalated &&
	    cls_bounce(r->reason.kind)) {
		if (cls_class(w, &r->reason, &rule) != CLASS_HARD)
			cls_note(w, &w->hard_back, w->ex_back, &w->n_ex_back,
				 addr, len, rule);
	} else if ((r->status == RCPT_SOFT || r->status == RCPT_ACTIVE) &&
		   r->last_soft.time && cls_bounce(r->last_soft.kind)) {
		if (cls_class(w, &r->last_soft, &rule) == CLASS_HARD)
			cls_note(w, &w->to_hard, w->ex_hard, &w->n_ex_hard,
				 addr, len, rule);
	}
	return 0;
}

/* cls_text - the result as text */
static void cls_text(FILE *out, const struct cls_walk *w,
		     const struct classify_overrides *o)
{
	size_t i;

	fprintf(out, "addresses read: %llu\n",
		(unsigned long long)w->records);
	fprintf(out, "would change:   %llu (nothing was applied)\n",
		(unsigned long long)(w->hard_back + w->to_hard));
	fprintf(out, "  hard -> soft or active: %llu (the bounce that made them "
		"hard is not hard now)\n", (unsigned long long)w->hard_back);
	for (i = 0; i < w->n_ex_back; i++)
		fprintf(out, "    e.g. %s\n", w->ex_back[i]);
	fprintf(out, "  soft or active -> hard: %llu (their latest soft bounce "
		"is hard now)\n", (unsigned long long)w->to_hard);
	for (i = 0; i < w->n_ex_hard; i++)
		fprintf(out, "    e.g. %s\n", w->ex_hard[i]);
	fprintf(out, "by the rule that named the new category:\n");
	for (i = 0; i < w->nrules; i++)
		if (w->by_rule[i + 1])
			fprintf(out, "  %10llu  %s\n",
				(unsigned long long)w->by_rule[i + 1],
				classify_overrides_text(o, i));
	if (w->by_rule[0])
		fprintf(out, "  %10llu  (no rule: the category lists)\n",
			(unsigned long long)w->by_rule[0]);
	if (w->undecodable)
		fprintf(out, "records that do not decode: %llu\n",
			(unsigned long long)w->undecodable);
}

/* cls_json - the result as one object (NULL on ENOMEM) */
static cJSON *cls_json(const struct cls_walk *w,
		       const struct classify_overrides *o)
{
	cJSON *j = cJSON_CreateObject(), *rules;
	size_t i;
	bool ok = j &&
		cJSON_AddNumberToObject(j, "addresses", (double)w->records) &&
		cJSON_AddNumberToObject(j, "would_change",
					(double)(w->hard_back + w->to_hard)) &&
		cJSON_AddNumberToObject(j, "hard_to_soft",
					(double)w->hard_back) &&
		cJSON_AddNumberToObject(j, "to_hard", (double)w->to_hard) &&
		cJSON_AddNumberToObject(j, "undecodable",
					(double)w->undecodable) &&
		(rules = cJSON_AddArrayToObject(j, "by_rule")) != NULL;

	for (i = 0; ok && i <= w->nrules; i++) {
		cJSON *r;

		if (!w->by_rule[i])
			continue;
		r = cJSON_CreateObject();
		ok = r && cJSON_AddItemToArray(rules, r);
		if (!ok) {
			cJSON_Delete(r);
			break;
		}
		ok = (i ? cJSON_AddItemToObject(r, "rule", ctl_json_string(
				  classify_overrides_text(o, i - 1))) :
			  cJSON_AddNullToObject(r, "rule") != NULL) &&
		     cJSON_AddNumberToObject(r, "addresses",
					     (double)w->by_rule[i]);
	}
	if (!ok) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

int cmd_classify(struct ctl_ctx *ctx, const struct cli_args *a)
{
	enum ctl_format fmt = CTL_FMT_TEXT;
	struct classify_overrides *o = NULL;
	struct cls_walk w;
	struct state *st = NULL;
	MDB_txn *txn = NULL;
	bool dry = false;
	char err[512];
	size_t i;
	int rc = 0;

	memset(&w, 0, sizeof(w));
	for (i = 0; i < a->n_opts && rc == 0; i++) {
		if (a->opts[i].key == 'n')
			dry = true;
		else if (a->opts[i].key == CTL_O_FORMAT)
			rc = ctl_parse_format(ctx, "classify", a->opts[i].value,
					      CTL_FMT_TEXT | CTL_FMT_JSON, &fmt);
	}
	if (rc)
		return rc;
	if (!dry || a->n_operands)
		return ctl_usage(ctx, "classify", "only --dry-run exists: a "
				 "changed classification applies to what "
				 "bounced reads from then on (bouncectl "
				 "reevaluate re-judges escalations)");
	if (classify_overrides_parse(ctx->cfg->classify_rules, &o, err,
				     sizeof(err)) != 0) {
		fprintf(stderr, "%s: [classify] rules: %s\n", ctx->prog, err);
		return EXIT_CONFIG;
	}
	classify_rules_from_config(&w.rules, ctx->cfg);
	w.rules.over = o;
	w.nrules = classify_overrides_count(o);
	w.by_rule = g_new0(uint64_t, w.nrules + 1);
	rc = ctl_read_begin(ctx, &st, &txn);
	if (rc == 0) {
		rc = state_rcpt_foreach(st, txn, NULL, cls_cb, &w);
		if (rc)
			rc = ctl_state_error(ctx, "read", rc);
	}
	ctl_read_end(st, txn);
	if (rc == 0 && fmt == CTL_FMT_JSON) {
		cJSON *j = cls_json(&w, o);

		if (!j)
			fprintf(stderr, "%s: classify: out of memory\n",
				ctx->prog);
		rc = j ? ctl_json_out(ctx, j) : EXIT_SOFTWARE;
		cJSON_Delete(j);
	} else if (rc == 0) {
		cls_text(ctx->out, &w, o);
	}
	for (i = 0; i < w.n_ex_back; i++)
		g_free(w.ex_back[i]);
	for (i = 0; i < w.n_ex_hard; i++)
		g_free(w.ex_hard[i]);
	g_free(w.by_rule);
	classify_overrides_free(o);
	return rc;
}
