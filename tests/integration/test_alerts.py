"""test_alerts.py - what operators hear of alerts and incidents.

Two days of generated traffic (tests/data/gen_traffic.py spikes: a
complaint spike at yahoo.com, a bounce spike on campaign autumn-2, a
trickle of both everywhere) are taken by `bounced process` with a webhook
provider.  A model written here, independent of the C code, reads the
generated records itself and computes the windows of the default [alerts]
rules (docs/CONFIG.md) record by record: which alert is raised and
cleared, at which record (file:line), with which counts, volume and top
causes.  The test compares it with:
  - the alert.raised / alert.cleared events the fake webhook received,
  - the alert lines of the log, in order;
then takes the same traffic in two halves, a separate `bounced process`
per file on one state (a restart between them), and expects the same
alerts and the same `bouncectl rates` counts (none lost or doubled).
A file read again (`process --reprocess`, of itself or of a copy of its
first bytes, grown or not) counts in the rates only the records after
the offset the state had committed for it.

Incidents: the generated four-day block (gen_traffic.py block) posts one
incident.opened and one incident.closed per stored incident, with the
counts `bouncectl incidents` shows; a webhook whose events leave out
suppressions gets none of those.
"""
import calendar
import collections
import csv
import email
import email.policy
import fnmatch
import functools
import hashlib
import os
import re
import sys
import time

from harness import (ACCT_HEADER, BouncedTestCase, EX_OK, acct_rec,
                     graph_leak_check)

sys.path.insert(0, os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
from fake import smtp, webhook  # noqa: E402

# the default rules, as docs/CONFIG.md states them
DEFAULT_RULES = (
    'complaint-rate > 0.1% over 24h per destination min 1000; '
    'complaint-rate > 0.3% over 24h per destination min 1000; '
    'bounce-rate > 5% over 1h per campaign min 500; '
    'bounce-rate > 10% over 1h per campaign min 500; '
    'complaint-rate > 0.1% over 24h per campaign min 1000; '
    'sender-rate > 20% over 1h per source min 200')
CLEAR_FRACTION = 0.8
DIMS = ('campaign', 'destination', 'source', 'sender')
# the default domain groups (docs/CLASSIFY.md, [incidents] domain-groups)
GROUPS = (
    ('gmail', ('gmail.com', 'googlemail.com')),
    ('microsoft', ('outlook.*', 'hotmail.*', 'live.*', 'msn.com',
                   'windowslive.com')),
    ('yahoo', ('yahoo.*', 'ymail.com', 'rocketmail.com', 'aol.*', 'aim.com',
               'verizon.net')),
)
HARD_CATEGORIES = ('bad-mailbox', 'bad-domain', 'routing-errors',
                   'inactive-mailbox')
# the causes an alert names, in the order ties are broken
CAUSE_ORDER = (
    'bad-mailbox', 'bad-domain', 'inactive-mailbox', 'quota-issues',
    'no-answer-from-host', 'bad-connection', 'bad-configuration',
    'content-related', 'invalid-sender', 'message-expired',
    'policy-related', 'protocol-errors', 'relaying-issues',
    'routing-errors', 'spam-related', 'virus-related', 'other', 'complaint')
RULE_RE = re.compile(r'^(?P<metric>[a-z-]+) (?P<op>>=?) (?P<thr>[0-9.]+)'
                     r'(?P<pct>%?) over (?P<n>\d+)(?P<unit>[mhd]) per '
                     r'(?P<dim>[a-z]+) min (?P<min>\d+)$')


def parse_rules(spec):
    rules = []
    for text in (r.strip() for r in spec.split(';')):
        m = RULE_RE.match(text)
        assert m, text
        thr = float(m['thr']) / (100.0 if m['pct'] else 1.0)
        over = int(m['n']) * {'m': 60, 'h': 3600, 'd': 86400}[m['unit']]
        rules.append({'text': text, 'metric': m['metric'],
                      'or_equal': m['op'] == '>=', 'threshold': thr,
                      'over': over, 'dim': m['dim'],
                      'min': int(m['min'])})
    return rules


@functools.lru_cache(maxsize=None)
def group_of(dom):
    for name, pats in GROUPS:
        if any(fnmatch.fnmatchcase(dom, p) for p in pats):
            return name
    return dom


def destination(addr):
    return group_of(addr.rsplit('@', 1)[1].lower())


@functools.lru_cache(maxsize=None)
def day_start(date):
    """'YYYY-MM-DD' -> its first second, UTC"""
    return calendar.timegm(time.strptime(date, '%Y-%m-%d'))


def utc_seconds(stamp):
    """'YYYY-MM-DD HH:MM:SS', UTC -> seconds since the epoch"""
    assert stamp[10] == ' ' and stamp[13] == ':' and stamp[16] == ':', stamp
    return (day_start(stamp[:10]) + int(stamp[11:13]) * 3600 +
            int(stamp[14:16]) * 60 + int(stamp[17:19]))


def rate_of(rule, c):
    """(rate, volume) of RULE's metric over counts C"""
    attempts = c['deliveries'] + c['hard'] + c['soft']
    num, den = {
        'complaint-rate': (c['complaints'], c['deliveries']),
        'bounce-rate': (c['hard'], attempts),
        'soft-rate': (c['soft'], attempts),
        'sender-rate': (c['sender'], attempts),
    }[rule['metric']]
    return (num / den if den else 0.0), den


class Window:
    """The records of one name over the last SPAN seconds, as the rules
    count them: a window over an hour or less is whole minutes (the
    record's minute and the ones before), a longer one whole hours."""

    COUNTERS = ('deliveries', 'hard', 'soft', 'sender', 'complaints')

    def __init__(self, over):
        if over > 3600:
            self.unit, self.k = 3600, -(-over // 3600)
        else:
            self.unit, self.k = 60, min(-(-over // 60), 60)
        self.q = collections.deque()
        self.sum = dict.fromkeys(self.COUNTERS, 0)

    def add(self, slot, counts):
        self.q.append((slot, counts))
        for k, v in counts.items():
            self.sum[k] += v

    def head(self, t):
        """the window ends with T's slot: records before it leave"""
        slot = t // self.unit
        while self.q and self.q[0][0] <= slot - self.k:
            _, counts = self.q.popleft()
            for k, v in counts.items():
                self.sum[k] -= v


class Model:
    """Alerts of RULES over records fed in reading order."""

    def __init__(self, rules):
        self.rules = rules
        self.names = {}         # (dim, name) -> state
        self.transitions = []

    def state(self, dim, name):
        key = (dim, name)
        if key not in self.names:
            self.names[key] = {
                'win': {r['over']: Window(r['over']) for r in self.rules
                        if r['dim'] == dim},
                'raised': set(), 'causes': collections.defaultdict(
                    collections.Counter),
                'last': 0, 'totals': dict.fromkeys(Window.COUNTERS, 0)}
        return self.names[key]

    def feed(self, rec):
        counts = dict.fromkeys(Window.COUNTERS, 0)
        counts[rec['what']] = 1
        if rec['sender_side']:
            counts['sender'] = 1
        for dim in DIMS:
            name = rec['names'].get(dim)
            if not name:
                continue
            st = self.state(dim, name)
            st['last'] = max(st['last'], rec['time'])
            for k, v in counts.items():
                st['totals'][k] += v
            for w in st['win'].values():
                w.head(st['last'])
                w.add(rec['time'] // w.unit, counts)
            if rec['what'] != 'deliveries':
                st['causes'][rec['time'] // 3600][rec['cause']] += 1
            self.judge(dim, name, st, rec)

    def top_causes(self, st):
        hour = st['last'] // 3600
        total = collections.Counter()
        for h in (hour - 1, hour):
            total.update(st['causes'].get(h, {}))
        ranked = sorted(total.items(),
                        key=lambda kv: (-kv[1], CAUSE_ORDER.index(kv[0])))
        return [{'cause': c, 'count': n} for c, n in ranked[:3]]

    def judge(self, dim, name, st, rec):
        for i, rule in enumerate(self.rules):
            if rule['dim'] != dim:
                continue
            c = dict(st['win'][rule['over']].sum)
            rate, volume = rate_of(rule, c)
            was = i in st['raised']
            if volume < rule['min'] or volume == 0:
                up = False
            elif not was:
                up = rate >= rule['threshold'] if rule['or_equal'] else \
                    rate > rule['threshold']
            else:
                up = rate >= rule['threshold'] * CLEAR_FRACTION
            if up == was:
                continue
            (st['raised'].add if up else st['raised'].discard)(i)
            self.transitions.append({
                'event': 'alert.raised' if up else 'alert.cleared',
                'rule': rule['text'], 'dimension': dim, 'name': name,
                'rate': rate, 'volume': volume, 'counts': c,
                'causes': self.top_causes(st),
                'time': time.strftime('%Y-%m-%dT%H:%M:%SZ',
                                      time.gmtime(rec['time'])),
                'file': rec['file'], 'line': rec['line']})


# records read, by file name and content: the generated traffic is the
# same in every test that asks for its kind (read-only for the callers)
_RECORDS = {}


def read_records(path):
    """the records of accounting file PATH as the model counts them"""
    with open(path, 'rb') as f:
        key = (os.path.basename(path), hashlib.sha256(f.read()).digest())
    if key not in _RECORDS:
        _RECORDS[key] = parse_records(path)
    return _RECORDS[key]


def parse_records(path):
    out = []
    with open(path, newline='') as f:
        rows = csv.reader(f)
        header = next(rows)
        for line, row in enumerate(rows, start=2):
            r = dict(zip(header, row))
            assert r['timeLogged'].endswith('+0000'), r
            t = utc_seconds(r['timeLogged'][:19])
            kind = r['type']
            if kind == 'd':
                what, cause = 'deliveries', None
            elif kind == 'b':
                assert r['bounceCat'] in HARD_CATEGORIES, r
                what, cause = 'hard', r['bounceCat']
            elif kind == 'f':
                assert r['feedbackType'] == 'abuse', r
                what, cause = 'complaints', 'complaint'
            else:
                continue
            out.append({
                'time': t, 'what': what, 'cause': cause,
                'sender_side': False, 'file': os.path.basename(path),
                'line': line,
                'names': {'campaign': r['jobId'],
                          'destination': destination(r['rcpt']),
                          # an f record's dlvSourceIp is the MTA that
                          # sent the report: no source of ours
                          'source': '' if kind == 'f' else
                          r['dlvSourceIp'] or r['vmta'],
                          'sender': r['orig'].rsplit('@', 1)[1]}})
    return out


ALERT_LOG_RE = re.compile(
    r"alert (?P<what>raised|cleared): '(?P<rule>[^']+)': (?P<dim>\S+) "
    r"(?P<name>\S+) at [0-9.]+% of (?P<volume>\d+) .* by record "
    r"(?P<file>\S+):(?P<line>\d+)$")


class AlertsCase(BouncedTestCase):

    def start_hook(self, events, extra=''):
        hook = webhook.WebhookFake(secret='s3cret')
        hook.start()
        self.addCleanup(hook.stop)
        self.write_config(extra=(
            '\n[provider hook]\ntype = webhook\nurl = %s/events\n'
            'secret = s3cret\nsenders = *\nevents = %s\n'
            'retry-min = 50ms\nretry-max = 200ms\n' % (hook.url, events)) +
            extra)
        return hook


def comparable(e):
    """an alert event (received or modelled) as compared"""
    rec = e.get('record') or {}
    return (e['time'], os.path.basename(rec.get('file', e.get('file', ''))),
            rec.get('line', e.get('line')), e['event'], e['rule'],
            e['dimension'], e['name'], e['volume'],
            tuple(sorted(e['counts'].items())),
            tuple((c['cause'], c['count']) for c in e['causes']))


# models of the default rules, by the records they were fed (read-only
# for the tests)
_MODELS = {}


def default_model(files):
    """the Model of the default rules fed the records of FILES in order"""
    recs = [read_records(f) for f in files]
    key = tuple(id(r) for r in recs)   # read_records keeps them alive
    if key not in _MODELS:
        m = Model(parse_rules(DEFAULT_RULES))
        for rs in recs:
            for rec in rs:
                m.feed(rec)
        _MODELS[key] = m
    return _MODELS[key]


class TestAlerts(AlertsCase):
    def model(self, files):
        return default_model(files)

    def rates(self):
        got = self.ctl_json('rates', '--since', '2026-11-01 00:00:00',
                            '--limit', '0')
        return {d: sorted((r['name'], r['deliveries'], r['hard'], r['soft'],
                           r['complaints']) for r in got[d]) for d in DIMS}

    def assert_alerts(self, hook, m, log):
        got = hook.events_of('alert.')
        want = m.transitions
        self.assertEqual(sorted(comparable(e) for e in got),
                         sorted(comparable(e) for e in want))
        for e in got:
            self.assertIsInstance(e['id'], (int, float))
            self.assertAlmostEqual(e['rate'], [
                w['rate'] for w in want
                if comparable(w) == comparable(e)][0], places=12)
        self.assertEqual(len({e['id'] for e in got}), len(got))
        # the log, in reading order
        lines = [ALERT_LOG_RE.search(x) for x in log.splitlines()
                 if ' alert: alert ' in x]
        self.assertTrue(all(lines), log)
        self.assertEqual(
            [(x['what'], x['rule'], x['dim'], x['name'], int(x['volume']),
              os.path.basename(x['file']), int(x['line'])) for x in lines],
            [(w['event'].split('.')[1], w['rule'], w['dimension'],
              w['name'], w['volume'], w['file'], w['line']) for w in want])
        for x, line in zip(lines, (y for y in log.splitlines()
                                   if ' alert: alert ' in y)):
            self.assertIn('warning' if x['what'] == 'raised' else 'info',
                          line)

    def test_spikes_raise_and_clear_the_modelled_alerts(self):
        files, expect = self.gen_traffic('spikes')
        m = self.model(files)
        # the story the traffic tells is in the model: both spikes raise
        # their alerts, and every alert raised is cleared again
        up = {(w['dimension'], w['name'], w['rule'].split()[0])
              for w in m.transitions if w['event'] == 'alert.raised'}
        for a in expect['alerts']:
            self.assertIn((a['dimension'], a['name'], a['metric']), up)
        self.assertIn(('destination', 'yahoo', 'complaint-rate'), up)
        self.assertIn(('campaign', 'autumn-2', 'bounce-rate'), up)
        self.assertEqual(
            collections.Counter((w['dimension'], w['name'], w['rule'])
                                for w in m.transitions
                                if w['event'] == 'alert.raised'),
            collections.Counter((w['dimension'], w['name'], w['rule'])
                                for w in m.transitions
                                if w['event'] == 'alert.cleared'))
        hook = self.start_hook('alerts')
        res = self.process(*files)
        self.assert_alerts(hook, m, res.out + res.err)
        # events = alerts: no suppression and no incident was posted
        self.assertEqual(len(hook.events()), len(m.transitions))
        self.assertEqual(self.ctl_json('queue'), [])
        # the rates store holds every record once
        rates = self.rates()
        for d in DIMS:
            self.assertEqual(rates[d], sorted(
                (n, st['totals']['deliveries'], st['totals']['hard'],
                 st['totals']['soft'], st['totals']['complaints'])
                for (dim, n), st in m.names.items() if dim == d), d)

    def test_two_halves_with_a_restart_give_the_same(self):
        files, _ = self.gen_traffic('spikes')
        self.assertEqual(len(files), 2)
        m = self.model(files)
        hook = self.start_hook('alerts')
        log = ''
        for f in files:
            res = self.process(f)
            log += res.out + res.err
        self.assert_alerts(hook, m, log)
        halves = self.rates()
        # the same traffic at once, on a state of its own
        self.state = os.path.join(self.dir, 'state2')
        hook2 = self.start_hook('alerts')
        self.process(*files)
        self.assertEqual(self.rates(), halves)
        self.assertEqual(sorted(comparable(e)
                                for e in hook2.events_of('alert.')),
                         sorted(comparable(e)
                                for e in hook.events_of('alert.')))


def mixed_rows(hour, n):
    """N records from HOUR:00 on, of two campaigns and three
    destinations: deliveries, hard and soft bounces, a sender-side one,
    a complaint"""
    kinds = (('d', '2.0.0', 'smtp;250 ok', ''),
             ('b', '5.1.1', 'smtp;550 5.1.1 user unknown', 'bad-mailbox'),
             ('b', '4.2.2', 'smtp;452 4.2.2 mailbox full', 'quota-issues'),
             ('b', '5.7.1', 'smtp;550 5.7.1 blocked by policy',
              'policy-related'),
             ('d', '2.0.0', 'smtp;250 ok', ''),
             ('f', '', '', ''))
    rows = []
    for i in range(n):
        t, status, diag, cat = kinds[i % len(kinds)]
        rows.append(acct_rec(
            t, '2026-11-24 %02d:%02d:%02d+0000' % (hour, i // 60, i % 60),
            'news@bounces.example.com',
            'r%d-%d@%s' % (hour, i, ('gmail.com', 'example.org',
                                     'hotmail.com')[i % 3]),
            status, diag, cat, 'camp-%d' % (i // 6 % 2),
            'abuse' if t == 'f' else ''))
    return rows


class TestReadAgain(BouncedTestCase):
    """What the rates count of a file read again: the records the state
    took from it before (up to the offset it had committed for the file
    when the reading began) are not counted a second time; those after
    it are."""

    def rates(self):
        got = self.ctl_json('rates', '--since', '2026-11-01 00:00:00',
                            '--limit', '0')
        return {d: sorted((r['name'], r['deliveries'], r['hard'], r['soft'],
                           r['sender'], r['complaints']) for r in got[d])
                for d in DIMS}

    def fresh_rates(self, path):
        """the rates of PATH taken once by a state of its own"""
        state = self.state
        self.fresh = getattr(self, 'fresh', 0) + 1
        self.state = os.path.join(self.dir, 'fresh-%d' % self.fresh)
        self.write_config()
        try:
            self.process(path)
            return self.rates()
        finally:
            self.state = state
            self.write_config()

    @staticmethod
    def append(path, rows):
        with open(path, 'ab') as f:
            f.write(''.join(rows).encode())

    def test_reprocess_counts_nothing_again(self):
        text = ACCT_HEADER + ''.join(mixed_rows(10, 24))
        path = self.write_file('acct-1.csv', text)
        self.process(path)
        once = self.rates()
        self.assertEqual(sum(r[1] for r in once['campaign']), 8, once)
        self.assertEqual(sum(r[5] for r in once['campaign']), 4, once)
        s = self.process_summary(path, '--reprocess')
        self.assertEqual(s['records'], 24, s)
        self.assertEqual(self.rates(), once)
        # the same content under a name the state does not know, taken
        # again: the state took it as the first
        copy = self.write_file('copy.csv', text)
        self.process('--reprocess', copy)
        self.assertEqual(self.rates(), once)
        self.assertEqual(self.ctl_json('stats')['counters']['records'], 72)

    def test_grown_file_counts_its_new_records(self):
        path = self.write_file('acct-1.csv', ACCT_HEADER +
                               ''.join(mixed_rows(10, 24)))
        self.process(path)
        # grown: resumed at its committed offset
        self.append(path, mixed_rows(11, 12))
        self.assertEqual(self.process_summary(path)['records'], 12)
        self.assertEqual(self.rates(), self.fresh_rates(path))
        # grown again and taken from its start: the records after the
        # offset of the last reading are new, the others are not
        self.append(path, mixed_rows(12, 18))
        self.assertEqual(self.process_summary(path, '--reprocess')['records'],
                         54)
        self.assertEqual(self.rates(), self.fresh_rates(path))
        self.assertEqual(self.file_entry(path)['offset'],
                         os.path.getsize(path))


class TestIncidentEvents(AlertsCase):
    def test_block_posts_each_incident_opened_and_closed(self):
        files, x = self.gen_traffic('block')
        prom = os.path.join(self.dir, 'bounced.prom')
        hook = self.start_hook('incidents', '\n[metrics]\ntextfile = %s\n'
                               % prom)
        self.process(*files)
        incs = {i['id']: i for i in self.ctl_json('incidents')}
        self.assertTrue(incs)
        # the textfile counts them, none open at the end
        with open(prom) as f:
            text = f.read()
        self.assertIn('bounced_incidents_total{event="opened"} %d\n'
                      % len(incs), text)
        self.assertIn('bounced_incidents_total{event="closed"} %d\n'
                      % len(incs), text)
        self.assertIn('bounced_incidents_open 0\n', text)
        stats = self.ctl_json('stats')['counters']
        self.assertIn('bounced_alerts_total{event="raised"} %d\n'
                      % stats.get('alert.raised', 0), text)
        got = hook.events()
        # only incident events: suppressions are left out of `events`
        self.assertEqual(sorted({e['event'] for e in got}),
                         ['incident.closed', 'incident.opened'])
        for kind in ('incident.opened', 'incident.closed'):
            ids = [e['incident'] for e in got if e['event'] == kind]
            self.assertEqual(sorted(ids), sorted(incs), kind)
        for e in got:
            inc = incs[e['incident']]
            self.assertEqual((e['source'], e['destination']),
                             (x['source'], x['dest']))
            self.assertEqual(e['first'], inc['first'])
            self.assertEqual(e['opened'], inc['opened'])
            self.assertGreaterEqual(e['recipients'], 10)
            self.assertTrue(e['samples'])
            self.assertIn('S3150', e['samples'][0])
            if e['event'] == 'incident.opened':
                self.assertEqual(e['state'], 'open')
                self.assertIsNone(e['closed'])
                continue
            self.assertEqual(e['state'], 'closed')
            self.assertEqual(e['closed'], inc['closed'])
            for k in ('recipients', 'bounces', 'held', 'applied',
                      'dropped'):
                self.assertEqual(e[k], inc[k], k)
        closed = [e for e in got if e['event'] == 'incident.closed']
        self.assertEqual(sum(e['held'] for e in closed), len(x['held']))
        self.assertEqual(sum(e['applied'] for e in closed),
                         len(set(x['held']) - set(x['delivered_held'])))
        self.assertEqual(sum(e['dropped'] for e in closed),
                         len(x['delivered_held']))
        self.assertTrue(sum(e['protected'] for e in closed) > 0)


class TestIncidentEndedByTheOperator(AlertsCase):
    def test_discard_posts_incident_closed_once(self):
        """an incident the operator discards posts its incident.closed
        (state discarded, what it dropped) and counts as closed; the
        worker, finding it ended, posts nothing more"""
        hook = self.start_hook('incidents')
        block = ''.join(
            acct_rec('b', '2026-11-24 08:%02d:00+0000' % i,
                     'news@bounces.example.com', 'ms%02d@hotmail.com' % i,
                     '5.7.1', 'smtp;550 5.7.1 blocked (S3150)',
                     'policy-related') for i in range(12))
        held = acct_rec('b', '2026-11-24 08:20:00+0000',
                        'news@bounces.example.com', 'gone@hotmail.com',
                        '5.5.0', 'smtp;550 5.5.0 mailbox unavailable',
                        'bad-mailbox')
        self.process(self.write_file('acct-1.csv', ACCT_HEADER + block +
                                     held))
        iid, = [i['id'] for i in self.ctl_json('incidents', '--open')]
        self.assertRc(self.run_ctl('incident', 'discard', iid), EX_OK)
        # the next run sends it (the outbox), and the traffic after the
        # quiet time closes nothing twice
        late = acct_rec('b', '2026-11-24 12:00:00+0000',
                        'news@bounces.example.com', 'ms00@hotmail.com',
                        '5.7.1', 'smtp;550 5.7.1 blocked (S3150)',
                        'policy-related')
        self.process(self.write_file('acct-2.csv', ACCT_HEADER + late))
        closed = [e for e in hook.events()
                  if e['event'] == 'incident.closed']
        self.assertEqual(len(closed), 1, hook.events())
        self.assertEqual((closed[0]['incident'], closed[0]['state'],
                          closed[0]['held'], closed[0]['dropped']),
                         (iid, 'discarded', 1, 1))
        self.assertEqual(self.ctl_json('stats')['counters']
                         ['incident.closed'], 1)


class TestRateGauges(AlertsCase):
    def test_textfile_has_the_last_hours_rates(self):
        """the Prometheus textfile's rate gauges: the last hour of
        records before the newest, per destination and source, the 10
        busiest of each, computed here from the records themselves"""
        files, _ = self.gen_traffic('spikes')
        prom = os.path.join(self.dir, 'bounced.prom')
        self.write_config(extra='\n[metrics]\ntextfile = %s\n' % prom)
        self.process(*files)
        recs = [r for f in files for r in read_records(f)]
        now = max(r['time'] for r in recs)
        want = {}
        for r in recs:
            if r['time'] // 60 * 60 <= now - 3600:
                continue        # whole minutes, as the store keeps them
            for dim in ('destination', 'source'):
                if not r['names'][dim]:
                    continue    # a complaint: no source
                c = want.setdefault((dim, r['names'][dim]), {
                    'deliveries': 0, 'hard': 0, 'complaints': 0})
                c[r['what']] += 1
        got = {}
        with open(prom) as f:
            for line in f:
                m = re.match(r'^(bounced_(?:rate_attempts|bounce_rate|'
                             r'complaint_rate))\{dimension="(\w+)",'
                             r'name="([^"]+)"\} (\S+)$', line)
                if m:
                    got.setdefault((m[2], m[3]), {})[m[1]] = float(m[4])
        self.assertTrue(got)
        for dim in ('destination', 'source'):
            names = sorted((k for k in want if k[0] == dim),
                           key=lambda k: (-(want[k]['deliveries'] +
                                            want[k]['hard']), k[1]))[:10]
            self.assertEqual(sorted(k for k in got if k[0] == dim),
                             sorted(names), dim)
        for k, g in got.items():
            c = want[k]
            att = c['deliveries'] + c['hard']
            self.assertEqual(g['bounced_rate_attempts'], att, k)
            self.assertAlmostEqual(g['bounced_bounce_rate'],
                                   c['hard'] / att if att else 0, 5, k)
            self.assertAlmostEqual(
                g['bounced_complaint_rate'],
                c['complaints'] / c['deliveries'] if c['deliveries'] else 0,
                5, k)


class TestReportRates(AlertsCase):
    @graph_leak_check
    def test_report_shows_the_rates_of_the_records(self):
        """the report's rates section: the campaigns of the last 24
        hours with their attempts, and yahoo's complaint spike day by day,
        computed here from the records"""
        files, _ = self.gen_traffic('spikes')
        self.process(*files)
        out = os.path.join(self.dir, 'report')
        self.assertRc(self.run_ctl('report', '--out', out), EX_OK)
        with open(os.path.join(out, 'index.html')) as f:
            page = f.read()
        self.assertIn('<a href="#rates">', page)
        sec = page[page.index('<h2 id="rates">'):]
        sec = sec[:sec.index('<h2', 4)]
        recs = [r for f in files for r in read_records(f)]
        now = max(r['time'] for r in recs)
        att = {}
        for r in recs:
            if r['time'] // 60 * 60 > now - 86400 and \
                    r['what'] in ('deliveries', 'hard'):
                n = r['names']['campaign']
                att[n] = att.get(n, 0) + 1
        for name, n in att.items():
            self.assertIn('<tr><td>%s</td><td>%d</td>' % (name, n), sec)
        day = {}
        for r in recs:
            if r['names']['destination'] == 'yahoo':
                d = time.strftime('%m-%d', time.gmtime(r['time']))
                c = day.setdefault(d, {'deliveries': 0, 'hard': 0,
                                       'complaints': 0})
                c[r['what']] += 1
        row = re.search(r'<tr><td>yahoo</td>(.*?)</tr>', sec.split(
            'day by day')[1]).group(1)
        cells = re.findall(r'<td>(.*?)</td>', row)
        heads = re.findall(r'<th>(\d\d-\d\d)</th>', sec)
        for d, cell in zip(heads, cells):
            if d not in day:
                self.assertEqual(cell, '- / -', d)
                continue
            c = day[d]
            self.assertEqual(cell, '%.2f %% / %.2f %%' % (
                100.0 * c['hard'] / (c['deliveries'] + c['hard']),
                100.0 * c['complaints'] / c['deliveries']), d)


class TestOperatorMail(AlertsCase):
    def mail_config(self, mode):
        mta = smtp.SmtpFake().start()
        self.addCleanup(mta.stop)
        self.write_config(extra=(
            '\n[notify]\nsmtp = %s\nfrom = bounced@mx1.example.com\n'
            'to = postmaster@example.com\nmode = %s\nca-file = %s\n' %
            (mta.url, mode, smtp.CERT)))
        return mta

    def texts(self, mta):
        out = []
        for m in mta.messages():
            msg = email.message_from_bytes(m['data'],
                                           policy=email.policy.default)
            parts = list(msg.iter_parts())
            out.append((msg['Subject'],
                        parts[0].get_content().replace('\r\n', '\n'),
                        parts[1].get_content()))
        return out

    def test_incidents_mailed_one_by_one_in_event_mode(self):
        files, x = self.gen_traffic('block')
        mta = self.mail_config('event')
        self.process(*files)
        incs = self.ctl_json('incidents')
        # one mail per item: the incidents', and the alerts' of the
        # blocked source's sender-side rate
        mails = [m for m in self.texts(mta) if 'Incidents (1)' in m[1]]
        self.assertEqual(len(mails), 2 * len(incs))
        self.assertTrue(all('Alerts' not in m[1] for m in mails))
        for inc in incs:
            for what in ('opened', 'closed'):
                head = '  * incident %d %s: %s to %s' % (
                    inc['id'], what, x['source'], x['dest'])
                got = [m for m in mails if head in m[1]]
                self.assertEqual(len(got), 1, head)
                subject, text, html = got[0]
                self.assertIn('1 incident event', subject)
                self.assertIn('Incidents (1)', text)
                self.assertIn('First text: smtp;550 5.7.1', text)
                self.assertIn('S3150', text)
                self.assertIn('<h3>Incidents (1)</h3>', html)
                if what == 'closed':
                    self.assertIn('%d addresses protected' %
                                  inc['protected'], text)
                    self.assertIn('%d hard bounces held: %d applied, %d '
                                  'dropped' % (inc['held'], inc['applied'],
                                               inc['dropped']), text)

    def test_alerts_in_the_digest(self):
        files, _ = self.gen_traffic('spikes')
        m = default_model(files)
        mta = self.mail_config('digest')
        self.process(*files)
        mails = self.texts(mta)
        self.assertEqual(len(mails), 1)
        subject, text, html = mails[0]
        n = len(m.transitions)
        self.assertIn('%d alert events' % n, subject)
        self.assertIn('Alerts (%d)' % n, text)
        self.assertIn('<h3>Alerts (%d)</h3>' % n, html)
        for w in m.transitions:
            self.assertIn('  * alert %s: %s %s' % (
                w['event'].split('.')[1], w['dimension'], w['name']), text)
            self.assertIn('      Record: %s:%d' % (
                os.path.join(os.path.dirname(files[0]), w['file']),
                w['line']), text)
        self.assertIn('Rule: complaint-rate > 0.3% over 24h per destination '
                      'min 1000', text)


if __name__ == '__main__':
    import unittest
    unittest.main()
