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


"""The per-frame detection arrays a tracker takes, checked before any state changes."""

import numpy as np


def check_detections(boxes, scores, class_ids, masks, keypoints, embeddings):
    """Validate the per-frame arrays; return boxes, scores, class ids as float/int arrays."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    scores = np.asarray(scores, np.float64).reshape(-1)
    class_ids = np.asarray(class_ids).reshape(-1).astype(np.int64)
    n = len(boxes)
    lengths = {'scores': len(scores), 'class_ids': len(class_ids)}
    if masks is not None:
        if np.ndim(masks) != 3:
            raise ValueError(f'masks must be bool[N, H, W], got shape {np.shape(masks)}')
        lengths['masks'] = len(masks)
    if keypoints is not None:
        if np.ndim(keypoints) != 3 or np.shape(keypoints)[2] != 3:
            raise ValueError(f'keypoints must be float[N, K, 3], got shape '
                             f'{np.shape(keypoints)}')
        lengths['keypoints'] = len(keypoints)
    if embeddings is not None:
        if np.ndim(embeddings) != 2:
            raise ValueError(f'embeddings must be float[N, D], got shape '
                             f'{np.shape(embeddings)}')
        lengths['embeddings'] = len(embeddings)
    wrong = {k: v for k, v in lengths.items() if v != n}
    if wrong:
        raise ValueError(f'{n} boxes but {wrong}')
    return boxes, scores, class_ids


__all__ = ['check_detections']
