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

__all__ = ['keypoint_loss', 'keypoint_tables', 'object_areas']


def object_areas(target: dict, index: torch.Tensor, device, *,
                 segment: bool = True) -> torch.Tensor:
    """
    Return the OKS area of the objects ``index`` of one image: their segment area.

    COCO's OKS (and ``hydranet-eval``, which scores with pycocotools) divides by the
    object's *segment* area, so the loss does too; a thin instrument's box is about 8
    times its segment, and a loss on the box area would train to a 3 times looser
    tolerance than the one it is scored with.  Without masks the box area stands in.

    :param target: one image's target dict ('masks' Tensor[N, H, W] optional, 'boxes').
    :param index: Tensor[P] int64, objects of that image.
    :param device: where the result goes.
    :param segment: False: the box area always (an ablation).
    :return: Tensor[P] float32, at least 1.
    """
    masks = target.get('masks')
    if (segment and masks is not None and masks.shape[0] == target['boxes'].shape[0]
            and masks.numel()):
        area = (masks.to(device) > 0).flatten(1).sum(1).to(torch.float32)[index]
    else:
        boxes = target['boxes'].to(device, torch.float32)[index]
        area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return area.clamp(min=1.0)


def keypoint_loss(kpt_raw: torch.Tensor, anchors: torch.Tensor, targets: List[dict],
                  assignment: Assignment, gt_channels: List[torch.Tensor], *,
                  sigmas: torch.Tensor, used: torch.Tensor, oks_gain: float = 1.0,
                  dist_gain: float = 1.0, vis_gain: float = 1.0, area: str = 'segment',
                  class_balance: bool = True) -> Dict[str, torch.Tensor]:
    """
    OKS-style and visibility terms of each positive anchor against its object.

    Only the slots of the object's class schema count (``used``); classes without a
    schema add nothing.  With ``d`` the distance of a predicted keypoint from a
    labelled one (v > 0), ``A`` the object's segment area (``object_areas``: COCO's
    convention, the one the evaluation uses) and ``sigma`` the schema's OKS sigma,
    ``e = d**2 / (2 A (2 sigma)**2)`` as in COCO's OKS, and ``oks`` is the mean of
    ``1 - exp(-e)`` over the labelled slots of an object.  That term saturates: a
    keypoint predicted far away (many sigmas) gets almost no gradient, so ``dist``, the
    mean of ``d / sqrt(A)`` over the same slots (a scale-free L1 distance), keeps pulling
    such keypoints in; near the target the OKS term dominates.  ``vis`` is the BCE of
    the visibility logit against ``v > 0`` over the used slots.

    Each term is averaged over the positives of each class (thing channel) first, then
    over the classes present in the batch, so that every schema weighs the same
    whatever its number of objects, anchors or keypoints (the evaluation, too, averages
    keypoint AP over schemas); with ``class_balance`` False, over all positives
    instead.  Images without ``'keypoints'`` are skipped.

    :param kpt_raw: Tensor[B, A, K, 3] raw keypoint outputs.
    :param anchors: Tensor[A, 3] centre x, centre y, stride.
    :param targets: B dicts with 'boxes' Tensor[N, 4], 'keypoints' Tensor[N, K, 3]
        (x, y in pixels, COCO v in {0, 1, 2}) and optionally 'masks' Tensor[N, H, W].
    :param assignment: the label assignment of the batch.
    :param gt_channels: B Tensor[N] int64 detection channels of the objects.
    :param sigmas: Tensor[T, K] OKS sigmas per thing channel (``keypoint_tables``).
    :param used: Tensor[T, K] bool, slots used per thing channel.
    :param oks_gain: factor of the ``oks`` term.
    :param dist_gain: factor of the ``dist`` term.
    :param vis_gain: factor of the ``vis`` term.
    :param area: ``'segment'`` (``object_areas``) or ``'box'``: the OKS area.
    :param class_balance: average per class first (True) or over all positives.
    :return: {'oks': Tensor[], 'dist': Tensor[], 'vis': Tensor[]}.
    """
    zero = kpt_raw.sum() * 0.0
    area_rule = area
    t = used.shape[0]
    sums = {k: [zero] * t for k in ('oks', 'dist', 'vis')}
    n_oks, n_vis = [0] * t, [0] * t
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
        area = object_areas(tgt, gi, kpt_raw.device, segment=area_rule == 'segment')
        xy, _ = decode_keypoints(kpt_raw[b][fg], anchors[fg])
        labelled = (gt[..., 2] > 0) & use
        d2 = ((xy - gt[..., :2]) ** 2).sum(-1)
        dist = torch.sqrt(d2 + 1e-6) / area.sqrt()[:, None] * labelled
        k2 = (2.0 * sigmas[ch]) ** 2
        e = d2 / (2.0 * area[:, None] * k2.clamp(min=1e-9))
        per_kpt = (1.0 - torch.exp(-e)) * labelled
        cnt = labelled.sum(1)
        logit = kpt_raw[b][fg][..., 2].float()
        bce = F.binary_cross_entropy_with_logits(logit, (gt[..., 2] > 0).float(),
                                                 reduction='none') * use
        for c in torch.unique(ch).tolist():
            mine = ch == c
            has = mine & (cnt > 0)
            if has.any():
                sums['oks'][c] = sums['oks'][c] + (per_kpt.sum(1)[has] / cnt[has]).sum()
                sums['dist'][c] = sums['dist'][c] + (dist.sum(1)[has] / cnt[has]).sum()
                n_oks[c] += int(has.sum())
            if use[mine].any():
                sums['vis'][c] = sums['vis'][c] + bce[mine].sum()
                n_vis[c] += int(use[mine].sum())
    gains = {'oks': oks_gain, 'dist': dist_gain, 'vis': vis_gain}
    out = {}
    for k, gain in gains.items():
        counts = n_vis if k == 'vis' else n_oks
        if class_balance:
            means = [s / n for s, n in zip(sums[k], counts) if n]
            out[k] = (sum(means) / len(means) if means else zero) * gain
        else:
            n = sum(counts)
            out[k] = (sum(sums[k]) / n if n else zero) * gain
    return out
