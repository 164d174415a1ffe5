"""tools/test.py with a detector config: --out dets.json writes a readable detection file."""
import os
import os.path as osp
import subprocess
import sys
from argparse import Namespace
from pathlib import Path

import pytest
import torch
from repo_scripts import load_script

from mmhandobj.apis.detection import init_detector
from mmhandobj.datasets.converters import convert_ho3d
from mmhandobj.datasets.detection_file import load_detection_file

ROOT = Path(__file__).parents[2]
TOOL = ROOT / 'tools' / 'test.py'
DET_CONFIG = str(ROOT / 'configs' / 'det' / 'fcos_mbv3s_synthetic.py')


def _tool():
    return load_script('tools/test.py', 'test_tool')


def test_json_out_needs_a_detector_config(tmp_path):
    ckpt = tmp_path / 'x.pth'
    ckpt.write_bytes(b'')
    args = Namespace(config=str(ROOT / 'configs' / 'hfl' / 'hfl_r18_synthetic.py'),
                     checkpoint=str(ckpt), out=str(tmp_path / 'dets.json'), show_dir=None,
                     work_dir=str(tmp_path), cfg_options=None, launcher='none', local_rank=0)
    with pytest.raises(SystemExit, match='needs a detector config'):
        _tool().build_config(args)


def test_detector_test_writes_the_detection_file(tmp_path, ho3d_raw_root):
    for split in ('train', 'evaluation'):
        ann = osp.join(ho3d_raw_root, 'annotations', f'ho3d_v2_{split}.npz')
        if not osp.isfile(ann):
            convert_ho3d(ho3d_raw_root, ann, split, 'v2')
    torch.manual_seed(0)
    ckpt = tmp_path / 'det.pth'
    torch.save(dict(state_dict=init_detector(DET_CONFIG).state_dict()), ckpt)
    out = tmp_path / 'dets.json'
    options = [f'test_dataloader.dataset.data_root={ho3d_raw_root}',
               'test_dataloader.dataset.num_frames=24',
               'test_dataloader.dataset.val_sequences=[GPMF10]',
               'test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False']
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, str(TOOL), DET_CONFIG, str(ckpt), '--out', str(out),
                           '--work-dir', str(tmp_path / 'work'), '--cfg-options', *options],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    assert 'det/hand_recall@0.5' in proc.stdout + proc.stderr
    dets = load_detection_file(str(out))
    keys = [k for k in dets if k.startswith('GPMF10/')]
    assert keys and all(isinstance(dets[k], list) for k in keys)
