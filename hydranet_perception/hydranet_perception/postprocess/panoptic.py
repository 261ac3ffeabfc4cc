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
Panoptic fusion: things by score over stuff, as a pure function.

The rule (detectron2's ``combine_semantic_and_instance_outputs``, restated):

1. instances with score >= ``score_thresh`` are painted in decreasing score order (ties
   keep input order); each keeps only the pixels no earlier instance took, and is
   dropped when that visible part is less than ``min_visible_fraction`` of its mask
   (or empty);
2. each stuff class of the semantic map, in increasing id order, takes its pixels that
   no instance took, and becomes a segment if at least ``min_stuff_area`` of them;
3. everything else (thing-class pixels no instance covers, small stuff regions, void)
   stays 0.

Segment ids are 1, 2, ... in that order, so every pixel is exactly one segment or void.
"""

from typing import List, Optional, Sequence, Tuple

import cv2
from hydranet_perception.postprocess.letterbox import Array, as_numpy
from hydranet_perception.postprocess.masks import pixels_in_box
from hydranet_perception.prediction import Segment
from hydranet_perception.schema import VOID
import numpy as np

# Maps with fewer pixels take numpy instead of OpenCV's arithmetic: its Python binding
# reads a 1x1 array as a scalar (compare(array, c) then fails, bitwise_and(array, c)
# returns the wrong shape), and at that size numpy costs nothing.
TINY_MAP = 64


def box_windows(boxes: Optional[Array], masks: np.ndarray) -> np.ndarray:
    """
    Return int64[N, 4] (y0, y1, x0, x1) windows outside which each mask is False.

    From the boxes (x1, y1, x2, y2, pixel edges) when given: the pixels whose centres
    lie in the box (``pixels_in_box``, outside which the masks of ``assemble_masks`` are
    False). Otherwise the tight window of each mask (one pass over it).
    """
    n, h, w = masks.shape
    out = np.zeros((n, 4), np.int64)
    for i in range(n):
        if boxes is not None:
            out[i] = pixels_in_box(boxes[i], (h, w))
            continue
        rows, cols = np.flatnonzero(masks[i].any(1)), np.flatnonzero(masks[i].any(0))
        if rows.size:
            out[i] = (rows[0], rows[-1] + 1, cols[0], cols[-1] + 1)
    return out


def panoptic_fusion(semantic: Array, masks: Array, scores: Array, class_ids: Array, *,
                    stuff_ids: Sequence[int], min_visible_fraction: float = 0.5,
                    min_stuff_area: int = 64, score_thresh: float = 0.0,
                    boxes: Optional[Array] = None
                    ) -> Tuple[np.ndarray, List[Segment], np.ndarray]:
    """
    Fuse instance masks and a semantic map into a panoptic map.

    Instances are handled inside their windows (see ``box_windows``) and stuff in one
    vectorised pass, so the cost grows with the instances' area, not their number
    times the image's (~0.6 ms at 640x480 on one core with four instances).

    :param semantic: int[H, W] global class ids (255 void).
    :param masks: bool[N, H, W] instance masks.
    :param scores: float[N] instance scores.
    :param class_ids: int[N] global class ids of the instances.
    :param stuff_ids: the stuff class ids of the label space.
    :param min_visible_fraction: drop an instance whose unoccluded part is smaller.
    :param min_stuff_area: drop a stuff segment smaller than this (pixels).
    :param score_thresh: ignore instances scoring below this.
    :param boxes: float[N, 4] x1, y1, x2, y2 with each mask False outside its box, or
        None (the windows are then found from the masks).
    :return: (panoptic int32[H, W] segment ids with 0 = void, segments, instance_ids
        int64[N]: each instance's segment id, 0 when it was dropped).
    """
    sem = as_numpy(semantic)
    if sem.dtype != np.uint8:
        if sem.size and (sem.min() < 0 or sem.max() > VOID):
            raise ValueError(f'semantic labels must be 0..{VOID}, got {sem.min()}..{sem.max()}')
        sem = sem.astype(np.uint8)
    h, w = sem.shape
    m = as_numpy(masks).astype(bool, copy=False).reshape(-1, h, w)
    sc = as_numpy(scores).astype(np.float32).reshape(-1)
    cl = as_numpy(class_ids).astype(np.int64).reshape(-1)
    windows = box_windows(None if boxes is None else as_numpy(boxes), m)
    pan = np.zeros((h, w), np.int32)
    taken = np.zeros((h, w), np.uint8)  # 255 where an instance took the pixel
    instance_ids = np.zeros((m.shape[0],), np.int64)
    segments: List[Segment] = []
    for i in np.argsort(-sc, kind='stable').tolist():
        if float(sc[i]) < score_thresh:
            continue
        y0, y1, x0, x1 = windows[i].tolist()
        mi = m[i, y0:y1, x0:x1]
        area = int(np.count_nonzero(mi))
        if area == 0:
            continue
        visible = mi & (taken[y0:y1, x0:x1] == 0)
        vis_area = int(np.count_nonzero(visible))
        if vis_area == 0 or vis_area < min_visible_fraction * area:
            continue
        sid = len(segments) + 1
        pan[y0:y1, x0:x1][visible] = sid
        taken[y0:y1, x0:x1][visible] = 255
        instance_ids[i] = sid
        segments.append(Segment(id=sid, class_id=int(cl[i]), is_thing=True, area=vis_area,
                                score=float(sc[i]), instance_index=int(i)))
    # Stuff: the labels of the free pixels (taken ones read as VOID = 255) counted per
    # class (a histogram for many classes); each stuff class with enough of them becomes
    # the next segment id, painted through a lookup table (a few OpenCV passes).
    free = cv2.bitwise_or(sem, taken)
    stuff = sorted(int(c) for c in stuff_ids if 0 <= int(c) < VOID)
    tiny = free.size < TINY_MAP
    if tiny:
        counts = np.bincount(free.ravel(), minlength=VOID + 1)
    elif len(stuff) <= 8:  # a vectorised compare per class beats a 256-bin histogram
        counts = {c: cv2.countNonZero(cv2.compare(free, c, cv2.CMP_EQ)) for c in stuff}
    elif free.size < 1 << 24:  # float32 histogram counts are exact below 2^24
        counts = cv2.calcHist([free], [0], None, [VOID + 1], [0, VOID + 1]).ravel()
    else:
        counts = np.bincount(free.ravel(), minlength=VOID + 1)
    lut = np.zeros(VOID + 1, np.int32)
    for c in stuff:
        area = int(counts[c])
        if area == 0 or area < min_stuff_area:
            continue
        sid = len(segments) + 1
        lut[c] = sid
        segments.append(Segment(id=sid, class_id=c, is_thing=False, area=area))
    if tiny or lut.max() > 255:
        pan += np.take(lut, free)
    elif lut.any():
        pan = cv2.add(pan, cv2.LUT(free, lut.astype(np.uint8)), dtype=cv2.CV_32S)
    return pan, segments, instance_ids
