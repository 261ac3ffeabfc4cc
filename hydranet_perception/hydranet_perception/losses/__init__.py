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


"""Losses: one pure function per task, label assignment, and task balancing."""

from hydranet_perception.losses.assign import assign, Assignment
from hydranet_perception.losses.balancing import build_balancer, FixedWeighting, \
    UncertaintyWeighting
from hydranet_perception.losses.compute import compute_losses, thing_channels
from hydranet_perception.losses.depth import depth_loss
from hydranet_perception.losses.detection import detection_loss
from hydranet_perception.losses.identity import identity_loss
from hydranet_perception.losses.keypoints import keypoint_loss, keypoint_tables
from hydranet_perception.losses.masks import mask_loss
from hydranet_perception.losses.semantic import semantic_loss

__all__ = ['assign', 'Assignment', 'build_balancer', 'compute_losses', 'depth_loss',
           'detection_loss', 'FixedWeighting', 'identity_loss', 'keypoint_loss',
           'keypoint_tables', 'mask_loss', 'semantic_loss', 'thing_channels',
           'UncertaintyWeighting']
