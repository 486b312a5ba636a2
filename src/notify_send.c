/*
 * notify_send.c - the operator's mail, from the queue to the SMTP server.
 *
 * One send at a time: the oldest items (at most max-items; one in event
 * mode) are read in a read-only transaction together with what the
 * providers did for each address (the recipient record's actions), the
 * mail is composed (notify_compose.c) and handed to a curl easy handle in
 * a multi handle of the sender's own (notify_smtp.c).  The multi handle
 * is driven with curl_multi_perform() on each step, which never waits.
 * When the server took the mail the items are dropped in one write
 * transaction; more waiting are sent at once (a digest lists at most
 * max-items).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <glib.h>

#include "action.h"
#include "config.h"
#include "log.h"
#include "http_xfer.h"
#include "mailwizz_campaign.h"
#include "notify.h"
#include "notify_queue.h"
#include "notify_send.h"
#include "rcpt.h"
#include "provider.h"
#include "state.h"
#include "url_check.h"

#define NS_RETRY_MIN_MS (30 * 1000)
#define NS_CAMPAIGNS_MAX 1000	/* campaign details kept before a clear */

struct notify_sender {
	const struct config *cfg;
	struct state *st;
	CURLM *multi;
	CURL *easy;			/* the transfer under way, or NULL */
	struct notify_smtp_xfer *xfer;
	uint64_t last;			/* sequence of its last item */
	size_t n;			/* items it lists */
	int64_t next_ms;		/* next send may start (monotonic) */
	int64_t retry_ms;		/* current retry delay */
	struct notify_item *items;	/* max-items of them */
	size_t cap;
	bool global;			/* curl_global_init done */
	/* MailWizz campaign details for the items (mailwizz_campaign.h) */
	GPtrArray *mw;			/* struct provider *, MailWizz ones */
	GHashTable *campaigns;		/* "provider/uid" -> struct
					   mw_campaign_info (name "" when the
					   campaign could not be read) */
	bool prepared;			/* ITEMS hold the next mail's items */
	struct http_xfer fetch;		/* a campaign being asked for */
	char fetch_key[128];
};

static int64_t ns_interval_ms(const struct notify_sender *ns)
{
	return ns->cfg->notify_mode == NOTIFY_MODE_EVENT ?
		       0 : ns->cfg->digest_interval * 1000;
}

int notify_sender_new(struct notify_sender **out, const struct config *cfg,
		      struct state *st, char *err, size_t errlen)
{
	struct notify_sender *ns;
	size_t i;

	*out = NULL;
	if (cfg->notify_mode == NOTIFY_MODE_OFF)
		return 0;
	ns = g_new0(struct notify_sender, 1);
	ns->cfg = cfg;
	ns->st = st;
	ns->cap = cfg->notify_mode == NOTIFY_MODE_EVENT ? 1 :
		  cfg->notify_max_items ? cfg->notify_max_items :
					  NOTIFY_MAX_ITEMS_DEFAULT;
	ns->items = g_new0(struct notify_item, ns->cap);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errlen, "notify: cannot initialise libcurl");
		notify_sender_free(ns);
		return -EIO;
	}
	ns->global = true;
	ns->multi = curl_multi_init();
	if (!ns->multi) {
		snprintf(err, errlen, "notify: out of memory");
		notify_sender_free(ns);
		return -ENOMEM;
	}
	ns->mw = g_ptr_array_new_with_free_func(
		(GDestroyNotify)provider_free);
	ns->campaigns = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					      g_free);
	for (i = 0; i < cfg->n_providers; i++) {
		struct provider *p = NULL;

		if (cfg->providers[i].type != PROVIDER_MAILWIZZ)
			continue;
		if (provider_new(&cfg->providers[i], &p, err, errlen) != 0) {
			notify_sender_free(ns);
			return -EINVAL;
		}
		g_ptr_array_add(ns->mw, p);
	}
	ns->retry_ms = NS_RETRY_MIN_MS;
	/* a digest covers digest-interval; what waits from before a restart
	   goes with the first one */
	ns->next_ms = 0;
	*out = ns;
	return 0;
}

/* ns_fetch_end - the campaign request's handle and buffers gone */
static void ns_fetch_end(struct notify_sender *ns)
{
	if (ns->fetch.easy) {
		curl_multi_remove_handle(ns->multi, ns->fetch.easy);
		curl_easy_cleanup(ns->fetch.easy);
	}
	http_xfer_release(&ns->fetch);
	memset(&ns->fetch, 0, sizeof(ns->fetch));
}

/* ns_end - the transfer's handle and state gone */
static void ns_end(struct notify_sender *ns)
{
	if (ns->easy) {
		curl_multi_remove_handle(ns->multi, ns->easy);
		curl_easy_cleanup(ns->easy);
		ns->easy = NULL;
	}
	notify_smtp_free(ns->xfer);
	ns->xfer = NULL;
}

void notify_sender_free(struct notify_sender *ns)
{
	if (!ns)
		return;
	ns_end(ns);
	ns_fetch_end(ns);
	if (ns->mw)
		g_ptr_array_free(ns->mw, TRUE);
	if (ns->campaigns)
		g_hash_table_destroy(ns->campaigns);
	if (ns->multi)
		curl_multi_cleanup(ns->multi);
	if (ns->global)
		curl_global_cleanup();
	g_free(ns->items);
	g_free(ns);
}

bool notify_sender_busy(const struct notify_sender *ns)
{
	return ns && (ns->easy || ns->fetch.easy);
}

static const char *ns_state_name(uint8_t st)
{
	switch (st) {
	case ACTION_PENDING: return "pending";
	case ACTION_DONE: return "done";
	case ACTION_DEAD: return "failed (dead letter)";
	case ACTION_DRYRUN: return "dry-run";
	}
	return "?";
}

/* ns_results - "mw: complaint done; hook: complaint pending" of the
   recipient record of IT's address */
static void ns_results(struct notify_sender *ns, MDB_txn *txn,
		       struct notify_item *it)
{
	GString *s;
	struct rcpt r;
	uint32_t i;

	/* a provider's notice carries its own text */
	if (strncmp(it->kind, "provider", sizeof(it->kind)) == 0)
		return;
	s = g_string_new(NULL);
	if (state_rcpt_get(ns->st, txn, it->addr, &r) == 0) {
		for (i = 0; i < r.n_actions; i++)
			g_string_append_printf(s, "%s%s: %s %s",
					       s->len ? "; " : "",
					       r.actions[i].provider,
					       action_op_name(r.actions[i].op),
					       ns_state_name(r.actions[i].state));
	}
	rcpt_set_str(it->results, sizeof(it->results),
		     s->len ? s->str : "no provider action");
	g_string_free(s, TRUE);
}

/* ns_prepare - the next mail's items from the queue, with what the
   providers did for each; PREPARED says whether any wait.  0 or -errno */
static int ns_prepare(struct notify_sender *ns)
{
	MDB_txn *txn = NULL;
	size_t i;
	int rc;

	ns->n = 0;
	ns->prepared = false;
	rc = state_begin(ns->st, false, &txn);
	if (rc == 0)
		rc = notify_queue_peek(ns->st, txn, ns->items, ns->cap, &ns->n,
				       &ns->last, NULL);
	for (i = 0; rc == 0 && i < ns->n; i++)
		ns_results(ns, txn, &ns->items[i]);
	state_abort(txn);
	if (rc) {
		log_error("notify", "cannot read the queue: %s",
			  state_strerror(rc));
		return rc;
	}
	ns->prepared = ns->n > 0;
	return 0;
}

/* ns_campaign_key - "provider/uid" of IT's campaign into KEY, or 0 */
static int ns_campaign_key(const struct notify_item *it, char *key,
			   size_t len)
{
	if (!it->provider[0] || !notify_uid_ok(it->campaign_uid))
		return 0;
	snprintf(key, len, "%.32s/%.13s", it->provider, it->campaign_uid);
	return 1;
}

/* ns_provider - the MailWizz provider called NAME, or NULL */
static struct provider *ns_provider(struct notify_sender *ns,
				    const char *name)
{
	guint i;

	for (i = 0; i < ns->mw->len; i++) {
		struct provider *p = g_ptr_array_index(ns->mw, i);

		if (strcmp(p->cfg->name, name) == 0)
			return p;
	}
	return NULL;
}

/* ns_missing - the first item whose campaign details are not known yet
   (its key into KEY), or NULL */
static struct notify_item *ns_missing(struct notify_sender *ns, char *key,
				      size_t len)
{
	size_t i;

	for (i = 0; i < ns->n; i++)
		if (ns_campaign_key(&ns->items[i], key, len) &&
		    !g_hash_table_contains(ns->campaigns, key) &&
		    ns_provider(ns, ns->items[i].provider))
			return &ns->items[i];
	return NULL;
}

/* ns_remember - INFO (NULL: could not be read) of campaign KEY */
static void ns_remember(struct notify_sender *ns, const char *key,
			const struct mw_campaign_info *info)
{
	struct mw_campaign_info *c = g_new0(struct mw_campaign_info, 1);

	if (info)
		*c = *info;
	if (g_hash_table_size(ns->campaigns) >= NS_CAMPAIGNS_MAX)
		g_hash_table_remove_all(ns->campaigns);
	g_hash_table_replace(ns->campaigns, g_strdup(key), c);
}

/* ns_apply_campaigns - the known campaign details into the items */
static void ns_apply_campaigns(struct notify_sender *ns)
{
	char key[128];
	size_t i;

	for (i = 0; i < ns->n; i++) {
		struct notify_item *it = &ns->items[i];
		const struct mw_campaign_info *c;

		if (!ns_campaign_key(it, key, sizeof(key)))
			continue;
		c = g_hash_table_lookup(ns->campaigns, key);
		if (!c || !c->name[0])
			continue;
		g_strlcpy(it->campaign_name, c->name, sizeof(it->campaign_name));
		g_strlcpy(it->campaign_subject, c->subject,
			  sizeof(it->campaign_subject));
		g_strlcpy(it->list_name, c->list_name, sizeof(it->list_name));
		if (!it->list_uid[0])
			g_strlcpy(it->list_uid, c->list_uid,
				  sizeof(it->list_uid));
		it->send_time = c->send_time;
		g_strlcpy(it->send_at, c->send_at, sizeof(it->send_at));
	}
}

/* ns_fetch_setup - the request for the campaign of IT (key KEY) in
   NS->fetch; 0 or -1 (logged; the campaign is remembered as unknown) */
static int ns_fetch_setup(struct notify_sender *ns,
			  const struct notify_item *it, const char *key)
{
	struct provider *p = ns_provider(ns, it->provider);
	char err[512];

	memset(&ns->fetch, 0, sizeof(ns->fetch));
	g_strlcpy(ns->fetch_key, key, sizeof(ns->fetch_key));
	ns->fetch.easy = curl_easy_init();
	if (!ns->fetch.easy ||
	    mailwizz_campaign_request(p, it->campaign_uid, (int64_t)time(NULL),
				      &ns->fetch.req, err, sizeof(err)) != 0 ||
	    http_xfer_setup(&ns->fetch, p->cfg, NULL, err, sizeof(err)) != 0) {
		if (!ns->fetch.easy)
			snprintf(err, sizeof(err), "out of memory");
		log_warn("notify", "campaign %s: %s", key, err);
		ns_remember(ns, key, NULL);
		ns_fetch_end(ns);
		return -1;
	}
	return 0;
}

/* ns_fetch_done - the campaign answer (RES: the transfer's result) */
static void ns_fetch_done(struct notify_sender *ns, CURLcode res)
{
	struct mw_campaign_info info;
	struct http_resp resp;
	char err[512];
	long status = 0;

	if (res != CURLE_OK) {
		log_warn("notify", "campaign %s: %s", ns->fetch_key,
			 ns->fetch.errbuf[0] ? ns->fetch.errbuf :
					       curl_easy_strerror(res));
		ns_remember(ns, ns->fetch_key, NULL);
		ns_fetch_end(ns);
		return;
	}
	curl_easy_getinfo(ns->fetch.easy, CURLINFO_RESPONSE_CODE, &status);
	g_byte_array_append(ns->fetch.body, (const guint8 *)"", 1);
	resp.status = status;
	resp.body = (const char *)ns->fetch.body->data;
	resp.body_len = ns->fetch.body->len - 1;
	resp.content_type = NULL;
	if (mailwizz_campaign_parse(&resp, &info, err, sizeof(err)) == 0) {
		ns_remember(ns, ns->fetch_key, &info);
	} else {
		log_warn("notify", "campaign %s: %s", ns->fetch_key, err);
		ns_remember(ns, ns->fetch_key, NULL);
	}
	ns_fetch_end(ns);
}

/* ns_fetch_next - start asking for the next campaign the items lack; 1
   when a request is under way, 0 when none is needed */
static int ns_fetch_next(struct notify_sender *ns)
{
	struct notify_item *it;
	char key[128];

	while ((it = ns_missing(ns, key, sizeof(key))) != NULL) {
		if (ns_fetch_setup(ns, it, key) != 0)
			continue;
		if (curl_multi_add_handle(ns->multi, ns->fetch.easy) ==
		    CURLM_OK)
			return 1;
		ns_remember(ns, key, NULL);
		ns_fetch_end(ns);
	}
	return 0;
}

/* ns_compose - the prepared items as a mail into *MAIL; 0 or -errno */
static int ns_compose(struct notify_sender *ns, char **mail, size_t *len)
{
	const struct config *cfg = ns->cfg;
	struct notify_opts o;
	char err[512];
	int rc;

	ns_apply_campaigns(ns);
	memset(&o, 0, sizeof(o));
	o.from = cfg->notify_from;
	o.to = (const char *const *)cfg->notify_to;
	o.web_url = cfg->notify_web_url;
	o.hostname = g_get_host_name();
	o.period_start = ns->items[0].time;
	o.period_end = (int64_t)time(NULL);
	o.max_items = ns->cap;
	rc = notify_compose(&o, ns->items, ns->n, mail, len, err, sizeof(err));
	if (rc)
		log_error("notify", "cannot compose the mail: %s", err);
	return rc;
}

/* ns_start - compose the prepared items and start sending them; 0 or
   -errno */
static int ns_start(struct notify_sender *ns)
{
	struct notify_smtp_cfg sc;
	char err[512], *mail = NULL;
	size_t len = 0;
	int rc;

	rc = ns_compose(ns, &mail, &len);
	if (rc)
		goto out;
	ns->easy = curl_easy_init();
	if (!ns->easy) {
		rc = -ENOMEM;
		goto out;
	}
	notify_smtp_cfg_from_config(ns->cfg, &sc);
	rc = notify_smtp_setup(ns->easy, &sc, mail, len, &ns->xfer, err,
			       sizeof(err));
	if (rc) {
		log_error("notify", "cannot send: %s", err);
		goto out;
	}
	if (curl_multi_add_handle(ns->multi, ns->easy) != CURLM_OK) {
		rc = -EIO;
		goto out;
	}
	if (log_get_level() >= BLOG_DEBUG) {
		char show[1100];

		log_debug("notify", "sending %zu items to %s", ns->n,
			  url_show(ns->cfg->notify_smtp, show, sizeof(show)));
	}
out:
	if (rc)
		ns_end(ns);
	g_free(mail);
	return rc;
}

/* ns_drop_txn - the items up to the last one sent off the queue
   (state_write_fn) */
static int ns_drop_txn(struct state *st, MDB_txn *txn, void *arg)
{
	return notify_queue_drop(st, txn, *(const uint64_t *)arg);
}

/* ns_sent - the server took the mail: drop its items; 0 or -errno */
static int ns_sent(struct notify_sender *ns)
{
	char show[1100];
	int rc;

	rc = state_write(ns->st, ns_drop_txn, &ns->last);
	if (rc)
		log_error("notify", "mail sent, but its %zu items could not "
			  "be taken off the queue (%s): they are sent again",
			  ns->n, state_strerror(rc));
	else
		log_info("notify", "mailed %zu %s to %s", ns->n,
			 ns->n == 1 ? "item" : "items",
			 url_show(ns->cfg->notify_smtp, show, sizeof(show)));
	return rc;
}

/* ns_failed - RC from notify_smtp_finish: when to try again */
static void ns_failed(struct notify_sender *ns, int rc, const char *err,
		      int64_t now_ms)
{
	int64_t interval = ns->cfg->digest_interval * 1000;
	int64_t delay = rc == -EAGAIN ? ns->retry_ms : interval;

	if (delay < NS_RETRY_MIN_MS)
		delay = NS_RETRY_MIN_MS;
	log_error("notify", "%s; %zu items stay queued, next try in %lld s",
		  err, ns->n, (long long)(delay / 1000));
	ns->next_ms = now_ms + delay;
	if (rc == -EAGAIN && ns->retry_ms < interval)
		ns->retry_ms *= 2;
}

/* ns_finish - the transfer ended with RES */
static int ns_finish(struct notify_sender *ns, CURLcode res, int64_t now_ms)
{
	long code = 0;
	char err[512];
	int rc;

	curl_easy_getinfo(ns->easy, CURLINFO_RESPONSE_CODE, &code);
	rc = notify_smtp_finish(ns->xfer, res, code, err, sizeof(err));
	ns_end(ns);
	ns->prepared = false;	/* sent or not, the queue is read again */
	if (rc) {
		ns_failed(ns, rc, err, now_ms);
		return 0;
	}
	ns->retry_ms = NS_RETRY_MIN_MS;
	rc = ns_sent(ns);
	/* more than one mail's worth waits: on at once */
	ns->next_ms = ns->n == ns->cap ? now_ms : now_ms + ns_interval_ms(ns);
	return rc;
}

int notify_sender_step(struct notify_sender *ns, int64_t now_ms)
{
	CURLMsg *m;
	int running = 0, left, rc = 0;

	if (!ns)
		return 0;
	if (!ns->easy && !ns->fetch.easy) {
		if (!ns->prepared) {
			if (now_ms < ns->next_ms)
				return 0;
			if (ns_prepare(ns) != 0) {
				ns->next_ms = now_ms + NS_RETRY_MIN_MS;
				return 0;
			}
			if (!ns->prepared) {	/* nothing waits */
				ns->next_ms = now_ms + (ns_interval_ms(ns) ?
							ns_interval_ms(ns) :
							1000);
				return 0;
			}
		}
		/* the campaigns the items name first, then the mail */
		if (ns_fetch_next(ns) == 0 && ns_start(ns) != 0) {
			ns->prepared = false;
			ns->next_ms = now_ms + NS_RETRY_MIN_MS;
			return 0;
		}
	}
	curl_multi_perform(ns->multi, &running);
	while ((m = curl_multi_info_read(ns->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		if (ns->fetch.easy && m->easy_handle == ns->fetch.easy) {
			ns_fetch_done(ns, m->data.result);
			break;	/* M is gone with the handle */
		}
		if (ns->easy && m->easy_handle == ns->easy) {
			rc = ns_finish(ns, m->data.result, now_ms);
			break;
		}
	}
	return rc;
}

/* ns_fetch_blocking - the campaigns the prepared items lack, one blocking
   request each (bounced process) */
static void ns_fetch_blocking(struct notify_sender *ns)
{
	struct notify_item *it;
	char key[128];

	while ((it = ns_missing(ns, key, sizeof(key))) != NULL) {
		if (ns_fetch_setup(ns, it, key) != 0)
			continue;
		ns_fetch_done(ns, curl_easy_perform(ns->fetch.easy));
	}
}

int notify_sender_flush(struct notify_sender *ns, size_t *items)
{
	struct notify_smtp_cfg sc;
	char err[512], *mail;
	size_t len;
	int rc;

	*items = 0;
	if (!ns)
		return 0;
	notify_smtp_cfg_from_config(ns->cfg, &sc);
	for (;;) {
		rc = ns_prepare(ns);
		if (rc || !ns->prepared)
			return rc;
		ns_fetch_blocking(ns);
		mail = NULL;
		rc = ns_compose(ns, &mail, &len);
		if (rc)
			return rc;
		rc = notify_smtp_send(&sc, mail, len, err, sizeof(err));
		g_free(mail);
		ns->prepared = false;
		if (rc) {
			log_error("notify", "%s; %zu items stay queued for the "
				  "next run", err, ns->n);
			return rc;
		}
		rc = ns_sent(ns);
		if (rc)
			return rc;
		*items += ns->n;
	}
}
