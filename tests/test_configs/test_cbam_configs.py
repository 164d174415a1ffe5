"""The quick-start CBAM configs build the reading they name."""
from pathlib import Path

import pytest
from mmengine.config import Config

from mmhandobj.apis import register_all_modules
from mmhandobj.registry import MODELS

CONFIG_DIR = Path(__file__).parents[2] / 'configs' / 'hfl'


@pytest.mark.parametrize('name,order,gates_key', [
    ('hfl_r18_cbam_synthetic.py', 'sum_then_sigmoid', False),
    ('hfl_r18_cbam_report_synthetic.py', 'sigmoid_then_sum', True),
])
def test_cbam_synthetic_configs_build_their_reading(name, order, gates_key):
    register_all_modules()
    model = MODELS.build(Config.fromfile(str(CONFIG_DIR / name)).model)
    o2h, h2o = model.obj_to_hand_fusion, model.hand_to_obj_fusion
    assert o2h.cbam.channel_attention.order == order == h2o.cbam.channel_attention.order
    assert o2h.cbam_gates_key is gates_key
    # the quick start's 64-channel fusion: CBAM on 128 (object-to-hand) and 64 channels
    assert o2h.cbam.channel_attention.mlp[0].in_channels == 128
    assert h2o.cbam.channel_attention.mlp[0].in_channels == 64
