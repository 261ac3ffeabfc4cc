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


"""Checkpoints: round trip, and clear refusals of missing/truncated/foreign/mismatched files."""

from hydranet_perception.inference import Predictor
from hydranet_perception.model import build_model, ModelConfig
from hydranet_perception.model.checkpoint import CheckpointError, FORMAT, load_checkpoint, \
    load_model, save_checkpoint
import numpy as np
import pytest
import torch

torch.set_num_threads(1)
CFG = ModelConfig(size='n', input_size=(64, 96))


@pytest.fixture(scope='module')
def saved(tmp_path_factory):
    torch.manual_seed(0)
    model = build_model(CFG).eval()
    path = tmp_path_factory.mktemp('ckpt') / 'final.pt'
    save_checkpoint(path, model=model, config=CFG,
                    meta={'step': 12, 'train_state': {'lr': [1e-3], 'note': None}})
    return model, path


def test_round_trip(saved):
    model, path = saved
    raw = torch.load(path, weights_only=True)  # plain data only: never trusted pickle
    assert raw['format'] == FORMAT and raw['version'] == 1
    assert raw['config'] == CFG.to_dict() and raw['label_space'] == CFG.label_space.to_dict()
    loaded, cfg, meta = load_model(path)
    assert cfg == CFG and meta['step'] == 12 and meta['train_state']['lr'] == [1e-3]
    x = torch.rand(1, 3, 64, 96)
    with torch.no_grad():
        a, b = model(x), loaded(x)
    assert all(torch.equal(a[k], b[k]) for k in a)
    ckpt = load_checkpoint(path)
    assert set(ckpt) == {'format', 'version', 'config', 'label_space', 'state_dict', 'meta'}


def test_meta_must_be_plain(tmp_path):
    with pytest.raises(TypeError, match='plain values'):
        save_checkpoint(tmp_path / 'x.pt', model=build_model(CFG), config=CFG,
                        meta={'array': np.zeros(3)})


def test_missing(tmp_path):
    with pytest.raises(CheckpointError, match='does not exist.*hydranet-train'):
        load_checkpoint(tmp_path / 'nope.pt')


@pytest.mark.parametrize('keep', [0, 0.5, 0.98])
def test_truncated(saved, tmp_path, keep):
    data = saved[1].read_bytes()
    bad = tmp_path / 'cut.pt'
    bad.write_bytes(data[:int(len(data) * keep)])
    with pytest.raises(CheckpointError, match='truncated or corrupt.*copy it again'):
        load_checkpoint(bad)


def test_corrupt(saved, tmp_path):
    data = bytearray(saved[1].read_bytes())
    bad = tmp_path / 'garbage.pt'
    bad.write_bytes(bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8)))
    with pytest.raises(CheckpointError, match='truncated or corrupt'):
        load_checkpoint(bad)
    # flip bytes inside the archive's pickle: the zip directory is intact
    i = data.find(b'data.pkl') + 200
    data[i:i + 64] = b'\x00' * 64
    bad.write_bytes(bytes(data))
    with pytest.raises(CheckpointError):
        load_checkpoint(bad)


class Foreign:
    pass


def test_foreign(saved, tmp_path):
    model, _ = saved
    p = tmp_path / 'state.pt'
    torch.save(model.state_dict(), p)
    with pytest.raises(CheckpointError, match='not a hydranet_perception checkpoint.*bare '
                                              'state_dict'):
        load_checkpoint(p)
    torch.save({'format': 'someone.else', 'weights': 1}, p)
    with pytest.raises(CheckpointError, match='not a hydranet_perception checkpoint'):
        load_checkpoint(p)
    torch.save({'model': Foreign()}, p)
    with pytest.raises(CheckpointError, match='pickled Python objects'):
        load_checkpoint(p)
    onnx_path = tmp_path / 'model.onnx'
    onnx_path.write_bytes(b'\x08\x07')
    with pytest.raises(CheckpointError, match='ONNX model, not a checkpoint'):
        load_checkpoint(onnx_path)


def _edited(path, tmp_path, edit):
    ckpt = torch.load(path, weights_only=True)
    edit(ckpt)
    out = tmp_path / 'edited.pt'
    torch.save(ckpt, out)
    return out


def test_mismatched(saved, tmp_path):
    path = saved[1]

    def more_protos(c):
        c['config']['num_prototypes'] = 16
    with pytest.raises(CheckpointError, match='do not match.*shape mismatches.*config the '
                                              'weights were trained with'):
        load_checkpoint(_edited(path, tmp_path, more_protos))

    def drop_head(c):
        c['config']['heads'] = ['detect']
    with pytest.raises(CheckpointError, match='unexpected weights'):
        load_checkpoint(_edited(path, tmp_path, drop_head))

    def drop_weight(c):
        c['state_dict'].pop('backbone.stem.0.weight')
    with pytest.raises(CheckpointError, match='1 missing weights'):
        load_checkpoint(_edited(path, tmp_path, drop_weight))

    def other_classes(c):
        c['label_space']['classes'][0]['name'] = 'ground'
    with pytest.raises(CheckpointError, match='label_space differs'):
        load_checkpoint(_edited(path, tmp_path, other_classes))

    def newer(c):
        c['version'] = 2
    with pytest.raises(CheckpointError, match='version 2.*upgrade'):
        load_checkpoint(_edited(path, tmp_path, newer))


def test_predictor_from_checkpoint(saved):
    _, path = saved
    pred = Predictor(checkpoint=str(path), device='cpu', tasks=['semantic'])
    assert pred.tasks == ('semantic',) and pred.input_size == (64, 96)
    img = np.random.default_rng(0).integers(0, 256, (50, 70, 3), dtype=np.uint8)
    out = pred(img)
    assert out.image_size == (50, 70) and out.semantic.shape == (50, 70)
    assert out.masks is None and len(out) == 0
    with pytest.raises(ValueError, match='exactly one'):
        Predictor(device='cpu')
