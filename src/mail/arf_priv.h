/*
 * arf_priv.h - what the ARF parser's files share (arf.c, arf_orig.c,
 * arf_text.c); not a public interface.
 */
#ifndef BOUNCED_ARF_PRIV_H
#define BOUNCED_ARF_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include <gmime/gmime.h>

#include "arf.h"

/* characters an identifier may hold besides [A-Za-z0-9] */
#define ARF_ID_EXTRA "._-"
#define ARF_JOB_EXTRA "._:+=@/-"
/* hex digits in a row that make a local part an opaque hash (MD5: 32) */
#define ARF_HASH_HEX_MIN 32

/* what the walk over a mail's MIME tree found (arf.c) */
struct arf_found {
	GMimePart *report;		/* message/feedback-report */
	GMimeMessage *orig;		/* message/rfc822's message */
	GMimePart *orig_headers;	/* text/rfc822-headers,
					   message/global-headers */
	/* a message/rfc822 or message/global original in base64 or
	   quoted-printable, which GMime leaves a plain part: DECODED is it
	   parsed (owned; ORIG then points to it) */
	GMimePart *orig_encoded;
	GMimeMessage *decoded;
	GMimePart *text;		/* the first text/plain part */
	char report_type[32];		/* report-type of the first
					   multipart/report, lower case */
	char part_type[64];		/* the first part that marks a kind:
					   message/delivery-status, ... */
	bool dsn;			/* a (global-)delivery-status part */
	bool mdn;			/* a (global-)disposition-notification
					   part */
	bool archive;			/* a zip, gzip or XML attachment */
};

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

/* arf_header - the first header NAME of O, decoded, or NULL */
const char *arf_header(GMimeObject *o, const char *name);

/* arf_header_raw - the first NAME header of O undecoded, or NULL */
const char *arf_header_raw(GMimeObject *o, const char *name);

/* arf_first_mailbox - the address of the first mailbox of LIST (the
   NAME header of O as GMime read it), or NULL; NULL too when the raw
   header is not UTF-8 (GMime would have guessed its charset: an address
   is not guessed) */
const char *arf_first_mailbox(GMimeObject *o, const char *name,
			      InternetAddressList *list);

/* arf_orig_fields - the original message's fields into R */
void arf_orig_fields(GMimeMessage *orig, struct arf_report *r);

/* arf_kind_classify - what the mail MSG is, from the walk F, its headers,
   the attached original ORIG (the whole message or only its headers, as
   parsed; NULL when none could be read) and the report fields already in
   R: R->kind and R->kind_why; -1 when it is none of the kinds (not a
   feedback report) (arf_kind.c) */
int arf_kind_classify(GMimeMessage *msg, const struct arf_found *f,
		      GMimeMessage *orig, struct arf_report *r);

/* arf_rcpts - choose R's recipients: every Original-Rcpt-To of REPORT
   (may be NULL; each address of a comma-separated list in one), else its
   Removal-Recipient, else the original's X-HmXmrOriginalRecipient, else its
   To when that names one mailbox that is not the original's sender nor
   one of the report's own addresses (ORIG may be NULL); sets the flags.
   R's original and report fields must be filled first. */
void arf_rcpts(GMimeMessage *report, GMimeMessage *orig,
	       struct arf_report *r);

#endif
