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
The package as users meet it: installed into the venv, built by colcon, declared.

Declared: the dependencies as a ROS 2 install gets them, rosdep keys in package.xml and
pip packages in requirements/ros.txt.
"""

import ast
from importlib import metadata
import os
import pathlib
import re
import shutil
import subprocess
import sys
import sysconfig
import xml.etree.ElementTree as ET

import pytest

PKG = pathlib.Path(__file__).resolve().parents[1]
REPO = PKG.parent
PREFIX = pathlib.Path(sys.prefix)
# Console scripts the package must provide (grows with the CLIs).
REQUIRED_SCRIPTS = {'hydranet_node', 'hydranet-bag', 'hydranet-demo', 'hydranet-train',
                    'hydranet-eval', 'hydranet-export', 'hydranet-import',
                    'hydranet-distill'}
SHARE_FILES = ['package.xml', 'launch/hydranet.launch.py', 'launch/camera_example.launch.py',
               'config/hydranet.yaml',
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
        # colcon run by a venv's Python writes scripts that start that Python: how the
        # README's ROS install path gets torch (in the venv) into the node's process.
        first = (lib / name).read_text().splitlines()[0]
        assert first == '#!' + os.path.abspath(sys.executable), (name, first)
    pattern = 'hydranet_perception_msgs/msg/_instance.py'
    msgs_py = list((inst / 'hydranet_perception_msgs').rglob(pattern))
    assert msgs_py, 'generated Python messages missing from the colcon install'


# ------------------------------------------------ dependencies on a ROS 2 install
# Where each third-party module the package imports comes from on a ROS 2 install:
# a rosdep key (package.xml) or a pip package (requirements/ros.txt, installed into a
# --system-site-packages venv; README, "With ROS 2 installed"). A new import fails
# test_every_import_is_declared until it is added here and declared.
ROSDEP_MODULES = {
    'numpy': 'python3-numpy', 'yaml': 'python3-yaml', 'tqdm': 'python3-tqdm',
    'pytest': 'python3-pytest', 'catkin_pkg': 'python3-catkin-pkg',
    'hypothesis': 'python3-hypothesis',
    **{name: name for name in (
        'rclpy', 'std_msgs', 'sensor_msgs', 'diagnostic_msgs', 'std_srvs', 'lifecycle_msgs',
        'rcl_interfaces', 'builtin_interfaces', 'rosgraph_msgs', 'ament_index_python',
        'geometry_msgs', 'visualization_msgs', 'launch', 'launch_ros', 'launch_testing',
        'launch_testing_ros',
        'ament_copyright', 'ament_flake8', 'ament_pep257', 'hydranet_perception_msgs')},
}
PIP_MODULES = {
    'torch': 'torch', 'torchvision': 'torchvision', 'cv2': 'opencv-python-headless',
    'onnx': 'onnx', 'onnxruntime': 'onnxruntime', 'openvino': 'openvino',
    'pycocotools': 'pycocotools', 'rosbags': 'rosbags', 'mcap': 'mcap',
    'matplotlib': 'matplotlib', 'scipy': 'scipy', 'numpy': 'numpy',
}
# rosdep keys checked in ros/rosdistro (commit 8468e88, 2026-08-22): packages released
# in jazzy/distribution.yaml, and rosdep/python.yaml keys that resolve on Ubuntu 24.04.
KNOWN_ROSDEP_KEYS = {
    'rclpy', 'std_msgs', 'sensor_msgs', 'diagnostic_msgs', 'std_srvs', 'lifecycle_msgs',
    'rcl_interfaces', 'builtin_interfaces', 'rosgraph_msgs', 'ament_index_python', 'launch',
    'launch_ros', 'launch_testing', 'launch_testing_ros', 'rviz2', 'ament_copyright',
    'geometry_msgs', 'visualization_msgs',
    'ament_flake8', 'ament_pep257', 'ament_xmllint', 'ament_cmake',
    'rosidl_default_generators', 'rosidl_default_runtime', 'python3-numpy', 'python3-yaml',
    'python3-tqdm', 'python3-pytest', 'python3-catkin-pkg', 'python3-hypothesis',
}
# Keys that exist but bring what the project cannot use: the distribution's old torch and
# torchvision (the pins are in requirements/ros.txt), OpenCV 4, and a matplotlib and scipy
# built for numpy 1 (numpy 2 and OpenCV 5 come from requirements/ros.txt); also *-pip
# keys, which rosdep installs with pip into the system Python (refused by PEP 668 on
# Ubuntu 24.04).
UNUSABLE_KEYS = {'python3-torch', 'python3-torchvision', 'python3-opencv',
                 'python3-matplotlib', 'python3-scipy'}
WORKSPACE_PACKAGES = {'hydranet_perception', 'hydranet_perception_msgs'}
ROS_REQUIREMENTS = REPO / 'requirements' / 'ros.txt'
# Never declared: imported only inside functions that refuse with a reason (or tests that
# skip) when absent. ultralytics: AGPL-3.0, bench-only (requirements/bench.txt), read by
# hydranet-import.
OPTIONAL_MODULES = {'ultralytics'}


def _depends(tags):
    root = ET.parse(PKG / 'package.xml').getroot()
    return [e.text.strip() for e in root if e.tag in tags]


def _requirements(path):
    """``{normalised name: pinned version or None}`` of a pip requirements file."""
    out = {}
    for line in path.read_text().splitlines():
        line = line.split('#')[0].strip()
        if not line or line.startswith('-'):
            continue
        m = re.match(r'([A-Za-z0-9._-]+)(\[[^]]*\])?\s*(==\s*([^;\s]+))?', line)
        out[re.sub(r'[-_.]+', '-', m.group(1)).lower()] = m.group(4)
    return out


def _third_party_imports(files, local=()):
    """``{top-level module: [files]}`` of the absolute imports that are not stdlib/local."""
    skip = set(sys.stdlib_module_names) | WORKSPACE_PACKAGES - {'hydranet_perception_msgs'}
    skip |= set(local) | OPTIONAL_MODULES
    found = {}
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split('.')[0]
                if top not in skip:
                    found.setdefault(top, []).append(path.name)
    return found


def _check_declared(imports, keys, pip):
    problems = []
    for module, where in sorted(imports.items()):
        key, dist = ROSDEP_MODULES.get(module), PIP_MODULES.get(module)
        if key is None and dist is None:
            problems.append(f'{module} (imported by {sorted(set(where))}): unknown; declare '
                            'it in package.xml or requirements/ros.txt, and map it here')
        elif key not in keys and dist not in pip:
            problems.append(f'{module} (imported by {sorted(set(where))}): neither '
                            f'{key} in package.xml nor {dist} in requirements/ros.txt')
    return problems


def test_every_import_is_declared():
    pip = set(_requirements(ROS_REQUIREMENTS))
    runtime = sorted((PKG / 'hydranet_perception').rglob('*.py')) + sorted(
        (PKG / 'launch').glob('*.py'))
    exec_keys = set(_depends({'depend', 'exec_depend'}))
    problems = _check_declared(_third_party_imports(runtime), exec_keys, pip)
    tests = sorted((PKG / 'test').rglob('*.py'))
    local = {p.stem for p in tests}
    test_keys = exec_keys | set(_depends({'depend', 'test_depend'}))
    problems += _check_declared(_third_party_imports(tests, local), test_keys, pip)
    assert not problems, '\n'.join(problems)


def test_rosdep_keys_exist_and_are_usable():
    keys = _depends({'depend', 'build_depend', 'exec_depend', 'test_depend',
                     'buildtool_depend', 'build_export_depend'})
    assert not UNUSABLE_KEYS & set(keys), UNUSABLE_KEYS & set(keys)
    assert not [k for k in keys if k.endswith('-pip')]
    unknown = set(keys) - KNOWN_ROSDEP_KEYS - WORKSPACE_PACKAGES
    assert not unknown, f'rosdep keys not checked against rosdistro: {unknown}'
    assert 'rviz2' in _depends({'exec_depend'}), 'hydranet.launch.py starts rviz2'


def test_ros_requirements_pin_what_the_tests_ran_with():
    ros = _requirements(ROS_REQUIREMENTS)
    pinned = _requirements(REPO / 'requirements' / 'constraints.txt')
    assert not [n for n in ros if n.startswith('ros-')], 'ROS comes from the system there'
    assert all(ros.values()), f'unpinned: {[n for n, v in ros.items() if not v]}'
    differ = {n: (v, pinned[n]) for n, v in ros.items() if n in pinned and pinned[n] != v}
    assert not differ, f'requirements/ros.txt vs constraints.txt: {differ}'
    # setuptools: colcon builds with the venv's; 80 dropped `setup.py develop --editable`.
    assert 77 <= int(ros['setuptools'].split('.')[0]) < 80, ros['setuptools']
    readme = (REPO / 'README.md').read_text()
    section = readme.split('## With ROS 2 installed', 1)[1].split('\n## ', 1)[0]
    for needed in ('--system-site-packages', 'requirements/ros.txt', 'rosdep install',
                   '-m colcon build'):
        assert needed in section, needed
