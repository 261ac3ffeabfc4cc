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
Publish one Prediction on every output topic, each with the input image's header.

The 3D outputs (``~/instances_3d``, ``~/markers``) are built only while someone
subscribes to them, and only for frames the lifting stage gave 3D values.
"""

from dataclasses import dataclass
import queue
import threading
import time
from typing import Callable

from hydranet_perception.overlay import draw_overlay
from hydranet_perception.prediction import Prediction
from hydranet_perception.ros.image_msgs import array_to_image
from hydranet_perception.ros.markers import markers_msg
from hydranet_perception.ros.messages import (instance_array_msg, model_info_msg,
                                              panoptic_info_msg)
from hydranet_perception.ros.messages3d import instance_array_3d_msg
from hydranet_perception.schema import LabelSpace
from std_msgs.msg import Header


@dataclass
class OutputPublisher:
    """The node's output publishers, and how a prediction maps onto them."""

    instances: object
    panoptic: object
    segments: object
    semantic: object
    overlay: object
    model_info: object
    instances_3d: object = None
    markers: object = None

    def publish(self, pred: Prediction, header: Header, label_space: LabelSpace):
        """
        Publish instances first (trackers wait on them), then panoptic and semantic.

        The panoptic and semantic topics are published whenever the semantic head ran.
        The overlay is separate (``publish_overlay``, usually on an ``OverlayWorker``).
        """
        self.instances.publish(instance_array_msg(pred, label_space, header))
        if pred.panoptic is not None:
            self.panoptic.publish(array_to_image(pred.panoptic, '32SC1', header))
            self.segments.publish(panoptic_info_msg(pred, label_space, header))
        if pred.semantic is not None:
            self.semantic.publish(array_to_image(pred.semantic, 'mono8', header))

    def publishers(self) -> tuple:
        """Return every publisher (to destroy them on cleanup)."""
        return tuple(p for p in (self.instances, self.panoptic, self.segments, self.semantic,
                                 self.overlay, self.model_info, self.instances_3d,
                                 self.markers) if p is not None)

    def wants_3d(self) -> bool:
        """Return True when someone subscribes to ~/instances_3d or ~/markers."""
        return any(p is not None and p.get_subscription_count() > 0
                   for p in (self.instances_3d, self.markers))

    def publish_3d(self, pred: Prediction, header: Header, label_space: LabelSpace):
        """Publish ~/instances_3d and ~/markers, each only when subscribed; False without 3D."""
        if pred.positions is None:
            return False
        if self.instances_3d is not None and self.instances_3d.get_subscription_count():
            self.instances_3d.publish(instance_array_3d_msg(pred, label_space, header))
        if self.markers is not None and self.markers.get_subscription_count():
            self.markers.publish(markers_msg(pred, header, label_space))
        return True

    def wants_overlay(self) -> bool:
        """Return True when someone subscribes to ~/overlay (rendering costs)."""
        return self.overlay.get_subscription_count() > 0

    def publish_overlay(self, pred: Prediction, rgb, header: Header,
                        label_space: LabelSpace):
        """Render the overlay of ``pred`` on ``rgb`` and publish it."""
        self.overlay.publish(array_to_image(draw_overlay(rgb, pred, label_space), 'rgb8',
                                            header))

    def publish_model_info(self, engine, stamp):
        """Publish the latched ModelInfo of a freshly loaded engine."""
        header = Header(stamp=stamp, frame_id='')
        self.model_info.publish(model_info_msg(
            label_space=engine.label_space, header=header, model_name=engine.model_name,
            weights_path=engine.weights_path, weights_sha256=engine.weights_sha256,
            backend=engine.backend, device=engine.device, tasks=engine.tasks,
            input_height=engine.input_size[0], input_width=engine.input_size[1]))


class OverlayWorker:
    """
    Render and publish overlays on their own thread, at most one frame behind.

    The inference thread hands each processed frame over and goes on with the next
    one; ``submit`` waits only while the previous overlay is still waiting to be drawn
    (drawing takes ~2 ms at 640x480), so every processed frame still gets its overlay
    and drawing never delays the next frame's instances.

    :param render: called as ``render(pred, rgb, header, label_space)`` on the thread.
    :param on_done: called with the seconds each overlay took.
    :param on_error: called with the exception when ``render`` raises (the thread goes on).
    """

    def __init__(self, *, render: Callable, on_done: Callable[[float], None],
                 on_error: Callable[[Exception], None]):
        self._render, self._on_done, self._on_error = render, on_done, on_error
        self._queue: queue.Queue = queue.Queue(maxsize=1)
        self._thread = threading.Thread(target=self._run, name='hydranet-overlay',
                                        daemon=True)
        self._thread.start()

    def submit(self, *args, timeout: float = 5.0) -> bool:
        """Queue one frame's overlay; False if the worker stayed busy for ``timeout`` s."""
        try:
            self._queue.put(args, timeout=timeout)
            return True
        except queue.Full:
            return False

    def close(self, timeout: float = 10.0):
        """Draw what is queued, then stop the thread."""
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self):
        while True:
            job = self._queue.get()
            if job is None:
                return
            t0 = time.monotonic()
            try:
                self._render(*job)
            except Exception as e:  # noqa: B902 - report and keep drawing
                self._on_error(e)
                continue
            self._on_done(time.monotonic() - t0)
