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


"""Tests of the camera model and the depth lifting (numpy + OpenCV, no ROS)."""

from hydranet_perception.geometry import (CameraInfo, CameraModelError, depth_in_metres,
                                          DepthError, lift_instances, lift_keypoints,
                                          PinholeCamera)
from hydranet_perception.geometry.lift import robust_depth
import numpy as np
import pytest

H, W = 120, 160
K = (100.0, 0.0, 79.5, 0.0, 100.0, 59.5, 0.0, 0.0, 1.0)
D = (0.08, -0.02, 1e-3, -1e-3, 0.0)


def _camera(d=()):
    return PinholeCamera(K, d, width=W, height=H)


def test_zero_focal_length_and_bad_models_are_refused():
    with pytest.raises(CameraModelError, match='focal length'):
        PinholeCamera([0.0] * 9)
    with pytest.raises(CameraModelError, match='focal length'):
        PinholeCamera.from_camera_info({'k': [0, 0, 80, 0, 100, 60, 0, 0, 1], 'd': []})
    with pytest.raises(CameraModelError, match='9 values'):
        PinholeCamera([1.0, 2.0])
    with pytest.raises(CameraModelError, match='distortion model'):
        PinholeCamera.from_camera_info({'k': K, 'd': [0.0] * 4, 'distortion_model': 'fisheye'})
    with pytest.raises(CameraModelError, match='non-finite'):
        PinholeCamera(K, [np.nan, 0, 0, 0, 0])


def test_from_camera_info_dict_dataclass_and_attributes():
    info = CameraInfo(W, H, K, D)
    for src in (info, {'k': K, 'd': D, 'width': W, 'height': H},
                {'K': K, 'D': D, 'width': W, 'height': H}):
        cam = PinholeCamera.from_camera_info(src)
        assert (cam.fx, cam.fy, cam.cx, cam.cy) == (100.0, 100.0, 79.5, 59.5)
        assert cam.d.tolist() == list(D) and (cam.width, cam.height) == (W, H)
    assert PinholeCamera.from_camera_info(info).to_camera_info() == info


def test_rays_without_distortion_are_the_pinhole_inverse():
    cam = _camera()
    rays = cam.pixels_to_rays([[79.5, 59.5], [179.5, 9.5]])
    np.testing.assert_allclose(rays, [[0, 0, 1], [1.0, -0.5, 1]], atol=1e-12)


def test_distortion_round_trip():
    cam = _camera(D)
    rng = np.random.default_rng(0)
    uv = rng.uniform((0, 0), (W - 1, H - 1), (500, 2))
    rays = cam.pixels_to_rays(uv)
    assert np.allclose(rays[:, 2], 1)
    # projecting the rays back gives the pixels; the iteration converges far below a pixel
    np.testing.assert_allclose(cam.project(rays), uv, atol=1e-6)
    # and distortion matters: the pinhole inverse is off by pixels at the corners
    pin = _camera().pixels_to_rays(uv)
    assert np.abs(pin - rays).max() * cam.fx > 0.5
    # the ray map holds the same rays at the pixel centres
    m = cam.ray_map(H, W)
    np.testing.assert_allclose(m[7, 11], cam.pixels_to_rays([[11, 7]])[0, :2], atol=1e-6)


def test_depth_encodings():
    mm = np.array([[0, 1500], [2000, 65535]], np.uint16)
    np.testing.assert_allclose(depth_in_metres(mm, '16UC1'), [[0, 1.5], [2.0, 65.535]],
                               rtol=1e-6)
    m = np.array([[np.nan, 1.5], [-1.0, np.inf]], np.float32)
    assert depth_in_metres(m, '32FC1').tolist() == [[0, 1.5], [0, 0]]
    with pytest.raises(DepthError, match='needs uint16'):
        depth_in_metres(m, '16UC1')
    with pytest.raises(DepthError, match='not supported'):
        depth_in_metres(mm, 'rgb8')
    with pytest.raises(DepthError, match='one channel'):
        depth_in_metres(np.zeros((2, 2, 3), np.float32))
    with pytest.raises(DepthError, match='uint16 millimetres or float32'):
        depth_in_metres(np.zeros((2, 2), np.int32))


def test_depth_of_another_size_is_refused():
    masks = np.zeros((1, H, W), bool)
    with pytest.raises(DepthError, match='register the depth'):
        lift_instances(np.ones((H // 2, W // 2), np.float32), masks, _camera())
    with pytest.raises(DepthError, match='register the depth'):
        lift_keypoints(np.ones((H, W + 1), np.float32), np.zeros((1, 1, 3), np.float32),
                       _camera(), masks=masks)


def test_plane_at_two_metres_with_invalid_pixels_and_outliers():
    cam = _camera()
    depth = np.full((H, W), 2.0, np.float32)
    mask = np.zeros((1, H, W), bool)
    mask[0, 40:80, 60:100] = True  # 1600 pixels, centroid (79.5, 59.5): the principal point
    depth[40:50, 60:100] = 0.0  # a quarter missing
    depth[50, 60:100] = np.nan
    depth[51, 60:100] = 9.0  # background through a ragged edge
    # max_points above the mask's size: every pixel is read (no sub-grid)
    positions, extents, counts = lift_instances(depth_in_metres(depth), mask, cam,
                                                max_points=1600)
    assert counts[0] == 1600 - 400 - 40 - 40
    # the centroid is that of the whole mask (also where depth is missing)
    np.testing.assert_allclose(positions[0], [0.0, 0.0, 2.0], atol=1e-6)
    mask[0, 40:80, 60:80] = False  # the left half goes: centroid (89.5, 59.5), 0.1 m right
    positions, _, _ = lift_instances(depth_in_metres(depth), mask, cam, max_points=1600)
    np.testing.assert_allclose(positions[0], [0.2, 0.0, 2.0], atol=1e-6)
    # on the default sub-grid (stride 2: 1600 > 1024 pixels) the centroid moves by at
    # most one stride, 2 px = 0.04 m at 2 m and 100 px focal length; the depth is exact
    positions, _, counts = lift_instances(depth_in_metres(depth), mask, cam)
    np.testing.assert_allclose(positions[0], [0.2, 0.0, 2.0], atol=0.04)
    assert positions[0, 2] == 2.0 and counts[0] % 4 == 0
    # extent: 5th to 95th percentile of 40 columns at 2 m / 100 px
    assert extents[0, 2] == 0
    assert 0.6 < extents[0, 0] < 0.8 and 0.4 < extents[0, 1] < 0.6


def test_no_valid_depth_gives_nan_and_zero_pixels():
    mask = np.zeros((2, H, W), bool)
    mask[0, 10:20, 10:20] = True
    positions, extents, counts = lift_instances(np.zeros((H, W), np.float32), mask, _camera())
    assert counts.tolist() == [0, 0]
    assert np.isnan(positions).all() and np.isnan(extents).all()


def test_sphere_position_is_its_visible_surface():
    """A sphere of radius 0.3 m at 2.5 m: the median depth lies on its front surface."""
    cam = _camera()
    centre, radius = np.array([0.2, -0.1, 2.5]), 0.3
    v, u = np.mgrid[0:H, 0:W]
    rays = cam.pixels_to_rays(np.stack([u.ravel(), v.ravel()], 1))
    # ray-sphere intersection of rays t * r (r has z = 1): nearest root
    a = (rays ** 2).sum(1)
    b = -2 * rays @ centre
    c = centre @ centre - radius ** 2
    disc = b * b - 4 * a * c
    hit = disc > 0
    t = np.where(hit, (-b - np.sqrt(np.where(hit, disc, 0))) / (2 * a), 0)
    depth = np.where(hit, t, 0).reshape(H, W).astype(np.float32)
    mask = hit.reshape(1, H, W)
    positions, extents, counts = lift_instances(depth, mask, cam)
    assert counts[0] > 0.9 * mask.sum()
    # seen from afar, the visible disc's area median is at rho**2 = 1/2 of the radius
    # squared, where the surface is r * sqrt(1/2) in front of the centre; the x, y follow
    # the centre's ray
    assert centre[2] - radius < positions[0, 2] < centre[2] - 0.5 * radius
    np.testing.assert_allclose(positions[0, :2] / positions[0, 2], centre[:2] / centre[2],
                               atol=2.0 / cam.fx)
    # the lateral extent is the diameter less the 5 % tails on either side: a disc has 5 %
    # of its area beyond 0.8 r from a diameter (less 2 pixels at 2.5 m: discretisation)
    assert 1.6 * radius - 2 * 2.5 / cam.fx < extents[0, 0] < 2 * radius
    assert 0.0 < extents[0, 2] < radius


def test_thin_bar_tip_takes_nearest_depth_in_its_mask():
    cam = _camera()
    depth = np.full((H, W), 3.0, np.float32)  # background
    mask = np.zeros((1, H, W), bool)
    mask[0, 60:62, 20:100] = True  # a bar two pixels thick
    depth[60:62, 20:100] = 1.2
    depth[60:62, 95:100] = 0.0  # the depth camera lost the tip
    kps = np.array([[[99.5, 61.0, 0.9],   # the tip: no depth within 3x3, search
                     [50.5, 61.0, 0.9],   # the middle: direct
                     [50.5, 70.5, 0.9],   # outside the mask, too far from it
                     [50.5, 61.0, 0.0]]], np.float32)  # score 0: no point
    out = lift_keypoints(depth, kps, cam, masks=mask, radius=6)
    assert out[0, :, 3].tolist() == [1, 1, 0, 0]
    expect = cam.pixels_to_rays(kps[0, :2, :2] - 0.5) * 1.2
    np.testing.assert_allclose(out[0, :2, :3], expect, rtol=1e-6)
    assert (out[0, 2:] == 0).all()
    # without the mask the tip would take the background's depth
    assert out[0, 0, 2] == pytest.approx(1.2)


def test_robust_depth_rejects_outliers():
    vals = np.concatenate([np.full(90, 2.0), np.full(10, 5.0)]).astype(np.float32)
    vals[:90] += np.linspace(-0.01, 0.01, 90).astype(np.float32)
    z, keep = robust_depth(vals)
    assert keep[:90].all() and not keep[90:].any()
    assert z == pytest.approx(2.0, abs=1e-3)
