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
Launch one hydranet_node serving several cameras with one model (batched), optionally RViz.

Example: ``ros2 launch hydranet_perception multi_camera.launch.py
cameras:=[front,left,right] image:=/{camera}/image_raw rviz:=true``

The node reads ``<camera>/image`` (or ``<camera>/image/compressed``) and
``<camera>/camera_info`` for every camera, remapped here from the ``image`` and
``camera_info`` patterns (``{camera}`` stands for the name), and publishes each camera's
outputs under ``~/<camera>/`` (e.g. ``/hydranet/front/overlay``). The params file decides
every other parameter; ``max_batch`` and the arguments of hydranet.launch.py override it
only when set. ``depth:=/{camera}/aligned_depth_to_color/image_raw`` gives every camera
its aligned depth image (and 3D outputs under ``~/<camera>/``). RViz shows each
camera's overlay and 3D markers. The rules live in
``hydranet_perception.launch_args`` (unit-tested without ROS).
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
    """Build the node (params file, the cameras, the arguments that were set) and RViz."""
    share = get_package_share_directory('hydranet_perception')

    def arg(name):
        return LaunchConfiguration(name).perform(context)
    cameras = launch_args.camera_list(arg('cameras'))
    overrides = launch_args.parameter_overrides(
        {name: arg(name) for name in launch_args.PARAMETER_ARGUMENTS})
    overrides['cameras'] = cameras
    depth_params, depth_remaps = launch_args.depth_arguments(
        arg('depth'), arg('depth_camera_info'), cameras)
    overrides.update(depth_params)
    if arg('max_batch').strip():
        overrides['max_batch'] = int(arg('max_batch'))
    namespace = arg('namespace')
    node = Node(
        package='hydranet_perception',
        executable='hydranet_node',
        name=launch_args.NODE_NAME,
        namespace=namespace,
        parameters=[arg('params_file'), overrides],
        remappings=launch_args.camera_remaps(cameras, arg('image'), arg('camera_info'))
        + depth_remaps,
        output='screen',
        emulate_tty=True,
    )
    if not IfCondition(LaunchConfiguration('rviz')).evaluate(context):
        return [node]
    prefix = launch_args.node_topic_prefix(
        namespace, context.launch_configurations.get('ros_namespace'))
    rviz_config = launch_args.write_rviz_config(
        os.path.join(share, 'config', 'hydranet.rviz'), prefix, cameras=cameras)
    launch_args.remove_at_exit(rviz_config)
    rviz = Node(package='rviz2', executable='rviz2', name='rviz2',
                arguments=['-d', rviz_config])
    return [node, rviz]


def generate_launch_description():
    share = get_package_share_directory('hydranet_perception')
    args = [
        DeclareLaunchArgument('cameras', default_value='[front, rear]',
                              description='Camera namespaces, e.g. [front, left, right]'),
        DeclareLaunchArgument('image', default_value='/{camera}/image_raw',
                              description="Each camera driver's image topic ({camera}: its "
                                          'name); <image>/compressed is its CompressedImage'),
        DeclareLaunchArgument('camera_info', default_value='/{camera}/camera_info',
                              description="Each camera driver's CameraInfo topic"),
        DeclareLaunchArgument('depth', default_value='',
                              description="Each camera's aligned depth image topic ({camera}: "
                                          'its name); empty = as in the params file'),
        DeclareLaunchArgument('depth_camera_info', default_value='',
                              description="Each depth image's CameraInfo (empty = the depth "
                                          "topic's sibling camera_info)"),
        DeclareLaunchArgument('max_batch', default_value='',
                              description=f'Most frames in one batch ({NOT_SET})'),
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
                              description=f'raw or compressed, for every camera ({NOT_SET})'),
        DeclareLaunchArgument('namespace', default_value='',
                              description='Namespace of the node'),
        DeclareLaunchArgument('rviz', default_value='false',
                              description="Start RViz with every camera's overlay"),
        DeclareLaunchArgument('dds_profile',
                              default_value=os.path.join(share, 'config', 'fastdds_shm.xml'),
                              description='Fast DDS XML profile (32 MiB shared memory for '
                                          'images); empty to unset the profile variables'),
    ]
    return LaunchDescription(args + [
        OpaqueFunction(function=dds_environment),
        OpaqueFunction(function=node_and_rviz),
    ])
