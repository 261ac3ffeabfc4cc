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


"""Candidate selection and class-aware non-maximum suppression, in numpy."""

from typing import Tuple

from hydranet_perception.coder.numpy_ops import sigmoid
import numpy as np

__all__ = ['box_iou_one', 'nms', 'select_candidates']


def select_candidates(cls_logits: np.ndarray, *, score_thresh: float,
                      pre_nms_topk: int = 1000) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """
    Pick the anchors worth suppressing: best class per anchor above the threshold.

    :param cls_logits: float[A, T] class logits of one image.
    :param score_thresh: minimum probability (strictly exceeded).
    :param pre_nms_topk: keep at most this many, the highest scoring.
    :return: (anchor_index int64[M], scores float32[M], channels int64[M]), sorted by
        decreasing score, ties by increasing anchor index. The channel is the first
        of the highest probabilities.
    """
    probs = sigmoid(cls_logits)
    channels = np.argmax(probs, -1)
    scores = np.take_along_axis(probs, channels[..., None], -1)[..., 0]
    idx = np.flatnonzero(scores > np.float64(score_thresh))
    order = np.argsort(-scores[idx], kind='stable')[:max(int(pre_nms_topk), 0)]
    idx = idx[order]
    return idx.astype(np.int64), scores[idx], channels[idx].astype(np.int64)


def box_iou_one(box: np.ndarray, boxes: np.ndarray, area: float,
                areas: np.ndarray) -> np.ndarray:
    """
    Return the IoU of one box with many, in float32 (torchvision's arithmetic).

    :param box: float32[4] x1, y1, x2, y2.
    :param boxes: float32[M, 4].
    :param area: the area of ``box``.
    :param areas: float32[M], the areas of ``boxes``.
    :return: float32[M]; NaN where both areas are 0.
    """
    w = np.maximum(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0)
    h = np.maximum(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0)
    inter = w * h
    with np.errstate(invalid='ignore', divide='ignore'):
        return inter / (area + areas - inter)


def nms(boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray, *,
        iou_thresh: float, max_det: int = 100, class_agnostic: bool = False) -> np.ndarray:
    """
    Class-aware greedy NMS (the semantics of ``torchvision.ops.batched_nms``).

    Boxes are visited by decreasing score (ties: lower index first); each one kept
    drops every later box of its class (any class when ``class_agnostic``) whose IoU
    with it exceeds ``iou_thresh``.

    :param boxes: float[M, 4] x1, y1, x2, y2.
    :param scores: float[M].
    :param classes: int[M].
    :param iou_thresh: a box is dropped when its IoU with a higher-scoring kept box of
        the same class exceeds this.
    :param max_det: keep at most this many.
    :param class_agnostic: suppress across classes too.
    :return: int64[N] indices of the kept boxes, by decreasing score.
    """
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    m = boxes.shape[0]
    if m == 0 or max_det <= 0:
        return np.zeros((0,), np.int64)
    order = np.argsort(-np.asarray(scores, np.float32), kind='stable')
    b = boxes[order]
    groups = (np.zeros(m, np.int64) if class_agnostic
              else np.asarray(classes, np.int64).reshape(-1)[order])
    areas = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    thresh = np.float64(iou_thresh)  # torchvision compares float IoU with a double
    alive = np.ones(m, bool)
    keep = []
    for i in range(m):
        if not alive[i]:
            continue
        keep.append(i)
        if len(keep) >= max_det:
            break
        iou = box_iou_one(b[i], b[i + 1:], areas[i], areas[i + 1:])
        alive[i + 1:] &= ~((iou > thresh) & (groups[i + 1:] == groups[i]))
    return order[np.asarray(keep, np.int64)].astype(np.int64)
