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

"""The node's depth input without a graph: decoding, topic names, parameters."""

import pathlib

from hydranet_perception import launch_args
from hydranet_perception.prediction import Prediction
from hydranet_perception.ros import params
from hydranet_perception.ros.depth_input import camera_info_topic, depth_array, DepthProblem
from hydranet_perception.ros.messages3d import instance_array_3d_msg
from hydranet_perception.schema import default_label_space
from hydranet_perception_msgs.msg import Instance3D
import numpy as np
import pytest
from sensor_msgs.msg import Image
from std_msgs.msg import Header
import yaml

RVIZ = pathlib.Path(__file__).parents[1] / 'config' / 'hydranet.rviz'


def _msg(arr, encoding, *, step=None, big=False, data=None):
    h, w = arr.shape[:2]
    if big:
        arr = arr.astype(arr.dtype.newbyteorder('>'))
    raw = np.ascontiguousarray(arr).tobytes() if data is None else data
    return Image(height=h, width=w, encoding=encoding, is_bigendian=int(big),
                 step=int(arr.strides[0]) if step is None else step, data=raw)


@pytest.mark.parametrize('encoding,dtype', [('16UC1', np.uint16), ('mono16', np.uint16),
                                            ('32FC1', np.float32)])
@pytest.mark.parametrize('big', [False, True])
def test_depth_images_decode_to_native_arrays(encoding, dtype, big):
    rng = np.random.default_rng(0)
    arr = (rng.random((5, 7)) * 4000).astype(dtype)
    out = depth_array(_msg(arr, encoding, big=big))
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    np.testing.assert_array_equal(out, arr)


def test_padded_rows_are_read_by_step():
    arr = np.arange(12, dtype=np.uint16).reshape(3, 4)
    padded = np.zeros((3, 6), np.uint16)
    padded[:, :4] = arr
    out = depth_array(_msg(arr, '16UC1', step=12, data=padded.tobytes()))
    np.testing.assert_array_equal(out, arr)


@pytest.mark.parametrize('make', [
    lambda: _msg(np.zeros((2, 2, 3), np.uint8), 'rgb8'),  # a colour image
    lambda: _msg(np.zeros((2, 2), np.uint8), '8UC1'),
    lambda: _msg(np.zeros((2, 2), np.uint16), '16UC1', step=2),  # short step
    lambda: _msg(np.zeros((2, 2), np.uint16), '16UC1', data=bytes(6)),  # truncated
    lambda: Image(height=0, width=0, encoding='16UC1', step=0, data=b''),
])
def test_what_is_not_a_depth_image_is_refused_by_kind(make):
    with pytest.raises(DepthProblem) as e:
        depth_array(make())
    assert e.value.kind == 'depth_encoding'


def test_camera_info_is_the_image_topics_sibling():
    assert camera_info_topic('depth/image') == 'depth/camera_info'
    assert camera_info_topic('front/aligned_depth/image_raw') == \
        'front/aligned_depth/camera_info'
    assert camera_info_topic('depth') == 'camera_info'  # as image_transport names it


def test_depth_parameters_validate_and_match_the_shipped_yaml():
    for good in ('', 'depth/image', 'aligned_depth_to_color/image_raw'):
        assert params.validate('depth_topic', good) is None
    for bad in ('/camera/depth', '~/depth', 'depth//image', '1depth', 'depth/'):
        assert 'relative to the camera' in params.validate('depth_topic', bad)
    assert 'outside' in params.validate('depth_slop_s', 2.0)
    assert 'outside' in params.validate('depth_queue_size', 0)
    path = pathlib.Path(__file__).parents[1] / 'config' / 'hydranet.yaml'
    shipped = yaml.safe_load(path.read_text())['/**']['ros__parameters']
    for name in ('depth_topic', 'depth_slop_s', 'depth_queue_size'):
        assert shipped[name] == params.SPECS[name].default, name
    assert params.depth_input({'depth_topic': ''}.get) is None
    values = {'depth_topic': 'depth/image', 'depth_queue_size': 3, 'depth_slop_s': 0.01,
              'no_image_warning': 4.0}
    assert params.depth_input(values.get) == {'topic': 'depth/image', 'queue_size': 3,
                                              'slop_s': 0.01, 'silent_after_s': 4.0}
    assert set(params.CONFIGURE_PARAMS) >= {'depth_topic', 'depth_slop_s', 'depth_queue_size'}


def test_launch_depth_arguments_set_the_topic_and_remap_it_with_its_camera_info():
    assert launch_args.depth_arguments('') == ({}, [])
    assert launch_args.depth_arguments('  ') == ({}, [])
    params_, remaps = launch_args.depth_arguments('/camera/aligned_depth_to_color/image_raw')
    assert params_ == {'depth_topic': 'depth/image'}
    assert remaps == [('depth/image', '/camera/aligned_depth_to_color/image_raw'),
                      ('depth/camera_info', '/camera/aligned_depth_to_color/camera_info')]
    _, remaps = launch_args.depth_arguments('/d/image', '/d/info')
    assert remaps[1] == ('depth/camera_info', '/d/info')
    _, remaps = launch_args.depth_arguments('/{camera}/depth/image_raw', cameras=['front', 'rear'])
    assert dict(remaps) == {'front/depth/image': '/front/depth/image_raw',
                            'front/depth/camera_info': '/front/depth/camera_info',
                            'rear/depth/image': '/rear/depth/image_raw',
                            'rear/depth/camera_info': '/rear/depth/camera_info'}
    # the node's own depth_topic is what the remaps name
    assert params.validate('depth_topic', launch_args.DEPTH_TOPIC) is None
    assert camera_info_topic(launch_args.DEPTH_TOPIC) == 'depth/camera_info'


def _marker_displays(text):
    """Return {display name: (topic, enabled)} of the MarkerArray displays of an RViz config."""
    doc = yaml.safe_load(text)
    return {d['Name']: (d['Topic']['Value'], d['Enabled'])
            for d in doc['Visualization Manager']['Displays']
            if d['Class'] == 'rviz_default_plugins/MarkerArray'}


def test_rviz_shows_the_markers_beside_the_overlay_for_any_namespace_and_cameras():
    text = RVIZ.read_text()
    assert _marker_displays(text) == {'3D instances (markers)': ('/hydranet/markers', True)}
    moved = launch_args.rviz_config_text(text, '/robot1/hydranet')
    assert _marker_displays(moved) == {
        '3D instances (markers)': ('/robot1/hydranet/markers', True)}
    cams = launch_args.multi_camera_rviz_text(text, '/r2/hydranet', ['front', 'rear'])
    assert _marker_displays(cams) == {
        'front - 3D instances (markers)': ('/r2/hydranet/front/markers', True),
        'rear - 3D instances (markers)': ('/r2/hydranet/rear/markers', True)}
    # the marker namespaces the display lists are those markers.py publishes
    doc = yaml.safe_load(text)
    shown = [d for d in doc['Visualization Manager']['Displays']
             if d['Class'] == 'rviz_default_plugins/MarkerArray'][0]['Namespaces']
    assert set(shown) == {'instances', 'labels', 'skeletons'}


@pytest.mark.parametrize('source,want', [('depth_camera', Instance3D.SOURCE_DEPTH_CAMERA),
                                         ('monocular_head', Instance3D.SOURCE_MONOCULAR)])
def test_instances_3d_say_where_their_depth_came_from(source, want):
    pred = Prediction(image_size=(4, 4), boxes=np.array([[0, 0, 2, 2]], np.float32),
                      scores=np.ones(1, np.float32), class_ids=np.zeros(1, np.int64),
                      positions=np.ones((1, 3), np.float32),
                      extents=np.ones((1, 3), np.float32),
                      depth_pixels=np.array([4], np.int32), depth_source=source)
    msg = instance_array_3d_msg(pred, default_label_space(), Header(frame_id='cam'))
    assert [i.source for i in msg.instances] == [want]
