/*
 * http_xfer.c - a provider's HTTP request on a curl easy handle (see
 * include/http_xfer.h): the options, the headers, the method and body,
 * and the answer kept up to a cap.  Answers are hostile: the body is
 * capped here and NUL-terminated by the reader.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "http_xfer.h"

#define XFER_KEEPIDLE 60L	/* s before TCP keep-alive probes */
#define XFER_KEEPINTVL 30L

/* http_xfer_write - curl's write callback: keep the answer up to the cap */
static size_t http_xfer_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct http_xfer *x = arg;
	size_t n = size * nmemb;

	if (n > HTTP_BODY_MAX || x->body->len + n > HTTP_BODY_MAX) {
		x->too_big = true;
		return 0;	/* aborts the transfer: CURLE_WRITE_ERROR */
	}
	g_byte_array_append(x->body, (const guint8 *)ptr, (guint)n);
	return n;
}

/* http_xfer_slist_add - append header H to *L; 0 or -1 with ERR */
static int http_xfer_slist_add(struct curl_slist **l, const char *h,
			      char *err, size_t errlen)
{
	struct curl_slist *n;

	if (strpbrk(h, "\r\n") != NULL || strchr(h, ':') == NULL) {
		snprintf(err, errlen, "provider built a malformed header");
		return -1;
	}
	n = curl_slist_append(*l, h);
	if (n == NULL) {
		snprintf(err, errlen, "out of memory for headers");
		return -1;
	}
	*l = n;
	return 0;
}

/* http_xfer_headers - REQ's headers, and "Expect:" (no 100-continue
   round trip), as a curl list into X->hdrs */
static int http_xfer_headers(struct http_xfer *x, char *err,
				 size_t errlen)
{
	struct curl_slist *l = NULL;
	int i, n = x->req.n_headers;

	if (n < 0 || n > HTTP_MAX_HEADERS) {
		snprintf(err, errlen, "provider built %d headers", n);
		return -1;
	}
	for (i = 0; i < n; i++) {
		char *h = x->req.headers[i];

		h[sizeof(x->req.headers[0]) - 1] = '\0';
		if (http_xfer_slist_add(&l, h, err, errlen) != 0)
			goto fail;
	}
	if (http_xfer_slist_add(&l, "Expect:", err, errlen) != 0)
		goto fail;
	x->hdrs = l;
	return 0;
fail:
	curl_slist_free_all(l);
	return -1;
}

#define XFER_SETOPT(e, opt, val)                                               \
	do {                                                                   \
		if (curl_easy_setopt((e), (opt), (val)) != CURLE_OK) {         \
			what = #opt;                                           \
			goto out;                                              \
		}                                                              \
	} while (0)

/* http_xfer_method - method and body of X's request */
static int http_xfer_method(struct http_xfer *x, char *err,
				size_t errlen)
{
	const char *m = x->req.method;
	const char *what = NULL;
	CURL *e = x->easy;
	bool body;
	int rc = -1;

	if (strcmp(m, "GET") == 0 && x->req.body == NULL) {
		XFER_SETOPT(e, CURLOPT_HTTPGET, 1L);
		body = false;
	} else if (strcmp(m, "POST") == 0) {
		body = true;
	} else if (strcmp(m, "PUT") == 0 || strcmp(m, "DELETE") == 0) {
		XFER_SETOPT(e, CURLOPT_CUSTOMREQUEST, m);
		/* an empty PUT still says Content-Length: 0 */
		body = x->req.body != NULL || m[0] == 'P';
	} else {
		snprintf(err, errlen, "unsupported request '%.8s'%s", m,
			 x->req.body ? " with a body" : "");
		return -1;
	}
	if (body) {
		XFER_SETOPT(e, CURLOPT_POSTFIELDSIZE_LARGE,
			    (curl_off_t)(x->req.body ? x->req.body_len : 0));
		XFER_SETOPT(e, CURLOPT_POSTFIELDS,
			    x->req.body ? x->req.body : "");
	}
	rc = 0;
out:
	if (rc && what)
		snprintf(err, errlen, "cannot set %s", what);
	return rc;
}

/* http_xfer_setopt - every option of X's transfer for provider CFG */
static int http_xfer_setopt(struct http_xfer *x,
			    const struct config_provider *cfg, void *priv,
			    char *err, size_t errlen)
{
	const char *what = NULL;
	CURL *e = x->easy;
	int rc = -1;

	XFER_SETOPT(e, CURLOPT_URL, x->req.url);
	XFER_SETOPT(e, CURLOPT_HTTPHEADER, x->hdrs);
	XFER_SETOPT(e, CURLOPT_TIMEOUT, (long)cfg->timeout);
	XFER_SETOPT(e, CURLOPT_CONNECTTIMEOUT, (long)cfg->connect_timeout);
	XFER_SETOPT(e, CURLOPT_SSL_VERIFYPEER, 1L);
	XFER_SETOPT(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (cfg->ca_file && *cfg->ca_file)
		XFER_SETOPT(e, CURLOPT_CAINFO, cfg->ca_file);
	XFER_SETOPT(e, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
	XFER_SETOPT(e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	XFER_SETOPT(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	XFER_SETOPT(e, CURLOPT_FOLLOWLOCATION, 0L);
	XFER_SETOPT(e, CURLOPT_USERAGENT, "bounced/" BOUNCED_VERSION);
	XFER_SETOPT(e, CURLOPT_WRITEFUNCTION, http_xfer_write);
	XFER_SETOPT(e, CURLOPT_WRITEDATA, x);
	XFER_SETOPT(e, CURLOPT_TCP_KEEPALIVE, 1L);
	XFER_SETOPT(e, CURLOPT_TCP_KEEPIDLE, XFER_KEEPIDLE);
	XFER_SETOPT(e, CURLOPT_TCP_KEEPINTVL, XFER_KEEPINTVL);
	XFER_SETOPT(e, CURLOPT_ERRORBUFFER, x->errbuf);
	XFER_SETOPT(e, CURLOPT_PRIVATE, priv);
	rc = http_xfer_method(x, err, errlen);
	what = NULL;
out:
	if (rc && what)
		snprintf(err, errlen, "cannot set %s", what);
	return rc;
}

int http_xfer_setup(struct http_xfer *x, const struct config_provider *cfg,
		    void *priv, char *err, size_t errlen)
{
	x->req.url[sizeof(x->req.url) - 1] = '\0';
	x->req.method[sizeof(x->req.method) - 1] = '\0';
	if (!x->body)
		x->body = g_byte_array_new();
	if (http_xfer_headers(x, err, errlen) != 0)
		return -1;
	return http_xfer_setopt(x, cfg, priv, err, errlen);
}

void http_xfer_release(struct http_xfer *x)
{
	curl_slist_free_all(x->hdrs);
	x->hdrs = NULL;
	http_req_clear(&x->req);
	if (x->body)
		g_byte_array_free(x->body, TRUE);
	x->body = NULL;
}
