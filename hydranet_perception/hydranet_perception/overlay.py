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

"""Draw a Prediction over its image (numpy/OpenCV), shared by the node and the CLIs."""

import colorsys

import cv2
import numpy as np

from hydranet_perception.prediction import Prediction
from hydranet_perception.schema import LabelSpace, VOID


def instance_color(index: int) -> tuple:
    """Return a distinct, saturated RGB colour for an instance (golden-ratio hues)."""
    h = (index * 0.618033988749895) % 1.0
    r, g, b = colorsys.hsv_to_rgb(h, 0.85, 1.0)
    return (int(r * 255), int(g * 255), int(b * 255))


def _stuff_palette(num_classes: int) -> np.ndarray:
    pal = np.zeros((256, 3), np.uint8)
    for c in range(num_classes):
        r, g, b = colorsys.hsv_to_rgb((c * 0.37 + 0.1) % 1.0, 0.35, 0.75)
        pal[c] = (int(r * 255), int(g * 255), int(b * 255))
    return pal


def draw_overlay(image_rgb: np.ndarray, pred: Prediction, label_space: LabelSpace, *,
                 mask_alpha: float = 0.5, stuff_alpha: float = 0.3,
                 keypoint_threshold: float = 0.3) -> np.ndarray:
    """Render instances (masks, boxes, labels, scores, skeletons) and tinted stuff.

    Args:
        image_rgb: uint8[H, W, 3] RGB, the image the prediction was made on.
        pred: the prediction (original-image pixels).
        label_space: names, thing/stuff split and skeletons.

    Returns:
        uint8[H, W, 3] RGB, a new array.

    """
    out = np.array(image_rgb, dtype=np.uint8, copy=True)
    if pred.semantic is not None:
        stuff = np.isin(pred.semantic, label_space.stuff_ids) & (pred.semantic != VOID)
        if stuff.any():
            tint = _stuff_palette(label_space.num_classes)[pred.semantic]
            out[stuff] = (out[stuff] * (1 - stuff_alpha) + tint[stuff] * stuff_alpha
                          ).astype(np.uint8)
    order = np.argsort(pred.scores)  # draw the best last, on top
    for i in order:
        color = instance_color(int(pred.instance_ids[i]) if pred.instance_ids is not None
                               else int(i) + 1)
        if pred.masks is not None:
            m = pred.masks[i]
            out[m] = (out[m] * (1 - mask_alpha) + np.array(color) * mask_alpha
                      ).astype(np.uint8)
    for i in order:
        color = instance_color(int(pred.instance_ids[i]) if pred.instance_ids is not None
                               else int(i) + 1)
        x1, y1, x2, y2 = (int(round(float(v))) for v in pred.boxes[i])
        cv2.rectangle(out, (x1, y1), (max(x1, x2 - 1), max(y1, y2 - 1)), color, 2)
        cid = int(pred.class_ids[i])
        label = f'{label_space.names[cid]} {float(pred.scores[i]):.2f}'
        (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.45, 1)
        ty = max(y1, th + 4)
        cv2.rectangle(out, (x1, ty - th - 4), (x1 + tw + 2, ty), color, -1)
        cv2.putText(out, label, (x1 + 1, ty - 3), cv2.FONT_HERSHEY_SIMPLEX, 0.45,
                    (0, 0, 0), 1, cv2.LINE_AA)
        schema = label_space.classes[cid].keypoint_schema
        if pred.keypoints is None or schema is None:
            continue
        kps = pred.keypoints[i]
        ok = kps[:, 2] >= keypoint_threshold
        for a, b in schema.skeleton:
            if ok[a] and ok[b]:
                cv2.line(out, (int(kps[a, 0]), int(kps[a, 1])), (int(kps[b, 0]), int(kps[b, 1])),
                         color, 2, cv2.LINE_AA)
        for k in range(schema.num_keypoints):
            if ok[k]:
                cv2.circle(out, (int(kps[k, 0]), int(kps[k, 1])), 3, (255, 255, 255), -1,
                           cv2.LINE_AA)
    return out


def colorize_panoptic(panoptic: np.ndarray) -> np.ndarray:
    """Colour a panoptic id map (0 = void, black) for viewing; uint8[H, W, 3] RGB."""
    ids = np.unique(panoptic)
    lut = {int(i): instance_color(int(i)) for i in ids if i != 0}
    out = np.zeros(panoptic.shape + (3,), np.uint8)
    for i, c in lut.items():
        out[panoptic == i] = c
    return out
