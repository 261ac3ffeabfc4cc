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
frame in a one-slot mailbox; an inference thread takes it, runs the model and publishes
every output with the input image's header; the overlay is drawn on a third thread so
that it never delays the next frame.

Between the model and the messages run the stages of ``inference.stages`` (today:
tracking, behind the ``tracking`` parameter), each fed the ``Prediction`` and a
``FrameContext`` built from the image header; a new output joins as a stage there.
"""

import contextlib
import ctypes
import ctypes.util
import sys
import threading
import time

from diagnostic_msgs.msg import DiagnosticArray
from hydranet_perception.image_codec import ImageError
from hydranet_perception.inference.backends import backend_problem
from hydranet_perception.inference.pipeline import LatestSlot, PipelineStats, Throttle
from hydranet_perception.inference.stages import FrameContext, Stages, Tracking
from hydranet_perception.ros import diagnostics, params
from hydranet_perception.ros.engine import Engine, EngineError
from hydranet_perception.ros.image_msgs import compressed_to_rgb_msg, image_to_rgb
from hydranet_perception.ros.outputs import OutputPublisher, OverlayWorker
from hydranet_perception_msgs.msg import InstanceArray, ModelInfo, PanopticInfo
from rcl_interfaces.msg import SetParametersResult
import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.lifecycle import LifecycleNode, TransitionCallbackReturn
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from rclpy.qos_overriding_options import QoSOverridingOptions
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
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
        self._slot = LatestSlot()
        self._engine = None
        self._engine_params = {}  # the reload parameters the running engine was built with
        self._engine_lock = threading.Lock()
        self._enabled = True
        self._active = False
        self._configured = False
        self._reload_pending = False
        self._rollback = None  # parameter values to restore after a failed reload
        self._rolling_back = False
        self._image_topic = 'image'
        self._last_image_at = time.monotonic()
        self._camera_info = None
        self._worker = None
        self._overlay = None
        self._outputs = None
        self._subscriptions_made = []
        self._stages = Stages()
        self._stages_stale = True  # rebuilt on the inference thread before the next frame
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
            if reason is None and p.name == 'image_transport' and self._configured and \
                    p.value != self._p('image_transport'):
                reason = ('image_transport is read on configure: set it in the params file, '
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
        """Create the subscriptions and lifecycle publishers (undone by _destroy_entities)."""
        if self._p('image_transport') == 'compressed':
            topic, msg_type, callback = 'image/compressed', CompressedImage, self._on_compressed
        else:
            topic, msg_type, callback = 'image', Image, self._on_image
        self._image_topic = topic
        self._subscriptions_made = [
            self.create_subscription(
                msg_type, topic, callback, IMAGE_QOS,
                qos_overriding_options=QoSOverridingOptions.with_default_policies(),
                event_callbacks=diagnostics.qos_event_callbacks(self, topic)),
            self.create_subscription(CameraInfo, 'camera_info', self._on_camera_info,
                                     IMAGE_QOS)]
        latched = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL,
                             reliability=ReliabilityPolicy.RELIABLE)
        pub = self.create_lifecycle_publisher
        self._outputs = OutputPublisher(
            instances=pub(InstanceArray, '~/instances', 10),
            panoptic=pub(Image, '~/panoptic', 10),
            segments=pub(PanopticInfo, '~/panoptic/segments', 10),
            semantic=pub(Image, '~/semantic', 10),
            overlay=pub(Image, '~/overlay', 10),
            model_info=pub(ModelInfo, '~/model_info', latched))

    def _destroy_entities(self):
        for sub in self._subscriptions_made:
            self.destroy_subscription(sub)
        self._subscriptions_made = []
        if self._outputs is not None:
            for pub in self._outputs.publishers():
                self.destroy_lifecycle_publisher(pub)
            self._outputs = None

    def on_activate(self, state):
        if self._reload_pending:  # reload parameters changed while inactive
            self._reload_pending = False
            self._reload()  # on failure the running model stays, parameters roll back
        ret = super().on_activate(state)  # enables the lifecycle publishers
        self._slot = LatestSlot()
        self._overlay = OverlayWorker(
            render=self._outputs.publish_overlay,
            on_done=lambda s: self.stats.timed('overlay', s),
            on_error=self._overlay_failed)
        # The stages (and what they import) are ready before the first frame.
        self._stages, self._stages_stale = self._make_stages(), False
        self._active = True
        self._outputs.publish_model_info(self._engine, self.get_clock().now().to_msg())
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
        slot, worker = self._slot, self._worker
        slot.close()
        if worker is not None:
            worker.join(timeout=10.0)
        if slot.clear():
            self.stats.dropped()
        self._worker = None
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
            self._outputs.publish_model_info(self._engine, self.get_clock().now().to_msg())
        return True

    def _on_enable(self, request, response):
        self._enabled = bool(request.data)
        if not self._enabled and self._slot.clear():
            self.stats.dropped()
        response.success = True
        response.message = 'processing enabled' if self._enabled else 'processing paused'
        return response

    # -- input -----------------------------------------------------------------------

    def _on_image(self, msg):
        self._accept(msg, image_to_rgb)

    def _on_compressed(self, msg):
        self._accept(msg, compressed_to_rgb_msg)

    def _on_camera_info(self, msg):
        self._camera_info = msg

    def _accept(self, msg, convert):
        self._last_image_at = time.monotonic()
        self.stats.frame_in()
        if not (self._active and self._enabled):
            self.stats.dropped()
            return
        # Decode here, on the executor thread: a JPEG is decoded while the inference
        # thread works on the previous frame (on the sample bag, decoding on the
        # inference thread cost ~10% of the frames on 2 cores). Raw encodings are views.
        received = time.monotonic()
        try:
            rgb = convert(msg)
        except ImageError as e:
            self._refuse_frame(e.kind, str(e))
            return
        except Exception as e:  # noqa: B902 - a codec bug must not kill the node
            self._refuse_frame('decode_failed', f'{type(e).__name__}: {e}')
            return
        if self._slot.put((msg.header, rgb, received, time.monotonic() - received)):
            self.stats.dropped()

    def _refuse_frame(self, kind, message):
        self.stats.rejected(kind, message)
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
        while self._active:
            if self._reload_pending:  # parameters changed: reload here, off the executor
                self._reload_pending = False
                self._reload()
            item = self._slot.take(timeout=0.2)
            if item is None:
                continue
            header, rgb, received, decode_s = item
            taken = time.monotonic()
            try:
                if self._stages_stale:
                    self._stages_stale = False
                    self._stages = self._make_stages()
                t0 = time.monotonic()
                with self._engine_lock:
                    engine = self._engine
                    pred = engine.predict(rgb, **self._thresholds())
                    stages = dict(engine.predictor.last_timings)
                context = FrameContext(
                    camera=header.frame_id or self._image_topic, stamp_sec=header.stamp.sec,
                    stamp_nanosec=header.stamp.nanosec, frame_id=header.frame_id,
                    image_size=tuple(rgb.shape[:2]), label_space=engine.label_space)
                pred, stage_s = self._stages(pred, context)
                stages.update(stage_s)
                t1 = time.monotonic()
                self._outputs.publish(pred, header, engine.label_space)
                done = time.monotonic()
                # latency: receipt -> instances, panoptic and semantic published; decode:
                # image message -> RGB (in the callback); queue: receipt -> taken by this
                # thread; model: the Predictor call (preprocess + forward + postprocess)
                # and the stages after it (each also timed by name, e.g. tracking);
                # publish: those messages (the overlay follows on its own thread).
                stages.update(decode=decode_s, queue=taken - received, model=t1 - t0,
                              publish=done - t1)
                self.stats.processed(done - received, stages)
                if self._p('publish_overlay') and self._outputs.wants_overlay():
                    if not self._overlay.submit(pred, rgb, header, engine.label_space):
                        self.stats.error('overlay', 'the overlay thread is stuck')
            except Exception as e:  # noqa: B902 - keep the pipeline alive, report why
                self.stats.rejected('inference', f'{type(e).__name__}: {e}')
                if self._throttle.ready('inference'):
                    self.get_logger().error(f'inference failed: {type(e).__name__}: {e}')

    # -- diagnostics -----------------------------------------------------------------

    def _publish_diagnostics(self):
        warning = ''
        if self._configured:
            silent = time.monotonic() - self._last_image_at
            warning = diagnostics.silent_input_warning(self, self._image_topic, silent,
                                                       self._p('no_image_warning'))
        if warning:
            self.get_logger().warning(warning, throttle_duration_sec=30.0)
        msg = diagnostics.build(self, self.stats.snapshot(), configured=self._configured,
                                active=self._active, enabled=self._enabled,
                                engine=self._engine, camera_info=self._camera_info is not None,
                                warning=warning)
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
