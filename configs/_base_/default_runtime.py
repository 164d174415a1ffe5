# Runtime settings shared by every mmhandobj config.
default_scope = 'mmhandobj'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # MMEngine's CheckpointHook with atomic writes (checkpoints and last_checkpoint)
    checkpoint=dict(type='AtomicCheckpointHook', interval=5, by_epoch=True, max_keep_ckpts=-1),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='HandObjectVisualizationHook', enable=False),
    # metrics' files (HO3D pred.json ...) go to <work_dir>/val and <work_dir>/test
    metric_out_dir=dict(type='MetricOutDirHook'),
    # applies tensor_sharing_strategy and malloc_retain_freed (below) before the run
    process_settings=dict(type='ProcessSettingsHook'),
    # stops at the first step with NaN/inf gradients, naming the modules whose norm exploded
    non_finite_grad=dict(type='NonFiniteGradHook'),
)

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
# Dataloader workers pass tensors by shared-memory file name, not by file descriptor: about 17 %
# faster CPU training for our many-small-tensor batches (mmhandobj/utils/tensor_sharing.py).
# None keeps PyTorch's default. Applied by ProcessSettingsHook (default_hooks above).
tensor_sharing_strategy = 'file_system'
# glibc keeps freed tensor memory for reuse instead of returning it to the kernel and
# page-faulting it back every step: R50 training step +7 %, inference +4-17 % on CPU; the
# process keeps its peak memory (mmhandobj/utils/cpu_malloc.py). False / None keep glibc's
# defaults. Applied by ProcessSettingsHook (default_hooks above).
malloc_retain_freed = True

vis_backends = [dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')]
visualizer = dict(type='HandObjectVisualizer', vis_backends=vis_backends, name='visualizer')

log_processor = dict(type='LogProcessor', window_size=50, by_epoch=True)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0)

# Keeps --resume exact: RNG states travel with checkpoints and validation does not perturb them.
custom_hooks = [dict(type='RNGStateHook')]
