"""ONNX export (tools/deployment/pytorch2onnx.py) and the onnxruntime backend, on the tiny
quick-start model: the file's outputs against PyTorch's forward_raw, pred_instances of
init_model(CONFIG, 'model.onnx') against the PyTorch model's, tools/test.py's metrics, and the
refusals (another model's file, a wrong shape, no onnxruntime, a module that cannot export)."""
import glob
import os
import os.path as osp
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper

from mmhandobj.apis import inference_handobj, init_model
from mmhandobj.apis.onnx_backend import (
    create_session,
    export_onnx,
    import_onnxruntime,
    random_inputs,
)
from mmhandobj.datasets.converters.ho3d import read_ho3d_meta

ROOT = Path(__file__).parents[2]
TOOL = str(ROOT / 'tools' / 'deployment' / 'pytorch2onnx.py')
TOLERANCE = 1e-4
#: The quick start's input size (its test pipeline's HandObjectAffine), pixels.
SHAPE = (96, 96)
OPENGL_TO_OPENCV = np.array([1.0, -1.0, -1.0])


def _options(options: dict) -> list:
    return [f"{key}={str(value).replace(' ', '')}" for key, value in options.items()]


def _run(args, cwd, check=True) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=900)
    if check:
        assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    return proc


@pytest.fixture(scope='module')
def exported(tmp_path_factory, quickstart_config, tiny_options):
    """(PyTorch model, checkpoint, .onnx file, the tool's stdout): a dynamic-batch export of
    the tiny quick-start model with random weights, by the tool."""
    folder = tmp_path_factory.mktemp('onnx')
    torch.manual_seed(0)
    model = init_model(quickstart_config, cfg_options=tiny_options)
    ckpt, out = str(folder / 'tiny.pth'), str(folder / 'tiny.onnx')
    torch.save({'state_dict': model.state_dict()}, ckpt)
    proc = _run([TOOL, quickstart_config, ckpt, '--out', out, '--dynamic-batch',
                 '--cfg-options', *_options(tiny_options)], folder)
    return model, ckpt, out, proc.stdout

SOLVE_TOLERANCE = 1e-3
#: A random model's vote confidences sit at sigmoid(~0) = 0.5, the default ``vote_conf_thr``:
#: a 1e-7 difference then keeps or drops a vote and RANSAC sees another point set. With the
#: threshold at 0 the kept votes depend only on the confidences' order, so both backends solve
#: PnP from the same points.
VOTE_OPTIONS = {'model.test_cfg.vote_conf_thr': 0.0}


def _relative(ours: np.ndarray, reference: np.ndarray) -> float:
    """Worst difference relative to the reference's largest entry; NaN must match NaN (e.g.
    ``hand_root`` of a random model whose fit lies behind the camera)."""
    nan = np.isnan(reference)
    if not np.array_equal(np.isnan(ours), nan):
        return float('inf')
    if nan.all():
        return 0.0
    return float(np.abs(ours - reference)[~nan].max()
                 / max(np.abs(reference[~nan]).max(), 1e-12))


def test_export_has_forward_raw_outputs_and_matches_pytorch(exported):
    model, _, onnx_file, stdout = exported
    worst = float(re.search(r'worst relative difference onnxruntime vs PyTorch: (\S+)',
                            stdout).group(1))
    assert worst <= TOLERANCE
    inputs = random_inputs(3, SHAPE, seed=7)  # another batch than the export's
    with torch.no_grad():
        reference = model.forward_raw(*inputs)
    session = create_session(onnx_file)
    assert [node.name for node in session.get_inputs()] == ['images', 'hand_boxes',
                                                             'obj_boxes']
    assert [node.name for node in session.get_outputs()] == list(reference)
    outputs = session.run(None, dict(zip(['images', 'hand_boxes', 'obj_boxes'],
                                         (t.numpy() for t in inputs))))
    for name, ours in zip(reference, outputs):
        assert ours.shape == tuple(reference[name].shape), name
        assert _relative(ours, reference[name].numpy()) <= TOLERANCE, name


def _frames(world: str, num: int):
    """(image, hand box, object box, K, object name) of annotated frames of the world."""
    found = []
    for meta_path in sorted(glob.glob(osp.join(world, 'train', '*', 'meta', '*.pkl'))):
        meta = read_ho3d_meta(meta_path)
        if meta.get('handJoints3D') is None:
            continue
        cam = np.asarray(meta['camMat'], np.float64)

        def box(points, cam=cam):
            points = np.asarray(points, np.float64) * OPENGL_TO_OPENCV
            uv = points[:, :2] / points[:, 2:] * cam[[0, 1], [0, 1]] + cam[:2, 2]
            return np.concatenate([uv.min(0), uv.max(0)])

        found.append((meta_path.replace('/meta/', '/rgb/').replace('.pkl', '.png'),
                      box(meta['handJoints3D']), box(meta['objCorners3D']), cam,
                      meta['objName']))
    return found[:num]


def test_init_model_onnx_gives_pytorch_pred_instances(exported, quickstart_config,
                                                      tiny_options, synthetic_world,
                                                      monkeypatch):
    model, _, onnx_file, _ = exported
    threshold = VOTE_OPTIONS['model.test_cfg.vote_conf_thr']
    monkeypatch.setattr(model, 'test_cfg', {**model.test_cfg, 'vote_conf_thr': threshold})
    ort_model = init_model(quickstart_config, onnx_file,
                           cfg_options={**tiny_options, **VOTE_OPTIONS})
    frames = _frames(synthetic_world, 2)
    imgs, hand, obj, cams, names = (list(values) for values in zip(*frames))
    args = (imgs, np.stack(hand), np.stack(obj), np.stack(cams))
    reference = inference_handobj(model, *args, obj_name=names)
    ours = inference_handobj(ort_model, *args, obj_name=names)
    for ref_sample, our_sample in zip(reference, ours):
        ref, pred = ref_sample.pred_instances, our_sample.pred_instances
        assert set(pred.keys()) == set(ref.keys())
        assert {'obj_rot', 'obj_trans', 'hand_joints3d'} <= set(pred.keys())
        for key in ref.keys():
            # hand_root is a least-squares solve over the network's joints: for a random
            # model's tiny, distant hand (3.5 m) it amplifies 1e-5 input differences ~10x
            tolerance = SOLVE_TOLERANCE if key == 'hand_root' else TOLERANCE
            assert _relative(np.asarray(pred.get(key)), np.asarray(ref.get(key))) <= tolerance, key


def test_test_tool_scores_the_onnx_file_as_the_checkpoint(exported, quickstart_config,
                                                          tiny_model_options, tmp_path):
    """Both runs score the synthetic evaluation split of a 40-frame world that the dataset
    generates in the run's folder, as tests/test_tools/test_train_test_tools.py does."""
    _, ckpt, onnx_file, _ = exported
    options = ['--cfg-options', *_options({**tiny_model_options, **VOTE_OPTIONS}),
               'test_dataloader.num_workers=0',
               'test_dataloader.persistent_workers=False',
               'test_dataloader.dataset.num_frames=40']
    metric = re.compile(r'Epoch\(test\).*')
    logs = {}
    for name, checkpoint in (('pth', ckpt), ('onnx', onnx_file)):
        proc = _run([str(ROOT / 'tools' / 'test.py'), quickstart_config, checkpoint,
                     '--work-dir', f'work_dirs/{name}', *options], tmp_path)
        logs[name] = dict(re.findall(r'(\S+): ([-0-9.]+)',
                                     metric.search(proc.stdout + proc.stderr).group(0)))
    scores = {key: value for key, value in logs['pth'].items() if '/' in key}
    assert scores and set(scores) == {key for key in logs['onnx'] if '/' in key}
    for key, value in scores.items():
        assert float(logs['onnx'][key]) == pytest.approx(float(value), rel=1e-3, abs=1e-4), key


def _fake_onnx(path: str, inputs, outputs) -> str:
    """A valid ONNX file (Identity nodes) with the given input and output names."""
    values = [helper.make_tensor_value_info(name, TensorProto.FLOAT, None)
              for name in inputs]
    nodes = [helper.make_node('Identity', [inputs[0]], [name]) for name in outputs]
    results = [helper.make_tensor_value_info(name, TensorProto.FLOAT, None)
               for name in outputs]
    onnx.save(helper.make_model(helper.make_graph(nodes, 'other', values, results)), path)
    return path


@pytest.mark.parametrize('inputs,outputs,words', [
    (['images', 'hand_boxes', 'obj_boxes'], ['boxes', 'scores'], 'outputs'),
    (['input'], ['boxes'], 'inputs'),
])
def test_file_of_another_model_is_refused(tmp_path, quickstart_config, tiny_options,
                                          inputs, outputs, words):
    path = _fake_onnx(str(tmp_path / 'other.onnx'), inputs, outputs)
    with pytest.raises(ValueError, match=rf'other\.onnx is not an export.*{words}'):
        init_model(quickstart_config, path, cfg_options=tiny_options)


def test_wrong_input_shape_names_file_and_shapes(exported, quickstart_config, tiny_options):
    _, _, onnx_file, _ = exported
    ort_model = init_model(quickstart_config, onnx_file, cfg_options=tiny_options)
    images, hand, obj = random_inputs(2, (64, 80))
    with pytest.raises(ValueError, match=r"tiny\.onnx takes images of shape \['B', 3, 96, 96\]"
                                         r".*got \[2, 3, 64, 80\]"):
        ort_model.forward_raw(images, hand, obj)


def test_missing_onnxruntime_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, 'onnxruntime', None)
    with pytest.raises(ImportError, match='pip install onnxruntime'):
        import_onnxruntime()


def test_model_without_forward_raw_is_refused(tmp_path):
    with pytest.raises(TypeError, match='Linear cannot be exported.*no forward_raw'):
        export_onnx(torch.nn.Linear(2, 2), str(tmp_path / 'y.onnx'), SHAPE)
