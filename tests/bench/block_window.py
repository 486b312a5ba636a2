#!/usr/bin/env python3
"""block_window.py - a block that lasts: the cost per record of a source
refused at one destination for hours, with the incident window full of
recipients all the while.

Writes accounting files of one source sending to one destination: every
second RATE sender-side bounces (5.7.1, each to a new recipient) and a
third as many deliveries, for 1, 2 and 4 hours of record time; the
incident opens within the first minute and stays open.  With the default
30-minute window the detector then holds about 54,000 recipients and
forgets some every second.  Each file is taken by `bounced process` into a
fresh state, RUNS times in turn, and the median kept.  Prints one line:

  block window, 30 sender-side bounces/s: 1 h 144000 records 0.36 s
    (400000 records/s); 2 h ... ; 4 h ...; records/s at 4 h / at 1 h: 0.98

(on one line).  The last figure near 1 means the cost per record does not
grow with the block's length.  Not part of pass/fail: the exit code is 0
unless a step itself failed.

    python3 tests/bench/block_window.py [--build build] [--rate 30]
        [--runs 3]
"""
import argparse
import datetime
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HOURS = (1, 2, 4)


def write_block(path, hours, rate):
    """RATE sender-side bounces and RATE/3 deliveries a second"""
    t0 = datetime.datetime(2026, 11, 1, tzinfo=datetime.timezone.utc)
    n = 0
    with open(path, 'w') as f:
        f.write('type,timeLogged,orig,rcpt,dsnStatus,dsnDiag,bounceCat,'
                'dlvSourceIp,vmta,jobId\n')
        for s in range(hours * 3600):
            ts = (t0 + datetime.timedelta(seconds=s)).strftime(
                '%Y-%m-%d %H:%M:%S+0000')
            rows = []
            for _ in range(rate):
                n += 1
                rows.append('b,%s,news@example.com,user%d@gmail.com,5.7.1,'
                            '"smtp;550 5.7.1 blocked using zen.spamhaus.org",'
                            'policy-related,192.0.2.7,vmta1,job-1\n'
                            % (ts, n))
            for _ in range(max(1, rate // 3)):
                n += 1
                rows.append('d,%s,news@example.com,user%d@gmail.com,2.0.0,'
                            '"smtp;250 2.0.0 ok",,192.0.2.7,vmta1,job-1\n'
                            % (ts, n))
            f.write(''.join(rows))
    return n


def take(bounced, tmp, path):
    """bounced process PATH into a fresh state: wall seconds"""
    state = os.path.join(tmp, 'state')
    shutil.rmtree(state, ignore_errors=True)
    os.makedirs(os.path.join(tmp, 'spool', 'acct'), exist_ok=True)
    os.makedirs(state)
    cfg = os.path.join(tmp, 'bounced.conf')
    with open(cfg, 'w') as f:
        f.write('[bounced]\nspool = %s\nstate = %s\n'
                % (os.path.join(tmp, 'spool'), state))
    start = time.monotonic()
    res = subprocess.run([bounced, '-q', '-c', cfg, 'process', path],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True, check=False)
    took = time.monotonic() - start
    if res.returncode != 0:
        raise RuntimeError('bounced process %s: exit %d: %s'
                           % (path, res.returncode, res.stderr.strip()))
    return took


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--build', default='build')
    ap.add_argument('--rate', type=int, default=30,
                    help='sender-side bounces per second of record time')
    ap.add_argument('--runs', type=int, default=3)
    args = ap.parse_args()
    bounced = os.path.join(args.build, 'bounced')
    if not os.access(bounced, os.X_OK):
        print('bench: %s is missing; build it first' % bounced,
              file=sys.stderr)
        return 1
    if args.rate < 1 or args.runs < 1:
        print('bench: --rate and --runs must be 1 or more', file=sys.stderr)
        return 64
    tmp = tempfile.mkdtemp(prefix='bounced-block.')
    try:
        files, counts = {}, {}
        for h in HOURS:
            files[h] = os.path.join(tmp, 'block-%dh.csv' % h)
            counts[h] = write_block(files[h], h, args.rate)
        times = {h: [] for h in HOURS}
        for _ in range(args.runs):
            for h in HOURS:
                times[h].append(take(bounced, tmp, files[h]))
        parts, rates = [], {}
        for h in HOURS:
            secs = statistics.median(times[h])
            rates[h] = counts[h] / secs if secs > 0 else 0
            parts.append('%d h %d records %.2f s (%d records/s)'
                         % (h, counts[h], secs, rates[h]))
        print('block window, %d sender-side bounces/s: %s; records/s at '
              '%d h / at %d h: %.2f'
              % (args.rate, '; '.join(parts), HOURS[-1], HOURS[0],
                 rates[HOURS[-1]] / rates[HOURS[0]] if rates[HOURS[0]]
                 else 0))
    except (OSError, RuntimeError) as e:
        print('bench: %s' % e, file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
