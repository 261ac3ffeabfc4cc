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
The node's inference pipeline: batches through the model, stages, publishing.

A mixin of ``HydraNetNode``: the inference thread (``_run``) takes the waiting frames
and runs their forward pass; the post thread (``_run_post``) postprocesses a batch,
runs each frame's stages and publishes it while the next batch's forward pass runs.
"""

import time

from hydranet_perception.inference.lift3d_stage import Lift3D
from hydranet_perception.inference.stages import Stages, Tracking


class InferencePipeline:
    """Inference and post threads of ``HydraNetNode``."""

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
                                   max_age_s=float(self._p('track_max_age_s')),
                                   reid_max_age_s=float(self._p('track_reid_max_age_s')))
            tracking = Tracking(config=config, on_reset=self._tracks_reset)
        # Passes frames without depth unchanged; depth_input checked what it pairs.
        lift = Lift3D(on_refusal=lambda reason: self._log_refused('depth_lift', reason))
        return Stages([tracking, lift])

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
        t0 = time.monotonic()
        pred, stages = self._stages(pred, camera.frame_context(frame, engine.label_space))
        t1 = time.monotonic()
        camera.outputs.publish(pred, header, engine.label_space)
        camera.outputs.publish_3d(pred, header, engine.label_space)
        done = time.monotonic()
        # latency: receipt -> instances, panoptic and semantic published; decode: image
        # message -> RGB (in the callback); queue: receipt -> taken by the inference
        # thread; model: taken -> its batch postprocessed (preprocess + forward, the
        # hand-over to the post thread, postprocess; each also timed apart) plus this
        # frame's depth pairing and stages (each stage also timed by name, e.g.
        # tracking, lift3d); publish: its messages (the overlay on its own thread).
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
