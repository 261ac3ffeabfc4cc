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
Compatibility names for the tools: the runtimes now live in ``hydranet_perception.inference``.

``make_predictor`` is ``Predictor.from_weights``; ``make_backend(name, path)`` loads the
weights for that runtime and builds it. New code imports from ``inference``.
"""

from typing import Optional, Sequence

from hydranet_perception.inference.backends import backend_problem, BACKENDS, \
    make_backend as _make_backend, resolve_backend
from hydranet_perception.inference.devices import resolve_device
from hydranet_perception.inference.predictor import Predictor
from hydranet_perception.inference.weights import ensure_onnx, load_weights, \
    onnx_cache_dir, resolve_weights, SHIPPED_WEIGHTS

RUNTIMES = tuple(n for n in BACKENDS if n != 'torch')

__all__ = ['backend_problem', 'ensure_onnx', 'make_backend', 'make_predictor',
           'onnx_cache_dir', 'resolve_backend', 'resolve_weights', 'RUNTIMES',
           'SHIPPED_WEIGHTS']


def make_predictor(weights: Optional[str] = None, *, backend: str = 'torch',
                   **kwargs) -> Predictor:
    """Build a Predictor for a checkpoint (torch by default) or an ONNX file (onnxruntime)."""
    if backend == 'torch' and str(weights or '').endswith('.onnx'):
        backend = 'onnxruntime'
    return Predictor.from_weights(weights, backend=backend, **kwargs)


def make_backend(name: str, path: str, *, device: str = 'cpu', threads: Optional[int] = None,
                 input_size: Optional[Sequence[int]] = None):
    """
    Load ``path`` for the ``name`` runtime and build it.

    :raises ValueError: unknown runtime, or one that cannot run here (with the fix).
    """
    if name not in BACKENDS:
        raise ValueError(f'unknown backend {name!r}; use auto, torch or one of '
                         f'{", ".join(RUNTIMES)}')
    weights = load_weights(path, runtime=name, input_size=input_size)
    return _make_backend(name, weights, device=resolve_device(device), threads=threads)
