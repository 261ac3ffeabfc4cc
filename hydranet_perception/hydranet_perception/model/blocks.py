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


"""Building blocks: Conv-BN-SiLU, depthwise-separable conv, C2f and SPPF (YOLOv8-like)."""

import math
from typing import Optional

import torch
from torch import nn


def make_divisible(x: float, divisor: int = 8) -> int:
    """Round ``x`` up to a multiple of ``divisor`` (channel counts)."""
    return int(math.ceil(x / divisor) * divisor)


class Conv(nn.Sequential):
    """
    Conv2d (no bias) -> BatchNorm2d -> SiLU, with 'same' padding for odd kernels.

    Maps Tensor[B, c_in, H, W] to Tensor[B, c_out, H / stride, W / stride].
    """

    def __init__(self, c_in: int, c_out: int, k: int = 1, s: int = 1, *, groups: int = 1,
                 act: bool = True):
        super().__init__(
            nn.Conv2d(c_in, c_out, k, s, k // 2, groups=groups, bias=False),
            nn.BatchNorm2d(c_out, eps=1e-3, momentum=0.03),
            nn.SiLU(inplace=True) if act else nn.Identity())


class DWConv(nn.Sequential):
    """
    Depthwise-separable conv: depthwise k x k Conv-BN-SiLU, then pointwise Conv-BN-SiLU.

    The heads use it: about 1/8 of the cost of a dense 3 x 3 conv at 64 channels.
    """

    def __init__(self, c_in: int, c_out: int, k: int = 3, s: int = 1):
        super().__init__(Conv(c_in, c_in, k, s, groups=c_in), Conv(c_in, c_out, 1))


class Bottleneck(nn.Module):
    """Two 3 x 3 convs with an optional residual connection."""

    def __init__(self, c_in: int, c_out: int, *, shortcut: bool = True, expand: float = 1.0):
        super().__init__()
        hidden = int(c_out * expand)
        self.cv1 = Conv(c_in, hidden, 3)
        self.cv2 = Conv(hidden, c_out, 3)
        self.add = shortcut and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y


class C2f(nn.Module):
    """
    CSP block with two convs and ``n`` bottlenecks whose outputs are all concatenated.

    Maps Tensor[B, c_in, H, W] to Tensor[B, c_out, H, W].
    """

    def __init__(self, c_in: int, c_out: int, n: int = 1, *, shortcut: bool = False,
                 expand: float = 0.5):
        super().__init__()
        self.c = int(c_out * expand)
        self.cv1 = Conv(c_in, 2 * self.c, 1)
        self.cv2 = Conv((2 + n) * self.c, c_out, 1)
        self.m = nn.ModuleList(Bottleneck(self.c, self.c, shortcut=shortcut)
                               for _ in range(n))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = list(self.cv1(x).chunk(2, 1))
        for m in self.m:
            y.append(m(y[-1]))
        return self.cv2(torch.cat(y, 1))


class SPPF(nn.Module):
    """Spatial pyramid pooling (fast): three chained 5 x 5 max-pools, concatenated."""

    def __init__(self, c_in: int, c_out: int, k: int = 5):
        super().__init__()
        hidden = c_in // 2
        self.cv1 = Conv(c_in, hidden, 1)
        self.cv2 = Conv(hidden * 4, c_out, 1)
        self.pool = nn.MaxPool2d(k, 1, k // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = [self.cv1(x)]
        for _ in range(3):
            y.append(self.pool(y[-1]))
        return self.cv2(torch.cat(y, 1))


def init_prior_bias(conv: nn.Conv2d, prior: float = 0.01, value: Optional[float] = None):
    """Set a prediction conv's bias to ``log(p / (1 - p))`` (or to ``value``)."""
    b = value if value is not None else -math.log((1 - prior) / prior)
    nn.init.constant_(conv.bias, b)
