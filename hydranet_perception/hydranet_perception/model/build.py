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


"""``build_model(cfg)``: turn a ``ModelConfig`` into a ``HydraNet`` (a small head registry)."""

from typing import Callable, Dict, Optional, Sequence

from hydranet_perception.model.backbone import Backbone, scaled_channels, scaled_depths
from hydranet_perception.model.config import load_model_config, ModelConfig
from hydranet_perception.model.head_depth import DepthHead
from hydranet_perception.model.head_detect import DetectHead
from hydranet_perception.model.head_identity import IdentityHead
from hydranet_perception.model.head_keypoints import KeypointHead
from hydranet_perception.model.head_masks import MaskHead
from hydranet_perception.model.head_semantic import SemanticHead
from hydranet_perception.model.hydranet import HydraNet
from hydranet_perception.model.neck import PANNeck
from hydranet_perception.model.yolov8_family import YOLOV8_HEADS
from torch import nn
from torchvision.ops import FrozenBatchNorm2d

HeadBuilder = Callable[[ModelConfig, Sequence[int]], nn.Module]


def _hidden(channels: Sequence[int]) -> int:
    # Head width follows the stride-8 level: 64 for n, 128 for s.
    return max(32, min(int(channels[0]), 128))


def _detect(cfg: ModelConfig, ch: Sequence[int]) -> nn.Module:
    return DetectHead(in_channels=ch, num_classes=cfg.label_space.num_things,
                      hidden=_hidden(ch), strides=cfg.strides)


def _masks(cfg: ModelConfig, ch: Sequence[int]) -> nn.Module:
    return MaskHead(in_channels=ch, num_prototypes=cfg.num_prototypes,
                    hidden=max(cfg.num_prototypes, _hidden(ch) // 2),
                    proto_channels=_hidden(ch))


def _semantic(cfg: ModelConfig, ch: Sequence[int]) -> nn.Module:
    return SemanticHead(in_channels=ch, num_classes=cfg.label_space.num_classes,
                        hidden=max(32, _hidden(ch) // 2))


def _keypoints(cfg: ModelConfig, ch: Sequence[int]) -> nn.Module:
    return KeypointHead(in_channels=ch, num_keypoints=cfg.label_space.max_keypoints,
                        hidden=_hidden(ch), refine=cfg.keypoint_refine, strides=cfg.strides)


def _depth(cfg: ModelConfig, ch: Sequence[int]) -> nn.Module:
    return DepthHead(in_channels=ch, hidden=max(32, _hidden(ch) // 2))


def _identity(cfg: ModelConfig, ch: Sequence[int]) -> nn.Module:
    return IdentityHead(in_channels=ch, embedding_dim=cfg.embedding_dim, hidden=_hidden(ch))


HEADS: Dict[str, HeadBuilder] = {
    'detect': _detect,
    'masks': _masks,
    'semantic': _semantic,
    'keypoints': _keypoints,
    'depth': _depth,
    'identity': _identity,
}


def build_model(cfg) -> HydraNet:
    """
    Build the HydraNet a config describes (random weights).

    :param cfg: a ``ModelConfig``, or anything ``load_model_config`` reads (YAML path, dict).
    :return: a ``HydraNet`` with a head for each of ``cfg.heads``.
    """
    cfg = load_model_config(cfg)
    registry = {**HEADS, **YOLOV8_HEADS} if cfg.family == 'yolov8' else HEADS
    if cfg.backbone == 'csp':
        backbone = Backbone(width=cfg.width_multiple, depth=cfg.depth_multiple,
                            max_channels=cfg.max_channels)
    else:  # a torchvision network, projected to the CSP channels of this size
        from hydranet_perception.model.backbone_torchvision import TorchvisionBackbone
        backbone = TorchvisionBackbone(name=cfg.backbone, out_channels=scaled_channels(
            cfg.width_multiple, cfg.max_channels)[2:])
    neck = PANNeck(in_channels=backbone.out_channels,
                   depth=scaled_depths(cfg.depth_multiple)[0])
    heads = {name: registry[name](cfg, neck.out_channels) for name in cfg.heads}
    model = HydraNet(backbone, neck, heads, config=cfg)
    for part in cfg.freeze:
        freeze(model.heads[part] if part in model.heads else getattr(model, part, None))
    return model


def freeze(module: Optional[nn.Module]):
    """
    Fix a module's weights for training: no gradients, batch norms on running statistics.

    Each ``BatchNorm2d`` becomes torchvision's ``FrozenBatchNorm2d`` (same tensors less
    ``num_batches_tracked``, the same function as in eval mode whatever the module's
    mode), so a frozen backbone computes in training what it computes in inference.

    :param module: the part to freeze (None, for a head not built, is ignored).
    """
    if module is None:
        return
    for name, child in list(module.named_children()):
        if isinstance(child, nn.BatchNorm2d):
            frozen = FrozenBatchNorm2d(child.num_features, eps=child.eps)
            frozen.load_state_dict(child.state_dict(), strict=False)
            setattr(module, name, frozen)
        else:
            freeze(child)
    module.requires_grad_(False)
