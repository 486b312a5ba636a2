#!/usr/bin/env python3
"""incidents.py - the incident replay benchmark: a generated four-day
block of one source at one destination group (tests/data/gen_traffic.py
block, at a larger --scale) taken by `bounced process`, with what the
incidents concluded and what tracking them costs.

Generates the block's day files into a temporary directory, then takes
them into a fresh state four times: [incidents] and [rates] both on (the
defaults), incidents off, rates off, both off; each configuration RUNS
times (default 3, in turn, so that a busy machine weighs on all alike),
its median wall time kept.  Prints:

  incident replay: block --scale 50: 900750 records in 6 files
  incidents detected: 16 (192.0.2.10 to microsoft); first sender-side
    bounce to open (record time): min 31 s, median 35 s, max 52 s
  addresses protected: 29991 (escalated: 1 with incidents, 29992
    without); incidents' recipients protected 480000, hard bounces held
    600 (applied 400, dropped 200)
  ingest, median of 3: incidents on, rates on: 2.51 s, 358000 records/s
    (CPU 2.90 s, 310000 records per CPU second) ...
  incident tracking costs 6.1 % of the records/s (rates on), rates 9.0 %

(each on one line).  Not part of pass/fail: the exit code is 0 unless a
step itself failed.

    python3 tests/bench/incidents.py [--build build] [--scale 50] [--runs 3]
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
GEN = os.path.join(ROOT, 'tests', 'data', 'gen_traffic.py')

CONFIGS = (
    ('incidents on, rates on', True, True),
    ('incidents off, rates on', False, True),
    ('incidents on, rates off', True, False),
    ('incidents off, rates off', False, False),
)


def write_config(path, tmp, incidents, rates):
    with open(path, 'w') as f:
        f.write('[bounced]\nspool = %s\nstate = %s\n'
                '[incidents]\nenabled = %s\n[rates]\nenabled = %s\n' %
                (os.path.join(tmp, 'spool'), os.path.join(tmp, 'state'),
                 'yes' if incidents else 'no', 'yes' if rates else 'no'))


def take(bounced, cfg, files):
    """bounced process FILES into a fresh state: (wall s, CPU s, stdout)"""
    state = None
    with open(cfg) as f:
        for line in f:
            if line.startswith('state = '):
                state = line.split('=', 1)[1].strip()
    shutil.rmtree(state, ignore_errors=True)
    t0 = time.monotonic()
    p = subprocess.Popen([bounced, '-q', '-c', cfg, 'process'] + files,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate()
    wall = time.monotonic() - t0
    if p.returncode != 0:
        raise RuntimeError('bounced process exited %d: %s' %
                           (p.returncode, err.decode(errors='replace')))
    return wall, out.decode()


def child_cpu():
    r = os.times()
    return r.children_user + r.children_system


def escalated(out):
    m = re.search(r'^total: .* (\d+) escalated,', out, re.M)
    if not m:   # one file: its own line
        m = re.search(r' (\d+) escalated,', out)
    return int(m.group(1)) if m else -1


def iso(t):
    return time.mktime(time.strptime(t, '%Y-%m-%dT%H:%M:%SZ'))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--build', default='build')
    ap.add_argument('--scale', type=int, default=50)
    ap.add_argument('--runs', type=int, default=3)
    args = ap.parse_args()
    build = os.path.join(ROOT, args.build) if not os.path.isabs(args.build) \
        else args.build
    bounced = os.path.join(build, 'bounced')
    bouncectl = os.path.join(build, 'bouncectl')
    for prog in (bounced, bouncectl):
        if not os.access(prog, os.X_OK):
            sys.stderr.write('incidents: %s is missing; build it first '
                             '(scons)\n' % prog)
            return 1
    tmp = tempfile.mkdtemp(prefix='bounced-incidents-',
                           dir=os.environ.get('BENCH_TMP'))
    try:
        data = os.path.join(tmp, 'data')
        os.makedirs(data)
        os.makedirs(os.path.join(tmp, 'spool', 'acct'))
        subprocess.run([sys.executable, GEN, 'block', data, '--scale',
                        str(args.scale)], check=True)
        with open(os.path.join(data, 'expect.json')) as f:
            expect = json.load(f)
        files = sorted(os.path.join(data, n) for n in os.listdir(data)
                       if n.endswith('.csv'))
        n = expect['records']
        print('incident replay: block --scale %d: %d records in %d files' %
              (args.scale, n, len(files)))
        walls = {c[0]: [] for c in CONFIGS}
        cpus = {c[0]: [] for c in CONFIGS}
        esc = {}
        incs = None
        for run in range(args.runs):
            for name, inc, rates in CONFIGS:
                cfg = os.path.join(tmp, 'bounced.conf')
                write_config(cfg, tmp, inc, rates)
                c0 = child_cpu()
                wall, out = take(bounced, cfg, files)
                cpus[name].append(child_cpu() - c0)
                walls[name].append(wall)
                esc[name] = escalated(out)
                if run == 0 and inc and rates:
                    p = subprocess.run([bouncectl, '-c', cfg, 'incidents',
                                        '--format', 'json'],
                                       stdout=subprocess.PIPE, check=True)
                    incs = json.loads(p.stdout.decode())
        delays = sorted(iso(i['opened']) - iso(i['first']) for i in incs)
        pairs = sorted({'%s to %s' % (i['source'], i['destination'])
                        for i in incs})
        if delays:
            print('incidents detected: %d (%s); first sender-side bounce to '
                  'open (record time): min %.0f s, median %.0f s, max %.0f s'
                  % (len(incs), ', '.join(pairs), delays[0],
                     statistics.median(delays), delays[-1]))
        else:
            print('incidents detected: 0')
        on = esc['incidents on, rates on']
        off = esc['incidents off, rates on']
        print('addresses protected: %d (escalated: %d with incidents, %d '
              'without); incidents\' recipients protected %d, hard bounces '
              'held %d (applied %d, dropped %d)' %
              (off - on, on, off, sum(i['protected'] for i in incs),
               sum(i['held'] for i in incs), sum(i['applied'] for i in incs),
               sum(i['dropped'] for i in incs)))
        rate = {}
        parts = []
        for name, _, _ in CONFIGS:
            w = statistics.median(walls[name])
            c = statistics.median(cpus[name])
            rate[name] = n / w
            parts.append('%s: %.2f s, %.0f records/s (CPU %.2f s, %.0f '
                         'records per CPU second)' % (name, w, n / w, c,
                                                      n / c if c else 0))
        print('ingest, median of %d: %s' % (args.runs, '; '.join(parts)))
        print('incident tracking costs %.1f %% of the records/s (rates on), '
              '%.1f %% (rates off); rates cost %.1f %% (incidents on)' % (
                  100 * (1 - rate['incidents on, rates on'] /
                         rate['incidents off, rates on']),
                  100 * (1 - rate['incidents on, rates off'] /
                         rate['incidents off, rates off']),
                  100 * (1 - rate['incidents on, rates on'] /
                         rate['incidents on, rates off'])))
        return 0
    except (RuntimeError, subprocess.CalledProcessError, OSError,
            ValueError, KeyError) as e:
        sys.stderr.write('incidents: %s\n' % e)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
