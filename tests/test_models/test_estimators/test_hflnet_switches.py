"""HFL-Net with an interaction block switched off: the head reads its own RoI feature."""
import pytest
import torch

from mmhandobj.registry import MODELS

HAND = torch.tensor([[4., 6., 40., 44.], [20., 10., 60., 50.]])
OBJ = torch.tensor([[20., 24., 60., 62.], [2., 30., 30., 60.]])


@pytest.mark.parametrize('off', ['obj_to_hand_fusion', 'hand_to_obj_fusion'])
def test_switched_off_block_passes_the_roi_through(hfl_model_cfg, off):
    cfg = hfl_model_cfg()
    cfg[off] = None
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    model.eval()
    seen = {}
    hooks = [head.register_forward_pre_hook(
        lambda mod, args, name=name: seen.__setitem__(name, args[0]))
        for name, head in (('hand', model.hand_head), ('obj', model.obj_head))]
    images = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        model.forward_raw(images, HAND, OBJ)
        rois = model.roi_extractor(*model.neck(model.backbone(images)), HAND, OBJ)
        expected_hand = rois['hand'] if off == 'obj_to_hand_fusion' else \
            model.obj_to_hand_fusion(rois['hand'], rois['obj_in_hand'])
        expected_obj = rois['obj'] if off == 'hand_to_obj_fusion' else \
            model.hand_to_obj_fusion(rois['obj'], rois['inter'])
    for hook in hooks:
        hook.remove()
    assert getattr(model, off) is None
    assert not any(off in name for name, _ in model.named_parameters())
    torch.testing.assert_close(seen['hand'], expected_hand)
    torch.testing.assert_close(seen['obj'], expected_obj)
