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
launch_testing: hydranet.launch.py + ``ros2 bag play`` of the sample bag.

For ROS 2 installs (``colcon test``). Skips here: launch, launch_testing and ros2 bag
cannot be installed without ROS; test_bag_integration.py runs the same check with the
node's console script and hydranet-bag play / record in separate processes.
"""

import os
import time
import unittest

import pytest

launch_testing = pytest.importorskip(
    'launch_testing', reason='launch_testing and ros2 bag need a ROS 2 install; '
    'test_bag_integration.py covers the bag playback through the node here')

from ament_index_python.packages import get_package_share_directory  # noqa: E402, I100
from hydranet_perception_msgs.msg import InstanceArray  # noqa: E402
from launch import LaunchDescription  # noqa: E402
from launch.actions import ExecuteProcess, IncludeLaunchDescription, TimerAction  # noqa: E402
from launch.launch_description_sources import PythonLaunchDescriptionSource  # noqa: E402
import launch_testing.actions  # noqa: E402
import rclpy  # noqa: E402


@pytest.mark.launch_test
def generate_test_description():
    share = get_package_share_directory('hydranet_perception')
    node = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(os.path.join(share, 'launch', 'hydranet.launch.py')),
        # The sample bag holds JPEG frames (sensor_msgs/CompressedImage) on
        # /camera/image_raw/compressed: the node subscribes to that one transport.
        launch_arguments={'image': '/camera/image_raw', 'camera_info': '/camera/camera_info',
                          'image_transport': 'compressed', 'device': 'cpu'}.items())
    play = ExecuteProcess(cmd=['ros2', 'bag', 'play', os.path.join(share, 'data', 'sample_bag'),
                               '--rate', '0.5'], output='screen')
    return LaunchDescription([node, TimerAction(period=10.0, actions=[play]),
                              launch_testing.actions.ReadyToTest()])


class TestBagThroughLaunchedNode(unittest.TestCase):

    def test_instances_carry_bag_stamps(self):
        rclpy.init()
        node = rclpy.create_node('launch_bag_probe')
        got = []
        node.create_subscription(InstanceArray, '/hydranet/instances', got.append, 50)
        deadline = time.monotonic() + 60
        while len(got) < 10 and time.monotonic() < deadline:
            rclpy.spin_once(node, timeout_sec=0.5)
        node.destroy_node()
        rclpy.shutdown()
        self.assertGreaterEqual(len(got), 10)
        self.assertTrue(all(m.header.frame_id == 'camera_optical_frame' for m in got))
        self.assertTrue(all(m.header.stamp.sec >= 1764400000 for m in got))
