"""Camera node: one camera → cameras/<name>/image_raw (rgb8) and cameras/<name>/camera_info.

Frames are captured on the camera's own thread (so101_hardware.cameras) and published from a
publishing thread that waits for each new frame, so nothing here polls and the stamp is the
capture time. Sensor-data QoS: a late subscriber wants the newest frame, not a backlog.
Images are built with numpy (no cv_bridge, which is not installable here: DESIGN.md §5).
"""
from __future__ import annotations

import sys
import threading
from dataclasses import dataclass, field

from rclpy.node import Node
from sensor_msgs.msg import CameraInfo, Image

from so101_hardware.cameras import CameraConfig, CameraError, Frame, make_camera
from so101_hardware.metrics import LatencyStats, RateMeter
from so101_hardware.nodes.diagnostics import ERROR, OK, WARN, DiagnosticsReporter, Health
from so101_hardware.nodes.messages import stamp_from_seconds
from so101_hardware.nodes.params import declare_config
from so101_hardware.nodes.qos import SENSOR_QOS
from so101_hardware.nodes.runtime import abandon, run_node

WAIT_S = 0.5  # how long the publishing thread waits for a frame before checking for shutdown


@dataclass(frozen=True)
class CameraNodeConfig:
    """The camera node's parameters; all but frame_id are passed to CameraConfig (which validates)."""

    name: str = "wrist"
    source: str = field(default="opencv", metadata={"help": "opencv | synthetic | file"})
    device: str = field(default="0", metadata={"help": "index (e.g. 0), /dev/videoN, udev name or video file"})
    width: int = 640
    height: int = 480
    fps: float = 30.0
    fourcc: str = field(default="MJPG", metadata={"help": "four characters; empty: the camera's default"})
    frame_id: str = field(default="", metadata={"help": "header frame_id; empty: <name>_camera"})

    def camera_config(self) -> CameraConfig:
        device: int | str = int(self.device) if self.device.isdigit() else self.device
        return CameraConfig(
            name=self.name, source=self.source, device=device, width=self.width, height=self.height,
            fps=self.fps, fourcc=self.fourcc or None,
        )


def image_message(frame: Frame, frame_id: str) -> Image:
    msg = Image()
    msg.header.stamp = stamp_from_seconds(frame.capture_wall)
    msg.header.frame_id = frame_id
    msg.height, msg.width = frame.image.shape[:2]
    msg.encoding = "rgb8"
    msg.step = msg.width * 3
    msg.data = frame.image.tobytes()
    return msg


def camera_info_message(image: Image) -> CameraInfo:
    """Size and stamp only: intrinsics come from a calibration tool, which this stack does not ship."""
    info = CameraInfo()
    info.header = image.header
    info.height, info.width = image.height, image.width
    return info


class CameraNode(Node):
    def __init__(self, **node_kwargs):
        super().__init__(node_kwargs.pop("node_name", "camera"), **node_kwargs)
        try:
            self.config = declare_config(self, CameraNodeConfig)
            self.camera = make_camera(self.config.camera_config())
            self.camera.start()  # raises CameraOpenError with what to do; nothing is left running
        except BaseException:
            abandon(self)
            raise
        self.frame_id = self.config.frame_id or f"{self.config.name}_camera"
        topic = f"cameras/{self.config.name}"
        self.images = self.create_publisher(Image, f"{topic}/image_raw", SENSOR_QOS)
        self.infos = self.create_publisher(CameraInfo, f"{topic}/camera_info", SENSOR_QOS)
        self.rate = RateMeter()
        self.age = LatencyStats()  # capture → published
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._publish_frames, name=f"publish-{self.config.name}", daemon=True)
        self._thread.start()
        self.diagnostics = DiagnosticsReporter(self, f"camera {self.config.name}", self.health)

    def _publish_frames(self) -> None:
        last_index: int | None = None
        while not self._stop.is_set():
            try:
                frame = self.camera.wait_new(last_index, WAIT_S)
            except CameraError:
                continue  # no frame in time (the camera thread is reconnecting); look again
            last_index = frame.index
            image = image_message(frame, self.frame_id)
            self.images.publish(image)
            self.infos.publish(camera_info_message(image))
            self.rate.tick(frame.capture_monotonic)
            self.age.add(frame.age_s())

    def health(self) -> Health:
        stats = self.camera.stats
        values: dict[str, object] = {
            "publish_rate_hz": self.rate.rate_hz,
            "frames_captured": stats.frames_captured,
            "read_failures": stats.read_failures,
            "reconnects": stats.reconnects,
            **self.age.summary("capture_to_publish"),
        }
        if stats.last_error:
            values["last_error"] = stats.last_error
        if not stats.connected:
            return Health(ERROR, f"camera {self.config.name} disconnected: reconnecting", values)
        if stats.read_failures:
            return Health(WARN, "read failures (see values)", values)
        return Health(OK, "ok", values)

    def destroy_node(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2 * WAIT_S)
        self.camera.stop()
        super().destroy_node()


def main(args: list[str] | None = None) -> int:
    return run_node(CameraNode, args)


if __name__ == "__main__":
    sys.exit(main())
