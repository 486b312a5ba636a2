/*
 * tlog.h - bounced's log, as a unit test reads it back: the log file is
 * closed, read whole and opened again, so that what the code under test
 * wrote so far is on disk and the log goes on into the same file.
 */
#ifndef BOUNCED_TLOG_H
#define BOUNCED_TLOG_H

#include "tstate.h"

/* tlog_start - bounced's log into the file PATH, at LEVEL (BLOG_...);
   0 or log_open's -errno */
int tlog_start(const char *path, int level);

/* tlog_stop - the log closed, its level back to errors only (what a test
   program that did not ask for more logs) */
void tlog_stop(void);

/* tlog_text - the log file PATH (open as bounced's log) as it is now,
   the log opened again on it; g_free it.  NULL on an error (a message on
   stderr). */
char *tlog_text(const char *path);

/* tlog_count - how many times NEEDLE is in TEXT */
int tlog_count(const char *text, const char *needle);

/* a fresh state (tstate.h) with bounced's log in its directory */
struct tlogged {
	struct tstate t;
	char *log;		/* T.tmp/bounced.log */
};

/* tlogged_setup - L's state made for a test named PREFIX, the log opened
   at LEVEL; 0 or -1 (a message on stderr) */
int tlogged_setup(struct tlogged *l, const char *prefix, int level);
/* tlogged_teardown - the log closed (tlog_stop), the state removed; 0 or
   -1 */
int tlogged_teardown(struct tlogged *l);

#endif
