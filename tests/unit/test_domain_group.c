/*
 * test_domain_group.c - destinations: the default groups of the big
 * providers (exact domains and globs such as hotmail.*), a domain in no
 * group as itself, a custom set, and the refusals of a bad set.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "domain_group.h"

static void test_default(void **state)
{
	struct domain_groups *g = NULL;
	char err[256];

	(void)state;
	assert_int_equal(domain_groups_parse(NULL, &g, err, sizeof(err)), 0);
	assert_string_equal(domain_groups_of(g, "gmail.com"), "gmail");
	assert_string_equal(domain_groups_of(g, "googlemail.com"), "gmail");
	assert_string_equal(domain_groups_of(g, "hotmail.co.uk"), "microsoft");
	assert_string_equal(domain_groups_of(g, "outlook.com"), "microsoft");
	assert_string_equal(domain_groups_of(g, "aol.com"), "yahoo");
	assert_string_equal(domain_groups_of(g, "yahoo.fr"), "yahoo");
	assert_string_equal(domain_groups_of(g, "example.org"), "example.org");
	assert_string_equal(domain_groups_of_addr(g, "jo@gmail.com"), "gmail");
	assert_string_equal(domain_groups_of_addr(g, "jo@example.net"),
			    "example.net");
	/* "notgmail.com" is not gmail */
	assert_string_equal(domain_groups_of(g, "notgmail.com"),
			    "notgmail.com");
	domain_groups_free(g);
}

static void test_custom_and_refusals(void **state)
{
	static const char *bad[] = {
		"gmail gmail.com", ": gmail.com", "Gm ail: gmail.com",
		"gmail:", "gmail: gm\001ail.com",
	};
	struct domain_groups *g = NULL;
	char err[256];
	size_t i;

	(void)state;
	assert_int_equal(domain_groups_parse("corp: example.com *.example.com;"
					     " ; other: example.com", &g, err,
					     sizeof(err)), 0);
	assert_string_equal(domain_groups_of(g, "mail.example.com"), "corp");
	/* the first group that names a domain wins */
	assert_string_equal(domain_groups_of(g, "example.com"), "corp");
	assert_string_equal(domain_groups_of(g, "gmail.com"), "gmail.com");
	domain_groups_free(g);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		g = (struct domain_groups *)1;
		err[0] = '\0';
		assert_int_equal(domain_groups_parse(bad[i], &g, err,
						     sizeof(err)), -EINVAL);
		assert_null(g);
		assert_true(err[0] != '\0');
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default),
		cmocka_unit_test(test_custom_and_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
