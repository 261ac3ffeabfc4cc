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

"""Test helpers: start hydranet_node as a user does, and watch its topics from the test."""

import os
import pathlib
import time

from hydranet_perception.ros import launcher
import rclpy
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy


def start_node(tmp_path, *, params=None, namespace='/test', remaps=None, log_name='node'):
    """
    Start hydranet_node (its console script) with a params file and remaps.

    Returns the Popen; its output goes to ``tmp_path/<log_name>.log``.
    """
    remaps = remaps or {'image': '/cam/image_raw', 'image/compressed':
                        '/cam/image_raw/compressed', 'camera_info': '/cam/camera_info'}
    return launcher.start_node(tmp_path, log_name, params=params, namespace=namespace,
                               remaps=remaps, env=dict(os.environ))


def stop_node(proc, timeout=15.0):
    """Stop the node with SIGINT as Ctrl-C would; return its exit code."""
    return launcher.stop_process(proc, timeout)


class Watcher:
    """A test-side node that records messages from the node under test."""

    def __init__(self, name='watcher'):
        if not rclpy.ok():
            rclpy.init()
        self.node = rclpy.create_node(name)
        self.received = {}

    def subscribe(self, msg_type, topic, *, latched=False):
        qos = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE,
                         durability=(DurabilityPolicy.TRANSIENT_LOCAL if latched
                                     else DurabilityPolicy.VOLATILE))
        self.received[topic] = []
        self.node.create_subscription(msg_type, topic, self.received[topic].append, qos)

    def spin_until(self, predicate, timeout, proc=None):
        """Spin until ``predicate()`` is true; False on timeout or when ``proc`` died."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rclpy.spin_once(self.node, timeout_sec=0.05)
            if predicate():
                return True
            if proc is not None and proc.poll() is not None:
                return False
        return False

    def close(self):
        self.node.destroy_node()


def by_stamp(msgs, stamp):
    """Return the messages whose header stamp equals ``stamp``."""
    return [m for m in msgs if m.header.stamp.sec == stamp.sec and
            m.header.stamp.nanosec == stamp.nanosec]


def node_log(proc):
    """Return the node's output so far (for assertion messages)."""
    return pathlib.Path(proc.log_path).read_text()[-6000:]
