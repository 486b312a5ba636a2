"""test_interspire_wire.py - bounced's Interspire provider against the fake
xml.php (tests/fake/interspire.py), through the real binaries: the XML
documents on the wire (envelope, lower-case request type, escaped values
read back exactly), the calls made per address (one GetLists cached for
all, one GetAllListsForEmailAddress per address filtered by one <listids>
element per list of the user, one UnsubscribeSubscriber per list naming
the subscriber with skipcheck), all answer variants (6.1.5, 6.1.0,
6.5.1), and what the real server does that bounced must live with: a
user with no list and an address on no list answered FAILED with an empty
message, a comma list that filters nothing, other users' lists and those
shared with the user's group or all of them for an administrator, ILIKE
matching on PostgreSQL, addresses stored with capitals (which a
PostgreSQL install's GetAllListsForEmailAddress finds only as written),
refused credentials, and complaints and unsubscribe mails that name a
subscriber by its ids only."""
import collections
import os
import shutil
import sys

from harness import (ACCT_HEADER, DATA, BouncedTestCase, acct_rec, hard_file,
                     sanitized)

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


# what UnsubscribeSubscriber must be asked, as (emailaddress, listid,
# subscriberid, skipcheck)
EXPECTED_UNSUBS = sorted([(AMP, '1', '10', '1'), (AMP, '2', '11', '1'),
                          (APOS, '3', '12', '1'), (UTF8, '2', '14', '1')])


def answered(fake):
    """The calls the fake answered itself (not injected, not dropped)."""
    return [c for c in fake.calls()
            if not c.get('injected') and not c.get('dropped')]


def methods(calls):
    return collections.Counter('%s/%s' % (c['parsed']['requesttype'],
                                          c['parsed']['requestmethod'])
                               for c in calls)


def details(calls, method, *names):
    """The details NAMES of the calls of METHOD, sorted tuples ('' when
    absent, repeated elements as a sorted list)."""
    def value(v):
        return sorted(v) if isinstance(v, list) else v
    return sorted(tuple(value(c['parsed']['details'].get(n, '')) for n in names)
                  for c in calls if c['parsed']['requestmethod'] == method)


class IemCase(BouncedTestCase):
    variant = '6.1.5'

    def setUp(self):
        # the other answer layouts (6.1.0, 6.5.1) differ only in what the
        # provider's parser reads, which test_provider_interspire checks
        # in every layout under the sanitizers too: the sanitized run
        # takes the default layout, the plain run all three
        if self.variant != IemCase.variant and sanitized():
            self.skipTest('answer layout %s: taken by the plain run'
                          % self.variant)
        super().setUp()

    def start_fake(self, token=TOKEN, fake_data=None, **kw):
        fake = interspire.InterspireFake(
            username=USER, usertoken=token, variant=self.variant,
            data=data() if fake_data is None else fake_data, **kw)
        fake.start()
        self.addCleanup(fake.stop)
        return fake

    def configure(self, fake, concurrency=1, token=TOKEN, extra=''):
        # '#' and ';' would start comments in the INI file: the token has none
        self.write_config(extra=(
            '\n[provider iem]\ntype = interspire\nendpoint = %s/xml.php\n'
            'username = %s\nusertoken = %s\nsenders = *\n'
            'retry-min = 50ms\nretry-max = 200ms\nconcurrency = %d\n'
            % (fake.url, USER, token, concurrency)) + extra)

    def unsubscribe(self, *addrs, opts=()):
        """bounced process --list - with ADDRS on stdin"""
        return self.process(*(list(opts) + ['--list', '-']), stdin=''.join(
            a + '\n' for a in addrs))

    def unsubscribed(self, fake):
        """{(emailaddress, listid): unsubscribed time} at the fake"""
        return {(s['emailaddress'], s['listid']): s['unsubscribed']
                for s in fake.get_data()['subscribers']}

    def unsub_log(self, fake):
        """(subscriberid, listid) of every unsubscribe the fake recorded"""
        return sorted((e['subscriberid'], e['listid'])
                      for e in fake.get_data()['unsubscribe_log'])

    def assertActions(self, addr, states):
        acts = self.show(addr)['actions']
        self.assertEqual([(a['provider'], a['state']) for a in acts],
                         [('iem', s) for s in states], acts)


class InterspireWire(IemCase):
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

    def check_final(self, fake):
        un = self.unsubscribed(fake)
        for addr, lid, _, _ in EXPECTED_UNSUBS:
            self.assertTrue(un[(addr, int(lid))], (addr, lid))
        self.assertEqual(un[(APOS, 1)], 1700000000)    # untouched
        self.assertEqual(un[('other@example.com', 1)], 0)
        self.assertEqual(self.unsub_log(fake),
                         [(10, 1), (11, 2), (12, 3), (14, 2)])
        self.assertEqual(self.ctl_json('queue'), [])
        self.assertEqual(self.ctl_json('dead'), [])
        for addr in (AMP, APOS, UTF8, NOWHERE):
            self.assertActions(addr, ['done'])

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
        # one <listids> element per list: the lists GetLists named
        self.assertEqual(details(calls, 'GetAllListsForEmailAddress',
                                 'email', 'listids'),
                         sorted((a, ['1', '2', '3'])
                                for a in (AMP, APOS, UTF8, NOWHERE)))
        self.assertEqual(details(calls, 'UnsubscribeSubscriber',
                                 'emailaddress', 'listid', 'subscriberid',
                                 'skipcheck'), EXPECTED_UNSUBS)
        # escaped on the wire, not merely accepted
        self.assertTrue(any('a&amp;b@example.com' in c['body'] for c in calls))
        self.assertTrue(all('a&b@' not in c['body'] for c in calls))
        self.check_final(fake)

        # again: the addresses are done, no call at all
        n = len(fake.calls())
        self.unsubscribe(AMP, APOS)
        self.assertEqual(len(fake.calls()), n)

    def test_address_on_no_list_is_done(self):
        """xml.php answers FAILED with an empty message when the address
        is on no list: nothing to do, not a dead letter"""
        fake = self.start_fake()
        self.configure(fake)
        self.unsubscribe(NOWHERE, 'nobody.else@example.org')
        self.assertEqual(methods(answered(fake)), collections.Counter({
            'user/GetLists': 1, 'subscribers/GetAllListsForEmailAddress': 2}))
        self.assertEqual(self.ctl_json('dead'), [])
        self.assertEqual(self.ctl_json('queue'), [])
        self.assertActions(NOWHERE, ['done'])
        self.assertActions('nobody.else@example.org', ['done'])

    def test_outage_is_retried(self):
        fake = self.start_fake()
        fake.configure(fail_status=503, fail_count=4)
        self.configure(fake)
        res = self.unsubscribe(AMP, APOS, UTF8, NOWHERE)
        injected = [c for c in fake.calls() if c.get('injected')]
        self.assertEqual(len(injected), 4, res)
        self.assertEqual(details(answered(fake), 'UnsubscribeSubscriber',
                                 'emailaddress', 'listid', 'subscriberid',
                                 'skipcheck'), EXPECTED_UNSUBS)
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
        """GetLists of a user with no list is FAILED with an empty
        message, as a failed query of the lists is: believed when asked
        again later says the same, then nothing to unsubscribe, no dead
        letter"""
        fake = self.start_fake(fake_data={'lists': [], 'subscribers': []})
        self.configure(fake)
        self.unsubscribe(AMP, APOS)
        calls = [c for c in answered(fake)
                 if c['parsed']['requestmethod'] == 'GetLists']
        self.assertEqual(set(methods(answered(fake))), {'user/GetLists'})
        self.assertGreaterEqual(len(calls), 2)
        self.assertEqual(self.ctl_json('queue'), [])
        self.assertEqual(self.ctl_json('dead'), [])
        self.assertActions(AMP, ['done'])
        self.assertActions(APOS, ['done'])

    def test_user_with_one_list(self):
        """A user with one list: its id is sent twice, so that every
        version reads an array (a lone <listids> is a string, which 6.1.2
        and older filter down to no list at all: nobody unsubscribed)"""
        fake = self.start_fake(fake_data={
            'lists': [{'listid': 4, 'name': 'Only'}],
            'subscribers': [
                {'subscriberid': 40, 'emailaddress': AMP, 'listid': 4}]})
        self.configure(fake)
        self.unsubscribe(AMP)
        self.assertEqual(details(answered(fake), 'GetAllListsForEmailAddress',
                                 'email', 'listids'), [(AMP, ['4', '4'])])
        self.assertTrue(self.unsubscribed(fake)[(AMP, 4)])
        self.assertEqual(self.unsub_log(fake), [(40, 4)])
        self.assertEqual(self.ctl_json('dead'), [])
        self.assertActions(AMP, ['done'])

    def test_other_users_lists_are_left_alone(self):
        """Only the lists GetLists named are searched and acted on: the
        same address on another user's list (which a comma list in one
        <listids> would not have filtered out) stays subscribed."""
        fake = self.start_fake(fake_data={
            'users': [{'userid': 2, 'username': 'bob', 'usertoken': 'bobs'}],
            'lists': [{'listid': 1, 'name': 'Mine'},
                      {'listid': 2, 'name': 'Mine too'},
                      {'listid': 3, 'name': "Bob's", 'ownerid': 2}],
            'subscribers': [
                {'subscriberid': 20, 'emailaddress': AMP, 'listid': 1},
                {'subscriberid': 21, 'emailaddress': AMP, 'listid': 3},
                {'subscriberid': 22, 'emailaddress': APOS, 'listid': 3}]})
        self.configure(fake)
        self.unsubscribe(AMP, APOS)
        un = self.unsubscribed(fake)
        self.assertTrue(un[(AMP, 1)])
        self.assertEqual(un[(AMP, 3)], 0)
        self.assertEqual(un[(APOS, 3)], 0)
        self.assertEqual(self.unsub_log(fake), [(20, 1)])
        self.assertEqual(details(answered(fake), 'GetAllListsForEmailAddress',
                                 'email', 'listids'),
                         sorted([(AMP, ['1', '2']), (APOS, ['1', '2'])]))
        self.assertEqual(self.ctl_json('dead'), [])
        self.assertActions(AMP, ['done'])
        self.assertActions(APOS, ['done'])

    def test_lists_of_the_users_group(self):
        """GetLists names the lists the user's group may work on besides
        those it owns, and every list for a group of administrators:
        bounced searches and unsubscribes there too, and nowhere else."""
        users = [{'userid': 1, 'username': USER, 'usertoken': TOKEN,
                  'groupid': 7},
                 {'userid': 2, 'username': 'bob', 'usertoken': 'bobs'}]
        lists = [{'listid': 1, 'name': 'Mine'},
                 {'listid': 2, 'name': "Bob's shared", 'ownerid': 2},
                 {'listid': 3, 'name': "Bob's own", 'ownerid': 2}]
        subs = [{'subscriberid': 30, 'emailaddress': AMP, 'listid': 1},
                {'subscriberid': 31, 'emailaddress': AMP, 'listid': 2},
                {'subscriberid': 32, 'emailaddress': AMP, 'listid': 3}]
        for group, lids, unsubs in (
                ({'groupid': 7, 'lists': [2]}, ['1', '2'],
                 [(30, 1), (31, 2)]),
                ({'groupid': 7, 'systemadmin': True}, ['1', '2', '3'],
                 [(30, 1), (31, 2), (32, 3)])):
            with self.subTest(group=group):
                shutil.rmtree(self.state, True)  # a fresh bounced
                fake = self.start_fake(fake_data={
                    'users': users, 'groups': [group], 'lists': lists,
                    'subscribers': subs})
                self.configure(fake)
                self.unsubscribe(AMP)
                self.assertEqual(
                    details(answered(fake), 'GetAllListsForEmailAddress',
                            'email', 'listids'), [(AMP, lids)])
                self.assertEqual(self.unsub_log(fake), unsubs)
                un = self.unsubscribed(fake)
                self.assertEqual(sorted(l for (_, l), t in un.items() if t),
                                 [l for _, l in unsubs])
                self.assertEqual(self.ctl_json('dead'), [])
                self.assertActions(AMP, ['done'])

    def test_exactly_that_subscriber(self):
        """PostgreSQL installs match an address with ILIKE when
        UnsubscribeSubscriber checks it ('_' stands for any character):
        bounced names the subscriber step 1 found, with skipcheck, so
        john.doe stays subscribed when john_doe is unsubscribed."""
        fake = self.start_fake(database='pgsql', fake_data={
            'lists': [{'listid': 1, 'name': 'News'}],
            'subscribers': [
                {'subscriberid': 5, 'emailaddress': 'john.doe@example.com',
                 'listid': 1},
                {'subscriberid': 6, 'emailaddress': 'john_doe@example.com',
                 'listid': 1}]})
        self.configure(fake)
        self.unsubscribe('john_doe@example.com')
        un = self.unsubscribed(fake)
        self.assertTrue(un[('john_doe@example.com', 1)])
        self.assertEqual(un[('john.doe@example.com', 1)], 0)
        self.assertEqual(self.unsub_log(fake), [(6, 1)])
        self.assertActions('john_doe@example.com', ['done'])

    def test_refused_credentials_pause(self):
        """'Unable to check user details.': nothing becomes a dead
        letter, the actions wait with the reason; with the right token
        (and once the server lets this address in again) they are done."""
        fake = self.start_fake(token='the-real-one')
        self.configure(fake)
        self.unsubscribe(AMP, APOS, opts=['--drain-timeout', '3s'])
        m = methods(answered(fake))
        self.assertEqual(set(m), {'user/GetLists'})
        self.assertEqual(self.ctl_json('dead'), [])
        queue = self.ctl_json('queue')
        self.assertEqual(sorted(q['address'] for q in queue),
                         sorted([AMP, APOS]))
        # the provider is paused, with the reason; its actions wait as
        # they were
        paused = self.run_ctl('queue').out
        self.assertIn('provider iem paused', paused)
        self.assertIn('Unable to check user details', paused)
        self.assertIn('usertoken', paused)
        self.assertActions(AMP, ['pending'])

        # the operator puts the right token in; the server's ban of this
        # address after the failed logins has run out (5 minutes)
        fake.configure(reset=True)
        self.configure(fake, token='the-real-one')
        self.process('--drain-timeout', '20s')
        self.assertEqual(self.ctl_json('queue'), [])
        self.assertEqual(self.ctl_json('dead'), [])
        un = self.unsubscribed(fake)
        self.assertTrue(un[(AMP, 1)] and un[(AMP, 2)] and un[(APOS, 3)])
        self.assertActions(AMP, ['done'])
        self.assertActions(APOS, ['done'])


class InterspireWire610(InterspireWire):
    """The same against the 6.1.0 answers (every result SUCCESS,
    UnsubscribeSubscriber's outcome in two <item>s)."""
    variant = '6.1.0'


class InterspireWire651(InterspireWire):
    """The same against 6.5.1's layout (compact, non-ASCII as character
    references)."""
    variant = '6.5.1'


JOHN, MARY = 'John.Smith@Example.com', 'Mary@Example.org'


def case_data():
    """JOHN as Interspire stored him on lists 1 and 2, and lower-cased on
    list 3 (added another way); MARY as stored on list 1 only."""
    subs = [(30, JOHN, 1), (31, JOHN, 2), (32, JOHN.lower(), 3),
            (33, MARY, 1), (34, 'other@example.com', 1)]
    return {
        'lists': [{'listid': 1, 'name': 'One'}, {'listid': 2, 'name': 'Two'},
                  {'listid': 3, 'name': 'Three'}],
        'subscribers': [{'subscriberid': sid, 'emailaddress': e, 'listid': l}
                        for sid, e, l in subs],
    }


class InterspireCase(IemCase):
    """Interspire keeps an address as it was typed or imported, and
    PowerMTA's records carry it so; GetAllListsForEmailAddress compares
    with '=', case-insensitive in MySQL's collation, exact in PostgreSQL.
    bounced searches the lower-cased form and the written one: every
    subscriber is found on both, and unsubscribed once."""

    def run_hard(self, fake, concurrency=1):
        self.configure(fake, concurrency=concurrency)
        self.process(self.write_file('acct-case.csv', hard_file([JOHN, MARY])))

    def check_done(self, fake):
        self.assertEqual(self.unsub_log(fake),
                         [(30, 1), (31, 2), (32, 3), (33, 1)])
        un = self.unsubscribed(fake)
        self.assertEqual(un[('other@example.com', 1)], 0)
        self.assertEqual(self.ctl_json('queue'), [])
        self.assertEqual(self.ctl_json('dead'), [])
        self.assertActions(JOHN.lower(), ['done'])
        self.assertActions(MARY.lower(), ['done'])
        self.assertEqual(details(answered(self.fake), 'UnsubscribeSubscriber',
                                 'listid', 'subscriberid', 'skipcheck'),
                         [('1', '30', '1'), ('1', '33', '1'),
                          ('2', '31', '1'), ('3', '32', '1')])

    def test_exact_compare(self):
        """PostgreSQL: the lower-cased form finds list 3 only, the written
        one lists 1 and 2; the lower-cased form is searched once more
        once the answers showed the server compares exactly"""
        self.fake = fake = self.start_fake(database='pgsql',
                                           fake_data=case_data())
        self.run_hard(fake)
        self.check_done(fake)
        self.assertEqual(details(answered(fake), 'GetAllListsForEmailAddress',
                                 'email'),
                         sorted([(JOHN.lower(),), (JOHN,), (JOHN.lower(),),
                                 (MARY.lower(),), (MARY,)]))

    def test_case_insensitive_compare(self):
        """MySQL: both forms find every spelling; the children come from
        one answer, so nobody is unsubscribed twice"""
        self.fake = fake = self.start_fake(fake_data=case_data())
        self.run_hard(fake)
        self.check_done(fake)
        self.assertEqual(details(answered(fake), 'GetAllListsForEmailAddress',
                                 'email'),
                         sorted([(JOHN.lower(),), (JOHN,), (MARY.lower(),),
                                 (MARY,)]))

    def test_many_at_once(self):
        """requests in flight together: still each subscriber once"""
        for database in ('mysql', 'pgsql'):
            self.fake = fake = self.start_fake(database=database,
                                               fake_data=case_data())
            with self.subTest(database=database):
                self.run_hard(fake, concurrency=8)
                self.check_done(fake)
            shutil.rmtree(self.state)   # the next server: a fresh start

    def test_address_list(self):
        """an address list keeps its spelling too (an export of the
        lists); a lower-case address is searched once"""
        self.fake = fake = self.start_fake(database='pgsql',
                                           fake_data=case_data())
        self.configure(fake)
        self.unsubscribe(MARY, 'other@example.com')
        self.assertEqual(self.unsub_log(fake), [(33, 1), (34, 1)])
        self.assertEqual(details(answered(fake), 'GetAllListsForEmailAddress',
                                 'email'),
                         sorted([(MARY.lower(),), (MARY,),
                                 ('other@example.com',)]))
        self.assertEqual(self.ctl_json('dead'), [])
        self.assertActions(MARY.lower(), ['done'])


class InterspireCaseHeld(IemCase):
    """A hard bounce an incident holds until a later commit keeps the
    record's spelling in the store (the searches are InterspireCase's, in
    every version: the base one only here)."""

    def test_held_by_an_incident_until_a_later_file(self):
        """a hard bounce an incident held in one file and released by the
        next keeps the record's spelling in the store: on PostgreSQL the
        written form still finds lists 1 and 2"""
        self.fake = fake = self.start_fake(database='pgsql',
                                           fake_data=case_data())
        self.configure(fake)
        orig = 'news@bounces.example.com'
        rows = [acct_rec('b', '2026-11-24 08:%02d:00+0000' % i, orig,
                         'blocked%02d@example.com' % i, '5.7.1',
                         'smtp;550 5.7.1 Service unavailable; client host '
                         'blocked using a block list', 'policy-related',
                         'camp-1') for i in range(12)]
        rows.append(acct_rec('b', '2026-11-24 08:15:00+0000', orig, JOHN,
                             '5.1.1', 'smtp;550 5.1.1 user unknown',
                             'bad-mailbox', 'camp-1'))
        self.process(self.write_file('acct-1.csv',
                                     ACCT_HEADER + ''.join(rows)))
        inc = self.ctl_json('incidents', '--open')
        self.assertEqual(len(inc), 1, inc)
        self.assertEqual(self.unsub_log(fake), [])
        # the pair quiet for longer than [incidents] quiet: it closes
        self.process(self.write_file('acct-2.csv', ACCT_HEADER + acct_rec(
            'd', '2026-11-24 13:00:00+0000', orig, 'new@example.com',
            '2.0.0', 'smtp;250 ok', '', 'camp-2')))
        self.assertEqual(self.ctl_json('incident', 'show',
                                       str(inc[0]['id']))['applied'], 1)
        self.assertEqual(self.unsub_log(fake), [(30, 1), (31, 2), (32, 3)])
        self.assertActions(JOHN.lower(), ['done'])


class InterspireCaseReport(IemCase):
    """A complaint report naming the recipient with capitals keeps its
    spelling for the searches (InterspireCase's, in every version: the
    base one only here)."""

    def test_report_on_exact_server(self):
        """PostgreSQL: Original-Rcpt-To: <John.Smith@Example.com> finds
        lists 1 and 2 as written, list 3 lower-cased"""
        fake = self.start_fake(database='pgsql', fake_data=case_data())
        self.configure(fake)
        self.put_mail('fbl', 'arf/yahoo.eml',
                      subst=[('Original-Rcpt-To: <Jane.Doe@example.net>',
                              'Original-Rcpt-To: <%s>' % JOHN)])
        self.process()
        self.assertEqual(self.unsub_log(fake), [(30, 1), (31, 2), (32, 3)])
        self.assertEqual(details(answered(fake), 'GetAllListsForEmailAddress',
                                 'email'),
                         sorted([(JOHN.lower(),), (JOHN,), (JOHN.lower(),)]))
        self.assertEqual(self.unsubscribed(fake)[(MARY, 1)], 0)
        self.assertEqual(self.ctl_json('dead'), [])
        self.assertStatus(JOHN.lower(), 'complained')
        self.assertActions(JOHN.lower(), ['done'])


class InterspireCase610(InterspireCase):
    variant = '6.1.0'


class InterspireCase651(InterspireCase):
    variant = '6.5.1'


def ids_data():
    """User 1 owns lists 7, 12 and 13, user 2 list 99.  The subscriber of
    the anonymised report (tests/data/arf/anon_interspire.eml: list 12,
    subscriber 48213) is also on list 13; the one of the unsubscribe mail
    (tests/data/unsub/mailru.eml: iem.42_7@, subscriber 42 of list 7) is
    also on list 12."""
    return {
        'users': [{'userid': 2, 'username': 'bob', 'usertoken': 'bobs'}],
        'lists': [{'listid': 7, 'name': 'Seven'},
                  {'listid': 12, 'name': 'Twelve'},
                  {'listid': 13, 'name': 'Thirteen'},
                  {'listid': 99, 'name': "Bob's", 'ownerid': 2}],
        'subscribers': [
            {'subscriberid': 48213, 'emailaddress': 'Hidden.Reader@example.org',
             'listid': 12},
            {'subscriberid': 48300, 'emailaddress': 'Hidden.Reader@example.org',
             'listid': 13},
            {'subscriberid': 42, 'emailaddress': 'ivan.petrov@example.org',
             'listid': 7},
            {'subscriberid': 43, 'emailaddress': 'ivan.petrov@example.org',
             'listid': 12},
            {'subscriberid': 50, 'emailaddress': 'bobs.reader@example.org',
             'listid': 99}],
    }


class InterspireIds(IemCase):
    """Complaints and unsubscribe mails that name an Interspire subscriber
    by list and subscriber id only (uid:iem:LIST:SUBSCRIBER)."""

    def configure_ids(self, fake):
        self.configure(fake, extra=(
            '\n[unsubscribe]\naddresses = '
            'iem.[SUBSCRIBER_ID]_[LIST_ID]@lists.example.org\n'))

    def feedback_records(self, *ids):
        """An accounting file of f records whose reports hid the address
        but named the Interspire ids (LIST, SUBSCRIBER) of IDS; its path"""
        head = ('type,timeLogged,feedbackType,format,rcpt,reportedDomain,'
                'header_X-Mailer-LID,header_X-Mailer-RecptId\r\n')
        rows = ''.join('f,2026-11-24 08:0%d:00+0000,abuse,arf,,aol.example,'
                       '%s,%s\r\n' % (i, l, s) for i, (l, s) in enumerate(ids))
        return self.write_file('spool/acct/acct-f.csv', head + rows)

    def test_complaint_and_unsubscribe_mail(self):
        fake = self.start_fake(fake_data=ids_data())
        self.configure_ids(fake)
        self.put_mail('fbl', 'arf/anon_interspire.eml')
        self.put_mail('unsub', 'unsub/mailru.eml')
        self.process()
        calls = answered(fake)
        self.assertEqual(methods(calls), collections.Counter({
            'user/GetLists': 1,
            # the complaint: its record, then (after the unsubscribe) who
            # it is; the unsubscribe mail: its record
            'subscribers/GetRecordByID': 3,
            # once named, the hidden recipient is a complaint like any
            # other: its other list too, searched lower-cased and as
            # Interspire holds it (Hidden.Reader@)
            'subscribers/GetAllListsForEmailAddress': 2,
            'subscribers/UnsubscribeSubscriber': 3}))
        # by id, with skipcheck: without it the server would ignore the
        # id and take the first subscriber of the list
        self.assertEqual(sorted(details(calls, 'UnsubscribeSubscriber',
                                        'listid', 'subscriberid',
                                        'skipcheck')),
                         [('12', '48213', '1'), ('13', '48300', '1'),
                          ('7', '42', '1')])
        self.assertEqual(self.unsub_log(fake), [(42, 7), (48213, 12),
                                                (48300, 13)])
        un = self.unsubscribed(fake)
        self.assertTrue(un[('Hidden.Reader@example.org', 12)])
        self.assertTrue(un[('Hidden.Reader@example.org', 13)])
        self.assertTrue(un[('ivan.petrov@example.org', 7)])
        # the unsubscribe mail asked to leave one list
        self.assertEqual(un[('ivan.petrov@example.org', 12)], 0)
        self.assertEqual(self.ctl_json('dead'), [])
        self.assertEqual(self.ctl_json('queue'), [])
        self.assertActions('uid:iem:12:48213', ['done'])
        self.assertActions('uid:iem:7:42', ['done'])
        self.assertEqual(self.show('uid:iem:7:42')['status'], 'unsubscribed')
        # the address Interspire named for the hidden recipient has the
        # complaint too
        self.assertStatus('hidden.reader@example.org', 'complained')

        # a second run: nothing to do, no call
        n = len(fake.calls())
        self.process()
        self.assertEqual(len(fake.calls()), n)

    def test_ids_that_do_not_belong_together(self):
        """a subscriber id of another list, and a list of another user:
        nothing is unsubscribed, the dead letters say why"""
        fake = self.start_fake(fake_data=ids_data())
        self.configure_ids(fake)
        self.process(self.feedback_records(('7', '48213'), ('99', '50')))
        calls = methods(answered(fake))
        # two actions of a cold start: each asks for the lists unless the
        # other's GetLists is on its way when it starts (docs/PROVIDERS.md:
        # one action cannot wait for another's answer), so one or two
        self.assertIn(calls.pop('user/GetLists', 0), (1, 2))
        self.assertEqual(calls, collections.Counter({
            'subscribers/GetRecordByID': 1}))
        self.assertEqual(self.unsub_log(fake), [])
        self.assertEqual(self.unsubscribed(fake)[
            ('bobs.reader@example.org', 99)], 0)
        dead = {d['address']: d['reason'] for d in self.ctl_json('dead')}
        self.assertEqual(sorted(dead), ['uid:iem:7:48213', 'uid:iem:99:50'])
        self.assertIn("is on list '12', not on list 7", dead['uid:iem:7:48213'])
        self.assertIn("list 99 is not one of the lists of user 'admin'",
                      dead['uid:iem:99:50'])

    def test_complaint_about_a_mail_to_several_lists(self):
        """X-Mailer-LID: 2,24,12 (a campaign sent to three lists), the
        recipient redacted: the subscriber is unsubscribed from the one
        list that holds it, nothing else is touched"""
        d = {
            'users': [{'userid': 2, 'username': 'bob', 'usertoken': 'bobs'}],
            'lists': [{'listid': 2, 'name': 'Two'},
                      {'listid': 12, 'name': 'Twelve'},
                      {'listid': 24, 'name': 'Twenty-four', 'ownerid': 2}],
            'subscribers': [
                {'subscriberid': 48100, 'emailaddress':
                 'other.reader@example.org', 'listid': 2},
                {'subscriberid': 48213, 'emailaddress':
                 'hidden.reader@example.org', 'listid': 12},
                {'subscriberid': 48250, 'emailaddress':
                 'bobs.reader@example.org', 'listid': 24}],
        }
        fake = self.start_fake(fake_data=d)
        self.configure_ids(fake)
        self.put_mail('fbl', 'arf/anon_interspire_lists.eml')
        self.process()
        calls = answered(fake)
        # one record names the subscriber's list; after the unsubscribe
        # one more names its address
        self.assertEqual(methods(calls)['subscribers/GetRecordByID'], 2)
        self.assertEqual(sorted(details(calls, 'GetRecordByID',
                                        'subscriberid')),
                         [('48213',), ('48213',)])
        self.assertEqual(details(calls, 'UnsubscribeSubscriber', 'listid',
                                 'subscriberid', 'skipcheck'),
                         [('12', '48213', '1')])
        self.assertEqual(self.unsub_log(fake), [(48213, 12)])
        un = self.unsubscribed(fake)
        self.assertTrue(un[('hidden.reader@example.org', 12)])
        self.assertEqual(un[('other.reader@example.org', 2)], 0)
        self.assertEqual(un[('bobs.reader@example.org', 24)], 0)
        self.assertEqual(self.ctl_json('dead'), [])
        self.assertEqual(self.ctl_json('queue'), [])
        self.assertActions('uid:iem:2,24,12:48213', ['done'])
        self.assertEqual(self.show('uid:iem:2,24,12:48213')['status'],
                         'complained')
        self.assertStatus('hidden.reader@example.org', 'complained')
        failed = os.path.join(self.spool, 'fbl', 'failed')
        self.assertEqual(os.listdir(failed) if os.path.isdir(failed) else [],
                         [])

    def test_already_gone(self):
        """a subscriber unsubscribed before, or deleted: no unsubscribe;
        a complaint still names the address"""
        d = ids_data()
        d['subscribers'][0]['unsubscribed'] = 1700000000
        fake = self.start_fake(fake_data=d)
        self.configure_ids(fake)
        self.process(self.feedback_records(('12', '48213'), ('12', '777')))
        # the complaint named an address: acted on where it is still
        # subscribed (list 13), as any complaint; the deleted one is
        # asked for twice (no row reads as a failed query does)
        self.assertEqual(methods(answered(fake)), collections.Counter({
            'user/GetLists': 1, 'subscribers/GetRecordByID': 3,
            'subscribers/GetAllListsForEmailAddress': 2,
            'subscribers/UnsubscribeSubscriber': 1}))
        self.assertEqual(self.unsub_log(fake), [(48300, 13)])
        self.assertEqual(self.unsubscribed(fake)[
            ('Hidden.Reader@example.org', 12)], 1700000000)
        self.assertEqual(self.ctl_json('dead'), [])
        self.assertActions('uid:iem:12:48213', ['done'])
        self.assertActions('uid:iem:12:777', ['done'])
        self.assertStatus('hidden.reader@example.org', 'complained')


    def test_complaint_on_exact_server(self):
        """PostgreSQL: the address Interspire names for the complaint is
        searched as it holds it, so its other list (13) is found"""
        fake = self.start_fake(database='pgsql', fake_data=ids_data())
        self.configure_ids(fake)
        self.process(self.feedback_records(('12', '48213')))
        self.assertEqual(self.unsub_log(fake), [(48213, 12), (48300, 13)])
        self.assertEqual(details(answered(fake), 'GetAllListsForEmailAddress',
                                 'email'),
                         [('Hidden.Reader@example.org',),
                          ('hidden.reader@example.org',)])
        self.assertEqual(self.ctl_json('dead'), [])
        self.assertEqual(self.ctl_json('queue'), [])
        self.assertStatus('hidden.reader@example.org', 'complained')
        self.assertActions('hidden.reader@example.org', ['done'])


class InterspireIdsMany(IemCase):
    """A campaign sent to more lists than a key holds (the calls are
    those of any several lists, tested in every version with
    InterspireIds: the base one only here)."""

    def test_complaint_about_a_mail_to_many_lists(self):
        """X-Mailer-LID naming every list of a campaign sent to many: 60
        four-digit ids (299 characters, more than a key holds: the key
        says uid:iem:lists:48213, the event carries the ids) and 40 (a
        key of 213 characters holds them); the recipients redacted.  Each
        subscriber is unsubscribed from its own list, the last one named
        or the first, nothing else is touched"""
        many = ','.join(str(3001 + i) for i in range(60))
        forty = ','.join(str(4001 + i) for i in range(40))
        d = {
            'lists': [{'listid': 3060, 'name': 'Last of many'},
                      {'listid': 3001, 'name': 'First of many'},
                      {'listid': 4001, 'name': 'First of forty'}],
            'subscribers': [
                {'subscriberid': 48100, 'emailaddress':
                 'other.reader@example.org', 'listid': 3001},
                {'subscriberid': 48213, 'emailaddress':
                 'hidden.reader@example.org', 'listid': 3060},
                {'subscriberid': 48250, 'emailaddress':
                 'forty.reader@example.org', 'listid': 4001}],
        }
        fake = self.start_fake(fake_data=d)
        self.configure(fake)
        with open(os.path.join(DATA, 'arf', 'anon_interspire_lists.eml'),
                  newline='') as f:
            mail = f.read()
        self.assertIn('X-Mailer-LID: 2,24,12\n', mail)
        os.makedirs(os.path.join(self.spool, 'fbl', 'new'), exist_ok=True)
        for name, lids, sid in (('many', many, '48213'),
                                ('forty', forty, '48250')):
            text = mail.replace('X-Mailer-LID: 2,24,12', 'X-Mailer-LID: '
                                + lids).replace('X-Mailer-RecptId: 48213',
                                                'X-Mailer-RecptId: ' + sid)
            text = text.replace('<arf-77@', '<arf-%s@' % name)
            with open(os.path.join(self.spool, 'fbl', 'new', name + '.eml'),
                      'w', newline='') as f:
                f.write(text)
        self.process()
        calls = answered(fake)
        self.assertEqual(sorted(details(calls, 'UnsubscribeSubscriber',
                                        'listid', 'subscriberid',
                                        'skipcheck')),
                         [('3060', '48213', '1'), ('4001', '48250', '1')])
        self.assertEqual(self.unsub_log(fake), [(48213, 3060),
                                                (48250, 4001)])
        un = self.unsubscribed(fake)
        self.assertEqual(un[('other.reader@example.org', 3001)], 0)
        self.assertEqual(self.ctl_json('dead'), [])
        self.assertEqual(self.ctl_json('queue'), [])
        self.assertActions('uid:iem:lists:48213', ['done'])
        self.assertEqual(self.show('uid:iem:lists:48213')['status'],
                         'complained')
        long_key = 'uid:iem:%s:48250' % forty
        self.assertEqual(len(long_key), 213)
        self.assertEqual(self.show(long_key)['status'], 'complained')
        self.assertStatus('hidden.reader@example.org', 'complained')
        self.assertStatus('forty.reader@example.org', 'complained')
        failed = os.path.join(self.spool, 'fbl', 'failed')
        self.assertEqual(os.listdir(failed) if os.path.isdir(failed) else [],
                         [])


class InterspireIds610(InterspireIds):
    variant = '6.1.0'


class InterspireIds651(InterspireIds):
    variant = '6.5.1'
