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

"""``TrackerConfig``: the parameters of a ``Tracker``, checked when made."""

from dataclasses import dataclass
import math


@dataclass(frozen=True, kw_only=True)
class TrackerConfig:
    """
    Parameters of ``Tracker`` (see the module docstring for the stages).

    :param high_score: detections at or above it are matched first and may start tracks.
    :param low_score: detections below it are ignored (track id 0).
    :param new_track_score: an unmatched detection starts a track at or above it.
    :param match_iou: least box IoU (detection, predicted track) of a first-stage match.
    :param low_match_iou: the same for a low-score (second-stage) match.
    :param tentative_match_iou: the same for matching a tentative track.
    :param min_hits: matched frames in a row that confirm a track (1: at once).
    :param max_age_s: seconds a lost track is kept (and predicted) after it was last seen.
    :param weight_iou, weight_mask, weight_oks, weight_appearance: weights of the cues in
        the fused similarity; 0 turns a cue off.
    :param reid_similarity: a lost track whose box the IoU gates no longer reach (it
        moved while hidden) takes back an unmatched high-score detection of its class
        whose appearance similarity (cosine, from the identity head) is at least this;
        > 1 turns re-identification off. Only with embeddings.
    :param reid_distance: ... and whose centre is within this many of the track's box
        diagonals of the track's predicted centre.
    :param reid_max_age_s: a lost track with an embedding is kept this long (when longer
        than ``max_age_s``) for re-identification alone: past ``max_age_s`` the IoU
        stages no longer see it.
    :param keypoint_min_score: a keypoint counts in OKS at or above this score.
    :param embedding_momentum: a track's embedding is the running mean
        ``m * old + (1 - m) * new``.
    :param std_position, std_velocity, rate_hz: the Kalman filter's noise (``KalmanBoxFilter``).

    ``match_iou``, ``std_velocity`` and the re-identification values were chosen on the
    model's detections of tracking sequences of seed 7200 (``bench/tracking.py --seed
    7200``); the reported figures use seed 7100.
    """

    high_score: float = 0.5
    low_score: float = 0.1
    new_track_score: float = 0.6
    match_iou: float = 0.1
    low_match_iou: float = 0.5
    tentative_match_iou: float = 0.3
    min_hits: int = 2
    max_age_s: float = 1.0
    weight_iou: float = 1.0
    weight_mask: float = 1.0
    weight_oks: float = 1.0
    weight_appearance: float = 1.0
    reid_similarity: float = 0.8
    reid_distance: float = 1.5
    reid_max_age_s: float = 3.0
    keypoint_min_score: float = 0.5
    embedding_momentum: float = 0.9
    std_position: float = 1.0 / 20
    std_velocity: float = 1.0 / 320
    rate_hz: float = 30.0

    def __post_init__(self):
        if not 0 <= self.low_score <= self.high_score <= 1:
            raise ValueError('need 0 <= low_score <= high_score <= 1, got '
                             f'{self.low_score}, {self.high_score}')
        if self.new_track_score < self.high_score:
            raise ValueError(f'new_track_score ({self.new_track_score}) must be >= '
                             f'high_score ({self.high_score})')
        for name in ('match_iou', 'low_match_iou', 'tentative_match_iou',
                     'keypoint_min_score'):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f'{name} must be in [0, 1], got {getattr(self, name)}')
        if self.min_hits < 1:
            raise ValueError(f'min_hits must be >= 1, got {self.min_hits}')
        for name in ('max_age_s', 'reid_max_age_s', 'reid_distance'):
            value = getattr(self, name)
            if not (value >= 0 and math.isfinite(value)):
                raise ValueError(f'{name} must be finite and >= 0, got {value}')
        weights = (self.weight_iou, self.weight_mask, self.weight_oks, self.weight_appearance)
        if min(weights) < 0 or max(weights) <= 0:
            raise ValueError(f'cue weights must be >= 0 and not all 0, got {weights}')
        if not (self.reid_similarity >= -1 and math.isfinite(self.reid_similarity)):
            raise ValueError('reid_similarity must be finite and >= -1 (> 1: off), got '
                             f'{self.reid_similarity}')
        if not 0 <= self.embedding_momentum < 1:
            raise ValueError(f'embedding_momentum must be in [0, 1), got '
                             f'{self.embedding_momentum}')


__all__ = ['TrackerConfig']
