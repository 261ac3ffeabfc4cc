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

"""The package as users meet it: installed into the venv, and built by colcon."""

from importlib import metadata
import os
import pathlib
import shutil
import subprocess
import sys
import sysconfig

import pytest

PKG = pathlib.Path(__file__).resolve().parents[1]
REPO = PKG.parent
PREFIX = pathlib.Path(sys.prefix)
# Console scripts the package must provide (grows with the CLIs).
REQUIRED_SCRIPTS = {'hydranet_node', 'hydranet-bag', 'hydranet-demo', 'hydranet-train',
                    'hydranet-eval', 'hydranet-export'}
SHARE_FILES = ['package.xml', 'launch/hydranet.launch.py', 'config/hydranet.yaml',
               'config/fastdds_shm.xml', 'config/hydranet.rviz', 'config/train_n.yaml',
               'data/sample_bag/metadata.yaml', 'data/sample_bag/sample_bag.mcap']


def _declared_scripts():
    eps = metadata.distribution('hydranet_perception').entry_points
    return {ep.name for ep in eps if ep.group == 'console_scripts'}


def test_installed_share_files():
    share = PREFIX / 'share' / 'hydranet_perception'
    for rel in SHARE_FILES:
        assert (share / rel).is_file(), f'{rel} not installed under {share}'
    marker = PREFIX / 'share' / 'ament_index' / 'resource_index' / 'packages'
    assert (marker / 'hydranet_perception').is_file()
    assert (marker / 'hydranet_perception_msgs').is_file()


def test_ament_index_finds_the_package():
    from ament_index_python.packages import get_package_share_directory
    os.environ['AMENT_PREFIX_PATH'] = str(PREFIX)
    share = pathlib.Path(get_package_share_directory('hydranet_perception'))
    assert (share / 'config' / 'hydranet.yaml').is_file()


def test_console_scripts_installed():
    declared = _declared_scripts()
    assert REQUIRED_SCRIPTS <= declared, REQUIRED_SCRIPTS - declared
    bindir = pathlib.Path(sysconfig.get_path('scripts'))
    for name in declared:
        assert os.access(bindir / name, os.X_OK), f'{name} not executable in {bindir}'


def test_installed_package_is_importable_without_ros_in_core():
    # The core must import without rclpy: run in a process where rclpy is unavailable.
    code = ('import sys; sys.modules["rclpy"] = None\n'
            'import hydranet_perception.schema, hydranet_perception.masks\n'
            'import hydranet_perception.prediction\n')
    subprocess.run([sys.executable, '-c', code], check=True)


@pytest.mark.skipif(shutil.which('colcon', path=str(pathlib.Path(sys.executable).parent))
                    is None, reason='colcon is not installed in this venv')
def test_colcon_builds_both_packages(tmp_path):
    ws = tmp_path / 'ws'
    (ws / 'src').mkdir(parents=True)
    for name in ('hydranet_perception', 'hydranet_perception_msgs'):
        shutil.copytree(REPO / name, ws / 'src' / name,
                        ignore=shutil.ignore_patterns('__pycache__', '*.egg-info', 'build'))
    env = dict(os.environ, AMENT_PREFIX_PATH=str(PREFIX), CMAKE_PREFIX_PATH=str(PREFIX))
    colcon = str(pathlib.Path(sys.executable).parent / 'colcon')
    res = subprocess.run(
        [colcon, 'build', '--event-handlers', 'console_cohesion-',
         '--cmake-args', f'-DPython3_EXECUTABLE={sys.executable}', '-DBUILD_TESTING=OFF'],
        cwd=ws, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-4000:]
    inst = ws / 'install'
    share = inst / 'hydranet_perception' / 'share' / 'hydranet_perception'
    for rel in SHARE_FILES:
        assert (share / rel).is_file(), rel
    lib = inst / 'hydranet_perception' / 'lib' / 'hydranet_perception'
    for name in _declared_scripts():
        assert (lib / name).is_file(), f'ros2 run would not find {name} in {lib}'
    pattern = 'hydranet_perception_msgs/msg/_instance.py'
    msgs_py = list((inst / 'hydranet_perception_msgs').rglob(pattern))
    assert msgs_py, 'generated Python messages missing from the colcon install'
