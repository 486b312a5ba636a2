/*
 * dispatch_xfer.c - the dispatcher's HTTP transfers: one curl easy handle
 * per request under way (an action's step, or a campaign's details asked
 * for the operator's mail), set up from a provider's struct http_req and
 * started on the process's multi handle (multi.h), and the verdict once
 * it finished (the multi handle calls back: the result is kept for the
 * next step's commit and the dispatcher kicked).
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
 * parser, and quoted in messages only as a short reason (http_excerpt.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "dispatch_priv.h"
#include "http_excerpt.h"
#include "http_xfer.h"
#include "log.h"


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

/* dispatch_xfer_free - X's resources; its easy handle back to the pool */
static void dispatch_xfer_free(struct dispatch_prov *dp,
			       struct dispatch_xfer *x)
{
	dispatch_pool_put(dp, x->h.easy);
	http_xfer_release(&x->h);
	g_free(x);
}

static multi_done_fn dispatch_xfer_done;

/* dispatch_xfer_start - set up and add the transfer of A's request */
int dispatch_xfer_start(struct dispatch *d, unsigned prov,
			const struct action *orig, const struct action *a,
			struct http_req *req, char *err, size_t errlen)
{
	struct dispatch_prov *dp = &d->provs[prov];
	struct dispatch_xfer *x = g_new0(struct dispatch_xfer, 1);
	int rc = -1;

	x->d = d;
	x->prov = prov;
	x->orig = *orig;
	x->a = *a;
	x->h.req = *req;		/* the body passes to the transfer */
	memset(req, 0, sizeof(*req));
	x->h.req.url[sizeof(x->h.req.url) - 1] = '\0';
	x->h.req.method[sizeof(x->h.req.method) - 1] = '\0';
	x->h.body = g_byte_array_new();
	x->h.easy = dispatch_pool_take(dp);
	if (x->h.easy == NULL) {
		snprintf(err, errlen, "cannot create a curl handle");
		goto out;
	}
	if (http_xfer_setup(&x->h, dp->cfg, x, err, errlen) != 0)
		goto out;
	if (multi_add(d->multi, x->h.easy, dispatch_xfer_done, x, err,
		      errlen) != 0)
		goto out;
	g_hash_table_insert(d->in_flight, &x->orig.id, x);
	dp->in_flight++;
	rc = 0;
out:
	if (rc)
		dispatch_xfer_free(dp, x);
	return rc;
}

/* dispatch_xfer_transient - the RETRY result of X: curl error, cap, 5xx, 429 */
static void dispatch_xfer_transient(struct dispatch *d, struct dispatch_xfer *x,
				    CURLcode code, long status)
{
	char why[DISPATCH_ERR_MAX], snip[HTTP_EXCERPT_MAX + 1];
	struct dispatch_result *r;
	curl_off_t ra = -1;

	if (x->h.too_big) {
		snprintf(why, sizeof(why), "answer over %zu bytes (HTTP %ld)",
			 DISPATCH_BODY_MAX, status);
	} else if (code != CURLE_OK) {
		snprintf(why, sizeof(why), "%s", x->h.errbuf[0] ?
			 x->h.errbuf : curl_easy_strerror(code));
	} else {
		http_excerpt((const char *)x->h.body->data, x->h.body->len,
			     snip, sizeof(snip));
		snprintf(why, sizeof(why), "HTTP %ld%s%s", status,
			 *snip ? ": " : "", snip);
#if LIBCURL_VERSION_NUM >= 0x074200
		if (curl_easy_getinfo(x->h.easy, CURLINFO_RETRY_AFTER, &ra) !=
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

	g_byte_array_append(x->h.body, (const guint8 *)"", 1);	/* NUL */
	if (curl_easy_getinfo(x->h.easy, CURLINFO_CONTENT_TYPE, &ctype) != CURLE_OK)
		ctype = NULL;
	resp.status = status;
	resp.body = (const char *)x->h.body->data;
	resp.body_len = x->h.body->len - 1;
	resp.content_type = ctype;
	res = p->ops->parse(p, &x->a, &resp, spawn, err, sizeof(err));
	if (res != PROVIDER_DONE && res != PROVIDER_CONTINUE &&
	    res != PROVIDER_RETRY && res != PROVIDER_FAILED &&
	    res != PROVIDER_PAUSE) {
		snprintf(err, sizeof(err), "provider gave verdict %d on HTTP %ld",
			 (int)res, status);
		res = PROVIDER_FAILED;
	}
	if ((res == PROVIDER_RETRY || res == PROVIDER_FAILED ||
	     res == PROVIDER_PAUSE) && !err[0])
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

	if (curl_easy_getinfo(x->h.easy, CURLINFO_RESPONSE_CODE, &status) !=
	    CURLE_OK)
		status = 0;
	if (x->h.too_big || code != CURLE_OK || status >= 500 || status == 429 ||
	    status < 100)
		dispatch_xfer_transient(d, x, code, status);
	else
		dispatch_xfer_parse(d, x, status);
}

/* dispatch_xfer_forget - X is no longer under way: free it */
static void dispatch_xfer_forget(struct dispatch *d, struct dispatch_xfer *x)
{
	struct dispatch_prov *dp = &d->provs[x->prov];

	g_hash_table_remove(d->in_flight, &x->orig.id);
	if (dp->in_flight > 0)
		dp->in_flight--;
	dispatch_xfer_free(dp, x);
}

/* dispatch_xfer_done - the multi handle says X ended with CODE: judge it
   for the next step's commit, and have that step run */
static void dispatch_xfer_done(CURL *easy, CURLcode code, void *arg)
{
	struct dispatch_xfer *x = arg;
	struct dispatch *d = x->d;

	(void)easy;
	dispatch_xfer_judge(d, x, code);
	dispatch_xfer_forget(d, x);
	dispatch_kick(d);
}

/* ---- campaign details for the operator's mail ---- */

/* dispatch_lookup_forget - LK is no longer under way: free it */
static void dispatch_lookup_forget(struct dispatch_lookup *lk)
{
	struct dispatch *d = lk->d;
	struct dispatch_prov *dp = &d->provs[lk->prov];

	g_ptr_array_remove_fast(d->lookups, lk);
	if (dp->in_flight > 0)
		dp->in_flight--;
	dispatch_pool_put(dp, lk->h.easy);
	http_xfer_release(&lk->h);
	g_free(lk);
}

/* dispatch_lookup_done - the campaign's answer: its details to whoever
   asked (after LK is gone: the caller may ask again from there) */
static void dispatch_lookup_done(CURL *easy, CURLcode code, void *arg)
{
	struct dispatch_lookup *lk = arg;
	struct dispatch *d = lk->d;
	struct provider *p = d->provs[lk->prov].p;
	provider_campaign_fn *fn = lk->fn;
	struct provider_campaign info;
	void *fn_arg = lk->arg;
	char err[DISPATCH_ERR_MAX] = "";
	struct http_resp resp;
	long status = 0;
	bool ok = false;

	if (lk->h.too_big) {
		snprintf(err, sizeof(err), "answer over %zu bytes",
			 DISPATCH_BODY_MAX);
	} else if (code != CURLE_OK) {
		snprintf(err, sizeof(err), "%s", lk->h.errbuf[0] ?
			 lk->h.errbuf : curl_easy_strerror(code));
	} else {
		if (curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status) !=
		    CURLE_OK)
			status = 0;
		g_byte_array_append(lk->h.body, (const guint8 *)"", 1);
		resp.status = status;
		resp.body = (const char *)lk->h.body->data;
		resp.body_len = lk->h.body->len - 1;
		resp.content_type = NULL;
		ok = p->ops->campaign_parse(p, &resp, &info, err,
					    sizeof(err)) == 0;
	}
	dispatch_lookup_forget(lk);
	dispatch_kick(d);	/* a slot of the provider is free again */
	fn(fn_arg, ok ? &info : NULL, err);
}

/* dispatch_campaign - ask provider PROVIDER for campaign UID's details */
int dispatch_campaign(struct dispatch *d, const char *provider,
		      const char *uid, provider_campaign_fn *fn, void *arg)
{
	gpointer v = g_hash_table_lookup(d->by_name, provider);
	struct dispatch_lookup *lk;
	struct dispatch_prov *dp;
	char err[DISPATCH_ERR_MAX] = "";

	if (v == NULL)
		return -ENOENT;
	dp = &d->provs[GPOINTER_TO_UINT(v) - 1];
	if (!dp->p->ops->campaign_request || !dp->p->ops->campaign_parse)
		return -ENOENT;
	lk = g_new0(struct dispatch_lookup, 1);
	lk->d = d;
	lk->prov = GPOINTER_TO_UINT(v) - 1;
	lk->fn = fn;
	lk->arg = arg;
	lk->h.easy = dispatch_pool_take(dp);
	if (lk->h.easy == NULL) {
		snprintf(err, sizeof(err), "cannot create a curl handle");
		goto fail;
	}
	if (dp->p->ops->campaign_request(dp->p, uid, dispatch_now_ms() / 1000,
					 &lk->h.req, err, sizeof(err)) != 0 ||
	    http_xfer_setup(&lk->h, dp->cfg, lk, err, sizeof(err)) != 0 ||
	    multi_add(d->multi, lk->h.easy, dispatch_lookup_done, lk, err,
		      sizeof(err)) != 0)
		goto fail;
	g_ptr_array_add(d->lookups, lk);
	dp->in_flight++;
	return 0;
fail:
	dispatch_pool_put(dp, lk->h.easy);
	http_xfer_release(&lk->h);
	g_free(lk);
	fn(arg, NULL, err[0] ? err : "cannot ask for the campaign");
	return 0;
}

/* dispatch_campaign_cancel - the lookups asked with ARG dropped */
void dispatch_campaign_cancel(struct dispatch *d, void *arg)
{
	guint i = d->lookups->len;

	while (i-- > 0) {
		struct dispatch_lookup *lk = d->lookups->pdata[i];

		if (lk->arg != arg)
			continue;
		multi_remove(d->multi, lk->h.easy);
		dispatch_lookup_forget(lk);	/* the last moves to I: seen */
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
	for (i = 0; i < all->len; i++) {
		struct dispatch_xfer *x = g_ptr_array_index(all, i);

		multi_remove(d->multi, x->h.easy);
		dispatch_xfer_forget(d, x);
	}
	g_ptr_array_free(all, TRUE);
	while (d->lookups->len > 0) {
		struct dispatch_lookup *lk = d->lookups->pdata[0];

		multi_remove(d->multi, lk->h.easy);
		dispatch_lookup_forget(lk);
	}
}
