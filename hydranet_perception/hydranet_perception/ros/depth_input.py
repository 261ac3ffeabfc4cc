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
One camera's aligned depth input: subscriptions, time pairing and the checks before 3D.

With ``depth_topic`` set (e.g. ``depth/image``, relative to the camera's namespace), a
camera also reads a depth image registered to its colour image (``16UC1`` millimetres
or ``32FC1`` metres, as depth cameras publish aligned depth) and the CameraInfo beside
it (the topic's sibling ``camera_info``, as image_transport names it: ``depth/image``
-> ``depth/camera_info``).

The callbacks only check and queue depth images (a view of the message's bytes) in an
``ApproximateTimeSync`` of ``depth_queue_size`` per camera. When the colour frame's
prediction is ready (after the forward pass, so depth that arrives up to then is
there), ``pair`` takes the depth image nearest its stamp within ``depth_slop_s`` by
message_filters' rule; the colour frame never waits for depth. What cannot be used is
a counted problem (``errors.<kind>`` in diagnostics, a throttled log line) and the
frame goes on in 2D: ``depth_encoding`` (not 16UC1/32FC1, or a malformed message),
``depth_unsynced`` (depth arrives, none within the slop), ``depth_size`` (another size
than the colour image), ``depth_no_camera_info``, ``depth_camera_info`` (zero focal
length, a size that is not the image's), ``depth_empty`` (no valid pixel: all 0/NaN).
A depth topic that stays silent is a diagnostics warning, not a count per frame.
"""

import time
from typing import Callable, Optional, Tuple

from hydranet_perception.geometry import (CameraModelError, depth_in_metres, DepthError,
                                          PinholeCamera)
from hydranet_perception.inference.time_sync import ApproximateTimeSync
import numpy as np
from rclpy.qos_overriding_options import QoSOverridingOptions
from sensor_msgs.msg import CameraInfo, Image

DEPTH_ENCODINGS = {'16UC1': np.uint16, 'mono16': np.uint16, '32FC1': np.float32}


class DepthProblem(ValueError):
    """A depth input that cannot be used for a frame; ``kind`` names the counter."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def camera_info_topic(depth_topic: str) -> str:
    """Return the CameraInfo topic beside an image topic (``a/b/image`` -> ``a/b/camera_info``)."""
    head, sep, _ = depth_topic.rstrip('/').rpartition('/')
    return f'{head}{sep}camera_info'


def depth_array(msg: Image) -> np.ndarray:
    """
    Return the depth image of a message: uint16[H, W] mm or float32[H, W] m (a view).

    :raises DepthProblem: kind ``depth_encoding`` for another encoding, an empty or
        absurd size, a short step or truncated data.
    """
    dtype = DEPTH_ENCODINGS.get(msg.encoding)
    if dtype is None:
        raise DepthProblem('depth_encoding', f'depth encoding {msg.encoding!r} is not '
                           'supported: publish aligned depth as 16UC1 (millimetres) or '
                           '32FC1 (metres)')
    h, w, step = int(msg.height), int(msg.width), int(msg.step)
    itemsize = np.dtype(dtype).itemsize
    if not (0 < h <= 16384 and 0 < w <= 16384):
        raise DepthProblem('depth_encoding', f'depth image size {w}x{h} is empty or absurd')
    if step < w * itemsize:
        raise DepthProblem('depth_encoding', f'depth step {step} < width x {itemsize} bytes '
                           f'= {w * itemsize} for {msg.encoding}')
    buf = np.frombuffer(msg.data, np.uint8)
    if buf.size < step * h:
        raise DepthProblem('depth_encoding', f'{msg.encoding} {w}x{h} with step {step} '
                           f'needs {step * h} bytes, got {buf.size} (truncated)')
    rows = buf[:step * h].reshape(h, step)[:, :w * itemsize]
    order = '>' if msg.is_bigendian else '<'
    depth = np.ascontiguousarray(rows).view(np.dtype(dtype).newbyteorder(order)).reshape(h, w)
    return depth.astype(dtype, copy=False)  # native byte order (a copy if big-endian)


class DepthInput:
    """
    A camera's depth subscriptions and the pairing of its depth with colour frames.

    :param node: the node (the subscriptions are its own).
    :param topic: the depth image topic, already under the camera's namespace.
    :param qos: the subscriptions' QoS.
    :param queue_size: depth images kept for pairing.
    :param slop_s: the largest stamp difference paired, seconds.
    :param silent_after_s: seconds without depth after which the topic counts as silent
        (frames then go on in 2D without a count each; diagnostics warn).
    :param problem: called as ``problem(kind, message)`` for each refusal (counts, logs).
    """

    def __init__(self, node, topic: str, *, qos, queue_size: int, slop_s: float,
                 silent_after_s: float, problem: Callable[[str, str], None]):
        self.topic, self.info_topic = topic, camera_info_topic(topic)
        self._node, self._problem = node, problem
        self.silent_after_s = float(silent_after_s)
        self._sync = ApproximateTimeSync(num_inputs=2, queue_size=queue_size, slop_s=slop_s)
        self.camera_info: Optional[CameraInfo] = None
        self.received = 0
        self.paired = 0
        self.last_depth_at: Optional[float] = None
        self.created_at = time.monotonic()
        self._camera_key, self._camera = None, None
        # QoS overridable from parameters, as the colour image's (qos_overrides.<topic>)
        self._subscriptions = [
            node.create_subscription(
                Image, topic, self._on_depth, qos,
                qos_overriding_options=QoSOverridingOptions.with_default_policies()),
            node.create_subscription(CameraInfo, self.info_topic, self._on_info, qos)]

    def destroy(self):
        """Destroy the subscriptions and forget queued depth images."""
        for sub in self._subscriptions:
            self._node.destroy_subscription(sub)
        self._subscriptions = []
        self._sync.clear()

    def _on_info(self, msg: CameraInfo):
        self.camera_info = msg

    def _on_depth(self, msg: Image):
        self.received += 1
        self.last_depth_at = time.monotonic()
        try:
            depth = depth_array(msg)
        except DepthProblem as e:
            self._problem(e.kind, f'{self._where()}: {e}')
            return
        except Exception as e:  # noqa: B902 - a malformed message must not kill the node
            self._problem('depth_encoding', f'{self._where()}: {type(e).__name__}: {e}')
            return
        stamp = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
        self._sync.add(1, stamp, (depth, msg.encoding))

    def _where(self) -> str:
        return self._node.resolve_topic_name(self.topic)

    def silent_s(self) -> float:
        """Return seconds since the last depth image (since creation when none came)."""
        return time.monotonic() - (self.last_depth_at or self.created_at)

    def pair(self, header, image_size: Tuple[int, int], colour_info=None
             ) -> Tuple[Optional[np.ndarray], Optional[PinholeCamera]]:
        """
        Return the depth (float32[H, W] metres, 0 = none) and camera model for a frame.

        :param header: the colour image's header.
        :param image_size: (H, W) of the colour image.
        :param colour_info: the colour camera's CameraInfo, used when the depth topic
            has none (aligned depth shares the colour camera's model).
        :return: (depth, camera), or (None, None) when there is none to use (silent
            topic, or a refusal counted through ``problem``).
        """
        if self.last_depth_at is None or self.silent_s() > self.silent_after_s:
            return None, None  # silent: a diagnostics warning, not a count per frame
        stamp = header.stamp.sec * 1_000_000_000 + header.stamp.nanosec
        try:
            return self._check(self._sync.match(0, stamp, None), stamp, image_size,
                               colour_info)
        except DepthProblem as e:
            self._problem(e.kind, f'{self._where()}: {e}')
        except (DepthError, CameraModelError) as e:
            self._problem('depth_camera_info' if isinstance(e, CameraModelError)
                          else 'depth_encoding', f'{self._where()}: {e}')
        return None, None

    def _check(self, pair, stamp, image_size, colour_info):
        if pair is None:
            raise DepthProblem('depth_unsynced', f'no depth image within '
                               f'{self._sync.slop_ns / 1e6:g} ms of the colour stamp '
                               f'{stamp / 1e9:.6f} ({self._sync.pending(1)} waiting): '
                               'stamp depth and colour from the same clock, or raise '
                               'depth_slop_s')
        depth, encoding = pair[1]
        if tuple(depth.shape) != tuple(image_size):
            raise DepthProblem('depth_size', f'depth image is {depth.shape[1]}x'
                               f'{depth.shape[0]}, the colour image {image_size[1]}x'
                               f'{image_size[0]}: publish depth registered (aligned) to '
                               'the colour camera')
        info = self.camera_info if self.camera_info is not None else colour_info
        if info is None:
            raise DepthProblem('depth_no_camera_info', f'no CameraInfo on '
                               f'{self._node.resolve_topic_name(self.info_topic)} nor on '
                               "the colour camera's camera_info: 3D needs the intrinsics")
        camera = self._camera_for(info, image_size)
        metres = depth_in_metres(depth, encoding)
        if not metres.any():
            raise DepthProblem('depth_empty', 'the depth image has no valid pixel (all '
                               '0, NaN or negative)')
        self.paired += 1
        return metres, camera

    def _camera_for(self, info, image_size) -> PinholeCamera:
        """Return the camera of ``info``, kept (with its ray map) while its values stay."""
        key = (tuple(float(v) for v in info.k), tuple(float(v) for v in info.d),
               int(info.width), int(info.height), info.distortion_model)
        if key != self._camera_key or self._camera is None:
            self._camera_key, self._camera = key, None
            self._camera = PinholeCamera.from_camera_info(info)  # raises for bad values
        w, h = int(info.width), int(info.height)
        if (w or h) and (h, w) != tuple(image_size):
            raise DepthProblem('depth_camera_info', f'CameraInfo is for {w}x{h}, the '
                               f'images are {image_size[1]}x{image_size[0]}')
        return self._camera


__all__ = ['DEPTH_ENCODINGS', 'DepthInput', 'DepthProblem', 'camera_info_topic',
           'depth_array']
