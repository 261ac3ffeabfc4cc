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
hydranet-import: Ultralytics YOLOv8-seg weights in a ``family: yolov8`` HydraNet.

The Ultralytics models are built from their YAML files with seeded random weights
(``yolov8_parity``; nothing is downloaded) and compared with Ultralytics' own
prediction on the same image at the same input size: raw head tensors, then decoded
detections matched by class and IoU (never by row). Tests that need ``ultralytics``
(bench-only, AGPL-3.0) skip without it.
"""

import argparse
import json
import pathlib
import struct
import tempfile

from hydranet_perception.coder import numpy_ops, torch_ops
from hydranet_perception.inference.predictor import Predictor
from hydranet_perception.model import build_model, ModelConfig
from hydranet_perception.model.checkpoint import load_model
from hydranet_perception.model.config import load_model_config
from hydranet_perception.model.import_yolov8 import import_yolov8, KPT_VIS_OFF, main
from hydranet_perception.model.yolov8_family import ultralytics_name_table
from hydranet_perception.model.yolov8_sources import COCO80, identify, ImportRefused, \
    read_safetensors, read_source
from hydranet_perception.onnx_meta import read_metadata
from hydranet_perception.postprocess.match import match_detections
from hydranet_perception.schema import LabelSpace
from hypothesis import given, HealthCheck, settings, strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
import numpy as np
import pytest
import torch

set_hypothesis_home_dir(pathlib.Path(tempfile.gettempdir()) / 'hydranet_perception_hypothesis')
FUZZ = settings(derandomize=True, database=None, deadline=None, max_examples=100,
                suppress_health_check=[HealthCheck.too_slow,
                                       HealthCheck.function_scoped_fixture])

H, W = 256, 320


def _ultralytics():
    return pytest.importorskip('ultralytics', reason='ultralytics is not installed (bench '
                               'only: pip install -r requirements/bench.txt)')


@pytest.fixture(scope='module')
def models(tmp_path_factory):
    """Random YOLOv8n-seg and -s, saved as Ultralytics saves them, and imported."""
    _ultralytics()
    import yolov8_parity as yp
    tmp = tmp_path_factory.mktemp('yolov8')
    out = {}
    for size, seed in (('n', 0), ('s', 1)):
        model = yp.random_seg_model(size, seed=seed, hw=(H, W))
        src = tmp / f'yolov8{size}-seg.pt'
        yp.save_ultralytics(model, src)
        ckpt = tmp / f'coco_{size}.pt'
        report = import_yolov8(src, ckpt, input_size=(H, W))
        out[size] = {'src': src, 'ckpt': ckpt, 'report': report,
                     'theirs': yp.load_ultralytics(src)}
    out['tmp'] = tmp
    return out


def test_dfl_decoding_numpy_and_torch_agree_with_hand_made_answers():
    raw = np.full((2, 64), -30.0, np.float32)
    for side, b in enumerate((0, 3, 7, 15)):  # one-hot bins: distances 0, 3, 7, 15
        raw[0, side * 16 + b] = 30.0
    raw[1] = 0.0  # uniform: the mean bin, 7.5
    want = np.array([[0, 3, 7, 15], [7.5] * 4], np.float32)
    np.testing.assert_allclose(numpy_ops.box_distances(raw), want, atol=1e-5)
    np.testing.assert_allclose(torch_ops.box_distances(torch.from_numpy(raw)).numpy(), want,
                               atol=1e-5)
    rng = np.random.default_rng(0)
    x = rng.normal(0, 3, (50, 64)).astype(np.float32)
    anchors = np.c_[rng.uniform(0, 320, (50, 2)), np.full(50, 32)].astype(np.float32)
    a = numpy_ops.decode_boxes(x, anchors)
    b = torch_ops.decode_boxes(torch.from_numpy(x), torch.from_numpy(anchors)).numpy()
    # distances <= 15 strides of 32 px: float32 sums of 16 terms differ by a few ulp(480)
    np.testing.assert_allclose(a, b, atol=16 * 480 * 2 ** -23)
    with pytest.raises(ValueError, match='4 \\* R'):
        numpy_ops.box_distances(np.zeros((3, 6), np.float32))


def test_config_family_is_saved_and_old_configs_are_hydranet():
    cfg = ModelConfig(family='yolov8', input_size=(64, 96))
    assert load_model_config(cfg.to_dict()).family == 'yolov8'
    old = cfg.to_dict()
    del old['family'], old['freeze']  # a checkpoint from before the field
    assert load_model_config(old).family == 'hydranet'
    with pytest.raises(ValueError, match='family'):
        ModelConfig(family='yolov5')
    with pytest.raises(ValueError, match='freeze'):
        ModelConfig(freeze=('torso',))


def test_frozen_parts_get_no_gradients_and_keep_their_statistics():
    torch.manual_seed(0)
    model = build_model(ModelConfig(family='yolov8', input_size=(64, 96),
                                    freeze=('backbone', 'neck'))).train()
    before = {k: v.clone() for k, v in model.backbone.state_dict().items()}
    out = model(torch.rand(2, 3, 64, 96))
    sum(v.float().square().mean() for k, v in out.items() if k != 'detect_anchors').backward()
    assert all(p.grad is None for p in model.backbone.parameters())
    assert all(p.grad is None for p in model.neck.parameters())
    assert all(p.grad is not None for p in model.heads['detect'].parameters())
    after = model.backbone.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


@pytest.mark.parametrize('size', ['n', 's', 'm'])
def test_name_table_maps_ultralytics_yolov8_seg_one_to_one(size):
    _ultralytics()
    from ultralytics.nn.tasks import SegmentationModel
    theirs = SegmentationModel(f'yolov8{size}-seg.yaml', verbose=False).state_dict()
    coco = LabelSpace.from_names(stuff=(), things=COCO80)
    ours = build_model(ModelConfig(family='yolov8', size=size, heads=('detect', 'masks'),
                                   label_space=coco))
    table = ultralytics_name_table(ours)
    state = ours.state_dict()
    assert sorted(table) == sorted(state)
    assert set(theirs) - set(table.values()) == {'model.22.dfl.conv.weight'}
    assert all(state[k].shape == theirs[v].shape for k, v in table.items())


@pytest.mark.parametrize('size', ['n', 's'])
def test_imported_model_matches_ultralytics(models, size):
    import yolov8_parity as yp
    m = models[size]
    ours, cfg, meta = load_model(m['ckpt'])
    assert cfg.family == 'yolov8' and cfg.size == size
    assert cfg.label_space.names == list(COCO80)
    assert meta['imported_from']['architecture'] == f'yolov8{size}-seg'
    image = yp.scene(np.random.default_rng(10 + ord(size)), H, W)
    x = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255
    raw, _ = yp.raw_outputs(m['theirs'], x)
    with torch.no_grad():
        mine = ours(x, tasks=('detect', 'masks'))
    for k, v in raw.items():  # the same layers on the same weights: equal to rounding
        assert mine[k].shape == v.shape, k
        torch.testing.assert_close(mine[k], v, rtol=0, atol=1e-5 * max(1.0, v.abs().max()))
    conf = yp.threshold_between(raw['detect_cls'])
    ref = yp.reference(m['theirs'], image, conf=conf, iou=0.6)
    pred = Predictor.from_weights(str(m['ckpt']), backend='torch', device='cpu',
                                  input_size=(H, W), score_thresh=conf, nms_iou=0.6)(
        image, tasks=('detect', 'masks'))
    cmp = yp.compare(pred, ref)
    assert cmp['ours'] == cmp['theirs'] == cmp['matched'] > 0, cmp
    # float32 decoding of distances <= 15 strides (<= 480 px) in two orders of operations
    assert cmp['max_box_abs_diff'] <= 1e-3, cmp
    assert cmp['max_score_abs_diff'] <= 1e-5, cmp
    # masks: same logits, same bilinear resampling; crops compared with one rule (ours:
    # pixel centres in the box); Ultralytics' rule (columns x1 <= c < x2) differs only in
    # the rows and columns at the box edges, which the last assertion checks.
    assert cmp['min_mask_iou'] >= 0.99, cmp
    assert cmp['crop_rules_differ_only_at_box_edges'], cmp


def _write_safetensors(path, state, names=None):
    header, blobs, offset = {}, [], 0
    for k, v in state.items():
        b = v.detach().float().contiguous().numpy().astype('<f4').tobytes()
        header[k] = {'dtype': 'F32', 'shape': list(v.shape),
                     'data_offsets': [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    if names:
        header['__metadata__'] = {'names': json.dumps(names)}
    h = json.dumps(header).encode()
    path.write_bytes(struct.pack('<Q', len(h)) + h + b''.join(blobs))


def test_state_dict_and_safetensors_files_import_the_same_weights(models, tmp_path):
    m = models['n']
    theirs = {k: v.half().float() for k, v in m['theirs'].state_dict().items()}
    torch.save(theirs, tmp_path / 'plain.pt')
    _write_safetensors(tmp_path / 'w.safetensors', theirs, names=[f'k{i}' for i in range(80)])
    back, meta = read_safetensors(tmp_path / 'w.safetensors')
    assert json.loads(meta['names'])[3] == 'k3'
    assert all(torch.equal(back[k], theirs[k].float()) for k in theirs)
    want = load_model(m['ckpt'])[0].state_dict()
    for src in ('plain.pt', 'w.safetensors'):
        assert main([str(tmp_path / src), '--out', str(tmp_path / f'{src}.ckpt.pt')]) == 0
        got, cfg, _ = load_model(tmp_path / f'{src}.ckpt.pt')
        got = got.state_dict()
        assert all(torch.equal(got[k], want[k]) for k in got if k in want), src
    assert cfg.label_space.names[3] == 'k3'  # the names the safetensors file carries
    assert 'keypoints' not in cfg.heads  # no class named person: no keypoint schema


def test_foreign_corrupt_and_mismatched_files_are_refused(models, tmp_path, capsys):
    from ultralytics.nn.tasks import DetectionModel, PoseModel, SegmentationModel
    src = models['n']['src']
    data = src.read_bytes()
    (tmp_path / 'half.pt').write_bytes(data[:len(data) // 2])
    (tmp_path / 'junk.safetensors').write_bytes(struct.pack('<Q', 10 ** 6) + b'{}')
    torch.save({'model': PoseModel('yolov8n-pose.yaml', verbose=False)}, tmp_path / 'pose.pt')
    torch.save(DetectionModel('yolov8n.yaml', verbose=False).state_dict(), tmp_path / 'det.pt')
    torch.save(SegmentationModel('yolo11n-seg.yaml', verbose=False).state_dict(),
               tmp_path / 'y11.pt')
    torch.save({'weights': [1, 2, 3]}, tmp_path / 'list.pt')
    torch.save({'args': argparse.Namespace(a=1)}, tmp_path / 'obj.pt')  # weights_only refuses
    (tmp_path / 'names.txt').write_text('a\nb\n')
    cases = {
        'half.pt': 'truncated or corrupt',
        'junk.safetensors': 'truncated',
        'pose.pt': 'PoseModel whose head is Pose',
        'det.pt': 'YOLOv8 detection model (no mask head)',
        'y11.pt': 'another YOLO architecture',
        'list.pt': 'not a state dict',
        'obj.pt': 'not an Ultralytics model (refused, never unpickled)',
        'missing.pt': 'does not exist',
        str(models['n']['ckpt']): 'already a hydranet_perception checkpoint',
    }
    for name, why in cases.items():
        path = name if name.startswith('/') else str(tmp_path / name)
        assert main([path, '--out', str(tmp_path / 'x.pt')]) == 1, name
        assert why in capsys.readouterr().err, name
    assert main([str(src), '--out', str(tmp_path / 'x.pt'), '--size', 's']) == 1
    assert 'is a YOLOv8n-seg model, not s' in capsys.readouterr().err
    assert main([str(src), '--out', str(tmp_path / 'x.pt'), '--names',
                 str(tmp_path / 'names.txt')]) == 1
    assert '2 class names for the 80 classes' in capsys.readouterr().err
    assert not (tmp_path / 'x.pt').exists()


def test_imported_checkpoint_serves_on_torch_and_onnxruntime(models, tmp_path):
    import shutil
    import yolov8_parity as yp
    ckpt = tmp_path / 'coco_n.pt'
    shutil.copy(models['n']['ckpt'], ckpt)
    image = yp.scene(np.random.default_rng(3), H, W)
    x = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255
    conf = yp.threshold_between(yp.raw_outputs(models['n']['theirs'], x)[0]['detect_cls'])
    preds = {}
    for backend in ('torch', 'onnxruntime'):
        p = Predictor.from_weights(str(ckpt), backend=backend, device='cpu',
                                   input_size=(H, W), score_thresh=conf)
        assert p.tasks == ('detect', 'masks', 'semantic', 'keypoints')
        preds[backend] = p(image)
    meta = read_metadata(next(tmp_path.glob('coco_n.*.onnx')))
    assert meta['config']['family'] == 'yolov8'
    a, b = preds['torch'], preds['onnxruntime']
    assert len(a.boxes) >= 20 and len(a.boxes) == len(b.boxes)
    # the untrained heads are silent: keypoints invisible, semantic logits all equal
    assert a.keypoints[..., 2].max() <= 1 / (1 + np.exp(-KPT_VIS_OFF)) * 1.01
    assert (a.semantic == 0).all()
    # no stuff classes: the panoptic map holds the instances only
    assert a.segments and all(s.is_thing for s in a.segments)
    pairs, _ = match_detections(a.boxes, a.scores, a.class_ids, b.boxes, b.scores,
                                b.class_ids, iou_thresh=0.9)
    assert len(pairs) == len(a.boxes)


def test_the_node_runs_an_imported_checkpoint_unchanged(models):
    """hydranet_node (its console script, default tasks) on the imported n checkpoint."""
    pytest.importorskip('rclpy', reason='the node test needs rclpy')
    from builtin_interfaces.msg import Time
    from hydranet_perception_msgs.msg import InstanceArray, ModelInfo, PanopticInfo
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    import rosgraph
    from sensor_msgs.msg import Image
    from std_msgs.msg import Header
    import yolov8_parity as yp
    image = yp.scene(np.random.default_rng(3), H, W)
    x = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255
    conf = yp.threshold_between(yp.raw_outputs(models['n']['theirs'], x)[0]['detect_cls'])
    want = Predictor.from_weights(str(models['n']['ckpt']), backend='onnxruntime',
                                  device='cpu', input_size=(H, W), score_thresh=conf,
                                  nms_iou=0.6)(image)
    proc = rosgraph.start_node(models['tmp'], params={
        'weights': str(models['n']['ckpt']), 'backend': 'onnxruntime', 'nms_iou': 0.6,
        'score_threshold': conf, 'input_width': W, 'input_height': H, 'tracking': False})
    ns = '/test/hydranet'
    w = rosgraph.Watcher('import_test_watcher')
    try:
        w.subscribe(InstanceArray, f'{ns}/instances')
        w.subscribe(PanopticInfo, f'{ns}/panoptic/segments')
        w.subscribe(ModelInfo, f'{ns}/model_info', latched=True)
        pub = w.node.create_publisher(Image, '/cam/image_raw',
                                      QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE))
        assert w.spin_until(lambda: w.received[f'{ns}/model_info'], 90, proc), \
            rosgraph.node_log(proc)
        assert list(w.received[f'{ns}/model_info'][-1].class_names) == list(COCO80)
        assert w.received[f'{ns}/model_info'][-1].model_name == 'yolov8n-seg (imported)'
        stamp = Time(sec=7, nanosec=0)
        msg = Image(header=Header(stamp=stamp, frame_id='cam'), height=H, width=W,
                    encoding='rgb8', step=W * 3, data=image.tobytes())

        def arrived():
            return all(rosgraph.by_stamp(w.received[f'{ns}/{t}'], stamp)
                       for t in ('instances', 'panoptic/segments'))
        for _ in range(30):  # best-effort input: resend until processed
            pub.publish(msg)
            if w.spin_until(arrived, 2.0, proc):
                break
        assert arrived(), rosgraph.node_log(proc)
        got = rosgraph.by_stamp(w.received[f'{ns}/instances'], stamp)[-1].instances
        assert len(got) == len(want.boxes) >= 20
        names = {COCO80[c] for c in want.class_ids}
        assert {i.class_name for i in got} == names
    finally:
        w.close()
        assert rosgraph.stop_node(proc) == 0, rosgraph.node_log(proc)


_ENTRY = st.fixed_dictionaries({}, optional={
    'dtype': st.sampled_from(['F32', 'F16', 'BF16', 'I64', 'U8', 'F8', 'x', 3]),
    'shape': st.one_of(st.lists(st.integers(-3, 70), max_size=3), st.text(max_size=3)),
    'data_offsets': st.one_of(st.lists(st.integers(-5, 400), min_size=0, max_size=3),
                              st.none())})


@FUZZ
@given(header=st.one_of(st.dictionaries(st.text(max_size=8), _ENTRY, max_size=4),
                        st.lists(st.integers(), max_size=2), st.integers()),
       body=st.binary(max_size=300), claim=st.integers(-2, 40))
def test_fuzzed_safetensors_files_are_refused_or_read(tmp_path, header, body, claim):
    h = json.dumps(header).encode()
    n = len(h) + claim if claim >= 0 else len(h)
    path = tmp_path / 'f.safetensors'
    path.write_bytes(struct.pack('<Q', n) + h + body)
    try:
        state = read_source(path).state
    except ImportRefused:
        return
    with pytest.raises(ImportRefused):
        identify(state, path)


@FUZZ
@given(data=st.binary(max_size=2000), zipped=st.booleans())
def test_fuzzed_pt_files_are_refused(tmp_path, data, zipped):
    import zipfile
    path = tmp_path / 'f.pt'
    if zipped:  # a zip archive of random members: not a torch file
        with zipfile.ZipFile(path, 'w') as z:
            z.writestr('archive/data.pkl', data)
    else:
        path.write_bytes(data)
    with pytest.raises(ImportRefused):
        read_source(path)
