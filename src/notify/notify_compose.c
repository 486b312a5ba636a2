/*
 * notify_compose.c - a notification as an RFC 5322 message built with
 * GMime: headers from the checked options only (From, To, Subject, Date,
 * Message-Id, MIME-Version, Auto-Submitted), a multipart/alternative body
 * with the text and HTML parts of notify_body.c, each in the transfer
 * encoding GMime finds best for 7-bit transport (quoted-printable or
 * base64 for UTF-8), written out with CRLF line ends for SMTP.
 *
 * Error policy: options that would put something unsafe into a header
 * (an address with blanks, brackets, line breaks or bytes beyond ASCII, a
 * web_url that is not http(s)) make it fail with -EINVAL and a message
 * (config_notify.c refuses the same at load: notify_web_url_ok); a
 * machine name that is no printable name is shown as "localhost", and one
 * that is no DNS name is not put in the Message-Id; item values never
 * reach a header.  GMime is initialised once,
 * on first use.  Memory comes from GLib.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <gmime/gmime.h>

#include "errmsg.h"
#include "notify_priv.h"

#define NC_HOST_MAX 253		/* bytes of a hostname */
#define NC_URL_MAX 1024		/* bytes of web_url */

/* notify_addr_ok - one '@', no blanks, controls or address syntax
   characters, ASCII (a non-ASCII address needs SMTPUTF8, which the relay
   may not offer and bounced does not ask for: an internationalised domain
   is written in its xn-- form), at most ADDR_MAX bytes */
bool notify_addr_ok(const char *s)
{
	const char *at, *p;
	size_t len;

	if (!s)
		return false;
	len = strnlen(s, ADDR_MAX + 1);
	if (len == 0 || len > ADDR_MAX || !g_utf8_validate(s, (gssize)len,
							   NULL))
		return false;
	at = strchr(s, '@');
	if (!at || at == s || at[1] == '\0' || strchr(at + 1, '@'))
		return false;
	for (p = s; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f ||
		    strchr("<>()[]\\,;:\"", *p))
			return false;
	return true;
}

/* nc_host_ok - letters, digits, '.', '-'; 1 to 253 bytes */
static bool nc_host_ok(const char *h)
{
	size_t i;

	for (i = 0; h[i]; i++)
		if (i >= NC_HOST_MAX || !(g_ascii_isalnum(h[i]) ||
					  h[i] == '.' || h[i] == '-'))
			return false;
	return i > 0;
}

/* nc_host_shown_ok - a machine name fit to be shown in a subject: printable
   ASCII without blanks (a container's "my_host" is no DNS name, but the
   operator's own), 1 to 253 bytes */
static bool nc_host_shown_ok(const char *h)
{
	size_t i;

	for (i = 0; h[i]; i++)
		if (i >= NC_HOST_MAX || (unsigned char)h[i] <= 0x20 ||
		    (unsigned char)h[i] >= 0x7f)
			return false;
	return i > 0;
}

/* nc_web_url - a copy of U without trailing '/', or NULL if it is not a
   plain http(s) URL (printable ASCII without blanks, quotes, brackets) */
static char *nc_web_url(const char *u)
{
	size_t len = strnlen(u, NC_URL_MAX + 1), i, scheme;
	char *c;

	if (len > NC_URL_MAX)
		return NULL;
	if (g_ascii_strncasecmp(u, "https://", 8) == 0)
		scheme = 8;
	else if (g_ascii_strncasecmp(u, "http://", 7) == 0)
		scheme = 7;
	else
		return NULL;
	for (i = 0; i < len; i++)
		if ((unsigned char)u[i] <= 0x20 || (unsigned char)u[i] >= 0x7f ||
		    strchr("\"'<>\\`{}|^", u[i]))
			return NULL;
	c = g_strndup(u, len);
	while (len > 0 && c[len - 1] == '/')
		c[--len] = '\0';
	if (len <= scheme || c[scheme] == '/') {
		g_free(c);
		return NULL;
	}
	return c;
}

bool notify_web_url_ok(const char *u)
{
	char *c = u ? nc_web_url(u) : NULL;

	g_free(c);
	return c != NULL;
}

/* nc_check - the options; fills the checked parts of D */
static int nc_check(const struct notify_opts *o, struct notify_doc *d,
		    char **web_url, char *err, size_t errlen)
{
	size_t i;

	*web_url = NULL;
	if (!notify_addr_ok(o->from))
		return errmsg_rc(-EINVAL, err, errlen,
				 "notify: from address '%.80s' is "
				 "not usable in a mail header", o->from ?
				 o->from : "(none)");
	if (!o->to || !o->to[0])
		return errmsg_rc(-EINVAL, err, errlen, "notify: no recipient");
	for (i = 0; o->to[i]; i++) {
		if (i >= NOTIFY_MAX_RCPTS)
			return errmsg_rc(-EINVAL, err, errlen,
					 "notify: more than %d "
					 "recipients", NOTIFY_MAX_RCPTS);
		if (!notify_addr_ok(o->to[i]))
			return errmsg_rc(-EINVAL, err, errlen,
					 "notify: recipient '%.80s' "
					 "is not usable in a mail header",
					 o->to[i]);
	}
	/* the machine's name, shown; one that is no printable name is not
	   (and a Message-Id takes a DNS name only: nc_headers) */
	d->host = o->hostname && nc_host_shown_ok(o->hostname) ? o->hostname :
								  "localhost";
	if (o->web_url && *o->web_url) {
		*web_url = nc_web_url(o->web_url);
		if (!*web_url)
			return errmsg_rc(-EINVAL, err, errlen,
					 "notify: web-url '%.80s' is "
					 "not an http:// or https:// URL",
					 o->web_url);
	}
	return 0;
}

/* nc_period - "FROM to TO", or "" */
static char *nc_period(const struct notify_opts *o)
{
	char *a, *b, *p;

	if (o->period_start <= 0 || o->period_end <= 0)
		return g_strdup("");
	a = notify_time(o->period_start);
	b = notify_time(o->period_end);
	p = (*a && *b) ? g_strdup_printf("%s to %s", a, b) : g_strdup("");
	g_free(a);
	g_free(b);
	return p;
}

/* nc_gmime_init - once per process */
static void nc_gmime_init(void)
{
	static gsize done;

	if (g_once_init_enter(&done)) {
		g_mime_init();
		g_once_init_leave(&done, 1);
	}
}

/* nc_part - a text/SUBTYPE part holding TEXT in UTF-8 */
static GMimeObject *nc_part(const char *subtype, const char *text)
{
	GMimeTextPart *tp = g_mime_text_part_new_with_subtype(subtype);
	GMimePart *p = GMIME_PART(tp);

	g_mime_text_part_set_text(tp, text);
	g_mime_text_part_set_charset(tp, "utf-8");
	g_mime_part_set_content_encoding(p,
		g_mime_part_get_best_content_encoding(p,
			GMIME_ENCODING_CONSTRAINT_7BIT));
	return GMIME_OBJECT(tp);
}

/* nc_headers - Date, From, To, Subject, Message-Id, Auto-Submitted */
static void nc_headers(GMimeMessage *m, const struct notify_opts *o,
		       const struct notify_doc *d)
{
	int64_t when = o->period_end > 0 ? o->period_end : (int64_t)time(NULL);
	GDateTime *dt = g_date_time_new_from_unix_utc(when);
	char *subject = notify_subject(d);
	char *mid = g_mime_utils_generate_message_id(
		nc_host_ok(d->host) ? d->host : "localhost");
	size_t i;

	if (!dt)
		dt = g_date_time_new_now_utc();
	g_mime_message_set_date(m, dt);
	g_date_time_unref(dt);
	g_mime_message_add_mailbox(m, GMIME_ADDRESS_TYPE_FROM, "bounced",
				   o->from);
	for (i = 0; o->to[i]; i++)
		g_mime_message_add_mailbox(m, GMIME_ADDRESS_TYPE_TO, NULL,
					   o->to[i]);
	g_mime_message_set_subject(m, subject, "utf-8");
	g_mime_message_set_message_id(m, mid);
	g_mime_object_set_header(GMIME_OBJECT(m), "Auto-Submitted",
				 "auto-generated", NULL);
	g_free(subject);
	g_free(mid);
}

/* nc_crlf - S with every line ending in CRLF (bare CR or LF included),
   ending in CRLF; g_malloc'ed */
static char *nc_crlf(const char *s, size_t *outlen)
{
	GString *o = g_string_sized_new(strlen(s) + strlen(s) / 32 + 2);
	const char *p;

	for (p = s; *p; p++) {
		if (*p == '\r') {
			g_string_append(o, "\r\n");
			if (p[1] == '\n')
				p++;
		} else if (*p == '\n') {
			g_string_append(o, "\r\n");
		} else {
			g_string_append_c(o, *p);
		}
	}
	if (o->len < 2 || memcmp(o->str + o->len - 2, "\r\n", 2) != 0)
		g_string_append(o, "\r\n");
	*outlen = o->len;
	return g_string_free(o, FALSE);
}

/* notify_compose - the message of N items */
int notify_compose(const struct notify_opts *o,
		   const struct notify_item *items, size_t n, char **out,
		   size_t *outlen, char *err, size_t errlen)
{
	struct notify_doc d = { 0 };
	GMimeFormatOptions *fo = NULL;
	GMimeMultipart *alt = NULL;
	GMimeMessage *m = NULL;
	GString *text = NULL, *html = NULL;
	GMimeObject *part;
	char *web_url = NULL, *raw = NULL;
	size_t i;
	int rc;

	*out = NULL;
	*outlen = 0;
	if (n > 0 && !items)
		return errmsg_rc(-EINVAL, err, errlen,
				 "notify: %zu items but no array", n);
	rc = nc_check(o, &d, &web_url, err, errlen);
	if (rc != 0)
		goto out;
	nc_gmime_init();
	d.items = items;
	d.n = n;
	d.max_items = o->max_items ? o->max_items : NOTIFY_MAX_ITEMS_DEFAULT;
	d.web_url = web_url;
	d.period = nc_period(o);
	for (i = 0; i < n; i++)
		d.count[notify_kind_of(&items[i])]++;

	text = notify_body_text(&d);
	html = notify_body_html(&d);
	m = g_mime_message_new(TRUE);
	nc_headers(m, o, &d);
	alt = g_mime_multipart_new_with_subtype("alternative");
	part = nc_part("plain", text->str);
	g_mime_multipart_add(alt, part);
	g_object_unref(part);
	part = nc_part("html", html->str);
	g_mime_multipart_add(alt, part);
	g_object_unref(part);
	g_mime_message_set_mime_part(m, GMIME_OBJECT(alt));

	fo = g_mime_format_options_new();
	g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
	raw = g_mime_object_to_string(GMIME_OBJECT(m), fo);
	if (!raw) {
		rc = errmsg_rc(-EINVAL, err, errlen,
			       "notify: GMime could not write the "
			       "message");
		goto out;
	}
	*out = nc_crlf(raw, outlen);
	rc = 0;
out:
	g_free(raw);
	if (fo)
		g_mime_format_options_free(fo);
	if (alt)
		g_object_unref(alt);
	if (m)
		g_object_unref(m);
	if (text)
		g_string_free(text, TRUE);
	if (html)
		g_string_free(html, TRUE);
	g_free(d.period);
	g_free(web_url);
	return rc;
}
