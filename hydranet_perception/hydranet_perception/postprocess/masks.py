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


"""Instance mask assembly for kept detections: blend prototypes, resample, crop to box."""

import math
from typing import Tuple

from hydranet_perception.postprocess.letterbox import as_numpy, LetterboxInfo, \
    warp_to_original
import numpy as np

__all__ = ['assemble_masks', 'mask_logits', 'pixels_in_box']


def pixels_in_box(box, size: Tuple[int, int]) -> Tuple[int, int, int, int]:
    """
    Return (r0, r1, c0, c1): the pixels of an image of ``size`` whose centres lie in box.

    ``box`` is x1, y1, x2, y2 in pixel-edge coordinates; pixel (r, c) has its centre at
    (c + 0.5, r + 0.5) and is inside when x1 <= c + 0.5 <= x2 and y1 <= r + 0.5 <= y2.
    The range is empty (r1 <= r0 or c1 <= c0) when no centre is.
    """
    x1, y1, x2, y2 = (float(v) for v in box)
    h, w = size
    return (max(0, math.ceil(y1 - 0.5)), min(h, math.floor(y2 - 0.5) + 1),
            max(0, math.ceil(x1 - 0.5)), min(w, math.floor(x2 - 0.5) + 1))


def mask_logits(coef: np.ndarray, protos: np.ndarray) -> np.ndarray:
    """
    Return the mask logits ``coef @ protos`` of some detections.

    :param coef: float[N, P] coefficients.
    :param protos: float[P, h, w] prototypes.
    :return: float32[N, h, w].
    """
    coef = np.asarray(coef, np.float32)
    protos = np.asarray(protos, np.float32)
    p, h, w = protos.shape
    return (coef @ protos.reshape(p, h * w)).reshape(coef.shape[0], h, w)


def assemble_masks(coef: np.ndarray, protos: np.ndarray, boxes, info: LetterboxInfo, *,
                   mask_thresh: float = 0.5) -> np.ndarray:
    """
    Build full-size masks in original pixels for the kept detections only.

    The mask logits ``coef @ protos`` (prototype resolution, covering the network
    input) are resampled bilinearly at the centres of the original pixels inside each
    box (``pixels_in_box``) with OpenCV, and thresholded; pixels outside the box are
    False. Tensors are taken too (copied to the CPU: the inputs are small).

    :param coef: float[N, P] coefficients of the kept detections.
    :param protos: float[P, h, w] prototypes of the image.
    :param boxes: float[N, 4] x1, y1, x2, y2 in *original* pixels.
    :param info: the letterbox geometry.
    :param mask_thresh: probability threshold.
    :return: bool[N, H0, W0], (H0, W0) = ``info.orig_size``.
    """
    h0, w0 = info.orig_size
    n = coef.shape[0]
    out = np.zeros((n, h0, w0), bool)
    if n == 0:
        return out
    logits = mask_logits(as_numpy(coef), as_numpy(protos))
    if not 0 < mask_thresh < 1:  # every pixel (<= 0) or none (>= 1) passes
        thresh = -math.inf if mask_thresh <= 0 else math.inf
    else:
        thresh = math.log(mask_thresh / (1.0 - mask_thresh))
    boxes = as_numpy(boxes)
    for i in range(n):
        r0, r1, c0, c1 = pixels_in_box(boxes[i], (h0, w0))
        if r1 <= r0 or c1 <= c0:
            continue
        (m,) = warp_to_original(logits[i:i + 1], info, window=(r0, r1, c0, c1))
        out[i, r0:r1, c0:c1] = m > thresh
    return out
