/*
 * ctl_files.c - "bouncectl files": the files table (every source taken,
 * how far and with what result, and where the file is now: done/,
 * failed/, ignored/ or gone) as text or a JSON array.
 *
 * One read-only transaction; rows are streamed (the source comes last in
 * text so that nothing needs measuring).  Exit 66 without a state, 74 when
 * the state cannot be read.
 */
#include <limits.h>
#include <string.h>

#include "ctl.h"
#include "exitcodes.h"
#include "log.h"
#include "state.h"

struct files_walk {
	const struct ctl_ctx *ctx;
	enum ctl_format fmt;
	uint64_t n;
	int rc;			/* exit code of a failure inside the walk */
};

static const char *const files_where_names[] = {
	[CTL_WHERE_STREAM] = "stream",
	[CTL_WHERE_HERE] = "here",
	[CTL_WHERE_MOVED] = "moved",
	[CTL_WHERE_GONE] = "gone",
	[CTL_WHERE_UNKNOWN] = "unknown",
};

/* files_json - one entry as a JSON object, NULL on ENOMEM */
static cJSON *files_json(const char *key, const struct file_rec *f,
			 enum ctl_where w, const char *now)
{
	cJSON *o = cJSON_CreateObject();
	bool ok = o &&
		  cJSON_AddItemToObject(o, "key", ctl_json_string(key)) &&
		  cJSON_AddStringToObject(o, "status",
					  ctl_file_status_name(f->status)) &&
		  cJSON_AddNumberToObject(o, "offset", (double)f->offset) &&
		  cJSON_AddNumberToObject(o, "lines", (double)f->lines) &&
		  cJSON_AddNumberToObject(o, "records", (double)f->records) &&
		  cJSON_AddNumberToObject(o, "bad", (double)f->bad) &&
		  cJSON_AddItemToObject(o, "started", ctl_json_time(f->started)) &&
		  cJSON_AddItemToObject(o, "updated", ctl_json_time(f->updated)) &&
		  cJSON_AddStringToObject(o, "where", files_where_names[w]) &&
		  cJSON_AddItemToObject(o, "now", now[0] ? ctl_json_string(now) :
						  cJSON_CreateNull());

	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* files_cb - print one entry of the files table */
static int files_cb(const char *key, size_t keylen, const struct file_rec *f,
		    void *arg)
{
	struct files_walk *w = arg;
	FILE *out = w->ctx->out;
	char *k = g_strndup(key, keylen);
	char clean[1024], t[64], now[PATH_MAX], buf[PATH_MAX + 16];
	enum ctl_where where;
	cJSON *o;
	char *s;

	if (!f) {
		log_warn("ctl", "the files entry '%s' does not decode; skipped",
			 ctl_text_clean(k, clean, sizeof(clean)));
		g_free(k);
		return 0;
	}
	where = ctl_file_where(w->ctx->cfg, k, f, now, sizeof(now));
	if (w->fmt == CTL_FMT_TEXT) {
		ctl_time_text(f->updated, t, sizeof(t));
		fprintf(out, "%-8s %14llu %10llu %10llu %8llu  %-24s  %s",
			ctl_file_status_name(f->status),
			(unsigned long long)f->offset,
			(unsigned long long)f->lines,
			(unsigned long long)f->records,
			(unsigned long long)f->bad, t,
			ctl_text_clean(k, clean, sizeof(clean)));
		fprintf(out, "%s\n", ctl_text_clean(ctl_where_text(where, now,
								    buf,
								    sizeof(buf)),
						      clean, sizeof(clean)));
		w->n++;
		g_free(k);
		return 0;
	}
	o = files_json(k, f, where, now);
	s = o ? cJSON_PrintUnformatted(o) : NULL;
	if (s) {
		fprintf(out, "%s%s", w->n ? ",\n" : "\n", s);
		w->n++;
	} else {
		fprintf(stderr, "%s: files: out of memory\n", w->ctx->prog);
		w->rc = EXIT_SOFTWARE;
	}
	cJSON_free(s);
	cJSON_Delete(o);
	g_free(k);
	return w->rc ? 1 : 0;
}

const struct cli_opt ctl_opts_files[] = {
	{ "format", CTL_O_FORMAT, "F", "text (default) or json" },
	{ NULL, 0, NULL, NULL },
};

int cmd_files(struct ctl_ctx *ctx, const struct cli_args *args)
{
	struct files_walk w;
	struct state *st = NULL;
	MDB_txn *txn = NULL;
	int rc;

	memset(&w, 0, sizeof(w));
	w.ctx = ctx;
	rc = ctl_args_format(ctx, args, CTL_FMT_TEXT | CTL_FMT_JSON, &w.fmt);
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
	if (w.fmt == CTL_FMT_TEXT)
		fprintf(ctx->out, "%-8s %14s %10s %10s %8s  %-24s  %s\n",
			"STATUS", "OFFSET", "LINES", "RECORDS", "BAD", "UPDATED",
			"SOURCE");
	else
		fputs("[", ctx->out);
	rc = state_file_foreach(st, txn, files_cb, &w);
	state_abort(txn);
	if (rc < 0) {
		rc = ctl_state_error(ctx, "read", rc);
		goto out;
	}
	rc = w.rc;
	if (rc == 0 && w.fmt == CTL_FMT_JSON)
		fputs(w.n ? "\n]\n" : "]\n", ctx->out);
out:
	state_close(st);
	return rc;
}
