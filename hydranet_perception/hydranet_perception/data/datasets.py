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
The training sample format, the on-the-fly synthetic data set and batch collation.

A sample is ``(image, target)``:

* ``image``: float32[3, H, W], RGB in [0, 1];
* ``target['boxes']``: float32[N, 4], x1, y1, x2, y2 in pixels (pixel edges);
* ``target['labels']``: int64[N], global class ids (things only);
* ``target['masks']``: uint8[N, H, W], 0/1;
* ``target['keypoints']``: float32[N, K, 3], x, y (pixel centres at +0.5) and COCO
  visibility v in {0, 1, 2}; K = ``label_space.max_keypoints``, slots beyond the
  class's schema and keypoints with v = 0 are all zero;
* ``target['semantic']``: int64[H, W], global class ids, 255 = void;
* ``target['image_id']``: int;
* ``target['orig_size']``: int64[2], (H, W) of the image as stored, before transforms;
* ``target['track_ids']``: int64[N], synthetic scenes only: each instance's track id
  (>= 1, stable across the frames of one generated sequence);
* ``target['depth']``: float32[H, W], scenes generated with ``depth=True`` only: the true
  metric depth (z, metres; 0 = unknown).

Transforms (``hydranet_perception.data.transforms``) may add ``target['letterbox']``.
"""

from typing import Callable, Dict, List, Optional, Tuple

from hydranet_perception.data.synthetic import generate_scene, Scene
from hydranet_perception.schema import default_label_space, LabelSpace, VOID
import numpy as np
import torch
from torch.utils.data import Dataset

Sample = Tuple[torch.Tensor, Dict[str, torch.Tensor]]


class DatasetError(ValueError):
    """A data set that cannot be read as given; the message names the file (and line)."""


Transform = Callable[[torch.Tensor, Dict[str, torch.Tensor]], Sample]


def image_to_tensor(image: np.ndarray) -> torch.Tensor:
    """Convert uint8[H, W, 3] RGB to float32[3, H, W] in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))).float().div_(255)


def make_target(*, boxes: np.ndarray, labels: np.ndarray, masks: np.ndarray,
                keypoints: np.ndarray, semantic: np.ndarray, image_id: int) -> dict:
    """Build a target dict (see the module docstring) from numpy arrays."""
    h, w = semantic.shape
    return {
        'boxes': torch.as_tensor(np.asarray(boxes, np.float32).reshape(-1, 4)),
        'labels': torch.as_tensor(np.asarray(labels, np.int64).reshape(-1)),
        'masks': torch.as_tensor(np.asarray(masks, np.uint8).reshape(-1, h, w)),
        'keypoints': torch.as_tensor(np.asarray(keypoints, np.float32)),
        'semantic': torch.as_tensor(semantic.astype(np.int64)),
        'image_id': int(image_id),
        'orig_size': torch.tensor([h, w], dtype=torch.int64),
    }


def scene_to_sample(scene: Scene, *, image_id: int = 0,
                    label_space: Optional[LabelSpace] = None) -> Sample:
    """
    Convert a synthetic ``Scene`` to ``(image, target)``.

    Keypoints are packed into K = ``label_space.max_keypoints`` slots (the scene's
    label space by default).
    """
    ls = label_space or scene.label_space
    n, k = len(scene.instances), ls.max_keypoints
    kps = np.zeros((n, k, 3), np.float32)
    for i, inst in enumerate(scene.instances):
        kps[i, :len(inst.keypoints)] = inst.keypoints
    masks = (np.stack([inst.mask for inst in scene.instances]) if n
             else np.zeros((0, scene.height, scene.width), bool))
    target = make_target(
        boxes=np.array([inst.box for inst in scene.instances], np.float32),
        labels=np.array([inst.class_id for inst in scene.instances], np.int64),
        masks=masks.view(np.uint8), keypoints=kps, semantic=scene.semantic,
        image_id=image_id)
    target['track_ids'] = torch.as_tensor(
        np.array([inst.track_id for inst in scene.instances], np.int64).reshape(-1))
    if scene.depth_true is not None:
        target['depth'] = torch.as_tensor(np.asarray(scene.depth_true, np.float32))
    return image_to_tensor(scene.image), target


class SyntheticDataset(Dataset):
    """
    Synthetic scenes generated on the fly: item ``i`` is ``generate_scene((seed, i))``.

    Deterministic: an index always gives the same sample before transforms, in any
    worker process.  Returns ``(image, target)`` as described in the module docstring.
    """

    def __init__(self, length: int, *, seed: int = 0, height: int = 480, width: int = 640,
                 label_space: Optional[LabelSpace] = None,
                 transforms: Optional[Transform] = None, **options):
        self.length, self.seed = int(length), int(seed)
        self.height, self.width = height, width
        self.label_space = label_space or default_label_space()
        self.transforms = transforms
        self.options = options

    def __len__(self) -> int:
        return self.length

    def scene(self, index: int) -> Scene:
        """Return the ``Scene`` behind item ``index``."""
        if not 0 <= index < self.length:
            raise IndexError(index)
        return generate_scene((self.seed, index), height=self.height, width=self.width,
                              label_space=self.label_space, **self.options)

    def __getitem__(self, index: int) -> Sample:
        image, target = scene_to_sample(self.scene(index), image_id=index,
                                        label_space=self.label_space)
        if self.transforms is not None:
            image, target = self.transforms(image, target)
        return image, target


def collate(batch: List[Sample]) -> Tuple[torch.Tensor, List[dict]]:
    """
    Stack a list of samples into images float32[B, 3, H, W] and a list of targets.

    Images of different sizes are padded at the bottom/right to the largest size
    (pixels 0, masks 0, semantic void, depth 0), which leaves boxes and keypoints unchanged.
    """
    images = [b[0] for b in batch]
    targets = [dict(b[1]) for b in batch]
    hmax = max(int(im.shape[1]) for im in images)
    wmax = max(int(im.shape[2]) for im in images)
    if any(im.shape[1:] != (hmax, wmax) for im in images):
        for i, im in enumerate(images):
            ph, pw = hmax - im.shape[1], wmax - im.shape[2]
            if ph or pw:
                t = targets[i]
                images[i] = torch.nn.functional.pad(im, (0, pw, 0, ph))
                t['masks'] = torch.nn.functional.pad(t['masks'], (0, pw, 0, ph))
                t['semantic'] = torch.nn.functional.pad(t['semantic'], (0, pw, 0, ph),
                                                        value=VOID)
                if 'depth' in t:  # padding has no depth (0 = unknown)
                    t['depth'] = torch.nn.functional.pad(t['depth'], (0, pw, 0, ph))
    return torch.stack(images), targets
