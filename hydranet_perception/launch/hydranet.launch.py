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
Launch hydranet_node next to a camera driver, optionally with RViz.

Example: ``ros2 launch hydranet_perception hydranet.launch.py
image:=/camera/image_raw camera_info:=/camera/camera_info device:=cuda:0 rviz:=true``

With a depth camera, ``depth:=/camera/aligned_depth_to_color/image_raw`` (an aligned
depth image, 16UC1 mm or 32FC1 m) turns on ``~/instances_3d`` and ``~/markers``; its
CameraInfo is ``depth_camera_info:=`` or else the depth topic's sibling ``camera_info``.

The params file (``params_file:=``, default ``config/hydranet.yaml``) decides every
parameter; ``weights``, ``device``, ``backend`` and ``image_transport`` override it only
when given on the command line (their default, empty, means "as in the params file").
The rules live in ``hydranet_perception.launch_args`` (unit-tested without ROS).
"""

import os

from ament_index_python.packages import get_package_share_directory
from hydranet_perception import launch_args
from launch import LaunchDescription
from launch.actions import (DeclareLaunchArgument, OpaqueFunction, SetEnvironmentVariable,
                            UnsetEnvironmentVariable)
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

NOT_SET = 'empty = as in the params file'


def dds_environment(context):
    """Set both Fast DDS profile variables to ``dds_profile``, or unset them when empty."""
    env = launch_args.dds_profile_environment(LaunchConfiguration('dds_profile').perform(context))
    return [UnsetEnvironmentVariable(name) if value is None
            else SetEnvironmentVariable(name, value) for name, value in env.items()]


def node_and_rviz(context):
    """Build the node (params file, then only the arguments that were set) and RViz."""
    share = get_package_share_directory('hydranet_perception')
    performed = {name: LaunchConfiguration(name).perform(context)
                 for name in launch_args.PARAMETER_ARGUMENTS}
    overrides = launch_args.parameter_overrides(performed)
    depth_params, depth_remaps = launch_args.depth_arguments(
        LaunchConfiguration('depth').perform(context),
        LaunchConfiguration('depth_camera_info').perform(context))
    overrides.update(depth_params)
    params_file = LaunchConfiguration('params_file').perform(context)
    namespace = LaunchConfiguration('namespace').perform(context)
    image = LaunchConfiguration('image').perform(context)
    node = Node(
        package='hydranet_perception',
        executable='hydranet_node',
        name=launch_args.NODE_NAME,
        namespace=namespace,
        parameters=[params_file] + ([overrides] if overrides else []),
        # The node subscribes to one of these, chosen by its image_transport parameter.
        remappings=[('image', image),
                    ('image/compressed', image.rstrip('/') + '/compressed'),
                    ('camera_info', LaunchConfiguration('camera_info').perform(context))]
        + depth_remaps,
        output='screen',
        emulate_tty=True,
    )
    if not IfCondition(LaunchConfiguration('rviz')).evaluate(context):
        return [node]
    # RViz gets a copy of the config whose topics follow the node's namespace.
    prefix = launch_args.node_topic_prefix(
        namespace, context.launch_configurations.get('ros_namespace'))
    rviz_config = launch_args.write_rviz_config(
        os.path.join(share, 'config', 'hydranet.rviz'), prefix)
    launch_args.remove_at_exit(rviz_config)
    rviz = Node(package='rviz2', executable='rviz2', name='rviz2',
                arguments=['-d', rviz_config])
    return [node, rviz]


def generate_launch_description():
    share = get_package_share_directory('hydranet_perception')
    args = [
        DeclareLaunchArgument('image', default_value='image',
                              description='Input image topic (sensor_msgs/Image); '
                                          '<image>/compressed is the CompressedImage topic'),
        DeclareLaunchArgument('camera_info', default_value='camera_info',
                              description='Input camera info topic'),
        DeclareLaunchArgument('depth', default_value='',
                              description='Aligned depth image topic (16UC1 mm or 32FC1 m, '
                                          'registered to <image>); empty = as in the params '
                                          'file (by default no depth: 2D only)'),
        DeclareLaunchArgument('depth_camera_info', default_value='',
                              description="The depth image's CameraInfo topic (empty = the "
                                          "depth topic's sibling camera_info)"),
        DeclareLaunchArgument('params_file',
                              default_value=os.path.join(share, 'config', 'hydranet.yaml'),
                              description='Node parameters (YAML)'),
        DeclareLaunchArgument('weights', default_value='',
                              description=f'Checkpoint or ONNX file ({NOT_SET})'),
        DeclareLaunchArgument('device', default_value='',
                              description=f'auto, cpu or cuda:N ({NOT_SET})'),
        DeclareLaunchArgument('backend', default_value='',
                              choices=['', 'auto', 'torch', 'onnxruntime', 'openvino',
                                       'tensorrt'],
                              description=f'Inference backend ({NOT_SET})'),
        DeclareLaunchArgument('image_transport', default_value='',
                              choices=['', 'raw', 'compressed'],
                              description='Subscribe to <image> (raw) or <image>/compressed '
                                          f'({NOT_SET})'),
        DeclareLaunchArgument('namespace', default_value='',
                              description='Namespace of the node'),
        DeclareLaunchArgument('rviz', default_value='false',
                              description='Start RViz with the overlay and the 3D markers (and '
                                          'the semantic map, off by default)'),
        DeclareLaunchArgument('dds_profile',
                              default_value=os.path.join(share, 'config', 'fastdds_shm.xml'),
                              description='Fast DDS XML profile (32 MiB shared memory for '
                                          'images); empty to unset the profile variables'),
    ]
    return LaunchDescription(args + [
        OpaqueFunction(function=dds_environment),
        OpaqueFunction(function=node_and_rviz),
    ])
