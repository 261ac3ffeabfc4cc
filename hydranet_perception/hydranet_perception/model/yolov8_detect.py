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
YOLOv8's detection head (Ultralytics ``Detect``, layers only), for ``family: yolov8``.

Tensor for tensor the head of Ultralytics YOLOv8(-seg): per level a box branch
(two 3 x 3 Conv-BN-SiLU, a 1 x 1 conv to 4 x R distribution logits, R = 16) and a class
branch (two 3 x 3 Conv-BN-SiLU, a 1 x 1 conv to T logits), so that its weights load
through the name table of ``model.yolov8_family``.  Anchors as in ``head_detect``.

Raw outputs (no sigmoid, no decoding; see ``hydranet_perception.coder``):

* ``detect_cls`` (Tensor[B, A, T]): class logits over the T thing classes;
* ``detect_box`` (Tensor[B, A, 4 R]): per side (left, top, right, bottom) R logits of
  the distance in strides, DFL coding (the expected bin under their softmax); the
  width 4 R is what tells the coder to decode them so;
* ``detect_anchors`` (Tensor[A, 3]): anchor centre x, y and stride, in pixels.
"""

import math
from typing import Dict, List, Sequence

from hydranet_perception.model.blocks import Conv
from hydranet_perception.model.head_detect import detect_outputs
import torch
from torch import nn

__all__ = ['REG_MAX', 'YoloV8DetectHead']

REG_MAX = 16  # R, the distribution bins of a box side (Ultralytics' reg_max)


class YoloV8DetectHead(nn.Module):
    """
    Per level: Ultralytics' ``cv2`` (box) and ``cv3`` (class) branches.

    :param in_channels: channels of P3, P4, P5.
    :param num_classes: T, the thing classes.
    :param strides: the pyramid strides.
    :param reg_max: R, bins per box side.

    Branch widths as Ultralytics computes them: box ``max(16, c3 // 4, 4 R)``, class
    ``max(c3, min(T, 100))``, with c3 the channels of P3.
    """

    def __init__(self, *, in_channels: Sequence[int], num_classes: int,
                 strides: Sequence[int] = (8, 16, 32), reg_max: int = REG_MAX):
        super().__init__()
        self.strides = tuple(strides)
        self.num_classes = num_classes
        self.reg_max = reg_max
        c_box = max(16, in_channels[0] // 4, reg_max * 4)
        c_cls = max(in_channels[0], min(num_classes, 100))
        self.box = nn.ModuleList(
            nn.Sequential(Conv(c, c_box, 3), Conv(c_box, c_box, 3),
                          nn.Conv2d(c_box, 4 * reg_max, 1)) for c in in_channels)
        self.cls = nn.ModuleList(
            nn.Sequential(Conv(c, c_cls, 3), Conv(c_cls, c_cls, 3),
                          nn.Conv2d(c_cls, num_classes, 1)) for c in in_channels)
        for m, s in zip(self.cls, self.strides):  # Ultralytics' bias_init
            nn.init.constant_(m[-1].bias, math.log(5 / num_classes / (640 / s) ** 2))
        for m in self.box:
            nn.init.constant_(m[-1].bias, 1.0)

    def forward(self, feats: List[torch.Tensor]) -> Dict[str, torch.Tensor]:
        return detect_outputs(self.cls, self.box, self.strides, feats)
