"""test_resume.py - a file stopped in the middle resumes without counting
a row twice, however often the worker is stopped while it reads the file
again.

A resumed file is read again from byte 0; the rows before the committed
offset are only looked at for their header lines.  A SIGTERM during that
re-read commits what was parsed: the committed offset must not go back
to where the reader is, or the next start applies the rows in between a
second time.  The test takes a large generated file (tests/bench/gen_acct)
with `bounced run` once without interruption (state A), then on state B:
stopped with SIGTERM once most of the file is committed, then started and
stopped as soon as it logs that it resumes (inside the re-read), until
two stops landed there (at most six starts), then let run to the end.  The committed offset never goes backwards, at
least one stop must have landed in the re-read (the offset did not move),
and B's records, counters and file entry equal A's.
"""
import os
import sys

from harness import SLOW, RunTestCase, sanitized

STOPS_IN_REREAD = 2
# a stop meant for the re-read may come after it ended (the re-read takes
# a tenth of a second or two, and this process may be scheduled late on a
# busy machine): each such stop commits a chunk further, and the next
# start re-reads again; up to this many starts (or until a stop came so
# late that the file was finished)
STARTS_MAX = 6


class TestResume(RunTestCase):

    timeout = 900

    def use_state(self, name):
        self.state = os.path.join(self.dir, name)
        # commits on a stop or every 5000 records
        self.write_config(bounced={'batch-records': 5000})

    def put(self, big, name):
        key = os.path.join(self.acct, name)
        os.link(big, os.path.join(self.incoming, name))
        os.rename(os.path.join(self.incoming, name), key)
        return key

    def dump(self, key):
        recs = self.ctl_json('list')
        counters = self.ctl_json('stats')['counters']
        f = self.file_entry(key)
        return recs, counters, (f['status'], f['offset'], f['records'],
                                f['lines'], f['bad'])

    def test_sigterm_during_reread_twice_equals_uninterrupted(self):
        n = 150000 if sanitized() else 300000
        big = self.gen_acct(n, 5)
        size = os.path.getsize(big)
        name = 'acct-big.csv'

        # A: one uninterrupted run
        self.use_state('state-a')
        p = self.start('-q')
        key = self.put(big, name)
        self.wait_for(lambda: name in self.spool_files('done'),
                      300 * SLOW, 'the file never reached done/')
        rc, _ = self.stop(p)
        self.assertEqual(rc, 0)
        recs_a, counters_a, file_a = self.dump(key)
        self.assertEqual(file_a[:3], ('done', size, n))
        self.assertEqual(counters_a['records'], n)
        os.remove(os.path.join(self.spool, 'done', name))

        # B: stopped once a good part of the file is committed (not
        # later: the next batch is read while one is written, and a file
        # taken to its end before the stop proves nothing)
        self.use_state('state-b')
        p = self.start('-q')
        self.put(big, name)
        # (far into the file: the rows before the saved position are
        # read again without being applied, fast, and the stops below
        # must land while that happens)
        self.wait_for(lambda: p.poll() is not None or
                      (self.file_entry(key) or {}).get('offset', 0) >=
                      0.7 * size, 300 * SLOW, 'no commit past 70 %')
        rc, _ = self.stop(p)
        self.assertEqual(rc, 0, self.log(p))
        first = self.file_entry(key)
        self.assertEqual(first['status'], 'partial', self.log(p))
        offsets = [first['offset']]

        # started again and stopped while it reads the file again
        in_reread = 0
        for k in range(STARTS_MAX):
            if in_reread >= STOPS_IN_REREAD:
                break
            p = self.start()
            self.wait_for(lambda: p.poll() is not None or
                          'resuming at byte' in self.log(p), 30 * SLOW,
                          'the worker did not resume the file',
                          interval=0.002)
            rc, _ = self.stop(p)
            self.assertEqual(rc, 0, self.log(p))
            f = self.file_entry(key)
            self.assertIn(f['status'], ('partial', 'done'), self.log(p))
            self.assertGreaterEqual(
                f['offset'], offsets[-1],
                'stop %d went back from byte %d to %d: the rows in between '
                'would be applied again' % (k + 1, offsets[-1], f['offset']))
            if f['offset'] == offsets[-1] and f['status'] == 'partial':
                in_reread += 1
            offsets.append(f['offset'])
            if f['status'] == 'done':
                break   # a stop so late that the file was finished
        self.assertGreaterEqual(
            in_reread, 1, 'no stop landed in the re-read (offsets %r of %d): '
            'the test proves nothing' % (offsets, size))

        # to the end
        p = self.start('-q')
        self.wait_for(lambda: name in self.spool_files('done'),
                      300 * SLOW, 'the file never reached done/')
        rc, _ = self.stop(p)
        self.assertEqual(rc, 0)
        recs_b, counters_b, file_b = self.dump(key)
        sys.stderr.write('[%d records; committed offsets at the stops %r of '
                         '%d; %d stops in the re-read] ' %
                         (n, offsets, size, in_reread))
        self.assertEqual(file_b, file_a)
        self.assertEqual(counters_b, counters_a)
        self.assertEqual(len(recs_b), len(recs_a))
        if recs_a != recs_b:
            diff = [(x, y) for x, y in zip(recs_a, recs_b) if x != y]
            self.fail('%d records differ, e.g. %r' % (len(diff), diff[:2]))


if __name__ == '__main__':
    import unittest
    unittest.main()
