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
``hydranet-eval``: COCO bbox / segm / keypoint AP and PQ / SQ / RQ of a checkpoint.

Evaluates on a COCO split (``--coco-root``, as written by ``write_coco_split``) or on a
synthetic split generated on the fly from a seed (``--synthetic-seed N --num-images M``)
that the model never saw. Keypoint AP is computed per class with that class's OKS
sigmas (pycocotools takes one sigma vector per evaluation), then averaged.  OKS uses
COCO's conventions throughout: the ground truth's segment area (the visible mask's
pixel count, ``area`` in the annotations) and the data set's sigmas.
"""

import argparse
import contextlib
import io
import json
import pathlib
import sys
import tempfile
import time
from typing import Dict, List, Optional

from hydranet_perception.data.coco import CocoDataset, generate_synthetic_split
from hydranet_perception.engine.metrics_pq import PQAccumulator
from hydranet_perception.prediction import Prediction
import numpy as np
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval


def prediction_to_coco(pred: Prediction, image_id: int, label_space,
                       cat_of_class: Dict[int, int]) -> List[Dict]:
    """
    Turn one Prediction into COCO result dicts.

    ``cat_of_class`` maps the model's class ids to the ground truth's category ids;
    classes the ground truth does not have are left out.
    """
    out = []
    for i in range(len(pred)):
        x1, y1, x2, y2 = (float(v) for v in pred.boxes[i])
        cid = int(pred.class_ids[i])
        if cid not in cat_of_class:
            continue
        r = {'image_id': int(image_id), 'category_id': cat_of_class[cid],
             'bbox': [x1, y1, x2 - x1, y2 - y1], 'score': float(pred.scores[i])}
        if pred.masks is not None:
            rle = mask_utils.encode(np.asfortranarray(pred.masks[i].astype(np.uint8)))
            rle['counts'] = rle['counts'].decode('ascii')
            r['segmentation'] = rle
        schema = label_space.classes[cid].keypoint_schema
        if pred.keypoints is not None and schema is not None:
            k = pred.keypoints[i, :schema.num_keypoints]
            r['keypoints'] = [float(v) for row in k for v in (row[0], row[1], row[2])]
        out.append(r)
    return out


def _coco_eval(gt: COCO, results: List[Dict], iou_type: str, *, cat_ids=None,
               sigmas=None) -> Optional[float]:
    keep = [r for r in results if (cat_ids is None or r['category_id'] in cat_ids)
            and (iou_type != 'segm' or 'segmentation' in r)
            and (iou_type != 'keypoints' or 'keypoints' in r)]
    if not keep:
        return 0.0
    with contextlib.redirect_stdout(io.StringIO()):
        dt = gt.loadRes(keep)
        ev = COCOeval(gt, dt, iou_type)
        if cat_ids is not None:
            ev.params.catIds = list(cat_ids)
        if sigmas is not None:
            ev.params.kpt_oks_sigmas = np.asarray(sigmas, np.float64)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return float(max(ev.stats[0], 0.0))


def _oks_sigmas(model_class, data_label_space) -> tuple:
    """
    Return the OKS sigmas to score a class with: the data set's, else the model's.

    The metric belongs to the data: two checkpoints scored on one split use the same
    sigmas, whatever schema version each was trained with.
    """
    try:
        schema = data_label_space.by_name(model_class.name).keypoint_schema
    except KeyError:
        schema = None
    if schema is not None and schema.num_keypoints == model_class.keypoint_schema.num_keypoints:
        return schema.oks_sigmas()
    return model_class.keypoint_schema.oks_sigmas()


def evaluate(predictor, dataset: CocoDataset, instances_json: str, *, limit: int = 0) -> Dict:
    """
    Run ``predictor`` over ``dataset`` and compute every metric; return the report.

    Model classes are matched to the data set's categories by name.
    """
    ls = predictor.label_space
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(instances_json)
    data_ids = {c.name: c.id for c in dataset.label_space.classes}
    cat_ids = {cid: cat for cat, cid in dataset.cat_to_class.items()}
    cat_of_class = {c.id: cat_ids[data_ids[c.name]] for c in ls.classes
                    if c.name in data_ids and data_ids[c.name] in cat_ids}
    to_model = {data_ids[c.name]: c.id for c in ls.classes if c.name in data_ids}
    pq = PQAccumulator.from_label_space(ls)
    results: List[Dict] = []
    n = len(dataset) if not limit else min(limit, len(dataset))
    t0 = time.monotonic()
    for i in range(n):
        image_id = int(dataset.images[i]['id'])
        pred = predictor(dataset.load_image(i))
        results.extend(prediction_to_coco(pred, image_id, ls, cat_of_class))
        gt_pan = dataset.load_panoptic(i)
        if gt_pan is not None and pred.panoptic is not None:
            gt_classes = {sid: to_model[c] for sid, c in gt_pan[1].items() if c in to_model}
            pq.update(pred.panoptic, [(s.id, s.class_id) for s in pred.segments],
                      gt_pan[0], gt_classes)
    seconds = time.monotonic() - t0
    report: Dict = {'num_images': n, 'seconds_per_image': round(seconds / max(n, 1), 4)}
    report['bbox_AP'] = _coco_eval(gt, results, 'bbox')
    report['segm_AP'] = _coco_eval(gt, results, 'segm')
    kp = {}
    for c in ls.classes:
        if (c.keypoint_schema is not None and c.id in cat_of_class
                and dataset.label_space.classes[data_ids[c.name]].keypoint_schema):
            kp[c.name] = _coco_eval(gt, results, 'keypoints', cat_ids=[cat_of_class[c.id]],
                                    sigmas=_oks_sigmas(c, dataset.label_space))
    report['keypoints_AP_per_class'] = kp
    report['keypoints_AP'] = float(np.mean(list(kp.values()))) if kp else None
    things = [c for c in ls.classes if c.is_thing and c.id in cat_of_class]
    for iou_type in ('bbox', 'segm'):
        report[f'{iou_type}_AP_per_class'] = {
            c.name: _coco_eval(gt, results, iou_type, cat_ids=[cat_of_class[c.id]])
            for c in things}
    pqr = pq.compute()
    no_pq = not pqr['per_class']  # no panoptic truth (e.g. YOLO labels): no PQ, not 0
    for key in ('pq', 'sq', 'rq'):
        report[key.upper()] = None if no_pq else pqr['all'][key]
    report['PQ_things'] = None if no_pq else pqr['things']['pq']
    report['PQ_stuff'] = None if no_pq else pqr['stuff']['pq']
    report['PQ_per_class'] = {ls.names[int(c)]: v['pq'] for c, v in pqr['per_class'].items()}
    return report


def format_report(report: Dict) -> str:
    """
    Format the report as a table: each metric's average, then its value per class.

    An average can hide a class at zero, so every per-class figure is printed beside it.
    """
    lines = []
    per_class = {'bbox_AP': 'bbox_AP_per_class', 'segm_AP': 'segm_AP_per_class',
                 'keypoints_AP': 'keypoints_AP_per_class', 'PQ': 'PQ_per_class'}
    for k in ('bbox_AP', 'segm_AP', 'keypoints_AP', 'PQ', 'SQ', 'RQ', 'PQ_things',
              'PQ_stuff', 'seconds_per_image'):
        v = report.get(k)
        line = f'{k:<18} {v:.4f}' if isinstance(v, float) else f'{k:<18} {v}'
        classes = report.get(per_class.get(k, ''), {})
        if classes:
            line += '  (' + ', '.join(f'{n} {x:.4f}' for n, x in classes.items()) + ')'
        lines.append(line)
    return '\n'.join(lines)


def main(argv=None):
    """Parse arguments, evaluate, write the JSON report and plots, print a table."""
    ap = argparse.ArgumentParser(prog='hydranet-eval', description=__doc__.strip().splitlines()[0])
    ap.add_argument('checkpoint', nargs='?', default='',
                    help='checkpoint (.pt) or ONNX file (default: the shipped weights)')
    src = ap.add_mutually_exclusive_group()
    src.add_argument('--coco-root', help='a COCO split folder (images/, annotations/)')
    src.add_argument('--synthetic-seed', type=int, default=None,
                     help='generate a synthetic split from this seed')
    src.add_argument('--yolo', metavar='DATA_YAML', help='a YOLO dataset (its --split)')
    ap.add_argument('--split', default='val', help='split of --yolo: train, val or test')
    ap.add_argument('--num-images', type=int, default=100)
    ap.add_argument('--size', default='480x640', help='HxW of generated images')
    ap.add_argument('--device', default='auto')
    ap.add_argument('--backend', default='torch', help='torch, onnxruntime or openvino')
    ap.add_argument('--score-threshold', type=float, default=0.05,
                    help='low, as COCO AP needs the whole precision-recall curve')
    ap.add_argument('--out', default='out/eval', help='folder for report.json and plots')
    args = ap.parse_args(argv)
    from hydranet_perception.engine.runtimes import make_predictor
    try:
        predictor = make_predictor(args.checkpoint, backend=args.backend, device=args.device,
                                   score_thresh=args.score_threshold)
    except (ValueError, OSError) as e:
        print(f'hydranet-eval: {e}', file=sys.stderr)
        return 2
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        if args.yolo:
            from hydranet_perception.data.yolo_export import open_yolo_truth
            try:
                dataset, truth = open_yolo_truth(args.yolo, split=args.split, out_dir=tmp)
            except ValueError as e:
                print(f'hydranet-eval: {e}', file=sys.stderr)
                return 2
            report = evaluate(predictor, dataset, truth, limit=args.num_images)
        else:
            if args.coco_root:
                root = args.coco_root
            else:
                seed = 999 if args.synthetic_seed is None else args.synthetic_seed
                h, w = (int(v) for v in args.size.lower().split('x'))
                root = tmp
                generate_synthetic_split(root, seed=seed, num_images=args.num_images,
                                         height=h, width=w)
            dataset = CocoDataset.from_split_dir(root)
            report = evaluate(predictor, dataset,
                              str(pathlib.Path(root) / 'annotations' / 'instances.json'),
                              limit=args.num_images)
            if 'depth' in predictor.tasks and not args.coco_root:  # generated: depth known
                from hydranet_perception.engine.metrics_depth import evaluate_depth
                report['depth'] = evaluate_depth(predictor, seed=seed,
                                                 num_images=args.num_images, height=h, width=w)
    report.update(checkpoint=str(predictor.weights_path), backend=args.backend,
                  data=(f'yolo {args.yolo} ({args.split})' if args.yolo else args.coco_root
                        or f'synthetic seed {args.synthetic_seed}'))
    (out / 'report.json').write_text(json.dumps(report, indent=2) + '\n')
    from hydranet_perception.engine.plots import plot_report
    plot_report(report, out / 'report.png')
    print(format_report(report))
    for method, regions in (report.get('depth') or {}).items():
        print(f'depth {method:27s} ' + ', '.join(
            f'{r} AbsRel {v["abs_rel"]:.3f} d1 {v["delta1"]:.3f}' for r, v in regions.items()))
    print(f'report: {out / "report.json"}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
