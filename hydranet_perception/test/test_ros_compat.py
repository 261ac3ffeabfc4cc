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
The node's modules import on Humble's rclpy layout as well as on Jazzy's.

Humble has no ``rclpy.event_handler``: the QoS event callbacks live in
``rclpy.qos_event`` there. Here (Jazzy) that layout is reproduced by hiding
``rclpy.event_handler`` and serving the real callbacks class from ``rclpy.qos_event``,
as Humble does; a Humble install itself is not available on this machine.
"""

import importlib
import pathlib
import sys

import rclpy.event_handler


def test_diagnostics_imports_without_rclpy_event_handler(monkeypatch):
    real = rclpy.event_handler.SubscriptionEventCallbacks
    humble_qos_event = type(sys)('rclpy.qos_event')
    humble_qos_event.SubscriptionEventCallbacks = real
    monkeypatch.setitem(sys.modules, 'rclpy.event_handler', None)  # ImportError on import
    monkeypatch.setitem(sys.modules, 'rclpy.qos_event', humble_qos_event)
    monkeypatch.delitem(sys.modules, 'hydranet_perception.ros.diagnostics', raising=False)
    diagnostics = importlib.import_module('hydranet_perception.ros.diagnostics')
    assert diagnostics.SubscriptionEventCallbacks is real
    monkeypatch.delitem(sys.modules, 'hydranet_perception.ros.diagnostics')


def test_no_module_needs_rclpy_event_handler_directly():
    pkg = pathlib.Path(__file__).resolve().parents[1] / 'hydranet_perception'
    offenders = [str(p) for p in pkg.rglob('*.py') if 'rclpy.event_handler import' in
                 p.read_text() and 'except ImportError' not in p.read_text()]
    assert not offenders, offenders
