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
Keypoint head (YOLO-Pose style): K keypoint slots per anchor point (layers only).

Raw output ``keypoints`` (Tensor[B, A, K, 3]): per anchor and slot, dx and dy, the
offset from the anchor centre in units of the anchor's stride (keypoint x =
``cx + dx * stride``), and a visibility logit.  Slot k means keypoint k of the schema of
the detected class; slots beyond that schema are ignored.
"""

from typing import Dict, List, Sequence

from hydranet_perception.model.blocks import DWConv
from hydranet_perception.model.head_detect import flatten_levels
import torch
from torch import nn


class KeypointHead(nn.Module):
    """
    Per level: two depthwise-separable convs and a 1 x 1 projection to K x 3.

    :param in_channels: channels of P3, P4, P5.
    :param num_keypoints: K, the largest keypoint schema of the label space.
    :param hidden: channels of the branch.
    """

    def __init__(self, *, in_channels: Sequence[int], num_keypoints: int, hidden: int):
        super().__init__()
        self.num_keypoints = num_keypoints
        self.branch = nn.ModuleList(
            nn.Sequential(DWConv(c, hidden), DWConv(hidden, hidden),
                          nn.Conv2d(hidden, num_keypoints * 3, 1)) for c in in_channels)
        for m in self.branch:
            nn.init.zeros_(m[-1].bias)

    def forward(self, feats: List[torch.Tensor]) -> Dict[str, torch.Tensor]:
        out = flatten_levels([m(f) for m, f in zip(self.branch, feats)])
        return {'keypoints': out.reshape(out.shape[0], out.shape[1], self.num_keypoints, 3)}
