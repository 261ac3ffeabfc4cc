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
hydranet_node in its own process, started as a user starts it, over real DDS.

The node runs from its console script with a params file and remaps; this test
publishes generated frames in several encodings and as CompressedImage, and checks
every output topic, the bad-input counters, parameters and the enable service.
"""

from builtin_interfaces.msg import Time
import cv2
from diagnostic_msgs.msg import DiagnosticArray
from hydranet_perception.data.synthetic import generate_scene
from hydranet_perception.inference.backends import backend_problem, resolve_backend
from hydranet_perception.ros.messages import decode_instances
from hydranet_perception_msgs.msg import InstanceArray, ModelInfo, PanopticInfo
import numpy as np
import pytest
from rcl_interfaces.msg import Parameter, ParameterType, ParameterValue
from rcl_interfaces.srv import GetParameters, SetParameters
from rclpy.parameter import parameter_value_to_python
from rclpy.qos import QoSProfile, ReliabilityPolicy
import rosgraph
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import Header
from std_srvs.srv import SetBool

NS = '/test/hydranet'
H, W = 240, 320
FRAME = generate_scene(7, height=H, width=W).image


def _raw(rgb, encoding, stamp, frame_id):
    msg = Image(header=Header(stamp=stamp, frame_id=frame_id), height=rgb.shape[0],
                width=rgb.shape[1], encoding=encoding)
    if encoding == 'rgb8':
        data = rgb
    elif encoding == 'bgr8':
        data = rgb[..., ::-1]
    elif encoding == 'mono8':
        data = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    elif encoding == 'yuv422':  # UYVY
        yuv = cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV)
        uyvy = np.empty((rgb.shape[0], rgb.shape[1] * 2), np.uint8)
        uyvy[:, 1::2] = yuv[..., 0]
        uyvy[:, 0::4] = yuv[:, 0::2, 1]
        uyvy[:, 2::4] = yuv[:, 0::2, 2]
        data = uyvy
    elif encoding == 'bayer_rggb8':
        data = np.zeros(rgb.shape[:2], np.uint8)
        data[0::2, 0::2] = rgb[0::2, 0::2, 0]
        data[0::2, 1::2] = rgb[0::2, 1::2, 1]
        data[1::2, 0::2] = rgb[1::2, 0::2, 1]
        data[1::2, 1::2] = rgb[1::2, 1::2, 2]
    data = np.ascontiguousarray(data)
    msg.step = int(data.strides[0])
    msg.data = data.tobytes()
    return msg


def _compressed(rgb, fmt, stamp, frame_id):
    ok, buf = cv2.imencode('.jpg' if fmt == 'jpeg' else '.png', rgb[..., ::-1])
    assert ok
    return CompressedImage(header=Header(stamp=stamp, frame_id=frame_id), format=fmt,
                           data=buf.tobytes())


NSC = '/testc/hydranet'  # a second node, subscribed to the compressed transport
OUTPUTS = ((InstanceArray, 'instances'), (Image, 'panoptic'), (PanopticInfo, 'panoptic/segments'),
           (Image, 'semantic'), (Image, 'overlay'))


@pytest.fixture(scope='module')
def graph(tmp_path_factory):
    """Two nodes on the same camera topics: one raw (``NS``), one compressed (``NSC``)."""
    tmp = tmp_path_factory.mktemp('node')
    common = {'score_threshold': 0.2, 'input_width': 320, 'input_height': 256,
              'diagnostics_period': 0.2}
    proc = rosgraph.start_node(tmp, params=common)
    # The compressed node's params file also lists a head the shipped model lacks, as a
    # params file written for another model would: it runs the others and says so.
    proc_c = rosgraph.start_node(tmp, params=dict(common, image_transport='compressed',
                                                  tasks=['detect', 'masks', 'semantic',
                                                         'keypoints', 'depth']),
                                 namespace='/testc', log_name='node_compressed')
    w = rosgraph.Watcher('node_test_watcher')
    for ns in (NS, NSC):
        for t, topic in OUTPUTS:
            w.subscribe(t, f'{ns}/{topic}')
        w.subscribe(ModelInfo, f'{ns}/model_info', latched=True)
    w.subscribe(DiagnosticArray, '/diagnostics')
    qos = QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE)
    w.image_pub = w.node.create_publisher(Image, '/cam/image_raw', qos)
    w.jpeg_pub = w.node.create_publisher(CompressedImage, '/cam/image_raw/compressed', qos)
    w.info_pub = w.node.create_publisher(CameraInfo, '/cam/camera_info', qos)
    for ns, p in ((NS, proc), (NSC, proc_c)):
        ok = w.spin_until(lambda: w.received[f'{ns}/model_info'], 90, p)
        assert ok, f'{ns} never published model_info:\n' + rosgraph.node_log(p)
    w.proc, w.proc_c = proc, proc_c
    yield w
    w.close()
    assert rosgraph.stop_node(proc) == 0, rosgraph.node_log(proc)
    assert rosgraph.stop_node(proc_c) == 0, rosgraph.node_log(proc_c)


def _send_and_wait(g, msg, stamp, topics=('instances',), timeout=60):
    compressed = isinstance(msg, CompressedImage)
    pub, ns = (g.jpeg_pub, NSC) if compressed else (g.image_pub, NS)
    proc = g.proc_c if compressed else g.proc

    def arrived():
        return all(rosgraph.by_stamp(g.received[f'{ns}/{t}'], stamp) for t in topics)
    for _ in range(int(timeout / 2)):  # best-effort input: resend until processed
        pub.publish(msg)
        if g.spin_until(arrived, 2.0, proc):
            return True
    return False


def _diag_values(g, ns=NS):
    msgs = [m for m in g.received['/diagnostics']
            if any(s.name == f'{ns}: pipeline' for s in m.status)]
    assert msgs, f'no diagnostics named {ns}: pipeline'
    status = [s for s in msgs[-1].status if s.name == f'{ns}: pipeline'][0]
    return {kv.key: kv.value for kv in status.values}


def test_model_info_describes_the_model(graph):
    info = graph.received[f'{NS}/model_info'][-1]
    # backend 'auto' (the default) on this CPU: an ONNX runtime when installed
    assert 'person' in info.class_names and info.backend == resolve_backend('auto', 'cpu')
    assert (info.input_height, info.input_width) == (256, 320)
    assert len(info.weights_sha256) == 64
    assert {s.name for s in info.keypoint_schemas} == {'coco_person', 'instrument'}


KINDS = ['rgb8', 'bgr8', 'mono8', 'yuv422', 'bayer_rggb8', 'jpeg', 'png']


@pytest.mark.parametrize('kind', KINDS)
def test_every_output_carries_the_input_header(graph, kind):
    graph.info_pub.publish(CameraInfo(header=Header(frame_id='cam_' + kind), height=H,
                                      width=W))
    stamp = Time(sec=1000 + KINDS.index(kind), nanosec=123)
    frame_id = f'cam_{kind}'
    msg = (_compressed(FRAME, kind, stamp, frame_id) if kind in ('jpeg', 'png')
           else _raw(FRAME, kind, stamp, frame_id))
    topics = ('instances', 'panoptic', 'panoptic/segments', 'semantic', 'overlay')
    ns = NSC if kind in ('jpeg', 'png') else NS
    assert _send_and_wait(graph, msg, stamp, topics), rosgraph.node_log(graph.proc)
    out = {t: rosgraph.by_stamp(graph.received[f'{ns}/{t}'], stamp)[-1] for t in topics}
    for t, m in out.items():
        assert m.header.frame_id == frame_id, t
    inst = out['instances']
    assert (inst.image_height, inst.image_width) == (H, W)
    for d in decode_instances(inst):
        assert d.mask is not None and d.mask.shape == (H, W)
    pan = out['panoptic']
    assert (pan.encoding, pan.height, pan.width) == ('32SC1', H, W)
    ids = np.frombuffer(bytes(pan.data), np.int32).reshape(H, W)
    seg_ids = {s.id for s in out['panoptic/segments'].segments}
    assert set(np.unique(ids)) - {0} == seg_ids  # every non-void pixel is a segment
    assert sum(s.area for s in out['panoptic/segments'].segments) == int((ids > 0).sum())
    sem = out['semantic']
    assert (sem.encoding, sem.height, sem.width) == ('mono8', H, W)
    ov = out['overlay']
    assert (ov.encoding, ov.height, ov.width, ov.step) == ('rgb8', H, W, W * 3)


def test_detections_on_a_generated_frame(graph):
    stamp = Time(sec=2000, nanosec=5)
    assert _send_and_wait(graph, _raw(FRAME, 'rgb8', stamp, 'cam'), stamp)
    inst = rosgraph.by_stamp(graph.received[f'{NS}/instances'], stamp)[-1]
    assert len(inst.instances) >= 1
    assert len({i.id for i in inst.instances}) == len(inst.instances)


BAD_INPUTS = {
    'truncated': lambda s: Image(header=Header(stamp=s), height=H, width=W,
                                 encoding='rgb8', step=W * 3, data=bytes(100)),
    'bad_encoding': lambda s: Image(header=Header(stamp=s), height=2, width=2,
                                    encoding='hsv8', step=6, data=bytes(12)),
    'bad_step': lambda s: Image(header=Header(stamp=s), height=2, width=4,
                                encoding='rgb8', step=5, data=bytes(40)),
    'bad_size': lambda s: Image(header=Header(stamp=s), height=0, width=0,
                                encoding='rgb8', step=0, data=b''),
    'nan': lambda s: Image(header=Header(stamp=s), height=2, width=2, encoding='32FC1',
                           step=8, data=np.array([1, np.nan, 2, 3], np.float32).tobytes()),
    'corrupt': lambda s: CompressedImage(header=Header(stamp=s), format='jpeg',
                                         data=b'\xff\xd8\xff' + bytes(64)),
}


@pytest.mark.parametrize('kind', sorted(BAD_INPUTS))
def test_bad_input_is_counted_and_the_node_keeps_going(graph, kind):
    msg = BAD_INPUTS[kind](Time(sec=3000, nanosec=1))
    pub = graph.jpeg_pub if isinstance(msg, CompressedImage) else graph.image_pub

    ns, proc = (NSC, graph.proc_c) if isinstance(msg, CompressedImage) else (NS, graph.proc)

    def counted():
        return int(_diag_values(graph, ns).get(f'errors.{kind}', '0')) > 0 \
            if graph.received['/diagnostics'] else False
    for _ in range(10):
        pub.publish(msg)
        if graph.spin_until(counted, 1.0, proc):
            break
    assert counted(), _diag_values(graph, ns)
    log = rosgraph.node_log(proc)
    assert f'image refused ({kind})' in log
    stamp = Time(sec=3100 + sorted(BAD_INPUTS).index(kind), nanosec=7)
    assert _send_and_wait(graph, _raw(FRAME, 'rgb8', stamp, 'cam'), stamp), log


def _set(graph, name, value):
    cli = graph.node.create_client(SetParameters, f'{NS}/set_parameters')
    assert cli.wait_for_service(timeout_sec=10)
    if isinstance(value, bool):
        pv = ParameterValue(type=ParameterType.PARAMETER_BOOL, bool_value=value)
    elif isinstance(value, float):
        pv = ParameterValue(type=ParameterType.PARAMETER_DOUBLE, double_value=value)
    elif isinstance(value, list):
        pv = ParameterValue(type=ParameterType.PARAMETER_STRING_ARRAY, string_array_value=value)
    else:
        pv = ParameterValue(type=ParameterType.PARAMETER_STRING, string_value=value)
    fut = cli.call_async(SetParameters.Request(parameters=[Parameter(name=name, value=pv)]))
    assert graph.spin_until(fut.done, 10)
    graph.node.destroy_client(cli)
    return fut.result().results[0]


def test_bad_parameters_are_refused_with_a_reason(graph):
    r = _set(graph, 'tasks', ['masks'])
    assert not r.successful and 'need detect' in r.reason
    r = _set(graph, 'tasks', ['detect', 'depth'])  # the shipped model has no depth head
    assert not r.successful and 'no such head' in r.reason and 'keypoints' in r.reason
    r = _set(graph, 'tasks', ['all', 'detect'])
    assert not r.successful and '[all]' in r.reason
    r = _set(graph, 'device', 'gpu7')
    assert not r.successful and 'cpu or cuda:N' in r.reason
    r = _set(graph, 'weights', '/nonexistent/w.pt')
    assert not r.successful and 'not found' in r.reason
    r = _set(graph, 'score_threshold', 1.5)
    assert not r.successful
    r = _set(graph, 'class_filter', ['unicorn'])
    assert not r.successful and 'unknown classes' in r.reason


def test_tasks_and_class_filter_apply_at_run_time(graph):
    assert _set(graph, 'tasks', ['detect']).successful
    assert _set(graph, 'class_filter', ['instrument']).successful
    try:
        stamp = Time(sec=4000, nanosec=1)
        assert _send_and_wait(graph, _raw(FRAME, 'rgb8', stamp, 'cam'), stamp)
        inst = rosgraph.by_stamp(graph.received[f'{NS}/instances'], stamp)[-1]
        assert all(i.class_name == 'instrument' for i in inst.instances)
        assert all(len(i.mask_rle) == 0 for i in inst.instances)  # mask head off
        assert not rosgraph.by_stamp(graph.received[f'{NS}/panoptic'], stamp)
    finally:
        assert _set(graph, 'tasks', ['all']).successful
        assert _set(graph, 'class_filter', ['']).successful


def test_a_listed_head_the_model_lacks_is_skipped_and_counted_once(graph):
    # NSC's params file lists depth; the shipped model has no depth head.
    for sec in (4100, 4101):
        stamp = Time(sec=sec, nanosec=1)
        assert _send_and_wait(graph, _compressed(FRAME, 'jpeg', stamp, 'cam'), stamp,
                              topics=('instances', 'panoptic', 'semantic'))
    inst = rosgraph.by_stamp(graph.received[f'{NSC}/instances'], stamp)[-1]
    assert inst.instances and all(len(i.mask_rle) for i in inst.instances)
    assert graph.spin_until(
        lambda: _diag_values(graph, NSC).get('errors.tasks_unavailable') == '1', 5)
    log = rosgraph.node_log(graph.proc_c)
    assert log.count("tasks ['depth'] skipped: the model has no such head") == 1, log


def test_enable_service_pauses_processing(graph):
    cli = graph.node.create_client(SetBool, f'{NS}/enable')
    assert cli.wait_for_service(timeout_sec=10)
    fut = cli.call_async(SetBool.Request(data=False))
    assert graph.spin_until(fut.done, 10) and fut.result().success
    stamp = Time(sec=5000, nanosec=1)
    assert not _send_and_wait(graph, _raw(FRAME, 'rgb8', stamp, 'cam'), stamp, timeout=4)
    fut = cli.call_async(SetBool.Request(data=True))
    assert graph.spin_until(fut.done, 10) and fut.result().success
    assert _send_and_wait(graph, _raw(FRAME, 'rgb8', stamp, 'cam'), stamp)


def test_frame_accounting_in_diagnostics(graph):
    stamp = Time(sec=7000, nanosec=1)  # at least one processed frame, also when run alone
    assert _send_and_wait(graph, _raw(FRAME, 'rgb8', stamp, 'cam'), stamp)
    v = _settled_diag(graph, NS)  # a diagnostics message in which every frame is counted
    assert int(v['frames_processed']) >= 1
    assert float(v['latency_ms_p50']) > 0
    # Where the time goes: each stage is reported, the Predictor's stages add up to the
    # model's time and the model sits inside the end-to-end latency.
    stages = {k: float(v[f'{k}_ms_p50']) for k in (
        'decode', 'queue', 'preprocess', 'forward', 'postprocess', 'model', 'publish')}
    assert stages['forward'] > 0 and stages['model'] <= float(v['latency_ms_p50']) + 1e-6
    assert stages['preprocess'] + stages['forward'] + stages['postprocess'] <= \
        stages['model'] * 1.5  # p50s of sums and sums of p50s differ a little


def _get(graph, name):
    cli = graph.node.create_client(GetParameters, f'{NS}/get_parameters')
    assert cli.wait_for_service(timeout_sec=10)
    fut = cli.call_async(GetParameters.Request(names=[name]))
    assert graph.spin_until(fut.done, 10)
    graph.node.destroy_client(cli)
    return parameter_value_to_python(fut.result().values[0])


def _settled_diag(graph, ns):
    """Wait for a diagnostics message of ``ns`` in which every frame is accounted for."""
    def settled():
        if not any(s.name == f'{ns}: pipeline' for m in graph.received['/diagnostics']
                   for s in m.status):
            return False
        v = _diag_values(graph, ns)
        return int(v['frames_in']) == int(v['frames_processed']) + \
            int(v['frames_dropped']) + int(v['frames_rejected'])
    graph.received['/diagnostics'].clear()
    assert graph.spin_until(settled, 20), f'{ns}: frames never all accounted for'
    return _diag_values(graph, ns)


def test_a_camera_publishing_raw_and_compressed_is_processed_once(graph):
    # Every image_transport camera publishes both; each node takes one transport.
    before = {ns: int(_settled_diag(graph, ns)['frames_in']) for ns in (NS, NSC)}
    stamps = [Time(sec=8000 + i, nanosec=3) for i in range(12)]
    for stamp in stamps:
        graph.image_pub.publish(_raw(FRAME, 'rgb8', stamp, 'cam'))
        graph.jpeg_pub.publish(_compressed(FRAME, 'jpeg', stamp, 'cam'))
        graph.spin_until(lambda: all(rosgraph.by_stamp(graph.received[f'{ns}/instances'],
                                                       stamp) for ns in (NS, NSC)), 5.0)
    for ns in (NS, NSC):
        out = [m for s in stamps for m in rosgraph.by_stamp(graph.received[f'{ns}/instances'],
                                                            s)]
        per_stamp = [len(rosgraph.by_stamp(out, s)) for s in stamps]
        assert max(per_stamp) == 1, f'{ns} processed a frame twice: {per_stamp}'
        assert sum(per_stamp) >= 1, f'{ns} processed none of the frames'
        frames_in = int(_settled_diag(graph, ns)['frames_in']) - before[ns]
        assert frames_in <= len(stamps), f'{ns} took {frames_in} frames for {len(stamps)}'


def test_diagnostics_are_named_by_the_fully_qualified_node_name(graph):
    assert graph.spin_until(lambda: {f'{ns}: pipeline' for ns in (NS, NSC)} <= {
        s.name for m in graph.received['/diagnostics'] for s in m.status}, 10)
    names = {s.name for m in graph.received['/diagnostics'] for s in m.status}
    assert 'hydranet: pipeline' not in names


def test_runtime_changes_that_cannot_work_here_are_refused(graph):
    # No CUDA and no TensorRT provider on this machine (the CUDA case is checked by
    # bench/gpu_check.sh where a GPU exists): refused with the reason, nothing reloads.
    if backend_problem('tensorrt', 'auto') is None:
        pytest.skip('this machine can run TensorRT')
    r = _set(graph, 'backend', 'tensorrt')
    assert not r.successful and 'TensorrtExecutionProvider' in r.reason
    if backend_problem('onnxruntime', 'cuda:0') is not None:
        r = _set(graph, 'device', 'cuda:0')
        assert not r.successful and ('CUDA' in r.reason or 'cuda' in r.reason), r.reason
    r = _set(graph, 'image_transport', 'compressed')
    assert not r.successful and 'configure' in r.reason
    r = _set(graph, 'image_transport', 'theora')
    assert not r.successful and 'raw' in r.reason
    assert _get(graph, 'backend') == 'auto' and _get(graph, 'device') == 'auto'


def test_a_failed_reload_rolls_the_parameter_back(graph, tmp_path):
    # A file that looks like ONNX to the cheap check but does not load: the reload fails
    # on the inference thread, the running model stays, the parameter says so again.
    bad = tmp_path / 'broken.onnx'
    bad.write_bytes(b'\x08\x07' + bytes(64))
    before = int(_diag_values(graph).get('errors.reload', '0'))
    assert _set(graph, 'weights', str(bad)).successful
    assert graph.spin_until(lambda: _get(graph, 'weights') == '', 60), \
        rosgraph.node_log(graph.proc)
    assert graph.spin_until(
        lambda: int(_diag_values(graph).get('errors.reload', '0')) > before, 10)
    assert 'reload failed' in rosgraph.node_log(graph.proc)
    stamp = Time(sec=9000, nanosec=1)
    assert _send_and_wait(graph, _raw(FRAME, 'rgb8', stamp, 'cam'), stamp)


def _track_ids(graph, sec, frames, frame_id):
    ids = []
    for k in range(frames):  # 10 Hz
        stamp = Time(sec=sec, nanosec=k * 100_000_000)
        assert _send_and_wait(graph, _raw(FRAME, 'rgb8', stamp, frame_id), stamp)
        inst = rosgraph.by_stamp(graph.received[f'{NS}/instances'], stamp)[-1]
        assert len(inst.instances) > 0
        ids.append({i.track_id for i in inst.instances})
    return ids


def test_instances_carry_track_ids_from_the_tracking_stage(graph):
    ids = _track_ids(graph, 12000, 3, 'track_cam')  # its own camera: its own tracker
    assert ids[-1] - {0}, ids  # confirmed tracks by the third frame
    assert (ids[-1] & ids[-2]) - {0}, ids  # the same objects keep their ids
    assert _set(graph, 'tracking', False).successful
    try:
        assert _track_ids(graph, 12001, 1, 'track_cam') == [{0}]
    finally:
        assert _set(graph, 'tracking', True).successful
