/*
 * cmd_provider_test.c - `bounced provider-test [NAME...]`: one harmless
 * call to each configured provider (or those named), now and blocking,
 * to say whether endpoint, TLS and credentials work before the daemon
 * depends on them: MailWizz lists its lists (signed or keyed like every
 * call), Interspire tests the XML API user, a webhook gets an event
 * "test".  Nothing in the state is read or changed.
 *
 * One line per provider: "NAME: ok (...)" or what is wrong and what to
 * check.  Exit codes: 0 every provider answered well; 78 a provider
 * refused the credentials, keys or clock (or its settings are unusable);
 * 75 one could not be reached or answered 5xx/429 (try again); 69 one
 * answered something else; 64 usage (an unknown NAME).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <glib.h>

#include "cli.h"
#include "commands.h"
#include "config.h"
#include "curl_lib.h"
#include "exitcodes.h"
#include "http_xfer.h"
#include "log.h"
#include "provider.h"
#include "url_check.h"

#define PT_ERR 512

/* pt_curl_hint - what to check for a transfer that failed */
static const char *pt_curl_hint(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
		return "check the host name of the URL";
	case CURLE_COULDNT_CONNECT:
		return "nothing answers there: check host, port and firewall";
	case CURLE_OPERATION_TIMEDOUT:
		return "no answer in time: check the network, or raise "
		       "timeout / connect-timeout";
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CONNECT_ERROR:
		return "the TLS certificate is not trusted or does not match "
		       "the host: set ca-file for a private CA, or fix the "
		       "name in the URL";
	default:
		return "check the URL";
	}
}

/* pt_one - test provider CFG; returns the exit code it deserves */
static int pt_one(const struct config_provider *cfg, int64_t now)
{
	struct provider *p = NULL;
	struct http_xfer x;
	struct http_resp resp;
	enum provider_result v;
	char err[PT_ERR] = "", url[2048];
	const char *where = cfg->endpoint ? cfg->endpoint : cfg->url;
	CURLcode cc;
	long status = 0;
	double secs = 0;
	int ex = EXIT_OK;

	memset(&x, 0, sizeof(x));
	url_show(where, url, sizeof(url));
	if (provider_new(cfg, &p, err, sizeof(err)) != 0) {
		printf("%s: its settings are unusable: %s\n", cfg->name, err);
		return EXIT_CONFIG;
	}
	if (!p->ops->probe || !p->ops->probe_parse) {
		printf("%s: no test call for type %s\n", cfg->name,
		       p->ops->type);
		goto out;
	}
	x.easy = curl_easy_init();
	if (!x.easy || p->ops->probe(p, now, &x.req, err, sizeof(err)) != 0 ||
	    http_xfer_setup(&x, cfg, NULL, err, sizeof(err)) != 0) {
		printf("%s: cannot make the test request: %s\n", cfg->name,
		       err[0] ? err : "out of memory");
		ex = EXIT_SOFTWARE;
		goto out;
	}
	cc = curl_easy_perform(x.easy);
	(void)curl_easy_getinfo(x.easy, CURLINFO_RESPONSE_CODE, &status);
	(void)curl_easy_getinfo(x.easy, CURLINFO_TOTAL_TIME, &secs);
	if (cc != CURLE_OK) {
		printf("%s: cannot reach %s: %s (%s)\n", cfg->name, url,
		       x.errbuf[0] ? x.errbuf : curl_easy_strerror(cc),
		       pt_curl_hint(cc));
		ex = x.too_big ? EXIT_UNAVAILABLE : EXIT_TEMPFAIL;
		goto out;
	}
	if (status >= 500 || status == 429) {
		printf("%s: %s answers HTTP %ld: the server is in trouble, "
		       "try again later\n", cfg->name, url, status);
		ex = EXIT_TEMPFAIL;
		goto out;
	}
	g_byte_array_append(x.body, (const guint8 *)"", 1);
	resp.status = status;
	resp.body = (const char *)x.body->data;
	resp.body_len = x.body->len - 1;
	resp.content_type = NULL;
	err[0] = '\0';
	v = p->ops->probe_parse(p, &resp, err, sizeof(err));
	switch (v) {
	case PROVIDER_DONE:
		printf("%s: ok (%s, %.0f ms): %s\n", cfg->name, url,
		       secs * 1000.0, err);
		break;
	case PROVIDER_PAUSE:
		printf("%s: %s refuses the credentials: %s (check the keys or "
		       "token%s; bounced pauses such a provider and keeps its "
		       "actions)\n", cfg->name, url, err,
		       strstr(err, "expired") ? ", and this machine's clock" :
						"");
		ex = EXIT_CONFIG;
		break;
	default:
		printf("%s: %s: %s\n", cfg->name, url, err);
		ex = EXIT_UNAVAILABLE;
		break;
	}
out:
	if (x.easy)
		curl_easy_cleanup(x.easy);
	http_xfer_release(&x);
	provider_free(p);
	return ex;
}

/* pt_rank - how bad an exit code is, to report the worst */
static int pt_rank(int ex)
{
	switch (ex) {
	case EXIT_OK: return 0;
	case EXIT_TEMPFAIL: return 1;
	case EXIT_UNAVAILABLE: return 2;
	case EXIT_CONFIG: return 3;
	default: return 4;
	}
}

/* cmd_provider_test - bounced provider-test [NAME...] */
int cmd_provider_test(const struct config *cfg, const struct cli_global *g,
		      const struct cli_args *a)
{
	int64_t now = (int64_t)time(NULL);
	char why[600];
	size_t i;
	int k, ex = EXIT_OK, one;

	(void)g;
	for (k = 0; k < a->n_operands; k++) {
		for (i = 0; i < cfg->n_providers; i++)
			if (strcmp(cfg->providers[i].name, a->operands[k]) == 0)
				break;
		if (i == cfg->n_providers) {
			fprintf(stderr, "bounced: provider-test: the "
				"configuration has no [provider %s]\n",
				a->operands[k]);
			return EXIT_USAGE;
		}
	}
	if (cfg->n_providers == 0) {
		printf("provider-test: no provider is configured\n");
		return EXIT_OK;
	}
	/* (the configuration's check of the URLs has loaded it already) */
	if (!curl_lib_ready(why, sizeof(why))) {
		fprintf(stderr, "bounced: provider-test: %s\n", why);
		return EXIT_CONFIG;
	}
	for (i = 0; i < cfg->n_providers; i++) {
		bool wanted = a->n_operands == 0;

		for (k = 0; k < a->n_operands && !wanted; k++)
			wanted = strcmp(cfg->providers[i].name,
					a->operands[k]) == 0;
		if (!wanted)
			continue;
		one = pt_one(&cfg->providers[i], now);
		if (pt_rank(one) > pt_rank(ex))
			ex = one;
	}
	fflush(stdout);
	return ex;
}
