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

"""hydranet-train / -eval / -export on tiny runs: files, resume, DDP, runtimes agree."""

import csv
import json
import os
import pathlib
import shutil
import subprocess
import sys

from hydranet_perception.data.synthetic import generate_scene
from hydranet_perception.engine import evaluate, export, train
from hydranet_perception.engine.config import load_train_config
from hydranet_perception.engine.runtimes import ensure_onnx, make_backend, resolve_backend, \
    SHIPPED_WEIGHTS
from hydranet_perception.inference import Predictor
from hydranet_perception.model import build_model, load_model_config
from hydranet_perception.model.checkpoint import load_checkpoint, load_model, save_checkpoint
from hydranet_perception.model.export import export_onnx
from hydranet_perception.postprocess.letterbox import letterbox
import numpy as np
import parity
import pytest
import torch
import yaml

TINY = {
    'model': {'size': 'n', 'input_size': [64, 96], 'width': 0.125},
    'train': {'kind': 'synthetic', 'seed': 3, 'num_images': 32, 'height': 60, 'width': 90},
    'input_size': [64, 96], 'batch_size': 2, 'max_steps': 4, 'log_every': 1,
    'ckpt_every': 2, 'workers': 0, 'optim': {'warmup_steps': 2},
}


def _cfg(tmp_path, **over):
    data = {**TINY, 'out_dir': str(tmp_path / 'run'), **over}
    path = tmp_path / 'train.yaml'
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture(scope='module')
def tiny_ckpt(tmp_path_factory):
    torch.manual_seed(0)
    cfg = load_model_config(TINY['model'])
    path = tmp_path_factory.mktemp('ckpt') / 'tiny.pt'
    save_checkpoint(path, model=build_model(cfg), config=cfg)
    return path


def test_config_refuses_unknown_keys_and_bad_values(tmp_path):
    with pytest.raises(ValueError, match='unknown TrainConfig keys'):
        load_train_config({'max_stpes': 3})
    with pytest.raises(ValueError, match='balancing'):
        load_train_config({'balancing': 'magic'})
    with pytest.raises(ValueError, match='multiples of 32'):
        load_train_config({'input_size': [100, 96]})


def test_train_writes_log_checkpoints_plot_and_resumes(tmp_path):
    cfg = _cfg(tmp_path)
    assert train.main([str(cfg), '--no-progress']) == 0
    run = tmp_path / 'run'
    for name in ('train_log.csv', 'losses.png', 'last.pt', 'final.pt', 'step_000002.pt'):
        assert (run / name).is_file(), name
    rows = list(csv.DictReader(open(run / 'train_log.csv')))
    assert [int(r['step']) for r in rows] == [1, 2, 3, 4]
    for term in ('detect/cls', 'detect/box', 'masks/bce', 'masks/dice', 'keypoints/oks',
                 'semantic/ce', 'weight/masks', 'total'):
        assert term in rows[0] and np.isfinite(float(rows[-1][term])), term
    state = load_checkpoint(run / 'last.pt')  # weights_only loading
    assert state['meta']['train_state']['step'] == 4
    assert 'optimizer' in state['meta']['train_state']
    assert train.main([str(cfg), '--no-progress', '--resume', str(run / 'last.pt'),
                       '--max-steps', '6']) == 0
    assert load_checkpoint(run / 'last.pt')['meta']['train_state']['step'] == 6
    rows = list(csv.DictReader(open(run / 'train_log.csv')))
    assert [int(r['step']) for r in rows][-2:] == [5, 6]


def test_fixed_weights_balancing(tmp_path):
    cfg = _cfg(tmp_path, balancing='fixed', task_weights={'masks': 2.0}, max_steps=1)
    assert train.main([str(cfg), '--no-progress']) == 0
    rows = list(csv.DictReader(open(tmp_path / 'run' / 'train_log.csv')))
    assert float(rows[0]['weight/masks']) == 2.0


def test_ddp_two_cpu_processes_with_gloo(tmp_path):
    cfg = _cfg(tmp_path, max_steps=2)
    env = dict(os.environ, OMP_NUM_THREADS='1')
    res = subprocess.run(
        [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2',
         '--master_port', str(29500 + os.getpid() % 1000), '-m',
         'hydranet_perception.engine.train', str(cfg), '--no-progress'],
        capture_output=True, text=True, timeout=300, env=env)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert "'world_size': 2" in res.stdout
    assert load_checkpoint(tmp_path / 'run' / 'final.pt')['meta']['train_state']['step'] == 2


def test_eval_on_a_synthetic_split_from_a_seed(tmp_path, tiny_ckpt, capsys):
    out = tmp_path / 'eval'
    rc = evaluate.main([str(tiny_ckpt), '--synthetic-seed', '5', '--num-images', '2',
                        '--size', '60x90', '--device', 'cpu', '--out', str(out)])
    assert rc == 0
    rep = json.loads((out / 'report.json').read_text())
    assert rep['num_images'] == 2 and (out / 'report.png').is_file()
    for k in ('bbox_AP', 'segm_AP', 'keypoints_AP', 'PQ', 'SQ', 'RQ'):
        assert 0.0 <= rep[k] <= 1.0, k
    assert set(rep['keypoints_AP_per_class']) == {'person', 'instrument'}
    for k in ('bbox_AP_per_class', 'segm_AP_per_class'):
        assert set(rep[k]) == {'person', 'instrument', 'box'}, k
    # Every average is printed with its per-class values beside it.
    printed = capsys.readouterr().out
    for metric in ('bbox_AP', 'segm_AP', 'keypoints_AP'):
        line = next(ln for ln in printed.splitlines() if ln.startswith(metric + ' '))
        names = rep[f'{metric}_per_class']
        assert all(f'{n} ' in line for n in names), line


def test_eval_refuses_a_bad_checkpoint(tmp_path, capsys):
    bad = tmp_path / 'bad.pt'
    bad.write_bytes(b'not a checkpoint')
    assert evaluate.main([str(bad), '--out', str(tmp_path / 'e')]) == 2
    assert 'bad.pt' in capsys.readouterr().err


def test_export_parity_report(tmp_path, tiny_ckpt):
    onnx_path = tmp_path / 'tiny.onnx'
    assert export.main([str(tiny_ckpt), '--out', str(onnx_path),
                        '--runtimes', 'onnxruntime', 'openvino', 'tensorrt']) == 0
    rep = json.loads(onnx_path.with_suffix('.parity.json').read_text())
    for name in ('onnxruntime', 'openvino'):
        assert max(rep[name]['raw_max_abs_diff'].values()) < 1e-3, name
        # A random network scores every anchor near the prior (0.01), far below the
        # report's threshold (0.3): no detections on either side.
        det = rep[name]['detections']
        assert (det['matched'], det['only_torch'], det['only_runtime']) == (0, 0, 0), name
        assert len(rep[name]['predictions']) == 3
    assert 'skipped' in rep['tensorrt'] or 'raw_max_abs_diff' in rep['tensorrt']


def test_parity_report_matches_detections_of_the_shipped_weights(tmp_path):
    model, config, _ = load_model(str(SHIPPED_WEIGHTS))
    path = tmp_path / 'hydranet_n.onnx'
    export_onnx(model.eval(), path, height=config.input_size[0], width=config.input_size[1])
    rep = export.parity_report(model, config, str(path), runtimes=('onnxruntime',),
                               num_images=2)
    det = rep['onnxruntime']['detections']
    assert det['matched'] > 0 and det['box_iou_min'] > 0.99, det
    # A detection on one side only must score within rounding of the threshold (0.3):
    # sigmoid is 1/4-Lipschitz, so 0.25 * (ATOL + RTOL * |logit|) < 1e-3 for |logit| < 30.
    for p in rep['onnxruntime']['predictions']:
        assert p['unmatched_score_max'] < 0.3 + 1e-3, p


@pytest.fixture(scope='module')
def trained_ckpt(tmp_path_factory):
    """Return a copy of the shipped weights (a runtime writes its ONNX export beside it)."""
    path = tmp_path_factory.mktemp('trained') / 'hydranet_n.pt'
    shutil.copyfile(SHIPPED_WEIGHTS, path)
    return path


@pytest.mark.parametrize('runtime', ['onnxruntime', 'openvino'])
def test_runtimes_return_the_same_prediction_as_torch(trained_ckpt, runtime):
    # The trained weights on a generated scene: real objects whose scores differ by far
    # more than rounding. (A random network's scores all tie near the prior, so which of
    # them survive NMS and max_det, and in what order, is rounding noise.) A low
    # threshold keeps weak detections too; they are matched by class and IoU.
    thresh = 0.1
    ref = Predictor(checkpoint=str(trained_ckpt), device='cpu', score_thresh=thresh)
    backend = make_backend(runtime, str(trained_ckpt))
    other = Predictor(backend=backend, config=ref.config, score_thresh=thresh)
    rgb = generate_scene(11).image
    a, b = ref(rgb), other(rgb)
    assert len(a) >= 3
    x, info = letterbox(rgb, ref.input_size)
    tol = parity.decoded_tolerances(ref.backend.run(x[None], ref.tasks), min(info.scale))
    rep = parity.assert_same_predictions(a, b, tol, score_thresh=thresh)
    assert rep == export.compare_predictions(a, b)  # what the parity report records


def test_tensorrt_is_refused_with_a_reason_without_a_gpu(tiny_ckpt):
    if torch.cuda.is_available():
        pytest.skip('a GPU is present: TensorRT may work here')
    with pytest.raises(ValueError, match='tensorrt needs an NVIDIA GPU'):
        make_backend('tensorrt', str(tiny_ckpt))


def test_unknown_runtime_refused():
    with pytest.raises(ValueError, match='unknown backend'):
        make_backend('tflite', 'x.onnx')


def test_onnx_written_beside_checkpoint_is_reused(tmp_path, tiny_ckpt):
    ckpt = tmp_path / 'model.pt'
    ckpt.write_bytes(pathlib.Path(tiny_ckpt).read_bytes())
    backend = make_backend('onnxruntime', str(ckpt))
    (onnx,) = tmp_path.glob('model.*.onnx')
    h, w = backend.input_size
    assert onnx.name == f'model.{w}x{h}.onnx'
    stamp = onnx.stat().st_mtime_ns
    make_backend('openvino', str(ckpt))
    assert onnx.stat().st_mtime_ns == stamp  # reused, not exported again
    other = make_backend('onnxruntime', str(ckpt), input_size=(h + 32, w))
    assert other.input_size == (h + 32, w)
    assert (tmp_path / f'model.{w}x{h + 32}.onnx').is_file()


def test_onnx_of_a_read_only_checkpoint_goes_to_the_cache(tmp_path, tiny_ckpt, monkeypatch):
    if os.geteuid() == 0:
        monkeypatch.setattr(os, 'replace', _refuse_in(tmp_path / 'ro'))
    ro = tmp_path / 'ro'
    ro.mkdir()
    ckpt = ro / 'model.pt'
    ckpt.write_bytes(pathlib.Path(tiny_ckpt).read_bytes())
    ro.chmod(0o555)
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path / 'cache'))
    try:
        path = pathlib.Path(ensure_onnx(str(ckpt)))
    finally:
        ro.chmod(0o755)
    assert path.parent == tmp_path / 'cache' / 'hydranet_perception'
    assert path.name.startswith('model-') and path.suffix == '.onnx'
    assert not list(ro.glob('*.onnx')) and not list(ro.glob('.*tmp'))
    assert ensure_onnx(str(ckpt)) == str(path)  # found again


def _refuse_in(folder):
    """os.replace that fails inside ``folder`` (root ignores read-only modes)."""
    real = os.replace

    def replace(src, dst):
        if pathlib.Path(dst).parent == folder:
            os.unlink(src)
            raise PermissionError(13, 'read-only folder', str(dst))
        return real(src, dst)
    return replace


def test_auto_backend_resolution(monkeypatch):
    import importlib.util
    assert resolve_backend('openvino') == 'openvino'
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, 'find_spec',
                        lambda n: None if n == 'onnxruntime' else real(n))
    assert resolve_backend('auto', 'cpu') == 'openvino'
    monkeypatch.setattr(importlib.util, 'find_spec', lambda n: None)
    assert resolve_backend('auto', 'cpu') == 'torch'
