"""test_incidents.py - sender-side incidents protect recipients.

A generated four-day block of one source (192.0.2.10) at the Microsoft
consumer domains (tests/data/gen_traffic.py block) is taken by `bounced
process`; the state is then read back with bouncectl:
  - no Microsoft recipient escalates (with [incidents] off, hundreds do:
    the test can fail);
  - hard bounces inside an incident are held, then applied when it closes,
    except those of addresses delivered to in between;
  - a Gmail 5.1.1 elsewhere is hard at once, and a recipient refusing us
    day after day with no incident still escalates;
  - taking the files one by one, each in its own process (a restart
    between each), ends in the same statuses and incidents as taking them
    all at once.
"""
import json
import os
import re
import subprocess
import time

from harness import (ACCT_HEADER, BouncedTestCase, DATA, EX_OK, EX_USAGE,
                     SLOW, RunTestCase, acct_rec, summaries)


class IncidentCase(BouncedTestCase):

    def all_statuses(self):
        return {a: (o['status'], o.get('escalated', False))
                for a, o in self.records().items()}


class TestBlock(IncidentCase):
    def test_block_escalates_nobody_and_holds_hard_bounces(self):
        files, x = self.gen_traffic('block')
        res = self.process(*files)
        total = summaries(res.out)['total']
        self.assertEqual(total['records'], x['records'])
        # the one escalation is the refuser's
        self.assertEqual(total['escalated'], 1, res.out)
        st = self.all_statuses()
        ms = set(x['microsoft'])
        held = set(x['held'])
        delivered = set(x['delivered_held'])
        for a in ms - held:
            self.assertEqual(st[a], ('active', False), a)
        # held, then applied when the incident closed ...
        for a in held - delivered:
            self.assertEqual(st[a][0], 'hard', a)
            rec = self.show(a)
            self.assertEqual(rec['reason']['dsn_status'], '5.5.0')
        # ... but not for those delivered to while it was open
        for a in delivered:
            self.assertEqual(st[a], ('active', False), a)
        for a in x['hard_now']:
            self.assertEqual(st[a], ('hard', False), a)
        self.assertEqual(st[x['refuser']], ('hard', True))

        incs = self.ctl_json('incidents')
        self.assertTrue(incs)
        for inc in incs:
            self.assertEqual((inc['source'], inc['destination']),
                             (x['source'], x['dest']))
            self.assertEqual(inc['state'], 'closed')
            self.assertGreaterEqual(inc['recipients'], 10)
            self.assertTrue(inc['samples'])
            self.assertIn('S3150', inc['samples'][0])
        self.assertEqual(sum(i['held'] for i in incs), len(held))
        self.assertEqual(sum(i['applied'] for i in incs),
                         len(held - delivered))
        self.assertEqual(sum(i['dropped'] for i in incs), len(delivered))
        stats = self.ctl_json('stats')
        counters = stats['counters']
        self.assertEqual(counters.get('incident.opened'), len(incs))
        self.assertEqual(counters.get('incident.closed'), len(incs))
        self.assertEqual(counters.get('held'), len(held))
        # the S3150 rule named the cause of every block bounce
        hits = {r['rule']: r['hits'] for r in stats['rules']}
        self.assertGreaterEqual(hits['S3150 => policy-related'],
                                sum(i['bounces'] for i in incs))
        self.assertEqual(hits['spamhaus => spam-related'], 0)

    def test_without_incidents_the_block_escalates(self):
        """the same traffic with [incidents] off: what the feature saves"""
        files, x = self.gen_traffic('block')
        self.write_config(extra='[incidents]\nenabled = no\n')
        res = self.process(*files)
        total = summaries(res.out)['total']
        self.assertGreater(total['escalated'], 100, res.out)
        st = self.all_statuses()
        self.assertGreater(sum(1 for a in x['microsoft']
                               if st[a] == ('hard', True)), 100)

    def test_reevaluate_keeps_the_protection(self):
        """reevaluate judges the soft bounces as the ingest did: those
        within an incident count for nothing (with [incidents] off it
        counts them, as the ingest then does)"""
        files, x = self.gen_traffic('block')
        # the first days: the block's soft bounces not yet reset by the
        # deliveries that come back
        self.process(*sorted(files)[:4])
        before = self.all_statuses()
        res = self.run_ctl('reevaluate')
        self.assertRc(res, EX_OK)
        self.assertIn(' 0 escalated to hard, 0 returned to soft', res.out)
        self.assertEqual(self.all_statuses(), before)
        self.write_config(extra='[incidents]\nenabled = no\n')
        res = self.run_ctl('reevaluate', '--dry-run')
        self.assertRc(res, EX_OK)
        n = int(re.search(r'(\d+) would be escalated', res.out).group(1))
        self.assertGreater(n, 100, res.out)

    def test_one_file_at_a_time_equals_all_at_once(self):
        files, x = self.gen_traffic('block')
        for f in files:
            self.process(f)
        one_by_one = self.all_statuses()
        incs = [(i['id'], i['state'], i['first'], i['opened'], i['closed'],
                 i['held'], i['applied'], i['dropped'], i['protected'])
                for i in self.ctl_json('incidents')]
        self.state = os.path.join(self.dir, 'state2')
        self.write_config()
        self.process(*files)
        self.assertEqual(self.all_statuses(), one_by_one)
        self.assertEqual([(i['id'], i['state'], i['first'], i['opened'],
                           i['closed'], i['held'], i['applied'],
                           i['dropped'], i['protected'])
                          for i in self.ctl_json('incidents')], incs)


class TestClassifyDryRun(IncidentCase):
    def test_dry_run_counts_what_a_rule_would_change(self):
        files, x = self.gen_traffic('block')
        self.process(*files)
        before = self.ctl_json('list')
        # under the configuration in force nothing changes
        res = self.ctl_json('classify', '--dry-run')
        self.assertEqual(res['would_change'], 0)
        # a rule calling the block a dead mailbox would make every
        # Microsoft address still active hard
        self.write_config(classify={'rules': 'S3150 => bad-mailbox'})
        res = self.ctl_json('classify', '--dry-run')
        st = self.statuses()
        active_ms = [a for a in x['microsoft']
                     if st[a] in ('active', 'soft')]
        self.assertEqual(res['to_hard'], len(active_ms))
        self.assertEqual(res['hard_to_soft'], 0)
        self.assertEqual(res['by_rule'], [{'rule': 'S3150 => bad-mailbox',
                                           'addresses': len(active_ms)}])
        # and the hard bounces that made the held addresses hard are not
        # hard when 5.5.0 texts are called a quota problem
        self.write_config(classify={
            'rules': 'mailbox unavailable => quota-issues'})
        res = self.ctl_json('classify', '--dry-run')
        self.assertEqual(res['hard_to_soft'],
                         len(x['held']) - len(x['delivered_held']))
        # nothing was applied
        self.assertEqual(self.ctl_json('list'), before)
        # without --dry-run: a usage error
        self.assertRc(self.run_ctl('classify'), 64)


class TestClock(RunTestCase):
    """Live records (within a day of now): an incident open when the
    traffic stopped closes by the clock once quiet, and applies what it
    holds: the worker's when it has nothing to read, `bounced process`'s
    at its end (it stayed open until a record of its pair came)."""

    def live_block(self, ago):
        """a block of 192.0.2.10 at Microsoft that ended AGO seconds
        ago, and gone@outlook.com's 5.5.0 held by it: (text, t0)"""
        t0 = int(time.time()) - ago
        stamp = lambda t: time.strftime('%Y-%m-%d %H:%M:%S+0000',
                                        time.gmtime(t))
        rows = ['type,timeLogged,orig,rcpt,dsnStatus,dsnDiag,bounceCat,'
                'dlvSourceIp,vmta']
        for i in range(12):
            rows.append('b,%s,news@example.com,ms%02d@hotmail.com,5.7.1,'
                        '"smtp;550 5.7.1 blocked (S3150)",policy-related,'
                        '192.0.2.10,ms-pool' % (stamp(t0 + i * 10), i))
        rows.append('b,%s,news@example.com,gone@outlook.com,5.5.0,'
                    '"smtp;550 5.5.0 mailbox unavailable",bad-mailbox,'
                    '192.0.2.10,ms-pool' % stamp(t0 + 200))
        return '\n'.join(rows) + '\n', t0

    def assertClosedQuiet(self, t0):
        inc = self.ctl_json('incidents')
        self.assertEqual([(i['state'], i['applied']) for i in inc],
                         [('closed', 1)])
        # closed two quiet hours after its last sender-side bounce
        self.assertEqual(inc[0]['closed'], time.strftime(
            '%Y-%m-%dT%H:%M:%SZ', time.gmtime(t0 + 110 + 7200)))
        self.assertEqual(self.show('gone@outlook.com')['status'], 'hard')

    def test_worker_clock_closes_a_quiet_incident(self):
        # taken by a process while not quiet yet (its quiet time ends 5
        # seconds later); the worker, started after that with nothing to
        # read, closes it by its clock
        text, t0 = self.live_block(7200 + 110 - 5)
        self.process(self.write_file('acct-live.csv', text))
        self.assertEqual([i['state'] for i in self.ctl_json('incidents')],
                         ['open'])
        self.assertEqual(self.show('gone@outlook.com')['status'], 'active')
        time.sleep(max(0, t0 + 110 + 7200 + 1 - time.time()))
        p = self.start('-q')
        try:
            self.wait_for(lambda: self.ctl_json('incidents') and
                          self.ctl_json('incidents', '--open') == [],
                          30 * SLOW, 'the quiet incident never closed')
        finally:
            self.stop(p)
        self.assertClosedQuiet(t0)

    def test_process_clock_closes_a_quiet_incident(self):
        text, t0 = self.live_block(3 * 3600)
        self.process(self.write_file('acct-live.csv', text))
        self.assertClosedQuiet(t0)

    def test_process_leaves_an_incident_not_quiet_yet(self):
        text, t0 = self.live_block(1800)
        self.process(self.write_file('acct-live.csv', text))
        inc = self.ctl_json('incidents', '--open')
        self.assertEqual([(i['held'], i['state']) for i in inc],
                         [(1, 'open')])
        self.assertEqual(self.show('gone@outlook.com')['status'], 'active')


    def test_a_file_from_a_clock_far_ahead_closes_nothing(self):
        # a block not quiet yet; then a file of a host whose clock is
        # years ahead (its records and its modification time in 2034):
        # neither is believed, so the incidents' clock stays, the
        # incident stays open and keeps what it holds
        text, t0 = self.live_block(1800)
        self.process(self.write_file('acct-live.csv', text))
        ahead = self.write_file(
            'acct-ahead.csv',
            'type,timeLogged,orig,rcpt,dsnStatus,dsnDiag,bounceCat,'
            'dlvSourceIp,vmta\n'
            'b,2034-01-01 00:00:00+0000,news@example.com,other@hotmail.com,'
            '4.2.2,"smtp;452 4.2.2 mailbox full",quota-issues,192.0.2.10,'
            'ms-pool\n')
        t = 2019686400          # 2034-01-01
        os.utime(ahead, (t, t))
        res = self.process(ahead)
        self.assertIn('%s: modified ' % ahead, res.err)
        self.assertIn("days after this host's clock (a clock set ahead?): "
                      'its records dated more than a day ahead are taken at '
                      "this host's time", res.err)
        inc = self.ctl_json('incidents', '--open')
        self.assertEqual([(i['held'], i['state']) for i in inc],
                         [(1, 'open')])
        self.assertEqual(self.show('gone@outlook.com')['status'], 'active')


class TestOperator(IncidentCase):
    def open_incident(self):
        """the block's first day and a half: the day-1 morning incident
        is open with its twelve held hard bounces (the deliveries that
        would drop four of them come at 09:30, later); built once for
        the class"""
        return self.class_snapshot(self.build_incident)

    def build_incident(self):
        files, x = self.gen_traffic('block')
        self.process(files[0])
        # day 1 in two files: until 09:00, then the rest
        cut = os.path.join(self.dir, 'acct-day1-morning.csv')
        rest = os.path.join(self.dir, 'acct-day1-rest.csv')
        with open(files[1]) as f, open(cut, 'w') as a, open(rest, 'w') as b:
            for i, line in enumerate(f):
                if i == 0:
                    a.write(line)
                    b.write(line)
                elif line.split(',')[1] < '2026-11-03 09:00':
                    a.write(line)
                else:
                    b.write(line)
        self.process(cut)
        files = [rest] + files[2:]
        inc = [i for i in self.ctl_json('incidents', '--open')]
        self.assertEqual(len(inc), 1, inc)
        self.assertEqual(inc[0]['held'], len(x['held']))
        for a in x['held']:
            # their day-0 block bounces are soft (not counted), the
            # hard one held
            self.assertIn(self.show(a)['status'], ('active', 'soft'))
        return files, x, inc[0]['id']  # FILES: what is left to take

    def test_release_applies_what_it_holds(self):
        files, x, iid = self.open_incident()
        # --format goes with show only: refused, nothing done
        for sub in ('release', 'discard'):
            res = self.run_ctl('incident', sub, iid, '--format', 'json')
            self.assertRc(res, EX_USAGE)
            self.assertIn('--format goes with show only', res.err)
        self.assertEqual(self.ctl_json('incident', 'show', iid)['state'],
                         'open')
        res = self.run_ctl('incident', 'release', iid)
        self.assertRc(res, EX_OK)
        self.assertIn('12 held hard bounces applied', res.out)
        for a in x['held']:
            rec = self.show(a)
            self.assertEqual((rec['status'], rec['reason']['dsn_status']),
                             ('hard', '5.5.0'), a)
        inc = self.ctl_json('incident', 'show', iid)
        self.assertEqual((inc['state'], inc['applied']), ('released', 12))
        # the rest of the traffic applies nothing twice and keeps the
        # operator's word
        self.process(*files)
        inc = self.ctl_json('incident', 'show', iid)
        self.assertEqual((inc['state'], inc['applied']), ('released', 12))
        self.assertEqual(self.ctl_json('stats')['counters']['hard'],
                         len(x['held']) + len(x['hard_now']))

    def test_discard_drops_what_it_holds(self):
        files, x, iid = self.open_incident()
        res = self.run_ctl('incident', 'discard', iid)
        self.assertRc(res, EX_OK)
        self.assertIn('12 held hard bounces dropped', res.out)
        self.process(*files)
        for a in x['held']:
            self.assertIn(self.show(a)['status'], ('active', 'soft'), a)
        inc = self.ctl_json('incident', 'show', iid)
        self.assertEqual((inc['state'], inc['dropped']), ('discarded', 12))

    def test_unknown_incident(self):
        self.process(self.copy_sample(os.listdir(
            os.path.join(os.path.dirname(DATA), '..', 'spool', 'acct'))[0]))
        res = self.run_ctl('incident', 'release', '99')
        self.assertRc(res, 67)
        self.assertIn('incident 99: no such incident', res.err)


# a sender-side block bounce at the Microsoft domains, and a bad mailbox
BLOCK_DIAG = ('smtp;550 5.7.1 Unfortunately, messages from [192.0.2.10] '
              "weren't sent. Please contact your Internet service provider "
              'since part of their network is on our block list (S3150).')
UNKNOWN_DIAG = ('smtp;550 5.5.0 Requested action not taken: mailbox '
                'unavailable (S2017062302).')


def block_rows(hour):
    """twelve recipients refused by a block from HOUR:00 on: an incident"""
    return [acct_rec('b', '2026-11-24 %02d:%02d:00+0000' % (hour, i),
                     'news@bounces.example.com', 'ms%02d@hotmail.com' % i,
                     '5.7.1', BLOCK_DIAG, 'policy-related', 'camp-1')
            for i in range(12)]


def unknown_row(when, rcpt):
    return acct_rec('b', '2026-11-24 ' + when + '+0000',
                    'news@bounces.example.com', rcpt, '5.5.0', UNKNOWN_DIAG,
                    'bad-mailbox', 'camp-1')


class TestReleasedWhileReading(IncidentCase):
    """An incident the operator releases while a pipe (or the worker)
    still reads: what the reader holds under it afterwards (its monitor
    has it open still) is applied at its next commit, not kept for a
    release that will not come; the incident is closed at its last
    record's time, not the wall clock's."""

    def test_holds_after_the_release_are_applied(self):
        p = subprocess.Popen([self.bounced, '-c', self.config, 'process',
                              '-'], stdin=subprocess.PIPE,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=self.env(),
                             text=True)
        try:
            p.stdin.write(ACCT_HEADER + ''.join(block_rows(8)))
            p.stdin.flush()
            def opened():
                res = self.run_ctl('incidents', '--open', '--format',
                                   'json')
                return res.rc == 0 and json.loads(res.out)
            self.wait_for(opened, 10 * SLOW, 'no incident opened')
            iid = self.ctl_json('incidents', '--open')[0]['id']
            res = self.run_ctl('incident', 'release', str(iid))
            self.assertRc(res, EX_OK)
            inc = self.ctl_json('incident', 'show', str(iid))
            self.assertEqual(inc['state'], 'released')
            self.assertTrue(inc['closed'].startswith('2026-11-24'), inc)
            p.stdin.write(''.join(unknown_row('08:20:%02d' % i,
                                              'hard%d@hotmail.com' % i)
                                  for i in range(3)))
            p.stdin.flush()
            self.wait_for(lambda: self.status_now('hard2@hotmail.com')
                          == 'hard', 10 * SLOW,
                          'a bounce held after the release stayed held')
        finally:
            p.stdin.close()
            p.wait(60)
        self.assertEqual(p.returncode, EX_OK)
        inc = self.ctl_json('incident', 'show', str(iid))
        self.assertEqual((inc['state'], inc['applied'], inc['held_bounces']),
                         ('released', 3, []), inc)
        for i in range(3):
            self.assertEqual(self.show('hard%d@hotmail.com' % i)['status'],
                             'hard')
        # ended already, nothing held: a second word changes nothing
        res = self.run_ctl('incident', 'discard', str(iid))
        self.assertRc(res, EX_OK)
        self.assertEqual(res.out, 'incident %d: already released, nothing '
                         'held: unchanged\n' % iid)
        self.assertEqual(self.ctl_json('incident', 'show', str(iid))['state'],
                         'released')


class TestHoldAndReleaseInOneFile(IncidentCase):
    """An incident that opens and closes in one batch: the hard bounces
    it held are applied when it closes, and nothing stays held (the
    commit need not store a hold its release deletes in the same
    transaction)."""

    def closing_row(self):
        # the pair quiet for more than [incidents] quiet (2 h)
        return acct_rec('d', '2026-11-24 13:00:00+0000',
                        'news@bounces.example.com', 'new@hotmail.com',
                        '2.0.0', 'smtp;250 ok', '', 'camp-2')

    def held_now(self, iid):
        return self.ctl_json('incident', 'show', str(iid))['held_bounces']

    def test_hold_and_release_in_one_batch(self):
        rows = block_rows(10) + [unknown_row('10:15:00', 'zed@hotmail.com'),
                                 unknown_row('10:16:00', 'amy@hotmail.com'),
                                 self.closing_row()]
        path = self.write_file('acct-1.csv', ACCT_HEADER + ''.join(rows))
        self.process(path)
        incs = self.ctl_json('incidents')
        self.assertEqual(len(incs), 1, incs)
        inc = incs[0]
        self.assertEqual((inc['state'], inc['held'], inc['applied']),
                         ('closed', 2, 2))
        self.assertEqual(self.held_now(inc['id']), [])
        for a in ('zed@hotmail.com', 'amy@hotmail.com'):
            rec = self.show(a)
            self.assertEqual((rec['status'], rec['reason']['dsn_status']),
                             ('hard', '5.5.0'), a)
        counters = self.ctl_json('stats')['counters']
        self.assertEqual((counters.get('held'), counters.get('hard')),
                         (2, 2))

    def test_a_hold_stored_before_goes_with_the_release(self):
        """zed held in a first file, its incident still open; held again
        and released in the second: the first hold leaves the store, and
        the bounce applied is the later one"""
        first = block_rows(10) + [unknown_row('10:15:00', 'zed@hotmail.com')]
        self.process(self.write_file('acct-1.csv',
                                     ACCT_HEADER + ''.join(first)))
        inc = self.ctl_json('incidents', '--open')
        self.assertEqual(len(inc), 1, inc)
        iid = inc[0]['id']
        self.assertEqual([h['address'] for h in self.held_now(iid)],
                         ['zed@hotmail.com'])
        self.assertEqual(self.show('zed@hotmail.com')['status'], 'active')
        second = [unknown_row('10:40:00', 'zed@hotmail.com'),
                  self.closing_row()]
        self.process(self.write_file('acct-2.csv',
                                     ACCT_HEADER + ''.join(second)))
        inc = self.ctl_json('incident', 'show', str(iid))
        self.assertEqual(inc['state'], 'closed')
        self.assertEqual(inc['held_bounces'], [])
        self.assertEqual(inc['applied'], 1)
        rec = self.show('zed@hotmail.com')
        self.assertEqual(rec['status'], 'hard')
        self.assertTrue(rec['reason']['time'].startswith('2026-11-24')
                        and '10:40' in rec['reason']['time'], rec)


IP_HEADER = ('type,timeLogged,orig,rcpt,dsnStatus,dsnDiag,bounceCat,vmta,'
             'jobId,dlvSourceIp\r\n')


def ip_row(t, when, rcpt, ip, status='', diag='', cat=''):
    """one record of IP_HEADER's columns, from source IP, WHEN on
    2026-11-24"""
    return '%s,2026-11-24 %s+0000,news@bounces.example.com,%s,%s,"%s",%s,' \
        'vmta1,camp-1,%s\r\n' % (t, when, rcpt, status,
                                  diag.replace('"', '""'), cat, ip)


def ip_block(ip, hour, minute=0):
    """twelve recipients refused by a block of IP from HOUR:MINUTE on"""
    return [ip_row('b', '%02d:%02d:00' % (hour, minute + i),
                   'ms%02d-%s@hotmail.com' % (i, ip[-2:]), ip, '5.7.1',
                   BLOCK_DIAG, 'policy-related') for i in range(12)]


class TestReleaseKeepsTheIngestsWord(IncidentCase):
    """A released (or discarded) incident closes where the monitor would
    have closed it, once quiet: the soft bounces the ingest kept from
    counting while it was open stay so for reevaluate."""

    def test_reevaluate_after_a_release_escalates_nobody_new(self):
        self.write_config(classify={'soft-threshold': '3',
                                    'soft-min-span': '0'})
        rows = ip_block('192.0.2.10', 8)       # 08:00-08:11, sender-side
        rows += [ip_row('b', '08:%02d:00' % (20 + i), 'prot@hotmail.com',
                        '192.0.2.10', '4.2.2', 'smtp;452 4.2.2 mailbox full',
                        'quota-issues') for i in range(3)]
        self.process(self.write_file('acct-1.csv', IP_HEADER + ''.join(rows)))
        self.assertEqual(self.show('prot@hotmail.com')['status'], 'soft')
        iid, = [i['id'] for i in self.ctl_json('incidents', '--open')]
        for sub in ('release', 'discard'):
            with self.subTest(sub=sub):
                self.assertRc(self.run_ctl('incident', sub, iid), EX_OK)
                res = self.run_ctl('reevaluate', '-n')
                self.assertRc(res, EX_OK)
                self.assertNotIn('prot@hotmail.com', res.out)
                self.assertIn(' 0 would be escalated to hard', res.out)
                inc = self.ctl_json('incident', 'show', iid)
                # the last sender-side bounce, 08:11, and quiet (2h)
                self.assertEqual(inc['closed'], '2026-11-24T10:11:00Z')


class TestReleaseAppliesWhatIsHeld(IncidentCase):
    """A release applies the held bounces the addresses still hold: not
    one of an address suppressed before it came (a duplicate then), nor
    one of an address the operator forgot since."""

    def test_release_skips_the_suppressed_and_the_forgotten(self):
        rows = [ip_row('b', '07:00:00', 'dup@hotmail.com', '192.0.2.10',
                       '5.1.1', 'smtp;550 5.1.1 user unknown', 'bad-mailbox')]
        rows += ip_block('192.0.2.10', 8)
        rows += [ip_row('b', '08:2%d:00' % i, a, '192.0.2.10', '5.5.0',
                        UNKNOWN_DIAG, 'bad-mailbox')
                 for i, a in enumerate(('dup@hotmail.com', 'gone@hotmail.com',
                                        'kept@hotmail.com'))]
        self.process(self.write_file('acct-1.csv', IP_HEADER + ''.join(rows)))
        iid, = [i['id'] for i in self.ctl_json('incidents', '--open')]
        dup = self.show('dup@hotmail.com')
        self.assertEqual(dup['status'], 'hard')
        self.assertEqual(self.show('gone@hotmail.com')['status'], 'active')
        self.assertRc(self.run_ctl('forget', 'kept@hotmail.com'), EX_OK)
        res = self.run_ctl('incident', 'release', iid)
        self.assertRc(res, EX_OK)
        self.assertIn('1 held hard bounce applied', res.out)
        self.assertEqual(self.show('gone@hotmail.com')['status'], 'hard')
        self.assertEqual(self.show('kept@hotmail.com')['status'], 'active')
        again = self.show('dup@hotmail.com')
        self.assertEqual(again['counts'], dup['counts'])
        self.assertEqual(self.ctl_json('incident', 'show', iid)['applied'], 1)


class TestReleaseWhileRunning(RunTestCase):
    """An incident released while a worker runs ends there for the next
    batch's records, as it does for a bounced process started after the
    release (the worker's monitor had it open still, and went on
    extending it with the pair's next sender-side bounces)."""

    def test_released_incident_protects_no_later_soft_bounce(self):
        self.write_config(classify={'soft-threshold': '3',
                                    'soft-min-span': '0'})
        p = self.start()
        self.drop('acct-1.csv', IP_HEADER + ''.join(ip_block('192.0.2.10',
                                                             8)))
        self.wait_for(lambda: self.ctl_json('incidents', '--open'), 10 * SLOW,
                      'no incident opened: %s' % self.log(p))
        iid, = [i['id'] for i in self.ctl_json('incidents', '--open')]
        self.assertRc(self.run_ctl('incident', 'release', iid), EX_OK)
        # two more refusals of the block (the worker's monitor had it
        # open), then three soft bounces after the quiet time of the
        # released incident (08:11 + 2h): they count
        rows = [ip_row('b', '10:%02d:00' % m, 'ms9%d@hotmail.com' % m,
                       '192.0.2.10', '5.7.1', BLOCK_DIAG, 'policy-related')
                for m in (0, 5)]
        rows += [ip_row('b', '10:%02d:00' % (30 + i), 'prot@hotmail.com',
                        '192.0.2.10', '4.2.2', 'smtp;452 4.2.2 mailbox full',
                        'quota-issues') for i in range(3)]
        self.drop('acct-2.csv', IP_HEADER + ''.join(rows))
        self.wait_for(lambda: 'acct-2.csv: 5 records' in self.log(p),
                      10 * SLOW, 'acct-2.csv not taken: %s' % self.log(p))
        self.stop(p)
        rec = self.show('prot@hotmail.com')
        self.assertEqual((rec['status'], rec.get('escalated')),
                         ('hard', True), rec)
        self.assertEqual(self.ctl_json('incident', 'show', iid)['state'],
                         'released')


class TestListsKeepTheClock(IncidentCase):
    """An address list's unsubscribes are none of the monitor's counts:
    its time (the file's) moves neither the rates' window nor the
    incidents' clock."""

    def test_a_list_after_old_records(self):
        self.process(self.write_file('acct-1.csv',
                                     ACCT_HEADER + ''.join(block_rows(10))))
        before = self.ctl_json('rates', '--since', '2026-11-01')
        lst = self.write_file('unsub.txt', 'gone1@example.com\n'
                              'gone2@example.com\n')
        self.process('--list', lst)
        self.process('--list', '--reprocess', lst)	# duplicates now
        after = self.ctl_json('rates', '--since', '2026-11-01')
        self.assertTrue(after['until'].startswith('2026-11-24'), after)
        self.assertEqual(after, before)
        # the block's incident is still open: no clock closed it
        self.assertEqual([i['state'] for i in self.ctl_json('incidents')],
                         ['open'])


class TestLongNames(IncidentCase):
    def test_destination_longer_than_an_incident_names(self):
        # a legal domain of 135 bytes: an incident could not name it (it
        # opened one that no record found again: a second opened beside
        # it, both open for ever), so it is no destination
        dom = 'a' * 60 + '.' + 'b' * 60 + '.' + 'c' * 9 + '.com'
        rows = [ip_row('b', '10:%02d:00' % i, 'u%d@%s' % (i, dom),
                       '192.0.2.10', '5.7.1', BLOCK_DIAG, 'policy-related')
                for i in range(12)]
        rows += [ip_row('b', '15:%02d:00' % i, 'v%d@%s' % (i, dom),
                        '192.0.2.10', '5.7.1', BLOCK_DIAG, 'policy-related')
                 for i in range(12)]
        self.process(self.write_file('acct-1.csv',
                                     IP_HEADER + ''.join(rows)))
        self.assertEqual(self.ctl_json('incidents'), [])
        # the rates count it as any destination
        got = self.ctl_json('rates', '--since', '2026-11-01 00:00:00',
                            '--limit', '0')
        self.assertEqual([(r['soft'], r['name'][:5])
                          for r in got['destination']], [(24, 'aaaaa')])


class TestHeldAfterTheBlock(IncidentCase):
    """What an incident holds is decided by record times, not by when a
    record of its pair comes to close it."""

    def delivered_at(self, when):
        """a block of 192.0.2.10 from 10:00 to 10:11, victim's 5.5.0 held
        by it at 10:15, victim delivered to from another source at WHEN,
        and the pair's next record at 16:00 (which closes it): the
        incidents"""
        rows = ip_block('192.0.2.10', 10) + [
            ip_row('b', '10:15:00', 'victim@hotmail.com', '192.0.2.10',
                   '5.5.0', UNKNOWN_DIAG, 'bad-mailbox'),
            ip_row('d', when, 'victim@hotmail.com', '192.0.2.30',
                   '2.0.0', 'smtp;250 ok'),
            ip_row('d', '16:00:00', 'new@hotmail.com', '192.0.2.10',
                   '2.0.0', 'smtp;250 ok')]
        self.process(self.write_file('acct-1.csv',
                                     IP_HEADER + ''.join(rows)))
        return self.ctl_json('incidents')

    def test_delivery_after_the_quiet_time_drops_nothing(self):
        # no record of the pair comes before victim is delivered to at
        # 15:00, three hours after the incident went quiet: the delivery
        # says nothing of the bounce, which is applied at the close
        incs = self.delivered_at('15:00:00')
        self.assertEqual(len(incs), 1, incs)
        self.assertEqual((incs[0]['state'], incs[0]['held'],
                          incs[0]['applied'], incs[0]['dropped']),
                         ('closed', 1, 1, 0), incs)
        self.assertEqual(self.show('victim@hotmail.com')['status'], 'hard')

    def test_delivery_while_it_lasts_drops_the_bounce(self):
        # the same delivery inside the quiet time: the address works
        incs = self.delivered_at('11:00:00')
        self.assertEqual((incs[0]['applied'], incs[0]['dropped']), (0, 1))
        self.assertEqual(self.show('victim@hotmail.com')['status'],
                         'active')

    def test_held_by_two_incidents_the_first_close_applies_it(self):
        # two sources blocked; victim's unknown-mailbox bounce is held by
        # each; the first incident closes (its source delivers again),
        # then victim takes a mail while the second is open: the close
        # applied the bounce, as its log says, and the delivery after it
        # does not revive the address
        rows = ip_block('192.0.2.10', 10) + ip_block('192.0.2.20', 10, 20)
        rows += [ip_row('b', '10:15:00', 'victim@hotmail.com',
                        '192.0.2.10', '5.5.0', UNKNOWN_DIAG, 'bad-mailbox'),
                 ip_row('b', '10:35:00', 'victim@hotmail.com',
                        '192.0.2.20', '5.5.0', UNKNOWN_DIAG, 'bad-mailbox')]
        rows += [ip_row('d', '10:40:%02d' % i, 'ok%02d@hotmail.com' % i,
                        '192.0.2.10', '2.0.0', 'smtp;250 ok')
                 for i in range(50)]
        rows.append(ip_row('d', '10:45:00', 'victim@hotmail.com',
                           '192.0.2.20', '2.0.0', 'smtp;250 ok'))
        res = self.process(self.write_file('acct-1.csv',
                                           IP_HEADER + ''.join(rows)))
        incs = {i['source']: i for i in self.ctl_json('incidents')}
        self.assertEqual(incs['192.0.2.10']['state'], 'closed', incs)
        self.assertEqual(incs['192.0.2.10']['applied'], 1, incs)
        self.assertEqual(incs['192.0.2.20']['state'], 'open', incs)
        self.assertIn('1 held bounces applied', res.err)
        rec = self.show('victim@hotmail.com')
        self.assertEqual((rec['status'], rec['reason']['dsn_status']),
                         ('hard', '5.5.0'), rec)


if __name__ == '__main__':
    import unittest
    unittest.main()


class TestWindowAcrossRestarts(IncidentCase):
    """The detector's window is state: nine recipients refused by a block
    in one run, the tenth in the next (a pipe, as PowerMTA's), and the
    incident opens at the tenth, as in one run.  Without the window
    carried over, the second run would see three recipients and open
    nothing."""

    def test_the_tenth_recipient_after_a_restart_opens(self):
        rows = block_rows(10)
        self.process(self.write_file('acct-1.csv',
                                     ACCT_HEADER + ''.join(rows[:9])))
        self.assertEqual(self.ctl_json('incidents'), [])
        res = self.run_bounced('process', '-',
                               stdin=ACCT_HEADER + ''.join(rows[9:]))
        self.assertRc(res, EX_OK)
        incs = self.ctl_json('incidents')
        self.assertEqual(len(incs), 1, incs)
        self.assertEqual(incs[0]['state'], 'open')
        self.assertIn('10:09:00', incs[0]['opened'])
        self.assertIn('10:00:00', incs[0]['first'])
        # a third run, its records past the window of the first nine:
        # the incident stays one, still open, and the state holds the
        # block's pair once
        later = [acct_rec('b', '2026-11-24 10:%02d:00+0000' % (40 + i),
                          'news@bounces.example.com',
                          'late%02d@hotmail.com' % i, '5.7.1', BLOCK_DIAG,
                          'policy-related', 'camp-1') for i in range(3)]
        self.process(self.write_file('acct-3.csv',
                                     ACCT_HEADER + ''.join(later)))
        incs = self.ctl_json('incidents')
        self.assertEqual([(i['id'], i['state']) for i in incs],
                         [(incs[0]['id'], 'open')])


class TestProtectedAcrossRestarts(IncidentCase):
    """An address an open incident protects counts once, whether its
    bounces come in one run or in two (the incident's recipients are
    state: a table of them, kept while it is open)."""

    def incidents(self):
        return [(i['state'], i['protected'], i['bounces'])
                for i in self.ctl_json('incidents')]

    def one_run_and_two(self, first, again):
        """the incidents after FIRST then AGAIN, in one process each (a
        restart between them), and after both in one process (another
        state)"""
        self.process(self.write_file('acct-1.csv',
                                     ACCT_HEADER + ''.join(first)))
        self.process(self.write_file('acct-2.csv',
                                     ACCT_HEADER + ''.join(again)))
        two_runs = self.incidents()
        self.state = os.path.join(self.dir, 'state2')
        self.write_config()
        self.process(self.write_file('acct-all.csv',
                                     ACCT_HEADER + ''.join(first + again)))
        return self.incidents(), two_runs

    def protected_entries(self):
        """the entries of the state's table of protected recipients"""
        out = subprocess.run(['mdb_stat', '-s', 'protected', self.state],
                             capture_output=True, text=True, check=True)
        m = re.search(r'Entries: (\d+)', out.stdout)
        self.assertTrue(m, out.stdout)
        return int(m.group(1))

    def test_a_recipient_protected_again_after_a_restart_counts_once(self):
        first = block_rows(10)
        again = [acct_rec('b', '2026-11-24 10:%02d:30+0000' % (20 + i),
                          'news@bounces.example.com', 'ms%02d@hotmail.com' % i,
                          '5.7.1', BLOCK_DIAG, 'policy-related', 'camp-1')
                 for i in range(12)]
        one_run, two_runs = self.one_run_and_two(first, again)
        self.assertEqual([x[:2] for x in one_run], [('open', 12)])
        self.assertEqual(two_runs, one_run)

    def test_an_open_incident_counts_its_bounces_as_they_come(self):
        # twelve more sender-side bounces while it is open: counted in
        # the stored incident (bouncectl), not only when it closes
        self.process(self.write_file('acct-1.csv',
                                     ACCT_HEADER + ''.join(block_rows(10))))
        (state, _, opened), = self.incidents()
        self.assertEqual(state, 'open')
        again = [acct_rec('b', '2026-11-24 10:%02d:30+0000' % (20 + i),
                          'news@bounces.example.com', 'ms%02d@hotmail.com' % i,
                          '5.7.1', BLOCK_DIAG, 'policy-related', 'camp-1')
                 for i in range(12)]
        self.process(self.write_file('acct-2.csv',
                                     ACCT_HEADER + ''.join(again)))
        (state, _, bounces), = self.incidents()
        self.assertEqual(state, 'open')
        self.assertEqual(bounces, opened + 12)
        shown = self.run_ctl('incident', 'show', '1')
        self.assertIn('bounces:      %d sender-side' % bounces, shown.out)

    def test_a_recipient_not_refused_by_the_block_counts_once(self):
        # a full mailbox during the block: protected, but the detector
        # keeps the recipients of sender-side bounces only
        quota = acct_rec('b', '2026-11-24 10:15:00+0000',
                         'news@bounces.example.com', 'full@hotmail.com',
                         '4.2.2', 'smtp;452 4.2.2 mailbox full',
                         'quota-issues', 'camp-1')
        again = quota.replace('10:15:00', '10:25:00')
        one_run, two_runs = self.one_run_and_two(block_rows(10) + [quota],
                                                 [again])
        self.assertEqual([x[:2] for x in one_run], [('open', 13)])
        self.assertEqual(two_runs, one_run)

    def test_a_recipient_gone_from_the_window_counts_once(self):
        # the block goes on with other recipients until the first twelve
        # are more than a window (30 minutes) old, then ms00 is refused
        # again
        later = [acct_rec('b', '2026-11-24 %02d:%02d:00+0000' % divmod(
                              10 * 60 + 20 + 5 * i, 60),
                          'news@bounces.example.com', 'late%02d@hotmail.com' % i,
                          '5.7.1', BLOCK_DIAG, 'policy-related', 'camp-1')
                 for i in range(10)]
        again = [acct_rec('b', '2026-11-24 11:10:00+0000',
                          'news@bounces.example.com', 'ms00@hotmail.com',
                          '5.7.1', BLOCK_DIAG, 'policy-related', 'camp-1')]
        one_run, two_runs = self.one_run_and_two(block_rows(10) + later,
                                                 again)
        self.assertEqual([x[:2] for x in one_run], [('open', 22)])
        self.assertEqual(two_runs, one_run)

    def test_the_table_holds_open_incidents_only(self):
        # one that opens and ends in one batch stores nothing
        quiet0 = acct_rec('b', '2026-11-24 08:30:00+0000',
                          'news@bounces.example.com', 'late0@hotmail.com',
                          '5.5.0', UNKNOWN_DIAG, 'bad-mailbox', 'camp-1')
        self.process(self.write_file('acct-0.csv', ACCT_HEADER + ''.join(
            block_rows(6)) + quiet0))
        self.assertEqual([x[0] for x in self.incidents()], ['closed'])
        self.assertEqual(self.protected_entries(), 0)
        self.process(self.write_file('acct-1.csv',
                                     ACCT_HEADER + ''.join(block_rows(10))))
        self.assertEqual([x[:2] for x in self.incidents()],
                         [('closed', 12), ('open', 12)])
        self.assertGreater(self.protected_entries(), 0)
        # a record of the pair after two quiet hours closes it
        quiet = acct_rec('b', '2026-11-24 12:30:00+0000',
                         'news@bounces.example.com', 'late@hotmail.com',
                         '5.5.0', UNKNOWN_DIAG, 'bad-mailbox', 'camp-1')
        self.process(self.write_file('acct-2.csv', ACCT_HEADER + quiet))
        self.assertEqual([x[0] for x in self.incidents()],
                         ['closed', 'closed'])
        self.assertEqual(self.protected_entries(), 0)
        # one the operator discards, one the operator releases
        for word, hour in (('discard', 14), ('release', 18)):
            self.process(self.write_file(
                'acct-%d.csv' % hour, ACCT_HEADER + ''.join(block_rows(hour))))
            incs = self.ctl_json('incidents', '--open')
            self.assertEqual(len(incs), 1)
            self.assertGreater(self.protected_entries(), 0)
            res = self.run_ctl('incident', word, str(incs[0]['id']))
            self.assertRc(res, EX_OK)
            self.assertEqual(self.protected_entries(), 0, word)

    def test_more_recipients_than_a_small_seed_count_once(self):
        # an incident opened by 300 recipients (min-recipients 300): each
        # of them bouncing again while it lasts is protected already
        self.write_config(extra='\n[incidents]\nmin-recipients = 300\n')
        rows = [acct_rec('b', '2026-11-24 10:%02d:%02d+0000' % divmod(i, 60),
                         'news@bounces.example.com', 'r%03d@hotmail.com' % i,
                         '5.7.1', BLOCK_DIAG, 'policy-related', 'camp-1')
                for r in range(2) for i in range(300)]
        self.process(self.write_file('acct-300.csv',
                                     ACCT_HEADER + ''.join(rows)))
        incs = self.ctl_json('incidents')
        self.assertEqual([(i['state'], i['protected']) for i in incs],
                         [('open', 300)])


def later_rows():
    """two days after the block, a delivery of its pair (the detector
    closes the pair), then two more days on, a record elsewhere (the
    detector forgets the pair): nothing of the block is in memory or
    the saved windows any more"""
    return ''.join(acct_rec('d', when, 'news@bounces.example.com', rcpt,
                            '2.0.0', 'smtp;250 ok', '', 'camp-9')
                   for when, rcpt in (
                       ('2026-11-26 10:00:00+0000', 'later@hotmail.com'),
                       ('2026-11-28 10:00:00+0000', 'later@gmail.com')))


class TestDroppedReadAgain(IncidentCase):
    """A hard bounce an incident held and did not apply (the operator
    discarded the incident, or a delivery to the address dropped the
    bounce) stays unapplied when its record is read again: by
    `process --reprocess`, from a copy, from the file kept beside a pipe,
    also once the incident and its detector are long gone (the block
    read again by --reprocess opens no incident: nothing holds the
    bounce, its record finds it dropped).  Each run is a process of its
    own: what keeps it is the
    address's record, read back with bouncectl.  A hard bounce of the
    address that no incident held is applied as any other."""

    ZED = 'zed@hotmail.com'

    def discarded(self):
        """the block's incident holding zed's bounce of 10:15, discarded:
        (the file, the incident's id)"""
        rows = block_rows(10) + [unknown_row('10:15:00', self.ZED)]
        path = self.write_file('acct-1.csv', ACCT_HEADER + ''.join(rows))
        self.process(path)
        iid, = [i['id'] for i in self.ctl_json('incidents', '--open')]
        res = self.run_ctl('incident', 'discard', str(iid))
        self.assertRc(res, EX_OK)
        self.assertIn('1 held hard bounce dropped', res.out)
        return path, iid

    def assertKept(self, iid, until='10:15:00', duplicates=None):
        """zed active, the bounce dropped kept on its record (show's
        JSON and text), no action asked for it, nothing counted hard"""
        rec = self.show(self.ZED)
        self.assertEqual(rec['status'], 'active', rec)
        self.assertEqual(rec['actions'], [], rec)
        self.assertEqual(rec['held_dropped'], [
            {'incident': iid, 'from': '2026-11-24T10:00:00Z',
             'to': '2026-11-24T%sZ' % until}], rec)
        if duplicates is not None:
            self.assertEqual(rec['counts']['duplicate'], duplicates, rec)
        res = self.run_ctl('show', self.ZED)
        self.assertRc(res, EX_OK)
        self.assertIn('held, dropped:  incident %d\'s source, 2026-11-24 '
                      '10:00:00+0000 to 2026-11-24 %s+0000: not applied '
                      'when read again' % (iid, until), res.out)
        self.assertEqual(self.ctl_json('stats')['counters'].get('hard', 0),
                         0)

    def test_reprocess_and_copy_apply_nothing(self):
        path, iid = self.discarded()
        self.assertKept(iid, duplicates=0)
        s = self.process_summary(path, '--reprocess')
        self.assertEqual((s['hard'], s['duplicates']), (0, 13), s)
        self.assertKept(iid, duplicates=1)
        # the same records under another name, in another order: a
        # file the state does not know
        copy = self.write_file('copy.csv', ACCT_HEADER + ''.join(reversed(
            block_rows(10) + [unknown_row('10:15:00', self.ZED)])))
        s = self.process_summary(copy)
        self.assertEqual((s['records'], s['hard']), (13, 0), s)
        self.assertKept(iid, duplicates=2)
        # a hard bounce of zed the next day was never held: applied
        self.process(self.write_file('acct-2.csv', ACCT_HEADER + unknown_row(
            '10:15:00', self.ZED).replace('2026-11-24', '2026-11-25')))
        rec = self.show(self.ZED)
        self.assertEqual((rec['status'], rec['reason']['time']),
                         ('hard', '2026-11-25T10:15:00Z'), rec)

    def test_the_pipe_and_its_file(self):
        """the records the pipe took, read again from the file PowerMTA
        kept beside it (taken by hand after a pipe failure)"""
        rows = block_rows(10) + [unknown_row('10:15:00', self.ZED)]
        res = self.process('-', stdin=ACCT_HEADER + ''.join(rows))
        self.assertEqual(summaries(res.out)['stdin']['records'], 13)
        iid, = [i['id'] for i in self.ctl_json('incidents', '--open')]
        self.assertRc(self.run_ctl('incident', 'discard', str(iid)), EX_OK)
        # the file has what the pipe missed too: a bounce elsewhere
        missed = acct_rec('b', '2026-11-24 10:20:00+0000',
                          'news@bounces.example.com', 'gone@gmail.com',
                          '5.1.1', 'smtp;550 5.1.1 user unknown',
                          'bad-mailbox', 'camp-1')
        s = self.process_summary(self.write_file(
            'acct-kept.csv', ACCT_HEADER + ''.join(rows) + missed))
        self.assertEqual((s['records'], s['hard']), (14, 1), s)
        self.assertEqual(self.show('gone@gmail.com')['status'], 'hard')
        rec = self.show(self.ZED)
        self.assertEqual((rec['status'], rec['actions']), ('active', []),
                         rec)
        # and the pipe replaying them
        self.process('-', stdin=ACCT_HEADER + ''.join(rows))
        self.assertEqual(self.show(self.ZED)['status'], 'active')

    def test_long_after_the_incident(self):
        """read again once the detector forgot the block: the records
        were taken before, and open no incident again; nothing holds
        zed's bounce, and its record keeps it unapplied.  The same
        records from a copy the state cannot tell (its first bytes
        differ) do open one, which holds the bounce anew (in the monitor
        only: the store has nothing of it) and closes at the pair's next
        record; zed stays active all the same"""
        path, iid = self.discarded()
        self.process(self.write_file('later.csv', ACCT_HEADER +
                                     later_rows()))
        self.process('--reprocess', path)
        self.assertEqual([i['state'] for i in self.ctl_json('incidents')],
                         ['discarded'])
        self.assertKept(iid, duplicates=1)
        copy = self.write_file('copy.csv', ACCT_HEADER + ''.join(reversed(
            block_rows(10) + [unknown_row('10:15:00', self.ZED)])))
        self.process(copy)
        incs = self.ctl_json('incidents')
        self.assertEqual([i['state'] for i in incs], ['discarded', 'open'])
        self.assertEqual(self.ctl_json('incident', 'show',
                                       str(incs[1]['id']))['held_bounces'],
                         [])
        self.process(self.write_file('close.csv', ACCT_HEADER + acct_rec(
            'd', '2026-11-29 10:00:00+0000', 'news@bounces.example.com',
            'next@hotmail.com', '2.0.0', 'smtp;250 ok', '', 'camp-9')))
        self.assertEqual([i['state'] for i in self.ctl_json('incidents')],
                         ['discarded', 'closed'])
        self.assertKept(iid)

    def test_dropped_by_a_delivery(self):
        """zed delivered to while the incident was open: its bounce is
        dropped, and the file read again does not apply it (the
        incident closed long before, nothing holds it)"""
        rows = block_rows(10) + [
            unknown_row('10:15:00', self.ZED),
            acct_rec('d', '2026-11-24 10:30:00+0000',
                     'news@bounces.example.com', self.ZED, '2.0.0',
                     'smtp;250 ok', '', 'camp-2'),
            acct_rec('d', '2026-11-24 13:00:00+0000',
                     'news@bounces.example.com', 'new@hotmail.com',
                     '2.0.0', 'smtp;250 ok', '', 'camp-2')]
        path = self.write_file('acct-1.csv', ACCT_HEADER + ''.join(rows))
        self.process(path)
        inc, = self.ctl_json('incidents')
        self.assertEqual((inc['state'], inc['held'], inc['dropped']),
                         ('closed', 1, 1), inc)
        self.process('--reprocess', path)
        self.assertKept(inc['id'])

    def test_release_and_an_open_incident(self):
        """read again while the incident is open, the bounce is held
        again (once); released, it is applied once, and read again after
        that it is a duplicate of the suppressed address"""
        rows = block_rows(10) + [unknown_row('10:15:00', self.ZED)]
        path = self.write_file('acct-1.csv', ACCT_HEADER + ''.join(rows))
        self.process(path)
        self.process('--reprocess', path)
        iid, = [i['id'] for i in self.ctl_json('incidents', '--open')]
        held = self.ctl_json('incident', 'show', str(iid))['held_bounces']
        self.assertEqual([h['address'] for h in held], [self.ZED])
        self.assertEqual(self.show(self.ZED)['status'], 'active')
        res = self.run_ctl('incident', 'release', str(iid))
        self.assertRc(res, EX_OK)
        self.assertIn('1 held hard bounce applied', res.out)
        self.process('--reprocess', path)
        rec = self.show(self.ZED)
        self.assertEqual((rec['status'], rec['held_dropped']), ('hard', []),
                         rec)
        self.assertEqual(len(rec['actions']), 1, rec)
        self.assertEqual(self.ctl_json('stats')['counters']['hard'], 1)


class TestReadAgainOpensNothing(IncidentCase):
    """A file read again (`process --reprocess`) up to the offset the
    state had committed for it: its records neither open nor close an
    incident, nor add to one's counts, and nothing is announced; a hard
    bounce among them that an open incident holds stays held (once), and
    the records after that offset are taken as any."""

    ZED = 'zed@hotmail.com'

    def incidents(self):
        return [(i['id'], i['state'], i['first'], i['opened'], i['closed'],
                 i['recipients'], i['bounces'], i['held'], i['applied'],
                 i['dropped'], i['protected'])
                for i in self.ctl_json('incidents')]

    def assertNothingOpened(self, res):
        self.assertNotIn(' opened: ', res.out + res.err)

    def test_open_incident_holds_what_is_read_again(self):
        rows = block_rows(10) + [unknown_row('10:15:00', self.ZED)]
        path = self.write_file('acct-1.csv', ACCT_HEADER + ''.join(rows))
        res = self.process(path)
        self.assertIn(' opened: ', res.out + res.err)
        before = self.incidents()
        (iid, state, *_), = before
        self.assertEqual((state, before[0][7]), ('open', 1), before)
        res = self.process('--reprocess', path)
        self.assertNothingOpened(res)
        self.assertEqual(self.incidents(), before)
        held = self.ctl_json('incident', 'show', str(iid))['held_bounces']
        self.assertEqual([h['address'] for h in held], [self.ZED])
        self.assertEqual(self.show(self.ZED)['status'], 'active')
        # grown, and taken from its start again: the new hard bounce is
        # held beside zed's
        with open(path, 'ab') as f:
            f.write(unknown_row('10:20:00', 'amy@hotmail.com').encode())
        res = self.process('--reprocess', path)
        self.assertNothingOpened(res)
        inc, = self.ctl_json('incidents')
        self.assertEqual((inc['id'], inc['state'], inc['held']),
                         (iid, 'open', 2), inc)
        res = self.run_ctl('incident', 'release', str(iid))
        self.assertRc(res, EX_OK)
        self.assertIn('2 held hard bounces applied', res.out)
        self.assertEqual(self.show(self.ZED)['status'], 'hard')
        self.assertEqual(self.ctl_json('stats')['counters']['hard'], 2)

    def test_closed_incident_is_not_opened_again(self):
        rows = block_rows(10) + [unknown_row('10:15:00', self.ZED)]
        path = self.write_file('acct-1.csv', ACCT_HEADER + ''.join(rows))
        self.process(path)
        self.process(self.write_file('later.csv', ACCT_HEADER +
                                     later_rows()))
        before = self.incidents()
        self.assertEqual([(i[1], i[7], i[8]) for i in before],
                         [('closed', 1, 1)], before)
        self.assertEqual(self.show(self.ZED)['status'], 'hard')
        counters = self.ctl_json('stats')['counters']
        res = self.process('--reprocess', path)
        self.assertNothingOpened(res)
        self.assertEqual(self.incidents(), before)
        rec = self.show(self.ZED)
        self.assertEqual((rec['status'], rec['held_dropped']), ('hard', []),
                         rec)
        after = self.ctl_json('stats')['counters']
        for k in ('hard', 'held', 'incident.opened', 'incident.closed'):
            self.assertEqual(after.get(k), counters.get(k), k)


class TestDiscardedWhileReading(IncidentCase):
    """An incident discarded while a pipe still reads: what the reader
    holds under it afterwards (its monitor has it open still) is dropped
    at its next commit, and kept on the addresses as the command's own
    drops are: the file of those records, taken afterwards, applies
    nothing."""

    def test_holds_after_the_discard_stay_dropped(self):
        p = subprocess.Popen([self.bounced, '-c', self.config, 'process',
                              '-'], stdin=subprocess.PIPE,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=self.env(),
                             text=True)
        late = [unknown_row('08:20:%02d' % i, 'hard%d@hotmail.com' % i)
                for i in range(3)]
        try:
            p.stdin.write(ACCT_HEADER + ''.join(block_rows(8)))
            p.stdin.flush()
            self.wait_for(lambda: self.run_ctl('incidents', '--open',
                                               '--format', 'json').out
                          not in ('', '[]\n'), 10 * SLOW,
                          'no incident opened')
            iid = self.ctl_json('incidents', '--open')[0]['id']
            self.assertRc(self.run_ctl('incident', 'discard', str(iid)),
                          EX_OK)
            p.stdin.write(''.join(late))
            p.stdin.flush()
            self.wait_for(lambda: self.ctl_json(
                'incident', 'show', str(iid))['dropped'] == 3, 10 * SLOW,
                'the holds after the discard were not dropped')
        finally:
            p.stdin.close()
            p.wait(60)
        self.assertEqual(p.returncode, EX_OK)
        inc = self.ctl_json('incident', 'show', str(iid))
        self.assertEqual((inc['state'], inc['applied'], inc['held_bounces']),
                         ('discarded', 0, []), inc)
        self.process(self.write_file('acct-kept.csv', ACCT_HEADER +
                                     ''.join(block_rows(8) + late)))
        for i in range(3):
            rec = self.show('hard%d@hotmail.com' % i)
            self.assertEqual(rec['status'], 'active', rec)
            self.assertEqual(rec['held_dropped'], [
                {'incident': iid, 'from': '2026-11-24T08:00:00Z',
                 'to': '2026-11-24T08:20:%02dZ' % i}], rec)
