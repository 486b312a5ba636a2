/*
 * fbl_policy.c - whether a feedback report is about mail we sent, and
 * which addresses are ours (include/fbl_policy.h, docs/FBL.md).
 *
 * The sender patterns are the shell globs of [fbl] senders and of every
 * provider's senders, compared case-insensitively like route.c does; the
 * domain of a pattern is what follows its last '@' when that holds
 * something other than wildcards ("news-*@bounces.example.com" gives
 * "bounces.example.com", "*@*.example.com" gives "*.example.com"; "*" and
 * "*@*" give none).  Error policy: none; a state that cannot be read ties
 * nothing.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "arf.h"
#include "config.h"
#include "fbl_policy.h"
#include "mail_events.h"
#include "provider.h"
#include "rcpt.h"
#include "state.h"

struct fbl_policy {
	const struct config *cfg;
	GPtrArray *senders;	/* char *, borrowed from CFG */
	GPtrArray *domains;	/* char *, g_free */
	bool open;		/* no pattern, or "*" */
};

/* fbl_add - one sender pattern, and its domain */
static void fbl_add(struct fbl_policy *p, char *pat)
{
	const char *at = strrchr(pat, '@');

	g_ptr_array_add(p->senders, pat);
	if (strcmp(pat, "*") == 0)
		p->open = true;
	if (at && at[1] && at[strspn(at + 1, "*?") + 1] != '\0')
		g_ptr_array_add(p->domains, g_strdup(at + 1));
}

struct fbl_policy *fbl_policy_new(const struct config *cfg)
{
	struct fbl_policy *p = g_new0(struct fbl_policy, 1);
	char **s;
	size_t i;

	p->cfg = cfg;
	p->senders = g_ptr_array_new();
	p->domains = g_ptr_array_new_with_free_func(g_free);
	for (s = cfg->fbl_senders; s && *s; s++)
		fbl_add(p, *s);
	for (i = 0; i < cfg->n_providers; i++) {
		const struct config_provider *cp = &cfg->providers[i];

		/* a provider's "*" routes every bounce to it; it says nothing
		   about our senders when [fbl] senders says it */
		for (s = cp->senders; s && *s; s++)
			if (!cfg->fbl_senders || !cfg->fbl_senders[0] ||
			    strcmp(*s, "*") != 0)
				fbl_add(p, *s);
	}
	if (p->senders->len == 0)
		p->open = true;
	return p;
}

void fbl_policy_free(struct fbl_policy *p)
{
	if (!p)
		return;
	g_ptr_array_free(p->senders, TRUE);
	g_ptr_array_free(p->domains, TRUE);
	g_free(p);
}

bool fbl_policy_open(const struct fbl_policy *p)
{
	return p->open;
}

/* fbl_sender - does ADDR match a sender pattern? */
static bool fbl_sender(const struct fbl_policy *p, const char *addr)
{
	guint i;

	if (!addr || !addr[0])
		return false;
	for (i = 0; i < p->senders->len; i++)
		if (fnmatch(p->senders->pdata[i], addr, FNM_CASEFOLD) == 0)
			return true;
	return false;
}

/* fbl_domain - is DOMAIN one of the patterns' domains? */
static bool fbl_domain(const struct fbl_policy *p, const char *domain)
{
	guint i;

	if (!domain || !domain[0])
		return false;
	for (i = 0; i < p->domains->len; i++)
		if (fnmatch(p->domains->pdata[i], domain, FNM_CASEFOLD) == 0)
			return true;
	return false;
}

bool fbl_policy_own_address(const struct fbl_policy *p, const char *addr)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;

	return at && fbl_domain(p, at + 1);
}

/* fbl_msgid_domain - the domain of a Message-ID "<local@domain>" into
   OUT; false when it has none */
static bool fbl_msgid_domain(const char *id, char *out, size_t outlen)
{
	const char *at = strrchr(id, '@');
	size_t n;

	if (!at)
		return false;
	n = strcspn(at + 1, "> \t");
	if (n == 0 || n >= outlen)
		return false;
	memcpy(out, at + 1, n);
	out[n] = '\0';
	return true;
}

/* fbl_provider_ids - the ids of a configured provider in R, as each
   provider's type reads them: first what a provider's own configuration
   claims, then ids of a type's form; the first found named in WHY */
static bool fbl_provider_ids(const struct fbl_policy *p,
			     const struct arf_report *r, char *why,
			     size_t whylen)
{
	const struct provider_ops *ops;
	size_t i;

	for (i = 0; i < p->cfg->n_providers; i++) {
		const struct config_provider *cp = &p->cfg->providers[i];

		ops = provider_ops_of(cp);
		if (ops && ops->report_own && ops->report_own(cp, r, why, whylen))
			return true;
	}
	for (i = 0; i < p->cfg->n_providers; i++) {
		ops = provider_ops_of(&p->cfg->providers[i]);
		if (ops && ops->report_kind && ops->report_kind(r, why, whylen))
			return true;
	}
	return false;
}

/* fbl_known - does ST hold a record under KEY? */
static bool fbl_known(struct state *st, MDB_txn *txn, const char *key)
{
	struct rcpt rec;

	return key[0] && state_rcpt_get(st, txn, key, &rec) == 0;
}

/* fbl_accounting - does the state know a recipient (or the subscriber)
   of R? */
static bool fbl_accounting(const struct arf_report *r, struct state *st,
			   char *why, size_t whylen)
{
	char key[ADDR_MAX + 1];
	MDB_txn *txn = NULL;
	bool found = false;
	size_t i;

	if (!st || state_begin(st, false, &txn) != 0)
		return false;
	for (i = 0; i < r->n_rcpts && !found; i++) {
		found = fbl_known(st, txn, r->rcpts[i]);
		if (found)
			snprintf(why, whylen, "the state knows %s",
				 r->rcpts[i]);
	}
	if (!found && mail_uid_key(r->mw_subscriber_uid, r->mailer_lid,
				   r->mailer_recptid, key, sizeof(key)) == 0) {
		found = fbl_known(st, txn, key);
		if (found)
			snprintf(why, whylen, "the state knows %s", key);
	}
	state_abort(txn);
	return found;
}

bool fbl_policy_ours(const struct fbl_policy *p, const struct arf_report *r,
		     struct state *st, char *why, size_t whylen)
{
	const char *const senders[] = {
		r->orig_from, r->orig_return_path, r->original_mail_from,
	};
	char domain[256];
	size_t i;

	if (p->open) {
		snprintf(why, whylen, "no sender patterns: every report is ours");
		return true;
	}
	for (i = 0; i < G_N_ELEMENTS(senders); i++)
		if (fbl_sender(p, senders[i])) {
			snprintf(why, whylen, "sender %s", senders[i]);
			return true;
		}
	if (fbl_msgid_domain(r->orig_message_id, domain, sizeof(domain)) &&
	    fbl_domain(p, domain)) {
		snprintf(why, whylen, "Message-ID domain %s", domain);
		return true;
	}
	if (fbl_provider_ids(p, r, why, whylen) ||
	    fbl_accounting(r, st, why, whylen))
		return true;
	snprintf(why, whylen, "sender %s%s%s%s%s matches no [fbl] senders or "
		 "provider senders, and nothing else ties it to our mail",
		 r->orig_from[0] ? r->orig_from : "(none)",
		 r->orig_return_path[0] ? ", Return-Path " : "",
		 r->orig_return_path,
		 r->original_mail_from[0] ? ", Original-Mail-From " : "",
		 r->original_mail_from);
	return false;
}
