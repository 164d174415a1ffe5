from .hand_object_roi_extractor import HandObjectRoIExtractor, intersection_boxes, validate_boxes

__all__ = ['HandObjectRoIExtractor', 'intersection_boxes', 'validate_boxes']
