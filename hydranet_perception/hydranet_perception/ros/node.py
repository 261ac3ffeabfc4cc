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

Between the model and the messages run the stages of ``inference.stages``: tracking
(``tracking`` parameter), then 3D lifting (``inference.lift3d_stage``) for frames that a
camera paired with an aligned depth image (``depth_topic``, see ``depth_input``) while
``~/instances_3d`` or ``~/markers`` has a subscriber; each stage is fed the
``Prediction`` and the camera's ``FrameContext``.
"""

import contextlib
import ctypes
import ctypes.util
import queue
import sys
import threading

from diagnostic_msgs.msg import DiagnosticArray
from hydranet_perception.inference.batching import BatchStats, LatestSlots
from hydranet_perception.inference.pipeline import PipelineStats, Throttle
from hydranet_perception.inference.stages import Stages
from hydranet_perception.ros import diagnostics, params
from hydranet_perception.ros.camera_input import CameraInput
from hydranet_perception.ros.engine import Engine, EngineError
from hydranet_perception.ros.node_params import ParameterHandling
from hydranet_perception.ros.node_pipeline import InferencePipeline
from hydranet_perception.ros.outputs import OverlayWorker
from hydranet_perception_msgs.msg import ModelInfo
import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.lifecycle import LifecycleNode, TransitionCallbackReturn
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


class HydraNetNode(InferencePipeline, ParameterHandling, LifecycleNode):
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
        self._tasks_lacking = ()
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
        depth = self._p('depth_topic') or 'off (depth_topic unset: 2D only)'
        self.get_logger().info(f'configured: {self._engine.describe()}; depth: {depth}')
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
            log_problem=self._log_refused, depth=params.depth_input(self._p))
            for name in names}

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
            what = 'depth refused' if kind.startswith('depth_') else 'image refused'
            self.get_logger().warning(f'{what} ({kind}): {message}')

    # -- diagnostics -----------------------------------------------------------------

    def _publish_diagnostics(self):
        cameras = list(self._cameras.values()) if self._configured else []
        self._diag_pub.publish(diagnostics.node_array(
            self, cameras, self.stats.snapshot(), self._batch.snapshot(),
            configured=self._configured, active=self._active, enabled=self._enabled,
            engine=self._engine, limit_s=self._p('no_image_warning')))


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
