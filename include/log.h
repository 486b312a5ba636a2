/*
 * log.h - leveled log lines for bounced and bouncectl.
 *
 * One line per message: "2026-11-25 08:10:00 bounced[123]: LEVEL module: text".
 * The destination is stderr ("-"), a file opened in append mode (it can
 * be reopened: SIGHUP, logrotate), or syslog(3) ("syslog", facility
 * mail).  On stderr under systemd (the journal's stream) a line is
 * "<N>LEVEL module: text", N its syslog priority, without time or ident.
 * Library code logs and returns errors; it never exits.
 *
 * The log grows with what it reports, not with the input: a line equal to
 * the one before is counted, not written, and reported as "previous
 * message repeated N times"; per-line messages of one input are capped
 * with a struct log_cap (the first LOG_CAP_LINES, then a summary the
 * caller writes).  At level debug every line is written.
 */
#ifndef BOUNCED_LOG_H
#define BOUNCED_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

enum log_level {
	BLOG_ERROR = 0,
	BLOG_WARN = 1,
	BLOG_INFO = 2,
	BLOG_DEBUG = 3,
};

/* the log destination that means syslog(3) */
#define BLOG_DEST_SYSLOG "syslog"

/* log_open - send lines to PATH ("-" or NULL = stderr, BLOG_DEST_SYSLOG =
   syslog); 0 or -errno */
int log_open(const char *path);
/* log_reopen - reopen the current file (after rotation); 0 or -errno */
int log_reopen(void);
void log_close(void);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* log_set_ident - program name shown in each line (default "bounced") */
void log_set_ident(const char *ident);

/* log_stderr_prefix - what a message written to stderr by other means
   than this module should start with: its priority ("<3>" ...) when
   stderr is the journal, else "" */
const char *log_stderr_prefix(enum log_level level);

/* log_set_echo - errors also on stderr ("bounced: TEXT") while the lines
   go to a file or syslog: a one-shot command run by hand or by a script
   says why it failed where it is run, not only in the daemon's log */
void log_set_echo(bool on);

/* log_elsewhere - the lines go to a file or syslog, not to stderr */
bool log_elsewhere(void);

void log_msg(enum log_level level, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void log_vmsg(enum log_level level, const char *module, const char *fmt,
	      va_list ap) __attribute__((format(printf, 3, 0)));

/* log_tick - report repeats of the last line held for LOG_FOLD_SECONDS or
   more (call it now and then: a daemon's tick) */
void log_tick(void);

/* the per-line messages of one kind for one input */
#define LOG_CAP_LINES 100
struct log_cap {
	uint64_t shown;		/* written */
	uint64_t hidden;	/* counted only */
};

/*
 * log_cap_take - true when one more line of the kind C counts may be
 * written (the first LOG_CAP_LINES, or every one at level debug); false
 * when it is only counted in C->hidden: the caller then writes one
 * summary line with the count when the input ends.
 */
bool log_cap_take(struct log_cap *c);

/*
 * log_progress - show TEXT as a progress line on stderr (a terminal),
 * overwritten by the next one; log lines clear it before they are written.
 * NULL clears it.
 */
void log_progress(const char *text);

#define log_error(mod, ...) log_msg(BLOG_ERROR, (mod), __VA_ARGS__)
#define log_warn(mod, ...) log_msg(BLOG_WARN, (mod), __VA_ARGS__)
#define log_info(mod, ...) log_msg(BLOG_INFO, (mod), __VA_ARGS__)
#define log_debug(mod, ...)                                                    \
	do {                                                                   \
		if (log_get_level() >= BLOG_DEBUG)                             \
			log_msg(BLOG_DEBUG, (mod), __VA_ARGS__);               \
	} while (0)

#endif
