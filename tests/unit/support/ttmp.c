/*
 * ttmp.c - throw-away temporary directories for unit tests (ttmp.h).
 * Errors are reported on stderr with the path and returned as -1, so that
 * a fixture's teardown fails when something could not be removed.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <glib.h>

#include "ttmp.h"

/* ttmp_rm_entry - remove one entry, deepest first (nftw callback) */
static int ttmp_rm_entry(const char *path, const struct stat *sb, int flag,
			 struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	if (remove(path) != 0 && errno != ENOENT) {
		fprintf(stderr, "cannot remove %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	return 0;
}

/* ttmp_make - a fresh directory PREFIX-XXXXXX */
char *ttmp_make(const char *prefix)
{
	char tmpl[128];
	GError *e = NULL;
	char *dir;

	snprintf(tmpl, sizeof(tmpl), "%s-XXXXXX", prefix);
	dir = g_dir_make_tmp(tmpl, &e);
	if (dir == NULL) {
		fprintf(stderr, "%s: cannot make a temporary directory: %s\n",
			prefix, e ? e->message : "unknown error");
		g_clear_error(&e);
	}
	return dir;
}

/* ttmp_rm_tree - remove PATH and its contents */
int ttmp_rm_tree(const char *path)
{
	struct stat sb;

	if (lstat(path, &sb) != 0 && errno == ENOENT)
		return 0;
	if (nftw(path, ttmp_rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0) {
		fprintf(stderr, "cannot remove the tree %s\n", path);
		return -1;
	}
	return 0;
}

/* ttmp_remove - remove *DIR's tree and free the name */
int ttmp_remove(char **dir)
{
	int rc = 0;

	if (*dir == NULL)
		return 0;
	rc = ttmp_rm_tree(*dir);
	g_free(*dir);
	*dir = NULL;
	return rc;
}
