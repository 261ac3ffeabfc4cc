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
Cost of HydraNet (params, GFLOPs, CPU latency) against Ultralytics YOLOv8n-seg + -pose.

Usage (from the repository root)::

    PYTHONPATH=hydranet_perception .venv/bin/python bench/model_cost.py [--runs 10]

Prints one JSON object per line: a line per HydraNet size ('n', 's'), task subset
and input size (params of the parts that run, GFLOPs from
``torch.utils.flop_counter``, median eager-PyTorch CPU latency of batch 1 with
``--threads`` threads), onnxruntime lines for all heads, lines for the Ultralytics
models built from their YAML files (random weights, ``pip install ultralytics``; a line
says so when it is not installed), and a final ``summary`` line with
``ratio_all_heads_vs_seg_plus_pose``: HydraNet-n with all four heads in one pass over
YOLOv8n-seg followed by YOLOv8n-pose, at the same input size and backend (goal <= 0.6).

Fairness: the comparison latencies are measured interleaved (one pass of each model in
turn, repeated), so load from other processes hits all models alike; neither model has
its batch norms fused in eager PyTorch (onnxruntime folds them for both); Ultralytics'
eval forward includes its in-graph box decoding, HydraNet's raw forward does not (its
decoding runs after NMS candidate selection, outside the graph).
GFLOPs count a multiply-add as two FLOPs, as Ultralytics does.

``--new-heads`` measures instead what the depth and identity heads cost on HydraNet-n:
params, GFLOPs and interleaved latency of the shipped four heads with and without
each, every head's latency alone on the same features, and a last line
``{"summary": true, "added": {input: {head: {"params_m", "gflops", "latency_ms",
"head_alone_ms"}}}}`` (differences of whole passes, and the head alone).
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

from hydranet_perception.model import build_model, ModelConfig
from hydranet_perception.model.export import export_onnx
import torch
from torch.utils.flop_counter import FlopCounterMode

SUBSETS = {'detect': ('detect',), 'detect+masks': ('detect', 'masks'),
           'detect+keypoints': ('detect', 'keypoints'), 'semantic': ('semantic',),
           'all': ('detect', 'masks', 'semantic', 'keypoints')}
INPUTS = {'640x480': (480, 640), '640x640': (640, 640)}


def emit(**fields):
    """Print one JSON line."""
    print(json.dumps(fields), flush=True)


def gflops(fn, x) -> float:
    """Return the GFLOPs of one call ``fn(x)``."""
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        fn(x)
    return round(counter.get_total_flops() / 1e9, 3)


def interleaved_ms(fns, x, *, runs: int, warmup: int = 2):
    """Median latency (ms) of each callable, measured one after another, repeated."""
    times = [[] for _ in fns]
    with torch.no_grad():
        for _ in range(warmup):
            for fn in fns:
                fn(x)
        for _ in range(runs):
            for i, fn in enumerate(fns):
                t0 = time.perf_counter()
                fn(x)
                times[i].append((time.perf_counter() - t0) * 1e3)
    return [round(statistics.median(t), 2) for t in times]


def used_params(model, tasks) -> int:
    """Parameters of the backbone, neck and the heads that run for ``tasks``."""
    parts = [model.backbone, model.neck] + [model.heads[t] for t in model.resolve_tasks(tasks)]
    return sum(p.numel() for m in parts for p in m.parameters())


def ultralytics_models():
    """Return {'yolov8n-seg': model, 'yolov8n-pose': model} or None if not installed."""
    try:
        from ultralytics.nn.tasks import PoseModel, SegmentationModel
    except ImportError as e:
        emit(model='ultralytics', available=False, reason=f'cannot import ultralytics: {e}',
             hint='pip install ultralytics (benchmark only)')
        return None
    return {'yolov8n-seg': SegmentationModel('yolov8n-seg.yaml', verbose=False).eval(),
            'yolov8n-pose': PoseModel('yolov8n-pose.yaml', verbose=False).eval()}


class Flat(torch.nn.Module):
    """Flatten a model's nested tuple/list outputs into a tuple of tensors (for ONNX)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        out = []

        def walk(v):
            if torch.is_tensor(v):
                out.append(v)
            elif isinstance(v, dict):
                for w in v.values():
                    walk(w)
            elif isinstance(v, (list, tuple)):
                for w in v:
                    walk(w)
        walk(self.model(x))
        return tuple(out)


def ort_session(path, threads):
    """Return an onnxruntime CPU session with ``threads`` intra-op threads."""
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=['CPUExecutionProvider'])


def ort_runner(sess):
    """Return a callable running ``sess`` on a torch tensor."""
    name = sess.get_inputs()[0].name
    return lambda x: sess.run(None, {name: x.numpy()})


def export_plain(model, path, h, w):
    """Export any module (flattened outputs) to ONNX, batch 1."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        torch.onnx.export(Flat(model).eval(), (torch.rand(1, 3, h, w),), str(path),
                          opset_version=17, dynamo=False)


NEW_HEAD_SUBSETS = {
    'shipped': ('detect', 'masks', 'semantic', 'keypoints'),
    'shipped+identity': ('detect', 'masks', 'semantic', 'keypoints', 'identity'),
    'shipped+depth': ('detect', 'masks', 'semantic', 'keypoints', 'depth'),
    'shipped+depth+identity': ('detect', 'masks', 'semantic', 'keypoints', 'depth',
                               'identity')}


def new_heads_cost(args) -> int:
    """Print the cost of the depth and identity heads (see the module docstring)."""
    model = build_model(ModelConfig(size='n', heads=NEW_HEAD_SUBSETS['shipped+depth+identity'],
                                    input_size=(256, 320))).eval()
    added = {}
    for in_name, (h, w) in {'320x256': (256, 320), **INPUTS}.items():
        x = torch.rand(1, 3, h, w)
        fns = [lambda x, t=tasks: model(x, tasks=t) for tasks in NEW_HEAD_SUBSETS.values()]
        lat = interleaved_ms(fns, x, runs=args.runs)
        rows = {}
        for (name, tasks), ms in zip(NEW_HEAD_SUBSETS.items(), lat):
            rows[name] = {'params_m': round(used_params(model, tasks) / 1e6, 3),
                          'gflops': gflops(lambda x, t=tasks: model(x, tasks=t), x),
                          'latency_ms': ms}
            emit(model='hydranet-n', tasks=name, input=in_name, backend='torch', **rows[name])
        added[in_name] = {head: {k: round(rows[f'shipped+{head}'][k] - rows['shipped'][k], 3)
                                 for k in ('params_m', 'gflops', 'latency_ms')}
                          for head in ('identity', 'depth')}
        # Each head alone on the same features: steadier than differences of whole passes.
        with torch.no_grad():
            feats = model.neck(model.backbone(x))
        names = list(model.heads)
        alone = interleaved_ms([lambda x, n=n: model.heads[n](feats) for n in names], x,
                               runs=args.runs)
        emit(model='hydranet-n', input=in_name, backend='torch', head_alone_ms=dict(
            zip(names, alone)))
        for head in ('identity', 'depth'):
            added[in_name][head]['head_alone_ms'] = alone[names.index(head)]
    emit(summary=True, threads=args.threads, runs=args.runs, added=added)
    return 0


def keypoint_refine_cost(args) -> int:
    """Print the cost of the keypoint refinement (see the module docstring)."""
    plain = build_model(ModelConfig(size='n', input_size=(256, 320))).eval()
    refine = build_model(ModelConfig(size='n', input_size=(256, 320),
                                     keypoint_refine=True)).eval()
    refine.load_state_dict(plain.state_dict(), strict=False)
    added = {}
    for in_name, (h, w) in {'320x256': (256, 320), '640x480': (480, 640)}.items():
        x = torch.rand(1, 3, h, w)
        torch_ms = interleaved_ms([plain, refine], x, runs=args.runs)
        with tempfile.TemporaryDirectory() as tmp:
            runners = []
            for name, model in (('plain', plain), ('refine', refine)):
                path = os.path.join(tmp, f'{name}.onnx')
                export_onnx(model, path, height=h, width=w, dynamic_batch=False)
                runners.append(ort_runner(ort_session(path, args.threads)))
            ort_ms = interleaved_ms(runners, x, runs=args.runs)
        rows = {}
        for i, (name, model) in enumerate((('plain', plain), ('refine', refine))):
            rows[name] = {'params_m': round(used_params(model, None) / 1e6, 3),
                          'gflops': gflops(model, x), 'torch_ms': torch_ms[i],
                          'onnxruntime_ms': ort_ms[i]}
            emit(model='hydranet-n', keypoint_refine=name == 'refine', input=in_name,
                 **rows[name])
        added[in_name] = {k: round(rows['refine'][k] - rows['plain'][k], 3)
                          for k in rows['plain']}
    emit(summary=True, threads=args.threads, runs=args.runs, added=added)
    return 0


def main(argv=None):
    """Measure and print the JSON lines."""
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument('--runs', type=int, default=10, help='timed runs per measurement')
    ap.add_argument('--threads', type=int, default=2, help='CPU threads (torch and ORT)')
    ap.add_argument('--sizes', default='n,s', help='HydraNet sizes')
    ap.add_argument('--new-heads', action='store_true',
                    help='measure the depth and identity heads instead')
    ap.add_argument('--keypoint-refine', action='store_true',
                    help='measure the keypoint refinement instead')
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.new_heads:
        return new_heads_cost(args)
    if args.keypoint_refine:
        return keypoint_refine_cost(args)
    emit(env=True, torch=torch.__version__, threads=args.threads, runs=args.runs,
         cpu_count=os.cpu_count(), python=sys.version.split()[0])
    models = {s: build_model(ModelConfig(size=s)).eval() for s in args.sizes.split(',')}
    for size, model in models.items():
        for in_name, (h, w) in INPUTS.items():
            x = torch.rand(1, 3, h, w)
            fns = [lambda x, t=tasks: model(x, tasks=t) for tasks in SUBSETS.values()]
            lat = interleaved_ms(fns, x, runs=args.runs)
            for (name, tasks), ms in zip(SUBSETS.items(), lat):
                emit(model=f'hydranet-{size}', tasks=name, input=in_name, backend='torch',
                     params_m=round(used_params(model, tasks) / 1e6, 3),
                     gflops=gflops(lambda x, t=tasks: model(x, tasks=t), x), latency_ms=ms)
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, 'hydranet.onnx')
                export_onnx(model, path, height=h, width=w, dynamic_batch=False)
                (ms,) = interleaved_ms([ort_runner(ort_session(path, args.threads))], x,
                                       runs=args.runs)
            emit(model=f'hydranet-{size}', tasks='all', input=in_name, backend='onnxruntime',
                 latency_ms=ms)
    ours = models.get('n') or build_model(ModelConfig(size='n')).eval()
    theirs = ultralytics_models()
    summary = {'summary': True, 'goal': 0.6, 'threads': args.threads}
    ratios, gratios = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for in_name, (h, w) in INPUTS.items():
            x = torch.rand(1, 3, h, w)
            path = os.path.join(tmp, f'hydranet_n_{h}x{w}.onnx')
            export_onnx(ours, path, height=h, width=w, dynamic_batch=False)
            ort_ours = ort_runner(ort_session(path, args.threads))
            if theirs is None:
                continue
            seg, pose = theirs['yolov8n-seg'], theirs['yolov8n-pose']
            for name, m in theirs.items():
                emit(model=name, input=in_name, params_m=round(
                    sum(p.numel() for p in m.parameters()) / 1e6, 3), gflops=gflops(m, x))
            t_ours, t_seg, t_pose = interleaved_ms([lambda x: ours(x), seg, pose], x,
                                                   runs=args.runs)
            sessions = []
            for name, m in theirs.items():
                p = os.path.join(tmp, f'{name}_{h}x{w}.onnx')
                export_plain(m, p, h, w)
                sessions.append(ort_runner(ort_session(p, args.threads)))
            o_ours, o_seg, o_pose = interleaved_ms([ort_ours] + sessions, x, runs=args.runs)
            for backend, a, b, c in (('torch', t_ours, t_seg, t_pose),
                                     ('onnxruntime', o_ours, o_seg, o_pose)):
                emit(comparison=True, input=in_name, backend=backend,
                     hydranet_n_all_heads_ms=a, yolov8n_seg_ms=b, yolov8n_pose_ms=c,
                     seg_plus_pose_ms=round(b + c, 2), ratio=round(a / (b + c), 3))
                ratios[f'{backend}_{in_name}'] = round(a / (b + c), 3)
            g_ours = gflops(lambda x: ours(x), x)
            gratios[in_name] = round(g_ours / (gflops(seg, x) + gflops(pose, x)), 3)
    if ratios:
        summary['ratio_all_heads_vs_seg_plus_pose'] = ratios
        summary['gflops_ratio_all_heads_vs_seg_plus_pose'] = gratios
        summary['goal_met'] = all(r <= 0.6 for r in ratios.values())
    else:
        summary['ratio_all_heads_vs_seg_plus_pose'] = None
        summary['reason'] = 'ultralytics not installed'
    emit(**summary)
    return 0


if __name__ == '__main__':
    sys.exit(main())
