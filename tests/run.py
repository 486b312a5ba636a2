#!/usr/bin/env python3
"""Run the whole bounced test suite and print one closing line.

Unit tests are cmocka programs built into BUILD/tests/; integration tests
are Python unittest modules in tests/integration/ that run the real
binaries of BUILD against temporary spools, states and fake servers on
127.0.0.1.  The last line is "N passed, M failed"; the exit code is 0 only
when nothing failed and something ran.

Unit programs, then integration modules, run in parallel (-j, default twice
the CPUs: most of their time is spent waiting on the binaries and the fake
servers), the slowest first as the last run measured them
(BUILD/test-times.json, else tests/test-times.json: the times of a
sanitizer run, shipped so that a fresh clone schedules them too); each
module's output is printed whole when it ends, so lines of different
modules never interleave.
"""
import json
import argparse
import concurrent.futures
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


RAN_RE = re.compile(r'^Ran (\d+) tests? in', re.M)
FAILED_RE = re.compile(r'^FAILED \((.*)\)$', re.M)
SKIPPED_RE = re.compile(r'skipped=(\d+)')


def module_counts(out):
    """(passed, failed) from a unittest run's output."""
    m = RAN_RE.search(out)
    ran = int(m.group(1)) if m else 0
    bad = skipped = 0
    f = FAILED_RE.search(out)
    if f:
        for part in f.group(1).split(','):
            k, _, v = part.strip().partition('=')
            if k in ('failures', 'errors', 'unexpected successes'):
                bad += int(v)
            elif k == 'skipped':
                skipped += int(v)
    else:
        s = SKIPPED_RE.search(out)
        skipped = int(s.group(1)) if s else 0
    if not m:
        bad = max(bad, 1)      # the module did not even load, or was killed
    return ran - bad - skipped, bad


# modules that must have the build to themselves (test_install runs scons)
ALONE = ('test_install',)


def run_integration(build, pattern, jobs, timeout):
    """Every integration module in a pool of JOBS processes; returns
    (passed, failed)."""
    idir = os.path.join(HERE, 'integration')
    mods = sorted(os.path.basename(p)[:-3]
                  for p in glob.glob(os.path.join(idir, 'test_*.py')))
    times_path = os.path.join(build, 'test-times.json')
    times = {}
    # this build's last run, else the times shipped with the tests (a
    # fresh clone: the long modules still start first, not at the end)
    for path in (times_path, os.path.join(HERE, 'test-times.json')):
        try:
            with open(path) as f:
                times = json.load(f)
            break
        except (OSError, ValueError):
            continue
    # the slowest first; modules never timed by their size
    mods.sort(key=lambda m: -times.get(
        m, os.path.getsize(os.path.join(idir, m + '.py')) / 1000.0))
    env = dict(os.environ, BOUNCED_BUILD=build,
               PYTHONPATH=os.pathsep.join([idir, HERE]))
    sanitizer_env(env)
    # a module that runs scons may relink the programs under the others'
    # feet: it runs alone, after them
    alone = [m for m in mods if m in ALONE]
    pending, running = [m for m in mods if m not in ALONE], {}
    passed = failed = 0
    while pending or running or alone:
        if not pending and not running:
            pending, alone = alone[:1], alone[1:]
        while pending and len(running) < jobs:
            m = pending.pop(0)
            cmd = [sys.executable, '-m', 'unittest', '-v']
            if pattern:
                cmd += ['-k', pattern]
            cmd.append(m)
            outf = open(os.path.join(build, 'test-%s.out' % m), 'w+b')
            p = subprocess.Popen(cmd, cwd=idir, env=env, stdout=outf,
                                 stderr=subprocess.STDOUT)
            running[p] = (m, outf, time.time())
        done = None
        while done is None:
            for p in running:
                if p.poll() is not None:
                    done = p
                    break
                m, outf, t = running[p]
                if time.time() - t > timeout:
                    p.kill()
            if done is None:
                time.sleep(0.05)
        m, outf, t = running.pop(done)
        outf.seek(0)
        out = outf.read().decode('utf-8', 'replace')
        outf.close()
        os.unlink(outf.name)
        ok, bad = module_counts(out)
        if 'Ran 0 tests' in out and pattern:
            bad = 0
        passed += ok
        failed += bad
        times[m] = round(time.time() - t, 1)
        sys.stdout.write(out)
        print('integration %-24s %3d passed, %d failed  %.1f s  %s' %
              (m, ok, bad, times[m], 'ok' if bad == 0 else 'FAILED'),
              flush=True)
    try:
        with open(times_path, 'w') as f:
            json.dump(times, f, indent=1, sort_keys=True)
    except OSError:
        pass
    return passed, failed


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--build', default='build', help='build directory')
    ap.add_argument('--unit-only', action='store_true')
    ap.add_argument('--integration-only', action='store_true')
    ap.add_argument('-k', dest='pattern', help='only tests whose name has this')
    ap.add_argument('--timeout', type=int, default=600,
                    help='seconds a unit program or integration module '
                    'may take')
    ap.add_argument('-j', '--jobs', type=int,
                    default=2 * (os.cpu_count() or 1),
                    help='integration modules run at once (1: in this '
                    'process, one after the other)')
    args = ap.parse_args()

    build = os.path.abspath(os.path.join(ROOT, args.build))
    passed = failed = 0
    t0 = time.time()

    if not args.integration_only:
        paths = [p for p in sorted(glob.glob(os.path.join(build, 'tests',
                                                           'test_*')))
                 if not args.pattern or args.pattern in os.path.basename(p)]
        # the programs run JOBS at once; their lines come in name order
        with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as ex:
            runs = ex.map(lambda p: run_unit(p, args.timeout), paths)
            results = list(zip(paths, runs))
        for path, (ok, bad, out) in results:
            name = os.path.basename(path)
            passed += ok
            failed += bad
            status = 'ok' if bad == 0 else 'FAILED'
            print('unit %-28s %3d passed, %d failed  %s' % (name, ok, bad, status),
                  flush=True)
            if bad:
                sys.stdout.write(out)

    if not args.unit_only and args.jobs > 1:
        ok, bad = run_integration(build, args.pattern, args.jobs,
                                  args.timeout)
        passed += ok
        failed += bad
    elif not args.unit_only:
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
