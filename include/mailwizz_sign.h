/*
 * mailwizz_sign.h - the MailWizz API v1 request signature and the PHP
 * http_build_query() encoding it rests on, as pure functions.
 *
 * The signed string is "METHOD URL SEP QUERY": URL is the request URL with
 * its own GET query (already encoded and sorted), SEP is '&' when URL holds
 * a '?' and '?' otherwise, QUERY holds the X-MW-PUBLIC-KEY,
 * X-MW-REMOTE-ADDR and X-MW-TIMESTAMP values merged with the body fields,
 * sorted by key in byte order and encoded like PHP's http_build_query().
 * The signature is the lower-case hex HMAC-SHA1 of that string keyed with
 * the private key (see docs/PROVIDERS.md and the official PHP SDK).
 *
 * Keys passed in one call must be unique (a PHP array cannot hold a key
 * twice).  Functions return 0 or a negative errno value; they never log.
 */
#ifndef BOUNCED_MAILWIZZ_SIGN_H
#define BOUNCED_MAILWIZZ_SIGN_H

#include <stddef.h>

#include <glib.h>

#define MW_SIGN_HEX_LEN 40	/* hex digits of an HMAC-SHA1 */
#define MW_QUERY_MAX 32		/* most pairs one query may hold */

/*
 * mw_urlencode - append LEN bytes of S to OUT encoded like PHP urlencode():
 * A-Z a-z 0-9 '_' '.' '-' as they are, space as '+', every other byte
 * (UTF-8 bytes one by one, NUL too) as %XX with upper-case hex.
 */
void mw_urlencode(GString *out, const char *s, size_t len);

/*
 * mw_build_query - append the N pairs KEYS[i]=VALS[i] to OUT, sorted by key
 * in byte order (stable), each encoded with mw_urlencode, joined by '&'.
 * Returns 0, -EINVAL (a NULL argument) or -E2BIG (N > MW_QUERY_MAX).
 */
int mw_build_query(GString *out, const char *const *keys,
		   const char *const *vals, size_t n);

/*
 * mw_signed_string - append "METHOD URL SEP QUERY" to OUT, METHOD in upper
 * case, QUERY built by mw_build_query from the N pairs (the X-MW-* values
 * and the body fields, but not the GET parameters already in URL).
 * Returns 0, -EINVAL or -E2BIG.
 */
int mw_signed_string(GString *out, const char *method,
		     const char *url_with_query, const char *const *keys,
		     const char *const *vals, size_t n);

/*
 * mw_sign - the v1 signature of a request into OUT_HEX (40 lower-case hex
 * digits and a NUL).  Returns 0, -EINVAL or -E2BIG (OUT_HEX then "").
 */
int mw_sign(const char *method, const char *url_with_query,
	    const char *const *keys, const char *const *vals, size_t n,
	    const char *private_key, char out_hex[MW_SIGN_HEX_LEN + 1]);

#endif
