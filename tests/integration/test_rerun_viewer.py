"""End to end: real rclpy publishers → rerun node → web viewer on 127.0.0.1 → headless Chromium screenshot.

The screenshot must show the streams, told apart by colour: the follower and command series
(RerunLog's colours) in the joint plots, the policy chunk's points, and the camera image, whose
two halves are colours the viewer's own interface never uses. Chromium is polled for screenshots
until all are there (the viewer loads ~30 MB of WebAssembly and renders in software), so the
test takes as long as the machine needs and no longer. The screenshot is kept in the test's
tmp_path as rerun_viewer.png.
"""
import threading
import time

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from sensor_msgs.msg import Image

from so101_bringup.launch_graphs import rerun_graph
from so101_bringup.runner import GraphRunner
from so101_bringup.visualization.log import CHUNK_COLOR, SOURCE_COLORS
from so101_calibration import JOINT_NAMES
from so101_calibration.interface_contract import (
    CAMERA_IMAGE,
    DIAGNOSTICS,
    FOLLOWER_JOINT_COMMANDS,
    FOLLOWER_JOINT_STATES,
    LEADER_JOINT_STATES,
    POLICY_CHUNK,
)
from so101_hardware.ros.chunk_messages import chunk_message
from so101_hardware.ros.endpoints import publisher
from so101_hardware.ros.joint_states import joint_state, stamp_from_seconds
from tests_support.browser import HeadlessChromium, chromium_installed, pixels_near, rgb_of
from tests_support.net import free_ports
from tests_support.ros import spin_until

pytestmark = [
    pytest.mark.serial,  # software WebGL takes both cores for a few seconds
    pytest.mark.slow,
    pytest.mark.skipif(not chromium_installed(), reason="Debian's chromium is not installed (`make test` installs it)"),
]

CYAN, MAGENTA = (0, 255, 255), (255, 0, 255)
DATA_TIMEOUT_S = 30.0
VIEWER_TIMEOUT_S = 150.0
# Pixels of each colour a 1600x1000 screenshot must have. The viewer's interface alone (no data)
# has ~40 of the follower's green (INFO labels) and ~70 of the command's orange (its "software
# rasterizer" notice), none of the others; the first screenshot with data has 230+, 280+, 360+
# and 100,000 of each camera colour.
MIN_PIXELS = {"follower": 150, "command": 200, "chunk": 150, "cyan": 20_000, "magenta": 20_000}


def camera_image(stamp_s: float) -> Image:
    rgb = np.zeros((120, 160, 3), np.uint8)
    rgb[:, :80], rgb[:, 80:] = CYAN, MAGENTA
    msg = Image(height=120, width=160, step=160 * 3, encoding="rgb8", data=rgb.tobytes())
    msg.header.stamp = stamp_from_seconds(stamp_s)
    return msg


class Streams(Node):
    """What the stack publishes, at 50 Hz: leader and follower states, commands (sine waves, one phase per
    joint), a camera, a predicted chunk every 0.5 s and a node's diagnostics every second."""

    def __init__(self, **kwargs):
        super().__init__("streams", **kwargs)
        self.ticks = 0
        self.states = {topic: publisher(self, topic)
                       for topic in (LEADER_JOINT_STATES, FOLLOWER_JOINT_STATES, FOLLOWER_JOINT_COMMANDS)}
        self.images = publisher(self, CAMERA_IMAGE, name=CAMERA_IMAGE.format(name="wrist"))
        self.chunks = publisher(self, POLICY_CHUNK)
        self.diagnostics = publisher(self, DIAGNOSTICS)
        self.create_timer(0.02, self.tick)

    @staticmethod
    def pose(t: float) -> np.ndarray:
        return 0.8 * np.sin(2.0 * t + np.arange(len(JOINT_NAMES)))

    def tick(self) -> None:
        now = time.time()
        self.ticks += 1
        self.states[LEADER_JOINT_STATES].publish(joint_state(JOINT_NAMES, self.pose(now), now))
        self.states[FOLLOWER_JOINT_STATES].publish(joint_state(JOINT_NAMES, self.pose(now - 0.15), now))
        self.states[FOLLOWER_JOINT_COMMANDS].publish(joint_state(JOINT_NAMES, self.pose(now) + 0.3, now))
        if self.ticks % 5 == 0:
            self.images.publish(camera_image(now))
        if self.ticks % 25 == 0:
            due = now + 0.1 + np.arange(16) / 30.0
            self.chunks.publish(chunk_message(JOINT_NAMES, now, due, np.array([self.pose(t) - 0.3 for t in due])))
        if self.ticks % 50 == 0:
            status = DiagnosticStatus(name="follower", message="ok", values=[KeyValue(key="rate_hz", value="100.0")])
            array = DiagnosticArray(status=[status])
            array.header.stamp = stamp_from_seconds(now)
            self.diagnostics.publish(array)


def shows_every_stream(rgb: np.ndarray) -> bool:
    return all(count >= MIN_PIXELS[name] for name, count in stream_pixels(rgb).items())


def stream_pixels(rgb: np.ndarray) -> dict[str, int]:
    return {
        "follower": pixels_near(rgb, SOURCE_COLORS["follower"]),
        "command": pixels_near(rgb, SOURCE_COLORS["command"]),
        "chunk": pixels_near(rgb, CHUNK_COLOR),
        "cyan": pixels_near(rgb, CYAN),
        "magenta": pixels_near(rgb, MAGENTA),
    }


@pytest.mark.timeout(300)
def test_the_web_viewer_shows_joints_commands_chunks_and_the_camera(ros, tmp_path):
    grpc_port, web_port = free_ports(2)
    graph = rerun_graph(image_topics=(CAMERA_IMAGE.format(name="wrist"),), grpc_port=grpc_port, web_port=web_port)
    with GraphRunner(graph, context=ros) as running:
        viewer = running.node("rerun")
        streams = Streams(context=ros)
        executor = SingleThreadedExecutor(context=ros)
        executor.add_node(streams)
        logged = ("leader", "follower", "command", "images", "chunks", "diagnostics")
        assert spin_until(executor, lambda: all(viewer.logged[what] >= 3 for what in logged), DATA_TIMEOUT_S), (
            f"the rerun node logged only {dict(viewer.logged)}"
        )
        stop = threading.Event()
        live = threading.Thread(target=lambda: spin_until(executor, stop.is_set, VIEWER_TIMEOUT_S), daemon=True)
        live.start()  # the streams go on while the browser loads the viewer: it is a live view
        try:
            with HeadlessChromium(tmp_path / "chromium-profile", tmp_path / "chromium.log") as browser:
                started = time.monotonic()
                browser.open(viewer.server.viewer_url)
                png, shown = browser.wait_for(shows_every_stream, VIEWER_TIMEOUT_S)
                elapsed = time.monotonic() - started
        finally:
            stop.set()
            live.join()
            executor.shutdown()
            streams.destroy_node()
    (tmp_path / "rerun_viewer.png").write_bytes(png)
    assert shown, (f"after {elapsed:.0f} s the viewer shows {stream_pixels(rgb_of(png))} pixels, needs {MIN_PIXELS} "
                   f"(screenshot {tmp_path / 'rerun_viewer.png'}, browser log {tmp_path / 'chromium.log'})")
