"""Isaac Lab Mimic's datagen_info and subtask signals, computed from a recording (docs/reference/datasets-mimic.md §2).

generate_dataset.py reads, per demo, `obs/datagen_info/{eef_pose/<eef>, target_eef_pose/<eef>,
object_pose/<obj>}` (T, 4, 4) and `subtask_term_signals/<signal>` (T,) bool, and cuts the demo
into subtask segments at each signal's first rising edge. Isaac Lab's annotate_demos.py makes
them by replaying the demo in Isaac Sim; here they come from what was recorded:

- eef_pose: the gripper link from forward kinematics of the measured joints (twin.kinematics), in
  the robot root frame, as LeIsaac's Mimic environment reports it;
- target_eef_pose: the same for the joint targets being applied at that row (the action);
- object_pose: each object's recorded pose, in the robot root frame, keyed by its Isaac name;
- subtask_term_signals: each subtask's term rule (spec.TermRule) evaluated per row, subtask after
  subtask: signal i rises at the first row, at or after signal i−1 rose, where its rule holds, and
  stays True (one rising edge, as Mimic requires), or never rises when the rule never held;
  or, when the operator marked the subtask ends (manual mode, as LeIsaac's S key), True from
  each mark on.

Joints are physical radians (ROS radians), rows in time order.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from so101_calibration import JOINT_NAMES
from so101_sim_bridge.geometry import pose_to_matrix
from so101_sim_bridge.tasks.spec import TaskSpec, TermRule
from so101_sim_bridge.twin.kinematics import So101Kinematics

GRIPPER = JOINT_NAMES.index("gripper")
AUTO = "auto"
MANUAL = "manual"


@dataclass(frozen=True, eq=False)
class DatagenInfo:
    """What generate_dataset.py needs from one demo; arrays have T rows."""

    eef_pose: dict[str, np.ndarray]
    target_eef_pose: dict[str, np.ndarray]
    object_pose: dict[str, np.ndarray]
    subtask_term_signals: dict[str, np.ndarray]
    annotation: str
    """AUTO (term rules) or MANUAL (the operator's marks)."""


def datagen_info(
    task: TaskSpec,
    kinematics: So101Kinematics,
    joints: np.ndarray,
    targets: np.ndarray,
    objects: Mapping[str, np.ndarray],
    marks: Sequence[int] = (),
) -> DatagenInfo:
    """datagen_info of one demo: joints and targets (T, 6) physical radians, objects twin name → (T, 7) root frame.

    `marks`: rows where the operator ended each subtask; used when there is one per signal,
    otherwise the term rules decide (and a wrong number of marks is a ValueError).
    """
    joints = np.asarray(joints, dtype=np.float64)
    missing = set(task.scene.objects) - set(objects)
    if missing:
        raise ValueError(f"no recorded poses of {sorted(missing)}, which task {task.id} needs")
    if marks:
        signals, annotation = manual_signals(task, len(joints), marks), MANUAL
    else:
        signals, annotation = term_signals(task, kinematics, joints, objects), AUTO
    return DatagenInfo(
        eef_pose={task.eef_name: kinematics.gripper_matrix(joints).astype(np.float32)},
        target_eef_pose={task.eef_name: kinematics.gripper_matrix(targets).astype(np.float32)},
        object_pose={task.isaac_name(n): pose_to_matrix(objects[n]).astype(np.float32) for n in task.scene.objects},
        subtask_term_signals=signals,
        annotation=annotation,
    )


def term_signals(
    task: TaskSpec, kinematics: So101Kinematics, joints: np.ndarray, objects: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Each subtask's signal from its term rule, in subtask order (module doc)."""
    grasp_point = kinematics.point(joints)
    signals: dict[str, np.ndarray] = {}
    earliest = 0
    for subtask in task.subtasks:
        if subtask.term is None:
            continue
        holds = rule_holds(subtask.term, grasp_point, joints[:, GRIPPER], objects)
        rows = np.flatnonzero(holds[earliest:])
        signal = np.zeros(len(joints), dtype=bool)
        if rows.size:
            earliest += int(rows[0])
            signal[earliest:] = True
        else:
            earliest = len(joints)  # later subtasks cannot end before this one did
        signals[subtask.subtask_term_signal] = signal
    return signals


def rule_holds(
    rule: TermRule, grasp_point: np.ndarray, gripper: np.ndarray, objects: Mapping[str, np.ndarray]
) -> np.ndarray:
    """(T,) where the rule holds: grasp point (T, 3) near the object, gripper (T,) closed or open enough."""
    near = np.linalg.norm(grasp_point - np.asarray(objects[rule.object])[:, :3], axis=-1) <= rule.within_m
    if rule.rule == "grasped":
        return near & (gripper <= rule.gripper_below_rad)
    return near & (gripper >= rule.gripper_above_rad)


def manual_signals(task: TaskSpec, rows: int, marks: Sequence[int]) -> dict[str, np.ndarray]:
    """Signal i False before the operator's mark i, True from it on (LeIsaac's manual annotation)."""
    names = task.signal_names
    if len(marks) != len(names):
        raise ValueError(
            f"{len(marks)} subtask mark(s) for {len(names)} subtask end(s) ({', '.join(names)}); mark each once"
        )
    if any(b <= a for a, b in zip(marks, marks[1:])) or not all(0 <= m < rows for m in marks):
        raise ValueError(f"subtask marks must be increasing rows within 0..{rows - 1}, got {list(marks)}")
    signals = {}
    for name, mark in zip(names, marks):
        signal = np.zeros(rows, dtype=bool)
        signal[mark:] = True
        signals[name] = signal
    return signals


def segment_ends(signals: Mapping[str, np.ndarray]) -> list[int | None]:
    """Where generate_dataset.py ends each subtask: one row after the signal's first change, None if it never changes."""
    ends: list[int | None] = []
    for signal in signals.values():
        changes = np.flatnonzero(np.diff(np.asarray(signal, dtype=np.int8)))
        ends.append(int(changes[0]) + 2 if changes.size else None)
    return ends


def is_success(task: TaskSpec, gripper_rad: float, objects: Mapping[str, np.ndarray]) -> bool:
    """The task's success term for one state: objects twin name → (7,) pose in the root frame."""
    success = task.success
    if success is None:
        raise ValueError(f"task {task.id} has no success term")
    obj, reference = np.asarray(objects[success.object]), np.asarray(objects[success.on_object])
    height = obj[2] - reference[2]
    return bool(
        np.linalg.norm(obj[:2] - reference[:2]) <= success.xy_within_m
        and success.height_above_m[0] <= height <= success.height_above_m[1]
        and gripper_rad >= success.gripper_above_rad
    )


def randomized_poses(task: TaskSpec, nominal: Mapping[str, np.ndarray],
                     rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Object poses (twin name → (7,)) for one reset: each nominal pose moved by the task's randomization."""
    poses = {name: np.asarray(pose, dtype=np.float64).copy() for name, pose in nominal.items()}
    for name, ranges in task.randomization.items():
        poses[name] = offset_pose(poses[name], rng.uniform(*ranges.x), rng.uniform(*ranges.y), rng.uniform(*ranges.yaw))
    return poses


def offset_pose(pose: np.ndarray, dx: float, dy: float, yaw: float) -> np.ndarray:
    """A (7,) pose moved by (dx, dy) and turned by yaw about the world z axis (a randomization offset)."""
    pose = np.asarray(pose, dtype=np.float64).copy()
    pose[0] += dx
    pose[1] += dy
    turn = np.array([np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)])  # about the world z axis, w first
    w1, x1, y1, z1 = turn
    w2, x2, y2, z2 = pose[3:]
    pose[3:] = [w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2, w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
                w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2, w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2]
    return pose
