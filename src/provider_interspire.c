/*
 * provider_interspire.c - unsubscribe an address from every list of an
 * Interspire Email Marketer through its XML API (xml.php).
 *
 * OP_UNSUBSCRIBE and OP_COMPLAINT run in three steps:
 *   0  user/GetLists, unless the cached list ids are younger than
 *      list-refresh: then build() moves to step 1 without a call.
 *   1  subscribers/GetAllListsForEmailAddress (email, listids joined by
 *      commas) -> one child action per distinct list (step 2, list_id,
 *      subscriber_id) and this action is done; no list: done, no call.
 *      Without cached ids (a restart) it goes back to step 0 first.
 *   2  subscribers/UnsubscribeSubscriber (emailaddress, listid) -> done,
 *      also when the address "is not subscribed" any more.
 * Both answer shapes of UnsubscribeSubscriber are understood: 6.1.5
 * answers FAILED with the reason, 6.1.0 always SUCCESS with the items
 * <item>1</item><item></item> (done) or <item></item><item>reason</item>.
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
 *   - another HTTP status: failed (a wrong endpoint), but 408: retried;
 *   - an answer that is not a whole XML document (empty, a PHP error page,
 *     cut short): retried, as such pages are usually passing trouble and
 *     the dispatcher gives up after max-age;
 *   - XML that is not an Interspire <response>: failed;
 *   - FAILED "Unable to check user details." (bad username or token):
 *     failed, naming the credentials; any other FAILED text: failed with
 *     it, except "not subscribed" at step 2, which is done;
 *   - ids in answers must be decimal numbers: an answer with another one
 *     fails as a whole (no child is spawned from a partly bad answer).
 * Addresses that XML cannot carry (not UTF-8, control characters) make
 * build() fail: such an action can never be sent.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "iem_xml.h"
#include "provider.h"

#define IEM_STEP_LISTS 0	/* user/GetLists (cached) */
#define IEM_STEP_FIND 1		/* subscribers/GetAllListsForEmailAddress */
#define IEM_STEP_UNSUB 2	/* subscribers/UnsubscribeSubscriber */

#define IEM_ID_MAX 20		/* digits of a list or subscriber id */
#define IEM_MSG_BAD_USER "Unable to check user details"
#define IEM_MSG_NOT_SUBSCRIBED "not subscribed"

/* the private state: the list cache */
struct iem {
	char *listids;		/* ids of the last GetLists joined by commas
				   ("" when none); NULL: never fetched */
	unsigned n_lists;
	int64_t fetched;	/* wall time (s) that GetLists was sent */
	int64_t refresh_sent;	/* wall time of the last GetLists sent, 0 when
				   its answer came */
};

/* iem_id_ok - S is a decimal id of 1..IEM_ID_MAX digits */
static bool iem_id_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (s[i] < '0' || s[i] > '9' || i >= IEM_ID_MAX)
			return false;
	return i > 0;
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

/* iem_fresh - the cached list ids are younger than list-refresh at NOW */
static bool iem_fresh(const struct iem *st, const struct config_provider *cfg,
		      int64_t now)
{
	if (st->listids == NULL || now < st->fetched)
		return false;
	return now - st->fetched < cfg->list_refresh;
}

/* iem_refreshing - a GetLists sent before NOW may still be answered */
static bool iem_refreshing(const struct iem *st,
			   const struct config_provider *cfg, int64_t now)
{
	int64_t limit = cfg->timeout > 0 ? cfg->timeout : 30;

	return st->refresh_sent > 0 && now >= st->refresh_sent &&
	       now - st->refresh_sent <= limit;
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

/* iem_build - the request of A's step; 1 when the step needs no call */
static int iem_build(struct provider *p, struct action *a, int64_t now,
		     struct http_req *req, char *err, size_t errlen)
{
	struct iem *st = p->priv;

	memset(req, 0, sizeof(*req));
	if (a->op != OP_UNSUBSCRIBE && a->op != OP_COMPLAINT) {
		snprintf(err, errlen, "interspire cannot do operation '%s'",
			 action_op_name(a->op));
		return -1;
	}
	switch (a->step) {
	case IEM_STEP_LISTS:
		if (iem_fresh(st, p->cfg, now) ||
		    (st->listids && iem_refreshing(st, p->cfg, now))) {
			a->step = st->n_lists ? IEM_STEP_FIND : PROVIDER_STEP_DONE;
			return 1;
		}
		if (iem_request(p->cfg, "user", "GetLists", NULL, 0, req, err,
				errlen) != 0)
			return -1;
		st->refresh_sent = now > 0 ? now : 1;
		return 0;
	case IEM_STEP_FIND: {
		struct iem_param prm[2] = {
			{ "email", a->addr }, { "listids", st->listids },
		};

		if (st->listids == NULL) {	/* restarted: no cache yet */
			a->step = IEM_STEP_LISTS;
			return 1;
		}
		if (st->n_lists == 0) {
			a->step = PROVIDER_STEP_DONE;
			return 1;
		}
		return iem_request(p->cfg, "subscribers",
				   "GetAllListsForEmailAddress", prm, 2, req,
				   err, errlen);
	}
	case IEM_STEP_UNSUB: {
		struct iem_param prm[2] = {
			{ "emailaddress", a->addr }, { "listid", a->list_id },
		};

		if (!iem_id_ok(a->list_id)) {
			snprintf(err, errlen, "list id '%.24s' is not a number",
				 a->list_id);
			return -1;
		}
		return iem_request(p->cfg, "subscribers",
				   "UnsubscribeSubscriber", prm, 2, req, err,
				   errlen);
	}
	default:
		snprintf(err, errlen, "unknown step %u", (unsigned)a->step);
		return -1;
	}
}

/* iem_parse_lists - GetLists data: cache the list ids */
static enum provider_result iem_parse_lists(struct iem *st, struct action *a,
					    mxml_node_t *data, char *err,
					    size_t errlen)
{
	GString *ids = g_string_new(NULL);
	mxml_node_t *item = NULL;
	char id[IEM_ID_MAX + 1];
	unsigned n = 0;

	while ((item = iem_xml_child(data, item, "item")) != NULL) {
		if (iem_xml_child_text(item, "listid", id, sizeof(id)) != 0 ||
		    !iem_id_ok(id)) {
			snprintf(err, errlen, "GetLists: an item has no "
				 "numeric <listid>");
			g_string_free(ids, TRUE);
			return PROVIDER_FAILED;
		}
		g_string_append_printf(ids, "%s%s", n ? "," : "", id);
		n++;
	}
	g_free(st->listids);
	st->listids = g_string_free(ids, FALSE);
	st->n_lists = n;
	if (st->refresh_sent)	/* else: a second answer of a cold start */
		st->fetched = st->refresh_sent;
	if (n == 0)
		return PROVIDER_DONE;	/* the user has no list */
	a->step = IEM_STEP_FIND;
	return PROVIDER_CONTINUE;
}

/* iem_parse_find - GetAllListsForEmailAddress data: a child per list */
static enum provider_result iem_parse_find(const struct action *a,
					   mxml_node_t *data, GArray *spawn,
					   char *err, size_t errlen)
{
	GArray *kids = g_array_new(FALSE, TRUE, sizeof(struct action));
	GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal,
						 g_free, NULL);
	enum provider_result res = PROVIDER_FAILED;
	mxml_node_t *item = NULL;
	char lid[IEM_ID_MAX + 1], sid[IEM_ID_MAX + 1];

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
		if (g_hash_table_contains(seen, lid))
			continue;
		g_hash_table_add(seen, g_strdup(lid));
		c = *a;
		c.id = 0;
		c.step = IEM_STEP_UNSUB;
		c.attempts = 0;
		c.last_error[0] = '\0';
		g_strlcpy(c.list_id, lid, sizeof(c.list_id));
		g_strlcpy(c.subscriber_id, sid, sizeof(c.subscriber_id));
		g_array_append_val(kids, c);
	}
	if (kids->len)
		g_array_append_vals(spawn, kids->data, kids->len);
	res = PROVIDER_DONE;
out:
	g_hash_table_destroy(seen);
	g_array_free(kids, TRUE);
	return res;
}

/* iem_judge_unsub - the verdict on an UnsubscribeSubscriber failure MSG */
static enum provider_result iem_judge_unsub(const struct action *a,
					    const char *msg, char *err,
					    size_t errlen)
{
	if (strcasestr(msg, IEM_MSG_NOT_SUBSCRIBED) != NULL)
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

	if (first == NULL)		/* 6.1.5: empty data */
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

/* iem_parse_http - the verdict on an answer that is not HTTP 200 */
static enum provider_result iem_parse_http(const struct http_resp *resp,
					   char *err, size_t errlen)
{
	if (resp->status == 408) {
		snprintf(err, errlen, "HTTP 408 (request timeout)");
		return PROVIDER_RETRY;
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

/* iem_parse - judge the answer to A's step */
static enum provider_result iem_parse(struct provider *p, struct action *a,
				      const struct http_resp *resp,
				      GArray *spawn, char *err, size_t errlen)
{
	static const char *const names[] = {
		[IEM_STEP_LISTS] = "GetLists",
		[IEM_STEP_FIND] = "GetAllListsForEmailAddress",
		[IEM_STEP_UNSUB] = "UnsubscribeSubscriber",
	};
	struct iem *st = p->priv;
	bool lists = a->step == IEM_STEP_LISTS;
	struct iem_answer ans;
	enum provider_result res;
	char why[200] = "";
	int rc;

	if (a->step > IEM_STEP_UNSUB) {
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
		if (strstr(ans.errormessage, IEM_MSG_BAD_USER) != NULL) {
			snprintf(err, errlen, "%s: %s (check username and "
				 "usertoken)", names[a->step], ans.errormessage);
			res = PROVIDER_FAILED;
		} else if (a->step == IEM_STEP_UNSUB) {
			res = iem_judge_unsub(a, ans.errormessage, err, errlen);
		} else {
			snprintf(err, errlen, "%s: %s", names[a->step],
				 *ans.errormessage ? ans.errormessage :
						     "FAILED without a reason");
			res = PROVIDER_FAILED;
		}
		goto out;
	}
	switch (a->step) {
	case IEM_STEP_LISTS:
		res = iem_parse_lists(st, a, ans.data, err, errlen);
		break;
	case IEM_STEP_FIND:
		res = iem_parse_find(a, ans.data, spawn, err, errlen);
		break;
	default:
		res = iem_parse_unsub(a, ans.data, err, errlen);
		break;
	}
out:
	iem_xml_answer_clear(&ans);
done:
	if (lists)
		st->refresh_sent = 0;	/* the refresh is over, whatever came */
	return res;
}

/* iem_release - drop the list cache */
static void iem_release(struct provider *p)
{
	struct iem *st = p->priv;

	if (st)
		g_free(st->listids);
	g_free(st);
	p->priv = NULL;
}

const struct provider_ops provider_interspire_ops = {
	.type = "interspire",
	.init = iem_init,
	.build = iem_build,
	.parse = iem_parse,
	.release = iem_release,
};
