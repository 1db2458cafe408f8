"""Command mux node: the follower's one driver when a policy and an operator can both drive it.

Subscribes teleop/joint_commands (the operator: teleop mirroring the leader), policy/joint_commands
(the inference node) and follower/joint_states; publishes the selected source's commands on
follower/joint_commands and who drives on command_mux/source (std_msgs/String, latched:
"policy" or "operator"; the inference node stops and resumes on it, the recorder marks the
operator's steps as interventions). command_mux/takeover (SetBool) switches: true, the operator
takes over (refused while the leader is farther from the follower than max_takeover_distance_rad);
false, the policy gets the arm back. In a terminal, key T does the same, and the status line shows
the leader-to-follower distance live. All the switching logic is so101_hardware.command_mux.
"""
from __future__ import annotations

import sys
import threading
import time
from functools import partial

from sensor_msgs.msg import JointState
from std_msgs.msg import String
from std_srvs.srv import SetBool

from so101_calibration import JOINT_NAMES
from so101_calibration.interface_contract import (
    COMMAND_SOURCE,
    FOLLOWER_JOINT_COMMANDS,
    FOLLOWER_JOINT_STATES,
    OPERATOR_TAKEOVER,
    POLICY_JOINT_COMMANDS,
    TELEOP_JOINT_COMMANDS,
)
from so101_hardware.command_mux import CommandMux, CommandMuxConfig, Source
from so101_hardware.ros.diagnostics import OK, WARN, DiagnosticsReporter, Health
from so101_hardware.ros.endpoints import publisher, service, subscription
from so101_hardware.ros.joint_states import JointStateIntake, joint_state
from so101_hardware.ros.lifecycle import So101Node, node_main
from so101_hardware.ros.stamps import seconds_from_stamp
from so101_hardware.terminal import TerminalControl, stdin_fd

STATUS_PERIOD_S = 0.2


class CommandMuxNode(So101Node):
    DEFAULT_NAME = "command_mux"
    CONFIG = CommandMuxConfig

    def setup(self) -> None:
        self.mux = CommandMux(self.config)
        self.lock = threading.Lock()  # callbacks, the service and the terminal's key thread all switch
        self.intake = JointStateIntake(self.get_logger(), JOINT_NAMES)
        self.commands = publisher(self, FOLLOWER_JOINT_COMMANDS)
        self.sources = publisher(self, COMMAND_SOURCE)
        subscription(self, TELEOP_JOINT_COMMANDS, partial(self.on_command, Source.OPERATOR))
        subscription(self, POLICY_JOINT_COMMANDS, partial(self.on_command, Source.POLICY))
        subscription(self, FOLLOWER_JOINT_STATES, self.on_follower)
        service(self, OPERATOR_TAKEOVER, self.on_takeover)
        self.diagnostics = DiagnosticsReporter(self, "command mux", self.health)
        self.terminal = TerminalControl({"t": self.key_toggle}, stdin_fd() if self.config.keyboard else None,
                                        sys.stdout)
        if self.terminal.start():
            self.create_timer(STATUS_PERIOD_S, self.show_status)
        self.announce()
        self.get_logger().info(f"{self.mux.source.value} drives the follower; {OPERATOR_TAKEOVER.name} true or key T: "
                               "the operator takes over with the leader, false or T again: hand back")

    def on_command(self, source: Source, msg: JointState) -> None:
        positions = self.intake.positions(msg)
        if positions is None:
            return
        with self.lock:
            command = self.mux.on_command(source, positions, time.monotonic())
        if command is not None:
            self.commands.publish(joint_state(JOINT_NAMES, command, seconds_from_stamp(msg.header.stamp)))

    def on_follower(self, msg: JointState) -> None:
        positions = self.intake.positions(msg)
        if positions is not None:
            with self.lock:
                self.mux.on_follower(positions, time.monotonic())

    def switch(self, to_operator: bool) -> tuple[bool, str]:
        with self.lock:
            now = time.monotonic()
            refusal = self.mux.take_over(now) if to_operator else self.mux.hand_back(now)
        if refusal is not None:
            self.get_logger().warning(f"{'takeover' if to_operator else 'hand-back'} refused: {refusal}")
            return False, refusal
        self.announce()
        message = ("the operator drives: the follower ramps to the leader" if to_operator
                   else "the policy drives again, from the present pose")
        self.get_logger().info(message)
        return True, message

    def announce(self) -> None:
        self.sources.publish(String(data=self.mux.source.value))

    def on_takeover(self, request: SetBool.Request, response: SetBool.Response) -> SetBool.Response:
        response.success, response.message = self.switch(request.data)
        return response

    def key_toggle(self) -> str:
        return self.switch(self.mux.source is Source.POLICY)[1]

    def status_line(self) -> str:
        with self.lock:
            source, distance = self.mux.source, self.mux.leader_distance(time.monotonic())
        if source is Source.OPERATOR:
            return "operator drives  [T hand back]"
        where = "no leader command yet" if distance is None else f"leader {distance:.2f} rad from the follower"
        ready = distance is not None and distance <= self.config.max_takeover_distance_rad
        return f"policy drives, {where}  [T take over{'' if ready else ': match the pose first'}]"

    def show_status(self) -> None:
        self.terminal.show(self.status_line())

    def health(self) -> Health:
        with self.lock:
            distance = self.mux.leader_distance(time.monotonic())
            values: dict[str, object] = {"source": self.mux.source.value, "rejected_messages": self.intake.rejected,
                                         **self.mux.counters}
        values["leader_to_follower_rad"] = "unknown" if distance is None else distance
        if self.intake.rejected:
            return Health(WARN, f"{values['source']} drives; malformed joint states ignored", values)
        return Health(OK, f"{values['source']} drives", values)

    def destroy_node(self) -> None:
        self.terminal.stop()
        super().destroy_node()


main = node_main(CommandMuxNode)

if __name__ == "__main__":
    sys.exit(main())
