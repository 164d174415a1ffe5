from .rng_state_hook import RNGStateHook
from .visualization_hook import HandObjectVisualizationHook

__all__ = ['HandObjectVisualizationHook', 'RNGStateHook']
