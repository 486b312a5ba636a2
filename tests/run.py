#!/usr/bin/env python3
"""Run the whole bounced test suite and print one closing line.

Unit tests are cmocka programs built into BUILD/tests/; integration tests
are Python unittest modules in tests/integration/ that run the real
binaries of BUILD against temporary spools, states and fake servers on
127.0.0.1.  The last line is "N passed, M failed"; the exit code is 0 only
when nothing failed and something ran.

Unit programs and integration modules run in one pool of parallel jobs
(-j, default twice the CPUs: most of their time is spent waiting on the
binaries and the fake servers), the slowest first as the last run
measured them (BUILD/test-times.json, else tests/test-times.json: the
times of a sanitizer run, shipped so that a fresh clone schedules them
too), so that a unit program that waits (test_dispatch's timers) overlaps
the integration modules instead of holding them back; each job's output
is printed whole when it ends, so lines of different jobs never
interleave.

After the pool, the tests that failed run once more, alone (a unit
program whole, an integration module's failed tests by name; --no-retry:
not): a test that fails only on a loaded machine then passes and is
counted passed, with a "retried:" line saying so, so that a flake shows
in the log without failing the suite; a test that fails again is a
failure.  The names of the tests that failed are repeated after the
CPU time line ("failed: ...").
"""
import json
import argparse
import glob
import os
import re
import subprocess
import sys
import tempfile
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


def unit_counts(out, rc):
    """(passed, failed) of a cmocka program from its output and exit code"""
    ok = len(re.findall(r'^\[       OK \] ', out, re.M))
    bad = len(re.findall(r'^\[  FAILED  \] (?!\d+ test)', out, re.M))
    bad = len(set(re.findall(r'^\[  FAILED  \] (\S+)$', out, re.M))) or bad
    if rc != 0 and bad == 0:
        bad = 1          # crashed, sanitizer report, or timed out
    return ok, bad


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


def load_times(build):
    """{job key: seconds} of this build's last run, else the times shipped
    with the tests (a fresh clone: the long jobs still start first)"""
    for path in (os.path.join(build, 'test-times.json'),
                 os.path.join(HERE, 'test-times.json')):
        try:
            with open(path) as f:
                return json.load(f)
        except (OSError, ValueError):
            continue
    return {}


def unit_jobs(build, pattern):
    """the cmocka programs of BUILD as jobs (key 'unit NAME')"""
    env = sanitizer_env(dict(os.environ, CMOCKA_MESSAGE_OUTPUT='STDOUT'))
    jobs = []
    for path in sorted(glob.glob(os.path.join(build, 'tests', 'test_*'))):
        name = os.path.basename(path)
        if pattern and pattern not in name:
            continue
        jobs.append({'kind': 'unit', 'name': name, 'key': 'unit ' + name,
                     'cmd': [path], 'cwd': ROOT, 'env': env, 'size': 1.0})
    return jobs


def integration_jobs(build, pattern, idir):
    """the integration modules of IDIR as jobs (key: the module's name)"""
    env = dict(os.environ, BOUNCED_BUILD=build,
               PYTHONPATH=os.pathsep.join([idir, HERE]))
    sanitizer_env(env)
    jobs = []
    for path in sorted(glob.glob(os.path.join(idir, 'test_*.py'))):
        m = os.path.basename(path)[:-3]
        cmd = [sys.executable, '-m', 'unittest', '-v']
        if pattern:
            cmd += ['-k', pattern]
        jobs.append({'kind': 'integration', 'name': m, 'key': m,
                     'cmd': cmd + [m], 'cwd': idir, 'env': env,
                     # never timed: by its size
                     'size': os.path.getsize(path) / 1000.0})
    return jobs


def job_counts(job, out, rc, pattern):
    """(passed, failed) of a job that ended with OUT and exit code RC"""
    if job['kind'] == 'unit':
        return unit_counts(out, rc)
    ok, bad = module_counts(out)
    if 'Ran 0 tests' in out and pattern:
        bad = 0
    return ok, bad


FAILED_TEST_RE = re.compile(r'^(?:FAIL|ERROR): (\S+ \([^)]*\))'
                            r'|^\[  FAILED  \] (?!\d+ test)(\S+)$', re.M)
FAILED_ID_RE = re.compile(r'^(?:FAIL|ERROR): (\S+) \(([\w.]+)\)', re.M)


def failed_ids(out):
    """the unittest ids (module.Class.test) of the tests OUT says failed;
    a class whose setUpClass failed is named whole"""
    ids = []
    for name, where in FAILED_ID_RE.findall(out):
        if where.endswith('.' + name) or name in ('setUpClass',
                                                  'tearDownClass'):
            tid = where
        else:
            tid = where + '.' + name
        if tid not in ids:
            ids.append(tid)
    return ids


def failed_names(job, bad, out):
    """'failed: JOB NAME' lines for the tests of OUT that failed (or one
    for the whole job, when its output names none: a crash, a timeout)"""
    if not bad:
        return []
    names = sorted({a or b for a, b in FAILED_TEST_RE.findall(out)})
    if '(timed out)' in out:
        names.append('(timed out)')
    return ['failed: %s %s %s' % (job['kind'], job['name'], n)
            for n in names or ['(no test named: see its output)']]


def job_report(job, ok, bad, secs, cpu, out):
    """a job's output (a unit program's only when it failed) and its
    closing line (SECS of wall time, CPU seconds of it and of every
    process it waited for)"""
    if job['kind'] == 'unit':
        if bad:
            sys.stdout.write(out)
        print('unit %-28s %3d passed, %d failed  CPU %.1f s  %s' %
              (job['name'], ok, bad, cpu, 'ok' if bad == 0 else 'FAILED'),
              flush=True)
        return
    sys.stdout.write(out)
    print('integration %-24s %3d passed, %d failed  %.1f s  CPU %.1f s  %s' %
          (job['name'], ok, bad, secs, cpu, 'ok' if bad == 0 else 'FAILED'),
          flush=True)


def retry(job, out, bad, pattern, timeout):
    """the tests of JOB that failed (BAD of them, its output OUT) run once
    more, alone: a test that fails only when the machine is loaded (a
    timing the host stretched) passes then; one that fails again is a
    failure.  Returns how many passed the second time and the output
    that names those still failing (the second's, or OUT when none ran),
    and prints a 'retried:' line for the job.  A job killed for its time,
    or whose failures name no test (it did not load), is not run again."""
    if '(timed out)' in out:
        return 0, out
    if job['kind'] == 'unit':
        cmd = job['cmd']
    else:
        ids = failed_ids(out)
        if not ids:
            return 0, out
        cmd = [a for a in job['cmd'] if a != job['name']] + ids
    try:
        p = subprocess.run(cmd, cwd=job['cwd'], env=job['env'],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout)
        again = p.stdout.decode('utf-8', 'replace')
        ok2, bad2 = job_counts(job, again, p.returncode, pattern)
    except subprocess.TimeoutExpired:
        return 0, out
    if job['kind'] == 'unit':
        # the whole program ran again: its failures passed, or not
        passed_again = bad if bad2 == 0 and ok2 > 0 else 0
    elif not RAN_RE.search(again):
        passed_again = 0        # the module did not load this time
    else:
        still = set(failed_ids(again))
        passed_again = min(bad, len([i for i in ids if i not in still]))
    if passed_again < bad:
        sys.stdout.write(again)
    print('retried: %s %s: %d of %d failed tests passed the second time'
          % (job['kind'], job['name'], passed_again, bad), flush=True)
    return passed_again, again


def run_pool(build, jobs_list, pattern, jobs, timeout, rerun=True):
    """JOBS_LIST in a pool of JOBS processes, the slowest first, and
    (RERUN) the failed tests once more; returns (passed, failed)"""
    times = load_times(build)
    jobs_list.sort(key=lambda j: -times.get(j['key'], j['size']))
    # a module that runs scons may relink the programs under the others'
    # feet: it runs alone, after them
    alone = [j for j in jobs_list if j['name'] in ALONE]
    pending = [j for j in jobs_list if j['name'] not in ALONE]
    running = {}
    passed = failed = 0
    cpu_total = 0.0
    failed_jobs = []
    while pending or running or alone:
        if not pending and not running:
            pending, alone = alone[:1], alone[1:]
        while pending and len(running) < jobs:
            j = pending.pop(0)
            outf = tempfile.TemporaryFile(dir=build)
            p = subprocess.Popen(j['cmd'], cwd=j['cwd'], env=j['env'],
                                 stdout=outf, stderr=subprocess.STDOUT)
            running[p] = [j, outf, time.time(), False]
        done = None
        while done is None:
            for p, run in running.items():
                # reaped here, not by Popen: wait4 also tells the CPU
                # time of the job and of every process it waited for
                pid, status, ru = os.wait4(p.pid, os.WNOHANG)
                if pid:
                    p.returncode = os.waitstatus_to_exitcode(status)
                    run.append(ru.ru_utime + ru.ru_stime)
                    done = p
                    break
                if not run[3] and time.time() - run[2] > timeout:
                    p.kill()
                    run[1].write(b'\n(timed out)\n')
                    run[3] = True       # killed: waited for, not again
            if done is None:
                time.sleep(0.05)
        j, outf, t, _, cpu = running.pop(done)
        outf.seek(0)
        out = outf.read().decode('utf-8', 'replace')
        outf.close()
        ok, bad = job_counts(j, out, done.returncode, pattern)
        passed += ok
        failed += bad
        times[j['key']] = round(time.time() - t, 1)
        cpu_total += cpu
        job_report(j, ok, bad, times[j['key']], cpu, out)
        if bad:
            failed_jobs.append((j, out, bad))
    try:
        with open(os.path.join(build, 'test-times.json'), 'w') as f:
            json.dump(times, f, indent=1, sort_keys=True)
    except OSError:
        pass
    print('test CPU time: %.1f s' % cpu_total)
    failures = []
    for j, out, bad in failed_jobs:
        again, named = retry(j, out, bad, pattern, timeout) if rerun \
            else (0, out)
        passed += again
        failed -= again
        if again < bad:
            failures += failed_names(j, bad - again, named)
    # repeated at the end, where a log cut to its last lines still has them
    for line in failures:
        print(line)
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
                    help='unit programs and integration modules run at '
                    'once (1: the integration tests in this process, one '
                    'after the other)')
    ap.add_argument('--no-retry', action='store_true',
                    help='do not run failed tests a second time')
    ap.add_argument('--integration-dir', metavar='DIR',
                    help='where the integration modules are (default: '
                    'tests/integration; the runner\'s own test gives '
                    'modules of its own)')
    args = ap.parse_args()

    build = os.path.abspath(os.path.join(ROOT, args.build))
    idir = os.path.abspath(args.integration_dir or
                           os.path.join(HERE, 'integration'))
    passed = failed = 0
    t0 = time.time()

    jobs_list = []
    if not args.integration_only:
        jobs_list += unit_jobs(build, args.pattern)
    if not args.unit_only and args.jobs > 1:
        jobs_list += integration_jobs(build, args.pattern, idir)
    if jobs_list:
        ok, bad = run_pool(build, jobs_list, args.pattern,
                           max(1, args.jobs), args.timeout,
                           not args.no_retry)
        passed += ok
        failed += bad
    if not args.unit_only and args.jobs <= 1:
        # -j 1: the integration tests in this process, one after the other
        os.environ['BOUNCED_BUILD'] = build
        sanitizer_env(os.environ)
        sys.path.insert(0, idir)
        sys.path.insert(0, HERE)
        loader = unittest.TestLoader()
        if args.pattern:
            loader.testNamePatterns = ['*%s*' % args.pattern]
        suite = loader.discover(idir, pattern='test_*.py',
                                top_level_dir=idir)
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
