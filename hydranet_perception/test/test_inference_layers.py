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
The package reads as layers: the core imports without ROS and never reaches up into ros/.

Every module outside ``hydranet_perception/ros`` is imported in a process where rclpy
cannot be imported (a ``sys.meta_path`` finder refuses it), and no module outside
``ros/`` names ``hydranet_perception.ros`` in an import statement.
"""

import ast
import pathlib
import subprocess
import sys

PKG_DIR = pathlib.Path(__file__).resolve().parents[1]
SRC = PKG_DIR / 'hydranet_perception'


def _core_modules():
    for path in sorted(SRC.rglob('*.py')):
        rel = path.relative_to(SRC.parent).with_suffix('')
        parts = rel.parts[:-1] if rel.name == '__init__' else rel.parts
        if len(parts) > 1 and parts[1] == 'ros':
            continue
        yield path, '.'.join(parts)


def test_every_core_module_imports_with_rclpy_absent():
    modules = [name for _, name in _core_modules()]
    assert len(modules) > 30 and 'hydranet_perception.inference.predictor' in modules
    code = f"""
import importlib, importlib.abc, sys

class NoRos(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == 'rclpy' or name.startswith('rclpy.'):
            raise ImportError('rclpy is blocked in this test')
        return None

sys.meta_path.insert(0, NoRos())
failed = []
for name in {modules!r}:
    try:
        importlib.import_module(name)
    except Exception as e:
        failed.append(f'{{name}}: {{type(e).__name__}}: {{e}}')
assert 'rclpy' not in sys.modules
print('\\n'.join(failed))
"""
    out = subprocess.run([sys.executable, '-c', code], cwd=PKG_DIR, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip() == '', out.stdout


def test_no_core_module_imports_ros():
    offenders = []
    for path, name in _core_modules():
        for node in ast.walk(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                targets = [node.module] + [f'{node.module}.{a.name}' for a in node.names]
            if any(t == 'hydranet_perception.ros' or t.startswith('hydranet_perception.ros.')
                   for t in targets):
                offenders.append(name)
    assert offenders == []
