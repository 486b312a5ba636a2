/*
 * classify.c - hard, soft, complaint, delivery or ignore for one record.
 *
 * Pure functions over the configured category lists; no allocation, no
 * errors.  The DSN fallback table is documented in docs/CLASSIFY.md and
 * pinned by tests/unit/test_classify.c: keep the three in step.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "classify.h"
#include "classify_override.h"
#include "config.h"
#include "strhash.h"

/* answers kept, by hash: sets of two, the one of a pair taken when
   both are used the one not answered last (a few dozen categories,
   statuses and texts in a file; one slot per hash let two of them
   that shared it take it from each other at every record) */
#define CM_SETS 128
#define CM_WAYS 2
#define CM_KEY 480		/* bytes of category, status and text kept */

/* one answer: the record's category, status and text, one after the
   other, and what they gave */
struct cm_slot {
	uint64_t h;
	uint16_t lc, ls, ld;
	bool used;
	uint8_t klass;
	uint16_t rule_hit;	/* the rule that named the category, + 1 */
	uint8_t x7;		/* the event's status_x7 */
	uint8_t cat_ix;		/* ... and its cat_ix */
	const char *cat;	/* that category (the rule's), or NULL */
	char key[CM_KEY];
};

struct classify_memo {
	struct cm_slot s[CM_SETS][CM_WAYS];
	uint8_t last[CM_SETS];	/* the way answered or filled last */
};

struct classify_memo *classify_memo_new(void)
{
	return calloc(1, sizeof(struct classify_memo));
}

void classify_memo_free(struct classify_memo *m)
{
	free(m);
}

void classify_rules_from_config(struct classify_rules *r,
				const struct config *cfg)
{
	r->hard = cfg->hard_categories;
	r->soft = cfg->soft_categories;
	r->ignore = cfg->ignore_categories;
	r->complaint_types = cfg->complaint_types;
	r->over = NULL;
	r->memo = NULL;
}

static int classify_in_list(char **list, const char *s)
{
	if (!list || !s)
		return 0;
	for (; *list; list++)
		if (strcasecmp(*list, s) == 0)
			return 1;
	return 0;
}

static int classify_isdigit(char c)
{
	return c >= '0' && c <= '9';
}

/* classify_status_at - length of an "C.SSS.DDD" status at S, or 0 */
static size_t classify_status_at(const char *s)
{
	size_t i = 0, n;

	if (s[0] != '2' && s[0] != '4' && s[0] != '5')
		return 0;
	if (s[1] != '.')
		return 0;
	i = 2;
	for (n = 0; n < 3 && classify_isdigit(s[i]); n++)
		i++;
	if (n == 0 || s[i] != '.')
		return 0;
	i++;
	for (n = 0; n < 3 && classify_isdigit(s[i]); n++)
		i++;
	/* "5.1.1.7" is an IPv4 address, not a status */
	if (n == 0 || classify_isdigit(s[i]) ||
	    (s[i] == '.' && classify_isdigit(s[i + 1])))
		return 0;
	return i;
}

/* classify_find_status - the first enhanced status code in TEXT */
int classify_find_status(const char *text, char *out, size_t outlen)
{
	const char *p;

	if (!text || outlen == 0)
		return -1;
	for (p = text; *p; p++) {
		size_t n;

		if (p > text && (classify_isdigit(p[-1]) || p[-1] == '.'))
			continue;
		n = classify_status_at(p);
		if (n && n < outlen) {
			memcpy(out, p, n);
			out[n] = '\0';
			return 0;
		}
	}
	return -1;
}

/* classify_status_class - the class of a well-formed status code */
static int classify_status_class(const char *st)
{
	static const char *const hard[] = {
		"5.1.0", "5.1.1", "5.1.2", "5.1.3", "5.1.6", "5.1.10",
		"5.2.1", "5.4.4", NULL,
	};
	size_t i;

	if (st[0] == '2')
		return CLASS_IGNORE;
	if (st[0] == '4')
		return CLASS_SOFT;
	for (i = 0; hard[i]; i++)
		if (strcmp(st, hard[i]) == 0)
			return CLASS_HARD;
	return CLASS_SOFT;
}

const char *classify_status_of(const char *status, const char *diag,
			       char *out, size_t outlen)
{
	if (status && classify_find_status(status, out, outlen) == 0)
		return out;
	if (diag && classify_find_status(diag, out, outlen) == 0)
		return out;
	return NULL;
}

/* classify_dsn - class implied by the DSN status (or the diag text) */
int classify_dsn(const char *status, const char *diag)
{
	char st[16];

	if (!classify_status_of(status, diag, st, sizeof(st)))
		return -1;
	return classify_status_class(st);
}

/* classify_transient - is the server's code 4.x.x (dsnStatus, else the
   first code of the text, as classify_dsn reads them)? */
static bool classify_transient(const char *status, const char *diag)
{
	char st[16];

	return classify_status_of(status, diag, st, sizeof(st)) &&
	       st[0] == '4';
}

const char *const classify_cat_names[CLASSIFY_CATS] = {
	"bad-mailbox", "bad-domain", "inactive-mailbox", "quota-issues",
	"no-answer-from-host", "bad-connection", "bad-configuration",
	"content-related", "invalid-sender", "message-expired",
	"policy-related", "protocol-errors", "relaying-issues",
	"routing-errors", "spam-related", "virus-related", "other",
};

int classify_cat_index(const char *cat)
{
	int i;

	/* the first byte rules out most names without a call; strcasecmp
	   is ASCII-only in the C locale, which the program never leaves */
	for (i = 0; cat && *cat && i < CLASSIFY_CATS; i++)
		if ((*cat | 0x20) == classify_cat_names[i][0] &&
		    strcasecmp(cat, classify_cat_names[i]) == 0)
			return i;
	return -1;
}

/* classify_cat_ix - the event's cat_ix of category CAT */
static uint8_t classify_cat_ix(const char *cat)
{
	int i = classify_cat_index(cat);

	return i < 0 ? EVENT_CAT_UNLISTED : (uint8_t)(i + 1);
}

uint8_t classify_status_x7(const char *status, const char *diag)
{
	char found[16];
	const char *st = classify_status_of(status, diag, found,
					    sizeof(found));

	return st && (st[0] == '5' || st[0] == '4') && st[1] == '.' &&
			       st[2] == '7' && st[3] == '.' ?
		       EVENT_X7_YES :
		       EVENT_X7_NO;
}

/* classify_bounce_rules - class of a b or rb record by the rules */
static enum event_class classify_bounce_rules(const struct classify_rules *r,
					      struct event *ev)
{
	const char *cat = ev->bounce_cat;
	int k;

	if (r->over && ((ev->dsn_diag && *ev->dsn_diag) ||
			(ev->dsn_status && *ev->dsn_status))) {
		const char *oc = NULL;
		int i = classify_overrides_match(r->over, ev->dsn_status,
						 ev->dsn_diag, &oc);

		if (i >= 0 && oc) {
			ev->bounce_cat = cat = oc;
			ev->rule_hit = (uint16_t)(i + 1);
		}
	}

	if (cat && *cat) {
		if (classify_in_list(r->hard, cat))
			/* PowerMTA's category is a guess from the text; the
			   server's own 4.x.x status says it may pass (a
			   "mailbox unavailable" that was busy, a message
			   expired): soft, to escalate if it lasts.  An
			   operator's rule is taken as it says */
			return !ev->rule_hit &&
					       classify_transient(ev->dsn_status,
								  ev->dsn_diag) ?
				       CLASS_SOFT : CLASS_HARD;
		if (classify_in_list(r->soft, cat))
			return CLASS_SOFT;
		if (classify_in_list(r->ignore, cat))
			return CLASS_IGNORE;
	}
	k = classify_dsn(ev->dsn_status, ev->dsn_diag);
	if (k < 0)
		return CLASS_SOFT; /* a bounce we cannot read is still a bounce */
	return (enum event_class)k;
}

/* cm_same - is SL the answer for these three strings? */
static bool cm_same(const struct cm_slot *sl, uint64_t h, const char *c,
		    size_t lc, const char *st, size_t ls, const char *d,
		    size_t ld)
{
	return sl->used && sl->h == h && sl->lc == lc && sl->ls == ls &&
	       sl->ld == ld && memcmp(sl->key, c, lc) == 0 &&
	       memcmp(sl->key + lc, st, ls) == 0 &&
	       memcmp(sl->key + lc + ls, d, ld) == 0;
}

/* classify_bounce - class of a b or rb record: the memo's answer for
   its category, status and text (NULL and empty alike, as the rules
   read them), else the rules', kept */
static enum event_class classify_bounce(const struct classify_rules *r,
					struct event *ev)
{
	const char *c = ev->bounce_cat ? ev->bounce_cat : "";
	const char *st = ev->dsn_status ? ev->dsn_status : "";
	const char *d = ev->dsn_diag ? ev->dsn_diag : "";
	const char *cat_before = ev->bounce_cat;
	struct cm_slot *sl;
	size_t lc, ls, ld, set, w;
	enum event_class k;
	uint64_t h;

	if (!r->memo)
		goto rules;
	lc = strnlen(c, CM_KEY + 1);
	ls = strnlen(st, CM_KEY + 1);
	ld = strnlen(d, CM_KEY + 1);
	if (lc + ls + ld > CM_KEY)
		goto rules;
	h = strhash(strhash(strhash(1, c, lc), st, ls), d, ld);
	set = (size_t)(h % CM_SETS);
	for (w = 0; w < CM_WAYS; w++) {
		sl = &r->memo->s[set][w];
		if (!cm_same(sl, h, c, lc, st, ls, d, ld))
			continue;
		r->memo->last[set] = (uint8_t)w;
		if (sl->cat) {
			ev->bounce_cat = sl->cat;
			ev->rule_hit = sl->rule_hit;
		}
		ev->status_x7 = sl->x7;
		ev->cat_ix = sl->cat_ix;
		return (enum event_class)sl->klass;
	}
	/* a free way, else the one not answered last */
	for (w = 0; w < CM_WAYS && r->memo->s[set][w].used; w++)
		;
	if (w == CM_WAYS)
		w = (size_t)(r->memo->last[set] + 1) % CM_WAYS;
	r->memo->last[set] = (uint8_t)w;
	sl = &r->memo->s[set][w];
	k = classify_bounce_rules(r, ev);
	sl->used = true;
	sl->h = h;
	sl->lc = (uint16_t)lc;
	sl->ls = (uint16_t)ls;
	sl->ld = (uint16_t)ld;
	memcpy(sl->key, c, lc);
	memcpy(sl->key + lc, st, ls);
	memcpy(sl->key + lc + ls, d, ld);
	sl->klass = (uint8_t)k;
	sl->cat = ev->bounce_cat != cat_before ? ev->bounce_cat : NULL;
	sl->rule_hit = sl->cat ? ev->rule_hit : 0;
	sl->x7 = ev->status_x7 = classify_status_x7(ev->dsn_status, ev->dsn_diag);
	sl->cat_ix = ev->cat_ix = classify_cat_ix(ev->bounce_cat);
	return k;
rules:
	ev->status_x7 = classify_status_x7(ev->dsn_status, ev->dsn_diag);
	k = classify_bounce_rules(r, ev);
	ev->cat_ix = classify_cat_ix(ev->bounce_cat);
	return k;
}

void classify_event(const struct classify_rules *r, struct event *ev)
{
	switch (ev->kind) {
	case EV_BOUNCE:
	case EV_REMOTE_BOUNCE:
		ev->klass = classify_bounce(r, ev);
		break;
	case EV_FEEDBACK:
	case EV_ARF:
		if (!ev->feedback_type || !*ev->feedback_type ||
		    classify_in_list(r->complaint_types, ev->feedback_type))
			ev->klass = CLASS_COMPLAINT;
		else if (strcasecmp(ev->feedback_type, "opt-out") == 0 ||
			 strcasecmp(ev->feedback_type, "opt-out-list") == 0)
			/* the ARF drafts' request to be taken off the list:
			   an unsubscribe, not a complaint */
			ev->klass = CLASS_UNSUB;
		else
			ev->klass = CLASS_FEEDBACK_OTHER;
		break;
	case EV_DELIVERY:
		ev->klass = CLASS_DELIVERY;
		break;
	case EV_LIST:
	case EV_UNSUB_MAIL:
		ev->klass = CLASS_UNSUB;
		break;
	case EV_SKIPPED:
	case EV_NONE:
		ev->klass = CLASS_IGNORE;
		break;
	}
}
