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
A torchvision classification network as the backbone (``backbone: resnet18`` etc.).

For small real datasets (nuclei, surgical instruments) an ImageNet-pretrained trunk
helps more than the synthetic-data weights.  The network is built without weights
(nothing is downloaded); ``load_backbone_weights`` copies a torchvision state dict from
a local file (e.g. ``~/.cache/torch/hub/checkpoints/resnet18-f37072fd.pth``, where
torchvision keeps what it downloaded).  The stride-8, 16 and 32 maps are tapped and
projected by 1 x 1 convs to the channels of the CSP backbone of the same size, so the
neck and heads are those of the CSP model; the ImageNet normalisation is the first layer
(the network still takes RGB in [0, 1]) and is exported with it.
"""

import os
import pickle
from typing import Dict, List, Sequence

from hydranet_perception.model.blocks import Conv
from hydranet_perception.model.config import BACKBONES
from hydranet_perception.model.init_from import init_from, InitReport
import torch
from torch import nn
import torchvision
from torchvision.models._utils import IntermediateLayerGetter

__all__ = ['TORCHVISION_BACKBONES', 'TorchvisionBackbone', 'load_backbone_weights']

TORCHVISION_BACKBONES = BACKBONES[1:]
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _feature_taps(features: nn.Sequential) -> Dict[str, str]:
    """Return {index: c3/c4/c5}: the last block of ``features`` at strides 8, 16 and 32."""
    taps: Dict[int, str] = {}
    was_training = features.training
    features.eval()  # probing must not touch the batch-norm statistics
    x = torch.zeros(1, 3, 64, 64)
    with torch.no_grad():
        for i, block in enumerate(features):
            x = block(x)
            taps[64 // int(x.shape[-1])] = str(i)
    features.train(was_training)
    return {taps[8]: 'c3', taps[16]: 'c4', taps[32]: 'c5'}


class _Features(nn.Module):
    """Keeps torchvision's ``features.*`` names so its state dict loads as is."""

    def __init__(self, features: nn.Sequential):
        super().__init__()
        self.features = IntermediateLayerGetter(features, _feature_taps(features))

    def forward(self, x: torch.Tensor) -> Dict[str, torch.Tensor]:
        return self.features(x)


class TorchvisionBackbone(nn.Module):
    """
    Maps images Tensor[B, 3, H, W] (RGB in [0, 1]) to [C3 (H/8), C4 (H/16), C5 (H/32)].

    :param name: one of ``TORCHVISION_BACKBONES``.
    :param out_channels: channels of C3, C4 and C5 after the 1 x 1 projections.
    :ivar body: the torchvision network's layers (state-dict names as torchvision's).
    """

    def __init__(self, *, name: str, out_channels: Sequence[int]):
        super().__init__()
        if name not in TORCHVISION_BACKBONES:
            raise ValueError(f'backbone {name!r}: use csp or one of {TORCHVISION_BACKBONES}')
        net = getattr(torchvision.models, name)(weights=None)
        if name.startswith('resnet'):
            self.body = IntermediateLayerGetter(
                net, {'layer2': 'c3', 'layer3': 'c4', 'layer4': 'c5'})
        else:
            self.body = _Features(net.features)
        self.register_buffer('mean', torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), False)
        self.register_buffer('std', torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), False)
        with torch.no_grad():
            was_training = self.body.training
            self.body.eval()
            probe = self.body(torch.zeros(1, 3, 64, 64))
            self.body.train(was_training)
        tapped = [int(probe[k].shape[1]) for k in ('c3', 'c4', 'c5')]
        self.proj = nn.ModuleList(Conv(c, o, 1) for c, o in zip(tapped, out_channels))
        self.out_channels = tuple(int(c) for c in out_channels)

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        feats = self.body((x - self.mean) / self.std)
        return [p(feats[k]) for p, k in zip(self.proj, ('c3', 'c4', 'c5'))]


def load_backbone_weights(model: nn.Module, path) -> InitReport:
    """
    Copy a torchvision state dict from a local file into ``model.backbone.body``.

    :param model: a HydraNet built with a torchvision backbone (or that backbone).
    :param path: a ``.pth`` state dict of the same torchvision network (loaded with
        ``weights_only=True``; the classifier's tensors are ignored).
    :return: the ``InitReport`` (the classifier's tensors under ``unexpected``).
    :raises CheckpointError: not a torchvision backbone, not a state dict, or weights of
        another network (a body tensor missing or of another shape).
    """
    from hydranet_perception.model.checkpoint import CheckpointError
    backbone = getattr(getattr(model, 'module', model), 'backbone', model)
    if not isinstance(backbone, TorchvisionBackbone):
        raise CheckpointError('backbone weights need a torchvision backbone: set '
                              f'model.backbone to one of {TORCHVISION_BACKBONES}')
    path = os.path.expanduser(str(path))
    try:
        state = torch.load(path, map_location='cpu', weights_only=True)
    except (OSError, RuntimeError, EOFError, ValueError, pickle.UnpicklingError) as e:
        raise CheckpointError(f'backbone weights {path}: {str(e)[:200]}') from None
    if isinstance(state, dict) and isinstance(state.get('state_dict'), dict):
        state = state['state_dict']
    if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
        raise CheckpointError(f'backbone weights {path}: not a state dict of tensors')
    report = init_from(backbone.body, state)
    roots = {k.split('.')[0] for k in backbone.body.state_dict()}
    extra = [k for k in report.unexpected if k.split('.')[0] in roots]  # not the classifier
    if report.missing or report.shape_mismatched or extra:
        bad = report.missing[:2] + list(report.shape_mismatched)[:2] + extra[:2]
        raise CheckpointError(f'backbone weights {path} are not those of this torchvision '
                              f'network ({len(report.missing)} tensors missing, '
                              f'{len(report.shape_mismatched)} of another shape, '
                              f'{len(extra)} extra, e.g. {bad})')
    return report
