/*
 * ctl_stats.c - "bouncectl stats": records by status and by last bounce
 * category, the ten domains with the most suppressed addresses, the
 * counters kept in the meta table, and the number of files taken; or,
 * with --by, the addresses of each domain, campaign, sender, VirtualMTA
 * or provider by status; as text or one JSON object.
 *
 * One read-only transaction walks the rcpt table once; memory grows with
 * the number of distinct categories, domains and groups, not records.
 * The gathering (ctl_stats_gather) is shared with bouncectl report, which
 * also asks for the groups, the providers' entries and the latest
 * suppressions.  Exit 66 without a state, 74 when the state cannot be
 * read.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "classify_override.h"
#include "ctl.h"
#include "exitcodes.h"
#include "mail_events.h"
#include "rcpt_rules.h"
#include "state.h"
#include "timeparse.h"

#define STATS_NO_CATEGORY "(none)"
#define STATS_NONE "(none)"	/* a group for records without the value */

const struct cli_opt ctl_opts_stats[] = {
	{ "by", CTL_O_BY, "KEY",
	  "one line per domain, campaign, sender, vmta or\n"
	  "provider: its addresses by status" },
	{ "since", CTL_O_SINCE, "T",
	  "with --by: only records updated at or after T\n"
	  "(2026-11-24, 7d)" },
	{ "limit", CTL_O_LIMIT, "N", "with --by: the first N lines only" },
	{ "format", CTL_O_FORMAT, "F", "text (default) or json" },
	{ NULL, 0, NULL, NULL },
};

static const char *const ctl_by_names[CTL_BY_N] = {
	[CTL_BY_DOMAIN] = "domain",
	[CTL_BY_CAMPAIGN] = "campaign",
	[CTL_BY_SENDER] = "sender",
	[CTL_BY_VMTA] = "vmta",
	[CTL_BY_PROVIDER] = "provider",
};

/* ctl_by_name - "domain", "campaign", ... */
const char *ctl_by_name(enum ctl_by by)
{
	return (unsigned)by < CTL_BY_N ? ctl_by_names[by] : "?";
}

/* ctl_by_parse - a grouping's name back, or -1 */
int ctl_by_parse(const char *name)
{
	int i;

	for (i = 0; i < CTL_BY_N; i++)
		if (strcmp(name, ctl_by_names[i]) == 0)
			return i;
	return -1;
}

/* the counters kept in the meta table (no meta iterator exists) */
const char *const ctl_stats_counter_names[CTL_STATS_N_COUNTERS] = {
	"count.records", "count.hard",	    "count.soft",
	"count.escalated", "count.complaint", "count.unsub",
	"count.duplicate", "count.delivery", "count.ignored",
	"count.skipped", "count.bad", "count.api_ok", "count.api_retry",
	"count.api_dead", "count.fbl_dsn", "count.fbl_autoreply",
	"count.fbl_authreport", "count.fbl_forward", "count.fbl_notours",
	"count.held", "count.incident.opened", "count.incident.closed",
	"count.alert.raised", "count.alert.cleared",
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

/* stats_group - count R in the group NAME of H */
static void stats_group(GHashTable *h, const char *name, const struct rcpt *r)
{
	struct ctl_group *g;
	char clean[256];

	ctl_text_clean(name && *name ? name : STATS_NONE, clean, sizeof(clean));
	g = g_hash_table_lookup(h, clean);
	if (!g) {
		g = g_new0(struct ctl_group, 1);
		g_hash_table_insert(h, g_strdup(clean), g);
	}
	g->n[r->status]++;
	g->total++;
}

/* stats_domain - the domain ADDR counts under */
static const char *stats_domain(const char *addr)
{
	const char *d;

	/* a subscriber known by its ids only has no domain */
	if (mail_key_is_uid(addr))
		return "(hidden address)";
	d = addr_domain(addr);
	return d && *d ? d : "(unknown)";
}

/* stats_groups - R (of ADDR) in every group table wanted */
static void stats_groups(struct ctl_stats *s, const char *addr,
			 const struct rcpt *r)
{
	const struct rcpt_reason *why = ctl_rcpt_origin(r);
	uint32_t i, k, n = MIN(r->n_actions, RCPT_ACTIONS_MAX);
	char *low;

	if (s->since_set && r->updated < s->since)
		return;
	if (s->by[CTL_BY_DOMAIN])
		stats_group(s->by[CTL_BY_DOMAIN], stats_domain(addr), r);
	if (s->by[CTL_BY_CAMPAIGN])
		stats_group(s->by[CTL_BY_CAMPAIGN], why->job_id, r);
	if (s->by[CTL_BY_SENDER]) {
		low = g_utf8_strdown(why->orig, -1);
		stats_group(s->by[CTL_BY_SENDER], low, r);
		g_free(low);
	}
	if (s->by[CTL_BY_VMTA])
		stats_group(s->by[CTL_BY_VMTA], why->vmta, r);
	if (!s->by[CTL_BY_PROVIDER])
		return;
	for (i = 0; i < n; i++) {
		for (k = 0; k < i; k++)	/* each provider once */
			if (strcmp(r->actions[k].provider,
				   r->actions[i].provider) == 0)
				break;
		if (k == i)
			stats_group(s->by[CTL_BY_PROVIDER],
				    r->actions[i].provider, r);
	}
	if (n == 0)
		stats_group(s->by[CTL_BY_PROVIDER], NULL, r);
}

/* stats_prov - the action entries of R, per provider and state */
static void stats_prov(struct ctl_stats *s, const struct rcpt *r)
{
	uint32_t i, n = MIN(r->n_actions, RCPT_ACTIONS_MAX);

	for (i = 0; i < n; i++) {
		const struct rcpt_action *a = &r->actions[i];
		struct ctl_prov_entries *p;
		char name[sizeof(a->provider)];

		if (a->state >= G_N_ELEMENTS(p->by_state))
			continue;
		ctl_text_clean(a->provider, name, sizeof(name));
		p = g_hash_table_lookup(s->prov, name);
		if (!p) {
			p = g_new0(struct ctl_prov_entries, 1);
			g_hash_table_insert(s->prov, g_strdup(name), p);
		}
		p->by_state[a->state]++;
	}
}

/* stats_recent - keep R among the latest suppressions (newest first) */
static void stats_recent(struct ctl_stats *s, const char *addr,
			 const struct rcpt *r)
{
	size_t i, at;

	if (!rcpt_is_suppressed(r))
		return;
	for (at = s->n_recent; at > 0 && s->recent[at - 1].time < r->status_time;
	     at--)
		;
	if (at >= CTL_STATS_RECENT)
		return;
	i = MIN(s->n_recent, CTL_STATS_RECENT - 1);
	memmove(&s->recent[at + 1], &s->recent[at],
		(i - at) * sizeof(s->recent[0]));
	g_strlcpy(s->recent[at].addr, addr, sizeof(s->recent[at].addr));
	s->recent[at].status = r->status;
	s->recent[at].time = r->status_time;
	s->recent[at].reason = *ctl_rcpt_origin(r);
	if (s->n_recent < CTL_STATS_RECENT)
		s->n_recent++;
}

/* stats_rcpt_cb - count one record */
static int stats_rcpt_cb(const char *key, size_t keylen, const struct rcpt *r,
			 void *arg)
{
	struct ctl_stats *s = arg;
	char addr[ADDR_MAX + 1];
	bool named;

	s->records++;
	if (!r || r->status >= RCPT_STATUS_COUNT) {
		s->undecodable++;
		return 0;
	}
	s->by_status[r->status]++;
	stats_bump(s->cats, r->last_category[0] ? r->last_category :
						   STATS_NO_CATEGORY);
	named = ctl_key_copy(key, keylen, addr, sizeof(addr)) == 0;
	if (rcpt_is_suppressed(r) && named)
		stats_bump(s->domains, stats_domain(addr));
	if (named)
		stats_groups(s, addr, r);
	stats_prov(s, r);
	if (named && s->recent)
		stats_recent(s, addr, r);
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

/* stats_group_cmp - most suppressed first, then most soft, then name */
static int stats_group_cmp(const void *a, const void *b)
{
	const struct ctl_group_entry *x = a, *y = b;
	uint64_t sx = ctl_group_suppressed(x->g), sy = ctl_group_suppressed(y->g);

	if (sx != sy)
		return sx > sy ? -1 : 1;
	if (x->g->n[RCPT_SOFT] != y->g->n[RCPT_SOFT])
		return x->g->n[RCPT_SOFT] > y->g->n[RCPT_SOFT] ? -1 : 1;
	if (x->g->total != y->g->total)
		return x->g->total > y->g->total ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* ctl_group_suppressed - hard + complained + unsubscribed */
uint64_t ctl_group_suppressed(const struct ctl_group *g)
{
	return g->n[RCPT_HARD] + g->n[RCPT_COMPLAINED] +
	       g->n[RCPT_UNSUBSCRIBED];
}

/* ctl_groups_sorted - the groups, most suppressed first */
struct ctl_group_entry *ctl_groups_sorted(GHashTable *h, size_t *n)
{
	struct ctl_group_entry *e;
	GHashTableIter it;
	gpointer key, val;
	size_t i = 0;

	*n = 0;
	if (!h)
		return NULL;
	e = g_new(struct ctl_group_entry, g_hash_table_size(h) + 1);
	g_hash_table_iter_init(&it, h);
	while (g_hash_table_iter_next(&it, &key, &val)) {
		e[i].name = key;
		e[i].g = val;
		i++;
	}
	qsort(e, i, sizeof(*e), stats_group_cmp);
	*n = i;
	return e;
}

/* stats_table - a name -> g_new'ed value table */
static GHashTable *stats_table(void)
{
	return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

void ctl_stats_init(struct ctl_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->cats = stats_table();
	s->domains = stats_table();
	s->prov = stats_table();
}

void ctl_stats_release(struct ctl_stats *s)
{
	GHashTable **t[] = { &s->domains, &s->cats, &s->prov };
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(t); i++)
		if (*t[i]) {
			g_hash_table_destroy(*t[i]);
			*t[i] = NULL;
		}
	for (i = 0; i < CTL_BY_N; i++)
		if (s->by[i]) {
			g_hash_table_destroy(s->by[i]);
			s->by[i] = NULL;
		}
	g_free(s->recent);
	s->recent = NULL;
	for (i = 0; i < s->n_rules; i++)
		g_free(s->rules[i].text);
	g_free(s->rules);
	s->rules = NULL;
	s->n_rules = 0;
}

/* stats_rules - the hits of CFG's [classify] rules (a rule changed
   since starts from nothing) */
static int stats_rules(struct state *st, MDB_txn *txn,
		       const struct config *cfg, struct ctl_stats *s)
{
	struct classify_overrides *o = NULL;
	char key[CLASSIFY_HIT_KEY_MAX], err[256];
	size_t i, n;
	int rc = 0;

	if (!cfg || classify_overrides_parse(cfg->classify_rules, &o, err,
					     sizeof(err)) != 0)
		return 0;	/* check-config says what is wrong */
	n = classify_overrides_count(o);
	s->rules = g_new0(struct ctl_rule_hits, n ? n : 1);
	for (i = 0; i < n && rc == 0; i++) {
		const char *text = classify_overrides_text(o, i);

		s->rules[i].text = g_strdup(text);
		classify_hit_key(text, key, sizeof(key));
		rc = state_meta_get_u64(st, txn, key, &s->rules[i].hits);
		if (rc == -ENOENT) {
			s->rules[i].hits = 0;
			rc = 0;
		}
		s->n_rules = i + 1;
	}
	classify_overrides_free(o);
	return rc;
}

int ctl_stats_gather(struct state *st, const struct config *cfg,
		     struct ctl_stats *s)
{
	MDB_txn *txn = NULL;
	size_t i;
	int rc;

	for (i = 0; i < CTL_BY_N; i++)
		if ((s->by_mask & (1u << i)) && !s->by[i])
			s->by[i] = stats_table();
	if (s->want_recent && !s->recent)
		s->recent = g_new0(struct ctl_recent, CTL_STATS_RECENT);
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
	rc = stats_rules(st, txn, cfg, s);
	if (rc != 0)
		goto out;
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

#define STATS_NAME_WIDTH 30	/* the name column, wider when a name is */

/* stats_line - "  NAME  COUNT" with NAME padded to W columns */
static void stats_line(FILE *out, const char *name, int w, uint64_t n)
{
	fputs("  ", out);
	ctl_text_pad(out, name, w);
	fprintf(out, " %10llu\n", (unsigned long long)n);
}

/* stats_width - the name column for the entries of E (and WIDTH) */
static int stats_width(const struct ctl_stats_entry *e, size_t n, int width)
{
	char clean[256];
	size_t i;

	for (i = 0; i < n; i++)
		width = MAX(width, ctl_text_width(ctl_text_clean(
					   e[i].name, clean, sizeof(clean))));
	return width;
}

/* stats_text_entries - "  NAME  COUNT" lines */
static void stats_text_entries(FILE *out, const struct ctl_stats_entry *e,
			       size_t n, int w)
{
	char clean[256];
	size_t i;

	if (n == 0)
		fprintf(out, "  (none)\n");
	for (i = 0; i < n; i++)
		stats_line(out, ctl_text_clean(e[i].name, clean, sizeof(clean)),
			   w, e[i].n);
}

static void stats_text(FILE *out, const struct ctl_stats *s,
		       const struct ctl_stats_entry *cats, size_t n_cats,
		       const struct ctl_stats_entry *doms, size_t n_doms)
{
	int w = stats_width(doms, n_doms,
			    stats_width(cats, n_cats, STATS_NAME_WIDTH));
	size_t i;

	fprintf(out, "addresses: %llu\n", (unsigned long long)s->records);
	if (s->undecodable)
		fprintf(out, "records that do not decode: %llu\n",
			(unsigned long long)s->undecodable);
	fprintf(out, "by status:\n");
	for (i = 0; i < RCPT_STATUS_COUNT; i++)
		stats_line(out, ctl_status_name((uint8_t)i), w,
			   s->by_status[i]);
	fprintf(out, "by last category:\n");
	stats_text_entries(out, cats, n_cats, w);
	fprintf(out, "top domains of suppressed addresses:\n");
	stats_text_entries(out, doms, n_doms, w);
	fprintf(out, "counters:\n");
	for (i = 0; i < CTL_STATS_N_COUNTERS; i++)
		stats_line(out, ctl_stats_counter_names[i] + strlen("count."), w,
			   s->counters[i]);
	fprintf(out, "files: %llu (%llu done, %llu partial, %llu failed)\n",
		(unsigned long long)s->files,
		(unsigned long long)s->files_by_status[FILE_DONE],
		(unsigned long long)s->files_by_status[FILE_PARTIAL],
		(unsigned long long)s->files_by_status[FILE_FAILED]);
	if (s->notify_queued)
		fprintf(out, "operator mail: %llu items waiting ([notify])\n",
			(unsigned long long)s->notify_queued);
	ctl_paused_text(out, s->paused, s->n_paused);
	if (s->n_rules) {
		fprintf(out, "[classify] rules, hits:\n");
		for (i = 0; i < s->n_rules; i++)
			fprintf(out, "  %10llu  %s\n",
				(unsigned long long)s->rules[i].hits,
				s->rules[i].text);
	}
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
	if (ok) {
		cJSON *rules = cJSON_AddArrayToObject(o, "rules");

		ok = rules != NULL;
		for (i = 0; ok && i < s->n_rules; i++) {
			cJSON *r = cJSON_CreateObject();

			ok = r && cJSON_AddItemToArray(rules, r);
			if (!ok) {
				cJSON_Delete(r);
				break;
			}
			ok = cJSON_AddItemToObject(r, "rule",
						   ctl_json_string(
							   s->rules[i].text)) &&
			     stats_json_num(r, "hits", s->rules[i].hits);
		}
	}
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

/* stats_by_text - the groups as an aligned table and a summary line */
static void stats_by_text(FILE *out, enum ctl_by by,
			  const struct ctl_group_entry *e, size_t n,
			  size_t shown)
{
	char clean[256], *head = g_ascii_strup(ctl_by_name(by), -1);
	int w = ctl_text_width(head);
	size_t i;

	for (i = 0; i < shown; i++)
		w = MAX(w, ctl_text_width(e[i].name));
	ctl_text_pad(out, head, w);
	fprintf(out, " %10s %8s %8s %10s %12s %8s\n", "ADDRESSES", "HARD",
		"SOFT", "COMPLAINED", "UNSUBSCRIBED", "ACTIVE");
	for (i = 0; i < shown; i++) {
		const struct ctl_group *g = e[i].g;

		ctl_text_pad(out, ctl_text_clean(e[i].name, clean,
						 sizeof(clean)), w);
		fprintf(out, " %10" PRIu64 " %8" PRIu64 " %8" PRIu64
			" %10" PRIu64 " %12" PRIu64 " %8" PRIu64 "\n", g->total,
			g->n[RCPT_HARD], g->n[RCPT_SOFT], g->n[RCPT_COMPLAINED],
			g->n[RCPT_UNSUBSCRIBED], g->n[RCPT_ACTIVE]);
	}
	fprintf(out, "-- %zu %s%s%s\n", n, ctl_by_name(by),
		n == 1 ? "" : "s",
		shown < n ? " (the first shown)" : "");
	g_free(head);
}

/* stats_by_json - {"by": KEY, "groups": [{KEY: name, "addresses": n,
   "hard": n, ...}]}, NULL on ENOMEM */
static cJSON *stats_by_json(const struct ctl_stats *s, enum ctl_by by,
			    const struct ctl_group_entry *e, size_t shown)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *arr = o ? cJSON_AddArrayToObject(o, "groups") : NULL;
	bool ok = arr && cJSON_AddStringToObject(o, "by", ctl_by_name(by)) &&
		  cJSON_AddItemToObject(o, "since", s->since_set ?
					ctl_json_time(s->since) :
					cJSON_CreateNull());
	size_t i, k;

	for (i = 0; ok && i < shown; i++) {
		cJSON *g = cJSON_CreateObject();

		ok = g && cJSON_AddItemToArray(arr, g);
		if (!ok) {
			cJSON_Delete(g);
			break;
		}
		ok = cJSON_AddItemToObject(g, ctl_by_name(by),
					   ctl_json_string(e[i].name)) &&
		     stats_json_num(g, "addresses", e[i].g->total);
		for (k = 0; ok && k < RCPT_STATUS_COUNT; k++)
			ok = stats_json_num(g, ctl_status_name((uint8_t)k),
					    e[i].g->n[k]);
	}
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* stats_args - --by, --since, --limit, --format; 0 or EXIT_USAGE */
static int stats_args(struct ctl_ctx *ctx, const struct cli_args *a,
		      struct ctl_stats *s, int *by, uint64_t *limit,
		      enum ctl_format *fmt)
{
	const char *fmt_s = NULL;
	char clean[64], *end;
	size_t i;
	int rc;

	*by = -1;
	*limit = 0;
	*fmt = CTL_FMT_TEXT;
	for (i = 0; i < a->n_opts; i++) {
		const char *v = a->opts[i].value;

		switch (a->opts[i].key) {
		case CTL_O_BY:
			*by = ctl_by_parse(v);
			if (*by < 0)
				return ctl_usage(ctx, "stats", "--by takes "
						 "domain, campaign, sender, "
						 "vmta or provider, not '%s'",
						 ctl_text_clean(v, clean,
								sizeof(clean)));
			break;
		case CTL_O_SINCE:
			if (timeparse_since(v, ctx->now, &s->since) != 0)
				return ctl_usage(ctx, "stats", "bad --since "
						 "value '%s' (a time like "
						 "2026-11-24 or a duration "
						 "like 7d)", ctl_text_clean(
							 v, clean,
							 sizeof(clean)));
			s->since_set = true;
			break;
		case CTL_O_LIMIT:
			errno = 0;
			*limit = g_ascii_strtoull(v, &end, 10);
			if (errno || end == v || *end || *limit == 0 ||
			    !g_ascii_isdigit(v[0]))
				return ctl_usage(ctx, "stats", "--limit takes "
						 "a number from 1 up");
			break;
		case CTL_O_FORMAT:
			fmt_s = v;
			break;
		}
	}
	if (*by < 0 && (s->since_set || *limit))
		return ctl_usage(ctx, "stats", "--since and --limit go with "
				 "--by");
	rc = ctl_args_none(ctx, a);
	if (rc == 0 && fmt_s)
		rc = ctl_parse_format(ctx, "stats", fmt_s,
				      CTL_FMT_TEXT | CTL_FMT_JSON, fmt);
	return rc;
}

/* stats_by - the output of stats --by */
static int stats_by(struct ctl_ctx *ctx, const struct ctl_stats *s,
		    enum ctl_by by, uint64_t limit, enum ctl_format fmt)
{
	size_t n = 0, shown;
	struct ctl_group_entry *e = ctl_groups_sorted(s->by[by], &n);
	cJSON *o = NULL;
	char *js = NULL;
	int rc = EXIT_OK;

	shown = limit && limit < n ? (size_t)limit : n;
	if (fmt == CTL_FMT_TEXT) {
		stats_by_text(ctx->out, by, e, n, shown);
		goto out;
	}
	o = stats_by_json(s, by, e, shown);
	js = o ? cJSON_Print(o) : NULL;
	if (!js) {
		fprintf(stderr, "%s: stats: out of memory\n", ctx->prog);
		rc = EXIT_SOFTWARE;
		goto out;
	}
	fprintf(ctx->out, "%s\n", js);
out:
	cJSON_free(js);
	cJSON_Delete(o);
	g_free(e);
	return rc;
}

int cmd_stats(struct ctl_ctx *ctx, const struct cli_args *args)
{
	struct ctl_stats s;
	struct ctl_stats_entry *cats = NULL, *doms = NULL;
	size_t n_cats = 0, n_doms = 0;
	enum ctl_format fmt;
	struct state *st = NULL;
	cJSON *o = NULL;
	char *js = NULL;
	uint64_t limit;
	int rc, by;

	ctl_stats_init(&s);
	rc = stats_args(ctx, args, &s, &by, &limit, &fmt);
	if (rc != 0)
		goto out;
	if (by >= 0)
		s.by_mask = 1u << by;
	rc = ctl_state_open(ctx, false, &st);
	if (rc != 0)
		goto out;
	rc = ctl_stats_gather(st, ctx->cfg, &s);
	if (rc != 0) {
		rc = ctl_state_error(ctx, "read", rc);
		goto out;
	}
	if (by >= 0) {
		rc = stats_by(ctx, &s, (enum ctl_by)by, limit, fmt);
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
