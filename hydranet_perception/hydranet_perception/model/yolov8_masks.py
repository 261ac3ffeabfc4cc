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
YOLOv8's mask head (Ultralytics ``Proto`` and the ``cv4`` branches, layers only).

Tensor for tensor the mask part of Ultralytics' ``Segment`` head, for ``family: yolov8``.
Same raw outputs as ``head_masks``:

* ``masks_protos`` (Tensor[B, P, H/4, W/4]): P prototype masks from the stride-8 level
  (3 x 3 Conv-BN-SiLU, 2 x 2 transposed conv, 3 x 3 Conv-BN-SiLU, 1 x 1 Conv-BN-SiLU);
* ``masks_coef`` (Tensor[B, A, P]): per-anchor coefficients (two 3 x 3 Conv-BN-SiLU and
  a 1 x 1 conv per level), in the anchor order of ``detect_cls``; an instance's mask
  logits are ``coef @ protos``.
"""

from typing import Dict, List, Sequence

from hydranet_perception.model.blocks import Conv
from hydranet_perception.model.head_detect import flatten_levels
import torch
from torch import nn

__all__ = ['Proto', 'YoloV8MaskHead']


class Proto(nn.Module):
    """
    Ultralytics' ``Proto``: Tensor[B, c_in, h, w] to Tensor[B, P, 2h, 2w].

    :param c_in: channels of P3.
    :param hidden: channels inside the branch (Ultralytics' ``npr``).
    :param num_prototypes: P.
    """

    def __init__(self, c_in: int, hidden: int, num_prototypes: int):
        super().__init__()
        self.cv1 = Conv(c_in, hidden, 3)
        self.upsample = nn.ConvTranspose2d(hidden, hidden, 2, 2, 0, bias=True)
        self.cv2 = Conv(hidden, hidden, 3)
        self.cv3 = Conv(hidden, num_prototypes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.cv3(self.cv2(self.upsample(self.cv1(x))))


class YoloV8MaskHead(nn.Module):
    """
    Prototypes on P3 and a coefficient branch per level (Ultralytics' ``proto``, ``cv4``).

    :param in_channels: channels of P3, P4, P5.
    :param num_prototypes: P (Ultralytics' ``nm``, 32).
    :param proto_channels: channels inside ``Proto`` (Ultralytics' ``npr``: 256 scaled
        by the width multiple).

    The coefficient branches are ``max(c3 // 4, P)`` wide, c3 the channels of P3.
    """

    def __init__(self, *, in_channels: Sequence[int], num_prototypes: int,
                 proto_channels: int):
        super().__init__()
        self.num_prototypes = num_prototypes
        self.proto = Proto(in_channels[0], proto_channels, num_prototypes)
        c = max(in_channels[0] // 4, num_prototypes)
        self.coef = nn.ModuleList(
            nn.Sequential(Conv(x, c, 3), Conv(c, c, 3), nn.Conv2d(c, num_prototypes, 1))
            for x in in_channels)

    def forward(self, feats: List[torch.Tensor]) -> Dict[str, torch.Tensor]:
        coef = flatten_levels([m(f) for m, f in zip(self.coef, feats)])
        return {'masks_coef': coef, 'masks_protos': self.proto(feats[0])}
