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
The coder: anchors and the decoding of raw head outputs into pixels.

Below the model, the losses and postprocessing, which all use it: ``numpy_ops`` (numpy
only, for postprocessing without torch) and ``torch_ops`` (the same in torch, for the
model, its ONNX export and the losses). Importing this package imports neither.

All coordinates are network-input pixels, continuous (pixel edges at integers). Anchor
cell (i, j) of the stride-s level is the point ``((j + 0.5) s, (i + 0.5) s)``; anchors
are ordered level by level, row-major inside a level, each row (cx, cy, stride). A box
is ``anchor -/+ distance * stride`` (left, top, right, bottom distances, in strides); a
keypoint is ``(cx + dx s, cy + dy s)`` with visibility ``sigmoid(raw_v)``.  A depth is
``exp(raw)`` metres (the depth head predicts the natural log), clipped to
``DEPTH_RANGE``.

The box coding follows from the width of ``detect_box`` (the tensor says it; no flag
can disagree with it):

* 4 values (the ``hydranet`` family): ``distance = softplus(raw)``;
* ``4 * R`` values, R > 1 (the ``yolov8`` family: Ultralytics' DFL, R = 16 bins): per
  side R logits (side-major: a side's bins are contiguous), and ``distance`` is the
  expected bin index under their softmax, in [0, R - 1].
"""

#: The pyramid strides of the detection head.
STRIDES = (8, 16, 32)

#: The range (metres) decoded depths are clipped to.
DEPTH_RANGE = (0.1, 100.0)

__all__ = ['DEPTH_RANGE', 'STRIDES']
