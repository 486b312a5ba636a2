"""test_run.py - `bounced run`, the spool worker, as a real process on a
temporary spool, with the webhook fake on 127.0.0.1 where provider calls
matter.

Files renamed into acct/ are taken within a second and moved to done/,
their actions reach the fake; files still being written (an acct-ignore
name, a dot-file, a file still open) are not taken early; malformed files
land in failed/ with NAME.why; SIGTERM lets requests under way finish (or
not past shutdown-timeout) and exits 0; SIGHUP with a broken configuration
keeps the worker running on the old one, a good one takes effect; a second
worker on the same state exits 75; and kill -9 in the middle of a large
file (tests/bench/gen_acct), then a restart, ends in the same records and
the same provider calls as an uninterrupted run (repeats only of requests
that were under way at the kill).
"""
import os
import shutil
import signal
import sys
import time

from harness import (ACCT_HEADER, EX_OK, EX_TEMPFAIL, SLOW, RunTestCase,
                     read_text,
                     acct_rec, hard_file, sanitized)


def cpu_seconds(pid):
    """the user and system CPU time process PID used so far"""
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


class TestTake(RunTestCase):

    def test_renamed_file_is_taken_and_acted_on(self):
        fake = self.hook()
        self.hook_config(fake)
        p = self.start()
        addrs = ['a%d@example.com' % i for i in range(3)]
        path, t = self.drop('acct-1.csv', hard_file(addrs))
        self.wait_for(lambda: 'acct-1.csv' in self.spool_files('done'),
                      5 * SLOW, 'the file did not reach done/')
        taken = time.monotonic() - t
        self.assertLess(taken, 1.0 * SLOW, 'taken after %.2f s' % taken)
        self.assertEqual(self.spool_files('acct'), [])
        self.wait_for(lambda: len(fake.events()) >= 3, 5 * SLOW,
                      'the webhook did not get the 3 events')
        got = sorted(e['address'] for e in fake.events())
        self.assertEqual(got, addrs)
        for e in fake.events():
            self.assertEqual(e['source'], path)
            self.assertEqual(e['event'], 'hard')
        s = self.summary_of(p, path)
        self.assertIsNotNone(s, self.log(p))
        self.assertEqual((s['records'], s['hard']), (3, 3))
        self.wait_for(lambda: self.queue() == [], 5 * SLOW,
                      'the outbox did not empty')
        rc, _ = self.stop(p)
        self.assertEqual(rc, EX_OK)
        self.assertEqual(len(fake.events()), 3)        # nothing twice
        files = {f['key']: f for f in self.ctl_json('files')}
        self.assertEqual(files[path]['status'], 'done')

    def test_start_takes_what_waits_oldest_first(self):
        self.write_config()
        older = os.path.join(self.acct, 'z-older.csv')
        newer = os.path.join(self.acct, 'a-newer.csv')
        for path, a, mtime in ((older, 'o@example.com', 1000000000),
                               (newer, 'n@example.com', 1000000100)):
            with open(path, 'w') as f:
                f.write(hard_file([a]))
            os.utime(path, (mtime, mtime))
        with open(os.path.join(self.acct, 'w.csv.tmp'), 'w') as f:
            f.write(hard_file(['tmp@example.com']))
        with open(os.path.join(self.acct, '.dot.csv'), 'w') as f:
            f.write(hard_file(['dot@example.com']))
        p = self.start()
        self.wait_for(lambda: len(self.spool_files('done')) == 2, 5 * SLOW,
                      'the waiting files were not taken')
        log = self.log(p)
        self.assertLess(log.index(older + ': 1 records'),
                        log.index(newer + ': 1 records'))
        self.assertEqual(self.spool_files('acct'), ['.dot.csv', 'w.csv.tmp'])
        rc, _ = self.stop(p)
        self.assertEqual(rc, EX_OK)
        self.assertEqual(sorted(self.statuses()),
                         ['n@example.com', 'o@example.com'])

    def test_file_being_written_is_not_taken_early(self):
        self.write_config()
        p = self.start()
        full = hard_file(['p%d@example.com' % i for i in range(10)])
        half = full[:full.index('p5@')]
        half = half[:half.rindex('\n') + 1]
        # an acct-ignore name, complete: left alone until renamed
        part = os.path.join(self.acct, 'x.csv.part')
        with open(part, 'w') as f:
            f.write(full)
        # a dot-file, complete
        dot = os.path.join(self.acct, '.y.csv')
        with open(dot, 'w') as f:
            f.write(full)
        # a file written in place, still open after half of it
        slow = os.path.join(self.acct, 'slow.csv')
        f = open(slow, 'w')
        f.write(half)
        f.flush()
        time.sleep(1.5 * SLOW)
        self.assertEqual(self.spool_files('done'), [])
        self.assertEqual(self.spool_files('acct'),
                         ['.y.csv', 'slow.csv', 'x.csv.part'])
        self.assertIsNone(self.summary_of(p, slow))
        f.write(full[len(half):])
        f.close()
        self.wait_for(lambda: 'slow.csv' in self.spool_files('done'),
                      5 * SLOW, 'slow.csv was not taken once closed')
        s = self.summary_of(p, slow)
        self.assertEqual(s['records'], 10, self.log(p))
        # renamed to a wanted name: taken
        os.rename(part, os.path.join(self.acct, 'x.csv'))
        self.wait_for(lambda: 'x.csv' in self.spool_files('done'),
                      5 * SLOW, 'x.csv was not taken once renamed')
        time.sleep(0.3)
        self.assertEqual(self.spool_files('acct'), ['.y.csv'])
        rc, _ = self.stop(p)
        self.assertEqual(rc, EX_OK)

    def test_file_renamed_in_while_open_waits_for_its_close(self):
        # a writer that renames its file into acct/ before closing it
        # (a rotation done in that order), then writes on: taken at its
        # close, whole; taken at the rename, the rest would have been
        # written into the file in done/ and lost
        self.write_config()
        p = self.start()
        full = hard_file(['r%d@example.com' % i for i in range(10)])
        half = full[:full.index('r5@') + 3]     # half a record too
        part = os.path.join(self.acct, 'rot.csv.part')
        f = open(part, 'w')
        f.write(half)
        f.flush()
        os.rename(part, os.path.join(self.acct, 'rot.csv'))
        self.wait_for(lambda: 'still open for writing' in self.log(p),
                      5 * SLOW, 'the open file was not noticed')
        time.sleep(0.5 * SLOW)
        self.assertEqual(self.spool_files('done'), [])
        self.assertEqual(self.spool_files('acct'), ['rot.csv'])
        self.assertEqual(self.statuses(), {})
        f.write(full[len(half):])
        f.close()
        self.wait_for(lambda: 'rot.csv' in self.spool_files('done'),
                      5 * SLOW, 'rot.csv was not taken once closed')
        s = self.summary_of(p, os.path.join(self.acct, 'rot.csv'))
        self.assertEqual((s['records'], s['hard'], s['bad']), (10, 10, 0),
                         self.log(p))
        rc, _ = self.stop(p)
        self.assertEqual(rc, EX_OK)

    def test_file_held_open_at_start_is_not_taken(self):
        # the scan at start finds a file its writer holds open without
        # writing (long quiet: not young): left until it is closed
        self.write_config()
        held = os.path.join(self.acct, 'held.csv')
        f = open(held, 'w')
        f.write(hard_file(['h%d@example.com' % i for i in range(3)]))
        f.flush()
        os.utime(held, (1000000000, 1000000000))
        p = self.start()
        self.wait_for(lambda: 'still open for writing' in self.log(p),
                      5 * SLOW, 'the open file was not noticed')
        self.assertEqual(self.spool_files('done'), [])
        f.write(acct_rec('b', '2026-11-24 10:00:00+0000',
                         'news@bounces.example.com', 'h3@example.com',
                         '5.1.1', 'smtp;550 5.1.1 unknown', 'bad-mailbox'))
        f.close()
        self.wait_for(lambda: 'held.csv' in self.spool_files('done'),
                      5 * SLOW, 'held.csv was not taken once closed')
        self.assertEqual(sorted(self.statuses()),
                         ['h%d@example.com' % i for i in range(4)])
        rc, _ = self.stop(p)
        self.assertEqual(rc, EX_OK)

    def test_file_written_at_start_is_not_taken_early(self):
        # the scan at start finds a file still being written (cp into
        # acct/): left until it is closed; another, closed a moment
        # before the start (no event will come for it): taken once quiet
        self.write_config()
        addrs = ['w%d@example.com' % i for i in range(10)]
        full = hard_file(addrs)
        lines = full.splitlines(True)
        quiet = os.path.join(self.acct, 'quiet.csv')
        with open(quiet, 'w') as f:
            f.write(hard_file(['q@example.com']))
        slow = os.path.join(self.acct, 'slow.csv')
        f = open(slow, 'w')
        f.write(''.join(lines[:3]))
        f.flush()
        p = self.start()
        try:
            for line in lines[3:-1]:
                time.sleep(0.4)
                f.write(line)
                f.flush()
                self.assertNotIn('slow.csv', self.spool_files('done'))
            f.write(lines[-1])
        finally:
            f.close()
        self.wait_for(lambda: 'slow.csv' in self.spool_files('done'),
                      5 * SLOW, 'slow.csv was not taken once closed')
        self.assertEqual(self.summary_of(p, slow)['records'], 10,
                         self.log(p))
        self.wait_for(lambda: 'quiet.csv' in self.spool_files('done'),
                      5 * SLOW, 'quiet.csv was not taken')
        rc, _ = self.stop(p)
        self.assertEqual(rc, EX_OK)

    def test_file_open_while_a_young_one_waits_is_taken_at_close(self):
        # the scan at start leaves A (being written) young; B arrives
        # while the worker runs and its writer pauses longer than the
        # quiet time with B open: B is taken at its close, whole, as it
        # is without A waiting (only A is looked at again each second)
        self.write_config()
        a_lines = hard_file(['a%d@example.com' % i
                             for i in range(12)]).splitlines(True)
        b_lines = hard_file(['b1@example.com',
                             'b2@example.com']).splitlines(True)
        a_path = os.path.join(self.acct, 'A.csv')
        b_path = os.path.join(self.acct, 'B.csv')
        a = open(a_path, 'w')
        b = None
        try:
            a.write(a_lines[0])
            a.flush()
            p = self.start()
            self.assertIn('1 files of %s were written in the last 2 s: '
                          'taken once closed (or quiet)' % self.acct,
                          self.log(p))
            b = open(b_path, 'w')
            b.write(''.join(b_lines[:2]))
            b.flush()
            for line in a_lines[1:-1]:     # A young all along
                time.sleep(0.35)
                a.write(line)
                a.flush()
                self.assertEqual(self.spool_files('done'), [],
                                 self.log(p))
            b.write(b_lines[2])
        finally:
            if b:
                b.close()
            a.write(a_lines[-1])
            a.close()
        self.wait_for(lambda: self.spool_files('done') == ['A.csv', 'B.csv'],
                      5 * SLOW, 'A.csv and B.csv were not taken: %s'
                      % self.log(p))
        self.assertEqual(self.summary_of(p, b_path)['records'], 2,
                         self.log(p))
        self.assertEqual(self.summary_of(p, a_path)['records'], 12,
                         self.log(p))
        rc, _ = self.stop(p)
        self.assertEqual(rc, EX_OK)

    def test_malformed_files_go_to_failed_with_why(self):
        self.write_config()
        p = self.start()
        junk = bytes((i * 7919 + 13) % 256 for i in range(30000))
        self.drop('junk.bin', junk)
        self.drop('allbad.csv', 'b,,,,\r\n' * 5)
        path, _ = self.drop('good.csv', hard_file(['g@example.com']))
        self.wait_for(lambda: 'good.csv' in self.spool_files('done'),
                      5 * SLOW, 'good.csv was not taken')
        self.wait_for(lambda: len(self.spool_files('failed')) == 4,
                      5 * SLOW, 'the malformed files are not in failed/')
        self.assertEqual(self.spool_files('failed'),
                         ['allbad.csv', 'allbad.csv.why', 'junk.bin',
                          'junk.bin.why'])
        self.assertEqual(self.spool_files('acct'), [])
        for name in ('junk.bin', 'allbad.csv'):
            with open(os.path.join(self.spool, 'failed', name + '.why')) as f:
                why = f.read()
            self.assertIn('file: %s' % os.path.join(self.acct, name), why)
            self.assertIn('what to do:', why)
        # told from its first row; the other one ends with no usable record
        self.assertIn('why: not a PowerMTA accounting file: no header line, '
                      'and its first row (line 1) ', read_text(os.path.join(
                          self.spool, 'failed', 'junk.bin.why')))
        self.assertIn('why: no usable record', read_text(os.path.join(
            self.spool, 'failed', 'allbad.csv.why')))
        self.assertIn('(bad lines: 5,', read_text(os.path.join(
            self.spool, 'failed', 'allbad.csv.why')))
        self.assertIn('junk.bin: moved to failed/', self.log(p))
        files = {os.path.basename(f['key']): f['status']
                 for f in self.ctl_json('files')}
        self.assertEqual(files['junk.bin'], 'failed')
        self.assertEqual(files['good.csv'], 'done')
        # moved back unchanged: failed again, saying so
        os.remove(os.path.join(self.spool, 'failed', 'junk.bin.why'))
        os.rename(os.path.join(self.spool, 'failed', 'junk.bin'),
                  os.path.join(self.acct, 'junk.bin'))
        self.wait_for(lambda: 'junk.bin.why' in self.spool_files('failed'),
                      5 * SLOW, 'junk.bin did not fail again')
        with open(os.path.join(self.spool, 'failed', 'junk.bin.why')) as f:
            self.assertIn('as failed before', f.read())
        if os.geteuid() != 0:       # root reads anything
            locked = os.path.join(self.incoming, 'locked.csv')
            with open(locked, 'w') as f:
                f.write(hard_file(['l@example.com']))
            os.chmod(locked, 0)
            os.rename(locked, os.path.join(self.acct, 'locked.csv'))
            self.wait_for(
                lambda: 'locked.csv.why' in self.spool_files('failed'),
                5 * SLOW, 'an unreadable file did not go to failed/')
        rc, _ = self.stop(p)
        self.assertEqual(rc, EX_OK)

    def test_what_is_no_file_is_left_alone(self):
        """a FIFO and a link to nothing renamed into acct/ while the
        worker runs are left where they are, each said once, as the scan
        at start says them; the file after them is taken"""
        self.write_config()
        p = self.start()
        fifo = os.path.join(self.incoming, 'pipe.csv')
        os.mkfifo(fifo)
        os.rename(fifo, os.path.join(self.acct, 'pipe.csv'))
        link = os.path.join(self.incoming, 'dangling.csv')
        os.symlink('/nonexistent/acct.csv', link)
        os.rename(link, os.path.join(self.acct, 'dangling.csv'))
        self.drop('good.csv', hard_file(['g@example.com']))
        self.wait_for(lambda: 'good.csv' in self.spool_files('done'),
                      5 * SLOW, 'good.csv was not taken')
        self.wait_for(lambda: 'dangling.csv: left alone' in self.log(p),
                      5 * SLOW, 'the link was not said: %s' % self.log(p))
        rc, _ = self.stop(p)
        self.assertEqual(rc, EX_OK)
        log = self.log(p)
        self.assertEqual(log.count(
            '%s/pipe.csv: left alone: a FIFO, not a file (move it out of '
            'the directory to take it, or name it with a leading \'.\')'
            % self.acct), 1)
        self.assertEqual(log.count('%s/dangling.csv: left alone: a symbolic '
                                   'link to nothing' % self.acct), 1)
        self.assertEqual(self.spool_files('acct'),
                         ['dangling.csv', 'pipe.csv'])
        self.assertEqual(self.spool_files('failed'), [])
        # a restart's scan finds them again: said again, once each
        p = self.start()
        self.wait_for(lambda: 'pipe.csv: left alone' in self.log(p),
                      5 * SLOW, 'the FIFO was not said: %s' % self.log(p))
        rc, _ = self.stop(p)
        self.assertEqual(rc, EX_OK)
        self.assertEqual(self.log(p).count('pipe.csv: left alone'), 1)
        self.assertEqual(self.spool_files('acct'),
                         ['dangling.csv', 'pipe.csv'])

    def test_made_in_place_link_and_directories(self):
        """made in acct/ itself while the worker runs (no rename, no
        close): a symbolic link to a file is taken at once, a directory
        made there or moved in is said once and left alone"""
        self.write_config()
        p = self.start()
        target = os.path.join(self.incoming, 'linked.csv')
        with open(target, 'w') as f:
            f.write(hard_file(['linked@example.com']))
        os.symlink(target, os.path.join(self.acct, 'linked.csv'))
        os.mkdir(os.path.join(self.acct, 'archive'))
        moved = os.path.join(self.incoming, 'older')
        os.mkdir(moved)
        os.rename(moved, os.path.join(self.acct, 'older'))
        self.wait_for(lambda: 'linked.csv' in self.spool_files('done'),
                      5 * SLOW, 'the link was not taken: %s' % self.log(p))
        self.wait_for(lambda: 'older: left alone' in self.log(p),
                      5 * SLOW, 'the directory was not said: %s'
                      % self.log(p))
        rc, _ = self.stop(p)
        self.assertEqual(rc, EX_OK)
        log = self.log(p)
        for d in ('archive', 'older'):
            self.assertEqual(log.count(
                '%s/%s: left alone: a directory, not a file' % (self.acct, d)),
                1, log)
        self.assertEqual(self.show('linked@example.com')['status'], 'hard')
        self.assertEqual(self.spool_files('acct'), ['archive', 'older'])

    def test_hard_link_made_in_acct_is_taken(self):
        """a file linked into acct/ (`ln`: no rename, and no close comes
        there) is taken once it is quiet, its other name left as it is"""
        self.write_config()
        p = self.start()
        target = os.path.join(self.incoming, 'hard.csv')
        with open(target, 'w') as f:
            f.write(hard_file(['hardlinked@example.com']))
        os.link(target, os.path.join(self.acct, 'hard.csv'))
        self.wait_for(lambda: 'hard.csv' in self.spool_files('done'),
                      10 * SLOW, 'the hard link was not taken: %s'
                      % self.log(p))
        rc, _ = self.stop(p)
        self.assertEqual(rc, EX_OK)
        self.assertEqual(self.show('hardlinked@example.com')['status'],
                         'hard')
        self.assertEqual(self.spool_files('acct'), [])
        self.assertTrue(os.path.exists(target))

    def test_same_name_never_replaces_an_earlier_file(self):
        """a second file of a name failed/ or done/ holds is kept beside
        the first as NAME.1 (with its own .why), said in the log; bouncectl
        files finds it there"""
        self.write_config()
        p = self.start()
        junk = [bytes((i * k + 13) % 256 for i in range(3000))
                for k in (7919, 7907)]
        for n, text in enumerate(junk):
            self.drop('j.csv', text)
            name = 'j.csv' if n == 0 else 'j.csv.%d' % n
            # its .why is written first, the file moved after it
            self.wait_for(lambda: {name, name + '.why'} <= set(
                              self.spool_files('failed')),
                          5 * SLOW, '%s is not in failed/: %s'
                          % (name, self.log(p)))
        self.assertEqual(self.spool_files('failed'),
                         ['j.csv', 'j.csv.1', 'j.csv.1.why', 'j.csv.why'])
        for name, text in (('j.csv', junk[0]), ('j.csv.1', junk[1])):
            with open(os.path.join(self.spool, 'failed', name), 'rb') as f:
                self.assertEqual(f.read(), text, name)
            self.assertIn('why: not a PowerMTA accounting file', read_text(
                os.path.join(self.spool, 'failed', name + '.why')))
        for n, addr in enumerate(('a1@example.com', 'a2@example.com')):
            path, _ = self.drop('a.csv', hard_file([addr]))
            name = 'a.csv' if n == 0 else 'a.csv.%d' % n
            self.wait_for(lambda: name in self.spool_files('done'),
                          5 * SLOW, '%s is not in done/: %s'
                          % (name, self.log(p)))
        self.assertEqual(self.spool_files('done'), ['a.csv', 'a.csv.1'])
        self.assertIn('a1@example.com', read_text(
            os.path.join(self.spool, 'done', 'a.csv')))
        self.assertIn('a2@example.com', read_text(
            os.path.join(self.spool, 'done', 'a.csv.1')))
        self.assertIn('%s: %s/done/a.csv holds an earlier file of the same '
                      'name: moved to %s/done/a.csv.1 instead'
                      % (path, self.spool, self.spool), self.log(p))
        self.assertIn('failed/j.csv holds an earlier file of the same name: '
                      'moved to %s/failed/j.csv.1 instead' % self.spool,
                      self.log(p))
        # the files table keeps the last file of a path: found as NAME.1
        files = {os.path.basename(f['key']): f
                 for f in self.ctl_json('files')}
        self.assertEqual((files['a.csv']['where'], files['a.csv']['now']),
                         ('moved', 'done/a.csv.1'))
        self.assertEqual((files['j.csv']['where'], files['j.csv']['now']),
                         ('moved', 'failed/j.csv.1'))
        self.assertEqual(self.statuses(), {'a1@example.com': 'hard',
                                           'a2@example.com': 'hard'})
        rc, _ = self.stop(p)
        self.assertEqual(rc, EX_OK)

    def test_file_back_under_another_name_is_not_taken_twice(self):
        """a file taken and put back into acct/ under another name (from
        done/, a copy) is moved to done/ as taken already: nothing of it
        is applied again (its soft bounces would count twice)"""
        self.write_config()
        p = self.start()
        text = ACCT_HEADER + ''.join(
            acct_rec('b', '2026-11-2%d 10:00:00+0000' % i,
                     'news@bounces.example.com', 's@example.com', '4.2.2',
                     'smtp;452 4.2.2 mailbox full', 'quota-issues')
            for i in range(3))
        first, _ = self.drop('a.csv', text)
        self.wait_for(lambda: 'a.csv' in self.spool_files('done'),
                      5 * SLOW, 'a.csv is not in done/: %s' % self.log(p))
        back, _ = self.drop('b.csv', text)
        self.wait_for(lambda: 'b.csv' in self.spool_files('done'),
                      5 * SLOW, 'b.csv is not in done/: %s' % self.log(p))
        self.assertIn('%s: already taken as %s (the same content)'
                      % (back, first), self.log(p))
        self.assertEqual(self.show('s@example.com')['soft_count'], 3)
        self.assertEqual(self.spool_files('acct'), [])
        rc, _ = self.stop(p)
        self.assertEqual(rc, EX_OK)

    def test_file_renamed_over_the_one_read_is_taken(self):
        """a file renamed over the one being read (as rsync puts a file
        that grew) is not moved to done/ with the one read: it stays in
        acct/ and is taken, from where the one read ended"""
        self.write_config()
        full = self.gen_acct(60000, 1)
        with open(full, 'rb') as f:
            data = f.read()
        cut = data.index(b'\r\n', 17 * 1024 * 1024) + 2
        prefix = os.path.join(self.incoming, 'x.csv')
        with open(prefix, 'wb') as f:
            f.write(data[:cut])
        records = data.count(b'\r\n') - 1         # the header line aside
        p = self.start()
        path = os.path.join(self.acct, 'x.csv')
        os.rename(prefix, path)
        time.sleep(0.05)
        os.rename(full, path)
        self.wait_for(lambda: self.spool_files('done') == ['x.csv'] and
                      self.spool_files('acct') == [], 30 * SLOW,
                      'x.csv was not taken: %s' % self.log(p)[-3000:])
        f = self.file_entry(path)
        self.assertEqual((f['status'], f['offset'], f['records']),
                         ('done', len(data), records), self.log(p)[-3000:])
        self.assertIn('%s: another file was renamed over it while it was '
                      'read: that one stays in acct/, queued to be taken'
                      % path, self.log(p))
        self.assertIn('%s: resuming at byte %d' % (path, cut), self.log(p))
        with open(os.path.join(self.spool, 'done', 'x.csv'), 'rb') as f:
            self.assertEqual(f.read(), data)
        rc, _ = self.stop(p)
        self.assertEqual(rc, EX_OK)

    def test_done_and_failed_removed_while_running_are_made_again(self):
        self.write_config()
        p = self.start()
        for sub in ('done', 'failed'):
            os.rmdir(os.path.join(self.spool, sub))
        self.drop('allbad.csv', 'b,,,,\r\n' * 5)
        self.drop('good.csv', hard_file(['g@example.com']))
        self.wait_for(lambda: os.path.isdir(os.path.join(self.spool, 'done'))
                      and 'good.csv' in self.spool_files('done'), 5 * SLOW,
                      'good.csv did not reach done/: %s' % self.log(p))
        self.wait_for(lambda: os.path.isdir(os.path.join(self.spool,
                                                          'failed'))
                      and self.spool_files('failed') ==
                      ['allbad.csv', 'allbad.csv.why'], 5 * SLOW,
                      'allbad.csv did not reach failed/: %s' % self.log(p))
        self.assertEqual(self.spool_files('acct'), [])
        for sub in ('done', 'failed'):
            self.assertIn('%s was missing: made again'
                          % os.path.join(self.spool, sub), self.log(p))
        rc, _ = self.stop(p)
        self.assertEqual(rc, EX_OK)

    def test_done_that_cannot_be_written_is_tried_again(self):
        """a file taken whose move to done/ fails (a done/ that is no
        directory) stays in acct/ and its move is tried again after the
        pause, without a restart; it is not applied twice"""
        self.extra_env = {'BOUNCED_DEFER_MS': '200'}
        self.write_config()
        p = self.start()
        done = os.path.join(self.spool, 'done')
        os.rmdir(done)
        with open(done, 'w') as f:
            f.write('not a directory\n')
        self.drop('a.csv', hard_file(['d1@example.com']))
        self.wait_for(lambda: 'a.csv: taken, but cannot be moved to done/ '
                      'now' in self.log(p), 5 * SLOW,
                      'the move was not tried: %s' % self.log(p))
        self.assertEqual(self.spool_files('acct'), ['a.csv'])
        os.unlink(done)
        self.wait_for(lambda: os.path.isdir(done) and
                      self.spool_files('done') == ['a.csv'], 5 * SLOW,
                      'a.csv did not reach done/: %s' % self.log(p))
        self.assertEqual(self.spool_files('acct'), [])
        self.assertEqual(self.ctl_json('stats')['counters']['records'], 1)
        self.assertIn('trying again in 200 ms', self.log(p))
        rc, _ = self.stop(p)
        self.assertEqual(rc, EX_OK)

    def test_not_accounting_refused_from_its_first_rows(self):
        """A file that is no accounting file goes to failed/ with the
        reason, decided from its first rows: the valid records after
        them are never taken, and the state records the file as failed
        (not done) without a count of it."""
        self.write_config(bounced={'batch-records': '1000'})
        p = self.start()
        # a CSV of another program: its header is no PowerMTA header, and
        # 20,000 rows that would read as hard bounces follow
        rows = ''.join('b,2026-11-24 10:00:00+0000,x,vm,o@example.com,'
                       'r%d@example.com\r\n' % i for i in range(20000))
        self.drop('export.csv', 'name,email\r\n' + rows)
        # a header line, then a hundred rows of no PowerMTA type before
        # the hard bounces
        self.drop('later.csv', ACCT_HEADER + ''.join(
            acct_rec('zz', '2026-11-24 10:00:00+0000', 'o@example.com',
                     'z%d@example.com' % i) for i in range(100)) +
            hard_file(['h@example.com']).split('\r\n', 1)[1])
        path, _ = self.drop('good.csv', hard_file(['g@example.com']))
        self.wait_for(lambda: 'good.csv' in self.spool_files('done'),
                      5 * SLOW, 'good.csv was not taken')
        self.wait_for(lambda: len(self.spool_files('failed')) == 4,
                      10 * SLOW, 'the files are not in failed/')
        self.assertEqual(self.spool_files('failed'),
                         ['export.csv', 'export.csv.why', 'later.csv',
                          'later.csv.why'])
        with open(os.path.join(self.spool, 'failed', 'export.csv.why')) as f:
            why = f.read()
        self.assertIn("why: not a PowerMTA accounting file: no header line, "
                      "and its first row (line 1) does not fit [bounced] "
                      "acct-fields: its type column holds 'name'", why)
        with open(os.path.join(self.spool, 'failed', 'later.csv.why')) as f:
            why = f.read()
        self.assertIn('why: not a PowerMTA accounting file: none of its '
                      'first 100 rows (to line 101)', why)
        self.assertIn('export.csv: moved to failed/: not a PowerMTA '
                      'accounting file', self.log(p))
        # nothing of them in the state but the failed files' records
        self.assertEqual(self.statuses(), {'g@example.com': 'hard'})
        files = {os.path.basename(f['key']): f
                 for f in self.ctl_json('files')}
        self.assertEqual(files['export.csv']['status'], 'failed')
        self.assertEqual(files['export.csv']['records'], 0)
        self.assertEqual(files['later.csv']['status'], 'failed')
        self.assertEqual(files['later.csv']['offset'], 0)
        self.assertEqual(self.ctl_json('stats')['counters']['records'], 1)
        rc, _ = self.stop(p)
        self.assertEqual(rc, EX_OK)

    def test_acct_back_as_a_file_then_as_a_directory(self):
        # acct/ goes away, comes back as a file (inotify cannot watch it:
        # said, once), then as a directory again: watched and taken
        p = self.start()
        os.rename(self.acct, self.acct + '.away')
        self.wait_for(lambda: 'went away' in self.log(p), 5 * SLOW,
                      'acct/ leaving was not logged')
        with open(self.acct, 'w') as f:
            f.write('not a directory\n')
        said = ("cannot watch '%s': Not a directory; nothing new is taken "
                "until it can be watched" % self.acct)
        self.wait_for(lambda: said in self.log(p), 5 * SLOW,
                      'why acct/ is not watched was not logged: %s'
                      % self.log(p))
        os.remove(self.acct)
        os.rename(self.acct + '.away', self.acct)
        self.wait_for(lambda: 'watching %s again' % self.acct in self.log(p),
                      5 * SLOW, 'acct/ was not watched again')
        self.drop('acct-1.csv', hard_file(['a@example.com']))
        self.wait_for(lambda: 'acct-1.csv' in self.spool_files('done'),
                      5 * SLOW, 'the file did not reach done/')
        rc, _ = self.stop(p)
        self.assertEqual(rc, EX_OK)

    def test_done_retention_zero_deletes(self):
        self.write_config(bounced={'done-retention': '0'})
        p = self.start()
        self.drop('gone.csv', hard_file(['d@example.com']))
        self.wait_for(lambda: self.spool_files('acct') == [], 5 * SLOW,
                      'the file stayed in acct/')
        self.assertEqual(self.statuses(), {'d@example.com': 'hard'})
        self.assertEqual(self.spool_files('done'), [])
        rc, _ = self.stop(p)
        self.assertEqual(rc, EX_OK)


class TestSignals(RunTestCase):

    def test_sigterm_lets_requests_under_way_finish(self):
        fake = self.hook(latency_ms=1500)
        self.hook_config(fake, concurrency=2)
        p = self.start()
        addrs = ['t%d@example.com' % i for i in range(6)]
        self.drop('acct-t.csv', hard_file(addrs))
        self.wait_for(lambda: 'acct-t.csv' in self.spool_files('done'),
                      5 * SLOW, 'the file was not taken')
        self.wait_for(lambda: fake.received() >= 2, 5 * SLOW,
                      'no request under way')  # for 1.5 s from there
        rc, took = self.stop(p)
        self.assertEqual(rc, EX_OK, self.log(p))
        self.assertGreater(took, 0.5, 'did not wait for the requests')
        self.assertLess(took, 9.0)
        self.assertIn('SIGTERM: stopping; 2 requests under way',
                      self.log(p))
        done = sorted(e['address'] for e in fake.events())
        self.assertEqual(len(done), 2)
        waiting = sorted(a['address'] for a in self.queue())
        self.assertEqual(sorted(done + waiting), addrs)
        # the rest on the next start, nothing twice
        fake.configure(latency_ms=0)
        p = self.start()
        self.wait_for(lambda: self.queue() == [], 10 * SLOW,
                      'the outbox did not empty after the restart')
        rc, _ = self.stop(p)
        self.assertEqual(rc, EX_OK)
        self.assertEqual(sorted(e['address'] for e in fake.events()), addrs)

    def test_sigterm_gives_up_after_shutdown_timeout(self):
        fake = self.hook(latency_ms=4000)
        self.hook_config(fake, bounced={'shutdown-timeout': '500ms'},
                         concurrency=2)
        p = self.start()
        addrs = ['s%d@example.com' % i for i in range(4)]
        self.drop('acct-s.csv', hard_file(addrs))
        self.wait_for(lambda: 'acct-s.csv' in self.spool_files('done'),
                      5 * SLOW, 'the file was not taken')
        self.wait_for(lambda: fake.received() >= 2, 5 * SLOW,
                      'no request under way')
        rc, took = self.stop(p)
        self.assertEqual(rc, EX_OK, self.log(p))
        self.assertLess(took, 3.0 * SLOW)
        # the two requests under way are still queued: sent again
        self.assertEqual(len(self.queue()), 4)
        fake.configure(latency_ms=0)
        p = self.start()
        self.wait_for(lambda: self.queue() == [], 15 * SLOW,
                      'the outbox did not empty after the restart')
        self.wait_for(lambda: len(fake.events()) >= 6, 10 * SLOW,
                      'the first two requests never arrived')
        rc, _ = self.stop(p)
        self.assertEqual(rc, EX_OK)
        got = sorted(e['address'] for e in fake.events())
        self.assertEqual(sorted(set(got)), addrs)
        self.assertEqual(len(got), 6)   # the 2 under way, sent again

    def test_sighup_bad_config_kept_good_config_applied(self):
        fake = self.hook()
        logfile = os.path.join(self.dir, 'bounced.log')
        self.write_config(bounced={'log': logfile})
        good_text = read_text(self.config)
        p = self.start()
        # a broken file: refused, the worker goes on with the old one
        with open(self.config, 'a') as f:
            f.write('\n[classify]\nsoft-threshold = abc\n')
        os.rename(logfile, logfile + '.1')          # logrotate
        p.send_signal(signal.SIGHUP)
        self.wait_for(lambda: os.path.exists(logfile), 5 * SLOW,
                      'the log file was not reopened')
        self.wait_for(lambda: 'soft-threshold' in read_text(logfile),
                      5 * SLOW, 'no error about the bad key')
        log = read_text(logfile)
        self.assertIn("soft-threshold = 'abc'", log)
        self.assertIn('the configuration in force is kept', log)
        self.assertIsNone(p.poll())
        path, _ = self.drop('one.csv', hard_file(['one@example.com']))
        self.wait_for(lambda: 'one.csv' in self.spool_files('done'),
                      5 * SLOW, 'not taken after a refused reload')
        self.assertIn('dry-run: unsubscribe one@example.com', read_text(logfile))
        # a good one with a provider and another acct-ignore: applied
        with open(self.config, 'w') as f:
            f.write(good_text + 'acct-ignore = *.wait\n'
                    '\n[provider hook]\ntype = webhook\nurl = %s/events\n'
                    'senders = *\n' % fake.url)
        p.send_signal(signal.SIGHUP)
        self.wait_for(lambda: 'configuration %s loaded' % self.config in
                      read_text(logfile), 5 * SLOW, 'no reload logged')
        self.drop('two.csv', hard_file(['two@example.com']))
        self.drop('three.wait', hard_file(['three@example.com']))
        self.wait_for(lambda: len(fake.events()) >= 1, 5 * SLOW,
                      'the new provider got nothing')
        self.assertEqual([e['address'] for e in fake.events()],
                         ['two@example.com'])
        time.sleep(0.3)
        self.assertEqual(self.spool_files('acct'), ['three.wait'])
        rc, _ = self.stop(p)
        self.assertEqual(rc, EX_OK)
        self.assertEqual(read_text(p.errpath), '')   # all in the file

    def test_sighup_acct_ignore_dropped_takes_what_it_held(self):
        # a file the old acct-ignore held is taken once a reload no longer
        # ignores it (no new event comes for it); a file still open for
        # writing, quiet, is not: it is taken at its close
        self.write_config(bounced={'acct-ignore': '*.wait'})
        p = self.start()
        self.drop('held.wait', hard_file(['held@example.com']))
        lines = hard_file(['o1@example.com',
                           'o2@example.com']).splitlines(True)
        with open(os.path.join(self.acct, 'open.csv'), 'w') as f:
            f.write(''.join(lines[:2]))
            f.flush()
            time.sleep(2.5)         # quiet longer than a scan's 2 s
            self.assertEqual(self.spool_files('acct'),
                             ['held.wait', 'open.csv'])
            self.write_config()
            p.send_signal(signal.SIGHUP)
            self.wait_for(lambda: 'held.wait' in self.spool_files('done'),
                          5 * SLOW, 'the file no longer ignored was not '
                          'taken')
            time.sleep(0.3)
            self.assertEqual(self.spool_files('acct'), ['open.csv'])
            f.write(lines[2])
        self.wait_for(lambda: 'open.csv' in self.spool_files('done'),
                      5 * SLOW, 'open.csv was not taken at its close')
        self.assertEqual(self.summary_of(
            p, os.path.join(self.acct, 'open.csv'))['records'], 2)
        rc, _ = self.stop(p)
        self.assertEqual(rc, EX_OK)
        self.assertEqual(self.ctl_json('show', 'held@example.com')['status'],
                         'hard')

    def test_sighup_log_that_cannot_be_opened_is_tried_again(self):
        # the new log cannot be opened: logging stays where it was, and
        # the next SIGHUP of the same file tries again
        logdir = os.path.join(self.dir, 'logs')
        logfile = os.path.join(logdir, 'bounced.log')
        p = self.start()
        self.write_config(bounced={'log': logfile})
        p.send_signal(signal.SIGHUP)
        self.wait_for(lambda: 'cannot open the log file' in self.log(p),
                      5 * SLOW, 'no error about the log file')
        os.mkdir(logdir)
        p.send_signal(signal.SIGHUP)
        self.wait_for(lambda: 'configuration' in read_text(logfile),
                      5 * SLOW, 'the log file was not opened on the next '
                      'SIGHUP')
        rc, _ = self.stop(p)
        self.assertEqual(rc, EX_OK)

    def test_sighup_maildir_cannot_be_made_mails_wait_quietly(self):
        # a reload whose maildirs cannot be made (a file where unsub/ was):
        # the mails wait and are tried again after the pause, the files
        # go on, and the worker does not spin (a pause of 2 s, not the
        # 10 s a worker takes by default: longer than the second the CPU
        # is measured over)
        self.extra_env = {'BOUNCED_DEFER_MS': '2000'}
        p = self.start()
        unsub = os.path.join(self.spool, 'unsub')
        shutil.rmtree(unsub)
        with open(unsub, 'w') as f:
            f.write('not a directory\n')
        p.send_signal(signal.SIGHUP)
        self.wait_for(lambda: 'mails wait; trying again in' in self.log(p),
                      5 * SLOW, 'no error about the maildirs')
        cpu0 = cpu_seconds(p.pid)
        time.sleep(1)
        spent = cpu_seconds(p.pid) - cpu0
        self.assertLess(spent, 0.3, 'the worker spun: %.2f s of CPU in '
                        '1 s' % spent)
        self.drop('one.csv', hard_file(['one@example.com']))
        self.wait_for(lambda: 'one.csv' in self.spool_files('done'),
                      5 * SLOW, 'the file was not taken')
        # mended: the mails' directories are made at the next attempt
        os.unlink(unsub)
        self.wait_for(lambda: os.path.isdir(os.path.join(unsub, 'new')),
                      15 * SLOW, 'the maildir was not made again')
        rc, _ = self.stop(p)
        self.assertEqual(rc, EX_OK)

    def test_sighup_new_providers_after_requests_under_way(self):
        fake = self.hook(latency_ms=1000)
        self.hook_config(fake, concurrency=1)
        p = self.start()
        addrs = ['h%d@example.com' % i for i in range(3)]
        self.drop('acct-h.csv', hard_file(addrs))
        self.wait_for(lambda: 'acct-h.csv' in self.spool_files('done'),
                      5 * SLOW, 'the file was not taken')
        self.wait_for(lambda: fake.received() >= 1, 5 * SLOW,
                      'no request under way')
        self.hook_config(fake, concurrency=4)
        p.send_signal(signal.SIGHUP)
        self.wait_for(lambda: 'providers set up anew from' in self.log(p),
                      10 * SLOW, 'the providers were not set up anew')
        log = self.log(p)
        self.assertIn('the providers are set up anew once the requests '
                      'under way have finished', log)
        # the old dispatcher started nothing new after the reload: only
        # the request under way had been answered by then
        self.assertEqual(len(fake.events()), 1)
        self.wait_for(lambda: self.queue() == [], 10 * SLOW,
                      'the outbox did not empty')
        rc, _ = self.stop(p)
        self.assertEqual(rc, EX_OK)
        self.assertEqual(sorted(e['address'] for e in fake.events()), addrs)

    def hold_an_answer(self, latency_ms):
        """a worker whose one request is answered (after LATENCY_MS) while
        the state's disk is full (fail_commit.so: every commit fails
        while FULL exists): the answer is held.  (fake, process, FULL)"""
        fake = self.hook(latency_ms=latency_ms)
        self.hook_config(fake, concurrency=1)
        full = os.path.join(self.dir, 'disk-full')
        self.extra_env = {
            'LD_PRELOAD': os.path.join(self.build, 'tests',
                                       'fail_commit.so'),
            'BOUNCED_TEST_FAIL_COMMIT': full}
        p = self.start()
        self.drop('acct-h.csv', hard_file(['held@example.com']))
        self.wait_for(lambda: fake.received() >= 1, 10 * SLOW,
                      'no request under way')
        open(full, 'w').close()
        self.wait_for(lambda: 'cannot write the results of 1 provider '
                      'calls' in self.log(p), 10 * SLOW,
                      'the answer was written, the disk is not full')
        return fake, p, full

    def test_sighup_while_answers_are_held_calls_nothing_twice(self):
        # the state's disk fills while a request is under way: its answer
        # is held; a reload that sets the providers up anew waits for the
        # answer to be written, so the new dispatcher does not call again
        fake, p, full = self.hold_an_answer(1500)
        self.hook_config(fake, concurrency=4)
        p.send_signal(signal.SIGHUP)
        self.wait_for(lambda: 'SIGHUP: configuration' in self.log(p),
                      10 * SLOW, 'no reload')
        time.sleep(1.5)
        self.assertNotIn('providers set up anew from', self.log(p))
        os.unlink(full)
        self.wait_for(lambda: 'providers set up anew from' in self.log(p),
                      15 * SLOW, 'the providers were not set up anew')
        self.wait_for(lambda: self.queue() == [], 10 * SLOW,
                      'the outbox did not empty')
        time.sleep(0.5)
        self.assertEqual(fake.received(), 1)
        rc, _ = self.stop(p)
        self.assertEqual(rc, EX_OK)

    def test_sigterm_while_answers_are_held_keeps_them(self):
        # the state's disk is full when the answer comes: a stop waits for
        # it to be written (within shutdown-timeout), so the next start
        # does not call again
        fake, p, full = self.hold_an_answer(1000)
        p.send_signal(signal.SIGTERM)
        time.sleep(1.5)
        self.assertIsNone(p.poll(), 'it quit with the answer held')
        os.unlink(full)
        rc = p.wait(20 * SLOW)
        self.assertEqual(rc, EX_OK, self.log(p))
        self.assertEqual(self.queue(), [])
        self.extra_env = {}
        p = self.start()
        time.sleep(0.5)
        rc, _ = self.stop(p)
        self.assertEqual(rc, EX_OK)
        self.assertEqual(fake.received(), 1)

    def test_second_instance_is_refused(self):
        self.write_config()
        p = self.start()
        res = self.run_bounced('run', timeout=30)
        self.assertRc(res, EX_TEMPFAIL)
        self.assertIn('another bounced run holds %s (pid %d)' % (
            os.path.join(self.state, 'bounced.lock'), p.pid), res.err)
        self.assertIsNone(p.poll())
        rc, _ = self.stop(p, signal.SIGINT)
        self.assertEqual(rc, EX_OK)
        p = self.start()            # the lock went with the process
        rc, _ = self.stop(p)
        self.assertEqual(rc, EX_OK)

    def test_refusal_reaches_the_log_file(self):
        # the log goes to a file: why a second worker does not start is
        # there too, not only on the stderr of whoever started it
        p = self.start()
        log = os.path.join(self.dir, 'second.log')
        self.write_config(bounced={'log': log})
        res = self.run_bounced('run', timeout=30)
        self.assertRc(res, EX_TEMPFAIL)
        want = 'another bounced run holds %s (pid %d)' % (
            os.path.join(self.state, 'bounced.lock'), p.pid)
        self.assertIn('bounced: ' + want, res.err)
        self.assertIn('error run: ' + want, read_text(log))
        rc, _ = self.stop(p)
        self.assertEqual(rc, EX_OK)

    def test_arguments_refused(self):
        res = self.run_bounced('run', 'extra')
        self.assertRc(res, 64)
        self.assertIn("bounced: run: unexpected argument", res.err)


class TestCrash(RunTestCase):
    """kill -9 in the middle of a large file, restart, compare."""

    timeout = 900
    ORIGS = ('bounces@news.example-shop.com',
             'bounces@lists.example-news.org',
             'newsletter+bounce@mail.example.com')
    KILLS = 2
    CONCURRENCY = 8

    def make_file(self, n):
        """gen_acct N records; only every 25th record keeps its sender, the
        others get one no provider is configured for (so the fake is not
        flooded); written to DIR/big.csv"""
        path = self.gen_acct(n, 11)
        with open(path, 'rb') as f:
            lines = f.read().split(b'\r\n')
        out = [lines[0]]
        for i, line in enumerate(lines[1:]):
            if i % 25 and line:
                parts = line.split(b',', 4)
                parts[3] = b'bulk@unrouted.example'
                line = b','.join(parts)
            out.append(line)
        with open(path, 'wb') as f:
            f.write(b'\r\n'.join(out))
        return path

    def use_state(self, name, fake):
        self.state = os.path.join(self.dir, name)
        self.hook_config(fake, bounced={'batch-records': 5000},
                         senders=';'.join(self.ORIGS),
                         concurrency=self.CONCURRENCY,
                         extra='complaints = false\nlists = false\n'
                         'events = suppressions\n')

    def offset(self, key):
        f = self.file_entry(key)
        return f['offset'] if f else None

    def finish(self, p, name):
        """wait until NAME is in done/ and the outbox is empty; stop P"""
        self.wait_for(lambda: name in self.spool_files('done'),
                      300 * SLOW, 'the file never reached done/')
        self.wait_for(lambda: self.queue() == [], 300 * SLOW,
                      'the outbox never emptied')
        rc, _ = self.stop(p)
        self.assertEqual(rc, EX_OK)

    @staticmethod
    def keys(events):
        return [(e['address'], e['event'], e['operation'], e['source'],
                 e['line']) for e in events]

    def test_kill9_mid_file_then_restart_equals_uninterrupted(self):
        n = 60000 if sanitized() else 150000
        big = self.make_file(n)
        size = os.path.getsize(big)
        name = 'acct-big.csv'
        key = os.path.join(self.acct, name)
        fake = self.hook()

        # A: uninterrupted
        self.use_state('state-a', fake)
        p = self.start('-q')
        os.link(big, os.path.join(self.incoming, name))
        os.rename(os.path.join(self.incoming, name), key)
        self.finish(p, name)
        list_a = self.ctl_json('list')
        events_a = self.keys(fake.events())
        self.assertGreater(len(events_a), 100)
        self.assertEqual(len(events_a), len(set(events_a)))

        # B: killed in the middle, restarted, to the end
        os.remove(os.path.join(self.spool, 'done', name))
        fake.set_data({'events': []})
        self.use_state('state-b', fake)
        p = self.start('-q')
        os.link(big, os.path.join(self.incoming, name))
        os.rename(os.path.join(self.incoming, name), key)
        offsets = []
        for k in range(self.KILLS):
            goal = size * (k + 1) / (self.KILLS + 2)
            self.wait_for(lambda: p.poll() is not None or
                          (self.offset(key) or 0) >= goal, 300 * SLOW,
                          'no commit past %d' % goal)
            self.assertIsNone(p.poll(), self.log(p))
            p.send_signal(signal.SIGKILL)
            p.wait()
            offsets.append(self.offset(key))
            p = self.start('-q')
        self.assertTrue(all(0 < o < size for o in offsets),
                        'kills not in the middle: %r of %d' % (offsets, size))
        self.finish(p, name)
        list_b = self.ctl_json('list')
        events_b = self.keys(fake.events())

        self.assertEqual(len(list_a), len(list_b))
        if list_a != list_b:
            diff = [(x, y) for x, y in zip(list_a, list_b) if x != y]
            self.fail('%d records differ, e.g. %r' % (len(diff), diff[:2]))
        self.assertEqual(set(events_b), set(events_a), 'calls missing')
        repeats = len(events_b) - len(set(events_b))
        self.assertLessEqual(repeats, self.KILLS * self.CONCURRENCY,
                             'more repeats than requests under way')
        sys.stderr.write('[%d records, kills at offsets %r of %d, %d calls, '
                         '%d repeated] ' % (n, offsets, size, len(events_b),
                                            repeats))


if __name__ == '__main__':
    import unittest
    unittest.main()
