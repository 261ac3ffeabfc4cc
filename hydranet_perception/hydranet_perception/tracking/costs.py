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
Pairwise association cues between tracks and detections, as pure functions.

Every function returns a float64[N, M] matrix (rows: the first argument, e.g. tracks;
columns: the second, e.g. detections). Similarities lie in [0, 1]; NaN means "this cue
says nothing about this pair" (no mask pixels, no keypoint visible in both, classes
without a keypoint schema), and ``fuse`` leaves such a cue out of that pair's average.

* boxes: float[N, 4] x1, y1, x2, y2 in pixels (pixel edges).
* masks: ``MaskCrop`` lists (a bool crop and its top-left corner); ``crop_masks`` makes
  them from full-size bool[N, H, W] masks, cropped to given boxes or to their pixels.
* keypoints: float[N, K, 3] x, y, score; per-class OKS sigmas (``keypoint_sigmas``).
* embeddings: float[N, D], any scale (cosine).
"""

from typing import Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple

from hydranet_perception.schema import LabelSpace
import numpy as np


class MaskCrop(NamedTuple):
    """
    A binary mask stored as its crop.

    ``mask`` bool[h, w] is the crop, whose pixel (0, 0) is image pixel (row ``y0``,
    column ``x0``); ``area`` is its number of set pixels.
    """

    mask: np.ndarray
    x0: int
    y0: int
    area: int

    def shifted(self, dx: float, dy: float) -> 'MaskCrop':
        """Return the same mask moved by (dx, dy) pixels, rounded to whole pixels."""
        return MaskCrop(self.mask, self.x0 + int(round(dx)), self.y0 + int(round(dy)),
                        self.area)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """
    Return the IoU of boxes float[N, 4] and float[M, 4] (x1, y1, x2, y2): float64[N, M].

    Boxes with no area have IoU 0 with everything.
    """
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    area_a = np.clip(a[:, 2] - a[:, 0], 0, None) * np.clip(a[:, 3] - a[:, 1], 0, None)
    area_b = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = np.clip(rb - lt, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    union = area_a[:, None] + area_b[None, :] - inter
    return inter / np.maximum(union, 1e-12)  # no union, no intersection: 0


def crop_masks(masks: np.ndarray, boxes: Optional[np.ndarray] = None) -> List[MaskCrop]:
    """
    Crop full-size masks bool[N, H, W] to ``boxes`` float[N, 4], or to their pixels.

    With boxes, each box is rounded outwards to whole pixels and clipped to the image,
    and pixels of the mask outside its box are dropped (the Predictor's masks lie
    inside their boxes). Without boxes each crop is the extent of the mask's pixels,
    which is exact and costs one pass over each mask.
    """
    masks = np.asarray(masks, bool)
    n, h, w = masks.shape
    if boxes is not None:
        b = np.asarray(boxes, np.float64).reshape(-1, 4)
        b = np.where(np.isfinite(b).all(1, keepdims=True), b, 0.0)
        lo = np.clip(np.floor(b[:, :2]), 0, [w, h]).astype(np.int64)
        hi = np.clip(np.ceil(b[:, 2:]), lo, [w, h]).astype(np.int64)
        bounds = np.concatenate([lo, hi], 1).tolist()  # c0, r0, c1, r1
    out = []
    for i in range(n):
        if boxes is not None:
            c0, r0, c1, r1 = bounds[i]
        else:
            rows, cols = np.flatnonzero(masks[i].any(1)), np.flatnonzero(masks[i].any(0))
            if len(rows) == 0:
                r0 = r1 = c0 = c1 = 0
            else:
                r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
        crop = masks[i, r0:r1, c0:c1]
        out.append(MaskCrop(crop, int(c0), int(r0), int(np.count_nonzero(crop))))
    return out


def _overlap(a: MaskCrop, b: MaskCrop) -> int:
    """Count the pixels set in both crops (compared only where their rectangles meet)."""
    x0, y0 = max(a.x0, b.x0), max(a.y0, b.y0)
    x1 = min(a.x0 + a.mask.shape[1], b.x0 + b.mask.shape[1])
    y1 = min(a.y0 + a.mask.shape[0], b.y0 + b.mask.shape[0])
    if x1 <= x0 or y1 <= y0:
        return 0
    pa = a.mask[y0 - a.y0:y1 - a.y0, x0 - a.x0:x1 - a.x0]
    pb = b.mask[y0 - b.y0:y1 - b.y0, x0 - b.x0:x1 - b.x0]
    return int(np.count_nonzero(pa & pb))


def mask_iou(a: Sequence[Optional[MaskCrop]], b: Sequence[Optional[MaskCrop]],
             candidates: Optional[np.ndarray] = None) -> np.ndarray:
    """
    Return the IoU of two lists of masks: float64[N, M].

    Only the pixels where a pair's crops overlap are compared (the union of two masks
    lies inside the union of their crops, and their intersection inside the overlap),
    so the cost follows the objects' size, not the image's. ``candidates`` bool[N, M]
    limits the work to those pairs; the others get 0. A pair is NaN when either mask is
    None or both are empty (nothing to compare).
    """
    n, m = len(a), len(b)
    out = np.zeros((n, m))
    if candidates is None:
        rows, cols = np.nonzero(np.ones((n, m), bool))
    else:
        rows, cols = np.nonzero(np.asarray(candidates, bool).reshape(n, m))
    for i, j in zip(rows.tolist(), cols.tolist()):
        ma, mb = a[i], b[j]
        if ma is None or mb is None or ma.area + mb.area == 0:
            out[i, j] = np.nan
            continue
        inter = _overlap(ma, mb)
        out[i, j] = inter / (ma.area + mb.area - inter)
    if candidates is not None:  # a missing mask says nothing, candidate or not
        none_a = np.array([x is None for x in a], bool)
        none_b = np.array([x is None for x in b], bool)
        out[none_a[:, None] | none_b[None, :]] = np.nan
    return out


def keypoint_sigmas(label_space: LabelSpace) -> Dict[int, Tuple[float, ...]]:
    """Return the OKS sigmas of each class that has a keypoint schema, by class id."""
    return {c.id: c.keypoint_schema.oks_sigmas() for c in label_space.classes
            if c.keypoint_schema is not None}


def _sigma_table(class_ids: np.ndarray, sigmas: Mapping[int, Sequence[float]],
                 k: int) -> np.ndarray:
    """Return float64[N, K]: each row's class sigmas, 0 for slots beyond its schema."""
    table = np.zeros((len(class_ids), k))
    for cid in np.unique(class_ids).tolist():
        s = np.asarray(sigmas.get(int(cid), ()), np.float64)[:k]
        table[class_ids == cid, :len(s)] = s
    return table


def oks(kpts_a: np.ndarray, kpts_b: np.ndarray, classes_a: np.ndarray, classes_b: np.ndarray,
        sigmas: Mapping[int, Sequence[float]], *, areas_a: np.ndarray, areas_b: np.ndarray,
        min_score: float = 0.5, candidates: Optional[np.ndarray] = None) -> np.ndarray:
    """
    Object keypoint similarity of keypoints float[N, K, 3] and float[M, K, 3].

    As COCO: the mean over keypoints visible in both (score >= ``min_score``) of
    ``exp(-d^2 / (2 s^2 (2 sigma)^2))``, with ``s^2`` the mean of the two objects' areas
    (``areas_a`` float[N], ``areas_b`` float[M], pixels) and ``sigma`` the class's
    per-keypoint sigma. Only pairs of the same class with a schema in ``sigmas`` get a
    value (and, when given, only the ``candidates`` bool[N, M]); the rest, and pairs
    with no keypoint visible in both, are NaN.
    """
    kpts_a = np.asarray(kpts_a, np.float64)
    kpts_b = np.asarray(kpts_b, np.float64)
    classes_a = np.asarray(classes_a).reshape(-1)
    classes_b = np.asarray(classes_b).reshape(-1)
    n, m = len(classes_a), len(classes_b)
    out = np.full((n, m), np.nan)
    if n == 0 or m == 0 or kpts_a.ndim != 3 or kpts_b.ndim != 3:
        return out
    k = min(kpts_a.shape[1], kpts_b.shape[1])
    if k == 0:
        return out
    sig_a = _sigma_table(classes_a, sigmas, k)
    pairs = (classes_a[:, None] == classes_b[None, :]) & (sig_a.max(1) > 0)[:, None]
    if candidates is not None:
        pairs &= np.asarray(candidates, bool).reshape(n, m)
    rows, cols = np.nonzero(pairs)
    if len(rows) == 0:
        return out
    a, b, sig = kpts_a[rows, :k], kpts_b[cols, :k], sig_a[rows]  # [P, K, 3], [P, K]
    both = (a[..., 2] >= min_score) & (b[..., 2] >= min_score) & (sig > 0)
    d2 = ((a[..., :2] - b[..., :2]) ** 2).sum(-1)
    s2 = (np.asarray(areas_a, np.float64)[rows] + np.asarray(areas_b, np.float64)[cols]) / 2
    var = 2 * (2 * sig) ** 2 * np.maximum(s2, 1.0)[:, None]
    e = np.exp(-d2 / np.where(both, var, 1.0))
    count = both.sum(-1)
    known = count > 0
    out[rows[known], cols[known]] = (e * both).sum(-1)[known] / count[known]
    return out


def cosine_distance(emb_a: Optional[np.ndarray],
                    emb_b: Optional[np.ndarray]) -> Optional[np.ndarray]:
    """
    Cosine distance 1 - cos(a, b) in [0, 2] of embeddings float[N, D], float[M, D].

    None when either side has no embeddings (the cue is then not used). A zero vector
    has distance NaN to everything.
    """
    if emb_a is None or emb_b is None:
        return None
    a = np.asarray(emb_a, np.float64)
    b = np.asarray(emb_b, np.float64)
    na = np.linalg.norm(a, axis=1, keepdims=True)
    nb = np.linalg.norm(b, axis=1, keepdims=True)
    with np.errstate(invalid='ignore', divide='ignore'):
        cos = (a / na) @ (b / nb).T
    return 1.0 - np.clip(cos, -1.0, 1.0)


def fuse(cues: Sequence[Tuple[float, Optional[np.ndarray]]], shape: Tuple[int, int]
         ) -> np.ndarray:
    """
    Weighted mean of similarity matrices float[N, M], each pair over its known cues.

    ``cues`` holds (weight, similarity or None); a None matrix, a zero weight and NaN
    entries are left out of the pair's mean. A pair with no known cue gets NaN.
    """
    total = np.zeros(shape)
    weight = np.zeros(shape)
    for w, sim in cues:
        if sim is None or w <= 0:
            continue
        known = np.isfinite(sim)
        total += np.where(known, sim, 0.0) * w
        weight += known * w
    return np.where(weight > 0, total / np.maximum(weight, 1e-12), np.nan)


__all__ = ['box_iou', 'cosine_distance', 'crop_masks', 'fuse', 'keypoint_sigmas',
           'mask_iou', 'MaskCrop', 'oks']
