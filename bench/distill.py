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
Distillation end to end: a fresh keypoint head learns a teacher's keypoints, no labels.

Teacher (``--teacher``):

* ``yolov8n-pose`` (the default): Ultralytics YOLOv8n-pose trained from scratch on the
  generator's people (``bench/peer_accuracy.py``'s YOLO pose split: ``--teacher-images``
  scenes of seed ``--teacher-seed`` at 240 x 320, ``--teacher-epochs``; bench-only
  requirement ``ultralytics``, AGPL-3.0), or an already trained one (``--teacher-weights``);
* ``shipped``: the shipped HydraNet (person and instrument keypoints).

Student: the shipped HydraNet with its keypoint head re-initialised (seeded);
``hydranet-distill``'s code trains that head alone on unlabelled generated images (seed
``--train-seed``, never 999).  Teacher, the untrained student and the distilled student
are scored with hydranet-eval's COCO code and the data set's OKS sigmas on the held-out
seed 999 (480 x 640), per class; the ratio is over the classes the teacher knows
(person for a pose teacher).  JSON lines; the last is ``{"summary": true,
"teacher_keypoint_ap", "student_keypoint_ap", "keypoint_ap_ratio_vs_teacher",
"per_class": {...}}``.  Not a test: minutes to an hour of CPU.
"""

import argparse
import contextlib
import io
import json
import pathlib
import sys
import tempfile
import time

import cv2
from hydranet_perception.data.coco import CocoDataset, generate_synthetic_split
from hydranet_perception.engine.distill import distill, load_images, load_teacher
from hydranet_perception.engine.evaluate import _coco_eval, _oks_sigmas, evaluate
from hydranet_perception.inference.predictor import Predictor
from hydranet_perception.inference.weights import SHIPPED_WEIGHTS
from hydranet_perception.model import build_model, load_model_config
from hydranet_perception.model.checkpoint import load_checkpoint, save_checkpoint
from hydranet_perception.model.init_from import init_from
from pycocotools.coco import COCO
import torch

sys.path.insert(0, str(pathlib.Path(__file__).parent))  # bench/peer_accuracy.py


def emit(**fields):
    """Print one JSON line."""
    print(json.dumps(fields), flush=True)


def fresh_student(path: pathlib.Path, *, seed: int) -> pathlib.Path:
    """Write the shipped model with a re-initialised keypoint head to ``path``."""
    ckpt = load_checkpoint(SHIPPED_WEIGHTS)
    cfg = load_model_config(ckpt['config'])
    torch.manual_seed(seed)
    model = build_model(cfg)
    init_from(model, {k: v for k, v in ckpt['state_dict'].items()
                      if not k.startswith('heads.keypoints.')})
    save_checkpoint(path, model=model.eval(), config=cfg)
    return path


def keypoint_ap(weights: str, data: CocoDataset, truth: str) -> dict:
    """Return keypoint AP (mean and per class) on the held-out split."""
    rep = evaluate(Predictor.from_weights(weights, device='cpu', score_thresh=0.05),
                   data, truth)
    return {'mean': rep['keypoints_AP'], 'per_class': rep['keypoints_AP_per_class']}


def pose_keypoint_ap(weights: str, data: CocoDataset, truth: str) -> dict:
    """Return an Ultralytics pose model's person keypoint AP on the held-out split."""
    from peer_accuracy import pose_results
    from ultralytics import YOLO
    model = YOLO(weights)
    imgsz = int(model.overrides.get('imgsz', 320))  # the size it was trained at
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(truth)
    person = data.label_space.by_name('person')
    cat = next(c['id'] for c in gt.loadCats(gt.getCatIds()) if c['name'] == 'person')
    results = []
    for i in range(len(data)):
        bgr = cv2.cvtColor(data.load_image(i), cv2.COLOR_RGB2BGR)
        results += pose_results(model, bgr, int(data.images[i]['id']), cat, imgsz=imgsz,
                                conf=0.05)
    ap = _coco_eval(gt, results, 'keypoints', cat_ids=[cat],
                    sigmas=_oks_sigmas(person, data.label_space))
    return {'mean': ap, 'per_class': {'person': ap}}


def train_pose_teacher(out: pathlib.Path, *, seed: int, images: int, epochs: int,
                       imgsz: int, batch: int) -> str:
    """Train YOLOv8n-pose on the generator's people; return its weights' path."""
    from peer_accuracy import train_peer, write_yolo_splits
    yamls = write_yolo_splits(out / 'data', seed=seed, num_images=images, height=240,
                              width=320)
    train_peer('yolov8n-pose.yaml', yamls['pose'], epochs=epochs, imgsz=imgsz, batch=batch,
               out=out / 'runs', name='pose', workers=1)
    return str(out / 'runs' / 'pose' / 'weights' / 'last.pt')


def main() -> int:
    """Distill, evaluate, print JSON lines."""
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument('--train-seed', type=int, default=11)
    ap.add_argument('--train-images', type=int, default=64)
    ap.add_argument('--steps', type=int, default=400)
    ap.add_argument('--batch-size', type=int, default=8)
    ap.add_argument('--lr', type=float, default=1e-2)
    ap.add_argument('--eval-images', type=int, default=50)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--teacher', choices=('yolov8n-pose', 'shipped'), default='yolov8n-pose')
    ap.add_argument('--teacher-weights', default='',
                    help='a trained Ultralytics pose .pt (else it is trained here)')
    ap.add_argument('--teacher-seed', type=int, default=21)
    ap.add_argument('--teacher-images', type=int, default=3000)
    ap.add_argument('--teacher-epochs', type=int, default=8)
    ap.add_argument('--teacher-out', default='out/bench/distill_teacher')
    args = ap.parse_args()
    if 999 in (args.train_seed, args.teacher_seed):
        print('seed 999 is the held-out split: choose another', file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    t_teacher = time.monotonic()
    if args.teacher == 'shipped':
        teacher_path = str(SHIPPED_WEIGHTS)
    elif args.teacher_weights:
        teacher_path = args.teacher_weights
    else:
        teacher_path = train_pose_teacher(
            pathlib.Path(args.teacher_out), seed=args.teacher_seed, images=args.teacher_images,
            epochs=args.teacher_epochs, imgsz=320, batch=16)
    emit(teacher_path=teacher_path, **vars(args),
         teacher_train_seconds=round(time.monotonic() - t_teacher, 1),
         torch_threads=args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        student = fresh_student(tmp / 'student.pt', seed=0)
        teacher = load_teacher(teacher_path, conf=0.5)
        images = load_images(synthetic_seed=args.train_seed, num_images=args.train_images)
        t0 = time.monotonic()
        summary = distill(teacher=teacher, student=str(student), images=images,
                          out=str(tmp / 'distilled.pt'), steps=args.steps, lr=args.lr,
                          batch_size=args.batch_size, log=lambda s: emit(log=s))
        emit(distill_seconds=round(time.monotonic() - t0, 1),
             **{k: v for k, v in summary.items() if k != 'checkpoint'})
        generate_synthetic_split(str(tmp / 'eval'), seed=999, num_images=args.eval_images)
        data = CocoDataset.from_split_dir(str(tmp / 'eval'))
        truth = str(tmp / 'eval' / 'annotations' / 'instances.json')
        scores = {name: keypoint_ap(path, data, truth) for name, path in (
            ('student_untrained', str(student)), ('student', summary['checkpoint']))}
        scores['teacher'] = (keypoint_ap(teacher_path, data, truth) if args.teacher == 'shipped'
                             else pose_keypoint_ap(teacher_path, data, truth))
    for name, s in scores.items():
        emit(model=name, keypoint_ap=s['mean'], per_class=s['per_class'])
    t, s, u = scores['teacher'], scores['student'], scores['student_untrained']
    per_class = {c: {'teacher': t['per_class'].get(c), 'student': s['per_class'].get(c),
                     'student_untrained': u['per_class'].get(c),
                     'ratio_vs_teacher': (round(s['per_class'][c] / t['per_class'][c], 4)
                                          if t['per_class'].get(c) else None)}
                 for c in s['per_class']}
    # over the classes the teacher knows (a pose teacher: person only)
    known = [c for c in t['per_class'] if c in s['per_class']]
    t_ap = sum(t['per_class'][c] for c in known) / len(known)
    s_ap = sum(s['per_class'][c] for c in known) / len(known)
    u_ap = sum(u['per_class'][c] for c in known) / len(known)
    emit(summary=True, teacher=args.teacher, classes=known, teacher_keypoint_ap=t_ap,
         student_keypoint_ap=s_ap, student_untrained_keypoint_ap=u_ap,
         keypoint_ap_ratio_vs_teacher=round(s_ap / t_ap, 4) if t_ap else None,
         per_class=per_class, steps=args.steps, batch_size=args.batch_size,
         train_images=args.train_images, eval_images=args.eval_images,
         distill_seconds=summary['seconds'])
    return 0


if __name__ == '__main__':
    sys.exit(main())
