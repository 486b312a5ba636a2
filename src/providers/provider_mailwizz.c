/*
 * provider_mailwizz.c - the MailWizz provider: unsubscribe an address from
 * every list, record a bounce on a campaign (API v1 signed, or v2 key).
 *
 * Steps (action.step):
 *   OP_UNSUBSCRIBE, OP_COMPLAINT
 *     0  PUT lists/subscribers/unsubscribe-by-email-from-all-lists (EMAIL):
 *        every membership of the address, whatever its status, archived
 *        lists included (MailWizz 1.4.4 and later); 404 (an older
 *        MailWizz without that call): on to 5
 *     5  GET lists/subscribers/search-by-email-in-all-lists?EMAIL=  -> one
 *        child (step 1) per membership not unsubscribed or blacklisted
 *        (this search answers at most 100 and leaves archived lists out:
 *        the fallback only)
 *     6  after 0 or 5 succeeded, for an address whose domain has a
 *        Unicode form (addr_unicode): GET search-by-email-in-all-lists
 *        with that form -> one child (step 1) per membership, as 5.
 *        MailWizz keeps an address as it was typed (its validator takes
 *        a Unicode domain, converting it only to check it) and compares
 *        it with SQL "=": a subscriber stored as "hans@b\xc3\xbccher.de" is
 *        not found by "hans@xn--bcher-kva.de", the form the mail went to.
 *        Not the unsubscribe from all lists: the column's collation
 *        ignores accents, so that form would unsubscribe
 *        "hans@bucher.de" too; a search names each record's address,
 *        and only those that are this address become children (at 5
 *        too).  422 (a MailWizz that refuses Unicode domains): done.
 *     1  PUT lists/{list}/subscribers/{subscriber}/unsubscribe  (404: gone)
 *     2  POST campaigns/{campaign}/track-unsubscribe/{subscriber}, then 1
 *        (404: on to 1 as well); with no list known, done after it
 *     3  GET campaigns/{campaign} (cached: no call) for the list of an
 *        unsubscribe address that named the campaign but not the list
 *     4  GET lists/{list}/subscribers/{subscriber}, after 1, for a
 *        complaint whose report hid the address: the address MailWizz
 *        knows goes to a->resolved, and the dispatcher records the
 *        complaint under it too (a masked address is not taken)
 *   An action for a "uid:" key (an unsubscribe mail, or a report that
 *   hid the address: only the ids are known) has no address: it starts
 *   at 1 with the ids it carries, at 2 for an unsubscribe mail that named
 *   its campaign (the unsubscribe is then recorded on the campaign too).
 *   OP_BOUNCE, and OP_COMPLAINT with bounce_type "hard" (complaint-action
 *   = blacklist: the blacklisting bounce first, then the unsubscribe)
 *     0  GET campaigns/{campaign} -> its list (cached: no call); when the
 *        record carried the subscriber UID (X-Mw-Subscriber-Uid) no
 *        call either: on to step 3
 *     1  GET lists/subscribers/search-by-email-in-all-lists?EMAIL= -> the
 *        subscriber on the campaign's list (a record that names another
 *        address is not it); not there, for an address with a Unicode
 *        form: 5
 *     5  as 1 with the address's Unicode form (see step 6 above)
 *     2  POST campaigns/{campaign}/bounces (422 "already ...": done;
 *        a 422 that refuses the bounce, its bounce log's field errors
 *        or "Invalid bounce type!", ends the steps as a 404 does: with
 *        a notice, or a dead letter where nothing else unsubscribes)
 *     3  as 2 with the record's subscriber UID.  MailWizz finds that
 *        subscriber by its uid alone, in any list: the 201 answer names
 *        its address, and one that is not the action's (a uid of another
 *        subscriber, or one whose address changed) is reported as a
 *        notice and the bounce goes the way of step 0 without the uid;
 *        404 (no such subscriber) goes that way too, and so does every
 *        422 ("already marked as bounced", a refusal): it says only
 *        what the uid's subscriber has, and names nobody
 *     4  PUT lists/subscribers/unsubscribe-by-email-from-all-lists after
 *        the bounce that suppressed the address (ACTION_F_SUPPRESS) at a
 *        provider whose hard-action also unsubscribes, and after a
 *        complaint's bounce: MailWizz blacklists only a confirmed
 *        subscriber (and only where new blacklist records are allowed),
 *        so every other membership (unconfirmed, on another list) is
 *        unsubscribed here, whatever the bounce did; the bounce comes
 *        first so that the blacklisting still sees the subscriber
 *        confirmed.  404 (older MailWizz): an unsubscribe child at
 *        its step 5 does it.  Done: an unsubscribe child at its step 6
 *        for the Unicode form, as after the unsubscribe's 0.
 *   Where no bounce can be recorded (the subscriber is not on the
 *   campaign's list, the campaign is unknown or names no list) a hard
 *   bounce that unsubscribes goes straight to 4; a soft one is done.
 *
 * Error policy.  build() refuses for good (-1) what can never be sent: an
 * unknown op or step, a UID that is not 13 of [a-z0-9] (nothing unchecked
 * reaches a URL; the address is URL-encoded), a URL or header too long.
 * parse() sees only answers below 500 but 429: 2xx is judged by step; 404
 * as above; 408 is retried; 400, 401 and 403 pause the provider (MailWizz
 * answers 400 for a bad key, signature, expired timestamp, refused IP or
 * disabled account: nothing an action can heal, and the same for every
 * action); every other answer is a permanent failure whose message
 * carries the HTTP status and MailWizz's "error" text.  A 2xx body that is
 * not JSON at all where its data is needed is retried (a proxy page or a
 * cut answer heals; max-age bounds it); JSON of the wrong shape is a
 * permanent failure (an API that does not match will not heal).  A
 * membership whose UIDs are malformed still becomes a child, which build()
 * then fails, so the problem shows in the dead table instead of vanishing.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "addr.h"
#include "errmsg.h"
#include "mail_events.h"
#include "mailwizz_route.h"
#include "http_excerpt.h"
#include "mailwizz_sign.h"
#include "timeparse.h"
#include "provider.h"

#define MW_UID_LEN 13
#define MW_MESSAGE_MAX 250	/* bytes of a bounce message (MailWizz: chars) */
#define MW_CACHE_MAX 10000	/* campaign -> list entries before a clear */
#define MW_SPAWN_MAX 1000	/* memberships one answer may name */
#define MW_KEY_MAX 256		/* bytes of a configured key */
#define MW_BASE_MAX 1024	/* bytes of the endpoint */

enum {
	MW_UNSUB_ALL = 0,
	MW_UNSUB_ONE = 1,
	MW_UNSUB_TRACK = 2,
	MW_UNSUB_CAMPAIGN = 3,
	MW_UNSUB_WHO = 4,
	MW_UNSUB_SEARCH = 5,
	MW_UNSUB_SEARCH_U = 6,
	MW_BOUNCE_CAMPAIGN = 0,
	MW_BOUNCE_SEARCH = 1,
	MW_BOUNCE_POST = 2,
	MW_BOUNCE_HINTED = 3,
	MW_BOUNCE_UNSUB = 4,
	MW_BOUNCE_SEARCH_U = 5,
};

#define MW_ALL_LISTS "lists/subscribers/unsubscribe-by-email-from-all-lists"
#define MW_SEARCH_ALL "lists/subscribers/search-by-email-in-all-lists"

struct mw_priv {
	GHashTable *campaigns;	/* campaign uid -> list uid (g_strdup'ed) */
	char base[MW_BASE_MAX];	/* endpoint without trailing '/' */
	int version;		/* 1 signed, 2 api key */
};

/* one call to make: method, path under the endpoint, GET and body fields */
struct mw_call {
	const char *method;
	char path[256];
	const char *get_keys[2], *get_vals[2];
	size_t n_get;
	const char *keys[4], *vals[4];	/* body fields */
	size_t n;
	char email[ADDR_UNICODE_MAX + 1];	/* the address's Unicode form */
};

/* mw_uid_valid - S (at most CAP bytes) is 13 of [a-z0-9] */
static int mw_uid_valid(const char *s, size_t cap)
{
	size_t i;

	if (strnlen(s, cap) != MW_UID_LEN)
		return 0;
	for (i = 0; i < MW_UID_LEN; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
			return 0;
	return 1;
}

/* mw_key_valid - a configured key: 1..MW_KEY_MAX printable ASCII, no space */
static int mw_key_valid(const char *s)
{
	size_t i, len;

	if (s == NULL)
		return 0;
	len = strnlen(s, MW_KEY_MAX + 1);
	if (len == 0 || len > MW_KEY_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

/* mw_init - check the config, keep the endpoint and an empty cache */
static int mw_init(struct provider *p, char *err, size_t errlen)
{
	const struct config_provider *cfg = p->cfg;
	struct mw_priv *mp = NULL;
	const char *ep = cfg->endpoint;
	size_t len, i;
	int rc = -1;

	if (ep == NULL || *ep == '\0') {
		snprintf(err, errlen, "endpoint is not set (the API base URL, "
			 "e.g. https://mw.example.com/api)");
		goto out;
	}
	len = strnlen(ep, MW_BASE_MAX);
	if (len >= MW_BASE_MAX) {
		snprintf(err, errlen, "endpoint is longer than %d bytes",
			 MW_BASE_MAX - 1);
		goto out;
	}
	if (g_ascii_strncasecmp(ep, "http://", 7) != 0 &&
	    g_ascii_strncasecmp(ep, "https://", 8) != 0) {
		snprintf(err, errlen, "endpoint '%s' is not an http:// or "
			 "https:// URL", ep);
		goto out;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)ep[i];

		if (c <= 0x20 || c >= 0x7f || c == '?' || c == '#') {
			snprintf(err, errlen, "endpoint '%s' holds a space, "
				 "control character, '?' or '#'; give the "
				 "API base URL only", ep);
			goto out;
		}
	}
	if (cfg->api_version == 1) {
		if (!mw_key_valid(cfg->public_key) ||
		    !mw_key_valid(cfg->private_key)) {
			snprintf(err, errlen, "api-version 1 needs public-key "
				 "and private-key (printable, no spaces, at "
				 "most %d bytes)", MW_KEY_MAX);
			goto out;
		}
	} else if (cfg->api_version == 2) {
		if (!mw_key_valid(cfg->api_key)) {
			snprintf(err, errlen, "api-version 2 needs api-key "
				 "(printable, no spaces, at most %d bytes)",
				 MW_KEY_MAX);
			goto out;
		}
	} else {
		snprintf(err, errlen, "api-version %d is not 1 or 2",
			 cfg->api_version);
		goto out;
	}
	mp = g_new0(struct mw_priv, 1);
	memcpy(mp->base, ep, len);
	while (len > 0 && mp->base[len - 1] == '/')
		len--;
	mp->base[len] = '\0';
	mp->version = cfg->api_version;
	mp->campaigns = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					      g_free);
	p->priv = mp;
	rc = 0;
out:
	return rc;
}

/* mw_release - drop the cache and the private state */
static void mw_release(struct provider *p)
{
	struct mw_priv *mp = p->priv;

	if (mp == NULL)
		return;
	g_hash_table_destroy(mp->campaigns);
	g_free(mp);
	p->priv = NULL;
}

/* mw_header - add a header or say which did not fit */
static int mw_header(struct http_req *req, const char *name,
		     const char *value, char *err, size_t errlen)
{
	if (http_req_header(req, name, value) != 0) {
		snprintf(err, errlen, "cannot add header %s (too long or too "
			 "many headers)", name);
		return -1;
	}
	return 0;
}

/* mw_request - turn CALL into REQ: URL, body, auth and transport headers */
static int mw_request(const struct provider *p, const struct mw_call *call,
		      int64_t now, struct http_req *req, char *err,
		      size_t errlen)
{
	const struct mw_priv *mp = p->priv;
	const struct config_provider *cfg = p->cfg;
	GString *url = g_string_sized_new(256);
	GString *body = NULL;
	int has_body = strcmp(call->method, "GET") != 0;
	int rc = -1;

	g_string_append(url, mp->base);
	g_string_append_c(url, '/');
	g_string_append(url, call->path);
	if (call->n_get > 0) {
		g_string_append_c(url, '?');
		if (mw_build_query(url, call->get_keys, call->get_vals,
				   call->n_get) != 0)
			goto bad_query;
	}
	if (url->len >= sizeof(req->url)) {
		snprintf(err, errlen, "request URL would be %zu bytes, more "
			 "than %zu", url->len, sizeof(req->url) - 1);
		goto out;
	}
	snprintf(req->method, sizeof(req->method), "%s", call->method);
	memcpy(req->url, url->str, url->len + 1);
	if (has_body) {
		body = g_string_sized_new(128);
		if (mw_build_query(body, call->keys, call->vals, call->n) != 0)
			goto bad_query;
	}

	if (mw_header(req, "Accept", "application/json", err, errlen) != 0)
		goto out;
	if (mp->version == 1) {
		const char *keys[MW_QUERY_MAX], *vals[MW_QUERY_MAX];
		char ts[24], sig[MW_SIGN_HEX_LEN + 1];
		size_t n = 0, i;

		snprintf(ts, sizeof(ts), "%lld", (long long)now);
		keys[n] = "X-MW-PUBLIC-KEY", vals[n++] = cfg->public_key;
		keys[n] = "X-MW-REMOTE-ADDR", vals[n++] = "";
		keys[n] = "X-MW-TIMESTAMP", vals[n++] = ts;
		for (i = 0; has_body && i < call->n; i++)
			keys[n] = call->keys[i], vals[n++] = call->vals[i];
		if (mw_sign(req->method, req->url, keys, vals, n,
			    cfg->private_key, sig) != 0) {
			snprintf(err, errlen, "cannot sign the request to %s",
				 req->url);
			goto out;
		}
		/* X-MW-REMOTE-ADDR is signed as empty and not sent */
		if (mw_header(req, "X-MW-PUBLIC-KEY", cfg->public_key, err,
			      errlen) != 0 ||
		    mw_header(req, "X-MW-TIMESTAMP", ts, err, errlen) != 0 ||
		    mw_header(req, "X-MW-SIGNATURE", sig, err, errlen) != 0)
			goto out;
	} else if (mw_header(req, "X-API-KEY", cfg->api_key, err, errlen) != 0) {
		goto out;
	}
	if ((strcmp(call->method, "PUT") == 0 ||
	     strcmp(call->method, "DELETE") == 0) &&
	    mw_header(req, "X-HTTP-Method-Override", call->method, err,
		      errlen) != 0)
		goto out;
	if (has_body) {
		if (mw_header(req, "Content-Type",
			      "application/x-www-form-urlencoded", err,
			      errlen) != 0)
			goto out;
		/* an empty body stays non-NULL: sent with Content-Length: 0 */
		req->body_len = body->len;
		req->body = g_string_free(body, FALSE);
		body = NULL;
	}
	rc = 0;
	goto out;
bad_query:
	snprintf(err, errlen, "cannot encode the query of %s %s",
		 call->method, call->path);
out:
	if (body != NULL)
		g_string_free(body, TRUE);
	g_string_free(url, TRUE);
	if (rc != 0)
		http_req_clear(req);
	return rc;
}

/* mw_path - format CALL's path; -1 with ERR when it does not fit */
static int mw_path(struct mw_call *call, char *err, size_t errlen,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int mw_path(struct mw_call *call, char *err, size_t errlen,
		   const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(call->path, sizeof(call->path), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(call->path)) {
		snprintf(err, errlen, "request path too long");
		return -1;
	}
	return 0;
}

/* mw_check_uid - -1 with ERR naming WHAT when ID is not a MailWizz UID */
static int mw_check_uid(const char *what, const char *id, size_t cap,
			char *err, size_t errlen)
{
	char shown[ACTION_ID_MAX];
	size_t i, len = strnlen(id, cap);

	if (mw_uid_valid(id, cap))
		return 0;
	if (len >= sizeof(shown))
		len = sizeof(shown) - 1;
	for (i = 0; i < len; i++)	/* never echo controls into a log */
		shown[i] = g_ascii_isprint(id[i]) ? id[i] : '?';
	shown[len] = '\0';
	snprintf(err, errlen, "%s '%s' is not a MailWizz UID (13 of "
		 "[a-z0-9]); refusing to put it in a URL", what, shown);
	return -1;
}

/* mw_check_addr - -1 with ERR when A's address is empty or unterminated */
static int mw_check_addr(const struct action *a, char *err, size_t errlen)
{
	size_t len = strnlen(a->addr, sizeof(a->addr));

	if (len == 0 || len >= sizeof(a->addr)) {
		snprintf(err, errlen, "action has no valid address");
		return -1;
	}
	return 0;
}

/* mw_clean - valid UTF-8 of S (LEN bytes), controls as one space, trimmed */
static void mw_clean(GString *out, const char *s, size_t len)
{
	gchar *valid = g_utf8_make_valid(s, (gssize)len);
	const char *c;
	int space = 1;	/* drops leading blanks and collapses runs */

	for (c = valid; *c; c++) {
		unsigned char u = (unsigned char)*c;

		if (u < 0x20 || u == 0x7f || u == ' ') {
			if (!space)
				g_string_append_c(out, ' ');
			space = 1;
		} else {
			g_string_append_c(out, *c);
			space = 0;
		}
	}
	if (out->len > 0 && out->str[out->len - 1] == ' ')
		g_string_truncate(out, out->len - 1);
	g_free(valid);
}

/*
 * mw_message - the bounce message of A into OUT (CAP > MW_MESSAGE_MAX):
 * the DSN text cleaned, or "bounced: <category>", cut to MW_MESSAGE_MAX
 * bytes at a UTF-8 character boundary.
 */
static void mw_message(const struct action *a, char *out, size_t cap)
{
	GString *m = g_string_sized_new(256);
	size_t cut;

	mw_clean(m, a->ev.dsn_diag, strnlen(a->ev.dsn_diag,
					     sizeof(a->ev.dsn_diag)));
	if (m->len == 0) {
		mw_clean(m, a->ev.category, strnlen(a->ev.category,
						    sizeof(a->ev.category)));
		g_string_prepend(m, "bounced: ");
		if (m->len == strlen("bounced: "))
			g_string_append(m, "unknown");
	}
	cut = m->len;
	if (cut > MW_MESSAGE_MAX) {
		cut = MW_MESSAGE_MAX;
		/* back off the continuation bytes of a cut character */
		while (cut > 0 && ((unsigned char)m->str[cut] & 0xc0) == 0x80)
			cut--;
	}
	if (cut >= cap)
		cut = cap - 1;
	memcpy(out, m->str, cut);
	out[cut] = '\0';
	g_string_free(m, TRUE);
}

/* mw_member_call - METHOD lists/{list}/subscribers/{subscriber}SUFFIX of
   A's ids, checked; 0 or -1 with ERR */
static int mw_member_call(struct mw_call *call, const struct action *a,
			  const char *method, const char *suffix, char *err,
			  size_t errlen)
{
	if (mw_check_uid("list", a->list_id, sizeof(a->list_id), err,
			 errlen) != 0 ||
	    mw_check_uid("subscriber", a->subscriber_id,
			 sizeof(a->subscriber_id), err, errlen) != 0)
		return -1;
	call->method = method;
	return mw_path(call, err, errlen, "lists/%s/subscribers/%s%s",
		       a->list_id, a->subscriber_id, suffix);
}

/* mw_unsub_next - the step after the list is known: record the
   unsubscribe on the campaign first when A is an unsubscribe mail's */
static uint8_t mw_unsub_next(const struct action *a)
{
	return a->klass == CLASS_UNSUB &&
			       mw_uid_valid(a->campaign_id,
					    sizeof(a->campaign_id)) ?
		       MW_UNSUB_TRACK : MW_UNSUB_ONE;
}

/* mw_unsub_by_ids - an action for a "uid:" key has no address: the
   subscriber its ids name, on the list named or the campaign's list */
static int mw_unsub_by_ids(struct provider *p, struct action *a, char *err,
			   size_t errlen)
{
	struct mw_priv *mp = p->priv;
	const char *list;

	if (!mw_uid_valid(a->list_id, sizeof(a->list_id))) {
		if (!mw_uid_valid(a->campaign_id, sizeof(a->campaign_id))) {
			snprintf(err, errlen, "subscriber known by its uid "
				 "only, and neither its list nor a campaign "
				 "is known");
			return -1;
		}
		list = g_hash_table_lookup(mp->campaigns, a->campaign_id);
		if (list == NULL) {
			a->step = MW_UNSUB_CAMPAIGN;
			return 1;
		}
		snprintf(a->list_id, sizeof(a->list_id), "%s", list);
	}
	a->step = mw_unsub_next(a);
	return 1;
}

/* mw_unicode - the Unicode form of A's address into OUT of CAP
   (ADDR_UNICODE_MAX + 1): true when it has one */
static bool mw_unicode(const struct action *a, char *out, size_t cap)
{
	return !mail_key_is_uid(a->addr) &&
	       addr_unicode(a->addr, out, cap) > 0;
}

/* mw_call_email - CALL is METHOD PATH with A's address as EMAIL (a GET
   query field, else a body field), in its Unicode form when UNICODE;
   0 or -1 with ERR */
static int mw_call_email(struct mw_call *call, const struct action *a,
			 const char *method, const char *path, bool unicode,
			 char *err, size_t errlen)
{
	const char *email = a->addr;

	if (mw_check_addr(a, err, errlen) != 0 ||
	    mw_path(call, err, errlen, "%s", path) != 0)
		return -1;
	if (unicode) {
		if (!mw_unicode(a, call->email, sizeof(call->email))) {
			snprintf(err, errlen, "the domain of %s has no "
				 "Unicode form", a->addr);
			return -1;
		}
		email = call->email;
	}
	call->method = method;
	if (strcmp(method, "GET") == 0) {
		call->get_keys[0] = "EMAIL";
		call->get_vals[0] = email;
		call->n_get = 1;
	} else {
		call->keys[0] = "EMAIL";
		call->vals[0] = email;
		call->n = 1;
	}
	return 0;
}

/* mw_build_unsub - the call of an unsubscribe step */
static int mw_build_unsub(struct provider *p, struct action *a, int64_t now,
			  struct http_req *req, char *err, size_t errlen)
{
	struct mw_call call = { 0 };

	switch (a->step) {
	case MW_UNSUB_ALL:
		if (mail_key_is_uid(a->addr))
			return mw_unsub_by_ids(p, a, err, errlen);
		if (mw_call_email(&call, a, "PUT", MW_ALL_LISTS, false, err,
				  errlen) != 0)
			return -1;
		break;
	case MW_UNSUB_SEARCH:
	case MW_UNSUB_SEARCH_U:
		if (mw_call_email(&call, a, "GET", MW_SEARCH_ALL,
				  a->step == MW_UNSUB_SEARCH_U, err,
				  errlen) != 0)
			return -1;
		break;
	case MW_UNSUB_ONE:
		if (mw_member_call(&call, a, "PUT", "/unsubscribe", err,
				   errlen) != 0)
			return -1;
		break;
	case MW_UNSUB_TRACK:
		if (mw_check_uid("campaign", a->campaign_id,
				 sizeof(a->campaign_id), err, errlen) != 0 ||
		    mw_check_uid("subscriber", a->subscriber_id,
				 sizeof(a->subscriber_id), err, errlen) != 0)
			return -1;
		call.method = "POST";
		if (mw_path(&call, err, errlen,
			    "campaigns/%s/track-unsubscribe/%s", a->campaign_id,
			    a->subscriber_id) != 0)
			return -1;
		call.keys[0] = "reason";
		call.vals[0] = a->klass == CLASS_COMPLAINT ?
				       "Complaint (feedback loop report)" :
				       "Unsubscribe mail";
		call.n = 1;
		break;
	case MW_UNSUB_WHO:
		if (mw_member_call(&call, a, "GET", "", err, errlen) != 0)
			return -1;
		break;
	case MW_UNSUB_CAMPAIGN:
		if (mw_check_uid("campaign", a->campaign_id,
				 sizeof(a->campaign_id), err, errlen) != 0)
			return -1;
		call.method = "GET";
		if (mw_path(&call, err, errlen, "campaigns/%s",
			    a->campaign_id) != 0)
			return -1;
		break;
	default:
		snprintf(err, errlen, "unknown step %u of %s", a->step,
			 a->op == OP_COMPLAINT ? "complaint" : "unsubscribe");
		return -1;
	}
	return mw_request(p, &call, now, req, err, errlen);
}

/* mw_build_bounce - the call of a bounce step (campaign list from cache) */
static int mw_build_bounce(struct provider *p, struct action *a, int64_t now,
			   struct http_req *req, char *err, size_t errlen)
{
	struct mw_priv *mp = p->priv;
	struct mw_call call = { 0 };
	char message[MW_MESSAGE_MAX + 1];
	const char *list;

	if ((a->step != MW_BOUNCE_UNSUB &&
	     mw_check_uid("campaign", a->campaign_id, sizeof(a->campaign_id),
			  err, errlen) != 0) ||
	    mw_check_addr(a, err, errlen) != 0)
		return -1;
	switch (a->step) {
	case MW_BOUNCE_CAMPAIGN:
		if (mw_uid_valid(a->subscriber_id, sizeof(a->subscriber_id))) {
			a->step = MW_BOUNCE_HINTED;
			return 1;
		}
		list = g_hash_table_lookup(mp->campaigns, a->campaign_id);
		if (list != NULL) {
			snprintf(a->list_id, sizeof(a->list_id), "%s", list);
			a->step = MW_BOUNCE_SEARCH;
			return 1;
		}
		call.method = "GET";
		if (mw_path(&call, err, errlen, "campaigns/%s",
			    a->campaign_id) != 0)
			return -1;
		break;
	case MW_BOUNCE_SEARCH:
	case MW_BOUNCE_SEARCH_U:
		if (mw_check_uid("list", a->list_id, sizeof(a->list_id), err,
				 errlen) != 0 ||
		    mw_call_email(&call, a, "GET", MW_SEARCH_ALL,
				  a->step == MW_BOUNCE_SEARCH_U, err,
				  errlen) != 0)
			return -1;
		break;
	case MW_BOUNCE_UNSUB:
		if (mw_call_email(&call, a, "PUT", MW_ALL_LISTS, false, err,
				  errlen) != 0)
			return -1;
		break;
	case MW_BOUNCE_POST:
	case MW_BOUNCE_HINTED:
		if (mw_check_uid("subscriber", a->subscriber_id,
				 sizeof(a->subscriber_id), err, errlen) != 0)
			return -1;
		if (strcmp(a->bounce_type, "hard") != 0 &&
		    strcmp(a->bounce_type, "soft") != 0) {
			snprintf(err, errlen, "bounce type '%.8s' is not hard "
				 "or soft", a->bounce_type);
			return -1;
		}
		mw_message(a, message, sizeof(message));
		call.method = "POST";
		if (mw_path(&call, err, errlen, "campaigns/%s/bounces",
			    a->campaign_id) != 0)
			return -1;
		call.keys[0] = "message", call.vals[0] = message;
		call.keys[1] = "bounce_type", call.vals[1] = a->bounce_type;
		call.keys[2] = "subscriber_uid", call.vals[2] = a->subscriber_id;
		call.n = 3;
		break;
	default:
		snprintf(err, errlen, "unknown step %u of bounce", a->step);
		return -1;
	}
	return mw_request(p, &call, now, req, err, errlen);
}

/* mw_bouncing - does A go through the bounce steps: a bounce record, or
   a complaint whose blacklisting bounce comes first (complaint-action =
   blacklist; not for a subscriber known by its ids only) */
static bool mw_bouncing(const struct action *a)
{
	return a->op == OP_BOUNCE ||
	       (a->op == OP_COMPLAINT && strcmp(a->bounce_type, "hard") == 0 &&
		!mail_key_is_uid(a->addr));
}

/* mw_build - the request for A's current step */
static int mw_build(struct provider *p, struct action *a, int64_t now,
		    struct http_req *req, char *err, size_t errlen)
{
	if (mw_bouncing(a))
		return mw_build_bounce(p, a, now, req, err, errlen);
	switch (a->op) {
	case OP_UNSUBSCRIBE:
	case OP_COMPLAINT:
		return mw_build_unsub(p, a, now, req, err, errlen);
	}
	snprintf(err, errlen, "operation %u is not one MailWizz knows", a->op);
	return -1;
}

/* mw_excerpt - the reason in BODY (http_excerpt.h), or "(empty body)" */
static void mw_excerpt(const struct http_resp *resp, char *out, size_t cap)
{
	if (http_excerpt(resp->body, resp->body ? resp->body_len : 0, out,
			 cap) == 0)
		snprintf(out, cap, "(empty body)");
}

/* mw_error_text - MailWizz's "error": a text, or the errors of a model
   that would not save (shortErrors->getAll(): an object of field ->
   first message; a list of messages is taken too); else the body */
static void mw_error_text(const cJSON *root, const struct http_resp *resp,
			  char *out, size_t cap)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
	const cJSON *f;
	GString *s;

	if (cJSON_IsString(e) && e->valuestring[0] != '\0') {
		http_excerpt(e->valuestring, strlen(e->valuestring), out, cap);
		return;
	}
	if ((!cJSON_IsObject(e) && !cJSON_IsArray(e)) || e->child == NULL) {
		mw_excerpt(resp, out, cap);
		return;
	}
	s = g_string_new(NULL);
	cJSON_ArrayForEach(f, e) {
		if (s->len > 0)
			g_string_append(s, "; ");
		if (cJSON_IsObject(e))
			g_string_append_printf(s, "%s: ",
					       f->string ? f->string : "?");
		g_string_append(s, cJSON_IsString(f) ? f->valuestring : "?");
		if (s->len >= 4 * HTTP_EXCERPT_MAX)
			break;
	}
	http_excerpt(s->str, s->len, out, cap);
	g_string_free(s, TRUE);
}

/* mw_refused - "WHAT: HTTP n: error" into ERR and the verdict: RETRY for
   408, PAUSE for what says the keys, signature, clock, address or account
   are refused (400, 401, 403), FAILED for the rest */
static enum provider_result mw_refused(const char *what, const cJSON *root,
				       const struct http_resp *resp,
				       char *err, size_t errlen)
{
	char text[HTTP_EXCERPT_MAX + 1];

	mw_error_text(root, resp, text, sizeof(text));
	snprintf(err, errlen, "%s: HTTP %ld: %s", what, resp->status, text);
	switch (resp->status) {
	case 408:
		return PROVIDER_RETRY;
	case 400:
	case 401:
	case 403:
		return PROVIDER_PAUSE;
	}
	return PROVIDER_FAILED;
}

/* mw_validator_takes - would MailWizz's address validator (Yii 1.1's
   CEmailValidator, which every way into a list goes through) take ADDR?
   At most 254 bytes; a local part of ASCII atoms ([A-Za-z0-9] and
   !#$%&'*+/=?^_`{|}~-) joined by single dots; '@'; two labels or more of
   ASCII letters and digits, a hyphen only inside a label.  Addresses
   reach here normalised, their domain in its ASCII (punycode) form. */
static bool mw_validator_takes(const char *addr)
{
	static const char atext[] = "!#$%&'*+/=?^_`{|}~-";
	const char *at = strchr(addr, '@'), *p;
	bool dot = true;	/* before the first character, or after '.' */
	size_t labels = 0, len = 0;

	if (!at || at == addr || strlen(addr) > 254)
		return false;
	for (p = addr; p < at; p++) {
		if (*p == '.' && !dot) {
			dot = true;
			continue;
		}
		if (!g_ascii_isalnum(*p) && !(*p && strchr(atext, *p)))
			return false;
		dot = false;
	}
	if (dot)
		return false;	/* empty, or ends with '.' */
	for (p = at + 1;; p++) {
		if (*p == '.' || *p == '\0') {
			if (len == 0 || p[-1] == '-')
				return false;
			labels++;
			len = 0;
			if (*p == '\0')
				break;
			continue;
		}
		if (!g_ascii_isalnum(*p) && !(*p == '-' && len > 0))
			return false;
		len++;
	}
	return labels >= 2;
}

/* mw_addr_refused - a 422 of a call that carries A's address (WHAT): an
   address MailWizz's validator refuses can be on none of its lists
   (true: the caller is done with it, NOTE, NOTELEN say so); one it takes
   cannot have been refused for itself, so the address did not arrive
   (a proxy that drops the body of a PUT gets "provide the subscriber's
   address" in the customer's language): false, ERR says so, and the
   action fails rather than passing for done.  MailWizz's own 422s here
   are those two texts (List_subscribersController's
   actionSearch_by_email_in_all_lists() and
   actionUnsubscribe_by_email_from_all_lists(): no model is saved, so
   no field errors): any other error names no address problem, and the
   action fails saying so */
static bool mw_addr_refused(const char *what, const struct action *a,
			    const cJSON *root, const struct http_resp *resp,
			    char *note, size_t notelen, char *err,
			    size_t errlen)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
	char text[160], brief[65];	/* brief: room for what follows */

	if (mw_validator_takes(a->addr) && !cJSON_IsString(e)) {
		mw_error_text(root, resp, brief, sizeof(brief));
		snprintf(err, errlen, "%s: HTTP 422: %s: not an answer of "
			 "MailWizz's own (a text, for a missing or invalid "
			 "EMAIL): an extension or a proxy in front of it "
			 "answered; check it", what, brief);
		return false;
	}
	mw_error_text(root, resp, text, sizeof(text));
	if (mw_validator_takes(a->addr)) {
		snprintf(err, errlen, "%s: HTTP 422: %s, for an address "
			 "MailWizz's validator takes: the address did not "
			 "reach it (a proxy in front of it that drops request "
			 "bodies?)", what, text);
		return false;
	}
	errmsg(note, notelen, "MailWizz refuses '%s' as an address (HTTP "
	       "422: %s): no list can hold it", a->addr, text);
	return true;
}

/* mw_success - the 2xx JSON answer of WHAT, or NULL with the verdict set */
static const cJSON *mw_success(const char *what, const cJSON *root,
			       const struct http_resp *resp,
			       enum provider_result *verdict, char *err,
			       size_t errlen)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(root, "status");
	char text[HTTP_EXCERPT_MAX + 1];

	if (root == NULL) {
		mw_excerpt(resp, text, sizeof(text));
		snprintf(err, errlen, "%s: HTTP %ld answer is not JSON: %s",
			 what, resp->status, text);
		*verdict = PROVIDER_RETRY;
		return NULL;
	}
	if (!cJSON_IsString(st) || strcmp(st->valuestring, "success") != 0) {
		mw_error_text(root, resp, text, sizeof(text));
		snprintf(err, errlen, "%s: HTTP %ld but status is not "
			 "success: %s", what, resp->status, text);
		*verdict = PROVIDER_FAILED;
		return NULL;
	}
	return root;
}

/* mw_copy_id - a JSON string into an id field (empty when not a string) */
static void mw_copy_id(char *dst, size_t cap, const cJSON *v)
{
	snprintf(dst, cap, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

/* mw_is_2xx - a success status */
static int mw_is_2xx(long status)
{
	return status >= 200 && status < 300;
}

/* mw_masked - is S an address MailWizz masked ("j**n@d*e.com": the
   customer's group hides addresses)? */
static bool mw_masked(const char *s)
{
	return strchr(s, '*') != NULL;
}

/* mw_email_is - does MailWizz's (display) address SHOWN name ADDR?  A
   masked one (the customer's group hides addresses: "j**n@d*e.com", each
   '*' standing for characters hidden) is compared as a pattern, with
   ADDR and with its Unicode form. */
static bool mw_email_is(const char *shown, const char *addr)
{
	char norm[ADDR_MAX + 1], pat[2 * (ADDR_MAX + 1)];
	char uni[ADDR_UNICODE_MAX + 1];
	size_t i, j = 0;

	if (!mw_masked(shown))
		return addr_normalise(shown, strlen(shown), norm,
				      sizeof(norm)) >= 0 &&
		       strcmp(norm, addr) == 0;
	for (i = 0; shown[i] && j + 2 < sizeof(pat); i++) {
		if (shown[i] != '*')
			pat[j++] = '\\';
		pat[j++] = shown[i];
	}
	if (shown[i])
		return false;
	pat[j] = '\0';
	/* masked as it was typed: maybe its domain in Unicode */
	return fnmatch(pat, addr, FNM_CASEFOLD) == 0 ||
	       (addr_unicode(addr, uni, sizeof(uni)) > 0 &&
		fnmatch(pat, uni, FNM_CASEFOLD) == 0);
}

/* mw_record_is - does the search record REC name A's address?  A record
   without one is taken (the search found it by the address) */
static bool mw_record_is(const cJSON *rec, const struct action *a)
{
	const cJSON *email = cJSON_GetObjectItemCaseSensitive(rec, "email");

	return !cJSON_IsString(email) ||
	       mw_email_is(email->valuestring, a->addr);
}

/* mw_spawn_unsubs - one unsubscribe child (OP_UNSUBSCRIBE step 1) per
   membership of RECORDS that is A's address and not unsubscribed or
   blacklisted (MailWizz's collation also finds addresses that differ by
   accents: "hans@bucher.de" for "hans@b\xc3\xbccher.de") */
static void mw_spawn_unsubs(const struct action *a, const cJSON *records,
			    GArray *spawn)
{
	const cJSON *rec;

	cJSON_ArrayForEach(rec, records) {
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(rec, "status");
		const cJSON *list = cJSON_GetObjectItemCaseSensitive(rec, "list");
		struct action child;

		if ((cJSON_IsString(st) &&
		     (strcmp(st->valuestring, "unsubscribed") == 0 ||
		      strcmp(st->valuestring, "blacklisted") == 0)) ||
		    !mw_record_is(rec, a))
			continue;
		child = *a;
		child.id = 0;
		if (child.op == OP_BOUNCE)
			child.op = OP_UNSUBSCRIBE;
		child.step = MW_UNSUB_ONE;
		child.attempts = 0;
		child.last_error[0] = '\0';
		mw_copy_id(child.list_id, sizeof(child.list_id),
			   cJSON_GetObjectItemCaseSensitive(list, "list_uid"));
		mw_copy_id(child.subscriber_id, sizeof(child.subscriber_id),
			   cJSON_GetObjectItemCaseSensitive(rec, "subscriber_uid"));
		g_array_append_val(spawn, child);
	}
}

/* mw_search_child - a child of A that searches A's address at STEP
   (MW_UNSUB_SEARCH, MW_UNSUB_SEARCH_U) and unsubscribes what it finds;
   an unsubscribe when A goes through the bounce steps */
static void mw_search_child(const struct action *a, uint8_t step,
			    GArray *spawn)
{
	struct action child = *a;

	child.id = 0;
	if (mw_bouncing(a) || child.op == OP_BOUNCE)
		child.op = OP_UNSUBSCRIBE;
	child.step = step;
	child.flags = 0;
	child.list_id[0] = child.subscriber_id[0] = '\0';
	child.attempts = 0;
	child.last_error[0] = '\0';
	g_array_append_val(spawn, child);
}

/* mw_unicode_next - A's address is unsubscribed or searched in the form
   the mail went to: a child that searches its Unicode form, when its
   domain has one (MailWizz keeps the address as it was typed) */
static void mw_unicode_next(const struct action *a, GArray *spawn)
{
	char uni[ADDR_UNICODE_MAX + 1];

	if (mw_unicode(a, uni, sizeof(uni)))
		mw_search_child(a, MW_UNSUB_SEARCH_U, spawn);
}

/* mw_parse_search_all - spawn one unsubscribe per active membership (the
   fallback of an older MailWizz, and the search of the Unicode form) */
static enum provider_result mw_parse_search_all(struct action *a,
						const struct http_resp *resp,
						const cJSON *root,
						GArray *spawn, char *err,
						size_t errlen)
{
	enum provider_result v = PROVIDER_FAILED;
	const cJSON *data, *records;
	int n;

	if (resp->status == 422 && a->step == MW_UNSUB_SEARCH_U) {
		/* a validator that refuses Unicode domains: no list holds
		   the address in that form */
		errmsg(a->notice, sizeof(a->notice), "MailWizz refuses %s "
		       "with its domain in Unicode (HTTP 422): no list holds "
		       "it in that form", a->addr);
		a->notice_level = NOTICE_INFO;
		return PROVIDER_DONE;
	}
	/* before 1.4.4 the one way: an address its validator refuses is
	   on no list, as for the call of later versions */
	if (resp->status == 422)
		return mw_addr_refused("search in all lists", a, root, resp,
				       a->notice, sizeof(a->notice), err,
				       errlen) ? PROVIDER_DONE : PROVIDER_FAILED;
	if (!mw_is_2xx(resp->status))
		return mw_refused("search in all lists", root, resp, err,
				  errlen);
	if (mw_success("search in all lists", root, resp, &v, err,
		       errlen) == NULL)
		return v;
	data = cJSON_GetObjectItemCaseSensitive(root, "data");
	records = cJSON_GetObjectItemCaseSensitive(data, "records");
	if (!cJSON_IsArray(records)) {
		snprintf(err, errlen, "search in all lists: answer has no "
			 "data.records array");
		return PROVIDER_FAILED;
	}
	n = cJSON_GetArraySize(records);
	if (n > MW_SPAWN_MAX) {
		snprintf(err, errlen, "search in all lists: %d memberships, "
			 "more than %d", n, MW_SPAWN_MAX);
		return PROVIDER_FAILED;
	}
	mw_spawn_unsubs(a, records, spawn);
	if (a->step == MW_UNSUB_SEARCH)
		mw_unicode_next(a, spawn);
	return PROVIDER_DONE;
}

/* mw_older - the fallback of an unsubscribe from all lists that MailWizz
   does not know (404: before 1.4.4): a search and one PUT per membership,
   as a child of A (the same action when A is an unsubscribe) */
static enum provider_result mw_older(struct action *a, GArray *spawn)
{
	if (!mw_bouncing(a)) {
		a->step = MW_UNSUB_SEARCH;
		return PROVIDER_CONTINUE;
	}
	mw_search_child(a, MW_UNSUB_SEARCH, spawn);
	return PROVIDER_DONE;
}

/* mw_parse_unsub_all - the unsubscribe from all lists: 2xx is done; 404
   means a MailWizz without that call (the search way instead); 422 means
   MailWizz refuses the address itself, which then can be on none of its
   lists: done, with a notice (mw_addr_refused: unless its validator
   takes the address) */
static enum provider_result mw_parse_unsub_all(struct action *a,
					       const struct http_resp *resp,
					       const cJSON *root,
					       GArray *spawn, char *err,
					       size_t errlen)
{
	enum provider_result v = PROVIDER_FAILED;

	if (resp->status == 404)
		return mw_older(a, spawn);
	if (resp->status == 422)
		return mw_addr_refused("unsubscribe from all lists", a, root,
				       resp, a->notice, sizeof(a->notice), err,
				       errlen) ? PROVIDER_DONE : PROVIDER_FAILED;
	if (!mw_is_2xx(resp->status))
		return mw_refused("unsubscribe from all lists", root, resp,
				  err, errlen);
	if (mw_success("unsubscribe from all lists", root, resp, &v, err,
		       errlen) == NULL)
		return v;
	mw_unicode_next(a, spawn);
	return PROVIDER_DONE;
}

/* mw_parse_unsub_one - 2xx or 404 (gone) is done */
static enum provider_result mw_parse_unsub_one(const struct http_resp *resp,
					       const cJSON *root, char *err,
					       size_t errlen)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(root, "status");

	if (resp->status == 404)
		return PROVIDER_DONE;
	if (!mw_is_2xx(resp->status))
		return mw_refused("unsubscribe", root, resp, err, errlen);
	if (cJSON_IsString(st) && strcmp(st->valuestring, "error") == 0)
		return mw_refused("unsubscribe", root, resp, err, errlen);
	return PROVIDER_DONE;
}

/* mw_parse_who - the subscriber's address into a->resolved; whatever
   the answer, the unsubscribe is done (a failed lookup costs the record
   under the address, not the action).  A masked address is not one. */
static enum provider_result mw_parse_who(struct action *a,
					 const struct http_resp *resp,
					 const cJSON *root)
{
	const cJSON *rec = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(root, "data"), "record");
	const cJSON *email = cJSON_GetObjectItemCaseSensitive(rec, "EMAIL");

	a->resolved[0] = '\0';
	if (!mw_is_2xx(resp->status) || !cJSON_IsString(email))
		return PROVIDER_DONE;
	if (mw_masked(email->valuestring)) {
		errmsg(a->notice, sizeof(a->notice), "MailWizz masks the "
			 "address of subscriber %s (list %s): the complaint "
			 "stays under its uid", a->subscriber_id, a->list_id);
		a->notice_level = NOTICE_INFO;
		return PROVIDER_DONE;
	}
	if (addr_normalise(email->valuestring, strlen(email->valuestring),
			   a->resolved, sizeof(a->resolved)) < 0)
		a->resolved[0] = '\0';
	return PROVIDER_DONE;
}

/* mw_parse_track - the unsubscribe recorded on the campaign (or the
   campaign or subscriber gone: 404): now the list's unsubscribe, when the
   list is known (track-unsubscribe unsubscribed the subscriber already) */
static enum provider_result mw_parse_track(struct action *a,
					   const struct http_resp *resp,
					   const cJSON *root, char *err,
					   size_t errlen)
{
	if (resp->status != 404 && !mw_is_2xx(resp->status))
		return mw_refused("track unsubscribe", root, resp, err, errlen);
	if (!mw_uid_valid(a->list_id, sizeof(a->list_id)))
		return PROVIDER_DONE;
	a->step = MW_UNSUB_ONE;
	return PROVIDER_CONTINUE;
}

/* mw_cache_put - remember CAMPAIGN's LIST; clear the cache when full */
static void mw_cache_put(struct mw_priv *mp, const char *campaign,
			 const char *list)
{
	if (g_hash_table_size(mp->campaigns) >= MW_CACHE_MAX)
		g_hash_table_remove_all(mp->campaigns);
	g_hash_table_replace(mp->campaigns, g_strdup(campaign),
			     g_strdup(list));
}

/* mw_campaign_list - the list uid of a campaign answer, or NULL when the
   answer names none (a campaign whose list is gone answers "list": []) */
static const char *mw_campaign_list(const cJSON *root)
{
	const cJSON *rec = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(root, "data"), "record");
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(rec, "list");
	const cJSON *uid = cJSON_IsObject(list) ?
		cJSON_GetObjectItemCaseSensitive(list, "list_uid") : NULL;

	if (!cJSON_IsString(uid) ||
	    !mw_uid_valid(uid->valuestring, ACTION_ID_MAX))
		return NULL;
	return uid->valuestring;
}

/* mw_unsub_after - does A's bounce step end with the unsubscribe from all
   lists: a complaint's blacklisting bounce, or the bounce that suppressed
   the address at a provider whose hard-action also unsubscribes */
static bool mw_unsub_after(const struct provider *p, const struct action *a)
{
	if (a->op == OP_COMPLAINT)
		return true;
	return a->op == OP_BOUNCE && (a->flags & ACTION_F_SUPPRESS) &&
	       strcmp(a->bounce_type, "hard") == 0 &&
	       (p->cfg->hard_action & ACT_UNSUBSCRIBE) != 0;
}

/* mw_gone_is_done - may A's bounce go unrecorded (its campaign or
   subscriber gone: a 404) with a notice?  Not only when A is the bounce
   that suppresses the address and nothing follows it (hard-action =
   bounce): the operator must know the address stays subscribed.  A
   complaint's, a soft bounce's, one an unsubscribe follows, and a later
   campaign's record for an address suppressed already leave nothing
   undone. */
static bool mw_gone_is_done(const struct provider *p, const struct action *a)
{
	return !(a->op == OP_BOUNCE && (a->flags & ACTION_F_SUPPRESS) &&
		 strcmp(a->bounce_type, "hard") == 0 && !mw_unsub_after(p, a));
}

/* mw_bounce_end - the bounce steps are over (recorded, or nothing to
   record): the unsubscribe from all lists when A asks for it, else done;
   NOTE (may be NULL) says why no bounce was recorded */
static enum provider_result mw_bounce_end(struct provider *p, struct action *a,
					  const char *note)
{
	if (note && !a->notice[0]) {
		errmsg(a->notice, sizeof(a->notice), "%s", note);
		a->notice_level = NOTICE_INFO;
	}
	if (!mw_unsub_after(p, a))
		return PROVIDER_DONE;
	a->step = MW_BOUNCE_UNSUB;
	return PROVIDER_CONTINUE;
}

/* mw_parse_campaign - the campaign's list: cache it, go on to step NEXT.
   A campaign that names no list: the bounce steps end there; an unsubscribe
   by ids records it on the campaign (track-unsubscribe), which unsubscribes
   the subscriber its uid names */
static enum provider_result mw_parse_campaign(struct provider *p,
					      struct action *a,
					      const struct http_resp *resp,
					      const cJSON *root, uint8_t next,
					      char *err, size_t errlen)
{
	enum provider_result v = PROVIDER_FAILED;
	const char *list;
	char note[160];

	if (resp->status == 404) {
		snprintf(err, errlen, "campaign %s not found (HTTP 404)",
			 a->campaign_id);
		return PROVIDER_FAILED;
	}
	if (!mw_is_2xx(resp->status))
		return mw_refused("campaign", root, resp, err, errlen);
	if (mw_success("campaign", root, resp, &v, err, errlen) == NULL)
		return v;
	list = mw_campaign_list(root);
	if (list == NULL) {
		if (!mw_bouncing(a)) {
			a->step = MW_UNSUB_TRACK;
			return PROVIDER_CONTINUE;
		}
		errmsg(note, sizeof(note), "campaign %s names no list: no "
			 "bounce recorded for %s", a->campaign_id, a->addr);
		return mw_bounce_end(p, a, note);
	}
	mw_cache_put(p->priv, a->campaign_id, list);
	snprintf(a->list_id, sizeof(a->list_id), "%s", list);
	a->step = next;
	return PROVIDER_CONTINUE;
}

/* mw_parse_search_list - the subscriber on the campaign's list, found in
   the search of all lists (a record of another address is not it); not
   there: the search of the address's Unicode form, when it has one, else
   nothing to record (the bounce steps end) */
static enum provider_result mw_parse_search_list(struct provider *p,
						 struct action *a,
						 const struct http_resp *resp,
						 const cJSON *root, char *err,
						 size_t errlen)
{
	enum provider_result v = PROVIDER_FAILED;
	const cJSON *records, *rec;
	char note[200], uni[ADDR_UNICODE_MAX + 1];

	if (resp->status == 422 && a->step == MW_BOUNCE_SEARCH_U) {
		/* a validator that refuses Unicode domains: no subscriber
		   has the address in that form */
		errmsg(note, sizeof(note), "MailWizz refuses %s with its "
		       "domain in Unicode (HTTP 422): no subscriber has it in "
		       "that form", a->addr);
		return mw_bounce_end(p, a, note);
	}
	if (resp->status == 422) {
		/* an address MailWizz's validator refuses (a UTF-8 local
		   part): no subscriber can have it, nothing to record */
		if (!mw_addr_refused("search in all lists", a, root, resp,
				     note, sizeof(note), err, errlen))
			return PROVIDER_FAILED;
		return mw_bounce_end(p, a, note);
	}
	if (!mw_is_2xx(resp->status))
		return mw_refused("search in all lists", root, resp, err,
				  errlen);
	if (mw_success("search in all lists", root, resp, &v, err,
		       errlen) == NULL)
		return v;
	records = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(root, "data"), "records");
	if (!cJSON_IsArray(records) ||
	    cJSON_GetArraySize(records) > MW_SPAWN_MAX) {
		snprintf(err, errlen, "search in all lists: answer has no "
			 "usable data.records array");
		return PROVIDER_FAILED;
	}
	cJSON_ArrayForEach(rec, records) {
		const cJSON *list = cJSON_GetObjectItemCaseSensitive(rec, "list");
		const cJSON *luid = cJSON_GetObjectItemCaseSensitive(list,
								     "list_uid");
		const cJSON *uid = cJSON_GetObjectItemCaseSensitive(
			rec, "subscriber_uid");

		if (!cJSON_IsString(luid) ||
		    strcmp(luid->valuestring, a->list_id) != 0 ||
		    !mw_record_is(rec, a))
			continue;
		if (!cJSON_IsString(uid) ||
		    !mw_uid_valid(uid->valuestring, ACTION_ID_MAX)) {
			snprintf(err, errlen, "search in all lists: no valid "
				 "subscriber_uid on list %s", a->list_id);
			return PROVIDER_FAILED;
		}
		snprintf(a->subscriber_id, sizeof(a->subscriber_id), "%s",
			 uid->valuestring);
		a->step = MW_BOUNCE_POST;
		return PROVIDER_CONTINUE;
	}
	if (a->step == MW_BOUNCE_SEARCH && mw_unicode(a, uni, sizeof(uni))) {
		a->step = MW_BOUNCE_SEARCH_U;
		return PROVIDER_CONTINUE;
	}
	return mw_bounce_end(p, a, NULL);
}

/* mw_check_subscriber - the 201 answer names the subscriber the bounce
   was recorded on: when it is not A's address (a subscriber uid of someone
   else, or a subscriber whose address changed), say so and forget the uid,
   so the address is looked up by itself; 1 when that happened */
static int mw_check_subscriber(struct action *a, const cJSON *root)
{
	const cJSON *sub = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(root, "data"),
			"record"),
		"subscriber");
	const cJSON *email = cJSON_GetObjectItemCaseSensitive(sub, "email");
	GString *shown;

	if (!cJSON_IsString(email) || mw_email_is(email->valuestring, a->addr))
		return 0;
	shown = g_string_new(NULL);
	mw_clean(shown, email->valuestring, strnlen(email->valuestring, 256));
	errmsg(a->notice, sizeof(a->notice), "subscriber uid %s is %s at "
		 "MailWizz, not %s: the %s bounce of campaign %s was recorded "
		 "on that subscriber; %s is looked up by its address instead",
		 a->subscriber_id, shown->str, a->addr, a->bounce_type,
		 a->campaign_id, a->addr);
	g_string_free(shown, TRUE);
	a->notice_level = NOTICE_ERROR;
	a->subscriber_id[0] = '\0';
	a->step = MW_BOUNCE_CAMPAIGN;
	return 1;
}

/* mw_refiled - a hard bounce recorded by MailWizz as another type (its
   text looks like a block to CampaignBounceLog: "internal"), so that
   MailWizz blacklisted nobody.  With a hard-action that leaves the rest
   to MailWizz (bounce), the subscriber stays confirmed: said on the
   record, for the operator to see (the unsubscribe is theirs to ask) */
static void mw_refiled(struct provider *p, struct action *a,
		       const cJSON *root)
{
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(root, "data"),
			"record"),
		"bounce_type");
	GString *shown;

	if (a->op != OP_BOUNCE || !(a->flags & ACTION_F_SUPPRESS) ||
	    strcmp(a->bounce_type, "hard") != 0 || mw_unsub_after(p, a) ||
	    !cJSON_IsString(type) || strcmp(type->valuestring, "hard") == 0)
		return;
	shown = g_string_new(NULL);
	mw_clean(shown, type->valuestring, strnlen(type->valuestring, 32));
	errmsg(a->notice, sizeof(a->notice), "MailWizz recorded the hard "
	       "bounce of campaign %s as '%s' (its text looks like a block "
	       "to MailWizz) and blacklisted nobody; with hard-action = "
	       "bounce the address stays subscribed", a->campaign_id,
	       shown->str);
	g_string_free(shown, TRUE);
	a->notice_level = NOTICE_WARN;
}

/* the 422 text of Campaign_bouncesController::actionCreate() for a
   bounce_type its bounce log does not list, untranslated */
#define MW_INVALID_TYPE "Invalid bounce type!"

/*
 * mw_bounce_refusal - does the 422 ROOT to A's bounce POST say MailWizz
 * would not record the bounce (rather than that it has one already)?
 * Campaign_bouncesController::actionCreate() answers 422 three ways, in
 * this order: the subscriber has a bounce of the campaign ("This
 * subscriber has already been marked as bounced!"), the bounce_type is
 * not one of CampaignBounceLog::getBounceTypesArray() ("Invalid bounce
 * type!"), CampaignBounceLog::save() failed (its shortErrors->getAll():
 * an object of attribute -> message, PHP's [] when nothing said why).
 * MailWizz's own bounce log lists hard and soft and has no rule for a
 * new record, so the last two come from an extension's filters (of the
 * types, of the model's rules or beforeSave).  Texts come in the
 * customer's language: only the English one of the type is told apart;
 * a translated one passes for "already" (the same end: nothing recorded
 * now).  True with WHY (CAP bytes) saying which.
 */
static bool mw_bounce_refusal(const cJSON *root, const struct http_resp *resp,
			      const struct action *a, char *why, size_t cap)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
	char text[89];

	if (cJSON_IsString(e)) {
		if (strcmp(e->valuestring, MW_INVALID_TYPE) != 0)
			return false;
		snprintf(why, cap, "'%s': it takes no %s bounces",
			 MW_INVALID_TYPE, a->bounce_type);
		return true;
	}
	if (!cJSON_IsObject(e) && !cJSON_IsArray(e))
		return false;
	if (e->child == NULL) {
		snprintf(why, cap, "its bounce log refused it without a reason");
		return true;
	}
	mw_error_text(root, resp, text, sizeof(text));
	snprintf(why, cap, "its bounce log refused it: %s", text);
	return true;
}

/* mw_bounce_refused - MailWizz did not record A's bounce (WHY, from
   mw_bounce_refusal) and blacklisted nobody; it answers the same until
   its configuration changes, so never retried.  As for a campaign or
   subscriber gone (mw_gone_is_done): the bounce steps end with a notice
   (the unsubscribe follows where A asks for it), but the bounce that is
   the suppression itself with nothing after it (hard-action = bounce)
   is a dead letter: the address would stay subscribed */
static enum provider_result mw_bounce_refused(struct provider *p,
					      struct action *a,
					      const char *why, char *err,
					      size_t errlen)
{
	if (!mw_gone_is_done(p, a)) {
		snprintf(err, errlen, "record bounce: HTTP 422: %s; with "
			 "hard-action = bounce the address stays subscribed: "
			 "have MailWizz take the bounce, then bouncectl "
			 "retry", why);
		return PROVIDER_FAILED;
	}
	errmsg(a->notice, sizeof(a->notice), "MailWizz did not record the %s "
	       "bounce of campaign %s (HTTP 422, %s)%s", a->bounce_type,
	       a->campaign_id, why, mw_unsub_after(p, a) ?
	       "; the unsubscribe from every list follows" : "");
	a->notice_level = NOTICE_WARN;
	return mw_bounce_end(p, a, NULL);
}

/* mw_parse_bounce_post - 2xx, or 422 "already marked", and the bounce
   steps end (with the unsubscribe when A asks for it); 404, the campaign
   or the subscriber gone since they were looked up, and a 422 that
   refuses the bounce (mw_bounce_refusal): the same, but nothing
   recorded */
static enum provider_result mw_parse_bounce_post(struct provider *p,
						 struct action *a,
						 const struct http_resp *resp,
						 const cJSON *root, char *err,
						 size_t errlen)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
	char why[128];

	if (mw_is_2xx(resp->status)) {
		if (mw_check_subscriber(a, root))
			return PROVIDER_CONTINUE;
		mw_refiled(p, a, root);
		return mw_bounce_end(p, a, NULL);
	}
	if (resp->status == 422 &&
	    mw_bounce_refusal(root, resp, a, why, sizeof(why)))
		return mw_bounce_refused(p, a, why, err, errlen);
	if (resp->status == 422 && cJSON_IsString(e)) {
		/* "already marked as bounced", in the customer's language
		   (or a translated "Invalid bounce type!", which cannot be
		   told from it).  MailWizz keeps one bounce per campaign and
		   subscriber: a hard one after a soft one is not recorded,
		   and blacklists nobody; said when nothing else will act */
		if (a->op == OP_BOUNCE && (a->flags & ACTION_F_SUPPRESS) &&
		    strcmp(a->bounce_type, "hard") == 0 &&
		    !mw_unsub_after(p, a)) {
			errmsg(a->notice, sizeof(a->notice), "MailWizz has a "
			       "bounce of campaign %s for this subscriber "
			       "already: the hard bounce is not recorded and "
			       "blacklists nobody; with hard-action = bounce "
			       "the address stays subscribed", a->campaign_id);
			a->notice_level = NOTICE_WARN;
		}
		return mw_bounce_end(p, a, NULL);
	}
	if (resp->status == 404) {
		struct mw_priv *mp = p->priv;

		/* the campaign deleted since its list was cached, or the
		   subscriber since the search */
		g_hash_table_remove(mp->campaigns, a->campaign_id);
		if (mw_gone_is_done(p, a)) {
			/* said on the record, not only logged: a MailWizz
			   without the bounce endpoint (before 1.4.4) answers
			   404 to every bounce */
			errmsg(a->notice, sizeof(a->notice), "HTTP 404 to the "
			       "bounce of campaign %s (the campaign or "
			       "subscriber %s gone from MailWizz, or no bounce "
			       "endpoint there): no bounce recorded",
			       a->campaign_id, a->subscriber_id);
			a->notice_level = NOTICE_WARN;
			return mw_bounce_end(p, a, NULL);
		}
	}
	return mw_refused("record bounce", root, resp, err, errlen);
}

/* mw_parse_bounce - judge RESP for a bounce step of A */
static enum provider_result mw_parse_bounce(struct provider *p,
					    struct action *a,
					    const struct http_resp *resp,
					    const cJSON *root, GArray *spawn,
					    char *err, size_t errlen)
{
	enum provider_result v;
	char note[160];

	switch (a->step) {
	case MW_BOUNCE_CAMPAIGN:
		if (resp->status == 404 && mw_gone_is_done(p, a)) {
			/* unknown campaign: no bounce to record, the
			   unsubscribe still happens */
			errmsg(note, sizeof(note), "campaign %s is unknown "
				 "to MailWizz: no bounce recorded for %s",
				 a->campaign_id, a->addr);
			return mw_bounce_end(p, a, note);
		}
		return mw_parse_campaign(p, a, resp, root, MW_BOUNCE_SEARCH,
					 err, errlen);
	case MW_BOUNCE_SEARCH:
	case MW_BOUNCE_SEARCH_U:
		return mw_parse_search_list(p, a, resp, root, err, errlen);
	case MW_BOUNCE_HINTED:
		if (resp->status == 404 || resp->status == 422) {
			/* no subscriber has the record's uid, or MailWizz
			   did not record the bounce on the uid's subscriber
			   (it has one of this campaign already, or its
			   bounce log refused this one: mw_bounce_refusal):
			   a 422 names nobody, and that subscriber may not be
			   this address (another's uid, another list's), so
			   find the subscriber by address instead; its own
			   422 at step 2 is then believed */
			a->subscriber_id[0] = '\0';
			a->step = MW_BOUNCE_CAMPAIGN;
			return PROVIDER_CONTINUE;
		}
		/* fall through */
	case MW_BOUNCE_POST:
		return mw_parse_bounce_post(p, a, resp, root, err, errlen);
	case MW_BOUNCE_UNSUB:
		v = mw_parse_unsub_all(a, resp, root, spawn, err, errlen);
		return v;
	}
	snprintf(err, errlen, "no step %u of a bounce", a->step);
	return PROVIDER_FAILED;
}

/* mw_parse_unsub - judge RESP for an unsubscribe step of A */
static enum provider_result mw_parse_unsub(struct provider *p,
					   struct action *a,
					   const struct http_resp *resp,
					   const cJSON *root, GArray *spawn,
					   char *err, size_t errlen)
{
	enum provider_result v;

	switch (a->step) {
	case MW_UNSUB_ALL:
		return mw_parse_unsub_all(a, resp, root, spawn, err, errlen);
	case MW_UNSUB_SEARCH:
	case MW_UNSUB_SEARCH_U:
		return mw_parse_search_all(a, resp, root, spawn, err, errlen);
	case MW_UNSUB_ONE:
		v = mw_parse_unsub_one(resp, root, err, errlen);
		if (v == PROVIDER_DONE && mail_key_is_uid(a->addr) &&
		    a->klass == CLASS_COMPLAINT) {
			a->step = MW_UNSUB_WHO;
			v = PROVIDER_CONTINUE;
		}
		return v;
	case MW_UNSUB_WHO:
		return mw_parse_who(a, resp, root);
	case MW_UNSUB_TRACK:
		return mw_parse_track(a, resp, root, err, errlen);
	case MW_UNSUB_CAMPAIGN:
		return mw_parse_campaign(p, a, resp, root, mw_unsub_next(a),
					 err, errlen);
	}
	snprintf(err, errlen, "no step %u of an unsubscribe", a->step);
	return PROVIDER_FAILED;
}

/* mw_parse - judge RESP for A's current step */
static enum provider_result mw_parse(struct provider *p, struct action *a,
				     const struct http_resp *resp,
				     GArray *spawn, char *err, size_t errlen)
{
	enum provider_result v;
	cJSON *root = NULL;

	if (resp->body != NULL && resp->body_len > 0)
		root = cJSON_ParseWithLength(resp->body, resp->body_len);
	if (mw_bouncing(a))
		v = mw_parse_bounce(p, a, resp, root, spawn, err, errlen);
	else if (a->op == OP_UNSUBSCRIBE || a->op == OP_COMPLAINT)
		v = mw_parse_unsub(p, a, resp, root, spawn, err, errlen);
	else {
		snprintf(err, errlen, "no step %u of operation %u", a->step,
			 a->op);
		v = PROVIDER_FAILED;
	}
	cJSON_Delete(root);
	return v;
}

/* mw_probe - GET lists?page=1&per_page=10: signed or keyed like every
   call, reads nothing but list names */
static int mw_probe(struct provider *p, int64_t now, struct http_req *req,
		    char *err, size_t errlen)
{
	struct mw_call call = { 0 };

	call.method = "GET";
	if (mw_path(&call, err, errlen, "lists") != 0)
		return -1;
	call.get_keys[0] = "page", call.get_vals[0] = "1";
	call.get_keys[1] = "per_page", call.get_vals[1] = "10";
	call.n_get = 2;
	return mw_request(p, &call, now, req, err, errlen);
}

/* mw_probe_parse - a success answer with data: all is well; what pauses
   the dispatcher pauses here; a 404 names the endpoint */
static enum provider_result mw_probe_parse(struct provider *p,
					   const struct http_resp *resp,
					   char *err, size_t errlen)
{
	enum provider_result v = PROVIDER_FAILED;
	cJSON *root = NULL;
	const cJSON *data;

	(void)p;
	if (resp->body && resp->body_len)
		root = cJSON_ParseWithLength(resp->body, resp->body_len);
	if (resp->status == 404) {
		errmsg(err, errlen, "HTTP 404: no MailWizz API there; endpoint "
		       "is the API's base URL, such as "
		       "https://mw.example.com/api");
	} else if (!mw_is_2xx(resp->status)) {
		v = mw_refused("list the lists", root, resp, err, errlen);
	} else if (mw_success("list the lists", root, resp, &v, err,
			      errlen) != NULL) {
		data = cJSON_GetObjectItemCaseSensitive(root, "data");
		if (cJSON_IsObject(data)) {
			errmsg(err, errlen, "keys accepted, %d list(s) seen",
			       cJSON_GetArraySize(
				       cJSON_GetObjectItemCaseSensitive(
					       data, "records")));
			v = PROVIDER_DONE;
		} else {
			errmsg(err, errlen, "HTTP %ld but no data in the "
			       "answer: not a MailWizz API", resp->status);
		}
	}
	cJSON_Delete(root);
	return v;
}

/* ---- campaign details for the operator's mail ------------------------ */

/* mw_campaign_request - GET campaigns/UID, signed or keyed */
static int mw_campaign_request(struct provider *p, const char *uid,
			       int64_t now, struct http_req *req, char *err,
			       size_t errlen)
{
	struct mw_call call = { 0 };

	if (!mw_uid_valid(uid, ACTION_ID_MAX)) {
		snprintf(err, errlen, "campaign uid is not 13 of [a-z0-9]");
		return -1;
	}
	call.method = "GET";
	if (mw_path(&call, err, errlen, "campaigns/%s", uid) != 0)
		return -1;
	return mw_request(p, &call, now, req, err, errlen);
}

/* mw_info_str - the JSON string V, cleaned, into DST */
static void mw_info_str(char *dst, size_t cap, const cJSON *v)
{
	GString *s = g_string_new(NULL);

	if (cJSON_IsString(v))
		mw_clean(s, v->valuestring, strlen(v->valuestring));
	g_strlcpy(dst, s->str, cap);
	/* g_strlcpy may cut a character: keep the valid prefix */
	if (!g_utf8_validate(dst, -1, NULL)) {
		const char *end;

		g_utf8_validate(dst, -1, &end);
		dst[end - dst] = '\0';
	}
	g_string_free(s, TRUE);
}

/* mw_campaign_parse - name, subject, list and send time of the answer */
static int mw_campaign_parse(struct provider *p,
			     const struct http_resp *resp,
			     struct provider_campaign *info, char *err,
			     size_t errlen)
{
	enum provider_result v = PROVIDER_FAILED;
	const cJSON *rec, *list, *at;
	cJSON *root = NULL;
	int rc = -EINVAL;

	(void)p;
	memset(info, 0, sizeof(*info));
	if (resp->status == 404) {
		snprintf(err, errlen, "no such campaign (HTTP 404)");
		return -ENOENT;
	}
	if (resp->body && resp->body_len)
		root = cJSON_ParseWithLength(resp->body, resp->body_len);
	if (!mw_is_2xx(resp->status)) {
		(void)mw_refused("campaign", root, resp, err, errlen);
		goto out;
	}
	if (mw_success("campaign", root, resp, &v, err, errlen) == NULL)
		goto out;
	rec = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(root, "data"), "record");
	if (!cJSON_IsObject(rec)) {
		snprintf(err, errlen, "campaign: answer has no data.record");
		goto out;
	}
	list = cJSON_GetObjectItemCaseSensitive(rec, "list");
	if (!cJSON_IsObject(list))	/* a campaign whose list is gone */
		list = NULL;
	mw_info_str(info->name, sizeof(info->name),
		    cJSON_GetObjectItemCaseSensitive(rec, "name"));
	mw_info_str(info->subject, sizeof(info->subject),
		    cJSON_GetObjectItemCaseSensitive(rec, "subject"));
	mw_info_str(info->list_name, sizeof(info->list_name),
		    cJSON_GetObjectItemCaseSensitive(list, "name"));
	mw_info_str(info->list_uid, sizeof(info->list_uid),
		    cJSON_GetObjectItemCaseSensitive(list, "list_uid"));
	if (!mw_uid_valid(info->list_uid, sizeof(info->list_uid)))
		info->list_uid[0] = '\0';
	at = cJSON_GetObjectItemCaseSensitive(rec, "send_at");
	mw_info_str(info->send_at, sizeof(info->send_at), at);
	if (!cJSON_IsString(at) ||
	    timeparse_pmta(at->valuestring, strlen(at->valuestring),
			   &info->send_time) != 0)
		info->send_time = 0;
	rc = 0;
out:
	cJSON_Delete(root);
	return rc;
}

const struct provider_ops provider_mailwizz_ops = {
	.type = "mailwizz",
	.label = "MailWizz",
	.route = mailwizz_route,
	.ids = mailwizz_ids,
	.uid_actor = mailwizz_uid_actor,
	.report_own = mailwizz_report_own,
	.report_kind = mailwizz_report_kind,
	.notify_ids = mailwizz_notify_ids,
	.init = mw_init,
	.build = mw_build,
	.parse = mw_parse,
	.release = mw_release,
	.probe = mw_probe,
	.probe_parse = mw_probe_parse,
	.campaign_request = mw_campaign_request,
	.campaign_parse = mw_campaign_parse,
};
