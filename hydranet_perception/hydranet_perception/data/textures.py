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
Procedural textures, the stuff layout and photometric effects of synthetic scenes.

Everything draws its randomness from a ``numpy.random.Generator`` passed in, so a
scene is a pure function of its seed.  Work is done with OpenCV and whole-array numpy
operations on uint8 where possible: a 640x480 background costs a few milliseconds.
"""

import functools
from typing import Dict, Optional, Tuple

import cv2
from hydranet_perception.schema import VOID
import numpy as np

_NOISE_BANK = 1024  # side of the cached sensor-noise bank
_NOISE_UNIT = 16.0  # the bank stores N(0, 1) * _NOISE_UNIT as int16


def smooth_noise(rng: np.random.Generator, height: int, width: int, *,
                 cells: int) -> np.ndarray:
    """Return value noise float32[height, width] in [0, 1], ``cells`` blobs across."""
    ch = max(2, int(round(cells * height / max(height, width))) + 1)
    cw = max(2, int(round(cells * width / max(height, width))) + 1)
    small = rng.random((ch, cw), dtype=np.float32)
    return np.clip(cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC), 0, 1)


def _colorize(pattern: np.ndarray, c0, c1) -> np.ndarray:
    """Map a uint8[h, w] pattern to uint8[h, w, 3] between RGB colours c0 and c1."""
    ramp = np.linspace(0.0, 1.0, 256, dtype=np.float32)[:, None]
    lut = np.asarray(c0, np.float32)[None] * (1 - ramp) + np.asarray(c1, np.float32)[None] * ramp
    lut = np.clip(lut, 0, 255).astype(np.uint8).reshape(256, 1, 3)
    return cv2.LUT(cv2.cvtColor(pattern, cv2.COLOR_GRAY2RGB), lut)


def _to_u8(x: np.ndarray) -> np.ndarray:
    return np.clip(x * 255.0, 0, 255).astype(np.uint8)


def _random_color(rng: np.random.Generator, lo: int, hi: int) -> np.ndarray:
    return rng.integers(lo, hi, size=3).astype(np.float32)


def texture(rng: np.random.Generator, kind: str, height: int, width: int, *,
            origin: Tuple[int, int] = (0, 0), horizon: Optional[float] = None,
            palette: Tuple[int, int] = (40, 230)) -> np.ndarray:
    """
    Return a procedural texture uint8[height, width, 3] (RGB).

    ``kind`` is one of ``noise``, ``stripes``, ``checker``, ``tiles`` (a checker floor in
    perspective below ``horizon``, a row in full-image coordinates) or ``planks``.
    ``origin`` is the (y, x) of the texture's top-left pixel in the full image.
    """
    c0 = _random_color(rng, *palette)
    c1 = np.clip(c0 + rng.uniform(-90, 90, size=3), 0, 255)
    y = np.arange(origin[0], origin[0] + height, dtype=np.float32)[:, None] + 0.5
    x = np.arange(origin[1], origin[1] + width, dtype=np.float32)[None, :] + 0.5
    grain = smooth_noise(rng, height, width, cells=int(rng.integers(12, 40)))
    if kind == 'noise':
        coarse = smooth_noise(rng, height, width, cells=int(rng.integers(2, 8)))
        p = 0.7 * coarse + 0.3 * grain
    elif kind == 'stripes':
        period = rng.uniform(6, 40)
        theta = rng.uniform(0, np.pi)
        wx, wy = 2 * np.pi * np.cos(theta) / period, 2 * np.pi * np.sin(theta) / period
        sx, cx, sy, cy = np.sin(wx * x), np.cos(wx * x), np.sin(wy * y), np.cos(wy * y)
        p = 0.35 + 0.35 * (sx * cy + cx * sy) + 0.3 * grain
    elif kind == 'checker':
        s = int(rng.integers(6, 48))
        p = (((x.astype(np.int32) // s) + (y.astype(np.int32) // s)) & 1) * 0.75 + 0.25 * grain
    elif kind == 'tiles':
        h0 = -float(height) if horizon is None else horizon
        depth = np.maximum(y - h0, 1.0)
        s = rng.uniform(0.4, 1.5)
        gx = (x - rng.uniform(0, width)) / depth / s
        gz = rng.uniform(0.3, 1.0) * height / depth / s
        p = ((np.floor(gx).astype(np.int32) + np.floor(gz).astype(np.int32)) & 1) * 0.7
        p = p + 0.3 * grain
    elif kind == 'planks':
        period = rng.uniform(8, 30)
        vertical = rng.random() < 0.5
        u, v = (x, y) if vertical else (y, x)
        board = np.floor(u / period)
        phase = np.mod(board * 0.37, 1.0) * 40.0
        rings = 0.5 + 0.5 * np.sin((v + phase) / rng.uniform(3, 9) + board)
        edge = (np.mod(u, period) < 1.5).astype(np.float32)
        p = (0.45 * rings + 0.35 * grain) * (1 - 0.6 * edge) + 0.1
    else:
        raise ValueError(f'unknown texture kind {kind!r}')
    p = np.broadcast_to(p, (height, width))
    return _colorize(_to_u8(p), c0, c1)


# texture kinds and colour ranges per stuff class name: each class has its own look
STUFF_LOOKS: Dict[str, Tuple[Tuple[str, ...], Tuple[int, int]]] = {
    'floor': (('tiles', 'planks', 'checker'), (30, 170)),
    'wall': (('noise', 'stripes'), (120, 250)),
    'table': (('planks', 'noise'), (60, 200)),
}


def stuff_layout(rng: np.random.Generator, height: int, width: int,
                 ids: Dict[str, int], *, void_prob: float) -> Tuple[np.ndarray, float]:
    """
    Return the stuff class map uint8[H, W] (``VOID`` where none) and the horizon row.

    ``ids`` maps the stuff names ``floor``, ``wall`` and ``table`` to global class ids;
    a missing name leaves its region void.
    """
    sem = np.full((height, width), VOID, np.uint8)
    horizon = rng.uniform(0.2, 0.6) * height
    slope = rng.uniform(-0.08, 0.08) * height
    hl, hr = horizon - slope, horizon + slope
    floor = np.array([[0, hl], [width, hr], [width, height], [0, height]], np.float32)
    wall = np.array([[0, 0], [width, 0], [width, hr], [0, hl]], np.float32)
    for name, poly in (('wall', wall), ('floor', floor)):
        if name in ids:
            _fill(sem, poly, ids[name])
    if 'table' in ids and rng.random() < 0.75:
        tw = rng.uniform(0.3, 0.8) * width
        cx = rng.uniform(0.1, 0.9) * width
        top = rng.uniform(horizon - 0.05 * height, 0.75 * height)
        depth = rng.uniform(0.1, 0.3) * height
        skew = rng.uniform(0.05, 0.2) * tw
        slab = np.array([[cx - tw / 2 + skew, top], [cx + tw / 2 - skew, top],
                         [cx + tw / 2, top + depth], [cx - tw / 2, top + depth]], np.float32)
        _fill(sem, slab, ids['table'])
        leg_w = max(2.0, 0.03 * tw)
        for lx in (cx - tw / 2 + leg_w, cx + tw / 2 - 2 * leg_w):
            leg = np.array([[lx, top + depth], [lx + leg_w, top + depth],
                            [lx + leg_w, height * 1.1], [lx, height * 1.1]], np.float32)
            _fill(sem, leg, ids['table'])
    if rng.random() < void_prob:
        c = rng.uniform((0, 0), (width, height))
        n = int(rng.integers(5, 9))
        ang = np.sort(rng.uniform(0, 2 * np.pi, n))
        rad = rng.uniform(0.04, 0.15, n) * min(height, width)
        poly = c + np.stack([np.cos(ang) * rad, np.sin(ang) * rad], 1)
        _fill(sem, poly.astype(np.float32), VOID)
    return sem, float(horizon)


def _fill(canvas: np.ndarray, poly: np.ndarray, value) -> None:
    """Fill a polygon given in continuous pixel coordinates (pixel centres at +0.5)."""
    pts = np.round((poly - 0.5) * 16).astype(np.int32)[None]
    cv2.fillPoly(canvas, pts, value, cv2.LINE_8, 4)


def render_background(rng: np.random.Generator, sem: np.ndarray, horizon: float,
                      names: Dict[int, str]) -> np.ndarray:
    """
    Paint each stuff region of ``sem`` with its class's texture; void gets clutter.

    Returns uint8[H, W, 3] RGB.  ``names`` maps the global ids in ``sem`` to stuff names.
    """
    h, w = sem.shape
    img = np.empty((h, w, 3), np.uint8)
    for value in np.unique(sem):
        region = (sem == value).astype(np.uint8)
        x0, y0, bw, bh = cv2.boundingRect(region)
        if value == VOID or names.get(int(value)) not in STUFF_LOOKS:
            kinds, palette = ('noise', 'checker', 'stripes'), (0, 255)
        else:
            kinds, palette = STUFF_LOOKS[names[int(value)]]
        kind = kinds[int(rng.integers(len(kinds)))]
        tex = texture(rng, kind, bh, bw, origin=(y0, x0), horizon=horizon, palette=palette)
        cv2.copyTo(tex, region[y0:y0 + bh, x0:x0 + bw], img[y0:y0 + bh, x0:x0 + bw])
    return img


@functools.lru_cache(maxsize=1)
def _noise_bank() -> np.ndarray:
    bank = np.random.default_rng(20260101).standard_normal(
        (_NOISE_BANK, _NOISE_BANK, 3), dtype=np.float32)
    return np.clip(bank * _NOISE_UNIT, -32000, 32000).astype(np.int16)


def photometric(rng: np.random.Generator, img: np.ndarray, *, noise_rng: np.random.Generator,
                noise_std: Tuple[float, float], blur_sigma: Tuple[float, float],
                gamma: Tuple[float, float], lighting: float) -> np.ndarray:
    """
    Apply lighting, gamma/contrast, blur and Gaussian sensor noise; uint8 in and out.

    ``lighting`` is the strength of a smooth multiplicative illumination field;
    ``noise_std`` and ``blur_sigma`` are ranges in 8-bit units and pixels.  ``rng``
    draws the lighting, gamma, blur and noise level; ``noise_rng`` only the noise
    pattern (a sequence keeps ``rng``'s state fixed and changes ``noise_rng`` per frame).
    """
    h, w = img.shape[:2]
    if lighting > 0:
        field = 1.0 + lighting * (2 * smooth_noise(rng, h, w, cells=3) - 1)
        gx = rng.uniform(-lighting, lighting) * np.linspace(-1, 1, w, dtype=np.float32)
        gain = np.clip((field + gx[None]) * 128, 0, 255).astype(np.uint8)
        img = cv2.multiply(img, cv2.cvtColor(gain, cv2.COLOR_GRAY2RGB), scale=1 / 128)
    g = rng.uniform(*gamma)
    contrast, brightness = rng.uniform(0.8, 1.2), rng.uniform(-20, 20)
    tint = rng.uniform(0.9, 1.1, size=3)
    ramp = np.arange(256, dtype=np.float32)[:, None] / 255.0
    lut = (255.0 * ramp ** g - 128) * contrast * tint[None] + 128 + brightness
    img = cv2.LUT(img, np.clip(lut, 0, 255).astype(np.uint8).reshape(256, 1, 3))
    sigma = rng.uniform(*blur_sigma)
    if sigma > 0.3:
        img = cv2.GaussianBlur(img, (0, 0), sigma)
    std = rng.uniform(*noise_std)
    if std > 0:
        if h <= _NOISE_BANK and w <= _NOISE_BANK:
            oy = noise_rng.integers(0, _NOISE_BANK - h + 1)
            ox = noise_rng.integers(0, _NOISE_BANK - w + 1)
            noise = _noise_bank()[oy:oy + h, ox:ox + w]
        else:
            noise = (noise_rng.standard_normal((h, w, 3), dtype=np.float32)
                     * _NOISE_UNIT).astype(np.int16)
        img = cv2.addWeighted(img, 1.0, noise, std / _NOISE_UNIT, 0, dtype=cv2.CV_8U)
    return img
