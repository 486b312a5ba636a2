#!/usr/bin/env python3
"""latency.py - latency benchmark of `bounced run`: from a file's rename
into SPOOL/acct/ to the first request of its action at the webhook fake.

Starts `bounced run` on a temporary spool and state with one webhook
provider (the fake, in-process, on 127.0.0.1), then renames FILES (default
50) accounting files into acct/ one by one, each with a hard bounce of its
own address, waiting for the request of one before renaming the next.  The
time is taken just before rename(2) and compared with the fake's arrival
time of the request (both the wall clock of this host).  Prints every
figure with --verbose, then median, 90th percentile and max; the targets
are median < 50 ms and max < 1 s.  Not part of pass/fail: the exit code is
0 unless the run itself failed.

    python3 tests/bench/latency.py [--build build] [--files 50]
"""
import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, 'tests'))
from fake import webhook  # noqa: E402

HEADER = 'type,timeLogged,orig,rcpt,dsnStatus,dsnDiag,bounceCat,vmta\r\n'


def acct_text(addr):
    return HEADER + ('b,2026-11-24 10:00:00+0000,news@bounces.example.com,'
                     '%s,5.1.1,"smtp;550 5.1.1 user unknown",bad-mailbox,'
                     'vmta1\r\n' % addr)


def first_call_of(fake, addr):
    for c in fake.calls():
        if addr in c.get('body', ''):
            return c
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--build', default='build')
    ap.add_argument('--files', type=int, default=50)
    ap.add_argument('--verbose', action='store_true')
    args = ap.parse_args()

    bounced = os.path.join(ROOT, args.build, 'bounced')
    if not os.access(bounced, os.X_OK):
        sys.stderr.write('latency: %s is missing; build it first (scons)\n'
                         % bounced)
        return 1
    tmp = tempfile.mkdtemp(prefix='bounced-latency-')
    fake = webhook.WebhookFake()
    fake.start()
    proc = None
    try:
        spool = os.path.join(tmp, 'spool')
        incoming = os.path.join(tmp, 'incoming')
        os.makedirs(os.path.join(spool, 'acct'))
        os.makedirs(incoming)
        conf = os.path.join(tmp, 'bounced.conf')
        with open(conf, 'w') as f:
            f.write('[bounced]\nspool = %s\nstate = %s\n\n'
                    '[provider hook]\ntype = webhook\nurl = %s/events\n'
                    'senders = *\n' % (spool, os.path.join(tmp, 'state'),
                                       fake.url))
        err = open(os.path.join(tmp, 'run.err'), 'wb')
        proc = subprocess.Popen([bounced, '-q', '-c', conf, 'run'],
                                stdout=subprocess.DEVNULL, stderr=err)
        lock = os.path.join(tmp, 'state', 'bounced.lock')
        end = time.monotonic() + 10
        while time.monotonic() < end and proc.poll() is None:
            if os.path.exists(lock) and \
                    open(lock).read().strip() == str(proc.pid):
                break
            time.sleep(0.01)
        if proc.poll() is not None:
            sys.stderr.write('latency: bounced run exited %d\n'
                             % proc.returncode)
            return 1
        lat = []
        for i in range(args.files):
            addr = 'lat%d@example.com' % i
            name = 'acct-lat-%03d.csv' % i
            src = os.path.join(incoming, name)
            with open(src, 'w') as f:
                f.write(acct_text(addr))
            t0 = time.time()
            os.rename(src, os.path.join(spool, 'acct', name))
            deadline = time.monotonic() + 10
            call = None
            while call is None and time.monotonic() < deadline:
                call = first_call_of(fake, addr)
                if call is None:
                    time.sleep(0.0005)
            if call is None:
                sys.stderr.write('latency: no request for %s in 10 s\n' % addr)
                return 1
            ms = (call['time'] - t0) * 1000.0
            lat.append(ms)
            if args.verbose:
                print('%s: %.1f ms' % (name, ms))
            time.sleep(0.05)
        lat.sort()
        p90 = lat[min(len(lat) - 1, int(round(0.9 * (len(lat) - 1))))]
        print('rename -> first request, %d files: median %.1f ms, p90 %.1f ms, '
              'max %.1f ms (targets: median < 50 ms, max < 1000 ms)' %
              (len(lat), statistics.median(lat), p90, lat[-1]))
        return 0
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        fake.stop()
        shutil.rmtree(tmp, True)


if __name__ == '__main__':
    sys.exit(main())
