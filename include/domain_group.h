/*
 * domain_group.h - the destination of a recipient for incidents and rates:
 * its domain, or the group the mailbox provider's domains form
 * (gmail.com and googlemail.com are one destination: a block of one of our
 * IPs at Google affects both).
 *
 * Groups are written "NAME: PATTERN PATTERN ...; NAME: ..." where a
 * pattern is a domain or a shell glob over the domain (hotmail.* matches
 * hotmail.com and hotmail.co.uk), compared in lower case;
 * DOMAIN_GROUPS_DEFAULT is the set for the big providers.  A domain no
 * pattern matches is its own destination.
 */
#ifndef BOUNCED_DOMAIN_GROUP_H
#define BOUNCED_DOMAIN_GROUP_H

#include <stddef.h>

#define DOMAIN_GROUPS_DEFAULT						\
	"gmail: gmail.com googlemail.com; "				\
	"microsoft: outlook.* hotmail.* live.* msn.com windowslive.com; " \
	"yahoo: yahoo.* ymail.com rocketmail.com aol.* aim.com "	\
	"verizon.net; "							\
	"apple: icloud.com me.com mac.com; "				\
	"gmx: gmx.* web.de; "						\
	"mailru: mail.ru inbox.ru list.ru bk.ru; "			\
	"yandex: yandex.* ya.ru"

#define DOMAIN_GROUP_NAME_MAX 64

struct domain_groups;

/*
 * domain_groups_parse - SPEC (NULL: the default) into *OUT; 0, or -EINVAL
 * with ERR naming what is wrong (a group without a name or patterns, a
 * name that is not [a-z0-9_.-], a pattern with a blank or control).
 */
int domain_groups_parse(const char *spec, struct domain_groups **out,
			char *err, size_t errlen);
void domain_groups_free(struct domain_groups *g);

/* domain_groups_of - the destination of DOMAIN (lower case): its group's
   name, or DOMAIN itself; never NULL for a non-NULL DOMAIN */
const char *domain_groups_of(const struct domain_groups *g,
			     const char *domain);

/* domain_groups_of_addr - the destination of address ADDR (its domain) */
const char *domain_groups_of_addr(const struct domain_groups *g,
				  const char *addr);

#endif
