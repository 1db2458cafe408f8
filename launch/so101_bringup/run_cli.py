"""`so101 run <teleop|follower|cameras>`: a launch file's graph, started in this process.

The options are the launch file's arguments (`follower_port:=X` is `--follower-port X`), plus
`--set NODE.PARAM=VALUE` for any node parameter (explicit, so it wins over the params files)
and `--domain-id`. Ctrl-C or SIGTERM stops the graph cleanly: nodes are destroyed (the follower
releases torque), then the emulated buses stop.
"""
from __future__ import annotations

import argparse
import signal
import sys
import typing
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Callable

import yaml

from so101_bringup.arguments import ArgumentSpec, argument_specs
from so101_bringup.catalog import node_type
from so101_bringup.domains import domain_id_argument
from so101_bringup.graph_spec import Graph, ParameterValue
from so101_bringup.launch_graphs import GRAPHS
from so101_bringup.param_files import load_yaml
from so101_calibration import CalibrationError


def add_run_parser(subparsers: Any) -> None:
    """Add `run` and one sub-command per graph to the `so101` parser."""
    run = subparsers.add_parser("run", help="start a launch file's node graph in this process (no ros2 launch)")
    graphs = run.add_subparsers(dest="graph", required=True, metavar="{" + ",".join(GRAPHS) + "}")
    for name, (args_class, _build) in GRAPHS.items():
        sub = graphs.add_parser(name, help=f"what `ros2 launch so101_bringup {name}.launch.py` starts")
        for spec in argument_specs(args_class):
            _add_option(sub, spec)
        sub.add_argument(
            "--set",
            dest="overrides",
            action="append",
            default=[],
            metavar="NODE.PARAM=VALUE",
            help="set a node parameter, e.g. --set teleop.engage_on_start=true (repeatable; wins over params files)",
        )
        sub.add_argument("--domain-id", type=domain_id_argument, help="ROS domain id (default: $ROS_DOMAIN_ID, else 0)")
        sub.add_argument(
            "--node-processes",
            action="store_true",
            help="run each node in a process of its own, as ros2 launch does (the control nodes then take their "
                 "real-time scheduling, README 'Real-time scheduling'); default: one process",
        )
        sub.set_defaults(func=run_graph)


def _add_option(parser: argparse.ArgumentParser, spec: ArgumentSpec) -> None:
    option = "--" + spec.name.replace("_", "-")
    default = f"; default {spec.default_text}" if spec.default is not None else ""
    text = f"{spec.help}{default} [launch argument {spec.name}]"
    if spec.is_bool:
        parser.add_argument(option, dest=spec.name, action=argparse.BooleanOptionalAction, default=None, help=text)
    else:
        parser.add_argument(option, dest=spec.name, type=_argparse_type(spec.convert), default=None, help=text)


def _argparse_type(convert: Callable[[str], Any]) -> Callable[[str], Any]:
    def argparse_convert(text: str) -> Any:
        try:
            return convert(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return argparse_convert


def build_run_graph(args: argparse.Namespace) -> Graph:
    """The graph `so101 run` would start for these parsed options (overrides applied)."""
    args_class, build = GRAPHS[args.graph]
    given = {spec.name: getattr(args, spec.name) for spec in argument_specs(args_class)}
    graph = build(args_class(**{name: value for name, value in given.items() if value is not None}))
    return graph.with_parameters(parse_override(graph, text) for text in args.overrides)


def parse_override(graph: Graph, text: str) -> tuple[str, str, ParameterValue]:
    """NODE.PARAM=VALUE → (node, parameter, value typed as the node declares it); ValueError if malformed.

    VALUE is read as YAML with rcl's typing (param_files.load_yaml: 1e3 and 1.0e3 are floats, as
    in a params file), except for string parameters, which take the text as it is (so a camera
    device "0" stays a string), and ints given to float parameters become floats (typing
    `--set follower.rate_hz=50` should just work).
    """
    target, equals, raw = text.partition("=")
    node_name, dot, parameter = target.partition(".")
    if not (equals and dot and node_name and parameter):
        raise ValueError(f"--set {text!r}: expected NODE.PARAM=VALUE, e.g. follower.max_velocity_rad_s=2.0")
    try:
        node = graph.node(node_name)
    except KeyError as exc:
        raise ValueError(f"--set {text!r}: {exc.args[0]}") from None
    hint = node_type(node.package, node.executable).parameter_types().get(parameter)
    if hint is str:
        return node.name, parameter, raw
    try:
        value = load_yaml(raw)
    except yaml.YAMLError:
        value = raw
    return node.name, parameter, _widen_ints(value, hint)


def _widen_ints(value: Any, hint: Any) -> Any:
    if isinstance(value, list):
        item = (typing.get_args(hint) or (None,))[0]
        return tuple(_widen_ints(v, item) for v in value)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def run_graph(args: argparse.Namespace) -> int:
    """Start the graph, print what runs, and stop it cleanly on Ctrl-C or SIGTERM."""
    from so101_bringup.runner import GraphRunError, GraphRunner, GraphStartError

    try:
        graph = build_run_graph(args)
        processes = [node.name for node in graph.nodes] if args.node_processes else ()
        runner = GraphRunner(graph, domain_id=args.domain_id, processes=processes)
        with _stop_on_signals(runner.request_stop), runner:
            for line in describe(graph, runner.context.get_domain_id()):
                print(line, flush=True)
            runner.wait()
    except (ValueError, CalibrationError, GraphStartError, GraphRunError) as exc:
        print(f"so101 run {args.graph}: {exc}", file=sys.stderr)
        return 1
    print(f"so101 run {args.graph}: stopped", flush=True)
    return 0


def describe(graph: Graph, domain_id: int) -> Iterator[str]:
    for emulator in graph.emulators:
        yield f"  emulated {emulator.role} bus on {emulator.link} (calibration {emulator.calibration})"
    for node in graph.nodes:
        yield f"  node {node.fqn} ({node.package}/{node.executable})"
    for tool in graph.tools:
        yield f"  tool {tool.fqn} ({tool.package}/{tool.executable})"
    yield f"running {len(graph.nodes)} node(s) on ROS domain {domain_id}; Ctrl-C to stop"


@contextmanager
def _stop_on_signals(request_stop: Callable[[], None]) -> Iterator[None]:
    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {signum: signal.signal(signum, lambda *_: request_stop()) for signum in signals}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
