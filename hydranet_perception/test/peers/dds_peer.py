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
A publisher or echo process for DDS round-trip tests.

``pub TYPE TOPIC FILE SECONDS``: publish the serialized message in FILE at 20 Hz.
``echo TYPE TOPIC FILE SECONDS``: write the first message received, serialized, to FILE.
TYPE is ``package/msg/Name``. Exit status 0 on success, 3 on timeout.
"""

import importlib
import sys
import time

import rclpy
from rclpy.serialization import deserialize_message, serialize_message


def _type(name):
    pkg, _, cls = name.split('/')
    return getattr(importlib.import_module(f'{pkg}.msg'), cls)


def main():
    mode, type_name, topic, path, seconds = sys.argv[1:6]
    msg_type = _type(type_name)
    rclpy.init()
    node = rclpy.create_node(f'dds_peer_{mode}')
    deadline = time.monotonic() + float(seconds)
    status = 3
    if mode == 'pub':
        with open(path, 'rb') as f:
            msg = deserialize_message(f.read(), msg_type)
        pub = node.create_publisher(msg_type, topic, 10)
        while time.monotonic() < deadline:
            pub.publish(msg)
            rclpy.spin_once(node, timeout_sec=0.05)
        status = 0
    else:
        got = []
        node.create_subscription(msg_type, topic, got.append, 10)
        while not got and time.monotonic() < deadline:
            rclpy.spin_once(node, timeout_sec=0.1)
        if got:
            with open(path, 'wb') as f:
                f.write(serialize_message(got[0]))
            status = 0
    node.destroy_node()
    rclpy.shutdown()
    sys.exit(status)


if __name__ == '__main__':
    main()
