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
Anchor-free detection head with decoupled class and box branches (layers only).

One anchor point per feature-map cell at strides 8, 16 and 32; cell (i, j) of the
stride-s level is the point ``((j + 0.5) s, (i + 0.5) s)`` in network-input pixels.
Anchors are ordered level by level, row-major inside a level (A in total).

Raw outputs (no sigmoid, no decoding; see ``hydranet_perception.coder``):

* ``detect_cls`` (Tensor[B, A, T]): class logits over the T thing classes;
* ``detect_box`` (Tensor[B, A, 4]): raw left, top, right, bottom distances;
  the distance in pixels is ``softplus(raw) * stride``;
* ``detect_anchors`` (Tensor[A, 3]): anchor centre x, y and stride, in pixels.
"""

from typing import Dict, List, Sequence

from hydranet_perception.coder.torch_ops import make_anchors
from hydranet_perception.model.blocks import DWConv, init_prior_bias
import torch
from torch import nn

__all__ = ['BOX_BIAS', 'detect_outputs', 'DetectHead', 'flatten_levels', 'make_anchors']

BOX_BIAS = 1.0  # softplus(1.0) = 1.31 strides: a small initial box around each anchor


def flatten_levels(maps: List[torch.Tensor]) -> torch.Tensor:
    """Concatenate per-level maps Tensor[B, C, h_l, w_l] into Tensor[B, A, C]."""
    return torch.cat([m.flatten(2) for m in maps], 2).transpose(1, 2)


class DetectHead(nn.Module):
    """
    Per level: class branch and box branch, each two depthwise-separable convs.

    :param in_channels: channels of P3, P4, P5.
    :param num_classes: T, the thing classes.
    :param hidden: channels of the branches.
    :param strides: the pyramid strides.
    """

    def __init__(self, *, in_channels: Sequence[int], num_classes: int, hidden: int,
                 strides: Sequence[int] = (8, 16, 32)):
        super().__init__()
        self.strides = tuple(strides)
        self.num_classes = num_classes
        self.cls = nn.ModuleList(
            nn.Sequential(DWConv(c, hidden), DWConv(hidden, hidden),
                          nn.Conv2d(hidden, num_classes, 1)) for c in in_channels)
        self.box = nn.ModuleList(
            nn.Sequential(DWConv(c, hidden), DWConv(hidden, hidden), nn.Conv2d(hidden, 4, 1))
            for c in in_channels)
        for m in self.cls:
            init_prior_bias(m[-1], 0.01)
        for m in self.box:
            init_prior_bias(m[-1], value=BOX_BIAS)

    def forward(self, feats: List[torch.Tensor]) -> Dict[str, torch.Tensor]:
        return detect_outputs(self.cls, self.box, self.strides, feats)


def detect_outputs(cls_branches, box_branches, strides: Sequence[int],
                   feats: List[torch.Tensor]) -> Dict[str, torch.Tensor]:
    """
    Run per-level class and box branches and flatten them into the detect contract.

    :param cls_branches: one module per level, [B, C, h, w] -> [B, T, h, w].
    :param box_branches: one module per level, [B, C, h, w] -> [B, 4 (or 4R), h, w].
    :param strides: the levels' strides.
    :param feats: [P3, P4, P5].
    :return: ``detect_cls`` [B, A, T], ``detect_box`` [B, A, 4 or 4R] and
        ``detect_anchors`` [A, 3] (x, y, stride), A summed over the levels.
    """
    cls = flatten_levels([m(f) for m, f in zip(cls_branches, feats)])
    box = flatten_levels([m(f) for m, f in zip(box_branches, feats)])
    sizes = [(int(f.shape[-2]), int(f.shape[-1])) for f in feats]
    anchors = make_anchors(sizes, strides, device=cls.device)
    return {'detect_cls': cls, 'detect_box': box, 'detect_anchors': anchors}
