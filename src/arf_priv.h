/*
 * arf_priv.h - what the ARF parser's files share (arf.c, arf_orig.c,
 * arf_text.c); not a public interface.
 */
#ifndef BOUNCED_ARF_PRIV_H
#define BOUNCED_ARF_PRIV_H

#include <stddef.h>

#include <gmime/gmime.h>

#include "arf.h"

/* characters an identifier may hold besides [A-Za-z0-9] */
#define ARF_ID_EXTRA "._-"
#define ARF_JOB_EXTRA "._:+=@/-"

/* arf_text_copy - SRC (NULL = "") as valid UTF-8 without controls (TAB,
   CR, LF become a space; runs of spaces one), trimmed, truncated on a character boundary into DST
   (DSTLEN >= 1); returns the length */
size_t arf_text_copy(char *dst, size_t dstlen, const char *src);

/* arf_token_copy - SRC trimmed into DST when every byte is [A-Za-z0-9] or
   in EXTRA and it fits; else DST = "" and -1 */
int arf_token_copy(char *dst, size_t dstlen, const char *src,
		   const char *extra);

/* arf_addr_copy - SRC normalised (addr_normalise, valid UTF-8, no C1
   control or separator) into DST
   (ADDR_MAX + 1 bytes); else DST = "" and -1 */
int arf_addr_copy(char *dst, const char *src);

/* arf_redacted - does SRC look like an address whose local part a
   provider hid ("xxxxxxx@d", "redacted@d", "*****", "@d")? */
int arf_redacted(const char *src);

/* arf_header - the first header NAME of O, decoded, or NULL */
const char *arf_header(GMimeObject *o, const char *name);

/* arf_header_raw - the first NAME header of O undecoded, or NULL */
const char *arf_header_raw(GMimeObject *o, const char *name);

/* arf_orig_fields - the original message's fields into R */
void arf_orig_fields(GMimeMessage *orig, struct arf_report *r);

/* arf_rcpts - choose R's recipients: every Original-Rcpt-To of REPORT
   (may be NULL), else the original's X-HmXmrOriginalRecipient, else its
   To when that names one mailbox (ORIG may be NULL); sets the flags */
void arf_rcpts(GMimeMessage *report, GMimeMessage *orig,
	       struct arf_report *r);

#endif
