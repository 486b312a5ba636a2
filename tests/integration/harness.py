"""harness.py - what the integration tests of bounced and bouncectl share.

Each test gets a fresh temporary directory holding a spool, a state
directory and a configuration file naming both, and runs the real binaries
of the build directory (env BOUNCED_BUILD, default build/ at the top of the
repository) in it.  Output is returned as it came (nothing stripped);
sanitizer reports on stderr fail the test whatever the exit code.
"""
import csv
import io
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SAMPLES = os.path.join(ROOT, 'spool', 'acct')
DATA = os.path.join(ROOT, 'tests', 'data')

# the sample accounting files of spool/acct (see test_process.py for what
# they hold): one with a header line, one header-less in the fallback order
SAMPLE_HEADER = 'acct-2026-11-20-0000.csv'
SAMPLE_PLAIN = 'acct-2026-11-25-0000.csv'
UNSUB_LIST = 'unsub-list.csv'

EX_OK, EX_USAGE, EX_DATAERR, EX_NOINPUT, EX_NOUSER = 0, 64, 65, 66, 67
EX_IOERR, EX_TEMPFAIL, EX_CONFIG = 74, 75, 78

COUNT_KEYS = ('records', 'hard', 'soft', 'escalated', 'complaints',
              'unsubscribes', 'duplicates', 'deliveries', 'ignored',
              'skipped', 'bad')

SUMMARY_RE = re.compile(
    r'^(?P<name>.+): (?P<records>\d+) records, (?P<hard>\d+) hard, '
    r'(?P<soft>\d+) soft, (?P<escalated>\d+) escalated, '
    r'(?P<complaints>\d+) complaints, (?P<unsubscribes>\d+) unsubscribes, '
    r'(?P<duplicates>\d+) duplicates, (?P<deliveries>\d+) deliveries, '
    r'(?P<ignored>\d+) ignored, (?P<skipped>\d+) skipped, '
    r'(?P<bad>\d+) bad lines in (?P<seconds>\d+\.\d+) s$')

SANITIZER_RE = re.compile(r'ERROR: (Address|Leak|Memory|Thread)Sanitizer|'
                          r'runtime error:|SUMMARY: UndefinedBehaviorSanitizer')


def build_dir():
    """The build directory holding bounced and bouncectl (absolute)."""
    b = os.environ.get('BOUNCED_BUILD') or 'build'
    return b if os.path.isabs(b) else os.path.join(ROOT, b)


def sanitized():
    """True when the binaries are an ASan/UBSan build (slower)."""
    if os.environ.get('BOUNCED_SANITIZE') == '1':
        return True
    parts = os.path.normpath(build_dir()).split(os.sep)
    return 'san' in parts or 'fuzz' in parts


def sanitizer_env(env):
    """Sanitizer options as tests/run.py sets them, unless already set."""
    env.setdefault('ASAN_OPTIONS', 'detect_leaks=1:abort_on_error=0:'
                   'strict_string_checks=1:detect_stack_use_after_return=1')
    env.setdefault('LSAN_OPTIONS', 'suppressions=%s' %
                   os.path.join(ROOT, 'tests', 'lsan.supp'))
    env.setdefault('UBSAN_OPTIONS', 'print_stacktrace=1:halt_on_error=1')
    return env


def graph_env(env):
    """ENV for runs that draw graphs: librrd, pango and fontconfig are built
    without frame pointers, so LeakSanitizer needs the slow unwinder to see
    that a leak of theirs comes from rrd_graph_v (suppressed in
    tests/lsan.supp)."""
    env['ASAN_OPTIONS'] = env.get('ASAN_OPTIONS', '') + \
        ':fast_unwind_on_malloc=0'
    return env


def parse_summary(line):
    """One summary line -> dict (name, the COUNT_KEYS as ints, seconds),
    or None when LINE is not one."""
    m = SUMMARY_RE.match(line)
    if not m:
        return None
    d = {k: int(m.group(k)) for k in COUNT_KEYS}
    d['name'] = m.group('name')
    d['seconds'] = float(m.group('seconds'))
    return d


def summaries(out):
    """Every summary line of OUT as {name: dict}."""
    res = {}
    for line in out.splitlines():
        d = parse_summary(line)
        if d:
            res[d['name']] = d
    return res


def counts(records=0, hard=0, soft=0, escalated=0, complaints=0,
           unsubscribes=0, duplicates=0, deliveries=0, ignored=0, skipped=0,
           bad=0):
    """The expected counts of a summary line, as a dict of COUNT_KEYS."""
    return dict(records=records, hard=hard, soft=soft, escalated=escalated,
                complaints=complaints, unsubscribes=unsubscribes,
                duplicates=duplicates, deliveries=deliveries,
                ignored=ignored, skipped=skipped, bad=bad)


class Result(object):
    """What a run of a binary gave: rc, out, err (text), and argv."""

    def __init__(self, argv, rc, out, err):
        self.argv = argv
        self.rc = rc
        self.out = out
        self.err = err

    def __repr__(self):
        return ('<%s exited %s\n--- stdout ---\n%s--- stderr ---\n%s>' %
                (' '.join(self.argv), self.rc, self.out[-4000:],
                 self.err[-4000:]))


class BouncedTestCase(unittest.TestCase):
    """A test with its own spool, state and configuration.

    self.dir      the temporary directory (removed afterwards)
    self.spool    DIR/spool, with acct/ in it
    self.state    DIR/state (not created: bounced creates it)
    self.config   DIR/bounced.conf, written by write_config()
    """

    timeout = 300
    maxDiff = None

    def setUp(self):
        self.build = build_dir()
        self.bounced = os.path.join(self.build, 'bounced')
        self.bouncectl = os.path.join(self.build, 'bouncectl')
        for prog in (self.bounced, self.bouncectl):
            if not os.access(prog, os.X_OK):
                self.fail('%s is missing: build it first (scons), or set '
                          'BOUNCED_BUILD' % prog)
        self.dir = os.path.realpath(tempfile.mkdtemp(prefix='bounced-test-'))
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.spool = os.path.join(self.dir, 'spool')
        self.state = os.path.join(self.dir, 'state')
        os.makedirs(os.path.join(self.spool, 'acct'))
        self.config = os.path.join(self.dir, 'bounced.conf')
        self.write_config()

    # ---- files ----

    def write_config(self, bounced=None, classify=None, extra=''):
        """Write self.config: [bounced] with spool and state (and the keys
        of the dict BOUNCED), [classify] with the keys of CLASSIFY, then
        EXTRA as it is."""
        lines = ['[bounced]', 'spool = %s' % self.spool,
                 'state = %s' % self.state]
        for k, v in (bounced or {}).items():
            lines.append('%s = %s' % (k, v))
        if classify:
            lines.append('')
            lines.append('[classify]')
            for k, v in classify.items():
                lines.append('%s = %s' % (k, v))
        text = '\n'.join(lines) + '\n' + extra
        with open(self.config, 'w') as f:
            f.write(text)
        os.chmod(self.config, 0o600)

    def copy_sample(self, name, dest=None):
        """Copy spool/acct/NAME of the repository into this test's spool;
        returns the absolute path of the copy."""
        path = os.path.join(self.spool, 'acct', dest or name)
        shutil.copyfile(os.path.join(SAMPLES, name), path)
        return path

    def copy_data(self, name, dest=None):
        """Copy tests/data/NAME into this test's directory; returns the path."""
        path = os.path.join(self.dir, dest or name)
        shutil.copyfile(os.path.join(DATA, name), path)
        return path

    def write_file(self, name, text):
        """Write TEXT (str, written as it is: no newline translation, or
        bytes) to DIR/NAME; returns the absolute path."""
        path = os.path.join(self.dir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        data = text.encode('utf-8') if isinstance(text, str) else text
        with open(path, 'wb') as f:
            f.write(data)
        return path

    # ---- running the binaries ----

    def env(self):
        env = sanitizer_env(dict(os.environ))
        env.pop('BOUNCED_CONFIG', None)
        return env

    def run_prog(self, prog, args, stdin=None, config=True, timeout=None):
        argv = [prog] + (['-c', self.config] if config else []) + \
            [str(a) for a in args]
        if isinstance(stdin, str):
            stdin = stdin.encode('utf-8')
        p = subprocess.run(argv, cwd=self.dir, env=self.env(),
                           input=stdin if stdin is not None else b'',
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout or self.timeout)
        res = Result(argv, p.returncode, p.stdout.decode('utf-8', 'replace'),
                     p.stderr.decode('utf-8', 'replace'))
        if SANITIZER_RE.search(res.err):
            self.fail('sanitizer report: %r' % res)
        return res

    def run_bounced(self, *args, stdin=None, config=True, timeout=None):
        """bounced -c CONFIG ARGS...; a Result"""
        return self.run_prog(self.bounced, args, stdin, config, timeout)

    def run_ctl(self, *args, stdin=None, config=True):
        """bouncectl -c CONFIG ARGS...; a Result"""
        return self.run_prog(self.bouncectl, args, stdin, config)

    def assertRc(self, res, rc):
        self.assertEqual(res.rc, rc, 'expected exit %d: %r' % (rc, res))

    def ctl_json(self, *args):
        """bouncectl ARGS... --format json: the parsed output (exit 0)"""
        res = self.run_ctl(*(list(args) + ['--format', 'json']))
        self.assertRc(res, EX_OK)
        try:
            return json.loads(res.out)
        except ValueError as e:
            self.fail('bouncectl printed no valid JSON (%s): %r' % (e, res))

    def ctl_csv(self, *args):
        """bouncectl ARGS... --format csv: (raw text, list of dict rows)"""
        res = self.run_ctl(*(list(args) + ['--format', 'csv']))
        self.assertRc(res, EX_OK)
        rows = list(csv.DictReader(io.StringIO(res.out, newline='')))
        return res.out, rows

    def process(self, *args, rc=EX_OK, stdin=None):
        """bounced process ARGS...; asserts the exit code, returns Result"""
        res = self.run_bounced('process', *args, stdin=stdin)
        self.assertRc(res, rc)
        return res

    def process_summary(self, path, *opts):
        """bounced process OPTS PATH: its summary line as a dict"""
        res = self.process(*(list(opts) + [path]))
        s = summaries(res.out)
        name = 'stdin' if path == '-' else path
        self.assertIn(name, s, 'no summary line for %s: %r' % (name, res))
        return s[name]

    def assertCounts(self, summary, expected):
        got = {k: summary[k] for k in COUNT_KEYS}
        self.assertEqual(got, expected)

    # ---- reading the state ----

    def show(self, addr):
        """bouncectl show ADDR --format json"""
        return self.ctl_json('show', addr)

    def records(self, *args):
        """bouncectl list ARGS --format json as {address: object}"""
        arr = self.ctl_json('list', *args)
        self.assertIsInstance(arr, list)
        return {o['address']: o for o in arr}

    def statuses(self, *args):
        """{address: status} of bouncectl list ARGS"""
        return {a: o['status'] for a, o in self.records(*args).items()}

    def assertStatus(self, addr, status, **fields):
        """show ADDR has STATUS, and each of FIELDS has the value given"""
        rec = self.show(addr)
        self.assertEqual(rec['address'], addr)
        self.assertEqual(rec['status'], status, rec)
        for k, v in fields.items():
            self.assertEqual(rec[k], v, '%s of %s: %r' % (k, addr, rec))
        return rec
