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

"""The plain result of one HydraNet pass on one image (numpy only, no ROS types)."""

from dataclasses import dataclass, field, replace
from typing import List, Optional

import numpy as np


@dataclass
class Segment:
    """One panoptic segment; ``id`` is the value of its pixels in ``Prediction.panoptic``."""

    id: int  # noqa: A003 (panopticapi's name)
    class_id: int
    is_thing: bool
    area: int
    score: float = 1.0
    instance_index: int = -1  # row in the instance arrays for things, -1 for stuff


@dataclass
class Prediction:
    """
    Everything one forward pass produced, in original-image pixels.

    Shapes (N kept detections, K keypoint slots, H x W the *input* image):

    * ``boxes``: float32[N, 4] as x1, y1, x2, y2 in pixels (pixel edges: a box
      covering pixel column 0 only is x1=0, x2=1).
    * ``scores``: float32[N]; ``class_ids``: int64[N] global class ids.
    * ``masks``: bool[N, H, W] or None when the mask head did not run.
    * ``keypoints``: float32[N, K, 3] as x, y (pixel centres are at +0.5) and score
      in [0, 1]; slots beyond a class's schema have score 0. None without the head.
    * ``semantic``: uint8[H, W] global class ids, 255 = void; None without the head.
    * ``panoptic``: int32[H, W] segment ids (0 = void); None unless semantic ran.
    * ``segments``: the panoptic segments, ids >= 1.
    * ``instance_ids``: int64[N], the panoptic segment id of each instance (0 when
      the instance lost all its pixels in fusion or there is no panoptic map).
    * ``track_ids``: int64[N], each instance's track id from ``tracking.Tracker`` (0 while
      its track is tentative or unmatched); None when tracking is off.
    * ``embeddings``: float32[N, D], each instance's unit-length appearance embedding
      from the identity head (cosine similarity = dot product); None without the head.
    * ``depth``: float32[H, W], the monocular depth head's metric depth (z, metres) of
      every input pixel; None without the head.

    3D fields, filled by the lifting stage (``inference/lift3d_stage.py``), None without
    depth; camera optical frame (REP-103: x right, y down, z forward), metres:

    * ``positions``: float32[N, 3], each instance's 3D position (NaN when it had no
      valid depth); ``extents``: float32[N, 3], its size along x, y, z (NaN likewise).
    * ``depth_pixels``: int32[N], the depth pixels each 3D value used (0 = none).
    * ``keypoints_3d``: float32[N, K, 4] as x, y, z and validity (1 or 0).
    * ``depth_source``: where the depth came from (``depth_camera``, or
      ``monocular_head`` when the lifting stage used ``depth``), None without 3D.
    """

    image_size: tuple  # (H, W)
    boxes: np.ndarray
    scores: np.ndarray
    class_ids: np.ndarray
    masks: Optional[np.ndarray] = None
    keypoints: Optional[np.ndarray] = None
    semantic: Optional[np.ndarray] = None
    panoptic: Optional[np.ndarray] = None
    segments: List[Segment] = field(default_factory=list)
    instance_ids: Optional[np.ndarray] = None
    track_ids: Optional[np.ndarray] = None
    positions: Optional[np.ndarray] = None
    extents: Optional[np.ndarray] = None
    depth_pixels: Optional[np.ndarray] = None
    keypoints_3d: Optional[np.ndarray] = None
    depth_source: Optional[str] = None
    embeddings: Optional[np.ndarray] = None
    depth: Optional[np.ndarray] = None

    def __len__(self) -> int:
        return int(self.boxes.shape[0])

    def select(self, keep) -> 'Prediction':
        """
        Return the prediction with only the instances ``keep`` selects.

        As detectron2's ``Instances[keep]``: every per-instance array (boxes, scores,
        class ids, masks, keypoints, panoptic instance ids, track ids, embeddings, 3D
        fields) is indexed alike; the maps (semantic, panoptic, depth) and the segments
        are per image and stay.

        :param keep: bool[N], or int indices into the N instances.
        :return: a new ``Prediction``; this one is unchanged.
        """
        keep = np.asarray(keep)
        if keep.dtype == bool and keep.shape != (len(self),):
            raise ValueError(f'a bool mask must have shape ({len(self)},), got {keep.shape}')

        def pick(a):
            return None if a is None else a[keep]

        return replace(self, boxes=self.boxes[keep], scores=self.scores[keep],
                       class_ids=self.class_ids[keep], masks=pick(self.masks),
                       keypoints=pick(self.keypoints), instance_ids=pick(self.instance_ids),
                       track_ids=pick(self.track_ids), positions=pick(self.positions),
                       extents=pick(self.extents), depth_pixels=pick(self.depth_pixels),
                       keypoints_3d=pick(self.keypoints_3d),
                       embeddings=pick(self.embeddings))

    @staticmethod
    def empty(height: int, width: int, num_keypoints: int = 0) -> 'Prediction':
        """Return a prediction with no detections for an image of the given size."""
        return Prediction(
            image_size=(height, width), boxes=np.zeros((0, 4), np.float32),
            scores=np.zeros((0,), np.float32), class_ids=np.zeros((0,), np.int64),
            masks=np.zeros((0, height, width), bool),
            keypoints=np.zeros((0, num_keypoints, 3), np.float32),
            instance_ids=np.zeros((0,), np.int64))
