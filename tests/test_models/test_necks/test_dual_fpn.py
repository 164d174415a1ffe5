import pytest
import torch
import torch.nn.functional as F

from mmhandobj.models.necks import DualFPN


def _explicit_p2(fpn, c2, c3, c4, c5):
    """P2 written out with functional convs and an explicit upsample-add per level."""
    def conv(m, x, pad=0):
        return F.conv2d(x, m.weight, m.bias, padding=pad)

    def up(x, ref):
        return F.interpolate(x, size=ref.shape[-2:], mode='bilinear', align_corners=False)

    p5 = conv(fpn.top_conv, c5)
    lat4 = conv(fpn.lateral_convs[0], c4)
    p4 = up(p5, lat4) + lat4
    lat3 = conv(fpn.lateral_convs[1], c3)
    p3 = up(p4, lat3) + lat3
    lat2 = conv(fpn.lateral_convs[2], c2)
    p2 = up(p3, lat2) + lat2
    return conv(fpn.smooth_conv, p2, pad=1)


def test_dual_fpn_matches_explicit_formula_and_uses_shared_c2():
    torch.manual_seed(0)
    neck = DualFPN(in_channels=(8, 16, 32, 64), out_channels=12)
    # odd sizes: upsampling must go to the lateral's exact size (25 -> 13 -> 7 -> 4)
    c2 = torch.randn(2, 8, 25, 25)
    hand = (torch.randn(2, 16, 13, 13), torch.randn(2, 32, 7, 7), torch.randn(2, 64, 4, 4))
    obj = (torch.randn(2, 16, 13, 13), torch.randn(2, 32, 7, 7), torch.randn(2, 64, 4, 4))
    p2_hand, p2_obj = neck(((c2, *hand), (c2, *obj)))
    assert p2_hand.shape == p2_obj.shape == (2, 12, 25, 25)
    torch.testing.assert_close(p2_hand, _explicit_p2(neck.hand_fpn, c2, *hand))
    torch.testing.assert_close(p2_obj, _explicit_p2(neck.obj_fpn, c2, *obj))
    feats = dict(c2_hand=c2, c3_hand=hand[0], c4_hand=hand[1], c5_hand=hand[2], c2_obj=c2,
                 c3_obj=obj[0], c4_obj=obj[1], c5_obj=obj[2])
    torch.testing.assert_close(neck(feats)[1], p2_obj)


def test_shared_fpn_runs_once_on_identical_streams_and_twice_otherwise():
    torch.manual_seed(0)
    neck = DualFPN(in_channels=(8, 16, 32, 64), out_channels=12, share_weights=True)
    assert not hasattr(neck, 'hand_fpn') and sum(p.numel() for p in neck.parameters()) == (
        sum(p.numel() for p in DualFPN((8, 16, 32, 64), 12).hand_fpn.parameters()))
    shapes = ((2, 8, 16, 16), (2, 16, 8, 8), (2, 32, 4, 4), (2, 64, 2, 2))
    one = tuple(torch.randn(s) for s in shapes)
    other = tuple(torch.randn(s) for s in shapes)
    p2_hand, p2_obj = neck((one, one))
    assert p2_hand is p2_obj
    torch.testing.assert_close(p2_hand, _explicit_p2(neck.fpn, *one))
    p2_hand, p2_obj = neck((one, other))
    torch.testing.assert_close(p2_obj, _explicit_p2(neck.fpn, *other))
    torch.testing.assert_close(p2_hand, _explicit_p2(neck.fpn, *one))


def _levels(batch, size, gen, dtype=torch.float64):
    """C2..C5 of 8, 16, 32, 64 channels; C2 of ``size`` cells, each next level half (ceil)."""
    sizes = [size]
    for _ in range(3):
        sizes.append((sizes[-1] + 1) // 2)
    return tuple(torch.randn(batch, ch, s, s, generator=gen, dtype=dtype)
                 for ch, s in zip((8, 16, 32, 64), sizes))


def test_windows_hold_the_full_maps_cells():
    # windows at each border, in the middle, one cell, the whole map; float64 so that the
    # crop-and-pad computation must give the full map's numbers exactly (to 1e-12)
    gen = torch.Generator().manual_seed(0)
    neck = DualFPN(in_channels=(8, 16, 32, 64), out_channels=12).double()
    hand, obj = _levels(4, 25, gen), _levels(4, 25, gen)
    hand = (obj[0], *hand[1:])  # HFL-Net: one shared C2
    full_hand, full_obj = neck((hand, obj))
    hand_windows = [(0, 25, 0, 25), (0, 3, 20, 25), (12, 13, 7, 8), (22, 25, 0, 4)]
    obj_windows = [(5, 17, 3, 11), (0, 25, 0, 1), (24, 25, 24, 25), (1, 24, 1, 24)]
    win_hand, win_obj = neck((hand, obj), (hand_windows, obj_windows))
    for windows, full, out in ((hand_windows, full_hand, win_hand),
                               (obj_windows, full_obj, win_obj)):
        assert len(out) == 4
        for b, ((r0, r1, c0, c1), (feat, row, col)) in enumerate(zip(windows, out)):
            assert (row, col) == (r0, c0) and feat.shape == (12, r1 - r0, c1 - c0)
            torch.testing.assert_close(feat, full[b, :, r0:r1, c0:c1], rtol=1e-12, atol=1e-12)


def test_shared_fpn_on_one_stream_computes_the_union_window_once():
    gen = torch.Generator().manual_seed(0)
    neck = DualFPN(in_channels=(8, 16, 32, 64), out_channels=12, share_weights=True).double()
    one = _levels(2, 16, gen)
    full, _ = neck((one, one))
    win_hand, win_obj = neck((one, one), ([(0, 4, 2, 6), (3, 5, 3, 5)],
                                          [(2, 9, 4, 8), (10, 16, 0, 2)]))
    assert win_hand is win_obj
    assert [(w.row, w.col, tuple(w.feat.shape[-2:])) for w in win_hand] == \
        [(0, 2, (9, 6)), (3, 0, (13, 5))]
    torch.testing.assert_close(win_hand[1].feat, full[1, :, 3:16, 0:5])


def test_r50_fpn_parameter_count():
    neck = DualFPN()
    # docs/reference_parity.md R32: per stream top 524,544 + lat 262,400 + 131,328 + 65,792
    # + smooth 590,080
    assert sum(p.numel() for p in neck.parameters()) == 3148288
    assert all(m.bias is not None for m in neck.modules() if isinstance(m, torch.nn.Conv2d))


def test_wrong_levels():
    with pytest.raises(ValueError, match='4 levels'):
        DualFPN(in_channels=(64, 128, 256))
