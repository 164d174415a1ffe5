"""The Semi-Hand-Object configs and HFL-Net's ablation configs: they parse, build what they name,
have the expected size and train one iteration."""
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.structures import InstanceData

from mmhandobj.apis import register_all_modules
from mmhandobj.registry import DATASETS, METRICS, MODELS, TRANSFORMS
from mmhandobj.structures.hand_object_data_sample import HandObjectDataSample
from mmhandobj.utils import with_standin_mano

ROOT = Path(__file__).parents[2]
CONFIGS = sorted((ROOT / 'configs' / 'sho').glob('*.py')) + sorted(
    (ROOT / 'configs' / 'hfl' / 'ablations').glob('*.py'))

# Per-module parameter counts of the authors' HFL-Net R50 (46,080,659 in all).
HFL_R50 = 46_080_659
LAYER2, LAYER3 = 1_219_584, 7_098_368
STEM, LAYER1, LAYER4 = 9_536, 215_808, 14_964_736
ONE_FPN = 1_574_144
OBJ_TO_HAND, HAND_TO_OBJ = 2_888_704, 723_456
EXPECTED_PARAMS = {
    'hfl_r50_single_stream_ho3d': HFL_R50 - LAYER2 - LAYER3 - ONE_FPN,
    'hfl_r50_two_stream_ho3d': HFL_R50 + STEM + LAYER1 + LAYER4,
    'hfl_r50_no_obj_to_hand_ho3d': HFL_R50 - OBJ_TO_HAND,
    'hfl_r50_no_hand_to_obj_ho3d': HFL_R50 - HAND_TO_OBJ,
    # SHO = single-stream HFL-Net without the object-to-hand block
    'sho_r50_ho3d': HFL_R50 - LAYER2 - LAYER3 - ONE_FPN - OBJ_TO_HAND,
    'sho_r50_dexycb': HFL_R50 - LAYER2 - LAYER3 - ONE_FPN - OBJ_TO_HAND,
}
#: What each config changes, checked on the built model.
SPLITS = {'single_stream': (), 'two_stream': (0, 1, 2, 3, 4), 'sho': ()}


@pytest.fixture(scope='module', autouse=True)
def _registered():
    register_all_modules()


def _model_cfg(path: Path, tiny: bool) -> dict:
    cfg = with_standin_mano(Config.fromfile(str(path)).model)
    if tiny and cfg['backbone'].get('depth') == 50:
        cfg['backbone']['depth'] = 18
        cfg['neck'].update(in_channels=[64, 128, 256, 512], out_channels=32)
        for key in ('obj_to_hand_fusion', 'hand_to_obj_fusion', 'contextual_reasoning'):
            if cfg.get(key) is not None:
                cfg[key]['in_channels'] = 32
        cfg['hand_head'].update(in_channels=32, mano_hidden=[64, 32])
        cfg['obj_head']['in_channels'] = 32
    return cfg


def test_all_configs_found():
    names = {p.stem for p in CONFIGS}
    assert set(EXPECTED_PARAMS) | {'sho_r18_synthetic', 'hfl_r18_single_stream_synthetic',
                                   'hfl_r18_two_stream_synthetic'} == names


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.stem)
def test_config_builds(path):
    cfg = Config.fromfile(str(path))
    assert cfg.default_scope == 'mmhandobj'
    model = MODELS.build(_model_cfg(path, tiny=False))
    if path.stem in EXPECTED_PARAMS:
        assert sum(p.numel() for p in model.parameters()
                   if p.requires_grad) == EXPECTED_PARAMS[path.stem]
    for key, split in SPLITS.items():
        if key in path.stem:
            assert model.backbone.split_stages == split
            assert model.neck.share_weights == (split == ())
    assert (model.obj_to_hand_fusion is None) == ('no_obj_to_hand' in path.stem
                                                  or 'sho' in path.stem)
    assert (model.hand_to_obj_fusion is None) == ('no_hand_to_obj' in path.stem)
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg[key]
        assert DATASETS.get(loader.dataset.type) is not None
        for transform in loader.dataset.pipeline:
            TRANSFORMS.build(transform)
    for key in ('val_evaluator', 'test_evaluator'):
        for metric in cfg[key]:
            assert METRICS.get(metric.type) is not None, metric.type
    if path.stem.startswith('sho_r50'):  # SHO's recipe
        assert cfg.train_dataloader.batch_size == 24 and cfg.train_cfg.max_epochs == 60
        affine = [t for t in cfg.train_dataloader.dataset.pipeline
                  if t.type == 'HandObjectAffine']
        assert affine[0].input_size == 512
        assert cfg.param_scheduler[0].step_size == 10


def _samples(size: int, mask_size: int):
    gen = torch.Generator().manual_seed(0)
    hand = [[4., 6., 40., 44.], [20., 10., 60., 50.]]
    obj = [[20., 24., 60., 62.], [2., 30., 30., 60.]]
    samples = []
    for h, o in zip(hand, obj):
        h, o = torch.tensor([h]) * size / 64, torch.tensor([o]) * size / 64
        gt = InstanceData()
        gt.hand_bboxes, gt.obj_bboxes = h, o
        gt.hand_joints2d_crop = h[:, None, :2] + torch.rand(1, 21, 2, generator=gen) * (
            h[:, None, 2:] - h[:, None, :2])
        gt.mano_pose = 0.2 * torch.randn(1, 48, generator=gen)
        gt.mano_shape = torch.randn(1, 10, generator=gen)
        gt.obj_kps2d_crop = o[:, None, :2] + torch.rand(1, 21, 2, generator=gen) * (
            o[:, None, 2:] - o[:, None, :2])
        gt.obj_mask = (torch.rand(1, mask_size, mask_size, generator=gen) > 0.5).float()
        sample = HandObjectDataSample(metainfo=dict(img_shape=(size, size)))
        sample.gt_instances = gt
        samples.append(sample)
    return samples


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.stem)
def test_trains_one_iteration(path):
    """One optimiser step with the config's data preprocessor and optimiser: finite losses
    and every trainable parameter updated (none unused, as DDP needs)."""
    cfg = Config.fromfile(str(path))
    torch.manual_seed(0)
    model = MODELS.build(_model_cfg(path, tiny=True))
    model.init_weights()
    model.train()
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    roi = model.roi_extractor.output_size
    images = [torch.from_numpy(np.random.default_rng(0).integers(0, 255, (3, 64, 64),
                                                                  dtype=np.uint8))
              for _ in range(2)]
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    log = model.train_step(dict(inputs=images, data_samples=_samples(64, roi)), optim_wrapper)
    assert log and all(torch.isfinite(v) for v in log.values())
    # Adam skips parameters without a gradient: every one moved = none was left unused
    still = [n for n, p in model.named_parameters() if torch.equal(p, before[n])]
    assert still == []
