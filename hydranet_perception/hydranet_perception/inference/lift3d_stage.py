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
The 3D lifting stage: instances and keypoints in metres from an aligned depth image.

Runs after tracking (see ``stages.py``).  It reads ``FrameContext.depth`` (else the
monocular depth head's ``Prediction.depth``) and ``FrameContext.camera_model``; when
either is absent the prediction passes unchanged, so a node without depth stays 2D at
no cost.  It fills the ``Prediction`` 3D fields (``positions``, ``extents``,
``depth_pixels``, ``keypoints_3d``, ``depth_source``), computed by ``geometry.lift``.
"""

from dataclasses import replace
from typing import Any, Callable, Optional

from hydranet_perception.geometry import (CameraModelError, depth_in_metres, DepthError,
                                          lift_instances, lift_keypoints, PinholeCamera)
from hydranet_perception.geometry.lift import check_depth_size
from hydranet_perception.inference.stages import FrameContext
from hydranet_perception.prediction import Prediction
import numpy as np


class Lift3D:
    """
    Give instances and keypoints 3D values from ``FrameContext.depth``.

    A depth image or camera model that cannot be used (another size than the colour
    image, an unknown encoding, a zero focal length) is a refusal: counted in
    ``refusals``, reported to ``on_refusal`` with the reason, and the prediction passes
    unchanged (2D outputs keep flowing).  Without ``on_refusal`` the error is raised.

    :param mad_k: outlier rejection inside a mask, in sigmas of the MAD.
    :param keypoint_radius: pixels to search in the mask for a keypoint without depth.
    :param on_refusal: called with the reason (a string) of each refusal.
    """

    name = 'lift3d'

    def __init__(self, *, mad_k: float = 3.0, keypoint_radius: int = 6,
                 on_refusal: Optional[Callable[[str], None]] = None):
        self.mad_k = float(mad_k)
        self.keypoint_radius = int(keypoint_radius)
        self.on_refusal = on_refusal
        self.refusals = 0
        self._camera_key: Any = None
        self._camera: Optional[PinholeCamera] = None

    def _camera_for(self, model: Any) -> PinholeCamera:
        """
        Return the ``PinholeCamera`` for ``model``, kept while its values stay the same.

        A camera driver sends a new CameraInfo with every frame; comparing values keeps
        one ``PinholeCamera`` (and its ray map, computed once) for the whole run.
        """
        if isinstance(model, PinholeCamera):
            return model
        key = _camera_key(model)
        if self._camera is not None and self._camera_key == key:
            return self._camera
        camera = PinholeCamera.from_camera_info(model)
        self._camera_key, self._camera = key, camera
        return camera

    def __call__(self, prediction: Prediction, context: FrameContext) -> Prediction:
        """
        Return ``prediction`` with its 3D fields, or unchanged without depth.

        The depth camera (``context.depth``) is used when there is one; otherwise the
        monocular depth head's map (``prediction.depth``) when the model has the head.
        ``depth_source`` says which: ``depth_camera`` or ``monocular_head``.
        """
        depth_image, source = context.depth, 'depth_camera'
        if depth_image is None and prediction.depth is not None:
            depth_image, source = prediction.depth, 'monocular_head'
        if depth_image is None or context.camera_model is None:
            return prediction
        try:
            camera = self._camera_for(context.camera_model)
            depth = depth_in_metres(depth_image)
            check_depth_size(depth, prediction.image_size)
        except (DepthError, CameraModelError) as e:
            self.refusals += 1
            if self.on_refusal is None:
                raise
            self.on_refusal(str(e))
            return prediction
        masks = prediction.masks
        if masks is None:
            masks = _box_masks(prediction.boxes, prediction.image_size)
        positions, extents, counts = lift_instances(
            depth, masks, camera, boxes=prediction.boxes, mad_k=self.mad_k)
        kps3d = None
        if prediction.keypoints is not None:
            kps3d = lift_keypoints(depth, prediction.keypoints, camera,
                                   masks=prediction.masks, radius=self.keypoint_radius)
        return replace(prediction, positions=positions, extents=extents,
                       depth_pixels=counts, keypoints_3d=kps3d, depth_source=source)


def _camera_key(model: Any) -> tuple:
    """Return the values of a CameraInfo-like model that define the camera."""
    def get(*names):
        for name in names:
            value = model.get(name) if isinstance(model, dict) else getattr(model, name, None)
            if value is not None:
                return value
        return None

    def values(v):
        return None if v is None else tuple(float(x) for x in np.asarray(v).reshape(-1))

    return (values(get('k', 'K')), values(get('d', 'D')), get('width'), get('height'),
            get('distortion_model'))


def _box_masks(boxes: np.ndarray, image_size) -> np.ndarray:
    """Return bool[N, H, W], the middle half of each box (no mask head: a robust stand-in)."""
    h, w = image_size
    out = np.zeros((len(boxes), h, w), bool)
    for i, (x1, y1, x2, y2) in enumerate(np.asarray(boxes, np.float64)):
        qx, qy = (x2 - x1) / 4, (y2 - y1) / 4
        c1, r1 = max(int(np.floor(x1 + qx)), 0), max(int(np.floor(y1 + qy)), 0)
        c2, r2 = min(int(np.ceil(x2 - qx)), w), min(int(np.ceil(y2 - qy)), h)
        out[i, r1:r2, c1:c2] = True
    return out


__all__ = ['Lift3D']
