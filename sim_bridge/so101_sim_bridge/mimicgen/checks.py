"""Checks made before any trial runs, so bad input costs seconds and gets a message, not a failed run.

- every object the task spec names is an object of the twin's scene;
- every randomization range is reachable: at each corner of an object's range (x, y and yaw at
  their limits), each seed's segment that follows that object, carried to the moved object, is
  solved by inverse kinematics; a pose the arm misses by more than `REACH_TOLERANCE_M` (beyond
  its reach or its joint limits) fails the check, naming the object, the corner and by how much.
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

REACH_TOLERANCE_M = 0.01
ROW_STRIDE = 10
"""Every n-th row of a segment is checked (and its last): poses change little between rows."""


def check_scene(task: TaskSpec, scene_objects: tuple[str, ...]) -> None:
    missing = sorted(set(task.scene.objects) - set(scene_objects))
    if missing:
        raise MimicGenError(
            f"task spec {task.source} names object(s) {missing} that the twin's scene lacks (it has "
            f"{', '.join(scene_objects)}); use the twin's object names in scene.objects"
        )


def check_reachable(seeds: SeedDemos, nominal: dict[str, np.ndarray], ik: So101Ik) -> None:
    """MimicGenError for the first randomization corner whose carried segment the arm cannot reach."""
    task = seeds.task
    for i, subtask in enumerate(task.subtasks):
        ranges = task.randomization.get(subtask.object_ref) if subtask.object_ref else None
        if ranges is None:
            continue
        for dx, dy, yaw in itertools.product(*(sorted(set(r)) for r in (ranges.x, ranges.y, ranges.yaw))):
            moved = pose_to_matrix(offset_pose(nominal[subtask.object_ref], dx, dy, yaw))
            for source in seeds.demos:
                start = source.subtask_ends[i - 1] if i else 0
                rows = np.unique(np.r_[np.arange(start, source.subtask_ends[i], ROW_STRIDE), source.subtask_ends[i] - 1])
                poses = transform_segment(moved, source.object_pose[subtask.object_ref][start],
                                          source.target_eef_pose[rows])
                joints = source.initial_joints.copy()
                for row, pose in zip(rows, poses):
                    solution = ik.solve(pose, joints)
                    joints = solution.joints
                    if solution.position_error_m > REACH_TOLERANCE_M:
                        raise MimicGenError(
                            f"randomization of {subtask.object_ref} cannot be reached: with the object moved by "
                            f"x {dx:+.3f} m, y {dy:+.3f} m, yaw {np.degrees(yaw):+.0f}°, subtask {subtask.name!r} "
                            f"of {source.name} needs the gripper at {np.round(pose[:3, 3], 3).tolist()} m (row {row}), "
                            f"which the arm misses by {solution.position_error_m * 100:.1f} cm; narrow "
                            f"randomization.{subtask.object_ref} in {task.source}"
                        )
