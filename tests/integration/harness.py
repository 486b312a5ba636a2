"""harness.py - what the integration tests of bounced and bouncectl share.

Each test gets a fresh temporary directory holding a spool, a state
directory and a configuration file naming both, and runs the real binaries
of the build directory (env BOUNCED_BUILD, default build/ at the top of the
repository) in it.  Output is returned as it came (nothing stripped);
sanitizer reports on stderr fail the test whatever the exit code.

Waiting is on events (wait_until, BouncedTestCase.wait_for: a file there, a
log line, a state read back through bouncectl, a fake's call count) with a
timeout scaled by SLOW, never on a fixed sleep.  RunTestCase runs `bounced
run` in the background with the webhook fake; accounting files are written
with ACCT_HEADER and acct_rec, large ones by gen_acct (tests/bench).
"""
import copy
import csv
import errno
import glob
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
from fake import webhook  # noqa: E402

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


# sanitizers make everything slower: timeouts are scaled by this
SLOW = 3.0 if sanitized() else 1.0

# the accounting columns most tests write, and one record in them
ACCT_HEADER = ('type,timeLogged,orig,rcpt,dsnStatus,dsnDiag,bounceCat,vmta,'
               'jobId,feedbackType\r\n')


def acct_rec(t, time_, orig, rcpt, status='', diag='', cat='', job='',
             fb=''):
    """One record of ACCT_HEADER's columns (type T), CRLF-terminated."""
    return '%s,%s,%s,%s,%s,"%s",%s,vmta1,%s,%s\r\n' % (
        t, time_, orig, rcpt, status, diag.replace('"', '""'), cat, job, fb)


def hard_file(addrs, orig='news@bounces.example.com'):
    """An accounting file with a hard bounce for each of ADDRS."""
    return ACCT_HEADER + ''.join(
        acct_rec('b', '2026-11-24 10:%02d:00+0000' % (i % 60), orig, a,
                 '5.1.1', 'smtp;550 5.1.1 user unknown', 'bad-mailbox')
        for i, a in enumerate(addrs))


def read_text(path):
    """PATH's text, '' when it is not there (yet)"""
    try:
        with open(path, encoding='utf-8', errors='replace') as f:
            return f.read()
    except FileNotFoundError:
        return ''


# wait_until's looks: every 20 ms at first, then half as often again each
# time, to at most every WAIT_MAX_INTERVAL seconds.  Many conditions run a
# program (bouncectl queue, files): looked at every 20 ms, a sanitized one
# would take a core from the bounced being waited for.
WAIT_FIRST_INTERVAL = 0.02
WAIT_MAX_INTERVAL = 0.1 * SLOW


def needed_libraries(path):
    """the DT_NEEDED entries of the ELF program PATH (readelf -d)"""
    p = subprocess.run(['readelf', '-d', path], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    assert p.returncode == 0, p.stdout
    return re.findall(r'\(NEEDED\)\s+Shared library: \[([^\]]+)\]',
                      p.stdout.decode('utf-8', 'replace'))


def wait_until(cond, timeout, interval=None):
    """Call COND until it is true or TIMEOUT seconds passed; its last
    value.  The wait for an event: a file, a log line, a count.  INTERVAL:
    a fixed time between looks (default: from 20 ms, backing off to
    WAIT_MAX_INTERVAL)."""
    end = time.monotonic() + timeout
    pause = interval or WAIT_FIRST_INTERVAL
    while True:
        v = cond()
        if v or time.monotonic() >= end:
            return v
        time.sleep(pause)
        if interval is None:
            pause = min(pause * 1.5, WAIT_MAX_INTERVAL)


def sanitizer_env(env):
    """Sanitizer options as tests/run.py sets them for the unit tests,
    unless already set, but for detect_stack_use_after_return: its fake
    stacks cost each sanitized program about 15 ms to start and stop, and
    the integration tests start some 1,600 of them; the unit tests and the
    fuzz targets, which call the same functions directly, keep it."""
    env.setdefault('ASAN_OPTIONS', 'detect_leaks=1:abort_on_error=0:'
                   'strict_string_checks=1')
    env.setdefault('LSAN_OPTIONS', 'suppressions=%s' %
                   os.path.join(ROOT, 'tests', 'lsan.supp'))
    env.setdefault('UBSAN_OPTIONS', 'print_stacktrace=1:halt_on_error=1')
    return env


def graph_env(env, leaks=False):
    """ENV for runs that draw graphs.  librrd, pango and fontconfig are
    built without frame pointers, so LeakSanitizer needs the slow unwinder
    to see that a leak of theirs comes from rrd_graph_v (suppressed in
    tests/lsan.supp); the slow unwinder makes every allocation several
    times dearer.  So only the runs of tests marked graph_leak_check
    (LEAKS) look for leaks, with it; the other graph and report runs do
    not look for leaks at all (the rest of the sanitizers stays on)."""
    return asan_option(env, 'fast_unwind_on_malloc=0' if leaks
                       else 'detect_leaks=0')


def asan_option(env, opt):
    """ENV with OPT after its ASAN_OPTIONS (the last one of a name wins)"""
    env['ASAN_OPTIONS'] = env.get('ASAN_OPTIONS', '') + ':' + opt
    return env


def graph_leak_check(test):
    """Decorator: the graph and report runs of TEST are checked for leaks
    (graph_env).  A few tests that draw every period and the fullest
    report carry it, so the drawing code's leaks are still found."""
    test.graph_leak_check = True
    return test


def copy_tree_entries(src, dest, skip=()):
    """copy every entry of directory SRC (but the names in SKIP) into
    DEST, files with their modes, directories recursively"""
    for n in os.listdir(src):
        if n in skip:
            continue
        p = os.path.join(src, n)
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.copytree(p, os.path.join(dest, n), symlinks=True)
        else:
            shutil.copy2(p, os.path.join(dest, n), follow_symlinks=False)


def rebase_paths(obj, old, new):
    """OBJ (str, list, tuple, dict, nested) with every string under the
    directory OLD moved under NEW"""
    if isinstance(obj, str):
        if obj == old or obj.startswith(old + os.sep):
            return new + obj[len(old):]
        return obj
    if isinstance(obj, (list, tuple)):
        return type(obj)(rebase_paths(o, old, new) for o in obj)
    if isinstance(obj, dict):
        return {k: rebase_paths(v, old, new) for k, v in obj.items()}
    return obj


def ctl_words(args):
    """the words of bouncectl ARGS but its options (and -c's file)"""
    words = [str(a) for a in args]
    return [w for i, w in enumerate(words)
            if not w.startswith('-') and
            not (i and words[i - 1] in ('-c', '--config'))]


def draws_graphs(args):
    """True when bouncectl ARGS is a command that draws graphs (graph,
    report): only those runs need graph_env's slow unwinder, which makes
    every allocation of a sanitized program several times dearer."""
    words = ctl_words(args)
    return bool(words) and words[0] in ('graph', 'report')


# bouncectl's commands that only read the state
CTL_READING = ('show', 'list', 'stats', 'files', 'queue', 'dead', 'rates',
               'incidents', 'classify')


def only_reads(args):
    """True when bouncectl ARGS is a reading command: a test's look at
    the state, leak-checked only in the modules that test bouncectl
    itself (CTL_LEAK_CHECK), as LeakSanitizer's scan costs each sanitized
    program some 40 ms and the suite reads the state some 900 times"""
    words = ctl_words(args)
    return bool(words) and (words[0] in CTL_READING or
                            words[:2] == ['incident', 'show'])


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

    def assertNotLinkedWith(self, lib):
        """bounced and bouncectl have no DT_NEEDED entry of LIB ('librrd',
        'libcurl'): it is loaded when first needed"""
        for prog in (self.bounced, self.bouncectl):
            needed = needed_libraries(prog)
            self.assertIn('liblmdb.so.0', needed, prog)
            self.assertEqual([n for n in needed if lib in n], [], prog)

    def broken_library(self, name):
        """(soname, directory): a file of the soname of library NAME
        ('rrd', 'curl') that is no library, in a directory of this test,
        for LD_LIBRARY_PATH: a loader then cannot load it.  The soname is
        the one the build gave bounced (libcurl.so.4, or
        libcurl-gnutls.so.4 for a build against that flavour)"""
        with open(self.bounced, 'rb') as f:
            m = re.search(rb'lib%s[\w-]*\.so\.\d+' % name.encode(), f.read())
        self.assertIsNotNone(m, 'no soname of lib%s in %s' %
                             (name, self.bounced))
        soname = m.group(0).decode()
        broken = os.path.join(self.dir, 'broken-lib')
        os.makedirs(broken, exist_ok=True)
        open(os.path.join(broken, soname), 'w').close()
        return soname, broken

    def copy_sample(self, name, dest=None):
        """Copy spool/acct/NAME of the repository into this test's spool;
        returns the absolute path of the copy."""
        path = os.path.join(self.spool, 'acct', dest or name)
        shutil.copyfile(os.path.join(SAMPLES, name), path)
        return path

    def class_snapshot(self, build, rebase=True):
        """BUILD() once per test class, for tests that start from the
        same state: the first test runs it and keeps a copy of what its
        directory then holds (state, spool, generated files: everything
        but the configuration, which each test writes for itself); the
        others get that copy instead of building it again.  Returns
        BUILD's result, its paths rebased on this test's directory when
        REBASE (not when they are data read back from the state, which
        keeps the first test's paths)."""
        cls = type(self)
        snap = cls.__dict__.get('_snapshot')
        if snap is None:
            result = build()
            keep = tempfile.mkdtemp(prefix='bounced-snapshot-')
            cls.addClassCleanup(shutil.rmtree, keep, True)
            copy_tree_entries(self.dir, keep, skip=('bounced.conf',))
            cls._snapshot = (keep, self.dir, copy.deepcopy(result))
            return result
        keep, olddir, result = snap
        for n in os.listdir(keep):
            dest = os.path.join(self.dir, n)
            if os.path.isdir(dest):
                shutil.rmtree(dest)
        copy_tree_entries(keep, self.dir)
        result = copy.deepcopy(result)
        return rebase_paths(result, olddir, self.dir) if rebase else result

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

    def put_mail(self, kind, fixture, name=None, subst=()):
        """tests/data/FIXTURE into SPOOL/KIND/new/NAME (its own name by
        default), each (OLD, NEW) of SUBST replaced in it (OLD must be
        there); KIND's tmp/ and cur/ made too.  Returns NAME."""
        for sub in ('new', 'tmp', 'cur'):
            os.makedirs(os.path.join(self.spool, kind, sub), exist_ok=True)
        with open(os.path.join(DATA, fixture), 'rb') as f:
            mail = f.read()
        for old, new in subst:
            self.assertIn(old.encode(), mail)
            mail = mail.replace(old.encode(), new.encode())
        name = name or os.path.basename(fixture)
        with open(os.path.join(self.spool, kind, 'new', name), 'wb') as f:
            f.write(mail)
        return name

    # ---- running the binaries ----

    def env(self):
        env = sanitizer_env(dict(os.environ))
        env.pop('BOUNCED_CONFIG', None)
        env.update(getattr(self, 'extra_env', {}))
        return env

    def fail_reads(self, text, err=errno.EIO):
        """from now on the programs run here cannot read a file whose
        path holds TEXT (ERR, EIO by default, as from a failing disk):
        BUILD/tests/fail_read.so preloaded"""
        shim = os.path.join(self.build, 'tests', 'fail_read.so')
        if not os.path.exists(shim):
            self.fail('%s is missing: build it first (scons tests)' % shim)
        self.extra_env = {'LD_PRELOAD': shim, 'BOUNCED_TEST_FAIL_READ': text,
                          'BOUNCED_TEST_FAIL_ERRNO': str(err)}

    def run_prog(self, prog, args, stdin=None, config=True, timeout=None):
        argv = [prog] + (['-c', self.config] if config else []) + \
            [str(a) for a in args]
        if isinstance(stdin, str):
            stdin = stdin.encode('utf-8')
        env = self.env()
        if prog == self.bouncectl and draws_graphs(args):
            graph_env(env, self.graph_leaks())
        elif prog == self.bouncectl and only_reads(args) and \
                not getattr(sys.modules.get(type(self).__module__),
                            'CTL_LEAK_CHECK', False):
            asan_option(env, 'detect_leaks=0')
        p = subprocess.run(argv, cwd=self.dir, env=env,
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

    def wait_for(self, cond, timeout, msg, interval=None):
        """wait_until COND within TIMEOUT seconds (INTERVAL: as there),
        or fail with MSG"""
        if not wait_until(cond, timeout, interval):
            self.fail(msg)

    def gen_traffic(self, kind):
        """tests/data/gen_traffic.py KIND into DIR/traffic: (the
        accounting files in their order, the scenario's expect.json)"""
        out = os.path.join(self.dir, 'traffic')
        subprocess.run([sys.executable, os.path.join(DATA, 'gen_traffic.py'),
                        kind, out], check=True)
        with open(os.path.join(out, 'expect.json')) as f:
            expect = json.load(f)
        return sorted(glob.glob(os.path.join(out, 'acct-*.csv'))), expect

    def gen_acct(self, n, seed, path=None):
        """tests/bench's gen_acct: N records on max(1000, N/12) addresses
        from SEED, written to PATH (default DIR/big.csv); the path"""
        gen = os.path.join(self.build, 'bench', 'gen_acct')
        if not os.access(gen, os.X_OK):
            self.fail('%s is missing: build it first (scons test)' % gen)
        path = path or os.path.join(self.dir, 'big.csv')
        with open(path, 'wb') as f:
            p = subprocess.run([gen, str(n), str(max(1000, n // 12)),
                                str(seed)], stdout=f, stderr=subprocess.PIPE,
                               env=self.env(), timeout=300)
        self.assertEqual(p.returncode, 0, p.stderr)
        return path

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

    def graph_leaks(self):
        """True when the running test is marked graph_leak_check"""
        return getattr(getattr(self, self._testMethodName, None),
                       'graph_leak_check', False)

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

    def status_now(self, addr):
        """ADDR's status, or None while the state has no record of it
        (for waits: a record not committed yet is no error)"""
        res = self.run_ctl('show', addr, '--format', 'json')
        if res.rc == EX_NOUSER:
            return None
        self.assertRc(res, EX_OK)
        return json.loads(res.out)['status']

    def records(self, *args):
        """bouncectl list ARGS --format json as {address: object}"""
        arr = self.ctl_json('list', *args)
        self.assertIsInstance(arr, list)
        return {o['address']: o for o in arr}

    def file_entry(self, key):
        """the files table entry (bouncectl files) of KEY, or None when
        there is none or no state yet"""
        res = self.run_ctl('files', '--format', 'json')
        if res.rc != EX_OK:
            return None
        for f in json.loads(res.out):
            if f['key'] == key:
                return f
        return None

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


class RunTestCase(BouncedTestCase):
    """A test that runs `bounced run` in the background."""

    def setUp(self):
        super().setUp()
        self.acct = os.path.join(self.spool, 'acct')
        self.incoming = os.path.join(self.dir, 'incoming')
        os.makedirs(self.incoming)
        self.procs = []
        self.n_runs = 0

    def tearDown(self):
        for p, errpath in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        super().tearDown()

    # ---- the daemon ----

    def start(self, *opts):
        """bounced -c CONFIG [OPTS] run in the background; waits until it
        has started; returns the Popen (its stderr in DIR/run-N.err)"""
        self.n_runs += 1
        errpath = os.path.join(self.dir, 'run-%d.err' % self.n_runs)
        with open(errpath, 'wb') as err:
            p = subprocess.Popen([self.bounced] + list(opts) +
                                 ['-c', self.config, 'run'], cwd=self.dir,
                                 env=self.env(), stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=err)
        p.errpath = errpath
        self.procs.append((p, errpath))
        lock = os.path.join(self.state, 'bounced.lock')
        self.wait_for(lambda: p.poll() is not None or
                      read_text(lock).strip() == str(p.pid), 10 * SLOW,
                      'bounced run did not start')
        self.assertIsNone(p.poll(), 'bounced run exited: %s' % self.log(p))
        return p

    def log(self, p):
        with open(p.errpath, 'rb') as f:
            text = f.read().decode('utf-8', 'replace')
        if SANITIZER_RE.search(text):
            self.fail('sanitizer report:\n%s' % text[-4000:])
        return text

    def stop(self, p, sig=signal.SIGTERM, timeout=30):
        """send SIG, wait for the exit; returns (rc, seconds it took)"""
        t0 = time.monotonic()
        p.send_signal(sig)
        try:
            rc = p.wait(timeout * SLOW)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            self.fail('bounced run did not stop on %s: %s' % (sig, self.log(p)))
        self.log(p)         # sanitizer check
        return rc, time.monotonic() - t0

    # ---- files ----

    def drop(self, name, text):
        """write NAME outside the spool, then rename it into acct/;
        returns (path in acct/, time of the rename)"""
        tmp = os.path.join(self.incoming, name)
        with open(tmp, 'wb') as f:
            f.write(text.encode('utf-8') if isinstance(text, str) else text)
        dest = os.path.join(self.acct, name)
        t = time.monotonic()
        os.rename(tmp, dest)
        return dest, t

    def spool_files(self, sub):
        return sorted(os.listdir(os.path.join(self.spool, sub)))

    def summary_of(self, p, path):
        """the summary line of PATH in the daemon's log, as a dict"""
        for line in self.log(p).splitlines():
            m = re.search(r' info run: (.*)$', line)
            if m:
                s = parse_summary(m.group(1))
                if s and s['name'] == path:
                    return s
        return None

    # ---- fakes and config ----

    def hook(self, **kw):
        fake = webhook.WebhookFake(**kw)
        fake.start()
        self.addCleanup(fake.stop)
        return fake

    def hook_config(self, fake, bounced=None, extra='', senders='*',
                    concurrency=8):
        self.write_config(bounced=bounced, extra=(
            '\n[provider hook]\ntype = webhook\nurl = %s/events\n'
            'senders = %s\nconcurrency = %d\n'
            'retry-min = 50ms\nretry-max = 200ms\n' %
            (fake.url, senders, concurrency)) + extra)

    def queue(self):
        return self.ctl_json('queue')
