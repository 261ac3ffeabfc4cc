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
Data: synthetic scenes, COCO-format reading and writing, training transforms.

* ``synthetic``: ``generate_scene``, ``generate_sequence`` (numpy + OpenCV only);
* ``coco``: ``write_coco_split``, ``generate_synthetic_split``, ``CocoDataset``;
* ``datasets``: the sample format, ``SyntheticDataset``, ``collate``, ``DatasetError``;
* ``yolo_format`` / ``yolo_export``: the Ultralytics YOLO format, ``YoloDataset`` and
  ``generate_yolo_dataset``;
* ``transforms``: ``Letterbox``, ``RandomHorizontalFlip``, ``ColorJitter``, ``Compose``.

The torch-based names are imported lazily, so ``from hydranet_perception.data import
generate_scene`` does not import torch.
"""

import importlib

from hydranet_perception.data.synthetic import (
    generate_scene, generate_sequence, Instance, Scene, SceneOptions)

_LAZY = {
    'CocoDataset': 'coco', 'write_coco_split': 'coco', 'generate_synthetic_split': 'coco',
    'SyntheticDataset': 'datasets', 'collate': 'datasets', 'scene_to_sample': 'datasets',
    'DatasetError': 'datasets', 'YoloDataset': 'yolo_format',
    'generate_yolo_dataset': 'yolo_export',
    'Compose': 'transforms', 'Letterbox': 'transforms',
    'RandomHorizontalFlip': 'transforms', 'ColorJitter': 'transforms',
    'train_transforms': 'transforms', 'eval_transforms': 'transforms',
}

__all__ = ['generate_scene', 'generate_sequence', 'Instance', 'Scene', 'SceneOptions',
           *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        module = importlib.import_module(f'hydranet_perception.data.{_LAZY[name]}')
        return getattr(module, name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
