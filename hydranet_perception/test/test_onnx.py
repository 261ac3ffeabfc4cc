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
ONNX export of the raw forward: onnxruntime matches PyTorch.

Tolerance: 1e-4 absolute plus 1e-4 relative on every raw output (float32 kernels
differ in summation order; observed differences are around 1e-6). The tolerances of
decoded predictions follow from it through the decoding (see ``parity``), and
detections are matched by class and box IoU, never row by row.
"""

from hydranet_perception.data.synthetic import generate_scene
from hydranet_perception.engine.runtimes import SHIPPED_WEIGHTS
from hydranet_perception.inference import Predictor
from hydranet_perception.model import build_model, ModelConfig
from hydranet_perception.model.checkpoint import load_model
from hydranet_perception.model.export import export_onnx, read_metadata
from hydranet_perception.postprocess.letterbox import letterbox
import numpy as np
import parity
import pytest
import torch

ort = pytest.importorskip('onnxruntime')
torch.set_num_threads(1)
H, W = 64, 96
ATOL, RTOL = parity.ATOL, parity.RTOL
SCORE_THRESH = 0.25


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    m = build_model(ModelConfig(size='n', input_size=(H, W))).eval()
    # Non-trivial batch-norm statistics, so that folding them is exercised.
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.1, 0.1)
                mod.running_var.uniform_(0.5, 1.5)
    return m


def _session(path):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=['CPUExecutionProvider'])


@pytest.mark.parametrize('tasks', [None, ('semantic',), ('masks',)])
def test_raw_forward_matches(model, tmp_path, tasks):
    path = tmp_path / 'hydranet.onnx'
    names = export_onnx(model, path, tasks=tasks, height=H, width=W)
    x = torch.rand(2, 3, H, W)  # batch 2 through a graph traced with batch 1
    with torch.no_grad():
        ref = model(x, tasks=tasks)
    assert names == list(ref)
    sess = _session(path)
    assert [o.name for o in sess.get_outputs()] == names
    got = dict(zip(names, sess.run(names, {'images': x.numpy()})))
    for n in names:
        assert got[n].shape == tuple(ref[n].shape), n
        np.testing.assert_allclose(got[n], ref[n].numpy(), atol=ATOL, rtol=RTOL, err_msg=n)
    meta = read_metadata(path)
    assert meta['config']['input_size'] == [H, W] and meta['decoded'] is False
    assert meta['tasks'] == list(model.resolve_tasks(tasks))


def test_decoded_graph(model, tmp_path):
    path = tmp_path / 'decoded.onnx'
    names = export_onnx(model, path, tasks=('detect',), height=H, width=W, decode=True,
                        dynamic_batch=False)
    assert names == ['detect_scores', 'detect_boxes', 'detect_anchors']
    x = torch.rand(1, 3, H, W)
    scores, boxes, anchors = _session(path).run(names, {'images': x.numpy()})
    with torch.no_grad():
        ref = model(x, tasks=['detect'])
    np.testing.assert_allclose(scores, ref['detect_cls'].sigmoid().numpy(), atol=ATOL)
    assert (boxes[..., 2] >= boxes[..., 0]).all() and (boxes[..., 3] >= boxes[..., 1]).all()


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """
    Return the shipped weights and their ONNX export at the weights' input size.

    A random network's scores all sit near the prior (0.01) and tie to 1e-4, so which
    boxes survive NMS and ``max_det``, and in what order, is rounding noise. The trained
    weights on a generated scene find real objects whose scores differ by far more.
    """
    model, config, _ = load_model(str(SHIPPED_WEIGHTS))
    path = tmp_path_factory.mktemp('trained') / 'hydranet_n.onnx'
    export_onnx(model.eval(), path, height=config.input_size[0], width=config.input_size[1])
    return model, config, path


@pytest.mark.parametrize('seed', [0, 3])
def test_onnxruntime_predictor_matches_torch(trained, seed):
    model, config, path = trained
    rgb = generate_scene(seed, height=480, width=640).image
    kw = {'device': 'cpu', 'score_thresh': SCORE_THRESH}
    a = Predictor(model=model, config=config, **kw)(rgb)
    b = Predictor(checkpoint=str(path), **kw)(rgb)
    assert len(a) >= 1, 'the shipped weights find objects in this scene'
    x, info = letterbox(rgb, config.input_size)
    with torch.no_grad():
        raw = model(x[None])
    tol = parity.decoded_tolerances(raw, min(info.scale))
    parity.assert_same_predictions(a, b, tol, score_thresh=SCORE_THRESH)


@pytest.mark.parametrize('runtime', ['onnxruntime', 'openvino'])
def test_graph_backends_match_torch_raw(model, tmp_path, runtime):
    if runtime == 'openvino':
        pytest.importorskip('openvino')
    path = tmp_path / 'hydranet.onnx'
    export_onnx(model, path, height=H, width=W)
    pred = Predictor(checkpoint=str(path), backend=runtime, device='cpu')
    assert pred.backend_name == runtime and pred.tasks == model.tasks
    assert pred.input_size == (H, W)
    with pytest.raises(ValueError, match='exported for'):
        Predictor(checkpoint=str(path), backend=runtime, device='cpu', input_size=(64, 64))
    x = torch.rand(1, 3, H, W)
    got = pred.backend.run(x, pred.tasks)
    with torch.no_grad():
        ref = model(x)
    for n in ref:
        np.testing.assert_allclose(np.asarray(got[n]), ref[n].numpy(), atol=ATOL, rtol=RTOL,
                                   err_msg=n)
    with pytest.raises(ValueError, match='uint8'):
        pred(np.zeros((10, 10, 3), np.float32))
