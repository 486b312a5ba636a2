/*
 * http_xfer.h - one HTTP request of a provider on a curl easy handle: the
 * options every call to a campaign tool gets, and the answer kept.
 *
 * Every transfer: the request's URL, method and headers; total and connect
 * timeouts from the provider's config; TLS peer and host verification on
 * (CAINFO when ca-file is set); NOSIGNAL; http and https only; redirects
 * not followed; User-Agent "bounced/VERSION"; TCP keep-alive; no
 * "Expect: 100-continue".  The answer is kept up to HTTP_BODY_MAX bytes
 * (more aborts the transfer, TOO_BIG set).  Used by the dispatcher and by
 * the operator's mail (MailWizz campaign details).
 */
#ifndef BOUNCED_HTTP_XFER_H
#define BOUNCED_HTTP_XFER_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>
#include <glib.h>

#include "config.h"
#include "provider.h"

#define HTTP_BODY_MAX ((size_t)1 << 20)	/* bytes of an answer kept */

struct http_xfer {
	CURL *easy;			/* the caller's */
	struct curl_slist *hdrs;
	struct http_req req;		/* owned: its body is freed here */
	GByteArray *body;		/* the answer */
	bool too_big;
	char errbuf[CURL_ERROR_SIZE];
};

/*
 * http_xfer_setup - set X->easy up for X->req as provider CFG wants
 * (CURLOPT_PRIVATE = PRIV); X->body is created when NULL.  0, or -1 with
 * ERR (a malformed header, an unsupported method, an option refused).
 */
int http_xfer_setup(struct http_xfer *x, const struct config_provider *cfg,
		    void *priv, char *err, size_t errlen);

/* http_xfer_release - the header list, the request's body and the answer
   (not the easy handle) */
void http_xfer_release(struct http_xfer *x);

#endif
