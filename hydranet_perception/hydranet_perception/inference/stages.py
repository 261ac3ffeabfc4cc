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
The path after the forward pass, as explicit stages.

::

    image -> Predictor (letterbox -> forward -> postprocess) -> Prediction
          -> [class filter] -> [tracking] -> [3D lifting, ...] -> messages

The data contract between the stages is one pair:

* the ``Prediction`` (``prediction.py``): numpy arrays in the input image's pixels;
  a stage returns a new or the same ``Prediction`` and may fill fields that earlier
  stages left None (``track_ids`` from tracking; 3D fields from a lifting stage);
  a stage that drops instances does it with ``Prediction.select`` so that every
  per-instance array stays aligned;
* the ``FrameContext``: the facts of the frame as plain values (no ROS types): the
  image header's stamp and frame_id, the camera key (frame_id, else the topic), the
  image size and the label space.

A stage is any callable ``stage(prediction, context) -> prediction`` with a ``name``
(the ``Stage`` protocol); ``Stages`` runs them in order and times each. The node builds
its stages from its parameters (see ``ros/node.py``) and publishes what the last one
returns, so a new output (depth, 3D boxes, several cameras) is a new stage plus its
message fields, not an edit of the node's loop.
"""

from dataclasses import dataclass, replace
import time
from typing import Callable, Dict, List, Optional, Protocol, Sequence, Tuple

from hydranet_perception.prediction import Prediction
from hydranet_perception.schema import LabelSpace
import numpy as np


@dataclass(frozen=True)
class FrameContext:
    """
    What a stage may know about the frame besides the Prediction (plain values).

    :ivar camera: the camera's key: the image's frame_id, else its topic.
    :ivar stamp_sec: the image header's stamp, seconds part.
    :ivar stamp_nanosec: the image header's stamp, nanoseconds part.
    :ivar frame_id: the image header's frame_id.
    :ivar image_size: (H, W) of the image.
    :ivar label_space: the model's classes.
    :ivar depth: the aligned depth image paired with the colour image, uint16[H, W]
        millimetres or float32[H, W] metres (0/NaN = no measurement), or None (2D only).
    :ivar camera_model: the colour camera's model (``geometry.PinholeCamera``, or a
        CameraInfo-like value), or None.  Named so because ``camera`` is the key above.
    """

    camera: str
    stamp_sec: int
    stamp_nanosec: int
    frame_id: str
    image_size: Tuple[int, int]
    label_space: LabelSpace
    depth: Optional[np.ndarray] = None
    camera_model: Optional[object] = None

    @property
    def stamp(self) -> float:
        """Return the header stamp in seconds."""
        return self.stamp_sec + self.stamp_nanosec * 1e-9


class Stage(Protocol):
    """One step after the forward pass (see the module docstring)."""

    name: str

    def __call__(self, prediction: Prediction, context: FrameContext) -> Prediction:
        """Return the prediction with this stage's work done."""


class ClassFilter:
    """
    Keep the instances of some classes (maps are per image and stay whole).

    :param class_ids: the global class ids to keep; empty keeps everything.
    """

    name = 'class_filter'

    def __init__(self, class_ids: Sequence[int] = ()):
        self.class_ids = tuple(int(c) for c in class_ids)

    def __call__(self, prediction: Prediction, context: FrameContext) -> Prediction:
        """Return ``prediction`` without the instances of other classes."""
        if not self.class_ids:
            return prediction
        return prediction.select(np.isin(prediction.class_ids, self.class_ids))


class Tracking:
    """
    Give instances stable track ids, one tracker per camera (``tracking.Trackers``).

    Fills ``Prediction.track_ids`` (0 for an instance not yet in a confirmed track).

    :param trackers: the ``Trackers``; by default one with default settings and the
        label space's keypoint sigmas (built on the first frame).
    :param on_reset: called with the camera key when a camera's stamps went back and
        its tracker started again (a bag looping, a clock jump).
    """

    name = 'tracking'

    def __init__(self, trackers=None, *, config=None,
                 on_reset: Optional[Callable[[str], None]] = None):
        self.trackers = trackers
        self.config = config
        self.on_reset = on_reset

    def __call__(self, prediction: Prediction, context: FrameContext) -> Prediction:
        """Return ``prediction`` with ``track_ids``."""
        if self.trackers is None:
            from hydranet_perception.tracking import keypoint_sigmas, Trackers
            self.trackers = Trackers(self.config,
                                     keypoint_sigmas=keypoint_sigmas(context.label_space))
        ids, reset = self.trackers.update(
            context.camera, context.stamp, prediction.boxes, prediction.scores,
            prediction.class_ids, masks=prediction.masks, keypoints=prediction.keypoints,
            embeddings=prediction.embeddings)  # None without the identity head
        if reset and self.on_reset is not None:
            self.on_reset(context.camera)
        return replace(prediction, track_ids=ids)


class Stages:
    """
    Run stages in order; time each.

    :param stages: the stages (see ``Stage``); None entries are left out.
    """

    def __init__(self, stages: Sequence[Optional[Stage]] = ()):
        self.stages: List[Stage] = [s for s in stages if s is not None]

    @property
    def names(self) -> Tuple[str, ...]:
        """Return the stages' names, in order."""
        return tuple(s.name for s in self.stages)

    def __call__(self, prediction: Prediction, context: FrameContext
                 ) -> Tuple[Prediction, Dict[str, float]]:
        """
        Run every stage on ``prediction``.

        :return: the last stage's prediction and the seconds each stage took, by name.
        """
        timings = {}
        for stage in self.stages:
            t0 = time.perf_counter()
            prediction = stage(prediction, context)
            timings[stage.name] = time.perf_counter() - t0
        return prediction, timings
