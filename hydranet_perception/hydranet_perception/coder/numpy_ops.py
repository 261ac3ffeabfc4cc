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

from hydranet_perception.coder import DEPTH_RANGE, STRIDES
import numpy as np

__all__ = ['anchors_for', 'box_distances', 'decode_boxes', 'decode_depth', 'decode_keypoints',
           'DEPTH_RANGE', 'feature_sizes', 'keypoint_tables', 'make_anchors', 'sigmoid',
           'softplus']


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


def box_distances(box_raw: np.ndarray) -> np.ndarray:
    """
    Return the left, top, right, bottom distances, in strides, of raw box outputs.

    :param box_raw: float[..., 4] (softplus coding) or float[..., 4 * R] (DFL coding,
        R > 1 bins per side, side-major); see ``hydranet_perception.coder``.
    :return: float32[..., 4], each >= 0.
    :raises ValueError: when the last dimension is neither 4 nor a multiple of 4 above 4.
    """
    raw = np.asarray(box_raw, np.float32)
    n = raw.shape[-1]
    if n == 4:
        return softplus(raw)
    if n % 4 or n < 8:
        raise ValueError(f'detect_box has {n} values per anchor: expected 4 (softplus) or '
                         '4 * R with R > 1 (DFL)')
    z = raw.reshape(raw.shape[:-1] + (4, n // 4))
    e = np.exp(z - z.max(-1, keepdims=True))
    bins = np.arange(n // 4, dtype=np.float32)
    return ((e * bins).sum(-1) / e.sum(-1)).astype(np.float32, copy=False)


def decode_boxes(box_raw: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """
    Turn raw distances into boxes.

    :param box_raw: float[..., A, 4] or float[..., A, 4 * R] raw left, top, right, bottom
        (``detect_box``; the coding follows from the width, see ``box_distances``).
    :param anchors: float[A, 3] centre x, centre y, stride in pixels.
    :return: float32[..., A, 4] x1, y1, x2, y2 in pixels, where each distance is
        ``box_distances(raw) * stride``.
    """
    anchors = np.asarray(anchors, np.float32)
    d = box_distances(box_raw) * anchors[:, 2:3]
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


def decode_depth(log_depth: np.ndarray,
                 depth_range: Tuple[float, float] = DEPTH_RANGE) -> np.ndarray:
    """
    Turn the depth head's log-depth into metres.

    :param log_depth: float[...] natural log of the depth in metres (``depth``).
    :param depth_range: (min, max) metres the result is clipped to.
    :return: float32[...] ``exp(clip(log_depth, log(min), log(max)))``, metres.
    """
    lo, hi = (np.float32(np.log(float(v))) for v in depth_range)  # as torch rounds them
    x = np.clip(np.asarray(log_depth, np.float32), lo, hi)
    return np.exp(x).astype(np.float32, copy=False)
