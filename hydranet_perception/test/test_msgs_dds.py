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

"""Every custom message crosses DDS between two processes with its fields intact."""

import pathlib
import subprocess
import sys

from builtin_interfaces.msg import Time
from geometry_msgs.msg import Point, Vector3
from hydranet_perception.masks import encode_rle
from hydranet_perception_msgs.msg import (Instance, Instance3D, InstanceArray, InstanceArray3D,
                                          Keypoint, Keypoint3D, KeypointSchema, ModelInfo,
                                          PanopticInfo, PanopticSegment)
import numpy as np
import pytest
from rclpy.serialization import deserialize_message, serialize_message
from std_msgs.msg import Header

PEER = str(pathlib.Path(__file__).parent / 'peers' / 'dds_peer.py')


def _header():
    return Header(stamp=Time(sec=1764400000, nanosec=123456789), frame_id='camera_optical')


def _instance(i):
    mask = np.zeros((48, 64), bool)
    mask[5 + i:20, 3:30] = True
    mask[10:12, 10:12] = False  # a hole
    mask[40:48, 60:64] = True  # a second part touching the border
    return Instance(
        id=7 + i, track_id=3 * i, class_id=4, class_name='instrument', score=0.875,
        x_min=3.0, y_min=5.5, x_max=64.0, y_max=48.0, mask_height=48, mask_width=64,
        mask_rle=encode_rle(mask).tolist(),
        keypoints=[Keypoint(index=k, x=1.5 * k, y=2.25 * k, score=0.5) for k in range(4)])


def _samples():
    seg = PanopticSegment(id=9, class_id=1, class_name='wall', is_thing=False, area=1234,
                          score=0.5)
    schema = KeypointSchema(class_id=4, name='instrument',
                            keypoint_names=['tip', 'joint', 'handle_left', 'handle_right'],
                            skeleton=[0, 1, 1, 2, 1, 3], sigmas=[0.025, 0.035, 0.05, 0.05])
    kp3 = Keypoint3D(index=0, position=Point(x=-0.125, y=0.5, z=1.75), valid=True)
    inst3 = Instance3D(id=2, track_id=7, class_id=4, class_name='instrument', score=0.75,
                       source=Instance3D.SOURCE_DEPTH_CAMERA,
                       position=Point(x=0.25, y=-0.5, z=2.0),
                       extent=Vector3(x=0.3, y=0.05, z=0.02), valid_depth_pixels=1234,
                       keypoints=[kp3, Keypoint3D(index=1, valid=False)])
    return {
        'Keypoint3D': kp3,
        'Instance3D': inst3,
        'InstanceArray3D': InstanceArray3D(header=_header(), instances=[inst3, Instance3D()]),
        'Keypoint': Keypoint(index=16, x=639.5, y=0.5, score=0.25),
        'KeypointSchema': schema,
        'Instance': _instance(0),
        'InstanceArray': InstanceArray(header=_header(), image_height=48, image_width=64,
                                       instances=[_instance(0), _instance(1)]),
        'PanopticSegment': seg,
        'PanopticInfo': PanopticInfo(header=_header(), image_height=480, image_width=640,
                                     segments=[seg, PanopticSegment(id=10, is_thing=True)]),
        'ModelInfo': ModelInfo(
            header=_header(), model_name='hydranet-n', weights_path='/w.pt',
            weights_sha256='ab' * 32, backend='torch', device='cpu',
            tasks=['detect', 'masks'], input_height=480, input_width=640,
            class_names=['floor', 'instrument'], class_is_thing=[False, True],
            keypoint_schemas=[schema]),
    }


@pytest.mark.parametrize('name', sorted(_samples()))
def test_message_round_trip_between_processes(name, tmp_path):
    msg = _samples()[name]
    msg_type = type(msg)
    src, dst = tmp_path / 'src.bin', tmp_path / 'dst.bin'
    src.write_bytes(serialize_message(msg))
    type_name = f'hydranet_perception_msgs/msg/{name}'
    topic = f'/roundtrip/{name.lower()}'
    echo = subprocess.Popen([sys.executable, PEER, 'echo', type_name, topic, str(dst), '20'])
    pub = subprocess.Popen([sys.executable, PEER, 'pub', type_name, topic, str(src), '20'])
    try:
        assert echo.wait(timeout=30) == 0, f'{name}: nothing received over DDS in 20 s'
    finally:
        pub.kill()
        pub.wait()
    received = deserialize_message(dst.read_bytes(), msg_type)
    assert received == msg
    assert received is not msg


def test_samples_cover_every_message_file():
    msg_dir = pathlib.Path(__file__).resolve().parents[2] / 'hydranet_perception_msgs' / 'msg'
    names = {p.stem for p in msg_dir.glob('*.msg')}
    assert names and names == set(_samples())
