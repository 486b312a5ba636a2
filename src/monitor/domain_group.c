/*
 * domain_group.c - destinations: a domain, or its provider's group
 * (domain_group.h).  Exact domains are found in a hash table, globs in
 * their order of writing; the first group that names a domain wins.
 *
 * Error policy: parse errors are returned with a message; lookups never
 * fail.
 */
#include <errno.h>
#include <fnmatch.h>
#include <string.h>

#include <glib.h>

#include "domain_group.h"
#include "errmsg.h"

struct dg_glob {
	char *pattern;
	const char *name;	/* owned by names */
};

struct domain_groups {
	GHashTable *exact;	/* domain -> name (borrowed) */
	GArray *globs;		/* struct dg_glob */
	GPtrArray *names;	/* g_free'd */
};

void domain_groups_free(struct domain_groups *g)
{
	guint i;

	if (!g)
		return;
	for (i = 0; g->globs && i < g->globs->len; i++)
		g_free(g_array_index(g->globs, struct dg_glob, i).pattern);
	if (g->globs)
		g_array_free(g->globs, TRUE);
	if (g->exact)
		g_hash_table_destroy(g->exact);
	if (g->names)
		g_ptr_array_free(g->names, TRUE);
	g_free(g);
}

/* dg_name_ok - a group name: 1..DOMAIN_GROUP_NAME_MAX of [a-z0-9_.-] */
static int dg_name_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (i >= DOMAIN_GROUP_NAME_MAX ||
		    !(g_ascii_islower(s[i]) || g_ascii_isdigit(s[i]) ||
		      s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return 0;
	return i > 0;
}

/* dg_pattern_ok - a domain or glob: printable, no blank, not too long */
static int dg_pattern_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (i > 253 || (unsigned char)s[i] <= 0x20 ||
		    (unsigned char)s[i] >= 0x7f)
			return 0;
	return i > 0;
}

/* dg_group - one "NAME: PATTERN ..." into G; 0 or -EINVAL */
static int dg_group(struct domain_groups *g, const char *text, char *err,
		    size_t errlen)
{
	const char *colon = strchr(text, ':');
	char *name, **pats;
	int rc = 0, n = 0;
	size_t i;

	if (!colon)
		return errmsg_rc(-EINVAL, err, errlen, "'%.80s': expected "
				 "NAME: DOMAIN DOMAIN ...", text);
	name = g_ascii_strdown(text, colon - text);
	g_strstrip(name);
	if (!dg_name_ok(name)) {
		errmsg(err, errlen, "'%.80s': a group name is 1 to %d of "
		       "a-z, 0-9, '_', '.', '-'", text, DOMAIN_GROUP_NAME_MAX);
		g_free(name);
		return -EINVAL;
	}
	g_ptr_array_add(g->names, name);
	pats = g_strsplit_set(colon + 1, " \t,", 0);
	for (i = 0; pats[i] && rc == 0; i++) {
		char *pat = g_ascii_strdown(pats[i], -1);

		if (!*pat) {
			g_free(pat);
			continue;
		}
		if (!dg_pattern_ok(pat)) {
			rc = errmsg_rc(-EINVAL, err, errlen, "group %s: '%.80s' "
				       "is not a domain or a pattern", name,
				       pat);
			g_free(pat);
			break;
		}
		n++;
		if (strpbrk(pat, "*?[")) {
			struct dg_glob gl = { pat, name };

			g_array_append_val(g->globs, gl);
		} else if (!g_hash_table_contains(g->exact, pat)) {
			g_hash_table_insert(g->exact, pat, name);
		} else {
			g_free(pat);	/* an earlier group has it */
		}
	}
	g_strfreev(pats);
	if (rc == 0 && n == 0)
		rc = errmsg_rc(-EINVAL, err, errlen, "group %s names no "
			       "domain", name);
	return rc;
}

int domain_groups_parse(const char *spec, struct domain_groups **out,
			char *err, size_t errlen)
{
	struct domain_groups *g = g_new0(struct domain_groups, 1);
	char **groups;
	size_t i;
	int rc = 0;

	*out = NULL;
	g->exact = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					 NULL);
	g->globs = g_array_new(FALSE, FALSE, sizeof(struct dg_glob));
	g->names = g_ptr_array_new_with_free_func(g_free);
	groups = g_strsplit(spec ? spec : DOMAIN_GROUPS_DEFAULT, ";", 0);
	for (i = 0; groups[i] && rc == 0; i++) {
		g_strstrip(groups[i]);
		if (*groups[i])
			rc = dg_group(g, groups[i], err, errlen);
	}
	g_strfreev(groups);
	if (rc) {
		domain_groups_free(g);
		return rc;
	}
	*out = g;
	return 0;
}

const char *domain_groups_of(const struct domain_groups *g,
			     const char *domain)
{
	const char *name;
	guint i;

	if (!g || !domain)
		return domain;
	name = g_hash_table_lookup(g->exact, domain);
	if (name)
		return name;
	for (i = 0; i < g->globs->len; i++) {
		const struct dg_glob *gl =
			&g_array_index(g->globs, struct dg_glob, i);

		if (fnmatch(gl->pattern, domain, FNM_CASEFOLD) == 0)
			return gl->name;
	}
	return domain;
}

const char *domain_groups_of_addr(const struct domain_groups *g,
				  const char *addr)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;

	return domain_groups_of(g, at ? at + 1 : addr);
}
