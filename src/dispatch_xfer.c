/*
 * dispatch_xfer.c - the dispatcher's HTTP transfers: one curl easy handle
 * per request under way, set up from a provider's struct http_req, and the
 * verdict once it finished.
 *
 * Every transfer: the request's URL, method and headers; total and connect
 * timeouts from the provider's config; TLS peer and host verification on
 * (CAINFO when ca-file is set); NOSIGNAL; http and https only; redirects
 * not followed; User-Agent "bounced/VERSION"; TCP keep-alive; no
 * "Expect: 100-continue".  Easy handles are kept per provider (up to its
 * concurrency) and reset for the next request, and connections stay in the
 * multi handle's cache, so calls to one API reuse their connections.
 *
 * Verdicts: a curl error (connection refused, timeout, TLS, ...), an
 * answer over DISPATCH_BODY_MAX bytes, 5xx and 429 are transient (RETRY,
 * Retry-After kept); any other answer goes to the provider's parse().
 * Error policy: a transfer that cannot be set up is reported to the caller
 * with a message (the action is retried later); nothing here touches the
 * state.  Answers are hostile: the body is capped, NUL-terminated for the
 * parser, and quoted in messages only as a short printable snippet.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "dispatch_priv.h"
#include "log.h"

#define XFER_SNIPPET 100	/* bytes of an error answer quoted */
#define XFER_KEEPIDLE 60L	/* s before TCP keep-alive probes */
#define XFER_KEEPINTVL 30L

/* dispatch_pool_take - an idle easy handle of DP, or a new one */
static CURL *dispatch_pool_take(struct dispatch_prov *dp)
{
	if (dp->idle->len > 0)
		return g_ptr_array_steal_index(dp->idle, dp->idle->len - 1);
	return curl_easy_init();
}

/* dispatch_pool_put - keep E for the next request of DP (reset), or free
   it when the pool already holds `concurrency` handles */
static void dispatch_pool_put(struct dispatch_prov *dp, CURL *e)
{
	if (e == NULL)
		return;
	curl_easy_reset(e);	/* drops pointers into the finished transfer */
	if (dp->idle->len < (guint)dp->cfg->concurrency)
		g_ptr_array_add(dp->idle, e);
	else
		curl_easy_cleanup(e);
}

/* dispatch_pool_free - the idle easy handles of DP */
void dispatch_pool_free(struct dispatch_prov *dp)
{
	guint i;

	if (dp->idle == NULL)
		return;
	for (i = 0; i < dp->idle->len; i++)
		curl_easy_cleanup(g_ptr_array_index(dp->idle, i));
	g_ptr_array_free(dp->idle, TRUE);
	dp->idle = NULL;
}

/* dispatch_write - curl's write callback: keep the answer up to the cap */
static size_t dispatch_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct dispatch_xfer *x = arg;
	size_t n = size * nmemb;

	if (n > DISPATCH_BODY_MAX || x->body->len + n > DISPATCH_BODY_MAX) {
		x->too_big = true;
		return 0;	/* aborts the transfer: CURLE_WRITE_ERROR */
	}
	g_byte_array_append(x->body, (const guint8 *)ptr, (guint)n);
	return n;
}

/* dispatch_slist_add - append header H to *L; 0 or -1 with ERR */
static int dispatch_slist_add(struct curl_slist **l, const char *h,
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

/* dispatch_xfer_headers - REQ's headers, and "Expect:" (no 100-continue
   round trip), as a curl list into X->hdrs */
static int dispatch_xfer_headers(struct dispatch_xfer *x, char *err,
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
		if (dispatch_slist_add(&l, h, err, errlen) != 0)
			goto fail;
	}
	if (dispatch_slist_add(&l, "Expect:", err, errlen) != 0)
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

/* dispatch_xfer_method - method and body of X's request */
static int dispatch_xfer_method(struct dispatch_xfer *x, char *err,
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

/* dispatch_xfer_setopt - every option of X's transfer for provider CFG */
static int dispatch_xfer_setopt(struct dispatch_xfer *x,
				const struct config_provider *cfg, char *err,
				size_t errlen)
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
	XFER_SETOPT(e, CURLOPT_WRITEFUNCTION, dispatch_write);
	XFER_SETOPT(e, CURLOPT_WRITEDATA, x);
	XFER_SETOPT(e, CURLOPT_TCP_KEEPALIVE, 1L);
	XFER_SETOPT(e, CURLOPT_TCP_KEEPIDLE, XFER_KEEPIDLE);
	XFER_SETOPT(e, CURLOPT_TCP_KEEPINTVL, XFER_KEEPINTVL);
	XFER_SETOPT(e, CURLOPT_ERRORBUFFER, x->errbuf);
	XFER_SETOPT(e, CURLOPT_PRIVATE, x);
	rc = dispatch_xfer_method(x, err, errlen);
	what = NULL;
out:
	if (rc && what)
		snprintf(err, errlen, "cannot set %s", what);
	return rc;
}

/* dispatch_xfer_free - X's resources; its easy handle back to the pool */
static void dispatch_xfer_free(struct dispatch_prov *dp,
			       struct dispatch_xfer *x)
{
	dispatch_pool_put(dp, x->easy);
	curl_slist_free_all(x->hdrs);
	http_req_clear(&x->req);
	if (x->body)
		g_byte_array_free(x->body, TRUE);
	g_free(x);
}

/* dispatch_xfer_start - set up and add the transfer of A's request */
int dispatch_xfer_start(struct dispatch *d, unsigned prov,
			const struct action *orig, const struct action *a,
			struct http_req *req, char *err, size_t errlen)
{
	struct dispatch_prov *dp = &d->provs[prov];
	struct dispatch_xfer *x = g_new0(struct dispatch_xfer, 1);
	CURLMcode mrc;
	int rc = -1;

	x->prov = prov;
	x->orig = *orig;
	x->a = *a;
	x->req = *req;		/* the body passes to the transfer */
	memset(req, 0, sizeof(*req));
	x->req.url[sizeof(x->req.url) - 1] = '\0';
	x->req.method[sizeof(x->req.method) - 1] = '\0';
	x->body = g_byte_array_new();
	x->easy = dispatch_pool_take(dp);
	if (x->easy == NULL) {
		snprintf(err, errlen, "cannot create a curl handle");
		goto out;
	}
	if (dispatch_xfer_headers(x, err, errlen) != 0 ||
	    dispatch_xfer_setopt(x, dp->cfg, err, errlen) != 0)
		goto out;
	mrc = curl_multi_add_handle(d->multi, x->easy);
	if (mrc != CURLM_OK) {
		snprintf(err, errlen, "cannot start the transfer: %s",
			 curl_multi_strerror(mrc));
		goto out;
	}
	g_hash_table_insert(d->in_flight, &x->orig.id, x);
	dp->in_flight++;
	rc = 0;
out:
	if (rc)
		dispatch_xfer_free(dp, x);
	return rc;
}

/* dispatch_snippet - the start of BODY (LEN bytes), printable */
static void dispatch_snippet(const guint8 *body, size_t len, char *buf,
			     size_t buflen)
{
	size_t i, n = 0;

	for (i = 0; i < len && i < XFER_SNIPPET && n + 1 < buflen; i++)
		buf[n++] = (body[i] < 0x20 || body[i] >= 0x7f) ? ' ' :
							       (char)body[i];
	if (buflen)
		buf[n] = '\0';
	g_strstrip(buf);
}

/* dispatch_xfer_transient - the RETRY result of X: curl error, cap, 5xx, 429 */
static void dispatch_xfer_transient(struct dispatch *d, struct dispatch_xfer *x,
				    CURLcode code, long status)
{
	char why[DISPATCH_ERR_MAX], snip[XFER_SNIPPET + 1];
	struct dispatch_result *r;
	curl_off_t ra = -1;

	if (x->too_big) {
		snprintf(why, sizeof(why), "answer over %zu bytes (HTTP %ld)",
			 DISPATCH_BODY_MAX, status);
	} else if (code != CURLE_OK) {
		snprintf(why, sizeof(why), "%s", x->errbuf[0] ?
			 x->errbuf : curl_easy_strerror(code));
	} else {
		dispatch_snippet(x->body->data, x->body->len, snip, sizeof(snip));
		snprintf(why, sizeof(why), "HTTP %ld%s%s", status,
			 *snip ? ": " : "", snip);
#if LIBCURL_VERSION_NUM >= 0x074200
		if (curl_easy_getinfo(x->easy, CURLINFO_RETRY_AFTER, &ra) !=
		    CURLE_OK)
			ra = -1;
#endif
	}
	r = dispatch_result_add(d, x->prov, &x->orig, &x->a, PROVIDER_RETRY, why);
	r->status = status;
	if (ra > 0)
		r->retry_after_ms = ra > INT32_MAX ? (int64_t)INT32_MAX * 1000 :
						     (int64_t)ra * 1000;
}

/* dispatch_xfer_parse - the provider's verdict on X's answer */
static void dispatch_xfer_parse(struct dispatch *d, struct dispatch_xfer *x,
				long status)
{
	struct provider *p = d->provs[x->prov].p;
	struct dispatch_result *r;
	struct http_resp resp;
	char err[DISPATCH_ERR_MAX] = "";
	char *ctype = NULL;
	GArray *spawn = g_array_new(FALSE, TRUE, sizeof(struct action));
	enum provider_result res;

	g_byte_array_append(x->body, (const guint8 *)"", 1);	/* NUL */
	if (curl_easy_getinfo(x->easy, CURLINFO_CONTENT_TYPE, &ctype) != CURLE_OK)
		ctype = NULL;
	resp.status = status;
	resp.body = (const char *)x->body->data;
	resp.body_len = x->body->len - 1;
	resp.content_type = ctype;
	res = p->ops->parse(p, &x->a, &resp, spawn, err, sizeof(err));
	if (res != PROVIDER_DONE && res != PROVIDER_CONTINUE &&
	    res != PROVIDER_RETRY && res != PROVIDER_FAILED) {
		snprintf(err, sizeof(err), "provider gave verdict %d on HTTP %ld",
			 (int)res, status);
		res = PROVIDER_FAILED;
	}
	if ((res == PROVIDER_RETRY || res == PROVIDER_FAILED) && !err[0])
		snprintf(err, sizeof(err), "HTTP %ld", status);
	r = dispatch_result_add(d, x->prov, &x->orig, &x->a, res, err);
	r->status = status;
	if (res == PROVIDER_DONE && spawn->len > 0) {
		r->spawn = spawn;
		spawn = NULL;
	}
	if (spawn)
		g_array_free(spawn, TRUE);
}

/* dispatch_xfer_judge - the result of finished transfer X */
static void dispatch_xfer_judge(struct dispatch *d, struct dispatch_xfer *x,
				CURLcode code)
{
	long status = 0;

	if (curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status) !=
	    CURLE_OK)
		status = 0;
	if (x->too_big || code != CURLE_OK || status >= 500 || status == 429 ||
	    status < 100)
		dispatch_xfer_transient(d, x, code, status);
	else
		dispatch_xfer_parse(d, x, status);
}

/* dispatch_xfer_end - take X out of the multi handle and free it */
static void dispatch_xfer_end(struct dispatch *d, struct dispatch_xfer *x)
{
	struct dispatch_prov *dp = &d->provs[x->prov];
	CURLMcode mrc = curl_multi_remove_handle(d->multi, x->easy);

	if (mrc != CURLM_OK)
		log_warn("dispatch", "cannot remove a transfer from the multi "
			 "handle: %s", curl_multi_strerror(mrc));
	g_hash_table_remove(d->in_flight, &x->orig.id);
	if (dp->in_flight > 0)
		dp->in_flight--;
	dispatch_xfer_free(dp, x);
}

/* dispatch_xfer_collect - judge and end every finished transfer */
void dispatch_xfer_collect(struct dispatch *d)
{
	struct dispatch_xfer *x;
	CURLcode code;
	CURLMsg *msg;
	char *priv;
	int left;

	while ((msg = curl_multi_info_read(d->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		code = msg->data.result;
		priv = NULL;
		if (curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
				      &priv) != CURLE_OK || priv == NULL) {
			log_error("dispatch", "a finished transfer has no owner: "
				  "dropped");
			curl_multi_remove_handle(d->multi, msg->easy_handle);
			continue;
		}
		x = (struct dispatch_xfer *)(void *)priv;
		dispatch_xfer_judge(d, x, code);
		dispatch_xfer_end(d, x);
	}
}

/* dispatch_xfer_abort_all - drop every transfer under way */
void dispatch_xfer_abort_all(struct dispatch *d)
{
	GHashTableIter it;
	gpointer k, v;
	GPtrArray *all = g_ptr_array_new();
	guint i;

	g_hash_table_iter_init(&it, d->in_flight);
	while (g_hash_table_iter_next(&it, &k, &v))
		g_ptr_array_add(all, v);
	for (i = 0; i < all->len; i++)
		dispatch_xfer_end(d, g_ptr_array_index(all, i));
	g_ptr_array_free(all, TRUE);
}
