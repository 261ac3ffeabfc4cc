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
The hydranet metadata of an exported ONNX graph, read and written without torch.

``model.export`` stores three string properties in the graph: ``hydranet_config``
(the model config as JSON), ``hydranet_tasks`` (JSON list of the heads in the graph)
and ``hydranet_decoded`` (JSON bool, whether the graph decodes boxes, keypoints and depth).
A runtime that already holds a session parses its property map with ``parse_metadata``
(onnxruntime: ``session.get_modelmeta().custom_metadata_map``); ``read_metadata``
reads a file with the ``onnx`` package.
"""

import json
from typing import Any, Dict, Mapping, Optional, Sequence

__all__ = ['CONFIG_KEY', 'DECODED_KEY', 'metadata_props', 'parse_metadata', 'read_metadata',
           'TASKS_KEY']

CONFIG_KEY = 'hydranet_config'
TASKS_KEY = 'hydranet_tasks'
DECODED_KEY = 'hydranet_decoded'


def metadata_props(config: Optional[Mapping[str, Any]], tasks: Sequence[str],
                   decoded: bool) -> Dict[str, str]:
    """
    Return the string properties that describe an exported graph.

    :param config: the model config as a dict (``ModelConfig.to_dict()``), or None.
    :param tasks: the heads in the graph.
    :param decoded: whether the graph decodes boxes, scores and keypoints.
    :return: {key: JSON string}.
    """
    props = {TASKS_KEY: json.dumps(list(tasks)), DECODED_KEY: json.dumps(bool(decoded))}
    if config is not None:
        props[CONFIG_KEY] = json.dumps(dict(config))
    return props


def parse_metadata(props: Mapping[str, str]) -> Dict[str, object]:
    """
    Return the hydranet metadata held in a graph's property map.

    :param props: {key: value} of the graph's metadata properties.
    :return: {'config': config dict or None, 'tasks': list of str, 'decoded': bool}.
    """
    return {'config': json.loads(props[CONFIG_KEY]) if CONFIG_KEY in props else None,
            'tasks': json.loads(props.get(TASKS_KEY, '[]')),
            'decoded': json.loads(props.get(DECODED_KEY, 'false'))}


def read_metadata(path) -> Dict[str, object]:
    """
    Return the hydranet metadata of an exported file (config dict, tasks, decoded).

    :param path: the .onnx file.
    :return: as ``parse_metadata``.
    """
    import onnx
    m = onnx.load(str(path), load_external_data=False)
    return parse_metadata({p.key: p.value for p in m.metadata_props})
