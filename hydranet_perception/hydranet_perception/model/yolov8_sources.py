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
Reading Ultralytics YOLOv8-seg weights for ``hydranet-import``: files in, plain tensors out.

Three kinds of file are read:

* an Ultralytics ``.pt`` (``yolov8n-seg.pt``): pickled Ultralytics objects, so reading
  it needs ``ultralytics`` importable (optional, never a dependency of this package:
  AGPL-3.0) and runs its unpickling as Ultralytics itself does: import only files from
  a source you trust;
* a plain state dict (a ``.pt`` holding a dict of tensors, read with
  ``torch.load(weights_only=True)``), keys as Ultralytics names them
  (``model.0.conv.weight`` ...), so a file converted on another machine imports here;
* a ``.safetensors`` file of the same tensors (read by the small reader below, no
  ``safetensors`` package needed); a ``names`` metadata entry (a JSON list) gives the
  class names.

``identify`` checks that the tensors are a YOLOv8-seg model of a supported size and
says what else they are when not (a detect-only, pose or classification model, another
YOLO version, a HydraNet checkpoint).
"""

from dataclasses import dataclass
import json
import pathlib
import pickle
import struct
from typing import Any, Dict, List, Optional
import zipfile

from hydranet_perception.model.yolov8_detect import REG_MAX
from hydranet_perception.model.yolov8_family import SEG_HEAD_INDEX
import numpy as np
import torch

__all__ = ['COCO80', 'identify', 'ImportRefused', 'read_safetensors', 'read_source',
           'Source', 'STEM_SIZES']

#: The 80 COCO detection classes, in Ultralytics' (and the COCO-pretrained models') order.
COCO80 = (
    'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat',
    'traffic light', 'fire hydrant', 'stop sign', 'parking meter', 'bench', 'bird', 'cat',
    'dog', 'horse', 'sheep', 'cow', 'elephant', 'bear', 'zebra', 'giraffe', 'backpack',
    'umbrella', 'handbag', 'tie', 'suitcase', 'frisbee', 'skis', 'snowboard', 'sports ball',
    'kite', 'baseball bat', 'baseball glove', 'skateboard', 'surfboard', 'tennis racket',
    'bottle', 'wine glass', 'cup', 'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple',
    'sandwich', 'orange', 'broccoli', 'carrot', 'hot dog', 'pizza', 'donut', 'cake', 'chair',
    'couch', 'potted plant', 'bed', 'dining table', 'toilet', 'tv', 'laptop', 'mouse',
    'remote', 'keyboard', 'cell phone', 'microwave', 'oven', 'toaster', 'sink', 'refrigerator',
    'book', 'clock', 'vase', 'scissors', 'teddy bear', 'hair drier', 'toothbrush')

#: Channels of YOLOv8's first conv -> its size (l and x are recognised, not supported).
STEM_SIZES = {16: 'n', 32: 's', 48: 'm', 64: 'l', 80: 'x'}

CONVERT_HINT = (
    'or convert it where ultralytics is installed: python -c "import torch; from '
    "ultralytics import YOLO; m = YOLO('yolov8n-seg.pt').model; "
    "torch.save({k: v.float() for k, v in m.state_dict().items()}, 'yolov8n-seg.state.pt')\" "
    'and import that file')

_SAFE_DTYPES = {'F64': np.float64, 'F32': np.float32, 'F16': np.float16, 'I64': np.int64,
                'I32': np.int32, 'I16': np.int16, 'I8': np.int8, 'U8': np.uint8,
                'BOOL': np.bool_}


class ImportRefused(ValueError):
    """A file that ``hydranet-import`` cannot turn into a checkpoint; says why and what to do."""


@dataclass
class Source:
    """
    The tensors of one file and what is known of them.

    :ivar path: the file.
    :ivar kind: 'ultralytics' (a pickled Ultralytics checkpoint), 'state_dict' or
        'safetensors'.
    :ivar state: {Ultralytics name: tensor}, floating tensors in float32.
    :ivar names: the class names the file carries (None when it carries none).
    """

    path: pathlib.Path
    kind: str
    state: Dict[str, torch.Tensor]
    names: Optional[List[str]] = None


def read_source(path) -> Source:
    """
    Read an Ultralytics .pt, a plain state dict (.pt) or a .safetensors file.

    :param path: the file.
    :return: its tensors, keys as Ultralytics names them (``model.<layer>.…``).
    :raises ImportRefused: missing, truncated or corrupt, or not a model of tensors.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise ImportRefused(f'{path} does not exist or is not a file: pass the downloaded '
                            'weights, e.g. yolov8n-seg.pt')
    if path.suffix == '.safetensors':
        state, meta = read_safetensors(path)
        try:
            names = json.loads(meta['names']) if 'names' in meta else None
        except json.JSONDecodeError:
            raise ImportRefused(f'{path}: its names metadata is not a JSON list') from None
        if names is not None and not isinstance(names, list):
            raise ImportRefused(f'{path}: its names metadata is not a JSON list')
        return Source(path, 'safetensors', _normalise(path, state), _clean_names(names))
    if not zipfile.is_zipfile(path):
        raise ImportRefused(f'{path} is truncated or corrupt ({path.stat().st_size} bytes, '
                            'not a complete PyTorch archive): download it again')
    try:
        obj = torch.load(path, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError:
        return _read_ultralytics(path)
    except Exception as e:  # noqa: B902 - torch's reader raises many kinds on bad bytes
        raise ImportRefused(f'{path} is truncated or corrupt ({type(e).__name__}: '
                            f'{str(e)[:200]}): download it again') from None
    if isinstance(obj, dict) and obj.get('format') == 'hydranet_perception.checkpoint':
        raise ImportRefused(f'{path} is already a hydranet_perception checkpoint: use it '
                            'as it is (weights:=...), there is nothing to import')
    if not (isinstance(obj, dict) and obj and all(torch.is_tensor(v) for v in obj.values())):
        raise ImportRefused(f'{path} holds a {type(obj).__name__}, not a state dict (a dict '
                            'of tensors) nor an Ultralytics checkpoint')
    return Source(path, 'state_dict', _normalise(path, obj), None)


def _pickles_ultralytics(path: pathlib.Path) -> bool:
    """Return whether the archive's pickle names Ultralytics classes (read, not run)."""
    try:
        with zipfile.ZipFile(path) as z:
            names = [n for n in z.namelist() if n.endswith('data.pkl')]
            return bool(names) and b'ultralytics.nn' in z.read(names[0])
    except (zipfile.BadZipFile, OSError, KeyError, RuntimeError):
        return False


def _read_ultralytics(path: pathlib.Path) -> Source:
    if not _pickles_ultralytics(path):
        raise ImportRefused(f'{path} holds pickled Python objects that are not an Ultralytics '
                            'model (refused, never unpickled): pass a yolov8{n,s,m}-seg .pt, a '
                            'state dict or a .safetensors file')
    try:
        import ultralytics.nn.tasks  # noqa: F401 (its classes are what the file pickles)
    except ImportError:
        raise ImportRefused(
            f'{path} holds pickled Ultralytics objects: reading it needs ultralytics '
            '(pip install ultralytics; AGPL-3.0, not a dependency of this package), '
            + CONVERT_HINT) from None
    try:  # full unpickling, as Ultralytics loads its own files: trust the source
        ckpt = torch.load(path, map_location='cpu', weights_only=False)
    except Exception as e:  # noqa: B902 - any failure of a foreign pickle is a refusal
        raise ImportRefused(f'{path}: ultralytics could not read it ({type(e).__name__}: '
                            f'{str(e)[:200]}); download it again') from None
    model = None
    if isinstance(ckpt, dict):
        model = ckpt.get('ema') or ckpt.get('model')
    elif isinstance(ckpt, torch.nn.Module):
        model = ckpt
    if not isinstance(model, torch.nn.Module) or not hasattr(model, 'model'):
        raise ImportRefused(f'{path} is a pickle but not an Ultralytics model checkpoint '
                            "(no 'model' entry holding one)")
    head = type(model.model[-1]).__name__
    if head != 'Segment':
        raise ImportRefused(f'{path} is an Ultralytics {type(model).__name__} whose head is '
                            f'{head}: hydranet-import takes YOLOv8 segmentation models '
                            '(yolov8n-seg.pt, yolov8s-seg.pt, yolov8m-seg.pt)')
    names = getattr(model, 'names', None)
    if isinstance(names, dict):
        names = [names[i] for i in sorted(names)]
    state = {k: (v.detach().float() if v.is_floating_point() else v.detach())
             for k, v in model.state_dict().items()}
    return Source(path, 'ultralytics', _normalise(path, state), _clean_names(names))


def _clean_names(names: Any) -> Optional[List[str]]:
    """Return real class names, None for none or Ultralytics' placeholders ('0', '1', ...)."""
    if not names:
        return None
    names = [str(n) for n in names]
    if all(n in (str(i), f'class{i}') for i, n in enumerate(names)):
        return None
    return names


def _normalise(path, state: Dict[str, Any]) -> Dict[str, torch.Tensor]:
    """Give every key the ``model.`` prefix of a whole Ultralytics model's state dict."""
    if any(k.startswith(('backbone.', 'heads.')) for k in state):
        raise ImportRefused(f'{path} holds HydraNet weights (backbone./heads. names), not '
                            "Ultralytics': load it as a hydranet_perception checkpoint")
    if state and all(k.split('.', 1)[0].isdigit() for k in state):
        state = {f'model.{k}': v for k, v in state.items()}
    return {k: (v.float() if v.is_floating_point() else v) for k, v in state.items()}


def read_safetensors(path) -> tuple:
    """
    Read a .safetensors file (header length, JSON header, raw little-endian data).

    :param path: the file.
    :return: ({name: tensor}, {metadata key: str}).
    :raises ImportRefused: a truncated or corrupt file, or a dtype it cannot hold.
    """
    path = pathlib.Path(path)
    data = path.read_bytes()
    bad = f'{path} is not a valid .safetensors file'
    if len(data) < 8:
        raise ImportRefused(f'{bad} ({len(data)} bytes): download or convert it again')
    (n,) = struct.unpack('<Q', data[:8])
    if n > len(data) - 8:
        raise ImportRefused(f'{bad}: its header claims {n} bytes, the file has '
                            f'{len(data) - 8}; it is truncated: convert it again')
    try:
        header = json.loads(data[8:8 + n].decode('utf-8'))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ImportRefused(f'{bad}: its header is not JSON ({e})') from None
    if not isinstance(header, dict):
        raise ImportRefused(f'{bad}: its header is a {type(header).__name__}, not a mapping')
    meta = header.pop('__metadata__', None) or {}
    if not isinstance(meta, dict):
        raise ImportRefused(f'{bad}: its __metadata__ is not a mapping')
    body = memoryview(data)[8 + n:]
    state = {}
    for name, info in header.items():
        try:
            b, e = (int(v) for v in info['data_offsets'])
            shape = [int(s) for s in info['shape']]
            dtype = str(info['dtype'])
        except (KeyError, TypeError, ValueError):
            raise ImportRefused(f'{bad}: entry {name!r} lacks dtype, shape or offsets') from None
        if dtype != 'BF16' and dtype not in _SAFE_DTYPES:
            raise ImportRefused(f'{bad}: entry {name!r} has dtype {dtype}')
        size = 2 if dtype == 'BF16' else np.dtype(_SAFE_DTYPES[dtype]).itemsize
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if not 0 <= b <= e <= len(body) or min(shape, default=0) < 0 or e - b != count * size:
            raise ImportRefused(f'{bad}: entry {name!r} does not fit the file (truncated?)')
        if dtype == 'BF16':
            arr = (np.frombuffer(body[b:e], '<u2').astype(np.uint32) << 16).view(np.float32)
        else:
            arr = np.frombuffer(body[b:e], np.dtype(_SAFE_DTYPES[dtype]).newbyteorder('<'))
        state[name] = torch.from_numpy(arr.reshape(shape).astype(arr.dtype.newbyteorder('=')))
    return state, {str(k): str(v) for k, v in meta.items()}


def identify(state: Dict[str, torch.Tensor], path='the file') -> Dict[str, Any]:
    """
    Check that the tensors are a YOLOv8-seg model and read its dimensions.

    :param state: Ultralytics-named tensors (``Source.state``).
    :param path: the file, for messages.
    :return: {'size': 'n'|'s'|'m', 'num_classes': T, 'num_prototypes': P,
        'proto_channels': npr}.
    :raises ImportRefused: naming what the tensors are when not a supported YOLOv8-seg.
    """
    h = f'model.{SEG_HEAD_INDEX}'
    stem = state.get('model.0.conv.weight')
    if stem is None or stem.ndim != 4:
        raise ImportRefused(f'{path} is not an Ultralytics YOLO model (no model.0.conv.weight '
                            f'among its {len(state)} tensors, e.g. {sorted(state)[:3]})')
    heads = sorted({int(k.split('.')[1]) for k in state
                    if k.split('.')[1].isdigit() and '.cv2.0.0.' in k})
    if any('one2one' in k for k in state):
        raise ImportRefused(f'{path} is an end-to-end YOLO (YOLOv10/YOLO26: one2one heads), '
                            'not YOLOv8-seg: import a yolov8{n,s,m}-seg model')
    if 'model.2.m.0.cv3.conv.weight' in state or heads != [SEG_HEAD_INDEX] \
            or 'model.2.m.0.cv1.conv.weight' not in state:
        what = 'a classification model' if any('.linear.' in k for k in state) else \
            f'another YOLO architecture (detection head at layer {heads or "none"})'
        raise ImportRefused(f'{path} is {what}, not YOLOv8 (C2f blocks, head at layer '
                            f'{SEG_HEAD_INDEX}): import a yolov8{{n,s,m}}-seg model')
    if f'{h}.proto.cv1.conv.weight' not in state:
        if f'{h}.cv4.0.2.weight' in state:
            n = int(state[f'{h}.cv4.0.2.weight'].shape[0])
            raise ImportRefused(f'{path} is a YOLOv8 pose or OBB model ({n} extra values per '
                                'anchor, no mask prototypes): import the -seg model of the '
                                'same size (keypoints come by training or distillation)')
        raise ImportRefused(f'{path} is a YOLOv8 detection model (no mask head): import the '
                            '-seg model of the same size (yolov8n-seg.pt)')
    size = STEM_SIZES.get(int(stem.shape[0]))
    if size in ('l', 'x'):
        raise ImportRefused(f'{path} is YOLOv8{size}-seg: sizes n, s and m are supported')
    if size is None:
        raise ImportRefused(f'{path}: a first conv of {stem.shape[0]} channels matches no '
                            'YOLOv8 size (16 n, 32 s, 48 m): a custom width is not supported')
    dfl = state.get(f'{h}.dfl.conv.weight')
    if dfl is None or dfl.numel() != REG_MAX or \
            not torch.equal(dfl.flatten().float(), torch.arange(REG_MAX, dtype=torch.float32)):
        raise ImportRefused(f'{path}: its DFL is not the fixed {REG_MAX}-bin integral of '
                            'YOLOv8 (reg_max changed?): not supported')
    try:
        return {'size': size, 'num_classes': int(state[f'{h}.cv3.0.2.weight'].shape[0]),
                'num_prototypes': int(state[f'{h}.cv4.0.2.weight'].shape[0]),
                'proto_channels': int(state[f'{h}.proto.cv1.conv.weight'].shape[0])}
    except (KeyError, IndexError) as e:
        raise ImportRefused(f'{path}: a YOLOv8-seg head without {e}: the file is damaged or '
                            'modified; download or convert it again') from None
