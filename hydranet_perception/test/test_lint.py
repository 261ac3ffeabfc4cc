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
The ament house style, checked with the same tools ament's linters wrap.

flake8 (99 columns, single quotes, Google import order), pep257 docstrings, Apache-2.0
copyright headers, and package.xml validated as catkin_pkg (rosdep, colcon) reads it.
setup.cfg holds ament's flake8 and pep257 configuration, so these agree with
test_ament_linters.py (ament_flake8 and ament_pep257 themselves, on the package) and
also cover bench/ and tools/; the headers stand in for ament_copyright (not on PyPI).
"""

import pathlib
import subprocess
import sys
import xml.etree.ElementTree as ET

from catkin_pkg.package import parse_package
import pytest

PKG = pathlib.Path(__file__).resolve().parents[1]
REPO = PKG.parent
PY_ROOTS = [PKG / 'hydranet_perception', PKG / 'test', PKG / 'launch', PKG / 'setup.py',
            REPO / 'bench', REPO / 'tools']


def _py_files():
    files = []
    for root in PY_ROOTS:
        if root.is_file():
            files.append(root)
        elif root.is_dir():
            files.extend(p for p in root.rglob('*.py') if '__pycache__' not in p.parts)
    return sorted(files)


def test_there_are_files_to_lint():
    assert len(_py_files()) > 10


def test_flake8():
    res = subprocess.run(
        [sys.executable, '-m', 'flake8', '--config', str(PKG / 'setup.cfg'),
         *map(str, _py_files())], capture_output=True, text=True)
    assert res.returncode == 0, 'flake8 found problems:\n' + res.stdout + res.stderr


def test_pep257():
    res = subprocess.run(
        [sys.executable, '-m', 'pydocstyle', '--config', str(PKG / 'setup.cfg'),
         '--property-decorators=',
         *map(str, _py_files())], capture_output=True, text=True)
    assert res.returncode == 0, 'pep257 problems:\n' + res.stdout + res.stderr


def test_copyright_headers():
    missing = []
    for p in _py_files():
        head = '\n'.join(p.read_text().splitlines()[:20])
        if 'Copyright' not in head or ('Apache License' not in head
                                       and 'Apache-2.0' not in head):
            missing.append(str(p.relative_to(REPO)))
    assert not missing, f'files without an Apache-2.0 copyright header: {missing}'


@pytest.mark.parametrize('pkg_dir', ['hydranet_perception', 'hydranet_perception_msgs'])
def test_package_xml(pkg_dir):
    path = REPO / pkg_dir / 'package.xml'
    root = ET.parse(path).getroot()  # well-formed XML
    assert root.tag == 'package' and root.get('format') == '3'
    pkg = parse_package(str(path), warnings=(warnings := []))
    pkg.validate()  # raises InvalidPackage on a bad name, version, e-mail or dependency
    assert pkg.name == pkg_dir
    assert not warnings, warnings
    assert pkg.licenses == ['Apache-2.0']
    build_type = pkg.get_build_type()
    assert build_type == ('ament_python' if pkg_dir == 'hydranet_perception' else 'ament_cmake')
