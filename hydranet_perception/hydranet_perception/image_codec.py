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

"""Camera image bytes to RGB arrays, and back, without cv_bridge (no ROS imports).

Works on the fields of ``sensor_msgs/Image`` (encoding, height, width, step, data) and
``sensor_msgs/CompressedImage`` (format, data), so it is tested without ROS. Raw images
are wrapped with ``np.frombuffer`` and strided views: rgb8 and bgr8 are not copied here
(the letterbox that follows makes the one copy the network needs).

Every refusal is an :class:`ImageError` whose ``kind`` names a diagnostics counter and
whose message says what is wrong and what to fix.
"""

from typing import Tuple

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


class ImageError(ValueError):
    """An image that cannot be used; ``kind`` is its diagnostics counter name."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def _bytes_per_pixel(encoding: str) -> int:
    if encoding in _RAW:
        ch, dt = _RAW[encoding]
        return ch * np.dtype(dt).itemsize
    if encoding in _YUV:
        return 2
    return 1  # bayer


def _check_size(height: int, width: int):
    if height <= 0 or width <= 0:
        raise ImageError('bad_size', f'image size {width}x{height} is empty; the camera '
                         'driver must publish height and width > 0')
    if height > MAX_SIDE or width > MAX_SIDE or height * width > MAX_PIXELS:
        raise ImageError('bad_size', f'image size {width}x{height} is absurd (limit '
                         f'{MAX_SIDE} per side, {MAX_PIXELS} pixels); check the driver')


def raw_to_rgb(*, encoding: str, height: int, width: int, step: int, data,
               is_bigendian: bool = False) -> np.ndarray:
    """Turn the fields of a ``sensor_msgs/Image`` into an RGB image.

    Args:
        encoding: a ROS image encoding (see ``SUPPORTED_ENCODINGS``).
        height, width, step: as in the message; ``step`` is bytes per row.
        data: the message's data (bytes, bytearray, array.array or a numpy array).
        is_bigendian: byte order of 16-bit and float data.

    Returns:
        uint8[H, W, 3] RGB; a view into ``data`` where the encoding allows (rgb8).

    Raises:
        ImageError: with kind ``bad_size``, ``bad_step``, ``truncated``,
            ``bad_encoding`` or ``nan``.

    """
    height, width, step = int(height), int(width), int(step)
    _check_size(height, width)
    if encoding not in _RAW and encoding not in _YUV and encoding not in _BAYER:
        raise ImageError('bad_encoding', f'unsupported encoding {encoding!r}; supported: '
                         f'{", ".join(SUPPORTED_ENCODINGS)} (or send CompressedImage)')
    bpp = _bytes_per_pixel(encoding)
    if step < width * bpp:
        raise ImageError('bad_step', f'step {step} is smaller than width x bytes per pixel '
                         f'= {width} x {bpp} = {width * bpp} for {encoding}; fix the '
                         "driver's step field")
    buf = np.frombuffer(data, dtype=np.uint8)
    need = step * (height - 1) + width * bpp
    if buf.size < need:
        raise ImageError('truncated', f'{encoding} {width}x{height} with step {step} needs '
                         f'{step * height} bytes, got {buf.size}: the message is truncated')
    rows = np.lib.stride_tricks.as_strided(buf, shape=(height, width * bpp),
                                           strides=(step, 1), writeable=False)
    if encoding in _YUV:
        return cv2.cvtColor(np.ascontiguousarray(rows).reshape(height, width, 2),
                            _YUV[encoding])
    if encoding in _BAYER:
        return cv2.cvtColor(np.ascontiguousarray(rows), _BAYER[encoding])
    ch, dt = _RAW[encoding]
    dtype = np.dtype(dt).newbyteorder('>' if is_bigendian else '<')
    if dtype.itemsize == 1:
        img = rows.reshape(height, width, ch)
    else:
        img = np.ascontiguousarray(rows).view(dtype).reshape(height, width, ch)
    return _to_rgb8(img, encoding)


def _to_rgb8(img: np.ndarray, encoding: str) -> np.ndarray:
    if img.dtype == np.float32 or img.dtype.kind == 'f':
        finite = np.isfinite(img)
        if not finite.all():
            bad = int(img.size - finite.sum())
            raise ImageError('nan', f'{encoding} image has {bad} NaN/Inf values of '
                             f'{img.size}; publish a colour image or clean the data')
        img = _normalise(img.astype(np.float32))
    elif img.dtype.itemsize == 2:
        img = (img >> 8).astype(np.uint8) if encoding in ('rgb16', 'bgr16') else \
            _normalise(img.astype(np.float32))
    if encoding.startswith('bgr'):
        return img[..., 2::-1]
    if encoding in ('rgba8', '8UC4'):
        return img[..., :3]
    if img.shape[2] == 1:
        return np.repeat(img, 3, axis=2)
    return img


def _normalise(img: np.ndarray) -> np.ndarray:
    """Stretch a single-channel 16-bit or float image to 0..255 (depth-like inputs)."""
    lo, hi = float(img.min()), float(img.max())
    scale = 255.0 / (hi - lo) if hi > lo else 0.0
    return ((img - lo) * scale).astype(np.uint8)


def compressed_to_rgb(*, fmt: str, data) -> np.ndarray:
    """Decode a ``sensor_msgs/CompressedImage`` (jpeg or png) into uint8[H, W, 3] RGB.

    Raises:
        ImageError: kind ``corrupt`` when the bytes do not decode, ``bad_size`` for an
            empty or absurd result.

    """
    buf = np.frombuffer(data, dtype=np.uint8)
    if buf.size == 0:
        raise ImageError('corrupt', f'empty {fmt or "compressed"} image: no data bytes')
    img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if img is None:
        raise ImageError('corrupt', f'{fmt or "compressed"} image of {buf.size} bytes does '
                         'not decode (corrupt or not JPEG/PNG); check the publisher')
    _check_size(img.shape[0], img.shape[1])
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
