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
Label space: classes, the thing/stuff split and per-class keypoint schemas.

One ``LabelSpace`` travels everywhere: in the model config, in checkpoints, in the
dataset JSON and in the node's ``~/model_info`` message.  Conventions:

* class ids are global indices ``0..C-1`` over *all* classes (stuff and things);
  the semantic head predicts these ids per pixel, and ``VOID`` (255) marks unlabeled
  pixels in semantic maps;
* the detection head predicts over thing classes only; ``thing_ids[j]`` maps the j-th
  detection channel back to a global class id;
* a class may carry a ``KeypointSchema``; the keypoint head has
  ``K = max_keypoints`` slots, and a class with a smaller schema uses the first slots.
"""

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

VOID = 255


@dataclass(frozen=True)
class KeypointSchema:
    """Keypoints of one class: names, skeleton edges and OKS sigmas."""

    name: str
    keypoints: Tuple[str, ...]
    skeleton: Tuple[Tuple[int, int], ...] = ()
    sigmas: Tuple[float, ...] = ()

    def __post_init__(self):
        if not self.keypoints:
            raise ValueError(f'keypoint schema {self.name!r} has no keypoints')
        if self.sigmas and len(self.sigmas) != len(self.keypoints):
            raise ValueError(
                f'keypoint schema {self.name!r}: {len(self.sigmas)} sigmas for '
                f'{len(self.keypoints)} keypoints')
        for a, b in self.skeleton:
            if not (0 <= a < len(self.keypoints) and 0 <= b < len(self.keypoints)):
                raise ValueError(
                    f'keypoint schema {self.name!r}: skeleton edge ({a}, {b}) out of range')

    @property
    def num_keypoints(self) -> int:
        return len(self.keypoints)

    def oks_sigmas(self) -> Tuple[float, ...]:
        """Return OKS sigmas, 0.05 for each keypoint when none are given."""
        return self.sigmas if self.sigmas else (0.05,) * len(self.keypoints)

    def flip_permutation(self) -> Tuple[int, ...]:
        """Index permutation that swaps ``left*``/``right*`` keypoints on a mirror flip."""
        index = {n: i for i, n in enumerate(self.keypoints)}
        perm = []
        for i, n in enumerate(self.keypoints):
            for a, b in (('left', 'right'), ('right', 'left')):
                if a in n and n.replace(a, b) in index:
                    perm.append(index[n.replace(a, b)])
                    break
            else:
                perm.append(i)
        return tuple(perm)

    def to_dict(self) -> Dict[str, Any]:
        return {'name': self.name, 'keypoints': list(self.keypoints),
                'skeleton': [list(e) for e in self.skeleton], 'sigmas': list(self.sigmas)}

    @staticmethod
    def from_dict(d: Dict[str, Any]) -> 'KeypointSchema':
        return KeypointSchema(
            name=str(d['name']), keypoints=tuple(str(k) for k in d['keypoints']),
            skeleton=tuple((int(a), int(b)) for a, b in d.get('skeleton', ())),
            sigmas=tuple(float(s) for s in d.get('sigmas', ())))


@dataclass(frozen=True)
class ClassInfo:
    """One class of the label space."""

    id: int  # noqa: A003 (COCO's name)
    name: str
    is_thing: bool
    keypoint_schema: Optional[KeypointSchema] = None

    def to_dict(self) -> Dict[str, Any]:
        return {'id': self.id, 'name': self.name, 'is_thing': self.is_thing,
                'keypoint_schema': (self.keypoint_schema.to_dict()
                                    if self.keypoint_schema else None)}

    @staticmethod
    def from_dict(d: Dict[str, Any]) -> 'ClassInfo':
        kp = d.get('keypoint_schema')
        return ClassInfo(id=int(d['id']), name=str(d['name']), is_thing=bool(d['is_thing']),
                         keypoint_schema=KeypointSchema.from_dict(kp) if kp else None)


@dataclass(frozen=True)
class LabelSpace:
    """All classes of a model or data set; see the module docstring for conventions."""

    classes: Tuple[ClassInfo, ...] = field(default_factory=tuple)

    def __post_init__(self):
        if not self.classes:
            raise ValueError('a label space needs at least one class')
        if len(self.classes) >= VOID:
            raise ValueError(f'at most {VOID - 1} classes are supported')
        for i, c in enumerate(self.classes):
            if c.id != i:
                raise ValueError(f'class {c.name!r} has id {c.id}, expected {i}: '
                                 'ids must be 0..C-1 in order')
            if c.keypoint_schema is not None and not c.is_thing:
                raise ValueError(f'stuff class {c.name!r} cannot have keypoints')
        if not self.thing_ids:
            raise ValueError('a label space needs at least one thing class')

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def names(self) -> List[str]:
        return [c.name for c in self.classes]

    @property
    def thing_ids(self) -> List[int]:
        return [c.id for c in self.classes if c.is_thing]

    @property
    def stuff_ids(self) -> List[int]:
        return [c.id for c in self.classes if not c.is_thing]

    @property
    def num_things(self) -> int:
        return len(self.thing_ids)

    @property
    def max_keypoints(self) -> int:
        """K, the number of keypoint slots: the largest schema (0 when none)."""
        return max((c.keypoint_schema.num_keypoints for c in self.classes
                    if c.keypoint_schema), default=0)

    def thing_index(self, class_id: int) -> int:
        """Return the detection channel of a global thing class id."""
        return self.thing_ids.index(class_id)

    def keypoint_mask(self) -> List[List[bool]]:
        """Per thing channel, which of the K slots are used by its schema."""
        k = self.max_keypoints
        out = []
        for cid in self.thing_ids:
            s = self.classes[cid].keypoint_schema
            n = s.num_keypoints if s else 0
            out.append([i < n for i in range(k)])
        return out

    def by_name(self, name: str) -> ClassInfo:
        for c in self.classes:
            if c.name == name:
                return c
        raise KeyError(f'no class named {name!r}; classes are {self.names}')

    def to_dict(self) -> Dict[str, Any]:
        return {'classes': [c.to_dict() for c in self.classes]}

    @staticmethod
    def from_dict(d: Dict[str, Any]) -> 'LabelSpace':
        return LabelSpace(classes=tuple(ClassInfo.from_dict(c) for c in d['classes']))

    @staticmethod
    def from_names(*, stuff: Sequence[str], things: Sequence[str],
                   schemas: Optional[Dict[str, KeypointSchema]] = None) -> 'LabelSpace':
        """Build a label space: stuff classes first, then things."""
        schemas = schemas or {}
        classes = [ClassInfo(i, n, False) for i, n in enumerate(stuff)]
        classes += [ClassInfo(len(stuff) + i, n, True, schemas.get(n))
                    for i, n in enumerate(things)]
        return LabelSpace(classes=tuple(classes))


COCO_PERSON = KeypointSchema(
    name='coco_person',
    keypoints=('nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear',
               'left_shoulder', 'right_shoulder', 'left_elbow', 'right_elbow',
               'left_wrist', 'right_wrist', 'left_hip', 'right_hip',
               'left_knee', 'right_knee', 'left_ankle', 'right_ankle'),
    skeleton=((15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12),
              (5, 6), (5, 7), (6, 8), (7, 9), (8, 10), (1, 2), (0, 1), (0, 2),
              (1, 3), (2, 4), (3, 5), (4, 6)),
    sigmas=(.026, .025, .025, .035, .035, .079, .079, .072, .072, .062, .062,
            .107, .107, .087, .087, .089, .089))

# OKS divides by sqrt(segment area), and a thin instrument has little area for its
# length: sqrt(area) is 0.28 of its tip-to-handles length, against 0.50 of a person's
# nose-to-ankles length (medians over generated scenes).  The sigmas are COCO-like
# values (tip 0.025 as an eye, joint 0.035 as an ear, handles 0.05) times 0.50 / 0.28,
# so that a keypoint gets the tolerance relative to the instrument's length that those
# values give relative to a person's height: the tip's OKS is 0.5 at 3% of the length.
INSTRUMENT = KeypointSchema(
    name='instrument',
    keypoints=('tip', 'joint', 'handle_left', 'handle_right'),
    skeleton=((0, 1), (1, 2), (1, 3)),
    sigmas=(0.045, 0.065, 0.09, 0.09))


def default_label_space() -> LabelSpace:
    """Label space of the synthetic data and of the shipped weights."""
    return LabelSpace.from_names(
        stuff=('floor', 'wall', 'table'),
        things=('person', 'instrument', 'box'),
        schemas={'person': COCO_PERSON, 'instrument': INSTRUMENT})
