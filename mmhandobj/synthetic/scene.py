"""Scene sampling for the synthetic world: cameras, hand poses and grasp placement.

Everything here lives in one "world" frame, the OpenCV frame of the master camera (x right,
y down, z forward, metres). A hand is the stand-in MANO posed by its PCA prior; its global
orientation puts the palm sideways to the master camera (thumb side toward it) within a limited
range, and the object sits against the palm in one of two grasp types: long axis across the
palm (pointing roughly at the camera, the object seen end-on) or along the fingers (seen
side-on); :class:`GraspRanges` holds the distribution. The HO3D one is deliberately narrow so a
small model learns from a few hundred frames, with both grasps equally likely: the object's
box-keypoint layout is then bimodal and visibly so, the training-set mean layout fits neither
grasp (0 % ADD-0.1D on the quick start's held-out sequence), and object-pose accuracy has to come
from the image (``tools/analysis_tools/prior_baseline.py`` scores that mean).

MANO's global rotation turns about the root joint ``J0`` of the shaped hand, and the
translation is added afterwards, so a hand posed with rotation ``R`` and translation ``t`` has
vertices ``R (v - J0) + J0 + t`` where ``v`` are the vertices posed with a zero global rotation.
"""
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Tuple

import cv2
import numpy as np
from scipy.spatial.transform import Rotation

from mmhandobj.structures import pinhole_project

from .objects import ObjectModel

#: ``(H, W)`` pixels of every rendered image (both layouts).
IMAGE_SIZE: Tuple[int, int] = (480, 640)

#: Number of leading PCA components that vary (the others stay at 0).
NUM_ACTIVE_PCA = 10

#: Hand-pose prototypes of the DexYCB layout on the first PCA components (coefficient units of
#: the stand-in's PCA basis, whose first six components are designed: overall curl, knuckle
#: flexion with straight fingers, index/middle against ring/pinky, thumb curl, spread, index
#: curl): power grasp, loose wrap, index/middle pinch.
DEXYCB_POSE_PROTOTYPES = (
    (2.5, 0.0, 0.0, 1.5, 0.0, 0.0),
    (1.5, 0.8, 0.0, 1.0, 0.3, 0.0),
    (1.0, 0.0, 0.8, 1.5, 0.0, 0.5),
)
#: Hand-pose prototypes of the HO3D layout: four grasps that differ visibly at the quick
#: start's resolution: power grasp (all fingers curled), open spread hand, two-finger grasp
#: (index and middle curled, ring and pinky straight) and pointing index (the others curled).
HO3D_POSE_PROTOTYPES = (
    (2.5, 0.0, 0.0, 1.5, 0.0, 0.0),
    (0.2, 0.6, 0.0, 0.3, 1.2, 0.0),
    (1.2, 0.0, 2.0, 1.0, 0.0, 0.0),
    (1.5, 0.0, 0.0, 1.5, 0.0, -2.5),
)

@dataclass(frozen=True)
class GraspRanges:
    """Distribution of the hand's orientation and of the object in the grasp.

    Attributes:
        palm_deg: Half-ranges (degrees) of the palm frame's orientation: tilt about the camera's
            z and x axes and roll about the finger direction (uniform).
        spin_deg: Half-range (degrees) of the object's spin about its own long axis (model z;
            uniform).
        across_prob: Probability that the object's long axis lies across the palm (seen
            end-on), else along the fingers (seen side-on).
        pose_prototypes: Hand-pose prototypes on the first PCA components (one tuple each,
            equally likely).
        pose_sigma: Standard deviation of the Gaussian noise on the first PCA component
            (PCA coefficient units); component ``k`` gets ``pose_sigma * 0.85 ** k`` up to
            :data:`NUM_ACTIVE_PCA`.
    """

    palm_deg: Tuple[float, float, float]
    spin_deg: float
    across_prob: float
    pose_prototypes: Tuple[Tuple[float, ...], ...]
    pose_sigma: float


#: HO3D layout (the quick start's world): narrow, both grasps equally likely, so the object's
#: keypoint layout is bimodal and the mean layout fits neither grasp; four distinct hand poses
#: with little noise around them, so that finger articulation is worth reading from the image
#: (their mean hand is about 2.3 cm PA-MPJPE from a sampled hand, the prototype of the
#: sampled hand about 0.6 cm).
HO3D_GRASPS = GraspRanges(palm_deg=(20.0, 15.0, 20.0), spin_deg=15.0, across_prob=0.5,
                          pose_prototypes=HO3D_POSE_PROTOTYPES, pose_sigma=0.3)
#: DexYCB layout: 5-8 cameras around the scene must all see the hand, which needs the wider
#: range (with the HO3D ranges some objects, e.g. 002_master_chef_can, find no placement).
DEXYCB_GRASPS = GraspRanges(palm_deg=(45.0, 30.0, 50.0), spin_deg=40.0, across_prob=0.7,
                            pose_prototypes=DEXYCB_POSE_PROTOTYPES, pose_sigma=0.5)

#: Where the midpoint of palm and object goes in the HO3D layout (``anchor_range`` of
#: :func:`place_hand_object`): ``u``, ``v`` offsets in pixels from camera 0's principal point,
#: ``z`` depth in metres; uniform in each ``(lo, hi)``.
HO3D_ANCHOR_RANGE: Dict[str, Tuple[float, float]] = {
    'u': (-90.0, 90.0), 'v': (-50.0, 50.0), 'z': (0.45, 0.75)}
#: The same for the DexYCB layout (narrower: every camera of the rig must see the scene).
DEXYCB_ANCHOR_RANGE: Dict[str, Tuple[float, float]] = {
    'u': (-50.0, 50.0), 'v': (-40.0, 40.0), 'z': (0.5, 0.7)}

# Indices in the simple joint order.
_WRIST, _MCPS = 0, [5, 9, 13, 17]

#: A local forward: (pose (B, 48) flat-mean axis-angle, betas (B, 10)) -> verts (B, 778, 3),
#: joints (B, 21, 3) simple order, metres, zero translation.
HandForward = Callable[[np.ndarray, np.ndarray], Tuple[np.ndarray, np.ndarray]]


@dataclass
class Camera:
    """A pinhole camera in the world frame.

    Attributes:
        K: ``(3, 3)`` intrinsics (pixels).
        rotation: ``(3, 3)`` camera -> world rotation (``p_world = R p_cam + t``).
        translation: ``(3,)`` camera -> world translation, metres.
    """

    K: np.ndarray
    rotation: np.ndarray = field(default_factory=lambda: np.eye(3))
    translation: np.ndarray = field(default_factory=lambda: np.zeros(3))

    def to_camera(self, points: np.ndarray) -> np.ndarray:
        """World points ``(N, 3)`` -> this camera's OpenCV frame ``(N, 3)``."""
        return (points - self.translation) @ self.rotation


@dataclass
class HandObjectPose:
    """One sampled frame in the world frame.

    Attributes:
        pca: ``(45,)`` PCA coefficients of the side's MANO (mean-relative pose = pca @ comps).
        rotation: ``(3, 3)`` MANO global rotation, world frame.
        trans: ``(3,)`` MANO translation (manopth ``th_trans``), world frame, metres.
        root: ``(3,)`` ``J0(betas)``, the rest-pose root joint, metres.
        obj_rotation: ``(3, 3)`` grasped object, model -> world.
        obj_translation: ``(3,)`` grasped object, model -> world, metres.
    """

    pca: np.ndarray
    rotation: np.ndarray
    trans: np.ndarray
    root: np.ndarray
    obj_rotation: np.ndarray
    obj_translation: np.ndarray


def sample_intrinsics(rng: np.random.Generator) -> np.ndarray:
    """Realistic 640x480 intrinsics: fx ~ fy in [605, 620], cx ~ 317, cy ~ 240. ``(3, 3)``."""
    fx = rng.uniform(605.0, 620.0)
    fy = fx * rng.uniform(0.998, 1.002)
    return np.array([[fx, 0.0, rng.uniform(312.0, 322.0)],
                     [0.0, fy, rng.uniform(236.0, 244.0)],
                     [0.0, 0.0, 1.0]])


def make_rig(rng: np.random.Generator, intrinsics: List[np.ndarray],
             center: np.ndarray) -> List[Camera]:
    """Cameras looking at ``center``: camera 0 is the world (master), the others orbit it.

    Args:
        rng: Random generator.
        intrinsics: One ``(3, 3)`` K per camera.
        center: ``(3,)`` point all cameras look at, world frame (in front of camera 0).

    Returns:
        The cameras, camera 0 with the identity pose.
    """
    cams = [Camera(intrinsics[0])]
    for k in range(1, len(intrinsics)):
        yaw = (-1) ** k * rng.uniform(12.0, 38.0)
        pitch = rng.uniform(-15.0, 15.0)
        rot = Rotation.from_euler('yx', [yaw, pitch], degrees=True).as_matrix()
        dist = rng.uniform(0.5, 0.7)
        cams.append(Camera(intrinsics[k], rot, center - rot @ np.array([0.0, 0.0, dist])))
    return cams


def sample_pca(rng: np.random.Generator, num: int, ranges: GraspRanges) -> np.ndarray:
    """PCA coefficients from the grasp prototypes of ``ranges`` plus Gaussian noise.

    Args:
        rng: Random generator.
        num: Number of poses.
        ranges: Holds the prototypes and the noise level.

    Returns:
        ``(num, 45)`` coefficients; only the first :data:`NUM_ACTIVE_PCA` are non-zero.
    """
    prototypes = np.asarray(ranges.pose_prototypes, dtype=np.float64)
    coeffs = np.zeros((num, 45))
    proto = prototypes[rng.integers(len(prototypes), size=num)]
    coeffs[:, :proto.shape[1]] = proto
    sigma = ranges.pose_sigma * 0.85 ** np.arange(NUM_ACTIVE_PCA)
    coeffs[:, :NUM_ACTIVE_PCA] += rng.normal(size=(num, NUM_ACTIVE_PCA)) * sigma
    return coeffs


def hand_frame(joints: np.ndarray, side: str) -> Tuple[np.ndarray, np.ndarray]:
    """Palm centre and palm frame of a posed hand.

    The frame's columns are the finger direction ``f`` (wrist -> middle MCP), the palm normal
    ``n`` (pointing out of the palm) and ``s = f x n`` (the thumb side for a right hand). With
    ``a`` = pinky MCP -> index MCP, the back of a right hand faces ``f x a`` and the back of a
    left hand ``-(f x a)``.

    Args:
        joints: ``(21, 3)`` joints, simple order.
        side: ``'right'`` or ``'left'``.

    Returns:
        Palm centre ``(3,)`` and frame ``(3, 3)`` (a rotation matrix).
    """
    palm = joints[[_WRIST] + _MCPS].mean(axis=0)
    f = joints[9] - joints[_WRIST]
    f /= np.linalg.norm(f)
    n = np.cross(f, joints[5] - joints[17]) * (-1.0 if side == 'right' else 1.0)
    n -= f * (n @ f)
    n /= np.linalg.norm(n)
    return palm, np.stack([f, n, np.cross(f, n)], axis=1)


def _target_frame(rng: np.random.Generator, side: str, ranges: GraspRanges) -> np.ndarray:
    """World orientation of the palm frame: fingers up, palm sideways, limited range."""
    half = np.radians(ranges.palm_deg)
    alpha, beta, gamma = rng.uniform(-half, half)
    tilt = Rotation.from_euler('zx', [alpha, beta]).as_matrix()
    f = tilt @ np.array([0.0, -1.0, 0.0])
    n = Rotation.from_rotvec(gamma * f).as_matrix() @ tilt @ np.array([-1.0, 0.0, 0.0])
    if side == 'left':
        f, n = f * [-1, 1, 1], n * [-1, 1, 1]
    return np.stack([f, n, np.cross(f, n)], axis=1)


def _grasp_rotation(rng: np.random.Generator, ranges: GraspRanges) -> np.ndarray:
    """Object rotation in the palm frame (model -> palm frame); model z is the long axis."""
    if rng.random() < ranges.across_prob:
        base = np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]).T  # z along s
    else:
        base = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]]).T  # z along f
    spin = Rotation.from_euler('z', rng.uniform(-ranges.spin_deg, ranges.spin_deg),
                               degrees=True).as_matrix()
    noise = Rotation.from_rotvec(rng.normal(size=3) * np.radians(6.0)).as_matrix()
    return noise @ base @ spin


def _visible(hand: np.ndarray, joints: np.ndarray, obj: np.ndarray, obj_center: np.ndarray,
             cameras: List[Camera], margin: float = 4.0) -> bool:
    """Hand and object fully inside every image, large enough, hand not hidden by the object.

    Args:
        hand: ``(778, 3)`` hand vertices, world frame.
        joints: ``(21, 3)`` hand joints, world frame.
        obj: ``(V, 3)`` object vertices, world frame.
        obj_center: ``(3,)`` object centre, world frame.
        cameras: The cameras.
        margin: Margin to the image border in pixels.

    A joint counts as hidden when it projects inside the object's silhouette (the convex hull
    of its projected vertices; the objects are convex) and lies behind the object's centre. At
    most a quarter of the joints may be hidden.
    """
    height, width = IMAGE_SIZE
    for cam in cameras:
        for pts, size in ((hand, 60.0), (obj, 30.0)):
            p = cam.to_camera(pts)
            if p[:, 2].min() < 0.3 or p[:, 2].max() > 0.9:
                return False
            uv = pinhole_project(p, cam.K)
            lo, hi = uv.min(axis=0), uv.max(axis=0)
            if lo.min() < margin or hi[0] > width - 1 - margin or hi[1] > height - 1 - margin:
                return False
            if (hi - lo).max() < size:
                return False
        hull = cv2.convexHull(pinhole_project(cam.to_camera(obj), cam.K).astype(np.float32))
        joints_cam = cam.to_camera(joints)
        center_z = cam.to_camera(obj_center[None])[0, 2]
        hidden = sum(joints_cam[k, 2] > center_z and cv2.pointPolygonTest(
            hull, tuple(float(x) for x in uv_k), False) >= 0
            for k, uv_k in enumerate(pinhole_project(joints_cam, cam.K)))
        if hidden > 0.25 * len(joints):
            return False
    return True


def place_hand_object(rng: np.random.Generator, side: str, verts: np.ndarray,
                      joints: np.ndarray, obj: ObjectModel, cameras: List[Camera],
                      anchor_range: Dict[str, Tuple[float, float]], ranges: GraspRanges,
                      max_tries: int = 200) -> Tuple[np.ndarray, np.ndarray, np.ndarray,
                                                     np.ndarray]:
    """Choose the hand's global pose and put the object against its palm.

    Args:
        rng: Random generator.
        side: ``'right'`` or ``'left'``.
        verts: ``(778, 3)`` vertices posed with zero global rotation and translation.
        joints: ``(21, 3)`` matching joints, simple order (``joints[0]`` is ``J0``).
        obj: The grasped object.
        cameras: Cameras that must all see hand and object.
        anchor_range: ``{'u': (lo, hi), 'v': (lo, hi), 'z': (lo, hi)}``: where the midpoint of
            palm and object goes, as pixel offsets from the principal point of camera 0 and a
            depth in metres.
        ranges: Orientation and grasp distribution.
        max_tries: Rejection-sampling budget.

    Returns:
        Global rotation ``(3, 3)``, translation ``(3,)``, object rotation ``(3, 3)`` and object
        translation ``(3,)``, all in the world frame.

    Raises:
        RuntimeError: If no placement keeps everything in view.
    """
    root = joints[_WRIST]
    palm, frame = hand_frame(joints, side)
    for _ in range(max_tries):
        obj_rot_local = frame @ _grasp_rotation(rng, ranges)
        n = frame[:, 1]
        support = (obj.vertices @ obj_rot_local.T @ -n).max()
        obj_center = palm + n * (support + rng.uniform(0.004, 0.015)) \
            + frame[:, 0] * rng.uniform(0.0, 0.03) + frame[:, 2] * rng.uniform(-0.015, 0.015)
        rot = _target_frame(rng, side, ranges) @ frame.T
        K = cameras[0].K
        depth = rng.uniform(*anchor_range['z'])
        pix = K[:2, 2] + [rng.uniform(*anchor_range['u']), rng.uniform(*anchor_range['v'])]
        anchor = cameras[0].rotation @ (np.linalg.solve(K, np.append(pix, 1.0)) * depth) \
            + cameras[0].translation
        mid = (palm + obj_center) / 2
        trans = anchor - root - rot @ (mid - root)
        hand_world = (verts - root) @ rot.T + root + trans
        obj_rotation = rot @ obj_rot_local
        obj_translation = rot @ (obj_center - root) + root + trans
        obj_world = obj.vertices @ obj_rotation.T + obj_translation
        joints_world = (joints - root) @ rot.T + root + trans
        if _visible(hand_world, joints_world, obj_world, obj_translation, cameras):
            return rot, trans, obj_rotation, obj_translation
    raise RuntimeError(f'no placement of {obj.name} kept hand and object in view '
                       f'after {max_tries} tries')


def sample_frames(rng: np.random.Generator, side: str, betas: np.ndarray, obj: ObjectModel,
                  cameras: List[Camera], num: int, comps: np.ndarray, mean: np.ndarray,
                  forward: HandForward, anchor_range: Dict[str, Tuple[float, float]],
                  ranges: GraspRanges) -> List[HandObjectPose]:
    """Sample ``num`` frames of one hand (fixed shape) grasping one object.

    Args:
        rng: Random generator.
        side: ``'right'`` or ``'left'``.
        betas: ``(10,)`` MANO shape.
        obj: Grasped object.
        cameras: Cameras that must see hand and object.
        num: Number of frames.
        comps: ``(45, 45)`` the side's ``hands_components``.
        mean: ``(45,)`` the side's ``hands_mean``.
        forward: Local MANO forward (flat-mean axis-angle, zero translation), see
            :data:`HandForward`.
        anchor_range: See :func:`place_hand_object`.
        ranges: Orientation and grasp distribution (:data:`HO3D_GRASPS`,
            :data:`DEXYCB_GRASPS`).

    Returns:
        ``num`` :class:`HandObjectPose`.
    """
    pca = sample_pca(rng, num, ranges)
    pose = np.zeros((num, 48))
    pose[:, 3:] = pca @ comps + mean
    verts, joints = forward(pose, np.repeat(betas[None], num, axis=0))
    frames = []
    for k in range(num):
        rot, trans, obj_rot, obj_trans = place_hand_object(
            rng, side, verts[k], joints[k], obj, cameras, anchor_range, ranges)
        frames.append(HandObjectPose(pca[k], rot, trans, joints[k, _WRIST].copy(), obj_rot,
                                     obj_trans))
    return frames
