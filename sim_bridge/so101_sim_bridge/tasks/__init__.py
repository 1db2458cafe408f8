"""Task specs (spec.py) and the Mimic annotation made from them (annotation.py); pure libraries.

    task = load_task("so101_pick_red_cube")      # a shipped spec, or a path to a YAML file
    info = datagen_info(task, So101Kinematics(), joints, targets, objects)
"""
from so101_sim_bridge.tasks.annotation import (
    AUTO,
    MANUAL,
    DatagenInfo,
    datagen_info,
    is_success,
    manual_signals,
    offset_pose,
    randomized_poses,
    segment_ends,
    term_signals,
)
from so101_sim_bridge.tasks.spec import (
    DataGenSpec,
    ObjectRandomization,
    SceneSpec,
    SubtaskSpec,
    SuccessSpec,
    TaskSpec,
    TaskSpecError,
    TermRule,
    load_task,
    shipped_task_ids,
    task_from_yaml,
    task_text,
)

DEMO_TASK = "so101_pick_red_cube"
"""The task `so101 demo`'s scripted operator performs."""

__all__ = [
    "AUTO",
    "DEMO_TASK",
    "MANUAL",
    "DataGenSpec",
    "DatagenInfo",
    "ObjectRandomization",
    "SceneSpec",
    "SubtaskSpec",
    "SuccessSpec",
    "TaskSpec",
    "TaskSpecError",
    "TermRule",
    "datagen_info",
    "is_success",
    "load_task",
    "manual_signals",
    "offset_pose",
    "randomized_poses",
    "segment_ends",
    "shipped_task_ids",
    "task_from_yaml",
    "task_text",
    "term_signals",
]
