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
Match the detections of two predictions of one image by class and box IoU.

Two runtimes (or two CPUs) give the same detections only up to rounding: where scores
tie, the order of the rows, and which of two near-equal candidates survives NMS or
``max_det``, is rounding noise. Comparing row ``i`` with row ``i`` then fails for no
reason; matching by class and IoU does not.
"""

from typing import Dict, Tuple

import numpy as np


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """
    Return the IoU of every box in ``a`` (float[N, 4]) with every box in ``b`` (float[M, 4]).

    Boxes are x1, y1, x2, y2; the result is float64[N, M], 0 where the union is empty.
    """
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    wh = (np.minimum(a[:, None, 2:], b[None, :, 2:]) -
          np.maximum(a[:, None, :2], b[None, :, :2])).clip(min=0)
    inter = wh[..., 0] * wh[..., 1]
    area_a = (a[:, 2] - a[:, 0]).clip(min=0) * (a[:, 3] - a[:, 1]).clip(min=0)
    area_b = (b[:, 2] - b[:, 0]).clip(min=0) * (b[:, 3] - b[:, 1]).clip(min=0)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def match_detections(boxes_a, scores_a, classes_a, boxes_b, scores_b, classes_b, *,
                     iou_thresh: float = 0.5) -> Tuple[np.ndarray, np.ndarray]:
    """
    Pair detections of A with detections of B of the same class, greedily by score.

    Detections of A are visited by decreasing score (ties by row); each takes the
    still unpaired detection of B of the same class with the highest IoU, if that IoU
    is at least ``iou_thresh`` (IoU ties go to the higher score in B, then the lower
    row). Row order matters only where two detections of A with one score compete for
    one detection of B.

    :param boxes_a: float[N, 4] x1, y1, x2, y2.
    :param scores_a: float[N].
    :param classes_a: int[N].
    :param boxes_b: float[M, 4].
    :param scores_b: float[M].
    :param classes_b: int[M].
    :param iou_thresh: the least IoU of a pair.
    :return: (pairs int64[P, 2] of (row in A, row in B), ious float64[P]), in the order
        the pairs were made (decreasing score in A).
    """
    scores_a = np.asarray(scores_a, np.float64).reshape(-1)
    scores_b = np.asarray(scores_b, np.float64).reshape(-1)
    classes_a = np.asarray(classes_a).reshape(-1)
    classes_b = np.asarray(classes_b).reshape(-1)
    iou = box_iou(boxes_a, boxes_b)
    if iou.shape != (scores_a.size, scores_b.size) or \
            classes_a.size != scores_a.size or classes_b.size != scores_b.size:
        raise ValueError('boxes, scores and classes of one side must have the same length')
    # Rank of B by (score descending, row ascending): lower rank wins an IoU tie.
    rank_b = np.empty(scores_b.size, np.int64)
    rank_b[np.lexsort((np.arange(scores_b.size), -scores_b))] = np.arange(scores_b.size)
    free = np.ones(scores_b.size, bool)
    pairs, ious = [], []
    for i in np.lexsort((np.arange(scores_a.size), -scores_a)):
        ok = np.nonzero(free & (classes_b == classes_a[i]) & (iou[i] >= iou_thresh))[0]
        if ok.size == 0:
            continue
        j = ok[np.lexsort((rank_b[ok], -iou[i, ok]))[0]]
        free[j] = False
        pairs.append((i, j))
        ious.append(iou[i, j])
    return (np.asarray(pairs, np.int64).reshape(-1, 2), np.asarray(ious, np.float64))


def compare_predictions(a, b, *, iou_thresh: float = 0.5) -> Dict:
    """
    Return how far two Predictions of one image differ, detections matched by class + IoU.

    Keys: ``count_a``, ``count_b``, ``matched``, ``unmatched_a``, ``unmatched_b``;
    ``unmatched_score_max`` (the highest score of an unmatched detection, 0 when none:
    near the score threshold or the ``max_det`` cut a detection may exist on one side
    only); and over the matched pairs, when there are any: ``box_iou_min``,
    ``box_max_abs_px``, ``score_max_abs``, ``mask_iou_min`` (when both have masks) and
    ``keypoint_max_abs_px`` (over keypoints both sides score above 0.5).
    """
    pairs, ious = match_detections(a.boxes, a.scores, a.class_ids, b.boxes, b.scores,
                                   b.class_ids, iou_thresh=iou_thresh)
    rep = {'count_a': len(a), 'count_b': len(b), 'matched': int(len(pairs)),
           'unmatched_a': len(a) - int(len(pairs)), 'unmatched_b': len(b) - int(len(pairs))}
    left = np.concatenate([np.delete(np.asarray(a.scores, np.float64), pairs[:, 0]),
                           np.delete(np.asarray(b.scores, np.float64), pairs[:, 1])])
    rep['unmatched_score_max'] = float(left.max()) if left.size else 0.0
    if not len(pairs):
        return rep
    ia, ib = pairs[:, 0], pairs[:, 1]
    rep['box_iou_min'] = float(ious.min())
    rep['box_max_abs_px'] = float(np.abs(a.boxes[ia] - b.boxes[ib]).max())
    rep['score_max_abs'] = float(np.abs(a.scores[ia] - b.scores[ib]).max())
    if a.masks is not None and b.masks is not None:
        ma, mb = a.masks[ia], b.masks[ib]
        inter = (ma & mb).sum((1, 2))
        union = (ma | mb).sum((1, 2))
        rep['mask_iou_min'] = float(np.where(union > 0, inter / np.maximum(union, 1), 1.0)
                                    .min())
    if a.keypoints is not None and b.keypoints is not None and a.keypoints.shape[1]:
        ka, kb = a.keypoints[ia], b.keypoints[ib]
        both = (ka[..., 2] > 0.5) & (kb[..., 2] > 0.5)
        d = np.abs(ka[..., :2] - kb[..., :2]).max(-1)
        rep['keypoint_max_abs_px'] = float(d[both].max()) if both.any() else 0.0
    return rep
