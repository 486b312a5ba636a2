/*
 * notify_smtp.c - a composed notification sent through libcurl's SMTP:
 * an easy handle configured for one message (URL, envelope, the bytes as
 * the upload, STARTTLS policy, AUTH, CA file, timeouts), what a finished
 * transfer means (done, retry later, failed for good), and a blocking
 * send for bounced notify-test.
 *
 * The daemon adds the configured handle to its curl multi handle, so
 * sending never blocks ingest; a failure the caller may retry is -EAGAIN,
 * one that needs the operator (5xx, login refused, TLS required but not
 * offered, a certificate that does not verify) is -EPERM.  The server's
 * last 4xx/5xx answer line is kept (through the debug callback: its
 * answers, and of what we send only the RCPT commands, never the
 * credentials) so that a failure names it.  A recipient the relay
 * refuses does not keep the mail from the others (RFC 5321 3.3: the
 * message goes to the recipients accepted); the ones refused for good
 * (5xx) are kept with the answer, for the caller to log.  One refused
 * for now (4xx) stops the mail before its data: tried again later, it
 * reaches everyone once.  Nothing here logs or exits.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "errmsg.h"
#include "notify.h"
#include "url_check.h"

#define NS_LINE_MAX 200		/* bytes of a server answer kept */
#define NS_REFUSED_KEPT 8	/* refused recipients named in full */

struct ns_refused {
	char addr[ADDR_MAX + 1];
	char line[NS_LINE_MAX + 1];	/* the server's answer */
};

struct notify_smtp_xfer {
	char *msg;			/* the message, a copy */
	size_t len, off;		/* its size, bytes read by curl */
	struct curl_slist *rcpts;	/* "<addr>" of each recipient */
	char *url;			/* for messages (password masked) */
	char line[NS_LINE_MAX + 1];	/* the server's last 4xx/5xx answer */
	char curl_err[CURL_ERROR_SIZE];
	bool data_sent;			/* the server said 354: the message
					   itself went, so a refusal after
					   it is of its content */
	char rcpt[ADDR_MAX + 1];	/* the RCPT awaiting its answer */
	size_t n_refused;		/* recipients refused for good ... */
	struct ns_refused refused[NS_REFUSED_KEPT];	/* ... the first */
	/* the first recipient refused for now (4xx): the mail is not sent
	   (aborted before its data) but tried again later for all */
	struct ns_refused later;
};

/* notify_smtp_url_ok - smtp:// or smtps:// with a host, printable, no
   blanks */
bool notify_smtp_url_ok(const char *u)
{
	size_t skip, i;

	if (!u)
		return false;
	if (g_ascii_strncasecmp(u, "smtps://", 8) == 0)
		skip = 8;
	else if (g_ascii_strncasecmp(u, "smtp://", 7) == 0)
		skip = 7;
	else
		return false;
	if (u[skip] == '\0' || u[skip] == '/' || u[skip] == ':')
		return false;
	for (i = 0; u[i]; i++)
		if (i > 1024 || (unsigned char)u[i] <= 0x20 ||
		    (unsigned char)u[i] >= 0x7f)
			return false;
	return true;
}

/* ns_read - CURLOPT_READFUNCTION over the message */
static size_t ns_read(char *buf, size_t size, size_t nitems, void *arg)
{
	struct notify_smtp_xfer *x = arg;
	size_t room = size * nitems, n = x->len - x->off;

	if (x->later.addr[0])
		/* a recipient refused for now: not without it, and not
		   again to the others when it is tried later */
		return CURL_READFUNC_ABORT;
	if (n > room)
		n = room;
	memcpy(buf, x->msg + x->off, n);
	x->off += n;
	return n;
}

/* ns_line - the first line of DATA (SIZE bytes), printable, into OUT
   (NS_LINE_MAX + 1 bytes); its length */
static size_t ns_line(const char *data, size_t size, char *out)
{
	size_t i, n = 0;

	for (i = 0; i < size && n < NS_LINE_MAX; i++) {
		unsigned char c = (unsigned char)data[i];

		if (c == '\r' || c == '\n')
			break;
		out[n++] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	out[n] = '\0';
	return n;
}

/* ns_rcpt_sent - a command we sent: the address of "RCPT TO:<ADDR>" is
   kept until its answer comes; any other command clears it */
static void ns_rcpt_sent(struct notify_smtp_xfer *x, const char *data,
			 size_t size)
{
	const char *lt, *gt;

	x->rcpt[0] = '\0';
	if (size < 9 || g_ascii_strncasecmp(data, "RCPT TO:<", 9) != 0)
		return;
	lt = data + 9;
	gt = memchr(lt, '>', size - 9);
	if (gt && (size_t)(gt - lt) <= ADDR_MAX) {
		memcpy(x->rcpt, lt, (size_t)(gt - lt));
		x->rcpt[gt - lt] = '\0';
	}
}

/* ns_debug - keep the server's last 4xx or 5xx answer line
   (CURLINFO_HEADER_IN; the 221 answering QUIT comes after a failure), and
   the recipients it refused */
static int ns_debug(CURL *h, curl_infotype type, char *data, size_t size,
		    void *arg)
{
	struct notify_smtp_xfer *x = arg;
	char line[NS_LINE_MAX + 1];
	bool refused;

	(void)h;
	if (type == CURLINFO_HEADER_OUT) {
		ns_rcpt_sent(x, data, size);
		return 0;
	}
	if (type != CURLINFO_HEADER_IN || size < 3)
		return 0;
	if (memcmp(data, "354", 3) == 0)
		x->data_sent = true;
	refused = data[0] == '4' || data[0] == '5';
	if (x->rcpt[0] && data[0] == '4') {
		if (!x->later.addr[0]) {
			memcpy(x->later.addr, x->rcpt, sizeof(x->later.addr));
			(void)ns_line(data, size, x->later.line);
		}
	} else if (x->rcpt[0] && refused) {
		if (x->n_refused < NS_REFUSED_KEPT) {
			struct ns_refused *r = &x->refused[x->n_refused];

			memcpy(r->addr, x->rcpt, sizeof(r->addr));
			(void)ns_line(data, size, r->line);
		}
		x->n_refused++;
	}
	x->rcpt[0] = '\0';
	if (refused && ns_line(data, size, line) > 0)
		memcpy(x->line, line, sizeof(line));
	return 0;
}

/* ns_path - "<ADDR>" for MAIL FROM / RCPT TO */
static char *ns_path(const char *addr)
{
	return g_strdup_printf("<%s>", addr);
}

/* notify_smtp_free - the transfer's state */
void notify_smtp_free(struct notify_smtp_xfer *x)
{
	if (!x)
		return;
	curl_slist_free_all(x->rcpts);
	g_free(x->msg);
	g_free(x->url);
	g_free(x);
}

/* ns_rcpts - the recipient list, each checked */
static int ns_rcpts(struct notify_smtp_xfer *x, const char *const *to,
		    char *err, size_t errlen)
{
	size_t i;

	if (!to || !to[0])
		return errmsg_rc(-EINVAL, err, errlen, "smtp %s: no recipient",
				 x->url);
	for (i = 0; to[i]; i++) {
		struct curl_slist *l;
		char *p;

		if (i >= NOTIFY_MAX_RCPTS)
			return errmsg_rc(-EINVAL, err, errlen,
					 "smtp %s: more than "
					 "%d recipients", x->url, NOTIFY_MAX_RCPTS);
		if (!notify_addr_ok(to[i]))
			return errmsg_rc(-EINVAL, err, errlen,
					 "smtp %s: recipient "
					 "'%.80s' is not an address", x->url,
					 to[i]);
		p = ns_path(to[i]);
		l = curl_slist_append(x->rcpts, p);
		g_free(p);
		if (!l)
			return errmsg_rc(-ENOMEM, err, errlen,
					 "smtp %s: out of "
					 "memory", x->url);
		x->rcpts = l;
	}
	return 0;
}

/* ns_opts - every option of H; 0 or -EINVAL naming the refused one */
static int ns_opts(CURL *h, const struct notify_smtp_cfg *c,
		   struct notify_smtp_xfer *x, char *err, size_t errlen)
{
	static const curl_usessl tls[] = {
		[NOTIFY_STARTTLS_TRY] = CURLUSESSL_TRY,
		[NOTIFY_STARTTLS_REQUIRED] = CURLUSESSL_ALL,
		[NOTIFY_STARTTLS_NO] = CURLUSESSL_NONE,
	};
	char *from = ns_path(c->from);
	curl_usessl use = (unsigned)c->starttls < G_N_ELEMENTS(tls) ?
		tls[c->starttls] : CURLUSESSL_TRY;
	CURLcode cc = CURLE_OK;
	const char *what = "";

#define NS_SET(opt, val) \
	do { if (cc == CURLE_OK) { what = #opt; \
		cc = curl_easy_setopt(h, opt, val); } } while (0)
	NS_SET(CURLOPT_URL, c->url);
	NS_SET(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	NS_SET(CURLOPT_MAIL_FROM, from);
	NS_SET(CURLOPT_MAIL_RCPT, x->rcpts);
	/* the mail goes to the recipients accepted (8.2 corrected the
	   option's name and deprecated the old one) */
#if LIBCURL_VERSION_NUM >= 0x080200
	NS_SET(CURLOPT_MAIL_RCPT_ALLOWFAILS, 1L);
#else
	NS_SET(CURLOPT_MAIL_RCPT_ALLLOWFAILS, 1L);
#endif
	NS_SET(CURLOPT_UPLOAD, 1L);
	NS_SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)x->len);
	NS_SET(CURLOPT_READFUNCTION, ns_read);
	NS_SET(CURLOPT_READDATA, x);
	NS_SET(CURLOPT_USE_SSL, (long)use);
	NS_SET(CURLOPT_SSL_VERIFYPEER, 1L);
	NS_SET(CURLOPT_SSL_VERIFYHOST, 2L);
	NS_SET(CURLOPT_TIMEOUT, c->timeout > 0 ? c->timeout : 30L);
	NS_SET(CURLOPT_CONNECTTIMEOUT, c->connect_timeout > 0 ?
	       c->connect_timeout : 10L);
	NS_SET(CURLOPT_NOSIGNAL, 1L);
	NS_SET(CURLOPT_ERRORBUFFER, x->curl_err);
	NS_SET(CURLOPT_DEBUGFUNCTION, ns_debug);
	NS_SET(CURLOPT_DEBUGDATA, x);
	NS_SET(CURLOPT_VERBOSE, 1L);
	if (c->ca_file && *c->ca_file)
		NS_SET(CURLOPT_CAINFO, c->ca_file);
	if (c->username && *c->username) {
		NS_SET(CURLOPT_USERNAME, c->username);
		NS_SET(CURLOPT_PASSWORD, c->password ? c->password : "");
	}
#undef NS_SET
	g_free(from);
	if (cc != CURLE_OK)
		return errmsg_rc(-EINVAL, err, errlen,
				 "smtp %s: libcurl refused "
				 "%s: %s", x->url, what, curl_easy_strerror(cc));
	return 0;
}

/* notify_smtp_setup - H configured to send MSG */
int notify_smtp_setup(CURL *h, const struct notify_smtp_cfg *c,
		      const char *msg, size_t len,
		      struct notify_smtp_xfer **out, char *err, size_t errlen)
{
	struct notify_smtp_xfer *x = NULL;
	char show[1100];
	int rc;

	*out = NULL;
	url_show(c->url, show, sizeof(show));	/* messages: no password */
	if (!notify_smtp_url_ok(c->url))
		return errmsg_rc(-EINVAL, err, errlen,
				 "smtp: '%.80s' is not an "
				 "smtp:// or smtps:// URL", show);
	if (!notify_addr_ok(c->from))
		return errmsg_rc(-EINVAL, err, errlen,
				 "smtp %s: sender '%.80s' "
				 "is not an address", show,
				 c->from ? c->from : "");
	if (!msg || len == 0)
		return errmsg_rc(-EINVAL, err, errlen, "smtp %s: empty message",
				 show);
	x = g_new0(struct notify_smtp_xfer, 1);
	x->url = g_strdup(show);
	x->msg = g_memdup2(msg, len);
	x->len = len;
	rc = ns_rcpts(x, c->to, err, errlen);
	if (rc == 0)
		rc = ns_opts(h, c, x, err, errlen);
	if (rc != 0) {
		notify_smtp_free(x);
		return rc;
	}
	*out = x;
	return 0;
}

/* ns_permanent - a CURLcode the operator must fix */
static bool ns_permanent(CURLcode res)
{
	switch (res) {
	case CURLE_LOGIN_DENIED:
	case CURLE_USE_SSL_FAILED:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_NOT_BUILT_IN:
		return true;
	default:
		return false;
	}
}

/* notify_smtp_finish - done, retry later or failed for good */
int notify_smtp_finish(struct notify_smtp_xfer *x, CURLcode res,
		       long response, char *err, size_t errlen)
{
	const char *said = x->line[0] ? x->line : NULL;
	const char *why = x->curl_err[0] ? x->curl_err
					 : curl_easy_strerror(res);
	int rc;

	if (x->later.addr[0])
		return errmsg_rc(-EAGAIN, err, errlen, "smtp %s: recipient %s "
				 "refused for now; server said '%s' (nothing "
				 "sent, will be retried)", x->url,
				 x->later.addr, x->later.line);
	if (res == CURLE_OK && (response == 0 || (response >= 200 &&
						  response < 300)))
		return 0;
	if (res == CURLE_OK)
		why = "unexpected answer";
	if (response >= 500 && response < 600)
		/* refused after the message itself (what libcurl calls a
		   weird reply to the data): its content; before (sender,
		   recipients, login): the configuration or the relay */
		rc = res == CURLE_WEIRD_SERVER_REPLY && x->data_sent ?
			     -EBADMSG : -EPERM;
	else if (response >= 400 && response < 500)
		rc = -EAGAIN;
	else
		rc = ns_permanent(res) ? -EPERM : -EAGAIN;
	return errmsg_rc(rc, err, errlen, "smtp %s: %s%s%s%s (%s)", x->url, why,
			 said ? "; server said '" : "", said ? said : "",
			 said ? "'" : "", rc != -EAGAIN ? "failed for good"
			 : "will be retried");
}

size_t notify_smtp_refused(const struct notify_smtp_xfer *x, char *buf,
			   size_t len)
{
	size_t i, used = 0;
	int w;

	if (len)
		buf[0] = '\0';
	if (!x || x->n_refused == 0)
		return 0;
	for (i = 0; i < x->n_refused && i < NS_REFUSED_KEPT; i++) {
		w = snprintf(buf + used, len - used, "%s%s ('%s')",
			     i ? ", " : "", x->refused[i].addr,
			     x->refused[i].line);
		if (w < 0 || (size_t)w >= len - used)
			return x->n_refused;
		used += (size_t)w;
	}
	if (x->n_refused > NS_REFUSED_KEPT)
		(void)snprintf(buf + used, len - used, " and %zu more",
			       x->n_refused - NS_REFUSED_KEPT);
	return x->n_refused;
}

/* notify_smtp_cfg_from_config - the [notify] keys */
void notify_smtp_cfg_from_config(const struct config *cfg,
				 struct notify_smtp_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->url = cfg->notify_smtp;
	c->from = cfg->notify_from;
	c->to = (const char *const *)cfg->notify_to;
	c->username = cfg->notify_username;
	c->password = cfg->notify_password;
	c->starttls = cfg->notify_starttls;
	c->ca_file = cfg->notify_ca_file;
	c->timeout = (long)cfg->notify_timeout;
	c->connect_timeout = cfg->notify_timeout < 10 ?
		(long)cfg->notify_timeout : 10L;
}

/* notify_smtp_send - one blocking send */
int notify_smtp_send(const struct notify_smtp_cfg *c, const char *msg,
		     size_t len, char *err, size_t errlen)
{
	struct notify_smtp_xfer *x = NULL;
	CURL *h = curl_easy_init();
	long response = 0;
	CURLcode res;
	int rc;

	if (!h)
		return errmsg_rc(-ENOMEM, err, errlen, "smtp: cannot create a "
				 "libcurl handle");
	rc = notify_smtp_setup(h, c, msg, len, &x, err, errlen);
	if (rc != 0)
		goto out;
	res = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response);
	rc = notify_smtp_finish(x, res, response, err, errlen);
	if (rc == 0)
		(void)notify_smtp_refused(x, err, errlen);
out:
	curl_easy_cleanup(h);
	notify_smtp_free(x);
	return rc;
}
