from .checkpoint import MMENGINE_CHECKPOINT_GLOBALS, TRUST_ENV, load_checkpoint_file
from .dist import setup_distributed
from .setup_env import register_all_modules

__all__ = [
    'MMENGINE_CHECKPOINT_GLOBALS', 'TRUST_ENV', 'load_checkpoint_file', 'setup_distributed',
    'register_all_modules'
]
