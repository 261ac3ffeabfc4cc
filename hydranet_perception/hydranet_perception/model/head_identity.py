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
Identity head (JDE / FairMOT style): an appearance embedding per anchor (layers only).

Raw output ``identity`` (Tensor[B, A, D]): per anchor point, in the anchor order of
``detect_cls``, a unit-length (L2-normalised) embedding of the object the anchor
detects.  Postprocessing reads the row of each kept detection; two detections of the
same object (e.g. in consecutive frames) have a cosine similarity (dot product) near 1,
of different objects lower.  Trained with a supervised contrastive loss over track ids
(``losses/identity.py``).
"""

from typing import Dict, List, Sequence

from hydranet_perception.model.blocks import DWConv
from hydranet_perception.model.head_detect import flatten_levels
import torch
from torch import nn
import torch.nn.functional as F

__all__ = ['IdentityHead']


class IdentityHead(nn.Module):
    """
    Per level: one depthwise-separable conv and a 1 x 1 projection to D, then L2 norm.

    :param in_channels: channels of P3, P4, P5.
    :param embedding_dim: D.
    :param hidden: channels of the branch.
    """

    def __init__(self, *, in_channels: Sequence[int], embedding_dim: int, hidden: int):
        super().__init__()
        self.embedding_dim = embedding_dim
        self.branch = nn.ModuleList(
            nn.Sequential(DWConv(c, hidden), nn.Conv2d(hidden, embedding_dim, 1))
            for c in in_channels)

    def forward(self, feats: List[torch.Tensor]) -> Dict[str, torch.Tensor]:
        emb = flatten_levels([m(f) for m, f in zip(self.branch, feats)])
        return {'identity': F.normalize(emb, dim=-1, eps=1e-6)}
