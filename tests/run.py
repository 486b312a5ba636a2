#!/usr/bin/env python3
"""Run the whole bounced test suite and print one closing line.

Unit tests are cmocka programs built into BUILD/tests/; integration tests
are Python unittest modules in tests/integration/ that run the real
binaries of BUILD against temporary spools, states and fake servers on
127.0.0.1.  The last line is "N passed, M failed"; the exit code is 0 only
when nothing failed and something ran.
"""
import argparse
import glob
import os
import re
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def sanitizer_env(env):
    env.setdefault('ASAN_OPTIONS', 'detect_leaks=1:abort_on_error=0:'
                   'strict_string_checks=1:detect_stack_use_after_return=1')
    env.setdefault('LSAN_OPTIONS', 'suppressions=%s' %
                   os.path.join(HERE, 'lsan.supp'))
    env.setdefault('UBSAN_OPTIONS', 'print_stacktrace=1:halt_on_error=1')
    return env


def run_unit(path, timeout):
    """Run one cmocka program; return (passed, failed, output)."""
    env = sanitizer_env(dict(os.environ, CMOCKA_MESSAGE_OUTPUT='STDOUT'))
    try:
        p = subprocess.run([path], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout)
        out = p.stdout.decode('utf-8', 'replace')
        rc = p.returncode
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b'').decode('utf-8', 'replace') + '\n(timed out)\n'
        rc = -1
    ok = len(re.findall(r'^\[       OK \] ', out, re.M))
    bad = len(re.findall(r'^\[  FAILED  \] (?!\d+ test)', out, re.M))
    bad = len(set(re.findall(r'^\[  FAILED  \] (\S+)$', out, re.M))) or bad
    if rc != 0 and bad == 0:
        bad = 1          # crashed, sanitizer report, or timed out
    return ok, bad, out


class CountingResult(unittest.TextTestResult):
    pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--build', default='build', help='build directory')
    ap.add_argument('--unit-only', action='store_true')
    ap.add_argument('--integration-only', action='store_true')
    ap.add_argument('-k', dest='pattern', help='only tests whose name has this')
    ap.add_argument('--timeout', type=int, default=600)
    args = ap.parse_args()

    build = os.path.abspath(os.path.join(ROOT, args.build))
    passed = failed = 0
    t0 = time.time()

    if not args.integration_only:
        for path in sorted(glob.glob(os.path.join(build, 'tests', 'test_*'))):
            name = os.path.basename(path)
            if args.pattern and args.pattern not in name:
                continue
            ok, bad, out = run_unit(path, args.timeout)
            passed += ok
            failed += bad
            status = 'ok' if bad == 0 else 'FAILED'
            print('unit %-28s %3d passed, %d failed  %s' % (name, ok, bad, status),
                  flush=True)
            if bad:
                sys.stdout.write(out)

    if not args.unit_only:
        os.environ['BOUNCED_BUILD'] = build
        sanitizer_env(os.environ)
        sys.path.insert(0, os.path.join(HERE, 'integration'))
        sys.path.insert(0, HERE)
        loader = unittest.TestLoader()
        if args.pattern:
            loader.testNamePatterns = ['*%s*' % args.pattern]
        suite = loader.discover(os.path.join(HERE, 'integration'),
                                pattern='test_*.py',
                                top_level_dir=os.path.join(HERE, 'integration'))
        runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2,
                                         resultclass=CountingResult)
        res = runner.run(suite)
        bad = len(res.failures) + len(res.errors) + len(res.unexpectedSuccesses)
        failed += bad
        passed += res.testsRun - bad - len(res.skipped)

    print('test time: %.1f s' % (time.time() - t0))
    print('%d passed, %d failed' % (passed, failed))
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == '__main__':
    sys.exit(main())
