"""OpenCV drawing primitives for hands and objects (in place on ``(H, W, 3)`` uint8 images).

Colours are 3-tuples in the image's own channel order (the visualiser works in RGB). Pixel
coordinates are floats; they are drawn with 4 fractional bits (``shift=4``) so lines pass
through the exact sub-pixel positions. Points that are not finite or lie absurdly far outside
the image (more than :data:`MAX_COORD` pixels) are skipped instead of being clipped.
"""
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

from mmhandobj.structures import SIMPLE_PARENTS

Color = Tuple[int, int, int]

#: Fractional bits used for every OpenCV coordinate.
SHIFT = 4
#: Largest absolute pixel coordinate that is drawn.
MAX_COORD = 1e5

#: RGB colour of each finger in the simple joint order (thumb, index, middle, ring, pinky).
FINGER_COLORS: Tuple[Color, ...] = (
    (230, 25, 75), (245, 130, 48), (255, 225, 25), (60, 180, 75), (0, 130, 200))
#: RGB colour of the wrist joint.
WRIST_COLOR: Color = (255, 255, 255)


def joint_color(joint: int) -> Color:
    """Colour of joint ``joint`` (simple order) and of the bone to its parent."""
    return WRIST_COLOR if joint == 0 else FINGER_COLORS[(joint - 1) // 4]


def _drawable(points: np.ndarray) -> np.ndarray:
    """``(P,)`` mask of finite points within :data:`MAX_COORD` of the origin."""
    return np.isfinite(points).all(axis=-1) & (np.abs(points) < MAX_COORD).all(axis=-1)


def _fixed(point: np.ndarray) -> Tuple[int, int]:
    """A float pixel as OpenCV fixed-point integers (``shift=SHIFT``)."""
    return int(round(point[0] * (1 << SHIFT))), int(round(point[1] * (1 << SHIFT)))


def draw_segments(image: np.ndarray, points: np.ndarray, pairs: Sequence[Tuple[int, int]],
                  color: Color, thickness: int, valid: Optional[np.ndarray] = None) -> None:
    """Draw the segments ``points[a] - points[b]`` for every ``(a, b)`` in ``pairs``.

    Args:
        image: ``(H, W, 3)`` uint8 image, drawn in place.
        points: ``(P, 2)`` pixels.
        pairs: Index pairs into ``points``.
        color: Line colour.
        thickness: Line width in pixels.
        valid: Optional ``(P,)`` mask; segments touching an invalid point are skipped.
    """
    ok = _drawable(points) if valid is None else valid & _drawable(points)
    for a, b in pairs:
        if ok[a] and ok[b]:
            cv2.line(image, _fixed(points[a]), _fixed(points[b]), color, thickness,
                     cv2.LINE_AA, SHIFT)


def draw_skeleton(image: np.ndarray, joints2d: np.ndarray, thickness: int = 2,
                  radius: int = 3) -> None:
    """Draw a 21-joint hand (simple order): bones coloured by finger, then joint dots.

    Args:
        image: ``(H, W, 3)`` uint8 image, drawn in place.
        joints2d: ``(21, 2)`` joints, pixels, simple order.
        thickness: Bone width in pixels.
        radius: Joint dot radius in pixels.
    """
    if joints2d.shape != (len(SIMPLE_PARENTS), 2):
        raise ValueError(f'joints2d: expected shape ({len(SIMPLE_PARENTS)}, 2), got '
                         f'{joints2d.shape}')
    for joint, parent in enumerate(SIMPLE_PARENTS):
        if parent >= 0:
            draw_segments(image, joints2d, [(parent, joint)], joint_color(joint), thickness)
    ok = _drawable(joints2d)
    for joint in np.flatnonzero(ok):
        cv2.circle(image, _fixed(joints2d[joint]), radius << SHIFT, joint_color(joint), -1,
                   cv2.LINE_AA, SHIFT)


def draw_polygon(image: np.ndarray, corners: np.ndarray, color: Color,
                 thickness: int) -> None:
    """Draw a closed polygon outline (e.g. a box mapped back from the crop).

    Args:
        image: ``(H, W, 3)`` uint8 image, drawn in place.
        corners: ``(N, 2)`` vertices in order, pixels.
        color: Line colour.
        thickness: Line width in pixels.
    """
    num = len(corners)
    draw_segments(image, corners, [(i, (i + 1) % num) for i in range(num)], color, thickness)


def draw_mesh(image: np.ndarray, verts2d: np.ndarray, verts_cam: np.ndarray,
              faces: np.ndarray, color: Color, alpha: float) -> None:
    """Blend a flat-shaded triangle mesh over the image (painter's algorithm).

    Triangles are filled from the farthest to the nearest (mean depth), each with ``color``
    scaled by ``0.35 + 0.65 |cos|`` of the angle between its normal and the viewing ray, then
    the filled pixels are blended as ``(1 - alpha) * image + alpha * mesh``. Triangles with a
    vertex behind the camera or not drawable are skipped.

    Args:
        image: ``(H, W, 3)`` uint8 image, drawn in place.
        verts2d: ``(V, 2)`` projected vertices, pixels.
        verts_cam: ``(V, 3)`` the same vertices in the camera frame (depth and shading).
        faces: ``(F, 3)`` vertex ids.
        color: Base colour.
        alpha: Opacity of the mesh in [0, 1].
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f'alpha must be in [0, 1], got {alpha}')
    faces = np.asarray(faces, dtype=np.int64)
    tri_cam = verts_cam[faces]
    ok = (_drawable(verts2d) & (verts_cam[:, 2] > 0))[faces].all(axis=1)
    normals = np.cross(tri_cam[:, 1] - tri_cam[:, 0], tri_cam[:, 2] - tri_cam[:, 0])
    centres = tri_cam.mean(axis=1)
    denom = np.linalg.norm(normals, axis=1) * np.linalg.norm(centres, axis=1)
    cosine = np.abs(np.einsum('fk,fk->f', normals, centres)) / np.maximum(denom, 1e-12)
    shade = 0.35 + 0.65 * cosine
    layer = np.zeros_like(image)
    mask = np.zeros(image.shape[:2], dtype=np.uint8)
    colors = (np.asarray(color, dtype=np.float64)[None] * shade[:, None]).tolist()
    fixed = np.zeros(verts2d.shape, dtype=np.int32)
    drawable = _drawable(verts2d)
    fixed[drawable] = np.round(verts2d[drawable] * (1 << SHIFT)).astype(np.int32)
    for face in np.flatnonzero(ok)[np.argsort(-centres[ok, 2], kind='stable')]:
        tri = fixed[faces[face]]
        cv2.fillConvexPoly(layer, tri, colors[face], cv2.LINE_8, SHIFT)
        cv2.fillConvexPoly(mask, tri, 255, cv2.LINE_8, SHIFT)
    covered = mask > 0
    blended = (1.0 - alpha) * image[covered] + alpha * layer[covered]
    image[covered] = np.clip(np.round(blended), 0, 255).astype(np.uint8)
