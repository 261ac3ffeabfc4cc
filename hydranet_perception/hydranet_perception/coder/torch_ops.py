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
Anchors and decoding in torch (see ``hydranet_perception.coder``).

Used by the model (its anchors and the ``decode=True`` ONNX export) and the losses;
``coder.numpy_ops`` computes the same without torch.
"""

from typing import Sequence, Tuple

from hydranet_perception.coder import numpy_ops, STRIDES
import torch
import torch.nn.functional as F

__all__ = ['anchors_for', 'decode_boxes', 'decode_keypoints', 'keypoint_tables',
           'make_anchors']


def make_anchors(sizes: Sequence[Tuple[int, int]], strides: Sequence[int], *,
                 device=None) -> torch.Tensor:
    """
    Return the anchor points of feature maps of the given sizes.

    :param sizes: (h, w) of each level's feature map.
    :param strides: the stride of each level.
    :param device: where to put the result.
    :return: Tensor[A, 3] float32: centre x, centre y and stride, in pixels.
    """
    out = []
    for (h, w), s in zip(sizes, strides):
        ys = (torch.arange(h, device=device, dtype=torch.float32) + 0.5) * s
        xs = (torch.arange(w, device=device, dtype=torch.float32) + 0.5) * s
        yy, xx = torch.meshgrid(ys, xs, indexing='ij')
        ss = torch.full_like(xx, float(s))
        out.append(torch.stack([xx, yy, ss], -1).reshape(-1, 3))
    return torch.cat(out, 0)


def anchors_for(height: int, width: int, strides: Sequence[int] = STRIDES, *,
                device=None) -> torch.Tensor:
    """
    Return the anchors of an input of the given size.

    :param height: input height in pixels.
    :param width: input width in pixels.
    :param strides: the pyramid strides.
    :param device: where to put the result.
    :return: Tensor[A, 3] float32: centre x, centre y and stride, in pixels.
    """
    return make_anchors(numpy_ops.feature_sizes(height, width, strides), strides,
                        device=device)


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


def keypoint_tables(label_space, device=None) -> Tuple[torch.Tensor, torch.Tensor]:
    """
    Per thing channel, the OKS sigmas and the slots its schema uses.

    :param label_space: a ``schema.LabelSpace``.
    :param device: where to put the result.
    :return: (sigmas Tensor[T, K] float32, 0 for unused slots; used Tensor[T, K] bool).
    """
    sig, used = numpy_ops.keypoint_tables(label_space)
    return torch.from_numpy(sig).to(device), torch.from_numpy(used).to(device)
