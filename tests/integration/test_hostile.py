"""test_hostile.py - inputs and configurations that look fine but are not,
or are built to hurt: the log stays bounded, nothing of the operator's is
replaced, secrets stay hidden and files closed to others, full disks and
full maps end cleanly, and lone-CR files and unusable endpoints are seen.

Each test names the hostile input or configuration it feeds; the counts
of what this module covers are in HOSTILE_INPUTS and HOSTILE_CONFIGS (the
tests append to them, and the last test prints the totals).
"""
import os
import re
import stat

from harness import (BouncedTestCase, EX_OK, SANITIZER_RE, read_text,
                     sanitized, summaries)

HEADER = 'type,timeLogged,orig,rcpt,dsnStatus,dsnDiag,bounceCat\n'


def hard_rows(n, orig='news@bounces.example.com', eol='\n', start=0):
    """N hard-bounce rows for user<i>@example.com"""
    return ''.join('b,2026-11-24 10:00:00+0000,%s,user%d@example.com,5.1.1,'
                   'smtp;550 5.1.1 unknown,bad-mailbox%s' % (orig, start + i,
                                                              eol)
                   for i in range(n))


class HostileTestCase(BouncedTestCase):
    """A test whose log goes to DIR/bounced.log."""

    def setUp(self):
        super().setUp()
        self.logpath = os.path.join(self.dir, 'bounced.log')

    def log_config(self, extra='', **bounced):
        bounced.setdefault('log', self.logpath)
        self.write_config(bounced=bounced, extra=extra)

    def assertLogHas(self, needle):
        log = self.log_text()
        if needle not in log:
            self.fail('%r is not in the log; its end:\n%s' % (needle,
                                                           log[-3000:]))

    def assertLogLacks(self, needle):
        log = self.log_text()
        if needle in log:
            i = log.index(needle)
            self.fail('%r is in the log:\n%s' % (needle, log[i - 500:i + 500]))

    def log_text(self):
        if not os.path.exists(self.logpath):
            return ''
        with open(self.logpath, 'rb') as f:
            return f.read().decode('utf-8', 'replace')


class TestLogBounded(HostileTestCase):
    """Per-line messages are capped per input; the log stays small."""

    def test_100mb_of_bad_lines_leaves_a_small_log(self):
        # a t record (an accounting file, told from its first row), then
        # over 100 MB of short lines that are no records: every line a bad
        # record (a tenth of it under the sanitizers: the same lines
        # through the same code, 35 million of them cost those builds
        # 8 CPU seconds)
        path = os.path.join(self.dir, 'bad.csv')
        unit = b',a\n'
        mb = 10 if sanitized() else 100
        n = mb * 1024 * 1024 // len(unit)
        with open(path, 'wb') as f:
            f.write(b't\n')
            block = unit * 65536
            left = n
            while left > 0:
                k = min(left, 65536)
                f.write(block if k == 65536 else unit * k)
                left -= k
        self.assertGreater(os.path.getsize(path), mb * 1024 * 1024)
        self.log_config()
        res = self.process(path)
        bad = summaries(res.out)[path]['bad']
        self.assertEqual(bad, n)
        size = os.path.getsize(self.logpath)
        self.assertLess(size, 1024 * 1024, 'log of %d bytes' % size)
        log = self.log_text()
        self.assertEqual(len(re.findall(r'bad record: ', log)), 100)
        m = re.search(r'warning ingest: %s: (\d+) bad lines in all: the first '
                      r'100 were logged, (\d+) more were not' %
                      re.escape(path), log)
        self.assertIsNotNone(m, log[-2000:])
        self.assertEqual(int(m.group(1)), bad)
        self.assertEqual(int(m.group(2)), bad - 100)

    def test_open_quote_past_the_limit_is_one_record(self):
        # a quoted field opened and never closed, over 2 MB of lines: its
        # lines are the field's (RFC 4180), one bad record to the end, not
        # records of their own; the log says it once
        path = os.path.join(self.dir, 'quoted.csv')
        with open(path, 'wb') as f:
            f.write(b't\n"' + b',a\n' * (2 * 1024 * 1024 // 3))
        self.log_config()
        res = self.process(path)
        self.assertEqual(summaries(res.out)[path]['bad'], 1)
        log = self.log_text()
        self.assertEqual(len(re.findall(r'bad record: ', log)), 1, log)
        self.assertIn('%s:2: bad record: record longer than the limit, with a '
                      'quoted field still open at end of input' % path, log)

    def test_record_inside_a_long_quoted_field_is_not_taken(self):
        # a field longer than the record limit (64 KiB) holding a line
        # that looks like a record: the field's text, never a record (it
        # was taken after the limit, and suppressed its address)
        text = (HEADER + 'b,2026-11-24 10:00:00+0000,news@bounces.example.com,'
                'real@example.com,5.1.1,"smtp;550 ' + 'x' * 70000 +
                '\nb,2026-11-24 10:00:01+0000,news@bounces.example.com,'
                'victim@example.com,5.1.1,injected,bad-mailbox\n'
                'and on",bad-mailbox\n' + hard_rows(1))
        path = self.write_file('long.csv', text)
        self.log_config()
        res = self.process(path)
        self.assertEqual(summaries(res.out)[path]['bad'], 1)
        self.assertEqual(self.statuses(), {'user0@example.com': 'hard'})
        self.assertIn('%s:2: bad record: record longer than the limit\n'
                      % path, self.log_text())

    def test_dry_run_and_unrouted_lines_capped_per_file(self):
        # 250 suppressions without provider: 100 dry-run lines + summary
        a = self.write_file('a.csv', HEADER + hard_rows(250))
        self.log_config()
        res = self.process(a)
        self.assertEqual(summaries(res.out)[a]['hard'], 250)
        log = self.log_text()
        self.assertEqual(log.count('dry-run: unsubscribe'), 100)
        self.assertIn('%s: 250 dry-run actions in all: the first 100 were '
                      'logged, 150 more were not' % a, log)
        # every one of them is in the state all the same
        self.assertEqual(len(self.statuses('--status', 'hard')), 250)

        # a provider that sends as someone else: 250 unrouted
        os.unlink(self.logpath)
        self.log_config(extra='\n[provider hook]\ntype = webhook\n'
                        'url = http://127.0.0.1:9/x\n'
                        'senders = other@example.com\n')
        b = self.write_file('b.csv', HEADER + hard_rows(250, start=1000))
        res = self.process(b)
        self.assertEqual(summaries(res.out)[b]['hard'], 250)
        log = self.log_text()
        self.assertEqual(log.count(': unrouted (no provider'), 100)
        self.assertIn('%s: 250 unrouted suppressions in all: the first 100 '
                      'were logged, 150 more were not' % b, log)

    def test_each_file_has_its_own_cap_and_debug_keeps_all(self):
        # a t record first: an accounting file (told from its first rows)
        bad = 't\n' + ''.join(',x\n' for _ in range(120))
        a = self.write_file('a.csv', HEADER + bad)
        # another file (a copy of a.csv would be taken already)
        b = self.write_file('b.csv', HEADER + bad.replace('x', 'y'))
        self.log_config()
        self.process(a, b)
        log = self.log_text()
        self.assertEqual(len(re.findall(r'a\.csv:\d+: bad record', log)), 100)
        self.assertEqual(len(re.findall(r'b\.csv:\d+: bad record', log)), 100)
        os.unlink(self.logpath)
        self.log_config(debug='true')
        self.process('--reprocess', a)
        log = self.log_text()
        self.assertEqual(len(re.findall(r'a\.csv:\d+: bad record', log)), 120)
        self.assertNotIn('more were not', log)


class TestLoneCR(HostileTestCase):
    """Accounting files with CR line ends are read, not passed over."""

    def test_lone_cr_file_is_read(self):
        text = HEADER.replace('\n', '\r') + hard_rows(3, eol='\r')
        path = self.write_file('mac.csv', text)
        self.log_config()
        res = self.process(path)
        s = summaries(res.out)[path]
        self.assertEqual((s['records'], s['hard'], s['bad']), (3, 3, 0))
        for i in range(3):
            self.assertStatus('user%d@example.com' % i, 'hard')

    def test_lone_cr_header_less_file(self):
        # the fallback field order, CR line ends; the last line, without
        # its line end, may be one still written: it waits for it
        rows = ['b,2026-11-24 10:00:00+0000,bad-mailbox,vmta1,news@x.com,'
                'u%d@example.com,,,,5.1.1,,smtp;550 unknown' % i
                for i in range(4)]
        path = self.write_file('mac2.csv', '\r'.join(rows))
        self.log_config()
        s = summaries(self.process(path).out)[path]
        self.assertEqual((s['records'], s['hard'], s['bad']), (3, 3, 1))
        with open(path, 'a') as f:
            f.write('\r')
        s = summaries(self.process(path).out)[path]
        self.assertEqual((s['records'], s['hard'], s['bad']), (1, 1, 0))


HOSTILE_URLS = [
    # (configuration text after [bounced], what the error names)
    ('[provider h]\ntype = webhook\nsenders = *\nurl = http://[::1\n', 'IPv6'),
    ('[provider h]\ntype = webhook\nsenders = *\nurl = http://[::1]:70000/in\n',
     'Port number'),
    ('[provider h]\ntype = webhook\nsenders = *\nurl = https://:443/in\n', 'host'),
    ('[provider h]\ntype = webhook\nsenders = *\nurl = https:///in\n', 'host'),
    ('[provider m]\ntype = mailwizz\nsenders = *\n'
     'endpoint = https://mw.example.com:65536/api\n'
     'public-key = a\nprivate-key = b\n', 'Port number'),
    ('[provider m]\ntype = mailwizz\nsenders = *\nendpoint = https://mw.example.com:0/api\n'
     'public-key = a\nprivate-key = b\n', 'port 0'),
    ('[provider i]\ntype = interspire\nsenders = *\nendpoint = http:/iem.example.com/x\n'
     'username = u\nusertoken = t\n', 'http://'),
    ('[notify]\nsmtp = smtp://[::1\nfrom = a@example.com\n'
     'to = b@example.com\n', 'IPv6'),
    ('[notify]\nsmtp = smtps://relay.example.com:99999\n'
     'from = a@example.com\nto = b@example.com\n', 'Port number'),
    ('[notify]\nsmtp = smtp://\nfrom = a@example.com\nto = b@example.com\n',
     'host'),
    ('[notify]\nweb-url = https://[fe80::1/\n', 'IPv6'),
]


class TestUrls(HostileTestCase):
    """Endpoints libcurl cannot use are refused by check-config; the
    password of a URL's user part is a secret everywhere."""

    def test_check_config_refuses_unusable_urls(self):
        for text, why in HOSTILE_URLS:
            with self.subTest(text=text):
                self.write_config(extra='\n' + text)
                res = self.run_bounced('check-config')
                self.assertRc(res, 78)
                self.assertIn(why, res.err)
                self.assertEqual(res.out, '')

    def test_url_passwords_masked_by_check_config(self):
        self.write_config(extra=(
            '\n[provider mw]\ntype = mailwizz\nsenders = *\n'
            'endpoint = https://api:MWPASSWORD@mw.example.com/api\n'
            'public-key = pub\nprivate-key = priv\n'
            '[provider hook]\ntype = webhook\nsenders = *\n'
            'url = https://hook:HOOKPASSWORD@hooks.example.com/in\n'
            '[notify]\nsmtp = smtps://relay:SMTPPASSWORD@mail.example.com\n'
            'from = a@example.com\nto = b@example.com\n'))
        res = self.run_bounced('check-config')
        self.assertRc(res, EX_OK)
        self.assertNotIn('PASSWORD', res.out + res.err)
        self.assertIn('endpoint = https://api:****@mw.example.com/api\n',
                      res.out)
        self.assertIn('url = https://hook:****@hooks.example.com/in\n',
                      res.out)
        self.assertIn('smtp = smtps://relay:****@mail.example.com\n', res.out)
        # the printed file is a configuration that warns about the masks
        printed = self.write_file('printed.conf', res.out)
        os.chmod(printed, 0o600)
        res = self.run_bounced('-c', printed, 'check-config', config=False)
        self.assertRc(res, EX_OK)
        self.assertIn("[provider mw] endpoint: the password in the URL is "
                      "'****'", res.err)
        # a bad URL with a password: refused, the password not repeated
        self.write_config(extra=(
            '\n[provider hook]\ntype = webhook\nsenders = *\n'
            'url = https://hook:HOOKPASSWORD@hooks.example.com:99999/in\n'))
        res = self.run_bounced('check-config')
        self.assertRc(res, 78)
        self.assertIn("url = 'https://hook:****@hooks.example.com:99999/in'",
                      res.err)
        self.assertNotIn('PASSWORD', res.err)
        # a file holding such a URL open to others is warned about
        self.write_config(extra=(
            '\n[provider hook]\ntype = webhook\nsenders = *\n'
            'url = https://hook:HOOKPASSWORD@hooks.example.com/in\n'))
        os.chmod(self.config, 0o644)
        res = self.run_bounced('check-config')
        self.assertRc(res, EX_OK)
        self.assertIn('holds secrets (the password in url in [provider hook])',
                      res.err)
        self.assertNotIn('PASSWORD', res.out + res.err)

    def test_smtp_url_password_never_in_messages(self):
        import sys
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__)))))
        from fake import smtp
        f = smtp.SmtpFake(starttls=False, user='relay',
                          password='SMTPPASSWORD').start()
        self.addCleanup(f.stop)
        url = f.url.replace('smtp://', 'smtp://relay:SMTPPASSWORD@')
        shown = f.url.replace('smtp://', 'smtp://relay:****@')
        self.write_config(extra='\n[notify]\nsmtp = %s\nfrom = a@example.com'
                          '\nto = b@example.com\n' % url)
        res = self.run_bounced('notify-test', timeout=60)
        self.assertRc(res, EX_OK)
        self.assertEqual(len(f.messages()), 1)
        self.assertEqual(f.messages()[0]['auth'], 'relay')
        self.assertIn('through %s' % shown, res.out)
        self.assertNotIn('SMTPPASSWORD', res.out + res.err)
        # a failure names the server without the password
        f.stop()
        res = self.run_bounced('notify-test', timeout=60)
        self.assertNotEqual(res.rc, EX_OK)
        self.assertIn('smtp %s' % shown, res.err)
        self.assertNotIn('SMTPPASSWORD', res.out + res.err)


def not_regular(path):
    """what PATH is now, for comparing before and after"""
    st = os.lstat(path)
    return stat.S_IFMT(st.st_mode), os.path.islink(path) and os.readlink(path)


class TestNotOurs(HostileTestCase):
    """Paths of the configuration that name a device, a FIFO, a directory
    or a symbolic link: left as they are, with a message, never replaced
    by a regular file or moved aside."""

    def targets(self):
        """{name: path} of things that are not regular files"""
        t = {}
        t['fifo'] = os.path.join(self.dir, 'fifo')
        os.mkfifo(t['fifo'])
        t['link-null'] = os.path.join(self.dir, 'link-null')
        os.symlink('/dev/null', t['link-null'])
        t['dir'] = os.path.join(self.dir, 'adir')
        os.mkdir(t['dir'])
        t['link-file'] = os.path.join(self.dir, 'link-file')
        with open(os.path.join(self.dir, 'someones.txt'), 'w') as f:
            f.write('not an RRD\n')
        os.symlink(os.path.join(self.dir, 'someones.txt'), t['link-file'])
        if os.geteuid() == 0:
            # a device in a private tree, as root: the case that was
            # replaced by a regular file
            t['device'] = os.path.join(self.dir, 'null-device')
            os.mknod(t['device'], stat.S_IFCHR | 0o666, os.makedev(1, 3))
        return t

    def test_rrd_and_textfile_never_replace_what_is_not_ours(self):
        sample = self.copy_data('unsub-list.csv')
        for name, path in self.targets().items():
            with self.subTest(target=name):
                before = not_regular(path)
                for key in ('rrd', 'metrics'):
                    if os.path.exists(self.logpath):
                        os.unlink(self.logpath)
                    extra = ('\n[rrd]\nfile = %s\n' % path if key == 'rrd'
                             else '\n[metrics]\ntextfile = %s\n' % path)
                    self.log_config(extra=extra)
                    self.process('--reprocess', sample)
                    self.assertEqual(not_regular(path), before)
                    self.assertEqual(
                        [n for n in os.listdir(self.dir)
                         if '.old-' in n or n.startswith('.')], [])
                    log = self.log_text()
                    if name == 'link-file' and key == 'rrd':
                        self.assertIn('is a symbolic link to a file of '
                                      'another layout', log)
                    else:
                        self.assertIn('not a regular file: it is left as '
                                      'it is', log)
        with open(os.path.join(self.dir, 'someones.txt')) as f:
            self.assertEqual(f.read(), 'not an RRD\n')

    def test_graph_never_replaces_what_is_not_ours(self):
        self.log_config()
        self.process(self.copy_data('unsub-list.csv'))
        out = os.path.join(self.dir, 'graphs')
        os.mkdir(out)
        link = os.path.join(out, 'bounces-day.png')
        os.symlink('/dev/null', link)
        res = self.run_ctl('graph', '--out', out)
        self.assertRc(res, 73)
        self.assertIn('is a symbolic link, not a regular file', res.err)
        self.assertEqual(os.readlink(link), '/dev/null')
        self.assertEqual([n for n in os.listdir(out) if n.startswith('.')],
                         [])


class TestModes(HostileTestCase):
    """Whatever the umask, nothing bounced creates or moves into the state
    and the spool is open to others."""

    def scenario(self, um):
        import subprocess
        import time
        old = os.umask(um)
        self.addCleanup(os.umask, old)
        prom = os.path.join(self.state, 'metrics', 'bounced.prom')
        self.log_config(extra='\n[metrics]\ntextfile = %s\n' % prom)
        os.makedirs(os.path.dirname(prom), mode=0o750)
        acct = os.path.join(self.spool, 'acct')
        for name, text in (('a.csv', HEADER + hard_rows(3)),
                           ('junk.csv', '\x00\x01 junk\n')):
            p = os.path.join(acct, name)
            with open(p, 'w') as f:
                f.write(text)
            os.chmod(p, 0o666 & ~um)
        arf = os.path.join(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__))), 'data', 'arf', 'gmail.eml')
        with open(arf, 'rb') as f:
            mail = f.read()
        res = self.run_bounced('drop', 'fbl', '--from', 'fbl@gmail.com',
                               '--to', 'fbl@bounces.example.com', stdin=mail)
        self.assertRc(res, EX_OK)
        p = subprocess.Popen([self.bounced, '-c', self.config, 'run'],
                             cwd=self.dir, env=self.env(),
                             stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        try:
            end = time.monotonic() + 30
            while time.monotonic() < end and (
                    os.listdir(acct) or
                    len(os.listdir(os.path.join(self.spool, 'fbl',
                                                'new')))):
                time.sleep(0.05)
        finally:
            p.terminate()
            p.wait(30)
        self.assertEqual(os.listdir(acct), [])
        self.process(self.copy_data('unsub-list.csv'))
        self.assertRc(self.run_ctl('graph', '--out',
                                   os.path.join(self.state, 'graphs')), 0)
        self.assertRc(self.run_ctl('report', '--out',
                                   os.path.join(self.spool, 'report')), 0)

    def check(self, um):
        self.scenario(um)
        seen, open_to_others = [], []
        pre = {self.spool, os.path.join(self.spool, 'acct')}
        for top in (self.state, self.spool):
            for d, dirs, files in os.walk(top):
                for n in dirs + files:
                    p = os.path.join(d, n)
                    seen.append(os.path.relpath(p, self.dir))
                    if p in pre:
                        continue
                    if os.lstat(p).st_mode & 0o007:
                        open_to_others.append('%s %o' % (
                            os.path.relpath(p, self.dir),
                            os.lstat(p).st_mode & 0o777))
        for want in ('state/data.mdb', 'state/lock.mdb',
                     'state/bounced.lock', 'state/bounced.rrd',
                     'state/metrics/bounced.prom',
                     'state/graphs/bounces-day.png',
                     'spool/report/index.html', 'spool/done/a.csv',
                     'spool/failed/junk.csv', 'spool/failed/junk.csv.why',
                     'spool/fbl/new', 'spool/done'):
            self.assertIn(want, seen)
        self.assertTrue(any(s.startswith('spool/done/fbl') for s in seen),
                        seen)
        self.assertEqual(open_to_others, [])
        return len(seen)

    def test_umask_022(self):
        self.assertGreater(self.check(0o022), 20)

    def test_umask_000(self):
        self.assertGreater(self.check(0o000), 20)


# Run inside a private user and mount namespace (unshare -rm), where a
# small tmpfs gives a real "No space left on device" without root: argv[1]
# is a JSON object of parameters, the last line printed is a JSON result.
NS_PRELUDE = r'''
import json, os, subprocess, sys, time
P = json.loads(sys.argv[1])
def sh(*argv):
    return subprocess.run(list(argv), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=300)
def mount(path, size):
    os.makedirs(path, exist_ok=True)
    r = sh('mount', '-t', 'tmpfs', '-o', 'size=%s' % size, 'tmpfs', path)
    if r.returncode:
        print(json.dumps({'skip': r.stderr.decode()})); sys.exit(0)
def fill(path):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while os.write(fd, b'\0' * 4096) > 0:
            pass
    except OSError:
        pass
    os.close(fd)
def bounced(*args):
    r = sh(P['bounced'], '-c', P['config'], *args)
    return {'rc': r.returncode, 'out': r.stdout.decode('utf-8', 'replace'),
            'err': r.stderr.decode('utf-8', 'replace')}
'''

NS_STATE_FULL = NS_PRELUDE + r'''
mount(P['state_fs'], '8m')
res = {'first': bounced('process', '--list', P['list1'])}
fill(os.path.join(P['state_fs'], 'filler'))
res['full'] = bounced('process', '--list', P['list2'])
os.unlink(os.path.join(P['state_fs'], 'filler'))
res['again'] = bounced('process', '--list', P['list2'])
res['stats'] = sh(P['bouncectl'], '-c', P['config'], 'stats', '--format',
                  'json').stdout.decode()
print(json.dumps(res))
'''

NS_WORKER_STATE_FULL = NS_PRELUDE + r'''
mount(P['state_fs'], '64m')
log = open(P['log'], 'wb')
d = subprocess.Popen([P['bounced'], '-c', P['config'], 'run'],
                     stdout=subprocess.DEVNULL, stderr=log,
                     env=dict(os.environ, BOUNCED_DEFER_MS='2000'))
end = time.monotonic() + 60
while time.monotonic() < end and \
        b'started' not in open(P['log'], 'rb').read():
    time.sleep(0.05)
fill(os.path.join(P['state_fs'], 'filler'))
os.rename(P['file'], os.path.join(P['acct'], 'big.csv'))
end = time.monotonic() + 60
while time.monotonic() < end and \
        b'cannot be taken now' not in open(P['log'], 'rb').read():
    time.sleep(0.05)
os.unlink(os.path.join(P['state_fs'], 'filler'))
done = os.path.join(P['spool'], 'done', 'big.csv')
end = time.monotonic() + 60
while time.monotonic() < end and not os.path.exists(done):
    time.sleep(0.1)
res = {'done': os.path.exists(done)}
d.terminate()
res['rc'] = d.wait(60)
res['stats'] = sh(P['bouncectl'], '-c', P['config'], 'stats', '--format',
                  'json').stdout.decode()
print(json.dumps(res))
'''

NS_WHY_FULL = NS_PRELUDE + r'''
mount(P['spool'], '2m')
os.makedirs(os.path.join(P['spool'], 'acct'))
for d in ('done', 'failed'):
    os.makedirs(os.path.join(P['spool'], d), mode=0o750)
with open(os.path.join(P['spool'], 'acct', 'junk.csv'), 'wb') as f:
    f.write(b'\x00\x01 not an accounting file\n')
fill(os.path.join(P['spool'], 'filler'))
log = open(P['log'], 'wb')
# the move is tried again after 2 s, not the 10 s of an operator's worker
d = subprocess.Popen([P['bounced'], '-c', P['config'], 'run'],
                     stdout=subprocess.DEVNULL, stderr=log,
                     env=dict(os.environ, BOUNCED_DEFER_MS='2000'))
res = {}
end = time.monotonic() + 60
while time.monotonic() < end and \
        b'cannot be moved to failed/' not in open(P['log'], 'rb').read():
    time.sleep(0.05)
res['while_full'] = sorted(os.listdir(os.path.join(P['spool'], 'failed')))
res['acct_while_full'] = sorted(os.listdir(os.path.join(P['spool'], 'acct')))
os.unlink(os.path.join(P['spool'], 'filler'))
end = time.monotonic() + 30
why = os.path.join(P['spool'], 'failed', 'junk.csv.why')
while time.monotonic() < end and not os.path.exists(why):
    time.sleep(0.1)
res['after'] = sorted(os.listdir(os.path.join(P['spool'], 'failed')))
res['acct_after'] = sorted(os.listdir(os.path.join(P['spool'], 'acct')))
if os.path.exists(why):
    res['why'] = open(why).read()
d.terminate()
res['rc'] = d.wait(60)
print(json.dumps(res))
'''


def unshare_works():
    """can this machine give us a private mount namespace without root?"""
    import subprocess
    try:
        r = subprocess.run(['unshare', '-rm', 'true'], timeout=30,
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return False
    return r.returncode == 0


class TestLimits(HostileTestCase):
    """A full disk is not a full map; a map that cannot grow ends with a
    clear error; a failed/NAME.why that cannot be written is tried again;
    state write errors exit 74."""

    def in_namespace(self, script, **params):
        import json
        import subprocess
        import sys
        if not unshare_works():
            self.skipTest('no private mount namespace here (unshare -rm)')
        params.update(bounced=self.bounced, bouncectl=self.bouncectl,
                      config=self.config)
        r = subprocess.run(['unshare', '-rm', sys.executable, '-c', script,
                            json.dumps(params)], env=self.env(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=600)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        res = json.loads(r.stdout.decode().strip().splitlines()[-1])
        if 'skip' in res:
            self.skipTest('cannot mount a tmpfs: %s' % res['skip'])
        text = json.dumps(res)
        if SANITIZER_RE.search(text):
            self.fail('sanitizer report: %s' % text[-4000:])
        return res

    def test_full_state_disk_is_not_a_full_map(self):
        fs = os.path.join(self.dir, 'statefs')
        self.state = os.path.join(fs, 'state')
        self.log_config()
        l1 = self.write_file('l1.csv', ''.join(
            'first.%d@example.com\n' % i for i in range(2000)))
        l2 = self.write_file('l2.csv', ''.join(
            'second.%d@example.com\n' % i for i in range(2000)))
        res = self.in_namespace(NS_STATE_FULL, state_fs=fs, list1=l1,
                                list2=l2)
        self.assertEqual(res['first']['rc'], EX_OK, res['first'])
        full = res['full']
        self.assertEqual(full['rc'], 74, full)       # EX_IOERR, not 66
        self.assertLogHas("no space left on the state's disk")
        self.assertLogLacks('state map grown')      # not a full map
        self.assertLogLacks('map full')
        # space back: the file is taken, every address counted once
        self.assertEqual(res['again']['rc'], EX_OK, res['again'])
        s = summaries(res['again']['out'])[l2]
        self.assertEqual(s['unsubscribes'], 2000)
        import json
        self.assertEqual(json.loads(res['stats'])['status']['unsubscribed'],
                         4000)

    def test_full_state_disk_said_by_the_worker(self):
        # the worker's commits are made in the committer's thread; the
        # reading thread says why the file waits: the disk, in words,
        # not the bare "Input/output error" LMDB's short write maps to
        fs = os.path.join(self.dir, 'statefs')
        self.state = os.path.join(fs, 'state')
        self.log_config()
        path = self.write_file('big.csv', HEADER + hard_rows(10000))
        res = self.in_namespace(NS_WORKER_STATE_FULL, state_fs=fs,
                                file=path, log=self.logpath,
                                spool=self.spool,
                                acct=os.path.join(self.spool, 'acct'))
        self.assertTrue(res['done'], self.log_text()[-3000:])
        self.assertEqual(res['rc'], 0)
        self.assertLogHas("big.csv: cannot be taken now (no space left on "
                          "the state's disk")
        self.assertLogLacks('cannot be taken now (Input/output error)')
        import json
        self.assertEqual(json.loads(res['stats'])['status']['hard'], 10000)

    def test_why_written_when_space_returns(self):
        spool = os.path.join(self.dir, 'spoolfs')
        self.spool = spool
        self.log_config()
        res = self.in_namespace(NS_WHY_FULL, spool=spool, log=self.logpath)
        # while the spool's disk is full: not moved, not lost
        self.assertEqual(res['while_full'], [])
        self.assertEqual(res['acct_while_full'], ['junk.csv'])
        # space back: moved with its reason, without a restart
        self.assertEqual(res['after'], ['junk.csv', 'junk.csv.why'])
        self.assertEqual(res['acct_after'], [])
        self.assertIn('not a PowerMTA accounting file', res['why'])
        self.assertEqual(res['rc'], 0)
        self.assertLogHas('junk.csv: cannot be moved to failed/ now (No space '
                          'left on device); trying again in 2 s')
        self.assertLogHas('junk.csv: moved to failed/: not a PowerMTA '
                          'accounting file')

    @staticmethod
    def addresses(path, lo, hi):
        """an address list of addresses LO to HI - 1 (long local parts)"""
        with open(path, 'w') as f:
            for i in range(lo, hi, 10000):
                f.write(''.join('a.rather.long.local.part.made.even.'
                                'longer.for.the.map.%d@example-'
                                'domain-%d.com\n' % (j, j % 997)
                                for j in range(i, min(i + 10000, hi))))

    def peak_address_space(self, path):
        """the highest address space (VmPeak, KiB) seen while `process
        --list PATH` runs (a read of /proc every 2 ms), which must end
        well"""
        import re
        import subprocess
        import time
        p = subprocess.Popen([self.bounced, '-c', self.config, 'process',
                              '--list', path], cwd=self.dir, env=self.env(),
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        peak = 0
        try:
            while p.poll() is None:
                try:
                    with open('/proc/%d/status' % p.pid) as f:
                        m = re.search(r'VmPeak:\s+(\d+) kB', f.read())
                except OSError:
                    break
                if m:
                    peak = max(peak, int(m.group(1)))
                time.sleep(0.002)
        finally:
            p.wait(60)
        self.assertEqual(p.returncode, 0)
        return peak

    def verified_cap(self, path, kib):
        """a cap on the address space (bytes) under which `process --list
        PATH` runs to its end: the peak sampled (KIB, VmPeak) plus 32 MiB,
        raised by 32 MiB while a run under it fails.  A sample every 2 ms
        can miss the run's last growth; a cap below it would stop the
        capped run before it reads anything.  The runs that check it
        have a state of their own."""
        import resource
        import subprocess
        import tempfile

        limit = kib * 1024 + 32 * 1024 * 1024
        with open(self.config) as f:
            text = f.read()
        for _ in range(4):
            probe = tempfile.mkdtemp(dir=self.dir)
            cfg = os.path.join(probe, 'probe.conf')
            with open(cfg, 'w') as f:
                f.write(re.sub(r'(?m)^(state|spool|log) = .*$',
                               lambda m: '%s = %s' % (
                                   m.group(1), os.path.join(probe, m.group(1))),
                               text))

            def cap(limit=limit):
                resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            r = subprocess.run([self.bounced, '-c', cfg, 'process', '--list',
                                path], cwd=self.dir, env=self.env(),
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, preexec_fn=cap,
                               timeout=600)
            if r.returncode == 0:
                return limit
            limit += 32 * 1024 * 1024
        self.fail('no cap up to %d MiB lets the list of %s run' %
                  (limit >> 20, path))

    def capped_list_run(self, limit, n):
        """`bounced process --list` of N addresses with its address space
        capped at LIMIT bytes: it must end with exit 74, not a crash;
        the list's path"""
        import resource
        import subprocess

        def cap():
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        path = os.path.join(self.dir, 'many.csv')
        self.addresses(path, 0, n)
        r = subprocess.run([self.bounced, '-c', self.config, 'process',
                            '--list', path], cwd=self.dir, env=self.env(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           preexec_fn=cap, timeout=600)
        self.assertEqual(r.returncode, 74, r.stderr[-2000:])   # not SIGSEGV
        return path

    def test_map_that_cannot_grow_ends_with_a_clear_error(self):
        if sanitized():
            self.skipTest('AddressSanitizer needs an unlimited address space')
        self.log_config(**{'batch-records': '20000'})
        # one allocator arena for every run here: a thread that finds the
        # arena busy makes one of its own, and its making reserves 128 MiB
        # of address space for a moment (glibc aligns a 64 MiB heap), so
        # that on a busy host the measured run could peak that much higher
        # than the capped one needs, and the cap then let the map grow
        self.extra_env = {'GLIBC_TUNABLES': 'glibc.malloc.arena_max=1'}
        # what `process` itself takes of address space with its 256 MiB
        # map and batches of 20,000 (its threads' arenas included), on a
        # list too small to grow the map: the highest mark seen while it
        # runs.  The worker is no measure of it: it starts itself again
        # with other allocator settings.
        small = os.path.join(self.dir, 'small.csv')
        self.addresses(small, 0, 100000)
        peak = self.peak_address_space(small)
        self.assertGreater(peak, 256 * 1024)
        # room for such a run, not for the 256 MiB more of a grown map
        limit = peak * 1024 + 128 * 1024 * 1024
        # enough addresses to fill 256 MiB of map (compact records, whose
        # strings the state keeps once: the keys fill it); the small
        # list's are among them
        n = 1100000
        path = self.capped_list_run(limit, n)
        self.assertLogHas('the state map cannot grow from 256 to 512 MiB: '
                          'Cannot allocate memory')
        # without the limit the same file is taken from its last commit
        res = self.process('--list', path)
        taken = summaries(res.out)[path]['unsubscribes']
        self.assertGreater(taken, 0)
        self.assertLess(taken, n)
        st = self.ctl_json('stats')
        self.assertEqual(st['status']['unsubscribed'], n)
        self.assertEqual(st['addresses'], n)

    def test_reading_out_of_memory_ends_with_a_clear_error(self):
        # one batch for the whole input (no commit before its end): the
        # batch's memory runs out while the list is read, under a cap
        # that leaves room for a run of a tenth of it
        if sanitized():
            self.skipTest('AddressSanitizer needs an unlimited address space')
        self.log_config(**{'batch-records': '10000000',
                           'batch-interval': '1h'})
        small = os.path.join(self.dir, 'small.csv')
        self.addresses(small, 0, 50000)
        limit = self.verified_cap(small, self.peak_address_space(small))
        # enough addresses that reading them needs far more than the cap
        # leaves above the small run (its 32 MiB, and 32 MiB more for each
        # capped run of the small list that failed): else the reading
        # fits and the commit runs out instead
        n = 1500000
        path = self.capped_list_run(limit, n)
        self.assertLogHas('many.csv: stopped reading: out of memory (the '
                          'memory or address space the process may use)')
        self.assertLogHas('was not kept; run again to take it)')
        # nothing of it was committed: without the cap it is taken whole
        res = self.process('--list', path)
        self.assertEqual(summaries(res.out)[path]['unsubscribes'],
                         n - 50000)
        st = self.ctl_json('stats')
        self.assertEqual(st['status']['unsubscribed'], n)


class TestNotOursDirs(HostileTestCase):
    """state and spool naming something that is not a directory: a clear
    error, the thing left as it is."""

    def test_state_and_spool_not_directories(self):
        fifo = os.path.join(self.dir, 'fifo')
        os.mkfifo(fifo)
        link = os.path.join(self.dir, 'null')
        os.symlink('/dev/null', link)
        sample = self.copy_data('unsub-list.csv')
        for path in (fifo, link):
            with self.subTest(path=path):
                self.write_config(bounced={'state': path})
                res = self.run_bounced('process', sample)
                self.assertRc(res, 74)
                self.assertIn('exists but is not a directory', res.err)
                self.write_config(bounced={'spool': path})
                res = self.run_bounced('run', timeout=60)
                self.assertRc(res, 73)
                self.assertIn(path, res.err)
        self.assertTrue(stat.S_ISFIFO(os.lstat(fifo).st_mode))
        self.assertEqual(os.readlink(link), '/dev/null')
