"""test_crash.py - kill -9 at random points loses and doubles nothing.

A large generated accounting file (tests/bench/gen_acct) is taken once
without interruption into state A.  Then the same file is taken into state
B by `bounced process FILE` killed with SIGKILL at several random moments,
restarted on the same state after each kill, and finally let run to its
end.  Every recipient record of A and B must be equal (bouncectl list, and
show for a sample of addresses, wall-clock action times aside), and so must
the event counters and the files table's record count.  At least one kill
must have hit the middle of the file (a committed offset between 0 and the
size), or the test proves nothing.

The size is 600k records over 50k addresses, less under the sanitizers
(BOUNCED_SANITIZE=1, or a build directory named san); BOUNCED_CRASH_RECORDS
sets it, BOUNCED_CRASH_SEED repeats a failing run (its seed is printed).
"""
import os
import random
import signal
import subprocess
import sys
import time
import unittest

from harness import BouncedTestCase, EX_OK, sanitized, summaries

KILLS = 5
BATCH_RECORDS = 20000


class TestCrash(BouncedTestCase):

    timeout = 600

    def setUp(self):
        super().setUp()
        n = 400000 if not sanitized() else 160000
        n = int(os.environ.get('BOUNCED_CRASH_RECORDS', n))
        self.n_records = n
        self.n_addrs = max(1000, n // 12)
        self.seed = int(os.environ.get('BOUNCED_CRASH_SEED',
                                       int(time.time() * 1000) % 1000000))
        self.rng = random.Random(self.seed)
        self.file = self.gen_acct(n, 7, os.path.join(self.dir,
                                                     'acct-crash.csv'))
        self.size = os.path.getsize(self.file)

    def use_state(self, name):
        """point the config at DIR/NAME (batches of BATCH_RECORDS)"""
        self.state = os.path.join(self.dir, name)
        self.write_config(bounced={'batch-records': BATCH_RECORDS})

    def dump(self):
        """(list JSON, {address: show JSON without action times},
        event counters, files table entry of the file)"""
        recs = self.ctl_json('list')
        addrs = [o['address'] for o in recs]
        sample = addrs[::max(1, len(addrs) // 40)][:40]
        # the hot addresses (most events) are the likeliest to differ
        sample += [o['address'] for o in
                   sorted(recs, key=lambda o: -o['soft_count'])[:10]]
        shows = {}
        for a in sample:
            s = self.show(a)
            for act in s['actions']:
                act.pop('time', None)
            shows[a] = s
        stats = self.ctl_json('stats')
        files = [f for f in self.ctl_json('files') if f['key'] == self.file]
        self.assertEqual(len(files), 1)
        return recs, shows, stats['counters'], files[0]

    def start(self, n):
        out = open(os.path.join(self.dir, 'run-%d.out' % n), 'wb')
        err = open(os.path.join(self.dir, 'run-%d.err' % n), 'wb')
        p = subprocess.Popen([self.bounced, '-q', '-c', self.config,
                              'process', self.file], cwd=self.dir,
                             env=self.env(), stdout=out, stderr=err)
        out.close()
        err.close()
        return p

    def log(self, n):
        with open(os.path.join(self.dir, 'run-%d.err' % n), 'rb') as f:
            return f.read().decode('utf-8', 'replace')

    def assertSameRecords(self, a, b):
        if a == b:
            return
        am = {o['address']: o for o in a}
        bm = {o['address']: o for o in b}
        diff = [(k, am.get(k), bm.get(k)) for k in sorted(set(am) | set(bm))
                if am.get(k) != bm.get(k)]
        self.fail('seed %d: %d of %d records differ after kills, e.g.\n%s' %
                  (self.seed, len(diff), len(am),
                   '\n'.join('A %s\nB %s' % (x, y) for _, x, y in diff[:3])))

    def test_kill9_and_resume_equals_uninterrupted(self):
        sys.stderr.write('[crash test: %d records, %d addresses, seed %d] '
                         % (self.n_records, self.n_addrs, self.seed))
        # A: uninterrupted
        self.use_state('state-a')
        t0 = time.monotonic()
        res = self.run_bounced('-q', 'process', self.file)
        full = time.monotonic() - t0
        self.assertRc(res, EX_OK)
        s = summaries(res.out)[self.file]
        self.assertEqual(s['records'], self.n_records)
        self.assertEqual(s['bad'], 0)
        self.assertGreater(s['escalated'], 0)
        self.assertGreater(s['duplicates'], 0)
        recs_a, shows_a, counters_a, file_a = self.dump()
        self.assertEqual(file_a['status'], 'done')
        self.assertEqual(file_a['offset'], self.size)

        # B: killed KILLS times at random moments, resumed each time
        self.use_state('state-b')
        # kill points: the first at a random early moment (perhaps before
        # any commit), the others once the committed offset has passed a
        # random fraction of the file, plus a random part of a commit
        # interval, so that kills land anywhere in a batch or its commit
        targets = sorted(self.rng.uniform(0.05, 0.9) for _ in range(KILLS - 1))
        batch_time = full * BATCH_RECORDS / self.n_records
        kills = mid_file = 0
        offsets = []
        finished = False
        while kills < KILLS:
            p = self.start(kills)
            if kills == 0:
                time.sleep(self.rng.uniform(0.0, 0.3) * full)
            else:
                goal = targets[kills - 1] * self.size
                while p.poll() is None:
                    f = self.file_entry(self.file)
                    if f and f['offset'] >= goal:
                        break
                    # each look is a bouncectl run: sanitized, a dear one
                    time.sleep(0.1 if sanitized() else 0.02)
                time.sleep(self.rng.uniform(0.0, 1.5) * batch_time)
            if p.poll() is not None:    # it finished before the kill
                self.assertEqual(p.returncode, EX_OK, self.log(kills))
                finished = True
                break
            p.send_signal(signal.SIGKILL)
            p.wait()
            if p.returncode == EX_OK:   # it finished as the signal left
                finished = True
                break
            self.assertEqual(p.returncode, -signal.SIGKILL, self.log(kills))
            kills += 1
            f = self.file_entry(self.file)
            off = f['offset'] if f else 0
            offsets.append(off)
            if 0 < off < self.size:
                mid_file += 1
                self.assertEqual(f['status'], 'partial')
        if not finished:                # to the end
            res = self.run_bounced('-q', 'process', self.file)
            self.assertRc(res, EX_OK)
        self.assertGreaterEqual(kills, 1, 'no kill happened (seed %d)' %
                                self.seed)
        self.assertGreaterEqual(
            mid_file, 1, 'seed %d: no kill hit the middle of the file; '
            'committed offsets at the kills: %r' % (self.seed, offsets))
        self.assertEqual(offsets, sorted(offsets))
        sys.stderr.write('[full run %.1f s; %d kills, committed offsets %s '
                         'of %d] ' % (full, kills, offsets, self.size))

        recs_b, shows_b, counters_b, file_b = self.dump()
        self.assertSameRecords(recs_a, recs_b)
        for a in shows_a:
            self.assertEqual(shows_a[a], shows_b[a],
                             'seed %d: show %s differs' % (self.seed, a))
        self.assertEqual(counters_a, counters_b, 'seed %d' % self.seed)
        self.assertEqual((file_b['status'], file_b['offset'],
                          file_b['records'], file_b['lines']),
                         (file_a['status'], file_a['offset'],
                          file_a['records'], file_a['lines']))
        # and a further run takes nothing
        res = self.run_bounced('process', self.file)
        self.assertRc(res, EX_OK)
        self.assertIn('already taken (%d records)' % self.n_records, res.out)


if __name__ == '__main__':
    unittest.main()
