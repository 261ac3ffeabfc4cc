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


"""Instance mask assembly for kept detections: blend prototypes, upsample, crop to box."""

import math

import torch

from hydranet_perception.postprocess.letterbox import LetterboxInfo, map_to_original


def assemble_masks(coef: torch.Tensor, protos: torch.Tensor, boxes: torch.Tensor,
                   info: LetterboxInfo, *, mask_thresh: float = 0.5) -> torch.Tensor:
    """Build full-size masks in original pixels for the kept detections only.

    The mask logits ``coef @ protos`` (prototype resolution, covering the network
    input) are resampled bilinearly at the centres of the original pixels inside each
    box, passed through a sigmoid and thresholded; pixels outside the box are False.

    Args:
        coef: Tensor[N, P] coefficients of the kept detections.
        protos: Tensor[P, h, w] prototypes of the image.
        boxes: Tensor[N, 4] x1, y1, x2, y2 in *original* pixels.
        info: the letterbox geometry.
        mask_thresh: probability threshold.

    Returns:
        Tensor[N, H0, W0] bool, (H0, W0) = ``info.orig_size``.

    """
    h0, w0 = info.orig_size
    n = coef.shape[0]
    out = torch.zeros((n, h0, w0), dtype=torch.bool, device=protos.device)
    if n == 0:
        return out
    p, h, w = protos.shape
    logits = (coef.float() @ protos.float().reshape(p, -1)).reshape(n, h, w)
    thresh = math.log(mask_thresh / (1.0 - mask_thresh)) if 0 < mask_thresh < 1 else None
    for i in range(n):
        x1, y1, x2, y2 = (float(v) for v in boxes[i])
        c0, c1 = max(0, math.floor(x1)), min(w0, math.ceil(x2))
        r0, r1 = max(0, math.floor(y1)), min(h0, math.ceil(y2))
        if c1 <= c0 or r1 <= r0:
            continue
        m = map_to_original(logits[i:i + 1], info, window=(r0, r1, c0, c1))[0]
        inside = _centres_inside(r0, r1, c0, c1, (x1, y1, x2, y2), m.device)
        fg = (m > thresh) if thresh is not None else (m.sigmoid() > mask_thresh)
        out[i, r0:r1, c0:c1] = fg & inside
    return out


def _centres_inside(r0, r1, c0, c1, box, device) -> torch.Tensor:
    ys = torch.arange(r0, r1, device=device, dtype=torch.float32) + 0.5
    xs = torch.arange(c0, c1, device=device, dtype=torch.float32) + 0.5
    x1, y1, x2, y2 = box
    return (((ys >= y1) & (ys <= y2))[:, None]) & (((xs >= x1) & (xs <= x2))[None, :])
