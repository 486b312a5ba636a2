"""test_process.py - `bounced process` and `bounced check-config` end to end.

The sample files of spool/acct are the fixtures:

acct-2026-11-20-0000.csv (header line, CRLF, 2026-11-20 .. 11-24), by line:
   2 d  k.tanaka (not known yet: counted, nothing stored)
   3 b  alice.moreau@example.com bad-mailbox 5.1.1          -> hard
   4 b  k.tanaka@example.net quota-issues                   -> soft 1
   5 t                                                      -> skipped
   6 b  bob.lindqvist@gmail.com spam-related                -> soft
   7 rb c.okafor@example.org bad-mailbox                    -> hard
   8 f  m.rossi@yahoo.com abuse, header_X-job               -> complaint
   9 b  r.garcia@hotmail.com no-answer-from-host 4.4.1      -> soft
  10 b  k.tanaka                                            -> soft 2
  11 b  j.dupont@example-nosuch.org bad-domain              -> hard
  12 rs                                                     -> skipped
  13 d  bob (clears his soft bounce of line 6)              -> delivery
  14 f  p.novak@outlook.com not-spam                        -> ignored (recorded)
  15 b  k.tanaka                                            -> soft 3
  16 b  alice again                                         -> duplicate
  17 a truncated line                                       -> bad
  18 b  h.schmidt@example.com message-expired 4.4.7         -> soft
  19 b  s.ivanova@mail.example.org, no category, 5.1.1 in dsnDiag -> hard
  20 b  k.tanaka                                            -> soft 4
  21 d  m.rossi (complained: stays so)                      -> delivery
  22 b  r.garcia                                            -> soft
  23 rb l.chen@example.net 2.0.0                            -> ignored
  24 f  m.rossi again                                       -> duplicate
  25 b  k.tanaka, dsnDiag over two lines (25-26)            -> soft 5: escalated
  27 b  bob                                                 -> soft
  28 tq                                                     -> skipped
  29 d  c.okafor (hard: stays so)                           -> delivery
  30 b  k.tanaka (hard now)                                 -> duplicate
  31 d  j.smith@example.com (never seen)                    -> delivery
  32 f  without rcpt (Microsoft JMRP)                       -> ignored
  33 rb " <Olga.Petrova@Example.ORG>" inactive-mailbox      -> hard

acct-2026-11-25-0000.csv (header-less, fallback column order, LF), by line:
   1 b w.kowalski@example.com hard   2 b bob soft       3 b alice (hard)
   4 b e.martin@example.org policy-related soft         5 b r.garcia soft
   6 d h.schmidt (clears his soft bounce)               7 t skipped
   8 b n.andersen@example.com protocol-errors, 5.4.4 in dsnDiag -> hard
   9 b y.sato@example.com other soft  10 b Mixed.Case@Example.COM hard
  11 rb g.ferrari@example.net quota-issues soft
"""
import os
import shutil
import time
import re
import subprocess
import unittest

from harness import (BouncedTestCase, hard_file, SAMPLES, DATA, SAMPLE_HEADER,
                     SAMPLE_PLAIN, UNSUB_LIST, EX_OK, EX_USAGE, EX_DATAERR,
                     EX_NOINPUT, EX_CONFIG, ACCT_HEADER, COUNT_KEYS, acct_rec,
                     counts, read_text, sanitized, summaries)

# the summary of each sample taken alone into a fresh state
HEADER_COUNTS = counts(records=30, hard=5, soft=10, escalated=1, complaints=1,
                       duplicates=3, deliveries=5, ignored=3, skipped=3, bad=1)
PLAIN_COUNTS_FRESH = counts(records=11, hard=4, soft=5, deliveries=1,
                            skipped=1)
# the header-less sample taken after the other one
PLAIN_COUNTS_AFTER = counts(records=11, hard=3, soft=5, duplicates=1,
                            deliveries=1, skipped=1)

# status of every address the header sample leaves in the state
HEADER_STATUSES = {
    'alice.moreau@example.com': 'hard',
    'k.tanaka@example.net': 'hard',
    'bob.lindqvist@gmail.com': 'soft',
    'c.okafor@example.org': 'hard',
    'm.rossi@yahoo.com': 'complained',
    'r.garcia@hotmail.com': 'soft',
    'j.dupont@example-nosuch.org': 'hard',
    'p.novak@outlook.com': 'active',
    'h.schmidt@example.com': 'soft',
    's.ivanova@mail.example.org': 'hard',
    'olga.petrova@example.org': 'hard',
}

ORIG = 'bounces@news.example-shop.com'


class TestSamples(BouncedTestCase):
    """The sample files: exact summaries and statuses."""

    def test_header_sample_summary_and_statuses(self):
        path = self.copy_sample(SAMPLE_HEADER)
        res = self.process(path)
        s = summaries(res.out)
        self.assertEqual(list(s), [path], res)
        self.assertCounts(s[path], HEADER_COUNTS)
        self.assertEqual(self.statuses(), HEADER_STATUSES)

    def test_header_sample_hard_reason(self):
        path = self.copy_sample(SAMPLE_HEADER)
        self.process(path)
        rec = self.assertStatus('alice.moreau@example.com', 'hard',
                                escalated=False, soft_count=0,
                                status_time='2026-11-20T06:01:12Z')
        self.assertEqual(rec['reason'], {
            'kind': 'b', 'time': '2026-11-20T06:01:12Z', 'source': path,
            'line': 3, 'category': 'bad-mailbox', 'dsn_status': '5.1.1',
            'dsn_diag': 'smtp;550 5.1.1 <alice.moreau@example.com>: '
                        'Recipient address rejected: User unknown in '
                        'virtual mailbox table',
            'orig': ORIG, 'vmta': 'vmta-shop-1',
            'job_id': 'mailwizz-lr8qk2mzq1a7f',
            'now': 'acct/' + os.path.basename(path)})  # where it is now
        # the second bounce (line 16) is a duplicate: the reason stays
        self.assertEqual(rec['counts']['duplicate'], 1)
        self.assertEqual(rec['category'], 'bad-mailbox')
        self.assertEqual(rec['updated'], '2026-11-22T09:00:27Z')

    def test_dsn_status_kept_as_written(self):
        """PowerMTA writes dsnStatus with its text: kept whole, and the
        code in it still decides (5.1.1: hard)"""
        path = self.write_file('acct-status.csv',
                               'type,timeLogged,rcpt,dsnStatus,dsnDiag,'
                               'bounceCat\n'
                               'b,2026-11-20 10:00:00+0000,ann@example.com,'
                               '5.1.1 (bad destination mailbox address),'
                               'smtp;550 5.1.1 <ann@example.com>: no such '
                               'user,\n')
        self.process(path)
        rec = self.assertStatus('ann@example.com', 'hard')
        self.assertEqual(rec['reason']['dsn_status'],
                         '5.1.1 (bad destination mailbox address)')

    def test_header_sample_escalation(self):
        path = self.copy_sample(SAMPLE_HEADER)
        self.process(path)
        rec = self.assertStatus('k.tanaka@example.net', 'hard', escalated=True,
                                soft_count=5,
                                status_time='2026-11-24T07:45:16Z')
        self.assertEqual(rec['soft_times'], [
            '2026-11-20T06:02:40Z', '2026-11-21T08:10:19Z',
            '2026-11-22T08:05:00Z', '2026-11-23T08:00:02Z',
            '2026-11-24T07:45:16Z'])
        reason = rec['reason']
        self.assertEqual(reason['line'], 25)
        self.assertEqual(reason['kind'], 'b')
        self.assertEqual(reason['category'], 'quota-issues')
        self.assertEqual(reason['dsn_status'], '5.2.2')
        # a quoted field over two lines, with commas and doubled quotes
        self.assertEqual(
            reason['dsn_diag'],
            'smtp;552-5.2.2 The mailbox of k.tanaka@example.net is over '
            'quota,\n552 5.2.2 please ask the "postmaster" of example.net, '
            'or try again later')
        # the bounce after escalation (line 30) is a duplicate
        self.assertEqual(rec['counts']['duplicate'], 1)
        self.assertEqual(rec['counts']['hard'], 0)
        self.assertEqual(rec['actions'][0]['op'], 'unsubscribe')
        self.assertEqual(rec['actions'][0]['state'], 'dry-run')

    def test_header_sample_soft_delivery_complaint(self):
        path = self.copy_sample(SAMPLE_HEADER)
        self.process(path)
        # bob: soft (line 6), cleared by the delivery of line 13, soft again
        bob = self.assertStatus('bob.lindqvist@gmail.com', 'soft',
                                soft_count=1, escalated=False, reason=None,
                                soft_times=['2026-11-24T08:01:12Z'])
        self.assertEqual(bob['category'], 'spam-related')
        self.assertEqual(bob['last_soft']['line'], 27)
        self.assertEqual(
            bob['last_soft']['dsn_diag'],
            'smtp;550-5.7.1 [192.0.2.22] Messages from this IP are temporarily '
            'deferred, "policy", see https://support.google.com/mail/answer/'
            '188131')
        self.assertEqual(bob['last_soft']['vmta'], 'vmta-shop-2')
        self.assertEqual(bob['counts']['delivery'], 1)
        # an expired message: bounceCat not in any list, 4.4.7 -> soft
        self.assertStatus('h.schmidt@example.com', 'soft', soft_count=1,
                          category='message-expired')
        self.assertStatus('r.garcia@hotmail.com', 'soft', soft_count=2)
        # no bounceCat, the status only in dsnDiag (5.1.1) -> hard
        iv = self.assertStatus('s.ivanova@mail.example.org', 'hard',
                               escalated=False)
        self.assertEqual(iv['reason']['line'], 19)
        # a complaint: the job id comes from header_X-job
        ro = self.assertStatus('m.rossi@yahoo.com', 'complained')
        self.assertEqual(ro['reason']['kind'], 'f')
        self.assertEqual(ro['reason']['category'], 'abuse')
        self.assertEqual(ro['reason']['line'], 8)
        self.assertEqual(ro['reason']['job_id'], 'mailwizz-lr8qk2mzq1a7f')
        self.assertEqual(ro['counts']['duplicate'], 1)
        self.assertEqual(ro['actions'][0]['op'], 'complaint')
        # not-spam is recorded, nothing suppressed
        nv = self.assertStatus('p.novak@outlook.com', 'active', reason=None)
        self.assertEqual(nv['counts']['complaint'], 0)
        self.assertEqual(nv['actions'], [])
        # a remote bounce, recipient in angle brackets and mixed case
        ol = self.assertStatus('olga.petrova@example.org', 'hard')
        self.assertEqual(ol['reason']['kind'], 'rb')
        self.assertEqual(ol['reason']['category'], 'inactive-mailbox')
        self.assertEqual(ol['reason']['line'], 33)
        # a hard address stays hard after a delivery
        self.assertStatus('c.okafor@example.org', 'hard')

    def test_header_sample_unstored_addresses(self):
        self.process(self.copy_sample(SAMPLE_HEADER))
        # a 2.0.0 "bounce" and a delivery to an unknown address store nothing
        for addr in ('l.chen@example.net', 'j.smith@example.com',
                     'v.horvat@example.org', 'e.larsen@example.com'):
            res = self.run_ctl('show', addr)
            self.assertRc(res, 67)
            self.assertIn(addr, res.err)

    def test_bad_line_logged_with_file_and_line(self):
        path = self.copy_sample(SAMPLE_HEADER)
        res = self.process(path)
        bad = [l for l in res.err.splitlines() if 'bad record' in l]
        self.assertEqual(len(bad), 1, res)
        self.assertIn('%s:17: bad record: ' % path, bad[0])
        self.assertIn('warning', bad[0])

    def test_plain_sample_fresh(self):
        path = self.copy_sample(SAMPLE_PLAIN)
        s = self.process_summary(path)
        self.assertCounts(s, PLAIN_COUNTS_FRESH)
        self.assertEqual(self.statuses(), {
            'w.kowalski@example.com': 'hard',
            'bob.lindqvist@gmail.com': 'soft',
            'alice.moreau@example.com': 'hard',
            'e.martin@example.org': 'soft',
            'r.garcia@hotmail.com': 'soft',
            'n.andersen@example.com': 'hard',
            'y.sato@example.com': 'soft',
            'mixed.case@example.com': 'hard',
            'g.ferrari@example.net': 'soft',
        })
        # fields by the fallback order: vmta, jobId, dsnMta ...
        kw = self.show('w.kowalski@example.com')['reason']
        self.assertEqual(kw['time'], '2026-11-25T06:10:02Z')  # timeQueued
        self.assertEqual(kw['vmta'], 'vmta-shop-1')
        self.assertEqual(kw['job_id'], 'mailwizz-xk4ah7cz2e9b1')
        self.assertEqual(kw['orig'], 'bounces@lists.example-news.org')
        self.assertEqual(kw['line'], 1)
        em = self.show('e.martin@example.org')
        self.assertEqual(em['last_soft']['dsn_diag'],
                         'smtp;550 5.7.1 Message rejected due to local policy,'
                         ' see "https://postmaster.example.org/" for details')
        # protocol-errors is in no list: 5.4.4 in dsnDiag makes it hard
        self.assertEqual(self.show('n.andersen@example.com')['reason']
                         ['category'], 'protocol-errors')

    def test_spool_oldest_first_then_already_taken(self):
        a = self.copy_sample(SAMPLE_HEADER)
        b = self.copy_sample(SAMPLE_PLAIN)
        os.utime(a, (1795000000, 1795000000))
        os.utime(b, (1795100000, 1795100000))
        res = self.process()
        lines = res.out.splitlines()
        s = summaries(res.out)
        self.assertEqual([l.split(': ')[0] for l in lines], [a, b, 'total'],
                         res)
        self.assertCounts(s[a], HEADER_COUNTS)
        self.assertCounts(s[b], PLAIN_COUNTS_AFTER)
        self.assertCounts(s['total'], counts(
            records=41, hard=8, soft=15, escalated=1, complaints=1,
            duplicates=4, deliveries=6, ignored=3, skipped=4, bad=1))
        st = self.statuses()
        self.assertEqual(len(st), 17)
        self.assertEqual(st['h.schmidt@example.com'], 'active')
        self.assertEqual(self.show('bob.lindqvist@gmail.com')['soft_count'],
                         2)
        self.assertEqual(self.show('r.garcia@hotmail.com')['soft_count'], 3)
        self.assertEqual(self.show('alice.moreau@example.com')['reason']
                         ['source'], a)

        before = self.run_ctl('list', '--format', 'json').out
        stats = self.ctl_json('stats')
        res = self.process()
        lines = res.out.splitlines()
        self.assertEqual(lines[:2], ['%s: already taken (30 records)' % a,
                                     '%s: already taken (11 records)' % b])
        # and perhaps a total line of nothing
        self.assertLessEqual(len(lines), 3, res)
        if len(lines) == 3:
            self.assertCounts(summaries(res.out)['total'], counts())
        self.assertEqual(self.run_ctl('list', '--format', 'json').out, before)
        self.assertEqual(self.ctl_json('stats')['counters'],
                         stats['counters'])

    def test_already_taken_and_reprocess(self):
        path = self.copy_sample(SAMPLE_HEADER)
        self.process(path)
        before = self.run_ctl('list', '--format', 'json').out
        res = self.process(path)
        self.assertEqual(res.out, '%s: already taken (30 records)\n' % path)
        self.assertEqual(self.run_ctl('list', '--format', 'json').out, before)
        # the same file by another name (relative to the working directory)
        res = self.process(os.path.relpath(path, self.dir))
        self.assertIn('already taken', res.out)

        s = self.process_summary(path, '--reprocess')
        self.assertCounts(s, counts(records=30, soft=1, duplicates=18,
                                    deliveries=5, ignored=3, skipped=3,
                                    bad=1))
        st = self.statuses()
        self.assertEqual(st, HEADER_STATUSES)
        # the records are read again, and a soft bounce kept already is
        # a duplicate: none is kept twice
        self.assertEqual(self.show('h.schmidt@example.com')['soft_count'], 1)
        self.assertEqual(self.show('r.garcia@hotmail.com')['soft_count'], 2)
        self.assertEqual(self.show('bob.lindqvist@gmail.com')['soft_count'],
                         1)
        self.assertEqual(self.ctl_json('stats')['counters']['records'], 60)

    def test_same_file_under_another_path(self):
        # taken once; then the same content under other paths (moved back
        # from done/, copied, a rotation's new name): nothing of it is
        # applied again, soft bounces are not counted twice
        path = self.copy_sample(SAMPLE_HEADER)
        self.process(path)
        before = self.run_ctl('list', '--format', 'json').out
        for name in ('copy.csv', 'acct-2026-11-24.csv'):
            other = os.path.join(self.dir, name)
            shutil.copyfile(path, other)
            res = self.process(other)
            self.assertEqual(res.out, '%s: already taken as %s (30 records; '
                             '--reprocess takes it again)\n' % (other, path))
        self.assertEqual(self.run_ctl('list', '--format', 'json').out, before)
        self.assertEqual(self.show('r.garcia@hotmail.com')['soft_count'], 2)
        self.assertEqual(self.ctl_json('stats')['counters']['records'], 30)
        # --reprocess reads it again, as under its own name: what the
        # state has is a duplicate
        self.assertCounts(self.process_summary(other, '--reprocess'),
                          counts(records=30, soft=1, duplicates=18,
                                 deliveries=5, ignored=3, skipped=3, bad=1))
        self.assertEqual(self.show('r.garcia@hotmail.com')['soft_count'], 2)

    def test_two_processes_of_one_file_at_once_count_it_once(self):
        # two `bounced process` of the same file started together: the
        # one that commits second finds the file's record moved on, keeps
        # nothing of its batch and leaves the rest to the first (75);
        # the counters hold each record once
        n = 150000
        path = self.write_file('big.csv', hard_file(
            ['p%d@example.com' % i for i in range(n)]))
        argv = [self.bounced, '-c', self.config, 'process', path]
        procs = [subprocess.Popen(argv, cwd=self.dir, env=self.env(),
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
                 for _ in range(2)]
        outs = [p.communicate(timeout=600) for p in procs]
        rcs = sorted(p.returncode for p in procs)
        text = '\n'.join((o + e).decode('utf-8', 'replace') for o, e in outs)
        self.assertEqual(rcs, [0, 75], text[-3000:])
        self.assertIn('%s: taken by another process at the same time: '
                      'left to it' % path, text)
        self.assertIn('taken by another process at the same time (its '
                      'record in the state moved on', text)
        st = self.ctl_json('stats')
        self.assertEqual(st['counters']['records'], n)
        self.assertEqual(st['counters']['hard'], n)
        self.assertEqual(st['counters'].get('duplicate', 0), 0)
        self.assertEqual(st['status']['hard'], n)
        self.assertEqual(self.process(path).out,
                         '%s: already taken (%d records)\n' % (path, n))

    def test_rotated_file_resumes_where_it_was_left(self):
        # a file taken while still written, then rotated to another name
        # and grown: only what came after is taken
        head = 'type,timeLogged,rcpt,bounceCat,dsnStatus\r\n'

        def rows(start, n):
            return ''.join('b,2026-11-24 08:%02d:00+0000,s%d@example.com,'
                           'quota-issues,4.2.2\r\n' % (i % 60, i)
                           for i in range(start, start + n))
        path = self.write_file('acct.csv', head + rows(0, 200))
        self.assertCounts(self.process_summary(path),
                          counts(records=200, soft=200))
        rotated = path + '.1'
        os.rename(path, rotated)
        with open(rotated, 'a') as f:
            f.write(rows(200, 50))
        self.assertCounts(self.process_summary(rotated),
                          counts(records=50, soft=50))
        self.assertEqual(self.show('s0@example.com')['soft_count'], 1)
        self.assertEqual(self.show('s249@example.com')['soft_count'], 1)
        # a small file is the same only when it is all of the other: a
        # new file beginning with a file taken whole (its header line) is
        # another, taken from its start
        small = self.write_file('small.csv', head)
        self.assertCounts(self.process_summary(small), counts())
        grown = self.write_file('grown.csv', head + rows(300, 3))
        self.assertCounts(self.process_summary(grown),
                          counts(records=3, soft=3))

    def test_files_table(self):
        path = self.copy_sample(SAMPLE_HEADER)
        self.process(path)
        files = self.ctl_json('files')
        self.assertEqual(len(files), 1)
        f = files[0]
        self.assertEqual(f['key'], path)
        self.assertEqual(f['status'], 'done')
        self.assertEqual(f['offset'], os.path.getsize(path))
        self.assertEqual(f['records'], 30)
        self.assertEqual(f['bad'], 1)

    def test_dry_run_actions_do_not_depend_on_batches(self):
        """with no provider, a complaint then a hard bounce of the same
        campaign record one suppression, whether the two come in one
        batch (one file) or in two (two files, the second a duplicate)"""
        head = 'type,timeLogged,orig,rcpt,dsnStatus,bounceCat,jobId\r\n'
        f = ('f,2026-11-04 08:04:31+0000,bounces@example.net,'
             'bob@example.org,,abuse,job-1\r\n')
        b = ('b,2026-11-04 11:35:26+0000,bounces@example.net,'
             'bob@example.org,5.1.1,bad-mailbox,job-1\r\n')
        shows = []
        for name, files in (('one', [head + f + b]),
                            ('two', [head + f, head + b])):
            self.state = os.path.join(self.dir, 'state-' + name)
            self.write_config()
            for i, text in enumerate(files):
                self.process(self.write_file('%s-%d.csv' % (name, i), text))
            show = self.show('bob@example.org')
            shows.append([(a['provider'], a['op'], a['state'])
                          for a in show['actions']])
            self.assertEqual(show['status'], 'complained')
        self.assertEqual(shows[0], [('dry-run', 'complaint', 'dry-run')])
        self.assertEqual(shows[1], shows[0])

    def test_held_bounces_do_not_depend_on_batches(self):
        """an incident holds bob's hard bounce, a delivery to bob drops
        it, a second hard bounce of bob is held, and the incident closes
        two quiet hours later: the second is applied then, whatever the
        batches (one for all; the first hold, the delivery and the second
        hold in one, the close in the next; the first hold in one batch,
        the delivery and the second hold in the next; one record each):
        the same counts, records and incident"""
        def rec(t, hms, rcpt, st='', diag='', cat=''):
            return acct_rec(t, '2026-11-04 %s+0000' % hms,
                            'news@bounces.example.com', rcpt, st, diag, cat,
                            'job-1')

        hard = ('5.1.1', 'smtp;550 5.1.1 user unknown', 'bad-mailbox')
        text = ACCT_HEADER + ''.join(
            rec('b', '10:00:%02d' % i, 'u%d@example.org' % i, '5.7.1',
                'smtp;550 5.7.1 blocked by policy', 'policy-related')
            for i in range(10))                                # 1-10
        text += (rec('b', '10:05:00', 'bob@example.org', *hard) +  # 11
                 rec('d', '10:05:30', 'carol@example.net') +
                 rec('d', '10:06:00', 'bob@example.org') +        # 13
                 rec('b', '10:07:00', 'bob@example.org', *hard) +  # 14
                 rec('d', '10:08:00', 'carol@example.net') +
                 rec('d', '10:09:00', 'carol@example.net') +
                 rec('d', '13:00:00', 'dave@example.org'))        # 17
        path = self.write_file('acct.csv', text)
        runs = []
        for n in (1000, 16, 4, 1):
            self.state = os.path.join(self.dir, 'state-%d' % n)
            self.write_config(bounced={'batch-records': n})
            summary = self.process_summary(path)
            show = self.show('bob@example.org')
            runs.append((n, {
                'summary': {k: summary[k] for k in COUNT_KEYS},
                'records': self.records(),
                'bob': (show['counts'], [(a['provider'], a['op'],
                                          a['state'])
                                         for a in show['actions']]),
                'incidents': self.ctl_json('incidents'),
            }))
        first = runs[0][1]
        self.assertEqual(first['summary'],
                         counts(records=17, hard=1, soft=10, deliveries=5))
        bob = first['records']['bob@example.org']
        self.assertEqual((bob['status'], bob['reason']['line']), ('hard', 15))
        self.assertEqual([(i['state'], i['held'], i['applied'], i['dropped'])
                          for i in first['incidents']],
                         [('closed', 2, 1, 1)])
        for n, run in runs[1:]:
            for k in first:
                self.assertEqual(run[k], first[k],
                                 '%s with batch-records %d' % (k, n))

    def test_hold_stored_and_released_in_one_batch(self):
        """an incident holds bob's hard bounce, bob has nine more
        records before the incident closes two quiet hours later: the
        hold is too far from its release to be left unstored, so the
        batch stores it and drops it again, and the release applies it
        (counted as the run's hard bounce), in one batch as in one
        record each"""
        def rec(t, hms, rcpt, st='', diag='', cat=''):
            return acct_rec(t, '2026-11-04 %s+0000' % hms,
                            'news@bounces.example.com', rcpt, st, diag, cat,
                            'job-1')

        text = ACCT_HEADER + ''.join(
            rec('b', '10:00:%02d' % i, 'u%d@example.org' % i, '5.7.1',
                'smtp;550 5.7.1 blocked by policy', 'policy-related')
            for i in range(10))                                # 1-10
        text += rec('b', '10:05:00', 'bob@example.org', '5.1.1',
                    'smtp;550 5.1.1 user unknown', 'bad-mailbox')  # 11
        text += ''.join(
            rec('b', '10:06:%02d' % i, 'bob@example.org', '4.2.2',
                'smtp;452 4.2.2 mailbox full', 'quota-issues')
            for i in range(9))                                 # 12-20
        text += rec('d', '13:00:00', 'dave@example.org')       # 21
        path = self.write_file('acct.csv', text)
        runs = []
        for n in (1000, 1):
            self.state = os.path.join(self.dir, 'state-%d' % n)
            self.write_config(bounced={'batch-records': n})
            summary = self.process_summary(path)
            bob = self.records()['bob@example.org']
            runs.append(({k: summary[k] for k in COUNT_KEYS},
                         (bob['status'], bob['reason']['line']),
                         [(i['state'], i['held'], i['applied'],
                           i['dropped'])
                          for i in self.ctl_json('incidents')]))
        self.assertEqual(runs[0], (counts(records=21, hard=1, soft=19,
                                          deliveries=1),
                                   ('hard', 12), [('closed', 1, 1, 0)]))
        self.assertEqual(runs[1], runs[0])

    @unittest.skipUnless(hasattr(os, 'sched_setaffinity') and
                         len(os.sched_getaffinity(0)) > 1,
                         'needs two CPUs and sched_setaffinity')
    def test_one_cpu_commits_inline_to_the_same_state(self):
        """on one CPU bounced commits in its reading thread (a second
        thread would only take turns with it), on two in a thread of its
        own: deliveries, soft and hard bounces and complaints of the same
        addresses, over several batches, end in the same counts and
        records either way"""
        rows = []
        kinds = {3: ('b', '4.2.2', 'smtp;452 4.2.2 mailbox full',
                     'quota-issues'),
                 5: ('b', '5.1.1', 'smtp;550 5.1.1 user unknown',
                     'bad-mailbox'),
                 7: ('f', '', '', '')}
        for i in range(700):
            addr = 'user%02d@example.org' % (i * 7 % 40)
            t, st, diag, cat = kinds.get(i % 11, ('d', '', '', ''))
            if t == 'b' and st.startswith('5') and i % 3:
                t, st, diag, cat = kinds[3]
            rows.append(acct_rec(t, '2026-11-04 %02d:%02d:%02d+0000' % (
                8 + i // 3600, i // 60 % 60, i % 60),
                'news@bounces.example.com', addr, st, diag, cat, 'job-1',
                'abuse' if t == 'f' else ''))
        path = self.write_file('acct.csv', ACCT_HEADER + ''.join(rows))
        runs = {}
        cpus = os.sched_getaffinity(0)
        for name, pin in (('two', cpus), ('one', {min(cpus)})):
            self.state = os.path.join(self.dir, 'state-' + name)
            self.write_config(bounced={'batch-records': 64})
            os.sched_setaffinity(0, pin)
            try:
                res = self.process('-d', path)
            finally:
                os.sched_setaffinity(0, cpus)
            inline = 'commits inline (one CPU)' in res.err
            self.assertEqual(inline, name == 'one', res.err[-2000:])
            summary = summaries(res.out)[path]
            runs[name] = ({k: summary[k] for k in COUNT_KEYS},
                          self.records())
        summary, records = runs['one']
        self.assertEqual(summary['records'], 700)
        self.assertGreater(summary['hard'], 0)
        self.assertGreater(summary['complaints'], 0)
        self.assertGreater(summary['deliveries'], 0)
        self.assertEqual(len(records), 40)
        self.assertEqual(runs['one'], runs['two'])

    def test_appended_file_resumes_at_offset(self):
        path = self.write_file('acct.csv',
                               'type,timeLogged,rcpt,bounceCat,dsnStatus\r\n'
                               'b,2026-11-24 08:00:00+0000,a1@example.com,'
                               'bad-mailbox,5.1.1\r\n')
        s = self.process_summary(path)
        self.assertCounts(s, counts(records=1, hard=1))
        with open(path, 'ab') as f:
            f.write(b'b,2026-11-24 09:00:00+0000,a2@example.com,'
                    b'quota-issues,5.2.2\r\n')
        s = self.process_summary(path)
        # only the new record, read with the header's column map
        self.assertCounts(s, counts(records=1, soft=1))
        self.assertEqual(self.statuses(), {'a1@example.com': 'hard',
                                           'a2@example.com': 'soft'})
        # a copy made anew (another inode, as rsync makes one) and grown:
        # resumed, and bouncectl finds it where it is, not gone
        with open(path, 'rb') as f:
            data = f.read()
        with open(path + '.tmp', 'wb') as f:
            f.write(data + b'b,2026-11-24 10:00:00+0000,a3@example.com,'
                    b'bad-mailbox,5.1.1\r\n')
        os.rename(path + '.tmp', path)
        self.assertCounts(self.process_summary(path),
                          counts(records=1, hard=1))
        f, = self.ctl_json('files')
        self.assertEqual(f['where'], 'here', f)

    def test_new_file_under_a_name_taken_before(self):
        # acct.csv first taken with its header line only, then appended
        # to; rotated away, and a new acct.csv with the same header
        # begins: it is another file, taken from its start (it was
        # "already taken", then resumed at the old file's offset)
        head = 'type,timeLogged,rcpt,bounceCat,dsnStatus\r\n'

        def rows(name, n):
            return ''.join('b,2026-11-24 08:%02d:00+0000,%s%d@example.com,'
                           'bad-mailbox,5.1.1\r\n' % (i % 60, name, i)
                           for i in range(n))
        path = self.write_file('acct.csv', head)
        self.assertCounts(self.process_summary(path), counts())
        with open(path, 'a') as f:
            f.write(rows('old', 20))
        self.assertCounts(self.process_summary(path),
                          counts(records=20, hard=20))
        os.rename(path, path + '.1')
        self.write_file('acct.csv', head + rows('new', 1))
        self.assertCounts(self.process_summary(path),
                          counts(records=1, hard=1))
        with open(path, 'a') as f:
            f.write(rows('more', 30))
        self.assertCounts(self.process_summary(path),
                          counts(records=30, hard=30))
        st = self.statuses()
        self.assertEqual(len(st), 51)
        self.assertEqual(st['new0@example.com'], 'hard')
        self.assertEqual(st['more0@example.com'], 'hard')


class TestInputs(BouncedTestCase):
    """stdin, address lists, header lines, bad lines, missing files."""

    def test_file_of_transient_records_without_rcpt(self):
        # t and tq records in a file of their own (the User's Guide
        # suggests one): tq has no rcpt column, and the file is no less
        # PowerMTA's: taken, its rows skipped (it was refused, and left
        # in acct/ by the worker)
        path = self.write_file('tq.csv', (
            'type,timeLogged,queue,vmta,dsnStatus,dsnDiag,dsnMta,dlvType,'
            'dlvSourceIp,dlvDestinationIp\n'
            'tq,2026-11-24 08:00:00+0000,example.com/vmta1,vmta1,4.4.1 '
            '(no answer from host),"smtp;421 try later",mx.example.com,'
            'smtp,192.0.2.10,198.51.100.7\n'
            't,2026-11-24 08:00:01+0000,example.com/vmta1,vmta1,4.4.1 '
            '(no answer from host),"smtp;421 try later",mx.example.com,'
            'smtp,192.0.2.10,198.51.100.7\n'))
        s = self.process_summary(path)
        self.assertEqual((s['records'], s['skipped'], s['bad']), (2, 2, 0))
        self.assertEqual(self.statuses(), {})

    def test_compressed_file_is_said_so_on_stderr_too(self):
        # a rotated file compressed by logrotate, given by hand while the
        # log goes to a file: refused at once as compressed (not read as
        # rows, the last of them cut short and left for a next reading),
        # and the reason is on stderr, not only in the log
        import bz2
        import gzip
        log = os.path.join(self.dir, 'bounced.log')
        self.write_config(bounced={'log': log})
        text = (ACCT_HEADER + acct_rec('b', '2026-11-24 10:00:00+0000', ORIG,
                                      'z@example.com', '5.1.1',
                                      'smtp;550 unknown', 'bad-mailbox'))
        for name, data, kind in (
                ('acct.csv.gz', gzip.compress(text.encode()), 'gzip'),
                ('acct.csv.bz2', bz2.compress(text.encode()), 'bzip2')):
            path = os.path.join(self.dir, name)
            with open(path, 'wb') as f:
                f.write(data)
            res = self.process(path, rc=EX_DATAERR)
            want = ('%s: not a PowerMTA accounting file: it is compressed '
                    '(%s): decompress it first' % (path, kind))
            self.assertIn('bounced: ' + want, res.err)
            self.assertIn(want, read_text(log))
            res = self.process('--list', path, rc=EX_DATAERR)
            self.assertIn('%s: no address list: it is compressed (%s)'
                          % (path, kind), res.err)
        self.assertEqual(self.statuses(), {})
        # an error of an input that is not compressed reaches stderr too
        res = self.process(os.path.join(self.dir, 'none.csv'),
                           rc=EX_NOINPUT)
        self.assertIn("bounced: cannot open '%s'" %
                      os.path.join(self.dir, 'none.csv'), res.err)
        # and an address that merely starts as bzip2's magic is a list
        path = self.write_file('l.txt', 'BZhang@example.com\n')
        self.process('--list', path)
        self.assertEqual(self.show('bzhang@example.com')['status'],
                         'unsubscribed')

    def test_defaults_on_real_refusals(self):
        # the embedded defaults on refusals PowerMTA files under a category
        # that misleads: PowerMTA's catch-all "other" is judged by its
        # status (a mailbox moved away is hard), a refusal of our own
        # sender address and a rate limit written as 5.x.x are soft, and
        # Microsoft's directory refusal of an unknown recipient is hard
        t = '2026-11-24 10:00:00+0000'
        rows = [
            ('gone@icloud.example', '5.1.6',
             'smtp;550 5.1.6 recipient no longer on server', 'other'),
            ('blocked@other.example', '5.7.1',
             'smtp;550 5.7.1 message refused', 'other'),
            ('callout@postfix.example', '5.1.7',
             'smtp;550 5.1.7 <%s>: Sender address rejected: undeliverable '
             'address: host mx.example[192.0.2.5] said: 550 5.1.1 User '
             'unknown' % ORIG, 'bad-mailbox'),
            ('dns@gmx.example', '5.0.0',
             'smtp;550-Requested action not taken: mailbox unavailable 550 '
             'invalid DNS MX or A/AAAA resource record', 'bad-mailbox'),
            ('busy@godaddy.example', '5.1.1',
             'smtp;550 5.1.1 <busy@godaddy.example> - 192.0.2.21 has sent '
             'to too many recipients this hour. IB607', 'bad-mailbox'),
            ('fast@gmail.example', '5.2.1',
             'smtp;550-5.2.1 The user you are trying to contact is '
             'receiving mail at a rate that prevents additional messages '
             'from being delivered', 'inactive-mailbox'),
            ('nobody@m365.example', '5.4.1',
             'smtp;550 5.4.1 Recipient address rejected: Access denied. '
             'AS(201806281)', 'policy-related'),
        ]
        path = self.write_file('acct-real.csv', ACCT_HEADER + ''.join(
            acct_rec('b', t, ORIG, a, st, diag, cat)
            for a, st, diag, cat in rows))
        self.process_summary(path)
        # a refusal of our sender is counted, never kept toward the
        # threshold (no-escalate-categories): the address stays active
        want = {'gone@icloud.example': 'hard',
                'blocked@other.example': 'soft',
                'callout@postfix.example': 'active',
                'dns@gmx.example': 'active',
                'busy@godaddy.example': 'soft',
                'fast@gmail.example': 'soft',
                'nobody@m365.example': 'hard'}
        self.assertEqual(self.statuses(), want)
        self.assertEqual(self.show('dns@gmx.example')['category'],
                         'invalid-sender')
        # six days of our sender domain refused there: still subscribed
        path = self.write_file('acct-dns.csv', ACCT_HEADER + ''.join(
            acct_rec('b', '2026-11-%02d 10:00:00+0000' % d, ORIG,
                     'dns@gmx.example', '5.0.0',
                     'smtp;550-Requested action not taken: mailbox '
                     'unavailable 550 invalid DNS MX or A/AAAA resource '
                     'record', 'bad-mailbox') for d in range(25, 31)))
        s = self.process_summary(path)
        self.assertEqual((s['soft'], s['escalated']), (6, 0), s)
        self.assertEqual(self.show('dns@gmx.example')['status'], 'active')

    def test_record_far_in_the_future_is_not_believed(self):
        # a soft bounce dated 2034 (a host's clock off): taken at the
        # file's time, so that the soft bounces after it still count
        head = 'type,timeLogged,rcpt,dsnStatus,dsnDiag,bounceCat\n'
        rows = ['b,2034-01-01 00:00:00+0000,y@dest.example,4.2.2,'
                'smtp;452 4.2.2 mailbox full,quota-issues\n']
        rows += ['b,2024-01-0%d 00:00:00+0000,y@dest.example,4.2.2,'
                 'smtp;452 4.2.2 mailbox full,quota-issues\n' % d
                 for d in range(1, 7)]
        path = self.write_file('acct-future.csv', head + ''.join(rows))
        t = 1704672000    # 2024-01-08, when the file was written
        os.utime(path, (t, t))
        s = self.process_summary(path)
        self.assertEqual(s['escalated'], 1, s)
        rec = self.show('y@dest.example')
        self.assertEqual(rec['status'], 'hard')

    def test_accepted_then_bounced_escalates(self):
        # a mailbox that accepts every campaign and bounces it later:
        # each d is followed by an rb "mailbox full" (the DSN received
        # after the acceptance); five of them over four days escalate,
        # as five b would.  The same with b records never escalates:
        # each delivery clears the one before it
        head = 'type,timeLogged,rcpt,dsnStatus,dsnDiag,bounceCat\n'
        full = '4.2.2,smtp;452 4.2.2 mailbox full,quota-issues\n'
        rows = []
        for d in range(1, 6):
            for who, kind in (('late@dest.example', 'rb'),
                              ('sync@dest.example', 'b')):
                rows.append('d,2024-01-0%d 08:00:00+0000,%s,2.0.0,'
                            'smtp;250 ok,\n' % (d, who))
                rows.append('%s,2024-01-0%d 08:10:00+0000,%s,%s'
                            % (kind, d, who, full))
        path = self.write_file('acct-late.csv', head + ''.join(rows))
        s = self.process_summary(path)
        self.assertEqual(s['escalated'], 1, s)
        late = self.assertStatus('late@dest.example', 'hard',
                                 escalated=True)
        self.assertEqual(late['reason']['kind'], 'rb')
        # (the first delivery came before the address had a record)
        self.assertEqual(late['counts']['delivery'], 4)
        self.assertEqual(late['soft_async'], [True] * 5)
        out = self.run_ctl('show', 'late@dest.example').out
        self.assertIn('  2024-01-05 08:10:00+0000  '
                      '(rb: after an acceptance)\n', out)
        sync = self.assertStatus('sync@dest.example', 'soft',
                                 soft_count=1, escalated=False)
        self.assertEqual(sync['soft_async'], [False])
        self.assertEqual(sync['soft_times'], ['2024-01-05T08:10:00Z'])

    def test_last_line_still_written_is_taken_whole_later(self):
        # PowerMTA still writing the file: its last line is cut inside
        # the address.  Nothing is made of the cut line (john@gmail.co is
        # nobody); once the line is complete, the next run takes it, and
        # the line before it is not taken twice
        head = 'type,timeLogged,rcpt,dsnStatus,dsnDiag,bounceCat\r\n'
        first = ('b,2024-02-08 21:53:41+0000,gone@example.com,5.1.1,'
                 'smtp;550 5.1.1 unknown,bad-mailbox\r\n')
        line = ('b,2024-02-08 21:54:00+0000,john@gmail.com,5.1.1,'
                'smtp;550 5.1.1 unknown,bad-mailbox\r\n')
        cut = line.index('gmail.co') + len('gmail.co')
        path = self.write_file('acct-live.csv', head + first + line[:cut])
        s = self.process_summary(path)
        self.assertEqual((s['records'], s['hard'], s['bad']), (1, 1, 1),
                         s)
        res = self.run_ctl('show', 'john@gmail.co')
        self.assertNotEqual(res.rc, EX_OK, res.out)
        with open(path, 'a') as f:
            f.write(line[cut:])
        s = self.process_summary(path)
        self.assertEqual((s['records'], s['hard']), (1, 1), s)
        self.assertStatus('john@gmail.com', 'hard')
        self.assertEqual(self.show('gone@example.com')['counts']['hard'], 1)

    def test_byte_order_mark_without_header_line(self):
        # a UTF-8 byte order mark before the first record of a file
        # without a header line (classic field order), and before the
        # first address of a list (and before its "email" header): the
        # file was refused as no accounting file, the list's first
        # address kept with the mark in it
        rows = ''.join('b,2026-11-24 10:00:00+0000,bad-mailbox,vmta1,'
                       'news@x.com,u%d@example.com,,,,5.1.1,,'
                       'smtp;550 unknown\r\n' % i for i in range(2))
        path = self.write_file('bom.csv', '\ufeff' + rows)
        s = self.process_summary(path)
        self.assertEqual((s['records'], s['hard']), (2, 2), s)
        lst = self.write_file('bom.txt', '\ufeffjohn@example.com\n'
                              'mary@example.com\n')
        lst2 = self.write_file('bom2.txt', '\ufeffemail\nann@example.com\n')
        res = self.process('--list', lst, lst2)
        self.assertIn('0 bad lines', res.out)
        self.assertEqual(self.statuses(), {
            'u0@example.com': 'hard', 'u1@example.com': 'hard',
            'john@example.com': 'unsubscribed',
            'mary@example.com': 'unsubscribed',
            'ann@example.com': 'unsubscribed'})

    def test_last_line_without_line_end_taken_where_written_whole(self):
        # a list is written whole: its last address counts without its
        # line end, from a file (named a list, or told one by its first
        # row) or from stdin (one line alone too); a file of the spool
        # (bounced process without FILE, as the worker) is whole too
        lst = self.write_file('l.txt', 'alice@example.com\nbob@example.com')
        self.process('--list', lst)
        self.process('--list', '-', stdin='carol@example.com')
        # told a list by its first row, or a list of one line
        det = self.write_file('det.txt', 'dave@example.com\n'
                              'frank@example.com')
        self.process(det)
        self.process(self.write_file('one.txt', 'gina@example.com'))
        os.makedirs(os.path.join(self.spool, 'acct'), exist_ok=True)
        with open(os.path.join(self.spool, 'acct', 'a.csv'), 'w') as f:
            f.write('type,timeLogged,rcpt,dsnStatus,dsnDiag,bounceCat\r\n'
                    'b,2024-02-08 21:54:00+0000,erin@example.com,5.1.1,'
                    'smtp;550 5.1.1 unknown,bad-mailbox')
        os.utime(os.path.join(self.spool, 'acct', 'a.csv'),
                 (time.time() - 60, time.time() - 60))
        # the spool's file named is whole too
        self.process(os.path.join(self.spool, 'acct', 'a.csv'))
        self.assertEqual(self.statuses(), {
            'alice@example.com': 'unsubscribed',
            'bob@example.com': 'unsubscribed',
            'carol@example.com': 'unsubscribed',
            'dave@example.com': 'unsubscribed',
            'frank@example.com': 'unsubscribed',
            'gina@example.com': 'unsubscribed',
            'erin@example.com': 'hard'})

    def test_cut_last_line_said_each_run(self):
        # a file named, its last line cut: said again on each run (not
        # only the first), and on a file of that line alone too
        path = self.write_file('acct-cut.csv',
                               'b,2024-02-08 21:54:00+0000,bad-mailbox,'
                               'vmta1,news@x.com,john@gmail.co')
        for _ in range(2):
            res = self.process(path)
            self.assertIn('the input ends inside this line', res.err)
        self.assertEqual(self.statuses(), {})

    def test_stdin(self):
        with open(os.path.join(SAMPLES, SAMPLE_HEADER), 'rb') as f:
            data = f.read()
        res = self.process('-', stdin=data)
        s = summaries(res.out)
        self.assertEqual(list(s), ['stdin'], res)
        self.assertCounts(s['stdin'], HEADER_COUNTS)
        self.assertEqual(self.statuses(), HEADER_STATUSES)
        self.assertEqual(self.show('alice.moreau@example.com')['reason']
                         ['source'], '-')
        self.assertRegex(res.err, r'(-|stdin):17: bad record: ')
        # stdin is never "already taken": its records are read again,
        # and what the state has is a duplicate, soft bounces too (a
        # backup file taken after its pipe counts nothing twice); the
        # one soft bounce a delivery had cleared is counted, not kept
        res = self.process('-', stdin=data)
        again = summaries(res.out)['stdin']
        self.assertEqual(again['records'], 30)
        self.assertEqual((again['hard'], again['soft'], again['escalated']),
                         (0, 1, 0))
        self.assertEqual(again['duplicates'], 18)
        self.assertEqual(self.statuses(), HEADER_STATUSES)
        self.assertEqual(self.show('r.garcia@hotmail.com')['soft_count'], 2)

    def test_standalone_list_after_sample(self):
        self.process(self.copy_sample(SAMPLE_HEADER))
        path = self.copy_data(UNSUB_LIST)
        s = self.process_summary(path)
        self.assertCounts(s, counts(records=5, unsubscribes=3, duplicates=2))
        st = self.statuses()
        self.assertEqual(st['f.bianchi@example.com'], 'unsubscribed')
        self.assertEqual(st['g.weber@example.net'], 'unsubscribed')
        self.assertEqual(st['t.nguyen@aol.com'], 'unsubscribed')
        self.assertEqual(st['alice.moreau@example.com'], 'hard')
        self.assertEqual(st['m.rossi@yahoo.com'], 'complained')
        gw = self.show('g.weber@example.net')
        self.assertEqual(gw['reason']['kind'], 'list')
        self.assertEqual(gw['reason']['source'], path)
        self.assertEqual(gw['reason']['line'], 2)
        self.assertEqual(gw['actions'][0]['op'], 'unsubscribe')
        self.assertEqual(set(self.statuses('--status', 'unsubscribed')),
                         {'f.bianchi@example.com', 'g.weber@example.net',
                          't.nguyen@aol.com'})

    def test_standalone_list_stdin_and_forced(self):
        with open(os.path.join(DATA, UNSUB_LIST), 'rb') as f:
            data = f.read()
        res = self.process('-', stdin=data)
        self.assertCounts(summaries(res.out)['stdin'],
                          counts(records=5, unsubscribes=5))
        # --list takes a two-column CSV whose first column is the address
        path = self.write_file('suppress.csv',
                               'x.one@example.com,2026-11-01,manual\n'
                               'X.Two@Example.com,2026-11-02,"asked, twice"\n')
        s = self.process_summary(path, '--list')
        self.assertCounts(s, counts(records=2, unsubscribes=2))
        self.assertEqual(self.show('x.two@example.com')['status'],
                         'unsubscribed')

    def test_list_with_bad_address(self):
        path = self.write_file('list.csv', 'good.one@example.com\n'
                                           'not an address\n'
                                           'good.two@example.org\n')
        res = self.process(path)
        self.assertCounts(summaries(res.out)[path],
                          counts(records=2, unsubscribes=2, bad=1))
        self.assertIn('%s:2: bad record' % path, res.err)

    def test_header_switch_mid_file(self):
        path = self.write_file('acct-switch.csv', (
            'type,timeLogged,rcpt,bounceCat,dsnStatus,dsnDiag\r\n'
            'b,2026-11-24 08:00:00+0000,first@example.com,bad-mailbox,5.1.1,'
            'smtp;550 5.1.1 unknown\r\n'
            'type,rcpt,dsnDiag,timeLogged,bounceCat,dsnStatus,feedbackType\r\n'
            'b,second@example.com,"smtp;552 5.2.2 full, sorry",'
            '2026-11-24 09:00:00+0000,quota-issues,5.2.2,\r\n'
            'f,third@example.com,,2026-11-24 10:00:00+0000,,,abuse\r\n'
            'TYPE,RCPT,TIMELOGGED,BounceCat\r\n'
            'rb,fourth@example.com,2026-11-24 11:00:00+0000,bad-domain\r\n'))
        s = self.process_summary(path)
        self.assertCounts(s, counts(records=4, hard=2, soft=1, complaints=1))
        self.assertEqual(self.statuses(), {
            'first@example.com': 'hard', 'second@example.com': 'soft',
            'third@example.com': 'complained', 'fourth@example.com': 'hard'})
        sec = self.show('second@example.com')
        self.assertEqual(sec['updated'], '2026-11-24T09:00:00Z')
        self.assertEqual(sec['last_soft']['dsn_diag'],
                         'smtp;552 5.2.2 full, sorry')
        self.assertEqual(sec['last_soft']['line'], 4)
        four = self.show('fourth@example.com')
        self.assertEqual(four['reason']['time'], '2026-11-24T11:00:00Z')
        self.assertEqual(four['reason']['category'], 'bad-domain')
        self.assertEqual(four['reason']['line'], 7)

    def test_comment_lines_and_rows_of_another_layout(self):
        # a comment before everything, a header written as "#type,...",
        # a new header whose rows were written in the old layout: the
        # comments are passed over, the rows of another width are bad
        # lines, and the sender in their third column is nobody's bounce
        path = self.write_file('acct-layouts.csv', (
            '# PowerMTA accounting, mta1\r\n'
            '#type,timeLogged,orig,rcpt,dsnStatus,dsnMTA,bounceCat\r\n'
            'b,2026-11-24 08:00:00,news@example.com,first@example.com,'
            '5.1.1 (bad destination mailbox address),,bad-mailbox\r\n'
            '# rotated\n'
            'type,timeLogged,rcpt,bounceCat\n'
            'b,2026-11-24 09:00:00+0000,second@example.com,bad-domain\n'
            'b,2026-11-24 09:30:00+0000,news@example.com,third@example.com,'
            '5.1.1,,bad-mailbox\n'))
        res = self.process(path)
        s = summaries(res.out)[path]
        self.assertCounts(s, counts(records=2, hard=2, bad=1))
        bad = [l for l in res.err.splitlines() if 'bad record' in l]
        self.assertEqual(len(bad), 1, res)
        self.assertIn('%s:7: bad record: 7 fields where the header line '
                      '(line 5) has 4' % path, bad[0])
        self.assertEqual(self.statuses(), {'first@example.com': 'hard',
                                           'second@example.com': 'hard'})
        self.assertStatus('first@example.com', 'hard',
                          updated='2026-11-24T08:00:00Z')

    def test_dsn_fallback_classes(self):
        rows = [
            ('expired-511@example.com', 'message-expired', '', 'smtp;550 5.1.1 no such user'),
            ('expired-447@example.com', 'message-expired', '4.4.7', ''),
            ('nocat-521@example.com', '', '5.2.1', ''),
            ('nocat-544@example.com', '', '', 'smtp;554 5.4.4 unable to route'),
            ('nocat-571@example.com', '', '5.7.1', 'smtp;550 5.7.1 denied'),
            ('nocat-200@example.com', '', '2.0.0', 'smtp;250 2.0.0 ok'),
            ('nocat-none@example.com', '', '', 'connection lost'),
            ('custom-552@example.com', 'my-own-category', '5.2.2', ''),
            ('CaseCat@example.com', 'BAD-MAILBOX', '', ''),
        ]
        text = 'type,timeLogged,rcpt,bounceCat,dsnStatus,dsnDiag\n'
        for addr, cat, st, diag in rows:
            text += 'b,2026-11-24 08:00:00+0000,%s,%s,%s,"%s"\n' % (
                addr, cat, st, diag)
        path = self.write_file('acct-dsn.csv', text)
        s = self.process_summary(path)
        self.assertCounts(s, counts(records=9, hard=4, soft=4, ignored=1))
        self.assertEqual(self.statuses(), {
            'expired-511@example.com': 'hard',
            'expired-447@example.com': 'soft',
            'nocat-521@example.com': 'hard',
            'nocat-544@example.com': 'hard',
            'nocat-571@example.com': 'soft',
            'nocat-none@example.com': 'soft',
            'custom-552@example.com': 'soft',
            'casecat@example.com': 'hard',
        })

    def test_feedback_types(self):
        """abuse (or no type) is a complaint by default; fraud and virus
        report a mail that may only have forged our domain, recorded only
        as not-spam, auth-failure and other are"""
        text = 'type,timeLogged,rcpt,feedbackType,format\n'
        for i, ft in enumerate(('abuse', '', 'fraud', 'virus', 'not-spam',
                                'auth-failure', 'other')):
            text += 'f,2026-11-24 08:00:0%d+0000,fbl%d@example.com,%s,arf\n' % (
                i, i, ft)
        path = self.write_file('acct-fbl.csv', text)
        s = self.process_summary(path)
        self.assertCounts(s, counts(records=7, complaints=2, ignored=5))
        st = self.statuses()
        self.assertEqual([st['fbl%d@example.com' % i] for i in range(7)],
                         ['complained'] * 2 + ['active'] * 5)

    def test_bad_lines_do_not_fail_the_run(self):
        path = self.write_file('acct-bad.csv', (
            'type,timeLogged,rcpt,bounceCat,dsnStatus\n'
            'b,2026-11-24 08:00:00+0000,ok1@example.com,bad-mailbox,5.1.1\n'
            'b,2026-11-24 08:00:01+0000,nobody,bad-mailbox,5.1.1\n'
            'b,yesterday at noon,ok2@example.com,bad-mailbox,5.1.1\n'
            ',2026-11-24 08:00:03+0000,ok3@example.com,bad-mailbox,5.1.1\n'
            'b,2026-11-24 08:00:04+0000,ok4@example.com,quota-issues,5.2.2\n'))
        res = self.process(path)
        self.assertCounts(summaries(res.out)[path],
                          counts(records=2, hard=1, soft=1, bad=3))
        for line in (3, 4, 5):
            self.assertRegex(res.err, r'(?m)^.*warning.*%s:%d: bad record: .+$'
                             % (re.escape(path), line))
        self.assertEqual(self.statuses(), {'ok1@example.com': 'hard',
                                           'ok4@example.com': 'soft'})

    def test_missing_input_others_taken(self):
        missing = os.path.join(self.dir, 'no-such-file.csv')
        path = self.copy_sample(SAMPLE_HEADER)
        res = self.process(missing, path, rc=EX_NOINPUT)
        self.assertIn(missing, res.err)
        s = summaries(res.out)
        self.assertCounts(s[path], HEADER_COUNTS)
        self.assertNotIn(missing, s)
        self.assertEqual(self.statuses(), HEADER_STATUSES)
        # a directory is not an input either
        res = self.process(self.spool, rc=EX_NOINPUT)

    def test_summary_reader_gone_inputs_taken(self):
        # bounced process A B | head -1: the reader of stdout goes away;
        # every input is taken all the same, and stderr says the
        # summaries were lost (a pipe with no reader from the start:
        # every write to it fails)
        a = self.copy_sample(SAMPLE_HEADER)
        b = self.copy_data(UNSUB_LIST)
        r, w = os.pipe()
        os.close(r)
        try:
            p = subprocess.run([self.bounced, '-c', self.config, 'process',
                                a, b], stdout=w, stderr=subprocess.PIPE,
                               cwd=self.dir, env=self.env(), timeout=120)
        finally:
            os.close(w)
        err = p.stderr.decode('utf-8', 'replace')
        self.assertEqual(p.returncode, EX_OK, err)    # not SIGPIPE
        self.assertIn('bounced: the summaries could not all be written to '
                      'stdout (Broken pipe); what was taken is in the state '
                      'all the same', err)
        st = self.statuses()
        self.assertEqual(st['alice.moreau@example.com'], 'hard')
        self.assertEqual(st['g.weber@example.net'], 'unsubscribed')

    def test_path_too_long_for_the_state_others_taken(self):
        # an absolute path longer than the state's keys (511 bytes): the
        # input's error, said as such; the inputs after it are taken
        deep = self.dir
        while len(deep) < 600:
            deep = os.path.join(deep, 'd' * 60)
        os.makedirs(deep)
        far = os.path.join(deep, 'acct.csv')
        with open(os.path.join(SAMPLES, SAMPLE_HEADER), 'rb') as f:
            data = f.read()
        with open(far, 'wb') as f:
            f.write(data)
        path = self.copy_sample(SAMPLE_HEADER)
        res = self.process(far, path, rc=EX_NOINPUT)
        self.assertIn("'%s' cannot be taken: its absolute path (%d bytes) "
                      "is longer than the state can record; move it, or "
                      "link it, under a shorter path" % (far, len(far)),
                      res.err)
        s = summaries(res.out)
        self.assertNotIn(far, s)
        self.assertCounts(s[path], HEADER_COUNTS)
        self.assertEqual(self.statuses(), HEADER_STATUSES)

    def test_usage_errors(self):
        self.assertRc(self.run_bounced('process', '--no-such-option'), EX_USAGE)
        self.assertRc(self.run_bounced('no-such-command'), EX_USAGE)
        res = self.run_bounced('--help')
        self.assertRc(res, EX_OK)
        self.assertIn('process', res.out)
        res = self.run_bounced('--version')
        self.assertRc(res, EX_OK)
        self.assertRegex(res.out, r'^bounced \d+\.\d+')


class TestNotAccounting(BouncedTestCase):
    """A file that is no accounting file is told from its first rows:
    process exits 65 saying why, and records nothing of it."""

    HDR = 'type,timeLogged,orig,rcpt,dsnStatus,dsnDiag,bounceCat\n'

    def bounce(self, i, t='b'):
        return ('%s,2026-11-24 10:00:00+0000,news@example.com,u%d@example.com,'
                '5.1.1,smtp;550 5.1.1 unknown,bad-mailbox\n' % (t, i))

    def assertNothingRecorded(self):
        self.assertEqual(self.ctl_json('files'), [])
        self.assertEqual(self.statuses(), {})
        self.assertEqual(self.ctl_json('stats')['counters']['records'], 0)

    def test_other_csv_refused_whatever_follows(self):
        # an export of another program: no PowerMTA header; rows that
        # would read as hard bounces in acct-fields order follow
        rows = ''.join('b,2026-11-24 10:00:00+0000,x,vm,o@example.com,'
                       'r%d@example.com\n' % i for i in range(5000))
        path = self.write_file('export.csv', 'name,email\n' + rows)
        res = self.process('-q', path, rc=EX_DATAERR)
        self.assertIn("%s: not a PowerMTA accounting file: no header line, "
                      "and its first row (line 1) does not fit [bounced] "
                      "acct-fields: its type column holds 'name', not a "
                      "record type PowerMTA writes" % path, res.err)
        self.assertIn('nothing of it was taken', res.err)
        self.assertNotIn(path + ':', res.out)      # no summary line
        self.assertNothingRecorded()

    def test_binary_file_refused(self):
        path = self.write_file('blob.bin', bytes(
            (i * 7919 + 13) % 256 for i in range(30000)))
        res = self.process(path, rc=EX_DATAERR)
        self.assertIn('%s: not a PowerMTA accounting file: no header line, '
                      'and its first row (line 1) ' % path, res.err)
        self.assertNothingRecorded()

    def test_no_known_type_in_the_first_rows(self):
        # a header line, then 100 rows of no PowerMTA type: refused,
        # although bounces follow
        text = self.HDR + ''.join(self.bounce(i, 'zz') for i in range(100)) \
            + ''.join(self.bounce(i) for i in range(100, 150))
        path = self.write_file('odd.csv', text)
        res = self.process(path, rc=EX_DATAERR)
        self.assertIn('%s: not a PowerMTA accounting file: none of its first '
                      '100 rows (to line 101) is a record of a type PowerMTA '
                      'writes (d, b, rb, f, t, tq, r, rs)' % path, res.err)
        self.assertNothingRecorded()
        # a short file of such rows only: refused at its end
        path = self.write_file('short.csv', self.HDR + ''.join(
            self.bounce(i, 'zz') for i in range(3)))
        res = self.process(path, rc=EX_DATAERR)
        self.assertIn('%s: not a PowerMTA accounting file: none of its 3 '
                      'rows' % path, res.err)
        self.assertNothingRecorded()

    def test_accounting_files_still_taken(self):
        # 99 rows of an unknown type, then a bounce: an accounting file;
        # the rows of no type PowerMTA writes are bad lines, said (they
        # were counted among the records skipped without a word)
        text = self.HDR + ''.join(self.bounce(i, 'zz') for i in range(99)) \
            + self.bounce(99)
        path = self.write_file('late.csv', text)
        res = self.process(path)
        s = summaries(res.out)[path]
        self.assertEqual((s['records'], s['skipped'], s['bad'], s['hard']),
                         (1, 0, 99, 1))
        self.assertIn("%s:2: bad record: record type 'zz' is none PowerMTA "
                      "writes (d, b, rb, f, t, tq, r, rs)" % path, res.err)
        # a header line only, and an empty file: nothing to take, no error
        self.process_summary(self.write_file('hdr.csv', self.HDR))
        self.process_summary(self.write_file('empty.csv', ''))
        # the refused file beside good ones: they are taken, exit 65
        bad = self.write_file('notes.txt', 'hello,world\n')
        good = self.write_file('good.csv', self.HDR + self.bounce(1000))
        res = self.process(bad, good, rc=EX_DATAERR)
        self.assertIn(good, summaries(res.out))
        self.assertEqual(self.statuses()['u1000@example.com'], 'hard')
        files = sorted(os.path.basename(f['key'])
                       for f in self.ctl_json('files'))
        self.assertNotIn('notes.txt', files)
        self.assertIn('good.csv', files)

    def test_list_without_address_refused(self):
        # --list on an accounting file: no address in its rows, refused
        # with the hint to drop --list; nothing recorded, so the file is
        # taken as what it is afterwards
        path = self.write_file('acct.csv', self.HDR + ''.join(
            self.bounce(i) for i in range(3)))
        res = self.process('--list', path, rc=EX_DATAERR)
        self.assertIn('%s: no address list: none of its 4 rows is an '
                      'address (it looks like a PowerMTA accounting file: '
                      'process it without --list); nothing of it was taken'
                      % path, res.err)
        self.assertNotIn('bad record', res.err)
        self.assertNothingRecorded()
        s = self.process_summary(path)
        self.assertEqual((s['records'], s['hard']), (3, 3), s)
        # none of the first 100 rows an address: refused, though one
        # follows; from stdin too
        path = self.write_file('words.txt', ''.join(
            'word%d\n' % i for i in range(100)) + 'late@example.com\n')
        res = self.process('--list', path, rc=EX_DATAERR)
        self.assertIn('%s: no address list: none of its first 100 rows (to '
                      'line 100) is an address; nothing' % path, res.err)
        res = self.process('--list', '-', stdin='hello\nworld\n',
                           rc=EX_DATAERR)
        self.assertIn('no address list: none of its 2 rows', res.err)
        self.assertNotIn('late@example.com', self.statuses())

    def test_list_with_bad_lines_before_the_first_address(self):
        # 99 bad lines, then an address: a list; its bad lines are said
        # and counted, in order
        path = self.write_file('late.txt', ''.join(
            'word%d\n' % i for i in range(99)) + 'late@example.com\nx\n')
        res = self.process('--list', path)
        self.assertCounts(summaries(res.out)[path],
                          counts(records=1, unsubscribes=1, bad=100))
        lines = re.findall(r'%s:(\d+): bad record: not an address'
                           % re.escape(path), res.err)
        self.assertEqual([int(n) for n in lines], list(range(1, 100)) + [101])
        self.assertEqual(self.statuses(),
                         {'late@example.com': 'unsubscribed'})


class TestProgress(BouncedTestCase):
    """A long file shows its progress: a line on a terminal (records,
    rate, percent, ETA), a log line otherwise; -q hides only the progress.
    BOUNCED_PROGRESS_MS and BOUNCED_PROGRESS_LOG_MS (test-only) shorten
    the 2 s and 30 s intervals."""

    N = 50000 if sanitized() else 150000     # a few seconds either way
    LINE = (r'(?P<name>\S+): (?P<n>\d+) records, (?P<rate>\d+)/s, +'
            r'(?P<pct>\d+)%, ETA (?P<eta>\d+:\d\d)')

    def setUp(self):
        super().setUp()
        gen = os.path.join(self.build, 'bench', 'gen_acct')
        if not os.access(gen, os.X_OK):
            self.fail('%s is missing: build it first (scons)' % gen)
        self.big = self.class_snapshot(lambda: self.generate(gen))
        self.bad = self.write_file('notes.txt', 'hello,world\n')

    def generate(self, gen):
        big = os.path.join(self.dir, 'big.csv')
        with open(big, 'wb') as f:
            subprocess.run([gen, '--mix', str(self.N), '30000'], stdout=f,
                           check=True)
        return big

    def run_on_pty(self, *args, env=None):
        """bounced ARGS with stderr on a terminal: (rc, stdout, stderr)"""
        import pty
        master, slave = pty.openpty()
        e = self.env()
        e.update(env or {})
        p = subprocess.Popen([self.bounced, '-c', self.config] + list(args),
                             cwd=self.dir, env=e, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        err = b''
        while True:
            try:
                d = os.read(master, 65536)
            except OSError:         # EIO: the other end closed
                break
            if not d:
                break
            err += d
        out = p.stdout.read()
        p.stdout.close()
        rc = p.wait(self.timeout)
        os.close(master)
        return rc, out.decode(), err.decode('utf-8', 'replace')

    def test_terminal_line_with_eta(self):
        rc, out, err = self.run_on_pty('process', self.big,
                                       env={'BOUNCED_PROGRESS_MS': '10'})
        self.assertEqual(rc, EX_OK, err)
        lines = re.findall('\r\x1b\\[K' + self.LINE, err)
        self.assertGreaterEqual(len(lines), 2, repr(err[-2000:]))
        counts = [int(m[1]) for m in lines]
        self.assertEqual(counts, sorted(counts))
        self.assertTrue(all(m[0] == self.big for m in lines))
        self.assertTrue(all(0 <= int(m[3]) <= 100 for m in lines))
        # the line is cleared once the file is read; nothing of it in the
        # summary on stdout
        self.assertIn(self.big + ': %d records' % self.N, out)
        self.assertNotIn('ETA', out)
        # not in the log either: a terminal shows it, the log does not
        self.assertNotIn('info ingest: %s: ' % self.big, err)

    def test_quiet_hides_progress_not_errors(self):
        rc, out, err = self.run_on_pty('-q', 'process', self.bad, self.big,
                                       env={'BOUNCED_PROGRESS_MS': '10',
                                            'BOUNCED_PROGRESS_LOG_MS': '10'})
        self.assertEqual(rc, EX_DATAERR, err)
        self.assertNotIn('ETA', err)
        self.assertIn('%s: not a PowerMTA accounting file' % self.bad, err)
        self.assertIn(self.big + ': %d records' % self.N, out)

    def test_log_line_without_terminal(self):
        env = self.env()
        env['BOUNCED_PROGRESS_LOG_MS'] = '10'
        p = subprocess.run([self.bounced, '-c', self.config, 'process',
                            self.big], cwd=self.dir, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=self.timeout)
        err = p.stderr.decode()
        self.assertEqual(p.returncode, EX_OK, err)
        lines = re.findall(r'info ingest: ' + self.LINE + r'\n', err)
        self.assertGreaterEqual(len(lines), 2, err[-2000:])
        self.assertNotIn('\x1b[K', err)      # no terminal line in a log
        # the default is every 30 s: nothing for a file of a few seconds
        env.pop('BOUNCED_PROGRESS_LOG_MS')
        p = subprocess.run([self.bounced, '-c', self.config, 'process',
                            '--reprocess', self.big], cwd=self.dir,
                           env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=self.timeout)
        self.assertEqual(p.returncode, EX_OK)
        self.assertNotIn('ETA', p.stderr.decode())
        # -q: errors only
        env['BOUNCED_PROGRESS_LOG_MS'] = '10'
        p = subprocess.run([self.bounced, '-c', self.config, '-q', 'process',
                            '--reprocess', self.big], cwd=self.dir,
                           env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=self.timeout)
        self.assertEqual(p.returncode, EX_OK)
        self.assertEqual(p.stderr.decode(), '')


class TestConfig(BouncedTestCase):
    """check-config and bad configurations."""

    def test_bad_config_exits_78(self):
        for classify in ({'soft-threshold': 'banana'},
                         {'soft-threshold': '0'},
                         {'soft-window': 'forever'}):
            self.write_config(classify=classify)
            key = list(classify)[0]
            for args in (('check-config',), ('process', self.spool)):
                res = self.run_bounced(*args)
                self.assertRc(res, EX_CONFIG)
                self.assertIn(key, res.err)
            self.assertFalse(os.path.exists(os.path.join(self.state,
                                                         'data.mdb')))
        # a config file that does not exist
        res = self.run_prog(self.bounced, ['-c', os.path.join(self.dir, 'nope'),
                                           'check-config'], config=False)
        self.assertRc(res, EX_CONFIG)
        # and one that is not INI
        self.write_file('bounced.conf', 'this is = not [an ini\n[[[\n')
        self.assertRc(self.run_bounced('check-config'), EX_CONFIG)

    def test_unknown_key_is_a_warning(self):
        self.write_config(bounced={'no-such-key': 'x'})
        res = self.run_bounced('check-config')
        self.assertRc(res, EX_OK)
        self.assertIn('no-such-key', res.err)

    def test_check_config_masks_secrets(self):
        secrets = ('Pr1vateKeyOfMailwizz', 'ApiKeyV2Secret99',
                   'UserTokenIem123456', 'WebhookHmacSecret77')
        self.write_config(classify={'soft-threshold': '7'}, extra=(
            '\n[provider mw]\ntype = mailwizz\nsenders = *\n'
            'endpoint = https://mw.example.com/api\napi-version = 1\n'
            'public-key = pubkey0123456789\nprivate-key = %s\n'
            '\n[provider mw2]\ntype = mailwizz\nsenders = *\n'
            'endpoint = https://mw2.example.com/api\napi-version = 2\n'
            'api-key = %s\n'
            '\n[provider iem]\ntype = interspire\nsenders = *\n'
            'endpoint = https://iem.example.com/xml.php\nusername = admin\n'
            'usertoken = %s\n'
            '\n[provider hook]\ntype = webhook\nsenders = *\n'
            'url = https://hooks.example.com/bounces\nsecret = %s\n') % secrets)
        res = self.run_bounced('check-config')
        self.assertRc(res, EX_OK)
        for s in secrets:
            self.assertNotIn(s, res.out)
            self.assertNotIn(s, res.err)
        self.assertGreaterEqual(res.out.count('****'), 4, res)
        self.assertIn('pubkey0123456789', res.out)
        self.assertIn(self.spool, res.out)
        self.assertIn(self.state, res.out)
        self.assertRegex(res.out, r'(?m)^soft-threshold\s*=\s*7\s*$')
        self.assertIn('https://hooks.example.com/bounces', res.out)

    def test_provider_without_senders(self):
        self.write_config(extra='\n[provider hook]\ntype = webhook\n'
                          'url = https://hooks.example.com/bounces\n')
        res = self.run_bounced('check-config')
        self.assertRc(res, EX_CONFIG)
        self.assertIn('[provider hook] senders is required', res.err)

    def test_misspelt_key_is_named_first(self):
        # the missing senders would be an error too: the misspelling that
        # caused it is what is said
        self.write_config(extra='\n[provider hook]\ntype = webhook\n'
                          'url = https://hooks.example.com/bounces\n'
                          'sender = *\n')
        res = self.run_bounced('check-config')
        self.assertRc(res, EX_CONFIG)
        self.assertIn("unknown key 'sender': did you mean 'senders'?",
                      res.err)
        self.assertNotIn('senders is required', res.err)

    def test_config_from_environment(self):
        # without -c and $BOUNCED_CONFIG: the embedded defaults
        res = self.run_prog(self.bounced, ['check-config'], config=False)
        self.assertRc(res, EX_OK)
        self.assertNotIn(self.spool, res.out)
        env = self.env()
        env['BOUNCED_CONFIG'] = self.config
        p = subprocess.run([self.bounced, 'check-config'], cwd=self.dir,
                           env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(self.spool, p.stdout.decode())


if __name__ == '__main__':
    unittest.main()
