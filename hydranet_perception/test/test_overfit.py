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


"""A tiny HydraNet overfits two hand-drawn images: every head learns (about 30 s on 2 cores).

Two 128 x 160 images with simple shapes over wall/floor stuff: a person (ellipse, 17
keypoints), an instrument (slanted bar, 4 keypoints) and boxes (rectangles, no
keypoints).  After 250 AdamW steps (bf16 autocast on the CPU), the postprocessed
predictions must find every object with the right class and reach mask IoU > 0.8,
keypoints within a few pixels and a near-perfect semantic map.
"""

import numpy as np
import torch

from hydranet_perception.losses import build_balancer, compute_losses
from hydranet_perception.model import build_model, ModelConfig
from hydranet_perception.postprocess import letterbox_info, postprocess
from hydranet_perception.schema import default_label_space

H, W = 128, 160
LS = default_label_space()
K = LS.max_keypoints
STEPS = 250


def _draw(name, box, xx, yy):
    x1, y1, x2, y2 = box
    inside = (xx >= x1) & (xx < x2) & (yy >= y1) & (yy < y2)
    if name == 'box':
        return inside, (0.9, 0.2, 0.2)
    if name == 'person':
        cx, cy, rx, ry = (x1 + x2) / 2, (y1 + y2) / 2, (x2 - x1) / 2, (y2 - y1) / 2
        return ((xx + 0.5 - cx) / rx) ** 2 + ((yy + 0.5 - cy) / ry) ** 2 <= 1, (0.2, 0.3, 0.9)
    bar = np.abs((yy - y1) - (xx - x1) * (y2 - y1) / (x2 - x1)) < 10
    return inside & bar, (0.1, 0.8, 0.2)


def make_scene(objects):
    """Return (image Tensor[3, H, W], target dict) for [(class name, box), ...]."""
    img = np.zeros((H, W, 3), np.float32)
    sem = np.zeros((H, W), np.int64)
    img[:H // 2], sem[:H // 2] = (0.8, 0.8, 0.9), LS.by_name('wall').id
    img[H // 2:], sem[H // 2:] = (0.5, 0.4, 0.3), LS.by_name('floor').id
    yy, xx = np.mgrid[:H, :W]
    boxes, labels, masks, kps = [], [], [], []
    for name, box in objects:
        cls = LS.by_name(name)
        m, colour = _draw(name, box, xx, yy)
        ys, xs = np.nonzero(m)
        tight = [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
        img[m], sem[m] = colour, cls.id
        kp = np.zeros((K, 3), np.float32)
        if cls.keypoint_schema:
            n = cls.keypoint_schema.num_keypoints
            for i in range(n):
                fx, fy = 0.3 + 0.1 * ((i * 7) % 5), (i + 0.5) / n
                kp[i] = (tight[0] + (tight[2] - tight[0]) * fx,
                         tight[1] + (tight[3] - tight[1]) * fy, 2)
        boxes.append(tight)
        labels.append(cls.id)
        masks.append(m)
        kps.append(kp)
    target = {'boxes': torch.tensor(boxes, dtype=torch.float32),
              'labels': torch.tensor(labels), 'keypoints': torch.tensor(np.stack(kps)),
              'masks': torch.tensor(np.stack(masks), dtype=torch.uint8),
              'semantic': torch.tensor(sem)}
    return torch.tensor(img).permute(2, 0, 1), target


def test_overfit_two_images():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    scenes = [make_scene([('person', (20, 30, 60, 110)), ('box', (90, 70, 140, 115))]),
              make_scene([('instrument', (70, 20, 130, 60)), ('box', (15, 60, 55, 100))])]
    images = torch.stack([s[0] for s in scenes])
    targets = [s[1] for s in scenes]
    cfg = ModelConfig(size='n', input_size=(H, W))
    model = build_model(cfg)
    balancer = build_balancer('fixed', tasks=cfg.heads)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.0)
    model.train()
    first = None
    for _ in range(STEPS):
        with torch.autocast('cpu', dtype=torch.bfloat16):
            outputs = model(images)
        total, terms = compute_losses(outputs, targets, cfg=cfg, balancer=balancer)
        opt.zero_grad()
        total.backward()
        opt.step()
        first = first if first is not None else {k: float(v) for k, v in terms.items()}
    last = {k: float(v) for k, v in terms.items()}
    for task in cfg.heads:
        assert last[task] < 0.3 * first[task], (task, first[task], last[task])

    model.eval()
    with torch.no_grad():
        outputs = model(images)
    info = letterbox_info((H, W), (H, W))
    preds = postprocess(outputs, [info, info], label_space=LS, score_thresh=0.3)
    for pred, tgt in zip(preds, targets):
        assert (pred.semantic == tgt['semantic'].numpy()).mean() > 0.97
        for j, cid in enumerate(tgt['labels'].tolist()):
            mine = [i for i in range(len(pred)) if pred.class_ids[i] == cid]
            assert mine, f'class {cid} not detected: {pred.class_ids}'
            gt = tgt['masks'][j].numpy().astype(bool)
            ious = [(gt & pred.masks[i]).sum() / (gt | pred.masks[i]).sum() for i in mine]
            best = mine[int(np.argmax(ious))]
            assert max(ious) > 0.8, (cid, ious)
            assert pred.scores[best] > 0.5
            kp = tgt['keypoints'][j].numpy()
            vis = kp[:, 2] > 0
            if vis.any():
                err = np.linalg.norm(pred.keypoints[best][vis, :2] - kp[vis, :2], axis=1)
                assert err.mean() < 4.0, (cid, err)
                assert (pred.keypoints[best][vis, 2] > 0.5).all()
        thing_ids = {s.instance_index for s in pred.segments if s.is_thing}
        assert len(thing_ids) == len(tgt['labels'])
