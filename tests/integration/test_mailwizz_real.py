"""test_mailwizz_real.py - bounced process against the fake MailWizz where
the real server is less kind than the documentation: each test is a
behaviour read in MailWizz's own code (1.9.4 and 2.x) that changes what
bounced must do.

- A hard campaign bounce blacklists only a confirmed subscriber: an
  address whose campaign subscriber was unsubscribed or unconfirmed stays
  confirmed on its other lists unless bounced unsubscribes it there.
- The bounce call looks its subscriber up by uid alone: a recorded uid of
  another address is accepted, and only the answer says whose it was.
- MailWizz keeps one bounce per campaign and subscriber: an address that
  bounces on several campaigns is recorded on each.
- The search in all lists answers at most 100 records and leaves archived
  lists out: unsubscribing goes through the call that reaches them all.
- A campaign whose list is gone answers without one; send_at comes back
  in the customer's locale; addresses may come back masked.
- Every refusal of our credentials, signature or clock is a 400: the
  provider is paused, nothing becomes a dead letter.
- An address is kept as it was typed, a domain in Unicode too, and found
  by SQL "=" under a collation that ignores case and accents: the ASCII
  form the mail went to never finds "hans@bücher.de", and its Unicode
  form also finds "hans@bucher.de", another address.
"""
import collections
import json
import os
import signal
import sys

from harness import BouncedTestCase
from test_mailwizz_wire import HEADER, PUB, PRIV, rec

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
from fake import mailwizz  # noqa: E402

L1, L2, L3 = 'la111aa111aa1', 'lb222bb222bb2', 'lc333cc333cc3'
C1, C2 = 'cc111cd456ef7', 'cc222cd456ef7'
ADDR = 'pat@example.com'
ALL = 'PUT /api/lists/subscribers/unsubscribe-by-email-from-all-lists'
SEARCH = 'GET /api/lists/subscribers/search-by-email-in-all-lists'


def sub(uid, email, status='confirmed'):
    return {'subscriber_uid': uid, 'email': email, 'status': status}


def routes(fake):
    return collections.Counter('%s %s' % (c['method'], c['path'])
                               for c in fake.calls())


def statuses(fake):
    return {(lst['list_uid'], s['email']): s['status']
            for lst in fake.get_data()['lists'] for s in lst['subscribers']}


class MailWizzRealCase(BouncedTestCase):
    def start_fake(self, data, **kw):
        fake = mailwizz.MailWizzFake(public_key=PUB, private_key=PRIV,
                                     data=data, **kw)
        fake.start()
        self.addCleanup(fake.stop)
        return fake

    def mw(self, fake, private=PRIV, extra=''):
        self.write_config(extra=(
            '\n[provider mw]\ntype = mailwizz\nendpoint = %s/api\n'
            'senders = *@bounces.example.com\npublic-key = %s\n'
            'private-key = %s\nretry-min = 50ms\nretry-max = 200ms\n%s'
            % (fake.url, PUB, private, extra)))

    def acct(self, name, *records, uid=False):
        head = HEADER
        if uid:
            head = HEADER.rstrip('\r\n') + ',header_X-Mw-Subscriber-Uid\r\n'
        return self.write_file('spool/acct/' + name, head + ''.join(records))


def hard(addr, campaign, minute=0, uid=None):
    r = rec('b', addr, '5.1.1', 'smtp;550 5.1.1 user unknown', 'bad-mailbox',
            'mailwizz-' + campaign if campaign else '', minute=minute)
    if uid is not None:
        r = r.rstrip('\r\n') + ',%s\r\n' % uid
    return r


class TestHardBounceEverywhere(MailWizzRealCase):
    def test_not_blacklisted_is_unsubscribed_elsewhere(self):
        # the campaign's subscriber was unsubscribed before, so MailWizz
        # blacklists nobody: the confirmed and unconfirmed memberships on
        # the other lists must still end unsubscribed
        fake = self.start_fake({
            'lists': [
                {'list_uid': L1, 'subscribers': [
                    sub('sp111aa111aa1', ADDR, 'unsubscribed')]},
                {'list_uid': L2, 'subscribers': [
                    sub('sp222bb222bb2', ADDR, 'confirmed')]},
                {'list_uid': L3, 'subscribers': [
                    sub('sp333cc333cc3', ADDR, 'unconfirmed')]}],
            'campaigns': [{'campaign_uid': C1, 'list_uid': L1}]})
        self.mw(fake)
        self.process(self.acct('a.csv', hard(ADDR, C1)))
        st = statuses(fake)
        self.assertEqual(st[(L2, ADDR)], 'unsubscribed')
        self.assertEqual(st[(L3, ADDR)], 'unsubscribed')
        self.assertEqual([(b['email'], b['campaign_uid']) for b in
                          fake.get_data()['bounces']], [(ADDR, C1)])
        # the bounce first (so that MailWizz may still blacklist), then
        # one call for every list
        calls = [('%s %s' % (c['method'], c['path'])) for c in fake.calls()]
        self.assertEqual(calls[-2:], ['POST /api/campaigns/%s/bounces' % C1,
                                      ALL])
        self.assertEqual(self.ctl_json('dead'), [])
        self.assertEqual(self.ctl_json('queue'), [])
        acts = self.show(ADDR)['actions']
        self.assertEqual([(a['op'], a['state']) for a in acts],
                         [('bounce', 'done')], acts)

    def test_blacklisted_confirmed_and_unconfirmed_elsewhere(self):
        # confirmed on the campaign's list: blacklisted there and on L2
        # (confirmed), while the unconfirmed L3 membership stays as it is
        # at MailWizz unless unsubscribed
        fake = self.start_fake({
            'lists': [
                {'list_uid': L1, 'subscribers': [sub('sp111aa111aa1', ADDR)]},
                {'list_uid': L2, 'subscribers': [sub('sp222bb222bb2', ADDR)]},
                {'list_uid': L3, 'subscribers': [
                    sub('sp333cc333cc3', ADDR, 'unconfirmed')]}],
            'campaigns': [{'campaign_uid': C1, 'list_uid': L1}]})
        self.mw(fake)
        self.process(self.acct('a.csv', hard(ADDR, C1)))
        self.assertEqual(fake.get_data()['blacklist'], [ADDR])
        st = statuses(fake)
        self.assertNotIn('confirmed', st.values())
        self.assertNotIn('unconfirmed', st.values())
        self.assertEqual(routes(fake)[ALL], 1)

    def test_search_limit_and_archived_lists(self):
        # on 130 lists, one archived: the search would name 100 at most
        lists = [{'list_uid': 'lx%011d' % i, 'subscribers': [
            sub('sx%011d' % i, ADDR)]} for i in range(130)]
        lists[7]['status'] = 'archived'
        fake = self.start_fake({'lists': lists, 'campaigns': []})
        self.mw(fake)
        self.process(self.acct('a.csv', hard(ADDR, '')))
        self.assertEqual(set(statuses(fake).values()), {'unsubscribed'})
        self.assertEqual(routes(fake), collections.Counter({ALL: 1}))

    def test_older_mailwizz_without_unsubscribe_from_all(self):
        # a MailWizz before 1.4.4 answers 404 for the call: the search and
        # one unsubscribe per membership instead
        fake = self.start_fake({
            'lists': [
                {'list_uid': L1, 'subscribers': [sub('sp111aa111aa1', ADDR)]},
                {'list_uid': L2, 'subscribers': [sub('sp222bb222bb2', ADDR)]}],
            'campaigns': []})
        fake.configure(fail_status=404, fail_count=1,
                       match='unsubscribe-by-email-from-all-lists')
        self.mw(fake)
        self.process(self.acct('a.csv', hard(ADDR, '')))
        self.assertEqual(set(statuses(fake).values()), {'unsubscribed'})
        r = routes(fake)
        self.assertEqual((r[ALL], r[SEARCH]), (1, 1))
        self.assertEqual(self.ctl_json('dead'), [])


IDN_ASCII = 'hans@xn--bcher-kva.example'
IDN_TYPED = 'Hans@Bücher.example'
IDN_OTHER = 'hans@bucher.example'


class TestUnicodeDomain(MailWizzRealCase):
    def test_unsubscribed_as_typed_not_the_accentless_address(self):
        # subscribed once with the domain as typed, once in its ASCII
        # form; "hans@bucher.example" is someone else, whom MailWizz's
        # collation would find by the Unicode form
        fake = self.start_fake({
            'lists': [
                {'list_uid': L1, 'subscribers': [
                    sub('sp111aa111aa1', IDN_TYPED)]},
                {'list_uid': L2, 'subscribers': [
                    sub('sp222bb222bb2', IDN_ASCII)]},
                {'list_uid': L3, 'subscribers': [
                    sub('sp333cc333cc3', IDN_OTHER)]}],
            'campaigns': []})
        self.mw(fake)
        self.process(self.acct('a.csv', hard(IDN_ASCII, '')))
        st = statuses(fake)
        self.assertEqual(st[(L1, IDN_TYPED)], 'unsubscribed')
        self.assertEqual(st[(L2, IDN_ASCII)], 'unsubscribed')
        self.assertEqual(st[(L3, IDN_OTHER)], 'confirmed')
        calls = fake.calls()
        self.assertEqual([c['parsed'].get('EMAIL') for c in calls
                          if c['path'].endswith('from-all-lists')],
                         [IDN_ASCII])
        self.assertEqual([c['query'].get('EMAIL') for c in calls
                          if c['path'].endswith('in-all-lists')],
                         ['hans@bücher.example'])
        self.assertEqual(
            [c['path'] for c in calls if c['path'].endswith('/unsubscribe')],
            ['/api/lists/%s/subscribers/sp111aa111aa1/unsubscribe' % L1])
        self.assertEqual(self.ctl_json('dead'), [])
        self.assertEqual(self.ctl_json('queue'), [])

    def test_bounce_recorded_on_the_subscriber_as_typed(self):
        # the campaign's subscriber typed the domain in Unicode: the
        # bounce is recorded on it (MailWizz blacklists that subscriber
        # alone: no new blacklist records), and its membership on
        # another list, typed in capitals, is unsubscribed
        fake = self.start_fake({
            'lists': [
                {'list_uid': L1, 'subscribers': [
                    sub('sp111aa111aa1', 'hans@bücher.example')]},
                {'list_uid': L2, 'subscribers': [
                    sub('sp222bb222bb2', IDN_TYPED.upper())]}],
            'campaigns': [{'campaign_uid': C1, 'list_uid': L1}],
            'settings': {'blacklist_new_records': False}})
        self.mw(fake)
        self.process(self.acct('a.csv', hard(IDN_ASCII, C1)))
        self.assertEqual([(b['subscriber_uid'], b['campaign_uid'],
                           b['bounce_type']) for b in
                          fake.get_data()['bounces']],
                         [('sp111aa111aa1', C1, 'hard')])
        st = statuses(fake)
        self.assertEqual(st[(L1, 'hans@bücher.example')], 'blacklisted')
        self.assertEqual(st[(L2, IDN_TYPED.upper())], 'unsubscribed')
        self.assertEqual(routes(fake)[SEARCH], 3)
        self.assertEqual(self.ctl_json('dead'), [])
        self.assertEqual(self.ctl_json('queue'), [])


class TestRecordedUid(MailWizzRealCase):
    def data(self):
        return {
            'lists': [
                {'list_uid': L1, 'subscribers': [
                    sub('sc111aa111aa1', 'carol@example.com'),
                    sub('sd111aa111aa1', 'dave@example.com')]},
                {'list_uid': L2, 'subscribers': [
                    sub('sd222bb222bb2', 'dave@example.com')]}],
            'campaigns': [{'campaign_uid': C1, 'list_uid': L1}]}

    def test_uid_of_another_address(self):
        fake = self.start_fake(self.data())
        self.mw(fake)
        res = self.process(self.acct(
            'a.csv', hard('dave@example.com', C1, uid='sc111aa111aa1'),
            uid=True))
        # the answer named carol: said as an error, then dave is looked up
        # by his address and his own subscriber gets the bounce
        self.assertIn('sc111aa111aa1', res.err)
        self.assertRegex(res.err, r'(?i)error.*carol@example\.com.*not '
                         r'dave@example\.com')
        posted = [c['parsed']['subscriber_uid'] for c in fake.calls()
                  if c['method'] == 'POST']
        self.assertEqual(posted, ['sc111aa111aa1', 'sd111aa111aa1'])
        st = statuses(fake)
        self.assertEqual(st[(L1, 'dave@example.com')], 'unsubscribed')
        self.assertEqual(st[(L2, 'dave@example.com')], 'unsubscribed')
        shown = self.show('dave@example.com')
        self.assertIn('carol@example.com', shown['notice'])
        self.assertIn('sc111aa111aa1', shown['notice'])
        text = self.run_ctl('show', 'dave@example.com')
        self.assertIn('notice:', text.out)
        self.assertEqual(self.ctl_json('dead'), [])

    def test_masked_answer_is_not_a_mismatch(self):
        d = self.data()
        d['settings'] = {'mask_emails': True}
        fake = self.start_fake(d)
        self.mw(fake)
        res = self.process(self.acct(
            'a.csv', hard('dave@example.com', C1, uid='sd111aa111aa1'),
            uid=True))
        self.assertNotIn('looked up by its address', res.err)
        posted = [c['parsed']['subscriber_uid'] for c in fake.calls()
                  if c['method'] == 'POST']
        self.assertEqual(posted, ['sd111aa111aa1'])
        self.assertIsNone(self.show('dave@example.com')['notice'])


    def already(self, uid):
        """data where subscriber UID has campaign C1's bounce already"""
        d = self.data()
        d['bounces'] = [{'campaign_uid': C1, 'subscriber_uid': uid,
                         'bounce_type': 'soft', 'message': 'earlier'}]
        return d

    def posted(self, fake):
        return [c['parsed']['subscriber_uid'] for c in fake.calls()
                if c['method'] == 'POST']

    def test_already_bounced_uid_of_another_address(self):
        # the 422 "already marked as bounced" names nobody: it is carol's
        # bounce, and dave (hard-action bounce: nothing follows it) must
        # still get his own, which blacklists him
        fake = self.start_fake(self.already('sc111aa111aa1'))
        self.mw(fake, extra='hard-action = bounce\n')
        self.process(self.acct(
            'a.csv', hard('dave@example.com', C1, uid='sc111aa111aa1'),
            uid=True))
        self.assertEqual(self.posted(fake),
                         ['sc111aa111aa1', 'sd111aa111aa1'])
        self.assertEqual(sorted((b['subscriber_uid'], b['campaign_uid'])
                                for b in fake.get_data()['bounces']),
                         [('sc111aa111aa1', C1), ('sd111aa111aa1', C1)])
        st = statuses(fake)
        self.assertEqual(st[(L1, 'dave@example.com')], 'blacklisted')
        self.assertEqual(st[(L1, 'carol@example.com')], 'confirmed')
        self.assertEqual(self.ctl_json('dead'), [])

    def test_already_bounced_uid_of_another_list(self):
        # the same person's subscriber on another list has C1's bounce:
        # the campaign's own subscriber gets it
        fake = self.start_fake(self.already('sd222bb222bb2'))
        self.mw(fake, extra='hard-action = bounce\n')
        self.process(self.acct(
            'a.csv', hard('dave@example.com', C1, uid='sd222bb222bb2'),
            uid=True))
        self.assertEqual(self.posted(fake),
                         ['sd222bb222bb2', 'sd111aa111aa1'])
        self.assertIn(('sd111aa111aa1', C1),
                      [(b['subscriber_uid'], b['campaign_uid'])
                       for b in fake.get_data()['bounces']])
        self.assertEqual(statuses(fake)[(L1, 'dave@example.com')],
                         'blacklisted')
        self.assertEqual(self.ctl_json('dead'), [])

    def test_already_bounced_own_uid(self):
        # MailWizz recorded dave's bounce itself: looked up, posted once
        # more, and the 422 to his own subscriber is done
        fake = self.start_fake(self.already('sd111aa111aa1'))
        self.mw(fake, extra='hard-action = bounce\n')
        self.process(self.acct(
            'a.csv', hard('dave@example.com', C1, uid='sd111aa111aa1'),
            uid=True))
        self.assertEqual(self.posted(fake),
                         ['sd111aa111aa1', 'sd111aa111aa1'])
        self.assertEqual(len(fake.get_data()['bounces']), 1)
        self.assertEqual(routes(fake)[SEARCH], 1)
        acts = self.show('dave@example.com')['actions']
        self.assertEqual([(a['op'], a['state']) for a in acts],
                         [('bounce', 'done')])
        self.assertIn('already', self.show('dave@example.com')['notice'])
        self.assertEqual(self.ctl_json('dead'), [])


class TestCampaignBounces(MailWizzRealCase):
    def data(self):
        return {
            'lists': [{'list_uid': L1, 'subscribers': [
                sub('sc111aa111aa1', 'carol@example.com'),
                sub('sd111aa111aa1', 'dave@example.com')]}],
            'campaigns': [{'campaign_uid': C1, 'list_uid': L1},
                          {'campaign_uid': C2, 'list_uid': L1}]}

    def test_one_bounce_per_campaign(self):
        fake = self.start_fake(self.data())
        self.mw(fake)
        # dave twice in one file (one batch), carol across two files
        self.process(self.acct('a.csv', hard('dave@example.com', C1, 0),
                               hard('dave@example.com', C1, 1),
                               hard('dave@example.com', C2, 2),
                               hard('carol@example.com', C1, 3)))
        self.process(self.acct('b.csv', hard('carol@example.com', C2, 9),
                               hard('carol@example.com', C1, 10)))
        got = sorted((b['email'], b['campaign_uid'])
                     for b in fake.get_data()['bounces'])
        self.assertEqual(got, [('carol@example.com', C1),
                               ('carol@example.com', C2),
                               ('dave@example.com', C1),
                               ('dave@example.com', C2)])
        # unsubscribed once each, no bounce posted twice
        r = routes(fake)
        self.assertEqual(r[ALL], 2)
        self.assertEqual(r['POST /api/campaigns/%s/bounces' % C1] +
                         r['POST /api/campaigns/%s/bounces' % C2], 4)
        acts = self.show('carol@example.com')['actions']
        self.assertEqual(sorted((a['op'], a['campaign'], a['state'])
                                for a in acts),
                         [('bounce', C1, 'done'), ('bounce', C2, 'done')])
        self.assertEqual(self.ctl_json('dead'), [])


class TestCampaignAnswers(MailWizzRealCase):
    def test_campaign_without_list(self):
        fake = self.start_fake({
            'lists': [{'list_uid': L2, 'subscribers': [sub('sp222bb222bb2',
                                                           ADDR)]}],
            'campaigns': [{'campaign_uid': C1, 'list_uid': None}]})
        self.mw(fake)
        self.process(self.acct('a.csv', hard(ADDR, C1)))
        self.assertEqual(self.ctl_json('dead'), [])
        self.assertEqual(statuses(fake)[(L2, ADDR)], 'unsubscribed')
        self.assertEqual(self.show(ADDR)['actions'][0]['state'], 'done')


class TestCredentials(MailWizzRealCase):
    def data(self):
        return {'lists': [{'list_uid': L1, 'subscribers': [
                    sub('sp111aa111aa1', ADDR)]}],
                'campaigns': [{'campaign_uid': C1, 'list_uid': L1}]}

    def test_wrong_key_pauses_no_dead_letters(self):
        fake = self.start_fake(self.data())
        self.mw(fake, private='WRONGKEY', extra='concurrency = 1\n')
        res = self.run_bounced('process', '--drain-timeout', '3s',
                               self.acct('a.csv', hard(ADDR, C1),
                                         hard('x@example.com', C1, 1)))
        self.assertIn('paused', res.err)
        self.assertIn('signature', res.err)
        self.assertEqual(self.ctl_json('dead'), [])
        self.assertEqual(len(self.ctl_json('queue')), 2)
        # one call told it all: the other action waited
        self.assertEqual(len(fake.calls()), 1)
        self.assertEqual(fake.calls()[0]['status'], 400)
        q = self.run_ctl('queue')
        self.assertIn('paused', q.out)
        stats = self.run_ctl('stats')
        self.assertIn('paused', stats.out)
        # the right key: the next run probes, resumes and delivers
        self.mw(fake)
        res = self.process()
        self.assertIn('resumed', res.err)
        self.assertEqual(self.ctl_json('queue'), [])
        self.assertEqual(self.ctl_json('dead'), [])
        self.assertEqual(fake.get_data()['blacklist'], [ADDR])
        self.assertEqual(statuses(fake)[(L1, ADDR)], 'unsubscribed')
        self.assertNotIn('paused', self.run_ctl('queue').out)


class TestProviderTest(MailWizzRealCase):
    def data(self):
        return {'lists': [{'list_uid': L1, 'subscribers': []},
                          {'list_uid': L2, 'subscribers': []}],
                'campaigns': []}

    def test_ok_wrong_key_unreachable(self):
        fake = self.start_fake(self.data())
        self.mw(fake)
        res = self.run_bounced('provider-test')
        self.assertEqual(res.rc, 0, res)
        self.assertRegex(res.out, r'mw: ok \(http://127\.0\.0\.1:\d+/api, '
                         r'\d+ ms\): keys accepted, 2 list\(s\) seen')
        self.assertEqual([c['path'] for c in fake.calls()], ['/api/lists'])
        # the wrong key is said, with MailWizz's reason, exit 78
        self.mw(fake, private='WRONGKEY')
        res = self.run_bounced('provider-test', 'mw')
        self.assertEqual(res.rc, 78, res)
        self.assertIn('refuses the credentials', res.out)
        self.assertIn('Invalid API request signature', res.out)
        # an unknown provider name is a usage error
        self.assertEqual(self.run_bounced('provider-test', 'nope').rc, 64)
        # nothing listening: 75, and what to check
        port = fake.port
        fake.stop()
        self.write_config(extra=(
            '\n[provider mw]\ntype = mailwizz\nendpoint = '
            'http://127.0.0.1:%d/api\nsenders = *\npublic-key = %s\n'
            'private-key = %s\nconnect-timeout = 2s\n' % (port, PUB, PRIV)))
        res = self.run_bounced('provider-test')
        self.assertEqual(res.rc, 75, res)
        self.assertIn('cannot reach', res.out)
        self.assertIn('nothing answers there', res.out)
        # the state is not touched
        self.assertFalse(os.path.exists(os.path.join(self.state,
                                                     'data.mdb')))

    def test_not_an_api(self):
        fake = self.start_fake(self.data(), base='/other')
        self.mw(fake)
        res = self.run_bounced('provider-test')
        self.assertEqual(res.rc, 69, res)
        self.assertIn('no MailWizz API there', res.out)


from test_mail import NotifyCase, FROM, TO  # noqa: E402
from harness import RunTestCase  # noqa: E402
from fake import smtp  # noqa: E402


class TestPauseRun(RunTestCase, MailWizzRealCase):
    def test_sighup_with_the_right_key_delivers(self):
        fake = self.start_fake({
            'lists': [{'list_uid': L1, 'subscribers': [
                sub('sp111aa111aa1', ADDR)]}],
            'campaigns': [{'campaign_uid': C1, 'list_uid': L1}]})
        mta = smtp.SmtpFake().start()
        self.addCleanup(mta.stop)
        notify = ('\n[notify]\nsmtp = %s\nfrom = %s\nto = %s\n'
                  'mode = event\nca-file = %s\n' % (mta.url, FROM, TO,
                                                   smtp.CERT))
        self.write_config(extra=(
            '\n[provider mw]\ntype = mailwizz\nendpoint = %s/api\n'
            'senders = *\npublic-key = %s\nprivate-key = WRONGKEY\n%s'
            % (fake.url, PUB, notify)))
        p = self.start()
        self.drop('a.csv', HEADER + hard(ADDR, C1) +
                  hard('x@example.com', C1, 1))
        self.wait_for(lambda: 'paused' in self.log(p), 20,
                      'not paused: %s' % self.log(p)[-2000:])
        # the operator hears why
        self.wait_for(lambda: len(mta.messages()) >= 1, 20,
                      'no mail: %s' % self.log(p)[-2000:])
        text = mta.messages()[0]['data'].decode('utf-8', 'replace')
        self.assertIn('provider mw', text)
        self.assertIn('signature', text)
        self.assertEqual(self.ctl_json('dead'), [])
        self.assertEqual(len(self.ctl_json('queue')), 2)
        self.assertIn('paused', self.run_ctl('queue').out)
        calls = len(fake.calls())
        # the right key, then SIGHUP: probed at once, everything delivered
        self.write_config(extra=(
            '\n[provider mw]\ntype = mailwizz\nendpoint = %s/api\n'
            'senders = *\npublic-key = %s\nprivate-key = %s\n%s'
            % (fake.url, PUB, PRIV, notify)))
        p.send_signal(signal.SIGHUP)
        self.wait_for(lambda: not self.ctl_json('queue'), 20,
                      'not delivered: %s' % self.log(p)[-3000:])
        rc, _ = self.stop(p)
        self.assertEqual(rc, 0)
        self.assertGreater(len(fake.calls()), calls)
        self.assertIn('resumed', self.log(p))
        self.assertEqual(self.ctl_json('dead'), [])
        self.assertEqual(statuses(fake)[(L1, ADDR)], 'unsubscribed')
        self.assertNotIn('paused', self.run_ctl('queue').out)
        self.assertNotIn('paused', self.run_ctl('stats').out)


class TestDigestCampaign(NotifyCase):
    def test_send_at_in_the_customers_locale(self):
        # MailWizz writes send_at as the customer's locale does: shown as
        # written, never dropped
        d = json.loads(json.dumps(mailwizz_data_for_digest()))
        fake = mailwizz.MailWizzFake(public_key='PUBKEY123',
                                     private_key='PRIVKEY456', data=d)
        fake.start()
        self.addCleanup(fake.stop)
        mta = self.start_smtp()
        self.both_config(fake, mta)
        self.put_mail('fbl', 'arf/yahoo.eml')
        self.process()
        _, text, html = self.text_of(mta.messages()[0])
        self.assertIn('sent 11/24/26, 8:05 AM', text)
        self.assertIn('11/24/26, 8:05 AM', html)


def mailwizz_data_for_digest():
    from test_mail import data as mail_data
    d = mail_data()
    for c in d['campaigns']:
        c['send_at'] = '2026-11-24 08:05:00'
    d['settings'] = {'locale': 'en_US'}
    return d


from test_mail import (MailCase, ANON_UID, LIST, OTHER,  # noqa: E402
                       status as mail_status)
from fake import webhook  # noqa: E402


class TestHiddenRecipient(MailCase):
    """A report that hides the address, resolved through the subscriber
    uid: then a complaint of the address like any other (every provider,
    every list), unless complaint-scope = list keeps a provider to the
    subscriber named."""

    def run_anon(self, scope):
        fake = self.start_fake()
        hook = webhook.WebhookFake()
        hook.start()
        self.addCleanup(hook.stop)
        self.mw_config(fake, extra=(
            ('complaint-scope = %s\n' % scope if scope else '') +
            '\n[provider hook]\ntype = webhook\nurl = %s/e\nsenders = *\n'
            % hook.url))
        self.put_mail('fbl', 'arf/anon_mailwizz.eml')
        self.process()
        events = sorted((e['address'], e['event']) for e in hook.events())
        return fake, events

    def test_everywhere(self):
        fake, events = self.run_anon(None)
        st = mail_status(fake)
        self.assertEqual(st[(LIST, 'hidden@example.org')], 'unsubscribed')
        self.assertEqual(st[(OTHER, 'hidden@example.org')], 'unsubscribed')
        # the webhook hears of the uid's complaint and of the address's
        self.assertEqual(events, [('hidden@example.org', 'complaint'),
                                  ('uid:mw:' + ANON_UID, 'complaint')])
        acts = self.show('hidden@example.org')['actions']
        self.assertEqual(sorted((a['provider'], a['op'], a['state'])
                                for a in acts),
                         [('hook', 'complaint', 'done'),
                          ('mw', 'complaint', 'done')])

    def test_scope_list(self):
        fake, events = self.run_anon('list')
        st = mail_status(fake)
        self.assertEqual(st[(LIST, 'hidden@example.org')], 'unsubscribed')
        self.assertEqual(st[(OTHER, 'hidden@example.org')], 'confirmed')
        # the webhook keeps its own scope (everywhere)
        self.assertEqual(events, [('hidden@example.org', 'complaint'),
                                  ('uid:mw:' + ANON_UID, 'complaint')])
        self.assertEqual(self.show('hidden@example.org')['status'],
                         'complained')
