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
The Ultralytics YOLO dataset format (detect, segment, pose), read as training samples.

A dataset is a ``data.yaml`` and one label file per image::

    path: .                  # root; relative to the data.yaml's folder (default: that folder)
    train: images/train      # a folder of images, a .txt list of image paths, or a list
    val: images/val
    names: {0: instrument, 1: parcel}      # or a list
    kpt_shape: [4, 3]        # pose only: K keypoints, 2 (x y) or 3 (x y v) values each
    flip_idx: [0, 1, 3, 2]   # pose only: the keypoint each one becomes in a mirror image
    kpt_names: {0: [tip, joint, handle_left, handle_right]}   # optional, per class
    kpt_sigmas: {0: [0.025, 0.035, 0.05, 0.05]}              # ours, optional: OKS sigmas
    kpt_skeleton: {0: [[0, 1], [1, 2], [1, 3]]}              # ours, optional: edges

``images/train/a.jpg`` has its labels in ``labels/train/a.txt`` (the last ``images``
folder of the path becomes ``labels``), one object per line, coordinates normalised to
0..1 by the image width and height: ``cls cx cy w h`` (a box), ``cls x1 y1 ... xn yn``
(a polygon, n >= 3) or, with ``kpt_shape``, ``cls cx cy w h`` then K keypoints
``x y [v]``.  An image without a label file has no objects (a background image).

Every class is a thing.  With ``kpt_shape`` and no ``kpt_names`` every class has the K
keypoints (Ultralytics' convention), named so that ``flip_idx`` is their mirror
permutation; with ``kpt_names`` only the classes listed have keypoints (the first
``len(names)`` of the K on each line).  Masks are the polygons filled by OpenCV's
``fillPoly`` (pixel centres at +0.5, edges included: an edge on a pixel border takes the
pixel after it; the writer's polygons, through boundary pixel centres, read back exactly);
a box or pose line (no polygon) gets its box as mask, as in ``CocoDataset``.

Conventions for bad data (all label files are parsed when the dataset is built, so
training never meets them): a malformed line, an unknown class id, the wrong number of
keypoint values, coordinates that are not normalised (beyond -1..2), a missing image or
an empty split raise ``DatasetError`` naming the file and line (``strict=False`` skips
bad lines instead and counts them in ``stats``).  Coordinates a little outside the image
are clipped to it and counted (``stats['clipped_lines']``): annotation tools write objects
cut by the image border that way; an object with nothing left inside is skipped and
counted; a keypoint outside the image becomes ``v = 0``.
"""

from dataclasses import dataclass
import os
from typing import Dict, List, Optional, Tuple

import cv2
from hydranet_perception.data.datasets import (
    DatasetError, image_to_tensor, make_target, Sample, Transform)
from hydranet_perception.data.yolo_yaml import load_data_yaml, YoloSpec
from hydranet_perception.schema import LabelSpace, VOID
import numpy as np
from torch.utils.data import Dataset

__all__ = ['IMAGE_SUFFIXES', 'YoloDataset', 'YoloSpec', 'label_path_for', 'load_data_yaml']

IMAGE_SUFFIXES = ('.bmp', '.jpeg', '.jpg', '.png', '.tif', '.tiff', '.webp')
_MAX_LISTED = 10  # problems listed in one error message


def label_path_for(image_path: str) -> str:
    """Return the label file of an image: the last ``images`` folder becomes ``labels``."""
    head, sep, tail = image_path.rpartition(f'{os.sep}images{os.sep}')
    stem = os.path.splitext(tail if sep else image_path)[0]
    return f'{head}{os.sep}labels{os.sep}{stem}.txt' if sep else stem + '.txt'


def _split_images(spec: YoloSpec, split: str) -> List[str]:
    if split not in spec.splits:
        raise DatasetError(f'{spec.path}: no {split!r} split (it has {sorted(spec.splits)})')
    entries = spec.splits[split]
    images: List[str] = []
    for entry in entries if isinstance(entries, list) else [entries]:
        p = os.path.join(spec.root, str(entry))
        if os.path.isdir(p):
            images += sorted(os.path.join(dp, f) for dp, _, fs in os.walk(p) for f in fs
                             if f.lower().endswith(IMAGE_SUFFIXES))
        elif os.path.isfile(p) and p.endswith('.txt'):
            with open(p) as f:
                for n, line in enumerate(f, 1):
                    if line.strip():
                        q = os.path.join(os.path.dirname(p), line.strip())
                        if not os.path.isfile(q):
                            raise DatasetError(f'{p}:{n}: image {q} does not exist')
                        images.append(os.path.normpath(q))
        else:
            raise DatasetError(f'{spec.path}: {split}: {p} is neither a folder of images nor '
                               'a .txt list of images (paths are relative to path:)')
    if not images:
        raise DatasetError(f'{spec.path}: the {split!r} split ({entries}) has no images '
                           f'({", ".join(IMAGE_SUFFIXES)})')
    return images


@dataclass
class YoloObject:
    """One label line: normalised coordinates, as read (clipped later, per image)."""

    cls: int
    line: int
    polygon: Optional[np.ndarray]  # float64[n, 2], or None for a box line
    box: np.ndarray  # float64[4] cx, cy, w, h
    keypoints: Optional[np.ndarray]  # float64[K, 3]


def parse_label_file(path: str, *, num_classes: int,
                     kpt_shape: Optional[Tuple[int, int]]
                     ) -> Tuple[List[YoloObject], List[str]]:
    """
    Parse one label file; return its objects and its problems (``'file:line: why'``).

    :param path: the .txt file.
    :param num_classes: len(names); class ids must be 0..num_classes-1.
    :param kpt_shape: (K, D) for pose labels, else None.
    """
    objects, problems = [], []
    with open(path) as f:
        lines = f.read().splitlines()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f'{path}:{n}'
        try:
            v = np.array([float(x) for x in line.split()], np.float64)
        except ValueError:
            problems.append(f'{where}: not numbers: {line[:60]!r}')
            continue
        if not np.isfinite(v).all():
            problems.append(f'{where}: NaN or infinite value')
            continue
        c = v[0]
        if c != int(c) or not 0 <= c < num_classes:
            problems.append(f'{where}: class {v[0]:g} is not one of 0..{num_classes - 1} '
                            '(names in data.yaml)')
            continue
        if kpt_shape is not None:
            k, d = kpt_shape
            if len(v) != 5 + k * d:
                problems.append(f'{where}: {len(v)} values; a pose line has 5 + {k} x {d} = '
                                f'{5 + k * d} (cls cx cy w h, then {k} keypoints of {d} '
                                'values: kpt_shape in data.yaml)')
                continue
            kp = v[5:].reshape(k, d)
            if d == 2:  # no visibility: labelled where not (0, 0)
                kp = np.concatenate([kp, 2.0 * (kp != 0).any(1, keepdims=True)], 1)
            elif not np.isin(kp[:, 2], (0, 1, 2)).all():
                problems.append(f'{where}: keypoint visibility must be 0, 1 or 2')
                continue
            obj = YoloObject(int(c), n, None, v[1:5], kp)
        elif len(v) == 5:
            obj = YoloObject(int(c), n, None, v[1:5], None)
        elif len(v) >= 7 and len(v) % 2 == 1:
            obj = YoloObject(int(c), n, v[1:].reshape(-1, 2), v[1:5] * 0, None)
        else:
            problems.append(f'{where}: {len(v)} values; a box line has 5 (cls cx cy w h), a '
                            'polygon line 1 + 2n (cls x1 y1 ... xn yn, n >= 3)')
            continue
        coords = obj.polygon if obj.polygon is not None else obj.box[:2]
        if coords.min() < -1 or coords.max() > 2 or (obj.polygon is None and
                                                     obj.box[2:].max() > 3):
            problems.append(f'{where}: coordinates outside -1..2: YOLO labels are normalised '
                            'to 0..1 (divide pixels by the image width and height)')
            continue
        if obj.polygon is None and (obj.box[2] <= 0 or obj.box[3] <= 0):
            problems.append(f'{where}: box width and height must be > 0')
            continue
        objects.append(obj)
    return objects, problems


def _outside(obj: YoloObject) -> Tuple[bool, bool]:
    """Return (partly outside 0..1, entirely outside 0..1) for an object's extent."""
    if obj.polygon is not None:
        lo, hi = obj.polygon.min(0), obj.polygon.max(0)
    else:
        lo, hi = obj.box[:2] - obj.box[2:] / 2, obj.box[:2] + obj.box[2:] / 2
    return bool((lo < 0).any() or (hi > 1).any()), bool((hi <= 0).any() or (lo >= 1).any())


class YoloDataset(Dataset):
    """
    One split of a YOLO dataset as ``(image, target)`` samples (``data/datasets.py``).

    Also offers what ``hydranet-eval`` reads from a ``CocoDataset``: ``images`` (``id``,
    ``file_name``), ``cat_to_class``, ``load_image``, ``load_panoptic`` (always None)
    and ``coco_instances()``.

    :param data_yaml: path of the data.yaml (or a ``YoloSpec``).
    :param split: ``train``, ``val`` or ``test``.
    :param label_space: classes to map the names to (a model's); every name must be in
        it.  By default the data.yaml's own (``YoloSpec.label_space``).
    :param transforms: callable ``(image, target) -> (image, target)``.
    :param strict: raise on bad lines (default); False skips and counts them.
    :raises DatasetError: bad data.yaml, missing images, no labels, bad lines (strict).
    """

    def __init__(self, data_yaml, *, split: str = 'train',
                 label_space: Optional[LabelSpace] = None,
                 transforms: Optional[Transform] = None, strict: bool = True):
        spec = data_yaml if isinstance(data_yaml, YoloSpec) else load_data_yaml(data_yaml)
        self.spec, self.split, self.transforms = spec, split, transforms
        self.label_space = label_space or spec.label_space
        self.class_map = self._class_map(spec, self.label_space)
        self.stats: Dict[str, int] = dict.fromkeys(
            ('images', 'images_without_labels', 'objects', 'clipped_lines',
             'outside_image', 'keypoints_outside_image', 'skipped_lines'), 0)
        problems: List[str] = []
        self.items: List[Tuple[str, List[YoloObject]]] = []
        for path in _split_images(spec, split):
            lp = label_path_for(path)
            objects: List[YoloObject] = []
            if os.path.isfile(lp):
                objects, bad = parse_label_file(lp, num_classes=len(spec.names),
                                                kpt_shape=spec.kpt_shape)
                problems += bad
            else:
                self.stats['images_without_labels'] += 1
            kept = []
            for obj in objects:
                partly, wholly = _outside(obj)
                self.stats['clipped_lines'] += int(partly and not wholly)
                self.stats['outside_image'] += int(wholly)
                if obj.keypoints is not None:
                    xy, vis = obj.keypoints[:, :2], obj.keypoints[:, 2] > 0
                    self.stats['keypoints_outside_image'] += int(
                        (vis & ((xy < 0) | (xy >= 1)).any(1)).sum())
                if not wholly:
                    kept.append(obj)
            self.items.append((path, kept))
        self.stats['images'] = len(self.items)
        self.stats['objects'] = sum(len(o) for _, o in self.items)
        if self.stats['images_without_labels'] == len(self.items):
            raise DatasetError(
                f'{spec.path}: none of the {len(self.items)} images of {split!r} has a label '
                f'file; for {self.items[0][0]} it would be {label_path_for(self.items[0][0])}'
                ' (labels/ beside images/, same names, .txt)')
        if problems and strict:
            listed = '\n  '.join(problems[:_MAX_LISTED])
            more = len(problems) - _MAX_LISTED
            raise DatasetError(f'{spec.path} ({split}): {len(problems)} bad label lines:\n  '
                               f'{listed}' + (f'\n  ... and {more} more' if more > 0 else '')
                               + '\n(strict=False skips them)')
        self.stats['skipped_lines'] = len(problems)
        self.problems = problems
        if self.stats['objects'] == 0:
            raise DatasetError(f'{spec.path}: the {split!r} split has no objects inside its '
                               'images (every label file is empty, or every line was bad)')
        self.images = [{'id': i + 1, 'file_name': os.path.relpath(p, spec.root)}
                       for i, (p, _) in enumerate(self.items)]
        self.cat_to_class = {c + 1: c for c in self.label_space.thing_ids}

    @staticmethod
    def _class_map(spec: YoloSpec, ls: LabelSpace) -> List[int]:
        """Map data class index -> label-space class id, by name; check keypoint counts."""
        absent = [n for n in spec.names if n not in ls.names]
        if absent:
            raise DatasetError(f'{spec.path}: classes {absent} are not in the label space '
                               f'{ls.names}: rename them in names:, or train with '
                               'model.label_space: data')
        out = []
        for n in spec.names:
            c = ls.by_name(n)
            if not c.is_thing:
                raise DatasetError(f'{spec.path}: class {n!r} is a stuff class of the label '
                                   'space; YOLO labels are things')
            k = c.keypoint_schema.num_keypoints if c.keypoint_schema else 0
            if k and (spec.kpt_shape is None or spec.kpt_shape[0] < k):
                raise DatasetError(f'{spec.path}: class {n!r} has {k} keypoints in the label '
                                   f'space, the data has kpt_shape {spec.kpt_shape}')
            out.append(c.id)
        return out

    def __len__(self) -> int:
        return len(self.items)

    def load_image(self, index: int) -> np.ndarray:
        """Return image ``index`` as uint8[H, W, 3] RGB."""
        path = self.items[index][0]
        img = cv2.imread(path, cv2.IMREAD_COLOR_RGB)
        if img is None:
            raise DatasetError(f'image {path} is missing, truncated or not an image')
        return img

    def load_panoptic(self, index: int) -> None:
        """Return None: YOLO labels have no panoptic truth."""
        return None

    def annotations(self, index: int, height: int, width: int) -> List[dict]:
        """
        Return the objects of image ``index`` in pixels, clipped to ``height`` x ``width``.

        Each is ``{'class_id', 'line', 'mask' uint8[H, W], 'box' float32[4] x1 y1 x2 y2,
        'keypoints' float32[K, 3]}`` with K = ``label_space.max_keypoints``; objects with
        nothing inside the image are left out.
        """
        ls, out = self.label_space, []
        k = ls.max_keypoints
        scale = np.array([width, height], np.float64)
        for obj in self.items[index][1]:
            cid = self.class_map[obj.cls]
            mask = np.zeros((height, width), np.uint8)
            if obj.polygon is not None:
                pts = np.round((obj.polygon * scale - 0.5) * 16).astype(np.int32)
                cv2.fillPoly(mask, [pts], 1, lineType=cv2.LINE_8, shift=4)
                ys, xs = np.nonzero(mask.any(1))[0], np.nonzero(mask.any(0))[0]
                if not len(xs):
                    continue
                box = [xs[0], ys[0], xs[-1] + 1, ys[-1] + 1]
            else:
                c, s = obj.box[:2] * scale, obj.box[2:] * scale
                x1, y1 = np.clip(c - s / 2, 0, scale)
                x2, y2 = np.clip(c + s / 2, 0, scale)
                if x2 <= x1 or y2 <= y1:
                    continue
                box = [x1, y1, x2, y2]
                mask[int(round(y1)):int(round(y2)), int(round(x1)):int(round(x2))] = 1
            kp = np.zeros((k, 3), np.float32)
            schema = ls.classes[cid].keypoint_schema
            if obj.keypoints is not None and schema is not None:
                src = obj.keypoints[:schema.num_keypoints].copy()
                src[:, :2] *= scale
                ok = ((src[:, 2] > 0) & (src[:, :2] >= 0).all(1)
                      & (src[:, 0] < width) & (src[:, 1] < height))
                kp[:len(src)] = src * ok[:, None]
            out.append({'class_id': cid, 'line': obj.line, 'mask': mask,
                        'box': np.array(box, np.float32), 'keypoints': kp})
        return out

    def __getitem__(self, index: int) -> Sample:
        image = self.load_image(index)
        h, w = image.shape[:2]
        anns = self.annotations(index, h, w)
        semantic = np.full((h, w), VOID, np.uint8)
        for a in anns:
            semantic[a['mask'] > 0] = a['class_id']
        k = self.label_space.max_keypoints
        masks = np.zeros((0, h, w), np.uint8)
        kps = np.zeros((0, k, 3), np.float32)
        if anns:
            masks = np.stack([a['mask'] for a in anns])
            kps = np.stack([a['keypoints'] for a in anns])
        target = make_target(
            boxes=np.array([a['box'] for a in anns], np.float32),
            labels=np.array([a['class_id'] for a in anns], np.int64), masks=masks,
            keypoints=kps, semantic=semantic, image_id=self.images[index]['id'])
        image_t = image_to_tensor(image)
        if self.transforms is not None:
            image_t, target = self.transforms(image_t, target)
        return image_t, target
