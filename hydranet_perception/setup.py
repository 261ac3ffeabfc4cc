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

"""ament_python package: the HydraNet core, the ROS 2 node, launch files and tools."""

from glob import glob
import os

from setuptools import find_packages, setup

package_name = 'hydranet_perception'

setup(
    name=package_name,
    version='0.1.0',
    packages=find_packages(exclude=['test']),
    package_data={package_name: ['weights/*.pt', 'weights/*.json']},
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + package_name]),
        (os.path.join('share', package_name), ['package.xml']),
        (os.path.join('share', package_name, 'launch'), glob('launch/*.py')),
        (os.path.join('share', package_name, 'config'),
         glob('config/*.yaml') + glob('config/*.rviz') + glob('config/*.xml')),
        (os.path.join('share', package_name, 'data', 'sample_bag'), glob('data/sample_bag/*')),
        (os.path.join('share', package_name, 'data', 'sample_depth_bag'),
         glob('data/sample_depth_bag/*')),
    ],
    install_requires=['setuptools'],
    zip_safe=False,
    maintainer='hydranet_perception maintainers',
    maintainer_email='maintainers@hydranet-perception.dev',
    description='One multi-task network for instance masks, panoptic maps and keypoints '
                'from ROS 2 camera topics.',
    license='Apache-2.0',
    extras_require={'test': ['pytest']},
    entry_points={
        'console_scripts': [
            'hydranet_node = hydranet_perception.ros.node:main',
            'hydranet-bag = hydranet_perception.bag.cli:main',
            'hydranet-demo = hydranet_perception.ros.demo:main',
            'hydranet-train = hydranet_perception.engine.train:main',
            'hydranet-eval = hydranet_perception.engine.evaluate:main',
            'hydranet-export = hydranet_perception.engine.export:main',
            'hydranet-import = hydranet_perception.model.import_yolov8:main',
            'hydranet-distill = hydranet_perception.engine.distill:main',
        ],
    },
)
