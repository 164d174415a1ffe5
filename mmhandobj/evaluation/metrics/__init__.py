"""MMEngine metrics of mmhandobj (registered in ``METRICS``)."""
from .dexycb_hand_metric import DexYCBHandMetric
from .hand_object_box_metric import HandObjectBoxMetric
from .hand_object_contact_metric import HandObjectContactMetric
from .hand_root_metric import HandRootMetric
from .ho3d_metric import HO3DMetric
from .object_pose_metric import DEXYCB_SYMMETRIC_OBJECTS, ObjectPoseMetric

__all__ = ['DexYCBHandMetric', 'HO3DMetric', 'HandObjectBoxMetric', 'HandObjectContactMetric',
           'HandRootMetric', 'ObjectPoseMetric', 'DEXYCB_SYMMETRIC_OBJECTS']
