#!/usr/bin/env python3
"""wait_taken.py - time `bounced run` taking a file renamed into its spool.

    wait_taken.py SPOOL PID LIMIT

Renames SPOOL/acct/.acct.csv to SPOOL/acct/acct.csv, then waits until
SPOOL/done/acct.csv exists, polling every 5 ms from this one process (a
shell loop that runs date, awk and sleep a hundred times a second takes a
share of the two CPUs from the worker it times).  Prints the seconds from
the rename to the move.  Exit 1 with a message when bounced run (PID) ended
first or LIMIT seconds passed.
"""
import os
import sys
import time


def main():
    if len(sys.argv) != 4:
        sys.stderr.write('usage: wait_taken.py SPOOL PID LIMIT\n')
        return 64
    spool, pid, limit = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    acct = os.path.join(spool, 'acct')
    done = os.path.join(spool, 'done', 'acct.csv')
    t0 = time.monotonic()
    os.rename(os.path.join(acct, '.acct.csv'), os.path.join(acct, 'acct.csv'))
    while not os.path.exists(done):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            sys.stderr.write('bench: bounced run ended before taking the '
                             'file\n')
            return 1
        if time.monotonic() - t0 > limit:
            sys.stderr.write('bench: bounced run took more than %g s\n'
                             % limit)
            return 1
        time.sleep(0.005)
    print('%.3f' % (time.monotonic() - t0))
    return 0


if __name__ == '__main__':
    sys.exit(main())
