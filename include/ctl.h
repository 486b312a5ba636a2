/*
 * ctl.h - the internal API of bouncectl: its subcommands (one cmd_<name>
 * function each, called from the dispatch table in main_bouncectl.c), the
 * plumbing they share (ctl_util.c) and the output encodings of records
 * (ctl_json.c: JSON objects, RFC 3339 times, CSV fields, terminal-safe text).
 *
 * Every cmd_* function parses its own options (ARGV[0] is the command name)
 * and returns a process exit code from exitcodes.h, after printing its
 * message: 0, EXIT_USAGE, EXIT_NOINPUT (no state yet), CTL_EXIT_NOADDR
 * (unknown address), EXIT_IOERR (state error).  Reading commands use
 * read-only LMDB transactions only; forget and reevaluate use short write
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

typedef int (*ctl_cmd_fn)(struct ctl_ctx *ctx, int argc, char **argv);

/* one entry of the dispatch table (main_bouncectl.c) */
struct ctl_cmd {
	const char *name;
	ctl_cmd_fn fn;
	const char *synopsis;	/* options after the name */
	const char *summary;	/* one line */
	const char *help;	/* paragraphs for "help CMD", "\n"-separated */
};

int cmd_show(struct ctl_ctx *ctx, int argc, char **argv);
int cmd_list(struct ctl_ctx *ctx, int argc, char **argv);
int cmd_stats(struct ctl_ctx *ctx, int argc, char **argv);
int cmd_files(struct ctl_ctx *ctx, int argc, char **argv);
int cmd_forget(struct ctl_ctx *ctx, int argc, char **argv);
int cmd_reevaluate(struct ctl_ctx *ctx, int argc, char **argv);
int cmd_queue(struct ctl_ctx *ctx, int argc, char **argv);
int cmd_dead(struct ctl_ctx *ctx, int argc, char **argv);
int cmd_retry(struct ctl_ctx *ctx, int argc, char **argv);
int cmd_resend(struct ctl_ctx *ctx, int argc, char **argv);
int cmd_graph(struct ctl_ctx *ctx, int argc, char **argv);
int cmd_report(struct ctl_ctx *ctx, int argc, char **argv);

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
int ctl_graph_parse(const struct ctl_ctx *ctx, int argc, char **argv,
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
#define CTL_STATS_N_COUNTERS 19

/* the meta counters shown ("count.records", "count.hard", …) */
extern const char *const ctl_stats_counter_names[CTL_STATS_N_COUNTERS];

struct ctl_stats {
	uint64_t records;
	uint64_t by_status[RCPT_STATUS_COUNT];
	uint64_t undecodable;
	GHashTable *cats;	/* last bounce category -> g_new'ed uint64_t */
	GHashTable *domains;	/* of suppressed addresses, the same */
	uint64_t counters[CTL_STATS_N_COUNTERS];
	uint64_t files;
	uint64_t files_by_status[3]; /* partial, done, failed */
	uint64_t notify_queued;	/* items waiting for the operator's mail */
	struct ctl_pause paused[CTL_PAUSED_MAX]; /* providers paused */
	size_t n_paused;
};

struct ctl_stats_entry {
	const char *name;	/* borrowed from the hash table */
	uint64_t n;
};

/* ctl_stats_init / ctl_stats_release - empty tables; free them */
void ctl_stats_init(struct ctl_stats *s);
void ctl_stats_release(struct ctl_stats *s);
/* ctl_stats_gather - walk the state once (one read-only transaction)
   into S (initialised), the pauses of CFG's providers too; 0 or -errno */
int ctl_stats_gather(struct state *st, const struct config *cfg,
		     struct ctl_stats *s);
/* ctl_stats_sorted - the entries of H, most first, then by name; *N of
   them; g_free the result */
struct ctl_stats_entry *ctl_stats_sorted(GHashTable *h, size_t *n);

/* ---- ctl_util.c: plumbing shared by the commands ---- */

enum ctl_format {
	CTL_FMT_TEXT = 1 << 0,
	CTL_FMT_JSON = 1 << 1,
	CTL_FMT_CSV = 1 << 2,
};

/*
 * ctl_state_open - open the state directory of the config: read-only, or
 * for writing when WRITE (but never create it: a missing state is
 * "no state in DIR yet").  Returns 0, or an exit code after the message
 * (EXIT_NOINPUT when there is no state, EXIT_IOERR otherwise).
 */
int ctl_state_open(const struct ctl_ctx *ctx, bool write, struct state **st);

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
 * --format (one of ALLOWED); 0, or EXIT_USAGE after the message.
 */
int ctl_args_format(const struct ctl_ctx *ctx, int argc, char **argv,
		    unsigned allowed, enum ctl_format *fmt);

/*
 * ctl_addr_arg - normalise the ADDR argument into OUT (ADDR_MAX + 1 bytes);
 * 0, or EXIT_USAGE after "PROG: 'ARG' is not an email address".
 */
int ctl_addr_arg(const struct ctl_ctx *ctx, const char *arg, char *out);

/*
 * ctl_args_addr - the arguments of a command taking one ADDR and at most
 * one valued option OPT (e.g. "--format"): *ADDR and *VALUE (NULL when
 * not given).  0, or EXIT_USAGE after the message.
 */
int ctl_args_addr(const struct ctl_ctx *ctx, int argc, char **argv,
		  const char *opt, const char **addr, const char **value);

/* ctl_is_help - ARG is -h or --help */
bool ctl_is_help(const char *arg);

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
 * first_seen, counts{}, soft_times[], soft_first, soft_last, last_soft,
 * actions[].  Returns a new object (cJSON_Delete) or NULL on ENOMEM.
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

#endif
