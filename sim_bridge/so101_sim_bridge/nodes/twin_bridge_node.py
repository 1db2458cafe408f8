"""Twin bridge node: an arm's joint states → the simulator's command topic; its echo → tracking and lag.

Subscribes `<source>/joint_states` (source follower: a digital twin of the real arm; leader: the
leader drives the simulated arm directly, as LeIsaac does, with no follower attached) and
publishes each state as a position command on `command_topic` (default /isaac_joint_command) in
the simulator's joint names and units (SimMappingParameters), reliable, as Isaac Sim's
subscribers require (a best-effort publisher never matches a reliable subscription). The command
keeps the source state's stamp. With publish_rate_hz > 0 a state is sent only when its stamp is
1/publish_rate_hz or more after the last one sent's, and the others are dropped: the rate is capped
in the source's time, what is sent is never held back (a held state would reach the twin late, and
the echo lag would grow by up to a period), and states delivered in a burst after a stall still
bring the twin near the newest one (an arrival-time cap would send the burst's oldest).

Reads `state_topic` (default /isaac_joint_states) back with a best-effort subscription, which
matches whatever reliability the simulator publishes with, and publishes:
  twin/tracking  sensor_msgs/JointState: position = twin − target per joint (ROS radians, our
                 joint names), stamped with the arrival time of the simulator state;
  twin/lag       std_msgs/Float64: seconds from a source state's stamp to its echo (bridge.py);
and both on /diagnostics.
"""
from __future__ import annotations

import sys
import time

import numpy as np
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64

from so101_calibration import JOINT_NAMES
from so101_calibration.interface_contract import (
    SENSOR_QOS,
    SIM_JOINT_COMMAND,
    SIM_JOINT_STATES,
    TWIN_LAG,
    TWIN_TRACKING,
)
from so101_hardware.metrics import RateMeter
from so101_hardware.ros.diagnostics import ERROR, OK, WARN, DiagnosticsReporter, Health
from so101_hardware.ros.endpoints import publisher, subscription
from so101_hardware.ros.joint_states import MalformedJointState, joint_state, named_positions, positions_by_name
from so101_hardware.ros.lifecycle import So101Node, node_main
from so101_hardware.ros.stamps import seconds_from_stamp
from so101_sim_bridge.bridge import TwinBridgeConfig, TwinTracker

ECHO_TIMEOUT_S = 1.0
"""Commands going out with no simulator state back for this long: the simulator is not answering."""
SOURCE_TIMEOUT_S = 1.0
"""No source state for this long: nothing to mirror."""


class TwinBridgeNode(So101Node):
    DEFAULT_NAME = "twin_bridge"
    CONFIG = TwinBridgeConfig

    def setup(self) -> None:
        self.mapping = self.config.build_mapping(self.config.role)
        self.tracker = TwinTracker()
        self.command_rate = RateMeter()
        self.rejected = 0
        self.sim_mismatch: str | None = None
        self.last_source_at: float | None = None
        self._last_sent_stamp = float("-inf")  # source stamp of the last command, rate-limited mode
        self.source_topic = self.config.source_topic.name
        self.commands = publisher(self, SIM_JOINT_COMMAND, name=self.config.command_topic)
        self.tracking = publisher(self, TWIN_TRACKING)
        self.lags = publisher(self, TWIN_LAG)
        subscription(self, self.config.source_topic, self.on_source)
        # Best effort matches whatever reliability the simulator publishes with.
        subscription(self, SIM_JOINT_STATES, self.on_sim_state, name=self.config.state_topic, qos=SENSOR_QOS)
        self.diagnostics = DiagnosticsReporter(self, "twin bridge", self.health)
        self.get_logger().info(
            f"{self.source_topic} → {self.config.command_topic} as {list(self.mapping.names)}; "
            f"echo from {self.config.state_topic}"
        )

    def on_source(self, msg: JointState) -> None:
        try:
            positions = positions_by_name(msg, JOINT_NAMES)
        except MalformedJointState as exc:
            self.rejected += 1
            self.get_logger().warning(f"{self.config.source} state ignored: {exc}", throttle_duration_sec=1.0)
            return
        self.last_source_at = time.time()
        stamp = seconds_from_stamp(msg.header.stamp)
        if self.config.publish_rate_hz > 0 and 0 <= stamp - self._last_sent_stamp < 1.0 / self.config.publish_rate_hz:
            return  # capped: dropped, the next state will do (a stamp going back, a restarted source, is sent)
        self._last_sent_stamp = stamp
        self.send(positions, stamp)

    def send(self, positions: np.ndarray, stamp: float) -> None:
        self.commands.publish(joint_state(self.mapping.names, self.mapping.to_sim(positions), stamp))
        self.tracker.command_sent(stamp, time.time(), positions)
        self.command_rate.tick(time.monotonic())

    def on_sim_state(self, msg: JointState) -> None:
        received = time.time()
        try:
            names, positions = named_positions(msg)
            radians = self.mapping.from_sim(positions, names)
        except ValueError as exc:  # MalformedJointState is one; from_sim raises it for missing joints
            self.sim_mismatch = str(exc)
            self.get_logger().error(
                f"simulator state on {self.config.state_topic} unusable: {exc}; do the sim names "
                f"{list(self.mapping.names)} (sim_names / sim_map) match the simulator's joints?",
                throttle_duration_sec=5.0,
            )
            return
        self.sim_mismatch = None
        echo = self.tracker.echo(received, radians)
        if echo.error is not None:
            self.tracking.publish(joint_state(JOINT_NAMES, echo.error, received))
        for lag in echo.lags_s:
            self.lags.publish(Float64(data=lag))

    def health(self) -> Health:
        now = time.time()
        values = {"command_rate_hz": self.command_rate.rate_hz, "rejected_messages": self.rejected,
                  **self.tracker.summary()}
        if self.sim_mismatch is not None:
            return Health(ERROR, f"simulator joints do not match the sim mapping: {self.sim_mismatch}", values)
        if self.last_source_at is None or now - self.last_source_at > SOURCE_TIMEOUT_S:
            return Health(WARN, f"no {self.source_topic}: nothing to mirror", values)
        last_echo = self.tracker.last_echo_at
        if last_echo is None or now - last_echo > ECHO_TIMEOUT_S:
            topic = self.config.state_topic
            return Health(WARN, f"no simulator state on {topic}: is the simulator running (and playing)?", values)
        return Health(OK, f"mirroring the {self.config.source} into the twin", values)


main = node_main(TwinBridgeNode)


if __name__ == "__main__":
    sys.exit(main())
