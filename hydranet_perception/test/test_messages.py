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

"""Building messages from a Prediction and reading them back (no ROS graph needed)."""

import os
import subprocess
import sys

from hydranet_perception.prediction import Prediction, Segment
from hydranet_perception.ros.messages import (decode_instances, instance_array_msg,
                                              label_space_from_model_info, model_info_msg,
                                              panoptic_info_msg)
from hydranet_perception.schema import default_label_space
import numpy as np
from std_msgs.msg import Header

LS = default_label_space()


def _prediction():
    h, w = 30, 40
    masks = np.zeros((2, h, w), bool)
    masks[0, 2:10, 3:12] = True
    masks[0, 4:6, 5:7] = False
    masks[1, 20:30, 30:40] = True
    kps = np.zeros((2, LS.max_keypoints, 3), np.float32)
    kps[0, :17] = np.stack([np.arange(17) + 0.5, np.arange(17) * 2.0,
                            np.linspace(0, 1, 17)], axis=1)
    kps[1, :4] = [[1, 2, 0.9], [3, 4, 0.8], [5, 6, 0.7], [7, 8, 0.6]]
    panoptic = np.zeros((h, w), np.int32)
    panoptic[masks[0]] = 5
    panoptic[masks[1]] = 6
    panoptic[panoptic == 0] = 1
    segs = [Segment(id=1, class_id=0, is_thing=False, area=int((panoptic == 1).sum())),
            Segment(id=6, class_id=4, is_thing=True, area=100, score=0.6, instance_index=1),
            Segment(id=5, class_id=3, is_thing=True, area=int(masks[0].sum()), score=0.9,
                    instance_index=0)]
    return Prediction(
        image_size=(h, w), boxes=np.array([[3, 2, 12, 10], [30, 20, 40, 30]], np.float32),
        scores=np.array([0.9, 0.6], np.float32), class_ids=np.array([3, 4]), masks=masks,
        keypoints=kps, semantic=np.zeros((h, w), np.uint8), panoptic=panoptic,
        segments=segs, instance_ids=np.array([5, 6]))


def test_instance_array_round_trip():
    pred = _prediction()
    header = Header(frame_id='cam')
    msg = instance_array_msg(pred, LS, header)
    assert msg.header.frame_id == 'cam'
    assert (msg.image_height, msg.image_width) == (30, 40)
    assert [i.class_name for i in msg.instances] == ['person', 'instrument']
    assert [i.id for i in msg.instances] == [5, 6]
    assert [len(i.keypoints) for i in msg.instances] == [17, 4]
    decoded = decode_instances(msg)
    for i, d in enumerate(decoded):
        np.testing.assert_array_equal(d.mask, pred.masks[i])
        np.testing.assert_allclose(d.box, pred.boxes[i])
        n = d.keypoints.shape[0]
        np.testing.assert_allclose(d.keypoints, pred.keypoints[i, :n])


def test_instances_without_panoptic_get_unique_nonzero_ids():
    pred = _prediction()
    pred.instance_ids = np.array([0, 6])
    msg = instance_array_msg(pred, LS, Header())
    ids = [i.id for i in msg.instances]
    assert 0 not in ids and len(set(ids)) == 2


def test_instances_without_mask_head_send_no_mask():
    pred = _prediction()
    pred.masks = None
    pred.keypoints = None
    msg = instance_array_msg(pred, LS, Header())
    assert all(len(i.mask_rle) == 0 and len(i.keypoints) == 0 for i in msg.instances)
    assert all(d.mask is None for d in decode_instances(msg))


def test_panoptic_info_sorted_and_named():
    msg = panoptic_info_msg(_prediction(), LS, Header(frame_id='cam'))
    assert [s.id for s in msg.segments] == [1, 5, 6]
    assert [s.class_name for s in msg.segments] == ['floor', 'person', 'instrument']
    assert [s.is_thing for s in msg.segments] == [False, True, True]


def test_model_info_carries_the_label_space():
    msg = model_info_msg(label_space=LS, header=Header(), model_name='hydranet-n',
                         weights_path='w.pt', weights_sha256='0' * 64, backend='torch',
                         device='cpu', tasks=['detect'], input_height=480, input_width=640)
    assert msg.SEMANTIC_VOID == 255
    assert label_space_from_model_info(msg) == LS


FIELD_CHECKS = """
import numpy as np
from rclpy.serialization import serialize_message
from std_msgs.msg import Header
from hydranet_perception.prediction import Prediction, Segment
from hydranet_perception.ros.image_msgs import array_to_image
from hydranet_perception.ros.messages import instance_array_msg, panoptic_info_msg
from hydranet_perception.schema import default_label_space
ls = default_label_space()
masks = np.zeros((1, 48, 64), bool)
masks[0, 5:20, 7:30] = True
pan = masks[0].astype(np.int32)
pred = Prediction(image_size=(48, 64), boxes=np.array([[7, 5, 30, 20]], np.float32),
                  scores=np.array([0.8], np.float32), class_ids=np.array([3]), masks=masks,
                  keypoints=np.zeros((1, ls.max_keypoints, 3), np.float32),
                  semantic=np.zeros((48, 64), np.uint8), panoptic=pan,
                  segments=[Segment(id=1, class_id=3, is_thing=True, area=345, score=0.8,
                                    instance_index=0)], instance_ids=np.array([1]))
h = Header(frame_id='cam')
msgs = [instance_array_msg(pred, ls, h), panoptic_info_msg(pred, ls, h),
        array_to_image(pan, '32SC1', h), array_to_image(pred.semantic, 'mono8', h),
        array_to_image(np.zeros((48, 64, 3), np.uint8), 'rgb8', h)]
assert msgs[0]._check_fields, 'field checks are not on'
assert bytes(msgs[2].data) == pan.tobytes() and msgs[2].step == 64 * 4
assert list(msgs[0].instances[0].mask_rle)[:2] == [7 * 48 + 5, 15]
print(sum(len(serialize_message(m)) for m in msgs))
"""


def test_messages_build_with_ros_field_checks_on():
    # ROS_PYTHON_CHECK_FIELDS=1 (a Jazzy debugging switch) makes every field setter
    # check its value: numpy arrays are refused and bytes checked item by item.
    env = dict(os.environ, ROS_PYTHON_CHECK_FIELDS='1')
    out = subprocess.run([sys.executable, '-c', FIELD_CHECKS], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.strip()) > 48 * 64 * (4 + 1 + 3)  # the three images' pixels
