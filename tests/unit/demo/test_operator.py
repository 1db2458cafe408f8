"""The scripted operator's pick-and-place works in the MuJoCo twin, and the twin follows it like the servos.

The follower is emulated (the same min-jerk waypoints the emulated leader plays, sampled at the
follower's 100 Hz and stamped 3 ms before they reach the twin, as over ROS). The twin is stepped
in time with the samples, as its node does, and its joints are compared with the follower's at
the same instants: the figures `so101 demo` reports (issue 12's goal: p99 ≤ 0.05 rad per joint).
"""
from __future__ import annotations

import numpy as np
import pytest

from so101_bringup.demo.operator import PICK_AND_PLACE, script_duration_s
from so101_hardware.emulator.trajectory import Waypoint, WaypointTrajectory
from so101_sim_bridge.twin import TWIN_JOINT_NAMES, MujocoTwin, TwinConfig
from so101_sim_bridge.tasks import DEMO_TASK, datagen_info, is_success, load_task, segment_ends
from so101_sim_bridge.twin.kinematics import So101Kinematics

FOLLOWER_HZ = 100
PIPELINE_S = 0.003
TRACKING_GOAL_RAD = 0.05


def follower_trajectory():
    """Per joint, the scripted operator's moves in radians (what a perfect follower does)."""
    home = PICK_AND_PLACE[0].radians
    joints = [
        WaypointTrajectory(home[j], [Waypoint(p.radians[j], p.duration_s, p.pause_s) for p in PICK_AND_PLACE[1:]],
                           loop=False)
        for j in range(6)
    ]
    return lambda t: np.array([joint.position(t) for joint in joints])


@pytest.fixture(scope="module")
def run():
    """Drive the twin through the script; its tracking errors and the objects at the end."""
    follower = follower_trajectory()
    start = follower(0.0)
    with MujocoTwin(TwinConfig(cameras=(), initial_position=dict(zip(TWIN_JOINT_NAMES, start)))) as twin:
        errors, lifted, rows = [], 0.0, {"joints": [], "targets": [], "objects": []}
        period = 1.0 / FOLLOWER_HZ
        for k in range(int((script_duration_s() + 0.5) * FOLLOWER_HZ)):
            arrival = k * period + PIPELINE_S
            twin.step(arrival - twin.time_s)  # the node steps to the wall clock before applying a command
            stamp = k * period
            twin.set_targets(twin.joint_names, follower(stamp), stamp_s=stamp)
            errors.append(np.abs(twin.state().position - follower(twin.time_s)))
            lifted = max(lifted, twin.body_position("red_cube")[2])
            rows["joints"].append(twin.state().position)
            rows["targets"].append(follower(stamp))
            rows["objects"].append(twin.object_poses())
        yield np.array(errors), lifted, twin.object_poses(), rows


def test_the_twin_follows_the_follower_within_the_goal(run):
    errors, _, _, _ = run
    p99 = np.percentile(errors, 99, axis=0)
    assert p99.max() <= TRACKING_GOAL_RAD, f"|twin − follower| p99 per joint {p99.round(4)}"


def test_the_twin_carries_the_red_cube_onto_the_blue_block(run):
    _, lifted, objects, _ = run
    assert lifted > 0.06, "the cube was lifted"
    cube, block = objects["red_cube"][:3], objects["blue_block"][:3]
    assert np.linalg.norm(cube[:2] - block[:2]) < 0.03, "on the 6 cm block"
    assert cube[2] == pytest.approx(0.02 + 0.02, abs=0.005), "resting on its top"


def test_the_grasp_poses_put_the_grasp_point_on_the_cube():
    kinematics = So101Kinematics()
    grasp = next(pose for pose in PICK_AND_PLACE if pose.name == "grasp")
    assert kinematics.point(np.array(grasp.radians)) == pytest.approx([0.25, 0.0, 0.02], abs=0.003)
    over = kinematics.gripper_matrix(np.array(grasp.radians))
    approach = over[:3, :3] @ (kinematics.grasp_point / np.linalg.norm(kinematics.grasp_point))
    assert approach[2] < -0.95, "jaws pointing down"


def test_the_demo_task_annotates_the_run_grasp_then_place_and_succeeds(run):
    _, _, _, rows = run
    task = load_task(DEMO_TASK)
    joints, targets = np.array(rows["joints"]), np.array(rows["targets"])
    objects = {name: np.array([row[name] for row in rows["objects"]]) for name in task.scene.objects}
    info = datagen_info(task, So101Kinematics(), joints, targets, objects)
    grasp, place = (info.subtask_term_signals[name] for name in task.signal_names)
    ends = segment_ends(info.subtask_term_signals)
    times = {name: end / FOLLOWER_HZ for name, end in zip(task.signal_names, ends)}
    script = {pose.name: pose for pose in PICK_AND_PLACE}
    assert 2.7 < times["grasp_red_cube"] < 4.1, "while the jaws close on the cube (2.7-3.9 s)"
    assert 6.5 < times["place_on_blue_block"] < 7.9, "when the jaws open over the block (6.5-7.7 s)"
    assert not grasp[0] and not place[0] and grasp[-1] and place[-1]
    assert script["grasp"].radians[5] < task.subtasks[0].term.gripper_below_rad
    assert is_success(task, joints[-1, 5], {name: poses[-1] for name, poses in objects.items()})
    assert info.eef_pose[task.eef_name].shape == (len(joints), 4, 4)
    assert set(info.object_pose) == set(task.isaac_object_names)
