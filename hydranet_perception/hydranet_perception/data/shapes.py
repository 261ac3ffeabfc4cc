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
Articulated synthetic things: a person figure, a surgical instrument and a box.

Each thing is a parameter vector that moves smoothly in time,
``params(t) = base + amp * sin(omega * t + phase)``; a still scene is ``t = 0`` (the
random phases make the pose random).  ``draw_thing`` paints the thing on the RGB image
and writes its label into an id map with the very same OpenCV primitives, so the id map
is exactly the painted silhouette; later things overwrite earlier ones (painter's order).

Coordinates are continuous pixels: pixel ``(row i, col j)`` covers ``[j, j+1) x [i, i+1)``
and its centre is ``(j + 0.5, i + 0.5)``.  Keypoints are returned in this convention.
Left/right keypoints follow the subject's own side: the person faces the camera, so its
``left_*`` joints are on the image's right; the instrument's ``handle_left`` is on the
left when looking from the handles toward the tip.  A mirror flip therefore swaps them,
as ``KeypointSchema.flip_permutation()`` expects.
"""

from dataclasses import dataclass
from typing import Callable, Dict, Tuple

import cv2
import numpy as np

_SHIFT = 4
_ONE = 1 << _SHIFT

# number of keypoints each kind of thing produces, in schema order
KIND_KEYPOINTS: Dict[str, int] = {'person': 17, 'instrument': 4, 'box': 0}


@dataclass
class Thing:
    """One animated thing: ``kind``, its motion parameters and its fixed colours."""

    kind: str
    base: np.ndarray
    amp: np.ndarray
    omega: np.ndarray
    phase: np.ndarray
    colors: np.ndarray  # float[n, 3] RGB

    def params(self, t: float) -> np.ndarray:
        """Return the parameter vector at time ``t`` (frames)."""
        return self.base + self.amp * np.sin(self.omega * t + self.phase)


def _pt(p) -> Tuple[int, int]:
    return int(round((p[0] - 0.5) * _ONE)), int(round((p[1] - 0.5) * _ONE))


def _col(c) -> Tuple[int, int, int]:
    c = np.clip(c, 0, 255)
    return int(c[0]), int(c[1]), int(c[2])


class _Painter:
    """Draw the same primitive on the image (colour) and on the id map (value)."""

    def __init__(self, img: np.ndarray, idmap: np.ndarray, value: int):
        self.img, self.idmap, self.value = img, idmap, value

    def capsule(self, p, q, thick, color, *, label=True):
        t = max(1, int(round(thick)))
        cv2.line(self.img, _pt(p), _pt(q), _col(color), t, cv2.LINE_8, _SHIFT)
        if label:
            cv2.line(self.idmap, _pt(p), _pt(q), self.value, t, cv2.LINE_8, _SHIFT)

    def disc(self, c, r, color, *, label=True):
        r = int(round(max(r, 1.0 if label else 0.1) * _ONE))  # a labelled disc covers c
        cv2.circle(self.img, _pt(c), r, _col(color), -1, cv2.LINE_8, _SHIFT)
        if label:
            cv2.circle(self.idmap, _pt(c), r, self.value, -1, cv2.LINE_8, _SHIFT)

    def ellipse(self, c, axes, angle_deg, color, *, arc=(0, 360), label=True):
        ax = (max(1, int(round(axes[0] * _ONE))), max(1, int(round(axes[1] * _ONE))))
        args = (_pt(c), ax, float(angle_deg), float(arc[0]), float(arc[1]))
        cv2.ellipse(self.img, *args, _col(color), -1, cv2.LINE_8, _SHIFT)
        if label:
            cv2.ellipse(self.idmap, *args, self.value, -1, cv2.LINE_8, _SHIFT)

    def poly(self, pts, color, *, label=True):
        q = np.round((np.asarray(pts, np.float64) - 0.5) * _ONE).astype(np.int32)
        cv2.fillConvexPoly(self.img, q, _col(color), cv2.LINE_8, _SHIFT)
        if label:
            cv2.fillConvexPoly(self.idmap, q, self.value, cv2.LINE_8, _SHIFT)


def _rot(v, a):
    c, s = np.cos(a), np.sin(a)
    return np.array([c * v[0] - s * v[1], s * v[0] + c * v[1]])


# ----------------------------------------------------------------------------- person
# params: cx, cy (hip centre), height, lean, width factor, head tilt, then per limb
# (left arm, right arm, left leg, right leg) the root angle from "down" (outward
# positive) and the bend at the middle joint.
def _sample_person(rng, h, w, scale):
    ph = 0.55 * h * scale
    base = np.array([rng.uniform(0.05, 0.95) * w, rng.uniform(0.35, 0.85) * h + 0.1 * ph,
                     ph, rng.uniform(-0.15, 0.15), rng.uniform(0.65, 1.0), 0.0,
                     rng.uniform(0.1, 0.9), rng.uniform(0.2, 0.8),
                     rng.uniform(0.1, 0.9), rng.uniform(0.2, 0.8),
                     rng.uniform(0.05, 0.3), rng.uniform(-0.2, 0.2),
                     rng.uniform(0.05, 0.3), rng.uniform(-0.2, 0.2)])
    amp = np.array([rng.uniform(0, 0.15) * w, rng.uniform(0, 0.04) * h, 0.05 * ph,
                    0.1, 0.1, 0.2, 0.8, 0.6, 0.8, 0.6, 0.2, 0.25, 0.2, 0.25])
    gait = 2 * np.pi / rng.uniform(16, 40)
    slow = 2 * np.pi / rng.uniform(80, 240, size=6)
    omega = np.concatenate([slow, np.full(8, gait)])
    phase = rng.uniform(0, 2 * np.pi, size=14)
    phase[8:10] = phase[6:8] + np.pi  # the arms swing in counter-phase
    phase[12:14] = phase[10:12] + np.pi
    skin = rng.uniform((90, 50, 30), (250, 210, 180))
    colors = np.stack([skin, rng.uniform(0, 255, 3), rng.uniform(0, 200, 3),
                       rng.uniform(0, 90, 3)])
    return base, amp, omega, phase, colors


def _draw_person(p, colors, paint: _Painter) -> np.ndarray:
    cx, cy, h, lean, wf, tilt = p[:6]
    skin, shirt, pants, hair = colors
    up = np.array([np.sin(lean), -np.cos(lean)])
    right = np.array([np.cos(lean), np.sin(lean)])  # image right = the subject's left
    hip = np.array([cx, cy])
    neck = hip + up * 0.30 * h
    sw, hw = 0.11 * h * wf, 0.07 * h * wf
    ls, rs, lh, rh = neck + right * sw, neck - right * sw, hip + right * hw, hip - right * hw

    def limb(root, side, a1, a2, l1, l2):
        d1 = np.cos(a1) * -up + np.sin(a1) * side * right
        j1 = root + l1 * h * d1
        d2 = np.cos(a1 + a2) * -up + np.sin(a1 + a2) * side * right
        return j1, j1 + l2 * h * d2

    lel, lwr = limb(ls, 1, p[6], p[7], 0.17, 0.15)
    rel, rwr = limb(rs, -1, p[8], p[9], 0.17, 0.15)
    lkn, lan = limb(lh, 1, p[10], p[11], 0.24, 0.23)
    rkn, ran = limb(rh, -1, p[12], p[13], 0.24, 0.23)
    hu, hr = _rot(up, tilt), _rot(right, tilt)
    r = 0.065 * h
    head = neck + up * 0.04 * h + hu * r
    nose = head - hu * 0.15 * r
    leye, reye = head + hu * 0.2 * r + hr * 0.4 * r, head + hu * 0.2 * r - hr * 0.4 * r
    lear, rear = head + hr * 0.85 * r + hu * 0.05 * r, head - hr * 0.85 * r + hu * 0.05 * r

    def segment(p, q, thick, color):  # a limb with round joints that cover p and q
        paint.capsule(p, q, thick, color)
        paint.disc(p, thick / 2, color)
        paint.disc(q, thick / 2, color)

    for hip_j, knee, ankle in ((lh, lkn, lan), (rh, rkn, ran)):
        segment(hip_j, knee, 0.075 * h, pants)
        segment(knee, ankle, 0.06 * h, pants * 0.85)
        paint.disc(ankle + -up * 0.01 * h, 0.032 * h, hair * 0.5)
        paint.disc(ankle, 0.02 * h, hair * 0.5)
    paint.poly([ls + right * 0.03 * h, rs - right * 0.03 * h,
                rh - right * 0.02 * h, lh + right * 0.02 * h], shirt)
    paint.capsule(neck, head, 0.045 * h, skin * 0.9)
    for sh, el, wr in ((ls, lel, lwr), (rs, rel, rwr)):
        segment(sh, el, 0.05 * h, shirt * 0.9)
        segment(el, wr, 0.04 * h, skin)
        paint.disc(wr, 0.025 * h, skin * 0.95)
    angle = np.degrees(np.arctan2(hr[1], hr[0]))
    for ear in (lear, rear):
        paint.disc(ear, 0.2 * r, skin * 0.9)
    paint.ellipse(head, (0.9 * r, 1.1 * r), angle, skin)
    paint.ellipse(head + hu * 0.35 * r, (0.95 * r, 0.8 * r), angle, hair, arc=(180, 360))
    for eye in (leye, reye):
        paint.disc(eye, 0.12 * r, (20, 20, 20), label=False)
    paint.disc(nose, 0.12 * r, skin * 0.7, label=False)
    return np.stack([nose, leye, reye, lear, rear, ls, rs, lel, rel, lwr, rwr,
                     lh, rh, lkn, rkn, lan, ran])


# ------------------------------------------------------------------------- instrument
# params: joint x, y, axis angle (handles -> tip), length, jaw opening, handle spread
def _sample_instrument(rng, h, w, scale):
    length = 0.45 * min(h, w) * scale
    base = np.array([rng.uniform(0.1, 0.9) * w, rng.uniform(0.1, 0.9) * h,
                     rng.uniform(-np.pi, np.pi), length, 0.15, rng.uniform(0.6, 1.0)])
    amp = np.array([rng.uniform(0, 0.15) * w, rng.uniform(0, 0.15) * h,
                    rng.uniform(0, 0.6), 0.05 * length, 0.15, 0.2])
    omega = 2 * np.pi / np.concatenate([rng.uniform(60, 200, size=4),
                                        rng.uniform(10, 30, size=2)])
    phase = rng.uniform(0, 2 * np.pi, size=6)
    metal = np.full(3, rng.uniform(110, 220)) + rng.uniform(-10, 10, 3)
    colors = np.stack([metal, rng.uniform(0, 255, 3)])
    return base, amp, omega, phase, colors


def _draw_instrument(p, colors, paint: _Painter) -> np.ndarray:
    jx, jy, ang, length, opening, spread = p
    metal, grip = colors
    d = np.array([np.cos(ang), np.sin(ang)])
    left = np.array([d[1], -d[0]])  # left of the axis when looking toward the tip
    joint = np.array([jx, jy])
    jaw = 0.16 * length
    tip = joint + d * jaw
    handle = joint - d * 0.62 * length
    t = max(2.0, 0.035 * length)
    gap = max(0.0, opening) * jaw
    hl = handle - d * 0.12 * length + left * spread * 0.12 * length
    hr = handle - d * 0.12 * length - left * spread * 0.12 * length
    ring = 0.055 * length
    for c in (hl, hr):
        paint.capsule(handle, c, t, metal * 0.9)
        paint.disc(c, ring, grip)
        paint.disc(c, 0.5 * ring, grip * 0.4, label=False)
    paint.capsule(handle, joint, t, metal)
    paint.capsule(handle + left * 0.2 * t, joint + left * 0.2 * t, 0.3 * t, metal * 1.25,
                  label=False)
    paint.poly([joint + left * 0.55 * t, tip + left * (gap + 0.3 * t),
                tip - left * (gap + 0.3 * t), joint - left * 0.55 * t], metal * 0.8)
    paint.disc(tip, max(0.3 * t, 1.0), metal * 0.8)  # a rounded tip that covers its keypoint
    if gap > 1.0:
        paint.capsule(joint + d * 0.3 * jaw, tip - d * (0.4 * gap + 1), 0.8 * gap,
                      (15, 15, 15), label=False)
    paint.disc(joint, 0.4 * t, metal * 0.5, label=False)
    return np.stack([tip, joint, hl, hr])


# -------------------------------------------------------------------------------- box
# params: centre x, y, front width, front height, rotation, depth offset x, y
def _sample_box(rng, h, w, scale):
    bw = 0.2 * min(h, w) * scale * rng.uniform(0.6, 1.4)
    bh = bw * rng.uniform(0.5, 1.5)
    base = np.array([rng.uniform(0.1, 0.9) * w, rng.uniform(0.2, 0.9) * h, bw, bh,
                     rng.uniform(-0.3, 0.3), rng.uniform(-0.4, 0.4) * bw,
                     -rng.uniform(0.1, 0.4) * bh])
    amp = np.array([rng.uniform(0, 0.15) * w, rng.uniform(0, 0.1) * h, 0.05 * bw,
                    0.05 * bh, 0.1, 0.05 * bw, 0.05 * bh])
    omega = 2 * np.pi / rng.uniform(60, 200, size=7)
    phase = rng.uniform(0, 2 * np.pi, size=7)
    colors = np.stack([rng.uniform((90, 60, 20), (230, 200, 150)), rng.uniform(0, 255, 3)])
    return base, amp, omega, phase, colors


def _draw_box(p, colors, paint: _Painter) -> np.ndarray:
    cx, cy, bw, bh, rot, ox, oy = p
    base, tape = colors
    c = np.array([cx, cy])
    ex, ey = _rot((bw / 2, 0), rot), _rot((0, bh / 2), rot)
    tl, tr, br, bl = c - ex - ey, c + ex - ey, c + ex + ey, c - ex + ey
    o = np.array([ox, oy])
    pts = np.stack([tl, tr, br, bl, tl + o, tr + o, br + o, bl + o])
    hull = cv2.convexHull(pts.astype(np.float32))[:, 0]
    paint.poly(hull, base * 0.6)  # the silhouette; the faces below only add shading
    paint.poly([tl, tr, tr + o, tl + o], base * 1.15, label=False)
    paint.poly([tl, tr, br, bl], base, label=False)
    mid, bottom, half = (tl + tr) / 2, (bl + br) / 2, ex * 0.12  # tape strips on 2 faces
    paint.poly([mid - half, mid + half, bottom + half, bottom - half], tape, label=False)
    paint.poly([mid - half, mid + half, mid + o + half, mid + o - half], tape * 1.1,
               label=False)
    return np.zeros((0, 2))


_KINDS: Dict[str, Tuple[Callable, Callable]] = {
    'person': (_sample_person, _draw_person),
    'instrument': (_sample_instrument, _draw_instrument),
    'box': (_sample_box, _draw_box),
}


def sample_thing(rng: np.random.Generator, kind: str, height: int, width: int, *,
                 scale: float = 1.0) -> Thing:
    """
    Sample a thing of ``kind`` (a key of ``KIND_KEYPOINTS``) for an image of this size.

    ``scale`` multiplies the nominal size (person: 55% of the image height, instrument:
    45% of the shorter side, box: 20% of the shorter side).
    """
    if kind not in _KINDS:
        raise ValueError(f'no renderer for thing {kind!r}; known: {sorted(_KINDS)}')
    base, amp, omega, phase, colors = _KINDS[kind][0](rng, height, width, scale)
    return Thing(kind, base, amp, omega, phase, colors)


def draw_thing(thing: Thing, t: float, img: np.ndarray, idmap: np.ndarray,
               value: int) -> np.ndarray:
    """
    Paint ``thing`` at time ``t`` on img uint8[H, W, 3] and idmap uint8[H, W] (=value).

    Returns the keypoints float32[K, 2] (x, y) of the thing, K = KIND_KEYPOINTS[kind].
    """
    kp = _KINDS[thing.kind][1](thing.params(t), thing.colors, _Painter(img, idmap, value))
    kp = np.asarray(kp, np.float32).reshape(-1, 2)
    _cover_keypoints(kp, img, idmap, value)
    return kp


def _cover_keypoints(kp: np.ndarray, img: np.ndarray, idmap: np.ndarray, value: int) -> None:
    """
    Make each keypoint's pixel part of the thing when the rasteriser just missed it.

    Small discs and thin lines can leave a joint's own pixel out of the silhouette by one
    pixel; such a pixel (with a neighbour of the thing) joins it, in the neighbour's
    colour, so that an unoccluded keypoint always lies on its instance.
    """
    h, w = idmap.shape
    for x, y in kp:
        if not (0 <= x < w and 0 <= y < h):
            continue
        c, r = int(x), int(y)
        if idmap[r, c] == value:
            continue
        r0, c0 = max(r - 1, 0), max(c - 1, 0)
        ys, xs = np.nonzero(idmap[r0:r + 2, c0:c + 2] == value)
        if len(ys):
            idmap[r, c] = value
            img[r, c] = img[r0 + ys[0], c0 + xs[0]]
