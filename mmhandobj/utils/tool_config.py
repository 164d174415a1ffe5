"""Command-line plumbing shared by ``tools/train.py`` and ``tools/test.py``."""
import argparse
import difflib
import inspect
import os
import os.path as osp
from typing import Iterable, Set

from mmengine.config import Config, DictAction


def add_common_tool_args(parser: argparse.ArgumentParser) -> None:
    """Add ``--work-dir``, ``--cfg-options``, ``--launcher`` and ``--local-rank`` to ``parser``."""
    parser.add_argument('--work-dir', help='where logs, checkpoints and outputs go '
                        '(default: work_dirs/<config name>)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys, e.g. train_dataloader.batch_size=8')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def runner_config_keys() -> Set[str]:
    """Top-level config keys MMEngine's ``Runner.from_cfg`` reads (its constructor arguments)."""
    from mmengine.runner import Runner
    keys = set(inspect.signature(Runner.__init__).parameters) - {'self', 'cfg'}
    return keys | {'launcher', 'env_cfg', 'log_level', 'auto_scale_lr', 'default_scope',
                   'randomness', 'load_from', 'resume', 'custom_imports'}


def check_top_level_keys(options: dict, config_keys: Iterable[str], config: str) -> None:
    """Refuse ``--cfg-options`` whose top-level key neither the config nor the Runner knows.

    A typo such as ``load_form=x`` would otherwise be stored and ignored (training from scratch
    with exit code 0).

    Args:
        options: Parsed ``--cfg-options`` (``'a.b.c' -> value``).
        config_keys: The config's own top-level keys.
        config: Config path, for the message.

    Raises:
        SystemExit: Naming the unknown keys and the closest known ones.
    """
    known = set(config_keys) | runner_config_keys()
    unknown = sorted({key.split('.')[0] for key in options} - known)
    if not unknown:
        return
    hints = []
    for key in unknown:
        close = difflib.get_close_matches(key, sorted(known), n=3)
        hints.append(f'{key!r}' + (f' (did you mean {", ".join(map(repr, close))}?)'
                                   if close else ''))
    raise SystemExit(f'--cfg-options: unknown top-level key(s) {", ".join(hints)}: neither '
                     f'{config} nor MMEngine\'s Runner uses them. Fix the spelling, or add the '
                     'key to the config file if it is new.')


def load_tool_config(args: argparse.Namespace) -> Config:
    """Load ``args.config`` and apply ``--cfg-options`` and ``--work-dir`` to it.

    Also exports ``LOCAL_RANK`` for launchers that pass it as an argument.

    Args:
        args: Parsed arguments holding ``config``, ``cfg_options``, ``work_dir``, ``local_rank``.

    Returns:
        The config, with ``work_dir`` set (default ``work_dirs/<config file stem>``).
    """
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    if not osp.isfile(args.config):
        raise SystemExit(f'config file {args.config} does not exist')
    cfg = Config.fromfile(args.config)
    # No yapf pass over the config text: MMEngine formats it for the log and for the copy in
    # the work dir, about 0.8 s per pass, five passes a run (the copy stays valid Python).
    # Rebuilt because MMEngine 0.10's ``fromfile`` drops ``format_python_code`` for non-lazy
    # configs.
    cfg = Config(cfg.to_dict(), cfg_text=cfg.text, filename=cfg.filename,
                 env_variables=cfg.env_variables, format_python_code=False)
    if args.cfg_options is not None:
        check_top_level_keys(args.cfg_options, cfg.keys(), args.config)
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('work_dirs', osp.splitext(osp.basename(args.config))[0])
    return cfg
