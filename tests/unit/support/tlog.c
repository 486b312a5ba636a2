/*
 * tlog.c - bounced's log read back by a unit test (tlog.h).
 */
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "log.h"
#include "tlog.h"

int tlog_start(const char *path, int level)
{
	int rc = log_open(path);

	if (rc == 0)
		log_set_level(level);
	return rc;
}

void tlog_stop(void)
{
	log_close();
	log_set_level(BLOG_ERROR);
}

char *tlog_text(const char *path)
{
	GError *err = NULL;
	char *text = NULL;

	log_close();
	if (!g_file_get_contents(path, &text, NULL, &err)) {
		fprintf(stderr, "tlog: %s\n", err->message);
		g_error_free(err);
		text = NULL;
	}
	if (log_open(path) != 0) {
		fprintf(stderr, "tlog: cannot open the log %s again\n", path);
		g_free(text);
		return NULL;
	}
	return text;
}

int tlog_count(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = strstr(text, needle); p;
	     p = strstr(p + 1, needle))
		n++;
	return n;
}

int tlogged_setup(struct tlogged *l, const char *prefix, int level)
{
	if (tstate_setup(&l->t, prefix) != 0)
		return -1;
	l->log = g_build_filename(l->t.tmp, "bounced.log", NULL);
	if (tlog_start(l->log, level) != 0) {
		fprintf(stderr, "tlog: cannot open the log %s\n", l->log);
		return -1;
	}
	return 0;
}

int tlogged_teardown(struct tlogged *l)
{
	tlog_stop();
	g_free(l->log);
	l->log = NULL;
	return tstate_teardown(&l->t);
}
