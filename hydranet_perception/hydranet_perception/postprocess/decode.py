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
Decoding of the raw head outputs into pixels: ``coder.numpy_ops``, re-exported.

All coordinates are network-input pixels, continuous (pixel edges at integers). The
decoders also take torch tensors (then they return tensors, through ``coder.torch_ops``,
imported only then), for callers that hold tensors.
"""

from typing import Sequence

from hydranet_perception.coder import numpy_ops, STRIDES
from hydranet_perception.coder.numpy_ops import make_anchors
import numpy as np

__all__ = ['anchors_for', 'decode_boxes', 'decode_keypoints', 'make_anchors']


def _is_tensor(x) -> bool:
    return hasattr(x, 'detach')


def _like(anchors, t):
    """Return ``anchors`` as a float32 tensor on the device of tensor ``t``."""
    import torch
    return torch.as_tensor(anchors, device=t.device).float()


def anchors_for(height: int, width: int, strides: Sequence[int] = STRIDES) -> np.ndarray:
    """
    Return the anchors (float32[A, 3]: cx, cy, stride) of an input of the given size.

    :param height: input height in pixels.
    :param width: input width in pixels.
    :param strides: the pyramid strides.
    :return: float32[A, 3].
    """
    return numpy_ops.anchors_for(height, width, strides)


def decode_boxes(box_raw, anchors):
    """
    Turn raw distances into boxes (``coder.numpy_ops.decode_boxes``).

    :param box_raw: float[..., A, 4] raw left, top, right, bottom (array or tensor).
    :param anchors: float[A, 3] centre x, centre y, stride in pixels.
    :return: [..., A, 4] x1, y1, x2, y2 in pixels, a tensor when ``box_raw`` is one.
    """
    if _is_tensor(box_raw):
        from hydranet_perception.coder import torch_ops
        return torch_ops.decode_boxes(box_raw, _like(anchors, box_raw))
    return numpy_ops.decode_boxes(box_raw, anchors)


def decode_keypoints(kpt_raw, anchors):
    """
    Turn raw keypoint outputs into positions and visibilities (``coder.numpy_ops``).

    :param kpt_raw: float[..., A, K, 3] raw dx, dy (in strides) and visibility logit.
    :param anchors: float[A, 3] centre x, centre y, stride in pixels.
    :return: (xy [..., A, K, 2], vis [..., A, K]), tensors when ``kpt_raw`` is one.
    """
    if _is_tensor(kpt_raw):
        from hydranet_perception.coder import torch_ops
        return torch_ops.decode_keypoints(kpt_raw, _like(anchors, kpt_raw))
    return numpy_ops.decode_keypoints(kpt_raw, anchors)
