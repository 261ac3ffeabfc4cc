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
Write scenes in the Ultralytics YOLO format, and turn a YOLO split into COCO truth.

``generate_yolo_dataset`` exports generated scenes (optionally under a new label space:
``class_map`` renames or drops the generator's things) as ``data.yaml``,
``images/<split>/*.png`` and ``labels/<split>/*.txt`` (``segment``: polygons, ``pose``:
boxes and keypoints, ``detect``: boxes), the layout ``YoloDataset`` reads.

What the format cannot hold: an instance mask in several pieces is written as one
polygon whose pieces are joined by zero-width bridges (as Ultralytics' converters do;
read back, a bridge adds one line of pixels); holes are filled.  Stuff classes, the
panoptic map and track ids are not written.
"""

import os
from typing import Dict, Iterable, List, Optional, Sequence

import cv2
from hydranet_perception.data.synthetic import generate_scene, Scene
from hydranet_perception.schema import ClassInfo, default_label_space, LabelSpace
import numpy as np
import yaml

__all__ = ['coco_instances', 'generate_yolo_dataset', 'mask_to_polygon', 'write_data_yaml',
           'write_yolo_split', 'yolo_label_space']

TASKS = ('segment', 'pose', 'detect')


def yolo_label_space(source: LabelSpace, class_map: Optional[Dict[str, str]] = None
                     ) -> LabelSpace:
    """
    Return the things-only label space of an export: ``class_map`` source -> new name.

    Classes are ordered as in ``class_map`` (default: the source's things, same names);
    a new class keeps the keypoint schema of the source class mapped to it.
    """
    class_map = class_map or {source.classes[i].name: source.classes[i].name
                              for i in source.thing_ids}
    classes: List[ClassInfo] = []
    for src, dst in class_map.items():
        c = source.by_name(src)
        if not c.is_thing:
            raise ValueError(f'class_map: {src!r} is a stuff class; YOLO labels are things')
        if dst in [x.name for x in classes]:
            raise ValueError(f'class_map: two classes map to {dst!r}')
        classes.append(ClassInfo(len(classes), dst, True, c.keypoint_schema))
    return LabelSpace(tuple(classes))


def mask_to_polygon(mask: np.ndarray) -> np.ndarray:
    """
    Return one polygon float64[n, 2] (continuous pixels, n >= 3) that rasterises to ``mask``.

    The outer contours' vertices are pixel centres; several pieces are joined by bridges
    from the nearest vertices, holes are filled.  ``mask``: bool or uint8[H, W], not empty.
    """
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL,
                                   cv2.CHAIN_APPROX_SIMPLE)
    pieces = sorted((c[:, 0].astype(np.float64) for c in contours), key=len, reverse=True)
    if not pieces:
        raise ValueError('mask_to_polygon: empty mask')
    poly = pieces[0]
    for piece in pieces[1:]:
        d = ((poly[:, None] - piece[None]) ** 2).sum(-1)
        i, j = np.unravel_index(int(np.argmin(d)), d.shape)
        poly = np.concatenate([poly[:i + 1], piece[j:], piece[:j + 1], poly[i:]])
    while len(poly) < 3:
        poly = np.concatenate([poly, poly[-1:]])
    return poly + 0.5


def _fmt(values: Iterable[float]) -> str:
    return ' '.join(f'{v:.6f}'.rstrip('0').rstrip('.') if v else '0' for v in values)


def write_yolo_split(root: str, scenes: Iterable[Scene], *, split: str,
                     class_map: Optional[Dict[str, str]] = None, task: str = 'segment',
                     image_format: str = 'png', first_index: int = 0) -> Dict[str, int]:
    """
    Write scenes as ``root/images/<split>/`` and ``root/labels/<split>/`` (one .txt each).

    :param root: the dataset root (where data.yaml goes).
    :param scenes: generated scenes, all with the same label space.
    :param split: the split's folder name (train, val, ...).
    :param class_map: source class name -> exported name; things not in it are not
        labelled (generate without them: ``class_weights``).  Default: all things.
    :param task: ``segment`` (polygons), ``pose`` (boxes + K keypoints) or ``detect``.
    :param image_format: png or jpg.
    :param first_index: number of the first file (``000000.png``).
    :return: counts ``{'images', 'objects'}``.
    """
    if task not in TASKS:
        raise ValueError(f'task {task!r}: use one of {TASKS}')
    img_dir = os.path.join(root, 'images', split)
    lbl_dir = os.path.join(root, 'labels', split)
    os.makedirs(img_dir, exist_ok=True)
    os.makedirs(lbl_dir, exist_ok=True)
    counts = {'images': 0, 'objects': 0}
    for n, scene in enumerate(scenes, start=first_index):
        src = scene.label_space
        dst = yolo_label_space(src, class_map)
        cmap = class_map or {src.classes[i].name: src.classes[i].name for i in src.thing_ids}
        k = dst.max_keypoints
        h, w = scene.height, scene.width
        scale = np.array([w, h], np.float64)
        lines = []
        for inst in scene.instances:
            name = cmap.get(src.classes[inst.class_id].name)
            if name is None:
                continue
            cid = dst.by_name(name).id
            x1, y1, x2, y2 = (float(v) for v in inst.box)
            box = [(x1 + x2) / 2 / w, (y1 + y2) / 2 / h, (x2 - x1) / w, (y2 - y1) / h]
            if task == 'segment':
                values = (mask_to_polygon(inst.mask) / scale).reshape(-1)
            elif task == 'pose':
                kp = np.zeros((k, 3), np.float64)
                kp[:len(inst.keypoints)] = inst.keypoints
                kp[:, :2] /= scale
                values = np.concatenate([box, kp.reshape(-1)])
            else:
                values = box
            lines.append(f'{cid} {_fmt(values)}')
        stem = f'{n:06d}'
        params = [cv2.IMWRITE_JPEG_QUALITY, 95] if image_format == 'jpg' else []
        cv2.imwrite(os.path.join(img_dir, f'{stem}.{image_format}'), scene.image[:, :, ::-1],
                    params)
        with open(os.path.join(lbl_dir, stem + '.txt'), 'w') as f:
            f.write(''.join(line + '\n' for line in lines))
        counts['images'] += 1
        counts['objects'] += len(lines)
    return counts


def write_data_yaml(root: str, label_space: LabelSpace, *, splits: Sequence[str],
                    task: str = 'segment') -> str:
    """
    Write ``root/data.yaml`` for a things-only label space; return its path.

    For ``pose`` it holds ``kpt_shape: [K, 3]``, ``kpt_names`` and ``kpt_sigmas`` for
    the classes with a schema, and ``flip_idx`` when every schema mirrors alike.
    """
    data = {'path': '.', **{s: f'images/{s}' for s in splits},
            'names': {c.id: c.name for c in label_space.classes}}
    if task == 'pose':
        k = label_space.max_keypoints
        if not k:
            raise ValueError('task pose: no class of the label space has keypoints')
        schemas = {c.id: c.keypoint_schema for c in label_space.classes if c.keypoint_schema}
        data['kpt_shape'] = [k, 3]
        flip: List[Optional[int]] = [None] * k
        for s in schemas.values():  # one flip_idx only when every schema agrees with it
            for i, j in enumerate(s.flip_permutation()):
                flip[i] = j if flip[i] in (None, j) else -1
        if -1 not in flip:
            data['flip_idx'] = [i if j is None else j for i, j in enumerate(flip)]
        data['kpt_names'] = {i: list(s.keypoints) for i, s in schemas.items()}
        data['kpt_sigmas'] = {i: [float(x) for x in s.oks_sigmas()]
                              for i, s in schemas.items()}
        data['kpt_skeleton'] = {i: [list(e) for e in s.skeleton] for i, s in schemas.items()}
    path = os.path.join(root, 'data.yaml')
    os.makedirs(root, exist_ok=True)
    with open(path, 'w') as f:
        yaml.safe_dump(data, f, sort_keys=False)
    return path


def generate_yolo_dataset(root: str, *, splits: Dict[str, Sequence[int]],
                          class_map: Optional[Dict[str, str]] = None,
                          task: str = 'segment', height: int = 480, width: int = 640,
                          label_space: Optional[LabelSpace] = None, **options) -> str:
    """
    Generate scenes and write them as a YOLO dataset; return the data.yaml path.

    :param splits: ``{split: (seed, num_images)}``; image i of a split is
        ``generate_scene((seed, i))``.
    :param class_map: source thing name -> exported name (a new label space).
    :param options: ``generate_scene`` options, e.g. ``class_weights={'person': 0}``.
    """
    source = label_space or default_label_space()
    for split, (seed, num) in splits.items():
        scenes = (generate_scene((seed, i), height=height, width=width, label_space=source,
                                 **options) for i in range(num))
        write_yolo_split(root, scenes, split=split, class_map=class_map, task=task)
    return write_data_yaml(root, yolo_label_space(source, class_map), splits=list(splits),
                           task=task)


def coco_instances(dataset) -> dict:
    """
    Return a ``YoloDataset`` split as a COCO instances dict (the truth ``hydranet-eval`` reads).

    Category id = class id + 1, RLE masks, boxes and keypoints as ``YoloDataset`` reads
    them; reads every image (for its size).
    """
    from hydranet_perception.data.coco import _encode_rle, _xywh, categories_from_label_space
    images, anns = [], []
    ls = dataset.label_space
    for i, im in enumerate(dataset.images):
        h, w = dataset.load_image(i).shape[:2]
        images.append({'id': im['id'], 'file_name': im['file_name'], 'height': h, 'width': w})
        for a in dataset.annotations(i, h, w):
            ann = {'id': len(anns) + 1, 'image_id': im['id'], 'category_id': a['class_id'] + 1,
                   'segmentation': _encode_rle(a['mask']), 'area': int(a['mask'].sum()),
                   'bbox': _xywh(a['box']), 'iscrowd': 0}
            schema = ls.classes[a['class_id']].keypoint_schema
            if schema is not None:
                kp = a['keypoints'][:schema.num_keypoints]
                ann['keypoints'] = [float(v) for v in kp.reshape(-1)]
                ann['num_keypoints'] = int((kp[:, 2] > 0).sum())
            anns.append(ann)
    return {'info': {'description': f'{dataset.spec.path} ({dataset.split})'},
            'images': images, 'annotations': anns,
            'categories': categories_from_label_space(ls)}


def open_yolo_truth(data_yaml: str, *, split: str, out_dir: str):
    """
    Open a YOLO split for ``hydranet-eval``: the dataset and its COCO truth file.

    :param data_yaml: the data.yaml.
    :param split: train, val or test.
    :param out_dir: where ``instances.json`` is written.
    :return: ``(YoloDataset, path of instances.json)``.
    :raises DatasetError: as ``YoloDataset``.
    """
    import json
    from hydranet_perception.data.yolo_format import YoloDataset
    dataset = YoloDataset(data_yaml, split=split)
    path = os.path.join(out_dir, 'instances.json')
    with open(path, 'w') as f:
        json.dump(coco_instances(dataset), f)
    return dataset, path
