/*
 * mail_envelope.h - the SMTP envelope `bounced drop` keeps in front of a
 * spool mail (docs/SPOOL.md): a Return-Path as the first header line, and
 * an X-Bounced-Envelope-To as the first line or right after that
 * Return-Path.  Such a header anywhere else came with the mail (a remote
 * system may have put it there) and is never the envelope.  The ARF
 * parser (arf.c) and the unsubscribe mail reader (unsub_mail.c) both
 * read the envelope here.
 */
#ifndef BOUNCED_MAIL_ENVELOPE_H
#define BOUNCED_MAIL_ENVELOPE_H

#include <gmime/gmime.h>

/* mail_envelope - the raw values (as in MSG: not normalised, valid while
   MSG is) of the envelope's Return-Path into *FROM and of its
   X-Bounced-Envelope-To into *TO; NULL for one the envelope lacks */
void mail_envelope(GMimeMessage *msg, const char **from, const char **to);

#endif
