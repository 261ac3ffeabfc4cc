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
The ``yolov8`` family: Ultralytics YOLOv8-seg's heads and the name table of its weights.

The backbone (``backbone.Backbone``) and neck (``neck.PANNeck``) of every family already
are YOLOv8's, layer for layer; ``family: yolov8`` swaps the detect and mask heads for
YOLOv8's (``yolov8_detect``, ``yolov8_masks``) and keeps the HydraNet semantic,
keypoint, depth and identity heads on the same neck.  ``ultralytics_name_table`` maps
each weight of such a model to its name in an Ultralytics ``yolov8{n,s,m}-seg`` state
dict (layer indices of ``yolov8-seg.yaml``), so a checkpoint loads 1:1.
"""

from typing import Dict, Sequence

from hydranet_perception.model.blocks import Conv, make_divisible
from hydranet_perception.model.yolov8_detect import YoloV8DetectHead
from hydranet_perception.model.yolov8_masks import YoloV8MaskHead
from torch import nn

__all__ = ['IMPORTED_PARTS', 'proto_channels', 'SEG_HEAD_INDEX', 'ultralytics_name_table',
           'YOLOV8_HEADS']

#: Ultralytics' layer index of the ``Segment`` head in ``yolov8-seg.yaml``.
SEG_HEAD_INDEX = 22

#: Our module prefix -> Ultralytics' (``yolov8-seg.yaml`` layer indices).
PREFIXES = (
    ('backbone.stem', 'model.0'), ('backbone.stage2.0', 'model.1'),
    ('backbone.stage2.1', 'model.2'), ('backbone.stage3.0', 'model.3'),
    ('backbone.stage3.1', 'model.4'), ('backbone.stage4.0', 'model.5'),
    ('backbone.stage4.1', 'model.6'), ('backbone.stage5.0', 'model.7'),
    ('backbone.stage5.1', 'model.8'), ('backbone.stage5.2', 'model.9'),
    ('neck.td4', 'model.12'), ('neck.td3', 'model.15'), ('neck.down3', 'model.16'),
    ('neck.bu4', 'model.18'), ('neck.down4', 'model.19'), ('neck.bu5', 'model.21'),
    ('heads.detect.box', f'model.{SEG_HEAD_INDEX}.cv2'),
    ('heads.detect.cls', f'model.{SEG_HEAD_INDEX}.cv3'),
    ('heads.masks.coef', f'model.{SEG_HEAD_INDEX}.cv4'),
    ('heads.masks.proto', f'model.{SEG_HEAD_INDEX}.proto'),
)

#: The parts whose weights come from an Ultralytics YOLOv8-seg model.
IMPORTED_PARTS = ('backbone', 'neck', 'detect', 'masks')


def proto_channels(width: float, max_channels: int) -> int:
    """Return Ultralytics' ``npr`` (channels inside ``Proto``): 256 scaled by the width."""
    return make_divisible(min(256, max_channels) * width, 8)


def _detect(cfg, ch: Sequence[int]) -> nn.Module:
    return YoloV8DetectHead(in_channels=ch, num_classes=cfg.label_space.num_things,
                            strides=cfg.strides)


def _masks(cfg, ch: Sequence[int]) -> nn.Module:
    return YoloV8MaskHead(in_channels=ch, num_prototypes=cfg.num_prototypes,
                          proto_channels=proto_channels(cfg.width_multiple,
                                                        cfg.max_channels))


#: The heads ``family: yolov8`` replaces (``build.HEADS`` gives the others).
YOLOV8_HEADS = {'detect': _detect, 'masks': _masks}


def _theirs(prefix: str) -> str:
    for ours, theirs in PREFIXES:
        if prefix == ours or prefix.startswith(ours + '.'):
            return theirs + prefix[len(ours):]
    raise KeyError(prefix)


def ultralytics_name_table(model: nn.Module) -> Dict[str, str]:
    """
    Map each imported weight of a ``yolov8``-family HydraNet to its Ultralytics name.

    Our ``Conv`` is ``Sequential(conv, bn, act)`` where Ultralytics' has ``.conv`` and
    ``.bn``: ``<m>.0.weight`` is ``<M>.conv.weight`` and ``<m>.1.<p>`` is ``<M>.bn.<p>``;
    plain convolutions keep their parameter names.  Only the ``IMPORTED_PARTS`` are
    mapped (the other heads are HydraNet's own).

    :param model: a HydraNet built with ``family: yolov8``.
    :return: {our state-dict key: Ultralytics state-dict key}, one entry per tensor
        (parameters and buffers, ``num_batches_tracked`` included).
    """
    state = set(model.state_dict())
    table: Dict[str, str] = {}
    wanted = ('backbone.', 'neck.', 'heads.detect.', 'heads.masks.')
    for name, module in model.named_modules():
        if not name.startswith(wanted):
            continue
        if isinstance(module, Conv):
            for key in state:
                if key.startswith(name + '.0.'):
                    table[key] = _theirs(name) + '.conv.' + key[len(name) + 3:]
                elif key.startswith(name + '.1.'):
                    table[key] = _theirs(name) + '.bn.' + key[len(name) + 3:]
        elif isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)) and name + '.weight' not in table:
            # (a Conv's own conv was mapped with its parent, which named_modules gives first)
            for p in ('weight', 'bias'):
                if f'{name}.{p}' in state:
                    table[f'{name}.{p}'] = f'{_theirs(name)}.{p}'
    missing = sorted(k for k in state if k.startswith(wanted) and k not in table)
    if missing:
        raise RuntimeError(f'no Ultralytics name for {missing[:5]}: the name table is stale')
    return table
