"""Camera node: one camera → cameras/<name>/image_raw (rgb8) and cameras/<name>/camera_info.

Frames are captured on the camera's own thread (so101_hardware.cameras) and published from a
publishing thread that waits for each new frame, so nothing here polls and the stamp is the
capture time. Sensor-data QoS: a late subscriber wants the newest frame, not a backlog.
"""
from __future__ import annotations

import sys
import threading

from so101_calibration.interface_contract import CAMERA_IMAGE, CAMERA_INFO
from so101_hardware.cameras import CameraError, CameraNodeConfig, make_camera
from so101_hardware.metrics import LatencyStats, RateMeter
from so101_hardware.ros.diagnostics import ERROR, OK, WARN, DiagnosticsReporter, Health
from so101_hardware.ros.endpoints import publisher
from so101_hardware.ros.images import camera_info_message, image_message
from so101_hardware.ros.lifecycle import So101Node, node_main

WAIT_S = 0.5  # how long the publishing thread waits for a frame before checking for shutdown


class CameraNode(So101Node):
    DEFAULT_NAME = "camera"
    CONFIG = CameraNodeConfig

    def setup(self) -> None:
        self.camera = make_camera(self.config.camera_config())
        self.camera.start()  # raises CameraOpenError with what to do; nothing is left running
        self.release_on_failure(self.camera.stop)
        self.frame_id = self.config.frame_id or f"{self.config.name}_camera"
        self.images = publisher(self, CAMERA_IMAGE, name=CAMERA_IMAGE.format(name=self.config.name))
        self.infos = publisher(self, CAMERA_INFO, name=CAMERA_INFO.format(name=self.config.name))
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
            image = image_message(frame.image, frame.capture_wall, self.frame_id)
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


main = node_main(CameraNode)

if __name__ == "__main__":
    sys.exit(main())
