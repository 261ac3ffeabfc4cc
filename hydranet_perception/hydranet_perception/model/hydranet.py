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


"""HydraNet: one shared encoder (backbone + neck) and several light task heads."""

from typing import Dict, Iterable, Optional, Tuple

from hydranet_perception.model.config import ModelConfig, NEEDS_DETECT, TASKS
import torch
from torch import nn


class HydraNet(nn.Module):
    """
    Backbone -> neck -> the requested heads, returning their raw outputs.

    :param backbone: maps Tensor[B, 3, H, W] to a list of feature maps.
    :param neck: maps that list to [P3, P4, P5] (strides 8, 16, 32).
    :param heads: task name -> head; each head maps [P3, P4, P5] to a dict of tensors
        whose keys start with the task name (see the head modules).
    :param config: the ModelConfig it was built from, if any (kept for export and
        checkpoints; ``build_model`` sets it).

    ``forward(images, tasks)`` runs only the heads named in ``tasks`` (all built heads
    when None); masks, keypoints and identity bring in detect, which they depend on.
    Images are float32[B, 3, H, W] RGB in [0, 1], H and W multiples of 32.
    """

    def __init__(self, backbone: nn.Module, neck: nn.Module, heads: Dict[str, nn.Module], *,
                 config: Optional[ModelConfig] = None):
        super().__init__()
        self.config = config
        self.backbone = backbone
        self.neck = neck
        self.heads = nn.ModuleDict(heads)

    @property
    def tasks(self) -> Tuple[str, ...]:
        """Return the heads this model has, in canonical order."""
        return tuple(t for t in TASKS if t in self.heads)

    def resolve_tasks(self, tasks: Optional[Iterable[str]] = None) -> Tuple[str, ...]:
        """
        Return the heads to run for ``tasks``, in canonical order.

        :raises ValueError: for an unknown task or one whose head was not built.
        """
        if tasks is None:
            return self.tasks
        wanted = set(tasks)
        unknown = sorted(wanted - set(TASKS))
        if unknown:
            raise ValueError(f'unknown tasks {unknown}; tasks are {list(TASKS)}')
        if wanted & set(NEEDS_DETECT):
            wanted.add('detect')
        missing = sorted(wanted - set(self.heads))
        if missing:
            raise ValueError(f'tasks {missing} were not built into this model; it has '
                             f'{list(self.tasks)}')
        return tuple(t for t in TASKS if t in wanted)

    def forward(self, images: torch.Tensor,
                tasks: Optional[Iterable[str]] = None) -> Dict[str, torch.Tensor]:
        feats = self.neck(self.backbone(images))
        out: Dict[str, torch.Tensor] = {}
        for task in self.resolve_tasks(tasks):
            out.update(self.heads[task](feats))
        return out
