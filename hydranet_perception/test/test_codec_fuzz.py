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
Fuzz the image codec, the part of the node that faces the outside world.

Random Image fields (every encoding and unknown ones, sizes, steps, byte order, data
lengths and containers) and random, mutated and truncated JPEG/PNG bytes with any
format string: the only exception allowed out is ``ImageError``, and a returned image
is uint8[H, W, 3] with the size the message gives. Deterministic (``derandomize``), no
example database, bounded in time.
"""

import array
import pathlib
import tempfile

import cv2
from hydranet_perception.image_codec import (compressed_to_rgb, ImageError, raw_to_rgb,
                                             SUPPORTED_ENCODINGS)
from hypothesis import given, HealthCheck, settings, strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
import numpy as np

# No example database (database=None below), and hypothesis' own caches (charmaps,
# constants) go to the temp dir, not to a .hypothesis folder in the checkout.
set_hypothesis_home_dir(pathlib.Path(tempfile.gettempdir()) / 'hydranet_perception_hypothesis')
FUZZ = settings(derandomize=True, database=None, deadline=None, max_examples=600,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

BPP = {'mono16': 2, '16UC1': 2, '32FC1': 4, 'rgb16': 6, 'bgr16': 6, 'rgba8': 4,
       'bgra8': 4, '8UC4': 4, 'rgb8': 3, 'bgr8': 3, '8UC3': 3, 'yuv422': 2, 'uyvy': 2,
       'yuyv': 2, 'yuv422_yuy2': 2}
UNKNOWN = ['hsv8', '', 'RGB8', 'rgb8 ', 'bayer_rggb16', '32FC3', '64FC1', 'rgba16',
           'nv12', 'jpeg']
CONTAINERS = ['bytes', 'bytearray', 'array', 'numpy', 'numpy_u16', 'memoryview', 'list',
              'str', 'none']


def _contain(raw: bytes, how: str):
    if how == 'bytes':
        return raw
    if how == 'bytearray':
        return bytearray(raw)
    if how == 'array':
        return array.array('B', raw)
    if how == 'numpy':
        return np.frombuffer(raw, np.uint8)
    if how == 'numpy_u16':  # its bytes, whatever the dtype
        return np.frombuffer(raw[:len(raw) // 2 * 2], np.uint16)
    if how == 'memoryview':
        return memoryview(raw)
    if how == 'list':
        return list(raw)
    if how == 'str':
        return raw.decode('latin-1')
    return None


YUV = ['yuv422', 'uyvy', 'yuyv', 'yuv422_yuy2']
BAYER = ['bayer_rggb8', 'bayer_bggr8', 'bayer_gbrg8', 'bayer_grbg8']
FAULTS = ['none'] * 4 + ['encoding', 'size', 'parity', 'step', 'length', 'container',
                         'endian', 'all']


@st.composite
def image_fields(draw):
    """Image fields, mostly consistent but for one fault (or all fields random)."""
    fault = draw(st.sampled_from(FAULTS))
    encoding = draw(st.sampled_from(SUPPORTED_ENCODINGS))
    if fault in ('encoding', 'all'):
        encoding = draw(st.one_of(st.sampled_from(UNKNOWN), st.text(max_size=12),
                                  st.sampled_from([None, 3, b'rgb8'])))
    bpp = BPP.get(encoding, 1) if isinstance(encoding, str) else 1
    height, width = draw(st.integers(1, 24)), draw(st.integers(1, 24))
    if fault != 'parity':  # 4:2:2 needs an even width, Bayer an even width and height
        width += width % 2 if encoding in YUV + BAYER else 0
        height += height % 2 if encoding in BAYER else 0
    if fault in ('size', 'all'):
        bad = st.one_of(st.integers(-3, 0), st.sampled_from(
            [2 ** 15, 2 ** 16, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 63, 16385, 8193,
             None, 2.0]))
        height, width = draw(st.one_of(st.tuples(bad, st.integers(1, 24)),
                                       st.tuples(st.integers(1, 24), bad),
                                       st.tuples(bad, bad)))
    row = width * bpp if isinstance(width, int) else 0
    step = row + draw(st.sampled_from([0] * 4 + [1, 2, 3, 5, 7, 64]))  # maybe padded
    if fault in ('step', 'all'):
        step = draw(st.one_of(st.integers(row - 4, row - 1), st.integers(-100, 400),
                              st.sampled_from([2 ** 31, 2 ** 32 - 1, 2 ** 63, None, 2.0])))
    need = 0
    if all(isinstance(v, int) and 0 < v < 2 ** 16 for v in (height, width, step)):
        need = step * height
    length = need + draw(st.sampled_from([0] * 4 + [1, 7, 1000]))  # extra bytes ignored
    if fault in ('length', 'all') or not need:
        length = draw(st.one_of(st.integers(max(0, need - 16), need),
                                st.integers(0, 4096)))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    rng = np.random.default_rng(seed)
    raw = rng.integers(0, 256, length, dtype=np.uint8).tobytes()
    floats = draw(st.sampled_from(['bytes', 'finite', 'nan']))
    if encoding == '32FC1' and floats != 'bytes':  # floats of any magnitude
        vals = rng.normal(0, 10.0 ** draw(st.integers(-45, 38)), length // 4)
        if floats == 'nan' and vals.size:
            vals[rng.integers(0, vals.size)] = rng.choice([np.nan, np.inf, -np.inf])
        with np.errstate(over='ignore'):
            raw = vals.astype('>f4' if seed % 2 else '<f4').tobytes() + bytes(length % 4)
    container = 'bytes'
    if fault in ('container', 'all') or draw(st.booleans()):
        choices = CONTAINERS if fault in ('container', 'all') else CONTAINERS[:-2]
        container = draw(st.sampled_from(choices))
    big = draw(st.sampled_from([0, 1]))
    if fault in ('endian', 'all'):
        big = draw(st.sampled_from([True, False, 2, 255, None]))
    return {'encoding': encoding, 'height': height, 'width': width, 'step': step,
            'data': _contain(raw, container), 'is_bigendian': big}


@FUZZ
@given(image_fields())
def test_raw_to_rgb_refuses_or_returns_rgb8(fields):
    try:
        out = raw_to_rgb(**fields)
    except ImageError as e:
        assert e.kind and str(e)
        return
    assert isinstance(out, np.ndarray) and out.dtype == np.uint8
    assert out.shape == (fields['height'], fields['width'], 3)


def _seeds():
    """Return valid JPEG and PNG files: colour, grey, 16-bit, alpha, tiny and odd sizes."""
    rng = np.random.default_rng(0)
    out = []
    for h, w in ((1, 1), (1, 5), (7, 1), (9, 13), (24, 17)):
        colour = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        for ext, img in (('.jpg', colour), ('.jpg', colour[..., 0]), ('.png', colour),
                         ('.png', colour[..., 0]),
                         ('.png', colour.astype(np.uint16) * 257),
                         ('.png', np.dstack([colour, colour[..., :1]]))):
            ok, buf = cv2.imencode(ext, img)
            assert ok
            out.append(((h, w), buf.tobytes()))
    ok, prog = cv2.imencode('.jpg', rng.integers(0, 256, (20, 30, 3), dtype=np.uint8),
                            [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])
    out.append(((20, 30), prog.tobytes()))
    return out


SEEDS = _seeds()
FORMATS = ['jpeg', 'png', 'rgb8; jpeg compressed bgr8', 'bgr8; png compressed bgr8',
           '16UC1; compressedDepth png', '', 'garbage\x00\xff', 'x' * 300]
HEADER = 40  # mutations past this keep the declared size (and the decoded one)


@st.composite
def compressed_messages(draw):
    size, data = draw(st.sampled_from(SEEDS))
    data = bytearray(data)
    how = draw(st.sampled_from(['none', 'truncate', 'flip', 'overwrite', 'insert',
                                'delete', 'append', 'prefix', 'random']))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    pos = int(rng.integers(0, len(data) + 1))  # uniform over the file, not near 0
    noise = rng.integers(0, 256, 64, dtype=np.uint8).tobytes()
    n = draw(st.integers(1, 64))
    if how == 'truncate':
        data = data[:pos]
    elif how == 'flip' and pos < len(data):
        data[pos] ^= 1 << int(rng.integers(0, 8))
    elif how == 'overwrite':
        data[pos:pos + n] = noise[:n]
    elif how == 'insert':
        data[pos:pos] = noise[:n]
    elif how == 'delete':
        del data[pos:pos + n]
    elif how == 'append':
        data += noise[:n]
    elif how == 'prefix':
        data[:0] = noise[:n]
    elif how == 'random':
        data = bytearray(noise[:n] * draw(st.integers(1, 40)))
    keeps_size = how in ('none', 'append') or (how in ('flip', 'overwrite', 'insert',
                                                       'delete', 'truncate') and
                                               pos >= HEADER + 200)
    fmt = draw(st.one_of(st.sampled_from(FORMATS), st.text(max_size=20)))
    container = draw(st.sampled_from(['bytes', 'bytearray', 'array', 'numpy', 'list']))
    return (fmt, _contain(bytes(data), container), size if keeps_size else None,
            how in ('none', 'append'))


@FUZZ
@given(compressed_messages())
def test_compressed_to_rgb_refuses_or_returns_rgb8(message):
    fmt, data, size, valid = message
    try:
        out = compressed_to_rgb(fmt=fmt, data=data)
    except ImageError as e:
        assert e.kind and str(e)
        assert not valid, f'a valid image (trailing bytes at most) was refused: {e}'
        return
    assert isinstance(out, np.ndarray) and out.dtype == np.uint8
    assert out.ndim == 3 and out.shape[2] == 3 and out.shape[0] >= 1 and out.shape[1] >= 1
    if size is not None:
        assert out.shape[:2] == size
