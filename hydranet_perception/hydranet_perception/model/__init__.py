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
The HydraNet model: config, layers, ``build_model`` and checkpoints.

The config (``model.config``) imports no torch, so a runtime that only reads a model's
config (from an ONNX graph's metadata) does not load it; the other names here import
their modules, and torch, on first use.
"""

import importlib

from hydranet_perception.model.config import load_model_config, LossConfig, ModelConfig, \
    STRIDES, TASKS

_LAZY = {'build_model': 'build', 'HEADS': 'build', 'CheckpointError': 'checkpoint',
         'load_checkpoint': 'checkpoint', 'load_model': 'checkpoint',
         'save_checkpoint': 'checkpoint', 'HydraNet': 'hydranet'}

__all__ = ['build_model', 'CheckpointError', 'HEADS', 'HydraNet', 'load_checkpoint',
           'load_model', 'load_model_config', 'LossConfig', 'ModelConfig', 'save_checkpoint',
           'STRIDES', 'TASKS']


def __getattr__(name):
    """Import the torch-based parts of the package when first asked for."""
    if name in _LAZY:
        module = importlib.import_module(f'{__name__}.{_LAZY[name]}')
        value = getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
