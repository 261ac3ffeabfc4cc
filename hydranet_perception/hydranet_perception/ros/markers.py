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
RViz markers of the 3D instances: a pure function from a ``Prediction`` to a MarkerArray.

Per instance with a 3D position: a cube of its extent coloured by class (namespace
``instances``), a text facing the viewer with class, track id and score (``labels``)
and its keypoint skeleton as a line list (``skeletons``).  Markers are in the colour
image's frame (its optical frame, REP-103) with its stamp, and carry a lifetime so that
stale ones vanish when the node stops publishing.  The array starts with a DELETEALL so
that instances gone since the last frame disappear at once; ids are the track id when
the instance has one (so RViz updates a tracked object in place) and above every track
id otherwise.
"""

import colorsys
from typing import Tuple

from builtin_interfaces.msg import Duration
from geometry_msgs.msg import Point, Vector3
from hydranet_perception.prediction import Prediction
from hydranet_perception.schema import LabelSpace
import numpy as np
from std_msgs.msg import ColorRGBA
from visualization_msgs.msg import Marker, MarkerArray

UNTRACKED_ID_BASE = 1 << 30  # marker ids of instances without a track id start here
MIN_SIZE_M = 0.02  # the smallest cube edge drawn, metres


def class_color(class_id: int, alpha: float = 0.6) -> ColorRGBA:
    """Return a stable, distinct colour per class (golden-ratio hues)."""
    r, g, b = colorsys.hsv_to_rgb((class_id * 0.618034) % 1.0, 0.8, 1.0)
    return ColorRGBA(r=float(r), g=float(g), b=float(b), a=float(alpha))


def _duration(seconds: float) -> Duration:
    ns = int(round(max(seconds, 0.0) * 1e9))
    return Duration(sec=ns // 1_000_000_000, nanosec=ns % 1_000_000_000)


def _point(xyz) -> Point:
    return Point(x=float(xyz[0]), y=float(xyz[1]), z=float(xyz[2]))


def marker_ids(pred: Prediction) -> np.ndarray:
    """Return int64[N], each instance's marker id (see the module docstring)."""
    n = len(pred)
    tracks = pred.track_ids if pred.track_ids is not None else np.zeros(n, np.int64)
    rows = UNTRACKED_ID_BASE + np.arange(n, dtype=np.int64)
    return np.where(tracks > 0, tracks.astype(np.int64), rows)


def markers_msg(pred: Prediction, header, label_space: LabelSpace, *,
                lifetime_s: float = 0.5, text_height_m: float = 0.08,
                line_width_m: float = 0.01, delete_all: bool = True) -> MarkerArray:
    """
    Build the RViz markers of a prediction with 3D fields.

    :param pred: the prediction after the lifting stage; without 3D fields the array
        holds only the DELETEALL (or nothing).
    :param header: the colour image's ``std_msgs/Header`` (frame and stamp of every
        marker).
    :param label_space: class names and keypoint skeletons.
    :param lifetime_s: how long RViz keeps a marker without an update (0 = forever).
    :param text_height_m: the labels' height, metres.
    :param line_width_m: the skeletons' line width, metres.
    :param delete_all: start with a DELETEALL marker.
    :return: the ``visualization_msgs/MarkerArray``.
    """
    markers = []
    if delete_all:
        markers.append(Marker(header=header, action=Marker.DELETEALL))
    if pred.positions is None or len(pred) == 0:
        return MarkerArray(markers=markers)
    lifetime = _duration(lifetime_s)
    ids = marker_ids(pred)
    names = label_space.names
    for i in range(len(pred)):
        pos = pred.positions[i]
        if not np.all(np.isfinite(pos)):
            continue
        cid = int(pred.class_ids[i])
        color = class_color(cid)
        ext = np.asarray(pred.extents[i] if pred.extents is not None else np.zeros(3),
                         np.float64)
        size = np.where(np.isfinite(ext), np.maximum(ext, MIN_SIZE_M), MIN_SIZE_M)
        common = {'header': header, 'id': int(ids[i]), 'action': Marker.ADD,
                  'lifetime': lifetime}
        cube = Marker(ns='instances', type=Marker.CUBE, color=color,
                      scale=Vector3(x=float(size[0]), y=float(size[1]), z=float(size[2])),
                      **common)
        cube.pose.position = _point(pos)
        cube.pose.orientation.w = 1.0
        markers.append(cube)
        track = int(pred.track_ids[i]) if pred.track_ids is not None else 0
        label = f'{names[cid]}' + (f' #{track}' if track > 0 else '') + \
            f' {float(pred.scores[i]):.2f}'
        text = Marker(ns='labels', type=Marker.TEXT_VIEW_FACING, text=label,
                      color=class_color(cid, 1.0), scale=Vector3(z=float(text_height_m)),
                      **common)
        # above the cube: y points down in the optical frame
        text.pose.position = _point(pos - (0.0, size[1] / 2 + text_height_m, 0.0))
        text.pose.orientation.w = 1.0
        markers.append(text)
        points = _skeleton_points(pred, i, label_space)
        if points:
            line = Marker(ns='skeletons', type=Marker.LINE_LIST, points=points,
                          color=class_color(cid, 1.0), scale=Vector3(x=float(line_width_m)),
                          **common)
            line.pose.orientation.w = 1.0
            markers.append(line)
    return MarkerArray(markers=markers)


def _skeleton_points(pred: Prediction, i: int, label_space: LabelSpace) -> list:
    """Return the LINE_LIST points (pairs) of the skeleton edges whose ends are valid."""
    if pred.keypoints_3d is None:
        return []
    schema = label_space.classes[int(pred.class_ids[i])].keypoint_schema
    if schema is None:
        return []
    kps = pred.keypoints_3d[i]
    points = []
    for a, b in schema.skeleton:
        if kps[a, 3] > 0 and kps[b, 3] > 0:
            points += [_point(kps[a, :3]), _point(kps[b, :3])]
    return points


def counts(msg: MarkerArray) -> Tuple[int, int, int]:
    """Return the number of (cubes, labels, skeletons) in a MarkerArray."""
    ns = [m.ns for m in msg.markers if m.action == Marker.ADD]
    return ns.count('instances'), ns.count('labels'), ns.count('skeletons')


__all__ = ['class_color', 'counts', 'marker_ids', 'markers_msg']
