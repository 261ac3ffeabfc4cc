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
``hydranet-distill``: a fresh keypoint head learns the shipped model's keypoints.

Teacher: the shipped weights.  Student: the same network with its keypoint head
re-initialised (seeded).  A short distillation on a handful of generated images must
bring the student's person keypoints much closer to the teacher's than the untrained
head was (relative: other CPUs round differently), and the refusals name what to fix.
"""

import pathlib

from determinism import deterministic_cpu
from hydranet_perception.engine.distill import distill, DistillError, load_images, \
    load_teacher, main, pseudo_targets
from hydranet_perception.inference.predictor import Predictor
from hydranet_perception.inference.weights import SHIPPED_WEIGHTS
from hydranet_perception.model import build_model, load_model_config
from hydranet_perception.model.checkpoint import load_checkpoint, save_checkpoint
from hydranet_perception.model.init_from import init_from
from hydranet_perception.schema import LabelSpace
import numpy as np
import pytest
import torch

SIZE = (256, 320)  # the shipped model's input size: no rescaling
SEED, NUM_IMAGES = 5, 8


def _box_iou(a: np.ndarray, b: np.ndarray) -> float:
    lt, rb = np.maximum(a[:2], b[:2]), np.minimum(a[2:], b[2:])
    inter = float(np.prod(np.clip(rb - lt, 0, None)))
    area = float(np.prod(a[2:] - a[:2]) + np.prod(b[2:] - b[:2]))
    return inter / max(area - inter, 1e-9)


def _distances(weights: str, teacher, images) -> np.ndarray:
    """Pixel distances of a model's person keypoints to the teacher's (visible ones)."""
    student = Predictor.from_weights(weights, device='cpu', score_thresh=0.5)
    out = []
    for image in images:
        t_boxes, _, t_names, t_kps = teacher(image)
        pred = student(image, tasks=('detect', 'keypoints'))
        names = [student.label_space.names[int(c)] for c in pred.class_ids]
        for i, name in enumerate(t_names):
            if name != 'person':
                continue
            # Match by class and IoU, not by row (same detector weights: IoU ~ 1).
            ious = [_box_iou(t_boxes[i], b) if n == name else 0.0
                    for n, b in zip(names, pred.boxes)]
            if not ious or max(ious) < 0.9:
                continue
            j = int(np.argmax(ious))
            vis = t_kps[i, :17, 2] >= 0.5
            d = np.linalg.norm(pred.keypoints[j, :17, :2] - t_kps[i, :17, :2], axis=-1)
            out.extend(d[vis].tolist())
    return np.asarray(out)


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('distill')
    ckpt = load_checkpoint(SHIPPED_WEIGHTS)
    cfg = load_model_config(ckpt['config'])
    torch.manual_seed(0)
    model = build_model(cfg)
    init_from(model, {k: v for k, v in ckpt['state_dict'].items()
                      if not k.startswith('heads.keypoints.')})
    student = tmp / 'student.pt'
    save_checkpoint(student, model=model.eval(), config=cfg)
    no_kpt_cfg = load_model_config(dict(ckpt['config'], heads=['detect', 'masks']))
    no_kpt = tmp / 'no_keypoints.pt'
    save_checkpoint(no_kpt, model=build_model(no_kpt_cfg).eval(), config=no_kpt_cfg)
    teacher = load_teacher(str(SHIPPED_WEIGHTS), conf=0.5)
    images = load_images(synthetic_seed=SEED, num_images=NUM_IMAGES, height=SIZE[0],
                         width=SIZE[1])
    return tmp, student, no_kpt, teacher, images


def test_distilled_keypoints_move_toward_the_teacher(setup):
    tmp, student, _, teacher, images = setup
    out = tmp / 'distilled.pt'
    with deterministic_cpu():
        rc = main(['--teacher', str(SHIPPED_WEIGHTS), '--student', str(student),
                   '--synthetic-seed', str(SEED), '--num-images', str(NUM_IMAGES),
                   '--synthetic-size', str(SIZE[0]), str(SIZE[1]), '--steps', '60',
                   '--lr', '3e-2', '--out', str(out)])
    assert rc == 0 and out.is_file()
    before = _distances(str(student), teacher, images)
    after = _distances(str(out), teacher, images)  # the node's loader reads it as is
    assert before.size >= 20 and after.size >= 20
    assert np.median(after) < 0.5 * np.median(before), (np.median(before), np.median(after))
    # Only the keypoint head changed.
    a, b = load_checkpoint(student)['state_dict'], load_checkpoint(out)['state_dict']
    changed = {k.split('.')[0] + '.' + k.split('.')[1] for k in a
               if a[k].is_floating_point() and not torch.equal(a[k], b[k])}
    assert changed == {'heads.keypoints'}


def test_teacher_without_keypoints_is_refused(setup):
    _, _, no_kpt, _, _ = setup
    with pytest.raises(DistillError, match='no keypoint head'):
        load_teacher(str(no_kpt))


def test_student_without_the_head_is_refused(setup):
    tmp, _, no_kpt, teacher, images = setup
    with pytest.raises(DistillError, match=r"no \['keypoints'\] head"):
        distill(teacher=teacher, student=str(no_kpt), images=images[:1],
                out=str(tmp / 'x.pt'), steps=1)
    with pytest.raises(DistillError, match='choose among'):
        distill(teacher=teacher, student=str(no_kpt), images=images[:1],
                out=str(tmp / 'x.pt'), heads=['semantic'], steps=1)


def test_no_class_in_common_is_refused(setup):
    _, _, _, teacher, images = setup
    other = LabelSpace.from_names(stuff=('road',), things=('car', 'bicycle'))
    with pytest.raises(DistillError, match='no class in common'):
        pseudo_targets(teacher, images[:1], label_space=other, input_size=SIZE)


def test_empty_or_missing_image_folder_is_refused(tmp_path: pathlib.Path, capsys):
    with pytest.raises(DistillError, match='holds no'):
        load_images(images=str(tmp_path))
    with pytest.raises(DistillError, match='not found'):
        load_images(images=str(tmp_path / 'nope'))
    with pytest.raises(DistillError, match='--images DIR'):
        load_images()
    rc = main(['--teacher', str(SHIPPED_WEIGHTS), '--student', str(SHIPPED_WEIGHTS),
               '--images', str(tmp_path), '--out', str(tmp_path / 'x.pt')])
    assert rc == 2 and 'holds no' in capsys.readouterr().err
