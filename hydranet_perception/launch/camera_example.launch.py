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

"""Example: a USB camera (usb_cam) and hydranet_node in one launch, with RViz.

Example: ``ros2 launch hydranet_perception camera_example.launch.py video_device:=/dev/video0``
(needs ``sudo apt install ros-$ROS_DISTRO-usb-cam``). Any driver works the same way:
remap its image and camera_info topics onto the node's ``image`` and ``camera_info``.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node


def generate_launch_description():
    share = get_package_share_directory('hydranet_perception')
    camera = Node(
        package='usb_cam', executable='usb_cam_node_exe', name='camera', namespace='camera',
        parameters=[{'video_device': LaunchConfiguration('video_device'),
                     'image_width': 640, 'image_height': 480, 'framerate': 30.0,
                     'pixel_format': 'yuyv2rgb', 'frame_id': 'camera_optical_frame'}],
    )
    hydranet = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(os.path.join(share, 'launch', 'hydranet.launch.py')),
        launch_arguments={'image': '/camera/image_raw', 'camera_info': '/camera/camera_info',
                          'device': LaunchConfiguration('device'),
                          'rviz': LaunchConfiguration('rviz')}.items(),
    )
    return LaunchDescription([
        DeclareLaunchArgument('video_device', default_value='/dev/video0'),
        DeclareLaunchArgument('device', default_value='auto'),
        DeclareLaunchArgument('rviz', default_value='true'),
        camera, hydranet,
    ])
