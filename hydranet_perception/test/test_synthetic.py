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

"""Tests of the synthetic scene generator (no ROS, no torch)."""

import hashlib
import os
import pathlib
import subprocess
import sys

from hydranet_perception.data.synthetic import generate_scene, generate_sequence
from hydranet_perception.data.synthetic_depth import DepthOptions
from hydranet_perception.data.synthetic_tracking import generate_tracking_sequence
from hydranet_perception.geometry import PinholeCamera
from hydranet_perception.schema import default_label_space, LabelSpace, VOID
import numpy as np
import pytest

H, W = 96, 128


def _check_scene(scene):
    ls = scene.label_space
    assert scene.image.shape == (H, W, 3) and scene.image.dtype == np.uint8
    assert scene.semantic.shape == (H, W) and scene.semantic.dtype == np.uint8
    assert scene.panoptic.shape == (H, W) and scene.panoptic.dtype == np.int32
    seen = np.zeros((H, W), bool)
    for i, inst in enumerate(scene.instances):
        assert inst.mask.dtype == bool and inst.mask.any()
        assert not (seen & inst.mask).any(), 'instance masks overlap'
        seen |= inst.mask
        ys, xs = np.nonzero(inst.mask)
        assert inst.box.tolist() == [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
        assert (scene.semantic[inst.mask] == inst.class_id).all()
        assert (scene.panoptic[inst.mask] == inst.segment_id).all()
        schema = ls.classes[inst.class_id].keypoint_schema
        assert inst.keypoints.shape == (schema.num_keypoints if schema else 0, 3)
        for x, y, v in inst.keypoints:
            if v == 0:
                assert x == 0 and y == 0
                continue
            assert 0 <= x < W and 0 <= y < H
            assert inst.mask[int(y), int(x)] == (v == 2)
    # the panoptic map covers the image: every pixel is a listed segment or void
    ids = set(np.unique(scene.panoptic).tolist()) - {0}
    assert ids == {s.id for s in scene.segments}
    for s in scene.segments:
        sel = scene.panoptic == s.id
        assert s.area == sel.sum() > 0
        assert (scene.semantic[sel] == s.class_id).all()
        assert s.is_thing == ls.classes[s.class_id].is_thing
        if s.is_thing:
            assert scene.instances[s.instance_index].segment_id == s.id
    assert ((scene.panoptic == 0) == (scene.semantic == VOID)).all()


def test_same_seed_same_bytes_different_seed_differs():
    a, b = generate_scene(11, height=H, width=W), generate_scene(11, height=H, width=W)
    assert a.image.tobytes() == b.image.tobytes()
    assert a.panoptic.tobytes() == b.panoptic.tobytes()
    assert len(a.instances) == len(b.instances)
    for x, y in zip(a.instances, b.instances):
        assert x.keypoints.tobytes() == y.keypoints.tobytes()
        assert (x.mask == y.mask).all() and x.class_id == y.class_id
    c = generate_scene(12, height=H, width=W)
    assert a.image.tobytes() != c.image.tobytes()
    assert generate_scene((11, 3), height=H, width=W).image.tobytes() != a.image.tobytes()


@pytest.mark.parametrize('seed', range(12))
def test_ground_truth_is_consistent(seed):
    _check_scene(generate_scene(seed, height=H, width=W))


def test_occlusion_is_reflected_in_masks_and_visibility():
    vis = []
    classes = set()
    for seed in range(10):
        scene = generate_scene(seed, height=H, width=W, num_objects=(6, 8), void_prob=1.0)
        _check_scene(scene)
        vis += [kp[:, 2] for kp in (i.keypoints for i in scene.instances) if len(kp)]
        classes |= {i.class_id for i in scene.instances}
    vis = np.concatenate(vis)
    assert {0.0, 1.0, 2.0} <= set(vis.tolist())  # outside, occluded and visible all occur
    assert classes == set(default_label_space().thing_ids)


def test_unoccluded_keypoints_are_visible():
    for seed in range(40):
        scene = generate_scene(seed, height=H, width=W, num_objects=(1, 1), void_prob=0.0,
                               scale_range=(0.2, 1.5))
        for inst in scene.instances:
            assert set(inst.keypoints[:, 2].tolist()) <= {0.0, 2.0}


def test_options_and_label_space():
    empty = generate_scene(1, height=H, width=W, num_objects=(0, 0), void_prob=0.0)
    assert empty.instances == [] and all(not s.is_thing for s in empty.segments)
    assert (empty.panoptic > 0).all()
    ls = LabelSpace.from_names(stuff=('floor', 'wall'), things=('box',))
    scene = generate_scene(2, height=H, width=W, label_space=ls, num_objects=(3, 3))
    assert {i.class_id for i in scene.instances} == {2}
    assert set(np.unique(scene.semantic).tolist()) <= {0, 1, 2, VOID}
    with pytest.raises(ValueError):
        generate_scene(0, height=H, width=W,
                       label_space=LabelSpace.from_names(stuff=('sky',), things=('car',)))


def test_sequence_tracks_and_smooth_motion():
    frames = list(generate_sequence(5, 8, height=H, width=W, num_objects=(3, 4)))
    assert frames[0].image.tobytes() == generate_scene(5, height=H, width=W,
                                                       num_objects=(3, 4)).image.tobytes()
    classes, centroids, keypoints = {}, {}, {}
    for f, scene in enumerate(frames):
        _check_scene(scene)
        assert scene.frame_index == f
        ids = [i.track_id for i in scene.instances]
        assert len(set(ids)) == len(ids) and min(ids) >= 1
        for inst in scene.instances:
            assert classes.setdefault(inst.track_id, inst.class_id) == inst.class_id
            ys, xs = np.nonzero(inst.mask)
            centroids.setdefault(inst.track_id, {})[f] = (xs.mean(), ys.mean())
            if len(inst.keypoints) == 17:
                keypoints.setdefault(inst.track_id, {})[f] = inst.keypoints
    assert len(centroids) >= 3
    for track in centroids.values():
        steps = [np.hypot(*np.subtract(track[f + 1], track[f]))
                 for f in range(7) if f in track and f + 1 in track]
        assert len(steps) >= 4 and max(steps) < 0.1 * np.hypot(H, W)
    moved = []
    for track in keypoints.values():
        for f in range(7):
            if f in track and f + 1 in track:
                both = (track[f][:, 2] == 2) & (track[f + 1][:, 2] == 2)
                d = np.hypot(*(track[f + 1][both, :2] - track[f][both, :2]).T)
                moved.append(d)
    moved = np.concatenate(moved)
    assert moved.max() > 0 and moved.max() < 0.15 * np.hypot(H, W)
    # same background: stuff pixels not covered by things in either frame agree
    free = (frames[0].panoptic > 0) & (frames[-1].panoptic > 0)
    free &= ~np.isin(frames[0].semantic, default_label_space().thing_ids)
    free &= ~np.isin(frames[-1].semantic, default_label_space().thing_ids)
    assert (frames[0].semantic[free] == frames[-1].semantic[free]).all()


def test_same_bytes_in_a_fresh_process():
    code = ('import hashlib; from hydranet_perception.data.synthetic import generate_scene; '
            's = generate_scene(3, height=40, width=56); '
            'print(hashlib.sha256(s.image.tobytes() + s.panoptic.tobytes()).hexdigest())')
    env = dict(os.environ, PYTHONPATH=str(pathlib.Path(__file__).resolve().parents[1]))
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         env=env, check=True).stdout.strip()
    s = generate_scene(3, height=40, width=56)
    assert out == hashlib.sha256(s.image.tobytes() + s.panoptic.tobytes()).hexdigest()


def test_depth_is_off_by_default_and_changes_nothing_2d():
    off = generate_scene(4, height=H, width=W, num_objects=(3, 5))
    on = generate_scene(4, height=H, width=W, num_objects=(3, 5), depth=True)
    assert off.depth is None and off.camera_info is None
    assert all(i.position is None and i.keypoints_3d is None for i in off.instances)
    assert on.image.tobytes() == off.image.tobytes()
    assert on.panoptic.tobytes() == off.panoptic.tobytes()
    assert [i.keypoints.tobytes() for i in on.instances] == \
        [i.keypoints.tobytes() for i in off.instances]


@pytest.mark.parametrize('seed', range(4))
def test_depth_truth_is_consistent(seed):
    scene = generate_scene(seed, num_objects=(4, 6), depth=True)
    h, w = scene.height, scene.width
    assert scene.depth.shape == scene.depth_true.shape == (h, w)
    assert scene.depth.dtype == scene.depth_true.dtype == np.float32
    assert (scene.depth_true > 0).all() and (scene.depth >= 0).all()
    info = scene.camera_info
    assert (info.width, info.height, info.distortion_model) == (w, h, 'plumb_bob')
    assert len(info.d) == 5 and max(abs(v) for v in info.d) <= 0.08
    cam = PinholeCamera.from_camera_info(info)
    rays = cam.ray_map(h, w).astype(np.float64)
    zs = []
    for inst in sorted(scene.instances, key=lambda i: i.track_id):
        z = scene.depth_true[inst.mask]
        assert np.ptp(z) == 0 and 0.5 <= z[0] <= 4.0  # a plate at its sampled distance
        zs.append(float(z[0]))
        r = rays[inst.mask]
        np.testing.assert_allclose(inst.position, [r[:, 0].mean() * z[0], r[:, 1].mean() * z[0],
                                                   z[0]], rtol=1e-5)
        for (x, y, v), p in zip(inst.keypoints, inst.keypoints_3d):
            if v == 0:
                assert (p == 0).all()
                continue
            assert p[2] == pytest.approx(z[0], rel=1e-6)
            # the 3D point projects back onto the keypoint (CameraInfo pixels: -0.5)
            np.testing.assert_allclose(cam.project(p[None])[0], (x - 0.5, y - 0.5), atol=1e-3)
            if v == 2:
                assert scene.depth_true[int(y), int(x)] == pytest.approx(p[2])
    # painter's order is depth order: a thing painted later is nearer
    assert zs == sorted(zs, reverse=True)


def test_depth_noise_grows_with_distance_squared_and_edges_go_missing():
    opts = DepthOptions()
    res, jumps, missing_edge, missing_flat = [], 0, 0, 0
    for seed in range(3):
        scene = generate_scene(seed, num_objects=(4, 6), depth=True)
        t, d = scene.depth_true.astype(np.float64), scene.depth.astype(np.float64)
        ok = (d > 0) & (t > 1.0)  # quantisation (1 mm) is small against sigma from 1 m on
        res.append((d[ok] - t[ok]) / (opts.noise * t[ok] ** 2))
        edge = np.zeros(t.shape, bool)
        jump = np.maximum(t[:, 1:], t[:, :-1]) > 1.05 * np.minimum(t[:, 1:], t[:, :-1])
        edge[:, 1:] |= jump
        edge[:, :-1] |= jump
        jumps += edge.sum()
        missing_edge += (edge & (d == 0)).sum()
        missing_flat += (~edge & (d == 0) & (t <= opts.max_range)).sum() / (~edge).sum()
    res = np.concatenate(res)
    # unit normal residuals: mean 0, std 1 within a few standard errors (n >> 10^4)
    assert abs(res.mean()) < 0.05 and 0.9 < res.std() < 1.1
    assert missing_edge / jumps > opts.edge_dropout - 0.1
    assert missing_flat / 3 < 2 * opts.dropout


def test_depth_in_sequences_is_stable_per_thing():
    frames = list(generate_tracking_sequence(2, 4, height=H, width=W, depth=True))
    z = {}
    for scene in frames:
        for inst in scene.instances:
            assert z.setdefault(inst.track_id, inst.position[2]) == inst.position[2]
    # the sensor noise changes per frame, the truth does not
    assert frames[0].depth.tobytes() != frames[1].depth.tobytes()
