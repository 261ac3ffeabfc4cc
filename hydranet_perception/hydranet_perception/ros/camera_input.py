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
One camera of the node: its subscriptions, its outputs, its figures, its tracker key.

The node makes one ``CameraInput`` per entry of its ``cameras`` parameter. Its
callbacks decode each image (a view for raw encodings) and park it in the node's
``LatestSlots`` under the camera's name; the inference thread takes the waiting frames
of every camera as one batch and publishes each prediction on its own camera's
outputs with that frame's header. The camera '' is the single camera of old: ``image``
in, ``~/instances`` etc. out, tracks keyed by frame_id; a named camera ``front`` reads
``front/image`` and ``front/camera_info`` (relative: remappable) and writes
``~/front/instances`` etc., tracks keyed by its name. With a depth topic (see
``depth_input``) it also reads ``front/<depth_topic>`` and pairs depth with each frame
whose 3D outputs (``~/front/instances_3d``, ``~/front/markers``) have subscribers.
"""

from dataclasses import dataclass
import time
from typing import Any, Callable, Optional

from hydranet_perception.image_codec import ImageError
from hydranet_perception.inference.pipeline import PipelineStats
from hydranet_perception.inference.stages import FrameContext
from hydranet_perception.ros import diagnostics
from hydranet_perception.ros.depth_input import DepthInput
from hydranet_perception.ros.image_msgs import compressed_to_rgb_msg, image_to_rgb
from hydranet_perception.ros.outputs import OutputPublisher
from hydranet_perception_msgs.msg import InstanceArray, InstanceArray3D, PanopticInfo
from rclpy.qos import QoSProfile
from rclpy.qos_overriding_options import QoSOverridingOptions
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import Header
from visualization_msgs.msg import MarkerArray


@dataclass
class Frame:
    """A decoded frame waiting for the model."""

    header: Header
    rgb: Any
    received: float  # time.monotonic() at the callback
    decode_s: float


class CameraInput:
    """
    One camera's subscriptions, lifecycle publishers and ``PipelineStats``.

    :param node: the node (subscriptions and publishers are its own).
    :param name: the camera's namespace, '' for the single camera on ``image``.
    :param compressed: subscribe to ``image/compressed`` rather than ``image``.
    :param qos: the image and CameraInfo subscription QoS.
    :param park: called as ``park(name, frame)`` to leave a decoded ``Frame`` for the
        model (the node's ``LatestSlots.put``); returns True when it replaced one.
    :param stats: this camera's figures (the node's own when it is the only camera).
    :param total: also count every frame there (the node's sum), or None.
    :param model_info: the node's latched ``~/model_info`` publisher (shared).
    :param accepting: returns whether frames are wanted now (active and enabled).
    :param log_problem: called as ``log_problem(kind, message)`` for a refused frame
        or depth image (the node throttles it).
    :param depth: ``{'topic', 'queue_size', 'slop_s', 'silent_after_s'}`` for a depth
        input (``topic`` relative to the camera), or None: 2D only.
    """

    def __init__(self, node, name: str, *, compressed: bool, qos: QoSProfile,
                 park: Callable[[str, Frame], bool], stats: PipelineStats,
                 total: Optional[PipelineStats],
                 model_info, accepting: Callable[[], bool],
                 log_problem: Callable[[str, str], None], depth: Optional[dict] = None):
        self.name = name
        self.stats = stats
        self._node, self._park, self._total = node, park, total
        self._accepting, self._log_problem = accepting, log_problem
        prefix = f'{name}/' if name else ''
        self.image_topic = prefix + ('image/compressed' if compressed else 'image')
        self.camera_info: Optional[CameraInfo] = None
        self.last_image_at = time.monotonic()
        self._size = None  # (H, W) of the last frame, to report a change once
        self._size_change_logged = False
        msg_type, convert = ((CompressedImage, compressed_to_rgb_msg) if compressed
                             else (Image, image_to_rgb))
        self._subscriptions = [
            node.create_subscription(
                msg_type, self.image_topic, lambda msg: self._accept(msg, convert), qos,
                qos_overriding_options=QoSOverridingOptions.with_default_policies(),
                event_callbacks=diagnostics.qos_event_callbacks(node, self.image_topic)),
            node.create_subscription(CameraInfo, prefix + 'camera_info',
                                     self._on_camera_info, qos)]
        pub, out = node.create_lifecycle_publisher, f'~/{prefix}'
        self.outputs = OutputPublisher(
            instances=pub(InstanceArray, out + 'instances', 10),
            panoptic=pub(Image, out + 'panoptic', 10),
            segments=pub(PanopticInfo, out + 'panoptic/segments', 10),
            semantic=pub(Image, out + 'semantic', 10),
            overlay=pub(Image, out + 'overlay', 10),
            model_info=model_info,
            instances_3d=pub(InstanceArray3D, out + 'instances_3d', 10),
            markers=pub(MarkerArray, out + 'markers', 10))
        self.depth = None if not depth else DepthInput(
            node, prefix + depth['topic'], qos=qos, queue_size=depth['queue_size'],
            slop_s=depth['slop_s'], silent_after_s=depth['silent_after_s'],
            problem=self.problem)

    def destroy(self):
        """Destroy the subscriptions and this camera's publishers (not ``model_info``)."""
        for sub in self._subscriptions:
            self._node.destroy_subscription(sub)
        self._subscriptions = []
        if self.depth is not None:
            self.depth.destroy()
            self.depth = None
        for pub in self.outputs.publishers():
            if pub is not self.outputs.model_info:
                self._node.destroy_lifecycle_publisher(pub)

    def track_key(self, header: Header) -> str:
        """Return the tracker's key of a frame: the camera's name, else frame_id or topic."""
        return self.name or header.frame_id or self.image_topic

    def frame_context(self, frame: Frame, label_space) -> FrameContext:
        """
        Return the stages' ``FrameContext`` of a frame, with its depth when 3D is wanted.

        Depth is paired only while someone subscribes to ``instances_3d`` or
        ``markers``: without them the lifting stage has nothing to do. Without a depth
        input the colour camera's model is passed alone, so that a model with a
        monocular depth head (``tasks`` with ``depth``) still gives 3D.
        """
        header, size = frame.header, tuple(frame.rgb.shape[:2])
        depth = camera = None
        if self.depth is not None and self.outputs.wants_3d():
            depth, camera = self.depth.pair(header, size, self.camera_info)
        elif self.outputs.wants_3d():
            camera = self.camera_info
        return FrameContext(
            camera=self.track_key(header), stamp_sec=header.stamp.sec,
            stamp_nanosec=header.stamp.nanosec, frame_id=header.frame_id, image_size=size,
            label_space=label_space, depth=depth, camera_model=camera)

    def input_warning(self, limit_s: float) -> str:
        """Return why this camera's inputs need attention ('' when fine), for diagnostics."""
        silent = time.monotonic() - self.last_image_at
        warnings = [diagnostics.silent_input_warning(self._node, self.image_topic, silent,
                                                     limit_s)]
        if self.depth is not None and self.depth.silent_s() >= limit_s:
            where = self._node.resolve_topic_name(self.depth.topic)
            warnings.append(f'no depth image on {where} for {self.depth.silent_s():.0f} s: '
                            'instances_3d and markers wait for it (2D outputs go on)')
        elif self.depth is None and self.outputs.wants_3d():
            warnings.append('instances_3d or markers has a subscriber but depth_topic is '
                            'unset: 3D comes only from a monocular depth head, if the model '
                            'runs one (set depth_topic to the aligned depth image)')
        return '; '.join(w for w in warnings if w)

    def depth_values(self) -> dict:
        """Return the depth input's figures for diagnostics."""
        d = self.depth
        if d is None:
            return {'depth_topic': 'off'}
        return {'depth_topic': self._node.resolve_topic_name(d.topic),
                'depth_received': d.received, 'depth_paired': d.paired,
                'depth_camera_info_received': d.camera_info is not None}

    # -- counting (this camera, and the node's sum when there are several) ------------

    def _each(self):
        return (self.stats,) if self._total is None else (self.stats, self._total)

    def dropped(self, n: int = 1):
        """Count ``n`` frames replaced or cleared before the model took them."""
        for s in self._each():
            s.dropped(n)

    def rejected(self, kind: str, message: str):
        """Count a refused or failed frame (see ``PipelineStats.rejected``)."""
        for s in self._each():
            s.rejected(kind, message)

    def problem(self, kind: str, message: str):
        """Count a problem that is not a lost frame (e.g. an unusable depth image) and log it."""
        for s in self._each():
            s.error(kind, message)
        self._log_problem(kind, message)

    def processed(self, latency_s: float, stages_s: dict):
        """Record a processed frame (see ``PipelineStats.processed``)."""
        for s in self._each():
            s.processed(latency_s, stages_s)

    # -- callbacks ---------------------------------------------------------------------

    def _on_camera_info(self, msg: CameraInfo):
        self.camera_info = msg

    def _accept(self, msg, convert):
        self.last_image_at = time.monotonic()
        for s in self._each():
            s.frame_in()
        if not self._accepting():
            self.dropped()
            return
        # Decoded here, on the executor thread, while the model works on the previous
        # batch; raw encodings are views.
        received = time.monotonic()
        try:
            rgb = convert(msg)
        except ImageError as e:
            self._refuse(e.kind, str(e))
            return
        except Exception as e:  # noqa: B902 - a codec bug must not kill the node
            self._refuse('decode_failed', f'{type(e).__name__}: {e}')
            return
        self._note_size(rgb.shape[:2])
        frame = Frame(msg.header, rgb, received, time.monotonic() - received)
        if self._park(self.name, frame):
            self.dropped()

    def _refuse(self, kind: str, message: str):
        self.rejected(kind, message)
        self._log_problem(kind, message)

    def _note_size(self, size):
        size = tuple(int(s) for s in size)
        if self._size is not None and size != self._size:
            where = self._node.resolve_topic_name(self.image_topic)
            message = (f'{where}: resolution changed from {self._size[1]}x{self._size[0]} '
                       f'to {size[1]}x{size[0]}; each frame is letterboxed on its own')
            if not self._size_change_logged:
                self._size_change_logged = True
                self._node.get_logger().warning(message + ' (logged once per camera)')
        self._size = size
