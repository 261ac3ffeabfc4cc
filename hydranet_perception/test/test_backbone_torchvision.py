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

"""A torchvision backbone with ImageNet-style weights from a local file (nothing downloaded)."""

from hydranet_perception.engine.config import load_train_config
from hydranet_perception.engine.train import train
from hydranet_perception.model import build_model, load_model_config
from hydranet_perception.model.backbone_torchvision import load_backbone_weights
from hydranet_perception.model.checkpoint import CheckpointError, load_model, save_checkpoint
import pytest
import torch
import torchvision

SIZE = [64, 96]


def _local_weights(tmp_path, name, seed=0):
    """Save a torchvision state dict as torchvision's cache holds one (random values here)."""
    torch.manual_seed(seed)
    state = getattr(torchvision.models, name)(weights=None).state_dict()
    path = tmp_path / f'{name}.pth'
    torch.save(state, path)
    return path, state


@pytest.mark.parametrize('name', ['resnet18', 'mobilenet_v3_small'])
def test_weights_load_bit_exactly_and_the_heads_are_unchanged(tmp_path, name):
    model = build_model(load_model_config({'size': 'n', 'backbone': name, 'input_size': SIZE}))
    csp = build_model(load_model_config({'size': 'n', 'input_size': SIZE}))
    path, state = _local_weights(tmp_path, name)
    proj = {k: v.clone() for k, v in model.backbone.proj.state_dict().items()}
    report = load_backbone_weights(model, path)
    body = model.backbone.body.state_dict()
    assert set(report.loaded) == set(body) and report.unexpected  # the classifier
    assert all(k.startswith(('fc.', 'classifier.')) for k in report.unexpected)
    assert all(torch.equal(body[k], state[k]) for k in body)
    assert all(torch.equal(v, model.backbone.proj.state_dict()[k]) for k, v in proj.items())
    x = torch.rand(1, 3, *SIZE)
    out, ref = model.eval()(x), csp.eval()(x)
    assert {k: v.shape for k, v in out.items()} == {k: v.shape for k, v in ref.items()}
    # the checkpoint rebuilds the same network
    ckpt = save_checkpoint(tmp_path / 'm.pt', model=model, config=model.config)
    again, cfg, _ = load_model(ckpt)
    assert cfg.backbone == name
    assert torch.equal(again(x)['detect_cls'], out['detect_cls'])


def test_foreign_weights_and_csp_models_are_refused(tmp_path):
    model = build_model(load_model_config({'size': 'n', 'backbone': 'resnet18'}))
    path, _ = _local_weights(tmp_path, 'resnet34')
    with pytest.raises(CheckpointError, match='are not those of this torchvision network'):
        load_backbone_weights(model, path)
    with pytest.raises(CheckpointError, match='need a torchvision backbone'):
        load_backbone_weights(build_model(load_model_config({'size': 'n'})), path)
    bad = tmp_path / 'bad.pth'
    bad.write_bytes(b'not a file torch reads')
    with pytest.raises(CheckpointError, match='bad.pth'):
        load_backbone_weights(model, bad)
    with pytest.raises(ValueError, match="backbone 'vgg16'"):
        load_model_config({'backbone': 'vgg16'})


def test_training_starts_from_the_local_weights(tmp_path, capsys):
    path, state = _local_weights(tmp_path, 'resnet18', seed=3)
    cfg = load_train_config({
        'model': {'size': 'n', 'backbone': 'resnet18', 'heads': ['detect'],
                  'input_size': SIZE},
        'train': {'kind': 'synthetic', 'num_images': 4, 'height': SIZE[0], 'width': SIZE[1]},
        'input_size': SIZE, 'batch_size': 2, 'max_steps': 1, 'workers': 0, 'amp': 'off',
        'tasks': ['detect'], 'out_dir': str(tmp_path / 'run'), 'backbone_weights': str(path),
        'optim': {'lr': 0.0, 'warmup_steps': 1}})
    summary = train(cfg, progress=False)
    assert 'backbone weights' in capsys.readouterr().out
    model, _, _ = load_model(summary['checkpoint'])
    body = model.backbone.body.state_dict()
    conv = [k for k in body if k.endswith('conv1.weight')]  # lr 0: weights as loaded
    assert conv and all(torch.equal(body[k], state[k]) for k in conv)
