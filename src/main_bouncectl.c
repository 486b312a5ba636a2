/*
 * main_bouncectl.c - the bouncectl command line: global options, the
 * usage text, and a dispatch table of subcommands (one cmd_<name> function
 * each, in src/ctl_*.c).
 *
 * Exit codes (exitcodes.h, documented in bouncectl(8)): 0 success, 64 bad
 * command line, 66 no state yet, 67 no record for the address, 74 state or
 * output error, 78 configuration error.  Only this file exits.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "config.h"
#include "ctl.h"
#include "exitcodes.h"
#include "log.h"

#define PROG "bouncectl"

static const struct ctl_cmd ctl_cmds[] = {
	{ "show", cmd_show, "ADDR [--format text|json]",
	  "the status of one address and why it has it",
	  "Prints the record of ADDR: its status and since when; for a hard,\n"
	  "complained or unsubscribed address the record that caused it (kind\n"
	  "b, rb, f, d or list, source file and line, category, DSN status and\n"
	  "text, sender, VirtualMTA, job id, time); for an address made hard by\n"
	  "soft bounces how many and over which period, and the last one; the\n"
	  "events counted, the soft bounce times kept, and the provider actions\n"
	  "with their state (pending, done, dead, dry-run).\n"
	  "\n"
	  "ADDR is normalised as bounced does (case, <>, rfc822;) before lookup.\n"
	  "Exit 67 when there is no record for it, 64 when it is not an address.\n"
	  "\n"
	  "  --format text|json   output format (default text)\n" },
	{ "list", cmd_list, "[--status S] [--since T] [--format text|csv|json]",
	  "every record, filtered by status and time",
	  "Prints every record in address order.\n"
	  "\n"
	  "  --status S   only records of status S: active, soft, hard,\n"
	  "               complained, unsubscribed, or suppressed (= hard,\n"
	  "               complained and unsubscribed).  Repeat the option or\n"
	  "               separate statuses with commas to take several.\n"
	  "  --since T    only records updated at or after T: a time\n"
	  "               (\"2019-02-08\", \"2019-02-08 21:54:05+0000\", a Unix\n"
	  "               time) or a duration back from now (\"2h\", \"7d\").\n"
	  "  --format F   text (aligned columns, default), csv (RFC 4180, with\n"
	  "               a header line) or json (one array of objects).\n" },
	{ "stats", cmd_stats, "[--format text|json]",
	  "counts by status, category and domain; counters; files",
	  "Prints the number of records by status, by last bounce category,\n"
	  "the ten domains with the most suppressed addresses, the counters\n"
	  "kept since the state was created, and the number of files taken.\n"
	  "\n"
	  "  --format text|json   output format (default text)\n" },
	{ "files", cmd_files, "[--format text|json]",
	  "the input files taken and how far",
	  "Prints the files table: each source (absolute path, or a stream id),\n"
	  "its status (partial, done, failed), committed byte offset, lines\n"
	  "consumed, records taken, bad lines and when it was last updated.\n"
	  "\n"
	  "  --format text|json   output format (default text)\n" },
	{ "forget", cmd_forget, "ADDR [--reason TEXT]",
	  "make an address active again (false positive)",
	  "Makes ADDR active again: its status, soft bounce times, reason and\n"
	  "provider actions are cleared, its event counters are kept.  The\n"
	  "change is logged at info level with TEXT.  It does not resubscribe\n"
	  "the address at any provider.  Exit 67 when there is no record.\n"
	  "\n"
	  "  --reason TEXT   why, for the log\n" },
	{ "reevaluate", cmd_reevaluate, "[--dry-run]",
	  "apply the current soft-bounce settings to every record",
	  "Applies soft-threshold, soft-min-span and soft-window of the current\n"
	  "configuration to the soft bounce times kept in every record: a soft\n"
	  "address that now qualifies becomes hard, an address made hard by\n"
	  "soft bounces that no longer qualifies goes back to soft.  Each change\n"
	  "is printed as \"ADDR: soft -> hard\", then a summary line.  Changes\n"
	  "are written in transactions of at most 10000 records; an address\n"
	  "made hard gets its provider actions queued as ingest would have\n"
	  "queued them (the summary says how many).\n"
	  "\n"
	  "  --dry-run   print what would change, write nothing\n" },
	{ "queue", cmd_queue, "[--format text|json]",
	  "provider actions waiting to be sent",
	  "Prints the outbox in the order actions fall due: id, provider,\n"
	  "operation (unsubscribe, complaint, bounce), address, step of a\n"
	  "multi-call operation, failed attempts so far, next try, last error.\n"
	  "\n"
	  "  --format text|json   output format (default text)\n" },
	{ "dead", cmd_dead, "[--format text|json]",
	  "provider actions that failed for good",
	  "Prints the dead letters: actions a provider refused permanently (a\n"
	  "4xx answer, bad credentials) or that kept failing longer than the\n"
	  "provider's max-age, with the reason.\n"
	  "\n"
	  "  --format text|json   output format (default text)\n" },
	{ "retry", cmd_retry, "ID... | --all",
	  "queue dead actions again",
	  "Moves the dead actions ID (or all of them) back to the outbox, due\n"
	  "now with their attempts reset; the next 'bounced process' or the\n"
	  "running daemon sends them.  Exit 67 when an ID is not a dead action.\n" },
	{ "resend", cmd_resend,
	  "[ADDR...] [--status S] [--since T] [--provider NAME] [--dry-run]",
	  "queue the provider actions suppressed addresses have not had",
	  "Plans every suppressed address (or each ADDR) again as ingest did,\n"
	  "with the current configuration, from the record that made its\n"
	  "status, and queues what a provider has not had: after a senders\n"
	  "pattern that missed, a provider added or restored, or routing that\n"
	  "missed addresses.  An operation a provider has pending, done or\n"
	  "dead is not asked again (dead letters: 'bouncectl retry'), so it\n"
	  "may run any number of times.  Each address given an action is\n"
	  "printed, then a summary per provider; the running bounced, or the\n"
	  "next 'bounced process', sends them.  Exit 67 when an ADDR has no\n"
	  "record.\n"
	  "\n"
	  "  --status S         hard, complained, unsubscribed or suppressed\n"
	  "                     (the default), several separated by ','\n"
	  "  --since T          suppressed at or after T (2026-11-24, 7d)\n"
	  "  --provider NAME    only this provider\n"
	  "  --dry-run, -n      print what would be queued, queue nothing\n" },
	{ "graph", cmd_graph,
	  "[--period day|week|month|year] [--out DIR] [--format png|svg] "
	  "[--width N] [--height N]",
	  "draw the metrics' graphs into files",
	  "Draws three panels from the round-robin database ([rrd] file) that\n"
	  "bounced updates every minute: bounces (hard, soft, escalated,\n"
	  "duplicates), complaints and unsubscribes, and the provider API\n"
	  "(actions done, retried, dead, and the queue length).  Rates are per\n"
	  "minute over a day, per hour over a week or a month, per day over a\n"
	  "year; each legend gives the series' total over the period and its\n"
	  "peak.  Files are DIR/PANEL-PERIOD.EXT (bounces-day.png, …), each\n"
	  "replaced atomically; their paths are printed.  Exit 66 when there\n"
	  "is no database yet.\n"
	  "\n"
	  "  --period P    day, week, month or year (default: all four)\n"
	  "  --out DIR     where the images go (default: the current\n"
	  "                directory; created when missing)\n"
	  "  --format F    png (default) or svg\n"
	  "  --width N     image width in pixels, 200 to 4000 (default 800)\n"
	  "  --height N    image height in pixels, 200 to 4000 (default 260)\n" },
	{ "report", cmd_report,
	  "--out DIR [--refresh D] [--format png|svg] [--width N] [--height N]",
	  "one HTML page with every graph and the current numbers",
	  "Writes DIR/index.html: one static page with no outside assets\n"
	  "(style inline, images embedded), showing the addresses by status,\n"
	  "the top bounce categories, the top domains of suppressed addresses,\n"
	  "the counters, the files, the queue and the latest dead letters,\n"
	  "then the three graphs of every period (day, week, month, year).\n"
	  "The page is replaced atomically; make it again from cron or a timer\n"
	  "and keep it open.  Without a database yet, the page says so.\n"
	  "\n"
	  "  --out DIR     where index.html goes (created when missing)\n"
	  "  --refresh D   the browser reloads the page every D (default 5m;\n"
	  "                0 = never)\n"
	  "  --format F    png (default) or svg images\n"
	  "  --width N, --height N   image size, as for graph\n" },
};

/* ctl_cmd_lookup - the table entry of NAME, or NULL */
static const struct ctl_cmd *ctl_cmd_lookup(const char *name)
{
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(ctl_cmds); i++)
		if (strcmp(ctl_cmds[i].name, name) == 0)
			return &ctl_cmds[i];
	return NULL;
}

/* ctl_cmd_help - "usage: PROG NAME SYNOPSIS" and the help of C */
static void ctl_cmd_help(const char *prog, const struct ctl_cmd *c, FILE *out)
{
	fprintf(out, "usage: %s [OPTIONS] %s %s\n\n%s", prog, c->name,
		c->synopsis, c->help);
}

/* usage - the full help of bouncectl --help */
static void usage(FILE *out)
{
	size_t i;

	fprintf(out,
		"usage: %s [OPTIONS] COMMAND [ARGS]\n"
		"\n"
		"Inspects and corrects the recipient state that bounced keeps in\n"
		"its state directory.  Reading commands use read-only transactions\n"
		"and never block a running bounced; forget and reevaluate write in\n"
		"short transactions.\n"
		"\n"
		"Commands:\n",
		PROG);
	for (i = 0; i < G_N_ELEMENTS(ctl_cmds); i++)
		fprintf(out, "  %s %s\n      %s\n", ctl_cmds[i].name,
			ctl_cmds[i].synopsis, ctl_cmds[i].summary);
	fprintf(out,
		"  help [COMMAND]\n"
		"      this text, or the details of COMMAND\n"
		"\n"
		"Options (before the command):\n"
		"  -c, --config FILE  read FILE; default $BOUNCED_CONFIG, else the\n"
		"                     built-in defaults (state in ./state)\n"
		"  --debug            log everything\n"
		"  -q, --quiet        log errors only\n"
		"  -h, --help         this text\n"
		"  -V, --version      the version\n"
		"\n"
		"Exit status:\n"
		"  0   success\n"
		"  64  bad command line, or ADDR is not an address\n"
		"  66  no state yet (run 'bounced process' first), or no metrics\n"
		"      database yet (graph)\n"
		"  67  no record for ADDR\n"
		"  73  graph, report: the output could not be written\n"
		"  74  the state could not be read or written, or output failed\n"
		"  78  configuration error\n"
		"\n"
		"Examples:\n"
		"  %s show alice@example.com\n"
		"  %s list --status suppressed --since 7d --format csv > out.csv\n"
		"  %s -c bounced.conf stats --format json\n"
		"  %s forget bob@example.com --reason 'mailbox fixed'\n"
		"  %s reevaluate --dry-run\n"
		"  %s report --out /var/www/bounced\n"
		"\n"
		"See bouncectl(8).\n",
		PROG, PROG, PROG, PROG, PROG, PROG);
}

/* cmd_help - "help" and "help CMD" */
static int cmd_help(int argc, char **argv)
{
	const struct ctl_cmd *c;

	if (argc < 2) {
		usage(stdout);
		return EXIT_OK;
	}
	if (argc > 2) {
		fprintf(stderr, "%s: help: one command at a time\n", PROG);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "help") == 0) {
		printf("usage: %s help [COMMAND]\n\nThe usage of %s, or the "
		       "details of COMMAND.\n", PROG, PROG);
		return EXIT_OK;
	}
	c = ctl_cmd_lookup(argv[1]);
	if (!c) {
		char clean[128];

		fprintf(stderr, "%s: help: unknown command '%s'\n", PROG,
			ctl_text_clean(argv[1], clean, sizeof(clean)));
		return EXIT_USAGE;
	}
	ctl_cmd_help(PROG, c, stdout);
	return EXIT_OK;
}

/* wants_help - -h/--help among the command's arguments (before "--") */
static bool wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (ctl_is_help(argv[i]))
			return true;
	}
	return false;
}

int main(int argc, char **argv)
{
	struct cli_global g;
	struct config *cfg = NULL;
	const struct ctl_cmd *c;
	struct ctl_ctx ctx;
	char **cargv;
	int cargc, rc;

	if (cli_parse_global(PROG, argc, argv, &g) != 0)
		return EXIT_USAGE;
	if (g.help) {
		usage(stdout);
		return EXIT_OK;
	}
	if (g.version) {
		printf("%s %s\n", PROG, BOUNCED_VERSION);
		return EXIT_OK;
	}
	if (g.cmd_index >= argc) {
		fprintf(stderr, "%s: no command given (see '%s --help')\n",
			PROG, PROG);
		return EXIT_USAGE;
	}
	cargc = argc - g.cmd_index;
	cargv = argv + g.cmd_index;
	if (strcmp(cargv[0], "help") == 0)
		return cmd_help(cargc, cargv);
	c = ctl_cmd_lookup(cargv[0]);
	if (!c) {
		char clean[128];

		fprintf(stderr, "%s: unknown command '%s' (see '%s --help')\n",
			PROG, ctl_text_clean(cargv[0], clean, sizeof(clean)),
			PROG);
		return EXIT_USAGE;
	}
	if (wants_help(cargc, cargv)) {
		ctl_cmd_help(PROG, c, stdout);
		return EXIT_OK;
	}
	if (cli_load_config(PROG, &g, &cfg) != 0)
		return EXIT_CONFIG;

	ctx.prog = PROG;
	ctx.cfg = cfg;
	ctx.out = stdout;
	ctx.now = (int64_t)time(NULL);
	rc = c->fn(&ctx, cargc, cargv);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: cannot write the output: %m\n", PROG);
		if (rc == EXIT_OK)
			rc = EXIT_IOERR;
	}
	config_free(cfg);
	log_close();
	return rc;
}
