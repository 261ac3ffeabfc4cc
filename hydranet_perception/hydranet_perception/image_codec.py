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
Camera image bytes to RGB arrays, and back, without cv_bridge (no ROS imports).

Works on the fields of ``sensor_msgs/Image`` (encoding, height, width, step, data) and
``sensor_msgs/CompressedImage`` (format, data), so it is tested without ROS. Raw images
are wrapped with ``np.frombuffer`` and strided views: rgb8 and bgr8 are not copied here
(the letterbox that follows makes the one copy the network needs).

These functions face the outside world: whatever the fields hold (wrong types, sizes
that do not fit the data, odd widths for 4:2:2, corrupt or truncated JPEG/PNG, a
compressed header declaring a huge image), the only exception they raise is
:class:`ImageError`, whose ``kind`` names a diagnostics counter and whose message says
what is wrong and what to fix. Kinds: ``bad_size``, ``bad_step``, ``truncated``,
``bad_encoding``, ``bad_data``, ``nan``, ``bad_format``, ``corrupt``.
"""

import operator
from typing import Optional, Tuple

import cv2
import numpy as np

MAX_SIDE = 16384
MAX_PIXELS = 64 * 1024 * 1024

# encoding -> (channels, dtype)
_RAW = {
    'rgb8': (3, np.uint8), 'bgr8': (3, np.uint8), 'rgba8': (4, np.uint8),
    'bgra8': (4, np.uint8), 'mono8': (1, np.uint8), '8UC1': (1, np.uint8),
    '8UC3': (3, np.uint8), '8UC4': (4, np.uint8), 'mono16': (1, np.uint16),
    '16UC1': (1, np.uint16), '32FC1': (1, np.float32), 'rgb16': (3, np.uint16),
    'bgr16': (3, np.uint16),
}
# YUV 4:2:2, two bytes per pixel. ROS 'yuv422' is UYVY; 'yuv422_yuy2' is YUYV.
_YUV = {'yuv422': cv2.COLOR_YUV2RGB_UYVY, 'uyvy': cv2.COLOR_YUV2RGB_UYVY,
        'yuyv': cv2.COLOR_YUV2RGB_YUYV, 'yuv422_yuy2': cv2.COLOR_YUV2RGB_YUYV}
# Bayer patterns named by the first 2x2 block (ROS names); OpenCV names them by the
# second row, hence the apparent swap.
_BAYER = {'bayer_rggb8': cv2.COLOR_BayerBG2RGB, 'bayer_bggr8': cv2.COLOR_BayerRG2RGB,
          'bayer_gbrg8': cv2.COLOR_BayerGR2RGB, 'bayer_grbg8': cv2.COLOR_BayerGB2RGB}

SUPPORTED_ENCODINGS = tuple(sorted(list(_RAW) + list(_YUV) + list(_BAYER)))

_PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
_JPEG_SOI = b'\xff\xd8'
# JPEG start-of-frame markers (every coding process); C4, C8 and CC are not frames.
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_STANDALONE = frozenset([0x01, 0xD8] + list(range(0xD0, 0xD8)))


class ImageError(ValueError):
    """An image that cannot be used; ``kind`` is its diagnostics counter name."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def _show(value, limit: int = 40) -> str:
    """Return a short repr of a field value for an error message."""
    try:
        text = repr(value)
    except Exception:  # noqa: B902 - any object may arrive; its repr is only a hint
        text = f'<{type(value).__name__}>'
    return text if len(text) <= limit else text[:limit - 3] + '...'


def _as_int(value, name: str, kind: str) -> int:
    try:
        return operator.index(value)
    except TypeError:
        raise ImageError(kind, f'{name} must be an integer, got {_show(value)}; fix the '
                         f"driver's {name} field") from None


def _as_bytes(data, what: str) -> np.ndarray:
    """
    Return the bytes of ``data`` as a read-only uint8[N] view where possible.

    Takes what rclpy and users give: bytes, bytearray, memoryview, array.array (any
    typecode: its bytes), a numpy array (its bytes) or a list/tuple of ints 0..255.
    """
    try:
        if isinstance(data, (list, tuple)):
            arr = np.asarray(data)
            if arr.ndim != 1 or (arr.size and arr.dtype.kind not in 'biu'):
                raise TypeError(f'a list of {arr.dtype} values')
            if arr.size and (int(arr.min()) < 0 or int(arr.max()) > 255):
                raise TypeError('a list with values outside 0..255')
            return arr.astype(np.uint8)
        if isinstance(data, np.ndarray):
            if data.dtype.hasobject:
                raise TypeError('an object array')
            return np.ascontiguousarray(data).reshape(-1).view(np.uint8)
        return np.frombuffer(data, dtype=np.uint8)
    except (TypeError, ValueError, OverflowError, BufferError) as e:
        raise ImageError('bad_data', f'{what} data must be bytes (bytes, bytearray, '
                         f'array.array or a contiguous buffer), got {type(data).__name__} '
                         f'({e}); fill the message field with the image bytes') from None


def _bytes_per_pixel(encoding: str) -> int:
    if encoding in _RAW:
        ch, dt = _RAW[encoding]
        return ch * np.dtype(dt).itemsize
    if encoding in _YUV:
        return 2
    return 1  # bayer


def _check_size(height: int, width: int, what: str = 'image'):
    if height <= 0 or width <= 0:
        raise ImageError('bad_size', f'{what} size {width}x{height} (width x height) is '
                         'empty or negative; the camera driver must publish height and width > 0')
    if height > MAX_SIDE or width > MAX_SIDE or height * width > MAX_PIXELS:
        raise ImageError('bad_size', f'{what} size {width}x{height} is absurd (limit '
                         f'{MAX_SIDE} per side, {MAX_PIXELS} pixels); check the driver')


def _check_encoding(encoding, height: int, width: int):
    if not isinstance(encoding, str) or encoding not in SUPPORTED_ENCODINGS:
        hint = ''
        if isinstance(encoding, str):
            near = [e for e in SUPPORTED_ENCODINGS if e.lower() == encoding.strip().lower()]
            hint = f' (did you mean {near[0]!r}? encodings are case-sensitive)' if near else ''
        raise ImageError('bad_encoding', f'unsupported encoding {_show(encoding)}{hint}; '
                         f'supported: {", ".join(SUPPORTED_ENCODINGS)} (or send '
                         'CompressedImage)')
    if encoding in _YUV and width % 2:
        raise ImageError('bad_size', f'{encoding} (YUV 4:2:2) packs each pair of pixels '
                         'into 4 bytes sharing one U and one V, so the width must be even; '
                         f'got {width}x{height}. Set an even width in the camera driver')
    if encoding in _BAYER and (width % 2 or height % 2):
        raise ImageError('bad_size', f'{encoding} is a mosaic of 2x2 colour cells, so '
                         f'width and height must be even; got {width}x{height}. Set an '
                         'even ROI/binning in the camera driver or publish a debayered '
                         'encoding (rgb8, bgr8)')


def raw_to_rgb(*, encoding: str, height: int, width: int, step: int, data,
               is_bigendian: bool = False) -> np.ndarray:
    """
    Turn the fields of a ``sensor_msgs/Image`` into an RGB image.

    :param encoding: a ROS image encoding (see ``SUPPORTED_ENCODINGS``).
    :param height, width, step: as in the message; ``step`` is bytes per row (any value
        >= width x bytes per pixel: rows may be padded, not aligned).
    :param data: the message's data (bytes, bytearray, array.array, a numpy array or a
        list of ints); bytes beyond the last row are ignored.
    :param is_bigendian: byte order of 16-bit and float data.
    :return: uint8[H, W, 3] RGB; a view into ``data`` where the encoding allows (rgb8).
    :raises ImageError: with kind ``bad_size`` (also an odd width for YUV 4:2:2, an odd
        width or height for Bayer), ``bad_step``, ``truncated``, ``bad_encoding``,
        ``bad_data`` or ``nan``; never another exception.
    """
    height = _as_int(height, 'height', 'bad_size')
    width = _as_int(width, 'width', 'bad_size')
    step = _as_int(step, 'step', 'bad_step')
    _check_size(height, width)
    _check_encoding(encoding, height, width)
    try:
        big = bool(is_bigendian)
    except (TypeError, ValueError):
        raise ImageError('bad_data', f'is_bigendian must be 0 or 1, got '
                         f'{_show(is_bigendian)}') from None
    bpp = _bytes_per_pixel(encoding)
    row = width * bpp
    if step < row:
        raise ImageError('bad_step', f'step {step} is smaller than width x bytes per pixel '
                         f'= {width} x {bpp} = {row} for {encoding}; fix the '
                         "driver's step field")
    buf = _as_bytes(data, encoding)
    if buf.size < step * (height - 1) + row:
        raise ImageError('truncated', f'{encoding} {width}x{height} with step {step} needs '
                         f'{step * height} bytes, got {buf.size}: the message is truncated '
                         '(or its step/height fields are wrong)')
    rows = np.lib.stride_tricks.as_strided(buf, shape=(height, row),
                                           strides=(step if height > 1 else row, 1),
                                           writeable=False)
    if encoding in _YUV:
        return cv2.cvtColor(np.ascontiguousarray(rows).reshape(height, width, 2),
                            _YUV[encoding])
    if encoding in _BAYER:
        return cv2.cvtColor(np.ascontiguousarray(rows), _BAYER[encoding])
    ch, dt = _RAW[encoding]
    if np.dtype(dt).itemsize == 1:
        img = rows.reshape(height, width, ch)
    else:
        dtype = np.dtype(dt).newbyteorder('>' if big else '<')
        img = np.ascontiguousarray(rows).view(dtype).reshape(height, width, ch)
    return _to_rgb8(img, encoding)


def _to_rgb8(img: np.ndarray, encoding: str) -> np.ndarray:
    if img.dtype.kind == 'f':
        finite = np.isfinite(img)
        if not finite.all():
            bad = int(img.size - np.count_nonzero(finite))
            raise ImageError('nan', f'{encoding} image has {bad} NaN/Inf values of '
                             f'{img.size}; publish a colour image or clean the data')
        img = _normalise(img)
    elif img.dtype.itemsize == 2:
        img = (img >> 8).astype(np.uint8) if encoding in ('rgb16', 'bgr16') else \
            _normalise(img)
    if encoding.startswith('bgr'):
        return img[..., 2::-1]
    if encoding in ('rgba8', '8UC4'):
        return img[..., :3]
    if img.shape[2] == 1:
        return np.repeat(img, 3, axis=2)
    return img


def _normalise(img: np.ndarray) -> np.ndarray:
    """
    Stretch a single-channel 16-bit or float image to 0..255 (depth-like inputs).

    In float64: the range of any finite float32 image (up to 2 x 3.4e38) and the
    scale (up to 255 / 1.4e-45) are finite there, so nothing overflows.
    """
    lo, hi = float(img.min()), float(img.max())
    if not hi > lo:
        return np.zeros(img.shape, np.uint8)
    scaled = (img.astype(np.float64) - lo) * (255.0 / (hi - lo))
    return np.rint(scaled, out=scaled).clip(0, 255).astype(np.uint8)


def _png_size(buf: np.ndarray, what: str) -> Tuple[int, int, bool]:
    """Return (height, width, complete) from a PNG's IHDR chunk (no decoding)."""
    head = buf[:24].tobytes()
    if len(head) < 24:
        raise ImageError('truncated', f'{what}: PNG of {buf.size} bytes ends before its '
                         'IHDR header; the message is truncated')
    if head[12:16] != b'IHDR':
        raise ImageError('corrupt', f'{what}: PNG without an IHDR chunk first; the data is '
                         'corrupt')
    width, height = int.from_bytes(head[16:20], 'big'), int.from_bytes(head[20:24], 'big')
    complete = buf[24:].tobytes().rfind(b'IEND') >= 0  # (data after it is ignored)
    return height, width, complete


def _jpeg_size(buf: np.ndarray, what: str) -> Tuple[int, int, bool]:
    """
    Return (height, width, complete) from a JPEG's frame header (no decoding).

    Walks the marker segments to the frame header (SOFn) and the first scan (SOS);
    complete when an end-of-image marker follows the scan (0xFF 0xD9 cannot occur in
    entropy-coded data, where 0xFF is followed by 0x00 or a restart marker; searched
    from the end, where it is, in microseconds).
    """
    b = buf.tobytes()
    n, i = len(b), 2
    frame: Optional[Tuple[int, int]] = None

    def cut(where):
        return ImageError('truncated', f'{what}: JPEG of {n} bytes ends {where}; the '
                          'message is truncated')
    while True:
        if i >= n:
            raise cut('before its first scan')
        if b[i] != 0xFF:
            raise ImageError('corrupt', f'{what}: JPEG has no marker at byte {i} (found '
                             f'0x{b[i]:02x}); the data is corrupt')
        while i < n and b[i] == 0xFF:  # fill bytes
            i += 1
        if i >= n:
            raise cut('inside a marker')
        marker = b[i]
        i += 1
        if marker in _JPEG_STANDALONE:
            continue
        if marker == 0xD9:
            raise ImageError('corrupt', f'{what}: JPEG ends (EOI) before any image scan; '
                             'the data is corrupt')
        if i + 2 > n:
            raise cut('inside a segment header')
        length = (b[i] << 8) | b[i + 1]
        if length < 2:
            raise ImageError('corrupt', f'{what}: JPEG segment 0xFF{marker:02X} has length '
                             f'{length}; the data is corrupt')
        if marker in _JPEG_SOF:
            if i + 7 > n:
                raise cut('inside its frame header')
            frame = ((b[i + 3] << 8) | b[i + 4], (b[i + 5] << 8) | b[i + 6])
        elif marker == 0xDA:  # start of scan
            if frame is None:
                raise ImageError('corrupt', f'{what}: JPEG scan before any frame header; '
                                 'the data is corrupt')
            return frame[0], frame[1], b.rfind(b'\xff\xd9', i + length) >= 0
        i += length


def compressed_to_rgb(*, fmt: str, data) -> np.ndarray:
    """
    Decode a ``sensor_msgs/CompressedImage`` (jpeg or png) into uint8[H, W, 3] RGB.

    The data decides (its JPEG or PNG signature), not ``fmt``, which image_transport
    fills with strings such as 'jpeg', 'png' or 'rgb8; jpeg compressed bgr8'. The size
    in the header is checked before decoding (a few bytes may declare a huge image);
    grey, 16-bit and alpha images come out as 8-bit RGB; EXIF orientation is ignored
    (the pixels stay in the camera's frame, as camera_info describes them).

    :raises ImageError: kind ``bad_format`` (neither JPEG nor PNG, e.g. compressedDepth),
        ``truncated``, ``corrupt`` (does not decode), ``bad_size`` (empty or absurd
        size in the header) or ``bad_data``; never another exception.
    """
    what = f'CompressedImage format {_show(fmt)}'
    buf = _as_bytes(data, what)
    if buf.size == 0:
        raise ImageError('corrupt', f'empty {what}: no data bytes')
    head = buf[:8].tobytes()
    if head == _PNG_SIGNATURE or (len(head) < 8 and _PNG_SIGNATURE.startswith(head)):
        height, width, complete = _png_size(buf, what)
    elif head.startswith(_JPEG_SOI) or head == _JPEG_SOI[:1]:
        height, width, complete = _jpeg_size(buf, what)
    else:
        depth = isinstance(fmt, str) and 'compresseddepth' in fmt.lower()
        hint = (' compressedDepth (a depth header before the PNG) is not decoded here; '
                'subscribe to a colour image' if depth else
                ' send jpeg or png (image_transport "compressed")')
        raise ImageError('bad_format', f'{what}: data is neither JPEG nor PNG (starts with '
                         f'{_show(head)});{hint}')
    _check_size(height, width, f'{what}: declared')
    if not complete:
        raise ImageError('truncated', f'{what}: {buf.size} bytes, the image data stops '
                         'before its end marker; the message is truncated')
    try:
        img = cv2.imdecode(buf, cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    except cv2.error as e:
        raise ImageError('corrupt', f'{what}: {buf.size} bytes do not decode ({e}); check '
                         'the publisher') from None
    if img is None:
        raise ImageError('corrupt', f'{what}: {buf.size} bytes do not decode (corrupt '
                         'JPEG/PNG data); check the publisher')
    if img.shape != (height, width, 3) or img.dtype != np.uint8:
        raise ImageError('corrupt', f'{what}: decoded to {img.dtype}{list(img.shape)}, '
                         f'not the {width}x{height} its header declares; check the '
                         'publisher')
    return img[..., ::-1]


def rgb_to_raw(rgb: np.ndarray, encoding: str = 'rgb8') -> Tuple[bytes, int]:
    """Encode uint8[H, W, 3] RGB as ``rgb8``, ``bgr8`` or ``mono8``; return (data, step)."""
    if encoding == 'rgb8':
        out = rgb
    elif encoding == 'bgr8':
        out = rgb[..., ::-1]
    elif encoding == 'mono8':
        out = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    else:
        raise ImageError('bad_encoding', f'cannot encode {encoding!r}')
    out = np.ascontiguousarray(out)
    return out.tobytes(), out.strides[0]
