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
Inference runtimes beyond PyTorch, behind the Predictor's backend interface.

A backend has ``tasks``, ``config``, ``device`` and ``run(images, tasks) -> dict`` of
raw outputs, so every runtime feeds the same postprocessing and returns the same
``Prediction``. ONNX graphs come from ``hydranet-export``; a .pt given to a non-torch
runtime is exported on the fly (``ensure_onnx``). ``backend='auto'`` picks the fastest
runtime installed for the device (``resolve_backend``).
"""

import contextlib
import hashlib
import importlib.util
import os
import pathlib
from typing import Optional, Sequence

from hydranet_perception.inference import OnnxRuntimeBackend, OpenVinoBackend, Predictor, \
    resolve_device
import torch

RUNTIMES = ('onnxruntime', 'openvino', 'tensorrt')
SHIPPED_WEIGHTS = pathlib.Path(__file__).resolve().parents[1] / 'weights' / 'hydranet_n.pt'


def resolve_weights(weights: Optional[str]) -> pathlib.Path:
    """Return the weights file to load (empty or None = the shipped weights)."""
    return pathlib.Path(weights).expanduser() if weights else SHIPPED_WEIGHTS


def resolve_backend(name: str, device: str = 'auto') -> str:
    """
    Return the runtime that ``name`` means here ('auto' resolved, others unchanged).

    'auto' is torch on a CUDA device (fp16), and on the CPU the first runtime installed
    of onnxruntime and openvino (2-3x faster than eager PyTorch there: see the README's
    node latency figures), else torch.
    """
    if name != 'auto':
        return name
    if resolve_device(device).type == 'cuda':
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
    try:
        dev = resolve_device(device)
    except (ValueError, RuntimeError) as e:
        return str(e)
    name = resolve_backend(backend, device)
    if name == 'torch':
        return None
    module = 'onnxruntime' if name == 'tensorrt' else name
    if importlib.util.find_spec(module) is None:
        return (f'backend {name} needs the {module} package, which is not installed here: '
                f'pip install {module}, or use backend auto')
    if name == 'openvino':
        if dev.type == 'cuda':
            return ('backend openvino runs on the CPU here: use device cpu (or auto), or '
                    'backend torch or tensorrt on CUDA')
        return None
    import onnxruntime as ort
    provider = {'tensorrt': 'TensorrtExecutionProvider'}.get(
        name, 'CUDAExecutionProvider' if dev.type == 'cuda' else None)
    available = ort.get_available_providers()
    if provider and provider not in available:
        return (f'backend {name} on {dev} needs the onnxruntime provider {provider} '
                f'(onnxruntime-gpu; providers here: {", ".join(available)}); use backend '
                'torch on CUDA, or device cpu')
    return None


def make_predictor(weights: Optional[str] = None, *, backend: str = 'torch',
                   device: str = 'auto', fp16: bool = True, input_size=None,
                   threads: Optional[int] = None, **options) -> Predictor:
    """
    Build a Predictor for a checkpoint or ONNX file on any runtime.

    ``weights`` empty means the shipped weights; ``backend`` may be 'auto' (see
    ``resolve_backend``); ``threads`` the CPU threads of the runtime (None or 0: its
    default; for torch this sets the process-wide intra-op thread count); ``options``
    are Predictor thresholds. The Predictor gets a ``weights_path`` attribute naming the
    file it loaded.
    """
    path = str(resolve_weights(weights))
    backend = resolve_backend(backend, device)
    if backend == 'torch':
        if threads:
            torch.set_num_threads(int(threads))
        pred = Predictor(checkpoint=path, device=device, fp16=fp16, input_size=input_size,
                         **options)
    else:
        pred = Predictor(backend=make_backend(backend, path, device=device,
                                              threads=threads or None,
                                              input_size=input_size),
                         input_size=input_size, **options)
    pred.weights_path = path
    return pred


def onnx_cache_dir() -> pathlib.Path:
    """Where exports of read-only checkpoints go: ``$XDG_CACHE_HOME/hydranet_perception``."""
    base = os.environ.get('XDG_CACHE_HOME') or os.path.join('~', '.cache')
    return pathlib.Path(base).expanduser() / 'hydranet_perception'


def ensure_onnx(path: str, *, height: Optional[int] = None, width: Optional[int] = None
                ) -> str:
    """
    Return an ONNX file for ``path``: itself, or an export of a .pt checkpoint.

    The export (the raw forward, at ``height`` x ``width``, default the size the
    checkpoint was trained at) is written beside the checkpoint as
    ``<stem>.<W>x<H>.onnx``, or, when that folder is read-only (a system install), in
    ``onnx_cache_dir()`` under a name that includes the checkpoint's hash. It is reused
    while it is newer than the checkpoint, and written atomically, so nodes starting
    together never read half a file.
    """
    p = pathlib.Path(path)
    if p.suffix == '.onnx':
        return str(p)
    from hydranet_perception.model.checkpoint import load_model
    from hydranet_perception.model.export import export_onnx
    model, config, _ = load_model(str(p))
    h, w = (int(height), int(width)) if height and width else tuple(config.input_size)

    def fresh(out: pathlib.Path) -> bool:
        return out.is_file() and out.stat().st_mtime >= p.stat().st_mtime

    beside = p.parent / f'{p.stem}.{w}x{h}.onnx'
    if fresh(beside):  # the usual case: no need to hash the checkpoint
        return str(beside)
    digest = hashlib.sha256(p.read_bytes()).hexdigest()[:12]
    cached = onnx_cache_dir() / f'{p.stem}-{digest}.{w}x{h}.onnx'
    if fresh(cached):
        return str(cached)
    for out in (beside, cached):
        tmp = out.with_name(f'.{out.name}.{os.getpid()}.tmp')
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            if not os.access(out.parent, os.W_OK):
                continue  # read-only: try the next place
            export_onnx(model.eval(), tmp, height=h, width=w)
            os.replace(tmp, out)
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            continue
        return str(out)
    raise OSError(f'cannot write an ONNX export of {p} beside it or in {onnx_cache_dir()}: '
                  'export it with hydranet-export and pass the .onnx as weights')


def _tensorrt_backend(onnx_path: str):
    """Build a TensorRT runtime: onnxruntime's TensorRT execution provider (GPUs only)."""
    import onnxruntime as ort
    available = ort.get_available_providers()
    if 'TensorrtExecutionProvider' not in available:
        raise ValueError('backend tensorrt needs an NVIDIA GPU and onnxruntime-gpu built with '
                         f'TensorRT (providers here: {", ".join(available)}); use backend '
                         'torch with fp16 on CUDA, or onnxruntime')
    backend = OnnxRuntimeBackend(onnx_path, device=torch.device('cpu'))
    backend.session = ort.InferenceSession(
        onnx_path, providers=['TensorrtExecutionProvider', 'CUDAExecutionProvider',
                              'CPUExecutionProvider'])
    backend.name = 'tensorrt'
    return backend


def make_backend(name: str, path: str, *, device: str = 'cpu', threads: Optional[int] = None,
                 input_size: Optional[Sequence[int]] = None):
    """
    Build the ``name`` runtime for a checkpoint or ONNX file.

    A .pt checkpoint is exported first (``ensure_onnx``), at ``input_size`` (H, W) when
    given.

    :raises ValueError: unknown runtime, or one that is not installed here (with the fix).
    """
    if name not in RUNTIMES:
        raise ValueError(f'unknown backend {name!r}; use auto, torch or one of '
                         f'{", ".join(RUNTIMES)}')
    h, w = (tuple(input_size) if input_size else (None, None))
    onnx_path = ensure_onnx(path, height=h, width=w)
    if name == 'onnxruntime':
        return OnnxRuntimeBackend(onnx_path, device=torch.device(
            'cuda' if str(device).startswith('cuda') else 'cpu'), threads=threads)
    if name == 'openvino':
        return OpenVinoBackend(onnx_path, threads=threads)
    return _tensorrt_backend(onnx_path)
