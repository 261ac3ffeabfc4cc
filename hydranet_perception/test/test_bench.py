# Copyright 2026 The hydranet_perception Authors
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

"""The benchmarks still run and say what they measure (no timing is asserted here)."""

import json
import pathlib
import subprocess
import sys

import pytest

BENCH = pathlib.Path(__file__).resolve().parents[2] / 'bench'

pytestmark = pytest.mark.skipif(not BENCH.is_dir(), reason='bench/ is outside the package '
                                'and absent from an installed copy')


def _run(script, *args, timeout=240):
    out = subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True,
                         text=True, timeout=timeout)
    assert out.returncode == 0, out.stderr[-3000:]
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith('{')]


def test_predictor_stages_reports_every_stage():
    (row,) = _run('predictor_stages.py', '--backends', 'onnxruntime', '--frames', '3')
    assert row['backend'] == 'onnxruntime' and row['network_input'] == '320x256'
    for key in ('preprocess', 'forward', 'postprocess', 'instances_msg', 'overlay', 'cpu'):
        assert row[f'{key}_ms_p50'] > 0, key
    assert row['predictor_ms_p50'] >= row['forward_ms_p50']


def test_node_latency_measures_the_node_end_to_end():
    *rows, summary = _run('node_latency.py', '--backends', 'onnxruntime', '--seconds', '1')
    (row,) = rows
    assert row['outputs_received'] > 0 and row['node_frames_in'] > 0
    assert row['node_frames_in'] == row['node_frames_processed'] + row['node_frames_dropped']
    assert row['latency_ms_p50'] > row['forward_ms_p50'] > 0
    assert summary['summary'] and summary['fastest_backend'] == 'onnxruntime'
    assert isinstance(summary['goal_met'], bool)


def test_soak_samples_the_node_memory():
    *samples, summary = _run('soak.py', '--frames', '60', '--sample-every', '20',
                             '--warmup', '20')
    assert [s['frames_sent'] for s in samples] == [20, 40, 60]
    assert all(s['rss_kib'] > 0 for s in samples)
    assert summary['summary'] and summary['frames_sent'] == 60
    assert 0 < summary['node_frames_in'] <= 60 and summary['outputs_received'] > 0
    assert summary['node_frames_in'] == summary['node_frames_processed'] + \
        summary['node_frames_dropped'] + summary['node_frames_rejected']
    assert summary['rss_kib_end'] > 0 and 'rss_growth_percent' in summary


def test_node_startup_reports_time_memory_and_torch():
    row, summary = _run('node_startup.py', '--repeat', '1', '--settle', '0.2')
    assert row['start_to_active_s'] > 0 and row['rss_mb'] > 0
    assert isinstance(row['torch_loaded'], bool) and 'onnxruntime' in row['model']
    assert summary['summary'] and summary['runs'] == 1 and isinstance(summary['goal_met'], bool)


def test_gpu_check_says_so_and_exits_0_without_cuda():
    from hydranet_perception.inference.devices import cuda_device_count
    if cuda_device_count():
        pytest.skip('a CUDA device is here: run bench/gpu_check.sh itself (minutes)')
    out = subprocess.run(['bash', str(BENCH / 'gpu_check.sh')], capture_output=True, text=True,
                         timeout=120, env={'PY': sys.executable, 'PATH': '/usr/bin:/bin'})
    assert out.returncode == 0, out.stderr[-3000:]
    (line,) = [json.loads(s) for s in out.stdout.splitlines() if s.startswith('{')]
    assert line['gpu_check'] == 'skipped' and 'no CUDA' in line['reason']


def test_keypoint_errors_measures_refined_and_unrefined_keypoints(tmp_path):
    from hydranet_perception.model import build_model, ModelConfig
    from hydranet_perception.model.checkpoint import save_checkpoint
    cfg = ModelConfig(size='n', input_size=(256, 320), keypoint_refine=True)
    path = tmp_path / 'refine.pt'
    save_checkpoint(path, model=build_model(cfg), config=cfg)
    rows = _run('keypoint_errors.py', str(path), '--num-images', '2', '--threads', '1')
    summary = rows[-1]
    assert summary['summary'] and summary['images'] == 2
    for cls in ('person', 'instrument'):
        assert set(summary['median_px'][cls]) == {'output', 'unrefined'}, cls
        assert 0 <= summary['within_tolerance'][cls]['output'] <= 1
    per_slot = [r for r in rows[:-1] if r['cls'] == 'instrument']
    assert {r['keypoint'] for r in per_slot} == {'tip', 'joint', 'handle_left', 'handle_right'}
    assert all(r['count'] > 0 and r['median_px'] >= 0 for r in per_slot)
