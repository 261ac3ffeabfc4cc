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
Play and record over real DDS: ``hydranet-bag play`` and ``record`` in two processes.

The recorder subscribes to topics as they appear; the player waits until they are
matched, so every message is recorded. Timing is asserted only from below (a player
never publishes earlier than the stamps allow), never with an upper bound.
"""

import json
import os
import pathlib
import signal
import subprocess
import sys

from hydranet_perception.bag.bag_io import (bag_info, open_writer, read_bag, TOPIC_CAMERA_INFO,
                                            TOPIC_COMPRESSED, TOPIC_IMAGE, write_synthetic_bag)
from hydranet_perception.bag.typestore import get_typestore
from hydranet_perception.masks import encode_rle
import numpy as np
import pytest
import yaml

PKG = pathlib.Path(__file__).resolve().parents[1]
ALL = [TOPIC_IMAGE, TOPIC_COMPRESSED, TOPIC_CAMERA_INFO]
FRAMES = 6
TIMEOUT = 60


def _cli(*args):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(PKG)] + ([os.environ['PYTHONPATH']] if os.environ.get('PYTHONPATH') else [])))
    return subprocess.Popen([sys.executable, '-m', 'hydranet_perception.bag.cli', *args],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _finish(proc, timeout=TIMEOUT):
    """Wait for a process; return (exit status, summary dict from its last stdout line)."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f'{proc.args} did not finish in {timeout} s:\n{out}\n{err}')
    lines = out.strip().splitlines()
    assert proc.returncode == 0, f'{proc.args} failed ({proc.returncode}):\n{out}\n{err}'
    return json.loads(lines[-1])


@pytest.fixture
def procs():
    started = []
    yield started
    for p in started:
        if p.poll() is None:
            p.kill()
            p.communicate()


@pytest.fixture(scope='module')
def small_bag(tmp_path_factory):
    return write_synthetic_bag(tmp_path_factory.mktemp('play') / 'small', seed=11,
                               num_frames=FRAMES, height=48, width=64, fps=10.0)


def _messages(bag, topic):
    return [m.message for m in read_bag(bag, [topic])]


def _stamp(msg):
    return msg.header.stamp.sec * 10 ** 9 + msg.header.stamp.nanosec


def test_recorded_bag_equals_the_played_one(small_bag, tmp_path, procs):
    out = tmp_path / 'rec'
    procs.append(rec := _cli('record', str(out), '--topics', *ALL,
                             '--max-messages', str(3 * FRAMES), '--duration', str(TIMEOUT)))
    procs.append(play := _cli('play', str(small_bag), '--rate', '0', '--wait-timeout', '30'))
    played = _finish(play)
    recorded = _finish(rec)
    assert played['published'] == 3 * FRAMES and played['interrupted'] is False
    assert recorded['messages'] == 3 * FRAMES
    info = bag_info(out)
    assert info['storage'] == 'mcap' and info['version'] == 9
    assert {t: v['count'] for t, v in info['topics'].items()} == {t: FRAMES for t in ALL}
    assert {t: v['type'] for t, v in info['topics'].items()} == \
        {t: v['type'] for t, v in bag_info(small_bag)['topics'].items()}
    for topic in ALL:
        src, got = _messages(small_bag, topic), _messages(out, topic)
        assert [_stamp(m) for m in got] == [_stamp(m) for m in src]
        assert [m.header.frame_id for m in got] == [m.header.frame_id for m in src]
        if topic != TOPIC_CAMERA_INFO:
            for a, b in zip(src, got):
                np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_array_equal(_messages(out, TOPIC_CAMERA_INFO)[0].k,
                                  _messages(small_bag, TOPIC_CAMERA_INFO)[0].k)
    meta = yaml.safe_load((out / 'metadata.yaml').read_text())['rosbag2_bagfile_information']
    for entry in meta['topics_with_message_count']:  # the player's offer, as rosbag2 stores it
        (qos,) = entry['topic_metadata']['offered_qos_profiles']
        assert qos['reliability'] == 'reliable' and qos['durability'] == 'volatile'


def test_rate_clock_remap_and_sigint(small_bag, tmp_path, procs):
    out = tmp_path / 'rec'
    procs.append(rec := _cli('record', str(out), '--topics', '/cam2/image',
                             '/clock:rosgraph_msgs/msg/Clock', '--qos-reliability', 'reliable'))
    procs.append(play := _cli('play', str(small_bag), '--rate', '2', '--topics', TOPIC_IMAGE,
                              '--remap', f'{TOPIC_IMAGE}:=/cam2/image', '--clock', '50',
                              '--wait-for-subscribers', '1', '--wait-timeout', '30'))
    played = _finish(play)
    rec.send_signal(signal.SIGINT)  # the recorder stops cleanly and keeps what arrived
    recorded = _finish(rec)
    src = _messages(small_bag, TOPIC_IMAGE)
    span = (_stamp(src[-1]) - _stamp(src[0])) / 1e9
    assert played['published'] == FRAMES
    assert played['played_bag_s'] == pytest.approx(span, abs=0.05)
    assert played['elapsed_s'] >= played['played_bag_s'] / 2  # never ahead of the stamps
    assert recorded['topics']['/cam2/image'] == FRAMES
    got = _messages(out, '/cam2/image')
    assert [_stamp(m) for m in got] == [_stamp(m) for m in src]
    clocks = [c.clock.sec * 10 ** 9 + c.clock.nanosec for c in _messages(out, '/clock')]
    info = bag_info(small_bag)
    assert clocks and clocks == sorted(clocks)
    assert info['start_ns'] <= clocks[0] and clocks[-1] <= info['end_ns']


def test_loop_plays_frames_again(small_bag, tmp_path, procs):
    n = 2 * FRAMES + 3
    out = tmp_path / 'rec'
    procs.append(rec := _cli('record', str(out), '--topics', TOPIC_IMAGE,
                             '--max-messages', str(n), '--duration', str(TIMEOUT)))
    procs.append(play := _cli('play', str(small_bag), '--loop', '--rate', '0',
                              '--topics', TOPIC_IMAGE, '--wait-timeout', '30'))
    assert _finish(rec)['messages'] == n
    play.send_signal(signal.SIGINT)
    played = _finish(play)
    assert played['interrupted'] is True and played['loops'] >= 2
    stamps = [_stamp(m) for m in _messages(out, TOPIC_IMAGE)]
    first = [_stamp(m) for m in _messages(small_bag, TOPIC_IMAGE)]
    assert stamps == (first * 3)[:n]


def _instances_bag(path, n):
    store = get_typestore()
    t = store.types
    mask = np.zeros((48, 64), bool)
    mask[5:20, 3:30] = True
    writer = open_writer(path)
    conn = writer.add_connection('/hydranet/instances',
                                 'hydranet_perception_msgs/msg/InstanceArray', typestore=store)
    for i in range(n):
        stamp = t['builtin_interfaces/msg/Time'](sec=100 + i, nanosec=7)
        inst = t['hydranet_perception_msgs/msg/Instance'](
            id=1, track_id=i, class_id=4, class_name='instrument', score=0.5, x_min=3.0,
            y_min=5.0, x_max=30.0, y_max=20.0, mask_height=48, mask_width=64,
            mask_rle=encode_rle(mask), keypoints=[t['hydranet_perception_msgs/msg/Keypoint'](
                index=0, x=4.5, y=6.5, score=0.25)])
        msg = t['hydranet_perception_msgs/msg/InstanceArray'](
            header=t['std_msgs/msg/Header'](stamp=stamp, frame_id='cam'), image_height=48,
            image_width=64, instances=[inst])
        writer.write(conn, 10 ** 9 * (100 + i) + 10 ** 7, store.serialize_cdr(msg, conn.msgtype))
    writer.close()
    return path


def test_custom_messages_play_and_record(tmp_path, procs):
    src = _instances_bag(tmp_path / 'instances', 3)
    out = tmp_path / 'rec'
    procs.append(rec := _cli('record', str(out), '--topics', '/hydranet/instances',
                             '--max-messages', '3', '--duration', str(TIMEOUT)))
    procs.append(play := _cli('play', str(src), '--rate', '0', '--wait-timeout', '30'))
    assert _finish(play)['published'] == 3
    assert _finish(rec)['messages'] == 3
    a, b = _messages(src, '/hydranet/instances'), _messages(out, '/hydranet/instances')
    assert [m.header.stamp.sec for m in b] == [100, 101, 102]
    for x, y in zip(a, b):
        (ix,), (iy,) = x.instances, y.instances
        np.testing.assert_array_equal(ix.mask_rle, iy.mask_rle)
        assert (iy.track_id, iy.class_name, iy.keypoints[0].y) == (ix.track_id, 'instrument',
                                                                   6.5)


def test_to_rclpy_converts_through_cdr(small_bag):
    from sensor_msgs.msg import CameraInfo, Image

    from hydranet_perception.ros.bag_player import to_rclpy
    src = next(read_bag(small_bag, [TOPIC_IMAGE])).message
    img = to_rclpy(src, 'sensor_msgs/msg/Image')
    assert isinstance(img, Image) and (img.height, img.width, img.encoding) == (48, 64, 'rgb8')
    assert bytes(img.data) == src.data.tobytes()
    assert (img.header.stamp.sec, img.header.stamp.nanosec) == \
        (src.header.stamp.sec, src.header.stamp.nanosec)
    ci = to_rclpy(next(read_bag(small_bag, [TOPIC_CAMERA_INFO])).message,
                  'sensor_msgs/msg/CameraInfo')
    assert isinstance(ci, CameraInfo) and ci.distortion_model == 'plumb_bob'


def test_play_reports_unknown_topics(small_bag, procs):
    procs.append(play := _cli('play', str(small_bag), '--topics', '/nope'))
    _, err = play.communicate(timeout=TIMEOUT)
    assert play.returncode == 1 and '/nope' in err
