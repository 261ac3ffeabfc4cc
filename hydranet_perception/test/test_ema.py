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

"""The weight average: its decay ramp by hand, and training saves and resumes it."""

import math

from hydranet_perception.engine import train
from hydranet_perception.engine.ema import ModelEMA
from hydranet_perception.model.checkpoint import load_checkpoint
import pytest
import torch
from torch import nn
import yaml

TINY = {
    'model': {'size': 'n', 'input_size': [64, 96], 'width': 0.125},
    'train': {'kind': 'synthetic', 'seed': 3, 'num_images': 32, 'height': 60, 'width': 90},
    'input_size': [64, 96], 'batch_size': 2, 'max_steps': 3, 'log_every': 1,
    'ckpt_every': 2, 'workers': 0, 'optim': {'warmup_steps': 2},
    'ema_decay': 0.9, 'ema_tau': 2.0,
}


def _net():
    net = nn.Sequential(nn.Linear(2, 1, bias=False), nn.BatchNorm1d(1))
    nn.init.constant_(net[0].weight, 1.0)
    return net


def test_decay_ramp_and_average_by_hand():
    net = _net()
    ema = ModelEMA(net, decay=0.9, tau=2.0)
    assert ema.decay_at(1) == pytest.approx(0.9 * (1 - math.exp(-0.5)), rel=1e-12)
    assert ema.decay_at(1000) == pytest.approx(0.9, rel=1e-12)
    expected = 1.0
    for n, w in enumerate((3.0, 5.0, -1.0), start=1):
        nn.init.constant_(net[0].weight, w)
        net[1].num_batches_tracked.fill_(10 * n)
        ema.update(net)
        d = 0.9 * (1 - math.exp(-n / 2.0))
        expected = d * expected + (1 - d) * w
        got = float(ema.module[0].weight[0, 0])
        assert got == pytest.approx(expected, rel=1e-6)
        assert int(ema.module[1].num_batches_tracked) == 10 * n  # integers are copied
    assert not any(p.requires_grad for p in ema.module.parameters())
    assert float(net[0].weight.detach()[0, 0]) == -1.0  # the trained model is left alone


def test_state_round_trip():
    net = _net()
    ema = ModelEMA(net, decay=0.5, tau=1.0)
    nn.init.constant_(net[0].weight, 7.0)
    ema.update(net)
    other = ModelEMA(_net(), decay=0.5, tau=1.0)
    other.load_state_dict(ema.state_dict())
    assert other.updates == 1
    assert torch.equal(other.module[0].weight, ema.module[0].weight)


@pytest.mark.parametrize('decay', [-0.1, 1.0])
def test_bad_decay_is_refused(decay):
    with pytest.raises(ValueError, match='ema decay'):
        ModelEMA(_net(), decay=decay)


def test_training_saves_the_average_and_resumes_it(tmp_path):
    path = tmp_path / 'train.yaml'
    path.write_text(yaml.safe_dump({**TINY, 'out_dir': str(tmp_path / 'run')}))
    assert train.main([str(path), '--no-progress']) == 0
    run = tmp_path / 'run'
    final, raw = load_checkpoint(run / 'final.pt'), load_checkpoint(run / 'final_raw.pt')
    last = load_checkpoint(run / 'last.pt')
    ema_state = last['meta']['train_state']['ema']
    assert ema_state['updates'] == 3
    for name, value in final['state_dict'].items():
        assert torch.equal(value, ema_state['module'][name]), name  # final.pt = the average
    assert any(not torch.equal(v, raw['state_dict'][k]) for k, v in final['state_dict'].items()
               if v.dtype.is_floating_point)
    assert train.main([str(path), '--no-progress', '--resume', str(run / 'last.pt'),
                       '--max-steps', '4']) == 0
    assert load_checkpoint(run / 'last.pt')['meta']['train_state']['ema']['updates'] == 4
