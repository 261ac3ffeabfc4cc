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
Exponential moving average of a model's weights (as YOLOX and Ultralytics ship).

After update ``n`` (1, 2, ...) the decay is ``d_n = decay * (1 - exp(-n / tau))``: it
ramps from 0 (the average follows the model closely while the weights move fast) to
``decay``.  Every floating-point tensor of the state dict (parameters and batch-norm
running statistics) is averaged, ``ema = d_n * ema + (1 - d_n) * model``; integer
buffers (``num_batches_tracked``) are copied.  The averaged weights are what training
saves and evaluates.
"""

import copy
import math
from typing import Dict

import torch
from torch import nn


class ModelEMA:
    """
    An averaged copy of ``model`` (in eval mode, without gradients).

    :param model: the model being trained (left untouched).
    :param decay: the decay the ramp tends to, in [0, 1); 0.998 averages over about the
        last 500 updates.
    :param tau: the ramp's time constant, in updates.
    """

    def __init__(self, model: nn.Module, *, decay: float = 0.998, tau: float = 200.0):
        if not 0.0 <= decay < 1.0:
            raise ValueError(f'ema decay {decay} must be in [0, 1)')
        if tau <= 0:
            raise ValueError(f'ema tau {tau} must be > 0 updates')
        self.module = copy.deepcopy(model).eval()
        for p in self.module.parameters():
            p.requires_grad_(False)
        self.decay, self.tau, self.updates = float(decay), float(tau), 0

    def decay_at(self, updates: int) -> float:
        """Return the decay applied by update number ``updates`` (1-based)."""
        return self.decay * (1.0 - math.exp(-updates / self.tau))

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Move the average towards ``model``'s current weights."""
        self.updates += 1
        d = self.decay_at(self.updates)
        current = model.state_dict()
        for name, avg in self.module.state_dict().items():
            new = current[name].detach()
            if avg.dtype.is_floating_point:
                avg.mul_(d).add_(new.to(avg.dtype), alpha=1.0 - d)
            else:
                avg.copy_(new)

    def state_dict(self) -> Dict:
        """Return what ``load_state_dict`` needs to continue (weights and update count)."""
        return {'module': self.module.state_dict(), 'updates': self.updates}

    def load_state_dict(self, state: Dict) -> None:
        """Restore a ``state_dict``."""
        self.module.load_state_dict(state['module'])
        self.updates = int(state['updates'])
