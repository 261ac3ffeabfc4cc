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


"""Mask loss: per-pixel BCE and dice inside the object's box, at prototype resolution."""

from typing import Dict, List

from hydranet_perception.losses.assign import Assignment
import torch
import torch.nn.functional as F


def box_crop(boxes: torch.Tensor, height: int, width: int, scale: float) -> torch.Tensor:
    """
    Return bool[N, height, width]: the cells of a grid that a box touches.

    :param boxes: Tensor[N, 4] x1, y1, x2, y2 in input pixels.
    :param height: grid rows.
    :param width: grid columns.
    :param scale: input pixels per grid cell (4 for prototypes).
    """
    b = boxes / scale
    ys = torch.arange(height, device=boxes.device, dtype=torch.float32)
    xs = torch.arange(width, device=boxes.device, dtype=torch.float32)
    rows = (ys[None] + 1 > b[:, 1:2]) & (ys[None] < b[:, 3:4])  # cell overlaps the box
    cols = (xs[None] + 1 > b[:, 0:1]) & (xs[None] < b[:, 2:3])
    return rows[:, :, None] & cols[:, None, :]


def mask_loss(coef: torch.Tensor, protos: torch.Tensor, targets: List[dict],
              assignment: Assignment, *, bce_gain: float = 1.0,
              dice_gain: float = 1.0) -> Dict[str, torch.Tensor]:
    """
    BCE and dice of each positive anchor's mask against its object's mask.

    The target mask (input resolution) is area-averaged down to the prototype grid
    (a soft target in [0, 1]); the predicted mask logits are ``coef @ protos``.  Both
    terms only look at the grid cells the object's box touches: ``bce`` is the mean
    over those cells, ``dice`` is ``1 - (2 sum(p t) + 1) / (sum(p) + sum(t) + 1)``
    there; each is averaged over all positives of the batch.  Images without
    ``'masks'`` are skipped.

    :param coef: Tensor[B, A, P] mask coefficients.
    :param protos: Tensor[B, P, h, w] prototypes, h = H / 4 and w = W / 4.
    :param targets: B dicts with 'boxes' Tensor[N, 4] and 'masks' Tensor[N, H, W].
    :param assignment: the label assignment of the batch.
    :param bce_gain: factor of the ``bce`` term.
    :param dice_gain: factor of the ``dice`` term.
    :return: {'bce': Tensor[], 'dice': Tensor[]}.
    """
    _, p, h, w = protos.shape
    bce_sum = dice_sum = (coef.sum() + protos.sum()) * 0.0
    count = 0
    for b, tgt in enumerate(targets):
        fg = assignment.fg[b]
        if 'masks' not in tgt or not fg.any():
            continue
        gi = assignment.gt_index[b][fg]
        gt = tgt['masks'].to(protos.device, torch.float32)
        scale = gt.shape[-1] / w
        gt = F.adaptive_avg_pool2d(gt[None], (h, w))[0]  # [N, h, w] soft
        gt = gt[gi]
        crop = box_crop(tgt['boxes'].to(protos.device, torch.float32)[gi], h, w, scale)
        crop = crop.float()
        logits = (coef[b][fg].float() @ protos[b].float().reshape(p, -1)).reshape(-1, h, w)
        area = crop.sum((1, 2)).clamp(min=1.0)
        bce = F.binary_cross_entropy_with_logits(logits, gt, reduction='none')
        bce_sum = bce_sum + ((bce * crop).sum((1, 2)) / area).sum()
        prob = logits.sigmoid() * crop
        gt = gt * crop
        inter = (prob * gt).sum((1, 2))
        dice = 1.0 - (2.0 * inter + 1.0) / (prob.sum((1, 2)) + gt.sum((1, 2)) + 1.0)
        dice_sum = dice_sum + dice.sum()
        count += int(gi.numel())
    n = max(count, 1)
    return {'bce': bce_sum / n * bce_gain, 'dice': dice_sum / n * dice_gain}
