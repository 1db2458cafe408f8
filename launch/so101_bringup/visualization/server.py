"""The rerun server and web viewer, on 127.0.0.1 only, as a child process the node owns.

rerun-sdk 0.26's in-process `rr.serve_grpc()` and `rr.serve_web_viewer()` take a port but no
address: both listen on 0.0.0.0, and the web viewer cannot be stopped short of the process
ending. A robot PC on a lab network must not serve its cameras to everyone, and a node that
stops must free its ports, so the node runs the `rerun` CLI that ships in the same wheel
(`rerun --serve-web --bind 127.0.0.1`), logs to it over gRPC like any SDK, and stops it with
itself. Both ports are up (or the start failed with rerun's own words) before start() returns.

The server runs in a session of its own, so a Ctrl-C in the terminal reaches only the node,
which then stops the server after its last log calls (sharing the signal, the server died first
and the SDK printed transport errors on every Ctrl-C). A node killed outright (SIGKILL) leaves
the server running; the next start then says its ports are in use.
"""
from __future__ import annotations

import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import rerun_cli

from so101_calibration.interface_contract import LOOPBACK_HOST

START_TIMEOUT_S = 15.0  # the CLI is one 180 MB binary: a cold start reads it from disk
STOP_TIMEOUT_S = 5.0
_POLL_S = 0.05


class RerunServerError(RuntimeError):
    """The rerun server did not start (a port in use, a missing binary); the message says which."""


def rerun_executable() -> Path:
    """The `rerun` binary of the installed rerun-sdk (its `rerun` console script only wraps it)."""
    return Path(rerun_cli.__file__).with_name("rerun")


class RerunServer:
    """`rerun --serve-web` on 127.0.0.1: gRPC for loggers and native viewers, HTTP for the web viewer."""

    def __init__(self, grpc_port: int, web_port: int, memory_limit: str):
        self.grpc_port = grpc_port
        self.web_port = web_port
        self.memory_limit = memory_limit
        self._process: subprocess.Popen[bytes] | None = None
        self._log = tempfile.TemporaryFile()

    @property
    def grpc_url(self) -> str:
        """What loggers and `rerun <url>` connect to."""
        return f"rerun+http://{LOOPBACK_HOST}:{self.grpc_port}/proxy"

    @property
    def viewer_url(self) -> str:
        """The web viewer, already pointed at the gRPC server."""
        return f"http://{LOOPBACK_HOST}:{self.web_port}/?url={quote(self.grpc_url, safe=':/')}"

    def command(self) -> list[str]:
        return [
            str(rerun_executable()), "--serve-web", "--bind", LOOPBACK_HOST, "--port", str(self.grpc_port),
            "--web-viewer-port", str(self.web_port), "--server-memory-limit", self.memory_limit,
        ]

    def start(self, timeout_s: float = START_TIMEOUT_S) -> RerunServer:
        """Start the server and wait until both ports accept connections; RerunServerError otherwise.

        A busy port is refused up front: rerun exits when its web port is taken, but when its gRPC
        port is taken it logs the error and runs on, and the other program would answer the probe.
        """
        busy = [port for port in (self.grpc_port, self.web_port) if _listening(port)]
        if busy:
            raise RerunServerError(f"port(s) {busy} on {LOOPBACK_HOST} already in use (another rerun node or viewer?); "
                                   "choose others with the grpc_port and web_port parameters")
        try:
            self._process = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=self._log,
                                             stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as exc:
            raise RerunServerError(f"cannot run the rerun CLI ({exc}); is rerun-sdk installed?") from exc
        deadline = time.monotonic() + timeout_s
        waiting = [self.grpc_port, self.web_port]
        while waiting:
            if self._process.poll() is not None:
                raise RerunServerError(f"rerun server exited with code {self._process.returncode}: {self.output()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RerunServerError(f"rerun server did not listen on port(s) {waiting} within {timeout_s:.0f} s")
            waiting = [port for port in waiting if not _accepts(port)]
            if waiting:
                time.sleep(_POLL_S)
        return self

    @property
    def exit_code(self) -> int | None:
        """None while the server runs."""
        return None if self._process is None else self._process.poll()

    def output(self, tail_chars: int = 600) -> str:
        """The end of what the server printed: its reason when it exits."""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-tail_chars:].strip()

    def stop(self) -> None:
        """Terminate the server (safe to call twice); its ports are free when this returns."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._log.close()


def _listening(port: int) -> bool:
    """Something listens on the port (SO_REUSEADDR, as rerun's listeners: connections in TIME_WAIT don't count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((LOOPBACK_HOST, port))
        except OSError:
            return True
    return False


def _accepts(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.2)
        return probe.connect_ex((LOOPBACK_HOST, port)) == 0
