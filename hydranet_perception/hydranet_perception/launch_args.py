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
The decisions of the launch files, as plain functions (no ROS, no launch imports).

``launch/hydranet.launch.py`` and ``launch/camera_example.launch.py`` call these from
``OpaqueFunction``s, so the rules below are unit-tested without a ROS install:

- node parameters given as launch arguments override the params file only when the
  user set them (an empty argument means "not set", so the YAML wins);
- ``dds_profile`` sets both Fast DDS profile variables, or unsets them when empty;
- the RViz config follows the node's fully-qualified name (namespace included);
- ``multi_camera.launch.py``: the ``cameras`` argument as a list, each camera's topics
  remapped from a pattern, and an RViz config with every camera's overlay;
- ``depth`` (the driver's aligned depth image, a pattern with ``{camera}`` for several
  cameras) turns the node's depth input on (``depth_topic``) and remaps it and its
  CameraInfo (by default the sibling ``camera_info`` of the depth topic).

Standard library only: ``ros2 launch`` runs launch files with the system Python.
"""

import atexit
import contextlib
import os
import re
import tempfile
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

NODE_NAME = 'hydranet'
# Launch arguments that stand for node parameters of the same name (all strings).
# Default '' = not set: the params file decides.
PARAMETER_ARGUMENTS = ('weights', 'device', 'backend', 'image_transport')
# Fast DDS reads the first (Fast DDS 2.x, Humble/Jazzy) or the second (3.x) variable.
PROFILE_VARIABLES = ('FASTRTPS_DEFAULT_PROFILES_FILE', 'FASTDDS_DEFAULT_PROFILES_FILE')
# The node's depth_topic when a launch file is given a depth topic (then remapped to it).
DEPTH_TOPIC = 'depth/image'
# The node's topic prefix as written in config/hydranet.rviz (a node in the root namespace).
RVIZ_TOPIC_PREFIX = '/' + NODE_NAME
_TOKEN = re.compile(r'[A-Za-z_][A-Za-z0-9_]*\Z')
_RVIZ_TOPIC = re.compile(r'^(\s*Value:\s*)' + re.escape(RVIZ_TOPIC_PREFIX) + r'(/\S+)\s*$',
                         re.MULTILINE)


def parameter_overrides(arguments: Mapping[str, str]) -> Dict[str, str]:
    """
    Return the node parameters that launch arguments set, to be applied after the YAML.

    :param arguments: launch argument name -> value as performed (strings).
    :return: ``{name: value}`` for each of ``PARAMETER_ARGUMENTS`` whose value is not empty
        (surrounding blanks ignored); arguments not listed there are ignored. Values stay
        strings (``weights:=123`` is the file ``123``, not an integer).
    """
    out = {}
    for name in PARAMETER_ARGUMENTS:
        value = str(arguments.get(name, '') or '').strip()
        if value:
            out[name] = value
    return out


def dds_profile_environment(profile: str) -> Dict[str, Optional[str]]:
    """
    Return ``{variable: value}`` for the Fast DDS profile; ``None`` means unset it.

    An empty (or blank) ``profile`` unsets both variables instead of setting them to an
    empty string, which Fast DDS would try to parse as an XML file name.
    """
    value = (profile or '').strip() or None
    return {name: value for name in PROFILE_VARIABLES}


def node_namespace(namespace: str = '', pushed_namespace: Optional[str] = None) -> str:
    """
    Return the absolute namespace a node gets, as launch_ros resolves it.

    :param namespace: the node's ``namespace`` (absolute, relative or empty).
    :param pushed_namespace: the namespace pushed around the include (``PushRosNamespace``,
        the ``ros_namespace`` launch configuration), or ``None``.
    :raises ValueError: a namespace that ROS would refuse (empty token, a token starting
        with a digit, characters other than letters, digits, ``_`` and ``/``).
    """
    ns = (namespace or '').strip()
    base = (pushed_namespace or '').strip()
    if base and not ns.startswith('/'):
        ns = base.rstrip('/') + '/' + ns if ns else base
    tokens = ns.strip('/').split('/') if ns.strip('/') else []
    for token in tokens:
        if not _TOKEN.match(token):
            raise ValueError(f'invalid ROS namespace {namespace!r} (pushed: '
                             f'{pushed_namespace!r}): token {token!r} must match '
                             '[A-Za-z_][A-Za-z0-9_]*')
    return '/' + '/'.join(tokens)


def node_topic_prefix(namespace: str = '', pushed_namespace: Optional[str] = None,
                      node_name: str = NODE_NAME) -> str:
    """
    Return the prefix of the node's private topics (``~/x`` is ``<prefix>/x``).

    Examples: ``''`` -> ``/hydranet``; ``'robot1'`` or ``'/robot1/'`` ->
    ``/robot1/hydranet``; ``'cam'`` pushed under ``'r2'`` -> ``/r2/cam/hydranet``.
    """
    ns = node_namespace(namespace, pushed_namespace)
    return ns.rstrip('/') + '/' + node_name


def rviz_config_text(template: str, prefix: str) -> str:
    """
    Return the RViz config ``template`` with its node topics moved under ``prefix``.

    Every display topic written as ``Value: /hydranet/<topic>`` becomes
    ``Value: <prefix>/<topic>``; everything else is kept byte for byte.

    :raises ValueError: the template names no ``/hydranet/...`` topic (it would silently
        show nothing), or ``prefix`` is not an absolute topic prefix.
    """
    if not prefix.startswith('/') or prefix.endswith('/') or any(c.isspace() for c in prefix):
        raise ValueError(f'not an absolute topic prefix: {prefix!r}')
    text, count = _RVIZ_TOPIC.subn(lambda m: m.group(1) + prefix + m.group(2), template)
    if count == 0:
        raise ValueError(f'the RViz config names no {RVIZ_TOPIC_PREFIX}/... topic')
    return text


def write_rviz_config(template_path: str, prefix: str, directory: Optional[str] = None, *,
                      cameras: Optional[Sequence[str]] = None) -> str:
    """
    Write the RViz config for the node's topics to a new temporary file.

    ``rviz_config_text`` of the file ``template_path``, or with ``cameras`` (named
    cameras of one node) ``multi_camera_rviz_text``.

    :return: The path of the new file (``hydranet_*.rviz`` in ``directory`` or the system's
        temporary folder); the caller removes it when done (``remove_at_exit``).
    """
    with open(template_path, encoding='utf-8') as f:
        template = f.read()
    text = (multi_camera_rviz_text(template, prefix, cameras) if cameras
            else rviz_config_text(template, prefix))
    fd, path = tempfile.mkstemp(prefix='hydranet_', suffix='.rviz', dir=directory)
    with os.fdopen(fd, 'w', encoding='utf-8') as f:
        f.write(text)
    return path


def remove_at_exit(path: str):
    """Remove the file ``path`` when the process exits (if it is still there)."""
    def remove():
        with contextlib.suppress(OSError):
            os.remove(path)
    atexit.register(remove)


def camera_list(text: str) -> List[str]:
    """
    Parse the ``cameras`` launch argument: ``front,left``, ``[front, left]`` or ``front left``.

    :return: the camera namespaces, in order.
    :raises ValueError: no camera, a name twice, or a name that is not a relative namespace.
    """
    names = [n.strip('\'" ') for n in re.split(r'[,\s]+', text.strip().strip('[]'))]
    names = [n for n in names if n]
    if not names:
        raise ValueError(f'cameras {text!r}: name at least one camera, e.g. front,left')
    for n in names:
        if not all(_TOKEN.match(t) for t in n.split('/')):
            raise ValueError(f'camera {n!r} is not a relative ROS namespace')
    if len(set(names)) != len(names):
        raise ValueError(f'cameras {text!r} names a camera twice')
    return names


def camera_remaps(cameras: Sequence[str], image: str = '/{camera}/image_raw',
                  camera_info: str = '/{camera}/camera_info') -> List[Tuple[str, str]]:
    """
    Return the node's remappings for ``cameras``: ``<camera>/image`` etc. to the driver's.

    :param image: the driver's image topic, ``{camera}`` standing for the name;
        ``<image>/compressed`` is its CompressedImage topic.
    :param camera_info: the driver's CameraInfo topic, likewise.
    """
    remaps = []
    for c in cameras:
        topic = image.format(camera=c)
        remaps += [(f'{c}/image', topic), (f'{c}/image/compressed', topic + '/compressed'),
                   (f'{c}/camera_info', camera_info.format(camera=c))]
    return remaps


def sibling_camera_info(image_topic: str) -> str:
    """Return the CameraInfo topic beside an image topic (``/a/image`` -> ``/a/camera_info``)."""
    head, sep, _ = image_topic.strip().rstrip('/').rpartition('/')
    return f'{head}{sep}camera_info'


def depth_arguments(depth: str, depth_camera_info: str = '',
                    cameras: Optional[Sequence[str]] = None
                    ) -> Tuple[Dict[str, str], List[Tuple[str, str]]]:
    """
    Return the node's parameter overrides and remappings for a ``depth`` launch argument.

    :param depth: the driver's aligned depth image topic; with ``cameras``, a pattern
        where ``{camera}`` stands for each name. Empty (or blank): no depth.
    :param depth_camera_info: its CameraInfo topic (a pattern likewise); empty: the
        sibling ``camera_info`` of the depth topic.
    :param cameras: the node's camera namespaces, or None for the single camera.
    :return: ``({'depth_topic': 'depth/image'}, remaps)``, or ``({}, [])`` without depth.
    """
    depth, info = (depth or '').strip(), (depth_camera_info or '').strip()
    if not depth:
        return {}, []
    remaps = []
    for c in (cameras or ['']):
        topic = depth.format(camera=c)
        prefix = f'{c}/' if c else ''
        remaps += [(prefix + DEPTH_TOPIC, topic),
                   (prefix + sibling_camera_info(DEPTH_TOPIC),
                    info.format(camera=c) if info else sibling_camera_info(topic))]
    return {'depth_topic': DEPTH_TOPIC}, remaps


def multi_camera_rviz_text(template: str, prefix: str, cameras: Sequence[str]) -> str:
    """
    Return the RViz config ``template`` with its displays repeated for every camera.

    Each camera gets a copy of the template's displays (overlay shown, semantic off),
    named ``<camera> - <name>`` and reading ``<prefix>/<camera>/<topic>``.

    :raises ValueError: a template without a ``Displays:`` list (see ``rviz_config_text``).
    """
    head, sep, rest = template.partition('\n  Displays:\n')
    block, end, tail = rest.partition('\n  Enabled: true\n')
    if not sep or not end:
        raise ValueError('the RViz config has no Visualization Manager Displays list')
    blocks = [re.sub(r'^(\s*Name: )', lambda m: f'{m.group(1)}{c} - ',
                     rviz_config_text(block, f'{prefix}/{c}'), flags=re.MULTILINE)
              for c in cameras]
    return head + sep + '\n'.join(blocks) + end + tail
