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

"""Detections of two predictions matched by class and IoU, on hand-made boxes with ties."""

from hydranet_perception.postprocess.match import box_iou, compare_predictions, \
    match_detections
from hydranet_perception.prediction import Prediction
import numpy as np
import pytest

BOXES = np.array([[0, 0, 10, 10], [20, 0, 30, 10], [0, 20, 10, 30], [40, 40, 60, 60]],
                 np.float32)


def _pred(boxes, scores, classes, masks=None, keypoints=None):
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    return Prediction(image_size=(64, 64), boxes=boxes,
                      scores=np.asarray(scores, np.float32),
                      class_ids=np.asarray(classes, np.int64), masks=masks,
                      keypoints=keypoints)


def _box_masks(boxes):
    m = np.zeros((len(boxes), 64, 64), bool)
    for i, (x1, y1, x2, y2) in enumerate(np.asarray(boxes, int)):
        m[i, y1:y2, x1:x2] = True
    return m


def test_box_iou_known_values():
    a = np.array([[0, 0, 10, 10], [0, 0, 0, 0]], np.float32)
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [10, 10, 20, 20], [0, 0, 0, 0]])
    np.testing.assert_allclose(box_iou(a, b), [[1, 50 / 150, 0, 0], [0, 0, 0, 0]])
    assert box_iou(np.zeros((0, 4)), b).shape == (0, 4)
    assert box_iou(a, np.zeros((0, 4))).shape == (2, 0)


def test_tied_scores_in_another_row_order_all_match():
    # Four detections with one score, the second prediction's rows reversed and moved
    # by a rounding-sized amount: row-by-row comparison would see four wrong boxes.
    scores = [0.0101] * 4
    classes = [1, 1, 2, 1]
    a = _pred(BOXES, scores, classes)
    b = _pred(BOXES[::-1] + 1e-3, scores[::-1], classes[::-1])
    pairs, ious = match_detections(a.boxes, a.scores, a.class_ids,
                                   b.boxes, b.scores, b.class_ids)
    assert sorted(map(tuple, pairs.tolist())) == [(0, 3), (1, 2), (2, 1), (3, 0)]
    assert (ious > 0.99).all()
    rep = compare_predictions(a, b)
    assert (rep['matched'], rep['unmatched_a'], rep['unmatched_b']) == (4, 0, 0)
    assert rep['box_max_abs_px'] == pytest.approx(1e-3, abs=1e-6)
    assert rep['score_max_abs'] == 0.0 and rep['box_iou_min'] > 0.99


def test_class_must_agree():
    a = _pred(BOXES[:1], [0.9], [1])
    b = _pred(BOXES[:1], [0.9], [2])
    rep = compare_predictions(a, b)
    assert (rep['matched'], rep['unmatched_a'], rep['unmatched_b']) == (0, 1, 1)
    assert rep['unmatched_score_max'] == pytest.approx(0.9)
    assert 'box_max_abs_px' not in rep


def test_iou_threshold():
    a = _pred([[0, 0, 10, 10]], [0.9], [1])
    b = _pred([[5, 0, 15, 10]], [0.9], [1])  # IoU 1/3
    assert compare_predictions(a, b)['matched'] == 0
    assert compare_predictions(a, b, iou_thresh=0.3)['matched'] == 1


def test_greedy_by_score_and_each_detection_used_once():
    # Two detections of A overlap the one B box; the higher-scoring one takes it even
    # though it comes second in A, and the other is left unmatched.
    a = _pred([[0, 0, 10, 10], [0, 0, 10, 11]], [0.3, 0.8], [1, 1])
    b = _pred([[0, 0, 10, 10]], [0.5], [1])
    pairs, _ = match_detections(a.boxes, a.scores, a.class_ids,
                                b.boxes, b.scores, b.class_ids)
    assert pairs.tolist() == [[1, 0]]
    rep = compare_predictions(a, b)
    assert (rep['matched'], rep['unmatched_a'], rep['unmatched_b']) == (1, 1, 0)
    assert rep['unmatched_score_max'] == pytest.approx(0.3)
    assert rep['box_max_abs_px'] == pytest.approx(1.0)


def test_iou_tie_goes_to_the_higher_score_then_the_lower_row():
    # B has the same box twice: the higher score wins; with equal scores, the first row.
    a = _pred(BOXES[:1], [0.5], [1])
    b = _pred([BOXES[0], BOXES[0]], [0.2, 0.7], [1, 1])
    pairs, _ = match_detections(a.boxes, a.scores, a.class_ids,
                                b.boxes, b.scores, b.class_ids)
    assert pairs.tolist() == [[0, 1]]
    b = _pred([BOXES[0], BOXES[0]], [0.7, 0.7], [1, 1])
    pairs, _ = match_detections(a.boxes, a.scores, a.class_ids,
                                b.boxes, b.scores, b.class_ids)
    assert pairs.tolist() == [[0, 0]]


def test_pairs_do_not_depend_on_row_order():
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 50, (12, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(5, 15, (12, 2))], 1)
    scores = rng.choice([0.2, 0.5, 0.9], 12)  # many ties
    classes = rng.integers(0, 3, 12)
    perm = rng.permutation(12)
    pairs, _ = match_detections(boxes, scores, classes, boxes[perm], scores[perm],
                                classes[perm])
    assert len(pairs) == 12
    np.testing.assert_array_equal(perm[pairs[:, 1]], pairs[:, 0])


def test_masks_and_keypoints_compared_over_matches():
    boxes = BOXES[:2]
    kp = np.zeros((2, 3, 3), np.float32)
    kp[:, :, :2] = 5.0
    kp[:, :2, 2] = 0.9  # slot 2 unused (score 0)
    kb = kp[::-1].copy()
    kb[1, 0, :2] += 0.25  # row 1 of B is row 0 of A
    kb[1, 2, :2] += 100.0  # an unused slot: ignored
    masks = _box_masks(boxes)
    mb = masks[::-1].copy()
    mb[1, 0, :] = True  # 54 more pixels on A's first detection
    a = _pred(boxes, [0.6, 0.6], [1, 1], masks=masks, keypoints=kp)
    b = _pred(boxes[::-1], [0.6, 0.6], [1, 1], masks=mb, keypoints=kb)
    rep = compare_predictions(a, b)
    assert rep['matched'] == 2 and rep['box_max_abs_px'] == 0.0
    assert rep['mask_iou_min'] == pytest.approx(100 / 154)
    assert rep['keypoint_max_abs_px'] == pytest.approx(0.25)


def test_empty_predictions():
    e = Prediction.empty(64, 64, 3)
    rep = compare_predictions(e, e)
    assert rep == {'count_a': 0, 'count_b': 0, 'matched': 0, 'unmatched_a': 0,
                   'unmatched_b': 0, 'unmatched_score_max': 0.0}
    rep = compare_predictions(_pred(BOXES, [0.5] * 4, [1] * 4), e)
    assert (rep['matched'], rep['unmatched_a'], rep['unmatched_b']) == (0, 4, 0)


def test_lengths_must_agree():
    with pytest.raises(ValueError, match='same length'):
        match_detections(BOXES, [0.5] * 3, [1] * 4, BOXES, [0.5] * 4, [1] * 4)
