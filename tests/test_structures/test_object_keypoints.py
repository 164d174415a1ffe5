import numpy as np
import pytest

from mmhandobj.structures import object_diameter


def test_diameter_definitions():
    rng = np.random.default_rng(0)
    angles = np.linspace(0, 2 * np.pi, 360, endpoint=False)
    circle = np.stack([np.cos(angles), np.sin(angles), np.zeros_like(angles)], axis=1)
    circle = np.concatenate([circle, [[0.0, 0.0, 0.001]]])  # not flat: a real 3-D hull
    assert object_diameter(circle, 'aabb') == pytest.approx(np.sqrt(8 + 0.001 ** 2))
    assert object_diameter(circle, 'max_extent') == pytest.approx(2.0)
    points = rng.normal(size=(200, 3))
    brute = max(np.linalg.norm(a - b) for a in points for b in points)
    assert object_diameter(points, 'max_extent') == pytest.approx(brute)
    flat = np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0], [0.5, 0.5, 0]])
    assert object_diameter(flat, 'max_extent') == pytest.approx(np.sqrt(2))
    # 'max' (the datasets' name) and 'max_extent' (the metric's) are one definition
    assert object_diameter(points, 'max') == object_diameter(points, 'max_extent')
    with pytest.raises(ValueError, match='diameter mode'):
        object_diameter(points, 'bbox')
