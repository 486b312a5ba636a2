/*
 * main_bounced.c - the bounced command line: the options before the
 * command (cli.c), then one command of the dispatch table below (process,
 * run, drop, unsub-address, check-config, notify-test, provider-test),
 * whose arguments are read with its option table (cli_args.c: options
 * before or after the operands, joined or separate values, the global
 * options among them).  --help is answered from the table before any
 * configuration is read; bare `bounced` prints a short usage to stderr
 * and exits 64.
 * Only this file and main_bouncectl.c exit the program; every module below
 * returns errors.
 */
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "alloc_tune.h"
#include "cli.h"
#include "cli_args.h"
#include "commands.h"
#include "config.h"
#include "exitcodes.h"
#include "log.h"

#define PROG "bounced"

/* one command of bounced */
struct bd_cmd {
	const char *name;
	cmd_fn fn;
	const struct cli_opt *opts;	/* its options (the help lists them) */
	const char *synopsis;	/* operands and options after the name */
	const char *summary;	/* one line, for the short usage */
	const char *help;	/* paragraphs for "help CMD" */
	int usage_exit;		/* exit code of a bad command line */
	int config_exit;	/* exit code when the config is bad */
	void (*prepare)(int argc, char **argv);	/* ARGV before parsing */
	const char *usage_note;	/* said after a bad command line */
	bool out_result;	/* its stdout is its result: a write error
				   fails it (74) */
};

/* cmd_check_config - bounced check-config */
static int cmd_check_config(const struct config *cfg,
			    const struct cli_global *g,
			    const struct cli_args *a)
{
	(void)g;
	if (a->n_operands > 0) {
		fprintf(stderr, "%s: check-config: unexpected argument (see "
			"'%s help check-config')\n", PROG, PROG);
		return EXIT_USAGE;
	}
	config_print(cfg, stdout);
	return EXIT_OK;
}

static const struct bd_cmd bd_cmds[] = {
	{ "process", cmd_process, cmd_process_opts,
	  "[--acct|--list] [--reprocess] [--drain-timeout D]\n"
	  "        [FILE...|-]",
	  "take accounting files, address lists or the spool once",
	  "Takes accounting files (or stdin, '-') once.  With no FILE, whatever\n"
	  "the spool holds: every file of SPOOL/acct/ not starting with '.',\n"
	  "oldest first, then the mails of SPOOL/fbl/new (feedback reports) and\n"
	  "SPOOL/unsub/new (unsubscribe mails); a missing acct/ or maildir is\n"
	  "not an error while another of them exists (exit 66 when none does).\n"
	  "Accounting files stay where they are (bounced run moves them to\n"
	  "SPOOL/done/ or SPOOL/failed/); a mail is moved to SPOOL/done/, or to\n"
	  "SPOOL/failed/ with NAME.why; one that cannot be read (an I/O error)\n"
	  "stays in new/ for the next run, the mails after it are taken, exit\n"
	  "66.\n"
	  "\n"
	  "Files are remembered by absolute path and committed offset: a file\n"
	  "taken to its end is skipped next time, one interrupted resumes where\n"
	  "its last commit ended.  One summary line per input on stdout.  When\n"
	  "stderr is a terminal, a file that takes longer than 2 s shows a\n"
	  "progress line every 2 s (records, rate, percent, ETA); otherwise a\n"
	  "long file logs it every 30 s.  -q hides the progress, not the\n"
	  "errors.  A file that is no accounting file (told from its first\n"
	  "rows), or with --list no address list (no address in its first\n"
	  "100 rows), is refused: nothing of it recorded, exit 65.  For 64 MiB\n"
	  "of input or more, bounced starts itself again first with glibc's\n"
	  "allocator set for large commits, unless GLIBC_TUNABLES is set\n"
	  "(man bounced, ENVIRONMENT).\n"
	  "\n"
	  "At the end the outbox is sent and what [notify] has queued is mailed\n"
	  "to the operator, unless a bounced run holds STATE/bounced.lock: then\n"
	  "it sends them (one dispatcher per state).  With no FILE, or a FILE\n"
	  "of SPOOL/acct/, exits 75 while a bounced run holds\n"
	  "SPOOL/bounced.lock.\n"
	  "\n"
	  "Accounting files: CSV as PowerMTA writes them (RFC 4180, a header\n"
	  "line naming the columns, matched by name in any case); records b and\n"
	  "rb are bounces, f complaints, d deliveries (they reset soft bounce\n"
	  "counts); t, tq, r, rs are counted and skipped.  Header-less files use\n"
	  "[bounced] acct-fields.\n",
	  EXIT_USAGE, EXIT_CONFIG, NULL, NULL, false },
	{ "run", cmd_run, NULL, "",
	  "the spool worker daemon (stays in the foreground)",
	  "The spool worker (a daemon; stays in the foreground): takes every\n"
	  "accounting file that arrives in SPOOL/acct/ (closed after writing, or\n"
	  "renamed in; dot-files and [bounced] acct-ignore names are left alone)\n"
	  "within a second, oldest first, then moves it to SPOOL/done/ (or\n"
	  "SPOOL/failed/ with NAME.why); takes the mails dropped into\n"
	  "SPOOL/fbl/new and SPOOL/unsub/new the same way; sends the provider\n"
	  "actions, the [notify] mail and the metrics.\n"
	  "\n"
	  "One per state and one per spool (locks STATE/bounced.lock and\n"
	  "SPOOL/bounced.lock; a second exits 75, a bounced process sending the\n"
	  "outbox is waited for).  SIGTERM or SIGINT: stop, let requests finish\n"
	  "(shutdown-timeout), exit 0.  SIGHUP: reopen the log, reload the\n"
	  "configuration (a bad one is refused and logged).  See docs/RUN.md.\n",
	  EXIT_USAGE, EXIT_CONFIG, NULL, NULL, false },
	{ "drop", cmd_drop, cmd_drop_opts,
	  "fbl|unsub --from ADDR --to ADDR < MAIL",
	  "store a mail from PowerMTA's FBL or unsubscribe pipe",
	  "What PowerMTA's FBL and unsubscribe domain pipes run: stores the mail\n"
	  "on stdin in SPOOL/fbl/ or SPOOL/unsub/ (a maildir: written to tmp/,\n"
	  "synced, renamed into new/) with the envelope in front of it\n"
	  "(Return-Path: <FROM>, X-Bounced-Envelope-To: <TO>).  FROM may be\n"
	  "empty or <> (\"--from=\", or a bare --from before --to).  Exits 0 once\n"
	  "the mail is in new/; on any failure (bad arguments, bad config, spool\n"
	  "full or read-only, a mail larger than [bounced] drop-max-size) exits\n"
	  "75 so that PowerMTA keeps the mail and retries.  Never runs a shell.\n"
	  "See docs/SPOOL.md.\n",
	  EXIT_TEMPFAIL, EXIT_TEMPFAIL, cmd_drop_argv,
	  "exit 75: PowerMTA keeps the mail and retries", false },
	{ "unsub-address", cmd_unsub_addr, cmd_unsub_addr_opts,
	  "[--form N] [--domain D] [--header] --subscriber S\n"
	  "        [--list L] [--campaign C]  |  --check ADDRESS",
	  "print or check an unsubscribe address",
	  "Prints the unsubscribe address of a subscriber in form N (default 1)\n"
	  "of [unsubscribe] addresses, signed when the forms are; --subscriber\n"
	  "and --list or --campaign are required.  --check reads an address as\n"
	  "the spool worker will: the form, subscriber, list and campaign it\n"
	  "names, or why it is refused (exit 65).  See docs/UNSUBSCRIBE.md.\n",
	  EXIT_USAGE, EXIT_CONFIG, NULL, NULL, true },
	{ "check-config", cmd_check_config, NULL, "",
	  "print the effective configuration",
	  "Prints the effective configuration (the file read, or the embedded\n"
	  "defaults, then every key; secrets masked) and exits 0, or names the\n"
	  "bad key and exits 78.\n",
	  EXIT_USAGE, EXIT_CONFIG, NULL, NULL, true },
	{ "notify-test", cmd_notify_test, NULL, "",
	  "send a sample digest to the [notify] recipients",
	  "Sends a sample digest (one made-up complaint) to the [notify]\n"
	  "recipients through the [notify] SMTP server now, to check those\n"
	  "settings.  Exits 0 when the server took it, 75 when it could not be\n"
	  "reached or answered 4xx, 69 when it refused for good (5xx, login\n"
	  "refused, TLS required but not offered), 78 when [notify] smtp, from\n"
	  "or to is missing.  See docs/NOTIFY.md.\n",
	  EXIT_USAGE, EXIT_CONFIG, NULL, NULL, true },
	{ "provider-test", cmd_provider_test, NULL, "[NAME...]",
	  "one harmless call to each provider",
	  "Makes one harmless call to each provider (or those named) now:\n"
	  "MailWizz lists its lists, Interspire tests the XML API user, a\n"
	  "webhook gets an event \"test\".  One line each: ok, or what is wrong\n"
	  "(host, TLS certificate, credentials, clock).  Exits 0 when all\n"
	  "answered well, 78 when credentials were refused, 75 when one could\n"
	  "not be reached, 69 for another answer.  See docs/PROVIDERS.md.\n",
	  EXIT_USAGE, EXIT_CONFIG, NULL, NULL, true },
};

/* bd_cmd_lookup - the table entry of NAME, or NULL */
static const struct bd_cmd *bd_cmd_lookup(const char *name)
{
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(bd_cmds); i++)
		if (strcmp(bd_cmds[i].name, name) == 0)
			return &bd_cmds[i];
	return NULL;
}

/* bd_clean - ARG without control characters, for a message */
static const char *bd_clean(const char *arg, char *buf, size_t len)
{
	size_t i;

	for (i = 0; arg[i] && i + 1 < len; i++)
		buf[i] = (unsigned char)arg[i] < 0x20 || arg[i] == 0x7f ? '?' :
									  arg[i];
	buf[i] = '\0';
	return buf;
}

/* bd_cmd_help - "usage: bounced [-c FILE] NAME SYNOPSIS", the text and
   the options */
static void bd_cmd_help(const struct bd_cmd *c, FILE *out)
{
	fprintf(out, "usage: %s [-c FILE] %s%s%s\n\n%s", PROG, c->name,
		c->synopsis[0] ? " " : "", c->synopsis, c->help);
	if (c->opts && c->opts[0].name) {
		fputs("\nOptions:\n", out);
		cli_args_help(out, c->opts);
	}
	fputs("\nGlobal options (before or after the command):\n", out);
	cli_args_help(out, cli_global_opts);
	fprintf(out, "\nSee bounced(8) and '%s --help'.\n", PROG);
}

/* short_usage - what bare `bounced` prints on stderr (20 lines at most) */
static void short_usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: %s [-c FILE] COMMAND [ARGS]\n\nCommands:\n", PROG);
	for (i = 0; i < G_N_ELEMENTS(bd_cmds); i++)
		fprintf(out, "  %-14s %s\n", bd_cmds[i].name,
			bd_cmds[i].summary);
	fprintf(out,
		"  %-14s %s\n"
		"\n"
		"'%s --help': options, exit status, examples;\n"
		"'%s help COMMAND' or '%s COMMAND --help': one command.\n",
		"help", "this text in full, or a command's help", PROG, PROG,
		PROG);
}

/* usage - the full help of bounced --help */
static void usage(FILE *out)
{
	size_t i;

	fprintf(out,
		"usage: %s [OPTIONS] COMMAND [ARGS]\n"
		"\n"
		"Turns PowerMTA accounting records (bounces, feedback-loop\n"
		"complaints, deliveries), feedback and unsubscribe mail and address\n"
		"lists into per-recipient state: hard bounces, escalated soft\n"
		"bounces, complaints and unsubscribes, kept in LMDB and deduplicated\n"
		"across files and runs, and acts on them at the providers.\n"
		"\n"
		"Commands:\n", PROG);
	for (i = 0; i < G_N_ELEMENTS(bd_cmds); i++) {
		const struct bd_cmd *c = &bd_cmds[i];

		fprintf(out, "  %s%s%s\n      %s\n", c->name,
			c->synopsis[0] ? " " : "", c->synopsis, c->summary);
	}
	fprintf(out,
		"  help [COMMAND]\n"
		"      this text, or the details of COMMAND (also COMMAND --help)\n"
		"\n"
		"Options (before or after the command):\n");
	cli_args_help(out, cli_global_opts);
	fprintf(out,
		"\n"
		"Providers ([provider NAME] groups: mailwizz, interspire, webhook)\n"
		"receive the actions through a durable outbox in the state: an action\n"
		"leaves it only when the provider confirmed it, or as a dead letter\n"
		"after a permanent error or max-age of retries ('bouncectl queue',\n"
		"'bouncectl dead', 'bouncectl retry').  With no provider, actions are\n"
		"logged as dry-run.\n"
		"\n"
		"Exit status:\n"
		"  0   every input taken (bad lines are logged and counted, not fatal)\n"
		"  64  usage error\n"
		"  65  process: an input is no accounting file (or, with --list,\n"
		"      no address list): nothing of it recorded, the others taken;\n"
		"      unsub-address: a value or address is refused\n"
		"  66  an input could not be opened or read (the others were taken)\n"
		"  69  notify-test: the SMTP server refused the mail for good;\n"
		"      provider-test: a provider answered something unexpected\n"
		"  74  the state could not be opened or written, or the memory ran\n"
		"      out while an input was read (logged; run again);\n"
		"      check-config, unsub-address, notify-test, provider-test: the\n"
		"      output could not be written\n"
		"  75  run: another worker holds the lock of the state or the spool;\n"
		"      process with no FILE or a FILE of SPOOL/acct/: a worker holds\n"
		"      the lock of the spool; process stopped by SIGTERM or SIGINT\n"
		"      before every input was taken (what was read is committed);\n"
		"      drop: the mail was not stored (PowerMTA keeps it and retries);\n"
		"      notify-test, provider-test: the server could not be reached\n"
		"  78  configuration error; provider-test: credentials refused\n"
		"\n"
		"Examples:\n"
		"  %s process                  # everything the spool holds\n"
		"  %s process /var/log/pmta/acct-2026-11-24-0001.csv\n"
		"  cut -d, -f1 suppress.csv | %s process --list -\n"
		"  %s check-config -c /etc/bounced/bounced.conf\n"
		"  %s help drop\n"
		"\n"
		"See also: bouncectl(8), bounced.conf(5), bounced(8).\n",
		PROG, PROG, PROG, PROG, PROG);
}

/* cmd_help - "help" and "help CMD" */
static int cmd_help(int argc, char **argv)
{
	const struct bd_cmd *c;
	char clean[128];

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
	c = bd_cmd_lookup(argv[1]);
	if (!c) {
		fprintf(stderr, "%s: help: unknown command '%s'\n", PROG,
			bd_clean(argv[1], clean, sizeof(clean)));
		return EXIT_USAGE;
	}
	bd_cmd_help(c, stdout);
	return EXIT_OK;
}

/* bd_run - load the configuration and run C with ARGS */
static int bd_run(const struct bd_cmd *c, const struct cli_global *g,
		  const struct cli_args *args)
{
	struct config *cfg = NULL;
	int ex;

	if (cli_load_config(PROG, g, &cfg) != 0)
		return c->config_exit;
	ex = c->fn(cfg, g, args);
	if (c->out_result)
		ex = cli_out_done(PROG, ex);
	config_free(cfg);
	log_close();
	return ex;
}

/* bd_argv_drop - is "drop" among ARGV's words (the command a bad global
   option came before)? */
static bool bd_argv_drop(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "drop") == 0)
			return true;
	return false;
}

int main(int argc, char **argv)
{
	struct cli_global g;
	struct cli_args args;
	const struct bd_cmd *c;
	char clean[128], **cargv;
	int cargc, ex;

	alloc_tune_init(argv);
	if (cli_parse_global(PROG, argc, argv, &g) != 0)
		/* PowerMTA's pipe to drop retries on 75 only (a 64 bounces
		   the mail): a bad option before the command is no reason
		   to lose it */
		return bd_argv_drop(argc, argv) ? EXIT_TEMPFAIL : EXIT_USAGE;
	if (g.version) {
		printf("%s %s\n", PROG, BOUNCED_VERSION);
		return EXIT_OK;
	}
	if (g.cmd_index >= argc) {
		if (g.help) {
			usage(stdout);
			return EXIT_OK;
		}
		short_usage(stderr);
		return EXIT_USAGE;
	}
	cargc = argc - g.cmd_index;
	cargv = argv + g.cmd_index;
	if (strcmp(cargv[0], "help") == 0)
		return cmd_help(cargc, cargv);
	c = bd_cmd_lookup(cargv[0]);
	if (!c) {
		if (g.help) {
			usage(stdout);
			return EXIT_OK;
		}
		fprintf(stderr, "%s: unknown command '%s' (see '%s --help')\n",
			PROG, bd_clean(cargv[0], clean, sizeof(clean)), PROG);
		return EXIT_USAGE;
	}
	if (c->prepare)
		c->prepare(cargc, cargv);
	if (cli_args_parse(PROG, cargc, cargv, c->opts, &g, &args) != 0) {
		fprintf(stderr, "usage: %s [-c FILE] %s%s%s\n", PROG, c->name,
			c->synopsis[0] ? " " : "", c->synopsis);
		if (c->usage_note)
			fprintf(stderr, "%s: %s: %s\n", PROG, c->name,
				c->usage_note);
		return c->usage_exit;
	}
	if (g.help) {
		bd_cmd_help(c, stdout);
		ex = EXIT_OK;
	} else if (g.version) {
		printf("%s %s\n", PROG, BOUNCED_VERSION);
		ex = EXIT_OK;
	} else {
		/* check-config says what it found where it is run */
		g.warn_stderr = c->fn == cmd_check_config;
		ex = bd_run(c, &g, &args);
	}
	cli_args_free(&args);
	return ex;
}
