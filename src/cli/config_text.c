/*
 * config_text.c - what GLib's key file reader accepts without a word but
 * an operator did not mean: a [group] written twice (GLib reads both as
 * one group: a key set in each takes the later value, and a second
 * [provider NAME] meant as another provider is lost in the first) and a
 * key with a locale suffix ("spool[de] = ..."), which GLib keeps as a
 * translation of the key and nothing here reads.  Found in the file's
 * text, the bytes GLib read (read once, by config.c: a file replaced in
 * between cannot give warnings about another text), after GLib has
 * accepted it (so the text is valid key-file syntax),
 * and said as warnings naming the lines.  Values are never quoted: they
 * may be secrets.
 */
#include <string.h>

#include <glib.h>

#include "config_ini.h"

/* cfg_text_line - the next line of *P (its line break and a CR before
   it cut off, leading blanks skipped) into LINE/LEN; false at the end */
static bool cfg_text_line(const char **p, const char **line, size_t *len)
{
	const char *s = *p, *nl;
	size_t l;

	if (*s == '\0')
		return false;
	nl = strchr(s, '\n');
	l = nl ? (size_t)(nl - s) : strlen(s);
	*p = nl ? nl + 1 : s + l;
	if (l > 0 && s[l - 1] == '\r')
		l--;
	while (l > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		l--;
	}
	*line = s;
	*len = l;
	return true;
}

/* cfg_text_group - a group header's name (up to its first ']') into a
   new string, or NULL when LINE is no header */
static char *cfg_text_group(const char *line, size_t len)
{
	const char *end;

	if (len < 2 || line[0] != '[')
		return NULL;
	end = memchr(line, ']', len);
	if (!end)
		return NULL;
	return g_strndup(line + 1, (size_t)(end - line - 1));
}

/* cfg_text_locale - warn of a key of LINE written with a locale suffix */
static void cfg_text_locale(struct cfg_ctx *c, const char *group,
			    unsigned n, const char *line, size_t len)
{
	const char *eq = memchr(line, '=', len), *open;
	size_t k;
	char *key;

	if (!eq)
		return;
	k = (size_t)(eq - line);
	while (k > 0 && (line[k - 1] == ' ' || line[k - 1] == '\t'))
		k--;
	if (k < 3 || line[k - 1] != ']')
		return;
	open = memchr(line, '[', k);
	if (!open || open == line)
		return;
	key = g_strndup(line, k);
	if (k <= CFG_SHOW_MAX)
		cfg_warn(c, "[%s] line %u: key '%s' is not read: a key takes "
			 "no [suffix] (GLib keeps it as a translation of "
			 "'%.*s'); write '%.*s = ...'", group ? group : "", n,
			 key, (int)(open - line), line, (int)(open - line),
			 line);
	else
		cfg_warn(c, "[%s] line %u: a key with a [suffix] is not read",
			 group ? group : "", n);
	g_free(key);
}

void cfg_text_check(struct cfg_ctx *c)
{
	GHashTable *seen = NULL;
	const gchar *text;
	const char *p, *line;
	const char *group = NULL;
	gpointer orig, first;
	size_t len;
	unsigned n = 0;

	if (!c->text)
		return;
	text = c->text;
	seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (p = text; cfg_text_line(&p, &line, &len);) {
		char *name;

		n++;
		if (len == 0 || line[0] == '#')
			continue;
		name = cfg_text_group(line, len);
		if (!name) {
			cfg_text_locale(c, group, n, line, len);
			continue;
		}
		if (g_hash_table_lookup_extended(seen, name, &orig, &first)) {
			cfg_warn(c, "group [%s] appears more than once (lines "
				 "%u and %u): they are read as one group, a "
				 "key set in both takes the later value; "
				 "write each group once", name,
				 GPOINTER_TO_UINT(first), n);
			g_free(name);
			group = orig;
			continue;
		}
		group = name;
		g_hash_table_insert(seen, name, GUINT_TO_POINTER(n));
	}
	g_hash_table_destroy(seen);
}
