/*
 * log.c - leveled log lines: "YYYY-MM-DD HH:MM:SS ident[pid]: level module: text".
 *
 * Three destinations.  A file (log = PATH) and stderr on a terminal or a
 * pipe get the line above.  Under systemd (stderr is the journal stream
 * named by $JOURNAL_STREAM) each line starts with its syslog priority,
 * "<3>" error, "<4>" warning, "<6>" info, "<7>" debug, as sd-daemon(3)
 * describes, and carries no time or ident of its own (the journal keeps
 * both): "<4>warning acct: ...", so journalctl -p warning filters it.
 * With log = syslog the lines go to syslog(3), facility mail as Postfix
 * logs, with the same priorities and the ident and pid set by openlog.
 *
 * Each line is built in a bounded stack buffer (LOG_LINE_MAX bytes with
 * the newline; longer messages end in "...") and written with one write(),
 * so lines from several processes appending to one file do not interleave.
 * Messages carry hostile text (DSN diagnostics, addresses, file names):
 * control characters (bytes < 0x20 and 0x7f), C1 controls (U+0080..U+009F)
 * and bytes that are not UTF-8 are written as '?', so a line can neither
 * be split nor drive a terminal.  Times are local (localtime_r).
 * Error policy: log_open/log_reopen return -errno and keep the previous
 * destination; a failed write is dropped (there is nowhere to report it).
 * errno is preserved across log_msg, so "%m" works in messages.
 *
 * Bounded by design: a line identical to the one before (same level,
 * module and text) is not written again but counted, and one line
 * "previous message repeated N times" follows when another line comes,
 * when the log is reopened or closed, or at most LOG_FOLD_SECONDS after
 * the first repeat; at level debug every line is written.  Per-line
 * messages of one input (bad lines, unrouted records, dry-run actions)
 * are capped by their callers with a struct log_cap: the first
 * LOG_CAP_LINES of a kind, then one summary line with the count.
 * Lines are written under one mutex: ingest's commit thread logs beside
 * the main thread (the configuration calls, log_open to log_set_ident,
 * are the main thread's, before or between its work).
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <glib.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX 4096	/* bytes in a line, newline included */
#define LOG_NAME_MAX 32		/* bytes of ident or module shown */
#define LOG_FOLD_SECONDS 60	/* a run of repeats is reported this often */

static struct {
	int fd;			/* -1: stderr (or syslog) */
	char *path;		/* the file, for log_reopen */
	bool syslog;		/* log = syslog: openlog() done */
	enum log_level level;
	bool echo;		/* errors on stderr too (log_set_echo) */
	char ident[LOG_NAME_MAX];
} log_st = { -1, NULL, false, BLOG_INFO, false, "bounced" };

/* syslog priorities of the levels (sd-daemon prefixes use the same) */
static const int log_prio[] = {
	[BLOG_ERROR] = LOG_ERR,
	[BLOG_WARN] = LOG_WARNING,
	[BLOG_INFO] = LOG_INFO,
	[BLOG_DEBUG] = LOG_DEBUG,
};

static const char *const log_words[] = {
	[BLOG_ERROR] = "error",
	[BLOG_WARN] = "warning",
	[BLOG_INFO] = "info",
	[BLOG_DEBUG] = "debug",
};

/* the last line written, to fold repeats of it */
static struct {
	bool valid;
	int level;
	char mod[LOG_NAME_MAX];
	char text[LOG_LINE_MAX];	/* the cleaned message */
	size_t len;
	unsigned long repeats;		/* not written since the last report */
	time_t first;			/* time of the first of them */
} log_last;

static void log_fold_flush(void);

/* one line at a time, whatever the thread */
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

/* log_name - NAME as printable ASCII without blanks, at most LEN - 1 bytes */
static void log_name(char *dst, size_t len, const char *name)
{
	size_t i;

	for (i = 0; name && name[i] && i + 1 < len; i++)
		dst[i] = (name[i] > 0x20 && name[i] < 0x7f) ? name[i] : '?';
	dst[i] = '\0';
}

/* log_open_file - open PATH for appending; fd or -errno */
static int log_open_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
		      0640);

	return fd < 0 ? -errno : fd;
}

/* log_journal - stderr is the journal's stream: $JOURNAL_STREAM names
   its device and inode (systemd.exec(5)); checked once */
static bool log_journal(void)
{
	static int known = -1;
	const char *e;
	unsigned long long dev, ino;
	struct stat sb;
	char tail;

	if (known >= 0)
		return known;
	known = 0;
	e = getenv("JOURNAL_STREAM");
	if (e && sscanf(e, "%llu:%llu%c", &dev, &ino, &tail) == 2 &&
	    fstat(STDERR_FILENO, &sb) == 0 &&
	    (unsigned long long)sb.st_dev == dev &&
	    (unsigned long long)sb.st_ino == ino)
		known = 1;
	return known;
}

/* log_stderr_prefix - "<3>" ... for a message written to stderr outside
   the log when stderr is the journal, else "" */
const char *log_stderr_prefix(enum log_level level)
{
	static const char *const prefix[] = {
		[BLOG_ERROR] = "<3>",
		[BLOG_WARN] = "<4>",
		[BLOG_INFO] = "<6>",
		[BLOG_DEBUG] = "<7>",
	};

	if ((unsigned)level > BLOG_DEBUG || !log_journal())
		return "";
	return prefix[level];
}

/* log_open - send lines to PATH ("-" or NULL = stderr, "syslog") */
int log_open(const char *path)
{
	char *dup;
	int fd;

	if (!path || strcmp(path, "-") == 0) {
		log_close();
		return 0;
	}
	if (strcmp(path, BLOG_DEST_SYSLOG) == 0) {
		log_close();
		openlog(log_st.ident, LOG_PID, LOG_MAIL);
		log_st.syslog = true;
		return 0;
	}
	fd = log_open_file(path);
	if (fd < 0)
		return fd;
	dup = strdup(path);
	if (!dup) {
		close(fd);
		return -ENOMEM;
	}
	log_close();
	log_st.fd = fd;
	log_st.path = dup;
	return 0;
}

/* log_reopen - the same path again (after logrotate moved the file) */
int log_reopen(void)
{
	int fd;

	log_fold_flush();
	log_last.valid = false;
	if (log_st.fd < 0 || !log_st.path)
		return 0;
	fd = log_open_file(log_st.path);
	if (fd < 0)
		return fd;
	close(log_st.fd);
	log_st.fd = fd;
	return 0;
}

/* log_close - back to stderr */
void log_close(void)
{
	log_fold_flush();
	log_last.valid = false;
	if (log_st.fd >= 0)
		close(log_st.fd);
	log_st.fd = -1;
	free(log_st.path);
	log_st.path = NULL;
	if (log_st.syslog)
		closelog();
	log_st.syslog = false;
}

void log_set_level(enum log_level level)
{
	int lv = (int)level;

	if (lv < BLOG_ERROR)
		lv = BLOG_ERROR;
	if (lv > BLOG_DEBUG)
		lv = BLOG_DEBUG;
	log_st.level = (enum log_level)lv;
}

enum log_level log_get_level(void)
{
	return log_st.level;
}

/* log_set_ident - the program name in each line */
void log_set_ident(const char *ident)
{
	log_name(log_st.ident, sizeof(log_st.ident),
		 (ident && *ident) ? ident : "bounced");
}

/*
 * log_clean - SRC (LEN bytes) into DST (CAP bytes) with controls, C1
 * controls and invalid UTF-8 as '?', whole characters only; returns the
 * bytes written, *USED the source bytes taken.
 */
static size_t log_clean(char *dst, size_t cap, const char *src, size_t len,
			size_t *used)
{
	size_t i = 0, o = 0;

	while (i < len) {
		unsigned char c = (unsigned char)src[i];
		size_t k = 1;
		gunichar u;

		if (c < 0x80) {
			if (o + 1 > cap)
				break;
			dst[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
			i++;
			continue;
		}
		u = g_utf8_get_char_validated(src + i, (gssize)(len - i));
		if (u != (gunichar)-1 && u != (gunichar)-2)
			k = (size_t)g_utf8_skip[c];
		if (u == (gunichar)-1 || u == (gunichar)-2 ||
		    (u >= 0x80 && u <= 0x9f)) {
			if (o + 1 > cap)
				break;
			dst[o++] = '?';
		} else {
			if (o + k > cap)
				break;
			memcpy(dst + o, src + i, k);
			o += k;
		}
		i += k;
	}
	*used = i;
	return o;
}

static bool log_progress_shown;	/* a progress line ends the terminal */

/* log_write_all - the whole buffer, retrying on EINTR and short writes */
static void log_write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		buf += w;
		len -= (size_t)w;
	}
}

/* log_prefix - "TS ident[pid]: LEVEL MOD: " into LINE (for syslog
   "LEVEL MOD: ", for the journal "<N>LEVEL MOD: "); its length */
static size_t log_prefix(char *line, size_t cap, int lv, const char *mod)
{
	char ts[32];
	struct tm tm;
	time_t now;
	int p;

	if (log_st.syslog || (log_st.fd < 0 && log_journal())) {
		p = snprintf(line, cap, "%s%s %s: ",
			     log_st.syslog ? "" : log_stderr_prefix(lv),
			     log_words[lv], mod);
		if (p < 0 || (size_t)p >= cap / 2)
			p = 0;
		return (size_t)p;
	}
	now = time(NULL);
	if (!localtime_r(&now, &tm) ||
	    strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(ts, sizeof(ts), "0000-00-00 00:00:00");
	p = snprintf(line, cap, "%s %s[%ld]: %s %s: ", ts, log_st.ident,
		     (long)getpid(), log_words[lv], mod);
	if (p < 0 || (size_t)p >= cap / 2)
		p = 0;
	return (size_t)p;
}

/* log_write_line - LINE (LEN bytes, room for one more) and a newline, or
   to syslog at the priority of level LV */
static void log_write_line(int lv, char *line, size_t len)
{
	if (log_st.syslog) {
		syslog(log_prio[lv], "%.*s", (int)len, line);
		return;
	}
	line[len] = '\n';
	if (log_progress_shown && log_st.fd < 0) {
		/* a progress line is on the terminal: clear it first */
		log_write_all(STDERR_FILENO, "\r\033[K", 4);
		log_progress_shown = false;
	}
	log_write_all(log_st.fd >= 0 ? log_st.fd : STDERR_FILENO, line,
		      len + 1);
}

/* log_fold_flush - report the repeats of the last line not written yet */
static void log_fold_flush(void)
{
	char line[LOG_LINE_MAX];
	size_t p;
	int n;

	if (!log_last.valid || log_last.repeats == 0)
		return;
	p = log_prefix(line, sizeof(line), log_last.level, log_last.mod);
	n = snprintf(line + p, sizeof(line) - p,
		     "previous message repeated %lu time%s", log_last.repeats,
		     log_last.repeats == 1 ? "" : "s");
	log_last.repeats = 0;
	if (n > 0)
		log_write_line(log_last.level, line, p + (size_t)n);
}

/* log_fold - true when the line (LV, MOD, BODY) repeats the last one and
   is only counted; otherwise it becomes the last one */
static bool log_fold(int lv, const char *mod, const char *body, size_t len)
{
	time_t now;

	if (log_st.level >= BLOG_DEBUG) {
		log_last.valid = false;	/* debug: every line */
		return false;
	}
	if (log_last.valid && log_last.level == lv && log_last.len == len &&
	    strcmp(log_last.mod, mod) == 0 &&
	    memcmp(log_last.text, body, len) == 0) {
		now = time(NULL);
		if (log_last.repeats++ == 0)
			log_last.first = now;
		else if (now - log_last.first >= LOG_FOLD_SECONDS)
			log_fold_flush();
		return true;
	}
	log_fold_flush();
	log_last.valid = true;
	log_last.level = lv;
	g_strlcpy(log_last.mod, mod, sizeof(log_last.mod));
	memcpy(log_last.text, body, len);
	log_last.len = len;
	log_last.repeats = 0;
	return false;
}

bool log_elsewhere(void)
{
	return log_st.fd >= 0 || log_st.syslog;
}

void log_set_echo(bool on)
{
	log_st.echo = on;
}

/* log_echo - the cleaned TEXT (LEN bytes) of an error on stderr, after
   the program's name, as its usage errors are written */
static void log_echo(const char *text, size_t len)
{
	char line[LOG_LINE_MAX + LOG_NAME_MAX + 8];
	int n = snprintf(line, sizeof(line), "%s%s: %.*s\n",
			 log_stderr_prefix(BLOG_ERROR), log_st.ident, (int)len,
			 text);

	if (n > 0)
		log_write_all(STDERR_FILENO, line,
			      (size_t)n < sizeof(line) ? (size_t)n :
							 sizeof(line) - 1);
}

/* log_vmsg - format, clean, fold and write one line */
void log_vmsg(enum log_level level, const char *module, const char *fmt,
	      va_list ap)
{
	char msg[LOG_LINE_MAX], line[LOG_LINE_MAX];
	char mod[LOG_NAME_MAX];
	int saved = errno, lv = (int)level, m;
	size_t p, room, n, used = 0;

	if (lv > (int)log_st.level)
		return;
	if (lv < BLOG_ERROR)
		lv = BLOG_ERROR;
	m = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (m < 0)
		m = snprintf(msg, sizeof(msg), "(cannot format: %s)", fmt);
	if (m < 0)
		m = 0;
	log_name(mod, sizeof(mod), (module && *module) ? module : "-");
	p = log_prefix(line, sizeof(line), lv, mod);
	room = sizeof(line) - 1 - p;	/* 1 for the newline */
	n = (size_t)m < sizeof(msg) ? (size_t)m : sizeof(msg) - 1;
	n = log_clean(line + p, room, msg, n, &used);
	if (used < (size_t)m) {
		/* truncated: end in "...", cut on a character boundary */
		if (n > room - 3) {
			n = room - 3;
			while (n > 0 &&
			       ((unsigned char)line[p + n] & 0xc0) == 0x80)
				n--;
		}
		memcpy(line + p + n, "...", 3);
		n += 3;
	}
	pthread_mutex_lock(&log_mu);
	if (!log_fold(lv, mod, line + p, n))
		log_write_line(lv, line, p + n);
	if (lv == BLOG_ERROR && log_st.echo && log_elsewhere())
		log_echo(line + p, n);
	pthread_mutex_unlock(&log_mu);
	errno = saved;
}

/* log_tick - repeats held for LOG_FOLD_SECONDS or more are reported */
void log_tick(void)
{
	pthread_mutex_lock(&log_mu);
	if (log_last.valid && log_last.repeats > 0 &&
	    time(NULL) - log_last.first >= LOG_FOLD_SECONDS)
		log_fold_flush();
	pthread_mutex_unlock(&log_mu);
}

/* log_cap_take - may one more line of this kind be written? */
bool log_cap_take(struct log_cap *c)
{
	if (log_st.level >= BLOG_DEBUG || c->shown < LOG_CAP_LINES) {
		c->shown++;
		return true;
	}
	c->hidden++;
	return false;
}

/* log_progress - TEXT as the terminal's progress line (NULL: clear it) */
void log_progress(const char *text)
{
	char buf[256];
	int n;

	pthread_mutex_lock(&log_mu);
	if (!text) {
		if (log_progress_shown)
			log_write_all(STDERR_FILENO, "\r\033[K", 4);
		log_progress_shown = false;
	} else if ((n = snprintf(buf, sizeof(buf), "\r\033[K%s", text)) >= 0) {
		log_write_all(STDERR_FILENO, buf, (size_t)n < sizeof(buf) ?
						  (size_t)n : sizeof(buf) - 1);
		log_progress_shown = true;
	}
	pthread_mutex_unlock(&log_mu);
}

/* log_msg - printf-style front of log_vmsg */
void log_msg(enum log_level level, const char *module, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, module, fmt, ap);
	va_end(ap);
}
