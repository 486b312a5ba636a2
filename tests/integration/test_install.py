"""test_install.py - `scons install` and the deployment files it installs.

`scons install` is run for real into temporary directories (DESTDIR with
PREFIX=/usr/local, and PREFIX alone), with the build variant of the
binaries under test, and must install both programs, the three man pages
and every example of contrib/.  Then the installed files are checked
against what they describe:

- each man page renders with groff without a warning (skipped without
  groff); bounced.conf(5) names every group and key of docs/CONFIG.md, and
  bounced(8) every command and option of `bounced --help`;
- bounced.conf.example loads without a warning, names every key of
  docs/CONFIG.md, and its commented defaults, uncommented, give exactly
  the embedded defaults;
- bounced.service is accepted by `systemd-analyze verify` (skipped without
  it), runs the worker as the PowerMTA user with the sandboxing asked for,
  can write the spool, state and log directories the other files name, and
  waits longer than shutdown-timeout before SIGKILL;
- the PowerMTA snippets: the accounting file lands in the spool's acct/ on
  the same file system; the accounting pipe's command line, run as written
  (installed paths substituted), takes a PowerMTA file from stdin; the FBL
  and unsubscribe domain pipes' command lines, unquoted as PowerMTA does
  and run with $from and $to substituted (the null sender too), store the
  mail in the maildir;
- the logrotate postrotate script makes a running worker reopen its log,
  and leaves alone a process that is not a worker whose pid is still in
  the lock file.
"""
import filecmp
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

from harness import (EX_OK, ROOT, SAMPLE_HEADER, SAMPLES, SANITIZER_RE,
                     build_dir, sanitized, sanitizer_env, summaries,
                     wait_until)

PROGS = ('bounced', 'bouncectl')
PAGES = ('man8/bounced.8', 'man8/bouncectl.8', 'man5/bounced.conf.5')
EXAMPLES = ('bounced.conf.example', 'bounced.service', 'bounced.logrotate',
            'pmta-acct.conf', 'pmta-pipe.conf', 'pmta-domains.conf')
DOCS = ['README.md'] + ['docs/' + n for n in sorted(os.listdir(
    os.path.join(ROOT, 'docs'))) if n.endswith('.md')]

# The directives of the PowerMTA 5.0 User's Guide the snippets may use:
# <acct-file> (section 3.3.11), pipe domains (type, 3.3.10.97 command),
# relay-domain (3.3.1.32.2), <bounce-processor> / <feedback-loop-processor>
# with <address-list> (3.3.3 to 3.3.5).
PMTA_DIRECTIVES = {
    'acct-file': {'delete-after', 'move-to', 'move-interval', 'max-size',
                  'queue-filter', 'retry-interval', 'iso-times',
                  'user-string', 'write-timeout', 'map-header-to-field',
                  'records', 'record-fields', 'world-readable',
                  'count-moved-records', 'sync', 'privacy-policy'},
    'domain': {'type', 'command', 'macro-variables-preserve-case'},
    'bounce-processor': {'deliver-unmatched-email', 'deliver-matched-email',
                         'forward-unmatched-to', 'forward-errors-to'},
    'feedback-loop-processor': {'deliver-unmatched-email',
                                'deliver-matched-email',
                                'forward-unmatched-to', 'forward-errors-to'},
    'address-list': {'domain', 'address'},
    '': {'relay-domain'},
}
# the textfile of the [metrics] example in the documents
TEXTFILE_EXAMPLE = '/var/lib/prometheus/node-exporter/bounced.prom'

# the paths the deployment files are written for
BIN = '/usr/local/sbin/bounced'
CONF = '/etc/bounced/bounced.conf'
SPOOL = '/var/spool/bounced'
STATE = '/var/lib/bounced'
LOGDIR = '/var/log/bounced'

SLOW = 4.0 if sanitized() else 1.0


def scons_variant():
    """The scons arguments that build the binaries under test, or None when
    the build directory is not one of the SConstruct's variants."""
    rel = os.path.relpath(os.path.realpath(build_dir()), os.path.realpath(ROOT))
    return {'build': [], os.path.join('build', 'san'): ['sanitize=1'],
            os.path.join('build', 'fuzz'): ['fuzz=1']}.get(rel)


def scons_install(prefix, destdir):
    """Run `scons -Q install PREFIX=… DESTDIR=…`; returns (rc, output)."""
    argv = ['scons', '-Q', 'install', 'PREFIX=' + prefix,
            'DESTDIR=' + destdir] + scons_variant()
    p = subprocess.run(argv, cwd=ROOT, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=1800)
    return p.returncode, p.stdout.decode('utf-8', 'replace')


def render_man(path, dev='ascii'):
    """groff -man PATH as plain text (overstrikes removed) and its stderr."""
    p = subprocess.run(['groff', '-man', '-T' + dev, '-ww', '-rLL=78n',
                        '-P-c', path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    text = re.sub('.\b', '', p.stdout.decode('utf-8', 'replace'))
    return p.returncode, text, p.stderr.decode('utf-8', 'replace')


def config_md_keys():
    """{group: [keys]} of the key tables of docs/CONFIG.md (provider type
    sections are folded into 'provider')."""
    groups, cur = {}, None
    with open(os.path.join(ROOT, 'docs', 'CONFIG.md'), encoding='utf-8') as f:
        for line in f:
            m = re.match(r'^##+ (.*)$', line)
            if m:
                title = m.group(1).strip()
                g = re.match(r'^\[(\w+)', title)
                if g:
                    cur = g.group(1)
                elif title.startswith('type = '):
                    cur = 'provider'
                else:
                    cur = None
                continue
            k = re.match(r'^\| `([a-z][a-z-]*)` \|', line)
            if k and cur:
                groups.setdefault(cur, []).append(k.group(1))
    return groups


def parse_duration(text):
    """'30s', '10s', '5m', '90' -> seconds"""
    m = re.match(r'^(\d+)(ms|s|m|h|d|w)?$', text.strip())
    mult = {'ms': 0.001, None: 1, 's': 1, 'm': 60, 'h': 3600, 'd': 86400,
            'w': 604800}
    return int(m.group(1)) * mult[m.group(2)]


def read(path):
    with open(path, encoding='utf-8') as f:
        return f.read()


def read_bytes(path):
    with open(path, 'rb') as f:
        return f.read()


def unit_values(text):
    """{key: [values]} of a systemd unit (comments and sections ignored)."""
    res = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in '#;[':
            continue
        k, _, v = line.partition('=')
        res.setdefault(k.strip(), []).append(v.strip())
    return res


class InstallTestCase(unittest.TestCase):
    """One `scons install` into DESTDIR for the whole class."""

    maxDiff = None

    @classmethod
    def setUpClass(cls):
        if shutil.which('scons') is None:
            raise unittest.SkipTest('scons is not installed')
        if scons_variant() is None:
            raise unittest.SkipTest('build directory %s is not a variant of '
                                    'the SConstruct' % build_dir())
        cls.tmp = os.path.realpath(tempfile.mkdtemp(prefix='bounced-inst-'))
        cls.dest = os.path.join(cls.tmp, 'dest')
        rc, out = scons_install('/usr/local', cls.dest)
        if rc != 0:
            shutil.rmtree(cls.tmp, True)
            raise AssertionError('scons install failed (%d):\n%s' %
                                 (rc, out[-6000:]))
        cls.prefix = os.path.join(cls.dest, 'usr', 'local')
        cls.sbin = os.path.join(cls.prefix, 'sbin')
        cls.man = os.path.join(cls.prefix, 'share', 'man')
        cls.examples = os.path.join(cls.prefix, 'share', 'doc', 'bounced',
                                    'examples')
        cls.bounced = os.path.join(cls.sbin, 'bounced')

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, True)

    def setUp(self):
        self.dir = os.path.realpath(tempfile.mkdtemp(prefix='bounced-test-'))
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.procs = []
        self.addCleanup(self.kill_procs)

    def kill_procs(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()

    def env(self):
        env = sanitizer_env(dict(os.environ))
        env.pop('BOUNCED_CONFIG', None)
        return env

    def run_cmd(self, argv, stdin=b'', timeout=120, env=None):
        p = subprocess.run(argv, cwd=self.dir, env=env or self.env(),
                           input=stdin, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
        out = p.stdout.decode('utf-8', 'replace')
        err = p.stderr.decode('utf-8', 'replace')
        if SANITIZER_RE.search(err):
            self.fail('sanitizer report from %s:\n%s' % (argv, err))
        return p.returncode, out, err

    def example(self, name):
        return read(os.path.join(self.examples, name))

    def write_config(self, name='bounced.conf', extra=''):
        """A configuration with this test's spool and state; its path."""
        self.spool = os.path.join(self.dir, 'spool')
        self.state = os.path.join(self.dir, 'state')
        path = os.path.join(self.dir, name)
        with open(path, 'w') as f:
            f.write('[bounced]\nspool = %s\nstate = %s\n%s' %
                    (self.spool, self.state, extra))
        os.chmod(path, 0o600)
        return path

    def deployed(self, text, conf):
        """TEXT with the production paths replaced by the installed binary
        and CONF."""
        return text.replace(BIN, self.bounced).replace(CONF, conf)

    # ---- what is installed ----

    def test_installs_programs_pages_and_examples(self):
        for prog in PROGS:
            path = os.path.join(self.sbin, prog)
            self.assertTrue(os.access(path, os.X_OK), path)
            self.assertTrue(filecmp.cmp(path, os.path.join(build_dir(), prog),
                                        shallow=False), path)
        rc, out, _ = self.run_cmd([self.bounced, '--version'])
        self.assertEqual((rc, out.split()[0]), (EX_OK, 'bounced'))
        for page in PAGES:
            path = os.path.join(self.man, page)
            src = os.path.join(ROOT, 'docs', 'man', os.path.basename(page))
            self.assertTrue(filecmp.cmp(path, src, shallow=False), path)
        for name in EXAMPLES:
            path = os.path.join(self.examples, name)
            self.assertTrue(filecmp.cmp(path, os.path.join(ROOT, 'contrib',
                                                           name),
                                        shallow=False), path)
        # the README and the documents it links to, where its links work
        docdir = os.path.join(self.prefix, 'share', 'doc', 'bounced')
        for name in DOCS:
            path = os.path.join(docdir, name)
            self.assertTrue(filecmp.cmp(path, os.path.join(ROOT, name),
                                        shallow=False), path)
        readme = read(os.path.join(docdir, 'README.md'))
        for link in re.findall(r'\]\((docs/[^)#]+)', readme):
            self.assertTrue(os.path.isfile(os.path.join(docdir, link)), link)

    def test_prefix_without_destdir(self):
        prefix = os.path.join(self.dir, 'prefix')
        rc, out = scons_install(prefix, '')
        self.assertEqual(rc, 0, out[-6000:])
        for path in (['sbin/' + p for p in PROGS] +
                     ['share/man/' + p for p in PAGES] +
                     ['share/doc/bounced/examples/' + e for e in EXAMPLES] +
                     ['share/doc/bounced/' + d for d in DOCS]):
            self.assertTrue(os.path.isfile(os.path.join(prefix, path)), path)

    # ---- man pages ----

    def test_man_pages_render_without_warnings(self):
        if shutil.which('groff') is None:
            self.skipTest('groff is not installed')
        for page in PAGES:
            path = os.path.join(self.man, page)
            for dev in ('utf8', 'ascii'):
                rc, text, err = render_man(path, dev)
                self.assertEqual((rc, err), (0, ''), '%s (-T%s)' % (page, dev))
                self.assertIn('NAME', text)
                self.assertIn('SEE ALSO', text)
        if shutil.which('man'):
            env = dict(os.environ, MANPATH=self.man, MANWIDTH='80')
            for name in ('bounced', 'bouncectl', 'bounced.conf'):
                p = subprocess.run(['man', '-w', name], env=env,
                                   stdout=subprocess.PIPE, timeout=60)
                self.assertEqual(p.returncode, 0, name)
                self.assertTrue(p.stdout.decode().startswith(self.man), name)

    def test_bounced_conf_5_names_every_key_of_config_md(self):
        if shutil.which('groff') is None:
            self.skipTest('groff is not installed')
        _, text, _ = render_man(os.path.join(self.man, 'man5/bounced.conf.5'))
        groups = config_md_keys()
        for g in ('bounced', 'classify', 'provider', 'notify', 'rrd'):
            self.assertIn(g, groups)
            self.assertIn('[%s' % g, text)
        for g, keys in groups.items():
            for k in keys:
                self.assertRegex(text, r'(?m)^ +%s = ' % re.escape(k),
                                 'bounced.conf(5) does not describe [%s] %s'
                                 % (g, k))

    def test_bounced_8_names_every_command_and_option(self):
        if shutil.which('groff') is None:
            self.skipTest('groff is not installed')
        _, text, _ = render_man(os.path.join(self.man, 'man8/bounced.8'))
        rc, usage, _ = self.run_cmd([self.bounced, '--help'])
        self.assertEqual(rc, EX_OK)
        usage = usage.split('\nExamples:', 1)[0]
        section = usage.split('Commands:', 1)[1].split('\n\n', 1)[0]
        commands = re.findall(r'(?m)^  ([a-z][a-z-]+)', section)
        self.assertIn('process', commands)
        self.assertIn('run', commands)
        for cmd in commands:
            self.assertRegex(text, r'(?m)^ +%s\b' % re.escape(cmd),
                             'bounced(8) has no section for %s' % cmd)
        for opt in sorted(set(re.findall(r'(?<![\w-])(--?[a-zA-Z][\w-]*)',
                                         usage))):
            self.assertIn(opt, text, 'bounced(8) does not name %s' % opt)
        for cmd in commands:
            # every option of every command's --help
            if cmd == 'help':
                continue
            rc, help_text, err = self.run_cmd([self.bounced, cmd, '--help'])
            self.assertEqual((rc, err), (EX_OK, ''), cmd)
            for opt in sorted(set(re.findall(r'(?m)^  (?:-\w, )?(--[a-z-]+)',
                                             help_text))):
                self.assertIn(opt, text, 'bounced(8) does not name %s '
                              '(of %s)' % (opt, cmd))
        for code in re.findall(r'(?m)^  (\d\d)  ', usage):
            self.assertRegex(text, r'(?m)^ +%s +' % code,
                             'bounced(8) does not explain exit %s' % code)

    # ---- bounced.conf.example ----

    def test_example_config_loads_without_warnings(self):
        ex = os.path.join(self.examples, 'bounced.conf.example')
        rc, out, err = self.run_cmd([self.bounced, '-c', ex, 'check-config'])
        self.assertEqual((rc, err), (EX_OK, ''))
        self.assertIn('[bounced]', out)

    def test_example_config_names_every_key(self):
        # a "#key = default" line for the keys of the fixed groups; a
        # provider key at least named in a comment (some have no default)
        text = self.example('bounced.conf.example')
        for g, keys in config_md_keys().items():
            for k in keys:
                if g == 'provider':
                    pat = r'(?m)^#.*(?<![\w-])%s(?![\w-])' % re.escape(k)
                else:
                    # commented out at its default, or set (spool, state)
                    pat = r'(?m)^#?%s =' % re.escape(k)
                self.assertRegex(text, pat, 'bounced.conf.example lacks '
                                 '[%s] %s' % (g, k))

    def test_example_defaults_are_the_embedded_defaults(self):
        # uncomment every "#key = value" before the provider examples: the
        # embedded defaults, but for the spool and state the example sets
        text = self.example('bounced.conf.example')
        head = re.split(r'(?m)^#\s*\[provider', text)[0]
        lines = [re.sub(r'^#([a-z][a-z-]*\s*=.*)$', r'\1', line)
                 for line in head.splitlines()]
        uncommented = '\n'.join(lines) + '\n'
        self.assertGreater(len(re.findall(r'(?m)^[a-z][a-z-]* *=',
                                          uncommented)), 20)
        path = os.path.join(self.dir, 'defaults.conf')
        with open(path, 'w') as f:
            f.write(uncommented)
        rc, got, err = self.run_cmd([self.bounced, '-c', path,
                                     'check-config'])
        self.assertEqual((rc, err), (EX_OK, ''))
        paths = os.path.join(self.dir, 'paths.conf')
        with open(paths, 'w') as f:
            f.write('[bounced]\nspool = %s\nstate = %s\n' % (SPOOL, STATE))
        rc, want, err = self.run_cmd([self.bounced, '-c', paths,
                                      'check-config'])
        self.assertEqual((rc, err), (EX_OK, ''))
        # the first line names the source; the rest must be the same
        self.assertEqual(got.split('\n', 1)[1], want.split('\n', 1)[1])

    def test_example_names_the_units_paths(self):
        # as shipped, the example sets the spool and state the unit uses,
        # and nothing else
        text = self.example('bounced.conf.example')
        set_keys = re.findall(r'(?m)^([a-z][a-z-]*) *= *(.*)$', text)
        self.assertEqual(set_keys, [('spool', SPOOL), ('state', STATE)])
        unit = unit_values(self.example('bounced.service'))
        writable = ' '.join(unit['ReadWritePaths']).split()
        self.assertIn(SPOOL, writable)
        self.assertIn(STATE, writable)
        self.assertIn(CONF, text)

    def test_bouncectl_8_names_every_command_and_option(self):
        if shutil.which('groff') is None:
            self.skipTest('groff is not installed')
        _, text, _ = render_man(os.path.join(self.man, 'man8/bouncectl.8'))
        ctl = os.path.join(self.sbin, 'bouncectl')
        rc, usage, _ = self.run_cmd([ctl, '--help'])
        self.assertEqual(rc, EX_OK)
        section = usage.split('Commands:', 1)[1].split('\n\n', 1)[0]
        commands = re.findall(r'(?m)^  ([a-z][a-z-]+)', section)
        for cmd in ('show', 'list', 'stats', 'queue', 'dead', 'retry',
                    'resend', 'graph', 'report'):
            self.assertIn(cmd, commands)
        for cmd in commands:
            self.assertRegex(text, r'(?m)^ +%s\b' % re.escape(cmd),
                             'bouncectl(8) has no section for %s' % cmd)
            rc, help_text, err = self.run_cmd([ctl, cmd, '--help'])
            self.assertEqual((rc, err), (EX_OK, ''), cmd)
            for opt in sorted(set(re.findall(r'(?m)^  (?:-\w, )?(--[a-z-]+)',
                                             help_text))):
                self.assertIn(opt, text, 'bouncectl(8) does not name %s '
                              '(of %s)' % (opt, cmd))
        for code in re.findall(r'(?m)^  (\d\d)  ', usage):
            self.assertRegex(text, r'(?m)^ +%s +' % code,
                             'bouncectl(8) does not explain exit %s' % code)

    # ---- bounced.service ----

    def test_unit_runs_the_worker_sandboxed(self):
        u = unit_values(self.example('bounced.service'))
        one = {k: v[-1] for k, v in u.items()}
        self.assertEqual(one['ExecStart'], '%s -c %s run' % (BIN, CONF))
        self.assertEqual((one['User'], one['Group']), ('pmta', 'pmta'))
        self.assertEqual(one['Type'], 'simple')
        self.assertEqual(one['Restart'], 'on-failure')
        self.assertEqual(one['ExecReload'], '/bin/kill -HUP $MAINPID')
        self.assertEqual(one['KillSignal'], 'SIGTERM')
        for k, v in (('NoNewPrivileges', 'yes'), ('ProtectSystem', 'strict'),
                     ('PrivateTmp', 'yes'), ('ProtectHome', 'yes'),
                     ('PrivateDevices', 'yes'), ('LockPersonality', 'yes'),
                     ('MemoryDenyWriteExecute', 'yes'),
                     ('SystemCallArchitectures', 'native'),
                     ('UMask', '0027')):
            self.assertEqual(one.get(k), v, k)
        self.assertEqual(set(one['RestrictAddressFamilies'].split()),
                         {'AF_UNIX', 'AF_INET', 'AF_INET6'})
        writable = ' '.join(u['ReadWritePaths']).split()
        # the textfile directory of the documents' example, optional
        textdir = os.path.dirname(TEXTFILE_EXAMPLE)
        self.assertEqual(set(writable), {SPOOL, STATE, LOGDIR, '-' + textdir})
        for doc in ('docs/CONFIG.md', 'docs/man/bounced.conf.5',
                    'contrib/bounced.conf.example'):
            self.assertIn(TEXTFILE_EXAMPLE.replace('-', r'\-')
                          if doc.endswith('.5') else TEXTFILE_EXAMPLE,
                          read(os.path.join(ROOT, doc)), doc)
        # SIGKILL must not come before shutdown-timeout has passed
        rc, out, _ = self.run_cmd([self.bounced, 'check-config'])
        shutdown = parse_duration(re.search(r'(?m)^shutdown-timeout = (\S+)',
                                            out).group(1))
        self.assertGreater(parse_duration(one['TimeoutStopSec']),
                           shutdown + 5)
        # the other files name only paths the unit lets the worker write
        acct = self.example('pmta-acct.conf')
        self.assertIn('move-to %s/acct\n' % SPOOL, acct)
        self.assertIn('/var/log/bounced/bounced.log {',
                      self.example('bounced.logrotate'))
        self.assertIn('%s/bounced.lock' % STATE,
                      self.example('bounced.logrotate'))

    def test_systemd_analyze_verify(self):
        if shutil.which('systemd-analyze') is None:
            self.skipTest('systemd-analyze is not installed')
        unitdir = os.path.join(self.dir, 'units')
        os.makedirs(unitdir)
        unit = os.path.join(unitdir, 'bounced.service')
        with open(unit, 'w') as f:
            f.write(self.deployed(self.example('bounced.service'), CONF))
        argv = ['systemd-analyze', 'verify']
        if shutil.which('man') is None:
            argv.append('--man=no')
        env = dict(os.environ, MANPATH=self.man, SYSTEMD_LOG_LEVEL='warning')
        p = subprocess.run(argv + [unit], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=120)
        out = (p.stdout + p.stderr).decode('utf-8', 'replace')
        ours = [line for line in out.splitlines()
                if 'bounced.service' in line or 'bounced(' in line
                or 'bounced.conf(' in line or 'bouncectl(' in line]
        self.assertEqual((p.returncode, ours), (0, []), out)

    # ---- PowerMTA snippets ----

    def test_acct_file_moves_into_the_spool_on_one_file_system(self):
        text = self.example('pmta-acct.conf')
        m = re.search(r'(?m)^<acct-file ([^|>][^>]*)>(.*?)^</acct-file>',
                      text, re.S)
        self.assertIsNotNone(m)
        path, body = m.group(1).strip(), m.group(2)
        directives = {}
        for line in body.splitlines():
            line = line.split('#', 1)[0].strip()
            if line:
                k, _, v = line.partition(' ')
                directives.setdefault(k, []).append(v.strip())
        self.assertEqual(directives['move-to'], [SPOOL + '/acct'])
        # move-to is a rename: the file PowerMTA writes is on the spool too,
        # and not in acct/ (which only finished files may enter)
        self.assertTrue(path.startswith(SPOOL + '/'), path)
        self.assertNotEqual(os.path.dirname(path), SPOOL + '/acct')
        self.assertEqual(len(directives['records']), 1)
        self.assertEqual(set(directives['records'][0].split(',')),
                         {'b', 'rb', 'f'})
        self.assertIn('#records b,rb,f,d', body)
        self.assertEqual(directives['map-header-to-field'],
                         ['f header_X-HmXmrOriginalRecipient rcpt'])
        rf = dict(v.split(' ', 1) for v in directives['record-fields'])
        self.assertEqual(set(rf), {'b', 'rb', 'f'})
        for h in ('X-HmXmrOriginalRecipient', 'List-Id', 'X-Mw-Subscriber-Uid',
                  'X-Mailer-LID', 'X-Mailer-RecptId'):
            self.assertIn('header_' + h, rf['f'].split(','))
        # bounces, local and remote, name the MailWizz subscriber: one call
        # instead of two
        for t in ('b', 'rb'):
            self.assertEqual(rf[t].split(','),
                             ['*', 'header_X-Mw-Subscriber-Uid'], t)
        self.assertIn('move-interval', directives)
        self.assertIn('max-size', directives)

    def test_acct_pipe_command_takes_stdin(self):
        text = self.example('pmta-pipe.conf')
        pipes = re.findall(r'(?m)^<acct-file \|([^>]*)>', text)
        self.assertEqual(len(pipes), 1)
        self.assertTrue(re.search(r'(?m)^<acct-file /', text),
                        'pmta-pipe.conf keeps no file beside the pipe')
        conf = self.write_config()
        argv = shlex.split(self.deployed(pipes[0], conf))
        self.assertEqual(argv[0], self.bounced)
        with open(os.path.join(SAMPLES, SAMPLE_HEADER), 'rb') as f:
            data = f.read()
        rc, out, err = self.run_cmd(argv, stdin=data)
        self.assertEqual(rc, EX_OK, err)
        s = summaries(out)
        self.assertIn('stdin', s, out)
        self.assertGreater(s['stdin']['records'], 0)
        self.assertGreater(s['stdin']['hard'], 0)

    def domain_pipes(self):
        """{domain: command line as PowerMTA reads it (quotes undone)}"""
        text = self.example('pmta-domains.conf')
        res = {}
        for dom, body in re.findall(r'(?ms)^<domain ([^>]+)>(.*?)^</domain>',
                                    text):
            self.assertRegex(body, r'(?m)^\s*type pipe\s*$')
            m = re.search(r'(?m)^\s*command "([^"\\]*)"\s*$', body)
            # nothing to escape inside the quotes: the line means the same
            # whether quotes are escaped with a backslash (the guide's
            # examples) or doubled
            self.assertIsNotNone(m, 'the command of %s holds a quote or a '
                                 'backslash' % dom)
            res[dom] = m.group(1)
            self.assertIn(' --from=$from --to=$to', res[dom])
            self.assertIn('relay-domain %s\n' % dom, text)
        return res

    def test_domain_pipes_drop_into_the_maildirs(self):
        pipes = self.domain_pipes()
        self.assertEqual(len(pipes), 2)
        kinds = {}
        for dom, cmd in pipes.items():
            argv = shlex.split(cmd)
            self.assertEqual(argv[:3], [BIN, '-c', CONF])
            self.assertEqual(argv[3], 'drop')
            kinds[argv[4]] = cmd
        self.assertEqual(set(kinds), {'fbl', 'unsub'})
        rc, usage, _ = self.run_cmd([self.bounced, '--help'])
        if not re.search(r'(?m)^  drop ', usage):
            self.skipTest('bounced drop is not built yet')
        conf = self.write_config()
        mail = (b'From: reports@isp.example\r\nTo: fbl@fbl.example.com\r\n'
                b'Subject: complaint\r\n\r\nbody\r\n')
        for kind, cmd in sorted(kinds.items()):
            for sender in ('Reports@ISP.example', ''):
                # PowerMTA replaces the macros, then splits the line
                line = self.deployed(cmd, conf)
                line = line.replace('$from', sender).replace(
                    '$to', '%s@%s.example.com' % (kind, kind))
                argv = shlex.split(line)
                rc, out, err = self.run_cmd(argv, stdin=mail)
                self.assertEqual(rc, EX_OK, '%s: %s' % (argv, err))
            new = os.path.join(self.spool, kind, 'new')
            names = sorted(os.listdir(new))
            self.assertEqual(len(names), 2, names)
            heads = sorted(read_bytes(os.path.join(new, n)).split(b'\n')[0]
                           for n in names)
            self.assertEqual(heads, [b'Return-Path: <>\r',
                                     b'Return-Path: <reports@isp.example>\r'])
            for n in names:
                body = read_bytes(os.path.join(new, n))
                self.assertEqual(body.split(b'\n')[1],
                                 b'X-Bounced-Envelope-To: <%s@%s.example.com>'
                                 b'\r' % (kind.encode(), kind.encode()))
                self.assertTrue(body.endswith(mail))

    def snippet_directives(self, text):
        """[(enclosing block, directive)] of a PowerMTA snippet (comments
        and commented-out lines left out)"""
        res, blocks = [], []
        for line in text.splitlines():
            line = line.split('#', 1)[0].strip()
            if not line:
                continue
            m = re.match(r'^<(/?)([a-z-]+)', line)
            if m:
                if m.group(1):
                    self.assertEqual(blocks.pop(), m.group(2))
                else:
                    blocks.append(m.group(2))
                continue
            res.append((blocks[-1] if blocks else '', line.split()[0]))
        self.assertEqual(blocks, [])
        return res

    def readme_snippets(self):
        """the PowerMTA blocks of the README (fenced, holding a <tag>)"""
        readme = read(os.path.join(ROOT, 'README.md'))
        return [b for b in re.findall(r'(?ms)^```[a-z]*\n(.*?)^```', readme)
                if re.search(r'(?m)^<(acct-file|domain)', b)]

    def test_snippets_use_documented_directives(self):
        texts = [self.example(n) for n in ('pmta-acct.conf', 'pmta-pipe.conf',
                                           'pmta-domains.conf')]
        # the commented-out examples must load too once uncommented
        texts += [re.sub(r'(?m)^#(?=[<a-z])', '', t) for t in texts]
        texts += self.readme_snippets()
        for text in texts:
            found = self.snippet_directives(text)
            self.assertTrue(found)
            for block, directive in found:
                self.assertIn(directive, PMTA_DIRECTIVES.get(block, set()),
                              'not a directive of <%s> in the PowerMTA 5.0 '
                              "User's Guide: %s" % (block, directive))

    def test_readme_snippet_agrees_with_contrib(self):
        snippets = self.readme_snippets()
        self.assertEqual(len(snippets), 1)
        acct = self.example('pmta-acct.conf')
        block = re.search(r'(?ms)^<acct-file [^|].*?^</acct-file>', acct).group(0)
        lines = {l.split('#', 1)[0].strip() for l in block.splitlines()}
        for line in snippets[0].splitlines():
            self.assertIn(line.strip(), lines, 'README line not in '
                          'contrib/pmta-acct.conf: %s' % line)
        for t in ('b', 'rb'):
            self.assertIn('record-fields %s *,header_X-Mw-Subscriber-Uid' % t,
                          snippets[0])

    # ---- logrotate ----

    def postrotate(self, state):
        """The postrotate script of bounced.logrotate for STATE, with
        systemctl left out (never touch a real service from a test)."""
        text = self.example('bounced.logrotate')
        m = re.search(r'(?ms)^\s*postrotate\n(.*?)^\s*endscript', text)
        self.assertIsNotNone(m)
        script = m.group(1).replace(STATE, state)
        self.assertIn('systemctl', script)
        return re.sub(r'\bsystemctl\b', 'false', script)

    def wait_for(self, cond, what, timeout=15):
        if not wait_until(cond, timeout * SLOW, 0.05):
            self.fail('timed out waiting for %s' % what)

    def test_postrotate_makes_the_worker_reopen_its_log(self):
        logdir = os.path.join(self.dir, 'log')
        os.makedirs(logdir)
        log = os.path.join(logdir, 'bounced.log')
        conf = self.write_config(extra='log = %s\n' % log)
        lock = os.path.join(self.state, 'bounced.lock')
        worker = subprocess.Popen([self.bounced, '-c', conf, 'run'],
                                  cwd=self.dir, env=self.env(),
                                  stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        self.procs.append(worker)

        def ready():
            try:
                return read(lock).strip() == str(worker.pid)
            except OSError:
                return False
        self.wait_for(lambda: ready() or worker.poll() is not None,
                      'the worker to write its pid')
        if worker.poll() is not None:
            self.fail('the worker exited %d: %s' % (
                worker.returncode, worker.stderr.read().decode('utf-8',
                                                               'replace')))
        os.rename(log, log + '.1')          # what logrotate does
        p = subprocess.run(['sh', '-c', self.postrotate(self.state)],
                           cwd=self.dir, timeout=60)
        self.assertEqual(p.returncode, 0)
        self.wait_for(lambda: os.path.exists(log) and 'SIGHUP' in read(log),
                      'the worker to reopen %s' % log)
        self.assertIsNone(worker.poll())
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=60 * SLOW)
        self.assertEqual(worker.returncode, EX_OK, err)
        self.assertNotRegex(err.decode('utf-8', 'replace'), SANITIZER_RE)

    def test_postrotate_leaves_a_stale_pid_alone(self):
        state = os.path.join(self.dir, 'state')
        os.makedirs(state)
        other = subprocess.Popen(['sleep', '60'])
        self.procs.append(other)
        with open(os.path.join(state, 'bounced.lock'), 'w') as f:
            f.write('%d\n' % other.pid)
        p = subprocess.run(['sh', '-c', self.postrotate(state)],
                           cwd=self.dir, timeout=60)
        self.assertEqual(p.returncode, 0)
        time.sleep(0.2)
        self.assertIsNone(other.poll(), 'postrotate signalled a process '
                          'that is not a bounced worker')


if __name__ == '__main__':
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    unittest.main()
