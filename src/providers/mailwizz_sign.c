/*
 * mailwizz_sign.c - MailWizz API v1 signature: PHP urlencode(), a ksort()ed
 * http_build_query(), the signed string and its HMAC-SHA1 (GLib GHmac).
 *
 * Pure functions over caller memory; nothing is logged.  Error policy:
 * NULL arguments give -EINVAL, more than MW_QUERY_MAX pairs -E2BIG; output
 * already appended to a GString on failure is left for the caller to drop.
 */
#include <errno.h>
#include <string.h>

#include "mailwizz_sign.h"

/* mw_safe - bytes PHP urlencode() leaves as they are */
static int mw_safe(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

/* mw_urlencode - append S (LEN bytes) encoded like PHP urlencode() */
void mw_urlencode(GString *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (mw_safe(c)) {
			g_string_append_c(out, (gchar)c);
		} else if (c == ' ') {
			g_string_append_c(out, '+');
		} else {
			g_string_append_c(out, '%');
			g_string_append_c(out, hex[c >> 4]);
			g_string_append_c(out, hex[c & 0x0f]);
		}
	}
}

/* mw_build_query - sorted, encoded "k=v&k=v" of the N pairs */
int mw_build_query(GString *out, const char *const *keys,
		   const char *const *vals, size_t n)
{
	size_t order[MW_QUERY_MAX];
	size_t i, j;

	if (out == NULL || (n > 0 && (keys == NULL || vals == NULL)))
		return -EINVAL;
	if (n > MW_QUERY_MAX)
		return -E2BIG;
	for (i = 0; i < n; i++)
		if (keys[i] == NULL || vals[i] == NULL)
			return -EINVAL;
	/* insertion sort of indexes: stable, byte order like ksort(SORT_STRING) */
	for (i = 0; i < n; i++) {
		size_t k = i;

		for (j = i; j > 0 && strcmp(keys[order[j - 1]], keys[k]) > 0; j--)
			order[j] = order[j - 1];
		order[j] = k;
	}
	for (i = 0; i < n; i++) {
		const char *k = keys[order[i]], *v = vals[order[i]];

		if (i > 0)
			g_string_append_c(out, '&');
		mw_urlencode(out, k, strlen(k));
		g_string_append_c(out, '=');
		mw_urlencode(out, v, strlen(v));
	}
	return 0;
}

/* mw_signed_string - "METHOD URL SEP QUERY" */
int mw_signed_string(GString *out, const char *method,
		     const char *url_with_query, const char *const *keys,
		     const char *const *vals, size_t n)
{
	const char *m;

	if (out == NULL || method == NULL || url_with_query == NULL)
		return -EINVAL;
	for (m = method; *m; m++)
		g_string_append_c(out, g_ascii_toupper(*m));
	g_string_append_c(out, ' ');
	g_string_append(out, url_with_query);
	g_string_append_c(out, strchr(url_with_query, '?') ? '&' : '?');
	return mw_build_query(out, keys, vals, n);
}

/* mw_sign - lower-case hex HMAC-SHA1 of the signed string */
int mw_sign(const char *method, const char *url_with_query,
	    const char *const *keys, const char *const *vals, size_t n,
	    const char *private_key, char out_hex[MW_SIGN_HEX_LEN + 1])
{
	GString *s = NULL;
	GHmac *h = NULL;
	const gchar *hex;
	int rc;

	if (out_hex == NULL)
		return -EINVAL;
	out_hex[0] = '\0';
	if (private_key == NULL)
		return -EINVAL;
	s = g_string_sized_new(256);
	rc = mw_signed_string(s, method, url_with_query, keys, vals, n);
	if (rc != 0)
		goto out;
	h = g_hmac_new(G_CHECKSUM_SHA1, (const guchar *)private_key,
		       strlen(private_key));
	g_hmac_update(h, (const guchar *)s->str, (gssize)s->len);
	hex = g_hmac_get_string(h);	/* owned by H, lower-case */
	if (hex == NULL || strlen(hex) != MW_SIGN_HEX_LEN) {
		rc = -EINVAL;
		goto out;
	}
	memcpy(out_hex, hex, MW_SIGN_HEX_LEN + 1);
	rc = 0;
out:
	if (h != NULL)
		g_hmac_unref(h);
	g_string_free(s, TRUE);
	return rc;
}
