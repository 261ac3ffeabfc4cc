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
ROS messages of the 3D lifting stage: ``InstanceArray3D`` from a ``Prediction``.

A separate message beside ``InstanceArray``, so a 2D-only user pays nothing: its
instances are those of the InstanceArray with the same header, in the same order and
with the same ids.  3D values are in the image's camera optical frame (REP-103), metres.
"""

from typing import Dict

from geometry_msgs.msg import Point, Vector3
from hydranet_perception.prediction import Prediction
from hydranet_perception.ros.messages import _free_id
from hydranet_perception.schema import LabelSpace
from hydranet_perception_msgs.msg import Instance3D, InstanceArray3D, Keypoint3D
import numpy as np

# Prediction.depth_source -> Instance3D.source (lift3d_stage names the monocular head's
# depth 'monocular_head').
SOURCES = {'depth_camera': Instance3D.SOURCE_DEPTH_CAMERA,
           'monocular': Instance3D.SOURCE_MONOCULAR,
           'monocular_head': Instance3D.SOURCE_MONOCULAR}


def instance_array_3d_msg(pred: Prediction, label_space: LabelSpace,
                          header) -> InstanceArray3D:
    """
    Build an InstanceArray3D from a prediction with 3D fields.

    :param pred: a prediction the lifting stage filled (``positions`` etc. not None).
    :param label_space: the model's classes (names and keypoint schemas).
    :param header: the colour image's ``std_msgs/Header``.
    :return: the message; ids as ``messages.instance_array_msg`` gives them.
    :raises ValueError: when the prediction has no 3D fields, or an unknown source.
    """
    if pred.positions is None:
        raise ValueError('the prediction has no 3D fields (run the lift3d stage first)')
    if pred.depth_source not in SOURCES:
        raise ValueError(f'unknown depth source {pred.depth_source!r}; known: {sorted(SOURCES)}')
    msg = InstanceArray3D()
    msg.header = header
    ids, names = pred.instance_ids, label_space.names
    source = SOURCES[pred.depth_source]
    out = []
    for i in range(len(pred)):
        inst = Instance3D()
        pid = int(ids[i]) if ids is not None and ids.size else 0
        inst.id = pid if pid > 0 else _free_id(ids, i)
        if pred.track_ids is not None:
            inst.track_id = int(pred.track_ids[i])
        inst.class_id = int(pred.class_ids[i])
        inst.class_name = names[inst.class_id]
        inst.score = float(pred.scores[i])
        inst.source = source
        x, y, z = (float(v) for v in pred.positions[i])
        inst.position = Point(x=x, y=y, z=z)
        ex, ey, ez = (float(v) for v in pred.extents[i])
        inst.extent = Vector3(x=ex, y=ey, z=ez)
        inst.valid_depth_pixels = int(pred.depth_pixels[i])
        if pred.keypoints_3d is not None:
            schema = label_space.classes[inst.class_id].keypoint_schema
            kps = pred.keypoints_3d[i]
            inst.keypoints = [
                Keypoint3D(index=k, position=Point(x=float(kps[k, 0]), y=float(kps[k, 1]),
                                                   z=float(kps[k, 2])),
                           valid=bool(kps[k, 3] > 0))
                for k in range(schema.num_keypoints if schema else 0)]
        out.append(inst)
    msg.instances = out
    return msg


def decode_instances_3d(msg: InstanceArray3D) -> Dict[str, np.ndarray]:
    """
    Return an InstanceArray3D as arrays (for consumers and tests).

    :param msg: the message.
    :return: ``ids`` uint32[N], ``track_ids`` uint32[N], ``class_ids`` int64[N],
        ``positions`` float32[N, 3], ``extents`` float32[N, 3], ``depth_pixels`` int64[N]
        and ``keypoints_3d``, a list of float32[K_i, 4] (x, y, z, valid).
    """
    insts = msg.instances
    return {
        'ids': np.array([i.id for i in insts], np.uint32),
        'track_ids': np.array([i.track_id for i in insts], np.uint32),
        'class_ids': np.array([i.class_id for i in insts], np.int64),
        'positions': np.array([[i.position.x, i.position.y, i.position.z] for i in insts],
                              np.float32).reshape(-1, 3),
        'extents': np.array([[i.extent.x, i.extent.y, i.extent.z] for i in insts],
                            np.float32).reshape(-1, 3),
        'depth_pixels': np.array([i.valid_depth_pixels for i in insts], np.int64),
        'keypoints_3d': [np.array([[k.position.x, k.position.y, k.position.z, float(k.valid)]
                                   for k in i.keypoints], np.float32).reshape(-1, 4)
                         for i in insts],
    }


__all__ = ['SOURCES', 'decode_instances_3d', 'instance_array_3d_msg']
