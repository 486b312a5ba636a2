/*
 * ctl_rates.c - "bouncectl rates": deliveries, bounces and complaints per
 * campaign, destination, source and sender over a period, with their
 * rates, and the alerts up now; as text, CSV or JSON.
 *
 * The counts come from the rate monitor's buckets (rates_store.h): the
 * finest still kept for the period's start (minutes for the last day,
 * hours for the last month, days before).  --since is read back from the
 * latest record counted, not from the clock, so that a state fed old files
 * answers for their time.  One read-only transaction.  Exit 64 for a bad
 * command line, 66 without a state, 74 when the state cannot be read.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "exitcodes.h"
#include "rates_store.h"
#include "state.h"
#include "timeparse.h"

#define RATES_LIMIT_DEFAULT 20

const struct cli_opt ctl_opts_rates[] = {
	{ "by", CTL_O_BY, "D", "campaign, destination, source or sender "
	  "(default: every one)" },
	{ "since", CTL_O_SINCE, "T", "from T (a time, or a duration back "
	  "from the latest record counted; default 24h)" },
	{ "limit", CTL_O_LIMIT, "N", "the N names with the most attempts per "
	  "dimension (default 20, 0: all)" },
	{ "format", CTL_O_FORMAT, "F", "text (default), csv or json" },
	{ NULL, 0, NULL, NULL },
};

/* one name's counts over the period */
struct rates_row {
	char *name;
	uint64_t c[RATES_COUNTERS];
};

struct rates_view {
	const struct ctl_ctx *ctx;
	enum ctl_format fmt;
	unsigned dims;		/* 1 << dimension */
	int64_t since, now;
	size_t limit;
	unsigned printed;	/* dimensions printed (text) */
	GHashTable *rows;	/* name -> struct rates_row */
};

static void rates_row_free(gpointer p)
{
	struct rates_row *r = p;

	g_free(r->name);
	g_free(r);
}

static int rates_sum_cb(const char *name, int64_t start,
			const uint64_t c[RATES_COUNTERS], void *arg)
{
	struct rates_view *v = arg;
	struct rates_row *r = g_hash_table_lookup(v->rows, name);
	int i;

	(void)start;
	if (!r) {
		r = g_new0(struct rates_row, 1);
		r->name = g_strdup(name);
		g_hash_table_insert(v->rows, r->name, r);
	}
	for (i = 0; i < RATES_COUNTERS; i++)
		r->c[i] += c[i];
	return 0;
}

static uint64_t rates_attempts(const struct rates_row *r)
{
	return r->c[RATES_C_DELIVERIES] + r->c[RATES_C_HARD] +
	       r->c[RATES_C_SOFT];
}

static int rates_row_cmp(const void *a, const void *b)
{
	const struct rates_row *x = *(const struct rates_row *const *)a;
	const struct rates_row *y = *(const struct rates_row *const *)b;
	uint64_t ax = rates_attempts(x), ay = rates_attempts(y);

	if (ax != ay)
		return ax > ay ? -1 : 1;
	if (x->c[RATES_C_COMPLAINTS] != y->c[RATES_C_COMPLAINTS])
		return x->c[RATES_C_COMPLAINTS] > y->c[RATES_C_COMPLAINTS] ?
			       -1 : 1;
	return strcmp(x->name, y->name);
}

/* rates_pct - N / D in percent, 0 when D is 0 */
static double rates_pct(uint64_t n, uint64_t d)
{
	return d ? 100.0 * (double)n / (double)d : 0.0;
}

/* rates_numbers - R's counts and rates, for text (CSV false) or CSV */
static void rates_numbers(GString *out, const struct rates_row *r, bool csv)
{
	uint64_t att = rates_attempts(r);

	g_string_append_printf(out, csv ?
		",%llu,%llu,%llu,%llu,%llu,%.4f,%.4f,%.4f\n" :
		" %10llu %8llu %8llu %8llu %8llu %6.2f%% %6.2f%% %6.3f%%\n",
		(unsigned long long)r->c[RATES_C_DELIVERIES],
		(unsigned long long)r->c[RATES_C_HARD],
		(unsigned long long)r->c[RATES_C_SOFT],
		(unsigned long long)r->c[RATES_C_SENDER],
		(unsigned long long)r->c[RATES_C_COMPLAINTS],
		rates_pct(r->c[RATES_C_HARD], att),
		rates_pct(r->c[RATES_C_SENDER], att),
		rates_pct(r->c[RATES_C_COMPLAINTS], r->c[RATES_C_DELIVERIES]));
}

static void rates_text(struct rates_view *v, enum alert_dimension d,
		       struct rates_row **rows, size_t n, size_t total)
{
	char buf[RATES_NAME_MAX * 4 + 8];
	size_t i;
	int w = 11;

	for (i = 0; i < n; i++) {
		int cw = ctl_text_width(ctl_text_clean(rows[i]->name, buf,
						       sizeof(buf)));

		if (cw > w)
			w = cw;
	}
	fprintf(v->ctx->out, "%s%s:\n", v->printed++ ? "\n" : "",
		alert_dimension_name(d));
	if (n == 0) {
		fputs("  (none)\n", v->ctx->out);
		return;
	}
	fputs("  ", v->ctx->out);
	ctl_text_pad(v->ctx->out, "NAME", w);
	fprintf(v->ctx->out, " %10s %8s %8s %8s %8s %7s %7s %7s\n",
		"DELIVERED", "HARD", "SOFT", "SENDER", "COMPL", "BOUNCE%",
		"SENDER%", "COMPL%");
	for (i = 0; i < n; i++) {
		GString *num = g_string_new(NULL);

		fputs("  ", v->ctx->out);
		ctl_text_pad(v->ctx->out,
			     ctl_text_clean(rows[i]->name, buf, sizeof(buf)),
			     w);
		rates_numbers(num, rows[i], false);
		fputs(num->str, v->ctx->out);
		g_string_free(num, TRUE);
	}
	if (total > n)
		fprintf(v->ctx->out, "  ... %zu more (--limit 0 shows all)\n",
			total - n);
}

static void rates_csv(struct rates_view *v, enum alert_dimension d,
		      struct rates_row **rows, size_t n)
{
	GString *line = g_string_new(NULL);
	size_t i;

	for (i = 0; i < n; i++) {
		g_string_truncate(line, 0);
		ctl_csv_field(line, alert_dimension_name(d));
		g_string_append_c(line, ',');
		ctl_csv_field(line, rows[i]->name);
		rates_numbers(line, rows[i], true);
		fputs(line->str, v->ctx->out);
	}
	g_string_free(line, TRUE);
}

static cJSON *rates_json_rows(struct rates_row **rows, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; a && i < n; i++) {
		const struct rates_row *r = rows[i];
		uint64_t att = rates_attempts(r);
		cJSON *o = cJSON_CreateObject();

		if (!o || !cJSON_AddItemToArray(a, o) ||
		    !cJSON_AddItemToObject(o, "name",
					   ctl_json_string(r->name)) ||
		    !cJSON_AddNumberToObject(o, "deliveries",
				(double)r->c[RATES_C_DELIVERIES]) ||
		    !cJSON_AddNumberToObject(o, "hard",
				(double)r->c[RATES_C_HARD]) ||
		    !cJSON_AddNumberToObject(o, "soft",
				(double)r->c[RATES_C_SOFT]) ||
		    !cJSON_AddNumberToObject(o, "sender",
				(double)r->c[RATES_C_SENDER]) ||
		    !cJSON_AddNumberToObject(o, "complaints",
				(double)r->c[RATES_C_COMPLAINTS]) ||
		    !cJSON_AddNumberToObject(o, "bounce_rate",
				att ? (double)r->c[RATES_C_HARD] / att : 0) ||
		    !cJSON_AddNumberToObject(o, "sender_rate",
				att ? (double)r->c[RATES_C_SENDER] / att : 0) ||
		    !cJSON_AddNumberToObject(o, "complaint_rate",
				r->c[RATES_C_DELIVERIES] ?
				(double)r->c[RATES_C_COMPLAINTS] /
				(double)r->c[RATES_C_DELIVERIES] : 0)) {
			cJSON_Delete(a);
			return NULL;
		}
	}
	return a;
}

/* rates_dim - gather and print dimension D; JSON rows go into JOUT */
static int rates_dim(struct rates_view *v, struct state *st, MDB_txn *txn,
		     enum alert_dimension d, cJSON *jout)
{
	char gran = rates_store_gran(v->since, v->now);
	int64_t from = v->since;
	struct rates_row **rows;
	GHashTableIter it;
	gpointer k, val;
	size_t n = 0, shown;
	int rc;

	/* a coarser bucket starts before SINCE: take those that end after
	   it (the first hour or day is then counted whole) */
	if (gran == 'h')
		from -= from % 3600;
	else if (gran == 'd')
		from -= from % 86400;
	v->rows = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
					rates_row_free);
	rc = rates_store_walk(st, txn, gran, d, from, INT64_MAX, rates_sum_cb,
			      v);
	if (rc) {
		g_hash_table_destroy(v->rows);
		return ctl_state_error(v->ctx, "read", rc);
	}
	rows = g_new(struct rates_row *, g_hash_table_size(v->rows) + 1);
	g_hash_table_iter_init(&it, v->rows);
	while (g_hash_table_iter_next(&it, &k, &val))
		rows[n++] = val;
	qsort(rows, n, sizeof(*rows), rates_row_cmp);
	shown = v->limit && n > v->limit ? v->limit : n;
	if (v->fmt == CTL_FMT_TEXT)
		rates_text(v, d, rows, shown, n);
	else if (v->fmt == CTL_FMT_CSV)
		rates_csv(v, d, rows, shown);
	else
		cJSON_AddItemToObject(jout, alert_dimension_name(d),
				      rates_json_rows(rows, shown));
	g_free(rows);
	g_hash_table_destroy(v->rows);
	v->rows = NULL;
	return 0;
}

/* the alerts up, printed after the tables */
struct rates_alerts {
	const struct ctl_ctx *ctx;
	enum ctl_format fmt;
	cJSON *arr;
	size_t n;
};

static int rates_alert_cb(const struct rates_store_alert *a, void *arg)
{
	struct rates_alerts *x = arg;
	char when[40], buf[RATES_NAME_MAX * 4 + 8];

	x->n++;
	if (x->fmt == CTL_FMT_JSON) {
		cJSON *o = cJSON_CreateObject();

		if (o && cJSON_AddItemToArray(x->arr, o)) {
			cJSON_AddItemToObject(o, "rule", ctl_json_string(a->rule));
			cJSON_AddStringToObject(o, "dimension",
						alert_dimension_name(a->dim));
			cJSON_AddItemToObject(o, "name", ctl_json_string(a->name));
			cJSON_AddItemToObject(o, "since", ctl_json_time(a->since));
			cJSON_AddNumberToObject(o, "rate", a->rate);
			cJSON_AddNumberToObject(o, "volume", (double)a->volume);
		}
		return 0;
	}
	if (x->fmt != CTL_FMT_TEXT)
		return 0;
	if (x->n == 1)
		fputs("\nalerts up:\n", x->ctx->out);
	ctl_time_text(a->since, when, sizeof(when));
	fprintf(x->ctx->out, "  %s %s: %.3f%% of %llu since %s (%s)\n",
		alert_dimension_name(a->dim),
		ctl_text_clean(a->name, buf, sizeof(buf)), a->rate * 100.0,
		(unsigned long long)a->volume, when, a->rule);
	return 0;
}

/* rates_args - the options into V; 0 or EXIT_USAGE */
static int rates_args(const struct ctl_ctx *ctx, const struct cli_args *a,
		      struct rates_view *v, const char **since_s)
{
	const char *fmt_s = NULL;
	size_t i;
	int rc = 0, d;

	v->fmt = CTL_FMT_TEXT;
	v->limit = RATES_LIMIT_DEFAULT;
	for (i = 0; rc == 0 && i < a->n_opts; i++) {
		const char *val = a->opts[i].value;
		char *end;
		unsigned long long n;

		switch (a->opts[i].key) {
		case CTL_O_BY:
			d = alert_dimension_parse(val);
			if (d < 0)
				rc = ctl_usage(ctx, "rates", "--by '%s': "
					       "expected campaign, destination, "
					       "source or sender", val);
			else
				v->dims |= 1u << d;
			break;
		case CTL_O_SINCE:
			*since_s = val;
			break;
		case CTL_O_LIMIT:
			n = g_ascii_strtoull(val, &end, 10);
			if (!g_ascii_isdigit(*val) || *end || n > 1000000)
				rc = ctl_usage(ctx, "rates", "--limit '%s': "
					       "expected a number from 0 to "
					       "1000000", val);
			v->limit = (size_t)n;
			break;
		case CTL_O_FORMAT:
			fmt_s = val;
			break;
		}
	}
	if (rc == 0)
		rc = ctl_args_none(ctx, a);
	if (rc == 0 && fmt_s)
		rc = ctl_parse_format(ctx, "rates", fmt_s, CTL_FMT_TEXT |
				      CTL_FMT_CSV | CTL_FMT_JSON, &v->fmt);
	if (!v->dims)
		v->dims = (1u << ALERT_DIMENSIONS) - 1;
	return rc;
}

int cmd_rates(struct ctl_ctx *ctx, const struct cli_args *a)
{
	struct rates_view v;
	struct rates_alerts al;
	const char *since_s = NULL;
	struct state *st = NULL;
	MDB_txn *txn = NULL;
	cJSON *root = NULL;
	char from[40], to[40];
	int rc, d;

	memset(&v, 0, sizeof(v));
	memset(&al, 0, sizeof(al));
	v.ctx = ctx;
	rc = rates_args(ctx, a, &v, &since_s);
	if (rc)
		return rc;
	rc = ctl_read_begin(ctx, &st, &txn);
	if (rc)
		return rc;
	v.now = rates_store_now(st, txn);
	if (v.now == 0)
		v.now = ctx->now;
	v.since = v.now - 86400;
	if (since_s && timeparse_since(since_s, v.now, &v.since) != 0) {
		rc = ctl_usage(ctx, "rates", "bad --since value '%s' (a time "
			       "like 2019-02-08 or a duration like 7d)",
			       since_s);
		goto out;
	}
	if (v.fmt == CTL_FMT_TEXT) {
		ctl_time_text(v.since, from, sizeof(from));
		ctl_time_text(v.now, to, sizeof(to));
		fprintf(ctx->out, "from %s to %s (the latest record counted)"
			"\n\n", from, to);
	} else if (v.fmt == CTL_FMT_CSV) {
		fputs("dimension,name,deliveries,hard,soft,sender,complaints,"
		      "bounce_pct,sender_pct,complaint_pct\n", ctx->out);
	} else {
		root = cJSON_CreateObject();
		if (!root || !cJSON_AddItemToObject(root, "since",
						    ctl_json_time(v.since)) ||
		    !cJSON_AddItemToObject(root, "until",
					   ctl_json_time(v.now))) {
			rc = ctl_state_error(ctx, "read", -ENOMEM);
			goto out;
		}
	}
	for (d = 0; rc == 0 && d < ALERT_DIMENSIONS; d++)
		if (v.dims & (1u << d))
			rc = rates_dim(&v, st, txn, (enum alert_dimension)d,
				       root);
	if (rc)
		goto out;
	al.ctx = ctx;
	al.fmt = v.fmt;
	if (root) {
		al.arr = cJSON_CreateArray();
		cJSON_AddItemToObject(root, "alerts", al.arr);
	}
	rc = rates_store_alerts(st, txn, rates_alert_cb, &al);
	if (rc) {
		rc = ctl_state_error(ctx, "read", rc);
		goto out;
	}
	if (root)
		rc = ctl_json_out(ctx, root);
	else if (v.fmt == CTL_FMT_TEXT && al.n == 0) {
		fputs("\nalerts up: none\n", ctx->out);
	}
out:
	cJSON_Delete(root);
	ctl_read_end(st, txn);
	return rc;
}
