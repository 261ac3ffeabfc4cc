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
A lifecycle manager cycling hydranet_node, over its real lifecycle services.

As nav2's lifecycle manager does on a robot: deactivate/activate many times, and
cleanup/configure. After every cycle the node must answer a frame, its publishers and
subscriptions must be the ones it started with (no doubled entities), and its resident
memory must not grow.
"""

import pathlib

from builtin_interfaces.msg import Time
from hydranet_perception.data.synthetic import generate_scene
from hydranet_perception_msgs.msg import InstanceArray
from lifecycle_msgs.msg import State, Transition
from lifecycle_msgs.srv import ChangeState, GetState
import numpy as np
import pytest
from rclpy.qos import QoSProfile, ReliabilityPolicy
import rosgraph
from sensor_msgs.msg import Image
from std_msgs.msg import Header

NS, NAME = '/lc', 'hydranet'
FRAME = generate_scene(11, height=240, width=320).image
ACTIVATE_CYCLES = 50
CONFIGURE_CYCLES = 10


def rss_kb(pid: int) -> int:
    """Resident memory of a process in KiB (Linux /proc)."""
    for line in pathlib.Path(f'/proc/{pid}/status').read_text().splitlines():
        if line.startswith('VmRSS:'):
            return int(line.split()[1])
    raise RuntimeError(f'no VmRSS for pid {pid}')


class Manager:
    """Drive the node's lifecycle services and count its graph entities."""

    def __init__(self, watcher):
        self.w = watcher
        node = watcher.node
        self.change = node.create_client(ChangeState, f'{NS}/{NAME}/change_state')
        self.get = node.create_client(GetState, f'{NS}/{NAME}/get_state')
        assert self.change.wait_for_service(timeout_sec=30)
        assert self.get.wait_for_service(timeout_sec=30)

    def state(self) -> int:
        fut = self.get.call_async(GetState.Request())
        assert self.w.spin_until(fut.done, 10)
        return fut.result().current_state.id

    def transition(self, transition_id: int):
        fut = self.change.call_async(ChangeState.Request(
            transition=Transition(id=transition_id)))
        assert self.w.spin_until(fut.done, 60), f'transition {transition_id} timed out'
        assert fut.result().success, f'transition {transition_id} failed'

    def entities(self):
        """Return ({topic: publishers of the node}, {topic: subscriptions of the node})."""
        node = self.w.node
        pubs, subs = {}, {}
        for topic, _ in node.get_topic_names_and_types():
            for infos, out in ((node.get_publishers_info_by_topic(topic), pubs),
                               (node.get_subscriptions_info_by_topic(topic), subs)):
                n = sum(1 for i in infos if i.node_name == NAME and i.node_namespace == NS)
                if n:
                    out[topic] = n
        return pubs, subs


@pytest.fixture(scope='module')
def managed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('lifecycle')
    proc = rosgraph.start_node(tmp, namespace=NS, params={'diagnostics_period': 1.0})
    w = rosgraph.Watcher('lifecycle_manager')
    w.subscribe(InstanceArray, f'{NS}/{NAME}/instances')
    w.image_pub = w.node.create_publisher(Image, '/cam/image_raw',
                                          QoSProfile(depth=5,
                                                     reliability=ReliabilityPolicy.RELIABLE))
    m = Manager(w)
    assert w.spin_until(lambda: m.state() == State.PRIMARY_STATE_ACTIVE, 90, proc), \
        rosgraph.node_log(proc)
    m.proc = proc
    yield m
    w.close()
    assert rosgraph.stop_node(proc) == 0, rosgraph.node_log(proc)


def _answers(m, sec):
    """Send frames until one comes back on ~/instances (best-effort input)."""
    stamp = Time(sec=sec, nanosec=1)
    data = np.ascontiguousarray(FRAME)
    msg = Image(header=Header(stamp=stamp, frame_id='cam'), height=data.shape[0],
                width=data.shape[1], encoding='rgb8', step=data.shape[1] * 3,
                data=data.tobytes())
    out = m.w.received[f'{NS}/{NAME}/instances']
    for _ in range(30):
        m.w.image_pub.publish(msg)
        if m.w.spin_until(lambda: rosgraph.by_stamp(out, stamp), 2.0, m.proc):
            return True
    return False


def _wait_entities(m, expected, timeout=20.0):
    """Wait until the graph shows exactly ``expected`` (discovery is eventual)."""
    seen = [None]

    def same():
        seen[0] = m.entities()
        return seen[0] == expected
    assert m.w.spin_until(same, timeout), f'entities {seen[0]} != {expected}'


def test_activate_deactivate_and_cleanup_configure_cycles(managed):
    m = managed
    assert _answers(m, 1)
    # Warm-up: one activate cycle and three configure cycles, so that what cycles
    # allocate once (thread stacks, allocator arenas, the runtime's caches) is in.
    # Measured (2026-12-02): over 30 configure cycles RSS moves within +-2 MB of a
    # level it reaches in the first few, with no trend; 100 activate cycles stay within
    # 1 MB; the level after configure cycles depends on what ran before (+-4 MB). So
    # each kind of cycle is checked on its own: RSS after the 50 activate cycles against
    # before them, and the median of the last five configure cycles against the median
    # of the first five (a cycle's noise does not decide it; a leak of 1.6 MB per
    # configure cycle, 2% of the ~250 MB node over five cycles, fails it).
    m.transition(Transition.TRANSITION_DEACTIVATE)
    m.transition(Transition.TRANSITION_ACTIVATE)
    for _ in range(3):
        _configure_cycle(m)
    assert _answers(m, 2), rosgraph.node_log(m.proc)
    baseline = m.entities()
    pubs, subs = baseline
    assert any(t.endswith('/instances') for t in pubs) and '/cam/image_raw' in subs
    assert all(n == 1 for n in list(pubs.values()) + list(subs.values())), baseline
    rss0 = rss_kb(m.proc.pid)

    for i in range(ACTIVATE_CYCLES):
        m.transition(Transition.TRANSITION_DEACTIVATE)
        assert m.state() == State.PRIMARY_STATE_INACTIVE
        m.transition(Transition.TRANSITION_ACTIVATE)
        assert _answers(m, 100 + i), f'no answer after activate cycle {i}'
    _wait_entities(m, baseline)
    rss_activate = rss_kb(m.proc.pid)

    samples = []
    for i in range(CONFIGURE_CYCLES):
        _configure_cycle(m, check_unconfigured=True)
        assert _answers(m, 1000 + i), f'no answer after configure cycle {i}'
        _wait_entities(m, baseline)
        samples.append(rss_kb(m.proc.pid))
    first, last = int(np.median(samples[:5])), int(np.median(samples[-5:]))
    activate_growth = (rss_activate - rss0) / rss0
    configure_growth = (last - first) / first
    print(f'RSS {rss0} -> {rss_activate} KiB over {ACTIVATE_CYCLES} activate cycles '
          f'({100 * activate_growth:+.2f}%); over {CONFIGURE_CYCLES} configure cycles '
          f'{samples} KiB, median of the last five vs the first five '
          f'{100 * configure_growth:+.2f}%')
    assert activate_growth < 0.02, f'RSS grew {100 * activate_growth:.1f}% over activate cycles'
    assert configure_growth < 0.02, f'RSS grew {100 * configure_growth:.1f}% over configure ' \
        f'cycles: {samples}'


def _configure_cycle(m, check_unconfigured=False):
    for t in (Transition.TRANSITION_DEACTIVATE, Transition.TRANSITION_CLEANUP):
        m.transition(t)
    if check_unconfigured:
        assert m.state() == State.PRIMARY_STATE_UNCONFIGURED
    for t in (Transition.TRANSITION_CONFIGURE, Transition.TRANSITION_ACTIVATE):
        m.transition(t)
