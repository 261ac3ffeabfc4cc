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

"""``Trackers``: one ``Tracker`` per camera, sharing one id counter."""

import itertools
import math
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from hydranet_perception.tracking.config import TrackerConfig
from hydranet_perception.tracking.detections import check_detections
from hydranet_perception.tracking.tracker import Tracker
import numpy as np


class Trackers:
    """
    One ``Tracker`` per camera (an image's frame_id or topic), sharing one id counter.

    ``update(camera, stamp, ...)`` returns ``(track_ids, reset)``: a stamp older than
    that camera's last one (a bag looping, a clock jump) resets that camera's tracker
    first and returns ``reset=True`` so that the caller can log and count it; ids keep
    coming from the shared counter, so an id is never given twice, across resets and
    cameras alike. Cameras never share tracks. ``resets`` counts the resets per camera.
    """

    def __init__(self, config: Optional[TrackerConfig] = None, *,
                 keypoint_sigmas: Optional[Mapping[int, Sequence[float]]] = None):
        self.config = config or TrackerConfig()
        self.keypoint_sigmas = dict(keypoint_sigmas or {})
        self._ids = itertools.count(1)
        self._trackers: Dict[str, Tracker] = {}
        self.resets: Dict[str, int] = {}

    def tracker(self, camera: str) -> Tracker:
        """Return the tracker of ``camera``, made on first use."""
        if camera not in self._trackers:
            self._trackers[camera] = Tracker(self.config, keypoint_sigmas=self.keypoint_sigmas,
                                             ids=self._ids)
            self.resets[camera] = 0
        return self._trackers[camera]

    def update(self, camera: str, stamp: float, boxes: np.ndarray, scores: np.ndarray,
               class_ids: np.ndarray, masks: Optional[np.ndarray] = None,
               keypoints: Optional[np.ndarray] = None,
               embeddings: Optional[np.ndarray] = None) -> Tuple[np.ndarray, bool]:
        """
        Track one frame of ``camera``; return (track_ids int64[N], whether it reset).

        Raises ValueError, as ``Tracker.update`` does, for a stamp that is not finite
        or arrays that disagree; the camera's tracks are then left as they were.
        """
        if not math.isfinite(float(stamp)):
            raise ValueError(f'stamp must be finite, got {stamp}')
        # Checked before any reset, so that a bad frame leaves the tracks as they were.
        check_detections(boxes, scores, class_ids, masks, keypoints, embeddings)
        tracker = self.tracker(camera)
        reset = tracker.last_stamp is not None and float(stamp) < tracker.last_stamp
        if reset:
            tracker.reset()
            self.resets[camera] += 1
        ids = tracker.update(stamp, boxes, scores, class_ids, masks=masks,
                             keypoints=keypoints, embeddings=embeddings)
        return ids, reset

    def reset(self, camera: Optional[str] = None):
        """Reset one camera's tracker, or all of them (ids still never repeat)."""
        for key, tracker in self._trackers.items():
            if camera is None or key == camera:
                tracker.reset()

    def cameras(self) -> List[str]:
        """Return the cameras seen so far."""
        return list(self._trackers)

    def __len__(self) -> int:
        """Return the number of cameras."""
        return len(self._trackers)


__all__ = ['Trackers']
