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
``hydranet-demo``: play a recorded bag through the real node and keep what it says.

Starts ``hydranet_node`` (its console script, own process) and ``hydranet-bag play``
(own process), listens to the node's outputs from this process, and writes to the
output folder: ``overlay.mp4``, ``instances.jsonl`` (one line per processed frame),
``summary.json`` (frames in / processed / dropped, latency p50/p95, fps), and prints the
summary as a table.
"""

import argparse
import json
import pathlib
import subprocess
import sys
import time

from hydranet_perception.bag.bag_io import bag_info
from hydranet_perception.ros.launcher import BIN, node_env, share_file, start_node, \
    stop_process, watch_pipeline
from hydranet_perception.ros.messages import decode_instance
from hydranet_perception_msgs.msg import InstanceArray, ModelInfo
import numpy as np
import rclpy
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image


class Collector:
    """Subscribe to the node's outputs and write them as they come."""

    def __init__(self, node, out_dir: pathlib.Path, ns: str):
        self.node = node
        self.out_dir = out_dir
        self.instances = open(out_dir / 'instances.jsonl', 'w')
        self.video = None
        self.frames = 0
        self.model_info = None
        self.diag = {}
        self.first_at = self.last_at = None
        qos = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
        latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
        node.create_subscription(InstanceArray, f'{ns}/instances', self.on_instances, qos)
        node.create_subscription(Image, f'{ns}/overlay', self.on_overlay, qos)
        node.create_subscription(ModelInfo, f'{ns}/model_info', self.on_info, latched)
        watch_pipeline(node, self.diag, depth=100)

    def on_info(self, msg):
        self.model_info = msg

    def on_instances(self, msg):
        now = time.monotonic()
        self.first_at = self.first_at or now
        self.last_at = now
        self.frames += 1
        line = {'stamp': msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9,
                'frame_id': msg.header.frame_id, 'instances': []}
        for inst in msg.instances:
            d = decode_instance(inst)
            line['instances'].append({
                'id': d.id, 'track_id': int(inst.track_id), 'class_id': d.class_id,
                'class_name': inst.class_name,
                'score': round(d.score, 4), 'box': [round(float(v), 2) for v in d.box],
                'mask_area': int(d.mask.sum()) if d.mask is not None else None,
                'mask_rle': [int(c) for c in inst.mask_rle],
                'keypoints': [[round(float(v), 2) for v in k] for k in d.keypoints]})
        self.instances.write(json.dumps(line) + '\n')

    def on_overlay(self, msg):
        import cv2
        rgb = np.frombuffer(bytes(msg.data), np.uint8).reshape(msg.height, msg.width, 3)
        if self.video is None:
            self.video = cv2.VideoWriter(str(self.out_dir / 'overlay.mp4'),
                                         cv2.VideoWriter_fourcc(*'mp4v'), 30.0,
                                         (msg.width, msg.height))
            cv2.imwrite(str(self.out_dir / 'overlay_first.png'), rgb[..., ::-1])
        self.video.write(np.ascontiguousarray(rgb[..., ::-1]))

    def close(self):
        self.instances.close()
        if self.video is not None:
            self.video.release()


def _spin_until(node, predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not predicate():
        rclpy.spin_once(node, timeout_sec=0.05)
    return predicate()


def run_demo(*, bag: str, out_dir: str, weights: str = '', backend: str = 'auto',
             rate: float = 1.0, params: dict = None, ns: str = '/demo') -> dict:
    """Play ``bag`` through hydranet_node and write the demo outputs; return the summary."""
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    env = node_env()
    # One image transport, as a user sets it: compressed when the bag holds JPEG/PNG.
    types = {t['type'] for t in bag_info(bag)['topics'].values()}
    transport = 'compressed' if 'sensor_msgs/msg/CompressedImage' in types else 'raw'
    node_params = {'weights': weights, 'backend': backend, 'diagnostics_period': 0.5,
                   'image_transport': transport}
    node_params.update(params or {})
    node_proc = start_node(out, 'node', params=node_params, namespace=ns, env=env, remaps={
        'image': '/camera/image_raw', 'image/compressed': '/camera/image_raw/compressed',
        'camera_info': '/camera/camera_info'})
    rclpy.init()
    node = rclpy.create_node('hydranet_demo_collector')
    col = Collector(node, out, f'{ns}/hydranet')
    try:
        if not _spin_until(node, lambda: col.model_info is not None
                           or node_proc.poll() is not None, 120):
            raise RuntimeError('the node did not come up in 120 s; see ' + str(out / 'node.log'))
        if node_proc.poll() is not None:
            raise RuntimeError('the node exited; see ' + str(out / 'node.log'))
        play = subprocess.Popen(
            [str(BIN / 'hydranet-bag'), 'play', str(bag), '--rate', str(rate),
             # a matched best-effort reader can still miss the first large frame while
             # the shared-memory channel opens: give it half a second
             '--wait-for-subscribers', '1', '--delay', '0.5'],
            stdout=open(out / 'play.log', 'w'), stderr=subprocess.STDOUT, env=env,
            start_new_session=True)
        t0 = time.monotonic()
        _spin_until(node, lambda: play.poll() is not None, 600)
        # Let the last frame through the model, then read the final counters.
        _spin_until(node, lambda: False, 2.0)
        settled = col.diag.get('frames_in')
        _spin_until(node, lambda: col.diag.get('frames_in') == settled and
                    int(col.diag.get('frames_processed', 0)) + int(col.diag.get(
                        'frames_dropped', 0)) + int(col.diag.get('frames_rejected', 0))
                    >= int(settled or 0), 10.0)
        wall = time.monotonic() - t0
    finally:
        col.close()
        stop_process(node_proc)
        node.destroy_node()
        rclpy.try_shutdown()
    d = col.diag
    info = bag_info(bag)['topics']
    image_msgs = sum(t['count'] for t in info.values() if t['type'].endswith('Image'))
    span = (col.last_at - col.first_at) if col.frames > 1 else 0.0
    summary = {
        'bag': str(bag),
        'weights': col.model_info.weights_path if col.model_info else weights,
        'backend': col.model_info.backend if col.model_info else backend,
        'frames_in_bag': image_msgs,
        'frames_in': int(d.get('frames_in', 0)),
        'frames_processed': int(d.get('frames_processed', 0)),
        'frames_dropped': int(d.get('frames_dropped', 0)),
        'frames_rejected': int(d.get('frames_rejected', 0)),
        'frames_received_here': col.frames,
        'latency_ms_p50': round(float(d.get('latency_ms_p50', 0.0)), 2),
        'latency_ms_p95': round(float(d.get('latency_ms_p95', 0.0)), 2),
        'model_ms_p50': round(float(d.get('model_ms_p50', 0.0)), 2),
        'fps': round((col.frames - 1) / span, 2) if span > 0 else 0.0,
        'wall_s': round(wall, 2),
    }
    (out / 'summary.json').write_text(json.dumps(summary, indent=2) + '\n')
    return summary


def print_table(summary: dict):
    """Print the summary as a two-column table."""
    width = max(len(k) for k in summary)
    print('-' * (width + 30))
    for k, v in summary.items():
        print(f'{k:<{width}}  {v}')
    print('-' * (width + 30))


def main(argv=None):
    """Parse arguments and run the demo."""
    ap = argparse.ArgumentParser(prog='hydranet-demo', description=__doc__.strip().splitlines()[0])
    ap.add_argument('--bag', default=share_file('data/sample_bag'),
                    help='rosbag2 folder to play (default: the shipped sample bag)')
    ap.add_argument('--out', default='out/demo', help='output folder')
    ap.add_argument('--weights', default='', help='checkpoint (default: shipped weights)')
    ap.add_argument('--backend', default='auto',
                    help='auto (default), torch, onnxruntime, openvino or tensorrt')
    ap.add_argument('--rate', type=float, default=1.0, help='playback rate (1 = real time)')
    args = ap.parse_args(argv)
    try:
        summary = run_demo(bag=args.bag, out_dir=args.out, weights=args.weights,
                           backend=args.backend, rate=args.rate)
    except (RuntimeError, FileNotFoundError) as e:
        print(f'hydranet-demo: {e}', file=sys.stderr)
        return 1
    print_table(summary)
    print(f'outputs in {args.out}: overlay.mp4, instances.jsonl, summary.json')
    return 0 if summary['frames_processed'] > 0 else 1


if __name__ == '__main__':
    sys.exit(main())
