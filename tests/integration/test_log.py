"""test_log.py - log lines journald and syslog can filter by priority.

Under systemd stderr is the journal's stream and $JOURNAL_STREAM names its
device and inode: each line then starts with its syslog priority ("<4>"
for a warning) and has no time stamp of its own; on any other stderr the
line is as before, with its time.  With `log = syslog` the lines go to
syslog(3), facility mail: checked (as root) in a private mount namespace
whose /dev/log is a socket of this test's, so nothing of the machine's is
touched.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import unittest

from harness import (BouncedTestCase, EX_OK, EX_CONFIG, SANITIZER_RE)

HEADER = 'type,timeLogged,orig,rcpt,dsnStatus,dsnDiag,bounceCat\r\n'
# one hard bounce (an info line: dry-run) and one bad line (a warning)
FILE = (HEADER +
        'b,2026-11-24 10:00:00+0000,a@b.test,x@example.com,5.1.1,smtp;550,'
        'bad-mailbox\r\n'
        'b,2026-11-24 10:00:01+0000,a@b.test,not-an-address,5.1.1,smtp;550,'
        'bad-mailbox\r\n')
TIME = r'\d{4}-\d\d-\d\d \d\d:\d\d:\d\d '


class TestJournal(BouncedTestCase):

    def run_stderr(self, argv, journal):
        """run ARGV with stderr a pipe; JOURNAL the value of
        $JOURNAL_STREAM: 'self' (the pipe's device and inode), None (not
        set) or a string; its stderr lines"""
        r, w = os.pipe()
        st = os.fstat(w)
        env = self.env()
        env.pop('JOURNAL_STREAM', None)
        if journal == 'self':
            env['JOURNAL_STREAM'] = '%d:%d' % (st.st_dev, st.st_ino)
        elif journal is not None:
            env['JOURNAL_STREAM'] = journal
        p = subprocess.Popen(argv, cwd=self.dir, env=env,
                             stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=w)
        os.close(w)
        with os.fdopen(r, 'rb') as f:
            err = f.read().decode('utf-8', 'replace')
        p.communicate(timeout=self.timeout)
        self.assertNotRegex(err, SANITIZER_RE)
        return p.returncode, err.splitlines()

    def process_file(self, journal, name='a.csv', text=FILE):
        path = self.write_file(name, text)
        rc, lines = self.run_stderr([self.bounced, '-c', self.config,
                                     'process', path], journal)
        self.assertEqual(rc, EX_OK, lines)
        return lines

    def test_priorities_under_systemd(self):
        lines = self.process_file('self')
        warn = [l for l in lines if 'bad record' in l]
        info = [l for l in lines if 'dry-run' in l]
        self.assertEqual(len(warn), 1, lines)
        self.assertEqual(len(info), 1, lines)
        self.assertRegex(warn[0], r'^<4>warning acct: ')
        self.assertRegex(info[0], r'^<6>info ingest: ')
        for l in lines:
            self.assertRegex(l, r'^<[3467]>(error|warning|info|debug) ')
            self.assertNotRegex(l, TIME)

    def test_time_stamps_elsewhere(self):
        # not set, or naming another stream (a child of the service whose
        # stderr was redirected): the usual lines
        for i, journal in enumerate((None, '1:1', 'junk')):
            # another file each time (a copy would be taken already)
            lines = self.process_file(journal, 'a%d.csv' % i,
                                      FILE.replace('x@', 'x%d@' % i))
            self.assertTrue(lines)
            for l in lines:
                self.assertRegex(l, r'^%sbounced\[\d+\]: (error|warning|'
                                 r'info|debug) ' % TIME)
                self.assertFalse(l.startswith('<'))

    def test_configuration_error_is_an_error(self):
        self.write_config(classify={'soft-threshold': 'abc'})
        for prog in (self.bounced, self.bouncectl):
            rc, lines = self.run_stderr([prog, '-c', self.config, 'stats'
                                         if prog == self.bouncectl else
                                         'check-config'], 'self')
            self.assertEqual(rc, EX_CONFIG)
            self.assertRegex(lines[0], r'^<3>%s: config ' %
                             os.path.basename(prog))

    def test_debug_lines(self):
        self.write_config(bounced={'debug': 'true'})
        self.process_file('self')
        # a later bounce of a suppressed address: a duplicate, a debug line
        lines = self.process_file('self', 'b.csv', HEADER +
                                  FILE.split('\r\n')[1].replace(
                                      '10:00:00', '11:00:00') + '\r\n')
        self.assertTrue([l for l in lines if l.startswith('<7>debug ')],
                        lines)


SYSLOG_HELPER = textwrap.dedent('''
    import json, os, socket, stat, subprocess, sys
    argv, env = json.loads(sys.argv[1]), json.loads(sys.argv[2])
    # a /dev of our own in this mount namespace: null, zero, urandom, and
    # the syslog socket
    subprocess.run(['mount', '-t', 'tmpfs', 'tmpfs', '/dev'], check=True)
    for name, minor in (('null', 3), ('zero', 5), ('urandom', 9),
                        ('random', 8)):
        os.mknod('/dev/' + name, 0o666 | stat.S_IFCHR, os.makedev(1, minor))
        os.chmod('/dev/' + name, 0o666)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind('/dev/log')
    p = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    s.settimeout(0.5)
    got = []
    try:
        while True:
            got.append(s.recv(65536).decode('utf-8', 'replace'))
    except socket.timeout:
        pass
    print(json.dumps({'rc': p.returncode, 'err': p.stderr.decode(
        'utf-8', 'replace'), 'syslog': got}))
''')


class TestSyslog(BouncedTestCase):

    def test_lines_go_to_syslog_facility_mail(self):
        if os.geteuid() != 0 or not shutil.which('unshare') or \
                not shutil.which('mount'):
            self.skipTest('needs root, unshare and mount for a private /dev')
        probe = subprocess.run(['unshare', '-m', '--propagation', 'private',
                                'true'], stderr=subprocess.PIPE)
        if probe.returncode != 0:
            self.skipTest('no private mount namespace here: %s' %
                          probe.stderr.decode('utf-8', 'replace'))
        self.write_config(bounced={'log': 'syslog'})
        path = self.write_file('a.csv', FILE)
        env = self.env()
        env.pop('JOURNAL_STREAM', None)
        argv = [self.bounced, '-c', self.config, 'process', path]
        p = subprocess.run(['unshare', '-m', '--propagation', 'private',
                            sys.executable, '-c', SYSLOG_HELPER,
                            json.dumps(argv), json.dumps(env)],
                           cwd=self.dir, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=self.timeout)
        self.assertEqual(p.returncode, 0, p.stderr)
        res = json.loads(p.stdout)
        self.assertEqual(res['rc'], EX_OK, res['err'])
        self.assertNotRegex(res['err'], SANITIZER_RE)
        # nothing of the log on stderr: it all went to syslog
        self.assertNotIn('bad record', res['err'])
        msgs = res['syslog']
        warn = [m for m in msgs if 'bad record' in m]
        info = [m for m in msgs if 'dry-run' in m]
        self.assertEqual((len(warn), len(info)), (1, 1), msgs)
        # <PRI> = facility mail (2) * 8 + priority; ident[pid]
        self.assertRegex(warn[0], r'^<20>.*bounced\[\d+\]: warning acct: ')
        self.assertRegex(info[0], r'^<22>.*bounced\[\d+\]: info ingest: ')


if __name__ == '__main__':
    unittest.main()
