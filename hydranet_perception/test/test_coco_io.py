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

"""Round trips through the COCO instances and panoptic formats."""

import contextlib
import io
import json
import os

import cv2
from hydranet_perception.data.coco import (
    CocoDataset, generate_synthetic_split, label_space_from_categories, rgb_to_ids,
    write_coco_split)
from hydranet_perception.data.datasets import collate, scene_to_sample, SyntheticDataset
from hydranet_perception.data.synthetic import generate_scene
from hydranet_perception.schema import default_label_space, VOID
import numpy as np
from pycocotools.coco import COCO
import pytest
import torch

H, W = 72, 96

# pycocotools' C decoder trips numpy 2's copy-keyword deprecation; not ours to fix
pytestmark = pytest.mark.filterwarnings('ignore:__array__ implementation:DeprecationWarning')


@pytest.fixture(scope='module')
def split(tmp_path_factory):
    out = str(tmp_path_factory.mktemp('split'))
    scenes = [generate_scene((5, i), height=H, width=W, num_objects=(3, 5)) for i in range(3)]
    paths = write_coco_split(out, scenes, default_label_space())
    return out, paths, scenes


def test_reader_returns_what_was_written(split):
    out, _, scenes = split
    ds = CocoDataset.from_split_dir(out)
    assert ds.label_space == default_label_space() and len(ds) == len(scenes)
    k = ds.label_space.max_keypoints
    for i, scene in enumerate(scenes):
        image, t = ds[i]
        assert image.dtype == torch.float32 and image.shape == (3, H, W)
        assert torch.equal((image * 255).round().to(torch.uint8),
                           torch.from_numpy(scene.image).permute(2, 0, 1))
        n = len(scene.instances)
        assert t['boxes'].shape == (n, 4) and t['labels'].dtype == torch.int64
        assert t['masks'].shape == (n, H, W) and t['masks'].dtype == torch.uint8
        assert t['keypoints'].shape == (n, k, 3) and t['semantic'].dtype == torch.int64
        assert t['image_id'] == i + 1
        assert torch.equal(t['semantic'], torch.from_numpy(scene.semantic.astype(np.int64)))
        for j, inst in enumerate(scene.instances):
            assert np.array_equal(t['masks'][j].numpy().astype(bool), inst.mask)
            assert t['boxes'][j].tolist() == inst.box.tolist()
            assert int(t['labels'][j]) == inst.class_id
            kp = t['keypoints'][j].numpy()
            assert np.array_equal(kp[:len(inst.keypoints)], inst.keypoints)
            assert not kp[len(inst.keypoints):].any()
        # the reader's sample equals the in-memory conversion of the scene
        _, direct = scene_to_sample(scene, image_id=i + 1)
        for key in ('boxes', 'labels', 'masks', 'keypoints', 'semantic'):
            assert torch.equal(direct[key], t[key])


def test_pycocotools_reads_instances(split):
    _, paths, scenes = split
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(paths['instances_json'])
    ls = default_label_space()
    person = coco.loadCats(ls.by_name('person').id + 1)[0]
    assert person['keypoints'] == list(ls.by_name('person').keypoint_schema.keypoints)
    assert person['skeleton'] == [[a + 1, b + 1]
                                  for a, b in ls.by_name('person').keypoint_schema.skeleton]
    assert person['isthing'] == 1 and len(person['oks_sigmas']) == 17
    assert coco.loadCats(1)[0]['isthing'] == 0 and coco.loadCats(1)[0]['name'] == 'floor'
    for image_id, scene in enumerate(scenes, start=1):
        anns = coco.loadAnns(coco.getAnnIds(imgIds=image_id))
        assert len(anns) == len(scene.instances)
        for ann, inst in zip(anns, scene.instances):
            assert np.array_equal(coco.annToMask(ann).astype(bool), inst.mask)
            assert ann['category_id'] == inst.class_id + 1 and ann['area'] == inst.area
            if len(inst.keypoints):
                assert np.array_equal(np.float32(ann['keypoints']).reshape(-1, 3),
                                      inst.keypoints)
                assert ann['num_keypoints'] == int((inst.keypoints[:, 2] > 0).sum())
            else:
                assert 'keypoints' not in ann


def test_panoptic_png_and_json(split):
    _, paths, scenes = split
    with open(paths['panoptic_json']) as f:
        pan = json.load(f)
    assert label_space_from_categories(pan['categories'])[0] == default_label_space()
    for ann, scene in zip(pan['annotations'], scenes):
        bgr = cv2.imread(os.path.join(paths['panoptic_dir'], ann['file_name']))
        ids = rgb_to_ids(bgr[:, :, ::-1])
        assert np.array_equal(ids, scene.panoptic)
        info = {s['id']: s for s in ann['segments_info']}
        for seg in scene.segments:
            assert info[seg.id]['category_id'] == seg.class_id + 1
            assert info[seg.id]['area'] == seg.area == (ids == seg.id).sum()


def test_users_data_polygons_and_boxes(tmp_path):
    img = np.zeros((20, 30, 3), np.uint8)
    cv2.imwrite(str(tmp_path / 'a.png'), img)
    data = {'images': [{'id': 7, 'file_name': 'a.png', 'height': 20, 'width': 30}],
            'categories': [{'id': 3, 'name': 'cup'}, {'id': 9, 'name': 'hand',
                                                      'keypoints': ['thumb', 'index'],
                                                      'skeleton': [[1, 2]]}],
            'annotations': [
                {'id': 1, 'image_id': 7, 'category_id': 3, 'bbox': [2, 3, 4, 5], 'iscrowd': 0,
                 'segmentation': [[2, 3, 6, 3, 6, 8, 2, 8]], 'area': 20},
                {'id': 2, 'image_id': 7, 'category_id': 9, 'bbox': [10, 10, 5, 5],
                 'iscrowd': 0, 'keypoints': [11.5, 11.5, 2, 0, 0, 0], 'area': 25},
                {'id': 3, 'image_id': 7, 'category_id': 3, 'bbox': [0, 0, 1, 1], 'iscrowd': 1,
                 'segmentation': [[0, 0, 1, 0, 1, 1]], 'area': 1}]}
    with open(tmp_path / 'inst.json', 'w') as f:
        json.dump(data, f)
    ds = CocoDataset(str(tmp_path / 'inst.json'), str(tmp_path))
    assert ds.label_space.names == ['cup', 'hand'] and ds.label_space.max_keypoints == 2
    _, t = ds[0]
    assert t['labels'].tolist() == [0, 1] and t['image_id'] == 7
    assert t['boxes'].tolist() == [[2, 3, 6, 8], [10, 10, 15, 15]]
    assert t['masks'][1].sum() == 25 and t['masks'][1, 10:15, 10:15].all()
    assert 15 <= int(t['masks'][0].sum()) <= 30  # polygon rasterised by pycocotools
    assert t['keypoints'][1].tolist() == [[11.5, 11.5, 2], [0, 0, 0]]
    assert not t['keypoints'][0].any()
    assert int(t['semantic'][12, 12]) == 1 and int(t['semantic'][0, 29]) == VOID


def test_synthetic_dataset_split_and_collate(tmp_path):
    ds = SyntheticDataset(4, seed=9, height=H, width=W)
    a, b = ds[2], ds[2]
    assert torch.equal(a[0], b[0]) and torch.equal(a[1]['masks'], b[1]['masks'])
    assert not torch.equal(ds[1][0], a[0])
    generate_synthetic_split(str(tmp_path), seed=9, num_images=3, height=H, width=W)
    read = CocoDataset.from_split_dir(str(tmp_path))[2]
    assert torch.equal(read[0], a[0]) and torch.equal(read[1]['keypoints'], a[1]['keypoints'])
    small = SyntheticDataset(1, seed=1, height=H - 8, width=W - 16)[0]
    images, targets = collate([a, small])
    assert images.shape == (2, 3, H, W) and len(targets) == 2
    assert targets[1]['masks'].shape[1:] == (H, W)
    assert (targets[1]['semantic'][H - 8:] == VOID).all()
    assert torch.equal(targets[1]['boxes'], small[1]['boxes'])
