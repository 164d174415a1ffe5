from .canonicalize import CanonicalizeHandSide
from .crop import GetHandObjectCrop, HandObjectAffine
from .detected_boxes import LoadDetectedBoxes, pick_hand_and_object
from .detection import DetectionRandomFlip, GenerateDetectionTargets, PackDetectionInputs
from .formatting import PackHandObjectInputs
from .hand_mesh import GenerateHandVertices
from .loading import ImageReadError, LoadHandObjectImage, LoadObjectMask, read_image
from .photometric import HandObjectPhotometric
from .subsets import ComputeHandObjectSubsets, hand_occlusion
from .targets import GenerateHandObjectTargets

__all__ = [
    'CanonicalizeHandSide', 'ComputeHandObjectSubsets', 'DetectionRandomFlip',
    'GenerateDetectionTargets',
    'GenerateHandObjectTargets', 'GenerateHandVertices', 'GetHandObjectCrop', 'HandObjectAffine',
    'HandObjectPhotometric', 'ImageReadError', 'LoadDetectedBoxes', 'LoadHandObjectImage',
    'LoadObjectMask',
    'PackDetectionInputs', 'PackHandObjectInputs', 'hand_occlusion', 'pick_hand_and_object',
    'read_image'
]
