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
The launch files' rules: params file vs arguments, the DDS profile, RViz topics.

The rules are plain functions (``hydranet_perception.launch_args``), tested here
everywhere. The tests marked ``needs launch`` run the installed launch files themselves
with ``launch`` / ``launch_ros``, which exist only on a ROS 2 install (not on PyPI):
they skip here, and run under ``colcon test`` there.
"""

import os
import pathlib
import signal
import subprocess
import sys
import textwrap
import time

from hydranet_perception import launch_args
import pytest
import yaml

PKG = pathlib.Path(__file__).resolve().parents[1]
RVIZ = PKG / 'config' / 'hydranet.rviz'
PROFILE_VARS = launch_args.PROFILE_VARIABLES


# ---------------------------------------------------------------- the pure rules

def test_unset_arguments_leave_the_params_file_in_charge():
    assert launch_args.parameter_overrides({}) == {}
    unset = dict.fromkeys(launch_args.PARAMETER_ARGUMENTS, '')
    assert launch_args.parameter_overrides(unset) == {}
    assert launch_args.parameter_overrides(dict(unset, backend='  ')) == {}


def test_set_arguments_override_and_stay_strings():
    got = launch_args.parameter_overrides({
        'weights': '123', 'device': ' cuda:1 ', 'backend': 'openvino',
        'image_transport': 'compressed', 'image': '/cam/image_raw', 'namespace': 'x'})
    assert got == {'weights': '123', 'device': 'cuda:1', 'backend': 'openvino',
                   'image_transport': 'compressed'}
    assert set(launch_args.PARAMETER_ARGUMENTS) == {'weights', 'device', 'backend',
                                                    'image_transport'}


def test_dds_profile_set_or_unset():
    assert launch_args.dds_profile_environment('/p/fastdds.xml') == dict.fromkeys(
        PROFILE_VARS, '/p/fastdds.xml')
    for empty in ('', '  ', None):
        assert launch_args.dds_profile_environment(empty) == dict.fromkeys(PROFILE_VARS)
    assert set(PROFILE_VARS) == {'FASTRTPS_DEFAULT_PROFILES_FILE',
                                 'FASTDDS_DEFAULT_PROFILES_FILE'}


@pytest.mark.parametrize('namespace, pushed, want', [
    ('', None, '/hydranet'),
    ('/', None, '/hydranet'),
    ('robot1', None, '/robot1/hydranet'),
    ('/robot1/', None, '/robot1/hydranet'),
    ('a/b_2', None, '/a/b_2/hydranet'),
    ('cam', 'r2', '/r2/cam/hydranet'),
    ('cam', '/r2/', '/r2/cam/hydranet'),
    ('', 'r2', '/r2/hydranet'),
    ('/abs', 'r2', '/abs/hydranet'),  # an absolute namespace ignores the pushed one
])
def test_topic_prefix_follows_launch_ros_namespace_rules(namespace, pushed, want):
    assert launch_args.node_topic_prefix(namespace, pushed) == want


@pytest.mark.parametrize('namespace', ['1robot', 'a//b', 'a b', 'a-b', 'ns:x', 'a/~'])
def test_invalid_namespace_is_refused(namespace):
    with pytest.raises(ValueError, match='invalid ROS namespace'):
        launch_args.node_topic_prefix(namespace)


def _image_topics(config_text):
    cfg = yaml.safe_load(config_text)
    return {d['Name']: (d['Topic']['Value'], d['Enabled'])
            for d in cfg['Visualization Manager']['Displays']
            if d['Class'] == 'rviz_default_plugins/Image'}


def test_shipped_rviz_config_shows_only_what_rviz_can_display():
    text = RVIZ.read_text()
    topics = _image_topics(text)
    # RViz's Image display refuses 32SC1 (UnsupportedImageEncoding): no panoptic display.
    # The overlay (rgb8) shows the instances and the tinted stuff; semantic is mono8.
    assert sorted(v[0] for v in topics.values()) == ['/hydranet/overlay', '/hydranet/semantic']
    assert [name for name, (_, on) in topics.items() if on] == [
        'Overlay (instances, keypoints, stuff)']
    assert 'panoptic' not in text.split('Panels:', 1)[1]  # only the comment names it


def test_rviz_copy_moves_every_topic_and_nothing_else():
    text = RVIZ.read_text()
    got = launch_args.rviz_config_text(text, '/r2/cam/hydranet')
    assert sorted(v[0] for v in _image_topics(got).values()) == [
        '/r2/cam/hydranet/overlay', '/r2/cam/hydranet/semantic']
    changed = [(a, b) for a, b in zip(text.splitlines(), got.splitlines()) if a != b]
    # overlay, semantic and the 3D markers
    assert len(changed) == 3 and len(got.splitlines()) == len(text.splitlines())
    assert all(a.replace('/hydranet/', '/r2/cam/hydranet/') == b for a, b in changed)
    assert launch_args.rviz_config_text(text, '/hydranet') == text


def test_rviz_copy_refuses_what_would_show_nothing():
    with pytest.raises(ValueError, match='names no'):
        launch_args.rviz_config_text('Displays: []\n', '/x/hydranet')
    for bad in ('x/hydranet', '/x/hydranet/', '/x y/hydranet'):
        with pytest.raises(ValueError, match='prefix'):
            launch_args.rviz_config_text(RVIZ.read_text(), bad)


def test_write_rviz_config(tmp_path):
    path = launch_args.write_rviz_config(str(RVIZ), '/robot1/hydranet', str(tmp_path))
    assert pathlib.Path(path).parent == tmp_path and path.endswith('.rviz')
    assert pathlib.Path(path).read_text() == launch_args.rviz_config_text(
        RVIZ.read_text(), '/robot1/hydranet')
    cams = launch_args.write_rviz_config(str(RVIZ), '/robot1/hydranet', str(tmp_path),
                                         cameras=['front', 'rear'])
    assert cams != path and pathlib.Path(cams).read_text() == \
        launch_args.multi_camera_rviz_text(RVIZ.read_text(), '/robot1/hydranet',
                                           ['front', 'rear'])


def test_remove_at_exit(tmp_path):
    target = tmp_path / 'config.rviz'
    target.write_text('x')
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(PKG)!r})
        from hydranet_perception import launch_args
        launch_args.remove_at_exit({str(target)!r})
        launch_args.remove_at_exit({str(tmp_path / 'already_gone.rviz')!r})
        import os
        assert os.path.exists({str(target)!r})  # removed only at exit
    """)
    assert subprocess.run([sys.executable, '-S', '-c', code]).returncode == 0
    assert not target.exists()


def test_launch_args_needs_only_the_standard_library():
    # `ros2 launch` runs launch files with the system Python, which lacks the venv's
    # packages: -S drops every site-packages folder, leaving the standard library.
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(PKG)!r})
        import hydranet_perception.launch_args
        heavy = {{'numpy', 'torch', 'cv2', 'yaml', 'rclpy', 'launch'}} & set(sys.modules)
        assert not heavy, heavy
    """)
    subprocess.run([sys.executable, '-S', '-c', code], check=True, timeout=60)


# ------------------------------------------------- the launch files (ROS install only)

def _have_launch():
    try:
        import launch  # noqa: F401
        import launch_ros  # noqa: F401
    except ImportError:
        return False
    return True


needs_launch = pytest.mark.skipif(
    not _have_launch(), reason='launch and launch_ros come only with a ROS 2 install '
    '(not on PyPI); the rules they apply are tested above')


def _share():
    from ament_index_python.packages import get_package_share_directory
    return pathlib.Path(get_package_share_directory('hydranet_perception'))


def _walk(launch_file, arguments):
    """
    Visit a launch file as ros2 launch does, recording processes instead of starting them.

    Returns ``[(action, {profile variable: value at its start})]`` in start order, and
    the launch context. Environment actions change ``os.environ`` (as in ros2 launch).
    """
    from launch import LaunchContext, LaunchDescription
    from launch.actions import ExecuteProcess, IncludeLaunchDescription
    from launch.launch_description_sources import PythonLaunchDescriptionSource

    context = LaunchContext()
    started = []

    def visit(entity):
        if isinstance(entity, ExecuteProcess):  # launch_ros Node included
            if entity.condition is None or entity.condition.evaluate(context):
                started.append((entity, {v: os.environ.get(v) for v in PROFILE_VARS}))
            return
        for sub in entity.visit(context) or []:
            visit(sub)

    visit(LaunchDescription([IncludeLaunchDescription(
        PythonLaunchDescriptionSource(str(_share() / 'launch' / launch_file)),
        launch_arguments=list(arguments.items()))]))
    return started, context


@needs_launch
@pytest.mark.parametrize('profile', ['default', ''])
def test_camera_example_sets_the_profile_before_the_driver(monkeypatch, profile):
    for var in PROFILE_VARS:
        monkeypatch.setenv(var, '/from/the/shell.xml')  # restored after the test
    args = {'rviz': 'false'} if profile == 'default' else {'rviz': 'false', 'dds_profile': ''}
    started, _ = _walk('camera_example.launch.py', args)
    packages = [a.node_package for a, _ in started]
    assert packages == ['usb_cam', 'hydranet_perception'], packages
    want = str(_share() / 'config' / 'fastdds_shm.xml') if profile == 'default' else None
    for action, env in started:
        assert env == dict.fromkeys(PROFILE_VARS, want), (action.node_package, env)


@needs_launch
def test_launch_file_remaps_both_transports_and_follows_the_namespace(monkeypatch):
    for var in PROFILE_VARS:
        monkeypatch.delenv(var, raising=False)
    started, context = _walk('hydranet.launch.py', {
        'namespace': 'robot1', 'image': '/cam/image_raw', 'rviz': 'true', 'dds_profile': ''})
    (node, _), (rviz, _) = started
    assert node.node_package == 'hydranet_perception' and rviz.node_package == 'rviz2'
    assert all(env == dict.fromkeys(PROFILE_VARS) for _, env in started)
    node._perform_substitutions(context)
    assert node.expanded_node_namespace == '/robot1'
    remaps = dict(node.expanded_remapping_rules)
    assert remaps['image'] == '/cam/image_raw'
    assert remaps['image/compressed'] == '/cam/image_raw/compressed'
    from launch.utilities import perform_substitutions
    cmd = [perform_substitutions(context, part) for part in rviz.cmd[1:3]]
    assert cmd[0] == '-d'
    topics = _image_topics(pathlib.Path(cmd[1]).read_text())
    assert {t for t, _ in topics.values()} == {
        '/robot1/hydranet/overlay', '/robot1/hydranet/semantic'}


LAUNCHER = """
import sys
from launch import LaunchDescription, LaunchService
from launch.actions import GroupAction, IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch_ros.actions import PushRosNamespace

path, params = sys.argv[1:3]


def include(**args):
    return IncludeLaunchDescription(PythonLaunchDescriptionSource(path), launch_arguments=dict(
        params_file=params, rviz='false', **args).items())


service = LaunchService(noninteractive=True)
service.include_launch_description(LaunchDescription([
    GroupAction([include(namespace='unset')]),
    GroupAction([include(namespace='set', backend='torch', device='auto',
                         weights='/from/argument.pt', image_transport='compressed',
                         dds_profile='')]),
    GroupAction([PushRosNamespace('outer'), include(namespace='inner')]),
]))
sys.exit(service.run())
"""


def _node_environment(namespace):
    """Environment of the running hydranet_node whose command line has ``__ns:=namespace``."""
    for proc in pathlib.Path('/proc').iterdir():
        try:
            argv = (proc / 'cmdline').read_bytes().split(b'\0')
            if any(a.endswith(b'hydranet_node') for a in argv) and \
                    f'__ns:={namespace}'.encode() in argv:
                env = (proc / 'environ').read_bytes().split(b'\0')
                return dict(e.decode().split('=', 1) for e in env if b'=' in e)
        except OSError:
            continue
    return None


def _parameters(node, fqn, names, deadline, launcher):
    from rcl_interfaces.srv import GetParameters
    import rclpy
    client = node.create_client(GetParameters, fqn + '/get_parameters')
    while not client.wait_for_service(timeout_sec=0.5):
        assert launcher.poll() is None, f'the launch ended (exit code {launcher.returncode})'
        assert time.monotonic() < deadline, f'{fqn} did not come up'
    future = client.call_async(GetParameters.Request(names=names))
    rclpy.spin_until_future_complete(node, future,
                                     timeout_sec=max(1.0, deadline - time.monotonic()))
    assert future.done(), f'{fqn}/get_parameters did not answer'
    return {n: v.string_value for n, v in zip(names, future.result().values)}


@needs_launch
def test_params_file_wins_unless_the_argument_is_set(tmp_path):
    import rclpy
    params = tmp_path / 'params.yaml'
    params.write_text(textwrap.dedent("""
        /**:
          ros__parameters:
            autostart: false
            backend: openvino
            device: cpu
            weights: /from/params_file.pt
            image_transport: raw
    """))
    script = tmp_path / 'launcher.py'
    script.write_text(LAUNCHER)
    env = dict(os.environ, FASTRTPS_DEFAULT_PROFILES_FILE='/from/the/shell.xml',
               FASTDDS_DEFAULT_PROFILES_FILE='/from/the/shell.xml')
    launcher = subprocess.Popen(
        [sys.executable, str(script), str(_share() / 'launch' / 'hydranet.launch.py'),
         str(params)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True)
    names = list(launch_args.PARAMETER_ARGUMENTS)
    rclpy.init()
    node = rclpy.create_node('launch_args_probe')
    failure = got = envs = None
    try:
        deadline = time.monotonic() + 120
        got = {fqn: _parameters(node, fqn, names, deadline, launcher)
               for fqn in ('/unset/hydranet', '/set/hydranet', '/outer/inner/hydranet')}
        envs = {ns: _node_environment(ns) for ns in ('/unset', '/set', '/outer/inner')}
    except AssertionError as exc:
        failure = exc
    finally:
        node.destroy_node()
        rclpy.shutdown()
        launcher.send_signal(signal.SIGINT)
        try:
            out = launcher.communicate(timeout=30)[0].decode(errors='replace')
        except subprocess.TimeoutExpired:
            os.killpg(launcher.pid, signal.SIGKILL)  # the launch and the nodes it started
            out = launcher.communicate()[0].decode(errors='replace')
    assert failure is None, f'{failure}\n{out[-3000:]}'
    from_file = {'backend': 'openvino', 'device': 'cpu', 'weights': '/from/params_file.pt',
                 'image_transport': 'raw'}
    assert got['/unset/hydranet'] == from_file, out[-3000:]
    assert got['/outer/inner/hydranet'] == from_file, out[-3000:]
    assert launch_args.node_topic_prefix('inner', 'outer') == '/outer/inner/hydranet'
    assert got['/set/hydranet'] == {'backend': 'torch', 'device': 'auto',
                                    'weights': '/from/argument.pt',
                                    'image_transport': 'compressed'}, out[-3000:]
    profile = str(_share() / 'config' / 'fastdds_shm.xml')
    assert all(envs.values()), envs.keys()
    for ns, want in (('/unset', profile), ('/set', None), ('/outer/inner', profile)):
        assert {v: envs[ns].get(v) for v in PROFILE_VARS} == dict.fromkeys(PROFILE_VARS, want), ns


# ------------------------------------------------- several cameras (multi_camera.launch.py)

@pytest.mark.parametrize('text', ['front,rear', '[front, rear]', "['front', 'rear']",
                                  ' front  rear '])
def test_camera_list_reads_the_usual_spellings(text):
    assert launch_args.camera_list(text) == ['front', 'rear']


@pytest.mark.parametrize('text', ['', '[]', 'front,front', '/front', '1st', 'a/~'])
def test_camera_list_refuses_what_the_node_would(text):
    with pytest.raises(ValueError):
        launch_args.camera_list(text)


def test_camera_remaps_cover_both_transports_and_camera_info():
    assert launch_args.camera_remaps(['front', 'arm/wrist'], '/{camera}/color/image_raw') == [
        ('front/image', '/front/color/image_raw'),
        ('front/image/compressed', '/front/color/image_raw/compressed'),
        ('front/camera_info', '/front/camera_info'),
        ('arm/wrist/image', '/arm/wrist/color/image_raw'),
        ('arm/wrist/image/compressed', '/arm/wrist/color/image_raw/compressed'),
        ('arm/wrist/camera_info', '/arm/wrist/camera_info')]


def test_multi_camera_rviz_shows_every_cameras_overlay():
    got = launch_args.multi_camera_rviz_text(RVIZ.read_text(), '/r2/hydranet',
                                             ['front', 'rear'])
    topics = _image_topics(got)
    assert {n: t for n, (t, on) in topics.items() if on} == {
        'front - Overlay (instances, keypoints, stuff)': '/r2/hydranet/front/overlay',
        'rear - Overlay (instances, keypoints, stuff)': '/r2/hydranet/rear/overlay'}
    assert sorted(t for t, on in topics.values() if not on) == [
        '/r2/hydranet/front/semantic', '/r2/hydranet/rear/semantic']
    cfg = yaml.safe_load(got)  # the rest of the config is the shipped one
    assert cfg['Visualization Manager']['Global Options'] == yaml.safe_load(
        RVIZ.read_text())['Visualization Manager']['Global Options']
    with pytest.raises(ValueError, match='Displays'):
        launch_args.multi_camera_rviz_text('Panels: []\n', '/hydranet', ['front'])


@needs_launch
def test_multi_camera_launch_remaps_every_camera(monkeypatch):
    for var in PROFILE_VARS:
        monkeypatch.delenv(var, raising=False)
    started, context = _walk('multi_camera.launch.py', {
        'cameras': '[front, left]', 'image': '/{camera}/color/image_raw', 'rviz': 'true',
        'max_batch': '2', 'dds_profile': ''})
    (node, _), (rviz, _) = started
    assert node.node_package == 'hydranet_perception' and rviz.node_package == 'rviz2'
    node._perform_substitutions(context)
    remaps = dict(node.expanded_remapping_rules)
    assert remaps['front/image'] == '/front/color/image_raw'
    assert remaps['left/camera_info'] == '/left/camera_info'
    from launch.utilities import perform_substitutions
    cmd = [perform_substitutions(context, part) for part in rviz.cmd[1:3]]
    topics = _image_topics(pathlib.Path(cmd[1]).read_text())
    shown = {t for t, on in topics.values() if on}
    assert shown == {'/hydranet/front/overlay', '/hydranet/left/overlay'}
