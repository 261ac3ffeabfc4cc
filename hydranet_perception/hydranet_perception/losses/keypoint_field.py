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


"""Offset-field loss of the keypoint refinement: L1 to the nearest labelled keypoint per slot."""

from typing import List

from hydranet_perception.coder.torch_ops import make_anchors
import torch


def field_targets(points: torch.Tensor, valid: torch.Tensor, height: int, width: int, *,
                  stride: int, radius: float):
    """
    Return the offset field one image should have, and where it is defined.

    At each cell centre ``p`` and slot k: ``(q - p) / stride`` with ``q`` the nearest
    labelled keypoint of slot k (over every object), where ``|q - p| <= radius * stride``.

    :param points: Tensor[N, K, 2] keypoints in pixels.
    :param valid: Tensor[N, K] bool, labelled slots used by the object's schema.
    :param height: field rows h.
    :param width: field columns w.
    :param stride: pixels per cell.
    :param radius: the support, in cells.
    :return: (target Tensor[h * w, K, 2] in cells, mask Tensor[h * w, K] bool).
    """
    cells = make_anchors([(height, width)], [stride], device=points.device)
    cells = cells[:, :2].reshape(-1, 1, 1, 2)  # [HW, 1, 1, 2] cell centres, row-major
    d = (points[None] - cells).norm(dim=-1)  # [HW, N, K]
    d = d.masked_fill(~valid[None], float('inf'))
    dmin, nearest = d.min(1)  # [HW, K]
    mask = dmin <= radius * stride
    k = points.shape[1]
    q = points.permute(1, 0, 2).gather(1, nearest.t()[..., None].expand(k, -1, 2))  # [K, HW, 2]
    target = (q.permute(1, 0, 2) - cells[:, 0]) / stride
    return target, mask


def offset_field_loss(field: torch.Tensor, targets: List[dict], used_by_object: List[torch.Tensor],
                      *, stride: int, radius: float, gain: float = 1.0) -> torch.Tensor:
    """
    L1 of the predicted offset field against ``field_targets``, averaged over defined cells.

    :param field: Tensor[B, 2K, h, w] (``keypoints_field``), in cells.
    :param targets: B dicts with 'keypoints' Tensor[N, K, 3] (x, y, COCO v); images
        without it add nothing.
    :param used_by_object: B Tensor[N, K] bool, the slots of each object's schema.
    :param stride: pixels per cell of the field.
    :param radius: the support, in cells.
    :param gain: factor of the result.
    :return: Tensor[] (0 with a gradient path when no cell is defined).
    """
    b, c, h, w = field.shape
    k = c // 2
    pred = field.float().reshape(b, k, 2, h * w).permute(0, 3, 1, 2)  # [B, HW, K, 2]
    total = field.sum() * 0.0
    count = 0
    for i, tgt in enumerate(targets):
        if 'keypoints' not in tgt or not tgt['keypoints'].numel():
            continue
        kp = tgt['keypoints'].to(field.device, torch.float32)[:, :k]
        valid = (kp[..., 2] > 0) & used_by_object[i][:, :k].to(field.device)
        if not valid.any():
            continue
        target, mask = field_targets(kp[..., :2], valid, h, w, stride=stride, radius=radius)
        if mask.any():
            total = total + (pred[i] - target).abs().sum(-1)[mask].sum()
            count += int(mask.sum())
    return total / count * gain if count else total
