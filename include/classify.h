/*
 * classify.h - what an accounting record means for its recipient.
 *
 * b / rb: the bounce category against the configured hard, soft and
 * ignore lists; an empty or unlisted category falls back to the DSN status
 * (taken from dsnStatus, else from the diagnostic text) by the table in
 * docs/CLASSIFY.md.  f: a complaint when its feedback type is in
 * complaint-types (an empty type counts as abuse), else recorded only.
 * d: a delivery.
 */
#ifndef BOUNCED_CLASSIFY_H
#define BOUNCED_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

struct config;
struct classify_overrides;
struct classify_memo;

struct classify_rules {
	char **hard;	   /* category lists, NULL-terminated, lowercase */
	char **soft;
	char **ignore;
	char **complaint_types;
	/* [classify] rules (NULL: none): they set a bounce's category
	   before the lists decide (classify_override.h) */
	const struct classify_overrides *over;
	/* the answers for the last bounces classified (NULL: none kept):
	   a bounce with the category, status and text of one of them gets
	   the same class, category and rule; they repeat from record to
	   record, and the rules' text search is the costly part */
	struct classify_memo *memo;
};

/* classify_memo_new - an empty memo for classify_rules.memo (its
   answers hold the rules' category names: it lives no longer than
   they); NULL on ENOMEM; classify_memo_free takes NULL */
struct classify_memo *classify_memo_new(void);
void classify_memo_free(struct classify_memo *m);

/* classify_rules_from_config - borrow the lists of CFG (no copy) */
void classify_rules_from_config(struct classify_rules *r,
				const struct config *cfg);

/* classify_event - set ev->klass from kind, category, DSN and feedback
   type; a [classify] rule that matches a bounce sets its bounce_cat (a
   string of the rules) and rule_hit (the rule's index + 1) first */
void classify_event(const struct classify_rules *r, struct event *ev);

/*
 * classify_dsn - the class a DSN status implies: CLASS_HARD for permanent
 * address failures (5.1.x, 5.2.1, 5.4.4 …), CLASS_SOFT for other 5.x.x and
 * 4.x.x, CLASS_IGNORE for 2.x.x; CLASS_NONE-like -1 when none can be found.
 * STATUS may be NULL; DIAG is searched for "N.N.N" when STATUS holds none.
 */
int classify_dsn(const char *status, const char *diag);

/* classify_find_status - first "[245].d{1,3}.d{1,3}" in TEXT into OUT */
int classify_find_status(const char *text, char *out, size_t outlen);

/* PowerMTA's bounce categories (docs/CLASSIFY.md), "other" last */
#define CLASSIFY_CATS 17
extern const char *const classify_cat_names[CLASSIFY_CATS];

/* classify_cat_index - CAT's place in classify_cat_names (in any case),
   or -1 (NULL, empty or none of them) */
int classify_cat_index(const char *cat);

/* classify_status_x7 - EVENT_X7_YES when the status code of STATUS, else
   of DIAG (classify_status_of), is 4.7.x or 5.7.x (a sender-side cause),
   else EVENT_X7_NO */
uint8_t classify_status_x7(const char *status, const char *diag);

/* classify_status_of - a record's status code: the first one of STATUS
   (dsnStatus), else the first one of DIAG (either may be NULL), into OUT
   (16 bytes are enough); OUT, or NULL when neither holds one */
const char *classify_status_of(const char *status, const char *diag,
			       char *out, size_t outlen);

#endif
