"""Headless Chromium (Debian's `chromium`) driven over the DevTools protocol, for screenshots of web UIs.

The protocol runs on a pipe (--remote-debugging-pipe: commands in on fd 3, replies out on fd 4,
each a JSON text ended by NUL), so no debugging port is opened and no client package is needed.
WebGL (the rerun web viewer draws everything on a canvas) renders on the CPU with SwiftShader.
Every host name but 127.0.0.1 resolves to nothing: the page cannot reach the network (web
fonts, analytics), which keeps the test offline and its screenshot independent of the internet.
"""
from __future__ import annotations

import base64
import io
import json
import os
import select
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

EXECUTABLE = "chromium"
FLAGS = (
    "--headless",
    "--no-sandbox",  # tests run as root, where Chromium's sandbox refuses to start
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--disable-background-networking",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--mute-audio",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)
REPLY_TIMEOUT_S = 30.0
POLL_S = 1.0  # between screenshots while waiting: a SwiftShader frame of the viewer costs ~0.2 s of CPU


def chromium_installed() -> bool:
    return shutil.which(EXECUTABLE) is not None


class HeadlessChromium:
    """One browser with one page; use as a context manager (the browser and its children stop on exit)."""

    def __init__(self, profile_dir: Path, log_path: Path, window: tuple[int, int] = (1600, 1000)):
        self._args = [*FLAGS, f"--user-data-dir={profile_dir}", f"--window-size={window[0]},{window[1]}"]
        self._log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None
        self._session: str | None = None
        self._buffer = b""
        self._next_id = 0

    def __enter__(self) -> HeadlessChromium:
        commands_in, self._commands = os.pipe()
        self._replies, replies_out = os.pipe()
        with open(self._log_path, "wb") as log:
            # bash puts the pipe ends on fds 3 and 4, where Chromium expects them (dash cannot name fds > 9)
            self._process = subprocess.Popen(
                ["bash", "-c", f'exec "$0" "$@" 3<&{commands_in} 4>&{replies_out}', EXECUTABLE,
                 "--remote-debugging-pipe", *self._args, "about:blank"],
                pass_fds=(commands_in, replies_out), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True,  # its own process group: stopped whole on exit
            )
        os.close(commands_in)
        os.close(replies_out)
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._process is not None
        try:
            os.killpg(self._process.pid, signal.SIGTERM)
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()
        except ProcessLookupError:
            pass
        os.close(self._commands)
        os.close(self._replies)

    def open(self, url: str) -> None:
        """Open `url` in a new page, which screenshot() then captures."""
        target = self.call("Target.createTarget", url=url)
        self._session = self.call("Target.attachToTarget", targetId=target["targetId"], flatten=True)["sessionId"]

    def screenshot(self) -> bytes:
        """The page as PNG bytes."""
        return base64.b64decode(self.call("Page.captureScreenshot", session=self._session, format="png")["data"])

    def wait_for(self, condition: Callable[[np.ndarray], bool], timeout_s: float) -> tuple[bytes, bool]:
        """Screenshots until condition(rgb (H, W, 3) uint8) holds: (the last PNG, whether it held in time)."""
        deadline = time.monotonic() + timeout_s
        while True:
            png = self.screenshot()
            if condition(rgb_of(png)):
                return png, True
            if time.monotonic() > deadline:
                return png, False
            time.sleep(POLL_S)

    def call(self, method: str, session: str | None = None, **params: object) -> dict:
        """Send one DevTools command and return its result (events in between are skipped)."""
        self._next_id += 1
        message: dict[str, object] = {"id": self._next_id, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + REPLY_TIMEOUT_S
        while True:
            while b"\0" not in self._buffer:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not select.select([self._replies], [], [], remaining)[0]:
                    raise TimeoutError(f"chromium did not answer {method} within {REPLY_TIMEOUT_S:.0f} s")
                data = os.read(self._replies, 1 << 20)
                if not data:
                    raise RuntimeError(f"chromium exited (log: {self._log_path})")
                self._buffer += data
            raw, self._buffer = self._buffer.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]


def rgb_of(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def pixels_near(rgb: np.ndarray, color: tuple[int, int, int], tolerance: int = 40) -> int:
    """How many pixels are within `tolerance` of `color` on every channel."""
    return int(np.all(np.abs(rgb.astype(np.int16) - np.array(color, np.int16)) <= tolerance, axis=-1).sum())
