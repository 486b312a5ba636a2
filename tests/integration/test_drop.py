"""test_drop.py - `bounced drop fbl|unsub --from ADDR --to ADDR` end to end.

What PowerMTA's domain pipe runs: the mail on stdin must land whole in
SPOOL/fbl/new or SPOOL/unsub/new behind the two envelope lines
(docs/SPOOL.md), exit 0; every failure (bad command line, bad config, bad
envelope, empty or too large mail, a spool that cannot be written, a file
size limit) must exit 75 and leave nothing in new/ or tmp/.
"""
import os
import resource
import stat
import subprocess
import unittest

from harness import BouncedTestCase, SANITIZER_RE, EX_OK, EX_TEMPFAIL

ARF_CRLF = (b'From: feedback@isp.example\r\n'
            b'To: fbl@fbl.example.com\r\n'
            b'Subject: complaint\r\n'
            b'Content-Type: multipart/report; report-type=feedback-report;\r\n'
            b'  boundary="b1"\r\n'
            b'\r\n'
            b'--b1\r\n\r\nThis is an abuse report\r\n--b1--\r\n')

UNSUB_LF = (b'From: Reader <Reader@Example.net>\n'
            b'To: abcdefghij123.klmnopqrst456.uvwxyz0123789@unsub.example.com\n'
            b'Subject: unsubscribe\n'
            b'\n'
            b'please\n')

UNSUB_TO = 'abcdefghij123.klmnopqrst456.uvwxyz0123789@unsub.example.com'


class DropTestCase(BouncedTestCase):

    def drop(self, *args, stdin=b'', preexec=None, config=True):
        """bounced [-c CONFIG] drop ARGS < STDIN; a (rc, out, err)"""
        argv = [self.bounced] + (['-c', self.config] if config else []) + \
            ['drop'] + list(args)
        p = subprocess.run(argv, cwd=self.dir, env=self.env(), input=stdin,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=60, preexec_fn=preexec)
        err = p.stderr.decode('utf-8', 'replace')
        if SANITIZER_RE.search(err):
            self.fail('sanitizer report: %s' % err)
        return p.returncode, p.stdout.decode('utf-8', 'replace'), err

    def files(self, kind, sub):
        """names in SPOOL/KIND/SUB ([] when the directory is missing)"""
        d = os.path.join(self.spool, kind, sub)
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def read_new(self, kind):
        """the one file of SPOOL/KIND/new: (name, bytes)"""
        names = self.files(kind, 'new')
        self.assertEqual(len(names), 1, names)
        with open(os.path.join(self.spool, kind, 'new', names[0]), 'rb') as f:
            return names[0], f.read()

    def assertNothingStored(self):
        for kind in ('fbl', 'unsub'):
            for sub in ('tmp', 'new', 'cur'):
                self.assertEqual(self.files(kind, sub), [], '%s/%s' % (kind, sub))

    def assertTempfail(self, res, *needles):
        rc, _, err = res
        self.assertEqual(rc, EX_TEMPFAIL, err)
        self.assertIn('exit 75', err)
        for n in needles:
            self.assertIn(n, err)
        self.assertNothingStored()


class TestDropStores(DropTestCase):

    def test_fbl_crlf_null_sender(self):
        rc, _, err = self.drop('fbl', '--from', '<>', '--to',
                               'FBL@Fbl.Example.COM', stdin=ARF_CRLF)
        self.assertEqual(rc, EX_OK, err)
        name, data = self.read_new('fbl')
        self.assertEqual(data, b'Return-Path: <>\r\n'
                         b'X-Bounced-Envelope-To: <fbl@fbl.example.com>\r\n' +
                         ARF_CRLF)
        self.assertFalse(name.startswith('.'))
        self.assertNotIn(':', name)
        for sub in ('tmp', 'new', 'cur'):
            st = os.stat(os.path.join(self.spool, 'fbl', sub))
            self.assertTrue(stat.S_ISDIR(st.st_mode))
            self.assertEqual(st.st_mode & 0o777, 0o750)
        self.assertEqual(self.files('fbl', 'tmp'), [])
        st = os.stat(os.path.join(self.spool, 'fbl', 'new', name))
        self.assertEqual(st.st_mode & 0o027, 0, oct(st.st_mode))
        self.assertFalse(os.path.exists(os.path.join(self.spool, 'unsub')))
        self.assertIn('info drop: ', err)
        self.assertIn('%d bytes from <> to <fbl@fbl.example.com>' %
                      len(ARF_CRLF), err)

    def test_unsub_lf(self):
        rc, _, err = self.drop('unsub', '--from=Reader@Example.NET',
                               '--to=' + UNSUB_TO, stdin=UNSUB_LF)
        self.assertEqual(rc, EX_OK, err)
        _, data = self.read_new('unsub')
        self.assertEqual(data, b'Return-Path: <reader@example.net>\n'
                         b'X-Bounced-Envelope-To: <' + UNSUB_TO.encode() +
                         b'>\n' + UNSUB_LF)
        self.assertFalse(os.path.exists(os.path.join(self.spool, 'fbl')))

    def test_spool_created(self):
        # the spool itself may be missing (its parent exists)
        os.rmdir(os.path.join(self.spool, 'acct'))
        os.rmdir(self.spool)
        rc, _, err = self.drop('fbl', '--from', 'a@b.example', '--to',
                               'fbl@x.example', stdin=b'Subject: x\n\nbody\n')
        self.assertEqual(rc, EX_OK, err)
        self.read_new('fbl')

    def test_null_sender_forms(self):
        """an empty $from: '--from=', '--from ""', a bare --from before --to,
        '<>' and blanks all mean the null sender"""
        forms = [['--from=', '--to', 'f@x.example'],
                 ['--from', '', '--to', 'f@x.example'],
                 ['--from', '--to', 'f@x.example'],
                 ['--to', 'f@x.example', '--from', ' <> '],
                 ['--from=<>', '--to=<f@x.example>']]
        for args in forms:
            rc, _, err = self.drop('fbl', *args, stdin=b'Subject: x\n\nb\n')
            self.assertEqual(rc, EX_OK, '%r: %s' % (args, err))
        names = self.files('fbl', 'new')
        self.assertEqual(len(names), len(forms))
        for n in names:
            with open(os.path.join(self.spool, 'fbl', 'new', n), 'rb') as f:
                self.assertEqual(f.read(), b'Return-Path: <>\n'
                                 b'X-Bounced-Envelope-To: <f@x.example>\n'
                                 b'Subject: x\n\nb\n')

    def test_binary_mail_kept_as_is(self):
        mail = bytes(range(256)) * 64 + b'\n\x00\r\xff'
        rc, _, err = self.drop('fbl', '--from', 'a@b.example', '--to',
                               'f@x.example', stdin=mail)
        self.assertEqual(rc, EX_OK, err)
        _, data = self.read_new('fbl')
        self.assertTrue(data.endswith(mail))
        self.assertEqual(len(data), len(mail) + len(
            b'Return-Path: <a@b.example>\nX-Bounced-Envelope-To: <f@x.example>\n'))

    def test_size_limit(self):
        # the limit holds for the file the worker measures: the mail and
        # the two envelope lines before it
        self.write_config(bounced={'drop-max-size': 1024})
        env = len(b'Return-Path: <>\nX-Bounced-Envelope-To: <f@x.example>\n')
        mail = b'Subject: x\n\n' + b'y' * (1024 - env - 12)
        self.assertEqual(len(mail) + env, 1024)
        rc, _, err = self.drop('fbl', '--from=', '--to', 'f@x.example',
                               stdin=mail)
        self.assertEqual(rc, EX_OK, err)
        _, data = self.read_new('fbl')
        self.assertTrue(data.endswith(mail))
        os.unlink(os.path.join(self.spool, 'fbl', 'new',
                               self.files('fbl', 'new')[0]))
        # one byte more, and much more (stdin is not read to its end)
        for size in (1025 - env, 3 * 1024 * 1024):
            res = self.drop('fbl', '--from=', '--to', 'f@x.example',
                            stdin=b'Subject: x\n\n' + b'y' * (size - 12))
            self.assertTempfail(res, 'drop-max-size (1024 bytes)')

    def test_default_limit_is_10mib(self):
        res = self.drop('fbl', '--from=', '--to', 'f@x.example',
                        stdin=b'S: x\n\n' + b'y' * (10 * 1024 * 1024))
        self.assertTempfail(res, 'drop-max-size (10485760 bytes)')

    def test_parallel(self):
        procs = []
        for i in range(20):
            argv = [self.bounced, '-c', self.config, 'drop', 'unsub',
                    '--from', 'u%d@r.example' % i, '--to', UNSUB_TO]
            p = subprocess.Popen(argv, cwd=self.dir, env=self.env(),
                                 stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
            procs.append(p)
        for i, p in enumerate(procs):
            _, err = p.communicate(b'Subject: %d\n\nbody\n' % i, timeout=60)
            self.assertEqual(p.returncode, EX_OK, err)
        names = self.files('unsub', 'new')
        self.assertEqual(len(names), 20)
        seen = set()
        for n in names:
            with open(os.path.join(self.spool, 'unsub', 'new', n), 'rb') as f:
                data = f.read()
            lines = data.split(b'\n')
            i = int(lines[2].split(b': ')[1])
            self.assertEqual(lines[0], b'Return-Path: <u%d@r.example>' % i)
            seen.add(i)
        self.assertEqual(seen, set(range(20)))
        self.assertEqual(self.files('unsub', 'tmp'), [])

    def test_help(self):
        rc, out, _ = self.drop('--help')
        self.assertEqual(rc, EX_OK)
        self.assertIn('drop fbl|unsub --from ADDR --to ADDR', out)
        self.assertNothingStored()


class TestDropRefuses(DropTestCase):

    def test_bad_command_lines(self):
        cases = [
            ([], 'fbl or unsub'),
            (['fbl'], '--from is missing'),
            (['fbl', '--from', 'a@b.example'], '--to is missing'),
            (['fbl', '--to', 'f@x.example'], '--from is missing'),
            (['fbl', '--from=', '--to'], "option '--to' needs a value"),
            (['spam', '--from=', '--to', 'f@x.example'], "'spam'"),
            (['fbl', 'unsub', '--from=', '--to', 'f@x.example'],
             "unexpected argument 'unsub'"),
            (['fbl', '--from=', '--to', 'f@x.example', '--verbose'],
             "unknown option '--verbose'"),
            (['fbl', '--from=', '--from=', '--to', 'f@x.example'],
             'given twice'),
            (['fbl', '--from=', '--to', 'f@x.example', '--to=g@x.example'],
             'given twice'),
        ]
        for args, needle in cases:
            res = self.drop(*args, stdin=b'Subject: x\n\nb\n')
            self.assertTempfail(res, needle, 'usage: bounced [-c FILE] drop')
        # a bad option before the command: 75 as well (64 bounced the
        # mail in PowerMTA)
        p = subprocess.run([self.bounced, '-Z', '-c', self.config, 'drop',
                            'fbl', '--from=', '--to', 'f@x.example'],
                           cwd=self.dir, env=self.env(), input=b'x\n',
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=60)
        self.assertEqual(p.returncode, EX_TEMPFAIL, p.stderr)
        self.assertIn(b"unknown option '-Z'", p.stderr)
        self.assertNothingStored()

    def test_bad_envelopes(self):
        cases = [
            (['--from=', '--to', 'not-an-address'], '--to', 'not an address'),
            (['--from=', '--to', ''], '--to', 'not an address'),
            (['--from=', '--to', '<>'], '--to', 'not an address'),
            (['--from=', '--to', 'f@x.example\r\nBcc: all@x.example'],
             '--to', 'control characters'),
            (['--from', 'a@b.example', '--to', 'x' * 300 + '@x.example'],
             '--to', 'not an address'),
        ]
        for args, opt, needle in cases:
            res = self.drop('fbl', *args, stdin=b'Subject: x\n\nb\n')
            self.assertTempfail(res, opt, needle)
            self.assertNotIn('\r', res[2])
            self.assertNotIn('\x07', res[2])

    def test_sender_that_is_no_address_is_kept_as_null(self):
        # the envelope sender is only kept with the mail: one no retry can
        # mend does not fail the drop (PowerMTA would retry until it
        # bounced the mail), it is kept as <> with a warning
        # ('--version', '--help', '--config=x': what follows a bare
        # --from other than --to is its value, never an option of
        # bounced's: the mail was lost with exit 0)
        senders = ['a@b.example\n', 'a@b\x07.example', 'two words@b.example',
                   'taro..yamada.@docomo.ne.jp',
                   'SRS0=' + 'x' * 70 + '@forwarder.example',
                   '--version', '--help', '--config=/nonexistent']
        for i, frm in enumerate(senders):
            rc, _, err = self.drop('fbl', '--from', frm, '--to',
                                   'f@x.example', stdin=b'Subject: x\n\nb\n')
            self.assertEqual(rc, EX_OK, err)
            self.assertIn('kept as <>', err)
            self.assertNotIn('\r', err)
            self.assertNotIn('\x07', err)
        names = self.files('fbl', 'new')
        self.assertEqual(len(names), len(senders))
        for n in names:
            with open(os.path.join(self.spool, 'fbl', 'new', n), 'rb') as f:
                self.assertTrue(f.read().startswith(b'Return-Path: <>\n'))

    def test_empty_stdin(self):
        res = self.drop('fbl', '--from=', '--to', 'f@x.example', stdin=b'')
        self.assertTempfail(res, 'no mail on stdin')

    def test_bad_config(self):
        self.write_config(bounced={'drop-max-size': 10})
        res = self.drop('fbl', '--from=', '--to', 'f@x.example',
                        stdin=b'Subject: x\n\nb\n')
        self.assertEqual(res[0], EX_TEMPFAIL, res[2])
        self.assertIn('drop-max-size', res[2])
        self.assertNothingStored()

    def test_spool_under_a_file(self):
        """the spool cannot be created: its parent is a regular file"""
        blocker = os.path.join(self.dir, 'blocker')
        with open(blocker, 'w') as f:
            f.write('x')
        self.spool = os.path.join(blocker, 'spool')
        self.write_config()
        res = self.drop('fbl', '--from=', '--to', 'f@x.example',
                        stdin=b'Subject: x\n\nb\n')
        self.assertTempfail(res, 'cannot create the spool directory',
                            'Not a directory')

    def test_maildir_is_a_file(self):
        with open(os.path.join(self.spool, 'fbl'), 'w') as f:
            f.write('x')
        res = self.drop('fbl', '--from=', '--to', 'f@x.example',
                        stdin=b'Subject: x\n\nb\n')
        self.assertEqual(res[0], EX_TEMPFAIL, res[2])
        self.assertIn('Not a directory', res[2])

    @unittest.skipIf(os.geteuid() == 0, 'root writes into read-only '
                     'directories (the test above covers the case)')
    def test_read_only_spool(self):
        os.chmod(self.spool, 0o500)
        self.addCleanup(os.chmod, self.spool, 0o700)
        res = self.drop('fbl', '--from=', '--to', 'f@x.example',
                        stdin=b'Subject: x\n\nb\n')
        self.assertTempfail(res, 'Permission denied')

    def test_full_spool(self):
        """a file size limit (as a full disk or quota would): the write
        fails, nothing is left in tmp/ or new/"""
        def limit():
            resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

        mail = b'Subject: x\n\n' + b'z' * 100000
        res = self.drop('fbl', '--from=', '--to', 'f@x.example', stdin=mail,
                        preexec=limit)
        self.assertEqual(res[0], EX_TEMPFAIL, res[2])
        self.assertIn('cannot write', res[2])
        self.assertIn('File too large', res[2])
        self.assertEqual(self.files('fbl', 'tmp'), [])
        self.assertEqual(self.files('fbl', 'new'), [])
        # under the limit the same command works
        rc, _, err = self.drop('fbl', '--from=', '--to', 'f@x.example',
                               stdin=b'Subject: x\n\nb\n', preexec=limit)
        self.assertEqual(rc, EX_OK, err)

    def test_log_file_and_stderr(self):
        log = os.path.join(self.dir, 'bounced.log')
        self.write_config(bounced={'log': log})
        rc, _, err = self.drop('fbl', '--from=', '--to', 'nope',
                               stdin=b'Subject: x\n\nb\n')
        self.assertEqual(rc, EX_TEMPFAIL)
        self.assertIn("bounced: drop: --to 'nope' is not an address", err)
        with open(log) as f:
            text = f.read()
        self.assertIn("error drop: --to 'nope' is not an address", text)
        rc, _, err = self.drop('fbl', '--from=', '--to', 'f@x.example',
                               stdin=b'Subject: x\n\nb\n')
        self.assertEqual(rc, EX_OK, err)
        self.assertEqual(err, '')
        with open(log) as f:
            self.assertIn('info drop: ', f.read())


if __name__ == '__main__':
    unittest.main()
