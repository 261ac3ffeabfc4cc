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
The plumbing of a live pipeline, free of ROS: latest-frame slot, counters, log throttle.

The node uses them around the Predictor: its subscription callback parks the newest
frame in a ``LatestSlot``, its inference thread takes it, ``PipelineStats`` counts and
times what happens to every frame and ``Throttle`` rate-limits repeated log lines.
"""

from collections import Counter, deque
import threading
import time
from typing import Any, Dict, Optional

import numpy as np


class LatestSlot:
    """
    A one-item mailbox: ``put`` never waits and replaces an unread item.

    The subscription callback puts frames; the inference thread takes them. A frame
    replaced before it was taken is a drop, and ``put`` returns True for it.
    """

    def __init__(self):
        self._cond = threading.Condition()
        self._item: Optional[Any] = None
        self._closed = False

    def put(self, item: Any) -> bool:
        """Store ``item``; return True when it replaced one nobody had taken."""
        with self._cond:
            dropped = self._item is not None
            self._item = item
            self._cond.notify()
            return dropped

    def take(self, timeout: Optional[float] = None) -> Optional[Any]:
        """Return the newest item, waiting up to ``timeout`` s; None on timeout or close."""
        with self._cond:
            if self._item is None and not self._closed:
                self._cond.wait(timeout)
            item, self._item = self._item, None
            return item

    def clear(self) -> bool:
        """Drop any waiting item; return True if there was one."""
        with self._cond:
            had = self._item is not None
            self._item = None
            return had

    def close(self):
        """Wake a waiting ``take`` for good (shutdown)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()


class PipelineStats:
    """
    Counters and latency/rate figures of the pipeline; thread-safe.

    Invariant once the pipeline is idle: ``frames_in == frames_processed +
    frames_dropped + frames_rejected`` (rejected: refused as bad input or failed).
    """

    def __init__(self, window: int = 300):
        self._lock = threading.Lock()
        self.frames_in = 0
        self.frames_processed = 0
        self.frames_dropped = 0
        self.frames_rejected = 0
        self.errors: Counter = Counter()
        self.last_error = ''
        self._window = window
        self._latency = deque(maxlen=window)
        self._stage_ms: Dict[str, deque] = {}
        self._done_at = deque(maxlen=window)

    def frame_in(self):
        with self._lock:
            self.frames_in += 1

    def dropped(self, n: int = 1):
        with self._lock:
            self.frames_dropped += n

    def rejected(self, kind: str, message: str):
        """Count a refused frame under ``kind`` and remember its message."""
        with self._lock:
            self.frames_rejected += 1
            self.errors[kind] += 1
            self.last_error = f'{kind}: {message}'

    def error(self, kind: str, message: str):
        """Count a problem that is not a frame (e.g. a refused parameter)."""
        with self._lock:
            self.errors[kind] += 1
            self.last_error = f'{kind}: {message}'

    def processed(self, latency_s: float, stages_s: Optional[Dict[str, float]] = None):
        """
        Record a processed frame.

        :param latency_s: seconds from the frame's receipt to its outputs being published.
        :param stages_s: seconds spent in named stages of that frame (e.g. ``model``,
            ``forward``, ``publish``); each is reported as ``<name>_ms_p50``.
        """
        with self._lock:
            self.frames_processed += 1
            self._latency.append(latency_s * 1e3)
            for name, seconds in (stages_s or {}).items():
                self._stage_ms.setdefault(name, deque(maxlen=self._window)).append(
                    seconds * 1e3)
            self._done_at.append(time.monotonic())

    def timed(self, name: str, seconds: float):
        """Record one sample of a stage timed apart from ``processed`` (e.g. overlay)."""
        with self._lock:
            self._stage_ms.setdefault(name, deque(maxlen=self._window)).append(
                seconds * 1e3)

    def snapshot(self) -> Dict[str, Any]:
        """Return a consistent copy of every figure (latencies in ms over the window)."""
        with self._lock:
            lat = np.array(self._latency, np.float64)
            stages = {k: np.array(v, np.float64) for k, v in self._stage_ms.items()}
            done = list(self._done_at)
            snap = {
                'frames_in': self.frames_in,
                'frames_processed': self.frames_processed,
                'frames_dropped': self.frames_dropped,
                'frames_rejected': self.frames_rejected,
                'errors': dict(self.errors),
                'last_error': self.last_error,
            }
        snap['latency_ms_p50'] = float(np.percentile(lat, 50)) if lat.size else 0.0
        snap['latency_ms_p95'] = float(np.percentile(lat, 95)) if lat.size else 0.0
        for name, ms in sorted(stages.items()):
            snap[f'{name}_ms_p50'] = float(np.percentile(ms, 50)) if ms.size else 0.0
        span = done[-1] - done[0] if len(done) > 1 else 0.0
        snap['rate_hz'] = (len(done) - 1) / span if span > 0 else 0.0
        return snap


class Throttle:
    """Per-key rate limit for log lines: one line per key per ``period`` seconds."""

    def __init__(self, period: float = 5.0):
        self.period = period
        self._last: Dict[str, float] = {}
        self._lock = threading.Lock()

    def ready(self, key: str) -> bool:
        """Return True (and start a new period) when ``key`` may be logged now."""
        now = time.monotonic()
        with self._lock:
            if now - self._last.get(key, -1e9) >= self.period:
                self._last[key] = now
                return True
            return False
