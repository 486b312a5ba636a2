/*
 * tstate.c - a throw-away state directory for unit tests (tstate.h).
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "tstate.h"

static int tstate_rm_entry(const char *path, const struct stat *sb,
			   int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int tstate_rm_tree(const char *path)
{
	return nftw(path, tstate_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int tstate_setup(struct tstate *t, const char *prefix)
{
	char tmpl[128], err[512];

	memset(t, 0, sizeof(*t));
	snprintf(tmpl, sizeof(tmpl), "%s-XXXXXX", prefix);
	t->tmp = g_dir_make_tmp(tmpl, NULL);
	if (t->tmp == NULL) {
		fprintf(stderr, "%s: cannot make a temporary directory\n",
			prefix);
		return -1;
	}
	snprintf(t->dir, sizeof(t->dir), "%s/state", t->tmp);
	if (state_open(&t->st, t->dir, false, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: state_open: %s\n", prefix, err);
		return -1;
	}
	return 0;
}

int tstate_reopen(struct tstate *t)
{
	char err[512];

	state_close(t->st);
	t->st = NULL;
	if (state_open(&t->st, t->dir, false, err, sizeof(err)) != 0) {
		fprintf(stderr, "state_open again: %s\n", err);
		return -1;
	}
	return 0;
}

int tstate_teardown(struct tstate *t)
{
	int rc = 0;

	if (t->st)
		state_close(t->st);
	t->st = NULL;
	if (t->tmp) {
		rc = tstate_rm_tree(t->tmp);
		g_free(t->tmp);
		t->tmp = NULL;
	}
	return rc;
}
