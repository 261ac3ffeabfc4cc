#!/usr/bin/env bash
# Copyright 2026 The hydranet_perception Authors
# SPDX-License-Identifier: Apache-2.0
#
# (Re)generate the shipped bag hydranet_perception/data/sample_bag/: 90 frames (3 s at
# 30 Hz) of synthetic scene seed 0, 640x480, every thing class present (2 people,
# 2 instruments, 2 boxes), in motion.
#
# Contents (decided to fit the 10 MB budget):
#   /camera/image_raw/compressed  sensor_msgs/msg/CompressedImage  JPEG quality 90, ~40 KB
#   /camera/camera_info           sensor_msgs/msg/CameraInfo       pinhole, plumb_bob zeros
#   gt.jsonl                      ground truth per frame (boxes, RLE masks, keypoints)
# The raw topic is left out: 640x480 rgb8 is 900 KB a frame, 81 MB for 90 frames. Play
# it to a node subscribed to image/compressed (or write a raw bag with this script's
# command without --no-raw, e.g. for a shorter clip).
#
# And hydranet_perception/data/sample_depth_bag/: 20 frames (0.67 s at 30 Hz) of the
# same seed at 320x240 from the generator's calibrated depth camera, for the node's 3D
# outputs (depth_topic; play it with --loop):
#   /camera/image_raw/compressed  sensor_msgs/msg/CompressedImage  JPEG quality 90
#   /camera/camera_info           sensor_msgs/msg/CameraInfo       K and plumb_bob D
#   /camera/depth/image_raw       sensor_msgs/msg/Image            16UC1 mm, aligned
#   /camera/depth/camera_info     sensor_msgs/msg/CameraInfo       the same camera
#   gt.jsonl                      also each instance's 3D position and keypoints
# A separate bag because depth does not fit the 10 MB budget at 640x480: the
# generator's noisy 16-bit depth is ~400 KB a frame even as PNG (36 MB for 90 frames);
# raw 16UC1 at 320x240 is 150 KB a frame (3.3 MB here).
#
# The output is a pure function of the arguments (same bytes on every run with the
# same numpy/OpenCV). Usage: tools/make_sample_bag.sh [VENV]
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${1:-${HYDRANET_VENV:-$ROOT/.venv}}"
OUT="$ROOT/hydranet_perception/data/sample_bag"
DEPTH_OUT="$ROOT/hydranet_perception/data/sample_depth_bag"

rm -rf "$OUT" "$DEPTH_OUT"
mkdir -p "$(dirname "$OUT")"
PYTHONPATH="$ROOT/hydranet_perception${PYTHONPATH:+:$PYTHONPATH}" \
  "$VENV/bin/python" -m hydranet_perception.bag.cli write "$OUT" \
  --seed 0 --frames 90 --size 640x480 --fps 30 --jpeg-quality 90 --no-raw
PYTHONPATH="$ROOT/hydranet_perception${PYTHONPATH:+:$PYTHONPATH}" \
  "$VENV/bin/python" -m hydranet_perception.bag.cli write "$DEPTH_OUT" \
  --seed 0 --frames 20 --size 320x240 --fps 30 --jpeg-quality 90 --no-raw --depth
du -sh "$OUT" "$DEPTH_OUT"
