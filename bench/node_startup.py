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
Start-up time and memory of hydranet_node.

Starts ``hydranet_node`` ``--repeat`` times (own process, shipped weights, the given
backend, onnxruntime by default) and measures, per start: the seconds from the process
start to the latched ``~/model_info`` received here (the node is active then), the
node's resident memory (VmRSS, and its peak VmHWM) once active, and whether torch is
loaded in it (read from the process's memory maps, so it works on any version of the
node). The first start after an install may export the weights to ONNX (and then
load torch for that once); later starts use that export. One JSON line per start, then
a summary line with the medians. Not a test: run it on an otherwise idle machine.
"""

import argparse
import json
import os
import pathlib
import sys
import time

from hydranet_perception.ros import launcher
from hydranet_perception_msgs.msg import ModelInfo
import numpy as np
import rclpy
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy


def _status_kb(pid: int, key: str) -> int:
    for line in pathlib.Path(f'/proc/{pid}/status').read_text().splitlines():
        if line.startswith(key + ':'):
            return int(line.split()[1])
    return 0


def _maps_torch(pid: int) -> bool:
    """Return True when the process has torch's C++ library mapped."""
    maps = pathlib.Path(f'/proc/{pid}/maps').read_text()
    return 'libtorch_cpu' in maps or '/torch/_C' in maps


def _one_start(node, backend, tmp, run, settle):
    latched = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL,
                         reliability=ReliabilityPolicy.RELIABLE)
    info = []
    ns = f'/startup{run}'  # its own namespace: no latched message of an earlier run
    sub = node.create_subscription(ModelInfo, f'{ns}/hydranet/model_info', info.append,
                                   latched)
    t0 = time.monotonic()
    proc = launcher.start_node(tmp, f'{backend}_{run}', params={'backend': backend},
                               namespace=ns, env=dict(os.environ))
    try:
        deadline = t0 + 180
        while not info and time.monotonic() < deadline and proc.poll() is None:
            rclpy.spin_once(node, timeout_sec=0.02)
        if not info:
            return {'backend': backend, 'run': run,
                    'error': 'node did not become active; see ' + proc.log_path}
        start_s = time.monotonic() - t0
        end = time.monotonic() + settle  # let the activation's allocations settle
        while time.monotonic() < end:
            rclpy.spin_once(node, timeout_sec=0.05)
        return {'backend': backend, 'run': run, 'start_to_active_s': round(start_s, 3),
                'rss_mb': round(_status_kb(proc.pid, 'VmRSS') / 1024, 1),
                'rss_peak_mb': round(_status_kb(proc.pid, 'VmHWM') / 1024, 1),
                'torch_loaded': _maps_torch(proc.pid),
                'model': f'{info[0].model_name} {info[0].backend} {info[0].device}'}
    finally:
        node.destroy_subscription(sub)
        launcher.stop_process(proc, timeout=30)


def main():
    """Parse arguments, start the node ``--repeat`` times and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument('--backend', default='onnxruntime')
    ap.add_argument('--repeat', type=int, default=5)
    ap.add_argument('--settle', type=float, default=1.0,
                    help='seconds after activation before reading the memory')
    args = ap.parse_args()
    os.environ.update(launcher.node_env())
    rclpy.init()
    node = rclpy.create_node('hydranet_startup_bench')
    tmp = pathlib.Path(os.environ.get('TMPDIR', '/tmp')) / f'hydranet_startup_{os.getpid()}'
    tmp.mkdir(parents=True, exist_ok=True)
    results = []
    for run in range(args.repeat):
        r = _one_start(node, args.backend, tmp, run, args.settle)
        r['date'] = time.strftime('%Y-%m-%d')
        print(json.dumps(r), flush=True)
        results.append(r)
    ok = [r for r in results if 'error' not in r]
    if ok:
        med = {k: round(float(np.median([r[k] for r in ok])), 3)
               for k in ('start_to_active_s', 'rss_mb', 'rss_peak_mb')}
        print(json.dumps({'summary': True, 'backend': args.backend, 'runs': len(ok), **med,
                          'torch_loaded_any': any(r['torch_loaded'] for r in ok),
                          'goal': 'start_to_active_s <= 2, rss_mb <= 300 (onnxruntime)',
                          'goal_met': med['start_to_active_s'] <= 2 and
                          med['rss_mb'] <= 300}))
    node.destroy_node()
    rclpy.shutdown()
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
