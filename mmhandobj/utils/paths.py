"""Refuse outputs that would overwrite an input of the same run."""
import os.path as osp
from typing import Iterable, Optional


class OverwriteError(ValueError):
    """An output path is one of the inputs (the message names both)."""


def _same_file(a: str, b: str) -> bool:
    """Whether two paths name one file: same real path, or same inode (hard links)."""
    if osp.realpath(a) == osp.realpath(b):
        return True
    try:
        return osp.samefile(a, b)
    except OSError:
        return False


def refuse_overwrite(inputs: Iterable[Optional[str]], outputs: Iterable[Optional[str]]) -> None:
    """Raise when writing any of ``outputs`` would replace one of ``inputs``.

    An output is refused when it is an input (compared by real path after symlinks, and by
    inode, so hard links and ``./a`` vs ``a`` count), or when an input is a folder (e.g. a
    folder of video frames) and the output is an existing file inside it. ``None`` entries
    and inputs that are not paths on disk (a webcam index) are ignored.

    Args:
        inputs: Paths the run reads (files or folders).
        outputs: Paths the run writes (files).

    Raises:
        OverwriteError: Naming the output and the input it would overwrite.
    """
    sources = [str(p) for p in inputs if p is not None and osp.exists(str(p))]
    for output in outputs:
        if output is None:
            continue
        output = str(output)
        real_out = osp.realpath(output)
        for source in sources:
            if _same_file(output, source):
                raise OverwriteError(f'refusing to write {output}: it is the input {source}; '
                                     'choose another output path')
            if osp.isdir(source) and osp.exists(output) and not osp.isdir(output):
                real_in = osp.realpath(source)
                if osp.commonpath([real_in, real_out]) == real_in:
                    raise OverwriteError(
                        f'refusing to write {output}: it would replace a file of the input '
                        f'folder {source}; choose an output path outside it')

