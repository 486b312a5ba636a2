"""test_pipe.py - `bounced process -` as PowerMTA's live accounting pipe.

PowerMTA (<acct-file |bounced process ->) starts the program once and
keeps its stdin open for as long as it runs, writing records as they
happen.  What is read must reach the state as soon as the writer pauses,
and within about batch-interval (default 250 ms) while it writes a slow
trickle; an unfinished line waits for its end; EOF commits the rest
and exits 0 with the summary line.  Other writers (a second pipe, a
`bounced process FILE`) may run on the same state at the same time: LMDB
lets one write at a time, the others wait, none fails.  bouncectl reads
while the pipe runs.
"""
import json
import os
import subprocess
import time
import unittest

from harness import BouncedTestCase, EX_OK, counts, sanitized, summaries

HEADER = 'type,timeLogged,orig,rcpt,dsnStatus,dsnDiag,bounceCat,feedbackType\n'
ORIG = 'bounces@news.example-shop.com'


def bounce(rcpt, cat='bad-mailbox', status='5.1.1', when='2026-11-25 08:00:00+0000'):
    return 'b,%s,%s,%s,%s,smtp;550 %s no,%s,\n' % (when, ORIG, rcpt, status,
                                                   status, cat)


def complaint(rcpt, when='2026-11-25 08:00:00+0000'):
    return 'f,%s,%s,%s,,,,abuse\n' % (when, ORIG, rcpt)


class PipeTestCase(BouncedTestCase):

    def start_pipe(self):
        """bounced -c CONFIG process - with stdin, stdout, stderr as pipes"""
        argv = [self.bounced, '-c', self.config, 'process', '-']
        p = subprocess.Popen(argv, cwd=self.dir, env=self.env(),
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        self.addCleanup(self.reap, p)
        return p

    def reap(self, p):
        if p.poll() is None:
            p.kill()
            p.communicate()

    def send(self, p, text):
        p.stdin.write(text.encode('utf-8'))
        p.stdin.flush()

    def finish(self, p):
        """close stdin (communicate does); wait for exit 0; the summary
        line of stdin and stderr"""
        out, err = p.communicate(timeout=60)
        out = out.decode('utf-8', 'replace')
        err = err.decode('utf-8', 'replace')
        self.assertEqual(p.returncode, EX_OK, 'stdout: %s\nstderr: %s' %
                         (out, err))
        self.assertNotRegex(err, r'ERROR: \w+Sanitizer|runtime error:')
        s = summaries(out)
        self.assertIn('stdin', s, out)
        return s['stdin'], err

    def status(self, addr):
        """the status of ADDR in the state, None when it is not there"""
        res = self.run_ctl('show', addr, '--format', 'json')
        if res.rc != EX_OK:
            return None
        return json.loads(res.out)['status']

    def wait_status(self, addr, want, limit):
        """seconds until ADDR has status WANT; fails after LIMIT seconds"""
        t0 = time.monotonic()
        while True:
            got = self.status(addr)
            took = time.monotonic() - t0
            if got == want:
                return took
            if took > limit:
                self.fail('%s is %r, not %r, %.1f s after it was written'
                          % (addr, got, want, took))
            time.sleep(0.05)


class TestPipe(PipeTestCase):

    def test_commit_while_stdin_stays_open(self):
        p = self.start_pipe()
        self.send(p, HEADER + bounce('hard.one@example.com') +
                  complaint('Complainer@Example.org') +
                  bounce('soft.one@example.net', 'quota-issues', '4.2.2'))
        # committed while stdin stays open: read-only, while the writer
        # still runs
        self.wait_status('hard.one@example.com', 'hard', 10)
        self.assertIsNone(p.poll(), 'bounced process - exited early')
        self.assertEqual(self.status('complainer@example.org'), 'complained')
        self.assertEqual(self.status('soft.one@example.net'), 'soft')
        # quiet for a while: still running, nothing lost
        time.sleep(0.5)
        self.assertIsNone(p.poll())
        # a second batch, then EOF
        self.send(p, bounce('hard.two@example.com'))
        summary, _ = self.finish(p)
        self.assertEqual({k: summary[k] for k in counts()},
                         counts(records=4, hard=2, soft=1, complaints=1))
        self.assertEqual(self.status('hard.two@example.com'), 'hard')

    def test_unfinished_line_waits_for_its_end(self):
        p = self.start_pipe()
        self.send(p, HEADER + bounce('first@example.com'))
        line = bounce('second@example.com')
        self.send(p, line[:-10])
        self.wait_status('first@example.com', 'hard', 3)
        time.sleep(1.2)
        self.assertIsNone(self.status('second@example.com'))
        self.send(p, line[-10:])
        self.wait_status('second@example.com', 'hard', 3)
        # a last line without its newline: EOF ends it (a stream is not
        # read again)
        self.send(p, bounce('third@example.com')[:-1])
        summary, _ = self.finish(p)
        self.assertEqual(summary['records'], 3)
        self.assertEqual(summary['hard'], 3)
        self.assertEqual(self.status('third@example.com'), 'hard')

    def test_latency_with_short_interval(self):
        """with batch-interval 200ms a record is in the state within a
        second (two on a machine busy with other tests), whether the writer
        goes quiet or keeps trickling"""
        self.write_config(bounced={'batch-interval': '200ms'})
        p = self.start_pipe()
        self.send(p, HEADER)
        # the wait includes a bouncectl start per poll: on a loaded
        # two-core machine that alone can cost a good part of a second
        limit = 3.0 if sanitized() else 2.0
        took = []
        for i in range(5):
            self.send(p, bounce('quiet%d@example.com' % i))
            took.append(self.wait_status('quiet%d@example.com' % i, 'hard',
                                         limit))
        # a trickle: a record every 50 ms for 2 s; the first must be in
        # the state long before the trickle ends
        t0 = time.monotonic()
        seen = None
        i = 0
        while time.monotonic() - t0 < 2.0:
            self.send(p, bounce('trickle%d@example.com' % i, 'quota-issues',
                                '4.2.2'))
            i += 1
            if seen is None and self.status('trickle0@example.com') == 'soft':
                seen = time.monotonic() - t0
            time.sleep(0.05)
        self.assertIsNotNone(seen, 'nothing committed during a 2 s trickle')
        self.assertLess(seen, limit)
        summary, _ = self.finish(p)
        self.assertEqual(summary['records'], 5 + i)
        self.assertLess(max(took), limit, took)

    def test_large_batch_records_does_not_delay(self):
        """batch-records far above what arrives: time alone commits"""
        self.write_config(bounced={'batch-records': 10000000})
        p = self.start_pipe()
        self.send(p, HEADER + bounce('lonely@example.com'))
        self.wait_status('lonely@example.com', 'hard',
                         4.0 if sanitized() else 2.0)
        self.finish(p)


    def test_commit_when_the_writer_pauses(self):
        """batch-interval far away: a record is committed because
        PowerMTA paused, not because the interval ran out"""
        self.write_config(bounced={'batch-interval': '1h'})
        p = self.start_pipe()
        self.send(p, HEADER + bounce('paused@example.com'))
        self.wait_status('paused@example.com', 'hard',
                         4.0 if sanitized() else 2.0)
        self.assertIsNone(p.poll(), 'bounced process - exited early')
        self.finish(p)


class TestPipeStop(PipeTestCase):
    """SIGTERM (PowerMTA's service stopped with its pipe): what was read
    is committed; the pipe is read on to its end for a second at most."""

    def writer(self, p, until, n):
        """write hard bounces u0... to P as fast as it takes them until
        UNTIL (monotonic), then close stdin; N[0] counts them"""
        try:
            while time.monotonic() < until:
                self.send(p, ''.join(bounce('u%d@example.com' % (n[0] + i))
                                     for i in range(100)))
                n[0] += 100
            p.stdin.close()
        except (BrokenPipeError, ValueError):
            pass

    def wait_exit(self, p):
        """P's exit code, stdout and stderr (small: the dry-run lines are
        capped), stdin left as it is (communicate would close it)"""
        rc = p.wait(60)
        return (rc, p.stdout.read().decode('utf-8', 'replace'),
                p.stderr.read().decode('utf-8', 'replace'))

    def stats_addresses(self):
        return json.loads(self.run_ctl('stats', '--format', 'json').out)[
            'addresses']

    def test_sigterm_while_writing_loses_nothing(self):
        import signal
        import threading
        p = self.start_pipe()
        self.send(p, HEADER)
        n = [0]
        # the writer goes on 0.2 s after the signal, then closes: well
        # within the second the reading goes on for (a sanitized build
        # beside another suite reads slowly)
        t = threading.Thread(target=self.writer,
                             args=(p, time.monotonic() + 0.7, n))
        t.start()
        time.sleep(0.5)
        p.send_signal(signal.SIGTERM)
        t.join()
        rc, out, err = self.wait_exit(p)
        # read on to the end (the writer closed within the second)
        self.assertEqual(rc, EX_OK, err[-2000:])
        self.assertIn('-: asked to stop: read on to its end', err)
        self.assertGreater(n[0], 0)
        self.assertEqual(self.stats_addresses(), n[0])
        self.assertEqual(summaries(out)['stdin']['hard'], n[0])

    def test_sigterm_with_the_pipe_left_open(self):
        import signal
        p = self.start_pipe()
        # and half a record, which the writer never ends
        self.send(p, HEADER + ''.join(bounce('o%d@example.com' % i)
                                      for i in range(50)) +
                  bounce('cut@example.com')[:20])
        # the signal once the records are read (committed at the
        # writer's pause), not after a fixed time a loaded host outlasts
        self.wait_status('o49@example.com', 'hard', 30)
        p.send_signal(signal.SIGTERM)
        # the writer neither writes nor closes: stopped after a second
        rc, out, err = self.wait_exit(p)
        self.assertEqual(rc, 75, err[-2000:])
        self.assertIn('-: stopped before its end: what was read is '
                      'committed', err)
        self.assertIn('Terminated: stopping: the inputs not taken, the '
                      'mails and the outbox are left for the next run', err)
        self.assertEqual(self.stats_addresses(), 50)
        # what it did not take is said, not dropped without a word
        self.assertIn('-: 20 bytes read after line 51, a record not ended '
                      'when it stopped, were not taken (a stream is not read '
                      'again)', err)


class TestPipeBesideOthers(PipeTestCase):

    def test_two_pipes_and_a_file_on_one_state(self):
        a = self.start_pipe()
        b = self.start_pipe()
        self.send(a, HEADER)
        self.send(b, HEADER)
        for i in range(200):
            self.send(a, bounce('a%d@example.com' % i))
            self.send(b, bounce('b%d@example.com' % i, 'quota-issues',
                                '4.2.2'))
        self.wait_status('a199@example.com', 'hard', 5)
        self.wait_status('b199@example.com', 'soft', 5)
        # a one-shot run of a file on the same state while both pipes run
        path = self.write_file('spool/acct/extra.csv',
                               HEADER + bounce('file1@example.com') +
                               complaint('file2@example.com'))
        res = self.run_bounced('process', path, timeout=60)
        self.assertRc(res, EX_OK)
        self.assertEqual(self.status('file1@example.com'), 'hard')
        self.assertEqual(self.status('file2@example.com'), 'complained')
        # both pipes keep going
        self.send(a, bounce('a-last@example.com'))
        self.send(b, bounce('b-last@example.com'))
        sa, _ = self.finish(a)
        sb, _ = self.finish(b)
        self.assertEqual((sa['records'], sa['hard']), (201, 201))
        self.assertEqual((sb['records'], sb['soft'], sb['hard']),
                         (201, 200, 1))
        st = self.statuses()
        self.assertEqual(len(st), 404)
        self.assertEqual(st['a-last@example.com'], 'hard')
        self.assertEqual(st['b-last@example.com'], 'hard')


if __name__ == '__main__':
    unittest.main()
