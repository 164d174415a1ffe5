"""tools/analysis_tools/stability_sweep.py: the run plan and the reading of finished runs."""
import json
import os.path as osp

import pytest
from repo_scripts import load_script

ROOT = osp.join(osp.dirname(__file__), '..', '..')
QUICK_START = osp.join(ROOT, 'configs', 'hfl', 'hfl_r18_synthetic.py')


def _load_tool():
    return load_script('tools/analysis_tools/stability_sweep.py')


tool = _load_tool()


def _write_run(work_dir, grad_norms, losses, metrics, checkpoint_epoch=None, log=''):
    """A work dir as tools/train.py leaves it: scalars.json, optional checkpoint and log."""
    vis = work_dir / '20260101_000000' / 'vis_data'
    vis.mkdir(parents=True)
    lines = [{'grad_norm': g, 'loss': loss, 'iter': 10 * (i + 1), 'step': 10 * (i + 1)}
             for i, (g, loss) in enumerate(zip(grad_norms, losses))]
    lines.append({**metrics, 'step': 10})
    (vis / 'scalars.json').write_text(''.join(json.dumps(x) + '\n' for x in lines))
    if checkpoint_epoch is not None:
        (work_dir / f'epoch_{checkpoint_epoch}.pth').write_bytes(b'')
    (work_dir / tool.RUN_LOG).write_text(log)


def test_plan_lists_each_setting_once_seed_major():
    plan = tool.plan_runs([2, 8, 16], [0, 1], 'both', base_batch=8)
    assert [r.name for r in plan] == [
        'b2_lr_seed0', 'b2_scaledlr_seed0', 'b8_lr_seed0', 'b16_lr_seed0',
        'b16_scaledlr_seed0', 'b2_lr_seed1', 'b2_scaledlr_seed1', 'b8_lr_seed1',
        'b16_lr_seed1', 'b16_scaledlr_seed1']
    # at the base batch the scaled run is the unscaled one: planned once, as unscaled
    assert [r.name for r in tool.plan_runs([8, 4], [3], 'on', base_batch=8)] == [
        'b8_lr_seed3', 'b4_scaledlr_seed3']
    assert [r.name for r in tool.plan_runs([4], [0], 'off', base_batch=None)] == ['b4_lr_seed0']
    with pytest.raises(ValueError, match='base_batch_size'):
        tool.plan_runs([4], [0], 'both', base_batch=None)


def test_train_command_sets_batch_seed_and_scaling():
    command = tool.train_command('c.py', tool.RunSpec(4, True, 2), 'w', ['a=1'])
    assert command[1].endswith(osp.join('tools', 'train.py'))
    assert command[2:] == ['c.py', '--work-dir', 'w', '--auto-scale-lr', '--cfg-options',
                           'train_dataloader.batch_size=4', 'randomness.seed=2', 'a=1']
    assert '--auto-scale-lr' not in tool.train_command('c.py', tool.RunSpec(4, False, 2), 'w', [])


def test_finished_run_is_finite_with_its_largest_grad_norm_and_last_metrics(tmp_path):
    _write_run(tmp_path, [250.0, 3822.0, 90.0], [5.0, 4.0, 3.5], {'hand/pa_mpjpe_cm': 1.8},
               checkpoint_epoch=10)
    result = tool.summarise_run(str(tmp_path), 10, 0, ['hand/pa_mpjpe_cm', 'absent'])
    assert result['finite'] and result['stopped'] is None
    assert result['max_grad_norm'] == 3822.0
    assert result['last_loss'] == 3.5 and result['last_iter'] == 30
    assert result['metrics'] == {'hand/pa_mpjpe_cm': 1.8}


def test_a_run_stopped_by_the_non_finite_hook_is_named_with_its_message(tmp_path):
    message = ('non-finite gradient norm at epoch 5, iteration 1295 in '
               'obj_to_hand_fusion.layers (inf); largest finite module gradient norms: x')
    _write_run(tmp_path, [200.0, 1.4e6], [5.0, 9.0], {}, checkpoint_epoch=4,
               log=f'...\nFloatingPointError: {message}\nlater line\n')
    result = tool.summarise_run(str(tmp_path), 10, 1, [])
    assert not result['finite']
    assert result['stopped'] == message


def test_a_logged_nan_or_a_missing_last_checkpoint_is_not_finite(tmp_path):
    nan_run = tmp_path / 'nan'
    _write_run(nan_run, [200.0, float('nan')], [5.0, float('inf')], {}, checkpoint_epoch=10)
    assert not tool.summarise_run(str(nan_run), 10, 0, [])['finite']
    short = tmp_path / 'short'
    _write_run(short, [200.0], [5.0], {}, checkpoint_epoch=9, log='Killed\n')
    result = tool.summarise_run(str(short), 10, None, [])
    assert not result['finite'] and result['stopped'] == 'Killed'


def test_main_reads_finished_runs_without_training_and_fails_on_a_bad_one(tmp_path, capsys):
    root = tmp_path / 'sweep'
    for name, loss in (('b4_lr_seed0', 2.0), ('b4_scaledlr_seed0', float('nan')),
                       ('b8_lr_seed0', 1.0)):
        _write_run(root / name, [100.0], [loss], {'hand/pa_mpjpe_cm': 2.0},
                   checkpoint_epoch=10)
    with pytest.raises(SystemExit) as exit_info:
        tool.main([QUICK_START, '--batches', '4', '8', '--seeds', '0', '--work-dir', str(root),
                   '--keys', 'hand/pa_mpjpe_cm'])
    assert exit_info.value.code == 1
    report = json.loads((root / f'{tool.REPORT}.json').read_text())
    assert [(r['run'], r['finite'], r['seconds']) for r in report['runs']] == [
        ('b4_lr_seed0', True, None), ('b4_scaledlr_seed0', False, None),
        ('b8_lr_seed0', True, None)]
    assert report['base_batch_size'] == 8 and report['max_epochs'] == 10
    assert '2 of 3 runs finite; not finite: b4_scaledlr_seed0' in capsys.readouterr().out
    assert '| b8_lr_seed0 | 8 | no | 0 | yes |' in (root / f'{tool.REPORT}.md').read_text()


def test_default_keys_are_names_the_quick_starts_validation_logs():
    from mmengine.config import Config

    from mmhandobj.evaluation.functional.ho3d_scorer import HO3D_SCORE_KEYS
    from mmhandobj.registry import METRICS

    evaluator = Config.fromfile(QUICK_START).val_evaluator
    prefixes = {METRICS.get(metric['type']).default_prefix: metric['type']
                for metric in evaluator}
    for key in tool.DEFAULT_KEYS:
        prefix, name = key.split('/', 1)
        assert prefix in prefixes, key
        if prefixes[prefix] == 'HO3DMetric':
            assert name in HO3D_SCORE_KEYS, key


def test_report_names_keys_no_run_logged_and_keeps_training_time(tmp_path, capsys):
    root = tmp_path / 'sweep'
    _write_run(root / 'b8_lr_seed0', [100.0], [1.0], {'ho3d/xyz_mean3d': 2.0},
               checkpoint_epoch=10)
    (root / 'b8_lr_seed0' / tool.RUN_TIME).write_text(json.dumps({'seconds': 90.0}))
    results = tool.main([QUICK_START, '--batches', '8', '--seeds', '0', '--lr-scaling', 'off',
                         '--work-dir', str(root), '--keys', 'ho3d/xyz_mean3d', 'hand/typo'])
    assert results[0]['seconds'] == 90.0
    assert results[0]['metrics'] == {'ho3d/xyz_mean3d': 2.0}
    out = capsys.readouterr().out
    assert "keys hand/typo are in no run's last validation" in out
    assert '| b8_lr_seed0 | 8 | no | 0 | yes | 100 | 1 | 2 |  | 1.5 |' in out
