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
Fine-tuning on a new label space: ``--init-from`` the shipped weights vs from scratch.

Exports a generated split in the Ultralytics YOLO format (segmentation polygons) with a
label space the shipped weights do not have: ``instrument`` and ``parcel`` (the
generator's box under a new name; no person).  Trains detect + masks twice with the
same recipe, steps and seed: once ``--init-from`` the shipped checkpoint, once from
random weights; evaluates a snapshot every ``--every`` steps on a held-out split (other
seeds) with hydranet-eval's code.  One JSON line per snapshot (bbox and mask AP per
class and averaged), then ``{"summary": true, "steps_to_target": ..., ...}``: the first
evaluated step at which the averaged AP reaches each target (None: not within the
run), per run.  Not a test.
"""

import argparse
import json
import os
import pathlib
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
RECIPE = ROOT / 'hydranet_perception' / 'config' / 'train_n.yaml'
WEIGHTS = ROOT / 'hydranet_perception' / 'hydranet_perception' / 'weights' / 'hydranet_n.pt'
CLASS_MAP = {'instrument': 'instrument', 'box': 'parcel'}


def _row(variant, step, seconds, rep):
    return {'variant': variant, 'step': step, 'train_seconds': round(seconds, 1),
            'bbox_AP': round(rep['bbox_AP'], 4), 'segm_AP': round(rep['segm_AP'], 4),
            'bbox_AP_per_class': {k: round(v, 4) for k, v in rep['bbox_AP_per_class'].items()},
            'segm_AP_per_class': {k: round(v, 4) for k, v in rep['segm_AP_per_class'].items()}}


def _step0(cfg, path):
    """Save the model as training starts: built, then ``init_from`` when asked."""
    import torch
    from hydranet_perception.model import build_model, load_model_config
    from hydranet_perception.model.checkpoint import save_checkpoint
    from hydranet_perception.model.init_from import init_from_checkpoint
    torch.manual_seed(cfg.seed)  # as train() does before building the model
    model_cfg = load_model_config(dict(cfg.model))
    model = build_model(model_cfg)
    if cfg.init_from:
        init_from_checkpoint(model, cfg.init_from, target_label_space=model_cfg.label_space)
    save_checkpoint(path, model=model, config=model_cfg)


def main():
    """Export the split, train both variants, evaluate the snapshots; print JSON lines."""
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument('--steps', type=int, default=400)
    ap.add_argument('--every', type=int, default=50, help='evaluate every N steps')
    ap.add_argument('--train-images', type=int, default=400)
    ap.add_argument('--val-images', type=int, default=60)
    ap.add_argument('--targets', type=float, nargs='*', default=[0.25, 0.4, 0.5],
                    help='averaged bbox and mask AP to reach')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--size', default='128x160', help='HxW of the images and the network')
    ap.add_argument('--weights', default=str(WEIGHTS))
    ap.add_argument('--variants', nargs='*', default=['init_from', 'scratch'],
                    help='init_from or scratch, optionally @LR (e.g. init_from@0.0005)')
    ap.add_argument('--out', default='out/finetune')
    args = ap.parse_args()
    os.environ.setdefault('OMP_NUM_THREADS', str(args.threads))
    import torch
    torch.set_num_threads(args.threads)
    from hydranet_perception.data.yolo_export import generate_yolo_dataset, open_yolo_truth
    from hydranet_perception.engine.config import load_train_config
    from hydranet_perception.engine.evaluate import evaluate
    from hydranet_perception.engine.runtimes import make_predictor
    from hydranet_perception.engine.train import train
    import yaml

    recipe = yaml.safe_load(RECIPE.read_text())
    out = pathlib.Path(args.out)
    data = out / 'data'
    t0 = time.monotonic()
    h, w = (int(v) for v in args.size.lower().split('x'))
    data_yaml = generate_yolo_dataset(
        str(data), splits={'train': (101, args.train_images), 'val': (102, args.val_images)},
        class_map=CLASS_MAP, task='segment', height=h, width=w,
        class_weights={'person': 0.0})
    export_s = time.monotonic() - t0
    heads = ['detect', 'masks']
    rows, reached, lrs = [], {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        val, truth = open_yolo_truth(data_yaml, split='val', out_dir=tmp)
        for variant in args.variants:
            kind, _, lr = variant.partition('@')
            optim = dict(recipe['optim'], warmup_steps=min(50, args.steps // 4))
            if lr:
                optim['lr'] = float(lr)
            lrs[variant] = optim['lr']
            cfg = dict(recipe, tasks=heads, max_steps=args.steps, time_budget_min=0,
                       input_size=[h, w],
                       out_dir=str(out / variant), ckpt_every=args.every, workers=0,
                       init_from=args.weights if kind == 'init_from' else '',
                       train={'kind': 'yolo', 'data_yaml': data_yaml, 'split': 'train'},
                       optim=optim)
            cfg['model'] = dict(recipe['model'], heads=heads, label_space='data',
                                input_size=[h, w])
            tcfg = load_train_config(cfg)
            _step0(tcfg, out / variant / 'step_000000.pt')  # the weights before training
            t1 = time.monotonic()
            summary = train(tcfg, progress=False)
            seconds = time.monotonic() - t1
            reached[variant] = {f'{k}>={t}': None for t in args.targets
                                for k in ('bbox_AP', 'segm_AP')}
            for step in range(0, summary['steps'] + 1, args.every):
                ckpt = out / variant / f'step_{step:06d}.pt'
                pred = make_predictor(str(ckpt), device='cpu', score_thresh=0.05)
                row = _row(variant, step, seconds * step / summary['steps'],
                           evaluate(pred, val, truth))
                print(json.dumps(row), flush=True)
                rows.append(row)
                for t in args.targets:
                    for key in ('bbox_AP', 'segm_AP'):
                        if reached[variant][f'{key}>={t}'] is None and row[key] >= t:
                            reached[variant][f'{key}>={t}'] = step
    last = {r['variant']: r for r in rows}
    print(json.dumps({
        'summary': True, 'date': time.strftime('%Y-%m-%d'), 'steps': args.steps,
        'batch_size': recipe['batch_size'], 'train_images': args.train_images,
        'val_images': args.val_images, 'label_space': list(CLASS_MAP.values()),
        'size': args.size,
        'steps_to_target': reached, 'lr': lrs,
        'final': {v: {k: r[k] for k in ('bbox_AP', 'segm_AP', 'bbox_AP_per_class',
                                        'segm_AP_per_class', 'train_seconds')}
                  for v, r in last.items()},
        'threads': args.threads, 'export_seconds': round(export_s, 1)}))
    return 0


if __name__ == '__main__':
    sys.exit(main())
