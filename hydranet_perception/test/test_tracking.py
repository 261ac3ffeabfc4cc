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
The tracker stage without ROS: association cues on hand-made inputs, then scenarios.

Every scenario is a hand-made list of frames (boxes, masks, keypoints) with stamps in
seconds; nothing is timed, and every expected value follows from the geometry.
"""

import json
import math
import os
import pathlib
import subprocess
import sys

from hydranet_perception.data.synthetic_tracking import generate_tracking_sequence
from hydranet_perception.schema import default_label_space
from hydranet_perception.tracking import box_iou, cosine_distance, crop_masks, fuse, \
    KalmanBoxFilter, keypoint_sigmas, mask_iou, MaskCrop, oks, Tracker, TrackerConfig, \
    Trackers
import numpy as np
import pytest

LS = default_label_space()
PERSON, INSTRUMENT, BOX = (LS.by_name(n).id for n in ('person', 'instrument', 'box'))
SIGMAS = keypoint_sigmas(LS)
K = LS.max_keypoints
H, W = 240, 320
RATE = 30.0


# ------------------------------------------------------------------------------ costs
def test_box_iou_known_values():
    a = np.array([[0, 0, 2, 2], [0, 0, 1, 1], [5, 5, 5, 9]], float)
    b = np.array([[1, 1, 3, 3], [0, 0, 2, 2], [10, 10, 12, 12]], float)
    iou = box_iou(a, b)
    assert iou.shape == (3, 3)
    np.testing.assert_allclose(iou[0], [1 / 7, 1, 0])
    np.testing.assert_allclose(iou[1], [0, 1 / 4, 0])
    np.testing.assert_array_equal(iou[2], [0, 0, 0])  # a box with no area
    assert box_iou(np.zeros((0, 4)), b).shape == (0, 3)


def _dense_iou(a, b):
    """Return the reference IoU of full-size masks bool[N, H, W], bool[M, H, W]."""
    out = np.zeros((len(a), len(b)))
    for i in range(len(a)):
        for j in range(len(b)):
            union = (a[i] | b[j]).sum()
            out[i, j] = (a[i] & b[j]).sum() / union if union else np.nan
    return out


def test_mask_iou_of_two_squares_and_against_the_dense_reference():
    m = np.zeros((2, 16, 16), bool)
    m[0, 2:6, 2:6] = True  # 16 pixels
    m[1, 4:8, 4:8] = True  # 16 pixels, 4 shared
    boxes = np.array([[2, 2, 6, 6], [4, 4, 8, 8]], float)
    for crops in (crop_masks(m, boxes), crop_masks(m)):
        assert [c.area for c in crops] == [16, 16]
        np.testing.assert_allclose(mask_iou(crops, crops), [[1, 4 / 28], [4 / 28, 1]])
    rng = np.random.default_rng(0)
    a = np.zeros((5, 40, 50), bool)
    b = np.zeros((6, 40, 50), bool)
    for masks in (a, b):
        for i in range(len(masks)):
            x1, y1 = rng.integers(0, 30), rng.integers(0, 20)
            w, h = rng.integers(1, 20), rng.integers(1, 20)
            masks[i, y1:y1 + h, x1:x1 + w] = rng.uniform(size=(h, w)) < 0.6
    np.testing.assert_array_equal(mask_iou(crop_masks(a), crop_masks(b)), _dense_iou(a, b))
    # a crop moved by whole pixels equals the mask rolled by as much
    crops = [c.shifted(3, -2) for c in crop_masks(a)]
    rolled = np.zeros_like(a)
    rolled[:, :-2, 3:] = a[:, 2:, :-3]
    keep = ~a[:, :2, :].any((1, 2)) & ~a[:, :, -3:].any((1, 2))
    np.testing.assert_array_equal(mask_iou(crops, crop_masks(b))[keep],
                                  _dense_iou(rolled, b)[keep])


def test_mask_iou_candidates_missing_and_empty_masks():
    m = np.zeros((2, 8, 8), bool)
    m[0, :4, :4] = m[1, :4, :4] = True
    crops = crop_masks(m)
    only_diagonal = mask_iou(crops, crops, candidates=np.eye(2, dtype=bool))
    np.testing.assert_array_equal(only_diagonal, [[1, 0], [0, 1]])
    empty = MaskCrop(np.zeros((0, 0), bool), 0, 0, 0)
    out = mask_iou([crops[0], None, empty], crops + [empty])
    np.testing.assert_array_equal(out[0], [1, 1, 0])
    assert np.isnan(out[1]).all()  # no mask: the cue says nothing
    np.testing.assert_array_equal(out[2, :2], [0, 0])  # empty vs some pixels: IoU 0
    assert np.isnan(out[2, 2])  # both empty: nothing to compare


def test_mask_iou_with_boxes_ignores_pixels_outside_the_box():
    m = np.zeros((1, 10, 10), bool)
    m[0, 0:5, 0:5] = True
    (crop,) = crop_masks(m, np.array([[0, 0, 2.5, 10]]))  # rounded out to columns 0..2
    assert (crop.x0, crop.y0, crop.mask.shape, crop.area) == (0, 0, (10, 3), 15)
    (clipped,) = crop_masks(m, np.array([[-5, -5, 30, 30]]))
    assert clipped.mask.shape == (10, 10) and clipped.area == 25


def test_oks_known_value_class_rules_and_schema_slots():
    sig = SIGMAS[INSTRUMENT][0]  # the tip
    area = 400.0
    var = 2 * area * (2 * sig) ** 2
    d = math.sqrt(var * math.log(2))  # exp(-d^2 / var) = 1/2
    a = np.zeros((1, K, 3))
    a[0, 0] = (50, 50, 1)
    b = np.zeros((4, K, 3))
    b[0, 0] = (50 + d, 50, 0.9)  # the tip moved by d
    b[1, 0] = (50, 50, 0.2)  # below min_score: nothing visible in both
    b[2, 0] = (50, 50, 1)  # another class
    b[3, 0] = (50, 50, 1)
    b[3, 10] = (400, 400, 1)  # a slot beyond the instrument's 4 is ignored
    a[0, 10] = (0, 0, 1)
    out = oks(a, b, [INSTRUMENT], [INSTRUMENT, INSTRUMENT, PERSON, INSTRUMENT], SIGMAS,
              areas_a=[area], areas_b=[area] * 4, min_score=0.5)
    np.testing.assert_allclose(out[0, 0], 0.5)
    assert np.isnan(out[0, 1]) and np.isnan(out[0, 2])
    np.testing.assert_allclose(out[0, 3], 1.0)
    # classes without a schema give no cue
    assert np.isnan(oks(a, b[:1], [BOX], [BOX], SIGMAS, areas_a=[area], areas_b=[area])).all()
    # the area is the mean of the two objects' areas
    half = oks(a, b[:1], [INSTRUMENT], [INSTRUMENT], SIGMAS, areas_a=[area / 2],
               areas_b=[area * 1.5])
    np.testing.assert_allclose(half, [[0.5]])


def test_cosine_distance_and_fuse():
    assert cosine_distance(None, np.ones((2, 3))) is None
    e = np.array([[1.0, 0, 0], [0, 2.0, 0], [-3.0, 0, 0]])
    np.testing.assert_allclose(cosine_distance(e[:1], e), [[0, 1, 2]], atol=1e-12)
    s1 = np.array([[1.0, 0.0], [np.nan, 0.5]])
    s2 = np.array([[0.0, np.nan], [np.nan, 1.0]])
    out = fuse([(1.0, s1), (3.0, s2), (2.0, None), (0.0, np.zeros((2, 2)))], (2, 2))
    np.testing.assert_allclose(out[0], [0.25, 0.0])
    assert np.isnan(out[1, 0])
    np.testing.assert_allclose(out[1, 1], (0.5 + 3.0) / 4)


# ----------------------------------------------------------------------------- kalman
def test_kalman_predicts_in_time_and_learns_a_constant_velocity():
    kf = KalmanBoxFilter()
    mean, cov = kf.initiate(np.array([[100.0, 50.0, 20.0, 40.0]]))
    mean[0, 4:6] = (30.0, -60.0)  # px/s
    m1, c1 = kf.predict(mean, cov, 0.5)
    np.testing.assert_allclose(m1[0, :4], [115.0, 20.0, 20.0, 40.0])
    _, c2 = kf.predict(mean, cov, 1.0)
    assert np.trace(c2[0]) > np.trace(c1[0]) > np.trace(cov[0])
    np.testing.assert_allclose(kf.predict(mean, cov, 0.0)[0], mean)
    # measurements moving at 90 px/s every 1/30 s: the velocity converges to it
    mean, cov = kf.initiate(np.array([[0.0, 0.0, 30.0, 30.0]]))
    for f in range(1, 90):
        mean, cov = kf.predict(mean, cov, 1 / RATE)
        mean, cov = kf.update(mean, cov, np.array([[3.0 * f, 0.0, 30.0, 30.0]]))
    assert abs(mean[0, 4] - 90.0) < 1.0 and abs(mean[0, 0] - 3.0 * 89) < 1.0
    np.testing.assert_allclose(cov[0], cov[0].T)
    with pytest.raises(ValueError):
        kf.predict(mean, cov, -0.1)


# -------------------------------------------------------------------------- scenarios
class Obj:
    """One hand-made object: a class, a box of fixed size moving along a path."""

    def __init__(self, cls, size, shape=None, kpts=None, emb=None, score=0.9):
        self.cls, self.size, self.shape, self.kpts = cls, size, shape, kpts
        self.emb, self.score = emb, score

    def detection(self, x, y):
        """Return box, mask, keypoints of the object with its top-left corner at x, y."""
        w, h = self.size
        box = np.array([x, y, x + w, y + h], float)
        mask = np.zeros((H, W), bool)
        shape = self.shape if self.shape is not None else np.ones((h, w), bool)
        mask[y:y + h, x:x + w] = shape
        kp = np.zeros((K, 3))
        if self.kpts is not None:
            kp[:len(self.kpts)] = [(x + u, y + v, 1.0) for u, v in self.kpts]
        return box, mask, kp


def frame(objs, positions):
    """Return the per-frame arrays of ``objs`` at ``positions`` (None: not detected)."""
    seen = [(o, p) for o, p in zip(objs, positions) if p is not None]
    dets = [o.detection(*p) for o, p in seen]
    boxes = np.array([d[0] for d in dets], float).reshape(-1, 4)
    return {'boxes': boxes, 'scores': np.array([o.score for o, _ in seen], float),
            'class_ids': np.array([o.cls for o, _ in seen], np.int64),
            'masks': np.array([d[1] for d in dets], bool).reshape(-1, H, W),
            'keypoints': np.array([d[2] for d in dets], float).reshape(-1, K, 3),
            'embeddings': np.array([o.emb if o.emb is not None else np.zeros(3)
                                    for o, _ in seen], float).reshape(-1, 3)}


def run(tracker, objs, path, *, use=('masks', 'keypoints'), rate=RATE, t0=0.0):
    """Feed frames ``path[f]`` = positions per object; return ids[f][object] (None: absent)."""
    out = []
    for f, positions in enumerate(path):
        arrays = frame(objs, positions)
        for cue in ('masks', 'keypoints', 'embeddings'):
            if cue not in use:
                arrays[cue] = None
        ids = tracker.update(t0 + f / rate, **arrays)
        it = iter(ids.tolist())
        out.append([next(it) if p is not None else None for p in positions])
    return out


def _meet_and_turn_back(speed=4, meet=10, after=12):
    """
    Two same-size objects meet (identical boxes) and each turns back the way it came.

    From boxes alone this is the same as crossing: a constant-velocity prediction
    carries each track on, into the other object's box.
    """
    left = [20 + speed * min(f, 2 * meet - f) for f in range(meet + after + 1)]
    right = [20 + 2 * speed * meet - speed * min(f, 2 * meet - f)
             for f in range(meet + after + 1)]
    assert left[meet] == right[meet]
    return [[(x, 100), (y, 100)] for x, y in zip(left, right)]


def _assert_kept(ids, meet):
    a, b = ids[meet - 1]
    assert a and b and a != b
    for f in range(meet - 1, len(ids)):
        assert ids[f] == [a, b], f'frame {f}: {ids[f]}, expected {[a, b]}'


def _assert_swapped(ids, meet):
    a, b = ids[meet - 1]
    assert a and b and a != b
    assert ids[-1] == [b, a], ids[-1]


def test_meeting_objects_keep_their_ids_by_mask_where_boxes_swap():
    top, bottom = np.zeros((40, 40), bool), np.zeros((40, 40), bool)
    top[:20], bottom[20:] = True, True
    objs = [Obj(BOX, (40, 40), shape=top), Obj(BOX, (40, 40), shape=bottom)]
    path = _meet_and_turn_back()
    boxes_only = TrackerConfig(weight_mask=0.0, weight_oks=0.0, weight_appearance=0.0)
    _assert_swapped(run(Tracker(boxes_only), objs, path), meet=10)
    _assert_kept(run(Tracker(), objs, path), meet=10)


def test_meeting_objects_keep_their_ids_by_keypoints_where_boxes_swap():
    size = 100
    up = [(50, 5), (50, 50), (20, 95), (80, 95)]  # tip, joint, handles: pointing up
    down = [(50, 95), (50, 50), (80, 5), (20, 5)]  # the same instrument pointing down
    objs = [Obj(INSTRUMENT, (size, size), kpts=up), Obj(INSTRUMENT, (size, size), kpts=down)]
    path = _meet_and_turn_back()
    boxes_only = TrackerConfig(weight_mask=0.0, weight_oks=0.0, weight_appearance=0.0)
    _assert_swapped(run(Tracker(boxes_only, keypoint_sigmas=SIGMAS), objs, path,
                        use=('keypoints',)), meet=10)
    _assert_kept(run(Tracker(keypoint_sigmas=SIGMAS), objs, path, use=('keypoints',)),
                 meet=10)
    # without sigmas for the class there is no keypoint cue, so boxes decide
    _assert_swapped(run(Tracker(), objs, path, use=('keypoints',)), meet=10)


def test_meeting_objects_keep_their_ids_by_embedding():
    objs = [Obj(BOX, (40, 40), emb=[1.0, 0.2, 0.0]), Obj(BOX, (40, 40), emb=[0.1, 1.0, 0.3])]
    path = _meet_and_turn_back()
    _assert_swapped(run(Tracker(), objs, path, use=()), meet=10)
    _assert_kept(run(Tracker(), objs, path, use=('embeddings',)), meet=10)


def _stop_while_hidden(speed=6, seen=15, hidden=12):
    """
    One object moves right, stops while hidden, and is seen again where it stopped.

    The Kalman prediction carries the lost track on by ``speed * hidden`` pixels: past
    the IoU gates of a 40-pixel box, so only appearance can take the detection back.
    """
    path = [[(20 + speed * f, 80)] for f in range(seen)]
    path += [[None]] * hidden
    path += [[(20 + speed * (seen - 1), 80)]] * seen
    return path, seen + hidden


@pytest.mark.parametrize('emb, same_id', [([1.0, 0.2, 0.0], True), ([0.0, 0.3, 1.0], False)])
def test_a_lost_track_is_reidentified_by_appearance_beyond_the_iou_gate(emb, same_id):
    before = Obj(BOX, (40, 40), emb=[1.0, 0.2, 0.0])
    after = Obj(BOX, (40, 40), emb=emb)  # the same object, or another one
    path, back = _stop_while_hidden()
    tracker = Tracker()
    first = run(tracker, [before], path[:back], use=('embeddings',))
    again = run(tracker, [after], path[back:], use=('embeddings',), t0=back / RATE)
    ids = [i[0] for i in first + again]
    assert ids[1] > 0
    if same_id:
        assert set(ids[1:]) - {None} == {ids[1]}  # taken back at once, never tentative
    else:
        assert again[0] == [0] and again[1][0] > ids[1]
    # without embeddings (or with re-identification off) the IoU gate decides: a new id
    for config, use in ((TrackerConfig(), ()),
                        (TrackerConfig(reid_similarity=1.01), ('embeddings',))):
        tracker = Tracker(config)
        run(tracker, [before], path[:back], use=use)
        again = run(tracker, [after], path[back:], use=use, t0=back / RATE)
        assert again[0] == [0] and again[1][0] > ids[1]


def test_reidentification_needs_the_class_and_the_distance():
    path, back = _stop_while_hidden()
    for after, config in ((Obj(PERSON, (40, 40), emb=[1.0, 0.2, 0.0]), TrackerConfig()),
                          (Obj(BOX, (40, 40), emb=[1.0, 0.2, 0.0]),
                           TrackerConfig(reid_distance=0.5))):
        tracker = Tracker(config)
        run(tracker, [Obj(BOX, (40, 40), emb=[1.0, 0.2, 0.0])], path[:back],
            use=('embeddings',))
        again = run(tracker, [after], path[back:], use=('embeddings',), t0=back / RATE)
        assert again[0] == [0]


def test_crossing_at_constant_speed_keeps_ids_with_the_back_one_hidden():
    objs = [Obj(BOX, (40, 40)), Obj(BOX, (40, 40))]
    path = []
    for f in range(40):
        a, b = (20 + 4 * f, 100), (180 - 4 * f, 104)
        hidden = 18 <= f <= 22  # b passes behind a
        path.append([a, None if hidden else b])
    ids = run(Tracker(), objs, path)
    a, b = ids[5]
    assert a and b and a != b
    assert all(i[0] == a for i in ids[5:])
    assert all(i[1] == b for i in ids[5:] if i[1] is not None)


def _occlusion_path(*gaps_s, frames_in_gap=True, speed=2, seen=15):
    """
    One object moving right, seen for ``seen`` frames before and after each gap.

    Returns (stamps, positions per frame, the frame index after each gap).
    """
    hidden, f, back = set(), seen, []
    for gap_s in gaps_s:
        gap = int(round(gap_s * RATE))
        hidden |= set(range(f, f + gap))
        back.append(f + gap)
        f += gap + seen
    stamps, path, after = [], [], []
    for g in range(f):
        if g in back:
            after.append(len(path))
        if g in hidden and not frames_in_gap:
            continue
        stamps.append(g / RATE)
        path.append([None if g in hidden else (20 + speed * g, 80)])
    return stamps, path, after


def _run_stamped(tracker, objs, stamps, path):
    out = []
    for t, positions in zip(stamps, path):
        ids = tracker.update(t, **{k: v for k, v in frame(objs, positions).items()
                                   if k != 'embeddings'})
        it = iter(ids.tolist())
        out.append([next(it) if p is not None else None for p in positions])
    return out


@pytest.mark.parametrize('frames_in_gap', [True, False])
def test_occlusion_of_0_8_s_keeps_the_id_and_1_5_s_gives_a_new_one(frames_in_gap):
    objs = [Obj(BOX, (40, 40))]
    stamps, path, (back1, back2) = _occlusion_path(0.8, 1.5, frames_in_gap=frames_in_gap)
    ids = [i[0] for i in _run_stamped(Tracker(), objs, stamps, path)]
    first = ids[1]
    assert ids[0] == 0 and first > 0
    assert ids[back1] == first  # back after 0.8 s, with its id
    assert set(ids[1:back2]) - {None} == {first}
    # hidden for 1.5 s, past max_age_s (1 s): it comes back as a new, tentative track
    assert ids[back2] == 0
    assert ids[back2 + 1] > first and set(ids[back2 + 1:]) == {ids[back2 + 1]}


def test_with_embeddings_a_track_outlives_max_age_for_reidentification_alone():
    objs = [Obj(BOX, (40, 40), emb=[0.3, 1.0, 0.1])]
    stamps, path, (back1, back2) = _occlusion_path(1.5, 3.5, speed=1)
    tracker = Tracker()  # max_age_s 1, reid_max_age_s 3
    ids = []
    for t, positions in zip(stamps, path):
        out = tracker.update(t, **frame(objs, positions)).tolist()
        ids.append(out[0] if positions[0] is not None else None)
    first = ids[1]
    assert ids[back1] == first  # back after 1.5 s: re-identified by appearance
    assert ids[back2] == 0 and ids[back2 + 1] > first  # after 3.5 s: a new track
    # past max_age_s only re-identification sees the track: with it off, a new track
    tracker = Tracker(TrackerConfig(reid_similarity=1.01))
    ids = [tracker.update(t, **frame(objs, p)).tolist() for t, p in zip(stamps, path)]
    assert ids[back1] == [0]


def test_ids_are_never_reused_and_tentative_ones_are_zero():
    rng = np.random.default_rng(1)
    tracker = Tracker(TrackerConfig(max_age_s=0.2))
    objs = [Obj(BOX, (20, 20)) for _ in range(6)]
    owner, seen_max = {}, 0
    for f in range(300):
        # objects blink in and out; each appearance after > 0.2 s is a new life
        positions = [None if rng.uniform() < 0.3 else (20 + 45 * i, 40 + f % 50)
                     for i in range(len(objs))]
        ids = tracker.update(f / RATE, **{k: v for k, v in frame(objs, positions).items()
                                          if k != 'embeddings'})
        for i, tid in zip([i for i, p in enumerate(positions) if p is not None], ids.tolist()):
            if tid == 0:
                continue
            if tid not in owner:
                assert tid > seen_max  # a new id is larger than every id so far
                owner[tid] = i
                seen_max = tid
            assert owner[tid] == i  # an id only ever names one object
    assert len(owner) > len(objs)  # lives ended and new ids were drawn

    for min_hits in (1, 2, 3):
        tracker = Tracker(TrackerConfig(min_hits=min_hits))
        ids = [tracker.update(f / RATE, np.array([[10.0, 10, 30, 30]]), np.array([0.9]),
                              np.array([BOX]))[0] for f in range(4)]
        assert ids[:min_hits - 1] == [0] * (min_hits - 1)
        assert ids[min_hits - 1:] == [1] * (5 - min_hits)


def test_low_score_detections_continue_tracks_but_never_start_them():
    tracker = Tracker()
    box = np.array([[10.0, 10, 50, 50]])
    ids = [tracker.update(f / RATE, box, np.array([0.9]), np.array([BOX]))[0]
           for f in range(3)]
    ids += [tracker.update((3 + f) / RATE, box, np.array([0.3]), np.array([BOX]))[0]
            for f in range(3)]
    assert ids == [0, 1, 1, 1, 1, 1]
    other = Tracker()
    assert [other.update(f / RATE, box, np.array([0.3]), np.array([BOX]))[0]
            for f in range(5)] == [0] * 5
    # below low_score a detection is ignored, even where a track is
    assert tracker.update(1.0, box, np.array([0.05]), np.array([BOX]))[0] == 0


def test_a_track_only_takes_detections_of_its_class():
    tracker = Tracker()
    box = np.array([[10.0, 10, 50, 50]])
    for f in range(3):
        tracker.update(f / RATE, box, np.array([0.9]), np.array([BOX]))
    ids = [tracker.update((3 + f) / RATE, box, np.array([0.9]), np.array([PERSON]))[0]
           for f in range(3)]
    assert ids == [0, 2, 2]


def test_bad_detections_get_zero_and_bad_calls_raise():
    tracker = Tracker()
    boxes = np.array([[10.0, 10, 50, 50], [np.nan, 0, 1, 1], [5, 5, 5, 9]])
    for f in range(3):
        ids = tracker.update(f / RATE, boxes, np.array([0.9, 0.9, 0.9]), np.array([BOX] * 3))
    assert ids.tolist() == [1, 0, 0] and ids.dtype == np.int64
    empty = tracker.update(1.0, np.zeros((0, 4)), np.zeros(0), np.zeros(0, np.int64),
                           masks=np.zeros((0, H, W), bool), keypoints=np.zeros((0, K, 3)))
    assert empty.shape == (0,) and empty.dtype == np.int64
    with pytest.raises(ValueError):
        tracker.update(2.0, boxes, np.array([0.9]), np.array([BOX] * 3))
    with pytest.raises(ValueError):
        tracker.update(0.5, boxes, np.array([0.9] * 3), np.array([BOX] * 3))  # older
    with pytest.raises(ValueError):
        tracker.update(float('nan'), boxes, np.array([0.9] * 3), np.array([BOX] * 3))
    with pytest.raises(ValueError):
        TrackerConfig(low_score=0.6, high_score=0.5)


def test_an_older_stamp_resets_that_camera_and_ids_go_on():
    trackers = Trackers(keypoint_sigmas=SIGMAS)
    box, score, cls = np.array([[10.0, 10, 50, 50]]), np.array([0.9]), np.array([BOX])
    before = [trackers.update('cam', 100 + f / RATE, box, score, cls) for f in range(3)]
    assert [r for _, r in before] == [False] * 3
    first = before[-1][0][0]
    ids, reset = trackers.update('cam', 5.0, box, score, cls)  # a bag looped
    assert reset and ids[0] == 0 and trackers.resets['cam'] == 1
    ids, reset = trackers.update('cam', 5.0 + 1 / RATE, box, score, cls)
    assert not reset and ids[0] > first
    ids, reset = trackers.update('cam', 5.0 + 1 / RATE, box, score, cls)  # same stamp
    assert not reset
    with pytest.raises(ValueError):  # a bad frame with an old stamp resets nothing
        trackers.update('cam', 1.0, box, np.array([0.9, 0.8]), cls)
    assert trackers.resets['cam'] == 1 and len(trackers.tracker('cam')) == 1


def test_a_frame_without_masks_drops_the_tracks_old_masks():
    tracker = Tracker()
    objs = [Obj(BOX, (40, 40))]
    run(tracker, objs, [[(20 + 2 * f, 50)] for f in range(3)])
    assert tracker.masks[0] is not None and tracker.keypoints[0] is not None
    run(tracker, objs, [[(26, 50)]], use=(), t0=3 / RATE)
    assert tracker.masks[0] is None and tracker.keypoints[0] is None


def test_two_cameras_never_mix():
    trackers = Trackers()
    a = np.array([[10.0, 10, 50, 50]])
    b = np.array([[200.0, 100, 240, 140], [10, 10, 50, 50]])
    got = {'left': set(), 'right': set()}
    for f in range(10):
        ids, _ = trackers.update('left', f / RATE, a, np.array([0.9]), np.array([BOX]))
        got['left'] |= set(ids.tolist())
        ids, _ = trackers.update('right', f / RATE, b, np.array([0.9, 0.9]),
                                 np.array([BOX, BOX]))
        got['right'] |= set(ids.tolist())
    left, right = got['left'] - {0}, got['right'] - {0}
    assert len(left) == 1 and len(right) == 2 and not left & right
    # an old stamp on one camera resets only that one
    _, reset = trackers.update('right', 0.0, b, np.array([0.9, 0.9]), np.array([BOX, BOX]))
    assert reset and trackers.resets == {'left': 0, 'right': 1}
    ids, reset = trackers.update('left', 10 / RATE, a, np.array([0.9]), np.array([BOX]))
    assert not reset and set(ids.tolist()) == left
    assert sorted(trackers.cameras()) == ['left', 'right'] and len(trackers) == 2


# --------------------------------------------------------------------- the generator
def test_tracking_sequences_are_deterministic_with_crossings_and_gaps():
    kw = {'height': 120, 'width': 160, 'num_objects': (1, 2)}
    a = list(generate_tracking_sequence((5, 0), 90, **kw))
    b = list(generate_tracking_sequence((5, 0), 90, **kw))
    assert all(x.image.tobytes() == y.image.tobytes() and
               x.panoptic.tobytes() == y.panoptic.tobytes() for x, y in zip(a, b))
    gaps, same_class_pairs = 0, 0
    for seed in range(3):
        frames, cls = {}, {}
        for f, scene in enumerate(generate_tracking_sequence((5, seed), 90, **kw)):
            ids = [i.track_id for i in scene.instances]
            assert len(set(ids)) == len(ids)
            for inst in scene.instances:
                frames.setdefault(inst.track_id, []).append(f)
                assert cls.setdefault(inst.track_id, inst.class_id) == inst.class_id
        gaps += sum(int(np.diff(f).max(initial=1) > 1) for f in frames.values())
        same_class_pairs += len(cls) - len(set(cls.values()))
    assert gaps >= 1  # some thing disappears and comes back with its id
    assert same_class_pairs >= 1


def test_camera_motion_moves_the_whole_scene_by_the_camera_path():
    kw = {'height': 120, 'width': 160, 'num_objects': (1, 2)}
    still = list(generate_tracking_sequence((5, 1), 40, **kw))
    panned = list(generate_tracking_sequence((5, 1), 40, camera_motion=0.1, **kw))
    # Frame 0 is where the pan starts: the same bytes as the still camera's.
    assert panned[0].image.tobytes() == still[0].image.tobytes()
    moved = 0
    for a, b in zip(still[1:], panned[1:]):
        pa = {i.track_id: i for i in a.instances}
        shifts = []
        for inst in b.instances:
            if inst.track_id not in pa:
                continue
            ka, kb = pa[inst.track_id].keypoints, inst.keypoints
            seen = (ka[:, 2] > 0) & (kb[:, 2] > 0)
            shifts += list(kb[seen, :2] - ka[seen, :2])
        if not shifts:
            continue
        shifts = np.array(shifts)
        # Every thing moves by the same camera shift on top of its own motion.
        assert np.ptp(shifts, axis=0).max() < 1e-3
        dx, dy = np.round(shifts[0]).astype(int)
        moved += int(abs(dx) + abs(dy) > 0)
        # The stuff layout moved with it: where both frames show stuff away from the
        # mirrored borders, the panned class is the still class at the shifted pixel.
        h, w = a.semantic.shape
        ys, xs = np.mgrid[0:h, 0:w]
        src_y, src_x = ys - dy, xs - dx
        inside = (src_y >= 0) & (src_y < h) & (src_x >= 0) & (src_x < w)
        stuff_b = (b.panoptic > 0) & np.isin(b.semantic, list(a.label_space.stuff_ids))
        sy, sx = np.clip(src_y, 0, h - 1), np.clip(src_x, 0, w - 1)
        stuff_a = np.isin(a.semantic[sy, sx], list(a.label_space.stuff_ids))
        both = inside & stuff_b & stuff_a
        assert both.sum() > 0.3 * h * w
        assert (b.semantic[both] == a.semantic[sy, sx][both]).all()
    assert moved >= 20  # the camera really moves in most frames


# --------------------------------------------------------------------------- the bench
BENCH = pathlib.Path(__file__).resolve().parents[2] / 'bench' / 'tracking.py'


@pytest.mark.skipif(not BENCH.is_file(), reason='bench/ is outside the package and absent '
                    'from an installed copy')
def test_tracking_bench_smoke():
    pytest.importorskip('motmetrics')
    env = dict(os.environ, PYTHONPATH=str(pathlib.Path(__file__).resolve().parents[1]))
    out = subprocess.run([sys.executable, str(BENCH), '--sequences', '1', '--frames', '20',
                          '--height', '120', '--width', '160', '--timing-frames', '3',
                          '--timing-objects', '2', '5'],
                         capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    rows = [json.loads(line) for line in out.stdout.splitlines() if line.startswith('{')]
    *trackers, summary = rows
    assert summary['summary'] and 'hydranet' in summary['idf1']
    assert {r['tracker'] for r in trackers} >= {'hydranet'}
    for r in trackers:
        assert 0 <= r['idf1'] <= 1 and r['id_switches'] >= 0
