"""test_metrics_monitor.py - the monitor in the metrics: incidents and
alerts in the RRD, its graphs and the report, and the rates charts.

  - a generated block (tests/data/gen_traffic.py block, its first day and
    a half) taken by `bounced process` feeds the RRD's incident sources:
    the report's legends (what bouncectl read back from the RRD) give the
    incidents opened and closed and the held hard bounces that bouncectl
    stats counted, and the open gauge at 1 (the afternoon incident is
    still open at the end);
  - an RRD of the layout before these sources (made here through librrd
    with ctypes, as the former bounced made it, with 120 hard bounces in
    it) is migrated in place by the same run: its hard bounces are still
    counted beside the new ones, and the new sources are fed;
  - the rate spikes of the first day of gen_traffic.py spikes raise
    alerts: the alerts panel counts them;
  - the report's hour-by-hour charts name the busiest campaigns and
    destinations with the rates computed here from the records, and the
    rest as "(other)".
"""
import ctypes
import ctypes.util
import os
import re
import time

from harness import BouncedTestCase, EX_OK, graph_leak_check
from test_alerts import read_records
from test_metrics import report_legends

# the data sources of the RRD before incidents and alerts were in it
OLD_SOURCES = ['hard', 'soft', 'escalated', 'complaint', 'unsub', 'duplicate',
               'api_ok', 'api_retry', 'api_dead', 'fbl_dsn', 'fbl_autoreply',
               'fbl_authreport', 'fbl_forward', 'fbl_notours']
OLD_ARCHIVES = ['RRA:%s:0.5:%d:%d' % (cf, ppr, rows)
                for cf in ('AVERAGE', 'MAX')
                for ppr, rows in ((1, 2880), (5, 4032), (60, 2232),
                                  (1440, 732))]


def librrd():
    """librrd through ctypes (no rrdtool program is needed)"""
    name = ctypes.util.find_library('rrd') or 'librrd.so.8'
    lib = ctypes.CDLL(name)
    argv = ctypes.POINTER(ctypes.c_char_p)
    lib.rrd_create_r.argtypes = [ctypes.c_char_p, ctypes.c_ulong,
                                 ctypes.c_long, ctypes.c_int, argv]
    lib.rrd_update_r.argtypes = [ctypes.c_char_p, ctypes.c_char_p,
                                 ctypes.c_int, argv]
    lib.rrd_get_error.restype = ctypes.c_char_p
    return lib


def c_argv(strings):
    return (ctypes.c_char_p * len(strings))(*[s.encode() for s in strings])


class MonitorMetricsCase(BouncedTestCase):

    def block_day_and_a_half(self):
        """the block's first day and the second morning (until 09:00)
        as two files: the day-1 morning incident is open at the end, with
        its held hard bounces"""
        files, x = self.gen_traffic('block')
        cut = os.path.join(self.dir, 'acct-day1-morning.csv')
        with open(files[1]) as f, open(cut, 'w') as a:
            for i, line in enumerate(f):
                if i == 0 or line.split(',')[1] < '2026-11-03 09:00':
                    a.write(line)
        self.clear_of_a_bar_edge()
        return [files[0], cut], x

    @staticmethod
    def clear_of_a_bar_edge(margin=20):
        """the legends must find the block's incidents in one bar: the
        RRD counts them at the wall-clock time of their commit, in bars of
        5 minutes (an hour on the week chart, whose edges are 5-minute
        edges too).  When the next edge is nearer than MARGIN seconds
        (taking the two files takes a few), wait until it has passed."""
        left = 300 - time.time() % 300
        if left < margin:
            time.sleep(left + 1)

    def report(self):
        out = os.path.join(self.dir, 'report')
        self.assertRc(self.run_ctl('report', '--out', out), EX_OK)
        with open(os.path.join(out, 'index.html'), encoding='utf-8') as f:
            return f.read()


class TestIncidentSources(MonitorMetricsCase):
    def rrd_last(self):
        """the RRD's last update time (librrd's rrd_last_r), or None"""
        lib = librrd()
        lib.rrd_last_r.argtypes = [ctypes.c_char_p]
        lib.rrd_last_r.restype = ctypes.c_long
        t = lib.rrd_last_r(os.path.join(self.state, 'bounced.rrd').encode())
        return None if t < 0 else t

    def check_incident_legends(self, html, x):
        counters = self.ctl_json('stats')['counters']
        opened, closed = counters['incident.opened'], \
            counters['incident.closed']
        self.assertGreater(opened, 0)
        self.assertEqual(counters['held'], len(x['held']))
        open_now = self.ctl_json('incidents', '--open')
        self.assertEqual(len(open_now), 1)
        legends = report_legends(html)
        for period in ('day', 'week'):
            inc = legends[('incidents', period)]
            unit = 'per 5 minutes' if period == 'day' else 'per hour'
            # what to look at if this ever differs: every incidents
            # legend, the counters and the RRD's last update
            self.assertEqual(inc['Incidents opened'][0], opened, '%s: %r, '
                             'counters %r, RRD last updated %s, now %d' % (
                                 period, {k: v for k, v in legends.items()
                                          if k[0] == 'incidents'},
                                 counters, self.rrd_last(), time.time()))
            self.assertEqual(inc['Incidents closed'][0], closed, period)
            # all taken within a minute: one bar holds them all
            self.assertEqual(inc['Incidents opened'][1], opened, period)
            self.assertEqual(inc['Incidents open'], (1, 1, 'incidents'))
            self.assertIn(unit, 'per ' + inc['Incidents opened'][2])
            self.assertEqual(legends[('bounces', period)]
                             ['Held in incidents'][0], len(x['held']))
        # the incident section shows them, the period sections do not
        sect = html.split('<h2 id="incidents">', 1)[1].split('<h2', 1)[0]
        for img in ('incidents-day', 'alerts-day', 'incidents-week',
                    'alerts-week'):
            self.assertIn('<img id="%s"' % img, sect)
        self.assertNotIn('<img id="incidents-month"', html)
        return legends

    @graph_leak_check
    def test_block_feeds_the_incident_sources(self):
        files, x = self.block_day_and_a_half()
        self.process(*files)
        html = self.report()
        self.check_incident_legends(html, x)
        # bouncectl graph draws the same panels
        out = os.path.join(self.dir, 'g')
        res = self.run_ctl('graph', '--period', 'day', '--out', out)
        self.assertRc(res, EX_OK)
        self.assertIn('%s/incidents-day.png\n' % out, res.out)
        self.assertIn('%s/alerts-day.png\n' % out, res.out)

    def test_an_older_rrd_is_migrated_with_its_history(self):
        os.makedirs(self.state, exist_ok=True)
        rrd = os.path.join(self.state, 'bounced.rrd')
        lib = librrd()
        now = int(time.time())
        t = now - now % 60 - 600         # ten minutes ago
        specs = ['DS:%s:ABSOLUTE:86400:0:U' % n for n in OLD_SOURCES] + \
            ['DS:queue:GAUGE:120:0:U'] + OLD_ARCHIVES
        lib.rrd_clear_error()
        self.assertEqual(lib.rrd_create_r(rrd.encode(), 60, t - 120,
                                          len(specs), c_argv(specs)), 0,
                         lib.rrd_get_error())
        rows = ['%d:%s' % (t - 60, ':'.join(['0'] * 15)),
                '%d:120:%s' % (t, ':'.join(['0'] * 14))]
        self.assertEqual(lib.rrd_update_r(rrd.encode(), None, len(rows),
                                          c_argv(rows)), 0,
                         lib.rrd_get_error())
        files, x = self.block_day_and_a_half()
        res = self.process(*files)
        self.assertIn('migrated to the current layout (no data source '
                      'incident_opened, incident_closed, alert_raised, '
                      'alert_cleared, held, incidents_open, alerts_active '
                      'before)', res.err)
        # migrated in place: nothing moved aside
        self.assertEqual([n for n in os.listdir(self.state)
                          if n.startswith('bounced.rrd')], ['bounced.rrd'])
        html = self.report()
        self.check_incident_legends(html, x)
        hard = self.ctl_json('stats')['counters']['hard']
        legends = report_legends(html)
        self.assertEqual(legends[('bounces', 'day')]['Hard bounces'][0],
                         120 + hard)
        self.assertEqual(legends[('bounces', 'year')]['Hard bounces'][0],
                         120 + hard)


class TestAlertSources(MonitorMetricsCase):
    def test_spikes_count_alerts(self):
        files, _ = self.gen_traffic('spikes')
        self.process(files[0])
        counters = self.ctl_json('stats')['counters']
        raised = counters.get('alert.raised', 0)
        cleared = counters.get('alert.cleared', 0)
        self.assertGreater(raised, 0)
        up = self.ctl_json('rates', '--format', 'json')['alerts']
        legends = report_legends(self.report())
        alerts = legends[('alerts', 'day')]
        self.assertEqual(alerts['Alerts raised'][0], raised)
        self.assertEqual(alerts['Alerts cleared'][0], cleared)
        self.assertEqual(alerts['Alerts active'], (len(up), len(up),
                                                   'alerts'))


def hour_rates(recs, dim, t0, complaints):
    """{name: [rate in percent or None] * 24} of RECS per hour from T0"""
    num, den = {}, {}
    for r in recs:
        h = (r['time'] - t0) // 3600
        if not 0 <= h < 24:
            continue
        n = r['names'][dim]
        num.setdefault(n, [0] * 24)
        den.setdefault(n, [0] * 24)
        if complaints:
            num[n][h] += r['what'] == 'complaints'
            den[n][h] += r['what'] == 'deliveries'
        else:
            num[n][h] += r['what'] == 'hard'
            den[n][h] += r['what'] in ('deliveries', 'hard')
    return {n: [100.0 * a / b if b else None for a, b in zip(num[n], den[n])]
            for n in num}


def chart_legends(html, cid):
    """{series: legend text} of the chart CID of the report"""
    m = re.search(r'<svg id="%s".*?</svg>' % cid, html, re.S)
    assert m, 'no chart %s' % cid
    return dict(re.findall(r'<text [^>]*class="legend" data-series="([^"]*)"'
                           r'>(.*?)</text>', m.group(0)))


class TestRateCharts(MonitorMetricsCase):
    def test_charts_show_the_spikes_where_they_were(self):
        files, _ = self.gen_traffic('spikes')
        self.process(files[0])
        html = self.report()
        recs = read_records(files[0])
        now = max(r['time'] for r in recs)
        t0 = now - now % 3600 - 23 * 3600
        for dim, metric, name, hour in (
                ('campaign', 'bounce', 'autumn-2', 14),
                ('destination', 'complaint', 'yahoo', 10)):
            rates = hour_rates(recs, dim, t0, metric == 'complaint')
            legends = chart_legends(html, 'rates-%s-%s' % (dim, metric))
            self.assertEqual(sorted(legends), sorted(rates), dim)
            for n, text in legends.items():
                peak = max(v for v in rates[n] if v is not None)
                at = rates[n].index(peak)
                self.assertRegex(text, r', highest %s at %02d:00$' % (
                    re.escape(('%.1f %%' if peak >= 10 else '%.2f %%')
                              % peak), (t0 // 3600 + at) % 24), n)
            # the spike is the highest of all, at its hour
            self.assertIn(', highest', legends[name])
            self.assertTrue(legends[name].endswith(' at %02d:00' % hour),
                            legends[name])

    def test_the_rest_is_other(self):
        files, _ = self.block_day_and_a_half()
        self.process(files[0])
        html = self.report()
        legends = chart_legends(html, 'rates-destination-bounce')
        # microsoft, gmail, yahoo and many small domains: five and the rest
        self.assertEqual(len(legends), 6, legends)
        self.assertIn('(other)', legends)
        self.assertIn('microsoft', legends)
        # every attempt of the hours shown is in one series
        attempts = sum(int(re.search(r'\((\d+) attempts\)', t).group(1))
                       for t in legends.values())
        with open(files[0]) as f:
            rows = [line.split(',') for line in f][1:]
        self.assertEqual(attempts, sum(1 for r in rows if r[0] in 'db'))
        self.assertEqual(chart_legends(html, 'rates-campaign-bounce').keys(),
                         {'camp-0-0', 'camp-0-1'})


if __name__ == '__main__':
    import unittest
    unittest.main()
