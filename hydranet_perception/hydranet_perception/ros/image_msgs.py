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

"""sensor_msgs images to and from numpy, the project's own cv_bridge (no rclpy)."""

import array

from hydranet_perception.image_codec import compressed_to_rgb, ImageError, raw_to_rgb
import numpy as np
from sensor_msgs.msg import CompressedImage, Image


def image_to_rgb(msg: Image) -> np.ndarray:
    """Return uint8[H, W, 3] RGB for an Image message (a view where possible)."""
    return raw_to_rgb(encoding=msg.encoding, height=msg.height, width=msg.width,
                      step=msg.step, data=msg.data, is_bigendian=bool(msg.is_bigendian))


def compressed_to_rgb_msg(msg: CompressedImage) -> np.ndarray:
    """Return uint8[H, W, 3] RGB for a CompressedImage message."""
    return compressed_to_rgb(fmt=msg.format, data=msg.data)


def array_to_image(array: np.ndarray, encoding: str, header) -> Image:
    """
    Wrap an array in an Image message with the given header.

    Supported: uint8[H, W, 3] as rgb8/bgr8, uint8[H, W] as mono8, int32[H, W] as 32SC1.
    """
    expected = {'rgb8': (np.uint8, 3), 'bgr8': (np.uint8, 3), 'mono8': (np.uint8, 2),
                '32SC1': (np.int32, 2)}
    if encoding not in expected:
        raise ImageError('bad_encoding', f'cannot publish encoding {encoding!r}')
    dtype, ndim = expected[encoding]
    arr = np.ascontiguousarray(array, dtype=dtype)
    if arr.ndim != ndim:
        raise ImageError('bad_size', f'{encoding} needs a {ndim}-D array, got {arr.shape}')
    msg = Image()
    msg.header = header
    msg.height, msg.width = int(arr.shape[0]), int(arr.shape[1])
    msg.encoding = encoding
    msg.is_bigendian = 0
    msg.step = int(arr.strides[0])
    msg.data = as_array('B', arr.reshape(-1).view(np.uint8))  # the bytes, any dtype
    return msg


def as_array(typecode: str, values: np.ndarray) -> array.array:
    """
    Copy a numpy array into the ``array.array`` a ROS sequence field stores.

    One memcpy, and the field setters take it as is, also with field checks on
    (``ROS_PYTHON_CHECK_FIELDS=1``), where bytes or numpy arrays would be checked item
    by item (seconds for an image) or refused.
    """
    out = array.array(typecode)
    out.frombytes(memoryview(np.ascontiguousarray(values, dtype=np.dtype(typecode))).cast('B'))
    return out
