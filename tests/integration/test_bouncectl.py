"""test_bouncectl.py - bouncectl show, list, stats, files, forget and
reevaluate over the state the two sample files of spool/acct leave (see
test_process.py for what each line of them says).

After both samples (the header one first) the state holds 17 addresses:
hard (9): alice.moreau, k.tanaka (escalated), c.okafor, j.dupont,
  s.ivanova, olga.petrova, w.kowalski, n.andersen, mixed.case
soft (5): bob.lindqvist (2 kept), r.garcia (3 kept, over 4.4 days),
  e.martin, y.sato, g.ferrari (1 each)
complained (1): m.rossi;  active (2): p.novak (not-spam), h.schmidt
  (his soft bounce cleared by a delivery)
"""
import csv
import io
import os
import re
import unittest

from harness import (BouncedTestCase, RunTestCase, SAMPLE_HEADER,
                     SAMPLE_PLAIN, EX_OK, EX_USAGE, EX_NOINPUT, EX_NOUSER,
                     counts, hard_file, summaries)

# the reading commands are the subject here: leak-checked (harness.only_reads)
CTL_LEAK_CHECK = True

HARD = {'alice.moreau@example.com', 'k.tanaka@example.net',
        'c.okafor@example.org', 'j.dupont@example-nosuch.org',
        's.ivanova@mail.example.org', 'olga.petrova@example.org',
        'w.kowalski@example.com', 'n.andersen@example.com',
        'mixed.case@example.com'}
SOFT = {'bob.lindqvist@gmail.com', 'r.garcia@hotmail.com',
        'e.martin@example.org', 'y.sato@example.com', 'g.ferrari@example.net'}
COMPLAINED = {'m.rossi@yahoo.com'}
ACTIVE = {'p.novak@outlook.com', 'h.schmidt@example.com'}
ALL = HARD | SOFT | COMPLAINED | ACTIVE

LIST_KEYS = {'address', 'status', 'soft_count', 'category', 'updated',
             'escalated', 'status_time', 'reason'}
SHOW_KEYS = LIST_KEYS | {'first_seen', 'counts', 'soft_times', 'soft_async',
                         'soft_first',
                         'soft_last', 'last_soft', 'actions', 'notice',
                         'notice_time', 'held_dropped'}
REASON_KEYS = {'kind', 'time', 'source', 'line', 'category', 'dsn_status',
               'dsn_diag', 'orig', 'vmta', 'job_id'}
COUNTS_KEYS = {'hard', 'soft', 'complaint', 'unsub', 'delivery', 'duplicate',
               'other'}
RFC3339 = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$')


class CtlTestCase(BouncedTestCase):
    """A state made of both sample files."""

    def setUp(self):
        super().setUp()
        self.a = self.copy_sample(SAMPLE_HEADER)
        self.b = self.copy_sample(SAMPLE_PLAIN)
        self.process(self.a, self.b)

    def reevaluate(self, *args):
        """bouncectl reevaluate ARGS: (changes {addr: 'x -> y'}, summary
        numbers (checked, escalated, returned), Result)"""
        res = self.run_ctl('reevaluate', *args)
        self.assertRc(res, EX_OK)
        changes = {}
        for line in res.out.splitlines():
            m = re.match(r'^(\S+@\S+): (\w+ -> \w+)$', line)
            if m:
                changes[m.group(1)] = m.group(2)
        m = re.search(r'(?m)^(\d+) records checked, (\d+) (?:would be )?'
                      r'escalated to hard, (\d+) (?:would be )?returned to '
                      r'soft', res.out)
        self.assertTrue(m, res)
        return changes, tuple(int(x) for x in m.groups()), res


class TestShow(CtlTestCase):

    def test_show_json_keys_and_values(self):
        rec = self.show('k.tanaka@example.net')
        self.assertEqual(set(rec), SHOW_KEYS)
        self.assertEqual(set(rec['counts']), COUNTS_KEYS)
        # show says where the source file is now (still in acct/ here)
        self.assertEqual(set(rec['reason']), REASON_KEYS | {'now'})
        self.assertEqual(set(rec['last_soft']), REASON_KEYS | {'now'})
        self.assertEqual(rec['reason']['now'],
                         'acct/' + os.path.basename(self.a))
        self.assertEqual(rec['status'], 'hard')
        self.assertIs(rec['escalated'], True)
        self.assertEqual(rec['soft_count'], 5)
        self.assertEqual(rec['soft_first'], '2026-11-20T06:02:40Z')
        self.assertEqual(rec['soft_last'], '2026-11-24T07:45:16Z')
        self.assertEqual(rec['first_seen'], '2026-11-20T06:02:40Z')
        self.assertEqual(rec['updated'], '2026-11-24T11:00:30Z')
        self.assertEqual(rec['category'], 'quota-issues')
        self.assertEqual(rec['reason']['source'], self.a)
        for t in rec['soft_times'] + [rec['status_time'], rec['updated']]:
            self.assertRegex(t, RFC3339)
        for act in rec['actions']:
            self.assertEqual(set(act), {'provider', 'op', 'state', 'time',
                                        'campaign'})

    def test_show_json_active_and_soft(self):
        rec = self.show('h.schmidt@example.com')
        self.assertEqual(rec['status'], 'active')
        self.assertIsNone(rec['reason'])
        self.assertEqual(rec['soft_count'], 0)
        self.assertEqual(rec['soft_times'], [])
        self.assertEqual(rec['counts']['delivery'], 1)
        self.assertEqual(rec['counts']['soft'], 1)
        rec = self.show('bob.lindqvist@gmail.com')
        self.assertEqual(rec['status'], 'soft')
        self.assertIsNone(rec['reason'])
        self.assertEqual(rec['soft_times'], ['2026-11-24T08:01:12Z',
                                             '2026-11-25T06:12:45Z'])
        self.assertEqual(rec['last_soft']['source'], self.b)
        self.assertEqual(rec['last_soft']['line'], 2)
        self.assertEqual(rec['actions'], [])

    def test_show_text(self):
        res = self.run_ctl('show', 'k.tanaka@example.net')
        self.assertRc(res, EX_OK)
        self.assertIn('k.tanaka@example.net', res.out)
        self.assertIn('hard', res.out)
        self.assertIn('escalated to hard after 5 soft bounces from '
                      '2026-11-20 06:02:40+0000 to 2026-11-24 07:45:16+0000',
                      res.out)
        self.assertIn(self.a, res.out)
        # the diagnostic's line break must not reach the terminal raw
        self.assertNotIn('quota,\n552', res.out)
        res = self.run_ctl('show', 'alice.moreau@example.com')
        self.assertRc(res, EX_OK)
        self.assertIn('bad-mailbox', res.out)
        self.assertIn('5.1.1', res.out)
        self.assertIn('%s line 3' % self.a, res.out)

    def test_show_normalises_the_argument(self):
        rec = self.show('  <K.Tanaka@Example.NET> ')
        self.assertEqual(rec['address'], 'k.tanaka@example.net')
        self.assertEqual(self.show('Mixed.Case@EXAMPLE.com')['status'], 'hard')

    def test_show_errors(self):
        res = self.run_ctl('show', 'nobody@example.com')
        self.assertRc(res, EX_NOUSER)
        self.assertIn('nobody@example.com', res.err)
        self.assertEqual(res.out, '')
        self.assertRc(self.run_ctl('show', 'not-an-address'), EX_USAGE)
        self.assertRc(self.run_ctl('show'), EX_USAGE)
        self.assertRc(self.run_ctl('show', 'a@example.com', '--format',
                                   'xml'), EX_USAGE)
        self.assertRc(self.run_ctl('no-such-command'), EX_USAGE)


class TestList(CtlTestCase):

    def test_list_json_all(self):
        arr = self.ctl_json('list')
        self.assertEqual([o['address'] for o in arr],
                         sorted(o['address'] for o in arr))
        recs = {o['address']: o for o in arr}
        self.assertEqual(set(recs), ALL)
        for o in arr:
            self.assertEqual(set(o), LIST_KEYS)
            exp = ('hard' if o['address'] in HARD else
                   'soft' if o['address'] in SOFT else
                   'complained' if o['address'] in COMPLAINED else 'active')
            self.assertEqual(o['status'], exp, o)
            if exp in ('hard', 'complained'):
                self.assertEqual(set(o['reason']), REASON_KEYS)
            else:
                self.assertIsNone(o['reason'])
            self.assertIs(o['escalated'], o['address'] == 'k.tanaka@example.net')
        self.assertEqual(recs['r.garcia@hotmail.com']['soft_count'], 3)
        self.assertEqual(recs['bob.lindqvist@gmail.com']['soft_count'], 2)
        self.assertEqual(recs['e.martin@example.org']['category'],
                         'policy-related')
        self.assertEqual(recs['m.rossi@yahoo.com']['reason']['kind'], 'f')

    def test_list_status_filters(self):
        self.assertEqual(set(self.statuses('--status', 'hard')), HARD)
        self.assertEqual(set(self.statuses('--status', 'soft')), SOFT)
        self.assertEqual(set(self.statuses('--status', 'complained')),
                         COMPLAINED)
        self.assertEqual(set(self.statuses('--status', 'active')), ACTIVE)
        self.assertEqual(self.statuses('--status', 'unsubscribed'), {})
        self.assertEqual(set(self.statuses('--status', 'suppressed')),
                         HARD | COMPLAINED)
        self.assertEqual(set(self.statuses('--status', 'soft,complained')),
                         SOFT | COMPLAINED)
        self.assertEqual(set(self.statuses('--status', 'soft', '--status',
                                           'active')), SOFT | ACTIVE)
        res = self.run_ctl('list', '--status', 'sleepy')
        self.assertRc(res, EX_USAGE)
        self.assertIn('sleepy', res.err)
        # an empty value is not "every status", nor an empty name
        for v in ('', ' ', 'hard,', ',soft', 'hard,,soft'):
            res = self.run_ctl('list', '--status', v)
            self.assertRc(res, EX_USAGE)
            self.assertEqual(res.out, '')
            self.assertIn('bouncectl: list: --status', res.err)
            self.assertRegex(res.err, 'an empty (value|name)')

    def test_list_since(self):
        # updated on 2026-11-25: every address of the second file, and
        # h.schmidt (delivery) and alice (a duplicate bounce)
        day25 = {'w.kowalski@example.com', 'bob.lindqvist@gmail.com',
                 'alice.moreau@example.com', 'e.martin@example.org',
                 'r.garcia@hotmail.com', 'h.schmidt@example.com',
                 'n.andersen@example.com', 'y.sato@example.com',
                 'mixed.case@example.com', 'g.ferrari@example.net'}
        self.assertEqual(set(self.statuses('--since', '2026-11-25')), day25)
        self.assertEqual(set(self.statuses('--since',
                                           '2026-11-24 14:00:21+0000')),
                         day25 | {'olga.petrova@example.org'})
        self.assertEqual(set(self.statuses('--since',
                                           '2026-11-24 14:00:22+0000')),
                         day25)
        self.assertEqual(set(self.statuses('--since', '1795000000')),
                         set(self.statuses('--since',
                                           '2026-11-18 08:26:40+0000')))
        self.assertEqual(set(self.statuses('--since', '36500d')), ALL)
        self.assertEqual(set(self.statuses('--since', '2026-11-25',
                                           '--status', 'hard')),
                         day25 & HARD)
        self.assertEqual(self.statuses('--since', '2030-01-01'), {})
        self.assertEqual(self.run_ctl('list', '--since', '2030-01-01',
                                      '--format', 'json').out.strip(), '[]')
        self.assertRc(self.run_ctl('list', '--since', 'next tuesday'),
                      EX_USAGE)

    def test_list_csv(self):
        raw, rows = self.ctl_csv('list')
        self.assertTrue(raw.startswith(
            'address,status,soft_count,category,updated,escalated,'
            'reason_source,reason_line,dsn_status,dsn_diag\n'), raw[:200])
        self.assertTrue(raw.endswith('\n'))
        self.assertNotIn('\r', raw)   # LF line ends, as Unix tools want
        recs = {r['address']: r for r in rows}
        self.assertEqual(set(recs), ALL)
        tk = recs['k.tanaka@example.net']
        self.assertEqual(tk['status'], 'hard')
        self.assertEqual(tk['soft_count'], '5')
        self.assertEqual(tk['escalated'], 'true')
        self.assertEqual(tk['reason_source'], self.a)
        self.assertEqual(tk['reason_line'], '25')
        self.assertEqual(tk['dsn_status'], '5.2.2')
        # a field with a line break, commas and quotes survives the trip
        self.assertEqual(
            tk['dsn_diag'],
            'smtp;552-5.2.2 The mailbox of k.tanaka@example.net is over '
            'quota,\n552 5.2.2 please ask the "postmaster" of example.net, '
            'or try again later')
        self.assertEqual(tk['updated'], '2026-11-24T11:00:30Z')
        bob = recs['bob.lindqvist@gmail.com']
        self.assertEqual((bob['status'], bob['soft_count'], bob['escalated'],
                          bob['reason_source'], bob['dsn_diag']),
                         ('soft', '2', 'false', '', ''))
        # the same rows as the JSON output
        js = self.records()
        for a, r in recs.items():
            self.assertEqual(r['status'], js[a]['status'])
            self.assertEqual(int(r['soft_count']), js[a]['soft_count'])
            self.assertEqual(r['category'], js[a]['category'] or '')
        # and filtered
        raw, rows = self.ctl_csv('list', '--status', 'complained')
        self.assertEqual([r['address'] for r in rows], ['m.rossi@yahoo.com'])

    def test_list_text(self):
        res = self.run_ctl('list')
        self.assertRc(res, EX_OK)
        for a in ALL:
            self.assertIn(a, res.out)
        res = self.run_ctl('list', '--status', 'complained')
        self.assertIn('m.rossi@yahoo.com', res.out)
        self.assertNotIn('alice.moreau@example.com', res.out)


class TestStatsFiles(CtlTestCase):

    def test_stats_json(self):
        st = self.ctl_json('stats')
        for k in ('addresses', 'undecodable', 'status', 'categories',
                  'top_domains', 'counters', 'files'):
            self.assertIn(k, st)
        self.assertEqual(st['addresses'], 17)
        self.assertEqual(st['undecodable'], 0)
        self.assertEqual(st['status'], {'active': 2, 'soft': 5, 'hard': 9,
                                        'complained': 1, 'unsubscribed': 0})
        self.assertEqual(st['files'], 2)
        c = st['counters']
        self.assertEqual({k: c[k] for k in ('records', 'hard', 'soft',
                                            'escalated', 'complaint',
                                            'unsub', 'duplicate', 'delivery',
                                            'ignored', 'skipped', 'bad')},
                         dict(records=41, hard=8, soft=15, escalated=1,
                              complaint=1, unsub=0, duplicate=4, delivery=6,
                              ignored=3, skipped=4, bad=1))
        # suppressed addresses by domain: example.com has alice, w.kowalski,
        # n.andersen and mixed.case; example.org c.okafor and olga.petrova
        doms = {d['domain']: d['count'] for d in st['top_domains']}
        self.assertEqual(doms, {'example.com': 4, 'example.org': 2,
                                'example.net': 1, 'yahoo.com': 1,
                                'example-nosuch.org': 1,
                                'mail.example.org': 1})
        self.assertEqual(st['top_domains'][0], {'domain': 'example.com',
                                                'count': 4})

    def test_stats_text(self):
        res = self.run_ctl('stats')
        self.assertRc(res, EX_OK)
        self.assertIn('hard', res.out)
        self.assertIn('9', res.out)

    def test_files(self):
        files = self.ctl_json('files')
        byk = {f['key']: f for f in files}
        self.assertEqual(set(byk), {self.a, self.b})
        self.assertEqual(byk[self.a]['records'], 30)
        self.assertEqual(byk[self.b]['records'], 11)
        for f in files:
            self.assertEqual(f['status'], 'done')
        res = self.run_ctl('files')
        self.assertRc(res, EX_OK)
        self.assertIn(self.a, res.out)

    def test_no_state_yet(self):
        self.state = self.dir + '/state-none'
        self.write_config()
        for args in (('list',), ('stats',), ('show', 'a@example.com'),
                     ('files',), ('forget', 'a@example.com'),
                     ('reevaluate',)):
            res = self.run_ctl(*args)
            self.assertRc(res, EX_NOINPUT)
            self.assertIn('state-none', res.err)


class TestEdit(CtlTestCase):

    def test_forget(self):
        res = self.run_ctl('forget', 'Alice.Moreau@example.com', '--reason',
                           'mailbox fixed')
        self.assertRc(res, EX_OK)
        self.assertEqual(res.out,
                         'alice.moreau@example.com: active again (was hard)\n')
        rec = self.show('alice.moreau@example.com')
        self.assertEqual(rec['status'], 'active')
        self.assertIsNone(rec['reason'])
        self.assertIs(rec['escalated'], False)
        self.assertEqual(rec['soft_count'], 0)
        self.assertEqual(rec['actions'], [])
        self.assertEqual(rec['counts']['hard'], 3)  # counters stay
        # a new hard bounce makes it hard again, not a duplicate
        path = self.write_file('acct-new.csv',
                               'type,timeLogged,rcpt,bounceCat,dsnStatus\n'
                               'b,2026-11-26 08:00:00+0000,'
                               'alice.moreau@example.com,bad-mailbox,5.1.1\n')
        s = self.process_summary(path)
        self.assertCounts(s, counts(records=1, hard=1))
        rec = self.show('alice.moreau@example.com')
        self.assertEqual(rec['status'], 'hard')
        self.assertEqual(rec['reason']['source'], path)
        # an escalated one loses its soft bounces too
        self.assertRc(self.run_ctl('forget', 'k.tanaka@example.net'), EX_OK)
        rec = self.show('k.tanaka@example.net')
        self.assertEqual((rec['status'], rec['soft_count'], rec['escalated']),
                         ('active', 0, False))

    def test_forget_errors(self):
        self.assertRc(self.run_ctl('forget', 'nobody@example.com'), EX_NOUSER)
        self.assertRc(self.run_ctl('forget', 'not an address'), EX_USAGE)
        self.assertRc(self.run_ctl('forget'), EX_USAGE)

    def test_reevaluate_unchanged_config(self):
        before = self.run_ctl('list', '--format', 'json').out
        changes, nums, _ = self.reevaluate()
        self.assertEqual(changes, {})
        self.assertEqual(nums[1:], (0, 0))
        self.assertEqual(self.run_ctl('list', '--format', 'json').out, before)

    def test_reevaluate_lower_then_higher_threshold(self):
        # threshold 3: r.garcia (3 soft bounces over 4.4 days) becomes hard;
        # bob (2) stays soft
        self.write_config(classify={'soft-threshold': '3'})
        before = self.run_ctl('list', '--format', 'json').out
        changes, nums, res = self.reevaluate('--dry-run')
        self.assertEqual(changes, {'r.garcia@hotmail.com': 'soft -> hard'})
        self.assertEqual(nums[1:], (1, 0))
        self.assertIn('would be', res.out)
        self.assertEqual(self.run_ctl('list', '--format', 'json').out, before)

        changes, nums, _ = self.reevaluate()
        self.assertEqual(changes, {'r.garcia@hotmail.com': 'soft -> hard'})
        self.assertEqual(nums[1:], (1, 0))
        rg = self.show('r.garcia@hotmail.com')
        self.assertEqual((rg['status'], rg['escalated'], rg['soft_count']),
                         ('hard', True, 3))
        self.assertEqual(rg['reason']['source'], self.b)
        self.assertEqual(rg['reason']['line'], 5)
        self.assertEqual(set(self.statuses('--status', 'hard')),
                         HARD | {'r.garcia@hotmail.com'})
        # a second run changes nothing
        self.assertEqual(self.reevaluate()[0], {})

        # threshold 10: both escalated addresses return to soft; direct
        # hard bounces and complaints are not touched
        self.write_config(classify={'soft-threshold': '10'})
        changes, nums, _ = self.reevaluate()
        self.assertEqual(changes, {'r.garcia@hotmail.com': 'hard -> soft',
                                   'k.tanaka@example.net': 'hard -> soft'})
        self.assertEqual(nums[1:], (0, 2))
        tk = self.show('k.tanaka@example.net')
        self.assertEqual((tk['status'], tk['escalated'], tk['soft_count']),
                         ('soft', False, 5))
        self.assertIsNone(tk['reason'])
        self.assertEqual(set(self.statuses('--status', 'hard')),
                         HARD - {'k.tanaka@example.net'})
        self.assertEqual(set(self.statuses('--status', 'complained')),
                         COMPLAINED)

    def test_reevaluate_min_span(self):
        # with a span of 5 days k.tanaka's 4 days no longer qualify
        self.write_config(classify={'soft-min-span': '5d'})
        changes, nums, _ = self.reevaluate()
        self.assertEqual(changes, {'k.tanaka@example.net': 'hard -> soft'})
        # and new bounces are judged by the new settings too
        path = self.write_file('acct-more.csv',
                               'type,timeLogged,rcpt,bounceCat\n'
                               'b,2026-11-26 09:00:00+0000,'
                               'k.tanaka@example.net,quota-issues\n')
        s = self.process_summary(path)
        self.assertCounts(s, counts(records=1, soft=1, escalated=1))
        self.assertEqual(self.show('k.tanaka@example.net')['status'], 'hard')


class TestForgetActions(RunTestCase):
    """forget cancels what the address still has queued for providers,
    and drops its dead letters (retry --all would send them)"""

    def test_forget_cancels_queued_and_dead_actions(self):
        fake = self.hook()
        self.hook_config(fake)
        # b: refused for good (a webhook's 400): a dead letter
        fake.configure(fail_status=400, fail_count=1)
        b = self.write_file('acct-b.csv', hard_file(['b@example.com']))
        self.run_bounced('process', '--drain-timeout', '2s', b)
        self.assertEqual([d['address'] for d in self.ctl_json('dead')],
                         ['b@example.com'])
        # a: the receiver is down (503): queued
        fake.configure(fail_status=503, fail_count=1000)
        a = self.write_file('acct-a.csv', hard_file(['a@example.com']))
        self.run_bounced('process', '--drain-timeout', '1s', a)
        self.assertEqual([q['address'] for q in self.queue()],
                         ['a@example.com'])
        res = self.run_ctl('forget', 'a@example.com')
        self.assertRc(res, EX_OK)
        self.assertEqual(res.out, 'a@example.com: active again (was hard); '
                         '1 queued provider action cancelled\n')
        self.assertEqual(self.queue(), [])
        res = self.run_ctl('forget', 'b@example.com')
        self.assertRc(res, EX_OK)
        self.assertEqual(res.out, 'b@example.com: active again (was hard); '
                         '1 dead letter dropped\n')
        self.assertEqual(self.ctl_json('dead'), [])
        # the receiver back: nothing more reaches it
        fake.configure(fail_count=0)
        calls = fake.received()
        self.run_bounced('process', '--drain-timeout', '2s',
                         self.write_file('acct-c.csv',
                                         hard_file(['c@example.com'])))
        self.assertEqual([e['address'] for e in fake.events()],
                         ['c@example.com'])
        self.assertEqual(fake.received(), calls + 1)


if __name__ == '__main__':
    unittest.main()
