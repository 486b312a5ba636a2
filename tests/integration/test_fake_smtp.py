"""test_fake_smtp.py - the fake SMTP server of tests/fake/smtp.py tested by
itself, with the standard library's smtplib as the client, before the C
client uses it.

Plain connections (envelope, several recipients, dot-stuffing undone, CRLF
kept, RSET, NOOP, HELO), STARTTLS verified against the test certificate
(and required before MAIL when require_tls), AUTH PLAIN and LOGIN (good
and bad credentials, MAIL refused before AUTH), failure injection at
MAIL, RCPT and DATA for the next N transactions, bad settings, the
127.0.0.1-only rule and the program mode (READY line, JSON log, SIGTERM).
"""
import json
import os
import signal
import smtplib
import ssl
import subprocess
import sys
import tempfile
import unittest

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)

from fake import smtp   # noqa: E402

MSG = (b'From: a@example.com\r\nTo: b@example.com\r\nSubject: hi\r\n\r\n'
       b'line one\r\n.leading dot\r\n..two dots\r\nlast\r\n')


def tls_context():
    ctx = ssl.create_default_context(cafile=smtp.CERT)
    return ctx


class PlainTest(unittest.TestCase):

    def test_envelope_and_data(self):
        with smtp.SmtpFake() as f:
            with smtplib.SMTP('127.0.0.1', f.port, timeout=10) as c:
                code, _ = c.ehlo('client.test')
                self.assertEqual(code, 250)
                self.assertTrue(c.has_extn('starttls'))
                self.assertFalse(c.has_extn('auth'))
                refused = c.sendmail('a@example.com',
                                     ['b@example.com', 'c@example.org'], MSG)
                self.assertEqual(refused, {})
                self.assertEqual(c.noop()[0], 250)
                self.assertEqual(c.rset()[0], 250)
            m = f.messages()
        self.assertEqual(len(m), 1)
        self.assertEqual(m[0]['mail_from'], 'a@example.com')
        self.assertEqual(m[0]['rcpts'], ['b@example.com', 'c@example.org'])
        # smtplib stuffed the dots; the fake undid it
        self.assertEqual(m[0]['data'], MSG)
        self.assertFalse(m[0]['tls'])
        self.assertIsNone(m[0]['auth'])
        self.assertEqual(m[0]['helo'], 'client.test')

    def test_helo_and_sequence_errors(self):
        with smtp.SmtpFake() as f:
            with smtplib.SMTP('127.0.0.1', f.port, timeout=10) as c:
                self.assertEqual(c.docmd('MAIL', 'FROM:<a@example.com>')[0],
                                 503)
                self.assertEqual(c.helo('old.test')[0], 250)
                self.assertEqual(c.docmd('RCPT', 'TO:<b@example.com>')[0],
                                 503)
                self.assertEqual(c.docmd('DATA')[0], 503)
                self.assertEqual(c.docmd('MAIL', 'FROM:a@example.com')[0],
                                 501)
                self.assertEqual(c.docmd('BOGUS')[0], 500)
                self.assertEqual(c.docmd('MAIL', 'FROM:<>')[0], 250)
                self.assertEqual(c.docmd('RCPT', 'TO:<b@example.com>')[0],
                                 250)
                self.assertEqual(c.docmd('RSET')[0], 250)
                self.assertEqual(c.docmd('DATA')[0], 503)
            self.assertEqual(f.messages(), [])
            s = f.connections()
        self.assertIn('C: BOGUS', s[0]['transcript'])


class TlsTest(unittest.TestCase):

    def test_starttls(self):
        with smtp.SmtpFake(require_tls=True) as f:
            with smtplib.SMTP('127.0.0.1', f.port, timeout=10) as c:
                c.ehlo('client.test')
                # MAIL before STARTTLS is refused
                self.assertEqual(c.docmd('MAIL', 'FROM:<a@example.com>')[0],
                                 530)
                code, _ = c.starttls(context=tls_context())
                self.assertEqual(code, 220)
                c.ehlo('client.test')
                self.assertFalse(c.has_extn('starttls'))
                c.sendmail('a@example.com', ['b@example.com'], MSG)
            m = f.messages()
        self.assertEqual(len(m), 1)
        self.assertTrue(m[0]['tls'])
        self.assertEqual(m[0]['data'], MSG)

    def test_no_starttls_offered(self):
        with smtp.SmtpFake(starttls=False) as f:
            with smtplib.SMTP('127.0.0.1', f.port, timeout=10) as c:
                c.ehlo('client.test')
                self.assertFalse(c.has_extn('starttls'))
                self.assertEqual(c.docmd('STARTTLS')[0], 502)

    def test_certificate_is_for_127_0_0_1(self):
        # the default context checks the name: 127.0.0.1 must match
        with smtp.SmtpFake() as f:
            with smtplib.SMTP('127.0.0.1', f.port, timeout=10) as c:
                c.starttls(context=tls_context())
                self.assertEqual(c.noop()[0], 250)


class AuthTest(unittest.TestCase):

    def test_plain_and_login(self):
        for mech in ('PLAIN', 'LOGIN'):
            with smtp.SmtpFake(user='mailer', password='s3cret') as f:
                with smtplib.SMTP('127.0.0.1', f.port, timeout=10) as c:
                    c.ehlo('client.test')
                    self.assertIn(mech, c.esmtp_features['auth'].upper())
                    self.assertEqual(
                        c.docmd('MAIL', 'FROM:<a@example.com>')[0], 530)
                    c.user, c.password = 'mailer', 's3cret'
                    auth = getattr(c, 'auth_' + mech.lower())
                    code, _ = c.auth(mech, auth,
                                     initial_response_ok=(mech == 'PLAIN'))
                    self.assertEqual(code, 235)
                    c.sendmail('a@example.com', ['b@example.com'], MSG)
                m = f.messages()
                s = f.connections()
            self.assertEqual(m[0]['auth'], 'mailer', mech)
            # credentials never reach the transcript
            self.assertFalse(any('s3cret' in l or 'czNjcmV0' in l
                                 for l in s[0]['transcript']))

    def test_bad_password(self):
        with smtp.SmtpFake(user='mailer', password='s3cret') as f:
            with smtplib.SMTP('127.0.0.1', f.port, timeout=10) as c:
                c.ehlo('client.test')
                with self.assertRaises(smtplib.SMTPAuthenticationError) as e:
                    c.login('mailer', 'wrong')
                self.assertEqual(e.exception.smtp_code, 535)
            self.assertEqual(f.messages(), [])


class FailureTest(unittest.TestCase):

    def send(self, f):
        with smtplib.SMTP('127.0.0.1', f.port, timeout=10) as c:
            c.ehlo('client.test')
            try:
                c.sendmail('a@example.com', ['b@example.com'], MSG)
            except smtplib.SMTPSenderRefused as e:
                return ('MAIL', e.smtp_code)
            except smtplib.SMTPRecipientsRefused as e:
                return ('RCPT', e.recipients['b@example.com'][0])
            except smtplib.SMTPDataError as e:
                return ('DATA', e.smtp_code)
        return ('ok', 250)

    def test_injection_points(self):
        for at, code in (('MAIL', 451), ('RCPT', 554), ('DATA', 452),
                         ('DATA', 554)):
            with smtp.SmtpFake(fail_code=code, fail_at=at,
                               fail_count=2) as f:
                self.assertEqual(self.send(f), (at, code))
                self.assertEqual(self.send(f), (at, code))
                self.assertEqual(self.send(f), ('ok', 250))
                self.assertEqual(len(f.messages()), 1)
                f.configure(fail_code=451, fail_at='MAIL', fail_count=1)
                self.assertEqual(self.send(f), ('MAIL', 451))
                self.assertEqual(self.send(f), ('ok', 250))

    def test_bad_settings(self):
        for kw in ({'fail_code': 250, 'fail_count': 1},
                   {'fail_code': 451, 'fail_at': 'EHLO'},
                   {'fail_count': -1},
                   {'user': 'u'},
                   {'starttls': False, 'require_tls': True}):
            with self.assertRaises(ValueError, msg=kw):
                smtp.SmtpFake(**kw)


class ProgramTest(unittest.TestCase):

    def test_program(self):
        prog = os.path.join(TESTS, 'fake', 'smtp.py')
        bad = subprocess.run([sys.executable, prog, '--host', '0.0.0.0'],
                             capture_output=True, timeout=30)
        self.assertEqual(bad.returncode, 2)
        self.assertIn(b'127.0.0.1', bad.stderr)
        with tempfile.TemporaryDirectory() as d:
            log = os.path.join(d, 'smtp.jsonl')
            p = subprocess.Popen([sys.executable, prog, '--port', '0',
                                  '--log', log], stdout=subprocess.PIPE)
            try:
                line = p.stdout.readline().decode()
                self.assertRegex(line, r'^READY \d+\n$')
                port = int(line.split()[1])
                with smtplib.SMTP('127.0.0.1', port, timeout=10) as c:
                    c.sendmail('a@example.com', ['b@example.com'], MSG)
            finally:
                p.send_signal(signal.SIGTERM)
                self.assertEqual(p.wait(10), 0)
                p.stdout.close()
            with open(log, encoding='utf-8') as fh:
                rows = [json.loads(l) for l in fh]
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0]['rcpts'], ['b@example.com'])
        self.assertEqual(rows[0]['data'], MSG.decode())


if __name__ == '__main__':
    unittest.main()
