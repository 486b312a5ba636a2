#!/usr/bin/env python3
"""pipe_block.py - PowerMTA's pipe during a sustained block: what a minute
of records costs `bounced process -` when the incident detector's window
is full.

One source sends to one destination: every second RATE sender-side
bounces (5.7.1, each to a new recipient) and a third as many deliveries.
The first WARM minutes are taken by `bounced process FILE` into a state
(the incident opens in the first minute and stays open; with the default
30-minute window the detector then holds some 54,000 recipients at 30 a
second).  Then, RUNS times, on a copy of that state, the next minute is
written to `bounced process -` in packets of PACKET records every GAP
milliseconds, as a pipe from PowerMTA delivers them: the writer pauses
between packets, and the pipe commits what it has at each pause.  Prints
one line per run and the medians:

  pipe block: 2400 records in packets of 10 every 5 ms: CPU 0.15 s
    (user 0.07, system 0.08), wall 1.25 s, 72 MiB written, 227 commits

(on one line; "written" is what the kernel counted as written by the
process, /proc/PID/io write_bytes read just before it exits, and the
commits are the state's transactions).  Not part of pass/fail.

    python3 tests/bench/pipe_block.py [--build build] [--rate 30]
        [--warm 40] [--packet 10] [--gap-ms 5] [--runs 3]
"""
import argparse
import datetime
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HEADER = ('type,timeLogged,orig,rcpt,dsnStatus,dsnDiag,bounceCat,'
          'dlvSourceIp,vmta,jobId\n')


def block_rows(first_second, seconds, rate, start_n):
    """the rows of SECONDS seconds of the block from FIRST_SECOND"""
    t0 = datetime.datetime(2026, 11, 1, tzinfo=datetime.timezone.utc)
    n = start_n
    rows = []
    for s in range(first_second, first_second + seconds):
        ts = (t0 + datetime.timedelta(seconds=s)).strftime(
            '%Y-%m-%d %H:%M:%S+0000')
        for _ in range(rate):
            n += 1
            rows.append('b,%s,news@example.com,user%d@gmail.com,5.7.1,'
                        '"smtp;550 5.7.1 blocked using zen.spamhaus.org",'
                        'policy-related,192.0.2.7,vmta1,job-1\n' % (ts, n))
        for _ in range(max(1, rate // 3)):
            n += 1
            rows.append('d,%s,news@example.com,user%d@gmail.com,2.0.0,'
                        '"smtp;250 2.0.0 ok",,192.0.2.7,vmta1,job-1\n'
                        % (ts, n))
    return rows, n


def write_config(tmp, state):
    cfg = os.path.join(tmp, 'bounced-%s.conf' % os.path.basename(state))
    os.makedirs(os.path.join(tmp, 'spool', 'acct'), exist_ok=True)
    with open(cfg, 'w') as f:
        f.write('[bounced]\nspool = %s\nstate = %s\n'
                % (os.path.join(tmp, 'spool'), state))
    return cfg


def write_bytes(pid):
    try:
        with open('/proc/%d/io' % pid) as f:
            for line in f:
                if line.startswith('write_bytes:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def commits(state):
    """the state's last transaction id (mdb_stat -e), or 0"""
    try:
        out = subprocess.run(['mdb_stat', '-e', state], capture_output=True,
                             text=True, check=False).stdout
    except OSError:
        return 0
    for line in out.splitlines():
        if 'Last transaction ID' in line:
            return int(line.split(':')[1])
    return 0


def pipe_run(bounced, cfg, rows, packet, gap):
    """ROWS to bounced process - in packets of PACKET every GAP ms; (wall
    seconds, bytes written)"""
    p = subprocess.Popen([bounced, '-q', '-c', cfg, 'process', '-'],
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    start = time.monotonic()
    p.stdin.write(HEADER.encode())
    p.stdin.flush()
    for i in range(0, len(rows), packet):
        p.stdin.write(''.join(rows[i:i + packet]).encode())
        p.stdin.flush()
        time.sleep(gap / 1000.0)
    p.stdin.close()
    # the last count of bytes written before it is gone: sampled while
    # it runs (its final commit is after the last sample at most)
    written = 0
    while p.poll() is None:
        written = max(written, write_bytes(p.pid))
        time.sleep(0.002)
    wall = time.monotonic() - start
    err = p.stderr.read().decode(errors='replace')
    if p.returncode != 0:
        raise RuntimeError('bounced process -: exit %d: %s'
                           % (p.returncode, err.strip()))
    return wall, written


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--build', default='build')
    ap.add_argument('--rate', type=int, default=30)
    ap.add_argument('--warm', type=int, default=40,
                    help='minutes taken before the pipe (default 40)')
    ap.add_argument('--packet', type=int, default=10)
    ap.add_argument('--gap-ms', type=float, default=5.0)
    ap.add_argument('--runs', type=int, default=3)
    a = ap.parse_args()
    bounced = os.path.join(a.build, 'bounced')
    if not os.access(bounced, os.X_OK):
        sys.exit('pipe_block: %s is missing: build it first' % bounced)
    tmp = tempfile.mkdtemp(prefix='bounced-pipe-block.')
    try:
        warm_state = os.path.join(tmp, 'warm')
        os.makedirs(warm_state)
        rows, n = block_rows(0, a.warm * 60, a.rate, 0)
        warm = os.path.join(tmp, 'warm.csv')
        with open(warm, 'w') as f:
            f.write(HEADER)
            f.writelines(rows)
        res = subprocess.run([bounced, '-q', '-c',
                              write_config(tmp, warm_state), 'process',
                              warm], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True, check=False)
        if res.returncode != 0:
            sys.exit('pipe_block: warm-up failed: %s' % res.stderr.strip())
        minute, _ = block_rows(a.warm * 60, 60, a.rate, n)
        cpus, walls, wrote, txns = [], [], [], []
        for _ in range(a.runs):
            state = os.path.join(tmp, 'run')
            shutil.rmtree(state, ignore_errors=True)
            shutil.copytree(warm_state, state)
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = commits(state)
            wall, written = pipe_run(bounced, write_config(tmp, state),
                                     minute, a.packet, a.gap_ms)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            user = after.ru_utime - before.ru_utime
            sys_ = after.ru_stime - before.ru_stime
            n_commits = commits(state) - t0
            cpus.append(user + sys_)
            walls.append(wall)
            wrote.append(written)
            txns.append(n_commits)
            print('pipe block: %d records in packets of %d every %g ms: '
                  'CPU %.2f s (user %.2f, system %.2f), wall %.2f s, '
                  '%.0f MiB written, %d commits'
                  % (len(minute), a.packet, a.gap_ms, user + sys_, user,
                     sys_, wall, written / 1048576.0, n_commits))
            sys.stdout.flush()
        print('median of %d runs: CPU %.2f s, wall %.2f s, %.0f MiB '
              'written, %d commits'
              % (a.runs, statistics.median(cpus), statistics.median(walls),
                 statistics.median(wrote) / 1048576.0,
                 statistics.median(txns)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    main()
