/*
 * main_bouncectl.c - the bouncectl command line: global options, the
 * usage text, and a dispatch table of subcommands (one cmd_<name> function
 * each, in src/ctl_*.c, with its option table).
 *
 * The options before the command are read first (cli.c); the command's
 * arguments are then read with its option table (cli_args.c), the global
 * options among them, so "bouncectl stats -c FILE" works; --help is
 * answered from the table before any configuration is read.
 *
 * Exit codes (exitcodes.h, documented in bouncectl(8)): 0 success, 64 bad
 * command line, 66 no state yet, 67 no record for the address, 73 an
 * output file cannot be written, 74 state or output error, 78
 * configuration error.  Only this file exits.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cli_args.h"
#include "config.h"
#include "ctl.h"
#include "exitcodes.h"
#include "log.h"
#include "url_check.h"

#define PROG "bouncectl"

static const struct ctl_cmd ctl_cmds[] = {
	{ "show", cmd_show, ctl_opts_show, false, "ADDR [--format text|json]",
	  "the status of one address and why it has it",
	  "Prints the record of ADDR: its status and since when; for a hard,\n"
	  "complained or unsubscribed address the record that caused it (kind\n"
	  "b, rb, f, d, list, arf (a feedback report mail) or unsub-mail (an\n"
	  "unsubscribe mail), source file and line and where that file is\n"
	  "now, category, DSN status and text, sender, VirtualMTA, job id,\n"
	  "time); for an address made hard by soft bounces how many and over\n"
	  "which period, and the last one; the events counted, the soft bounce\n"
	  "times kept, and the provider actions with their state (pending,\n"
	  "done, dead, dry-run).\n"
	  "\n"
	  "ADDR is normalised as bounced does (case, <>, rfc822;, an\n"
	  "internationalised domain in its xn-- form) before lookup, or is the\n"
	  "uid: key of a subscriber known by its ids only.  Exit 67 when there\n"
	  "is no record for it, 64 when it is not an address.\n" },
	{ "list", cmd_list, ctl_opts_list, false,
	  "[--status S] [--since T] [--domain D]\n"
	  "        [--category C] [--sender S] [--job J] [--provider NAME]\n"
	  "        [--limit N] [--format text|csv|json|jsonl]",
	  "every record, filtered",
	  "Prints every record in address order, or those that pass every\n"
	  "filter given (a filter given several times takes any of its\n"
	  "values).  Text columns: address, status, soft bounces kept, last\n"
	  "bounce category, updated.\n" },
	{ "stats", cmd_stats, ctl_opts_stats, false,
	  "[--by domain|campaign|sender|vmta|provider]\n"
	  "        [--since T] [--limit N] [--format text|json]",
	  "counts by status, category and domain; counters; files",
	  "Prints the number of records by status, by last bounce category,\n"
	  "the ten domains with the most suppressed addresses, the counters\n"
	  "kept since the state was created, and the number of files taken.\n"
	  "\n"
	  "With --by, one line per domain, campaign (the job id), sender,\n"
	  "VirtualMTA or provider instead: the addresses of each by status,\n"
	  "most suppressed first.  The campaign, sender and VirtualMTA of an\n"
	  "address are those of its latest bounce or complaint; an address\n"
	  "counts for every provider asked to act on it, and under \"(none)\"\n"
	  "when none was.\n" },
	{ "files", cmd_files, ctl_opts_files, false, "[--format text|json]",
	  "the input files taken, how far, and where they are now",
	  "Prints the files table: each source (absolute path, or a stream id),\n"
	  "its status (partial, done, failed), committed byte offset, lines\n"
	  "consumed, records taken, bad lines, when it was last updated, and\n"
	  "where the file is now: still where it was taken (acct/...), moved\n"
	  "by the worker (done/..., failed/..., ignored/...), or gone\n"
	  "(deleted after done-retention, or moved away).\n" },
	{ "forget", cmd_forget, ctl_opts_forget, true, "ADDR [--reason TEXT]",
	  "make an address active again (false positive)",
	  "Makes ADDR active again: its status, soft bounce times, reason and\n"
	  "provider actions are cleared, its event counters are kept.  The\n"
	  "change is logged at info level with TEXT.  It does not resubscribe\n"
	  "the address at any provider.  Exit 67 when there is no record.\n" },
	{ "reevaluate", cmd_reevaluate, ctl_opts_reevaluate, true,
	  "[--dry-run]",
	  "apply the current soft-bounce settings to every record",
	  "Applies soft-threshold, soft-min-span and soft-window of the current\n"
	  "configuration to the soft bounce times kept in every record: a soft\n"
	  "address that now qualifies becomes hard, an address made hard by\n"
	  "soft bounces that no longer qualifies goes back to soft.  Each change\n"
	  "is printed as \"ADDR: soft -> hard\", then a summary line.  Changes\n"
	  "are written in transactions of at most 10000 records; an address\n"
	  "made hard gets its provider actions queued as ingest would have\n"
	  "queued them (the summary says how many).  With --dry-run only read\n"
	  "access to the state is needed.\n" },
	{ "queue", cmd_queue, ctl_opts_queue, false, "[--format text|json]",
	  "provider actions waiting to be sent",
	  "Prints the outbox in the order actions fall due: id, provider,\n"
	  "operation (unsubscribe, complaint, bounce), step of a multi-call\n"
	  "operation, failed attempts so far, next try, address, last error;\n"
	  "then the paused providers, and a summary line as postqueue ends\n"
	  "with: \"-- 12 actions for 9 addresses, oldest 3h\" (or \"-- the\n"
	  "outbox is empty\").\n" },
	{ "dead", cmd_dead, ctl_opts_dead, false, "[--format text|json]",
	  "provider actions that failed for good",
	  "Prints the dead letters: actions a provider refused permanently (a\n"
	  "4xx answer, bad credentials) or that kept failing longer than the\n"
	  "provider's max-age, with the reason, then a summary line.\n" },
	{ "retry", cmd_retry, ctl_opts_retry, true, "ID... | --all",
	  "queue dead actions again",
	  "Moves the dead actions ID (or all of them) back to the outbox, due\n"
	  "now with their attempts reset; the next 'bounced process' or the\n"
	  "running daemon sends them.  Exit 67 when an ID is not a dead action.\n" },
	{ "resend", cmd_resend, ctl_opts_resend, true,
	  "[ADDR...] [--status S] [--since T] [--provider NAME]\n"
	  "        [--dry-run]",
	  "queue the provider actions suppressed addresses have not had",
	  "Plans every suppressed address (or each ADDR) again as ingest did,\n"
	  "with the current configuration, from the record that made its\n"
	  "status, and queues what a provider has not had: after a senders\n"
	  "pattern that missed, a provider added or restored, or routing that\n"
	  "missed addresses.  An operation a provider has pending, done or\n"
	  "dead is not asked again (dead letters: 'bouncectl retry'), so it\n"
	  "may run any number of times.  Each address given an action is\n"
	  "printed, then a summary per provider; the running bounced, or the\n"
	  "next 'bounced process', sends them.  With --dry-run only read\n"
	  "access to the state is needed.  Exit 67 when an ADDR has no\n"
	  "record.\n" },
	{ "rates", cmd_rates, ctl_opts_rates, false,
	  "[--by campaign|destination|source|sender] [--since T]\n"
	  "        [--limit N] [--format text|csv|json]",
	  "bounce and complaint rates per campaign, destination, source",
	  "Prints, for each campaign (PowerMTA's jobId), destination (the\n"
	  "recipient's domain, the big providers' domains grouped: gmail,\n"
	  "microsoft, yahoo ...), source (dlvSourceIp, else the VirtualMTA)\n"
	  "and sender (the envelope sender's domain), the deliveries, hard,\n"
	  "soft and sender-side bounces and complaints since T (default the\n"
	  "last 24 hours before the latest record counted), with the bounce\n"
	  "rate (hard bounces of the attempts), the sender-side rate and the\n"
	  "complaint rate (complaints of the deliveries), the names with the\n"
	  "most attempts first; then the [alerts] up now.  The counts come\n"
	  "from minute buckets for the last day, hour buckets for the last\n"
	  "month and day buckets before, so an older --since starts at the\n"
	  "hour or day that holds it.  CSV has one line per name with the\n"
	  "dimension first.\n" },
	{ "incidents", cmd_incidents, ctl_opts_incidents, false,
	  "[--open] [--format text|json]",
	  "sender-side incidents per source and destination",
	  "Prints every incident (or the open ones): its id, state (open,\n"
	  "closed, released, discarded), when it opened and closed, the\n"
	  "source and destination, how many recipients were refused when it\n"
	  "opened, its sender-side bounces, the addresses it protected (their\n"
	  "bounces did not count toward escalation) and the hard bounces it\n"
	  "held, then a summary line.  docs/CLASSIFY.md explains incidents.\n" },
	{ "incident", cmd_incident, ctl_opts_incident, true,
	  "show ID [--format text|json] | release|discard ID",
	  "one incident: what it is and what it holds; apply or drop that",
	  "show prints incident ID whole: its times, counts, the DSN texts it\n"
	  "was seen by, and the hard bounces it holds now (address, time,\n"
	  "status, text).  release applies the hard bounces it holds now\n"
	  "(the addresses are suppressed and the providers told, as for any\n"
	  "hard bounce) and marks it released; discard drops them for good\n"
	  "(they were part of the block) and marks it discarded.  A running\n"
	  "bounced keeps either state at its next commit.  Exit 67 when\n"
	  "there is no incident ID.\n" },
	{ "classify", cmd_classify, ctl_opts_classify, false,
	  "--dry-run [--format text|json]",
	  "how many addresses a changed classification would change",
	  "Judges the stored history again under the configuration given\n"
	  "(-c NEW.conf: its [classify] category lists and rules) and prints\n"
	  "how many addresses would change status, with a few examples and\n"
	  "the rule behind each change; nothing is applied.  A hard address\n"
	  "whose bounce is not hard under it would go back to soft or active;\n"
	  "a soft or active one whose latest soft bounce is hard under it\n"
	  "would become hard.  Escalations are re-judged by reevaluate.  A\n"
	  "record keeps the category the rules of its time gave.\n" },
	{ "graph", cmd_graph, ctl_opts_graph, false,
	  "[--period day|week|month|year] [--out DIR]\n"
	  "        [--format png|svg] [--width N] [--height N]",
	  "draw the metrics' graphs into files",
	  "Draws six panels from the round-robin database ([rrd] file) that\n"
	  "bounced updates every minute: bounces (hard, soft, escalated,\n"
	  "duplicates, held in incidents), complaints and unsubscribes, the\n"
	  "provider API (actions done, retried, dead), the length of the\n"
	  "outbox queue, sender-side incidents (opened, closed, open at once)\n"
	  "and rate alerts (raised, cleared, active at once).  The counts are\n"
	  "stacked areas, one band per series; each bar is the count of one\n"
	  "interval (5 minutes over a day, an hour over a week, 6 hours over a\n"
	  "month, a day over a year, longer when the image is too narrow for\n"
	  "them), as the vertical axis says; each legend gives the series'\n"
	  "total over the period and its highest bar.  A level (queue,\n"
	  "incidents open, alerts active) is the highest of each interval, its\n"
	  "legend the level now and the highest.  The totals are\n"
	  "exact and the same in every period for the same events: recent\n"
	  "counts come from the finest archive that holds them.  Files are\n"
	  "DIR/PANEL-PERIOD.EXT (bounces-day.png, ...), each replaced\n"
	  "atomically; their paths are printed.  Exit 66 when there is no\n"
	  "database yet.\n" },
	{ "report", cmd_report, ctl_opts_report, false,
	  "--out DIR [--refresh D] [--format png|svg]\n"
	  "        [--width N] [--height N]",
	  "one HTML page with every graph and the current numbers",
	  "Writes DIR/index.html: one static page with no outside assets\n"
	  "(style inline, images embedded): the health of each provider\n"
	  "(actions done, waiting, retried, dead, paused, the last error), the\n"
	  "addresses by status, the top bounce categories, the top campaigns,\n"
	  "senders, VirtualMTAs and destination domains by bounces and\n"
	  "complaints, the rates of the last 24 hours of records (with\n"
	  "hour-by-hour charts of the bounce and complaint rates of the five\n"
	  "busiest campaigns and destinations, the rest as (other)), the\n"
	  "latest suppressions, the files that failed, the open incidents\n"
	  "with the incidents and alerts graphs of the day and the week, the\n"
	  "counters, the queue and the latest dead letters, then the graphs of\n"
	  "every period (day, week, month, year), each described in words\n"
	  "under it.  The page is replaced\n"
	  "atomically; make it again from cron or a timer and keep it open.\n"
	  "Without a database yet, the page says so.\n" },
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

/* ctl_cmd_help - "usage: PROG NAME SYNOPSIS", the text and the options */
static void ctl_cmd_help(const char *prog, const struct ctl_cmd *c, FILE *out)
{
	fprintf(out, "usage: %s [-c FILE] %s %s\n\n%s", prog, c->name,
		c->synopsis, c->help);
	if (c->opts && c->opts[0].name) {
		fputs("\nOptions:\n", out);
		cli_args_help(out, c->opts);
	}
	fputs("\nGlobal options (before or after the command):\n", out);
	cli_args_help(out, cli_global_opts);
	fprintf(out, "\nSee bouncectl(8) and '%s --help'.\n", prog);
}

/* usage - the full help of bouncectl --help */
static void usage(FILE *out)
{
	size_t i;

	fprintf(out,
		"usage: %s [OPTIONS] COMMAND [ARGS]\n"
		"\n"
		"Inspects and corrects the recipient state that bounced keeps in\n"
		"its state directory.  Reading commands use read-only transactions,\n"
		"never block a running bounced and need only read access to the\n"
		"state; forget, reevaluate, retry, resend and incident release or\n"
		"discard write in short transactions (the dry runs of reevaluate\n"
		"and resend only read).\n"
		"\n"
		"Commands:\n",
		PROG);
	for (i = 0; i < G_N_ELEMENTS(ctl_cmds); i++)
		fprintf(out, "  %s %s\n      %s\n", ctl_cmds[i].name,
			ctl_cmds[i].synopsis, ctl_cmds[i].summary);
	fprintf(out,
		"  help [COMMAND]\n"
		"      this text, or the details of COMMAND (also COMMAND --help)\n"
		"\n"
		"Options (before or after the command):\n");
	cli_args_help(out, cli_global_opts);
	fprintf(out,
		"\n"
		"Exit status:\n"
		"  0   success\n"
		"  64  bad command line, or ADDR is not an address\n"
		"  66  no state yet (run 'bounced process' first), or no metrics\n"
		"      database yet (graph)\n"
		"  67  no such address, dead letter or incident: no record for\n"
		"      ADDR, no dead action ID (retry), no incident ID\n"
		"  73  graph, report: the output could not be written\n"
		"  74  the state could not be read or written, or output failed\n"
		"  78  configuration error\n"
		"\n"
		"Examples:\n"
		"  %s show alice@example.com\n"
		"  %s list --status suppressed --since 7d --format csv > out.csv\n"
		"  %s list --domain gmail.com --limit 20\n"
		"  %s stats --by campaign --since 1d\n"
		"  %s stats -c /etc/bounced/bounced.conf --format json\n"
		"  %s forget bob@example.com --reason 'mailbox fixed'\n"
		"  %s reevaluate --dry-run\n"
		"  %s report --out /var/www/bounced\n"
		"\n"
		"See bouncectl(8).\n",
		PROG, PROG, PROG, PROG, PROG, PROG, PROG, PROG);
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
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0) {
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

/* ctl_run - load the configuration and run C with ARGS */
static int ctl_run(const struct ctl_cmd *c, const struct cli_global *g,
		   const struct cli_args *args)
{
	struct config *cfg = NULL;
	struct ctl_ctx ctx;
	int rc;

	/* reading commands (and --dry-run runs, and incident show) log to
	   stderr when the daemon's log file may not be written by this
	   user */
	bool reads = !c->writes || cli_args_count(args, 'n') > 0 ||
		     (strcmp(c->name, "incident") == 0 &&
		      args->n_operands > 0 &&
		      strcmp(args->operands[0], "show") == 0);

	/* bouncectl makes no request: the URLs are checked by their form
	   only, and libcurl is not loaded (bounced checks them whole) */
	url_check_by_form(true);
	if (cli_load_config_opt(PROG, g, reads, &cfg) != 0)
		return EXIT_CONFIG;
	ctx.prog = PROG;
	ctx.cfg = cfg;
	ctx.out = stdout;
	ctx.now = (int64_t)time(NULL);
	rc = cli_out_done(PROG, c->fn(&ctx, args));
	config_free(cfg);
	log_close();
	return rc;
}

int main(int argc, char **argv)
{
	struct cli_global g;
	struct cli_args args;
	const struct ctl_cmd *c;
	char **cargv;
	int cargc, rc;

	if (cli_parse_global(PROG, argc, argv, &g) != 0)
		return EXIT_USAGE;
	if (g.version) {
		printf("%s %s\n", PROG, BOUNCED_VERSION);
		return EXIT_OK;
	}
	if (g.cmd_index >= argc) {
		if (g.help) {
			usage(stdout);
			return EXIT_OK;
		}
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

		if (g.help) {
			usage(stdout);
			return EXIT_OK;
		}
		fprintf(stderr, "%s: unknown command '%s' (see '%s --help')\n",
			PROG, ctl_text_clean(cargv[0], clean, sizeof(clean)),
			PROG);
		return EXIT_USAGE;
	}
	if (cli_args_parse(PROG, cargc, cargv, c->opts, &g, &args) != 0)
		return EXIT_USAGE;
	if (g.help) {
		ctl_cmd_help(PROG, c, stdout);
		rc = EXIT_OK;
	} else if (g.version) {
		printf("%s %s\n", PROG, BOUNCED_VERSION);
		rc = EXIT_OK;
	} else {
		rc = ctl_run(c, &g, &args);
	}
	cli_args_free(&args);
	return rc;
}
