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
Test helpers: two runtimes' Predictions of one image agree as far as rounding allows.

The runtimes' raw outputs agree within ``ATOL + RTOL * |x|`` (float32 kernels sum in
different orders; test_onnx checks this on every output). The tolerances of the decoded
predictions follow from it through the decoding, and detections are matched by class and
box IoU, never row by row (where scores tie, the order of rows is rounding noise).
"""

from hydranet_perception.postprocess.match import compare_predictions, match_detections
import numpy as np

ATOL = RTOL = 1e-4
MAX_STRIDE = 32


def decoded_tolerances(raw, scale):
    """
    Bound the differences of decoded outputs given raw outputs within ATOL + RTOL * |x|.

    Sigmoid is 1/4-Lipschitz (scores, keypoint visibility); a box side is
    ``softplus(raw) * stride`` and a keypoint ``anchor + raw * stride`` (softplus is
    1-Lipschitz, strides are at most 32), divided by ``scale`` (input pixels per
    original pixel) on the way back to the original image.

    :param raw: the raw outputs of one side (Dict[str, Tensor]) for the image.
    :param scale: the letterbox scale, input pixels per original pixel.
    """
    def bound(name):
        return ATOL + RTOL * float(np.abs(np.asarray(raw[name])).max())
    return {'score': 0.25 * max(bound('detect_cls'), bound('keypoints')),
            'box_px': MAX_STRIDE * bound('detect_box') / scale,
            'keypoint_px': MAX_STRIDE * bound('keypoints') / scale}


def assert_same_predictions(a, b, tol, *, score_thresh):
    """
    Assert that Predictions ``a`` and ``b`` of one image agree within ``tol``.

    A detection may exist on one side only when its score is within rounding of the
    threshold; every other one has a partner of its class at the same place, with the
    same score, keypoints and (but for a thin edge) mask. Semantic labels differ only
    where two class logits tie within rounding. Returns the ``compare_predictions``
    report.
    """
    rep = compare_predictions(a, b)
    assert rep['unmatched_score_max'] < score_thresh + tol['score'], rep
    assert rep['matched'] >= 1, rep
    assert rep['box_max_abs_px'] <= tol['box_px'], (rep, tol)
    assert rep['score_max_abs'] <= tol['score'], (rep, tol)
    # Mask pixels flip only where the mask logit is within rounding of 0.
    assert rep['mask_iou_min'] > 0.98, rep
    pairs, _ = match_detections(a.boxes, a.scores, a.class_ids, b.boxes, b.scores,
                                b.class_ids)
    ka, kb = a.keypoints[pairs[:, 0]], b.keypoints[pairs[:, 1]]
    used = (ka[..., 2] > 0) | (kb[..., 2] > 0)  # the slots of each class's schema
    assert (ka[..., 2] > 0).sum() == used.sum() == (kb[..., 2] > 0).sum()
    if used.any():
        assert np.abs(ka[..., :2] - kb[..., :2])[used].max() <= tol['keypoint_px'], tol
        assert np.abs(ka[..., 2] - kb[..., 2])[used].max() <= tol['score'], tol
    assert (a.semantic == b.semantic).mean() > 0.999
    return rep
