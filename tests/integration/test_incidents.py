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
import glob
import json
import os
import subprocess
import sys

from harness import BouncedTestCase, DATA, EX_OK, summaries


class IncidentCase(BouncedTestCase):
    def generate(self, kind):
        out = os.path.join(self.dir, 'traffic')
        subprocess.run([sys.executable, os.path.join(DATA, 'gen_traffic.py'),
                        kind, out], check=True)
        with open(os.path.join(out, 'expect.json')) as f:
            expect = json.load(f)
        return sorted(glob.glob(os.path.join(out, 'acct-*.csv'))), expect

    def all_statuses(self):
        return {a: (o['status'], o.get('escalated', False))
                for a, o in self.records().items()}


class TestBlock(IncidentCase):
    def test_block_escalates_nobody_and_holds_hard_bounces(self):
        files, x = self.generate('block')
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

    def test_without_incidents_the_block_escalates(self):
        """the same traffic with [incidents] off: what the feature saves"""
        files, x = self.generate('block')
        self.write_config(extra='[incidents]\nenabled = no\n')
        res = self.process(*files)
        total = summaries(res.out)['total']
        self.assertGreater(total['escalated'], 100, res.out)
        st = self.all_statuses()
        self.assertGreater(sum(1 for a in x['microsoft']
                               if st[a] == ('hard', True)), 100)

    def test_one_file_at_a_time_equals_all_at_once(self):
        files, x = self.generate('block')
        for f in files:
            self.process(f)
        one_by_one = self.all_statuses()
        incs = [(i['id'], i['state'], i['first'], i['opened'], i['closed'],
                 i['held'], i['applied'], i['dropped'])
                for i in self.ctl_json('incidents')]
        self.state = os.path.join(self.dir, 'state2')
        self.write_config()
        self.process(*files)
        self.assertEqual(self.all_statuses(), one_by_one)
        self.assertEqual([(i['id'], i['state'], i['first'], i['opened'],
                           i['closed'], i['held'], i['applied'],
                           i['dropped'])
                          for i in self.ctl_json('incidents')], incs)


if __name__ == '__main__':
    import unittest
    unittest.main()
