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
ONNX export of the raw forward pass (decoding, NMS and fusion stay outside the graph).

The exported graph has one input ``images`` (float32[B, 3, H, W], RGB in [0, 1]) and
one output per raw tensor of the requested tasks, named as in ``HydraNet.forward``
(``detect_cls``, ``detect_box``, ``detect_anchors``, ``masks_coef``, ``masks_protos``,
``keypoints``, ``semantic``, ``depth`` (log metres), ``identity`` (unit embeddings)).
With ``decode=True`` the graph also decodes: it emits ``detect_scores``
(probabilities) and ``detect_boxes`` (x1, y1, x2, y2 in pixels) instead of
``detect_cls``/``detect_box``, ``keypoints`` as x, y in pixels and a visibility
probability, and ``depth`` in metres; the default (``decode=False``) is the raw
forward, identical to PyTorch's, which is what ``postprocess`` and the ``Predictor``
backends consume.
The model config (JSON) is stored in the ONNX metadata under ``hydranet_config``
(``hydranet_perception.onnx_meta`` reads it without torch).
"""

import copy
import os
from typing import Dict, List, Optional, Sequence
import warnings

from hydranet_perception.coder.torch_ops import decode_boxes, decode_depth, \
    decode_keypoints
from hydranet_perception.model.hydranet import HydraNet
from hydranet_perception.onnx_meta import metadata_props, read_metadata
import torch
from torch import nn

__all__ = ['BATCHED_EXCEPT', 'export_onnx', 'ExportWrapper', 'read_metadata']

BATCHED_EXCEPT = ('detect_anchors',)  # outputs without a batch dimension


class ExportWrapper(nn.Module):
    """Run ``model(images, tasks)`` and return its outputs as a tuple in ``names`` order."""

    def __init__(self, model: HydraNet, *, tasks: Sequence[str], decode: bool = False):
        super().__init__()
        self.model = model
        self.tasks = tuple(model.resolve_tasks(tasks))
        self.decode = decode

    def outputs(self, images: torch.Tensor) -> Dict[str, torch.Tensor]:
        out = self.model(images, tasks=self.tasks)
        if self.decode and 'detect_cls' in out:
            anchors = out['detect_anchors']
            cls, box = out.pop('detect_cls'), out.pop('detect_box')
            out = {'detect_scores': cls.sigmoid(), 'detect_boxes': decode_boxes(box, anchors),
                   **out}
            if 'keypoints' in out:
                xy, vis = decode_keypoints(out['keypoints'], anchors)
                out['keypoints'] = torch.cat([xy, vis[..., None]], -1)
        if self.decode and 'depth' in out:
            out['depth'] = decode_depth(out['depth'])
        return out

    def forward(self, images: torch.Tensor):
        return tuple(self.outputs(images).values())


def export_onnx(model: HydraNet, path, *, tasks: Optional[Sequence[str]] = None,
                height: int = 480, width: int = 640, dynamic_batch: bool = True,
                decode: bool = False, opset: int = 17) -> List[str]:
    """
    Export the forward pass of ``tasks`` to ONNX.

    :param model: the HydraNet (a copy is exported on the CPU in float32, eval mode).
    :param path: the .onnx file to write.
    :param tasks: heads in the graph (all built heads when None).
    :param height: input height (multiple of 32), fixed in the graph.
    :param width: input width (multiple of 32), fixed in the graph.
    :param dynamic_batch: make the batch dimension symbolic (one graph runs any batch,
        as ``Predictor.predict_batch`` does); False fixes it at 1, and the backends then
        run a batch one image at a time.
    :param decode: decode boxes, scores and keypoints in the graph (see the module
        docstring); False exports the raw forward.
    :param opset: ONNX opset.
    :return: the output names, in graph order.
    """
    if height % 32 or width % 32:
        raise ValueError(f'export size {height}x{width}: height and width must be '
                         'multiples of 32')
    net = copy.deepcopy(getattr(model, 'module', model)).cpu().float().eval()
    wrapper = ExportWrapper(net, tasks=tasks if tasks is not None else net.tasks,
                            decode=decode).eval()
    dummy = torch.rand(1, 3, height, width)
    with torch.no_grad():
        names = list(wrapper.outputs(dummy).keys())
    axes = None
    if dynamic_batch:
        axes = {'images': {0: 'batch'}}
        axes.update({n: {0: 'batch'} for n in names if n not in BATCHED_EXCEPT})
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with torch.no_grad(), warnings.catch_warnings():
        # Anchor grids are built from the (fixed) feature-map sizes: constants by design.
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        # The TorchScript exporter is deliberate: it needs no onnxscript and handles
        # the dict-to-tuple wrapper in one trace.
        warnings.simplefilter('ignore', DeprecationWarning)
        torch.onnx.export(wrapper, (dummy,), str(path), input_names=['images'],
                          output_names=names, dynamic_axes=axes, opset_version=opset,
                          dynamo=False, do_constant_folding=True)
    _add_metadata(path, net, wrapper.tasks, decode)
    return names


def _add_metadata(path, net: HydraNet, tasks, decode: bool):
    import onnx
    m = onnx.load(str(path))
    config = net.config.to_dict() if getattr(net, 'config', None) is not None else None
    for k, v in metadata_props(config, tasks, decode).items():
        p = m.metadata_props.add()
        p.key, p.value = k, v
    onnx.save(m, str(path))
