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
The pinhole camera with plumb_bob distortion, as ``sensor_msgs/CameraInfo`` describes it.

Pixel coordinates here follow CameraInfo's K: the centre of the top-left pixel is
(0, 0).  The rest of the project (``Prediction`` keypoints) puts pixel centres at +0.5;
subtract 0.5 before calling ``pixels_to_rays``.  A ray is (x, y, 1) in the camera
optical frame (x right, y down, z forward): the point at depth z (metres along the
optical axis) is ``z * ray``.
"""

from dataclasses import dataclass
from typing import Any, Optional, Sequence, Tuple

import cv2
import numpy as np


class CameraModelError(ValueError):
    """A camera model that cannot map pixels to rays (zero focal length, bad sizes)."""


@dataclass(frozen=True)
class CameraInfo:
    """
    The fields of ``sensor_msgs/CameraInfo`` the geometry needs, as plain values.

    :ivar width: image width in pixels.
    :ivar height: image height in pixels.
    :ivar k: the 3x3 intrinsic matrix, row-major (fx 0 cx; 0 fy cy; 0 0 1).
    :ivar d: the distortion coefficients (plumb_bob: k1, k2, p1, p2, k3).
    :ivar distortion_model: ``plumb_bob`` (or ``rational_polynomial``, 8 coefficients).
    """

    width: int
    height: int
    k: Tuple[float, ...]
    d: Tuple[float, ...] = ()
    distortion_model: str = 'plumb_bob'


def _get(info: Any, name: str, default=None):
    if isinstance(info, dict):
        return info.get(name, default)
    return getattr(info, name, default)


class PinholeCamera:
    """
    A pinhole camera with OpenCV's distortion model.

    :param k: the intrinsic matrix, 9 values row-major or 3x3.
    :param d: distortion coefficients (plumb_bob k1, k2, p1, p2, k3; empty: none).
    :param width: image width in pixels (0: unknown).
    :param height: image height in pixels (0: unknown).
    :raises CameraModelError: for a zero, negative or non-finite focal length or
        principal point, or a K of the wrong size.
    """

    def __init__(self, k: Sequence[float], d: Sequence[float] = (), *, width: int = 0,
                 height: int = 0):
        k = np.asarray(k, np.float64).reshape(-1)
        if k.size != 9:
            raise CameraModelError(f'K must have 9 values, got {k.size}')
        self.k = k.reshape(3, 3)
        fx, fy, cx, cy = self.k[0, 0], self.k[1, 1], self.k[0, 2], self.k[1, 2]
        if not np.all(np.isfinite([fx, fy, cx, cy])):
            raise CameraModelError(f'K has non-finite values: {k.tolist()}')
        if fx <= 0 or fy <= 0:
            raise CameraModelError(f'focal length must be > 0, got fx={fx} fy={fy} '
                                   '(an uncalibrated CameraInfo has K all zeros)')
        d = np.asarray(d, np.float64).reshape(-1)
        if not np.all(np.isfinite(d)):
            raise CameraModelError(f'distortion has non-finite values: {d.tolist()}')
        if d.size not in (0, 4, 5, 8, 12, 14):
            raise CameraModelError(f'distortion must have 0, 4, 5, 8, 12 or 14 values, '
                                   f'got {d.size}')
        self.d = d
        self.width, self.height = int(width), int(height)
        self._ray_map: Optional[np.ndarray] = None

    @classmethod
    def from_camera_info(cls, info: Any) -> 'PinholeCamera':
        """
        Build the camera from a CameraInfo-like object.

        :param info: a ``CameraInfo``, a ``sensor_msgs/CameraInfo`` or a dict with
            ``k``, ``d``, ``width`` and ``height`` (``K``/``D`` accepted too).
        :return: the camera.
        :raises CameraModelError: see the class.
        """
        k = _get(info, 'k', None)
        if k is None:
            k = _get(info, 'K', None)
        if k is None:
            raise CameraModelError('camera info has no K')
        d = _get(info, 'd', None)
        if d is None:
            d = _get(info, 'D', ())
        model = _get(info, 'distortion_model', '') or 'plumb_bob'
        if model not in ('plumb_bob', 'rational_polynomial'):
            raise CameraModelError(f'distortion model {model!r} is not supported '
                                   '(plumb_bob, rational_polynomial)')
        return cls(k, d, width=int(_get(info, 'width', 0) or 0),
                   height=int(_get(info, 'height', 0) or 0))

    def to_camera_info(self) -> CameraInfo:
        """Return the model as a plain ``CameraInfo``."""
        return CameraInfo(self.width, self.height, tuple(self.k.reshape(-1).tolist()),
                          tuple(self.d.tolist()),
                          'rational_polynomial' if self.d.size > 5 else 'plumb_bob')

    @property
    def fx(self) -> float:
        """Return the horizontal focal length in pixels."""
        return float(self.k[0, 0])

    @property
    def fy(self) -> float:
        """Return the vertical focal length in pixels."""
        return float(self.k[1, 1])

    @property
    def cx(self) -> float:
        """Return the principal point's column (top-left pixel centre at 0)."""
        return float(self.k[0, 2])

    @property
    def cy(self) -> float:
        """Return the principal point's row (top-left pixel centre at 0)."""
        return float(self.k[1, 2])

    def pixels_to_rays(self, uv: np.ndarray) -> np.ndarray:
        """
        Undistort pixels into rays (``cv2.undistortPoints``, iterated to convergence).

        :param uv: float[N, 2] pixel coordinates (u, v), top-left pixel centre at (0, 0).
        :return: float64[N, 3] rays (x, y, 1) in the optical frame; the point at depth z
            metres is ``z * ray``.
        """
        uv = np.asarray(uv, np.float64).reshape(-1, 1, 2)
        if uv.shape[0] == 0:
            return np.zeros((0, 3))
        if self.d.size == 0 or not np.any(self.d):
            xy = (uv.reshape(-1, 2) - (self.cx, self.cy)) / (self.fx, self.fy)
        else:
            criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 50, 1e-12)
            xy = cv2.undistortPoints(uv, self.k, self.d,
                                     criteria=criteria).reshape(-1, 2)
        return np.concatenate([xy, np.ones((xy.shape[0], 1))], 1)

    def project(self, points: np.ndarray) -> np.ndarray:
        """
        Project points of the optical frame to distorted pixels (``cv2.projectPoints``).

        :param points: float[N, 3] points with z > 0, metres.
        :return: float64[N, 2] pixel coordinates, top-left pixel centre at (0, 0).
        """
        points = np.asarray(points, np.float64).reshape(-1, 3)
        if points.shape[0] == 0:
            return np.zeros((0, 2))
        uv, _ = cv2.projectPoints(points, np.zeros(3), np.zeros(3), self.k, self.d)
        return uv.reshape(-1, 2)

    def ray_map(self, height: int, width: int) -> np.ndarray:
        """
        Return the rays of every pixel centre, computed once per size and kept.

        :param height: image height in pixels.
        :param width: image width in pixels.
        :return: float32[H, W, 2], the (x, y) of each pixel's ray (z = 1).
        """
        m = self._ray_map
        if m is None or m.shape[:2] != (height, width):
            v, u = np.mgrid[0:height, 0:width]
            uv = np.stack([u.ravel(), v.ravel()], 1).astype(np.float64)
            m = self.pixels_to_rays(uv)[:, :2].reshape(height, width, 2).astype(np.float32)
            self._ray_map = m
        return m


__all__ = ['CameraInfo', 'CameraModelError', 'PinholeCamera']
