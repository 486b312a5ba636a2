/*
 * errmsg.h - the one-line messages functions leave in a caller's
 * "char *err, size_t errlen" buffer (which may be NULL).
 */
#ifndef BOUNCED_ERRMSG_H
#define BOUNCED_ERRMSG_H

#include <stddef.h>

/* errmsg - printf FMT into ERR (ERRLEN bytes) when there is one */
void errmsg(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* errmsg_rc - the same, returning RC (for "return errmsg_rc(-EINVAL, …)") */
int errmsg_rc(int rc, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
