import pytest
import torch
from torchvision.ops import roi_align

from mmhandobj.models.necks.dual_fpn import P2Window
from mmhandobj.models.roi_extractors import (
    HandObjectRoIExtractor,
    intersection_boxes,
    validate_boxes,
)


def _linear_map(b, c, h, w, a, bb):
    """Feature f(x, y) = a * x + bb * y per channel (x, y = column, row index)."""
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float64),
                            torch.arange(w, dtype=torch.float64), indexing='ij')
    return (a * xs + bb * ys).expand(b, c, h, w).clone()


@pytest.mark.parametrize('aligned', [False, True])
def test_crops_of_a_linear_map_are_bin_centres(aligned):
    # Bilinear sampling of a linear map is exact and the RoIAlign average of samples spread
    # symmetrically in a bin is the value at the bin centre: a closed form for every crop.
    s = 4
    ext = HandObjectRoIExtractor(output_size=s, spatial_scale=0.25, aligned=aligned)
    p2_hand = _linear_map(2, 3, 40, 40, 1.0, 0.0)   # f = x
    p2_obj = _linear_map(2, 3, 40, 40, 0.0, 1.0)    # f = y
    hand = torch.tensor([[16., 24., 80., 88.], [20., 20., 60., 100.]], dtype=torch.float64)
    obj = torch.tensor([[40., 40., 120., 120.], [8., 12., 48., 44.]], dtype=torch.float64)
    out = ext(p2_hand, p2_obj, hand, obj)
    off = 0.5 if aligned else 0.0

    def expected_x(box):
        x1, x2 = box[0] * 0.25 - off, box[2] * 0.25 - off
        centres = x1 + (torch.arange(s, dtype=torch.float64) + 0.5) * (x2 - x1) / s
        return centres.expand(s, s)

    def expected_y(box):
        return expected_x(box[[1, 0, 3, 2]]).T

    for i in range(2):
        torch.testing.assert_close(out['hand'][i, 0], expected_x(hand[i]))
        torch.testing.assert_close(out['obj_in_hand'][i, 1], expected_y(hand[i]))
        torch.testing.assert_close(out['obj'][i, 2], expected_y(obj[i]))
        inter = torch.cat([torch.maximum(hand[i, :2], obj[i, :2]),
                           torch.minimum(hand[i, 2:], obj[i, 2:])])
        torch.testing.assert_close(out['inter'][i, 0], expected_x(inter))
    assert out['overlap'].tolist() == [True, True]


def test_intersection_zero_without_overlap_and_reference_defaults():
    torch.manual_seed(0)
    ext = HandObjectRoIExtractor()
    assert (ext.output_size, ext.spatial_scale, ext.sampling_ratio, ext.aligned) == \
        (32, 0.25, -1, False)
    p2_hand, p2_obj = torch.randn(3, 8, 64, 64), torch.randn(3, 8, 64, 64)
    hand = torch.tensor([[0., 0., 100., 100.], [10., 10., 50., 50.], [0., 0., 50., 50.]])
    obj = torch.tensor([[50., 60., 200., 200.], [60., 0., 120., 40.], [50., 0., 90., 50.]])
    out = ext(p2_hand, p2_obj, hand, obj)
    assert out['overlap'].tolist() == [True, False, False]  # touching edge -> no overlap
    assert out['inter'].shape == (3, 8, 32, 32)
    assert torch.count_nonzero(out['inter'][1:]) == 0
    ref = roi_align(p2_hand, torch.tensor([[0., 50., 60., 100., 100.]]), (32, 32), 0.25, -1)
    torch.testing.assert_close(out['inter'][:1], ref)
    ref_obj = roi_align(p2_obj, torch.cat([torch.arange(3.)[:, None], obj], 1), (32, 32),
                        0.25, -1)
    torch.testing.assert_close(out['obj'], ref_obj)


def test_intersection_boxes():
    a = torch.tensor([[0., 0., 10., 10.]])
    b = torch.tensor([[5., -5., 20., 8.]])
    inter, overlap = intersection_boxes(a, b)
    assert inter.tolist() == [[5., 0., 10., 8.]] and overlap.tolist() == [True]


def test_validate_boxes():
    validate_boxes(torch.tensor([[0., 0., 1., 1.], [2., 2., 2., 3.]]), 'hand_bboxes')
    with pytest.raises(ValueError, match=r'hand_bboxes.*indices \[1\]'):
        validate_boxes(torch.tensor([[0., 0., 1., 1.], [0., 0., float('nan'), 1.]]),
                       'hand_bboxes')
    with pytest.raises(ValueError, match='obj_bboxes'):
        validate_boxes(torch.tensor([[5., 0., 1., 1.]]), 'obj_bboxes')
    with pytest.raises(ValueError, match=r'\(B, 4\)'):
        validate_boxes(torch.zeros(2, 5), 'obj_bboxes')


def _window_maps(full, windows):
    """Each image's window cut from a full map, as the neck's windowed output."""
    return [P2Window(full[b, :, r0:r1, c0:c1], r0, c0)
            for b, (r0, r1, c0, c1) in enumerate(windows)]


def test_windows_give_the_full_maps_crops():
    # float64: the windowed matrix-product path equals torchvision's kernel on the full maps
    gen = torch.Generator().manual_seed(0)
    ext = HandObjectRoIExtractor(output_size=8)
    p2_hand = torch.randn(4, 3, 16, 16, generator=gen, dtype=torch.float64)
    p2_obj = torch.randn(4, 3, 16, 16, generator=gen, dtype=torch.float64)
    hand = torch.tensor([[0., 0., 30., 20.], [4., 8., 24., 28.], [-10., 40., 20., 70.],
                         [10., 12., 50., 60.]], dtype=torch.float64)
    obj = torch.tensor([[20., 10., 64., 64.], [40., 36., 60., 60.], [0., 44., 36., 62.],
                        [30., 20., 62., 64.]], dtype=torch.float64)  # image 1: no overlap
    full = ext(p2_hand, p2_obj, hand, obj)
    hand_windows, obj_windows = ext.windows(hand, obj, (16, 16))
    assert hand_windows[0] == (0, 6, 0, 9) and hand_windows[2][0] == 10
    assert obj_windows[1] == (2, 16, 1, 16)  # the union of the hand and the object box
    out = ext(_window_maps(p2_hand, hand_windows), _window_maps(p2_obj, obj_windows),
              hand, obj, map_size=(16, 16))
    assert out['overlap'].tolist() == full['overlap'].tolist() == [True, False, True, True]
    for key in ('hand', 'obj_in_hand', 'obj', 'inter'):
        torch.testing.assert_close(out[key], full[key], rtol=1e-12, atol=1e-12)
    assert not out['inter'][1].any()


def test_a_window_without_its_boxes_is_refused():
    ext = HandObjectRoIExtractor(output_size=4)
    p2 = torch.randn(1, 2, 16, 16)
    hand, obj = torch.tensor([[0., 0., 30., 30.]]), torch.tensor([[20., 20., 60., 60.]])
    with pytest.raises(ValueError, match='window of image 0.*does not hold its boxes'):
        ext(_window_maps(p2, [(0, 4, 0, 4)]), _window_maps(p2, [(0, 16, 0, 16)]), hand, obj,
            map_size=(16, 16))
    with pytest.raises(ValueError, match='need map_size'):
        ext(_window_maps(p2, [(0, 16, 0, 16)]), _window_maps(p2, [(0, 16, 0, 16)]), hand, obj)


def test_windows_only_on_cpu():
    assert HandObjectRoIExtractor().uses_windows(torch.device('cpu'))
    assert not HandObjectRoIExtractor().uses_windows(torch.device('cuda'))
    assert not HandObjectRoIExtractor(cpu_windows=False).uses_windows(torch.device('cpu'))
