"""test_providers.py - bounced process against fake MailWizz, Interspire and
webhook servers on 127.0.0.1: the exact calls each receives, the final data
at the fakes, outages (503, refused connections) retried until delivered
without duplicates, permanent refusals as dead letters that `bouncectl
retry` sends again, an HTML error page quoted as its title only, and a
kill -9 with requests in flight."""
import collections
import json
import os
import signal
import socket
import subprocess
import sys

from harness import (ACCT_HEADER as HEADER, BouncedTestCase, EX_CONFIG, EX_OK,
                     SLOW, RunTestCase, acct_rec as rec, hard_file,
                     wait_until)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
from fake import interspire, mailwizz, webhook  # noqa: E402

PUB, PRIV = 'PUBKEY123', 'PRIVKEY456'
L1, L2, L3 = 'la111aa111aa1', 'lb222bb222bb2', 'lc333cc333cc3'
CAMPAIGN = 'cc123cd456ef7'

def mw_data():
    subs = lambda uid, status='confirmed': [  # noqa: E731
        {'subscriber_uid': uid, 'email': 'alice@example.com', 'status': status}]
    return {
        'lists': [
            {'list_uid': L1, 'name': 'one', 'display_name': 'One',
             'subscribers': subs('sa111aa111aa1') + [
                 {'subscriber_uid': 'sd111aa111aa1', 'email': 'dave@example.net',
                  'status': 'confirmed'},
                 {'subscriber_uid': 'sc111aa111aa1', 'email': 'carol@example.com',
                  'status': 'confirmed'}]},
            {'list_uid': L2, 'name': 'two', 'display_name': 'Two',
             'subscribers': subs('sa222bb222bb2')},
            {'list_uid': L3, 'name': 'three', 'display_name': 'Three',
             'subscribers': subs('sa333cc333cc3', 'unsubscribed')},
        ],
        'campaigns': [{'campaign_uid': CAMPAIGN, 'name': 'November',
                       'list_uid': L1, 'status': 'sent'}],
    }


def iem_data():
    return {
        'lists': [{'listid': 1, 'name': 'News'}, {'listid': 2, 'name': 'Deals'},
                  {'listid': 3, 'name': 'Other'}],
        'subscribers': [
            {'subscriberid': 10, 'emailaddress': 'b&ob@example.org', 'listid': 1,
             'unsubscribed': 0, 'bounced': 0},
            {'subscriberid': 11, 'emailaddress': 'b&ob@example.org', 'listid': 2,
             'unsubscribed': 0, 'bounced': 0},
            {'subscriberid': 12, 'emailaddress': 'dave@example.net', 'listid': 3,
             'unsubscribed': 0, 'bounced': 0},
        ],
    }


def calls_by_route(fake):
    """Counter of 'METHOD path' of the calls answered (not injected)."""
    c = collections.Counter()
    for call in fake.calls():
        if call.get('injected') or call.get('dropped'):
            continue
        c['%s %s' % (call['method'], call['path'])] += 1
    return c


def iem_methods(fake):
    c = collections.Counter()
    for call in fake.calls():
        if call.get('injected') or call.get('dropped'):
            continue
        p = call.get('parsed') or {}
        c['%s/%s' % (p.get('requesttype'), p.get('requestmethod'))] += 1
    return c


class ProvidersTestCase(BouncedTestCase):
    def start(self, fake):
        fake.start()
        self.addCleanup(fake.stop)
        return fake

    def providers_config(self, mw=None, iem=None, hook=None, extra=''):
        text = ''
        if mw:
            text += ('\n[provider mw]\ntype = mailwizz\nendpoint = %s/api\n'
                     'public-key = %s\nprivate-key = %s\n'
                     'senders = news-*@bounces.example.com\n'
                     'retry-min = 50ms\nretry-max = 200ms\n'
                     'concurrency = 1\n' % (mw.url, PUB, PRIV))
        if iem:
            text += ('\n[provider iem]\ntype = interspire\nendpoint = %s/xml.php\n'
                     'username = admin\nusertoken = xmltoken\n'
                     'senders = campaigns@iem.example.com\n'
                     'retry-min = 50ms\nretry-max = 200ms\n'
                     'concurrency = 1\n' % iem.url)
        if hook:
            text += ('\n[provider hook]\ntype = webhook\nurl = %s/events\n'
                     'secret = s3cret\nsenders = *\n'
                     'retry-min = 50ms\nretry-max = 200ms\n' % hook.url)
        self.write_config(extra=text + extra)


class TestWire(ProvidersTestCase):
    def setUp(self):
        super().setUp()
        self.mw = self.start(mailwizz.MailWizzFake(
            public_key=PUB, private_key=PRIV, data=mw_data()))
        self.iem = self.start(interspire.InterspireFake(data=iem_data()))
        self.hook = self.start(webhook.WebhookFake(secret='s3cret'))
        self.providers_config(self.mw, self.iem, self.hook)

    def acct(self):
        return self.write_file('spool/acct/acct-1.csv', HEADER + ''.join([
            rec('b', '2026-11-24 08:00:00+0000',
                'news-alice=example.com@bounces.example.com',
                'Alice@Example.com', '5.1.1', 'smtp;550 5.1.1 user unknown',
                'bad-mailbox', 'mailwizz-' + CAMPAIGN),
            rec('b', '2026-11-24 08:01:00+0000', 'campaigns@iem.example.com',
                'b&ob@example.org', '5.1.1', 'smtp;550 no such user',
                'bad-mailbox'),
            rec('b', '2026-11-24 08:02:00+0000',
                'news-carol=example.com@bounces.example.com',
                'carol@example.com', '4.2.2', 'smtp;452 4.2.2 mailbox full',
                'quota-issues', 'mailwizz-' + CAMPAIGN),
            rec('f', '2026-11-24 08:03:00+0000', 'campaigns@iem.example.com',
                'dave@example.net', fb='abuse'),
            # the same hard bounce again: a duplicate, no call
            rec('b', '2026-11-24 09:00:00+0000',
                'news-alice=example.com@bounces.example.com',
                'alice@example.com', '5.1.1', 'smtp;550 5.1.1 user unknown',
                'bad-mailbox', 'mailwizz-' + CAMPAIGN),
        ]))

    def test_exact_calls_and_final_data(self):
        path = self.acct()
        res = self.process(path)
        self.assertIn('provider mw:', res.out)
        mw = calls_by_route(self.mw)
        # alice's hard bounce is recorded on the campaign (MailWizz
        # blacklists her confirmed subscribers), then she is unsubscribed
        # from every list; carol's soft bounce is recorded; dave's
        # complaint unsubscribes him from every list
        self.assertEqual(mw, collections.Counter({
            'GET /api/campaigns/%s' % CAMPAIGN: 1,      # cached for carol
            'GET /api/lists/subscribers/search-by-email-in-all-lists': 2,
            'POST /api/campaigns/%s/bounces' % CAMPAIGN: 2,
            'PUT /api/lists/subscribers/unsubscribe-by-email-from-all-lists':
                2,
        }), mw)
        for call in self.mw.calls():
            self.assertEqual(call['status'] // 100, 2, call)
            self.assertEqual(call.get('api'), 'v1', call)
        bounces = [c['parsed'] for c in self.mw.calls()
                   if c['path'].endswith('/bounces')]
        self.assertEqual(sorted(b['bounce_type'] for b in bounces),
                         ['hard', 'soft'])
        data = self.mw.get_data()
        status = {(l['list_uid'], s['email']): s['status']
                  for l in data['lists'] for s in l['subscribers']}
        self.assertEqual(data['blacklist'], ['alice@example.com'])
        for l in (L1, L2, L3):
            self.assertEqual(status[(l, 'alice@example.com')], 'unsubscribed')
        self.assertEqual(status[(L1, 'dave@example.net')], 'unsubscribed')
        self.assertEqual(status[(L1, 'carol@example.com')], 'confirmed')

        self.assertEqual(iem_methods(self.iem), collections.Counter({
            'user/GetLists': 1,
            'subscribers/GetAllListsForEmailAddress': 2,
            'subscribers/UnsubscribeSubscriber': 3,
        }))
        iem = self.iem.get_data()
        unsub = {(s['emailaddress'], s['listid']): s['unsubscribed']
                 for s in iem['subscribers']}
        self.assertTrue(unsub[('b&ob@example.org', 1)])
        self.assertTrue(unsub[('b&ob@example.org', 2)])
        self.assertTrue(unsub[('dave@example.net', 3)])

        posts = [c for c in self.hook.calls() if c['method'] == 'POST']
        self.assertTrue(all(c.get('signature_ok') for c in posts), posts)
        events = sorted((c['parsed']['address'], c['parsed']['event'])
                        for c in posts)
        self.assertEqual(events, [
            ('alice@example.com', 'hard'), ('b&ob@example.org', 'hard'),
            ('carol@example.com', 'soft'), ('dave@example.net', 'complaint')])

        alice = self.show('alice@example.com')
        states = sorted((a['provider'], a['state']) for a in alice['actions'])
        self.assertEqual(states, [('hook', 'done'), ('mw', 'done')])
        ops = sorted(a['op'] for a in alice['actions']
                     if a['provider'] == 'mw')
        self.assertEqual(ops, ['bounce'])
        self.assertEqual(self.ctl_json('queue'), [])
        self.assertEqual(self.ctl_json('dead'), [])

        # a new file with the same hard bounce: a duplicate, no call at all
        n = (len(self.mw.calls()), len(self.iem.calls()), len(self.hook.calls()))
        again = self.write_file('spool/acct/acct-2.csv', HEADER + rec(
            'b', '2026-11-25 08:00:00+0000',
            'news-alice=example.com@bounces.example.com', 'alice@example.com',
            '5.1.1', 'smtp;550 5.1.1 user unknown', 'bad-mailbox',
            'mailwizz-' + CAMPAIGN))
        self.process(again)
        self.assertEqual(n, (len(self.mw.calls()), len(self.iem.calls()),
                             len(self.hook.calls())))


class TestFailures(ProvidersTestCase):
    def hard_bounces(self, n, orig='news-x=y@bounces.example.com'):
        return self.write_file('spool/acct/acct-h.csv', HEADER + ''.join(
            rec('b', '2026-11-24 08:00:%02d+0000' % (i % 60), orig,
                'user%03d@example.com' % i, '5.1.1', 'smtp;550 5.1.1 unknown',
                'bad-mailbox') for i in range(n)))

    def test_outage_then_recovery(self):
        hook = self.start(webhook.WebhookFake(secret='s3cret'))
        hook.configure(fail_status=503, fail_count=25)
        self.providers_config(hook=hook)
        res = self.process(self.hard_bounces(20))
        ok = [c['parsed']['address'] for c in hook.calls()
              if c['status'] == 200]
        self.assertEqual(sorted(ok), ['user%03d@example.com' % i
                                      for i in range(20)], res)
        self.assertEqual(self.ctl_json('queue'), [])
        self.assertIn('retried', res.out)

    def test_connection_refused_then_server_comes(self):
        s = socket.socket()
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
        s.close()
        self.write_config(extra=(
            '\n[provider hook]\ntype = webhook\nurl = http://127.0.0.1:%d/e\n'
            'senders = *\nretry-min = 100ms\nretry-max = 300ms\n' % port))
        self.process(self.hard_bounces(5), '--drain-timeout', '1s')
        queued = self.ctl_json('queue')
        self.assertEqual(len(queued), 5)
        self.assertTrue(all(q['attempts'] >= 1 for q in queued), queued)
        hook = self.start(webhook.WebhookFake(port=port))
        self.process()
        self.assertEqual(len([c for c in hook.calls() if c['status'] == 200]), 5)
        self.assertEqual(self.ctl_json('queue'), [])

    def test_permanent_refusal_is_dead_then_retried(self):
        hook = self.start(webhook.WebhookFake(status=400))
        self.providers_config(hook=hook)
        self.process(self.hard_bounces(3))
        dead = self.ctl_json('dead')
        self.assertEqual(len(dead), 3, dead)
        self.assertIn('400', dead[0]['reason'])
        # the one call made, refused for good, is its one try
        self.assertEqual([d['attempts'] for d in dead], [1, 1, 1])
        self.assertRegex(self.run_ctl('dead').out, r'unsubscribe\s+0\s+1\s')
        show = self.show('user000@example.com')
        self.assertEqual([a['state'] for a in show['actions']], ['dead'])
        hook.configure(status=200)
        res = self.run_ctl('retry', '--all')
        self.assertRc(res, EX_OK)
        self.assertEqual(len(self.ctl_json('queue')), 3)
        self.process()
        self.assertEqual(self.ctl_json('dead'), [])
        self.assertEqual(len([c for c in hook.calls() if c['status'] == 200]), 3)
        show = self.show('user000@example.com')
        self.assertEqual([a['state'] for a in show['actions']], ['done'])

    def test_html_error_page_is_quoted_as_a_short_reason(self):
        # providers behind a proxy answer 500 and 404 with pages of KiB:
        # logs, the queue and dead letters quote the page's title only
        hook = self.start(webhook.WebhookFake(secret='s3cret'))
        mw = self.start(mailwizz.MailWizzFake(
            public_key=PUB, private_key=PRIV, data=mw_data()))
        for fake in (hook, mw):
            fake.configure(fail_status=500, fail_body='html',
                           fail_count=10 ** 6)
        self.providers_config(mw=mw, hook=hook)
        res = self.process(self.hard_bounces(
            2, orig='news-x=la111aa111aa1.cc123cd456ef7@bounces.example.com'),
            '--drain-timeout', '1s')
        page = [c for c in hook.calls() if c.get('injected')]
        self.assertTrue(page)
        queued = self.ctl_json('queue')
        self.assertEqual({q['provider'] for q in queued}, {'hook', 'mw'})
        for q in queued:
            self.assertEqual(q['last_error'], 'HTTP 500: 500 Injected Failure',
                             q)
        text = self.run_ctl('queue')
        self.assertIn('HTTP 500: 500 Injected Failure', text.out)
        # now refused for good: dead letters with the title as reason
        for fake in (hook, mw):
            fake.configure(fail_status=404)
        res2 = self.run_ctl('retry', '--all')
        self.assertRc(res2, EX_OK)
        res2 = self.process()
        dead = self.ctl_json('dead')
        self.assertEqual(len(dead), len(queued), dead)
        for d in dead:
            self.assertIn('HTTP 404', d['reason'])
            self.assertIn('404 Injected Failure', d['reason'])
            self.assertLessEqual(len(d['reason'].encode()), 256, d)
        text = self.run_ctl('dead')
        for out in (res.out + res.err, res2.out + res2.err, text.out):
            self.assertNotIn('<', out)
            self.assertNotIn('Whoops', out)
            self.assertNotIn('Kernel.php', out)
            self.assertNotIn('\\u0007', out)
        self.assertIn('404 Injected Failure', res2.err + res2.out)

    def test_sigterm_while_draining_leaves_the_outbox(self):
        # the receiver is down: the drain would retry for its whole
        # timeout (a minute here); SIGTERM ends it at once, the actions
        # stay queued for the next run
        hook = self.start(webhook.WebhookFake(secret='s3cret'))
        hook.configure(fail_status=503, fail_count=100000)
        self.providers_config(hook=hook)
        path = self.hard_bounces(3)
        argv = [self.bounced, '-c', self.config, 'process',
                '--drain-timeout', '60s', path]
        p = subprocess.Popen(argv, cwd=self.dir, env=self.env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        try:
            self.assertTrue(wait_until(lambda: hook.received() >= 3,
                                       20 * SLOW), 'no request was made')
            p.send_signal(signal.SIGTERM)
            out, err = p.communicate(timeout=10 * SLOW)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.assertEqual(p.returncode, EX_OK, err)
        self.assertIn('stopping: ', err)
        self.assertEqual(sorted(a['address'] for a in self.ctl_json('queue')),
                         ['user%03d@example.com' % i for i in range(3)])

    def test_answers_after_the_deadline_are_written(self):
        # the receiver answers after --drain-timeout has passed: the
        # requests under way at the deadline are waited for and their
        # answers written before process ends and counts them: nothing
        # stays queued to be sent a second time
        hook = self.start(webhook.WebhookFake(secret='s3cret',
                                              latency_ms=1500))
        self.providers_config(hook=hook)
        res = self.process(self.hard_bounces(3), '--drain-timeout', '1s')
        self.assertEqual(sorted(c['parsed']['address'] for c in hook.calls()
                                if c['status'] == 200),
                         ['user%03d@example.com' % i for i in range(3)])
        self.assertEqual(self.ctl_json('queue'), [], res)
        # the summary counts them: done, none left in the outbox
        self.assertIn('provider hook: 3 actions done', res.out)
        self.assertNotIn('outbox:', res.out)
        for i in range(3):
            show = self.show('user%03d@example.com' % i)
            self.assertEqual([a['state'] for a in show['actions']],
                             ['done'], show)
        calls = hook.received()
        hook.configure(latency_ms=0)
        self.process()
        self.assertEqual(hook.received(), calls)

    def test_kill_with_requests_in_flight(self):
        # three waves of 16 requests, 300 ms each: the kill must come
        # within them, so the look for the first calls is a short one
        # every 10 ms (a backed-off look came after all 40 on a slow,
        # sanitized run)
        hook = self.start(webhook.WebhookFake(latency_ms=300))
        self.providers_config(hook=hook)
        path = self.hard_bounces(40)
        argv = [self.bounced, '-c', self.config, 'process', path]
        p = subprocess.Popen(argv, cwd=self.dir, env=self.env(),
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        wait_until(lambda: len(hook.calls()) >= 10, 20, interval=0.01)
        p.send_signal(signal.SIGKILL)
        p.wait()
        self.assertLess(len(hook.calls()), 40, 'killed too late to matter')
        self.process()
        got = collections.Counter(c['parsed']['address'] for c in hook.calls()
                                  if c['status'] == 200)
        self.assertEqual(sorted(got), ['user%03d@example.com' % i
                                       for i in range(40)])
        # a replay repeats at most the requests that were in flight (the
        # default concurrency)
        self.assertLessEqual(sum(got.values()) - 40, 16, got)
        self.assertEqual(self.ctl_json('queue'), [])


def curl_lines(trace):
    """the lines of a dynamic loader's trace (LD_DEBUG=files) that name
    libcurl"""
    return [line.strip() for line in trace.splitlines() if 'libcurl' in line]


class TestLibcurlOnUse(RunTestCase):
    """libcurl is loaded by the first request or by bounced's check of a
    URL, not linked: a start of bounced or bouncectl that needs neither
    does not pay for its twenty-five libraries, bouncectl never loads it,
    and bounced says by its name that it cannot load it"""

    def test_programs_are_not_linked_with_libcurl(self):
        self.assertNotLinkedWith('libcurl')

    def bounce(self, name, addr, t='2026-11-24 08:00:00+0000'):
        return self.write_file('spool/acct/' + name, HEADER + rec(
            'b', t, 'news@bounces.example.com', addr, '5.1.1',
            'smtp;550 5.1.1 unknown', 'bad-mailbox'))

    def test_without_libcurl(self):
        soname, broken = self.broken_library('curl')
        env = self.env
        self.env = lambda: dict(env(), LD_LIBRARY_PATH=broken)
        # no provider: bounced process, bounced run and bouncectl need
        # no libcurl
        self.write_config()
        # (the dynamic loader's trace names every library it opens)
        self.env = lambda: dict(env(), LD_LIBRARY_PATH=broken,
                                LD_DEBUG='files')
        res = self.process(self.bounce('acct-h.csv', 'user@example.com'))
        self.assertIn('libmxml', res.err)
        self.assertEqual(curl_lines(res.err), [])
        self.env = lambda: dict(env(), LD_LIBRARY_PATH=broken)
        self.assertEqual(self.show('user@example.com')['status'], 'hard')
        p = self.start()
        self.drop('acct-r.csv', hard_file(['run@example.com']))
        self.wait_for(lambda: 'acct-r.csv' in self.spool_files('done'),
                      10 * SLOW, 'the file was not taken')
        rc, _ = self.stop(p)
        self.assertEqual(rc, EX_OK)
        self.assertNotIn(soname, self.log(p))
        # a provider: bounced cannot check its URL, and refuses the
        # configuration with why, before anything is taken
        self.write_config(extra='\n[provider hook]\ntype = webhook\n'
                          'url = http://127.0.0.1:9/e\nsenders = *\n')
        again = self.bounce('acct-i.csv', 'other@example.com',
                            '2026-11-24 09:00:00+0000')
        for args in (('check-config',), ('process', again),
                     ('provider-test',), ('run',)):
            res = self.run_bounced(*args)
            self.assertRc(res, EX_CONFIG)
            self.assertIn('cannot load %s' % soname, res.err, args)
            self.assertIn('is the package of libcurl installed?', res.err)
            self.assertNotIn('expected', res.err)
        # bouncectl makes no request: it reads the state all the same,
        # the URL checked by its form only
        self.assertEqual(self.records().keys(),
                         {'user@example.com', 'run@example.com'})
        self.env = lambda: dict(env(), LD_LIBRARY_PATH=broken,
                                LD_DEBUG='files')
        res = self.run_ctl('queue')
        self.assertRc(res, EX_OK)
        self.assertIn('libmxml', res.err)
        self.assertEqual(curl_lines(res.err), [])
        self.env = lambda: dict(env(), LD_LIBRARY_PATH=broken)
        self.write_config(extra='\n[provider hook]\ntype = webhook\n'
                          'url = ftp://127.0.0.1/e\nsenders = *\n')
        res = self.run_ctl('list')
        self.assertRc(res, EX_CONFIG)
        self.assertIn('the scheme is ftp', res.err)
        # with libcurl found again, the configuration runs
        self.env = env
        self.write_config(extra='\n[provider hook]\ntype = webhook\n'
                          'url = http://127.0.0.1:9/e\nsenders = *\n')
        self.process(again, '--drain-timeout', '1s')
        queued = self.ctl_json('queue')
        self.assertEqual([q['address'] for q in queued], ['other@example.com'])
        self.assertGreaterEqual(queued[0]['attempts'], 1)
