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
Keypoint refinement by a dense offset field: reading it, its targets, its loss, the head.

Hand-made fields and keypoints, so that each expectation can be checked by hand: a field
that is linear in position is read back exactly between cell centres, and a perfectly
learnt field moves any rough guess within its support onto the keypoint.
"""

from hydranet_perception.coder.torch_ops import sample_offset_field
from hydranet_perception.losses.keypoint_field import field_targets, offset_field_loss
from hydranet_perception.model import build_model, ModelConfig
from hydranet_perception.model.config import load_model_config
from hydranet_perception.model.head_keypoints import KeypointHead
import pytest
import torch
import torch.nn.functional as F

S = 8


def test_a_linear_field_is_read_exactly_between_cell_centres():
    h, w = 5, 7
    ys = (torch.arange(h) + 0.5) * S
    xs = (torch.arange(w) + 0.5) * S
    yy, xx = torch.meshgrid(ys, xs, indexing='ij')
    target = torch.tensor([30.0, 17.0])  # the field points every cell at this pixel
    field = torch.stack([(target[0] - xx) / S, (target[1] - yy) / S])[None]  # K = 1
    xy = torch.tensor([[[[4.0, 4.0]], [[25.3, 11.9]], [[51.9, 35.5]]]])  # [1, 3, 1, 2]
    got = sample_offset_field(field, xy, stride=S)
    assert torch.allclose(xy + got, target.expand_as(xy), atol=1e-4), xy + got


def test_reading_matches_grid_sample_with_border_padding():
    torch.manual_seed(0)
    field = torch.randn(2, 6, 4, 5)  # K = 3
    xy = torch.rand(2, 7, 3, 2) * torch.tensor([60.0, 50.0]) - 10.0  # some outside
    got = sample_offset_field(field, xy, stride=S)
    ref = []
    for k in range(3):
        grid = torch.stack([xy[..., k, 0] / (5 * S), xy[..., k, 1] / (4 * S)], -1) * 2 - 1
        ref.append(F.grid_sample(field[:, 2 * k:2 * k + 2], grid[:, :, None], mode='bilinear',
                                 padding_mode='border', align_corners=False)[..., 0])
    ref = torch.stack(ref, 1).permute(0, 3, 1, 2) * S  # [B, A, K, 2]
    assert torch.allclose(got, ref, atol=1e-5)


def test_targets_point_at_the_nearest_keypoint_of_the_slot_within_the_radius():
    # slot 0: keypoints at (20, 12) and (60, 12); slot 1: one at (20, 28), unlabelled
    points = torch.tensor([[[20.0, 12.0], [20.0, 28.0]], [[60.0, 12.0], [0.0, 0.0]]])
    valid = torch.tensor([[True, False], [True, False]])
    target, mask = field_targets(points, valid, 3, 9, stride=S, radius=1.5)
    cell = lambda i, j: i * 9 + j  # noqa: E731 (cell centre ((j + .5) 8, (i + .5) 8))
    assert mask[cell(1, 2), 0]
    assert torch.allclose(target[cell(1, 2), 0], torch.tensor([0.0, 0.0]))
    assert torch.allclose(target[cell(1, 1), 0], torch.tensor([1.0, 0.0]))  # centre (12, 12)
    assert torch.allclose(target[cell(0, 7), 0], torch.tensor([0.0, 1.0]))  # (60, 4): 2nd
    assert not mask[cell(1, 5), 0]  # (44, 12): 24 and 16 px away, radius 12 px
    assert mask[cell(1, 6), 0]  # (52, 12): 8 px from the second
    assert not mask[:, 1].any()  # nothing labelled in slot 1


def test_a_learnt_field_moves_rough_guesses_onto_the_keypoint():
    points = torch.tensor([[[41.0, 23.0]]])
    target, mask = field_targets(points, torch.tensor([[True]]), 8, 10, stride=S, radius=4.0)
    field = target.reshape(8, 10, 1, 2).permute(2, 3, 0, 1).reshape(1, 2, 8, 10)
    guesses = points[0, 0] + torch.tensor([[9.0, -6.0], [-12.0, 10.0], [3.0, 3.0], [0.0, 0.0]])
    xy = guesses[None, :, None, :]
    refined = xy + sample_offset_field(field, xy, stride=S)
    assert torch.allclose(refined, points[0, 0].expand_as(refined), atol=1e-4), refined


def test_field_loss_is_zero_at_the_target_and_ignores_unused_slots():
    kp = torch.tensor([[[20.0, 12.0, 2.0], [30.0, 20.0, 2.0]]])
    used = [torch.tensor([[True, False]])]
    target, mask = field_targets(kp[..., :2], torch.tensor([[True, False]]), 4, 6, stride=S,
                                 radius=3.0)
    field = target.reshape(4, 6, 2, 2).permute(2, 3, 0, 1).reshape(1, 4, 4, 6).clone()
    field[:, 2:] = 5.0  # slot 1 is not in the schema: never scored
    field.requires_grad_(True)
    loss = offset_field_loss(field, [{'keypoints': kp}], used, stride=S, radius=3.0)
    assert loss.item() == pytest.approx(0.0, abs=1e-6)
    off = offset_field_loss(field + 0.5, [{'keypoints': kp}], used, stride=S, radius=3.0)
    assert off.item() == pytest.approx(1.0, abs=1e-5)  # |0.5| + |0.5| per defined cell
    off.backward()
    assert field.grad[:, 2:].abs().sum() == 0 and field.grad[:, :2].abs().sum() > 0
    none = offset_field_loss(field, [{'boxes': torch.zeros(0, 4)}], used, stride=S, radius=3.0)
    assert none.item() == 0.0 and none.requires_grad


def test_head_starts_as_no_correction_and_keeps_the_output_contract():
    torch.manual_seed(0)
    feats = [torch.randn(2, 16, 4, 6), torch.randn(2, 32, 2, 3), torch.randn(2, 64, 1, 2)]
    plain = KeypointHead(in_channels=(16, 32, 64), num_keypoints=3, hidden=16)
    refine = KeypointHead(in_channels=(16, 32, 64), num_keypoints=3, hidden=16, refine=True)
    refine.branch.load_state_dict(plain.branch.state_dict())
    train = refine.train()(feats)
    assert set(train) == {'keypoints', 'keypoints_coarse', 'keypoints_field'}
    assert train['keypoints_field'].shape == (2, 6, 4, 6)
    assert torch.allclose(train['keypoints'], plain.train()(feats)['keypoints'])
    refine.eval()
    plain.eval()
    assert set(refine(feats)) == {'keypoints'}
    with torch.no_grad():
        refine.field[-1].bias.fill_(0.5)  # half a cell right and down everywhere
    moved = refine(feats)['keypoints']
    base = plain(feats)['keypoints']
    strides = torch.tensor([8.0] * 24 + [16.0] * 6 + [32.0] * 2)[None, :, None]
    assert torch.allclose((moved - base)[..., 0] * strides, torch.full_like(strides, 4.0)
                          .expand_as(moved[..., 0]), atol=1e-5)
    assert torch.equal(moved[..., 2], base[..., 2])  # visibility untouched


def test_config_round_trip_old_checkpoints_and_bad_values():
    cfg = ModelConfig(size='n', input_size=(64, 96), keypoint_refine=True)
    again = load_model_config(cfg.to_dict())
    assert again.keypoint_refine is True
    old = cfg.to_dict()
    del old['keypoint_refine']  # a checkpoint from before the refinement
    assert load_model_config(old).keypoint_refine is False
    assert build_model(load_model_config(old)).heads['keypoints'].field is None
    with pytest.raises(ValueError, match='keypoint_refine'):
        ModelConfig(keypoint_refine='yes')
    with pytest.raises(ValueError, match='kpt_field_radius'):
        load_model_config({'loss': {'kpt_field_radius': 0}})


def test_refining_model_trains_every_keypoint_term_and_exports(tmp_path):
    from hydranet_perception.losses import build_balancer, compute_losses
    torch.manual_seed(0)
    cfg = ModelConfig(size='n', input_size=(64, 96), heads=('detect', 'keypoints'),
                      keypoint_refine=True)
    model = build_model(cfg)
    person = cfg.label_space.by_name('person').id
    kp = torch.zeros(1, cfg.label_space.max_keypoints, 3)
    kp[0, :, 0] = torch.linspace(30, 50, kp.shape[1])
    kp[0, :, 1] = torch.linspace(10, 50, kp.shape[1])
    kp[0, :, 2] = 2
    target = {'boxes': torch.tensor([[28.0, 8.0, 52.0, 52.0]]), 'labels': torch.tensor([person]),
              'keypoints': kp}
    out = model(torch.rand(1, 3, 64, 96))
    total, terms = compute_losses(out, [target], cfg=cfg,
                                  balancer=build_balancer('fixed', tasks=cfg.heads))
    for name in ('oks', 'dist', 'vis', 'coarse_oks', 'coarse_dist', 'field'):
        assert float(terms[f'keypoints/{name}']) > 0, name
    total.backward()
    assert model.heads['keypoints'].field[-1].weight.grad.abs().sum() > 0
    ort = pytest.importorskip('onnxruntime')
    from hydranet_perception.model.export import export_onnx
    model.eval()
    path = tmp_path / 'refine.onnx'
    names = export_onnx(model, path, height=64, width=96)
    x = torch.rand(2, 3, 64, 96)
    with torch.no_grad():
        ref = model(x)
    sess = ort.InferenceSession(str(path), providers=['CPUExecutionProvider'])
    got = dict(zip(names, sess.run(names, {'images': x.numpy()})))
    assert torch.allclose(torch.from_numpy(got['keypoints']), ref['keypoints'], atol=1e-4)


def test_refinement_runs_in_float32_under_bf16_autocast():
    torch.manual_seed(0)
    head = KeypointHead(in_channels=(16, 32, 64), num_keypoints=2, hidden=16, refine=True)
    feats = [torch.randn(1, 16, 40, 40), torch.randn(1, 32, 20, 20), torch.randn(1, 64, 10, 10)]
    with torch.no_grad():
        head.field[-1].bias.copy_(torch.tensor([0.013, 0.0, 0.0, 0.0]))  # 0.1 px in x, slot 0
    head.eval()
    with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16):
        out = head(feats)['keypoints']
        field, head.field = head.field, None
        coarse = head(feats)['keypoints'].float()
        head.field = field
    assert out.dtype == torch.float32
    strides = torch.tensor([8.0] * 1600 + [16.0] * 400 + [32.0] * 100)[None, :]
    moved = (out[..., 0, 0] - coarse[..., 0, 0]) * strides  # pixels, near x = 300
    assert torch.allclose(moved, torch.full_like(moved, 0.104), atol=2e-3), moved
