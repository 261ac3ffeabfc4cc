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

With ``refine`` (``ModelConfig.keypoint_refine``), a second branch on P3 predicts a dense
short-range offset field (PersonLab's idea): at every stride-8 cell and for every slot,
the offset from the cell centre to the nearest keypoint of that slot, in units of 8
pixels (``keypoints_field``, Tensor[B, 2K, H/8, W/8], x then y per slot).  The anchor's
long-range prediction (``keypoints_coarse`` in training) says roughly where a keypoint
is; the field, read bilinearly there (``coder.torch_ops.sample_offset_field``), says
exactly where: a keypoint 50 px from its anchor (one end of an instrument seen from the
other) is placed by features that see it.  ``keypoints`` is the refined result in the
same units as without refinement, so decoding, export and postprocessing do not change.
"""

from typing import Dict, List, Sequence

from hydranet_perception.coder.torch_ops import make_anchors, sample_offset_field
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
    :param refine: add the P3 offset field and refine the anchors' keypoints with it.
    :param strides: the pyramid strides (P3 first), for the refinement's anchors.
    """

    def __init__(self, *, in_channels: Sequence[int], num_keypoints: int, hidden: int,
                 refine: bool = False, strides: Sequence[int] = (8, 16, 32)):
        super().__init__()
        self.num_keypoints = num_keypoints
        self.strides = tuple(strides)
        self.branch = nn.ModuleList(
            nn.Sequential(DWConv(c, hidden), DWConv(hidden, hidden),
                          nn.Conv2d(hidden, num_keypoints * 3, 1)) for c in in_channels)
        for m in self.branch:
            nn.init.zeros_(m[-1].bias)
        self.field = None
        if refine:
            self.field = nn.Sequential(DWConv(in_channels[0], hidden), DWConv(hidden, hidden),
                                       nn.Conv2d(hidden, num_keypoints * 2, 1))
            nn.init.zeros_(self.field[-1].weight)  # starts as "no correction"
            nn.init.zeros_(self.field[-1].bias)

    def forward(self, feats: List[torch.Tensor]) -> Dict[str, torch.Tensor]:
        out = flatten_levels([m(f) for m, f in zip(self.branch, feats)])
        kpt = out.reshape(out.shape[0], out.shape[1], self.num_keypoints, 3)
        if self.field is None:
            return {'keypoints': kpt}
        field = self.field(feats[0])
        sizes = [(int(f.shape[-2]), int(f.shape[-1])) for f in feats]
        anchors = make_anchors(sizes, self.strides, device=kpt.device)
        stride = anchors[:, None, 2:3]
        # float32 whatever the autocast: bf16 would round positions near 300 px to ~1 px
        coarse = kpt.float()
        xy = anchors[:, None, :2] + coarse[..., :2] * stride  # [B, A, K, 2] pixels
        delta = sample_offset_field(field.float(), xy.detach(), stride=self.strides[0])
        refined = torch.cat([coarse[..., :2] + delta / stride, coarse[..., 2:]], -1)
        result = {'keypoints': refined}
        if self.training:
            result.update(keypoints_coarse=kpt, keypoints_field=field)
        return result
