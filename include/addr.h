/*
 * addr.h - recipient address normalisation.
 *
 * Input comes from the internet: trim blanks, strip one pair of angle
 * brackets and a "rfc822;" prefix, lowercase, and check the result is
 * something an MTA would have delivered to: one '@', a local part of 1..64
 * bytes without controls, blanks, quotes or angle brackets, a domain of
 * 1..253 bytes of labels [a-z0-9-_] (or an [address literal]), total at
 * most ADDR_MAX.  Bytes >= 0x80 are allowed (SMTPUTF8) but never lowercased.
 */
#ifndef BOUNCED_ADDR_H
#define BOUNCED_ADDR_H

#include <stddef.h>

/* addr_normalise - IN (LEN bytes) into OUT (OUTLEN >= ADDR_MAX + 1);
   returns the length, or -1 when IN is not an address */
int addr_normalise(const char *in, size_t len, char *out, size_t outlen);

/* addr_domain - the part after '@' of a normalised address */
const char *addr_domain(const char *addr);

#endif
