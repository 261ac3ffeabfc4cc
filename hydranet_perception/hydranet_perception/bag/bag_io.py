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
ROS 2 bags without ROS: write synthetic camera bags, read bags, summarise them.

A bag is a rosbag2 directory as ``ros2 bag record -s mcap`` writes it (format version
9): ``metadata.yaml`` plus one ``.mcap`` file of CDR messages. rosbags reads and writes
it; no rclpy is imported here. A synthetic bag also holds ``gt.jsonl`` (one JSON object
per frame: the ground truth of the scene in the image) beside the ``.mcap``; rosbag2
ignores files that ``metadata.yaml`` does not list.

Compatibility with ``ros2 bag`` was checked without rosbag2 (it cannot be installed
here), in test_bag_io.py: ``metadata.yaml`` has exactly the keys rosbag2_storage's
``yaml.hpp`` writes for a bag and for a topic, with the offered QoS profiles as the list
of maps ``qos.cpp`` writes for version 9; type hashes equal the RIHS01 hashes rosidl
generated for the installed messages; the ``.mcap`` has profile ``ros2``, ``ros2msg``
schemas, ``cdr`` messages and a ``rosbag2`` metadata record, and the mcap library reads
the same messages as rosbags. Not checked: ``ros2 bag`` itself; ``ros_distro`` reads
``rosbags``.
"""

import json
import math
import pathlib
import time
from typing import Dict, Iterator, List, NamedTuple, Optional, Sequence, Union

import cv2
from hydranet_perception.bag.typestore import get_typestore
from hydranet_perception.data.synthetic import generate_sequence
from hydranet_perception.image_codec import rgb_to_raw
from hydranet_perception.masks import encode_rle
import numpy as np
from rosbags.interfaces import (Qos, QosDurability, QosHistory, QosLiveliness,
                                QosReliability, QosTime)
from rosbags.rosbag2 import Reader, StoragePlugin, Writer
from rosbags.typesys import get_types_from_idl, get_types_from_msg
from rosbags.typesys.store import Typestore
import yaml

PathLike = Union[str, pathlib.Path]

TOPIC_IMAGE = '/camera/image_raw'
TOPIC_COMPRESSED = '/camera/image_raw/compressed'
TOPIC_CAMERA_INFO = '/camera/camera_info'
TOPIC_DEPTH = '/camera/depth/image_raw'
TOPIC_DEPTH_INFO = '/camera/depth/camera_info'
GT_FILE = 'gt.jsonl'
# 2025-11-29 07:06:40 UTC: a plausible wall-clock start for recorded camera data.
DEFAULT_START_NS = 1_764_400_000_000_000_000
# How compressed_image_transport labels a JPEG made from an rgb8 image.
JPEG_FORMAT = 'rgb8; jpeg compressed bgr8'
HORIZONTAL_FOV_DEG = 60.0
# Receive latency of each topic as a fraction of the frame period, plus U(0, 0.05).
_LATENCY = {TOPIC_IMAGE: 0.05, TOPIC_CAMERA_INFO: 0.10, TOPIC_COMPRESSED: 0.20}
# Drawn after those, only for a depth bag (so that other bags keep their bytes).
_DEPTH_LATENCY = {TOPIC_DEPTH: 0.15, TOPIC_DEPTH_INFO: 0.10}

_INFINITE = QosTime(9223372036, 854775807)  # how rosbag2 stores an infinite duration
# What ``ros2 bag record`` stores for a default (reliable, volatile) camera publisher:
# history and depth are not announced over DDS, so they read unknown / 0.
CAMERA_QOS = Qos(QosHistory.UNKNOWN, 0, QosReliability.RELIABLE, QosDurability.VOLATILE,
                 _INFINITE, _INFINITE, QosLiveliness.AUTOMATIC, _INFINITE, False)


class BagMessage(NamedTuple):
    """One message of a bag: topic, receive timestamp (ns) and the rosbags message."""

    topic: str
    timestamp_ns: int
    message: object


class RawMessage(NamedTuple):
    """One message of a bag as stored: topic, type name, receive timestamp, CDR bytes."""

    topic: str
    msgtype: str
    timestamp_ns: int
    data: bytes


def open_writer(path: PathLike) -> Writer:
    """
    Open a new MCAP rosbag2 (format version 9) at ``path``, which must not exist.

    :raises FileExistsError: when ``path`` exists (a bag is never overwritten).
    """
    path = pathlib.Path(path)
    if path.exists():
        raise FileExistsError(f'{path} exists; bags are never overwritten, choose a new '
                              'folder or delete the old one')
    writer = Writer(path, version=9, storage_plugin=StoragePlugin.MCAP)
    writer.open()
    return writer


def _register_bag_types(typestore: Typestore, connections) -> None:
    """Teach ``typestore`` the types a bag defines but the typestore does not know."""
    types = {}
    for conn in connections:
        if conn.msgtype in typestore.fielddefs or conn.msgtype in types:
            continue
        if conn.msgdef.format.name == 'IDL':
            types.update(get_types_from_idl(conn.msgdef.data))
        else:
            types.update(get_types_from_msg(conn.msgdef.data, conn.msgtype))
    if types:
        typestore.register({k: v for k, v in types.items() if k not in typestore.fielddefs})


def _select(reader: Reader, topics: Optional[Sequence[str]]):
    if topics is None:
        return reader.connections
    missing = set(topics) - {c.topic for c in reader.connections}
    if missing:
        have = sorted({c.topic for c in reader.connections})
        raise KeyError(f'topics {sorted(missing)} are not in {reader.path}; it has {have}')
    return [c for c in reader.connections if c.topic in set(topics)]


def iter_raw(path: PathLike, topics: Optional[Sequence[str]] = None) -> Iterator[RawMessage]:
    """Yield the stored messages of a bag, in receive-time order, without decoding them."""
    with Reader(pathlib.Path(path)) as reader:
        for conn, stamp, data in reader.messages(connections=_select(reader, topics)):
            yield RawMessage(conn.topic, conn.msgtype, stamp, bytes(data))


def read_bag(path: PathLike, topics: Optional[Sequence[str]] = None, *,
             typestore: Optional[Typestore] = None) -> Iterator[BagMessage]:
    """
    Yield (topic, timestamp_ns, message) for the messages of a bag, in time order.

    :param path: the bag folder (or its ``.mcap`` file).
    :param topics: topic names to read; all when None.
    :param typestore: the rosbags typestore that decodes messages (default: Jazzy with
        ``hydranet_perception_msgs``); types it lacks are learned from the bag.
    :raises KeyError: when a requested topic is not in the bag.
    """
    store = typestore or get_typestore()
    with Reader(pathlib.Path(path)) as reader:
        connections = _select(reader, topics)
        _register_bag_types(store, connections)
        for conn, stamp, data in reader.messages(connections=connections):
            yield BagMessage(conn.topic, stamp, store.deserialize_cdr(data, conn.msgtype))


def bag_info(path: PathLike) -> Dict:
    """
    Return what ``ros2 bag info`` prints, from the bag's ``metadata.yaml``.

    Keys: ``path``, ``files``, ``size_bytes``, ``storage`` (the storage id, 'mcap'),
    ``version``, ``ros_distro``, ``compression_format``, ``compression_mode``,
    ``start_ns``, ``end_ns``, ``duration_ns``, ``duration_s``, ``message_count`` and
    ``topics``: {name: {'type', 'count', 'serialization_format'}}.
    """
    path = pathlib.Path(path)
    meta_path = path / 'metadata.yaml'
    if not meta_path.is_file():
        raise FileNotFoundError(f'{path} is not a rosbag2 folder: no metadata.yaml in it')
    meta = yaml.safe_load(meta_path.read_text())['rosbag2_bagfile_information']
    files = list(meta.get('relative_file_paths') or [])
    start = int(meta['starting_time']['nanoseconds_since_epoch'])
    duration = int(meta['duration']['nanoseconds'])
    topics = {}
    for entry in meta.get('topics_with_message_count') or []:
        tm = entry['topic_metadata']
        topics[tm['name']] = {'type': tm['type'], 'count': int(entry['message_count']),
                              'serialization_format': tm.get('serialization_format', '')}
    return {
        'path': str(path), 'files': files,
        'size_bytes': sum((path / f).stat().st_size for f in files if (path / f).exists()),
        'storage': meta.get('storage_identifier', ''), 'version': int(meta['version']),
        'ros_distro': meta.get('ros_distro', ''),
        'compression_format': meta.get('compression_format', ''),
        'compression_mode': meta.get('compression_mode', ''),
        'start_ns': start, 'end_ns': start + duration, 'duration_ns': duration,
        'duration_s': duration / 1e9, 'message_count': int(meta['message_count']),
        'topics': dict(sorted(topics.items())),
    }


def _stamp_text(ns: int) -> str:
    secs, rem = divmod(ns, 1_000_000_000)
    return f'{time.strftime("%b %d %Y %H:%M:%S", time.gmtime(secs))}.{rem:09d} ' \
           f'({secs}.{rem:09d})'


def format_info(info: Dict) -> str:
    """Lay out ``bag_info`` output as ``ros2 bag info`` does (times in UTC)."""
    size = info['size_bytes']
    units = next((u, s) for u, s in (('GiB', 2 ** 30), ('MiB', 2 ** 20), ('KiB', 2 ** 10),
                                     ('B', 1)) if size >= s or s == 1)
    topic_lines = [f'Topic: {name} | Type: {t["type"]} | Count: {t["count"]} | '
                   f'Serialization Format: {t["serialization_format"]}'
                   for name, t in info['topics'].items()] or ['']
    pad = ' ' * 19
    return '\n'.join([
        f'Files:             {(chr(10) + pad).join(info["files"])}',
        f'Bag size:          {size / units[1]:.1f} {units[0]}',
        f'Storage id:        {info["storage"]}',
        f'ROS Distro:        {info["ros_distro"]}',
        f'Duration:          {info["duration_ns"] / 1e9:.9f}s',
        f'Start:             {_stamp_text(info["start_ns"])}',
        f'End:               {_stamp_text(info["end_ns"])}',
        f'Messages:          {info["message_count"]}',
        f'Topic information: {(chr(10) + pad).join(topic_lines)}',
    ])


# --- synthetic camera bags -----------------------------------------------------------

def camera_matrix(height: int, width: int,
                  hfov_deg: float = HORIZONTAL_FOV_DEG) -> np.ndarray:
    """Return a pinhole K (float64[3, 3]) with square pixels and a centred principal point."""
    f = 0.5 * width / math.tan(math.radians(hfov_deg) / 2.0)
    return np.array([[f, 0.0, (width - 1) / 2.0], [0.0, f, (height - 1) / 2.0],
                     [0.0, 0.0, 1.0]])


def _header(store: Typestore, stamp_ns: int, frame_id: str):
    t = store.types
    sec, nanosec = divmod(stamp_ns, 1_000_000_000)
    return t['std_msgs/msg/Header'](stamp=t['builtin_interfaces/msg/Time'](sec=sec,
                                                                           nanosec=nanosec),
                                    frame_id=frame_id)


def _camera_info(store: Typestore, header, height: int, width: int, camera=None):
    """Return a CameraInfo: the 60 degree pinhole, or ``camera`` (a geometry CameraInfo)."""
    t = store.types
    k = camera_matrix(height, width) if camera is None else \
        np.asarray(camera.k, np.float64).reshape(3, 3)
    d = np.zeros(5) if camera is None else np.asarray(camera.d, np.float64)
    p = np.zeros((3, 4))
    p[:, :3] = k
    roi = t['sensor_msgs/msg/RegionOfInterest'](x_offset=0, y_offset=0, height=0, width=0,
                                                do_rectify=False)
    return t['sensor_msgs/msg/CameraInfo'](
        header=header, height=height, width=width, distortion_model='plumb_bob',
        d=d, k=k.ravel(), r=np.eye(3).ravel(), p=p.ravel(), binning_x=0,
        binning_y=0, roi=roi)


def _ground_truth(scene, stamp_ns: int, frame_id: str) -> Dict:
    ls = scene.label_space
    instances = [{
        'track_id': int(inst.track_id), 'segment_id': int(inst.segment_id),
        'class_id': int(inst.class_id), 'class_name': ls.classes[inst.class_id].name,
        'box': [float(v) for v in inst.box], 'area': inst.area,
        'mask': {'size': [scene.height, scene.width],
                 'counts': encode_rle(inst.mask).tolist()},
        'keypoints': [[float(x), float(y), int(v)] for x, y, v in inst.keypoints],
        **({} if inst.position is None else {
            'position': [float(v) for v in inst.position],
            'keypoints_3d': [[float(v) for v in kp] for kp in inst.keypoints_3d]}),
    } for inst in scene.instances]
    sec, nanosec = divmod(stamp_ns, 1_000_000_000)
    return {'frame': scene.frame_index, 'stamp': {'sec': sec, 'nanosec': nanosec},
            'stamp_ns': stamp_ns, 'frame_id': frame_id, 'height': scene.height,
            'width': scene.width, 'instances': instances}


def write_synthetic_bag(out_dir: PathLike, *, seed: int, num_frames: int, height: int = 480,
                        width: int = 640, fps: float = 30.0,
                        frame_id: str = 'camera_optical_frame',
                        start_time_ns: int = DEFAULT_START_NS, compressed: bool = True,
                        raw: bool = True, ground_truth: bool = True, jpeg_quality: int = 90,
                        depth: bool = False, **scene_options) -> pathlib.Path:
    """
    Write a camera bag of a synthetic sequence, and its ground truth beside the .mcap.

    Topics: ``/camera/image_raw`` (sensor_msgs/Image, rgb8; when ``raw``),
    ``/camera/image_raw/compressed`` (sensor_msgs/CompressedImage, JPEG; when
    ``compressed``) and ``/camera/camera_info`` (a pinhole K with a 60 degree horizontal
    field of view, plumb_bob with zero distortion). Frame ``i`` has the header stamp
    ``start_time_ns + i / fps``; each topic's receive timestamp follows it by a small,
    seeded latency (5-25 % of a frame period), so the bag is a pure function of the
    arguments. ``gt.jsonl`` (when ``ground_truth``) has one line per frame: frame index,
    stamp, size and per instance track_id, class_id, class_name, box, area, mask (COCO
    uncompressed RLE, ``hydranet_perception.masks``) and keypoints [x, y, v].

    With ``depth``, the scenes come from the generator's calibrated depth camera: also
    ``/camera/depth/image_raw`` (sensor_msgs/Image 16UC1, millimetres, registered to
    the colour image, 0 = no measurement) and ``/camera/depth/camera_info``, both
    CameraInfo topics carry that camera's K and plumb_bob D, and each instance in
    ``gt.jsonl`` has its true ``position`` and ``keypoints_3d`` (optical frame, metres).

    :param out_dir: the bag folder to create; it must not exist.
    :param seed, num_frames, height, width: as ``generate_sequence``; **scene_options too.
    :param fps: frame rate of the header stamps.
    :return: the bag folder.
    """
    if num_frames < 1 or fps <= 0 or not (compressed or raw):
        raise ValueError('need num_frames >= 1, fps > 0 and at least one image topic')
    store = get_typestore()
    t = store.types
    latency_rng = np.random.default_rng([int(seed), 0xBA6])
    period_ns = 1e9 / fps
    writer = open_writer(out_dir)
    topics = ([(TOPIC_IMAGE, 'sensor_msgs/msg/Image')] if raw else []) + \
        ([(TOPIC_COMPRESSED, 'sensor_msgs/msg/CompressedImage')] if compressed else []) + \
        [(TOPIC_CAMERA_INFO, 'sensor_msgs/msg/CameraInfo')] + \
        ([(TOPIC_DEPTH, 'sensor_msgs/msg/Image'),
          (TOPIC_DEPTH_INFO, 'sensor_msgs/msg/CameraInfo')] if depth else [])
    if depth:
        scene_options['depth'] = True
    try:
        conns = {topic: writer.add_connection(topic, msgtype, typestore=store,
                                              offered_qos_profiles=[CAMERA_QOS])
                 for topic, msgtype in topics}
        writer.set_custom_data('hydranet_perception.generator', json.dumps(
            {'seed': int(seed), 'num_frames': num_frames, 'height': height, 'width': width,
             'fps': fps, **({'depth': True} if depth else {})}, sort_keys=True))
        gt_lines = []
        for scene in generate_sequence(seed, num_frames, height=height, width=width,
                                       **scene_options):
            stamp = start_time_ns + round(scene.frame_index * period_ns)
            header = _header(store, stamp, frame_id)
            msgs = {TOPIC_CAMERA_INFO: _camera_info(store, header, height, width,
                                                    scene.camera_info)}
            if depth:
                mm = np.round(scene.depth * 1000.0).astype(np.uint16)  # 0 stays 0
                msgs[TOPIC_DEPTH] = t['sensor_msgs/msg/Image'](
                    header=header, height=height, width=width, encoding='16UC1',
                    is_bigendian=0, step=width * 2, data=mm.reshape(-1).view(np.uint8))
                msgs[TOPIC_DEPTH_INFO] = msgs[TOPIC_CAMERA_INFO]
            if raw:
                data, step = rgb_to_raw(scene.image, 'rgb8')
                msgs[TOPIC_IMAGE] = t['sensor_msgs/msg/Image'](
                    header=header, height=height, width=width, encoding='rgb8',
                    is_bigendian=0, step=step, data=np.frombuffer(data, np.uint8))
            if compressed:
                ok, jpg = cv2.imencode('.jpg', np.ascontiguousarray(scene.image[..., ::-1]),
                                       [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)])
                assert ok, 'OpenCV failed to encode a JPEG'
                msgs[TOPIC_COMPRESSED] = t['sensor_msgs/msg/CompressedImage'](
                    header=header, format=JPEG_FORMAT, data=jpg.reshape(-1))
            latency = {**_LATENCY, **(_DEPTH_LATENCY if depth else {})}
            jitter = dict(zip(_LATENCY, latency_rng.uniform(0.0, 0.05, len(_LATENCY))))
            if depth:
                jitter.update(zip(_DEPTH_LATENCY,
                                  latency_rng.uniform(0.0, 0.05, len(_DEPTH_LATENCY))))
            received = sorted((stamp + int((latency[topic] + jitter[topic]) * period_ns),
                               topic, msgtype) for topic, msgtype in topics)
            for receive_ns, topic, msgtype in received:
                writer.write(conns[topic], receive_ns, store.serialize_cdr(msgs[topic], msgtype))
            if ground_truth:
                gt_lines.append(json.dumps(_ground_truth(scene, stamp, frame_id),
                                           separators=(',', ':')))
    except BaseException:
        writer.abort()
        raise
    writer.close()
    out = pathlib.Path(out_dir)
    if ground_truth:
        (out / GT_FILE).write_text('\n'.join(gt_lines) + '\n')
    return out


def read_ground_truth(bag_dir: PathLike) -> List[Dict]:
    """Return the per-frame ground truth of a synthetic bag (``gt.jsonl``), in frame order."""
    path = pathlib.Path(bag_dir) / GT_FILE
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


__all__ = ['BagMessage', 'RawMessage', 'CAMERA_QOS', 'DEFAULT_START_NS', 'GT_FILE',
           'JPEG_FORMAT', 'TOPIC_CAMERA_INFO', 'TOPIC_COMPRESSED', 'TOPIC_DEPTH',
           'TOPIC_DEPTH_INFO', 'TOPIC_IMAGE',
           'bag_info', 'camera_matrix', 'format_info', 'iter_raw', 'open_writer',
           'read_bag', 'read_ground_truth', 'write_synthetic_bag']
