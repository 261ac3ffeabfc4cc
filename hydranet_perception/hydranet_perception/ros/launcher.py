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
Start hydranet_node as a user does and read what it reports: one helper for all callers.

``start_node`` runs the node's console script in its own process (own session, so
``stop_process`` can Ctrl-C it and its children) with a params file and remaps, in the
environment ``node_env`` sets (the shipped Fast DDS shared-memory profile, loopback
discovery, sleeping OpenMP threads). ``watch_pipeline`` subscribes to ``/diagnostics``
and keeps the node's pipeline figures in a dict. ``hydranet-demo``, the tests
(``test/rosgraph.py``) and the benchmarks (``bench/``) use them.
"""

import os
import pathlib
import signal
import subprocess
import sys
import sysconfig
from typing import Dict, Mapping, Optional

from diagnostic_msgs.msg import DiagnosticArray
from rclpy.qos import QoSProfile, ReliabilityPolicy
import yaml

PKG_DIR = pathlib.Path(__file__).resolve().parents[1]
BIN = pathlib.Path(sysconfig.get_path('scripts'))
NODE_SCRIPT = BIN / 'hydranet_node'


def share_file(rel: str) -> Optional[str]:
    """Find ``rel`` in the installed share/ folder, else in the source tree."""
    for base in (pathlib.Path(sys.prefix) / 'share' / 'hydranet_perception', PKG_DIR.parent):
        if (base / rel).exists():
            return str(base / rel)
    return None


def node_env(base: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
    """
    Return the environment a node (and a player beside it) runs in.

    :param base: the environment to start from (default: this process's).
    :return: a copy with the shared-memory profile, loopback discovery and passive
        OpenMP set where the caller had not set them.
    """
    env = dict(os.environ if base is None else base)
    profile = share_file('config/fastdds_shm.xml')
    if profile:
        env.setdefault('FASTRTPS_DEFAULT_PROFILES_FILE', profile)
        env.setdefault('FASTDDS_DEFAULT_PROFILES_FILE', profile)
    env.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
    # Node, player and collector share the cores: idle OpenMP threads must sleep.
    env.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
    return env


def start_node(out_dir, name: str = 'node', *, params: Optional[Mapping] = None,
               namespace: str = '/', remaps: Optional[Mapping[str, str]] = None,
               env: Optional[Mapping[str, str]] = None) -> subprocess.Popen:
    """
    Start hydranet_node (its console script) with a params file and remaps.

    :param out_dir: folder for ``<name>_params.yaml`` and the node's output ``<name>.log``.
    :param name: the files' stem.
    :param params: node parameters (written under ``/**``).
    :param namespace: the node's namespace (``-r __ns:=...``).
    :param remaps: topic remaps, FROM -> TO.
    :param env: the environment (default: ``node_env()``).
    :return: the process; ``proc.log_path`` names its log.
    """
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    params_file = out / f'{name}_params.yaml'
    params_file.write_text(yaml.safe_dump({'/**': {'ros__parameters': dict(params or {})}}))
    cmd = [str(NODE_SCRIPT), '--ros-args', '--params-file', str(params_file),
           '-r', f'__ns:={namespace}']
    for a, b in (remaps or {}).items():
        cmd += ['-r', f'{a}:={b}']
    log_path = out / f'{name}.log'
    with open(log_path, 'w') as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                env=dict(env) if env is not None else node_env(),
                                start_new_session=True)
    proc.log_path = log_path
    return proc


def stop_process(proc: subprocess.Popen, timeout: float = 20.0) -> int:
    """
    Stop a process started with its own session: SIGINT as Ctrl-C, then SIGKILL.

    :return: its exit code.
    """
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode


def pipeline_values(msg: DiagnosticArray) -> Dict[str, str]:
    """Return the key/values of the node's pipeline status in a diagnostics message."""
    return {kv.key: kv.value for s in msg.status if s.name.endswith('pipeline')
            for kv in s.values}


def watch_pipeline(node, into: Dict[str, str], depth: int = 10):
    """
    Keep the latest pipeline figures of the node in ``into`` (updated in place).

    :param node: the rclpy node that subscribes (the caller spins it).
    :param into: the dict to update.
    :param depth: the subscription's history depth.
    :return: the subscription.
    """
    def on_diag(msg):
        values = pipeline_values(msg)
        if values:
            into.update(values)
    return node.create_subscription(DiagnosticArray, '/diagnostics', on_diag,
                                    QoSProfile(depth=depth,
                                               reliability=ReliabilityPolicy.RELIABLE))
