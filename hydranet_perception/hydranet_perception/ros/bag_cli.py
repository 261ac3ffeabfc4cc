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
``hydranet-bag play`` and ``hydranet-bag record``: the subcommands that need rclpy.

``hydranet-bag`` (``bag/cli.py``, ROS-free) hands them their arguments by this module's
name; see that module for the usage. ROS arguments follow ``--ros-args``; a JSON
summary goes to stdout when they end.
"""

import argparse
import json
import sys
from typing import List, Optional

from hydranet_perception.bag.cli import report


def _remap(text: str):
    src, sep, dst = text.partition(':=')
    if not sep or not src or not dst:
        raise argparse.ArgumentTypeError(f'a remap is FROM:=TO, not {text!r}')
    return src, dst


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog='hydranet-bag', description=__doc__.strip().splitlines()[0])
    sub = p.add_subparsers(dest='command', required=True)

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
    """
    Run ``hydranet-bag play ...`` or ``hydranet-bag record ...``.

    :param argv: the arguments after ``hydranet-bag`` (the subcommand first).
    :return: the exit status.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    ros_args = []
    if '--ros-args' in argv:
        cut = argv.index('--ros-args')
        argv, ros_args = argv[:cut], argv[cut:]
    args = _parser().parse_args(argv)
    run = _play if args.command == 'play' else _record
    return report(args.command, lambda: print(json.dumps(run(args, ros_args)), flush=True))


if __name__ == '__main__':
    sys.exit(main())
