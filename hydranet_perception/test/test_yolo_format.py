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

"""The YOLO dataset format: export, read back, bad data refused with file and line."""

import os

import cv2
from hydranet_perception.data.datasets import collate, DatasetError
from hydranet_perception.data.synthetic import generate_scene
from hydranet_perception.data.transforms import train_transforms
from hydranet_perception.data.yolo_export import (
    generate_yolo_dataset, mask_to_polygon, write_data_yaml)
from hydranet_perception.data.yolo_format import YoloDataset
from hydranet_perception.data.yolo_yaml import load_data_yaml
from hydranet_perception.schema import default_label_space, INSTRUMENT, LabelSpace
import numpy as np
import pytest

H, W = 96, 128
MAP = {'instrument': 'instrument', 'box': 'parcel'}
NUM = 3


def _scenes(seed):
    return [generate_scene((seed, i), height=H, width=W, class_weights={'person': 0.0})
            for i in range(NUM)]


@pytest.fixture(scope='module')
def seg_yaml(tmp_path_factory):
    root = tmp_path_factory.mktemp('seg')
    return generate_yolo_dataset(str(root), splits={'train': (7, NUM)}, class_map=MAP,
                                 height=H, width=W, class_weights={'person': 0.0})


@pytest.fixture(scope='module')
def pose_yaml(tmp_path_factory):
    root = tmp_path_factory.mktemp('pose')
    return generate_yolo_dataset(str(root), splits={'train': (8, NUM)}, class_map=MAP,
                                 task='pose', height=H, width=W,
                                 class_weights={'person': 0.0})


def test_masks_polygons_round_trip_exactly_where_the_format_can():
    box = np.zeros((40, 50), bool)
    box[5:20, 7:30] = True
    ell = box.copy()
    ell[20:35, 7:15] = True  # an L: concave, still one piece without holes
    for m in (box, ell):
        got = np.zeros(m.shape, np.uint8)
        pts = np.round((mask_to_polygon(m) - 0.5) * 16).astype(np.int32)
        cv2.fillPoly(got, [pts], 1, shift=4)
        assert np.array_equal(got.astype(bool), m)
    two = box.copy()
    two[30:36, 40:48] = True  # two pieces: joined by a bridge, nothing lost
    poly = mask_to_polygon(two)
    got = np.zeros(two.shape, np.uint8)
    cv2.fillPoly(got, [np.round((poly - 0.5) * 16).astype(np.int32)], 1, shift=4)
    got = got.astype(bool)
    assert (got >= two).all()
    bridge = np.zeros(two.shape, np.uint8)  # the only extra pixels lie on one bridge line
    dup = [tuple(p) for p in poly]
    ends = [p for p in dup if dup.count(p) > 1]
    a, b = (np.array(p) - 0.5 for p in ends[:2])
    cv2.line(bridge, tuple(int(v) for v in a), tuple(int(v) for v in b), 1)
    assert ((got & ~two) <= bridge.astype(bool)).all()


def test_segment_export_reads_back_as_the_scenes(seg_yaml):
    ds = YoloDataset(seg_yaml)
    assert ds.label_space.names == ['instrument', 'parcel']
    assert ds.stats['images'] == NUM and ds.stats['skipped_lines'] == 0
    src = default_label_space()
    for i, scene in enumerate(_scenes(7)):
        anns = ds.annotations(i, H, W)
        assert [ds.label_space.names[a['class_id']] for a in anns] == [
            MAP[src.classes[inst.class_id].name] for inst in scene.instances]
        for a, inst in zip(anns, scene.instances):
            assert np.array_equal(a['box'], inst.box)  # the extent of the same pixels
            assert (a['mask'].astype(bool) >= inst.mask).all()  # no pixel lost
    batch = collate([ds[i] for i in range(NUM)])
    assert batch[0].shape == (NUM, 3, H, W)
    for t in batch[1]:  # things only: each mask's last-painted pixels carry its class
        assert t['masks'].shape[0] == t['boxes'].shape[0] == t['labels'].shape[0]
        assert set(t['semantic'].unique().tolist()) <= set(t['labels'].tolist()) | {255}


def test_pose_export_keeps_keypoints_and_schema(pose_yaml):
    spec = load_data_yaml(pose_yaml)
    inst = spec.label_space.by_name('instrument').keypoint_schema
    assert inst.keypoints == INSTRUMENT.keypoints and inst.skeleton == INSTRUMENT.skeleton
    assert inst.oks_sigmas() == INSTRUMENT.oks_sigmas()
    assert inst.flip_permutation() == INSTRUMENT.flip_permutation()
    assert spec.label_space.by_name('parcel').keypoint_schema is None
    ds = YoloDataset(pose_yaml)
    tol = 0.5e-6 * max(H, W) + 1e-4  # 6 decimals of a normalised value, float32 pixels
    for i, scene in enumerate(_scenes(8)):
        for a, s in zip(ds.annotations(i, H, W), scene.instances):
            n = len(s.keypoints)
            np.testing.assert_allclose(a['keypoints'][:n], s.keypoints, atol=tol)
            np.testing.assert_allclose(a['box'], s.box, atol=tol)
    tf = train_transforms(ds.label_space, (64, 96))
    ds.transforms = tf
    image, target = ds[0]
    assert image.shape == (3, 64, 96) and target['keypoints'].shape[1:] == (4, 3)


def _dataset(tmp_path, lines, *, names=('a', 'b'), extra='', image=True, n_images=1):
    (tmp_path / 'images' / 'train').mkdir(parents=True, exist_ok=True)
    (tmp_path / 'labels' / 'train').mkdir(parents=True, exist_ok=True)
    for i in range(n_images):
        if image:
            cv2.imwrite(str(tmp_path / 'images' / 'train' / f'{i}.png'),
                        np.zeros((40, 60, 3), np.uint8))
        if lines is not None:
            (tmp_path / 'labels' / 'train' / f'{i}.txt').write_text(''.join(
                line + '\n' for line in lines))
    data = tmp_path / 'data.yaml'
    data.write_text(f'train: images/train\nnames: {list(names)}\n{extra}')
    return str(data)


@pytest.mark.parametrize('lines, extra, message', [
    (['0 0.5 0.5 0.2 0.2', 'a b c d e'], '', r'0.txt:2: not numbers'),
    (['5 0.5 0.5 0.2 0.2'], '', r'0.txt:1: class 5 is not one of 0..1'),
    (['0.5 0.5 0.5 0.2 0.2'], '', r'0.txt:1: class 0.5'),
    (['0 0.1 0.1 0.5 0.5 0.2 0.2 0.3'], '', r'0.txt:1: 8 values; a box line has 5 \(cls cx '
     r'cy w h\), a polygon line 1 \+ 2n'),
    (['0 0.5 0.5 0.2 0.2 0.1 0.1'], 'kpt_shape: [2, 3]\n', r'0.txt:1: 7 values; a pose line '
     r'has 5 \+ 2 x 3 = 11'),
    (['0 0.1 0.1 0.5'], '', r'0.txt:1: 4 values; a box line has 5'),
    (['0 30 20 10 10'], '', r'0.txt:1: coordinates outside -1..2: YOLO labels are normalised'),
    (['0 0.5 0.5 0 0.2'], '', r'0.txt:1: box width and height must be > 0'),
    (['0 0.5 0.5 0.2 0.2 0.1 0.1 3'], 'kpt_shape: [1, 3]\n', r'0.txt:1: keypoint visibility'),
    (['1 nan 0.5 0.2 0.2'], '', r'0.txt:1: NaN or infinite'),
])
def test_bad_lines_name_file_and_line(tmp_path, lines, extra, message):
    with pytest.raises(DatasetError, match=message):
        YoloDataset(_dataset(tmp_path, lines, extra=extra))


def test_non_strict_skips_and_counts_bad_lines(tmp_path):
    ds = YoloDataset(_dataset(tmp_path, ['0 0.5 0.5 0.2 0.2', '7 0.5 0.5 0.2 0.2', 'x']),
                     strict=False)
    assert ds.stats['skipped_lines'] == 2 and ds.stats['objects'] == 1
    assert len(ds.problems) == 2 and ':2: class 7' in ds.problems[0]
    assert ds[0][1]['labels'].tolist() == [0]


def test_objects_outside_the_image_are_clipped_or_skipped_and_counted(tmp_path):
    ds = YoloDataset(_dataset(tmp_path, [
        '0 -0.2 -0.2 0.5 -0.2 0.5 0.5 -0.2 0.5',  # polygon, partly outside: clipped
        '1 0.9 0.5 0.4 0.2',                       # box, partly outside: clipped
        '1 1.3 0.5 0.2 0.2',                       # box, entirely outside: skipped
    ]))
    assert ds.stats['clipped_lines'] == 2 and ds.stats['outside_image'] == 1
    _, t = ds[0]
    assert t['labels'].tolist() == [0, 1]
    h, w = 40, 60
    # closed polygons (OpenCV's fillPoly): an edge on a pixel border takes the pixel after it
    np.testing.assert_array_equal(t['boxes'][0].numpy(), [0, 0, 0.5 * w + 1, 0.5 * h + 1])
    np.testing.assert_allclose(t['boxes'][1].numpy(), [0.7 * w, 0.4 * h, w, 0.6 * h],
                               atol=1e-4)
    assert t['masks'][0].sum() == (0.5 * w + 1) * (0.5 * h + 1)
    kp = YoloDataset(_dataset(tmp_path / 'k', ['0 0.5 0.5 0.2 0.2 1.2 0.5 2 0.5 0.5 2'],
                              extra='kpt_shape: [2, 3]\nflip_idx: [0, 1]\n'))
    assert kp.stats['keypoints_outside_image'] == 1
    k = kp[0][1]['keypoints'][0].numpy()
    np.testing.assert_array_equal(k[0], [0, 0, 0])
    np.testing.assert_allclose(k[1], [0.5 * w, 0.5 * h, 2])


def test_missing_files_and_empty_splits(tmp_path):
    with pytest.raises(DatasetError, match='none of the 1 images .* has a label file'):
        YoloDataset(_dataset(tmp_path / 'a', None))
    with pytest.raises(DatasetError, match="'train' split .* has no images"):
        YoloDataset(_dataset(tmp_path / 'b', ['0 0.5 0.5 0.2 0.2'], image=False))
    with pytest.raises(DatasetError, match="'train' split has no objects"):
        YoloDataset(_dataset(tmp_path / 'c', []))
    with pytest.raises(DatasetError, match="no 'val' split"):
        YoloDataset(_dataset(tmp_path / 'd', ['0 0.5 0.5 0.2 0.2']), split='val')
    with pytest.raises(DatasetError, match='does not exist'):
        YoloDataset(str(tmp_path / 'nothing.yaml'))
    root = tmp_path / 'e'
    _dataset(root, ['0 0.5 0.5 0.2 0.2'])
    (root / 'list.txt').write_text('images/train/0.png\nimages/train/missing.png\n')
    (root / 'data.yaml').write_text('train: list.txt\nnames: [a]\n')
    with pytest.raises(DatasetError, match=r'list.txt:2: image .*missing.png does not exist'):
        YoloDataset(str(root / 'data.yaml'))
    corrupt = _dataset(tmp_path / 'f', ['0 0.5 0.5 0.2 0.2'])
    (tmp_path / 'f' / 'images' / 'train' / '0.png').write_bytes(b'\x89PNG\r\n')
    ds = YoloDataset(corrupt)
    with pytest.raises(DatasetError, match=r'0.png is missing, truncated or not an image'):
        ds[0]


@pytest.mark.parametrize('extra, message', [
    ('kpt_shape: [3, 3]\nflip_idx: [0, 2]\n', 'not a permutation of 0..2'),
    ('kpt_shape: [3, 3]\nflip_idx: [1, 2, 0]\n', 'must pair keypoints'),
    ('kpt_shape: [2, 3]\nflip_idx: [1, 0]\nkpt_names: {0: [p, q]}\n', 'mirror as'),
    ('kpt_shape: [2, 3]\nkpt_names: {0: [p, q, r]}\n', '3 names, kpt_shape says 2'),
    ('kpt_shape: [2, 4]\n', r'use \[K, 2\] or \[K, 3\]'),
])
def test_bad_data_yaml(tmp_path, extra, message):
    with pytest.raises(DatasetError, match=message):
        load_data_yaml(_dataset(tmp_path, ['0 0.5 0.5 0.2 0.2'], extra=extra))


def test_classes_absent_from_the_label_space_are_refused(seg_yaml):
    with pytest.raises(DatasetError, match=r"classes \['parcel'\] are not in the label space"):
        YoloDataset(seg_yaml, label_space=default_label_space())
    ls = LabelSpace.from_names(stuff=('floor',), things=('parcel', 'instrument'),
                               schemas={'instrument': INSTRUMENT})
    with pytest.raises(DatasetError, match="'instrument' has 4 keypoints in the label space"):
        YoloDataset(seg_yaml, label_space=ls)
    ls = LabelSpace.from_names(stuff=('floor',), things=('parcel', 'instrument'))
    ds = YoloDataset(seg_yaml, label_space=ls)  # mapped by name into a model's classes
    assert set(ds.class_map) == {1, 2}
    assert all(lbl in (1, 2) for i in range(NUM) for lbl in ds[i][1]['labels'].tolist())


def test_generic_keypoint_names_follow_flip_idx(tmp_path):
    ls = load_data_yaml(_dataset(tmp_path, ['0 0.5 0.5 0.2 0.2'], extra=(
        'kpt_shape: [3, 2]\nflip_idx: [0, 2, 1]\n'))).label_space
    for c in ls.classes:  # Ultralytics: every class has the K keypoints
        assert c.keypoint_schema.flip_permutation() == (0, 2, 1)
    written = write_data_yaml(str(tmp_path / 'w'), ls, splits=['train'], task='pose')
    assert load_data_yaml(written).label_space.to_dict()['classes'][0]['keypoint_schema'][
        'keypoints'] == list(ls.classes[0].keypoint_schema.keypoints)
    assert os.path.basename(written) == 'data.yaml'


def test_train_and_eval_cli_on_a_yolo_dataset(seg_yaml, tmp_path, capsys):
    import json
    import pathlib

    import hydranet_perception
    from hydranet_perception.engine.evaluate import main as eval_main
    from hydranet_perception.engine.train import main as train_main
    from hydranet_perception.model.checkpoint import load_checkpoint
    import yaml
    weights = pathlib.Path(hydranet_perception.__file__).parent / 'weights' / 'hydranet_n.pt'
    cfg = {'model': {'size': 'n', 'heads': ['detect', 'masks'], 'input_size': [H, W],
                     'label_space': 'data'},
           'train': {'kind': 'yolo', 'data_yaml': seg_yaml}, 'input_size': [H, W],
           'batch_size': 2, 'max_steps': 1, 'workers': 0, 'amp': 'off',
           'tasks': ['detect', 'masks'], 'out_dir': str(tmp_path / 'run')}
    path = tmp_path / 'train.yaml'
    path.write_text(yaml.safe_dump(cfg))
    assert train_main([str(path), '--init-from', str(weights), '--no-progress']) == 0
    out = capsys.readouterr().out
    assert 'init-from: loaded' in out and 'heads.detect.cls.0.2.weight: instrument' in out
    final = tmp_path / 'run' / 'final.pt'
    assert load_checkpoint(final)['config']['label_space']['classes'][1]['name'] == 'parcel'
    assert eval_main([str(final), '--yolo', seg_yaml, '--split', 'train', '--device', 'cpu',
                      '--out', str(tmp_path / 'eval')]) == 0
    report = json.loads((tmp_path / 'eval' / 'report.json').read_text())
    assert set(report['bbox_AP_per_class']) == {'instrument', 'parcel'}
    assert report['PQ'] is None  # YOLO labels have no panoptic truth
    cfg['train']['data_yaml'] = str(tmp_path / 'missing.yaml')
    path.write_text(yaml.safe_dump(cfg))
    assert train_main([str(path), '--no-progress']) == 2
    assert 'missing.yaml does not exist' in capsys.readouterr().err
