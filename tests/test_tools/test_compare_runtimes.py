"""compare_with_reference.py's runtimes and Semi-Hand-Object: the interleaving, the ratio
arithmetic against a hand computation, and the checks of the authors' checkouts.

Nothing is timed here (no authors' network is run).
"""
import os.path as osp
import statistics

import pytest
from repo_scripts import load_script

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))


def _load_tool():
    return load_script('tools/analysis_tools/compare_with_reference.py',
                       'compare_with_reference_runtimes')


tool = _load_tool()


def test_each_round_runs_the_authors_then_every_runtime():
    order = tool.interleaving(3, ['pytorch', 'onnxruntime', 'compile'])
    expected = []
    for number in (1, 2, 3):
        expected += [(number, 'reference'), (number, 'pytorch'), (number, 'onnxruntime'),
                     (number, 'compile')]
    assert order == expected
    assert tool.interleaving(2, ['onnxruntime']) == [
        (1, 'reference'), (1, 'onnxruntime'), (2, 'reference'), (2, 'onnxruntime')]


def test_runtimes_are_parsed_deduplicated_in_order_and_checked(capsys):
    args = tool.parse_args(['--reference-code', '.', '--runtimes', 'compile', 'pytorch',
                            'compile'])
    assert args.runtimes == ['compile', 'pytorch']
    assert tool.parse_args(['--reference-code', '.']).runtimes == ['pytorch', 'onnxruntime']
    with pytest.raises(SystemExit):
        tool.parse_args(['--reference-code', '.', '--runtimes', 'tensorrt'])
    assert 'tensorrt' in capsys.readouterr().err


def test_method_defaults_and_batches(capsys):
    hfl = tool.parse_args(['--reference-code', '.'])
    assert (hfl.config, hfl.infer_batches) == ('configs/hfl/hfl_r50_ho3d.py', [8, 1])
    sho = tool.parse_args(['--reference-code', '.', '--method', 'sho', '--manopth', '.'])
    assert (sho.config, sho.infer_batches) == ('configs/sho/sho_r50_ho3d.py', [4, 1])
    assert tool.METHODS['sho'].input_size == 512 and tool.METHODS['hfl'].input_size == 256
    with pytest.raises(SystemExit):
        tool.parse_args(['--reference-code', '.', '--infer-batches', '8', '0'])
    assert '--infer-batches must be at least 1' in capsys.readouterr().err


def test_ratios_per_runtime_and_their_medians_by_hand():
    """Three rounds of made-up figures; the ratios and medians worked out by hand."""
    reference = [dict(infer_b8_img_s=2.0, infer_b1_img_s=1.0, train_img_s=0.5,
                      mano_fwd_bwd_ms=20.0),
                 dict(infer_b8_img_s=2.5, infer_b1_img_s=1.25, train_img_s=0.4,
                      mano_fwd_bwd_ms=18.0),
                 dict(infer_b8_img_s=1.6, infer_b1_img_s=0.8, train_img_s=0.5,
                      mano_fwd_bwd_ms=15.0)]
    onnx = [dict(infer_b8_img_s=4.0, infer_b1_img_s=1.5, export_s_b8=30.0,
                 max_rel_diff_b8=2e-6),
            dict(infer_b8_img_s=4.5, infer_b1_img_s=2.5, export_s_b8=31.0,
                 max_rel_diff_b8=3e-6),
            dict(infer_b8_img_s=4.0, infer_b1_img_s=2.0, export_s_b8=29.0,
                 max_rel_diff_b8=1e-6)]
    pytorch = [dict(infer_b8_img_s=3.0, train_img_s=0.6, mano_fwd_bwd_ms=10.0),
               dict(infer_b8_img_s=3.0, train_img_s=0.6, mano_fwd_bwd_ms=12.0),
               dict(infer_b8_img_s=3.2, train_img_s=0.6, mano_fwd_bwd_ms=10.0)]
    onnx_rounds = [tool.ratios(o, r) for o, r in zip(onnx, reference)]
    # infer b8: 4/2 = 2, 4.5/2.5 = 1.8, 4/1.6 = 2.5; b1: 1.5, 2, 2.5
    assert onnx_rounds == [pytest.approx(dict(infer_b8_img_s=2.0, infer_b1_img_s=1.5)),
                           pytest.approx(dict(infer_b8_img_s=1.8, infer_b1_img_s=2.0)),
                           pytest.approx(dict(infer_b8_img_s=2.5, infer_b1_img_s=2.5))]
    summary = tool.summarise(onnx_rounds)
    assert summary['infer_b8_img_s'] == pytest.approx(dict(median=2.0, low=1.8, high=2.5))
    assert summary['infer_b1_img_s'] == pytest.approx(dict(median=2.0, low=1.5, high=2.5))
    torch_rounds = [tool.ratios(o, r) for o, r in zip(pytorch, reference)]
    # train: 1.2, 1.5, 1.2; MANO (their ms over ours): 2.0, 1.5, 1.5; infer 1.5, 1.2, 2.0
    summary = tool.summarise(torch_rounds)
    assert summary['train_img_s'] == pytest.approx(dict(median=1.2, low=1.2, high=1.5))
    assert summary['mano_fwd_bwd_ms'] == pytest.approx(dict(median=1.5, low=1.5, high=2.0))
    assert summary['infer_b8_img_s'] == pytest.approx(dict(median=1.5, low=1.2, high=2.0))
    assert summary['infer_b8_img_s']['median'] == pytest.approx(
        statistics.median([3.0 / 2.0, 3.0 / 2.5, 3.2 / 1.6]))


def test_speed_up_is_less_work_times_a_higher_rate_by_hand(capsys):
    """Made-up figures: 45 against 30 GFLOPs per image is 1.5x less work; 5 img/s x 30 = 150
    against 3 x 45 = 135 GFLOP/s is 1.11x the rate; their product is the images/s ratio."""
    ours = dict(gflop_img=30.0, infer_b8_img_s=5.0)
    theirs = dict(gflop_img=45.0, infer_b8_img_s=3.0, conv_gflop_s=200.0)
    split = tool.work_and_rate(ours, theirs, 8)
    assert split == pytest.approx(dict(work=1.5, rate=150 / 135, ours_gflop_s=150.0,
                                       authors_gflop_s=135.0))
    assert split['work'] * split['rate'] == pytest.approx(
        tool.ratios(ours, theirs)['infer_b8_img_s'])
    slower = dict(gflop_img=45.0, infer_b8_img_s=2.0, conv_gflop_s=220.0)
    tool._print_work_and_rate('onnxruntime', [dict(reference=theirs, onnxruntime=ours),
                                              dict(reference=slower, onnxruntime=ours),
                                              dict(reference=theirs, onnxruntime=ours)], [8])
    line = capsys.readouterr().out
    # rates 150/135, 150/90, 150/135: median 1.11x; their GFLOP/s median 135; conv median 200
    assert ('inference b8 = 1.50x less work (30.0 against 45.0 GFLOP per image) x 1.11x the '
            'rate (150 against 135 GFLOP/s; this CPU\'s large 3x3 convolution 200 GFLOP/s)'
            in line)


def test_missing_sho_checkout_names_it_and_how_to_get_it(tmp_path):
    with pytest.raises(SystemExit, match=r'no_such: no such folder; .*git clone '
                       r'https://github.com/stevenlsw/Semi-Hand-Object'):
        tool.main(['--method', 'sho', '--reference-code', str(tmp_path / 'no_such'),
                   '--manopth', str(tmp_path)])


def test_hfl_checkout_given_as_sho_names_the_missing_files(tmp_path):
    for name in tool.METHODS['hfl'].files:  # an HFL-Net checkout is not a SHO one
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text('class HONet: pass\nclass HOModel: pass\n')
    with pytest.raises(SystemExit) as err:
        tool.check_reference_code(str(tmp_path), 'sho')
    message = str(err.value.code)
    assert 'Semi-Hand-Object' in message and 'models.py' in message
    assert 'utils/manolayer_ho3d.py' in message


def test_sho_file_without_the_network_is_refused(tmp_path):
    for name in tool.METHODS['sho'].files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text('')
    with pytest.raises(SystemExit, match='models.py does not define HONet'):
        tool.check_reference_code(str(tmp_path), 'sho')
    (tmp_path / 'models.py').write_text('class HONet: pass\n')
    assert tool.check_reference_code(str(tmp_path), 'sho') == str(tmp_path)


def test_sho_needs_manopth(tmp_path, capsys):
    with pytest.raises(SystemExit):
        tool.parse_args(['--method', 'sho', '--reference-code', str(tmp_path)])
    assert '--method sho needs --manopth' in capsys.readouterr().err
    with pytest.raises(SystemExit, match=r'missing manopth/__init__.py.*git clone '
                       r'https://github.com/hassony2/manopth'):
        tool.check_manopth(str(tmp_path))


def test_hfl_vendored_manopth_is_refused(tmp_path):
    for name in tool.MANOPTH_FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text('')
    assert tool.check_manopth(str(tmp_path)) == str(tmp_path)
    (tmp_path / 'manopth' / 'rodrigues_layer.py').write_text(
        'from manopth.manopth import argutils\n')
    with pytest.raises(SystemExit, match="HFL-Net's vendored manopth"):
        tool.check_manopth(str(tmp_path))


def test_timed_network_has_no_two_equal_conv_weights():
    """The streams' stages start as copies; a runtime could then merge them (see the tool)."""
    import argparse

    import torch

    config = osp.join(ROOT, 'configs', 'hfl', 'hfl_r18_synthetic.py')
    model = tool._our_network(argparse.Namespace(config=config))
    weights = [p for p in model.parameters() if p.dim() == 4]
    assert len(weights) > 20
    for i, a in enumerate(weights):
        for b in weights[i + 1:]:
            assert a.shape != b.shape or not torch.equal(a, b)


@pytest.mark.parametrize('runtime', ['onnxruntime', 'openvino'])
def test_exported_runtimes_time_the_small_network_and_match_eager(runtime):
    """The side a runtime process runs, for real, on the quick start's network (256x256)."""
    pytest.importorskip(runtime)
    args = tool.parse_args(['--reference-code', '.', '--runtimes', runtime,
                            '--config', osp.join(ROOT, 'configs', 'hfl', 'hfl_r18_synthetic.py'),
                            '--infer-batches', '2', '--threads', '1', '--warmup', '0',
                            '--iters', '1'])
    figures = tool.SIDE_TIMERS[runtime](args)
    assert figures[tool.infer_key(2)] > 0 and figures['export_s_b2'] > 0
    assert figures['max_rel_diff_b2'] <= 1e-4
    # the exported graph computes the full P2 maps: the work counted is that network's
    get_flops = load_script('tools/analysis_tools/get_flops.py')
    full, _ = get_flops.count_flops(tool._our_network(args), (256, 256), windows=False)
    windowed, _ = get_flops.count_flops(tool._our_network(args), (256, 256), windows=True)
    assert figures['gflop_img'] == pytest.approx(full / 1e9)
    assert windowed < full


def test_openvino_without_the_package_says_how_to_install(monkeypatch, capsys):
    real = tool.importlib.util.find_spec
    monkeypatch.setattr(tool.importlib.util, 'find_spec',
                        lambda name, *a: None if name == 'openvino' else real(name, *a))
    with pytest.raises(SystemExit):
        tool.parse_args(['--reference-code', '.', '--runtimes', 'openvino'])
    assert 'pip install openvino' in capsys.readouterr().err
