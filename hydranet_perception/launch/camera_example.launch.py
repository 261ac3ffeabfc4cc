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
Example: a USB camera (usb_cam) and hydranet_node in one launch, with RViz.

Example: ``ros2 launch hydranet_perception camera_example.launch.py video_device:=/dev/video0``
(needs ``sudo apt install ros-$ROS_DISTRO-usb-cam``). Any driver works the same way:
remap its image and camera_info topics onto the node's ``image`` and ``camera_info``.

The Fast DDS profile (``dds_profile``) is set before the driver starts, so the driver's
900 KB images also go through the 32 MiB shared-memory segment; with the defaults, a
best-effort reader loses nearly all of them. ``dds_profile:=''`` unsets it for every
process. ``device``, ``backend``, ``weights`` and ``image_transport`` are passed on
to ``hydranet.launch.py`` (empty = as in its params file).
"""

import os

from ament_index_python.packages import get_package_share_directory
from hydranet_perception import launch_args
from launch import LaunchDescription
from launch.actions import (DeclareLaunchArgument, IncludeLaunchDescription, OpaqueFunction,
                            SetEnvironmentVariable, UnsetEnvironmentVariable)
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node


def dds_environment(context):
    """Set both Fast DDS profile variables to ``dds_profile``, or unset them when empty."""
    env = launch_args.dds_profile_environment(LaunchConfiguration('dds_profile').perform(context))
    return [UnsetEnvironmentVariable(name) if value is None
            else SetEnvironmentVariable(name, value) for name, value in env.items()]


def generate_launch_description():
    share = get_package_share_directory('hydranet_perception')
    camera = Node(
        package='usb_cam', executable='usb_cam_node_exe', name='camera', namespace='camera',
        parameters=[{'video_device': LaunchConfiguration('video_device'),
                     'image_width': 640, 'image_height': 480, 'framerate': 30.0,
                     'pixel_format': 'yuyv2rgb', 'frame_id': 'camera_optical_frame'}],
    )
    passed = ('dds_profile', 'rviz') + launch_args.PARAMETER_ARGUMENTS
    hydranet = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(os.path.join(share, 'launch', 'hydranet.launch.py')),
        launch_arguments=[('image', '/camera/image_raw'), ('camera_info', '/camera/camera_info')]
        + [(name, LaunchConfiguration(name)) for name in passed],
    )
    return LaunchDescription([
        DeclareLaunchArgument('video_device', default_value='/dev/video0'),
        DeclareLaunchArgument('rviz', default_value='true'),
        DeclareLaunchArgument('dds_profile',
                              default_value=os.path.join(share, 'config', 'fastdds_shm.xml'),
                              description='Fast DDS XML profile for every process of this '
                                          'launch; empty to unset the profile variables'),
    ] + [DeclareLaunchArgument(name, default_value='',
                               description='Passed to hydranet.launch.py; empty = as in its '
                                           'params file')
         for name in launch_args.PARAMETER_ARGUMENTS] + [
        # Before the driver: the environment is read when each process starts.
        OpaqueFunction(function=dds_environment),
        camera, hydranet,
    ])
