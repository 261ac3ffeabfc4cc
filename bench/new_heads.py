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
Add the depth and identity heads to the shipped weights, train them, and measure.

Usage (from the repository root)::

    OMP_NUM_THREADS=1 PYTHONPATH=hydranet_perception .venv/bin/python bench/new_heads.py \
        [--minutes 7] [--out out/heads] [--eval-images 60] [--ap-images 100]

Training: the shipped weights are copied into a model with the two extra heads
(``model/init_from.py``: every tensor whose name and shape match); the backbone, neck
and the four shipped heads are frozen (no gradient, batch norms in eval mode), so their
outputs, and the bbox/mask/keypoint AP, cannot change; only the depth and identity
heads learn.  Each step takes B pairs of frames of generated sequences (seed 1, the
training seed; depth on; the shipped training augmentation on each frame).

Evaluation on the held-out seed 999 (generated at 240x320, the shipped training size):

* depth: AbsRel and delta < 1.25 of the head's metric depth (no rescaling), of the same
  median-scaled, and of the median-scaled ground-plane baseline (``engine/metrics_depth``:
  the generator's mean camera height 1.3 m, its mean horizon row 0.4 H, the image's
  true intrinsics), over all pixels, things, stuff, and each class's pixels;
* identity: re-identification top-1 between two frames 8 steps apart: detections
  matched to the ground truth (same class, IoU >= 0.5) in both frames; for each object
  of frame A, is the most similar embedding in frame B its own?  Per class, for the
  trained head and the untrained one (chance is shown too);
* AP: the project's evaluator (``engine/evaluate.py``, 480x640 split like
  ``hydranet-eval``) on the shipped weights and on the new checkpoint, per class.

Prints one JSON line per measurement, the last ``{"summary": true, ...}``.  The trained
checkpoint goes to ``OUT/hydranet_n_heads.pt`` (not shipped).
"""

import argparse
import json
import math
import pathlib
import sys
import tempfile
import time

from hydranet_perception.data.coco import CocoDataset, generate_synthetic_split
from hydranet_perception.data.sequence_pairs import pair_collate, SequencePairDataset
from hydranet_perception.data.synthetic import generate_sequence
from hydranet_perception.data.transforms import train_transforms
from hydranet_perception.engine.evaluate import evaluate
from hydranet_perception.engine.metrics_depth import evaluate_depth
from hydranet_perception.inference.predictor import Predictor
from hydranet_perception.losses import build_balancer, compute_losses
from hydranet_perception.model import build_model, load_model_config
from hydranet_perception.model.checkpoint import load_checkpoint, save_checkpoint
from hydranet_perception.model.init_from import init_from_checkpoint
import numpy as np
import torch
from torch.utils.data import DataLoader

SHIPPED = pathlib.Path('hydranet_perception/hydranet_perception/weights/hydranet_n.pt')
NEW = ('depth', 'identity')


def emit(**fields):
    """Print one JSON line."""
    print(json.dumps(fields), flush=True)


def build(weights: pathlib.Path):
    """Return (model, config): the shipped model plus the new heads, matching tensors copied."""
    cfg = dict(load_checkpoint(weights)['config'])
    cfg['heads'] = list(cfg['heads']) + [h for h in NEW if h not in cfg['heads']]
    model_cfg = load_model_config(cfg)
    model = build_model(model_cfg)
    report = init_from_checkpoint(model, weights, target_label_space=model_cfg.label_space)
    emit(init_from=str(weights), **report.summary())
    return model, model_cfg


def freeze_shared(model):
    """Freeze everything but the new heads; return the trainable parameters."""
    for name, module in [('backbone', model.backbone), ('neck', model.neck)] + [
            (t, model.heads[t]) for t in model.heads if t not in NEW]:
        module.eval()
        for p in module.parameters():
            p.requires_grad_(False)
    return [p for t in NEW for p in model.heads[t].parameters()]


def train(model, model_cfg, *, minutes: float, pairs: int, lr: float, seed: int):
    """Train the new heads for ``minutes``; return the number of steps and last losses."""
    torch.manual_seed(seed)
    params = freeze_shared(model)
    for t in NEW:
        model.heads[t].train()
    size = tuple(model_cfg.input_size)
    ds = SequencePairDataset(100000, seed=1, height=240, width=320,
                             transforms=train_transforms(model_cfg.label_space, size,
                                                         scale_range=(0.7, 1.3)),
                             label_space=model_cfg.label_space, depth=True)
    loader = DataLoader(ds, batch_size=pairs, shuffle=True, num_workers=1,
                        collate_fn=pair_collate,
                        generator=torch.Generator().manual_seed(seed))
    balancer = build_balancer('fixed', tasks=('detect',) + NEW)
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=5e-4)
    budget = minutes * 60
    t0 = time.monotonic()
    step, terms = 0, {}
    for images, targets in loader:
        frac = (time.monotonic() - t0) / budget
        if frac >= 1:
            break
        for g in opt.param_groups:
            g['lr'] = lr * min(1.0, (step + 1) / 30) * (0.05 + 0.95 * 0.5 * (
                1 + math.cos(math.pi * frac)))
        with torch.no_grad():
            feats = model.neck(model.backbone(images))
            out = dict(model.heads['detect'](feats))
        for t in NEW:
            out.update(model.heads[t](feats))
        total, terms = compute_losses(out, targets, cfg=model_cfg, balancer=balancer)
        opt.zero_grad(set_to_none=True)
        total.backward()
        torch.nn.utils.clip_grad_norm_(params, 10.0)
        opt.step()
        step += 1
        if step % 25 == 0 or step == 1:
            emit(step=step, seconds=round(time.monotonic() - t0, 1),
                 **{k: round(float(v), 4) for k, v in terms.items()
                    if k.split('/')[0] in NEW and not k.startswith('weight')})
    model.eval()
    return step, {k: round(float(v), 4) for k, v in terms.items()}


def _iou(a, b):
    x1, y1 = np.maximum(a[:, None, 0], b[None, :, 0]), np.maximum(a[:, None, 1], b[None, :, 1])
    x2, y2 = np.minimum(a[:, None, 2], b[None, :, 2]), np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    areb = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / np.maximum(area[:, None] + areb[None] - inter, 1e-9)


def _matched_embeddings(pred, scene):
    """Return {track_id: (class_id, embedding)} of detections matched to the truth."""
    out = {}
    if not len(pred) or not scene.instances:
        return out
    gt = np.array([inst.box for inst in scene.instances], np.float32)
    iou = _iou(gt, pred.boxes)
    for g, inst in enumerate(scene.instances):
        same = pred.class_ids == inst.class_id
        cand = np.where(same, iou[g], 0.0)
        j = int(np.argmax(cand))
        if cand[j] >= 0.5:
            out[inst.track_id] = (inst.class_id, pred.embeddings[j])
    return out


def reid_eval(predictors, label_space, *, num_pairs: int, gap: int = 8):
    """Return {name: {class: top-1, 'all': top-1, 'queries': n}} and the chance level."""
    hits = {n: {} for n in predictors}
    chance = {}
    for i in range(num_pairs):
        a, b = generate_sequence((999, 10000 + i), 2, height=240, width=320,
                                 label_space=label_space, step=float(gap))
        for name, pr in predictors.items():
            ea = _matched_embeddings(pr(a.image, tasks=['identity']), a)
            eb = _matched_embeddings(pr(b.image, tasks=['identity']), b)
            common = [t for t in ea if t in eb]
            if len(common) < 2:
                continue
            gb = np.stack([eb[t][1] for t in common])
            for q, t in enumerate(common):
                best = int(np.argmax(gb @ ea[t][1]))
                cname = label_space.names[ea[t][0]]
                hits[name].setdefault(cname, []).append(best == q)
                if name == next(iter(predictors)):
                    chance.setdefault(cname, []).append(1.0 / len(common))
    out = {}
    for name, per in hits.items():
        allv = [v for vs in per.values() for v in vs]
        out[name] = {c: round(float(np.mean(v)), 4) for c, v in sorted(per.items())}
        out[name].update(all=round(float(np.mean(allv)), 4) if allv else None,
                         queries=len(allv))
    allc = [v for vs in chance.values() for v in vs]
    out['chance'] = {c: round(float(np.mean(v)), 4) for c, v in sorted(chance.items())}
    out['chance']['all'] = round(float(np.mean(allc)), 4) if allc else None
    return out


def ap_eval(predictor, *, num_images: int):
    """Return bbox/segm AP (per class and mean) on hydranet-eval's seed-999 split."""
    with tempfile.TemporaryDirectory() as tmp:
        generate_synthetic_split(tmp, seed=999, num_images=num_images, height=480, width=640)
        rep = evaluate(predictor, CocoDataset.from_split_dir(tmp),
                       str(pathlib.Path(tmp) / 'annotations' / 'instances.json'),
                       limit=num_images)
    keys = ('bbox_AP', 'segm_AP', 'bbox_AP_per_class', 'segm_AP_per_class', 'keypoints_AP',
            'keypoints_AP_per_class', 'PQ')
    return {k: rep[k] for k in keys}


def main(argv=None):
    """Train, evaluate and print the JSON lines."""
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument('--weights', default=str(SHIPPED))
    ap.add_argument('--out', default='out/heads')
    ap.add_argument('--minutes', type=float, default=7.0)
    ap.add_argument('--pairs', type=int, default=4, help='pairs per step (2x images)')
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--eval-images', type=int, default=60)
    ap.add_argument('--reid-pairs', type=int, default=60)
    ap.add_argument('--ap-images', type=int, default=100, help='0 skips the AP check')
    ap.add_argument('--checkpoint', help='skip training: evaluate this checkpoint')
    ap.add_argument('--threads', type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)  # the untrained heads of the re-identification baseline
    weights = pathlib.Path(args.weights)
    untrained, _ = build(weights)
    untrained.eval()
    if args.checkpoint:
        model = build_model(load_model_config(load_checkpoint(args.checkpoint)['config']))
        model.load_state_dict(load_checkpoint(args.checkpoint)['state_dict'])
        model_cfg = model.config
        steps, last = None, {}
    else:
        model, model_cfg = build(weights)
        steps, last = train(model, model_cfg, minutes=args.minutes, pairs=args.pairs,
                            lr=args.lr, seed=0)
        out = pathlib.Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        path = save_checkpoint(out / 'hydranet_n_heads.pt', model=model, config=model_cfg,
                               meta={'note': 'bench/new_heads.py: shipped weights + depth '
                                     'and identity heads (shared parts frozen)',
                                     'steps': steps})
        emit(checkpoint=str(path), steps=steps, last_losses=last)
    model.eval()
    ls = model_cfg.label_space
    pred_new = Predictor(model=model, device='cpu')
    depth = evaluate_depth(pred_new, seed=999, num_images=args.eval_images)
    for method, regions in depth.items():
        emit(metric='depth', method=method, seed=999, images=args.eval_images, **regions)
    reid = reid_eval({'trained': pred_new,
                      'untrained': Predictor(model=untrained, device='cpu')}, ls,
                     num_pairs=args.reid_pairs)
    emit(metric='reid_top1', seed=999, gap=8, **reid)
    summary = {'summary': True, 'steps': steps,
               'depth_abs_rel': {m: r['all']['abs_rel'] for m, r in depth.items()},
               'depth_delta1': {m: r['all']['delta1'] for m, r in depth.items()},
               'reid_top1': {k: v.get('all') for k, v in reid.items()}}
    if args.ap_images:
        before = ap_eval(Predictor.from_weights(str(weights), backend='torch', device='cpu',
                                                score_thresh=0.05), num_images=args.ap_images)
        after = ap_eval(Predictor(model=model, device='cpu', score_thresh=0.05,
                                  tasks=('detect', 'masks', 'semantic', 'keypoints')),
                        num_images=args.ap_images)
        emit(metric='ap', when='before', **before)
        emit(metric='ap', when='after', **after)
        summary.update(bbox_AP={'before': before['bbox_AP'], 'after': after['bbox_AP']},
                       segm_AP={'before': before['segm_AP'], 'after': after['segm_AP']})
    emit(**summary)
    return 0


if __name__ == '__main__':
    sys.exit(main())
