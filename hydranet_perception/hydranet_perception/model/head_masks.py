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
Mask head (YOLACT style): shared prototypes plus per-anchor coefficients (layers only).

Raw outputs:

* ``masks_protos`` (Tensor[B, P, H/4, W/4]): P prototype masks at 1/4 of the input
  resolution, computed from the stride-8 level (one conv, 2x upsampling, one
  depthwise-separable conv, a 1 x 1 projection);
* ``masks_coef`` (Tensor[B, A, P]): per-anchor coefficients, in the anchor order of
  ``detect_cls``.  An instance's mask logits are ``coef @ protos`` (assembled only for
  kept detections, in ``postprocess.masks``).
"""

from typing import Dict, List, Sequence

from hydranet_perception.model.blocks import Conv, DWConv
from hydranet_perception.model.head_detect import flatten_levels
import torch
from torch import nn


class MaskHead(nn.Module):
    """
    Prototype branch on P3 and a light coefficient branch per level.

    :param in_channels: channels of P3, P4, P5.
    :param num_prototypes: P.
    :param hidden: channels of the coefficient branches.
    :param proto_channels: channels inside the prototype branch.
    """

    def __init__(self, *, in_channels: Sequence[int], num_prototypes: int, hidden: int,
                 proto_channels: int):
        super().__init__()
        self.num_prototypes = num_prototypes
        self.proto = nn.Sequential(
            Conv(in_channels[0], proto_channels, 3),
            nn.Upsample(scale_factor=2.0, mode='nearest'),
            DWConv(proto_channels, proto_channels),
            nn.Conv2d(proto_channels, num_prototypes, 1))
        self.coef = nn.ModuleList(
            nn.Sequential(DWConv(c, hidden), nn.Conv2d(hidden, num_prototypes, 1))
            for c in in_channels)

    def forward(self, feats: List[torch.Tensor]) -> Dict[str, torch.Tensor]:
        coef = flatten_levels([m(f) for m, f in zip(self.coef, feats)])
        return {'masks_coef': coef, 'masks_protos': self.proto(feats[0])}
