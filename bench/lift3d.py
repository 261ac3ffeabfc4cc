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
3D position error of the lifting stage on held-out generated scenes with a depth camera.

Usage (from the repository root)::

    .venv/bin/python bench/lift3d.py [--scenes 60] [--seed 20260013] [--model]

Scenes come from ``generate_scene((--seed, i), depth=True)`` (a seed no training split
uses): a calibrated, slightly distorted camera (plumb_bob), things at 0.5-4 m, and the
generator's depth-camera noise (sigma = 0.0025 * z**2 m, 1 mm steps, pixels missing at
depth edges and at random; ``data/synthetic_depth.py``).

The 2D input is the ground truth (visible masks, boxes, and the visible keypoints, v = 2)
so that the figures measure the lifting alone; with ``--model`` the shipped weights
(onnxruntime, 320x256) give the 2D input instead, matched to the truth by class and mask
IoU >= 0.5 (their errors then include the model's 2D errors).

Figures: the median and 90th percentile of the 3D distance between each instance's
lifted position and its true centroid (all instances with depth, and those at 1-3 m, the
issue's goal range), per class and over all; the same for keypoints visible in the
image (v = 2) that got a 3D point, and the share that did; and the stage's milliseconds
per frame at 20 instances (640x480, ``Lift3D`` on a ground-truth Prediction, median of
5 calls per scene after one untimed call: a camera's ray map is computed once per run).
One JSON line per group, then the summary line.
"""

import argparse
import json
import time

from hydranet_perception.data.synthetic import generate_scene
from hydranet_perception.inference.lift3d_stage import Lift3D
from hydranet_perception.inference.stages import FrameContext
from hydranet_perception.prediction import Prediction
from hydranet_perception.schema import default_label_space
import numpy as np

LS = default_label_space()
K_MAX = max(c.keypoint_schema.num_keypoints for c in LS.classes if c.keypoint_schema)


def emit(**fields):
    """Print one JSON line."""
    print(json.dumps(fields), flush=True)


def truth_prediction(scene) -> Prediction:
    """Return the scene's visible ground truth as the stage's 2D input."""
    n = len(scene.instances)
    kps = np.zeros((n, K_MAX, 3), np.float32)
    for i, inst in enumerate(scene.instances):
        k = len(inst.keypoints)
        kps[i, :k, :2] = inst.keypoints[:, :2]
        kps[i, :k, 2] = inst.keypoints[:, 2] == 2
    return Prediction(
        image_size=(scene.height, scene.width),
        boxes=np.stack([i.box for i in scene.instances]).astype(np.float32)
        if n else np.zeros((0, 4), np.float32),
        scores=np.ones(n, np.float32),
        class_ids=np.array([i.class_id for i in scene.instances], np.int64),
        masks=np.stack([i.mask for i in scene.instances]) if n
        else np.zeros((0, scene.height, scene.width), bool),
        keypoints=kps, instance_ids=np.arange(1, n + 1, dtype=np.int64))


def context(scene) -> FrameContext:
    """Return the frame context with the scene's depth and camera."""
    return FrameContext('cam', 0, 0, 'cam', (scene.height, scene.width), LS,
                        depth=scene.depth, camera_model=scene.camera_info)


def match(pred: Prediction, scene):
    """Yield (row in pred, instance) pairs matched by class and mask IoU >= 0.5."""
    used = set()
    for j, inst in enumerate(scene.instances):
        best, best_iou = -1, 0.5
        for i in range(len(pred)):
            if i in used or int(pred.class_ids[i]) != inst.class_id:
                continue
            inter = np.count_nonzero(pred.masks[i] & inst.mask)
            iou = inter / max(np.count_nonzero(pred.masks[i] | inst.mask), 1)
            if iou >= best_iou:
                best, best_iou = i, iou
        if best >= 0:
            used.add(best)
            yield best, inst


def stats(values):
    """Return the median and 90th percentile (None when empty) and the count."""
    v = np.asarray(values, np.float64)
    if v.size == 0:
        return {'median': None, 'p90': None, 'n': 0}
    return {'median': round(float(np.median(v)), 5),
            'p90': round(float(np.percentile(v, 90)), 5), 'n': int(v.size)}


def errors(args, predictor=None):
    """Return per class the instance and keypoint distances to the truth, in metres."""
    inst_err, inst_err_13, kp_err = {}, {}, {}
    kp_total = kp_lifted = 0
    stage = Lift3D()
    for s in range(args.scenes):
        scene = generate_scene((args.seed, s), num_objects=(3, 8), depth=True)
        if not scene.instances:
            continue
        if predictor is None:
            pred = truth_prediction(scene)
            pairs = list(enumerate(scene.instances))
        else:
            pred = predictor(scene.image)
            pairs = list(match(pred, scene))
        out = stage(pred, context(scene))
        for i, inst in pairs:
            name = LS.names[inst.class_id]
            if out.depth_pixels[i] > 0:
                e = float(np.linalg.norm(out.positions[i] - inst.position))
                inst_err.setdefault(name, []).append(e)
                if 1.0 <= inst.position[2] <= 3.0:
                    inst_err_13.setdefault(name, []).append(e)
            k = len(inst.keypoints)
            visible = inst.keypoints[:, 2] == 2
            kp_total += int(visible.sum())
            if k == 0 or out.keypoints_3d is None:
                continue
            got = visible & (out.keypoints_3d[i, :k, 3] > 0)
            kp_lifted += int(got.sum())
            d = np.linalg.norm(out.keypoints_3d[i, :k, :3][got] - inst.keypoints_3d[got], axis=1)
            kp_err.setdefault(name, []).extend(d.tolist())
    return inst_err, inst_err_13, kp_err, kp_lifted / max(kp_total, 1)


def stage_ms(args) -> float:
    """Return the stage's median milliseconds per frame at 20 instances."""
    times = []
    stage = Lift3D()
    done = 0
    s = 0
    while done < args.timing_scenes:
        scene = generate_scene((args.seed + 1, s), num_objects=(20, 20), depth=True,
                               min_visible_area=64)
        s += 1
        if len(scene.instances) != 20:
            continue
        pred, ctx = truth_prediction(scene), context(scene)
        stage(pred, ctx)  # the camera's ray map, once per camera
        for _ in range(5):
            t0 = time.perf_counter()
            stage(pred, ctx)
            times.append(time.perf_counter() - t0)
        done += 1
    return float(np.median(times) * 1e3)


def report(source, inst_err, inst_err_13, kp_err, kp_share):
    """Emit one line per class and one over all; return the overall figures."""
    for name in sorted(set(inst_err) | set(kp_err)):
        emit(source=source, cls=name, instance_position_error_m=stats(inst_err.get(name, [])),
             instance_position_error_1_3m=stats(inst_err_13.get(name, [])),
             keypoint_position_error_m=stats(kp_err.get(name, [])))
    every = [e for v in inst_err.values() for e in v]
    every_13 = [e for v in inst_err_13.values() for e in v]
    every_kp = [e for v in kp_err.values() for e in v]
    overall = {'instance_position_error_m': stats(every),
               'instance_position_error_1_3m': stats(every_13),
               'keypoint_position_error_m': stats(every_kp),
               'keypoints_lifted_share': round(kp_share, 4)}
    emit(source=source, cls='all', **overall)
    return overall


def main(argv=None):
    """Run the bench; the last line is the summary."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    parser.add_argument('--scenes', type=int, default=60)
    parser.add_argument('--timing-scenes', type=int, default=10)
    parser.add_argument('--seed', type=int, default=20260013)
    parser.add_argument('--model', action='store_true',
                        help="also lift the shipped model's 2D output")
    args = parser.parse_args(argv)
    overall = report('ground_truth_2d', *errors(args))
    summary = {'summary': True, 'input_2d': 'ground_truth', 'depth': 'depth_camera',
               'scenes': args.scenes, **{k: {'median': v['median'], 'p90': v['p90']}
                                         if isinstance(v, dict) else v
                                         for k, v in overall.items()}}
    if args.model:
        from hydranet_perception.inference import Predictor
        predictor = Predictor.from_weights(None, backend='onnxruntime')
        model = report('model_2d', *errors(args, predictor))
        summary['model_2d'] = {k: {'median': v['median'], 'p90': v['p90']}
                               if isinstance(v, dict) else v for k, v in model.items()}
    summary['ms_per_frame_20'] = round(stage_ms(args), 3)
    summary['goals'] = {'instance_median_1_3m_m': 0.03, 'keypoint_median_m': 0.05,
                        'ms_per_frame_20': 2.0}
    emit(**summary)


if __name__ == '__main__':
    main()
