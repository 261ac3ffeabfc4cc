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
Semantic head: light fusion of the pyramid levels into per-pixel logits (layers only).

Raw output ``semantic`` (Tensor[B, C, H/4, W/4]): logits over all C classes (stuff and
things, global ids) at 1/4 of the input resolution.  P4 and P5 are projected, upsampled
to stride 8 and added to P3; a depthwise-separable conv refines the sum and a 1 x 1
conv classifies it; the logits are upsampled (bilinear) to stride 4.  (A 1 x 1 conv and
bilinear upsampling commute, so classifying first gives the same logits for less.)
"""

from typing import Dict, List, Sequence

from hydranet_perception.model.blocks import Conv, DWConv
import torch
from torch import nn
import torch.nn.functional as F


class SemanticHead(nn.Module):
    """
    FPN-style fusion and a 1 x 1 classifier at stride 8, logits upsampled to stride 4.

    :param in_channels: channels of P3, P4, P5.
    :param num_classes: C, all classes of the label space.
    :param hidden: channels of the fused map.
    """

    def __init__(self, *, in_channels: Sequence[int], num_classes: int, hidden: int):
        super().__init__()
        self.num_classes = num_classes
        self.lateral = nn.ModuleList(Conv(c, hidden, 1) for c in in_channels)
        self.refine = DWConv(hidden, hidden)
        self.classify = nn.Conv2d(hidden, num_classes, 1)

    def forward(self, feats: List[torch.Tensor]) -> Dict[str, torch.Tensor]:
        x = self.lateral[0](feats[0])
        for lat, f in zip(self.lateral[1:], feats[1:]):
            x = x + F.interpolate(lat(f), size=x.shape[-2:], mode='nearest')
        x = self.classify(self.refine(x))
        return {'semantic': F.interpolate(x, scale_factor=2.0, mode='bilinear',
                                          align_corners=False)}
