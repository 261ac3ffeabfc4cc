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


"""Tests of the 3D lifting stage on generated scenes with a depth camera (no ROS)."""

from hydranet_perception.data.synthetic import generate_scene
from hydranet_perception.geometry import CameraModelError, DepthError, PinholeCamera
from hydranet_perception.inference.lift3d_stage import Lift3D
from hydranet_perception.inference.stages import FrameContext, Stages, Tracking
from hydranet_perception.prediction import Prediction
from hydranet_perception.schema import default_label_space
import numpy as np
import pytest

LS = default_label_space()
K_MAX = max((c.keypoint_schema.num_keypoints for c in LS.classes if c.keypoint_schema),
            default=0)


def _truth_prediction(scene) -> Prediction:
    """Return the scene's ground truth as a Prediction (the stage's 2D input)."""
    n = len(scene.instances)
    kps = np.zeros((n, K_MAX, 3), np.float32)
    for i, inst in enumerate(scene.instances):
        k = len(inst.keypoints)
        kps[i, :k, :2] = inst.keypoints[:, :2]
        kps[i, :k, 2] = (inst.keypoints[:, 2] == 2).astype(np.float32)
    return Prediction(
        image_size=(scene.height, scene.width),
        boxes=np.stack([i.box for i in scene.instances]).astype(np.float32),
        scores=np.ones(n, np.float32),
        class_ids=np.array([i.class_id for i in scene.instances], np.int64),
        masks=np.stack([i.mask for i in scene.instances]), keypoints=kps,
        instance_ids=np.arange(1, n + 1, dtype=np.int64))


def _context(scene, depth=None, camera_model=None) -> FrameContext:
    return FrameContext('cam', 1, 0, 'cam', (scene.height, scene.width), LS,
                        depth=depth, camera_model=camera_model)


def test_without_depth_the_prediction_passes_unchanged():
    scene = generate_scene(3, height=96, width=128)
    pred = _truth_prediction(scene)
    stage = Lift3D()
    assert stage(pred, _context(scene)) is pred
    assert stage(pred, _context(scene, depth=np.ones((96, 128), np.float32))) is pred
    assert pred.positions is None and pred.keypoints_3d is None


@pytest.mark.parametrize('seed', range(3))
def test_positions_match_the_truth_within_the_noise(seed):
    scene = generate_scene((13, seed), num_objects=(4, 8), depth=True)
    pred = _truth_prediction(scene)
    out = Lift3D()(pred, _context(scene, scene.depth, scene.camera_info))
    n = len(pred)
    assert out.positions.shape == out.extents.shape == (n, 3)
    assert out.positions.dtype == out.extents.dtype == np.float32
    assert out.depth_pixels.shape == (n,) and out.keypoints_3d.shape == (n, K_MAX, 4)
    assert out.depth_source == 'depth_camera'
    sigma = 0.0025  # DepthOptions.noise: sigma = noise * z**2
    for i, inst in enumerate(scene.instances):
        if out.depth_pixels[i] == 0:
            continue
        z = inst.position[2]
        # the median of n samples has a standard error of 1.25 sigma / sqrt(n); allow 5
        # of them, plus the sub-grid centroid (within a grid cell: the stride is
        # ceil(sqrt(box area / 1024)) pixels, at z metres) and 1 mm quantisation
        x1, y1, x2, y2 = inst.box
        cell = np.ceil(np.sqrt((x2 - x1) * (y2 - y1) / 1024))
        tol = (5 * 1.25 * sigma * z ** 2 / np.sqrt(min(out.depth_pixels[i], 1024))
               + cell * z / scene.camera_info.k[0] + 1e-3)
        assert np.abs(out.positions[i] - inst.position).max() < tol, (i, z)
        # keypoints: visible ones with depth lie on the thing (3x3 median, a few mm)
        k = len(inst.keypoints)
        valid = out.keypoints_3d[i, :k, 3] == 1
        assert (valid <= (inst.keypoints[:, 2] == 2)).all()
        err = np.abs(out.keypoints_3d[i, :k, :3][valid] - inst.keypoints_3d[valid])
        assert (err <= 5 * sigma * z ** 2 + 2e-3).all()


def test_millimetre_depth_and_a_camera_info_dict_give_the_same_answer():
    scene = generate_scene(5, num_objects=(3, 5), depth=True)
    pred = _truth_prediction(scene)
    metres = Lift3D()(pred, _context(scene, scene.depth, scene.camera_info))
    mm = np.round(scene.depth * 1000).astype(np.uint16)
    info = {'k': scene.camera_info.k, 'd': scene.camera_info.d, 'width': scene.width,
            'height': scene.height}
    millis = Lift3D()(pred, _context(scene, mm, info))
    # the generator quantises to 1 mm, so both encodings hold the same values up to float32
    np.testing.assert_allclose(millis.positions, metres.positions, atol=1e-5)
    assert (millis.depth_pixels == metres.depth_pixels).all()


def test_refusals_are_counted_and_2d_keeps_flowing():
    scene = generate_scene(6, height=96, width=128, depth=True)
    pred = _truth_prediction(scene)
    reasons = []
    stage = Lift3D(on_refusal=reasons.append)
    small = scene.depth[::2, ::2]
    assert stage(pred, _context(scene, small, scene.camera_info)) is pred
    zero_f = {'k': [0.0] * 9, 'd': [], 'width': 128, 'height': 96}
    assert stage(pred, _context(scene, scene.depth, zero_f)) is pred
    assert stage(pred, _context(scene, scene.depth.astype(np.float16),
                                scene.camera_info)) is pred
    assert stage.refusals == 3
    assert 'register the depth' in reasons[0] and 'focal length' in reasons[1]
    assert 'float32' in reasons[2]
    with pytest.raises(DepthError):
        Lift3D()(pred, _context(scene, small, scene.camera_info))
    with pytest.raises(CameraModelError):
        Lift3D()(pred, _context(scene, scene.depth, zero_f))


def test_zero_and_nan_depth_give_no_3d_value():
    scene = generate_scene(7, height=96, width=128, depth=True)
    pred = _truth_prediction(scene)
    nan = np.full(scene.depth.shape, np.nan, np.float32)
    out = Lift3D()(pred, _context(scene, nan, PinholeCamera.from_camera_info(scene.camera_info)))
    assert (out.depth_pixels == 0).all() and np.isnan(out.positions).all()
    assert (out.keypoints_3d == 0).all()


def test_select_keeps_3d_fields_aligned_and_stages_time_the_stage():
    scene = generate_scene(8, num_objects=(4, 6), depth=True)
    pred = _truth_prediction(scene)
    stages = Stages([Tracking(), Lift3D()])
    out, timings = stages(pred, _context(scene, scene.depth, scene.camera_info))
    assert set(timings) == {'tracking', 'lift3d'}
    keep = np.arange(len(out))[::-1][:2]
    sub = out.select(keep)
    for name in ('positions', 'extents', 'depth_pixels', 'keypoints_3d'):
        np.testing.assert_array_equal(getattr(sub, name), getattr(out, name)[keep])


def test_a_new_camera_info_with_the_same_values_reuses_the_camera():
    scene = generate_scene(9, height=96, width=128, depth=True)
    pred = _truth_prediction(scene)
    stage = Lift3D()

    def info():
        return {'k': list(scene.camera_info.k), 'd': list(scene.camera_info.d),
                'width': 128, 'height': 96}

    stage(pred, _context(scene, scene.depth, info()))
    first = stage._camera
    stage(pred, _context(scene, scene.depth, info()))
    assert stage._camera is first
    other = info()
    other['k'][0] += 1.0
    stage(pred, _context(scene, scene.depth, other))
    assert stage._camera is not first and stage._camera.fx == first.fx + 1.0
