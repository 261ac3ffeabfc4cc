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

"""Reproducible short training in tests: one thread, deterministic algorithms."""

import contextlib

import torch


@contextlib.contextmanager
def deterministic_cpu():
    """
    Train with one thread and deterministic algorithms; restore both afterwards.

    One thread fixes the order of floating-point reductions, so that a short run gives
    the same numbers run after run on one machine; tests still assert relative learning,
    since other CPUs (AVX2, AVX-512, AMX) round differently.
    """
    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(deterministic)
        torch.set_num_threads(threads)
