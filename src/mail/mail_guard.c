/*
 * mail_guard.c - a domain literal's unclosed comment defused before GMime
 * parses the mail (include/mail_guard.h).
 *
 * One pass over the bytes, line by unfolded line, keeping the comment
 * depth: each '(' right after a ']' is a candidate at the depth it
 * opens; a ')' that brings the depth below a candidate's closes it; the
 * candidates still open at the end of the line are the ones to defuse.
 * Candidates wait on a small stack, their depths in order (a new one
 * opens the deepest level there is); one that finds the stack full is
 * defused at once, as if unclosed (a blank where a degenerate header had
 * a parenthesis).  So the work is linear in the mail, whatever it holds.
 *
 * Error policy: none; nothing allocates, nothing fails.
 */
#include <string.h>

#include "mail_guard.h"

#define MG_STACK 64	/* candidates open at once on one line */

struct mg_open {
	size_t at;		/* index of the '(' */
	unsigned depth;		/* the depth it opened */
};

/* mg_blank - the '(' at AT defused: in OUT if given; one more counted */
static void mg_blank(char *out, size_t at, size_t *n)
{
	if (out)
		out[at] = ' ';
	(*n)++;
}

/* mg_scan - the unclosed comments after a ']' in BUF (LEN bytes): their
   '(' made blanks in OUT (the same bytes, or NULL: counted only); how
   many */
static size_t mg_scan(const char *buf, size_t len, char *out)
{
	struct mg_open st[MG_STACK];
	unsigned depth = 0, top = 0;
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		switch (buf[i]) {
		case '\\':
			i++;		/* the byte after it is quoted */
			break;
		case '(':
			if (i == 0 || buf[i - 1] != ']') {
				depth++;
			} else if (top == MG_STACK) {
				mg_blank(out, i, &n);
			} else {
				st[top].at = i;
				st[top++].depth = ++depth;
			}
			break;
		case ')':
			if (depth > 0)
				depth--;
			while (top > 0 && st[top - 1].depth > depth)
				top--;		/* closed */
			break;
		case '\r':
		case '\n':
			if (buf[i] == '\r' && i + 1 < len && buf[i + 1] == '\n')
				i++;
			if (i + 1 < len && (buf[i + 1] == ' ' ||
					    buf[i + 1] == '\t'))
				break;	/* folded: the line goes on */
			while (top > 0)
				mg_blank(out, st[--top].at, &n);
			depth = 0;
			break;
		}
	}
	while (top > 0)
		mg_blank(out, st[--top].at, &n);
	return n;
}

bool mail_guard_needed(const char *buf, size_t len)
{
	return buf && mg_scan(buf, len, NULL) > 0;
}

size_t mail_guard_fix(char *buf, size_t len)
{
	return buf ? mg_scan(buf, len, buf) : 0;
}
