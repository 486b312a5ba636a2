/*
 * http_excerpt.c - a provider's answer made a short, printable reason
 * (include/http_excerpt.h): the <title> or first text of an HTML page,
 * else the text; whitespace folded, control characters escaped, at most
 * HTTP_EXCERPT_MAX bytes.
 *
 * Error policy: none can occur; at most HTTP_EXCERPT_SCAN bytes of the
 * answer are looked at, so a page of any size costs the same.  Memory
 * comes from GLib (which aborts when none is left).
 */
#include <stdbool.h>
#include <string.h>

#include <glib.h>

#include "http_excerpt.h"

#define HTTP_EXCERPT_SCAN (64 * 1024)	/* bytes of an answer looked at */

/* hx_find - the first case-insensitive NEEDLE in S[0..END), or NULL */
static const char *hx_find(const char *s, const char *end, const char *needle)
{
	size_t n = strlen(needle);

	for (; s + n <= end; s++)
		if (g_ascii_strncasecmp(s, needle, n) == 0)
			return s;
	return NULL;
}

/* hx_entity - the entity at S ('&'), decoded into OUT; the bytes it took,
   0 when it is no entity we know */
static size_t hx_entity(const char *s, const char *end, GString *out)
{
	static const struct {
		const char *name;
		const char *text;
	} named[] = {
		{ "&amp;", "&" }, { "&lt;", "<" }, { "&gt;", ">" },
		{ "&quot;", "\"" }, { "&apos;", "'" }, { "&nbsp;", " " },
	};
	const char *p;
	gunichar u = 0;
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(named); i++) {
		size_t n = strlen(named[i].name);

		if ((size_t)(end - s) >= n &&
		    g_ascii_strncasecmp(s, named[i].name, n) == 0) {
			g_string_append(out, named[i].text);
			return n;
		}
	}
	if (end - s < 4 || s[1] != '#')
		return 0;
	p = s + 2;
	if (*p == 'x' || *p == 'X') {
		for (p++; p < end && g_ascii_isxdigit(*p) && u < 0x110000; p++)
			u = u * 16 + (gunichar)g_ascii_xdigit_value(*p);
	} else {
		for (; p < end && g_ascii_isdigit(*p) && u < 0x110000; p++)
			u = u * 10 + (gunichar)(*p - '0');
	}
	if (p >= end || *p != ';' || p == s + 2 || !g_unichar_validate(u) ||
	    u == 0)
		return 0;
	g_string_append_unichar(out, u);
	return (size_t)(p + 1 - s);
}

/* hx_text - the text of markup S[0..END): tags, comments, script and
   style left out, entities decoded; stops once OUT holds enough */
static void hx_text(const char *s, const char *end, GString *out)
{
	while (s < end && out->len <= 4 * HTTP_EXCERPT_MAX) {
		const char *close;
		size_t n;

		if (*s == '&' && (n = hx_entity(s, end, out)) > 0) {
			s += n;
			continue;
		}
		if (*s != '<') {
			g_string_append_c(out, *s++);
			continue;
		}
		if (end - s >= 4 && strncmp(s, "<!--", 4) == 0) {
			close = hx_find(s + 4, end, "-->");
			s = close ? close + 3 : end;
			continue;
		}
		if (hx_find(s, s + 7 <= end ? s + 7 : end, "<script") == s ||
		    hx_find(s, s + 6 <= end ? s + 6 : end, "<style") == s) {
			const char *tag = g_ascii_tolower(s[2]) == 'c' ?
					  "</script" : "</style";

			close = hx_find(s, end, tag);
			s = close ? close + strlen(tag) : end;
		}
		/* a tag: skipped, a space in its place (blocks break words) */
		close = memchr(s, '>', (size_t)(end - s));
		s = close ? close + 1 : end;
		g_string_append_c(out, ' ');
	}
}

/* hx_title - the text of the <title> of S[0..END) into OUT; false when
   there is none or it is empty */
static bool hx_title(const char *s, const char *end, GString *out)
{
	const char *t = hx_find(s, end, "<title"), *open, *close;
	size_t i;

	if (!t)
		return false;
	open = memchr(t, '>', (size_t)(end - t));
	if (!open)
		return false;
	close = hx_find(open + 1, end, "</title");
	hx_text(open + 1, close ? close : end, out);
	for (i = 0; i < out->len; i++)
		if (!g_ascii_isspace(out->str[i]))
			return true;
	g_string_truncate(out, 0);
	return false;
}

/* hx_fold - TEXT (valid UTF-8) folded and escaped into OUT, at most MAX
   bytes, cut after a whole character or escape with "..." */
static size_t hx_fold(const char *text, char *out, size_t max)
{
	GString *s = g_string_new(NULL);
	const char *p;
	bool space = true;	/* drops leading blanks, collapses runs */
	bool cut = false;
	size_t n, fit = 0;	/* FIT: a length that leaves room for "..." */

	for (p = text; *p; p = g_utf8_next_char(p)) {
		gunichar u = g_utf8_get_char(p);

		if (u == ' ' || u == '\t' || u == '\n' || u == '\r' ||
		    u == '\f' || u == '\v' || u == 0xa0) {
			if (!space)
				g_string_append_c(s, ' ');
			space = true;
		} else {
			if (u < 0x20 || u == 0x7f)
				g_string_append_printf(s, "\\x%02x",
						       (unsigned)u);
			else if (u >= 0x80 && u < 0xa0)
				g_string_append_printf(s, "\\u%04x",
						       (unsigned)u);
			else
				g_string_append_len(s, p,
						    g_utf8_next_char(p) - p);
			space = false;
		}
		if (s->len > max) {
			cut = true;
			break;
		}
		if (s->len + 3 <= max)
			fit = s->len;
	}
	if (cut) {
		g_string_truncate(s, max >= 3 ? fit : 0);
		while (s->len > 0 && s->str[s->len - 1] == ' ')
			g_string_truncate(s, s->len - 1);
		if (max >= 3)
			g_string_append(s, "...");
	} else if (s->len > 0 && s->str[s->len - 1] == ' ') {
		g_string_truncate(s, s->len - 1);
	}
	n = s->len;
	memcpy(out, s->str, n + 1);
	g_string_free(s, TRUE);
	return n;
}

/* http_excerpt - the reason of an answer, short and printable */
size_t http_excerpt(const char *body, size_t len, char *out, size_t cap)
{
	const char *s, *end;
	GString *text;
	gchar *valid, *copy;
	size_t n, max;

	if (!out || cap == 0)
		return 0;
	out[0] = '\0';
	if (!body || len == 0)
		return 0;
	if (len > HTTP_EXCERPT_SCAN)
		len = HTTP_EXCERPT_SCAN;
	/* a NUL byte ends nothing: it becomes U+FFFD like invalid bytes */
	copy = g_memdup2(body, len);
	for (n = 0; n < len; n++)
		if (copy[n] == '\0')
			copy[n] = (char)0xff;
	valid = g_utf8_make_valid(copy, (gssize)len);
	g_free(copy);
	len = strlen(valid);
	s = valid;
	end = valid + len;
	while (s < end && g_ascii_isspace(*s))
		s++;
	if (end - s >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3;	/* a byte order mark */
	text = g_string_new(NULL);
	if (s < end && *s == '<') {
		if (!hx_title(s, end, text))
			hx_text(s, end, text);
	} else {
		g_string_append_len(text, s, end - s);
	}
	max = cap - 1 < HTTP_EXCERPT_MAX ? cap - 1 : HTTP_EXCERPT_MAX;
	n = hx_fold(text->str, out, max);
	g_string_free(text, TRUE);
	g_free(valid);
	return n;
}
