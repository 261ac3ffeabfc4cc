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
The weights of one load: read and validated once, exported to ONNX only when needed.

``load_weights(path, runtime=...)`` returns a ``Weights``: the file, its SHA-256
(computed once), the ``ModelConfig`` and label space, and either the loaded network (for
the torch runtime) or the ONNX graph a runtime runs. Rules:

* an ``.onnx`` file is read as it is; its config comes from the graph's metadata;
* a ``.pt`` checkpoint for torch is loaded once (one ``torch.load``, one
  ``build_model``);
* a ``.pt`` checkpoint for an ONNX runtime uses a fresh export when one exists (beside
  the checkpoint as ``<stem>.<W>x<H>.onnx``, or in ``onnx_cache_dir()`` as
  ``<stem>-<sha256[:12]>.<W>x<H>.onnx`` when that folder is read-only), and then never
  imports torch; otherwise the checkpoint is loaded once and exported, atomically, so
  that nodes starting together never read half a file. An export is fresh while it is
  newer than the checkpoint.

``check_weights`` is the cheap look (existence, suffix, size, archive magic) that a
parameter callback can afford; the real validation happens in ``load_weights``.
"""

import contextlib
from dataclasses import dataclass, field
import hashlib
import mmap
import os
import pathlib
import re
from typing import Any, Dict, Optional, Sequence, Tuple
import zipfile

from hydranet_perception.model.config import load_model_config, ModelConfig
from hydranet_perception.onnx_meta import parse_metadata

SHIPPED_WEIGHTS = pathlib.Path(__file__).resolve().parents[1] / 'weights' / 'hydranet_n.pt'


class WeightsError(ValueError):
    """Weights that cannot be used; the message says why and what to do."""


def resolve_weights(weights: Optional[str]) -> pathlib.Path:
    """Return the weights file to load (empty or None = the shipped weights)."""
    return pathlib.Path(weights).expanduser() if weights else SHIPPED_WEIGHTS


def sha256_file(path) -> str:
    """Return the hex SHA-256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def check_weights(weights: Optional[str]) -> Optional[str]:
    """
    Return why ``weights`` cannot be used, or None when it looks loadable.

    Cheap (no torch, no parsing): existence, a regular file, not empty, and for a
    checkpoint the zip archive PyTorch writes.

    :param weights: a path, or empty for the shipped weights.
    :return: the reason with what to do, or None.
    """
    path = resolve_weights(weights)
    if not path.exists():
        if not weights:
            return (f'the shipped weights {path} are missing: reinstall the package or '
                    'run `make weights`, or set the weights parameter to a checkpoint')
        return f'weights file {path} not found: give the path of a .pt or .onnx file'
    if not path.is_file():
        return f'weights {path} is not a file'
    if path.stat().st_size == 0:
        return f'weights {path} is empty: copy it again, or export it again'
    if path.suffix != '.onnx' and not zipfile.is_zipfile(path):
        return (f'checkpoint {path} is truncated or corrupt ({path.stat().st_size} bytes, '
                'not a complete PyTorch archive): copy it again or re-run the training '
                'that wrote it')
    return None


def _varint(buf, pos: int) -> Tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise ValueError('truncated varint')
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def _fields(buf, start: int = 0, end: Optional[int] = None):
    """Yield (field number, wire type, value or (start, end) span) of a protobuf message."""
    pos, end = start, len(buf) if end is None else end
    while pos < end:
        tag, pos = _varint(buf, pos)
        number, wire = tag >> 3, tag & 7
        if number == 0:
            raise ValueError('field number 0')
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = None, pos + 8
        elif wire == 2:
            size, pos = _varint(buf, pos)
            value, pos = (pos, pos + size), pos + size
        elif wire == 5:
            value, pos = None, pos + 4
        else:
            raise ValueError(f'wire type {wire}')
        if pos > end:
            raise ValueError('truncated field')
        yield number, wire, value


def _graph_props(path) -> Dict[str, str]:
    """Return the metadata_props of an ONNX file (ModelProto field 14), skipping the rest."""
    with open(path, 'rb') as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        props = {}
        for number, wire, span in _fields(buf):
            if number != 14 or wire != 2:
                continue
            entry = {n: bytes(buf[s[0]:s[1]]).decode() for n, w, s in _fields(buf, *span)
                     if w == 2}
            props[entry.get(1, '')] = entry.get(2, '')
        return props


def read_graph_metadata(path) -> Dict[str, Any]:
    """
    Return the hydranet metadata of an exported graph, without torch or the onnx package.

    The metadata_props are read straight from the file's protobuf (the graph itself is
    skipped, not parsed) and interpreted by ``onnx_meta.parse_metadata``.

    :param path: an .onnx file written by ``export_onnx``.
    :return: ``{'config': dict or None, 'tasks': [...], 'decoded': bool}``.
    :raises WeightsError: a file that is not an ONNX graph.
    """
    try:
        return parse_metadata(_graph_props(path))
    except (ValueError, OSError, UnicodeDecodeError) as e:  # JSONDecodeError is one
        raise WeightsError(f'{path} is not a readable ONNX graph ({e}): export it again with '
                           'hydranet-export') from None


def onnx_cache_dir() -> pathlib.Path:
    """Where exports of read-only checkpoints go: ``$XDG_CACHE_HOME/hydranet_perception``."""
    base = os.environ.get('XDG_CACHE_HOME') or os.path.join('~', '.cache')
    return pathlib.Path(base).expanduser() / 'hydranet_perception'


def export_paths(path: pathlib.Path, sha256: str, size: Tuple[int, int]
                 ) -> Tuple[pathlib.Path, pathlib.Path]:
    """Return (beside, cached): where the export of ``path`` at ``size`` (H, W) goes."""
    h, w = size
    return (path.parent / f'{path.stem}.{w}x{h}.onnx',
            onnx_cache_dir() / f'{path.stem}-{sha256[:12]}.{w}x{h}.onnx')


def _fresh(out: pathlib.Path, source: pathlib.Path) -> bool:
    return out.is_file() and out.stat().st_mtime >= source.stat().st_mtime


def find_export(path: pathlib.Path, sha256: str, size: Optional[Sequence[int]] = None
                ) -> Optional[pathlib.Path]:
    """
    Return a fresh export of checkpoint ``path`` at ``size`` (H, W), or None.

    Without ``size``, an export at the size the checkpoint was trained for (read from
    the graph's metadata, so the checkpoint itself is not opened).
    """
    if size:
        beside, cached = export_paths(path, sha256, tuple(int(s) for s in size))
        return next((p for p in (beside, cached) if _fresh(p, path)), None)
    pattern = re.compile(r'\.(\d+)x(\d+)\.onnx$')
    for folder, prefix in ((path.parent, f'{path.stem}.'),
                           (onnx_cache_dir(), f'{path.stem}-{sha256[:12]}.')):
        if not folder.is_dir():
            continue
        for cand in sorted(folder.glob(prefix + '*x*.onnx')):
            m = pattern.search(cand.name)
            if not m or cand.name[:-len(m.group(0))] + '.' != prefix or \
                    not _fresh(cand, path):
                continue
            with contextlib.suppress(WeightsError, KeyError, TypeError):
                config = read_graph_metadata(cand)['config'] or {}
                if list(config.get('input_size', ())) == [int(m.group(2)), int(m.group(1))]:
                    return cand
    return None


def export_checkpoint(model, path: pathlib.Path, sha256: str, size: Tuple[int, int]
                      ) -> pathlib.Path:
    """
    Export ``model`` (loaded from ``path``) at ``size`` beside it, else in the cache.

    :return: the written .onnx file.
    :raises WeightsError: neither place is writable.
    """
    from hydranet_perception.model.export import export_onnx
    h, w = size
    for out in export_paths(path, sha256, size):
        tmp = out.with_name(f'.{out.name}.{os.getpid()}.tmp')
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            if not os.access(out.parent, os.W_OK):
                continue  # read-only: try the next place
            export_onnx(model.eval(), tmp, height=h, width=w)
            os.replace(tmp, out)
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            continue
        return out
    raise WeightsError(f'cannot write an ONNX export of {path} beside it or in '
                       f'{onnx_cache_dir()}: export it with hydranet-export and pass the '
                       '.onnx as weights')


@dataclass
class Weights:
    """
    One load of a weights file: what every backend is built from.

    :ivar path: the file given (.pt checkpoint or .onnx graph).
    :ivar sha256: its SHA-256 (hex), computed once.
    :ivar config: the model's ``ModelConfig``.
    :ivar model: the network, loaded (torch runtime only; else None).
    :ivar onnx_path: the graph an ONNX runtime runs (else None).
    :ivar meta: the checkpoint's meta, or the graph's hydranet metadata.
    """

    path: pathlib.Path
    sha256: str
    config: ModelConfig
    model: Any = None
    onnx_path: Optional[str] = None
    meta: Dict[str, Any] = field(default_factory=dict)

    @property
    def label_space(self):
        """Return the label space the weights were trained with."""
        return self.config.label_space


def _graph_weights(path: pathlib.Path, graph: pathlib.Path, sha256: str) -> Weights:
    meta = read_graph_metadata(graph)
    if meta['decoded']:
        raise WeightsError(f'{graph} was exported with decode=True; export the raw forward '
                           '(decode=False) for the Predictor')
    if not meta['config']:
        raise WeightsError(f'{graph} carries no hydranet config in its metadata: export it '
                           'with hydranet-export')
    return Weights(path, sha256, load_model_config(meta['config']), onnx_path=str(graph),
                   meta=meta)


def load_weights(weights: Optional[str] = None, *, runtime: str = 'torch',
                 input_size: Optional[Sequence[int]] = None) -> Weights:
    """
    Read and validate a weights file once, for ``runtime``.

    :param weights: a .pt checkpoint or an .onnx graph; empty for the shipped weights.
    :param runtime: 'torch' (needs a checkpoint), or an ONNX runtime.
    :param input_size: (H, W) of an export made for an ONNX runtime (default: the size
        the checkpoint was trained for).
    :return: the ``Weights``.
    :raises WeightsError: the file cannot be used (``CheckpointError`` is one).
    """
    reason = check_weights(weights)
    if reason:
        raise WeightsError(reason)
    path = resolve_weights(weights)
    sha256 = sha256_file(path)
    size = tuple(int(s) for s in input_size) if input_size and all(input_size) else None
    if path.suffix == '.onnx':
        if runtime == 'torch':
            raise WeightsError(f'{path} is an ONNX graph: run it with backend onnxruntime, '
                               'openvino or tensorrt, or pass the .pt it was exported from')
        return _graph_weights(path, path, sha256)
    if runtime != 'torch':
        found = find_export(path, sha256, size)
        if found is not None:  # no torch at all
            return _graph_weights(path, found, sha256)
    from hydranet_perception.model.checkpoint import load_model
    model, config, meta = load_model(path)
    if runtime == 'torch':
        return Weights(path, sha256, config, model=model, meta=meta)
    graph = export_checkpoint(model, path, sha256, size or tuple(config.input_size))
    return _graph_weights(path, graph, sha256)


def ensure_onnx(path: str, *, height: Optional[int] = None, width: Optional[int] = None
                ) -> str:
    """
    Return an ONNX file for ``path``: itself, or a fresh export of a .pt checkpoint.

    :param path: a checkpoint or a graph.
    :param height: export height (default: the checkpoint's training size).
    :param width: export width.
    :return: the .onnx path.
    """
    size = (height, width) if height and width else None
    return load_weights(path, runtime='onnxruntime', input_size=size).onnx_path
