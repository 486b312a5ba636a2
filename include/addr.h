/*
 * addr.h - recipient address normalisation.
 *
 * Input comes from the internet: trim blanks, strip one pair of angle
 * brackets and a "rfc822;" prefix, lowercase, and check the result is
 * something an MTA would have delivered to: one '@', a local part of 1..64
 * bytes without controls, blanks, quotes or angle brackets, a domain of
 * 1..253 bytes of labels [a-z0-9-_] (or an [address literal]), total at
 * most ADDR_MAX.  Bytes >= 0x80 are allowed in the local part (SMTPUTF8)
 * but never lowercased; an internationalised domain is converted to its
 * ASCII form (IDNA 2008 with the UTS #46 mapping: "B\xc3\xbccher.de" ->
 * "xn--bcher-kva.de"), so each address has one key.
 */
#ifndef BOUNCED_ADDR_H
#define BOUNCED_ADDR_H

#include <stddef.h>

/* addr_normalise - IN (LEN bytes) into OUT (OUTLEN >= ADDR_MAX + 1);
   returns the length, or -1 when IN is not an address */
int addr_normalise(const char *in, size_t len, char *out, size_t outlen);

/* addr_written - IN (LEN bytes) as it was written, less what
   addr_normalise takes off around it (blanks, "rfc822;", angle brackets),
   into OUT (ADDR_MAX + 1 bytes) when it differs from NORM, the normalised
   form of IN, in ASCII case only ("John@Example.com" for
   "john@example.com"): its length; else 0 and OUT "" (the same bytes, or
   a domain converted to its ASCII form) */
int addr_written(const char *in, size_t len, const char *norm, char *out);

/* addr_domain_normalise - the domain IN (LEN bytes; a leading '@' is
   dropped) as addr_normalise leaves it, into OUT of OUTLEN; the length, or
   -1 when it is not a domain */
int addr_domain_normalise(const char *in, size_t len, char *out,
			  size_t outlen);

/* addr_domain - the part after '@' of a normalised address */
const char *addr_domain(const char *addr);

/* the longest Unicode form of an address of ADDR_MAX bytes: a punycode
   label never decodes to more code points than it has characters, and a
   code point is at most 4 bytes of UTF-8 */
#define ADDR_UNICODE_MAX (4 * ADDR_MAX)

/* addr_unicode - the normalised address ADDR with the labels of its domain
   that are in their ASCII form ("xn--") in Unicode (UTF-8, lowercase, as
   libidn2 decodes them: "hans@xn--bcher-kva.de" -> "hans@b\xc3\xbccher.de")
   into OUT of OUTLEN (ADDR_UNICODE_MAX + 1 is always enough): the length;
   0 when there is no other form (no such label, one libidn2 refuses, or
   a Unicode form whose ASCII form is not ADDR's); -1 when it does not
   fit */
int addr_unicode(const char *addr, char *out, size_t outlen);

#endif
