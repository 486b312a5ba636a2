"""test_notify.py - `bounced notify-test` end to end against the SMTP fake
(tests/fake/smtp.py): the envelope, the recipients and the message the
fake received (headers, the text and HTML parts), over plain SMTP, with
STARTTLS when offered, with STARTTLS required (verified against the test
certificate), with AUTH; and the failures: a 451 (exit 75, retry), a 5xx
(exit 69), STARTTLS required but not offered, a wrong password, nothing
listening, [notify] keys missing (exit 78).
"""
import email
import email.policy
import os
import re
import signal
import socket
import sys
import time
import unittest

from harness import (ACCT_HEADER, BouncedTestCase, EX_OK, EX_TEMPFAIL,
                     EX_CONFIG, RunTestCase, acct_rec)

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)

from fake import smtp   # noqa: E402

EX_UNAVAILABLE = 69
FROM = 'bounced@mx1.example.com'
TO = ['postmaster@example.com', 'ops+mail@example.org']


class NotifyTestCase(BouncedTestCase):

    def start_fake(self, **kw):
        f = smtp.SmtpFake(**kw).start()
        self.addCleanup(f.stop)
        return f

    def notify_config(self, url, **keys):
        lines = ['', '[notify]', 'smtp = %s' % url, 'from = %s' % FROM,
                 'to = %s' % '; '.join(TO)]
        lines += ['%s = %s' % (k.replace('_', '-'), v)
                  for k, v in keys.items()]
        self.write_config(extra='\n'.join(lines) + '\n')

    def notify_test(self, rc):
        res = self.run_bounced('notify-test', timeout=60)
        self.assertRc(res, rc)
        return res

    def assertDigest(self, m):
        """M (a message the fake took) is bounced's sample digest."""
        self.assertEqual(m['mail_from'], FROM)
        self.assertEqual(m['rcpts'], TO)
        data = m['data']
        self.assertTrue(data.endswith(b'\r\n'))
        self.assertNotIn(b'\n', data.replace(b'\r\n', b''))
        msg = email.message_from_bytes(data, policy=email.policy.default)
        self.assertEqual(msg['Subject'], 'bounced: 1 complaint on %s' %
                         socket.gethostname())
        self.assertEqual(msg['From'].addresses[0].addr_spec, FROM)
        self.assertEqual([a.addr_spec for a in msg['To'].addresses], TO)
        self.assertEqual(msg['Auto-Submitted'], 'auto-generated')
        self.assertIsNotNone(msg['Date'])
        self.assertRegex(msg['Message-Id'], r'^<[^<>@]+@[^<>@]+>$')
        self.assertEqual(msg.get_content_type(), 'multipart/alternative')
        parts = list(msg.iter_parts())
        self.assertEqual([p.get_content_type() for p in parts],
                         ['text/plain', 'text/html'])
        # the parts keep the wire's CRLF
        text, html = (p.get_content().replace('\r\n', '\n') for p in parts)
        self.assertEqual(parts[0].get_content_charset(), 'utf-8')
        self.assertIn('Complaints (1)', text)
        self.assertIn('  * recipient@example.com  at ', text)
        self.assertIn('      Feedback type: abuse\n', text)
        self.assertIn('<td>recipient@example.com</td>', html)
        self.assertIn('<h3>Complaints (1)</h3>', html)
        return msg


class TestNotifySends(NotifyTestCase):

    def test_plain(self):
        f = self.start_fake(starttls=False)
        self.notify_config(f.url)
        res = self.notify_test(EX_OK)
        self.assertIn('notify-test: sent a sample digest', res.out)
        self.assertIn(', '.join(TO), res.out)
        m = f.messages()
        self.assertEqual(len(m), 1)
        self.assertDigest(m[0])
        self.assertFalse(m[0]['tls'])
        self.assertIsNone(m[0]['auth'])

    def test_starttls_when_offered(self):
        f = self.start_fake()
        self.notify_config(f.url, ca_file=smtp.CERT)
        self.notify_test(EX_OK)
        m = f.messages()
        self.assertEqual(len(m), 1)
        self.assertTrue(m[0]['tls'])
        self.assertDigest(m[0])

    def test_starttls_required_and_auth(self):
        f = self.start_fake(require_tls=True, user='mailer',
                            password='pa55 word')
        self.notify_config(f.url, starttls='required', ca_file=smtp.CERT,
                           username='mailer', password='pa55 word')
        self.notify_test(EX_OK)
        m = f.messages()
        self.assertEqual(len(m), 1)
        self.assertTrue(m[0]['tls'])
        self.assertEqual(m[0]['auth'], 'mailer')
        self.assertDigest(m[0])
        # check-config masks the password
        res = self.run_bounced('check-config')
        self.assertRc(res, EX_OK)
        self.assertIn('password = ****\n', res.out)
        self.assertNotIn('pa55', res.out)

    def test_unknown_recipient_does_not_stop_the_others(self):
        # the relay does not know the second recipient (550 5.1.1): the
        # first gets the mail, and the refusal is said
        f = self.start_fake(starttls=False, refuse_rcpts=[TO[1]])
        self.notify_config(f.url)
        res = self.notify_test(EX_OK)
        self.assertIn("refused %s ('550 5.1.1 <%s>: Recipient address "
                      "rejected: User unknown in local recipient table'): "
                      "they did not get the sample" % (TO[1], TO[1]),
                      res.err)
        m = f.messages()
        self.assertEqual(len(m), 1)
        self.assertEqual(m[0]['rcpts'], [TO[0]])

    def test_web_url_in_config(self):
        f = self.start_fake(starttls=False)
        self.notify_config(f.url, web_url='https://mw.example.com/')
        self.notify_test(EX_OK)
        self.assertEqual(len(f.messages()), 1)


class TestNotifyFails(NotifyTestCase):

    def test_451_then_retry(self):
        f = self.start_fake(starttls=False, fail_code=451, fail_at='MAIL',
                            fail_count=1)
        self.notify_config(f.url)
        res = self.notify_test(EX_TEMPFAIL)
        self.assertIn('notify-test: smtp %s' % f.url, res.err)
        self.assertIn("server said '451 4.0.0 injected failure at MAIL'",
                      res.err)
        self.assertIn('will be retried', res.err)
        self.assertEqual(f.messages(), [])
        self.notify_test(EX_OK)
        self.assertEqual(len(f.messages()), 1)

    def test_5xx_at_data(self):
        f = self.start_fake(starttls=False, fail_code=554, fail_at='DATA',
                            fail_count=1)
        self.notify_config(f.url)
        res = self.notify_test(EX_UNAVAILABLE)
        self.assertIn("server said '554 5.0.0 injected failure at DATA'",
                      res.err)
        self.assertIn('failed for good', res.err)
        self.assertEqual(f.messages(), [])

    def test_451_at_rcpt(self):
        # the first recipient refused for now, the second taken: the mail
        # stops before its data (the second would get it twice), and
        # goes to both when tried again
        f = self.start_fake(starttls=False, fail_code=451, fail_at='RCPT',
                            fail_count=1)
        self.notify_config(f.url)
        res = self.notify_test(EX_TEMPFAIL)
        self.assertIn("recipient %s refused for now; server said '451 "
                      "4.0.0 injected failure at RCPT' (nothing sent, will "
                      "be retried)" % TO[0], res.err)
        self.assertEqual(f.messages(), [])
        self.assertIn('C: DATA', f.connections()[0]['transcript'])
        self.notify_test(EX_OK)
        self.assertEqual([m['rcpts'] for m in f.messages()], [TO])

    def test_starttls_required_not_offered(self):
        f = self.start_fake(starttls=False)
        self.notify_config(f.url, starttls='required')
        res = self.notify_test(EX_UNAVAILABLE)
        self.assertIn('notify-test: smtp %s' % f.url, res.err)
        self.assertIn('failed for good', res.err)
        self.assertEqual(f.messages(), [])

    def test_starttls_no_but_server_requires(self):
        f = self.start_fake(require_tls=True)
        self.notify_config(f.url, starttls='no')
        res = self.notify_test(EX_UNAVAILABLE)
        self.assertIn('530', res.err)
        self.assertEqual(f.messages(), [])
        self.assertFalse(any(s['tls'] for s in f.connections()))

    def test_certificate_not_trusted(self):
        f = self.start_fake(require_tls=True)
        self.notify_config(f.url, starttls='required',
                           ca_file=os.path.join(self.dir, 'empty.pem'))
        self.write_file('empty.pem', '')
        res = self.notify_test(EX_UNAVAILABLE)
        self.assertEqual(f.messages(), [])
        self.assertIn('failed for good', res.err)

    def test_wrong_password(self):
        f = self.start_fake(starttls=False, user='mailer', password='right')
        self.notify_config(f.url, username='mailer', password='wrong')
        res = self.notify_test(EX_UNAVAILABLE)
        self.assertIn('535', res.err)
        self.assertNotIn('wrong', res.err)
        self.assertEqual(f.messages(), [])

    def test_nothing_listening(self):
        s = socket.socket()
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
        s.close()
        self.notify_config('smtp://127.0.0.1:%d' % port, timeout='5s')
        res = self.notify_test(EX_TEMPFAIL)
        self.assertIn('smtp://127.0.0.1:%d' % port, res.err)
        self.assertIn('will be retried', res.err)

    def test_missing_keys(self):
        res = self.notify_test(EX_CONFIG)
        self.assertIn('[notify] smtp is not set', res.err)
        self.write_config(extra='[notify]\nsmtp = smtp://127.0.0.1:1\n')
        res = self.notify_test(EX_CONFIG)
        self.assertIn('[notify] from is not set', res.err)

    def test_bad_config(self):
        self.write_config(extra='[notify]\nsmtp = smtp://127.0.0.1:1\n'
                          'from = a@example.com\nto = not-an-address\n')
        res = self.notify_test(EX_CONFIG)
        self.assertIn("'not-an-address' is not an address", res.err)

    def test_usage(self):
        res = self.run_bounced('notify-test', 'extra')
        self.assertRc(res, 64)



class TestDaemonQueue(RunTestCase):
    """The worker's operator mail when the state cannot take the mailed
    items off the queue (a full disk): it does not mail them again and
    again, it waits and tries the write again."""

    def test_items_mailed_but_not_dropped_are_not_mailed_again(self):
        notify = ('\n[notify]\nsmtp = %%s\nfrom = %s\nto = %s\n'
                  'mode = event\n' % (FROM, TO[0]))
        # a complaint queued for the operator, the server not there
        self.queue_complaints(notify, ['c@example.com'])
        # the disk fills while the server takes the mail
        full = os.path.join(self.dir, 'disk-full')
        f = smtp.SmtpFake(starttls=False,
                          on_message=lambda seq: open(full, 'w').close())
        f.start()
        self.addCleanup(f.stop)
        self.write_config(extra=notify % f.url)
        self.extra_env = {
            'LD_PRELOAD': os.path.join(self.build, 'tests',
                                       'fail_commit.so'),
            'BOUNCED_TEST_FAIL_COMMIT': full}
        p = self.start()
        self.wait_for(lambda: len(f.messages()) >= 1, 10,
                      'the queued item was not mailed')
        self.wait_for(lambda: 'could not be taken off the queue'
                      in self.log(p), 5, 'no error about the queue')
        time.sleep(1)
        self.assertEqual(len(f.messages()), 1)
        self.stop(p)

    def test_an_item_refused_for_good_does_not_hold_the_others(self):
        # a content filter refuses the mail of one item every time: after
        # three refusals it is dropped (and logged), the next goes
        f = self.filtering_fake('event', ['aa-poison@example.com',
                                          'zz-good@example.com'])
        self.extra_env = {'BOUNCED_NOTIFY_RETRY_MS': '200'}
        p = self.start()
        self.wait_for(lambda: len(f.messages()) >= 1, 15,
                      'the item after the refused one was not mailed')
        m = f.messages()
        self.assertEqual(len(m), 1)
        self.assertIn(b'zz-good@example.com', m[0]['data'])
        self.assertIn('dropped the complaint item of aa-poison@example.com',
                      self.log(p))
        self.stop(p)

    def queue_complaints(self, notify, addrs):
        """complaints of ADDRS queued for the operator (the relay not
        there); the [notify] text NOTIFY % url stays to be written"""
        s = socket.socket()
        s.bind(('127.0.0.1', 0))
        dead = s.getsockname()[1]
        s.close()
        self.write_config(extra=notify % ('smtp://127.0.0.1:%d' % dead))
        rows = ''.join(acct_rec('f', '2026-11-24 08:00:%02d+0000' % i,
                                'news@bounces.example.com', a, fb='abuse')
                       for i, a in enumerate(addrs))
        path = self.write_file('acct-f.csv', ACCT_HEADER + rows)
        self.run_bounced('process', '--drain-timeout', '1s', path)

    def filtering_fake(self, mode, addrs):
        """complaints of ADDRS queued for [notify] MODE (its lines after
        mode =), then configured to go through a relay whose content
        filter refuses any mail naming aa-poison@example.com: the fake"""
        notify = ('\n[notify]\nsmtp = %%s\nfrom = %s\nto = %s\n'
                  'mode = %s\n' % (FROM, TO[0], mode))
        self.queue_complaints(notify, addrs)
        f = smtp.SmtpFake(starttls=False,
                          refuse_content=b'aa-poison@example.com')
        f.start()
        self.addCleanup(f.stop)
        self.write_config(extra=notify % f.url)
        return f

    def filtering_relay(self, addrs):
        """complaints of ADDRS queued, and a worker mailing them each
        second (digest) through the filtering relay: (fake, process)"""
        f = self.filtering_fake('digest\ndigest-interval = 1s', addrs)
        self.extra_env = {'BOUNCED_NOTIFY_RETRY_MS': '100'}
        return f, self.start()

    def test_digest_refused_for_its_content_goes_item_by_item(self):
        f, p = self.filtering_relay(['aa-poison@example.com',
                                     'bb-good@example.com',
                                     'cc-good@example.com'])
        self.wait_for(lambda: len(f.messages()) >= 2, 30,
                      'the items after the refused one were not mailed')
        m = f.messages()
        self.assertIn(b'bb-good@example.com', m[0]['data'])
        self.assertIn(b'cc-good@example.com', m[1]['data'])
        self.assertIn('they go one mail each', self.log(p))
        self.assertIn('dropped the complaint item of aa-poison@example.com',
                      self.log(p))
        self.stop(p)

    def test_process_finds_the_refused_item_in_one_run(self):
        # bounced process meets the content filter too: the digest is
        # tried again, split, and the refused item dropped in the same
        # run (each run ended at the first refusal: nothing ever went)
        f = self.filtering_fake('digest', ['aa-poison@example.com',
                                           'bb-good@example.com'])
        res = self.run_bounced('process', '--drain-timeout', '10s')
        self.assertRc(res, EX_OK)
        m = f.messages()
        self.assertEqual(len(m), 1, res.err)
        self.assertIn(b'bb-good@example.com', m[0]['data'])
        self.assertIn('dropped the complaint item of aa-poison@example.com',
                      res.err)
        self.assertEqual(self.ctl_json('stats')['notify_queued'], 0)

    def test_reload_between_refusals_counts_on(self):
        # the relay refuses the one item's mail for its content; a reload
        # after the first refusal makes the mailer anew, which goes on
        # counting: the item is dropped after three attempts, not four
        f, p = self.filtering_relay(['aa-poison@example.com'])
        self.wait_for(lambda: 'items stay queued' in self.log(p), 15,
                      'no refusal: %s' % self.log(p)[-2000:])
        p.send_signal(signal.SIGHUP)
        self.wait_for(lambda: 'dropped the complaint item' in self.log(p),
                      15, 'not dropped: %s' % self.log(p)[-2000:])
        self.stop(p)
        log = self.log(p)
        self.assertIn('SIGHUP: configuration', log)
        # refused twice, then the third refusal drops it (the log folds
        # repeated lines: the relay's transactions are counted)
        mails = [line for c in f.connections() for line in c['transcript']
                 if line.startswith('C: MAIL FROM')]
        self.assertEqual(len(mails), 3, log)
        self.assertEqual(f.messages(), [])

    def test_recipient_the_relay_does_not_know(self):
        # one of two recipients unknown to the relay: the other gets the
        # items, which leave the queue; the refusal is logged
        notify = ('\n[notify]\nsmtp = %%s\nfrom = %s\nto = %s; %s\n'
                  'mode = digest\ndigest-interval = 1s\n' % (FROM, TO[0],
                                                            TO[1]))
        self.queue_complaints(notify, ['a@example.com', 'b@example.com'])
        f = smtp.SmtpFake(starttls=False, refuse_rcpts=[TO[0]])
        f.start()
        self.addCleanup(f.stop)
        self.write_config(extra=notify % f.url)
        p = self.start()
        self.wait_for(lambda: 'mailed 2 items' in self.log(p), 15,
                      'not mailed: %s' % self.log(p)[-2000:])
        time.sleep(1.5)     # a digest-interval on: nothing left to mail
        self.stop(p)
        self.assertEqual([m['rcpts'] for m in f.messages()], [[TO[1]]])
        self.assertIn("warning notify: %s refused %s ('550 5.1.1 <%s>: "
                      "Recipient address rejected: User unknown in local "
                      "recipient table'): they did not get the mail of 2 "
                      "items the other recipients got" % (f.url, TO[0],
                                                          TO[0]),
                      self.log(p))

    def test_a_reload_mails_no_digest_before_its_interval(self):
        # a digest an hour apart; a complaint comes, then a SIGHUP (what
        # logrotate sends each night to reopen the log): nothing is
        # mailed before the hour (the reload mailed the digest at once)
        notify = ('\n[notify]\nsmtp = %s\nfrom = %s\nto = %s\n'
                  'mode = digest\ndigest-interval = 1h\n')
        f = smtp.SmtpFake(starttls=False)
        f.start()
        self.addCleanup(f.stop)
        self.write_config(extra=notify % (f.url, FROM, TO[0]))
        p = self.start()
        self.drop('acct-f.csv', ACCT_HEADER + acct_rec(
            'f', '2026-11-24 08:00:00+0000', 'news@bounces.example.com',
            'c@example.com', fb='abuse'))
        self.wait_for(lambda: 'acct-f.csv: 1 records' in self.log(p), 10,
                      'the complaint was not taken: %s' % self.log(p))
        p.send_signal(signal.SIGHUP)
        self.wait_for(lambda: 'SIGHUP: configuration' in self.log(p), 10,
                      'no reload: %s' % self.log(p))
        time.sleep(1)
        self.assertEqual(f.messages(), [])
        self.assertEqual(self.ctl_json('stats')['notify_queued'], 1)
        self.stop(p)

    def test_retries_wait_at_most_the_digest_interval(self):
        # a relay that says 421 to every connection: tried again after
        # 1 s, 2 s, then the interval (3 s) each time, never 4 s
        notify = ('\n[notify]\nsmtp = %%s\nfrom = %s\nto = %s\n'
                  'mode = digest\ndigest-interval = 3s\n' % (FROM, TO[0]))
        self.queue_complaints(notify, ['c@example.com'])
        f = smtp.SmtpFake(starttls=False, fail_code=421, fail_at='GREETING',
                          fail_count=100000)
        f.start()
        self.addCleanup(f.stop)
        self.write_config(extra=notify % f.url)
        self.extra_env = {'BOUNCED_NOTIFY_RETRY_MS': '1000'}
        p = self.start()
        self.wait_for(lambda: len(f.connections()) >= 5, 20,
                      'not tried five times: %s' % self.log(p))
        self.stop(p)
        log = self.log(p)
        self.assertEqual(re.findall(r'next try in (\d+) s', log),
                         ['1', '2', '3'], log)   # the log folds the rest
        # the fourth try's line, folded; the fifth's too when its answer
        # was read before the stop (the fake counts the connection first)
        self.assertRegex(log, r'previous message repeated [1-9] times?')
        self.assertEqual(f.messages(), [])

    def test_relay_refusing_everything_drops_nothing(self):
        for at in ('RCPT', 'GREETING'):
            with self.subTest(at=at):
                self.relay_refusing(at)

    def relay_refusing(self, at):
        # a refusal before the data (the relay at connect time, the
        # login, a recipient) is the configuration's: the items stay
        # queued however often
        notify = ('\n[notify]\nsmtp = %%s\nfrom = %s\nto = %s\n'
                  'mode = event\n' % (FROM, TO[0]))
        self.state = os.path.join(self.dir, 'state-' + at)
        self.queue_complaints(notify, ['a@example.com', 'b@example.com'])
        f = smtp.SmtpFake(starttls=False, fail_code=554, fail_at=at,
                          fail_count=100000)
        f.start()
        self.addCleanup(f.stop)
        self.write_config(extra=notify % f.url)
        self.extra_env = {'BOUNCED_NOTIFY_RETRY_MS': '100'}
        p = self.start()
        self.wait_for(lambda: len(f.connections()) >= 4, 15,
                      'the relay was not asked again')
        self.assertNotIn('dropped', self.log(p))
        self.stop(p)
        self.assertEqual(f.messages(), [])


if __name__ == '__main__':
    unittest.main()
