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

"""Diagnostics of the node, and the QoS checks behind the 'no images arrive' warning."""

from typing import Optional, Sequence

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.qos import qos_policy_name_from_kind, ReliabilityPolicy

try:  # Iron and newer
    from rclpy.event_handler import SubscriptionEventCallbacks
except ImportError:  # Humble
    from rclpy.qos_event import SubscriptionEventCallbacks


def qos_event_callbacks(node, topic: str) -> SubscriptionEventCallbacks:
    """Report an incompatible-QoS publisher on ``topic`` in the log and diagnostics."""
    def on_incompatible(event):
        name = node.resolve_topic_name(topic)
        policy = qos_policy_name_from_kind(event.last_policy_kind)
        reason = (f'a publisher on {name} has QoS incompatible with this subscription '
                  f'(policy {policy}, {event.total_count} so far): no images will arrive. '
                  f'Match the driver, e.g. set qos_overrides.{name}.subscription.'
                  'reliability to best_effort')
        node.stats.error('qos_incompatible', reason)
        node.get_logger().error(reason, throttle_duration_sec=10.0)
    return SubscriptionEventCallbacks(incompatible_qos=on_incompatible)


def silent_input_warning(node, topic: str, silent_s: float, limit_s: float) -> str:
    """Explain why publishers exist on the image topic but nothing arrives; '' if fine."""
    if silent_s < limit_s:
        return ''
    name = node.resolve_topic_name(topic)
    infos = node.get_publishers_info_by_topic(name)
    if infos:
        kinds = sorted({'reliable' if i.qos_profile.reliability == ReliabilityPolicy.RELIABLE
                        else 'best_effort' for i in infos})
        sub = [i for i in node.get_subscriptions_info_by_topic(name)
               if i.node_name == node.get_name() and
               i.node_namespace == node.get_namespace()]
        mine = ('reliable' if sub and sub[0].qos_profile.reliability ==
                ReliabilityPolicy.RELIABLE else 'best_effort')
        return (f'{len(infos)} publisher(s) on {name} ({", ".join(kinds)}) but no image for '
                f'{silent_s:.0f} s; this subscription is {mine}. Check that QoS is '
                'compatible (a reliable subscription gets nothing from a best-effort '
                'driver), that the domain and RMW match, and for large images over Fast '
                'DDS, the shared-memory profile config/fastdds_shm.xml')
    compressed = topic.endswith('/compressed')
    other = topic[:-len('/compressed')] if compressed else topic + '/compressed'
    if node.get_publishers_info_by_topic(node.resolve_topic_name(other)):
        transport = 'raw' if compressed else 'compressed'
        return (f'no publisher on {name}, but there is one on '
                f'{node.resolve_topic_name(other)}: set image_transport to {transport}')
    return ''


def _values(snap: dict, extra: dict) -> list:
    values = {k: v for k, v in snap.items() if k not in ('errors', 'last_error')}
    values.update({f'errors.{k}': v for k, v in sorted(snap['errors'].items())})
    values['last_error'] = snap['last_error']
    values.update(extra)
    return [KeyValue(key=k, value=(f'{v:.3f}' if isinstance(v, float) else str(v)))
            for k, v in values.items()]


def camera_status(node, camera: str, snap: dict, *, engine, camera_info: bool,
                  warning: str, extra: Optional[dict] = None) -> DiagnosticStatus:
    """
    Build the status of one camera of a several-camera node (rate, latency, drops).

    Named ``<node fqn>/<camera>: pipeline`` (e.g. ``/robot/hydranet/front: pipeline``);
    the node's own status beside it says whether the model runs at all.
    """
    status = DiagnosticStatus()
    status.name = f'{node.get_fully_qualified_name()}/{camera}: pipeline'
    status.hardware_id = engine.describe() if engine else 'no model loaded'
    _health(status, snap, warning, ok='ok', prefix='')
    status.values = _values(snap, {'camera_info_received': camera_info, **(extra or {})})
    return status


def _health(status: DiagnosticStatus, snap: dict, warning: str, *, ok: str, prefix: str):
    """Set the level and message of a running pipeline: its warning, last error, or ok."""
    if warning:
        status.level, status.message = DiagnosticStatus.WARN, warning
    elif snap['errors']:
        status.level = DiagnosticStatus.WARN
        status.message = f'{prefix}last problem: {snap["last_error"]}'
    else:
        status.level, status.message = DiagnosticStatus.OK, ok


def build(node, snap: dict, *, configured: bool, active: bool, enabled: bool, engine,
          camera_info: bool, warning: str, batch: Optional[dict] = None,
          cameras: Sequence[DiagnosticStatus] = (),
          extra: Optional[dict] = None) -> DiagnosticArray:
    """
    Build the node's DiagnosticArray from a PipelineStats snapshot.

    The status is named after the node's fully qualified name (``/left/hydranet:
    pipeline``), so that nodes in several namespaces stay apart. With several cameras,
    ``snap`` sums them, ``batch`` adds the batch figures (``BatchStats.snapshot``) and
    each camera's own status (``camera_status``) follows the node's. ``extra`` adds
    values (the single camera's depth input).
    """
    status = DiagnosticStatus()
    status.name = f'{node.get_fully_qualified_name()}: pipeline'
    status.hardware_id = engine.describe() if engine else 'no model loaded'
    if not configured:
        status.level, status.message = DiagnosticStatus.WARN, 'unconfigured (no model loaded)'
    elif not active:
        status.level, status.message = DiagnosticStatus.WARN, 'inactive (model loaded)'
    elif not enabled:
        status.level, status.message = DiagnosticStatus.OK, 'paused (~/enable false)'
    else:
        _health(status, snap, warning, ok='running', prefix='running; ')
    if status.level == DiagnosticStatus.WARN and snap['errors'].get('model'):
        status.level = DiagnosticStatus.ERROR
    status.values = _values(snap, {'camera_info_received': camera_info, **(batch or {}),
                                   **(extra or {})})
    msg = DiagnosticArray()
    msg.header.stamp = node.get_clock().now().to_msg()
    msg.status = [status, *cameras]
    return msg


def node_array(node, cameras: Sequence, snap: dict, batch: dict, *, configured: bool,
               active: bool, enabled: bool, engine, limit_s: float) -> DiagnosticArray:
    """
    Build the node's diagnostics from its cameras (``camera_input.CameraInput``).

    One camera: one status, as ever (with the depth input's values). Several: the
    node's status (the sum, the batch figures) and one per camera. A camera's input
    problems (no images, a silent depth topic, 3D wanted without depth) are its
    warning, also logged at most every 30 s.

    :param snap: the node's ``PipelineStats`` snapshot (the cameras' sum).
    :param batch: the ``BatchStats`` snapshot.
    :param limit_s: seconds without input before warning (``no_image_warning``).
    """
    warnings = {c.name: c.input_warning(limit_s) for c in cameras}
    for text in warnings.values():
        if text:
            node.get_logger().warning(text, throttle_duration_sec=30.0)
    state = {'configured': configured, 'active': active, 'enabled': enabled,
             'engine': engine}
    if [c.name for c in cameras] in ([], ['']):
        return build(node, snap, camera_info=bool(cameras) and
                     cameras[0].camera_info is not None, warning=warnings.get('', ''),
                     extra=cameras[0].depth_values() if cameras else None, **state)
    statuses = [camera_status(node, c.name, c.stats.snapshot(), engine=engine,
                              camera_info=c.camera_info is not None,
                              warning=warnings[c.name], extra=c.depth_values())
                for c in cameras]
    attention = [c.name for c in cameras if warnings[c.name]]
    return build(node, snap, camera_info=all(c.camera_info is not None for c in cameras),
                 warning=f'inputs need attention on cameras {attention}' if attention else '',
                 batch=batch, cameras=statuses, **state)
