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
The forward pass behind one interface, whatever runs it.

A backend (the ``Backend`` protocol) has ``name``, ``device`` ('cpu' or 'cuda:N'),
``tasks`` (the heads it can run), ``input_size`` ((H, W) of a graph exported at a fixed
size, None when any multiple of 32 works), ``max_batch`` (the batch of a graph exported
with a fixed batch dimension, e.g. 1; None when any batch works) and
``run(images, tasks) -> Dict[str, ndarray]``: ``images`` float32[B, 3, H, W] in [0, 1],
the result the raw outputs of ``HydraNet.forward`` as float32 numpy arrays, so that
every runtime feeds the same postprocessing. ``BACKENDS`` maps each runtime's name to
its class, each built directly from ``Weights``:

* ``torch``: the HydraNet (CPU or CUDA, optionally fp16); the only one that imports
  torch, when it is built;
* ``onnxruntime``: the exported graph on the CPU, or on CUDA N with onnxruntime-gpu;
* ``openvino``: the exported graph with OpenVINO on the CPU;
* ``tensorrt``: the exported graph through onnxruntime's TensorRT provider (fp16, with
  its engine cache), on an NVIDIA GPU.

``make_backend`` builds one by name; ``resolve_backend`` turns 'auto' into a name;
``backend_problem`` says, cheaply, why a runtime cannot run on a device here.
"""

import importlib.util
import pathlib
from typing import Dict, Optional, Protocol, Sequence, Tuple

from hydranet_perception.inference.devices import device_index, resolve_device
from hydranet_perception.inference.weights import onnx_cache_dir, Weights
import numpy as np

#: Raw outputs without a batch dimension (the same for every image of a batch); the
#: same as ``model.export.BATCHED_EXCEPT``, repeated here so that no runtime imports torch.
BATCHED_EXCEPT = ('detect_anchors',)


def fixed_batch(dim) -> Optional[int]:
    """Return the batch of a graph input's first dimension, None when it is symbolic."""
    return int(dim) if isinstance(dim, int) and dim > 0 else None


class Backend(Protocol):
    """What the Predictor needs from a runtime (see the module docstring)."""

    name: str
    device: str
    tasks: Tuple[str, ...]
    input_size: Optional[Tuple[int, int]]
    max_batch: Optional[int]

    def run(self, images: np.ndarray, tasks: Sequence[str]) -> Dict[str, np.ndarray]:
        """Return the raw outputs of ``tasks`` for float32[B, 3, H, W] images in [0, 1]."""


def check_tasks(backend: Backend, tasks: Sequence[str]):
    """
    Refuse tasks that ``backend`` cannot run.

    :raises ValueError: with the tasks it has.
    """
    missing = sorted(set(tasks) - set(backend.tasks))
    if missing:
        what = 'model' if backend.name == 'torch' else 'exported graph'
        raise ValueError(f'tasks {missing} are not in this {what} (it has '
                         f'{list(backend.tasks)}); export or train them')


def _as_float32(images) -> np.ndarray:
    if hasattr(images, 'detach'):  # a torch tensor
        images = images.detach().cpu().numpy()
    return np.ascontiguousarray(images, dtype=np.float32)


class TorchBackend:
    """
    Run a HydraNet with PyTorch.

    :param model: the network (moved to ``device``, eval mode).
    :param device: 'cpu' or 'cuda:N'.
    :param fp16: half precision (CUDA only; ignored on the CPU).
    :param threads: intra-op threads (process-wide in torch); None or 0: its default.
    """

    name = 'torch'
    input_size = None
    max_batch = None

    def __init__(self, model, *, device: str = 'cpu', fp16: bool = False,
                 threads: Optional[int] = None):
        import torch
        self._torch = torch
        if threads:
            torch.set_num_threads(int(threads))
        self.device = str(device)
        self.fp16 = bool(fp16) and self.device.startswith('cuda')
        self.model = model.to(torch.device(self.device)).eval()
        if self.fp16:
            self.model.half()
        self.tasks = tuple(self.model.tasks)

    def run(self, images, tasks: Sequence[str]) -> Dict[str, np.ndarray]:
        """Return the raw outputs (float32 numpy) for images float32[B, 3, H, W] in [0, 1]."""
        check_tasks(self, tasks)
        torch = self._torch
        x = images if hasattr(images, 'detach') else torch.from_numpy(_as_float32(images))
        x = x.to(torch.device(self.device), torch.float16 if self.fp16 else torch.float32)
        with torch.inference_mode():
            out = self.model(x, tasks=list(tasks))
            return {k: v.float().cpu().numpy() for k, v in out.items()}


def _graph_tasks(weights: Weights) -> Tuple[str, ...]:
    return tuple(weights.meta.get('tasks') or weights.config.heads)


def _ort_session(path: str, providers, *, threads: Optional[int], spin: bool):
    import onnxruntime as ort
    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads = int(threads)
    for pool in ('intra', 'inter'):
        opts.add_session_config_entry(f'session.{pool}_op.allow_spinning', '1' if spin else '0')
    return ort.InferenceSession(str(path), opts, providers=providers)


def _ort_run(backend, images, tasks) -> Dict[str, np.ndarray]:
    check_tasks(backend, tasks)
    res = backend.session.run(backend.names, {backend.input_name: _as_float32(images)})
    return {n: np.asarray(r) for n, r in zip(backend.names, res)}


def _ort_outputs(backend):
    backend.names = [o.name for o in backend.session.get_outputs()]
    first = backend.session.get_inputs()[0]
    backend.input_name = first.name
    backend.input_size = tuple(int(d) for d in first.shape[2:])
    # A graph exported with a fixed batch (hydranet-export --static-batch) runs a batch
    # one chunk of that size at a time (see Predictor.predict_batch).
    backend.max_batch = fixed_batch(first.shape[0])


class OnnxRuntimeBackend:
    """
    Run a graph from ``export_onnx`` (raw outputs) with onnxruntime.

    :param weights: the ``Weights`` (its ``onnx_path``).
    :param device: 'cpu' or 'cuda:N' (the CUDA provider of onnxruntime-gpu, on GPU N).
    :param threads: intra-op threads (onnxruntime's default when None: one per core).
    :param spin: let idle pool threads spin-wait for the next run. onnxruntime does by
        default; it saves little per run and burns the cores that camera drivers
        and the node's own threads need (measured here: 54 instead of 30 ms of
        CPU per frame with 2 threads at 30 Hz), so it is off unless asked for.
    :raises ValueError: a CUDA device without the CUDA provider.
    """

    name = 'onnxruntime'

    def __init__(self, weights: Weights, *, device: str = 'cpu',
                 threads: Optional[int] = None, spin: bool = False, **_):
        import onnxruntime as ort
        self.tasks = _graph_tasks(weights)
        providers = ['CPUExecutionProvider']
        if device.startswith('cuda'):
            if 'CUDAExecutionProvider' not in ort.get_available_providers():
                raise ValueError(f'backend onnxruntime on {device} needs onnxruntime-gpu (its '
                                 'CUDAExecutionProvider); use device cpu or backend torch')
            providers.insert(0, ('CUDAExecutionProvider', {'device_id': device_index(device)}))
        self.session = _ort_session(weights.onnx_path, providers, threads=threads, spin=spin)
        on_cuda = 'CUDAExecutionProvider' in self.session.get_providers()
        self.device = device if on_cuda else 'cpu'
        _ort_outputs(self)

    def run(self, images, tasks: Sequence[str]) -> Dict[str, np.ndarray]:
        """Run the whole graph; ``tasks`` must be among the exported ones."""
        return _ort_run(self, images, tasks)


class OpenVinoBackend:
    """
    Run a graph from ``export_onnx`` (raw outputs) with OpenVINO on the CPU.

    :param weights: the ``Weights`` (its ``onnx_path``; OpenVINO reads ONNX directly).
    :param device: 'cpu' (OpenVINO runs on the CPU here).
    :param threads: inference threads (OpenVINO's default when None).
    :param precision: 'f32' (matches PyTorch), or 'bf16' (faster on CPUs with AMX,
        about 3 significant digits), as OpenVINO's inference precision hint.
    """

    name = 'openvino'

    def __init__(self, weights: Weights, *, device: str = 'cpu',
                 threads: Optional[int] = None, precision: str = 'f32', **_):
        import openvino as ov
        if device != 'cpu':
            raise ValueError('backend openvino runs on the CPU here: use device cpu (or auto)')
        self.tasks = _graph_tasks(weights)
        core = ov.Core()
        config = {'INFERENCE_PRECISION_HINT': precision}
        if threads:
            config['INFERENCE_NUM_THREADS'] = int(threads)
        self.compiled = core.compile_model(core.read_model(weights.onnx_path), 'CPU', config)
        self.names = [o.get_any_name() for o in self.compiled.outputs]
        shape = self.compiled.inputs[0].get_partial_shape()
        self.input_size = (shape[2].get_length(), shape[3].get_length())
        self.max_batch = shape[0].get_length() if shape[0].is_static else None
        self.device = 'cpu'

    def run(self, images, tasks: Sequence[str]) -> Dict[str, np.ndarray]:
        """Run the whole graph; ``tasks`` must be among the exported ones."""
        check_tasks(self, tasks)
        res = self.compiled(_as_float32(images))
        return {n: np.asarray(res[o]) for n, o in zip(self.names, self.compiled.outputs)}


class TensorRtBackend:
    """
    Run a graph from ``export_onnx`` with TensorRT, through onnxruntime's TensorRT provider.

    The engine is built on the first session (minutes for a large graph) and kept in
    ``<cache>/tensorrt`` so that later starts load it.

    :param weights: the ``Weights`` (its ``onnx_path``).
    :param device: 'cuda:N' ('auto' resolves to it on a GPU machine).
    :param fp16: build the engine in half precision.
    :param cache_dir: engine cache folder (default: ``onnx_cache_dir()/tensorrt``).
    :raises ValueError: no TensorRT provider here (with the alternatives).
    """

    name = 'tensorrt'

    def __init__(self, weights: Weights, *, device: str = 'cuda:0', fp16: bool = True,
                 cache_dir: Optional[str] = None, **_):
        import onnxruntime as ort
        available = ort.get_available_providers()
        if 'TensorrtExecutionProvider' not in available or not device.startswith('cuda'):
            raise ValueError('backend tensorrt needs an NVIDIA GPU and onnxruntime-gpu built '
                             f'with TensorRT (providers here: {", ".join(available)}); use '
                             'backend torch with fp16 on CUDA, or onnxruntime')
        cache = pathlib.Path(cache_dir) if cache_dir else onnx_cache_dir() / 'tensorrt'
        cache.mkdir(parents=True, exist_ok=True)
        index = device_index(device)
        providers = [('TensorrtExecutionProvider', {
            'device_id': index, 'trt_fp16_enable': bool(fp16),
            'trt_engine_cache_enable': True, 'trt_engine_cache_path': str(cache)}),
            ('CUDAExecutionProvider', {'device_id': index}), 'CPUExecutionProvider']
        self.tasks = _graph_tasks(weights)
        self.session = _ort_session(weights.onnx_path, providers, threads=None, spin=False)
        self.device = device
        _ort_outputs(self)

    def run(self, images, tasks: Sequence[str]) -> Dict[str, np.ndarray]:
        """Run the whole graph; ``tasks`` must be among the exported ones."""
        return _ort_run(self, images, tasks)


BACKENDS = {'torch': TorchBackend, 'onnxruntime': OnnxRuntimeBackend,
            'openvino': OpenVinoBackend, 'tensorrt': TensorRtBackend}
#: What a user may ask for: a runtime by name, or 'auto'.
BACKEND_CHOICES = ('auto',) + tuple(BACKENDS)
#: The Python module each runtime needs installed.
_MODULES = {'torch': 'torch', 'onnxruntime': 'onnxruntime', 'openvino': 'openvino',
            'tensorrt': 'onnxruntime'}


def resolve_backend(name: str, device: str = 'auto') -> str:
    """
    Return the runtime that ``name`` means here ('auto' resolved, others unchanged).

    'auto' is torch on a CUDA device (fp16), and on the CPU the first runtime installed
    of onnxruntime and openvino (2-3x faster than eager PyTorch there: see the README's
    node latency figures), else torch.
    """
    if name != 'auto':
        return name
    if resolve_device(device).startswith('cuda'):
        return 'torch'
    for runtime in ('onnxruntime', 'openvino'):
        if importlib.util.find_spec(runtime) is not None:
            return runtime
    return 'torch'


def backend_problem(backend: str, device: str = 'auto') -> Optional[str]:
    """
    Return why ``backend`` cannot run on ``device`` here, or None; loads no model.

    Cheap enough for a parameter callback: it checks that CUDA exists when a CUDA device
    is named, that the runtime is installed, and that it can use that device (OpenVINO
    runs on the CPU here; onnxruntime needs its CUDA provider for CUDA, its TensorRT
    provider for tensorrt).
    """
    if backend not in BACKEND_CHOICES:
        return f'unknown backend {backend!r}; use one of {", ".join(BACKEND_CHOICES)}'
    try:
        dev = resolve_device(device)
    except ValueError as e:
        return str(e)
    name = resolve_backend(backend, device)
    module = _MODULES[name]
    if importlib.util.find_spec(module) is None:
        return (f'backend {name} needs the {module} package, which is not installed here: '
                f'pip install {module}, or use backend auto')
    if name == 'torch':
        return None
    if name == 'openvino':
        if dev != 'cpu':
            return ('backend openvino runs on the CPU here: use device cpu (or auto), or '
                    'backend torch or tensorrt on CUDA')
        return None
    import onnxruntime as ort
    provider = {'tensorrt': 'TensorrtExecutionProvider'}.get(
        name, 'CUDAExecutionProvider' if dev.startswith('cuda') else None)
    available = ort.get_available_providers()
    if provider and provider not in available:
        return (f'backend {name} on {dev} needs the onnxruntime provider {provider} '
                f'(onnxruntime-gpu; providers here: {", ".join(available)}); use backend '
                'torch on CUDA, or device cpu')
    return None


def make_backend(name: str, weights: Weights, *, device: str = 'cpu', fp16: bool = True,
                 threads: Optional[int] = None) -> Backend:
    """
    Build the ``name`` runtime from loaded ``weights``.

    :param name: a key of ``BACKENDS``.
    :param weights: from ``load_weights(..., runtime=name)`` (a model for torch, a graph
        for the others).
    :param device: 'cpu' or 'cuda:N' (already resolved).
    :param fp16: half precision (torch on CUDA, TensorRT).
    :param threads: CPU threads of the runtime (None or 0: its default).
    :return: the backend.
    :raises ValueError: unknown runtime, or one that cannot run here (with the fix).
    """
    if name not in BACKENDS:
        raise ValueError(f'unknown backend {name!r}; use auto or one of '
                         f'{", ".join(BACKENDS)}')
    if name == 'torch':
        if weights.model is None:
            raise ValueError(f'backend torch runs a .pt checkpoint, not {weights.path}')
        return TorchBackend(weights.model, device=device, fp16=fp16, threads=threads)
    return BACKENDS[name](weights, device=device, fp16=fp16, threads=threads or None)
