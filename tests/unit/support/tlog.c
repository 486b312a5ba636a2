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
