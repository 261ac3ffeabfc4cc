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
Soak: many frames through one hydranet_node, and what happens to its memory.

Starts ``hydranet_node`` (own process, shipped weights, ``--backend``), publishes
``--frames`` 640x480 rgb8 frames at ``--hz`` from this process (pre-serialized, as
bench/node_latency.py does), subscribes to every output (instances, panoptic, segments,
semantic, overlay: raw bytes), and samples the node's resident memory (RSS) every
``--sample-every`` frames. Prints one JSON line per sample and a last summary line:
frames sent / received, the node's counters, latency p50/p95 over the run, RSS after
the warm-up and at the end, its growth in percent and the slope of a least-squares
line through the samples after the warm-up (KiB per 1000 frames). Not a test: run it
on an otherwise idle machine (``--frames 10000`` at 30 Hz takes ~6 minutes).
"""

import argparse
import importlib
import json
import os
import pathlib
import sys
import time

from diagnostic_msgs.msg import DiagnosticArray
from hydranet_perception_msgs.msg import InstanceArray, ModelInfo, PanopticInfo
import numpy as np
import rclpy
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
node_latency = importlib.import_module('node_latency')  # the node and frames, shared


def rss_kib(pid: int) -> int:
    """Resident memory of a process in KiB (Linux /proc)."""
    for line in pathlib.Path(f'/proc/{pid}/status').read_text().splitlines():
        if line.startswith('VmRSS:'):
            return int(line.split()[1])
    return 0


def main():
    """Parse arguments, soak the node, print JSON lines."""
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument('--frames', type=int, default=10000)
    ap.add_argument('--hz', type=float, default=30.0)
    ap.add_argument('--backend', default='auto')
    ap.add_argument('--sample-every', type=int, default=500)
    ap.add_argument('--warmup', type=int, default=500,
                    help='frames before the RSS baseline (allocators and caches settle)')
    args = ap.parse_args()
    node_latency.bench_env()
    frames = node_latency.serialized_frames()
    rclpy.init()
    node = rclpy.create_node('hydranet_soak')
    tmp = pathlib.Path(os.environ.get('TMPDIR', '/tmp')) / f'hydranet_soak_{os.getpid()}'
    tmp.mkdir(parents=True, exist_ok=True)
    proc = node_latency.start_node(tmp, 'soak', {'backend': args.backend,
                                                 'diagnostics_period': 1.0})
    lat, diag, info = [], {}, []
    qos = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
    ns = '/bench/hydranet'
    node.create_subscription(
        InstanceArray, f'{ns}/instances',
        lambda m: lat.append(time.time() - node_latency._stamp(m)), qos, raw=True)
    for msg_type, topic in ((Image, 'panoptic'), (PanopticInfo, 'panoptic/segments'),
                            (Image, 'semantic'), (Image, 'overlay')):
        node.create_subscription(msg_type, f'{ns}/{topic}', lambda m: None, qos, raw=True)
    node.create_subscription(DiagnosticArray, '/diagnostics', lambda m: diag.update(
        {kv.key: kv.value for s in m.status if s.name == f'{ns}: pipeline'
         for kv in s.values}), qos)
    node.create_subscription(ModelInfo, f'{ns}/model_info', info.append, QoSProfile(
        depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL,
        reliability=ReliabilityPolicy.RELIABLE))
    pub = node.create_publisher(Image, '/bench/image', QoSProfile(
        depth=1, reliability=ReliabilityPolicy.BEST_EFFORT))
    samples = []
    try:
        deadline = time.monotonic() + 180
        while not info and time.monotonic() < deadline and proc.poll() is None:
            rclpy.spin_once(node, timeout_sec=0.1)
        if not info:
            print(json.dumps({'error': 'node did not start; see ' + proc.log_path}))
            return 1
        t0 = time.monotonic()
        for sent in range(1, args.frames + 1):
            node_latency.publish_stamped(pub, frames[sent % len(frames)])
            next_at = t0 + sent / args.hz
            while time.monotonic() < next_at:
                rclpy.spin_once(node, timeout_sec=max(0.0, next_at - time.monotonic()))
            if sent % args.sample_every == 0:
                if proc.poll() is not None:
                    print(json.dumps({'error': f'node exited at frame {sent}'}))
                    return 1
                s = {'frames_sent': sent, 'outputs_received': len(lat),
                     'rss_kib': rss_kib(proc.pid), 'seconds': round(time.monotonic() - t0, 1)}
                samples.append(s)
                print(json.dumps(s), flush=True)
        end = time.monotonic() + 3.0  # drain, and one more diagnostics period
        while time.monotonic() < end:
            rclpy.spin_once(node, timeout_sec=0.05)
        wall = time.monotonic() - t0
        rss_end = rss_kib(proc.pid)
    finally:
        node_latency.stop_node(proc)
        node.destroy_node()
        rclpy.shutdown()
    after = [s for s in samples if s['frames_sent'] >= args.warmup]
    base = after[0]['rss_kib'] if after else samples[0]['rss_kib']
    x = np.array([s['frames_sent'] for s in after], np.float64)
    y = np.array([s['rss_kib'] for s in after], np.float64)
    slope = float(np.polyfit(x, y, 1)[0]) * 1000 if len(after) > 1 else float('nan')
    ms = np.array(lat) * 1e3
    print(json.dumps({
        'summary': True, 'date': time.strftime('%Y-%m-%d'), 'backend': info[0].backend,
        'input': '640x480 rgb8', 'input_hz': args.hz, 'frames_sent': args.frames,
        'outputs_received': int(ms.size), 'wall_s': round(wall, 1),
        'node_frames_in': int(diag.get('frames_in', 0)),
        'node_frames_processed': int(diag.get('frames_processed', 0)),
        'node_frames_dropped': int(diag.get('frames_dropped', 0)),
        'node_frames_rejected': int(diag.get('frames_rejected', 0)),
        'latency_ms_p50': round(float(np.percentile(ms, 50)), 2) if ms.size else None,
        'latency_ms_p95': round(float(np.percentile(ms, 95)), 2) if ms.size else None,
        'rss_kib_after_warmup': base, 'rss_kib_end': rss_end,
        'rss_kib_max': max(s['rss_kib'] for s in samples),
        'rss_growth_percent': round(100.0 * (rss_end - base) / base, 2),
        'rss_slope_kib_per_1000_frames': round(slope, 1)}))
    return 0


if __name__ == '__main__':
    sys.exit(main())
