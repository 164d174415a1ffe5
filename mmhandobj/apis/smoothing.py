"""Temporal smoothing of per-frame predictions: One-Euro filters, rotations on SO(3).

The One-Euro filter (Casiez, Roussel and Vogel, CHI 2012) is an exponential smoother whose
cut-off frequency rises with the signal's speed: ``f_c = min_cutoff + beta * |dx/dt|``, with
``alpha = 1 / (1 + 1 / (2 pi f_c dt))``. Slow motion is smoothed hard (little jitter), fast
motion lightly (little lag). :class:`OneEuroFilter` filters arrays element-wise;
:class:`RotationOneEuroFilter` filters rotation matrices on the rotation group: the step from
the previous estimate to the new measurement is the rotation vector
``w = log(R_prev^T R_new)`` (radians), its speed ``|w| / dt`` sets the cut-off, and the estimate
moves along the geodesic, ``R = R_prev exp(alpha w)`` (a slerp), so the result is always a
rotation (no per-entry averaging and re-orthonormalisation).

Lag: for a signal moving at constant speed ``v`` the steady-state lag of the filter is
``(1 - alpha) / alpha = fps / (2 pi f_c)`` frames with ``f_c = min_cutoff + beta * v``. With the
defaults of :class:`HandObjectSmoother` at 30 frames/s: below 2 frames for hands moving faster
than 0.28 m/s and objects turning faster than 1.4 rad/s, and at most
``fps / (2 pi min_cutoff)`` = 4.8 frames (0.16 s) for very slow motion, where the distance
lagged behind (speed x 0.16 s) is small. An exponential smoother never overshoots a step.
"""
import math
from typing import Dict, Optional, Sequence

import numpy as np
from scipy.spatial.transform import Rotation


def smoothing_factor(cutoff: np.ndarray, dt: float) -> np.ndarray:
    """``alpha`` of an exponential smoother with cut-off ``cutoff`` (Hz) at step ``dt`` (s)."""
    tau = 1.0 / (2 * math.pi * np.asarray(cutoff, np.float64))
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """Element-wise One-Euro filter of a fixed-shape array signal.

    Args:
        min_cutoff: Cut-off frequency at rest, Hz (lower = smoother, more lag).
        beta: Speed coefficient, Hz per (signal unit / s) (higher = less lag when moving).
        d_cutoff: Cut-off of the speed estimate, Hz.
    """

    def __init__(self, min_cutoff: float = 1.0, beta: float = 0.0,
                 d_cutoff: float = 1.0) -> None:
        if min_cutoff <= 0 or d_cutoff <= 0 or beta < 0:
            raise ValueError(f'min_cutoff and d_cutoff must be > 0 and beta >= 0, got '
                             f'{min_cutoff}, {d_cutoff}, {beta}')
        self.min_cutoff, self.beta, self.d_cutoff = min_cutoff, beta, d_cutoff
        self.value: Optional[np.ndarray] = None
        self.speed: Optional[np.ndarray] = None

    def reset(self) -> None:
        """Forget the past (e.g. when the track is lost)."""
        self.value = self.speed = None

    def __call__(self, x: np.ndarray, dt: float) -> np.ndarray:
        """Filter one sample.

        Args:
            x: The new measurement (any fixed shape).
            dt: Seconds since the previous sample (> 0).

        Returns:
            The filtered value, same shape (float64).
        """
        x = np.asarray(x, np.float64)
        if self.value is None:
            self.value, self.speed = x.copy(), np.zeros_like(x)
            return x.copy()
        if x.shape != self.value.shape:
            raise ValueError(f'OneEuroFilter: shape changed from {self.value.shape} to {x.shape}')
        speed = (x - self.value) / dt
        a_d = smoothing_factor(self.d_cutoff, dt)
        self.speed = a_d * speed + (1 - a_d) * self.speed
        alpha = smoothing_factor(self.min_cutoff + self.beta * np.abs(self.speed), dt)
        self.value = alpha * x + (1 - alpha) * self.value
        return self.value.copy()


class RotationOneEuroFilter:
    """One-Euro filter of a rotation matrix on SO(3) (see the module documentation).

    Args:
        min_cutoff: Cut-off frequency at rest, Hz.
        beta: Speed coefficient, Hz per (rad / s).
        d_cutoff: Cut-off of the angular-speed estimate, Hz.
    """

    def __init__(self, min_cutoff: float = 1.0, beta: float = 0.0,
                 d_cutoff: float = 1.0) -> None:
        if min_cutoff <= 0 or d_cutoff <= 0 or beta < 0:
            raise ValueError(f'min_cutoff and d_cutoff must be > 0 and beta >= 0, got '
                             f'{min_cutoff}, {d_cutoff}, {beta}')
        self.min_cutoff, self.beta, self.d_cutoff = min_cutoff, beta, d_cutoff
        self.value: Optional[Rotation] = None
        self.speed = 0.0

    def reset(self) -> None:
        """Forget the past."""
        self.value, self.speed = None, 0.0

    def __call__(self, rot: np.ndarray, dt: float) -> np.ndarray:
        """Filter one rotation.

        Args:
            rot: ``(3, 3)`` rotation matrix (e.g. object model -> camera).
            dt: Seconds since the previous sample.

        Returns:
            ``(3, 3)`` float64 filtered rotation matrix.
        """
        new = Rotation.from_matrix(np.asarray(rot, np.float64))
        if self.value is None:
            self.value = new
            return new.as_matrix()
        step = (self.value.inv() * new).as_rotvec()  # body-frame geodesic step, radians
        a_d = smoothing_factor(self.d_cutoff, dt)
        self.speed = a_d * float(np.linalg.norm(step)) / dt + (1 - a_d) * self.speed
        alpha = float(smoothing_factor(self.min_cutoff + self.beta * self.speed, dt))
        self.value = self.value * Rotation.from_rotvec(alpha * step)
        return self.value.as_matrix()


class HandObjectSmoother:
    """Smooth a hand-object track frame by frame.

    Filters the wrist-relative hand joints and vertices (metres), the 2D hand joints
    ``hand_joints2d_img`` (pixels of the original image), the object translation (metres) and
    the object rotation (on SO(3)).

    Args:
        fps: Frames per second of the track (``dt = 1 / fps``).
        min_cutoff: Rest cut-off of every filter, Hz.
        beta_m: Speed coefficient of metric quantities, Hz per m/s.
        beta_px: Speed coefficient of pixel quantities, Hz per px/s.
        beta_rad: Speed coefficient of the object rotation, Hz per rad/s.
        d_cutoff: Cut-off of the speed estimates, Hz.
    """

    METRIC_KEYS = ('hand_joints3d', 'hand_verts3d', 'obj_trans')
    PIXEL_KEYS = ('hand_joints2d_img', )
    #: The object's quantities (reset alone when the object pose is missing in a frame).
    OBJECT_KEYS = ('obj_trans', 'obj_rot')

    def __init__(self, fps: float, min_cutoff: float = 1.0, beta_m: float = 5.0,
                 beta_px: float = 0.005, beta_rad: float = 1.0, d_cutoff: float = 1.0) -> None:
        if fps <= 0:
            raise ValueError(f'fps must be > 0, got {fps}')
        self.dt = 1.0 / fps
        self.filters: Dict[str, object] = {
            **{k: OneEuroFilter(min_cutoff, beta_m, d_cutoff) for k in self.METRIC_KEYS},
            **{k: OneEuroFilter(min_cutoff, beta_px, d_cutoff) for k in self.PIXEL_KEYS},
            'obj_rot': RotationOneEuroFilter(min_cutoff, beta_rad, d_cutoff)}

    def reset(self, keys: Optional[Sequence[str]] = None) -> None:
        """Forget the past of the filters of ``keys`` (default: every filter)."""
        for key, filt in self.filters.items():
            if keys is None or key in keys:
                filt.reset()

    def __call__(self, values: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
        """Filter the quantities of one frame present in ``values`` (others pass through)."""
        out = dict(values)
        for key, filt in self.filters.items():
            if key in values and values[key] is not None:
                out[key] = filt(values[key], self.dt)
        return out
