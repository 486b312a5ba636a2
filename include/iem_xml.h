/*
 * iem_xml.h - the documents of the Interspire Email Marketer XML API:
 * requests built with mxml, answers parsed with mxml.
 *
 * A request is <xmlrequest> with username, usertoken, requesttype,
 * requestmethod and details (a single space when there are no
 * parameters, because every element must be non-empty); mxml escapes the
 * values on save.  An answer is <response><status>SUCCESS|FAILED</status>
 * with <data> or <errormessage>; entities (named and numeric, such as
 * &#039;) are decoded and the whitespace between elements is ignored.
 * Error policy: functions return 0 or a negative errno with a message in
 * ERR; nothing is printed (mxml's own messages are caught).
 */
#ifndef BOUNCED_IEM_XML_H
#define BOUNCED_IEM_XML_H

#include <stdbool.h>
#include <stddef.h>

#include <mxml.h>

#define IEM_XML_VALUE_MAX 4096	/* longest value put into a request */

/* one <name>value</name> of <details> */
struct iem_param {
	const char *name;
	const char *value;
};

/*
 * iem_xml_request - the <xmlrequest> document, g_malloc'ed into *OUT
 * (NUL-terminated, *LEN bytes).  PARAMS become <details> children in
 * order; a name may repeat (xml.php reads repeated elements as an array,
 * the only form of a list of ids it filters by).  Returns 0; -EINVAL with
 * ERR when a value is empty (username, token, type, method), too long,
 * not UTF-8 or holds a control character XML cannot carry; -ENOMEM.
 */
int iem_xml_request(const char *username, const char *usertoken,
		    const char *type, const char *method,
		    const struct iem_param *params, size_t n_params,
		    char **out, size_t *len, char *err, size_t errlen);

/* iem_xml_value_ok - VALUE can travel in a request (UTF-8, no control
   character but tab, CR, LF, at most IEM_XML_VALUE_MAX bytes) */
bool iem_xml_value_ok(const char *value);

enum iem_status {
	IEM_SUCCESS = 0,
	IEM_FAILED = 1,
};

/* a parsed answer; iem_xml_answer_clear() frees it */
struct iem_answer {
	mxml_node_t *tree;	/* the whole document (owned) */
	mxml_node_t *data;	/* <data>, NULL when absent (borrowed from tree) */
	enum iem_status status;
	char *errormessage;	/* trimmed text of <errormessage>, "" when
				   absent (g_malloc'ed) */
};

/*
 * iem_xml_parse - BODY (LEN bytes) into ANS.  Returns 0; -EBADMSG when the
 * body is not a whole XML document (empty, not UTF-8, malformed, cut
 * short); -EPROTO when it is XML but not an answer (no <response>, no
 * <status>, a status other than SUCCESS/FAILED); -ENOMEM.  ERR says which.
 */
int iem_xml_parse(const char *body, size_t len, struct iem_answer *ans,
		  char *err, size_t errlen);
void iem_xml_answer_clear(struct iem_answer *ans);

/* iem_xml_child - the first element child of PARENT after PREV (NULL: from
   the start) named NAME (NULL: any name); NULL when none */
mxml_node_t *iem_xml_child(mxml_node_t *parent, mxml_node_t *prev,
			   const char *name);

/* iem_xml_text - the text of NODE (its text and CDATA children joined),
   trimmed of surrounding whitespace; g_malloc'ed, NULL for a NULL NODE */
char *iem_xml_text(mxml_node_t *node);

/* iem_xml_child_text - the trimmed text of PARENT's child NAME into BUF;
   0, -ENOENT (no such child), -ENAMETOOLONG (does not fit) */
int iem_xml_child_text(mxml_node_t *parent, const char *name, char *buf,
		       size_t buflen);

#endif
