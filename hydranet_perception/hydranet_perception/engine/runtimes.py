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

"""Inference runtimes beyond PyTorch, behind the Predictor's backend interface.

A backend has ``tasks``, ``config``, ``device`` and ``run(images, tasks) -> dict`` of
raw outputs, so every runtime feeds the same postprocessing and returns the same
``Prediction``. ONNX graphs come from ``hydranet-export``; a .pt given to a non-torch
runtime is exported on the fly next to it (``<name>.onnx``).
"""

import pathlib
from typing import Optional

import torch

from hydranet_perception.inference import OnnxRuntimeBackend, OpenVinoBackend, Predictor

RUNTIMES = ('onnxruntime', 'openvino', 'tensorrt')
SHIPPED_WEIGHTS = pathlib.Path(__file__).resolve().parents[1] / 'weights' / 'hydranet_n.pt'


def resolve_weights(weights: Optional[str]) -> pathlib.Path:
    """Return the weights file to load (empty or None = the shipped weights)."""
    return pathlib.Path(weights).expanduser() if weights else SHIPPED_WEIGHTS


def make_predictor(weights: Optional[str] = None, *, backend: str = 'torch',
                   device: str = 'auto', fp16: bool = True, input_size=None,
                   **options) -> Predictor:
    """Build a Predictor for a checkpoint or ONNX file on any runtime.

    ``weights`` empty means the shipped weights; ``options`` are Predictor thresholds.
    The Predictor gets a ``weights_path`` attribute naming the file it loaded.
    """
    path = str(resolve_weights(weights))
    if backend == 'torch':
        pred = Predictor(checkpoint=path, device=device, fp16=fp16, input_size=input_size,
                         **options)
    else:
        pred = Predictor(backend=make_backend(backend, path, device=device),
                         input_size=input_size, **options)
    pred.weights_path = path
    return pred


def ensure_onnx(path: str, *, height: Optional[int] = None, width: Optional[int] = None
                ) -> str:
    """Return an ONNX file for ``path``: itself, or a fresh export of a .pt beside it."""
    p = pathlib.Path(path)
    if p.suffix == '.onnx':
        return str(p)
    from hydranet_perception.model.checkpoint import load_model
    from hydranet_perception.model.export import export_onnx
    model, config, _ = load_model(str(p))
    h, w = (height, width) if height and width else config.input_size
    out = p.with_suffix('.onnx')
    if not out.exists() or out.stat().st_mtime < p.stat().st_mtime:
        export_onnx(model.eval(), out, height=h, width=w)
    return str(out)


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


def make_backend(name: str, path: str, *, device: str = 'cpu', threads: Optional[int] = None):
    """Build the ``name`` runtime for a checkpoint or ONNX file.

    Raises:
        ValueError: unknown runtime, or one that is not installed here (with the fix).

    """
    if name == 'onnxruntime':
        return OnnxRuntimeBackend(ensure_onnx(path), device=torch.device(
            'cuda' if str(device).startswith('cuda') else 'cpu'), threads=threads)
    if name == 'openvino':
        return OpenVinoBackend(ensure_onnx(path), threads=threads)
    if name == 'tensorrt':
        return _tensorrt_backend(ensure_onnx(path))
    raise ValueError(f'unknown backend {name!r}; use torch or one of {", ".join(RUNTIMES)}')
