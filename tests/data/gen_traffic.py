#!/usr/bin/env python3
"""gen_traffic.py - generated PowerMTA accounting traffic with a known
story, for the incident and reputation tests and the replay benchmark.

    gen_traffic.py block OUTDIR [--scale N] [--seed S]
    gen_traffic.py spikes OUTDIR [--seed S]

Writes one accounting file per day (acct-YYYY-MM-DD-0000.csv, with a
header line, records in time order) into OUTDIR and OUTDIR/expect.json,
which says what a correct bounced must conclude.

block - a four-day block of one source at one destination group: every
    message from 192.0.2.10 (vmta ms-pool, the pool that carries the
    Microsoft consumer domains) to hotmail.com, outlook.com, live.com and
    msn.com bounces with Microsoft's S3150 block text (policy-related,
    550 5.7.1) from day 0 to day 4; two campaigns a day go to every
    subscriber; Gmail, Yahoo and small domains go through healthy pools.
    Inside the block a few Microsoft recipients also bounce hard (5.5.0,
    mailbox unavailable) from the blocked source on day 1 at 08:00: they
    are to be held, and applied when the incident closes (campaigns go
    out at 08:00 and 14:00, so each burst's incident closes two quiet
    hours after it), except those delivered to in between (through the
    transactional pool ms-tx, 192.0.2.13, at 09:30).  Beside it: Gmail addresses
    unknown there (550 5.1.1) are hard at once, and one recipient of a
    small domain refusing us six times over five days with no incident
    (550 5.7.1, from the healthy sources) escalates.
    expect.json: microsoft (addresses of the blocked group), held,
    delivered_held, hard_now, refuser, source, dest.

spikes - traffic for the rate monitor over two days: steady deliveries
    to four destinations from three campaigns and three sources, with a
    complaint spike at yahoo.com on day 0 between 10:00 and 11:00 (15 % of
    its deliveries then) and a bounce spike on campaign 'autumn-2' between
    14:00 and 15:00 (30 % of its sends); everything else stays far under
    the default thresholds (0.4 % bounces, 0.03 % complaints).
    expect.json: the alerts that must be raised (dimension, name, metric),
    and the deliveries and complaints per destination.

Test-only: standard library, deterministic for a given seed.
"""
import argparse
import json
import os
import random
import sys

T0 = 1793577600        # 2026-11-02 00:00:00 UTC
DAY = 86400

HEADER = ('type,timeLogged,timeQueued,orig,rcpt,orcpt,dsnAction,dsnStatus,'
          'dsnDiag,dsnMta,bounceCat,srcType,srcMta,dlvSourceIp,vmta,jobId,'
          'envId,feedbackType,format,reportingMta')

MS_DOMAINS = ('hotmail.com', 'outlook.com', 'live.com', 'msn.com')
S3150 = ('"smtp;550 5.7.1 Unfortunately, messages from [192.0.2.10] '
         'weren\'t sent. Please contact your Internet service provider since '
         'part of their network is on our block list (S3150). You can also '
         'refer your provider to http://mail.live.com/mail/troubleshooting.aspx'
         '#errors. [DB5EUR03FT012.eop-EUR03.prod.protection.outlook.com]"')
MS_UNKNOWN = ('"smtp;550 5.5.0 Requested action not taken: mailbox '
              'unavailable (S2017062302). [AM6EUR05FT003.eop-eur05.prod.'
              'protection.outlook.com]"')
GMAIL_UNKNOWN = ('"smtp;550-5.1.1 The email account that you tried to reach '
                 'does not exist. Please try double-checking the recipient\'s '
                 'email address for typos or unnecessary spaces. '
                 'https://support.google.com/mail/?p=NoSuchUser gsmtp"')
REFUSE = '"smtp;550 5.7.1 Recipient address rejected: refused by policy"'


def fmt_time(t):
    import time
    return time.strftime('%Y-%m-%d %H:%M:%S+0000', time.gmtime(t))


class Out:
    """Accounting files, one per day, lines counted per file."""

    def __init__(self, outdir):
        self.outdir = outdir
        self.files = {}
        self.lines = {}

    def write(self, t, fields):
        day = (t - T0) // DAY
        if day not in self.files:
            import time
            name = 'acct-%s-0000.csv' % time.strftime(
                '%Y-%m-%d', time.gmtime(T0 + day * DAY))
            f = open(os.path.join(self.outdir, name), 'w', newline='')
            f.write(HEADER + '\r\n')
            self.files[day] = (name, f)
            self.lines[day] = 1
        name, f = self.files[day]
        f.write(','.join(fields) + '\r\n')
        self.lines[day] += 1
        return name, self.lines[day]

    def close(self):
        for name, f in self.files.values():
            f.close()


def rec(kind, t, rcpt, status='', diag='', cat='', ip='', vmta='', job='',
        fbtype=''):
    action = {'d': 'relayed', 'b': 'failed', 'f': ''}[kind]
    fmt = 'arf' if kind == 'f' else ''
    return [kind, fmt_time(t), fmt_time(t - 30), 'bounces@news.example.com',
            rcpt, '', action, status, diag, 'mx.example.net', cat, 'smtp',
            'pmta.example.com', ip, vmta, job, '', fbtype, fmt,
            'fbl.example.net' if kind == 'f' else '']


def gen_block(outdir, scale, seed):
    rnd = random.Random(seed)
    out = Out(outdir)
    n_ms = 600 * scale
    ms = ['ms%05d@%s' % (i, MS_DOMAINS[i % 4]) for i in range(n_ms)]
    gm = ['gm%05d@gmail.com' % i for i in range(400 * scale)]
    yh = ['yh%05d@yahoo.com' % i for i in range(300 * scale)]
    small = ['u%05d@small%03d.example.org' % (i, i % 97)
             for i in range(200 * scale)]
    refuser = 'refuser@small-refuses.example.org'
    held = sorted(rnd.sample(ms, 12))
    delivered_held = held[:4]
    hard_now = ['gone%03d@gmail.com' % i for i in range(5)]
    block_end = T0 + 4 * DAY
    events = []
    for day in range(6):
        for k in range(2):
            job = 'camp-%d-%d' % (day, k)
            start = T0 + day * DAY + (8 + 6 * k) * 3600
            rcpts = ms + gm + yh + small + [refuser]
            rnd.shuffle(rcpts)
            for i, r in enumerate(rcpts):
                t = start + i * 3600 // len(rcpts)
                dom = r.split('@')[1]
                if dom in MS_DOMAINS:
                    ip, vmta = '192.0.2.10', 'ms-pool'
                    if t < block_end:
                        if r in held and day == 1 and k == 0:
                            events.append((t, rec('b', t, r, '5.5.0',
                                                  MS_UNKNOWN, 'bad-mailbox',
                                                  ip, vmta, job)))
                        else:
                            events.append((t, rec('b', t, r, '5.7.1', S3150,
                                                  'policy-related', ip, vmta,
                                                  job)))
                        continue
                elif r == refuser:
                    # on the morning list only: refused every day
                    if k == 1:
                        continue
                    ip, vmta = ('192.0.2.11', 'pool-a') if i % 2 else \
                        ('192.0.2.12', 'pool-b')
                    events.append((t, rec('b', t, r, '5.7.1', REFUSE,
                                          'policy-related', ip, vmta, job)))
                    continue
                else:
                    ip, vmta = ('192.0.2.11', 'pool-a') if i % 2 else \
                        ('192.0.2.12', 'pool-b')
                events.append((t, rec('d', t, r, '2.0.0',
                                      '"smtp;250 2.0.0 OK"', '', ip, vmta,
                                      job)))
        # transactional mail reaches some held addresses while the
        # incident that holds their bounce is open (day 1, 09:30)
        if day == 1:
            for j, r in enumerate(delivered_held):
                t = T0 + day * DAY + 9 * 3600 + 1800 + j * 60
                events.append((t, rec('d', t, r, '2.0.0',
                                      '"smtp;250 2.0.0 OK"', '', '192.0.2.13',
                                      'ms-tx', 'tx')))
        if day == 1:
            for j, r in enumerate(hard_now):
                t = T0 + day * DAY + 12 * 3600 + j * 60
                events.append((t, rec('b', t, r, '5.1.1', GMAIL_UNKNOWN,
                                      'bad-mailbox', '192.0.2.11', 'pool-a',
                                      'camp-1-0')))
    events.sort(key=lambda e: e[0])
    for t, fields in events:
        out.write(t, fields)
    out.close()
    expect = {
        'source': '192.0.2.10', 'dest': 'microsoft',
        'microsoft': ms, 'held': held, 'delivered_held': delivered_held,
        'hard_now': hard_now, 'refuser': refuser,
        'block_start': T0, 'block_end': block_end,
        'records': len(events),
    }
    with open(os.path.join(outdir, 'expect.json'), 'w') as f:
        json.dump(expect, f, indent=1)


def gen_spikes(outdir, seed):
    rnd = random.Random(seed)
    out = Out(outdir)
    dests = {'gmail.com': 'gm', 'yahoo.com': 'yh', 'hotmail.com': 'ms',
             'example.net': 'ex'}
    rcpts = ['%s%05d@%s' % (p, i, d) for d, p in dests.items()
             for i in range(3000)]
    jobs = ['autumn-1', 'autumn-2', 'autumn-3']
    ips = ['192.0.2.21', '192.0.2.22', '192.0.2.23']
    alerts = []
    raised = set()
    # steady traffic: a send every 2 seconds for two days
    t = T0
    deliveries = {}
    complaints = {}
    while t < T0 + 2 * DAY:
        r = rnd.choice(rcpts)
        dom = r.split('@')[1]
        job = jobs[(t // 60) % 3]
        ip = ips[(t // 7) % 3]
        hour = (t - T0) // 3600
        bounce_spike = job == 'autumn-2' and hour == 14
        if bounce_spike and rnd.random() < 0.3:
            fields = rec('b', t, r, '5.1.1', GMAIL_UNKNOWN, 'bad-mailbox', ip,
                         'pool', job)
        elif rnd.random() < 0.004:
            fields = rec('b', t, r, '5.1.1', GMAIL_UNKNOWN, 'bad-mailbox', ip,
                         'pool', job)
        else:
            fields = rec('d', t, r, '2.0.0', '"smtp;250 2.0.0 OK"', '', ip,
                         'pool', job)
            deliveries[dom] = deliveries.get(dom, 0) + 1
        name, line = out.write(t, fields)
        if fields[0] == 'b' and bounce_spike and \
                ('bounce', job) not in raised:
            raised.add(('bounce', job))
            alerts.append({'dimension': 'campaign', 'name': job,
                           'metric': 'bounce-rate'})
        # complaints: a trickle everywhere, a burst at yahoo 10:00-11:00
        p = 0.0003
        if dom == 'yahoo.com' and hour == 10:
            p = 0.15
        if fields[0] == 'd' and rnd.random() < p:
            tc = t + 1
            out.write(tc, rec('f', tc, r, '', '', '', ip, 'pool', job,
                              'abuse'))
            complaints[dom] = complaints.get(dom, 0) + 1
        t += 2
    out.close()
    with open(os.path.join(outdir, 'expect.json'), 'w') as f:
        json.dump({'alerts': alerts, 'deliveries': deliveries,
                   'complaints': complaints}, f, indent=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('scenario', choices=('block', 'spikes'))
    ap.add_argument('outdir')
    ap.add_argument('--scale', type=int, default=1,
                    help='recipients x 1,500 (block)')
    ap.add_argument('--seed', type=int, default=1)
    a = ap.parse_args()
    if a.scale < 1 or a.scale > 1000:
        ap.error('--scale must be 1 to 1000')
    os.makedirs(a.outdir, exist_ok=True)
    if a.scenario == 'block':
        gen_block(a.outdir, a.scale, a.seed)
    else:
        gen_spikes(a.outdir, a.seed)
    return 0


if __name__ == '__main__':
    sys.exit(main())
