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

The forward pass is delegated to a *backend*: any object with ``device``, ``tasks``
(the heads it can run), ``name`` and ``run(images, tasks) -> Dict[str, Tensor]``
returning the raw outputs of ``HydraNet.forward``.  ``TorchBackend`` runs a HydraNet
(CPU or CUDA, optionally fp16); ``OnnxRuntimeBackend`` and ``OpenVinoBackend`` run a
graph written by ``export_onnx``.  Postprocessing is the same for all of them.
"""

import time
from typing import Any, Dict, Optional, Sequence

from hydranet_perception.model.checkpoint import load_model
from hydranet_perception.model.config import load_model_config, ModelConfig, NEEDS_DETECT, \
    TASKS
from hydranet_perception.model.hydranet import HydraNet
from hydranet_perception.postprocess.letterbox import letterbox
from hydranet_perception.postprocess.pipeline import postprocess
from hydranet_perception.prediction import Prediction
import numpy as np
import torch


def resolve_device(device: str = 'auto') -> torch.device:
    """Map 'auto' (first CUDA GPU if present, else CPU), 'cpu' or 'cuda:N' to a device."""
    if device == 'auto':
        return torch.device('cuda:0' if torch.cuda.is_available() else 'cpu')
    dev = torch.device(device)
    if dev.type == 'cuda' and not torch.cuda.is_available():
        raise ValueError(f'device {device!r}: CUDA is not available here; use cpu or auto')
    return dev


class TorchBackend:
    """
    Run a HydraNet with PyTorch.

    :param model: the network (moved to ``device``, eval mode).
    :param device: a torch device.
    :param fp16: half precision (CUDA only; ignored on the CPU).
    """

    name = 'torch'

    def __init__(self, model: HydraNet, *, device: torch.device, fp16: bool = False):
        self.device = torch.device(device)
        self.fp16 = bool(fp16) and self.device.type == 'cuda'
        self.model = model.to(self.device).eval()
        if self.fp16:
            self.model.half()
        self.tasks = tuple(self.model.tasks)

    @torch.inference_mode()
    def run(self, images: torch.Tensor, tasks: Sequence[str]) -> Dict[str, torch.Tensor]:
        """Return the raw outputs (float32) for images Tensor[B, 3, H, W] in [0, 1]."""
        x = images.to(self.device, torch.float16 if self.fp16 else torch.float32)
        return {k: v.float() for k, v in self.model(x, tasks=tasks).items()}


class OnnxRuntimeBackend:
    """
    Run a graph from ``export_onnx`` (raw outputs) with onnxruntime.

    :param path: the .onnx file.
    :param device: 'cpu' or a CUDA device (uses the CUDA provider when installed).
    :param threads: intra-op threads (onnxruntime's default when None: one per core).
    :param spin: let idle pool threads spin-wait for the next run. onnxruntime does by
        default; it saves little per run and burns the cores that camera drivers
        and the node's own threads need (measured here: 54 instead of 30 ms of
        CPU per frame with 2 threads at 30 Hz), so it is off unless asked for.
    """

    name = 'onnxruntime'

    def __init__(self, path: str, *, device: torch.device = torch.device('cpu'),
                 threads: Optional[int] = None, spin: bool = False):
        import onnxruntime as ort
        from hydranet_perception.model.export import read_metadata
        meta = read_metadata(path)
        if meta['decoded']:
            raise ValueError(f'{path} was exported with decode=True; export the raw forward '
                             '(decode=False) for the Predictor')
        self.config = load_model_config(meta['config']) if meta['config'] else None
        self.tasks = tuple(meta['tasks'])
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = int(threads)
        for pool in ('intra', 'inter'):
            opts.add_session_config_entry(f'session.{pool}_op.allow_spinning',
                                          '1' if spin else '0')
        providers = ['CPUExecutionProvider']
        if torch.device(device).type == 'cuda' and \
                'CUDAExecutionProvider' in ort.get_available_providers():
            providers.insert(0, 'CUDAExecutionProvider')
        self.session = ort.InferenceSession(str(path), opts, providers=providers)
        self.names = [o.name for o in self.session.get_outputs()]
        self.input_size = tuple(int(d) for d in self.session.get_inputs()[0].shape[2:])
        self.device = torch.device('cpu')

    def check_tasks(self, tasks: Sequence[str]):
        """Refuse tasks that are not in the exported graph."""
        missing = sorted(set(tasks) - set(self.tasks))
        if missing:
            raise ValueError(f'tasks {missing} are not in this ONNX graph (it has '
                             f'{list(self.tasks)}); export them')

    def run(self, images: torch.Tensor, tasks: Sequence[str]) -> Dict[str, torch.Tensor]:
        """Run the whole graph; ``tasks`` must be among the exported ones."""
        self.check_tasks(tasks)
        x = images.detach().cpu().float().numpy()
        res = self.session.run(self.names, {'images': x})
        return {n: torch.from_numpy(np.asarray(r)) for n, r in zip(self.names, res)}


class OpenVinoBackend(OnnxRuntimeBackend):
    """
    Run a graph from ``export_onnx`` (raw outputs) with OpenVINO on the CPU.

    :param path: the .onnx file (OpenVINO reads ONNX directly).
    :param device: ignored (CPU); kept for the common constructor.
    :param threads: inference threads (OpenVINO's default when None).
    :param precision: 'f32' (matches PyTorch), or 'bf16' (faster on CPUs with AMX,
        about 3 significant digits), as OpenVINO's inference precision hint.
    """

    name = 'openvino'

    def __init__(self, path: str, *, device: torch.device = torch.device('cpu'),
                 threads: Optional[int] = None, precision: str = 'f32'):
        import openvino as ov
        from hydranet_perception.model.export import read_metadata
        meta = read_metadata(path)
        if meta['decoded']:
            raise ValueError(f'{path} was exported with decode=True; export the raw forward')
        self.config = load_model_config(meta['config']) if meta['config'] else None
        self.tasks = tuple(meta['tasks'])
        core = ov.Core()
        config = {'INFERENCE_PRECISION_HINT': precision}
        if threads:
            config['INFERENCE_NUM_THREADS'] = int(threads)
        self.compiled = core.compile_model(core.read_model(str(path)), 'CPU', config)
        self.names = [o.get_any_name() for o in self.compiled.outputs]
        shape = self.compiled.inputs[0].get_partial_shape()
        self.input_size = (shape[2].get_length(), shape[3].get_length())
        self.device = torch.device('cpu')

    def run(self, images: torch.Tensor, tasks: Sequence[str]) -> Dict[str, torch.Tensor]:
        """Run the whole graph; ``tasks`` must be among the exported ones."""
        self.check_tasks(tasks)
        res = self.compiled(images.detach().cpu().float().numpy())
        return {n: torch.from_numpy(np.asarray(res[o]))
                for n, o in zip(self.names, self.compiled.outputs)}


GRAPH_BACKENDS = {'onnxruntime': OnnxRuntimeBackend, 'openvino': OpenVinoBackend}


class Predictor:
    """
    Letterbox -> one forward pass with the requested heads -> postprocess.

    :param checkpoint: a .pt from ``save_checkpoint`` or an .onnx from ``export_onnx``.
    :param model: a HydraNet to use instead of a checkpoint (with ``config``).
    :param config: the model's config (defaults to ``model.config``).
    :param backend: a ready backend object (see the module docstring) instead of either,
        or, with an .onnx checkpoint, the runtime's name: 'onnxruntime' (default)
        or 'openvino'.
    :param device: 'auto', 'cpu' or 'cuda:N'.
    :param fp16: half precision on CUDA.
    :param tasks: heads to run (all the backend has when None).
    :param input_size: (H, W) network input (multiples of 32); by default the size an
        ONNX graph was exported at, else the config's.
    :param score_thresh: minimum detection probability.
    :param nms_iou: class-aware NMS IoU threshold.
    :param mask_thresh: mask probability threshold.
    :param max_det: detections kept per image.
    :param min_visible_fraction: panoptic overlap rule.
    :param min_stuff_area: panoptic minimum stuff area (original pixels).
    """

    def __init__(self, *, checkpoint: Optional[str] = None, model: Optional[HydraNet] = None,
                 config: Optional[ModelConfig] = None, backend: Any = None,
                 device: str = 'auto', fp16: bool = True,
                 tasks: Optional[Sequence[str]] = None,
                 input_size: Optional[Sequence[int]] = None, score_thresh: float = 0.25,
                 nms_iou: float = 0.6, mask_thresh: float = 0.5, max_det: int = 100,
                 min_visible_fraction: float = 0.5, min_stuff_area: int = 64):
        runtime = backend if isinstance(backend, str) else None
        backend = None if runtime else backend
        if sum(x is not None for x in (checkpoint, model, backend)) != 1:
            raise ValueError('give exactly one of checkpoint=, model= or backend=')
        if runtime and (checkpoint is None or not str(checkpoint).endswith('.onnx')):
            raise ValueError(f'backend={runtime!r} runs an .onnx checkpoint from export_onnx')
        dev = resolve_device(device)
        self.meta: Dict[str, Any] = {}
        if checkpoint is not None and str(checkpoint).endswith('.onnx'):
            runtime = runtime or 'onnxruntime'
            if runtime not in GRAPH_BACKENDS:
                raise ValueError(f'backend {runtime!r}: use one of {sorted(GRAPH_BACKENDS)}')
            backend = GRAPH_BACKENDS[runtime](str(checkpoint), device=dev)
            config = config or backend.config
        elif checkpoint is not None:
            model, config, self.meta = load_model(checkpoint)
        if model is not None:
            config = config or getattr(model, 'config', None)
            if config is None:
                raise ValueError('the model carries no config: pass config= (its ModelConfig)')
            backend = TorchBackend(model, device=dev, fp16=fp16)
        if config is None:
            config = getattr(backend, 'config', None)
        if config is None:
            raise ValueError('no model config: pass config= (the ModelConfig of the weights)')
        self.config = load_model_config(config)
        self.backend = backend
        wanted = set(tasks) if tasks is not None else set(backend.tasks)
        if wanted & set(NEEDS_DETECT):
            wanted.add('detect')
        missing = sorted(set(wanted) - set(backend.tasks))
        if missing:
            raise ValueError(f'tasks {missing} are not available; the model has '
                             f'{list(backend.tasks)}')
        self.tasks = tuple(t for t in TASKS if t in wanted)
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
        self.options = {'score_thresh': score_thresh, 'nms_iou': nms_iou,
                        'mask_thresh': mask_thresh, 'max_det': max_det,
                        'min_visible_fraction': min_visible_fraction,
                        'min_stuff_area': min_stuff_area}

    @property
    def label_space(self):
        return self.config.label_space

    @property
    def device(self) -> torch.device:
        return self.backend.device

    @property
    def backend_name(self) -> str:
        return self.backend.name

    def __call__(self, image: np.ndarray, **options) -> Prediction:
        """
        Run on one RGB image.

        :param image: uint8[h, w, 3] RGB.
        :param options: per-call overrides of the constructor's thresholds
            (score_thresh, nms_iou, mask_thresh, max_det, min_visible_fraction,
            min_stuff_area).
        :return: the ``Prediction`` in the image's pixels.
        """
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            raise TypeError(f'unknown options {unknown}; known: {sorted(self.options)}')
        if getattr(image, 'dtype', None) not in (np.uint8, torch.uint8):
            raise ValueError(f'expected a uint8 RGB image, got {getattr(image, "dtype", None)}')
        t0 = time.perf_counter()
        x, info = letterbox(image, self.input_size, device=self.device)
        t1 = time.perf_counter()
        outputs = self.backend.run(x[None], self.tasks)
        outputs = {k: v for k, v in outputs.items() if k.split('_')[0] in self.tasks}
        t2 = time.perf_counter()
        pred = postprocess(outputs, [info], label_space=self.label_space,
                           **{**self.options, **options})[0]
        self.last_timings = {'preprocess': t1 - t0, 'forward': t2 - t1,
                             'postprocess': time.perf_counter() - t2}
        return pred

    predict = __call__
