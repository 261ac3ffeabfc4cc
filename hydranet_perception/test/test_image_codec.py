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

"""Image conversion without cv_bridge: every encoding, and one test per kind of bad input."""

import array

import cv2
import numpy as np
import pytest

from hydranet_perception.image_codec import (compressed_to_rgb, ImageError, raw_to_rgb,
                                             rgb_to_raw, SUPPORTED_ENCODINGS)

RNG = np.random.default_rng(0)
RGB = RNG.integers(0, 256, size=(6, 8, 3), dtype=np.uint8)


def _raw(arr, encoding, pad=0):
    h = arr.shape[0]
    rows = np.ascontiguousarray(arr).reshape(h, -1).view(np.uint8)
    if pad:
        rows = np.concatenate([rows, np.zeros((h, pad), np.uint8)], axis=1)
    return dict(encoding=encoding, height=h, width=arr.shape[1], step=rows.shape[1],
                data=rows.tobytes())


def test_rgb8_is_a_view_not_a_copy():
    buf = bytearray(RGB.tobytes())
    out = raw_to_rgb(encoding='rgb8', height=6, width=8, step=24, data=buf)
    np.testing.assert_array_equal(out, RGB)
    assert np.shares_memory(out, np.frombuffer(buf, np.uint8))


def test_array_array_input_as_rclpy_gives_it():
    data = array.array('B', RGB.tobytes())
    np.testing.assert_array_equal(
        raw_to_rgb(encoding='rgb8', height=6, width=8, step=24, data=data), RGB)


@pytest.mark.parametrize('encoding,make', [
    ('bgr8', lambda x: x[..., ::-1]),
    ('rgba8', lambda x: np.concatenate([x, np.full(x.shape[:2] + (1,), 7, np.uint8)], 2)),
    ('bgra8', lambda x: np.concatenate([x[..., ::-1], np.zeros_like(x[..., :1])], 2)),
    ('8UC3', lambda x: x),
])
def test_colour_encodings_exact(encoding, make):
    out = raw_to_rgb(**_raw(make(RGB), encoding))
    np.testing.assert_array_equal(out, RGB)


def test_row_padding_is_respected():
    out = raw_to_rgb(**_raw(RGB, 'rgb8', pad=5))
    np.testing.assert_array_equal(out, RGB)


def test_mono_encodings():
    g = RGB[..., 0]
    out = raw_to_rgb(**_raw(g, 'mono8'))
    assert out.shape == (6, 8, 3)
    np.testing.assert_array_equal(out[..., 1], g)
    d = (np.arange(48, dtype=np.uint16).reshape(6, 8) * 1000)
    for enc in ('mono16', '16UC1'):
        out = raw_to_rgb(**_raw(d, enc))
        assert out[0, 0, 0] == 0 and out[-1, -1, 0] == 255  # stretched to 0..255
    big = raw_to_rgb(encoding='mono16', height=6, width=8, step=16,
                     data=d.astype('>u2').tobytes(), is_bigendian=True)
    assert big[-1, -1, 0] == 255 and big[0, 1, 0] == 5


def test_yuv422_variants_decode_grey():
    # Y=128, U=V=128 is mid grey in every YUV 4:2:2 layout.
    data = np.full((4, 8 * 2), 128, np.uint8).tobytes()
    for enc in ('yuv422', 'uyvy', 'yuyv', 'yuv422_yuy2'):
        out = raw_to_rgb(encoding=enc, height=4, width=8, step=16, data=data)
        assert out.shape == (4, 8, 3)
        assert np.abs(out.astype(int) - 128).max() <= 2


def test_yuyv_and_uyvy_differ_by_byte_order():
    # A pure-red pixel pair in YUYV: Y U Y V with U low, V high.
    yuyv = np.tile(np.array([76, 85, 76, 255], np.uint8), (2, 2))
    uyvy = yuyv[:, [1, 0, 3, 2, 5, 4, 7, 6]]
    a = raw_to_rgb(encoding='yuyv', height=2, width=4, step=8, data=yuyv.tobytes())
    b = raw_to_rgb(encoding='uyvy', height=2, width=4, step=8, data=uyvy.tobytes())
    np.testing.assert_array_equal(a, b)
    assert a[0, 0, 0] > 200 and a[0, 0, 1] < 60  # red


@pytest.mark.parametrize('encoding,pattern', [
    ('bayer_rggb8', ((0, 1), (1, 2))), ('bayer_bggr8', ((2, 1), (1, 0))),
    ('bayer_gbrg8', ((1, 2), (0, 1))), ('bayer_grbg8', ((1, 0), (2, 1)))])
def test_bayer_patterns_recover_a_flat_colour(encoding, pattern):
    colour = np.array([200, 100, 30])  # R, G, B
    mosaic = np.zeros((8, 8), np.uint8)
    for dy in range(2):
        for dx in range(2):
            mosaic[dy::2, dx::2] = colour[pattern[dy][dx]]
    out = raw_to_rgb(encoding=encoding, height=8, width=8, step=8, data=mosaic.tobytes())
    centre = out[2:6, 2:6].reshape(-1, 3).astype(int)
    assert np.abs(centre - colour).max() <= 2, centre[0]


def test_every_supported_encoding_decodes_something():
    for enc in SUPPORTED_ENCODINGS:
        bpp = {'mono16': 2, '16UC1': 2, '32FC1': 4, 'rgb16': 6, 'bgr16': 6, 'rgba8': 4,
               'bgra8': 4, '8UC4': 4, 'rgb8': 3, 'bgr8': 3, '8UC3': 3}.get(enc, 1)
        if enc in ('yuv422', 'uyvy', 'yuyv', 'yuv422_yuy2'):
            bpp = 2
        out = raw_to_rgb(encoding=enc, height=4, width=4, step=4 * bpp,
                         data=bytes(16 * bpp))
        assert out.shape == (4, 4, 3) and out.dtype == np.uint8, enc


# -- one test per kind of bad input -------------------------------------------------

def test_zero_size_refused():
    with pytest.raises(ImageError, match='empty') as e:
        raw_to_rgb(encoding='rgb8', height=0, width=640, step=1920, data=b'')
    assert e.value.kind == 'bad_size'


def test_absurd_size_refused():
    with pytest.raises(ImageError, match='absurd') as e:
        raw_to_rgb(encoding='rgb8', height=100000, width=100000, step=300000, data=b'')
    assert e.value.kind == 'bad_size'


def test_step_mismatch_refused():
    with pytest.raises(ImageError, match='step 20 is smaller') as e:
        raw_to_rgb(encoding='rgb8', height=6, width=8, step=20, data=RGB.tobytes())
    assert e.value.kind == 'bad_step'


def test_truncated_data_refused():
    with pytest.raises(ImageError, match='truncated') as e:
        raw_to_rgb(encoding='rgb8', height=6, width=8, step=24, data=RGB.tobytes()[:100])
    assert e.value.kind == 'truncated'


def test_unknown_encoding_refused():
    with pytest.raises(ImageError, match="unsupported encoding 'hsv8'") as e:
        raw_to_rgb(encoding='hsv8', height=6, width=8, step=24, data=RGB.tobytes())
    assert e.value.kind == 'bad_encoding'


def test_nan_in_float_image_refused():
    img = np.ones((4, 4), np.float32)
    img[1, 2] = np.nan
    with pytest.raises(ImageError, match='1 NaN/Inf') as e:
        raw_to_rgb(**_raw(img, '32FC1'))
    assert e.value.kind == 'nan'


def test_corrupt_jpeg_refused():
    ok, jpg = cv2.imencode('.jpg', RGB)
    assert ok
    with pytest.raises(ImageError, match='does not decode') as e:
        compressed_to_rgb(fmt='jpeg', data=jpg.tobytes()[:20] + b'\x00' * 50)
    assert e.value.kind == 'corrupt'
    with pytest.raises(ImageError, match='empty'):
        compressed_to_rgb(fmt='jpeg', data=b'')


def test_png_and_jpeg_decode_to_rgb():
    ok, png = cv2.imencode('.png', RGB[..., ::-1])
    np.testing.assert_array_equal(compressed_to_rgb(fmt='png', data=png.tobytes()), RGB)
    flat = np.zeros((16, 16, 3), np.uint8)
    flat[..., 0] = 220  # red in RGB
    ok, jpg = cv2.imencode('.jpg', flat[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95])
    out = compressed_to_rgb(fmt='jpeg', data=jpg.tobytes())
    assert out[8, 8, 0] > 200 and out[8, 8, 2] < 30


def test_rgb_to_raw_round_trip():
    for enc in ('rgb8', 'bgr8'):
        data, step = rgb_to_raw(RGB, enc)
        out = raw_to_rgb(encoding=enc, height=6, width=8, step=step, data=data)
        np.testing.assert_array_equal(out, RGB)
