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

    hydranet-bag write OUT --seed 0 --frames 90 [--size 640x480] [--fps 30]
    hydranet-bag info BAG [--json]
    hydranet-bag play BAG [--rate R] [--loop] [--topics T ...] [--remap FROM:=TO ...]
                          [--qos-reliability reliable|best_effort] [--qos-depth N]
                          [--delay S] [--clock [HZ]] [--wait-for-subscribers N]
    hydranet-bag record OUT --topics T[:TYPE] ... [--duration S] [--max-messages N]

``play`` and ``record`` take ROS arguments after ``--ros-args`` (e.g. ``-p
use_sim_time:=true``) and print a JSON summary on stdout when they end. Only they
import rclpy; ``write`` and ``info`` work without ROS.
"""

import argparse
import json
import sys
from typing import List, Optional

from hydranet_perception.bag.bag_io import (bag_info, DEFAULT_START_NS, format_info,
                                            write_synthetic_bag)


def _size(text: str):
    try:
        w, h = (int(v) for v in text.lower().split('x'))
    except ValueError:
        raise argparse.ArgumentTypeError(f'size must be WIDTHxHEIGHT, e.g. 640x480, '
                                         f'not {text!r}')
    if w < 8 or h < 8:
        raise argparse.ArgumentTypeError('width and height must be >= 8')
    return w, h


def _remap(text: str):
    src, sep, dst = text.partition(':=')
    if not sep or not src or not dst:
        raise argparse.ArgumentTypeError(f'a remap is FROM:=TO, not {text!r}')
    return src, dst


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

    i = sub.add_parser('info', help='print what ros2 bag info prints')
    i.add_argument('bag')
    i.add_argument('--json', action='store_true', help='print the facts as JSON')

    pl = sub.add_parser('play', help='publish a bag to its topics')
    pl.add_argument('bag')
    pl.add_argument('--rate', type=float, default=1.0,
                    help='time factor (2 = twice as fast); 0 = as fast as the subscribers '
                         'take it, after they matched')
    pl.add_argument('--loop', action='store_true', help='play again and again until Ctrl-C')
    pl.add_argument('--topics', nargs='+', help='topics to play (default: all)')
    pl.add_argument('--remap', type=_remap, action='append', default=[],
                    metavar='FROM:=TO', help='publish bag topic FROM on TO (repeatable)')
    pl.add_argument('--qos-reliability', choices=['reliable', 'best_effort'],
                    default='reliable')
    pl.add_argument('--qos-depth', type=int, default=10,
                    help='publisher history depth (1 with --rate 0 and reliable)')
    pl.add_argument('--delay', type=float, default=0.0,
                    help='seconds to wait before the first message')
    pl.add_argument('--clock', type=float, nargs='?', const=40.0, default=0.0, metavar='HZ',
                    help='publish /clock with the bag time (default 40 Hz)')
    pl.add_argument('--wait-for-subscribers', type=int, metavar='N',
                    help='wait for N subscribers on every played topic first '
                         '(default: 1 with --rate 0, else 0)')
    pl.add_argument('--wait-timeout', type=float, metavar='S',
                    help='play anyway after waiting S seconds for subscribers')

    r = sub.add_parser('record', help='record topics into a new MCAP bag')
    r.add_argument('out', help='bag folder to create (must not exist)')
    r.add_argument('--topics', nargs='+', required=True, metavar='TOPIC[:TYPE]',
                   help='topics to record; the type is read from the graph unless given')
    r.add_argument('--duration', type=float, metavar='S', help='stop after S seconds')
    r.add_argument('--max-messages', type=int, metavar='N', help='stop after N messages')
    r.add_argument('--qos-reliability', choices=['auto', 'reliable', 'best_effort'],
                   default='auto', help='auto: reliable if every publisher is (default)')
    return p


def _play(args, ros_args):
    from hydranet_perception.ros.bag_player import run_player
    return run_player(args.bag, ros_args=ros_args, rate=args.rate, loop=args.loop,
                      topics=args.topics, remap=dict(args.remap),
                      reliability=args.qos_reliability, depth=args.qos_depth,
                      delay=args.delay, clock_hz=args.clock,
                      wait_for_subscribers=args.wait_for_subscribers,
                      wait_timeout=args.wait_timeout)


def _record(args, ros_args):
    from hydranet_perception.ros.bag_recorder import run_recorder
    return run_recorder(args.out, args.topics, duration=args.duration,
                        max_messages=args.max_messages, reliability=args.qos_reliability,
                        ros_args=ros_args)


def main(argv: Optional[List[str]] = None) -> int:
    """Run ``hydranet-bag`` (console script); return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    ros_args = []
    if '--ros-args' in argv:
        cut = argv.index('--ros-args')
        argv, ros_args = argv[:cut], argv[cut:]
    args = _parser().parse_args(argv)
    try:
        if args.command == 'write':
            w, h = args.size
            path = write_synthetic_bag(
                args.out, seed=args.seed, num_frames=args.frames, height=h, width=w,
                fps=args.fps, frame_id=args.frame_id, start_time_ns=args.start_time_ns,
                compressed=not args.no_compressed, raw=not args.no_raw,
                ground_truth=not args.no_gt, jpeg_quality=args.jpeg_quality)
            print(format_info(bag_info(path)))
        elif args.command == 'info':
            info = bag_info(args.bag)
            print(json.dumps(info, indent=2) if args.json else format_info(info))
        else:
            run = _play if args.command == 'play' else _record
            print(json.dumps(run(args, ros_args)), flush=True)
    except KeyboardInterrupt:
        return 130
    except (FileExistsError, FileNotFoundError, KeyError, ImportError, LookupError,
            ValueError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f'hydranet-bag {args.command}: error: {msg}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
