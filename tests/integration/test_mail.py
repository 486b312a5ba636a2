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

from harness import (DATA, EX_OK, EX_NOINPUT, EX_NOUSER, SLOW,
                     BouncedTestCase, RunTestCase)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
from fake import mailwizz, smtp  # noqa: E402
import email            # noqa: E402
import email.utils      # noqa: E402
import errno            # noqa: E402
import email.policy     # noqa: E402
import socket           # noqa: E402
import time             # noqa: E402

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


ALL = 'PUT /api/lists/subscribers/unsubscribe-by-email-from-all-lists'


DSN, AUTO, AUTH, FWD = (
    'a delivery-status notification (a bounce), not a feedback report: ',
    'an auto-reply, not a feedback report: ',
    'an authentication or fraud report (DMARC, auth-failure, fraud, virus, '
    'TLS), not a complaint: ',
    'a forwarded mail, not a feedback report: ')
HIDDEN = ('the report names no recipient (hidden or hashed) and no subscriber '
          '(X-Mw-Subscriber-Uid, or X-Mailer-LID with X-Mailer-RecptId, in '
          'the reported mail)')
NOBODY = HIDDEN.replace(' (hidden or hashed)', '')
UNREAD = HIDDEN.replace('hidden or hashed', 'Original-Rcpt-To holds no '
                        'address that can be read')
FRAUD = ('Feedback-Type: fraud (a phishing report: about a mail that may '
         'only have forged our domain)')

# what each mail of tests/data/arf gives with the embedded defaults:
# ('complaint', [keys], time of the complaint), ('recorded', [keys]),
# ('ignored', kind, the reason in its .why), ('failed', the reason)
SHAPES = {
    # feedback reports
    'yahoo.eml': ('complaint', ['jane.doe@example.net'],
                  '2024-03-05T09:58:02Z'),
    'mailru.eml': ('complaint', ['ivan.petrov@example.org']),
    'jmrp.eml': ('complaint', ['complainer@outlook.example.com'],
                 '2024-03-07T20:30:00Z'),
    'jmrp_bare.eml': ('complaint', ['rosa.gil@outlook.example.com'],
                      '2024-03-11T07:58:37Z'),
    'jmrp_headers.eml': ('complaint', ['lena.kowalski@outlook.example.com'],
                         '2024-03-14T16:15:00Z'),
    'aol_tos.eml': ('complaint', ['greg.h@aol.example']),
    'multi_rcpt.eml': ('complaint', ['first@example.net', 'second@example.org',
                                     'third+tag@example.com']),
    # two addresses in one Original-Rcpt-To, comma-separated: each named
    'rcpt_list.eml': ('complaint', ['carol.list@example.net',
                                    'dan.list@example.org'],
                      '2024-03-12T11:28:00Z'),
    'encoded.eml': ('complaint', ['jos\u00e9@example.fr']),
    'raw8bit.eml': ('complaint', ['reader@example.fr']),
    'report_only.eml': ('complaint', ['lonely@example.net']),
    'not_ours.eml': ('complaint', ['dave@example.net']),
    'to_single.eml': ('complaint', ['carla.souza@isp.example'],
                      '2024-03-11T11:22:40Z'),
    'cr_only.eml': ('complaint', ['chris.ray@example.net'],
                    '2024-03-11T07:05:00Z'),
    'mixed_endings.eml': ('complaint', ['mia.lopez@example.net'],
                          '2024-03-11T07:06:00Z'),
    'date_only.eml': ('complaint', ['omar.f@example.net'],
                      '2024-03-11T08:30:00Z'),
    'not_spam.eml': ('recorded', ['happy.reader@example.net']),
    # an outgoing filter's verdict (SpamExperts' ARF): nobody complained
    'filter_verdict.eml': ('recorded', ['kept.reader@example.net']),
    # the ARF drafts' opt-out: Removal-Recipient taken off the lists
    'optout_removal.eml': ('unsubscribe', ['leaving.reader@example.net'],
                           '2024-03-13T09:59:30Z'),
    # the recipient hidden: the subscriber the reported mail names
    'anon_mailwizz.eml': ('complaint', ['uid:mw:ww123cd456ef7']),
    'anon_interspire.eml': ('complaint', ['uid:iem:12:48213']),
    # a campaign sent to three lists: X-Mailer-LID names them all
    'anon_interspire_lists.eml': ('complaint', ['uid:iem:2,24,12:48213']),
    'gmail.eml': ('complaint', ['uid:mw:vv123cd456ef7']),
    'hashed_mw.eml': ('complaint', ['uid:mw:hh123cd456ef7'],
                      '2024-03-11T15:20:01Z'),
    'hashed_iem.eml': ('complaint', ['uid:iem:7:90210']),
    'hashed_word.eml': ('complaint', ['uid:mw:rk123cd456ef7']),
    'to_own_list.eml': ('complaint', ['uid:mw:ol123cd456ef7']),
    'to_many.eml': ('complaint', ['uid:mw:tm123cd456ef7']),
    # the original's headers as text/rfc822-header (the drafts' spelling)
    'headers_singular.eml': ('complaint', ['uid:mw:hs123cd456ef7'],
                             '2024-03-12T10:11:12Z'),
    'hashed_plain.eml': ('failed', HIDDEN),
    'masked_rcpt.eml': ('failed', HIDDEN),
    'to_is_sender.eml': ('failed', NOBODY),
    # a list whose quote is never closed: its members cannot be told
    # apart, so it names nobody, and says so
    'rcpt_list_unsplit.eml': ('failed', UNREAD),
    'malformed_plain.eml': ('failed', 'not a feedback report: no '
                            'message/feedback-report part and no attached '
                            'original message'),
    # bounces
    'dsn_postfix.eml': ('ignored', 'dsn', DSN + 'multipart/report; '
                        'report-type=delivery-status'),
    'dsn_postfix_cr.eml': ('ignored', 'dsn', DSN + 'multipart/report; '
                           'report-type=delivery-status'),
    'dsn_sendmail.eml': ('ignored', 'dsn', DSN + 'multipart/report; '
                         'report-type=delivery-status'),
    'dsn_exim.eml': ('ignored', 'dsn', DSN + 'X-Failed-Recipients'),
    'dsn_exim_inline.eml': ('ignored', 'dsn', DSN + 'X-Failed-Recipients'),
    'dsn_exchange.eml': ('ignored', 'dsn', DSN + 'multipart/report; '
                         'report-type=delivery-status'),
    'dsn_office365.eml': ('ignored', 'dsn', DSN + 'multipart/report; '
                          'report-type=delivery-status'),
    'dsn_gmail.eml': ('ignored', 'dsn', DSN + 'multipart/report; '
                      'report-type=delivery-status'),
    'dsn_workspace.eml': ('ignored', 'dsn', DSN + 'multipart/report; '
                          'report-type=delivery-status'),
    'dsn_yahoo.eml': ('ignored', 'dsn', DSN + 'From mailer-daemon@yahoo.example'),
    # a small MTA's plain bounce (it failed as no report)
    'dsn_plain_mail_error.eml': ('ignored', 'dsn', DSN + "Subject 'mail "
                                 "error...'"),
    'dsn_ses.eml': ('ignored', 'dsn', DSN + 'multipart/report; '
                    'report-type=delivery-status'),
    'dsn_yandex.eml': ('ignored', 'dsn', DSN + 'multipart/report; '
                       'report-type=delivery-status'),
    'dsn_qmail.eml': ('ignored', 'dsn',
                      DSN + 'From mailer-daemon@mail.example.org'),
    'dsn_global.eml': ('ignored', 'dsn', DSN + 'multipart/report; '
                       'report-type=global-delivery-status'),
    # auto-replies, read receipts
    'autoreply_outlook.eml': ('ignored', 'auto-reply',
                              AUTO + 'Auto-Submitted: auto-generated'),
    'autoreply_vacation.eml': ('ignored', 'auto-reply',
                               AUTO + "Subject 'abwesenheit...'"),
    'autoreply_attached.eml': ('ignored', 'auto-reply',
                               AUTO + 'Auto-Submitted: auto-replied'),
    # no Auto-Submitted: an automated answer's Precedence, or an
    # out-of-office notice's words under a plain "Re:" (they failed)
    'autoreply_precedence.eml': ('ignored', 'auto-reply',
                                 AUTO + 'Precedence: junk'),
    'autoreply_body.eml': ('ignored', 'auto-reply',
                           AUTO + "text 'i am out of the office'"),
    'mdn_read_receipt.eml': ('ignored', 'auto-reply', AUTO + 'a read receipt '
                             '(disposition-notification)'),
    # DMARC, authentication and TLS reports
    'auth_failure.eml': ('ignored', 'auth-report',
                         AUTH + 'Feedback-Type: auth-failure'),
    'dmarc_failure_arf.eml': ('ignored', 'auth-report',
                              AUTH + 'Feedback-Type: auth-failure'),
    'dmarc_failure_plain.eml': ('ignored', 'auth-report', AUTH + 'Subject '
                                'names DMARC (a DMARC report)'),
    'dmarc_aggregate.eml': ('ignored', 'auth-report', AUTH + "Subject "
                            "'Report Domain: ...' (a DMARC aggregate report)"),
    'tlsrpt.eml': ('ignored', 'auth-report', AUTH + 'multipart/report; '
                   'report-type=tlsrpt (an SMTP TLS report)'),
    # fraud (phishing) and virus reports, about mail in our name: its
    # recipient did not complain about our mail (the phished reader of a
    # DMARC failure report sent as fraud was marked complained)
    'fraud_dmarc.eml': ('ignored', 'auth-report', AUTH + FRAUD),
    'fraud_phish.eml': ('ignored', 'auth-report', AUTH + FRAUD),
    'virus.eml': ('ignored', 'auth-report', AUTH + 'Feedback-Type: virus '
                  '(a filter found a virus in a mail that may only have '
                  'forged our domain)'),
    # forwards
    'forward_attached.eml': ('ignored', 'forward',
                             FWD + 'an attached message and no feedback '
                             'report'),
    'forward_complaint.eml': ('ignored', 'forward',
                              FWD + 'an attached message and no feedback '
                              'report'),
    'forward_inline.eml': ('ignored', 'forward', FWD + "Subject 'fwd: ...'"),
}


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

    def stuck_in_new(self, name):
        """the environment under which the mail NAME ('unsub/new/1.x')
        cannot leave new/ (EXDEV, as from another filesystem:
        fail_rename.so)"""
        return {'LD_PRELOAD': os.path.join(self.build, 'tests',
                                           'fail_rename.so'),
                'BOUNCED_TEST_FAIL_RENAME': name}

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
            # the complaint about Jane: every list she is on, in one call;
            # the hidden recipient: the list and subscriber named, then
            # who it is, and that address everywhere as any complaint
            ALL: 2,
            put % (LIST, JANE_UID): 1,          # by her unsubscribe mail
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
        # once named, the hidden one is a complaint like any other
        self.assertEqual(st[(OTHER, 'hidden@example.org')], 'unsubscribed')
        self.assertEqual(st[(LIST, 'happy.reader@example.net')], 'confirmed')
        # Jane's unsubscribe mail was told to the campaign; MailWizz keeps
        # such a record only for a subscriber still confirmed, so whether
        # it stays depends on which of the two calls, sent side by side,
        # the server took first: at most hers, never anyone else's
        self.assertIn([t['subscriber_uid'] for t in
                       fake.get_data()['track_unsubscribes']],
                      ([], [JANE_UID]))

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
        # resend takes the key as show does, in any case; a malformed
        # one is a usage error
        res = self.run_ctl('resend', '-n', 'uid:mw:' + ANON_UID.upper())
        self.assertEqual(res.rc, 0, res)
        self.assertIn('1 suppressed records looked at', res.out)
        self.assertEqual(self.run_ctl('resend', '-n', 'uid:mw:a/b').rc, 64)
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
        the embedded defaults (no provider, no [fbl] senders: every report
        is taken as about our mail): exactly who complained, from which
        mail and when, and what every other mail is"""
        names = sorted(os.listdir(os.path.join(DATA, 'arf')))
        self.assertEqual(names, sorted(SHAPES),
                         'every fixture has its outcome in SHAPES')
        for name in names:
            self.put_mail('fbl', 'arf/' + name)
        self.write_config(bounced={'drop-max-size': '1048576'})
        # a report far larger than drop-max-size is refused, not read
        big = os.path.join(self.spool, 'fbl', 'new', 'huge.eml')
        with open(os.path.join(DATA, 'arf', 'yahoo.eml'), 'rb') as f:
            head = f.read()
        with open(big, 'wb') as f:
            f.write(head + b'\r\n' + b'x' * 76 + b'\r\n' * 1)
            f.write((b'y' * 76 + b'\r\n') * 20000)
        res = self.process()

        want_status, want_failed, want_ignored = {}, ['fbl.huge.eml'], []
        for name, (what, *arg) in SHAPES.items():
            if what in ('complaint', 'recorded', 'unsubscribe'):
                for key in arg[0]:
                    want_status[key] = {'complaint': 'complained',
                                        'recorded': 'active',
                                        'unsubscribe': 'unsubscribed'}[what]
            elif what == 'failed':
                want_failed.append('fbl.' + name)
            else:
                want_ignored.append('fbl.' + name)
        self.assertEqual(self.statuses(), want_status)
        self.assertEqual(self.ls('failed'), sorted(
            want_failed + [n + '.why' for n in want_failed]))
        self.assertEqual(self.ls('ignored'), sorted(
            want_ignored + [n + '.why' for n in want_ignored]))
        self.assertEqual(self.ls('fbl/new'), [])
        self.assertIn('more than drop-max-size', self.why('fbl.huge.eml'))
        for name, (what, *arg) in SHAPES.items():
            with self.subTest(name=name):
                if what in ('complaint', 'unsubscribe'):
                    for key in arg[0]:
                        reason = self.show(key)['reason']
                        self.assertEqual(os.path.basename(reason['source']),
                                         name)
                        self.assertEqual(reason['kind'], 'arf')
                        if len(arg) > 1:
                            self.assertEqual(reason['time'], arg[1])
                elif what == 'failed':
                    self.assertIn('why: ' + arg[0], self.why('fbl.' + name))
                elif what == 'ignored':
                    with open(os.path.join(self.spool, 'ignored', 'fbl.' +
                                           name + '.why')) as f:
                        why = f.read()
                    self.assertIn('why: %s\n' % arg[1], why)
                    self.assertIn('what to do: nothing', why)
        # counted per kind: the run's summary and the state's counters
        self.assertIn('fbl/new set aside: 15 dsn, 6 auto-reply, 8 auth-report, '
                      '3 forward (moved to ignored/)\n', res.out)
        counters = self.ctl_json('stats')['counters']
        self.assertEqual({k: v for k, v in counters.items()
                          if k.startswith('fbl_')},
                         {'fbl_dsn': 15, 'fbl_autoreply': 6,
                          'fbl_authreport': 8, 'fbl_forward': 3,
                          'fbl_notours': 0})
        self.assertEqual(counters['complaint'], 29)
        # a second run takes nothing again and counts nothing again
        res = self.process()
        self.assertNotIn('set aside', res.out)
        self.assertEqual(self.ctl_json('stats')['counters']['fbl_dsn'], 15)

    def test_spool_of_maildirs_only(self):
        """no acct/ in the spool is no error while a maildir is there; a
        spool with none of them is, naming what is missing"""
        shutil.rmtree(os.path.join(self.spool, 'acct'))
        self.put_mail('fbl', 'arf/date_only.eml', 'm1')
        res = self.process()
        self.assertIn('fbl/new (1 mails)', res.out)
        self.assertNotIn('cannot read', res.err)
        self.assertEqual(self.show('omar.f@example.net')['status'],
                         'complained')
        self.assertEqual(self.ls('fbl/new'), [])
        shutil.rmtree(self.spool)
        os.makedirs(self.spool)
        res = self.run_bounced('process')
        self.assertRc(res, EX_NOINPUT)
        self.assertIn('holds no acct/, fbl/new or unsub/new', res.err)

    def test_report_dates(self):
        """the complaint's time is the report's, not the processing time;
        a date far after the mail arrived is not believed"""
        d = os.path.join(self.spool, 'fbl', 'new')
        with open(os.path.join(DATA, 'arf', 'date_only.eml'), 'rb') as f:
            data = f.read()
        self.put_mail('fbl', 'arf/date_only.eml', 'm1')
        self.put_mail('fbl', 'arf/cr_only.eml', 'm2')
        ahead = data.replace(b'Mon, 11 Mar 2024 08:30:00 +0000',
                             b'Fri, 01 Jan 2100 00:00:00 +0000')
        self.assertNotEqual(ahead, data)
        with open(os.path.join(d, 'm3'), 'wb') as f:
            f.write(ahead.replace(b'omar.f@', b'later@'))
        arrived = 1710201600        # 2024-03-12T00:00:00Z
        for n in ('m1', 'm2', 'm3'):
            os.utime(os.path.join(d, n), (arrived, arrived))
        self.process()
        self.assertEqual(self.show('omar.f@example.net')['reason']['time'],
                         '2024-03-11T08:30:00Z')         # Date
        self.assertEqual(self.show('chris.ray@example.net')['reason']['time'],
                         '2024-03-11T07:05:00Z')         # Arrival-Date
        self.assertEqual(self.show('later@example.net')['reason']['time'],
                         '2024-03-12T00:00:00Z')         # when it arrived

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
        # one action: the bounce first, then the unsubscribe everywhere,
        # so that the blacklisting still finds the subscriber confirmed
        acts = self.show('jane.doe@example.net')['actions']
        self.assertEqual(sorted((a['op'], a['state']) for a in acts),
                         [('complaint', 'done')])
        self.assertEqual(routes(fake)[ALL], 1)
        self.assertEqual(set(status(fake).get((l, 'jane.doe@example.net'))
                             for l in (LIST, OTHER)), {'unsubscribed'})

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

    def test_dry_run_says_what_is_asked(self):
        """with no provider each suppression is logged as what a provider
        would be asked: an address everywhere, the subscriber of an
        unsubscribe mail on its list only"""
        self.put_mail('unsub', 'unsub/gmail.eml')
        self.put_mail('fbl', 'arf/yahoo.eml')
        self.put_mail('fbl', 'arf/anon_mailwizz.eml')
        res = self.process()
        log = res.out + res.err
        self.assertIn('dry-run: unsubscribe uid:mw:%s from its list: '
                      'unsubscribe mail, ' % JANE_UID, log)
        self.assertIn('dry-run: unsubscribe jane.doe@example.net '
                      'everywhere: complaint (abuse), ', log)
        self.assertIn('dry-run: unsubscribe uid:mw:%s from its list, and '
                      'its address everywhere once a provider names it: '
                      'complaint (abuse), ' % ANON_UID, log)
        self.assertNotIn('uid:mw:%s everywhere' % JANE_UID, log)

    def test_envelope_only_from_the_first_lines(self):
        """an X-Bounced-Envelope-To the mail itself carries below its first
        lines is not the envelope: the first Delivered-To names the
        subscriber (Jane), not the header's (qq...)"""
        fake = self.start_fake()
        self.mw_config(fake)
        self.put_mail('unsub', 'unsub/late-envelope.eml')
        self.process()
        self.assertEqual(self.ls('done'), ['unsub.late-envelope.eml'])
        self.assertEqual(routes(fake), collections.Counter({
            'POST /api/campaigns/%s/track-unsubscribe/%s' % (CAMPAIGN,
                                                             JANE_UID): 1,
            'PUT /api/lists/%s/subscribers/%s/unsubscribe' % (LIST,
                                                              JANE_UID): 1}))
        self.assertEqual(status(fake)[(LIST, 'jane.doe@example.net')],
                         'unsubscribed')
        self.assertEqual(self.show('uid:mw:' + JANE_UID)['status'],
                         'unsubscribed')

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


class TestMailDeliveredTwice(MailCase):
    def test_the_same_mail_twice_counts_once(self):
        """PowerMTA delivers a report to drop again (its first drop
        failed late, or its pipe timed out after the mail was stored):
        the same bytes under another name are the mail taken already,
        moved on, not counted again"""
        self.write_config()
        self.put_mail('fbl', 'arf/yahoo.eml', 'a.1')
        self.put_mail('fbl', 'arf/yahoo.eml', 'a.2')
        res = self.process()
        self.assertIn('fbl/new (2 mails): 1 records', res.out)
        self.assertEqual(self.ls('fbl/new'), [])
        self.assertEqual(sorted(self.ls('done')), ['fbl.a.1', 'fbl.a.2'])
        st = self.ctl_json('stats')
        self.assertEqual(st['counters'].get('complaint'), 1)
        self.assertEqual(st['status']['complained'], 1)


class TestProcessMailStuck(MailCase):
    def test_mail_that_cannot_leave_new(self):
        """bounced process: a mail taken whose move out of new/ fails
        (EXDEV: fail_rename.so) stays in new/, exit 66 with a line on
        stderr, and what it asked of the provider is sent; the next run
        moves it without taking it again"""
        fake = self.start_fake()
        self.mw_config(fake)
        self.put_mail('unsub', 'unsub/gmail.eml', '1.stuck.eml')
        self.extra_env = self.stuck_in_new('unsub/new/1.stuck')
        res = self.process(rc=EX_NOINPUT)
        self.assertIn('unsub/new: 1 mail could not be read or moved and '
                      'stays there for the next run', res.err)
        self.assertIn('1.stuck.eml', self.ls('unsub/new'))
        self.assertEqual(status(fake)[(LIST, 'jane.doe@example.net')],
                         'unsubscribed')
        calls = len(fake.calls())
        self.extra_env = {}
        res = self.process()
        self.assertEqual(self.ls('unsub/new'), [])
        self.assertIn('unsub.1.stuck.eml', self.ls('done'))
        self.assertEqual(len(fake.calls()), calls)


class TestFblSenders(MailCase):
    """[fbl] senders: reports about another sender's mail are set aside;
    nothing that is no report reaches MailWizz, even when it carries the
    MailWizz headers of our mail"""

    def test_only_our_reports_reach_mailwizz(self):
        fake = self.start_fake()
        # the provider's "senders = *" routes every bounce to it; with
        # [fbl] senders set it says nothing about which reports are ours
        self.mw_config(fake, extra='\n[fbl]\nsenders = *@news.example.com\n')
        for name in ('dsn_postfix.eml', 'dsn_exim.eml', 'dsn_yahoo.eml',
                     'dsn_office365.eml', 'autoreply_attached.eml',
                     'forward_attached.eml', 'forward_complaint.eml',
                     'mdn_read_receipt.eml', 'not_ours.eml',
                     'report_only.eml', 'yahoo.eml', 'hashed_mw.eml'):
            self.put_mail('fbl', 'arf/' + name)
        res = self.process()
        self.assertIn('fbl/new set aside: 4 dsn, 2 auto-reply, 2 forward, '
                      '2 not-ours (moved to ignored/)', res.out)
        put = 'PUT /api/lists/%s/subscribers/%s/unsubscribe'
        # the two complaints about our mail, nothing else
        self.assertEqual(routes(fake), collections.Counter({
            # Jane, and the address named for the hashed recipient: every
            # list, one call each
            ALL: 2,
            # the hashed recipient: the list is the campaign's
            'GET /api/campaigns/%s' % CAMPAIGN: 1,
            put % (LIST, 'hh123cd456ef7'): 1,
            'GET /api/lists/%s/subscribers/%s' % (LIST, 'hh123cd456ef7'): 1,
        }))
        self.assertEqual(self.statuses(), {
            'jane.doe@example.net': 'complained',
            'uid:mw:hh123cd456ef7': 'complained',
            # the address MailWizz named for the hashed recipient
            'happy.reader@example.net': 'complained'})
        self.assertEqual(self.ls('done'), ['fbl.hashed_mw.eml',
                                           'fbl.yahoo.eml'])
        with open(os.path.join(self.spool, 'ignored',
                               'fbl.not_ours.eml.why')) as f:
            why = f.read()
        self.assertIn('why: a feedback report about mail we did not send: '
                      'sender promo@shop.other.example, Return-Path '
                      'promo@shop.other.example, Original-Mail-From '
                      'promo@shop.other.example matches no [fbl] senders or '
                      'provider senders, and nothing else ties it to our '
                      'mail\n', why)
        # no original and no Original-Mail-From: nothing ties it to us
        self.assertIn('fbl.report_only.eml', self.ls('ignored'))
        counters = self.ctl_json('stats')['counters']
        self.assertEqual((counters['fbl_dsn'], counters['fbl_notours'],
                          counters['complaint']), (4, 2, 2))

    def test_fraud_and_virus_reports_suppress_nobody(self):
        """a fraud report (a reader's phishing report, a DMARC failure
        report sent as fraud) or a virus report is about a mail sent in
        our name, maybe by someone else: its recipient complained of
        nothing we sent.  Set aside as an auth-report even when its sender
        is one of ours, said in the log; MailWizz hears nothing of it"""
        fake = self.start_fake()
        self.mw_config(fake, extra='\n[fbl]\nsenders = *@news.example.com\n')
        aside = ('fraud_dmarc.eml', 'fraud_phish.eml', 'virus.eml')
        for name in aside + ('yahoo.eml',):
            self.put_mail('fbl', 'arf/' + name)
        res = self.process()
        self.assertIn('fbl/new set aside: 3 auth-report (moved to ignored/)',
                      res.out)
        # the complaint beside them, nothing else
        self.assertEqual(routes(fake), collections.Counter({ALL: 1}))
        self.assertEqual(self.statuses(),
                         {'jane.doe@example.net': 'complained'})
        for addr in ('phished.reader@receiver.example',
                     'lured.user@isp.example', 'filtered.user@isp.example'):
            self.assertEqual(self.run_ctl('show', addr).rc, EX_NOUSER)
        self.assertEqual(self.ls('done'), ['fbl.yahoo.eml'])
        self.assertEqual(self.ls('ignored'), sorted(
            ['fbl.' + n for n in aside] + ['fbl.%s.why' % n for n in aside]))
        self.assertEqual(self.ls('failed'), [])
        with open(os.path.join(self.spool, 'ignored',
                               'fbl.fraud_phish.eml.why')) as f:
            self.assertIn('why: %s%s\n' % (AUTH, FRAUD), f.read())
        self.assertIn('fbl/new/fraud_dmarc.eml: set aside (auth-report): %s%s'
                      % (AUTH, FRAUD), res.err)
        self.assertIn('fbl/new/virus.eml: set aside (auth-report): %s'
                      'Feedback-Type: virus' % AUTH, res.err)
        counters = self.ctl_json('stats')['counters']
        self.assertEqual((counters['fbl_authreport'], counters['fbl_notours'],
                          counters['complaint']), (3, 0, 1))

    def test_recipients_listed_in_one_field(self):
        """an Original-Rcpt-To listing two addresses, comma-separated,
        names both, as two fields would: each is unsubscribed from every
        list and recorded from that report; the placeholder beside them
        names nobody"""
        fake = self.start_fake()
        self.mw_config(fake, extra='\n[fbl]\nsenders = *@news.example.com\n')
        self.put_mail('fbl', 'arf/rcpt_list.eml')
        self.process()
        self.assertEqual(routes(fake), collections.Counter({ALL: 2}))
        self.assertEqual(self.statuses(), {
            'carol.list@example.net': 'complained',
            'dan.list@example.org': 'complained'})
        for addr in ('carol.list@example.net', 'dan.list@example.org'):
            reason = self.show(addr)['reason']
            self.assertEqual(os.path.basename(reason['source']),
                             'rcpt_list.eml')
            self.assertEqual(reason['time'], '2024-03-12T11:28:00Z')
        self.assertEqual(self.ls('done'), ['fbl.rcpt_list.eml'])

    def test_to_of_our_domain_is_nobody(self):
        """the original's To at one of our sender domains (a list address)
        is not the complainer: with the defaults it is taken, with [fbl]
        senders naming that domain it is not"""
        with open(os.path.join(DATA, 'arf', 'to_single.eml'), 'rb') as f:
            data = f.read().replace(b'Carla Souza <carla.souza@isp.example>',
                                    b'all@lists.example.com')
        d = os.path.join(self.spool, 'fbl', 'new')
        os.makedirs(d)
        for sub in ('tmp', 'cur'):
            os.makedirs(os.path.join(self.spool, 'fbl', sub))
        with open(os.path.join(d, 'm1'), 'wb') as f:
            f.write(data)
        self.process()
        self.assertEqual(self.statuses(), {'all@lists.example.com':
                                           'complained'})

        self.setUp()
        self.write_config(extra='\n[fbl]\nsenders = *@news.example.com;'
                          'news@lists.example.com\n')
        d = os.path.join(self.spool, 'fbl', 'new')
        os.makedirs(d)
        for sub in ('tmp', 'cur'):
            os.makedirs(os.path.join(self.spool, 'fbl', sub))
        with open(os.path.join(d, 'm1'), 'wb') as f:
            f.write(data)
        self.process()
        self.assertEqual(self.statuses(), {})
        self.assertIn('why: ' + NOBODY, self.why('fbl.m1'))

    def test_known_subscriber_is_ours(self):
        """a report whose recipient is hidden is ours when the state holds
        the subscriber's uid: key, MailWizz's and Interspire's alike:
        recorded with the defaults, the same reports about a sender no
        pattern names are taken once [fbl] senders is set"""
        fixtures = ('anon_mailwizz.eml', 'anon_interspire.eml')
        for name in fixtures:
            self.put_mail('fbl', 'arf/' + name)
        self.process()
        self.assertEqual(self.statuses(), {
            'uid:mw:ww123cd456ef7': 'complained',
            'uid:iem:12:48213': 'complained'})

        self.write_config(extra='\n[fbl]\nsenders = *@ours.example\n')
        d = os.path.join(self.spool, 'fbl', 'new')
        for name in fixtures:
            with open(os.path.join(DATA, 'arf', name), 'rb') as f:
                data = f.read()
            for dom in (b'news.example.com', b'iem.example.com'):
                data = data.replace(dom, b'shop.other.example')
            with open(os.path.join(d, 'again.' + name), 'wb') as f:
                f.write(data)
        res = self.process()
        self.assertNotIn('set aside', res.out)
        self.assertEqual(self.ls('ignored'), [])
        self.assertEqual(self.ls('done'), sorted(
            ['fbl.' + n for n in fixtures] +
            ['fbl.again.' + n for n in fixtures]))

    def test_set_aside_before_a_crash(self):
        """a mail counted and recorded as set aside but still in new/ (a
        crash before the move) goes to ignored/ again, counted once"""
        name = self.put_mail('fbl', 'arf/dsn_gmail.eml')
        self.process()
        os.rename(os.path.join(self.spool, 'ignored', 'fbl.' + name),
                  os.path.join(self.spool, 'fbl', 'new', name))
        os.unlink(os.path.join(self.spool, 'ignored', 'fbl.' + name + '.why'))
        res = self.process()
        self.assertNotIn('set aside:', res.out)
        self.assertEqual(self.ls('ignored'), ['fbl.' + name,
                                              'fbl.' + name + '.why'])
        self.assertEqual(self.ctl_json('stats')['counters']['fbl_dsn'], 1)
        self.assertEqual(self.statuses(), {})


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
            # Jane, and the hidden one once MailWizz named the address
            ALL: 2,
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


class TestHostileShape(MailCase):
    """A mail built of very many parts or header lines is refused before
    it is parsed (it cost seconds and gigabytes), and the mails after it
    are taken."""

    def test_many_parts_and_headers_refused(self):
        many = ('From: a@b.example\nTo: fbl@x.example\nSubject: x\n'
                'MIME-Version: 1.0\nContent-Type: multipart/mixed; '
                'boundary="b"\n\n' + '--b\n\n' * 1500 + '--b--\n')
        heads = ''.join('To: t%d@x.example\n' % i for i in range(6000)) + \
            'Subject: x\n\nbody\n'
        new = os.path.join(self.spool, 'fbl', 'new')
        os.makedirs(new)
        for name, text in (('1.many', many), ('2.heads', heads)):
            with open(os.path.join(new, name), 'w') as f:
                f.write(text)
        self.put_mail('fbl', 'arf/yahoo.eml', '3.yahoo')
        self.process(rc=EX_OK)
        self.assertIn('more than 1000 MIME boundary lines', self.why('fbl.1.many'))
        self.assertIn('more than 5000 header lines', self.why('fbl.2.heads'))
        self.assertEqual(self.ls('fbl/new'), [])
        self.assertIn('fbl.3.yahoo', self.ls('done'))


class TestUnsubDate(MailCase):
    """An unsubscribe mail dated far after it arrived (a sender's clock,
    or its word) is taken at its arrival, as a report is."""

    def test_date_in_2100_is_not_believed(self):
        with open(os.path.join(DATA, 'unsub', 'gmail.eml'), 'rb') as f:
            mail = f.read().replace(b'Date: Tue, 24 Nov 2026 09:02:10 +0100',
                                    b'Date: Fri, 01 Jan 2100 00:00:00 +0000')
        self.assertIn(b'2100', mail)
        new = os.path.join(self.spool, 'unsub', 'new')
        os.makedirs(new)
        path = os.path.join(new, '1.gmail')
        with open(path, 'wb') as f:
            f.write(mail)
        self.process()
        recs = self.records()
        self.assertTrue(recs)
        for addr, r in recs.items():
            self.assertLess(r['status_time'], '2030', (addr, r))


class TestUnsubscribeAgain(MailCase):
    """A subscriber MailWizz let back in (it keeps the UID of a subscriber
    who subscribes again) and who unsubscribes again by mail is
    unsubscribed again; a second copy of a request already carried out is
    not asked for twice."""

    def put_dated(self, name, when):
        """unsub/gmail.eml as NAME, its Date WHEN (Unix seconds)"""
        name = self.put_mail('unsub', 'unsub/gmail.eml', name)
        path = os.path.join(self.spool, 'unsub', 'new', name)
        with open(path, 'rb') as f:
            mail = f.read()
        old = b'Date: Tue, 24 Nov 2026 09:02:10 +0100'
        self.assertIn(old, mail)
        mail = mail.replace(old, b'Date: ' + email.utils.formatdate(
            when).encode())
        with open(path, 'wb') as f:
            f.write(mail)

    def test_unsubscribed_again_after_subscribing_again(self):
        fake = self.start_fake()
        self.mw_config(fake)
        unsub = 'PUT /api/lists/%s/subscribers/%s/unsubscribe' % (LIST,
                                                                JANE_UID)
        self.put_dated('first', time.time() - 3600)
        self.process()
        self.assertEqual(status(fake)[(LIST, 'jane.doe@example.net')],
                         'unsubscribed')
        self.assertEqual(routes(fake)[unsub], 1)
        # the same request once more (a second copy): nothing asked
        self.put_dated('copy', time.time() - 3600)
        self.process()
        self.assertEqual(routes(fake)[unsub], 1)
        # she subscribes again, then asks to leave again
        data = fake.get_data()
        for lst in data['lists']:
            for sub in lst['subscribers']:
                if (lst['list_uid'], sub['email']) == (
                        LIST, 'jane.doe@example.net'):
                    sub['status'] = 'confirmed'
        fake.set_data(data)
        self.put_dated('again', time.time() + 60)
        res = self.process()
        self.assertIn('1 duplicates', res.out)
        self.assertEqual(routes(fake)[unsub], 2)
        self.assertEqual(status(fake)[(LIST, 'jane.doe@example.net')],
                         'unsubscribed')
        self.assertEqual(sorted(self.ls('done')),
                         ['unsub.again', 'unsub.copy', 'unsub.first'])


class TestUnsubNotRequest(MailCase):
    """A bounce, an auto-reply or a read receipt that reaches an
    unsubscribe address answers a mail sent with that address as its
    sender: the subscriber the address names asked for nothing.  Such mails
    go to failed/ saying what they are (an Exchange out-of-office reply by
    its inbox rule's mark beside auto-generated); requests beside them, two
    marked auto-generated and one with an empty body among them, are
    taken."""

    def test_bounces_and_auto_replies_unsubscribe_nobody(self):
        fake = self.start_fake()
        self.mw_config(fake)
        for f in ('bounce.eml', 'exim-bounce.eml', 'auto-reply.eml',
                  'read-receipt.eml', 'exchange-oof.eml'):
            self.put_mail('unsub', 'unsub/' + f)
        self.process()
        self.assertEqual(fake.calls(), [])
        self.assertEqual(self.records(), {})
        self.assertEqual(sorted(n for n in self.ls('failed')
                                if not n.endswith('.why')),
                         ['unsub.auto-reply.eml', 'unsub.bounce.eml',
                          'unsub.exchange-oof.eml', 'unsub.exim-bounce.eml',
                          'unsub.read-receipt.eml'])
        self.assertIn('a delivery-status notification (a bounce): '
                      'multipart/report; report-type=delivery-status, not an '
                      'unsubscribe request: nobody is unsubscribed',
                      self.why('unsub.bounce.eml'))
        self.assertIn('X-Failed-Recipients, not an unsubscribe request',
                      self.why('unsub.exim-bounce.eml'))
        self.assertIn('an auto-reply: Auto-Submitted: auto-replied, not an '
                      'unsubscribe request', self.why('unsub.auto-reply.eml'))
        self.assertIn('a read receipt: multipart/report; report-type='
                      'disposition-notification',
                      self.why('unsub.read-receipt.eml'))
        self.assertIn('an out-of-office reply: Auto-Submitted: auto-generated '
                      'and X-MS-Exchange-Inbox-Rules-Loop, not an unsubscribe '
                      'request', self.why('unsub.exchange-oof.eml'))

    def test_requests_are_taken(self):
        fake = self.start_fake()
        self.mw_config(fake)
        self.put_mail('unsub', 'unsub/auto-generated.eml')
        self.put_mail('unsub', 'unsub/empty-body.eml')
        self.put_mail('unsub', 'unsub/outlook-request.eml')
        self.process()
        self.assertEqual(self.ls('failed'), [])
        self.assertEqual(sorted(self.ls('done')),
                         ['unsub.auto-generated.eml', 'unsub.empty-body.eml',
                          'unsub.outlook-request.eml'])
        self.assertEqual(status(fake)[(LIST, 'jane.doe@example.net')],
                         'unsubscribed')


class TestFeedbackRecordsHashed(MailCase):
    """An f record whose rcpt is a hash or a placeholder (Return Path's
    loops: Comcast, Cox ...) names the subscriber of its header columns,
    not that hash."""

    def test_hashed_rcpt_is_the_subscriber(self):
        head = ('type,timeLogged,feedbackType,format,rcpt,reportedDomain,'
                'header_X-Mw-Subscriber-Uid\r\n')
        rows = [
            'f,2026-11-24 08:00:00+0000,abuse,arf,'
            'b6cf7e1a0096ba1caf76ee2c90aaaeaa@comcast.net,comcast.net,'
            'zz123cd456ef7\r\n',
            'f,2026-11-24 08:01:00+0000,abuse,arf,redacted@cox.net,'
            'cox.net,\r\n',
        ]
        path = self.write_file('spool/acct/acct-f.csv', head + ''.join(rows))
        s = self.process_summary(path)
        self.assertEqual((s['records'], s['complaints'], s['ignored']),
                         (2, 1, 1))
        self.assertEqual(self.show('uid:mw:zz123cd456ef7')['status'],
                         'complained')
        self.assertEqual(sorted(self.statuses()), ['uid:mw:zz123cd456ef7'])


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
        # the unsubscribe was told to the campaign (MailWizz keeps the
        # record only while the subscriber is still confirmed: not after
        # the complaint's unsubscribe)
        self.assertEqual(routes(fake)['POST /api/campaigns/%s/track-'
                                      'unsubscribe/%s' % (CAMPAIGN,
                                                          JANE_UID)], 1)
        self.assertTrue(all(n.startswith(('fbl.', 'unsub.'))
                            for n in self.ls('done')))
        self.assertIn('fbl/new/', self.log(p))

    def test_bounce_set_aside(self):
        """bounced run: a bounce at the feedback address goes to ignored/,
        counted, and MailWizz hears nothing of it"""
        fake = self.start_fake()
        self.mw_config(fake)
        p = self.start()
        with open(os.path.join(DATA, 'arf', 'dsn_postfix.eml'), 'rb') as f:
            res = self.run_bounced('drop', 'fbl', '--from', '',
                                   '--to', 'fbl@fbl.example.com',
                                   stdin=f.read())
        self.assertEqual(res.rc, EX_OK, res)
        self.wait_for(lambda: len(self.ls('ignored')) == 2, 20,
                      'bounce not set aside: %s' % self.log(p)[-2000:])
        rc, _ = self.stop(p)
        self.assertEqual(rc, 0)
        self.assertEqual(fake.calls(), [])
        self.assertIn('set aside (dsn): a delivery-status notification',
                      self.log(p))
        self.assertEqual(self.ctl_json('stats')['counters']['fbl_dsn'], 1)


class TestUnreadableMail(RunTestCase, MailCase):
    """a mail or an accounting file that cannot be read (EIO:
    fail_read.so stands in for a failing disk) holds up none of the
    inputs after it, and goes to failed/ after five attempts"""

    def put_unreadable(self):
        """SPOOL/unsub/new: 1.poison.eml (unreadable, the oldest) before
        2.gmail.eml (Jane's unsubscribe mail)"""
        for i, name in enumerate(('1.poison.eml', '2.gmail.eml')):
            self.put_mail('unsub', 'unsub/gmail.eml', name)
            t = time.time() - 100 + 10 * i
            os.utime(os.path.join(self.spool, 'unsub', 'new', name), (t, t))

    def test_process_leaves_it_for_the_next_run(self):
        fake = self.start_fake()
        self.mw_config(fake)
        self.put_unreadable()
        self.fail_reads('poison')
        res = self.process(rc=EX_NOINPUT)
        self.assertIn('unsub/new (1 mails):', res.out)
        self.assertIn('bounced: unsub/new: 1 mail could not be read or '
                      'moved and stays there for the next run (the log says '
                      'why)', res.err)
        self.assertIn('unsub/new/1.poison.eml: cannot be read '
                      '(Input/output error): left in new/ for the next run; '
                      'the mails after it are taken', res.err)
        self.assertEqual(self.ls('unsub/new'), ['1.poison.eml'])
        self.assertEqual(self.ls('done'), ['unsub.2.gmail.eml'])
        self.assertEqual(self.ls('failed'), [])
        # the outbox was sent all the same
        self.assertEqual(status(fake)[(LIST, 'jane.doe@example.net')],
                         'unsubscribed')
        # the disk mended: the next run takes it
        self.extra_env = {}
        res = self.process()
        self.assertIn('unsub/new (1 mails):', res.out)
        self.assertEqual(self.ls('unsub/new'), [])
        self.assertEqual(self.ls('done'), ['unsub.1.poison.eml',
                                           'unsub.2.gmail.eml'])

    def test_worker_tries_it_again_then_gives_it_up(self):
        fake = self.start_fake()
        self.mw_config(fake)
        self.put_unreadable()
        self.fail_reads('poison')
        self.extra_env['BOUNCED_DEFER_MS'] = '100'
        # an accounting file that cannot be read either, and one that can
        self.drop('poison.csv', 'type,timeLogged,orig,rcpt,dsnStatus\r\n'
                  'b,2026-11-01 10:00:00+0000,a@example.com,'
                  'x@example.net,5.1.1\r\n')
        self.drop('poison2.csv', 'type,timeLogged,orig,rcpt,dsnStatus\r\n'
                  'b,2026-11-01 10:00:00+0000,a@example.com,'
                  'y@example.net,5.1.1\r\n')
        self.drop('good.csv', 'type,timeLogged,orig,rcpt,dsnStatus\r\n'
                  'b,2026-11-01 10:00:00+0000,a@example.com,'
                  'anna@example.net,5.1.1\r\n')
        p = self.start()
        self.wait_for(lambda: 'unsub.1.poison.eml' in self.ls('failed') and
                      'poison.csv' in self.ls('failed') and
                      'poison2.csv' in self.ls('failed'), 30 * SLOW,
                      'not given up: %s' % self.log(p)[-3000:])
        rc, _ = self.stop(p)
        self.assertEqual(rc, 0)
        log = self.log(p)
        # the mail after it was taken at once, not after the attempts
        first = log.index('unsub/new/1.poison.eml: cannot be read '
                          '(Input/output error): left in new/, tried again '
                          'in 100 ms (attempt 1 of 5); the mails after it are '
                          'taken')
        self.assertLess(log.index('unsub/new/2.gmail.eml: taken'),
                        log.index('(attempt 2 of 5)'))
        self.assertLess(first, log.index('(attempt 4 of 5)'))
        self.assertEqual(log.count('unsub/new/1.poison.eml: cannot be read'),
                         4)
        self.assertIn('unsub/new/1.poison.eml: refused: cannot be read: '
                      'Input/output error (5 attempts)', log)
        # nor did the accounting file hold up the one after it
        self.assertLess(log.index('good.csv: 1 records'),
                        log.index('poison.csv: cannot be taken now '
                                  '(Input/output error); trying again in '
                                  '100 ms (attempt 2 of 5), the files after '
                                  'it meanwhile'))
        self.assertEqual(log.count('poison.csv: cannot be taken now'), 4)
        self.assertIn('cannot be read: Input/output error (5 attempts)',
                      self.why('unsub.1.poison.eml'))
        # two such files, each counted apart
        for name in ('poison.csv', 'poison2.csv'):
            self.assertIn('cannot be read: Input/output error (5 attempts)',
                          self.why(name))
        self.assertEqual(self.ls('unsub/new'), [])
        self.assertIn('unsub.2.gmail.eml', self.ls('done'))
        self.assertIn('good.csv', self.ls('done'))
        self.assertStatus('anna@example.net', 'hard')
        self.assertEqual(status(fake)[(LIST, 'jane.doe@example.net')],
                         'unsubscribed')


    def test_mail_that_cannot_leave_new_holds_no_accounting_file(self):
        """a mail taken whose move out of new/ fails (EXDEV:
        fail_rename.so) holds the mails back for the pause (a minute
        here), not the accounting files: they are taken meanwhile; once
        the maildir is mended, the mail leaves new/, taken once"""
        fake = self.start_fake()
        self.mw_config(fake)
        self.put_mail('unsub', 'unsub/gmail.eml', '1.stuck.eml')
        self.extra_env = self.stuck_in_new('unsub/new/1.stuck')
        self.extra_env['BOUNCED_DEFER_MS'] = '60000'
        p = self.start()
        self.wait_for(lambda: 'the accounting files go on' in self.log(p),
                      20 * SLOW, 'no pause: %s' % self.log(p)[-2000:])
        self.drop('good.csv', 'type,timeLogged,orig,rcpt,dsnStatus\r\n'
                  'b,2026-11-01 10:00:00+0000,a@example.com,'
                  'anna@example.net,5.1.1\r\n')
        self.wait_for(lambda: 'good.csv' in self.ls('done'), 10 * SLOW,
                      'not taken: %s' % self.log(p)[-2000:])
        self.assertIn('1.stuck.eml', self.ls('unsub/new'))
        rc, _ = self.stop(p)
        self.assertEqual(rc, 0)
        self.assertIn("cannot move '", self.log(p))
        self.assertStatus('anna@example.net', 'hard')
        # mended: the next start moves it, without taking it again
        self.extra_env = {}
        p = self.start()
        self.wait_for(lambda: self.ls('unsub/new') == [], 20 * SLOW,
                      'still in new/: %s' % self.log(p)[-2000:])
        rc, _ = self.stop(p)
        self.assertEqual(rc, 0)
        self.assertIn('unsub.1.stuck.eml', self.ls('done'))
        self.assertEqual(self.log(p).count('unsub/new/1.stuck.eml: taken'),
                         0)
        self.assertEqual(status(fake)[(LIST, 'jane.doe@example.net')],
                         'unsubscribed')

    def test_no_descriptors_left_is_no_fault_of_the_inputs(self):
        """the process out of file descriptors (EMFILE, here from read):
        every input waits, none is counted against or sent to failed/;
        the next start takes them all"""
        fake = self.start_fake()
        self.mw_config(fake)
        self.put_unreadable()
        self.fail_reads('poison', errno.EMFILE)
        self.extra_env['BOUNCED_DEFER_MS'] = '100'
        p = self.start()
        # the mails first (an accounting file's pause holds them too)
        self.wait_for(lambda: self.log(p).count(
            'unsub/new wait (Too many open files); trying again in 100 ms')
            >= 7, 30 * SLOW, 'mails not paused: %s' % self.log(p)[-3000:])
        self.drop('poison.csv', 'type,timeLogged,orig,rcpt,dsnStatus\r\n'
                  'b,2026-11-01 10:00:00+0000,a@example.com,'
                  'x@example.net,5.1.1\r\n')
        self.wait_for(lambda: self.log(p).count(
            'poison.csv: cannot be taken now (Too many open files); trying '
            'again in 100 ms') >= 7, 30 * SLOW,
            'not paused: %s' % self.log(p)[-3000:])
        rc, _ = self.stop(p)
        self.assertEqual(rc, 0)
        log = self.log(p)
        self.assertNotIn('(attempt', log)
        self.assertEqual(self.ls('failed'), [])
        self.assertEqual(self.spool_files('acct'), ['poison.csv'])
        self.assertEqual(self.ls('unsub/new'), ['1.poison.eml', '2.gmail.eml'])
        # descriptors again: everything is taken
        self.extra_env = {}
        p = self.start()
        self.wait_for(lambda: 'poison.csv' in self.ls('done') and
                      len(self.ls('unsub/new')) == 0, 20 * SLOW,
                      'not taken: %s' % self.log(p)[-3000:])
        rc, _ = self.stop(p)
        self.assertEqual(rc, 0)
        self.assertEqual(self.ls('failed'), [])
        self.assertStatus('x@example.net', 'hard')


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
    def test_acct_complaint_reporter_and_source(self):
        # an f record of PowerMTA's feedback processor: reported by its
        # reportingMTA (reportedDomain is the domain the report is about,
        # ours); its dlvSourceIp is the MTA that sent the report, not a
        # source of ours, so no source is credited with the complaint
        fake, mta = self.start_fake(), self.start_smtp()
        self.both_config(fake, mta)
        self.write_file('spool/acct/fbl.csv', (
            'type,timeLogged,orig,rcpt,dlvSourceIp,feedbackType,'
            'reportingMTA,reportedDomain,userAgent\n'
            'd,2026-11-24 08:00:00+0000,news@bounces.example.com,'
            'r.one@example.org,192.0.2.10,,,,\n'
            'f,2026-11-24 08:05:00+0000,news@bounces.example.com,'
            'r.one@example.org,98.136.1.1,abuse,mta1.mail.yahoo.com,'
            'news.example.com,Yahoo!-Mail-Feedback/2.0\n'))
        res = self.process()
        self.assertIn('notify: mailed 1 item', res.out)
        msg, text, html = self.text_of(mta.messages()[0])
        self.assertIn('Reported by: mta1.mail.yahoo.com\n', text)
        self.assertNotIn('Reported by: news.example.com', text)
        rates = self.ctl_json('rates', '--by', 'source')
        self.assertEqual([(r['name'], r['deliveries'], r['complaints'])
                          for r in rates['source']],
                         [('192.0.2.10', 1, 0)])

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
        # who reported it: the report's Reporting-MTA, not the domain it
        # is about (Reported-Domain, ours)
        self.assertIn('Reported by: mta1.feedback.example.net\n', text)
        self.assertNotIn('Reported by: news.example.com', text)
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
        # the unsubscribe mail names a campaign: its details were asked of
        # MailWizz (through the worker's providers) and shown
        unsub = [self.text_of(m)[1] for m in mta.messages()
                 if 'unsubscribe' in self.text_of(m)[0]['Subject']]
        self.assertIn(CAMPAIGN, unsub[0])
        self.assertIn('November', unsub[0])
        self.assertEqual(routes(fake)['GET /api/campaigns/%s' % CAMPAIGN], 1)
