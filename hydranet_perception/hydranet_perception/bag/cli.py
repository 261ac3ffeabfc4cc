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
The ``hydranet-bag`` command: write, info, play and record ROS 2 bags without rosbag2.

::

    hydranet-bag write OUT --seed 0 --frames 90 [--size 640x480] [--fps 30] [--depth]
    hydranet-bag info BAG [--json]
    hydranet-bag play BAG [--rate R] [--loop] [--topics T ...] [--remap FROM:=TO ...]
                          [--qos-reliability reliable|best_effort] [--qos-depth N]
                          [--delay S] [--clock [HZ]] [--wait-for-subscribers N]
    hydranet-bag record OUT --topics T[:TYPE] ... [--duration S] [--max-messages N]

``play`` and ``record`` take ROS arguments after ``--ros-args`` (e.g. ``-p
use_sim_time:=true``) and print a JSON summary on stdout when they end. Only they
import rclpy: they live next to the node, in ``ros/bag_cli.py``, and this module hands
them their arguments by the module's name; ``write`` and ``info`` work without ROS.
"""

import argparse
import importlib
import json
import sys
from typing import List, Optional

from hydranet_perception.bag.bag_io import (bag_info, DEFAULT_START_NS, format_info,
                                            write_synthetic_bag)

#: The subcommands that need rclpy, by the module (under ros/) whose ``main`` runs them.
ROS_COMMANDS = {'play': 'hydranet_perception.ros.bag_cli',
                'record': 'hydranet_perception.ros.bag_cli'}


def _size(text: str):
    try:
        w, h = (int(v) for v in text.lower().split('x'))
    except ValueError:
        raise argparse.ArgumentTypeError(f'size must be WIDTHxHEIGHT, e.g. 640x480, '
                                         f'not {text!r}')
    if w < 8 or h < 8:
        raise argparse.ArgumentTypeError('width and height must be >= 8')
    return w, h


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog='hydranet-bag', description=__doc__.strip().splitlines()[0])
    sub = p.add_subparsers(dest='command', required=True)

    w = sub.add_parser('write', help='write a synthetic camera bag with ground truth')
    w.add_argument('out', help='bag folder to create (must not exist)')
    w.add_argument('--seed', type=int, required=True)
    w.add_argument('--frames', type=int, required=True)
    w.add_argument('--size', type=_size, default=(640, 480), help='WxH (default 640x480)')
    w.add_argument('--fps', type=float, default=30.0)
    w.add_argument('--frame-id', default='camera_optical_frame')
    w.add_argument('--start-time-ns', type=int, default=DEFAULT_START_NS)
    w.add_argument('--jpeg-quality', type=int, default=90)
    w.add_argument('--no-raw', action='store_true', help='leave out /camera/image_raw')
    w.add_argument('--no-compressed', action='store_true',
                   help='leave out /camera/image_raw/compressed')
    w.add_argument('--no-gt', action='store_true', help='do not write gt.jsonl')
    w.add_argument('--depth', action='store_true',
                   help='also /camera/depth/image_raw (16UC1 mm, aligned) and its camera_info, '
                        "from the generator's calibrated depth camera")

    i = sub.add_parser('info', help='print what ros2 bag info prints')
    i.add_argument('bag')
    i.add_argument('--json', action='store_true', help='print the facts as JSON')

    # play and record need rclpy: they live next to the node (ros/bag_cli.py) and are
    # dispatched to by name, so that this module never imports ros/.
    sub.add_parser('play', help='publish a bag to its topics', add_help=False)
    sub.add_parser('record', help='record topics into a new MCAP bag', add_help=False)
    return p


def report(command: str, run) -> int:
    """
    Run ``run()`` for ``hydranet-bag command``; print a usage error as argparse does.

    :param command: the subcommand's name (for the message).
    :param run: a callable doing the work.
    :return: the exit status: 0, 1 for a refused input, 130 on Ctrl-C.
    """
    try:
        run()
    except KeyboardInterrupt:
        return 130
    except (FileExistsError, FileNotFoundError, KeyError, ImportError, LookupError,
            ValueError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f'hydranet-bag {command}: error: {msg}', file=sys.stderr)
        return 1
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    """Run ``hydranet-bag`` (console script); return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ROS_COMMANDS:
        return importlib.import_module(ROS_COMMANDS[argv[0]]).main(argv)
    args = _parser().parse_args(argv)

    def run():
        if args.command == 'write':
            w, h = args.size
            path = write_synthetic_bag(
                args.out, seed=args.seed, num_frames=args.frames, height=h, width=w,
                fps=args.fps, frame_id=args.frame_id, start_time_ns=args.start_time_ns,
                compressed=not args.no_compressed, raw=not args.no_raw,
                ground_truth=not args.no_gt, jpeg_quality=args.jpeg_quality,
                depth=args.depth)
            print(format_info(bag_info(path)))
        else:
            info = bag_info(args.bag)
            print(json.dumps(info, indent=2) if args.json else format_info(info))
    return report(args.command, run)


if __name__ == '__main__':
    sys.exit(main())
