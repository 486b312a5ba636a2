/*
 * addr.c - recipient address normalisation.
 *
 * Addresses arrive from accounting files, FBL reports and lists written by
 * anyone; they become LMDB keys and, later, URL parameters.  Whatever is
 * not clearly a deliverable address is refused here (-1), so that nothing
 * downstream has to re-check it.
 *
 * An internationalised domain is kept once, in its ASCII form: the domain
 * of "hans@B\xc3\xbccher.de" becomes "xn--bcher-kva.de" (libidn2: IDNA 2008
 * with the UTS #46 mapping, which also lowercases it), so that the
 * address is one key however PowerMTA, a list or a report spelt it.  A
 * domain libidn2 refuses (not valid IDNA, which no MTA could have
 * resolved either) is kept as it came, lowercased in ASCII only.  The
 * local part is never converted (SMTPUTF8 mailboxes are case-sensitive
 * beyond ASCII).  Only a domain with non-ASCII bytes costs an allocation
 * (libidn2's result, freed here).
 */
#include <glib.h>
#include <idn2.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "addr.h"
#include "event.h"

static int addr_is_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* bytes no local part may hold: controls, blanks, DEL, quotes, angle
   brackets, '@', ',' ';' ':' '\\' parentheses and brackets */
static const unsigned char addr_local_bad[256] = {
	[0x00] = 1, [0x01] = 1, [0x02] = 1, [0x03] = 1, [0x04] = 1, [0x05] = 1,
	[0x06] = 1, [0x07] = 1, [0x08] = 1, [0x09] = 1, [0x0a] = 1, [0x0b] = 1,
	[0x0c] = 1, [0x0d] = 1, [0x0e] = 1, [0x0f] = 1, [0x10] = 1, [0x11] = 1,
	[0x12] = 1, [0x13] = 1, [0x14] = 1, [0x15] = 1, [0x16] = 1, [0x17] = 1,
	[0x18] = 1, [0x19] = 1, [0x1a] = 1, [0x1b] = 1, [0x1c] = 1, [0x1d] = 1,
	[0x1e] = 1, [0x1f] = 1, [' '] = 1, [0x7f] = 1,
	['"'] = 1, ['<'] = 1, ['>'] = 1, ['@'] = 1, [','] = 1, [';'] = 1,
	[':'] = 1, ['\\'] = 1, ['('] = 1, [')'] = 1, ['['] = 1, [']'] = 1,
};

/* addr_local_ok - a dot-atom-ish local part: no controls, blanks, quotes,
   angle brackets, '@', ',' ';' '\\' or parentheses */
static int addr_local_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 64 || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (addr_local_bad[c])
			return 0;
		if (c == '.' && s[i + 1] == '.')
			return 0;	/* s[n - 1] is no dot: i + 1 < n */
	}
	return 1;
}

/* addr_domain_ok - labels of [a-z0-9_-] (and UTF-8 bytes) separated by
   single dots, or an address literal in brackets */
static int addr_domain_ok(const char *s, size_t n)
{
	size_t i, label = 0;

	if (n == 0 || n > 253)
		return 0;
	if (s[0] == '[') {
		if (n < 3 || s[n - 1] != ']')
			return 0;
		for (i = 1; i + 1 < n; i++) {
			unsigned char c = (unsigned char)s[i];

			if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
			      c == '.' || c == ':'))
				return 0;
		}
		return 1;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c >= 0x80))
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0;
}

/* addr_has_c1 - S holds a UTF-8 C1 control (U+0080 to U+009F: C2 80 to
   C2 9F), which no address may carry (it would reach logs and mails) */
static int addr_has_c1(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i++)
		if ((unsigned char)s[i] == 0xc2 &&
		    (unsigned char)s[i + 1] >= 0x80 &&
		    (unsigned char)s[i + 1] <= 0x9f)
			return 1;
	return 0;
}

/* addr_idna_z - the NUL-terminated UTF-8 domain IN in ASCII (lowercased)
   into OUT of OUTLEN, as addr_idna */
static int addr_idna_z(const char *in, char *out, size_t outlen)
{
	uint8_t *ace = NULL;
	size_t i, m;
	int rc;

	rc = idn2_lookup_u8((const uint8_t *)in, &ace,
			    IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
	if (rc != IDN2_OK)
		rc = idn2_lookup_u8((const uint8_t *)in, &ace,
				    IDN2_NFC_INPUT | IDN2_TRANSITIONAL);
	if (rc != IDN2_OK || !ace)
		return 0;
	m = strlen((const char *)ace);
	if (m == 0 || m >= outlen) {
		idn2_free(ace);
		return -1;
	}
	for (i = 0; i < m; i++)
		out[i] = (ace[i] >= 'A' && ace[i] <= 'Z') ? (char)(ace[i] + 32) :
							    (char)ace[i];
	out[m] = '\0';
	idn2_free(ace);
	return (int)m;
}

/* addr_idna - the domain DOM (N bytes, lowercased) in ASCII into OUT of
   OUTLEN when it holds non-ASCII bytes and libidn2 takes it: the new
   length; 0 when it stays as it is (ASCII, an address literal, or
   refused by libidn2); -1 when the ASCII form does not fit */
static int addr_idna(const char *dom, size_t n, char *out, size_t outlen)
{
	char in[ADDR_MAX + 1];
	size_t i;

	for (i = 0; i < n && (unsigned char)dom[i] < 0x80; i++)
		;
	if (i == n || n >= sizeof(in) || dom[0] == '[')
		return 0;
	memcpy(in, dom, n);
	in[n] = '\0';
	return addr_idna_z(in, out, outlen);
}

/* addr_strip - *S .. *E (IN's LEN bytes) without the blanks around them,
   a "rfc822;" prefix and one pair of angle brackets: 0, or -1 when IN is
   no address (an unclosed bracket, nothing left, longer than ADDR_MAX) */
static int addr_strip(const char *in, size_t len, const char **sp,
		      const char **ep)
{
	const char *s = in, *e = in + len;

	while (s < e && addr_is_blank((unsigned char)*s))
		s++;
	while (e > s && addr_is_blank((unsigned char)e[-1]))
		e--;
	if (e - s >= 7 && (*s == 'r' || *s == 'R') &&
	    strncasecmp(s, "rfc822;", 7) == 0) {
		s += 7;
		while (s < e && addr_is_blank((unsigned char)*s))
			s++;
	}
	if (s < e && *s == '<') {
		if (e[-1] != '>')
			return -1;
		s++;
		e--;
		while (s < e && addr_is_blank((unsigned char)*s))
			s++;
		while (e > s && addr_is_blank((unsigned char)e[-1]))
			e--;
	}
	if (s == e || (size_t)(e - s) > ADDR_MAX)
		return -1;
	*sp = s;
	*ep = e;
	return 0;
}

#if defined(__SSE2__)
/* addr_lower16 - the 16 bytes at S into OUT, ASCII capitals lowered
   (bytes from 0x80 are negative here, never in 'A'..'Z'); *HIGH gets
   0x80 when one has its high bit; the bits of the '@' among them */
static inline unsigned addr_lower16(const char *s, char *out, unsigned *high)
{
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
	__m128i up = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('A' - 1)),
				   _mm_cmplt_epi8(v, _mm_set1_epi8('Z' + 1)));

	_mm_storeu_si128((__m128i *)(void *)out,
			 _mm_add_epi8(v, _mm_and_si128(up, _mm_set1_epi8(32))));
	if (_mm_movemask_epi8(v))
		*high |= 0x80;
	return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v,
							  _mm_set1_epi8('@')));
}

/* addr_at - the '@' bits ATS of the 16 bytes at OUT into *AT: -1 when
   that makes two */
static inline int addr_at(const char **at, const char *out, unsigned ats)
{
	if (!ats)
		return 0;
	if (*at || (ats & (ats - 1)))
		return -1;
	*at = out + __builtin_ctz(ats);
	return 0;
}
#endif

/* addr_normalise - trim, unwrap, lowercase and check an address */
int addr_normalise(const char *in, size_t len, char *out, size_t outlen)
{
	const char *s, *e, *at = NULL;
	char ace[ADDR_MAX + 1], *p;
	unsigned high = 0;	/* the bytes' bits, or-ed */
	size_t n, i;
	int m;

	if (!in || !out || outlen < ADDR_MAX + 1)
		return -1;
	if (addr_strip(in, len, &s, &e) != 0)
		return -1;
	n = (size_t)(e - s);
	i = 0;
#if defined(__SSE2__)
	/* 16 bytes at a time, then the rest as the last 16 bytes (those
	   before I again: the same bytes out, their '@' bits left out) */
	for (; i + 16 <= n; i += 16)
		if (addr_at(&at, out + i, addr_lower16(s + i, out + i, &high)))
			return -1;
	if (i < n && n >= 16) {
		size_t b = n - 16;

		if (addr_at(&at, out + b, addr_lower16(s + b, out + b, &high) &
					       (0xFFFFu << (i - b))))
			return -1;
		i = n;
	}
#endif
	for (; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		out[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : (char)c;
		high |= c;
		if (c == '@') {
			if (at)
				return -1;
			at = out + i;
		}
	}
	out[n] = '\0';
	if (!at)
		return -1;
	p = out + (at - out) + 1;
	if (!addr_local_ok(out, (size_t)(at - out)) ||
	    !addr_domain_ok(p, (size_t)(out + n - p)))
		return -1;
	if (high < 0x80)
		return (int)n;	/* ASCII: no C1 control, no IDNA form */
	/* not UTF-8: no provider (UTF-8 web applications) has such an
	   address, and shown in JSON it would read as another one */
	if (!g_utf8_validate(out, (gssize)n, NULL) || addr_has_c1(out, n))
		return -1;
	m = addr_idna(p, (size_t)(out + n - p), ace, sizeof(ace));
	if (m < 0 || (size_t)(p - out) + (size_t)m > ADDR_MAX)
		return -1;
	if (m > 0) {
		if (!addr_domain_ok(ace, (size_t)m))
			return -1;
		memcpy(p, ace, (size_t)m + 1);
		n = (size_t)(p - out) + (size_t)m;
	}
	return (int)n;
}

/* addr_written - IN as written when it differs from NORM in ASCII case
   only: a normalised address is that form with its capitals lowered, so
   the written one passed every check NORM did */
int addr_written(const char *in, size_t len, const char *norm, char *out)
{
	const char *s, *e;
	size_t n, i;

	out[0] = '\0';
	if (!in || !norm || addr_strip(in, len, &s, &e) != 0)
		return 0;
	n = (size_t)(e - s);
	if (strlen(norm) != n || memcmp(s, norm, n) == 0)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'A' && c <= 'Z' ? c + 32 : c) !=
		    (unsigned char)norm[i])
			return 0;
	}
	memcpy(out, s, n);
	out[n] = '\0';
	return (int)n;
}

/* addr_domain_normalise - a domain as addr_normalise leaves it */
int addr_domain_normalise(const char *in, size_t len, char *out,
			  size_t outlen)
{
	char addr[ADDR_MAX + 1], norm[ADDR_MAX + 1];
	size_t n;
	int m;

	while (len > 0 && (*in == '@' || *in == ' ' || *in == '\t')) {
		in++;
		len--;
	}
	if (len == 0 || len + 2 > sizeof(addr))
		return -1;
	addr[0] = 'x';
	addr[1] = '@';
	memcpy(addr + 2, in, len);
	m = addr_normalise(addr, len + 2, norm, sizeof(norm));
	if (m < 0)
		return -1;
	n = (size_t)m - 2;
	if (n + 1 > outlen)
		return -1;
	memcpy(out, norm + 2, n + 1);
	return (int)n;
}

/* addr_domain - the domain of a normalised address */
const char *addr_domain(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at ? at + 1 : addr;
}

/* addr_has_ace - does the domain DOM hold a label in its ASCII-compatible
   encoding ("xn--", lowercased)? */
static int addr_has_ace(const char *dom)
{
	const char *p = dom;

	for (;;) {
		if (strncmp(p, "xn--", 4) == 0)
			return 1;
		p = strchr(p, '.');
		if (!p)
			return 0;
		p++;
	}
}

/* addr_unicode - ADDR with its domain in Unicode, when that form is
   another spelling of the same address */
int addr_unicode(const char *addr, char *out, size_t outlen)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;
	char back[ADDR_MAX + 1];
	char *u = NULL;
	size_t local, n;
	int rc = 0;

	if (!at || !out || at[1] == '[' || strlen(at + 1) > ADDR_MAX ||
	    !addr_has_ace(at + 1))
		return 0;
	if (idn2_to_unicode_8z8z(at + 1, &u, 0) != IDN2_OK || !u ||
	    strcmp(u, at + 1) == 0)
		goto out;
	/* the Unicode form must come back to this very domain (libidn2
	   decodes a label it would not produce, too) */
	if (addr_idna_z(u, back, sizeof(back)) <= 0 ||
	    strcmp(back, at + 1) != 0)
		goto out;
	local = (size_t)(at + 1 - addr);
	n = local + strlen(u);
	if (n + 1 > outlen) {
		rc = -1;
		goto out;
	}
	memcpy(out, addr, local);
	memcpy(out + local, u, n - local + 1);
	/* and the whole address is this one again: a form the checks of
	   an address refuse (a domain of symbols libidn2 decodes) is none */
	if (addr_normalise(out, n, back, sizeof(back)) < 0 ||
	    strcmp(back, addr) != 0) {
		out[0] = '\0';
		goto out;
	}
	rc = (int)n;
out:
	idn2_free(u);
	return rc;
}
