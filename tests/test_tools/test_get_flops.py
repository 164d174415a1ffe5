"""tools/analysis_tools/get_flops.py: the FLOPs it counts, against closed forms."""
import torch
import torch.nn.functional as F
from repo_scripts import load_script

get_flops = load_script('tools/analysis_tools/get_flops.py')


def test_counting_matches_closed_forms_of_a_conv_a_linear_and_attention():
    """conv: 2 N Cout Cin k^2 Ho Wo; linear: 2 M K N; attention: two batched products,
    2 B H L S E each (a fused CPU attention kernel would count nothing)."""
    images = torch.rand(2, 3, 10, 12)
    conv = torch.nn.Conv2d(3, 5, 3, stride=2, padding=1)   # -> (2, 5, 5, 6)
    linear = torch.nn.Linear(7, 4)
    tokens = torch.rand(6, 7)
    q, k, v = torch.rand(2, 4, 9, 8), torch.rand(2, 4, 11, 8), torch.rand(2, 4, 11, 8)
    with get_flops.counting() as counter:
        conv(images)
    assert counter.get_total_flops() == 2 * 2 * 5 * 3 * 3 * 3 * 5 * 6
    with get_flops.counting() as counter:
        linear(tokens)
    assert counter.get_total_flops() == 2 * 6 * 7 * 4
    with get_flops.counting() as counter:
        F.scaled_dot_product_attention(q, k, v)
    assert counter.get_total_flops() == 2 * (2 * 2 * 4 * 9 * 11 * 8)


def test_counting_keeps_no_gradient():
    layer = torch.nn.Linear(3, 2)
    with get_flops.counting():
        out = layer(torch.rand(4, 3))
    assert not out.requires_grad
