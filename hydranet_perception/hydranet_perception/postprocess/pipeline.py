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
``postprocess``: raw HydraNet outputs of a batch -> one ``Prediction`` per image.

numpy and OpenCV only: the outputs of any backend (numpy arrays from an ONNX runtime,
torch tensors from PyTorch, on any device) go through the same code.
"""

from typing import Any, Dict, List, Sequence, Union

import cv2
from hydranet_perception.coder.numpy_ops import anchors_for, decode_boxes, decode_depth, \
    keypoint_tables
from hydranet_perception.postprocess.keypoints import keypoints_for_detections
from hydranet_perception.postprocess.letterbox import as_numpy, boxes_to_original, \
    keypoints_to_original, labels_to_size, LetterboxInfo, warp_to_original, working_info
from hydranet_perception.postprocess.masks import assemble_masks
from hydranet_perception.postprocess.nms import nms, select_candidates
from hydranet_perception.postprocess.panoptic import panoptic_fusion, TINY_MAP
from hydranet_perception.prediction import Prediction
from hydranet_perception.schema import LabelSpace
import numpy as np

__all__ = ['argmax_planes', 'depth_map', 'postprocess', 'semantic_labels']


def postprocess(outputs: Dict[str, Any],
                infos: Union[LetterboxInfo, Sequence[LetterboxInfo]], *,
                label_space: LabelSpace, score_thresh: float = 0.25, nms_iou: float = 0.6,
                mask_thresh: float = 0.5, max_det: int = 100, pre_nms_topk: int = 1000,
                class_agnostic: bool = False, min_visible_fraction: float = 0.5,
                min_stuff_area: int = 64, strides: Sequence[int] = (8, 16, 32)
                ) -> List[Prediction]:
    """
    Decode, suppress, assemble and fuse the raw outputs of a batch.

    Steps per image: best class per anchor above ``score_thresh`` -> class-aware NMS
    -> at most ``max_det`` detections; masks and keypoints only for those; boxes,
    masks, keypoints and the semantic map mapped back to original pixels through
    the letterbox; panoptic fusion when the semantic head ran (things need masks:
    without the mask head, thing pixels stay void).

    :param outputs: raw forward outputs (any subset of tasks; the batch dimension first),
        numpy arrays or torch tensors (copied to the CPU once, without importing torch).
    :param infos: the letterbox geometry of each image (one for a batch of one).
    :param label_space: the model's label space.
    :param score_thresh: minimum detection probability.
    :param nms_iou: IoU above which a same-class box is suppressed.
    :param mask_thresh: mask probability threshold.
    :param max_det: detections kept per image.
    :param pre_nms_topk: candidates entering NMS at most.
    :param class_agnostic: suppress across classes.
    :param min_visible_fraction: panoptic overlap rule (see ``panoptic_fusion``).
    :param min_stuff_area: panoptic minimum stuff segment area, in original pixels.
    :param strides: pyramid strides, used when the outputs carry no anchors.
    :return: one ``Prediction`` per image (numpy arrays, original pixels).
    """
    if isinstance(infos, LetterboxInfo):
        infos = [infos]
    outputs = {k: as_numpy(v) for k, v in outputs.items()}
    thing_ids = np.asarray(label_space.thing_ids, np.int64)
    results = []
    for b, info in enumerate(infos):
        h0, w0 = info.orig_size
        pred = Prediction(image_size=(h0, w0), boxes=np.zeros((0, 4), np.float32),
                          scores=np.zeros((0,), np.float32),
                          class_ids=np.zeros((0,), np.int64))
        if 'detect_cls' in outputs:
            cls = outputs['detect_cls'][b]
            anchors = outputs.get('detect_anchors')
            if anchors is None:
                anchors = anchors_for(*info.input_size, strides)
            anchors = anchors.astype(np.float32, copy=False)
            idx, scores, channels = select_candidates(cls, score_thresh=score_thresh,
                                                      pre_nms_topk=pre_nms_topk)
            boxes = decode_boxes(outputs['detect_box'][b][idx], anchors[idx])
            keep = nms(boxes, scores, channels, iou_thresh=nms_iou, max_det=max_det,
                       class_agnostic=class_agnostic)
            idx, scores, channels = idx[keep], scores[keep], channels[keep]
            boxes = boxes_to_original(boxes[keep], info)
            pred.boxes = boxes.astype(np.float32, copy=False)
            pred.scores = scores.astype(np.float32, copy=False)
            pred.class_ids = thing_ids[channels]
            pred.instance_ids = np.zeros((len(idx),), np.int64)
            if 'masks_coef' in outputs:
                pred.masks = assemble_masks(outputs['masks_coef'][b][idx],
                                            outputs['masks_protos'][b], boxes, info,
                                            mask_thresh=mask_thresh)
            if 'keypoints' in outputs:
                _, used = keypoint_tables(label_space)
                kp = keypoints_for_detections(outputs['keypoints'][b][idx], anchors[idx],
                                              channels, used)
                kp = keypoints_to_original(kp, info, clip=True) * (kp[..., 2:] > 0)
                pred.keypoints = kp.astype(np.float32, copy=False)
            if 'identity' in outputs:
                pred.embeddings = np.asarray(outputs['identity'][b][idx], np.float32)
        if 'depth' in outputs:
            pred.depth = depth_map(outputs['depth'][b], info)
        if 'semantic' in outputs:
            pred.semantic = semantic_labels(outputs['semantic'][b], info)
            n = len(pred)
            masks = pred.masks if pred.masks is not None else np.zeros((0, h0, w0), bool)
            k = masks.shape[0]
            pan, segments, inst_ids = panoptic_fusion(
                pred.semantic, masks, pred.scores[:k], pred.class_ids[:k],
                stuff_ids=label_space.stuff_ids, min_visible_fraction=min_visible_fraction,
                min_stuff_area=min_stuff_area, boxes=pred.boxes[:k])
            pred.panoptic, pred.segments = pan, segments
            ids = np.zeros((n,), np.int64)
            ids[:inst_ids.shape[0]] = inst_ids
            pred.instance_ids = ids
        results.append(pred)
    return results


def depth_map(log_depth: np.ndarray, info: LetterboxInfo) -> np.ndarray:
    """
    Return the depth head's metric depth of each original pixel, float32[h0, w0] metres.

    The log-depth float[1, h, w] (covering the network input) is resampled bilinearly
    onto the original pixels (in log space: interpolating a ratio, not a difference),
    then decoded (``coder.numpy_ops.decode_depth``).
    """
    (plane,) = warp_to_original(as_numpy(log_depth).astype(np.float32, copy=False)[:1], info)
    return decode_depth(plane)


def semantic_labels(logits: np.ndarray, info: LetterboxInfo) -> np.ndarray:
    """
    Return the semantic class of each original pixel, uint8[h0, w0].

    The logits float[C, h, w] (covering the network input) are resampled bilinearly
    onto ``working_info(info)``, the image at the scale the network saw it, the argmax
    taken there and the labels enlarged to the original size by nearest neighbour: the
    labels carry no finer detail than the input, and a 640x480 image at 320x256 costs a
    quarter of the full-size work (with OpenCV, ~0.8 ms on one core instead of ~8 ms
    for grid_sample and argmax at full size).
    """
    planes = warp_to_original(as_numpy(logits).astype(np.float32, copy=False),
                              working_info(info))
    return labels_to_size(argmax_planes(planes), info.orig_size)


def argmax_planes(planes: Sequence[np.ndarray]) -> np.ndarray:
    """
    Return uint8[H, W]: the index of the largest of C <= 255 float32[H, W] planes.

    Ties go to the lowest index (like ``argmax``). A running maximum with OpenCV's
    vectorised compare/max: ~6x faster than ``argmax`` over a channels-last array.
    Tiny maps take numpy's ``argmax``: OpenCV's Python binding reads a 1x1 array as a
    scalar in ``bitwise_and(array, c)`` and returns a 4x1 float64 "array" of the scalar.
    """
    if not 0 < len(planes) <= 255:
        raise ValueError(f'argmax_planes takes 1..255 planes, got {len(planes)}')
    if planes[0].size < TINY_MAP:
        return np.argmax(np.stack(planes), axis=0).astype(np.uint8)
    best = planes[0]
    labels = np.zeros(best.shape, np.uint8)
    for c in range(1, len(planes)):
        greater = cv2.compare(planes[c], best, cv2.CMP_GT)  # 255 where strictly greater
        best = cv2.max(planes[c], best)
        # Labels only grow with c, so "c where greater, else keep" is a maximum.
        labels = cv2.max(labels, cv2.bitwise_and(greater, c))
    return labels
