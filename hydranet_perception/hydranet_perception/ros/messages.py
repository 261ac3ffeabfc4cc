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
Build and read hydranet_perception_msgs messages (message types only, no rclpy).

Everything here works on plain message objects, so it is tested without a ROS graph;
the node only calls these functions and publishes the results.
"""

from dataclasses import dataclass
from typing import List, Optional, Sequence

from hydranet_perception.masks import decode_rle, encode_rle
from hydranet_perception.prediction import Prediction
from hydranet_perception.ros.image_msgs import as_array
from hydranet_perception.schema import ClassInfo, KeypointSchema as SchemaSpec, LabelSpace
from hydranet_perception_msgs.msg import (Instance, InstanceArray, Keypoint, KeypointSchema,
                                          ModelInfo, PanopticInfo, PanopticSegment)
import numpy as np


def instance_array_msg(pred: Prediction, label_space: LabelSpace, header) -> InstanceArray:
    """
    Build an InstanceArray from a prediction, with the input image's header.

    Instance ids are the panoptic segment ids when a panoptic map exists (so consumers
    can index ~/panoptic with them); otherwise 1..N in score order. ``track_id`` is the
    prediction's track id (0 when tracking is off or the track is not confirmed).
    """
    h, w = pred.image_size
    msg = InstanceArray()
    msg.header = header
    msg.image_height, msg.image_width = int(h), int(w)
    ids = pred.instance_ids
    names = label_space.names
    out = []
    for i in range(len(pred)):
        inst = Instance()
        pid = int(ids[i]) if ids is not None and ids.size else 0
        inst.id = pid if pid > 0 else _free_id(ids, i)
        inst.class_id = int(pred.class_ids[i])
        inst.class_name = names[inst.class_id]
        inst.score = float(pred.scores[i])
        inst.x_min, inst.y_min, inst.x_max, inst.y_max = (float(v) for v in pred.boxes[i])
        if pred.track_ids is not None:
            inst.track_id = int(pred.track_ids[i])
        inst.mask_height, inst.mask_width = int(h), int(w)
        if pred.masks is not None:
            inst.mask_rle = as_array('I', encode_rle(pred.masks[i]))
        if pred.keypoints is not None:
            schema = label_space.classes[inst.class_id].keypoint_schema
            n = schema.num_keypoints if schema else 0
            inst.keypoints = [
                Keypoint(index=k, x=float(pred.keypoints[i, k, 0]),
                         y=float(pred.keypoints[i, k, 1]),
                         score=float(pred.keypoints[i, k, 2]))
                for k in range(n)]
        out.append(inst)
    msg.instances = out
    return msg


def _free_id(ids: Optional[np.ndarray], i: int) -> int:
    """Id for an instance without a panoptic segment: above every panoptic id, unique."""
    base = int(ids.max()) if ids is not None and ids.size else 0
    return base + 1 + i


def panoptic_info_msg(pred: Prediction, label_space: LabelSpace, header) -> PanopticInfo:
    """Build the segment list that accompanies the panoptic id image."""
    h, w = pred.image_size
    msg = PanopticInfo()
    msg.header = header
    msg.image_height, msg.image_width = int(h), int(w)
    names = label_space.names
    msg.segments = [
        PanopticSegment(id=int(s.id), class_id=int(s.class_id), class_name=names[s.class_id],
                        is_thing=bool(s.is_thing), area=int(s.area), score=float(s.score))
        for s in sorted(pred.segments, key=lambda s: s.id)]
    return msg


def model_info_msg(*, label_space: LabelSpace, header, model_name: str, weights_path: str,
                   weights_sha256: str, backend: str, device: str, tasks: Sequence[str],
                   input_height: int, input_width: int) -> ModelInfo:
    """Build the latched description of the running model."""
    msg = ModelInfo()
    msg.header = header
    msg.model_name = model_name
    msg.weights_path = weights_path
    msg.weights_sha256 = weights_sha256
    msg.backend = backend
    msg.device = device
    msg.tasks = list(tasks)
    msg.input_height, msg.input_width = int(input_height), int(input_width)
    msg.class_names = label_space.names
    msg.class_is_thing = [c.is_thing for c in label_space.classes]
    schemas = []
    for c in label_space.classes:
        s = c.keypoint_schema
        if s is None:
            continue
        schemas.append(KeypointSchema(
            class_id=c.id, name=s.name, keypoint_names=list(s.keypoints),
            skeleton=[int(v) for e in s.skeleton for v in e],
            sigmas=[float(v) for v in s.oks_sigmas()]))
    msg.keypoint_schemas = schemas
    return msg


@dataclass
class DecodedInstance:
    """An Instance message turned back into arrays, for consumers and tests."""

    id: int  # noqa: A003 (the Instance message field)
    class_id: int
    score: float
    box: np.ndarray  # float32[4] x1, y1, x2, y2
    mask: Optional[np.ndarray]  # bool[H, W] or None when no mask was sent
    keypoints: np.ndarray  # float32[n, 3] x, y, score


def decode_instance(inst: Instance) -> DecodedInstance:
    """Decode one Instance message (the mask to full image size)."""
    mask = None
    if len(inst.mask_rle):
        mask = decode_rle(np.asarray(inst.mask_rle), inst.mask_height, inst.mask_width)
    kps = np.array([[k.x, k.y, k.score] for k in inst.keypoints], np.float32).reshape(-1, 3)
    return DecodedInstance(
        id=int(inst.id), class_id=int(inst.class_id), score=float(inst.score),
        box=np.array([inst.x_min, inst.y_min, inst.x_max, inst.y_max], np.float32),
        mask=mask, keypoints=kps)


def decode_instances(msg: InstanceArray) -> List[DecodedInstance]:
    """Decode every instance of an InstanceArray."""
    return [decode_instance(i) for i in msg.instances]


def label_space_from_model_info(msg: ModelInfo) -> LabelSpace:
    """Rebuild the label space a ModelInfo message describes."""
    schemas = {s.class_id: SchemaSpec(
        name=s.name, keypoints=tuple(s.keypoint_names),
        skeleton=tuple((int(a), int(b)) for a, b in zip(s.skeleton[0::2], s.skeleton[1::2])),
        sigmas=tuple(round(float(v), 6) for v in s.sigmas))  # float32 on the wire
        for s in msg.keypoint_schemas}
    return LabelSpace(classes=tuple(
        ClassInfo(id=i, name=n, is_thing=bool(t), keypoint_schema=schemas.get(i))
        for i, (n, t) in enumerate(zip(msg.class_names, msg.class_is_thing))))
