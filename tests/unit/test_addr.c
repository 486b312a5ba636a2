/*
 * test_addr.c - address normalisation: what is accepted, how it is
 * normalised, and what hostile input is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"
#include "event.h"

static const struct {
	const char *in;
	const char *out; /* NULL = refused */
} cases[] = {
	{ "john@example.com", "john@example.com" },
	{ "  John.Doe@Example.COM \r\n", "john.doe@example.com" },
	{ "<a@b.example>", "a@b.example" },
	{ "< a@b.example >", "a@b.example" },
	{ "rfc822;Bob@Mail.Example.org", "bob@mail.example.org" },
	{ "rfc822; <x+tag@example.net>", "x+tag@example.net" },
	{ "a&b@example.com", "a&b@example.com" },
	{ "news-user=domain@bounces.example.com", "news-user=domain@bounces.example.com" },
	{ "user@[192.0.2.1]", "user@[192.0.2.1]" },
	{ "user@[IPv6:2001:db8::1]", "user@[ipv6:2001:db8::1]" },
	{ "jos\xc3\xa9@exampl\xc3\xa9.fr", "jos\xc3\xa9@xn--exampl-gva.fr" },
	{ "a\xc2\x85" "b@example.com", NULL },	/* C1 control NEL */
	{ "ab@exa\xc2\x9f" "mple.com", NULL },
	{ "a\xc2\xa0" "b@example.com", "a\xc2\xa0" "b@example.com" }, /* not C1 */
	{ "", NULL },
	{ "   ", NULL },
	{ "no-at-sign", NULL },
	{ "two@@example.com", NULL },
	{ "a@b@example.com", NULL },
	{ "@example.com", NULL },
	{ "user@", NULL },
	{ "user@.example.com", NULL },
	{ "user@example..com", NULL },
	{ "user@example.com.", NULL },
	{ ".user@example.com", NULL },
	{ "us..er@example.com", NULL },
	{ "us er@example.com", NULL },
	{ "us\"er@example.com", NULL },
	{ "user@exa mple.com", NULL },
	{ "user@exa/mple.com", NULL },
	{ "user@example.com?x=1", NULL },
	{ "<user@example.com", NULL },
	{ "us\x01er@example.com", NULL },
	{ "user@ex\x7f" "ample.com", NULL },
	{ "user@[192.0.2.1", NULL },
	/* longer than 16 bytes: capitals, '@' and high bytes in every
	   position of the 16-byte steps */
	{ "Anna.Andersen.Long.Name@Mail.Example-Shop.COM",
	  "anna.andersen.long.name@mail.example-shop.com" },
	{ "ABCDEFGHIJKLMNOPQRSTUVWXYZ@EXAMPLE.COM",
	  "abcdefghijklmnopqrstuvwxyz@example.com" },
	{ "abcdefghijklmno@p.example", "abcdefghijklmno@p.example" },
	{ "abcdefghijklmnop@q.example", "abcdefghijklmnop@q.example" },
	{ "[\\]^_`{|}~ABCDEFG@example.com", NULL },	/* bytes around the capitals */
	{ "abcdefgh@ijklmnopqrstuvw@example.com", NULL },
	{ "abcdefghijklmnopqrst@uvwxyz@example.com", NULL },
	{ "abc@defghijklmnopqrstuvwxyz@example.com", NULL },
	{ "abcdefghijklmnopqrstu\xc2\x85v@example.com", NULL },
	{ "abcdefghijklmnopqrstuvwx@mail.b\xc3\xbc" "cher.de",
	  "abcdefghijklmnopqrstuvwx@mail.xn--bcher-kva.de" },
	{ "Abcdefghijklmnopqrstu\xc3\x89@example.com",
	  "abcdefghijklmnopqrstu\xc3\x89@example.com" },
	/* internationalised domains are kept once, in their ASCII form */
	{ "hans@b\xc3\xbc" "cher.de", "hans@xn--bcher-kva.de" },
	{ "Hans@B\xc3\x9c" "CHER.DE", "hans@xn--bcher-kva.de" },
	{ "hans@xn--bcher-kva.de", "hans@xn--bcher-kva.de" },
	{ "HANS@XN--BCHER-KVA.DE", "hans@xn--bcher-kva.de" },
	{ "<hans@b\xc3\xbc" "cher.de>", "hans@xn--bcher-kva.de" },
	/* NFC: u + combining diaeresis is the same domain */
	{ "hans@bu\xcc\x88" "cher.de", "hans@xn--bcher-kva.de" },
	{ "info@m\xc3\xbcnchen.example", "info@xn--mnchen-3ya.example" },
	{ "a@\xe4\xbe\x8b\xe3\x81\x88.jp", "a@xn--r8jz45g.jp" },
	/* the local part is never converted */
	{ "j\xc3\xb6rg@b\xc3\xbc" "cher.de", "j\xc3\xb6rg@xn--bcher-kva.de" },
	/* not valid IDNA (a lone combining mark first): kept as it came */
	{ "a@\xcc\x88x.example", "a@\xcc\x88x.example" },
	/* not UTF-8: no address (JSON would show it as another one) */
	{ "h\xff" "3@example.com", NULL },
	{ "j\xc3" "rg@example.com", NULL },		/* a lead byte alone */
	{ "abcdefghijklmnopqrst\xe4\xbe@example.com", NULL }, /* cut short */
	{ "a@b\xfc" "cher.de", NULL },			/* Latin-1, not UTF-8 */
};

static void test_table(void **state)
{
	char out[ADDR_MAX + 1];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = addr_normalise(cases[i].in, strlen(cases[i].in), out,
				       sizeof(out));

		if (!cases[i].out) {
			if (n >= 0)
				fail_msg("accepted '%s' as '%s'", cases[i].in, out);
			continue;
		}
		if (n < 0)
			fail_msg("refused '%s'", cases[i].in);
		assert_string_equal(out, cases[i].out);
		assert_int_equal(n, (int)strlen(cases[i].out));
	}
}

static void test_lengths(void **state)
{
	char in[600], out[ADDR_MAX + 1];
	size_t i;

	(void)state;
	/* local part of 64 is fine, 65 is not */
	memset(in, 'a', 64);
	memcpy(in + 64, "@example.com", 13);
	assert_int_equal(addr_normalise(in, strlen(in), out, sizeof(out)), 76);
	memset(in, 'a', 65);
	memcpy(in + 65, "@example.com", 13);
	assert_int_equal(addr_normalise(in, strlen(in), out, sizeof(out)), -1);
	/* a label of 64 is refused */
	memcpy(in, "a@", 2);
	memset(in + 2, 'b', 64);
	memcpy(in + 66, ".com", 5);
	assert_int_equal(addr_normalise(in, strlen(in), out, sizeof(out)), -1);
	/* longer than ADDR_MAX in total */
	memcpy(in, "a@", 2);
	for (i = 2; i < 2 + 300; i += 10)
		memcpy(in + i, "abcdefghi.", 10);
	memcpy(in + 302, "com", 4);
	assert_int_equal(addr_normalise(in, strlen(in), out, sizeof(out)), -1);
	/* length is honoured: no NUL needed, nothing read past LEN */
	assert_int_equal(addr_normalise("x@example.comGARBAGE", 13, out,
					sizeof(out)), 13);
	assert_string_equal(out, "x@example.com");
	/* too small an output buffer is refused, not overflowed */
	assert_int_equal(addr_normalise("x@example.com", 13, out, 10), -1);
}

/* every length from 3 to 48 bytes and every place of the '@' (the
   lowering takes 16 bytes at a time and the rest as the last 16, those
   before again): the address lowered whole, and a second '@' anywhere,
   before or after the first, in the bytes taken twice or not, refused */
static void test_at_everywhere(void **state)
{
	char in[64], want[64], out[ADDR_MAX + 1];
	size_t n, a, k, j;

	(void)state;
	for (n = 3; n <= 48; n++)
		for (a = 1; a + 4 < n; a++) {
			/* LOCAL@DOMAIN, capitals and digits, the domain
			   ending "x.io" */
			for (k = 0; k < n; k++)
				in[k] = (char)(k % 3 == 0 ? 'A' + k % 26 :
					       k % 3 == 1 ? 'a' + k % 26 :
							    '0' + k % 10);
			memcpy(in + n - 4, "x.IO", 4);
			in[a] = '@';
			in[n] = '\0';
			for (k = 0; k <= n; k++)
				want[k] = in[k] >= 'A' && in[k] <= 'Z' ?
						  (char)(in[k] + 32) : in[k];
			assert_int_equal(addr_normalise(in, n, out,
							sizeof(out)),
					 (int)n);
			assert_string_equal(out, want);
			for (j = 0; j + 4 < n; j++) {
				char c = in[j];

				if (j == a)
					continue;
				in[j] = '@';
				if (addr_normalise(in, n, out, sizeof(out)) !=
				    -1)
					fail_msg("two '@' at %zu and %zu of %zu "
						 "taken", a, j, n);
				in[j] = c;
			}
		}
}

static void test_domain(void **state)
{
	(void)state;
	assert_string_equal(addr_domain("a@example.com"), "example.com");
	assert_string_equal(addr_domain("nodomain"), "nodomain");
}

static void test_domain_normalise(void **state)
{
	char out[ADDR_MAX + 1];

	(void)state;
	assert_int_equal(addr_domain_normalise("B\xc3\xbc" "cher.DE", 10, out,
					       sizeof(out)), 16);
	assert_string_equal(out, "xn--bcher-kva.de");
	assert_int_equal(addr_domain_normalise("@Example.COM", 12, out,
					       sizeof(out)), 11);
	assert_string_equal(out, "example.com");
	assert_int_equal(addr_domain_normalise("", 0, out, sizeof(out)), -1);
	assert_int_equal(addr_domain_normalise("a b", 3, out, sizeof(out)), -1);
	assert_int_equal(addr_domain_normalise("x@y", 3, out, sizeof(out)), -1);
	assert_int_equal(addr_domain_normalise("example.com", 11, out, 5), -1);
}

/* an ASCII form longer than the address may be refuses it, never cuts it */
static void test_idna_length(void **state)
{
	char in[512], out[ADDR_MAX + 1];
	size_t n = 0, i;

	(void)state;
	n += (size_t)snprintf(in, sizeof(in), "a@");
	/* 4 labels of 20 u-umlauts: 160 bytes of UTF-8, each label
	   "xn--" + 21 or so characters in ASCII */
	for (i = 0; i < 4; i++) {
		size_t k;

		for (k = 0; k < 20; k++)
			n += (size_t)snprintf(in + n, sizeof(in) - n, "\xc3\xbc");
		n += (size_t)snprintf(in + n, sizeof(in) - n, ".");
	}
	n += (size_t)snprintf(in + n, sizeof(in) - n, "de");
	i = (size_t)addr_normalise(in, n, out, sizeof(out));
	if ((int)i >= 0) {
		assert_true(i <= ADDR_MAX);
		assert_null(strchr(out, 0xc3));
		assert_non_null(strstr(out, "xn--"));
	}
}

/* the Unicode form of an address whose domain has ASCII-compatible
   labels: the same address spelt as typed, or none */
static void test_unicode(void **state)
{
	static const struct {
		const char *in;
		const char *out;	/* NULL: no other form */
	} uc[] = {
		{ "hans@xn--bcher-kva.de", "hans@b\xc3\xbc" "cher.de" },
		{ "j@mail.xn--bcher-kva.xn--p1ai",
		  "j@mail.b\xc3\xbc" "cher.\xd1\x80\xd1\x84" },
		{ "x@xn--strae-oqa.de", "x@stra\xc3\x9f" "e.de" },
		{ "john@example.com", NULL },
		{ "john@xn--example.com", NULL },	/* not punycode */
		/* "b\xc3\x9c" "cher": a form no lookup gives (Unicode is
		   lowercased), so another address's */
		{ "john@xn--bcher-2pa.de", NULL },
		{ "xn--bcher-kva@example.com", NULL },	/* the local part */
		{ "j@[192.0.2.1]", NULL },
		/* decoded into symbols the checks of an address refuse */
		{ "se-@xn--iiiiiiiiiiiiiiiiiiiixmojx", NULL },
		{ "no-at-sign", NULL },
	};
	char out[ADDR_UNICODE_MAX + 1], back[ADDR_MAX + 1];
	size_t i;
	int n;

	(void)state;
	for (i = 0; i < sizeof(uc) / sizeof(uc[0]); i++) {
		n = addr_unicode(uc[i].in, out, sizeof(out));
		if (uc[i].out == NULL) {
			if (n != 0)
				fail_msg("%s: %d", uc[i].in, n);
			continue;
		}
		if (n != (int)strlen(uc[i].out))
			fail_msg("%s: %d", uc[i].in, n);
		assert_string_equal(out, uc[i].out);
		/* and it is normalised back to the same key */
		assert_int_equal(addr_normalise(out, (size_t)n, back,
						sizeof(back)),
				 (int)strlen(uc[i].in));
		assert_string_equal(back, uc[i].in);
	}
	/* too small a buffer: -1, never cut */
	assert_int_equal(addr_unicode("hans@xn--bcher-kva.de", out, 10), -1);
	assert_int_equal(addr_unicode("hans@xn--bcher-kva.de", out, 16), 15);
	assert_int_equal(addr_unicode("hans@xn--bcher-kva.de", out, 15), -1);
	assert_int_equal(addr_unicode(NULL, out, sizeof(out)), 0);
}

/* the address as written: kept when it differs in ASCII case only */
static void test_written(void **state)
{
	static const struct {
		const char *in, *written; /* "" = none */
	} w[] = {
		{ "John.Smith@Example.com", "John.Smith@Example.com" },
		{ "  <John@EXAMPLE.org> \r\n", "John@EXAMPLE.org" },
		{ "rfc822; <Bob@Mail.Example.org>", "Bob@Mail.Example.org" },
		{ "john@example.com", "" },
		{ " <john@example.com>", "" },
		/* a domain converted to its ASCII form: not a spelling */
		{ "Jos\xc3\xa9@exampl\xc3\xa9.fr", "" },
		{ "Jos\xc3\xa9@Example.fr", "Jos\xc3\xa9@Example.fr" },
		{ "User@[IPv6:2001:db8::1]", "User@[IPv6:2001:db8::1]" },
	};
	char norm[ADDR_MAX + 1], out[ADDR_MAX + 1];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		size_t n = strlen(w[i].in);

		assert_true(addr_normalise(w[i].in, n, norm, sizeof(norm)) > 0);
		assert_int_equal(addr_written(w[i].in, n, norm, out),
				 (int)strlen(w[i].written));
		assert_string_equal(out, w[i].written);
	}
	/* not the normalised form of the input: nothing */
	assert_int_equal(addr_written("John@Example.com", 16,
				      "john@example.org", out), 0);
	assert_string_equal(out, "");
	assert_int_equal(addr_written("<John@Example.com", 17,
				      "john@example.com", out), 0);
	assert_int_equal(addr_written("J\xc3\xb6hn@Example.com", 17,
				      "john@example.com", out), 0);
	assert_int_equal(addr_written(NULL, 0, "john@example.com", out), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_at_everywhere),
		cmocka_unit_test(test_domain),
		cmocka_unit_test(test_domain_normalise),
		cmocka_unit_test(test_idna_length),
		cmocka_unit_test(test_unicode),
		cmocka_unit_test(test_written),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
