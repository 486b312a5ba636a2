"""test_mailwizz_wire.py - bounced process against the fake MailWizz on
127.0.0.1, looking at the wire: every v1 request carries a signature the
fake recomputes exactly (X-MW-REMOTE-ADDR signed as empty and not sent),
v2 sends only X-API-KEY, PUT goes with X-HTTP-Method-Override and an empty
body of Content-Length 0, the address is URL-encoded, the bounce message is
cut at a UTF-8 boundary, the campaign is asked for once, the subscriber of
a bounce is found by the search in all lists, and MailWizz's refusals end
as done (already bounced; a bounce its bounce log would not record, with a
notice, the unsubscribe still following) or as dead letters that say why,
and refused credentials pause the provider.  A hard bounce at
hard-action both is followed by one unsubscribe from every list, whatever
MailWizz did with the bounce (filed "internal", already bounced, refused,
not on the campaign's list, campaign unknown, or blacklisted)."""
import collections
import os
import sys

from harness import ACCT_HEADER as HEADER, BouncedTestCase, acct_rec

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
from fake import mailwizz  # noqa: E402

PUB, PRIV, KEY = 'PUBKEY123', 'PRIVKEY456', 'APIKEY789'
L1, L2, L3 = 'la111aa111aa1', 'lb222bb222bb2', 'lc333cc333cc3'
CAMPAIGN = 'cc123cd456ef7'
ODD = 'a+b&c@example.com'
ALL = 'PUT /api/lists/subscribers/unsubscribe-by-email-from-all-lists'
SENDER = 'news-x=example.com@bounces.example.com'

# 249 bytes, then a two-byte character across byte 250: cut before it
LONG_DIAG = 'smtp;552 ' + 'x' * 240 + '\u00e9' * 10
LONG_CUT = 'smtp;552 ' + 'x' * 240


def rec(t, rcpt, status='', diag='', cat='', job='', fb='', minute=0):
    """a record from SENDER at 08:MINUTE"""
    return acct_rec(t, '2026-11-24 08:%02d:00+0000' % minute, SENDER, rcpt,
                    status, diag, cat, job, fb)


def data():
    def sub(uid, email, status='confirmed'):
        return {'subscriber_uid': uid, 'email': email, 'status': status}
    return {
        'lists': [
            {'list_uid': L1, 'name': 'one', 'subscribers': [
                sub('sa111aa111aa1', ODD),
                sub('sc111aa111aa1', 'carol@example.com'),
                sub('sd111aa111aa1', 'dave@example.com')]},
            {'list_uid': L2, 'name': 'two', 'subscribers': [
                sub('sa222bb222bb2', ODD, 'unconfirmed')]},
            {'list_uid': L3, 'name': 'three', 'subscribers': [
                sub('sa333cc333cc3', ODD, 'unsubscribed')]},
        ],
        'campaigns': [{'campaign_uid': CAMPAIGN, 'name': 'November',
                       'list_uid': L1, 'status': 'sent'}],
    }


def routes(fake):
    """Counter of 'METHOD path' of the calls answered."""
    return collections.Counter('%s %s' % (c['method'], c['path'])
                               for c in fake.calls()
                               if not c.get('injected') and not c.get('dropped'))


class MailWizzWireCase(BouncedTestCase):
    def status(self, fake):
        return {(l['list_uid'], s['email']): s['status']
                for l in fake.get_data()['lists'] for s in l['subscribers']}

    def start_fake(self, **kw):
        fake = mailwizz.MailWizzFake(data=data(), **kw)
        fake.start()
        self.addCleanup(fake.stop)
        return fake

    def mw_config(self, fake, version=1, private=PRIV, extra=''):
        # the endpoint ends with '/' on purpose: bounced must not double it
        text = ('\n[provider mw]\ntype = mailwizz\nendpoint = %s/api/\n'
                'senders = news-*@bounces.example.com\n'
                'retry-min = 50ms\nretry-max = 200ms\nconcurrency = 1\n'
                % fake.url)
        if version == 1:
            text += ('api-version = 1\npublic-key = %s\nprivate-key = %s\n'
                     % (PUB, private))
        else:
            text += 'api-version = 2\napi-key = %s\n' % KEY
        self.write_config(extra=text + extra)

    def acct(self, *records):
        return self.write_file('spool/acct/acct-1.csv',
                               HEADER + ''.join(records))

    def complaint_and_soft(self):
        """A complaint about ODD (on three lists), two soft bounces on the
        campaign, one with a long UTF-8 DSN text."""
        return self.acct(
            rec('f', ODD, fb='abuse'),
            rec('b', 'carol@example.com', '4.2.2', LONG_DIAG, 'quota-issues',
                'mailwizz-' + CAMPAIGN, minute=1),
            rec('b', 'dave@example.com', '4.2.2', 'smtp;452 mailbox full',
                'quota-issues', 'mailwizz-' + CAMPAIGN, minute=2))

    def assert_flows(self, fake):
        """The calls and final data of complaint_and_soft()."""
        self.assertEqual(routes(fake), collections.Counter({
            # the complaint: every list in one call
            ALL: 1,
            # carol's and dave's soft bounces (bounce step 1)
            'GET /api/lists/subscribers/search-by-email-in-all-lists': 2,
            'GET /api/campaigns/%s' % CAMPAIGN: 1,     # cached for dave
            'POST /api/campaigns/%s/bounces' % CAMPAIGN: 2,
        }))
        for c in fake.calls():
            self.assertEqual(c['status'] // 100, 2, c)
            self.assertNotIn('//', c['path'], c)
        searches = [c for c in fake.calls() if 'in-all-lists' in c['path']]
        self.assertEqual(sorted(c['query']['EMAIL'] for c in searches),
                         sorted(['carol@example.com', 'dave@example.com']))
        unsub = [c for c in fake.calls() if c['method'] == 'PUT'][0]
        self.assertEqual(unsub['body'], 'EMAIL=a%2Bb%26c%40example.com')
        self.assertEqual(unsub['parsed'], {'EMAIL': ODD})
        # each bounce went to the subscriber of the campaign's list
        posted = sorted(c['parsed']['subscriber_uid'] for c in fake.calls()
                        if c['method'] == 'POST')
        self.assertEqual(posted, ['sc111aa111aa1', 'sd111aa111aa1'])
        bounces = sorted((b['email'], b['bounce_type'], b['message'])
                         for b in fake.get_data()['bounces'])
        self.assertEqual(bounces, [
            ('carol@example.com', 'soft', LONG_CUT),
            ('dave@example.com', 'soft', 'smtp;452 mailbox full')])
        status = {(l['list_uid'], s['email']): s['status']
                  for l in fake.get_data()['lists'] for s in l['subscribers']}
        # every membership: the unconfirmed one too
        self.assertEqual(status[(L1, ODD)], 'unsubscribed')
        self.assertEqual(status[(L2, ODD)], 'unsubscribed')
        self.assertEqual(status[(L3, ODD)], 'unsubscribed')
        self.assertEqual(self.ctl_json('queue'), [])
        self.assertEqual(self.ctl_json('dead'), [])
        for addr in (ODD, 'carol@example.com', 'dave@example.com'):
            acts = self.show(addr)['actions']
            self.assertEqual([a['state'] for a in acts], ['done'], acts)

    def assert_transport(self, call):
        """PUT and POST as MailWizz wants them; GET without a body."""
        h = call['headers']
        if call['method'] == 'PUT' and call['path'].endswith(
                '/unsubscribe-by-email-from-all-lists'):
            self.assertEqual(h.get('x-http-method-override'), 'PUT', call)
            self.assertEqual(h.get('content-type'),
                             'application/x-www-form-urlencoded', call)
            self.assertEqual(list(call['parsed']), ['EMAIL'], call)
        elif call['method'] == 'PUT':
            self.assertEqual(h.get('x-http-method-override'), 'PUT', call)
            self.assertEqual(h.get('content-length'), '0', call)
            self.assertEqual(call['body'], '', call)
        else:
            self.assertNotIn('x-http-method-override', h, call)
        if call['method'] == 'POST':
            self.assertEqual(h.get('content-type'),
                             'application/x-www-form-urlencoded', call)
        if call['method'] == 'GET':
            self.assertEqual(call['body'], '', call)


class TestMailWizzWire(MailWizzWireCase):
    def test_v1_signed(self):
        fake = self.start_fake(public_key=PUB, private_key=PRIV)
        self.mw_config(fake)
        self.process(self.complaint_and_soft())
        self.assert_flows(fake)
        for c in fake.calls():
            h = c['headers']
            self.assertEqual(c['api'], 'v1', c)
            self.assertEqual(h['x-mw-public-key'], PUB)
            self.assertEqual(h['x-mw-signature'], c['expected_signature'], c)
            self.assertRegex(h['x-mw-timestamp'], r'^\d{10}$')
            # signed as empty, not sent
            self.assertNotIn('x-mw-remote-addr', h, c)
            self.assertIn('X-MW-REMOTE-ADDR=&', c['signed_string'])
            self.assertNotIn('x-api-key', h)
            self.assert_transport(c)

    def test_v2_api_key(self):
        fake = self.start_fake(api_key=KEY)
        self.mw_config(fake, version=2)
        self.process(self.complaint_and_soft())
        self.assert_flows(fake)
        for c in fake.calls():
            self.assertEqual(c['api'], 'v2', c)
            self.assertEqual(c['headers']['x-api-key'], KEY)
            self.assertFalse([k for k in c['headers'] if k.startswith('x-mw-')],
                             c)
            self.assert_transport(c)

    def test_address_lost_on_the_way_is_a_dead_letter(self):
        """A proxy in front of MailWizz drops the PUT's body: MailWizz
        answers 422 (no EMAIL), which for an address its validator takes
        cannot mean "no list can hold it": a dead letter that says so,
        the subscriber untouched, nothing passed off as done"""
        fake = self.start_fake(api_key=KEY, drop_bodies=True)
        self.mw_config(fake, version=2)
        self.process(self.acct(rec('f', ODD, fb='abuse')))
        puts = [c for c in fake.calls()
                if '%s %s' % (c['method'], c['path']) == ALL]
        self.assertEqual([c['status'] for c in puts], [422])
        self.assertEqual(puts[0]['parsed'], {})    # no EMAIL arrived
        dead = self.ctl_json('dead')
        self.assertEqual([d['address'] for d in dead], [ODD])
        self.assertIn('Please provide the subscriber email address.',
                      dead[0]['reason'])
        self.assertIn('did not reach', dead[0]['reason'])
        self.assertEqual(self.status(fake)[(L1, ODD)], 'confirmed')

    def test_wrong_private_key_pauses(self):
        fake = self.start_fake(public_key=PUB, private_key=PRIV)
        self.mw_config(fake, private='NOT-THE-KEY')
        res = self.process(self.acct(rec('f', ODD, fb='abuse')))
        calls = fake.calls()
        self.assertEqual(len(calls), 1, calls)
        self.assertEqual(calls[0]['status'], 400)
        # not a dead letter: the action waits for the right key
        self.assertEqual(self.ctl_json('dead'), [])
        queue = self.ctl_json('queue')
        self.assertEqual(len(queue), 1, queue)
        self.assertIn('paused: ', res.out)
        self.assertIn('signature', res.out)

    def test_unknown_campaign_is_dead(self):
        fake = self.start_fake(public_key=PUB, private_key=PRIV)
        self.mw_config(fake, extra='hard-action = bounce\n')
        self.process(self.acct(rec('b', 'dave@example.com', '5.1.1',
                                   'smtp;550 5.1.1 unknown', 'bad-mailbox',
                                   'mailwizz-zz999zz999zz9')))
        self.assertEqual(routes(fake), collections.Counter({
            'GET /api/campaigns/zz999zz999zz9': 1}))
        dead = self.ctl_json('dead')
        self.assertEqual(len(dead), 1, dead)
        self.assertIn('campaign zz999zz999zz9 not found', dead[0]['reason'])
        self.assertEqual(fake.get_data()['bounces'], [])

    def carol_bounced(self, bounce_type, settings=None):
        """a fake where carol's bounce of CAMPAIGN (BOUNCE_TYPE) is
        recorded already, the customer's SETTINGS; bounced set up for it"""
        fake = self.start_fake(public_key=PUB, private_key=PRIV)
        d = data()
        if settings:
            d['settings'] = settings
        d['bounces'] = [{'campaign_uid': CAMPAIGN,
                         'subscriber_uid': 'sc111aa111aa1',
                         'email': 'carol@example.com',
                         'bounce_type': bounce_type,
                         'message': 'earlier', 'processed': 'no',
                         'date_added': '2026-11-23 00:00:00'}]
        fake.set_data(d)
        self.mw_config(fake)
        return fake

    def test_already_bounced_is_done(self):
        fake = self.carol_bounced('soft')
        self.process(self.acct(rec('b', 'carol@example.com', '4.2.2',
                                   'smtp;452 full', 'quota-issues',
                                   'mailwizz-' + CAMPAIGN)))
        posts = [c for c in fake.calls() if c['method'] == 'POST']
        self.assertEqual(len(posts), 1, posts)
        self.assertEqual(posts[0]['status'], 422)
        self.assertEqual(self.ctl_json('dead'), [])
        self.assertEqual(self.ctl_json('queue'), [])
        acts = self.show('carol@example.com')['actions']
        self.assertEqual([a['state'] for a in acts], ['done'], acts)
        self.assertEqual(len(fake.get_data()['bounces']), 1)

    def test_already_bounced_in_the_customers_language(self):
        # MailWizz translates "already marked as bounced" into the
        # customer's language (de_DE here): still done, and the hard
        # bounce's unsubscribe from every list follows (it was a dead
        # letter, carol left confirmed elsewhere)
        fake = self.carol_bounced('hard', {'locale': 'de_DE'})
        self.process(self.acct(rec('b', 'carol@example.com', '5.1.1',
                                   'smtp;550 5.1.1 unknown', 'bad-mailbox',
                                   'mailwizz-' + CAMPAIGN)))
        posts = [c for c in fake.calls() if c['method'] == 'POST']
        self.assertEqual([c['status'] for c in posts], [422])
        self.assertTrue(fake._t('This subscriber has already been marked '
                                'as bounced!').startswith('Dieser'))
        self.assertEqual(self.ctl_json('dead'), [])
        self.assertEqual(routes(fake)[ALL], 1)
        acts = self.show('carol@example.com')['actions']
        self.assertEqual([a['state'] for a in acts], ['done'], acts)

    def test_bounce_post_finds_the_campaign_gone(self):
        # the campaign (or its subscriber) deleted after it was looked up:
        # the bounce's POST is answered 404; nothing to record, but the
        # hard bounce's unsubscribe from every list still follows
        fake = self.start_fake(public_key=PUB, private_key=PRIV)
        fake.configure(fail_status=404, fail_count=1, match='/bounces')
        self.mw_config(fake)
        res = self.process(self.acct(rec('b', 'dave@example.com', '5.1.1',
                                         'smtp;550 5.1.1 unknown',
                                         'bad-mailbox',
                                         'mailwizz-' + CAMPAIGN)))
        self.assertEqual(self.ctl_json('dead'), [])
        self.assertEqual(routes(fake)[ALL], 1)
        self.assertEqual(self.status(fake)[(L1, 'dave@example.com')],
                         'unsubscribed')
        rec_ = self.show('dave@example.com')
        self.assertEqual([a['state'] for a in rec_['actions']], ['done'])
        self.assertIn('HTTP 404 to the bounce of campaign %s' % CAMPAIGN,
                      rec_['notice'] or '')
        self.assertIn('no bounce recorded', res.err)

    def test_later_campaign_record_finds_it_gone(self):
        # dave suppressed by his first hard bounce; a later campaign's
        # bounce record (one per campaign) answered 404: the campaign or
        # subscriber gone, nothing to record and nothing left undone
        # (he is unsubscribed already): done with a notice, no dead
        # letter
        fake = self.start_fake(public_key=PUB, private_key=PRIV)
        d = data()
        d['campaigns'].append({'campaign_uid': 'cc999cd456ef7',
                               'name': 'December', 'list_uid': L1,
                               'status': 'sent'})
        fake.set_data(d)
        self.mw_config(fake)
        self.process(self.acct(rec('b', 'dave@example.com', '5.1.1',
                                   'smtp;550 5.1.1 unknown', 'bad-mailbox',
                                   'mailwizz-' + CAMPAIGN)))
        self.assertEqual(self.status(fake)[(L1, 'dave@example.com')],
                         'unsubscribed')
        fake.configure(fail_status=404, fail_count=1, match='/bounces')
        self.process(self.acct(rec('b', 'dave@example.com', '5.1.1',
                                   'smtp;550 5.1.1 unknown', 'bad-mailbox',
                                   'mailwizz-cc999cd456ef7')))
        self.assertIn('POST /api/campaigns/cc999cd456ef7/bounces',
                      ['%s %s' % (c['method'], c['path'])
                       for c in fake.calls()])
        self.assertEqual(self.ctl_json('dead'), [])
        self.assertEqual(self.ctl_json('queue'), [])
        rec_ = self.show('dave@example.com')
        self.assertEqual([a['state'] for a in rec_['actions']],
                         ['done', 'done'])
        self.assertIn('HTTP 404 to the bounce of campaign cc999cd456ef7',
                      rec_['notice'] or '')

    def test_hard_bounce_filed_internal_is_said(self):
        # hard-action = bounce leaves the rest to MailWizz; a text that
        # looks like a block to it ("blocked") is filed "internal" and
        # blacklists nobody: the address stays subscribed, and the record
        # says so (it was done without a word)
        fake = self.start_fake(public_key=PUB, private_key=PRIV)
        self.mw_config(fake, extra='hard-action = bounce\n')
        self.process(self.acct(rec('b', 'dave@example.com', '5.1.1',
                                   'smtp;550 5.1.1 mailbox blocked: user '
                                   'unknown', 'bad-mailbox',
                                   'mailwizz-' + CAMPAIGN)))
        bounces = fake.get_data()['bounces']
        self.assertEqual([b['bounce_type'] for b in bounces], ['internal'])
        self.assertEqual(routes(fake)[ALL], 0)
        self.assertEqual(self.status(fake)[(L1, 'dave@example.com')],
                         'confirmed')
        rec_ = self.show('dave@example.com')
        self.assertEqual([a['state'] for a in rec_['actions']], ['done'])
        self.assertIn("as 'internal'", rec_['notice'] or '')
        self.assertIn('stays subscribed', rec_['notice'] or '')

    def test_address_mailwizz_refuses(self):
        # a UTF-8 local part, which MailWizz's validator refuses (422) in
        # the search as in the unsubscribe from every list: no subscriber
        # can have it, done (the search's 422 made a dead letter)
        fake = self.start_fake(public_key=PUB, private_key=PRIV)
        self.mw_config(fake)
        self.process(self.acct(rec('b', 'jos\u00e9@example.com', '5.1.1',
                                   'smtp;550 5.1.1 unknown', 'bad-mailbox',
                                   'mailwizz-' + CAMPAIGN)))
        self.assertEqual(self.ctl_json('dead'), [])
        self.assertEqual(self.ctl_json('queue'), [])
        r = routes(fake)
        self.assertEqual(
            (r['GET /api/lists/subscribers/search-by-email-in-all-lists'],
             r[ALL]), (1, 1))
        acts = self.show('jos\u00e9@example.com')['actions']
        self.assertEqual([a['state'] for a in acts], ['done'], acts)

    def test_address_on_no_list(self):
        fake = self.start_fake(public_key=PUB, private_key=PRIV)
        self.mw_config(fake)
        self.process(self.acct(rec('f', 'nobody@example.com', fb='abuse'),
                               rec('b', 'noone@example.com', '4.2.2', 'full',
                                   'quota-issues', 'mailwizz-' + CAMPAIGN,
                                   minute=1)))
        # a soft bounce not on the campaign's list: nothing recorded and,
        # soft, nothing unsubscribed
        self.assertEqual(routes(fake), collections.Counter({
            ALL: 1,
            'GET /api/lists/subscribers/search-by-email-in-all-lists': 1,
            'GET /api/campaigns/%s' % CAMPAIGN: 1}))
        self.assertEqual(fake.get_data()['bounces'], [])
        self.assertEqual(self.ctl_json('dead'), [])
        self.assertEqual(self.ctl_json('queue'), [])
        for addr in ('nobody@example.com', 'noone@example.com'):
            acts = self.show(addr)['actions']
            self.assertEqual([a['state'] for a in acts], ['done'], acts)


ERIN, FRANK = 'erin@example.com', 'frank@example.com'
UNKNOWN = 'zz999zz999zz9'


def hard_data():
    """data() with erin (lists two and three, not the campaign's) and
    frank (lists one and two), and an earlier soft bounce of ODD."""
    d = data()
    d['lists'][0]['subscribers'].append(
        {'subscriber_uid': 'sf111aa111aa1', 'email': FRANK,
         'status': 'confirmed'})
    d['lists'][1]['subscribers'] += [
        {'subscriber_uid': 'se222bb222bb2', 'email': ERIN,
         'status': 'confirmed'},
        {'subscriber_uid': 'sf222bb222bb2', 'email': FRANK,
         'status': 'confirmed'}]
    d['lists'][2]['subscribers'].append(
        {'subscriber_uid': 'se333cc333cc3', 'email': ERIN,
         'status': 'unsubscribed'})
    d['bounces'] = [{'campaign_uid': CAMPAIGN,
                     'subscriber_uid': 'sa111aa111aa1', 'email': ODD,
                     'bounce_type': 'soft', 'message': 'earlier',
                     'processed': 'no', 'date_added': '2026-11-23 00:00:00'}]
    return d


class TestMailWizzHardBounce(MailWizzWireCase):
    """Hard bounces on the campaign of carol (taken as hard), dave (a
    block: filed "internal"), erin (not on the campaign's list), ODD
    (bounced before), and of frank on an unknown campaign."""

    def run_hard(self, hard_action):
        fake = self.start_fake(public_key=PUB, private_key=PRIV)
        fake.set_data(hard_data())
        extra = 'hard-action = %s\n' % hard_action if hard_action else ''
        # PowerMTA's categories alone (no [classify] rules, which would
        # call dave's Spamhaus text sender-side): this is about MailWizz
        # refiling a block it is told is a hard bounce
        self.mw_config(fake, extra=extra + '\n[classify]\nrules =\n')
        job = 'mailwizz-' + CAMPAIGN
        self.process(self.acct(
            rec('b', 'carol@example.com', '5.1.1', 'smtp;550 5.1.1 user '
                'unknown', 'bad-mailbox', job),
            rec('b', 'dave@example.com', '5.1.1', 'smtp;550 5.1.1 listed '
                'at spamhaus', 'bad-mailbox', job, minute=1),
            rec('b', ERIN, '5.1.1', 'smtp;550 5.1.1 no such user',
                'bad-mailbox', job, minute=2),
            rec('b', ODD, '5.1.1', 'smtp;550 5.1.1 no such user',
                'bad-mailbox', job, minute=3),
            rec('b', FRANK, '5.1.1', 'smtp;550 5.1.1 no such user',
                'bad-mailbox', 'mailwizz-' + UNKNOWN, minute=4)))
        # every call the fake verified (v1 signature included) and
        # answered as expected: 2xx, the 404 of the unknown campaign and
        # the 422 of ODD's second bounce
        for c in fake.calls():
            self.assertEqual(c['api'], 'v1', c)
            self.assertEqual(c['headers']['x-mw-signature'],
                             c['expected_signature'], c)
            want = {'/api/campaigns/' + UNKNOWN: 404}.get(c['path'], 200)
            if c['method'] == 'POST':
                want = 422 if c['parsed']['subscriber_uid'] == \
                    'sa111aa111aa1' else 201
            self.assertEqual(c['status'], want, c)
            self.assert_transport(c)
        searched = collections.Counter(
            c['query']['EMAIL'] for c in fake.calls()
            if 'in-all-lists' in c['path'])
        bounces = sorted((b['email'], b['bounce_type'])
                         for b in fake.get_data()['bounces'])
        self.assertEqual(bounces, [(ODD, 'soft'),
                                   ('carol@example.com', 'hard'),
                                   ('dave@example.com', 'internal')])
        # carol was confirmed: MailWizz blacklisted her (and only her)
        self.assertEqual(fake.get_data()['blacklist'], ['carol@example.com'])
        self.assertEqual(self.ctl_json('queue'), [])
        for addr in (ODD, 'carol@example.com', 'dave@example.com', ERIN,
                     FRANK):
            acts = self.show(addr)['actions']
            # one root action each: the unsubscribe follows from it
            self.assertEqual([a['op'] for a in acts], ['bounce'], acts)
        return fake, searched


    def test_both_unsubscribes_everywhere(self):
        fake, searched = self.run_hard(None)     # the default: both
        self.assertEqual(routes(fake), collections.Counter({
            'GET /api/campaigns/%s' % CAMPAIGN: 1,
            'GET /api/campaigns/%s' % UNKNOWN: 1,
            'GET /api/lists/subscribers/search-by-email-in-all-lists': 4,
            'POST /api/campaigns/%s/bounces' % CAMPAIGN: 3,
            # after each bounce (or none, for erin and frank), one call
            # for every list
            ALL: 5,
        }))
        # one search each, to find the campaign's subscriber; frank's
        # campaign is unknown, so no search
        self.assertEqual(searched, collections.Counter({
            'carol@example.com': 1, ERIN: 1, 'dave@example.com': 1,
            ODD: 1}))
        unsubscribed = [c['parsed']['EMAIL'] for c in fake.calls()
                        if c['method'] == 'PUT']
        self.assertEqual(sorted(unsubscribed), sorted([
            'carol@example.com', 'dave@example.com', ERIN, FRANK, ODD]))
        # the unsubscribe of each came after its bounce
        calls = fake.calls()
        for addr in ('carol@example.com', 'dave@example.com', ODD):
            post = [i for i, c in enumerate(calls) if c['method'] == 'POST'
                    and c['parsed']['subscriber_uid'] in
                    ('sc111aa111aa1', 'sd111aa111aa1', 'sa111aa111aa1')
                    and {'sc111aa111aa1': 'carol@example.com',
                         'sd111aa111aa1': 'dave@example.com',
                         'sa111aa111aa1': ODD}[
                             c['parsed']['subscriber_uid']] == addr]
            put = [i for i, c in enumerate(calls) if c['method'] == 'PUT'
                   and c['parsed']['EMAIL'] == addr]
            self.assertLess(post[0], put[0], addr)
        st = self.status(fake)
        self.assertEqual(st[(L1, 'carol@example.com')], 'unsubscribed')
        self.assertEqual(st[(L1, 'dave@example.com')], 'unsubscribed')
        self.assertEqual(st[(L2, ERIN)], 'unsubscribed')
        self.assertEqual(st[(L1, FRANK)], 'unsubscribed')
        self.assertEqual(st[(L2, FRANK)], 'unsubscribed')
        self.assertEqual(st[(L1, ODD)], 'unsubscribed')
        self.assertEqual(st[(L2, ODD)], 'unsubscribed')
        self.assertEqual(self.ctl_json('dead'), [])
        for addr in (ODD, 'carol@example.com', 'dave@example.com', ERIN,
                     FRANK):
            acts = self.show(addr)['actions']
            self.assertEqual([a['state'] for a in acts], ['done'], acts)

    def test_bounce_only_never_unsubscribes(self):
        fake, searched = self.run_hard('bounce')
        self.assertEqual(routes(fake), collections.Counter({
            'GET /api/campaigns/%s' % CAMPAIGN: 1,
            'GET /api/campaigns/%s' % UNKNOWN: 1,
            'GET /api/lists/subscribers/search-by-email-in-all-lists': 4,
            'POST /api/campaigns/%s/bounces' % CAMPAIGN: 3,
        }))
        self.assertEqual(searched, collections.Counter({
            'carol@example.com': 1, 'dave@example.com': 1, ERIN: 1, ODD: 1}))
        st = self.status(fake)
        self.assertEqual(st[(L1, 'dave@example.com')], 'confirmed')
        self.assertEqual(st[(L2, ERIN)], 'confirmed')
        self.assertEqual(st[(L1, FRANK)], 'confirmed')
        # the unknown campaign is a dead letter, the rest done
        dead = self.ctl_json('dead')
        self.assertEqual(len(dead), 1, dead)
        self.assertIn('campaign %s not found' % UNKNOWN, dead[0]['reason'])
        for addr in (ODD, 'carol@example.com', 'dave@example.com', ERIN):
            acts = self.show(addr)['actions']
            self.assertEqual([a['state'] for a in acts], ['done'], acts)


class TestMailWizzRecordedSubscriber(MailWizzWireCase):
    """Records with PowerMTA's header_X-Mw-Subscriber-Uid column: the
    bounce is one POST with that uid; a uid that is not the campaign's
    subscriber (404) is dropped and the address searched for instead; a
    malformed one is never sent."""

    def test_one_post_per_address(self):
        fake = self.start_fake(public_key=PUB, private_key=PRIV)
        self.mw_config(fake)
        job = 'mailwizz-' + CAMPAIGN
        head = HEADER.rstrip('\r\n') + ',header_X-Mw-Subscriber-Uid\r\n'

        def r(rcpt, uid, minute):
            return rec('b', rcpt, '5.1.1', 'smtp;550 5.1.1 no such user',
                       'bad-mailbox', job, minute=minute).rstrip('\r\n') + \
                ',%s\r\n' % uid
        path = self.write_file('spool/acct/acct-uid.csv', head + ''.join([
            r('carol@example.com', 'sc111aa111aa1', 0),
            # dave's record names ODD's list-two uid
            r('dave@example.com', 'sa222bb222bb2', 1),
            r(ODD, 'SA111AA111AA1/../x', 2)]))
        self.process(path)
        posts = [c['parsed']['subscriber_uid'] for c in fake.calls()
                 if c['method'] == 'POST']
        self.assertEqual(sorted(posts), ['sa111aa111aa1', 'sa222bb222bb2',
                                         'sc111aa111aa1', 'sd111aa111aa1'])
        searched = sorted(c['query']['EMAIL'] for c in fake.calls()
                          if 'in-all-lists' in c['path'])
        # carol: no search; dave: one, after MailWizz named the wrong
        # subscriber; ODD: the malformed uid is ignored, so the usual search
        self.assertEqual(searched, [ODD, 'dave@example.com'])
        for c in fake.calls():
            self.assertNotIn('..', c['target'])
        # MailWizz takes a uid of any list: dave's record named ODD's
        # list-two subscriber, which got that bounce (not confirmed: not
        # blacklisted); bounced then found dave's own
        bounces = sorted((b['email'], b['subscriber_uid'])
                         for b in fake.get_data()['bounces'])
        self.assertEqual(bounces, [(ODD, 'sa111aa111aa1'),
                                   (ODD, 'sa222bb222bb2'),
                                   ('carol@example.com', 'sc111aa111aa1'),
                                   ('dave@example.com', 'sd111aa111aa1')])
        self.assertIn(ODD, self.show('dave@example.com')['notice'])
        self.assertEqual(self.ctl_json('queue'), [])
        self.assertEqual(self.ctl_json('dead'), [])


class TestMailWizzBounceRefused(MailWizzWireCase):
    """MailWizz answers a bounce it would not record with 422: its bounce
    log's field errors when CampaignBounceLog::save() fails (an object,
    or [] when nothing said why), "Invalid bounce type!" for a type off
    its list; in MailWizz's own code neither happens, an extension's
    filters do it.  Nothing is recorded and nobody blacklisted: the
    unsubscribe that follows a hard bounce still comes, the record says
    what MailWizz refused, and only a bounce that nothing follows
    (hard-action = bounce) is a dead letter."""

    def refusing(self, settings, extra=''):
        fake = self.start_fake(public_key=PUB, private_key=PRIV)
        d = data()
        d['settings'] = settings
        fake.set_data(d)
        self.mw_config(fake, extra=extra)
        return fake

    def test_refused_bounce_still_unsubscribes(self):
        # dave's hard bounce and carol's soft one, refused by a rule on
        # the bounce log's message: both were dead letters, dave left
        # confirmed
        fake = self.refusing({'bounce_save_errors': {
            'message': 'Message is too long (maximum is 20 characters).'}})
        self.process(self.acct(
            rec('b', 'dave@example.com', '5.1.1', 'smtp;550 5.1.1 unknown',
                'bad-mailbox', 'mailwizz-' + CAMPAIGN),
            rec('b', 'carol@example.com', '4.2.2', 'smtp;452 full',
                'quota-issues', 'mailwizz-' + CAMPAIGN, minute=1)))
        posts = [c for c in fake.calls() if c['method'] == 'POST']
        self.assertEqual([c['status'] for c in posts], [422, 422])
        self.assertEqual(routes(fake)[ALL], 1)
        unsub = [c for c in fake.calls() if c['method'] == 'PUT']
        self.assertEqual(unsub[0]['parsed'], {'EMAIL': 'dave@example.com'})
        self.assertEqual(self.status(fake)[(L1, 'dave@example.com')],
                         'unsubscribed')
        self.assertEqual(self.status(fake)[(L1, 'carol@example.com')],
                         'confirmed')
        self.assertEqual(fake.get_data()['bounces'], [])
        self.assertEqual(self.ctl_json('dead'), [])
        self.assertEqual(self.ctl_json('queue'), [])
        for addr, kind, tail in (
                ('dave@example.com', 'hard',
                 '; the unsubscribe from every list follows'),
                ('carol@example.com', 'soft', '')):
            shown = self.show(addr)
            self.assertEqual([a['state'] for a in shown['actions']],
                             ['done'], shown)
            self.assertEqual(
                shown['notice'],
                'MailWizz did not record the %s bounce of campaign %s '
                '(HTTP 422, its bounce log refused it: message: Message is '
                'too long (maximum is 20 characters).)%s'
                % (kind, CAMPAIGN, tail))
        out = self.run_ctl('show', 'dave@example.com').out
        self.assertIn('its bounce log refused it', out)

    def test_refused_bounce_only_is_a_dead_letter_until_fixed(self):
        # hard-action = bounce: nothing else would unsubscribe dave, so
        # the operator is told; once MailWizz takes bounces again, a
        # retry records it (and MailWizz blacklists him)
        fake = self.refusing({'bounce_save_errors': []},
                             extra='hard-action = bounce\n')
        job = 'mailwizz-' + CAMPAIGN
        self.process(self.acct(rec('b', 'dave@example.com', '5.1.1',
                                   'smtp;550 5.1.1 unknown', 'bad-mailbox',
                                   job)))
        dead = self.ctl_json('dead')
        self.assertEqual(len(dead), 1, dead)
        self.assertEqual(
            dead[0]['reason'],
            'record bounce: HTTP 422: its bounce log refused it without a '
            'reason; with hard-action = bounce the address stays subscribed: '
            'have MailWizz take the bounce, then bouncectl retry')
        self.assertIn('its bounce log refused it', self.run_ctl('dead').out)
        self.assertEqual(self.ctl_json('queue'), [])
        self.assertEqual(routes(fake)[ALL], 0)
        self.assertEqual(self.status(fake)[(L1, 'dave@example.com')],
                         'confirmed')
        d = data()
        fake.set_data(d)
        self.assertRc(self.run_ctl('retry', '--all'), 0)
        self.process()
        self.assertEqual(self.ctl_json('dead'), [])
        self.assertEqual([(b['email'], b['bounce_type'])
                          for b in fake.get_data()['bounces']],
                         [('dave@example.com', 'hard')])
        self.assertEqual(self.status(fake)[(L1, 'dave@example.com')],
                         'blacklisted')

    def test_type_off_the_list_is_said(self):
        # an extension took "soft" off MailWizz's bounce types: each soft
        # bounce is answered "Invalid bounce type!", which passed for
        # "already marked as bounced", done without a word
        fake = self.refusing({'bounce_types': ['internal', 'hard']})
        self.process(self.acct(rec('b', 'carol@example.com', '4.2.2',
                                   'smtp;452 full', 'quota-issues',
                                   'mailwizz-' + CAMPAIGN)))
        posts = [c for c in fake.calls() if c['method'] == 'POST']
        self.assertEqual([(c['status'], c['parsed']['bounce_type'])
                          for c in posts], [(422, 'soft')])
        self.assertEqual(self.ctl_json('dead'), [])
        shown = self.show('carol@example.com')
        self.assertEqual([a['state'] for a in shown['actions']], ['done'])
        self.assertIn("(HTTP 422, 'Invalid bounce type!': it takes no soft "
                      "bounces)", shown['notice'] or '')

    def test_refused_at_the_records_uid_looks_the_address_up(self):
        # the record named dave's uid; MailWizz's refusal says nothing
        # of whose uid it is, so the address is looked up and the bounce
        # posted to the uid found on the campaign's list, whose answer
        # decides: refused again, the unsubscribe follows (it was a dead
        # letter at the first 422)
        fake = self.refusing({'bounce_save_errors': {
            'bounce_type': 'Bounce type is not allowed.'}})
        head = HEADER.rstrip('\r\n') + ',header_X-Mw-Subscriber-Uid\r\n'
        row = rec('b', 'dave@example.com', '5.1.1', 'smtp;550 5.1.1 unknown',
                  'bad-mailbox', 'mailwizz-' + CAMPAIGN).rstrip('\r\n')
        self.process(self.write_file('spool/acct/acct-uid.csv',
                                     head + row + ',sd111aa111aa1\r\n'))
        calls = ['%s %s %s' % (c['method'], c['path'], c['status'])
                 for c in fake.calls()]
        self.assertEqual(calls, [
            'POST /api/campaigns/%s/bounces 422' % CAMPAIGN,
            'GET /api/campaigns/%s 200' % CAMPAIGN,
            'GET /api/lists/subscribers/search-by-email-in-all-lists 200',
            'POST /api/campaigns/%s/bounces 422' % CAMPAIGN,
            ALL + ' 200'])
        self.assertEqual(self.ctl_json('dead'), [])
        self.assertEqual(self.status(fake)[(L1, 'dave@example.com')],
                         'unsubscribed')
        self.assertIn('Bounce type is not allowed.',
                      self.show('dave@example.com')['notice'] or '')
