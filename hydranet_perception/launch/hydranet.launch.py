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

"""Launch hydranet_node next to a camera driver, optionally with RViz.

Example: ``ros2 launch hydranet_perception hydranet.launch.py
image:=/camera/image_raw camera_info:=/camera/camera_info device:=cuda:0 rviz:=true``
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, SetEnvironmentVariable
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node


def generate_launch_description():
    share = get_package_share_directory('hydranet_perception')
    args = [
        DeclareLaunchArgument('image', default_value='image',
                              description='Input image topic (sensor_msgs/Image)'),
        DeclareLaunchArgument('camera_info', default_value='camera_info',
                              description='Input camera info topic'),
        DeclareLaunchArgument('params_file',
                              default_value=os.path.join(share, 'config', 'hydranet.yaml'),
                              description='Node parameters (YAML)'),
        DeclareLaunchArgument('weights', default_value='',
                              description='Checkpoint or ONNX file; empty = shipped weights'),
        DeclareLaunchArgument('device', default_value='auto',
                              description='auto, cpu or cuda:N'),
        DeclareLaunchArgument('backend', default_value='auto',
                              description='auto, torch, onnxruntime, openvino or tensorrt'),
        DeclareLaunchArgument('namespace', default_value='',
                              description='Namespace of the node'),
        DeclareLaunchArgument('rviz', default_value='false',
                              description='Start RViz with the overlay and panoptic map'),
        DeclareLaunchArgument('dds_profile',
                              default_value=os.path.join(share, 'config', 'fastdds_shm.xml'),
                              description='Fast DDS XML profile (32 MiB shared memory for '
                                          'images); empty to keep the defaults'),
    ]
    profile = LaunchConfiguration('dds_profile')
    node = Node(
        package='hydranet_perception',
        executable='hydranet_node',
        name='hydranet',
        namespace=LaunchConfiguration('namespace'),
        parameters=[LaunchConfiguration('params_file'), {
            'weights': LaunchConfiguration('weights'),
            'device': LaunchConfiguration('device'),
            'backend': LaunchConfiguration('backend'),
        }],
        remappings=[('image', LaunchConfiguration('image')),
                    ('image/compressed', [LaunchConfiguration('image'), '/compressed']),
                    ('camera_info', LaunchConfiguration('camera_info'))],
        output='screen',
        emulate_tty=True,
    )
    rviz = Node(
        package='rviz2', executable='rviz2', name='rviz2',
        arguments=['-d', os.path.join(share, 'config', 'hydranet.rviz')],
        condition=IfCondition(LaunchConfiguration('rviz')),
    )
    return LaunchDescription(args + [
        SetEnvironmentVariable('FASTRTPS_DEFAULT_PROFILES_FILE', profile),
        SetEnvironmentVariable('FASTDDS_DEFAULT_PROFILES_FILE', profile),
        node, rviz,
    ])
