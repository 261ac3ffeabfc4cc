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


"""Semantic loss: per-pixel cross-entropy over all classes, void (255) ignored."""

from typing import Dict, List

from hydranet_perception.schema import VOID
import torch
import torch.nn.functional as F


def semantic_loss(logits: torch.Tensor, targets: List[dict], *,
                  ce_gain: float = 1.0) -> Dict[str, torch.Tensor]:
    """
    Cross-entropy of the semantic logits, upsampled to the label resolution.

    The logits are upsampled (bilinear) to the size of the label maps; the mean is
    over non-void pixels of the images that have a ``'semantic'`` map (0 when none).

    :param logits: Tensor[B, C, h, w] class logits (h = H / 4).
    :param targets: B dicts with 'semantic' Tensor[H, W] int64 global ids, 255 void.
    :param ce_gain: factor of the ``ce`` term.
    :return: {'ce': Tensor[]}.
    """
    have = [i for i, t in enumerate(targets) if 'semantic' in t]
    if not have:
        return {'ce': logits.sum() * 0.0}
    labels = torch.stack([targets[i]['semantic'].to(logits.device, torch.int64)
                          for i in have])
    x = logits[have].float()
    if x.shape[-2:] != labels.shape[-2:]:
        x = F.interpolate(x, size=labels.shape[-2:], mode='bilinear', align_corners=False)
    valid = labels != VOID
    if not valid.any():
        return {'ce': logits.sum() * 0.0}
    ce = F.cross_entropy(x, labels, ignore_index=VOID, reduction='sum') / valid.sum()
    return {'ce': ce * ce_gain}
