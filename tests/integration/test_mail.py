"""test_mail.py - feedback reports (spool/fbl) and unsubscribe mails
(spool/unsub) through bounced process and bounced run, against the fake
MailWizz on 127.0.0.1: the exact calls each mail causes, the subscribers'
status at the fake afterwards, where each mail ends (done/ or failed/ with
its .why), and what the state says under the address or the uid: key of
a subscriber whose address the mail hid."""
import collections
import os
import shutil
import sys

from harness import DATA, EX_OK, BouncedTestCase
from test_run import RunTestCase

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
from fake import mailwizz, smtp  # noqa: E402
import email            # noqa: E402
import email.policy     # noqa: E402
import socket           # noqa: E402

PUB, PRIV = 'PUBKEY123', 'PRIVKEY456'
LIST, OTHER = 'ab123cd456ef7', 'ob123cd456ef7'
CAMPAIGN = 'cc123cd456ef7'
JANE_UID, ANON_UID = 'zz123cd456ef7', 'ww123cd456ef7'
SECRET = 'test-secret-0123456789'


def data():
    def sub(uid, email, status='confirmed'):
        return {'subscriber_uid': uid, 'email': email, 'status': status}
    return {
        'lists': [
            {'list_uid': LIST, 'name': 'news', 'subscribers': [
                sub(JANE_UID, 'jane.doe@example.net'),
                sub(ANON_UID, 'hidden@example.org'),
                sub('hh123cd456ef7', 'happy.reader@example.net')]},
            {'list_uid': OTHER, 'name': 'other', 'subscribers': [
                sub('zo123cd456ef7', 'jane.doe@example.net'),
                sub('wo123cd456ef7', 'hidden@example.org')]},
        ],
        'campaigns': [{'campaign_uid': CAMPAIGN, 'name': 'November',
                       'list_uid': LIST, 'status': 'sent'}],
    }


def routes(fake):
    return collections.Counter('%s %s' % (c['method'], c['path'])
                               for c in fake.calls())


def status(fake):
    return {(l['list_uid'], s['email']): s['status']
            for l in fake.get_data()['lists'] for s in l['subscribers']}


class MailCase(BouncedTestCase):
    def start_fake(self):
        fake = mailwizz.MailWizzFake(public_key=PUB, private_key=PRIV,
                                     data=data())
        fake.start()
        self.addCleanup(fake.stop)
        return fake

    def mw_config(self, fake, extra=''):
        self.write_config(extra=(
            '\n[provider mw]\ntype = mailwizz\nendpoint = %s/api\n'
            'public-key = %s\nprivate-key = %s\nsenders = *\n'
            'retry-min = 50ms\nretry-max = 200ms\n' % (fake.url, PUB, PRIV))
            + extra)

    def put_mail(self, kind, fixture, name=None):
        """tests/data/FIXTURE into SPOOL/KIND/new/NAME"""
        d = os.path.join(self.spool, kind, 'new')
        os.makedirs(d, exist_ok=True)
        for sub in ('tmp', 'cur'):
            os.makedirs(os.path.join(self.spool, kind, sub), exist_ok=True)
        name = name or os.path.basename(fixture)
        shutil.copyfile(os.path.join(DATA, fixture), os.path.join(d, name))
        return name

    def ls(self, sub):
        p = os.path.join(self.spool, sub)
        return sorted(os.listdir(p)) if os.path.isdir(p) else []

    def why(self, name):
        with open(os.path.join(self.spool, 'failed', name + '.why')) as f:
            return f.read()


class TestProcessMail(MailCase):
    def test_reports_and_unsubscribe_mails(self):
        fake = self.start_fake()
        self.mw_config(fake)
        self.put_mail('fbl', 'arf/yahoo.eml')          # Jane, by address
        self.put_mail('fbl', 'arf/anon_mailwizz.eml')  # hidden: uid + List-Id
        self.put_mail('fbl', 'arf/not_spam.eml')       # recorded only
        self.put_mail('fbl', 'arf/malformed_plain.eml')
        self.put_mail('unsub', 'unsub/gmail.eml')      # Jane, list + campaign
        self.put_mail('unsub', 'unsub/wrong-domain.eml')
        self.put_mail('unsub', 'unsub/malformed-uid.eml')
        res = self.process()
        self.assertIn('fbl/new (4 mails):', res.out)
        self.assertIn('unsub/new (3 mails):', res.out)

        put = 'PUT /api/lists/%s/subscribers/%s/unsubscribe'
        self.assertEqual(routes(fake), collections.Counter({
            # the complaint about Jane: every list she is on
            'GET /api/lists/subscribers/search-by-email-in-all-lists': 1,
            put % (LIST, JANE_UID): 2,          # and once by her mail
            put % (OTHER, 'zo123cd456ef7'): 1,
            # the hidden recipient: only the list and subscriber named,
            # then who it is, to record the complaint under the address
            put % (LIST, ANON_UID): 1,
            'GET /api/lists/%s/subscribers/%s' % (LIST, ANON_UID): 1,
            # the unsubscribe mail: on the campaign, then the list
            'POST /api/campaigns/%s/track-unsubscribe/%s' % (CAMPAIGN,
                                                             JANE_UID): 1,
        }))
        st = status(fake)
        self.assertEqual(st[(LIST, 'jane.doe@example.net')], 'unsubscribed')
        self.assertEqual(st[(OTHER, 'jane.doe@example.net')], 'unsubscribed')
        self.assertEqual(st[(LIST, 'hidden@example.org')], 'unsubscribed')
        # the hidden one's other list is not touched: nothing names it
        self.assertEqual(st[(OTHER, 'hidden@example.org')], 'confirmed')
        self.assertEqual(st[(LIST, 'happy.reader@example.net')], 'confirmed')
        unsubs = fake.get_data()['track_unsubscribes']
        self.assertEqual([(u['campaign_uid'], u['subscriber_uid'])
                          for u in unsubs], [(CAMPAIGN, JANE_UID)])

        self.assertEqual(self.ls('done'), [
            'fbl.anon_mailwizz.eml', 'fbl.not_spam.eml', 'fbl.yahoo.eml',
            'unsub.gmail.eml'])
        self.assertEqual(self.ls('failed'), [
            'fbl.malformed_plain.eml', 'fbl.malformed_plain.eml.why',
            'unsub.malformed-uid.eml', 'unsub.malformed-uid.eml.why',
            'unsub.wrong-domain.eml', 'unsub.wrong-domain.eml.why'])
        self.assertIn('not a feedback report', self.why('fbl.malformed_plain.eml'))
        self.assertIn("list UID 'ab123cd456e' has 11 characters",
                      self.why('unsub.malformed-uid.eml'))
        self.assertIn("'bounces.example.com' is not an unsubscribe domain",
                      self.why('unsub.wrong-domain.eml'))
        self.assertEqual(self.ls('fbl/new') + self.ls('unsub/new'), [])

        self.assertStatus('jane.doe@example.net', 'complained')
        self.assertStatus('happy.reader@example.net', 'active')
        anon = self.show('uid:mw:' + ANON_UID)
        self.assertEqual(anon['status'], 'complained')
        # the address MailWizz named for the hidden recipient
        hidden = self.show('hidden@example.org')
        self.assertEqual((hidden['status'], hidden['reason']['kind'],
                          hidden['reason']['category']),
                         ('complained', 'arf', 'abuse'))
        self.assertEqual([(a['provider'], a['state']) for a in anon['actions']],
                         [('mw', 'done')])
        mail = self.show('uid:mw:' + JANE_UID)
        self.assertEqual(mail['status'], 'unsubscribed')
        # the From address and the subject of the unsubscribe mail are kept
        self.assertEqual(mail['reason']['orig'], 'jane.doe@gmail.example')
        self.assertIn('subject: unsubscribe', mail['reason']['dsn_diag'])
        self.assertEqual(self.ctl_json('queue'), [])
        self.assertEqual(self.ctl_json('dead'), [])

        # a second run finds nothing to do and calls nothing
        n = len(fake.calls())
        self.process()
        self.assertEqual(len(fake.calls()), n)

    def test_every_report_shape(self):
        """each fixture of tests/data/arf through the worker's path, with
        no provider: who is recorded as what"""
        for name in sorted(os.listdir(os.path.join(DATA, 'arf'))):
            self.put_mail('fbl', 'arf/' + name)
        self.write_config(bounced={'drop-max-size': '1048576'})
        # a report far larger than drop-max-size is refused, not read
        big = os.path.join(self.spool, 'fbl', 'new', 'huge.eml')
        with open(os.path.join(DATA, 'arf', 'yahoo.eml'), 'rb') as f:
            head = f.read()
        with open(big, 'wb') as f:
            f.write(head + b'\r\n' + b'x' * 76 + b'\r\n' * 1)
            f.write((b'y' * 76 + b'\r\n') * 20000)
        self.process()
        self.assertEqual(self.statuses(), {
            'complainer@outlook.example.com': 'complained',   # JMRP
            'first@example.net': 'complained',                # several
            'second@example.org': 'complained',
            'third+tag@example.com': 'complained',
            'happy.reader@example.net': 'active',             # not-spam
            'ivan.petrov@example.org': 'complained',          # mail.ru
            'jane.doe@example.net': 'complained',             # Yahoo
            'jos\u00e9@example.fr': 'complained',             # 8-bit
            'lonely@example.net': 'complained',
            'reader@example.fr': 'complained',
            'uid:iem:12:48213': 'complained',                 # anonymised
            'uid:mw:vv123cd456ef7': 'complained',
            'uid:mw:ww123cd456ef7': 'complained',
        })
        self.assertEqual(self.ls('failed'), [
            'fbl.huge.eml', 'fbl.huge.eml.why', 'fbl.malformed_plain.eml',
            'fbl.malformed_plain.eml.why'])
        self.assertIn('more than drop-max-size', self.why('fbl.huge.eml'))
        # a DMARC failure report is no complaint, of no one
        self.assertEqual(self.ls('ignored'), ['fbl.auth_failure.eml',
                                              'fbl.auth_failure.eml.why'])

    def test_complaint_blacklist(self):
        """complaint-action = blacklist: the complaint also becomes a hard
        bounce on the reported campaign (the report named the subscriber:
        one POST), and MailWizz blacklists the address"""
        fake = self.start_fake()
        self.mw_config(fake, extra='complaint-action = blacklist\n')
        self.put_mail('fbl', 'arf/yahoo.eml')
        self.process()
        posts = [(c['path'], c['parsed']['bounce_type'],
                  c['parsed']['subscriber_uid'])
                 for c in fake.calls() if c['method'] == 'POST']
        self.assertEqual(posts, [('/api/campaigns/%s/bounces' % CAMPAIGN,
                                  'hard', JANE_UID)])
        self.assertEqual(fake.get_data()['blacklist'],
                         ['jane.doe@example.net'])
        acts = self.show('jane.doe@example.net')['actions']
        self.assertEqual(sorted((a['op'], a['state']) for a in acts),
                         [('bounce', 'done'), ('complaint', 'done')])

    def test_form_naming_the_campaign(self):
        """an address form with the campaign instead of the list: the list
        is the campaign's (asked once), the unsubscribe recorded on it"""
        fake = self.start_fake()
        self.mw_config(fake, extra=(
            '\n[unsubscribe]\naddresses = u-[SUBSCRIBER_UID]-[CAMPAIGN_UID]'
            '@fbl-unsub.example.com\n'))
        name = self.put_mail('unsub', 'unsub/gmail.eml', 'c1')
        path = os.path.join(self.spool, 'unsub', 'new', name)
        with open(path, 'rb') as f:
            data = f.read()
        data = data.replace(
            ('%s.%s.%s@' % (JANE_UID, LIST, CAMPAIGN)).encode(),
            ('u-%s-%s@' % (JANE_UID, CAMPAIGN)).encode())
        with open(path, 'wb') as f:
            f.write(data)
        self.process()
        self.assertEqual(routes(fake), collections.Counter({
            'GET /api/campaigns/%s' % CAMPAIGN: 1,
            'POST /api/campaigns/%s/track-unsubscribe/%s' % (CAMPAIGN,
                                                             JANE_UID): 1,
            'PUT /api/lists/%s/subscribers/%s/unsubscribe' % (LIST,
                                                              JANE_UID): 1}))
        self.assertEqual(self.ls('done'), ['unsub.c1'])

    def test_signed_addresses(self):
        fake = self.start_fake()
        self.mw_config(fake, extra=(
            '\n[unsubscribe]\naddresses = [SUBSCRIBER_UID].[LIST_UID].'
            '[CAMPAIGN_UID].[SIGNATURE]@fbl-unsub.example.com\n'
            'secret = %s\n' % SECRET))
        self.put_mail('unsub', 'unsub/signed.eml')
        self.put_mail('unsub', 'unsub/forged-signature.eml')
        self.put_mail('unsub', 'unsub/gmail.eml')    # unsigned: refused
        self.process()
        self.assertEqual(self.ls('done'), ['unsub.signed.eml'])
        self.assertIn('signature', self.why('unsub.forged-signature.eml'))
        self.assertIn('unsub.gmail.eml', self.ls('failed'))
        self.assertEqual(routes(fake)['PUT /api/lists/%s/subscribers/%s/'
                                      'unsubscribe' % (LIST, JANE_UID)], 1)

    def test_crash_between_commit_and_move(self):
        """a mail whose events were committed but which is still in new/
        (a crash before the move) is moved, not applied again"""
        fake = self.start_fake()
        self.mw_config(fake)
        name = self.put_mail('fbl', 'arf/yahoo.eml')
        self.process()
        calls = len(fake.calls())
        # put the same file back where it was, as if the move was lost
        os.rename(os.path.join(self.spool, 'done', 'fbl.' + name),
                  os.path.join(self.spool, 'fbl', 'new', name))
        res = self.process()
        self.assertEqual(len(fake.calls()), calls)
        self.assertEqual(self.ls('done'), ['fbl.' + name])
        # the mail counts as seen, but gives no record again
        self.assertIn('fbl/new (1 mails): 0 records', res.out)
        self.assertEqual(self.show('jane.doe@example.net')['counts'],
                         {'hard': 0, 'soft': 0, 'complaint': 1, 'unsub': 0,
                          'delivery': 0, 'duplicate': 0, 'other': 0})


class TestFeedbackRecords(MailCase):
    """f records of PowerMTA's feedback-loop processor with the header_*
    columns of the reported mail (contrib/pmta-acct.conf)."""

    def test_header_columns(self):
        fake = self.start_fake()
        self.mw_config(fake)
        head = ('type,timeLogged,feedbackType,format,rcpt,reportedDomain,'
                'header_X-HmXmrOriginalRecipient,header_List-Id,'
                'header_X-Mw-Subscriber-Uid,header_X-Mailer-LID,'
                'header_X-Mailer-RecptId,header_Subject\r\n')
        rows = [
            # Microsoft: rcpt empty, the original recipient in the header
            'f,2026-11-24 08:00:00+0000,abuse,jmrp,,hotmail.example,'
            'Jane.Doe@example.net,,,,,Spring offers\r\n',
            # anonymised: only the MailWizz ids of the reported mail
            'f,2026-11-24 08:01:00+0000,abuse,arf,,yahoo.example,,'
            '"%s <Weekly news>",%s,,,Weekly\r\n' % (LIST, ANON_UID),
            # anonymised Interspire ids: recorded, no MailWizz call
            'f,2026-11-24 08:02:00+0000,abuse,arf,,aol.example,,,,12,345,'
            'x\r\n',
            # not-spam: recorded only
            'f,2026-11-24 08:03:00+0000,not-spam,arf,'
            'happy.reader@example.net,yahoo.example,,,,,,x\r\n',
            # nothing names anyone: ignored
            'f,2026-11-24 08:04:00+0000,abuse,arf,,yahoo.example,,,,,,x\r\n',
        ]
        path = self.write_file('spool/acct/acct-f.csv', head + ''.join(rows))
        s = self.process_summary(path)
        self.assertEqual((s['records'], s['complaints'], s['ignored']),
                         (5, 3, 2))
        put = 'PUT /api/lists/%s/subscribers/%s/unsubscribe'
        self.assertEqual(routes(fake), collections.Counter({
            'GET /api/lists/subscribers/search-by-email-in-all-lists': 1,
            put % (LIST, JANE_UID): 1,
            put % (OTHER, 'zo123cd456ef7'): 1,
            put % (LIST, ANON_UID): 1,
            'GET /api/lists/%s/subscribers/%s' % (LIST, ANON_UID): 1}))
        self.assertStatus('jane.doe@example.net', 'complained')
        self.assertStatus('hidden@example.org', 'complained')
        self.assertEqual(self.show('uid:mw:' + ANON_UID)['status'],
                         'complained')
        iem = self.show('uid:iem:12:345')
        self.assertEqual((iem['status'], iem['actions']), ('complained', []))
        self.assertStatus('happy.reader@example.net', 'active')
        self.assertEqual(self.ctl_json('dead'), [])


class TestRunMail(RunTestCase, MailCase):
    def test_drop_then_acted_on(self):
        fake = self.start_fake()
        self.mw_config(fake)
        p = self.start()
        with open(os.path.join(DATA, 'arf', 'yahoo.eml'), 'rb') as f:
            res = self.run_bounced('drop', 'fbl', '--from', 'fbl@yahoo.example',
                                   '--to', 'abuse@fbl.example.com',
                                   stdin=f.read())
        self.assertEqual(res.rc, EX_OK, res)
        with open(os.path.join(DATA, 'unsub', 'gmail.eml'), 'rb') as f:
            res = self.run_bounced(
                'drop', 'unsub', '--from', 'jane.doe@gmail.example', '--to',
                '%s.%s.%s@fbl-unsub.example.com' % (JANE_UID, LIST, CAMPAIGN),
                stdin=f.read())
        self.assertEqual(res.rc, EX_OK, res)
        self.wait_for(lambda: len(self.ls('done')) == 2 and
                      not self.queue(), 20, 'mails not taken: %s' % (
                          self.log(p)[-2000:],))
        rc, _ = self.stop(p)
        self.assertEqual(rc, 0)
        st = status(fake)
        self.assertEqual(st[(LIST, 'jane.doe@example.net')], 'unsubscribed')
        self.assertEqual(st[(OTHER, 'jane.doe@example.net')], 'unsubscribed')
        self.assertEqual(len(fake.get_data()['track_unsubscribes']), 1)
        self.assertTrue(all(n.startswith(('fbl.', 'unsub.'))
                            for n in self.ls('done')))
        self.assertIn('fbl/new/', self.log(p))


FROM, TO = 'bounced@mx1.example.com', 'postmaster@example.com'


class NotifyCase(MailCase):
    def start_smtp(self, **kw):
        f = smtp.SmtpFake(**kw).start()
        self.addCleanup(f.stop)
        return f

    def both_config(self, fake, mta, mode='digest', interval='15m'):
        self.mw_config(fake, extra=(
            '\n[notify]\nsmtp = %s\nfrom = %s\nto = %s\nmode = %s\n'
            'digest-interval = %s\nweb-url = https://mw.example.com\n'
            'ca-file = %s\n' % (mta.url, FROM, TO, mode, interval,
                                 smtp.CERT)))

    def text_of(self, m):
        msg = email.message_from_bytes(m['data'], policy=email.policy.default)
        parts = list(msg.iter_parts())
        return msg, parts[0].get_content().replace('\r\n', '\n'), \
            parts[1].get_content()


class TestNotifyDigest(NotifyCase):
    def test_process_mails_one_digest(self):
        fake, mta = self.start_fake(), self.start_smtp()
        self.both_config(fake, mta)
        self.put_mail('fbl', 'arf/yahoo.eml')
        self.put_mail('fbl', 'arf/anon_mailwizz.eml')
        self.put_mail('fbl', 'arf/not_spam.eml')       # not a complaint
        self.put_mail('unsub', 'unsub/gmail.eml')
        res = self.process()
        self.assertIn('notify: mailed 3 items', res.out)
        msgs = mta.messages()
        self.assertEqual(len(msgs), 1)
        self.assertEqual(msgs[0]['mail_from'], FROM)
        self.assertEqual(msgs[0]['rcpts'], [TO])
        msg, text, html = self.text_of(msgs[0])
        self.assertEqual(msg['Subject'], 'bounced: 2 complaints, 1 '
                         'unsubscribe on %s' % socket.gethostname())
        for want in ('jane.doe@example.net', 'uid:mw:' + ANON_UID,
                     'uid:mw:' + JANE_UID, 'Spring offers inside',
                     'Feedback type: abuse', 'mw: complaint done',
                     'mw: unsubscribe done', CAMPAIGN):
            self.assertIn(want, text)
        self.assertNotIn('happy.reader', text)
        # the campaign's details, asked of MailWizz once for both items
        self.assertIn('November', text)
        self.assertIn('news', text)
        self.assertEqual(routes(fake)['GET /api/campaigns/%s' % CAMPAIGN], 1)
        # links into MailWizz for the campaign the report names
        self.assertIn('https://mw.example.com/customer/campaigns/%s/overview'
                      % CAMPAIGN, html)
        # sent once: a second run has nothing to mail
        res = self.process()
        self.assertNotIn('notify:', res.out)
        self.assertEqual(len(mta.messages()), 1)

    def test_failed_send_keeps_the_items(self):
        fake = self.start_fake()
        mta = self.start_smtp(fail_code=451, fail_at='MAIL', fail_count=1)
        self.both_config(fake, mta)
        self.put_mail('fbl', 'arf/yahoo.eml')
        res = self.process()
        self.assertNotIn('notify: mailed', res.out)
        self.assertIn('451', res.err)
        self.assertEqual(mta.messages(), [])
        self.assertEqual(self.ctl_json('stats')['notify_queued'], 1)
        res = self.process()            # nothing new: the queue is sent
        self.assertIn('notify: mailed 1 items', res.out)
        self.assertEqual(self.ctl_json('stats')['notify_queued'], 0)
        _, text, _ = self.text_of(mta.messages()[0])
        self.assertIn('jane.doe@example.net', text)


class TestNotifyRun(RunTestCase, NotifyCase):
    def test_event_mode_mails_each(self):
        fake, mta = self.start_fake(), self.start_smtp()
        self.both_config(fake, mta, mode='event')
        p = self.start()
        self.put_mail('unsub', 'unsub/gmail.eml', 'm1')
        self.put_mail('fbl', 'arf/yahoo.eml', 'm2')
        self.wait_for(lambda: len(mta.messages()) == 2, 20,
                      'no mails: %s' % self.log(p)[-2000:])
        rc, _ = self.stop(p)
        self.assertEqual(rc, 0)
        subjects = sorted(self.text_of(m)[0]['Subject']
                          for m in mta.messages())
        host = socket.gethostname()
        self.assertEqual(subjects, ['bounced: 1 complaint on %s' % host,
                                    'bounced: 1 unsubscribe on %s' % host])
