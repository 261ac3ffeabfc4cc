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


"""ONNX export of the raw forward: onnxruntime matches PyTorch.

Tolerance: 1e-4 absolute plus 1e-4 relative on every output (float32 kernels differ in
summation order; observed differences are around 1e-6).
"""

import numpy as np
import pytest
import torch

from hydranet_perception.inference import Predictor
from hydranet_perception.model import build_model, ModelConfig
from hydranet_perception.model.export import export_onnx, read_metadata

ort = pytest.importorskip('onnxruntime')
torch.set_num_threads(1)
H, W = 64, 96
ATOL = RTOL = 1e-4


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


def test_onnxruntime_predictor_matches_torch(model, tmp_path):
    path = tmp_path / 'hydranet.onnx'
    export_onnx(model, path, height=H, width=W)
    img = np.random.default_rng(0).integers(0, 256, (40, 90, 3), dtype=np.uint8)
    kw = dict(device='cpu', score_thresh=0.0, max_det=5)
    a = Predictor(model=model, **kw)(img)
    b = Predictor(checkpoint=str(path), **kw)(img)
    assert len(a) == len(b) == 5
    np.testing.assert_allclose(a.boxes, b.boxes, atol=1e-3)
    np.testing.assert_allclose(a.scores, b.scores, atol=1e-4)
    np.testing.assert_allclose(a.keypoints, b.keypoints, atol=1e-3)
    assert (a.semantic == b.semantic).mean() > 0.999


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
        np.testing.assert_allclose(got[n].numpy(), ref[n].numpy(), atol=ATOL, rtol=RTOL,
                                   err_msg=n)
    with pytest.raises(ValueError, match='uint8'):
        pred(np.zeros((10, 10, 3), np.float32))
