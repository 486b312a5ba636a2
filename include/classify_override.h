/*
 * classify_override.h - [classify] rules: ordered "PATTERN => CATEGORY"
 * overrides that give a bounce the category its DSN text and status say,
 * before the category lists decide hard or soft (docs/CLASSIFY.md).
 *
 * A pattern is matched case-insensitively against the record's DSN text:
 * as a substring, or, when it holds '*' or '?', as a shell glob over the
 * whole text.  A pattern that starts with an enhanced status code ("5.1.1
 * user unknown") also wants that status (the record's dsnStatus, else the
 * first code of its text) to start with it.  The first rule that matches
 * wins.  CLASSIFY_RULES_DEFAULT names the sender-side causes that are
 * none of the recipient's doing (a refusal of our sender address, rate
 * limits, blocks) and the usual "no such user" texts.
 */
#ifndef BOUNCED_CLASSIFY_OVERRIDE_H
#define BOUNCED_CLASSIFY_OVERRIDE_H

#include <stddef.h>
#include <stdint.h>

#define CLASSIFY_RULES_DEFAULT						\
	"sender verify failed => invalid-sender; "			\
	"sender address rejected => invalid-sender; "			\
	"domain of sender address => invalid-sender; "			\
	"invalid DNS MX or A/AAAA => invalid-sender; "			\
	"5.1.7 => invalid-sender; "					\
	"5.1.8 => invalid-sender; "					\
	"4.1.7 => invalid-sender; "					\
	"4.1.8 => invalid-sender; "					\
	"has sent to too many recipients => policy-related; "		\
	"receiving mail at a rate => quota-issues; "			\
	"blocked using => spam-related; "				\
	"spamhaus => spam-related; "					\
	"S3150 => policy-related; "					\
	"low reputation => spam-related; "				\
	"DMARC => policy-related; "					\
	"not authorized => policy-related; "				\
	"5.1.1 user unknown => bad-mailbox; "				\
	"5.1.1 no such user => bad-mailbox; "				\
	"5.1.1 mailbox unavailable => bad-mailbox; "			\
	"5.4.1 recipient address rejected: access denied => bad-mailbox"

#define CLASSIFY_RULES_MAX 256

struct classify_overrides;

/*
 * classify_overrides_parse - SPEC (NULL: the default; "" : no rule) into
 * *OUT; 0, or -EINVAL with ERR naming the rule that is wrong (no "=>", an
 * empty pattern or category, a control character, more than
 * CLASSIFY_RULES_MAX rules).
 */
int classify_overrides_parse(const char *spec,
			     struct classify_overrides **out, char *err,
			     size_t errlen);
void classify_overrides_free(struct classify_overrides *o);

/*
 * classify_overrides_match - the index of the first rule that matches a
 * bounce of status STATUS (may be NULL or "") and text DIAG, with its
 * category in *CATEGORY; -1 when none does.
 */
int classify_overrides_match(const struct classify_overrides *o,
			     const char *status, const char *diag,
			     const char **category);

/* classify_overrides_count - rules; classify_overrides_text - rule I as
   written ("PATTERN => CATEGORY"), for stats */
size_t classify_overrides_count(const struct classify_overrides *o);
const char *classify_overrides_text(const struct classify_overrides *o,
				    size_t i);

/* classify_hit_key - the meta counter of rule TEXT's hits:
   "classify.hit." and the rule, cut to fit */
#define CLASSIFY_HIT_KEY_MAX 256
void classify_hit_key(const char *text, char *key, size_t len);

#endif
