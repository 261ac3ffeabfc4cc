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

"""The latest-frame slot and pipeline counters (ROS-free plumbing of the node)."""

import threading

from hydranet_perception.inference.pipeline import LatestSlot, PipelineStats, Throttle
from hydranet_perception.ros.outputs import OverlayWorker


def test_slot_keeps_only_the_newest_and_reports_drops():
    slot = LatestSlot()
    assert slot.put(1) is False
    assert slot.put(2) is True  # 1 was never taken: dropped
    assert slot.take(timeout=0) == 2
    assert slot.take(timeout=0.01) is None
    assert slot.put(3) is False


def test_slot_wakes_a_waiting_consumer():
    slot = LatestSlot()
    got = []
    t = threading.Thread(target=lambda: got.append(slot.take(timeout=30)))
    t.start()
    slot.put('frame')
    t.join(timeout=30)
    assert got == ['frame']


def test_slot_close_releases_the_consumer():
    slot = LatestSlot()
    t = threading.Thread(target=slot.take, kwargs={'timeout': 30})
    t.start()
    slot.close()
    t.join(timeout=30)
    assert not t.is_alive()


def test_stats_invariant_and_percentiles():
    s = PipelineStats()
    for _ in range(10):
        s.frame_in()
    s.dropped(3)
    s.rejected('truncated', 'short data')
    for ms in range(1, 7):
        s.processed(ms / 1e3, {'model': ms / 2e3, 'forward': ms / 4e3})
    snap = s.snapshot()
    assert snap['frames_in'] == snap['frames_processed'] + snap['frames_dropped'] + \
        snap['frames_rejected'] == 10
    assert snap['errors'] == {'truncated': 1}
    assert snap['last_error'] == 'truncated: short data'
    assert abs(snap['latency_ms_p50'] - 3.5) < 1e-9
    assert abs(snap['model_ms_p50'] - 1.75) < 1e-9
    assert abs(snap['forward_ms_p50'] - 0.875) < 1e-9
    s.processed(0.001)  # stages are optional
    assert s.snapshot()['frames_processed'] == 7


def test_throttle_is_per_key():
    t = Throttle(60.0)
    assert t.ready('truncated') and t.ready('corrupt')
    assert not t.ready('truncated')
    assert Throttle(0.0).ready('x')


def test_overlay_worker_draws_every_frame_in_order_and_survives_errors():
    drawn, errors, times = [], [], []

    def render(i):
        if i == 2:
            raise RuntimeError('bad frame')
        drawn.append(i)

    w = OverlayWorker(render=render, on_done=times.append, on_error=errors.append)
    for i in range(6):
        assert w.submit(i)
    w.close()
    assert drawn == [0, 1, 3, 4, 5]
    assert [str(e) for e in errors] == ['bad frame'] and len(times) == 5


def test_overlay_worker_submit_waits_for_one_frame_only():
    gate, drawing = threading.Event(), threading.Event()

    def render(i):
        drawing.set()
        gate.wait(30)

    w = OverlayWorker(render=render, on_done=lambda s: None, on_error=lambda e: None)
    assert w.submit(0)
    assert drawing.wait(30)  # frame 0 is being drawn (blocked on the gate)
    assert w.submit(1, timeout=0)  # waits in the one-frame queue
    assert not w.submit(2, timeout=0.2)  # a third frame: the worker is stuck
    gate.set()
    w.close()
