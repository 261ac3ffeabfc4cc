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

"""The ament linters as `colcon test` runs them on a ROS install.

The ament_* Python packages are not on PyPI, so these skip here; test_lint.py runs the
same checks (flake8, pep257, copyright, package.xml) with the tools they wrap.
"""

import pytest


@pytest.mark.linter
def test_ament_flake8():
    main = pytest.importorskip('ament_flake8.main', reason='ament_flake8 needs a ROS install')
    assert main.main_with_errors(argv=[])[0] == 0


@pytest.mark.linter
def test_ament_pep257():
    main = pytest.importorskip('ament_pep257.main', reason='ament_pep257 needs a ROS install')
    assert main.main(argv=['.', 'test']) == 0


@pytest.mark.linter
@pytest.mark.copyright
def test_ament_copyright():
    main = pytest.importorskip('ament_copyright.main',
                               reason='ament_copyright needs a ROS install')
    assert main.main(argv=['.', 'test']) == 0
