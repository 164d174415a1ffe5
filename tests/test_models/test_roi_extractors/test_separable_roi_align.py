"""RoIAlign as ``Wy @ F @ Wx^T`` against torchvision's kernel (forward and backward)."""
import pytest
import torch
from torchvision.ops import roi_align

from mmhandobj.models.roi_extractors.separable_roi_align import (
    roi_align_axis_weights,
    separable_roi_align,
    support,
)

HEIGHT, WIDTH, OUT = 23, 31, 7
SCALE = 0.25


def _boxes(aligned: bool, num: int = 48) -> torch.Tensor:
    """Boxes in input pixels: inside, across and beyond the map border, tiny, and (for
    ``aligned=False``, where torchvision accepts them) inverted ones."""
    gen = torch.Generator().manual_seed(1)
    span = torch.tensor([WIDTH, HEIGHT, WIDTH, HEIGHT]) / SCALE
    boxes = torch.rand(num, 4, generator=gen) * span * 1.4 - 0.2 * span
    boxes = torch.cat([torch.minimum(boxes[:, :2], boxes[:, 2:]),
                       torch.maximum(boxes[:, :2], boxes[:, 2:])], 1)
    boxes[:8, 2:] = boxes[:8, :2] + torch.rand(8, 2, generator=gen) * 3  # under one cell
    boxes[8] = torch.tensor([0., 0., WIDTH / SCALE, HEIGHT / SCALE])       # the whole map
    boxes[9] = torch.tensor([-40., -40., -10., -10.])                      # outside
    if not aligned:
        boxes[10:14, 2:] = boxes[10:14, :2] - 10.0                         # inverted
    return boxes


@pytest.mark.parametrize('aligned', [False, True])
@pytest.mark.parametrize('sampling_ratio', [-1, 2])
def test_matches_torchvision_forward_and_backward(aligned, sampling_ratio):
    gen = torch.Generator().manual_seed(0)
    feat = torch.randn(3, 5, HEIGHT, WIDTH, generator=gen, requires_grad=True)
    boxes = _boxes(aligned)
    image = torch.arange(boxes.shape[0]) % 3
    ref = roi_align(feat, torch.cat([image[:, None].float(), boxes], 1), (OUT, OUT), SCALE,
                    sampling_ratio, aligned)
    grad_out = torch.randn(ref.shape, generator=gen)
    ref_grad, = torch.autograd.grad(ref, feat, grad_out)

    args = (OUT, SCALE, sampling_ratio, aligned)
    weights_y = roi_align_axis_weights(boxes[:, 1], boxes[:, 3], HEIGHT, *args)
    weights_x = roi_align_axis_weights(boxes[:, 0], boxes[:, 2], WIDTH, *args)
    out = torch.cat([separable_roi_align(feat[int(image[k])], weights_y[k:k + 1],
                                         weights_x[k:k + 1]) for k in range(len(boxes))])
    grad, = torch.autograd.grad(out, feat, grad_out)
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(grad, ref_grad, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('aligned', [False, True])
def test_support_is_what_torchvision_reads(aligned):
    # The cells torchvision's backward sends gradient to (all-ones output gradient, positive
    # bilinear weights: no cancellation) are the cells the weights read.
    boxes = _boxes(aligned)
    args = (OUT, SCALE, -1, aligned)
    weights_y = roi_align_axis_weights(boxes[:, 1], boxes[:, 3], HEIGHT, *args)
    weights_x = roi_align_axis_weights(boxes[:, 0], boxes[:, 2], WIDTH, *args)
    for k in range(len(boxes)):
        feat = torch.zeros(1, 1, HEIGHT, WIDTH, requires_grad=True)
        roi = torch.cat([torch.zeros(1, 1), boxes[k:k + 1]], 1)
        out = roi_align(feat, roi, (OUT, OUT), SCALE, -1, aligned)
        grad, = torch.autograd.grad(out.sum(), feat)
        rows = torch.nonzero(grad[0, 0].abs().sum(1) > 0).flatten()
        cols = torch.nonzero(grad[0, 0].abs().sum(0) > 0).flatten()
        expected_rows = (int(rows[0]), int(rows[-1]) + 1) if rows.numel() else (0, 0)
        expected_cols = (int(cols[0]), int(cols[-1]) + 1) if cols.numel() else (0, 0)
        if rows.numel() and cols.numel():
            assert support(weights_y[k]) == expected_rows
            assert support(weights_x[k]) == expected_cols
        else:  # reads nothing: one of the two axes has no weight
            assert support(weights_y[k]) == (0, 0) or support(weights_x[k]) == (0, 0)
