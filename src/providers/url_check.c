/*
 * url_check.c - configuration URLs checked with libcurl's URL parser and
 * shown with their password masked (see url_check.h).
 *
 * The check asks curl_url() (the parser libcurl applies to CURLOPT_URL)
 * and then looks at the parts it found, so "http://[::1", a port over
 * 65535 or an empty host are refused when the configuration is read, not
 * on the first request.  A process that makes no request (bouncectl:
 * url_check_by_form) checks the form alone, without loading libcurl, by
 * the rules of libcurl 7.88's parser (urlapi.c): the scheme, "://", the
 * user part up to the first '@', a host name without the bytes libcurl
 * refuses in one (also %-encoded: libcurl decodes the host first), or an
 * IPv6 literal inet_pton takes with its zone id, the port, and the
 * length (libcurl takes at most 8,000,000 bytes).
 * The masking is plain string work on the authority (scheme "://" up to
 * the first '/', '?' or '#'), so it also hides the password of a URL the
 * parser refused.
 * Error policy: 0 or -errno with a message; nothing is logged.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <glib.h>

#include "errmsg.h"
#include "curl_lib.h"
#include "url_check.h"

#define URL_MASK "****"

/* url_authority - where URL's authority starts and ends (after "://");
   false without "://" */
static bool url_authority(const char *url, size_t *start, size_t *end)
{
	const char *p = strstr(url, "://");
	size_t s, e;

	if (!p)
		return false;
	s = (size_t)(p - url) + 3;
	e = s + strcspn(url + s, "/?#");
	*start = s;
	*end = e;
	return true;
}

/* url_password - the password of URL's user part, when it has one.  A
   password holding '/' (common in generated secrets, though it should be
   written %2F) ends the authority early: when the authority has no '@'
   but a ':', and an '@' follows in the path, what lies from that ':' to
   that '@' is taken for a password, to be masked (a path holding '@' is
   then masked too: display only, too much rather than too little) */
bool url_password(const char *url, size_t *at, size_t *len)
{
	size_t s, e, i, user_end, colon;

	if (!url || !url_authority(url, &s, &e))
		return false;
	if (!memchr(url + s, '@', e - s) && memchr(url + s, ':', e - s))
		e = s + strcspn(url + s, "?#");
	user_end = e;
	for (i = e; i > s; i--)		/* the last '@' ends the user part */
		if (url[i - 1] == '@') {
			user_end = i - 1;
			break;
		}
	if (user_end == e)
		return false;
	for (colon = s; colon < user_end && url[colon] != ':'; colon++)
		;
	if (colon >= user_end)
		return false;
	*at = colon + 1;
	*len = user_end - colon - 1;
	return true;
}

/* url_show - URL with its password as "****" */
const char *url_show(const char *url, char *buf, size_t len)
{
	size_t at, n;
	GString *s;

	if (!len)
		return buf;
	if (!url) {
		buf[0] = '\0';
		return buf;
	}
	if (!url_password(url, &at, &n)) {
		g_strlcpy(buf, url, len);
		return buf;
	}
	s = g_string_new_len(url, (gssize)at);
	g_string_append(s, URL_MASK);
	g_string_append(s, url + at + n);
	g_strlcpy(buf, s->str, len);
	g_string_free(s, TRUE);
	return buf;
}

static bool url_check_form_only;

void url_check_by_form(bool on)
{
	url_check_form_only = on;
}

/* the longest URL libcurl's parser takes (CURL_MAX_INPUT_LENGTH) */
#define URL_CURL_MAX 8000000

/* the bytes libcurl's parser refuses in a host name, also when written
   %-encoded (it decodes the host before it looks) */
#define URL_HOST_BAD " /:#?!@{}[]\\$'\"^`*<>=;,+&()"

/* url_hex - the value of hex digit C, or -1 */
static int url_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* url_form_name - host name H (LEN bytes, not bracketed): none of
   URL_HOST_BAD nor a control character, as written or %-decoded (a '%'
   without two hex digits stays itself, as libcurl leaves it) */
static int url_form_name(const char *h, size_t len, char *why, size_t whylen)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)h[i];

		if (c == '%' && i + 2 < len && url_hex(h[i + 1]) >= 0 &&
		    url_hex(h[i + 2]) >= 0) {
			c = (unsigned char)(url_hex(h[i + 1]) * 16 +
					    url_hex(h[i + 2]));
			i += 2;
		}
		if (c < 0x20 || (c && strchr(URL_HOST_BAD, c)))
			return errmsg_rc(-EINVAL, why, whylen, "the host has "
					 "a character a host name cannot have "
					 "(one of '%s', a blank or a control "
					 "character, also %%-encoded)",
					 &URL_HOST_BAD[1]);
	}
	return 0;
}
/* url_form_ipv6 - the inside of an IPv6 literal's brackets, IN (LEN
   bytes): hex digits, ':' and '.' that make an IPv6 address, then perhaps
   '%' and a zone id of 1 to 15 bytes (after "25", the '%' encoded), as
   libcurl's parser asks */
static int url_form_ipv6(const char *in, size_t len, char *why, size_t whylen)
{
	char addr[INET6_ADDRSTRLEN];
	struct in6_addr bin;
	size_t n = 0, zone;

	while (n < len && in[n] && strchr("0123456789abcdefABCDEF:.", in[n]))
		n++;
	if (n < len) {
		zone = n + 1;
		if (in[n] != '%')
			goto bad;
		if (len - zone > 2 && in[zone] == '2' && in[zone + 1] == '5')
			zone += 2;
		if (len - zone < 1 || len - zone > 15)
			goto bad;
	}
	if (len < 2 || n >= sizeof(addr))
		goto bad;
	memcpy(addr, in, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET6, addr, &bin) == 1)
		return 0;
bad:
	return errmsg_rc(-EINVAL, why, whylen, "not an IPv6 address between "
			 "'[' and ']'");
}

/* url_form_host - authority A (LEN bytes) past its user part (which the
   first '@' ends, as libcurl's parser takes it): a host name or a
   bracketed IPv6 literal, then a port (if any) of digits from 1 to
   65535 */
static int url_form_host(const char *a, size_t len, char *why, size_t whylen)
{
	const char *at = memchr(a, '@', len), *port = NULL;
	size_t i, n;
	unsigned long p = 0;
	int rc;

	if (at) {
		len -= (size_t)(at + 1 - a);
		a = at + 1;
	}
	if (len && a[0] == '[') {
		const char *close = memchr(a, ']', len);

		if (!close)
			return errmsg_rc(-EINVAL, why, whylen, "an IPv6 address "
					 "without its closing ']'");
		n = (size_t)(close + 1 - a);
		if (n < len && a[n] != ':')
			return errmsg_rc(-EINVAL, why, whylen, "something "
					 "other than ':' and a port after the "
					 "IPv6 address");
		if (n < len)
			port = a + n + 1;
		rc = url_form_ipv6(a + 1, n - 2, why, whylen);
	} else {
		const char *colon = memchr(a, ':', len);

		n = colon ? (size_t)(colon - a) : len;
		if (colon)
			port = colon + 1;
		rc = url_form_name(a, n, why, whylen);
	}
	if (n == 0)
		return errmsg_rc(-EINVAL, why, whylen, "no host");
	if (rc)
		return rc;
	if (!port)
		return 0;
	n = (size_t)(a + len - port);
	for (i = 0; i < n; i++) {
		if (port[i] < '0' || port[i] > '9')
			return errmsg_rc(-EINVAL, why, whylen, "the port is "
					 "not a number from 1 to 65535");
		if (p <= 65535)		/* no wrap, however long */
			p = p * 10 + (unsigned long)(port[i] - '0');
	}
	if (n && (p < 1 || p > 65535))
		return errmsg_rc(-EINVAL, why, whylen, "port %.*s is not from 1 "
				 "to 65535", (int)(n > 16 ? 16 : n), port);
	return 0;
}

/* url_form - what can be checked without libcurl's parser: the scheme,
   one of SCHEMES, then "://", a host before the path and its port */
static int url_form(const char *url, const char *const *schemes, char *why,
		    size_t whylen)
{
	const char *const *sc;
	size_t s, e;

	if (strnlen(url, URL_CURL_MAX + 1) > URL_CURL_MAX)
		return errmsg_rc(-EINVAL, why, whylen, "longer than the %d "
				 "bytes libcurl takes", URL_CURL_MAX);
	if (!url_authority(url, &s, &e))
		return errmsg_rc(-EINVAL, why, whylen, "expected scheme:// "
				 "at the start");
	for (sc = schemes; sc && *sc; sc++)
		if (strlen(*sc) == s - 3 &&
		    g_ascii_strncasecmp(url, *sc, s - 3) == 0)
			break;
	if (!sc || !*sc)
		return errmsg_rc(-EINVAL, why, whylen, "the scheme is %.*s, "
				 "not one of those allowed here", (int)(s - 3),
				 url);
	if (e == s)
		return errmsg_rc(-EINVAL, why, whylen, "no host between "
				 "%.*s:// and the path", (int)(s - 3), url);
	return url_form_host(url + s, e - s, why, whylen);
}

/* url_part - part WHAT of H, or NULL (to be curl_free'd) */
static char *url_part(CURLU *h, CURLUPart what)
{
	char *v = NULL;

	if (curl_url_get(h, what, &v, 0) != CURLUE_OK)
		return NULL;
	return v;
}

int url_check(const char *url, const char *const *schemes, char *why,
	      size_t whylen)
{
	char *scheme = NULL, *host = NULL, *port = NULL;
	const char *const *s, *c;
	CURLUcode uc;
	CURLU *h;
	int rc = -EINVAL;

	errmsg(why, whylen, "%s", "");
	if (!url || !*url)
		return errmsg_rc(-EINVAL, why, whylen, "empty");
	if (strpbrk(url, " \t\"<>\\"))
		return errmsg_rc(-EINVAL, why, whylen, "a blank, quote, '<', "
				 "'>' or backslash (write it %%-encoded)");
	for (c = url; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return errmsg_rc(-EINVAL, why, whylen, "a control "
					 "character (write it %%-encoded)");
	if (url_check_form_only)
		return url_form(url, schemes, why, whylen);
	if (!curl_lib_ready(why, whylen))
		return -ENOSYS;
	h = curl_url();
	if (!h)
		return errmsg_rc(-ENOMEM, why, whylen, "out of memory");
	uc = curl_url_set(h, CURLUPART_URL, url, 0);
	if (uc != CURLUE_OK) {
		errmsg(why, whylen, "%s", curl_url_strerror(uc));
		goto out;
	}
	scheme = url_part(h, CURLUPART_SCHEME);
	for (s = schemes; scheme && s && *s; s++)
		if (g_ascii_strcasecmp(scheme, *s) == 0)
			break;
	if (!scheme || !s || !*s) {
		errmsg(why, whylen, "the scheme is %s, not one of those "
		       "allowed here", scheme ? scheme : "missing");
		goto out;
	}
	/* libcurl forgives "http:/host" and "http:///host"; a
	   configuration should not */
	if (g_ascii_strncasecmp(url, scheme, strlen(scheme)) != 0 ||
	    strncmp(url + strlen(scheme), "://", 3) != 0) {
		errmsg(why, whylen, "expected %s:// at the start", scheme);
		goto out;
	}
	if (url[strlen(scheme) + 3] == '/') {
		errmsg(why, whylen, "no host between %s:// and the path",
		       scheme);
		goto out;
	}
	host = url_part(h, CURLUPART_HOST);
	if (!host || !*host) {
		errmsg(why, whylen, "no host");
		goto out;
	}
	port = url_part(h, CURLUPART_PORT);	/* NULL: the scheme's */
	if (port) {
		char *end = NULL;
		unsigned long p = strtoul(port, &end, 10);

		if (!*port || *end || p < 1 || p > 65535) {
			errmsg(why, whylen, "port %s is not from 1 to 65535",
			       port);
			goto out;
		}
	}
	rc = 0;
out:
	curl_free(port);
	curl_free(host);
	curl_free(scheme);
	curl_url_cleanup(h);
	return rc;
}
