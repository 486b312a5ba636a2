/*
 * classify_override.c - [classify] rules (classify_override.h): parsing
 * and matching.  Patterns are kept lower-cased; a text is lower-cased
 * (ASCII) once per match call into a bounded buffer, so matching costs no
 * allocation.  The rules' substrings are looked for together, in one pass
 * over the text (substr_set.c), unless they are more than a set holds;
 * the first rule in order whose status and pattern hold still wins.
 *
 * Error policy: parse errors are returned with a message naming the rule;
 * matching never fails.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <glib.h>

#include "classify.h"
#include "classify_override.h"
#include "errmsg.h"
#include "substr_set.h"

#define CO_TEXT_MAX 1024	/* bytes of a DSN text matched */

struct co_rule {
	char *status;		/* "5.1.1" or NULL */
	char *pattern;		/* lower case */
	int glob;		/* pattern holds '*' or '?' */
	char *category;
	char *text;		/* as written */
};

struct classify_overrides {
	struct co_rule *rules;
	size_t n;
	/* the substrings' set (bit I: rule I); NULL: strstr rule by rule */
	struct substr_set *subs;
};

void classify_overrides_free(struct classify_overrides *o)
{
	size_t i;

	if (!o)
		return;
	for (i = 0; i < o->n; i++) {
		g_free(o->rules[i].status);
		g_free(o->rules[i].pattern);
		g_free(o->rules[i].category);
		g_free(o->rules[i].text);
	}
	g_free(o->rules);
	substr_set_free(o->subs);
	g_free(o);
}

/* co_printable - no control characters */
static int co_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* co_status_prefix - the length of a leading "C.S" or "C.S.D" status
   code of S (C one of 2, 4, 5) followed by a blank or the end, copied
   into OUT; 0 when there is none */
static size_t co_status_prefix(const char *s, char *out, size_t cap)
{
	size_t i = 0, parts = 0;

	if (s[0] != '2' && s[0] != '4' && s[0] != '5')
		return 0;
	i = 1;
	while (parts < 2 && s[i] == '.' && g_ascii_isdigit(s[i + 1])) {
		i++;
		while (g_ascii_isdigit(s[i]) && i < 12)
			i++;
		parts++;
	}
	if (parts == 0 || (s[i] != ' ' && s[i] != '\0') || i >= cap)
		return 0;
	memcpy(out, s, i);
	out[i] = '\0';
	return i;
}

/* co_status_is - does STATUS ("5.7.1", or as PowerMTA writes it:
   "5.7.1 (delivery not authorized)") fall under PREFIX ("5.7")? */
static int co_status_is(const char *status, const char *prefix)
{
	size_t n = strlen(prefix);

	return status && strncmp(status, prefix, n) == 0 &&
	       (status[n] == '\0' || status[n] == '.' || status[n] == ' ');
}

/* co_rule - one "PATTERN => CATEGORY" into R; 0 or -EINVAL */
static int co_rule(const char *text, struct co_rule *r, char *err,
		   size_t errlen)
{
	const char *arrow = strstr(text, "=>");
	char *pat, *cat, status[16];
	size_t n;

	memset(r, 0, sizeof(*r));
	if (!arrow)
		return errmsg_rc(-EINVAL, err, errlen, "rule '%.80s': expected "
				 "PATTERN => CATEGORY", text);
	pat = g_strndup(text, (gsize)(arrow - text));
	cat = g_strdup(arrow + 2);
	g_strstrip(pat);
	g_strstrip(cat);
	if (!*pat || !*cat || !co_printable(pat) || !co_printable(cat) ||
	    strchr(cat, ' ')) {
		errmsg(err, errlen, "rule '%.80s': a pattern and one category "
		       "name are needed, without control characters", text);
		g_free(pat);
		g_free(cat);
		return -EINVAL;
	}
	/* a leading status code, whole or its first parts: "5.1.1 user
	   unknown", "5.7 blocked" */
	n = co_status_prefix(pat, status, sizeof(status));
	if (n) {
		r->status = g_strdup(status);
		memmove(pat, pat + n, strlen(pat + n) + 1);
		g_strstrip(pat);
	}
	r->text = g_strdup(text);
	g_strstrip(r->text);
	r->pattern = g_ascii_strdown(pat, -1);
	r->glob = strpbrk(pat, "*?") != NULL;
	r->category = g_ascii_strdown(cat, -1);
	g_free(pat);
	g_free(cat);
	return 0;
}

/* co_subs - the substring rules' set into O->subs (a glob rule's place
   is NULL); none when they are over its limits or out of memory */
static void co_subs(struct classify_overrides *o)
{
	const char *pats[CLASSIFY_RULES_MAX];
	size_t i;

	for (i = 0; i < o->n; i++)	/* at most CLASSIFY_RULES_MAX */
		pats[i] = o->rules[i].glob ? NULL : o->rules[i].pattern;
	o->subs = substr_set_new(pats, o->n);
}

int classify_overrides_parse(const char *spec,
			     struct classify_overrides **out, char *err,
			     size_t errlen)
{
	struct classify_overrides *o = g_new0(struct classify_overrides, 1);
	char **parts = g_strsplit(spec ? spec : CLASSIFY_RULES_DEFAULT, ";", 0);
	size_t i, n = g_strv_length(parts);
	int rc = 0;

	*out = NULL;
	o->rules = g_new0(struct co_rule, n ? n : 1);
	for (i = 0; parts[i] && rc == 0; i++) {
		g_strstrip(parts[i]);
		if (!*parts[i])
			continue;
		if (o->n >= CLASSIFY_RULES_MAX) {
			rc = errmsg_rc(-EINVAL, err, errlen, "more than %d "
				       "rules", CLASSIFY_RULES_MAX);
			break;
		}
		rc = co_rule(parts[i], &o->rules[o->n], err, errlen);
		if (rc == 0)
			o->n++;
	}
	g_strfreev(parts);
	if (rc) {
		classify_overrides_free(o);
		return rc;
	}
	co_subs(o);
	*out = o;
	return 0;
}

/* co_lower - the first CO_TEXT_MAX - 1 bytes of S in ASCII lower case
   (it runs for every bounce's text: 16 bytes at a time where SSE2 is);
   their count */
static size_t co_lower(const char *s, char *out)
{
	size_t n = s ? strnlen(s, CO_TEXT_MAX - 1) : 0, i = 0;

#if defined(__SSE2__)
	for (; i + 16 <= n; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		__m128i up = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('A' - 1)),
					   _mm_cmplt_epi8(v, _mm_set1_epi8('Z' + 1)));

		_mm_storeu_si128((__m128i *)(void *)(out + i),
				 _mm_add_epi8(v, _mm_and_si128(up, _mm_set1_epi8(32))));
	}
#endif
	for (; i < n; i++)
		out[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + 32) : s[i];
	out[n] = '\0';
	return n;
}

int classify_overrides_match(const struct classify_overrides *o,
			     const char *status, const char *diag,
			     const char **category)
{
	char text[CO_TEXT_MAX], found[16];
	uint64_t in[SUBSTR_SET_WORDS];
	const char *st;
	size_t i, n;

	if (!o || o->n == 0)
		return -1;
	n = co_lower(diag, text);
	st = classify_status_of(status, diag, found, sizeof(found));
	if (o->subs)
		substr_set_find(o->subs, text, n, in);
	for (i = 0; i < o->n; i++) {
		const struct co_rule *r = &o->rules[i];

		if (r->status && !co_status_is(st, r->status))
			continue;
		if (r->glob ? fnmatch(r->pattern, text, 0) != 0 :
		    o->subs ? !((in[i / 64] >> (i % 64)) & 1) :
			      strstr(text, r->pattern) == NULL)
			continue;
		if (category)
			*category = r->category;
		return (int)i;
	}
	return -1;
}

size_t classify_overrides_count(const struct classify_overrides *o)
{
	return o ? o->n : 0;
}

const char *classify_overrides_text(const struct classify_overrides *o,
				    size_t i)
{
	return o && i < o->n ? o->rules[i].text : NULL;
}

void classify_hit_key(const char *text, char *key, size_t len)
{
	snprintf(key, len, "classify.hit.%s", text ? text : "");
}
