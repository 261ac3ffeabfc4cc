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
Multi-object tracking of the node's instances (numpy and scipy only, no ROS).

``Trackers`` keeps one ``Tracker`` per camera; see ``tracker`` for the contract,
``costs`` for the association cues and ``kalman`` for the motion model.
"""

from hydranet_perception.tracking.cameras import Trackers
from hydranet_perception.tracking.config import TrackerConfig
from hydranet_perception.tracking.costs import box_iou, cosine_distance, crop_masks, fuse, \
    keypoint_sigmas, mask_iou, MaskCrop, oks
from hydranet_perception.tracking.kalman import cxcywh_to_xyxy, KalmanBoxFilter, \
    xyxy_to_cxcywh
from hydranet_perception.tracking.tracker import CONFIRMED, LOST, TENTATIVE, Tracker

__all__ = ['box_iou', 'CONFIRMED', 'cosine_distance', 'crop_masks', 'cxcywh_to_xyxy', 'fuse',
           'KalmanBoxFilter', 'keypoint_sigmas', 'LOST', 'mask_iou', 'MaskCrop', 'oks',
           'TENTATIVE', 'Tracker', 'TrackerConfig', 'Trackers', 'xyxy_to_cxcywh']
