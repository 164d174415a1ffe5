"""Linear blend skinning with a hand-written backward pass (the MANO layer's hot spot).

Vertices are kept coordinate-major, ``(B, 3, V)``, so every elementwise step runs over rows
of ``V`` contiguous values, and the two matrix products have the shapes BLAS is fastest at
(``(B * 12, J) @ (J, V)`` forward, ``(B * 12, V) @ (V, J)`` backward). Autograd of the same
formula would materialise the ``(B, 3, 3, V)`` products and their zero-filled gradients.
"""
import torch
from torch.autograd.function import FunctionCtx, once_differentiable


class _LinearBlendSkinning(torch.autograd.Function):
    """``verts[b, v] = sum_j w[v, j] (R[b, j] @ rest[b, v] + t[b, j])``; see :func:`skin`."""

    @staticmethod
    def forward(ctx: FunctionCtx, rest: torch.Tensor, transforms: torch.Tensor,
                weights_t: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        batch, num_verts = rest.shape[0], rest.shape[2]
        num_joints = weights_t.shape[0]
        # blended[b, i, k, v] = sum_j w[v, j] transforms[b, i * 4 + k, j]
        blended = (transforms.reshape(batch * 12, num_joints) @ weights_t).view(
            batch, 3, 4, num_verts)
        verts = torch.addcmul(blended[:, :, 3], blended[:, :, 0], rest[:, None, 0])
        verts.addcmul_(blended[:, :, 1], rest[:, None, 1])
        verts.addcmul_(blended[:, :, 2], rest[:, None, 2])
        ctx.save_for_backward(rest, blended, weights)
        return verts.transpose(1, 2).contiguous()

    @staticmethod
    @once_differentiable
    def backward(ctx: FunctionCtx, grad_verts: torch.Tensor):
        rest, blended, weights = ctx.saved_tensors
        batch, num_verts = rest.shape[0], rest.shape[2]
        grad = grad_verts.transpose(1, 2).contiguous()  # (B, 3, V)
        grad_rest = grad_transforms = None
        if ctx.needs_input_grad[0]:
            grad_rest = (grad[:, :, None] * blended[:, :, :3]).sum(1)
        if ctx.needs_input_grad[1]:
            grad_blended = torch.cat([grad[:, :, None] * rest[:, None], grad[:, :, None]], 2)
            grad_transforms = (grad_blended.view(batch * 12, num_verts) @ weights).view(
                batch, 12, -1)
        return grad_rest, grad_transforms, None, None


def skin(rest: torch.Tensor, transforms: torch.Tensor, weights_t: torch.Tensor,
         weights: torch.Tensor) -> torch.Tensor:
    """Linear blend skinning of a batch of meshes.

    Differentiable in ``rest`` and ``transforms`` (first order only: a second derivative
    raises an error rather than coming out wrong).

    Args:
        rest: ``(B, 3, V)`` rest-pose vertices, coordinate-major (``rest[b, c, v]``).
        transforms: ``(B, 12, J)`` per-joint affine transforms ``[R | t]`` flattened row-major
            (entry ``i * 4 + k`` of row ``i`` column ``k``) along dim 1, joints along dim 2.
        weights_t: ``(J, V)`` skinning weights, joint-major.
        weights: ``(V, J)`` the same weights, vertex-major (``weights_t.T`` contiguous).

    Returns:
        ``(B, V, 3)`` skinned vertices (contiguous), in the unit of ``rest`` and ``t``.
    """
    return _LinearBlendSkinning.apply(rest, transforms, weights_t, weights)
