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

"""
The inference package: one load of the weights, backends behind one interface, stages.

Loads are counted in-process by wrapping ``torch.load`` and ``HydraNet.__init__`` (every
``build_model`` constructs one), around the node's own engine object.
"""

import os
import pathlib
import subprocess
import sys

from hydranet_perception.data.synthetic import generate_scene
from hydranet_perception.inference import backends, batching, stages, weights as weights_mod
from hydranet_perception.inference.devices import nvidia_driver_present, resolve_device
from hydranet_perception.inference.predictor import Predictor
from hydranet_perception.model import build_model, load_model_config, save_checkpoint
from hydranet_perception.model.checkpoint import load_model
from hydranet_perception.model.export import BATCHED_EXCEPT as export_batched_except, \
    export_onnx, read_metadata
from hydranet_perception.model.hydranet import HydraNet
from hydranet_perception.postprocess.letterbox import letterbox
from hydranet_perception.prediction import Prediction
from hydranet_perception.ros.engine import Engine, EngineError
import numpy as np
import parity
import pytest
import torch

PKG_DIR = pathlib.Path(__file__).resolve().parents[1]
SHIPPED_PT = PKG_DIR / 'hydranet_perception' / 'weights' / 'hydranet_n.pt'
CFG = load_model_config({'size': 'n', 'input_size': [64, 96], 'width': 0.125})


@pytest.fixture(scope='module')
def tiny_pt(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp('w') / 'tiny.pt'
    save_checkpoint(path, model=build_model(CFG), config=CFG)
    return path


@pytest.fixture
def counts(monkeypatch):
    """Count torch.load and HydraNet constructions (build_model) while the test runs."""
    seen = {'torch.load': 0, 'build_model': 0}
    load, init = torch.load, HydraNet.__init__

    def counting_load(*a, **k):
        seen['torch.load'] += 1
        return load(*a, **k)

    def counting_init(self, *a, **k):
        seen['build_model'] += 1
        init(self, *a, **k)

    monkeypatch.setattr(torch, 'load', counting_load)
    monkeypatch.setattr(HydraNet, '__init__', counting_init)
    return seen


def _copy(src: pathlib.Path, folder: pathlib.Path) -> pathlib.Path:
    folder.mkdir(parents=True, exist_ok=True)
    dst = folder / src.name
    dst.write_bytes(src.read_bytes())
    return dst


def test_torch_activation_loads_the_weights_once(tiny_pt, tmp_path, counts):
    engine = Engine(weights=str(_copy(tiny_pt, tmp_path)), backend='torch', device='cpu')
    assert counts == {'torch.load': 1, 'build_model': 1}
    assert engine.backend == 'torch' and len(engine.weights_sha256) == 64


def test_onnx_activation_exports_once_then_never_opens_the_checkpoint(tiny_pt, tmp_path,
                                                                      counts):
    path = _copy(tiny_pt, tmp_path)
    first = Engine(weights=str(path), backend='onnxruntime', device='cpu')
    assert counts == {'torch.load': 1, 'build_model': 1}  # loaded once, exported
    assert (tmp_path / 'tiny.96x64.onnx').is_file()
    second = Engine(weights=str(path), backend='onnxruntime', device='cpu')
    assert counts == {'torch.load': 1, 'build_model': 1}  # the fresh export, nothing else
    assert first.weights_sha256 == second.weights_sha256 == weights_mod.sha256_file(path)
    assert second.device == 'cpu' and second.backend == 'onnxruntime'


def test_onnx_runtime_with_a_fresh_export_does_not_import_torch(tiny_pt, tmp_path):
    path = _copy(tiny_pt, tmp_path)
    weights_mod.load_weights(str(path), runtime='onnxruntime')  # writes the export
    code = ('import sys, numpy as np\n'
            'from hydranet_perception.inference import Predictor\n'
            f'p = Predictor.from_weights({str(path)!r}, backend="onnxruntime", device="cpu")\n'
            'p(np.zeros((50, 70, 3), np.uint8))\n'
            'print("torch" in sys.modules)\n')
    out = subprocess.run([sys.executable, '-c', code], cwd=PKG_DIR, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == 'False'  # torch is not in sys.modules


def test_the_parameter_check_is_cheap_and_says_why(tiny_pt, tmp_path, counts):
    assert Engine.check_weights(str(tiny_pt)) is None
    assert 'not found' in Engine.check_weights(str(tmp_path / 'nope.pt'))
    cut = tmp_path / 'cut.pt'
    cut.write_bytes(tiny_pt.read_bytes()[:1000])
    assert 'truncated or corrupt' in Engine.check_weights(str(cut))
    (tmp_path / 'empty.onnx').write_bytes(b'')
    assert 'empty' in Engine.check_weights(str(tmp_path / 'empty.onnx'))
    assert counts['torch.load'] == 0
    bad = tmp_path / 'broken.onnx'
    bad.write_bytes(b'\x08\x07' + bytes(64))
    assert Engine.check_weights(str(bad)) is None  # the load refuses it
    with pytest.raises(EngineError, match='not a readable ONNX graph'):
        Engine(weights=str(bad), backend='onnxruntime', device='cpu')


def test_graph_metadata_is_read_without_the_onnx_package(tmp_path):
    path = tmp_path / 'm.onnx'
    export_onnx(build_model(CFG).eval(), path, height=64, width=96)
    assert weights_mod.read_graph_metadata(path) == read_metadata(path)


def test_tasks_are_chosen_per_call_and_the_predictor_does_not_change(tiny_pt):
    p = Predictor.from_weights(str(tiny_pt), backend='torch', device='cpu', score_thresh=0.0)
    rgb = np.full((50, 70, 3), 90, np.uint8)
    full = p(rgb)
    only = p(rgb, tasks=['semantic'])
    assert p.tasks == ('detect', 'masks', 'semantic', 'keypoints')
    assert full.semantic is not None and full.masks is not None and len(full) > 0
    assert only.semantic is not None and len(only) == 0
    masks = p(rgb, tasks=['masks'])  # masks bring detect
    assert masks.masks is not None and masks.semantic is None
    with pytest.raises(ValueError, match='not available'):
        p(rgb, tasks=['depth'])
    with pytest.raises(TypeError, match='unknown options'):
        p(rgb, iou=0.3)


def test_backends_share_one_interface(tiny_pt, tmp_path):
    path = _copy(tiny_pt, tmp_path)
    assert set(backends.BACKENDS) == {'torch', 'onnxruntime', 'openvino', 'tensorrt'}
    x = np.random.default_rng(0).random((1, 3, 64, 96), dtype=np.float32)
    ref = None
    for name in ('torch', 'onnxruntime', 'openvino'):
        w = weights_mod.load_weights(str(path), runtime=name)
        b = backends.make_backend(name, w, device='cpu')
        assert b.name == name and b.device == 'cpu'
        assert b.tasks == ('detect', 'masks', 'semantic', 'keypoints')
        out = b.run(x, ['detect', 'semantic'])
        assert all(isinstance(v, np.ndarray) and v.dtype == np.float32 for v in out.values())
        if ref is None:
            ref = out
        else:  # float32 graphs of one network: agreement to rounding of ~1e3 terms
            np.testing.assert_allclose(out['detect_cls'], ref['detect_cls'], atol=1e-3,
                                       rtol=1e-3)
    b = backends.make_backend('onnxruntime', weights_mod.load_weights(str(path),
                                                                      runtime='onnxruntime'))
    b.tasks = ('detect',)
    with pytest.raises(ValueError, match='not in this exported graph'):
        b.run(x, ['semantic'])


@pytest.mark.skipif(nvidia_driver_present(), reason='a GPU may be present here')
def test_cuda_is_refused_with_a_reason_without_a_gpu(tiny_pt):
    with pytest.raises(ValueError, match='CUDA is not available'):
        resolve_device('cuda:1')
    assert resolve_device('auto') == 'cpu' and resolve_device('cpu') == 'cpu'
    with pytest.raises(ValueError, match='cpu, cuda or cuda:N'):
        resolve_device('gpu7')
    assert 'CUDA' in backends.backend_problem('onnxruntime', 'cuda:0')
    assert backends.backend_problem('onnxruntime', 'cpu') is None
    w = weights_mod.load_weights(str(tiny_pt), runtime='onnxruntime')
    with pytest.raises(ValueError, match='CUDA|onnxruntime-gpu'):
        backends.OnnxRuntimeBackend(w, device='cuda:0')


def test_select_keeps_every_instance_array_aligned():
    n = 4
    pred = Prediction(image_size=(8, 8), boxes=np.arange(16, dtype=np.float32).reshape(4, 4),
                      scores=np.array([0.9, 0.8, 0.7, 0.6], np.float32),
                      class_ids=np.array([1, 2, 1, 3]), masks=np.zeros((n, 8, 8), bool),
                      keypoints=np.zeros((n, 2, 3), np.float32),
                      semantic=np.zeros((8, 8), np.uint8),
                      instance_ids=np.array([5, 6, 7, 8]), track_ids=np.array([1, 0, 2, 3]))
    sub = pred.select(pred.class_ids == 1)
    assert len(sub) == 2 and sub.instance_ids.tolist() == [5, 7]
    assert sub.track_ids.tolist() == [1, 2] and sub.masks.shape == (2, 8, 8)
    assert sub.semantic is pred.semantic and len(pred) == 4
    assert pred.select([3]).scores.tolist() == [pytest.approx(0.6)]
    with pytest.raises(ValueError, match='bool mask'):
        pred.select(np.ones(3, bool))


def test_stages_run_in_order_and_tracking_gives_ids():
    ls = CFG.label_space
    boxes = np.array([[10, 10, 30, 40], [50, 10, 70, 40]], np.float32)

    def frame(t):
        scores = np.array([0.9, 0.8], np.float32)
        return Prediction(image_size=(80, 100), boxes=boxes + t, scores=scores,
                          class_ids=np.array([1, 2]))

    resets = []
    run = stages.Stages([stages.ClassFilter(), None,
                         stages.Tracking(on_reset=resets.append)])
    assert run.names == ('class_filter', 'tracking')
    ids = []
    for i in range(3):  # 10 Hz
        ctx = stages.FrameContext('cam', 100, i * 100_000_000, 'cam', (80, 100), ls)
        pred, timings = run(frame(i), ctx)
        assert set(timings) == {'class_filter', 'tracking'}
        ids.append(pred.track_ids.tolist())
    assert ids[0] == [0, 0]  # tentative for min_hits frames
    assert 0 not in ids[1] and ids[1] == ids[2] and len(set(ids[1])) == 2
    ctx = stages.FrameContext('cam', 1, 0, 'cam', (80, 100), ls)
    run(frame(0), ctx)  # the stamp went back: that camera starts again
    assert resets == ['cam']
    kept, _ = stages.Stages([stages.ClassFilter([2])])(frame(0), ctx)
    assert kept.class_ids.tolist() == [2]


def test_resolve_device_is_the_one_training_uses():
    from hydranet_perception.engine import train
    assert train.resolve_device is resolve_device
    assert os.path.basename(backends.__file__) == 'backends.py'


CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA device')


@CUDA
def test_torch_cuda_fp16_matches_cpu_fp32():
    # fp16 stores every activation with a unit roundoff of 2**-11 (~4.9e-4); through
    # the network's depth (under 64 layers for size n) that bounds the relative error
    # of a raw output near 64 * 2**-11 ~ 3% of its range: allowed 5% of it, plus 1e-2.
    from hydranet_perception.data.synthetic import generate_scene
    cpu = Predictor.from_weights(backend='torch', device='cpu')
    gpu = Predictor.from_weights(backend='torch', device='cuda:0', fp16=True)
    assert gpu.device == 'cuda:0' and gpu.backend.fp16
    from hydranet_perception.preprocess import letterbox
    x, _ = letterbox(generate_scene(11).image, cpu.input_size)
    a, b = cpu.backend.run(x[None], cpu.tasks), gpu.backend.run(x[None], gpu.tasks)
    for name in a:
        bound = 0.05 * float(np.abs(a[name]).max()) + 1e-2
        assert float(np.abs(a[name] - b[name]).max()) <= bound, name


@pytest.mark.skipif(not (torch.cuda.is_available() and backends.backend_problem(
    'onnxruntime', 'cuda:0') is None), reason='needs CUDA and onnxruntime-gpu')
def test_onnxruntime_cuda_runs_on_the_device_it_was_given(tiny_pt, tmp_path):
    w = weights_mod.load_weights(str(_copy(tiny_pt, tmp_path)), runtime='onnxruntime')
    last = f'cuda:{torch.cuda.device_count() - 1}'
    b = backends.OnnxRuntimeBackend(w, device=last)
    assert b.device == last
    opts = b.session.get_provider_options()['CUDAExecutionProvider']
    assert int(opts['device_id']) == torch.cuda.device_count() - 1


def _export_shipped(tmp_path_factory, name, *, dynamic_batch):
    model, config, _ = load_model(str(SHIPPED_PT))
    path = tmp_path_factory.mktemp(name) / 'hydranet_n.320x256.onnx'
    h, w = config.input_size
    export_onnx(model.eval(), path, height=h, width=w, dynamic_batch=dynamic_batch)
    return path


@pytest.fixture(scope='module')
def dynamic_graph(tmp_path_factory):
    """Return an export of the shipped weights with a dynamic batch (as the node makes)."""
    return _export_shipped(tmp_path_factory, 'dynamic', dynamic_batch=True)


@pytest.fixture(scope='module')
def static_graph(tmp_path_factory):
    """Return an export of the shipped weights with a fixed batch of 1 (an older export)."""
    return _export_shipped(tmp_path_factory, 'static', dynamic_batch=False)


@pytest.mark.parametrize('graph,runtime', [('dynamic', 'onnxruntime'),
                                           ('dynamic', 'openvino'),
                                           ('static', 'onnxruntime')])
def test_a_batch_gives_the_predictions_of_single_calls(graph, runtime, request):
    # Three scenes of the shipped weights at three sizes (three letterboxes) as one batch,
    # against each alone. The raw outputs of a batch and of one image agree to the
    # rounding of differently blocked float32 kernels (parity.ATOL/RTOL); the decoded
    # tolerances follow from it per image (its letterbox scale).
    path = request.getfixturevalue(f'{graph}_graph')  # exported here: a fresh clone has none
    thresh = 0.1
    pred = Predictor(checkpoint=str(path), backend=runtime, score_thresh=thresh)
    assert pred.backend.max_batch == (None if graph == 'dynamic' else 1)
    assert backends.BATCHED_EXCEPT == export_batched_except  # one contract, two copies
    images = [generate_scene(11).image, generate_scene(12).image[:360, :500],
              np.ascontiguousarray(generate_scene(13).image[40:, 100:420])]
    batch = pred.predict_batch(images)
    assert len(batch) == 3 and pred.predict_batch([]) == []
    for rgb, got in zip(images, batch):
        single = pred(rgb)
        assert len(single) >= 1
        assert got.semantic.shape == rgb.shape[:2]
        x, info = letterbox(rgb, pred.input_size)
        tol = parity.decoded_tolerances(pred.backend.run(x[None], pred.tasks),
                                        min(info.scale))
        parity.assert_same_predictions(single, got, tol, score_thresh=thresh)


def test_latest_slots_take_the_oldest_waiting_camera_first():
    # Four cameras, batches of two: a camera that keeps publishing does not keep its
    # place; the one waiting longest goes first, so each waits at most 2 batches.
    slots = batching.LatestSlots(['a', 'b', 'c', 'd'])
    for k in ('c', 'a', 'b', 'd'):
        assert not slots.put(k, k + '1')
    assert slots.put('c', 'c2')  # replaced unread: a drop, its place kept
    assert slots.take(2, timeout=0) == [('c', 'c2'), ('a', 'a1')]
    slots.put('c', 'c3')
    slots.put('a', 'a2')
    assert slots.take(2, timeout=0) == [('b', 'b1'), ('d', 'd1')]
    assert slots.take(8, timeout=0) == [('c', 'c3'), ('a', 'a2')]
    assert slots.take(8, timeout=0) == []
    slots.put('b', 'b2')
    assert slots.clear() == ['b'] and slots.take(1, timeout=0) == []
    with pytest.raises(KeyError):
        slots.put('e', 'e1')
    slots.close()
    assert slots.take(1, timeout=10) == []  # closed: returns at once
    stats = batching.BatchStats()
    for n in (1, 3, 2):
        stats.add(n)
    assert stats.snapshot() == {'batches': 3, 'batch_size_mean': 2.0, 'batch_size_max': 3}
