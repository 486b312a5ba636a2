/*
 * notify_send.c - the operator's mail, from the queue to the SMTP server,
 * on the event loop (include/notify_send.h).
 *
 * One mail at a time, moved on by the sender's loop timer: the oldest
 * items (at most max-items; one in event mode) are read in a read-only
 * transaction together with what the providers did for each address (the
 * recipient record's actions); the campaigns they name are asked for one
 * after the other (struct notify_campaigns: the dispatcher's providers and
 * connections), each answer arming the timer again; then the mail is
 * composed (notify_compose.c) and handed to a curl easy handle on the
 * process's multi handle (notify_smtp.c, multi.h), whose callback says
 * how it ended.  When the server took the mail the items are dropped in
 * one write transaction; more waiting are sent at once (a digest lists at
 * most max-items).  A flush (bounced process) sends mail after mail until
 * the queue is empty or a send fails.
 *
 * Error policy: everything is logged here; a state error or a failed send
 * leaves the items queued and the next try is timed (or, in a flush,
 * reported to the caller).
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
#include "loop.h"
#include "multi.h"
#include "notify.h"
#include "notify_queue.h"
#include "notify_send.h"
#include "rcpt.h"
#include "state.h"
#include "timeparse.h"
#include "url_check.h"

#define NS_RETRY_MIN_MS (30 * 1000)
#define NS_REFUSED_MAX 3	/* refusals for good before a mail is split
				   or its one item dropped */
#define NS_IDLE_MS 1000		/* event mode: the queue looked at this often */
#define NS_CAMPAIGNS_MAX 1000	/* campaign details kept before a clear */

struct notify_sender {
	const struct config *cfg;
	struct state *st;
	struct loop *l;
	struct multi *m;
	struct loop_timer *timer;	/* the next look at the queue */
	struct notify_campaigns camp;	/* where campaigns are asked for */
	bool have_camp;
	CURL *easy;			/* the mail under way, or NULL */
	struct notify_smtp_xfer *xfer;
	uint64_t last;			/* sequence of its last item */
	/* a mail the server took whose items could not be taken off the
	   queue (the state refused the write): up to this sequence they
	   are mailed already, taken off before anything is read or sent
	   again; 0: none */
	uint64_t sent_upto;
	/* a mail whose content the server refused for good (5xx after the
	   data), known by its first item (items that come meanwhile join
	   its end): refused NS_REFUSED_MAX times, a mail of several items
	   is sent one item at a time (SOLO, for as many mails as it had
	   items), and one item alone is dropped: one item's content a
	   filter refuses must not hold up every later mail.  A refusal
	   before the data (relay, login, recipients) is the configuration's:
	   nothing is dropped for it */
	int64_t refused_time;		/* its first item's time ... */
	char refused_addr[ADDR_MAX + 1];	/* ... and address */
	unsigned refused_n;
	bool solo;
	size_t solo_left;		/* single mails before full ones again */
	size_t n;			/* items it lists */
	int64_t retry_ms;		/* current retry delay */
	int64_t retry_min;		/* the least: NS_RETRY_MIN_MS
					   (BOUNCED_NOTIFY_RETRY_MS for the
					   tests) */
	struct notify_item *items;	/* max-items of them */
	size_t cap;
	bool prepared;			/* ITEMS hold the next mail's items */
	/* campaign details for the items */
	GHashTable *campaigns;		/* "provider/uid" -> struct
					   provider_campaign (name "" when the
					   campaign could not be read) */
	bool asking;			/* a campaign asked for: ASK_KEY */
	bool in_ask;			/* inside camp.ask() */
	char ask_key[128];
	/* a flush (notify_sender_flush) */
	notify_flushed_fn *flushed;
	void *flushed_arg;
	size_t flushed_items;
};

static loop_timer_fn ns_due;

/* ns_interval_ms - how far apart mails go (0: event mode) */
static int64_t ns_interval_ms(const struct notify_sender *ns)
{
	return ns->cfg->notify_mode == NOTIFY_MODE_EVENT ?
		       0 : ns->cfg->digest_interval * 1000;
}

int notify_sender_new(struct notify_sender **out, const struct config *cfg,
		      struct state *st, struct loop *l, struct multi *m,
		      const struct notify_campaigns *campaigns, char *err,
		      size_t errlen)
{
	struct notify_sender *ns;

	(void)err;
	(void)errlen;
	*out = NULL;
	if (cfg->notify_mode == NOTIFY_MODE_OFF)
		return 0;
	ns = g_new0(struct notify_sender, 1);
	ns->cfg = cfg;
	ns->st = st;
	ns->l = l;
	ns->m = m;
	if (campaigns) {
		ns->camp = *campaigns;
		ns->have_camp = true;
	}
	ns->cap = cfg->notify_mode == NOTIFY_MODE_EVENT ? 1 :
		  cfg->notify_max_items ? cfg->notify_max_items :
					  NOTIFY_MAX_ITEMS_DEFAULT;
	ns->items = g_new0(struct notify_item, ns->cap);
	ns->campaigns = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					      g_free);
	ns->retry_min = timeparse_env_ms("BOUNCED_NOTIFY_RETRY_MS",
					 NS_RETRY_MIN_MS);
	ns->retry_ms = ns->retry_min;
	ns->timer = loop_timer_new(l, ns_due, ns);
	/* a digest covers digest-interval; what waits from before a restart
	   goes with the first one */
	loop_timer_at(ns->timer, 0);
	*out = ns;
	return 0;
}

/* ns_end - the mail's handle and transfer state gone */
static void ns_end(struct notify_sender *ns)
{
	if (ns->easy) {
		multi_remove(ns->m, ns->easy);	/* when still under way */
		curl_easy_cleanup(ns->easy);
		ns->easy = NULL;
	}
	notify_smtp_free(ns->xfer);
	ns->xfer = NULL;
}

static int ns_drop_sent(struct notify_sender *ns);

void notify_sender_free(struct notify_sender *ns)
{
	if (!ns)
		return;
	/* items mailed whose drop the state refused: a last try, else the
	   sender made at a reload (or the next start) mails them again */
	(void)ns_drop_sent(ns);
	if (ns->asking && ns->have_camp && ns->camp.cancel)
		ns->camp.cancel(ns->camp.ctx, ns);
	ns_end(ns);
	loop_timer_free(ns->timer);
	if (ns->campaigns)
		g_hash_table_destroy(ns->campaigns);
	g_free(ns->items);
	g_free(ns);
}

void notify_sender_adopt(struct notify_sender *ns,
			 const struct notify_sender *old)
{
	int64_t left, interval;

	if (!ns || !old)
		return;
	if (old->sent_upto > ns->sent_upto)
		ns->sent_upto = old->sent_upto;
	if (g_strcmp0(ns->cfg->notify_smtp, old->cfg->notify_smtp) != 0)
		return;		/* another relay: tried at once, its own refusals */
	/* the same relay: the next mail when the old sender would have sent
	   it (a reload, as logrotate makes each night, mails nothing early:
	   neither a digest before its interval nor a try during a backoff),
	   but no later than a whole new interval */
	left = loop_timer_left(old->timer);
	interval = ns_interval_ms(ns);
	if (left > 0) {
		if (interval && left > interval)
			left = interval;
		loop_timer_at(ns->timer, left);
	}
	ns->refused_time = old->refused_time;
	memcpy(ns->refused_addr, old->refused_addr, sizeof(ns->refused_addr));
	ns->refused_n = old->refused_n;
	ns->solo = old->solo;
	ns->solo_left = old->solo_left;
	ns->retry_ms = old->retry_ms;
}

bool notify_sender_busy(const struct notify_sender *ns)
{
	return ns && (ns->easy || ns->asking);
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

	/* a provider's notice, an incident and an alert carry their own
	   text */
	if (strncmp(it->kind, "provider", sizeof(it->kind)) == 0 ||
	    strncmp(it->kind, "incident", sizeof(it->kind)) == 0 ||
	    strncmp(it->kind, "alert", sizeof(it->kind)) == 0)
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
		rc = notify_queue_peek(ns->st, txn, ns->items,
				       ns->solo ? 1 : ns->cap, &ns->n,
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

/* ns_missing - the first item whose campaign details are not known yet
   (its key into KEY), or NULL */
static struct notify_item *ns_missing(struct notify_sender *ns, char *key,
				      size_t len)
{
	size_t i;

	for (i = 0; i < ns->n; i++)
		if (ns_campaign_key(&ns->items[i], key, len) &&
		    !g_hash_table_contains(ns->campaigns, key))
			return &ns->items[i];
	return NULL;
}

/* ns_remember - INFO (NULL: could not be read) of campaign KEY */
static void ns_remember(struct notify_sender *ns, const char *key,
			const struct provider_campaign *info)
{
	struct provider_campaign *c = g_new0(struct provider_campaign, 1);

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
		const struct provider_campaign *c;

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

/* ns_drop_txn - the items up to the last one sent off the queue
   (state_write_fn) */
static int ns_drop_txn(struct state *st, MDB_txn *txn, void *arg)
{
	return notify_queue_drop(st, txn, *(const uint64_t *)arg);
}

/* ns_sent - the server took the mail: drop its items; 0 or -errno (they
   are remembered as mailed, and taken off before the queue is read
   again: ns_drop_sent) */
static int ns_sent(struct notify_sender *ns)
{
	char show[1100];
	int rc;

	rc = state_write(ns->st, ns_drop_txn, &ns->last);
	if (rc) {
		ns->sent_upto = ns->last;
		log_error("notify", "mail sent, but its %zu items could not "
			  "be taken off the queue (%s): tried again in %d s, "
			  "nothing mailed meanwhile (a restart before mails "
			  "them again)", ns->n, state_strerror(rc),
			  (int)(ns->retry_min / 1000));
	} else
		log_info("notify", "mailed %zu %s to %s", ns->n,
			 ns->n == 1 ? "item" : "items",
			 url_show(ns->cfg->notify_smtp, show, sizeof(show)));
	return rc;
}

/* ns_campaign_got - the details asked for (NULL: not readable, ERR says
   why); the timer goes on with the mail */
static void ns_campaign_got(void *arg, const struct provider_campaign *info,
			    const char *err)
{
	struct notify_sender *ns = arg;

	ns->asking = false;
	if (!info)
		log_warn("notify", "campaign %s: %s", ns->ask_key,
			 err && *err ? err : "cannot be read");
	ns_remember(ns, ns->ask_key, info);
	if (!ns->in_ask)
		loop_timer_at(ns->timer, 0);
}

/* ns_ask_next - ask for the next campaign the items lack; true when an
   answer is awaited, false when every campaign is known (or cannot be) */
static bool ns_ask_next(struct notify_sender *ns)
{
	struct notify_item *it;
	char key[128];
	int rc;

	if (!ns->have_camp)
		return false;
	while ((it = ns_missing(ns, key, sizeof(key))) != NULL) {
		g_strlcpy(ns->ask_key, key, sizeof(ns->ask_key));
		ns->asking = true;
		ns->in_ask = true;
		rc = ns->camp.ask(ns->camp.ctx, it->provider, it->campaign_uid,
				  ns_campaign_got, ns);
		ns->in_ask = false;
		if (rc != 0) {		/* no provider gives its details */
			ns->asking = false;
			ns_remember(ns, key, NULL);
		}
		if (ns->asking)
			return true;
	}
	return false;
}

/* ns_flush_end - a flush is over with RC */
static void ns_flush_end(struct notify_sender *ns, int rc)
{
	notify_flushed_fn *done = ns->flushed;

	ns->flushed = NULL;
	if (done)
		done(ns->flushed_arg, rc, ns->flushed_items);
}

/* ns_later - nothing can be done now (RC): look again in DELAY_MS, or end
   the flush */
static void ns_later(struct notify_sender *ns, int64_t delay_ms, int rc)
{
	if (ns->flushed)
		ns_flush_end(ns, rc);
	else
		loop_timer_at(ns->timer, delay_ms);
}

static multi_done_fn ns_smtp_done;

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
		log_error("notify", "cannot send: out of memory (libcurl); "
			  "tried again later");
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
	if (multi_add(ns->m, ns->easy, ns_smtp_done, ns, err,
		      sizeof(err)) != 0) {
		log_error("notify", "cannot send: %s", err);
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

/* ns_refused - the prepared mail was refused for good (ERR says how):
   counted; at the NS_REFUSED_MAX-th refusal of the same mail, one of
   several items is sent alone from now on, and one item alone is taken
   off the queue (logged whole).  True when the next mail may go at once */
static bool ns_refused(struct notify_sender *ns, const char *err)
{
	const struct notify_item *it = &ns->items[0];
	int rc;

	if (ns->refused_time != it->time ||
	    strcmp(ns->refused_addr, it->addr) != 0) {
		ns->refused_time = it->time;
		g_strlcpy(ns->refused_addr, it->addr,
			  sizeof(ns->refused_addr));
		ns->refused_n = 0;
	}
	if (++ns->refused_n < NS_REFUSED_MAX)
		return false;
	ns->refused_n = 0;
	if (ns->n > 1) {
		ns->solo = true;
		ns->solo_left = ns->n;
		log_error("notify", "%s; the mail of %zu items was refused %d "
			  "times: they go one mail each, to find the one "
			  "refused", err, ns->n, NS_REFUSED_MAX);
		return true;
	}
	rc = state_write(ns->st, ns_drop_txn, &ns->last);
	if (rc) {
		log_error("notify", "cannot take a refused item off the queue "
			  "(%s)", state_strerror(rc));
		return false;
	}
	if (ns->solo && ns->solo_left && --ns->solo_left == 0)
		ns->solo = false;
	log_error("notify", "dropped the %s item of %s (%s; %s): the server "
		  "refused its mail %d times (%s)", it->kind, it->addr,
		  it->source, it->results, NS_REFUSED_MAX, err);
	return true;
}

/* ns_smtp_done - the mail's transfer ended with RES */
static void ns_smtp_done(CURL *easy, CURLcode res, void *arg)
{
	struct notify_sender *ns = arg;
	int64_t interval = ns->cfg->digest_interval * 1000, delay;
	char err[2048], show[1100];
	long code = 0;
	bool solo;
	int rc;

	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
	rc = notify_smtp_finish(ns->xfer, res, code, err, sizeof(err));
	if (rc == 0 && notify_smtp_refused(ns->xfer, err, sizeof(err)) > 0)
		log_warn("notify", "%s refused %s: they did not get the mail "
			 "of %zu items the other recipients got (a [notify] "
			 "to the relay does not know?)",
			 url_show(ns->cfg->notify_smtp, show, sizeof(show)),
			 err, ns->n);
	ns_end(ns);
	ns->prepared = false;	/* sent or not, the queue is read again */
	if (rc) {
		if (ns->flushed && rc == -EBADMSG) {
			/* refused for its content: counted as in the worker,
			   tried again at once (a filter answers the same each
			   time) until the one refused item is found and
			   dropped; the count lives as long as the run */
			if (ns_refused(ns, err)) {
				loop_timer_at(ns->timer, 0);
				return;
			}
			if (ns->refused_n > 0) {
				log_error("notify", "%s; %zu items: tried again "
					  "(%u of %d)", err, ns->n,
					  ns->refused_n + 1, NS_REFUSED_MAX);
				loop_timer_at(ns->timer, 0);
				return;
			}
			/* the refused item could not be taken off the queue
			   (logged): the state's, left for the next run */
		}
		if (ns->flushed) {
			log_error("notify", "%s; %zu items stay queued for the "
				  "next run", err, ns->n);
			ns_flush_end(ns, rc);
			return;
		}
		/* refused for good: again after the digest's interval (in
		   event mode the least retry), counted by ns_refused */
		delay = rc == -EAGAIN ? ns->retry_ms : ns_interval_ms(ns);
		if (delay < ns->retry_min)
			delay = ns->retry_min;
		if (rc == -EBADMSG && ns_refused(ns, err)) {
			loop_timer_at(ns->timer, 0);	/* on at once */
			return;
		}
		log_error("notify", "%s; %zu items stay queued, next try in "
			  "%lld s", err, ns->n, (long long)(delay / 1000));
		if (rc == -EAGAIN && ns->retry_ms < interval)
			ns->retry_ms = MIN(ns->retry_ms * 2, interval);
		loop_timer_at(ns->timer, delay);
		return;
	}
	ns->retry_ms = ns->retry_min;
	ns->refused_n = 0;
	solo = ns->solo;
	if (ns->solo && ns->solo_left && --ns->solo_left == 0)
		ns->solo = false;
	rc = ns_sent(ns);
	if (ns->flushed) {
		if (rc) {
			ns_flush_end(ns, rc);
			return;
		}
		ns->flushed_items += ns->n;
		loop_timer_at(ns->timer, 0);
		return;
	}
	/* more than one mail's worth waits: on at once (not when the state
	   refused the drop: the same items would be read again) */
	if (rc)
		loop_timer_at(ns->timer, ns->retry_min);
	else	/* one item a mail after a refusal: the next at once */
		loop_timer_at(ns->timer, solo || ns->n == ns->cap ? 0 :
						ns_interval_ms(ns));
}

/* ns_drop_sent - the items of a mail sent whose drop failed, taken off
   the queue now; 0 or -errno (logged) */
static int ns_drop_sent(struct notify_sender *ns)
{
	int rc;

	if (!ns->sent_upto)
		return 0;
	rc = state_write(ns->st, ns_drop_txn, &ns->sent_upto);
	if (rc) {
		log_error("notify", "the items mailed already still cannot be "
			  "taken off the queue (%s): tried again in %d s",
			  state_strerror(rc), (int)(ns->retry_min / 1000));
		return rc;
	}
	ns->sent_upto = 0;
	return 0;
}

/* ns_due - the timer: read the queue, ask for the campaigns, send */
static void ns_due(struct loop *l, void *arg)
{
	struct notify_sender *ns = arg;
	int64_t interval = ns_interval_ms(ns);
	int rc;

	(void)l;
	if (ns->easy || ns->asking)
		return;		/* its callback goes on */
	rc = ns_drop_sent(ns);
	if (rc) {
		ns_later(ns, ns->retry_min, rc);
		return;
	}
	if (!ns->prepared) {
		rc = ns_prepare(ns);
		if (rc) {
			ns_later(ns, ns->retry_min, rc);
			return;
		}
		if (!ns->prepared) {	/* nothing waits */
			ns_later(ns, interval ? interval : NS_IDLE_MS, 0);
			return;
		}
	}
	/* the campaigns the items name first, then the mail */
	if (ns_ask_next(ns))
		return;
	rc = ns_start(ns);
	if (rc) {
		ns->prepared = false;
		ns_later(ns, ns->retry_min, rc);
	}
}

void notify_sender_flush(struct notify_sender *ns, notify_flushed_fn *done,
			 void *arg)
{
	ns->flushed = done;
	ns->flushed_arg = arg;
	ns->flushed_items = 0;
	loop_timer_at(ns->timer, 0);
}
