"""The interface contract (so101_calibration.interface_contract): the names other tools expect, and the only place they are written.

The pinned names are what Isaac Sim's action graph, LeRobot-style tooling and operators' terminals
use; every other file reads them from the contract, which the literal scan below enforces.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from rclpy.qos import DurabilityPolicy, ReliabilityPolicy, qos_profile_sensor_data

from so101_calibration import interface_contract as contract
from so101_hardware.ros.endpoints import interface_class
from so101_hardware.ros.qos import qos_profile
from tests_support.repo import PACKAGES, REPO

CONTRACT_FILE = REPO / "calibration" / "so101_calibration" / "interface_contract.py"
SCANNED = [REPO / folder for folder in PACKAGES] + [REPO / "benchmarks", REPO / "tests"]


def test_the_names_are_the_ones_other_tools_use():
    assert {topic.name for topic in contract.TOPICS} == {
        "leader/joint_states", "follower/joint_states", "follower/joint_commands", "follower/fault",
        "cameras/{name}/image_raw",
        "cameras/{name}/camera_info", "/isaac_joint_command", "/isaac_joint_states", "/sim/cameras/{name}/image_raw",
        "/sim/objects/{name}/pose", "twin/tracking", "twin/lag", "policy/instruction", "policy/chunk", "/diagnostics",
        "teleop/joint_commands", "policy/joint_commands", "command_mux/source",
    }
    assert {service.name for service in contract.SERVICES} == {
        "follower/estop", "follower/reenable", "teleop/engage", "policy/run", "recorder/start", "recorder/stop",
        "recorder/discard", "recorder/mark_subtask", "/sim/reset_objects", "command_mux/takeover",
    }
    assert (contract.LOOPBACK_HOST, contract.POLICY_PORT) == ("127.0.0.1", 5555)


@pytest.mark.parametrize("entry", [*contract.TOPICS, *contract.SERVICES], ids=lambda entry: entry.name)
def test_every_type_names_a_real_interface(entry):
    assert interface_class(entry.type).__name__ == entry.type.rpartition("/")[2]


def test_qos_specs_become_the_profiles_they_describe():
    sensor = qos_profile(contract.SENSOR_QOS)
    assert (sensor.reliability, sensor.depth, sensor.durability) == (
        qos_profile_sensor_data.reliability, qos_profile_sensor_data.depth, qos_profile_sensor_data.durability)
    latched = qos_profile(contract.LATCHED_QOS)
    assert (latched.reliability, latched.durability) == (ReliabilityPolicy.RELIABLE, DurabilityPolicy.TRANSIENT_LOCAL)
    assert qos_profile(contract.COMMAND_QOS).depth == 1


def test_camera_entries_become_topics_and_bad_entries_are_refused():
    assert contract.camera_topics(("wrist", "front=/sim/cameras/front/image_raw")) == {
        "wrist": "cameras/wrist/image_raw", "front": "/sim/cameras/front/image_raw"}
    assert contract.camera_topics(("wrist",), contract.SIM_CAMERA_IMAGE) == {"wrist": "/sim/cameras/wrist/image_raw"}
    for bad in (("wrist", "wrist=/x"), ("=/x",), ("wrist=",)):
        with pytest.raises(ValueError, match="distinct <name> or <name>=<topic>"):
            contract.camera_topics(bad)


def _patterns() -> list[re.Pattern[str]]:
    names = [entry.name for entry in (*contract.TOPICS, *contract.SERVICES)]
    def pattern(name: str) -> str:  # a relative name may also be written absolute; {name} is any one token
        body = re.escape(name).replace(re.escape("{name}"), r"[^/\s]+")
        return body if name.startswith("/") else "/?" + body

    return [re.compile(pattern(name)) for name in names]


def _written_strings(path: Path) -> list[tuple[int, str]]:
    """String literals and f-strings (their fields as {x}), docstrings left out: those are prose."""
    tree = ast.parse(path.read_text())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            found.append((node.lineno, node.value))
        elif isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else "{x}" for v in node.values)
            found.append((node.lineno, text))
    return found


def test_no_topic_or_service_name_is_written_outside_the_contract():
    patterns = _patterns()
    offenders = []
    for root in SCANNED:
        for path in root.rglob("*.py"):
            if path in (CONTRACT_FILE, Path(__file__)):
                continue
            for line, text in _written_strings(path):
                if any(pattern.fullmatch(text) for pattern in patterns):
                    offenders.append(f"{path.relative_to(REPO)}:{line}: {text!r}")
    assert not offenders, "use so101_calibration.interface_contract instead of:\n" + "\n".join(offenders)
