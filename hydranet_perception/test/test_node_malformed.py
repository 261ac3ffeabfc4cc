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
No camera message may kill hydranet_node: hundreds of malformed ones over real DDS.

Two node processes, one per image transport (raw and compressed), started as a user
starts them. Each gets every kind of broken message this project has met or can
imagine (odd widths for YUV 4:2:2 and Bayer, sizes that overflow, truncated data, bad
steps, unknown encodings, NaN depth, corrupt/empty/truncated JPEG and PNG, huge
declared sizes, garbage format strings), each kind several times, then good frames,
tiny ones included (1x1, 1xN, Nx1). The nodes must stay alive, answer every good
frame with outputs of the frame's size, and count each refusal under its kind in
diagnostics, with no 'decode_failed' (an exception other than ImageError) and no
'inference' failure.

The image subscriptions are made reliable with a deep queue through the node's
``qos_overrides`` parameters, and the malformed messages go out on a reliable
publisher, so none is lost and the counts are exact; the test waits for the counters
(with a deadline), never for a fixed time.
"""

from builtin_interfaces.msg import Time
import cv2
from diagnostic_msgs.msg import DiagnosticArray
from hydranet_perception.data.synthetic import generate_scene
from hydranet_perception_msgs.msg import InstanceArray
import numpy as np
import pytest
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
import rosgraph
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import Header

RAW_TOPIC = '/fuzzcam/image_raw'
COMPRESSED_TOPIC = '/fuzzcam/image_raw/compressed'
NODES = {'raw': '/malformed_raw/hydranet', 'compressed': '/malformed_compressed/hydranet'}
OUTPUTS = {'instances': InstanceArray, 'panoptic': Image, 'overlay': Image}
REPEATS = 8  # each malformed message is sent this many times
DEPTH = 1000  # subscription and publisher queues: deeper than all messages sent at once
FRAME = generate_scene(11, height=240, width=320).image
RNG = np.random.default_rng(0)


def _image(encoding, height, width, step, data, big=0):
    return Image(encoding=encoding, height=height, width=width, step=step, data=bytes(data),
                 is_bigendian=big)


def _encode(ext, img, *params):
    ok, buf = cv2.imencode(ext, img, list(params))
    assert ok
    return buf.tobytes()


def _nan_depth(value, big=False):
    d = np.ones((4, 6), np.float32)
    d[2, 3] = value
    return _image('32FC1', 4, 6, 24, d.astype('>f4' if big else '<f4').tobytes(), int(big))


JPEG = _encode('.jpg', FRAME[..., ::-1])
PNG = _encode('.png', RNG.integers(0, 256, (40, 60, 3), dtype=np.uint8))


def _png_declaring(width, height):
    png = bytearray(PNG)
    png[16:24] = width.to_bytes(4, 'big') + height.to_bytes(4, 'big')
    return bytes(png)


def _jpeg_declaring(width, height):
    jpg = bytearray(JPEG)
    sof = jpg.find(b'\xff\xc0')
    jpg[sof + 5:sof + 9] = height.to_bytes(2, 'big') + width.to_bytes(2, 'big')
    return bytes(jpg)


def _png_bad_crc():
    png = bytearray(PNG)
    idat = png.find(b'IDAT')
    png[idat + 40] ^= 0xFF  # inside the compressed data: CRC (and zlib) mismatch
    return bytes(png)


# name -> (message, the diagnostics counter it must land in)
RAW_BAD = {
    'yuv422 odd width': (_image('yuv422', 2, 3, 6, bytes(12)), 'bad_size'),
    'uyvy odd width 641': (_image('uyvy', 2, 641, 1282, bytes(2564)), 'bad_size'),
    'yuyv 1x1': (_image('yuyv', 1, 1, 2, bytes(2)), 'bad_size'),
    'yuv422_yuy2 odd width': (_image('yuv422_yuy2', 4, 5, 10, bytes(40)), 'bad_size'),
    'bayer odd width': (_image('bayer_rggb8', 2, 3, 3, bytes(6)), 'bad_size'),
    'bayer odd height': (_image('bayer_bggr8', 3, 4, 4, bytes(12)), 'bad_size'),
    'bayer 1x1': (_image('bayer_grbg8', 1, 1, 1, bytes(1)), 'bad_size'),
    'bayer 641x481': (_image('bayer_gbrg8', 481, 641, 641, bytes(641 * 481)), 'bad_size'),
    'zero size': (_image('rgb8', 0, 0, 0, b''), 'bad_size'),
    'zero width': (_image('rgb8', 4, 0, 0, b''), 'bad_size'),
    'huge size': (_image('rgb8', 100000, 100000, 300000, bytes(64)), 'bad_size'),
    'int32 overflow': (_image('rgb8', 65536, 65536, 196608, bytes(64)), 'bad_size'),
    'uint32 max width': (_image('mono8', 1, 2 ** 32 - 1, 2 ** 32 - 1, bytes(8)), 'bad_size'),
    'truncated rgb8': (_image('rgb8', 240, 320, 960, bytes(100)), 'truncated'),
    'one byte short': (_image('rgb8', 6, 8, 24, bytes(143)), 'truncated'),
    'no data': (_image('bgr8', 6, 8, 24, b''), 'truncated'),
    'mono16 odd bytes': (_image('mono16', 3, 3, 6, bytes(17)), 'truncated'),
    'huge step': (_image('rgb8', 2, 2, 2 ** 32 - 1, bytes(12)), 'truncated'),
    'step too small': (_image('rgb8', 6, 8, 20, bytes(144)), 'bad_step'),
    'step zero': (_image('mono8', 6, 8, 0, bytes(48)), 'bad_step'),
    'rgb16 step of rgb8': (_image('rgb16', 2, 4, 12, bytes(48)), 'bad_step'),
    'unknown encoding': (_image('hsv8', 2, 2, 6, bytes(12)), 'bad_encoding'),
    'empty encoding': (_image('', 2, 2, 6, bytes(12)), 'bad_encoding'),
    'wrong case': (_image('RGB8', 2, 2, 6, bytes(12)), 'bad_encoding'),
    'bayer16': (_image('bayer_rggb16', 2, 2, 4, bytes(8)), 'bad_encoding'),
    'garbage encoding': (_image('\u00dfgr8 \U0001f4f7', 2, 2, 6, bytes(12)), 'bad_encoding'),
    'nan depth': (_nan_depth(np.nan), 'nan'),
    'inf depth': (_nan_depth(np.inf), 'nan'),
    'big-endian nan depth': (_nan_depth(-np.nan, big=True), 'nan'),
}


def _compressed(fmt, data):
    return CompressedImage(format=fmt, data=data)


COMPRESSED_BAD = {
    'empty jpeg': (_compressed('jpeg', b''), 'corrupt'),
    'jpeg header then zeros': (_compressed('jpeg', JPEG[:20] + bytes(50)), 'corrupt'),
    'jpeg ends at once': (_compressed('jpeg', b'\xff\xd8\xff\xd9'), 'corrupt'),
    'truncated jpeg': (_compressed('jpeg', JPEG[:len(JPEG) // 2]), 'truncated'),
    'jpeg without end': (_compressed('jpeg', JPEG[:-2]), 'truncated'),
    'truncated png': (_compressed('png', PNG[:len(PNG) // 2]), 'truncated'),
    'png signature only': (_compressed('png', PNG[:8]), 'truncated'),
    'png bad crc': (_compressed('png', _png_bad_crc()), 'corrupt'),
    'png huge size': (_compressed('png', _png_declaring(100000, 100000)), 'bad_size'),
    'jpeg huge size': (_compressed('jpeg', _jpeg_declaring(65535, 65535)), 'bad_size'),
    'jpeg zero height': (_compressed('jpeg', _jpeg_declaring(320, 0)), 'bad_size'),
    'garbage': (_compressed('jpeg', RNG.integers(0, 256, 500, dtype=np.uint8).tobytes()),
                'bad_format'),
    'bmp': (_compressed('bmp', _encode('.bmp', FRAME[:8, :8])), 'bad_format'),
    'compressedDepth': (_compressed('16UC1; compressedDepth png',
                                    bytes(12) + _encode('.png', np.zeros((4, 4), np.uint16))),
                        'bad_format'),
    'garbage format string': (_compressed('\x01\x02 ;; jpeg?? \u00ff' * 20, b'not an image'),
                              'bad_format'),
}

# name -> (message, (height, width) of the outputs)
RAW_GOOD = {
    'rgb8 320x240': (_image('rgb8', 240, 320, 960, FRAME.tobytes()), (240, 320)),
    'rgb8 1x1': (_image('rgb8', 1, 1, 3, bytes([200, 10, 30])), (1, 1)),
    'mono8 640x1': (_image('mono8', 1, 640, 640, bytes(range(256)) * 2 + bytes(128)),
                    (1, 640)),
    'bgr8 1x480': (_image('bgr8', 480, 1, 3, np.tile(FRAME[:, 0], (2, 1)).tobytes()),
                   (480, 1)),
    'rgb8 3x1 padded, longer data': (_image('rgb8', 1, 3, 16, bytes(range(40))), (1, 3)),
    'bayer 2x2': (_image('bayer_rggb8', 2, 2, 2, bytes([200, 90, 90, 20])), (2, 2)),
    'yuv422 2x1': (_image('yuv422', 1, 2, 4, bytes([128, 90, 128, 200])), (1, 2)),
    '32FC1 1x1': (_image('32FC1', 1, 1, 4, np.float32(1.5).tobytes()), (1, 1)),
    'mono16 big-endian 3x2': (_image('mono16', 2, 3, 6, np.arange(6, dtype='>u2').tobytes(),
                                     1), (2, 3)),
}
COMPRESSED_GOOD = {
    'jpeg 320x240': (_compressed('jpeg', JPEG), (240, 320)),
    'image_transport format': (_compressed('rgb8; jpeg compressed bgr8', JPEG), (240, 320)),
    'png 1x1': (_compressed('png', _encode('.png', FRAME[:1, :1])), (1, 1)),
    'jpeg 1x1': (_compressed('jpeg', _encode('.jpg', FRAME[:1, :1])), (1, 1)),
    'png 16-bit grey 7x5': (_compressed('png', _encode(
        '.png', RNG.integers(0, 65536, (5, 7), dtype=np.uint16))), (5, 7)),
    'png bgra 1x9': (_compressed('png', _encode(
        '.png', RNG.integers(0, 256, (9, 1, 4), dtype=np.uint8))), (9, 1)),
    'jpeg grey 13x9': (_compressed('', _encode('.jpg', FRAME[:9, :13, 0])), (9, 13)),
}
CASES = {'raw': (RAW_BAD, RAW_GOOD), 'compressed': (COMPRESSED_BAD, COMPRESSED_GOOD)}


def test_enough_malformed_kinds():
    assert len(RAW_BAD) + len(COMPRESSED_BAD) >= 25
    assert (len(RAW_BAD) + len(COMPRESSED_BAD)) * REPEATS >= 300


@pytest.fixture(scope='module')
def graph(tmp_path_factory):
    """Both nodes (started together: the model loads in parallel) and a watcher."""
    tmp = tmp_path_factory.mktemp('malformed')
    deep = {topic: {'subscription': {'reliability': 'reliable', 'history': 'keep_last',
                                     'depth': DEPTH}}
            for topic in (RAW_TOPIC, COMPRESSED_TOPIC)}  # separate dicts: no YAML aliases
    common = {'input_width': 320, 'input_height': 256, 'diagnostics_period': 0.2,
              'publish_overlay': True, 'qos_overrides': deep}
    remaps = {'image': RAW_TOPIC, 'image/compressed': COMPRESSED_TOPIC,
              'camera_info': '/fuzzcam/camera_info'}
    procs = {t: rosgraph.start_node(tmp, params=dict(common, image_transport=t),
                                    namespace=NODES[t].rsplit('/', 1)[0], remaps=remaps,
                                    log_name=f'node_{t}')
             for t in NODES}
    w = rosgraph.Watcher('malformed_test_watcher')
    for ns in NODES.values():
        for topic, msg_type in OUTPUTS.items():
            w.subscribe(msg_type, f'{ns}/{topic}')
    w.subscribe(DiagnosticArray, '/diagnostics')
    qos = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=DEPTH,
                     reliability=ReliabilityPolicy.RELIABLE)
    w.pubs = {'raw': w.node.create_publisher(Image, RAW_TOPIC, qos),
              'compressed': w.node.create_publisher(CompressedImage, COMPRESSED_TOPIC, qos)}
    w.procs = procs
    yield w
    w.close()
    for t, proc in procs.items():
        assert rosgraph.stop_node(proc) == 0, f'{t}:\n' + rosgraph.node_log(proc)


def _diag(g, ns):
    """Return the latest diagnostics values of node ``ns`` ({} before the first)."""
    name = f'{ns}: pipeline'
    for msg in reversed(g.received['/diagnostics']):
        for s in msg.status:
            if s.name == name:
                return {kv.key: kv.value for kv in s.values}
    return {}


def _expected_counts(bad):
    counts = {}
    for _, kind in bad.values():
        counts[kind] = counts.get(kind, 0) + REPEATS
    return counts


def _answer(g, transport, name, msg, size, stamp, attempts):
    """Send a good frame until its outputs arrive (the node keeps the newest frame only)."""
    ns, proc, pub = NODES[transport], g.procs[transport], g.pubs[transport]
    msg.header = Header(stamp=stamp, frame_id=name)

    def answered():
        return all(rosgraph.by_stamp(g.received[f'{ns}/{t}'], stamp) for t in OUTPUTS)
    for _ in range(attempts):
        pub.publish(msg)
        if g.spin_until(answered, 2.0, proc):
            break
    assert proc.poll() is None, f'{ns} died on {name}:\n' + rosgraph.node_log(proc)
    assert answered(), f'{ns} never answered {name}:\n' + rosgraph.node_log(proc)
    out = {t: rosgraph.by_stamp(g.received[f'{ns}/{t}'], stamp)[-1] for t in OUTPUTS}
    assert (out['instances'].image_height, out['instances'].image_width) == size, name
    for t in ('panoptic', 'overlay'):
        assert (out[t].height, out[t].width) == size, (name, t)
        assert len(out[t].data) == out[t].step * size[0], (name, t)


@pytest.mark.parametrize('transport', sorted(NODES))
def test_malformed_messages_are_counted_and_good_frames_answered(graph, transport):
    ns, proc, pub = NODES[transport], graph.procs[transport], graph.pubs[transport]
    bad, good = CASES[transport]
    # A good frame first: once it is answered, the node is up and its reader matched to
    # our publisher, so no malformed message below is sent before it can arrive.
    name, (msg, size) = next(iter(good.items()))
    _answer(graph, transport, name, msg, size, Time(sec=4000), attempts=60)

    for _ in range(REPEATS):  # interleaved kinds, as a misbehaving driver would send
        for i, (msg, _) in enumerate(bad.values()):
            msg.header = Header(stamp=Time(sec=5000, nanosec=i), frame_id='fuzz')
            pub.publish(msg)
    want = _expected_counts(bad)
    total = len(bad) * REPEATS

    def counted():
        d = _diag(graph, ns)
        errors = {k[len('errors.'):]: int(v) for k, v in d.items() if k.startswith('errors.')}
        return d.get('frames_rejected') == str(total) and errors == want
    ok = graph.spin_until(counted, 30, proc)
    assert proc.poll() is None, f'{ns} died:\n' + rosgraph.node_log(proc)
    assert ok, (f'{ns}: counters {_diag(graph, ns)}, expected frames_rejected={total} and '
                f'errors {want} (nothing else, e.g. no decode_failed or inference)\n' +
                rosgraph.node_log(proc))

    for i, (name, (msg, size)) in enumerate(good.items()):
        _answer(graph, transport, name, msg, size, Time(sec=6000 + i), attempts=30)

    # Two more diagnostics periods: the good frames added no refusal and no failure.
    def diag_count():
        return sum(s.name == f'{ns}: pipeline' for m in graph.received['/diagnostics']
                   for s in m.status)
    n0 = diag_count()
    assert graph.spin_until(lambda: diag_count() >= n0 + 2, 10, proc)
    assert counted(), _diag(graph, ns)
    assert int(_diag(graph, ns)['frames_processed']) >= len(good) + 1
    assert proc.poll() is None
