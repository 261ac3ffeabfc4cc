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

"""The approximate-time pairing (``inference/time_sync.py``), and message_filters beside it."""

import types

from hydranet_perception.inference.time_sync import ApproximateTimeSync
import numpy as np
import pytest

MS = 1_000_000  # nanoseconds


def _sync(queue_size=5, slop_s=0.010, n=2):
    return ApproximateTimeSync(num_inputs=n, queue_size=queue_size, slop_s=slop_s)


def test_the_nearest_item_within_slop_pairs_and_leaves_the_queue():
    s = _sync()
    for t in (0, 33, 66):
        assert s.add(1, t * MS, f'd{t}') is None  # depth alone pairs with nothing
    assert s.add(0, 31 * MS, 'c31') == ('c31', 'd33')
    assert s.pending(1) == 2 and s.pending(0) == 0
    assert s.add(0, 40 * MS, 'c40') is None  # d33 is gone; d66 is 26 ms away
    assert s.pending(0) == 1
    assert s.add(1, 45 * MS, 'd45') == ('c40', 'd45')  # the waiting colour pairs now


def test_slop_is_inclusive_for_candidates_but_the_span_must_be_below_it():
    # message_filters keeps candidates with |dt| <= slop, then needs max - min < slop
    s = _sync(slop_s=0.010)
    s.add(1, 10 * MS, 'd')
    assert s.match(0, 0, 'c') is None  # exactly 10 ms: not paired
    assert s.match(0, 1 * MS, 'c') == ('c', 'd')


def test_queue_size_drops_the_oldest_stamp_and_a_repeated_stamp_replaces():
    s = _sync(queue_size=2)
    for t in (0, 100, 200):
        s.add(1, t * MS, f'd{t}')
    assert s.pending(1) == 2
    assert s.match(0, 0, 'c') is None  # d0 was dropped
    s.add(1, 200 * MS, 'again')
    assert s.pending(1) == 2
    assert s.match(0, 201 * MS, 'c') == ('c', 'again')


def test_match_never_queues_the_item():
    s = _sync()
    assert s.match(0, 0, 'c') is None
    assert s.pending(0) == 0
    assert s.add(1, 1 * MS, 'd') is None  # nothing waits on input 0 to pair with


def test_three_inputs_take_the_first_combination_within_slop():
    s = _sync(n=3, slop_s=0.010)
    s.add(1, 0, 'a0')
    s.add(1, 8 * MS, 'a8')
    s.add(2, 12 * MS, 'b12')
    # nearest to 5 ms: a8 (3 ms) then a0; with b12 the span 5..12 < 10 ms pairs a8
    assert s.add(0, 5 * MS, 'c5') == ('c5', 'a8', 'b12')
    assert s.pending(1) == 1


@pytest.mark.parametrize('bad', [(1, 5, 0.1), (2, 0, 0.1), (2, 5, -1.0), (2, 5, float('nan'))])
def test_bad_settings_are_refused(bad):
    with pytest.raises(ValueError):
        ApproximateTimeSync(num_inputs=bad[0], queue_size=bad[1], slop_s=bad[2])


def _streams(seed, n=400):
    """Return [(input, stamp_ns)] in arrival order: colour and depth with jitter, drops."""
    rng = np.random.default_rng(seed)
    period = 33_333_333
    offset = int(rng.uniform(-8, 8) * MS)  # depth stamped a little off the colour
    events = []
    for k in range(n):
        base = 1_000_000_000 + k * period
        for i, (stamp, delay) in enumerate(((base, rng.uniform(0, 5)),
                                            (base + offset + int(rng.normal(0, 3) * MS),
                                             rng.uniform(0, 40)))):
            if rng.random() < 0.1:  # lost on the way
                continue
            events.append((base + delay * MS, i, stamp))
    events.sort()
    return [(i, s) for _, i, s in events]


def _ours(events, queue_size, slop_s):
    s = ApproximateTimeSync(num_inputs=2, queue_size=queue_size, slop_s=slop_s)
    out = []
    for i, stamp in events:
        pair = s.add(i, stamp, stamp)
        if pair:
            out.append(pair)
    return out


@pytest.mark.parametrize('seed', range(6))
def test_same_pairs_as_message_filters(seed):
    mf = pytest.importorskip(
        'message_filters', reason='message_filters is not installable here (no PyPI '
        'wheel; it comes with a ROS install): run this test on a ROS install')
    from builtin_interfaces.msg import Time
    from std_msgs.msg import Header
    events = _streams(seed)
    queue_size, slop = (3, 5, 10)[seed % 3], (0.005, 0.010, 0.020)[seed % 3]
    inputs = [mf.SimpleFilter(), mf.SimpleFilter()]
    sync = mf.ApproximateTimeSynchronizer(inputs, queue_size, slop)
    theirs = []
    sync.registerCallback(lambda *msgs: theirs.append(tuple(m.stamp_ns for m in msgs)))
    for i, stamp in events:
        sec, nanosec = divmod(stamp, 1_000_000_000)
        msg = types.SimpleNamespace(header=Header(stamp=Time(sec=sec, nanosec=nanosec)),
                                    stamp_ns=stamp)
        inputs[i].signalMessage(msg)
    ours = _ours(events, queue_size, slop)
    assert len(ours) >= 50  # the streams do pair (and not always)
    assert ours == theirs
