/*
 * cmd_drop.c - `bounced drop fbl|unsub --from ADDR --to ADDR`: what
 * PowerMTA's <domain ... type pipe> runs for feedback-loop and unsubscribe
 * mail.  The mail on stdin goes into SPOOL/fbl or SPOOL/unsub (a maildir,
 * maildir.c) with the envelope kept as two header lines in front of it:
 *
 *   Return-Path: <FROM>
 *   X-Bounced-Envelope-To: <TO>
 *
 * (line ends as the mail's own first line: CRLF or LF).  The format is
 * documented in docs/SPOOL.md.  The spool worker takes the mail from new/.
 *
 * Error policy: every failure, bad arguments included, exits 75
 * (EX_TEMPFAIL), so that PowerMTA keeps the mail and tries again: nothing
 * is lost to a mistake that the operator can fix (an option getopt
 * refuses is said on stderr by main_bounced.c, before the configuration
 * and its log are read; the rest here).  Exit 0 only once the
 * file is in new/ and synced.  Messages go to the log and, when the log is
 * a file, to stderr as well (PowerMTA shows the pipe's output).  Nothing
 * here runs a shell or another program.  SIGXFSZ is ignored so that a file
 * size limit makes write() fail (EFBIG) instead of killing the process
 * with a half-written file left in tmp/.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "addr.h"
#include "cli.h"
#include "commands.h"
#include "config.h"
#include "event.h"
#include "exitcodes.h"
#include "log.h"
#include "maildir.h"

#define DROP_CHUNK (64 * 1024)	/* bytes read from stdin at a time */
#define DROP_HEAD_MAX (2 * ADDR_MAX + 64)

static const char drop_usage[] =
	"usage: bounced [-c FILE] drop fbl|unsub --from ADDR --to ADDR < MAIL";

struct drop_args {
	const char *kind;	/* "fbl" or "unsub" */
	const char *from;	/* as given; NULL when missing */
	const char *to;
};

/* drop_fail - log an error (and echo it on stderr when the log is a
   file); returns EXIT_TEMPFAIL */
static int __attribute__((format(printf, 2, 3)))
drop_fail(const struct config *cfg, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_error("drop", "%s; exit 75: PowerMTA keeps the mail and retries",
		  msg);
	if (cfg && cfg->log && strcmp(cfg->log, "-") != 0)
		fprintf(stderr, "bounced: drop: %s; exit 75: PowerMTA keeps the "
			"mail and retries\n", msg);
	return EXIT_TEMPFAIL;
}

/* drop_usage_error - a bad command line: still 75 (nothing is lost) */
static int drop_usage_error(const struct config *cfg, const char *what,
			    const char *arg)
{
	char show[80];

	if (!arg)
		return drop_fail(cfg, "%s (%s)", what, drop_usage);
	/* never echo control characters from the command line */
	snprintf(show, sizeof(show), "%s", arg);
	for (char *p = show; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return drop_fail(cfg, "%s '%s' (%s)", what, show, drop_usage);
}

/* the keys of drop's options */
enum {
	DROP_O_FROM = CLI_KEY_LONG,
	DROP_O_TO,
};

const struct cli_opt cmd_drop_opts[] = {
	{ "from", DROP_O_FROM, "ADDR",
	  "the envelope sender ($from); may be empty\n"
	  "or <> (the null sender)" },
	{ "to", DROP_O_TO, "ADDR",
	  "the envelope recipient ($to)" },
	{ NULL, 0, NULL, NULL },
};

/* cmd_drop_argv - a bare "--from" before "--to" or at the end is an
   empty $from: made "--from=" so that getopt does not take "--to" as its
   value.  Before anything else it takes that as its value, whatever it
   looks like: "--from --version" (a sender PowerMTA put there) is a
   sender to refuse (75, the mail kept), not bounced's --version (exit 0,
   the mail lost) */
void cmd_drop_argv(int argc, char **argv)
{
	static char empty_from[] = "--from=";
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--from") == 0 &&
		    (i + 1 == argc || strcmp(argv[i + 1], "--to") == 0 ||
		     strncmp(argv[i + 1], "--to=", 5) == 0))
			argv[i] = empty_from;
		else if (strcmp(argv[i], "--from") == 0)
			i++;	/* its value, taken by getopt */
	}
}

/* drop_parse - the options and operands found into A; 0 or 75 */
static int drop_parse(const struct config *cfg, const struct cli_args *args,
		      struct drop_args *a)
{
	size_t i;
	int k;

	memset(a, 0, sizeof(*a));
	for (i = 0; i < args->n_opts; i++) {
		const char **slot = args->opts[i].key == DROP_O_FROM ?
				    &a->from : &a->to;

		if (*slot)
			return drop_usage_error(cfg, args->opts[i].key ==
						DROP_O_FROM ?
						"--from given twice" :
						"--to given twice", NULL);
		*slot = args->opts[i].value;
	}
	for (k = 0; k < args->n_operands; k++) {
		const char *v = args->operands[k];

		if (a->kind)
			return drop_usage_error(cfg, "unexpected argument", v);
		if (strcmp(v, "fbl") != 0 && strcmp(v, "unsub") != 0)
			return drop_usage_error(cfg, "unknown maildir (fbl or "
						"unsub)", v);
		a->kind = v;
	}
	if (!a->kind)
		return drop_usage_error(cfg, "which maildir: fbl or unsub?",
					NULL);
	if (!a->from)
		return drop_usage_error(cfg, "--from is missing", NULL);
	if (!a->to)
		return drop_usage_error(cfg, "--to is missing", NULL);
	return 0;
}

/* drop_envelope - V (an envelope address) normalised into OUT; an empty
   V or "<>" gives "" when NULL_OK; 0, or -1 with WHY set */
static int drop_envelope(const char *v, bool null_ok, char *out,
			 const char **why)
{
	const char *p;
	size_t n = strlen(v);

	for (p = v; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			*why = "holds control characters (CR, LF, ...)";
			return -1;
		}
	}
	while (n && (v[0] == ' ' || v[0] == '\t')) {
		v++;
		n--;
	}
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if (null_ok && (n == 0 || (n == 2 && v[0] == '<' && v[1] == '>'))) {
		out[0] = '\0';
		return 0;
	}
	if (n > ADDR_MAX + 2 || addr_normalise(v, n, out, ADDR_MAX + 1) < 0) {
		*why = null_ok ? "is neither an address nor empty ('<>')"
			       : "is not an address";
		return -1;
	}
	return 0;
}

/* drop_show - V for a message: bounded, controls as '?' */
static const char *drop_show(const char *v, char *buf, size_t len)
{
	snprintf(buf, len, "%s", v);
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return buf;
}

/* drop_read - read from stdin into BUF until it holds a line end, is
   full, or stdin ends; *HAVE bytes held, *EOF set at end.  At most
   WANT bytes are read in all.  0 or -errno */
static int drop_read(char *buf, size_t cap, size_t *have, uint64_t want,
		     bool first_line, bool *eof)
{
	while (*have < cap && want > 0) {
		size_t room = cap - *have;
		ssize_t n;

		if (room > want)
			room = (size_t)want;
		n = read(STDIN_FILENO, buf + *have, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0) {
			*eof = true;
			return 0;
		}
		*have += (size_t)n;
		want -= (uint64_t)n;
		if (first_line && memchr(buf + *have - n, '\n', (size_t)n))
			return 0;
	}
	return 0;
}

/* drop_eol - the line end of the mail's first line: CRLF or LF */
static const char *drop_eol(const char *buf, size_t len)
{
	const char *nl = memchr(buf, '\n', len);

	return (nl && nl > buf && nl[-1] == '\r') ? "\r\n" : "\n";
}

/* drop_store - stdin into the maildir DIR after HEAD; 0 or EXIT_TEMPFAIL */
static int drop_store(const struct config *cfg, const char *dir,
		      const char *from, const char *to, char *name,
		      size_t namelen, uint64_t *total)
{
	struct maildir_msg *m = NULL;
	char head[DROP_HEAD_MAX], err[PATH_MAX + 256];
	char *buf = g_malloc(DROP_CHUNK);
	uint64_t max = cfg->drop_max_size;
	size_t have = 0;
	bool eof = false;
	const char *eol;
	int n, rc, ex = EXIT_TEMPFAIL;

	*total = 0;
	/* the first line tells the mail's line ends (read at most max + 1
	   bytes in all: one more than allowed says it is too large) */
	rc = drop_read(buf, DROP_CHUNK, &have, max + 1, true, &eof);
	if (rc < 0) {
		drop_fail(cfg, "cannot read the mail from stdin: %s",
			  strerror(-rc));
		goto out;
	}
	if (have == 0) {
		drop_fail(cfg, "no mail on stdin");
		goto out;
	}
	eol = drop_eol(buf, have);
	n = snprintf(head, sizeof(head), "Return-Path: <%s>%sX-Bounced-"
		     "Envelope-To: <%s>%s", from, eol, to, eol);
	if (n < 0 || (size_t)n >= sizeof(head)) {
		drop_fail(cfg, "envelope too long");
		goto out;
	}
	/* the worker measures the file, envelope lines included: so does
	   the limit here (a mail taken here would be refused there) */
	if ((uint64_t)n >= max) {
		drop_fail(cfg, "[bounced] drop-max-size (%llu bytes) leaves no "
			  "room for the mail", (unsigned long long)max);
		goto out;
	}
	rc = maildir_open(dir, &m, err, sizeof(err));
	if (rc == 0)
		rc = maildir_write(m, head, (size_t)n, err, sizeof(err));
	if (rc < 0) {
		drop_fail(cfg, "%s", err);
		goto out;
	}
	max -= (uint64_t)n;	/* what is left for the mail */
	for (;;) {
		*total += have;
		if (*total > max) {
			drop_fail(cfg, "the mail is larger than [bounced] "
				  "drop-max-size (%llu bytes) with the %d bytes "
				  "of its envelope lines; raise it to take "
				  "this mail", (unsigned long long)(max + n), n);
			goto out;
		}
		rc = maildir_write(m, buf, have, err, sizeof(err));
		if (rc < 0) {
			drop_fail(cfg, "%s", err);
			goto out;
		}
		have = 0;
		if (eof)
			break;
		rc = drop_read(buf, DROP_CHUNK, &have, max + 1 - *total, false,
			       &eof);
		if (rc < 0) {
			drop_fail(cfg, "cannot read the mail from stdin: %s",
				  strerror(-rc));
			goto out;
		}
		if (have == 0 && !eof)
			eof = true; /* cannot happen: read max + 1 at most */
	}
	rc = maildir_commit(m, name, namelen, err, sizeof(err));
	m = NULL;
	if (rc < 0) {
		drop_fail(cfg, "%s", err);
		goto out;
	}
	ex = EXIT_OK;
out:
	maildir_abort(m);
	g_free(buf);
	return ex;
}

/* cmd_drop - bounced drop */
int cmd_drop(const struct config *cfg, const struct cli_global *g,
	     const struct cli_args *args)
{
	char from[ADDR_MAX + 1], to[ADDR_MAX + 1], show[80];
	char name[MAILDIR_NAME_MAX], err[PATH_MAX + 256];
	struct drop_args a;
	const char *why = NULL;
	char *dir = NULL;
	uint64_t size = 0;
	int rc, ex;

	(void)g;
	/* a size limit or a closed stderr must give an error, not a kill */
	signal(SIGXFSZ, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);

	ex = drop_parse(cfg, args, &a);
	if (ex != 0)
		return ex;
	if (drop_envelope(a.from, true, from, &why) != 0) {
		/* the sender is only kept with the mail: one no retry can
		   mend (a long SRS local part, "taro..yamada.@") must not
		   have PowerMTA try again until it bounces the mail */
		log_warn("drop", "--from '%s' %s: kept as <>",
			 drop_show(a.from, show, sizeof(show)), why);
		from[0] = '\0';
	}
	if (drop_envelope(a.to, false, to, &why) != 0)
		return drop_fail(cfg, "--to '%s' %s", drop_show(a.to, show,
				 sizeof(show)), why);

	ex = EXIT_TEMPFAIL;
	if (mkdir(cfg->spool, 0750) != 0 && errno != EEXIST) {
		drop_fail(cfg, "cannot create the spool directory '%s': %s",
			  cfg->spool, strerror(errno));
		goto out;
	}
	dir = g_build_filename(cfg->spool, a.kind, NULL);
	rc = maildir_create(dir, err, sizeof(err));
	if (rc < 0) {
		drop_fail(cfg, "%s", err);
		goto out;
	}
	ex = drop_store(cfg, dir, from, to, name, sizeof(name), &size);
	if (ex == EXIT_OK)
		log_info("drop", "%s/new/%s: %llu bytes from <%s> to <%s>", dir,
			 name, (unsigned long long)size, from, to);
out:
	g_free(dir);
	return ex;
}
