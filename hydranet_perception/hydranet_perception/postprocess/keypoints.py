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


"""Keypoint decoding for kept detections, per class schema (numpy)."""

from hydranet_perception.coder.numpy_ops import decode_keypoints, keypoint_tables
import numpy as np

__all__ = ['keypoint_tables', 'keypoints_for_detections']


def keypoints_for_detections(kpt_raw: np.ndarray, anchors: np.ndarray,
                             channels: np.ndarray, used: np.ndarray) -> np.ndarray:
    """
    Decode the keypoints of kept detections in network-input pixels.

    :param kpt_raw: float[N, K, 3] raw keypoint outputs of the kept anchors.
    :param anchors: float[N, 3] their anchors (cx, cy, stride).
    :param channels: int[N] detection channel of each detection.
    :param used: bool[T, K], slots used by each thing channel's schema.
    :return: float32[N, K, 3] x, y in input pixels and score (visibility probability)
        in [0, 1]; slots outside the class's schema are all zero.
    """
    xy, vis = decode_keypoints(kpt_raw, anchors)
    out = np.concatenate([xy, vis[..., None]], -1)
    return out * np.asarray(used)[np.asarray(channels, np.int64)][..., None]
