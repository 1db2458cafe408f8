"""Rerun node: the stack's topics → a rerun recording, served as a web viewer on 127.0.0.1.

Subscribes (relative names, so a namespace applies): leader/joint_states, follower/joint_states,
follower/joint_commands (sensor_msgs/JointState, read by joint name), the camera topics of
`image_topics` (rgb8 or bgr8, sensor QoS), policy/chunk (trajectory_msgs/JointTrajectory, read
as so101_policy.nodes.chunk_message does: step i is due at header.stamp + points[i].time_from_start,
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

import rerun as rr
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.node import Node
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image, JointState
from std_msgs.msg import Header
from trajectory_msgs.msg import JointTrajectory

from so101_bringup.visualization import (
    RateLimit,
    RerunLog,
    RerunNodeConfig,
    RerunServer,
    RerunServerError,
    blueprint,
    image_entity,
)
from so101_bringup.visualization.log import JointSource
from so101_calibration import JOINT_NAMES
from so101_hardware.nodes.diagnostics import ERROR, OK, WARN, DiagnosticsReporter, Health
from so101_hardware.nodes.messages import MalformedJointState, positions_by_name, seconds_from_stamp
from so101_hardware.nodes.params import declare_config
from so101_hardware.nodes.qos import SENSOR_QOS
from so101_hardware.nodes.runtime import abandon, run_node
from so101_policy.inference import rgb_from_image
from so101_policy.nodes.chunk_message import read_chunk_message
from so101_sim_bridge.nodes import NodeStartError

APPLICATION_ID = "so101"
WATCH_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=10, reliability=ReliabilityPolicy.BEST_EFFORT)
JOINT_TOPICS: dict[JointSource, str] = {
    "leader": "leader/joint_states",
    "follower": "follower/joint_states",
    "command": "follower/joint_commands",
}
CHUNK_TOPIC = "policy/chunk"


def stamp_s(header: Header) -> float:
    """The message's stamp in wall-clock seconds; the arrival time if it was left unset."""
    return seconds_from_stamp(header.stamp) or time.time()


class RerunNode(Node):
    def __init__(self, **node_kwargs):
        super().__init__(node_kwargs.pop("node_name", "rerun"), **node_kwargs)
        try:
            self.config = declare_config(self, RerunNodeConfig)
        except BaseException:
            abandon(self)
            raise
        self.server = RerunServer(self.config.grpc_port, self.config.web_port, self.config.server_memory_limit)
        try:
            self.server.start()
        except RerunServerError as exc:
            error = NodeStartError(f"node {self.get_name()}: {exc}")
            abandon(self, self.server.stop)
            raise error from exc
        except BaseException:
            abandon(self, self.server.stop)
            raise
        cameras = {topic: image_entity(topic) for topic in self.config.image_topics}
        self.recording = rr.RecordingStream(APPLICATION_ID)
        layout = blueprint(JOINT_NAMES, list(cameras.values()))
        self.recording.connect_grpc(self.server.grpc_url, default_blueprint=layout)
        self.log = RerunLog(self.recording, JOINT_NAMES)
        self.joint_limit = RateLimit(self.config.joint_rate_hz)
        self.image_limit = RateLimit(self.config.image_rate_hz)
        self.logged: Counter[str] = Counter()
        self.malformed: Counter[str] = Counter()
        for source, topic in JOINT_TOPICS.items():
            self.create_subscription(JointState, topic, lambda msg, s=source: self.on_joints(s, msg), WATCH_QOS)
        for topic, entity in cameras.items():
            self.create_subscription(Image, topic, lambda msg, e=entity: self.on_image(e, msg), SENSOR_QOS)
        self.create_subscription(JointTrajectory, CHUNK_TOPIC, self.on_chunk, WATCH_QOS)
        self.create_subscription(DiagnosticArray, "/diagnostics", self.on_diagnostics, WATCH_QOS)
        self.diagnostics = DiagnosticsReporter(self, f"rerun {self.server.grpc_url}", self.health)
        self.get_logger().info(
            f"rerun web viewer: {self.server.viewer_url}  (native viewer: rerun {self.server.grpc_url})"
        )

    def on_joints(self, source: JointSource, msg: JointState) -> None:
        try:
            positions = positions_by_name(msg, JOINT_NAMES)
        except MalformedJointState as exc:
            self._ignore("joint_states", f"{JOINT_TOPICS[source]} ignored: {exc}")
            return
        if self.joint_limit.allow(source, time.monotonic()):
            self.log.joints(source, positions, stamp_s(msg.header))
            self.logged[source] += 1

    def on_image(self, entity: str, msg: Image) -> None:
        try:
            rgb = rgb_from_image(msg.height, msg.width, msg.step, msg.encoding, msg.data)
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
            self._ignore("chunks", f"{CHUNK_TOPIC} ignored: {exc}")
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


def main(args: list[str] | None = None) -> int:
    return run_node(RerunNode, args)


if __name__ == "__main__":
    sys.exit(main())
