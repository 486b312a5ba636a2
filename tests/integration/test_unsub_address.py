"""test_unsub_address.py - `bounced unsub-address` end to end.

The address printed for a subscriber in each configured form, signed ones
checked against an HMAC computed here (Python's hmac) and with the openssl
one-liner of docs/UNSUBSCRIBE.md; --check reads addresses back or says why
they are refused (exit 65); bad forms stop bounced (exit 78); check-config
shows the forms and masks the secret.
"""
import hashlib
import hmac
import shutil
import subprocess
import unittest

from harness import BouncedTestCase, EX_OK, EX_USAGE, EX_CONFIG

EX_DATAERR = 65
SECRET = 'test-secret-0123456789'
SUB, LIST, CAMP = 'zz123cd456ef7', 'ab123cd456ef7', 'cc123cd456ef7'


def signature(secret, sub, lst, camp=''):
    """what docs/UNSUBSCRIBE.md says a signature is"""
    msg = ('%s.%s.%s' % (sub, lst, camp)).encode()
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()[:16]


class UnsubAddressTest(BouncedTestCase):

    def forms(self, addresses, secret=None):
        extra = '\n[unsubscribe]\naddresses = %s\n' % addresses
        if secret:
            extra += 'secret = %s\n' % secret
        self.write_config(extra=extra)

    def test_default_form(self):
        res = self.run_bounced('unsub-address', '--subscriber', SUB.upper(),
                               '--list', LIST, '--campaign', CAMP)
        self.assertRc(res, EX_OK)
        addr = '%s.%s.%s@fbl-unsub.example.com' % (SUB, LIST, CAMP)
        self.assertEqual(res.out, addr + '\n')
        res = self.run_bounced('unsub-address', '--header', '--subscriber',
                               SUB, '--list', LIST, '--campaign', CAMP)
        self.assertEqual(res.out, 'List-Unsubscribe: <mailto:%s?subject='
                         'unsubscribe>\n' % addr)
        res = self.run_bounced('unsub-address', '--check', addr.upper())
        self.assertRc(res, EX_OK)
        self.assertEqual(res.out, 'form 1: [SUBSCRIBER_UID].[LIST_UID].'
                         '[CAMPAIGN_UID]@fbl-unsub.example.com\n'
                         'system: mailwizz\nsubscriber: %s\nlist: %s\n'
                         'campaign: %s\nsignature: none\n' % (SUB, LIST, CAMP))

    def test_refused(self):
        res = self.run_bounced('unsub-address', '--check',
                               '%s.%s@fbl-unsub.example.com' % (SUB, LIST))
        self.assertRc(res, EX_DATAERR)
        self.assertEqual(res.out, '')
        self.assertEqual(res.err, "bounced: unsub-address: local part "
                         "'%s.%s' does not fit the form '[SUBSCRIBER_UID]."
                         "[LIST_UID].[CAMPAIGN_UID]@fbl-unsub.example.com': "
                         "it ends where '.' is expected\n" % (SUB, LIST))
        res = self.run_bounced('unsub-address', '--subscriber', SUB,
                               '--list', 'ab123')
        self.assertRc(res, EX_DATAERR)
        self.assertIn("list UID 'ab123' has 5 characters, expected 13",
                      res.err)
        res = self.run_bounced('unsub-address', '--subscriber', SUB)
        self.assertRc(res, EX_USAGE)
        res = self.run_bounced('unsub-address', '--check', 'x@y.example',
                               '--list', LIST)
        self.assertRc(res, EX_USAGE)
        res = self.run_bounced('unsub-address', '--form', '0', '--check', 'x')
        self.assertRc(res, EX_USAGE)

    def test_signed(self):
        self.forms('[SUBSCRIBER_UID].[LIST_UID].[CAMPAIGN_UID].[SIGNATURE]'
                   '@fbl-unsub.example.com; [SIGNATURE]-[SUBSCRIBER_ID]-'
                   '[LIST_ID]@*', SECRET)
        res = self.run_bounced('unsub-address', '--subscriber', SUB,
                               '--list', LIST, '--campaign', CAMP)
        self.assertRc(res, EX_OK)
        sig = signature(SECRET, SUB, LIST, CAMP)
        self.assertEqual(sig, '3e76210ea82f0bbe')
        addr = '%s.%s.%s.%s@fbl-unsub.example.com' % (SUB, LIST, CAMP, sig)
        self.assertEqual(res.out, addr + '\n')
        res = self.run_bounced('unsub-address', '--check', addr)
        self.assertRc(res, EX_OK)
        self.assertTrue(res.out.endswith('signature: ok\n'), res.out)

        res = self.run_bounced('unsub-address', '--form', '2',
                               '--subscriber', '42', '--list', '7',
                               '--domain', 'Lists.Example.ORG')
        self.assertRc(res, EX_OK)
        self.assertEqual(res.out, '%s-42-7@lists.example.org\n'
                         % signature(SECRET, '42', '7'))
        res = self.run_bounced('unsub-address', '--form', '2',
                               '--subscriber', '42', '--list', '7')
        self.assertRc(res, EX_DATAERR)
        self.assertIn('takes any domain: name one', res.err)

        # a guessed subscriber under a signature copied from another mail
        forged = addr.replace(SUB, 'zz123cd456ef8')
        res = self.run_bounced('unsub-address', '--check', forged)
        self.assertRc(res, EX_DATAERR)
        self.assertEqual(res.err, "bounced: unsub-address: signature '%s' "
                         "does not match (forged, or signed with another "
                         "secret; form '[SUBSCRIBER_UID].[LIST_UID]."
                         "[CAMPAIGN_UID].[SIGNATURE]@fbl-unsub.example.com')\n"
                         % sig)

    @unittest.skipUnless(shutil.which('openssl'), 'no openssl')
    def test_openssl_one_liner(self):
        # the shell example of docs/UNSUBSCRIBE.md
        script = ('S=%s L=%s C=%s SECRET=%s; printf "%%s" "$S.$L.$C" | '
                  'openssl dgst -sha256 -hmac "$SECRET" | '
                  "awk '{print $NF}' | cut -c1-16" % (SUB, LIST, CAMP, SECRET))
        out = subprocess.run(['sh', '-c', script], stdout=subprocess.PIPE,
                             check=True, timeout=60).stdout.decode()
        self.assertEqual(out, signature(SECRET, SUB, LIST, CAMP) + '\n')

    def test_bad_config(self):
        self.forms('[SUBSCRIBER_UID].[LIST_UID]@u.example.com', SECRET)
        res = self.run_bounced('unsub-address', '--check', 'a@b.example')
        self.assertRc(res, EX_CONFIG)
        self.assertIn("[unsubscribe] addresses: address form '[SUBSCRIBER_UID]"
                      ".[LIST_UID]@u.example.com' has no [SIGNATURE], but a "
                      "secret is set", res.err)
        self.assertNotIn(SECRET, res.err)
        self.forms('[SUBSCRIBER_UID][LIST_UID]@u.example.com')
        res = self.run_bounced('check-config')
        self.assertRc(res, EX_CONFIG)
        self.assertIn('need a separator', res.err)

    def test_check_config(self):
        self.forms('[SUBSCRIBER_UID].[LIST_UID].[SIGNATURE]@u.example.com',
                   SECRET)
        res = self.run_bounced('check-config')
        self.assertRc(res, EX_OK)
        self.assertIn('\n[unsubscribe]\naddresses = [SUBSCRIBER_UID].'
                      '[LIST_UID].[SIGNATURE]@u.example.com\nsecret = ****\n',
                      res.out)
        self.assertNotIn(SECRET, res.out + res.err)


if __name__ == '__main__':
    unittest.main()
