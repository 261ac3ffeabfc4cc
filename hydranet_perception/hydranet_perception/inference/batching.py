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
Several cameras, one model: one latest-frame slot per camera, taken as one batch.

``LatestSlots`` is ``pipeline.LatestSlot`` for several inputs under one lock: each
input's callback puts its newest frame (replacing an unread one, a drop), and the
inference thread takes whatever frames wait, up to ``max_batch``, oldest-waiting first.
A fast camera's replaced frames do not refresh its place in the queue (it waits since
its first unread frame), so with more cameras than ``max_batch`` every camera is taken
within ``ceil(cameras / max_batch)`` batches of getting a frame: none starves.
"""

import threading
import time
from typing import Any, Dict, Hashable, List, Optional, Sequence, Tuple


class LatestSlots:
    """
    One-item mailboxes, one per key, taken together: ``put`` never waits.

    :param keys: the inputs (e.g. camera names), in the order ties are broken.
    """

    def __init__(self, keys: Sequence[Hashable]):
        self._cond = threading.Condition()
        self._order = {k: i for i, k in enumerate(keys)}
        self._items: Dict[Hashable, Any] = {}
        self._since: Dict[Hashable, float] = {}
        self._closed = False

    @property
    def keys(self) -> Tuple[Hashable, ...]:
        """Return the keys, in their order."""
        return tuple(self._order)

    def put(self, key: Hashable, item: Any) -> bool:
        """
        Store ``item`` as the newest of ``key``.

        :return: True when it replaced one of ``key`` that nobody had taken (a drop).
        :raises KeyError: an unknown key.
        """
        if key not in self._order:
            raise KeyError(key)
        with self._cond:
            dropped = key in self._items
            self._items[key] = item
            self._since.setdefault(key, time.monotonic())
            self._cond.notify()
            return dropped

    def take(self, max_batch: int, timeout: Optional[float] = None
             ) -> List[Tuple[Hashable, Any]]:
        """
        Return up to ``max_batch`` waiting ``(key, item)`` pairs, oldest-waiting first.

        Waits up to ``timeout`` s for one; an empty list on timeout or close.
        """
        with self._cond:
            if not self._items and not self._closed:
                self._cond.wait(timeout)
            keys = sorted(self._items, key=lambda k: (self._since[k], self._order[k]))
            keys = keys[:max(1, int(max_batch))]
            for k in keys:
                del self._since[k]
            return [(k, self._items.pop(k)) for k in keys]

    def clear(self) -> List[Hashable]:
        """Drop every waiting item; return the keys that had one."""
        with self._cond:
            keys = list(self._items)
            self._items.clear()
            self._since.clear()
            return keys

    def close(self):
        """Wake a waiting ``take`` for good (shutdown)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()


class BatchStats:
    """
    The sizes of recent batches (thread-safe): how well several cameras share a pass.

    :param window: how many batches the figures cover.
    """

    def __init__(self, window: int = 300):
        self._lock = threading.Lock()
        self._sizes: List[int] = []
        self._window = window
        self.batches = 0

    def add(self, size: int):
        """Record one batch of ``size`` frames."""
        with self._lock:
            self.batches += 1
            self._sizes = (self._sizes + [int(size)])[-self._window:]

    def snapshot(self) -> Dict[str, float]:
        """Return ``batches`` (total), ``batch_size_mean`` and ``batch_size_max`` (window)."""
        with self._lock:
            sizes = list(self._sizes)
            return {'batches': self.batches,
                    'batch_size_mean': sum(sizes) / len(sizes) if sizes else 0.0,
                    'batch_size_max': max(sizes) if sizes else 0}
