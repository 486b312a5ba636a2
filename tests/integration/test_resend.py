"""test_resend.py - nothing a provider never got is forgotten.

A senders pattern with a typo leaves hard bounces unrouted; after the fix,
`bouncectl resend` queues exactly the actions that were missed (and a
second resend nothing), `bounced process --reprocess` of the same file
queues them through the duplicates and says so, and `bouncectl
reevaluate` queues the actions of the addresses it makes hard.  The calls
the fake MailWizz receives are compared one by one.
"""
import collections
import os
import sys

from harness import BouncedTestCase

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
from fake import mailwizz  # noqa: E402

PUB, PRIV = 'PUBKEY123', 'PRIVKEY456'
L1 = 'la111aa111aa1'
C1 = 'cc111cd456ef7'
ALL = 'PUT /api/lists/subscribers/unsubscribe-by-email-from-all-lists'
HEADER = 'type,timeLogged,orig,rcpt,dsnStatus,dsnDiag,bounceCat,jobId\r\n'
ADDRS = ['a@example.com', 'b@example.com', 'c@example.com']


def rec(t, rcpt, orig, status, cat, minute, job=''):
    return '%s,2026-11-24 08:%02d:00+0000,%s,%s,%s,"smtp;%s x",%s,%s\r\n' % (
        t, minute, orig, rcpt, status, status, cat, job)


class ResendCase(BouncedTestCase):
    def setUp(self):
        super().setUp()
        subs = [{'subscriber_uid': 's%012d' % i, 'email': a}
                for i, a in enumerate(ADDRS + ['soft@example.com'])]
        self.fake = mailwizz.MailWizzFake(
            public_key=PUB, private_key=PRIV,
            data={'lists': [{'list_uid': L1, 'subscribers': subs}],
                  'campaigns': [{'campaign_uid': C1, 'list_uid': L1}]})
        self.fake.start()
        self.addCleanup(self.fake.stop)

    def mw(self, senders, classify=None):
        self.write_config(classify=classify, extra=(
            '\n[provider mw]\ntype = mailwizz\nendpoint = %s/api\n'
            'public-key = %s\nprivate-key = %s\nsenders = %s\n'
            'retry-min = 50ms\n' % (self.fake.url, PUB, PRIV, senders)))

    def routes(self):
        return collections.Counter('%s %s' % (c['method'], c['path'])
                                   for c in self.fake.calls())

    def unsubscribed(self):
        return sorted(s['email'] for l in self.fake.get_data()['lists']
                      for s in l['subscribers'] if s['status'] != 'confirmed')

    def acct(self):
        # a and b from the newsletter sender, c from another one
        return self.write_file('spool/acct/a.csv', HEADER + ''.join([
            rec('b', 'a@example.com', 'news@bounces.example.com', '5.1.1',
                'bad-mailbox', 0),
            rec('b', 'b@example.com', 'news@bounces.example.com', '5.1.1',
                'bad-mailbox', 1, 'mailwizz-' + C1),
            rec('b', 'c@example.com', 'other@elsewhere.example.com', '5.1.1',
                'bad-mailbox', 2)]))


class TestResend(ResendCase):
    def test_typo_then_resend(self):
        self.mw('news@bounce.example.com')          # "bounce", not "bounces"
        res = self.process(self.acct())
        self.assertIn('unrouted', res.err)
        self.assertEqual(self.fake.calls(), [])
        self.assertEqual(self.ctl_json('queue'), [])
        # the fix: resend queues exactly what was missed
        self.mw('news@bounces.example.com')
        dry = self.run_ctl('resend', '--dry-run')
        self.assertEqual(dry.rc, 0, dry)
        self.assertIn('2 actions would be queued for 2', dry.out)
        self.assertEqual(self.ctl_json('queue'), [])
        res = self.run_ctl('resend')
        self.assertEqual(res.rc, 0, res)
        self.assertIn('a@example.com: 1 action queued', res.out)
        self.assertIn('b@example.com: 1 action queued', res.out)
        self.assertNotIn('c@example.com', res.out)
        self.assertIn('3 suppressed records looked at, 2 actions queued '
                      'for 2 of them; mw: 2', res.out)
        queue = self.ctl_json('queue')
        self.assertEqual(sorted((q['address'], q['operation']) for q in queue),
                         [('a@example.com', 'unsubscribe'),
                          ('b@example.com', 'bounce')])
        # a second resend has nothing left to ask
        again = self.run_ctl('resend')
        self.assertIn('0 actions queued', again.out)
        self.process()
        self.assertEqual(self.routes(), collections.Counter({
            ALL: 2, 'GET /api/campaigns/%s' % C1: 1,
            'GET /api/lists/subscribers/search-by-email-in-all-lists': 1,
            'POST /api/campaigns/%s/bounces' % C1: 1}))
        self.assertEqual(self.unsubscribed(), ['a@example.com',
                                               'b@example.com'])
        self.assertEqual(self.ctl_json('queue'), [])
        # and once done, nothing more
        self.assertIn('0 actions queued', self.run_ctl('resend').out)

    def test_resend_selection(self):
        self.mw('nobody@example.com')
        self.process(self.acct())
        self.mw('*')
        res = self.run_ctl('resend', 'c@example.com', '--provider', 'mw')
        self.assertEqual(res.rc, 0, res)
        self.assertEqual([q['address'] for q in self.ctl_json('queue')],
                         ['c@example.com'])
        self.assertEqual(self.run_ctl('resend', 'nobody@example.com').rc, 67)
        self.assertEqual(self.run_ctl('resend', '--provider', 'nope').rc, 64)
        # list takes a provider the configuration lacks (records may name
        # one removed since) but says so: a typo lists nothing
        res = self.run_ctl('list', '--provider', 'mw', '--format', 'csv')
        self.assertEqual((res.rc, res.err), (0, ''))
        self.assertIn('c@example.com', res.out)
        res = self.run_ctl('list', '--provider', 'nope', '--format', 'csv')
        self.assertEqual(res.rc, 0)
        self.assertEqual(res.out.count('\n'), 1)           # the header
        self.assertIn('list: note: the configuration has no [provider nope]; '
                      'listing the addresses whose records name it', res.err)
        # the summary's counts per provider follow a ';' whichever
        # provider comes first (a second one alone had a ',')
        with open(self.config, 'a') as f:
            f.write('\n[provider mw2]\ntype = mailwizz\nendpoint = %s/api\n'
                    'public-key = %s\nprivate-key = %s\nsenders = *\n'
                    % (self.fake.url, PUB, PRIV))
        res = self.run_ctl('resend', '--provider', 'mw2', '-n')
        self.assertIn('3 suppressed records looked at, 3 actions would be '
                      'queued for 3 of them; mw2: 3\n', res.out)
        self.mw('*')
        self.assertEqual(self.run_ctl('resend', '--status', 'soft').rc, 64)
        # an empty --status (or name) is refused, not "every status":
        # nothing planned, nothing queued
        for v in ('', ' ', 'hard,'):
            res = self.run_ctl('resend', '--status', v, '-n')
            self.assertEqual(res.rc, 64, res)
            self.assertEqual(res.out, '')
            self.assertIn('resend: --status', res.err)
        self.assertEqual([q['address'] for q in self.ctl_json('queue')],
                         ['c@example.com'])
        # nothing complained: --status complained selects nothing
        res = self.run_ctl('resend', '--status', 'complained')
        self.assertIn('0 suppressed records looked at', res.out)
        res = self.run_ctl('resend', '--since', '2030-01-01')
        self.assertIn('0 suppressed records looked at', res.out)

    def test_reprocess_queues_what_was_missed(self):
        self.mw('news@bounce.example.com')
        path = self.acct()
        self.process(path)
        self.mw('news@bounces.example.com')
        res = self.process('--reprocess', path)
        self.assertIn('2 provider actions queued for addresses suppressed '
                      'before', res.out)
        self.assertEqual(self.unsubscribed(), ['a@example.com',
                                               'b@example.com'])
        # the duplicates again: nothing new
        res = self.process('--reprocess', path)
        self.assertNotIn('provider actions queued', res.out)
        self.assertEqual(self.routes()[ALL], 2)

    def test_reevaluate_queues_actions(self):
        self.mw('*', classify={'soft-threshold': '5'})
        soft = ''.join(rec('b', 'soft@example.com',
                           'news@bounces.example.com', '4.2.2',
                           'quota-issues', m) for m in range(3))
        self.process(self.write_file('spool/acct/s.csv', HEADER + soft))
        self.assertEqual(self.fake.calls(), [])
        self.mw('*', classify={'soft-threshold': '3', 'soft-min-span': '0'})
        res = self.run_ctl('reevaluate')
        self.assertEqual(res.rc, 0, res)
        self.assertIn('soft@example.com: soft -> hard', res.out)
        self.assertIn('1 provider actions queued', res.out)
        self.process()
        self.assertEqual(self.routes(), collections.Counter({ALL: 1}))
        self.assertEqual(self.unsubscribed(), ['soft@example.com'])

    def test_reevaluate_back_to_soft_cancels_what_was_not_sent(self):
        # escalated by a reevaluate, then returned to soft by another
        # before anything was sent: its queued unsubscribe goes with it
        # (the dispatcher would have unsubscribed a soft address)
        self.mw('*', classify={'soft-threshold': '5'})
        soft = ''.join(rec('b', 'soft@example.com',
                           'news@bounces.example.com', '4.2.2',
                           'quota-issues', m) for m in range(3))
        self.process(self.write_file('spool/acct/s.csv', HEADER + soft))
        self.mw('*', classify={'soft-threshold': '3', 'soft-min-span': '0'})
        self.assertIn('1 provider actions queued',
                      self.run_ctl('reevaluate').out)
        self.assertEqual(len(self.ctl_json('queue')), 1)
        self.mw('*', classify={'soft-threshold': '10', 'soft-min-span': '0'})
        res = self.run_ctl('reevaluate')
        self.assertEqual(res.rc, 0, res)
        self.assertIn('soft@example.com: hard -> soft', res.out)
        self.assertIn('1 provider actions of the addresses returned to soft '
                      'cancelled (queued, or dead letters)', res.out)
        self.assertEqual(self.ctl_json('queue'), [])
        self.assertEqual(self.show('soft@example.com')['actions'], [])
        self.process()
        self.assertEqual(self.fake.calls(), [])
        self.assertEqual(self.unsubscribed(), [])
        # escalated again later: queued again (nothing was had)
        self.mw('*', classify={'soft-threshold': '3', 'soft-min-span': '0'})
        self.assertIn('1 provider actions queued',
                      self.run_ctl('reevaluate').out)
