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
launch_testing: hydranet.launch.py brings the node up and it answers a frame.

Runs under ``colcon test`` on a ROS 2 install. Here (no ``launch`` or
``launch_testing`` on PyPI or Debian 12) it skips; test_node.py covers the same
behaviour by starting the node's console script with a params file and remaps.
"""

import os
import time
import unittest

import pytest

launch_testing = pytest.importorskip(
    'launch_testing', reason='launch_testing is not installable without a ROS 2 install; '
    'test_node.py covers the node process, params file and remaps here')

from ament_index_python.packages import get_package_share_directory  # noqa: E402, I100
from hydranet_perception_msgs.msg import InstanceArray  # noqa: E402
from launch import LaunchDescription  # noqa: E402
from launch.actions import IncludeLaunchDescription  # noqa: E402
from launch.launch_description_sources import PythonLaunchDescriptionSource  # noqa: E402
import launch_testing.actions  # noqa: E402
import numpy as np  # noqa: E402
import rclpy  # noqa: E402
from sensor_msgs.msg import Image  # noqa: E402


@pytest.mark.launch_test
def generate_test_description():
    share = get_package_share_directory('hydranet_perception')
    launch = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(os.path.join(share, 'launch', 'hydranet.launch.py')),
        launch_arguments={'image': '/launch_test/image', 'device': 'cpu'}.items())
    return LaunchDescription([launch, launch_testing.actions.ReadyToTest()])


class TestNodeAnswers(unittest.TestCase):

    def test_instances_for_a_frame(self):
        rclpy.init()
        node = rclpy.create_node('launch_test_probe')
        got = []
        node.create_subscription(InstanceArray, '/hydranet/instances', got.append, 10)
        pub = node.create_publisher(Image, '/launch_test/image', 10)
        img = Image(height=240, width=320, encoding='rgb8', step=960,
                    data=np.zeros((240, 320, 3), np.uint8).tobytes())
        img.header.frame_id = 'launch_test'
        deadline = time.monotonic() + 60
        while not got and time.monotonic() < deadline:
            pub.publish(img)
            rclpy.spin_once(node, timeout_sec=0.5)
        node.destroy_node()
        rclpy.shutdown()
        self.assertTrue(got, 'no InstanceArray from the launched node')
        self.assertEqual(got[0].header.frame_id, 'launch_test')
