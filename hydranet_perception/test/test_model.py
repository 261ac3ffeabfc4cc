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


"""HydraNet: keys and shapes per task subset, sizes n and s, train and eval mode."""

from hydranet_perception.model import build_model, load_model_config, ModelConfig
from hydranet_perception.schema import default_label_space
import pytest
import torch

torch.set_num_threads(1)
H, W = 64, 96
LS = default_label_space()
A = sum((H // s) * (W // s) for s in (8, 16, 32))
T, C, K, P = LS.num_things, LS.num_classes, LS.max_keypoints, 32

EXPECTED = {
    'detect': {'detect_cls': (2, A, T), 'detect_box': (2, A, 4), 'detect_anchors': (A, 3)},
    'masks': {'masks_coef': (2, A, P), 'masks_protos': (2, P, H // 4, W // 4)},
    'semantic': {'semantic': (2, C, H // 4, W // 4)},
    'keypoints': {'keypoints': (2, A, K, 3)},
}
SUBSETS = [None, ('detect',), ('semantic',), ('masks',), ('keypoints',),
           ('detect', 'semantic'), ('masks', 'keypoints')]


@pytest.fixture(scope='module', params=['n', 's'])
def model(request):
    torch.manual_seed(0)
    return build_model(ModelConfig(size=request.param, input_size=(H, W)))


def _expected_keys(tasks):
    run = set(tasks or EXPECTED)
    if run & {'masks', 'keypoints'}:
        run.add('detect')
    return {k: v for t in run for k, v in EXPECTED[t].items()}


@pytest.mark.parametrize('train', [True, False])
@pytest.mark.parametrize('tasks', SUBSETS)
def test_keys_and_shapes(model, tasks, train):
    model.train(train)
    torch.manual_seed(1)
    with torch.no_grad():
        out = model(torch.rand(2, 3, H, W), tasks=tasks)
    want = _expected_keys(tasks)
    assert {k: tuple(v.shape) for k, v in out.items()} == want
    assert all(v.dtype == torch.float32 and torch.isfinite(v).all() for v in out.values())


def test_unrequested_heads_are_not_executed(model):
    calls = dict.fromkeys(model.heads, 0)
    hooks = [head.register_forward_hook(
        lambda *_, n=name: calls.__setitem__(n, calls[n] + 1))
        for name, head in model.heads.items()]
    try:
        model.eval()
        with torch.no_grad():
            model(torch.rand(1, 3, H, W), tasks=['semantic'])
            assert calls == {'detect': 0, 'masks': 0, 'semantic': 1, 'keypoints': 0}
            model(torch.rand(1, 3, H, W), tasks=['keypoints'])
            assert calls == {'detect': 1, 'masks': 0, 'semantic': 1, 'keypoints': 1}
    finally:
        for h in hooks:
            h.remove()


def test_anchor_layout():
    m = build_model(ModelConfig(heads=('detect',), input_size=(H, W))).eval()
    with torch.no_grad():
        anchors = m(torch.rand(1, 3, H, W))['detect_anchors']
    assert anchors[0].tolist() == [4.0, 4.0, 8.0]
    assert anchors[1].tolist() == [12.0, 4.0, 8.0]  # row-major inside a level
    n8 = (H // 8) * (W // 8)
    assert anchors[n8].tolist() == [8.0, 8.0, 16.0]
    assert anchors[-1].tolist() == [W - 16.0, H - 16.0, 32.0]


def test_seeded_build_is_deterministic():
    outs = []
    for _ in range(2):
        torch.manual_seed(0)
        m = build_model(ModelConfig(input_size=(H, W))).eval()
        with torch.no_grad():
            outs.append(m(torch.ones(1, 3, H, W)))
    for k in outs[0]:
        assert torch.equal(outs[0][k], outs[1][k]), k


def test_sizes_and_parameter_budget():
    n = build_model(ModelConfig(size='n'))
    s = build_model(ModelConfig(size='s'))
    count = [sum(p.numel() for p in m.parameters()) for m in (n, s)]
    assert count[0] < count[1]
    assert count[0] < 3.0e6  # lighter than either YOLOv8n-seg (3.4M) or -pose (3.3M)


def test_heads_built_and_requested():
    m = build_model(ModelConfig(heads=('detect', 'semantic'), input_size=(H, W)))
    assert set(m.heads) == {'detect', 'semantic'}
    with pytest.raises(ValueError, match='not built'):
        m(torch.rand(1, 3, H, W), tasks=['masks'])
    with pytest.raises(ValueError, match='unknown tasks'):
        m(torch.rand(1, 3, H, W), tasks=['flow'])


def test_config_validation_and_round_trip(tmp_path):
    with pytest.raises(ValueError, match='needs the detect head'):
        ModelConfig(heads=('masks', 'semantic'))
    with pytest.raises(ValueError, match='multiples of 32'):
        ModelConfig(input_size=(100, 640))
    with pytest.raises(ValueError, match='size'):
        ModelConfig(size='xl')
    with pytest.raises(ValueError, match='unknown model config keys'):
        load_model_config({'sise': 'n'})
    cfg = ModelConfig(size='s', heads=('detect', 'keypoints'), num_prototypes=16,
                      input_size=(320, 320))
    assert load_model_config(cfg.to_dict()) == cfg
    path = tmp_path / 'model.yaml'
    path.write_text('size: n\nheads: [detect, masks]\ninput_size: [256, 320]\n'
                    'label_space: default\nloss: {box: 2.0}\n')
    cfg = load_model_config(path)
    assert cfg.heads == ('detect', 'masks') and cfg.input_size == (256, 320)
    assert cfg.loss.box == 2.0 and cfg.label_space == LS
