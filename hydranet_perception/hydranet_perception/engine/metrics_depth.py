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
Monocular depth metrics (AbsRel, delta < 1.25) and the median-scaled ground-plane baseline.

Conventions (Eigen et al. 2014, as monocular depth papers report them): over the valid
pixels of an image (true depth > 0 and finite, prediction > 0), ``abs_rel`` is the mean
of ``|pred - true| / true`` and ``delta1`` the fraction with
``max(pred / true, true / pred) < 1.25``; a split's figure is the mean over its images
(an image without valid pixels in a region does not count for that region).

The baseline is the depth of a flat floor seen by a level-ish camera: for an image row
``v`` below the horizon row ``v_h``, ``z = camera_height * fy / (cos(pitch) * (v - v_h))``
(pixel centres, pitch from the horizon: ``tan(pitch) = (cy - v_h) / fy``), clipped to
``max_depth`` at and above the horizon; then "median-scaled": multiplied per image by
``median(true / baseline)`` over the valid pixels, which lends it the true scale.
``evaluate_depth`` scores a predictor with a depth head on generated scenes against it.
"""

from typing import Dict, Iterable, Mapping, Optional, Sequence

import numpy as np

__all__ = ['DepthAccumulator', 'depth_errors', 'evaluate_depth', 'ground_plane_depth',
           'median_scaled', 'valid_depth']

#: The baseline's camera: the generator's mean camera height and mean horizon row
#: (``DepthOptions.camera_height`` 1.0-1.6 m; ``stuff_layout`` horizon 0.2-0.6 H).
BASELINE_CAMERA_HEIGHT = 1.3
BASELINE_HORIZON = 0.4


def valid_depth(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    """Return bool[...], where both depths are finite and positive."""
    pred, true = np.asarray(pred), np.asarray(true)
    return np.isfinite(pred) & np.isfinite(true) & (pred > 0) & (true > 0)


def depth_errors(pred: np.ndarray, true: np.ndarray,
                 region: Optional[np.ndarray] = None) -> Dict[str, float]:
    """
    Return AbsRel and delta < 1.25 of ``pred`` against ``true`` over one image's region.

    :param pred: float[H, W] predicted depth (metres).
    :param true: float[H, W] true depth (metres; 0, NaN or inf = unknown).
    :param region: optional bool[H, W]: only these pixels (and valid ones) count.
    :return: {'abs_rel', 'delta1', 'pixels'}; the two rates are NaN when no pixel counts.
    :raises ValueError: when the shapes differ.
    """
    pred, true = np.asarray(pred, np.float64), np.asarray(true, np.float64)
    if pred.shape != true.shape or (region is not None and np.shape(region) != true.shape):
        raise ValueError(f'depth maps of different shapes: pred {pred.shape}, true '
                         f'{true.shape}, region {None if region is None else np.shape(region)}')
    ok = valid_depth(pred, true)
    if region is not None:
        ok &= np.asarray(region, bool)
    n = int(ok.sum())
    if not n:
        return {'abs_rel': float('nan'), 'delta1': float('nan'), 'pixels': 0}
    p, t = pred[ok], true[ok]
    ratio = np.maximum(p / t, t / p)
    return {'abs_rel': float(np.mean(np.abs(p - t) / t)),
            'delta1': float(np.mean(ratio < 1.25)), 'pixels': n}


def ground_plane_depth(height: int, width: int, *, fy: float, cy: float, horizon_row: float,
                       camera_height: float, max_depth: float = 10.0) -> np.ndarray:
    """
    Return float32[H, W], the depth (z, metres) of a flat floor; see the module docstring.

    :param height: image rows.
    :param width: image columns.
    :param fy: focal length in pixels (rows).
    :param cy: principal point row (pixel centres at integers, CameraInfo convention).
    :param horizon_row: the row of the horizon, same convention.
    :param camera_height: metres above the floor.
    :param max_depth: the depth given at and above the horizon (and the clip).
    :raises ValueError: for a non-positive focal length, camera height or max depth.
    """
    if fy <= 0 or camera_height <= 0 or max_depth <= 0:
        raise ValueError(f'ground plane needs fy > 0, camera_height > 0, max_depth > 0; got '
                         f'{fy}, {camera_height}, {max_depth}')
    cos_pitch = np.cos(np.arctan2(cy - horizon_row, fy))
    below = np.arange(height, dtype=np.float64) - horizon_row
    with np.errstate(divide='ignore'):
        z = np.where(below > 0, camera_height * fy / (cos_pitch * np.maximum(below, 1e-9)),
                     max_depth)
    z = np.minimum(z, max_depth)
    return np.broadcast_to(z[:, None], (height, width)).astype(np.float32)


def median_scaled(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    """
    Return ``pred * median(true / pred)`` over the valid pixels (``pred`` when none).

    :param pred: float[H, W] depth of any scale.
    :param true: float[H, W] true depth (metres).
    """
    pred = np.asarray(pred, np.float64)
    ok = valid_depth(pred, true)
    if not ok.any():
        return pred.astype(np.float32)
    return (pred * np.median(np.asarray(true, np.float64)[ok] / pred[ok])).astype(np.float32)


class DepthAccumulator:
    """
    Per-image depth errors averaged over a split, per named region.

    ``add(pred, true, regions)`` scores one image over each region (bool[H, W]; 'all'
    is added for the whole image); ``result()`` returns, per region, the mean AbsRel and
    delta1 over the images where the region had valid pixels, and that image count.
    """

    def __init__(self):
        self._rows: Dict[str, list] = {}

    def add(self, pred: np.ndarray, true: np.ndarray,
            regions: Optional[Mapping[str, np.ndarray]] = None):
        """Score one image (see the class docstring)."""
        for name, region in [('all', None)] + list((regions or {}).items()):
            e = depth_errors(pred, true, region)
            if e['pixels']:
                self._rows.setdefault(name, []).append((e['abs_rel'], e['delta1']))

    def result(self, order: Optional[Iterable[str]] = None) -> Dict[str, Dict[str, float]]:
        """Return {region: {'abs_rel', 'delta1', 'images'}} (regions in ``order`` first)."""
        names: Sequence[str] = list(order or [])
        names = [n for n in names if n in self._rows] + sorted(
            n for n in self._rows if n not in names)
        out = {}
        for n in names:
            a = np.asarray(self._rows[n], np.float64)
            out[n] = {'abs_rel': round(float(a[:, 0].mean()), 4),
                      'delta1': round(float(a[:, 1].mean()), 4), 'images': int(len(a))}
        return out


def evaluate_depth(predictor, *, seed: int = 999, num_images: int = 60, height: int = 240,
                   width: int = 320) -> Dict[str, Dict[str, Dict[str, float]]]:
    """
    Score a predictor's depth head on generated scenes against the ground-plane baseline.

    Methods: ``head`` (the metric prediction as is), ``head_median_scaled`` (the same,
    median-scaled like the baseline) and ``ground_plane_median_scaled`` (the baseline with
    the image's true intrinsics, ``BASELINE_CAMERA_HEIGHT`` and ``BASELINE_HORIZON``).
    Regions: ``all``, ``things`` (instance pixels), ``stuff`` (the rest) and each class's
    pixels of the scene's semantic map; the truth is the scene's noise-free depth.

    :param predictor: a ``Predictor`` whose model has the depth head.
    :param seed: the split's seed (scene ``i`` is ``generate_scene((seed, i))``).
    :param num_images: scenes scored.
    :param height: scene height.
    :param width: scene width.
    :return: {method: {region: {'abs_rel', 'delta1', 'images'}}}.
    """
    from hydranet_perception.data.synthetic import generate_scene
    ls = predictor.label_space
    accs = {m: DepthAccumulator() for m in ('head', 'head_median_scaled',
                                            'ground_plane_median_scaled')}
    order = ['all', 'things', 'stuff'] + list(ls.names)
    for i in range(num_images):
        scene = generate_scene((seed, i), height=height, width=width, label_space=ls,
                               depth=True)
        pred = predictor(scene.image, tasks=['depth'])
        true = scene.depth_true
        things = np.zeros(true.shape, bool)
        for inst in scene.instances:
            things |= inst.mask
        regions = {'things': things, 'stuff': ~things}
        regions.update({c.name: scene.semantic == c.id for c in ls.classes})
        k = scene.camera_info.k
        plane = ground_plane_depth(height, width, fy=k[4], cy=k[5],
                                   horizon_row=BASELINE_HORIZON * height,
                                   camera_height=BASELINE_CAMERA_HEIGHT)
        accs['head'].add(pred.depth, true, regions)
        accs['head_median_scaled'].add(median_scaled(pred.depth, true), true, regions)
        accs['ground_plane_median_scaled'].add(median_scaled(plane, true), true, regions)
    return {m: a.result(order) for m, a in accs.items()}
