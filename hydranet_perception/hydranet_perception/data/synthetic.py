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
Deterministic synthetic scenes with exact instance, keypoint and panoptic truth.

Stuff is floor, wall and table; things are a person, a surgical instrument and a box.
A scene is a pure function of its seed: the same seed gives the same bytes, on any
machine with the same numpy/OpenCV.  The generator uses ``numpy.random.Generator``
objects only, never a global random state.  Things are painted in order, so later
ones occlude earlier ones, and all ground truth describes what is *visible*:

* an instance's ``mask`` is its visible pixels and its ``box`` their extent;
* a keypoint is ``v=2`` when its pixel shows its own instance, ``v=1`` when it lies in
  the image but is hidden by a later thing, ``v=0`` (and x = y = 0) outside the image;
* a thing with fewer than ``min_visible_area`` visible pixels is dropped and its
  pixels are void (semantic 255, panoptic 0), as is an unlabeled clutter blob that
  appears with probability ``void_prob``.

With ``depth=True`` (off by default; the colour image and 2D truth are the same either
way) a scene also has a metric depth image from a calibrated, slightly distorted camera
(``Scene.depth``, ``Scene.depth_true``, ``Scene.camera_info``) and 3D truth per instance
(``Instance.position``, ``Instance.keypoints_3d``) in the camera optical frame
(REP-103: x right, y down, z forward), metres; see ``synthetic_depth.py``.
"""

from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

from hydranet_perception.data.shapes import draw_thing, KIND_KEYPOINTS, sample_thing, Thing
from hydranet_perception.data.synthetic_depth import DepthOptions, DepthRig
from hydranet_perception.data.textures import photometric, render_background, stuff_layout
from hydranet_perception.geometry.camera import CameraInfo
from hydranet_perception.prediction import Segment
from hydranet_perception.schema import default_label_space, LabelSpace, VOID
import numpy as np

Seed = Union[int, Sequence[int]]


@dataclass
class Instance:
    """
    One visible thing of a scene.

    * ``class_id``: global class id; ``track_id``: >= 1, stable across a sequence;
      ``segment_id``: its id in the scene's panoptic map.
    * ``mask``: bool[H, W], the visible pixels (never empty).
    * ``box``: float32[4], x1, y1, x2, y2 in pixel edges, the extent of ``mask``.
    * ``keypoints``: float32[K, 3], x, y (pixel centres at +0.5), COCO visibility v;
      K is the size of the class's keypoint schema (0 for classes without one).
    * ``position``: float32[3], with ``depth=True``: the centroid of the visible pixels'
      3D points, camera optical frame, metres; else None.
    * ``keypoints_3d``: float32[K, 3], with ``depth=True``: each keypoint's 3D point on
      its own thing (also when hidden, v = 1), 0 where v = 0; else None.
    """

    class_id: int
    mask: np.ndarray
    box: np.ndarray
    keypoints: np.ndarray
    track_id: int = 0
    segment_id: int = 0
    position: Optional[np.ndarray] = None
    keypoints_3d: Optional[np.ndarray] = None

    @property
    def area(self) -> int:
        """Return the number of visible pixels."""
        return int(self.mask.sum())


@dataclass
class Scene:
    """
    One synthetic image and its ground truth.

    * ``image``: uint8[H, W, 3] RGB.
    * ``semantic``: uint8[H, W] global class ids, ``VOID`` (255) where unlabeled.
    * ``panoptic``: int32[H, W] segment ids, 0 = void; ``segments`` describes each id
      (stuff segments first, one per stuff class present; ``instance_index`` points
      into ``instances`` for things).
    * ``depth``: float32[H, W] the measured depth in metres, 0 where missing (noise,
      edge dropouts; see ``synthetic_depth.py``); ``depth_true``: float32[H, W] its
      noise-free value; ``camera_info``: the camera's K and D (CameraInfo pixel
      convention: the top-left pixel centre is (0, 0)).  All None unless ``depth=True``.
    """

    image: np.ndarray
    semantic: np.ndarray
    panoptic: np.ndarray
    instances: List[Instance]
    segments: List[Segment]
    label_space: LabelSpace
    frame_index: int = 0
    depth: Optional[np.ndarray] = None
    depth_true: Optional[np.ndarray] = None
    camera_info: Optional[CameraInfo] = None

    @property
    def height(self) -> int:
        """Image height in pixels."""
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        """Image width in pixels."""
        return int(self.image.shape[1])


@dataclass(frozen=True)
class SceneOptions:
    """Knobs of the generator; every range is (low, high), sampled per scene."""

    num_objects: Tuple[int, int] = (1, 6)
    scale_range: Tuple[float, float] = (0.5, 1.5)  # log-uniform size multiplier
    class_weights: Optional[Dict[str, float]] = None  # thing name -> weight
    noise_std: Tuple[float, float] = (0.0, 8.0)  # Gaussian noise, 8-bit units
    blur_sigma: Tuple[float, float] = (0.0, 1.2)  # pixels
    gamma: Tuple[float, float] = (0.7, 1.4)
    lighting: float = 0.25  # strength of the smooth illumination field
    void_prob: float = 0.2  # chance of an unlabeled clutter blob
    min_visible_area: int = 16  # pixels; smaller things are dropped (void)
    depth: bool = False  # also render a metric depth image and 3D truth
    depth_options: Optional[DepthOptions] = None  # None: DepthOptions()


class _World:
    """The persistent part of a scene or sequence: layout, background and things."""

    def __init__(self, seed: Seed, height: int, width: int,
                 label_space: Optional[LabelSpace], options: SceneOptions):
        self.ls = label_space or default_label_space()
        self.opts = options
        self.height, self.width = height, width
        root = np.random.SeedSequence(seed)
        layout_ss, self.photo_ss, self.noise_ss = root.spawn(3)
        rng = np.random.default_rng(layout_ss)
        stuff_ids = {self.ls.classes[i].name: i for i in self.ls.stuff_ids}
        self.stuff, horizon = stuff_layout(rng, height, width, stuff_ids,
                                           void_prob=options.void_prob)
        self.background = render_background(
            rng, self.stuff, horizon, {i: n for n, i in stuff_ids.items()})
        self.kinds = self._thing_kinds()
        self.depth_rig: Optional[DepthRig] = None
        if options.depth:
            self.depth_rig = DepthRig(
                np.random.SeedSequence(seed).spawn(6)[5], self.stuff, horizon,
                floor_id=stuff_ids.get('floor'), wall_id=stuff_ids.get('wall'),
                table_id=stuff_ids.get('table'), options=options.depth_options or DepthOptions())
        names = sorted(self.kinds)
        weights = np.array([(options.class_weights or {}).get(n, 1.0) for n in names])
        lo, hi = options.num_objects
        n = int(rng.integers(lo, hi + 1)) if weights.sum() > 0 else 0
        log_lo, log_hi = np.log(options.scale_range[0]), np.log(options.scale_range[1])
        self.things: List[Tuple[Thing, int]] = []
        for _ in range(n):
            name = names[int(rng.choice(len(names), p=weights / weights.sum()))]
            scale = float(np.exp(rng.uniform(log_lo, log_hi)))
            thing = sample_thing(rng, name, height, width, scale=scale)
            self.things.append((thing, self.kinds[name]))

    def _thing_kinds(self) -> Dict[str, int]:
        kinds = {}
        for cid in self.ls.thing_ids:
            c = self.ls.classes[cid]
            if c.name not in KIND_KEYPOINTS:
                continue
            k = c.keypoint_schema.num_keypoints if c.keypoint_schema else 0
            if k != KIND_KEYPOINTS[c.name]:
                raise ValueError(f'class {c.name!r} has {k} keypoints, the synthetic '
                                 f'{c.name} has {KIND_KEYPOINTS[c.name]}')
            kinds[c.name] = cid
        if not kinds:
            raise ValueError(f'no thing class the generator can draw; it knows '
                             f'{sorted(KIND_KEYPOINTS)}, the label space has '
                             f'{[self.ls.classes[i].name for i in self.ls.thing_ids]}')
        return kinds

    def render(self, t: float, frame_index: int, shift: Tuple[float, float] = (0.0, 0.0)
               ) -> Scene:
        """
        Render the world at time ``t`` (frames).

        :param shift: (dx, dy) pixels the camera's view moves the world by (a pan): the
            background and stuff layout are translated (mirrored at the borders) and every
            thing is drawn that much further; (0, 0) renders the world as it is.
        """
        h, w = self.height, self.width
        things = [thing for thing, _ in self.things]
        stuff = self.stuff
        if shift[0] or shift[1]:
            if self.depth_rig is not None:
                raise ValueError('camera motion (shift) is not supported with depth=True')
            img, stuff = _pan(self.background, self.stuff, shift)
            things = [_moved(thing, shift) for thing in things]
        else:
            img = self.background.copy()
        idmap = np.zeros((h, w), np.uint8)
        kps = [draw_thing(thing, t, img, idmap, i + 1) for i, thing in enumerate(things)]
        o = self.opts
        noise_rng = np.random.default_rng(self.noise_ss.spawn(1)[0])
        img = photometric(np.random.default_rng(self.photo_ss), img, noise_rng=noise_rng,
                          noise_std=o.noise_std, blur_sigma=o.blur_sigma, gamma=o.gamma,
                          lighting=o.lighting)
        scene = self._annotate(img, idmap, kps, frame_index, stuff)
        rig = self.depth_rig
        if rig is not None:
            scene.depth_true, scene.depth = rig.render(idmap, len(self.things))
            scene.camera_info = rig.camera_info
            for inst in scene.instances:
                inst.position, inst.keypoints_3d = rig.truth(inst.mask, inst.track_id - 1,
                                                             inst.keypoints)
        return scene

    def _annotate(self, img, idmap, kps, frame_index, stuff) -> Scene:
        n = len(self.things)
        counts = np.bincount(idmap.ravel(), minlength=n + 1)
        keep = [i for i in range(n) if counts[i + 1] >= self.opts.min_visible_area]
        stuff_counts = np.bincount(stuff[idmap == 0], minlength=256)
        segments: List[Segment] = []
        stuff_seg = np.zeros(256, np.int32)
        for cid in self.ls.stuff_ids:
            if stuff_counts[cid] > 0:
                segments.append(Segment(len(segments) + 1, cid, False, int(stuff_counts[cid])))
                stuff_seg[cid] = len(segments)
        thing_seg = np.zeros(256, np.int32)
        thing_cls = np.full(256, VOID, np.uint8)
        instances: List[Instance] = []
        for i in keep:
            cid = self.things[i][1]
            mask = idmap == i + 1
            ys, xs = np.nonzero(mask.any(1))[0], np.nonzero(mask.any(0))[0]
            box = np.array([xs[0], ys[0], xs[-1] + 1, ys[-1] + 1], np.float32)
            seg_id = len(segments) + 1
            segments.append(Segment(seg_id, cid, True, int(counts[i + 1]),
                                    instance_index=len(instances)))
            instances.append(Instance(cid, mask, box, _visibility(kps[i], idmap, i + 1),
                                      track_id=i + 1, segment_id=seg_id))
            thing_seg[i + 1], thing_cls[i + 1] = seg_id, cid
        things = idmap > 0
        semantic = np.where(things, thing_cls[idmap], stuff)
        panoptic = np.where(things, thing_seg[idmap], stuff_seg[stuff])
        return Scene(img, semantic, panoptic.astype(np.int32), instances, segments,
                     self.ls, frame_index)


def _visibility(xy: np.ndarray, idmap: np.ndarray, value: int) -> np.ndarray:
    """Return float32[K, 3] keypoints with COCO visibility from the painted id map."""
    h, w = idmap.shape
    out = np.zeros((len(xy), 3), np.float32)
    for k, (x, y) in enumerate(xy):
        if 0 <= x < w and 0 <= y < h:
            out[k] = (x, y, 2 if idmap[int(y), int(x)] == value else 1)
    return out


def generate_scene(seed: Seed, *, height: int = 480, width: int = 640,
                   label_space: Optional[LabelSpace] = None, **options) -> Scene:
    """
    Generate one synthetic scene, a pure function of its arguments.

    :param seed: an int, or a sequence of ints (e.g. ``(dataset_seed, index)``).
    :param height, width: image size in pixels.
    :param label_space: classes to use (default ``default_label_space()``); things are
        drawn for the classes named ``person`` (17 COCO keypoints), ``instrument``
        (4 keypoints) and ``box``; stuff for ``floor``, ``wall`` and ``table``.
    :param options: fields of ``SceneOptions`` (num_objects, scale_range, ...).
    :return: a ``Scene``; see its docstring for the array contracts.
    """
    world = _World(seed, height, width, label_space, SceneOptions(**options))
    return world.render(0.0, 0)


def generate_sequence(seed: Seed, num_frames: int, *, height: int = 480, width: int = 640,
                      label_space: Optional[LabelSpace] = None, step: float = 1.0,
                      **options) -> Iterator[Scene]:
    """
    Yield ``num_frames`` scenes of one world in smooth motion.

    The layout, background, lighting and things are fixed; things move and the
    person's limbs swing smoothly (``step`` is the time between frames, in units where
    a gait cycle takes 16-40), the sensor noise changes per frame.  An instance keeps
    its ``track_id`` in every frame where it is visible.  Frame 0 equals
    ``generate_scene`` with the same arguments.
    """
    world = _World(seed, height, width, label_space, SceneOptions(**options))
    for f in range(num_frames):
        yield world.render(f * step, f)


def _pan(background: np.ndarray, stuff: np.ndarray, shift) -> Tuple[np.ndarray, np.ndarray]:
    """Translate the background and stuff layout by ``shift`` (mirrored at the borders)."""
    h, w = stuff.shape
    dx, dy = int(round(shift[0])), int(round(shift[1]))
    ys = _mirror(np.arange(h) - dy, h)
    xs = _mirror(np.arange(w) - dx, w)
    return background[ys][:, xs].copy(), stuff[ys][:, xs].copy()


def _mirror(index: np.ndarray, n: int) -> np.ndarray:
    """Reflect indices into [0, n) (... 1 0 | 0 1 ... n-1 | n-1 ...)."""
    period = 2 * n
    i = np.mod(index, period)
    return np.where(i < n, i, period - 1 - i)


def _moved(thing: Thing, shift) -> Thing:
    """Return a copy of ``thing`` whose anchor is moved by ``shift`` (dx, dy) pixels."""
    base = thing.base.copy()
    base[0] += shift[0]
    base[1] += shift[1]
    return Thing(thing.kind, base, thing.amp, thing.omega, thing.phase, thing.colors)


__all__ = ['Instance', 'Scene', 'SceneOptions', 'generate_scene', 'generate_sequence']
