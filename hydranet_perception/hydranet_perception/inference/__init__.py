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
Inference: weights loaded once, every runtime behind one interface, explicit stages.

* ``weights``: ``load_weights`` reads and validates a weights file once per load;
* ``backends``: the ``Backend`` protocol and ``BACKENDS`` (torch, onnxruntime,
  openvino, tensorrt); torch is imported only by the torch backend;
* ``predictor``: ``Predictor.from_weights(path, backend=..., device=...)``, called per
  image with the tasks of that call;
* ``stages``: what follows the forward pass (class filter, tracking, ...) and the data
  contract between the steps;
* ``pipeline``: the live-pipeline plumbing (latest-frame slot, counters);
* ``devices``: ``resolve_device``, without torch on a machine without a GPU.

The Predictor is imported from here; the other names from their modules.
"""

from hydranet_perception.inference.predictor import Predictor

__all__ = ['Predictor']
