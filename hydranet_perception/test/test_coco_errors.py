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

"""Bad COCO data is refused when the data set is built, naming the file and annotation."""

import json
import os

from hydranet_perception.data.coco import CocoDataset, generate_synthetic_split
from hydranet_perception.data.datasets import DatasetError
from hydranet_perception.schema import LabelSpace
import numpy as np
import pytest

H, W = 64, 80

pytestmark = pytest.mark.filterwarnings('ignore:__array__ implementation:DeprecationWarning')


@pytest.fixture
def split(tmp_path):
    paths = generate_synthetic_split(str(tmp_path), seed=3, num_images=2, height=H, width=W)
    with open(paths['instances_json']) as f:
        data = json.load(f)
    return paths, data


def _open(paths, data, **kwargs):
    with open(paths['instances_json'], 'w') as f:
        json.dump(data, f)
    return CocoDataset(paths['instances_json'], paths['image_dir'], **kwargs)


def _first(data, with_keypoints):
    for a in data['annotations']:
        if bool(a.get('keypoints')) == with_keypoints:
            return a
    raise AssertionError('the generated split lacks such an annotation')


def test_wrong_keypoint_count_names_the_annotation(split):
    paths, data = split
    a = _first(data, True)
    a['keypoints'] = a['keypoints'][:-1]  # not a multiple of 3: crashed in __getitem__
    with pytest.raises(DatasetError, match=rf'annotation id {a["id"]} .*keypoint values'):
        _open(paths, data)
    a['keypoints'] = a['keypoints'][:-2]  # one keypoint short of its schema
    with pytest.raises(DatasetError, match=rf'annotation id {a["id"]} .*has \d+ keypoints'):
        _open(paths, data)


def test_degenerate_polygon_and_wrong_rle_size(split):
    paths, data = split
    a = _first(data, False)
    a['segmentation'] = [[1, 1, 5, 5]]  # 2 points: pycocotools raised a TypeError
    with pytest.raises(DatasetError, match=rf'annotation id {a["id"]} .*polygon needs'):
        _open(paths, data)
    a['segmentation'] = {'size': [H + 1, W], 'counts': 'PPYo0'}
    with pytest.raises(DatasetError, match=r'RLE size \[65, 80\] is not the image size'):
        _open(paths, data)


def test_missing_images_bad_json_and_empty_split(split, tmp_path):
    paths, data = split
    os.remove(os.path.join(paths['image_dir'], data['images'][1]['file_name']))
    with pytest.raises(DatasetError, match=r'image id 2: .*000002.png does not exist'):
        _open(paths, data)
    with pytest.raises(DatasetError, match=r'the split has no images'):
        _open(paths, dict(data, images=[], annotations=[]))
    bad = tmp_path / 'bad.json'
    bad.write_text('{"images": [')
    with pytest.raises(DatasetError, match=r'bad.json is not valid JSON'):
        CocoDataset(str(bad), paths['image_dir'])
    bad.write_text('{"images": []}')
    with pytest.raises(DatasetError, match=r"bad.json has no \['annotations'\]"):
        CocoDataset(str(bad), paths['image_dir'])
    with pytest.raises(DatasetError, match=r'nothing.json'):
        CocoDataset(str(tmp_path / 'nothing.json'), paths['image_dir'])


def test_label_space_without_the_data_classes(split):
    paths, data = split
    other = LabelSpace.from_names(stuff=('sky',), things=('car',))
    with pytest.raises(DatasetError, match=r"no category is in the label space \['sky', 'car'\]"):
        _open(paths, data, label_space=other)
    part = LabelSpace.from_names(stuff=('floor',), things=('box',))
    ds = _open(paths, data, label_space=part)  # the other classes: skipped and counted
    assert ds.stats['skipped_annotations'] > 0
    assert ds.stats['annotations'] + ds.stats['skipped_annotations'] == len(data['annotations'])


def test_objects_outside_the_image_are_clipped_or_dropped(split):
    paths, data = split
    a = _first(data, False)
    image = next(i for i, im in enumerate(sorted(data['images'], key=lambda im: im['id']))
                 if im['id'] == a['image_id'])
    before = len(_open(paths, data)[image][1]['labels'])
    a['segmentation'] = [[-10, -10, 40, -10, 40, 30, -10, 30]]
    a['bbox'] = [-10, -10, 50, 40]
    boxes = _open(paths, data)[image][1]['boxes'].numpy()
    assert (boxes >= 0).all() and (boxes[:, 2] <= W).all() and (boxes[:, 3] <= H).all()
    assert np.any(np.all(boxes == [0, 0, 40, 30], axis=1))
    a['segmentation'] = [[W + 5, 0, W + 20, 0, W + 20, 10]]  # entirely outside: dropped
    a['bbox'] = [W + 5, 0, 15, 10]
    assert len(_open(paths, data)[image][1]['labels']) == before - 1


def test_model_label_space_from_the_data(split):
    from hydranet_perception.engine.config import load_train_config
    paths, data = split
    root = os.path.dirname(os.path.dirname(paths['instances_json']))
    cfg = load_train_config({'model': {'label_space': 'data'},
                             'train': {'kind': 'coco', 'root': root}})
    ls = LabelSpace.from_dict(cfg.model['label_space'])
    assert ls.names == [c['name'] for c in sorted(data['categories'], key=lambda c: c['id'])]
    with pytest.raises(ValueError, match='label_space: data needs train.kind yolo or coco'):
        load_train_config({'model': {'label_space': 'data'}})
    with pytest.raises(ValueError, match='train.kind yolo needs train.data_yaml'):
        load_train_config({'train': {'kind': 'yolo'}})
    with pytest.raises(ValueError, match="train.kind='voc'"):
        load_train_config({'train': {'kind': 'voc'}})
