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


"""Keypoint decoding for kept detections, per class schema."""

from typing import Tuple

from hydranet_perception.postprocess.decode import decode_keypoints
from hydranet_perception.schema import LabelSpace
import torch


def keypoint_tables(label_space: LabelSpace, device=None) -> Tuple[torch.Tensor, torch.Tensor]:
    """
    Per thing channel, the OKS sigmas and the slots its schema uses.

    :return: (sigmas Tensor[T, K] float32, 0 for unused slots; used Tensor[T, K] bool).
    """
    k = label_space.max_keypoints
    sig = torch.zeros((label_space.num_things, k), dtype=torch.float32)
    for j, cid in enumerate(label_space.thing_ids):
        schema = label_space.classes[cid].keypoint_schema
        if schema is not None:
            sig[j, :schema.num_keypoints] = torch.tensor(schema.oks_sigmas())
    used = torch.tensor(label_space.keypoint_mask(), dtype=torch.bool).reshape(-1, k)
    return sig.to(device), used.to(device)


def keypoints_for_detections(kpt_raw: torch.Tensor, anchors: torch.Tensor,
                             channels: torch.Tensor, used: torch.Tensor) -> torch.Tensor:
    """
    Decode the keypoints of kept detections in network-input pixels.

    :param kpt_raw: Tensor[N, K, 3] raw keypoint outputs of the kept anchors.
    :param anchors: Tensor[N, 3] their anchors (cx, cy, stride).
    :param channels: Tensor[N] int64 detection channel of each detection.
    :param used: Tensor[T, K] bool, slots used by each thing channel's schema.
    :return: Tensor[N, K, 3] x, y in input pixels and score (visibility probability) in
        [0, 1]; slots outside the class's schema are all zero.
    """
    xy, vis = decode_keypoints(kpt_raw, anchors)
    out = torch.cat([xy, vis[..., None]], -1)
    return out * used[channels][..., None].to(out.dtype)
