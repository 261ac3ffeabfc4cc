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
Multi-object tracker: stable ids for the instances of one camera's frames.

``Tracker.update(stamp, boxes, scores, class_ids, masks=None, keypoints=None,
embeddings=None)`` takes one frame's detections, as ``Prediction`` holds them, and
returns their track ids:

* ``stamp`` (float): the frame's time in seconds; never older than the last one
  (``Trackers`` resets a camera whose stamps go back).
* ``boxes`` (float[N, 4]): x1, y1, x2, y2 in pixels.
* ``scores`` (float[N]): detection confidences in [0, 1].
* ``class_ids`` (int[N]): class ids; a track only ever takes detections of its class.
* ``masks`` (bool[N, H, W] or None): instance masks; only the pixels inside each box
  are used.
* ``keypoints`` (float[N, K, 3] or None): x, y, score per slot; used for classes that
  have OKS sigmas (``keypoint_sigmas``), slots beyond a class's schema ignored.
* ``embeddings`` (float[N, D] or None): appearance vectors (cosine); not used when None.
* returns ``track_ids`` (int64[N]): the id of the confirmed track each detection
  belongs to, or **0** for a detection that is not (yet) part of a confirmed track:
  tentative tracks (seen in fewer than ``min_hits`` frames), detections scored below
  ``low_score``, unmatched low-score detections and detections with non-finite boxes.

Association is ByteTrack's, class-aware and with richer costs: every track is predicted
to ``stamp`` by a constant-velocity Kalman filter (``KalmanBoxFilter``), then

1. detections scored >= ``high_score`` are matched to confirmed and lost tracks;
2. detections scored in [``low_score``, ``high_score``) to the tracks still unmatched;
3. with embeddings, the remaining high-score detections to lost tracks that the IoU
   gate no longer reaches (re-identification: same class, appearance similarity >=
   ``reid_similarity``, centre within ``reid_distance`` box diagonals);
4. the remaining high-score detections to tentative tracks;

each a Hungarian assignment (``scipy.optimize.linear_sum_assignment``). A pair is
allowed when the classes agree and the IoU of the detection's box with the track's
predicted box reaches the stage's threshold (``match_iou``, ``low_match_iou``,
``tentative_match_iou``, as ByteTrack gates); among allowed pairs the assignment
maximises a fused similarity, the weighted mean of the cues known for the pair
(``costs.fuse``): that box IoU, the IoU of the track's last mask moved with the
prediction, the OKS of its last keypoints moved likewise, and appearance (cosine with
the track's running mean embedding). The gate keeps the cues from adding or losing
matches; they decide between the candidates, e.g. where two objects' boxes overlap.
Unmatched high-score detections scored >= ``new_track_score`` start tentative tracks.

Track states: tentative -> confirmed after ``min_hits`` matched frames in a row (a
tentative track missing a frame is dropped) -> lost while unmatched, still predicted
and matchable, for up to ``max_age_s`` seconds since it was last seen -> removed. Ages
are times, not frame counts, so dropped frames do not shorten the occlusion budget.
An id is drawn when a track is confirmed, from a counter that only goes up; ids are
never reused, also across ``reset()`` and across the cameras of one ``Trackers``.
"""

import itertools
import math
from typing import Iterator, List, Mapping, Optional, Sequence, Tuple

from hydranet_perception.tracking.config import TrackerConfig
from hydranet_perception.tracking.costs import box_iou, cosine_distance, crop_masks, fuse, \
    mask_iou, MaskCrop, oks
from hydranet_perception.tracking.detections import check_detections
from hydranet_perception.tracking.kalman import KalmanBoxFilter, xyxy_to_cxcywh
import numpy as np
from scipy.optimize import linear_sum_assignment

TENTATIVE, CONFIRMED, LOST = 0, 1, 2


class Tracker:
    """
    Tracks of one camera; see the module docstring for the contract.

    :param config: the parameters (``TrackerConfig()`` when None).
    :param keypoint_sigmas: OKS sigmas by class id (``costs.keypoint_sigmas(label_space)``);
        classes not in it have no keypoint cue.
    :param ids: the id counter (an iterator of increasing ints); ``Trackers`` shares one
        among its cameras. A fresh counter from 1 when None.
    """

    def __init__(self, config: Optional[TrackerConfig] = None, *,
                 keypoint_sigmas: Optional[Mapping[int, Sequence[float]]] = None,
                 ids: Optional[Iterator[int]] = None):
        self.config = config or TrackerConfig()
        self.sigmas = dict(keypoint_sigmas or {})
        self._ids = ids if ids is not None else itertools.count(1)
        c = self.config
        self.kf = KalmanBoxFilter(std_position=c.std_position, std_velocity=c.std_velocity,
                                  rate_hz=c.rate_hz)
        self.last_stamp: Optional[float] = None
        self._clear()

    def _clear(self):
        self.track_ids = np.zeros(0, np.int64)  # 0 while tentative
        self.classes = np.zeros(0, np.int64)
        self.states = np.zeros(0, np.int8)
        self.hits = np.zeros(0, np.int64)
        self.last_seen = np.zeros(0, np.float64)
        self.mean = np.zeros((0, 8))
        self.cov = np.zeros((0, 8, 8))
        self.anchors = np.zeros((0, 2))  # box centre when the mask / keypoints were taken
        self.masks: List[Optional[MaskCrop]] = []
        self.keypoints: List[Optional[np.ndarray]] = []
        self.embeddings: List[Optional[np.ndarray]] = []

    def reset(self):
        """Forget every track and the last stamp; the id counter goes on."""
        self.last_stamp = None
        self._clear()

    def __len__(self) -> int:
        """Return the number of live tracks (tentative, confirmed and lost)."""
        return int(len(self.states))

    def boxes(self) -> np.ndarray:
        """Return the tracks' current (predicted or corrected) boxes float64[T, 4]."""
        return self.kf.boxes(self.mean)

    # ------------------------------------------------------------------ bookkeeping
    def _keep(self, keep: np.ndarray):
        if keep.all():
            return
        idx = np.flatnonzero(keep)
        for name in ('track_ids', 'classes', 'states', 'hits', 'last_seen', 'mean', 'cov',
                     'anchors'):
            setattr(self, name, getattr(self, name)[idx])
        for name in ('masks', 'keypoints', 'embeddings'):
            values = getattr(self, name)
            setattr(self, name, [values[i] for i in idx.tolist()])

    def _append(self, mean, cov, classes, stamp, anchors, masks, keypoints, embeddings):
        n = len(classes)
        self.track_ids = np.concatenate([self.track_ids, np.zeros(n, np.int64)])
        self.classes = np.concatenate([self.classes, classes.astype(np.int64)])
        self.states = np.concatenate([self.states, np.full(n, TENTATIVE, np.int8)])
        self.hits = np.concatenate([self.hits, np.ones(n, np.int64)])
        self.last_seen = np.concatenate([self.last_seen, np.full(n, stamp)])
        self.mean = np.concatenate([self.mean, mean])
        self.cov = np.concatenate([self.cov, cov])
        self.anchors = np.concatenate([self.anchors, anchors])
        self.masks += masks
        self.keypoints += keypoints
        self.embeddings += embeddings

    # ----------------------------------------------------------------------- update
    def update(self, stamp: float, boxes: np.ndarray, scores: np.ndarray,
               class_ids: np.ndarray, masks: Optional[np.ndarray] = None,
               keypoints: Optional[np.ndarray] = None,
               embeddings: Optional[np.ndarray] = None) -> np.ndarray:
        """
        Take one frame's detections; return their track ids int64[N] (0: none yet).

        Raises ValueError when ``stamp`` is older than the last one or not finite, or
        when the arrays disagree in length.
        """
        stamp = float(stamp)
        if not math.isfinite(stamp):
            raise ValueError(f'stamp must be finite, got {stamp}')
        if self.last_stamp is not None and stamp < self.last_stamp:
            raise ValueError(f'stamp {stamp} is older than the last one ({self.last_stamp}); '
                             'reset() the tracker first')
        boxes, scores, class_ids = check_detections(boxes, scores, class_ids, masks,
                                                    keypoints, embeddings)
        c = self.config
        dt = 0.0 if self.last_stamp is None else stamp - self.last_stamp
        self.last_stamp = stamp
        n = len(scores)
        out = np.zeros(n, np.int64)

        # predict every track to this frame, then drop the lost ones past their age
        self.mean, self.cov = self.kf.predict(self.mean, self.cov, dt,
                                              freeze_size=self.states == LOST)
        age = stamp - self.last_seen
        reid = c.reid_similarity <= 1 and c.reid_max_age_s > c.max_age_s
        has_emb = np.array([e is not None for e in self.embeddings], bool)
        self._keep((age <= c.max_age_s) | (reid & has_emb & (age <= c.reid_max_age_s)))
        dormant = stamp - self.last_seen > c.max_age_s  # kept for re-identification alone

        ok = np.isfinite(boxes).all(1) & np.isfinite(scores) & (scores >= c.low_score)
        ok &= (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
        det = np.flatnonzero(ok)
        d_boxes, d_scores, d_classes = boxes[det], scores[det], class_ids[det]
        d_masks = None
        if masks is not None:  # crop in place: indexing full-size masks would copy them
            crops = crop_masks(masks, np.where(ok[:, None], boxes, 0.0))
            d_masks = [crops[i] for i in det.tolist()]
        d_kpts = np.asarray(keypoints, np.float64)[det] if keypoints is not None else None
        d_emb = np.asarray(embeddings, np.float64)[det] if embeddings is not None else None
        d_cxcywh = xyxy_to_cxcywh(d_boxes)

        iou, sim = self._similarity(d_boxes, d_classes, d_masks, d_kpts, d_emb, d_cxcywh)
        high = d_scores >= c.high_score
        active = (self.states != TENTATIVE) & ~dormant
        t_all = np.arange(len(self))
        det_of_track = np.full(len(self), -1)

        def stage(tracks, dets, threshold):
            if len(tracks) == 0 or len(dets) == 0:
                return
            sub = np.ix_(tracks, dets)
            for r, q in _assign(iou[sub] >= threshold, sim[sub]):
                det_of_track[tracks[r]] = dets[q]

        stage(t_all[active], np.flatnonzero(high), c.match_iou)
        free = np.ones(len(det), bool)
        free[det_of_track[det_of_track >= 0]] = False
        stage(t_all[active & (det_of_track < 0)], np.flatnonzero(~high & free),
              c.low_match_iou)
        free[det_of_track[det_of_track >= 0]] = False
        if d_emb is not None and c.reid_similarity <= 1:
            lost = t_all[(self.states == LOST) & (det_of_track < 0)]  # dormant ones too
            cand = np.flatnonzero(high & free)
            if len(lost) and len(cand):
                allowed, app = self._reid_pairs(lost, d_classes[cand], d_emb[cand],
                                                d_cxcywh[cand])
                for r, q in _assign(allowed, app):
                    det_of_track[lost[r]] = cand[q]
                free[det_of_track[det_of_track >= 0]] = False
        stage(t_all[self.states == TENTATIVE], np.flatnonzero(high & free),
              c.tentative_match_iou)
        free[det_of_track[det_of_track >= 0]] = False

        # matched tracks: correct, count, confirm, remember the cues
        rows = np.flatnonzero(det_of_track >= 0)
        cols = det_of_track[rows]
        if len(rows):
            self.mean[rows], self.cov[rows] = self.kf.update(self.mean[rows], self.cov[rows],
                                                             d_cxcywh[cols])
            self.hits[rows] += 1
            self.last_seen[rows] = stamp
            self.anchors[rows] = d_cxcywh[cols, :2]
            confirm = rows[(self.states[rows] != TENTATIVE) | (self.hits[rows] >= c.min_hits)]
            self.states[confirm] = CONFIRMED
            for r in confirm[self.track_ids[confirm] == 0].tolist():
                self.track_ids[r] = next(self._ids)
            for r, q in zip(rows.tolist(), cols.tolist()):
                self._remember(r, q, d_masks, d_kpts, d_emb)
            out[det[cols]] = self.track_ids[rows]
        # unmatched tracks: tentative ones go, confirmed ones are lost
        unmatched = det_of_track < 0
        self.states[unmatched & (self.states == CONFIRMED)] = LOST
        self._keep(~(unmatched & (self.states == TENTATIVE)))

        # new tentative tracks (confirmed at once when min_hits is 1)
        new = np.flatnonzero(free & high & (d_scores >= c.new_track_score))
        if len(new):
            mean, cov = self.kf.initiate(d_cxcywh[new])
            start = len(self)
            self._append(
                mean, cov, d_classes[new], stamp, d_cxcywh[new, :2],
                [_own(d_masks[q]) for q in new.tolist()] if d_masks is not None
                else [None] * len(new),
                [d_kpts[q] for q in new.tolist()] if d_kpts is not None
                else [None] * len(new),
                [_unit(d_emb[q]) for q in new.tolist()] if d_emb is not None
                else [None] * len(new))
            if c.min_hits <= 1:
                added = np.arange(start, len(self))
                self.states[added] = CONFIRMED
                for r in added.tolist():
                    self.track_ids[r] = next(self._ids)
                out[det[new]] = self.track_ids[added]
        return out

    def _remember(self, r: int, q: int, d_masks, d_kpts, d_emb):
        """
        Keep detection ``q``'s mask, keypoints and embedding on track ``r``.

        A frame without masks or keypoints clears the track's: they are anchored where
        the track was seen last, and an older one would be compared at the wrong place.
        """
        self.masks[r] = _own(d_masks[q]) if d_masks is not None else None
        self.keypoints[r] = d_kpts[q] if d_kpts is not None else None  # a row of a copy
        if d_emb is not None:
            old, new = self.embeddings[r], _unit(d_emb[q])
            if old is None or old.shape != new.shape:
                self.embeddings[r] = new
            else:
                m = self.config.embedding_momentum
                self.embeddings[r] = _unit(m * old + (1 - m) * new)

    def _reid_pairs(self, lost, d_classes, d_emb, d_cxcywh):
        """
        Return the pairs (lost track, detection) re-identification allows, with similarity.

        Both bool / float64[len(lost), D]: a pair is allowed for the same class, a cosine
        similarity >= ``reid_similarity`` with the track's running embedding, and the
        detection's centre within ``reid_distance`` box diagonals of the track's predicted
        centre.
        """
        c = self.config
        app = np.full((len(lost), len(d_classes)), -1.0)
        for i, t in enumerate(lost.tolist()):
            e = self.embeddings[t]
            if e is not None and e.shape[0] == d_emb.shape[1]:
                app[i] = 1.0 - cosine_distance(e[None], d_emb)[0]
        w, h = self.mean[lost, 2], self.mean[lost, 3]
        reach = c.reid_distance * np.hypot(w, h)
        dist = np.hypot(self.mean[lost, :1] - d_cxcywh[None, :, 0],
                        self.mean[lost, 1:2] - d_cxcywh[None, :, 1])
        allowed = (self.classes[lost, None] == d_classes[None, :]) & (dist <= reach[:, None])
        allowed &= app >= c.reid_similarity
        return allowed, app

    def _similarity(self, d_boxes, d_classes, d_masks, d_kpts, d_emb, d_cxcywh):
        """
        Return the gate and the fused similarity of tracks and detections.

        Both float64[T, D]: the box IoU of each detection with each track's predicted
        box (-1 where the classes differ), and the fused similarity (0 where no cue is
        known). The other cues are computed only for contested pairs: pairs that could
        pass a gate while their track or their detection has another such pair. A pair
        alone in its row and column is matched whatever its weight, so there they
        would change nothing.
        """
        c = self.config
        shape = (len(self), len(d_boxes))
        if 0 in shape:
            return np.full(shape, -1.0), np.zeros(shape)
        same = self.classes[:, None] == d_classes[None, :]
        pred = self.boxes()
        iou = box_iou(pred, d_boxes)
        candidates = iou >= min(c.match_iou, c.low_match_iou, c.tentative_match_iou)
        candidates &= same & (iou > 0)
        candidates &= (candidates.sum(1) > 1)[:, None] | (candidates.sum(0) > 1)[None, :]
        shift = self.mean[:, :2] - self.anchors  # how far each track moved since its cues
        cues = []
        if d_masks is not None and c.weight_mask > 0 and candidates.any():
            moved = [m.shifted(*s) if m is not None and use else None
                     for m, s, use in zip(self.masks, shift.tolist(), candidates.any(1))]
            cues.append((c.weight_mask, mask_iou(moved, d_masks, candidates)))
        if d_kpts is not None and c.weight_oks > 0 and self.sigmas and candidates.any():
            k = d_kpts.shape[1]
            t_kpts = np.zeros((len(self), k, 3))
            for i in np.flatnonzero(candidates.any(1)).tolist():
                kp = self.keypoints[i]
                if kp is not None and kp.shape[0] == k:
                    t_kpts[i] = kp
                    t_kpts[i, :, :2] += shift[i]
            area_t = (pred[:, 2] - pred[:, 0]) * (pred[:, 3] - pred[:, 1])
            area_d = d_cxcywh[:, 2] * d_cxcywh[:, 3]
            cues.append((c.weight_oks, oks(t_kpts, d_kpts, self.classes, d_classes,
                                           self.sigmas, areas_a=area_t, areas_b=area_d,
                                           min_score=c.keypoint_min_score,
                                           candidates=candidates)))
        if d_emb is not None and c.weight_appearance > 0:
            known = [i for i, e in enumerate(self.embeddings)
                     if e is not None and e.shape[0] == d_emb.shape[1]]
            app = np.full(shape, np.nan)
            if known:
                dist = cosine_distance(np.stack([self.embeddings[i] for i in known]), d_emb)
                app[known] = np.clip(1.0 - dist, 0.0, 1.0)
            cues.append((c.weight_appearance, app))
        sim = np.nan_to_num(fuse([(c.weight_iou, iou)] + cues, shape), nan=0.0)
        return np.where(same, iou, -1.0), sim


def _assign(allowed: np.ndarray, sim: np.ndarray) -> List[Tuple[int, int]]:
    """
    Match the ``allowed`` pairs bool[T, D] for the largest total similarity ``sim``.

    A maximum-weight matching (Hungarian): a disallowed pair weighs 0, as leaving both
    unmatched does, and is dropped from the result. Unlike a maximum-cardinality
    matching it never takes two poor pairs instead of one good one.
    """
    if not allowed.any():
        return []
    weight = np.where(allowed, np.maximum(sim, 1e-9), 0.0)
    rows, cols = linear_sum_assignment(weight, maximize=True)
    return [(r, q) for r, q in zip(rows.tolist(), cols.tolist()) if allowed[r, q]]


def _own(crop: MaskCrop) -> MaskCrop:
    """Return a crop that owns its pixels (not a view that keeps a whole frame alive)."""
    return MaskCrop(np.array(crop.mask, bool, copy=True), crop.x0, crop.y0, crop.area)


def _unit(v: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(v))
    return np.asarray(v, np.float64) / norm if norm > 0 else np.asarray(v, np.float64)


__all__ = ['check_detections', 'CONFIRMED', 'LOST', 'TENTATIVE', 'Tracker']
