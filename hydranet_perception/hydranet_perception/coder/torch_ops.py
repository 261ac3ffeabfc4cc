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

import math
from typing import Sequence, Tuple

from hydranet_perception.coder import DEPTH_RANGE, numpy_ops, STRIDES
import torch
import torch.nn.functional as F

__all__ = ['anchors_for', 'box_distances', 'decode_boxes', 'decode_depth', 'decode_keypoints',
           'keypoint_tables', 'make_anchors', 'sample_offset_field']


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


def box_distances(box_raw: torch.Tensor) -> torch.Tensor:
    """
    Return the left, top, right, bottom distances, in strides, of raw box outputs.

    :param box_raw: Tensor[..., 4] (softplus coding) or Tensor[..., 4 * R] (DFL coding,
        R > 1 bins per side, side-major); see ``hydranet_perception.coder``.
    :return: Tensor[..., 4] float32, each >= 0.
    :raises ValueError: when the last dimension is neither 4 nor a multiple of 4 above 4.
    """
    raw = box_raw.float()
    n = int(raw.shape[-1])
    if n == 4:
        return F.softplus(raw)
    if n % 4 or n < 8:
        raise ValueError(f'detect_box has {n} values per anchor: expected 4 (softplus) or '
                         '4 * R with R > 1 (DFL)')
    p = raw.unflatten(-1, (4, n // 4)).softmax(-1)
    bins = torch.arange(n // 4, device=raw.device, dtype=torch.float32)
    return (p * bins).sum(-1)


def decode_boxes(box_raw: torch.Tensor, anchors: torch.Tensor) -> torch.Tensor:
    """
    Turn raw distances into boxes.

    :param box_raw: Tensor[..., A, 4] or Tensor[..., A, 4 * R] raw left, top, right,
        bottom (``detect_box``; the coding follows from the width, see ``box_distances``).
    :param anchors: Tensor[A, 3] centre x, centre y, stride in pixels.
    :return: Tensor[..., A, 4] x1, y1, x2, y2 in pixels, where each distance is
        ``box_distances(raw) * stride``.
    """
    d = box_distances(box_raw) * anchors[:, 2:3]
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


def sample_offset_field(field: torch.Tensor, xy: torch.Tensor, *, stride: int) -> torch.Tensor:
    """
    Read a per-slot 2D offset field bilinearly at keypoint positions, in pixels.

    Cell (i, j) of the field is the point ``((j + 0.5) stride, (i + 0.5) stride)``;
    positions outside the cell centres read the border cells' values (clamped).  An
    offset field that is linear in position (``target - p``) is read back exactly
    between cell centres.  One ``grid_sample`` (ONNX GridSample, opset 16) over the
    (image, slot) pairs.

    :param field: Tensor[B, 2K, h, w]: per slot k, channels 2k (x) and 2k + 1 (y), in
        units of ``stride`` pixels.
    :param xy: Tensor[B, A, K, 2] positions in pixels.
    :param stride: pixels per field cell.
    :return: Tensor[B, A, K, 2] the field at ``xy``, in pixels.
    """
    b, c, h, w = field.shape
    k = c // 2
    a = xy.shape[1]
    # grid_sample's normalised coordinates (align_corners=False: -1 and 1 are the outer
    # pixel edges), one batch entry per (image, slot): few, large ops (onnxruntime runs
    # many small broadcasting ones slowly)
    size = torch.tensor([w * stride, h * stride], dtype=xy.dtype, device=xy.device)
    grid = (xy / size * 2 - 1).permute(0, 2, 1, 3).reshape(b * k, a, 1, 2)
    out = F.grid_sample(field.reshape(b * k, 2, h, w), grid, mode='bilinear',
                        padding_mode='border', align_corners=False)  # [B * K, 2, A, 1]
    return out.reshape(b, k, 2, a).permute(0, 3, 1, 2) * stride


def decode_depth(log_depth: torch.Tensor,
                 depth_range: Tuple[float, float] = DEPTH_RANGE) -> torch.Tensor:
    """
    Turn the depth head's log-depth into metres.

    :param log_depth: Tensor[...] natural log of the depth in metres (``depth``).
    :param depth_range: (min, max) metres the result is clipped to.
    :return: Tensor[...] float32 ``exp(clip(log_depth, log(min), log(max)))``, metres.
    """
    lo, hi = (math.log(float(v)) for v in depth_range)
    return log_depth.float().clamp(lo, hi).exp()


def keypoint_tables(label_space, device=None) -> Tuple[torch.Tensor, torch.Tensor]:
    """
    Per thing channel, the OKS sigmas and the slots its schema uses.

    :param label_space: a ``schema.LabelSpace``.
    :param device: where to put the result.
    :return: (sigmas Tensor[T, K] float32, 0 for unused slots; used Tensor[T, K] bool).
    """
    sig, used = numpy_ops.keypoint_tables(label_space)
    return torch.from_numpy(sig).to(device), torch.from_numpy(used).to(device)
