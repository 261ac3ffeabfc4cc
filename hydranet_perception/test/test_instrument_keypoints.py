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
The instrument's tip can be told from its handles: a tiny HydraNet learns which end is which.

Two 128 x 160 images hold the same rendered instrument (``data/shapes.py``), the second
turned by 180 degrees about the centre of its box: both have the same box, the same
mask extent and the same anchors, so only the look of the two ends (jaws at the tip,
finger rings at the handles) tells where the tip is.  A model that cannot tell them
apart can at best put the tip at the box centre in both images (the mean of the two
answers), half the tip-to-handles length from either truth.  After 200 float32 steps
on one thread (and batch-norm statistics set from the two images) the predicted tip
must be nearer its own truth than the mirrored one and within a quarter of that
length of it, in both images (measured: 1.4 and 0.9 px, against 90 px from the
mirrored truth).  Without the batch-norm step the eval-mode model of this short run
gives both images the same keypoints: its running statistics lag the weights.

The evaluation scores a class with the data set's OKS sigmas, whatever the model's
checkpoint says, so that two checkpoints are compared on one metric.
"""

from determinism import deterministic_cpu
from hydranet_perception.data.shapes import draw_thing, Thing
from hydranet_perception.engine.evaluate import _oks_sigmas
from hydranet_perception.losses import build_balancer, compute_losses
from hydranet_perception.model import build_model, ModelConfig
from hydranet_perception.postprocess.decode import decode_keypoints
from hydranet_perception.schema import default_label_space, KeypointSchema, LabelSpace
import numpy as np
import torch

H, W = 128, 160
LS = default_label_space()
K = LS.max_keypoints
INSTRUMENT = LS.by_name('instrument').id
STEPS = 200


def _instrument(joint, angle):
    # params: joint x, y, axis angle (handles -> tip), length, jaw opening, handle spread
    base = np.array([joint[0], joint[1], angle, 90.0, 0.2, 0.8])
    z = np.zeros(6)
    colors = np.array([[180.0, 180.0, 185.0], [40.0, 90.0, 220.0]])
    return Thing('instrument', base, z, z, z, colors)


def _scene(thing):
    img = np.zeros((H, W, 3), np.uint8)
    img[:] = (200, 200, 150)
    idmap = np.zeros((H, W), np.uint8)
    kp = draw_thing(thing, 0.0, img, idmap, 1)
    mask = idmap == 1
    ys, xs = np.nonzero(mask)
    box = [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
    sem = np.full((H, W), LS.by_name('wall').id, np.int64)
    sem[mask] = INSTRUMENT
    kps = np.zeros((1, K, 3), np.float32)
    kps[0, :4, :2] = kp
    kps[0, :4, 2] = [2 if idmap[int(y), int(x)] == 1 else 1 for x, y in kp]
    target = {'boxes': torch.tensor([box], dtype=torch.float32),
              'labels': torch.tensor([INSTRUMENT]), 'keypoints': torch.tensor(kps),
              'masks': torch.tensor(mask[None].astype(np.uint8)),
              'semantic': torch.tensor(sem)}
    return torch.tensor(img).permute(2, 0, 1).float() / 255.0, target


def _pair():
    first = _instrument((70.0, 50.0), 0.5)
    image0, target0 = _scene(first)
    x1, y1, x2, y2 = target0['boxes'][0].tolist()
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    turned = _instrument((2 * cx - 70.0, 2 * cy - 50.0), 0.5 + np.pi)
    image1, target1 = _scene(turned)
    return torch.stack([image0, image1]), [target0, target1]


def _recalibrate_batch_norm(model, images):
    """
    Set every batch norm's running statistics to those of ``images``.

    A short, fast-moving training leaves the running averages behind the weights (they
    follow with momentum 0.03), and the model in eval mode is then another model; real
    training runs thousands of steps more slowly and does not need this.
    """
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average: one batch sets it
    model.train()
    with torch.no_grad():
        model(images)


def _tips(model, images, targets):
    """Return Tensor[2, 2], the tip of the best-scoring instrument anchor in each box."""
    _recalibrate_batch_norm(model, images)
    model.eval()
    with torch.no_grad():
        out = model(images)
    model.train()
    anchors = out['detect_anchors']
    ch = LS.thing_index(INSTRUMENT)
    tips = []
    for b, tgt in enumerate(targets):
        x1, y1, x2, y2 = tgt['boxes'][0].tolist()
        inside = ((anchors[:, 0] > x1) & (anchors[:, 0] < x2) & (anchors[:, 1] > y1)
                  & (anchors[:, 1] < y2))
        a = int(out['detect_cls'][b][:, ch].masked_fill(~inside, float('-inf')).argmax())
        xy, _ = decode_keypoints(out['keypoints'][b][a:a + 1], anchors[a:a + 1])
        tips.append(xy[0, 0])
    return torch.stack(tips)


def test_the_pair_differs_only_in_which_end_is_where():
    images, targets = _pair()
    b0, b1 = targets[0]['boxes'][0], targets[1]['boxes'][0]
    assert float((b0 - b1).abs().max()) <= 1.0, (b0, b1)  # rasterisation: a pixel at most
    tip0, tip1 = targets[0]['keypoints'][0, 0, :2], targets[1]['keypoints'][0, 0, :2]
    centre = (b0[:2] + b0[2:]) / 2
    assert float((tip0 + tip1 - 2 * centre).abs().max()) <= 1.0  # mirrored about the centre
    assert float((tip0 - tip1).norm()) > 40.0


def test_tip_is_learned_from_appearance():
    with deterministic_cpu():
        _learn_tips()


def _learn_tips():
    torch.manual_seed(0)
    images, targets = _pair()
    cfg = ModelConfig(size='n', input_size=(H, W), heads=('detect', 'keypoints'))
    model = build_model(cfg)
    balancer = build_balancer('fixed', tasks=cfg.heads)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.0)
    truth = torch.stack([t['keypoints'][0, 0, :2] for t in targets])
    handles = torch.stack([t['keypoints'][0, 2:4, :2].mean(0) for t in targets])
    length = float((truth - handles).norm(dim=1).min())
    before = _tips(model, images, targets)
    for _ in range(STEPS):
        outputs = model(images, tasks=list(cfg.heads))
        total, _ = compute_losses(outputs, targets, cfg=cfg, balancer=balancer)
        opt.zero_grad()
        total.backward()
        opt.step()
    after = _tips(model, images, targets)
    err = (after - truth).norm(dim=1)
    err_mirrored = (after - truth.flip(0)).norm(dim=1)
    print(f'tip-to-handles length {length:.1f} px; tips before {before.tolist()}, after '
          f'{after.tolist()}, truth {truth.tolist()}; error {err.tolist()} px, to the '
          f'mirrored truth {err_mirrored.tolist()} px')
    assert bool((err < err_mirrored).all()), (err, err_mirrored)
    assert bool((err < 0.25 * length).all()), (err, length)


def test_evaluation_scores_with_the_data_sets_sigmas():
    old = KeypointSchema(name='instrument', keypoints=('tip', 'joint', 'handle_left',
                                                       'handle_right'),
                         sigmas=(0.025, 0.035, 0.05, 0.05))
    model_ls = LabelSpace.from_names(stuff=('wall',), things=('instrument',),
                                     schemas={'instrument': old})
    model_class = model_ls.by_name('instrument')
    assert _oks_sigmas(model_class, LS) == LS.by_name('instrument').keypoint_schema.sigmas
    other = LabelSpace.from_names(stuff=('wall',), things=('tool',))
    assert _oks_sigmas(model_class, other) == old.sigmas  # the data has no such schema
