/*
 * cmd_process.c - `bounced process [FILE...|-]`: take accounting files,
 * address lists, stdin, and with no FILE everything the spool holds
 * (SPOOL/acct/ and the maildirs fbl/new and unsub/new), once, with a
 * summary line per input on stdout; then send the outbox and the
 * operator's mail unless a running bounced holds the state's lock.
 *
 * Error policy: an input that cannot be read is reported and the others
 * are taken (exit 66 at the end); a state that cannot be written stops
 * the run (74); another worker on the spool is 75; a bad option 64.
 * Messages on stderr or the log say what failed and on which file.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "alloc_tune.h"
#include "cli.h"
#include "cli_args.h"
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

/* the keys of process's options */
enum {
	PROCESS_O_ACCT = CLI_KEY_LONG,
	PROCESS_O_LIST,
	PROCESS_O_REPROCESS,
	PROCESS_O_DRAIN,
};

const struct cli_opt cmd_process_opts[] = {
	{ "acct", PROCESS_O_ACCT, NULL,
	  "the inputs are PowerMTA accounting files" },
	{ "list", PROCESS_O_LIST, NULL,
	  "the inputs are lists of addresses (first\n"
	  "column); every address is unsubscribed\n"
	  "(default: detected from the first line)" },
	{ "reprocess", PROCESS_O_REPROCESS, NULL,
	  "take files again even if taken before" },
	{ "drain-timeout", PROCESS_O_DRAIN, "D",
	  "send the queued provider actions for at\n"
	  "most D (default 5m); what is left stays\n"
	  "queued for the next run" },
	{ NULL, 0, NULL, NULL },
};

/* process_usage - "bounced: process: WHAT 'ARG'" and the usage exit code */
static int process_usage(const char *what, const char *arg)
{
	char clean[80];
	size_t i;

	for (i = 0; arg && arg[i] && i + 1 < sizeof(clean); i++)
		clean[i] = (unsigned char)arg[i] < 0x20 || arg[i] == 0x7f ?
				   '?' : arg[i];
	clean[i] = '\0';
	fprintf(stderr, "bounced: process: %s%s%s%s (see 'bounced help "
		"process')\n", what, arg ? " '" : "", clean, arg ? "'" : "");
	return EXIT_USAGE;
}

/* spool_list - the paths of the files of DIR (not starting with '.'),
   oldest first, appended to OUT; 0 or -errno (logged) */
static int spool_list(const char *dir, GPtrArray *out)
{
	struct spool_list_opts o = { 0 };
	GPtrArray *names;
	guint i;
	int rc;

	names = spool_dir_list(dir, &o, NULL, &rc);
	for (i = 0; names && i < names->len; i++)
		g_ptr_array_add(out, g_build_filename(
				dir, g_ptr_array_index(names, i), NULL));
	if (names)
		g_ptr_array_free(names, TRUE);
	return rc;
}

/* process_tune - large inputs (the files named, or the spool's acct/)
   are taken with the allocator set for large commits (alloc_tune.h):
   the program starts again here when they are; before any lock */
static void process_tune(const struct config *cfg, GPtrArray *inputs)
{
	GPtrArray *spooled = NULL;
	int64_t bytes;
	char why[96];

	if (inputs->len == 0) {
		char *dir = g_build_filename(cfg->spool, "acct", NULL);
		struct stat sb;

		spooled = g_ptr_array_new_with_free_func(g_free);
		if (stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode))
			(void)spool_list(dir, spooled);
		g_free(dir);
		inputs = spooled;
	}
	bytes = alloc_tune_sizes((char *const *)inputs->pdata,
				 (int)inputs->len);
	if (spooled)
		g_ptr_array_free(spooled, TRUE);
	if (bytes < ALLOC_TUNE_MIN_BYTES)
		return;
	snprintf(why, sizeof(why), "%lld MiB of input",
		 (long long)(bytes >> 20));
	(void)alloc_tune_reexec(why);
}

/* process_metrics_tick - the metrics at a step boundary (a long stream,
   a long drain); failures are logged by the metrics */
static void process_metrics_tick(void *arg)
{
	if (arg)
		(void)metrics_tick(arg, (int64_t)time(NULL));
}

/* process_stop - SIGTERM or SIGINT came: the input being read is
   committed as far as it was read (ingest_opts.stop), nothing more is
   taken or sent */
static volatile sig_atomic_t process_stop;
_Static_assert(_Generic((sig_atomic_t)0, int: 1, default: 0),
	       "ingest_opts.stop points to an int");

static void process_on_stop(int sig)
{
	process_stop = sig;
}

/* process_catch_stop - SIGTERM and SIGINT set process_stop (system calls
   restarted where they can be) */
static void process_catch_stop(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = process_on_stop;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
}

/* process_out_errno - the first error writing stdout (0: none) */
static int process_out_errno;

/* process_flush - stdout flushed; its first error kept */
static void process_flush(void)
{
	if (fflush(stdout) != 0 && !process_out_errno)
		process_out_errno = errno ? errno : EIO;
}

/* process_out_check - said on stderr when stdout lost some of the
   summaries: the inputs were taken all the same */
static void process_out_check(void)
{
	process_flush();
	if (!process_out_errno && ferror(stdout))
		process_out_errno = EIO;
	if (process_out_errno)
		fprintf(stderr, "bounced: the summaries could not all be "
			"written to stdout (%s); what was taken is in the "
			"state all the same: bouncectl files, bouncectl "
			"stats\n", strerror(process_out_errno));
}

/* print_summary - "NAME: counts" on stdout */
static void print_summary(const char *name, const struct ingest_counts *c)
{
	char line[512];

	ingest_counts_format(c, line, sizeof(line));
	printf("%s: %s\n", name, line);
	if (c->requeued)
		printf("%s: %llu provider actions queued for addresses "
		       "suppressed before (providers that had not had them, or "
		       "unsubscribe mails sent since)\n",
		       name, (unsigned long long)c->requeued);
	process_flush();
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
	process_flush();
}

/* process_mails - the spool's fbl/ and unsub/ mails, a summary line each
   kind that had some, and one for the mails set aside; 0, 1 (mails that
   could not be read were left in new/: said on stderr) or -errno */
static int process_mails(const struct config *cfg, struct ingest *in,
			 struct ingest_counts *total)
{
	struct spool_mail_result res;
	int k, rc, left = 0;
	char name[64];

	rc = spool_mail_process(cfg, in, &res);
	for (k = 0; rc == 0 && k < SPOOL_MAIL_KINDS; k++) {
		if (res.left[k]) {
			fprintf(stderr, "bounced: %s/new: %d mail%s could not "
				"be read or moved and stay%s there for the next "
				"run (the log says why)\n",
				spool_mail_kind_name(k), res.left[k],
				res.left[k] == 1 ? "" : "s",
				res.left[k] == 1 ? "s" : "");
			left += res.left[k];
		}
		if (!res.mails[k])
			continue;
		snprintf(name, sizeof(name), "%s/new (%d mails)",
			 spool_mail_kind_name(k), res.mails[k]);
		print_summary(name, &res.counts[k]);
		ingest_counts_add(total, &res.counts[k]);
	}
	if (rc == 0)
		print_aside(res.aside);
	return rc ? rc : left > 0;
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

/* process_spool_file - PATH is a file of SPOOL/acct (the worker's) */
static bool process_spool_file(const struct config *cfg, const char *path)
{
	char *acct = g_build_filename(cfg->spool, "acct", NULL);
	char real_acct[PATH_MAX], real[PATH_MAX];
	bool found = false;

	/* "-", or missing: said later */
	if (realpath(acct, real_acct) != NULL && realpath(path, real) != NULL) {
		char *dir = g_path_get_dirname(real);

		found = strcmp(dir, real_acct) == 0;
		g_free(dir);
	}
	g_free(acct);
	return found;
}

/* process_in_spool - one of INPUTS is a file of SPOOL/acct */
static bool process_in_spool(const struct config *cfg, GPtrArray *inputs)
{
	guint k;

	for (k = 0; k < inputs->len; k++)
		if (process_spool_file(cfg, inputs->pdata[k]))
			return true;
	return false;
}

/* process_has_maildir - the spool has fbl/new or unsub/new */
static bool process_has_maildir(const struct config *cfg)
{
	bool any = false;
	int k;

	for (k = 0; k < SPOOL_MAIL_KINDS && !any; k++) {
		char *d = g_build_filename(cfg->spool,
					   spool_mail_kind_name(k), "new",
					   NULL);

		any = g_file_test(d, G_FILE_TEST_IS_DIR);
		g_free(d);
	}
	return any;
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
	process_flush();
}

/* cmd_process - bounced process */
int cmd_process(const struct config *cfg, const struct cli_global *g,
		const struct cli_args *a)
{
	struct ingest_opts opts = { .mode = INGEST_DETECT };
	int64_t drain_ms = 5 * 60 * 1000;
	struct ingest_counts c, total;
	GPtrArray *inputs = g_ptr_array_new_with_free_func(g_free);
	struct ingest *in = NULL;
	struct state *st = NULL;
	struct metrics *m = NULL;
	struct lockfile *lock = NULL;
	char err[512], holder[96];
	int rc, n, ex = EXIT_OK;
	size_t i;
	bool spool_mode, acct_missing = false, left = false;
	guint k;

	(void)g;
	/* run by hand, by cron or as PowerMTA's pipe: why an input failed
	   is said where it runs too, not only in the log file */
	log_set_echo(true);
	for (i = 0; i < a->n_opts; i++) {
		switch (a->opts[i].key) {
		case PROCESS_O_ACCT:
			opts.mode = INGEST_ACCT;
			break;
		case PROCESS_O_LIST:
			opts.mode = INGEST_LIST;
			break;
		case PROCESS_O_REPROCESS:
			opts.reprocess = true;
			break;
		case PROCESS_O_DRAIN:
			if (config_parse_duration_ms(a->opts[i].value,
						     &drain_ms) != 0) {
				ex = process_usage("--drain-timeout takes a "
						    "duration such as 90s or 5m",
						    a->opts[i].value);
				goto out;
			}
			break;
		}
	}
	if (cli_args_count(a, PROCESS_O_ACCT) && cli_args_count(a, PROCESS_O_LIST)) {
		ex = process_usage("--acct and --list exclude each other", NULL);
		goto out;
	}
	/* a reader of the summaries that goes away (| head) must not stop
	   the taking of the inputs: the write fails, the work goes on */
	signal(SIGPIPE, SIG_IGN);
	/* a stop (PowerMTA's pipe stopped with its service) commits what
	   was read instead of losing it */
	process_catch_stop();
	opts.stop = &process_stop;
	for (n = 0; n < a->n_operands; n++)
		g_ptr_array_add(inputs, g_strdup(a->operands[n]));
	spool_mode = inputs->len == 0;
	process_tune(cfg, inputs);
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
		struct stat sb;

		acct_missing = stat(dir, &sb) != 0 && errno == ENOENT;
		if (acct_missing) {
			/* the maildirs alone are a spool too */
			rc = process_has_maildir(cfg) ? 0 : -ENOENT;
			if (rc == 0)
				log_info("bounced", "no %s: only the maildirs "
					 "are taken", dir);
			else
				fprintf(stderr, "bounced: the spool %s holds "
					"no acct/, fbl/new or unsub/new: nothing "
					"to take; check [bounced] spool, or name "
					"the files to take\n", cfg->spool);
		} else {
			rc = spool_list(dir, inputs);
		}
		g_free(dir);
		if (rc) {
			ex = EXIT_NOINPUT;
			goto out;
		}
		if (inputs->len == 0 && !acct_missing)
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

		if (process_stop) {
			left = true;
			break;
		}
		/* a file named may be one PowerMTA still writes; the
		   spool's are whole, also named */
		opts.growing = !spool_mode && !process_spool_file(cfg, path);
		rc = ingest_file(in, path, &opts, &c);
		if (rc == INGEST_STOPPED) {
			print_summary(strcmp(path, "-") == 0 ? "stdin" : path,
				      &c);
			ingest_counts_add(&total, &c);
			left = true;
			break;
		}
		if (rc == INGEST_ALREADY) {
			const char *as = ingest_already_as(in);

			if (as)
				printf("%s: already taken as %s (%llu records; "
				       "--reprocess takes it again)\n", path,
				       as, (unsigned long long)c.records);
			else
				printf("%s: already taken (%llu records)\n",
				       path, (unsigned long long)c.records);
			continue;
		}
		if (rc == INGEST_REFUSED) {
			ex = EXIT_DATAERR;	/* logged; nothing recorded */
			continue;
		}
		if (rc == -EALREADY) {
			/* another process took it at the same time (logged):
			   what this one committed stays, the rest is that
			   one's; a run afterwards finds it taken */
			printf("%s: taken by another process at the same "
			       "time: left to it\n", path);
			if (ex == EXIT_OK)
				ex = EXIT_TEMPFAIL;
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
	if (process_stop) {
		/* what was read is committed; the rest, the mails and the
		   outbox wait for the next run */
		log_info("bounced", "%s: stopping: the inputs not taken, the "
			 "mails and the outbox are left for the next run",
			 strsignal(process_stop));
		if (left && ex == EXIT_OK)
			ex = EXIT_TEMPFAIL;	/* run again for the rest */
	}
	if (spool_mode && ex != EXIT_IOERR && !process_stop) {
		rc = process_mails(cfg, in, &total);
		if (rc < 0)
			ex = EXIT_IOERR;
		else if (rc > 0 && ex == EXIT_OK)
			ex = EXIT_NOINPUT;	/* mails left: go on */
	}
	if (ex != EXIT_IOERR && !process_stop &&
	    ingest_clock(in, (int64_t)time(NULL)) != 0)
		/* time passes for the incidents and alerts of live records,
		   as in the worker with nothing to read: a quiet incident
		   closes and what it held is applied (it stayed open until
		   a record of its own source and destination came) */
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
	if (ex != EXIT_IOERR && rc == 0 && !process_stop) {
		int dx = process_send(cfg, st, m, drain_ms, &process_stop);

		if (dx != EXIT_OK)
			ex = dx;
	}
	if (m)
		(void)metrics_flush(m, (int64_t)time(NULL));
out:
	process_out_check();
	lockfile_release(lock);
	metrics_free(m);
	ingest_free(in);
	state_close(st);
	g_ptr_array_free(inputs, TRUE);
	return ex;
}

