"""Command-line and config plumbing shared by the tools."""
import argparse
import copy
import difflib
import inspect
import os
import os.path as osp
from typing import Iterable, Mapping, Set

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


#: ``ManoLayer`` arguments that say where its arrays come from (see ``ManoLayer``).
MANO_SOURCE_KEYS = ('mano_root', 'model_path', 'standin_seed', 'model')


def with_standin_mano(model_cfg: Mapping, seed: int = 0) -> dict:
    """A copy of a hand model's config whose MANO layer is the stand-in hand of ``seed``.

    Builds a real-data config without a MANO file (its MANO buffers are not in the state dict,
    so the parameters, keys and FLOPs are the model's own). The config's other MANO arguments
    (``side``, ``units``, ``fingertips``, ...) are kept; ``mano_root`` / ``model_path`` are
    replaced by ``standin_seed=seed``, which ``mmhandobj.synthetic`` provides.

    Args:
        model_cfg: ``cfg.model`` of a model with a ``hand_head`` (its ``mano_cfg`` optional).
        seed: Seed of the stand-in hand.

    Raises:
        KeyError: When the model has no ``hand_head`` (a detector, say).
    """
    model_cfg = copy.deepcopy(model_cfg)
    if 'hand_head' not in model_cfg:
        raise KeyError(f"model config of type {model_cfg.get('type')!r} has no hand_head: "
                       'only a hand model builds a MANO layer')
    head = model_cfg['hand_head']
    kept = {k: v for k, v in (head.get('mano_cfg') or {}).items() if k not in MANO_SOURCE_KEYS}
    head['mano_cfg'] = dict(kept, standin_seed=seed)
    return model_cfg
