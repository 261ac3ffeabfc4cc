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
# The output is a pure function of the arguments (same bytes on every run with the
# same numpy/OpenCV). Usage: tools/make_sample_bag.sh [VENV]
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${1:-${HYDRANET_VENV:-$ROOT/.venv}}"
OUT="$ROOT/hydranet_perception/data/sample_bag"

rm -rf "$OUT"
mkdir -p "$(dirname "$OUT")"
PYTHONPATH="$ROOT/hydranet_perception${PYTHONPATH:+:$PYTHONPATH}" \
  "$VENV/bin/python" -m hydranet_perception.bag.cli write "$OUT" \
  --seed 0 --frames 90 --size 640x480 --fps 30 --jpeg-quality 90 --no-raw
du -sh "$OUT"
