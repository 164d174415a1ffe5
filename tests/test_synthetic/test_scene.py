"""Scene sampling: every object can be placed under each format's grasp distribution."""
import numpy as np
import pytest

from mmhandobj.structures import YCB_CLASSES
from mmhandobj.synthetic.dexycb_writer import RIG_CENTER
from mmhandobj.synthetic.hands import StandinHands, write_mano_files
from mmhandobj.synthetic.objects import HO3D_OBJECTS, build_object
from mmhandobj.synthetic.scene import (
    DEXYCB_ANCHOR_RANGE,
    DEXYCB_GRASPS,
    HO3D_ANCHOR_RANGE,
    HO3D_GRASPS,
    Camera,
    make_rig,
    sample_frames,
    sample_intrinsics,
)


@pytest.fixture(scope='module')
def hands(tmp_path_factory):
    mano_dir = str(tmp_path_factory.mktemp('mano'))
    write_mano_files(mano_dir)
    return StandinHands(mano_dir)


def _frames(hands, side, obj_name, cameras, anchor, ranges, seed, num=4):
    rng = np.random.default_rng(seed)
    comps, mean = hands.pca(side)
    return sample_frames(rng, side, np.zeros(10), build_object(obj_name), cameras, num, comps,
                         mean, hands.local_forward(side), anchor, ranges)


@pytest.mark.parametrize('side', ['right', 'left'])
def test_every_dexycb_object_fits_an_eight_camera_rig(hands, side):
    """002_master_chef_can found no placement in 8 cameras under the narrow HO3D ranges."""
    rng = np.random.default_rng(0)
    cameras = make_rig(rng, [sample_intrinsics(rng) for _ in range(8)], RIG_CENTER)
    for seed, name in enumerate(YCB_CLASSES.values()):
        frames = _frames(hands, side, name, cameras, DEXYCB_ANCHOR_RANGE, DEXYCB_GRASPS, seed)
        assert len(frames) == 4


def test_ho3d_grasps_are_bimodal_and_place_every_ho3d_object(hands):
    rng = np.random.default_rng(1)
    camera = [Camera(sample_intrinsics(rng))]
    across = []
    for seed, name in enumerate(HO3D_OBJECTS):
        for pose in _frames(hands, 'right', name, camera, HO3D_ANCHOR_RANGE, HO3D_GRASPS, seed, 8):
            # the model's long axis (z) in the camera: end-on grasps point it along the ray
            across.append(abs(pose.obj_rotation[2, 2]) > 0.7)
    # both grasps occur, about equally often (80 frames, p = 0.5)
    assert 0.3 < np.mean(across) < 0.7
