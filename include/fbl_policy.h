/*
 * fbl_policy.h - is a feedback report about mail we sent, and may the
 * original's To stand for the complainer?
 *
 * "Our mail" is described by sender patterns: the globs of [fbl] senders
 * and of every provider's senders (docs/FBL.md, "About mail we sent").
 * A report is about our mail when one of these ties it to us:
 *  - its sender (the original's From or Return-Path, the report's
 *    Original-Mail-From) matches a pattern;
 *  - the domain of the original's Message-ID is the domain of a pattern;
 *  - it carries the ids of a configured provider: an X-Job in a MailWizz
 *    provider's job-prefix form, a List-Id in its list-id form, an
 *    X-Mw-Subscriber-Uid with a MailWizz provider, an X-Mailer-LID with an
 *    Interspire provider;
 *  - the accounting data: the state already holds a record for the
 *    complained-about address (or for the subscriber's uid: key, MailWizz's
 *    or Interspire's: mail_uid_key()).
 * With no pattern at all (no [fbl] senders and no provider senders: the
 * embedded defaults), or a pattern "*", nothing can be told apart and
 * every report is taken as ours; fbl_policy_open() says so.  A provider's
 * "*" (every bounce routed to it) counts only while [fbl] senders is
 * unset.
 *
 * The patterns' domains are also "our sender domains": the original's To
 * is never taken for the complainer when it is an address of one of them
 * (the list's own address, a Bcc send).
 *
 * Nothing here logs; the state is only read.
 */
#ifndef BOUNCED_FBL_POLICY_H
#define BOUNCED_FBL_POLICY_H

#include <stdbool.h>
#include <stddef.h>

struct arf_report;
struct config;
struct state;

struct fbl_policy;

/* fbl_policy_new - the patterns of CFG (borrowed: CFG must outlive the
   policy); NULL only when memory is exhausted (GLib aborts) */
struct fbl_policy *fbl_policy_new(const struct config *cfg);
void fbl_policy_free(struct fbl_policy *p);

/* fbl_policy_open - no sender pattern restricts: every report is ours */
bool fbl_policy_open(const struct fbl_policy *p);

/*
 * fbl_policy_ours - is R about our mail?  ST (may be NULL) is looked up
 * for the recipients of R and the uid: key of its subscriber.  WHY gets
 * what tied it, or, when nothing did, what was looked at.
 */
bool fbl_policy_ours(const struct fbl_policy *p, const struct arf_report *r,
		     struct state *st, char *why, size_t whylen);

/* fbl_policy_own_address - is ADDR (normalised) an address of one of our
   sender domains? */
bool fbl_policy_own_address(const struct fbl_policy *p, const char *addr);

#endif
