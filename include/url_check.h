/*
 * url_check.h - the URLs of the configuration (provider endpoints, the
 * webhook url, the SMTP server, the web interface): checked by libcurl's
 * own parser (curl_url) so that what passes is what libcurl can use, and
 * shown with the password of their user part masked.
 *
 * A URL may carry a login (https://user:PASSWORD@host/api); the password
 * is a secret like the others: every message and check-config show it as
 * "****".
 */
#ifndef BOUNCED_URL_CHECK_H
#define BOUNCED_URL_CHECK_H

#include <stdbool.h>
#include <stddef.h>

/*
 * url_check - URL as libcurl parses it: its scheme one of SCHEMES (a
 * NULL-terminated list, lowercase: "http", "https"), a host that is not
 * empty, a port (when given) from 1 to 65535, no blank, quote, '<', '>'
 * or backslash.  0, or -EINVAL with WHY saying what is wrong (never the
 * password), or -ENOMEM, or -ENOSYS when libcurl cannot be loaded (WHY
 * says why).
 */
int url_check(const char *url, const char *const *schemes, char *why,
	      size_t whylen);

/* url_check_by_form - from now on url_check() checks a URL's form only
   (when ON), without libcurl's parser: its scheme one of SCHEMES, "://",
   a host name with none of the bytes libcurl refuses in one, or an IPv6
   literal libcurl takes, a port from 1 to 65535, no blank, quote or
   control character; what libcurl's parser refuses of a URL, the form
   refuses too.  For bouncectl, which makes no request and reads the
   configuration without loading libcurl (curl_lib.h); bounced, which
   uses the URLs, checks them whole (OFF, the default) */
void url_check_by_form(bool on);

/*
 * url_show - URL for a message: a copy in BUF (LEN bytes, truncated) with
 * the password of its user part (between "user:" and "@" of the
 * authority) replaced by "****", whether or not the URL is valid.
 * Returns BUF ("" for NULL).
 */
const char *url_show(const char *url, char *buf, size_t len);

/* url_password - the password of URL's user part: *AT its first byte and
   the length; false when there is none */
bool url_password(const char *url, size_t *at, size_t *len);

#endif
