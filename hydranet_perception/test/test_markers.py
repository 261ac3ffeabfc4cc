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


"""In-process tests of the 3D messages and the RViz markers (real ROS message types)."""

from builtin_interfaces.msg import Time
from hydranet_perception.data.synthetic import generate_scene
from hydranet_perception.inference.lift3d_stage import Lift3D
from hydranet_perception.inference.stages import FrameContext
from hydranet_perception.prediction import Prediction
from hydranet_perception.ros.markers import counts, marker_ids, markers_msg, UNTRACKED_ID_BASE
from hydranet_perception.ros.messages import instance_array_msg
from hydranet_perception.ros.messages3d import decode_instances_3d, instance_array_3d_msg
from hydranet_perception.schema import default_label_space
from hydranet_perception_msgs.msg import Instance3D, InstanceArray3D
import numpy as np
import pytest
from rclpy.serialization import deserialize_message, serialize_message
from std_msgs.msg import Header
from visualization_msgs.msg import Marker, MarkerArray

LS = default_label_space()
K_MAX = max(c.keypoint_schema.num_keypoints for c in LS.classes if c.keypoint_schema)


def _header():
    return Header(stamp=Time(sec=12, nanosec=345), frame_id='camera_color_optical_frame')


def _lifted(seed=3, track_ids=True) -> Prediction:
    scene = generate_scene(seed, num_objects=(4, 6), depth=True)
    n = len(scene.instances)
    kps = np.zeros((n, K_MAX, 3), np.float32)
    for i, inst in enumerate(scene.instances):
        k = len(inst.keypoints)
        kps[i, :k, :2] = inst.keypoints[:, :2]
        kps[i, :k, 2] = inst.keypoints[:, 2] == 2
    pred = Prediction(
        image_size=(scene.height, scene.width),
        boxes=np.stack([i.box for i in scene.instances]), scores=np.linspace(0.9, 0.5, n),
        class_ids=np.array([i.class_id for i in scene.instances], np.int64),
        masks=np.stack([i.mask for i in scene.instances]), keypoints=kps,
        instance_ids=np.array([i.segment_id for i in scene.instances], np.int64),
        track_ids=(np.arange(n, dtype=np.int64) + 7) * (np.arange(n) % 2) if track_ids
        else None)
    ctx = FrameContext('cam', 12, 345, 'cam', (scene.height, scene.width), LS,
                       depth=scene.depth, camera_model=scene.camera_info)
    return Lift3D()(pred, ctx)


def test_instance_array_3d_round_trip():
    pred = _lifted()
    msg = instance_array_3d_msg(pred, LS, _header())
    back = deserialize_message(serialize_message(msg), InstanceArray3D)
    assert back.header.frame_id == 'camera_color_optical_frame'
    assert back.header.stamp.sec == 12 and back.header.stamp.nanosec == 345
    d = decode_instances_3d(back)
    # the same ids as the 2D message, in the same order
    assert d['ids'].tolist() == [i.id for i in instance_array_msg(pred, LS, _header()).instances]
    assert d['track_ids'].tolist() == pred.track_ids.tolist()
    assert d['class_ids'].tolist() == pred.class_ids.tolist()
    np.testing.assert_array_equal(d['positions'], pred.positions)  # float32 <-> float64
    np.testing.assert_array_equal(d['extents'], pred.extents)
    assert d['depth_pixels'].tolist() == pred.depth_pixels.tolist()
    assert all(i.source == Instance3D.SOURCE_DEPTH_CAMERA for i in back.instances)
    for i, kps in enumerate(d['keypoints_3d']):
        schema = LS.classes[int(pred.class_ids[i])].keypoint_schema
        k = schema.num_keypoints if schema else 0
        np.testing.assert_array_equal(kps, pred.keypoints_3d[i, :k])


def test_instance_array_3d_needs_3d_fields():
    pred = Prediction.empty(4, 4)
    with pytest.raises(ValueError, match='no 3D fields'):
        instance_array_3d_msg(pred, LS, _header())


def test_markers_counts_frames_lifetimes():
    pred = _lifted()
    msg = markers_msg(pred, _header(), LS, lifetime_s=0.25)
    back = deserialize_message(serialize_message(msg), MarkerArray)
    assert back.markers[0].action == Marker.DELETEALL
    n = int(np.isfinite(pred.positions).all(1).sum())
    assert n >= 3
    with_skeleton = sum(
        1 for i in range(len(pred)) if LS.classes[int(pred.class_ids[i])].keypoint_schema
        and any(pred.keypoints_3d[i, a, 3] and pred.keypoints_3d[i, b, 3]
                for a, b in LS.classes[int(pred.class_ids[i])].keypoint_schema.skeleton))
    assert counts(back) == (n, n, with_skeleton)
    assert len(back.markers) == 1 + 2 * n + with_skeleton
    for m in back.markers[1:]:
        assert m.header.frame_id == 'camera_color_optical_frame'
        assert (m.header.stamp.sec, m.header.stamp.nanosec) == (12, 345)
        assert (m.lifetime.sec, m.lifetime.nanosec) == (0, 250_000_000)
        assert m.pose.orientation.w == 1.0
        if m.type == Marker.LINE_LIST:
            assert len(m.points) % 2 == 0 and len(m.points) > 0
        if m.type == Marker.CUBE:
            assert min(m.scale.x, m.scale.y, m.scale.z) >= 0.02
    texts = [m.text for m in back.markers if m.type == Marker.TEXT_VIEW_FACING]
    assert any('#' in t for t in texts) and all(LS.names[0] != t for t in texts)


def test_marker_ids_are_stable_per_track():
    pred = _lifted()
    ids = marker_ids(pred)
    tracked = pred.track_ids > 0
    assert (ids[tracked] == pred.track_ids[tracked]).all()
    assert (ids[~tracked] >= UNTRACKED_ID_BASE).all() and len(set(ids.tolist())) == len(ids)
    # the same tracks in another order keep their marker ids
    order = np.arange(len(pred))[::-1]
    assert (marker_ids(pred.select(order))[tracked[order]] ==
            pred.track_ids[order][tracked[order]]).all()


def test_markers_without_3d_or_without_depth():
    pred = _lifted(track_ids=False)
    no3d = Prediction.empty(4, 4)
    assert [m.action for m in markers_msg(no3d, _header(), LS).markers] == [Marker.DELETEALL]
    assert markers_msg(no3d, _header(), LS, delete_all=False).markers == []
    pred.positions[0] = np.nan  # an instance without valid depth gets no marker
    assert counts(markers_msg(pred, _header(), LS))[0] == len(pred) - 1
