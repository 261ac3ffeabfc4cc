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
Lift 2D instances and keypoints to 3D with an aligned depth image.

Depth comes as depth cameras publish it: ``16UC1`` in millimetres or ``32FC1`` in metres,
0 or NaN where the sensor has no measurement, the same size as the colour image the
masks and keypoints refer to.  3D values are in the camera optical frame (REP-103:
x right, y down, z forward), metres.

Per instance the depth is a robust statistic *inside the mask*: the median of the valid
depths after rejecting outliers by the median absolute deviation (the background seen
through a ragged mask edge, flying pixels).  Its position is the mask centroid's ray at
that depth; its extent the robust spread of the back-projected inlier pixels.  Per
keypoint the depth is the median of the valid pixels of its own mask in a 3x3 window
around it, else the nearest valid pixel of its mask within ``radius`` (the tip of a thin
instrument often falls on the mask edge where a depth camera drops pixels).
"""

from typing import Optional, Tuple

from hydranet_perception.geometry.camera import PinholeCamera
import numpy as np

MAD_TO_SIGMA = 1.4826  # MAD of a normal distribution times this is its sigma


class DepthError(ValueError):
    """A depth image that cannot be used with the colour image (size, encoding)."""


def depth_in_metres(depth: np.ndarray, encoding: Optional[str] = None) -> np.ndarray:
    """
    Return a depth image in metres with 0 where there is no measurement.

    :param depth: uint16[H, W] millimetres (``16UC1``/``mono16``) or float32[H, W]
        metres (``32FC1``); 0, NaN, inf and negative values mean no measurement.
    :param encoding: the ROS image encoding, checked against the dtype when given.
    :return: float32[H, W] metres, 0 = invalid.
    :raises DepthError: for another dtype, encoding or a non-2D array.
    """
    depth = np.asarray(depth)
    if depth.ndim != 2:
        raise DepthError(f'depth must be one channel [H, W], got shape {depth.shape}')
    if encoding is not None:
        want = {'16UC1': np.uint16, 'mono16': np.uint16, '32FC1': np.float32}.get(encoding)
        if want is None:
            raise DepthError(f'depth encoding {encoding!r} is not supported (16UC1 mm, '
                             '32FC1 m)')
        if depth.dtype != want:
            raise DepthError(f'depth encoding {encoding} needs {np.dtype(want).name}, '
                             f'got {depth.dtype}')
    if depth.dtype == np.uint16:
        return np.multiply(depth, np.float32(0.001), dtype=np.float32)
    if depth.dtype in (np.float32, np.float64):
        out = depth.astype(np.float32, copy=False)
        bad = ~(out >= 0) | (out == np.inf)  # NaN, negative, inf (0 is already "none")
        if bad.any():
            out = out.copy()
            out[bad] = 0.0
        return out
    raise DepthError(f'depth must be uint16 millimetres or float32 metres, got {depth.dtype}')


def check_depth_size(depth: np.ndarray, image_size: Tuple[int, int]) -> None:
    """
    Refuse a depth image whose size differs from the colour image's.

    :param depth: [H', W'] depth image.
    :param image_size: (H, W) of the colour image.
    :raises DepthError: when (H', W') != (H, W).
    """
    if tuple(depth.shape[:2]) != tuple(image_size):
        raise DepthError(f'depth image is {depth.shape[1]}x{depth.shape[0]}, the colour image '
                         f'{image_size[1]}x{image_size[0]}: register the depth to the colour '
                         'camera (aligned depth)')


def robust_depth(values: np.ndarray, mad_k: float = 3.0) -> Tuple[float, np.ndarray]:
    """
    Return the median of ``values`` after rejecting outliers by the MAD.

    :param values: float32[M] valid depths (> 0), M >= 1.
    :param mad_k: values farther than ``mad_k`` sigmas (``1.4826 * MAD``) from the
        median are outliers.
    :return: the inliers' median and bool[M], the inliers.
    """
    med = _median(values)
    dev = np.abs(values - med)
    mad = _median(dev)
    keep = dev <= mad_k * MAD_TO_SIGMA * mad if mad > 0 else dev <= 0
    return float(_median(values[keep])), keep


def _median(values: np.ndarray) -> float:
    """Return the median of a non-empty 1-D array (``np.median`` without its overhead)."""
    n = values.size
    k = n // 2
    if n % 2:
        return float(np.partition(values, k)[k])
    part = np.partition(values, (k - 1, k))
    return 0.5 * (float(part[k - 1]) + float(part[k]))


def _crop(mask: np.ndarray, box: Optional[np.ndarray]) -> Tuple[int, int, int, int]:
    h, w = mask.shape
    if box is not None:
        x1, y1 = max(int(np.floor(box[0])), 0), max(int(np.floor(box[1])), 0)
        x2, y2 = min(int(np.ceil(box[2])), w), min(int(np.ceil(box[3])), h)
        if x2 > x1 and y2 > y1:
            return x1, y1, x2, y2
    rows, cols = np.nonzero(mask.any(1))[0], np.nonzero(mask.any(0))[0]
    if rows.size == 0:
        return 0, 0, 0, 0
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def lift_instances(depth: np.ndarray, masks: np.ndarray, camera: PinholeCamera, *,
                   boxes: Optional[np.ndarray] = None, mad_k: float = 3.0,
                   percentiles: Tuple[float, float] = (5.0, 95.0), max_points: int = 1024
                   ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """
    Return each instance's 3D position, extent and number of depth pixels used.

    A mask larger than ``max_points`` pixels is read on a regular sub-grid (every s-th
    row and column, s = ceil(sqrt(box area / max_points))): the median of thousands of
    samples is as good as that of all, and the cost stays flat with the object's size.

    :param depth: float32[H, W] metres, 0 = invalid (see ``depth_in_metres``).
    :param masks: bool[N, H, W] instance masks of the same image.
    :param camera: the colour camera's model (the depth is registered to it).
    :param boxes: float32[N, 4] x1, y1, x2, y2 pixel edges enclosing each mask (the
        ``Prediction`` boxes), used only to crop; None computes them from the masks.
    :param mad_k: outlier rejection in sigmas of the MAD (see ``robust_depth``).
    :param percentiles: the extent spans these percentiles (nearest rank) of the inlier
        points per axis.
    :param max_points: about the most pixels read per instance.
    :return: positions float32[N, 3] (x, y, z metres, NaN when the mask has no valid
        depth), extents float32[N, 3] (metres along x, y, z; NaN likewise) and
        int32[N], the valid inlier depth pixels in the mask (counted on the sub-grid
        times s squared; 0 = no 3D value).
    :raises DepthError: when depth and masks differ in size.
    """
    n = int(masks.shape[0])
    check_depth_size(depth, masks.shape[1:])
    positions = np.full((n, 3), np.nan, np.float32)
    extents = np.full((n, 3), np.nan, np.float32)
    counts = np.zeros(n, np.int32)
    if n == 0:
        return positions, extents, counts
    rays = camera.ray_map(*depth.shape)
    centroids = np.zeros((n, 2))
    depths = np.full(n, np.nan)
    for i in range(n):
        x1, y1, x2, y2 = _crop(masks[i], None if boxes is None else boxes[i])
        area = (x2 - x1) * (y2 - y1)
        if area == 0:
            continue
        step = max(1, int(np.ceil(np.sqrt(area / max_points))))
        o = step // 2  # the sub-grid starts mid-cell, so it is centred on the box
        ys, xs = np.nonzero(masks[i, y1 + o:y2:step, x1 + o:x2:step])
        if ys.size == 0:
            continue
        ys *= step
        ys += y1 + o
        xs *= step
        xs += x1 + o
        # the centroid of the sub-grid's mask pixels (its error averages out along the
        # boundary: far below s / 2 pixels for a mask of hundreds of pixels)
        centroids[i] = xs.mean(), ys.mean()
        vals = depth[ys, xs]
        valid = vals > 0
        vals = vals[valid]
        if vals.size == 0:
            continue
        z, keep = robust_depth(vals, mad_k)
        depths[i], counts[i] = z, int(np.count_nonzero(keep)) * step * step
        zs = vals[keep]
        pts = np.empty((zs.size, 3), np.float32)
        pts[:, 2] = zs
        pts[:, :2] = rays[ys[valid][keep], xs[valid][keep]] * zs[:, None]
        lo, hi = (int(round(p / 100 * (zs.size - 1))) for p in percentiles)
        part = np.partition(pts, (lo, hi), axis=0)
        extents[i] = part[hi] - part[lo]
    ok = counts > 0
    if ok.any():
        positions[ok] = camera.pixels_to_rays(centroids[ok]) * depths[ok, None]
    return positions, extents, counts


_WINDOW = np.stack(np.meshgrid(np.arange(-1, 2), np.arange(-1, 2), indexing='ij'), -1)
_WINDOW = _WINDOW.reshape(-1, 2)  # (dy, dx) of a 3x3 window


def lift_keypoints(depth: np.ndarray, keypoints: np.ndarray, camera: PinholeCamera, *,
                   masks: Optional[np.ndarray] = None, radius: int = 6,
                   min_score: float = 0.0) -> np.ndarray:
    """
    Return each keypoint's 3D point and whether it has one.

    :param depth: float32[H, W] metres, 0 = invalid (see ``depth_in_metres``).
    :param keypoints: float32[N, K, 3] x, y (pixel centres at +0.5, as in
        ``Prediction``) and score.
    :param camera: the colour camera's model.
    :param masks: bool[N, H, W]; a keypoint takes depth only from its own instance's
        pixels (None: from any pixel).
    :param radius: how far (pixels, Chebyshev) to look for the nearest valid pixel of
        the mask when the 3x3 window around the keypoint has none.
    :param min_score: keypoints with a score at or below this have no 3D point.
    :return: float32[N, K, 4]: x, y, z in metres (optical frame) and validity 1/0; the
        point is 0 where invalid.
    :raises DepthError: when depth and masks differ in size.
    """
    h, w = depth.shape
    if masks is not None:
        check_depth_size(depth, masks.shape[1:])
    n, k = keypoints.shape[:2]
    out = np.zeros((n, k, 4), np.float32)
    if n == 0 or k == 0:
        return out
    kp = keypoints.reshape(-1, 3)
    inst = np.repeat(np.arange(n), k)
    col = np.floor(kp[:, 0]).astype(np.int64)
    row = np.floor(kp[:, 1]).astype(np.int64)
    cand = (kp[:, 2] > min_score) & (col >= 0) & (col < w) & (row >= 0) & (row < h)
    idx = np.nonzero(cand)[0]
    z = np.zeros(kp.shape[0])
    if idx.size:
        rr = row[idx, None] + _WINDOW[None, :, 0]
        cc = col[idx, None] + _WINDOW[None, :, 1]
        inside = (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)
        rr, cc = np.clip(rr, 0, h - 1), np.clip(cc, 0, w - 1)
        vals = depth[rr, cc].astype(np.float64)
        good = inside & (vals > 0)
        if masks is not None:
            good &= masks[inst[idx, None], rr, cc]
        vals[~good] = np.inf
        vals.sort(1)  # the valid values first, in order
        count = good.sum(1)
        has = count > 0
        rows = np.nonzero(has)[0]
        c = count[has]
        z[idx[has]] = 0.5 * (vals[rows, (c - 1) // 2] + vals[rows, c // 2])
        for j in idx[~has]:
            z[j] = _nearest(depth, None if masks is None else masks[inst[j]],
                            row[j], col[j], kp[j, :2], radius)
    ok = z > 0
    if ok.any():
        rays = camera.pixels_to_rays(kp[ok, :2] - 0.5)
        flat = out.reshape(-1, 4)
        flat[ok, :3] = rays * z[ok, None]
        flat[ok, 3] = 1.0
    return out


def _nearest(depth, mask, row, col, xy, radius) -> float:
    """Return the depth of the nearest valid (mask) pixel within ``radius``, else 0."""
    h, w = depth.shape
    y1, y2 = max(row - radius, 0), min(row + radius + 1, h)
    x1, x2 = max(col - radius, 0), min(col + radius + 1, w)
    d = depth[y1:y2, x1:x2]
    good = d > 0
    if mask is not None:
        good &= mask[y1:y2, x1:x2]
    ys, xs = np.nonzero(good)
    if ys.size == 0:
        return 0.0
    dist = (xs + x1 + 0.5 - xy[0]) ** 2 + (ys + y1 + 0.5 - xy[1]) ** 2
    j = int(np.argmin(dist))
    return float(d[ys[j], xs[j]])


__all__ = ['DepthError', 'check_depth_size', 'depth_in_metres', 'lift_instances',
           'lift_keypoints', 'robust_depth']
