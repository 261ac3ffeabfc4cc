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
The node's parameter handling: validation, refusals, rollbacks, per-frame options.

A mixin of ``HydraNetNode`` (it uses the node's ``_engine``, ``stats``, flags and
logger); kept apart so that each file reads on its own.
"""

from hydranet_perception.inference.backends import backend_problem
from hydranet_perception.ros import params
from hydranet_perception.ros.engine import Engine
from rcl_interfaces.msg import SetParametersResult
from rclpy.parameter import Parameter


class ParameterHandling:
    """Parameter callback, refusals and rollback of ``HydraNetNode``."""

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
            if reason is None and p.name == 'tasks' and self._engine is not None:
                lacking = params.run_tasks(p.value, self._engine.tasks)[1]
                if lacking:
                    reason = (f'tasks {list(lacking)}: the loaded model has no such head; it '
                              f'has {list(self._engine.tasks)} ([all] runs them all)')
            if reason is None and p.name in params.CONFIGURE_PARAMS and \
                    self._configured and p.value != self._p(p.name):
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
                'tasks': self._run_tasks(),
                'class_filter': [c for c in self._p('class_filter') if c]}

    def _run_tasks(self):
        """Return the heads to run (None: all the model has); warn once about absent ones."""
        run, lacking = params.run_tasks(self._p('tasks'), self._engine.tasks)
        if lacking and lacking != self._tasks_lacking:
            self._tasks_lacking = lacking
            instead = '' if run else '; running all its heads instead'
            message = (f'tasks {list(lacking)} skipped: the model has no such head (it has '
                       f'{list(self._engine.tasks)}{instead}); set tasks to [all] or to '
                       'its heads')
            self.stats.error('tasks_unavailable', message)
            self.get_logger().warning(message)
        return run or None
