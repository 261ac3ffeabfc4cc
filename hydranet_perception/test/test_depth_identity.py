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
The depth and identity heads: losses, metrics, coder twins, data, model, export, postprocess.

Hand-made tensors with answers derived by hand; the model tests use a tiny input.
Tolerances: float32 arithmetic on values of order 1 (relative rounding ~6e-8 per
operation, a few dozen operations) -> 1e-5; the exp twins -> 2 float32 ulps.
"""

import math

from hydranet_perception.coder import numpy_ops, torch_ops
from hydranet_perception.data.datasets import scene_to_sample
from hydranet_perception.data.sequence_pairs import pair_collate, SequencePairDataset
from hydranet_perception.data.synthetic import generate_scene
from hydranet_perception.data.transforms import Letterbox, RandomHorizontalFlip
from hydranet_perception.engine.metrics_depth import depth_errors, DepthAccumulator, \
    evaluate_depth, ground_plane_depth, median_scaled
from hydranet_perception.inference import Predictor
from hydranet_perception.inference.lift3d_stage import Lift3D
from hydranet_perception.inference.stages import FrameContext, Tracking
from hydranet_perception.losses import build_balancer, compute_losses
from hydranet_perception.losses.assign import Assignment
from hydranet_perception.losses.depth import depth_loss
from hydranet_perception.losses.identity import identity_labels, identity_loss, supcon
from hydranet_perception.model import build_model, ModelConfig
from hydranet_perception.model.checkpoint import load_model, save_checkpoint
from hydranet_perception.postprocess.letterbox import LetterboxInfo
from hydranet_perception.postprocess.pipeline import postprocess
from hydranet_perception.schema import default_label_space
import numpy as np
import pytest
import torch

torch.set_num_threads(1)
ALL = ('detect', 'masks', 'semantic', 'keypoints', 'depth', 'identity')
TOL = 1e-5


# -- depth loss --------------------------------------------------------------------------

def test_depth_loss_hand_values_and_masking():
    gt = torch.ones(4, 4)
    gt[0, :] = 0.0  # unknown
    gt[1, 0] = float('nan')  # unknown
    pred = torch.full((1, 1, 2, 2), math.log(2.0))  # upsampled to 4x4: constant
    out = depth_loss(pred, [{'depth': gt}])
    # d = log 2 on every valid pixel: l1 = log 2; si = log2^2 - 0.5 log2^2
    assert out['l1'].item() == pytest.approx(math.log(2.0), abs=TOL)
    assert out['si'].item() == pytest.approx(0.5 * math.log(2.0) ** 2, abs=TOL)
    exact = depth_loss(torch.zeros(1, 1, 4, 4), [{'depth': gt}])
    assert exact['l1'].item() == pytest.approx(0.0, abs=TOL)
    assert exact['si'].item() == pytest.approx(0.0, abs=TOL)


def test_depth_loss_scale_invariance_and_skips():
    torch.manual_seed(0)
    gt = torch.rand(2, 8, 8) * 5 + 0.5
    pred = (gt.log() + 0.3)[:, None]
    out = depth_loss(pred, [{'depth': gt[0]}, {'depth': gt[1]}], lam=1.0)
    assert out['si'].item() == pytest.approx(0.0, abs=TOL)  # a global scale costs nothing
    assert out['l1'].item() == pytest.approx(0.3, abs=TOL)  # ... but L1 sees it
    none = depth_loss(pred, [{}, {'depth': torch.zeros(8, 8)}])
    assert none['l1'].item() == 0.0 and none['si'].item() == 0.0
    assert none['l1'].requires_grad is False or none['l1'].grad_fn is not None


def test_depth_loss_gradient_points_to_the_truth():
    gt = torch.full((4, 4), 2.0)
    pred = torch.zeros(1, 1, 4, 4, requires_grad=True)  # 1 m everywhere: too near
    out = depth_loss(pred, [{'depth': gt}])
    (out['l1'] + out['si']).backward()
    assert (pred.grad < 0).all()  # gradient descent raises the predicted depth


# -- identity loss -----------------------------------------------------------------------

def test_supcon_hand_values():
    e1, e2 = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    emb = torch.stack([e1, e1, e2, e2])
    t = 0.5  # values of order 1: float32 log-sum-exp is good to ~1e-6 absolute
    # Each anchor: one positive at s=1, two negatives at s=0 (itself excluded).
    good = supcon(emb, torch.tensor([0, 0, 1, 1]), temperature=t)
    assert good.item() == pytest.approx(math.log(1 + 2 * math.exp(-1 / t)), abs=TOL)
    # Labels across the clusters: the positive is at s=0, the same-cluster one at s=1.
    bad = supcon(emb, torch.tensor([0, 1, 0, 1]), temperature=t)
    assert bad.item() == pytest.approx(math.log(math.exp(1 / t) + 2), abs=TOL)
    alone = supcon(emb, torch.tensor([0, 1, 2, 3]), temperature=t)
    assert alone.item() == 0.0


def test_identity_labels_and_loss_from_an_assignment():
    fg = torch.tensor([[True, True, False], [True, False, True]])
    gi = torch.tensor([[0, 1, 0], [1, 0, 0]])
    a = Assignment(fg=fg, gt_index=gi, target_scores=torch.zeros(2, 3, 1),
                   target_boxes=torch.zeros(2, 3, 4))
    targets = [{'track_ids': torch.tensor([5, 7]), 'identity_group': 3},
               {'track_ids': torch.tensor([5, 0]), 'identity_group': 3}]
    lab = identity_labels(targets, a)
    shift = 1 << 24
    assert lab.tolist() == [[3 * shift + 5, 3 * shift + 7, -1], [-1, -1, 3 * shift + 5]]
    # Without groups, images are separate worlds: track 5 in image 0 is not image 1's 5.
    lab2 = identity_labels([{'track_ids': torch.tensor([5, 7])},
                            {'track_ids': torch.tensor([5, 7])}], a)
    assert lab2[0, 0] != lab2[1, 0]
    emb = torch.nn.functional.normalize(torch.randn(2, 3, 8), dim=-1).requires_grad_()
    loss = identity_loss(emb, targets, a)['con']
    loss.backward()
    # Only the positive anchors with a known track get a gradient.
    assert emb.grad[0, 2].abs().sum() == 0 and emb.grad[1, 1].abs().sum() == 0
    assert emb.grad[0, 0].abs().sum() > 0


# -- metrics -----------------------------------------------------------------------------

def test_depth_errors_hand_values():
    pred = np.array([[1.0, 2.0, 4.0, 3.0]])
    true = np.array([[1.0, 1.0, 2.0, 0.0]])  # the last pixel is unknown
    e = depth_errors(pred, true)
    assert e['pixels'] == 3
    assert e['abs_rel'] == pytest.approx((0 + 1 + 1) / 3)
    assert e['delta1'] == pytest.approx(1 / 3)
    r = depth_errors(pred, true, np.array([[True, False, False, True]]))
    assert r['pixels'] == 1 and r['abs_rel'] == 0.0 and r['delta1'] == 1.0
    assert math.isnan(depth_errors(pred, true, np.zeros((1, 4), bool))['abs_rel'])
    with pytest.raises(ValueError, match='shapes'):
        depth_errors(pred, true[:, :3])


def test_ground_plane_matches_a_ray_plane_intersection():
    fy, cy, h = 100.0, 49.5, 1.5
    horizon = 29.5  # pitched down: tan(pitch) = (cy - horizon) / fy
    z = ground_plane_depth(100, 3, fy=fy, cy=cy, horizon_row=horizon, camera_height=h,
                           max_depth=50.0)
    pitch = math.atan2(cy - horizon, fy)
    normal = np.array([0.0, math.cos(pitch), math.sin(pitch)])  # floor, camera frame
    for v in (35, 50, 99):
        ray = np.array([0.0, (v - cy) / fy, 1.0])  # z = 1
        assert z[v, 1] == pytest.approx(h / normal.dot(ray), rel=1e-5)
    assert (z[:32] == 50.0).all()  # at and above the horizon, and beyond 50 m: the clip


def test_median_scaling_and_accumulator():
    true = np.array([[1.0, 2.0], [4.0, 0.0]])
    assert np.allclose(median_scaled(true * 3.0, true)[true > 0], true[true > 0])
    acc = DepthAccumulator()
    acc.add(true, true, {'top': np.array([[True, True], [False, False]])})
    acc.add(true * 2, true)
    r = acc.result(['all', 'top'])
    assert list(r) == ['all', 'top']
    assert r['all'] == {'abs_rel': 0.5, 'delta1': 0.5, 'images': 2}  # mean of 0 and 1
    assert r['top'] == {'abs_rel': 0.0, 'delta1': 1.0, 'images': 1}


# -- coder -------------------------------------------------------------------------------

def test_decode_depth_twins_equal():
    raw = np.concatenate([np.linspace(-30, 30, 997), [-1e6, 1e6, 0.0]]).astype(np.float32)
    a = numpy_ops.decode_depth(raw)
    b = torch_ops.decode_depth(torch.from_numpy(raw)).numpy()
    assert a.dtype == np.float32 and b.dtype == np.float32
    np.testing.assert_allclose(a, b, rtol=2.4e-7, atol=0)  # 2 float32 ulps (exp's rounding)
    assert a.min() == pytest.approx(0.1, rel=1e-6) and a.max() == pytest.approx(100.0, rel=1e-6)
    assert a[-1] == 1.0


# -- data --------------------------------------------------------------------------------

@pytest.fixture(scope='module')
def depth_sample():
    scene = generate_scene((5, 3), height=96, width=128, depth=True,
                           num_objects=(4, 4))
    return scene_to_sample(scene)


def _z_by_track(target):
    """Return {track id: the one depth on its mask}; asserts the depth is constant there."""
    out = {}
    for tid, m in zip(target['track_ids'].tolist(), target['masks'].bool()):
        vals = target['depth'][m]
        assert vals.numel() and torch.all(vals == vals[0]), 'depth not aligned with the mask'
        out[tid] = float(vals[0])
    return out


def test_depth_and_track_ids_follow_the_letterbox_and_flip(depth_sample):
    image, target = depth_sample
    assert target['depth'].shape == image.shape[1:] and (target['depth'] > 0).all()
    z0 = _z_by_track(target)
    # Zoom 1.5 and shift so that the crop drops some instances.
    lb = Letterbox((96, 128))
    img, t = lb.apply(image, target, (144, 192), (-40, -50))
    assert len(t['track_ids']) == len(t['labels']) <= len(target['labels'])
    z1 = _z_by_track(t)
    assert all(z1[k] == z0[k] for k in z1)  # kept instances keep their own depth
    # Shrink and pad: depth is 0 exactly on the padding.
    img, t = lb.apply(image, target, (48, 64), (10, 20))
    pad = torch.ones(96, 128, dtype=torch.bool)
    pad[10:58, 20:84] = False
    assert ((t['depth'] == 0) == pad).all()
    img, t = RandomHorizontalFlip(default_label_space(), p=1.0).flip(img, t)
    assert ((t['depth'] == 0) == pad.flip(-1)).all()
    z2 = _z_by_track(t)
    assert all(z2[k] == z0[k] for k in z2)


def test_sequence_pairs_share_a_group_and_are_deterministic():
    ds = SequencePairDataset(3, seed=2, height=64, width=96, gap=(2, 2))
    pair = ds[1]
    (ia, ta), (ib, tb) = pair
    assert ta['identity_group'] == tb['identity_group'] == 1
    assert set(ta['track_ids'].tolist()) & set(tb['track_ids'].tolist())
    assert not torch.equal(ia, ib)  # the two frames differ
    again = ds[1]
    assert torch.equal(again[0][0], ia) and torch.equal(again[1][0], ib)
    images, targets = pair_collate([ds[0], ds[2]])
    assert images.shape[0] == 4 and [t['identity_group'] for t in targets] == [0, 0, 2, 2]


# -- model, checkpoint, export, postprocess ----------------------------------------------

H, W = 64, 96


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    return build_model(ModelConfig(size='n', heads=ALL, input_size=(H, W),
                                   embedding_dim=16)).eval()


def test_default_heads_unchanged_and_new_heads_opt_in(model):
    assert ModelConfig().heads == ('detect', 'masks', 'semantic', 'keypoints')
    x = torch.rand(2, 3, H, W)
    with torch.no_grad():
        out = model(x)
        assert out['depth'].shape == (2, 1, H // 4, W // 4)
        a = out['detect_anchors'].shape[0]
        assert out['identity'].shape == (2, a, 16)
        norms = out['identity'].norm(dim=-1)
        assert torch.allclose(norms, torch.ones_like(norms), atol=TOL)
        assert set(model(x, tasks=['depth'])) == {'depth'}
        assert set(model(x, tasks=['identity'])) == {'detect_cls', 'detect_box',
                                                     'detect_anchors', 'identity'}
    with pytest.raises(ValueError, match='needs the detect head'):
        ModelConfig(heads=('identity',))


def test_losses_of_all_heads_and_checkpoint_round_trip(model, tmp_path, depth_sample):
    image, target = depth_sample
    lb = Letterbox((H, W))
    img, t = lb(image, target)
    t['identity_group'] = 0
    net = build_model(model.config).train()
    bal = build_balancer('fixed', tasks=ALL)
    total, terms = compute_losses(net(img[None]), [t], cfg=model.config, balancer=bal)
    assert torch.isfinite(total)
    for k in ('depth/l1', 'depth/si', 'identity/con'):
        assert k in terms and torch.isfinite(terms[k])
    path = save_checkpoint(tmp_path / 'm.pt', model=model, config=model.config)
    loaded = load_model(path)[0]
    assert loaded.tasks == ALL and loaded.config.embedding_dim == 16


def test_old_config_dicts_still_load():
    d = ModelConfig().to_dict()
    del d['embedding_dim']
    for k in ('depth_l1', 'depth_si', 'id_con'):
        del d['loss'][k]
    m = build_model(d)
    assert m.tasks == ('detect', 'masks', 'semantic', 'keypoints')


def test_onnx_export_has_the_new_outputs(model, tmp_path):
    ort = pytest.importorskip('onnxruntime')
    from hydranet_perception.model.export import export_onnx, read_metadata
    x = torch.rand(1, 3, H, W)
    path = tmp_path / 'm.onnx'
    names = export_onnx(model, path, height=H, width=W, dynamic_batch=False)
    assert 'depth' in names and 'identity' in names
    assert read_metadata(path)['tasks'] == list(ALL)
    sess = ort.InferenceSession(str(path), providers=['CPUExecutionProvider'])
    got = dict(zip(names, sess.run(None, {'images': x.numpy()})))
    with torch.no_grad():
        ref = model(x)
    for k in ('depth', 'identity'):
        np.testing.assert_allclose(got[k], ref[k].numpy(), atol=1e-4, rtol=1e-4)
    dec = tmp_path / 'd.onnx'
    names = export_onnx(model, dec, height=H, width=W, dynamic_batch=False, decode=True)
    got = dict(zip(names, ort.InferenceSession(str(dec), providers=[
        'CPUExecutionProvider']).run(None, {'images': x.numpy()})))
    np.testing.assert_allclose(got['depth'], torch_ops.decode_depth(ref['depth']).numpy(),
                               rtol=1e-3)  # exp of a 1e-4 absolute log difference


def test_postprocess_hand_made_depth_and_embeddings():
    ls = default_label_space()
    t = ls.num_things
    anchors = numpy_ops.anchors_for(32, 32)
    a = anchors.shape[0]
    cls = np.full((1, a, t), -10.0, np.float32)
    cls[0, 3, 0] = 5.0  # one confident detection at anchor 3
    emb = np.zeros((1, a, 4), np.float32)
    emb[0, :, 0] = 1.0
    emb[0, 3] = [0.0, 0.6, 0.8, 0.0]
    outputs = {'detect_cls': cls, 'detect_box': np.zeros((1, a, 4), np.float32),
               'detect_anchors': anchors, 'identity': emb,
               'depth': np.full((1, 1, 8, 8), math.log(2.5), np.float32)}
    info = LetterboxInfo(orig_size=(16, 32), input_size=(32, 32), resized=(16, 32),
                         offset=(8, 0))
    (pred,) = postprocess(outputs, info, label_space=ls)
    assert len(pred) == 1
    np.testing.assert_allclose(pred.embeddings, [[0.0, 0.6, 0.8, 0.0]])
    assert pred.depth.shape == (16, 32)
    np.testing.assert_allclose(pred.depth, 2.5, rtol=1e-6)
    assert pred.select(np.array([False])).embeddings.shape == (0, 4)


def test_predictor_and_lift3d_use_the_monocular_head(model):
    predictor = Predictor(model=model, device='cpu', score_thresh=0.0, max_det=5)
    pred = predictor(np.random.default_rng(0).integers(0, 255, (48, 80, 3), dtype=np.uint8))
    assert pred.depth.shape == (48, 80) and (pred.depth > 0).all()
    assert pred.embeddings.shape == (len(pred), 16)
    ctx = FrameContext(camera='c', stamp_sec=0, stamp_nanosec=0, frame_id='c',
                       image_size=(48, 80), label_space=model.config.label_space,
                       camera_model={'k': (50.0, 0, 40, 0, 50.0, 24, 0, 0, 1),
                                     'd': (0.0,) * 5, 'width': 80, 'height': 48,
                                     'distortion_model': 'plumb_bob'})
    lifted = Lift3D()(Tracking()(pred, ctx), ctx)  # the tracker takes the embeddings
    assert lifted.track_ids.shape == (len(pred),)
    assert lifted.depth_source == 'monocular_head'
    assert lifted.positions.shape == (len(pred), 3)
    report = evaluate_depth(predictor, num_images=2, height=48, width=64)
    assert set(report) == {'head', 'head_median_scaled', 'ground_plane_median_scaled'}
    assert list(report['head'])[:3] == ['all', 'things', 'stuff']
    assert report['head']['all']['images'] == 2
