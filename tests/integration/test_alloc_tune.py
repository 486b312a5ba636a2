"""test_alloc_tune.py - bounced run, and bounced process of 64 MiB of input
or more, start themselves again, once, with glibc's allocator tunables
(huge pages, one arena: alloc_tune.c), unless GLIBC_TUNABLES is set.

The second start is seen from outside: its debug line (-d), a run's
/proc/PID/environ (which only an exec changes), and the work done once.
A sanitizer's build and a machine without transparent huge pages do not
start again; the tests expect what the machine they run on should do.
"""
import os
import subprocess
import unittest

from harness import (BouncedTestCase, RunTestCase, ACCT_HEADER, acct_rec,
                     sanitized, summaries)

THP = '/sys/kernel/mm/transparent_hugepage/enabled'
TUNABLES = 'glibc.malloc.hugetlb=1:glibc.malloc.arena_max=1'
AGAIN = 'starting again with GLIBC_TUNABLES=' + TUNABLES


def thp_on():
    try:
        with open(THP) as f:
            text = f.read()
    except OSError:
        return False
    return '[always]' in text or '[madvise]' in text


def starts_again():
    """what bounced should do on this machine with this build"""
    return thp_on() and not sanitized()


def tunables_of(pid):
    """the GLIBC_TUNABLES PID was started with, or None (the dynamic
    loader parses the value in place: its ':' read back as NUL)"""
    with open('/proc/%d/environ' % pid, 'rb') as f:
        raw = f.read()
    at = raw.find(b'GLIBC_TUNABLES=')
    if at < 0:
        return None
    words = raw[at + len(b'GLIBC_TUNABLES='):].split(b'\0')
    value = [words[0]]
    for w in words[1:]:
        if not w.startswith(b'glibc.'):
            break
        value.append(w)
    return b':'.join(value).decode()


class ProcessTest(BouncedTestCase):

    def big_file(self, n_hard=1000, size=64 << 20):
        """SIZE bytes or more: hard bounces of N_HARD addresses, then
        deliveries to them (each address hard once, its deliveries
        change nothing); returns (path, records)"""
        path = os.path.join(self.dir, 'big.csv')
        diag = 'smtp;250 2.0.0 OK ' + 'x' * 400
        n = 0
        with open(path, 'w', newline='') as f:
            f.write(ACCT_HEADER)
            for i in range(n_hard):
                f.write(acct_rec('b', '2026-11-24 10:00:00+0000',
                                 'news@bounces.example.com',
                                 'u%d@example.com' % i, '5.1.1',
                                 'smtp;550 5.1.1 user unknown',
                                 'bad-mailbox'))
                n += 1
            while f.tell() < size:
                f.write(acct_rec('d', '2026-11-24 11:00:00+0000',
                                 'news@bounces.example.com',
                                 'u%d@example.com' % (n % n_hard), '2.0.0',
                                 diag))
                n += 1
        return path, n

    @unittest.skipUnless(starts_again(), 'this machine or build does not '
                         'start bounced again')
    def test_large_file_taken_once_after_starting_again(self):
        path, n = self.big_file()
        res = self.run_bounced('-d', 'process', path)
        self.assertRc(res, 0)
        self.assertEqual(res.err.count(AGAIN), 1, res.err[-2000:])
        self.assertIn('MiB of input', res.err)
        got = summaries(res.out)
        self.assertEqual(list(got), [path], res.out)
        self.assertEqual(got[path]['records'], n)
        self.assertEqual(got[path]['hard'], 1000)
        self.assertStatus('u999@example.com', 'hard')

    def test_small_file_not_started_again(self):
        path = os.path.join(self.dir, 'small.csv')
        with open(path, 'w', newline='') as f:
            f.write(ACCT_HEADER + acct_rec(
                'b', '2026-11-24 10:00:00+0000', 'news@bounces.example.com',
                'a@example.com', '5.1.1', 'smtp;550 5.1.1 user unknown',
                'bad-mailbox'))
        res = self.run_bounced('-d', 'process', path)
        self.assertRc(res, 0)
        self.assertNotIn('starting again', res.err)
        self.assertStatus('a@example.com', 'hard')

    def process_with(self, path, **env_extra):
        """bounced -d process PATH with ENV_EXTRA added to the
        environment; (exit code, stdout, stderr)"""
        env = self.env()
        env.update(env_extra)
        p = subprocess.run([self.bounced, '-c', self.config, '-d', 'process',
                            path], cwd=self.dir, env=env,
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=self.timeout)
        return (p.returncode, p.stdout.decode('utf-8', 'replace'),
                p.stderr.decode('utf-8', 'replace'))

    @unittest.skipUnless(starts_again(), 'this machine or build does not '
                         'start bounced again')
    def test_operator_tunables_win(self):
        path, n = self.big_file(n_hard=10)
        rc, out, err = self.process_with(
            path, GLIBC_TUNABLES='glibc.malloc.arena_max=2')
        self.assertEqual(rc, 0, err[-2000:])
        self.assertNotIn('starting again', err)
        self.assertEqual(summaries(out)[path]['records'], n)

    @unittest.skipUnless(starts_again(), 'this machine or build does not '
                         'start bounced again')
    def test_preloaded_library_not_started_again(self):
        """LD_PRELOAD (another allocator, valgrind) is left as it is"""
        path, n = self.big_file(n_hard=10)
        rc, out, err = self.process_with(path, LD_PRELOAD='libc.so.6')
        self.assertEqual(rc, 0, err[-2000:])
        self.assertNotIn('starting again', err)
        self.assertEqual(summaries(out)[path]['records'], n)


class RunTest(RunTestCase):

    def test_worker_runs_with_tunables(self):
        p = self.start('-d')
        if starts_again():
            self.assertEqual(tunables_of(p.pid), TUNABLES)
            self.assertEqual(self.log(p).count(AGAIN), 1, self.log(p))
        else:
            self.assertIsNone(tunables_of(p.pid))
            self.assertNotIn('starting again', self.log(p))
        self.stop(p)


if __name__ == '__main__':
    unittest.main()
