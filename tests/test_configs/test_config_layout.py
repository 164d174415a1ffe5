"""Config layout: a leaf (a config outside ``configs/_base_/``) inherits bases only, and no config
wipes an inherited key with ``_delete_`` (so a reader finds what a config builds in one jump)."""
import ast
from pathlib import Path
from typing import List

import pytest

CONFIG_ROOT = Path(__file__).parents[2] / 'configs'
BASE_DIR = CONFIG_ROOT / '_base_'
ALL_CONFIGS = sorted(CONFIG_ROOT.rglob('*.py'))


def declared_bases(path: Path) -> List[Path]:
    """The files named by the module-level ``_base_`` of ``path`` (a string or a list)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == '_base_' for t in node.targets):
            value = ast.literal_eval(node.value)
            names = [value] if isinstance(value, str) else list(value)
            return [(path.parent / name).resolve() for name in names]
    return []


def uses_delete(path: Path) -> bool:
    """Whether ``path`` sets ``_delete_`` (a ``dict(_delete_=...)`` keyword or a dict key)."""
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.keyword) and node.arg == '_delete_':
            return True
        if isinstance(node, ast.Dict) and any(
                isinstance(k, ast.Constant) and k.value == '_delete_' for k in node.keys):
            return True
    return False


def test_configs_found():
    leaves = [p for p in ALL_CONFIGS if BASE_DIR not in p.parents]
    assert len(leaves) >= 18 and len(ALL_CONFIGS) > len(leaves)


@pytest.mark.parametrize('path', ALL_CONFIGS, ids=lambda p: str(p.relative_to(CONFIG_ROOT)))
def test_inherits_only_bases(path):
    for base in declared_bases(path):
        assert base.is_file(), f'{path}: _base_ names {base}, which does not exist'
        assert BASE_DIR.resolve() in base.parents, (
            f'{path}: _base_ names {base}, a leaf config; inherit files under configs/_base_/ '
            'only (move what the two leaves share into a base)')


@pytest.mark.parametrize('path', ALL_CONFIGS, ids=lambda p: str(p.relative_to(CONFIG_ROOT)))
def test_no_delete(path):
    assert not uses_delete(path), (
        f'{path}: _delete_ wipes an inherited key; inherit a base that does not set it instead')
