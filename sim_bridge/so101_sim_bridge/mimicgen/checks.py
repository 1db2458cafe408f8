"""Checks made before any trial runs, so bad input costs seconds and gets a message, not a failed run.

- every object the task spec names is an object of the twin's scene;
- every randomization range is reachable: at each corner of an object's range (x, y and yaw at
  their limits), each seed's segment that follows that object, carried to the moved object, is
  solved by inverse kinematics; a corner where every seed's segment has a pose the arm misses by
  more than `REACH_TOLERANCE_M` (beyond its reach or its joint limits) fails the check, naming
  the object, the corner and by how much. (A few millimetres missed on the way are harmless: the
  selection strategies can also pick the seed that fits.)
"""
from __future__ import annotations

import itertools

import numpy as np

from so101_sim_bridge.geometry import pose_to_matrix
from so101_sim_bridge.mimicgen.errors import MimicGenError
from so101_sim_bridge.mimicgen.ik import So101Ik
from so101_sim_bridge.mimicgen.poses import transform_segment
from so101_sim_bridge.mimicgen.sources import SeedDemos
from so101_sim_bridge.tasks import TaskSpec, offset_pose

REACH_TOLERANCE_M = 0.02
ROW_STRIDE = 20
"""Every n-th row of a segment is checked (and its last): poses change little between rows."""


def check_scene(task: TaskSpec, scene_objects: tuple[str, ...]) -> None:
    missing = sorted(set(task.scene.objects) - set(scene_objects))
    if missing:
        raise MimicGenError(
            f"task spec {task.source} names object(s) {missing} that the twin's scene lacks (it has "
            f"{', '.join(scene_objects)}); use the twin's object names in scene.objects"
        )


def check_reachable(seeds: SeedDemos, nominal: dict[str, np.ndarray], ik: So101Ik) -> None:
    """MimicGenError for the first randomization corner that no seed's carried segment can serve."""
    task = seeds.task
    for i, subtask in enumerate(task.subtasks):
        ranges = task.randomization.get(subtask.object_ref) if subtask.object_ref else None
        if ranges is None:
            continue
        for dx, dy, yaw in itertools.product(*(sorted(set(r)) for r in (ranges.x, ranges.y, ranges.yaw))):
            moved = pose_to_matrix(offset_pose(nominal[subtask.object_ref], dx, dy, yaw))
            misses = [_first_miss(ik, source, i, subtask.object_ref, moved) for source in seeds.demos]
            if all(miss is not None for miss in misses):
                name, row, pose, error = min(misses, key=lambda miss: miss[3])
                raise MimicGenError(
                    f"randomization of {subtask.object_ref} cannot be reached: with the object moved by "
                    f"x {dx:+.3f} m, y {dy:+.3f} m, yaw {np.degrees(yaw):+.0f}°, subtask {subtask.name!r} of every "
                    f"seed leaves the arm's reach (at best {name}: the gripper at "
                    f"{np.round(pose[:3, 3], 3).tolist()} m, row {row}, missed by {error * 100:.1f} cm); narrow "
                    f"randomization.{subtask.object_ref} in {task.source}"
                )


def _first_miss(ik: So101Ik, source, subtask: int, object_ref: str, moved: np.ndarray):
    """(source name, row, pose, IK miss) of the first carried pose missed by more than REACH_TOLERANCE_M, or None."""
    start = source.subtask_ends[subtask - 1] if subtask else 0
    end = source.subtask_ends[subtask]
    rows = np.unique(np.r_[np.arange(start, end, ROW_STRIDE), end - 1])
    poses = transform_segment(moved, source.object_pose[object_ref][start], source.target_eef_pose[rows])
    joints = source.initial_joints.copy()
    for row, pose in zip(rows, poses):
        solution = ik.solve(pose, joints)
        joints = solution.joints
        if solution.position_error_m > REACH_TOLERANCE_M:
            return source.name, int(row), pose, solution.position_error_m
    return None
