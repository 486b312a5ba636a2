/*
 * http_excerpt.h - the short reason quoted from a provider's answer in
 * logs, dead-letter reasons and `bouncectl dead`: never a whole page.
 *
 * An answer is hostile and often an HTML error page of a proxy or PHP.
 * http_excerpt() makes it one line of at most HTTP_EXCERPT_MAX bytes:
 * an HTML or XML body gives its <title>, else its first text (tags,
 * comments, <script> and <style> left out, the common entities decoded);
 * any other body is taken as text.  Whitespace runs fold to one space,
 * other control characters are escaped (\xNN, \u00NN), invalid UTF-8
 * becomes U+FFFD, and a cut ends in "..." on a character boundary.
 */
#ifndef BOUNCED_HTTP_EXCERPT_H
#define BOUNCED_HTTP_EXCERPT_H

#include <stddef.h>

#define HTTP_EXCERPT_MAX 200	/* bytes of an excerpt, without the NUL */

/*
 * http_excerpt - the reason in BODY (LEN bytes; NULL or 0: empty) into
 * OUT (CAP bytes; at most HTTP_EXCERPT_MAX of them used besides the
 * NUL).  Returns the length written ("" for an answer with no text).
 */
size_t http_excerpt(const char *body, size_t len, char *out, size_t cap);

#endif
