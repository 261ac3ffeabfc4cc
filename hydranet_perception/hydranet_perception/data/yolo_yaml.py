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
Read an Ultralytics ``data.yaml``: root, splits, class names and the keypoint layout.

The format and its conventions are described in ``hydranet_perception.data.yolo_format``;
this module turns the file into a ``YoloSpec`` with its ``LabelSpace`` (all things).
"""

from dataclasses import dataclass
import os
from typing import Dict, List, Optional, Sequence, Tuple

from hydranet_perception.data.datasets import DatasetError
from hydranet_perception.schema import ClassInfo, KeypointSchema, LabelSpace
import yaml

__all__ = ['YoloSpec', 'load_data_yaml']


@dataclass
class YoloSpec:
    """A parsed ``data.yaml``: root folder, split entries, class names, keypoint layout."""

    path: str
    root: str
    splits: Dict[str, object]
    names: List[str]
    kpt_shape: Optional[Tuple[int, int]]
    label_space: LabelSpace


def _names(value, path) -> List[str]:
    if isinstance(value, list):
        return [str(n) for n in value]
    if isinstance(value, dict):
        keys = sorted(int(k) for k in value)
        if keys != list(range(len(keys))):
            raise DatasetError(f'{path}: names must be numbered 0..{len(keys) - 1}, got '
                               f'{keys}')
        return [str(value[k] if k in value else value[str(k)]) for k in keys]
    raise DatasetError(f'{path}: names must be a list or a mapping id -> name, got '
                       f'{type(value).__name__}')


def _per_class(value, names, path, key) -> Dict[int, list]:
    """Read a ``{class id or name: list}`` mapping (kpt_names, kpt_sigmas)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise DatasetError(f'{path}: {key} must map class ids to lists')
    out = {}
    for k, v in value.items():
        cid = names.index(k) if isinstance(k, str) and k in names else k
        try:
            cid = int(cid)
        except (TypeError, ValueError):
            raise DatasetError(f'{path}: {key} key {k!r} is not a class id or name') from None
        if not 0 <= cid < len(names) or not isinstance(v, list):
            raise DatasetError(f'{path}: {key}[{k!r}]: class id out of range 0..'
                               f'{len(names) - 1} or not a list')
        out[cid] = v
    return out


def _generic_keypoints(flip: Sequence[int]) -> Tuple[str, ...]:
    """Name K keypoints so that ``KeypointSchema.flip_permutation()`` equals ``flip``."""
    names = []
    for i, j in enumerate(flip):
        names.append(f'kp{i}' if i == j else
                     f'left_kp{min(i, j)}' if i < j else f'right_kp{min(i, j)}')
    return tuple(names)


def _label_space(data: dict, names: List[str], path: str) -> Tuple[LabelSpace, Optional[tuple]]:
    shape = data.get('kpt_shape')
    if shape is None:
        return LabelSpace(tuple(ClassInfo(i, n, True) for i, n in enumerate(names))), None
    if (not isinstance(shape, list) or len(shape) != 2 or int(shape[0]) < 1
            or int(shape[1]) not in (2, 3)):
        raise DatasetError(f'{path}: kpt_shape {shape!r}: use [K, 2] or [K, 3]')
    k, d = int(shape[0]), int(shape[1])
    flip = data.get('flip_idx')
    if flip is not None and sorted(int(i) for i in flip) != list(range(k)):
        raise DatasetError(f'{path}: flip_idx {flip} is not a permutation of 0..{k - 1}')
    flip = [int(i) for i in flip] if flip is not None else list(range(k))
    if any(flip[flip[i]] != i for i in range(k)):
        raise DatasetError(f'{path}: flip_idx {flip} must pair keypoints (flip_idx[flip_idx'
                           '[i]] == i): a mirror image swaps left and right')
    kpt_names = _per_class(data.get('kpt_names'), names, path, 'kpt_names')
    sigmas = _per_class(data.get('kpt_sigmas'), names, path, 'kpt_sigmas')
    skeletons = _per_class(data.get('kpt_skeleton'), names, path, 'kpt_skeleton')
    classes = []
    for i, n in enumerate(names):
        kn = tuple(str(x) for x in kpt_names[i]) if i in kpt_names else None
        if kn is None and not kpt_names:
            kn = _generic_keypoints(flip)
        schema = None
        if kn:
            if len(kn) > k:
                raise DatasetError(f'{path}: kpt_names of {n!r} has {len(kn)} names, '
                                   f'kpt_shape says {k} keypoints')
            try:
                schema = KeypointSchema(
                    name=n, keypoints=kn, sigmas=tuple(float(s) for s in sigmas.get(i, ())),
                    skeleton=tuple((int(a), int(b)) for a, b in skeletons.get(i, ())))
            except (TypeError, ValueError) as e:
                raise DatasetError(f'{path}: keypoints of {n!r}: {e}') from None
            perm = list(schema.flip_permutation())
            if data.get('flip_idx') is not None and perm != flip[:len(kn)]:
                raise DatasetError(
                    f'{path}: kpt_names of {n!r} mirror as {perm} (names with left/right '
                    f'swap), flip_idx says {flip[:len(kn)]}: name mirrored keypoints '
                    "'left...'/'right...' or fix flip_idx")
        classes.append(ClassInfo(i, n, True, schema))
    return LabelSpace(tuple(classes)), (k, d)


def load_data_yaml(path: str) -> YoloSpec:
    """
    Read and check a ``data.yaml`` (see the module docstring).

    :param path: the data.yaml file.
    :return: a ``YoloSpec`` with its label space.
    :raises DatasetError: a missing or malformed file, naming the key to fix.
    """
    if not os.path.isfile(path):
        raise DatasetError(f'data.yaml {path} does not exist')
    try:
        with open(path) as f:
            data = yaml.safe_load(f)
    except yaml.YAMLError as e:
        raise DatasetError(f'{path}: not valid YAML ({e})') from None
    if not isinstance(data, dict) or 'names' not in data:
        raise DatasetError(f'{path}: expected a mapping with names (and train/val)')
    names = _names(data['names'], path)
    if not names:
        raise DatasetError(f'{path}: names is empty')
    if len(set(names)) != len(names):
        raise DatasetError(f'{path}: names repeat: {names}')
    base = os.path.dirname(os.path.abspath(path))
    root = os.path.join(base, str(data.get('path') or '.'))
    splits = {s: data[s] for s in ('train', 'val', 'test') if data.get(s)}
    ls, kpt_shape = _label_space(data, names, path)
    return YoloSpec(path, os.path.normpath(root), splits, names, kpt_shape, ls)
