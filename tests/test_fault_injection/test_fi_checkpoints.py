"""Checkpoints of another model, files that are no torch checkpoint, broken resume pointers."""
import pickle

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from torch import nn

from mmhandobj.apis import init_model
from mmhandobj.utils import TRUST_ENV, find_resume_checkpoint, load_checkpoint_file
from mmhandobj.utils.checkpoint import CheckpointFileError, check_checkpoint_fits


def _tiny() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Linear(4, 2))


@pytest.fixture
def not_checkpoints(tmp_path):
    """Files that are no torch checkpoint, with what the message must call them."""
    files = {}
    cv2.imwrite(str(tmp_path / 'a.png'), np.zeros((8, 8, 3), np.uint8))
    files['a.png'] = 'a PNG image'
    (tmp_path / 'notes.txt').write_text('hello\n')
    files['notes.txt'] = 'a text file'
    (tmp_path / 'list.pkl').write_bytes(pickle.dumps([1, 2, 3]))
    files['list.pkl'] = 'a plain pickle'
    torch.save(torch.zeros(3), tmp_path / 'tensor.pth')
    files['tensor.pth'] = 'holds a Tensor'
    torch.save({'state_dict': {'w': torch.zeros(1000)}}, tmp_path / 'legacy.pth',
               _use_new_zipfile_serialization=False)
    data = (tmp_path / 'legacy.pth').read_bytes()
    (tmp_path / 'legacy_cut.pth').write_bytes(data[:len(data) // 2])
    files['legacy_cut.pth'] = 'truncated'
    return {str(tmp_path / name): what for name, what in files.items()}


def test_files_that_are_no_checkpoint_are_called_that_without_inviting_trust(
        not_checkpoints, monkeypatch):
    monkeypatch.delenv(TRUST_ENV, raising=False)
    for path, what in not_checkpoints.items():
        with pytest.raises(CheckpointFileError) as info:
            load_checkpoint_file(path)
        message = str(info.value)
        assert path in message and what in message, message
        assert TRUST_ENV not in message


def test_checkpoint_fit_is_judged_on_matching_keys_and_shapes(tmp_path):
    model = _tiny()
    own = model.state_dict()
    check_checkpoint_fits(model, 'own.pth', {'state_dict': own})  # fits
    partial = {k: v for i, (k, v) in enumerate(own.items()) if i < len(own) // 2 + 1}
    check_checkpoint_fits(model, 'half.pth', {'state_dict': partial})  # more than half
    other = {f'backbone.{k}': v for k, v in own.items()}
    with pytest.raises(CheckpointFileError, match=r"other.pth does not fit Sequential: 0 of "
                       rf"its {len(own)} weights match.*'0.weight'.*'backbone.0.weight'"):
        check_checkpoint_fits(model, 'other.pth', {'state_dict': other})
    reshaped = {k: torch.zeros(7) for k in own}
    with pytest.raises(CheckpointFileError, match='reshaped.pth'):
        check_checkpoint_fits(model, 'reshaped.pth', {'state_dict': reshaped})


def test_init_model_refuses_a_checkpoint_of_another_model(tmp_path):
    from tests.conftest import build_hfl_model_cfg
    cfg = Config(dict(model=build_hfl_model_cfg(tiny=True), default_scope='mmhandobj'))
    path = str(tmp_path / 'detector.pth')
    torch.save({'state_dict': _tiny().state_dict(), 'meta': {}}, path)
    with pytest.raises(CheckpointFileError, match=rf'checkpoint {path} does not fit HFLNet'):
        init_model(cfg, path)


def test_resume_pointer_naming_a_truncated_file_or_binary_falls_back(tmp_path):
    torch.save({'state_dict': {'w': torch.zeros(3)}}, tmp_path / 'epoch_1.pth')
    torch.save({'state_dict': {'w': torch.zeros(3)}}, tmp_path / 'epoch_2.pth')
    data = (tmp_path / 'epoch_2.pth').read_bytes()
    (tmp_path / 'epoch_2.pth').write_bytes(data[:len(data) // 2])
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_2.pth'))
    assert find_resume_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_1.pth')
    (tmp_path / 'last_checkpoint').write_bytes(b'\xff\xfe\x00binary')
    assert find_resume_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_1.pth')
