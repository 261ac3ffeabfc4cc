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
Initialise a model from another model's weights: transfer learning (``--init-from``).

``init_from(model, source_state)`` copies every tensor whose name and shape match and
leaves the rest as the new model was built (random, with the heads' prior biases): new
classes, new keypoint schemas, new or resized heads.  With both label spaces given, the
class-indexed layers (the detection classifier and the semantic classifier) whose row
count changed get the rows of the classes both label spaces name copied, by class name.

Unlike ``hydranet-train --resume`` (same config; model, optimiser, balancer and step
continue), this starts a new run: step 0, fresh optimiser, the new config's label space.
"""

from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

from hydranet_perception.model.head_detect import DetectHead
from hydranet_perception.model.head_semantic import SemanticHead
from hydranet_perception.schema import LabelSpace
import torch
from torch import nn

__all__ = ['InitReport', 'init_from', 'init_from_checkpoint']


@dataclass
class InitReport:
    """
    What ``init_from`` did, one list of state-dict names per outcome.

    :ivar loaded: copied whole (same name and shape).
    :ivar partial: class-indexed tensors whose rows were copied for the classes both
        label spaces name, ``{name: [class names copied]}``; the other rows are new.
    :ivar shape_mismatched: ``{name: (shape in the source, shape in the model)}``, left
        as built.
    :ivar missing: in the model, not in the source, left as built (e.g. a new head).
    :ivar unexpected: in the source, not in the model, ignored (e.g. a dropped head).
    """

    loaded: List[str] = field(default_factory=list)
    partial: Dict[str, List[str]] = field(default_factory=dict)
    shape_mismatched: Dict[str, Tuple[Tuple[int, ...], Tuple[int, ...]]] = field(
        default_factory=dict)
    missing: List[str] = field(default_factory=list)
    unexpected: List[str] = field(default_factory=list)

    def summary(self) -> Dict[str, int]:
        """Return the count of each outcome."""
        return {'loaded': len(self.loaded), 'partial': len(self.partial),
                'shape_mismatched': len(self.shape_mismatched),
                'missing': len(self.missing), 'unexpected': len(self.unexpected)}

    def text(self, *, limit: int = 12) -> str:
        """Return a human-readable report, at most ``limit`` names per outcome."""
        s = self.summary()
        lines = [f'init-from: loaded {s["loaded"]} tensors, partially {s["partial"]}, '
                 f're-initialised {s["shape_mismatched"] + s["missing"]} '
                 f'({s["shape_mismatched"]} shape-mismatched, {s["missing"]} missing), '
                 f'ignored {s["unexpected"]} unexpected']

        def block(title: str, rows: Sequence[str]):
            if rows:
                lines.append(f'  {title}:')
                lines.extend(f'    {r}' for r in rows[:limit])
                if len(rows) > limit:
                    lines.append(f'    ... and {len(rows) - limit} more')
        block('partial (class rows copied by name)',
              [f'{k}: {", ".join(v) or "none"}' for k, v in self.partial.items()])
        block('shape-mismatched (re-initialised)',
              [f'{k}: {a} in the source, {b} in the model'
               for k, (a, b) in self.shape_mismatched.items()])
        block('missing from the source (re-initialised)', _grouped(self.missing))
        block('unexpected (ignored)', _grouped(self.unexpected))
        return '\n'.join(lines)


def _grouped(names: Sequence[str]) -> List[str]:
    """Summarise names by module (``heads.keypoints.* (110 tensors)``) when many."""
    groups: Dict[str, int] = {}
    for n in names:
        key = '.'.join(n.split('.')[:2])
        groups[key] = groups.get(key, 0) + 1
    if len(names) <= 12:
        return list(names)
    return [f'{k}.* ({v} tensors)' for k, v in groups.items()]


def _class_layers(model: nn.Module, label_space: LabelSpace
                  ) -> Iterator[Tuple[str, List[str]]]:
    """Yield (parameter prefix, class name of each output row) of the class-indexed layers."""
    things = [label_space.classes[i].name for i in label_space.thing_ids]
    for name, module in model.named_modules():
        if isinstance(module, DetectHead):
            for i, seq in enumerate(module.cls):
                yield f'{name}.cls.{i}.{len(seq) - 1}', things
        elif isinstance(module, SemanticHead):
            yield f'{name}.classify', list(label_space.names)


@torch.no_grad()
def init_from(model: nn.Module, source_state: Mapping[str, torch.Tensor], *,
              source_label_space: Optional[LabelSpace] = None,
              target_label_space: Optional[LabelSpace] = None) -> InitReport:
    """
    Copy into ``model`` every tensor of ``source_state`` whose name and shape match.

    Tensors the source lacks or has in another shape keep the values ``model`` was built
    with.  When both label spaces are given, a class-indexed layer whose row count
    differs (``Tensor[C_src, ...]`` vs ``Tensor[C_dst, ...]``) gets row ``j`` from the
    source row of the class with the same name, where there is one.

    :param model: the new model (a DDP wrapper is unwrapped), changed in place.
    :param source_state: ``{name: Tensor}``, e.g. a checkpoint's ``state_dict``.
    :param source_label_space: the label space the source was trained with.
    :param target_label_space: the model's label space.
    :return: an ``InitReport``.
    """
    model = getattr(model, 'module', model)
    state = model.state_dict()
    report = InitReport()
    rows: Dict[str, Tuple[List[str], List[str]]] = {}
    if source_label_space is not None and target_label_space is not None:
        src_layers = dict(_class_layers(model, source_label_space))
        for prefix, dst_names in _class_layers(model, target_label_space):
            for suffix in ('weight', 'bias'):
                rows[f'{prefix}.{suffix}'] = (src_layers[prefix], dst_names)
    for name, dst in state.items():
        src = source_state.get(name)
        if src is None:
            report.missing.append(name)
            continue
        if not torch.is_tensor(src):
            raise TypeError(f'source tensor {name!r} is a {type(src).__name__}')
        if src.shape == dst.shape:
            dst.copy_(src.to(dst.dtype))
            report.loaded.append(name)
            continue
        if name in rows and src.shape[1:] == dst.shape[1:]:
            src_names, dst_names = rows[name]
            if src.shape[0] == len(src_names) and dst.shape[0] == len(dst_names):
                index = {n: i for i, n in enumerate(src_names)}
                copied = [n for n in dst_names if n in index]
                for j, n in enumerate(dst_names):
                    if n in index:
                        dst[j].copy_(src[index[n]].to(dst.dtype))
                report.partial[name] = copied
                continue
        report.shape_mismatched[name] = (tuple(src.shape), tuple(dst.shape))
    report.unexpected = sorted(set(source_state) - set(state))
    return report


def init_from_checkpoint(model: nn.Module, path, *,
                         target_label_space: Optional[LabelSpace] = None) -> InitReport:
    """
    Load a checkpoint (validated, as ``load_checkpoint``) and ``init_from`` its weights.

    :param model: the new model, changed in place.
    :param path: a checkpoint written by ``hydranet-train`` / ``save_checkpoint``.
    :param target_label_space: the model's label space (enables copying class rows by
        name); None copies only whole tensors.
    :return: an ``InitReport``.
    :raises CheckpointError: missing, truncated, foreign or inconsistent checkpoint.
    """
    from hydranet_perception.model.checkpoint import load_checkpoint
    ckpt = load_checkpoint(path)
    return init_from(model, ckpt['state_dict'],
                     source_label_space=LabelSpace.from_dict(ckpt['label_space']),
                     target_label_space=target_label_space)
