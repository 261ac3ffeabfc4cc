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
Generated sequences choreographed to separate trackers (crossings, occlusions, exits, pans).

Ground truth is that of ``synthetic.generate_sequence``: a ``track_id`` per instance,
stable over the whole sequence.
"""

from typing import Iterator, Optional, Tuple

from hydranet_perception.data.shapes import draw_thing, sample_thing, Thing
from hydranet_perception.data.synthetic import _World, Scene, SceneOptions, Seed
from hydranet_perception.schema import LabelSpace
import numpy as np


def generate_tracking_sequence(seed: Seed, num_frames: int, *, height: int = 480,
                               width: int = 640, label_space: Optional[LabelSpace] = None,
                               fps: float = 30.0, crossings: Tuple[int, int] = (1, 2),
                               occlusions: Tuple[int, int] = (1, 2),
                               occlusion_s: Tuple[float, float] = (0.3, 1.5),
                               exits: Tuple[int, int] = (0, 1), camera_motion: float = 0.0,
                               **options) -> Iterator[Scene]:
    """
    Yield a sequence choreographed to be hard for a tracker (one frame per ``1/fps`` s).

    The world of ``generate_sequence`` (same seed, same options) gets extra things, drawn
    from a separate random stream so that ``generate_sequence`` itself is unchanged:

    * ``crossings`` (a range) pairs of things of one class, with the same colours, that
      sway across each other horizontally (one passes in front of the other);
    * ``occlusions`` (a range) things that pass once, around the middle of the sequence,
      wholly behind a static box (the occluder, painted last) for a duration drawn from
      ``occlusion_s`` seconds;
    * ``exits`` (a range) things that sway across an image border, leaving and coming back.

    * ``camera_motion`` (a fraction of the width, 0 = a still camera): the camera pans,
      so the whole scene moves by a slow horizontal sway of that amplitude, a smaller
      vertical one and a hand-held jitter of about 1% of it per frame; every thing's image
      motion is then its own plus the camera's, as for a camera on a moving robot.

    Ground truth is as in ``generate_sequence``: ``track_id`` is stable for the whole
    sequence, also when a thing comes back after an occlusion or an exit.
    """
    world = _World(seed, height, width, label_space, SceneOptions(**options))
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(4)[3])
    names = sorted(world.kinds)
    horizon = max(num_frames - 1, 1)

    def pick(lo_hi):
        return int(rng.integers(lo_hi[0], lo_hi[1] + 1))

    for _ in range(pick(crossings)):
        name = names[int(rng.integers(len(names)))]
        scale = float(rng.uniform(0.5, 0.9))
        a = sample_thing(rng, name, height, width, scale=scale)
        b = sample_thing(rng, name, height, width, scale=scale)
        b.colors = a.colors.copy()
        amp = rng.uniform(0.15, 0.3) * width
        omega = 2 * np.pi / rng.uniform(100, 200)
        phase = rng.uniform(0, 2 * np.pi)
        cx = rng.uniform(0.35, 0.65) * width
        b.base[1] = a.base[1] + rng.uniform(-0.05, 0.05) * height
        for thing, ph in ((a, phase), (b, phase + np.pi)):
            thing.base[0], thing.amp[0] = cx, amp
            thing.amp[1] = min(thing.amp[1], 0.01 * height)
            thing.omega[0], thing.phase[0] = omega, ph
        world.things += [(a, world.kinds[name]), (b, world.kinds[name])]
    occluders = []
    for _ in range(pick(occlusions)):
        name = names[int(rng.integers(len(names)))]
        thing = sample_thing(rng, name, height, width, scale=float(rng.uniform(0.4, 0.7)))
        thing.amp[1] = 0.0
        left, top, right, bottom = _extent(thing, np.linspace(0, horizon, 12), height, width)
        margin = 4.0
        half = rng.uniform(0.04, 0.08) * width  # half the range where it is hidden
        bw, bh = 2 * half + left + right + 2 * margin, top + bottom + 2 * margin
        cx = rng.uniform(0.3, 0.7) * width
        y = float(np.clip(rng.uniform(0.3, 0.7) * height, top + margin,
                          max(top + margin, height - bottom - margin)))
        swing = rng.uniform(0.25, 0.4) * width
        hidden_frames = rng.uniform(*occlusion_s) * fps
        omega = 2 * np.arcsin(min(half / swing, 1.0)) / hidden_frames
        thing.base[0], thing.base[1] = cx + (left - right) / 2, y
        thing.amp[0], thing.omega[0] = swing, omega
        thing.phase[0] = -omega * rng.uniform(0.3, 0.7) * horizon
        world.things.append((thing, world.kinds[name]))
        occluder = _static_box(rng, cx, y + (bottom - top) / 2, bw, bh)
        if 'box' in world.kinds:
            occluders.append((occluder, world.kinds['box']))
    for _ in range(pick(exits)):
        name = names[int(rng.integers(len(names)))]
        thing = sample_thing(rng, name, height, width, scale=float(rng.uniform(0.5, 0.9)))
        side = 1.0 if rng.uniform() < 0.5 else -1.0
        thing.base[0] = width / 2 + side * 0.6 * width
        thing.amp[0], thing.omega[0] = 0.3 * width, 2 * np.pi / rng.uniform(120, 240)
        world.things.append((thing, world.kinds[name]))
    world.things += occluders
    shifts = _camera_path(np.random.default_rng(np.random.SeedSequence(seed).spawn(5)[4]),
                          num_frames, camera_motion * width)
    for f in range(num_frames):
        yield world.render(float(f), f, shift=shifts[f])


def _camera_path(rng: np.random.Generator, num_frames: int, amplitude: float) -> np.ndarray:
    """Return float[num_frames, 2] pan offsets (dx, dy) in pixels; zeros for amplitude 0."""
    if amplitude <= 0:
        return np.zeros((num_frames, 2))
    f = np.arange(num_frames)[:, None]
    omega = 2 * np.pi / rng.uniform(90, 180, 2)
    phase = rng.uniform(0, 2 * np.pi, 2)
    sway = np.array([1.0, 0.3]) * amplitude * np.sin(omega * f + phase)
    jitter = np.cumsum(rng.normal(0, 0.01 * amplitude, (num_frames, 2)), axis=0)
    return sway - sway[:1] + jitter - jitter[:1]


def _extent(thing: Thing, times, height: int, width: int) -> Tuple[float, ...]:
    """Return how far (left, up, right, down) a thing reaches from its anchor (x, y)."""
    h, w = 3 * height, 3 * width
    moved = Thing(thing.kind, thing.base.copy(), thing.amp.copy(), thing.omega,
                  thing.phase, thing.colors)
    moved.base[:2], moved.amp[:2] = (w / 2, h / 2), 0.0
    img, idmap = np.zeros((h, w, 3), np.uint8), np.zeros((h, w), np.uint8)
    for t in times:
        draw_thing(moved, float(t), img, idmap, 1)
    ys, xs = np.nonzero(idmap.any(1))[0], np.nonzero(idmap.any(0))[0]
    return w / 2 - xs[0], h / 2 - ys[0], xs[-1] + 1 - w / 2, ys[-1] + 1 - h / 2


def _static_box(rng: np.random.Generator, cx: float, cy: float, bw: float, bh: float) -> Thing:
    """Return a still, upright box thing whose silhouette is the rectangle given."""
    base = np.array([cx, cy, bw, bh, 0.0, 0.0, 0.0])
    colors = np.stack([rng.uniform((90, 60, 20), (230, 200, 150)), rng.uniform(0, 255, 3)])
    return Thing('box', base, np.zeros(7), np.zeros(7), np.zeros(7), colors)


__all__ = ['generate_tracking_sequence']
