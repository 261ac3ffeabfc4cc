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
``hydranet-distill``: train a HydraNet's heads to reproduce a teacher on unlabelled images.

The teacher (a HydraNet checkpoint or ONNX graph with a keypoint head, or an Ultralytics
pose ``.pt`` when ``ultralytics`` is installed: optional, AGPL-3.0, never a dependency)
runs once over the images; its detections with score >= ``conf`` become pseudo-targets:
boxes, labels mapped by class *name* into the student's label space, keypoints with
visibility 2 where the teacher's keypoint score >= ``kpt_conf`` (else 0, unlabelled).
The student (a HydraNet checkpoint) trains only the named heads (default: keypoints)
with the project's losses; everything else keeps its weights and batch-norm statistics.
The output is an ordinary checkpoint (the student's config), loaded by the node as is.
"""

import argparse
import math
import pathlib
import sys
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from hydranet_perception.data.synthetic import generate_scene
from hydranet_perception.losses import build_balancer, compute_losses
from hydranet_perception.model.checkpoint import CheckpointError, load_checkpoint, \
    load_model, save_checkpoint
from hydranet_perception.preprocess import letterbox
import numpy as np
import torch

__all__ = ['DistillError', 'distill', 'load_images', 'load_teacher', 'pseudo_targets']

#: Heads that can be distilled from a teacher's boxes and keypoints.
DISTILLABLE = ('detect', 'keypoints')
IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp')
# A teacher answer: boxes float32[N, 4] (x1, y1, x2, y2, image pixels), scores float32[N],
# class names (N), keypoints float32[N, K, 3] (x, y, score) or None.
TeacherOutput = Tuple[np.ndarray, np.ndarray, List[str], Optional[np.ndarray]]


class DistillError(ValueError):
    """A teacher, student, head list or image source that cannot be distilled as given."""


class HydraNetTeacher:
    """
    A HydraNet checkpoint (.pt) or graph (.onnx) with a keypoint head, as a teacher.

    :param path: the weights; empty for the shipped weights.
    :param conf: score threshold of the kept detections.
    """

    def __init__(self, *, path: str, conf: float):
        from hydranet_perception.inference.predictor import Predictor
        self.predictor = Predictor.from_weights(path or None, device='cpu', score_thresh=conf)
        if 'keypoints' not in self.predictor.tasks:
            raise DistillError(f'teacher {path}: no keypoint head (it has '
                               f'{list(self.predictor.tasks)}); give a pose model')
        ls = self.predictor.label_space
        self.names = {c.id: c.name for c in ls.classes if c.is_thing}
        self.keypoint_counts = {c.name: c.keypoint_schema.num_keypoints for c in ls.classes
                                if c.is_thing and c.keypoint_schema is not None}

    def __call__(self, image: np.ndarray) -> TeacherOutput:
        """Return the kept detections of one uint8[h, w, 3] RGB image."""
        p = self.predictor(image, tasks=('detect', 'keypoints'))
        return p.boxes, p.scores, [self.names[int(c)] for c in p.class_ids], p.keypoints


class UltralyticsTeacher:
    """
    An Ultralytics pose model (``yolov8n-pose.pt``): needs ``ultralytics`` (AGPL-3.0).

    :param path: the .pt file.
    :param conf: score threshold of the kept detections.
    """

    def __init__(self, *, path: str, conf: float):
        try:
            from ultralytics import YOLO
        except ImportError as e:
            raise DistillError(f'teacher {path} is not a HydraNet checkpoint, and reading an '
                               'Ultralytics model needs `pip install ultralytics` (AGPL-3.0, '
                               f'optional): {e}') from None
        self.model, self.conf = YOLO(path), conf
        shape = getattr(self.model.model, 'kpt_shape', None)
        if not shape:
            raise DistillError(f'teacher {path}: an Ultralytics {self.model.task} model '
                               'without keypoints; give a pose model')
        self.names = {int(k): str(v) for k, v in self.model.names.items()}
        self.keypoint_counts = {n: int(shape[0]) for n in self.names.values()}

    def __call__(self, image: np.ndarray) -> TeacherOutput:
        """Return the kept detections of one uint8[h, w, 3] RGB image."""
        r = self.model.predict(image[..., ::-1], conf=self.conf, verbose=False)[0]
        kp = r.keypoints.data.cpu().numpy().astype(np.float32)
        if kp.shape[-1] == 2:
            kp = np.concatenate([kp, np.ones_like(kp[..., :1])], -1)
        return (r.boxes.xyxy.cpu().numpy().astype(np.float32),
                r.boxes.conf.cpu().numpy().astype(np.float32),
                [self.names[int(c)] for c in r.boxes.cls.cpu().numpy()], kp)


def load_teacher(path: str, *, conf: float = 0.5):
    """
    Open a teacher: a HydraNet .pt or .onnx, else an Ultralytics pose .pt.

    :raises DistillError: no keypoints, or an Ultralytics file without ``ultralytics``.
    """
    if not path or str(path).endswith('.onnx'):
        return HydraNetTeacher(path=path, conf=conf)
    try:
        load_checkpoint(path)
    except CheckpointError:
        if not pathlib.Path(path).is_file():
            raise DistillError(f'teacher {path} not found: give a .pt or .onnx file') from None
        return UltralyticsTeacher(path=path, conf=conf)
    return HydraNetTeacher(path=path, conf=conf)


def load_images(*, images: Optional[str] = None, synthetic_seed: Optional[int] = None,
                num_images: int = 0, height: int = 480, width: int = 640
                ) -> List[np.ndarray]:
    """
    Read the unlabelled images: a folder (PNG/JPEG/BMP), or generated scenes.

    :param images: a folder; ``num_images`` > 0 keeps the first ones (sorted by name).
    :param synthetic_seed: generate ``num_images`` scenes ``(seed, i)`` of height x width.
    :return: uint8[h, w, 3] RGB images.
    :raises DistillError: no source, an empty folder, an unreadable image.
    """
    if synthetic_seed is not None:
        if num_images < 1:
            raise DistillError('--synthetic-seed needs --num-images >= 1')
        return [generate_scene((synthetic_seed, i), height=height, width=width).image
                for i in range(num_images)]
    if not images:
        raise DistillError('give --images DIR or --synthetic-seed N --num-images M')
    folder = pathlib.Path(images)
    if not folder.is_dir():
        raise DistillError(f'images folder {folder} not found')
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DistillError(f'images folder {folder} holds no {"/".join(IMAGE_SUFFIXES)} file')
    import cv2
    out = []
    for f in files[:num_images or None]:
        img = cv2.imread(str(f), cv2.IMREAD_COLOR_RGB)
        if img is None:
            raise DistillError(f'image {f} cannot be decoded: remove or replace it')
        out.append(img)
    return out


def pseudo_targets(teacher, images: Sequence[np.ndarray], *, label_space,
                   input_size: Tuple[int, int], kpt_conf: float = 0.5
                   ) -> Tuple[List[Tuple[torch.Tensor, dict]], Dict[str, int]]:
    """
    Run the teacher and turn its detections into letterboxed training samples.

    :param teacher: a ``HydraNetTeacher`` or ``UltralyticsTeacher``.
    :param images: uint8[h, w, 3] RGB.
    :param label_space: the student's; teacher classes map to its things by name.
    :param input_size: (H, W) of the student's input.
    :param kpt_conf: teacher keypoint score from which a keypoint counts as labelled.
    :return: (samples of (float32[3, H, W], target with 'boxes', 'labels', 'keypoints'
        float32[N, K, 3] with v in {0, 2}) for images with at least one object,
        objects per class name).
    :raises DistillError: no class in common, or keypoint counts that differ.
    """
    things = {c.name: c for c in label_space.classes if c.is_thing}
    common = sorted(set(teacher.names.values()) & set(things))
    if not common:
        raise DistillError(f'no class in common: the teacher has {sorted(teacher.names.values())}'
                           f', the student {sorted(things)} (classes match by name)')
    for name in common:
        schema, k_t = things[name].keypoint_schema, teacher.keypoint_counts.get(name)
        if schema is not None and k_t and k_t != schema.num_keypoints:
            raise DistillError(f'class {name!r}: the teacher has {k_t} keypoints, the student '
                               f'{schema.num_keypoints}; the schemas must agree')
    k = label_space.max_keypoints
    samples, counts = [], dict.fromkeys(common, 0)
    for image in images:
        boxes, _, names, kps = teacher(image)
        x, info = letterbox(image, tuple(input_size))
        (sx, sy), (oy, ox) = info.scale, info.offset
        keep = [i for i, n in enumerate(names) if n in things]
        tk = np.zeros((len(keep), k, 3), np.float32)
        for j, i in enumerate(keep):
            counts[names[i]] += 1
            schema = things[names[i]].keypoint_schema
            if kps is None or schema is None:
                continue
            n = schema.num_keypoints
            vis = kps[i, :n, 2] >= kpt_conf
            tk[j, :n, 0] = kps[i, :n, 0] * sx + ox
            tk[j, :n, 1] = kps[i, :n, 1] * sy + oy
            tk[j, :n, 2] = 2.0
            tk[j, :n][~vis] = 0.0
        if not keep:
            continue
        b = boxes[keep].astype(np.float32) * [sx, sy, sx, sy] + [ox, oy, ox, oy]
        samples.append((torch.from_numpy(x), {
            'boxes': torch.from_numpy(b.astype(np.float32)),
            'labels': torch.tensor([things[names[i]].id for i in keep], dtype=torch.int64),
            'keypoints': torch.from_numpy(tk)}))
    return samples, counts


def distill(*, teacher, student: str, images: Sequence[np.ndarray], out: str,
            heads: Sequence[str] = ('keypoints',), steps: int = 300, lr: float = 1e-2,
            batch_size: int = 4, kpt_conf: float = 0.5, seed: int = 0,
            log: Callable[[str], None] = print) -> Dict:
    """
    Train the student's ``heads`` on the teacher's pseudo-targets; write ``out``.

    :param teacher: from ``load_teacher``.
    :param student: a HydraNet checkpoint (its config and label space are kept).
    :param images: uint8[h, w, 3] RGB, unlabelled.
    :param out: the checkpoint written.
    :param heads: heads trained (``DISTILLABLE``); the rest stays fixed.
    :param steps: optimiser steps (batches of ``batch_size`` images, cycled).
    :param lr: peak learning rate (warm-up, then cosine to 5%).
    :return: a summary (steps, seconds, first and last losses, objects per class, out).
    :raises DistillError: a head the student lacks or that cannot be distilled, no image
        with a pseudo-target.
    """
    heads = tuple(dict.fromkeys(heads))
    bad = [h for h in heads if h not in DISTILLABLE]
    if bad or not heads:
        raise DistillError(f'heads {list(heads)}: choose among {list(DISTILLABLE)}')
    model, cfg, _ = load_model(student)
    missing = [h for h in heads if h not in cfg.heads]
    if missing:
        raise DistillError(f'student {student} has no {missing} head (it has '
                           f'{list(cfg.heads)}); build it with that head first')
    samples, counts = pseudo_targets(teacher, images, label_space=cfg.label_space,
                                     input_size=cfg.input_size, kpt_conf=kpt_conf)
    if not samples:
        raise DistillError(f'the teacher kept no object of a common class on {len(images)} '
                           'images: lower --conf or give other images')
    log(f'distill: {len(samples)}/{len(images)} images with pseudo-targets; objects per '
        f'class {counts}; training {list(heads)} of {student}, the rest frozen')
    torch.manual_seed(seed)
    model.requires_grad_(False).eval()
    params = []
    for h in heads:
        model.heads[h].requires_grad_(True).train()
        params += list(model.heads[h].parameters())
    tasks = ['detect'] + [h for h in heads if h != 'detect']
    balancer = build_balancer('fixed', tasks=tasks)
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=5e-4)
    order = torch.randperm(len(samples), generator=torch.Generator().manual_seed(seed))
    warm, t0, first, terms = max(1, steps // 10), time.monotonic(), None, {}
    for step in range(steps):
        idx = [int(order[(step * batch_size + j) % len(samples)]) for j in range(batch_size)]
        batch = torch.stack([samples[i][0] for i in idx])
        targets = [samples[i][1] for i in idx]
        for g in opt.param_groups:
            g['lr'] = lr * min(1.0, (step + 1) / warm) * (
                0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * step / steps)))
        total, terms = compute_losses(model(batch, tasks=tasks), targets, cfg=cfg,
                                      balancer=balancer)
        opt.zero_grad(set_to_none=True)
        total.backward()
        torch.nn.utils.clip_grad_norm_(params, 10.0)
        opt.step()
        terms = {t: round(float(terms[t]), 4) for t in heads}
        first = first or terms
        if step == 0 or (step + 1) % max(1, steps // 10) == 0:
            log(f'  step {step + 1}/{steps} losses {terms}')
    model.eval()
    seconds = round(time.monotonic() - t0, 1)
    meta = {'distill': {'heads': list(heads), 'steps': steps, 'images': len(images),
                        'objects': counts, 'teacher': type(teacher).__name__}}
    save_checkpoint(out, model=model, config=cfg, meta=meta)
    log(f'distill: {steps} steps in {seconds} s, losses {first} -> {terms}; wrote {out}')
    return {'steps': steps, 'seconds': seconds, 'first_losses': first or {},
            'last_losses': terms, 'objects': counts, 'checkpoint': str(out)}


def main(argv=None) -> int:
    """Parse arguments and distill; return the exit status."""
    ap = argparse.ArgumentParser(prog='hydranet-distill',
                                 description=__doc__.strip().splitlines()[0].strip('`: '))
    ap.add_argument('--teacher', required=True, help='HydraNet .pt/.onnx with keypoints, or '
                    'an Ultralytics pose .pt (needs ultralytics)')
    ap.add_argument('--student', required=True, help='HydraNet checkpoint to train')
    ap.add_argument('--images', help='folder of unlabelled images')
    ap.add_argument('--synthetic-seed', type=int, help='generate the images instead')
    ap.add_argument('--num-images', type=int, default=0, help='images used (0: all)')
    ap.add_argument('--synthetic-size', type=int, nargs=2, default=(480, 640),
                    metavar=('H', 'W'), help='size of the generated images')
    ap.add_argument('--steps', type=int, default=300)
    ap.add_argument('--out', required=True, help='checkpoint written')
    ap.add_argument('--conf', type=float, default=0.5, help='teacher score kept')
    ap.add_argument('--kpt-conf', type=float, default=0.5,
                    help='teacher keypoint score from which a keypoint is labelled')
    ap.add_argument('--heads', default='keypoints', help=f'comma-separated, of {DISTILLABLE}')
    ap.add_argument('--lr', type=float, default=1e-2, help='peak learning rate')
    ap.add_argument('--batch-size', type=int, default=4)
    args = ap.parse_args(argv)
    try:
        teacher = load_teacher(args.teacher, conf=args.conf)
        images = load_images(images=args.images, synthetic_seed=args.synthetic_seed,
                             num_images=args.num_images, height=args.synthetic_size[0],
                             width=args.synthetic_size[1])
        distill(teacher=teacher, student=args.student, images=images, out=args.out,
                heads=[h for h in args.heads.split(',') if h], steps=args.steps,
                lr=args.lr, batch_size=args.batch_size, kpt_conf=args.kpt_conf)
    except (DistillError, CheckpointError) as e:
        print(f'hydranet-distill: {e}', file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
