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


"""``compute_losses``: every task's loss from the raw outputs, balanced into one total."""

from typing import Dict, List, Tuple

from hydranet_perception.coder.torch_ops import decode_boxes
from hydranet_perception.losses.assign import assign
from hydranet_perception.losses.depth import depth_loss
from hydranet_perception.losses.detection import detection_loss
from hydranet_perception.losses.identity import identity_loss
from hydranet_perception.losses.keypoint_field import offset_field_loss
from hydranet_perception.losses.keypoints import keypoint_loss, keypoint_tables
from hydranet_perception.losses.masks import mask_loss
from hydranet_perception.losses.semantic import semantic_loss
from hydranet_perception.model.config import ModelConfig
from hydranet_perception.schema import LabelSpace
import torch


def thing_channels(labels: torch.Tensor, label_space: LabelSpace) -> torch.Tensor:
    """
    Map global class ids Tensor[N] to detection channels Tensor[N] int64.

    :raises ValueError: if a label is not a thing class of the label space.
    """
    table = torch.full((label_space.num_classes,), -1, dtype=torch.int64)
    table[label_space.thing_ids] = torch.arange(label_space.num_things)
    labels = labels.to(torch.int64).reshape(-1)
    if labels.numel() and (labels.min() < 0 or labels.max() >= label_space.num_classes):
        raise ValueError(f'target labels {labels.tolist()} out of range 0..'
                         f'{label_space.num_classes - 1}')
    ch = table.to(labels.device)[labels]
    if (ch < 0).any():
        bad = sorted(set(labels[ch < 0].tolist()))
        raise ValueError(f'target labels {bad} are stuff classes; instances must be things '
                         f'{label_space.thing_ids}')
    return ch


def compute_losses(outputs: Dict[str, torch.Tensor], targets: List[dict], *,
                   cfg: ModelConfig, balancer) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
    """
    Compute the loss of every task present in ``outputs`` and balance them.

    :param outputs: the raw dict of ``HydraNet.forward`` (any subset of tasks).
    :param targets: one dict per image (see ``hydranet_perception.data.datasets``):
        'boxes' Tensor[N, 4] x1, y1, x2, y2 in network-input pixels, 'labels'
        Tensor[N] int64 global thing ids, 'masks' Tensor[N, H, W] 0/1,
        'keypoints' Tensor[N, K, 3] (x, y, COCO v), 'semantic' Tensor[H, W] int64
        (255 void), 'depth' Tensor[H, W] metres (0 unknown), 'track_ids' Tensor[N]
        int64 (>= 1) and 'identity_group' int.  Missing 'masks', 'keypoints',
        'semantic', 'depth' or 'track_ids' skip that term.
    :param cfg: the model config (label space and loss gains).
    :param balancer: a module from ``build_balancer``.
    :return: (total Tensor[] with grad, terms): terms are detached Tensor[] named
        ``task/term`` (e.g. 'detect/cls', 'masks/dice'), the per-task sums named by
        task, and the balancer's weights named ``weight/task``.
    """
    lc, ls = cfg.loss, cfg.label_space
    out = {k: v.float() for k, v in outputs.items()}
    terms: Dict[str, Dict[str, torch.Tensor]] = {}
    if 'detect_cls' in out:
        anchors = out['detect_anchors']
        device = anchors.device
        channels = [thing_channels(t['labels'], ls).to(device) for t in targets]
        boxes = decode_boxes(out['detect_box'], anchors)
        assignment = assign(out['detect_cls'].detach().sigmoid(), boxes.detach(), anchors,
                            targets, channels, topk=lc.topk, alpha=lc.alpha, beta=lc.beta,
                            center_radius=lc.center_radius, level_span=lc.level_span)
        terms['detect'] = detection_loss(out['detect_cls'], boxes, assignment,
                                         cls_gain=lc.cls, box_gain=lc.box)
        if 'masks_coef' in out:
            terms['masks'] = mask_loss(out['masks_coef'], out['masks_protos'], targets,
                                       assignment, bce_gain=lc.mask_bce,
                                       dice_gain=lc.mask_dice)
        if 'keypoints' in out:
            sigmas, used = keypoint_tables(ls, device)
            terms['keypoints'] = keypoint_loss(out['keypoints'], anchors, targets, assignment,
                                               channels, sigmas=sigmas, used=used,
                                               oks_gain=lc.kpt_oks, dist_gain=lc.kpt_dist,
                                               vis_gain=lc.kpt_vis, area=lc.kpt_area,
                                               class_balance=lc.kpt_class_balance)
            if 'keypoints_coarse' in out:  # refinement: the anchors' own keypoints too
                coarse = keypoint_loss(out['keypoints_coarse'], anchors, targets, assignment,
                                       channels, sigmas=sigmas, used=used,
                                       oks_gain=lc.kpt_oks * lc.kpt_coarse,
                                       dist_gain=lc.kpt_dist * lc.kpt_coarse, vis_gain=0.0,
                                       area=lc.kpt_area, class_balance=lc.kpt_class_balance)
                terms['keypoints'].update(coarse_oks=coarse['oks'], coarse_dist=coarse['dist'])
            if 'keypoints_field' in out:
                terms['keypoints']['field'] = offset_field_loss(
                    out['keypoints_field'], targets, [used[c] for c in channels],
                    stride=cfg.strides[0], radius=lc.kpt_field_radius, gain=lc.kpt_field)
        if 'identity' in out:
            terms['identity'] = identity_loss(out['identity'], targets, assignment,
                                              con_gain=lc.id_con)
    if 'semantic' in out:
        terms['semantic'] = semantic_loss(out['semantic'], targets, ce_gain=lc.sem_ce)
    if 'depth' in out:
        terms['depth'] = depth_loss(out['depth'], targets, l1_gain=lc.depth_l1,
                                    si_gain=lc.depth_si)
    task_losses = {t: sum(d.values()) for t, d in terms.items()}
    total, weights = balancer(task_losses)
    flat: Dict[str, torch.Tensor] = {}
    for t, d in terms.items():
        for name, v in d.items():
            flat[f'{t}/{name}'] = v.detach()
        flat[t] = task_losses[t].detach()
        flat[f'weight/{t}'] = weights[t].detach()
    return total, flat
