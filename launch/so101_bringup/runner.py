"""Run a node graph in this process, without `ros2 launch`: the runner behind `so101 run`.

What `ros2 launch` does with separate processes, the runner does in one: emulated buses become
BusEmulator objects, each node class is instantiated with its name, namespace and the parameters
`ros2 launch` would give it (params files in order, then the explicit values, which win), and
each node spins on its own single-threaded executor in its own thread, which is as close to
separate processes as one interpreter gets: one shared MultiThreadedExecutor delayed 100 Hz
timers by up to hundreds of milliseconds here, queueing every node's callbacks together.
A node whose constructor fails releases what it opened itself (nodes.runtime.abandon).
Stopping destroys the nodes
(last started first), which is where they make hardware safe (the follower releases torque),
then stops the emulators and, if the runner created it, the ROS context.

    with GraphRunner(teleop_graph(TeleopArgs(emulate=True)), domain_id=42) as running:
        follower = running.node("follower")
        ...

Each runner normally gets its own rclpy Context (domain_id None: $ROS_DOMAIN_ID, else 0), so a
test or benchmark can isolate its graph on a domain of its own; pass `context` to share one.
Nodes named in `processes` run as child processes instead (node_process.py: a node that holds the
GIL for long, like the MuJoCo twin's renderer, would starve the others), on the same domain, with
`process_environment` added to theirs. A graph's tools (robot_state_publisher, rviz2) always run as
child processes; a tool that is not installed stops the start before anything runs.
"""
from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Collection, Mapping
from typing import Any

from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter

from so101_bringup.catalog import node_type
from so101_bringup.graph_checks import check_graph
from so101_bringup.graph_spec import EmulatorSpec, Graph, NodeSpec
from so101_bringup.node_process import NodeProcess
from so101_bringup.param_files import effective_parameters
from so101_bringup.tools import ToolNotInstalledError, require_tools
from so101_hardware.emulator import BusEmulator

_log = logging.getLogger(__name__)
_JOIN_TIMEOUT_S = 10.0


class GraphStartError(RuntimeError):
    """A node or emulator of the graph failed to start; everything started before it was stopped."""


class GraphRunError(RuntimeError):
    """A node callback raised while the graph ran; the graph was stopped."""


def node_kwargs(node: NodeSpec, context: Context) -> dict[str, Any]:
    """The rclpy.node.Node keyword arguments that start `node` as `ros2 launch` would."""
    overrides = [
        Parameter(name, value=list(value) if isinstance(value, tuple) else value)
        for name, value in effective_parameters(node).items()
    ]
    kwargs: dict[str, Any] = {
        "node_name": node.name,
        "namespace": node.namespace,
        "context": context,
        "parameter_overrides": overrides,
    }
    if node.remappings:
        kwargs["cli_args"] = ["--ros-args", *(arg for src, dst in node.remappings for arg in ("-r", f"{src}:={dst}"))]
    return kwargs


class GraphRunner:
    """Start with start() or `with`; stop with stop() (safe to call twice) or by leaving the block."""

    def __init__(
        self,
        graph: Graph,
        *,
        domain_id: int | None = None,
        context: Context | None = None,
        processes: Collection[str] = (),
        process_environment: Mapping[str, str] | None = None,
    ):
        if context is not None and domain_id is not None:
            raise ValueError("pass domain_id or a context, not both: a context already has its domain")
        self.graph = graph
        self._as_processes = {graph.node(name).fqn for name in processes}  # KeyError names an unknown node
        self._process_environment = dict(process_environment or {})
        self._domain_id = domain_id
        self._own_context = context is None
        self.context = context if context is not None else Context()
        self._emulators: dict[str, BusEmulator] = {}
        self._nodes: dict[str, Node] = {}
        self._processes: dict[str, NodeProcess] = {}
        self._executors: list[SingleThreadedExecutor] = []
        self._threads: list[threading.Thread] = []
        self._done = threading.Event()
        self._stopping = threading.Event()
        self._failure: BaseException | None = None
        self._started = False

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> GraphRunner:
        """Check the graph (GraphError), start the emulators, then the nodes (GraphStartError)."""
        if self._started:
            raise RuntimeError("a graph runner starts once; make a new one to start the graph again")
        self._started = True
        check_graph(self.graph)
        try:
            require_tools(self.graph.tools)
        except ToolNotInstalledError as exc:
            raise GraphStartError(str(exc)) from None
        if self._own_context:
            self.context.init(args=[], domain_id=self._domain_id)
        try:
            for spec in self.graph.emulators:
                self._emulators[str(spec.link)] = self._start_emulator(spec)
            for spec in self.graph.nodes:
                if spec.fqn in self._as_processes:
                    self._processes[spec.fqn] = NodeProcess(
                        spec, self.context.get_domain_id(), self._process_environment
                    )
                else:
                    self._nodes[spec.fqn] = self._start_node(spec)
            for tool in self.graph.tools:  # not nodes of this stack: always their own processes
                self._processes[tool.fqn] = NodeProcess(tool, self.context.get_domain_id(), self._process_environment)
        except BaseException:
            self._teardown()
            raise
        gc.freeze()  # as nodes.runtime.run_node does: long-lived start-up objects out of every GC pass
        for fqn, node in self._nodes.items():
            executor = SingleThreadedExecutor(context=self.context)
            executor.add_node(node)
            self._executors.append(executor)
            thread = threading.Thread(target=self._spin, args=(executor,), name=f"spin{fqn}", daemon=True)
            self._threads.append(thread)
            thread.start()
        return self

    def stop(self) -> None:
        """Stop spinning, destroy the nodes (last started first), stop the emulators.

        Raises GraphRunError if a node callback had failed while the graph ran, or a node process
        had exited by itself.
        """
        if not self._started or self._stopping.is_set():
            return
        self._done.set()
        crashed = self.exited_processes()
        self._teardown()
        if crashed and self._failure is None:
            raise GraphRunError(f"node process(es) exited while the graph ran: {crashed} (exit codes)")
        if self._failure is not None:
            failure, self._failure = self._failure, None
            raise GraphRunError(f"a node failed while the graph ran: {type(failure).__name__}: {failure}") from failure

    def __enter__(self) -> GraphRunner:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def request_stop(self) -> None:
        """Make wait() return (thread- and signal-handler-safe); stop() does the stopping."""
        self._done.set()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until request_stop() or a node failure; False if timeout_s passed first."""
        return self._done.wait(timeout_s)

    # --- access --------------------------------------------------------------------------------

    def exited_processes(self) -> dict[str, int]:
        """Node processes that have stopped by themselves: fully qualified name → exit code."""
        return {fqn: code for fqn, process in self._processes.items() if (code := process.exited_early()) is not None}

    def process_id(self, name: str) -> int:
        """The pid of the node called `name`, which runs as a child process (KeyError otherwise)."""
        return self._processes[self.graph.node(name).fqn].process.pid

    def node(self, name: str) -> Node:
        """The running node called `name` (plain or fully qualified, as Graph.node takes it);
        KeyError for a node that runs as a process."""
        return self._nodes[self.graph.node(name).fqn]

    def emulator(self, role: str) -> BusEmulator:
        """The emulated bus of the leader or follower (emulate:=true graphs only)."""
        for spec in self.graph.emulators:
            if spec.role == role:
                return self._emulators[str(spec.link)]
        raise KeyError(f"no emulated {role} bus in this graph (emulate is off, or no {role} arm)")

    # --- internals -----------------------------------------------------------------------------

    def _start_emulator(self, spec: EmulatorSpec) -> BusEmulator:
        try:
            return BusEmulator(spec.emulator_config()).start()
        except Exception as exc:
            raise GraphStartError(f"emulated {spec.role} bus on {spec.link} did not start: {exc}") from exc

    def _start_node(self, spec: NodeSpec) -> Node:
        try:  # loading the class imports the node's libraries: an optional one may be missing (rerun-sdk)
            return node_type(spec.package, spec.executable).load_node_class()(**node_kwargs(spec, self.context))
        except Exception as exc:
            raise GraphStartError(
                f"node {spec.fqn} ({spec.package}/{spec.executable}) did not start: {type(exc).__name__}: {exc}"
            ) from exc

    def _spin(self, executor: SingleThreadedExecutor) -> None:
        """spin() with a stop flag, so the executor is shut down only after this returns."""
        try:
            while not self._stopping.is_set() and self.context.ok():
                executor.spin_once(timeout_sec=0.1)
        except BaseException as exc:  # a node callback raised: report it from stop(), stop the graph
            self._failure = exc
            _log.error("node callback failed, stopping the graph: %s: %s", type(exc).__name__, exc)
        finally:
            self._done.set()

    def _teardown(self) -> None:
        self._stopping.set()
        for executor in self._executors:
            executor.wake()  # out of spin_once()'s wait
        for thread in self._threads:
            thread.join(_JOIN_TIMEOUT_S)
            if thread.is_alive():
                _log.warning("%s still running after %.0f s; destroying the nodes anyway", thread.name, _JOIN_TIMEOUT_S)
        for executor in self._executors:
            executor.shutdown()
        self._executors.clear()
        self._threads.clear()
        for fqn, node in reversed(list(self._nodes.items())):
            try:
                node.destroy_node()
            except Exception:  # one node failing to stop must not keep the others (or the arm) running
                _log.exception("node %s did not stop cleanly", fqn)
        self._nodes.clear()
        for fqn, process in reversed(list(self._processes.items())):  # last started first, as the nodes above
            code = process.stop()
            if code != 0:
                _log.warning("node process %s exited with %s", fqn, code)
        self._processes.clear()
        for emulator in reversed(list(self._emulators.values())):
            emulator.stop()
        self._emulators.clear()
        if self._own_context:
            self.context.try_shutdown()
