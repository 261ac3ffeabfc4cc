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
Several cameras: one batched hydranet_node against one node per camera, in one run.

For 1, 2 and 4 cameras, first one node with ``cameras: [cam0, ...]`` (one model, frames
batched), then as many single-camera nodes (one model each), each setup at 15 Hz per
camera and then saturated (``--saturated-hz`` per camera, more than the CPU processes).
Frames are 640x480 rgb8, pre-serialized and stamped with the current time as they are
sent (``node_latency.publish_stamped``), the same frames to both setups; every
camera's ``instances`` are read raw. Per camera: sustained output rate, latency
(receive time - stamp) p50/p95, frames sent, outputs and the node's dropped count; per
setup: node CPU (all its processes) and RSS (summed over processes, at the end). One
JSON line per setup, rate and camera count; the last line is the summary for 4 cameras
at saturation: ``throughput_ratio_vs_separate`` (total output rate, one node / separate
nodes), ``rss_ratio_vs_separate`` and the issue's goals. Not a test: run it on an
otherwise idle machine (``python bench/multi_camera.py``; a few minutes).
"""

import argparse
import importlib
import json
import os
import pathlib
import sys
import time

from diagnostic_msgs.msg import DiagnosticArray
from hydranet_perception.inference.weights import load_weights
from hydranet_perception.ros import launcher
from hydranet_perception_msgs.msg import InstanceArray, ModelInfo
import numpy as np
import rclpy
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
node_latency = importlib.import_module('node_latency')  # frames and stamps, shared

LATCHED = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL,
                     reliability=ReliabilityPolicy.RELIABLE)
RELIABLE = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)


def _rss_mb(pid) -> float:
    for line in pathlib.Path(f'/proc/{pid}/status').read_text().splitlines():
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024
    return float('nan')


def _start(setup, n, tmp, threads):
    """
    Start the nodes of ``setup`` ('one' or 'separate') for ``n`` cameras.

    :return: (processes, {camera: its instances topic}, {camera: its diagnostics status},
        [model_info topics]).
    """
    cams = [f'cam{i}' for i in range(n)]
    common = {'diagnostics_period': 0.5, 'publish_overlay': False, 'threads': threads}
    if setup == 'one':
        remaps = {f'{c}/image': f'/mcbench/{c}/image' for c in cams}
        procs = [launcher.start_node(tmp, f'one{n}', namespace='/one', remaps=remaps,
                                     params=dict(common, cameras=cams, max_batch=4))]
        outs = {c: f'/one/hydranet/{c}/instances' for c in cams}
        status = {c: f'/one/hydranet/{c}: pipeline' for c in cams}
        infos = ['/one/hydranet/model_info']
    else:
        procs = [launcher.start_node(tmp, f'sep{n}_{c}', namespace=f'/sep_{c}',
                                     remaps={'image': f'/mcbench/{c}/image'}, params=common)
                 for c in cams]
        outs = {c: f'/sep_{c}/hydranet/instances' for c in cams}
        status = {c: f'/sep_{c}/hydranet: pipeline' for c in cams}
        infos = [f'/sep_{c}/hydranet/model_info' for c in cams]
    return procs, outs, status, infos


def _measure(node, pubs, frames, lat, diag, status, procs, hz, seconds):
    """Publish every camera at ``hz`` for ``seconds`` (after a 3 s warm-up); figures."""
    result = {}
    for phase, dur in (('warmup', 3.0), ('measure', seconds)):
        for v in lat.values():
            v.clear()
        before = {c: dict(diag.get(s, {})) for c, s in status.items()}
        cpu0 = sum(node_latency._cpu_seconds(p.pid) for p in procs)
        t0 = time.monotonic()
        sent = 0
        while time.monotonic() - t0 < dur:
            for i, pub in enumerate(pubs.values()):
                node_latency.publish_stamped(pub, frames[(sent + 7 * i) % len(frames)])
            sent += 1
            next_at = t0 + sent / hz
            while time.monotonic() < next_at:
                rclpy.spin_once(node, timeout_sec=max(0.0, next_at - time.monotonic()))
        cpu = sum(node_latency._cpu_seconds(p.pid) for p in procs) - cpu0
        end = time.monotonic() + 1.5  # drain; diagnostics settle
        while time.monotonic() < end:
            rclpy.spin_once(node, timeout_sec=0.05)
    cameras = {}
    for c in pubs:
        ms = np.array(lat[c]) * 1e3
        after = diag.get(status[c], {})
        cameras[c] = {
            'frames_sent': sent, 'outputs': int(ms.size),
            'fps': round(ms.size / seconds, 2),
            'latency_ms_p50': round(float(np.percentile(ms, 50)), 1) if ms.size else None,
            'latency_ms_p95': round(float(np.percentile(ms, 95)), 1) if ms.size else None,
            'node_dropped': int(after.get('frames_dropped', 0)) -
            int(before[c].get('frames_dropped', 0))}
    result['per_camera'] = cameras
    result['fps_total'] = round(sum(v['fps'] for v in cameras.values()), 2)
    result['node_cpu_percent'] = round(cpu * 100 / seconds, 1)
    result['rss_mb'] = round(sum(_rss_mb(p.pid) for p in procs), 1)
    return result


def _run_setup(node, setup, n, frames, args, tmp):
    procs, outs, status, infos = _start(setup, n, tmp, args.threads)
    lat = {c: [] for c in outs}
    diag, models = {}, []

    def on_diag(msg):
        for s in msg.status:
            diag[s.name] = {kv.key: kv.value for kv in s.values}
    subs = [node.create_subscription(
        InstanceArray, topic, lambda m, c=c: lat[c].append(time.time() - node_latency._stamp(m)),
        RELIABLE, raw=True) for c, topic in outs.items()]
    subs.append(node.create_subscription(
        DiagnosticArray, '/diagnostics', on_diag, RELIABLE))
    subs += [node.create_subscription(ModelInfo, t, models.append, LATCHED) for t in infos]
    pubs = {c: node.create_publisher(Image, f'/mcbench/{c}/image', QoSProfile(
        depth=1, reliability=ReliabilityPolicy.BEST_EFFORT)) for c in outs}
    rows = []
    try:
        deadline = time.monotonic() + 240
        while len(models) < len(infos) and time.monotonic() < deadline and \
                all(p.poll() is None for p in procs):
            rclpy.spin_once(node, timeout_sec=0.1)
        if len(models) < len(infos):
            return [{'setup': setup, 'cameras': n, 'error': 'node(s) did not start; see '
                     + ', '.join(p.log_path for p in procs)}]
        for label, hz in (('15hz', 15.0), ('saturated', args.saturated_hz)):
            r = _measure(node, pubs, frames, lat, diag, status, procs, hz, args.seconds)
            r = {'setup': setup, 'cameras': n, 'rate': label, 'input_hz_per_camera': hz,
                 'processes': len(procs), **r}
            print(json.dumps(r), flush=True)
            rows.append(r)
    finally:
        for s in subs:
            node.destroy_subscription(s)
        for p in pubs.values():
            node.destroy_publisher(p)
        for p in procs:
            launcher.stop_process(p, timeout=30)
    return rows


def main():
    """Parse arguments, measure each camera count and setup, print the summary."""
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument('--cameras', type=int, nargs='*', default=[1, 2, 4])
    ap.add_argument('--seconds', type=float, default=8.0)
    ap.add_argument('--saturated-hz', type=float, default=30.0,
                    help='per camera; more than the node processes on this CPU')
    ap.add_argument('--threads', type=int, default=0,
                    help="every node's threads parameter (0 = the runtime's default)")
    args = ap.parse_args()
    node_latency.bench_env()
    # The ONNX export of the shipped weights exists before any node starts (else the
    # first node would export it, with torch, and carry torch in its RSS).
    load_weights('', runtime='onnxruntime')
    frames = node_latency.serialized_frames()
    rclpy.init()
    node = rclpy.create_node('hydranet_multi_camera_bench')
    tmp = pathlib.Path(os.environ.get('TMPDIR', '/tmp')) / f'hydranet_mcbench_{os.getpid()}'
    tmp.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in args.cameras:
        for setup in ('one', 'separate'):
            rows += _run_setup(node, setup, n, frames, args, tmp)
    n = max(args.cameras)

    def row(setup, rate):
        return next((r for r in rows if r.get('setup') == setup and r['cameras'] == n and
                     r.get('rate') == rate), None)
    one, sep = row('one', 'saturated'), row('separate', 'saturated')
    one15 = row('one', '15hz')
    if one and sep:
        thr = one['fps_total'] / sep['fps_total'] if sep['fps_total'] else float('inf')
        rss = one['rss_mb'] / sep['rss_mb']
        p95 = max((c['latency_ms_p95'] or float('inf')) for c in one15['per_camera'].values())
        print(json.dumps({
            'summary': True, 'cameras': n, 'saturated_hz_per_camera': args.saturated_hz,
            'throughput_ratio_vs_separate': round(thr, 2),
            'rss_ratio_vs_separate': round(rss, 2),
            'fps_total_one_node': one['fps_total'], 'fps_total_separate': sep['fps_total'],
            'rss_mb_one_node': one['rss_mb'], 'rss_mb_separate': sep['rss_mb'],
            'cpu_percent_one_node': one['node_cpu_percent'],
            'cpu_percent_separate': sep['node_cpu_percent'],
            'latency_ms_p95_worst_camera_at_15hz_one_node': p95,
            'goal': 'throughput ratio >= 1.5, rss ratio <= 0.4, p95 <= 100 ms at 15 Hz',
            'goal_met': bool(thr >= 1.5 and rss <= 0.4 and p95 <= 100)}), flush=True)
    node.destroy_node()
    rclpy.shutdown()
    return 0


if __name__ == '__main__':
    sys.exit(main())
