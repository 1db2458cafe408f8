"""A so101 node's life: start (name, config, clean failure), spin, and stop through destroy_node().

Every node derives from So101Node and runs from its console script through run_node. A node
that cannot start (bad parameters, a missing port, a silent motor, a model asset that will not
load) raises at construction, having released what it had opened; run_node prints one line that
says what to do and exits 1, with no traceback soup for the operator. SIGINT and SIGTERM (what
`ros2 launch` sends) shut it down through its own destroy_node(), which is where hardware is made
safe (the follower releases torque there). A control node's process (its config has real-time
parameters) takes the scheduling they ask for once the node exists (schedule_process: SCHED_FIFO
where permitted) and spins on rclpy's events executor where rclpy has one (executor_for).
"""
from __future__ import annotations

import gc
import signal
import sys
import threading
from collections.abc import Callable
from typing import ClassVar

import rclpy
from rclpy.executors import Executor, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions

from so101_calibration import CalibrationError
from so101_hardware.cameras import CameraError
from so101_hardware.errors import BusError
from so101_hardware.realtime import RealtimeParameters, apply_to_process
from so101_hardware.ros.errors import NodeStartError
from so101_hardware.ros.params import declare_config

SPIN_SLICE_S = 0.1
"""How quickly a stop request is noticed."""

STARTUP_ERRORS: tuple[type[BaseException], ...] = (
    NodeStartError,
    CalibrationError,
    BusError,
    CameraError,
    FileNotFoundError,
    ValueError,
)
"""What run_node reports as one line: the errors a node's start raises for a fixable cause."""


class So101Node(Node):
    """Base of every so101 node: its default name, its parameters as a typed config, a clean failed start.

    Subclasses set DEFAULT_NAME and CONFIG (a frozen dataclass: one ROS parameter per field,
    so101_hardware.ros.params) and build everything else in setup(), where each resource that
    must be let go if a later step fails is registered with release_on_failure(). Errors of the
    types in START_ERRORS (a library's "cannot start" errors) become NodeStartError naming the node.
    """

    DEFAULT_NAME: ClassVar[str]
    CONFIG: ClassVar[type]
    START_ERRORS: ClassVar[tuple[type[BaseException], ...]] = ()

    def __init__(self, **node_kwargs):
        super().__init__(node_kwargs.pop("node_name", self.DEFAULT_NAME), **node_kwargs)
        self._release_on_failure: list[Callable[[], object]] = []
        try:
            self.config = declare_config(self, self.CONFIG)
            self.setup()
        except self.START_ERRORS as exc:
            error = NodeStartError(f"node {self.get_name()}: {exc}")
            self._abandon()
            raise error from exc
        except BaseException:
            self._abandon()
            raise

    def setup(self) -> None:
        """Create the node's resources, topics, services and timers (self.config is set)."""

    def release_on_failure(self, release: Callable[[], object]) -> None:
        """Call `release` if the start fails after this point (releases run last registered first)."""
        self._release_on_failure.append(release)

    def _abandon(self) -> None:
        """Undo a start that failed halfway: release what the node holds, unregister it.

        Without this the Context still tracks the half-built node and its shutdown would call the
        subclass's destroy_node() on attributes that were never set.
        """
        for release in reversed(self._release_on_failure):
            try:
                release()
            except Exception:  # noqa: BLE001 - best effort: the original error is what matters
                pass
        Node.destroy_node(self)


def run_node(make_node: Callable[[], Node], args: list[str] | None = None) -> int:
    """Run one node until SIGINT or SIGTERM, then destroy it; 1 if it could not start.

    Our own signal handlers only set a flag, and the executor spins in short slices, so the
    node always gets to its destroy_node(). rclpy's own handler shuts the context down under the
    executor instead, which left nodes hung or spinning a core at exit here.
    """
    rclpy.init(args=args if args is not None else sys.argv, signal_handler_options=SignalHandlerOptions.NO)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    node: Node | None = None
    try:
        node = make_node()
        schedule_process(node)
        # Start-up objects (rclpy, numpy, the node) live for the whole run: keeping them out of
        # every GC pass halved teleop's p99 latency here (teleop_latency benchmark).
        gc.freeze()
        executor = executor_for(node)
        executor.add_node(node)
        while not stop.is_set():
            executor.spin_once(timeout_sec=SPIN_SLICE_S)
        executor.shutdown()
    except STARTUP_ERRORS as exc:
        print(f"[so101] {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    finally:
        if node is not None:
            node.destroy_node()
        if rclpy.ok():
            rclpy.shutdown()
    return 0


def schedule_process(node: Node) -> None:
    """The node's process takes the scheduling its config asks for (so101_hardware.realtime), said once.

    Only where the node owns its process: nodes sharing one (the in-process graph runner) would all
    get one node's choice, the caller's threads included.
    """
    config = getattr(node, "config", None)
    if not isinstance(config, RealtimeParameters):
        return
    outcome = apply_to_process(config.realtime_priority, config.cpu_affinity)
    refused = config.realtime_priority and not outcome.realtime
    (node.get_logger().warning if refused else node.get_logger().info)(outcome.message)


def executor_for(node: Node) -> Executor:
    """A control node (one with real-time parameters) spins on rclpy's events executor where rclpy has it
    (Jazzy from rclpy 7.1.4, Kilted; not Humble): it dispatches callbacks from C++ instead of rebuilding a
    wait set in Python for every message (docs/reference/realtime.md §4). Every other node keeps the
    single-threaded executor."""
    if isinstance(getattr(node, "config", None), RealtimeParameters):
        try:
            from rclpy.experimental import EventsExecutor
        except ImportError:
            pass
        else:
            return EventsExecutor()
    return SingleThreadedExecutor()


def node_main(node_class: type[Node]) -> Callable[[list[str] | None], int]:
    """The console-script entry point of a node class: `main = node_main(FollowerNode)`."""

    def main(args: list[str] | None = None) -> int:
        return run_node(node_class, args)

    main.__doc__ = f"Run {node_class.__name__} until SIGINT/SIGTERM; exit code 1 if it cannot start."
    return main
