"""Shared fixtures of the head tests."""
from pathlib import Path
from typing import Callable, Dict, Tuple

import pytest

#: Copy of the authors' HFL-Net state-dict listing (key, shape, dtype per line).
AUTHORS_KEYS_FILE = Path(__file__).parents[2] / 'data' / 'hflnet_state_dict.txt'


def _parse_shape(text: str) -> Tuple[int, ...]:
    return () if text == 'scalar' else tuple(int(v) for v in text.split('x'))


@pytest.fixture(scope='session')
def authors_keys() -> Callable[[str, str], Dict[str, Tuple[int, ...]]]:
    """Return ``select(prefix, new_prefix='')``: the authors' keys under ``prefix`` (with
    ``prefix`` replaced by ``new_prefix``) mapped to their shapes."""
    shapes = {}
    for line in AUTHORS_KEYS_FILE.read_text().splitlines():
        if not line or line.startswith('#'):
            continue
        key, shape, _dtype = line.split()
        shapes[key] = _parse_shape(shape)

    def select(prefix: str, new_prefix: str = '') -> Dict[str, Tuple[int, ...]]:
        return {new_prefix + k[len(prefix):]: v for k, v in shapes.items()
                if k.startswith(prefix)}

    return select
