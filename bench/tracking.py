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
Our tracker against ByteTrack on the same detections of held-out generated sequences.

Usage (from the repository root; bench-only packages from requirements/bench.txt)::

    .venv/bin/python bench/tracking.py [--sequences 10] [--frames 150]
        [--detections noisy-gt|model] [--mot-dir DIR] [--cache DIR]
        [--set FIELD=VALUE ...]

``--cache`` keeps the sequences and detections (model detections take minutes) for the
next run with the same arguments; ``--set`` overrides our tracker's ``TrackerConfig``
fields, for tuning on a seed other than the reported 7100 (the defaults were chosen on
seed 7200).

Sequences come from ``generate_tracking_sequence`` (seeds ``(--seed, i)``, used by no
training split): same-class crossings with the same colours, passes of 0.3-1.5 s behind
a static occluder, things leaving and re-entering the image, at 30 frames per second.
Detections, computed once per frame and given to every tracker alike, are either

* ``noisy-gt`` (the default, fast): the visible ground truth with a detector's faults:
  box jitter, masks eroded or dilated, keypoint noise in proportion to the OKS sigmas,
  scores that fall with occlusion, missed detections (more when occluded) and false
  positives; or
* ``model``: the shipped weights through onnxruntime at the 320x256 network size, score
  threshold 0.1 (about 0.15 s per 640x480 frame on two busy cores, so ~4 minutes more).

Trackers: ``hydranet`` (``hydranet_perception.tracking``, masks + keypoints + boxes),
``hydranet_boxes`` (ours with boxes only: the same association without the mask and
keypoint cues), ``bytetrack`` (Roboflow's ``trackers.ByteTrackTracker``, the ByteTrack
that ``supervision`` now delegates to, class-agnostic as shipped) and
``bytetrack_per_class`` (one ByteTrack per class), all with the same thresholds (high
0.5, new track 0.6, confirmed after 2 frames, lost tracks kept 1 s). Scores: TrackEval's
HOTA, DetA, AssA and motmetrics' IDF1, MOTA, ID switches (IoU >= 0.5), per class and
combined over classes and sequences; and each tracker's milliseconds per frame at 5, 20
and 50 objects (synthetic moving objects with 640x480 masks and keypoints, the tracker
call only, median). One JSON line per tracker, then a summary line. Not a test.
"""

import argparse
import json
import os
import pickle
import sys
import time
from typing import List, NamedTuple, Optional, Tuple

import cv2
from hydranet_perception.data.synthetic_tracking import generate_tracking_sequence
from hydranet_perception.schema import default_label_space
from hydranet_perception.tracking import keypoint_sigmas, Tracker, TrackerConfig
import numpy as np

FPS = 30.0
HIGH, LOW, NEW, MIN_HITS, MAX_AGE_S = 0.5, 0.1, 0.6, 2, 1.0


# ------------------------------------------------------------------------ detections
class GtInstance(NamedTuple):
    """A scene's instance without its full-size mask (kept as a crop, 2 pixels padded)."""

    track_id: int
    class_id: int
    box: np.ndarray
    keypoints: np.ndarray
    area: int
    crop: np.ndarray
    x0: int
    y0: int


def light(scene) -> Tuple[int, int, List[GtInstance]]:
    """Return (height, width, instances) of a scene, small enough to keep 1500 of."""
    out = []
    for inst in scene.instances:
        x1, y1, x2, y2 = inst.box.astype(int).tolist()
        x0, y0 = max(x1 - 2, 0), max(y1 - 2, 0)
        crop = inst.mask[y0:y2 + 2, x0:x2 + 2].copy()
        out.append(GtInstance(inst.track_id, inst.class_id, inst.box, inst.keypoints,
                              inst.area, crop, x0, y0))
    return scene.height, scene.width, out


def noisy_detections(records, rng: np.random.Generator, ls) -> List[dict]:
    """Return per-frame detections made from the visible ground truth (``light`` records)."""
    k_slots = ls.max_keypoints
    sigmas = keypoint_sigmas(ls)
    full = {}  # a track's largest visible area stands for its unoccluded area
    for _, _, instances in records:
        for inst in instances:
            full[inst.track_id] = max(full.get(inst.track_id, 0), inst.area)
    kernel = np.ones((3, 3), np.uint8)
    frames = []
    for h, w, instances in records:
        boxes, scores, classes, masks, kpts = [], [], [], [], []
        for inst in instances:
            seen = inst.area / full[inst.track_id]
            if rng.uniform() < 0.05 + 0.45 * (1 - seen) ** 2:
                continue  # missed, more often when occluded
            x1, y1, x2, y2 = inst.box.astype(float)
            bw, bh = x2 - x1, y2 - y1
            box = np.array([x1, y1, x2, y2]) + rng.normal(0, 0.03, 4) * [bw, bh, bw, bh]
            box = np.clip(box, 0, [w, h, w, h])
            if box[2] - box[0] < 1 or box[3] - box[1] < 1:
                continue
            crop = inst.crop.astype(np.uint8)
            grow = int(rng.integers(-2, 3))
            if grow > 0:
                crop = cv2.dilate(crop, kernel, iterations=grow)
            elif grow < 0:
                crop = cv2.erode(crop, kernel, iterations=-grow)
            mask = np.zeros((h, w), bool)
            mask[inst.y0:inst.y0 + crop.shape[0], inst.x0:inst.x0 + crop.shape[1]] = crop > 0
            inside = np.zeros((h, w), bool)
            inside[int(box[1]):int(np.ceil(box[3])), int(box[0]):int(np.ceil(box[2]))] = True
            kp = np.zeros((k_slots, 3))
            sig = np.asarray(sigmas.get(inst.class_id, ()))
            if len(sig):
                scale = np.sqrt(bw * bh)
                v = inst.keypoints[:, 2]
                xy = inst.keypoints[:, :2] + rng.normal(0, 1, (len(sig), 2)) * \
                    (sig * scale)[:, None]
                kp[:len(sig), :2] = np.where(v[:, None] > 0, xy, 0)
                kp[:len(sig), 2] = np.where(v == 2, rng.uniform(0.6, 1.0, len(sig)),
                                            np.where(v == 1, rng.uniform(0.1, 0.6, len(sig)),
                                                     0.0))
            boxes.append(box)
            scores.append(float(np.clip(0.35 + 0.55 * seen + rng.normal(0, 0.08), 0.01,
                                        0.99)))
            classes.append(inst.class_id)
            masks.append(mask & inside)
            kpts.append(kp)
        for _ in range(rng.poisson(0.5)):  # false positives
            cid = int(rng.choice(ls.thing_ids))
            bw, bh = rng.uniform(20, 0.25 * w), rng.uniform(20, 0.25 * h)
            x1, y1 = rng.uniform(0, w - bw), rng.uniform(0, h - bh)
            box = np.array([x1, y1, x1 + bw, y1 + bh])
            mask = np.zeros((h, w), np.uint8)
            cv2.ellipse(mask, (int(x1 + bw / 2), int(y1 + bh / 2)),
                        (int(bw / 2), int(bh / 2)), 0, 0, 360, 1, -1)
            kp = np.zeros((k_slots, 3))
            n_kp = len(sigmas.get(cid, ()))
            kp[:n_kp] = np.stack([rng.uniform(x1, x1 + bw, n_kp), rng.uniform(y1, y1 + bh, n_kp),
                                  rng.uniform(0, 0.7, n_kp)], 1)
            boxes.append(box)
            scores.append(float(rng.uniform(0.1, 0.65)))
            classes.append(cid)
            masks.append(mask.astype(bool))
            kpts.append(kp)
        frames.append(_frame(boxes, scores, classes, masks, kpts, h, w, k_slots))
    return frames


def _frame(boxes, scores, classes, masks, kpts, h, w, k_slots) -> dict:
    """Return one frame's detections; masks bit-packed (1500 frames of full masks: 4 GB)."""
    return {'boxes': np.array(boxes, np.float64).reshape(-1, 4),
            'scores': np.array(scores, np.float64),
            'class_ids': np.array(classes, np.int64),
            'masks_packed': np.packbits(np.array(masks, bool).reshape(-1, h, w), axis=-1),
            'width': w,
            'keypoints': np.array(kpts, np.float64).reshape(-1, k_slots, 3)}


def unpacked(det: dict) -> dict:
    """Return the frame with its masks as the tracker takes them, bool[N, H, W]."""
    masks = np.unpackbits(det['masks_packed'], axis=-1, count=det['width']).view(bool)
    return {**det, 'masks': masks}


def model_detections(scene, predictor) -> dict:
    """Return the detections of the shipped model on one scene's image."""
    p = predictor(scene.image)
    keep = p.scores >= LOW
    h, w = scene.height, scene.width
    masks = p.masks[keep] if p.masks is not None else np.zeros((int(keep.sum()), h, w))
    kpts = p.keypoints[keep] if p.keypoints is not None else np.zeros((int(keep.sum()), 0, 3))
    det = _frame(p.boxes[keep], p.scores[keep], p.class_ids[keep], masks, kpts, h, w,
                 kpts.shape[1])
    if p.embeddings is not None:  # a model with the identity head
        det['embeddings'] = np.asarray(p.embeddings[keep], np.float64)
    return det


# -------------------------------------------------------------------------- trackers
class Ours:
    """``hydranet_perception.tracking.Tracker``, optionally with boxes only."""

    def __init__(self, ls, boxes_only: bool = False, overrides: Optional[dict] = None):
        self.boxes_only = boxes_only
        self.needs_masks = not boxes_only
        weights = {'weight_mask': 0.0, 'weight_oks': 0.0, 'weight_appearance': 0.0} \
            if boxes_only else {}
        fields = {'high_score': HIGH, 'low_score': LOW, 'new_track_score': NEW,
                  'min_hits': MIN_HITS, 'max_age_s': MAX_AGE_S, **(overrides or {}), **weights}
        fields['min_hits'] = int(fields['min_hits'])
        self.config = TrackerConfig(**fields)
        self.sigmas = keypoint_sigmas(ls)
        self.reset()

    def reset(self):
        self.tracker = Tracker(self.config, keypoint_sigmas=self.sigmas)

    def __call__(self, stamp: float, det: dict) -> np.ndarray:
        if self.boxes_only:
            return self.tracker.update(stamp, det['boxes'], det['scores'], det['class_ids'])
        return self.tracker.update(stamp, det['boxes'], det['scores'], det['class_ids'],
                                   masks=det['masks'], keypoints=det['keypoints'],
                                   embeddings=det.get('embeddings'))


class ByteTrack:
    """Roboflow's ``trackers.ByteTrackTracker`` (what supervision's ByteTrack became)."""

    needs_masks = False

    def __init__(self, per_class: bool = False):
        import supervision as sv
        import trackers
        self.sv, self.cls = sv, trackers.ByteTrackTracker
        self.per_class = per_class
        self.reset()

    def _make(self):
        return self.cls(lost_track_buffer=int(MAX_AGE_S * FPS), frame_rate=FPS,
                        track_activation_threshold=NEW, minimum_consecutive_frames=MIN_HITS,
                        high_conf_det_threshold=HIGH)

    def reset(self):
        self.trackers = {}

    def __call__(self, stamp: float, det: dict) -> np.ndarray:
        n = len(det['scores'])
        out = np.zeros(n, np.int64)
        # per class, every tracker seen so far gets every frame (its clock moves on)
        keys = sorted(set(self.trackers) | set(det['class_ids'].tolist())) \
            if self.per_class else [None]
        for key in keys:
            tracker = self.trackers.setdefault(key, self._make())
            sel = np.arange(n) if key is None else np.flatnonzero(det['class_ids'] == key)
            dets = self.sv.Detections(xyxy=det['boxes'][sel].reshape(-1, 4).astype(np.float32),
                                      confidence=det['scores'][sel].astype(np.float32),
                                      class_id=det['class_ids'][sel],
                                      data={'index': sel})
            res = tracker.update(dets, timestamp=stamp)
            if len(res) == 0:
                continue
            ok = res.tracker_id >= 0
            # ids: +1 so that 0 means none, and per class apart (ids are per tracker)
            offset = 0 if key is None else (key + 1) * 1_000_000
            out[res.data['index'][ok]] = res.tracker_id[ok] + 1 + offset
        return out


# --------------------------------------------------------------------------- scoring
def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    from hydranet_perception.tracking import box_iou
    return box_iou(a, b)


def score(gt_seqs, out_seqs, class_ids) -> dict:
    """
    Return HOTA/DetA/AssA (TrackEval) and IDF1/MOTA/IDs (motmetrics), overall and per class.

    ``gt_seqs[s][f]`` and ``out_seqs[s][f]`` are (ids, boxes, classes) per frame.
    """
    import motmetrics as mm
    try:
        from trackeval.metrics import HOTA
    except ImportError:
        HOTA = None
    res = {}
    groups = {'all': None, **{str(c): c for c in class_ids}}
    for name, cls in groups.items():
        accs, hotas = [], {}
        for s, (gt_seq, out_seq) in enumerate(zip(gt_seqs, out_seqs)):
            acc = mm.MOTAccumulator(auto_id=True)
            data = {'gt_ids': [], 'tracker_ids': [], 'similarity_scores': []}
            gmap, tmap = {}, {}
            for (g_ids, g_boxes, g_cls), (t_ids, t_boxes, t_cls) in zip(gt_seq, out_seq):
                if cls is None:  # all classes: a match needs the same class
                    gsel, tsel = np.ones(len(g_ids), bool), np.ones(len(t_ids), bool)
                else:
                    gsel, tsel = g_cls == cls, t_cls == cls
                gi, gb, gc = g_ids[gsel], g_boxes[gsel], g_cls[gsel]
                ti, tb, tc = t_ids[tsel], t_boxes[tsel], t_cls[tsel]
                iou = _iou(gb, tb) * (gc[:, None] == tc[None, :])
                dist = np.where(iou >= 0.5, 1 - iou, np.nan)
                acc.update(gi.tolist(), ti.tolist(), dist)
                data['gt_ids'].append(np.array([gmap.setdefault(i, len(gmap))
                                                for i in gi.tolist()], int))
                data['tracker_ids'].append(np.array([tmap.setdefault(i, len(tmap))
                                                     for i in ti.tolist()], int))
                data['similarity_scores'].append(iou)
            accs.append(acc)
            if HOTA is not None:
                data.update(num_gt_ids=len(gmap), num_tracker_ids=len(tmap),
                            num_gt_dets=sum(len(x) for x in data['gt_ids']),
                            num_tracker_dets=sum(len(x) for x in data['tracker_ids']),
                            num_timesteps=len(gt_seq))
                hotas[s] = HOTA().eval_sequence(data)
        mh = mm.metrics.create()
        summary = mh.compute_many(accs, metrics=['idf1', 'mota', 'num_switches',
                                                 'num_false_positives', 'num_misses',
                                                 'num_unique_objects'],
                                  names=[str(i) for i in range(len(accs))],
                                  generate_overall=True)
        row = summary.loc['OVERALL']
        entry = {'idf1': round(float(row['idf1']), 4), 'mota': round(float(row['mota']), 4),
                 'id_switches': int(row['num_switches']),
                 'false_positives': int(row['num_false_positives']),
                 'misses': int(row['num_misses']), 'gt_tracks': int(row['num_unique_objects'])}
        if hotas:
            combined = HOTA().combine_sequences(hotas)
            for key in ('HOTA', 'DetA', 'AssA'):
                entry[key.lower()] = round(float(np.mean(combined[key])), 4)
        res[name] = entry
    return res


# ---------------------------------------------------------------------------- timing
def timing(make_tracker, n_objects: int, frames: int, ls, height: int, width: int,
           rng_seed: int = 0) -> float:
    """Median ms of one tracker call with ``n_objects`` moving objects in view."""
    rng = np.random.default_rng(rng_seed)
    sigmas = keypoint_sigmas(ls)
    k_slots = ls.max_keypoints
    cls = rng.choice(ls.thing_ids, n_objects)
    size = rng.uniform(0.06, 0.2, (n_objects, 2)) * [width, height]
    pos = rng.uniform(0, 1, (n_objects, 2)) * ([width, height] - size)
    vel = rng.normal(0, 3, (n_objects, 2))
    offsets = [rng.uniform(0, 1, (len(sigmas.get(int(c), ())), 2)) for c in cls]
    tracker = make_tracker()
    times = []
    for f in range(frames + 5):
        pos += vel
        bounce = (pos < 0) | (pos > [width, height] - size)
        vel[bounce] *= -1
        pos = np.clip(pos, 0, [width, height] - size)
        boxes = np.concatenate([pos, pos + size], 1)
        masks = np.zeros((n_objects, height, width), np.uint8)
        kpts = np.zeros((n_objects, k_slots, 3))
        for i, (x1, y1, x2, y2) in enumerate(boxes):
            cv2.ellipse(masks[i], (int((x1 + x2) / 2), int((y1 + y2) / 2)),
                        (int((x2 - x1) / 2), int((y2 - y1) / 2)), 0, 0, 360, 1, -1)
            n_kp = len(offsets[i])
            kpts[i, :n_kp, :2] = boxes[i, :2] + offsets[i] * size[i]
            kpts[i, :n_kp, 2] = 0.9
        det = {'boxes': boxes, 'scores': rng.uniform(0.55, 0.95, n_objects),
               'class_ids': cls.astype(np.int64), 'masks': masks.astype(bool),
               'keypoints': kpts}
        t0 = time.perf_counter()
        tracker(f / FPS, det)
        if f >= 5:
            times.append(time.perf_counter() - t0)
    return round(float(np.median(times)) * 1e3, 3)


# ------------------------------------------------------------------------------ main
def gt_rows(record):
    """Return (track ids, boxes, classes) of a ``light`` record's instances."""
    inst = record[2]
    return (np.array([i.track_id for i in inst], np.int64),
            np.array([i.box for i in inst], np.float64).reshape(-1, 4),
            np.array([i.class_id for i in inst], np.int64))


def gt_stats(gt_seqs) -> dict:
    """Describe the ground truth: objects per frame, tracks, and the gaps in seconds."""
    gaps, tracks, per_frame = [], 0, []
    for seq in gt_seqs:
        seen = {}
        for f, (ids, _, _) in enumerate(seq):
            per_frame.append(len(ids))
            for i in ids.tolist():
                seen.setdefault(i, []).append(f)
        tracks += len(seen)
        for frames in seen.values():
            gaps += [(b - a - 1) / FPS for a, b in zip(frames, frames[1:]) if b - a > 1]
    gaps = np.array(gaps)
    return {'gt_tracks': tracks, 'objects_per_frame': round(float(np.mean(per_frame)), 2),
            'gaps': int(len(gaps)),
            'gaps_0.3_to_1.5_s': int(((gaps >= 0.3) & (gaps <= 1.5)).sum()),
            'gaps_over_1.5_s': int((gaps > 1.5).sum()),
            'gap_s_p50': round(float(np.median(gaps)), 2) if len(gaps) else None}


def write_mot(path: str, seq) -> None:
    """Write one sequence's rows in MOTChallenge text format (frame, id, x, y, w, h, ...)."""
    with open(path, 'w') as f:
        for frame, (ids, boxes, _) in enumerate(seq, start=1):
            for i, (x1, y1, x2, y2) in zip(ids.tolist(), boxes.tolist()):
                f.write(f'{frame},{i},{x1:.2f},{y1:.2f},{x2 - x1:.2f},{y2 - y1:.2f},1,-1,-1,-1\n')


def cache_path(args) -> str:
    """Return the cache file of these arguments' sequences and detections ('' for none)."""
    if not args.cache:
        return ''
    weights = ''
    if args.detections == 'model':
        st = os.stat(args.weights) if args.weights else None
        weights = (f'_{os.path.basename(args.weights)}_{st.st_size}_{int(st.st_mtime)}'
                   if st else '_shipped')
    name = (f'{args.detections}_{args.seed}_{args.sequences}x{args.frames}_'
            f'{args.width}x{args.height}_cam{args.camera_motion}{weights}.pkl')
    return os.path.join(args.cache, name)


def make_data(args, ls, predictor):
    """Return (ground truth, detections) per sequence."""
    gt_seqs, det_seqs = [], []
    for s in range(args.sequences):
        records, dets = [], []
        for scene in generate_tracking_sequence((args.seed, s), args.frames,
                                                height=args.height, width=args.width,
                                                fps=FPS, num_objects=(2, 4),
                                                camera_motion=args.camera_motion):
            records.append(light(scene))
            if predictor is not None:
                dets.append(model_detections(scene, predictor))
        gt_seqs.append([gt_rows(r) for r in records])
        det_seqs.append(dets if predictor is not None else noisy_detections(
            records, np.random.default_rng((args.seed, s, 1)), ls))
    return gt_seqs, det_seqs


def main() -> int:
    """Generate the sequences and detections, run every tracker, print the scores."""
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument('--sequences', type=int, default=10)
    ap.add_argument('--frames', type=int, default=150)
    ap.add_argument('--seed', type=int, default=7100, help='sequence i has seed (SEED, i)')
    ap.add_argument('--height', type=int, default=480)
    ap.add_argument('--width', type=int, default=640)
    ap.add_argument('--detections', choices=('noisy-gt', 'model'), default='noisy-gt')
    ap.add_argument('--trackers', nargs='*',
                    default=['hydranet', 'hydranet_boxes', 'bytetrack', 'bytetrack_per_class'])
    ap.add_argument('--timing-objects', type=int, nargs='*', default=[5, 20, 50])
    ap.add_argument('--timing-frames', type=int, default=100)
    ap.add_argument('--mot-dir', default='', help='also write MOTChallenge text files here')
    ap.add_argument('--weights', default='',
                    help='with --detections model: a checkpoint (default: the shipped one); '
                    'one with the identity head gives the tracker its embeddings')
    ap.add_argument('--camera-motion', type=float, default=0.0,
                    help='camera pan amplitude as a fraction of the width (0: still camera)')
    ap.add_argument('--cache', default='',
                    help='keep the sequences and detections in this folder and reuse them '
                    '(keyed by every argument that changes them)')
    ap.add_argument('--set', nargs='*', default=[], metavar='FIELD=VALUE',
                    help="override our tracker's TrackerConfig fields (tuning on another "
                    'seed than the reported one)')
    args = ap.parse_args()
    ls = default_label_space()
    t_start = time.perf_counter()

    overrides = {k: float(v) for k, v in (kv.split('=', 1) for kv in args.set)}
    makers = {'hydranet': lambda: Ours(ls, overrides=overrides),
              'hydranet_boxes': lambda: Ours(ls, True, overrides=overrides),
              'bytetrack': lambda: ByteTrack(), 'bytetrack_per_class': lambda: ByteTrack(True)}
    names = []
    for name in args.trackers:
        try:
            makers[name]()
            names.append(name)
        except ImportError as e:
            print(f'skipping {name}: {e} (pip install -r requirements/bench.txt)',
                  file=sys.stderr)

    cache = cache_path(args)
    predictor = None
    if args.detections == 'model' and not (cache and os.path.isfile(cache)):
        from hydranet_perception.engine.runtimes import make_predictor
        predictor = make_predictor(args.weights or None,
                                   backend='torch' if args.weights else 'onnxruntime',
                                   device='cpu', score_thresh=LOW)
    if cache and os.path.isfile(cache):
        with open(cache, 'rb') as f:
            gt_seqs, det_seqs = pickle.load(f)
    else:
        gt_seqs, det_seqs = make_data(args, ls, predictor)
        if cache:
            os.makedirs(os.path.dirname(cache), exist_ok=True)
            with open(cache, 'wb') as f:
                pickle.dump((gt_seqs, det_seqs), f, protocol=pickle.HIGHEST_PROTOCOL)
    t_data = time.perf_counter() - t_start

    rows, out_all = {}, {}
    for name in names:
        tracker = makers[name]()
        out_seqs, calls = [], []
        for dets in det_seqs:
            tracker.reset()
            seq = []
            for f, det in enumerate(dets):
                if tracker.needs_masks:
                    det = unpacked(det)
                t0 = time.perf_counter()
                ids = tracker(f / FPS, det)
                calls.append(time.perf_counter() - t0)
                keep = ids > 0
                seq.append((ids[keep], det['boxes'][keep], det['class_ids'][keep]))
            out_seqs.append(seq)
        out_all[name] = out_seqs
        scores = score(gt_seqs, out_seqs, ls.thing_ids)
        ms = {str(n): timing(makers[name], n, args.timing_frames, ls, args.height,
                             args.width) for n in args.timing_objects}
        row = {'tracker': name, **scores['all'],
               'per_class': {ls.classes[int(c)].name: v for c, v in scores.items()
                             if c != 'all'},
               'ms_per_frame': ms,
               'ms_per_frame_bench_p50': round(float(np.median(calls)) * 1e3, 3)}
        rows[name] = row
        print(json.dumps(row), flush=True)

    if args.mot_dir:
        os.makedirs(args.mot_dir, exist_ok=True)
        for s, seq in enumerate(gt_seqs):
            write_mot(os.path.join(args.mot_dir, f'seq{s:02d}_gt.txt'), seq)
            for name in names:
                write_mot(os.path.join(args.mot_dir, f'seq{s:02d}_{name}.txt'),
                          out_all[name][s])

    summary = {'summary': True, 'detections': args.detections,
               'camera_motion': args.camera_motion, 'weights': args.weights or 'shipped',
               'sequences': args.sequences, 'frames': args.frames,
               'size': f'{args.width}x{args.height}', 'seed': args.seed, **gt_stats(gt_seqs)}
    for key in ('hota', 'deta', 'assa', 'idf1', 'mota', 'id_switches'):
        summary[key] = {n: r.get(key) for n, r in rows.items()}
    summary['ms_per_frame'] = {n: r['ms_per_frame'] for n, r in rows.items()}
    if 'hydranet' in rows and 'bytetrack' in rows and rows['hydranet'].get('hota') is not None:
        ours, peer = rows['hydranet'], rows['bytetrack']
        summary['goal'] = {
            'hota_plus_5_points': ours['hota'] >= peer['hota'] + 0.05,
            'id_switches_at_most_half': ours['id_switches'] <= peer['id_switches'] / 2,
            'ms_at_20_objects_at_most_1': ours['ms_per_frame'].get('20', 1e9) <= 1.0}
    summary['seconds'] = {'data': round(t_data, 1),
                          'total': round(time.perf_counter() - t_start, 1)}
    summary['date'] = time.strftime('%Y-%m-%d')
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
