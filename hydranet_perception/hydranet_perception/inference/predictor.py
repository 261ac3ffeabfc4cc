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
``Predictor``: image in, ``Prediction`` out (letterbox -> forward -> postprocess).

Built once from weights (``Predictor.from_weights(path, backend=..., device=...)``: one
read of the file, see ``weights``), the forward pass delegated to a backend (see
``backends``), the postprocessing the same for all of them. Each call takes the tasks
for that call and per-call thresholds; nothing of the Predictor changes per call, so
one Predictor serves callers that want different heads.
"""

import time
from typing import Any, Dict, Optional, Sequence, Tuple

from hydranet_perception.inference.backends import Backend, make_backend, resolve_backend, \
    TorchBackend
from hydranet_perception.inference.devices import resolve_device
from hydranet_perception.inference.weights import load_weights, Weights
from hydranet_perception.model.config import load_model_config, ModelConfig, NEEDS_DETECT, \
    TASKS
from hydranet_perception.postprocess.pipeline import postprocess
from hydranet_perception.prediction import Prediction
from hydranet_perception.preprocess import letterbox
import numpy as np

#: The thresholds a call may override, with the defaults.
THRESHOLDS = {'score_thresh': 0.25, 'nms_iou': 0.6, 'mask_thresh': 0.5, 'max_det': 100,
              'min_visible_fraction': 0.5, 'min_stuff_area': 64}


class Predictor:
    """
    Letterbox -> one forward pass with the requested heads -> postprocess.

    The usual way to build one is ``Predictor.from_weights``; the constructor also takes
    a ready backend, a checkpoint or graph (``checkpoint=``), or a HydraNet (``model=``).

    :param backend: a ``Backend``, or with ``checkpoint`` a runtime's name.
    :param config: the model's config (default: the weights' or the model's).
    :param checkpoint: a .pt from ``save_checkpoint`` or an .onnx from ``export_onnx``
        (runtime: torch for a .pt, onnxruntime for an .onnx, unless ``backend`` names one).
    :param model: a HydraNet to run with torch.
    :param device: 'auto', 'cpu' or 'cuda:N' (with ``checkpoint`` or ``model``).
    :param fp16: half precision on CUDA.
    :param tasks: the heads a call runs by default (all the backend has when None).
    :param input_size: (H, W) network input (multiples of 32); by default the size an
        ONNX graph was exported at, else the config's.
    :param threads: CPU threads of the runtime (None or 0: its default).
    :param weights: the ``Weights`` the backend was built from (kept for identity).
    :param thresholds: defaults of the per-call thresholds (``THRESHOLDS``).
    """

    def __init__(self, backend: Any = None, config: Optional[ModelConfig] = None, *,
                 checkpoint: Optional[str] = None, model: Any = None, device: str = 'auto',
                 fp16: bool = True, tasks: Optional[Sequence[str]] = None,
                 input_size: Optional[Sequence[int]] = None, threads: Optional[int] = None,
                 weights: Optional[Weights] = None, **thresholds):
        unknown = sorted(set(thresholds) - set(THRESHOLDS))
        if unknown:
            raise TypeError(f'unknown options {unknown}; known: {sorted(THRESHOLDS)}')
        runtime = backend if isinstance(backend, str) else None
        backend = None if runtime else backend
        if sum(x is not None for x in (checkpoint, model, backend)) != 1:
            raise ValueError('give exactly one of checkpoint=, model= or backend=')
        if checkpoint is not None:
            runtime = runtime or ('onnxruntime' if str(checkpoint).endswith('.onnx')
                                  else 'torch')
            weights = load_weights(checkpoint, runtime=runtime, input_size=input_size)
            backend = make_backend(runtime, weights, device=resolve_device(device), fp16=fp16,
                                   threads=threads)
        elif model is not None:
            backend = TorchBackend(model, device=resolve_device(device), fp16=fp16,
                                   threads=threads)
            config = config or getattr(model, 'config', None)
        config = config or (weights.config if weights else getattr(backend, 'config', None))
        if config is None:
            raise ValueError('no model config: pass config= (the ModelConfig of the weights)')
        self.config = load_model_config(config)
        self.backend: Backend = backend
        self.weights = weights
        self.tasks = self._tasks(tasks)
        fixed = getattr(backend, 'input_size', None)
        self.input_size = tuple(int(s) for s in (input_size or fixed or self.config.input_size))
        if any(s % 32 for s in self.input_size):
            raise ValueError(f'input_size {self.input_size} must be multiples of 32')
        if fixed and tuple(fixed) != self.input_size:
            raise ValueError(f'input_size {self.input_size}: this graph was exported for '
                             f'{tuple(fixed)}; export it again at the size you need')
        #: Seconds spent in each stage by the last call: preprocess (letterbox),
        #: forward (the backend, including any device transfer), postprocess.
        self.last_timings: Dict[str, float] = {}
        self.options = {**THRESHOLDS, **thresholds}

    @classmethod
    def from_weights(cls, weights: Optional[str] = None, *, backend: str = 'auto',
                     device: str = 'auto', fp16: bool = True,
                     input_size: Optional[Sequence[int]] = None,
                     threads: Optional[int] = None, tasks: Optional[Sequence[str]] = None,
                     **thresholds) -> 'Predictor':
        """
        Load ``weights`` once and build the Predictor on the chosen runtime.

        :param weights: a .pt or .onnx file; empty or None for the shipped weights.
        :param backend: 'auto' (see ``resolve_backend``) or a key of ``BACKENDS``.
        :param device: 'auto', 'cpu', 'cuda' or 'cuda:N'.
        :param fp16: half precision on CUDA.
        :param input_size: (H, W); None or zeros for the trained size.
        :param threads: CPU threads of the runtime (None or 0: its default).
        :param tasks: the default tasks of a call.
        :param thresholds: defaults of the per-call thresholds.
        :return: the Predictor; ``predictor.weights`` says what was loaded.
        """
        dev = resolve_device(device)
        runtime = resolve_backend(backend, dev)
        size = tuple(input_size) if input_size and all(input_size) else None
        loaded = load_weights(weights, runtime=runtime, input_size=size)
        return cls(make_backend(runtime, loaded, device=dev, fp16=fp16, threads=threads),
                   loaded.config, weights=loaded, tasks=tasks, input_size=size, **thresholds)

    @property
    def label_space(self):
        """Return the label space of the model."""
        return self.config.label_space

    @property
    def device(self) -> str:
        """Return where the forward pass runs: 'cpu' or 'cuda:N'."""
        return self.backend.device

    @property
    def backend_name(self) -> str:
        """Return the runtime's name (a key of ``BACKENDS``)."""
        return self.backend.name

    @property
    def weights_path(self) -> Optional[str]:
        """Return the weights file loaded (None when built from a model or a backend)."""
        return str(self.weights.path) if self.weights else None

    def _tasks(self, tasks: Optional[Sequence[str]]) -> Tuple[str, ...]:
        wanted = set(tasks) if tasks is not None else set(self.backend.tasks)
        if wanted & set(NEEDS_DETECT):
            wanted.add('detect')
        unknown = sorted(wanted - set(TASKS))
        missing = sorted(wanted - set(self.backend.tasks))
        if unknown or missing:
            raise ValueError(f'tasks {unknown or missing} are not available; the model has '
                             f'{list(self.backend.tasks)}')
        return tuple(t for t in TASKS if t in wanted)

    def __call__(self, image: np.ndarray, *, tasks: Optional[Sequence[str]] = None,
                 **thresholds) -> Prediction:
        """
        Run on one RGB image.

        :param image: uint8[h, w, 3] RGB.
        :param tasks: the heads to run for this call (default: ``self.tasks``); masks and
            keypoints bring detect.
        :param thresholds: per-call overrides of the thresholds (``THRESHOLDS``).
        :return: the ``Prediction`` in the image's pixels.
        :raises ValueError: not a uint8 image, or tasks the model does not have.
        :raises TypeError: an unknown threshold.
        """
        unknown = sorted(set(thresholds) - set(self.options))
        if unknown:
            raise TypeError(f'unknown options {unknown}; known: {sorted(self.options)}')
        if getattr(image, 'dtype', None) != np.uint8:
            raise ValueError(f'expected a uint8 RGB image, got {getattr(image, "dtype", None)}')
        run = self.tasks if tasks is None else self._tasks(tasks)
        t0 = time.perf_counter()
        x, info = letterbox(image, self.input_size)
        t1 = time.perf_counter()
        outputs = self.backend.run(x[None], run)
        outputs = {k: v for k, v in outputs.items() if k.split('_')[0] in run}
        t2 = time.perf_counter()
        pred = postprocess(outputs, [info], label_space=self.label_space,
                           **{**self.options, **thresholds})[0]
        self.last_timings = {'preprocess': t1 - t0, 'forward': t2 - t1,
                             'postprocess': time.perf_counter() - t2}
        return pred

    predict = __call__
