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
A metric depth camera for the synthetic scenes (``generate_scene(..., depth=True)``).

The 2D scene is read as the image of a calibrated camera (pinhole, plumb_bob
distortion) at a height above a floor, looking at a wall:

* the floor is a ground plane ``camera_height`` metres below the camera, the wall a
  plane perpendicular to it ``wall_distance`` metres ahead, oriented so that the line
  where they meet is the drawn wall/floor boundary (fitted from the stuff map);
  the table a plane parallel to the floor at table height (pixels where a plane is not
  in front of the camera take the wall's depth);
* each thing is a plate facing the camera at its own distance, sampled in
  ``thing_distance`` metres and sorted so that things painted later (in front in the
  image) are nearer: the depth order is the painter's order.  A thing's distance is
  not tied to where it stands on the floor (things may float).

The ground truth is exact for that model: a pixel's 3D point is its ray (undistorted
with the camera model) times its depth; an instance's position is the centroid of its
visible pixels' 3D points; a keypoint's 3D point is its ray at its thing's distance.
The measured depth adds a depth camera's errors: Gaussian noise with sigma
``noise * z**2`` (structured-light and stereo cameras lose precision with distance
squared), 1 mm quantisation, pixels missing at depth edges (with probability
``edge_dropout``, one pixel either side of a jump of more than 5 %), random missing
pixels (``dropout``), and nothing beyond ``max_range``.
"""

from dataclasses import dataclass
from typing import List, Optional, Tuple

from hydranet_perception.geometry.camera import CameraInfo, PinholeCamera
import numpy as np


@dataclass(frozen=True)
class DepthOptions:
    """Knobs of the synthetic depth camera; ranges are (low, high), sampled per world."""

    hfov_deg: Tuple[float, float] = (55.0, 75.0)
    distortion: float = 1.0  # scale of the sampled k1, k2, p1, p2 (0: no distortion)
    camera_height: Tuple[float, float] = (1.0, 1.6)  # metres above the floor
    wall_distance: Tuple[float, float] = (4.5, 8.0)  # metres
    table_height: Tuple[float, float] = (0.7, 0.8)  # metres above the floor
    thing_distance: Tuple[float, float] = (0.5, 4.0)  # metres along the optical axis
    noise: float = 0.0025  # sigma = noise * z**2 metres
    edge_dropout: float = 0.6
    dropout: float = 0.005
    max_range: float = 10.0  # metres


def sample_camera(rng: np.random.Generator, height: int, width: int,
                  options: DepthOptions) -> CameraInfo:
    """
    Return a plausible calibrated camera for an image of the given size.

    :param rng: the random stream.
    :param height: image height in pixels.
    :param width: image width in pixels.
    :param options: the field of view and distortion ranges.
    :return: a ``CameraInfo`` with K and plumb_bob D (k1, k2, p1, p2, k3 = 0).
    """
    hfov = np.deg2rad(rng.uniform(*options.hfov_deg))
    fx = float(width / 2 / np.tan(hfov / 2))
    fy = float(fx * rng.uniform(0.99, 1.01))
    cx = (width - 1) / 2 + rng.uniform(-0.02, 0.02) * width
    cy = (height - 1) / 2 + rng.uniform(-0.02, 0.02) * height
    s = options.distortion
    d = (s * rng.uniform(-0.08, 0.08), s * rng.uniform(-0.02, 0.02),
         s * rng.uniform(-1e-3, 1e-3), s * rng.uniform(-1e-3, 1e-3), 0.0)
    return CameraInfo(width, height, (fx, 0.0, cx, 0.0, fy, cy, 0.0, 0.0, 1.0),
                      tuple(float(v) for v in d), 'plumb_bob')


class DepthRig:
    """
    The depth camera of one synthetic world: its model, its planes and its noise.

    :param seed_sequence: the world's depth stream (separate from the colour image's).
    :param stuff: uint8[H, W] the stuff class map; ``floor_id``/``wall_id``/``table_id``
        its ids (None when absent).
    :param horizon: the drawn horizon row (fallback when no boundary can be fitted).
    :param options: the ``DepthOptions``.
    """

    def __init__(self, seed_sequence: np.random.SeedSequence, stuff: np.ndarray,
                 horizon: float, *, floor_id: Optional[int], wall_id: Optional[int],
                 table_id: Optional[int], options: DepthOptions):
        self.opts = options
        rig_ss, self.noise_ss = seed_sequence.spawn(2)
        self.rng = np.random.default_rng(rig_ss)
        h, w = stuff.shape
        self.camera_info = sample_camera(self.rng, h, w, options)
        self.camera = PinholeCamera.from_camera_info(self.camera_info)
        self.camera_height = float(self.rng.uniform(*options.camera_height))
        self.wall_distance = float(self.rng.uniform(*options.wall_distance))
        self.table_height = float(self.rng.uniform(*options.table_height))
        self.rays = self.camera.ray_map(h, w).astype(np.float64)
        c = self._boundary_normal(stuff, horizon, floor_id, wall_id)
        # floor normal n and wall normal m such that n.X = height and m.X = distance
        # meet on the boundary's plane c.X = 0: n - t m is parallel to c, t = h / D
        mc = np.array([0.0, 0.0, 1.0]) - c[2] * c
        mc /= np.linalg.norm(mc)
        t = self.camera_height / self.wall_distance
        self.normal = (c + t * mc) / np.hypot(1.0, t)
        self.wall_normal = (mc - t * c) / np.hypot(1.0, t)
        self.background = self._background(stuff, table_id)
        self.thing_z: List[float] = []

    def _boundary_normal(self, stuff, horizon, floor_id, wall_id) -> np.ndarray:
        """Return the unit normal (y > 0) of the plane through the wall/floor boundary."""
        h, w = stuff.shape
        a, b = 0.0, horizon - 0.5
        if floor_id is not None and wall_id is not None:
            edge = (stuff[:-1] == wall_id) & (stuff[1:] == floor_id)
            cols = np.nonzero(edge.any(0))[0]
            if cols.size >= max(8, w // 4):
                rows = np.argmax(edge[:, cols], 0) + 0.5  # the boundary, CameraInfo pixels
                a, b = np.polyfit(cols.astype(np.float64), rows, 1)
        uv = np.array([[0.0, b], [w - 1.0, b + a * (w - 1.0)]])
        r1, r2 = self.camera.pixels_to_rays(uv)
        n = np.cross(r1, r2)
        n /= np.linalg.norm(n)
        return n if n[1] > 0 else -n

    def _background(self, stuff, table_id) -> np.ndarray:
        """Return float64[H, W], the noise-free depth of the stuff planes (metres)."""
        r = self.rays
        n, m = self.normal, self.wall_normal
        dot_n = r[..., 0] * n[0] + r[..., 1] * n[1] + n[2]
        dot_m = r[..., 0] * m[0] + r[..., 1] * m[1] + m[2]
        wall = self.wall_distance / np.maximum(dot_m, 1e-6)
        down = dot_n > 1e-6
        floor = np.where(down, self.camera_height / np.where(down, dot_n, 1.0), np.inf)
        depth = np.minimum(floor, wall)
        if table_id is not None:
            above = self.camera_height - self.table_height
            table = np.where(down, above / np.where(down, dot_n, 1.0), np.inf)
            sel = stuff == table_id
            depth[sel] = np.minimum(table, depth)[sel]
        return depth

    def distances(self, num_things: int) -> np.ndarray:
        """Return float64[num_things], each thing's distance (painter's order: decreasing)."""
        if len(self.thing_z) < num_things:
            extra = self.rng.uniform(*self.opts.thing_distance, num_things - len(self.thing_z))
            z = sorted(self.thing_z + extra.tolist(), reverse=True)
            self.thing_z = z
        return np.asarray(self.thing_z[:num_things])

    def render(self, idmap: np.ndarray, num_things: int) -> Tuple[np.ndarray, np.ndarray]:
        """
        Return the true and the measured depth of one frame.

        :param idmap: uint8[H, W], 0 for stuff, i + 1 for the pixels of thing i.
        :param num_things: the number of things in the world.
        :return: float32[H, W] true depth (metres) and float32[H, W] measured depth
            (metres, 0 = missing).
        """
        z = np.concatenate([[0.0], self.distances(num_things)])
        true = np.where(idmap > 0, z[idmap], self.background)
        o = self.opts
        rng = np.random.default_rng(self.noise_ss.spawn(1)[0])
        sigma = o.noise * np.minimum(true, o.max_range) ** 2
        meas = true + rng.standard_normal(true.shape) * sigma
        meas = np.round(meas * 1000.0) / 1000.0
        jump = np.zeros(true.shape, bool)
        ratio = 1.05
        for a, b in ((true[:, 1:], true[:, :-1]), (true[1:], true[:-1])):
            j = (np.maximum(a, b) > ratio * np.minimum(a, b))
            if a.shape[1] != true.shape[1]:
                jump[:, 1:] |= j
                jump[:, :-1] |= j
            else:
                jump[1:] |= j
                jump[:-1] |= j
        missing = (jump & (rng.random(true.shape) < o.edge_dropout))
        missing |= rng.random(true.shape) < o.dropout
        missing |= ~(true <= o.max_range) | (meas <= 0)
        meas[missing] = 0.0
        return true.astype(np.float32), meas.astype(np.float32)

    def truth(self, mask: np.ndarray, thing: int, keypoints: np.ndarray
              ) -> Tuple[np.ndarray, np.ndarray]:
        """
        Return an instance's true 3D position and keypoints.

        :param mask: bool[H, W] its visible pixels.
        :param thing: its thing index (painting order).
        :param keypoints: float32[K, 3] x, y (pixel centres at +0.5) and visibility.
        :return: float32[3], the centroid of its visible pixels' 3D points, and
            float32[K, 3], each keypoint's 3D point (0 where v = 0).
        """
        z = float(self.thing_z[thing])
        r = self.rays[mask]
        position = np.array([r[:, 0].mean() * z, r[:, 1].mean() * z, z], np.float32)
        kps = np.zeros((len(keypoints), 3), np.float32)
        vis = keypoints[:, 2] > 0
        if vis.any():
            kps[vis] = self.camera.pixels_to_rays(keypoints[vis, :2] - 0.5) * z
        return position, kps


__all__ = ['DepthOptions', 'DepthRig', 'sample_camera']
