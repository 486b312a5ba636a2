"""test_runner - the suite's runner (tests/run.py) on tests of its own.

A failed test runs once more, alone, after the others: one that passes
then counts as passed and a 'retried:' line says so; one that fails again
is a failure, named in a 'failed:' line at the end.  Checked on a build
directory of fake cmocka programs (shell scripts that print what cmocka
prints) and a directory of unittest modules, each with a test that fails
the first time only, one that always fails and one that passes; and the
same with --no-retry, where nothing runs twice.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
RUN = os.path.join(os.path.dirname(HERE), 'run.py')

# a cmocka program's output for its one test NAME, passed or failed
UNIT_OK = 'echo "[ RUN      ] %(n)s"; echo "[       OK ] %(n)s"; ' \
          'echo "[  PASSED  ] 1 test(s)."; exit 0'
UNIT_FAIL = 'echo "[ RUN      ] %(n)s"; echo "[  FAILED  ] %(n)s"; ' \
            'echo "[  FAILED  ] 1 test(s), listed below:"; ' \
            'echo "[  FAILED  ] %(n)s"; exit 1'

UNITS = {
    # fails the first time it runs (no mark beside it yet), then passes
    'test_flaky': '#!/bin/sh\nif [ -e "$0.ran" ]; then %s; fi\n'
                  ': > "$0.ran"\n%s\n' % (UNIT_OK % {'n': 't_flaky'},
                                          UNIT_FAIL % {'n': 't_flaky'}),
    'test_always': '#!/bin/sh\n%s\n' % (UNIT_FAIL % {'n': 't_always'}),
    'test_good': '#!/bin/sh\n%s\n' % (UNIT_OK % {'n': 't_good'}),
}

MODULE = '''import os
import unittest

MARK = os.environ['RUNNER_TEST_MARK']


class Fake(unittest.TestCase):
    def test_flaky(self):
        if not os.path.exists(MARK):
            open(MARK, 'w').close()
            self.fail('the first time only')

    def test_always(self):
        self.fail('every time')

    def test_good(self):
        pass
'''


class RunnerRetry(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='bounced-runner-')
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.build = os.path.join(self.tmp, 'build')
        os.makedirs(os.path.join(self.build, 'tests'))
        for name, text in UNITS.items():
            path = os.path.join(self.build, 'tests', name)
            with open(path, 'w') as f:
                f.write(text)
            os.chmod(path, 0o755)
        self.idir = os.path.join(self.tmp, 'integration')
        os.makedirs(self.idir)
        with open(os.path.join(self.idir, 'test_fakemod.py'), 'w') as f:
            f.write(MODULE)

    def run_suite(self, *extra):
        env = dict(os.environ,
                   RUNNER_TEST_MARK=os.path.join(self.tmp, 'module.ran'))
        p = subprocess.run([sys.executable, RUN, '--build', self.build,
                            '--integration-dir', self.idir, '-j', '2',
                            '--timeout', '60'] + list(extra),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           env=env, timeout=120)
        return p.returncode, p.stdout.decode('utf-8', 'replace')

    def test_failed_once_passes_the_second_time(self):
        rc, out = self.run_suite()
        self.assertEqual(rc, 1, out)
        lines = out.splitlines()
        # the unit program and the module that failed once ran again
        self.assertIn('retried: unit test_flaky: 1 of 1 failed tests '
                      'passed the second time', lines)
        self.assertIn('retried: unit test_always: 0 of 1 failed tests '
                      'passed the second time', lines)
        self.assertIn('retried: integration test_fakemod: 1 of 2 failed '
                      'tests passed the second time', lines)
        # only what failed twice is named, after the CPU line
        failed = [ln for ln in lines if ln.startswith('failed: ')]
        self.assertEqual(sorted(failed), [
            'failed: integration test_fakemod test_always '
            '(test_fakemod.Fake.test_always)',
            'failed: unit test_always t_always'], out)
        cpu = [i for i, ln in enumerate(lines)
               if ln.startswith('test CPU time:')]
        self.assertTrue(cpu and all(lines.index(ln) > cpu[0]
                                    for ln in failed), out)
        # the good ones, and the flaky ones the second time
        self.assertEqual(lines[-1], '4 passed, 2 failed', out)

    def test_no_retry(self):
        rc, out = self.run_suite('--no-retry')
        self.assertEqual(rc, 1, out)
        self.assertNotIn('retried:', out)
        self.assertEqual(out.splitlines()[-1], '2 passed, 4 failed', out)
        self.assertIn('failed: unit test_flaky t_flaky', out.splitlines())
        # nothing ran twice: the unit program's mark is its first run's
        self.assertTrue(os.path.exists(os.path.join(self.build, 'tests',
                                                    'test_flaky.ran')))

    def test_all_pass(self):
        for name in ('test_always', 'test_flaky'):
            os.unlink(os.path.join(self.build, 'tests', name))
        with open(os.path.join(self.idir, 'test_fakemod.py'), 'w') as f:
            f.write(MODULE.replace("self.fail('every time')", 'pass'))
        open(os.path.join(self.tmp, 'module.ran'), 'w').close()
        rc, out = self.run_suite()
        self.assertEqual(rc, 0, out)
        self.assertNotIn('retried:', out)
        self.assertNotIn('failed: ', out)
        self.assertEqual(out.splitlines()[-1], '4 passed, 0 failed', out)


if __name__ == '__main__':
    unittest.main()
