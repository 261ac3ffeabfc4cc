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

"""Parameter validation of the node: every bad value gets a reason, good ones pass."""

import pathlib

from hydranet_perception.ros import params
from rcl_interfaces.msg import ParameterType
import yaml

CLASSES = ('floor', 'person', 'instrument')


def test_defaults_are_valid_and_match_the_shipped_yaml():
    yaml_path = pathlib.Path(__file__).parents[1] / 'config' / 'hydranet.yaml'
    shipped = yaml.safe_load(yaml_path.read_text())['/**']['ros__parameters']
    for name, spec in params.SPECS.items():
        assert params.validate(name, spec.default, class_names=CLASSES) is None, name
    for name, value in shipped.items():
        assert name in params.SPECS, f'{name} in hydranet.yaml is not a node parameter'
        assert value == params.SPECS[name].default, name


def test_ranges_are_in_the_descriptors():
    d = params.descriptor('score_threshold')
    assert d.type == ParameterType.PARAMETER_DOUBLE
    assert (d.floating_point_range[0].from_value, d.floating_point_range[0].to_value) == \
        (0.0, 1.0)
    d = params.descriptor('max_detections')
    assert d.type == ParameterType.PARAMETER_INTEGER and d.integer_range[0].to_value == 1000


def test_bad_values_have_reasons():
    cases = [
        ('score_threshold', 1.5, 'outside'),
        ('score_threshold', 'high', 'must be a number'),
        ('input_width', 100, 'multiple of 32'),
        ('input_width', 32, 'multiple of 32'),
        ('device', 'gpu', 'cpu or cuda:N'),
        ('device', 'cuda:x', 'cpu or cuda:N'),
        ('backend', 'tflite', 'one of'),
        ('tasks', ['masks'], 'need detect'),
        ('tasks', [''], 'empty'),
        ('tasks', ['detect', 'flow'], 'unknown tasks'),
        ('class_filter', ['unicorn'], 'unknown classes'),
    ]
    for name, value, words in cases:
        reason = params.validate(name, value, class_names=CLASSES)
        assert reason and words in reason, (name, value, reason)


def test_good_values_pass():
    for name, value in [('device', 'cuda:1'), ('device', 'cpu'), ('input_width', 0),
                        ('input_width', 640), ('tasks', ['detect', 'semantic']),
                        ('tasks', ['semantic']), ('class_filter', ['person', '']),
                        ('backend', 'openvino'), ('qos_overrides./image.reliability', 'x')]:
        assert params.validate(name, value, class_names=CLASSES) is None, (name, value)
