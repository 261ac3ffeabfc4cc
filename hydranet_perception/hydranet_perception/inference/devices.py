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
Devices by name, without importing torch unless a GPU may be there.

A device is a string: ``'cpu'`` or ``'cuda:N'``. ``resolve_device`` is the one place
that turns a user's ``auto``, ``cpu``, ``cuda`` or ``cuda:N`` into one, for training,
evaluation, the Predictor and the node alike. On a machine with no NVIDIA driver it
answers without importing torch, so a node that runs an ONNX runtime on the CPU never
loads it.
"""

import glob
import importlib.util
import os


def nvidia_driver_present() -> bool:
    """Return True when an NVIDIA driver is loaded here (a cheap look at /proc and /dev)."""
    return bool(glob.glob('/proc/driver/nvidia/gpus/*')) or os.path.exists('/dev/nvidia0')


def cuda_device_count() -> int:
    """
    Return the number of CUDA devices torch can use here.

    Imports torch only when a driver is present (torch then says whether it can use it).

    :return: 0 without a driver, without torch, or with a CPU-only torch.
    """
    if not nvidia_driver_present() or importlib.util.find_spec('torch') is None:
        return 0
    import torch
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def resolve_device(device: str = 'auto') -> str:
    """
    Map 'auto', 'cpu', 'cuda' or 'cuda:N' to 'cpu' or 'cuda:N'.

    :param device: 'auto' is the first CUDA device when there is one, else the CPU;
        'cuda' is 'cuda:0'.
    :return: the device name.
    :raises ValueError: an unknown name, or a CUDA device that is not here.
    """
    name = str(device).strip().lower()
    if name == 'auto':
        return 'cuda:0' if cuda_device_count() else 'cpu'
    if name == 'cpu':
        return 'cpu'
    if name == 'cuda':
        name = 'cuda:0'
    index = name[5:] if name.startswith('cuda:') else ''
    if not index.isdigit():
        raise ValueError(f'device {device!r}: use auto, cpu, cuda or cuda:N')
    count = cuda_device_count()
    if not count:
        raise ValueError(f'device {device!r}: CUDA is not available here; use cpu or auto')
    if int(index) >= count:
        raise ValueError(f'device {device!r}: this machine has {count} CUDA device(s), '
                         f'cuda:0 to cuda:{count - 1}')
    return f'cuda:{int(index)}'


def device_index(device: str) -> int:
    """Return N of 'cuda:N' (0 for 'cpu')."""
    return int(device.split(':')[1]) if device.startswith('cuda:') else 0
