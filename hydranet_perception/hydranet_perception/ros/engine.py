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

A thin user of ``inference``: one ``Predictor.from_weights`` per load (one read of the
weights), refusals as ``EngineError`` with a message that says what to do, and the
run-time options (tasks, thresholds, class filter) applied per call without changing
the Predictor.
"""

import pathlib
from typing import List, Optional, Sequence, Tuple

from hydranet_perception.inference.predictor import Predictor
from hydranet_perception.inference.stages import ClassFilter
from hydranet_perception.inference.weights import check_weights
from hydranet_perception.prediction import Prediction
import numpy as np


def model_name(config) -> str:
    """Return the model's name for ModelInfo and logs, e.g. hydranet-n or yolov8n-seg."""
    if config.family == 'yolov8':
        return f'yolov8{config.size}-seg (imported)'
    return f'{config.family}-{config.size}'


class EngineError(RuntimeError):
    """The model cannot be loaded; the message says why and what to do."""


class Engine:
    """
    A loaded model and its identity, ready for ``predict``.

    :param weights: a .pt or .onnx file; empty for the shipped weights.
    :param device: 'auto', 'cpu' or 'cuda:N'.
    :param backend: 'auto' or a runtime's name.
    :param fp16: half precision on CUDA.
    :param input_size: (H, W); zeros for the trained size.
    :param threads: CPU threads of the runtime (0: its default).
    :raises EngineError: the weights cannot be loaded on that runtime and device.
    """

    def __init__(self, *, weights: str = '', device: str = 'auto', backend: str = 'auto',
                 fp16: bool = True, input_size: Tuple[int, int] = (0, 0), threads: int = 0):
        try:
            self.predictor = Predictor.from_weights(
                weights, backend=backend, device=device, fp16=fp16,
                input_size=tuple(input_size) if all(input_size) else None,
                threads=threads or None)
        except (ValueError, OSError, ImportError, RuntimeError) as e:
            raise EngineError(f'cannot load {weights or "the shipped weights"} with backend '
                              f'{backend} on {device}: {e}') from None
        loaded = self.predictor.weights
        self.weights_path = str(loaded.path)
        self.weights_sha256 = loaded.sha256
        self.backend = self.predictor.backend_name  # 'auto' resolved
        self.device = str(self.predictor.device)
        self.input_size = tuple(self.predictor.input_size)
        self.label_space = self.predictor.label_space
        self.model_name = model_name(self.predictor.config)
        # One pass on a blank frame: the first forward pays for lazy initialisation
        # (kernels, allocator, page faults on a cold disk), often seconds, which must
        # not land on the first camera frames.
        h, w = self.input_size
        self.predictor(np.zeros((h, w, 3), np.uint8))

    @property
    def tasks(self) -> Tuple[str, ...]:
        """Return the heads the model runs by default (all it has)."""
        return tuple(self.predictor.tasks)

    @staticmethod
    def check_weights(weights: str) -> Optional[str]:
        """Return why ``weights`` cannot be used, or None when it looks loadable (cheap)."""
        return check_weights(weights)

    def describe(self) -> str:
        """Return a one-line identity for logs and diagnostics."""
        return (f'{self.model_name} {self.backend} on {self.device}, input '
                f'{self.input_size[1]}x{self.input_size[0]}, tasks {",".join(self.tasks)}, '
                f'weights {pathlib.Path(self.weights_path).name} '
                f'sha256 {self.weights_sha256[:12]}')

    def class_ids(self, class_filter: Sequence[str]) -> Tuple[int, ...]:
        """Return the class ids of the names in ``class_filter``."""
        return tuple(self.label_space.by_name(n).id for n in class_filter)

    def predict(self, rgb: np.ndarray, *, tasks: Sequence[str], class_filter: Sequence[str],
                **thresholds) -> Prediction:
        """Run the requested heads on one RGB image; keep only ``class_filter`` classes."""
        pred = self.predictor(rgb, tasks=tasks, **thresholds)
        if class_filter:
            pred = ClassFilter(self.class_ids(class_filter))(pred, None)
        return pred

    def predict_batch(self, rgbs: Sequence[np.ndarray], *, tasks: Sequence[str],
                      class_filter: Sequence[str], **thresholds) -> List[Prediction]:
        """Run the requested heads on several RGB images as one batch (see ``predict``)."""
        return self.postprocess_batch(self.forward_batch(rgbs, tasks=tasks),
                                      class_filter=class_filter, **thresholds)

    def forward_batch(self, rgbs: Sequence[np.ndarray], *, tasks: Sequence[str]):
        """Letterbox and run the forward pass of a batch (``Predictor.forward_batch``)."""
        return self.predictor.forward_batch(rgbs, tasks=tasks)

    def postprocess_batch(self, forward, *, class_filter: Sequence[str],
                          **thresholds) -> List[Prediction]:
        """Postprocess ``forward_batch``'s result; keep only ``class_filter`` classes."""
        preds = self.predictor.postprocess_batch(forward, **thresholds)
        if class_filter:
            keep = ClassFilter(self.class_ids(class_filter))
            preds = [keep(p, None) for p in preds]
        return preds
