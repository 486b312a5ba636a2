/*
 * ctl_list.c - "bouncectl list": every record in address order, filtered
 * by status and by update time, as aligned text, RFC 4180 CSV or one JSON
 * array.
 *
 * One read-only transaction for the whole listing (a consistent snapshot
 * that never blocks the worker).  Output is streamed record by record, so
 * memory does not grow with the number of records; text output walks the
 * table twice to align its columns.  A record that does not decode is
 * skipped with a warning.  Exit 64 for a bad command line, 66 without a
 * state, 74 when the state cannot be read.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "ctl.h"
#include "exitcodes.h"
#include "log.h"
#include "rcpt_rules.h"
#include "state.h"
#include "timeparse.h"

#define LIST_SUPPRESSED                                                        \
	((1u << RCPT_HARD) | (1u << RCPT_COMPLAINED) |                         \
	 (1u << RCPT_UNSUBSCRIBED))

struct list_opts {
	unsigned status_mask;	/* 1 << status of the wanted ones; 0 = all */
	bool since_set;
	int64_t since;		/* updated >= since */
	enum ctl_format fmt;
};

struct list_walk {
	const struct ctl_ctx *ctx;
	const struct list_opts *o;
	GString *line;		/* one output line, reused */
	bool measure;		/* text pass 1: column widths only */
	int w_addr, w_cat;	/* column widths */
	uint64_t n;		/* records printed */
	int rc;			/* exit code of a failure inside the walk */
};

/* list_add_status - one --status value (comma-separated names) */
static int list_add_status(const struct ctl_ctx *ctx, const char *value,
			   unsigned *mask)
{
	gchar **names = g_strsplit(value, ",", -1);
	int rc = 0, s;
	size_t i;

	for (i = 0; names[i]; i++) {
		const char *name = g_strstrip(names[i]);

		if (strcasecmp(name, "suppressed") == 0) {
			*mask |= LIST_SUPPRESSED;
			continue;
		}
		s = rcpt_status_parse(name);
		if (s < 0 || s >= RCPT_STATUS_COUNT) {
			rc = ctl_usage(ctx, "list",
				       "unknown status '%s' (active, soft, hard, "
				       "complained, unsubscribed or suppressed)",
				       name);
			break;
		}
		*mask |= 1u << s;
	}
	g_strfreev(names);
	return rc;
}

/* list_args - the options of list; 0 or EXIT_USAGE */
static int list_args(struct ctl_ctx *ctx, int argc, char **argv,
		     struct list_opts *o)
{
	const char *v_s, *fmt_s = NULL;
	int i, v, rc;

	memset(o, 0, sizeof(*o));
	o->fmt = CTL_FMT_TEXT;
	for (i = 1; i < argc; i++) {
		v = cli_opt_value(ctx->prog, argc, argv, &i, "--status", &v_s);
		if (v > 0) {
			rc = list_add_status(ctx, v_s, &o->status_mask);
			if (rc != 0)
				return rc;
			continue;
		}
		if (v == 0)
			v = cli_opt_value(ctx->prog, argc, argv, &i, "--since",
					  &v_s);
		if (v > 0) {
			if (timeparse_since(v_s, ctx->now, &o->since) != 0)
				return ctl_usage(ctx, "list",
						 "bad --since value '%s' (a time "
						 "like 2019-02-08 or a duration "
						 "like 7d)", v_s);
			o->since_set = true;
			continue;
		}
		if (v == 0)
			v = cli_opt_value(ctx->prog, argc, argv, &i, "--format",
					  &fmt_s);
		if (v < 0)
			return EXIT_USAGE;
		if (v > 0)
			continue;
		return ctl_usage(ctx, "list", "unexpected argument '%s'",
				 argv[i]);
	}
	if (fmt_s)
		return ctl_parse_format(ctx, "list", fmt_s,
					CTL_FMT_TEXT | CTL_FMT_CSV | CTL_FMT_JSON,
					&o->fmt);
	return 0;
}

/* list_match - does R pass the filters? */
static bool list_match(const struct list_opts *o, const struct rcpt *r)
{
	if (o->status_mask && (r->status >= 32 ||
			       !(o->status_mask & (1u << r->status))))
		return false;
	return !o->since_set || r->updated >= o->since;
}

/* list_text - one aligned row (or just its widths in pass 1) */
static void list_text(struct list_walk *w, const char *addr,
		      const struct rcpt *r)
{
	char cat[sizeof(r->last_category)], t[64];
	int la = (int)strlen(addr), lc;

	ctl_text_clean(r->last_category[0] ? r->last_category : "-", cat,
		       sizeof(cat));
	lc = (int)strlen(cat);
	if (w->measure) {
		if (la > w->w_addr)
			w->w_addr = la;
		if (lc > w->w_cat)
			w->w_cat = lc;
		return;
	}
	ctl_time_text(r->updated, t, sizeof(t));
	fprintf(w->ctx->out, "%-*s  %-12s  %4u  %-*s  %s\n", w->w_addr, addr,
		ctl_status_name(r->status), r->n_soft, w->w_cat, cat, t);
}

/* list_csv - one RFC 4180 row */
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
	g_string_append(l, "\r\n");
	fwrite(l->str, 1, l->len, w->ctx->out);
}

/* list_json - one object of the streamed array; 0 or EXIT_SOFTWARE */
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
	fprintf(w->ctx->out, "%s%s", w->n ? ",\n" : "\n", s);
out:
	cJSON_free(s);
	cJSON_Delete(o);
	return rc;
}

/* list_cb - state_rcpt_foreach callback: filter and print one record */
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
	if (!list_match(w->o, r))
		return 0;
	switch (w->o->fmt) {
	case CTL_FMT_TEXT:
		list_text(w, addr, r);
		break;
	case CTL_FMT_CSV:
		list_csv(w, addr, r);
		break;
	case CTL_FMT_JSON:
		w->rc = list_json(w, addr, r);
		if (w->rc != 0)
			return 1;
		break;
	}
	if (!w->measure)
		w->n++;
	return 0;
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
		fprintf(out, "%-*s  %-12s  %4s  %-*s  %s\n", w->w_addr,
			"ADDRESS", "STATUS", "SOFT", w->w_cat, "CATEGORY",
			"UPDATED");
	} else if (w->o->fmt == CTL_FMT_CSV) {
		fputs("address,status,soft_count,category,updated,escalated,"
		      "reason_source,reason_line,dsn_status,dsn_diag\r\n", out);
	} else {
		fputs("[", out);
	}
	rc = state_rcpt_foreach(st, txn, NULL, list_cb, w);
	if (rc < 0)
		return rc;
	if (w->o->fmt == CTL_FMT_JSON && w->rc == 0)
		fputs(w->n ? "\n]\n" : "]\n", out);
	return 0;
}

int cmd_list(struct ctl_ctx *ctx, int argc, char **argv)
{
	struct list_opts o;
	struct list_walk w;
	struct state *st = NULL;
	MDB_txn *txn = NULL;
	int rc;

	rc = list_args(ctx, argc, argv, &o);
	if (rc != 0)
		return rc;
	rc = ctl_state_open(ctx, false, &st);
	if (rc != 0)
		return rc;
	memset(&w, 0, sizeof(w));
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
	g_string_free(w.line, TRUE);
	state_close(st);
	return rc;
}
