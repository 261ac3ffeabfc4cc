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

"""Overlay rendering: masks in distinct colours, stuff tinted, input untouched."""

from hydranet_perception.overlay import colorize_panoptic, draw_overlay, instance_color, \
    instance_label
from hydranet_perception.prediction import Prediction
from hydranet_perception.schema import default_label_space
import numpy as np

LS = default_label_space()


def _pred(h=60, w=80):
    masks = np.zeros((2, h, w), bool)
    masks[0, 10:30, 10:30] = True
    masks[1, 35:55, 45:75] = True
    kps = np.zeros((2, LS.max_keypoints, 3), np.float32)
    kps[0, :2] = [[15, 15, 0.9], [25, 25, 0.9]]
    sem = np.full((h, w), 0, np.uint8)
    sem[:, 40:] = 255  # void
    return Prediction(image_size=(h, w),
                      boxes=np.array([[10, 10, 30, 30], [45, 35, 75, 55]], np.float32),
                      scores=np.array([0.9, 0.8], np.float32), class_ids=np.array([3, 5]),
                      masks=masks, keypoints=kps, semantic=sem,
                      instance_ids=np.array([1, 2]))


def test_overlay_colours_instances_and_keeps_input():
    img = np.full((60, 80, 3), 100, np.uint8)
    before = img.copy()
    out = draw_overlay(img, _pred(), LS)
    np.testing.assert_array_equal(img, before)
    assert out.shape == img.shape and out.dtype == np.uint8
    a, b = out[20, 20], out[45, 60]  # inside each mask, away from box edges and labels
    assert not np.array_equal(a, b)
    assert not np.array_equal(a, before[20, 20])
    assert not np.array_equal(out[58, 5], before[58, 5])  # stuff (floor) tinted
    np.testing.assert_array_equal(out[58, 42], before[58, 42])  # void untouched


def test_overlay_blends_each_pixel_once_with_the_top_instance():
    img = np.full((60, 80, 3), 100, np.uint8)
    pred = _pred()
    pred.masks[1, 10:30, 10:30] = True  # the weaker instance also covers mask 0's area
    pred.semantic[:] = 255
    out = draw_overlay(img, pred, LS, mask_alpha=0.5)
    top = np.array(instance_color(1))  # instance 0: score 0.9, panoptic id 1
    np.testing.assert_allclose(out[24, 14], (100 + top) / 2, atol=1)  # off the skeleton
    low = np.array(instance_color(2))
    np.testing.assert_allclose(out[45, 60], (100 + low) / 2, atol=1)
    np.testing.assert_array_equal(out[45, 5], img[45, 5])  # no mask, no stuff


def test_distinct_colours_and_panoptic_colouring():
    colours = {instance_color(i) for i in range(1, 30)}
    assert len(colours) == 29
    pan = np.array([[0, 1], [2, 2]], np.int32)
    rgb = colorize_panoptic(pan)
    assert (rgb[0, 0] == 0).all() and not np.array_equal(rgb[0, 1], rgb[1, 0])


def test_labels_show_the_track_id_of_tracked_instances():
    pred = _pred()
    name = LS.names[int(pred.class_ids[0])]
    assert instance_label(pred, 0, LS).startswith(name)  # no tracker: no id
    pred.track_ids = np.array([7] + [0] * (len(pred.class_ids) - 1), np.int64)
    assert instance_label(pred, 0, LS).startswith(f'#7 {name} ')
    if len(pred.class_ids) > 1:  # tentative (0): no id shown
        assert not instance_label(pred, 1, LS).startswith('#')
    with_id = draw_overlay(np.zeros((60, 80, 3), np.uint8), pred, LS)
    pred.track_ids = None
    without = draw_overlay(np.zeros((60, 80, 3), np.uint8), pred, LS)
    assert (with_id != without).any()  # the id is drawn
