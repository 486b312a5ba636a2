#!/usr/bin/env python3
"""backlog.py - does a large outbox drain as fast as a small one?

For each size (default 30,000 and 240,000 records), writes an accounting
file of hard bounces on a MailWizz campaign, one address each, and runs
`bounced process FILE` against two fakes on 127.0.0.1: MailWizz (search
the subscriber in all lists, record the bounce: two calls an address) and
a webhook (one call an event), concurrency 8 each.  The file is taken
first (the whole outbox queued: the backlog), then sent.  Prints per size:
records/s of the ingest, calls/s of the dispatch (the fakes' first request
to their last answer), wall time and peak RSS of bounced, and at the end
the large run's calls/s against the small run's.  Not part of pass/fail.

    python3 tests/bench/backlog.py [--build build] [--sizes 30000,240000]
                                   [--latency-ms 0]
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
sys.path.insert(0, os.path.join(ROOT, 'tests'))
from fake import mailwizz, webhook  # noqa: E402

PUB, PRIV = 'PUBKEY123', 'PRIVKEY456'
CAMPAIGN = 'cc123cd456ef7'
LIST = 'la111aa111aa1'


def uid(n):
    return 's%012d' % n


def mw_data(n):
    subs = [{'subscriber_uid': uid(i), 'email': 'user%07d@example.com' % i,
             'status': 'confirmed'} for i in range(n)]
    return {'lists': [{'list_uid': LIST, 'name': 'bench',
                       'display_name': 'Bench', 'subscribers': subs}],
            'campaigns': [{'campaign_uid': CAMPAIGN, 'name': 'Bench',
                           'list_uid': LIST, 'status': 'sent'}]}


def write_acct(path, n):
    with open(path, 'w', newline='') as f:
        f.write('type,timeLogged,orig,rcpt,dsnStatus,dsnDiag,bounceCat,'
                'vmta,jobId\r\n')
        for i in range(n):
            f.write('b,2026-11-24 %02d:%02d:%02d+0000,news@bounces.example.com,'
                    'user%07d@example.com,5.1.1,"smtp;550 5.1.1 user unknown",'
                    'bad-mailbox,vmta1,mailwizz-%s\r\n' %
                    (i // 3600 % 24, i // 60 % 60, i % 60, i, CAMPAIGN))


def status_kib(pid, field):
    """FIELD of /proc/PID/status in KiB, 0 when gone"""
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith(field + ':'):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_bounced(argv, errpath):
    """(stdout, wall s, exit code, CPU s, peak RSS MiB, peak heap MiB):
    the heap (RssAnon) sampled every 50 ms, apart from the LMDB map's
    pages, which count in the RSS but belong to the page cache"""
    t0 = time.time()
    with open(errpath, 'wb') as err:
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err)
    heap = 0
    outf = p.stdout
    chunks = []
    os.set_blocking(outf.fileno(), False)
    while True:
        heap = max(heap, status_kib(p.pid, 'RssAnon'))
        data = outf.read()
        if data:
            chunks.append(data)
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid == p.pid:
            break
        time.sleep(0.05)
    p.returncode = os.waitstatus_to_exitcode(status)
    os.set_blocking(outf.fileno(), True)
    chunks.append(outf.read() or b'')
    outf.close()
    wall = time.time() - t0
    return (b''.join(chunks).decode(), wall, p.returncode,
            ru.ru_utime + ru.ru_stime, (ru.ru_maxrss + 1023) // 1024,
            (heap + 1023) // 1024)


def span(calls):
    """(first request, last answer) of a fake's call log"""
    if not calls:
        return 0.0, 0.0
    first = min(c['time'] for c in calls)
    last = max(c['time'] + c.get('duration_ms', 0) / 1000.0 for c in calls)
    return first, last


def run_one(build, n, tmp, latency):
    work = os.path.join(tmp, 'n%d' % n)
    os.makedirs(os.path.join(work, 'spool', 'acct'))
    acct = os.path.join(work, 'bounces.csv')
    write_acct(acct, n)
    mw = mailwizz.MailWizzFake(public_key=PUB, private_key=PRIV,
                               data=mw_data(n), latency_ms=latency)
    hook = webhook.WebhookFake(latency_ms=latency)
    mw.start()
    hook.start()
    try:
        conf = os.path.join(work, 'bounced.conf')
        with open(conf, 'w') as f:
            f.write('[bounced]\nspool = %s/spool\nstate = %s/state\n\n'
                    '[provider mw]\ntype = mailwizz\nendpoint = %s/api\n'
                    'public-key = %s\nprivate-key = %s\nsenders = *\n'
                    'concurrency = 8\n\n'
                    '[provider hook]\ntype = webhook\nurl = %s/events\n'
                    'senders = *\nconcurrency = 8\n' %
                    (work, work, mw.url, PUB, PRIV, hook.url))
        os.chmod(conf, 0o600)
        t0 = time.time()
        out, wall, rc, cpu, rss, heap = run_bounced(
            [os.path.join(build, 'bounced'), '-q', '-c', conf, 'process',
             '--drain-timeout', '2h', acct], os.path.join(work, 'err'))
        if rc != 0:
            with open(os.path.join(work, 'err')) as f:
                sys.stderr.write(f.read() + out)
            return None
        m = re.search(r': (\d+) records, .* in (\d+\.\d+) s$', out, re.M)
        ingest_s = float(m.group(2))
        # calls answered, from the summary (the fakes' logs keep only the
        # newest 100,000); the last answer from the logs
        calls = sum(int(c) for c in re.findall(
            r'^provider \S+: \d+ actions done, (\d+) calls', out, re.M))
        last = max(span(x.calls())[1] for x in (mw, hook))
    finally:
        mw.stop()
        hook.stop()
    # the dispatch: from the end of the ingest (the whole outbox queued) to
    # the last answer
    disp = last - (t0 + ingest_s)
    res = {'n': n, 'ingest_s': ingest_s, 'rps': n / ingest_s,
           'calls': calls, 'disp_s': disp, 'cps': calls / disp,
           'wall': wall, 'rss': rss, 'heap': heap, 'cpu': cpu}
    print('%7d records: ingest %.2f s (%.0f records/s); %d calls in %.1f s '
          '(%.0f calls/s); wall %.1f s, bounced CPU %.1f s (%.0f us a call), '
          'peak RSS %d MiB (heap %d MiB; the rest: LMDB map pages, libraries)'
          % (n, ingest_s, res['rps'], calls, disp, res['cps'], wall, cpu,
             1e6 * cpu / max(1, calls), rss, heap))
    sys.stdout.flush()
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--build', default='build')
    ap.add_argument('--sizes', default='30000,240000')
    ap.add_argument('--latency-ms', type=int, default=0)
    args = ap.parse_args()
    build = os.path.join(ROOT, args.build)
    tmp = tempfile.mkdtemp(prefix='bounced-backlog-')
    results = []
    try:
        for n in [int(x) for x in args.sizes.split(',')]:
            r = run_one(build, n, tmp, args.latency_ms)
            if r is None:
                return 1
            results.append(r)
            shutil.rmtree(os.path.join(tmp, 'n%d' % n), True)
    finally:
        shutil.rmtree(tmp, True)
    if len(results) > 1:
        small, big = results[0], results[-1]
        print('backlog of %d records: %.0f calls/s against %.0f with %d '
              'records (%+.0f%%)' % (big['n'], big['cps'], small['cps'],
                                     small['n'],
                                     100.0 * (big['cps'] / small['cps'] - 1)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
