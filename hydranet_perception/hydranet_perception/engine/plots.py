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

"""Plots for training logs and evaluation reports (matplotlib, headless)."""

import csv
import pathlib
from typing import Dict

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

_NOT_LOSSES = {'step', 'epoch', 'lr', 'seconds'}


def plot_losses(csv_path, png_path):
    """Plot every loss term of a train_log.csv against the step (log scale)."""
    with open(csv_path, newline='') as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return
    steps = [int(r['step']) for r in rows]
    fig, ax = plt.subplots(figsize=(9, 5))
    for key in rows[0]:
        if key in _NOT_LOSSES:
            continue
        vals = [float(r[key]) if r.get(key) not in (None, '') else float('nan') for r in rows]
        ax.plot(steps, vals, label=key, linewidth=2.0 if key == 'total' else 1.0)
    ax.set_xlabel('step')
    ax.set_ylabel('loss')
    ax.set_yscale('symlog', linthresh=0.01)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(png_path, dpi=100)
    plt.close(fig)


def plot_report(report: Dict, png_path):
    """Bar chart of the headline metrics of an evaluation report."""
    keys = [k for k in ('bbox_AP', 'segm_AP', 'keypoints_AP', 'PQ', 'SQ', 'RQ')
            if report.get(k) is not None]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.bar(keys, [report[k] for k in keys], color='#4c72b0')
    for i, k in enumerate(keys):
        ax.text(i, report[k] + 0.01, f'{report[k]:.3f}', ha='center', fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_title(pathlib.Path(str(report.get('checkpoint', ''))).name)
    fig.tight_layout()
    fig.savefig(png_path, dpi=100)
    plt.close(fig)
