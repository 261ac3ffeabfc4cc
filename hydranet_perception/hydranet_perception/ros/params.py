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
The node's parameters: defaults, descriptors with ranges, and validation.

The validation is a plain function of (name, value), so it is tested without ROS; the
node calls it from its set-parameters callback and refuses bad values with its reason.
"""

from dataclasses import dataclass
import re
from typing import Any, Dict, Optional, Tuple

from hydranet_perception.inference.backends import BACKEND_CHOICES as BACKENDS
from hydranet_perception.model.config import NEEDS_DETECT, TASKS
from rcl_interfaces.msg import (FloatingPointRange, IntegerRange, ParameterDescriptor,
                                ParameterType)

TRANSPORTS = ('raw', 'compressed')


@dataclass(frozen=True)
class Spec:
    """One parameter: default, description, range, and whether a change reloads the model."""

    default: Any
    description: str
    lo: Optional[float] = None
    hi: Optional[float] = None
    step: Optional[float] = None
    reload: bool = False


SPECS: Dict[str, Spec] = {
    'image_transport': Spec('raw', 'Image transport to subscribe to, as image_transport '
                            'subscribers do: raw (image) or compressed (image/compressed); '
                            'read on configure'),
    'cameras': Spec([''], 'Input namespaces, one per camera: each has <name>/image (or '
                    '<name>/image/compressed) and <name>/camera_info, and gets its outputs '
                    "under ~/<name>/; [''] = one camera on image, outputs under ~/; read on "
                    'configure'),
    'max_batch': Spec(4, 'Most frames (one per camera) run through the model in one batch',
                      1, 64, 1),
    'weights': Spec('', 'Checkpoint (.pt) or ONNX file; empty = the shipped weights',
                    reload=True),
    'device': Spec('auto', 'auto, cpu or cuda:N', reload=True),
    'fp16': Spec(True, 'Half precision on CUDA (ignored on CPU)', reload=True),
    'backend': Spec('auto', 'auto (torch on CUDA, else onnxruntime or openvino if installed, '
                    'else torch), torch, onnxruntime, openvino or tensorrt', reload=True),
    'input_width': Spec(0, 'Network input width (multiple of 32); 0 = the size the '
                        'checkpoint was trained for', 0, 4096, 32, reload=True),
    'input_height': Spec(0, 'Network input height (multiple of 32); 0 = the size the '
                         'checkpoint was trained for', 0, 4096, 32, reload=True),
    'threads': Spec(0, 'CPU threads of the inference runtime (torch intra-op, onnxruntime, '
                    'openvino); 0 = the runtime default', 0, 256, 1, reload=True),
    'score_threshold': Spec(0.35, 'Minimum detection score', 0.0, 1.0),
    'nms_iou': Spec(0.5, 'IoU above which NMS suppresses a same-class box', 0.0, 1.0),
    'mask_threshold': Spec(0.5, 'Mask probability threshold', 0.0, 1.0),
    'max_detections': Spec(100, 'Most instances reported per image', 1, 1000, 1),
    'tasks': Spec(['all'], 'Heads to run: [all] (every head the model has) or a list of '
                  'detect, masks, semantic, keypoints, depth, identity'),
    'class_filter': Spec([''], 'Report only these class names (empty = all)'),
    'publish_overlay': Spec(True, 'Render ~/overlay when someone subscribes'),
    'diagnostics_period': Spec(1.0, 'Seconds between /diagnostics messages', 0.1, 60.0),
    'no_image_warning': Spec(5.0, 'Seconds without images before warning about QoS '
                             'when a publisher exists', 0.5, 3600.0),
    'autostart': Spec(True, 'Configure and activate on start-up'),
    'tracking': Spec(True, 'Give instances track ids (Instance.track_id), one tracker per '
                     'camera (frame_id); off: track_id 0'),
    'track_high_score': Spec(0.5, 'Tracking: detections at or above it are matched first and '
                             'may start tracks', 0.0, 1.0),
    'track_min_hits': Spec(2, 'Tracking: matched frames in a row that confirm a track (and '
                           'give it an id)', 1, 100, 1),
    'track_max_age_s': Spec(1.0, 'Tracking: seconds a lost track is kept after it was last '
                            'seen', 0.0, 3600.0),
    'track_reid_max_age_s': Spec(3.0, 'Tracking, with a model that has the identity head: '
                                 'seconds a lost track is kept (past track_max_age_s) to be '
                                 're-identified by appearance alone', 0.0, 3600.0),
    'depth_topic': Spec('', 'Aligned depth image (16UC1 mm or 32FC1 m, registered to the '
                        'colour image), relative to each camera, e.g. depth/image; its '
                        'CameraInfo is the sibling camera_info (depth/camera_info). '
                        "'' = no depth: 2D only. Read on configure"),
    'depth_slop_s': Spec(0.02, 'Largest stamp difference between a colour frame and the '
                         'depth image paired with it (message_filters ApproximateTime '
                         'slop), seconds; read on configure', 0.0, 1.0),
    'depth_queue_size': Spec(5, 'Depth images kept per camera for pairing (message_filters '
                             'queue_size); read on configure', 1, 100, 1),
}
#: Parameters whose change starts the trackers again with the new settings.
TRACKING_PARAMS = ('tracking', 'track_high_score', 'track_min_hits', 'track_max_age_s',
                   'track_reid_max_age_s')
#: Parameters read on configure: changing them while configured is refused.
CONFIGURE_PARAMS = ('image_transport', 'cameras', 'depth_topic', 'depth_slop_s',
                    'depth_queue_size')


def depth_input(get) -> Optional[Dict[str, Any]]:
    """
    Return the settings of the cameras' depth input, or None when ``depth_topic`` is ''.

    :param get: returns a parameter's value by name (the node's ``_p``).
    :return: ``{'topic', 'queue_size', 'slop_s', 'silent_after_s'}`` (see
        ``camera_input.CameraInput``), or None.
    """
    topic = get('depth_topic')
    if not topic:
        return None
    return {'topic': topic, 'queue_size': int(get('depth_queue_size')),
            'slop_s': float(get('depth_slop_s')), 'silent_after_s': float(get('no_image_warning'))}


def camera_names_problem(names) -> Optional[str]:
    """
    Return why ``names`` is not a valid ``cameras`` value, or None.

    One empty name is the single camera of old; otherwise each name is a relative
    topic namespace (letters, digits, underscores, ``/`` between tokens), once.
    """
    names = list(names)
    if names == ['']:
        return None
    if not names or '' in names:
        return ("cameras: give camera namespaces (e.g. [front, left]), or [''] for one "
                'camera on image')
    if len(set(names)) != len(names):
        return f'cameras {names} names a camera twice'
    for n in names:
        tokens = n.split('/')
        if not all(t and re.fullmatch(r'[A-Za-z_][A-Za-z0-9_]*', t) for t in tokens):
            return (f'camera {n!r}: use a relative namespace (letters, digits, _, tokens '
                    'separated by /, not starting with a digit, / or ~)')
    return None


def descriptor(name: str) -> ParameterDescriptor:
    """Build the ParameterDescriptor (description and range) of a parameter."""
    spec = SPECS[name]
    d = ParameterDescriptor(name=name, description=spec.description)
    if spec.lo is not None and isinstance(spec.default, int) and \
            not isinstance(spec.default, bool):
        d.type = ParameterType.PARAMETER_INTEGER
        d.integer_range = [IntegerRange(from_value=int(spec.lo), to_value=int(spec.hi),
                                        step=int(spec.step or 1))]
    elif spec.lo is not None:
        d.type = ParameterType.PARAMETER_DOUBLE
        d.floating_point_range = [FloatingPointRange(from_value=float(spec.lo),
                                                     to_value=float(spec.hi), step=0.0)]
    return d


def validate(name: str, value: Any, *, class_names: Tuple[str, ...] = ()) -> Optional[str]:
    """Return why ``value`` is not acceptable for parameter ``name``, or None if it is."""
    spec = SPECS.get(name)
    if spec is None:
        return None  # not ours (e.g. qos_overrides.*, use_sim_time)
    if spec.lo is not None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f'{name} must be a number, got {value!r}'
        if not spec.lo <= value <= spec.hi:
            return f'{name}={value} is outside [{spec.lo}, {spec.hi}]'
        if name in ('input_width', 'input_height') and (value % 32 or 0 < value < 64):
            return (f'{name}={value} must be 0 (the checkpoint size) or a multiple of 32 '
                    f'from 64 (e.g. {max(64, int(value) // 32 * 32)})')
    if name == 'device':
        v = str(value)
        ok = v in ('auto', 'cpu', 'cuda') or (v.startswith('cuda:') and v[5:].isdigit())
        if not ok:
            return f'device={value!r}: use auto, cpu or cuda:N'
    if name == 'image_transport' and value not in TRANSPORTS:
        return (f'image_transport={value!r}: use raw (sensor_msgs/Image on image) or '
                'compressed (sensor_msgs/CompressedImage on image/compressed)')
    if name == 'cameras':
        return camera_names_problem(value)
    if name == 'depth_topic' and value:
        tokens = str(value).split('/')
        if not all(t and re.fullmatch(r'[A-Za-z_][A-Za-z0-9_]*', t) for t in tokens):
            return (f'depth_topic={value!r}: use a topic relative to the camera (e.g. '
                    "depth/image; remap it to the driver's aligned depth), or '' for none")
    if name == 'backend' and value not in BACKENDS:
        return f'backend={value!r}: use one of {", ".join(BACKENDS)}'
    if name == 'tasks':
        tasks = [t for t in value if t]
        if 'all' in tasks:
            return None if tasks == ['all'] else \
                f'tasks {tasks}: [all] runs every head the model has; do not list others with it'
        bad = [t for t in tasks if t not in TASKS]
        if bad:
            return f'unknown tasks {bad}: use any of {", ".join(TASKS)}'
        if not tasks:
            return 'tasks is empty: enable at least one of ' + ', '.join(TASKS)
        if set(NEEDS_DETECT) & set(tasks) and 'detect' not in tasks:
            return f'{", ".join(t for t in NEEDS_DETECT if t in tasks)} need detect in tasks'
    if name == 'class_filter' and class_names:
        bad = [c for c in value if c and c not in class_names]
        if bad:
            return f'class_filter has unknown classes {bad}; known: {", ".join(class_names)}'
    return None


def run_tasks(requested, available) -> Tuple[Optional[Tuple[str, ...]], Tuple[str, ...]]:
    """
    Return (the heads to run, the requested heads the model lacks).

    :param requested: the ``tasks`` parameter's value (``['all']`` or head names).
    :param available: the heads the loaded model has.
    :return: ``(None, ())`` for ``['all']`` (every head the model has); otherwise the
        requested heads the model has, in the model's order, and those it lacks.
    """
    wanted = [t for t in requested if t]
    if wanted == ['all']:
        return None, ()
    run = tuple(t for t in available if t in wanted)
    return run, tuple(t for t in wanted if t not in available)
