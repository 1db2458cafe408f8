"""Rerun node: the stack's topics → a rerun recording, served as a web viewer on 127.0.0.1.

Subscribes (relative names, so a namespace applies): leader/joint_states, follower/joint_states,
follower/joint_commands (sensor_msgs/JointState, read by joint name), the camera topics of
`image_topics` (rgb8 or bgr8, sensor QoS), policy/chunk (trajectory_msgs/JointTrajectory, read
as so101_hardware.ros.chunk_messages does: step i is due at header.stamp + points[i].time_from_start,
positions in radians) and /diagnostics. Everything is logged by so101_bringup.visualization.RerunLog to a
rerun server this node starts and stops (RerunServer); malformed messages are counted, skipped
and reported on /diagnostics.

Subscriptions other than images are best effort: a viewer must match whatever reliability a
publisher picks, and must never make the control topics resend to it when it falls behind.
"""
from __future__ import annotations

import sys
import time
from collections import Counter

from diagnostic_msgs.msg import DiagnosticArray
from sensor_msgs.msg import Image, JointState
from std_msgs.msg import Header
from trajectory_msgs.msg import JointTrajectory

from so101_bringup.visualization.config import RerunNodeConfig, image_entity
from so101_bringup.visualization.log import JointSource, RateLimit, RerunLog, blueprint, new_recording
from so101_bringup.visualization.server import RerunServer, RerunServerError
from so101_calibration import JOINT_NAMES
from so101_calibration.interface_contract import (
    CAMERA_IMAGE,
    DIAGNOSTICS,
    FOLLOWER_JOINT_COMMANDS,
    FOLLOWER_JOINT_STATES,
    LEADER_JOINT_STATES,
    POLICY_CHUNK,
    WATCH_QOS,
    Topic,
)
from so101_hardware.ros.chunk_messages import read_chunk_message
from so101_hardware.ros.diagnostics import ERROR, OK, WARN, DiagnosticsReporter, Health
from so101_hardware.ros.endpoints import subscription
from so101_hardware.ros.images import rgb_from_image
from so101_hardware.ros.joint_states import MalformedJointState, positions_by_name
from so101_hardware.ros.lifecycle import So101Node, node_main
from so101_hardware.ros.stamps import seconds_from_stamp

APPLICATION_ID = "so101"
JOINT_TOPICS: dict[JointSource, Topic] = {
    "leader": LEADER_JOINT_STATES,
    "follower": FOLLOWER_JOINT_STATES,
    "command": FOLLOWER_JOINT_COMMANDS,
}


def stamp_s(header: Header) -> float:
    """The message's stamp in wall-clock seconds; the arrival time if it was left unset."""
    return seconds_from_stamp(header.stamp) or time.time()


class RerunNode(So101Node):
    DEFAULT_NAME = "rerun"
    CONFIG = RerunNodeConfig
    START_ERRORS = (RerunServerError,)

    def setup(self) -> None:
        self.server = RerunServer(self.config.grpc_port, self.config.web_port, self.config.server_memory_limit)
        self.release_on_failure(self.server.stop)
        self.server.start()
        cameras = {topic: image_entity(topic) for topic in self.config.image_topics}
        self.recording = new_recording(APPLICATION_ID)
        layout = blueprint(JOINT_NAMES, list(cameras.values()))
        self.recording.connect_grpc(self.server.grpc_url, default_blueprint=layout)
        self.log = RerunLog(self.recording, JOINT_NAMES)
        self.joint_limit = RateLimit(self.config.joint_rate_hz)
        self.image_limit = RateLimit(self.config.image_rate_hz)
        self.logged: Counter[str] = Counter()
        self.malformed: Counter[str] = Counter()
        for source, topic in JOINT_TOPICS.items():
            subscription(self, topic, lambda msg, s=source: self.on_joints(s, msg), qos=WATCH_QOS)
        for topic, entity in cameras.items():
            subscription(self, CAMERA_IMAGE, lambda msg, e=entity: self.on_image(e, msg), name=topic)
        subscription(self, POLICY_CHUNK, self.on_chunk, qos=WATCH_QOS)
        subscription(self, DIAGNOSTICS, self.on_diagnostics, qos=WATCH_QOS)
        self.diagnostics = DiagnosticsReporter(self, f"rerun {self.server.grpc_url}", self.health)
        self.get_logger().info(
            f"rerun web viewer: {self.server.viewer_url}  (native viewer: rerun {self.server.grpc_url})"
        )

    def on_joints(self, source: JointSource, msg: JointState) -> None:
        try:
            positions = positions_by_name(msg, JOINT_NAMES)
        except MalformedJointState as exc:
            self._ignore("joint_states", f"{JOINT_TOPICS[source].name} ignored: {exc}")
            return
        if self.joint_limit.allow(source, time.monotonic()):
            self.log.joints(source, positions, stamp_s(msg.header))
            self.logged[source] += 1

    def on_image(self, entity: str, msg: Image) -> None:
        try:
            rgb = rgb_from_image(msg)
        except ValueError as exc:
            self._ignore("images", f"{entity} image ignored: {exc}")
            return
        if self.image_limit.allow(entity, time.monotonic()):
            self.log.image(entity, rgb, stamp_s(msg.header))
            self.logged["images"] += 1

    def on_chunk(self, msg: JointTrajectory) -> None:
        try:
            chunk = read_chunk_message(msg, JOINT_NAMES)
        except MalformedJointState as exc:
            self._ignore("chunks", f"{POLICY_CHUNK.name} ignored: {exc}")
            return
        self.log.chunk(chunk.times, chunk.positions)
        self.logged["chunks"] += 1

    def on_diagnostics(self, msg: DiagnosticArray) -> None:
        stamp = stamp_s(msg.header)
        for status in msg.status:
            level = status.level[0] if isinstance(status.level, bytes) else int(status.level)
            self.log.diagnostic(status.name, level, status.message, {kv.key: kv.value for kv in status.values}, stamp)
        self.logged["diagnostics"] += 1

    def _ignore(self, what: str, message: str) -> None:
        self.malformed[what] += 1
        self.get_logger().warning(message, throttle_duration_sec=1.0)

    def health(self) -> Health:
        values: dict[str, object] = {
            **{f"logged_{what}": count for what, count in sorted(self.logged.items())},
            **{f"malformed_{what}": count for what, count in sorted(self.malformed.items())},
        }
        exit_code = self.server.exit_code
        if exit_code is not None:
            return Health(ERROR, f"the rerun server exited with code {exit_code}: {self.server.output()}", values)
        if self.malformed:
            return Health(WARN, f"malformed messages ignored; viewer {self.server.viewer_url}", values)
        return Health(OK, f"viewer {self.server.viewer_url}", values)

    def destroy_node(self) -> None:
        self.recording.disconnect()
        self.server.stop()
        super().destroy_node()


main = node_main(RerunNode)


if __name__ == "__main__":
    sys.exit(main())
