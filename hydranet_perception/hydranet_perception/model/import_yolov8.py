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
``hydranet-import``: an Ultralytics YOLOv8-seg model becomes a HydraNet checkpoint.

::

    hydranet-import yolov8n-seg.pt --out coco_n.pt [--size n] [--heads ...] [--stuff ...]

The backbone, neck, detection head and prototype-mask head are YOLOv8-seg's, copied
tensor for tensor (``model.yolov8_family.ultralytics_name_table``) into a
``family: yolov8`` HydraNet; the file's class names (COCO's 80 for the COCO-pretrained
models) become the things of the label space, ``person`` with the COCO keypoint schema.
Heads the file has no weights for (semantic, keypoints, by default both, so that the
node runs the checkpoint with its default tasks) are HydraNet heads on the same neck,
untrained: their last layer starts at zero, so the keypoints' visibility is
``sigmoid(KPT_VIS_OFF)`` ~ 5e-5 (no keypoint is drawn) and the semantic logits are all
equal (the semantic map reads class 0 everywhere: meaningless), until they are
trained (``hydranet-train``, ``freeze: [backbone, ...]``).  With no ``--stuff`` classes
the panoptic map holds the things only.  The weights keep
Ultralytics' licence (AGPL-3.0); the checkpoint's ``meta`` says where they came from.
"""

import argparse
import hashlib
import pathlib
import sys
from typing import Any, Dict, Optional, Sequence

from hydranet_perception.model.build import build_model
from hydranet_perception.model.checkpoint import save_checkpoint
from hydranet_perception.model.config import DEFAULT_HEADS, FREEZABLE, ModelConfig, TASKS
from hydranet_perception.model.yolov8_family import IMPORTED_PARTS, proto_channels, \
    SEG_HEAD_INDEX, ultralytics_name_table
from hydranet_perception.model.yolov8_sources import COCO80, identify, ImportRefused, \
    read_source
from hydranet_perception.schema import COCO_PERSON, LabelSpace
import torch

__all__ = ['convert', 'import_yolov8', 'ImportRefused', 'KPT_VIS_OFF', 'main']

KPT_VIS_OFF = -10.0  # visibility logit of the untrained keypoint head: sigmoid = 4.5e-5
DFL_KEY = f'model.{SEG_HEAD_INDEX}.dfl.conv.weight'
LICENCE = 'AGPL-3.0 (Ultralytics YOLOv8 weights; see https://ultralytics.com/license)'


def convert(src, *, size: Optional[str] = None, names: Optional[Sequence[str]] = None,
            stuff: Sequence[str] = (), heads: Sequence[str] = DEFAULT_HEADS,
            input_size: Sequence[int] = (480, 640), freeze: Sequence[str] = ()):
    """
    Read a YOLOv8-seg file and build the HydraNet that holds its weights.

    :param src: an Ultralytics .pt, a plain state dict .pt or a .safetensors file.
    :param size: 'n', 's' or 'm' to insist on (None: the file's).
    :param names: class names (default: the file's; COCO's 80 when it has none and 80
        classes).
    :param stuff: stuff class names put before the things (for a semantic head to learn).
    :param heads: heads of the HydraNet; must include detect and masks.
    :param input_size: (H, W) the checkpoint runs at by default.
    :param freeze: parts kept fixed when the checkpoint is trained further.
    :return: (model in eval mode, its ModelConfig, a report dict of what was mapped).
    :raises ImportRefused: a file or option that does not fit, saying what to do.
    """
    source = read_source(src)
    dims = identify(source.state, source.path)
    if size is not None and size != dims['size']:
        raise ImportRefused(f'{source.path} is a YOLOv8{dims["size"]}-seg model, not '
                            f'{size}: drop --size (it is detected) or pass the {size} file')
    t = dims['num_classes']
    names_from = 'option' if names else 'file' if source.names else 'COCO80'
    names = list(names) if names else source.names or (list(COCO80) if t == 80 else None)
    if names is None:
        raise ImportRefused(f'{source.path} has {t} classes and no class names: pass '
                            f'--names FILE ({t} names, one per line)')
    if len(names) != t:
        raise ImportRefused(f'{len(names)} class names for the {t} classes of '
                            f'{source.path}: give exactly {t}')
    heads = tuple(heads)
    if 'detect' not in heads or 'masks' not in heads:
        raise ImportRefused(f'heads {list(heads)}: the imported weights are the detect and '
                            'masks heads; keep both')
    schemas = {'person': COCO_PERSON} if 'person' in names else {}
    dropped = []
    if 'keypoints' in heads and not schemas:
        heads = tuple(h for h in heads if h != 'keypoints')
        dropped.append('keypoints (no class named person to carry the COCO keypoints)')
    try:
        label_space = LabelSpace.from_names(stuff=tuple(stuff), things=tuple(names),
                                            schemas=schemas)
        cfg = ModelConfig(family='yolov8', size=dims['size'], label_space=label_space,
                          heads=heads, num_prototypes=dims['num_prototypes'],
                          input_size=tuple(input_size), freeze=tuple(freeze))
    except ValueError as e:
        raise ImportRefused(str(e)) from None
    expected = proto_channels(cfg.width_multiple, cfg.max_channels)
    if dims['proto_channels'] != expected:
        raise ImportRefused(f'{source.path}: its mask prototypes have '
                            f'{dims["proto_channels"]} channels, YOLOv8{cfg.size}-seg has '
                            f'{expected}: a modified model is not supported')
    with torch.random.fork_rng():  # the new heads' start is seeded: one file, one result
        torch.manual_seed(0)
        model = build_model(cfg)
    report = _load(model, source, cfg)
    _silence(model, cfg)
    report.update(source=str(source.path), kind=source.kind, size=cfg.size,
                  num_classes=t, names_from=names_from, dropped_heads=dropped,
                  untrained_heads=[h for h in cfg.heads if h not in IMPORTED_PARTS])
    return model.eval(), cfg, report


def _load(model, source, cfg) -> Dict[str, Any]:
    table = ultralytics_name_table(model)
    state = model.state_dict()
    counter = 'num_batches_tracked'  # a BN's step count: unused in inference, may be absent
    unused = sorted(set(source.state) - set(table.values()) - {DFL_KEY})
    unused = [k for k in unused if not k.endswith(counter)]
    missing = sorted(v for v in table.values() if v not in source.state and
                     not v.endswith(counter))
    wrong = [f'{v}: {tuple(source.state[v].shape)} in the file, {tuple(state[k].shape)} in '
             f'YOLOv8{cfg.size}-seg' for k, v in table.items()
             if v in source.state and source.state[v].shape != state[k].shape]
    if missing or unused or wrong:
        parts = [f'{len(x)} {what} (e.g. {x[:2]})' for x, what in
                 ((missing, 'missing tensors'), (unused, 'tensors with no place'),
                  (wrong, 'shape mismatches')) if x]
        raise ImportRefused(f'{source.path} does not match YOLOv8{cfg.size}-seg: '
                            + '; '.join(parts) + '. Only the unmodified yolov8{n,s,m}-seg '
                            'architecture (any number of classes) imports')
    new = {k: source.state[v].to(state[k].dtype) for k, v in table.items()
           if v in source.state}
    model.load_state_dict(new, strict=False)
    counts = {p: sum(1 for k in table if k.split('.')[0 if p in ('backbone', 'neck') else 1]
                     == p) for p in IMPORTED_PARTS}
    return {'mapped': counts, 'mapped_total': len(table),
            'skipped': [f'{DFL_KEY} (the fixed DFL bins, checked)']}


def _silence(model, cfg):
    """Zero the last layer of the untrained keypoint and semantic heads (see module doc)."""
    with torch.no_grad():
        if 'keypoints' in model.heads:
            for branch in model.heads['keypoints'].branch:
                branch[-1].weight.zero_()
                branch[-1].bias.zero_()
                branch[-1].bias[2::3] = KPT_VIS_OFF
        if 'semantic' in model.heads:
            model.heads['semantic'].classify.weight.zero_()
            model.heads['semantic'].classify.bias.zero_()


def import_yolov8(src, out, **options) -> Dict[str, Any]:
    """
    Convert ``src`` (see ``convert``) and write the checkpoint ``out``.

    :return: the report (what was mapped, the label space, the output).
    :raises ImportRefused: see ``convert``.
    """
    model, cfg, report = convert(src, **options)
    h = hashlib.sha256(pathlib.Path(src).read_bytes()).hexdigest()
    meta = {'imported_from': {'file': pathlib.Path(src).name, 'sha256': h,
                              'kind': report['kind'], 'architecture': f'yolov8{cfg.size}-seg'},
            'trained_heads': list(IMPORTED_PARTS[2:]),
            'untrained_heads': report['untrained_heads'], 'licence': LICENCE}
    report['out'] = str(save_checkpoint(out, model=model, config=cfg, meta=meta))
    report['label_space'] = {'things': cfg.label_space.num_things,
                             'stuff': len(cfg.label_space.stuff_ids)}
    return report


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog='hydranet-import', description='Turn Ultralytics YOLOv8-seg weights into a '
        'HydraNet checkpoint (backbone, neck, boxes and instance masks; semantic and '
        'keypoint heads untrained). The weights keep their licence (AGPL-3.0).')
    p.add_argument('src', help='yolov8{n,s,m}-seg .pt (needs ultralytics), a plain state '
                   'dict .pt or a .safetensors file')
    p.add_argument('--out', required=True, help='the checkpoint to write (.pt)')
    p.add_argument('--size', choices=('n', 's', 'm'), help='insist on a size (detected)')
    p.add_argument('--names', help='a text file of class names, one per line (default: '
                   "the file's, else COCO's 80)")
    p.add_argument('--stuff', default='', help='comma-separated stuff classes for the '
                   'semantic head to learn (default none: panoptic = things only)')
    p.add_argument('--heads', default=','.join(DEFAULT_HEADS),
                   help=f'comma-separated heads among {",".join(TASKS)} (default %(default)s)')
    p.add_argument('--input-size', nargs=2, type=int, default=(480, 640), metavar=('H', 'W'),
                   help='default network input, multiples of 32 (default 480 640)')
    p.add_argument('--freeze', default='', help='comma-separated parts kept fixed in later '
                   f'training, among {",".join(FREEZABLE)} (e.g. backbone,neck,detect,masks)')
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run ``hydranet-import``; return 0, or 1 with the reason on stderr."""
    args = _parser().parse_args(argv)
    split = (lambda s: [x.strip() for x in s.split(',') if x.strip()])  # noqa: E731
    try:
        names = None
        if args.names:
            names = [n.strip() for n in pathlib.Path(args.names).read_text().splitlines()
                     if n.strip()]
        report = import_yolov8(args.src, args.out, size=args.size, names=names,
                               stuff=split(args.stuff), heads=split(args.heads),
                               input_size=args.input_size, freeze=split(args.freeze))
    except (ImportRefused, OSError) as e:
        print(f'hydranet-import: {e}', file=sys.stderr)
        return 1
    mapped = ', '.join(f'{p} {n}' for p, n in report['mapped'].items())
    print(f'read {report["source"]} ({report["kind"]}): YOLOv8{report["size"]}-seg, '
          f'{report["num_classes"]} classes (names: {report["names_from"]})')
    print(f'mapped {report["mapped_total"]} tensors 1:1 ({mapped}); skipped '
          + '; '.join(report['skipped']))
    print(f'untrained heads: {", ".join(report["untrained_heads"]) or "none"} (they know '
          'nothing until trained)')
    if report['dropped_heads']:
        print(f'not built: {"; ".join(report["dropped_heads"])}')
    print(f'wrote {report["out"]}: {report["label_space"]["things"]} thing and '
          f'{report["label_space"]["stuff"]} stuff classes; licence of the weights: {LICENCE}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
