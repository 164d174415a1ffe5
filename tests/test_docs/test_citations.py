"""Every document the repo cites exists in the repo; docs/ items, paths and links resolve.

Code comments cite ``docs/reference_parity.md`` R<n> and ``docs/data_formats.md`` D<n>; a
citation of a document outside the repo (the facts the project was built from), of a missing
``.md`` file or of an item number the document does not have is reported with file and line.
Every relative link of the user documents (README, changelog, docs/, the model cards) must
resolve to a file of the repo, and no file may point outside the repo or to issue numbers.
"""
import os
import re
import subprocess
from pathlib import Path
from typing import Dict, List, Set

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / 'docs'
#: Documents whose numbered items code may cite, and the item letter of each.
ITEM_DOCS = {'reference_parity.md': 'R', 'data_formats.md': 'D'}
TEXT_SUFFIXES = ('.py', '.md', '.sh', '.txt', '.cfg', '.toml', '.yml', '.yaml', '')
MD_CITATION = re.compile(r'(?<![\w/.-])((?:[\w.-]+/)*[\w-]+\.md)\b')
ITEM = re.compile(r'\b([A-Z])(\d+)(?:\s*-\s*\1?(\d+))?\b')
#: Old-style citations of the outside reference ("quirk B9", "bug B4").
OUTSIDE_ITEM = re.compile(r'\b(?:quirk|bug)s?[\s#]+B\d+', re.IGNORECASE)
#: A markdown link or image target: ``[text](target)`` / ``![alt](target "title")``.
MD_LINK = re.compile(r'\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)')
#: Text that points outside the repo or at the tracker instead of saying what it means.
OUTSIDE_TEXT = re.compile(r'\.\./shared\b|/work/|\bissues?\s*#?\d+\b', re.IGNORECASE)
#: The README is a short page for users; everything else lives in docs/.
README_MAX_BYTES = 10 * 1024


def user_documents() -> List[Path]:
    """README, changelog, every page under docs/ and every config folder's model card."""
    docs = [ROOT / 'README.md', ROOT / 'CHANGELOG.md'] + sorted(DOCS.rglob('*.md'))
    return docs + sorted((ROOT / 'configs').glob('*/README.md'))


def repo_files() -> List[Path]:
    """Tracked and untracked-but-not-ignored text files of the repository."""
    try:
        out = subprocess.run(['git', 'ls-files', '--cached', '--others', '--exclude-standard'],
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout
        names = out.split('\n')
    except (OSError, subprocess.CalledProcessError):
        names = [str(p.relative_to(ROOT)) for p in ROOT.rglob('*') if '.git' not in p.parts]
    files = [ROOT / n for n in names if n]
    return [p for p in files if p.is_file() and p.suffix in TEXT_SUFFIXES
            and p.resolve() != Path(__file__).resolve()]


def doc_items(path: Path, letter: str) -> Set[int]:
    """Item numbers defined in a numbered document (``**R1.`` or ``## D1.`` headings)."""
    text = path.read_text()
    return {int(n) for n in re.findall(rf'(?:\*\*|^## ){letter}(\d+)\.', text, re.MULTILINE)}


def cited_items(text: str, letter: str) -> Set[int]:
    """Item numbers in ``text`` such as ``R5``, ``R18-R19`` or ``D1-4``."""
    items = set()
    for match in ITEM.finditer(text):
        if match.group(1) != letter:
            continue
        first = int(match.group(2))
        last = int(match.group(3)) if match.group(3) else first
        items.update(range(first, last + 1))
    return items


def citation_problems(text: str, where: Path, items: Dict[str, Set[int]]) -> List[str]:
    """Problems of the citations in ``text`` (the content of file ``where``)."""
    problems = []
    name_of = where.relative_to(ROOT) if where.is_absolute() else where
    outside_lines = {text.count('\n', 0, m.start()) + 1 for m in OUTSIDE_ITEM.finditer(text)}
    for lineno, line in enumerate(text.splitlines(), 1):
        loc = f'{name_of}:{lineno}'
        if 'shared/spec' in line:
            problems.append(f'{loc}: cites shared/spec, which is not part of the repo')
        if lineno in outside_lines:
            problems.append(f'{loc}: cites an outside quirk/bug number; cite '
                            'docs/reference_parity.md R<n> instead')
        for match in MD_CITATION.finditer(line):
            name = match.group(1)
            candidates = [ROOT / name, where.parent / name, DOCS / name]
            if not any(c.is_file() for c in candidates):
                problems.append(f'{loc}: cites {name}, which does not exist in the repo')
                continue
            doc = Path(name).name
            if doc in ITEM_DOCS and (DOCS / doc).is_file():
                tail = re.split(r'[)\n;]', line[match.end():])[0][:80]
                missing = cited_items(tail, ITEM_DOCS[doc]) - items[doc]
                if missing:
                    problems.append(f'{loc}: cites {doc} item(s) '
                                    f'{sorted(missing)} that it does not define')
    return problems


def link_problems(text: str, where: Path) -> List[str]:
    """Relative links in markdown ``text`` (of file ``where``) whose target is not a file."""
    problems = []
    name_of = where.relative_to(ROOT) if where.is_absolute() else where
    for lineno, line in enumerate(text.splitlines(), 1):
        for match in MD_LINK.finditer(line):
            target = match.group(1)
            if re.match(r'[a-z][a-z0-9+.-]*:', target) or target.startswith('#'):
                continue  # a URL, mailto: or an anchor on the same page
            path = target.split('#')[0]
            resolved = (where.parent / path).resolve()
            if not resolved.exists():
                problems.append(f'{name_of}:{lineno}: link to {target}, which does not exist')
            elif ROOT not in resolved.parents and resolved != ROOT:
                problems.append(f'{name_of}:{lineno}: link to {target}, outside the repo')
    return problems


def outside_text_problems(text: str, where: Path) -> List[str]:
    """Lines of ``text`` that point outside the repo or cite an issue number."""
    name_of = where.relative_to(ROOT) if where.is_absolute() else where
    return [f'{name_of}:{lineno}: {match.group(0)!r}: say what it means, in the repo'
            for lineno, line in enumerate(text.splitlines(), 1)
            for match in OUTSIDE_TEXT.finditer(line)]


@pytest.fixture(scope='module')
def items() -> Dict[str, Set[int]]:
    return {doc: doc_items(DOCS / doc, letter) for doc, letter in ITEM_DOCS.items()}


def test_numbered_docs_exist_and_define_items(items):
    assert len(items['reference_parity.md']) >= 30
    assert items['data_formats.md'] >= set(range(1, 9))


def test_checker_reports_planted_bad_citations(items):
    planted = '\n'.join([
        '# see hfl_' + 'reference.md 5.2',                    # outside document
        '# as the reference (quirk\n# ' + 'B9)',               # outside item, over 2 lines
        '# layout in /work/shared/' + 'spec/x',                # outside folder
        '# docs/reference_parity.md R999',                     # item that does not exist
        '# docs/missing_' + 'doc.md',                          # document that does not exist
        '# fine: docs/reference_parity.md R3, docs/data_formats.md D6',
    ])
    problems = citation_problems(planted, ROOT / 'mmhandobj' / 'planted.py', items)
    assert [p.split(':')[1] for p in problems] == ['1', '2', '4', '5', '6']


def test_no_file_cites_a_document_outside_the_repo(items):
    problems = []
    for path in repo_files():
        problems += citation_problems(path.read_text(errors='replace'), path, items)
    assert problems == [], '\n'.join(problems)


def test_paths_named_in_docs_exist():
    """Every repository path a user document names in backticks exists (docs follow the code)."""
    missing = []
    for doc in user_documents():
        for lineno, line in enumerate(doc.read_text().splitlines(), 1):
            for path in re.findall(r'`((?:mmhandobj|configs|tools|tests|demo|docs)/[\w./-]+)`',
                                   line):
                if not (ROOT / path.rstrip('/')).exists():
                    missing.append(f'{doc.relative_to(ROOT)}:{lineno}: {path}')
    assert missing == [], '\n'.join(missing)


def test_checkers_report_planted_bad_links_and_outside_text(tmp_path):
    planted = '\n'.join([
        'fine: [zoo](docs/model_zoo.md#comparing), [web](https://x.org/a.md), [top](#install)',
        'broken: [gone](docs/no_such_' + 'page.md)',
        '![picture](docs/images/no_such.' + 'png)',
        'outside: [spec](../../etc/' + 'passwd)',
        'run ../' + 'shared/bench/x.py',
        'see /wor' + 'k/main',
        'as in iss' + 'ue 11, fixed',
    ])
    where = ROOT / 'planted.md'
    assert [p.split(':')[1] for p in link_problems(planted, where)] == ['2', '3', '4']
    assert [p.split(':')[1] for p in outside_text_problems(planted, where)] == ['5', '6', '7']


def test_every_relative_link_of_the_documents_resolves():
    problems = []
    for doc in user_documents():
        problems += link_problems(doc.read_text(), doc)
    assert problems == [], '\n'.join(problems)


def test_no_file_points_outside_the_repo_or_at_issue_numbers():
    problems = []
    for path in repo_files():
        problems += outside_text_problems(path.read_text(errors='replace'), path)
    assert problems == [], '\n'.join(problems)


def test_readme_is_short_and_links_every_doc():
    readme = (ROOT / 'README.md').read_text()
    assert len(readme.encode()) <= README_MAX_BYTES, 'README.md: move detail into docs/'
    for doc in sorted(DOCS.rglob('*.md')):
        assert f'](docs/{doc.relative_to(DOCS).as_posix()})' in readme, doc.name
    assert os.path.isdir(DOCS)
