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
"""
import collections
import json
import os
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
