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
Depth loss: L1 and scale-invariant error of log depth, invalid pixels masked out.

With ``d = pred_log_depth - log(true_depth)`` over an image's valid pixels (depth > 0
and finite), ``l1`` is the mean of ``|d|`` over all valid pixels of the batch (metric:
it penalises a wrong scale), and ``si`` is Eigen et al.'s (NeurIPS 2014)
scale-invariant error ``mean(d**2) - lam * mean(d)**2`` averaged over the images with
valid pixels (it penalises wrong structure; with ``lam = 1`` a global scale costs
nothing, with ``lam = 0.5`` half of it).
"""

from typing import Dict, List

import torch
import torch.nn.functional as F

__all__ = ['depth_loss', 'SI_LAMBDA']

SI_LAMBDA = 0.5


def depth_loss(log_depth: torch.Tensor, targets: List[dict], *, l1_gain: float = 1.0,
               si_gain: float = 1.0, lam: float = SI_LAMBDA) -> Dict[str, torch.Tensor]:
    """
    L1 and scale-invariant error of the predicted log depth against the target depth.

    The prediction is upsampled (bilinear) to the size of the target maps.  Images
    without a ``'depth'`` target, or without a valid pixel, are skipped (0 when none).

    :param log_depth: Tensor[B, 1, h, w] natural log of the depth in metres (h = H / 4).
    :param targets: B dicts with 'depth' Tensor[H, W] float metres, 0 (or NaN/inf) where
        unknown.
    :param l1_gain: factor of the ``l1`` term.
    :param si_gain: factor of the ``si`` term.
    :param lam: lambda of the scale-invariant term, in [0, 1].
    :return: {'l1': Tensor[], 'si': Tensor[]}.
    """
    zero = log_depth.sum() * 0.0
    have = [i for i, t in enumerate(targets) if 'depth' in t]
    if not have:
        return {'l1': zero, 'si': zero}
    gt = torch.stack([targets[i]['depth'].to(log_depth.device, torch.float32) for i in have])
    x = log_depth[have].float()[:, 0]
    if x.shape[-2:] != gt.shape[-2:]:
        x = F.interpolate(x[:, None], size=gt.shape[-2:], mode='bilinear',
                          align_corners=False)[:, 0]
    valid = torch.isfinite(gt) & (gt > 0)
    count = valid.sum((1, 2))
    if not bool((count > 0).any()):
        return {'l1': zero, 'si': zero}
    d = torch.where(valid, x - torch.log(torch.where(valid, gt, torch.ones_like(gt))),
                    torch.zeros_like(x))
    l1 = d.abs().sum() / count.sum()
    used = count > 0
    n = count[used].float()
    mean = d.sum((1, 2))[used] / n
    mean_sq = (d * d).sum((1, 2))[used] / n
    si = (mean_sq - lam * mean * mean).mean()
    return {'l1': l1 * l1_gain, 'si': si * si_gain}
