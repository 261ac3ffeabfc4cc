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

"""Publish one Prediction on every output topic, each with the input image's header."""

from dataclasses import dataclass

from std_msgs.msg import Header

from hydranet_perception.overlay import draw_overlay
from hydranet_perception.prediction import Prediction
from hydranet_perception.ros.image_msgs import array_to_image
from hydranet_perception.ros.messages import (instance_array_msg, model_info_msg,
                                              panoptic_info_msg)
from hydranet_perception.schema import LabelSpace


@dataclass
class OutputPublisher:
    """The node's output publishers, and how a prediction maps onto them."""

    instances: object
    panoptic: object
    segments: object
    semantic: object
    overlay: object
    model_info: object

    def publish(self, pred: Prediction, rgb, header: Header, label_space: LabelSpace, *,
                overlay: bool):
        """Publish instances, panoptic map and segments, semantic map and overlay.

        The panoptic and semantic topics are published whenever the semantic head ran;
        the overlay only when enabled and someone subscribes to it (rendering costs).
        """
        self.instances.publish(instance_array_msg(pred, label_space, header))
        if pred.panoptic is not None:
            self.panoptic.publish(array_to_image(pred.panoptic, '32SC1', header))
            self.segments.publish(panoptic_info_msg(pred, label_space, header))
        if pred.semantic is not None:
            self.semantic.publish(array_to_image(pred.semantic, 'mono8', header))
        if overlay and self.overlay.get_subscription_count() > 0:
            self.overlay.publish(array_to_image(draw_overlay(rgb, pred, label_space),
                                                'rgb8', header))

    def publish_model_info(self, engine, stamp):
        """Publish the latched ModelInfo of a freshly loaded engine."""
        header = Header(stamp=stamp, frame_id='')
        self.model_info.publish(model_info_msg(
            label_space=engine.label_space, header=header, model_name=engine.model_name,
            weights_path=engine.weights_path, weights_sha256=engine.weights_sha256,
            backend=engine.backend, device=engine.device, tasks=engine.tasks,
            input_height=engine.input_size[0], input_width=engine.input_size[1]))
