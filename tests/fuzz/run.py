#!/usr/bin/env python3
"""Run every libFuzzer target of a build for a while and report crashes.

    python3 tests/fuzz/run.py --build DIR [--seconds N]

Each DIR/fuzz_NAME binary runs for N seconds (default 30) over a temporary
copy of its seed corpus tests/fuzz/corpus/NAME/, so the repository is not
changed; as many run at once as there are CPUs (--jobs).  Crash inputs are kept in DIR/fuzz-artifacts/NAME/.  One line per
target, then "N passed, M failed"; the exit code is 1 when a target
crashed, failed to run, or none was found.
"""
import argparse
import concurrent.futures
import glob
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def sanitizer_env():
    env = dict(os.environ)
    env.setdefault('ASAN_OPTIONS', 'detect_leaks=1:abort_on_error=0:'
                   'detect_stack_use_after_return=1')
    env.setdefault('UBSAN_OPTIONS', 'print_stacktrace=1:halt_on_error=1')
    supp = os.path.join(ROOT, 'tests', 'lsan.supp')
    if os.path.exists(supp):
        env.setdefault('LSAN_OPTIONS', 'suppressions=%s' % supp)
    return env


def targets(build):
    """The fuzz_* executables in BUILD, sorted."""
    found = []
    for path in sorted(glob.glob(os.path.join(build, 'fuzz_*'))):
        if os.path.isfile(path) and os.access(path, os.X_OK) \
                and not path.endswith(('.o', '.c', '.py')):
            found.append(path)
    return found


def run_target(path, seconds, build):
    """Run one target; return (ok, summary, output tail)."""
    name = os.path.basename(path)[len('fuzz_'):]
    seeds = os.path.join(HERE, 'corpus', name)
    artifacts = os.path.join(os.path.abspath(build), 'fuzz-artifacts', name)
    os.makedirs(artifacts, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix='fuzz-%s-' % name) as tmp:
        corpus = os.path.join(tmp, 'corpus')
        if os.path.isdir(seeds):
            shutil.copytree(seeds, corpus)
        else:
            os.makedirs(corpus)
        cmd = [os.path.abspath(path), corpus,
               '-max_total_time=%d' % seconds,
               '-timeout=25', '-rss_limit_mb=2048', '-print_final_stats=1',
               '-artifact_prefix=%s%s' % (artifacts, os.sep)]
        try:
            p = subprocess.run(cmd, cwd=tmp, env=sanitizer_env(),
                               stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT,
                               timeout=seconds + 120)
            out = p.stdout.decode('utf-8', 'replace')
            rc = p.returncode
        except subprocess.TimeoutExpired as e:
            out = (e.stdout or b'').decode('utf-8', 'replace')
            out += '\n(did not stop in time)\n'
            rc = -1
        except OSError as e:
            return False, 'cannot run: %s' % e, ''
    runs = ''
    for line in out.splitlines():
        if line.startswith('stat::number_of_executed_units:'):
            runs = line.rsplit(':', 1)[-1].strip() + ' runs'
    if rc == 0:
        return True, runs or 'ok', ''
    return False, 'exit %d' % rc, crash_report(out)


def crash_report(out):
    """The useful part of a failed run: the error, its stack, the input."""
    lines = out.splitlines()
    start = next((i for i, l in enumerate(lines)
                  if 'ERROR:' in l or 'runtime error' in l
                  or 'deadly signal' in l or 'fuzz_' in l and 'failed' in l),
                 max(0, len(lines) - 30))
    report = lines[start:start + 30]
    report += [l for l in lines[start + 30:] if 'Test unit written' in l]
    return '\n'.join('    ' + l for l in report)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--build', required=True,
                    help='directory holding the fuzz_* binaries')
    ap.add_argument('--seconds', type=int, default=30,
                    help='time given to each target (default 30)')
    ap.add_argument('--jobs', type=int, default=os.cpu_count() or 1,
                    help='targets run at once (default: the CPUs)')
    args = ap.parse_args()
    if args.jobs < 1:
        ap.error('--jobs must be at least 1')
    if args.seconds < 1:
        ap.error('--seconds must be at least 1')

    found = targets(args.build)
    if not found:
        print("fuzz: no fuzz_* binaries in '%s'; build them with "
              "'scons fuzz=1'" % args.build)
        print('0 passed, 0 failed')
        return 1
    passed = failed = 0
    print('fuzz: %d targets, %d s each, %d at once' %
          (len(found), args.seconds, args.jobs), flush=True)
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        runs = [(os.path.basename(p),
                 pool.submit(run_target, p, args.seconds, args.build))
                for p in found]
    for name, fut in runs:
        ok, summary, tail = fut.result()
        if ok:
            passed += 1
            print('%s: ok (%s)' % (name, summary), flush=True)
        else:
            failed += 1
            print('%s: FAILED (%s)' % (name, summary), flush=True)
            if tail:
                print(tail)
    print('%d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
