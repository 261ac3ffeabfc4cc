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
Constant-velocity Kalman filter on boxes, batched over tracks, in continuous time.

State per track (8): ``cx, cy, w, h`` in pixels and their rates ``vcx, vcy, vw, vh`` in
pixels per second; the measurement is ``cx, cy, w, h``. As in ByteTrack and BoT-SORT the
noise is proportional to the box size (``std_position`` of w or h for positions and
measurements, ``std_velocity`` for rates), quoted per frame at a nominal ``rate_hz``.
Time is explicit: ``predict`` takes the elapsed seconds, moves each box by its velocity
times ``dt`` and grows the process variance in proportion to ``dt * rate_hz`` (a random
walk), so a dropped frame widens the uncertainty instead of shortening anything.

Arrays: ``mean`` float64[T, 8], ``cov`` float64[T, 8, 8]; every function takes and
returns whole batches, so one call predicts all the tracks of a frame.
"""

from typing import Optional, Tuple

import numpy as np


def xyxy_to_cxcywh(boxes: np.ndarray) -> np.ndarray:
    """Convert float[N, 4] x1, y1, x2, y2 to centre x, centre y, width, height."""
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    return np.stack([(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2,
                     b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]], axis=1)


def cxcywh_to_xyxy(boxes: np.ndarray) -> np.ndarray:
    """Convert float[N, 4] centre x, centre y, width, height to x1, y1, x2, y2."""
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    half = b[:, 2:4] / 2
    return np.concatenate([b[:, :2] - half, b[:, :2] + half], axis=1)


class KalmanBoxFilter:
    """
    Batched constant-velocity Kalman filter on (cx, cy, w, h); see the module doc.

    :param std_position: position and measurement noise, a fraction of the box size
        (ByteTrack: 1/20).
    :param std_velocity: velocity noise per nominal frame, a fraction of the box size
        (ByteTrack: 1/160).
    :param rate_hz: the frame rate those figures are quoted at.
    :param min_size: the smallest width or height (pixels) used to scale the noise, so that
        a degenerate box never gives a singular covariance.
    """

    def __init__(self, *, std_position: float = 1.0 / 20, std_velocity: float = 1.0 / 160,
                 rate_hz: float = 30.0, min_size: float = 1.0):
        if rate_hz <= 0:
            raise ValueError(f'rate_hz must be positive, got {rate_hz}')
        self.std_position = float(std_position)
        self.std_velocity = float(std_velocity)
        self.rate_hz = float(rate_hz)
        self.min_size = float(min_size)

    def _size(self, wh: np.ndarray) -> np.ndarray:
        """Return float[T, 4] (w, h, w, h), each at least ``min_size``."""
        wh = np.maximum(wh, self.min_size)
        return np.concatenate([wh, wh], axis=1)

    def initiate(self, boxes_cxcywh: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Start tracks at measurements float[T, 4]; the velocity is unknown (wide)."""
        z = np.asarray(boxes_cxcywh, np.float64).reshape(-1, 4)
        mean = np.concatenate([z, np.zeros_like(z)], axis=1)
        size = self._size(z[:, 2:4])
        std = np.concatenate([2 * self.std_position * size,
                              10 * self.std_velocity * self.rate_hz * size], axis=1)
        cov = np.zeros((len(z), 8, 8))
        idx = np.arange(8)
        cov[:, idx, idx] = std ** 2
        return mean, cov

    def predict(self, mean: np.ndarray, cov: np.ndarray, dt: float,
                freeze_size: Optional[np.ndarray] = None) -> Tuple[np.ndarray, np.ndarray]:
        """
        Advance every track by ``dt`` seconds (>= 0).

        ``freeze_size`` bool[T] zeroes the size rates of those tracks first (ByteTrack does
        this for lost tracks, so that a box seen shrinking does not vanish while hidden).
        """
        if dt < 0:
            raise ValueError(f'dt must be >= 0, got {dt}')
        mean = np.array(mean, np.float64, copy=True)
        if freeze_size is not None and len(mean):
            mean[np.asarray(freeze_size, bool), 6:8] = 0.0
        if len(mean) == 0 or dt == 0:
            return mean, np.array(cov, np.float64, copy=True)
        f = np.eye(8)
        f[:4, 4:] = dt * np.eye(4)
        size = self._size(mean[:, 2:4])
        q = np.concatenate([(self.std_position * size) ** 2,
                            (self.std_velocity * self.rate_hz * size) ** 2], axis=1)
        q *= dt * self.rate_hz
        mean = mean @ f.T
        cov = f @ cov @ f.T
        idx = np.arange(8)
        cov[:, idx, idx] += q
        return mean, cov

    def update(self, mean: np.ndarray, cov: np.ndarray,
               boxes_cxcywh: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Correct tracks float[M, 8], [M, 8, 8] with their measurements float[M, 4]."""
        z = np.asarray(boxes_cxcywh, np.float64).reshape(-1, 4)
        if len(z) == 0:
            return np.array(mean, np.float64), np.array(cov, np.float64)
        size = self._size(mean[:, 2:4])
        r = (self.std_position * size) ** 2
        s = cov[:, :4, :4].copy()  # H P H^T
        idx = np.arange(4)
        s[:, idx, idx] += r
        pht = cov[:, :, :4]  # P H^T, [M, 8, 4]
        # K = P H^T S^-1, solved as S K^T = H P (S is symmetric)
        gain = np.linalg.solve(s, np.transpose(pht, (0, 2, 1))).transpose(0, 2, 1)
        innovation = z - mean[:, :4]
        mean = mean + np.einsum('mij,mj->mi', gain, innovation)
        cov = cov - gain @ cov[:, :4, :]
        cov = (cov + np.transpose(cov, (0, 2, 1))) / 2  # keep it symmetric
        return mean, cov

    @staticmethod
    def boxes(mean: np.ndarray) -> np.ndarray:
        """Return the tracks' boxes float64[T, 4] as x1, y1, x2, y2."""
        return cxcywh_to_xyxy(np.asarray(mean)[:, :4])


__all__ = ['cxcywh_to_xyxy', 'KalmanBoxFilter', 'xyxy_to_cxcywh']
