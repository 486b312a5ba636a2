"""test_metrics.py - the metrics as an operator meets them: the Prometheus
textfile after bounced process and bounced run, bouncectl graph's images
(valid PNG / SVG of the size asked for), and bouncectl report's page opened
in headless Chromium, whose DOM must show every image loaded.

The exact per-step values of the RRD are checked by the unit test
test_metrics.c (rrd_fetch after updates at fixed times).  Chromium is
Debian's chromium package (contrib/quickstart test installs it); without
it the browser test fails, naming the package.
"""
import json
import os
import re
import shutil
import struct
import subprocess
import tempfile
import xml.etree.ElementTree as ET
import zlib

from harness import (BouncedTestCase, SAMPLE_HEADER, SAMPLE_PLAIN, EX_OK,
                     EX_USAGE, EX_NOINPUT, EX_IOERR, RunTestCase,
                     graph_leak_check, hard_file)

# the counts of both samples together (see test_bouncectl.py)
SAMPLE_COUNTS = dict(records=41, hard=8, soft=15, escalated=1, complaint=1,
                     unsub=0, duplicate=4)
PANELS = ('bounces', 'complaints', 'api', 'queue', 'incidents', 'alerts')
# the report: the first four in each period's section, the last two in
# the incidents section for the day and the week
PERIOD_PANELS = PANELS[:4]
INCIDENT_PANELS, INCIDENT_PERIODS = PANELS[4:], ('day', 'week')
# the series of each panel as its legend names them, and the counter of
# SAMPLE_COUNTS (or of the provider API, or the monitor) each one draws
SERIES = {'bounces': {'Hard bounces': 'hard', 'Soft bounces': 'soft',
                      'Escalated to hard': 'escalated',
                      'Duplicates': 'duplicate',
                      'Held in incidents': 'held'},
          'complaints': {'Complaints': 'complaint',
                         'Unsubscribes': 'unsub'},
          'api': {'Actions done': 'api_ok', 'Retried later': 'api_retry',
                  'Dead letters': 'api_dead'},
          'incidents': {'Incidents opened': 'incident_opened',
                        'Incidents closed': 'incident_closed'},
          'alerts': {'Alerts raised': 'alert_raised',
                     'Alerts cleared': 'alert_cleared'}}
# the gauge of each panel that has one: its legend name and unit
GAUGES = {'queue': ('Queue length', 'actions'),
          'incidents': ('Incidents open', 'incidents'),
          'alerts': ('Alerts active', 'alerts')}
LEGEND_RE = re.compile(r'^(?P<name>[A-Z][a-z ]+): total (?P<total>\d+), '
                       r'highest (?P<peak>\d+) per (?P<unit>[a-z0-9 ]+)$')
GAUGE_RE = re.compile(r'^(?P<name>[A-Z][a-z ]+): now (?P<now>\d+), '
                      r'highest (?P<peak>\d+) (?P<unit>[a-z]+)$')
PERIODS = ('day', 'week', 'month', 'year')

NAME = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE_RE = re.compile(r'^(%s)(\{%s(?:,%s)*\})? (-?[0-9]+(?:\.[0-9]+)?'
                       r'(?:[eE][+-]?[0-9]+)?|NaN|[+-]Inf)$'
                       % (NAME, LABEL, LABEL))
HELP_RE = re.compile(r'^# HELP (%s) (.*)$' % NAME)
TYPE_RE = re.compile(r'^# TYPE (%s) (counter|gauge|histogram|summary|'
                     r'untyped)$' % NAME)


def parse_prometheus(text):
    """Parse TEXT strictly as the Prometheus text exposition format 0.0.4:
    {(name, labels-tuple): value}, {family: type}.  Raises ValueError at the
    first line that does not follow it."""
    if not text.endswith('\n'):
        raise ValueError('the last line is not terminated')
    types, helps, samples, seen_families = {}, {}, {}, []
    for n, line in enumerate(text.split('\n')[:-1], 1):
        m = HELP_RE.match(line)
        if m:
            if m.group(1) in helps:
                raise ValueError('line %d: second HELP' % n)
            helps[m.group(1)] = m.group(2)
            continue
        m = TYPE_RE.match(line)
        if m:
            fam = m.group(1)
            if fam in types or fam in seen_families:
                raise ValueError('line %d: TYPE after samples or twice' % n)
            types[fam] = m.group(2)
            continue
        if line.startswith('#') or not line:
            raise ValueError('line %d: not a sample: %r' % (n, line))
        m = SAMPLE_RE.match(line)
        if not m:
            raise ValueError('line %d: not a sample: %r' % (n, line))
        name, labels = m.group(1), m.group(2) or ''
        if name not in types:
            raise ValueError('line %d: %s has no TYPE before it' % (n, name))
        if types[name] == 'counter' and not name.endswith('_total'):
            raise ValueError('line %d: counter %s without _total' % (n, name))
        key = (name, tuple(re.findall(r'([a-zA-Z_]\w*)="([^"]*)"', labels)))
        if key in samples:
            raise ValueError('line %d: duplicate sample' % n)
        samples[key] = float(m.group(3))
        seen_families.append(name)
    return samples, types


def png_size(data):
    """(width, height) of a PNG after checking its signature, the chunks'
    CRCs and the final IEND; raises AssertionError otherwise"""
    assert data[:8] == b'\x89PNG\r\n\x1a\n', 'no PNG signature'
    pos, size, last = 8, None, None
    while pos < len(data):
        length, ctype = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        crc, = struct.unpack('>I', data[pos + 8 + length:pos + 12 + length])
        assert zlib.crc32(ctype + body) & 0xffffffff == crc, 'bad CRC'
        if ctype == b'IHDR':
            size = struct.unpack('>II', body[:8])
        last = ctype
        pos += 12 + length
    assert pos == len(data) and last == b'IEND', 'truncated PNG'
    assert size, 'no IHDR'
    return size


def report_legends(html):
    """{(panel, period): {series: (total, peak, unit)}} of a report's
    figure captions (the legends librrd drew); a gauge's line is (now,
    peak, unit).  Raises AssertionError at a line that is neither."""
    res = {}
    for pid, text in re.findall(r'<figcaption id="([a-z]+-[a-z]+)-legend">'
                                r'(.*?)</figcaption>', html, re.S):
        panel, period = pid.split('-')
        lines = {}
        for line in text.strip().split('\n'):
            m = LEGEND_RE.match(line) or GAUGE_RE.match(line)
            assert m, 'not a legend line: %r' % line
            lines[m.group('name')] = (int(m.groups()[1]),
                                      int(m.group('peak')), m.group('unit'))
        res[(panel, period)] = lines
    return res


class MetricsTestCase(BouncedTestCase):
    """Both samples processed, with a textfile configured."""

    def setUp(self):
        super().setUp()
        self.prom = os.path.join(self.dir, 'textfile', 'bounced.prom')
        os.makedirs(os.path.dirname(self.prom))
        self.write_config(extra='\n[metrics]\ntextfile = %s\n' % self.prom)
        self.process(self.copy_sample(SAMPLE_HEADER),
                     self.copy_sample(SAMPLE_PLAIN))
        self.rrd = os.path.join(self.state, 'bounced.rrd')

    def textfile(self):
        with open(self.prom) as f:
            return parse_prometheus(f.read())


class TestTextfile(MetricsTestCase):

    def test_process_writes_the_textfile(self):
        samples, types = self.textfile()
        self.assertEqual(types['bounced_events_total'], 'counter')
        self.assertEqual(types['bounced_outbox_actions'], 'gauge')
        self.assertEqual(samples[('bounced_records_total', ())], 41)
        for kind in ('hard', 'soft', 'escalated', 'complaint', 'unsub',
                     'duplicate'):
            self.assertEqual(
                samples[('bounced_events_total', (('kind', kind),))],
                SAMPLE_COUNTS[kind], kind)
        for result in ('ok', 'retry', 'dead'):
            self.assertEqual(samples[('bounced_provider_actions_total',
                                      (('result', result),))], 0)
        self.assertEqual(samples[('bounced_outbox_actions', ())], 0)
        # no temporary file left beside it
        self.assertEqual(os.listdir(os.path.dirname(self.prom)),
                         ['bounced.prom'])
        self.assertTrue(os.path.isfile(self.rrd))

    def test_parser_rejects_what_is_not_the_format(self):
        for bad in ('x 1', '# TYPE x counter\nx 1\n',
                    '# TYPE x_total counter\nx_total{a=b} 1\n',
                    '# TYPE x gauge\nx one\n'):
            with self.assertRaises(ValueError, msg=bad):
                parse_prometheus(bad)

    def test_check_config_prints_the_key(self):
        res = self.run_bounced('check-config')
        self.assertRc(res, EX_OK)
        self.assertIn('\n[metrics]\ntextfile = %s\n' % self.prom, res.out)


class TestGraph(MetricsTestCase):

    def test_png_of_the_size_asked(self):
        out = os.path.join(self.dir, 'g')
        res = self.run_ctl('graph', '--period', 'week', '--out', out,
                           '--width', '640', '--height', '300')
        self.assertRc(res, EX_OK)
        want = ['%s/%s-week.png' % (out, p) for p in PANELS]
        self.assertEqual(res.out.splitlines(), want)
        self.assertEqual(sorted(os.listdir(out)),
                         sorted(os.path.basename(w) for w in want))
        for path in want:
            with open(path, 'rb') as f:
                self.assertEqual(png_size(f.read()), (640, 300), path)

    @graph_leak_check
    def test_every_period_by_default(self):
        out = os.path.join(self.dir, 'all')
        res = self.run_ctl('graph', '--out', out)
        self.assertRc(res, EX_OK)
        self.assertEqual(sorted(os.listdir(out)), sorted(
            '%s-%s.png' % (p, q) for p in PANELS for q in PERIODS))
        with open(os.path.join(out, 'bounces-day.png'), 'rb') as f:
            self.assertEqual(png_size(f.read()), (800, 260))

    def test_svg_of_the_size_asked(self):
        out = os.path.join(self.dir, 's')
        res = self.run_ctl('graph', '--period', 'day', '--format', 'svg',
                           '--out', out, '--width', '500', '--height', '240')
        self.assertRc(res, EX_OK)
        for p in PANELS:
            root = ET.parse(os.path.join(out, '%s-day.svg' % p)).getroot()
            self.assertEqual(root.tag, '{http://www.w3.org/2000/svg}svg')
            self.assertEqual(root.get('viewBox'), '0 0 500 240')
            self.assertEqual(root.get('width'), '500pt')
            self.assertEqual(root.get('height'), '240pt')
            text = ' '.join(t for t in root.itertext())
            # rrd draws text as glyphs: the title is not in the text nodes,
            # but the document must have drawn something
            self.assertGreater(len(list(root.iter())), 50, text)

    def test_bad_options(self):
        for args in (('--period', 'hour'), ('--format', 'gif'),
                     ('--width', '10'), ('--height', 'big'), ('--nope',)):
            res = self.run_ctl('graph', *args)
            self.assertRc(res, EX_USAGE)
            self.assertIn('bouncectl: graph:', res.err)
        # an empty --out is no directory (it was 'cannot create', 73)
        for cmd in ('graph', 'report'):
            res = self.run_ctl(cmd, '--out', '')
            self.assertRc(res, EX_USAGE)
            self.assertIn("bouncectl: %s: --out: an empty value (a "
                          "directory: '.' for the current one)" % cmd,
                          res.err)

    def test_no_rrd_yet(self):
        os.unlink(self.rrd)
        res = self.run_ctl('graph', '--out', os.path.join(self.dir, 'n'))
        self.assertRc(res, EX_NOINPUT)
        self.assertIn("cannot read '%s'" % self.rrd, res.err)
        self.assertIn('bounced creates it on its first update', res.err)


class TestLibrrdOnUse(BouncedTestCase):
    """librrd is loaded when the RRD is written or drawn, not linked: a
    start of bounced or bouncectl does not pay for its fifty libraries,
    and a librrd that cannot be loaded costs the metrics only"""

    def test_programs_are_not_linked_with_librrd(self):
        self.assertNotLinkedWith('librrd')

    def test_without_librrd_nothing_is_lost(self):
        soname, broken = self.broken_library('rrd')
        self.write_config()
        env = self.env
        self.env = lambda: dict(env(), LD_LIBRARY_PATH=broken)
        res = self.process(self.copy_sample(SAMPLE_HEADER),
                           self.copy_sample(SAMPLE_PLAIN))
        self.assertIn('cannot load %s' % soname, res.err)
        self.assertIn('is the package of librrd installed?', res.err)
        self.assertFalse(os.path.exists(os.path.join(self.state,
                                                     'bounced.rrd')))
        counters = self.ctl_json('stats')['counters']
        self.assertEqual({k: counters[k] for k in SAMPLE_COUNTS},
                         SAMPLE_COUNTS)
        # with librrd found again, the next run writes the RRD
        self.env = env
        self.process(self.copy_sample(SAMPLE_PLAIN, 'again.csv'))
        self.assertTrue(os.path.isfile(os.path.join(self.state,
                                                    'bounced.rrd')))
        out = os.path.join(self.dir, 'g')
        res = self.run_ctl('graph', '--period', 'day', '--out', out)
        self.assertRc(res, EX_OK)
        # drawing without it: an error that names it, nothing written
        shutil.rmtree(out)
        self.env = lambda: dict(env(), LD_LIBRARY_PATH=broken)
        res = self.run_ctl('graph', '--period', 'day', '--out', out)
        self.assertRc(res, EX_IOERR)
        self.assertIn('bouncectl: graph: cannot load %s' % soname, res.err)
        self.assertEqual(os.listdir(out) if os.path.isdir(out) else [], [])


def find_chromium():
    for name in ('chromium', 'chromium-browser', 'google-chrome'):
        path = shutil.which(name)
        if path:
            return path
    return None


PROBE = '''<script>
window.addEventListener('load', function () {
  var out = [];
  document.querySelectorAll('img').forEach(function (im) {
    out.push({id: im.id, complete: im.complete, w: im.naturalWidth,
              h: im.naturalHeight});
  });
  var pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>
'''


class TestReport(MetricsTestCase):

    timeout = 600

    def chromium(self, *args):
        exe = find_chromium()
        if not exe:
            self.fail('headless Chromium is needed for this test: install '
                      "Debian's chromium package (apt-get install chromium; "
                      'contrib/quickstart test does it)')
        profile = tempfile.mkdtemp(prefix='chromium-', dir=self.dir)
        argv = [exe, '--headless', '--no-sandbox', '--disable-gpu',
                '--disable-dev-shm-usage', '--no-first-run',
                '--user-data-dir=%s' % profile] + list(args)
        p = subprocess.run(argv, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=300)
        return p.returncode, p.stdout.decode('utf-8', 'replace'), \
            p.stderr.decode('utf-8', 'replace')

    def report(self, *args):
        out = os.path.join(self.dir, 'report')
        res = self.run_ctl('report', '--out', out, *args)
        self.assertRc(res, EX_OK)
        path = os.path.join(out, 'index.html')
        self.assertEqual(res.out, path + '\n')
        with open(path, encoding='utf-8') as f:
            return path, f.read()

    def test_page_has_numbers_and_no_outside_assets(self):
        path, html = self.report('--refresh', '2m')
        self.assertTrue(html.startswith('<!DOCTYPE html>'))
        self.assertIn('<meta http-equiv="refresh" content="120">', html)
        # every reference is embedded or in the page
        refs = re.findall(r'(?:src|href)="([^"]*)"', html)
        self.assertEqual(len([r for r in refs if r.startswith('data:')]),
                         len(PERIOD_PANELS) * len(PERIODS) +
                         len(INCIDENT_PANELS) * len(INCIDENT_PERIODS))
        for r in refs:
            self.assertTrue(r.startswith('data:image/png;base64,') or
                            r.startswith('#'), r[:60])
        self.assertNotRegex(html, r'(?i)https?://|<link|@import|url\(')
        # the numbers of bouncectl stats
        self.assertRegex(html, r'<td>hard</td><td class="n">9</td>')
        self.assertRegex(html, r'<td>complained</td><td class="n">1</td>')
        self.assertRegex(html, r'<td>example.com</td><td class="n">4</td>')
        self.assertRegex(html, r'<td>bad-mailbox</td><td class="n">\d+</td>')
        self.assertRegex(html, r'<td>actions queued</td><td class="n">0</td>')
        self.assertRegex(html, r'<td>duplicate</td><td class="n">4</td>')

    def test_legend_totals_are_the_counts_ingested_in_every_period(self):
        path, html = self.report()
        legends = report_legends(html)
        self.assertEqual(set(legends),
                         {(p, q) for p in PERIOD_PANELS for q in PERIODS} |
                         {(p, q) for p in INCIDENT_PANELS
                          for q in INCIDENT_PERIODS})
        units = {'day': '5 minutes', 'week': 'hour', 'month': '6 hours',
                 'year': 'day'}
        for (panel, period), lines in legends.items():
            gauge = GAUGES.get(panel)
            if gauge:
                self.assertEqual(lines.pop(gauge[0]), (0, 0, gauge[1]),
                                 panel)
            if panel == 'queue':
                continue
            self.assertEqual(set(lines), set(SERIES[panel]), panel)
            for name, (total, peak, unit) in lines.items():
                want = SAMPLE_COUNTS.get(SERIES[panel][name], 0)
                self.assertEqual(total, want, '%s of %s-%s' %
                                 (name, panel, period))
                # everything was taken within a minute: one bar holds it
                self.assertEqual(peak, want, '%s of %s-%s' %
                                 (name, panel, period))
                self.assertEqual(unit, units[period])

    def test_no_dead_links(self):
        path, html = self.report()
        ids = set(re.findall(r'\bid="([^"]+)"', html))
        links = re.findall(r'href="#([^"]*)"', html)
        self.assertGreater(len(links), 8)
        for target in links:
            self.assertIn(target, ids, 'a link to #%s, which is not there'
                          % target)
        # the sections an operator looks for, each one there
        for sect in ('providers', 'top', 'suppressions', 'failed',
                     'incidents', 'dead'):
            self.assertIn('id="%s"' % sect, html)

    @graph_leak_check
    def test_page_sections(self):
        # a file that failed, with its reason
        failed = os.path.join(self.spool, 'failed')
        os.makedirs(failed, exist_ok=True)
        with open(os.path.join(failed, 'acct-broken.csv'), 'w') as f:
            f.write('junk\n')
        with open(os.path.join(failed, 'acct-broken.csv.why'), 'w') as f:
            f.write('file: x\nfailed: now\nwhy: not an accounting file '
                    '<b>\nwhat to do: nothing\n')
        path, html = self.report()
        self.assertIn('<h2 id="failed">Failed files (1)</h2>', html)
        self.assertIn('<td>failed/acct-broken.csv</td><td class="n">5</td>'
                      '<td>not an accounting file &lt;b&gt;</td>', html)
        # top campaigns, senders, VirtualMTAs, domains: hard, complained,
        # unsubscribed, soft
        self.assertIn('<tr><td>mailwizz-lr8qk2mzq1a7f</td><td class="n">4'
                      '</td><td class="n">1</td><td class="n">0</td>'
                      '<td class="n">0</td></tr>', html)
        self.assertIn('<tr><td>bounces@news.example-shop.com</td>', html)
        self.assertIn('<tr><td>vmta-shop-1</td><td class="n">7</td>', html)
        self.assertIn('<tr><td>example.com</td><td class="n">4</td>', html)
        # the latest suppressions: the complaint of m.rossi among them
        sect = html.split('id="suppressions"', 1)[1].split('<h2', 1)[0]
        self.assertIn('<td>m.rossi@yahoo.com</td><td>complained</td>', sect)
        self.assertEqual(sect.count('<tr>') - 1, 10)   # 9 hard, 1 complaint
        # open incidents: none in these samples (the section's rows are
        # checked by tests/unit/test_ctl_report.c)
        sect = html.split('id="incidents"', 1)[1].split('<h2', 1)[0]
        self.assertIn('>Open incidents (0)</h2>', sect)
        self.assertIn('<td colspan="9">no open incident</td>', sect)
        # no provider configured: the dry-run entries
        sect = html.split('id="providers"', 1)[1].split('<h2', 1)[0]
        self.assertIn('<td>dry-run</td>', sect)

    def test_providers_named_by_their_type(self):
        # the providers section names each configured provider's type, as
        # its type's table spells it (nothing is called: a report reads
        # the configuration and the state only)
        self.write_config(extra=(
            '[provider mw]\ntype = mailwizz\nsenders = *\n'
            'endpoint = http://127.0.0.1:9/api\n'
            'public-key = pub\nprivate-key = priv\n'
            '[provider iem]\ntype = interspire\nsenders = *\n'
            'endpoint = http://127.0.0.1:9/xml.php\n'
            'username = u\nusertoken = t\n'
            '[provider hook]\ntype = webhook\nsenders = *\n'
            'url = http://127.0.0.1:9/hook\n'))
        path, html = self.report()
        sect = html.split('id="providers"', 1)[1].split('<h2', 1)[0]
        for name, kind in (('mw', 'mailwizz'), ('iem', 'interspire'),
                           ('hook', 'webhook')):
            self.assertIn('<tr><td>%s</td><td>%s</td>' % (name, kind), sect)

    def test_page_without_rrd_says_so(self):
        os.unlink(self.rrd)
        path, html = self.report()
        self.assertIn('No graphs yet', html)
        self.assertNotIn('<img', html)

    def test_hostile_text_is_escaped(self):
        self.write_file('evil.csv',
                        'type,timeLogged,orig,rcpt,dsnStatus,dsnDiag,'
                        'bounceCat\r\n'
                        'b,2026-11-24 10:00:00+0000,a@example.com,'
                        'x@evil.example,5.1.1,smtp;550,'
                        '<script>alert(1)</script>\r\n')
        self.process(os.path.join(self.dir, 'evil.csv'))
        path, html = self.report()
        self.assertNotIn('<script>alert(1)', html)
        self.assertIn('&lt;script&gt;alert(1)&lt;/script&gt;', html)

    def test_images_load_in_chromium(self):
        path, html = self.report()
        # a copy with a probe that writes each image's state into the DOM
        probe = os.path.join(self.dir, 'probe.html')
        with open(probe, 'w', encoding='utf-8') as f:
            f.write(html.replace('</body>', PROBE + '</body>'))
        rc, dom, err = self.chromium('--virtual-time-budget=10000',
                                     '--dump-dom', 'file://' + probe)
        self.assertEqual(rc, 0, err[-2000:])
        m = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
        self.assertTrue(m, 'the probe did not run: %s' % dom[-2000:])
        imgs = json.loads(m.group(1).replace('&quot;', '"'))
        self.assertEqual(sorted(i['id'] for i in imgs), sorted(
            ['%s-%s' % (p, q) for p in PERIOD_PANELS for q in PERIODS] +
            ['%s-%s' % (p, q) for p in INCIDENT_PANELS
             for q in INCIDENT_PERIODS]))
        for i in imgs:
            self.assertTrue(i['complete'], i)
            self.assertEqual((i['w'], i['h']), (800, 260), i)
        # and the page itself, as the operator sees it
        shot = os.path.join(self.dir, 'shot.png')
        rc, out, err = self.chromium('--window-size=1280,2400',
                                     '--screenshot=%s' % shot,
                                     'file://' + path)
        self.assertEqual(rc, 0, err[-2000:])
        with open(shot, 'rb') as f:
            self.assertEqual(png_size(f.read()), (1280, 2400))


class TestRunFeedsMetrics(RunTestCase):

    def test_run_writes_textfile_and_rrd_at_stop(self):
        prom = os.path.join(self.dir, 'bounced.prom')
        self.write_config(extra='\n[metrics]\ntextfile = %s\n' % prom)
        p = self.start()
        dest, _ = self.drop('a.csv', hard_file(['h%d@example.com' % i
                                                for i in range(5)]))
        self.wait_for(lambda: self.spool_files('done') == ['a.csv'],
                      30, 'a.csv was not taken')
        rc, _ = self.stop(p)
        self.assertEqual(rc, 0)
        with open(prom) as f:
            samples, _ = parse_prometheus(f.read())
        self.assertEqual(samples[('bounced_events_total',
                                  (('kind', 'hard'),))], 5)
        self.assertTrue(os.path.isfile(os.path.join(self.state,
                                                    'bounced.rrd')))
        self.assertNotIn('warning metrics', self.log(p))
