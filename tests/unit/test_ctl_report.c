/*
 * test_ctl_report.c - the report's "Open incidents" section
 * (ctl_report_incidents): "no open incident" when there is none; one row
 * per incident with its id, source, destination, counts and first DSN
 * text, every text from the state HTML-escaped and cleaned of control
 * characters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <glib.h>
#include <string.h>

#include "ctl.h"
#include "incident_store.h"

/* test_none - the section is there, and says there is none */
static void test_none(void **state)
{
	GArray *incs = g_array_new(FALSE, TRUE, sizeof(struct incident));
	GString *o = g_string_new(NULL);

	(void)state;
	ctl_report_incidents(o, incs);
	assert_non_null(strstr(o->str, "<h2 id=\"incidents\">Open incidents "
				       "(0)</h2>"));
	assert_non_null(strstr(o->str, "<td colspan=\"9\">no open incident"
				       "</td>"));
	g_string_free(o, TRUE);
	g_array_free(incs, TRUE);
}

/* test_rows - one row each, escaped */
static void test_rows(void **state)
{
	GArray *incs = g_array_new(FALSE, TRUE, sizeof(struct incident));
	GString *o = g_string_new(NULL);
	struct incident inc;

	(void)state;
	memset(&inc, 0, sizeof(inc));
	inc.id = 7;
	inc.state = INCIDENT_ST_OPEN;
	snprintf(inc.source, sizeof(inc.source), "192.0.2.10");
	snprintf(inc.dest, sizeof(inc.dest), "microsoft");
	inc.open_time = 1764000000;	/* 2025-11-24T16:00:00Z */
	inc.recipients = 25;
	inc.bounces = 31;
	inc.protected_soft = 12;
	inc.held = 4;
	inc.nsamples = 1;
	snprintf(inc.samples[0], sizeof(inc.samples[0]),
		 "550 5.7.1 <blocked> \"S3150\"\x1b[0m");
	g_array_append_val(incs, inc);
	inc.id = 9;
	snprintf(inc.source, sizeof(inc.source), "vmta-<b>");
	snprintf(inc.dest, sizeof(inc.dest), "gmail");
	inc.nsamples = 0;
	g_array_append_val(incs, inc);
	ctl_report_incidents(o, incs);
	assert_non_null(strstr(o->str, "Open incidents (2)"));
	assert_null(strstr(o->str, "no open incident"));
	assert_non_null(strstr(o->str, "<tr><td class=\"n\">7</td><td>"));
	assert_non_null(strstr(o->str, "<td>192.0.2.10</td><td>microsoft</td>"
				       "<td class=\"n\">25</td><td class=\"n\">"
				       "31</td><td class=\"n\">12</td>"
				       "<td class=\"n\">4</td>"));
	assert_non_null(strstr(o->str, "<td>550 5.7.1 &lt;blocked&gt; "
				       "&quot;S3150&quot;"));
	assert_null(strchr(o->str, '\x1b'));
	assert_non_null(strstr(o->str, "<td>vmta-&lt;b&gt;</td><td>gmail"));
	assert_non_null(strstr(o->str, "<td class=\"n\">4</td><td>-</td>"));
	assert_non_null(strstr(o->str, "bouncectl incident show ID"));
	g_string_free(o, TRUE);
	g_array_free(incs, TRUE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_none),
		cmocka_unit_test(test_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
