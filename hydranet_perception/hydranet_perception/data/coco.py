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
COCO instances (RLE masks, keypoints per category) and COCO panoptic, out and in.

A split written by ``write_coco_split`` looks like::

    out_dir/images/000001.png                   RGB images (PNG or JPEG)
    out_dir/annotations/instances.json          things: RLE masks, boxes, keypoints
    out_dir/annotations/panoptic.json           segments_info per image
    out_dir/annotations/panoptic/000001.png     ids as R + 256 * G + 256**2 * B

Category ``id`` is the global class id + 1 (COCO ids start at 1).  Every category
carries ``isthing``, ``keypoints`` (names), ``skeleton`` (1-based pairs, as COCO) and our
extras ``oks_sigmas`` and ``keypoint_schema`` (the schema's name).  Keypoint coordinates
are continuous pixels (pixel centres at +0.5); unlabeled keypoints are ``0, 0, 0``.
"""

import json
import os
from typing import Dict, Iterable, List, Optional, Tuple

import cv2
from hydranet_perception.data.datasets import (
    collate, DatasetError, image_to_tensor, make_target, Sample, SyntheticDataset, Transform)
from hydranet_perception.data.synthetic import generate_scene, Scene
from hydranet_perception.schema import (
    ClassInfo, default_label_space, KeypointSchema, LabelSpace, VOID)
import numpy as np
from pycocotools import mask as mask_utils
from torch.utils.data import Dataset

__all__ = ['CocoDataset', 'SyntheticDataset', 'collate', 'categories_from_label_space',
           'label_space_from_categories', 'write_coco_split', 'generate_synthetic_split',
           'ids_to_rgb', 'rgb_to_ids']


def ids_to_rgb(ids: np.ndarray) -> np.ndarray:
    """Encode int[H, W] panoptic ids as uint8[H, W, 3] RGB (id = R + 256 G + 256^2 B)."""
    ids = ids.astype(np.uint32)
    return np.stack([ids & 255, (ids >> 8) & 255, (ids >> 16) & 255], -1).astype(np.uint8)


def rgb_to_ids(rgb: np.ndarray) -> np.ndarray:
    """Decode uint8[H, W, 3] RGB to int32[H, W] panoptic ids."""
    rgb = rgb.astype(np.int32)
    return rgb[..., 0] + 256 * rgb[..., 1] + 65536 * rgb[..., 2]


def categories_from_label_space(label_space: LabelSpace) -> List[dict]:
    """Return COCO category dicts for every class (things and stuff)."""
    cats = []
    for c in label_space.classes:
        s = c.keypoint_schema
        cats.append({
            'id': c.id + 1, 'name': c.name, 'supercategory': 'thing' if c.is_thing else 'stuff',
            'isthing': int(c.is_thing),
            'keypoints': list(s.keypoints) if s else [],
            'skeleton': [[a + 1, b + 1] for a, b in s.skeleton] if s else [],
            'oks_sigmas': list(s.oks_sigmas()) if s else [],
            'keypoint_schema': s.name if s else None})
    return cats


def label_space_from_categories(categories: Iterable[dict]) -> Tuple[LabelSpace, Dict[int, int]]:
    """
    Build a label space from COCO categories, ordered by category id.

    Returns the label space and the map category id -> global class id.  A category
    without ``isthing`` counts as a thing (as in COCO instance files).
    """
    cats = sorted({int(c['id']): c for c in categories}.values(), key=lambda c: int(c['id']))
    classes, cat_to_class = [], {}
    for i, c in enumerate(cats):
        schema = None
        if c.get('keypoints'):
            schema = KeypointSchema(
                name=c.get('keypoint_schema') or c['name'],
                keypoints=tuple(c['keypoints']),
                skeleton=tuple((int(a) - 1, int(b) - 1) for a, b in c.get('skeleton', [])),
                sigmas=tuple(float(s) for s in c.get('oks_sigmas') or ()))
        classes.append(ClassInfo(i, str(c['name']), bool(c.get('isthing', 1)), schema))
        cat_to_class[int(c['id'])] = i
    return LabelSpace(classes=tuple(classes)), cat_to_class


def _encode_rle(mask: np.ndarray) -> dict:
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {'size': [int(s) for s in rle['size']], 'counts': rle['counts'].decode('ascii')}


def _xywh(box) -> List[float]:
    x1, y1, x2, y2 = (float(v) for v in box)
    return [x1, y1, x2 - x1, y2 - y1]


def _extent(mask: np.ndarray) -> List[float]:
    ys, xs = np.nonzero(mask.any(1))[0], np.nonzero(mask.any(0))[0]
    return _xywh((xs[0], ys[0], xs[-1] + 1, ys[-1] + 1))


def write_coco_split(out_dir: str, scenes: Iterable[Scene], label_space: LabelSpace, *,
                     image_format: str = 'png', jpeg_quality: int = 95,
                     first_image_id: int = 1) -> Dict[str, str]:
    """
    Write scenes as a COCO split (layout in the module docstring), streaming.

    Returns the paths: ``image_dir``, ``instances_json``, ``panoptic_json``,
    ``panoptic_dir``.
    """
    if image_format not in ('png', 'jpg'):
        raise ValueError(f"image_format must be 'png' or 'jpg', not {image_format!r}")
    paths = {'image_dir': os.path.join(out_dir, 'images'),
             'instances_json': os.path.join(out_dir, 'annotations', 'instances.json'),
             'panoptic_json': os.path.join(out_dir, 'annotations', 'panoptic.json'),
             'panoptic_dir': os.path.join(out_dir, 'annotations', 'panoptic')}
    os.makedirs(paths['image_dir'], exist_ok=True)
    os.makedirs(paths['panoptic_dir'], exist_ok=True)
    cats = categories_from_label_space(label_space)
    images, anns, pan_anns = [], [], []
    params = [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality] if image_format == 'jpg' else []
    for image_id, scene in enumerate(scenes, start=first_image_id):
        stem = f'{image_id:06d}'
        name = f'{stem}.{image_format}'
        cv2.imwrite(os.path.join(paths['image_dir'], name), scene.image[:, :, ::-1], params)
        cv2.imwrite(os.path.join(paths['panoptic_dir'], stem + '.png'),
                    ids_to_rgb(scene.panoptic)[:, :, ::-1])
        images.append({'id': image_id, 'file_name': name, 'height': scene.height,
                       'width': scene.width, 'frame_index': scene.frame_index})
        for inst in scene.instances:
            ann = {'id': len(anns) + 1, 'image_id': image_id,
                   'category_id': inst.class_id + 1, 'segmentation': _encode_rle(inst.mask),
                   'area': inst.area, 'bbox': _xywh(inst.box), 'iscrowd': 0,
                   'track_id': inst.track_id, 'segment_id': inst.segment_id}
            if label_space.classes[inst.class_id].keypoint_schema is not None:
                ann['keypoints'] = [float(v) for v in inst.keypoints.reshape(-1)]
                ann['num_keypoints'] = int((inst.keypoints[:, 2] > 0).sum())
            anns.append(ann)
        pan_anns.append({'image_id': image_id, 'file_name': stem + '.png', 'segments_info': [
            {'id': s.id, 'category_id': s.class_id + 1, 'area': s.area, 'iscrowd': 0,
             'bbox': _extent(scene.panoptic == s.id)} for s in scene.segments]})
    info = {'description': 'hydranet_perception COCO split', 'version': '1.0'}
    with open(paths['instances_json'], 'w') as f:
        json.dump({'info': info, 'images': images, 'annotations': anns, 'categories': cats}, f)
    with open(paths['panoptic_json'], 'w') as f:
        json.dump({'info': info, 'images': images, 'annotations': pan_anns,
                   'categories': cats}, f)
    return paths


def generate_synthetic_split(out_dir: str, *, seed: int, num_images: int, height: int = 480,
                             width: int = 640, label_space: Optional[LabelSpace] = None,
                             image_format: str = 'png', **options) -> Dict[str, str]:
    """
    Generate ``num_images`` scenes ``generate_scene((seed, i))`` and write them.

    ``options`` go to ``generate_scene``.  Returns the paths of ``write_coco_split``.
    """
    label_space = label_space or default_label_space()
    scenes = (generate_scene((seed, i), height=height, width=width, label_space=label_space,
                             **options) for i in range(num_images))
    return write_coco_split(out_dir, scenes, label_space, image_format=image_format)


def _read_json(path: str, keys) -> dict:
    """Read a COCO JSON file that must hold ``keys``; DatasetError naming it otherwise."""
    try:
        with open(path) as f:
            data = json.load(f)
    except OSError as e:
        raise DatasetError(f'COCO file {path}: {e.strerror or e}') from None
    except json.JSONDecodeError as e:
        raise DatasetError(f'COCO file {path} is not valid JSON ({e})') from None
    missing = [k for k in keys if not isinstance(data, dict) or k not in data]
    if missing:
        raise DatasetError(f'COCO file {path} has no {missing}: is it a COCO '
                           'instances/panoptic file?')
    return data


def _check_images(images: List[dict], image_dir: str, where: str) -> List[str]:
    """Return a problem per image file that is missing, and one for an empty split."""
    if not images:
        return [f'{where}: the split has no images']
    paths = [(im.get('id'), os.path.join(image_dir, str(im.get('file_name')))) for im in images]
    return [f'{where}: image id {i}: {p} does not exist' for i, p in paths
            if not os.path.isfile(p)]


def _decode_segmentation(seg, h: int, w: int) -> np.ndarray:
    if isinstance(seg, dict):
        rle = mask_utils.frPyObjects(seg, h, w) if isinstance(seg['counts'], list) else seg
        if isinstance(rle['counts'], str):
            rle = {'size': rle['size'], 'counts': rle['counts'].encode('ascii')}
    else:  # polygons
        rle = mask_utils.merge(mask_utils.frPyObjects(seg, h, w))
    return mask_utils.decode(rle).astype(np.uint8)


class CocoDataset(Dataset):
    """
    A COCO instances file (+ optional COCO panoptic) as ``(image, target)`` samples.

    Works on files written by ``write_coco_split`` and on users' own COCO data.  The
    target is described in ``hydranet_perception.data.datasets``.  Crowd annotations and
    annotations of stuff categories are not returned as instances; without panoptic
    annotations the semantic map holds the thing masks (and stuff annotations, if the
    instances file has any) and is void elsewhere.

    :param instances_json: path of the COCO instances file.
    :param image_dir: folder of the images (``file_name`` is relative to it).
    :param panoptic_json, panoptic_dir: optional COCO panoptic file and PNG folder.
    :param label_space: classes to map categories to, by name; by default built from the
        categories (instances and panoptic files) with ``label_space_from_categories``.
    :param transforms: callable ``(image, target) -> (image, target)``.
    """

    def __init__(self, instances_json: str, image_dir: str, *,
                 panoptic_json: Optional[str] = None, panoptic_dir: Optional[str] = None,
                 label_space: Optional[LabelSpace] = None,
                 transforms: Optional[Transform] = None):
        data = _read_json(instances_json, ('images', 'annotations'))
        self.image_dir, self.panoptic_dir, self.transforms = image_dir, panoptic_dir, transforms
        self.images = sorted(data['images'], key=lambda im: im['id'])
        cats = list(data.get('categories', []))
        self.panoptic: Dict[int, dict] = {}
        if panoptic_json is not None:
            pan = _read_json(panoptic_json, ('annotations',))
            cats += pan.get('categories', [])
            self.panoptic = {a['image_id']: a for a in pan['annotations']}
            self.panoptic_dir = panoptic_dir or os.path.splitext(panoptic_json)[0]
        if label_space is None:
            label_space, self.cat_to_class = label_space_from_categories(cats)
        else:
            names = {c.name: c.id for c in label_space.classes}
            self.cat_to_class = {int(c['id']): names[c['name']] for c in cats
                                 if c['name'] in names}
            absent = sorted({c['name'] for c in cats} - set(names))
            if absent and not self.cat_to_class:
                raise DatasetError(f'{instances_json}: no category is in the label space '
                                   f'{label_space.names} (categories: {absent})')
        self.label_space = label_space
        self.stats = {'images': len(self.images), 'annotations': 0, 'skipped_annotations': 0}
        self.anns: Dict[int, List[dict]] = {im['id']: [] for im in self.images}
        self._sizes = {im['id']: [im['height'], im['width']] for im in self.images
                       if 'height' in im and 'width' in im}
        problems = _check_images(self.images, image_dir, instances_json)
        for a in data['annotations']:
            if a.get('image_id') in self.anns and int(a.get('category_id', -1)) in \
                    self.cat_to_class:
                problem = self._check_annotation(a)
                if problem:
                    problems.append(f'{instances_json}: annotation id {a.get("id")} '
                                    f'(image {a["image_id"]}): {problem}')
                    continue
                self.anns[a['image_id']].append(a)
                self.stats['annotations'] += 1
            else:  # an unknown image or a category outside the label space: COCO skips it
                self.stats['skipped_annotations'] += 1
        if problems:
            more = f'\n  ... and {len(problems) - 10} more' if len(problems) > 10 else ''
            raise DatasetError(f'{len(problems)} problems in the COCO data:\n  '
                               + '\n  '.join(problems[:10]) + more)

    def _check_annotation(self, a: dict) -> Optional[str]:
        """Return why annotation ``a`` cannot be used (None when it can)."""
        seg = a.get('segmentation')
        if isinstance(seg, list):
            if any(not isinstance(p, list) or len(p) < 6 or len(p) % 2 for p in seg):
                return 'a polygon needs an even number (>= 6) of coordinates x1 y1 x2 y2 ...'
        elif isinstance(seg, dict):
            size = self._sizes.get(a['image_id'])
            if size is not None and list(seg.get('size', [])) != size:
                return f'RLE size {seg.get("size")} is not the image size {size} (H, W)'
        elif seg is not None and seg != []:
            return f'segmentation is a {type(seg).__name__}: use polygons or RLE'
        bbox = a.get('bbox')
        if bbox is not None and (len(bbox) != 4 or not all(
                isinstance(v, (int, float)) and np.isfinite(v) for v in bbox)):
            return f'bbox {bbox!r} is not [x, y, width, height]'
        kps = a.get('keypoints')
        if kps:
            schema = self.label_space.classes[self.cat_to_class[int(a['category_id'])]]
            n = schema.keypoint_schema.num_keypoints if schema.keypoint_schema else 0
            if len(kps) % 3 or len(kps) // 3 != n:
                return (f'{len(kps)} keypoint values; its category {schema.name!r} has '
                        f'{n} keypoints (x, y, v each: {3 * n} values)')
        return None

    @staticmethod
    def from_split_dir(out_dir: str, **kwargs) -> 'CocoDataset':
        """Open a split written by ``write_coco_split``."""
        ann = os.path.join(out_dir, 'annotations')
        return CocoDataset(os.path.join(ann, 'instances.json'), os.path.join(out_dir, 'images'),
                           panoptic_json=os.path.join(ann, 'panoptic.json'),
                           panoptic_dir=os.path.join(ann, 'panoptic'), **kwargs)

    def __len__(self) -> int:
        return len(self.images)

    def load_image(self, index: int) -> np.ndarray:
        """Return image ``index`` as uint8[H, W, 3] RGB."""
        path = os.path.join(self.image_dir, self.images[index]['file_name'])
        img = cv2.imread(path, cv2.IMREAD_COLOR_RGB)
        if img is None:
            raise FileNotFoundError(path)
        return img

    def load_panoptic(self, index: int) -> Optional[Tuple[np.ndarray, Dict[int, int]]]:
        """
        Return (ids int32[H, W], {segment id: global class id}), or None without one.

        Crowd segments and segments of unknown categories are left out of the dict.
        """
        ann = self.panoptic.get(self.images[index]['id'])
        if ann is None:
            return None
        rgb = cv2.imread(os.path.join(self.panoptic_dir, ann['file_name']), cv2.IMREAD_COLOR_RGB)
        if rgb is None:
            raise FileNotFoundError(os.path.join(self.panoptic_dir, ann['file_name']))
        classes = {int(s['id']): self.cat_to_class[int(s['category_id'])]
                   for s in ann['segments_info']
                   if not s.get('iscrowd', 0) and int(s['category_id']) in self.cat_to_class}
        return rgb_to_ids(rgb), classes

    def __getitem__(self, index: int) -> Sample:
        image = self.load_image(index)
        h, w = image.shape[:2]
        ls = self.label_space
        k = ls.max_keypoints
        semantic = np.full((h, w), VOID, np.uint8)
        boxes, labels, masks, kps = [], [], [], []
        for a in self.anns[self.images[index]['id']]:
            cid = self.cat_to_class[int(a['category_id'])]
            if a.get('iscrowd', 0):
                continue
            if a.get('segmentation'):
                m = _decode_segmentation(a['segmentation'], h, w)
                if m.shape != (h, w):
                    raise DatasetError(
                        f'annotation id {a.get("id")}: its mask is {m.shape[1]}x{m.shape[0]}, '
                        f'image {self.images[index]["file_name"]} is {w}x{h}')
            elif 'bbox' in a:
                m = np.zeros((h, w), np.uint8)
                x, y, bw, bh = (int(round(v)) for v in a['bbox'])
                m[max(y, 0):y + bh, max(x, 0):x + bw] = 1
            else:
                continue
            semantic[m > 0] = cid
            if 'bbox' in a:
                x, y, bw, bh = (float(v) for v in a['bbox'])
            else:
                x, y, bw, bh = _extent(m > 0) if m.any() else (0.0, 0.0, 0.0, 0.0)
            x1, y1 = min(max(x, 0.0), w), min(max(y, 0.0), h)  # clip to the image
            x2, y2 = min(max(x + bw, 0.0), w), min(max(y + bh, 0.0), h)
            if not ls.classes[cid].is_thing or x2 <= x1 or y2 <= y1 or not m.any():
                continue
            kp = np.zeros((k, 3), np.float32)
            if a.get('keypoints') and k:
                src = np.asarray(a['keypoints'], np.float32).reshape(-1, 3)[:k]
                kp[:len(src)] = src * (src[:, 2:] > 0)  # unlabeled keypoints are 0, 0, 0
            boxes.append([x1, y1, x2, y2])
            labels.append(cid)
            masks.append(m)
            kps.append(kp)
        pan = self.load_panoptic(index)
        if pan is not None:  # the panoptic annotation is the full semantic truth
            ids, classes = pan
            uniq, inverse = np.unique(ids, return_inverse=True)
            lut = np.array([classes.get(int(u), VOID) for u in uniq], np.uint8)
            semantic = lut[inverse.reshape(h, w)]
        target = make_target(
            boxes=np.array(boxes, np.float32), labels=np.array(labels, np.int64),
            masks=np.stack(masks) if masks else np.zeros((0, h, w), np.uint8),
            keypoints=np.stack(kps) if kps else np.zeros((0, k, 3), np.float32),
            semantic=semantic.astype(np.uint8), image_id=int(self.images[index]['id']))
        image_t = image_to_tensor(image)
        if self.transforms is not None:
            image_t, target = self.transforms(image_t, target)
        return image_t, target
