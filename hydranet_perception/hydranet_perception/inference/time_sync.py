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
Approximate-time pairing of message streams, as message_filters does it, without ROS.

``message_filters`` (the ROS 2 package whose ``ApproximateTimeSynchronizer`` pairs a
colour image with its depth image) cannot be installed from PyPI, so the node carries
the same rule here, on plain integers (header stamps in nanoseconds):

* each input has a queue keyed by stamp; a new item with a stamp already queued
  replaces it; beyond ``queue_size`` items the oldest stamp is dropped;
* when an item arrives, every other queue's stamps within ``slop`` of its stamp
  (``|dt| <= slop``) are candidates, nearest first; the first combination (in that
  order) whose stamps span strictly less than ``slop`` is emitted and its items leave
  their queues; if some queue has no candidate nothing happens.

``ApproximateTimeSync.add`` is exactly that (``test_time_sync.py`` runs it beside
``message_filters.ApproximateTimeSynchronizer`` on the same stamp streams where that
package imports). ``match`` is the node's use of it: the colour frame is paired, when
its prediction is ready, with the best depth image *already received*, by the same
rule, and is never queued; so the colour path never waits for depth (see
``ros/depth_input.py``).
"""

import itertools
import threading
from typing import Any, Dict, List, Optional, Tuple


class ApproximateTimeSync:
    """
    Pair items of several inputs by their stamps (message_filters' approximate rule).

    :param num_inputs: how many inputs (2: colour and depth).
    :param queue_size: the most items kept per input (>= 1).
    :param slop_s: the largest stamp difference paired, seconds (>= 0).
    :raises ValueError: for fewer than 2 inputs, a queue size < 1 or a negative slop.
    """

    def __init__(self, *, num_inputs: int, queue_size: int, slop_s: float):
        if num_inputs < 2 or queue_size < 1 or not slop_s >= 0:
            raise ValueError(f'need num_inputs >= 2, queue_size >= 1 and slop_s >= 0, got '
                             f'{num_inputs}, {queue_size}, {slop_s}')
        self.queue_size = int(queue_size)
        self.slop_ns = int(slop_s * 1e9)  # as rclpy.duration.Duration(seconds=slop)
        self._queues: List[Dict[int, Any]] = [{} for _ in range(num_inputs)]
        self._lock = threading.Lock()

    def add(self, index: int, stamp_ns: int, item: Any) -> Optional[Tuple[Any, ...]]:
        """
        Queue ``item`` on input ``index``; return a paired set if this completes one.

        :param index: the input (0-based).
        :param stamp_ns: the item's header stamp, nanoseconds.
        :param item: anything.
        :return: one item per input, in input order (they leave the queues), or None.
        """
        stamp_ns = int(stamp_ns)
        with self._lock:
            queue = self._queues[index]
            queue[stamp_ns] = item
            while len(queue) > self.queue_size:
                del queue[min(queue)]
            return self._search(index, stamp_ns, item, queued=True)

    def match(self, index: int, stamp_ns: int, item: Any) -> Optional[Tuple[Any, ...]]:
        """
        Pair ``item`` with the items queued on the other inputs, without queueing it.

        The same search as ``add``; the other items of a pair leave their queues, and
        ``item`` is forgotten when nothing pairs.

        :return: one item per input (``item`` at ``index``), or None.
        """
        with self._lock:
            return self._search(index, int(stamp_ns), item, queued=False)

    def pending(self, index: int) -> int:
        """Return how many items wait on input ``index``."""
        with self._lock:
            return len(self._queues[index])

    def clear(self):
        """Forget every queued item."""
        with self._lock:
            for queue in self._queues:
                queue.clear()

    def _search(self, index: int, stamp_ns: int, item: Any, *, queued: bool
                ) -> Optional[Tuple[Any, ...]]:
        candidates = []
        for i, queue in enumerate(self._queues):
            if i == index:
                continue
            near = [(s, abs(s - stamp_ns)) for s in queue if abs(s - stamp_ns) <= self.slop_ns]
            if not near:
                return None
            near.sort(key=lambda pair: pair[1])  # stable: ties keep arrival order
            candidates.append([s for s, _ in near])
        for combo in itertools.product(*candidates):
            stamps = list(combo)
            stamps.insert(index, stamp_ns)
            if max(stamps) - min(stamps) < self.slop_ns:
                out = []
                for i, s in enumerate(stamps):
                    out.append(item if i == index else self._queues[i].pop(s))
                if queued:
                    del self._queues[index][stamp_ns]
                return tuple(out)
        return None


__all__ = ['ApproximateTimeSync']
