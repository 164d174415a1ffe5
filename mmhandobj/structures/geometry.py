"""The one home of the project's camera and image geometry.

Conventions used everywhere in mmhandobj:

* Camera frame: OpenCV (x right, y down, z forward), metres. HO3D stores OpenGL (y up, z
  backward); :data:`OPENCV_TO_OPENGL` converts, at the dataset and dump boundaries only.
* Pixels: a pixel's centre has integer coordinates and ``u = fx x / z + cx`` (OpenCV).
* Mirror: a left hand is turned into a right hand by mirroring the image left to right,
  ``u' = W - 1 - u`` (:func:`mirror_points_2d`). The matching camera-frame mirror is
  ``x' = -x`` (:func:`mirror_points_3d`), the mirrored intrinsics are
  :func:`mirror_intrinsics` and a MANO axis-angle pose mirrors by negating its y and z
  components (:func:`mirror_axis_angle`). Each mirror is its own inverse, so un-mirroring calls
  the same function.
* Crop: the network input is the (possibly mirrored) image warped by a 2x3 affine
  ``crop_affine`` (image -> crop); :func:`image_to_crop` and :func:`crop_to_image` map points
  between the original (un-mirrored) image and the crop.
* Box-normalised coordinates: ``(0, 0)`` is a box's top-left corner and ``(1, 1)`` its
  bottom-right (:func:`box_normalised_to_pixels`, :func:`pixels_to_box_normalised`).

Functions are plain array arithmetic (NumPy, and also tensors where noted) and keep the input's
floating dtype unless they say otherwise.
"""
from typing import Optional, Union

import numpy as np

try:  # tensors are accepted by the box-normalised helpers; torch is optional here
    from torch import Tensor
except ImportError:  # pragma: no cover - torch is a dependency of the package
    Tensor = np.ndarray

ArrayOrTensor = Union[np.ndarray, 'Tensor']

#: ``diag(1, -1, -1)``: OpenCV camera frame <-> OpenGL camera frame (its own inverse).
#: Points: ``X_gl = OPENCV_TO_OPENGL @ X_cv``; rotations: ``R_gl = OPENCV_TO_OPENGL @ R_cv``.
OPENCV_TO_OPENGL = np.diag([1.0, -1.0, -1.0])

#: Depth offset (metres) HFL-Net adds to ``z`` when it projects points for the reprojection
#: error (REP); the datasets and the synthetic world project exactly (offset 0).
REP_DEPTH_EPS = 1e-5


# ---------------------------------------------------------------------- projection
def pinhole_project(points: np.ndarray, cam_intr: np.ndarray,
                    depth_eps: float = 0.0) -> np.ndarray:
    """Project camera-frame points to pixels: ``(u, v) = (K X)[:2] / ((K X)[2] + depth_eps)``.

    Args:
        points: ``(..., 3)`` points, OpenCV camera frame, metres, z > 0. With a batch of
            intrinsics, ``(N, P, 3)``.
        cam_intr: ``(3, 3)`` intrinsics shared by all points, or ``(N, 3, 3)``, one per row of
            ``points``.
        depth_eps: Added to the projective depth; 0 (exact) except for REP parity
            (:data:`REP_DEPTH_EPS`).

    Returns:
        ``(..., 2)`` pixels of the image ``cam_intr`` describes.
    """
    cam_intr = np.asarray(cam_intr)
    if cam_intr.ndim == 2:
        if cam_intr.shape != (3, 3):
            raise ValueError(f'cam_intr: expected shape (3, 3), got {cam_intr.shape}')
        homo = points @ cam_intr.T
    else:
        if cam_intr.shape != (points.shape[0], 3, 3) or points.ndim != 3:
            raise ValueError(f'batched cam_intr {cam_intr.shape} needs points (N, P, 3) with '
                             f'the same N, got {points.shape}')
        homo = np.einsum('nij,npj->npi', cam_intr, points)
    if depth_eps:
        return homo[..., :2] / (homo[..., 2:] + depth_eps)
    return homo[..., :2] / homo[..., 2:]


# ---------------------------------------------------------------------- point transforms
def transform_points_2d(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Apply a 2D affine ``p' = A p + b`` to pixels.

    Args:
        points: ``(N, 2)`` pixels.
        matrix: ``(2, 3)`` or ``(3, 3)`` affine (the last row of a 3x3 is ignored).

    Returns:
        ``(N, 2)`` float64 pixels.
    """
    matrix = np.asarray(matrix, np.float64)
    points = np.asarray(points, np.float64)
    return points @ matrix[:2, :2].T + matrix[:2, 2]


def transform_points_3d(points: np.ndarray, rot: np.ndarray, trans: np.ndarray) -> np.ndarray:
    """Apply rigid transforms ``x' = R x + t`` (e.g. object model -> camera).

    Args:
        points: ``(P, 3)`` points.
        rot: ``(3, 3)`` one rotation, or ``(N, 3, 3)`` a batch.
        trans: ``(3,)`` or ``(N, 3)`` matching translations.

    Returns:
        ``(P, 3)`` for one pose, ``(N, P, 3)`` for a batch (the inputs' dtype).
    """
    rot = np.asarray(rot)
    if rot.ndim == 2:
        return points @ rot.T + trans
    return np.einsum('nij,pj->npi', rot, points) + np.asarray(trans)[:, None, :]


def opencv_to_opengl(points: np.ndarray) -> np.ndarray:
    """Multiply ``(..., 3)`` points by ``diag(1, -1, -1)`` (also OpenGL -> OpenCV).

    Returns:
        ``(..., 3)`` float64 points in the other convention.
    """
    if hasattr(points, 'detach'):
        points = points.detach().cpu().numpy()
    return np.asarray(points, np.float64) * np.diag(OPENCV_TO_OPENGL)


# ---------------------------------------------------------------------- mirror
def mirror_points_2d(points: np.ndarray, width: int) -> np.ndarray:
    """Mirror pixels left to right, ``u' = W - 1 - u`` (its own inverse).

    Args:
        points: ``(..., 2)`` pixels.
        width: Image width ``W``, pixels.

    Returns:
        ``(..., 2)`` mirrored copy; float32 stays float32, other inputs become float64.
    """
    points = np.asarray(points)
    points = np.array(points, np.result_type(points.dtype, np.float32))
    points[..., 0] = width - 1 - points[..., 0]
    return points


def mirror_box(box: np.ndarray, width: int) -> np.ndarray:
    """Mirror an ``x1y1x2y2`` box: ``(W - 1 - x2, y1, W - 1 - x1, y2)``, float32."""
    x1, y1, x2, y2 = box
    return np.array([width - 1 - x2, y1, width - 1 - x1, y2], np.float32)


def mirror_points_3d(points: np.ndarray) -> np.ndarray:
    """Mirror camera-frame points, ``x' = -x`` (its own inverse); returns a copy."""
    points = np.array(points)
    points[..., 0] *= -1
    return points


def mirror_axis_angle(pose: np.ndarray) -> np.ndarray:
    """Mirror axis-angle rotations (a MANO pose) through the camera's x = 0 plane.

    ``R' = S R S`` with ``S = diag(-1, 1, 1)`` is, on the axis-angle ``(a, b, c)``,
    ``(a, -b, -c)``.

    Args:
        pose: ``(3 * J,)`` axis-angles (e.g. ``(48,)`` MANO pose).

    Returns:
        ``(3 * J,)`` mirrored copy (same dtype).
    """
    pose = np.array(pose)
    flat = pose.reshape(-1, 3)
    flat[:, 1:] *= -1
    return flat.reshape(pose.shape)


def mirror_intrinsics(cam_intr: np.ndarray, width: int) -> np.ndarray:
    """Intrinsics of the left-right mirrored image: ``K' = M K diag(-1, 1, 1)``.

    ``M`` is the pixel mirror ``u' = W - 1 - u``; the result has ``cx' = W - 1 - cx`` and the
    same focal lengths, and projects mirrored points ``(-x, y, z)`` onto mirrored pixels.

    Args:
        cam_intr: ``(3, 3)`` intrinsics of the image.
        width: Image width ``W``, pixels.

    Returns:
        ``(3, 3)`` float64 intrinsics of the mirrored image.
    """
    mirror = np.array([[-1, 0, width - 1], [0, 1, 0], [0, 0, 1]], np.float64)
    return mirror @ np.asarray(cam_intr, np.float64) @ np.diag([-1.0, 1.0, 1.0])


# ---------------------------------------------------------------------- crop <-> image
def _affine3(crop_affine: np.ndarray) -> np.ndarray:
    return np.concatenate([np.asarray(crop_affine, np.float64).reshape(2, 3),
                           [[0.0, 0.0, 1.0]]])


def crop_to_image(points: np.ndarray, crop_affine: np.ndarray, flip: bool,
                  image_width: int) -> np.ndarray:
    """Map crop pixels back to original-image pixels.

    Inverts the 2x3 ``crop_affine`` (image -> crop), then, when ``flip``, undoes the mirror
    with ``u = W - 1 - u``.

    Args:
        points: ``(M, 2)`` crop pixels.
        crop_affine: ``(2, 3)`` affine, (possibly mirrored) image -> crop.
        flip: The image was mirrored before the crop.
        image_width: ``W`` of the original image, pixels.

    Returns:
        ``(M, 2)`` float64 original-image pixels.
    """
    out = transform_points_2d(points, np.linalg.inv(_affine3(crop_affine)))
    return mirror_points_2d(out, image_width) if flip else out


def image_to_crop(points: np.ndarray, crop_affine: np.ndarray, flip: bool,
                  image_width: int) -> np.ndarray:
    """Map original-image pixels to crop pixels (inverse of :func:`crop_to_image`).

    Args:
        points: ``(M, 2)`` original-image pixels.
        crop_affine: ``(2, 3)`` affine, (possibly mirrored) image -> crop.
        flip: Mirror first (``u' = W - 1 - u``).
        image_width: ``W`` of the original image, pixels.

    Returns:
        ``(M, 2)`` float64 crop pixels.
    """
    points = np.asarray(points, np.float64)
    if flip:
        points = mirror_points_2d(points, image_width)
    return transform_points_2d(points, crop_affine)


# ---------------------------------------------------------------------- box-normalised
def box_normalised_to_pixels(points: ArrayOrTensor, box: ArrayOrTensor) -> ArrayOrTensor:
    """Map box-normalised points to the pixels of the frame the box lives in.

    ``x_px = x * (x2 - x1) + x1`` and ``y_px = y * (y2 - y1) + y1`` (HFL-Net's order: scale,
    then shift). Works on arrays and tensors.

    Args:
        points: ``(..., M, 2)`` box-normalised (x, y).
        box: ``(..., 4)`` box ``x1, y1, x2, y2`` in pixels.

    Returns:
        ``(..., M, 2)`` pixels.
    """
    if box.shape[-1] != 4 or points.shape[-1] != 2:
        raise ValueError(f'expected points (..., M, 2) and box (..., 4), got '
                         f'{tuple(points.shape)} and {tuple(box.shape)}')
    size = (box[..., 2:] - box[..., :2])[..., None, :]
    return points * size + box[..., None, :2]


def pixels_to_box_normalised(points: ArrayOrTensor, boxes: ArrayOrTensor) -> ArrayOrTensor:
    """Pixels -> box-normalised coordinates: ``(p - box[:2]) / (box[2:] - box[:2])``.

    Args:
        points: ``(B, N, 2)`` pixels.
        boxes: ``(B, 4)`` x1y1x2y2, same pixel frame.

    Returns:
        ``(B, N, 2)``, ``(0, 0)`` = box top-left, ``(1, 1)`` = bottom-right.
    """
    return (points - boxes[:, None, :2]) / (boxes[:, None, 2:] - boxes[:, None, :2])


# ---------------------------------------------------------------------- root solve
#: Gauss-Newton steps on the reprojection error after the linear solve, by default none.
#: Measured on 19 synthetic frames x 20 noise draws (hand 0.41-0.79 m away): with 5 px 2D noise
#: alone the linear solve is biased 12 mm towards the camera (root error 15 mm mean vs 11.7 mm
#: after Gauss-Newton), but with 10 mm of 3D joint noise as well Gauss-Newton pushes the hand
#: 53 mm away (a noisy 3D hand looks larger; root error 57 mm vs 32 mm linear). Predicted
#: 3D joints carry errors of that size, so the linear solve is the default.
ROOT_GN_STEPS = 0
#: A solved root closer to the camera plane than this (metres) is refused.
ROOT_MIN_DEPTH = 1e-4


def fit_root_translation(joints_rel: np.ndarray, joints2d: np.ndarray, cam_intr: np.ndarray,
                         gn_steps: int = ROOT_GN_STEPS) -> Optional[np.ndarray]:
    """Camera translation of a root-relative hand that best explains its 2D joints.

    The linear least-squares solution of ``(K[r] - u_r K[2]) . (X_j + t) = 0``
    (r = 0 with ``u_0 = u``, r = 1 with ``u_1 = v``) for every joint ``j``, i.e. the
    reprojection error weighted by each joint's depth (the default; see
    :data:`ROOT_GN_STEPS` for why), optionally followed by ``gn_steps`` Gauss-Newton steps on
    the reprojection error itself, ``sum_j |pi(X_j + t) - (u_j, v_j)|^2`` (pixels), whose
    Jacobian row for pixel coordinate ``r`` of joint ``j`` is ``(K[r] - u_r' K[2]) / (K[2] .
    (X_j + t))`` with ``u_r'`` the current projection.

    Args:
        joints_rel: ``(J, 3)`` root-relative joints, metres, axes of the camera of
            ``cam_intr`` (not mirrored).
        joints2d: ``(J, 2)`` the same joints observed in that image, pixels.
        cam_intr: ``(3, 3)`` intrinsics of that image.
        gn_steps: Gauss-Newton steps after the linear solve (0: the linear solution; 5 reach
            the reprojection optimum to 1e-12 m).

    Returns:
        ``(3,)`` float64 translation (the root's position in the camera), metres, or None when
        fewer than 2 joints are finite, the fit is not finite or it puts the root or a joint
        behind the camera.
    """
    joints_rel = np.asarray(joints_rel, np.float64)
    joints2d = np.asarray(joints2d, np.float64)
    cam_intr = np.asarray(cam_intr, np.float64)
    if joints_rel.ndim != 2 or joints_rel.shape[1] != 3 or joints2d.shape != (
            joints_rel.shape[0], 2) or cam_intr.shape != (3, 3):
        raise ValueError(f'joints_rel (J, 3), joints2d (J, 2) and cam_intr (3, 3) expected, '
                         f'got {joints_rel.shape}, {joints2d.shape} and {cam_intr.shape}')
    keep = np.isfinite(joints_rel).all(axis=1) & np.isfinite(joints2d).all(axis=1)
    if keep.sum() < 2 or not np.isfinite(cam_intr).all():
        return None
    joints_rel, joints2d = joints_rel[keep], joints2d[keep]
    # (2J, 3) rows K[r] - u_r K[2]: joint j's u row, then all v rows.
    rows = np.concatenate([cam_intr[None, 0] - joints2d[:, :1] * cam_intr[None, 2],
                           cam_intr[None, 1] - joints2d[:, 1:] * cam_intr[None, 2]])
    points = np.concatenate([joints_rel, joints_rel])
    trans = np.linalg.lstsq(rows, -np.einsum('nk,nk->n', rows, points), rcond=None)[0]
    for _ in range(gn_steps):
        cam = joints_rel + trans
        homo = cam @ cam_intr.T
        if not (homo[:, 2] > 0).all():
            return None
        proj = homo[:, :2] / homo[:, 2:]
        jac = np.concatenate([cam_intr[None, 0] - proj[:, :1] * cam_intr[None, 2],
                              cam_intr[None, 1] - proj[:, 1:] * cam_intr[None, 2]])
        jac = jac / np.concatenate([homo[:, 2:], homo[:, 2:]])
        residual = np.concatenate([proj[:, 0] - joints2d[:, 0], proj[:, 1] - joints2d[:, 1]])
        trans = trans - np.linalg.lstsq(jac, residual, rcond=None)[0]
    if (not np.isfinite(trans).all() or trans[2] <= ROOT_MIN_DEPTH
            or ((joints_rel + trans) @ cam_intr[2] <= 0).any()):
        return None
    return trans


def solve_hand_root(joints_net: np.ndarray, joints2d_img: np.ndarray, ori_cam_intr: np.ndarray,
                    flip: bool) -> Optional[np.ndarray]:
    """The wrist's position in the original camera from a wrist-relative predicted hand.

    The one root solve of the project (the model's ``pred_instances.hand_root``): the
    network-frame joints are un-mirrored (``x *= -1`` when the left hand was mirrored) and
    :func:`fit_root_translation` places them on the predicted original-image 2D joints.

    Args:
        joints_net: ``(21, 3)`` wrist-relative joints, metres, network frame (mirrored when
            ``flip``), as ``pred_instances.hand_joints3d[0]``.
        joints2d_img: ``(21, 2)`` joints, original-image pixels (un-mirrored), as
            ``pred_instances.hand_joints2d_img[0]``.
        ori_cam_intr: ``(3, 3)`` intrinsics of the original image.
        flip: The image was mirrored for the network (metainfo ``flip``).

    Returns:
        ``(3,)`` float64 wrist position, metres, original camera (OpenCV axes), or None when
        no root in front of the camera fits.
    """
    joints = np.asarray(joints_net, np.float64)
    return fit_root_translation(mirror_points_3d(joints) if flip else joints, joints2d_img,
                                ori_cam_intr)
