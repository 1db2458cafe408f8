"""`so101-dataset validate PATH --for TARGET`: what that tool would miss or reject, in plain words.

Targets and what each check stands for (docs/reference/datasets-mimic.md):
- isaaclab: Isaac Lab's HDF5DatasetFileHandler, InteractiveScene.reset_to and replay_demos.py (§2):
  /data with env_args, demo_0..N-1 with num_samples, seed and success, every row count equal, a
  complete initial_state and states (the robot's root pose and velocity, joints; each rigid
  object), unit quaternions, finite numbers;
- leisaac-mimic: the above, plus what LeIsaac's eef_action_process.py, annotate_demos.py and
  Isaac Lab Mimic's generate_dataset.py need or silently get wrong (§1.1, §2, §6): a task id as
  env_name, rows at the task's step rate (60 Hz), LeIsaac's joint units, obs/ee_frame_state and
  obs/joint_pos_target, and datagen_info whose signals start False, rise once, end in order and
  leave room for the subtask offsets;
- lerobot: a LeRobot v3.0 dataset folder as LeRobot 0.4+ loads it (§4);
- gr00t: a LeRobot v2.1 folder as Isaac-GR00T's fine-tuning loader reads it (§5): modality.json,
  the stats it uses as they are, one parquet and one decodable (not AV1) mp4 per episode.

Problems make the exit status 1; notes are things worth knowing that no tool rejects.
"""
from __future__ import annotations

from pathlib import Path

from so101_sim_bridge.datasets.checks_isaaclab import check_isaaclab, check_leisaac_mimic
from so101_sim_bridge.datasets.checks_lerobot import check_lerobot_folder
from so101_sim_bridge.datasets.errors import DatasetError
from so101_sim_bridge.datasets.isaaclab_file import open_demo_file
from so101_sim_bridge.datasets.report import Report

TARGETS = ("isaaclab", "leisaac-mimic", "lerobot", "gr00t")


def validate(path: Path, target: str) -> Report:
    if target not in TARGETS:
        raise DatasetError(f"unknown target {target!r}; targets are {', '.join(TARGETS)}")
    path = Path(path)
    report = Report(target, path)
    if target in ("isaaclab", "leisaac-mimic"):
        if path.is_dir():
            report.problems.append(f"{path} is a folder (a LeRobot dataset); {target} reads an HDF5 demo file")
            return report
        with open_demo_file(path) as file:
            check_isaaclab(file, report)
            if target == "leisaac-mimic":
                check_leisaac_mimic(file, report)
    else:
        check_lerobot_folder(path, report, target)
    return report
