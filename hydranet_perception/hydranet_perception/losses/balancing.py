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
Task balancing: fixed per-task weights or learned uncertainty weighting.

``UncertaintyWeighting`` follows Kendall, Gal and Cipolla (CVPR 2018): each task t has a
learned ``s_t = log sigma_t**2`` and the total is ``sum_t exp(-s_t) w_t L_t + s_t`` (twice
the paper's Gaussian-likelihood form, so that at ``s_t = 0`` every weight is 1, exactly
as with ``FixedWeighting``).  Minimising over ``s_t`` drives ``exp(s_t)`` towards
``w_t L_t``, so a task with a large, noisy loss is down-weighted.  Optimise the
balancer's parameters with the model's (no weight decay).
"""

from typing import Dict, Iterable, Optional, Tuple

import torch
from torch import nn


class FixedWeighting(nn.Module):
    """``total = sum_t w_t L_t`` with ``w_t`` from ``weights`` (1 when not given)."""

    def __init__(self, *, tasks: Iterable[str], weights: Optional[Dict[str, float]] = None):
        super().__init__()
        self.tasks = tuple(tasks)
        self.weights = {t: float((weights or {}).get(t, 1.0)) for t in self.tasks}

    def forward(self, task_losses: Dict[str, torch.Tensor]
                ) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
        """Return the total and the weight applied to each task (Tensor[] each)."""
        total, used = None, {}
        for t, loss in task_losses.items():
            w = self.weights.get(t, 1.0)
            total = loss * w if total is None else total + loss * w
            used[t] = torch.tensor(w)
        if total is None:
            raise ValueError('no task losses to balance')
        return total, used

    def describe(self) -> Dict[str, float]:
        """Return the current weight of each task."""
        return dict(self.weights)


class UncertaintyWeighting(nn.Module):
    """
    Learned weighting ``exp(-s_t) w_t L_t + s_t`` (Kendall et al. 2018).

    :ivar log_vars: one scalar parameter ``s_t`` per task, initialised to 0.
    """

    def __init__(self, *, tasks: Iterable[str], weights: Optional[Dict[str, float]] = None):
        super().__init__()
        self.tasks = tuple(tasks)
        self.weights = {t: float((weights or {}).get(t, 1.0)) for t in self.tasks}
        self.log_vars = nn.ParameterDict({t: nn.Parameter(torch.zeros(())) for t in self.tasks})

    def forward(self, task_losses: Dict[str, torch.Tensor]
                ) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
        """Return the total and the effective weight ``exp(-s_t) w_t`` of each task."""
        total, used = None, {}
        for t, loss in task_losses.items():
            if t not in self.log_vars:
                raise ValueError(f'task {t!r} has no learned weight; the balancer was built '
                                 f'for {list(self.tasks)}')
            s = self.log_vars[t]
            term = torch.exp(-s) * self.weights[t] * loss + s
            total = term if total is None else total + term
            used[t] = (torch.exp(-s) * self.weights[t]).detach()
        if total is None:
            raise ValueError('no task losses to balance')
        return total, used

    def describe(self) -> Dict[str, float]:
        """Return the current effective weight of each task."""
        return {t: float(torch.exp(-self.log_vars[t].detach()) * self.weights[t])
                for t in self.tasks}


def build_balancer(kind: str = 'fixed', *, tasks: Iterable[str],
                   weights: Optional[Dict[str, float]] = None) -> nn.Module:
    """
    Return ``FixedWeighting`` ('fixed') or ``UncertaintyWeighting`` ('uncertainty').

    :param kind: 'fixed' or 'uncertainty'.
    :param tasks: the tasks trained.
    :param weights: optional fixed per-task weights (priors for 'uncertainty').
    """
    if kind == 'fixed':
        return FixedWeighting(tasks=tasks, weights=weights)
    if kind == 'uncertainty':
        return UncertaintyWeighting(tasks=tasks, weights=weights)
    raise ValueError(f'balancing {kind!r}: use fixed or uncertainty')
