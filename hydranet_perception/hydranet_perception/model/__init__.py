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


"""The HydraNet model: config, layers, ``build_model`` and checkpoints."""

from hydranet_perception.model.build import build_model, HEADS
from hydranet_perception.model.checkpoint import CheckpointError, load_checkpoint, load_model, \
    save_checkpoint
from hydranet_perception.model.config import load_model_config, LossConfig, ModelConfig, \
    STRIDES, TASKS
from hydranet_perception.model.hydranet import HydraNet

__all__ = ['build_model', 'CheckpointError', 'HEADS', 'HydraNet', 'load_checkpoint',
           'load_model', 'load_model_config', 'LossConfig', 'ModelConfig', 'save_checkpoint',
           'STRIDES', 'TASKS']
