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
What an ONNX runtime serves with imports no torch; the layers import only downwards.

Each import runs in a fresh interpreter, so nothing imported by another test hides a
torch import.
"""

import ast
import pathlib
import subprocess
import sys

import pytest

PKG = pathlib.Path(__file__).resolve().parents[1]
SRC = PKG / 'hydranet_perception'

TORCH_FREE = ['hydranet_perception.postprocess', 'hydranet_perception.postprocess.pipeline',
              'hydranet_perception.postprocess.letterbox', 'hydranet_perception.preprocess',
              'hydranet_perception.prediction', 'hydranet_perception.schema',
              'hydranet_perception.masks', 'hydranet_perception.overlay',
              'hydranet_perception.image_codec', 'hydranet_perception.coder',
              'hydranet_perception.coder.numpy_ops', 'hydranet_perception.onnx_meta',
              'hydranet_perception.model.config']


@pytest.mark.parametrize('module', TORCH_FREE)
def test_import_without_torch(module):
    code = (f'import sys; import {module}; '
            "bad = [m for m in ('torch', 'torchvision') if m in sys.modules]; "
            'assert not bad, bad')
    res = subprocess.run([sys.executable, '-c', code], cwd=PKG, capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, f'{module} imports torch:\n{res.stderr}'


def test_postprocess_runs_without_torch():
    # The whole path an ONNX runtime takes after the forward pass, on numpy outputs.
    code = """
import sys
import numpy as np
from hydranet_perception.coder.numpy_ops import anchors_for
from hydranet_perception.postprocess import postprocess
from hydranet_perception.preprocess import letterbox
from hydranet_perception.schema import default_label_space
ls = default_label_space()
x, info = letterbox(np.zeros((48, 64, 3), np.uint8), (64, 64))
a = anchors_for(64, 64).shape[0]
rng = np.random.default_rng(0)
out = {'detect_cls': rng.normal(0, 3, (1, a, ls.num_things)).astype(np.float32),
       'detect_box': rng.normal(0, 1, (1, a, 4)).astype(np.float32),
       'masks_coef': rng.normal(0, 1, (1, a, 4)).astype(np.float32),
       'masks_protos': rng.normal(0, 1, (1, 4, 16, 16)).astype(np.float32),
       'keypoints': rng.normal(0, 1, (1, a, ls.max_keypoints, 3)).astype(np.float32),
       'semantic': rng.normal(0, 1, (1, ls.num_classes, 16, 16)).astype(np.float32)}
(pred,) = postprocess(out, info, label_space=ls)
assert len(pred) > 0 and pred.masks.shape[1:] == (48, 64) and pred.panoptic is not None
assert 'torch' not in sys.modules and 'torchvision' not in sys.modules
"""
    res = subprocess.run([sys.executable, '-c', code], cwd=PKG, capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr


def _imports(path: pathlib.Path):
    """Return the hydranet_perception modules a file imports (at any depth)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f'{node.module}.{a.name}' for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return {n for n in names if n.startswith('hydranet_perception')}


# (files, layers they must not import): the arrows run coder <- model, losses,
# postprocess; preprocessing and postprocessing sit below the model.
RULES = [('coder', ('model', 'losses', 'postprocess', 'engine', 'ros', 'inference')),
         ('postprocess', ('model', 'losses', 'engine', 'ros', 'inference')),
         ('preprocess.py', ('model', 'losses', 'postprocess', 'engine', 'ros', 'inference')),
         ('losses', ('postprocess', 'engine', 'ros', 'inference')),
         ('model', ('postprocess', 'losses', 'engine', 'ros', 'inference'))]


@pytest.mark.parametrize('where,forbidden', RULES, ids=[r[0] for r in RULES])
def test_layers_import_downwards(where, forbidden):
    root = SRC / where
    files = [root] if root.is_file() else sorted(root.rglob('*.py'))
    assert files
    bad = [f'{f.relative_to(SRC)} imports {n}' for f in files for n in sorted(_imports(f))
           if any(n == f'hydranet_perception.{x}' or n.startswith(f'hydranet_perception.{x}.')
                  for x in forbidden)]
    assert not bad, bad
