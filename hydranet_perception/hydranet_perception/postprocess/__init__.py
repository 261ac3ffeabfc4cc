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
Postprocessing outside the network: decode, NMS, masks, keypoints, panoptic fusion.

numpy and OpenCV only (importing it imports no torch); ``postprocess`` takes the raw
outputs of any backend, as arrays or tensors.
"""

from hydranet_perception.postprocess.decode import anchors_for, decode_boxes, \
    decode_keypoints, make_anchors
from hydranet_perception.postprocess.letterbox import boxes_to_input, boxes_to_original, \
    keypoints_to_input, keypoints_to_original, labels_to_size, letterbox, letterbox_info, \
    LetterboxInfo, map_to_original, mask_to_input, mask_to_original, warp_to_original, \
    working_info
from hydranet_perception.postprocess.masks import assemble_masks
from hydranet_perception.postprocess.nms import nms, select_candidates
from hydranet_perception.postprocess.panoptic import panoptic_fusion
from hydranet_perception.postprocess.pipeline import postprocess

__all__ = ['anchors_for', 'assemble_masks', 'boxes_to_input', 'boxes_to_original',
           'decode_boxes', 'decode_keypoints', 'keypoints_to_input', 'keypoints_to_original',
           'labels_to_size', 'letterbox', 'letterbox_info', 'LetterboxInfo', 'make_anchors',
           'map_to_original', 'mask_to_input', 'mask_to_original', 'nms', 'panoptic_fusion',
           'postprocess', 'select_candidates', 'warp_to_original', 'working_info']
