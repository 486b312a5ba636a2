"""test_cli.py - bouncectl's and bounced's command lines as an operator
types them: every command answers --help (and -h, and `help CMD`) with its
synopsis and options, exit 0, without reading any configuration; global
options before or after the command, joined or separate values; errors
naming the option; bare `bounced` a short usage on stderr, exit 64; the
one configuration path /etc/bounced/bounced.conf named in both tools'
help; and read-only inspection: a user who may read the state but not
write it (nor the log file) runs every reading command, and is told what
permission an editing command lacks.
"""
import json
import os
import re
import shutil
import stat
import subprocess
import unittest

from harness import (BouncedTestCase, SAMPLE_HEADER, SAMPLE_PLAIN, EX_OK,
                     EX_USAGE, EX_NOINPUT, EX_NOUSER, EX_IOERR, EX_CONFIG,
                     SANITIZER_RE, draws_graphs, graph_env)

# the reading commands are the subject here: leak-checked (harness.only_reads)
CTL_LEAK_CHECK = True

DEFAULT_CONF = '/etc/bounced/bounced.conf'

# the options each command's help must name (on top of the global ones)
OPTIONS = {
    'show': ['--format'],
    'list': ['--status', '--since', '--domain', '--category', '--sender',
             '--job', '--provider', '--limit', '--format'],
    'stats': ['--by', '--since', '--limit', '--format'],
    'files': ['--format'],
    'forget': ['--reason'],
    'reevaluate': ['--dry-run'],
    'queue': ['--format'],
    'dead': ['--format'],
    'retry': ['--all'],
    'resend': ['--status', '--since', '--provider', '--dry-run'],
    'graph': ['--period', '--out', '--format', '--width', '--height'],
    'report': ['--out', '--refresh', '--format', '--width', '--height'],
    'rates': ['--by', '--since', '--limit', '--format'],
    'incidents': ['--open', '--format'],
    'incident': ['--format'],
    'classify': ['--dry-run', '--format'],
}
GLOBAL = ['--config', '--debug', '--quiet', '--help', '--version']

# bounced's commands and the options each one's help must name
BOUNCED_OPTIONS = {
    'process': ['--acct', '--list', '--reprocess', '--drain-timeout'],
    'run': [],
    'drop': ['--from', '--to'],
    'unsub-address': ['--form', '--domain', '--header', '--subscriber',
                      '--list', '--campaign', '--check'],
    'check-config': [],
    'notify-test': [],
    'provider-test': [],
}


def help_forms(cmd, i, arg):
    """the command lines asking CMD (the I-th command) for its help:
    every command both with --help and with -h after a configuration
    that cannot be read; the other spellings (help CMD, -h after an
    argument and another option) for the first three, as the options are
    read by the same table-driven code for every command"""
    forms = [[cmd, '--help'], ['-c', '/nonexistent.conf', cmd, '-h']]
    if i < 3:
        forms += [['help', cmd], [cmd, arg, '-h', '--debug']]
    return forms


class TestHelp(BouncedTestCase):

    def commands(self):
        res = self.run_ctl('--help', config=False)
        self.assertRc(res, EX_OK)
        section = res.out.split('Commands:', 1)[1].split('\n\n', 1)[0]
        return [c for c in re.findall(r'(?m)^  ([a-z][a-z-]+)', section)
                if c != 'help']

    def test_every_command_answers_help(self):
        cmds = self.commands()
        self.assertEqual(set(cmds), set(OPTIONS))
        # no configuration can be read: --help must not need one
        for i, cmd in enumerate(cmds):
            for argv in help_forms(cmd, i, 'x@example.com'):
                res = self.run_ctl(*argv, config=False)
                self.assertEqual((res.rc, res.err), (EX_OK, ''), res)
                first = res.out.split('\n', 1)[0]
                self.assertTrue(first.startswith(
                    'usage: bouncectl [-c FILE] %s' % cmd), first)
                for opt in OPTIONS[cmd] + GLOBAL:
                    self.assertRegex(res.out, r'(?m)^  (-\w, |    )%s\b'
                                     % re.escape(opt),
                                     '%s --help lacks %s' % (cmd, opt))
                self.assertIn(DEFAULT_CONF, res.out)
        for argv in (['--help'], ['-h'], ['help'], ['help', 'help'],
                     ['help', '--help']):
            res = self.run_ctl(*argv, config=False)
            self.assertEqual((res.rc, res.err), (EX_OK, ''), res)
        self.assertRc(self.run_ctl('help', 'nosuch', config=False), EX_USAGE)

    def test_bounced_help_names_the_configuration_path(self):
        res = self.run_bounced('--help', config=False)
        self.assertRc(res, EX_OK)
        self.assertIn(DEFAULT_CONF, res.out)
        self.assertNotIn('/etc/bounced.conf', res.out)


class TestBouncedHelp(BouncedTestCase):

    def test_every_command_answers_help(self):
        res = self.run_bounced('--help', config=False)
        self.assertEqual((res.rc, res.err), (EX_OK, ''), res)
        section = res.out.split('Commands:', 1)[1].split('\n\n', 1)[0]
        cmds = [c for c in re.findall(r'(?m)^  ([a-z][a-z-]+)', section)
                if c != 'help']
        self.assertEqual(set(cmds), set(BOUNCED_OPTIONS))
        for i, cmd in enumerate(cmds):
            for argv in help_forms(cmd, i, 'x.csv') + (
                    [[cmd, '--help', '-c/nonexistent.conf']] if i < 3
                    else []):
                res = self.run_bounced(*argv, config=False)
                self.assertEqual((res.rc, res.err), (EX_OK, ''), res)
                first = res.out.split('\n', 1)[0]
                self.assertTrue(first.startswith(
                    'usage: bounced [-c FILE] %s' % cmd), first)
                for opt in BOUNCED_OPTIONS[cmd] + GLOBAL:
                    self.assertRegex(res.out, r'(?m)^  (-\w, |    )%s\b'
                                     % re.escape(opt),
                                     '%s --help lacks %s' % (cmd, opt))
                self.assertIn(DEFAULT_CONF, res.out)
        for argv in (['--help'], ['-h'], ['help'], ['help', 'help'],
                     ['help', '--help']):
            res = self.run_bounced(*argv, config=False)
            self.assertEqual((res.rc, res.err), (EX_OK, ''), res)
        self.assertRc(self.run_bounced('help', 'nosuch', config=False),
                      EX_USAGE)

    def test_bare_bounced_prints_a_short_usage(self):
        res = self.run_bounced(config=False)
        self.assertRc(res, EX_USAGE)
        self.assertEqual(res.out, '')
        lines = res.err.rstrip('\n').split('\n')
        self.assertLessEqual(len(lines), 20, res.err)
        self.assertTrue(lines[0].startswith('usage: bounced'), lines[0])
        for cmd in BOUNCED_OPTIONS:
            self.assertRegex(res.err, r'(?m)^  %s ' % re.escape(cmd))
        self.assertIn("'bounced --help'", res.err)
        # the same with only global options
        res = self.run_bounced('-q', config=False)
        self.assertRc(res, EX_USAGE)
        self.assertLessEqual(len(res.err.rstrip('\n').split('\n')), 20)

    def test_options_before_or_after_the_command(self):
        csv = self.copy_sample(SAMPLE_HEADER)
        for i, argv in enumerate((
                ['process', '-c', self.config, csv],
                ['process', csv, '-c' + self.config],
                ['process', '--config=' + self.config, csv, '--reprocess'],
                ['--config', self.config, 'process', '--reprocess', csv],
                ['process', csv, '--conf', self.config, '--repro',
                 '--drain-timeout=1s'])):
            res = self.run_bounced(*argv, config=False)
            self.assertRc(res, EX_OK)
            if i == 0:
                self.assertIn('%s: ' % csv, res.out)
                self.assertNotIn('already taken', res.out)
            elif i == 1:
                self.assertIn('already taken', res.out)
            else:
                # --reprocess, wherever it stands, takes the file again
                self.assertNotIn('already taken', res.out, argv)
        res = self.run_ctl('stats', '--format', 'json')
        self.assertEqual(json.loads(res.out)['addresses'], 11)
        # check-config reads the file named after the command
        res = self.run_bounced('check-config', '-c', self.config,
                               config=False)
        self.assertRc(res, EX_OK)
        self.assertIn(self.config, res.out.split('\n', 1)[0])

    def test_errors_name_the_option(self):
        for argv, msg in ((('process', '--nope'), "unknown option '--nope'"),
                          (('process', '-z'), "unknown option '-z'"),
                          (('process', '--drain-timeout'),
                           "option '--drain-timeout' needs a value"),
                          (('process', '--reprocess=yes'),
                           "option '--reprocess' takes no value"),
                          (('run', '--once'), "unknown option '--once'"),
                          (('unsub-address', '--form'),
                           "option '--form' needs a value"),
                          (('check-config', '--all'),
                           "unknown option '--all'")):
            res = self.run_bounced(*argv)
            self.assertRc(res, EX_USAGE)
            self.assertIn(msg, res.err, argv)
            self.assertIn("see 'bounced help %s'" % argv[0], res.err)
            self.assertIn('usage: bounced [-c FILE] %s' % argv[0], res.err)
        for argv, msg in ((('process', '--drain-timeout', 'soon'),
                           "--drain-timeout takes a duration"),
                          (('process', '--acct', '--list'),
                           'exclude each other'),
                          (('run', 'extra'), 'unexpected argument'),
                          (('check-config', 'extra'), 'unexpected argument'),
                          (('unsub-address', '--subscriber', 's', 'extra'),
                           "unexpected argument 'extra'")):
            res = self.run_bounced(*argv)
            self.assertRc(res, EX_USAGE)
            self.assertIn(msg, res.err, argv)
        res = self.run_bounced('--nope', 'process')
        self.assertRc(res, EX_USAGE)
        self.assertIn("unknown option '--nope'", res.err)
        res = self.run_bounced('no-such-command')
        self.assertRc(res, EX_USAGE)
        self.assertIn("unknown command 'no-such-command'", res.err)


class TestCheckConfig(BouncedTestCase):
    """check-config says on its stderr what it warns about, wherever the
    log goes, and names the key of a log it cannot open"""

    def test_warnings_on_stderr_with_a_log_file(self):
        log = os.path.join(self.dir, 'b.log')
        self.write_config(bounced={'log': log, 'bogus': '1'})
        res = self.run_bounced('check-config')
        self.assertRc(res, EX_OK)
        self.assertIn("unknown key 'bogus' in [bounced]", res.err)
        with open(log) as f:
            self.assertIn("unknown key 'bogus' in [bounced]", f.read())
        # another command: the log only
        res = self.run_bounced('process', self.copy_sample(SAMPLE_HEADER))
        self.assertNotIn('bogus', res.err)

    def test_log_that_cannot_be_opened_names_its_key(self):
        self.write_config(bounced={'log': os.path.join(self.dir, 'no',
                                                       'b.log')})
        res = self.run_bounced('check-config')
        self.assertRc(res, EX_CONFIG)
        self.assertIn("config %s: [bounced] log = '%s': cannot open it: "
                      "No such file or directory" %
                      (self.config, os.path.join(self.dir, 'no', 'b.log')),
                      res.err)


class TestOutputFull(BouncedTestCase):
    """A command whose output is its result fails (74, saying so) when
    that output cannot be written: both tools alike"""

    def run_to_full(self, prog, *args):
        """PROG -c CONFIG ARGS with stdout on /dev/full: (rc, stderr)"""
        with open('/dev/full', 'w') as full:
            p = subprocess.run([prog, '-c', self.config] + list(args),
                               cwd=self.dir, env=self.env(),
                               stdin=subprocess.DEVNULL, stdout=full,
                               stderr=subprocess.PIPE, timeout=self.timeout)
        return p.returncode, p.stderr.decode('utf-8', 'replace')

    def test_output_that_cannot_be_written(self):
        self.write_config(extra='\n[unsubscribe]\naddresses = '
                          '[SUBSCRIBER_UID].[LIST_UID]@unsub.example.com\n')
        self.run_bounced('process', self.copy_sample(SAMPLE_HEADER))
        sub, lst = 'zz123cd456ef7', 'ab123cd456ef7'
        for prog, args in (
                (self.bounced, ['check-config']),
                (self.bounced, ['unsub-address', '--subscriber', sub,
                                '--list', lst]),
                (self.bounced, ['unsub-address', '--check',
                                '%s.%s@unsub.example.com' % (sub, lst)]),
                (self.bouncectl, ['list'])):
            rc, err = self.run_to_full(prog, *args)
            self.assertEqual(rc, EX_IOERR, (args, err))
            self.assertIn('%s: cannot write the output: No space left on '
                          'device' % os.path.basename(prog), err)


class TestOptions(BouncedTestCase):

    def setUp(self):
        super().setUp()
        self.process(self.copy_sample(SAMPLE_HEADER),
                     self.copy_sample(SAMPLE_PLAIN))

    def stats(self, *argv):
        res = self.run_ctl(*argv, config=False)
        self.assertRc(res, EX_OK)
        return json.loads(res.out)

    def test_global_options_before_or_after_the_command(self):
        want = self.stats('-c', self.config, 'stats', '--format', 'json')
        self.assertEqual(want['addresses'], 17)
        for argv in (('stats', '-c', self.config, '--format', 'json'),
                     ('stats', '--format=json', '-c' + self.config),
                     ('--config=' + self.config, 'stats', '--format',
                      'json'),
                     ('stats', '--format', 'json',
                      '--config=' + self.config),
                     ('stats', '--form', 'json', '--conf', self.config),
                     ('-q', 'stats', '--format', 'json', '-c',
                      self.config)):
            self.assertEqual(self.stats(*argv), want, argv)
        # show: the address and the options in any order
        a = self.run_ctl('show', 'k.tanaka@example.net', '--format', 'json')
        b = self.run_ctl('show', '--format=json', 'k.tanaka@example.net')
        self.assertRc(a, EX_OK)
        self.assertEqual(json.loads(a.out), json.loads(b.out))

    def test_errors_name_the_option(self):
        for argv, msg in ((('list', '--nope'), "unknown option '--nope'"),
                          (('list', '-z'), "unknown option '-z'"),
                          (('list', '--status'),
                           "option '--status' needs a value"),
                          (('reevaluate', '--dry-run=yes'),
                           "option '--dry-run' takes no value"),
                          (('list', '--limit', '0'), '--limit'),
                          (('stats', '--by', 'colour'), "'colour'"),
                          (('list', '--format', 'xml'),
                           "unknown format 'xml' (text, csv, json, jsonl)"),
                          (('stats', '--limit', '3'), 'go with --by'),
                          (('list', 'extra'), "unexpected argument 'extra'"),
                          # a shortened name that fits several options
                          (('list', '--s', 'hard'), "ambiguous option '--s' "
                           "(--status, --since, --sender?)"),
                          (('list', '--s=hard'), "ambiguous option '--s' "
                           "(--status, --since, --sender?)"),
                          (('list', '--d', 'x'), "ambiguous option '--d' "
                           "(--domain, --debug?)"),
                          (('list', '--sx'), "unknown option '--sx'")):
            res = self.run_ctl(*argv)
            self.assertRc(res, EX_USAGE)
            self.assertIn(msg, res.err, argv)
            self.assertIn("see 'bouncectl help %s'" % argv[0], res.err)
        res = self.run_ctl('--nope', 'list')
        self.assertRc(res, EX_USAGE)
        self.assertIn("unknown option '--nope'", res.err)

    def test_double_dash_ends_the_options(self):
        # an address that starts with a dash is an address, not an option
        res = self.run_ctl('show', '--', '-x@example.com')
        self.assertRc(res, EX_NOUSER)
        self.assertIn("no record for '-x@example.com'", res.err)

    def test_default_configuration_path(self):
        if os.path.lexists(DEFAULT_CONF):
            self.skipTest('%s exists on this machine' % DEFAULT_CONF)
        # no -c, no $BOUNCED_CONFIG, no /etc/bounced/bounced.conf: the
        # embedded defaults, whose state is ./state (none in this cwd)
        os.makedirs(os.path.join(self.dir, 'cwd'))
        p = subprocess.run([self.bouncectl, 'stats'], cwd=os.path.join(
            self.dir, 'cwd'), env=self.env(), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        self.assertEqual(p.returncode, EX_NOINPUT)
        self.assertIn(b'no state in ./state yet', p.stderr)
        res = self.run_bounced('check-config', config=False)
        self.assertRc(res, EX_OK)
        self.assertIn('(embedded defaults)', res.out.split('\n', 1)[0])
        # $BOUNCED_CONFIG names the file
        env = self.env()
        env['BOUNCED_CONFIG'] = self.config
        p = subprocess.run([self.bouncectl, 'stats', '--format', 'json'],
                           cwd=self.dir, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        self.assertEqual(p.returncode, EX_OK, p.stderr)
        self.assertEqual(json.loads(p.stdout)['addresses'], 17)


class TestReadOnly(BouncedTestCase):
    """A user who may read the state, not write it (nor the log)."""

    timeout = 600

    def setUp(self):
        super().setUp()
        self.logdir = os.path.join(self.dir, 'log')
        os.makedirs(self.logdir)
        self.logfile = os.path.join(self.logdir, 'bounced.log')
        self.write_config(bounced={'log': self.logfile})
        self.process(self.copy_sample(SAMPLE_HEADER),
                     self.copy_sample(SAMPLE_PLAIN))
        self.out = os.path.join(self.dir, 'out')
        os.makedirs(self.out)
        self.as_root = os.geteuid() == 0
        if self.as_root:
            if not shutil.which('setpriv'):
                self.skipTest('setpriv is needed to drop root')
            # another user: may read everything, write nothing but OUT
            for d, _, files in os.walk(self.dir):
                os.chmod(d, 0o755)
                for f in files:
                    os.chmod(os.path.join(d, f), 0o644)
            os.chmod(self.out, 0o777)
        else:
            # the owner, with the write permissions taken away
            os.chmod(self.state, 0o555)
            for f in os.listdir(self.state):
                os.chmod(os.path.join(self.state, f), 0o444)
            os.chmod(self.logfile, 0o444)
            self.addCleanup(self.restore)

    def restore(self):
        os.chmod(self.state, 0o755)
        for f in os.listdir(self.state):
            os.chmod(os.path.join(self.state, f), 0o644)
        os.chmod(self.logfile, 0o644)

    def reader(self, *args):
        argv = [self.bouncectl, '-c', self.config] + list(args)
        if self.as_root:
            argv = ['setpriv', '--reuid=65534', '--regid=65534',
                    '--clear-groups', '--'] + argv
        env = self.env()
        if draws_graphs(args):
            graph_env(env)
        p = subprocess.run(argv, cwd=self.out, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=self.timeout)
        err = p.stderr.decode('utf-8', 'replace')
        if SANITIZER_RE.search(err):
            self.fail('sanitizer report: %s' % err)
        return p.returncode, p.stdout.decode('utf-8', 'replace'), err

    def test_every_reading_command(self):
        rc, out, err = self.reader('stats', '--format', 'json')
        self.assertEqual((rc, err), (EX_OK, ''))
        self.assertEqual(json.loads(out)['addresses'], 17)
        rc, out, err = self.reader('list', '--format', 'json')
        self.assertEqual(rc, EX_OK, err)
        self.assertEqual(len(json.loads(out)), 17)
        rc, out, err = self.reader('show', 'k.tanaka@example.net')
        self.assertEqual(rc, EX_OK, err)
        self.assertIn('escalated to hard', out)
        for args in (('files',), ('queue',), ('dead',), ('stats', '--by',
                                                         'domain'),
                     ('reevaluate', '--dry-run'), ('reevaluate', '-n'),
                     ('resend', '--dry-run'), ('resend', '-n'),
                     ('resend', 'alice.moreau@example.com', '--dry-run'),
                     ('classify', '--dry-run'),
                     ('graph', '--period', 'day', '--out', self.out),
                     ('report', '--out', self.out)):
            rc, out, err = self.reader(*args)
            self.assertEqual(rc, EX_OK, '%s: %s' % (args, err))
        self.assertTrue(os.path.isfile(os.path.join(self.out, 'index.html')))
        # incident's show reads (release and discard write)
        rc, out, err = self.reader('incident', 'show', '1')
        self.assertIn(rc, (EX_OK, 67), err)
        self.assertNotIn('log file', err)
        # the state is as it was: nothing written, no lock file made
        self.assertEqual(sorted(os.listdir(self.state)),
                         ['bounced.lock', 'bounced.rrd', 'data.mdb',
                          'lock.mdb'])

    def test_editing_commands_say_what_is_missing(self):
        # an edit is logged where the daemon logs: that file first
        rc, out, err = self.reader('forget', 'alice.moreau@example.com')
        self.assertEqual(rc, EX_CONFIG)
        self.assertIn("[bounced] log = '%s': cannot open it: Permission "
                      "denied" % self.logfile, err)
        # logging to stderr, the state's permissions
        conf = os.path.join(self.dir, 'stderr.conf')
        with open(conf, 'w') as f:
            f.write('[bounced]\nspool = %s\nstate = %s\nlog = -\n'
                    % (self.spool, self.state))
        os.chmod(conf, 0o644)
        self.config = conf
        rc, out, err = self.reader('forget', 'alice.moreau@example.com')
        self.assertEqual(rc, EX_IOERR)
        self.assertIn('Permission denied', err)
        self.assertIn('write permission on the directory, its data.mdb and '
                      'its lock.mdb', err)
        # and nothing changed
        rc, out, err = self.reader('show', 'alice.moreau@example.com',
                                   '--format', 'json')
        self.assertEqual(json.loads(out)['status'], 'hard')

    def test_no_read_permission_is_named(self):
        if self.as_root:
            os.chmod(os.path.join(self.state, 'data.mdb'), 0o600)
        else:
            os.chmod(os.path.join(self.state, 'data.mdb'), 0o000)
        rc, out, err = self.reader('stats')
        self.assertEqual(rc, EX_IOERR)
        self.assertIn('read permission on its data.mdb', err)


if __name__ == '__main__':
    unittest.main()
