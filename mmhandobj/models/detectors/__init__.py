from .hand_object_detector import HandObjectDetector, build_fpn_backbone, feature_strides

__all__ = ['HandObjectDetector', 'build_fpn_backbone', 'feature_strides']
