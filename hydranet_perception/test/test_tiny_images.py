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
Images of any size >= 1x1 give a well-formed Prediction (1x1 used to fail in fusion).

OpenCV's Python binding reads a 1x1 array as a scalar in its arithmetic functions, so a
1x1 image failed in panoptic fusion (``compare``) and its semantic argmax came back as a
4x1 float64 array. The Predictor runs here with the shipped weights on tiny and thin
images, with PyTorch and with onnxruntime, and every output is checked for shape, type
and consistency (panoptic ids against segments, boxes inside the image).
"""

import pathlib

from hydranet_perception.inference import Predictor
from hydranet_perception.model.checkpoint import load_model
from hydranet_perception.overlay import draw_overlay
from hydranet_perception.postprocess.panoptic import panoptic_fusion
from hydranet_perception.postprocess.pipeline import argmax_planes
import numpy as np
import pytest

WEIGHTS = pathlib.Path(__file__).resolve().parents[1] / 'hydranet_perception' / 'weights' / \
    'hydranet_n.pt'
INPUT = (64, 96)  # a small network input keeps the forward passes cheap
SIZES = [(1, 1), (1, 2), (2, 1), (2, 2), (3, 1), (1, 3), (3, 3), (1, 7), (7, 1), (5, 2),
         (1, 640), (480, 1), (9, 31)]
# A low score threshold and no minimum stuff area, so that detections, masks,
# keypoints and stuff segments exist even on a one-pixel image.
OPTIONS = {'score_thresh': 0.01, 'min_stuff_area': 0}


def _check(pred, image, label_space):
    h, w = image.shape[:2]
    n = len(pred)
    assert pred.image_size == (h, w)
    assert pred.boxes.shape == (n, 4) and pred.boxes.dtype == np.float32
    assert np.isfinite(pred.boxes).all()
    assert (pred.boxes[:, [0, 2]] >= 0).all() and (pred.boxes[:, [0, 2]] <= w).all()
    assert (pred.boxes[:, [1, 3]] >= 0).all() and (pred.boxes[:, [1, 3]] <= h).all()
    assert pred.scores.shape == (n,) and pred.class_ids.shape == (n,)
    assert pred.masks.shape == (n, h, w) and pred.masks.dtype == bool
    assert pred.keypoints.shape[0] == n and np.isfinite(pred.keypoints).all()
    assert pred.semantic.shape == (h, w) and pred.semantic.dtype == np.uint8
    assert set(np.unique(pred.semantic)) <= set(range(label_space.num_classes)) | {255}
    assert pred.panoptic.shape == (h, w) and pred.panoptic.dtype == np.int32
    ids = {s.id for s in pred.segments}
    assert set(np.unique(pred.panoptic).tolist()) - {0} == ids
    for s in pred.segments:
        assert s.area == int((pred.panoptic == s.id).sum())
    assert pred.instance_ids.shape == (n,)
    overlay = draw_overlay(image, pred, label_space)
    assert overlay.shape == (h, w, 3) and overlay.dtype == np.uint8


@pytest.fixture(scope='module')
def torch_predictor():
    return Predictor(checkpoint=str(WEIGHTS), device='cpu', input_size=INPUT, **OPTIONS)


@pytest.mark.parametrize('size', SIZES, ids=lambda s: f'{s[0]}x{s[1]}')
def test_torch_predictor_on_tiny_images(torch_predictor, size):
    rng = np.random.default_rng(sum(size))
    for image in (rng.integers(0, 256, size + (3,), dtype=np.uint8),
                  np.full(size + (3,), 114, np.uint8)):  # the letterbox fill colour
        _check(torch_predictor(image), image, torch_predictor.label_space)


def test_onnxruntime_predictor_on_tiny_images(tmp_path):
    pytest.importorskip('onnxruntime')
    from hydranet_perception.model.export import export_onnx
    model, config, _ = load_model(str(WEIGHTS))
    path = tmp_path / 'tiny.onnx'
    export_onnx(model, path, height=INPUT[0], width=INPUT[1])
    predictor = Predictor(checkpoint=str(path), **OPTIONS)
    assert predictor.backend_name == 'onnxruntime'
    rng = np.random.default_rng(0)
    for size in ((1, 1), (1, 5), (4, 1), (2, 2)):
        image = rng.integers(0, 256, size + (3,), dtype=np.uint8)
        _check(predictor(image), image, predictor.label_space)


@pytest.mark.parametrize('size', [(1, 1), (1, 2), (2, 1), (1, 4), (4, 1), (3, 5), (9, 9)])
def test_argmax_planes_any_size(size):
    rng = np.random.default_rng(0)
    for c in (1, 2, 9, 40):
        planes = [rng.standard_normal(size).astype(np.float32) for _ in range(c)]
        out = argmax_planes(planes)
        assert out.dtype == np.uint8
        np.testing.assert_array_equal(out, np.argmax(np.stack(planes), 0))


@pytest.mark.parametrize('stuff_ids', [(1, 2), tuple(range(1, 20))])  # compare / histogram
def test_panoptic_fusion_one_pixel(stuff_ids):
    # stuff only
    pan, segs, ids = panoptic_fusion(np.array([[2]], np.uint8), np.zeros((0, 1, 1), bool),
                                     np.zeros(0), np.zeros(0), stuff_ids=stuff_ids,
                                     min_stuff_area=1)
    assert pan.tolist() == [[1]] and [(s.class_id, s.area) for s in segs] == [(2, 1)]
    # an instance over stuff takes the pixel
    pan, segs, ids = panoptic_fusion(np.array([[2]], np.uint8), np.ones((1, 1, 1), bool),
                                     np.array([0.9]), np.array([7]), stuff_ids=stuff_ids,
                                     min_stuff_area=1)
    assert pan.tolist() == [[1]] and ids.tolist() == [1]
    assert [(s.class_id, s.is_thing) for s in segs] == [(7, True)]
    # too small a stuff region stays void
    pan, segs, _ = panoptic_fusion(np.array([[2]], np.uint8), np.zeros((0, 1, 1), bool),
                                   np.zeros(0), np.zeros(0), stuff_ids=stuff_ids,
                                   min_stuff_area=2)
    assert pan.tolist() == [[0]] and segs == []
