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

"""Mask run-length encoding: lossless round trips and agreement with pycocotools."""

from hydranet_perception.masks import (decode_rle, encode_rle, MaskFormatError, rle_area,
                                       rle_bbox, to_coco_rle)
import numpy as np
from pycocotools import mask as coco_mask
import pytest


def _hand_made():
    ring = np.zeros((9, 11), bool)
    ring[1:8, 2:9] = True
    ring[3:6, 4:7] = False  # a hole
    parts = np.zeros((6, 7), bool)
    parts[0, 0] = True  # top-left corner pixel
    parts[2:4, 2:4] = True
    parts[5, 6] = True  # bottom-right corner pixel
    border = np.zeros((5, 5), bool)
    border[0, :] = True
    border[:, 4] = True
    return {
        'ring_with_hole': ring,
        'three_parts_and_corners': parts,
        'touching_border': border,
        'empty': np.zeros((4, 6), bool),
        'full': np.ones((3, 5), bool),
        'single_row': np.array([[0, 1, 1, 0, 1]], bool),
        'single_column': np.array([[1], [0], [1]], bool),
    }


@pytest.mark.parametrize('name', sorted(_hand_made()))
def test_hand_made_masks_round_trip(name):
    mask = _hand_made()[name]
    counts = encode_rle(mask)
    assert counts.dtype == np.uint32
    assert int(counts.sum()) == mask.size
    back = decode_rle(counts, *mask.shape)
    assert back.dtype == bool and back.shape == mask.shape
    np.testing.assert_array_equal(back, mask)
    assert rle_area(counts) == int(mask.sum())


def test_known_counts_by_hand():
    # Column-major: column 0 is [1, 0], column 1 is [1, 1] -> flat 1 0 1 1.
    mask = np.array([[1, 1], [0, 1]], bool)
    assert encode_rle(mask).tolist() == [0, 1, 1, 2]
    assert encode_rle(np.zeros((2, 3), bool)).tolist() == [6]
    assert encode_rle(np.ones((2, 3), bool)).tolist() == [0, 6]


@pytest.mark.parametrize('seed', range(20))
def test_random_masks_round_trip_and_match_pycocotools(seed):
    rng = np.random.default_rng(seed)
    h, w = rng.integers(1, 70, size=2)
    density = rng.uniform(0.0, 1.0)
    mask = rng.random((h, w)) < density
    counts = encode_rle(mask)
    np.testing.assert_array_equal(decode_rle(counts, h, w), mask)
    # The same counts are a valid COCO RLE and decode identically with pycocotools.
    coco = coco_mask.frPyObjects(to_coco_rle(counts, h, w), h, w)
    np.testing.assert_array_equal(coco_mask.decode(coco).astype(bool), mask)
    assert int(coco_mask.area(coco)) == int(mask.sum())


def _reference_counts(mask):
    """Run lengths by walking the column-major pixels one by one."""
    counts, value, run = [], False, 0
    for v in mask.ravel(order='F').tolist():
        if v != value:
            counts.append(run)
            value, run = v, 0
        run += 1
    counts.append(run)
    return counts


@pytest.mark.parametrize('seed', range(12))
def test_counts_equal_a_pixel_walk_for_objects_anywhere(seed):
    # Small objects (the windowed fast path), touching borders and corners, spanning
    # column ends (runs that continue into the next column) and the last pixel.
    rng = np.random.default_rng(seed)
    h, w = rng.integers(1, 40, size=2)
    mask = np.zeros((h, w), bool)
    for _ in range(rng.integers(1, 4)):
        y0, x0 = rng.integers(0, h), rng.integers(0, w)
        mask[y0:y0 + rng.integers(1, h + 1), x0:x0 + rng.integers(1, w + 1)] = True
    if seed % 3 == 0:
        mask[-1, -1] = True
    if seed % 4 == 0:
        mask[:, w // 2] = True  # a full column: one run joins three columns' pixels
    assert encode_rle(mask).tolist() == _reference_counts(mask)


def test_blob_mask_is_compact():
    yy, xx = np.mgrid[:480, :640]
    mask = (yy - 200) ** 2 + (xx - 300) ** 2 < 80 ** 2
    counts = encode_rle(mask)
    # Two runs per column crossed by the disc: far smaller than a cropped bitmap.
    assert counts.size < 2 * 161 + 3
    assert counts.nbytes * 20 < 160 * 160


def test_bbox_of_encoded_mask():
    mask = np.zeros((10, 12), bool)
    mask[2:5, 3:9] = True
    assert rle_bbox(encode_rle(mask), 10, 12) == (3.0, 2.0, 9.0, 5.0)
    assert rle_bbox(encode_rle(np.zeros((3, 3), bool)), 3, 3) == (0.0, 0.0, 0.0, 0.0)


def test_bad_counts_are_refused():
    with pytest.raises(MaskFormatError, match='expected 2 x 3 = 6'):
        decode_rle([1, 2], 2, 3)
    with pytest.raises(MaskFormatError):
        decode_rle([-1, 7], 2, 3)
    with pytest.raises(MaskFormatError, match='2-D'):
        encode_rle(np.zeros((2, 2, 2), bool))
