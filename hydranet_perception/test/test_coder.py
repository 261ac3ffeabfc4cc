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


"""The coder: numpy and torch anchors and decoding agree; the model and losses use it."""

from hydranet_perception.coder import numpy_ops, torch_ops
from hydranet_perception.model import head_detect
from hydranet_perception.schema import default_label_space
import numpy as np
import pytest
import torch

torch.set_num_threads(1)
EPS = float(np.finfo(np.float32).eps)


def test_anchors_are_equal():
    for h, w in [(64, 64), (256, 320), (96, 160), (40, 72)]:
        a = numpy_ops.anchors_for(h, w)
        t = torch_ops.anchors_for(h, w)
        assert a.dtype == np.float32 and a.shape == tuple(t.shape)
        np.testing.assert_array_equal(a, t.numpy())  # small integers and halves: exact
    assert head_detect.make_anchors is torch_ops.make_anchors
    assert numpy_ops.anchors_for(64, 64)[:2].tolist() == [[4, 4, 8], [12, 4, 8]]


@pytest.mark.parametrize('seed', range(3))
def test_decode_equal_on_random_inputs(seed):
    rng = np.random.default_rng(seed)
    anchors = numpy_ops.anchors_for(96, 128)
    a = anchors.shape[0]
    box = rng.normal(0, 4, (2, a, 4)).astype(np.float32)
    box[0, :8] = [[-90, 30, 0, 25]] * 8  # both softplus branches, and exp's underflow
    kpt = rng.normal(0, 3, (2, a, 5, 3)).astype(np.float32)
    kpt[0, :4, 0, 2] = [-100, 100, 0, -17]
    got = numpy_ops.decode_boxes(box, anchors)
    want = torch_ops.decode_boxes(torch.from_numpy(box), torch.from_numpy(anchors)).numpy()
    # centre +- softplus(raw) * stride: softplus is a few float32 ulps off between
    # libraries (exp and log1p each within an ulp or two), the stride is a power of two,
    # and the sum adds half an ulp of the result.
    mag = np.abs(anchors[:, None, :2]).max() + np.abs(want).max()
    np.testing.assert_allclose(got, want, rtol=0, atol=8 * EPS * mag)
    xy, vis = numpy_ops.decode_keypoints(kpt, anchors)
    txy, tvis = torch_ops.decode_keypoints(torch.from_numpy(kpt), torch.from_numpy(anchors))
    np.testing.assert_allclose(xy, txy.numpy(), rtol=0,
                               atol=4 * EPS * float(np.abs(txy.numpy()).max()))
    np.testing.assert_allclose(vis, tvis.numpy(), rtol=4 * EPS, atol=4 * EPS)
    assert vis.dtype == np.float32 and xy.dtype == np.float32
    assert 0.0 <= vis[0, 0, 0] < 1e-40 and vis[0, 1, 0] == 1.0


def test_keypoint_tables_equal():
    ls = default_label_space()
    sig, used = numpy_ops.keypoint_tables(ls)
    tsig, tused = torch_ops.keypoint_tables(ls)
    np.testing.assert_array_equal(sig, tsig.numpy())
    np.testing.assert_array_equal(used, tused.numpy())
    assert used.shape == (ls.num_things, ls.max_keypoints) and used.dtype == bool


def test_sigmoid_and_softplus_without_overflow():
    x = np.array([-1e4, -100, -20, 0, 20, 100, 1e4], np.float32)
    with np.errstate(over='raise', invalid='raise', divide='raise'):
        s = numpy_ops.sigmoid(x)
        p = numpy_ops.softplus(x)
    # atol: PyTorch may flush subnormal results (sigmoid(-100) ~ 4e-44) to zero.
    tiny = float(np.finfo(np.float32).tiny)
    np.testing.assert_allclose(s, torch.sigmoid(torch.from_numpy(x)).numpy(), rtol=4 * EPS,
                               atol=tiny)
    np.testing.assert_allclose(p, torch.nn.functional.softplus(torch.from_numpy(x)).numpy(),
                               rtol=4 * EPS, atol=0)
