/*
 * iem_xml.c - build Interspire Email Marketer XML API requests and parse
 * its answers with mxml (3.x).
 *
 * Values go into opaque nodes, so mxml escapes &, <, > and " on save and
 * never re-wraps long values; answers are loaded with MXML_OPAQUE_CALLBACK
 * so values keep their inner spaces, and mxml decodes named and numeric
 * entities (&amp;, &#039;, &#x41;).
 *
 * mxml is lenient in ways an API client must not be, so this file guards
 * it: values are checked before they are saved (mxml silently cuts a
 * value at a control character), answers are made valid UTF-8 first
 * (invalid bytes become U+FFFD; mxml would take byte 0xff for the end of
 * the text), leading whitespace and a byte order mark are skipped (mxml
 * refuses them), a document whose root is never closed (cut short) is
 * refused, and any message mxml reports while loading fails the parse
 * (mxml may report an error and still return a tree).
 *
 * Error policy: 0 or a negative errno with a message in ERR; mxml's own
 * messages are caught through its error callback and never printed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "iem_xml.h"

/* what mxml reported during the current load or save (this thread) */
static __thread char iem_xml_mxml_msg[256];
static __thread unsigned iem_xml_mxml_errors;

/* iem_xml_on_error - mxml's error callback: remember the first message */
static void iem_xml_on_error(const char *msg)
{
	if (iem_xml_mxml_errors++ == 0)
		g_strlcpy(iem_xml_mxml_msg, msg ? msg : "?",
			  sizeof(iem_xml_mxml_msg));
}

/* iem_xml_catch - route mxml's messages here and forget older ones */
static void iem_xml_catch(void)
{
	mxmlSetErrorCallback(iem_xml_on_error);
	iem_xml_mxml_errors = 0;
	iem_xml_mxml_msg[0] = '\0';
}

/* iem_xml_value_ok - VALUE is UTF-8 XML can carry, and not too long */
bool iem_xml_value_ok(const char *value)
{
	const char *s;
	size_t len;

	if (value == NULL)
		return false;
	len = strnlen(value, IEM_XML_VALUE_MAX + 1);
	if (len > IEM_XML_VALUE_MAX || !g_utf8_validate(value, (gssize)len, NULL))
		return false;
	for (s = value; *s; s = g_utf8_next_char(s)) {
		gunichar c = g_utf8_get_char(s);

		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
			return false;
		if (c == 0xfffe || c == 0xffff)
			return false;
	}
	return true;
}

/* iem_xml_add - <NAME>VALUE</NAME> under PARENT; NULL on no memory */
static mxml_node_t *iem_xml_add(mxml_node_t *parent, const char *name,
				const char *value)
{
	mxml_node_t *e = mxmlNewElement(parent, name);

	if (e == NULL)
		return NULL;
	if (value && mxmlNewOpaque(e, value) == NULL)
		return NULL;	/* E is freed with the tree */
	return e;
}

/* iem_xml_request - the <xmlrequest> document for TYPE/METHOD */
int iem_xml_request(const char *username, const char *usertoken,
		    const char *type, const char *method,
		    const struct iem_param *params, size_t n_params,
		    char **out, size_t *len, char *err, size_t errlen)
{
	const char *head[4][2] = {
		{ "username", username },	{ "usertoken", usertoken },
		{ "requesttype", type },	{ "requestmethod", method },
	};
	mxml_node_t *xml = NULL, *root, *details;
	char *text = NULL;
	size_t i;
	int rc = -EINVAL;

	*out = NULL;
	*len = 0;
	for (i = 0; i < 4; i++) {
		if (!iem_xml_value_ok(head[i][1]) || *head[i][1] == '\0') {
			snprintf(err, errlen, "%s is empty, too long or holds "
				 "bytes XML cannot carry", head[i][0]);
			goto out;
		}
	}
	for (i = 0; i < n_params; i++) {
		if (params[i].name == NULL || !iem_xml_value_ok(params[i].name) ||
		    !iem_xml_value_ok(params[i].value)) {
			snprintf(err, errlen, "parameter %s is too long or holds "
				 "bytes XML cannot carry (not UTF-8, control "
				 "characters)",
				 params[i].name ? params[i].name : "?");
			goto out;
		}
	}
	rc = -ENOMEM;
	iem_xml_catch();
	xml = mxmlNewXML("1.0");
	root = xml ? mxmlNewElement(xml, "xmlrequest") : NULL;
	if (root == NULL)
		goto nomem;
	for (i = 0; i < 4; i++)
		if (iem_xml_add(root, head[i][0], head[i][1]) == NULL)
			goto nomem;
	/* every element must be non-empty: a space when there is nothing */
	details = iem_xml_add(root, "details", n_params ? NULL : " ");
	if (details == NULL)
		goto nomem;
	for (i = 0; i < n_params; i++)
		if (iem_xml_add(details, params[i].name, params[i].value) == NULL)
			goto nomem;
	text = mxmlSaveAllocString(xml, MXML_NO_CALLBACK);
	if (text == NULL || iem_xml_mxml_errors) {
		rc = -EINVAL;
		snprintf(err, errlen, "cannot write the XML request: %s",
			 iem_xml_mxml_errors ? iem_xml_mxml_msg : "mxml failed");
		goto out;
	}
	*len = strlen(text);
	*out = g_strndup(text, *len);
	rc = 0;
	goto out;
nomem:
	snprintf(err, errlen, "cannot build the XML request: out of memory");
out:
	free(text);
	if (xml)
		mxmlDelete(xml);
	return rc;
}

/* iem_xml_one_root - TOP holds exactly one element (besides <?…?> and
   <!…> nodes) and no text other than blanks */
static bool iem_xml_one_root(mxml_node_t *top)
{
	mxml_node_t *n;
	int elements = 0;

	for (n = mxmlGetFirstChild(top); n; n = mxmlGetNextSibling(n)) {
		if (mxmlGetType(n) == MXML_ELEMENT) {
			const char *name = mxmlGetElement(n);

			if (name && name[0] != '?' && name[0] != '!')
				elements++;
			continue;
		}
		if (mxmlGetType(n) == MXML_OPAQUE || mxmlGetType(n) == MXML_TEXT) {
			const char *t = mxmlGetType(n) == MXML_OPAQUE ?
						mxmlGetOpaque(n) :
						mxmlGetText(n, NULL);

			for (; t && *t; t++)
				if (*t != ' ' && *t != '\t' && *t != '\r' &&
				    *t != '\n')
					return false;
		}
	}
	return elements == 1;
}

/* iem_xml_root - the document element of TREE (skips <?xml …?>, comments) */
static mxml_node_t *iem_xml_root(mxml_node_t *tree)
{
	mxml_node_t *n;

	for (n = tree; n; n = mxmlWalkNext(n, tree, MXML_DESCEND)) {
		const char *name;

		if (mxmlGetType(n) != MXML_ELEMENT)
			continue;
		name = mxmlGetElement(n);
		if (name && name[0] != '?' && name[0] != '!')
			return n;
	}
	return NULL;
}

/* iem_xml_child - the next element child of PARENT named NAME */
mxml_node_t *iem_xml_child(mxml_node_t *parent, mxml_node_t *prev,
			   const char *name)
{
	mxml_node_t *n;

	if (parent == NULL)
		return NULL;
	n = prev ? mxmlGetNextSibling(prev) : mxmlGetFirstChild(parent);
	for (; n; n = mxmlGetNextSibling(n)) {
		const char *el;

		if (mxmlGetType(n) != MXML_ELEMENT)
			continue;
		el = mxmlGetElement(n);
		if (el == NULL || el[0] == '!' || el[0] == '?')
			continue;	/* comments, CDATA, declarations */
		if (name == NULL || strcmp(el, name) == 0)
			return n;
	}
	return NULL;
}

/* iem_xml_text - NODE's text and CDATA children joined, trimmed */
char *iem_xml_text(mxml_node_t *node)
{
	GString *s;
	mxml_node_t *n;

	if (node == NULL)
		return NULL;
	s = g_string_new(NULL);
	for (n = mxmlGetFirstChild(node); n; n = mxmlGetNextSibling(n)) {
		const char *v = NULL;

		if (mxmlGetType(n) == MXML_OPAQUE) {
			v = mxmlGetOpaque(n);
		} else if (mxmlGetType(n) == MXML_ELEMENT) {
			const char *el = mxmlGetElement(n);

			/* mxml keeps <![CDATA[x]]> as an element "![CDATA[x" */
			if (el && strncmp(el, "![CDATA[", 8) == 0)
				v = el + 8;
		}
		if (v)
			g_string_append(s, v);
	}
	g_strstrip(s->str);
	return g_string_free(s, FALSE);
}

/* iem_xml_child_text - trimmed text of PARENT's child NAME into BUF */
int iem_xml_child_text(mxml_node_t *parent, const char *name, char *buf,
		       size_t buflen)
{
	mxml_node_t *c = iem_xml_child(parent, NULL, name);
	char *t;
	int rc = 0;

	if (buflen)
		buf[0] = '\0';
	if (c == NULL)
		return -ENOENT;
	t = iem_xml_text(c);
	if (g_strlcpy(buf, t, buflen) >= buflen) {
		if (buflen)
			buf[0] = '\0';
		rc = -ENAMETOOLONG;
	}
	g_free(t);
	return rc;
}

/* iem_xml_answer_clear - free what ANS holds and zero it */
void iem_xml_answer_clear(struct iem_answer *ans)
{
	if (ans == NULL)
		return;
	if (ans->tree)
		mxmlDelete(ans->tree);
	g_free(ans->errormessage);
	memset(ans, 0, sizeof(*ans));
}

/* iem_xml_load - BODY made valid UTF-8 and loaded; -EBADMSG with ERR */
static int iem_xml_load(const char *body, size_t len, mxml_node_t **tree,
			char *err, size_t errlen)
{
	char *valid = NULL, *close = NULL;
	mxml_node_t *root;
	const char *s;
	int rc = -EBADMSG;

	*tree = NULL;
	if (body == NULL || len == 0) {
		snprintf(err, errlen, "the answer is empty");
		goto out;
	}
	if (memchr(body, '\0', len) != NULL) {
		snprintf(err, errlen, "the answer holds a NUL byte");
		goto out;
	}
	valid = g_utf8_make_valid(body, (gssize)len);
	s = valid;
	if (strncmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3;
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	if (*s == '\0') {
		snprintf(err, errlen, "the answer is empty");
		goto out;
	}
	/* load under a node of ours: on some malformed input mxml leaves
	   nodes it made outside the tree it returns (found by fuzzing);
	   under our top node they are freed with it */
	*tree = mxmlNewXML("1.0");
	if (*tree == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	iem_xml_catch();
	if (mxmlLoadString(*tree, s, MXML_OPAQUE_CALLBACK) == NULL ||
	    iem_xml_mxml_errors) {
		const char *m = iem_xml_mxml_errors ? iem_xml_mxml_msg :
						      "mxml failed";

		/* the document element left open at the end (its parent is
		   our top node): the answer was cut */
		snprintf(err, errlen, "the answer is %s: %s",
			 strstr(m, "Missing close tag") &&
					 strstr(m, "under parent <?xml") ?
				 "cut short" : "not XML",
			 m);
		goto out;
	}
	/* a document is one element with nothing but blanks, comments and
	   processing instructions beside it (mxml takes text as well) */
	if (!iem_xml_one_root(*tree)) {
		snprintf(err, errlen, "the answer is not XML: not one element");
		goto out;
	}
	/* mxml accepts a document whose root is never closed */
	root = iem_xml_root(*tree);
	if (root && mxmlGetFirstChild(root)) {
		close = g_strdup_printf("</%s", mxmlGetElement(root));
		if (g_strrstr(s, close) == NULL) {
			snprintf(err, errlen, "the answer is cut short (no "
				 "%.40s>)", close);
			goto out;
		}
	}
	rc = 0;
out:
	if (rc && *tree) {
		mxmlDelete(*tree);
		*tree = NULL;
	}
	g_free(close);
	g_free(valid);
	return rc;
}

/* iem_xml_parse - BODY into ANS: status, data, errormessage */
int iem_xml_parse(const char *body, size_t len, struct iem_answer *ans,
		  char *err, size_t errlen)
{
	mxml_node_t *root;
	char *status = NULL;
	int rc;

	memset(ans, 0, sizeof(*ans));
	rc = iem_xml_load(body, len, &ans->tree, err, errlen);
	if (rc)
		goto out;
	rc = -EPROTO;
	root = iem_xml_root(ans->tree);
	if (root == NULL || strcmp(mxmlGetElement(root), "response") != 0) {
		snprintf(err, errlen, "the answer is XML but not <response> "
			 "(root <%.40s>)", root ? mxmlGetElement(root) : "");
		goto out;
	}
	status = iem_xml_text(iem_xml_child(root, NULL, "status"));
	if (status == NULL) {
		snprintf(err, errlen, "the answer has no <status>");
		goto out;
	}
	if (g_ascii_strcasecmp(status, "SUCCESS") == 0) {
		ans->status = IEM_SUCCESS;
	} else if (g_ascii_strcasecmp(status, "FAILED") == 0) {
		ans->status = IEM_FAILED;
	} else {
		snprintf(err, errlen, "unknown status '%.40s' in the answer",
			 status);
		goto out;
	}
	ans->data = iem_xml_child(root, NULL, "data");
	ans->errormessage = iem_xml_text(iem_xml_child(root, NULL,
							"errormessage"));
	if (ans->errormessage == NULL)
		ans->errormessage = g_strdup("");
	rc = 0;
out:
	g_free(status);
	if (rc)
		iem_xml_answer_clear(ans);
	return rc;
}
