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
``hydranet-export CKPT``: ONNX (dynamic batch) with a parity report against PyTorch.

Writes ``<out>.onnx`` and ``<out>.parity.json``: the largest absolute difference of every
raw output between PyTorch and each runtime (onnxruntime, OpenVINO; TensorRT where it
exists) on generated images, and how the decoded ``Prediction`` agrees: detections
matched by class and box IoU (greedy by score, never row by row: where scores tie the
order of rows is rounding noise), with the matched and unmatched counts, the largest
box and score differences over the matches and the smallest box and mask IoU.
"""

import argparse
import json
import pathlib
import sys
from typing import Dict

from hydranet_perception.data.synthetic import generate_scene
from hydranet_perception.engine.runtimes import make_backend
from hydranet_perception.inference import Predictor
from hydranet_perception.model.checkpoint import CheckpointError, load_model
from hydranet_perception.model.export import export_onnx
from hydranet_perception.postprocess.letterbox import letterbox
from hydranet_perception.postprocess.match import compare_predictions
import torch

__all__ = ['compare_predictions', 'main', 'parity_report']


def parity_report(model, config, onnx_path: str, *, runtimes=('onnxruntime', 'openvino'),
                  num_images: int = 3, seed: int = 12345) -> Dict:
    """
    Compare raw outputs and Predictions of PyTorch against each runtime.

    Per runtime: ``raw_max_abs_diff`` (each raw output), ``predictions`` (one
    ``compare_predictions`` dict per image, PyTorch as A) and ``detections``, their
    sum over the images: ``matched``, ``only_torch``, ``only_runtime``,
    ``box_max_abs_px`` and ``score_max_abs`` over the matches, ``box_iou_min`` and
    ``mask_iou_min``.
    """
    h, w = config.input_size
    ref = Predictor(model=model, config=config, device='cpu', score_thresh=0.3)
    report = {}
    for name in runtimes:
        try:
            backend = make_backend(name, onnx_path)
        except (ImportError, ValueError, RuntimeError) as e:
            report[name] = {'skipped': str(e)}
            continue
        other = Predictor(backend=backend, config=config, score_thresh=0.3)
        raw_diff: Dict[str, float] = {}
        preds = []
        for i in range(num_images):
            rgb = generate_scene((seed, i), height=h * 3 // 2, width=w * 3 // 2).image
            x, _ = letterbox(rgb, (h, w))
            with torch.inference_mode():
                a = {k: v.float() for k, v in model.eval()(x[None]).items()}
            b = {k: torch.as_tensor(v) for k, v in backend.run(x[None], backend.tasks).items()}
            for k in a:
                d = float((a[k] - b[k].to(a[k].dtype)).abs().max())
                raw_diff[k] = max(raw_diff.get(k, 0.0), d)
            preds.append(compare_predictions(ref(rgb), other(rgb)))
        report[name] = {'raw_max_abs_diff': raw_diff, 'predictions': preds,
                        'detections': _summarise(preds)}
    return report


def _summarise(preds) -> Dict:
    """Combine per-image ``compare_predictions`` dicts: counts summed, extremes kept."""
    def worst(key, pick, empty):
        return pick((p[key] for p in preds if key in p), default=empty)
    return {'matched': sum(p['matched'] for p in preds),
            'only_torch': sum(p['unmatched_a'] for p in preds),
            'only_runtime': sum(p['unmatched_b'] for p in preds),
            'box_max_abs_px': worst('box_max_abs_px', max, 0.0),
            'score_max_abs': worst('score_max_abs', max, 0.0),
            'box_iou_min': worst('box_iou_min', min, 1.0),
            'mask_iou_min': worst('mask_iou_min', min, 1.0)}


def main(argv=None):
    """Parse arguments, export, check parity, write the report."""
    ap = argparse.ArgumentParser(prog='hydranet-export',
                                 description=__doc__.strip().splitlines()[0])
    ap.add_argument('checkpoint', help='a .pt from hydranet-train')
    ap.add_argument('--out', help='output .onnx (default: beside the checkpoint)')
    ap.add_argument('--height', type=int, help='input height (default: the config)')
    ap.add_argument('--width', type=int, help='input width (default: the config)')
    ap.add_argument('--tasks', nargs='*', help='heads to export (default: all)')
    ap.add_argument('--static-batch', action='store_true', help='fixed batch of 1')
    ap.add_argument('--no-parity', action='store_true', help='skip the parity report')
    ap.add_argument('--runtimes', nargs='*', default=['onnxruntime', 'openvino', 'tensorrt'])
    args = ap.parse_args(argv)
    try:
        model, config, _ = load_model(args.checkpoint)
    except (CheckpointError, OSError) as e:
        print(f'hydranet-export: {e}', file=sys.stderr)
        return 2
    h = args.height or config.input_size[0]
    w = args.width or config.input_size[1]
    out = pathlib.Path(args.out or pathlib.Path(args.checkpoint).with_suffix('.onnx'))
    export_onnx(model.eval(), out, tasks=args.tasks, height=h, width=w,
                dynamic_batch=not args.static_batch)
    print(f'wrote {out} ({out.stat().st_size / 1e6:.1f} MB), input 1x3x{h}x{w}'
          f'{"" if args.static_batch else " (dynamic batch)"}')
    if args.no_parity:
        return 0
    report = parity_report(model, config, str(out), runtimes=tuple(args.runtimes))
    path = out.with_suffix('.parity.json')
    path.write_text(json.dumps(report, indent=2) + '\n')
    for name, r in report.items():
        if 'skipped' in r:
            print(f'{name:<12} skipped: {r["skipped"]}')
            continue
        worst = max(r['raw_max_abs_diff'].values())
        d = r['detections']
        print(f'{name:<12} raw max |diff| {worst:.2e}; detections matched {d["matched"]}, '
              f'only in torch {d["only_torch"]}, only in {name} {d["only_runtime"]}; '
              f'max box |diff| {d["box_max_abs_px"]:.3f} px; min box IoU '
              f'{d["box_iou_min"]:.4f}; min mask IoU {d["mask_iou_min"]:.4f}')
    print(f'parity report: {path}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
