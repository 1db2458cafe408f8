"""Leader node: reads the leader bus at rate_hz and publishes leader/joint_states (radians).

Torque stays off: the operator back-drives the leader. The stamp is the time the bus reply
arrived, so consumers can judge staleness from the data itself.
"""
from __future__ import annotations

import sys

from so101_calibration import JOINT_NAMES, ArmRole
from so101_calibration.interface_contract import LEADER_JOINT_STATES
from so101_hardware.leader import LeaderConfig, LeaderReader
from so101_hardware.nodes.arm_node import ArmNode
from so101_hardware.ros.endpoints import publisher
from so101_hardware.ros.joint_states import joint_state
from so101_hardware.ros.lifecycle import node_main


class LeaderNode(ArmNode):
    DEFAULT_NAME = "leader"
    CONFIG = LeaderConfig
    ROLE = ArmRole.LEADER

    def setup(self) -> None:
        super().setup()
        self.reader = LeaderReader(self.arm, self.connected.units)
        self.publisher = publisher(self, LEADER_JOINT_STATES)
        self.start_timer()

    def on_tick(self, now: float) -> None:
        sample = self.reader.read()
        self.read_latency.add(sample.read_monotonic - now)
        self.publisher.publish(joint_state(JOINT_NAMES, sample.positions, sample.read_wall, sample.velocities))

    def destroy_node(self) -> None:
        self.arm.disconnect(disable_torque=True)
        super().destroy_node()


main = node_main(LeaderNode)

if __name__ == "__main__":
    sys.exit(main())
