"""test_views.py - the views an operator asks for, checked against the
records themselves: list's filters (domain, category, sender, job,
provider, limit), JSON lines, CSV with LF line ends, columns that stay
aligned with long, UTF-8 and wide addresses; stats --by each key;
queue's closing summary line; internationalised domains stored once; and
files and show naming where a file taken is now (done/, failed/, gone).

The expected answers are computed here from `list --format json` and
`show --format json` (the full records), so the filters are checked
against the data, not against a second copy of their own logic.
"""
import collections
import csv
import io
import json
import os
import re
import unicodedata
import unittest

from harness import (BouncedTestCase, SAMPLE_HEADER, SAMPLE_PLAIN, DATA,
                     EX_OK, EX_USAGE)

# the reading commands are the subject here: leak-checked (harness.only_reads)
CTL_LEAK_CHECK = True

HEADER = ('type,timeLogged,orig,rcpt,dsnStatus,dsnDiag,bounceCat,vmta,'
          'jobId\r\n')


def rec(addr, orig='news@bounces.example.com', job='mailwizz-aa11bb22cc33d',
        vmta='vmta-2', cat='bad-mailbox', t='2026-11-24 10:00:00+0000'):
    return 'b,%s,%s,%s,5.1.1,smtp;550 5.1.1 unknown,%s,%s,%s\r\n' % (
        t, orig, addr, cat, vmta, job)


def width(s):
    """the columns S takes on a terminal"""
    w = 0
    for ch in s:
        if unicodedata.combining(ch):
            continue
        w += 2 if unicodedata.east_asian_width(ch) in 'WF' else 1
    return w


class ViewsTestCase(BouncedTestCase):
    """Both samples processed; the views only read the state, so it is
    built once per class (harness's class_snapshot)."""

    def setUp(self):
        super().setUp()
        self.all, self.full = self.class_snapshot(self.build_state,
                                                   rebase=False)

    def build_state(self):
        self.process(self.copy_sample(SAMPLE_HEADER),
                     self.copy_sample(SAMPLE_PLAIN))
        records = self.records()
        return records, {a: self.show(a) for a in records}

    def origin(self, addr):
        """the record behind an address's latest trouble (show's view)"""
        r = self.full[addr]
        return r['reason'] or r['last_soft'] or {}

    def listed(self, *args):
        return sorted(self.records(*args))


class TestList(ViewsTestCase):

    def test_domain(self):
        for dom in ('example.com', 'example.org', 'yahoo.com', 'nowhere.test'):
            want = sorted(a for a in self.all if a.split('@')[1] == dom)
            self.assertEqual(self.listed('--domain', dom), want, dom)
            self.assertEqual(self.listed('--domain', '@' + dom.upper()), want)
        # several values: any of them
        self.assertEqual(
            self.listed('--domain', 'yahoo.com', '--domain', 'gmail.com'),
            sorted(a for a in self.all
                   if a.split('@')[1] in ('yahoo.com', 'gmail.com')))
        res = self.run_ctl('list', '--domain', 'not a domain')
        self.assertRc(res, EX_USAGE)

    def test_category(self):
        for cat in ('bad-mailbox', 'quota-issues', 'abuse', 'policy-related'):
            want = sorted(
                a for a, r in self.all.items()
                if r['category'] == cat or
                (r['reason'] and r['reason']['category'] == cat))
            self.assertTrue(want, cat)
            self.assertEqual(self.listed('--category', cat), want, cat)
            self.assertEqual(self.listed('--category', cat.upper()), want)

    def test_sender_and_job(self):
        senders = collections.defaultdict(set)
        jobs = collections.defaultdict(set)
        for a in self.all:
            o = self.origin(a)
            senders[(o.get('orig') or '').lower()].add(a)
            jobs[o.get('job_id') or ''].add(a)
        senders.pop('', None)
        jobs.pop('', None)
        self.assertGreaterEqual(len(senders), 2)
        self.assertGreaterEqual(len(jobs), 2)
        for s, addrs in senders.items():
            self.assertEqual(self.listed('--sender', s.upper()), sorted(addrs))
        for j, addrs in jobs.items():
            self.assertEqual(self.listed('--job', j), sorted(addrs))
        # globs: every sender of one domain, every MailWizz job
        some = sorted(senders)[0]
        pat = '*@' + some.split('@')[1]
        self.assertEqual(self.listed('--sender', pat), sorted(
            a for s, v in senders.items() if s.endswith(some.split('@')[1])
            for a in v))
        self.assertEqual(self.listed('--job', 'mailwizz-*'), sorted(
            a for j, v in jobs.items() if j.startswith('mailwizz-')
            for a in v))
        # filters combine: all of them must pass
        self.assertEqual(
            self.listed('--job', 'mailwizz-*', '--status', 'soft'),
            sorted(a for j, v in jobs.items() if j.startswith('mailwizz-')
                   for a in v if self.all[a]['status'] == 'soft'))

    def test_provider(self):
        # no provider configured: the actions were logged as dry-run
        want = sorted(a for a, r in self.full.items()
                      if any(x['provider'] == 'dry-run'
                             for x in r['actions']))
        self.assertTrue(want)
        self.assertEqual(self.listed('--provider', 'dry-run'), want)
        self.assertEqual(self.listed('--provider', 'mw'), [])

    def test_limit_and_jsonl(self):
        every = sorted(self.all)
        self.assertEqual(self.listed('--limit', '3'), every[:3])
        res = self.run_ctl('list', '--format', 'jsonl', '--limit', '5',
                           '--status', 'hard')
        self.assertRc(res, EX_OK)
        lines = res.out.split('\n')
        self.assertEqual(lines[-1], '')
        objs = [json.loads(l) for l in lines[:-1]]
        self.assertEqual(len(objs), 5)
        hard = sorted(a for a, r in self.all.items() if r['status'] == 'hard')
        self.assertEqual([o['address'] for o in objs], hard[:5])
        for o in objs:
            self.assertEqual(o, self.all[o['address']])
        res = self.run_ctl('list', '--format', 'jsonl', '--domain', 'x.test')
        self.assertEqual((res.rc, res.out), (EX_OK, ''))
        # text: the header and N lines
        res = self.run_ctl('list', '--limit', '2')
        self.assertEqual(len(res.out.splitlines()), 3)

    def test_csv_has_lf_line_ends(self):
        res = self.run_ctl('list', '--format', 'csv')
        self.assertRc(res, EX_OK)
        self.assertNotIn('\r', res.out)
        rows = list(csv.DictReader(io.StringIO(res.out, newline='')))
        self.assertEqual(sorted(r['address'] for r in rows), sorted(self.all))


class TestAlignment(BouncedTestCase):

    def test_columns_stay_aligned(self):
        long_local = 'a' * 60
        addrs = ['j\u00f6rg.m\u00fcller@example.com',         # UTF-8
                 '\u5c71\u7530@example.jp',                  # wide
                 'e\u0301lodie@example.fr',                  # combining
                 '%s@%s.example.com' % (long_local, 'b' * 40),
                 'x@example.com']
        path = self.write_file('u.csv', HEADER + ''.join(
            rec(a, cat='bad-mailbox' if i % 2 else 'inactive-mailbox')
            for i, a in enumerate(addrs)))
        self.process(path)
        res = self.run_ctl('list')
        self.assertRc(res, EX_OK)
        lines = res.out.splitlines()
        self.assertEqual(len(lines), len(addrs) + 1)
        # the columns (address, status, soft count right-aligned,
        # category, updated) start, or end, at the same terminal column on
        # every line, whatever the characters before them
        edges = None
        for line in lines:
            toks = [(width(line[:m.start()]), width(line[:m.end()]))
                    for m in re.finditer(r'\S+(?: \S+)*', line)]
            self.assertEqual(len(toks), 5, line)
            e = (toks[1][0], toks[2][1], toks[3][0], toks[4][0])
            if edges is None:
                edges = e
            self.assertEqual(e, edges, line)


    def test_stats_columns_with_a_long_domain(self):
        dom = 'a-very-long-subdomain-name-for-testing.example.com'
        self.process(self.write_file('l.csv', HEADER + rec('x@' + dom)))
        res = self.run_ctl('stats')
        self.assertRc(res, EX_OK)
        self.assertIn(dom, res.out)
        rows = [l for l in res.out.splitlines()
                if re.match(r'^  \S.* \d+$', l)]
        self.assertGreater(len(rows), 20)
        self.assertEqual(len({width(l) for l in rows}), 1, rows)


class TestIdna(BouncedTestCase):

    def test_one_record_for_both_forms(self):
        path = self.write_file('i.csv', HEADER +
                               rec('hans@b\u00fccher.de') +
                               rec('Hans@B\u00dcCHER.DE',
                                   t='2026-11-24 11:00:00+0000') +
                               rec('hans@xn--bcher-kva.de',
                                   t='2026-11-24 12:00:00+0000'))
        self.process(path)
        recs = self.records()
        self.assertEqual(list(recs), ['hans@xn--bcher-kva.de'])
        r = self.show('hans@b\u00fccher.de')
        self.assertEqual(r['address'], 'hans@xn--bcher-kva.de')
        # the first one suppressed it, the two others are duplicates
        self.assertEqual(r['counts']['duplicate'], 2)
        self.assertEqual(r['status'], 'hard')
        self.assertEqual(self.show('HANS@XN--BCHER-KVA.DE')['address'],
                         'hans@xn--bcher-kva.de')
        self.assertEqual(list(self.records('--domain', 'b\u00fccher.de')),
                         ['hans@xn--bcher-kva.de'])


class TestStatsBy(ViewsTestCase):

    def groups(self, by, *args):
        res = self.run_ctl('stats', '--by', by, '--format', 'json', *args)
        self.assertRc(res, EX_OK)
        o = json.loads(res.out)
        self.assertEqual(o['by'], by)
        return {g[by]: g for g in o['groups']}, o

    def expect(self, key):
        want = collections.defaultdict(collections.Counter)
        for a, r in self.all.items():
            for k in key(a):
                want[k][r['status']] += 1
                want[k]['addresses'] += 1
        return want

    def check(self, by, key, *args):
        got, o = self.groups(by, *args)
        want = self.expect(key)
        self.assertEqual(set(got), set(want), by)
        for k, g in got.items():
            for f in ('addresses', 'active', 'soft', 'hard', 'complained',
                      'unsubscribed'):
                self.assertEqual(g[f], want[k][f], '%s %s %s' % (by, k, f))
        # most suppressed first
        supp = [g['hard'] + g['complained'] + g['unsubscribed']
                for g in o['groups']]
        self.assertEqual(supp, sorted(supp, reverse=True))
        return got

    def test_every_key(self):
        self.check('domain', lambda a: [a.split('@')[1]])
        self.check('campaign',
                   lambda a: [self.origin(a).get('job_id') or '(none)'])
        self.check('sender', lambda a: [(self.origin(a).get('orig') or
                                         '(none)').lower()])
        self.check('vmta', lambda a: [self.origin(a).get('vmta') or '(none)'])
        self.check('provider', lambda a: sorted(
            {x['provider'] for x in self.full[a]['actions']}) or ['(none)'])

    def test_since_limit_and_text(self):
        day25 = {a for a, r in self.all.items()
                 if r['updated'] >= '2026-11-25'}
        got, _ = self.groups('domain', '--since', '2026-11-25')
        self.assertEqual(sum(g['addresses'] for g in got.values()),
                         len(day25))
        got, o = self.groups('domain', '--limit', '2')
        self.assertEqual(len(o['groups']), 2)
        res = self.run_ctl('stats', '--by', 'domain')
        self.assertRc(res, EX_OK)
        lines = res.out.splitlines()
        self.assertTrue(lines[0].startswith('DOMAIN'))
        n = len({a.split('@')[1] for a in self.all})
        self.assertEqual(lines[-1], '-- %d domains' % n)
        self.assertEqual(len(lines), n + 2)


class TestQueueSummary(BouncedTestCase):

    def test_summary_line(self):
        self.process(self.write_file('d.csv', HEADER + rec('d@example.com')))
        res = self.run_ctl('queue')
        self.assertEqual((res.rc, res.out), (EX_OK, '-- the outbox is empty\n'))
        res = self.run_ctl('dead')
        self.assertEqual((res.rc, res.out), (EX_OK, '-- no dead letters\n'))
        # a webhook nobody answers: its actions wait in the outbox
        self.write_config(extra='[provider hook]\ntype = webhook\n'
                          'url = http://127.0.0.1:9/hook\nsenders = *\n'
                          'retry-min = 1h\n')
        addrs = ['q%d@example.com' % i for i in range(4)]
        path = self.write_file('q.csv', HEADER + ''.join(
            rec(a) for a in addrs) + rec(addrs[0], job='other-job'))
        self.process('--drain-timeout', '0', path)
        queue = self.ctl_json('queue')
        self.assertGreaterEqual(len(queue), 4)
        res = self.run_ctl('queue')
        self.assertRc(res, EX_OK)
        last = res.out.splitlines()[-1]
        m = re.match(r'^-- (\d+) actions? for (\d+) address(?:es)?, oldest '
                     r'(\d+)([smhd])$', last)
        self.assertTrue(m, last)
        self.assertEqual(int(m.group(1)), len(queue))
        self.assertEqual(int(m.group(2)), len({a['address'] for a in queue}))
        self.assertEqual(m.group(4), 's')
        # the columns of every row start where the header's do
        header = res.out.splitlines()[0]
        for line in res.out.splitlines()[1:len(queue) + 1]:
            self.assertEqual(header.index('ADDRESS'),
                             line.index(re.search(r'q\d@example.com',
                                                  line).group(0)))


class TestWhereFilesAre(BouncedTestCase):

    def test_files_and_show_follow_the_file(self):
        path = self.write_file('spool/acct/w.csv', HEADER + rec('w@example.com'))
        self.process(path)
        files = {f['key']: f for f in self.ctl_json('files')}
        self.assertEqual(files[path]['where'], 'here')
        self.assertEqual(files[path]['now'], 'acct/w.csv')
        # the worker moves it to done/ (here by hand, as it renames)
        done = os.path.join(self.spool, 'done')
        os.makedirs(done)
        os.rename(path, os.path.join(done, 'w.csv'))
        files = {f['key']: f for f in self.ctl_json('files')}
        self.assertEqual((files[path]['where'], files[path]['now']),
                         ('moved', 'done/w.csv'))
        res = self.run_ctl('files')
        self.assertIn('%s (now done/w.csv)' % path, res.out)
        self.assertEqual(self.show('w@example.com')['reason']['now'],
                         'done/w.csv')
        res = self.run_ctl('show', 'w@example.com')
        self.assertIn('%s line 2 (now done/w.csv)' % path, res.out)
        # failed/: found there
        failed = os.path.join(self.spool, 'failed')
        os.makedirs(failed)
        os.rename(os.path.join(done, 'w.csv'), os.path.join(failed, 'w.csv'))
        self.assertEqual(self.show('w@example.com')['reason']['now'],
                         'failed/w.csv')
        # another file under the same name is not the one taken (made
        # before the first is deleted: its inode cannot be the same)
        with open(os.path.join(done, 'w.csv'), 'w') as f:
            f.write('another file\n')
        os.unlink(os.path.join(failed, 'w.csv'))
        files = {f['key']: f for f in self.ctl_json('files')}
        self.assertEqual((files[path]['where'], files[path]['now']),
                         ('gone', None))
        res = self.run_ctl('files')
        self.assertIn('%s (gone: deleted after done-retention' % path,
                      res.out)
        self.assertIsNone(self.show('w@example.com')['reason']['now'])

    def test_a_mail_set_aside(self):
        # a bounce that reached the feedback address goes to ignored/ as
        # fbl.NAME; files follows it there
        mail = os.path.join(self.spool, 'fbl', 'new', '1.M1P1.host')
        os.makedirs(os.path.dirname(mail))
        with open(os.path.join(DATA, 'arf', 'dsn_postfix.eml'), 'rb') as f:
            body = f.read()
        with open(mail, 'wb') as f:
            f.write(b'Return-Path: <>\nX-Bounced-Envelope-To: <fbl@x.test>\n'
                    + body)
        self.process()
        self.assertTrue(os.path.isfile(os.path.join(
            self.spool, 'ignored', 'fbl.1.M1P1.host')))
        files = {f['key']: f for f in self.ctl_json('files')}
        self.assertEqual((files[mail]['where'], files[mail]['now']),
                         ('moved', 'ignored/fbl.1.M1P1.host'))


if __name__ == '__main__':
    unittest.main()
