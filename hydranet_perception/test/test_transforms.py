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

"""Joint geometric transforms keep boxes, masks, semantic maps and keypoints together."""

from hydranet_perception.data.datasets import make_target, SyntheticDataset
from hydranet_perception.data.transforms import (
    Compose, Letterbox, letterbox_params, RandomHorizontalFlip, train_transforms)
from hydranet_perception.schema import default_label_space, VOID
import numpy as np
import pytest
import torch

LS = default_label_space()
PERSON, INSTRUMENT, BOX = (LS.by_name(n).id for n in ('person', 'instrument', 'box'))


def _sample(h, w, rects, labels, kps):
    """Rectangle instances (x1, y1, x2, y2) with given keypoints [N, K, 3]."""
    masks = np.zeros((len(rects), h, w), np.uint8)
    sem = np.full((h, w), 0, np.uint8)
    sem[: h // 3] = VOID
    for i, (x1, y1, x2, y2) in enumerate(rects):
        masks[i, y1:y2, x1:x2] = 1
        sem[y1:y2, x1:x2] = labels[i]
    image = torch.rand((3, h, w), generator=torch.Generator().manual_seed(0))
    t = make_target(boxes=np.array(rects, np.float32), labels=np.array(labels), masks=masks,
                    keypoints=np.array(kps, np.float32), semantic=sem, image_id=3)
    return image, t


def _person_and_instrument(h, w):
    k = LS.max_keypoints
    kp = np.zeros((2, k, 3), np.float32)
    # person keypoints on pixel centres (and quarter pixels) inside its rectangle
    for j in range(17):
        kp[0, j] = (4.5 + j + 0.25 * (j % 2), 6.5 + (j % 5), 2 if j % 3 else 1)
    kp[1, :4] = [(30.5, 3.5, 2), (28.25, 4.5, 2), (25.5, 2.5, 1), (25.5, 7.5, 2)]
    return _sample(h, w, [(3, 5, 24, 14), (24, 1, 33, 10)], [PERSON, INSTRUMENT], kp)


def test_flip_swaps_left_right_and_mirrors_exactly():
    h, w = 17, 41
    image, t = _person_and_instrument(h, w)
    fi, ft = RandomHorizontalFlip(LS, p=1.0)(image, t)
    assert torch.equal(fi, image.flip(-1))
    assert torch.equal(ft['masks'], t['masks'].flip(-1))
    assert torch.equal(ft['semantic'], t['semantic'].flip(-1))
    assert ft['boxes'].tolist() == [[w - 24, 5, w - 3, 14], [w - 33, 1, w - 24, 10]]
    names = LS.by_name('person').keypoint_schema.keypoints
    src, dst = t['keypoints'], ft['keypoints']
    for j, name in enumerate(names):
        other = name.replace('left', 'right') if 'left' in name else name.replace('right', 'left')
        jj = names.index(other)
        assert dst[0, jj].tolist() == [w - src[0, j, 0].item(), src[0, j, 1].item(),
                                       src[0, j, 2].item()]
    assert names.index('left_shoulder') == 5 and dst[0, 6, 0] == w - src[0, 5, 0]
    inst = LS.by_name('instrument').keypoint_schema.keypoints
    assert inst == ('tip', 'joint', 'handle_left', 'handle_right')
    assert dst[1, 0].tolist() == [w - 30.5, 3.5, 2] and dst[1, 1].tolist() == [w - 28.25, 4.5, 2]
    assert dst[1, 2].tolist() == [w - 25.5, 7.5, 2] and dst[1, 3].tolist() == [w - 25.5, 2.5, 1]
    assert not dst[1, 4:].any()
    # flipping twice is the identity, bit for bit
    bi, bt = RandomHorizontalFlip(LS, p=1.0)(fi, ft)
    assert torch.equal(bi, image)
    for key in ('boxes', 'masks', 'keypoints', 'semantic', 'labels'):
        assert torch.equal(bt[key], t[key]), key
    # p = 0 never flips
    same, st = RandomHorizontalFlip(LS, p=0.0)(image, t)
    assert same is image and st is t


@pytest.mark.parametrize('hw,size', [((17, 41), (64, 96)), ((37, 53), (32, 64)),
                                     ((61, 43), (96, 64))])
def test_letterbox_on_odd_sizes_keeps_everything_consistent(hw, size):
    h, w = hw
    image, t = _person_and_instrument(h, w)
    (nh, nw), (oy, ox) = letterbox_params((h, w), size)
    out, lt = Letterbox(size)(image, t)
    assert out.shape == (3,) + size and lt['masks'].shape == (2,) + size
    assert lt['semantic'].shape == size and lt['semantic'].dtype == torch.int64
    sx, sy, dx, dy = lt['letterbox'].tolist()
    assert (sx, sy, dx, dy) == pytest.approx((nw / w, nh / h, ox, oy))
    # boxes are the scaled rectangles; masks fill them to within half a pixel
    for i in range(2):
        x1, y1, x2, y2 = lt['boxes'][i].tolist()
        ref = t['boxes'][i].tolist()
        assert [x1, y1, x2, y2] == pytest.approx(
            [ref[0] * sx + dx, ref[1] * sy + dy, ref[2] * sx + dx, ref[3] * sy + dy], abs=1e-4)
        ys, xs = torch.nonzero(lt['masks'][i], as_tuple=True)
        assert abs(xs.min() - x1) <= 0.5 and abs(xs.max() + 1 - x2) <= 0.5
        assert abs(ys.min() - y1) <= 0.5 and abs(ys.max() + 1 - y2) <= 0.5
        assert (lt['semantic'][lt['masks'][i] > 0] == t['labels'][i]).all()
    # keypoints scale with the image and stay on their instance
    kp, src = lt['keypoints'], t['keypoints']
    vis = src[..., 2] > 0
    assert torch.allclose(kp[..., 0][vis], src[..., 0][vis] * sx + dx)
    assert torch.allclose(kp[..., 1][vis], src[..., 1][vis] * sy + dy)
    assert torch.equal(kp[..., 2], src[..., 2])
    for i, j in zip(*torch.nonzero(vis, as_tuple=True)):
        x, y = kp[i, j, :2].tolist()
        assert lt['masks'][i, int(y), int(x)] == 1
    # the padding is void in the semantic map and grey in the image
    if oy > 0:
        assert (lt['semantic'][:oy] == VOID).all()
        assert torch.allclose(out[:, :oy], torch.tensor(114 / 255))
    if ox > 0:
        assert (lt['semantic'][:, :ox] == VOID).all()


def test_scale_jitter_crops_and_drops_outside_keypoints():
    h, w = 17, 41
    image, t = _person_and_instrument(h, w)
    lb = Letterbox((32, 64), scale_range=(3.0, 3.0), generator=torch.Generator().manual_seed(1))
    seen_dropped_kp = False
    for _ in range(6):
        out, lt = lb(image, t)
        assert out.shape == (3, 32, 64)
        n = len(lt['labels'])
        assert lt['boxes'].shape == (n, 4) and lt['masks'].shape == (n, 32, 64)
        b = lt['boxes']
        assert (b[:, 0] >= 0).all() and (b[:, 2] <= 64).all() and (b[:, 3] <= 32).all()
        kp = lt['keypoints']
        v0 = kp[..., 2] == 0
        assert not kp[v0].any()  # v = 0 means x = y = 0
        seen_dropped_kp |= bool(v0[:, :4].any())
        for i in range(n):
            assert lt['masks'][i].any()
            ys, xs = torch.nonzero(lt['masks'][i], as_tuple=True)
            # rectangles stay rectangles: the box is the mask's extent, cut or not
            extent = torch.stack([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]).float()
            assert (b[i] - extent).abs().max() <= 0.5
            for j in torch.nonzero(kp[i, :, 2] > 0)[:, 0]:
                x, y = kp[i, j, :2].tolist()
                assert 0 <= x < 64 and 0 <= y < 32
                assert lt['masks'][i, int(y), int(x)] == 1
    assert seen_dropped_kp


def test_training_pipeline_on_synthetic_scenes():
    torch.manual_seed(0)
    tf = Compose([train_transforms(LS, (64, 96), scale_range=(0.6, 1.4))])
    ds = SyntheticDataset(6, seed=4, height=60, width=80, transforms=tf)
    for i in range(len(ds)):
        image, t = ds[i]
        assert image.shape == (3, 64, 96) and 0 <= image.min() and image.max() <= 1
        kp = t['keypoints']
        for n, j in zip(*torch.nonzero(kp[..., 2] == 2, as_tuple=True)):
            x, y = int(kp[n, j, 0]), int(kp[n, j, 1])
            win = t['masks'][n, max(y - 1, 0):y + 2, max(x - 1, 0):x + 2]
            assert win.any()  # a visible keypoint stays on (or next to) its instance
        assert not kp[kp[..., 2] == 0].any()
        assert set(t['semantic'].unique().tolist()) <= set(range(LS.num_classes)) | {VOID}


@pytest.mark.parametrize('scale_range', [(1.0, 1.0), (0.5, 0.5), (1.8, 1.8)])
def test_letterbox_of_an_image_without_instances(scale_range):
    # Regression: zoomed images with no instances crashed while padding the mask stack.
    img, target = _sample(50, 70, [], [], np.zeros((0, LS.max_keypoints, 3), np.float32))
    out_img, out = Letterbox((64, 96), scale_range=scale_range,
                             generator=torch.Generator().manual_seed(0))(img, target)
    assert out_img.shape == (3, 64, 96)
    assert out['masks'].shape == (0, 64, 96) and out['boxes'].shape == (0, 4)
    assert out['semantic'].shape == (64, 96)
