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
Model configuration: nested dataclasses loaded from YAML or a dict.

A ``ModelConfig`` fully describes the network (``build_model(cfg)``) and travels in
every checkpoint (``cfg.to_dict()``), so a checkpoint rebuilds its own model::

    family: hydranet        # hydranet | yolov8: the detect and mask heads' layers
    size: n                 # n | s | m: width and depth multipliers (YOLOv8-like)
    heads: [detect, masks, semantic, keypoints]
    num_prototypes: 32
    input_size: [480, 640]  # H, W; multiples of 32
    label_space: default    # or the dict of LabelSpace.to_dict()
    loss: {box: 5.0, ...}   # see LossConfig
    freeze: []              # parts kept fixed in training: backbone, neck, heads
    backbone: csp           # csp, or a torchvision network (backbone_torchvision.py)

``family: yolov8`` builds the detect and mask heads of Ultralytics YOLOv8-seg
(``model/yolov8_detect.py``, ``model/yolov8_masks.py``) on the same backbone and neck,
so that its weights import tensor for tensor (``hydranet-import``); a config without
the key (older checkpoints) is the ``hydranet`` family.
"""

from dataclasses import asdict, dataclass, field, fields
import pathlib
from typing import Any, Dict, Optional, Tuple, Union

from hydranet_perception.coder import STRIDES
from hydranet_perception.schema import default_label_space, LabelSpace
import yaml

TASKS = ('detect', 'masks', 'semantic', 'keypoints', 'depth', 'identity')
NEEDS_DETECT = ('masks', 'keypoints', 'identity')
# Heads built when a config names none: the shipped four (depth and identity are opt-in).
DEFAULT_HEADS = ('detect', 'masks', 'semantic', 'keypoints')
FAMILIES = ('hydranet', 'yolov8')
# csp: the YOLOv8-like backbone; the others: torchvision networks (backbone_torchvision.py)
BACKBONES = ('csp', 'resnet18', 'resnet34', 'resnet50', 'mobilenet_v3_small',
             'mobilenet_v3_large', 'efficientnet_b0')
FREEZABLE = ('backbone', 'neck') + TASKS

# size -> (depth multiple, width multiple, max channels), as in YOLOv8.
SIZES = {'n': (0.33, 0.25, 1024), 's': (0.33, 0.50, 1024), 'm': (0.67, 0.75, 768)}


@dataclass
class LossConfig:
    """
    Gains of the loss terms inside each task and the label assignment settings.

    Detection: ``cls`` (BCE against IoU-aware soft targets) and ``box`` (GIoU);
    masks: ``mask_bce`` and ``mask_dice``; keypoints: ``kpt_oks``, ``kpt_dist`` and
    ``kpt_vis``;
    semantic: ``sem_ce``; depth: ``depth_l1`` (L1 of log depth) and ``depth_si``
    (scale-invariant log error); identity: ``id_con`` (supervised contrastive).
    The assigner is task-aligned (see ``losses/assign.py``):
    ``topk`` candidates per object, metric ``score**alpha * iou**beta``, candidates
    within the box or within ``center_radius`` strides of its centre; a level takes an
    object only where every side of its box is within ``level_span`` strides of the
    anchor (None: no such rule; the coarsest level takes any candidate).
    Keypoint ablations: ``kpt_area`` is the OKS area of the loss, ``'segment'`` (COCO's
    and the evaluation's) or ``'box'`` (before 2026-12-02); ``kpt_class_balance``
    averages each keypoint term per class, then over classes (True), or over all
    positives (False, before 2026-12-02).
    With the keypoint refinement (``ModelConfig.keypoint_refine``) the terms above score
    the refined keypoints; ``kpt_coarse`` scales the same OKS and distance terms on the
    anchors' unrefined keypoints, and ``kpt_field`` the L1 loss of the offset field on
    the cells within ``kpt_field_radius`` cells (of 8 px) of a labelled keypoint
    (``losses/keypoint_field.py``).
    """

    cls: float = 1.0
    box: float = 5.0
    mask_bce: float = 1.0
    mask_dice: float = 1.0
    kpt_oks: float = 2.0
    kpt_dist: float = 1.0
    kpt_vis: float = 1.0
    sem_ce: float = 1.0
    depth_l1: float = 1.0
    depth_si: float = 1.0
    id_con: float = 1.0
    topk: int = 10
    alpha: float = 0.5
    beta: float = 6.0
    center_radius: float = 2.5
    level_span: Optional[float] = 5.0
    kpt_area: str = 'segment'
    kpt_class_balance: bool = True
    kpt_coarse: float = 1.0
    kpt_field: float = 1.0
    kpt_field_radius: float = 3.0

    def __post_init__(self):
        if self.kpt_area not in ('segment', 'box'):
            raise ValueError(f"loss.kpt_area must be 'segment' or 'box', got {self.kpt_area!r}")
        if not self.kpt_field_radius > 0:
            raise ValueError(f'loss.kpt_field_radius must be > 0 (cells of 8 px), got '
                             f'{self.kpt_field_radius}')


@dataclass
class ModelConfig:
    """
    Everything ``build_model`` needs.

    :ivar size: 'n', 's' or 'm'; picks width/depth multipliers unless ``width`` or
        ``depth`` override them.
    :ivar label_space: classes, thing/stuff split and keypoint schemas.
    :ivar heads: heads built, a subset of ``TASKS``; masks, keypoints and identity need
        detect.
    :ivar num_prototypes: P, prototype masks of the mask head.
    :ivar input_size: (H, W) the network is meant to run at (multiples of 32).
    :ivar width: optional width multiple overriding the size's.
    :ivar depth: optional depth multiple overriding the size's.
    :ivar loss: loss gains and assigner settings.
    :ivar embedding_dim: D, the identity head's embedding size.
    :ivar family: 'hydranet' (this project's heads) or 'yolov8' (Ultralytics YOLOv8-seg's
        detect and mask heads, DFL box coding: see ``hydranet_perception.coder``).
    :ivar backbone: 'csp' (YOLOv8-like, sized by ``size``) or a torchvision network of
        ``backbone_torchvision.TORCHVISION_BACKBONES`` (projected to the CSP channels).
    :ivar freeze: parts whose weights stay fixed in training (``FREEZABLE``): their
        parameters do not require gradients and their batch norms keep their statistics.
    :ivar keypoint_refine: the keypoint head refines each anchor's keypoints with a dense
        stride-8 offset field (``head_keypoints``); False in checkpoints from before it.
    """

    size: str = 'n'
    label_space: LabelSpace = field(default_factory=default_label_space)
    heads: Tuple[str, ...] = DEFAULT_HEADS
    num_prototypes: int = 32
    input_size: Tuple[int, int] = (480, 640)
    width: Optional[float] = None
    depth: Optional[float] = None
    loss: LossConfig = field(default_factory=LossConfig)
    embedding_dim: int = 32
    family: str = 'hydranet'
    backbone: str = 'csp'
    freeze: Tuple[str, ...] = ()
    keypoint_refine: bool = False

    def __post_init__(self):
        if self.family not in FAMILIES:
            raise ValueError(f'model family {self.family!r}: use one of {list(FAMILIES)}')
        if self.backbone not in BACKBONES:
            raise ValueError(f'backbone {self.backbone!r}: use one of {list(BACKBONES)}')
        self.freeze = tuple(self.freeze)
        bad = [p for p in self.freeze if p not in FREEZABLE]
        if bad:
            raise ValueError(f'freeze {bad}: choose parts among {list(FREEZABLE)}')
        if self.size not in SIZES:
            raise ValueError(f'model size {self.size!r}: use one of {sorted(SIZES)}')
        self.heads = tuple(self.heads)
        unknown = [h for h in self.heads if h not in TASKS]
        if unknown or not self.heads:
            raise ValueError(f'heads {list(self.heads)}: choose a non-empty subset of '
                             f'{list(TASKS)}')
        for h in NEEDS_DETECT:
            if h in self.heads and 'detect' not in self.heads:
                raise ValueError(f'head {h!r} needs the detect head: add detect to heads')
        if 'keypoints' in self.heads and self.label_space.max_keypoints == 0:
            raise ValueError('head keypoints: no class of the label space has a keypoint '
                             'schema; drop the head or add schemas')
        self.input_size = tuple(int(s) for s in self.input_size)
        if len(self.input_size) != 2 or any(s <= 0 or s % 32 for s in self.input_size):
            raise ValueError(f'input_size {self.input_size}: two positive multiples of 32 '
                             '(H, W)')
        if self.embedding_dim < 2:
            raise ValueError(f'embedding_dim={self.embedding_dim} must be >= 2')
        if not isinstance(self.keypoint_refine, bool):
            raise ValueError(f'keypoint_refine={self.keypoint_refine!r} must be true or false')
        if self.num_prototypes < 1:
            raise ValueError(f'num_prototypes={self.num_prototypes} must be >= 1')

    @property
    def depth_multiple(self) -> float:
        return float(self.depth if self.depth is not None else SIZES[self.size][0])

    @property
    def width_multiple(self) -> float:
        return float(self.width if self.width is not None else SIZES[self.size][1])

    @property
    def max_channels(self) -> int:
        return SIZES[self.size][2]

    @property
    def strides(self) -> Tuple[int, ...]:
        return STRIDES

    def to_dict(self) -> Dict[str, Any]:
        """Return a plain dict (YAML/JSON/checkpoint safe) that ``load_model_config`` reads."""
        return {'size': self.size, 'label_space': self.label_space.to_dict(),
                'heads': list(self.heads), 'num_prototypes': self.num_prototypes,
                'input_size': list(self.input_size), 'width': self.width,
                'depth': self.depth, 'loss': asdict(self.loss),
                'embedding_dim': self.embedding_dim, 'family': self.family,
                'backbone': self.backbone,
                'freeze': list(self.freeze), 'keypoint_refine': self.keypoint_refine}


def _label_space(value: Any) -> LabelSpace:
    if value is None or value == 'default':
        return default_label_space()
    if isinstance(value, LabelSpace):
        return value
    if isinstance(value, dict) and 'classes' in value:
        return LabelSpace.from_dict(value)
    raise ValueError(f'label_space: expected "default" or a dict with "classes", got '
                     f'{type(value).__name__}')


def load_model_config(path_or_dict: Union[str, pathlib.Path, Dict[str, Any], None]
                      ) -> ModelConfig:
    """
    Load a ``ModelConfig`` from a YAML path or a dict; unknown keys are refused.

    :param path_or_dict: a YAML file, a mapping (e.g. ``ModelConfig.to_dict()``), an
        existing ``ModelConfig`` (returned as is) or None (all defaults).
    :raises ValueError: on unknown keys or invalid values, naming the offending key.
    """
    if isinstance(path_or_dict, ModelConfig):
        return path_or_dict
    if path_or_dict is None:
        data: Dict[str, Any] = {}
    elif isinstance(path_or_dict, dict):
        data = dict(path_or_dict)
    else:
        with open(path_or_dict) as f:
            data = yaml.safe_load(f) or {}
        if not isinstance(data, dict):
            raise ValueError(f'{path_or_dict}: expected a mapping of model settings')
    known = {f.name for f in fields(ModelConfig)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f'unknown model config keys {unknown}; known: {sorted(known)}')
    loss = data.get('loss') or {}
    if isinstance(loss, dict):
        loss_known = {f.name for f in fields(LossConfig)}
        bad = sorted(set(loss) - loss_known)
        if bad:
            raise ValueError(f'unknown loss keys {bad}; known: {sorted(loss_known)}')
        loss = LossConfig(**loss)
    kwargs = dict(data)
    kwargs['loss'] = loss
    kwargs['label_space'] = _label_space(data.get('label_space'))
    for key in ('heads', 'input_size', 'freeze'):
        if key in kwargs:
            kwargs[key] = tuple(kwargs[key])
    return ModelConfig(**kwargs)
