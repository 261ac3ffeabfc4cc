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

"""Shared test set-up: an isolated ROS graph per test session, on loopback only."""

import os
import pathlib
import random

PKG_DIR = pathlib.Path(__file__).resolve().parents[1]
REPO_DIR = PKG_DIR.parent

# Every test session gets its own DDS domain, so parallel sessions (and other ROS
# processes on the machine) never see each other; discovery stays on this host.
os.environ.setdefault('ROS_DOMAIN_ID', str(random.Random(os.getpid()).randint(1, 100)))
os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
os.environ.setdefault('RMW_IMPLEMENTATION', 'rmw_fastrtps_cpp')
# Large images need the shared-memory profile (see config/fastdds_shm.xml).
_profile = str(PKG_DIR / 'config' / 'fastdds_shm.xml')
os.environ.setdefault('FASTRTPS_DEFAULT_PROFILES_FILE', _profile)
os.environ.setdefault('FASTDDS_DEFAULT_PROFILES_FILE', _profile)
os.environ.setdefault('PYTHONUNBUFFERED', '1')
# Two cores are shared by the test process and the node processes it starts: busy-waiting
# OpenMP threads would starve each other (a forward pass 100x slower), so they sleep.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
