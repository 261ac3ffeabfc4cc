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
What sharing the encoder costs or gains: all heads vs single-task, same step budget.

Trains three n-size models with the recipe of config/train_n.yaml but a fixed number of
steps (``--steps``): all four heads, detect + masks only, detect + keypoints only; then
evaluates each with hydranet-eval's code on a held-out synthetic split (seed 999).
Prints one JSON line per variant (seconds per step, bbox / mask / keypoint AP, PQ) and a
summary. Not a test: it trains for many minutes.
"""

import argparse
import json
import pathlib
import sys
import tempfile
import time

from hydranet_perception.data.coco import CocoDataset, generate_synthetic_split
from hydranet_perception.engine.config import load_train_config
from hydranet_perception.engine.evaluate import evaluate
from hydranet_perception.engine.runtimes import make_predictor
from hydranet_perception.engine.train import train
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
RECIPE = ROOT / 'hydranet_perception' / 'config' / 'train_n.yaml'
VARIANTS = {
    'all_heads': ['detect', 'masks', 'semantic', 'keypoints'],
    'masks_only': ['detect', 'masks'],
    'keypoints_only': ['detect', 'keypoints'],
}


def main():
    """Train and evaluate each variant; print JSON lines."""
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument('--steps', type=int, default=400)
    ap.add_argument('--eval-images', type=int, default=50)
    ap.add_argument('--out', default='out/task_sharing')
    ap.add_argument('--variants', nargs='*', default=list(VARIANTS))
    args = ap.parse_args()
    recipe = yaml.safe_load(RECIPE.read_text())
    out = pathlib.Path(args.out)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        generate_synthetic_split(tmp, seed=999, num_images=args.eval_images, height=480,
                                 width=640)
        data = CocoDataset.from_split_dir(tmp)
        for name in args.variants:
            heads = VARIANTS[name]
            cfg = dict(recipe, tasks=heads, max_steps=args.steps, time_budget_min=0,
                       out_dir=str(out / name), ckpt_every=10 ** 9)
            cfg['model'] = dict(recipe['model'], heads=heads)
            t0 = time.monotonic()
            summary = train(load_train_config(cfg), progress=False)
            seconds = time.monotonic() - t0
            pred = make_predictor(summary['checkpoint'], device='cpu', score_thresh=0.05)
            rep = evaluate(pred, data, str(pathlib.Path(tmp) / 'annotations' /
                                           'instances.json'))
            row = {'variant': name, 'heads': heads, 'steps': summary['steps'],
                   'train_seconds': round(seconds, 1),
                   'seconds_per_step': round(seconds / max(1, summary['steps']), 3),
                   'bbox_AP': rep['bbox_AP'],
                   'segm_AP': rep['segm_AP'] if 'masks' in heads else None,
                   'keypoints_AP': rep['keypoints_AP'] if 'keypoints' in heads else None,
                   'PQ': rep['PQ'] if 'semantic' in heads else None,
                   'eval_images': args.eval_images, 'date': time.strftime('%Y-%m-%d')}
            print(json.dumps(row), flush=True)
            rows.append(row)
    print(json.dumps({'summary': True, 'steps': args.steps,
                      'variants': {r['variant']: {k: r[k] for k in
                                                  ('seconds_per_step', 'bbox_AP', 'segm_AP',
                                                   'keypoints_AP', 'PQ')} for r in rows}}))
    return 0


if __name__ == '__main__':
    sys.exit(main())
