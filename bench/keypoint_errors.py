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
Keypoint precision given the detection: per class and keypoint, how far the head puts it.

Usage (from the repository root)::

    PYTHONPATH=hydranet_perception .venv/bin/python bench/keypoint_errors.py CKPT \
        [--seed 999] [--num-images 100]

For every labelled keypoint (v > 0) of every ground-truth object with a schema in the
held-out scenes ``generate_scene((seed, i))`` (640 x 480, letterboxed to the model's
input), the anchor that scores the object's class highest inside its box is taken (an
oracle choice of the detection, so that only the keypoint head is measured), and its
keypoint is compared with the truth: the error in network-input pixels and in units of
the OKS tolerance (the distance at which that keypoint's OKS is 0.5 with the data set's
sigma and the object's segment area; below 1 counts toward AP at OKS 0.5, below ~0.3
toward the strict thresholds).  Variant ``output`` is what the model outputs; with the
keypoint refinement, ``unrefined`` is the same anchors' keypoints before it.  One JSON
line per class, slot and variant, and a last line ``{"summary": true, "median_px":
{class: {variant: ..}}, "within_tolerance": {...}}``.
"""

import argparse
import json
import math

from hydranet_perception.coder.torch_ops import decode_keypoints
from hydranet_perception.data.synthetic import generate_scene
from hydranet_perception.model.checkpoint import load_model
from hydranet_perception.postprocess.letterbox import keypoints_to_input, letterbox
import numpy as np
import torch

OKS_HALF = math.sqrt(2 * math.log(2))  # e = d^2 / (2 A (2 sigma)^2) = ln 2 at OKS 0.5


def emit(**fields):
    """Print one JSON line."""
    print(json.dumps(fields), flush=True)


def run(model, images):
    """Return the outputs and {'output': keypoints, 'unrefined': keypoints or None}."""
    with torch.no_grad():
        out = model(images)
        head = model.heads['keypoints']
        coarse = None
        if getattr(head, 'field', None) is not None:
            field, head.field = head.field, None
            try:
                coarse = model(images, tasks=['keypoints'])['keypoints']
            finally:
                head.field = field
    return out, {'output': out['keypoints'], 'unrefined': coarse}


def main(argv=None):
    """Measure and print the JSON lines."""
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument('checkpoint')
    ap.add_argument('--seed', type=int, default=999)
    ap.add_argument('--num-images', type=int, default=100)
    ap.add_argument('--threads', type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    model, cfg = load_model(args.checkpoint)[:2]
    model.eval()
    ls = cfg.label_space
    errors = {}  # (class name, slot, variant) -> list of (px, tolerance units)
    for i in range(args.num_images):
        scene = generate_scene((args.seed, i), height=480, width=640, label_space=ls)
        x, info = letterbox(scene.image, tuple(cfg.input_size))
        out, variants = run(model, x[None])
        anchors = out['detect_anchors']
        for inst in scene.instances:
            cls = ls.classes[inst.class_id]
            schema = cls.keypoint_schema
            if schema is None or not len(inst.keypoints):
                continue
            box = keypoints_to_input(inst.box.reshape(2, 2), info).reshape(4)
            inside = ((anchors[:, 0] > box[0]) & (anchors[:, 0] < box[2])
                      & (anchors[:, 1] > box[1]) & (anchors[:, 1] < box[3]))
            if not inside.any():
                continue
            score = out['detect_cls'][0][:, ls.thing_index(inst.class_id)]
            a = int(score.masked_fill(~inside, float('-inf')).argmax())
            truth = keypoints_to_input(inst.keypoints.astype(np.float64), info)
            area = inst.area * info.scale[0] * info.scale[1]
            for name, kpt in variants.items():
                if kpt is None:
                    continue
                xy, _ = decode_keypoints(kpt[0][a:a + 1], anchors[a:a + 1])
                xy = xy[0].numpy()
                for k, sigma in enumerate(schema.sigmas):
                    if truth[k, 2] <= 0:
                        continue
                    d = float(np.hypot(*(xy[k] - truth[k, :2])))
                    tol = OKS_HALF * 2 * sigma * math.sqrt(area)
                    errors.setdefault((cls.name, k, name), []).append((d, d / tol))
    median, within = {}, {}
    for (cname, k, name), vals in sorted(errors.items()):
        v = np.array(vals)
        schema = ls.by_name(cname).keypoint_schema
        emit(cls=cname, keypoint=schema.keypoints[k], variant=name, count=len(v),
             median_px=round(float(np.median(v[:, 0])), 2),
             median_tolerances=round(float(np.median(v[:, 1])), 3),
             within_tolerance=round(float((v[:, 1] < 1).mean()), 3))
    for cname in sorted({c for c, _, _ in errors}):
        for name in ('unrefined', 'output'):
            v = np.concatenate([np.array(vals) for (c, _, n), vals in errors.items()
                                if c == cname and n == name] or [np.zeros((0, 2))])
            if len(v):
                median.setdefault(cname, {})[name] = round(float(np.median(v[:, 0])), 2)
                within.setdefault(cname, {})[name] = round(float((v[:, 1] < 1).mean()), 3)
    emit(summary=True, checkpoint=args.checkpoint, seed=args.seed, images=args.num_images,
         median_px=median, within_tolerance=within)
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
