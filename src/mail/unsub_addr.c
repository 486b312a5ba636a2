/*
 * unsub_addr.c - unsubscribe address forms: compile the configured
 * templates, read an envelope recipient with them, sign and format
 * addresses (the rules are in include/unsub_addr.h).
 *
 * Every value taken from an address is checked for length and alphabet
 * here, before it can reach a URL.  Matching works on fixed buffers: an
 * address is at most ADDR_MAX bytes, a local part at most 64, a value at
 * most UNSUB_VALUE_MAX - 1.  Errors go into the caller's buffer; nothing
 * here logs or exits.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "errmsg.h"
#include "addr.h"
#include "event.h"
#include "unsub_addr.h"

#define UA_LOCAL_MAX 64		/* bytes of a local part (RFC 5321) */
#define UA_FORM_MAX 255		/* bytes of one form as written */
#define UA_TOKS_MAX 16		/* pieces of a local part template */
#define UA_SHOW_MAX 64		/* bytes of a value quoted in a message */

enum ua_ph {
	PH_LITERAL = 0,
	PH_SUBSCRIBER_UID,
	PH_LIST_UID,
	PH_CAMPAIGN_UID,
	PH_SUBSCRIBER_ID,
	PH_LIST_ID,
	PH_SIGNATURE,
	PH_COUNT
};

enum ua_alpha { ALPHA_ALNUM, ALPHA_DIGIT, ALPHA_HEX };

static const struct ua_ph_def {
	const char *name;	/* between the brackets */
	const char *what;	/* for messages */
	size_t min, max;	/* length of a value */
	enum ua_alpha alpha;
	const char *sample;	/* a value for the form checks */
} ua_phs[PH_COUNT] = {
	[PH_SUBSCRIBER_UID] = { "SUBSCRIBER_UID", "subscriber UID", 13, 13,
				ALPHA_ALNUM, "aaaaaaaaaaaa1" },
	[PH_LIST_UID] = { "LIST_UID", "list UID", 13, 13, ALPHA_ALNUM,
			  "bbbbbbbbbbbb2" },
	[PH_CAMPAIGN_UID] = { "CAMPAIGN_UID", "campaign UID", 13, 13,
			      ALPHA_ALNUM, "cccccccccccc3" },
	[PH_SUBSCRIBER_ID] = { "SUBSCRIBER_ID", "subscriber ID", 1,
			       UNSUB_NUM_MAX, ALPHA_DIGIT, "1234567890" },
	[PH_LIST_ID] = { "LIST_ID", "list ID", 1, UNSUB_NUM_MAX, ALPHA_DIGIT,
			 "2345678901" },
	[PH_SIGNATURE] = { "SIGNATURE", "signature", UNSUB_SIG_LEN,
			   UNSUB_SIG_LEN, ALPHA_HEX, "0123456789abcdef" },
};

/* one piece of a local part: literal text or a placeholder */
struct ua_tok {
	enum ua_ph ph;
	size_t len;			/* literal bytes */
	char lit[UA_LOCAL_MAX + 1];	/* lowercase */
};

struct ua_form {
	char text[UA_FORM_MAX + 1];	/* as written, domain lowercased */
	char domain[ADDR_MAX + 1];	/* lowercase, or "*" */
	struct ua_tok toks[UA_TOKS_MAX];
	size_t n_toks;
	enum unsub_addr_system system;
	bool has[PH_COUNT];
};

struct unsub_addr_set {
	struct ua_form forms[UNSUB_ADDR_FORMS_MAX];
	size_t n;
	char *secret;			/* NULL when none */
};

/* a failed match of one form: how far it got and why */
struct ua_fail {
	int rc;
	size_t progress;
	char why[384];
};

/* ua_show - N bytes of S for a message: bounded, printable ASCII only */
static const char *ua_show(const char *s, size_t n, char buf[UA_SHOW_MAX + 4])
{
	size_t i;

	for (i = 0; i < n && i < UA_SHOW_MAX; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (i < n)
		memcpy(buf + i, "...", 4);
	else
		buf[i] = '\0';
	return buf;
}

static bool ua_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

static bool ua_in_alpha(enum ua_alpha a, char c)
{
	switch (a) {
	case ALPHA_ALNUM:
		return ua_alnum(c);
	case ALPHA_DIGIT:
		return c >= '0' && c <= '9';
	case ALPHA_HEX:
		return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		       (c >= 'A' && c <= 'F');
	}
	return false;
}

/*
 * ua_value - check N bytes of S as a value of placeholder PH and copy it
 * lowercased into OUT (UNSUB_VALUE_MAX); 0, or -1 with WHY set
 */
static int ua_value(enum ua_ph ph, const char *s, size_t n, char *out,
		    char *why, size_t whylen)
{
	const struct ua_ph_def *d = &ua_phs[ph];
	char show[UA_SHOW_MAX + 4];
	size_t i;

	if (n == 0) {
		errmsg(why, whylen, "%s is missing", d->what);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (!ua_in_alpha(d->alpha, s[i])) {
			errmsg(why, whylen, "%s '%s' %s", d->what,
			       ua_show(s, n, show),
			       d->alpha == ALPHA_DIGIT ? "is not a number"
			       : d->alpha == ALPHA_HEX ? "holds characters "
			       "other than 0-9 and a-f" : "holds characters "
			       "other than a-z and 0-9");
			return -1;
		}
	}
	if (n < d->min || n > d->max) {
		if (d->min == d->max)
			errmsg(why, whylen, "%s '%s' has %zu characters, "
			       "expected %zu", d->what,
			       ua_show(s, n, show), n, d->min);
		else
			errmsg(why, whylen, "%s '%s' has %zu digits, expected "
			       "%zu to %zu", d->what,
			       ua_show(s, n, show), n, d->min,
			       d->max);
		return -1;
	}
	for (i = 0; i < n; i++)
		out[i] = g_ascii_tolower(s[i]);
	out[n] = '\0';
	return 0;
}

/* ua_field - the member of IDS that placeholder PH fills (NULL: signature) */
static char *ua_field(struct unsub_addr_ids *ids, enum ua_ph ph)
{
	switch (ph) {
	case PH_SUBSCRIBER_UID:
	case PH_SUBSCRIBER_ID:
		return ids->subscriber;
	case PH_LIST_UID:
	case PH_LIST_ID:
		return ids->list;
	case PH_CAMPAIGN_UID:
		return ids->campaign;
	default:
		return NULL;
	}
}

/* ua_cfield - the member of IDS that placeholder PH reads */
static const char *ua_cfield(const struct unsub_addr_ids *ids, enum ua_ph ph)
{
	return ua_field((struct unsub_addr_ids *)ids, ph);
}

/* ua_sig_equal - A and B (UNSUB_SIG_LEN bytes) compared in constant time */
static bool ua_sig_equal(const char *a, const char *b)
{
	unsigned char d = 0;
	size_t i;

	for (i = 0; i < UNSUB_SIG_LEN; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

/* unsub_addr_sign - 16 hex digits of HMAC-SHA256(SECRET, "S.L.C") */
int unsub_addr_sign(const char *secret, const struct unsub_addr_ids *ids,
		    char *out, size_t outlen)
{
	char msg[3 * UNSUB_VALUE_MAX + 2];
	GHmac *h;
	int n;

	if (!secret || !*secret || !ids || !out || outlen <= UNSUB_SIG_LEN)
		return -EINVAL;
	n = snprintf(msg, sizeof(msg), "%.16s.%.16s.%.16s", ids->subscriber,
		     ids->list, ids->campaign);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return -EINVAL;
	h = g_hmac_new(G_CHECKSUM_SHA256, (const guchar *)secret,
		       strlen(secret));
	if (!h)
		return -ENOMEM;
	g_hmac_update(h, (const guchar *)msg, (gssize)n);
	memcpy(out, g_hmac_get_string(h), UNSUB_SIG_LEN);
	out[UNSUB_SIG_LEN] = '\0';
	g_hmac_unref(h);
	return 0;
}

/*
 * ua_form_match - the local part LP (LPN bytes, lowercase) read with form
 * F into IDS; 0, or -1 with *FAIL filled (signatures are not checked here)
 */
static int ua_form_match(const struct ua_form *f, const char *lp, size_t lpn,
			 struct unsub_addr_ids *ids, char *sig,
			 struct ua_fail *fail)
{
	char show[UA_SHOW_MAX + 4], show2[UA_SHOW_MAX + 4];
	char why[256];
	size_t pos = 0, i;

	memset(ids, 0, sizeof(*ids));
	ids->system = f->system;
	for (i = 0; i < f->n_toks; i++) {
		const struct ua_tok *t = &f->toks[i];
		size_t run = 0;
		char *dst;

		if (t->ph == PH_LITERAL) {
			if (lpn - pos < t->len ||
			    memcmp(lp + pos, t->lit, t->len) != 0) {
				fail->rc = UNSUB_ADDR_EFORM;
				fail->progress = pos;
				if (pos == lpn)
					errmsg(fail->why, sizeof(fail->why),
					       "local part '%s' does not fit "
					       "the form '%s': it ends where "
					       "'%s' is expected",
					       ua_show(lp, lpn, show), f->text,
					       t->lit);
				else
					errmsg(fail->why, sizeof(fail->why),
					       "local part '%s' does not fit "
					       "the form '%s': expected '%s' at "
					       "'%s'", ua_show(lp, lpn, show),
					       f->text, t->lit,
					       ua_show(lp + pos, lpn - pos,
					       show2));
				return -1;
			}
			pos += t->len;
			continue;
		}
		while (pos + run < lpn && ua_alnum(lp[pos + run]))
			run++;
		dst = ua_field(ids, t->ph);
		if (ua_value(t->ph, lp + pos, run, dst ? dst : sig, why,
			     sizeof(why)) != 0) {
			fail->rc = run ? UNSUB_ADDR_EVALUE : UNSUB_ADDR_EFORM;
			fail->progress = pos + run;
			errmsg(fail->why, sizeof(fail->why), "%s (form '%s')",
			       why, f->text);
			return -1;
		}
		pos += run;
	}
	if (pos != lpn) {
		fail->rc = UNSUB_ADDR_EFORM;
		fail->progress = pos;
		errmsg(fail->why, sizeof(fail->why), "local part '%s' does not "
		       "fit the form '%s': '%s' is left over",
		       ua_show(lp, lpn, show), f->text,
		       ua_show(lp + pos, lpn - pos, show2));
		return -1;
	}
	return 0;
}

/* ua_domain_is - form F takes mail for DOMAIN (lowercase) */
static bool ua_domain_is(const struct ua_form *f, const char *domain)
{
	return strcmp(f->domain, "*") == 0 || strcmp(f->domain, domain) == 0;
}

/* ua_match - the address A (normalised) with the first N forms of SET */
static int ua_match(const struct unsub_addr_set *set, size_t n,
		    const char *a, bool check_sig, struct unsub_addr_ids *ids,
		    char *err, size_t errlen)
{
	const char *at = strrchr(a, '@');
	struct ua_fail best = { 0 }, fail;
	char sig[UNSUB_VALUE_MAX], want[UNSUB_VALUE_MAX];
	char show[UA_SHOW_MAX + 4];
	bool domain_seen = false;
	size_t i, lpn;

	if (!at)
		return UNSUB_ADDR_EADDR;
	lpn = (size_t)(at - a);
	for (i = 0; i < n; i++) {
		const struct ua_form *f = &set->forms[i];

		if (!ua_domain_is(f, at + 1))
			continue;
		domain_seen = true;
		if (ua_form_match(f, a, lpn, ids, sig, &fail) != 0) {
			if (best.rc == 0 || fail.progress > best.progress)
				best = fail;
			continue;
		}
		ids->form = (unsigned)i;
		if (!f->has[PH_SIGNATURE] || !check_sig)
			return 0;
		if (unsub_addr_sign(set->secret, ids, want, sizeof(want)) != 0) {
			errmsg(err, errlen, "cannot compute the signature "
			       "(form '%s')", f->text);
			return -ENOMEM;
		}
		if (!ua_sig_equal(sig, want)) {
			errmsg(err, errlen, "signature '%s' does not match "
			       "(forged, or signed with another secret; form "
			       "'%s')", sig, f->text);
			memset(ids, 0, sizeof(*ids));
			return UNSUB_ADDR_ESIG;
		}
		ids->signature_checked = true;
		return 0;
	}
	memset(ids, 0, sizeof(*ids));
	if (!domain_seen) {
		size_t len;

		errmsg(err, errlen, "domain '%s' is not an unsubscribe domain "
		       "(forms:", ua_show(at + 1, strlen(at + 1), show));
		for (i = 0; err && i < n; i++) {
			len = strlen(err);
			errmsg(err + len, errlen - len, " '%s'%s",
			       set->forms[i].text, i + 1 < n ? ";" : ")");
		}
		return UNSUB_ADDR_EDOMAIN;
	}
	errmsg(err, errlen, "%s", best.why);
	return best.rc;
}

/* unsub_addr_match - normalise ADDR and read it with the forms */
int unsub_addr_match(const struct unsub_addr_set *set, const char *addr,
		     size_t len, struct unsub_addr_ids *ids, char *err,
		     size_t errlen)
{
	char a[ADDR_MAX + 1], show[UA_SHOW_MAX + 4];

	memset(ids, 0, sizeof(*ids));
	if (!set || !addr || len > ADDR_MAX + 2 ||
	    addr_normalise(addr, len, a, sizeof(a)) < 0) {
		errmsg(err, errlen, "'%s' is not an address",
		       addr ? ua_show(addr, len, show) : "");
		return UNSUB_ADDR_EADDR;
	}
	return ua_match(set, set->n, a, true, ids, err, errlen);
}

/* ua_render - form F with IDS (checked) and SIG into OUT; 0 or -1 */
static int ua_render(const struct ua_form *f, const struct unsub_addr_ids *ids,
		     const char *sig, const char *domain, char *out,
		     size_t outlen)
{
	size_t i, used = 0;
	int n;

	for (i = 0; i < f->n_toks; i++) {
		const struct ua_tok *t = &f->toks[i];
		const char *v = t->lit;

		if (t->ph == PH_SIGNATURE)
			v = sig;
		else if (t->ph != PH_LITERAL)
			v = ua_cfield(ids, t->ph);
		n = snprintf(out + used, outlen - used, "%s", v);
		if (n < 0 || (size_t)n >= outlen - used)
			return -1;
		used += (size_t)n;
	}
	n = snprintf(out + used, outlen - used, "@%s", domain);
	if (n < 0 || (size_t)n >= outlen - used)
		return -1;
	return 0;
}

/* unsub_addr_format - an address of form FORM for IDS */
int unsub_addr_format(const struct unsub_addr_set *set, size_t form,
		      const struct unsub_addr_ids *ids, const char *domain,
		      char *out, size_t outlen, char *err, size_t errlen)
{
	struct unsub_addr_ids v = { 0 };
	char sig[UNSUB_VALUE_MAX] = "", why[256], dom[ADDR_MAX + 1];
	char show[UA_SHOW_MAX + 4], tmp[ADDR_MAX + 1];
	const struct ua_form *f;
	int i;

	if (!set || form >= set->n || !ids || !out || outlen <= ADDR_MAX) {
		errmsg(err, errlen, "no address form %zu", form + 1);
		return -EINVAL;
	}
	f = &set->forms[form];
	v.system = f->system;
	for (i = PH_SUBSCRIBER_UID; i < PH_SIGNATURE; i++) {
		const char *src = ua_cfield(ids, i);

		if (!f->has[i])
			continue;
		if (ua_value(i, src, strnlen(src, UNSUB_VALUE_MAX), ua_field(&v, i),
			     why, sizeof(why)) != 0) {
			errmsg(err, errlen, "%s (form '%s')", why, f->text);
			return -EINVAL;
		}
	}
	if (!f->has[PH_CAMPAIGN_UID] && ids->campaign[0]) {
		errmsg(err, errlen, "the form '%s' has no [CAMPAIGN_UID]: a "
		       "campaign cannot be part of its addresses", f->text);
		return -EINVAL;
	}
	if (!f->has[PH_LIST_UID] && !f->has[PH_LIST_ID] && ids->list[0]) {
		errmsg(err, errlen, "the form '%s' has no [LIST_UID]: a list "
		       "cannot be part of its addresses (the campaign names it)",
		       f->text);
		return -EINVAL;
	}
	if (f->has[PH_SIGNATURE] &&
	    unsub_addr_sign(set->secret, &v, sig, sizeof(sig)) != 0) {
		errmsg(err, errlen, "cannot sign: no secret (form '%s')",
		       f->text);
		return -EINVAL;
	}
	if (strcmp(f->domain, "*") != 0) {
		if (domain && g_ascii_strcasecmp(domain, f->domain) != 0) {
			errmsg(err, errlen, "the form '%s' is for the domain "
			       "'%s', not '%s'", f->text, f->domain,
			       ua_show(domain, strlen(domain), show));
			return -EINVAL;
		}
		domain = f->domain;
	} else {
		int n = -1;

		if (domain) {
			snprintf(tmp, sizeof(tmp), "x@%.*s", ADDR_MAX - 2,
				 domain);
			n = addr_normalise(tmp, strlen(tmp), dom, sizeof(dom));
		}
		if (n < 0) {
			errmsg(err, errlen, "the form '%s' takes any domain: "
			       "name one (%s)", f->text, domain ? "not a "
			       "domain" : "none given");
			return -EINVAL;
		}
		domain = dom + 2;
	}
	if (ua_render(f, &v, sig, domain, out, outlen) != 0 ||
	    addr_normalise(out, strlen(out), tmp, sizeof(tmp)) < 0) {
		errmsg(err, errlen, "the address of form '%s' would be longer "
		       "than %d bytes", f->text, ADDR_MAX);
		return -EINVAL;
	}
	return 0;
}

/* ua_ph_lookup - the placeholder named by N bytes of S, or PH_LITERAL */
static enum ua_ph ua_ph_lookup(const char *s, size_t n)
{
	int i;

	for (i = PH_SUBSCRIBER_UID; i < PH_COUNT; i++)
		if (strlen(ua_phs[i].name) == n &&
		    memcmp(ua_phs[i].name, s, n) == 0)
			return (enum ua_ph)i;
	return PH_LITERAL;
}

/* ua_literal_ok - a byte a local part template may hold as text */
static bool ua_literal_ok(char c)
{
	return ua_alnum(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~.", c));
}

/* ua_add_tok - a new token at the end of F; NULL when there are too many */
static struct ua_tok *ua_add_tok(struct ua_form *f)
{
	if (f->n_toks >= UA_TOKS_MAX)
		return NULL;
	memset(&f->toks[f->n_toks], 0, sizeof(f->toks[0]));
	return &f->toks[f->n_toks++];
}

/* ua_parse_local - the local part template S (N bytes) into F's tokens */
static int ua_parse_local(struct ua_form *f, const char *s, size_t n,
			  char *err, size_t errlen)
{
	struct ua_tok *t = NULL;
	size_t i = 0;

	while (i < n) {
		if (s[i] == '[') {
			const char *end = memchr(s + i, ']', n - i);
			enum ua_ph ph;

			if (!end) {
				errmsg(err, errlen, "address form '%s': '[' "
				       "without ']'", f->text);
				return -1;
			}
			ph = ua_ph_lookup(s + i + 1, (size_t)(end - s - i - 1));
			if (ph == PH_LITERAL) {
				errmsg(err, errlen,
				       "address form '%s': unknown "
				       "placeholder '%.*s' (known: "
				       "[SUBSCRIBER_UID], [LIST_UID], "
				       "[CAMPAIGN_UID], [SUBSCRIBER_ID], "
				       "[LIST_ID], [SIGNATURE])", f->text,
				       (int)(end - s - i + 1), s + i);
				return -1;
			}
			if (f->has[ph]) {
				errmsg(err, errlen, "address form '%s': [%s] "
				       "appears twice", f->text,
				       ua_phs[ph].name);
				return -1;
			}
			if (t && t->ph != PH_LITERAL) {
				errmsg(err, errlen, "address form '%s': [%s] "
				       "and [%s] need a separator between "
				       "them (such as '.')", f->text,
				       ua_phs[t->ph].name, ua_phs[ph].name);
				return -1;
			}
			f->has[ph] = true;
			if (!(t = ua_add_tok(f)))
				goto too_many;
			t->ph = ph;
			i = (size_t)(end - s) + 1;
			continue;
		}
		if (s[i] == ']' || !ua_literal_ok(s[i])) {
			errmsg(err, errlen, "address form '%s': '%c' cannot be "
			       "part of a local part", f->text,
			       (s[i] > 0x20 && s[i] < 0x7f) ? s[i] : '?');
			return -1;
		}
		if (t && t->ph != PH_LITERAL && ua_alnum(s[i])) {
			errmsg(err, errlen, "address form '%s': [%s] must be "
			       "followed by a character that cannot be part "
			       "of it (such as '.', '-', '_' or '+'), not "
			       "'%c'", f->text, ua_phs[t->ph].name, s[i]);
			return -1;
		}
		if (!t || t->ph != PH_LITERAL) {
			if (!(t = ua_add_tok(f)))
				goto too_many;
		}
		if (t->len >= UA_LOCAL_MAX) {
			errmsg(err, errlen, "address form '%s': local part "
			       "longer than %d bytes", f->text, UA_LOCAL_MAX);
			return -1;
		}
		t->lit[t->len++] = g_ascii_tolower(s[i]);
		i++;
	}
	return 0;
too_many:
	errmsg(err, errlen, "address form '%s': more than %d pieces",
	       f->text, UA_TOKS_MAX);
	return -1;
}

/* ua_check_form - the rules a parsed form must follow */
static int ua_check_form(struct ua_form *f, const char *secret, char *err,
			 size_t errlen)
{
	bool mw = f->has[PH_SUBSCRIBER_UID] || f->has[PH_LIST_UID] ||
		  f->has[PH_CAMPAIGN_UID];
	bool iem = f->has[PH_SUBSCRIBER_ID] || f->has[PH_LIST_ID];

	if (mw && iem) {
		errmsg(err, errlen, "address form '%s' mixes MailWizz UIDs and "
		       "Interspire IDs", f->text);
		return -1;
	}
	if (mw && (!f->has[PH_SUBSCRIBER_UID] ||
		   (!f->has[PH_LIST_UID] && !f->has[PH_CAMPAIGN_UID]))) {
		errmsg(err, errlen, "address form '%s' needs [SUBSCRIBER_UID] "
		       "and [LIST_UID] or [CAMPAIGN_UID] (MailWizz unsubscribes "
		       "a subscriber from a list, or from a campaign's list)",
		       f->text);
		return -1;
	}
	if (iem && (!f->has[PH_SUBSCRIBER_ID] || !f->has[PH_LIST_ID])) {
		errmsg(err, errlen, "address form '%s' needs both "
		       "[SUBSCRIBER_ID] and [LIST_ID]", f->text);
		return -1;
	}
	if (!mw && !iem) {
		errmsg(err, errlen,
		       "address form '%s' names no subscriber: use "
		       "[SUBSCRIBER_UID] and [LIST_UID] (MailWizz) or "
		       "[SUBSCRIBER_ID] and [LIST_ID] (Interspire)", f->text);
		return -1;
	}
	f->system = mw ? UNSUB_MAILWIZZ : UNSUB_INTERSPIRE;
	if (secret && !f->has[PH_SIGNATURE]) {
		errmsg(err, errlen, "address form '%s' has no [SIGNATURE], but "
		       "a secret is set: every form must be signed (or remove "
		       "the secret)", f->text);
		return -1;
	}
	if (!secret && f->has[PH_SIGNATURE]) {
		errmsg(err, errlen, "address form '%s' has [SIGNATURE], but no "
		       "secret is set to check it with", f->text);
		return -1;
	}
	return 0;
}

/* ua_sample - a sample address of form F: valid, and not read by an
   earlier form of SET */
static int ua_sample(const struct unsub_addr_set *set, const struct ua_form *f,
		     char *err, size_t errlen)
{
	struct unsub_addr_ids ids = { 0 };
	char a[ADDR_MAX + 1], b[ADDR_MAX + 1];
	int i;

	for (i = PH_SUBSCRIBER_UID; i < PH_SIGNATURE; i++)
		if (f->has[i])
			snprintf(ua_field(&ids, i), UNSUB_VALUE_MAX, "%s",
				 ua_phs[i].sample);
	if (ua_render(f, &ids, ua_phs[PH_SIGNATURE].sample,
		      strcmp(f->domain, "*") ? f->domain : "any.example", a,
		      sizeof(a)) != 0 ||
	    addr_normalise(a, strlen(a), b, sizeof(b)) < 0) {
		errmsg(err, errlen, "address form '%s' does not give valid "
		       "addresses (a local part is 1 to 64 characters, without "
		       "'.' at its start or end or two in a row)", f->text);
		return -1;
	}
	if (ua_match(set, set->n, b, false, &ids, NULL, 0) == 0) {
		errmsg(err, errlen, "address form '%s' is never used: the "
		       "earlier form '%s' reads its addresses (put the more "
		       "specific form first)", f->text,
		       set->forms[ids.form].text);
		return -1;
	}
	return 0;
}

/* ua_compile_form - one form S (N bytes, trimmed) appended to SET */
static int ua_compile_form(struct unsub_addr_set *set, const char *s,
			   size_t n, char *err, size_t errlen)
{
	char show[UA_SHOW_MAX + 4], tmp[ADDR_MAX + 1], dom[ADDR_MAX + 1];
	struct ua_form *f;
	const char *at;
	size_t dn;

	if (set->n >= UNSUB_ADDR_FORMS_MAX) {
		errmsg(err, errlen, "more than %d address forms",
		       UNSUB_ADDR_FORMS_MAX);
		return -1;
	}
	if (n > UA_FORM_MAX) {
		errmsg(err, errlen, "address form '%s' is longer than %d bytes",
		       ua_show(s, n, show), UA_FORM_MAX);
		return -1;
	}
	f = &set->forms[set->n];
	memset(f, 0, sizeof(*f));
	memcpy(f->text, s, n);
	f->text[n] = '\0';
	at = memrchr(s, '@', n);
	if (!at || at == s) {
		errmsg(err, errlen, "address form '%s' is not LOCALPART@DOMAIN",
		       f->text);
		return -1;
	}
	dn = n - (size_t)(at - s) - 1;
	if (dn == 1 && at[1] == '*') {
		f->domain[0] = '*';
	} else {
		snprintf(tmp, sizeof(tmp), "x@%.*s", (int)(ADDR_MAX - 2), at + 1);
		if (dn + 2 > ADDR_MAX || memchr(at + 1, '[', dn) ||
		    addr_normalise(tmp, dn + 2, dom, sizeof(dom)) != (int)dn + 2) {
			errmsg(err, errlen, "address form '%s': '%s' is not a "
			       "domain (or '*' for any)", f->text,
			       ua_show(at + 1, dn, show));
			return -1;
		}
		memcpy(f->domain, dom + 2, dn + 1);
		/* the form as shown: its domain lowercased */
		memcpy(f->text + (at - s) + 1, f->domain, dn);
	}
	if (ua_parse_local(f, s, (size_t)(at - s), err, errlen) != 0 ||
	    ua_check_form(f, set->secret, err, errlen) != 0 ||
	    ua_sample(set, f, err, errlen) != 0)
		return -1;
	set->n++;
	return 0;
}

/* unsub_addr_compile - the ';'-separated forms of SPEC */
int unsub_addr_compile(const char *spec, const char *secret,
		       struct unsub_addr_set **out, char *err, size_t errlen)
{
	struct unsub_addr_set *set;
	const char *p, *end;
	size_t slen;

	*out = NULL;
	if (!spec) {
		errmsg(err, errlen, "no address form");
		return -EINVAL;
	}
	slen = secret ? strnlen(secret, UNSUB_SECRET_MAX + 1) : 0;
	if (slen > UNSUB_SECRET_MAX) {
		errmsg(err, errlen, "the secret has more than %d bytes",
		       UNSUB_SECRET_MAX);
		return -EINVAL;
	}
	set = g_new0(struct unsub_addr_set, 1);
	if (slen)
		set->secret = g_strdup(secret);
	for (p = spec; *p; p = *end ? end + 1 : end) {
		const char *s = p, *e;

		end = strchr(p, ';');
		if (!end)
			end = p + strlen(p);
		e = end;
		while (s < e && g_ascii_isspace(*s))
			s++;
		while (e > s && g_ascii_isspace(e[-1]))
			e--;
		if (s == e)
			continue;
		if (ua_compile_form(set, s, (size_t)(e - s), err, errlen) != 0)
			goto fail;
	}
	if (set->n == 0) {
		errmsg(err, errlen, "no address form (expected forms such as "
		       "%s, separated by ';')", UNSUB_ADDR_DEFAULT);
		goto fail;
	}
	*out = set;
	return 0;
fail:
	unsub_addr_free(set);
	return -EINVAL;
}

/* unsub_addr_free - the set, the secret wiped first */
void unsub_addr_free(struct unsub_addr_set *set)
{
	if (!set)
		return;
	if (set->secret) {
		explicit_bzero(set->secret, strlen(set->secret));
		g_free(set->secret);
	}
	g_free(set);
}

size_t unsub_addr_forms(const struct unsub_addr_set *set)
{
	return set ? set->n : 0;
}

const char *unsub_addr_form(const struct unsub_addr_set *set, size_t i)
{
	return set && i < set->n ? set->forms[i].text : NULL;
}
