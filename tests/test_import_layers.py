"""Imports only go down: every import in ``mmhandobj/`` against the layer table.

Every module under ``mmhandobj/`` is parsed (nothing is imported): top-level imports and the
ones inside functions alike, relative imports resolved. An import of a module whose package
stands later in :data:`LAYERS` than the importer's fails the test, naming file, line and rule.
"""
import ast
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import pytest

REPO_ROOT = Path(__file__).parents[1]
PACKAGE = 'mmhandobj'

#: The layers of the project, lowest first, and their packages in order. A module may import
#: its own package and every package listed before its own (in its layer or a lower one);
#: nothing listed after it. The architecture guide in docs/ states the same table.
LAYERS: Tuple[Tuple[str, Tuple[str, ...]], ...] = (
    ('foundation', ('mmhandobj.version', 'mmhandobj', 'mmhandobj.registry',
                    'mmhandobj.structures')),
    ('components', ('mmhandobj.utils', 'mmhandobj.models', 'mmhandobj.datasets',
                    'mmhandobj.evaluation')),
    ('assemblies', ('mmhandobj.visualization', 'mmhandobj.engine', 'mmhandobj.apis',
                    'mmhandobj.synthetic')),
    ('entry points', ('tools', 'demo')),
)
RANK: Dict[str, int] = {name: rank for rank, name in
                        enumerate(name for _, names in LAYERS for name in names)}
LAYER_OF: Dict[str, str] = {name: layer for layer, names in LAYERS for name in names}


def unit_of(module: str) -> Optional[str]:
    """The entry of :data:`LAYERS` a dotted module belongs to (longest match); None when it is
    not the project's (``numpy``, ``mmengine`` ...)."""
    parts = module.split('.')
    for end in range(len(parts), 0, -1):
        name = '.'.join(parts[:end])
        if name in RANK:
            return name
    return None


def module_name(path: Path) -> str:
    """Dotted name of a file under the repository root (``pkg/__init__.py`` -> ``pkg``)."""
    parts = list(path.relative_to(REPO_ROOT).with_suffix('').parts)
    if parts[-1] == '__init__':
        parts.pop()
    return '.'.join(parts)


def imported_modules(path: Path, text: str) -> Iterator[Tuple[int, str]]:
    """``(line, dotted module)`` of every import in ``text`` (the source of ``path``), at any
    depth of the file.

    ``from X import a`` yields ``X`` and ``X.a`` (``a`` may be a submodule); relative imports
    are resolved against the file's package.
    """
    name = module_name(path)
    package = name if path.name == '__init__.py' else name.rpartition('.')[0]
    for node in ast.walk(ast.parse(text, str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split('.')
                base = base[:len(base) - node.level + 1]
                target = '.'.join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            yield node.lineno, target
            for alias in node.names:
                yield node.lineno, f'{target}.{alias.name}'


def upward_imports(sources: Dict[Path, str]) -> List[str]:
    """Every import of ``{path: source text}`` that goes to a package later in
    :data:`LAYERS`, one ``'file:line: rule'`` row per statement and package."""
    found = []
    for path, text in sources.items():
        source = unit_of(module_name(path))
        assert source is not None, f'{path}: not in the layer table; add its package to LAYERS'
        for line, target in imported_modules(path, text):
            unit = unit_of(target)
            if unit is None or unit == source:
                continue
            if RANK[unit] > RANK[source]:
                found.append(f'{path.relative_to(REPO_ROOT)}:{line}: {source} '
                             f'({LAYER_OF[source]}) may not import {unit} '
                             f'({LAYER_OF[unit]}), which stands above it')
    return sorted(set(found))


def package_sources() -> Dict[Path, str]:
    return {path: path.read_text() for path in sorted((REPO_ROOT / PACKAGE).rglob('*.py'))}


def test_every_package_is_in_the_table():
    packages = {module_name(p) for p in (REPO_ROOT / PACKAGE).glob('*/__init__.py')}
    modules = {module_name(p) for p in (REPO_ROOT / PACKAGE).glob('*.py')}
    assert packages | modules <= set(RANK)


def test_imports_only_go_down():
    assert upward_imports(package_sources()) == []


@pytest.mark.parametrize('importer,statement,expected', [
    ('models/mano/mano_layer.py', '    from mmhandobj.synthetic.hand_model import x\n',
     'mmhandobj.models (components) may not import mmhandobj.synthetic (assemblies)'),
    ('structures/bbox.py', 'from ..datasets import detection_file\n',
     'mmhandobj.structures (foundation) may not import mmhandobj.datasets (components)'),
    ('evaluation/metrics/ho3d_metric.py', 'from ...visualization import geometry\n',
     'mmhandobj.evaluation (components) may not import mmhandobj.visualization (assemblies)'),
    ('models/detectors/hand_object_detector.py', 'import mmhandobj.datasets.detection_file\n',
     'mmhandobj.models (components) may not import mmhandobj.datasets (components)'),
])
def test_an_upward_import_is_named(importer, statement, expected):
    """The rule bites: a module's text with one upward import added (lazy, relative or
    absolute) gives exactly one row naming the rule."""
    path = REPO_ROOT / PACKAGE / importer
    added = 'def _lazy():\n' + statement if statement.startswith(' ') else statement
    rows = upward_imports({path: path.read_text() + '\n' + added})
    assert len(rows) == 1 and expected in rows[0], rows
