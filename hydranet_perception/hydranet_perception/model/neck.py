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


"""PAN/FPN neck: a top-down then a bottom-up path over strides 8, 16 and 32."""

from typing import List, Sequence

from hydranet_perception.model.blocks import C2f, Conv
import torch
from torch import nn


class PANNeck(nn.Module):
    """
    Fuse [C3, C4, C5] into [P3, P4, P5] with the same channels (YOLOv8's PAN).

    :param in_channels: channels of C3, C4, C5.
    :param depth: bottlenecks per C2f.

    Shapes: Tensor[B, c_l, H / s_l, W / s_l] in and out for s_l = 8, 16, 32.
    """

    def __init__(self, *, in_channels: Sequence[int], depth: int = 1):
        super().__init__()
        c3, c4, c5 = in_channels
        self.up = nn.Upsample(scale_factor=2.0, mode='nearest')
        self.td4 = C2f(c5 + c4, c4, depth)
        self.td3 = C2f(c4 + c3, c3, depth)
        self.down3 = Conv(c3, c3, 3, 2)
        self.bu4 = C2f(c3 + c4, c4, depth)
        self.down4 = Conv(c4, c4, 3, 2)
        self.bu5 = C2f(c4 + c5, c5, depth)
        self.out_channels = (c3, c4, c5)

    def forward(self, feats: List[torch.Tensor]) -> List[torch.Tensor]:
        c3, c4, c5 = feats
        t4 = self.td4(torch.cat([self.up(c5), c4], 1))
        p3 = self.td3(torch.cat([self.up(t4), c3], 1))
        p4 = self.bu4(torch.cat([self.down3(p3), t4], 1))
        p5 = self.bu5(torch.cat([self.down4(p4), c5], 1))
        return [p3, p4, p5]
