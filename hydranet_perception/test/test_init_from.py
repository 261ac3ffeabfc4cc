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

"""``init_from``: transfer every matching tensor to a model with a new label space."""

import copy

from hydranet_perception.engine.train import main as train_main
from hydranet_perception.model import build_model, load_model_config
from hydranet_perception.model.checkpoint import CheckpointError, save_checkpoint
from hydranet_perception.model.init_from import init_from, init_from_checkpoint
from hydranet_perception.schema import default_label_space, INSTRUMENT, LabelSpace
import pytest
import torch

NEW = LabelSpace.from_names(stuff=('floor',), things=('clip', 'instrument'),
                            schemas={'instrument': INSTRUMENT})


@pytest.fixture(scope='module')
def source():
    torch.manual_seed(1)
    cfg = load_model_config({'size': 'n'})
    model = build_model(cfg)
    with torch.no_grad():  # distinct, non-default values everywhere
        for t in model.state_dict().values():
            if t.is_floating_point():
                t.add_(torch.randn_like(t) * 0.1)
    return model, cfg


def _target(heads=('detect', 'masks', 'semantic', 'keypoints'), ls=NEW):
    torch.manual_seed(2)
    return build_model(load_model_config({'size': 'n', 'label_space': ls.to_dict(),
                                          'heads': list(heads)}))


def test_new_label_space_copies_the_trunk_and_class_rows_by_name(source):
    src, src_cfg = source
    dst = _target()
    built = copy.deepcopy(dst.state_dict())
    rep = init_from(dst, src.state_dict(), source_label_space=src_cfg.label_space,
                    target_label_space=NEW)
    state, src_state = dst.state_dict(), src.state_dict()
    trunk = [k for k in state if k.startswith(('backbone.', 'neck.'))]
    assert trunk and all(torch.equal(state[k], src_state[k]) for k in trunk)
    assert all(k in rep.loaded for k in trunk)
    # box regression and mask head do not depend on the label space: copied whole
    name = 'heads.detect.box.0.2.weight'
    assert torch.equal(state[name], src_state[name])
    assert 'heads.masks.proto.3.weight' in rep.loaded
    # detection classifier: 'instrument' (source thing channel 1, new channel 1) copied,
    # 'clip' (new) as built
    old = default_label_space()
    i_src = old.thing_index(old.by_name('instrument').id)
    for level in range(3):
        for suffix in ('weight', 'bias'):
            name = f'heads.detect.cls.{level}.2.{suffix}'
            assert rep.partial[name] == ['instrument']
            assert torch.equal(state[name][1], src_state[name][i_src])
            assert torch.equal(state[name][0], built[name][0])
    # semantic classifier over all classes: floor and instrument copied, clip new
    name = 'heads.semantic.classify.weight'
    assert rep.partial[name] == ['floor', 'instrument']
    assert torch.equal(state[name][0], src_state[name][old.by_name('floor').id])
    assert torch.equal(state[name][1], built[name][1])
    # the keypoint output (4 x 3 rows, not 17 x 3) is re-initialised, not sliced
    name = 'heads.keypoints.branch.0.2.weight'
    assert rep.shape_mismatched[name] == ((51, 64, 1, 1), (12, 64, 1, 1))
    assert torch.equal(state[name], built[name])
    assert not rep.missing and not rep.unexpected
    assert len(rep.loaded) + len(rep.partial) + len(rep.shape_mismatched) == len(state)
    out = dst.eval()(torch.zeros(1, 3, 64, 96))
    assert out['detect_cls'].shape[-1] == 2 and out['semantic'].shape[1] == 3


def test_without_label_spaces_class_layers_are_reinitialised(source):
    src, _ = source
    dst = _target()
    built = copy.deepcopy(dst.state_dict())
    rep = init_from(dst, src.state_dict())
    assert not rep.partial
    name = 'heads.detect.cls.0.2.weight'
    assert rep.shape_mismatched[name] == ((3, 64, 1, 1), (2, 64, 1, 1))
    assert torch.equal(dst.state_dict()[name], built[name])


def test_dropped_and_new_heads_are_reported(source):
    src, src_cfg = source
    dst = _target(heads=('detect', 'masks'))
    rep = init_from(dst, src.state_dict(), source_label_space=src_cfg.label_space,
                    target_label_space=NEW)
    assert rep.unexpected and all(k.startswith(('heads.semantic.', 'heads.keypoints.'))
                                  for k in rep.unexpected)
    text = rep.text()
    assert 'heads.keypoints.* (' in text and 'ignored' in text
    # the reverse: a head the source lacks is missing, left as built
    small = build_model(load_model_config({'size': 'n', 'heads': ['detect']}))
    back = init_from(_target(), small.state_dict())
    assert back.missing and all(k.startswith(('heads.masks.', 'heads.semantic.',
                                              'heads.keypoints.')) for k in back.missing)


def test_init_from_checkpoint_and_cli(source, tmp_path, capsys):
    src, src_cfg = source
    path = save_checkpoint(tmp_path / 'src.pt', model=src, config=src_cfg)
    dst = _target()
    rep = init_from_checkpoint(dst, path, target_label_space=NEW)
    assert rep.partial and len(rep.loaded) > 100
    assert all(torch.equal(dst.state_dict()[k], src.state_dict()[k]) for k in rep.loaded)
    with pytest.raises(CheckpointError, match='does not exist'):
        init_from_checkpoint(dst, tmp_path / 'nope.pt')
    cfg = tmp_path / 'train.yaml'
    cfg.write_text('max_steps: 1\n')
    assert train_main([str(cfg), '--resume', str(path), '--init-from', str(path)]) == 2
    assert '--init-from starts a new one' in capsys.readouterr().err
