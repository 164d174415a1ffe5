from .checkpoint import MMENGINE_CHECKPOINT_GLOBALS, TRUST_ENV, load_checkpoint_file
from .dist import setup_distributed
from .setup_env import register_all_modules
from .tool_config import add_common_tool_args, load_tool_config

__all__ = [
    'MMENGINE_CHECKPOINT_GLOBALS', 'TRUST_ENV', 'load_checkpoint_file', 'setup_distributed',
    'register_all_modules', 'add_common_tool_args', 'load_tool_config'
]
