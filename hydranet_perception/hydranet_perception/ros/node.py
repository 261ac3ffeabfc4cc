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
hydranet_node: camera in, one HydraNet pass, instances, panoptic maps and overlay out.

A lifecycle node, as ros2/demos' lifecycle_py: ``configure`` loads the model and creates
the subscriptions and (lifecycle) publishers, ``activate`` starts processing,
``deactivate`` stops it, ``cleanup`` and ``shutdown`` destroy what configure created
and release the model. It configures and activates itself unless ``autostart`` is
false. Subscription callbacks only decode (a view for raw encodings) and park the newest
frame in a one-slot mailbox per camera; an inference thread takes the frames waiting
(up to ``max_batch``, oldest first), runs them through the model as one batch and
publishes every output with its input image's header; the overlay is drawn on a third
thread so that it never delays the next frame.

Cameras (``cameras``, see ``camera_input``): [''] is one camera on ``image`` with its
outputs under ``~/``; a list of namespaces (``[front, left]``) serves several cameras
with one model, each read from ``<name>/image`` and published under ``~/<name>/``, with
its own tracker and diagnostics status.

Between the model and the messages run the stages of ``inference.stages`` (today:
tracking, behind the ``tracking`` parameter), each fed the ``Prediction`` and a
``FrameContext`` built from the image header; a new output joins as a stage there.
"""

import contextlib
import ctypes
import ctypes.util
import queue
import sys
import threading
import time

from diagnostic_msgs.msg import DiagnosticArray
from hydranet_perception.inference.backends import backend_problem
from hydranet_perception.inference.batching import BatchStats, LatestSlots
from hydranet_perception.inference.pipeline import PipelineStats, Throttle
from hydranet_perception.inference.stages import FrameContext, Stages, Tracking
from hydranet_perception.ros import diagnostics, params
from hydranet_perception.ros.camera_input import CameraInput
from hydranet_perception.ros.engine import Engine, EngineError
from hydranet_perception.ros.outputs import OverlayWorker
from hydranet_perception_msgs.msg import ModelInfo
from rcl_interfaces.msg import SetParametersResult
import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.lifecycle import LifecycleNode, TransitionCallbackReturn
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from std_srvs.srv import SetBool

# Depth 5: frames that arrive while the executor is busy wait in DDS instead of being
# overwritten unseen; the node then takes them and counts the replaced ones as dropped.
IMAGE_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=5,
                       reliability=ReliabilityPolicy.BEST_EFFORT,
                       durability=DurabilityPolicy.VOLATILE)
# Parameters whose value is the running model's: a failed reload rolls them back.
RELOAD_PARAMS = tuple(n for n, s in params.SPECS.items() if s.reload)


def _release_heap():
    """Hand freed heap pages back to the OS (glibc), so that reloads do not grow RSS."""
    name = ctypes.util.find_library('c')
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(name).malloc_trim(0)


class HydraNetNode(LifecycleNode):
    """The perception node; see the module docstring and config/hydranet.yaml."""

    def __init__(self, **kwargs):
        super().__init__('hydranet', **kwargs)
        for name, spec in params.SPECS.items():
            self.declare_parameter(name, spec.default, params.descriptor(name))
        self.stats = PipelineStats()
        self._throttle = Throttle(5.0)  # one log line per kind of problem per 5 s
        self._slots = LatestSlots([''])
        self._batch = BatchStats()
        self._cameras = {}  # name -> CameraInput, made on configure
        self._model_info = None
        self._engine = None
        self._engine_params = {}  # the reload parameters the running engine was built with
        self._engine_lock = threading.Lock()
        self._enabled = True
        self._active = False
        self._configured = False
        self._reload_pending = False
        self._rollback = None  # parameter values to restore after a failed reload
        self._rolling_back = False
        self._worker = None
        self._post = None
        self._post_worker = None
        self._overlay = None
        self._stages = Stages()
        self._stages_stale = True  # rebuilt on the post thread before the next batch
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self.create_service(SetBool, '~/enable', self._on_enable)
        self._diag_pub = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        self._diag_timer = self.create_timer(self._p('diagnostics_period'),
                                             self._publish_diagnostics)
        # A failed reload on the inference thread asks the executor thread to roll the
        # parameters back (parameters are set where the parameter services run).
        self._rollback_trigger = self.create_guard_condition(self._apply_rollback)
        if self._p('autostart'):
            self.trigger_configure()
            self.trigger_activate()

    # -- parameters ------------------------------------------------------------------

    def _p(self, name):
        return self.get_parameter(name).value

    def _on_set_parameters(self, changes):
        if self._rolling_back:
            return SetParametersResult(successful=True)  # our own rollback
        names = tuple(self._engine.label_space.names) if self._engine else ()
        for p in changes:
            reason = params.validate(p.name, p.value, class_names=names)
            if reason is None and p.name == 'weights' and p.value:
                reason = Engine.check_weights(p.value)
            if reason is None and p.name in ('image_transport', 'cameras') and \
                    self._configured and list(p.value) != list(self._p(p.name)):
                reason = (f'{p.name} is read on configure: set it in the params file, '
                          'or cleanup and configure the node after setting it')
            if reason:
                return self._refuse(reason)
        new = {p.name: p.value for p in changes}
        if {'backend', 'device'} & set(new):
            reason = backend_problem(new.get('backend', self._p('backend')),
                                     new.get('device', self._p('device')))
            if reason:
                return self._refuse(reason)
        for p in changes:
            spec = params.SPECS.get(p.name)
            if spec is not None and spec.reload and self._configured:
                self._reload_pending = True
            if p.name == 'diagnostics_period':
                self._diag_timer.timer_period_ns = int(p.value * 1e9)
            if p.name in params.TRACKING_PARAMS:
                self._stages_stale = True
        return SetParametersResult(successful=True)

    def _refuse(self, reason):
        self.get_logger().warning(f'refused parameter: {reason}')
        self.stats.error('bad_parameter', reason)
        return SetParametersResult(successful=False, reason=reason)

    def _apply_rollback(self):
        values, self._rollback = self._rollback, None
        if not values:
            return
        self._rolling_back = True  # lets our own set_parameters through the callback
        try:
            self.set_parameters([Parameter(n, value=v) for n, v in values.items()])
        finally:
            self._rolling_back = False

    def _thresholds(self):
        return {'score_thresh': self._p('score_threshold'),
                'nms_iou': self._p('nms_iou'),
                'mask_thresh': self._p('mask_threshold'),
                'max_det': self._p('max_detections'),
                'tasks': [t for t in self._p('tasks') if t],
                'class_filter': [c for c in self._p('class_filter') if c]}

    # -- lifecycle -------------------------------------------------------------------

    def on_configure(self, state):
        try:
            self._load_engine()
        except EngineError as e:
            self.get_logger().error(f'cannot configure: {e}')
            self.stats.error('model', str(e))
            return TransitionCallbackReturn.FAILURE
        self._create_entities()
        self._configured = True
        self.get_logger().info(f'configured: {self._engine.describe()}')
        return TransitionCallbackReturn.SUCCESS

    def _create_entities(self):
        """Create the cameras' inputs and outputs and ~/model_info (see _destroy_entities)."""
        latched = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL,
                             reliability=ReliabilityPolicy.RELIABLE)
        self._model_info = self.create_lifecycle_publisher(ModelInfo, '~/model_info', latched)
        names = list(self._p('cameras'))
        single = names == ['']  # self.stats: the cameras' sum (the camera, if only one)
        self._batch = BatchStats()
        self._slots = LatestSlots(names)
        self._cameras = {name: CameraInput(
            self, name, compressed=self._p('image_transport') == 'compressed',
            qos=IMAGE_QOS, park=lambda *frame: self._slots.put(*frame),
            stats=self.stats if single else PipelineStats(),
            total=None if single else self.stats, model_info=self._model_info,
            accepting=lambda: self._active and self._enabled,
            log_problem=self._log_refused) for name in names}

    def _destroy_entities(self):
        for camera in self._cameras.values():
            camera.destroy()
        self._cameras = {}
        if self._model_info is not None:
            self.destroy_lifecycle_publisher(self._model_info)
            self._model_info = None

    def on_activate(self, state):
        if self._reload_pending:  # reload parameters changed while inactive
            self._reload_pending = False
            self._reload()  # on failure the running model stays, parameters roll back
        ret = super().on_activate(state)  # enables the lifecycle publishers
        self._slots = LatestSlots(list(self._cameras))
        self._overlay = OverlayWorker(
            render=lambda camera, *frame: camera.outputs.publish_overlay(*frame),
            on_done=lambda s: self.stats.timed('overlay', s),
            on_error=self._overlay_failed)
        # The stages (and what they import) are ready before the first frame.
        self._stages, self._stages_stale = self._make_stages(), False
        self._active = True
        self._publish_model_info()
        self._post = queue.Queue(maxsize=1)
        self._post_worker = threading.Thread(target=self._run_post, args=(self._post,),
                                             name='hydranet-post', daemon=True)
        self._post_worker.start()
        self._worker = threading.Thread(target=self._run, name='hydranet-infer', daemon=True)
        self._worker.start()
        # A process that runs an ONNX runtime should not hold torch: say whether it does.
        self.get_logger().info(f'active (torch loaded: {"torch" in sys.modules})')
        return ret

    def on_deactivate(self, state):
        self._stop_worker()
        _release_heap()
        self.get_logger().info('inactive: processing stopped (model kept until cleanup)')
        return super().on_deactivate(state)

    def on_cleanup(self, state):
        self._release()
        self.get_logger().info('unconfigured: model released')
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state):
        self._release()
        return TransitionCallbackReturn.SUCCESS

    def on_error(self, state):
        self._release()
        return TransitionCallbackReturn.SUCCESS

    def _release(self):
        self._stop_worker()
        self._destroy_entities()
        with self._engine_lock:
            self._engine = None  # releases the model (and GPU memory)
        self._configured = False
        self._reload_pending = False
        _release_heap()

    def stop(self):
        """Stop the inference thread (at exit, without a lifecycle transition)."""
        self._stop_worker()

    def _stop_worker(self):
        self._active = False
        slots, worker = self._slots, self._worker
        slots.close()
        if worker is not None:
            worker.join(timeout=10.0)
        self._drop_waiting(slots)
        self._worker = None
        if self._post_worker is not None:
            self._post.put(None)  # after the batches handed over
            self._post_worker.join(timeout=10.0)
            self._post_worker = None
        if self._overlay is not None:
            self._overlay.close()
            self._overlay = None

    def _overlay_failed(self, e: Exception):
        self.stats.error('overlay', f'{type(e).__name__}: {e}')
        if self._throttle.ready('overlay'):
            self.get_logger().error(f'overlay failed: {type(e).__name__}: {e}')

    def _load_engine(self):
        settings = {n: self._p(n) for n in RELOAD_PARAMS}
        engine = Engine(weights=settings['weights'], device=settings['device'],
                        backend=settings['backend'], fp16=settings['fp16'],
                        input_size=(settings['input_height'], settings['input_width']),
                        threads=settings['threads'])
        with self._engine_lock:
            self._engine, self._engine_params = engine, settings
        self._stages_stale = True  # new label space: new trackers

    def _reload(self) -> bool:
        """
        Load the model again with the current parameters; on failure keep the old one.

        The parameters are then rolled back to the running model's, so that they never
        say one thing while the model does another; log and diagnostics say so.
        """
        old = dict(self._engine_params)
        try:
            self._load_engine()
        except Exception as e:  # noqa: B902 - any failure keeps the running model
            changed = {n: v for n, v in old.items() if self._p(n) != v}
            reason = (f'reload failed, parameters {sorted(changed)} rolled back to the '
                      f'running model ({self._engine.describe()}): {e}')
            self.get_logger().error(reason)
            self.stats.error('reload', reason)
            self._rollback = changed
            self._rollback_trigger.trigger()
            return False
        self.get_logger().info(f'reloaded: {self._engine.describe()}')
        if self._active:
            self._publish_model_info()
        return True

    def _publish_model_info(self):
        camera = next(iter(self._cameras.values()))
        camera.outputs.publish_model_info(self._engine, self.get_clock().now().to_msg())

    def _on_enable(self, request, response):
        self._enabled = bool(request.data)
        if not self._enabled:
            self._drop_waiting(self._slots)
        response.success = True
        response.message = 'processing enabled' if self._enabled else 'processing paused'
        return response

    # -- input (decoding happens in camera_input.CameraInput's callbacks) ------------

    def _drop_waiting(self, slots):
        for name in slots.clear():
            camera = self._cameras.get(name)
            if camera is not None:
                camera.dropped()

    def _log_refused(self, kind, message):
        if self._throttle.ready(kind):
            self.get_logger().warning(f'image refused ({kind}): {message}')

    # -- inference thread ------------------------------------------------------------

    def _make_stages(self) -> Stages:
        """
        Build the stages after the model from the current parameters.

        Tracking: ``tracking.TrackerConfig`` with the node's settings; the low-score
        and new-track thresholds follow ``track_high_score`` where it would pass them.
        """
        tracking = None
        if self._p('tracking'):
            from hydranet_perception.tracking import TrackerConfig
            high = float(self._p('track_high_score'))
            config = TrackerConfig(high_score=high, low_score=min(0.1, high),
                                   new_track_score=max(0.6, high),
                                   min_hits=int(self._p('track_min_hits')),
                                   max_age_s=float(self._p('track_max_age_s')))
            tracking = Tracking(config=config, on_reset=self._tracks_reset)
        return Stages([tracking])

    def _tracks_reset(self, camera):
        self.stats.error('tracks_reset', f'camera {camera}: stamps went back; tracks restarted')
        if self._throttle.ready('tracks_reset'):
            self.get_logger().info(f'camera {camera}: stamps went back (a bag looping, a '
                                   'clock jump); its tracks start again')

    def _run(self):
        """Take the waiting frames and run their forward pass (the inference thread)."""
        while self._active:
            if self._reload_pending:  # parameters changed: reload here, off the executor
                self._reload_pending = False
                self._reload()
            batch = self._slots.take(self._p('max_batch'), timeout=0.2)
            if batch:
                self._forward([(self._cameras[name], frame) for name, frame in batch])

    def _forward(self, batch):
        """
        Run the forward pass of a batch of (camera, Frame); hand it to the post thread.

        The post thread postprocesses, runs the stages and publishes a batch while this
        thread runs the next one's forward pass (which leaves the GIL): on a small CPU
        this keeps both cores busy with one node.
        """
        taken = time.monotonic()
        options = self._thresholds()
        tasks, class_filter = options.pop('tasks'), options.pop('class_filter')
        try:
            with self._engine_lock:
                engine = self._engine
                forward = engine.forward_batch([f.rgb for _, f in batch], tasks=tasks)
        except Exception as e:  # noqa: B902 - keep the pipeline alive, report why
            if len(batch) > 1:  # one frame's fault must not cost the others theirs
                for item in batch:
                    self._forward([item])
                return
            self._failed(batch[0][0], e)
            return
        # Waits while the post thread still has the batch before the previous one.
        self._post.put((batch, engine, forward, options, class_filter, taken))

    def _run_post(self, jobs):
        while True:
            job = jobs.get()
            if job is None:
                return
            self._postprocess(*job)

    def _postprocess(self, batch, engine, forward, options, class_filter, taken):
        """Postprocess a batch, run each frame's stages and publish it on its camera."""
        try:
            if self._stages_stale:
                self._stages_stale = False
                self._stages = self._make_stages()
            preds = engine.postprocess_batch(forward, class_filter=class_filter, **options)
        except Exception as e:  # noqa: B902 - keep the pipeline alive, report why
            for camera, _ in batch:
                self._failed(camera, e)
            return
        model_s = time.monotonic() - taken
        self._batch.add(len(batch))
        for (camera, frame), pred in zip(batch, preds):
            try:
                self._finish(camera, frame, pred, engine, taken, model_s, forward.timings)
            except Exception as e:  # noqa: B902 - keep the pipeline alive, report why
                self._failed(camera, e)

    def _finish(self, camera, frame, pred, engine, taken, model_s, timings):
        """Run the stages on one frame's prediction and publish it on its camera."""
        header, rgb = frame.header, frame.rgb
        context = FrameContext(
            camera=camera.track_key(header), stamp_sec=header.stamp.sec,
            stamp_nanosec=header.stamp.nanosec, frame_id=header.frame_id,
            image_size=tuple(rgb.shape[:2]), label_space=engine.label_space)
        t0 = time.monotonic()
        pred, stages = self._stages(pred, context)
        t1 = time.monotonic()
        camera.outputs.publish(pred, header, engine.label_space)
        done = time.monotonic()
        # latency: receipt -> instances, panoptic and semantic published; decode: image
        # message -> RGB (in the callback); queue: receipt -> taken by the inference
        # thread; model: taken -> its batch postprocessed (preprocess + forward, the
        # hand-over to the post thread, postprocess; each also timed apart) plus this
        # frame's stages (each also timed by name, e.g. tracking); publish: its
        # messages (the overlay follows on its own thread).
        stages.update(timings)
        stages.update(decode=frame.decode_s, queue=taken - frame.received,
                      model=model_s + t1 - t0, publish=done - t1)
        camera.processed(done - frame.received, stages)
        if self._p('publish_overlay') and camera.outputs.wants_overlay():
            if not self._overlay.submit(camera, pred, rgb, header, engine.label_space):
                self.stats.error('overlay', 'the overlay thread is stuck')

    def _failed(self, camera, e):
        camera.rejected('inference', f'{type(e).__name__}: {e}')
        if self._throttle.ready('inference'):
            self.get_logger().error(f'inference failed: {type(e).__name__}: {e}')

    # -- diagnostics -----------------------------------------------------------------

    def _publish_diagnostics(self):
        cameras = list(self._cameras.values()) if self._configured else []
        warnings = {}
        for camera in cameras:
            silent = time.monotonic() - camera.last_image_at
            warnings[camera.name] = diagnostics.silent_input_warning(
                self, camera.image_topic, silent, self._p('no_image_warning'))
            if warnings[camera.name]:
                self.get_logger().warning(warnings[camera.name], throttle_duration_sec=30.0)
        if [c.name for c in cameras] in ([], ['']):  # one camera: one status, as ever
            msg = diagnostics.build(
                self, self.stats.snapshot(), configured=self._configured,
                active=self._active, enabled=self._enabled, engine=self._engine,
                camera_info=bool(cameras) and cameras[0].camera_info is not None,
                warning=warnings.get('', ''))
        else:
            statuses = [diagnostics.camera_status(
                self, c.name, c.stats.snapshot(), engine=self._engine,
                camera_info=c.camera_info is not None, warning=warnings[c.name])
                for c in cameras]
            silent = [c.name for c in cameras if warnings[c.name]]
            msg = diagnostics.build(
                self, self.stats.snapshot(), configured=self._configured,
                active=self._active, enabled=self._enabled, engine=self._engine,
                camera_info=bool(cameras) and all(c.camera_info is not None for c in cameras),
                warning=f'no images from cameras {silent}' if silent else '',
                batch=self._batch.snapshot(), cameras=statuses)
        self._diag_pub.publish(msg)


def main(args=None):
    """Run hydranet_node (console script and ``ros2 run`` entry point)."""
    rclpy.init(args=args)
    node = None
    try:
        node = HydraNetNode()
        # One executor thread: the callbacks only park frames and answer services (the
        # model runs on its own thread). rclpy's MultiThreadedExecutor re-polls a ready
        # callback whose group is busy in a tight loop, which measured ~95% of a core
        # at 30 Hz input and starved the model on a 2-core machine.
        executor = SingleThreadedExecutor()
        executor.add_node(node)
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl-C while closing
            if node is not None:
                node.stop()
                node.destroy_node()
            rclpy.try_shutdown()
