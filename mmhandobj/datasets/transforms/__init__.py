from .canonicalize import CanonicalizeHandSide
from .crop import GetHandObjectCrop, HandObjectAffine
from .formatting import PackHandObjectInputs
from .hand_mesh import GenerateHandVertices
from .loading import ImageReadError, LoadHandObjectImage, LoadObjectMask, read_image
from .photometric import HandObjectPhotometric
from .targets import GenerateHandObjectTargets

__all__ = [
    'CanonicalizeHandSide', 'GenerateHandObjectTargets', 'GenerateHandVertices',
    'GetHandObjectCrop', 'HandObjectAffine', 'HandObjectPhotometric', 'ImageReadError',
    'LoadHandObjectImage', 'LoadObjectMask', 'PackHandObjectInputs', 'read_image'
]
