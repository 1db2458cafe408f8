"""`so101 status`: a live terminal table of every node's /diagnostics.

What an operator at the robot wants at a glance without reading logs: which nodes are up, their
level and message, their loop rate and latency, and the counters that say something is wrong
(bus errors, safety clamps and rejections, the hottest motor, camera reconnects). The table is
built from plain DiagnosticStatus values (a pure function, tested on its own); the command
subscribes to /diagnostics and redraws with rich once a second.
"""
from __future__ import annotations

import argparse
import threading
import time
from dataclasses import dataclass, field

from rich.console import Console
from rich.live import Live
from rich.table import Table

from so101_bringup.domains import domain_id_argument
from so101_calibration.interface_contract import DIAGNOSTICS

LEVELS = {0: ("OK", "green"), 1: ("WARN", "yellow"), 2: ("ERROR", "bold red"), 3: ("STALE", "dim")}
STALE_AFTER_S = 3.0  # three missed 1 Hz reports: the node is probably gone


@dataclass
class NodeHealth:
    """The last DiagnosticStatus heard from one node, and when."""

    name: str
    level: int
    message: str
    values: dict[str, str]
    received: float


@dataclass
class StatusBoard:
    """Latest status per node; fed from the subscription, read by the drawing loop."""

    nodes: dict[str, NodeHealth] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def update(self, name: str, level: int, message: str, values: dict[str, str], now: float) -> None:
        with self.lock:
            self.nodes[name] = NodeHealth(name, level, message, values, now)

    def snapshot(self) -> list[NodeHealth]:
        with self.lock:
            return sorted(self.nodes.values(), key=lambda n: n.name)


def _number(values: dict[str, str], key: str) -> float | None:
    try:
        return float(values[key])
    except (KeyError, ValueError):
        return None


def summarize(values: dict[str, str]) -> dict[str, str]:
    """The few figures that matter, from whatever keys a node reports."""
    rate = next((_number(values, k) for k in ("rate_hz", "command_rate_hz", "publish_rate_hz") if k in values), None)
    latency = next((values[k] for k in values if k.endswith("_p99_ms")), None)
    errors = sum(
        int(float(v)) for k, v in values.items()
        if k in ("timeouts", "checksum_errors", "port_errors", "malformed_replies", "read_failures", "rejected_messages")
        or k.startswith("tick_error_")
    )
    safety = sum(int(float(v)) for k, v in values.items() if k.startswith(("safety_rejected", "safety_clamped")))
    temperatures = [float(v) for k, v in values.items() if k.endswith("_temperature_c")]
    return {
        "rate": f"{rate:.0f} Hz" if rate is not None else "",
        "p99": f"{float(latency):.1f} ms" if latency is not None else "",
        "errors": str(errors) if errors else "",
        "safety": str(safety) if safety else "",
        "temp": f"{max(temperatures):.0f} °C" if temperatures else "",
    }


def render(board: StatusBoard, now: float) -> Table:
    table = Table(title="so101 status: /diagnostics", expand=True)
    for column in ("node", "level", "rate", "p99", "errors", "safety", "temp", "message"):
        table.add_column(column, no_wrap=column != "message")
    for node in board.snapshot():
        stale = now - node.received > STALE_AFTER_S
        label, style = LEVELS[3] if stale else LEVELS.get(node.level, ("?", ""))
        figures = summarize(node.values)
        message = f"silent for {now - node.received:.0f} s" if stale else node.message
        table.add_row(
            node.name, f"[{style}]{label}[/]", figures["rate"], figures["p99"], figures["errors"],
            figures["safety"], figures["temp"], message,
        )
    if not board.nodes:
        table.caption = f"waiting for {DIAGNOSTICS.name} (is anything running on this ROS_DOMAIN_ID?)"
    return table


def watch(duration_s: float | None, domain_id: int | None, console: Console | None = None) -> int:
    """Subscribe to /diagnostics and redraw until Ctrl-C (or duration_s)."""
    import rclpy
    from diagnostic_msgs.msg import DiagnosticArray
    from rclpy.context import Context
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.signals import SignalHandlerOptions

    from so101_hardware.ros.endpoints import subscription

    board = StatusBoard()

    def on_diagnostics(msg: DiagnosticArray) -> None:
        now = time.monotonic()
        for status in msg.status:
            level = status.level[0] if isinstance(status.level, bytes) else int(status.level)
            board.update(status.name, level, status.message, {kv.key: kv.value for kv in status.values}, now)

    context = Context()
    # Ctrl-C stays Python's KeyboardInterrupt (rclpy's own handler would end the process without cleanup).
    rclpy.init(args=[], context=context, domain_id=domain_id, signal_handler_options=SignalHandlerOptions.NO)
    node = rclpy.create_node("so101_status", context=context)
    subscription(node, DIAGNOSTICS, on_diagnostics)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    stop = threading.Event()

    def spin() -> None:  # with a stop flag: the executor is shut down only after this returns
        while not stop.is_set():
            executor.spin_once(timeout_sec=0.1)

    spinner = threading.Thread(target=spin, daemon=True)
    spinner.start()
    end = None if duration_s is None else time.monotonic() + duration_s
    try:
        with Live(render(board, time.monotonic()), console=console, refresh_per_second=2) as live:
            while end is None or time.monotonic() < end:
                live.update(render(board, time.monotonic()))
                time.sleep(0.5)  # redraw period
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        spinner.join()
        executor.shutdown()
        node.destroy_node()
        context.try_shutdown()
    return 0


def add_status_parser(sub: argparse._SubParsersAction) -> None:
    status = sub.add_parser("status", help="live table of every node's /diagnostics (Ctrl-C to quit)")
    status.add_argument("--domain-id", type=domain_id_argument, default=None,
                        help="ROS domain (default: $ROS_DOMAIN_ID, else 0)")
    status.add_argument("--duration", type=float, default=None, help="quit after this many seconds")
    status.set_defaults(func=lambda args: watch(args.duration, args.domain_id))
