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

"""PQ / SQ / RQ on hand-made panoptic maps with hand-computed answers."""

from hydranet_perception.engine.metrics_pq import PQAccumulator
from hydranet_perception.prediction import Segment
from hydranet_perception.schema import default_label_space
import numpy as np
import pytest

FLOOR, WALL, PERSON, BOX = 0, 1, 3, 5
THINGS = (3, 4, 5)


def _acc():
    return PQAccumulator(thing_ids=THINGS)


def _row(*runs):
    """Build a 1 x N id map from (id, length) runs."""
    return np.concatenate([np.full(n, i, np.int32) for i, n in runs])[None]


def test_perfect_match():
    gt = np.zeros((6, 8), np.int32)
    gt[:3], gt[3:], gt[1:5, 2:5] = 1, 2, 7
    segs = {1: WALL, 2: FLOOR, 7: PERSON}
    acc = _acc()
    acc.update(gt, segs, gt, segs)
    r = acc.compute()
    for group, n in (('all', 3), ('things', 1), ('stuff', 2)):
        assert r[group] == {'pq': 1.0, 'sq': 1.0, 'rq': 1.0, 'n': n}
    assert r['per_class'][PERSON] == {'pq': 1.0, 'sq': 1.0, 'rq': 1.0, 'tp': 1, 'fp': 0,
                                      'fn': 0}


def test_one_false_positive():
    gt = np.ones((10, 10), np.int32)
    pred = gt.copy()
    pred[:2, :2] = 2
    acc = _acc()
    acc.update(pred, {1: FLOOR, 2: BOX}, gt, {1: FLOOR})
    r = acc.compute()
    assert r['per_class'][FLOOR]['pq'] == pytest.approx(0.96)  # IoU 96/100
    assert r['per_class'][BOX] == {'pq': 0.0, 'sq': 0.0, 'rq': 0.0, 'tp': 0, 'fp': 1, 'fn': 0}
    assert r['all']['pq'] == pytest.approx(0.48) and r['all']['rq'] == pytest.approx(0.5)
    assert r['things']['pq'] == 0.0 and r['stuff']['sq'] == pytest.approx(0.96)


def test_one_false_negative():
    gt = np.ones((10, 10), np.int32)
    gt[:2, :2] = 2
    pred = np.ones((10, 10), np.int32)
    acc = _acc()
    acc.update(pred, {1: FLOOR}, gt, {1: FLOOR, 2: BOX})
    r = acc.compute()
    assert r['per_class'][FLOOR]['sq'] == pytest.approx(0.96)
    assert r['per_class'][BOX]['fn'] == 1 and r['per_class'][BOX]['pq'] == 0.0
    assert r['all']['n'] == 2 and r['all']['pq'] == pytest.approx(0.48)


@pytest.mark.parametrize('pred_len,matched', [(49, False), (50, False), (51, True)])
def test_iou_threshold_is_strictly_above_half(pred_len, matched):
    # gt person: 100 px, floor: 200 px; the prediction's person covers the first pred_len
    gt = _row((5, 100), (6, 200))
    pred = _row((8, pred_len), (9, 300 - pred_len))
    acc = _acc()
    acc.update(pred, {8: PERSON, 9: FLOOR}, gt, {5: PERSON, 6: FLOOR})
    p = acc.compute()['per_class'][PERSON]
    iou = pred_len / 100
    if matched:
        assert (p['tp'], p['fp'], p['fn']) == (1, 0, 0) and p['sq'] == pytest.approx(iou)
        assert p['pq'] == pytest.approx(iou)
    else:
        assert (p['tp'], p['fp'], p['fn']) == (0, 1, 1) and p['pq'] == 0.0
    floor = acc.compute()['per_class'][FLOOR]  # 200 / (300 - pred_len) > 0.5 always
    assert floor['tp'] == 1 and floor['sq'] == pytest.approx(200 / (300 - pred_len))


def test_void_is_left_out_of_the_union_and_of_false_positives():
    # gt: 10 void pixels, then 20 floor.  pred: 6 px box on void only (ignored),
    # 8 px person half on void (not more than half: a false positive), 16 px floor.
    gt = _row((0, 10), (1, 20))
    pred = _row((7, 6), (8, 8), (9, 16))
    acc = _acc()
    acc.update(pred, {7: BOX, 8: PERSON, 9: FLOOR}, gt, {1: FLOOR})
    r = acc.compute()
    assert BOX not in r['per_class']
    assert r['per_class'][PERSON]['fp'] == 1
    assert r['per_class'][FLOOR]['sq'] == pytest.approx(16 / 20)
    assert r['all']['pq'] == pytest.approx(0.4) and r['all']['n'] == 2
    # a prediction spilling onto void keeps IoU 1: the void part is not in the union
    acc = _acc()
    acc.update(_row((3, 20)), {3: PERSON}, _row((0, 10), (4, 10)), {4: PERSON})
    assert acc.compute()['per_class'][PERSON]['sq'] == 1.0
    # unlisted ground-truth ids are void too
    acc = _acc()
    acc.update(_row((3, 20)), {3: PERSON}, _row((99, 10), (4, 10)), {4: PERSON})
    assert acc.compute()['per_class'][PERSON]['tp'] == 1


def test_crowd_regions():
    gt = _row((1, 20), (2, 10))  # floor, then a crowd of people
    pred = _row((5, 20), (6, 10))
    acc = _acc()
    acc.update(pred, {5: FLOOR, 6: PERSON}, gt, {1: FLOOR, 2: PERSON}, gt_crowd=[2])
    r = acc.compute()
    assert PERSON not in r['per_class'] and r['all']['pq'] == 1.0


def test_accumulates_over_images_and_merges():
    gt = _row((5, 100), (6, 200))
    good, bad = _row((8, 60), (9, 240)), _row((8, 40), (9, 260))
    a, b = _acc(), _acc()
    a.update(good, [Segment(8, PERSON, True, 60), Segment(9, FLOOR, False, 240)],
             gt, [{'id': 5, 'category_id': PERSON}, {'id': 6, 'category_id': FLOOR}])
    b.update(bad, [(8, PERSON), (9, FLOOR)], gt, {5: PERSON, 6: FLOOR})
    a.merge(b)
    p = a.compute()['per_class'][PERSON]
    assert (p['tp'], p['fp'], p['fn']) == (1, 1, 1)
    assert p['sq'] == pytest.approx(0.6) and p['rq'] == pytest.approx(0.5)
    assert p['pq'] == pytest.approx(0.3)


def test_label_space_and_errors():
    acc = PQAccumulator.from_label_space(default_label_space())
    assert acc.compute()['all'] == {'pq': 0.0, 'sq': 0.0, 'rq': 0.0, 'n': 0}
    with pytest.raises(ValueError):
        acc.update(_row((1, 4)), {}, _row((1, 4)), {1: FLOOR})
    with pytest.raises(ValueError):
        acc.update(_row((1, 4)), {1: FLOOR}, _row((1, 5)), {1: FLOOR})
