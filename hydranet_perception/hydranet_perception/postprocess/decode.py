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
Decoding of the raw head outputs into pixels (shared by the losses and postprocessing).

All coordinates are network-input pixels, continuous (pixel edges at integers).
"""

from typing import Sequence, Tuple

from hydranet_perception.model.head_detect import make_anchors
import torch
import torch.nn.functional as F

__all__ = ['anchors_for', 'decode_boxes', 'decode_keypoints', 'make_anchors']


def anchors_for(height: int, width: int, strides: Sequence[int] = (8, 16, 32), *,
                device=None) -> torch.Tensor:
    """Return the anchors (Tensor[A, 3]: cx, cy, stride) of an input of the given size."""
    sizes = [((height + s - 1) // s, (width + s - 1) // s) for s in strides]
    return make_anchors(sizes, strides, device=device)


def decode_boxes(box_raw: torch.Tensor, anchors: torch.Tensor) -> torch.Tensor:
    """
    Turn raw distances into boxes.

    :param box_raw: Tensor[..., A, 4] raw left, top, right, bottom (``detect_box``).
    :param anchors: Tensor[A, 3] centre x, centre y, stride in pixels.
    :return: Tensor[..., A, 4] x1, y1, x2, y2 in pixels, where each distance is
        ``softplus(raw) * stride``.
    """
    d = F.softplus(box_raw.float()) * anchors[:, 2:3]
    c = anchors[:, :2]
    return torch.cat([c - d[..., :2], c + d[..., 2:]], -1)


def decode_keypoints(kpt_raw: torch.Tensor, anchors: torch.Tensor
                     ) -> Tuple[torch.Tensor, torch.Tensor]:
    """
    Turn raw keypoint outputs into positions and visibility probabilities.

    :param kpt_raw: Tensor[..., A, K, 3] raw dx, dy (in strides) and visibility logit.
    :param anchors: Tensor[A, 3] centre x, centre y, stride in pixels.
    :return: (xy, vis): Tensor[..., A, K, 2] x, y in pixels (``cx + dx * stride``) and
        Tensor[..., A, K] visibility in [0, 1].
    """
    raw = kpt_raw.float()
    xy = anchors[:, None, :2] + raw[..., :2] * anchors[:, None, 2:3]
    return xy, raw[..., 2].sigmoid()
