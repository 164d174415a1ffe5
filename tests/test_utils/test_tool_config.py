"""``load_tool_config``: the config the tools run, logged and dumped without a yapf pass."""
import argparse
from pathlib import Path

import mmengine.config.config as mmengine_config
from mmengine.config import Config

from mmhandobj.utils import load_tool_config

CONFIG = str(Path(__file__).parents[2] / 'configs' / 'hfl' / 'hfl_r18_synthetic.py')


def test_tool_config_dumps_a_reloadable_copy_without_running_yapf(tmp_path, monkeypatch):
    args = argparse.Namespace(config=CONFIG, cfg_options={'train_cfg.max_epochs': 3},
                              work_dir=str(tmp_path / 'wd'), local_rank=0)
    cfg = load_tool_config(args)

    def no_yapf(*args, **kwargs):
        raise AssertionError('yapf ran over the config text')

    monkeypatch.setattr(mmengine_config, 'FormatCode', no_yapf)
    text = cfg.pretty_text  # what the Runner logs
    assert 'max_epochs=3' in text.replace(' ', '')
    cfg.dump(str(tmp_path / 'copy.py'))  # what the Runner writes into the work dir
    copy = Config.fromfile(str(tmp_path / 'copy.py'))
    assert copy.to_dict() == cfg.to_dict()
    assert copy.train_cfg.max_epochs == 3 and copy.work_dir == str(tmp_path / 'wd')
    assert cfg.filename == CONFIG
