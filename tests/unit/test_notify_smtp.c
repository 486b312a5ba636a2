/*
 * test_notify_smtp.c - notify_smtp.c without a server: what setup refuses
 * (URL scheme, sender, recipients, an empty message) and what finish makes
 * of a transfer's CURLcode and last SMTP code (done, -EAGAIN for
 * connection trouble and 4xx, -EPERM for 5xx and what the operator must
 * fix), with the message naming the server; the [notify] keys mapped
 * into a struct notify_smtp_cfg.  Sending for real is tested against the
 * SMTP fake in tests/integration/test_notify.py.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>

#include "notify.h"

static const char msg[] = "Subject: x\r\n\r\nbody\r\n";
static const char *const rcpts[] = { "a@example.com", "b@example.org",
				     NULL };

static struct notify_smtp_cfg good_cfg(void)
{
	struct notify_smtp_cfg c = {
		.url = "smtp://127.0.0.1:2525",
		.from = "bounced@example.com",
		.to = rcpts,
		.starttls = NOTIFY_STARTTLS_TRY,
	};
	return c;
}

/* setup_rc - notify_smtp_setup's result for C (the handle is thrown away) */
static int setup_rc(const struct notify_smtp_cfg *c, const char *m,
		    size_t len, char *err, size_t errlen)
{
	struct notify_smtp_xfer *x = (struct notify_smtp_xfer *)1;
	CURL *h = curl_easy_init();
	int rc;

	assert_non_null(h);
	rc = notify_smtp_setup(h, c, m, len, &x, err, errlen);
	if (rc != 0)
		assert_null(x);
	curl_easy_cleanup(h);
	notify_smtp_free(rc == 0 ? x : NULL);
	return rc;
}

/* test_setup - good settings pass; bad ones are refused with a message */
static void test_setup(void **state)
{
	static const char *const none[] = { NULL };
	static const char *const crlf[] = { "a@example.com\r\nRSET", NULL };
	struct notify_smtp_cfg c;
	char err[256];

	(void)state;
	c = good_cfg();
	assert_int_equal(setup_rc(&c, msg, sizeof(msg) - 1, err, sizeof(err)),
			 0);
	c.url = "smtps://mail.example.com";
	c.username = "u";
	c.password = "p";
	c.ca_file = "/nonexistent/ca.pem";
	c.starttls = NOTIFY_STARTTLS_REQUIRED;
	assert_int_equal(setup_rc(&c, msg, sizeof(msg) - 1, err, sizeof(err)),
			 0);

	c = good_cfg();
	c.url = "http://mail.example.com";
	assert_int_equal(setup_rc(&c, msg, sizeof(msg) - 1, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "'http://mail.example.com' is not an "
			       "smtp:// or smtps:// URL"));
	c.url = "smtp://";
	assert_int_equal(setup_rc(&c, msg, sizeof(msg) - 1, err, sizeof(err)),
			 -EINVAL);
	c.url = "smtp://a b";
	assert_int_equal(setup_rc(&c, msg, sizeof(msg) - 1, err, sizeof(err)),
			 -EINVAL);
	c.url = NULL;
	assert_int_equal(setup_rc(&c, msg, sizeof(msg) - 1, err, sizeof(err)),
			 -EINVAL);

	c = good_cfg();
	c.from = "bounced@example.com>\r\nRCPT TO:<x@evil.example";
	assert_int_equal(setup_rc(&c, msg, sizeof(msg) - 1, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "sender"));
	c = good_cfg();
	c.to = none;
	assert_int_equal(setup_rc(&c, msg, sizeof(msg) - 1, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "smtp smtp://127.0.0.1:2525: no recipient"));
	c.to = crlf;
	assert_int_equal(setup_rc(&c, msg, sizeof(msg) - 1, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "recipient"));
	c = good_cfg();
	assert_int_equal(setup_rc(&c, msg, 0, err, sizeof(err)), -EINVAL);
	assert_int_equal(setup_rc(&c, NULL, 5, err, sizeof(err)), -EINVAL);
}

/* test_finish - the meaning of a finished transfer */
static void test_finish(void **state)
{
	static const struct {
		CURLcode res;
		long response;
		int want;
		const char *says;
	} cases[] = {
		{ CURLE_OK, 250, 0, NULL },
		{ CURLE_OK, 0, 0, NULL },
		{ CURLE_SEND_ERROR, 451, -EAGAIN, "will be retried" },
		{ CURLE_RECV_ERROR, 421, -EAGAIN, "will be retried" },
		{ CURLE_SEND_ERROR, 554, -EPERM, "failed for good" },
		{ CURLE_RECV_ERROR, 550, -EPERM, "failed for good" },
		{ CURLE_COULDNT_CONNECT, 0, -EAGAIN, "will be retried" },
		{ CURLE_OPERATION_TIMEDOUT, 0, -EAGAIN, "will be retried" },
		{ CURLE_COULDNT_RESOLVE_HOST, 0, -EAGAIN, "will be retried" },
		{ CURLE_GOT_NOTHING, 0, -EAGAIN, "will be retried" },
		{ CURLE_LOGIN_DENIED, 535, -EPERM, "failed for good" },
		{ CURLE_LOGIN_DENIED, 0, -EPERM, "failed for good" },
		{ CURLE_USE_SSL_FAILED, 0, -EPERM, "failed for good" },
		{ CURLE_PEER_FAILED_VERIFICATION, 0, -EPERM, "failed for good" },
		{ CURLE_OK, 452, -EAGAIN, "unexpected answer" },
	};
	struct notify_smtp_cfg c = good_cfg();
	size_t i;

	(void)state;
	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct notify_smtp_xfer *x = NULL;
		CURL *h = curl_easy_init();
		char err[256] = "";
		int rc;

		assert_int_equal(notify_smtp_setup(h, &c, msg, sizeof(msg) - 1,
						   &x, err, sizeof(err)), 0);
		rc = notify_smtp_finish(x, cases[i].res, cases[i].response, err,
					sizeof(err));
		if (rc != cases[i].want)
			print_message("case %zu: %d '%s'\n", i, rc, err);
		assert_int_equal(rc, cases[i].want);
		if (cases[i].says) {
			assert_true(g_str_has_prefix(err, "smtp smtp://127.0.0.1"
						     ":2525: "));
			assert_non_null(strstr(err, cases[i].says));
		}
		curl_easy_cleanup(h);
		notify_smtp_free(x);
	}
}

/* test_from_config - the [notify] keys into the sender's settings */
static void test_from_config(void **state)
{
	char *to[] = { "a@example.com", NULL };
	struct config cfg;
	struct notify_smtp_cfg c;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.notify_smtp = "smtps://mail.example.com:465";
	cfg.notify_from = "b@example.com";
	cfg.notify_to = to;
	cfg.notify_username = "u";
	cfg.notify_password = "p";
	cfg.notify_starttls = NOTIFY_STARTTLS_NO;
	cfg.notify_ca_file = "ca.pem";
	cfg.notify_timeout = 45;
	notify_smtp_cfg_from_config(&cfg, &c);
	assert_string_equal(c.url, "smtps://mail.example.com:465");
	assert_string_equal(c.from, "b@example.com");
	assert_ptr_equal(c.to, to);
	assert_string_equal(c.username, "u");
	assert_string_equal(c.password, "p");
	assert_int_equal(c.starttls, NOTIFY_STARTTLS_NO);
	assert_string_equal(c.ca_file, "ca.pem");
	assert_int_equal(c.timeout, 45);
	assert_int_equal(c.connect_timeout, 10);
	cfg.notify_timeout = 5;
	notify_smtp_cfg_from_config(&cfg, &c);
	assert_int_equal(c.connect_timeout, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_setup),
		cmocka_unit_test(test_finish),
		cmocka_unit_test(test_from_config),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
