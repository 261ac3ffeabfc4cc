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

"""Training configuration: nested dataclasses loaded from YAML (``hydranet-train CONFIG``)."""

from dataclasses import asdict, dataclass, field, fields, is_dataclass
from typing import Any, Dict, Optional, Tuple

import yaml


@dataclass
class DataConfig:
    """
    Where images come from: a synthetic split from a seed, a COCO folder or a YOLO dataset.

    ``kind: synthetic`` uses ``seed``, ``num_images``, ``height``, ``width``;
    ``kind: coco`` uses ``root`` (a split written by ``write_coco_split``: images/,
    annotations/instances.json, optional annotations/panoptic.json) or explicit paths;
    ``kind: yolo`` uses ``data_yaml`` (an Ultralytics data.yaml) and ``split`` (its
    ``train``, ``val`` or ``test`` entry); see ``data/yolo_format.py``.
    """

    kind: str = 'synthetic'
    seed: int = 0
    num_images: int = 2000
    height: int = 480
    width: int = 640
    root: str = ''
    instances_json: str = ''
    image_dir: str = ''
    panoptic_json: str = ''
    panoptic_dir: str = ''
    data_yaml: str = ''
    split: str = 'train'


@dataclass
class OptimConfig:
    """Optimiser and schedule (AdamW, linear warm-up then cosine)."""

    lr: float = 2e-3
    weight_decay: float = 5e-4
    warmup_steps: int = 100
    grad_clip: float = 10.0


@dataclass
class TrainConfig:
    """Everything ``hydranet-train`` needs; see config/train_*.yaml."""

    model: Dict[str, Any] = field(default_factory=dict)  # a ModelConfig as a dict
    train: DataConfig = field(default_factory=DataConfig)
    val: Optional[DataConfig] = None
    input_size: Tuple[int, int] = (256, 320)  # (H, W) of training batches
    scale_range: Tuple[float, float] = (0.6, 1.4)
    batch_size: int = 8
    max_steps: int = 1000
    time_budget_min: float = 0.0  # stop after this many minutes (0 = no limit)
    optim: OptimConfig = field(default_factory=OptimConfig)
    balancing: str = 'uncertainty'  # 'fixed' or 'uncertainty' (Kendall et al. 2018)
    task_weights: Dict[str, float] = field(default_factory=dict)
    tasks: Tuple[str, ...] = ('detect', 'masks', 'semantic', 'keypoints')
    amp: str = 'auto'  # auto (bf16 on CPU, fp16 on CUDA), bf16, fp16, off
    workers: int = 1
    seed: int = 0
    log_every: int = 10
    ckpt_every: int = 200
    out_dir: str = 'out/train'
    init_from: str = ''  # a checkpoint to start from (names and shapes that match)
    backbone_weights: str = ''  # a local torchvision state dict for model.backbone
    ema_decay: float = 0.998  # EMA of the weights (saved and evaluated); 0 turns it off
    ema_tau: float = 200.0  # updates: the EMA decay ramps as 1 - exp(-updates / tau)
    device: str = 'auto'


def _build(cls, data):
    if data is None:
        return None
    if not isinstance(data, dict):
        raise ValueError(f'{cls.__name__} expects a mapping, got {data!r}')
    known = {f.name: f for f in fields(cls)}
    unknown = set(data) - set(known)
    if unknown:
        raise ValueError(f'unknown {cls.__name__} keys {sorted(unknown)}; known: '
                         f'{sorted(known)}')
    kwargs = {}
    for k, v in data.items():
        t = known[k].type
        if t in (DataConfig, 'DataConfig', Optional[DataConfig], 'Optional[DataConfig]'):
            kwargs[k] = _build(DataConfig, v)
        elif t in (OptimConfig, 'OptimConfig'):
            kwargs[k] = _build(OptimConfig, v)
        elif isinstance(v, list):
            kwargs[k] = tuple(v)
        else:
            kwargs[k] = v
    return cls(**kwargs)


def load_train_config(path_or_dict) -> TrainConfig:
    """Load a TrainConfig from a YAML file path or a dict; unknown keys are refused."""
    if isinstance(path_or_dict, dict):
        data = path_or_dict
    else:
        with open(path_or_dict) as f:
            data = yaml.safe_load(f) or {}
    cfg = _build(TrainConfig, data)
    if cfg.balancing not in ('fixed', 'uncertainty'):
        raise ValueError(f'balancing={cfg.balancing!r}: use fixed or uncertainty')
    if cfg.amp not in ('auto', 'bf16', 'fp16', 'off'):
        raise ValueError(f'amp={cfg.amp!r}: use auto, bf16, fp16 or off')
    if any(s % 32 for s in cfg.input_size):
        raise ValueError(f'input_size {cfg.input_size} must be multiples of 32')
    for name, d in (('train', cfg.train), ('val', cfg.val)):
        if d is not None and d.kind not in ('synthetic', 'coco', 'yolo'):
            raise ValueError(f'{name}.kind={d.kind!r}: use synthetic, coco or yolo')
        if d is not None and d.kind == 'yolo' and not d.data_yaml:
            raise ValueError(f'{name}.kind yolo needs {name}.data_yaml (a data.yaml path)')
    if isinstance(cfg.model, dict) and cfg.model.get('label_space') == 'data':
        cfg.model = dict(cfg.model, label_space=data_label_space(cfg.train).to_dict())
    return cfg


def data_label_space(cfg: DataConfig):
    """
    Return the label space a data set declares (``model.label_space: data``).

    :param cfg: a ``yolo`` (names, keypoints of data.yaml) or ``coco`` (categories) data
        config.
    :return: a ``LabelSpace``.
    :raises ValueError: for synthetic data (it uses the default label space) or bad files.
    """
    if cfg.kind == 'yolo':
        from hydranet_perception.data.yolo_format import load_data_yaml
        return load_data_yaml(cfg.data_yaml).label_space
    if cfg.kind == 'coco':
        import json
        import os
        from hydranet_perception.data.coco import label_space_from_categories
        paths = ([os.path.join(cfg.root, 'annotations', 'instances.json'),
                  os.path.join(cfg.root, 'annotations', 'panoptic.json')] if cfg.root
                 else [cfg.instances_json, cfg.panoptic_json])
        cats = []
        for p in paths:
            if p and os.path.isfile(p):
                with open(p) as f:
                    cats += json.load(f).get('categories', [])
        if not cats:
            raise ValueError(f'model.label_space: data: no categories in {paths}')
        return label_space_from_categories(cats)[0]
    raise ValueError('model.label_space: data needs train.kind yolo or coco')


def to_dict(cfg) -> Dict[str, Any]:
    """Return a plain dict (lists for tuples) for YAML, JSON and checkpoints."""
    def conv(v):
        if is_dataclass(v):
            return {k: conv(x) for k, x in asdict(v).items()}
        if isinstance(v, (tuple, list)):
            return [conv(x) for x in v]
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        return v
    return conv(cfg)
