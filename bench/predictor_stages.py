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
Per-frame cost of the Predictor's stages and of the node's output work, per backend.

Usage (from the repository root)::

    .venv/bin/python bench/predictor_stages.py [--frames 60] [--threads 0]

For each backend, the shipped weights on 640x480 synthetic frames (a 30-frame sequence,
cycled), one frame at a time: median milliseconds of preprocess (letterbox), forward,
postprocess (decode, NMS, masks, keypoints, semantic labels, panoptic fusion), the
``InstanceArray`` message, the overlay, and the CPU time of the whole, per frame. No
ROS graph: this is what the node spends per frame besides DDS and its threads (see
``node_latency.py`` for end to end). One JSON line per backend. Not a test.
"""

import argparse
import json
import sys
import time

from hydranet_perception.data.synthetic import generate_sequence
from hydranet_perception.engine.runtimes import make_predictor
from hydranet_perception.overlay import draw_overlay
from hydranet_perception.ros.messages import instance_array_msg
import numpy as np
from std_msgs.msg import Header


def measure(backend: str, images, frames: int, threads: int, weights=None) -> dict:
    """Return the median stage times of ``frames`` frames on ``backend``."""
    predictor = make_predictor(weights, backend=backend, device='cpu', threads=threads or None)
    for image in images[:3]:  # warm-up
        predictor(image)
    rows = []
    for i in range(frames):
        image = images[i % len(images)]
        cpu0 = time.process_time()
        pred = predictor(image)
        t0 = time.perf_counter()
        instance_array_msg(pred, predictor.label_space, Header())
        t1 = time.perf_counter()
        draw_overlay(image, pred, predictor.label_space)
        t2 = time.perf_counter()
        rows.append({**{f'{k}_ms': v * 1e3 for k, v in predictor.last_timings.items()},
                     'instances_msg_ms': (t1 - t0) * 1e3, 'overlay_ms': (t2 - t1) * 1e3,
                     'cpu_ms': (time.process_time() - cpu0) * 1e3, 'instances': len(pred)})
    out = {'backend': predictor.backend_name, 'threads': threads, 'input': '640x480',
           'network_input': f'{predictor.input_size[1]}x{predictor.input_size[0]}',
           'frames': frames}
    for key in rows[0]:
        out[f'{key}_p50'] = round(float(np.median([r[key] for r in rows])), 2)
    out['predictor_ms_p50'] = round(float(np.median(
        [r['preprocess_ms'] + r['forward_ms'] + r['postprocess_ms'] for r in rows])), 2)
    out['date'] = time.strftime('%Y-%m-%d')
    return out


def main() -> int:
    """Parse arguments and measure each backend."""
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument('--backends', nargs='*', default=['torch', 'onnxruntime', 'openvino'])
    ap.add_argument('--frames', type=int, default=60)
    ap.add_argument('--threads', type=int, default=0, help='runtime threads (0 = default)')
    ap.add_argument('--weights', default=None, help='checkpoint (default: the shipped one)')
    args = ap.parse_args()
    images = [s.image for s in generate_sequence(4, 30, height=480, width=640)]
    for backend in args.backends:
        print(json.dumps(measure(backend, images, args.frames, args.threads, args.weights)),
              flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
