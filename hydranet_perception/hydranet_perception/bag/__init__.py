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
Recorded-bag tooling: synthetic camera bags, reading, info, play and record.

* ``io`` (no ROS): ``write_synthetic_bag``, ``read_bag``, ``iter_raw``, ``bag_info``,
  ``format_info``, ``read_ground_truth``, ``open_writer``;
* ``typestore`` (no ROS): the rosbags typestore that knows ``hydranet_perception_msgs``;
* ``cli``: the ``hydranet-bag`` command (write, info, play, record); play and record
  live next to the node (``hydranet_perception.ros.bag_cli``, ``bag_player``,
  ``bag_recorder``, rclpy), and ``cli`` hands them their arguments by module name.

Bags are rosbag2 folders as ``ros2 bag record -s mcap`` writes them (metadata version 9),
so ``ros2 bag info|play`` read what these tools write, and the other way round.
"""

from hydranet_perception.bag.bag_io import (bag_info, BagMessage, format_info, GT_FILE, iter_raw,
                                            open_writer, RawMessage, read_bag, read_ground_truth,
                                            TOPIC_CAMERA_INFO, TOPIC_COMPRESSED, TOPIC_IMAGE,
                                            write_synthetic_bag)
from hydranet_perception.bag.typestore import ensure_types, get_typestore

__all__ = ['BagMessage', 'GT_FILE', 'RawMessage', 'TOPIC_CAMERA_INFO', 'TOPIC_COMPRESSED',
           'TOPIC_IMAGE', 'bag_info', 'ensure_types', 'format_info', 'get_typestore',
           'iter_raw', 'open_writer', 'read_bag', 'read_ground_truth', 'write_synthetic_bag']
