"""Two "machines" on one: tools/dist_train.sh and tools/dist_test.sh as two nodes on loopback.

Launches each script twice (``NNODES=2``, ``NODE_RANK=0/1``, ``MASTER_ADDR=127.0.0.1``, one CPU
process per node, gloo), each node in its own folder with its own synthetic world, on the quick
start shrunk to a tiny model and a 40-frame world for one epoch. Checks that

* both ranks end training with identical weights, equal to the saved checkpoint (each rank
  writes a SHA-256 of its state dict through :class:`StateDigestHook`);
* the two-node test's metrics equal a single-process ``tools/test.py`` of that checkpoint;
* killing node 1 mid-training makes node 0 exit non-zero with a message within
  ``DIST_TIMEOUT`` seconds instead of hanging.

Example:
    python tools/misc/two_node_loopback.py --timeout 60
"""
import argparse
import hashlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

import torch
from mmengine.hooks import Hook

from mmhandobj.registry import HOOKS

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / 'configs' / 'hfl' / 'hfl_r18_synthetic.py'
#: The tiny model and data overrides of the tests (tests/conftest.py, test_train_test_tools.py).
TINY_CONFIG = """_base_ = [{base!r}]
custom_imports = dict(imports=['tools.misc.two_node_loopback'], allow_failed_imports=False)
custom_hooks = [dict(type='RNGStateHook'), dict(type='StateDigestHook')]
model = dict(neck=dict(out_channels=32), obj_to_hand_fusion=dict(in_channels=32),
             hand_to_obj_fusion=dict(in_channels=32),
             hand_head=dict(in_channels=32, mano_hidden=[64, 32]), obj_head=dict(in_channels=32))
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                        dataset=dict(num_frames=40, val_sequences=['GPMF10']))
val_dataloader = dict(num_workers=0, persistent_workers=False,
                      dataset=dict(num_frames=40, val_sequences=['GPMF10']))
test_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(num_frames=40))
train_cfg = dict(max_epochs={epochs}, val_interval=1000)
default_hooks = dict(logger=dict(interval=1))
"""
#: The test's metric line: ``Epoch(test) [N/N]  name: value ...  data_time: ...``.
METRIC_LINE = re.compile(r'Epoch\(test\) +\[\d+/\d+\] +(\S+/\S+: .*?) +data_time')
#: MMEngine's folder (relative to the working directory) for gathering results on the CPU.
SHARED_COLLECT_DIR = '.dist_test'
#: Seconds between polls of a running launch.
POLL_S = 0.5


def state_digest(state: Dict[str, torch.Tensor]) -> str:
    """SHA-256 over a state dict's names, dtypes, shapes and bytes, in name order."""
    digest = hashlib.sha256()
    for name in sorted(state):
        tensor = state[name].detach().cpu().contiguous()
        digest.update(f'{name}:{tensor.dtype}:{tuple(tensor.shape)}'.encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


@HOOKS.register_module()
class StateDigestHook(Hook):
    """Write ``state_digest_rank<R>.txt`` to the work dir of every rank when training ends: the
    :func:`state_digest` of the parameters, then of the whole state dict (with the buffers:
    BatchNorm statistics, which DDP takes from rank 0 at each forward, so after the last step
    every rank holds those of its own last batch)."""

    def after_train(self, runner) -> None:
        model = getattr(runner.model, 'module', runner.model)
        path = Path(runner.work_dir) / f'state_digest_rank{runner.rank}.txt'
        path.write_text(f'{state_digest(dict(model.named_parameters()))}\n'
                        f'{state_digest(model.state_dict())}')


def _descendants(pid: int) -> List[int]:
    """``pid`` and all its descendants (Linux ``/proc``): torchrun starts each worker in a
    session of its own, so killing the launch's process group would leave the worker alive."""
    pids = [pid]
    for child in Path(f'/proc/{pid}/task/{pid}/children').read_text().split():
        pids += _descendants(int(child))
    return pids


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _launch(script: str, args: List[str], cwd: Path, node_rank: int, port: int,
            timeout_s: int) -> subprocess.Popen:
    env = dict(os.environ, NNODES='2', NODE_RANK=str(node_rank), MASTER_ADDR='127.0.0.1',
               PORT=str(port), DIST_TIMEOUT=str(timeout_s), OMP_NUM_THREADS='1',
               PYTHONPATH=str(ROOT), CUDA_VISIBLE_DEVICES='')
    log = open(cwd / f'{Path(script).stem}.log', 'w')
    return subprocess.Popen(['bash', str(ROOT / 'tools' / script), *args], cwd=cwd, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _wait(procs: List[subprocess.Popen], nodes: List[Path], script: str) -> None:
    for proc, node in zip(procs, nodes):
        if proc.wait() != 0:
            raise SystemExit(f'{script} exited with {proc.returncode} on {node.name}:\n'
                             f'{_log(node, script)[-3000:]}')


def _log(cwd: Path, script: str) -> str:
    return (cwd / f'{Path(script).stem}.log').read_text()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--timeout', type=int, default=60,
                        help='DIST_TIMEOUT for the launches, seconds')
    parser.add_argument('--dir', help='folder for the two nodes (default: a temporary one)')
    args = parser.parse_args()
    base = Path(args.dir or tempfile.mkdtemp(prefix='two_node_'))
    nodes = [base / 'node0', base / 'node1']
    for node in nodes:
        node.mkdir(parents=True, exist_ok=True)
    # MMEngine gathers evaluation results through files in <cwd>/.dist_test, which every node
    # must see (a shared filesystem on a cluster): node 1's is a link to node 0's
    (nodes[0] / SHARED_COLLECT_DIR).mkdir(exist_ok=True)
    if not (nodes[1] / SHARED_COLLECT_DIR).exists():
        (nodes[1] / SHARED_COLLECT_DIR).symlink_to(nodes[0] / SHARED_COLLECT_DIR)
    config = base / 'tiny_two_node.py'
    config.write_text(TINY_CONFIG.format(base=str(CONFIG), epochs=1))

    start = time.monotonic()
    port = _free_port()
    train = [_launch('dist_train.sh', [str(config), '1', '--work-dir', 'work'], node, rank,
                     port, args.timeout) for rank, node in enumerate(nodes)]
    _wait(train, nodes, 'dist_train.sh')
    train_s = time.monotonic() - start
    ckpt = nodes[0] / 'work' / 'epoch_1.pth'
    saved = state_digest(torch.load(ckpt, map_location='cpu', weights_only=False)['state_dict'])
    (params0, state0), (params1, state1) = [
        (node / 'work' / f'state_digest_rank{rank}.txt').read_text().split()
        for rank, node in enumerate(nodes)]
    print(f'training: 2 nodes x 1 process, {train_s:.0f} s; parameter digests rank 0 '
          f'{params0[:16]}, rank 1 {params1[:16]}; state dict digests rank 0 {state0[:16]}, '
          f'checkpoint {saved[:16]} (rank 1 {state1[:16]}: its own last BatchNorm statistics)')
    if params0 != params1:
        raise SystemExit('the ranks ended with different weights')
    if state0 != saved:
        raise SystemExit("the checkpoint is not rank 0's state")

    port = _free_port()
    test = [_launch('dist_test.sh', [str(config), str(ckpt), '1', '--work-dir', 'test'],
                    node, rank, port, args.timeout) for rank, node in enumerate(nodes)]
    _wait(test, nodes, 'dist_test.sh')
    two_node = METRIC_LINE.search(_log(nodes[0], 'dist_test.sh')).group(1)
    single = subprocess.run(
        [sys.executable, str(ROOT / 'tools' / 'test.py'), str(config), str(ckpt), '--work-dir',
         'test_single'], cwd=nodes[0], capture_output=True, text=True,
        env=dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=str(ROOT)))
    if single.returncode != 0:
        raise SystemExit(f'single-process test failed:\n{single.stderr[-3000:]}')
    one = METRIC_LINE.search(single.stdout + single.stderr).group(1)
    print(f'two-node test: {two_node}\nsingle process: {one}')
    if two_node != one:
        raise SystemExit('the two-node metrics differ from the single-process ones')

    config.write_text(TINY_CONFIG.format(base=str(CONFIG), epochs=1000))
    port = _free_port()
    kill_dirs = [node / 'kill' for node in nodes]
    for node in kill_dirs:
        (node / 'data').mkdir(parents=True, exist_ok=True)
    for node, kill in zip(nodes, kill_dirs):  # reuse each node's world
        target = kill / 'data' / 'synthetic'
        if not target.exists():
            target.symlink_to(node / 'data' / 'synthetic')
    survivor, victim = [_launch('dist_train.sh', [str(config), '1', '--work-dir', 'work'],
                                node, rank, port, args.timeout)
                        for rank, node in enumerate(kill_dirs)]
    while not re.search(r'Epoch\(train\) +\[1\]\[2/', _log(kill_dirs[0], 'dist_train.sh')):
        if survivor.poll() is not None:
            raise SystemExit('node 0 ended before the kill')
        time.sleep(POLL_S)
    for pid in _descendants(victim.pid):  # node 1: its launcher, torchrun and the worker
        os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    try:
        code = survivor.wait(timeout=args.timeout + 60)
    except subprocess.TimeoutExpired:
        for pid in _descendants(survivor.pid):
            os.kill(pid, signal.SIGKILL)
        raise SystemExit(f'node 0 still runs {args.timeout + 60} s after node 1 was '
                         'killed') from None
    log = _log(kill_dirs[0], 'dist_train.sh')
    reason = [line for line in log.splitlines()
              if re.search(r'Error|error:|closed|timed out|Timeout', line)]
    print(f'node 1 killed: node 0 exited with {code} after {time.monotonic() - killed:.1f} s '
          f'(DIST_TIMEOUT={args.timeout} s); first message: {reason[0] if reason else "none"}')
    if code == 0:
        raise SystemExit('node 0 exited 0 after its peer was killed')
    print(f'all checks passed; logs under {base}')


if __name__ == '__main__':
    main()
