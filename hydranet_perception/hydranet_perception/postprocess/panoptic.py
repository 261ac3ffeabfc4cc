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


"""Panoptic fusion: things by score over stuff, as a pure function.

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

from typing import List, Sequence, Tuple, Union

import numpy as np
import torch

from hydranet_perception.prediction import Segment

Array = Union[np.ndarray, torch.Tensor]


def panoptic_fusion(semantic: Array, masks: Array, scores: Array, class_ids: Array, *,
                    stuff_ids: Sequence[int], min_visible_fraction: float = 0.5,
                    min_stuff_area: int = 64, score_thresh: float = 0.0
                    ) -> Tuple[np.ndarray, List[Segment], np.ndarray]:
    """Fuse instance masks and a semantic map into a panoptic map.

    Args:
        semantic: int[H, W] global class ids (255 void).
        masks: bool[N, H, W] instance masks.
        scores: float[N] instance scores.
        class_ids: int[N] global class ids of the instances.
        stuff_ids: the stuff class ids of the label space.
        min_visible_fraction: drop an instance whose unoccluded part is smaller.
        min_stuff_area: drop a stuff segment smaller than this (pixels).
        score_thresh: ignore instances scoring below this.

    Returns:
        (panoptic int32[H, W] segment ids with 0 = void, segments, instance_ids
        int64[N]: each instance's segment id, 0 when it was dropped).

    """
    sem = torch.as_tensor(np.asarray(semantic) if isinstance(semantic, np.ndarray)
                          else semantic).to(torch.int64)
    h, w = sem.shape
    m = torch.as_tensor(masks).to(sem.device).bool().reshape(-1, h, w)
    sc = torch.as_tensor(np.asarray(scores, np.float32) if not torch.is_tensor(scores)
                         else scores).float().reshape(-1)
    cl = torch.as_tensor(np.asarray(class_ids, np.int64) if not torch.is_tensor(class_ids)
                         else class_ids).reshape(-1)
    pan = torch.zeros((h, w), dtype=torch.int32, device=sem.device)
    taken = torch.zeros((h, w), dtype=torch.bool, device=sem.device)
    instance_ids = np.zeros((m.shape[0],), np.int64)
    segments: List[Segment] = []
    order = np.argsort(-sc.cpu().numpy(), kind='stable')
    for i in order.tolist():
        if float(sc[i]) < score_thresh:
            continue
        area = int(m[i].sum())
        if area == 0:
            continue
        visible = m[i] & ~taken
        vis_area = int(visible.sum())
        if vis_area == 0 or vis_area < min_visible_fraction * area:
            continue
        sid = len(segments) + 1
        pan[visible] = sid
        taken |= visible
        instance_ids[i] = sid
        segments.append(Segment(id=sid, class_id=int(cl[i]), is_thing=True, area=vis_area,
                                score=float(sc[i]), instance_index=int(i)))
    for c in sorted(int(c) for c in stuff_ids):
        region = (sem == c) & ~taken
        area = int(region.sum())
        if area == 0 or area < min_stuff_area:
            continue
        sid = len(segments) + 1
        pan[region] = sid
        taken |= region
        segments.append(Segment(id=sid, class_id=c, is_thing=False, area=area))
    return pan.cpu().numpy(), segments, instance_ids
