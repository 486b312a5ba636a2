/*
 * fuzz_iem_xml.c - libFuzzer target for the Interspire answer parser.
 *
 * Answers come from a server over the network: whatever the bytes,
 * iem_xml_parse must return one of its documented codes, and a parsed
 * answer must be walkable (every <item> of <data>, the texts of its
 * children) and freed without leaks.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <glib.h>

#include "iem_xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iem_answer ans;
	char err[256], buf[64];
	mxml_node_t *item = NULL;
	int rc;

	rc = iem_xml_parse((const char *)data, size, &ans, err, sizeof(err));
	if (rc != 0 && rc != -EBADMSG && rc != -EPROTO && rc != -ENOMEM) {
		fprintf(stderr, "fuzz_iem_xml: unexpected code %d\n", rc);
		abort();
	}
	if (rc != 0)
		return 0;
	if (ans.status != IEM_SUCCESS && ans.status != IEM_FAILED)
		abort();
	if (ans.data) {
		while ((item = iem_xml_child(ans.data, item, NULL)) != NULL) {
			char *t = iem_xml_text(item);

			(void)iem_xml_child_text(item, "listid", buf, sizeof(buf));
			(void)iem_xml_child_text(item, "subscriberid", buf,
						 sizeof(buf));
			g_free(t);
		}
	}
	iem_xml_answer_clear(&ans);
	return 0;
}
