/*
 * ctl_list.c - "bouncectl list": every record in address order, filtered
 * by status, update time, domain, category, sender, job id and provider,
 * as aligned text, CSV, one JSON array or one JSON object a line.
 *
 * One read-only transaction for the whole listing (a consistent snapshot
 * that never blocks the worker).  Output is streamed record by record, so
 * memory does not grow with the number of records; text output walks the
 * table twice to align its columns (by what a terminal shows: a UTF-8
 * address takes as many columns as it has characters).  A record that
 * does not decode is skipped with a warning.  Exit 64 for a bad command
 * line, 66 without a state, 74 when the state cannot be read.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "ctl.h"
#include "exitcodes.h"
#include "log.h"
#include "rcpt_rules.h"
#include "state.h"
#include "timeparse.h"

const struct cli_opt ctl_opts_list[] = {
	{ "status", CTL_O_STATUS, "S",
	  "only records of status S: active, soft, hard,\n"
	  "complained, unsubscribed, or suppressed (= hard,\n"
	  "complained and unsubscribed); repeat the option\n"
	  "or separate statuses with commas to take several" },
	{ "since", CTL_O_SINCE, "T",
	  "only records updated at or after T: a time\n"
	  "(2019-02-08, \"2019-02-08 21:54:05+0000\", a Unix\n"
	  "time) or a duration back from now (2h, 7d)" },
	{ "domain", CTL_O_DOMAIN, "D",
	  "only addresses of domain D (an internationalised\n"
	  "one in either form)" },
	{ "category", CTL_O_CATEGORY, "C",
	  "only records whose last bounce category, or the\n"
	  "category of their reason (a complaint's feedback\n"
	  "type), is C" },
	{ "sender", CTL_O_SENDER, "S",
	  "only records whose latest bounce or complaint was\n"
	  "about mail from S (PowerMTA's orig; * and ? match\n"
	  "any text, one character)" },
	{ "job", CTL_O_JOB, "J",
	  "the same for the job id (the campaign:\n"
	  "mailwizz-CAMPAIGNUID for MailWizz; * and ?)" },
	{ "provider", CTL_O_PROVIDER, "NAME",
	  "only addresses provider NAME was asked to act on" },
	{ "limit", CTL_O_LIMIT, "N", "at most N records" },
	{ "format", CTL_O_FORMAT, "F",
	  "text (aligned columns, default), csv (a header\n"
	  "line, LF line ends), json (one array) or jsonl\n"
	  "(one object a line, as postqueue -j)" },
	{ NULL, 0, NULL, NULL },
};

struct list_opts {
	unsigned status_mask;	/* 1 << status of the wanted ones; 0 = all */
	bool since_set;
	int64_t since;		/* updated >= since */
	GPtrArray *domains;	/* normalised; empty = any */
	GPtrArray *categories;
	GPtrArray *senders;	/* lowercased patterns */
	GPtrArray *jobs;	/* patterns */
	GPtrArray *providers;
	uint64_t limit;		/* 0 = none */
	enum ctl_format fmt;
};

struct list_walk {
	const struct ctl_ctx *ctx;
	const struct list_opts *o;
	GString *line;		/* one output line, reused */
	bool measure;		/* text pass 1: column widths only */
	int w_addr, w_cat;	/* column widths */
	uint64_t n;		/* records printed (or measured) */
	int rc;			/* exit code of a failure inside the walk */
};

/* list_provider_known - say on stderr when NAME is no configured provider:
   a typo lists nothing; a provider removed from the configuration (or
   dry-run) is still named by the records that it acted on */
static void list_provider_known(const struct ctl_ctx *ctx, const char *name)
{
	char clean[64];
	size_t i;

	if (strcmp(name, "dry-run") == 0)
		return;
	for (i = 0; i < ctx->cfg->n_providers; i++)
		if (strcmp(ctx->cfg->providers[i].name, name) == 0)
			return;
	fprintf(stderr, "%s: list: note: the configuration has no [provider "
		"%s]; listing the addresses whose records name it\n",
		ctx->prog, ctl_text_clean(name, clean, sizeof(clean)));
}

/* list_opts_free - the filter lists */
static void list_opts_free(struct list_opts *o)
{
	GPtrArray **lists[] = { &o->domains, &o->categories, &o->senders,
				&o->jobs, &o->providers };
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(lists); i++)
		if (*lists[i]) {
			g_ptr_array_free(*lists[i], TRUE);
			*lists[i] = NULL;
		}
}

/* list_filter_value - one value of --domain, --category, --sender, --job
   or --provider into its list; 0 or EXIT_USAGE */
static int list_filter_value(const struct ctl_ctx *ctx, struct list_opts *o,
			     int key, const char *v)
{
	char dom[ADDR_MAX + 1], clean[128];

	switch (key) {
	case CTL_O_DOMAIN:
		if (addr_domain_normalise(v, strlen(v), dom, sizeof(dom)) < 0)
			return ctl_usage(ctx, "list", "--domain '%s' is not a "
					 "domain", ctl_text_clean(v, clean,
								  sizeof(clean)));
		g_ptr_array_add(o->domains, g_strdup(dom));
		break;
	case CTL_O_CATEGORY:
		g_ptr_array_add(o->categories, g_strdup(v));
		break;
	case CTL_O_SENDER:
		g_ptr_array_add(o->senders, g_utf8_strdown(v, -1));
		break;
	case CTL_O_JOB:
		g_ptr_array_add(o->jobs, g_strdup(v));
		break;
	case CTL_O_PROVIDER:
		list_provider_known(ctx, v);
		g_ptr_array_add(o->providers, g_strdup(v));
		break;
	}
	return 0;
}

/* list_limit - the value of --limit; 0 or EXIT_USAGE */
static int list_limit(const struct ctl_ctx *ctx, const char *v, uint64_t *n)
{
	char *end = NULL, clean[64];

	errno = 0;
	*n = g_ascii_strtoull(v, &end, 10);
	if (errno || end == v || *end || *n == 0 || !g_ascii_isdigit(v[0]))
		return ctl_usage(ctx, "list", "--limit takes a number of "
				 "records from 1 up, not '%s'",
				 ctl_text_clean(v, clean, sizeof(clean)));
	return 0;
}

/* list_args - the options of list; 0 or EXIT_USAGE */
static int list_args(struct ctl_ctx *ctx, const struct cli_args *a,
		     struct list_opts *o)
{
	const char *fmt_s = NULL;
	size_t i;
	int rc = 0;

	memset(o, 0, sizeof(*o));
	o->fmt = CTL_FMT_TEXT;
	o->domains = g_ptr_array_new_with_free_func(g_free);
	o->categories = g_ptr_array_new_with_free_func(g_free);
	o->senders = g_ptr_array_new_with_free_func(g_free);
	o->jobs = g_ptr_array_new_with_free_func(g_free);
	o->providers = g_ptr_array_new_with_free_func(g_free);
	for (i = 0; rc == 0 && i < a->n_opts; i++) {
		const char *v = a->opts[i].value;

		switch (a->opts[i].key) {
		case CTL_O_STATUS:
			rc = ctl_status_mask(ctx, "list", v,
					     (1u << RCPT_STATUS_COUNT) - 1,
					     "active, soft, hard, complained, "
					     "unsubscribed or suppressed",
					     &o->status_mask);
			break;
		case CTL_O_SINCE:
			if (timeparse_since(v, ctx->now, &o->since) != 0)
				rc = ctl_usage(ctx, "list",
					       "bad --since value '%s' (a time "
					       "like 2019-02-08 or a duration "
					       "like 7d)", v);
			o->since_set = true;
			break;
		case CTL_O_LIMIT:
			rc = list_limit(ctx, v, &o->limit);
			break;
		case CTL_O_FORMAT:
			fmt_s = v;
			break;
		default:
			rc = list_filter_value(ctx, o, a->opts[i].key, v);
			break;
		}
	}
	if (rc == 0)
		rc = ctl_args_none(ctx, a);
	if (rc == 0 && fmt_s)
		rc = ctl_parse_format(ctx, "list", fmt_s,
				      CTL_FMT_TEXT | CTL_FMT_CSV | CTL_FMT_JSON |
				      CTL_FMT_JSONL, &o->fmt);
	return rc;
}

/* list_any - does TEXT match one of WANT (none wanted: yes)?  Patterns
   with '*' or '?' are globs, others compared whole; FOLD compares
   without case (TEXT is then lowered first) */
static bool list_any(const GPtrArray *want, const char *text, bool fold)
{
	char *low = NULL;
	bool hit = false;
	guint i;

	if (want->len == 0)
		return true;
	if (fold)
		text = low = g_utf8_strdown(text, -1);
	for (i = 0; i < want->len && !hit; i++) {
		const char *w = want->pdata[i];

		if (strpbrk(w, "*?"))
			hit = g_pattern_match_simple(w, text);
		else
			hit = strcmp(w, text) == 0;
	}
	g_free(low);
	return hit;
}

/* list_provider - has R an action entry for one of the providers? */
static bool list_provider(const GPtrArray *want, const struct rcpt *r)
{
	uint32_t i, n = MIN(r->n_actions, RCPT_ACTIONS_MAX);
	guint k;

	if (want->len == 0)
		return true;
	for (i = 0; i < n; i++)
		for (k = 0; k < want->len; k++)
			if (strcmp(r->actions[i].provider, want->pdata[k]) == 0)
				return true;
	return false;
}

/* list_category - the last bounce category or the reason's category */
static bool list_category(const GPtrArray *want, const struct rcpt *r)
{
	guint k;

	if (want->len == 0)
		return true;
	for (k = 0; k < want->len; k++) {
		const char *c = want->pdata[k];

		if (strcasecmp(r->last_category, c) == 0 ||
		    (rcpt_is_suppressed(r) &&
		     strcasecmp(r->reason.category, c) == 0))
			return true;
	}
	return false;
}

/* list_match - does the record of ADDR pass the filters? */
static bool list_match(const struct list_opts *o, const char *addr,
		       const struct rcpt *r)
{
	const struct rcpt_reason *why = ctl_rcpt_origin(r);

	if (o->status_mask && (r->status >= 32 ||
			       !(o->status_mask & (1u << r->status))))
		return false;
	if (o->since_set && r->updated < o->since)
		return false;
	if (o->domains->len && !list_any(o->domains, addr_domain(addr), false))
		return false;
	return list_category(o->categories, r) &&
	       list_any(o->senders, why->orig, true) &&
	       list_any(o->jobs, why->job_id, false) &&
	       list_provider(o->providers, r);
}

/* list_text - one aligned row (or just its widths in pass 1) */
static void list_text(struct list_walk *w, const char *addr,
		      const struct rcpt *r)
{
	char cat[sizeof(r->last_category)], a[ADDR_MAX + 1], t[64];
	FILE *out = w->ctx->out;
	int la, lc;

	ctl_text_clean(addr, a, sizeof(a));
	ctl_text_clean(r->last_category[0] ? r->last_category : "-", cat,
		       sizeof(cat));
	if (w->measure) {
		la = ctl_text_width(a);
		lc = ctl_text_width(cat);
		w->w_addr = MAX(w->w_addr, la);
		w->w_cat = MAX(w->w_cat, lc);
		return;
	}
	ctl_time_text(r->updated, t, sizeof(t));
	ctl_text_pad(out, a, w->w_addr);
	fprintf(out, "  %-12s  %4u  ", ctl_status_name(r->status), r->n_soft);
	ctl_text_pad(out, cat, w->w_cat);
	fprintf(out, "  %s\n", t);
}

/* list_csv - one CSV row (RFC 4180 quoting, LF line end) */
static void list_csv(struct list_walk *w, const char *addr,
		     const struct rcpt *r)
{
	const struct rcpt_reason *rs = rcpt_is_suppressed(r) ? &r->reason : NULL;
	GString *l = w->line;
	char t[32];

	g_string_truncate(l, 0);
	ctl_csv_field(l, addr);
	g_string_append_printf(l, ",%s,%u,", ctl_status_name(r->status),
			       r->n_soft);
	ctl_csv_field(l, r->last_category);
	ctl_time_rfc3339(r->updated, t, sizeof(t));
	g_string_append_printf(l, ",%s,%s,", t,
			       r->escalated ? "true" : "false");
	if (rs) {
		ctl_csv_field(l, rs->source);
		g_string_append_printf(l, ",%llu,",
				       (unsigned long long)rs->line);
		ctl_csv_field(l, rs->dsn_status);
		g_string_append_c(l, ',');
		ctl_csv_field(l, rs->dsn_diag);
	} else {
		g_string_append(l, ",,,");
	}
	g_string_append_c(l, '\n');
	fwrite(l->str, 1, l->len, w->ctx->out);
}

/* list_json - one object of the streamed array, or one line of jsonl;
   0 or EXIT_SOFTWARE */
static int list_json(struct list_walk *w, const char *addr,
		     const struct rcpt *r)
{
	cJSON *o = ctl_json_rcpt(addr, r, false);
	char *s = o ? cJSON_PrintUnformatted(o) : NULL;
	int rc = 0;

	if (!s) {
		fprintf(stderr, "%s: list: out of memory at '%s'\n",
			w->ctx->prog, addr);
		rc = EXIT_SOFTWARE;
		goto out;
	}
	if (w->o->fmt == CTL_FMT_JSONL)
		fprintf(w->ctx->out, "%s\n", s);
	else
		fprintf(w->ctx->out, "%s%s", w->n ? ",\n" : "\n", s);
out:
	cJSON_free(s);
	cJSON_Delete(o);
	return rc;
}

/* list_cb - state_rcpt_foreach callback: filter and print one record;
   1 stops the walk (the limit reached, or a failure in W->rc) */
static int list_cb(const char *key, size_t keylen, const struct rcpt *r,
		   void *arg)
{
	struct list_walk *w = arg;
	char addr[ADDR_MAX + 1];

	if (ctl_key_copy(key, keylen, addr, sizeof(addr)) != 0) {
		if (!w->measure)
			log_warn("ctl", "a key of %zu bytes in the rcpt table is "
				 "not an address; skipped", keylen);
		return 0;
	}
	if (!r) {
		if (!w->measure)
			log_warn("ctl", "the record of '%s' does not decode; "
				 "skipped", addr);
		return 0;
	}
	if (!list_match(w->o, addr, r))
		return 0;
	switch (w->o->fmt) {
	case CTL_FMT_TEXT:
		list_text(w, addr, r);
		break;
	case CTL_FMT_CSV:
		list_csv(w, addr, r);
		break;
	case CTL_FMT_JSON:
	case CTL_FMT_JSONL:
		w->rc = list_json(w, addr, r);
		if (w->rc != 0)
			return 1;
		break;
	}
	w->n++;
	return w->o->limit && w->n >= w->o->limit ? 1 : 0;
}

/* list_walk_all - the header, every matching record, the trailer */
static int list_walk_all(struct list_walk *w, struct state *st, MDB_txn *txn)
{
	FILE *out = w->ctx->out;
	int rc;

	if (w->o->fmt == CTL_FMT_TEXT) {
		w->measure = true;
		w->w_addr = (int)strlen("ADDRESS");
		w->w_cat = (int)strlen("CATEGORY");
		rc = state_rcpt_foreach(st, txn, NULL, list_cb, w);
		if (rc < 0)
			return rc;
		w->measure = false;
		w->n = 0;
		ctl_text_pad(out, "ADDRESS", w->w_addr);
		fprintf(out, "  %-12s  %4s  ", "STATUS", "SOFT");
		ctl_text_pad(out, "CATEGORY", w->w_cat);
		fputs("  UPDATED\n", out);
	} else if (w->o->fmt == CTL_FMT_CSV) {
		fputs("address,status,soft_count,category,updated,escalated,"
		      "reason_source,reason_line,dsn_status,dsn_diag\n", out);
	} else if (w->o->fmt == CTL_FMT_JSON) {
		fputs("[", out);
	}
	rc = state_rcpt_foreach(st, txn, NULL, list_cb, w);
	if (rc < 0)
		return rc;
	if (w->o->fmt == CTL_FMT_JSON && w->rc == 0)
		fputs(w->n ? "\n]\n" : "]\n", out);
	return 0;
}

int cmd_list(struct ctl_ctx *ctx, const struct cli_args *args)
{
	struct list_opts o;
	struct list_walk w;
	struct state *st = NULL;
	MDB_txn *txn = NULL;
	int rc;

	memset(&w, 0, sizeof(w));
	rc = list_args(ctx, args, &o);
	if (rc != 0)
		goto out;
	rc = ctl_state_open(ctx, false, &st);
	if (rc != 0)
		goto out;
	w.ctx = ctx;
	w.o = &o;
	w.line = g_string_sized_new(1024);
	rc = state_begin(st, false, &txn);
	if (rc != 0) {
		rc = ctl_state_error(ctx, "read", rc);
		goto out;
	}
	rc = list_walk_all(&w, st, txn);
	state_abort(txn);
	if (rc < 0)
		rc = ctl_state_error(ctx, "read", rc);
	else
		rc = w.rc;
out:
	if (w.line)
		g_string_free(w.line, TRUE);
	list_opts_free(&o);
	state_close(st);
	return rc;
}
