/*
 * provider_interspire.c - unsubscribe an address, or a subscriber known by
 * its ids, from the lists of one Interspire Email Marketer user through its
 * XML API (xml.php).
 *
 * OP_UNSUBSCRIBE and OP_COMPLAINT of an address:
 *   0  user/GetLists, unless the cached list ids are younger than
 *      list-refresh: then build() moves on without a call.  A user with
 *      no list is answered FAILED with an empty message: nothing to do.
 *   1  subscribers/GetAllListsForEmailAddress: the email and one
 *      <listids> element per list of the user (one element holding
 *      "1,2,3" is no filter at all: the server searches every user's
 *      lists) -> one child action per distinct list among the user's
 *      (step 2, list_id, subscriber_id) and this action is done.  An
 *      address on no list is answered FAILED with an empty message: done.
 *      Without cached ids (a restart) it goes back to step 0 first.
 *      An address its record wrote with capitals (action_written: what
 *      Interspire holds, kept as typed or imported) is searched
 *      lower-cased at step 1 without spawning (its first subscriber
 *      noted in subscriber_id), then as written at step 6: a server
 *      comparing case-insensitively (MySQL) finds that subscriber again
 *      and every spelling with it, and that answer spawns; one comparing
 *      exactly (PostgreSQL) finds others, and the answer spawns its own
 *      plus a child at step 1 flagged ACTION_F_EXACT that searches the
 *      lower-cased form again and spawns what it finds.  No subscriber
 *      gets two children: unsubscribing one twice counts it twice in
 *      the list's totals.
 *   2  subscribers/UnsubscribeSubscriber with emailaddress, listid and,
 *      when step 1 named it, subscriberid with skipcheck: exactly that
 *      subscriber (without skipcheck the server picks the first subscriber
 *      of the list whose address matches, and PostgreSQL installs match
 *      with ILIKE, where '_' stands for any character) -> done, also when
 *      the address "is not subscribed" any more.
 * OP_UNSUBSCRIBE and OP_COMPLAINT of a "uid:iem:LIST:SUBSCRIBER" key (a
 * report or an unsubscribe mail that named the subscriber by its ids):
 *   0  as above (cached): the list must be one of the user's lists; when
 *      it is not and the cache is older than the action, it is fetched
 *      again once, then the action fails (another user's list).  The
 *      list may be the ids of the lists a campaign went to ("2,24,12",
 *      from X-Mailer-LID, all of them, up to ACTION_LIST_ID_MAX bytes):
 *      one of them must be the user's.  The ids are the action's
 *      list_id, from the event, never read from the key: a key too short
 *      for them says "uid:iem:lists:SUBSCRIBER" (mail_events.h).
 *   3  subscribers/GetRecordByID -> the subscriber's list must be LIST
 *      (else the ids do not match: failed); no such subscriber: done;
 *      with several lists, one of them, and one of the user's (else
 *      failed): a subscriber id is one row of one list, so one call
 *      names it, and the action goes on with that list alone;
 *      unsubscribed or bounced already: done (a complaint's address goes
 *      to a->resolved); else on to 4.
 *   4  subscribers/UnsubscribeSubscriber with subscriberid, listid and
 *      skipcheck -> done, or for a complaint on to 5.
 *   5  subscribers/GetRecordByID -> the subscriber's address into
 *      a->resolved (the dispatcher records the complaint under it too);
 *      done whatever the answer says.
 * Both answer shapes of UnsubscribeSubscriber are understood: 6.1.x and
 * later answer FAILED with the reason, 6.1.0 always SUCCESS with the items
 * <item>1</item><item></item> (done) or <item></item><item>reason</item>.
 * probe() asks authentication/xmlapitest, which checks endpoint, TLS and
 * credentials and changes nothing.
 *
 * The list cache lives in the provider's private state: the ids and the
 * wall time the GetLists that filled it was sent (parse() has no clock:
 * build() notes it).  While a refresh is on its way (sent less than the
 * request timeout ago) other actions use the old ids rather than ask
 * again; with no ids yet (start) each asks, so a cold start with several
 * actions at once may cost up to `concurrency` GetLists (the provider
 * cannot make an action wait, and cannot learn that a transfer failed,
 * so it never waits for another one's answer).  Losing the cache
 * (restart) costs one GetLists.
 *
 * Error policy (xml.php answers HTTP 200 whatever happens):
 *   - 401 or 403 (a web server or firewall in front of xml.php refuses
 *     us): paused; 408: retried; another status: failed (wrong endpoint);
 *   - an answer that is not a whole XML document (empty, a PHP error page,
 *     cut short): retried, as such pages are usually passing trouble and
 *     the dispatcher gives up after max-age;
 *   - XML that is not an Interspire <response>: failed;
 *   - FAILED "Unable to check user details." (wrong username or token, an
 *     inactive user, or our address banned after repeated failed logins),
 *     "Invalid details" (the same in older versions) or "Please contact
 *     your system admin" (the installation is disabled): paused, naming
 *     the cause;
 *   - FAILED with an empty message: the method found nothing (no list, no
 *     membership, no such subscriber): done where that means nothing is
 *     left to do (steps 0 to 5 as above), else failed;
 *   - any other FAILED text: failed with it, except "not subscribed" at
 *     the unsubscribe steps, which is done;
 *   - ids in answers must be decimal numbers: an answer with another one
 *     fails as a whole (no child is spawned from a partly bad answer).
 * Addresses that XML cannot carry (not UTF-8, control characters) make
 * build() fail: such an action can never be sent.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "arf.h"
#include "iem_xml.h"
#include "mail_events.h"
#include "provider.h"
#include "route.h"

#define IEM_STEP_LISTS 0	/* user/GetLists (cached) */
#define IEM_STEP_FIND 1		/* subscribers/GetAllListsForEmailAddress */
#define IEM_STEP_UNSUB 2	/* subscribers/UnsubscribeSubscriber */
#define IEM_STEP_CHECK 3	/* subscribers/GetRecordByID (ids) */
#define IEM_STEP_UNSUB_ID 4	/* UnsubscribeSubscriber by id (ids) */
#define IEM_STEP_WHO 5		/* GetRecordByID: the address (ids) */
#define IEM_STEP_FIND_WRITTEN 6	/* GetAllListsForEmailAddress, the address
				   as written */
#define IEM_STEP_LAST IEM_STEP_FIND_WRITTEN

#define IEM_ID_MAX 20		/* digits of a list or subscriber id */
/* an action by address queued after the list ids were fetched may be
   about a list made since, which the cache cannot name: for it the cache
   serves this many seconds at most (list-refresh when shorter) */
#define IEM_NEWER_REFRESH 60
#define IEM_NOT_SUBSCRIBED "not subscribed"

/* the private state: the list cache */
struct iem {
	GPtrArray *ids;		/* list ids of the last GetLists (strings);
				   NULL: never fetched */
	GHashTable *set;	/* the same ids, for lookups (keys borrowed) */
	int64_t fetched;	/* wall time (s) that GetLists was sent */
	int64_t refresh_sent;	/* wall time of the last GetLists sent, 0 when
				   its answer came */
	bool force;		/* the next step 0 asks, whatever the cache */
	int64_t empty_since;	/* wall time a GetLists that named no list
				   was sent, until one names some (0) */
};

/* an answer of no list is believed once another, sent at least this
   much later (the action's retry: retry-min or more), says the same:
   xml.php answers a failed query of the lists as it answers a user
   without any, and the cache would then make every action done, nobody
   unsubscribed, until list-refresh */
#define IEM_EMPTY_CONFIRM 1

/* iem_id_ok - S is a decimal id of 1..IEM_ID_MAX digits */
static bool iem_id_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (s[i] < '0' || s[i] > '9' || i >= IEM_ID_MAX)
			return false;
	return i > 0;
}

/* iem_several - A's list id is the list ids of a campaign sent to several
   lists (X-Mailer-LID "2,24,12"): its subscriber is on one of them,
   which GetRecordByID tells (step IEM_STEP_CHECK) */
static bool iem_several(const struct action *a)
{
	return strchr(a->list_id, ',') != NULL;
}

/* iem_lids_have - LID is one of the comma-joined list ids LIDS */
static bool iem_lids_have(const char *lids, const char *lid)
{
	size_t n = strlen(lid);
	const char *s = lids;

	while (n > 0) {
		if (strncmp(s, lid, n) == 0 && (s[n] == ',' || s[n] == '\0'))
			return true;
		s = strchr(s, ',');
		if (s == NULL)
			break;
		s++;
	}
	return false;
}

/* the ids of a campaign's lists fit the action whole (iem_ids) */
_Static_assert(sizeof(((struct action *)0)->list_id) >= ARF_IEM_LID_SIZE,
	       "an action holds every list X-Mailer-LID may name");

/* iem_lids_shown - LIDS for a message, into BUF (LEN bytes): whole when
   it fits, else its first ids, cut after a whole id, and how many there
   are ("2,24,12,... (61 lists)") */
static const char *iem_lids_shown(const char *lids, char *buf, size_t len)
{
	size_t n = strlen(lids), ids = 1, keep = 0, i;
	int tail;

	if (n < len)
		return lids;
	for (i = 0; i < n; i++)
		if (lids[i] == ',')
			ids++;
	/* room for ",... (N lists)" and the NUL */
	tail = snprintf(NULL, 0, ",... (%zu lists)", ids);
	for (i = 0; i < n && i + (size_t)tail < len; i++)
		if (lids[i] == ',')
			keep = i;
	snprintf(buf, len, "%.*s,... (%zu lists)", (int)keep, lids, ids);
	return buf;
}

/* iem_lids_mine - one of the comma-joined list ids LIDS is in SET (the
   user's lists) */
static bool iem_lids_mine(GHashTable *set, const char *lids)
{
	char id[IEM_ID_MAX + 1];
	const char *s = lids, *e;

	while (*s) {
		e = strchr(s, ',');
		if (e == NULL)
			e = s + strlen(s);
		if ((size_t)(e - s) <= IEM_ID_MAX) {
			memcpy(id, s, (size_t)(e - s));
			id[e - s] = '\0';
			if (g_hash_table_contains(set, id))
				return true;
		}
		s = *e ? e + 1 : e;
	}
	return false;
}

/* iem_by_ids - A names a subscriber by its ids ("uid:" key), not an
   address */
static bool iem_by_ids(const struct action *a)
{
	return mail_key_is_uid(a->addr) != 0;
}

/* iem_ids_step - STEP is one of a subscriber known by its ids */
static bool iem_ids_step(uint8_t step)
{
	return step >= IEM_STEP_CHECK && step <= IEM_STEP_WHO;
}

/* iem_two_forms - A's address is to be searched as written too: its
   record wrote it with capitals, and A is not the search again of the
   lower-cased form that an exact comparison asks for (ACTION_F_EXACT) */
static bool iem_two_forms(const struct action *a)
{
	return action_written(a) != NULL && !(a->flags & ACTION_F_EXACT);
}

/* iem_init - check the endpoint and credentials; an empty list cache */
static int iem_init(struct provider *p, char *err, size_t errlen)
{
	const struct config_provider *cfg = p->cfg;
	struct http_req probe;
	const char *ep = cfg->endpoint;

	if (ep == NULL || *ep == '\0') {
		snprintf(err, errlen, "endpoint (the URL of xml.php) is not set");
		return -1;
	}
	if (g_ascii_strncasecmp(ep, "http://", 7) != 0 &&
	    g_ascii_strncasecmp(ep, "https://", 8) != 0) {
		snprintf(err, errlen, "endpoint '%s' is not http:// or https://",
			 ep);
		return -1;
	}
	if (strlen(ep) >= sizeof(probe.url)) {
		snprintf(err, errlen, "endpoint is longer than %zu bytes",
			 sizeof(probe.url) - 1);
		return -1;
	}
	if (cfg->username == NULL || *cfg->username == '\0' ||
	    !iem_xml_value_ok(cfg->username)) {
		snprintf(err, errlen, "username is not set or not plain text");
		return -1;
	}
	if (cfg->usertoken == NULL || *cfg->usertoken == '\0' ||
	    !iem_xml_value_ok(cfg->usertoken)) {
		snprintf(err, errlen, "usertoken is not set or not plain text");
		return -1;
	}
	p->priv = g_new0(struct iem, 1);
	return 0;
}

/* iem_cache_drop - forget the cached list ids */
static void iem_cache_drop(struct iem *st)
{
	if (st->set)
		g_hash_table_destroy(st->set);
	if (st->ids)
		g_ptr_array_free(st->ids, TRUE);
	st->set = NULL;
	st->ids = NULL;
}

/* iem_fresh - the cached list ids serve A at NOW: younger than
   list-refresh, and, when A was queued after they were fetched (a hard
   bounce of a campaign to a list made since then would leave the address
   subscribed there), younger than IEM_NEWER_REFRESH */
/* iem_newer - A was queued after the ids were fetched, a while ago: they
   may not name its list */
static bool iem_newer(const struct iem *st, const struct action *a,
		      int64_t now)
{
	return a->created_ms / 1000 > st->fetched &&
	       now - st->fetched >= IEM_NEWER_REFRESH;
}

static bool iem_fresh(const struct iem *st, const struct config_provider *cfg,
		      const struct action *a, int64_t now)
{
	if (st->ids == NULL || st->force || now < st->fetched)
		return false;
	if (iem_newer(st, a, now))
		return false;
	return now - st->fetched < cfg->list_refresh;
}

/* iem_refreshing - a GetLists sent before NOW may still be answered */
static bool iem_refreshing(const struct iem *st,
			   const struct config_provider *cfg, int64_t now)
{
	int64_t limit = cfg->timeout > 0 ? cfg->timeout : 30;

	return !st->force && st->refresh_sent > 0 && now >= st->refresh_sent &&
	       now - st->refresh_sent <= limit;
}

/* iem_after_lists - the step that follows GetLists for A */
static uint8_t iem_after_lists(const struct iem *st, const struct action *a)
{
	if (iem_by_ids(a))
		return IEM_STEP_CHECK;
	return st->ids && st->ids->len ? IEM_STEP_FIND : PROVIDER_STEP_DONE;
}

/* iem_request - REQ: POST of the TYPE/METHOD document with PARAMS */
static int iem_request(const struct config_provider *cfg, const char *type,
		       const char *method, const struct iem_param *params,
		       size_t n, struct http_req *req, char *err, size_t errlen)
{
	char why[200] = "";
	int rc = -1;

	memset(req, 0, sizeof(*req));
	memcpy(req->method, "POST", 5);
	if (g_strlcpy(req->url, cfg->endpoint, sizeof(req->url)) >=
	    sizeof(req->url)) {
		snprintf(err, errlen, "endpoint is too long");
		goto out;
	}
	if (iem_xml_request(cfg->username, cfg->usertoken, type, method,
			    params, n, &req->body, &req->body_len, why,
			    sizeof(why)) != 0) {
		snprintf(err, errlen, "%s: %s", method, why);
		goto out;
	}
	if (http_req_header(req, "Content-Type", "text/xml") != 0) {
		snprintf(err, errlen, "%s: cannot add the request headers",
			 method);
		goto out;
	}
	rc = 0;
out:
	if (rc)
		http_req_clear(req);
	return rc;
}

/* iem_build_find - GetAllListsForEmailAddress of A's address (at step
   IEM_STEP_FIND_WRITTEN as written) in the
   user's lists: one <listids> element per list, and a lone list's twice.
   xml.php makes repeated elements an array and a single one a string;
   6.1.2 and older hand that string to CheckIntVars(), which keeps
   nothing of what is not an array, and the search then finds no list
   (SUCCESS, no data): a user with one list would have nobody
   unsubscribed.  6.1.6 and later wrap a string; "IN (5,5)" finds the
   same rows as "IN (5)" everywhere. */
static int iem_build_find(struct provider *p, struct action *a,
			  struct http_req *req, char *err, size_t errlen)
{
	struct iem *st = p->priv;
	struct iem_param *prm;
	guint i, n = st->ids->len == 1 ? 2 : st->ids->len;
	int rc;

	prm = g_new(struct iem_param, n + 1);
	prm[0].name = "email";
	prm[0].value = a->addr;
	if (a->step == IEM_STEP_FIND_WRITTEN && action_written(a))
		prm[0].value = action_written(a);
	for (i = 0; i < n; i++) {
		prm[i + 1].name = "listids";
		prm[i + 1].value = g_ptr_array_index(st->ids, i % st->ids->len);
	}
	rc = iem_request(p->cfg, "subscribers", "GetAllListsForEmailAddress",
			 prm, n + 1, req, err, errlen);
	g_free(prm);
	return rc;
}

/* iem_build_ids - the steps of a subscriber known by ids: its list must
   be the user's; 1 when A moved to another step without a call */
static int iem_build_ids(struct provider *p, struct action *a, int64_t now,
			 struct http_req *req, char *err, size_t errlen)
{
	struct iem *st = p->priv;
	/* in the order of UnsubscribeSubscriber($emailaddress, $listid,
	   $subscriberid, $skipcheck): 6.1.0 binds by position, later
	   versions by name; an empty address with a subscriber id is
	   taken by both */
	struct iem_param prm[4] = {
		{ "emailaddress", "" },
		{ "listid", a->list_id },
		{ "subscriberid", a->subscriber_id },
		{ "skipcheck", "1" },
	};

	char shown[64];

	(void)now;
	if (a->step == IEM_STEP_CHECK) {
		if (st->ids == NULL) {		/* restarted: no cache yet */
			a->step = IEM_STEP_LISTS;
			return 1;
		}
		if (iem_several(a) ? !iem_lids_mine(st->set, a->list_id) :
				     !g_hash_table_contains(st->set,
							    a->list_id)) {
			/* a list made since the cache was filled? once */
			if (st->fetched < a->created_ms / 1000) {
				st->force = true;
				a->step = IEM_STEP_LISTS;
				return 1;
			}
			snprintf(err, errlen, "list%s %s is not one of the "
				 "lists of user '%s' (GetLists): subscriber %s "
				 "not "
				 "unsubscribed; it is another user's list, or "
				 "the ids are wrong", iem_several(a) ?
				 "s" : "", iem_lids_shown(a->list_id, shown,
							  sizeof(shown)),
				 p->cfg->username, a->subscriber_id);
			return -1;
		}
	}
	if (a->step == IEM_STEP_UNSUB_ID)
		return iem_request(p->cfg, "subscribers",
				   "UnsubscribeSubscriber", prm, 4, req, err,
				   errlen);
	return iem_request(p->cfg, "subscribers", "GetRecordByID", prm + 2, 1,
			   req, err, errlen);
}

/* iem_build - the request of A's step; 1 when the step needs no call */
static int iem_build(struct provider *p, struct action *a, int64_t now,
		     struct http_req *req, char *err, size_t errlen)
{
	struct iem *st = p->priv;
	bool ids = iem_by_ids(a);

	memset(req, 0, sizeof(*req));
	if (a->op != OP_UNSUBSCRIBE && a->op != OP_COMPLAINT) {
		snprintf(err, errlen, "interspire cannot do operation '%s'",
			 action_op_name(a->op));
		return -1;
	}
	if (a->step != IEM_STEP_LISTS && a->step <= IEM_STEP_LAST &&
	    ids != iem_ids_step(a->step)) {
		snprintf(err, errlen, "step %u is not for %s", (unsigned)a->step,
			 ids ? "a subscriber known by ids" : "an address");
		return -1;
	}
	if (ids && ((!iem_id_ok(a->list_id) &&
		     !route_iem_lids_ok(a->list_id)) ||
		    !iem_id_ok(a->subscriber_id))) {
		snprintf(err, errlen, "%s has no numeric Interspire list and "
			 "subscriber ids", a->addr);
		return -1;
	}
	/* the list is chosen at step IEM_STEP_CHECK: never acted on
	   before */
	if (ids && iem_several(a) && a->step != IEM_STEP_LISTS &&
	    a->step != IEM_STEP_CHECK) {
		a->step = IEM_STEP_CHECK;
		return 1;
	}
	switch (a->step) {
	case IEM_STEP_LISTS:
		/* while a GetLists is on its way the old ids serve, but not
		   an action they may not name (it asks for itself) */
		if (iem_fresh(st, p->cfg, a, now) ||
		    (st->ids && iem_refreshing(st, p->cfg, now) &&
		     !iem_newer(st, a, now))) {
			a->step = iem_after_lists(st, a);
			return 1;
		}
		if (iem_request(p->cfg, "user", "GetLists", NULL, 0, req, err,
				errlen) != 0)
			return -1;
		st->refresh_sent = now > 0 ? now : 1;
		st->force = false;
		return 0;
	case IEM_STEP_FIND:
	case IEM_STEP_FIND_WRITTEN:
		if (st->ids == NULL) {	/* restarted: no cache yet */
			a->step = IEM_STEP_LISTS;
			return 1;
		}
		if (st->ids->len == 0) {
			a->step = PROVIDER_STEP_DONE;
			return 1;
		}
		return iem_build_find(p, a, req, err, errlen);
	case IEM_STEP_UNSUB: {
		struct iem_param prm[4] = {
			{ "emailaddress", a->addr }, { "listid", a->list_id },
			{ "subscriberid", a->subscriber_id },
			{ "skipcheck", "1" },
		};

		if (!iem_id_ok(a->list_id)) {
			snprintf(err, errlen, "list id '%.24s' is not a number",
				 a->list_id);
			return -1;
		}
		/* without the id (an action queued by an older version):
		   the server finds the subscriber by address */
		return iem_request(p->cfg, "subscribers",
				   "UnsubscribeSubscriber", prm,
				   iem_id_ok(a->subscriber_id) ? 4 : 2, req,
				   err, errlen);
	}
	case IEM_STEP_CHECK:
	case IEM_STEP_UNSUB_ID:
	case IEM_STEP_WHO:
		return iem_build_ids(p, a, now, req, err, errlen);
	default:
		snprintf(err, errlen, "unknown step %u", (unsigned)a->step);
		return -1;
	}
}

/* iem_parse_lists - GetLists data (NULL: the user has no list): cache the
   list ids */
static enum provider_result iem_parse_lists(struct iem *st, struct action *a,
					    mxml_node_t *data, char *err,
					    size_t errlen)
{
	GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
	GHashTable *set = g_hash_table_new(g_str_hash, g_str_equal);
	mxml_node_t *item = NULL;
	char id[IEM_ID_MAX + 1];

	while ((item = iem_xml_child(data, item, "item")) != NULL) {
		char *copy;

		if (iem_xml_child_text(item, "listid", id, sizeof(id)) != 0 ||
		    !iem_id_ok(id)) {
			snprintf(err, errlen, "GetLists: an item has no "
				 "numeric <listid>");
			g_hash_table_destroy(set);
			g_ptr_array_free(ids, TRUE);
			return PROVIDER_FAILED;
		}
		if (g_hash_table_contains(set, id))
			continue;
		copy = g_strdup(id);
		g_ptr_array_add(ids, copy);
		g_hash_table_add(set, copy);
	}
	if (ids->len == 0) {
		int64_t sent = st->refresh_sent ? st->refresh_sent : 1;

		if (!st->empty_since)
			st->empty_since = sent;
		if (sent - st->empty_since < IEM_EMPTY_CONFIRM) {
			snprintf(err, errlen, "GetLists: the user has no list, "
				 "or its query failed (xml.php says both "
				 "alike): asked again before it is believed");
			g_hash_table_destroy(set);
			g_ptr_array_free(ids, TRUE);
			st->force = true;
			return PROVIDER_RETRY;
		}
	} else {
		st->empty_since = 0;
	}
	iem_cache_drop(st);
	st->ids = ids;
	st->set = set;
	if (st->refresh_sent)	/* else: a second answer of a cold start */
		st->fetched = st->refresh_sent;
	a->step = iem_after_lists(st, a);
	return a->step == PROVIDER_STEP_DONE ? PROVIDER_DONE : PROVIDER_CONTINUE;
}

/* iem_find_kids - a child of A (step IEM_STEP_UNSUB) per list of the
   user's among the memberships of GetAllListsForEmailAddress data DATA
   (NULL: none) into KIDS; -1 with ERR when an item lacks a numeric id */
static int iem_find_kids(const struct iem *st, const struct action *a,
			 mxml_node_t *data, GArray *kids, char *err,
			 size_t errlen)
{
	GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal,
						 g_free, NULL);
	mxml_node_t *item = NULL;
	char lid[IEM_ID_MAX + 1], sid[IEM_ID_MAX + 1];
	int rc = -1;

	while ((item = iem_xml_child(data, item, "item")) != NULL) {
		struct action c;

		if (iem_xml_child_text(item, "listid", lid, sizeof(lid)) != 0 ||
		    !iem_id_ok(lid) ||
		    iem_xml_child_text(item, "subscriberid", sid,
				       sizeof(sid)) != 0 ||
		    !iem_id_ok(sid)) {
			snprintf(err, errlen, "GetAllListsForEmailAddress: an "
				 "item lacks a numeric <listid> or "
				 "<subscriberid>");
			goto out;
		}
		/* only the user's lists, whatever the server searched */
		if (g_hash_table_contains(seen, lid) ||
		    (st->set && !g_hash_table_contains(st->set, lid)))
			continue;
		g_hash_table_add(seen, g_strdup(lid));
		c = *a;
		c.id = 0;
		c.step = IEM_STEP_UNSUB;
		c.attempts = 0;
		c.last_error[0] = '\0';
		c.resolved[0] = '\0';
		c.resolved_written[0] = '\0';
		g_strlcpy(c.list_id, lid, sizeof(c.list_id));
		g_strlcpy(c.subscriber_id, sid, sizeof(c.subscriber_id));
		g_array_append_val(kids, c);
	}
	rc = 0;
out:
	g_hash_table_destroy(seen);
	return rc;
}

/* iem_kids_have - a child in KIDS names subscriber SID */
static bool iem_kids_have(const GArray *kids, const char *sid)
{
	guint i;

	for (i = 0; i < kids->len; i++)
		if (strcmp(g_array_index(kids, struct action, i).subscriber_id,
			   sid) == 0)
			return true;
	return false;
}

/* iem_parse_find - GetAllListsForEmailAddress data (NULL: nothing found):
   a child per list of the user's.  An address whose record wrote it with
   capitals (iem_two_forms) is searched lower-cased first, spawning
   nothing, its first subscriber noted in A; then as written: a server
   that compares case-insensitively (MySQL) finds that subscriber again
   and every spelling with it, so these children are all; one that
   compares exactly (PostgreSQL) finds other subscribers, so the
   lower-cased form is searched once more, by a child that knows
   (ACTION_F_EXACT).  Nothing is spawned twice: both searches of a
   case-insensitive server find the same rows, only one spawns. */
static enum provider_result iem_parse_find(const struct iem *st,
					   struct action *a,
					   mxml_node_t *data, GArray *spawn,
					   char *err, size_t errlen)
{
	GArray *kids = g_array_new(FALSE, TRUE, sizeof(struct action));
	enum provider_result res = PROVIDER_FAILED;
	struct action again;

	if (iem_find_kids(st, a, data, kids, err, errlen) != 0)
		goto out;
	if (a->step == IEM_STEP_FIND && iem_two_forms(a)) {
		a->list_id[0] = '\0';
		a->subscriber_id[0] = '\0';
		if (kids->len)
			g_strlcpy(a->subscriber_id,
				  g_array_index(kids, struct action, 0)
					  .subscriber_id,
				  sizeof(a->subscriber_id));
		a->step = IEM_STEP_FIND_WRITTEN;
		res = PROVIDER_CONTINUE;
		goto out;
	}
	if (kids->len)
		g_array_append_vals(spawn, kids->data, kids->len);
	if (a->step == IEM_STEP_FIND_WRITTEN && a->subscriber_id[0] &&
	    !iem_kids_have(kids, a->subscriber_id)) {
		again = *a;
		again.id = 0;
		again.step = IEM_STEP_FIND;
		again.flags |= ACTION_F_EXACT;
		again.attempts = 0;
		again.list_id[0] = again.subscriber_id[0] = '\0';
		again.last_error[0] = '\0';
		again.resolved[0] = again.resolved_written[0] = '\0';
		g_array_append_val(spawn, again);
	}
	res = PROVIDER_DONE;
out:
	g_array_free(kids, TRUE);
	return res;
}

/* iem_judge_unsub - the verdict on an UnsubscribeSubscriber failure MSG */
static enum provider_result iem_judge_unsub(const struct action *a,
					    const char *msg, char *err,
					    size_t errlen)
{
	if (strcasestr(msg, IEM_NOT_SUBSCRIBED) != NULL)
		return PROVIDER_DONE;	/* gone already: nothing to do */
	snprintf(err, errlen, "UnsubscribeSubscriber list %s: %s", a->list_id,
		 *msg ? msg : "refused without a reason");
	return PROVIDER_FAILED;
}

/* iem_parse_unsub - UnsubscribeSubscriber SUCCESS, both versions' shapes */
static enum provider_result iem_parse_unsub(const struct action *a,
					    mxml_node_t *data, char *err,
					    size_t errlen)
{
	mxml_node_t *first = iem_xml_child(data, NULL, "item");
	enum provider_result res = PROVIDER_DONE;
	char *ok, *msg;

	if (first == NULL)		/* 6.1.x and later: empty data */
		return PROVIDER_DONE;
	/* 6.1.0: <item>1</item><item></item> or <item></item><item>why</item> */
	ok = iem_xml_text(first);
	if (*ok == '\0' || strcmp(ok, "0") == 0) {
		msg = iem_xml_text(iem_xml_child(data, first, "item"));
		res = iem_judge_unsub(a, msg ? msg : "", err, errlen);
		g_free(msg);
	}
	g_free(ok);
	return res;
}

/* iem_record_number - the number in field NAME of a GetRecordByID row
   (0 when absent or not a number) */
static long long iem_record_number(mxml_node_t *data, const char *name)
{
	char buf[24];

	if (iem_xml_child_text(data, name, buf, sizeof(buf)) != 0 ||
	    !iem_id_ok(buf))
		return 0;
	return g_ascii_strtoll(buf, NULL, 10);
}

/* iem_record_addr - the normalised address of a GetRecordByID row into
   OUT (ADDR_MAX + 1 bytes), and into WRITTEN as Interspire holds it when
   that differs in case only (else ""); "" when it has none that is
   valid */
static void iem_record_addr(mxml_node_t *data, char *out, char *written)
{
	char *e = iem_xml_text(iem_xml_child(data, NULL, "emailaddress"));

	out[0] = written[0] = '\0';
	if (e && addr_normalise(e, strlen(e), out, ADDR_MAX + 1) < 0)
		out[0] = '\0';
	else if (e)
		(void)addr_written(e, strlen(e), out, written);
	g_free(e);
}

/* iem_parse_record - GetRecordByID data of the subscriber of A (steps 3
   and 5); NULL DATA: no such subscriber */
static enum provider_result iem_parse_record(const struct iem *st,
					     struct action *a,
					     mxml_node_t *data, char *err,
					     size_t errlen)
{
	char lid[IEM_ID_MAX + 1], sid[IEM_ID_MAX + 1], shown[64];
	bool complaint = a->klass == CLASS_COMPLAINT;

	a->resolved[0] = a->resolved_written[0] = '\0';
	/* 6.1.0 answers SUCCESS with empty data when there is no row */
	if (data == NULL ||
	    iem_xml_child_text(data, "listid", lid, sizeof(lid)) != 0) {
		/* no such subscriber (deleted), or its query failed, which
		   xml.php answers alike: believed when asked again (the
		   retry, after retry-min), not at once, as the subscriber
		   would stay subscribed */
		if (a->step == IEM_STEP_CHECK &&
		    !(a->flags & ACTION_F_ASKED_AGAIN)) {
			a->flags |= ACTION_F_ASKED_AGAIN;
			snprintf(err, errlen, "GetRecordByID %s: no such "
				 "subscriber, or its query failed (xml.php "
				 "says both alike): asked again before it is "
				 "believed", a->subscriber_id);
			return PROVIDER_RETRY;
		}
		return PROVIDER_DONE;
	}
	if (iem_xml_child_text(data, "subscriberid", sid, sizeof(sid)) == 0 &&
	    strcmp(sid, a->subscriber_id) != 0) {
		snprintf(err, errlen, "GetRecordByID %s answered subscriber "
			 "'%.24s'", a->subscriber_id, sid);
		return a->step == IEM_STEP_WHO ? PROVIDER_DONE : PROVIDER_FAILED;
	}
	if (a->step == IEM_STEP_CHECK && iem_several(a) && iem_id_ok(lid) &&
	    iem_lids_have(a->list_id, lid)) {
		/* a subscriber id is one row of one list (list_subscribers'
		   key): GetRecordByID names the list of those the mail was
		   sent to that holds it; acted on when it is the user's */
		if (st->set == NULL || !g_hash_table_contains(st->set, lid)) {
			snprintf(err, errlen, "subscriber %s is on list %s (of "
				 "lists %s), which is not one of the user's "
				 "lists (GetLists): not unsubscribed",
				 a->subscriber_id, lid,
				 iem_lids_shown(a->list_id, shown,
						sizeof(shown)));
			return PROVIDER_FAILED;
		}
		g_strlcpy(a->list_id, lid, sizeof(a->list_id));
	}
	if (strcmp(lid, a->list_id) != 0) {
		snprintf(err, errlen, "subscriber %s is on list '%.24s', not "
			 "on list%s %s: the ids do not match, nothing done",
			 a->subscriber_id, lid, iem_several(a) ? "s" : "",
			 iem_lids_shown(a->list_id, shown, sizeof(shown)));
		return a->step == IEM_STEP_WHO ? PROVIDER_DONE : PROVIDER_FAILED;
	}
	if (complaint)
		iem_record_addr(data, a->resolved, a->resolved_written);
	if (a->step == IEM_STEP_CHECK &&
	    iem_record_number(data, "unsubscribed") == 0 &&
	    iem_record_number(data, "bounced") == 0) {
		/* learnt again after step 4 */
		a->resolved[0] = a->resolved_written[0] = '\0';
		a->step = IEM_STEP_UNSUB_ID;
		return PROVIDER_CONTINUE;
	}
	return PROVIDER_DONE;	/* gone already, or step 5 */
}

/* iem_refused - MSG says the server refuses our credentials (or the
   whole installation is disabled): the hint for the operator, or NULL */
static const char *iem_refused(const char *msg)
{
	if (strstr(msg, "Unable to check user details") != NULL ||
	    strcasestr(msg, "Invalid details") != NULL)
		return "check username and usertoken, that the user is active "
		       "and may use the XML API; after repeated failed logins "
		       "Interspire refuses this address for a while (by "
		       "default 5 failures in 5 minutes ban it for 5 minutes)";
	if (strstr(msg, "contact your system admin") != NULL)
		return "the Interspire installation is not active (licence or "
		       "system setting)";
	return NULL;
}

/* iem_parse_http - the verdict on an answer that is not HTTP 200 */
static enum provider_result iem_parse_http(const struct http_resp *resp,
					   char *err, size_t errlen)
{
	if (resp->status == 408) {
		snprintf(err, errlen, "HTTP 408 (request timeout)");
		return PROVIDER_RETRY;
	}
	if (resp->status == 401 || resp->status == 403) {
		snprintf(err, errlen, "HTTP %ld: the web server in front of "
			 "xml.php refuses us (its own authentication or access "
			 "rules; xml.php itself always answers 200)",
			 resp->status);
		return PROVIDER_PAUSE;
	}
	if (resp->status >= 300 && resp->status < 400)
		snprintf(err, errlen, "HTTP %ld: redirects are not followed, "
			 "set endpoint to the final URL of xml.php",
			 resp->status);
	else
		snprintf(err, errlen, "HTTP %ld: xml.php always answers 200, "
			 "check endpoint", resp->status);
	return PROVIDER_FAILED;
}

/* iem_parse_failed - the verdict on a FAILED answer MSG at A's step */
static enum provider_result iem_parse_failed(struct iem *st, struct action *a,
					     const char *name, const char *msg,
					     GArray *spawn, char *err,
					     size_t errlen)
{
	const char *hint = iem_refused(msg);

	if (hint) {
		snprintf(err, errlen, "%s: %s (%s)", name, msg, hint);
		return PROVIDER_PAUSE;
	}
	switch (a->step) {
	case IEM_STEP_UNSUB:
	case IEM_STEP_UNSUB_ID:
		return iem_judge_unsub(a, msg, err, errlen);
	case IEM_STEP_LISTS:
		if (*msg == '\0')	/* the user has no list */
			return iem_parse_lists(st, a, NULL, err, errlen);
		break;
	case IEM_STEP_FIND:
	case IEM_STEP_FIND_WRITTEN:
		if (*msg == '\0')	/* the address is on none of them */
			return iem_parse_find(st, a, NULL, spawn, err, errlen);
		break;
	case IEM_STEP_CHECK:
		if (*msg == '\0')	/* no such subscriber */
			return iem_parse_record(st, a, NULL, err, errlen);
		break;
	case IEM_STEP_WHO:	/* unsubscribed already: the address is a
				   bonus, not worth the action */
		snprintf(err, errlen, "%s: %s", name, msg);
		return iem_parse_record(st, a, NULL, err, errlen);
	}
	snprintf(err, errlen, "%s: %s", name,
		 *msg ? msg : "FAILED without a reason");
	return PROVIDER_FAILED;
}

/* iem_parse - judge the answer to A's step */
static enum provider_result iem_parse(struct provider *p, struct action *a,
				      const struct http_resp *resp,
				      GArray *spawn, char *err, size_t errlen)
{
	static const char *const names[] = {
		[IEM_STEP_LISTS] = "GetLists",
		[IEM_STEP_FIND] = "GetAllListsForEmailAddress",
		[IEM_STEP_UNSUB] = "UnsubscribeSubscriber",
		[IEM_STEP_CHECK] = "GetRecordByID",
		[IEM_STEP_UNSUB_ID] = "UnsubscribeSubscriber",
		[IEM_STEP_WHO] = "GetRecordByID",
		[IEM_STEP_FIND_WRITTEN] = "GetAllListsForEmailAddress",
	};
	struct iem *st = p->priv;
	bool lists = a->step == IEM_STEP_LISTS;
	struct iem_answer ans;
	enum provider_result res;
	char why[200] = "";
	int rc;

	a->resolved[0] = '\0';
	a->resolved_written[0] = '\0';
	if (a->step > IEM_STEP_LAST) {
		snprintf(err, errlen, "unknown step %u", (unsigned)a->step);
		return PROVIDER_FAILED;
	}
	if (resp->status != 200) {
		res = iem_parse_http(resp, err, errlen);
		goto done;
	}
	rc = iem_xml_parse(resp->body, resp->body_len, &ans, why, sizeof(why));
	if (rc) {
		snprintf(err, errlen, "%s: %s", names[a->step], why);
		res = rc == -EPROTO ? PROVIDER_FAILED : PROVIDER_RETRY;
		goto done;
	}
	if (ans.status == IEM_FAILED) {
		res = iem_parse_failed(st, a, names[a->step], ans.errormessage,
				       spawn, err, errlen);
		goto out;
	}
	switch (a->step) {
	case IEM_STEP_LISTS:
		res = iem_parse_lists(st, a, ans.data, err, errlen);
		break;
	case IEM_STEP_FIND:
	case IEM_STEP_FIND_WRITTEN:
		res = iem_parse_find(st, a, ans.data, spawn, err, errlen);
		break;
	case IEM_STEP_CHECK:
	case IEM_STEP_WHO:
		res = iem_parse_record(st, a, ans.data, err, errlen);
		break;
	default:
		res = iem_parse_unsub(a, ans.data, err, errlen);
		if (res == PROVIDER_DONE && a->step == IEM_STEP_UNSUB_ID &&
		    a->klass == CLASS_COMPLAINT) {
			a->step = IEM_STEP_WHO;
			res = PROVIDER_CONTINUE;
		}
		break;
	}
out:
	iem_xml_answer_clear(&ans);
done:
	if (lists)
		st->refresh_sent = 0;	/* the refresh is over, whatever came */
	return res;
}

/* iem_probe - authentication/xmlapitest: endpoint, TLS and credentials,
   nothing changed at the server */
static int iem_probe(struct provider *p, int64_t now, struct http_req *req,
		     char *err, size_t errlen)
{
	(void)now;
	return iem_request(p->cfg, "authentication", "xmlapitest", NULL, 0,
			   req, err, errlen);
}

/* iem_probe_parse - the verdict on the xmlapitest answer; on success ERR
   names the user the server knows */
static enum provider_result iem_probe_parse(struct provider *p,
					    const struct http_resp *resp,
					    char *err, size_t errlen)
{
	struct iem_answer ans;
	enum provider_result res;
	mxml_node_t *who;
	char why[200] = "", id[IEM_ID_MAX + 1] = "", *name;
	const char *hint;
	int rc;

	if (resp->status == 429 || resp->status >= 500) {
		snprintf(err, errlen, "HTTP %ld: the server is in trouble, try "
			 "again later", resp->status);
		return PROVIDER_RETRY;
	}
	if (resp->status != 200)
		return iem_parse_http(resp, err, errlen);
	rc = iem_xml_parse(resp->body, resp->body_len, &ans, why, sizeof(why));
	if (rc) {
		snprintf(err, errlen, "xmlapitest: %s", why);
		return rc == -EPROTO ? PROVIDER_FAILED : PROVIDER_RETRY;
	}
	if (ans.status == IEM_FAILED) {
		hint = iem_refused(ans.errormessage);
		if (hint)
			snprintf(err, errlen, "xmlapitest: %s (%s)",
				 ans.errormessage, hint);
		else
			snprintf(err, errlen, "xmlapitest: %s (is endpoint the "
				 "xml.php of Interspire Email Marketer?)",
				 *ans.errormessage ? ans.errormessage :
						     "FAILED without a reason");
		res = hint ? PROVIDER_PAUSE : PROVIDER_FAILED;
		goto out;
	}
	/* 6.1.x: <data><userid/><username/>; 6.5.x: <data><user>... */
	who = iem_xml_child(ans.data, NULL, "user");
	if (who == NULL)
		who = ans.data;
	(void)iem_xml_child_text(who, "userid", id, sizeof(id));
	name = iem_xml_text(iem_xml_child(who, NULL, "username"));
	snprintf(err, errlen, "xml.php accepts user '%.100s'%s%s%s",
		 name && *name ? name : p->cfg->username,
		 iem_id_ok(id) ? " (id " : "", iem_id_ok(id) ? id : "",
		 iem_id_ok(id) ? ")" : "");
	g_free(name);
	res = PROVIDER_DONE;
out:
	iem_xml_answer_clear(&ans);
	return res;
}

/* iem_release - drop the list cache */
static void iem_release(struct provider *p)
{
	struct iem *st = p->priv;

	if (st)
		iem_cache_drop(st);
	g_free(st);
	p->priv = NULL;
}

/* iem_route - Interspire records no campaign bounces: complaints and
   unsubscribes, a hard or escalated bounce unsubscribes */
static int iem_route(const struct config_provider *p, const struct event *ev,
		     enum rcpt_outcome o, struct route_op *op)
{
	(void)p;
	(void)ev;
	return route_plain(o, false, op);
}

/* iem_ids - the list and subscriber ids of EV (X-Mailer-LID and
   X-Mailer-RecptId), both or neither */
static void iem_ids(const struct config_provider *p, const struct event *ev,
		    struct action *a)
{
	const struct event_extra *x = ev->x;

	(void)p;
	if (x && x->iem_list_id && x->iem_subscriber_id &&
	    route_iem_lids_ok(x->iem_list_id) &&
	    route_iem_id_ok(x->iem_subscriber_id)) {
		g_strlcpy(a->list_id, x->iem_list_id, sizeof(a->list_id));
		g_strlcpy(a->subscriber_id, x->iem_subscriber_id,
			  sizeof(a->subscriber_id));
	}
}

/* iem_uid_actor - Interspire acts by list and subscriber id */
static bool iem_uid_actor(const struct action *a)
{
	return a->subscriber_id[0] && a->list_id[0];
}

/* iem_report_kind - an Interspire list id (X-Mailer-LID) in R */
static bool iem_report_kind(const struct arf_report *r, char *why,
			    size_t whylen)
{
	char shown[64];

	if (!route_iem_lids_ok(r->mailer_lid))
		return false;
	snprintf(why, whylen, "X-Mailer-LID %s (an Interspire provider is "
		 "configured)", iem_lids_shown(r->mailer_lid, shown,
					       sizeof(shown)));
	return true;
}

const struct provider_ops provider_interspire_ops = {
	.type = "interspire",
	.label = "Interspire",
	.route = iem_route,
	.ids = iem_ids,
	.uid_actor = iem_uid_actor,
	.report_kind = iem_report_kind,
	.init = iem_init,
	.build = iem_build,
	.parse = iem_parse,
	.release = iem_release,
	.probe = iem_probe,
	.probe_parse = iem_probe_parse,
	/* xml.php bans an address after 5 failed logins within 300 s (by
	   default): a paused provider's probes stay below that */
	.pause_probe_ms = 150000,
};
