/*
 * log.h - leveled log lines for bounced and bouncectl.
 *
 * One line per message: "2026-11-25 08:10:00 bounced[123]: LEVEL module: text".
 * The destination is stderr ("-") or a file opened in append mode; the
 * file can be reopened (SIGHUP, logrotate).  Library code logs and returns
 * errors; it never exits.
 */
#ifndef BOUNCED_LOG_H
#define BOUNCED_LOG_H

#include <stdarg.h>

enum log_level {
	BLOG_ERROR = 0,
	BLOG_WARN = 1,
	BLOG_INFO = 2,
	BLOG_DEBUG = 3,
};

/* log_open - send lines to PATH ("-" or NULL = stderr); 0 or -errno */
int log_open(const char *path);
/* log_reopen - reopen the current file (after rotation); 0 or -errno */
int log_reopen(void);
void log_close(void);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* log_set_ident - program name shown in each line (default "bounced") */
void log_set_ident(const char *ident);

void log_msg(enum log_level level, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void log_vmsg(enum log_level level, const char *module, const char *fmt,
	      va_list ap) __attribute__((format(printf, 3, 0)));

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
