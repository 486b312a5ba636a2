/*
 * unsub_addr.h - unsubscribe mail addresses: which subscriber of which
 * list (and campaign) a List-Unsubscribe mailto: address names.
 *
 * The forms are configuration ([unsubscribe] addresses): a list of
 * LOCALPART@DOMAIN templates separated by ';', where the local part is
 * literal text and placeholders, as the MailWizz unsubscribe extension
 * writes them:
 *
 *   [SUBSCRIBER_UID] [LIST_UID] [CAMPAIGN_UID]  MailWizz UIDs: 13 of [a-z0-9]
 *   [SUBSCRIBER_ID] [LIST_ID]                   Interspire ids: 1-10 digits
 *   [SIGNATURE]                                 16 hex digits of HMAC-SHA256
 *
 * A form names a subscriber and a list of one system (MailWizz UIDs, or
 * Interspire ids, never both; a MailWizz form may name the campaign
 * instead of the list, whose list the caller then looks up), each
 * placeholder at most once, and a
 * placeholder is followed by the end of the local part or by a literal
 * character that cannot appear in a value (not a letter or digit), so that
 * an address reads one way only.  DOMAIN is a domain (compared without
 * regard to case) or "*": any domain delivered to the unsubscribe pipe.
 * Addresses are compared after addr_normalise() (lowercased), so an
 * upper-cased local part matches too; nothing is stripped ("+detail" is
 * literal text like any other).  Forms are tried in order and the first
 * that matches wins; a form whose addresses an earlier form would read is
 * refused when the list is compiled.
 *
 * With a secret, every form carries [SIGNATURE] (a form without one is
 * refused at compile time, as is [SIGNATURE] without a secret): the first
 * 16 lowercase hex digits of HMAC-SHA256(secret, "S.L.C"), S the subscriber
 * UID or id, L the list UID or id, C the campaign UID or empty, all
 * lowercase, whatever the form's order (a part the form lacks is empty).  docs/UNSUBSCRIBE.md shows how to
 * compute it on the sending side.
 *
 * Functions return 0 or a negative value (-EINVAL, -ENOMEM, or an
 * unsub_addr_rc below) and put a one-line reason in ERR (when not NULL)
 * naming the form and the value at fault.  Matching allocates nothing but
 * GLib's HMAC context for signed forms; values taken from an address are
 * shown in messages with bytes outside printable ASCII as '?'.
 */
#ifndef BOUNCED_UNSUB_ADDR_H
#define BOUNCED_UNSUB_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#define UNSUB_ADDR_DEFAULT \
	"[SUBSCRIBER_UID].[LIST_UID].[CAMPAIGN_UID]@fbl-unsub.example.com"
#define UNSUB_UID_LEN 13	/* characters of a MailWizz UID */
#define UNSUB_NUM_MAX 10	/* digits of an Interspire id */
#define UNSUB_SIG_LEN 16	/* hex digits of a signature */
#define UNSUB_VALUE_MAX 17	/* a buffer for any value, NUL included */
#define UNSUB_ADDR_FORMS_MAX 32	/* forms in one list */
#define UNSUB_SECRET_MIN 16	/* bytes of a secret in the config */
#define UNSUB_SECRET_MAX 1024

/* what the ids are */
enum unsub_addr_system {
	UNSUB_MAILWIZZ = 1,	/* subscriber, list, campaign are UIDs */
	UNSUB_INTERSPIRE = 2,	/* subscriber and list are decimal ids */
};

/* why an address was not taken (negative returns of unsub_addr_match) */
enum unsub_addr_rc {
	UNSUB_ADDR_EADDR = -1001,	/* not an address */
	UNSUB_ADDR_EDOMAIN = -1002,	/* no form has its domain */
	UNSUB_ADDR_EFORM = -1003,	/* the local part fits no form */
	UNSUB_ADDR_EVALUE = -1004,	/* a UID or id of the wrong length or alphabet */
	UNSUB_ADDR_ESIG = -1005,	/* the signature does not match */
};

/* the ids an address names, lowercase, NUL-terminated */
struct unsub_addr_ids {
	enum unsub_addr_system system;
	char subscriber[UNSUB_VALUE_MAX];
	char list[UNSUB_VALUE_MAX];	/* "" when the form has none: the
					   campaign's list is meant */
	char campaign[UNSUB_VALUE_MAX];	/* "" when the form has none */
	unsigned form;			/* index of the form that matched */
	bool signature_checked;		/* the form is signed and it matched */
};

struct unsub_addr_set;

/*
 * unsub_addr_compile - SPEC (forms separated by ';', blanks around them
 * ignored, at most UNSUB_ADDR_FORMS_MAX) with SECRET (NULL or "" for none,
 * else at most UNSUB_SECRET_MAX bytes, copied; the config asks for at
 * least UNSUB_SECRET_MIN) into *OUT, freed
 * with unsub_addr_free().  0, or -EINVAL with ERR naming the form and what
 * is wrong with it (unknown placeholder, missing separator, ...).
 */
int unsub_addr_compile(const char *spec, const char *secret,
		       struct unsub_addr_set **out, char *err, size_t errlen);

/* unsub_addr_free - the set and its copy of the secret (wiped); NULL is fine */
void unsub_addr_free(struct unsub_addr_set *set);

/* unsub_addr_forms - how many forms SET holds */
size_t unsub_addr_forms(const struct unsub_addr_set *set);

/* unsub_addr_form - form I as written (lowercased domain), or NULL */
const char *unsub_addr_form(const struct unsub_addr_set *set, size_t i);

/*
 * unsub_addr_match - which ids the address ADDR (LEN bytes, as
 * addr_normalise() takes it) names.  0 with *IDS filled, or an
 * unsub_addr_rc with ERR saying why, e.g. "list UID 'ab12' has 4
 * characters, expected 13 (form [SUBSCRIBER_UID].[LIST_UID]...)".  When
 * several forms have the address's domain, the reason is the one of the
 * form that fit the address furthest.
 */
int unsub_addr_match(const struct unsub_addr_set *set, const char *addr,
		     size_t len, struct unsub_addr_ids *ids, char *err,
		     size_t errlen);

/*
 * unsub_addr_sign - the signature of IDS (subscriber, list, campaign as
 * strings; the system is not part of it) under SECRET into OUT (OUTLEN >
 * UNSUB_SIG_LEN): 16 lowercase hex digits.  0, or -EINVAL when SECRET is
 * empty or OUT too small.
 */
int unsub_addr_sign(const char *secret, const struct unsub_addr_ids *ids,
		    char *out, size_t outlen);

/*
 * unsub_addr_format - the address of form FORM for IDS (subscriber, list
 * and, when the form has [CAMPAIGN_UID], campaign; checked like a match
 * checks them, upper case accepted) into OUT (OUTLEN > ADDR_MAX), signed
 * when the form is.  DOMAIN replaces a "*" domain (required then; NULL
 * otherwise, or the form's own domain).  The result matches as IDS.
 * 0 or -EINVAL with ERR naming the value at fault.
 */
int unsub_addr_format(const struct unsub_addr_set *set, size_t form,
		      const struct unsub_addr_ids *ids, const char *domain,
		      char *out, size_t outlen, char *err, size_t errlen);

#endif
