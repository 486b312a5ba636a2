/*
 * arf_text.c - header values of a feedback report made safe to keep.
 *
 * Everything in a report was written by someone else: values are copied
 * into fixed arrays as valid UTF-8 with no control characters (so no CR,
 * LF or NUL ever reaches a log line, a URL or a record), truncated on a
 * character boundary; identifiers and addresses are kept only when their
 * whole form is right.  No allocation survives a call; nothing logs.
 */
#include <string.h>

#include <glib.h>

#include "addr.h"
#include "arf_priv.h"

static int arf_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* arf_text_space - characters kept as one space: TAB, CR, LF, line and
   paragraph separators */
static int arf_text_space(gunichar c)
{
	return c == '\t' || c == '\r' || c == '\n' || c == 0x2028 ||
	       c == 0x2029;
}

/* arf_text_drop - characters removed from kept text: other C0 controls,
   DEL, C1 controls, byte-order marks */
static int arf_text_drop(gunichar c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0xfeff;
}

/* arf_text_copy - SRC as clean UTF-8 into DST */
size_t arf_text_copy(char *dst, size_t dstlen, const char *src)
{
	char *valid, *p;
	size_t n = 0, cl;

	if (dstlen == 0)
		return 0;
	dst[0] = '\0';
	if (!src)
		return 0;
	valid = g_utf8_make_valid(src, -1);
	for (p = valid; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		cl = (size_t)(g_utf8_next_char(p) - p);
		if (arf_text_space(c))
			c = ' ';
		else if (arf_text_drop(c))
			continue;
		if (c == ' ' && (n == 0 || dst[n - 1] == ' '))
			continue;	/* trim the front, squeeze runs */
		if (n + cl >= dstlen)
			break;		/* whole characters only */
		if (c == ' ')
			dst[n] = ' ';
		else
			memcpy(dst + n, p, cl);
		n += cl;
	}
	while (n > 0 && dst[n - 1] == ' ')
		n--;
	dst[n] = '\0';
	g_free(valid);
	return n;
}

/* arf_token_copy - an identifier, kept whole or not at all */
int arf_token_copy(char *dst, size_t dstlen, const char *src,
		   const char *extra)
{
	const char *s = src, *e;
	size_t n, i;

	if (dstlen == 0)
		return -1;
	dst[0] = '\0';
	if (!src)
		return -1;
	e = s + strlen(s);
	while (s < e && arf_blank((unsigned char)*s))
		s++;
	while (e > s && arf_blank((unsigned char)e[-1]))
		e--;
	n = (size_t)(e - s);
	if (n == 0 || n >= dstlen)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!g_ascii_isalnum(c) && !(c && strchr(extra, c)))
			return -1;
	}
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

/* arf_addr_copy - a normalised address that is valid UTF-8 without
   control characters */
int arf_addr_copy(char *dst, const char *src)
{
	const char *p;
	int n;

	dst[0] = '\0';
	if (!src)
		return -1;
	n = addr_normalise(src, strlen(src), dst, ADDR_MAX + 1);
	if (n < 0 || !g_utf8_validate(dst, n, NULL))
		goto bad;
	for (p = dst; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (arf_text_space(c) || arf_text_drop(c))
			goto bad;	/* C1 controls pass addr_normalise */
	}
	return 0;
bad:
	dst[0] = '\0';
	return -1;
}

/* arf_word_in - S (N bytes) contains WORD (lower-case letters),
   ignoring case; its first letter is compared before the rest is */
static int arf_word_in(const char *s, size_t n, const char *word)
{
	size_t w = strlen(word), i;

	for (i = 0; i + w <= n; i++)
		if ((s[i] | 0x20) == word[0] &&
		    g_ascii_strncasecmp(s + i, word, w) == 0)
			return 1;
	return 0;
}

/* arf_x_token - S (N bytes) has a token (between '.', '_', '-', '+' or
   the ends) of three or more 'x' and nothing else: "xxx", "user.xxxx" */
static int arf_x_token(const char *s, size_t n)
{
	size_t i, run = 0;
	int only_x = 1;

	for (i = 0; i <= n; i++) {
		if (i == n || s[i] == '.' || s[i] == '_' || s[i] == '-' ||
		    s[i] == '+') {
			if (only_x && run >= 3)
				return 1;
			run = 0;
			only_x = 1;
			continue;
		}
		if (s[i] == 'x' || s[i] == 'X')
			run++;
		else
			only_x = 0;
	}
	return 0;
}

/* arf_hex_run - the longest run of hex digits in S (N bytes) */
static size_t arf_hex_run(const char *s, size_t n)
{
	size_t i, run = 0, best = 0;

	for (i = 0; i < n; i++) {
		run = g_ascii_isxdigit(s[i]) ? run + 1 : 0;
		if (run > best)
			best = run;
	}
	return best;
}

/* arf_redacted_local - a local part a provider wrote in place of the real
   one: empty; a placeholder word; masked ('*', runs of 'x' or '#'); or
   opaque (a hash: 32 or more hex digits in a row) */
static int arf_redacted_local(const char *s, size_t n)
{
	static const char *const words[] = {
		"removed", "hidden", "anonymous", "anonymized", "anonymised",
		"masked", "undisclosed", "withheld", "private", "unknown",
	};
	size_t i, marks = 0;

	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		s++;
		n -= 2;
	}
	if (n == 0)
		return 1;
	for (i = 0; n >= 6 && n <= 11 && i < G_N_ELEMENTS(words); i++)
		if (n == strlen(words[i]) &&	/* 6 to 11 letters */
		    g_ascii_strncasecmp(s, words[i], n) == 0)
			return 1;
	if (arf_word_in(s, n, "redacted") || arf_word_in(s, n, "hashed") ||
	    memchr(s, '*', n) || arf_x_token(s, n) ||
	    arf_hex_run(s, n) >= ARF_HASH_HEX_MIN)
		return 1;
	for (i = 0; i < n; i++) {
		if (s[i] != '.' && s[i] != 'x' && s[i] != 'X' && s[i] != '#')
			return 0;
		marks += s[i] != '.';
	}
	return marks >= 3;	/* only 'x', '#' and dots: "x#x", "###" */
}

/* arf_redacted_domain - a domain masked as a whole ("xxxxxx-xxxxx.xx",
   "***.**"): nothing but 'x', '#', '*', '-' and dots, three marks at
   least (no real domain is that) */
static int arf_redacted_domain(const char *s, size_t n)
{
	size_t i, marks = 0;

	for (i = 0; i < n; i++) {
		if (!strchr("xX#*-.", s[i]))
			return 0;
		marks += s[i] != '.' && s[i] != '-';
	}
	return marks >= 3;
}

/* arf_redacted - SRC stands for a hidden recipient */
int arf_redacted(const char *src)
{
	const char *s = src, *e, *at;

	if (!src)
		return 0;
	e = s + strlen(s);
	while (s < e && arf_blank((unsigned char)*s))
		s++;
	while (e > s && arf_blank((unsigned char)e[-1]))
		e--;
	if (e - s >= 7 && g_ascii_strncasecmp(s, "rfc822;", 7) == 0) {
		s += 7;
		while (s < e && arf_blank((unsigned char)*s))
			s++;
	}
	if (s < e && *s == '<')
		s++;
	if (e > s && e[-1] == '>')
		e--;
	if (s == e)
		return 0;	/* nothing there: absent, not redacted */
	at = memrchr(s, '@', (size_t)(e - s));
	if (at && (arf_word_in(at + 1, (size_t)(e - at - 1), "redacted") ||
		   arf_redacted_domain(at + 1, (size_t)(e - at - 1))))
		return 1;	/* "someone@redacted", "someone@xxxx-xxx.xx" */
	return arf_redacted_local(s, (size_t)((at ? at : e) - s));
}

/* arf_header - the first NAME header of O, decoded */
const char *arf_header(GMimeObject *o, const char *name)
{
	return o ? g_mime_object_get_header(o, name) : NULL;
}

/* arf_header_raw - the first NAME header of O as it was in the mail */
const char *arf_header_raw(GMimeObject *o, const char *name)
{
	GMimeHeaderList *hl = o ? g_mime_object_get_header_list(o) : NULL;
	GMimeHeader *h = hl ? g_mime_header_list_get_header(hl, name) : NULL;

	return h ? g_mime_header_get_raw_value(h) : NULL;
}
