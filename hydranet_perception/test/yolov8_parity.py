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
Ultralytics YOLOv8-seg references for the import tests and ``bench/import_parity.py``.

Nothing is downloaded: the models are built from Ultralytics' YAML files with seeded
random weights, made informative first (batch norms calibrated on generated scenes, so
that features depend on the image; DFL biases that favour short distances, so boxes
have many sizes). ``reference`` is Ultralytics' own prediction of its segment
predictor (``SegmentationPredictor.postprocess`` and ``construct_result`` with
``retina_masks=False``): ``non_max_suppression``, ``process_mask``, ``scale_boxes``,
called directly (the ``YOLO.predict`` wrapper of the installed version cannot run a
model built from YAML). Needs ``ultralytics`` (bench only).
"""

import copy

import cv2
from hydranet_perception.postprocess.masks import pixels_in_box
from hydranet_perception.postprocess.match import match_detections
import numpy as np
import torch
import torch.nn.functional as F


def scene(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Return uint8[h, w, 3] RGB: random filled rectangles and discs on grey, with noise."""
    img = np.full((h, w, 3), 128, np.uint8)
    for _ in range(25):
        c = tuple(int(v) for v in rng.integers(0, 256, 3))
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        if rng.random() < 0.5:
            cv2.rectangle(img, (x, y), (x + int(rng.integers(10, 90)),
                                        y + int(rng.integers(10, 90))), c, -1)
        else:
            cv2.circle(img, (x, y), int(rng.integers(5, 45)), c, -1)
    return cv2.add(img, rng.integers(0, 20, img.shape, dtype=np.uint8))


def random_seg_model(size: str, *, seed: int, hw=(256, 320)):
    """
    Return an Ultralytics YOLOv8{size}-seg (80 classes) with seeded, informative weights.

    :param size: 'n', 's' or 'm'.
    :param seed: seeds the weights and the calibration scenes.
    :param hw: (H, W) of the calibration scenes.
    :return: the ``SegmentationModel`` in eval mode, float32, not fused.
    """
    from ultralytics.nn.tasks import SegmentationModel
    torch.manual_seed(seed)
    model = SegmentationModel(f'yolov8{size}-seg.yaml', verbose=False)
    g = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    calib = torch.from_numpy(np.stack([scene(rng, *hw) for _ in range(4)]))
    calib = calib.permute(0, 3, 1, 2).float() / 255
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    with torch.no_grad():
        for m in bns:  # statistics of these images (cumulative average), random affine
            m.reset_running_stats()
            m.momentum = None
            m.weight.uniform_(0.5, 1.5, generator=g)
            m.bias.uniform_(-0.5, 0.5, generator=g)
        model.train()
        model(calib)
        for m in bns:
            m.momentum = 0.03
        for seq in model.model[-1].cv2:  # DFL logits favouring short distances
            seq[-1].bias.normal_(0.0, 1.0, generator=g)
            seq[-1].bias.sub_(0.4 * torch.arange(16).repeat(4))
    return model.eval()


def save_ultralytics(model, path):
    """Save ``model`` as Ultralytics saves a trained one: the model pickled in half precision."""
    torch.save({'model': copy.deepcopy(model).half(), 'train_args': {}, 'epoch': -1}, path)


def load_ultralytics(path, *, fuse: bool = False):
    """Load it back as Ultralytics' predictor does (float32, eval; fused if asked)."""
    model = torch.load(path, map_location='cpu', weights_only=False)['model'].float().eval()
    return model.fuse(verbose=False) if fuse else model


def raw_outputs(model, x: torch.Tensor):
    """
    Return Ultralytics' raw head tensors in HydraNet's layout (anchors second).

    :return: {'detect_cls': [B, A, 80], 'detect_box': [B, A, 64], 'masks_coef': [B, A, 32],
        'masks_protos': [B, 32, H/4, W/4]} and the decoded predictions [B, 4 + 80 + 32, A].
    """
    with torch.no_grad():
        (y, proto), raw = model(x)
    t = {'detect_cls': raw['scores'], 'detect_box': raw['boxes'],
         'masks_coef': raw['mask_coefficient']}
    out = {k: v.transpose(1, 2) for k, v in t.items()}
    out['masks_protos'] = proto
    return out, y


def threshold_between(cls_logits: torch.Tensor, lo: int = 20, hi: int = 60) -> float:
    """
    Return a score threshold that lo..hi anchors pass, far from every anchor's score.

    Random weights give no natural threshold; the midpoint of the widest gap between
    consecutive best-class probabilities, ranks lo to hi, keeps rounding (another
    backend, other kernels) from moving an anchor across it.
    """
    best = cls_logits.sigmoid().amax(-1).flatten().sort(descending=True).values
    gaps = best[lo - 1:hi - 1] - best[lo:hi]
    k = lo - 1 + int(gaps.argmax())
    return float((best[k] + best[k + 1]) / 2)


def reference(model, image: np.ndarray, *, conf: float, iou: float, max_det: int = 100):
    """
    Ultralytics' prediction on an image of the network's input size (no resizing).

    :return: dict of boxes float[N, 4] (clipped as ``scale_boxes`` does), scores, classes,
        masks bool[N, H, W] (``process_mask``: cropped at pixel columns x1 <= c < x2) and
        ``full`` bool[N, H, W], the same masks before the crop.
    """
    from ultralytics.utils import nms, ops
    h, w = image.shape[:2]
    x = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255
    _, y = raw_outputs(model, x)
    with torch.no_grad():
        (_, proto), _ = model(x)
    det = nms.non_max_suppression(y, conf, iou, max_det=max_det, nc=model.model[-1].nc,
                                  max_time_img=1e3)[0]
    masks = ops.process_mask(proto[0], det[:, 6:], det[:, :4], (h, w), upsample=True)
    logits = (det[:, 6:] @ proto[0].flatten(1)).reshape(1, -1, *proto.shape[-2:])
    full = F.interpolate(logits, (h, w), mode='bilinear')[0] > 0
    boxes = ops.scale_boxes((h, w), det[:, :4].clone(), (h, w))
    return {'boxes': boxes.numpy(), 'scores': det[:, 4].numpy(),
            'classes': det[:, 5].numpy().astype(np.int64), 'masks': masks.numpy() > 0,
            'full': full.numpy()}


def compare(pred, ref) -> dict:
    """
    Match a HydraNet ``Prediction`` with ``reference``'s by class and IoU >= 0.5.

    :return: counts, the largest box and score differences of the pairs, the least mask
        IoU with this project's crop (pixel centres inside the box) applied to both, the
        least IoU against Ultralytics' own cropped masks, and whether every pixel where
        those differ lies in the one-pixel band at the box edges (the two crop rules);
        ``pairs``: per matched pair, its class id, box difference and mask IoUs.
    """
    pairs, _ = match_detections(pred.boxes, pred.scores, pred.class_ids, ref['boxes'],
                                ref['scores'], ref['classes'], iou_thresh=0.5)
    a, b = pairs[:, 0], pairs[:, 1]
    out = {'ours': len(pred.boxes), 'theirs': len(ref['boxes']), 'matched': len(pairs),
           'max_box_abs_diff': float(np.abs(pred.boxes[a] - ref['boxes'][b]).max(initial=0)),
           'max_score_abs_diff': float(np.abs(pred.scores[a] - ref['scores'][b]).max(
               initial=0))}
    same, theirs, band_only, rows = [], [], True, []
    h, w = pred.image_size
    for i, j in pairs:
        r0, r1, c0, c1 = pixels_in_box(ref['boxes'][j], (h, w))
        crop = np.zeros((h, w), bool)
        crop[r0:r1, c0:c1] = ref['full'][j][r0:r1, c0:c1]
        same.append(_iou(pred.masks[i], crop))
        theirs.append(_iou(pred.masks[i], ref['masks'][j]))
        band = np.zeros((h, w), bool)  # the rows and columns within one of the edges
        band[max(r0 - 1, 0):r1 + 1, max(c0 - 1, 0):c1 + 1] = True
        band[r0 + 1:r1 - 1, c0 + 1:c1 - 1] = False
        band_only &= bool((crop == ref['masks'][j])[~band].all())
        rows.append({'class_id': int(pred.class_ids[i]), 'mask_iou': same[-1],
                     'mask_iou_ultralytics_crop': theirs[-1],
                     'box_abs_diff': float(np.abs(pred.boxes[i] - ref['boxes'][j]).max())})
    out.update(min_mask_iou=min(same, default=1.0),
               min_mask_iou_ultralytics_crop=min(theirs, default=1.0),
               crop_rules_differ_only_at_box_edges=band_only, pairs=rows)
    return out


def _iou(x: np.ndarray, y: np.ndarray) -> float:
    union = int((x | y).sum())
    return 1.0 if union == 0 else float((x & y).sum()) / union
