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


"""The letterbox of preprocess.py: hand-worked values, and PyTorch's resize, value for value."""

from hydranet_perception import preprocess
from hydranet_perception.data import transforms
from hydranet_perception.postprocess.letterbox import letterbox as torch_letterbox, \
    letterbox_info as pp_letterbox_info, LetterboxInfo as PPLetterboxInfo
from hydranet_perception.preprocess import letterbox, letterbox_info, letterbox_params, \
    LetterboxInfo, resize_uint8
import numpy as np
import pytest
import torch
import torch.nn.functional as F

torch.set_num_threads(1)

# Sizes that shrink, enlarge, change one side only, keep the size, and reach 1 pixel.
SIZES = [((480, 640), (256, 320)), ((480, 640), (480, 640)), ((100, 37), (64, 96)),
         ((17, 300), (32, 32)), ((5, 7), (96, 128)), ((1, 1), (32, 64)),
         ((333, 251), (256, 320)), ((64, 480), (64, 64)), ((720, 1280), (384, 640))]


def _torch_letterbox(image: np.ndarray, size, fill=114):
    """Letterbox as the Predictor did with PyTorch before preprocess.py."""
    info = letterbox_info(image.shape[:2], size)
    t = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None]
    (nh, nw), (oy, ox) = info.resized, info.offset
    if (nh, nw) != info.orig_size:
        t = F.interpolate(t, size=(nh, nw), mode='bilinear', align_corners=False,
                          antialias=True)
    out = torch.full((3,) + info.input_size, float(fill))
    out[:, oy:oy + nh, ox:ox + nw] = t[0]
    return out.div_(255.0).clamp_(0.0, 1.0).numpy(), info


def test_one_geometry_everywhere():
    assert transforms.letterbox_params is preprocess.letterbox_params
    assert PPLetterboxInfo is LetterboxInfo
    assert pp_letterbox_info is letterbox_info
    info = letterbox_info((480, 640), (256, 320))
    assert (info.resized, info.offset) == letterbox_params((480, 640), (256, 320))
    assert info == LetterboxInfo((480, 640), (256, 320), (240, 320), (8, 0))
    assert letterbox_params((100, 100), (64, 64), scale=1.5) == ((96, 96), (-16, -16))
    with pytest.raises(ValueError):
        letterbox_info((0, 5), (32, 32))


def test_resize_by_hand():
    # Shrinking 4 -> 2 columns: triangle filter of half-width 2 input pixels centred at
    # 1 and 3, weights (3, 3, 1) / 7 on pixels 0-2 and (1, 3, 3) / 7 on pixels 1-3:
    # 500 / 7 and 1450 / 7, rounded to uint8.
    row = np.array([0, 100, 200, 250], np.uint8)
    img = np.repeat(row[None, :, None], 3, axis=2)  # [1, 4, 3]
    out = resize_uint8(img, (1, 2))
    assert out.shape == (3, 1, 2)
    assert out[:, 0].tolist() == [[71, 207]] * 3
    # A constant image stays constant whatever the scale.
    flat = np.full((37, 53, 3), 200, np.uint8)
    for size in [(5, 9), (37, 100), (80, 20)]:
        assert (resize_uint8(flat, size) == 200).all()


def test_letterbox_values_and_padding():
    img = np.full((240, 320, 3), 200, np.uint8)
    x, info = letterbox(img, (480, 640))
    assert x.shape == (3, 480, 640) and x.dtype == np.float32 and x.flags['C_CONTIGUOUS']
    assert info.resized == (480, 640) and info.offset == (0, 0)
    np.testing.assert_allclose(x, np.float32(200) / np.float32(255))
    x, info = letterbox(np.full((100, 300, 3), 7, np.uint8), (96, 96))
    (nh, nw), (oy, ox) = info.resized, info.offset
    assert (nh, nw) == (32, 96) and (oy, ox) == (32, 0)
    np.testing.assert_allclose(x[:, oy:oy + nh], np.float32(7) / np.float32(255))
    np.testing.assert_allclose(x[:, :oy], np.float32(114) / np.float32(255))
    np.testing.assert_allclose(x[:, oy + nh:], np.float32(114) / np.float32(255))
    with pytest.raises(ValueError):
        letterbox(np.zeros((10, 10), np.uint8), (32, 32))
    with pytest.raises(ValueError):
        letterbox(np.zeros((10, 10, 4), np.uint8), (32, 32))


@pytest.mark.skipif(torch.backends.cpu.get_cpu_capability() == 'DEFAULT',
                    reason="PyTorch's generic (non-AVX2) uint8 resize rounds otherwise; "
                           'preprocess.py computes what its vectorised kernel computes')
@pytest.mark.parametrize('src,dst', SIZES)
def test_letterbox_equals_pytorch(src, dst):
    # The same integer arithmetic as PyTorch's uint8 antialiased resize (int16 weights,
    # rounding after each pass), so the values agree exactly; 1e-6 covers only the
    # division by 255 in float32.
    rng = np.random.default_rng(sum(src) + sum(dst))
    img = rng.integers(0, 256, src + (3,), dtype=np.uint8)
    want, want_info = _torch_letterbox(img, dst)
    got, info = letterbox(img, dst)
    assert info == want_info
    assert got.shape == want.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
    # The torch-facing letterbox kept for PyTorch callers gives the same tensor.
    t, t_info = torch_letterbox(img, dst)
    assert t_info == info and t.dtype == torch.float32
    np.testing.assert_array_equal(t.numpy(), got)


def test_letterbox_takes_tensors_and_other_dtypes():
    rng = np.random.default_rng(3)
    img = rng.integers(0, 256, (50, 70, 3), dtype=np.uint8)
    x, _ = torch_letterbox(torch.from_numpy(img), (64, 64))
    np.testing.assert_array_equal(x.numpy(), letterbox(img, (64, 64))[0])
    # A float image goes through PyTorch's float resize (as before), close to uint8's.
    xf, _ = torch_letterbox(img.astype(np.float32), (64, 64))
    assert float((xf - x).abs().max()) <= 1.0 / 255 + 1e-6
