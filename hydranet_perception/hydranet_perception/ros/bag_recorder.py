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
Record ROS topics into an MCAP rosbag2, as ``ros2 bag record -s mcap`` does.

Subscriptions are raw (``create_subscription(..., raw=True)``): each message arrives as
the CDR bytes its publisher sent and is written as is, so nothing is decoded. A topic
is subscribed once it appears in the graph, with the type the graph reports (or the one
given), and with QoS adapted to its publishers as rosbag2 does: reliable when every
publisher is reliable, transient local when every one is (latched topics), else best
effort / volatile; history is keep-all, so a slow disk never drops a reliable message.
The publishers' offered QoS profiles go into ``metadata.yaml``.

Recording stops after ``duration`` seconds, after ``max_messages`` messages, or on
SIGINT / SIGTERM; messages already received are then written and the bag is closed, so
``metadata.yaml`` is complete.
"""

import time
from typing import Dict, Optional, Sequence

from hydranet_perception.bag.bag_io import open_writer
from hydranet_perception.bag.typestore import ensure_types, get_typestore
from hydranet_perception.ros.bag_player import GracefulStop, message_class, RELIABILITY
import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from rclpy.signals import SignalHandlerOptions
from rosbags.interfaces import (Qos, QosDurability, QosHistory, QosLiveliness,
                                QosReliability, QosTime)


def _qos_time(duration) -> QosTime:
    sec, nsec = divmod(int(duration.nanoseconds), 1_000_000_000)
    return QosTime(sec, nsec)


def _enum(enum, policy):
    return enum.__members__.get(policy.name, enum.UNKNOWN)


def to_bag_qos(profile: QoSProfile) -> Qos:
    """Return the rosbags ``Qos`` (as metadata.yaml stores it) of an rclpy profile."""
    return Qos(_enum(QosHistory, profile.history), int(profile.depth),
               _enum(QosReliability, profile.reliability),
               _enum(QosDurability, profile.durability), _qos_time(profile.deadline),
               _qos_time(profile.lifespan), _enum(QosLiveliness, profile.liveliness),
               _qos_time(profile.liveliness_lease_duration),
               bool(profile.avoid_ros_namespace_conventions))


def parse_topic_spec(spec: str):
    """Split ``/topic`` or ``/topic:pkg/msg/Type`` into (topic, type or None)."""
    topic, _, msgtype = spec.partition(':')
    return topic, (msgtype or None)


class BagRecorder:
    """
    Subscribe to topics as they appear and write every message to a new bag.

    :param node: the node that owns the subscriptions.
    :param out: the bag folder to create (must not exist).
    :param topics: topic names, each optionally ``name:pkg/msg/Type``.
    :param reliability: 'auto' (adapt to the publishers), 'reliable' or 'best_effort'.
    :param max_messages: stop after this many messages (all topics together).
    """

    def __init__(self, node: Node, out, topics: Sequence[str], *, reliability: str = 'auto',
                 max_messages: Optional[int] = None):
        if reliability != 'auto' and reliability not in RELIABILITY:
            raise ValueError(f'reliability must be auto or one of {sorted(RELIABILITY)}')
        self.node, self.reliability, self.max_messages = node, reliability, max_messages
        specs = (parse_topic_spec(t) for t in topics)
        self.wanted = {node.resolve_topic_name(name): ty for name, ty in specs}
        if not self.wanted:
            raise ValueError('no topics to record')
        self.store = get_typestore()
        ensure_types(self.store, [t for t in self.wanted.values() if t])
        self.writer = open_writer(out)
        # Say who wrote the bag (rosbags would otherwise write custom_data: null).
        self.writer.set_custom_data('hydranet_perception.recorder', 'hydranet-bag record')
        self.path = out
        self.connections = {}
        self.subscriptions = {}
        self.counts: Dict[str, int] = {}
        self.received = 0
        self._waiting_logged = False

    @property
    def done(self) -> bool:
        """Whether ``max_messages`` have been written."""
        return self.max_messages is not None and self.received >= self.max_messages

    def poll_graph(self):
        """Subscribe to the wanted topics that have appeared since the last poll."""
        graph = dict(self.node.get_topic_names_and_types())
        for topic, given in self.wanted.items():
            if topic in self.subscriptions:
                continue
            pubs = self.node.get_publishers_info_by_topic(topic)
            msgtype = given or (graph.get(topic) or [None])[0]
            if msgtype is None or (not pubs and self.reliability == 'auto'):
                continue
            self._subscribe(topic, msgtype, pubs)
        missing = sorted(set(self.wanted) - set(self.subscriptions))
        if missing and not self._waiting_logged:
            self.node.get_logger().info(f'waiting for publishers on {missing}')
            self._waiting_logged = True

    def _qos(self, pubs) -> QoSProfile:
        if self.reliability != 'auto':
            reliable = self.reliability == 'reliable'
        else:
            reliable = all(p.qos_profile.reliability == ReliabilityPolicy.RELIABLE
                           for p in pubs)
        latched = bool(pubs) and all(
            p.qos_profile.durability == DurabilityPolicy.TRANSIENT_LOCAL for p in pubs)
        return QoSProfile(
            history=HistoryPolicy.KEEP_ALL, depth=1000,
            reliability=ReliabilityPolicy.RELIABLE if reliable else
            ReliabilityPolicy.BEST_EFFORT,
            durability=DurabilityPolicy.TRANSIENT_LOCAL if latched else
            DurabilityPolicy.VOLATILE)

    def _subscribe(self, topic: str, msgtype: str, pubs):
        ensure_types(self.store, [msgtype])
        self.connections[topic] = self.writer.add_connection(
            topic, msgtype, typestore=self.store,
            offered_qos_profiles=[to_bag_qos(p.qos_profile) for p in pubs])
        self.counts[topic] = 0
        self.subscriptions[topic] = self.node.create_subscription(
            message_class(msgtype), topic, lambda data, t=topic: self._on_message(t, data),
            self._qos(pubs), raw=True)
        self.node.get_logger().info(f'recording {topic} ({msgtype})')

    def _on_message(self, topic: str, data: bytes):
        if self.done:
            return
        stamp = self.node.get_clock().now().nanoseconds
        self.writer.write(self.connections[topic], stamp, data)
        self.counts[topic] += 1
        self.received += 1

    def close(self) -> Dict:
        """Close the bag (writing metadata.yaml); return a summary."""
        for sub in self.subscriptions.values():
            self.node.destroy_subscription(sub)
        self.subscriptions.clear()
        self.writer.close()
        return {'path': str(self.path), 'messages': self.received,
                'topics': dict(sorted(self.counts.items()))}


def run_recorder(out, topics: Sequence[str], *, duration: Optional[float] = None,
                 max_messages: Optional[int] = None, reliability: str = 'auto',
                 poll_interval: float = 0.1,
                 ros_args: Optional[Sequence[str]] = None) -> Dict:
    """
    Record ``topics`` into a new bag at ``out`` until a limit or a signal; return a summary.

    SIGINT and SIGTERM end the recording gracefully (a second SIGINT aborts at once).
    """
    rclpy.init(args=['hydranet-bag', *(ros_args or [])],
               signal_handler_options=SignalHandlerOptions.NO)
    node = recorder = None
    summary = {}
    with GracefulStop() as stop:
        try:
            node = rclpy.create_node('hydranet_bag_recorder')
            recorder = BagRecorder(node, out, topics, reliability=reliability,
                                   max_messages=max_messages)
            start = next_poll = time.monotonic()
            while not stop.is_set() and not recorder.done and rclpy.ok():
                now = time.monotonic()
                if duration is not None and now - start >= duration:
                    break
                if now >= next_poll:
                    recorder.poll_graph()
                    next_poll = now + poll_interval
                rclpy.spin_once(node, timeout_sec=0.02)
            idle = 0  # take what has already arrived
            while idle < 3 and not recorder.done and rclpy.ok():
                before = recorder.received
                rclpy.spin_once(node, timeout_sec=0.02)
                idle = idle + 1 if recorder.received == before else 0
        except (KeyboardInterrupt, ExternalShutdownException):
            pass
        finally:
            if recorder is not None:
                summary = recorder.close()
            if node is not None:
                node.destroy_node()
            rclpy.try_shutdown()
    return summary


__all__ = ['BagRecorder', 'parse_topic_spec', 'run_recorder', 'to_bag_qos']
