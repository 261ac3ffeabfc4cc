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
Checkpoints: a plain dict that loads with ``torch.load(weights_only=True)``.

Layout (version 1)::

    {'format': 'hydranet_perception.checkpoint', 'version': 1,
     'config': ModelConfig.to_dict(), 'label_space': LabelSpace.to_dict(),
     'state_dict': {name: Tensor}, 'meta': {...plain values and tensors...}}

A checkpoint is never trusted pickle: ``load_checkpoint`` only uses the restricted
unpickler and refuses anything that is missing, truncated or corrupt, foreign, or
whose weights do not fit its own config, with a ``CheckpointError`` saying what is
wrong and what to do.
"""

import os
import pathlib
import pickle
from typing import Any, Dict, Optional, Tuple, Union
import zipfile

from hydranet_perception.model.build import build_model
from hydranet_perception.model.config import load_model_config, ModelConfig
from hydranet_perception.model.hydranet import HydraNet
import torch
from torch import nn

FORMAT = 'hydranet_perception.checkpoint'
VERSION = 1
PathLike = Union[str, os.PathLike]


class CheckpointError(ValueError):
    """A file that is not a usable hydranet_perception checkpoint."""


def _check_plain(value: Any, where: str = 'meta'):
    if value is None or isinstance(value, (bool, int, float, str, torch.Tensor, torch.Size)):
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, (str, int)):
                raise TypeError(f'{where}: key {k!r} is not a str or int')
            _check_plain(v, f'{where}[{k!r}]')
        return
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_plain(v, f'{where}[{i}]')
        return
    raise TypeError(f'{where} is a {type(value).__name__}: checkpoints hold only plain '
                    'values (dict, list, str, numbers, None) and tensors')


def save_checkpoint(path: PathLike, *, model: nn.Module, config: ModelConfig,
                    meta: Optional[Dict[str, Any]] = None) -> pathlib.Path:
    """
    Write a checkpoint atomically (a temporary file renamed into place).

    :param path: destination (.pt).
    :param model: the HydraNet (a DDP wrapper is unwrapped).
    :param config: its ModelConfig.
    :param meta: extra plain data (training state, metrics, ...).
    :return: the path written.
    :raises TypeError: if ``meta`` holds something ``weights_only`` loading would refuse.
    """
    model = getattr(model, 'module', model)
    config = load_model_config(config)
    meta = dict(meta or {})
    _check_plain(meta)
    ckpt = {'format': FORMAT, 'version': VERSION, 'config': config.to_dict(),
            'label_space': config.label_space.to_dict(),
            'state_dict': {k: v.detach().cpu() for k, v in model.state_dict().items()},
            'meta': meta}
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + '.tmp')
    torch.save(ckpt, tmp)
    os.replace(tmp, path)
    return path


def _load_raw(path: pathlib.Path, map_location) -> Any:
    if not path.exists():
        raise CheckpointError(f'checkpoint {path} does not exist: check the path, or train '
                              'one with hydranet-train (it writes final.pt)')
    if path.is_dir():
        raise CheckpointError(f'checkpoint {path} is a directory: pass the .pt file in it '
                              '(e.g. final.pt)')
    if path.suffix == '.onnx':
        raise CheckpointError(f'{path} is an ONNX model, not a checkpoint: load it with the '
                              'onnxruntime backend, or pass the .pt it was exported from')
    if not zipfile.is_zipfile(path):
        raise CheckpointError(
            f'checkpoint {path} is truncated or corrupt ({path.stat().st_size} bytes, not a '
            'complete PyTorch archive): copy it again or re-run the training that wrote it')
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        raise CheckpointError(
            f'{path} is not a hydranet_perception checkpoint: it holds pickled Python '
            f'objects that weights_only loading refuses ({str(e).splitlines()[0][:200]}). '
            'Use a checkpoint written by hydranet-train / save_checkpoint') from None
    except (RuntimeError, EOFError, OSError, zipfile.BadZipFile) as e:
        raise CheckpointError(f'checkpoint {path} is truncated or corrupt ({e}): copy it '
                              'again or re-run the training that wrote it') from None


def load_checkpoint(path: PathLike, *, map_location='cpu') -> Dict[str, Any]:
    """
    Load and validate a checkpoint.

    :param path: a file written by ``save_checkpoint``.
    :param map_location: where tensors go (``torch.load``'s argument).
    :return: the checkpoint dict (see the module docstring); ``config`` stays a dict, read it
        with ``load_model_config``.
    :raises CheckpointError: missing, truncated/corrupt, foreign, newer or mismatched file.
    """
    return _load_validated(path, map_location)[0]


def _load_validated(path: PathLike, map_location) -> Tuple[Dict[str, Any], ModelConfig, nn.Module]:
    """Load and validate a checkpoint; return it, its config and the model built to check it."""
    path = pathlib.Path(path)
    ckpt = _load_raw(path, map_location)
    if not isinstance(ckpt, dict) or ckpt.get('format') != FORMAT:
        hint = ''
        if isinstance(ckpt, dict) and ckpt and all(torch.is_tensor(v) for v in ckpt.values()):
            hint = ' (it looks like a bare state_dict)'
        raise CheckpointError(f'{path} is not a hydranet_perception checkpoint{hint}: it '
                              f'has no format={FORMAT!r} entry. Use a checkpoint written by '
                              'hydranet-train / save_checkpoint')
    version = ckpt.get('version')
    if not isinstance(version, int) or version > VERSION or version < 1:
        raise CheckpointError(f'{path} has checkpoint version {version!r}; this code reads '
                              f'version {VERSION}: upgrade hydranet_perception or re-export')
    for key in ('config', 'label_space', 'state_dict'):
        if not isinstance(ckpt.get(key), dict):
            raise CheckpointError(f'{path} has no {key!r} dict: the file is damaged or was '
                                  'not written by save_checkpoint; re-export it')
    try:
        cfg = load_model_config(ckpt['config'])
    except (ValueError, TypeError, KeyError) as e:
        raise CheckpointError(f'{path}: its config is invalid ({e}); re-export it with this '
                              'version of hydranet_perception') from None
    if cfg.label_space.to_dict() != ckpt['label_space']:
        raise CheckpointError(f'{path}: its label_space differs from the one in its config; '
                              'the file was edited: re-export it')
    model = build_model(cfg)
    _check_state(path, model, ckpt['state_dict'])
    ckpt.setdefault('meta', {})
    return ckpt, cfg, model


def _check_state(path, model: nn.Module, state: Dict[str, Any]):
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = [f'{k}: {tuple(state[k].shape)} in the file, {tuple(v.shape)} in the model'
             for k, v in expected.items()
             if k in state and (not torch.is_tensor(state[k]) or state[k].shape != v.shape)]
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append(f'{len(missing)} missing weights (e.g. {missing[:3]})')
        if unexpected:
            parts.append(f'{len(unexpected)} unexpected weights (e.g. {unexpected[:3]})')
        if wrong:
            parts.append(f'{len(wrong)} shape mismatches (e.g. {wrong[:2]})')
        raise CheckpointError(
            f'{path}: the weights do not match the model its config describes: '
            + '; '.join(parts) + '. Use the config the weights were trained with, or '
            're-export the checkpoint with save_checkpoint')


def load_model(path: PathLike, *, map_location='cpu'
               ) -> Tuple[HydraNet, ModelConfig, Dict[str, Any]]:
    """Load a checkpoint and return ``(model in eval mode, config, meta)``."""
    ckpt, cfg, model = _load_validated(path, map_location)  # one torch.load, one build
    model.load_state_dict(ckpt['state_dict'])
    return model.eval(), cfg, ckpt['meta']
