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
import warnings

import cv2
from hydranet_perception.image_codec import (compressed_to_rgb, ImageError, raw_to_rgb,
                                             rgb_to_raw, SUPPORTED_ENCODINGS)
import numpy as np
import pytest

RNG = np.random.default_rng(0)
RGB = RNG.integers(0, 256, size=(6, 8, 3), dtype=np.uint8)


def _raw(arr, encoding, pad=0):
    h = arr.shape[0]
    rows = np.ascontiguousarray(arr).reshape(h, -1).view(np.uint8)
    if pad:
        rows = np.concatenate([rows, np.zeros((h, pad), np.uint8)], axis=1)
    return {'encoding': encoding, 'height': h, 'width': arr.shape[1],
            'step': rows.shape[1], 'data': rows.tobytes()}


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
    with pytest.raises(ImageError, match='empty or negative') as e:
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
    with pytest.raises(ImageError, match='corrupt') as e:
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


# -- regressions: inputs that used to escape as cv2.error / TypeError ------------------

@pytest.mark.parametrize('encoding', ['yuv422', 'uyvy', 'yuyv', 'yuv422_yuy2'])
@pytest.mark.parametrize('width', [1, 3, 641])
def test_yuv422_odd_width_refused(encoding, width):
    with pytest.raises(ImageError, match='width must be even') as e:
        raw_to_rgb(encoding=encoding, height=2, width=width, step=2 * width,
                   data=bytes(4 * width))
    assert e.value.kind == 'bad_size' and f'got {width}x2' in str(e.value)


@pytest.mark.parametrize('encoding', ['bayer_rggb8', 'bayer_bggr8', 'bayer_gbrg8',
                                      'bayer_grbg8'])
@pytest.mark.parametrize('height,width', [(1, 1), (3, 4), (4, 3), (481, 641)])
def test_bayer_odd_size_refused(encoding, height, width):
    with pytest.raises(ImageError, match='width and height must be even') as e:
        raw_to_rgb(encoding=encoding, height=height, width=width, step=width,
                   data=bytes(width * height))
    assert e.value.kind == 'bad_size'


@pytest.mark.parametrize('encoding,bpp,height,width', [
    ('rgb8', 3, 1, 1), ('bgr8', 3, 1, 7), ('mono8', 1, 5, 1), ('mono16', 2, 1, 1),
    ('32FC1', 4, 1, 1), ('rgba8', 4, 3, 1), ('yuv422', 2, 1, 2), ('yuyv', 2, 3, 2),
    ('bayer_rggb8', 1, 2, 2), ('rgb16', 6, 1, 1)])
def test_tiny_images_decode(encoding, bpp, height, width):
    out = raw_to_rgb(encoding=encoding, height=height, width=width, step=width * bpp,
                     data=bytes(range(256))[:height * width * bpp])
    assert out.shape == (height, width, 3) and out.dtype == np.uint8


@pytest.mark.parametrize('data', [
    list(RGB.tobytes()), tuple(RGB.tobytes()), bytearray(RGB.tobytes()),
    memoryview(RGB.tobytes()), RGB, RGB.reshape(-1), array.array('B', RGB.tobytes())])
def test_data_containers(data):
    out = raw_to_rgb(encoding='rgb8', height=6, width=8, step=24, data=data)
    np.testing.assert_array_equal(out, RGB)


@pytest.mark.parametrize('data', ['abc' * 100, None, 5, [1.5] * 144, [256] * 144,
                                  [-1] * 144, [[1, 2]] * 72, np.array([b'x'] * 144, object),
                                  memoryview(bytes(288))[::2]])
def test_data_that_is_not_bytes_refused(data):
    with pytest.raises(ImageError, match='data must be bytes') as e:
        raw_to_rgb(encoding='rgb8', height=6, width=8, step=24, data=data)
    assert e.value.kind == 'bad_data'


@pytest.mark.parametrize('field,value,kind', [
    ('height', 2.5, 'bad_size'), ('width', '8', 'bad_size'), ('height', None, 'bad_size'),
    ('step', 24.0, 'bad_step'), ('step', None, 'bad_step')])
def test_fields_that_are_not_integers_refused(field, value, kind):
    fields = {'encoding': 'rgb8', 'height': 6, 'width': 8, 'step': 24, 'data': RGB.tobytes()}
    fields[field] = value
    with pytest.raises(ImageError, match=f'{field} must be an integer') as e:
        raw_to_rgb(**fields)
    assert e.value.kind == kind


@pytest.mark.parametrize('encoding', [None, 3, b'rgb8', '', 'rgb8 ', 'bayer_rggb16'])
def test_odd_encodings_refused(encoding):
    with pytest.raises(ImageError, match='unsupported encoding') as e:
        raw_to_rgb(encoding=encoding, height=6, width=8, step=24, data=RGB.tobytes())
    assert e.value.kind == 'bad_encoding'


def test_encoding_case_hint():
    with pytest.raises(ImageError, match="did you mean 'rgb8'"):
        raw_to_rgb(encoding='RGB8', height=6, width=8, step=24, data=RGB.tobytes())


def test_sizes_that_overflow_int32_refused():
    for h, w in ((65536, 65536), (2 ** 31, 2), (1, 2 ** 40), (2 ** 63, 2 ** 63)):
        with pytest.raises(ImageError, match='absurd') as e:
            raw_to_rgb(encoding='rgb8', height=h, width=w, step=3 * w, data=bytes(12))
        assert e.value.kind == 'bad_size'
    with pytest.raises(ImageError, match='truncated') as e:  # step x height > 2^63
        raw_to_rgb(encoding='rgb8', height=4, width=2, step=2 ** 62, data=bytes(24))


def test_huge_step_on_a_single_row_is_harmless():
    out = raw_to_rgb(encoding='rgb8', height=1, width=8, step=2 ** 70, data=RGB[0].tobytes())
    np.testing.assert_array_equal(out, RGB[:1])


def test_step_not_a_multiple_of_the_pixel_size():
    d = np.arange(12, dtype=np.uint16).reshape(3, 4) * 100
    for big in (False, True):
        rows = d.astype('>u2' if big else '<u2').view(np.uint8)
        padded = np.concatenate([rows, np.full((3, 3), 0xAB, np.uint8)], 1)  # step 11
        out = raw_to_rgb(encoding='mono16', height=3, width=4, step=11,
                         data=padded.tobytes(), is_bigendian=big)
        want = np.rint(d * (255.0 / 1100.0)).astype(np.uint8)
        np.testing.assert_array_equal(out[..., 0], want)


def test_data_longer_than_needed_is_accepted():
    out = raw_to_rgb(encoding='rgb8', height=6, width=8, step=24,
                     data=RGB.tobytes() + bytes(1000))
    np.testing.assert_array_equal(out, RGB)


@pytest.mark.parametrize('big', [False, True])
def test_float_extremes_stretch_without_overflow(big):
    img = np.array([[-3.4e38, 0.0, 3.4e38]], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # no overflow or invalid-cast RuntimeWarning
        out = raw_to_rgb(encoding='32FC1', height=1, width=3, step=12,
                         data=img.astype('>f4' if big else '<f4').tobytes(),
                         is_bigendian=big)
    assert out[0, :, 0].tolist() == [0, 128, 255]
    tiny = np.array([[1.0, np.nextafter(np.float32(1.0), np.float32(2.0))]], np.float32)
    out = raw_to_rgb(**_raw(tiny, '32FC1'))
    assert out[0, :, 0].tolist() == [0, 255]
    flat = raw_to_rgb(**_raw(np.full((2, 2), 7.0, np.float32), '32FC1'))
    assert not flat.any()


def test_inf_in_float_image_refused():
    img = np.ones((2, 3), np.float32)
    img[0, 0], img[1, 1] = np.inf, -np.inf
    with pytest.raises(ImageError, match='2 NaN/Inf') as e:
        raw_to_rgb(**_raw(img, '32FC1'))
    assert e.value.kind == 'nan'


def test_bad_is_bigendian_refused():
    with pytest.raises(ImageError, match='is_bigendian') as e:
        raw_to_rgb(encoding='mono16', height=1, width=2, step=4, data=bytes(4),
                   is_bigendian=np.array([1, 0]))
    assert e.value.kind == 'bad_data'


# -- compressed ------------------------------------------------------------------------

def _png(img):
    ok, buf = cv2.imencode('.png', img)
    assert ok
    return buf.tobytes()


def _jpeg(img):
    ok, buf = cv2.imencode('.jpg', img, [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert ok
    return buf.tobytes()


@pytest.mark.parametrize('name,make,want', [
    ('grey png', lambda: _png(np.full((5, 7), 77, np.uint8)), (77, 77, 77)),
    ('16-bit grey png', lambda: _png(np.full((5, 7), 40000, np.uint16)), (156, 156, 156)),
    ('16-bit colour png', lambda: _png(np.dstack([np.full((5, 7), v, np.uint16)
                                                  for v in (256, 512, 65535)])),
     (255, 2, 1)),
    ('bgra png', lambda: _png(np.dstack([np.full((5, 7), v, np.uint8)
                                         for v in (10, 20, 30, 0)])), (30, 20, 10)),
    ('grey jpeg', lambda: _jpeg(np.full((5, 7), 77, np.uint8)), (77, 77, 77))])
def test_compressed_grey_16bit_alpha_give_rgb8(name, make, want):
    out = compressed_to_rgb(fmt='png', data=make())
    assert out.shape == (5, 7, 3) and out.dtype == np.uint8, name
    assert np.abs(out[2, 3].astype(int) - want).max() <= 1, (name, out[2, 3])


@pytest.mark.parametrize('fmt', ['jpeg', 'png', 'rgb8; jpeg compressed bgr8', '', 'bmp',
                                 'garbage \x00\xff', None, 'x' * 10000])
def test_compressed_format_string_does_not_matter(fmt):
    for data in (_jpeg(RGB[..., ::-1]), _png(RGB[..., ::-1])):
        out = compressed_to_rgb(fmt=fmt, data=data)
        assert out.shape == (6, 8, 3) and out.dtype == np.uint8


def test_compressed_1x1():
    px = np.array([[[10, 200, 30]]], np.uint8)  # BGR
    np.testing.assert_array_equal(compressed_to_rgb(fmt='png', data=_png(px)),
                                  px[..., ::-1])
    assert compressed_to_rgb(fmt='jpeg', data=_jpeg(px)).shape == (1, 1, 3)


def test_compressed_data_containers():
    png = _png(RGB[..., ::-1])
    for data in (bytearray(png), array.array('B', png), np.frombuffer(png, np.uint8),
                 list(png)):
        np.testing.assert_array_equal(compressed_to_rgb(fmt='png', data=data), RGB)
    for data in (None, 'png', 3.0):
        with pytest.raises(ImageError, match='data must be bytes') as e:
            compressed_to_rgb(fmt='png', data=data)
        assert e.value.kind == 'bad_data'


@pytest.mark.parametrize('make', [_jpeg, _png])
def test_compressed_truncated_refused(make):
    data = make(RNG.integers(0, 256, (32, 48, 3), dtype=np.uint8))
    for cut in (3, 10, 30, len(data) // 2, len(data) - 2):
        with pytest.raises(ImageError) as e:
            compressed_to_rgb(fmt='x', data=data[:cut])
        assert e.value.kind in ('truncated', 'corrupt'), (cut, e.value)
    with pytest.raises(ImageError, match='truncated') as e:
        compressed_to_rgb(fmt='x', data=data[:len(data) // 2])
    assert e.value.kind == 'truncated'


def test_neither_jpeg_nor_png_refused():
    ok, bmp = cv2.imencode('.bmp', RGB)
    for data in (bmp.tobytes(), b'hello world', bytes(100)):
        with pytest.raises(ImageError, match='neither JPEG nor PNG') as e:
            compressed_to_rgb(fmt='bmp', data=data)
        assert e.value.kind == 'bad_format'
    depth = bytes(12) + _png(np.zeros((4, 4), np.uint16))
    with pytest.raises(ImageError, match='compressedDepth') as e:
        compressed_to_rgb(fmt='16UC1; compressedDepth png', data=depth)
    assert e.value.kind == 'bad_format'


def test_huge_declared_size_refused_before_decoding():
    png = bytearray(_png(RGB))
    png[16:24] = (100000).to_bytes(4, 'big') + (100000).to_bytes(4, 'big')  # IHDR w, h
    with pytest.raises(ImageError, match='declared size 100000x100000 is absurd') as e:
        compressed_to_rgb(fmt='png', data=bytes(png))
    assert e.value.kind == 'bad_size'
    jpg = bytearray(_jpeg(RGB))
    sof = jpg.find(b'\xff\xc0')
    jpg[sof + 5:sof + 9] = b'\xff\xff\xff\xff'  # height, width = 65535
    with pytest.raises(ImageError, match='65535x65535 is absurd') as e:
        compressed_to_rgb(fmt='jpeg', data=bytes(jpg))
    assert e.value.kind == 'bad_size'
    jpg[sof + 5:sof + 9] = b'\x00\x00\x00\x08'  # height 0 (DNL, unsupported)
    with pytest.raises(ImageError, match='empty') as e:
        compressed_to_rgb(fmt='jpeg', data=bytes(jpg))


def test_jpeg_exif_orientation_is_ignored():
    # APP1 Exif with Orientation = 6 (rotate 90): the pixels must stay as sent (8x6).
    ifd = (b'II*\x00\x08\x00\x00\x00' + b'\x01\x00' +
           b'\x12\x01\x03\x00\x01\x00\x00\x00\x06\x00\x00\x00' + b'\x00\x00\x00\x00')
    app1 = b'Exif\x00\x00' + ifd
    jpg = _jpeg(RGB[..., ::-1])
    jpg = jpg[:2] + b'\xff\xe1' + (len(app1) + 2).to_bytes(2, 'big') + app1 + jpg[2:]
    assert cv2.imdecode(np.frombuffer(jpg, np.uint8), cv2.IMREAD_COLOR).shape[:2] == (8, 6)
    assert compressed_to_rgb(fmt='jpeg', data=jpg).shape == (6, 8, 3)
