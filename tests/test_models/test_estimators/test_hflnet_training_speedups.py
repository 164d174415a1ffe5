"""The training speed-ups change no loss and no gradient beyond float rounding.

Fused (flash) attention against the unfused math kernel, channels-last against contiguous
weights and inputs, on the same batch; the schedules' fused Adam against the per-parameter Adam.
"""
import copy
import glob

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.structures import InstanceData
from torch.nn.attention import SDPBackend, sdpa_kernel

from mmhandobj.registry import MODELS
from mmhandobj.structures.hand_object_data_sample import HandObjectDataSample


def make_training_samples():
    gen = torch.Generator().manual_seed(0)
    samples = []
    for hand, obj in (([4., 6., 40., 44.], [20., 24., 60., 62.]),
                      ([20., 10., 60., 50.], [2., 30., 30., 60.])):
        h, o = torch.tensor([hand]), torch.tensor([obj])
        gt = InstanceData(hand_bboxes=h, obj_bboxes=o)
        gt.hand_joints2d_crop = h[:, None, :2] + torch.rand(1, 21, 2, generator=gen) * (
            h[:, None, 2:] - h[:, None, :2])
        gt.mano_pose = 0.2 * torch.randn(1, 48, generator=gen)
        gt.mano_shape = torch.randn(1, 10, generator=gen)
        gt.obj_kps2d_crop = o[:, None, :2] + torch.rand(1, 21, 2, generator=gen) * (
            o[:, None, 2:] - o[:, None, :2])
        gt.obj_mask = (torch.rand(1, 32, 32, generator=gen) > 0.5).float()
        samples.append(HandObjectDataSample(gt_instances=gt))
    return samples


def losses_and_grads(model, images, samples):
    model.zero_grad(set_to_none=True)
    losses = model(images, samples, mode='loss')
    sum(losses.values()).backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    return {k: v.detach() for k, v in losses.items()}, grads


def assert_same(result, reference):
    losses, grads = result
    ref_losses, ref_grads = reference
    assert losses.keys() == ref_losses.keys() and grads.keys() == ref_grads.keys()
    for key in ref_losses:
        torch.testing.assert_close(losses[key], ref_losses[key], rtol=1e-4, atol=1e-6)
    # The whole gradient as one vector: some entries are sums that cancel to ~0, where float
    # rounding alone changes their relative value.
    grad = torch.cat([grads[k].flatten() for k in ref_grads])
    ref = torch.cat([ref_grads[k].flatten() for k in ref_grads])
    assert (grad - ref).norm() <= 1e-4 * ref.norm()


def test_fused_attention_and_channels_last_give_the_same_training_step(hfl_model_cfg):
    torch.manual_seed(0)
    model = MODELS.build(hfl_model_cfg())
    model.init_weights()
    model.train()
    images = torch.rand(2, 3, 64, 64)
    samples = make_training_samples()
    with sdpa_kernel([SDPBackend.MATH]):
        reference = losses_and_grads(copy.deepcopy(model), images, samples)
    with sdpa_kernel([SDPBackend.FLASH_ATTENTION]):  # fails if the block is not eligible
        assert_same(losses_and_grads(copy.deepcopy(model), images, samples), reference)
    channels_last = copy.deepcopy(model).to(memory_format=torch.channels_last)
    assert_same(losses_and_grads(channels_last,
                                 images.to(memory_format=torch.channels_last), samples),
                reference)


@pytest.mark.parametrize('schedule', sorted(glob.glob('configs/_base_/schedules/adam_*.py')))
def test_schedule_optimizer_steps_like_the_per_parameter_adam(hfl_model_cfg, schedule):
    """The schedules' optimizer, built as ``tools/train.py`` builds it (fused Adam), takes the
    same step as torch's per-parameter (for-loop) Adam with the same hyper-parameters.

    One step from the same gradients: after that the gradients themselves differ by float
    rounding, which Adam's normalisation turns into +-lr for entries whose gradient is ~0.
    """
    optim_cfg = Config.fromfile(schedule).optim_wrapper
    assert optim_cfg.optimizer.get('fused') is True, f'{schedule}: the fused Adam is the default'
    torch.manual_seed(0)
    model = MODELS.build(hfl_model_cfg())
    model.init_weights()
    model.train()
    reference = copy.deepcopy(model)
    initial = torch.cat([p.detach().flatten() for p in model.parameters()])
    wrapper = build_optim_wrapper(model, copy.deepcopy(optim_cfg))
    hyper = {k: v for k, v in optim_cfg.optimizer.items() if k not in ('type', 'fused')}
    loop_adam = torch.optim.Adam(reference.parameters(), foreach=False, **hyper)
    images = torch.rand(2, 3, 64, 64)
    samples = make_training_samples()
    for net, step in ((model, wrapper.optimizer.step), (reference, loop_adam.step)):
        losses_and_grads(net, images, samples)
        step()
    params = torch.cat([p.detach().flatten() for p in model.parameters()])
    ref_params = torch.cat([p.detach().flatten() for p in reference.parameters()])
    moved = (ref_params - initial).abs()
    assert moved.max() > 0.5 * hyper['lr'], 'the step left the parameters where they were'
    torch.testing.assert_close(params - initial, ref_params - initial, rtol=1e-4, atol=1e-7)


def _float64_samples(boxes):
    samples = make_training_samples()
    for sample, (hand, obj) in zip(samples, boxes):
        gt = sample.gt_instances
        gt.hand_bboxes, gt.obj_bboxes = torch.tensor([hand]), torch.tensor([obj])
        for key in gt.keys():
            if gt[key].is_floating_point():
                gt[key] = gt[key].double()
    return samples


# across the image border, and without overlap (the intersection crop reads nothing)
WINDOW_BOXES = (([-6., 30., 30., 70.], [10., 40., 64., 64.]),
                ([2., 2., 24., 20.], [40., 36., 62., 60.]))


@pytest.mark.parametrize('variant', ['hfl', 'sho'])
def test_p2_windows_give_the_same_training_step(hfl_model_cfg, sho_model_cfg, variant):
    """P2 computed only in the RoIs' windows with the matrix-product RoIAlign (CPU default)
    against the full maps with torchvision's kernel: float64, so any wiring slip (a window
    off by a cell, a missing border pad, a crop from the wrong map) shows above 1e-10."""
    cfg = hfl_model_cfg() if variant == 'hfl' else sho_model_cfg()
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    model = model.double().train()
    assert model.roi_extractor.uses_windows(torch.device('cpu'))
    full = copy.deepcopy(model)
    full.roi_extractor.cpu_windows = False
    images = torch.rand(2, 3, 64, 64, dtype=torch.float64)
    samples = _float64_samples(WINDOW_BOXES)
    losses, grads = losses_and_grads(model, images, samples)
    ref_losses, ref_grads = losses_and_grads(full, images, samples)
    for key in ref_losses:
        torch.testing.assert_close(losses[key], ref_losses[key], rtol=1e-10, atol=1e-12)
    grad = torch.cat([grads[k].flatten() for k in ref_grads])
    ref = torch.cat([ref_grads[k].flatten() for k in ref_grads])
    assert (grad - ref).norm() <= 1e-10 * ref.norm()
    for net in (model, full):
        net.eval()
    with torch.no_grad():
        hand = torch.tensor([b[0] for b in WINDOW_BOXES], dtype=torch.float64)
        obj = torch.tensor([b[1] for b in WINDOW_BOXES], dtype=torch.float64)
        out, ref_out = model.forward_raw(images, hand, obj), full.forward_raw(images, hand, obj)
    for key in ref_out:
        torch.testing.assert_close(out[key], ref_out[key], rtol=1e-9, atol=1e-10)
