/*
 * ctl_stats.c - "bouncectl stats": records by status and by last bounce
 * category, the ten domains with the most suppressed addresses, the
 * counters kept in the meta table, and the number of files taken; as text
 * or one JSON object.
 *
 * One read-only transaction walks the rcpt table once; memory grows with
 * the number of distinct categories and domains, not records.  The
 * gathering (ctl_stats_gather) is shared with bouncectl report.  Exit 66
 * without a state, 74 when the state cannot be read.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "ctl.h"
#include "exitcodes.h"
#include "mail_events.h"
#include "rcpt_rules.h"
#include "state.h"

#define STATS_NO_CATEGORY "(none)"

/* the counters kept in the meta table (no meta iterator exists) */
const char *const ctl_stats_counter_names[CTL_STATS_N_COUNTERS] = {
	"count.records", "count.hard",	    "count.soft",
	"count.escalated", "count.complaint", "count.unsub",
	"count.duplicate", "count.delivery", "count.ignored",
	"count.skipped", "count.bad", "count.api_ok", "count.api_retry",
	"count.api_dead", "count.fbl_dsn", "count.fbl_autoreply",
	"count.fbl_authreport", "count.fbl_forward", "count.fbl_notours",
};

/* stats_bump - add one to NAME in H (values are g_new'ed counters) */
static void stats_bump(GHashTable *h, const char *name)
{
	uint64_t *n = g_hash_table_lookup(h, name);

	if (!n) {
		n = g_new0(uint64_t, 1);
		g_hash_table_insert(h, g_strdup(name), n);
	}
	(*n)++;
}

/* stats_rcpt_cb - count one record */
static int stats_rcpt_cb(const char *key, size_t keylen, const struct rcpt *r,
			 void *arg)
{
	struct ctl_stats *s = arg;
	char addr[ADDR_MAX + 1];

	s->records++;
	if (!r || r->status >= RCPT_STATUS_COUNT) {
		s->undecodable++;
		return 0;
	}
	s->by_status[r->status]++;
	stats_bump(s->cats, r->last_category[0] ? r->last_category :
						   STATS_NO_CATEGORY);
	if (rcpt_is_suppressed(r) &&
	    ctl_key_copy(key, keylen, addr, sizeof(addr)) == 0) {
		const char *d = addr_domain(addr);

		/* a subscriber known by its ids only has no domain */
		if (mail_key_is_uid(addr))
			d = "(hidden address)";
		stats_bump(s->domains, d && *d ? d : "(unknown)");
	}
	return 0;
}

/* stats_file_cb - count one entry of the files table */
static int stats_file_cb(const char *key, size_t keylen,
			 const struct file_rec *f, void *arg)
{
	struct ctl_stats *s = arg;

	(void)key;
	(void)keylen;
	s->files++;
	if (f && f->status < G_N_ELEMENTS(s->files_by_status))
		s->files_by_status[f->status]++;
	return 0;
}

/* stats_entry_cmp - most first, then by name */
static int stats_entry_cmp(const void *a, const void *b)
{
	const struct ctl_stats_entry *x = a, *y = b;

	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return strcmp(x->name, y->name);
}

struct ctl_stats_entry *ctl_stats_sorted(GHashTable *h, size_t *n)
{
	struct ctl_stats_entry *e = g_new(struct ctl_stats_entry,
				      g_hash_table_size(h) + 1);
	GHashTableIter it;
	gpointer key, val;
	size_t i = 0;

	g_hash_table_iter_init(&it, h);
	while (g_hash_table_iter_next(&it, &key, &val)) {
		e[i].name = key;
		e[i].n = *(const uint64_t *)val;
		i++;
	}
	qsort(e, i, sizeof(*e), stats_entry_cmp);
	*n = i;
	return e;
}

void ctl_stats_init(struct ctl_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->cats = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	s->domains = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					   g_free);
}

void ctl_stats_release(struct ctl_stats *s)
{
	if (s->domains)
		g_hash_table_destroy(s->domains);
	if (s->cats)
		g_hash_table_destroy(s->cats);
	s->domains = s->cats = NULL;
}

int ctl_stats_gather(struct state *st, const struct config *cfg,
		     struct ctl_stats *s)
{
	MDB_txn *txn = NULL;
	size_t i;
	int rc;

	rc = state_begin(st, false, &txn);
	if (rc != 0)
		return rc;
	rc = state_rcpt_foreach(st, txn, NULL, stats_rcpt_cb, s);
	if (rc != 0)
		goto out;
	for (i = 0; i < CTL_STATS_N_COUNTERS; i++) {
		rc = state_meta_get_u64(st, txn, ctl_stats_counter_names[i],
					&s->counters[i]);
		if (rc == -ENOENT) {
			s->counters[i] = 0;
			rc = 0;
		}
		if (rc != 0)
			goto out;
	}
	rc = state_file_foreach(st, txn, stats_file_cb, s);
	if (rc == 0)
		rc = state_stat_entries(st, txn, "notify", &s->notify_queued);
	if (rc == 0)
		s->n_paused = ctl_paused(st, txn, cfg, s->paused,
					 CTL_PAUSED_MAX);
out:
	state_abort(txn);
	return rc;
}

/* stats_text_entries - "  NAME  COUNT" lines */
static void stats_text_entries(FILE *out, const struct ctl_stats_entry *e,
			       size_t n)
{
	char clean[128];
	size_t i;

	if (n == 0)
		fprintf(out, "  (none)\n");
	for (i = 0; i < n; i++)
		fprintf(out, "  %-30s %10llu\n",
			ctl_text_clean(e[i].name, clean, sizeof(clean)),
			(unsigned long long)e[i].n);
}

static void stats_text(FILE *out, const struct ctl_stats *s,
		       const struct ctl_stats_entry *cats, size_t n_cats,
		       const struct ctl_stats_entry *doms, size_t n_doms)
{
	size_t i;

	fprintf(out, "addresses: %llu\n", (unsigned long long)s->records);
	if (s->undecodable)
		fprintf(out, "records that do not decode: %llu\n",
			(unsigned long long)s->undecodable);
	fprintf(out, "by status:\n");
	for (i = 0; i < RCPT_STATUS_COUNT; i++)
		fprintf(out, "  %-30s %10llu\n", ctl_status_name((uint8_t)i),
			(unsigned long long)s->by_status[i]);
	fprintf(out, "by last category:\n");
	stats_text_entries(out, cats, n_cats);
	fprintf(out, "top domains of suppressed addresses:\n");
	stats_text_entries(out, doms, n_doms);
	fprintf(out, "counters:\n");
	for (i = 0; i < CTL_STATS_N_COUNTERS; i++)
		fprintf(out, "  %-30s %10llu\n",
			ctl_stats_counter_names[i] + strlen("count."),
			(unsigned long long)s->counters[i]);
	fprintf(out, "files: %llu (%llu done, %llu partial, %llu failed)\n",
		(unsigned long long)s->files,
		(unsigned long long)s->files_by_status[FILE_DONE],
		(unsigned long long)s->files_by_status[FILE_PARTIAL],
		(unsigned long long)s->files_by_status[FILE_FAILED]);
	if (s->notify_queued)
		fprintf(out, "operator mail: %llu items waiting ([notify])\n",
			(unsigned long long)s->notify_queued);
	ctl_paused_text(out, s->paused, s->n_paused);
}

/* stats_json_num - add a number under KEY (made valid UTF-8) */
static bool stats_json_num(cJSON *o, const char *key, uint64_t n)
{
	cJSON *item = cJSON_CreateNumber((double)n);
	char *valid = g_utf8_make_valid(key, -1);
	bool ok = item && cJSON_AddItemToObject(o, valid, item);

	if (!ok)
		cJSON_Delete(item);
	g_free(valid);
	return ok;
}

/* stats_json_build - the whole result as one object, NULL on ENOMEM */
static cJSON *stats_json_build(const struct ctl_stats *s,
			       const struct ctl_stats_entry *cats, size_t n_cats,
			       const struct ctl_stats_entry *doms, size_t n_doms)
{
	cJSON *o = cJSON_CreateObject();
	bool ok = o && stats_json_num(o, "addresses", s->records) &&
		  stats_json_num(o, "undecodable", s->undecodable);
	cJSON *status = ok ? cJSON_AddObjectToObject(o, "status") : NULL;
	cJSON *categories = cJSON_AddObjectToObject(o, "categories");
	cJSON *top = cJSON_AddArrayToObject(o, "top_domains");
	cJSON *counters = cJSON_AddObjectToObject(o, "counters");
	size_t i;

	ok = ok && status && categories && top && counters;

	for (i = 0; ok && i < RCPT_STATUS_COUNT; i++)
		ok = stats_json_num(status, ctl_status_name((uint8_t)i),
				    s->by_status[i]);
	for (i = 0; ok && i < n_cats; i++)
		ok = stats_json_num(categories, cats[i].name, cats[i].n);
	for (i = 0; ok && i < n_doms; i++) {
		cJSON *d = cJSON_CreateObject();

		ok = d && cJSON_AddItemToArray(top, d);
		if (!ok) {
			cJSON_Delete(d);
			break;
		}
		ok = cJSON_AddItemToObject(d, "domain",
					   ctl_json_string(doms[i].name)) &&
		     stats_json_num(d, "count", doms[i].n);
	}
	for (i = 0; ok && i < CTL_STATS_N_COUNTERS; i++)
		ok = stats_json_num(counters,
				    ctl_stats_counter_names[i] + strlen("count."),
				    s->counters[i]);
	ok = ok && stats_json_num(o, "files", s->files);
	ok = ok && stats_json_num(o, "notify_queued", s->notify_queued);
	ok = ok && cJSON_AddItemToObject(o, "paused",
					 ctl_paused_json(s->paused,
							 s->n_paused));
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

int cmd_stats(struct ctl_ctx *ctx, int argc, char **argv)
{
	struct ctl_stats s;
	struct ctl_stats_entry *cats = NULL, *doms = NULL;
	size_t n_cats = 0, n_doms = 0;
	enum ctl_format fmt;
	struct state *st = NULL;
	cJSON *o = NULL;
	char *js = NULL;
	int rc;

	rc = ctl_args_format(ctx, argc, argv, CTL_FMT_TEXT | CTL_FMT_JSON, &fmt);
	if (rc != 0)
		return rc;
	ctl_stats_init(&s);
	rc = ctl_state_open(ctx, false, &st);
	if (rc != 0)
		goto out;
	rc = ctl_stats_gather(st, ctx->cfg, &s);
	if (rc != 0) {
		rc = ctl_state_error(ctx, "read", rc);
		goto out;
	}
	cats = ctl_stats_sorted(s.cats, &n_cats);
	doms = ctl_stats_sorted(s.domains, &n_doms);
	if (n_doms > CTL_STATS_TOP_DOMAINS)
		n_doms = CTL_STATS_TOP_DOMAINS;
	if (fmt == CTL_FMT_TEXT) {
		stats_text(ctx->out, &s, cats, n_cats, doms, n_doms);
		rc = EXIT_OK;
		goto out;
	}
	o = stats_json_build(&s, cats, n_cats, doms, n_doms);
	js = o ? cJSON_Print(o) : NULL;
	if (!js) {
		fprintf(stderr, "%s: stats: out of memory\n", ctx->prog);
		rc = EXIT_SOFTWARE;
		goto out;
	}
	fprintf(ctx->out, "%s\n", js);
	rc = EXIT_OK;
out:
	cJSON_free(js);
	cJSON_Delete(o);
	g_free(doms);
	g_free(cats);
	state_close(st);
	ctl_stats_release(&s);
	return rc;
}
