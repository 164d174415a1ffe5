import importlib.util
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from mmhandobj.apis import init_model

REPO = Path(__file__).parents[2]
DEMO = REPO / 'demo' / 'image_demo.py'
H, W = 240, 320


def write_config(path: Path) -> str:
    """The quick-start config with a 32-channel model (fast on CPU)."""
    base = str(REPO / 'configs' / 'hfl' / 'hfl_r18_synthetic.py')
    path.write_text(
        f'_base_ = [{base!r}]\n'
        'model = dict(\n'
        '    neck=dict(out_channels=32),\n'
        '    obj_to_hand_fusion=dict(in_channels=32),\n'
        '    hand_to_obj_fusion=dict(in_channels=32),\n'
        '    hand_head=dict(in_channels=32, mano_hidden=[64, 32]),\n'
        '    obj_head=dict(in_channels=32))\n')
    return str(path)


def run_demo(*args):
    return subprocess.run([sys.executable, str(DEMO), *args], cwd=REPO, capture_output=True,
                          text=True, timeout=300)


def test_help_explains_the_inputs(monkeypatch, capsys):
    spec = importlib.util.spec_from_file_location('image_demo', DEMO)
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    monkeypatch.setattr(sys, 'argv', ['image_demo.py', '--help'])
    with pytest.raises(SystemExit) as exit_info:
        demo.parse_args()
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for flag in ('--hand-bbox', '--obj-bbox', '--cam-intr', '--obj-name', '--obj-model-root',
                 '--root', '--out', '--device', 'RELATIVE TO THE WRIST'):
        assert flag in text


def test_demo_end_to_end(tmp_path):
    config = write_config(tmp_path / 'tiny.py')
    torch.manual_seed(0)
    ckpt = tmp_path / 'tiny.pth'
    torch.save(dict(state_dict=init_model(config).state_dict()), ckpt)
    rng = np.random.default_rng(0)
    img = tmp_path / 'img.png'
    cv2.imwrite(str(img), rng.integers(0, 255, (H, W, 3), dtype=np.uint8))
    (tmp_path / 'models' / 'cube').mkdir(parents=True)
    np.savetxt(tmp_path / 'models' / 'cube' / 'points.xyz', rng.uniform(-0.04, 0.04, (50, 3)))
    out = tmp_path / 'out' / 'vis.jpg'
    result = run_demo(str(img), config, str(ckpt), '--hand-bbox', '40', '50', '150', '170',
                      '--obj-bbox', '120', '80', '260', '200', '--obj-name', 'cube',
                      '--obj-model-root', str(tmp_path / 'models'), '--cam-intr', '300', '300',
                      '160', '120', '--root', '0.0', '0.0', '0.5', '--out', str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    picture = cv2.imread(str(out))
    assert picture.shape == (H, W, 3)
    lines = result.stdout.splitlines()
    wrist = next(line for line in lines if line.strip().startswith('wrist '))
    assert [float(v) for v in wrist.split()[1:]] == pytest.approx([0.0, 0.0, 0.0], abs=1e-3)
    assert sum(line.strip().startswith(('thumb_', 'index_', 'pinky_')) for line in lines) == 12
    assert sum(line.strip().startswith('R ') for line in lines) == 3
    assert any(line.strip().startswith('t (m)') for line in lines)


def test_demo_refuses_a_box_outside_the_image(tmp_path):
    config = write_config(tmp_path / 'tiny.py')
    ckpt = tmp_path / 'tiny.pth'
    torch.save(dict(state_dict=init_model(config).state_dict()), ckpt)
    img = tmp_path / 'img.png'
    cv2.imwrite(str(img), np.zeros((H, W, 3), np.uint8))
    result = run_demo(str(img), config, str(ckpt), '--hand-bbox', '400', '50', '450', '170',
                      '--obj-bbox', '120', '80', '260', '200', '--cam-intr', '300', '300',
                      '160', '120', '--out', str(tmp_path / 'vis.jpg'))
    assert result.returncode != 0
    assert f'hand_bboxes[0]: box [400.0, 50.0, 450.0, 170.0] lies entirely outside the {W}x{H}' \
        in result.stderr
    assert 'Traceback' not in result.stderr
    assert not (tmp_path / 'vis.jpg').exists()
