"""What the Isaac Sim script applies, checked as data without Isaac Sim: LeIsaac's cameras and physics per
Isaac version, the articulation root and fixed base, wall-clock pacing, the bridge's start-up message, and
the script's imports (Isaac Sim's Python has neither numpy nor PyYAML before the app starts)."""
from __future__ import annotations

import math
import subprocess
import sys

import pytest

from so101_calibration.interface_contract import SIM_CAMERA_IMAGE
from so101_sim_bridge.isaac.action_graph import NODE_TYPES, PYTHON_MODULES
from so101_sim_bridge.isaac.articulation import (
    ARTICULATION_ROOT_API,
    FIXED_JOINT,
    RIGID_BODY_API,
    ArticulationError,
    PrimInfo,
    articulation_root,
    fixed_base_plan,
)
from so101_sim_bridge.isaac.bridge_environment import BUNDLED_DISTROS, bridge_failure_message, environment_problems
from so101_sim_bridge.isaac.cameras import LEISAAC_CAMERAS, IsaacCameraConfig, ros_to_usd_camera, with_override
from so101_sim_bridge.isaac.pacing import WallClockPacer
from so101_sim_bridge.isaac.physics import LEISAAC_SO101
from tests_support.repo import REPO

SCRIPT = REPO / "sim_bridge/scripts/isaac_sim_twin.py"
VERSIONS = sorted(NODE_TYPES)


def rotate(q, v):
    """v rotated by the unit quaternion q (wxyz)."""
    w, x, y, z = q
    matrix = ((1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)),
              (2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)),
              (2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)))
    return tuple(sum(row[i] * v[i] for i in range(3)) for row in matrix)


# --- cameras --------------------------------------------------------------------------------------------


def test_leisaac_cameras_are_its_wrist_and_front_cameras_on_the_gripper_and_base_links():
    wrist, front = LEISAAC_CAMERAS
    assert (wrist.name, wrist.parent, wrist.prim_path("/World/so101")) == ("wrist", "gripper",
                                                                           "/World/so101/gripper/wrist_camera")
    assert (wrist.position, wrist.focal_length, wrist.horizontal_aperture) == ((-0.001, 0.1, -0.04), 36.5, 36.83)
    assert (front.prim_path("/World/so101"), front.position, front.focal_length) == (
        "/World/so101/base/front_camera", (0.0, -0.5, 0.6), 28.7)
    for camera in LEISAAC_CAMERAS:
        assert (camera.width, camera.height, camera.focus_distance, camera.clipping_range) == (640, 480, 400.0,
                                                                                            (0.01, 50.0))
        assert camera.topic == SIM_CAMERA_IMAGE.format(name=camera.name)


@pytest.mark.parametrize("camera", LEISAAC_CAMERAS, ids=lambda c: c.name)
def test_the_usd_pose_looks_where_the_ros_pose_looks(camera):
    """ROS cameras look along +Z with −Y up, USD cameras along −Z with +Y up: same view direction and up."""
    usd = camera.usd_orientation
    assert math.isclose(sum(c * c for c in usd), 1.0, rel_tol=1e-5)
    for ros_axis, usd_axis in (((0, 0, 1), (0, 0, -1)), ((0, -1, 0), (0, 1, 0)), ((1, 0, 0), (1, 0, 0))):
        assert rotate(camera.rotation, ros_axis) == pytest.approx(rotate(usd, usd_axis), abs=1e-6)


def test_ros_to_usd_is_a_half_turn_about_the_camera_x_axis():
    assert ros_to_usd_camera((1.0, 0.0, 0.0, 0.0)) == (-0.0, 1.0, 0.0, -0.0)


@pytest.mark.parametrize("version", VERSIONS)
def test_lens_settings_per_isaac_version_keep_square_pixels(version):
    """USD Camera attributes are the same in every described version; vertical = horizontal · height / width."""
    for camera in LEISAAC_CAMERAS:
        attributes = camera.usd_attributes
        assert set(attributes) == {"focalLength", "focusDistance", "horizontalAperture", "verticalAperture",
                                   "clippingRange"}
        assert attributes["verticalAperture"] == pytest.approx(camera.horizontal_aperture * 480 / 640)
    assert PYTHON_MODULES[version]["bridge_extension"]


def test_overrides_change_one_field_and_bad_ones_say_which():
    wrist = LEISAAC_CAMERAS[0]
    moved = with_override(wrist, "position=0,0.12,-0.05")
    assert moved.position == (0.0, 0.12, -0.05) and moved.rotation == wrist.rotation
    assert with_override(wrist, "focal_length=30").focal_length == 30.0
    assert with_override(wrist, "width=320").usd_attributes["verticalAperture"] == pytest.approx(36.83 * 480 / 320)
    for bad, message in (("zoom=2", "not FIELD=VALUE"), ("position=1,2", "3 comma-separated"),
                         ("width=wide", "width='wide'")):
        with pytest.raises(ValueError, match=message):
            with_override(wrist, bad)


def test_an_existing_camera_needs_an_absolute_path_and_a_created_one_a_plain_name():
    with pytest.raises(ValueError, match="absolute prim path"):
        IsaacCameraConfig("side", "side_cam")
    with pytest.raises(ValueError, match="plain name"):
        IsaacCameraConfig("side", "/World/side", parent="base")
    assert not IsaacCameraConfig("side", "/World/side").created


# --- physics ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_leisaac_drives_in_usd_units(version):
    """Isaac Lab's SI values (17.8 N·m/rad, 0.6 N·m·s/rad, 10 N·m, 10 rad/s) → USD's per-degree angular drives."""
    attributes = LEISAAC_SO101.drive.usd_attributes()
    assert attributes["drive:angular:physics:stiffness"] == pytest.approx(17.8 * math.pi / 180)
    assert attributes["drive:angular:physics:damping"] == pytest.approx(0.60 * math.pi / 180)
    assert attributes["drive:angular:physics:maxForce"] == 10.0
    assert attributes["physxJoint:maxJointVelocity"] == pytest.approx(10.0 * 180 / math.pi)
    assert attributes["drive:angular:physics:type"] == "force"


def test_leisaac_articulation_settings():
    settings = LEISAAC_SO101.articulation
    assert settings.fix_root_link and LEISAAC_SO101.ground_plane
    assert settings.usd_attributes() == {"physxArticulation:solverPositionIterationCount": 4,
                                         "physxArticulation:solverVelocityIterationCount": 4,
                                         "physxArticulation:enabledSelfCollisions": True}


# --- articulation root and fixed base -------------------------------------------------------------------

ROBOT = "/World/so101"


def arm(root_on: str, fixed_joint: bool = False) -> list[PrimInfo]:
    """A two-link arm as a URDF import lays it out: links base and gripper, one revolute joint."""
    prims = [
        PrimInfo(ROBOT, "Xform"),
        PrimInfo(f"{ROBOT}/root_joint", "Xform"),
        PrimInfo(f"{ROBOT}/base", "Xform", (RIGID_BODY_API,)),
        PrimInfo(f"{ROBOT}/gripper", "Xform", (RIGID_BODY_API,)),
        PrimInfo(f"{ROBOT}/joints/wrist_roll", "PhysicsRevoluteJoint", (), f"{ROBOT}/base", f"{ROBOT}/gripper"),
    ]
    prims = [PrimInfo(p.path, p.type_name, p.applied_schemas + ((ARTICULATION_ROOT_API,) if p.path == root_on
                                                                  else ()), p.body0, p.body1) for p in prims]
    if fixed_joint:
        prims.append(PrimInfo(f"{ROBOT}/joints/fixed", FIXED_JOINT, (), None, f"{ROBOT}/base"))
    return prims


def test_the_articulation_root_is_found_below_the_robot_prim():
    assert articulation_root(arm(f"{ROBOT}/root_joint"), ROBOT) == f"{ROBOT}/root_joint"
    assert articulation_root(arm(ROBOT), ROBOT) == ROBOT


def test_no_articulation_root_is_an_error_naming_what_was_found():
    with pytest.raises(ArticulationError, match=r"no prim at or below /World/so101 has ArticulationRootAPI .*base"):
        articulation_root(arm("nowhere"), ROBOT)
    with pytest.raises(ArticulationError, match="no prim at /World/other"):
        articulation_root(arm(ROBOT), "/World/other")


def test_an_existing_world_joint_is_enabled_rather_than_a_new_one_made():
    plan = fixed_base_plan(arm(ROBOT, fixed_joint=True), ROBOT)
    assert (plan.enable_joint, plan.fix_link, plan.move_root_to) == (f"{ROBOT}/joints/fixed", None, None)


def test_the_root_link_is_fixed_and_the_root_api_moves_off_it_as_isaac_lab_does():
    plan = fixed_base_plan(arm(f"{ROBOT}/base"), ROBOT)
    assert (plan.fix_link, plan.move_root_to, plan.articulation_root) == (f"{ROBOT}/base", ROBOT, ROBOT)
    plan = fixed_base_plan(arm(f"{ROBOT}/root_joint"), ROBOT)
    assert (plan.fix_link, plan.move_root_to, plan.articulation_root) == (f"{ROBOT}/base", None, f"{ROBOT}/root_joint")


# --- pacing -----------------------------------------------------------------------------------------------


class FakeClock:
    def __init__(self):
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_a_fast_loop_sleeps_until_each_step_is_due():
    clock = FakeClock()
    pacer = WallClockPacer(0.1, clock=clock, sleep=clock.sleep)
    for _ in range(5):
        clock.now += 0.02  # the GPU takes 20 ms per step
        pacer.wait()
    assert clock.now == pytest.approx(100.5) and clock.slept == pytest.approx([0.08] * 5)
    assert pacer.real_time_factor() == pytest.approx(1.0) and pacer.late_steps == 0


def test_a_slow_loop_is_not_made_to_catch_up_in_a_burst():
    clock = FakeClock()
    pacer = WallClockPacer(0.1, max_lag_s=0.25, clock=clock, sleep=clock.sleep)
    clock.now += 1.0  # one step took a second
    pacer.wait()
    assert pacer.late_steps == 1 and not clock.slept
    clock.now += 0.02
    pacer.wait()  # the schedule restarted from the late step: the next is due a period later
    assert clock.slept == pytest.approx([0.08])
    assert pacer.real_time_factor() == pytest.approx(0.2 / 1.1)


def test_a_bad_period_is_refused():
    with pytest.raises(ValueError):
        WallClockPacer(0.0)


# --- the ROS 2 bridge's environment ---------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_the_bundled_libraries_environment_passes(version):
    extension = PYTHON_MODULES[version]["bridge_extension"]
    distro = BUNDLED_DISTROS[version][-1]
    environ = {"ROS_DISTRO": distro, "RMW_IMPLEMENTATION": "rmw_fastrtps_cpp",
               "LD_LIBRARY_PATH": f"/opt/isaac/exts/{extension}/{distro}/lib"}
    assert environment_problems(environ, version, extension) == []


def test_isaac_4_5_has_humble_only_and_5_x_recommends_jazzy():
    assert BUNDLED_DISTROS["4.5"] == ("humble",) and BUNDLED_DISTROS["5.1"][-1] == "jazzy"
    problems = environment_problems({"ROS_DISTRO": "jazzy", "AMENT_PREFIX_PATH": "/opt/ros/jazzy"}, "4.5",
                                    "isaacsim.ros2.bridge")
    assert problems == ["ROS_DISTRO=jazzy, but Isaac Sim 4.5 supports humble"]


def test_the_failure_message_lists_the_problems_and_the_fix():
    message = bridge_failure_message({"RMW_IMPLEMENTATION": "rmw_cyclonedds_cpp"}, "5.1", "isaacsim.ros2.bridge")
    assert "the ROS 2 bridge extension (isaacsim.ros2.bridge) did not start" in message
    assert "ROS_DISTRO is not set" in message and "RMW_IMPLEMENTATION=rmw_cyclonedds_cpp" in message
    assert "AMENT_PREFIX_PATH is empty" in message
    assert "export ROS_DISTRO=jazzy RMW_IMPLEMENTATION=rmw_fastrtps_cpp" in message
    assert "exts/isaacsim.ros2.bridge/jazzy/lib" in message


# --- the script --------------------------------------------------------------------------------------------

BLOCKED_IMPORTS = """
import importlib.abc, sys
class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("numpy", "yaml", "so101_hardware"):
            raise ImportError(f"{name} is not in Isaac Sim's Python before the app starts")
sys.meta_path.insert(0, Blocker())
sys.argv = ["isaac_sim_twin.py"]
import runpy
module = runpy.run_path({script!r}, run_name="not_main")
args = module["parse_args"](["--usd", "so101.usd", "--camera", "front=/World/scene/front_cam",
                             "--camera-set", "wrist.focal_length=30"])
config = module["twin_config"](args, "/World/so101/root_joint")
print(sorted(c.name for c in config.cameras), config.articulation_root, config.command_qos.depth)
"""


def test_the_script_imports_and_configures_without_numpy_or_pyyaml():
    """The contract is loaded by itself, so so101_calibration's package imports (numpy, PyYAML) never run."""
    result = subprocess.run([sys.executable, "-c", BLOCKED_IMPORTS.replace("{script!r}", repr(str(SCRIPT)))],
                            capture_output=True, text=True, timeout=60, env={"PYTHONPATH": "", "PATH": "/usr/bin"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["['front',", "'wrist']", "/World/so101/root_joint", "1"]
