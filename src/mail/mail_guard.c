/*
 * mail_guard.c - a domain literal's unclosed comment defused before GMime
 * parses the mail (include/mail_guard.h).
 *
 * One pass over the bytes, line by unfolded line, keeping the comment
 * depth: each '(' after a ']' (blanks and a folded line break between
 * them, or nothing; a CR without its LF is a blank to GMime) is a
 * candidate at the depth it opens; a ')' that brings the depth below a
 * candidate's closes it.  A candidate still open
 * where the line ends (a line break not followed by a blank, a NUL, at
 * which GMime's value of the header ends, or the end of the mail) is
 * defused with every '(' after it on the line: defusing it alone would
 * leave the next '(' right after the literal's blanks, as open as the
 * first (GMime's failure is to find a comment open after a literal; what
 * else follows one, a stray ')' or any text, it parses without a leak).
 * Candidates wait on a small stack, their depths in order (a new one
 * opens the deepest level there is); one that finds the stack full
 * defuses its line from there, as if unclosed.  Each byte is looked at
 * once and blanked at most once: the work is linear in the mail.
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

/* mg_line_end - the line ends before index END: from FROM (an open
   candidate's '(', or END for none) on, every '(' made a blank in OUT
   (when given); how many */
static size_t mg_line_end(const char *buf, char *out, size_t from,
			  size_t end)
{
	size_t i, n = 0;

	for (i = from; i < end; i++)
		if (buf[i] == '(') {
			if (out)
				out[i] = ' ';
			n++;
		}
	return n;
}

/* mg_scan - the unclosed comments after a ']' in BUF (LEN bytes): their
   '(' (and those after them on their line) made blanks in OUT (the same
   bytes, or NULL: counted only); how many */
static size_t mg_scan(const char *buf, size_t len, char *out)
{
	struct mg_open st[MG_STACK];
	unsigned depth = 0, top = 0;
	bool literal = false;	/* a ']' and blanks only since */
	size_t i, n = 0, from = len;	/* the line's first open candidate */

	for (i = 0; i < len; i++) {
		bool was = literal;

		literal = false;
		switch (buf[i]) {
		case ']':
			literal = true;
			break;
		case ' ':
		case '\t':
			literal = was;
			break;
		case '\\':
			i++;		/* the byte after it is quoted */
			break;
		case '(':
			if (!was) {
				depth++;
			} else if (top == MG_STACK) {
				if (from == len)
					from = i;	/* as if unclosed */
				depth++;
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
			if (i + 1 >= len || buf[i + 1] != '\n') {
				/* a lone CR: a blank to GMime's addresses */
				literal = was;
				break;
			}
			i++;
			/* fall through */
		case '\n':
			if (i + 1 < len && (buf[i + 1] == ' ' ||
					    buf[i + 1] == '\t')) {
				literal = was;	/* folded: the line goes on */
				break;
			}
			/* fall through */
		case '\0':	/* GMime's value of the header ends here */
			if (top > 0 && st[0].at < from)
				from = st[0].at;
			if (from < len)
				n += mg_line_end(buf, out, from, i);
			top = 0;
			depth = 0;
			from = len;
			break;
		}
	}
	if (top > 0 && st[0].at < from)
		from = st[0].at;
	if (from < len)
		n += mg_line_end(buf, out, from, len);
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
