"""test_layout.py - docs/ARCHITECTURE.md's source layout matches the tree.

Every file under src/PART/ is named on PART's line of the "Source layout"
table, every file named there exists, and src/ holds folders only (a file
left at the top of src/ belongs to no part).
"""
import os
import re
import unittest

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), '..', '..'))


class TestLayout(unittest.TestCase):
    def test_every_source_in_its_part(self):
        with open(os.path.join(ROOT, 'docs', 'ARCHITECTURE.md')) as f:
            text = f.read()
        rows = dict(re.findall(r'^\| `src/([a-z_]+)/` \|[^|]*\| (.*) \|$',
                               text, re.M))
        src = os.path.join(ROOT, 'src')
        loose = [n for n in os.listdir(src)
                 if not os.path.isdir(os.path.join(src, n))]
        self.assertEqual(loose, [], 'files outside a part folder')
        parts = sorted(n for n in os.listdir(src)
                       if os.path.isdir(os.path.join(src, n)))
        self.assertEqual(sorted(rows), parts)
        for part in parts:
            named = set(re.findall(r'`([^`]+)`', rows[part]))
            here = set(os.listdir(os.path.join(src, part)))
            self.assertEqual(here - named, set(),
                             'src/%s: files the table does not name' % part)
            self.assertEqual(named - here, set(),
                             'src/%s: named, but not there' % part)


if __name__ == '__main__':
    unittest.main()
