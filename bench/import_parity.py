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
Import parity: HydraNet ``family: yolov8`` against Ultralytics YOLOv8-seg, n and s.

Usage (from the repository root; needs ``ultralytics``, bench-only)::

    PYTHONPATH=hydranet_perception .venv/bin/python bench/import_parity.py [--images 3] \
        [--latency-frames 20]

For each size: an Ultralytics model built from its YAML file with seeded random weights
(``hydranet_perception/test/yolov8_parity.py``: batch norms calibrated on generated
scenes, nothing downloaded), saved as Ultralytics saves a trained model (half precision),
imported with ``hydranet-import``, then both run on generated scenes at 640x480 (the
network input, no resizing). The score threshold sits in the widest gap between the
20th and 60th best anchor scores (random weights have no meaningful threshold).
Detections are matched by class and IoU >= 0.5. Reported per size and image: the raw
head tensors' largest difference, matched/ours/theirs counts, the largest box and score
differences, the least mask IoU with one crop rule for both (this project's: pixel
centres in the box) and with Ultralytics' own cropped masks (columns x1 <= c < x2: one
row or column at the box edges differs), per class beside the whole; the same against
Ultralytics' fused model (Conv+BN folded, what its predictor runs: other rounding). The
last line: ``{"summary": true, "max_box_abs_diff": .., "min_mask_iou": .., "sizes": [..]}``
(goals: <= 1e-3 px and >= 0.99).
"""

import argparse
import json
import os
import pathlib
import sys
import tempfile

import numpy as np
import torch

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / 'hydranet_perception' / 'test'))

H, W = 480, 640


def emit(**fields):
    """Print one JSON line."""
    print(json.dumps(fields), flush=True)


def per_class(pairs, names):
    """Return {class name: matched, worst box difference, least mask IoUs}."""
    out = {}
    for p in pairs:
        c = out.setdefault(names[p['class_id']], {'matched': 0, 'max_box_abs_diff': 0.0,
                                                  'min_mask_iou': 1.0,
                                                  'min_mask_iou_ultralytics_crop': 1.0})
        c['matched'] += 1
        c['max_box_abs_diff'] = max(c['max_box_abs_diff'], p['box_abs_diff'])
        c['min_mask_iou'] = min(c['min_mask_iou'], p['mask_iou'])
        c['min_mask_iou_ultralytics_crop'] = min(c['min_mask_iou_ultralytics_crop'],
                                                 p['mask_iou_ultralytics_crop'])
    return dict(sorted(out.items()))


def latency(ckpt, args, emit):
    """
    Time the imported n and the shipped n, interleaved frame by frame.

    The Predictor (letterbox, forward, postprocess) on onnxruntime at 640x480, with
    detect+masks and with all heads, default thresholds (the node's path); medians in
    milliseconds, a line each:
    the whole call, the forward pass and the postprocessing (random weights: its cost
    follows the number of instances, also reported).
    """
    import time
    import yolov8_parity as yp
    from hydranet_perception.inference.predictor import Predictor
    models = {'imported_yolov8n': str(ckpt), 'shipped_hydranet_n': None}
    preds = {k: Predictor.from_weights(v, backend='onnxruntime', device='cpu',
                                       input_size=(H, W), threads=args.threads)
             for k, v in models.items()}
    rng = np.random.default_rng(7)
    frames = [yp.scene(rng, H, W) for _ in range(4)]
    for tasks in (('detect', 'masks'), ('detect', 'masks', 'semantic', 'keypoints')):
        times = {k: {'predictor': [], 'forward': [], 'postprocess': [], 'instances': []}
                 for k in preds}
        for i in range(args.latency_frames + 2):
            for k, p in preds.items():
                t0 = time.perf_counter()
                n = len(p(frames[i % len(frames)], tasks=tasks))
                if i >= 2:  # two warm-up calls each
                    times[k]['predictor'].append((time.perf_counter() - t0) * 1e3)
                    times[k]['forward'].append(p.last_timings['forward'] * 1e3)
                    times[k]['postprocess'].append(p.last_timings['postprocess'] * 1e3)
                    times[k]['instances'].append(n)
        for k, t in times.items():
            emit(latency=k, backend='onnxruntime', threads=args.threads, input=f'{W}x{H}',
                 tasks=list(tasks), classes=preds[k].label_space.num_classes,
                 frames=len(t['forward']),
                 **{f'{s}_ms_p50': float(np.median(t[s])) for s in
                    ('predictor', 'forward', 'postprocess')},
                 instances_mean=float(np.mean(t['instances'])),
                 load_average_1min=os.getloadavg()[0])


def main():
    """Run the comparison and print JSON lines."""
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--images', type=int, default=3, help='generated scenes per size')
    ap.add_argument('--threads', type=int, default=1, help='torch / onnxruntime CPU threads')
    ap.add_argument('--latency-frames', type=int, default=20,
                    help='frames per model for the latency lines (0: none)')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    try:
        import ultralytics  # noqa: F401
        import yolov8_parity as yp
    except ImportError as e:
        emit(summary=True, available=False, reason=f'cannot import ultralytics: {e}',
             hint='pip install -r requirements/bench.txt (bench only, AGPL-3.0)')
        return
    from hydranet_perception.inference.predictor import Predictor
    from hydranet_perception.model.import_yolov8 import import_yolov8
    rows, ious = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for size, seed in (('n', 0), ('s', 1)):
            model = yp.random_seg_model(size, seed=seed, hw=(H, W))
            src = pathlib.Path(tmp) / f'yolov8{size}-seg.pt'
            yp.save_ultralytics(model, src)
            ckpt = pathlib.Path(tmp) / f'coco_{size}.pt'
            report = import_yolov8(src, ckpt, input_size=(H, W))
            theirs = {'unfused': yp.load_ultralytics(src),
                      'fused': yp.load_ultralytics(src, fuse=True)}
            predictor = Predictor.from_weights(str(ckpt), backend='torch', device='cpu',
                                               input_size=(H, W), tasks=('detect', 'masks'))
            names = predictor.label_space.names
            rng = np.random.default_rng(100 + seed)
            for k in range(args.images):
                image = yp.scene(rng, H, W)
                x = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255
                with torch.no_grad():
                    mine = predictor.backend.model(x, tasks=('detect', 'masks'))
                for kind, ult in theirs.items():
                    raw, _ = yp.raw_outputs(ult, x)
                    raw_diff = max(float((mine[n] - v).abs().max()) for n, v in raw.items())
                    conf = yp.threshold_between(raw['detect_cls'])
                    ref = yp.reference(ult, image, conf=conf, iou=0.6)
                    pred = predictor(image, score_thresh=conf, nms_iou=0.6)
                    cmp = yp.compare(pred, ref)
                    pairs = cmp.pop('pairs')
                    row = dict(size=size, image=k, ultralytics=kind, input=f'{W}x{H}',
                               score_threshold=conf, raw_max_abs_diff=raw_diff, **cmp,
                               per_class=per_class(pairs, names))
                    emit(**row)
                    rows.append(row)
                    if kind == 'unfused':
                        ious += [p['mask_iou_ultralytics_crop'] for p in pairs]
            emit(size=size, mapped=report['mapped'], mapped_total=report['mapped_total'])
            if size == 'n' and args.latency_frames:
                latency(ckpt, args, emit)
    parity = [r for r in rows if r['ultralytics'] == 'unfused']
    fused = [r for r in rows if r['ultralytics'] == 'fused']
    emit(summary=True, sizes=['n', 's'], input=f'{W}x{H}', images_per_size=args.images,
         max_box_abs_diff=max(r['max_box_abs_diff'] for r in parity),
         min_mask_iou=min(r['min_mask_iou'] for r in parity),
         min_mask_iou_ultralytics_crop=min(r['min_mask_iou_ultralytics_crop'] for r in parity),
         mean_mask_iou_ultralytics_crop=float(np.mean(ious)),
         max_score_abs_diff=max(r['max_score_abs_diff'] for r in parity),
         max_raw_abs_diff=max(r['raw_max_abs_diff'] for r in parity),
         all_matched=all(r['ours'] == r['theirs'] == r['matched'] for r in parity),
         fused_max_box_abs_diff=max(r['max_box_abs_diff'] for r in fused),
         fused_min_mask_iou=min(r['min_mask_iou'] for r in fused),
         fused_all_matched=all(r['ours'] == r['theirs'] == r['matched'] for r in fused),
         goal_met=bool(max(r['max_box_abs_diff'] for r in parity) <= 1e-3
                       and min(r['min_mask_iou'] for r in parity) >= 0.99))


if __name__ == '__main__':
    main()
