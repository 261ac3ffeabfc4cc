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


"""Candidate selection and class-aware non-maximum suppression."""

from typing import Tuple

import torch
from torchvision.ops import batched_nms


def select_candidates(cls_logits: torch.Tensor, *, score_thresh: float,
                      pre_nms_topk: int = 1000) -> Tuple[torch.Tensor, torch.Tensor,
                                                         torch.Tensor]:
    """
    Pick the anchors worth suppressing: best class per anchor above the threshold.

    :param cls_logits: Tensor[A, T] class logits of one image.
    :param score_thresh: minimum probability.
    :param pre_nms_topk: keep at most this many, the highest scoring.
    :return: (anchor_index Tensor[M] int64, scores Tensor[M], channels Tensor[M] int64),
        sorted by decreasing score.
    """
    scores, channels = cls_logits.float().sigmoid().max(-1)
    idx = torch.nonzero(scores > score_thresh).reshape(-1)
    s = scores[idx]
    order = s.argsort(descending=True, stable=True)[:pre_nms_topk]
    idx = idx[order]
    return idx, scores[idx], channels[idx]


def nms(boxes: torch.Tensor, scores: torch.Tensor, classes: torch.Tensor, *,
        iou_thresh: float, max_det: int = 100, class_agnostic: bool = False) -> torch.Tensor:
    """
    Class-aware NMS (``torchvision.ops.batched_nms``).

    Boxes of different classes never suppress each other unless ``class_agnostic``.

    :param boxes: Tensor[M, 4] x1, y1, x2, y2.
    :param scores: Tensor[M].
    :param classes: Tensor[M] int64.
    :param iou_thresh: a box is dropped when its IoU with a higher-scoring kept box of
        the same class exceeds this.
    :param max_det: keep at most this many.
    :param class_agnostic: suppress across classes too.
    :return: Tensor[N] int64 indices of the kept boxes, by decreasing score.
    """
    if boxes.numel() == 0:
        return torch.zeros((0,), dtype=torch.int64, device=boxes.device)
    groups = torch.zeros_like(classes) if class_agnostic else classes
    keep = batched_nms(boxes.float(), scores.float(), groups, iou_thresh)
    return keep[:max_det]
