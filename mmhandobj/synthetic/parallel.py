"""Optional process pool for the world writers (one task per sequence, order preserved).

Every task is seeded on its own, so the output does not depend on the number of workers.
"""
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any, Callable, List, Sequence, Tuple

import torch

_WORKER: Any = None


def _init_worker(factory: Callable, args: Tuple) -> None:
    global _WORKER
    torch.set_num_threads(1)
    _WORKER = factory(*args)


def _run(method: str, task: Tuple) -> Any:
    return getattr(_WORKER, method)(*task)


def map_tasks(worker: Any, args: Tuple, method: str, tasks: Sequence[Tuple],
              workers: int) -> List[Any]:
    """Run ``worker.<method>(*task)`` for every task, in order.

    Args:
        worker: The local worker object; worker processes build ``type(worker)(*args)``.
        args: Constructor arguments of the worker (picklable).
        method: Name of the method to call per task.
        tasks: Argument tuples (picklable).
        workers: Number of processes; 1 runs everything here with ``worker``.

    Returns:
        The results in task order.
    """
    if workers <= 1 or len(tasks) <= 1:
        return [getattr(worker, method)(*task) for task in tasks]
    with ProcessPoolExecutor(min(workers, len(tasks)), mp_context=get_context('spawn'),
                             initializer=_init_worker, initargs=(type(worker), args)) as pool:
        return list(pool.map(_run, [method] * len(tasks), tasks))
