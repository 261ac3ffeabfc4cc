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
CSP backbone (YOLOv8-like): stem, four stages of strided conv + C2f, SPPF.

Returns the stride-8, 16 and 32 feature maps (C3, C4, C5).
"""

from typing import List, Tuple

from hydranet_perception.model.blocks import C2f, Conv, make_divisible, SPPF
import torch
from torch import nn

BASE_CHANNELS = (64, 128, 256, 512, 1024)
BASE_DEPTHS = (3, 6, 6, 3)


def scaled_channels(width: float, max_channels: int) -> Tuple[int, ...]:
    """Return the channels of the stem and the four stages for a width multiple."""
    return tuple(make_divisible(min(c, max_channels) * width, 8) for c in BASE_CHANNELS)


def scaled_depths(depth: float) -> Tuple[int, ...]:
    """Return the number of bottlenecks of each stage's C2f for a depth multiple."""
    return tuple(max(1, round(d * depth)) for d in BASE_DEPTHS)


class Backbone(nn.Module):
    """
    Maps images Tensor[B, 3, H, W] to [C3 (H/8), C4 (H/16), C5 (H/32)] feature maps.

    :param width: width multiple (0.25 for 'n').
    :param depth: depth multiple (0.33 for 'n').
    :param max_channels: channel cap before the width multiple.
    :ivar out_channels: channels of C3, C4 and C5.
    """

    def __init__(self, *, width: float, depth: float, max_channels: int = 1024):
        super().__init__()
        c = scaled_channels(width, max_channels)
        n = scaled_depths(depth)
        self.stem = Conv(3, c[0], 3, 2)
        self.stage2 = nn.Sequential(Conv(c[0], c[1], 3, 2), C2f(c[1], c[1], n[0], shortcut=True))
        self.stage3 = nn.Sequential(Conv(c[1], c[2], 3, 2), C2f(c[2], c[2], n[1], shortcut=True))
        self.stage4 = nn.Sequential(Conv(c[2], c[3], 3, 2), C2f(c[3], c[3], n[2], shortcut=True))
        self.stage5 = nn.Sequential(Conv(c[3], c[4], 3, 2), C2f(c[4], c[4], n[3], shortcut=True),
                                    SPPF(c[4], c[4]))
        self.out_channels = (c[2], c[3], c[4])

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        x = self.stage2(self.stem(x))
        c3 = self.stage3(x)
        c4 = self.stage4(c3)
        c5 = self.stage5(c4)
        return [c3, c4, c5]
