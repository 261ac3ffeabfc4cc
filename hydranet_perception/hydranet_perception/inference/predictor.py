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

from dataclasses import dataclass, field
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

from hydranet_perception.inference.backends import Backend, BATCHED_EXCEPT, make_backend, \
    resolve_backend, TorchBackend
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
        return self.predict_batch([image], tasks=tasks, **thresholds)[0]

    predict = __call__

    def predict_batch(self, images: Sequence[np.ndarray], *,
                      tasks: Optional[Sequence[str]] = None,
                      **thresholds) -> List[Prediction]:
        """
        Run on several RGB images (any sizes) as one batch through the backend.

        Each image gets its own letterbox, so sizes may differ; a backend whose graph has
        a fixed batch (``backend.max_batch``) runs them in chunks of that size. The same
        as ``postprocess_batch(forward_batch(...))``, which a caller may run on two
        threads so that one batch's postprocessing overlaps the next one's forward pass.

        :param images: uint8[h, w, 3] RGB images.
        :param tasks: the heads to run for this call (default: ``self.tasks``).
        :param thresholds: per-call overrides of the thresholds (``THRESHOLDS``).
        :return: one ``Prediction`` per image, in order, each in its image's pixels.
        :raises ValueError: not a uint8 image, or tasks the model does not have.
        :raises TypeError: an unknown threshold.
        """
        unknown = sorted(set(thresholds) - set(self.options))
        if unknown:
            raise TypeError(f'unknown options {unknown}; known: {sorted(self.options)}')
        forward = self.forward_batch(images, tasks=tasks)
        preds = self.postprocess_batch(forward, **thresholds)
        self.last_timings = dict(forward.timings)
        return preds

    def forward_batch(self, images: Sequence[np.ndarray], *,
                      tasks: Optional[Sequence[str]] = None) -> 'ForwardBatch':
        """
        Letterbox ``images`` and run the forward pass (the first half of ``predict_batch``).

        :return: the raw outputs and letterboxes, for ``postprocess_batch``.
        :raises ValueError: not a uint8 image, or tasks the model does not have.
        """
        for image in images:
            if getattr(image, 'dtype', None) != np.uint8:
                raise ValueError('expected a uint8 RGB image, got '
                                 f'{getattr(image, "dtype", None)}')
        run = self.tasks if tasks is None else self._tasks(tasks)
        if not len(images):
            return ForwardBatch({}, [], {'preprocess': 0.0, 'forward': 0.0})
        t0 = time.perf_counter()
        boxed = [letterbox(image, self.input_size) for image in images]
        x = np.stack([b[0] for b in boxed])
        t1 = time.perf_counter()
        chunk = getattr(self.backend, 'max_batch', None) or len(images)
        parts = [self.backend.run(x[i:i + chunk], run) for i in range(0, len(x), chunk)]
        outputs = {k: (v if k in BATCHED_EXCEPT else
                       np.concatenate([p[k] for p in parts]) if len(parts) > 1 else v)
                   for k, v in parts[0].items() if k.split('_')[0] in run}
        return ForwardBatch(outputs, [b[1] for b in boxed],
                            {'preprocess': t1 - t0, 'forward': time.perf_counter() - t1})

    def postprocess_batch(self, forward: 'ForwardBatch', **thresholds) -> List[Prediction]:
        """
        Turn a ``forward_batch`` result into one ``Prediction`` per image.

        :param thresholds: per-call overrides of the thresholds (``THRESHOLDS``).
        :raises TypeError: an unknown threshold.
        """
        unknown = sorted(set(thresholds) - set(self.options))
        if unknown:
            raise TypeError(f'unknown options {unknown}; known: {sorted(self.options)}')
        t0 = time.perf_counter()
        preds = postprocess(forward.outputs, forward.infos, label_space=self.label_space,
                            **{**self.options, **thresholds}) if forward.infos else []
        forward.timings['postprocess'] = time.perf_counter() - t0
        return preds


@dataclass
class ForwardBatch:
    """
    The forward pass of a batch, waiting for ``Predictor.postprocess_batch``.

    :ivar outputs: the raw outputs (batch first, but ``BATCHED_EXCEPT``).
    :ivar infos: each image's letterbox.
    :ivar timings: seconds of ``preprocess`` and ``forward`` (and ``postprocess`` once run).
    """

    outputs: Dict[str, np.ndarray]
    infos: List[Any]
    timings: Dict[str, float] = field(default_factory=dict)
