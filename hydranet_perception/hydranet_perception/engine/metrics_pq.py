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
Panoptic quality (PQ = SQ x RQ) with the COCO panoptic matching rules, in numpy.

Per image (Kirillov et al. 2019; the rules of ``panopticapi.evaluation``):

* segment id 0 is void in both maps; a ground-truth id missing from its segment list
  is treated as void as well;
* a predicted and a ground-truth segment of the same class match when their IoU is
  > 0.5, where the union leaves out the predicted pixels that fall on void;
* unmatched non-crowd ground-truth segments are false negatives;
* an unmatched prediction is a false positive unless more than half of its area lies
  on void or on crowd segments of its class, in which case it is ignored.

Per class, ``PQ = sum(IoU of TPs) / (TP + FP/2 + FN/2)``, ``SQ = sum(IoU) / TP`` and
``RQ = TP / (TP + FP/2 + FN/2)``; the things / stuff / all figures average the classes
that have at least one TP, FP or FN.  Values are fractions in [0, 1].
"""

from collections import defaultdict
from typing import Any, Dict, Iterable, Mapping, Optional

import numpy as np

_OFFSET = 1 << 32  # combine two int32 ids into one int64


def _class_map(segments: Any) -> Dict[int, int]:
    """
    Normalise a segment list to {segment id: class id}.

    Accepts a mapping, (id, class_id) pairs, objects with ``id`` and ``class_id``
    (``prediction.Segment``) or dicts with ``id`` and ``category_id`` / ``class_id``.
    """
    if isinstance(segments, Mapping):
        return {int(k): int(v) for k, v in segments.items()}
    out = {}
    for s in segments:
        if isinstance(s, Mapping):
            out[int(s['id'])] = int(s['class_id'] if 'class_id' in s else s['category_id'])
        elif hasattr(s, 'class_id'):
            out[int(s.id)] = int(s.class_id)
        else:
            sid, cid = s
            out[int(sid)] = int(cid)
    return out


class PQAccumulator:
    """
    Accumulate TP / FP / FN and matched IoU per class over images.

    :param thing_ids: global class ids of thing classes; every other class is stuff.
    :param class_ids: if given, only these classes are reported (as panopticapi reports
        the categories of its JSON); by default every class seen.
    """

    def __init__(self, *, thing_ids: Iterable[int], class_ids: Optional[Iterable[int]] = None):
        self.thing_ids = {int(c) for c in thing_ids}
        self.class_ids = None if class_ids is None else sorted(int(c) for c in class_ids)
        self.tp: Dict[int, int] = defaultdict(int)
        self.fp: Dict[int, int] = defaultdict(int)
        self.fn: Dict[int, int] = defaultdict(int)
        self.iou: Dict[int, float] = defaultdict(float)

    @staticmethod
    def from_label_space(label_space) -> 'PQAccumulator':
        """Return an accumulator over all classes of a ``LabelSpace``."""
        return PQAccumulator(thing_ids=label_space.thing_ids,
                             class_ids=range(label_space.num_classes))

    def update(self, pred_panoptic: np.ndarray, pred_segments: Any, gt_panoptic: np.ndarray,
               gt_segments: Any, *, gt_crowd: Iterable[int] = ()) -> None:
        """
        Add one image.

        :param pred_panoptic: int[H, W] predicted segment ids, 0 = void.
        :param pred_segments: the class of each predicted id (see ``_class_map`` for the
            accepted forms); every non-zero id of ``pred_panoptic`` must be listed.
        :param gt_panoptic: int[H, W] ground-truth segment ids, 0 = void.
        :param gt_segments: the class of each ground-truth id; unlisted ids count as void.
        :param gt_crowd: ground-truth segment ids that are crowd regions.
        """
        pred_cls, gt_cls = _class_map(pred_segments), _class_map(gt_segments)
        crowd = {int(c) for c in gt_crowd}
        pred = np.asarray(pred_panoptic).astype(np.int64)
        gt = np.asarray(gt_panoptic).astype(np.int64)
        if pred.shape != gt.shape:
            raise ValueError(f'panoptic maps differ in shape: {pred.shape} vs {gt.shape}')
        gt_ids, gt_area = np.unique(gt, return_counts=True)
        unknown = [int(i) for i in gt_ids if i != 0 and int(i) not in gt_cls]
        if unknown:
            gt = np.where(np.isin(gt, unknown), 0, gt)
            gt_ids, gt_area = np.unique(gt, return_counts=True)
        pred_ids, pred_area = np.unique(pred, return_counts=True)
        missing = [int(i) for i in pred_ids if i != 0 and int(i) not in pred_cls]
        if missing:
            raise ValueError(f'predicted segment ids {missing} have no class')
        gt_area = dict(zip(gt_ids.tolist(), gt_area.tolist()))
        pred_area = dict(zip(pred_ids.tolist(), pred_area.tolist()))
        pairs, inter = np.unique(gt * _OFFSET + pred, return_counts=True)
        overlap = {(int(p // _OFFSET), int(p % _OFFSET)): int(c) for p, c in zip(pairs, inter)}

        matched_gt, matched_pred = set(), set()
        for (g, p), n in overlap.items():
            if g == 0 or p == 0 or g in crowd or gt_cls[g] != pred_cls[p]:
                continue
            union = pred_area[p] + gt_area[g] - n - overlap.get((0, p), 0)
            iou = n / union
            if iou > 0.5:
                c = gt_cls[g]
                self.tp[c] += 1
                self.iou[c] += iou
                matched_gt.add(g)
                matched_pred.add(p)
        for g, c in gt_cls.items():
            if g in gt_area and g not in matched_gt and g not in crowd:
                self.fn[c] += 1
        crowd_by_class = defaultdict(set)
        for g in crowd:
            if g in gt_cls:
                crowd_by_class[gt_cls[g]].add(g)
        for p, area in pred_area.items():
            if p == 0 or p in matched_pred:
                continue
            c = pred_cls[p]
            ignored = overlap.get((0, p), 0)
            ignored += sum(overlap.get((g, p), 0) for g in crowd_by_class.get(c, ()))
            if ignored / area > 0.5:
                continue
            self.fp[c] += 1

    def merge(self, other: 'PQAccumulator') -> None:
        """Add the counts of another accumulator (e.g. from another process)."""
        for mine, theirs in ((self.tp, other.tp), (self.fp, other.fp), (self.fn, other.fn),
                             (self.iou, other.iou)):
            for c, v in theirs.items():
                mine[c] += v

    def compute(self) -> Dict[str, Any]:
        """
        Return PQ, SQ, RQ (fractions) for ``all``, ``things``, ``stuff`` and per class.

        ``result['all']`` (likewise ``things``, ``stuff``) is ``{'pq', 'sq', 'rq', 'n'}``
        with ``n`` the number of classes averaged; ``result['per_class'][class_id]`` is
        ``{'pq', 'sq', 'rq', 'tp', 'fp', 'fn'}``.
        """
        seen = set(self.tp) | set(self.fp) | set(self.fn)
        classes = self.class_ids if self.class_ids is not None else sorted(seen)
        per_class = {}
        for c in classes:
            tp, fp, fn = self.tp.get(c, 0), self.fp.get(c, 0), self.fn.get(c, 0)
            if tp + fp + fn == 0:
                continue
            iou = self.iou.get(c, 0.0)
            denom = tp + 0.5 * fp + 0.5 * fn
            per_class[c] = {'pq': iou / denom, 'sq': iou / tp if tp else 0.0,
                            'rq': tp / denom, 'tp': tp, 'fp': fp, 'fn': fn}
        result: Dict[str, Any] = {'per_class': per_class}
        for name, select in (('all', lambda c: True), ('things', lambda c: c in self.thing_ids),
                             ('stuff', lambda c: c not in self.thing_ids)):
            rows = [v for c, v in per_class.items() if select(c)]
            n = len(rows)
            result[name] = {k: (sum(r[k] for r in rows) / n if n else 0.0)
                            for k in ('pq', 'sq', 'rq')}
            result[name]['n'] = n
        return result
