/*
 * main_bounced.c - the bounced command line: global options, then one
 * command (process, check-config, run, drop, unsub-address, notify-test,
 * provider-test).
 * Only this file and main_bouncectl.c exit the program; every module below
 * returns errors.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "cli.h"
#include "commands.h"
#include "config.h"
#include "exitcodes.h"
#include "ingest.h"
#include "lockfile.h"
#include "log.h"
#include "metrics.h"
#include "outbox.h"
#include "process_send.h"
#include "state.h"
#include "spool.h"
#include "spool_mail.h"
#include "url_check.h"

static const char usage_text[] =
"Usage: bounced [OPTIONS] COMMAND [ARGS]\n"
"\n"
"Turn PowerMTA accounting records (bounces, feedback-loop complaints,\n"
"deliveries) and address lists into per-recipient state: hard bounces,\n"
"escalated soft bounces, complaints and unsubscribes, kept in LMDB and\n"
"deduplicated across files and runs.\n"
"\n"
"Commands:\n"
"  process [--acct|--list] [--reprocess] [--drain-timeout D] [FILE...|-]\n"
"        Take accounting files (or stdin, '-') once.  With no FILE, every\n"
"        file in SPOOL/acct/ not starting with '.', oldest first.  Files\n"
"        are remembered by absolute path and committed offset: a file taken\n"
"        to its end is skipped next time, one interrupted resumes where its\n"
"        last commit ended.  With no FILE, also the mails of SPOOL/fbl/new\n"
"        (feedback reports) and SPOOL/unsub/new (unsubscribe mails), each\n"
"        then moved to SPOOL/done/ (or SPOOL/failed/ with NAME.why).  One\n"
"        summary line per input on stdout.  At the end, the outbox is sent\n"
"        and what [notify] has queued is mailed to the operator, unless a\n"
"        bounced run holds STATE/bounced.lock: then it sends them (one\n"
"        dispatcher per state).  With no FILE, or a FILE of SPOOL/acct/,\n"
"        exits 75 while a bounced run holds SPOOL/bounced.lock.\n"
"          --acct       the input is a PowerMTA accounting file\n"
"          --list       the input is a list of addresses (first column);\n"
"                       every address is unsubscribed\n"
"                       (default for both: detected from the first line)\n"
"          --reprocess  take files again even if taken before\n"
"          --drain-timeout D  with providers configured, send the queued\n"
"                       actions (retries included) for at most D (default\n"
"                       5m); what is left stays queued for the next run\n"
"  run   The spool worker (a daemon; stays in the foreground): takes every\n"
"        accounting file that arrives in SPOOL/acct/ (closed after writing,\n"
"        or renamed in; dot-files and [bounced] acct-ignore names are left\n"
"        alone) within a second, oldest first, then moves it to SPOOL/done/\n"
"        (or SPOOL/failed/ with NAME.why); takes the mails dropped into\n"
"        SPOOL/fbl/new and SPOOL/unsub/new the same way; sends the provider\n"
"        actions, the [notify] mail and the metrics.\n"
"        One per state and one per spool (locks STATE/bounced.lock and\n"
"        SPOOL/bounced.lock; a second exits 75, a bounced process sending\n"
"        the outbox is waited for).  SIGTERM/SIGINT: stop, let requests\n"
"        finish (shutdown-timeout), exit 0; SIGHUP: reopen the log, reload\n"
"        the configuration (a bad one is refused and logged).  See\n"
"        docs/RUN.md.\n"
"  drop fbl|unsub --from ADDR --to ADDR\n"
"        What PowerMTA's FBL and unsubscribe domain pipes run: stores the\n"
"        mail on stdin in SPOOL/fbl/ or SPOOL/unsub/ (a maildir: written to\n"
"        tmp/, synced, renamed into new/) with the envelope in front of it\n"
"        (Return-Path: <FROM>, X-Bounced-Envelope-To: <TO>).  FROM may be\n"
"        empty or <>.  Exits 0 once the mail is in new/; on any failure\n"
"        (bad arguments, bad config, spool full or read-only, a mail larger\n"
"        than [bounced] drop-max-size) exits 75 so PowerMTA keeps the mail\n"
"        and retries.  Never runs a shell.  See docs/SPOOL.md.\n"
"  unsub-address [--form N] [--domain D] [--header] --subscriber S\n"
"                [--list L] [--campaign C]\n"
"  unsub-address --check ADDRESS\n"
"        Print the unsubscribe address of a subscriber in form N (default\n"
"        1) of [unsubscribe] addresses, signed when the forms are; --domain\n"
"        names the domain of a '*' form; --header prints a List-Unsubscribe\n"
"        header line.  --check reads an address as the spool worker will:\n"
"        the form, subscriber, list and campaign it names, or why it is\n"
"        refused (exit 65).  See docs/UNSUBSCRIBE.md.\n"
"  check-config\n"
"        Print the effective configuration (secrets masked) and exit 0, or\n"
"        name the bad key and exit 78.\n"
"  notify-test\n"
"        Send a sample digest (one made-up complaint) to the [notify]\n"
"        recipients through the [notify] SMTP server now, to check those\n"
"        settings.  Exits 0 when the server took it, 75 when it could not\n"
"        be reached or answered 4xx, 69 when it refused for good (5xx,\n"
"        login refused, TLS required but not offered), 78 when [notify]\n"
"        smtp, from or to is missing.  See docs/NOTIFY.md.\n"
"  provider-test [NAME...]\n"
"        One harmless call to each provider (or those named) now: MailWizz\n"
"        lists its lists, Interspire tests the XML API user, a webhook gets\n"
"        an event \"test\".  One line each: ok, or what is wrong (host,\n"
"        TLS certificate, credentials, clock).  Exits 0 when all answered\n"
"        well, 78 when credentials were refused, 75 when one could not be\n"
"        reached, 69 for another answer.  See docs/PROVIDERS.md.\n"
"  help  This text.\n"
"\n"
"Options (before the command):\n"
"  -c, --config FILE   configuration file (default: $BOUNCED_CONFIG, else\n"
"                      /etc/bounced/bounced.conf when it exists, else the\n"
"                      embedded defaults: spool ./spool, state ./state,\n"
"                      no provider: actions are logged as dry-run)\n"
"  -d, --debug         log everything\n"
"  -q, --quiet         log errors only\n"
"  -h, --help          this text\n"
"  -V, --version       print the version\n"
"\n"
"Accounting files: CSV as PowerMTA writes them (RFC 4180, header line\n"
"naming the columns, matched by name in any case); records b and rb are\n"
"bounces, f complaints, d deliveries (reset soft-bounce counts); t, tq, r,\n"
"rs are counted and skipped.  Header-less files use [bounced] acct-fields.\n"
"\n"
"Providers ([provider NAME] groups: mailwizz, interspire, webhook) receive\n"
"the actions through a durable outbox in the state: an action leaves it\n"
"only when the provider confirmed it, or as a dead letter after a\n"
"permanent error or max-age of retries ('bouncectl queue', 'bouncectl\n"
"dead', 'bouncectl retry').  With no provider, actions are logged as\n"
"dry-run.\n"
"\n"
"Exit status:\n"
"  0   every input taken (bad lines are logged and counted, not fatal)\n"
"  64  usage error\n"
"  65  unsub-address: a value or address is refused\n"
"  66  an input could not be opened or read (the others were taken)\n"
"  69  notify-test: the SMTP server refused the mail for good;\n"
"      provider-test: a provider answered something unexpected\n"
"  74  the state could not be opened or written\n"
"  75  run: another worker holds the lock of the state or the spool;\n"
"      process with no FILE or a FILE of SPOOL/acct/: a worker holds the\n"
"      lock of the spool;\n"
"      drop: the mail was not stored (PowerMTA keeps it and retries);\n"
"      notify-test, provider-test: the server could not be reached\n"
"  78  configuration error; provider-test: credentials refused\n"
"\n"
"Examples:\n"
"  bounced process                         # everything in ./spool/acct\n"
"  bounced process /var/log/pmta/acct-2026-11-24-0001.csv\n"
"  cut -d, -f1 suppress.csv | bounced process --list -\n"
"  bounced -c /etc/bounced/bounced.conf check-config\n"
"\n"
"See also: bouncectl(8), bounced.conf(5).\n";

/* usage_error - "bounced: WHAT 'ARG'" and the usage exit code */
static int usage_error(const char *what, const char *arg)
{
	fprintf(stderr, "bounced: %s%s%s%s (see 'bounced --help')\n", what,
		arg ? " '" : "", arg ? arg : "", arg ? "'" : "");
	return EXIT_USAGE;
}

/* spool_list - the paths of the files of DIR (not starting with '.'),
   oldest first, appended to OUT; 0 or -errno (logged) */
static int spool_list(const char *dir, GPtrArray *out)
{
	GPtrArray *names;
	guint i;
	int rc;

	names = spool_dir_list(dir, NULL, NULL, 0, 0, NULL, &rc);
	for (i = 0; names && i < names->len; i++)
		g_ptr_array_add(out, g_build_filename(
				dir, g_ptr_array_index(names, i), NULL));
	if (names)
		g_ptr_array_free(names, TRUE);
	return rc;
}

/* process_metrics_tick - the metrics at a step boundary (a long stream,
   a long drain); failures are logged by the metrics */
static void process_metrics_tick(void *arg)
{
	if (arg)
		(void)metrics_tick(arg, (int64_t)time(NULL));
}

/* print_summary - "NAME: counts" on stdout */
static void print_summary(const char *name, const struct ingest_counts *c)
{
	char line[512];

	ingest_counts_format(c, line, sizeof(line));
	printf("%s: %s\n", name, line);
	if (c->requeued)
		printf("%s: %llu provider actions queued for addresses "
		       "suppressed before (providers that had not had them)\n",
		       name, (unsigned long long)c->requeued);
	fflush(stdout);
}

/* print_aside - "fbl/new set aside: 3 dsn, 1 auto-reply (moved to
   ignored/)" when mails were set aside */
static void print_aside(const uint64_t aside[MAIL_ASIDE_KINDS])
{
	unsigned k, n = 0;

	for (k = 0; k < MAIL_ASIDE_KINDS; k++)
		n += aside[k] > 0;
	if (!n)
		return;
	printf("fbl/new set aside:");
	for (k = 0, n = 0; k < MAIL_ASIDE_KINDS; k++)
		if (aside[k])
			printf("%s %llu %s", n++ ? "," : "",
			       (unsigned long long)aside[k], mail_aside_name(k));
	printf(" (moved to ignored/)\n");
	fflush(stdout);
}

/* process_mails - the spool's fbl/ and unsub/ mails, a summary line each
   kind that had some, and one for the mails set aside; 0 or -errno */
static int process_mails(const struct config *cfg, struct ingest *in,
			 struct ingest_counts *total)
{
	struct ingest_counts c[SPOOL_MAIL_KINDS];
	uint64_t aside[MAIL_ASIDE_KINDS];
	int n[SPOOL_MAIL_KINDS], k, rc;
	char name[64];

	rc = spool_mail_process(cfg, in, c, n, aside);
	for (k = 0; rc == 0 && k < SPOOL_MAIL_KINDS; k++) {
		if (!n[k])
			continue;
		snprintf(name, sizeof(name), "%s/new (%d mails)",
			 spool_mail_kind_name(k), n[k]);
		print_summary(name, &c[k]);
		ingest_counts_add(total, &c[k]);
	}
	if (rc == 0)
		print_aside(aside);
	return rc;
}

/* process_lock - DIR/bounced.lock (lockfile.h), as a bounced process,
   without waiting: 0 (held in *L; NULL when DIR does not exist), 1
   (another holds it: *L NULL, HOLDER says who) or -1 (printed) */
static int process_lock(const char *dir, struct lockfile **l, char *holder,
			size_t len)
{
	char *path = g_build_filename(dir, "bounced.lock", NULL);
	char err[PATH_MAX + 128];
	int rc;

	rc = lockfile_take(path, LOCKFILE_PROCESS, false, l, err, sizeof(err));
	if (rc == -EWOULDBLOCK) {
		lockfile_holder(path, holder, len);
		if (!holder[0])
			snprintf(holder, len, "another bounced");
	} else if (rc && rc != -ENOENT) {
		fprintf(stderr, "bounced: %s\n", err);
	}
	g_free(path);
	return rc == -EWOULDBLOCK ? 1 : rc == 0 || rc == -ENOENT ? 0 : -1;
}

/* process_in_spool - one of INPUTS is a file of SPOOL/acct (the worker's) */
static bool process_in_spool(const struct config *cfg, GPtrArray *inputs)
{
	char *acct = g_build_filename(cfg->spool, "acct", NULL);
	char real_acct[PATH_MAX], real[PATH_MAX];
	bool found = false;
	guint k;

	if (realpath(acct, real_acct) != NULL) {
		for (k = 0; k < inputs->len && !found; k++) {
			char *dir;

			if (realpath(inputs->pdata[k], real) == NULL)
				continue;	/* "-", or missing: said later */
			dir = g_path_get_dirname(real);
			found = strcmp(dir, real_acct) == 0;
			g_free(dir);
		}
	}
	g_free(acct);
	return found;
}

/* process_leave_outbox - another process holds the state's lock: it
   dispatches; say what this run queued for it */
static void process_leave_outbox(const struct config *cfg, struct state *st,
				 const char *holder)
{
	uint64_t pending = 0;
	MDB_txn *txn = NULL;

	if (state_begin(st, false, &txn) == 0) {
		(void)outbox_counts(st, txn, &pending, NULL);
		state_abort(txn);
	}
	printf("outbox: %llu actions queued; %s holds %s/bounced.lock and "
	       "sends them%s\n", (unsigned long long)pending, holder,
	       cfg->state, cfg->notify_smtp ? " (and the operator's mail)" :
					      "");
	fflush(stdout);
}

static int cmd_process(const struct config *cfg, int argc, char **argv)
{
	struct ingest_opts opts = { .mode = INGEST_DETECT };
	int64_t drain_ms = 5 * 60 * 1000;
	const char *v;
	struct ingest_counts c, total;
	GPtrArray *inputs = g_ptr_array_new_with_free_func(g_free);
	struct ingest *in = NULL;
	struct state *st = NULL;
	struct metrics *m = NULL;
	struct lockfile *lock = NULL;
	char err[512], holder[96];
	int i, rc, ex = EXIT_OK;
	bool spool_mode;
	guint k;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--acct") == 0)
			opts.mode = INGEST_ACCT;
		else if (strcmp(argv[i], "--list") == 0)
			opts.mode = INGEST_LIST;
		else if (strcmp(argv[i], "--reprocess") == 0)
			opts.reprocess = true;
		else if ((rc = cli_opt_value("bounced", argc, argv, &i,
					     "--drain-timeout", &v)) != 0) {
			if (rc < 0 || config_parse_duration_ms(v, &drain_ms) != 0) {
				ex = usage_error("process: --drain-timeout takes "
						 "a duration such as 90s or 5m",
						 rc < 0 ? NULL : v);
				goto out;
			}
		}
		else if (strcmp(argv[i], "--") == 0) {
			for (i++; i < argc; i++)
				g_ptr_array_add(inputs, g_strdup(argv[i]));
			break;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			ex = usage_error("process: unknown option", argv[i]);
			goto out;
		} else {
			/* options may follow the inputs */
			g_ptr_array_add(inputs, g_strdup(argv[i]));
		}
	}
	spool_mode = inputs->len == 0;
	if (spool_mode || process_in_spool(cfg, inputs)) {
		/* the spool's files are a worker's: never taken twice */
		rc = process_lock(cfg->spool, &lock, holder, sizeof(holder));
		if (rc) {
			if (rc > 0)
				fprintf(stderr, "bounced: %s holds %s/bounced.lock "
					"and takes the files of %s/acct; take "
					"files from elsewhere, or let it take "
					"them\n", holder, cfg->spool,
					cfg->spool);
			ex = rc > 0 ? EXIT_TEMPFAIL : EXIT_IOERR;
			goto out;
		}
	}
	if (spool_mode) {
		char *dir = g_build_filename(cfg->spool, "acct", NULL);

		rc = spool_list(dir, inputs);
		g_free(dir);
		if (rc) {
			ex = EXIT_NOINPUT;
			goto out;
		}
		if (inputs->len == 0)
			log_info("bounced", "nothing to take in %s/acct",
				 cfg->spool);
	}
	opts.progress = isatty(STDERR_FILENO) && log_get_level() >= BLOG_INFO;

	rc = state_open(&st, cfg->state, false, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "bounced: %s\n", err);
		ex = EXIT_IOERR;
		goto out;
	}
	in = ingest_new(cfg, st);
	if (!in) {
		ex = EXIT_SOFTWARE;
		goto out;
	}
	/* metrics are not worth failing the input for: logged, skipped */
	if (metrics_new(&m, cfg, st, (int64_t)time(NULL), err,
			sizeof(err)) != 0)
		log_warn("bounced", "%s; no metrics in this run", err);
	ingest_on_commit(in, process_metrics_tick, m);
	memset(&total, 0, sizeof(total));
	for (k = 0; k < inputs->len; k++) {
		const char *path = inputs->pdata[k];

		rc = ingest_file(in, path, &opts, &c);
		if (rc == INGEST_ALREADY) {
			printf("%s: already taken (%llu records)\n", path,
			       (unsigned long long)c.records);
			continue;
		}
		if (rc < 0 && ingest_input_failed(in)) {
			ex = EXIT_NOINPUT;	/* the input's: go on */
			continue;
		}
		if (rc < 0) {
			/* the state's (a full or failing disk, a map that
			   cannot grow): nothing more can be taken */
			ex = EXIT_IOERR;
			break;
		}
		print_summary(strcmp(path, "-") == 0 ? "stdin" : path, &c);
		ingest_counts_add(&total, &c);
	}
	if (spool_mode && ex != EXIT_IOERR && process_mails(cfg, in, &total))
		ex = EXIT_IOERR;
	if (inputs->len > 1)
		print_summary("total", &total);
	lockfile_release(lock);		/* the spool's */
	lock = NULL;
	/* one dispatcher per state: whoever holds its lock */
	rc = ex == EXIT_IOERR ? 0 :
	     process_lock(cfg->state, &lock, holder, sizeof(holder));
	if (rc < 0)
		ex = EXIT_IOERR;
	else if (rc > 0 && (cfg->n_providers > 0 || cfg->notify_smtp))
		process_leave_outbox(cfg, st, holder);
	if (ex != EXIT_IOERR && rc == 0) {
		int dx = process_send(cfg, st, m, drain_ms);

		if (dx != EXIT_OK)
			ex = dx;
	}
	if (m)
		(void)metrics_flush(m, (int64_t)time(NULL));
out:
	lockfile_release(lock);
	metrics_free(m);
	ingest_free(in);
	state_close(st);
	g_ptr_array_free(inputs, TRUE);
	return ex;
}

static int cmd_check_config(const struct config *cfg, int argc, char **argv)
{
	(void)argv;
	if (argc > 1)
		return usage_error("check-config takes no arguments", NULL);
	config_print(cfg, stdout);
	return EXIT_OK;
}

static int cmd_process_g(const struct config *cfg, const struct cli_global *g,
			 int argc, char **argv)
{
	(void)g;
	return cmd_process(cfg, argc, argv);
}

static int cmd_check_config_g(const struct config *cfg,
			      const struct cli_global *g, int argc, char **argv)
{
	(void)g;
	return cmd_check_config(cfg, argc, argv);
}

static const struct {
	const char *name;
	int (*fn)(const struct config *cfg, const struct cli_global *g,
		  int argc, char **argv);
	int config_error_exit;	/* exit code when the config is bad */
} commands[] = {
	{ "process", cmd_process_g, EXIT_CONFIG },
	{ "check-config", cmd_check_config_g, EXIT_CONFIG },
	{ "run", cmd_run, EXIT_CONFIG },
	{ "drop", cmd_drop, EXIT_TEMPFAIL },
	{ "notify-test", cmd_notify_test, EXIT_CONFIG },
	{ "provider-test", cmd_provider_test, EXIT_CONFIG },
	{ "unsub-address", cmd_unsub_addr, EXIT_CONFIG },
};

int main(int argc, char **argv)
{
	struct cli_global g;
	struct config *cfg = NULL;
	const char *cmd;
	size_t i;
	int ex;

	if (cli_parse_global("bounced", argc, argv, &g) != 0)
		return EXIT_USAGE;
	if (g.version) {
		printf("bounced %s\n", BOUNCED_VERSION);
		return EXIT_OK;
	}
	if (g.help || g.cmd_index >= argc || strcmp(argv[g.cmd_index], "help") == 0) {
		fputs(usage_text, g.help || g.cmd_index < argc ? stdout : stderr);
		return g.help || g.cmd_index < argc ? EXIT_OK : EXIT_USAGE;
	}
	cmd = argv[g.cmd_index];
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(cmd, commands[i].name) == 0)
			break;
	if (i == sizeof(commands) / sizeof(commands[0]))
		return usage_error("unknown command", cmd);
	if (cli_load_config("bounced", &g, &cfg) != 0)
		return commands[i].config_error_exit;
	ex = commands[i].fn(cfg, &g, argc - g.cmd_index, argv + g.cmd_index);
	config_free(cfg);
	log_close();
	return ex;
}
