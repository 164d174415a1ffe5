from .checkpoint import (
    MMENGINE_CHECKPOINT_GLOBALS,
    TRUST_ENV,
    CheckpointFileError,
    apply_mmengine_patches,
    atomic_write_bytes,
    find_resume_checkpoint,
    load_checkpoint_file,
    sweep_stale_temporary_files,
)
from .cpu_malloc import apply_malloc_config, retain_freed_memory
from .dist import setup_distributed
from .pid_lock import PidLock, PidLockError
from .tensor_sharing import set_tensor_sharing_strategy
from .tool_config import add_common_tool_args, load_tool_config, with_standin_mano

__all__ = [
    'MMENGINE_CHECKPOINT_GLOBALS', 'TRUST_ENV', 'CheckpointFileError', 'PidLock', 'PidLockError',
    'apply_mmengine_patches', 'atomic_write_bytes', 'find_resume_checkpoint',
    'load_checkpoint_file', 'setup_distributed', 'sweep_stale_temporary_files',
    'add_common_tool_args', 'load_tool_config',
    'set_tensor_sharing_strategy', 'apply_malloc_config', 'retain_freed_memory',
    'with_standin_mano'
]
