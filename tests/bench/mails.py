#!/usr/bin/env python3
"""mails.py - benchmark of the spool's mails: feedback reports and
unsubscribe mails taken by `bounced process` (one transaction each).

Generates N ARF reports (the Yahoo-shaped fixture, each for another
recipient) in SPOOL/fbl/new and N/2 unsubscribe mails (each naming another
subscriber) in SPOOL/unsub/new, runs `bounced process` with no provider,
and prints mails/s and peak RSS.  Not part of pass/fail.

    python3 tests/bench/mails.py [--build build] [--mails 2000]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DATA = os.path.join(ROOT, 'tests', 'data')


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--build', default='build')
    ap.add_argument('--mails', type=int, default=2000)
    args = ap.parse_args()
    bounced = os.path.join(ROOT, args.build, 'bounced')
    tmp = tempfile.mkdtemp(prefix='bounced-mails-')
    try:
        spool = os.path.join(tmp, 'spool')
        for d in ('acct', 'fbl/new', 'fbl/tmp', 'fbl/cur', 'unsub/new',
                  'unsub/tmp', 'unsub/cur'):
            os.makedirs(os.path.join(spool, d))
        with open(os.path.join(DATA, 'arf', 'yahoo.eml'), 'rb') as f:
            arf = f.read()
        with open(os.path.join(DATA, 'unsub', 'gmail.eml'), 'rb') as f:
            unsub = f.read()
        n_unsub = args.mails // 2
        for i in range(args.mails):
            with open(os.path.join(spool, 'fbl', 'new', 'a%06d' % i),
                      'wb') as f:
                f.write(arf.replace(b'Jane.Doe@example.net',
                                    b'user%06d@example.net' % i))
        for i in range(n_unsub):
            with open(os.path.join(spool, 'unsub', 'new', 'u%06d' % i),
                      'wb') as f:
                f.write(unsub.replace(b'zz123cd456ef7.',
                                      b'z%012d.' % i))
        conf = os.path.join(tmp, 'bounced.conf')
        with open(conf, 'w') as f:
            f.write('[bounced]\nspool = %s\nstate = %s/state\n' % (spool, tmp))
        subprocess.run(['sync'])
        t0 = time.time()
        p = subprocess.run(['/usr/bin/time', '-f', '%M', bounced, '-q', '-c',
                            conf, 'process'], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        wall = time.time() - t0
        if p.returncode != 0:
            sys.stderr.write(p.stderr.decode())
            return 1
        rss = int(p.stderr.decode().strip().splitlines()[-1])
        done = len(os.listdir(os.path.join(spool, 'done')))
        total = args.mails + n_unsub
        m = re.findall(r'\((\d+) mails\)', p.stdout.decode())
        print('mails: %d reports + %d unsubscribe mails taken (%s) and moved '
              '(%d in done/) in %.2f s: %.0f mails/s, peak RSS %d MiB' %
              (args.mails, n_unsub, ' + '.join(m), done, wall, total / wall,
               (rss + 1023) // 1024))
        return 0 if done == total else 1
    finally:
        shutil.rmtree(tmp, True)


if __name__ == '__main__':
    sys.exit(main())
