"""Hardware-in-the-loop: faults the follower must survive (issue 15), through the teleop graph on emulated buses.

A brown-out, a servo error bit, a lost serial port: the follower latches off, says why (a log
line, ERROR on /diagnostics, follower/fault), teleop stops mirroring, nothing re-enables torque
until the operator calls follower/reenable. Transient bus errors leave only a passing WARN. The
faults are injected through the emulators, so these tests skip against real arms.
"""
from __future__ import annotations

import time

import pytest
from diagnostic_msgs.msg import DiagnosticStatus

from so101_bringup.runner import GraphStartError
from so101_calibration.interface_contract import FOLLOWER_REENABLE
from so101_hardware.emulator import FaultConfig
from so101_hardware.nodes import arm_node
from so101_hardware.sts_protocol import ServoErrorBits
from so101_hardware.teleop import TeleopState
from tests_support.rig import TeleopRig, goals_by_motor

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def emulated(rig: TeleopRig) -> None:
    if rig.follower_emu is None:
        pytest.skip("injects faults through the emulators; not available with real arms")


def engage(rig: TeleopRig) -> None:
    assert rig.wait_for(lambda: rig.probe.count("follower") > 5 and rig.probe.count("leader") > 5, 15)
    response = rig.probe.call(rig.probe.engage_client, True)
    assert response.success, response.message
    assert rig.wait_for(lambda: rig.teleop.mapper.state is TeleopState.MIRRORING, 20), "ramp did not finish"


def torque(rig: TeleopRig) -> list[int]:
    return [rig.follower_emu.servo(i).read_register("Torque_Enable") for i in range(1, 7)]


def wait_for_status(rig: TeleopRig, node: str, level: bytes, text: str, timeout_s: float = 10) -> DiagnosticStatus:
    def matches() -> bool:
        status = rig.probe.latest_status(node)
        return status is not None and status.level == level and text in status.message

    last = rig.probe.latest_status
    assert rig.wait_for(matches, timeout_s), f"{node}: no {level!r} status with {text!r}: {last(node)}"
    return rig.probe.latest_status(node)


def wait_for_fault(rig: TeleopRig, text: str) -> float:
    """When the probe saw follower/fault carry `text`."""
    assert rig.wait_for(lambda: bool(rig.probe.faults) and text in rig.probe.faults[-1], 5), rig.probe.faults
    return time.monotonic()


@pytest.mark.moves_follower
def test_a_brown_out_latches_the_follower_off_and_teleop_stops_mirroring(ros, tmp_path, rig_ports):
    with TeleopRig(ros, tmp_path, rig_ports) as rig:
        emulated(rig)
        engage(rig)
        rig.follower_emu.power_cycle()
        seen = wait_for_fault(rig, "rebooted")
        assert "brown-out" in rig.probe.faults[-1] and "motor 6 (gripper)" in rig.probe.faults[-1]
        assert rig.wait_for(lambda: rig.teleop.mapper.state is TeleopState.DISENGAGED, 5), "teleop still mirroring"
        wait_for_status(rig, "follower", DiagnosticStatus.ERROR, "rebooted")
        wait_for_status(rig, "teleop", DiagnosticStatus.WARN, "latched off")

        refused = rig.probe.call(rig.probe.engage_client, True)
        assert not refused.success and "latched off" in refused.message
        assert rig.probe.call(rig.probe.estop_client, True).success
        cleared = rig.probe.call(rig.probe.estop_client, False)
        assert "stays latched off" in cleared.message and FOLLOWER_REENABLE.name in cleared.message
        assert rig.wait_for(lambda: time.monotonic() > seen + 1.0, 5)
        assert torque(rig) == [0] * 6, "never re-torqued silently"
        assert goals_by_motor(rig.follower_emu, since=seen) == {}, "no goal written while latched"

        response = rig.probe.call(rig.probe.reenable_client, None)
        assert response.success and "holding the present pose" in response.message
        assert torque(rig) == [1] * 6
        assert rig.wait_for(lambda: rig.probe.faults[-1] == "", 5), "follower/fault cleared"
        wait_for_status(rig, "follower", DiagnosticStatus.OK, "ok")
        engage(rig)  # the operator engages again: a ramp from where the arm is


@pytest.mark.moves_follower
@pytest.mark.parametrize("reaction", ["hold", "release"])
def test_a_servo_overload_while_running_is_reported_and_reacted_to(ros, tmp_path, rig_ports, reaction):
    with TeleopRig(ros, tmp_path, rig_ports, follower_params={"servo_error_reaction": reaction}) as rig:
        emulated(rig)
        engage(rig)
        rig.follower_emu.set_error_bits(4, ServoErrorBits.OVERLOAD)
        wait_for_fault(rig, "motor 4 (wrist_flex) reports overload")
        status = wait_for_status(rig, "follower", DiagnosticStatus.ERROR, "overload")
        assert {kv.key: kv.value for kv in status.values}["servo_error_motor_4"] == "overload"
        assert rig.wait_for(lambda: rig.teleop.mapper.state is TeleopState.DISENGAGED, 5)
        assert torque(rig) == ([1] * 6 if reaction == "hold" else [1, 1, 1, 0, 1, 1])
        not_yet = rig.probe.call(rig.probe.reenable_client, None)
        assert not not_yet.success and "motor 4 (wrist_flex) reports overload" in not_yet.message
        rig.follower_emu.clear_error_bits(4)
        assert rig.wait_for(lambda: rig.probe.call(rig.probe.reenable_client, None).success, 5)
        assert torque(rig) == [1] * 6


def test_a_servo_error_at_start_stops_the_graph_naming_the_motor(ros, tmp_path, rig_ports):
    if rig_ports.real:
        pytest.skip("injects the error through the emulator")
    faults = FaultConfig(error_bits={4: int(ServoErrorBits.OVERLOAD)})
    with pytest.raises(GraphStartError, match=r"motor 4 \(wrist_flex\) reports overload .*refusing to enable torque"):
        with TeleopRig(ros, tmp_path, rig_ports, follower_emulator={"faults": faults}):
            pass


@pytest.mark.moves_follower
def test_a_lost_port_latches_the_follower_and_a_transient_error_only_warns(ros, tmp_path, rig_ports, monkeypatch):
    monkeypatch.setattr(arm_node, "RECENT_ERROR_S", 1.0)
    with TeleopRig(ros, tmp_path, rig_ports) as rig:
        emulated(rig)
        assert rig.wait_for(lambda: rig.probe.count("follower") > 5, 15)
        rig.follower_emu.faults.drop_reply_rate = 1.0  # a burst of lost replies
        wait_for_status(rig, "follower", DiagnosticStatus.WARN, "bus error")
        rig.follower_emu.faults.drop_reply_rate = 0.0
        wait_for_status(rig, "follower", DiagnosticStatus.OK, "ok")  # WARN clears once the errors stop
        assert rig.probe.faults[-1] == ""

        rig.leader_emu.unplug_bus()
        wait_for_status(rig, "leader", DiagnosticStatus.ERROR, "serial port lost")
        rig.leader_emu.replug_bus()
        before = rig.probe.count("leader")
        assert rig.wait_for(lambda: rig.probe.count("leader") > before + 50, 10), "the leader reconnects by itself"

        rig.follower_emu.unplug_bus()
        wait_for_fault(rig, "serial port lost")
        wait_for_status(rig, "follower", DiagnosticStatus.ERROR, "serial port lost")
        rig.follower_emu.replug_bus()
        before = rig.probe.count("follower")
        assert rig.wait_for(lambda: rig.probe.count("follower") > before + 50, 10), "reading again"
        assert "serial port lost" in rig.probe.faults[-1], "still latched: the operator re-enables"
        assert rig.probe.call(rig.probe.reenable_client, None).success
        assert rig.wait_for(lambda: rig.probe.faults[-1] == "", 5)
