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
Pairs of frames of one generated sequence: identity supervision from a single-image loop.

A single generated image shows every object once, so an appearance embedding trained on
it only learns that two anchors on one object look alike.  Item ``i`` here is two frames
of ``generate_sequence((seed, i), ...)``, ``gap`` time steps apart (objects moved, limbs
swung, the sensor noise changed): the same track id in both frames is the same object,
and both frames carry ``target['identity_group'] = i`` (see ``losses/identity.py``).
``pair_collate`` flattens a batch of pairs into one batch of 2 x B images.
"""

from typing import List, Optional, Tuple

from hydranet_perception.data.datasets import collate, Sample, scene_to_sample, Transform
from hydranet_perception.data.synthetic import generate_sequence
from hydranet_perception.schema import default_label_space, LabelSpace
import numpy as np
import torch
from torch.utils.data import Dataset

__all__ = ['pair_collate', 'SequencePairDataset']


class SequencePairDataset(Dataset):
    """
    Item ``i``: two frames of the sequence seeded ``(seed, i)``, as a list of 2 samples.

    :param length: number of pairs.
    :param seed: the split's seed.
    :param height: image height.
    :param width: image width.
    :param gap: (low, high) time steps between the two frames, drawn per item from the
        item's own seed (deterministic).
    :param label_space: the classes (default label space when None).
    :param transforms: applied to each frame independently (each its own zoom and flip).
    :param options: further ``generate_sequence`` options (e.g. ``depth=True``).
    """

    def __init__(self, length: int, *, seed: int = 0, height: int = 240, width: int = 320,
                 gap: Tuple[int, int] = (1, 8), label_space: Optional[LabelSpace] = None,
                 transforms: Optional[Transform] = None, **options):
        if not 1 <= gap[0] <= gap[1]:
            raise ValueError(f'gap {tuple(gap)}: need 1 <= low <= high')
        self.length, self.seed = int(length), int(seed)
        self.height, self.width, self.gap = height, width, tuple(gap)
        self.label_space = label_space or default_label_space()
        self.transforms, self.options = transforms, options

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> List[Sample]:
        if not 0 <= index < self.length:
            raise IndexError(index)
        rng = np.random.default_rng((self.seed, index, 7))
        gap = int(rng.integers(self.gap[0], self.gap[1] + 1))
        scenes = generate_sequence((self.seed, index), 2, height=self.height, width=self.width,
                                   label_space=self.label_space, step=float(gap),
                                   **self.options)
        out = []
        for f, scene in enumerate(scenes):
            image, target = scene_to_sample(scene, image_id=2 * index + f,
                                            label_space=self.label_space)
            if self.transforms is not None:
                image, target = self.transforms(image, target)
            target['identity_group'] = int(index)
            out.append((image, target))
        return out


def pair_collate(batch: List[List[Sample]]) -> Tuple[torch.Tensor, List[dict]]:
    """Flatten B pairs into images float32[2B, 3, H, W] and 2B targets (see ``collate``)."""
    return collate([s for pair in batch for s in pair])
