/*
 * ctl.h - the internal API of bouncectl: its subcommands (one cmd_<name>
 * function each, called from the dispatch table in main_bouncectl.c), the
 * plumbing they share (ctl_common.c) and the output encodings of records
 * (ctl_json.c: JSON objects, RFC 3339 times, CSV fields, terminal-safe text).
 *
 * Every command declares its options in a table (struct cli_opt, the
 * CTL_OPTS_* below); main_bouncectl.c parses the command line with it
 * (cli_args.c: getopt_long, options anywhere, the global ones too) and
 * answers --help from it, and the cmd_* function gets the options found,
 * in order, and the operands.  It checks their values and returns a
 * process exit code from exitcodes.h, after printing its message: 0,
 * EXIT_USAGE, EXIT_NOINPUT (no state yet), CTL_EXIT_NOADDR (unknown
 * address), EXIT_IOERR (state error).  Reading commands use read-only
 * LMDB transactions only (a state the user may read but not write is
 * enough for them); forget, reevaluate, retry and resend use short write
 * transactions.
 */
#ifndef BOUNCED_CTL_H
#define BOUNCED_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>
#include <lmdb.h>
#include <glib.h>

#include "cli_args.h"
#include "config.h"
#include "event.h"
#include "graph.h"
#include "rcpt.h"

struct state;

#define CTL_EXIT_NOADDR 67	/* no record for the address (EX_NOUSER) */

/* what every command gets */
struct ctl_ctx {
	const char *prog;	/* "bouncectl", prefix of every message */
	const struct config *cfg;
	FILE *out;		/* where results go (stdout) */
	int64_t now;		/* wall clock at start, for --since */
};

typedef int (*ctl_cmd_fn)(struct ctl_ctx *ctx, const struct cli_args *a);

/* one entry of the dispatch table (main_bouncectl.c) */
struct ctl_cmd {
	const char *name;
	ctl_cmd_fn fn;
	const struct cli_opt *opts;	/* its options (the help lists them) */
	bool writes;		/* changes the state (else read-only) */
	const char *synopsis;	/* operands and options after the name */
	const char *summary;	/* one line */
	const char *help;	/* paragraphs for "help CMD", "\n"-separated */
};

/* the keys of the commands' long options (cli_opt.key); -n is --dry-run */
enum ctl_opt_key {
	CTL_O_FORMAT = CLI_KEY_LONG,
	CTL_O_STATUS,
	CTL_O_SINCE,
	CTL_O_REASON,
	CTL_O_PROVIDER,
	CTL_O_ALL,
	CTL_O_DOMAIN,
	CTL_O_CATEGORY,
	CTL_O_SENDER,
	CTL_O_JOB,
	CTL_O_LIMIT,
	CTL_O_BY,
	CTL_O_PERIOD,
	CTL_O_OUT,
	CTL_O_WIDTH,
	CTL_O_HEIGHT,
	CTL_O_REFRESH,
	CTL_O_OPEN,
};

/* the option tables of the commands */
extern const struct cli_opt ctl_opts_show[], ctl_opts_list[],
	ctl_opts_stats[], ctl_opts_files[], ctl_opts_forget[],
	ctl_opts_reevaluate[], ctl_opts_queue[], ctl_opts_dead[],
	ctl_opts_retry[], ctl_opts_resend[], ctl_opts_graph[],
	ctl_opts_report[], ctl_opts_rates[], ctl_opts_incidents[],
	ctl_opts_incident[], ctl_opts_classify[];

int cmd_show(struct ctl_ctx *ctx, const struct cli_args *a);
int cmd_list(struct ctl_ctx *ctx, const struct cli_args *a);
int cmd_stats(struct ctl_ctx *ctx, const struct cli_args *a);
int cmd_files(struct ctl_ctx *ctx, const struct cli_args *a);
int cmd_forget(struct ctl_ctx *ctx, const struct cli_args *a);
int cmd_reevaluate(struct ctl_ctx *ctx, const struct cli_args *a);
int cmd_queue(struct ctl_ctx *ctx, const struct cli_args *a);
int cmd_dead(struct ctl_ctx *ctx, const struct cli_args *a);
int cmd_retry(struct ctl_ctx *ctx, const struct cli_args *a);
int cmd_resend(struct ctl_ctx *ctx, const struct cli_args *a);
int cmd_graph(struct ctl_ctx *ctx, const struct cli_args *a);
int cmd_report(struct ctl_ctx *ctx, const struct cli_args *a);
int cmd_rates(struct ctl_ctx *ctx, const struct cli_args *a);
int cmd_incidents(struct ctl_ctx *ctx, const struct cli_args *a);
int cmd_incident(struct ctl_ctx *ctx, const struct cli_args *a);
int cmd_classify(struct ctl_ctx *ctx, const struct cli_args *a);

/* ---- ctl_graph.c: options of graph and report ---- */

struct ctl_graph_args {
	const char *out;		/* --out DIR (created when missing) */
	bool one_period;		/* --period given (graph) */
	enum graph_period period;
	struct graph_opts opts;		/* --format, --width, --height */
	int64_t refresh;		/* report: --refresh seconds, 0 = none */
};

/*
 * ctl_graph_parse - the options of graph (REPORT false: --period, --out
 * defaults to ".") or report (--refresh, --out required); DIR is made.
 * 0, or an exit code after the message.
 */
int ctl_graph_parse(const struct ctl_ctx *ctx, const struct cli_args *args,
		    bool report, struct ctl_graph_args *a);

/* ctl_graph_error - print graph_render's ERR; its exit code (66 no RRD,
   74 librrd failed) */
int ctl_graph_error(const struct ctl_ctx *ctx, const char *cmd, int rc,
		    const char *err);

/* ---- ctl_paused.c: providers paused for refused credentials ---- */

#define CTL_PAUSED_MAX 32

struct ctl_pause {
	char name[32];
	int64_t since_ms;
	char why[256];
};

/* ctl_paused - the paused providers of CFG (at most MAX) into OUT, read in
   TXN; how many */
size_t ctl_paused(struct state *st, MDB_txn *txn, const struct config *cfg,
		  struct ctl_pause *out, size_t max);
/* ctl_paused_text - one line per paused provider */
void ctl_paused_text(FILE *out, const struct ctl_pause *p, size_t n);
/* ctl_paused_json - [{provider, since, reason}], NULL on ENOMEM */
cJSON *ctl_paused_json(const struct ctl_pause *p, size_t n);

/* ---- ctl_stats.c: the numbers of stats, shared with report ---- */

#define CTL_STATS_TOP_DOMAINS 10
#define CTL_STATS_N_COUNTERS 24
#define CTL_STATS_RECENT 20	/* latest suppressions kept for report */

/* the meta counters shown ("count.records", "count.hard", …) */
extern const char *const ctl_stats_counter_names[CTL_STATS_N_COUNTERS];

/* what records are grouped by (stats --by, the report's top tables) */
enum ctl_by {
	CTL_BY_DOMAIN = 0,	/* of the address */
	CTL_BY_CAMPAIGN,	/* job id of the latest bounce or complaint */
	CTL_BY_SENDER,		/* its orig, lowercased */
	CTL_BY_VMTA,		/* its VirtualMTA */
	CTL_BY_PROVIDER,	/* every provider asked to act on the address */
	CTL_BY_N
};

/* ctl_by_name - "domain", "campaign", ...; ctl_by_parse - back, or -1 */
const char *ctl_by_name(enum ctl_by by);
int ctl_by_parse(const char *name);

/* the addresses of one group, by status */
struct ctl_group {
	uint64_t n[RCPT_STATUS_COUNT];
	uint64_t total;
};

/* one group, sorted */
struct ctl_group_entry {
	const char *name;	/* borrowed from the hash table */
	const struct ctl_group *g;
};

/* a provider's entries in the recipient records, by state */
struct ctl_prov_entries {
	uint64_t by_state[4];	/* pending, done, dead, dry-run */
};

/* one of the latest suppressions */
struct ctl_recent {
	char addr[ADDR_MAX + 1];
	uint8_t status;
	int64_t time;		/* status_time (record time) */
	struct rcpt_reason reason;
};

struct ctl_stats {
	/* what to gather besides the totals (set before ctl_stats_gather) */
	unsigned by_mask;	/* 1 << enum ctl_by of the groups wanted */
	bool since_set;		/* groups: only records updated since SINCE */
	int64_t since;
	bool want_recent;	/* the latest suppressions */

	uint64_t records;
	uint64_t by_status[RCPT_STATUS_COUNT];
	uint64_t undecodable;
	GHashTable *cats;	/* last bounce category -> g_new'ed uint64_t */
	GHashTable *domains;	/* of suppressed addresses, the same */
	GHashTable *by[CTL_BY_N]; /* name -> struct ctl_group, when wanted */
	GHashTable *prov;	/* provider -> struct ctl_prov_entries */
	uint64_t counters[CTL_STATS_N_COUNTERS];
	uint64_t files;
	uint64_t files_by_status[3]; /* partial, done, failed */
	uint64_t notify_queued;	/* items waiting for the operator's mail */
	struct ctl_pause paused[CTL_PAUSED_MAX]; /* providers paused */
	size_t n_paused;
	struct ctl_recent *recent; /* newest first, CTL_STATS_RECENT */
	size_t n_recent;
	/* the [classify] rules of the configuration and their hits */
	struct ctl_rule_hits *rules;
	size_t n_rules;
};

struct ctl_rule_hits {
	char *text;		/* "PATTERN => CATEGORY" */
	uint64_t hits;
};

struct ctl_stats_entry {
	const char *name;	/* borrowed from the hash table */
	uint64_t n;
};

/* ctl_stats_init / ctl_stats_release - empty tables; free them */
void ctl_stats_init(struct ctl_stats *s);
void ctl_stats_release(struct ctl_stats *s);
/* ctl_stats_gather - walk the state once (one read-only transaction)
   into S (initialised, its wishes set), the pauses of CFG's providers
   too; 0 or -errno */
int ctl_stats_gather(struct state *st, const struct config *cfg,
		     struct ctl_stats *s);
/* ctl_stats_sorted - the entries of H, most first, then by name; *N of
   them; g_free the result */
struct ctl_stats_entry *ctl_stats_sorted(GHashTable *h, size_t *n);
/* ctl_groups_sorted - the groups of H, most suppressed first, then most
   soft-bouncing, then by name; *N of them; g_free the result */
struct ctl_group_entry *ctl_groups_sorted(GHashTable *h, size_t *n);
/* ctl_group_suppressed - hard + complained + unsubscribed of G */
uint64_t ctl_group_suppressed(const struct ctl_group *g);

/* ---- ctl_health.c: providers and failed files, for report ---- */

/* one provider as the report shows it */
struct ctl_health {
	char name[32];
	const char *type;	/* "mailwizz", ...; "" when not configured */
	bool configured;
	uint64_t done;		/* operations done (recipients' entries) */
	uint64_t dry_run;	/* logged only (no provider configured) */
	uint64_t pending;	/* actions in the outbox */
	uint64_t retrying;	/* of them, tried and failed at least once */
	uint64_t dead;		/* dead letters */
	bool paused;
	int64_t paused_since_ms;
	char paused_why[256];
	char last_error[256];	/* of the action failed last, "" none */
	int64_t last_error_ms;	/* when it is due again (or died) */
};

/*
 * ctl_health_gather - the providers of CFG, and any other name the state
 * holds actions of, into H (a GArray of struct ctl_health), from S (its
 * prov table and pauses) and the outbox and dead tables read in TXN;
 * 0 or -errno.
 */
int ctl_health_gather(struct state *st, MDB_txn *txn,
		      const struct config *cfg, const struct ctl_stats *s,
		      GArray *h);

/* one file of SPOOL/failed/ */
struct ctl_failed {
	char name[256];
	int64_t mtime;		/* when it was moved there, about */
	uint64_t size;
	char why[320];		/* the "why:" line of its NAME.why */
};

/*
 * ctl_failed_files - the newest MAX files of SPOOL/failed/ into OUT (a
 * GArray of struct ctl_failed), newest first; *TOTAL how many there are.
 * 0 (also when failed/ does not exist), or -errno when it cannot be
 * listed.
 */
int ctl_failed_files(const struct config *cfg, GArray *out, size_t max,
		     size_t *total);

/* ---- ctl_incidents.c: the incidents, for incidents and report ---- */

struct incident;

/*
 * ctl_incidents_gather - the incidents of the state read in TXN (only
 * the open ones when OPEN_ONLY) appended to OUT (a GArray of struct
 * incident), in id order; 0 (also for a state from before incidents) or
 * -errno.
 */
int ctl_incidents_gather(struct state *st, MDB_txn *txn, bool open_only,
			 GArray *out);

/*
 * ctl_report_incidents - the report's "Open incidents" section (id
 * "incidents") for INCS (a GArray of struct incident, open ones) into O:
 * a table, or "no open incident" (ctl_report.c).
 */
void ctl_report_incidents(GString *o, const GArray *incs);

/*
 * ctl_report_rates - the report's "Rates" section into O: the busiest
 * campaigns and destinations of the last 24 hours of records with their
 * bounce and complaint rates, the same hour by hour as charts WIDTH
 * pixels wide (the five busiest of each and the rest as "(other)"), and
 * the busiest destinations day by day over the last week
 * (ctl_report_rates.c); 0 or -errno.
 */
int ctl_report_rates(GString *o, struct state *st, MDB_txn *txn,
		     unsigned width);

/* one series of a chart: a rate per bin (NAN: no volume in the bin) */
struct ctl_chart_series {
	const char *name;
	const double *v;	/* n values, in percent */
	double rate;		/* over the whole span, in percent */
	uint64_t volume;	/* what the rate is of, over the span */
	bool other;		/* the rest, drawn grey */
};

/* a line chart of rates over equal time bins */
struct ctl_chart {
	const char *id;		/* the svg element's id */
	const char *title;
	const char *axis_text;	/* under the hours: "hour (UTC)" */
	const char *span_text;	/* "24 h", in the legend */
	const char *volume_text;	/* "attempts", in the legend */
	unsigned width, height;	/* of the plot and its axes */
	int64_t t0, bin;	/* bin k is [t0 + k bin, t0 + (k+1) bin) */
	size_t n;		/* bins */
	const struct ctl_chart_series *s;
	size_t ns;
};

/*
 * ctl_report_chart - C as an inline SVG in a figure, appended to O: the
 * lines, a percentage axis from 0, hour labels (UTC) and one legend line
 * per series ("NAME: RATE over SPAN (VOLUME …), highest PEAK at HH:MM")
 * under the plot (ctl_report_chart.c).
 */
void ctl_report_chart(GString *o, const struct ctl_chart *c);

/* ---- ctl_where.c: where an input taken is now ---- */

enum ctl_where {
	CTL_WHERE_STREAM = 0,	/* not a file (stdin, a pipe) */
	CTL_WHERE_HERE,		/* still where it was taken */
	CTL_WHERE_MOVED,	/* moved by the worker: done/, failed/ ... */
	CTL_WHERE_GONE,		/* deleted (done-retention) or moved away */
	CTL_WHERE_UNKNOWN,	/* a directory that may not be searched */
};

/*
 * ctl_file_where - where the input taken as KEY (an absolute path; F its
 * files entry, or NULL) is now; OUT gets its path, relative to the spool
 * when inside it ("done/acct-1.csv", "ignored/fbl.NAME", "acct/x.csv"),
 * for HERE and MOVED, else "".
 */
enum ctl_where ctl_file_where(const struct config *cfg, const char *key,
			      const struct file_rec *f, char *out,
			      size_t outlen);

/* ctl_where_text - " (now done/x.csv)", " (gone: ...)" or "" to follow
   the source's name; BUF holds what needs it */
const char *ctl_where_text(enum ctl_where w, const char *where, char *buf,
			   size_t len);

/* ---- ctl_common.c: plumbing shared by the commands ---- */

enum ctl_format {
	CTL_FMT_TEXT = 1 << 0,
	CTL_FMT_JSON = 1 << 1,
	CTL_FMT_CSV = 1 << 2,
	CTL_FMT_JSONL = 1 << 3,	/* one JSON object a line */
};

/*
 * ctl_state_open - open the state directory of the config: read-only, or
 * for writing when WRITE (but never create it: a missing state is
 * "no state in DIR yet").  Returns 0, or an exit code after the message
 * (EXIT_NOINPUT when there is no state, EXIT_IOERR otherwise).
 */
int ctl_state_open(const struct ctl_ctx *ctx, bool write, struct state **st);

/* ctl_read_begin - the state opened read-only and a read-only
   transaction begun; 0, or an exit code after the message (nothing
   left open).  ctl_read_end closes both (either may be NULL). */
int ctl_read_begin(const struct ctl_ctx *ctx, struct state **st,
		   MDB_txn **txn);
void ctl_read_end(struct state *st, MDB_txn *txn);

/* ctl_json_out - O printed, indented, and a newline; 0, or EXIT_IOERR
   after the message when memory ran out */
int ctl_json_out(const struct ctl_ctx *ctx, const cJSON *o);

/* ctl_state_error - print "PROG: WHAT STATE-DIR: REASON", return EXIT_IOERR */
int ctl_state_error(const struct ctl_ctx *ctx, const char *what, int rc);

/* ctl_usage - print "PROG: CMD: MESSAGE" and a pointer to help; EXIT_USAGE */
int ctl_usage(const struct ctl_ctx *ctx, const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * ctl_parse_format - VALUE of --format into *FMT when it is one of ALLOWED
 * (a mask of enum ctl_format); 0, or EXIT_USAGE after the message.
 */
int ctl_parse_format(const struct ctl_ctx *ctx, const char *cmd,
		     const char *value, unsigned allowed, enum ctl_format *fmt);

/*
 * ctl_args_format - the arguments of a command whose only option is
 * --format (one of ALLOWED) and that takes no operand; 0, or EXIT_USAGE
 * after the message.
 */
int ctl_args_format(const struct ctl_ctx *ctx, const struct cli_args *a,
		    unsigned allowed, enum ctl_format *fmt);

/* the statuses "suppressed" stands for, as a mask of 1 << RCPT_... */
#define CTL_SUPPRESSED                                                         \
	((1u << RCPT_HARD) | (1u << RCPT_COMPLAINED) |                         \
	 (1u << RCPT_UNSUBSCRIBED))

/* ctl_status_mask - a --status VALUE of CMD into *MASK: names separated
   by ',' (or ';'), any case, each a status of ALLOWED (1 << RCPT_...) or
   "suppressed"; an empty value or name, or another name, is a usage
   error saying EXPECTED.  0, or EXIT_USAGE after the message. */
int ctl_status_mask(const struct ctl_ctx *ctx, const char *cmd,
		    const char *value, unsigned allowed, const char *expected,
		    unsigned *mask);

/* ctl_args_none - refuse operands (0, or EXIT_USAGE after the message) */
int ctl_args_none(const struct ctl_ctx *ctx, const struct cli_args *a);

/*
 * ctl_addr_arg - normalise the ADDR argument into OUT (ADDR_MAX + 1 bytes);
 * 0, or EXIT_USAGE after "PROG: 'ARG' is not an email address".
 */
int ctl_addr_arg(const struct ctl_ctx *ctx, const char *arg, char *out);

/*
 * ctl_args_addr - the one ADDR operand of a command (*ADDR), and the value
 * of its option KEY (the last one given; NULL when not given).  0, or
 * EXIT_USAGE after the message.
 */
int ctl_args_addr(const struct ctl_ctx *ctx, const struct cli_args *a,
		  int key, const char **addr, const char **value);

/* ctl_key_copy - an LMDB key (not NUL-terminated) into OUT of OUTLEN;
   0, or -1 when it does not fit */
int ctl_key_copy(const char *key, size_t keylen, char *out, size_t outlen);

/* ---- ctl_json.c: encodings of records ---- */

/* ctl_status_name - rcpt_status_name, "unknown" for out-of-range values */
const char *ctl_status_name(uint8_t status);
/* ctl_action_state_name - "pending", "done", "dead", "dry-run" */
const char *ctl_action_state_name(uint8_t state);
/* ctl_op_name - "unsubscribe", "bounce", "complaint" */
const char *ctl_op_name(uint8_t op);
/* ctl_kind_name - event_kind_name of a stored kind byte */
const char *ctl_kind_name(uint8_t kind);
/* ctl_file_status_name - "partial", "done", "failed" */
const char *ctl_file_status_name(uint8_t status);

/* ctl_reason_empty - REASON was never set (all zero) */
bool ctl_reason_empty(const struct rcpt_reason *reason);

/*
 * ctl_time_rfc3339 - T as "2019-02-08T21:54:05Z" into BUF (>= 21 bytes).
 * Returns 0, or -1 with BUF "" when T is 0 (unknown) or not representable.
 */
int ctl_time_rfc3339(int64_t t, char *buf, size_t len);

/* ctl_time_text - T as timeparse_format does, "-" when 0 */
void ctl_time_text(int64_t t, char *buf, size_t len);

/* ctl_json_time - a JSON string (RFC 3339) for T, JSON null when 0 */
cJSON *ctl_json_time(int64_t t);

/* ctl_json_string - a JSON string of S; invalid UTF-8 becomes U+FFFD */
cJSON *ctl_json_string(const char *s);

/* ctl_json_reason - the reason record as a JSON object (NULL on ENOMEM) */
cJSON *ctl_json_reason(const struct rcpt_reason *reason);

/*
 * ctl_json_rcpt - the record of ADDR as a JSON object: address, status,
 * soft_count, category, updated, escalated, status_time, reason (object
 * for hard/complained/unsubscribed, else null); with DETAIL also
 * first_seen, counts{}, soft_times[], soft_async[] (beside soft_times:
 * true for an rb), soft_first, soft_last, last_soft, actions[].  Returns a new object (cJSON_Delete) or NULL on ENOMEM.
 */
cJSON *ctl_json_rcpt(const char *addr, const struct rcpt *r, bool detail);

/*
 * ctl_csv_field - append S to LINE as one RFC 4180 field: quoted (inner
 * quotes doubled) when it holds a comma, quote, CR or LF.  NULL = empty.
 */
void ctl_csv_field(GString *line, const char *s);

/*
 * ctl_text_clean - S for a terminal into BUF of LEN, on one line: tab, CR
 * and LF become ' ', other control bytes and DEL '?', so that hostile input
 * cannot drive the terminal; always NUL-terminated, truncated to fit (at a
 * UTF-8 character boundary).  Returns BUF.
 */
const char *ctl_text_clean(const char *s, char *buf, size_t len);

/* ctl_text_width - the columns S takes on a terminal (UTF-8: wide
   characters two, combining marks none) */
int ctl_text_width(const char *s);

/* ctl_text_pad - print S and blanks up to WIDTH columns (for aligned
   tables whatever the characters) */
void ctl_text_pad(FILE *out, const char *s, int width);

/* ctl_age_text - an age as "45s", "12m", "3h" or "2d" (rounded down) */
void ctl_age_text(int64_t seconds, char *buf, size_t len);

/* ctl_rcpt_origin - the record that tells where an address's latest
   trouble came from (sender, VirtualMTA, job id): the reason of its
   status, or its last soft bounce when there is no reason */
const struct rcpt_reason *ctl_rcpt_origin(const struct rcpt *r);

#endif
