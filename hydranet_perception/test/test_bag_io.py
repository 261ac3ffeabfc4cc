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


"""Bag writing, reading and info without ROS: rosbag2 format, MCAP, ground truth."""

import json
import os
import pathlib
import subprocess
import sys

import cv2
from hydranet_perception.bag import cli
from hydranet_perception.bag.bag_io import (bag_info, DEFAULT_START_NS, iter_raw, open_writer,
                                            read_bag, read_ground_truth, TOPIC_CAMERA_INFO,
                                            TOPIC_COMPRESSED, TOPIC_IMAGE, write_synthetic_bag)
from hydranet_perception.bag.typestore import (ensure_types, get_typestore, new_typestore,
                                               UnknownTypeError)
from hydranet_perception.data.synthetic import generate_sequence
from hydranet_perception.masks import decode_rle
from mcap.reader import make_reader
import numpy as np
import pytest
import yaml

PKG = pathlib.Path(__file__).resolve().parents[1]
SAMPLE_BAG = PKG / 'data' / 'sample_bag'
SEED, FRAMES, H, W, FPS = 7, 4, 48, 64, 30.0

# metadata.yaml keys of rosbag2 format version 9 (rosbag2_storage/yaml.hpp, Jazzy).
V9_KEYS = {'version', 'storage_identifier', 'duration', 'starting_time', 'message_count',
           'topics_with_message_count', 'compression_format', 'compression_mode',
           'relative_file_paths', 'files', 'custom_data', 'ros_distro'}
V9_TOPIC_KEYS = {'name', 'type', 'serialization_format', 'offered_qos_profiles',
                 'type_description_hash'}
V9_QOS_KEYS = {'history', 'depth', 'reliability', 'durability', 'deadline', 'lifespan',
               'liveliness', 'liveliness_lease_duration', 'avoid_ros_namespace_conventions'}


@pytest.fixture(scope='module')
def bag(tmp_path_factory):
    out = tmp_path_factory.mktemp('bags') / 'small'
    return write_synthetic_bag(out, seed=SEED, num_frames=FRAMES, height=H, width=W, fps=FPS)


@pytest.fixture(scope='module')
def scenes():
    return list(generate_sequence(SEED, FRAMES, height=H, width=W))


def test_info_counts_and_duration(bag):
    info = bag_info(bag)
    assert info['storage'] == 'mcap' and info['version'] == 9
    assert info['files'] == ['small.mcap'] and info['size_bytes'] > 0
    assert info['topics'] == {
        TOPIC_CAMERA_INFO: {'type': 'sensor_msgs/msg/CameraInfo', 'count': FRAMES,
                            'serialization_format': 'cdr'},
        TOPIC_IMAGE: {'type': 'sensor_msgs/msg/Image', 'count': FRAMES,
                      'serialization_format': 'cdr'},
        TOPIC_COMPRESSED: {'type': 'sensor_msgs/msg/CompressedImage', 'count': FRAMES,
                           'serialization_format': 'cdr'}}
    assert info['message_count'] == 3 * FRAMES
    stamps = [m.timestamp_ns for m in iter_raw(bag)]
    assert stamps == sorted(stamps)
    assert info['start_ns'] == stamps[0] and info['end_ns'] == stamps[-1]
    period = 1e9 / FPS
    # Receive times trail the header stamps by 5-25 % of a period.
    assert DEFAULT_START_NS + 0.05 * period <= info['start_ns'] < DEFAULT_START_NS + 0.3 * period
    assert abs(info['duration_ns'] - (FRAMES - 1) * period) < 0.3 * period


def test_images_read_back_equal_the_generator(bag, scenes):
    images = list(read_bag(bag, [TOPIC_IMAGE]))
    assert len(images) == FRAMES
    for i, (msg, scene) in enumerate(zip(images, scenes)):
        img = msg.message
        assert (img.height, img.width, img.encoding, img.step) == (H, W, 'rgb8', 3 * W)
        assert img.header.frame_id == 'camera_optical_frame'
        stamp = img.header.stamp.sec * 10 ** 9 + img.header.stamp.nanosec
        assert stamp == DEFAULT_START_NS + round(i * 1e9 / FPS)
        assert msg.timestamp_ns > stamp
        np.testing.assert_array_equal(img.data.reshape(H, W, 3), scene.image)
    for msg, scene in zip(read_bag(bag, [TOPIC_COMPRESSED]), scenes):
        assert msg.message.format == 'rgb8; jpeg compressed bgr8'
        rgb = cv2.imdecode(msg.message.data, cv2.IMREAD_COLOR)[..., ::-1]
        assert np.abs(rgb.astype(int) - scene.image).mean() < 6  # JPEG quality 90


def test_camera_info_is_a_plausible_pinhole(bag):
    infos = [m.message for m in read_bag(bag, [TOPIC_CAMERA_INFO])]
    ci = infos[0]
    assert (ci.height, ci.width, ci.distortion_model) == (H, W, 'plumb_bob')
    k = ci.k.reshape(3, 3)
    assert k[0, 0] == k[1, 1] > 0 and k[2, 2] == 1 and k[0, 1] == 0
    assert abs(k[0, 2] - (W - 1) / 2) < 1 and abs(k[1, 2] - (H - 1) / 2) < 1
    fov = 2 * np.degrees(np.arctan(W / 2 / k[0, 0]))
    assert 40 < fov < 90
    np.testing.assert_array_equal(ci.d, np.zeros(5))
    np.testing.assert_array_equal(ci.p.reshape(3, 4)[:, :3], k)
    np.testing.assert_array_equal(ci.r.reshape(3, 3), np.eye(3))


def test_ground_truth_matches_the_scenes(bag, scenes):
    gt = read_ground_truth(bag)
    assert [g['frame'] for g in gt] == list(range(FRAMES))
    img_stamps = [m.message.header.stamp for m in read_bag(bag, [TOPIC_IMAGE])]
    for g, scene, stamp in zip(gt, scenes, img_stamps):
        assert g['stamp'] == {'sec': stamp.sec, 'nanosec': stamp.nanosec}
        assert g['stamp_ns'] == stamp.sec * 10 ** 9 + stamp.nanosec
        assert (g['height'], g['width']) == (H, W)
        assert len(g['instances']) == len(scene.instances) > 0
        for rec, inst in zip(g['instances'], scene.instances):
            assert rec['track_id'] == inst.track_id and rec['class_id'] == inst.class_id
            assert rec['class_name'] == scene.label_space.classes[inst.class_id].name
            assert rec['box'] == inst.box.tolist() and rec['area'] == inst.area
            assert rec['mask']['size'] == [H, W]
            mask = decode_rle(rec['mask']['counts'], H, W)
            np.testing.assert_array_equal(mask, inst.mask)
            np.testing.assert_allclose(rec['keypoints'], inst.keypoints.reshape(-1, 3))


def test_metadata_yaml_has_the_rosbag2_v9_fields(bag):
    meta = yaml.safe_load((bag / 'metadata.yaml').read_text())
    info = meta['rosbag2_bagfile_information']
    assert set(info) == V9_KEYS
    assert info['version'] == 9 and info['storage_identifier'] == 'mcap'
    assert info['relative_file_paths'] == ['small.mcap']
    assert info['files'][0]['path'] == 'small.mcap'
    assert info['files'][0]['message_count'] == info['message_count'] == 3 * FRAMES
    for entry in info['topics_with_message_count']:
        tm = entry['topic_metadata']
        assert set(tm) == V9_TOPIC_KEYS
        assert tm['type_description_hash'].startswith('RIHS01_')
        assert isinstance(tm['offered_qos_profiles'], list)  # v9: a list, not a string
        for qos in tm['offered_qos_profiles']:
            assert set(qos) == V9_QOS_KEYS and qos['reliability'] == 'reliable'


def test_mcap_library_reads_the_bag(bag):
    with open(bag / 'small.mcap', 'rb') as f:
        reader = make_reader(f)
        assert reader.get_header().profile == 'ros2'
        summary = reader.get_summary()
        assert {s.encoding for s in summary.schemas.values()} == {'ros2msg'}
        assert {c.message_encoding for c in summary.channels.values()} == {'cdr'}
        assert summary.statistics.message_count == 3 * FRAMES
        stored = list(reader.iter_messages(log_time_order=True))
        meta = {m.name: m.metadata for m in reader.iter_metadata()}
    assert 'rosbag2' in meta and 'serialized_metadata' in meta['rosbag2']
    ours = list(iter_raw(bag))
    assert [(c.topic, m.log_time, bytes(m.data)) for _, c, m in stored] == \
        [(r.topic, r.timestamp_ns, r.data) for r in ours]


def test_same_seed_same_bytes(bag, tmp_path):
    again = write_synthetic_bag(tmp_path / 'again', seed=SEED, num_frames=FRAMES, height=H,
                                width=W, fps=FPS)
    assert list(iter_raw(again)) == list(iter_raw(bag))
    assert (again / 'gt.jsonl').read_bytes() == (bag / 'gt.jsonl').read_bytes()
    other = write_synthetic_bag(tmp_path / 'other', seed=SEED + 1, num_frames=FRAMES,
                                height=H, width=W, fps=FPS, raw=False, ground_truth=False)
    assert set(bag_info(other)['topics']) == {TOPIC_COMPRESSED, TOPIC_CAMERA_INFO}
    assert not (other / 'gt.jsonl').exists()
    a = [m.data for m in iter_raw(bag, [TOPIC_COMPRESSED])]
    b = [m.data for m in iter_raw(other, [TOPIC_COMPRESSED])]
    assert a != b


def test_bags_are_never_overwritten(bag):
    with pytest.raises(FileExistsError):
        write_synthetic_bag(bag, seed=0, num_frames=1)
    with pytest.raises(KeyError, match='/nope'):
        list(read_bag(bag, ['/nope']))


def test_custom_messages_hash_like_rosidl_and_round_trip(tmp_path):
    store = get_typestore()
    share = pathlib.Path(sys.prefix) / 'share' / 'hydranet_perception_msgs' / 'msg'
    for name in ('InstanceArray', 'ModelInfo', 'PanopticInfo'):
        desc = json.loads((share / f'{name}.json').read_text())
        rosidl_hash = desc['type_hashes'][0]['hash_string']
        assert store.hash_rihs01(f'hydranet_perception_msgs/msg/{name}') == rosidl_hash
    t = store.types
    msg = t['hydranet_perception_msgs/msg/InstanceArray'](
        header=t['std_msgs/msg/Header'](stamp=t['builtin_interfaces/msg/Time'](sec=1,
                                                                               nanosec=2),
                                        frame_id='cam'),
        image_height=4, image_width=5, instances=[])
    writer = open_writer(tmp_path / 'custom')
    conn = writer.add_connection('/x/instances', 'hydranet_perception_msgs/msg/InstanceArray',
                                 typestore=store)
    writer.write(conn, 10, store.serialize_cdr(msg, conn.msgtype))
    writer.close()
    (got,) = list(read_bag(tmp_path / 'custom', typestore=new_typestore()))
    assert got.topic == '/x/instances' and got.message.image_width == 5
    assert got.message.header.frame_id == 'cam'


def test_unknown_types_are_reported():
    with pytest.raises(UnknownTypeError, match='nosuch_msgs/msg/Thing.msg'):
        ensure_types(new_typestore(), ['nosuch_msgs/msg/Thing'])


def test_cli_write_and_info(tmp_path, capsys):
    out = tmp_path / 'cli_bag'
    assert cli.main(['write', str(out), '--seed', '3', '--frames', '2', '--size', '32x24',
                     '--no-raw']) == 0
    assert 'Storage id:        mcap' in capsys.readouterr().out
    assert cli.main(['info', str(out), '--json']) == 0
    info = json.loads(capsys.readouterr().out)
    assert info['topics'][TOPIC_COMPRESSED]['count'] == 2 and info['message_count'] == 4
    assert cli.main(['write', str(out), '--seed', '3', '--frames', '2']) == 1
    assert 'exists' in capsys.readouterr().err


def test_cli_write_and_info_do_not_import_rclpy(tmp_path):
    code = ('import sys; sys.modules["rclpy"] = None\n'
            'from hydranet_perception.bag import cli\n'
            f'sys.exit(cli.main(["write", {str(tmp_path / "b")!r}, "--seed", "1", '
            '"--frames", "1", "--size", "16x16"]))\n')
    subprocess.run([sys.executable, '-c', code], check=True, capture_output=True,
                   env=dict(os.environ, PYTHONPATH=str(PKG)))


def test_shipped_sample_bag():
    info = bag_info(SAMPLE_BAG)
    total = sum(p.stat().st_size for p in SAMPLE_BAG.iterdir())
    assert total <= 10 * 2 ** 20
    assert info['storage'] == 'mcap' and info['version'] == 9
    assert {t: v['count'] for t, v in info['topics'].items()} == {
        TOPIC_COMPRESSED: 90, TOPIC_CAMERA_INFO: 90}
    gt = read_ground_truth(SAMPLE_BAG)
    assert len(gt) == 90 and (gt[0]['height'], gt[0]['width']) == (480, 640)
    first = next(read_bag(SAMPLE_BAG, [TOPIC_COMPRESSED])).message
    assert first.header.stamp.sec * 10 ** 9 + first.header.stamp.nanosec == gt[0]['stamp_ns']
