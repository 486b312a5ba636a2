/*
 * spool_tries.c - the attempts at spool entries that could not be read
 * (spool_tries.h): a GLib table of name -> count and due time.
 *
 * Error policy: none; GLib aborts when memory runs out, as everywhere.
 */
#include <glib.h>

#include "spool_tries.h"

struct spool_try {
	unsigned attempts;
	int64_t next_ms;
};

struct spool_tries {
	char *dir;
	bool bounded;
	GHashTable *names;	/* name -> struct spool_try */
};

struct spool_tries *spool_tries_new(const char *dir, bool bounded)
{
	struct spool_tries *t = g_new0(struct spool_tries, 1);

	t->dir = g_strdup(dir);
	t->bounded = bounded;
	t->names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					 g_free);
	return t;
}

void spool_tries_free(struct spool_tries *t)
{
	if (!t)
		return;
	g_hash_table_destroy(t->names);
	g_free(t->dir);
	g_free(t);
}

void spool_tries_bound(struct spool_tries *t, bool bounded)
{
	t->bounded = bounded;
}

/* spool_tries_gone - KEY is no longer in DIR (a GHRFunc) */
static gboolean spool_tries_gone(gpointer key, gpointer value, gpointer dir)
{
	char *p = g_build_filename(dir, key, NULL);
	gboolean gone = !g_file_test(p, G_FILE_TEST_EXISTS);

	(void)value;
	g_free(p);
	return gone;
}

unsigned spool_tries_fail(struct spool_tries *t, const char *name,
			  int64_t next_ms)
{
	struct spool_try *e = g_hash_table_lookup(t->names, name);

	if (!e && t->bounded &&
	    g_hash_table_size(t->names) >= SPOOL_TRIES_MAX) {
		g_hash_table_foreach_remove(t->names, spool_tries_gone, t->dir);
		if (g_hash_table_size(t->names) >= SPOOL_TRIES_MAX)
			return 0;
	}
	if (!e) {
		e = g_new0(struct spool_try, 1);
		g_hash_table_insert(t->names, g_strdup(name), e);
	}
	e->next_ms = next_ms;
	return ++e->attempts;
}

void spool_tries_wait(struct spool_tries *t, const char *name,
		      int64_t next_ms)
{
	struct spool_try *e = g_hash_table_lookup(t->names, name);

	if (e)
		e->next_ms = next_ms;
}

void spool_tries_forget(struct spool_tries *t, const char *name)
{
	g_hash_table_remove(t->names, name);
}

int64_t spool_tries_next(const struct spool_tries *t, const char *name)
{
	const struct spool_try *e = g_hash_table_lookup(t->names, name);

	return e ? e->next_ms : INT64_MIN;
}

bool spool_tries_any(const struct spool_tries *t)
{
	return g_hash_table_size(t->names) > 0;
}

void spool_tries_adopt(struct spool_tries *t, struct spool_tries *old)
{
	GHashTable *h = t->names;

	t->names = old->names;
	old->names = h;
	g_hash_table_remove_all(old->names);
}
