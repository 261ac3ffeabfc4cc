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
The node's model: a Predictor plus what the node reports about it (no rclpy).

Resolves the default (shipped) weights, refuses missing or wrong files with a message
that says what to do, and applies the run-time options (tasks, thresholds, class
filter) to each call.
"""

import hashlib
import pathlib
from typing import Optional, Sequence, Tuple

from hydranet_perception.engine.runtimes import make_predictor, resolve_weights
from hydranet_perception.model.checkpoint import CheckpointError, load_checkpoint
from hydranet_perception.prediction import Prediction
import numpy as np


class EngineError(RuntimeError):
    """The model cannot be loaded; the message says why and what to do."""


def _sha256(path: pathlib.Path) -> str:
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


class Engine:
    """A loaded model and its identity, ready for ``predict``."""

    def __init__(self, *, weights: str = '', device: str = 'auto', backend: str = 'auto',
                 fp16: bool = True, input_size: Tuple[int, int] = (0, 0), threads: int = 0):
        reason = self.check_weights(weights)
        if reason:
            raise EngineError(reason)
        path = resolve_weights(weights)
        size = tuple(input_size) if all(input_size) else None
        try:
            self.predictor = make_predictor(str(path), backend=backend, device=device,
                                            fp16=fp16, input_size=size, threads=threads)
        except (CheckpointError, ValueError, OSError, ImportError, RuntimeError) as e:
            raise EngineError(f'cannot load {path} with backend {backend} on {device}: {e}')
        self.weights_path = str(path)
        self.weights_sha256 = _sha256(path)
        self.backend = self.predictor.backend_name  # 'auto' resolved
        self.device = str(self.predictor.device)
        self.input_size = tuple(self.predictor.input_size)
        self.label_space = self.predictor.label_space
        self.model_name = f'hydranet-{self.predictor.config.size}'
        self._all_tasks = tuple(self.predictor.tasks)
        # One pass on a blank frame: the first forward pays for lazy initialisation
        # (kernels, allocator, page faults on a cold disk), often seconds, which must
        # not land on the first camera frames.
        h, w = self.input_size
        self.predictor(np.zeros((h, w, 3), np.uint8))

    @property
    def tasks(self) -> Tuple[str, ...]:
        return tuple(self.predictor.tasks)

    @staticmethod
    def check_weights(weights: str) -> Optional[str]:
        """Return why ``weights`` cannot be used, or None when it looks loadable."""
        path = resolve_weights(weights)
        if not path.exists():
            if not weights:
                return (f'the shipped weights {path} are missing: reinstall the package or '
                        'run `make weights`, or set the weights parameter to a checkpoint')
            return f'weights file {path} not found: give the path of a .pt or .onnx file'
        if not path.is_file():
            return f'weights {path} is not a file'
        if path.suffix == '.onnx':
            with open(path, 'rb') as f:
                head = f.read(16)
            if not head:
                return f'weights {path} is empty: export it again with hydranet-export'
            return None
        try:
            load_checkpoint(path)
        except CheckpointError as e:
            return str(e)
        return None

    def describe(self) -> str:
        """Return a one-line identity for logs and diagnostics."""
        return (f'{self.model_name} {self.backend} on {self.device}, input '
                f'{self.input_size[1]}x{self.input_size[0]}, tasks {",".join(self.tasks)}, '
                f'weights {pathlib.Path(self.weights_path).name} '
                f'sha256 {self.weights_sha256[:12]}')

    def predict(self, rgb: np.ndarray, *, tasks: Sequence[str], class_filter: Sequence[str],
                **thresholds) -> Prediction:
        """Run the requested heads on one RGB image; keep only ``class_filter`` classes."""
        wanted = tuple(t for t in self._all_tasks if t in set(tasks))
        if wanted != tuple(self.predictor.tasks):
            self.predictor.tasks = wanted
        pred = self.predictor(rgb, **thresholds)
        if class_filter:
            keep_ids = [self.label_space.by_name(n).id for n in class_filter]
            pred = filter_classes(pred, keep_ids)
        return pred


def filter_classes(pred: Prediction, class_ids: Sequence[int]) -> Prediction:
    """Keep the instances of ``class_ids`` (panoptic and semantic maps are unchanged)."""
    keep = np.isin(pred.class_ids, np.asarray(class_ids, np.int64))
    pred.boxes, pred.scores, pred.class_ids = pred.boxes[keep], pred.scores[keep], \
        pred.class_ids[keep]
    if pred.masks is not None:
        pred.masks = pred.masks[keep]
    if pred.keypoints is not None:
        pred.keypoints = pred.keypoints[keep]
    if pred.instance_ids is not None:
        pred.instance_ids = pred.instance_ids[keep]
    return pred
