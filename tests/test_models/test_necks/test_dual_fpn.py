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


def test_r50_fpn_parameter_count():
    neck = DualFPN()
    # docs/reference_parity.md R32: per stream top 524,544 + lat 262,400 + 131,328 + 65,792
    # + smooth 590,080
    assert sum(p.numel() for p in neck.parameters()) == 3148288
    assert all(m.bias is not None for m in neck.modules() if isinstance(m, torch.nn.Conv2d))


def test_wrong_levels():
    with pytest.raises(ValueError, match='4 levels'):
        DualFPN(in_channels=(64, 128, 256))
