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
Message types for bags without ROS: a rosbags typestore that knows our messages.

The typestore starts from rosbags' built-in ROS 2 Jazzy types (std_msgs, sensor_msgs,
rosgraph_msgs, ...) and learns any other type, ``hydranet_perception_msgs`` included,
from its ``.msg`` file, searched where a ROS install or the venv puts them:

1. ``<prefix>/share/<package>/msg/<Name>.msg`` for every prefix on
   ``AMENT_PREFIX_PATH``, then ``sys.prefix`` (the venv);
2. the source checkout: ``<repo>/<package>/msg/<Name>.msg``.

Types are registered with their dependencies, and the RIHS01 hashes rosbags computes
equal the ones rosidl generates, so bags written here carry the same type hashes as
bags ``ros2 bag record`` writes.
"""

import functools
import os
import pathlib
import sys
from typing import Iterable, List, Optional, Sequence

from rosbags.typesys import get_types_from_msg, Stores
from rosbags.typesys import get_typestore as _rosbags_typestore
from rosbags.typesys.store import Typestore

OWN_PACKAGE = 'hydranet_perception_msgs'
_REPO = pathlib.Path(__file__).resolve().parents[3]


class UnknownTypeError(LookupError):
    """A message type with no definition in the typestore or on the search path."""


def msg_search_dirs(extra: Sequence[pathlib.Path] = ()) -> List[pathlib.Path]:
    """Return the folders that hold ``<package>/msg/*.msg``, in search order."""
    prefixes = [p for p in os.environ.get('AMENT_PREFIX_PATH', '').split(os.pathsep) if p]
    prefixes.append(sys.prefix)
    dirs = [pathlib.Path(p) for p in extra]
    for prefix in prefixes:
        share = pathlib.Path(prefix) / 'share'
        if share not in dirs:
            dirs.append(share)
    dirs.append(_REPO)
    return dirs


def find_msg_file(typename: str, search_dirs: Sequence[pathlib.Path] = ()) -> pathlib.Path:
    """
    Return the ``.msg`` file that defines ``typename`` (``pkg/msg/Name``).

    :raises UnknownTypeError: when no search folder has it.
    """
    parts = typename.split('/')
    if len(parts) != 3 or parts[1] != 'msg':
        raise UnknownTypeError(f'{typename!r} is not a message type name (pkg/msg/Name)')
    pkg, _, name = parts
    dirs = list(search_dirs) or msg_search_dirs()
    for root in dirs:
        path = root / pkg / 'msg' / f'{name}.msg'
        if path.is_file():
            return path
    raise UnknownTypeError(
        f'no definition of {typename}: looked for {pkg}/msg/{name}.msg under '
        f'{", ".join(map(str, dirs))}; source the workspace that builds {pkg} or add its '
        'install prefix to AMENT_PREFIX_PATH')


def _nested_names(desc) -> Iterable[str]:
    """Yield the message type names a rosbags field description refers to."""
    kind, arg = desc
    if kind.name == 'NAME':
        yield arg
    elif kind.name in ('ARRAY', 'SEQUENCE'):
        yield from _nested_names(arg[0])


def ensure_types(typestore: Typestore, typenames: Iterable[str],
                 search_dirs: Sequence[pathlib.Path] = ()) -> List[str]:
    """
    Register ``typenames`` and their dependencies that ``typestore`` lacks.

    :return: the names newly registered (empty when all were known).
    :raises UnknownTypeError: when a definition cannot be found.
    """
    pending = [t for t in typenames if t not in typestore.fielddefs]
    found = {}
    while pending:
        name = pending.pop()
        if name in found or name in typestore.fielddefs:
            continue
        text = find_msg_file(name, search_dirs).read_text()
        types = get_types_from_msg(text, name)
        found.update(types)
        for _, fields in types.values():
            for _, desc in fields:
                pending.extend(n for n in _nested_names(desc)
                               if n not in found and n not in typestore.fielddefs)
    if found:
        typestore.register(found)
    return sorted(found)


def own_message_types(search_dirs: Sequence[pathlib.Path] = ()) -> List[str]:
    """Return the ``hydranet_perception_msgs`` type names, from the first folder that has them."""
    for root in list(search_dirs) or msg_search_dirs():
        msg_dir = root / OWN_PACKAGE / 'msg'
        names = sorted(p.stem for p in msg_dir.glob('*.msg'))
        if names:
            return [f'{OWN_PACKAGE}/msg/{n}' for n in names]
    return []


def new_typestore(search_dirs: Optional[Sequence[pathlib.Path]] = None) -> Typestore:
    """Return a new Jazzy typestore with the ``hydranet_perception_msgs`` types registered."""
    store = _rosbags_typestore(Stores.ROS2_JAZZY)
    dirs = list(search_dirs or ())
    ensure_types(store, own_message_types(dirs), dirs)
    return store


@functools.lru_cache(maxsize=1)
def get_typestore() -> Typestore:
    """Return the shared typestore (Jazzy + ``hydranet_perception_msgs``), built once."""
    return new_typestore()


__all__ = ['UnknownTypeError', 'ensure_types', 'find_msg_file', 'get_typestore',
           'msg_search_dirs', 'new_typestore', 'own_message_types']
