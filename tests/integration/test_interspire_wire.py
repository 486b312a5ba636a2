"""test_interspire_wire.py - bounced's Interspire provider against the fake
xml.php (tests/fake/interspire.py), through the real binaries: the XML
documents on the wire (envelope, lower-case request type, escaped values
read back exactly), the calls made per address (one GetLists cached for
all, one GetAllListsForEmailAddress per address, one UnsubscribeSubscriber
per list), both answer variants (6.1.5 and 6.1.0), a user with no list,
an address on no list, bad credentials as dead letters, and an outage
retried without duplicate unsubscribes."""
import collections
import os
import sys

from harness import BouncedTestCase

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
from fake import interspire  # noqa: E402

USER, TOKEN = 'admin', 'tok&en<1>'
AMP = 'a&b@example.com'
APOS = "o'brien@example.com"
UTF8 = 'jos\u00e9@example.com'
NOWHERE = 'nobody@example.com'


def data():
    """Three lists; AMP on 1 and 2, APOS on 3 (already gone from 1), UTF8
    on 2, NOWHERE on none."""
    subs = [(10, AMP, 1, 0), (11, AMP, 2, 0), (12, APOS, 3, 0),
            (13, APOS, 1, 1700000000), (14, UTF8, 2, 0),
            (15, 'other@example.com', 1, 0)]
    return {
        'lists': [{'listid': 1, 'name': 'News & Offers'},
                  {'listid': 2, 'name': "Bob's deals"},
                  {'listid': 3, 'name': 'Other'}],
        'subscribers': [{'subscriberid': sid, 'emailaddress': e, 'listid': l,
                         'unsubscribed': u, 'bounced': 0}
                        for sid, e, l, u in subs],
    }


# what UnsubscribeSubscriber must be asked, as (emailaddress, listid)
EXPECTED_UNSUBS = sorted([(AMP, '1'), (AMP, '2'), (APOS, '3'), (UTF8, '2')])


def answered(fake):
    """The calls the fake answered itself (not injected, not dropped)."""
    return [c for c in fake.calls()
            if not c.get('injected') and not c.get('dropped')]


def methods(calls):
    return collections.Counter('%s/%s' % (c['parsed']['requesttype'],
                                          c['parsed']['requestmethod'])
                               for c in calls)


class InterspireWire(BouncedTestCase):
    variant = '6.1.5'

    def start_fake(self, token=TOKEN, fake_data=None, **kw):
        fake = interspire.InterspireFake(
            username=USER, usertoken=token, variant=self.variant,
            data=data() if fake_data is None else fake_data, **kw)
        fake.start()
        self.addCleanup(fake.stop)
        return fake

    def configure(self, fake, concurrency=1, token=TOKEN):
        # '#' and ';' would start comments in the INI file: the token has none
        self.write_config(extra=(
            '\n[provider iem]\ntype = interspire\nendpoint = %s/xml.php\n'
            'username = %s\nusertoken = %s\nsenders = *\n'
            'retry-min = 50ms\nretry-max = 200ms\nconcurrency = %d\n'
            % (fake.url, USER, token, concurrency)))

    def unsubscribe(self, *addrs):
        """bounced process --list - with ADDRS on stdin"""
        return self.process('--list', '-', stdin=''.join(
            a + '\n' for a in addrs))

    def check_envelope(self, call):
        """CALL is a POST of text/xml with the envelope of the config."""
        self.assertEqual(call['method'], 'POST')
        self.assertEqual(call['path'], '/xml.php')
        self.assertTrue(call['headers'].get('content-type', '')
                        .startswith('text/xml'), call['headers'])
        p = call['parsed']
        self.assertEqual(p['username'], USER)
        self.assertEqual(p['usertoken'], TOKEN)
        self.assertIn(p['requesttype'], ('user', 'subscribers'))
        self.assertEqual(call['status'], 200)

    def unsubscribed(self, fake):
        """{(emailaddress, listid): unsubscribed time} at the fake"""
        return {(s['emailaddress'], s['listid']): s['unsubscribed']
                for s in fake.get_data()['subscribers']}

    def check_final(self, fake):
        un = self.unsubscribed(fake)
        for addr, lid in EXPECTED_UNSUBS:
            self.assertTrue(un[(addr, int(lid))], (addr, lid))
        self.assertEqual(un[(APOS, 1)], 1700000000)    # untouched
        self.assertEqual(un[('other@example.com', 1)], 0)
        self.assertEqual(self.ctl_json('queue'), [])
        self.assertEqual(self.ctl_json('dead'), [])
        for addr in (AMP, APOS, UTF8, NOWHERE):
            acts = self.show(addr)['actions']
            self.assertEqual([(a['provider'], a['state']) for a in acts],
                             [('iem', 'done')], acts)

    def test_exact_calls_and_documents(self):
        fake = self.start_fake()
        self.configure(fake)
        self.unsubscribe(AMP, APOS, UTF8, NOWHERE)
        calls = answered(fake)
        for c in calls:
            self.check_envelope(c)
        self.assertEqual(methods(calls), collections.Counter({
            'user/GetLists': 1,
            'subscribers/GetAllListsForEmailAddress': 4,
            'subscribers/UnsubscribeSubscriber': 4,
        }))
        for c in calls:
            p = c['parsed']
            if p['requestmethod'] == 'GetLists':
                self.assertEqual(p['details'], ' ')
                self.assertIn('<details> </details>', c['body'])
        finds = sorted((c['parsed']['details']['email'],
                        c['parsed']['details']['listids'])
                       for c in calls
                       if c['parsed']['requestmethod'] ==
                       'GetAllListsForEmailAddress')
        self.assertEqual(finds, sorted((a, '1,2,3')
                                       for a in (AMP, APOS, UTF8, NOWHERE)))
        unsubs = sorted((c['parsed']['details']['emailaddress'],
                         c['parsed']['details']['listid'])
                        for c in calls
                        if c['parsed']['requestmethod'] ==
                        'UnsubscribeSubscriber')
        self.assertEqual(unsubs, EXPECTED_UNSUBS)
        # escaped on the wire, not merely accepted
        self.assertTrue(any('a&amp;b@example.com' in c['body'] for c in calls))
        self.assertTrue(all('a&b@' not in c['body'] for c in calls))
        self.check_final(fake)

        # again: the addresses are done, no call at all
        n = len(fake.calls())
        self.unsubscribe(AMP, APOS)
        self.assertEqual(len(fake.calls()), n)

    def test_outage_is_retried(self):
        fake = self.start_fake()
        fake.configure(fail_status=503, fail_count=4)
        self.configure(fake)
        res = self.unsubscribe(AMP, APOS, UTF8, NOWHERE)
        injected = [c for c in fake.calls() if c.get('injected')]
        self.assertEqual(len(injected), 4, res)
        calls = answered(fake)
        unsubs = sorted((c['parsed']['details']['emailaddress'],
                         c['parsed']['details']['listid'])
                        for c in calls
                        if c['parsed']['requestmethod'] ==
                        'UnsubscribeSubscriber')
        self.assertEqual(unsubs, EXPECTED_UNSUBS)
        self.check_final(fake)

    def test_many_at_once(self):
        """Default concurrency: the cold start may ask GetLists once per
        request in flight, never more; everything else is exact."""
        fake = self.start_fake()
        self.configure(fake, concurrency=8)
        self.unsubscribe(AMP, APOS, UTF8, NOWHERE)
        m = methods(answered(fake))
        self.assertGreaterEqual(m['user/GetLists'], 1)
        self.assertLessEqual(m['user/GetLists'], 4)
        self.assertEqual(m['subscribers/GetAllListsForEmailAddress'], 4)
        self.assertEqual(m['subscribers/UnsubscribeSubscriber'], 4)
        self.check_final(fake)

    def test_user_without_lists(self):
        fake = self.start_fake(fake_data={'lists': [], 'subscribers': []})
        self.configure(fake)
        self.unsubscribe(AMP, APOS)
        self.assertEqual(methods(answered(fake)),
                         collections.Counter({'user/GetLists': 1}))
        self.assertEqual(self.ctl_json('queue'), [])
        self.assertEqual(self.ctl_json('dead'), [])
        self.assertEqual([a['state'] for a in self.show(AMP)['actions']],
                         ['done'])

    def test_bad_credentials_are_dead(self):
        fake = self.start_fake(token='the-real-one')
        self.configure(fake)
        self.unsubscribe(AMP, APOS)
        self.assertEqual(methods(answered(fake)),
                         collections.Counter({'user/GetLists': 2}))
        dead = self.ctl_json('dead')
        self.assertEqual(sorted(d['address'] for d in dead), sorted([AMP, APOS]))
        for d in dead:
            self.assertIn('Unable to check user details', d['reason'])
            self.assertIn('usertoken', d['reason'])
        self.assertEqual(self.ctl_json('queue'), [])
        self.assertEqual([a['state'] for a in self.show(AMP)['actions']],
                         ['dead'])


class InterspireWire610(InterspireWire):
    """The same against the 6.1.0 answers (UnsubscribeSubscriber always
    SUCCESS, the outcome in two <item>s)."""
    variant = '6.1.0'
