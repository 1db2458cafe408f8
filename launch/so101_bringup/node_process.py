"""One node of a graph as a child process, started the way `ros2 run` / `ros2 launch` start it.

A node whose work holds the GIL for long stretches (the MuJoCo twin's software rendering: 100+
ms per front-camera frame) starves every other node of an in-process graph; in a process of its
own it runs on the other core, as it would under `ros2 launch`. The command line carries what
the runner would have passed in-process: name and namespace remaps, the params files in order,
then the explicit parameters (JSON is valid YAML, which is how --ros-args reads -p values).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import signal
import subprocess
import sys
from collections.abc import Mapping

from so101_bringup.catalog import node_type
from so101_bringup.graph_spec import NodeSpec, ToolSpec
from so101_bringup.tools import tool_executable

STOP_TIMEOUT_S = 10.0
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _stop_with_the_runner() -> None:
    """In the child, before exec: SIGINT when the runner's process dies (SIGKILL, a crash).

    Without it a runner killed without its teardown leaves its nodes running, orphaned and still
    on the graph's domain, where the next graph on that domain talks to them (seen here: a
    recorder left by a killed benchmark answered another run's recorder/start for hours). SIGINT,
    not SIGKILL: the node still makes its hardware safe (the follower releases torque).
    """
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGINT)


def node_command(spec: NodeSpec | ToolSpec) -> list[str]:
    """`python -m <node module> --ros-args ...` for a node of the stack; `<executable> <arguments> --ros-args ...`
    for a tool (found through the ament index: ToolNotInstalledError when it is not installed)."""
    if isinstance(spec, ToolSpec):
        command = [str(tool_executable(spec)), *spec.arguments, "--ros-args", "-r", f"__node:={spec.name}"]
    else:
        module = node_type(spec.package, spec.executable).main.partition(":")[0]
        command = [sys.executable, "-m", module, "--ros-args", "-r", f"__node:={spec.name}"]
    if spec.namespace:
        command += ["-r", f"__ns:=/{spec.namespace.strip('/')}"]
    for path in getattr(spec, "param_files", ()):
        command += ["--params-file", str(path)]
    for name, value in spec.parameters.items():
        command += ["-p", f"{name}:={json.dumps(list(value) if isinstance(value, tuple) else value)}"]
    for source, target in spec.remappings:
        command += ["-r", f"{source}:={target}"]
    return command


class NodeProcess:
    """A started child process running one node; stop() sends SIGINT (the node releases what it
    holds, as on Ctrl-C), then kills it if it has not exited within STOP_TIMEOUT_S. On Linux the
    node also gets SIGINT if the thread that started it dies first (prctl PDEATHSIG: start graphs
    from a thread that outlives them, e.g. the main thread)."""

    def __init__(self, spec: NodeSpec | ToolSpec, domain_id: int, environment: Mapping[str, str] | None = None):
        self.spec = spec
        environment = {**os.environ, **(environment or {}), "ROS_DOMAIN_ID": str(domain_id)}
        on_linux = sys.platform.startswith("linux")
        self.process = subprocess.Popen(node_command(spec), env=environment, stdin=subprocess.DEVNULL,
                                        preexec_fn=_stop_with_the_runner if on_linux else None)

    def exited_early(self) -> int | None:
        """The exit code if the node has already stopped by itself, else None."""
        return self.process.poll()

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode
