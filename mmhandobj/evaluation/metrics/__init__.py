"""MMEngine metrics of mmhandobj (registered in ``METRICS``)."""
from .dexycb_hand_metric import DexYCBHandMetric
from .ho3d_metric import HO3DMetric
from .object_pose_metric import DEXYCB_SYMMETRIC_OBJECTS, ObjectPoseMetric

__all__ = ['DexYCBHandMetric', 'HO3DMetric', 'ObjectPoseMetric', 'DEXYCB_SYMMETRIC_OBJECTS']
