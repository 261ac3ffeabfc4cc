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
Camera geometry (numpy + OpenCV, no ROS): pixels to rays, depth to 3D points.

Frames and units follow REP-103: the camera optical frame has x right, y down and
z forward, in metres.
"""

from hydranet_perception.geometry.camera import CameraInfo, CameraModelError, PinholeCamera
from hydranet_perception.geometry.lift import (depth_in_metres, DepthError, lift_instances,
                                               lift_keypoints)

__all__ = ['CameraInfo', 'CameraModelError', 'DepthError', 'PinholeCamera', 'depth_in_metres',
           'lift_instances', 'lift_keypoints']
