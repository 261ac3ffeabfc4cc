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


"""Keypoint loss: OKS-style position term, a distance term and visibility BCE, per schema."""

from typing import Dict, List

from hydranet_perception.coder.torch_ops import decode_keypoints, keypoint_tables
from hydranet_perception.losses.assign import Assignment
import torch
import torch.nn.functional as F

__all__ = ['keypoint_loss', 'keypoint_tables']


def keypoint_loss(kpt_raw: torch.Tensor, anchors: torch.Tensor, targets: List[dict],
                  assignment: Assignment, gt_channels: List[torch.Tensor], *,
                  sigmas: torch.Tensor, used: torch.Tensor, oks_gain: float = 1.0,
                  dist_gain: float = 1.0, vis_gain: float = 1.0) -> Dict[str, torch.Tensor]:
    """
    OKS-style and visibility terms of each positive anchor against its object.

    Only the slots of the object's class schema count (``used``); classes without a
    schema add nothing.  With ``d`` the distance of a predicted keypoint from a
    labelled one (v > 0), ``A`` the object's box area and ``sigma`` the schema's OKS
    sigma, ``e = d**2 / (2 A (2 sigma)**2)`` as in COCO's OKS, and ``oks`` is the mean
    of ``1 - exp(-e)`` over the labelled slots of an object, averaged over the positives
    that have any.  That term saturates: a keypoint predicted far away (many sigmas)
    gets almost no gradient, so ``dist``, the mean of ``d / sqrt(A)`` over the same
    slots (a scale-free L1 distance), keeps pulling such keypoints in; near the target
    the OKS term dominates.  ``vis`` is the BCE of the visibility logit against ``v > 0`` over
    all used slots of all positives.  Images without ``'keypoints'`` are skipped.

    :param kpt_raw: Tensor[B, A, K, 3] raw keypoint outputs.
    :param anchors: Tensor[A, 3] centre x, centre y, stride.
    :param targets: B dicts with 'boxes' Tensor[N, 4] and 'keypoints' Tensor[N, K, 3]
        (x, y in pixels, COCO v in {0, 1, 2}).
    :param assignment: the label assignment of the batch.
    :param gt_channels: B Tensor[N] int64 detection channels of the objects.
    :param sigmas: Tensor[T, K] OKS sigmas per thing channel (``keypoint_tables``).
    :param used: Tensor[T, K] bool, slots used per thing channel.
    :param oks_gain: factor of the ``oks`` term.
    :param dist_gain: factor of the ``dist`` term.
    :param vis_gain: factor of the ``vis`` term.
    :return: {'oks': Tensor[], 'dist': Tensor[], 'vis': Tensor[]}.
    """
    zero = kpt_raw.sum() * 0.0
    oks_sum, dist_sum, n_oks, vis_sum, n_vis = zero, zero, 0, zero, 0
    for b, tgt in enumerate(targets):
        fg = assignment.fg[b]
        if 'keypoints' not in tgt or not fg.any():
            continue
        gi = assignment.gt_index[b][fg]
        ch = gt_channels[b][gi]
        use = used[ch]  # [Np, K]
        if not use.any():
            continue
        gt = tgt['keypoints'].to(kpt_raw.device, torch.float32)[gi]
        boxes = tgt['boxes'].to(kpt_raw.device, torch.float32)[gi]
        xy, _ = decode_keypoints(kpt_raw[b][fg], anchors[fg])
        labelled = (gt[..., 2] > 0) & use
        area = ((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])).clamp(min=1.0)
        d2 = ((xy - gt[..., :2]) ** 2).sum(-1)
        dist = torch.sqrt(d2 + 1e-6) / area.sqrt()[:, None] * labelled
        k2 = (2.0 * sigmas[ch]) ** 2
        e = d2 / (2.0 * area[:, None] * k2.clamp(min=1e-9))
        per_kpt = (1.0 - torch.exp(-e)) * labelled
        cnt = labelled.sum(1)
        has = cnt > 0
        if has.any():
            oks_sum = oks_sum + (per_kpt.sum(1)[has] / cnt[has]).sum()
            dist_sum = dist_sum + (dist.sum(1)[has] / cnt[has]).sum()
            n_oks += int(has.sum())
        logit = kpt_raw[b][fg][..., 2].float()
        bce = F.binary_cross_entropy_with_logits(logit, (gt[..., 2] > 0).float(),
                                                 reduction='none')
        vis_sum = vis_sum + (bce * use).sum()
        n_vis += int(use.sum())
    return {'oks': oks_sum / max(n_oks, 1) * oks_gain,
            'dist': dist_sum / max(n_oks, 1) * dist_gain,
            'vis': vis_sum / max(n_vis, 1) * vis_gain}
