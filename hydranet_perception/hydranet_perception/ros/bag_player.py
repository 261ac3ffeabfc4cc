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
Play a recorded bag to ROS topics, as ``ros2 bag play`` does, without rosbag2.

Messages go out as the CDR bytes stored in the bag (``Publisher.publish`` of bytes):
nothing is decoded or copied field by field, and header stamps are the recorded ones.
``to_rclpy`` turns a rosbags message into its rclpy twin the same way, through CDR.

Timing: message ``i`` is published ``(t_i - t_0) / rate`` seconds after the start,
where ``t_i`` is its receive timestamp in the bag (a sleep never ends early, so playback
is never faster than the stamps allow). ``rate=0`` publishes as fast as the subscribers
take it: after each message the player waits until every reliable subscriber has
acknowledged it (best-effort subscribers cannot push back). For that the publishers keep
a history of 1: Fast DDS asks for an acknowledgement at once when a writer's history is
full (about 5 ms), but only every heartbeat period (about a second) otherwise.
"""

import importlib
import signal
import threading
import time
from typing import Dict, Optional, Sequence

from builtin_interfaces.msg import Time
from hydranet_perception.bag.bag_io import bag_info, iter_raw
from hydranet_perception.bag.typestore import get_typestore
import rclpy
from rclpy.duration import Duration
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from rclpy.serialization import deserialize_message
from rclpy.signals import SignalHandlerOptions
from rosgraph_msgs.msg import Clock

RELIABILITY = {'reliable': ReliabilityPolicy.RELIABLE,
               'best_effort': ReliabilityPolicy.BEST_EFFORT}


def message_class(typename: str):
    """
    Return the rclpy message class of ``pkg/msg/Name``.

    :raises ImportError: when the interface package is not installed or sourced.
    """
    pkg, kind, name = typename.split('/')
    try:
        return getattr(importlib.import_module(f'{pkg}.{kind}'), name)
    except (ImportError, AttributeError) as exc:
        raise ImportError(f'cannot import {typename} ({exc}); build and source the '
                          f'workspace that has {pkg}') from exc


def to_rclpy(message, typename: str, typestore=None):
    """Return the rclpy message equal to a rosbags ``message``, converted through CDR."""
    store = typestore or get_typestore()
    cdr = store.serialize_cdr(message, typename)
    return deserialize_message(bytes(cdr), message_class(typename))


class GracefulStop:
    """
    Turn SIGINT and SIGTERM into a set ``threading.Event`` while in the ``with`` block.

    Loops check the event and finish cleanly (a bag is closed, the tail delivered); a
    second SIGINT raises ``KeyboardInterrupt`` for the impatient. Use it with
    ``rclpy.init(signal_handler_options=SignalHandlerOptions.NO)``, so that rclpy does
    not invalidate the context under a publisher that is about to publish.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.event = threading.Event()
        self._old = {}

    def _handle(self, signum, frame):
        if self.event.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.event.set()

    def __enter__(self) -> threading.Event:
        self._old = {s: signal.signal(s, self._handle) for s in self.SIGNALS}
        return self.event

    def __exit__(self, *exc_info):
        for s, handler in self._old.items():
            signal.signal(s, handler)
        return False


def _stamp(ns: int) -> Time:
    sec, nanosec = divmod(int(ns), 1_000_000_000)
    return Time(sec=sec, nanosec=nanosec)


class BagPlayer:
    """
    Publish the messages of one bag with their recorded timing (see module doc).

    :param node: the node that owns the publishers.
    :param bag: the bag folder.
    :param rate: time factor (2 = twice as fast); 0 = as fast as the subscribers take it.
    :param loop: start again at the end, until interrupted.
    :param topics: the topics to play (default: all).
    :param remap: bag topic -> published topic.
    :param reliability: 'reliable' (default; matches reliable and best-effort
        subscribers) or 'best_effort'.
    :param depth: publisher history depth (1 when ``rate`` is 0 and reliable).
    :param delay: seconds to wait before the first message (after subscribers matched).
    :param clock_hz: publish ``/clock`` with the bag time at this rate (0: no clock).
    :param wait_for_subscribers: before playing, wait until every played topic has this
        many matched subscribers (default 1 when ``rate`` is 0, else 0).
    :param wait_timeout: give up waiting for subscribers after this many seconds, and play.
    :param ack_timeout: longest wait for one acknowledgement when ``rate`` is 0, and for
        the last messages at the end.
    :param stop: an event that ends playing when set (see ``GracefulStop``).
    """

    def __init__(self, node: Node, bag, *, rate: float = 1.0, loop: bool = False,
                 topics: Optional[Sequence[str]] = None,
                 remap: Optional[Dict[str, str]] = None, reliability: str = 'reliable',
                 depth: int = 10, delay: float = 0.0, clock_hz: float = 0.0,
                 wait_for_subscribers: Optional[int] = None,
                 wait_timeout: Optional[float] = None, ack_timeout: float = 5.0,
                 stop: Optional[threading.Event] = None):
        if rate < 0 or depth < 1 or delay < 0 or clock_hz < 0:
            raise ValueError('rate, delay and clock rate must be >= 0 and depth >= 1')
        if reliability not in RELIABILITY:
            raise ValueError(f'reliability must be one of {sorted(RELIABILITY)}')
        self.node, self.bag, self.rate, self.loop = node, bag, float(rate), loop
        self.delay, self.clock_hz, self.ack_timeout = delay, clock_hz, ack_timeout
        self.wait_for = (1 if rate == 0 else 0) if wait_for_subscribers is None \
            else int(wait_for_subscribers)
        self.wait_timeout = wait_timeout
        self._stop = stop or threading.Event()
        info = bag_info(bag)
        self.topics = list(info['topics']) if topics is None else list(topics)
        missing = set(self.topics) - set(info['topics'])
        if missing:
            raise KeyError(f'topics {sorted(missing)} are not in {bag}; it has '
                           f'{sorted(info["topics"])}')
        remap = dict(remap or {})
        unknown = set(remap) - set(info['topics'])
        if unknown:
            node.get_logger().warning(f'remaps of topics not in the bag: {sorted(unknown)}')
        self.counts = {t: info['topics'][t]['count'] for t in self.topics}
        self.span_ns = info['duration_ns']
        # A loop lasts the bag's duration plus one period of its busiest topic.
        busiest = max(self.counts.values(), default=0)
        self.loop_ns = self.span_ns + (self.span_ns // (busiest - 1) if busiest > 1 else 0)
        if rate == 0 and reliability == 'reliable':
            depth = 1  # see the module doc: acknowledgements come at once
        qos = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=depth,
                         reliability=RELIABILITY[reliability],
                         durability=DurabilityPolicy.VOLATILE)
        self.publishers = {
            t: node.create_publisher(message_class(info['topics'][t]['type']),
                                     remap.get(t, t), qos)
            for t in self.topics}
        self.clock_pub = node.create_publisher(Clock, '/clock', 10) if clock_hz else None
        self.published = self.loops = self._played_ns = 0
        self._elapsed = 0.0

    def _ok(self) -> bool:
        return not self._stop.is_set() and self.node.context.ok()

    def wait_for_subscribers(self) -> bool:
        """Wait until every publisher has ``wait_for_subscribers`` matches; False on timeout."""
        if self.wait_for <= 0:
            return True
        deadline = None if self.wait_timeout is None else time.monotonic() + self.wait_timeout
        logged = False
        while self._ok():
            waiting = [p.topic_name for p in self.publishers.values()
                       if p.get_subscription_count() < self.wait_for]
            if not waiting:
                return True
            if deadline is not None and time.monotonic() > deadline:
                self.node.get_logger().warning(
                    f'no {self.wait_for} subscriber(s) on {waiting} after '
                    f'{self.wait_timeout} s; playing anyway')
                return False
            if not logged:
                self.node.get_logger().info(
                    f'waiting for {self.wait_for} subscriber(s) on {waiting} (choose '
                    'topics with --topics if some will never have one)')
                logged = True
            self._stop.wait(0.02)
        return False

    def _publish_clock(self, bag_ns: int):
        if self.clock_pub is not None:
            self.clock_pub.publish(Clock(clock=_stamp(bag_ns)))

    def _sleep_until(self, target: float, clock_at_target: int):
        """
        Sleep until monotonic ``target``, publishing /clock meanwhile when asked.

        The clock runs at ``rate`` and reaches ``clock_at_target`` (bag time) at ``target``.
        """
        while self._ok():
            now = time.monotonic()
            if now >= target:
                return
            step = target - now
            if self.clock_pub is not None:
                self._publish_clock(clock_at_target - int(step * self.rate * 1e9))
                step = min(step, 1.0 / self.clock_hz)
            self._stop.wait(min(step, 0.1))

    def stats(self) -> Dict:
        """
        Return what was played so far.

        ``elapsed_s`` is the wall time from the first to the last publication and
        ``played_bag_s`` the bag time between those messages (loops added), so with
        ``rate > 0``, ``elapsed_s >= played_bag_s / rate`` always holds.
        """
        return {'published': self.published, 'loops': self.loops, 'rate': self.rate,
                'elapsed_s': self._elapsed, 'played_bag_s': self._played_ns / 1e9,
                'bag_duration_s': self.span_ns / 1e9, 'interrupted': self._stop.is_set()}

    LINGER_S = 0.5  # after the last message, before the publishers go away

    def run(self) -> Dict:
        """Play the bag (once, or until interrupted with ``loop``); return ``stats()``."""
        self.wait_for_subscribers()
        if self.delay:
            self._stop.wait(self.delay)
        t0 = bag_first = None
        ack = Duration(seconds=self.ack_timeout)
        warned = False
        while self._ok():
            loop_ns = self.loops * self.loop_ns
            for msg in iter_raw(self.bag, self.topics):
                if not self._ok():
                    break
                if t0 is None:  # the bag is open: the clock starts at the first message
                    t0, bag_first = time.monotonic(), msg.timestamp_ns
                bag_ns = msg.timestamp_ns - bag_first + loop_ns
                if self.rate > 0:
                    self._sleep_until(t0 + bag_ns / 1e9 / self.rate, msg.timestamp_ns)
                    if not self._ok():
                        break
                self._publish_clock(msg.timestamp_ns)
                pub = self.publishers[msg.topic]
                sent = time.monotonic()
                pub.publish(msg.data)
                self.published += 1
                self._elapsed, self._played_ns = sent - t0, bag_ns
                if self.rate == 0 and not pub.wait_for_all_acked(ack) and not warned:
                    self.node.get_logger().warning(
                        f'a subscriber of {pub.topic_name} did not acknowledge within '
                        f'{self.ack_timeout} s; going on')
                    warned = True
            self.loops += 1
            if not self.loop or t0 is None:
                break
        for pub in self.publishers.values():  # deliver the tail before leaving
            if self._ok():
                pub.wait_for_all_acked(ack)
        # Best-effort readers cannot acknowledge: without a pause the last message could
        # be released with its publisher before they read it (seen: 1 run in 3 of the
        # demo lost the bag's last frame).
        if t0 is not None and self._ok():
            self._stop.wait(self.LINGER_S)
        return self.stats()


def run_player(bag, *, ros_args: Optional[Sequence[str]] = None, **options) -> Dict:
    """
    Initialise rclpy, play ``bag`` with ``BagPlayer(**options)``, shut down.

    SIGINT and SIGTERM stop playing (``GracefulStop``). Returns the player's statistics,
    with ``interrupted`` true when a signal ended it.
    """
    rclpy.init(args=['hydranet-bag', *(ros_args or [])],
               signal_handler_options=SignalHandlerOptions.NO)
    node = player = None
    stats = {'published': 0, 'interrupted': True}
    with GracefulStop() as stop:
        try:
            node = rclpy.create_node('hydranet_bag_player')
            player = BagPlayer(node, bag, stop=stop, **options)
            stats = player.run()
        except (KeyboardInterrupt, ExternalShutdownException):
            stats = dict(player.stats() if player else stats, interrupted=True)
        finally:
            if node is not None:
                node.destroy_node()
            rclpy.try_shutdown()
    return stats


__all__ = ['BagPlayer', 'GracefulStop', 'message_class', 'run_player', 'to_rclpy']
