"""test_lock.py - one dispatcher per state, one worker per spool.

Whoever holds STATE/bounced.lock sends the outbox: `bounced process` (a
file, or the PowerMTA pipe `bounced process -`) beside a running `bounced
run` on the same state only ingests, says that the worker sends the
actions, and the fake MailWizz receives exactly the calls of one process
alone (no call twice, no 422 "already marked as bounced").  A `bounced run`
started while a `bounced process` sends the outbox waits for it.  A second
`bounced run` on the same spool (with another state) exits 75 naming the
holder of SPOOL/bounced.lock, and so does `bounced process` without FILE
arguments or with a file of SPOOL/acct/ (it would take the worker's
files).
"""
import collections
import os
import re
import subprocess
import sys
import time

from harness import EX_OK, EX_TEMPFAIL, SLOW, RunTestCase, read_text

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
from fake import mailwizz  # noqa: E402

PUB, PRIV = 'PUBKEY123', 'PRIVKEY456'
CAMPAIGN = 'cc123cd456ef7'
LISTS = ['la111aa111aa1', 'lb222bb222bb2', 'lc333cc333cc3']
N_ADDRS = 120
N_RECORDS = 300


def mw_data(addrs):
    return mailwizz.subscribed_everywhere(addrs, LISTS,
                                          [(CAMPAIGN, 'Lock', LISTS[0])])


def acct_text(addrs):
    """hard bounces on the campaign, each address several times"""
    out = ['type,timeLogged,orig,rcpt,dsnStatus,dsnDiag,bounceCat,vmta,'
           'jobId\r\n']
    for i in range(N_RECORDS):
        a = addrs[(i * 7) % len(addrs)]
        out.append('b,2026-11-24 %02d:%02d:%02d+0000,news@bounces.example.com,'
                   '%s,5.1.1,"smtp;550 5.1.1 user unknown",bad-mailbox,vmta1,'
                   'mailwizz-%s\r\n' % (i // 3600, i // 60 % 60, i % 60, a,
                                        CAMPAIGN))
    return ''.join(out)


def call_keys(fake):
    """what was asked, as a Counter: method, target, body"""
    return collections.Counter((c['method'], c['target'], c['body'])
                               for c in fake.calls())


class TestOneDispatcher(RunTestCase):

    def setUp(self):
        super().setUp()
        self.addrs = ['user%03d@example.com' % i for i in range(N_ADDRS)]
        self.text = acct_text(self.addrs)

    def mw(self, latency_ms=0):
        fake = mailwizz.MailWizzFake(public_key=PUB, private_key=PRIV,
                                     data=mw_data(self.addrs),
                                     latency_ms=latency_ms)
        fake.start()
        self.addCleanup(fake.stop)
        return fake

    def use(self, state, fake, concurrency=2):
        self.state = os.path.join(self.dir, state)
        self.write_config(extra=(
            '\n[provider mw]\ntype = mailwizz\nendpoint = %s/api\n'
            'public-key = %s\nprivate-key = %s\nsenders = *\n'
            'concurrency = %d\nretry-min = 50ms\nretry-max = 200ms\n' %
            (fake.url, PUB, PRIV, concurrency)))

    def reference(self):
        """the calls of one `bounced process` of the file, alone"""
        fake = self.mw()
        self.use('state-ref', fake)
        path = self.write_file('ref.csv', self.text)
        res = self.run_bounced('process', path)
        self.assertRc(res, EX_OK)
        self.assertEqual(self.ctl_json('queue'), [])
        ref = call_keys(fake)
        self.assertGreater(sum(ref.values()), N_ADDRS)
        self.assertEqual([c for c in fake.calls() if c['status'] == 422], [])
        return ref

    def test_pipe_beside_the_worker_only_ingests(self):
        ref = self.reference()
        fake = self.mw(latency_ms=10)
        self.use('state', fake)
        p = self.start()
        res = self.run_bounced('process', '-', stdin=self.text)
        self.assertRc(res, EX_OK)
        self.assertRegex(res.out, r'(?m)^stdin: %d records, ' % N_RECORDS)
        self.wait_for(lambda: self.queue() == [], 60 * SLOW,
                      'the worker did not empty the outbox')
        rc, _ = self.stop(p)
        self.assertEqual(rc, EX_OK)
        got = call_keys(fake)
        twice = {k: v for k, v in got.items() if v > ref.get(k, 0)}
        dup422 = [c['target'] for c in fake.calls() if c['status'] == 422]
        sys.stderr.write('[%d calls, one process alone %d; %d answered 422] '
                         % (sum(got.values()), sum(ref.values()),
                            len(dup422)))
        self.assertEqual(dup422, [])
        self.assertEqual(twice, {}, 'calls made more often than by one '
                         'process alone')
        self.assertEqual(got, ref)
        self.assertRegex(res.out, r'(?m)^outbox: \d+ actions queued; bounced '
                         r'run \(pid %d\) holds %s and sends them$' %
                         (p.pid, re.escape(os.path.join(self.state,
                                                        'bounced.lock'))))
        self.assertNotIn('provider mw:', res.out)
        # the file form too: nothing more is sent
        path = self.write_file('again.csv', self.text.replace(
            '2026-11-24', '2026-11-25'))
        p = self.start()
        res = self.run_bounced('process', path)
        self.assertRc(res, EX_OK)
        self.assertIn('holds %s and sends them' %
                      os.path.join(self.state, 'bounced.lock'), res.out)
        self.wait_for(lambda: self.queue() == [], 60 * SLOW,
                      'the worker did not empty the outbox')
        rc, _ = self.stop(p)
        self.assertEqual(rc, EX_OK)
        self.assertEqual([c['target'] for c in fake.calls()
                          if c['status'] == 422], [])

    def test_worker_waits_for_a_process_sending_the_outbox(self):
        fake = self.mw(latency_ms=20)
        self.use('state', fake, concurrency=1)
        path = self.write_file('slow.csv', self.text)
        lock = os.path.join(self.state, 'bounced.lock')
        proc = subprocess.Popen([self.bounced, '-c', self.config, 'process',
                                 path], cwd=self.dir, env=self.env(),
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        self.wait_for(lambda: proc.poll() is not None or (
            os.path.exists(lock) and
            read_text(lock) == '%d process\n' % proc.pid), 30 * SLOW,
            'bounced process did not take the state lock to send')
        self.assertIsNone(proc.poll(), 'bounced process ended too soon')
        self.assertGreater(len(self.queue()), 0)
        # a worker started now waits for it, then starts
        errpath = os.path.join(self.dir, 'waiting.err')
        with open(errpath, 'wb') as err:
            w = subprocess.Popen([self.bounced, '-c', self.config, 'run'],
                                 cwd=self.dir, env=self.env(),
                                 stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=err)
        w.errpath = errpath
        self.procs.append((w, errpath))
        self.wait_for(lambda: 'waiting until it is done' in self.log(w),
                      10 * SLOW, 'the worker does not say it waits')
        self.assertIn('bounced process (pid %d) holds %s' % (proc.pid, lock),
                      self.log(w))
        self.assertIsNone(w.poll())
        out, err = proc.communicate(timeout=120 * SLOW)
        self.assertEqual(proc.returncode, EX_OK, err)
        self.assertIn(b'provider mw:', out)
        self.wait_for(lambda: read_text(lock).strip() == str(w.pid),
                      10 * SLOW, 'the worker did not start after the wait')
        rc, _ = self.stop(w)
        self.assertEqual(rc, EX_OK)
        self.assertEqual([c['target'] for c in fake.calls()
                          if c['status'] == 422], [])


class TestOneWorkerPerSpool(RunTestCase):

    def test_second_worker_on_the_spool_is_refused(self):
        self.state = os.path.join(self.dir, 'state-1')
        self.write_config()
        p = self.start()
        spool_lock = os.path.join(self.spool, 'bounced.lock')
        self.assertEqual(read_text(spool_lock), '%d\n' % p.pid)
        # another state, the same spool
        self.state = os.path.join(self.dir, 'state-2')
        self.write_config()
        res = self.run_bounced('run', timeout=30)
        self.assertRc(res, EX_TEMPFAIL)
        self.assertIn('another bounced run holds %s (pid %d)' %
                      (spool_lock, p.pid), res.err)
        self.assertIn('one worker per spool', res.err)
        # nor takes bounced process the worker's files
        res = self.run_bounced('process', timeout=30)
        self.assertRc(res, EX_TEMPFAIL)
        self.assertIn('bounced run (pid %d) holds %s' % (p.pid, spool_lock),
                      res.err)
        # nor a file of acct/ named on the command line
        held = os.path.join(self.acct, '.held.csv')
        with open(held, 'w') as f:
            f.write('type,rcpt\r\nb,x@example.com\r\n')
        res = self.run_bounced('process', held, timeout=30)
        self.assertRc(res, EX_TEMPFAIL)
        self.assertIn('bounced run (pid %d) holds %s' % (p.pid, spool_lock),
                      res.err)
        self.assertFalse(os.path.exists(os.path.join(self.state, 'data.mdb')))
        # a file elsewhere is taken beside the worker
        other = self.write_file('other.csv', 'type,rcpt\r\nb,y@example.com\r\n')
        res = self.run_bounced('process', other, timeout=30)
        self.assertRc(res, EX_OK)
        self.assertIsNone(p.poll())
        rc, _ = self.stop(p)
        self.assertEqual(rc, EX_OK)
        # once the first is gone, the second starts
        p = self.start()
        self.assertEqual(read_text(spool_lock), '%d\n' % p.pid)
        rc, _ = self.stop(p)
        self.assertEqual(rc, EX_OK)
        # and bounced process takes the spool when no worker runs
        res = self.run_bounced('process', timeout=30)
        self.assertRc(res, EX_OK)


if __name__ == '__main__':
    import unittest
    unittest.main()
