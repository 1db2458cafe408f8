"""MimicGen's pose algebra, source selection and the SO-101 inverse kinematics (so101_sim_bridge.mimicgen).

Frames: poses are 4x4 transforms in the robot root frame; a pose carried with its object keeps
its pose relative to the object, whatever frame the two are expressed in.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from so101_sim_bridge.geometry import invert, pose_to_matrix, rotation_vector
from so101_sim_bridge.mimicgen.ik import APPROACH_AXIS, IkConfig, So101Ik
from so101_sim_bridge.mimicgen.poses import (
    add_pose_noise,
    axis_angle_matrix,
    interpolate_poses,
    pose_distance,
    transform_segment,
)
from so101_sim_bridge.mimicgen.selection import select_source
from so101_sim_bridge.tasks import offset_pose

finite = st.floats(-1.0, 1.0, allow_nan=False)
poses7 = st.tuples(finite, finite, finite, finite, finite, finite, finite).filter(
    lambda p: np.linalg.norm(p[3:]) > 0.1
).map(lambda p: np.r_[p[:3], np.asarray(p[3:]) / np.linalg.norm(p[3:])])


def matrices(*poses):
    return [pose_to_matrix(p) for p in poses]


@settings(max_examples=50, deadline=None)
@given(poses7, poses7, poses7)
def test_a_carried_pose_keeps_its_pose_relative_to_the_object(object_now, object_before, eef):
    now, before, source = matrices(object_now, object_before, eef)
    carried = transform_segment(now, before, source[None])[0]
    assert invert(now) @ carried == pytest.approx(invert(before) @ source, abs=1e-9)


@settings(max_examples=50, deadline=None)
@given(poses7, poses7, poses7, poses7)
def test_carrying_round_trips_and_does_not_depend_on_the_frame(object_now, object_before, eef, mount):
    now, before, source, env = matrices(object_now, object_before, eef, mount)
    carried = transform_segment(now, before, source[None])
    assert transform_segment(before, now, carried)[0] == pytest.approx(source, abs=1e-9), "there and back"
    assert transform_segment(now, now, source[None])[0] == pytest.approx(source, abs=1e-12), "unmoved object"
    in_env = transform_segment(env @ now, env @ before, (env @ source)[None])[0]  # the same, in another frame
    assert invert(env) @ in_env == pytest.approx(carried[0], abs=1e-9)


def test_a_yaw_offset_turns_the_object_about_the_world_z_axis():
    pose = np.array([0.25, 0.0, 0.0125, 1.0, 0.0, 0.0, 0.0])
    moved = pose_to_matrix(offset_pose(pose, 0.01, -0.02, np.pi / 6))
    assert moved[:3, 3] == pytest.approx([0.26, -0.02, 0.0125])
    assert moved[:3, :3] @ [1, 0, 0] == pytest.approx([np.cos(np.pi / 6), np.sin(np.pi / 6), 0.0])
    assert moved[:3, :3] @ [0, 0, 1] == pytest.approx([0, 0, 1])


def test_the_bridge_lies_strictly_between_its_ends_at_a_constant_rate():
    start = pose_to_matrix([0.1, 0.0, 0.2, 1.0, 0.0, 0.0, 0.0])
    end = np.eye(4)
    end[:3, :3], end[:3, 3] = axis_angle_matrix(np.array([0.0, 0.3, 0.6])), [0.2, 0.1, 0.1]
    bridge = interpolate_poses(start, end, 4)
    assert bridge.shape == (4, 4, 4)
    assert bridge[:, :3, 3] == pytest.approx(start[:3, 3] + np.outer([0.2, 0.4, 0.6, 0.8], end[:3, 3] - start[:3, 3]))
    angles = [np.linalg.norm(rotation_vector(p[:3, :3] @ start[:3, :3].T)) for p in (*bridge, end)]
    assert np.diff(angles) == pytest.approx(np.full(4, angles[-1] / 5), abs=1e-9), "slerp: equal turns"
    assert interpolate_poses(start, end, 0).shape == (0, 4, 4)


def test_noise_moves_the_pose_by_about_its_scale_and_keeps_a_rotation():
    rng = np.random.default_rng(0)
    pose = pose_to_matrix([0.2, 0.0, 0.1, 0.0, 1.0, 0.0, 0.0])
    noisy = np.array([add_pose_noise(pose, 0.01, rng) for _ in range(400)])
    assert np.std(noisy[:, :3, 3] - pose[:3, 3]) == pytest.approx(0.01, rel=0.15)
    rotations = noisy[:, :3, :3]
    assert np.einsum("nij,nkj->nik", rotations, rotations) == pytest.approx(np.tile(np.eye(3), (400, 1, 1)))
    assert add_pose_noise(pose, 0.0, rng) == pytest.approx(pose)


def test_pose_distance_weighs_position_and_angle():
    a = pose_to_matrix([0, 0, 0, 1, 0, 0, 0])
    b = pose_to_matrix([0.3, 0.4, 0, np.cos(0.25), 0, 0, np.sin(0.25)])  # 0.5 m and 0.5 rad away
    assert pose_distance(a, b) == pytest.approx(1.0)
    assert pose_distance(a, b, pos_weight=2.0, rot_weight=0.0) == pytest.approx(1.0)


def test_nearest_neighbor_object_picks_among_the_closest_sources():
    rng = np.random.default_rng(1)
    at = [pose_to_matrix([x, 0, 0, 1, 0, 0, 0]) for x in (0.0, 0.10, 0.02, 0.30, 0.01)]
    eef = [np.eye(4)] * 5
    picks = {select_source("nearest_neighbor_object", {"nn_k": 3}, rng, np.eye(4), at[0], eef, at) for _ in range(60)}
    assert picks == {0, 2, 4}
    assert select_source("nearest_neighbor_object", {"nn_k": 1}, rng, np.eye(4), at[3], eef, at) == 3
    with pytest.raises(ValueError, match="unknown"):
        select_source("nearest_neighbor_object", {"k": 1}, rng, np.eye(4), at[0], eef, at)


def test_nearest_neighbor_robot_distance_prefers_the_least_travel():
    rng = np.random.default_rng(2)
    objects = [np.eye(4)] * 3
    first_eef = [pose_to_matrix([x, 0, 0.1, 1, 0, 0, 0]) for x in (0.5, 0.05, -0.3)]
    chosen = select_source("nearest_neighbor_robot_distance", {"nn_k": 1}, rng, pose_to_matrix([0, 0, 0.1, 1, 0, 0, 0]),
                           np.eye(4), first_eef, objects)
    assert chosen == 1


# --- inverse kinematics ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ik():
    return So101Ik()


def test_ik_reaches_reachable_poses_within_half_a_millimetre(ik):
    rng = np.random.default_rng(3)
    low, high = ik.kinematics.joint_ranges.T
    for _ in range(40):
        truth = rng.uniform(0.7 * low, 0.7 * high)
        target = ik.kinematics.gripper_matrix(truth)
        seed = truth + rng.normal(0.0, 0.15, 6)
        solution = ik.solve(target, seed)
        reached = ik.kinematics.gripper_matrix(solution.joints)
        assert np.linalg.norm(reached[:3, 3] - target[:3, 3]) < 5e-4
        axis = reached[:3, :3] @ APPROACH_AXIS
        assert np.degrees(np.arccos(np.clip(axis @ (target[:3, :3] @ APPROACH_AXIS), -1, 1))) < 1.0
        assert solution.reached(ik.config) and solution.joints[5] == seed[5], "the gripper is not IK's"


def test_ik_keeps_the_position_when_the_orientation_is_out_of_reach(ik):
    """A 5-DoF arm cannot turn the approach axis out of its vertical plane: position wins, the axis does its best."""
    joints = np.array([0.0, -0.3, 0.4, 1.2, 0.0, 0.0])
    target = ik.kinematics.gripper_matrix(joints)
    turned = target.copy()
    turned[:3, :3] = axis_angle_matrix(np.array([0.0, 0.0, 0.4])) @ target[:3, :3]  # yaw the gripper in place
    solution = ik.solve(turned, joints)
    reached = ik.kinematics.gripper_matrix(solution.joints)
    assert np.linalg.norm(reached[:3, 3] - turned[:3, 3]) < 5e-4
    assert solution.axis_error_rad > 0.05 and not solution.reached(ik.config)


def test_ik_never_leaves_the_joint_ranges(ik):
    low, high = ik.kinematics.joint_ranges.T
    home = np.array([0.0, -0.9, 0.6, 1.4, 0.0, 0.0])
    far = pose_to_matrix([0.9, 0.0, 0.05, 0.0, 1.0, 0.0, 0.0])  # 90 cm out: beyond reach
    behind = pose_to_matrix([-0.15, 0.0, 0.02, 0.0, 1.0, 0.0, 0.0])  # under the base, behind it
    for target in (far, behind):
        solution = ik.solve(target, home)
        assert np.all(solution.joints[:5] >= low[:5] - 1e-12) and np.all(solution.joints[:5] <= high[:5] + 1e-12)
        assert solution.position_error_m > 0.01 and not solution.reached(ik.config)
    assert np.all(ik.solve(far, np.full(6, 10.0)).joints[:5] <= high[:5]), "a seed outside is clamped first"


def test_ik_settings_are_checked():
    with pytest.raises(ValueError, match="positive"):
        IkConfig(damping=0.0)
