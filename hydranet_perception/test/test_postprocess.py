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


"""Postprocessing on hand-made tensors with answers worked out by hand; letterbox maths."""

import math

from hydranet_perception.data.transforms import letterbox_params
from hydranet_perception.postprocess import anchors_for, boxes_to_input, boxes_to_original, \
    decode_boxes, keypoints_to_input, keypoints_to_original, labels_to_size, letterbox, \
    letterbox_info, map_to_original, mask_to_input, mask_to_original, nms, panoptic_fusion, \
    postprocess, select_candidates, warp_to_original, working_info
from hydranet_perception.postprocess.masks import mask_logits, pixels_in_box
from hydranet_perception.postprocess.pipeline import argmax_planes
from hydranet_perception.schema import default_label_space
import numpy as np
import pytest
import torch
from torchvision.ops import batched_nms

torch.set_num_threads(1)
LS = default_label_space()


def inv_softplus(d: float) -> float:
    return math.log(math.expm1(d))


def test_decode_boxes_by_hand():
    anchors = np.array([[4.0, 4.0, 8.0], [24.0, 8.0, 16.0]], np.float32)
    raw = np.array([[inv_softplus(1), inv_softplus(1), inv_softplus(2), inv_softplus(2)],
                    [inv_softplus(0.5)] * 4], np.float32)
    want = [[-4.0, -4, 20, 20], [16, 0, 32, 16]]
    boxes = decode_boxes(raw, anchors)
    assert isinstance(boxes, np.ndarray) and boxes.dtype == np.float32
    np.testing.assert_allclose(boxes, want, atol=1e-5)
    # Tensors in, tensors out (for callers holding tensors).
    t = decode_boxes(torch.from_numpy(raw), anchors)
    assert torch.is_tensor(t) and torch.allclose(t, torch.tensor(want), atol=1e-5)


def test_candidates_and_class_aware_nms_by_hand():
    # logits of 5 anchors over 2 classes; anchor 4 is below the threshold.
    p = np.array([[0.9, 0.1], [0.8, 0.2], [0.1, 0.7], [0.3, 0.05], [0.2, 0.1]], np.float32)
    logits = np.log(p / (1 - p))
    idx, scores, ch = select_candidates(logits, score_thresh=0.25)
    assert idx.tolist() == [0, 1, 2, 3]
    assert ch.tolist() == [0, 0, 1, 0]
    np.testing.assert_allclose(scores, [0.9, 0.8, 0.7, 0.3], rtol=1e-6)
    boxes = np.array([[0.0, 0, 10, 10], [1, 1, 11, 11], [1, 1, 11, 11], [50, 50, 60, 60]],
                     np.float32)
    # IoU(box 0, box 1) = 81 / 119 = 0.68: same class -> suppressed; box 2 is another class.
    keep = nms(boxes[idx], scores, ch, iou_thresh=0.5)
    assert keep.tolist() == [0, 2, 3]
    assert nms(boxes[idx], scores, ch, iou_thresh=0.5, class_agnostic=True).tolist() == [0, 3]
    assert nms(boxes[idx], scores, ch, iou_thresh=0.7).tolist() == [0, 1, 2, 3]
    assert nms(boxes[idx], scores, ch, iou_thresh=0.5, max_det=2).tolist() == [0, 2]
    idx, _, _ = select_candidates(logits, score_thresh=0.25, pre_nms_topk=2)
    assert idx.tolist() == [0, 1]
    assert nms(np.zeros((0, 4)), np.zeros(0), np.zeros(0), iou_thresh=0.5).shape == (0,)


@pytest.mark.parametrize('seed', range(6))
def test_nms_matches_torchvision_batched_nms(seed):
    # Integer corners: both implementations then compute every IoU from exactly the
    # same float32 values (torchvision's class offsets stay exact below 2^24), so the
    # kept boxes must be the same, in the same order. Scores on a few levels make many
    # ties, which both break by index (a stable sort by decreasing score); some
    # boxes are degenerate (zero width or height).
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 300))
    xy = rng.integers(0, 96, (m, 2))
    wh = rng.integers(0, 40, (m, 2)) * (rng.random((m, 1)) > 0.05)
    boxes = np.concatenate([xy, xy + wh], 1).astype(np.float32)
    scores = (rng.integers(1, 6, m) / 8).astype(np.float32)
    classes = rng.integers(0, 4, m).astype(np.int64)
    for iou in (0.3, 0.5, 0.7):
        for agnostic in (False, True):
            groups = np.zeros_like(classes) if agnostic else classes
            want = batched_nms(torch.from_numpy(boxes), torch.from_numpy(scores),
                               torch.from_numpy(groups), iou).numpy()
            got = nms(boxes, scores, classes, iou_thresh=iou, max_det=10 ** 6,
                      class_agnostic=agnostic)
            assert got.dtype == np.int64
            np.testing.assert_array_equal(got, want)
            np.testing.assert_array_equal(nms(boxes, scores, classes, iou_thresh=iou,
                                              max_det=7, class_agnostic=agnostic), want[:7])


def _torch_reference(outputs, info, *, score_thresh=0.25, nms_iou=0.6, max_det=100):
    """Compute detections as the torch postprocess did before it moved to numpy."""
    from hydranet_perception.coder import torch_ops
    t = {k: torch.from_numpy(v) for k, v in outputs.items()}
    scores, channels = t['detect_cls'][0].sigmoid().max(-1)
    idx = torch.nonzero(scores > score_thresh).reshape(-1)
    idx = idx[scores[idx].argsort(descending=True, stable=True)[:1000]]
    scores, channels = scores[idx], channels[idx]
    boxes = torch_ops.decode_boxes(t['detect_box'][0][idx], t['detect_anchors'][idx])
    keep = batched_nms(boxes, scores, channels, nms_iou)[:max_det]
    idx, scores, channels = idx[keep], scores[keep], channels[keep]
    xy, vis = torch_ops.decode_keypoints(t['keypoints'][0][idx], t['detect_anchors'][idx])
    _, used = torch_ops.keypoint_tables(LS)
    kp = torch.cat([xy, vis[..., None]], -1) * used[channels][..., None].float()
    p, h, w = t['masks_protos'][0].shape
    logits = (t['masks_coef'][0][idx] @ t['masks_protos'][0].reshape(p, -1)).reshape(-1, h, w)
    return (boxes_to_original(boxes[keep], info).numpy(), scores.numpy(),
            np.asarray(LS.thing_ids)[channels.numpy()], kp.numpy(), logits.numpy())


def _iou(a, b):
    w = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0],
                                                                      b[None, :, 0]), 0, None)
    h = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1],
                                                                      b[None, :, 1]), 0, None)
    area = lambda x: (x[:, 2] - x[:, 0]) * (x[:, 3] - x[:, 1])  # noqa: E731
    return w * h / (area(a)[:, None] + area(b)[None, :] - w * h)


@pytest.mark.parametrize('seed', range(3))
def test_pipeline_matches_torch_reference(seed):
    rng = np.random.default_rng(seed)
    info = letterbox_info((48, 80), (64, 96))
    anchors = anchors_for(64, 96)
    a, t, k, p = anchors.shape[0], LS.num_things, LS.max_keypoints, 4
    out = {'detect_cls': rng.normal(-3, 2.5, (1, a, t)).astype(np.float32),
           'detect_box': rng.normal(0, 1, (1, a, 4)).astype(np.float32),
           'detect_anchors': anchors,
           'keypoints': rng.normal(0, 2, (1, a, k, 3)).astype(np.float32),
           'masks_coef': rng.normal(0, 1, (1, a, p)).astype(np.float32),
           'masks_protos': rng.normal(0, 1, (1, p, 16, 24)).astype(np.float32)}
    boxes, scores, classes, kp_in, logits = _torch_reference(out, info)
    (pred,) = postprocess(out, info, label_space=LS)
    assert len(pred) == len(boxes) > 3
    # Match by class and IoU (never by row: scores may tie), then compare the values.
    iou = _iou(pred.boxes, boxes) * (pred.class_ids[:, None] == classes[None, :])
    j = iou.argmax(1)
    assert sorted(j.tolist()) == list(range(len(boxes))) and (iou.max(1) > 0.999).all()
    # float32 decoding: a few ulps of the coordinates (< 100 pixels) and scores.
    np.testing.assert_allclose(pred.boxes, boxes[j], atol=1e-4)
    np.testing.assert_allclose(pred.scores, scores[j], rtol=1e-6, atol=1e-7)
    kp_want = keypoints_to_original(kp_in[j], info, clip=True) * (kp_in[j][..., 2:] > 0)
    np.testing.assert_allclose(pred.keypoints, kp_want, atol=1e-4)
    # Masks: the same resampling of logits that agree to float32 dot-product rounding
    # (P terms), so a pixel may differ only where its logit is that close to 0.
    bound = 2 * p * np.finfo(np.float32).eps * float(
        np.abs(out['masks_coef']).max() * np.abs(out['masks_protos']).max())
    h0, w0 = info.orig_size
    for i in range(len(pred)):
        r0, r1, c0, c1 = pixels_in_box(pred.boxes[i], (h0, w0))
        (m,) = warp_to_original(logits[j[i]][None], info, window=(r0, r1, c0, c1))
        diff = pred.masks[i, r0:r1, c0:c1] != (m > 0)
        assert (np.abs(m[diff]) <= bound).all()
        assert not pred.masks[i].sum() - pred.masks[i, r0:r1, c0:c1].sum()


def test_mask_logits_match_torch():
    rng = np.random.default_rng(0)
    coef = rng.normal(0, 1, (5, 8)).astype(np.float32)
    protos = rng.normal(0, 1, (8, 6, 7)).astype(np.float32)
    want = (torch.from_numpy(coef) @ torch.from_numpy(protos).reshape(8, -1)).reshape(5, 6, 7)
    # Each logit is a dot product of 8 terms: float32 error <= 8 eps sum |c p|.
    bound = 8 * np.finfo(np.float32).eps * (np.abs(coef) @ np.abs(protos).reshape(8, -1))
    got = mask_logits(coef, protos)
    assert got.dtype == np.float32
    assert (np.abs(got - want.numpy()).reshape(5, -1) <= bound).all()


def test_panoptic_fusion_by_hand():
    # 4 x 6 image: stuff floor (0) below, wall (1) above; a void pixel; things 3 and 5.
    sem = np.array([[1, 1, 1, 1, 1, 1],
                    [1, 1, 1, 1, 3, 3],
                    [0, 0, 0, 0, 3, 3],
                    [0, 0, 0, 0, 0, 255]])
    m = np.zeros((4, 4, 6), bool)
    m[0, 1:3, 0:3] = True  # score .6: covered by instance 1 for 4 of 6 pixels -> dropped
    m[1, 1:3, 1:4] = True  # score .9: painted first
    m[2, 0:2, 4:6] = True  # score .8, fully visible
    m[3, 3, 0] = True      # score .1, under the 0.2 score threshold
    pan, segs, ids = panoptic_fusion(sem, m, [0.6, 0.9, 0.8, 0.1], [3, 5, 3, 5],
                                     stuff_ids=[0, 1, 2], min_visible_fraction=0.5,
                                     min_stuff_area=3, score_thresh=0.2)
    # Instance 1 (.9) -> segment 1, instance 2 (.8) -> segment 2, instance 0 keeps 2 of
    # 6 pixels -> dropped, instance 3 is under the score threshold; then floor takes its
    # 6 free pixels (segment 3) and wall its 5 (segment 4); the uncovered thing-class
    # pixels (2, 4), (2, 5) and the void pixel stay 0.
    want = [[4, 4, 4, 4, 2, 2],
            [4, 1, 1, 1, 2, 2],
            [3, 1, 1, 1, 0, 0],
            [3, 3, 3, 3, 3, 0]]
    assert pan.tolist() == want and pan.dtype == np.int32
    assert [(s.id, s.class_id, s.is_thing, s.area, s.instance_index) for s in segs] == [
        (1, 5, True, 6, 1), (2, 3, True, 4, 2), (3, 0, False, 6, -1), (4, 1, False, 5, -1)]
    assert ids.tolist() == [0, 1, 2, 0]
    # every pixel is exactly one segment or void; a larger minimum drops the wall
    pan, segs, _ = panoptic_fusion(sem, m, [0.6, 0.9, 0.8, 0.1], [3, 5, 3, 5],
                                   stuff_ids=[0, 1, 2], min_stuff_area=6, score_thresh=0.2)
    assert [s.class_id for s in segs] == [5, 3, 0] and (pan[0, :4] == 0).all()
    # a lower visibility requirement keeps instance 0's two free pixels
    _, segs, ids = panoptic_fusion(sem, m, [0.6, 0.9, 0.8, 0.1], [3, 5, 3, 5],
                                   stuff_ids=[0, 1, 2], min_visible_fraction=0.3,
                                   min_stuff_area=3, score_thresh=0.2)
    assert ids.tolist() == [3, 1, 2, 0] and segs[2].area == 2


@pytest.mark.parametrize('size', [(479, 641), (100, 300), (300, 100), (480, 640), (31, 17)])
def test_letterbox_round_trip(size):
    h, w = size
    info = letterbox_info((h, w), (480, 640))
    assert (info.resized, info.offset) == letterbox_params((h, w), (480, 640))
    rng = np.random.default_rng(h * w)
    boxes = np.sort(rng.uniform(0, [w, h, w, h], (20, 4)).reshape(20, 2, 2), axis=1)
    boxes = boxes.transpose(0, 2, 1).reshape(20, 4)[:, [0, 2, 1, 3]].astype(np.float64)
    back = boxes_to_original(boxes_to_input(boxes, info), info)
    np.testing.assert_allclose(back, boxes, atol=1e-9)
    kps = np.concatenate([rng.uniform(0, [w, h], (20, 5, 2)), rng.uniform(0, 1, (20, 5, 1))],
                         -1)
    np.testing.assert_allclose(keypoints_to_original(keypoints_to_input(kps, info), info),
                               kps, atol=1e-9)
    # Torch tensors go the same way, and the corners land on the resized image's edges.
    corners = torch.tensor([[0.0, 0.0, w, h]], dtype=torch.float64)
    (nh, nw), (oy, ox) = info.resized, info.offset
    assert torch.allclose(boxes_to_input(corners, info),
                          torch.tensor([[ox, oy, ox + nw, oy + nh]], dtype=torch.float64))
    # A mask letterboxed (nearest) and mapped back is the same mask when the letterbox
    # enlarges; when it shrinks (479 x 641 -> 478 x 640) a dropped row or column can
    # only change pixels on the mask's border.
    yy, xx = np.mgrid[:h, :w]
    disk = ((xx + 0.5 - w / 3) ** 2 + (yy + 0.5 - h / 2) ** 2) < (min(h, w) / 3) ** 2
    rect = np.zeros((h, w), bool)
    rect[h // 4:h // 2 + 1, w // 5:w - 2] = True
    masks = np.stack([disk, rect])
    net = mask_to_input(masks, info)
    assert net.shape == (2, 480, 640) and not net[:, :oy].any() and not net[:, :, :ox].any()
    back = mask_to_original(net, info)
    if min(info.scale) >= 1:
        np.testing.assert_array_equal(back, masks)
    else:
        diff = back != masks
        pad = np.pad(masks, ((0, 0), (1, 1), (1, 1)), mode='edge')
        border = np.zeros_like(masks)
        for dy, dx in ((0, 1), (2, 1), (1, 0), (1, 2)):
            border |= pad[:, dy:dy + h, dx:dx + w] != masks
        assert (diff <= border).all() and diff.sum() < 0.01 * masks.sum()


def test_letterbox_image_placement():
    img = np.full((100, 300, 3), 200, np.uint8)
    x, info = letterbox(img, (480, 640))
    (nh, nw), (oy, ox) = info.resized, info.offset
    assert x.shape == (3, 480, 640) and x.dtype == torch.float32
    assert (nh, nw, oy, ox) == (213, 640, 133, 0)
    assert torch.allclose(x[:, oy:oy + nh, ox:ox + nw], torch.tensor(200 / 255))
    assert torch.allclose(x[:, :oy], torch.tensor(114 / 255))
    assert torch.allclose(x[:, oy + nh:], torch.tensor(114 / 255))
    with pytest.raises(ValueError, match='RGB'):
        letterbox(np.zeros((10, 10), np.uint8), (32, 32))


def _hand_outputs():
    """One confident 'instrument' at anchor 35 of a 64 x 64 input (see the test)."""
    anchors = anchors_for(64, 64)
    a = anchors.shape[0]
    cls = torch.full((1, a, 3), -10.0)
    cls[0, 35, 1] = 4.0  # channel 1 = instrument
    box = torch.zeros(1, a, 4)
    box[0, 35] = torch.tensor([inv_softplus(1), inv_softplus(1), inv_softplus(1),
                               inv_softplus(0.5)])
    kpt = torch.full((1, a, 17, 3), 3.0)  # slots 4..16 are not the instrument's: zeroed
    kpt[0, 35, :4] = torch.tensor([[1.0, -0.5, 5.0], [0, 0, -5.0], [0, 0, 0], [0, 0, 0]])
    coef = torch.zeros(1, a, 1)
    coef[0, 35, 0] = 1.0
    protos = torch.full((1, 1, 16, 16), -10.0)
    protos[..., :8] = 10.0  # positive left of input x = 32
    sem = torch.zeros(1, 6, 16, 16)
    sem[:, 1] = 5.0  # wall everywhere
    return {'detect_cls': cls, 'detect_box': box, 'detect_anchors': anchors,
            'keypoints': kpt, 'masks_coef': coef, 'masks_protos': protos, 'semantic': sem}


def test_pipeline_by_hand():
    # Original 32 x 64 image in a 64 x 64 input: scale 1, offset (16, 0).
    info = letterbox_info((32, 64), (64, 64))
    assert (info.resized, info.offset) == ((32, 64), (16, 0))
    (pred,) = postprocess(_hand_outputs(), info, label_space=LS, score_thresh=0.5)
    # Anchor 35: row 4, column 3 of stride 8 -> centre (28, 36); distances 8, 8, 8, 4
    # -> input box (20, 28, 36, 40) -> original (20, 12, 36, 24).
    np.testing.assert_allclose(pred.boxes, [[20, 12, 36, 24]], atol=1e-4)
    assert pred.class_ids.tolist() == [4]
    np.testing.assert_allclose(pred.scores, [1 / (1 + math.exp(-4))], rtol=1e-6)
    # Keypoint 0: (28 + 8, 36 - 4) -> original (36, 16); keypoint 1 at the centre.
    kp = pred.keypoints[0]
    np.testing.assert_allclose(kp[0], [36, 16, 1 / (1 + math.exp(-5))], rtol=1e-5)
    np.testing.assert_allclose(kp[1], [28, 20, 1 / (1 + math.exp(5))], rtol=1e-5)
    np.testing.assert_allclose(kp[2], [28, 20, 0.5], rtol=1e-5)
    assert (kp[4:] == 0).all()
    # Mask: inside the box, left of input x = 32 (the logits change sign between pixel
    # centres 31.5 and 32.5): columns 20..31, rows 12..23.
    want = np.zeros((32, 64), bool)
    want[12:24, 20:32] = True
    assert pred.masks.shape == (1, 32, 64)
    np.testing.assert_array_equal(pred.masks[0], want)
    assert (pred.semantic == 1).all()
    assert pred.panoptic[12:24, 20:32].tolist() == [[1] * 12] * 12
    assert (pred.panoptic[~want] == 2).all()
    segments = [(s.id, s.class_id, s.area) for s in pred.segments]
    assert segments == [(1, 4, 144), (2, 1, 32 * 64 - 144)]
    assert pred.instance_ids.tolist() == [1]


def test_pipeline_task_subsets():
    info = letterbox_info((32, 64), (64, 64))
    out = _hand_outputs()
    (sem_only,) = postprocess({'semantic': out['semantic']}, [info], label_space=LS)
    assert len(sem_only) == 0 and sem_only.masks is None and sem_only.keypoints is None
    assert [s.class_id for s in sem_only.segments] == [1]
    det = {k: v for k, v in out.items() if k.startswith('detect') or k == 'semantic'}
    (p,) = postprocess(det, [info], label_space=LS)
    assert len(p) == 1 and p.masks is None and p.instance_ids.tolist() == [0]
    (p,) = postprocess({k: v for k, v in out.items() if k != 'semantic'}, [info],
                       label_space=LS)
    assert p.semantic is None and p.panoptic is None and p.masks.shape == (1, 32, 64)
    (p,) = postprocess(out, [info], label_space=LS, score_thresh=0.99)
    assert len(p) == 0 and p.masks.shape == (0, 32, 64) and p.keypoints.shape == (0, 17, 3)


@pytest.mark.parametrize('orig, inp', [((480, 640), (256, 320)), ((100, 300), (64, 96)),
                                       ((37, 53), (64, 64)), ((720, 1280), (384, 640))])
def test_opencv_resampling_matches_grid_sample(orig, inp):
    info = letterbox_info(orig, inp)
    gen = torch.Generator().manual_seed(0)
    maps = torch.randn((3, inp[0] // 4, inp[1] // 4), generator=gen)
    h, w = orig
    for window in (None, (h // 3, h // 3 + 7, w // 2, w - 1)):
        want = map_to_original(maps, info, window=window).numpy()
        got = np.stack(warp_to_original(maps.numpy(), info, window=window))
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, atol=1e-4)  # measured: <= 1.5e-5


def test_working_grid_and_label_enlargement():
    info = letterbox_info((480, 640), (256, 320))
    work = working_info(info)
    assert work.orig_size == (240, 320) and work.scale == (1.0, 1.0)
    small = letterbox_info((100, 120), (256, 320))  # enlarged into the input
    assert working_info(small).orig_size == (100, 120)
    labels = np.arange(12, dtype=np.uint8).reshape(3, 4)
    big = labels_to_size(labels, (6, 8))
    np.testing.assert_array_equal(big, labels.repeat(2, 0).repeat(2, 1))
    odd = labels_to_size(labels, (7, 5))  # pixel centres: floor((y + 0.5) * 3 / 7) ...
    rows = np.floor((np.arange(7) + 0.5) * 3 / 7).astype(int)
    cols = np.floor((np.arange(5) + 0.5) * 4 / 5).astype(int)
    np.testing.assert_array_equal(odd, labels[rows][:, cols])


def test_argmax_planes_matches_argmax_with_ties():
    rng = np.random.default_rng(0)
    planes = rng.integers(0, 4, size=(6, 20, 30)).astype(np.float32)  # many ties
    got = argmax_planes(list(planes))
    np.testing.assert_array_equal(got, planes.argmax(0))
    with pytest.raises(ValueError):
        argmax_planes([])


def test_panoptic_fusion_windows_from_boxes_equal_full_scan():
    rng = np.random.default_rng(1)
    h, w, n = 40, 50, 6
    masks = np.zeros((n, h, w), bool)
    boxes = np.zeros((n, 4), np.float32)
    for i in range(n):
        x0, y0 = rng.integers(0, w - 10), rng.integers(0, h - 10)
        x1, y1 = x0 + rng.integers(3, 10), y0 + rng.integers(3, 10)
        masks[i, y0:y1, x0:x1] = rng.random((y1 - y0, x1 - x0)) < 0.8
        boxes[i] = (x0 - 0.3, y0 - 0.7, x1 + 0.2, y1 + 0.6)
    sem = rng.integers(0, 6, size=(h, w)).astype(np.uint8)
    sem[:3] = 255
    args = (sem, masks, rng.random(n), rng.integers(3, 6, n))
    kw = {'stuff_ids': LS.stuff_ids, 'min_stuff_area': 5}
    pan_a, seg_a, ids_a = panoptic_fusion(*args, boxes=boxes, **kw)
    pan_b, seg_b, ids_b = panoptic_fusion(*args, **kw)
    np.testing.assert_array_equal(pan_a, pan_b)
    np.testing.assert_array_equal(ids_a, ids_b)
    assert seg_a == seg_b
    # Many stuff classes take the histogram path: the same answer.
    many = dict(kw, stuff_ids=list(LS.stuff_ids) + list(range(100, 110)))
    pan_c, seg_c, _ = panoptic_fusion(*args, boxes=boxes, **many)
    np.testing.assert_array_equal(pan_a, pan_c)
    assert seg_a == seg_c
    # Every segment's area is its pixel count, and void stays 0.
    for s in seg_a:
        assert s.area == int((pan_a == s.id).sum())
    assert (pan_a[:3][~np.isin(pan_a[:3], [s.id for s in seg_a if s.is_thing])] == 0).all()
    with pytest.raises(ValueError, match='0..255'):
        panoptic_fusion(sem.astype(np.int64) + 300, masks, *args[2:], **kw)
