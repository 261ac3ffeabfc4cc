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
Depth and 3D in hydranet_node over real DDS (issue 13): instances_3d, markers, refusals.

The node runs from its console script with ``depth_topic: depth/image`` and remaps to
a depth camera's topics; the test publishes a generated scene's colour image, its
metric depth (16UC1 millimetres, with the generator's noise model) and CameraInfo (with
distortion), and checks the 3D positions against the generator's ground truth, that
3D work happens only with a subscriber, and that each kind of bad depth input is
counted exactly while the 2D outputs keep flowing.
"""

import pathlib

from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray
from hydranet_perception.data.synthetic import generate_scene
from hydranet_perception.geometry import PinholeCamera
from hydranet_perception.ros.markers import counts
from hydranet_perception.ros.messages import decode_instances
from hydranet_perception.ros.messages3d import decode_instances_3d
from hydranet_perception_msgs.msg import InstanceArray, InstanceArray3D, ModelInfo
import numpy as np
import pytest
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
import rosgraph
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header
from visualization_msgs.msg import MarkerArray

TOPICS = {'image': '/dcam/color/image_raw', 'camera_info': '/dcam/color/camera_info',
          'depth/image': '/dcam/aligned_depth/image_raw',
          'depth/camera_info': '/dcam/aligned_depth/camera_info'}
H, W = 240, 320
SCENE = generate_scene(7, height=H, width=W, depth=True)
NOISE = 0.0025  # DepthOptions.noise: the depth camera's sigma is NOISE * z**2 metres


def _colour(stamp):
    return Image(header=Header(stamp=stamp, frame_id='dcam_color_optical'), height=H,
                 width=W, encoding='rgb8', step=W * 3, data=SCENE.image.tobytes())


def _depth(stamp, depth=None, encoding='16UC1'):
    depth = SCENE.depth if depth is None else depth
    if encoding == '16UC1':
        data = np.round(depth * 1000.0).astype(np.uint16)
    elif encoding == '32FC1':
        data = depth.astype(np.float32)
    else:  # a colour image on the depth topic
        data = np.zeros(depth.shape + (3,), np.uint8)
    h, w = depth.shape
    return Image(header=Header(stamp=stamp, frame_id='dcam_color_optical'), height=h,
                 width=w, encoding=encoding, step=int(data.strides[0]), data=data.tobytes())


def _info(k=None):
    info = SCENE.camera_info
    return CameraInfo(header=Header(frame_id='dcam_color_optical'), height=H, width=W,
                      distortion_model=info.distortion_model, d=list(info.d),
                      k=list(info.k if k is None else k))


def _start(tmp, namespace, topics, watch=()):
    """
    Start a node with depth under ``namespace``, remapped to ``topics``, and a watcher.

    Every input subscription is made reliable (qos_overrides), so that counts are exact.
    """
    reliable = {topics[t]: {'subscription': {'reliability': 'reliable', 'depth': 10}}
                for t in ('image', 'depth/image')}
    proc = rosgraph.start_node(
        tmp, namespace=namespace, remaps=topics, log_name=namespace.strip('/'),
        params={'depth_topic': 'depth/image', 'score_threshold': 0.2, 'input_width': 320,
                'input_height': 256, 'diagnostics_period': 0.2, 'no_image_warning': 3.0,
                'tasks': ['detect', 'masks', 'semantic', 'keypoints'],
                'qos_overrides': reliable})
    w = rosgraph.Watcher(f'{namespace.strip("/")}_watcher')
    w.proc, w.ns = proc, f'{namespace}/hydranet'
    for msg_type, topic in ((InstanceArray, 'instances'), *watch):
        w.subscribe(msg_type, f'{w.ns}/{topic}')
    w.subscribe(ModelInfo, f'{w.ns}/model_info', latched=True)
    w.subscribe(DiagnosticArray, '/diagnostics')
    qos = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=10,
                     reliability=ReliabilityPolicy.RELIABLE)
    w.pubs = {t: w.node.create_publisher(Image if t.endswith('image') else CameraInfo,
                                         topic, qos) for t, topic in topics.items()}
    ok = w.spin_until(lambda: w.received[f'{w.ns}/model_info'], 90, proc)
    assert ok, 'the node never published model_info:\n' + rosgraph.node_log(proc)
    return w


def _stop(w):
    w.close()
    assert rosgraph.stop_node(w.proc) == 0, rosgraph.node_log(w.proc)


@pytest.fixture(scope='module')
def graph(tmp_path_factory):
    """One node with depth, nothing subscribed to its 3D outputs at first."""
    w = _start(tmp_path_factory.mktemp('depth'), '/dtest', TOPICS)
    yield w
    _stop(w)


def _diag(g):
    """Return the node's latest diagnostics values and message ({} before the first)."""
    for msg in reversed(g.received['/diagnostics']):
        for s in msg.status:
            if s.name == f'{g.ns}: pipeline':
                return {kv.key: kv.value for kv in s.values}, s.message
    return {}, ''


def _wait_diag(g, predicate, timeout=20):
    ok = g.spin_until(lambda: predicate(_diag(g)[0]), timeout, g.proc)
    assert ok, f'diagnostics {_diag(g)}\n' + rosgraph.node_log(g.proc)


def _frame(g, stamp, depth=None, info=None, colour_info=False, wait=('instances',)):
    """
    Send one frame: CameraInfo and depth first (received, per diagnostics), then colour.

    Waits for the colour frame's outputs ``wait``; returns them by topic name.
    """
    if info is not None:
        g.pubs['depth/camera_info'].publish(info)
    if colour_info:
        g.pubs['camera_info'].publish(_info())
    if depth is not None:
        before = int(_diag(g)[0].get('depth_received', 0))
        g.pubs['depth/image'].publish(depth)
        _wait_diag(g, lambda d: int(d.get('depth_received', 0)) > before)
    g.pubs['image'].publish(_colour(stamp))

    def arrived():
        return all(rosgraph.by_stamp(g.received[f'{g.ns}/{t}'], stamp) for t in wait)
    assert g.spin_until(arrived, 30, g.proc), rosgraph.node_log(g.proc)
    return {t: rosgraph.by_stamp(g.received[f'{g.ns}/{t}'], stamp)[-1] for t in wait}


def _markers_at(g, stamp):
    """Return the MarkerArrays whose markers carry ``stamp`` (the array has no header)."""
    return [m for m in g.received[f'{g.ns}/markers']
            if m.markers and rosgraph.by_stamp(m.markers[:1], stamp)]


def test_no_3d_work_without_a_subscriber_then_markers_for_one(graph):
    # nobody subscribes to instances_3d or markers: depth arrives, none is paired
    _frame(graph, Time(sec=100), depth=_depth(Time(sec=100)), info=_info())
    _wait_diag(graph, lambda d: d.get('depth_received') == '1')
    assert _diag(graph)[0]['depth_paired'] == '0'
    graph.subscribe(MarkerArray, f'{graph.ns}/markers')
    for i in range(30):  # until the node sees the new subscriber
        stamp = Time(sec=101, nanosec=i)
        out = _frame(graph, stamp, depth=_depth(stamp), info=_info())
        if graph.spin_until(lambda: _markers_at(graph, stamp), 1.0, graph.proc):
            break
    msg = _markers_at(graph, stamp)[-1]
    cubes, labels, _ = counts(msg)
    assert cubes == labels >= 1 and cubes <= len(out['instances'].instances)
    assert msg.markers[0].action == msg.markers[0].DELETEALL  # stale ones go at once
    assert all(m.header.frame_id == 'dcam_color_optical' for m in msg.markers)
    _wait_diag(graph, lambda d: int(d['depth_paired']) >= 1)


def _centroid_ray(camera, mask):
    ys, xs = np.nonzero(mask)
    return camera.pixels_to_rays(np.array([[xs.mean(), ys.mean()]]))[0]


@pytest.mark.parametrize('encoding', ['16UC1', '32FC1'])  # millimetres, metres
def test_positions_match_the_generator_truth(graph, encoding):
    if f'{graph.ns}/instances_3d' not in graph.received:
        graph.subscribe(InstanceArray3D, f'{graph.ns}/instances_3d')
    for i in range(30):
        stamp = Time(sec=200 + (encoding == '32FC1'), nanosec=i)
        out = _frame(graph, stamp, depth=_depth(stamp, encoding=encoding), info=_info())
        if graph.spin_until(lambda: rosgraph.by_stamp(
                graph.received[f'{graph.ns}/instances_3d'], stamp), 1.0, graph.proc):
            break
    msg3d = rosgraph.by_stamp(graph.received[f'{graph.ns}/instances_3d'], stamp)[-1]
    assert msg3d.header.frame_id == 'dcam_color_optical'
    flat = decode_instances(out['instances'])
    got = decode_instances_3d(msg3d)
    assert list(got['ids']) == [d.id for d in flat]  # the same instances, same order
    camera = PinholeCamera.from_camera_info(SCENE.camera_info)
    f = SCENE.camera_info.k[0]
    checked, kp_count = [], 0
    for i, d in enumerate(flat):
        truth = [t for t in SCENE.instances if t.class_id == d.class_id and
                 (t.mask & d.mask).sum() >= 0.5 * (t.mask | d.mask).sum()]
        if not truth or got['depth_pixels'][i] == 0:
            continue
        t = truth[0]
        z = float(t.position[2])
        # The node lifts its own mask: its centroid's ray at the thing's depth. The
        # error allowed: the median of n noisy depths (standard error 1.25 sigma /
        # sqrt(n), 5 of them, n read on a sub-grid of at most 1024 pixels), the
        # sub-grid centroid (one grid cell at z), 1 mm quantisation.
        x1, y1, x2, y2 = d.box
        cell = np.ceil(np.sqrt((x2 - x1) * (y2 - y1) / 1024))
        n = min(int(got['depth_pixels'][i]), 1024)
        tol = 5 * 1.25 * NOISE * z ** 2 / np.sqrt(n) + cell * z / f + 1e-3
        expected = _centroid_ray(camera, d.mask) * z
        err = np.abs(got['positions'][i] - expected).max()
        assert err < tol, (d.class_id, z, err, tol)
        # against the truth (the centroid of the true visible mask): what the mask's
        # own error adds, z times the centroid shift over f
        shift = np.abs(_centroid_ray(camera, d.mask) - _centroid_ray(camera, t.mask)).max()
        truth_err = np.abs(got['positions'][i] - t.position).max()
        assert truth_err < tol + shift * z
        checked.append(d.class_id)
        # keypoints with depth whose 3x3 window lies on the thing's true visible mask
        # have its depth (a fronto-parallel plate at z): a 3x3 median, within 5 sigma
        # and 1 mm quantisation. (Elsewhere the model's mask may have let a keypoint
        # take the depth of what lies behind: a mask error, not the lifting's.)
        kps, on = got['keypoints_3d'][i], []
        for k, (x, y, _) in enumerate(d.keypoints):
            c, r = int(np.floor(x)), int(np.floor(y))
            if kps[k, 3] == 1 and 1 <= r < H - 1 and 1 <= c < W - 1 and \
                    t.mask[r - 1:r + 2, c - 1:c + 2].all():
                on.append(kps[k, 2])
        kz = np.array(on)
        assert (np.abs(kz - z) <= 5 * NOISE * z ** 2 + 1e-3).all(), (kz, z)
        kp_count += kz.size
        print(f'class {d.class_id} at z={z:.2f} m: error {err * 1e3:.1f} mm (allowed '
              f'{tol * 1e3:.1f}), against the truth {truth_err * 1e3:.1f} mm (allowed '
              f'{(tol + shift * z) * 1e3:.1f}), {kz.size} keypoints')
    assert len(checked) >= 2, (checked, [d.class_id for d in flat])
    assert kp_count >= 5  # the people's keypoints were checked


BAD = [  # (kind, what to send with a colour frame of stamp s), after one without info
    ('depth_camera_info', lambda s: {'depth': _depth(s), 'info': _info(k=[0.0] * 9)}),
    ('depth_size', lambda s: {'depth': _depth(s, SCENE.depth[::2, ::2]), 'info': _info()}),
    ('depth_empty', lambda s: {'depth': _depth(s, np.zeros((H, W), np.float32))}),
    ('depth_empty', lambda s: {'depth': _depth(s, np.full((H, W), np.nan, np.float32),
                                               encoding='32FC1')}),
    # stamped 0.5 s before the colour frame (frames here are 1 s apart)
    ('depth_unsynced', lambda s: {'depth': _depth(Time(sec=s.sec - 1, nanosec=500_000_000))}),
]


def test_each_bad_depth_input_is_counted_and_2d_goes_on(tmp_path_factory):
    topics = {k: v.replace('/dcam/', '/dbad/') for k, v in TOPICS.items()}
    g = _start(tmp_path_factory.mktemp('depth_bad'), '/dbad', topics,
               watch=((InstanceArray3D, 'instances_3d'),))
    try:
        want, sent = {}, 0
        cases = [('depth_no_camera_info', lambda s: {'depth': _depth(s)})] * 2 + BAD * 2
        for i, (kind, make) in enumerate(cases):  # no CameraInfo has been sent yet
            stamp = Time(sec=300 + i)
            _frame(g, stamp, **make(stamp))  # its 2D outputs arrive
            sent += 1
            want[kind] = want.get(kind, 0) + 1
        # A depth image that is no depth image: counted on arrival (no frame needed).
        for i in range(3):
            g.pubs['depth/image'].publish(_depth(Time(sec=400, nanosec=i), encoding='rgb8'))
        want['depth_encoding'] = 3

        def counted(d):
            errors = {k[len('errors.'):]: int(v) for k, v in d.items()
                      if k.startswith('errors.')}
            return errors == want and d.get('frames_processed') == str(sent)
        ok = g.spin_until(lambda: counted(_diag(g)[0]), 20, g.proc)
        assert ok, (_diag(g), want, rosgraph.node_log(g.proc))
        assert _diag(g)[0]['frames_rejected'] == '0'
        assert not g.received[f'{g.ns}/instances_3d']  # no bad input gave 3D
        # a good frame after all that is lifted
        stamp = Time(sec=500)
        out = _frame(g, stamp, depth=_depth(stamp), info=_info(),
                     wait=('instances', 'instances_3d'))
        assert len(out['instances_3d'].instances) == len(out['instances'].instances)
        log = pathlib.Path(g.proc.log_path).read_text()
        for kind in want:
            assert f'depth refused ({kind})' in log, kind
    finally:
        _stop(g)


def test_silent_depth_is_a_diagnostics_warning(graph):
    # no depth for longer than no_image_warning (3 s): 2D goes on, diagnostics warn
    graph.spin_until(lambda: False, 3.5, graph.proc)
    _frame(graph, Time(sec=600))
    ok = graph.spin_until(lambda: 'no depth image on' in _diag(graph)[1], 10, graph.proc)
    assert ok, _diag(graph)
    assert '/dcam/aligned_depth/image_raw' in _diag(graph)[0]['depth_topic']
    assert 'depth: depth/image' in pathlib.Path(graph.proc.log_path).read_text()


def test_several_cameras_publish_3d_under_their_own_namespace(tmp_path_factory):
    cams = {f'{c}/{t}': f'/mc3d/{c}/{t}' for c in ('front', 'rear')
            for t in ('image', 'camera_info', 'depth/image', 'depth/camera_info')}
    proc = rosgraph.start_node(
        tmp_path_factory.mktemp('depth_mc'), namespace='/mc3d', remaps=cams,
        log_name='node_mc',
        params={'cameras': ['front', 'rear'], 'depth_topic': 'depth/image',
                'input_width': 320, 'input_height': 256, 'diagnostics_period': 0.2,
                'no_image_warning': 2.0, 'score_threshold': 0.2,
                'tasks': ['detect', 'masks', 'semantic', 'keypoints']})
    g = rosgraph.Watcher('depth_mc_watcher')
    ns = '/mc3d/hydranet'
    try:
        for c in ('front', 'rear'):
            g.subscribe(InstanceArray, f'{ns}/{c}/instances')
            g.subscribe(InstanceArray3D, f'{ns}/{c}/instances_3d')
        g.subscribe(ModelInfo, f'{ns}/model_info', latched=True)
        g.subscribe(DiagnosticArray, '/diagnostics')
        qos = QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE)
        pubs = {k: g.node.create_publisher(Image if k.endswith('image') else CameraInfo,
                                           v, qos) for k, v in cams.items()}
        assert g.spin_until(lambda: g.received[f'{ns}/model_info'], 90, proc), \
            rosgraph.node_log(proc)
        for i in range(60):  # best effort: resend until the front camera's 3D arrives
            stamp = Time(sec=700, nanosec=i)
            pubs['front/depth/camera_info'].publish(_info())
            pubs['front/depth/image'].publish(_depth(stamp))
            g.spin_until(lambda: False, 0.1)  # the depth first
            pubs['front/image'].publish(_colour(stamp))
            pubs['rear/image'].publish(_colour(stamp))
            if g.spin_until(lambda: rosgraph.by_stamp(
                    g.received[f'{ns}/front/instances_3d'], stamp), 1.0, proc):
                break
        front = rosgraph.by_stamp(g.received[f'{ns}/front/instances_3d'], stamp)
        assert front and front[-1].header.frame_id == 'dcam_color_optical', \
            rosgraph.node_log(proc)
        # rear: 2D only (no depth ever came)
        assert g.spin_until(lambda: g.received[f'{ns}/rear/instances'], 10, proc)
        assert not g.received[f'{ns}/rear/instances_3d']

        def rear_warns():
            for msg in reversed(g.received['/diagnostics']):
                for s in msg.status:
                    if s.name == f'{ns}/rear: pipeline':
                        return 'no depth image on /mc3d/rear/depth/image' in s.message
            return False
        assert g.spin_until(rear_warns, 10, proc), rosgraph.node_log(proc)
    finally:
        g.close()
        assert rosgraph.stop_node(proc) == 0, rosgraph.node_log(proc)


def test_without_depth_a_3d_subscriber_gets_a_warning_and_2d_goes_on(tmp_path):
    proc = rosgraph.start_node(
        tmp_path, namespace='/nodepth', remaps={'image': '/nodepth/image_raw'},
        log_name='node_nodepth',
        params={'input_width': 320, 'input_height': 256, 'diagnostics_period': 0.2,
                'tasks': ['detect', 'masks', 'semantic', 'keypoints']})
    g = rosgraph.Watcher('nodepth_watcher')
    g.proc, g.ns = proc, '/nodepth/hydranet'
    try:
        for msg_type, topic in ((InstanceArray, 'instances'), (InstanceArray3D, 'instances_3d')):
            g.subscribe(msg_type, f'{g.ns}/{topic}')
        g.subscribe(DiagnosticArray, '/diagnostics')
        pub = g.node.create_publisher(Image, '/nodepth/image_raw', 5)
        for i in range(60):  # best effort: resend until answered
            stamp = Time(sec=800, nanosec=i)
            pub.publish(_colour(stamp))
            if g.spin_until(lambda: rosgraph.by_stamp(g.received[f'{g.ns}/instances'], stamp),
                            1.0, proc):
                break
        assert g.received[f'{g.ns}/instances'], rosgraph.node_log(proc)
        ok = g.spin_until(lambda: 'depth_topic is unset' in _diag(g)[1], 10, proc)
        assert ok, _diag(g)
        assert _diag(g)[0]['depth_topic'] == 'off'
        assert not g.received[f'{g.ns}/instances_3d']
        assert 'depth: off (depth_topic unset: 2D only)' in pathlib.Path(proc.log_path).read_text()
    finally:
        g.close()
        assert rosgraph.stop_node(proc) == 0, rosgraph.node_log(proc)


def _with_depth_head(path):
    """Write the shipped weights plus an (untrained) monocular depth head to ``path``."""
    from dataclasses import replace

    from hydranet_perception.inference.weights import SHIPPED_WEIGHTS
    from hydranet_perception.model.build import build_model
    from hydranet_perception.model.checkpoint import load_model, save_checkpoint
    import torch

    shipped, cfg, _ = load_model(SHIPPED_WEIGHTS)
    cfg = replace(cfg, heads=tuple(cfg.heads) + ('depth',))
    torch.manual_seed(0)
    model = build_model(cfg)
    missing, unexpected = model.load_state_dict(shipped.state_dict(), strict=False)
    assert not unexpected and missing and all(k.startswith('heads.depth.') for k in missing)
    return save_checkpoint(path, model=model, config=cfg)


def test_a_monocular_depth_head_gives_3d_without_a_depth_camera(tmp_path):
    weights = _with_depth_head(tmp_path / 'with_depth_head.pt')
    topics = {'image': '/mono/image_raw', 'camera_info': '/mono/camera_info'}
    proc = rosgraph.start_node(
        tmp_path, namespace='/mono', remaps=topics, log_name='node_mono',
        params={'weights': str(weights), 'score_threshold': 0.2, 'input_width': 320,
                'input_height': 256, 'diagnostics_period': 0.2})
    g = rosgraph.Watcher('mono_watcher')
    ns = '/mono/hydranet'
    try:
        for msg_type, topic in ((InstanceArray, 'instances'), (InstanceArray3D, 'instances_3d')):
            g.subscribe(msg_type, f'{ns}/{topic}')
        g.subscribe(ModelInfo, f'{ns}/model_info', latched=True)
        assert g.spin_until(lambda: g.received[f'{ns}/model_info'], 90, proc), \
            rosgraph.node_log(proc)
        assert 'depth' in g.received[f'{ns}/model_info'][-1].tasks  # tasks [all] runs it
        pub = g.node.create_publisher(Image, topics['image'], 5)
        info = g.node.create_publisher(CameraInfo, topics['camera_info'], 5)
        for i in range(60):  # best effort: resend until answered
            stamp = Time(sec=900, nanosec=i)
            info.publish(_info())
            pub.publish(_colour(stamp))
            if g.spin_until(lambda: rosgraph.by_stamp(g.received[f'{ns}/instances_3d'], stamp),
                            1.0, proc):
                break
        msgs = g.received[f'{ns}/instances_3d']
        assert msgs, rosgraph.node_log(proc)
        inst = [i for m in msgs for i in m.instances]
        assert inst and all(i.source == i.SOURCE_MONOCULAR for i in inst)
        lifted = [i for i in inst if i.valid_depth_pixels > 0]
        assert lifted and all(np.isfinite(i.position.z) and i.position.z > 0 for i in lifted)
    finally:
        g.close()
        assert rosgraph.stop_node(proc) == 0, rosgraph.node_log(proc)
