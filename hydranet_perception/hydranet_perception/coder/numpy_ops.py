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
Anchors and decoding in numpy (see ``hydranet_perception.coder``); no torch.

Each function returns float32 and matches ``coder.torch_ops`` to float32 rounding.
"""

from typing import Sequence, Tuple

from hydranet_perception.coder import STRIDES
import numpy as np

__all__ = ['anchors_for', 'decode_boxes', 'decode_keypoints', 'feature_sizes',
           'keypoint_tables', 'make_anchors', 'sigmoid', 'softplus']


def feature_sizes(height: int, width: int,
                  strides: Sequence[int] = STRIDES) -> Sequence[Tuple[int, int]]:
    """
    Return the (h, w) of each level's feature map for an input of the given size.

    :param height: input height in pixels.
    :param width: input width in pixels.
    :param strides: the pyramid strides.
    :return: ``(ceil(height / s), ceil(width / s))`` per stride.
    """
    return [((height + s - 1) // s, (width + s - 1) // s) for s in strides]


def make_anchors(sizes: Sequence[Tuple[int, int]], strides: Sequence[int]) -> np.ndarray:
    """
    Return the anchor points of feature maps of the given sizes.

    :param sizes: (h, w) of each level's feature map.
    :param strides: the stride of each level.
    :return: float32[A, 3]: centre x, centre y and stride, in pixels.
    """
    out = [np.zeros((0, 3), np.float32)]
    for (h, w), s in zip(sizes, strides):
        ys = (np.arange(h, dtype=np.float32) + np.float32(0.5)) * np.float32(s)
        xs = (np.arange(w, dtype=np.float32) + np.float32(0.5)) * np.float32(s)
        yy, xx = np.meshgrid(ys, xs, indexing='ij')
        out.append(np.stack([xx, yy, np.full_like(xx, s)], -1).reshape(-1, 3))
    return np.concatenate(out, 0)


def anchors_for(height: int, width: int, strides: Sequence[int] = STRIDES) -> np.ndarray:
    """
    Return the anchors of an input of the given size.

    :param height: input height in pixels.
    :param width: input width in pixels.
    :param strides: the pyramid strides.
    :return: float32[A, 3]: centre x, centre y and stride, in pixels.
    """
    return make_anchors(feature_sizes(height, width, strides), strides)


def softplus(x: np.ndarray) -> np.ndarray:
    """
    Return ``log(1 + exp(x))`` in float32, ``x`` itself above 20 (like torch's).

    :param x: any float array.
    :return: float32 array of the same shape.
    """
    x = np.asarray(x, np.float32)
    return np.where(x > 20.0, x, np.log1p(np.exp(np.minimum(x, np.float32(20.0)))))


def sigmoid(x: np.ndarray) -> np.ndarray:
    """
    Return ``1 / (1 + exp(-x))`` in float32, without overflow for any ``x``.

    :param x: any float array.
    :return: float32 array of the same shape, in [0, 1].
    """
    x = np.asarray(x, np.float32)
    e = np.exp(-np.abs(x))  # in (0, 1]
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(np.float32, copy=False)


def decode_boxes(box_raw: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """
    Turn raw distances into boxes.

    :param box_raw: float[..., A, 4] raw left, top, right, bottom (``detect_box``).
    :param anchors: float[A, 3] centre x, centre y, stride in pixels.
    :return: float32[..., A, 4] x1, y1, x2, y2 in pixels, where each distance is
        ``softplus(raw) * stride``.
    """
    anchors = np.asarray(anchors, np.float32)
    d = softplus(box_raw) * anchors[:, 2:3]
    c = anchors[:, :2]
    return np.concatenate([c - d[..., :2], c + d[..., 2:]], -1)


def decode_keypoints(kpt_raw: np.ndarray,
                     anchors: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """
    Turn raw keypoint outputs into positions and visibility probabilities.

    :param kpt_raw: float[..., A, K, 3] raw dx, dy (in strides) and visibility logit.
    :param anchors: float[A, 3] centre x, centre y, stride in pixels.
    :return: (xy float32[..., A, K, 2] x, y in pixels (``cx + dx * stride``),
        vis float32[..., A, K] visibility in [0, 1]).
    """
    raw = np.asarray(kpt_raw, np.float32)
    anchors = np.asarray(anchors, np.float32)
    xy = anchors[:, None, :2] + raw[..., :2] * anchors[:, None, 2:3]
    return xy, sigmoid(raw[..., 2])


def keypoint_tables(label_space) -> Tuple[np.ndarray, np.ndarray]:
    """
    Per thing channel, the OKS sigmas and the slots its schema uses.

    :param label_space: a ``schema.LabelSpace``.
    :return: (sigmas float32[T, K], 0 for unused slots; used bool[T, K]).
    """
    k = label_space.max_keypoints
    sig = np.zeros((label_space.num_things, k), np.float32)
    for j, cid in enumerate(label_space.thing_ids):
        schema = label_space.classes[cid].keypoint_schema
        if schema is not None:
            sig[j, :schema.num_keypoints] = np.asarray(schema.oks_sigmas(), np.float32)
    used = np.asarray(label_space.keypoint_mask(), bool).reshape(-1, k)
    return sig, used
