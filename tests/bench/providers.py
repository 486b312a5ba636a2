#!/usr/bin/env python3
"""providers.py - provider throughput benchmark of bounced.

Generates 2,000 bounce records over about 1,200 addresses (hard bounces
with the job id of one of three MailWizz campaigns, one per list; every
address on the three lists), runs
`bounced process` against the fake MailWizz server on 127.0.0.1 with 0 ms
and 5 ms of latency per request, and prints wall time, records/s, HTTP
calls by endpoint, calls/s, the campaign bounces MailWizz recorded (one per
campaign and address, as the classic handler and MailWizz's own processing
keep them) and peak RSS.  Each latency runs twice: with
records as PowerMTA writes them by default, and with the subscriber UID
column PowerMTA adds with `record-fields b *, header_X-Mw-Subscriber-Uid`
(no search call needed).  Not part of pass/fail.

    python3 tests/bench/providers.py [--build build] [--latency 0,5]
"""
import argparse
import collections
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, 'tests'))
from fake import mailwizz  # noqa: E402

PUB, PRIV = 'PUBKEY123', 'PRIVKEY456'
DEFAULT_CONCURRENCY = 16    # bounced's default ([provider] concurrency)
CAMPAIGNS = ['ca123cd456ef7', 'cb123cd456ef7', 'cc123cd456ef7']
LISTS = ['la111aa111aa1', 'lb222bb222bb2', 'lc333cc333cc3']


def make_data(addrs):
    return mailwizz.subscribed_everywhere(
        addrs, LISTS,
        [(c, 'Bench %d' % i, LISTS[i]) for i, c in enumerate(CAMPAIGNS)])


def make_acct(path, addrs, n, rng, with_uid):
    index = {a: i for i, a in enumerate(addrs)}
    with open(path, 'w', newline='') as f:
        f.write('type,timeLogged,orig,rcpt,dsnStatus,dsnDiag,bounceCat,'
                'vmta,jobId%s\r\n' %
                (',header_X-Mw-Subscriber-Uid' if with_uid else ''))
        for i in range(n):
            a = addrs[i] if i < len(addrs) else rng.choice(addrs)
            c = rng.randrange(len(CAMPAIGNS))
            extra = ',' + mailwizz.numbered_uid('s%d' % c, index[a]) if with_uid else ''
            f.write('b,2026-11-24 %02d:%02d:%02d+0000,news@bounces.example.com,'
                    '%s,5.1.1,"smtp;550 5.1.1 <%s>: user unknown, sorry",'
                    'bad-mailbox,vmta1,mailwizz-%s%s\r\n' %
                    (i // 3600 % 24, i // 60 % 60, i % 60, a, a,
                     CAMPAIGNS[c], extra))
    return index


def pairs_of(path):
    """the distinct (campaign, address) pairs of the file"""
    out = set()
    with open(path) as f:
        next(f)
        for line in f:
            cols = line.rstrip('\r\n').split(',')
            out.add((cols[-2] if cols[-1].startswith('s') and
                     len(cols[-1]) == 13 else cols[-1], cols[3]))
    return out


def run_one(build, latency, addrs, n, tmp, with_uid, concurrency):
    rng = random.Random(7)
    work = os.path.join(tmp, 'lat%d%s' % (latency, '-uid' if with_uid else ''))
    os.makedirs(os.path.join(work, 'spool', 'acct'))
    acct = os.path.join(work, 'bounces.csv')
    make_acct(acct, addrs, n, rng, with_uid)
    fake = mailwizz.MailWizzFake(public_key=PUB, private_key=PRIV,
                                 data=make_data(addrs), latency_ms=latency)
    fake.start()
    try:
        conf = os.path.join(work, 'bounced.conf')
        with open(conf, 'w') as f:
            f.write('[bounced]\nspool = %s/spool\nstate = %s/state\n\n'
                    '[provider mw]\ntype = mailwizz\nendpoint = %s/api\n'
                    'public-key = %s\nprivate-key = %s\nsenders = *\n' %
                    (work, work, fake.url, PUB, PRIV))
            if concurrency:
                f.write('concurrency = %d\n' % concurrency)
        os.chmod(conf, 0o600)
        t0 = time.time()
        p = subprocess.run(['/usr/bin/time', '-f', '%U %S %M',
                            os.path.join(build, 'bounced'), '-q', '-c', conf,
                            'process', acct],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        wall = time.time() - t0
        if p.returncode != 0:
            sys.stderr.write(p.stderr.decode())
            return 1
        user, sys_, rss = p.stderr.decode().strip().splitlines()[-1].split()
        rss = int(rss)
        print('    (bounced CPU: %s s user, %s s system)' % (user, sys_))
        calls = fake.calls()
        data = fake.get_data()
    finally:
        fake.stop()
    want = pairs_of(acct)
    got = set(('mailwizz-' + b['campaign_uid'], b['email'])
              for b in data['bounces'])
    active = sum(1 for l in data['lists'] for s in l['subscribers']
                 if s['status'] in ('confirmed', 'unconfirmed'))
    by = collections.Counter()
    for c in calls:
        path = re.sub(r'/[a-z0-9]{13}(?=/|$)', '/{uid}', c['path'])
        by['%s %s' % (c['method'], path)] += 1
    print('latency %d ms%s: %d records, %d addresses: %.2f s, '
          '%.0f records/s, %d calls, %.0f calls/s, peak RSS %d MiB' %
          (latency, ', subscriber UID recorded' if with_uid else '',
           n, len(addrs), wall, n / wall, len(calls),
           len(calls) / wall, (rss + 1023) // 1024))
    for k, v in sorted(by.items()):
        print('    %5d  %s' % (v, k))
    print('    campaign bounces recorded: %d of %d (campaign, address) pairs '
          'in the file%s; memberships still subscribed: %d' %
          (len(got & want), len(want),
           '' if got == want else ' (MISMATCH)', active))
    if len(calls) > 1:
        # the dispatcher's own rate: first request received to last answered
        first = min(c['time'] for c in calls)
        last = max(c['time'] + c.get('duration_ms', 0) / 1000.0 for c in calls)
        mean = sum(c.get('duration_ms', 0) for c in calls) / len(calls)
        conc = concurrency or DEFAULT_CONCURRENCY
        print('    dispatch: %.2f s from first to last request, %.0f calls/s; '
              'the fake answered in %.2f ms on average, so concurrency %d '
              'allows %.0f calls/s (%.0f%% used)' %
              (last - first, len(calls) / (last - first), mean, conc,
               conc * 1000.0 / mean, 100.0 * len(calls) / (last - first) /
               (conc * 1000.0 / mean)))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--build', default='build')
    ap.add_argument('--latency', default='0,5')
    ap.add_argument('--records', type=int, default=2000)
    ap.add_argument('--addresses', type=int, default=1200)
    ap.add_argument('--concurrency', type=int, default=0,
                    help='provider concurrency (default: bounced\'s)')
    args = ap.parse_args()
    build = os.path.join(ROOT, args.build)
    addrs = ['user%05d@example.com' % i for i in range(args.addresses)]
    tmp = tempfile.mkdtemp(prefix='bounced-bench-')
    rc = 0
    try:
        for lat in [int(x) for x in args.latency.split(',')]:
            for with_uid in (False, True):
                rc |= run_one(build, lat, addrs, args.records, tmp, with_uid,
                              args.concurrency)
    finally:
        shutil.rmtree(tmp, True)
    return rc


if __name__ == '__main__':
    sys.exit(main())
