/*
 * mail_guard.h - bytes of a mail that the GMime of Debian 12 (3.2.13)
 * mishandles, made harmless before it parses them.
 *
 * An address whose domain is a literal followed by a comment that is
 * never closed ("To: a@[192.0.2.1](", also with blanks before the '(')
 * makes GMime's address parser leak the address it copied (128 bytes
 * each time; fixed in GMime 3.2.15).  Feedback and unsubscribe mail
 * comes from anyone: a sender could grow the worker's memory mail by
 * mail.  Each '(' after a ']' (blanks between them or not) whose comment
 * is not closed before the end of its (unfolded) line is turned into a
 * blank, with every '(' after it on that line: GMime then reads the end
 * of the address there; a comment that is closed, and every other byte,
 * stay as they are.
 */
#ifndef BOUNCED_MAIL_GUARD_H
#define BOUNCED_MAIL_GUARD_H

#include <stdbool.h>
#include <stddef.h>

/* mail_guard_needed - does BUF (LEN bytes) hold such a comment? */
bool mail_guard_needed(const char *buf, size_t len);

/* mail_guard_fix - each such '(' of BUF (LEN bytes, changed in place),
   and those after it on its line, made blanks; how many */
size_t mail_guard_fix(char *buf, size_t len);

#endif
