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


"""Detection loss: IoU-aware classification BCE plus GIoU box regression."""

from typing import Dict

from hydranet_perception.losses.assign import Assignment
import torch
import torch.nn.functional as F
from torchvision.ops import generalized_box_iou_loss


def detection_loss(cls_logits: torch.Tensor, pred_boxes: torch.Tensor,
                   assignment: Assignment, *, cls_gain: float = 1.0,
                   box_gain: float = 1.0) -> Dict[str, torch.Tensor]:
    """
    Classification and box terms of the detection head.

    ``cls``: binary cross-entropy of every anchor and class against the assigner's soft
    targets (the IoU-aware labels of ``assign.py``; 0 for negatives), summed and divided
    by the sum of the targets (at least 1).  ``box``: ``1 - GIoU`` of each positive's
    predicted box with its object's box, weighted by the positive's target score and
    divided by the same sum.

    :param cls_logits: Tensor[B, A, T] class logits.
    :param pred_boxes: Tensor[B, A, 4] decoded boxes x1, y1, x2, y2 in pixels.
    :param assignment: the label assignment of the batch.
    :param cls_gain: factor of the ``cls`` term.
    :param box_gain: factor of the ``box`` term.
    :return: {'cls': Tensor[], 'box': Tensor[]}.
    """
    ts = assignment.target_scores
    norm = ts.sum().clamp(min=1.0)
    cls = F.binary_cross_entropy_with_logits(cls_logits.float(), ts, reduction='sum') / norm
    fg = assignment.fg
    if fg.any():
        giou = generalized_box_iou_loss(pred_boxes[fg], assignment.target_boxes[fg],
                                        reduction='none')
        box = (giou * ts.sum(-1)[fg]).sum() / norm
    else:
        box = pred_boxes.sum() * 0.0
    return {'cls': cls * cls_gain, 'box': box * box_gain}
