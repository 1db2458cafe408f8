"""Inference node: cameras, follower state and an instruction → GR00T → follower/joint_commands.

Subscribes follower/joint_states, cameras/<name>/image_raw (rgb8, sensor QoS) and
policy/instruction (std_msgs/String, latched); publishes follower/joint_commands at control_hz
while streaming; offers policy/run (SetBool: true starts streaming from the present pose, false
stops publishing, and the follower then holds); publishes every chunk merged into the plan on
policy/chunk (trajectory_msgs/JointTrajectory, chunk_message.py) for viewers; reports on /diagnostics. All the work is in
so101_policy.inference.PolicyStream, whose worker thread does every network call, so no
callback here ever waits for the server.

Only one node may drive the follower. With an operator ready to take over (the deploy graph's
takeover:=true) the targets go to a command mux (command_topic policy/joint_commands), which
forwards them only while the policy drives; this node follows the mux's command_mux/source: it
stops when the operator takes over, and resumes from the present pose with a fresh chunk (no RTC
prefix: the plan it would continue is gone) when the operator hands back.
"""
from __future__ import annotations

import sys
import time

from sensor_msgs.msg import Image, JointState
from std_msgs.msg import String
from std_srvs.srv import SetBool

from so101_calibration import JOINT_NAMES, ArmRole, load_calibration
from so101_calibration.interface_contract import (
    CAMERA_IMAGE,
    COMMAND_SOURCE,
    FOLLOWER_JOINT_COMMANDS,
    FOLLOWER_JOINT_STATES,
    OPERATOR_SOURCE,
    POLICY_CHUNK,
    POLICY_INSTRUCTION,
    POLICY_RUN,
)
from so101_hardware.metrics import RateMeter
from so101_hardware.ros.chunk_messages import chunk_message
from so101_hardware.ros.diagnostics import ERROR, OK, WARN, DiagnosticsReporter, Health
from so101_hardware.ros.endpoints import publisher, service, subscription
from so101_hardware.ros.images import rgb_from_image
from so101_hardware.ros.joint_states import MalformedJointState, joint_state, positions_by_name
from so101_hardware.ros.lifecycle import So101Node, node_main
from so101_policy.inference import InferenceConfig, Level, PolicyStream

_LEVELS = {Level.OK: OK, Level.WARN: WARN, Level.ERROR: ERROR}


class InferenceNode(So101Node):
    DEFAULT_NAME = "inference"
    CONFIG = InferenceConfig

    def setup(self) -> None:
        calibration, source = load_calibration(ArmRole.FOLLOWER, self.config.arm_id, self.config.calibration or None)
        self.stream = PolicyStream(self.config, calibration)
        self.ignored = {"joint_states": 0, "images": 0}
        self.auto_start_pending = self.config.run_on_start
        self.resume_pending = False
        self.episode_started = False
        self.operator_drives = False
        self.command_rate = RateMeter()
        self.commands = publisher(self, FOLLOWER_JOINT_COMMANDS, name=self.config.command_topic)
        self.chunks = publisher(self, POLICY_CHUNK)
        subscription(self, FOLLOWER_JOINT_STATES, self.on_joint_state)
        for camera, topic in self.config.camera_topics.items():
            subscription(self, CAMERA_IMAGE, lambda msg, camera=camera: self.on_image(camera, msg), name=topic)
        subscription(self, POLICY_INSTRUCTION, self.on_instruction)
        subscription(self, COMMAND_SOURCE, self.on_command_source)
        service(self, POLICY_RUN, self.on_run)
        self.create_timer(1.0 / self.config.control_hz, self.on_tick)
        self.diagnostics = DiagnosticsReporter(self, f"policy {self.stream.endpoint}", self.health)
        self.stream.start()
        self.get_logger().info(
            f"policy server {self.stream.endpoint} ({self.config.protocol}), {self.config.units} with calibration "
            f"{source}, cameras {self.config.camera_topics}; call {POLICY_RUN.name} to start"
        )

    def on_joint_state(self, msg: JointState) -> None:
        received_at = time.monotonic()  # the driver's clock: chunks are aligned to it, not to stamps
        try:
            positions = positions_by_name(msg, JOINT_NAMES)
        except MalformedJointState as exc:
            self._ignore("joint_states", f"joint state ignored: {exc}")
            return
        if not self.stream.observations.update_joints(positions, received_at):
            self._ignore("joint_states", "joint state ignored: a position is not finite")
            return
        if self.auto_start_pending:
            self.auto_start_pending = self._start("run_on_start") is not None
        if self.resume_pending:
            self.resume_pending = self._resume() is not None

    def on_image(self, camera: str, msg: Image) -> None:
        received_at = time.monotonic()
        try:
            rgb = rgb_from_image(msg)
        except ValueError as exc:
            self._ignore("images", f"camera {camera}: image ignored: {exc}")
            return
        self.stream.observations.update_frame(camera, rgb, received_at)

    def on_instruction(self, msg: String) -> None:
        self.stream.observations.set_instruction(msg.data)
        self.get_logger().info(f"instruction: {msg.data!r}")

    def on_run(self, request: SetBool.Request, response: SetBool.Response) -> SetBool.Response:
        if request.data:
            refusal = self._start(POLICY_RUN.name)
            response.success = refusal is None
            response.message = refusal or "streaming policy actions from the present pose"
        else:
            self.stream.disengage()
            response.success = True
            response.message = "stopped: the follower holds its last target"
            self.get_logger().info(response.message)
        return response

    def _start(self, why: str) -> str | None:
        refusal = self.stream.engage()
        if refusal is None:
            self.episode_started = True
            self.get_logger().info(f"streaming ({why}): instruction {self.stream.observations.instruction!r}")
        return refusal

    def on_command_source(self, msg: String) -> None:
        """The command mux's switch: stop while the operator drives, resume when the policy gets the arm back."""
        operator = msg.data == OPERATOR_SOURCE
        if operator == self.operator_drives:
            return
        self.operator_drives = operator
        if operator:
            self.resume_pending = False
            self.stream.disengage()
            self.get_logger().info("the operator drives: policy stopped")
        else:
            self.resume_pending = self._resume() is not None

    def _resume(self) -> str | None:
        """Stream again from the present pose: a fresh chunk in the same episode, or a new one if none ran."""
        if not self.episode_started:
            return self._start("hand-back")
        refusal = self.stream.resume()
        if refusal is None:
            self.get_logger().info("the policy drives again: resuming from the present pose with a fresh chunk")
        return refusal

    def on_tick(self) -> None:
        target = self.stream.tick()
        if target is None:
            return
        self.commands.publish(joint_state(JOINT_NAMES, target, time.time()))
        self.command_rate.tick(time.monotonic())
        self._publish_chunks()

    def _publish_chunks(self) -> None:
        """Chunks merged since the last tick, their due times moved from the driver's clock to wall time."""
        accepted = self.stream.take_accepted_chunks()
        if not accepted:
            return
        to_wall = time.time() - time.monotonic()
        for chunk in accepted:
            self.chunks.publish(
                chunk_message(JOINT_NAMES, chunk.observation_time + to_wall, chunk.times + to_wall, chunk.actions)
            )

    def _ignore(self, what: str, message: str) -> None:
        self.ignored[what] += 1
        self.get_logger().warning(message, throttle_duration_sec=1.0)

    def health(self) -> Health:
        status = self.stream.status()
        values = {
            **status.values,
            "command_rate_hz": self.command_rate.rate_hz,
            **{f"ignored_{what}": count for what, count in self.ignored.items()},
        }
        return Health(_LEVELS[status.level], status.message, values)

    def destroy_node(self) -> None:
        self.stream.close()
        super().destroy_node()


main = node_main(InferenceNode)


if __name__ == "__main__":
    sys.exit(main())
